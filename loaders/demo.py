"""Deterministic demo data: the fictional municipality "Musterstadt" as plain spreadsheet rows.

`generate_rows()` returns sheet name → rows, each row a dict of canonical column → string, exactly what
the staff spreadsheet loader consumes. Scale 1 is a hand-written town; scale N repeats its projects,
datasets, people and indicators N times (copy 1 is the town itself), so the triple count grows
linearly while the shape of each copy — departments per project, datasets per project, SDG mix,
planted gaps — stays the same.

The copies are spread round-robin over ⌈√N⌉ administrations: the town and "Bezirk" administrations with
their own departments (`administrations`). A real administration grows its units far more slowly than
its data (a city with 10^6 triples of open data has a few hundred units, not thousands), and every
report about pairs of departments grows with the square of their number.

Cross-department gaps are planted on purpose and listed in `PLANTED_GAPS`; each copy repeats them
with ids suffixed by `scaled_id` (departments with the copy's administration, the rest with the copy).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, timedelta

MUSTERSTADT_NAME = "Musterstadt"
# Amtlicher Gemeindeschlüssel: Land 05 (Nordrhein-Westfalen), Regierungsbezirk 9 (Arnsberg),
# Kreis 99 — a Kreis number no real district uses there — and Gemeinde 001. Syntactically valid,
# so validators accept it, yet it can never be mistaken for a real municipality.
MUSTERSTADT_KEY = "05999001"

DOMAIN = "musterstadt.example"
WEBSITE = f"https://www.{DOMAIN}"
OPEN_DATA = f"https://opendata.{DOMAIN}"
INTRANET = f"https://intranet.{DOMAIN}"
GEO_SERVICES = f"https://geo.{DOMAIN}"

# "Today" of the fictional town; fixed so that output never depends on the clock.
REFERENCE_DATE = date(2025, 6, 30)
YEARS = tuple(str(year) for year in range(2018, 2025))

SHEET_COLUMNS: dict[str, tuple[str, ...]] = {
    "departments": ("id", "name", "parent", "email", "website", "administration"),
    "people": ("id", "name", "email", "phone", "department", "role"),
    "projects": (
        "id",
        "title",
        "description",
        "lead_department",
        "partner_departments",
        "sdg",
        "status",
        "start",
        "end",
        "uses_datasets",
        "contact_person",
        "url",
        "strategy",
    ),
    "datasets": (
        "id",
        "title",
        "description",
        "department",
        "sdg",
        "theme",
        "license",
        "format",
        "access_url",
        "download_url",
        "keywords",
        "public",
        "modified",
        "frequency",
    ),
    "indicators": ("id", "title", "unit", "sdg", "department", *YEARS),
    "strategy": ("id", "level", "title", "parent", "sdg"),
}

# --- departments: (id, name, parent, dative phrase used in dataset descriptions) ------------------
# Parents come before their children so that loaders can resolve them in one pass.
DEPARTMENTS: tuple[tuple[str, str, str, str], ...] = (
    ("hauptamt", "Hauptamt", "", "vom Hauptamt"),
    ("kaemmerei", "Kämmerei", "", "von der Kämmerei"),
    ("ordnungsamt", "Ordnungsamt", "", "vom Ordnungsamt"),
    (
        "amt-fuer-digitalisierung-und-it",
        "Amt für Digitalisierung und IT",
        "",
        "vom Amt für Digitalisierung und IT",
    ),
    ("stabsstelle-nachhaltigkeit", "Stabsstelle Nachhaltigkeit", "", "von der Stabsstelle Nachhaltigkeit"),
    ("wirtschaftsfoerderung", "Wirtschaftsförderung", "", "von der Wirtschaftsförderung"),
    (
        "fb-bildung-jugend-soziales",
        "Fachbereich Bildung, Jugend und Soziales",
        "",
        "vom Fachbereich Bildung, Jugend und Soziales",
    ),
    ("schulamt", "Schulamt", "fb-bildung-jugend-soziales", "vom Schulamt"),
    ("sozialamt", "Sozialamt", "fb-bildung-jugend-soziales", "vom Sozialamt"),
    ("jugendamt", "Jugendamt", "fb-bildung-jugend-soziales", "vom Jugendamt"),
    (
        "fb-planen-bauen-umwelt",
        "Fachbereich Planen, Bauen und Umwelt",
        "",
        "vom Fachbereich Planen, Bauen und Umwelt",
    ),
    ("bauordnungsamt", "Bauordnungsamt", "fb-planen-bauen-umwelt", "vom Bauordnungsamt"),
    ("stadtplanungsamt", "Stadtplanungsamt", "fb-planen-bauen-umwelt", "vom Stadtplanungsamt"),
    ("tiefbauamt", "Tiefbauamt", "fb-planen-bauen-umwelt", "vom Tiefbauamt"),
    ("umweltamt", "Umweltamt", "fb-planen-bauen-umwelt", "vom Umweltamt"),
    ("gruenflaechenamt", "Grünflächenamt", "fb-planen-bauen-umwelt", "vom Grünflächenamt"),
)

# Names of the district administrations 2, 3, …; cycled with a round number when exhausted.
DISTRICTS: tuple[str, ...] = (
    "Lindenhof",
    "Eichenau",
    "Am Mühlbach",
    "Birkenfeld",
    "Hohenstein",
    "Rosental",
    "Kirchberg",
    "Wiesengrund",
    "Buchholz",
    "Sonnenhang",
    "Talheim",
    "Neumühle",
    "Steinbach",
    "Auenwald",
    "Feldkirchen",
    "Erlenbruch",
)

# --- projects: (id, title, description, lead, partners, SDG codes) --------------------------------
# Partners are fixed rather than drawn, so the planted bridge gaps and the silo hold for every seed.
PROJECTS: tuple[tuple[str, str, str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "radverkehrskonzept",
        "Radverkehrskonzept 2030",
        "Das Radverkehrskonzept legt ein durchgängiges Radwegenetz mit Vorrangrouten zwischen Innenstadt, "
        "Schulen und Gewerbegebieten fest. Lücken im Radwegenetz werden nach Priorität geschlossen.",
        "tiefbauamt",
        ("stadtplanungsamt",),
        ("11.2", "13.2"),
    ),
    (
        "radweg-bahnhofstrasse",
        "Sanierung Radweg Bahnhofstraße",
        "Der Radweg entlang der Bahnhofstraße wird verbreitert, baulich vom Kfz-Verkehr getrennt und neu beleuchtet.",
        "tiefbauamt",
        (),
        ("11.2", "3.6"),
    ),
    (
        "fahrradstrassen",
        "Fahrradstraßen im Innenstadtring",
        "Ausweisung von Fahrradstraßen und sicheren Radwegen zu den weiterführenden Schulen.",
        "tiefbauamt",
        ("schulamt",),
        ("11.2", "3.6"),
    ),
    (
        "mobilstationen",
        "Mobilstationen im Stadtgebiet",
        "An Mobilstationen werden Bus, Carsharing, Lastenräder und sichere Fahrradabstellanlagen gebündelt. "
        "Die ersten zwölf Standorte entstehen an Haltestellen mit hohem Umstiegsaufkommen.",
        "stadtplanungsamt",
        ("tiefbauamt", "wirtschaftsfoerderung"),
        ("11.2", "9.1"),
    ),
    (
        "smart-parking",
        "Smart-Parking Innenstadt",
        "Sensoren melden freie Stellplätze in Echtzeit an das Parkleitsystem und die Stadt-App. "
        "Der Parksuchverkehr in der Innenstadt soll dadurch deutlich sinken.",
        "amt-fuer-digitalisierung-und-it",
        ("tiefbauamt",),
        ("9.c", "11.6"),
    ),
    (
        "ladeinfrastruktur",
        "Ausbau öffentlicher Ladeinfrastruktur",
        "Gemeinsam mit den Stadtwerken entstehen bis 2027 zusätzliche öffentliche Ladepunkte für Elektrofahrzeuge.",
        "wirtschaftsfoerderung",
        ("tiefbauamt", "stabsstelle-nachhaltigkeit"),
        ("7.2", "13.2"),
    ),
    (
        "laermaktionsplan",
        "Lärmaktionsplan Stufe 4",
        "Fortschreibung des Lärmaktionsplans mit Maßnahmen an Hauptverkehrsstraßen wie Tempo 30 und "
        "lärmminderndem Asphalt.",
        "tiefbauamt",
        ("stadtplanungsamt",),
        ("11.6", "3.9"),
    ),
    (
        "luftreinhalteplan",
        "Luftreinhalteplan Musterstadt",
        "Der Luftreinhalteplan bündelt Maßnahmen gegen Stickstoffdioxid und Feinstaub, darunter eine "
        "Umweltspur und die Förderung von Bus und Rad.",
        "umweltamt",
        ("stabsstelle-nachhaltigkeit",),
        ("11.6", "3.9", "11.2"),
    ),
    (
        "jobticket",
        "Jobticket und betriebliches Mobilitätsmanagement",
        "Die Stadtverwaltung bietet ihren Beschäftigten ein vergünstigtes Jobticket und Diensträder an.",
        "hauptamt",
        ("umweltamt",),
        ("11.2", "13.2"),
    ),
    (
        "klimaanpassungskonzept",
        "Klimaanpassungskonzept",
        "Analyse der Hitze- und Starkregenrisiken im Stadtgebiet. Ein Maßnahmenkatalog priorisiert die "
        "besonders betroffenen Quartiere.",
        "umweltamt",
        ("stabsstelle-nachhaltigkeit", "gruenflaechenamt"),
        ("13.1", "11.5"),
    ),
    (
        "kommunale-waermeplanung",
        "Kommunale Wärmeplanung",
        "Der Wärmeplan nach Wärmeplanungsgesetz weist Eignungsgebiete für Wärmenetze und dezentrale Wärmepumpen aus.",
        "stabsstelle-nachhaltigkeit",
        ("stadtplanungsamt", "wirtschaftsfoerderung"),
        ("7.2", "7.3", "13.2"),
    ),
    (
        "integriertes-klimaschutzkonzept",
        "Integriertes Klimaschutzkonzept",
        "Fortschreibung der Treibhausgasbilanz und ein Maßnahmenplan für eine klimaneutrale Stadtverwaltung bis 2035.",
        "stabsstelle-nachhaltigkeit",
        ("umweltamt", "hauptamt", "kaemmerei"),
        ("13",),
    ),
    (
        "led-strassenbeleuchtung",
        "Umrüstung der Straßenbeleuchtung auf LED",
        "Rund 6.000 Leuchten werden auf LED-Technik mit Nachtabsenkung umgestellt.",
        "tiefbauamt",
        ("kaemmerei",),
        ("7.3", "13.2"),
    ),
    (
        "photovoltaik-schuldaecher",
        "Photovoltaik auf Schuldächern",
        "Geeignete Dächer städtischer Schulen erhalten Photovoltaikanlagen. Schülerinnen und Schüler "
        "verfolgen die Erträge im Unterricht.",
        "schulamt",
        ("stabsstelle-nachhaltigkeit", "kaemmerei"),
        ("7.2", "4.7"),
    ),
    (
        "energetische-sanierung-rathaus",
        "Energetische Sanierung des Rathauses",
        "Dämmung, neue Fenster und eine Wärmepumpe für das denkmalgeschützte Rathaus.",
        "hauptamt",
        ("stabsstelle-nachhaltigkeit", "kaemmerei"),
        ("7.3", "13.2"),
    ),
    (
        "stadtbaeume-kataster",
        "Stadtbäume-Kataster",
        "Alle Straßen- und Parkbäume werden mit Art, Zustand und Pflegebedarf digital erfasst. Das Kataster "
        "ist Grundlage für Baumpflege und Klimaanpassung.",
        "gruenflaechenamt",
        ("amt-fuer-digitalisierung-und-it",),
        ("15.5", "11.7", "13.1"),
    ),
    (
        "hitzeaktionsplan",
        "Hitzeaktionsplan",
        "Warnketten, kühle Orte und Trinkbrunnen schützen ältere Menschen und Kleinkinder bei Hitzewellen.",
        "umweltamt",
        ("sozialamt",),
        ("13.1", "3.d"),
    ),
    (
        "gruenes-band-muehlbach",
        "Grünes Band am Mühlbach",
        "Das Mühlbachufer wird naturnah umgestaltet und mit einem durchgehenden Fuß- und Radweg zu einem "
        "Grünzug verbunden.",
        "gruenflaechenamt",
        ("umweltamt",),
        ("11.7", "15.5"),
    ),
    (
        "spielplatzoffensive",
        "Spielplatzoffensive",
        "25 Spielplätze werden barrierefrei modernisiert; Kinder planen die Gestaltung mit.",
        "gruenflaechenamt",
        ("jugendamt",),
        ("11.7",),
    ),
    (
        "bluehflaechen",
        "Insektenfreundliche Grünflächen",
        "Blühwiesen statt Scherrasen: Die Pflege von 40 Hektar städtischer Grünflächen wird umgestellt.",
        "gruenflaechenamt",
        (),
        ("15.5",),
    ),
    (
        "freiraumentwicklungskonzept",
        "Freiraumentwicklungskonzept",
        "Das Konzept sichert Frei- und Grünflächen in der wachsenden Stadt und legt Entwicklungsräume für "
        "Parks und Plätze fest.",
        "stadtplanungsamt",
        ("umweltamt",),
        ("11.7", "11.3"),
    ),
    (
        "quartiersentwicklung-suedstadt",
        "Quartiersentwicklung Südstadt",
        "Integriertes Entwicklungskonzept für die Südstadt mit neuem Quartiersplatz, Nachbarschaftszentrum "
        "und aufgewerteten Wohnumfeldern.",
        "stadtplanungsamt",
        ("sozialamt", "jugendamt", "wirtschaftsfoerderung"),
        ("11.3", "11.7"),
    ),
    (
        "buendnis-bezahlbarer-wohnraum",
        "Bündnis für bezahlbaren Wohnraum",
        "Eine Quote für geförderten Wohnungsbau gilt in allen neuen Bebauungsplänen; Investoren werden "
        "frühzeitig beraten.",
        "stadtplanungsamt",
        ("sozialamt", "bauordnungsamt"),
        ("11.1",),
    ),
    (
        "xplanung",
        "Digitale Bebauungspläne (XPlanung)",
        "Alle rechtskräftigen Bebauungspläne werden im Standard XPlanung digitalisiert und im Geoportal "
        "veröffentlicht.",
        "stadtplanungsamt",
        ("amt-fuer-digitalisierung-und-it", "bauordnungsamt"),
        ("16.10", "11.3"),
    ),
    (
        "digitaler-bauantrag",
        "Digitaler Bauantrag",
        "Bauanträge können vollständig online eingereicht und ohne Medienbruch bearbeitet werden.",
        "bauordnungsamt",
        ("amt-fuer-digitalisierung-und-it",),
        ("16.6", "9.c"),
    ),
    (
        "baulueckenkataster",
        "Baulückenkataster",
        "Baulücken und Leerstände werden erfasst, um Innenentwicklung vor Außenentwicklung zu stärken.",
        "bauordnungsamt",
        ("stadtplanungsamt",),
        ("11.3",),
    ),
    (
        "digitale-schule",
        "Digitale Schule",
        "Alle Schulen erhalten WLAN, Tablets und eine Lernplattform; Lehrkräfte werden fortgebildet.",
        "schulamt",
        ("kaemmerei",),
        ("4.4", "4.a"),
    ),
    (
        "schulsanierungsprogramm",
        "Schulsanierungsprogramm",
        "Sechs Grundschulen werden saniert und für den Ganztag erweitert.",
        "schulamt",
        ("kaemmerei", "bauordnungsamt"),
        ("4.1", "4.a"),
    ),
    (
        "ganztag-grundschulen",
        "Ausbau Ganztagsbetreuung an Grundschulen",
        "Bis 2026 soll jedes Grundschulkind einen Ganztagsplatz erhalten.",
        "schulamt",
        ("jugendamt",),
        ("4.1", "4.2"),
    ),
    (
        "bildung-nachhaltige-entwicklung",
        "Bildung für nachhaltige Entwicklung an Schulen",
        "Ein Netzwerk aus Schulen, Umweltbildungszentrum und Stabsstelle organisiert BNE-Projekttage und Schulgärten.",
        "stabsstelle-nachhaltigkeit",
        ("schulamt", "umweltamt"),
        ("4.7",),
    ),
    (
        "digitallotsen",
        "Digitallotsen für Seniorinnen und Senioren",
        "Ehrenamtliche Digitallotsen helfen älteren Menschen beim Umgang mit Smartphone und den "
        "Online-Diensten der Stadt.",
        "amt-fuer-digitalisierung-und-it",
        ("sozialamt",),
        ("4.4", "10.2"),
    ),
    (
        "digitalakademie",
        "Digitalakademie der Stadtverwaltung",
        "Ein Qualifizierungsprogramm vermittelt allen Beschäftigten Datenkompetenz und digitale Werkzeuge.",
        "amt-fuer-digitalisierung-und-it",
        ("hauptamt",),
        ("4.4", "16.6"),
    ),
    (
        "open-data-portal",
        "Open-Data-Portal",
        "Auf dem Open-Data-Portal nach DCAT-AP.de stellen alle Ämter ihre Daten offen und maschinenlesbar bereit.",
        "amt-fuer-digitalisierung-und-it",
        ("hauptamt", "stabsstelle-nachhaltigkeit"),
        ("16.10", "17.18"),
    ),
    (
        "ozg-umsetzung",
        "OZG-Umsetzung: Bürgerservices online",
        "Die wichtigsten Verwaltungsleistungen werden nach dem Onlinezugangsgesetz digital angeboten.",
        "amt-fuer-digitalisierung-und-it",
        ("hauptamt",),
        ("16.6",),
    ),
    (
        "glasfaser-gewerbegebiete",
        "Glasfaserausbau in Gewerbegebieten",
        "Geförderter Glasfaserausbau in unterversorgten Gewerbegebieten und an Schulen.",
        "wirtschaftsfoerderung",
        ("amt-fuer-digitalisierung-und-it",),
        ("9.c", "9.1"),
    ),
    (
        "urbane-datenplattform",
        "Urbane Datenplattform",
        "Auf einer zentralen Plattform laufen Sensordaten zu Verkehr, Luft und Parken zusammen und stehen "
        "für Steuerung und Analyse bereit.",
        "amt-fuer-digitalisierung-und-it",
        ("umweltamt",),
        ("9.c", "17.18"),
    ),
    (
        "e-akte",
        "Einführung der E-Akte",
        "Alle Ämter stellen schrittweise auf die elektronische Akte um.",
        "hauptamt",
        ("amt-fuer-digitalisierung-und-it",),
        ("16.6",),
    ),
    (
        "buergerhaushalt",
        "Bürgerhaushalt",
        "Bürgerinnen und Bürger schlagen online Vorhaben für ein jährliches Budget von 500.000 Euro vor "
        "und stimmen darüber ab.",
        "kaemmerei",
        ("hauptamt",),
        ("16.7",),
    ),
    (
        "nachhaltigkeitshaushalt",
        "Nachhaltigkeitshaushalt",
        "Die Produkte des Haushalts werden den SDGs und den Zielen der Nachhaltigkeitsstrategie zugeordnet.",
        "kaemmerei",
        ("stabsstelle-nachhaltigkeit",),
        ("16.6", "17.14"),
    ),
    (
        "nachhaltigkeitsbericht",
        "SDG-Nachhaltigkeitsbericht",
        "Der Bericht zeigt alle zwei Jahre mit SDG-Indikatoren, wo die Stadt bei ihren Nachhaltigkeitszielen steht.",
        "stabsstelle-nachhaltigkeit",
        ("hauptamt",),
        ("17",),
    ),
    (
        "faire-beschaffung",
        "Faire und nachhaltige Beschaffung",
        "Verbindliche Sozial- und Umweltkriterien gelten in allen Vergabeverfahren der Stadt, etwa für "
        "Dienstkleidung und IT-Hardware.",
        "kaemmerei",
        ("stabsstelle-nachhaltigkeit",),
        ("12.7",),
    ),
    (
        "kommunale-entwicklungspartnerschaft",
        "Projektpartnerschaft mit der Partnerstadt im Globalen Süden",
        "Fachleute beider Städte tauschen sich zu Abfallwirtschaft und Verwaltungsmodernisierung aus.",
        "stabsstelle-nachhaltigkeit",
        ("hauptamt",),
        ("17.16",),
    ),
    (
        "integrationskonzept",
        "Integrationskonzept",
        "Sprachkurse, Lotsenprojekte und die interkulturelle Öffnung der Verwaltung fördern Teilhabe.",
        "sozialamt",
        ("hauptamt", "jugendamt"),
        ("10.2",),
    ),
    (
        "sozialticket",
        "Sozialticket",
        "Menschen mit geringem Einkommen erhalten vergünstigte Monatskarten für Bus und Bahn.",
        "sozialamt",
        ("kaemmerei",),
        ("1.4", "11.2"),
    ),
    (
        "wohnungsnotfallhilfe",
        "Wohnungsnotfallhilfe",
        "Präventive Beratung bei drohendem Wohnungsverlust und Housing-First-Wohnungen für Wohnungslose.",
        "sozialamt",
        (),
        ("1.4", "11.1"),
    ),
    (
        "praeventionskette-kinderarmut",
        "Präventionskette gegen Kinderarmut",
        "Kitas, Schulen, Jugendhilfe und Gesundheitsdienste vernetzen sich, um armutsgefährdete Familien "
        "früh zu unterstützen.",
        "jugendamt",
        ("sozialamt", "schulamt"),
        ("1.2", "4.2"),
    ),
    (
        "kita-ausbauprogramm",
        "Kita-Ausbauprogramm",
        "400 zusätzliche Betreuungsplätze für Kinder unter sechs Jahren entstehen in Neubau und Anbau.",
        "jugendamt",
        ("kaemmerei", "bauordnungsamt"),
        ("4.2",),
    ),
    (
        "jugendparlament",
        "Jugendparlament und Jugendbeteiligung",
        "Ein gewähltes Jugendparlament berät den Stadtrat und verfügt über ein eigenes Budget.",
        "jugendamt",
        ("hauptamt",),
        ("16.7",),
    ),
    (
        "familienzentren",
        "Familienzentren in den Stadtteilen",
        "Kitas werden zu Familienzentren mit Beratung, Elternkursen und Gesundheitsangeboten.",
        "jugendamt",
        ("sozialamt",),
        ("4.2", "10.2"),
    ),
    (
        "bewegungsparcours",
        "Bewegungsparcours in Parks",
        "Outdoor-Fitnessgeräte und Laufstrecken in fünf Parks fördern Bewegung im Alltag.",
        "gruenflaechenamt",
        ("sozialamt",),
        ("3.4", "11.7"),
    ),
    (
        "baumpflanzoffensive",
        "Baumpflanzoffensive klimaresiliente Straßenbäume",
        "Jedes Jahr werden 1.000 Straßenbäume klimaresilienter Arten gepflanzt.",
        "gruenflaechenamt",
        ("tiefbauamt",),
        ("13.1", "15.5"),
    ),
    (
        "zero-waste-strategie",
        "Zero-Waste-Strategie",
        "Reparatur-Cafés, Mehrwegsysteme in der Gastronomie und Abfallberatung sollen den Restmüll je "
        "Einwohnerin und Einwohner senken.",
        "umweltamt",
        ("wirtschaftsfoerderung",),
        ("12.5",),
    ),
    (
        "kreislaufwirtschaft-tiefbau",
        "Kreislaufwirtschaft im Tiefbau",
        "Recycling-Baustoffe werden bei städtischen Tiefbauvorhaben verbindlich ausgeschrieben.",
        "tiefbauamt",
        ("kaemmerei",),
        ("12.5", "9.4"),
    ),
    (
        "gewerbegebiet-nord",
        "Nachhaltiges Gewerbegebiet Nord",
        "Ein klimaneutrales Gewerbegebiet mit Dachbegrünung, Photovoltaikpflicht und Busanbindung entsteht.",
        "wirtschaftsfoerderung",
        ("stadtplanungsamt", "stabsstelle-nachhaltigkeit"),
        ("9.4", "7.2"),
    ),
    (
        "fachkraefteallianz",
        "Fachkräfteallianz Musterstadt",
        "Unternehmen, Schulen und Arbeitsagentur gewinnen gemeinsam Fachkräfte und binden sie an die Region.",
        "wirtschaftsfoerderung",
        ("schulamt",),
        ("8.5", "4.4"),
    ),
    (
        "gruenderzentrum",
        "Gründerzentrum und Coworking",
        "In der ehemaligen Stadtbibliothek finden Start-ups günstige Arbeitsplätze und Beratung.",
        "wirtschaftsfoerderung",
        (),
        ("8",),
    ),
    (
        "innenstadtmanagement",
        "Innenstadtmanagement",
        "Ein Citymanagement begegnet dem Leerstand mit Zwischennutzungen, Pop-up-Läden und Veranstaltungen.",
        "wirtschaftsfoerderung",
        ("stadtplanungsamt",),
        ("8.3", "11.3"),
    ),
    (
        "ordnungsdienst-abendstunden",
        "Kommunaler Ordnungsdienst in den Abendstunden",
        "Der Ordnungsdienst ist abends länger in Innenstadt und Parks präsent.",
        "ordnungsamt",
        (),
        ("16.1",),
    ),
    (
        "online-terminvergabe-buergerbuero",
        "Online-Terminvergabe im Bürgerbüro",
        "Termine für Pass- und Meldeangelegenheiten lassen sich online buchen; aktuelle Wartezeiten werden "
        "veröffentlicht.",
        "ordnungsamt",
        (),
        ("16.6",),
    ),
    (
        "warnkonzept-bevoelkerungsschutz",
        "Warnkonzept Bevölkerungsschutz",
        "Sirenennetz, Notfall-Infopunkte und Warn-App bereiten auf Starkregen, Hochwasser und Stromausfall vor.",
        "ordnungsamt",
        (),
        ("11.5", "13.1"),
    ),
)

# --- datasets: (id, title, department, theme, SDG codes, kind, public, keywords) -----------------
# kind decides format and update frequency: geo (maps), table, doc (reports), live (sensors).
# public: "yes"/"no" where the content dictates it, "" to draw (about 80 % yes overall).
# fmt: off
DATASETS: tuple[tuple[str, str, str, str, tuple[str, ...], str, str, tuple[str, ...]], ...] = (
    ("radwegenetz", "Radwegenetz", "tiefbauamt", "TRAN", ("11.2",), "geo", "yes", ("Radweg", "Radverkehr")),
    ("radzaehlstellen", "Radverkehrszählstellen", "tiefbauamt", "TRAN", ("11.2",), "live", "",
     ("Radverkehr",)),
    ("verkehrszaehlungen", "Verkehrszählungen Kfz", "tiefbauamt", "TRAN", ("11.2", "11.6"), "table", "",
     ("Verkehr",)),
    ("strassenverzeichnis", "Straßenverzeichnis", "tiefbauamt", "TRAN", (), "table", "", ("Straßen",)),
    ("baustellen", "Baustellen und Verkehrsbehinderungen", "tiefbauamt", "TRAN", ("9.1",), "live", "",
     ("Baustelle",)),
    ("leuchtenstandorte", "Straßenbeleuchtung", "tiefbauamt", "ENER", ("7.3",), "geo", "",
     ("Beleuchtung", "LED")),
    ("verkehrsunfaelle", "Verkehrsunfälle mit Personenschaden", "tiefbauamt", "TRAN", ("3.6", "11.2"),
     "table", "", ("Unfall", "Verkehrssicherheit")),
    ("parkhausbelegung", "Parkhausbelegung", "tiefbauamt", "TRAN", ("11.2",), "live", "yes", ("Parken",)),
    ("parkraumbewirtschaftung", "Parkraumbewirtschaftung", "tiefbauamt", "TRAN", (), "geo", "", ("Parken",)),
    ("fahrradabstellanlagen", "Fahrradabstellanlagen", "tiefbauamt", "TRAN", ("11.2",), "geo", "",
     ("Radverkehr",)),
    ("laermkartierung", "Lärmkartierung Straßenverkehr", "tiefbauamt", "ENVI", ("11.6", "3.9"), "geo", "",
     ("Lärm", "Umgebungslärm")),
    ("brueckenbauwerke", "Brückenbauwerke und Zustandsnoten", "tiefbauamt", "TRAN", ("9.1",), "table", "",
     ("Brücke", "Infrastruktur")),
    ("luftmessdaten", "Luftmessdaten (NO2, PM10, PM2,5)", "umweltamt", "ENVI", ("3.9", "11.6"), "live", "yes",
     ("Luftqualität", "Feinstaub", "Stickstoffdioxid")),
    ("starkregengefahrenkarte", "Starkregengefahrenkarte", "umweltamt", "ENVI", ("13.1", "11.5"), "geo", "",
     ("Starkregen", "Klimaanpassung")),
    ("stadtklimaanalyse", "Stadtklimaanalyse Hitzebelastung", "umweltamt", "ENVI", ("13.1",), "geo", "",
     ("Hitze", "Stadtklima")),
    ("gewaesserguete", "Gewässergüte der Fließgewässer", "umweltamt", "ENVI", ("6.3", "6.6"), "table", "",
     ("Gewässer", "Wasserqualität")),
    ("altlastenverdachtsflaechen", "Altlastenverdachtsflächen", "umweltamt", "ENVI", ("3.9", "15.3"), "geo",
     "no", ("Altlasten", "Boden")),
    ("abfallmengen", "Abfallmengen nach Fraktionen", "umweltamt", "ENVI", ("12.5",), "table", "",
     ("Abfall",)),
    ("wertstoffhoefe", "Wertstoffhöfe und Containerstandorte", "umweltamt", "ENVI", ("12.5",), "geo", "",
     ("Abfall", "Recycling")),
    ("schutzgebiete", "Natur- und Landschaftsschutzgebiete", "umweltamt", "ENVI", ("15.5", "15.1"), "geo", "",
     ("Naturschutz",)),
    ("biotopkartierung", "Biotopkartierung", "umweltamt", "ENVI", ("15.5",), "geo", "",
     ("Biotop", "Artenschutz")),
    ("solarpotenzialkataster", "Solarpotenzialkataster", "umweltamt", "ENER", ("7.2",), "geo", "",
     ("Solar", "Photovoltaik")),
    ("wasserschutzgebiete", "Wasserschutzgebiete", "umweltamt", "ENVI", ("6.1",), "geo", "",
     ("Trinkwasser",)),
    ("umweltzone", "Umweltzone", "umweltamt", "ENVI", ("11.6",), "geo", "", ("Luftqualität",)),
    ("laermbeschwerden", "Lärmbeschwerden", "umweltamt", "ENVI", ("11.6",), "table", "no", ("Lärm",)),
    ("landwirtschaftsflaechen", "Landwirtschaftlich genutzte Flächen", "umweltamt", "AGRI", ("2.4", "15.1"),
     "geo", "", ("Landwirtschaft",)),
    ("baumkataster", "Baumkataster", "gruenflaechenamt", "ENVI", ("15.5", "11.7", "13.1"), "geo", "yes",
     ("Stadtbäume", "Stadtgrün")),
    ("gruenflaechen", "Öffentliche Grünflächen", "gruenflaechenamt", "ENVI", ("11.7",), "geo", "",
     ("Stadtgrün",)),
    ("spielplaetze", "Spielplätze", "gruenflaechenamt", "SOCI", ("11.7",), "geo", "",
     ("Spielplatz", "Kinder")),
    ("friedhoefe", "Friedhöfe", "gruenflaechenamt", "SOCI", (), "geo", "", ("Friedhof",)),
    ("bluehflaechen", "Blühflächen und Pflegeklassen", "gruenflaechenamt", "ENVI", ("15.5",), "geo", "",
     ("Biodiversität", "Insekten")),
    ("trinkbrunnen", "Trinkbrunnen", "gruenflaechenamt", "HEAL", ("6.1", "3.d"), "geo", "",
     ("Trinkwasser", "Hitze")),
    ("gruenpflegeplan", "Grünpflegeplan", "gruenflaechenamt", "ENVI", ("11.7",), "doc", "no",
     ("Grünpflege",)),
    ("bebauungsplaene", "Bebauungspläne", "stadtplanungsamt", "REGI", ("11.3",), "geo", "yes",
     ("Bauleitplanung", "XPlanung")),
    ("flaechennutzungsplan", "Flächennutzungsplan", "stadtplanungsamt", "REGI", ("11.3",), "geo", "",
     ("Bauleitplanung",)),
    ("statistische-bezirke", "Stadtbezirke und statistische Bezirke", "stadtplanungsamt", "REGI", (), "geo",
     "", ("Gebietsgliederung",)),
    ("baulandpotenziale", "Baulandpotenziale und Baulücken", "stadtplanungsamt", "REGI", ("11.3", "11.1"),
     "geo", "no", ("Innenentwicklung",)),
    ("sanierungsgebiete", "Sanierungsgebiete und Städtebauförderung", "stadtplanungsamt", "REGI", ("11.3",),
     "geo", "", ("Städtebauförderung",)),
    ("wohnungsmarktbericht", "Wohnungsmarktbericht", "stadtplanungsamt", "ECON", ("11.1",), "doc", "",
     ("Wohnen",)),
    ("mietspiegel", "Mietspiegel", "stadtplanungsamt", "ECON", ("11.1",), "doc", "yes", ("Miete", "Wohnen")),
    ("orthophotos", "Digitale Orthophotos", "stadtplanungsamt", "REGI", (), "geo", "", ("Luftbild",)),
    ("stadtmodell-3d", "3D-Stadtmodell", "stadtplanungsamt", "REGI", (), "geo", "", ("3D", "Gebäude")),
    ("oepnv-haltestellen", "ÖPNV-Haltestellen", "stadtplanungsamt", "TRAN", ("11.2",), "geo", "",
     ("ÖPNV", "Bus")),
    ("mobilitaetsbefragung", "Mobilitätsbefragung (Modal Split)", "stadtplanungsamt", "TRAN", ("11.2",),
     "table", "", ("Mobilität", "Modal Split")),
    ("baugenehmigungen", "Baugenehmigungen und Baufertigstellungen", "bauordnungsamt", "ECON", ("11.1",),
     "table", "", ("Bauen", "Wohnen")),
    ("denkmalliste", "Denkmalliste", "bauordnungsamt", "EDUC", ("11.4",), "table", "", ("Denkmal",)),
    ("leerstand-wohngebaeude", "Leerstand in Wohngebäuden", "bauordnungsamt", "ECON", ("11.1",), "table",
     "no", ("Leerstand",)),
    ("schulstandorte", "Schulstandorte", "schulamt", "EDUC", ("4.1", "4.a"), "geo", "yes", ("Schule",)),
    ("schuelerzahlen", "Schülerzahlen nach Schulart", "schulamt", "EDUC", ("4.1",), "table", "", ("Schule",)),
    ("schulabschluesse", "Schulabschlüsse", "schulamt", "EDUC", ("4.1",), "table", "",
     ("Schule", "Abschluss")),
    ("schul-it-ausstattung", "IT-Ausstattung der Schulen", "schulamt", "EDUC", ("4.4", "4.a"), "table", "no",
     ("Digitalisierung", "Schule")),
    ("schulwegplaene", "Schulwegpläne", "schulamt", "TRAN", ("11.2", "3.6"), "doc", "", ("Schulweg",)),
    ("ganztagsangebote", "Ganztagsangebote an Grundschulen", "schulamt", "EDUC", ("4.2", "4.1"), "table", "",
     ("Ganztag",)),
    ("vhs-kursangebot", "Volkshochschule Kursangebot", "schulamt", "EDUC", ("4.4", "4.3"), "table", "",
     ("Weiterbildung",)),
    ("bibliothek-ausleihen", "Stadtbibliothek Ausleihstatistik", "schulamt", "EDUC", ("4.6",), "table", "",
     ("Bibliothek",)),
    ("leistungsbeziehende-sgb", "Leistungsbeziehende nach SGB II und XII", "sozialamt", "SOCI", ("1.3",),
     "table", "no", ("Grundsicherung",)),
    ("wohngeld", "Wohngeldhaushalte", "sozialamt", "SOCI", ("1.4", "11.1"), "table", "", ("Wohngeld",)),
    ("pflegeeinrichtungen", "Pflegeeinrichtungen", "sozialamt", "HEAL", ("3.8",), "geo", "", ("Pflege",)),
    ("barrierefreie-einrichtungen", "Barrierefreie Einrichtungen", "sozialamt", "SOCI", ("10.2",), "geo", "",
     ("Inklusion", "Barrierefreiheit")),
    ("sozialbericht", "Sozialbericht", "sozialamt", "SOCI", ("1.2", "10.2"), "doc", "",
     ("Armut", "Teilhabe")),
    ("unterkuenfte-gefluechtete", "Unterkünfte für Geflüchtete", "sozialamt", "SOCI", ("10.7",), "table",
     "no", ("Integration",)),
    ("beratungsstellen", "Beratungsstellen", "sozialamt", "SOCI", ("1.4",), "table", "", ("Beratung",)),
    ("kindertageseinrichtungen", "Kindertageseinrichtungen", "jugendamt", "EDUC", ("4.2",), "geo", "",
     ("Kita", "Kinderbetreuung")),
    ("betreuungsquoten", "Betreuungsquoten und Kita-Plätze", "jugendamt", "EDUC", ("4.2",), "table", "",
     ("Kita",)),
    ("jugendtreffs", "Jugendzentren und Jugendtreffs", "jugendamt", "SOCI", ("10.2",), "geo", "",
     ("Jugend",)),
    ("hilfen-zur-erziehung", "Hilfen zur Erziehung Fallzahlen", "jugendamt", "SOCI", ("16.2",), "table", "no",
     ("Jugendhilfe",)),
    ("wlan-hotspots", "Öffentliche WLAN-Hotspots", "amt-fuer-digitalisierung-und-it", "TECH", ("9.c",), "geo",
     "", ("WLAN",)),
    ("breitbandversorgung", "Breitbandversorgung", "amt-fuer-digitalisierung-und-it", "TECH", ("9.c",), "geo",
     "", ("Breitband", "Glasfaser")),
    ("ozg-leistungen", "Online-Verwaltungsleistungen", "amt-fuer-digitalisierung-und-it", "GOVE", ("16.6",),
     "table", "", ("OZG", "E-Government")),
    ("it-inventar", "IT-Inventar der Verwaltung", "amt-fuer-digitalisierung-und-it", "TECH", (), "table",
     "no", ("IT",)),
    ("website-nutzung", "Nutzungsstatistik der Stadtwebsite", "amt-fuer-digitalisierung-und-it", "GOVE",
     ("16.6",), "table", "", ("Website",)),
    ("sensorstandorte", "Sensorstandorte der Urbanen Datenplattform", "amt-fuer-digitalisierung-und-it",
     "TECH", ("9.c",), "geo", "", ("Sensor", "Smart City")),
    ("digitalisierungsstrategie", "Digitalisierungsstrategie", "amt-fuer-digitalisierung-und-it", "GOVE",
     ("16.6", "9.c"), "doc", "yes", ("Digitalisierung",)),
    ("personalstatistik", "Personalstatistik der Stadtverwaltung", "hauptamt", "GOVE", ("5.5",), "table",
     "no", ("Personal",)),
    ("ratsinformationen", "Sitzungen und Beschlüsse des Stadtrats", "hauptamt", "GOVE", ("16.7", "16.10"),
     "table", "yes", ("Stadtrat", "Beschluss")),
    ("wahlergebnisse", "Wahlergebnisse", "hauptamt", "GOVE", ("16.7",), "table", "yes", ("Wahl",)),
    ("einwohnerzahlen", "Einwohnerzahlen nach Stadtbezirken", "hauptamt", "SOCI", (), "table", "",
     ("Bevölkerung",)),
    ("bevoelkerungsprognose", "Bevölkerungsprognose 2040", "hauptamt", "SOCI", ("11.3",), "table", "",
     ("Bevölkerung", "Prognose")),
    ("gleichstellungsplan", "Gleichstellungsplan", "hauptamt", "GOVE", ("5.5", "5.1"), "doc", "",
     ("Gleichstellung",)),
    ("fuhrpark", "Fuhrpark und Dienstfahrten", "hauptamt", "TRAN", ("13.2",), "table", "no", ("Fuhrpark",)),
    ("haushaltsplan", "Haushaltsplan", "kaemmerei", "GOVE", ("16.6",), "table", "yes",
     ("Haushalt", "Finanzen")),
    ("jahresabschluss", "Jahresabschluss", "kaemmerei", "GOVE", ("16.6",), "doc", "", ("Finanzen",)),
    ("beteiligungsbericht", "Beteiligungsbericht", "kaemmerei", "ECON", ("16.6",), "doc", "",
     ("Beteiligungen",)),
    ("hebesaetze", "Realsteuerhebesätze", "kaemmerei", "ECON", ("17.1",), "table", "", ("Steuern",)),
    ("zuwendungen", "Fördermittel und Zuwendungen", "kaemmerei", "ECON", ("16.6",), "table", "no",
     ("Fördermittel",)),
    ("vergaben", "Vergebene öffentliche Aufträge", "kaemmerei", "GOVE", ("16.5",), "table", "",
     ("Vergabe", "Transparenz")),
    ("treibhausgasbilanz", "Treibhausgasbilanz", "stabsstelle-nachhaltigkeit", "ENVI", ("13.2",), "table",
     "yes", ("Klimaschutz", "CO2")),
    ("sdg-indikatoren", "SDG-Indikatoren für Kommunen", "stabsstelle-nachhaltigkeit", "GOVE", ("17.18",),
     "table", "", ("Nachhaltigkeit", "SDG")),
    ("energieverbrauch-liegenschaften", "Energieverbrauch städtischer Liegenschaften",
     "stabsstelle-nachhaltigkeit", "ENER", ("7.3", "13.2"), "table", "", ("Energie",)),
    ("klimaschutzmassnahmen", "Maßnahmenkatalog Klimaschutz", "stabsstelle-nachhaltigkeit", "ENVI", ("13.2",),
     "table", "", ("Klimaschutz",)),
    ("erneuerbare-anlagen", "Anlagen erneuerbarer Energien", "stabsstelle-nachhaltigkeit", "ENER", ("7.2",),
     "geo", "", ("Erneuerbare Energien",)),
    ("gewerbeflaechen", "Gewerbeflächen und Gewerbegebiete", "wirtschaftsfoerderung", "ECON", ("9.1",), "geo",
     "", ("Gewerbe",)),
    ("ladesaeulen", "Ladesäulen für Elektrofahrzeuge", "wirtschaftsfoerderung", "ENER", ("7.2", "11.6"),
     "geo", "yes", ("Elektromobilität", "Ladesäule")),
    ("gewerbemeldungen", "Gewerbean- und -abmeldungen", "wirtschaftsfoerderung", "ECON", ("8.3",), "table",
     "", ("Gewerbe",)),
    ("beschaeftigte", "Sozialversicherungspflichtig Beschäftigte", "wirtschaftsfoerderung", "ECON", ("8.5",),
     "table", "", ("Arbeitsmarkt",)),
    ("uebernachtungen", "Übernachtungen und Gästeankünfte", "wirtschaftsfoerderung", "ECON", ("8.9",),
     "table", "", ("Tourismus",)),
    ("staedtepartnerschaften", "Städtepartnerschaften", "hauptamt", "INTR", ("17.17",), "table", "",
     ("International",)),
    ("ordnungsdienst-einsaetze", "Einsätze des Kommunalen Ordnungsdienstes", "ordnungsamt", "JUST", ("16.1",),
     "table", "", ("Sicherheit",)),
    ("sirenenstandorte", "Sirenenstandorte", "ordnungsamt", "JUST", ("11.5", "13.1"), "geo", "",
     ("Bevölkerungsschutz",)),
    ("wartezeiten-buergerbuero", "Wartezeiten im Bürgerbüro", "ordnungsamt", "GOVE", ("16.6",), "live", "",
     ("Bürgerbüro",)),
)
# fmt: on

# --- indicators: (id, title, unit, SDG codes, department, value 2018, value 2024, decimals) -------
# fmt: off
INDICATORS: tuple[tuple[str, str, str, tuple[str, ...], str, float, float, int], ...] = (
    ("modal-split-umweltverbund", "Anteil des Umweltverbunds am Modal Split", "%", ("11.2",),
     "stadtplanungsamt", 58.0, 64.5, 1),
    ("co2-emissionen-je-einwohner", "CO2-Emissionen je Einwohnerin und Einwohner", "t CO2e", ("13.2",),
     "stabsstelle-nachhaltigkeit", 8.1, 6.4, 2),
    ("anteil-erneuerbarer-strom", "Anteil erneuerbarer Energien am Stromverbrauch", "%", ("7.2",),
     "stabsstelle-nachhaltigkeit", 31.0, 52.0, 1),
    ("feinstaub-pm10", "Feinstaub PM10, Jahresmittel Messstation Innenstadt", "µg/m³", ("3.9", "11.6"),
     "umweltamt", 24.0, 17.0, 1),
    ("haushaltsabfall-je-einwohner", "Haushaltsabfälle je Einwohnerin und Einwohner", "kg", ("12.5",),
     "umweltamt", 468.0, 421.0, 0),
    ("frauenanteil-fuehrungspositionen", "Frauenanteil in Führungspositionen der Stadtverwaltung", "%",
     ("5.5",), "hauptamt", 31.0, 39.0, 1),
    ("gewaesser-guter-zustand", "Anteil der Fließgewässer in gutem ökologischem Zustand", "%", ("6.3",),
     "umweltamt", 22.0, 27.0, 1),
    ("schulabgaenge-ohne-abschluss", "Schulabgängerinnen und -abgänger ohne Abschluss", "%", ("4.1",),
     "schulamt", 6.8, 5.9, 1),
)
# fmt: on

# --- strategy (LAG 21 style Zielsystem): (id, level, title, parent, SDG targets) ------------------
# fmt: off
STRATEGY: tuple[tuple[str, str, str, str, tuple[str, ...]], ...] = (
    ("ll-1", "leitlinie", "Klimaneutrale und klimaangepasste Stadt", "", ("13.1", "13.2")),
    ("sz-1-1", "strategisches_ziel", "Treibhausgasemissionen bis 2035 auf netto null senken", "ll-1",
     ("13.2", "7.2")),
    ("oz-1-1-1", "operatives_ziel", "Anteil erneuerbarer Energien an der Wärme auf 50 % steigern", "sz-1-1",
     ("7.2",)),
    ("oz-1-1-2", "operatives_ziel", "Energieverbrauch städtischer Gebäude um 30 % senken", "sz-1-1",
     ("7.3", "13.2")),
    ("sz-1-2", "strategisches_ziel", "Die Stadt an Hitze und Starkregen anpassen", "ll-1", ("13.1", "11.5")),
    ("oz-1-2-1", "operatives_ziel", "Stadtgrün und Baumbestand erweitern", "sz-1-2", ("15.5", "11.7")),
    ("oz-1-2-2", "operatives_ziel", "Vulnerable Gruppen vor Hitze schützen", "sz-1-2", ("3.d", "13.1")),
    ("ll-2", "leitlinie", "Mobile und lebenswerte Quartiere", "", ("11.2", "11.3")),
    ("sz-2-1", "strategisches_ziel", "Den Umweltverbund stärken", "ll-2", ("11.2",)),
    ("oz-2-1-1", "operatives_ziel", "Radverkehrsanteil bis 2030 auf 25 % erhöhen", "sz-2-1", ("11.2", "3.6")),
    ("oz-2-1-2", "operatives_ziel", "Luft- und Lärmbelastung unter die Grenzwerte senken", "sz-2-1",
     ("11.6", "3.9")),
    ("sz-2-2", "strategisches_ziel", "Bezahlbar wohnen in gemischten Quartieren", "ll-2", ("11.1", "11.3")),
    ("oz-2-2-1", "operatives_ziel", "Geförderten Wohnungsbau ausweiten", "sz-2-2", ("11.1",)),
    ("oz-2-2-2", "operatives_ziel", "Grün- und Freiflächen in allen Quartieren sichern", "sz-2-2", ("11.7",)),
    ("ll-3", "leitlinie", "Gerechte, gebildete und digitale Stadtgesellschaft", "", ("4.1", "10.2", "16.6")),
    ("sz-3-1", "strategisches_ziel", "Bildungschancen für alle Kinder", "ll-3", ("4.1", "4.2")),
    ("oz-3-1-1", "operatives_ziel", "Ganztags- und Kitaplätze bedarfsgerecht ausbauen", "sz-3-1", ("4.2",)),
    ("oz-3-1-2", "operatives_ziel", "Digitale Kompetenzen in Schule und Verwaltung stärken", "sz-3-1",
     ("4.4",)),
    ("sz-3-2", "strategisches_ziel", "Moderne, offene und beteiligungsorientierte Verwaltung", "ll-3",
     ("16.6", "16.7")),
    ("oz-3-2-1", "operatives_ziel", "Verwaltungsleistungen vollständig digital anbieten", "sz-3-2",
     ("16.6",)),
    ("oz-3-2-2", "operatives_ziel", "Beteiligung und offene Daten ausbauen", "sz-3-2", ("16.7", "16.10")),
)
# fmt: on

# --- people -------------------------------------------------------------------------------------
# Every department gets its head first so every project lead has a possible contact person; the
# specialist roles sit where a municipality would have them; the rest are drawn.
FIXED_STAFF: tuple[tuple[str, str], ...] = (
    *((dept_id, "Amtsleitung") for dept_id, _, _, _ in DEPARTMENTS if not dept_id.startswith("fb-")),
    ("fb-bildung-jugend-soziales", "Fachbereichsleitung"),
    ("fb-planen-bauen-umwelt", "Fachbereichsleitung"),
    ("umweltamt", "Klimaschutzmanagement"),
    ("stabsstelle-nachhaltigkeit", "Klimaschutzmanagement"),
    ("stabsstelle-nachhaltigkeit", "Nachhaltigkeitsmanagement"),
    ("amt-fuer-digitalisierung-und-it", "Datenbeauftragte/r"),
    ("hauptamt", "Datenbeauftragte/r"),
    ("tiefbauamt", "Projektleitung"),
    ("stadtplanungsamt", "Projektleitung"),
)
PEOPLE_PER_COPY = 40
DRAWN_ROLES = ("Sachbearbeitung", "Projektleitung")
DRAWN_ROLE_WEIGHTS = (3, 2)
FIRST_NAMES: tuple[str, ...] = (
    "Anna", "Lena", "Sophie", "Marie", "Laura", "Julia", "Katharina", "Sabine", "Petra", "Claudia",
    "Ute", "Birgit", "Jana", "Miriam", "Nele", "Carla", "Hannah", "Franziska", "Özlem", "Aylin",
    "Ingrid", "Renate", "Theresa", "Greta", "Paula", "Jörg", "Thomas", "Michael", "Andreas", "Stefan",
    "Markus", "Tobias", "Jan", "Lukas", "Felix", "Jonas", "Matthias", "Klaus", "Rüdiger", "Uwe",
    "Frank", "Sven", "Dirk", "Timo", "Emre", "Mehmet", "Niklas", "Florian", "Benedikt", "Hans-Peter",
)  # fmt: skip
LAST_NAMES: tuple[str, ...] = (
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann",
    "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Zimmermann",
    "Braun", "Krüger", "Hofmann", "Hartmann", "Lange", "Schmitt", "Werner", "Krause", "Meier", "Lehmann",
    "Schmid", "Schulze", "Maier", "Köhler", "Herrmann", "König", "Walter", "Mayer", "Huber", "Kaiser",
    "Fuchs", "Peters", "Lang", "Scholz", "Möller", "Weiß", "Jung", "Hahn", "Vogel", "Friedrich",
    "Keller", "Günther", "Frank", "Berger", "Winkler", "Roth", "Beck", "Lorenz", "Baumann", "Yılmaz",
)  # fmt: skip

# --- planted gaps ---------------------------------------------------------------------------------
# Ids are those of scale 1; at scale N copy k repeats each gap with `scaled_id(id, k)` (a department:
# `scaled_id(id, administration_of(k, N))`). The tables
# above realise them (fixed partners, chosen SDG links); the generator only enforces the dataset
# exclusions, and tests/test_demo.py checks that every gap really holds in the rows.
PLANTED_GAPS: list[dict[str, str | tuple[str, ...]]] = [
    {
        "kind": "missing_bridge",
        "departments": ("tiefbauamt", "umweltamt"),
        "target": "11.2",
        "note": "Radverkehr (Tiefbauamt) und Luftreinhaltung (Umweltamt) beide auf 11.2, ohne gemeinsames Projekt",
    },
    {
        "kind": "missing_bridge",
        "departments": ("schulamt", "amt-fuer-digitalisierung-und-it"),
        "target": "4.4",
        "note": "Digitale Schule und Digitalakademie beide auf 4.4, ohne gemeinsames Projekt",
    },
    {
        "kind": "missing_bridge",
        "departments": ("stadtplanungsamt", "gruenflaechenamt"),
        "target": "11.7",
        "note": "Freiraumkonzept und Stadtbäume-Kataster beide auf 11.7, ohne gemeinsames Projekt",
    },
    {
        "kind": "unused_dataset",
        "dataset": "luftmessdaten",
        "project": "laermaktionsplan",
        "target": "11.6",
        "note": "Der Lärmaktionsplan (11.6) nutzt die Luftmessdaten des Umweltamts (11.6) nicht",
    },
    {
        "kind": "unused_dataset",
        "dataset": "baumkataster",
        "project": "quartiersentwicklung-suedstadt",
        "target": "11.7",
        "note": "Die Quartiersentwicklung (11.7) nutzt das Baumkataster des Grünflächenamts (11.7) nicht",
    },
    {
        "kind": "unmeasured_project",
        "project": "faire-beschaffung",
        "target": "12.7",
        "note": "Kein Datensatz und kein Indikator misst nachhaltige öffentliche Beschaffung (12.7)",
    },
    {
        "kind": "unmeasured_project",
        "project": "kommunale-entwicklungspartnerschaft",
        "target": "17.16",
        "note": "Kein Datensatz und kein Indikator misst die Entwicklungspartnerschaft (17.16)",
    },
    {
        "kind": "blind_spot",
        "target": "5.5",
        "indicator": "frauenanteil-fuehrungspositionen",
        "note": "Ein Indikator misst 5.5, aber kein Projekt arbeitet daran",
    },
    {
        "kind": "blind_spot",
        "target": "6.3",
        "indicator": "gewaesser-guter-zustand",
        "note": "Ein Indikator misst 6.3, aber kein Projekt arbeitet daran",
    },
    {
        "kind": "silo_department",
        "department": "ordnungsamt",
        "note": "Das Ordnungsamt führt seine Projekte allein und ist nirgends Partner",
    },
]

# --- value tables for drawn fields ----------------------------------------------------------------
STATUSES = ("completed", "running", "planned")
STATUS_WEIGHTS = (3, 5, 2)
USED_DATASET_COUNTS = (0, 1, 1, 2, 2, 3)
LICENSES = ("dl-by-de/2.0", "dl-zero-de/2.0", "cc-by/4.0", "cc-zero")
LICENSE_WEIGHTS = (5, 3, 1, 1)
PUBLIC_SHARE = 0.8
FORMATS_BY_KIND: dict[str, tuple[str, ...]] = {
    "geo": ("GEOJSON", "SHP", "WMS_SRVC"),
    "table": ("CSV", "CSV", "XLSX", "JSON"),
    "doc": ("PDF",),
    "live": ("JSON", "CSV"),
}
FREQUENCIES_BY_KIND: dict[str, tuple[str, ...]] = {
    "geo": ("IRREG", "ANNUAL"),
    "table": ("ANNUAL", "ANNUAL", "QUARTERLY", "MONTHLY"),
    "doc": ("ANNUAL", "IRREG"),
    "live": ("CONT", "DAILY"),
}
FREQUENCY_PHRASES = {
    "ANNUAL": "jährlich",
    "MONTHLY": "monatlich",
    "QUARTERLY": "vierteljährlich",
    "DAILY": "täglich",
    "IRREG": "bei Bedarf",
    "CONT": "laufend",
}
FILE_EXTENSIONS = {"CSV": "csv", "JSON": "json", "XLSX": "xlsx", "GEOJSON": "geojson", "PDF": "pdf", "SHP": "zip"}
# Share of SDG codes written as "SDG 11.2" instead of "11.2": real sheets mix both.
SDG_PREFIX_SHARE = 0.3
EMAIL_TRANSLITERATION = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ı": "i", " ": "-"})


def scaled_id(base_id: str, copy: int) -> str:
    """Id of `base_id` in copy (or administration) `copy`; 1 is the town itself and keeps the plain id."""
    return base_id if copy == 1 else f"{base_id}-{copy}"


def administrations(scale: int) -> int:
    """Number of administrations (the town and its districts) at `scale`: ⌈√scale⌉."""
    return math.isqrt(scale - 1) + 1


def administration_of(copy: int, scale: int) -> int:
    """The administration whose departments run copy `copy` at `scale` (round-robin, copy 1 → the town)."""
    return (copy - 1) % administrations(scale) + 1


def district_name(administration: int) -> str:
    """Display name of administration `administration` (≥ 2), e.g. `Bezirk Lindenhof`, later `Bezirk Lindenhof 2`."""
    index, round_ = (administration - 2) % len(DISTRICTS), (administration - 2) // len(DISTRICTS)
    return f"Bezirk {DISTRICTS[index]}" + (f" {round_ + 1}" if round_ else "")


def copy_label(copy: int, scale: int) -> str:
    """What tells copy `copy`'s titles apart: its district, and its round once copies share one; "" for copy 1."""
    administration = administration_of(copy, scale)
    round_ = (copy - 1) // administrations(scale) + 1
    place = "Stadt" if administration == 1 else district_name(administration)
    return "" if copy == 1 else place + (f", Runde {round_}" if round_ > 1 else "")


