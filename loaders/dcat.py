"""The DCAT catalog harvester: a DCAT / DCAT-AP.de catalog from a file or an HTTP(S) URL → one named graph.

`harvest` reads a catalog (CKAN `/catalog.ttl` style; Turtle, RDF/XML, JSON-LD, N-Triples …), follows its
Hydra paging (`hydra:next`, and `hydra:nextPage` of old CKAN `hydra:PagedCollection` pages) on the same
origin only, and puts every triple into `graph`, keeping the datasets' own IRIs. The Hydra paging triples
are dropped: they describe the pages, not the data. Blank nodes are renamed per page, deterministically
(`{graph hash}p{page}n{k}`), so two pages' `_:b0` never merge and an unchanged catalog harvests to
identical quads.

Where a dataset's `dct:creator` or `dct:publisher` agent is named like a known department (`departments`:
IRI → name, case/whitespace-insensitive, ignoring a prefix such as "Stadt Musterstadt – "), the agent gets
`owl:sameAs <department>` and the dataset `dct:creator <department>`, which is what the gap analysis reads.

Network access goes only to `source` and its next pages; redirects are followed by hand on the same origin
(plus an http → https upgrade of the same host). Every problem is a `Problem` naming the file or URL and,
for syntax errors, line and column; any error makes `result.ok` False. Pages are parsed in a child
process (`loaders.isolated_parse`): a catalog that nests too deep or expands without bound is a problem
naming the limit, not the end of the process that harvests it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx
from pyoxigraph import BlankNode, Literal, NamedNode, Quad, RdfFormat

from loaders.department_names import Department, DepartmentNames
from loaders.isolated_parse import Repair, parse_deadline, parse_isolated, repair_notes
from loaders.report import LoadResult
from loaders.vocab import DCAT, DCATDE_LICENSE, DCT, EU_THEME, FOAF, OWL, RDF, SKOS, VCARD
from loaders.vocabulary_aliases import license_id, themes_for
from loaders.xml_guard import xml_entity_problem

__all__ = ["ACCEPT", "HYDRA", "MAX_PAGE_BYTES", "harvest"]

HYDRA = "http://www.w3.org/ns/hydra/core#"
NEXT_LINKS = frozenset({HYDRA + "next", HYDRA + "nextPage"})
ACCEPT = (
    "text/turtle, application/n-triples;q=0.9, application/rdf+xml;q=0.8, application/ld+json;q=0.7, "
    "application/n-quads;q=0.6, application/trig;q=0.6, text/plain;q=0.2, */*;q=0.1"
)
USER_AGENT = "querschnitt-dcat-harvester"
MAX_PAGE_BYTES = 256 * 1024 * 1024
MAX_REDIRECTS = 5

_RDF_TYPE = RDF.type.value
_DATASET = DCAT.Dataset
_DISTRIBUTION = DCAT.Distribution
_HAS_DISTRIBUTION = DCAT.distribution.value
_LICENSE = DCT.license.value
_THEME = DCAT.theme.value
_AGENT_LINKS = frozenset({DCT.creator.value, DCT.publisher.value})
_CREATOR = DCT.creator.value
_NAMES = frozenset({FOAF.name.value, VCARD.fn.value, SKOS.prefLabel.value})
# Media types that say little about the RDF syntax: the URL's suffix decides, else Turtle (⊇ N-Triples).
_GENERIC_TYPES = frozenset(
    {"", "text/plain", "application/octet-stream", "binary/octet-stream", "application/xml", "text/xml",
     "application/json", "application/x-download", "application/force-download"}
)  # fmt: skip
_EXTRA_SUFFIXES = {"owl": RdfFormat.RDF_XML, "jsonld": RdfFormat.JSON_LD}
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def harvest(
    source: str | os.PathLike[str],
    *,
    graph: str,
    departments: dict[str, str] | list[Department] | None = None,
    max_pages: int = 1000,
    timeout: float = 30.0,
    client: httpx.Client | None = None,
    progress: Callable[[int, int], None] | None = None,
    strict: bool = False,
) -> LoadResult:
    """Harvest the DCAT catalog at `source` (file path or http(s) URL) into the named graph `graph`.

    Catalogs are read as published: an invalid IRI (a space or `[` in a URL) is repaired by
    percent-encoding or its statement left out, each with a warning naming dataset and property
    (`strict`: an error, so nothing is written).

    `departments`: the known departments (or their IRIs → names); agents named like one get linked; `max_pages`
    bounds Hydra paging; `timeout` applies to each HTTP request; `client` is used as given and not
    closed (default: a fresh `httpx.Client`); `progress(pages, triples)` is called after every page.
    Counts: pages, datasets, distributions, triples, mapped_departments (distinct departments linked).
    """
    if max_pages < 1:
        raise ValueError("max_pages must be at least 1")
    harvest_ = _Harvest(NamedNode(graph), progress, strict=strict)
    text = os.fspath(source)
    scheme = urlsplit(text).scheme.lower() if _SCHEME.match(text) else ""
    if scheme in ("http", "https"):
        if client is None:
            with httpx.Client(timeout=timeout, headers={"User-Agent": USER_AGENT}) as own:
                harvest_.walk(text, own, max_pages=max_pages, timeout=timeout)
        else:
            harvest_.walk(text, client, max_pages=max_pages, timeout=timeout)
    elif scheme:
        harvest_.result.error(
            f"Nicht unterstütztes URL-Schema „{scheme}“: nur http(s)-URLs oder Dateipfade",
            f"unsupported URL scheme '{scheme}': give an http(s) URL or a file path",
            file=_display(text),
        )
    else:
        harvest_.read_file(Path(text))
    return harvest_.finish(departments or {}, source=_display(text))


@dataclass
class _Harvest:
    graph: NamedNode
    progress: Callable[[int, int], None] | None
    result: LoadResult = field(default_factory=LoadResult)
    quads: dict[Quad, None] = field(default_factory=dict)
    datasets: dict[NamedNode | BlankNode, None] = field(default_factory=dict)
    distributions: set[NamedNode | BlankNode] = field(default_factory=set)
    agent_links: list[tuple[NamedNode | BlankNode, str, object]] = field(default_factory=list)
    names: defaultdict[object, list[str]] = field(default_factory=lambda: defaultdict(list))
    pages: int = 0
    strict: bool = False
    renamed: Counter = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.salt = hashlib.sha256(self.graph.value.encode()).hexdigest()[:10]

    # --- sources ---------------------------------------------------------------------------------

    def read_file(self, path: Path) -> None:
        where = str(path)
        if not path.is_file():
            self.result.error(
                "Datei nicht gefunden" if not path.exists() else "Keine Datei",
                "no such file" if not path.exists() else "not a file",
                file=where,
            )
            return
        suffix = path.suffix.lstrip(".").lower()
        fmt = _EXTRA_SUFFIXES.get(suffix) or (RdfFormat.from_extension(suffix) if suffix else None)
        if fmt is None:
            self.result.error(
                f"Unbekanntes RDF-Format der Dateiendung „{path.suffix}“",
                f"unknown RDF format for file suffix '{path.suffix}'",
                file=where,
            )
            return
        if fmt == RdfFormat.RDF_XML:
            with path.open("rb") as head:
                if self.refuse_entities(head.read(1 << 20), where):
                    return
        try:
            with path.open("rb") as handle:
                nexts = self.read_page(
                    parse_isolated(handle, fmt, base_iri=path.resolve().as_uri(), lenient=True), where
                )
        except OSError as error:
            self.result.error(
                f"Datei nicht lesbar: {error.strerror or error}",
                f"cannot read file: {error.strerror or error}",
                file=where,
            )
            return
        if nexts:
            self.result.warn(
                "Der Katalog verweist auf eine Folgeseite; bei einer Datei wird ihr nicht gefolgt (URL angeben)",
                "the catalog links to a next page; a file's paging links are not followed (give the URL instead)",
                file=where,
            )

    def refuse_entities(self, head: bytes, where: str) -> bool:
        """Report (and say True for) an RDF/XML page whose DOCTYPE entities could explode or reach out."""
        problem = xml_entity_problem(head)
        if problem is not None:
            self.result.error(f"XML-Entitäten abgelehnt: {problem}", problem, file=where)
        return problem is not None

    def walk(self, start: str, client: httpx.Client, *, max_pages: int, timeout: float) -> None:
        """Fetch `start` and its Hydra next pages; stop with an error on a loop, too many pages or a foreign host."""
        origin = _origin(start)
        visited: set[str] = set()
        url: str | None = start
        while url is not None:
            if self.pages >= max_pages:
                self.result.error(
                    f"Mehr als {max_pages} Seiten: Abbruch vor {_display(url)}",
                    f"more than {max_pages} pages: stopped before {_display(url)}",
                    file=_display(url),
                )
                return
            visited.add(_key(url))
            fetched = self.fetch(url, client, origin=origin, timeout=timeout)
            if fetched is None:
                return
            final, body, fmt = fetched
            visited.add(_key(final))
            if fmt == RdfFormat.RDF_XML and self.refuse_entities(body[: 1 << 20], _display(final)):
                return
            quads = parse_isolated(
                body, fmt, base_iri=final, timeout=parse_deadline(len(body), base=timeout), lenient=True
            )
            nexts = self.read_page(quads, _display(final))
            if nexts is None:
                return
            url = self.next_url(final, nexts, origin=origin, visited=visited)

    def fetch(
        self, url: str, client: httpx.Client, *, origin: tuple[str, str, int], timeout: float
    ) -> tuple[str, bytes, RdfFormat] | None:
        """GET one page (following same-origin redirects by hand): final URL, body and RDF format, or None."""
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            where = _display(current)
            try:
                with client.stream(
                    "GET",
                    current,
                    headers={"Accept": ACCEPT, "User-Agent": USER_AGENT},
                    follow_redirects=False,
                    timeout=timeout,
                ) as response:
                    if response.is_redirect:
                        target = urljoin(current, response.headers.get("location", ""))
                        if not _same_origin(origin, target):
                            self.result.error(
                                f"Weiterleitung auf einen anderen Host abgelehnt: {_display(target)}",
                                f"redirect to another host refused: {_display(target)}",
                                file=where,
                            )
                            return None
                        current = target
                        continue
                    if not response.is_success:
                        self.result.error(
                            f"HTTP-Status {response.status_code} {response.reason_phrase} beim Abruf von {where}",
                            f"HTTP status {response.status_code} {response.reason_phrase} fetching {where}",
                            file=where,
                        )
                        return None
                    content_type = response.headers.get("content-type", "")
                    body = bytearray()
                    for chunk in response.iter_bytes():
                        body += chunk
                        if len(body) > MAX_PAGE_BYTES:
                            self.result.error(
                                f"Seite größer als {MAX_PAGE_BYTES // 2**20} MiB",
                                f"page larger than {MAX_PAGE_BYTES // 2**20} MiB",
                                file=where,
                            )
                            return None
            except httpx.TimeoutException:
                self.result.error(
                    f"Zeitüberschreitung beim Abruf von {where}", f"timed out fetching {where}", file=where
                )
                return None
            except (httpx.HTTPError, httpx.InvalidURL) as error:
                self.result.error(
                    f"Abruf von {where} fehlgeschlagen: {error}", f"fetching {where} failed: {error}", file=where
                )
                return None
            fmt = _format_for(content_type, current)
            if fmt is None:
                self.result.error(
                    f"Kein RDF: Inhaltstyp „{content_type}“ von {where}",
                    f"not RDF: content type '{content_type}' from {where}",
                    file=where,
                )
                return None
            return current, bytes(body), fmt
        self.result.error(
            f"Mehr als {MAX_REDIRECTS} Weiterleitungen ab {_display(url)}",
            f"more than {MAX_REDIRECTS} redirects from {_display(url)}",
            file=_display(url),
        )
        return None

    def next_url(self, page: str, nexts: list[str], *, origin: tuple[str, str, int], visited: set[str]) -> str | None:
        """The one next page of `page`, or None at the end or (with an error) when it must not be followed."""
        where = _display(page)
        targets = list(dict.fromkeys(urljoin(page, n.strip()).split("#", 1)[0] for n in nexts if n.strip()))
        if not targets:
            return None
        if len(targets) > 1:
            self.result.error(
                f"Mehrdeutige Folgeseiten: {', '.join(_display(t) for t in targets)}",
                f"ambiguous next pages: {', '.join(_display(t) for t in targets)}",
                file=where,
            )
            return None
        target = targets[0]
        if urlsplit(target).scheme.lower() not in ("http", "https") or not _same_origin(origin, target):
            self.result.error(
                f"Folgeseite auf einem anderen Host abgelehnt: {_display(target)}",
                f"next page on another host refused: {_display(target)}",
                file=where,
            )
            return None
        if _key(target) in visited:
            self.result.error(
                f"Seitenschleife: {where} verweist auf die schon geholte Seite {_display(target)}",
                f"paging loop: {where} links to the already fetched page {_display(target)}",
                file=where,
            )
            return None
        return target

    # --- one page ----------------------------------------------------------------------------------

    def read_page(self, quads: Iterator[Quad], where: str) -> list[str] | None:
        """Add one page's triples (renaming its blank nodes); its Hydra next links, or None on a syntax error."""
        self.pages += 1
        prefix = f"{self.salt}p{self.pages}n"
        blanks: dict[str, BlankNode] = {}

        def rename(node: BlankNode) -> BlankNode:
            new = blanks.get(node.value)
            if new is None:
                new = blanks[node.value] = BlankNode(f"{prefix}{len(blanks)}")
            return new

        graph, out, datasets, names = self.graph, self.quads, self.datasets, self.names
        nexts: list[str] = []
        repairs: list[Repair] = []
        try:
            for quad in repair_notes(quads, repairs):
                s, p, o = quad.subject, quad.predicate, quad.object
                pv = p.value
                if pv.startswith(HYDRA):
                    if pv in NEXT_LINKS and isinstance(o, NamedNode | Literal):
                        nexts.append(o.value)
                    continue
                if type(s) is BlankNode:
                    s = rename(s)
                if type(o) is BlankNode:
                    o = rename(o)
                if pv == _RDF_TYPE:
                    if type(o) is NamedNode:
                        if o.value.startswith(HYDRA):
                            continue
                        if o == _DATASET:
                            datasets[s] = None
                        elif o == _DISTRIBUTION:
                            self.distributions.add(s)
                elif pv in _AGENT_LINKS:
                    self.agent_links.append((s, pv, o))
                elif pv in _NAMES:
                    if type(o) is Literal:
                        names[s].append(o.value)
                elif pv == _HAS_DISTRIBUTION and type(o) is not Literal:
                    self.distributions.add(o)
                elif pv in (_LICENSE, _THEME):
                    for value in self.normalised(p, o):
                        out[Quad(s, p, value, graph)] = None
                    continue
                out[Quad(s, p, o, graph)] = None
        except SyntaxError as error:
            line = error.lineno
            self.result.error(
                f"Syntaxfehler: {error.msg}",
                f"syntax error: {error.msg}",
                file=where,
                row=line,
                column=str(error.offset) if line is not None and error.offset is not None else None,
            )
            return None
        for repair in repairs:
            self.report_repair(repair, blanks, where)
        if self.progress is not None:
            self.progress(self.pages, len(out))
        return nexts

    def normalised(self, p: NamedNode, o) -> list:
        """A licence or theme as the vocabularies spell it: `dl-zero-de/2_0` → `…/dl-zero-de/2.0`, GovData's
        old categories ("Umwelt und Klima") → EU data themes; each spelling is counted for one report."""
        if p.value == _LICENSE and (lic := license_id(o.value)) is not None:
            canonical = DCATDE_LICENSE[lic]
        elif p.value == _THEME and not o.value.startswith(str(EU_THEME)) and (themes := themes_for(o.value)):
            canonical = [EU_THEME[t] for t in themes]
            self.renamed[(p.value, o.value, " ".join(t.value for t in canonical))] += 1
            return canonical
        else:
            return [o]
        if canonical != o:
            self.renamed[(p.value, o.value, canonical.value)] += 1
        return [canonical]

    def report_normalised(self, where: str) -> None:
        for (prop, old, new), count in sorted(self.renamed.items()):
            self.result.warn(
                f"{prop}: „{old}“ als {new} gelesen ({count}×)",
                f"{prop}: '{old}' read as {new} ({count}×)",
                file=where,
            )

    def report_repair(self, repair: Repair, blanks: dict[str, BlankNode], where: str) -> None:
        """One warning per repaired or dropped statement, naming its dataset and property (an error with
        `strict`): real catalogs hold a space or `[` in a URL, and real harvesters go on."""
        node: object | None = None
        if repair.subject.startswith("_:"):
            node = blanks.get(repair.subject.removeprefix("_:"))
        else:
            with contextlib.suppress(ValueError):  # the subject may be the invalid IRI itself
                node = NamedNode(repair.subject.strip("<>"))
        dataset = self.dataset_of(node) if node is not None else None
        about = f"{dataset}, {repair.predicate}" if dataset is not None else f"{repair.subject}, {repair.predicate}"
        if repair.new is not None:
            de = f"{about}: ungültige IRI „{repair.old}“ zu „{repair.new}“ repariert (Prozent-Kodierung)"
            en = f"{about}: invalid IRI '{repair.old}' repaired to '{repair.new}' (percent-encoding)"
        else:
            de = f"{about}: ungültige IRI „{repair.old}“ nicht reparierbar; Aussage ausgelassen"
            en = f"{about}: invalid IRI '{repair.old}' cannot be repaired; statement left out"
        (self.result.error if self.strict else self.result.warn)(de, en, file=where)

    def dataset_of(self, node) -> object | None:
        """The dataset `node` is, or describes one or two links below (a distribution, a contact point)."""
        if node in self.datasets:
            return node
        parents = [q.subject for q in self.quads if q.object == node]
        for parent in parents:
            if parent in self.datasets:
                return parent
        for parent in parents:
            if grand := next(
                (q.subject for q in self.quads if q.object == parent and q.subject in self.datasets), None
            ):
                return grand
        return None

    # --- departments, counts -----------------------------------------------------------------------

    def finish(self, departments: dict[str, str], *, source: str) -> LoadResult:
        result = self.result
        self.report_normalised(source)
        mapped = self.map_departments(departments, source=source) if departments else set()
        if not self.datasets and result.ok:
            # An error, not a warning: the harvest replaces the source's graph, and a file that is no DCAT
            # (CKAN's plain JSON API answer, an HTML page) would silently empty it.
            result.error(
                "Der Katalog enthält keinen dcat:Dataset (kein DCAT-RDF? CKANs JSON-API ist kein DCAT: bitte "
                "die DCAT-Ausgabe des Portals laden, z. B. …/catalog.ttl); nichts wird geschrieben",
                "the catalog contains no dcat:Dataset (not DCAT RDF? CKAN's JSON API is not DCAT: load the "
                "portal's DCAT output instead, e.g. …/catalog.ttl); nothing is written",
                file=source,
            )
        result.graphs = {self.graph.value: list(self.quads)}
        result.counts = {
            "pages": self.pages,
            "datasets": len(self.datasets),
            "distributions": len(self.distributions),
            "triples": len(self.quads),
            "mapped_departments": len(mapped),
        }
        return result

    def map_departments(self, departments: dict[str, str] | list[Department], *, source: str) -> set[str]:
        """Link datasets to the departments their creator/publisher agents name; warn per guess and unmatched name."""
        names = DepartmentNames(_as_departments(departments))
        graph, out = self.graph, self.quads
        mapped: set[str] = set()
        matches: dict[object, str | None] = {}
        unmatched: defaultdict[tuple[str, str], set[object]] = defaultdict(set)  # (de, en) name → datasets
        ambiguous: dict[tuple[str, str], tuple[str, ...]] = {}
        guessed: dict[tuple[str, str], str] = {}
        for dataset, link, agent in self.agent_links:
            if dataset not in self.datasets:
                continue
            if agent not in matches:
                matches[agent] = self.match(agent, names, ambiguous, guessed)
            department = matches[agent]
            if department is None:
                if link == _CREATOR:
                    unmatched[self.describe(agent)].add(dataset)
                continue
            mapped.add(department)
            node = NamedNode(department)
            if agent != node and type(agent) is not Literal:
                out[Quad(agent, OWL.sameAs, node, graph)] = None  # type: ignore[arg-type]
            out[Quad(dataset, DCT.creator, node, graph)] = None
        for (de, en), chosen in guessed.items():
            self.result.warn(
                f"{de} als Amt „{chosen}“ erkannt (ähnlicher Name)",
                f"{en} taken as department '{chosen}' (a similar name)",
                file=source,
            )
        for (de, en), candidates in ambiguous.items():
            listed = ", ".join(candidates)
            self.result.warn(
                f"{de} passt zu mehreren Ämtern ({listed}); nicht zugeordnet",
                f"{en} matches several departments ({listed}); not mapped",
                file=source,
            )
        for (de, en), datasets in unmatched.items():
            if (de, en) in ambiguous:
                continue
            n = len(datasets)
            self.result.warn(
                f"Urheber {de} ({n} {'Datensatz' if n == 1 else 'Datensätze'}) passt zu keinem bekannten Amt",
                f"creator {en} ({n} dataset{'' if n == 1 else 's'}) matches no known department",
                file=source,
            )
        return mapped

    def match(
        self,
        agent: object,
        names: DepartmentNames,
        ambiguous: dict[tuple[str, str], tuple[str, ...]],
        guessed: dict[tuple[str, str], str],
    ) -> str | None:
        """The one department `agent` is or is named like (its IRI, a name, or a literal creator), else None."""
        if type(agent) is NamedNode and agent.value in names.departments:
            return agent.value
        labels = [agent.value] if type(agent) is Literal else self.names.get(agent, [])
        for label in labels:
            found = names.resolve(label)
            if found.iri is not None:
                if not found.exact:
                    guessed[self.describe(agent)] = names.departments[found.iri].name
                return found.iri
            if found.how == "ambiguous":
                ambiguous[self.describe(agent)] = found.candidates
        return None

    def describe(self, agent: object) -> tuple[str, str]:
        """An agent for a message, in German and English: its first name, else its IRI."""
        label = agent.value if type(agent) is Literal else next(iter(self.names.get(agent, ())), None)
        if label is not None:
            return f"„{label}“", f"'{label}'"
        if type(agent) is NamedNode:
            return f"<{agent.value}> (ohne Namen)", f"<{agent.value}> (unnamed)"
        return "ohne Namen", "without a name"