def generate_rows(*, seed: int = 2030, scale: int = 1) -> dict[str, list[dict[str, str]]]:
    """Rows of all sheets of Musterstadt at `scale` (≥ 1), identical for identical `seed` and `scale`."""
    if scale < 1:
        raise ValueError(f"scale must be at least 1, not {scale}")
    rng = random.Random(seed)
    sheets: dict[str, list[dict[str, str]]] = {name: [] for name in SHEET_COLUMNS}
    sheets["strategy"] = _strategy_rows()
    dataset_candidates = _dataset_candidates()
    used_emails: dict[str, int] = {}
    # Copies are generated one after another from one stream, so scale N starts with the scale-1 rows.
    for copy in range(1, scale + 1):
        copy_ = _Copy(copy, administration_of(copy, scale), copy_label(copy, scale))
        if copy_.administration == copy:  # the first copy of its administration brings its departments
            sheets["departments"].extend(_department_rows(copy))
        people = _people_rows(rng, copy_, used_emails)
        sheets["people"].extend(people)
        sheets["datasets"].extend(_dataset_rows(rng, copy_))
        sheets["projects"].extend(_project_rows(rng, copy_, people, dataset_candidates))
        sheets["indicators"].extend(_indicator_rows(rng, copy_))
    return sheets


@dataclass(frozen=True)
class _Copy:
    number: int
    administration: int
    label: str  # "" for the town's own copy

    def id(self, base_id: str) -> str:
        return scaled_id(base_id, self.number)

    def department(self, base_id: str) -> str:
        return scaled_id(base_id, self.administration)

    def title(self, title: str) -> str:
        return f"{title} ({self.label})" if self.label else title


def _strategy_rows() -> list[dict[str, str]]:
    return [
        {"id": sid, "level": level, "title": title, "parent": parent, "sdg": ";".join(codes)}
        for sid, level, title, parent, codes in STRATEGY
    ]


def _department_rows(administration: int) -> list[dict[str, str]]:
    rows = []
    root = ""
    suffix = ""
    if administration > 1:
        # A district administration on top keeps its tree separate from the town's.
        district = district_name(administration)
        root = f"bezirksverwaltung-{administration}"
        suffix = f" ({district})"
        rows.append(
            _department_row(root, f"Bezirksverwaltung {district.removeprefix('Bezirk ')}", "", administration=True)
        )
    for dept_id, name, parent, _ in DEPARTMENTS:
        rows.append(
            _department_row(
                scaled_id(dept_id, administration),
                name + suffix,
                scaled_id(parent, administration) if parent else root,
            )
        )
    return rows


def _department_row(dept_id: str, name: str, parent: str, *, administration: bool = False) -> dict[str, str]:
    return {
        "id": dept_id,
        "name": name,
        "parent": parent,
        "email": f"{dept_id}@{DOMAIN}",
        "website": f"{WEBSITE}/verwaltung/{dept_id}",
        "administration": "ja" if administration else "",
    }


def _people_rows(rng: random.Random, copy: _Copy, used_emails: dict[str, int]) -> list[dict[str, str]]:
    staffable = [dept_id for dept_id, _, _, _ in DEPARTMENTS if not dept_id.startswith("fb-")]
    drawn = [
        (rng.choice(staffable), rng.choices(DRAWN_ROLES, DRAWN_ROLE_WEIGHTS)[0])
        for _ in range(PEOPLE_PER_COPY - len(FIXED_STAFF))
    ]
    rows = []
    for index, (dept_id, role) in enumerate((*FIXED_STAFF, *drawn), start=1):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        local = f"{first}.{last}".lower().translate(EMAIL_TRANSLITERATION)
        # Namesakes are common in large administrations; the mailbox gets a running number.
        seen = used_emails.get(local, 0)
        used_emails[local] = seen + 1
        if seen:
            local += str(seen + 1)
        rows.append(
            {
                "id": copy.id(f"person-{index:03d}"),
                "name": f"{first} {last}",
                "email": f"{local}@{DOMAIN}",
                "phone": f"+49 9999 {rng.randint(100, 999)}-{rng.randint(10, 99)}",
                "department": copy.department(dept_id),
                "role": role,
            }
        )
    return rows