# --- helpers ---------------------------------------------------------------------------------------


def _as_departments(departments: dict[str, str] | list[Department]) -> list[Department]:
    if isinstance(departments, dict):
        return [Department(iri, iri.rstrip("/").rsplit("/", 1)[-1], name) for iri, name in departments.items()]
    return list(departments)


def _format_for(content_type: str, url: str) -> RdfFormat | None:
    media = content_type.split(";", 1)[0].strip().lower()
    if media not in _GENERIC_TYPES:
        return RdfFormat.from_media_type(media)
    suffix = PurePosixPath(urlsplit(url).path).suffix.lstrip(".").lower()
    by_suffix = _EXTRA_SUFFIXES.get(suffix) or (RdfFormat.from_extension(suffix) if suffix else None)
    if by_suffix is not None:
        return by_suffix
    if media in ("", "text/plain", "application/octet-stream", "binary/octet-stream"):
        return RdfFormat.TURTLE
    return RdfFormat.from_media_type(media)


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port or _DEFAULT_PORTS.get(scheme, 0)


def _same_origin(origin: tuple[str, str, int], url: str) -> bool:
    """Same scheme, host and port as `origin`, or the https upgrade of an http origin on default ports."""
    other = _origin(url)
    if other == origin:
        return True
    return origin[0] == "http" and origin[2] == 80 and other == ("https", origin[1], 443)


def _key(url: str) -> str:
    """A page URL for loop detection: without fragment and default port, scheme and host lower-cased."""
    parts = urlsplit(url)
    scheme, host, port = _origin(url)
    netloc = host if port == _DEFAULT_PORTS.get(scheme) else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def _display(url: str) -> str:
    """The URL without user info (no passwords in problem reports)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))