def _dataset_rows(rng: random.Random, copy: _Copy) -> list[dict[str, str]]:
    dative = {dept_id: phrase for dept_id, _, _, phrase in DEPARTMENTS}
    area = "das Stadtgebiet" if copy.administration == 1 else f"den {district_name(copy.administration)}"
    rows = []
    for base_id, title, dept_id, theme, codes, kind, public, keywords in DATASETS:
        ds_id = copy.id(base_id)
        is_public = public == "yes" or (not public and rng.random() < PUBLIC_SHARE)
        fmt = rng.choice(FORMATS_BY_KIND[kind])
        frequency = rng.choice(FREQUENCIES_BY_KIND[kind])
        access_url, download_url = _distribution_urls(ds_id, fmt, is_public)
        # Sensor feeds are fresh; everything else was last touched some time in the past six years.
        age = rng.randint(0, 3) if kind == "live" else rng.randint(20, 6 * 365)
        rows.append(
            {
                "id": ds_id,
                "title": copy.title(title),
                "description": f"{title} für {area} von {MUSTERSTADT_NAME}. Die Daten werden "
                f"{FREQUENCY_PHRASES[frequency]} {dative[dept_id]} aktualisiert.",
                "department": copy.department(dept_id),
                "sdg": _format_sdg(rng, codes),
                "theme": theme,
                # Internal data carries a licence too: it is what would apply once the data is opened.
                "license": rng.choices(LICENSES, LICENSE_WEIGHTS)[0],
                "format": fmt,
                "access_url": access_url,
                "download_url": download_url,
                "keywords": ";".join(keywords),
                "public": "yes" if is_public else "no",
                "modified": (REFERENCE_DATE - timedelta(days=age)).isoformat(),
                "frequency": frequency,
            }
        )
    return rows


def _distribution_urls(ds_id: str, fmt: str, is_public: bool) -> tuple[str, str]:
    if fmt == "WMS_SRVC":
        # A map service has an endpoint but nothing to download.
        return f"{GEO_SERVICES}/wms/{ds_id}?SERVICE=WMS&REQUEST=GetCapabilities", ""
    host, page = (OPEN_DATA, "dataset") if is_public else (INTRANET, "daten")
    return f"{host}/{page}/{ds_id}", f"{host}/files/{ds_id}.{FILE_EXTENSIONS[fmt]}"


def _dataset_candidates() -> list[list[int]]:
    """Per project template, indices of dataset templates it may plausibly use."""
    excluded = {(gap["project"], gap["dataset"]) for gap in PLANTED_GAPS if gap["kind"] == "unused_dataset"}
    unmeasured = {gap["project"] for gap in PLANTED_GAPS if gap["kind"] == "unmeasured_project"}
    candidates = []
    for project_id, _, _, lead, partners, codes in PROJECTS:
        members = (lead, *partners)
        goals = {code.split(".")[0] for code in codes}
        chosen = []
        if project_id not in unmeasured:
            for index, (ds_id, _, owner, _, ds_codes, _, _, _) in enumerate(DATASETS):
                if (project_id, ds_id) in excluded:
                    continue
                # Same target anywhere, or same goal when the data comes from a project member.
                if any(c in codes for c in ds_codes) or (
                    owner in members and any(c.split(".")[0] in goals for c in ds_codes)
                ):
                    chosen.append(index)
        candidates.append(chosen)
    return candidates


def _project_rows(
    rng: random.Random, copy: _Copy, people: list[dict[str, str]], dataset_candidates: list[list[int]]
) -> list[dict[str, str]]:
    contacts: dict[str, list[str]] = {}
    heads: dict[str, list[str]] = {}
    for person in people:
        bucket = heads if person["role"] in ("Amtsleitung", "Fachbereichsleitung") else contacts
        bucket.setdefault(person["department"], []).append(person["id"])
    rows = []
    for (project_id, title, description, lead, partners, codes), candidates in zip(
        PROJECTS, dataset_candidates, strict=True
    ):
        pid = copy.id(project_id)
        status = rng.choices(STATUSES, STATUS_WEIGHTS)[0]
        start, end = _project_dates(rng, status)
        used = rng.sample(candidates, min(rng.choice(USED_DATASET_COUNTS), len(candidates)))
        lead_id = copy.department(lead)
        pool = contacts.get(lead_id) or heads.get(lead_id, [])
        contact = rng.choice(pool) if pool and rng.random() < 0.95 else ""
        rows.append(
            {
                "id": pid,
                "title": copy.title(title),
                "description": description,
                "lead_department": lead_id,
                "partner_departments": ";".join(copy.department(p) for p in partners),
                "sdg": _format_sdg(rng, codes),
                "status": status,
                "start": start,
                "end": end,
                "uses_datasets": ";".join(copy.id(DATASETS[i][0]) for i in used),
                "contact_person": contact,
                "url": f"{WEBSITE}/projekte/{pid}" if rng.random() < 0.8 else "",
                "strategy": ";".join(_operational_goals(codes)),
            }
        )
    return rows


def _project_dates(rng: random.Random, status: str) -> tuple[str, str]:
    today = REFERENCE_DATE.toordinal()
    duration = rng.randint(180, 4 * 365)
    if status == "completed":
        start = rng.randint(date(2017, 1, 1).toordinal(), date(2023, 6, 30).toordinal())
        end: int | None = min(start + duration, today - 1)
    elif status == "running":
        start = rng.randint(date(2019, 1, 1).toordinal(), today - 30)
        # Open-ended running projects are common in real sheets.
        end = max(start + duration, today + 30) if rng.random() < 0.85 else None
    else:
        start = rng.randint(today + 1, date(2027, 1, 1).toordinal())
        end = start + duration
    return date.fromordinal(start).isoformat(), date.fromordinal(end).isoformat() if end else ""


def _operational_goals(codes: tuple[str, ...]) -> list[str]:
    return [
        sid
        for sid, level, _, _, goal_codes in STRATEGY
        if level == "operatives_ziel" and any(c in codes for c in goal_codes)
    ][:2]


def _indicator_rows(rng: random.Random, copy: _Copy) -> list[dict[str, str]]:
    rows = []
    for base_id, title, unit, codes, dept_id, first, last, decimals in INDICATORS:
        # Districts differ in level but share the town's trend.
        factor = 1.0 if copy.number == 1 else rng.uniform(0.85, 1.15)
        first, last = first * factor, last * factor
        noise = abs(last - first) * 0.08 + 10**-decimals
        row = {
            "id": copy.id(base_id),
            "title": copy.title(title),
            "unit": unit,
            "sdg": ";".join(codes),
            "department": copy.department(dept_id),
        }
        for step, year in enumerate(YEARS):
            value = first + (last - first) * step / (len(YEARS) - 1) + rng.gauss(0.0, noise)
            if unit == "%":
                value = min(value, 100.0)
            row[year] = f"{max(value, 0.0):.{decimals}f}"
        rows.append(row)
    return rows


def _format_sdg(rng: random.Random, codes: tuple[str, ...]) -> str:
    return ";".join(f"SDG {code}" if rng.random() < SDG_PREFIX_SHARE else code for code in codes)
