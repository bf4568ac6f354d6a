"""The staff web UI in a real headless Chromium (Debian's `chromium` + `chromium-driver`, via Selenium).

A live uvicorn server on loopback serves the demo municipality. The tests click through the pages as
a person would, switch language, use the keyboard, check the layout at phone width and in print, run
the axe-core accessibility engine (vendored by `.ci/browser.sh` into tests/.axe) on the main pages,
and save the screenshots that the README shows (docs/screenshots/).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import api.store
from api import publishing, search, ui
from api.app import create_app
from api.demo import load_demo
from api.store import EmbeddedStore
from api.testing import READER_TOKEN, LiveServer, make_settings
from loaders.vocab import ORG, PROV, QS

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
    pytest.skip("Debian's chromium and chromium-driver are not installed (run .ci/browser.sh)", allow_module_level=True)
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install selenium)")
from selenium.common.exceptions import WebDriverException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support import expected_conditions as until  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
AXE = Path(__file__).parent / ".axe" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "docs" / "screenshots"
WIDTH, HEIGHT = 1280, 900


def demo_store(settings) -> EmbeddedStore:
    """The demo municipality with the SDG taxonomy, as `querschnitt demo` loads it."""
    store = api.store.open_store("memory")
    load_demo(store, settings)
    return store


@pytest.fixture(scope="module")
def store() -> EmbeddedStore:
    return demo_store(make_settings())


@pytest.fixture(scope="module")
def site(store) -> Iterator[LiveServer]:
    app = create_app(make_settings(), store=store)
    for router in (ui.router, search.router, publishing.router):
        app.include_router(router)
    with LiveServer(app) as server:
        yield server


@pytest.fixture(scope="module")
def browser(tmp_path_factory) -> Iterator:
    """Headless Chromium with a fresh profile, asking for German pages."""
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--lang=de-DE",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
        f"--window-size={WIDTH},{HEIGHT}",
    ):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"intl.accept_languages": "de-DE,de"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def page(browser, site):
    """Open a path of the live site and wait for it to load; returns the driver."""

    def open_(path: str):
        browser.set_window_size(WIDTH, HEIGHT)
        browser.get(site.url + path)
        WebDriverWait(browser, 30).until(lambda d: d.execute_script("return document.readyState") == "complete")
        return browser

    return open_


def wait(browser, condition, seconds: float = 30):
    # While a page is replaced (a form posted, a redirect followed) Chromium may answer a lookup of the old
    # document's node with "Node with given id does not belong to the document": poll again, as for a stale node.
    return WebDriverWait(browser, seconds, ignored_exceptions=(WebDriverException,)).until(condition)


def heading(browser) -> str:
    return browser.find_element(By.TAG_NAME, "h1").text


def departments_with_projects(store) -> int:
    sparql = (
        f"SELECT (COUNT(DISTINCT ?d) AS ?n) {{ ?p a <{QS.Project.value}> ; <{PROV.wasAssociatedWith.value}> ?d ;"
        f" <{QS.contributesTo.value}> ?sdg }}"
    )
    return int(next(iter(store.query(sparql)))["n"].value)


def all_departments(store) -> int:
    sparql = f"SELECT (COUNT(DISTINCT ?d) AS ?n) {{ ?d a <{ORG.OrganizationalUnit.value}> }}"
    return int(next(iter(store.query(sparql)))["n"].value)


# -- what a person sees ---------------------------------------------------------------------------


def test_dashboard_heatmap_shows_every_department_with_a_number_in_every_cell(page, store):
    browser = page("/")
    rows = browser.find_elements(By.CSS_SELECTOR, "#heatmap tbody tr")
    headers = browser.find_elements(By.CSS_SELECTOR, "#heatmap thead th.goal")
    assert heading(browser).startswith("Nachhaltigkeit in Musterstadt")
    assert [h.text for h in headers] == [str(n) for n in range(1, 18)]
    assert len(rows) == all_departments(store) > departments_with_projects(store)
    for row in rows:
        cells = row.find_elements(By.TAG_NAME, "td")
        assert len(cells) == 17
        assert all(cell.is_displayed() and cell.text.isdigit() for cell in cells)


def test_dashboard_legend_shows_the_counts_of_the_data(page):
    browser = page("/")
    cells = [int(td.text) for td in browser.find_elements(By.CSS_SELECTOR, "#heatmap tbody td")]
    swatches = [s.text for s in browser.find_elements(By.CSS_SELECTOR, "#heatmap-legend .swatch")]
    assert swatches[0] == "0" and swatches[-1].split("\u2013")[-1] == str(max(cells))
    assert all(s.is_displayed() for s in browser.find_elements(By.CSS_SELECTOR, "#heatmap-legend .swatch"))


def test_dashboard_names_the_top_missing_bridge_in_a_sentence(page):
    browser = page("/")
    sentences = [li.text for li in browser.find_elements(By.CSS_SELECTOR, "ol.bridges li")]
    assert any(s.startswith("Tiefbauamt und Umweltamt arbeiten beide an") for s in sentences)
    assert all(s.endswith("aber an keinem gemeinsamen Projekt.") for s in sentences)


def test_search_for_radweg_shows_a_project(page):
    browser = page("/search")
    field = browser.find_element(By.ID, "q")
    field.send_keys("Radweg")
    field.send_keys(Keys.ENTER)
    group = wait(browser, until.visibility_of_element_located((By.ID, "group-project")))
    links = group.find_element(By.XPATH, "..").find_elements(By.CSS_SELECTOR, "ul.hits a")
    assert "Sanierung Radweg Bahnhofstraße" in [a.text for a in links]


def test_typing_offers_suggestions_that_the_keyboard_can_open(page):
    browser = page("/search")
    field = browser.find_element(By.ID, "q")
    field.send_keys("Radverkehrsk")
    option = wait(browser, until.visibility_of_element_located((By.CSS_SELECTOR, "#q-suggestions [role=option]")))
    assert "Radverkehrskonzept 2030" in option.text
    assert field.get_attribute("aria-expanded") == "true"
    field.send_keys(Keys.ARROW_DOWN)
    assert field.get_attribute("aria-activedescendant") == "q-option-0"
    field.send_keys(Keys.ENTER)
    wait(browser, until.url_contains("/page/project/radverkehrskonzept"))
    assert heading(browser) == "Radverkehrskonzept 2030"


def test_who_works_on_a_target_lists_its_departments(page):
    browser = page("/search")
    field = browser.find_element(By.ID, "sdg-code")
    field.send_keys("11.2", Keys.ENTER)
    table = wait(browser, until.visibility_of_element_located((By.ID, "who-table")))
    departments = [th.text for th in table.find_elements(By.CSS_SELECTOR, "tbody th")]
    assert "Tiefbauamt" in departments and "Umweltamt" in departments


def test_a_question_typed_into_the_search_box_is_answered_with_departments_first(page):
    browser = page("/search")
    field = browser.find_element(By.ID, "q")
    field.send_keys("Wer arbeitet an 11.2?")
    field.send_keys(Keys.ENTER)
    table = wait(browser, until.visibility_of_element_located((By.ID, "who-table")))
    departments = [th.text for th in table.find_elements(By.CSS_SELECTOR, "tbody th")]
    assert "Tiefbauamt" in departments and "Umweltamt" in departments
    answer = browser.find_element(By.ID, "answer-heading").location["y"]
    assert answer < browser.find_element(By.ID, "results-heading").location["y"]
    assert "Kein Eintrag enthält alle Wörter" not in browser.find_element(By.TAG_NAME, "main").text


def test_a_question_about_a_topic_lists_the_departments_behind_its_projects(page):
    browser = page("/search?q=Wer+arbeitet+an+Radverkehr%3F")
    table = wait(browser, until.visibility_of_element_located((By.ID, "who-table")))
    first = table.find_element(By.CSS_SELECTOR, "tbody tr th a")
    assert first.text == "Tiefbauamt"
    first.click()
    wait(browser, until.url_contains("/page/department/tiefbauamt"))


def test_unused_data_names_and_links_the_departments_to_call(page):
    browser = page("/gaps/unused-datasets")
    headers = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "#report thead th")]
    assert headers == ["Projekt", "Ämter des Projekts", "Datensätze, die es nutzen könnte", "Zum Beispiel"]
    first = browser.find_element(By.CSS_SELECTOR, "#report tbody tr").find_elements(By.TAG_NAME, "td")
    assert all("/page/department/" in a.get_attribute("href") for a in first[1].find_elements(By.TAG_NAME, "a"))
    count = int(first[2].text)
    first[2].find_element(By.TAG_NAME, "a").click()  # every dataset this project could use
    wait(browser, until.url_contains("project="))
    headers = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "#report thead th")]
    assert headers == ["Datensatz", "Amt des Datensatzes", "Projekt", "Ämter des Projekts", "Unterziel"]
    rows = browser.find_elements(By.CSS_SELECTOR, "#report tbody tr")
    assert len({r.find_elements(By.TAG_NAME, "td")[0].text for r in rows}) == count
    row = rows[0]
    cells = row.find_elements(By.TAG_NAME, "td")
    for cell in (cells[1], cells[3]):
        links = cell.find_elements(By.TAG_NAME, "a")
        assert links and all("/page/department/" in a.get_attribute("href") for a in links)
    name = cells[1].find_element(By.TAG_NAME, "a").text
    cells[1].find_element(By.TAG_NAME, "a").click()
    wait(browser, until.url_contains("/page/department/"))
    assert heading(browser) == name


def test_the_catalog_opens_as_a_readable_page_with_links_to_its_rdf(page):
    browser = page("/catalog")
    assert heading(browser) == "Offene Daten Musterstadt"
    rows = browser.find_elements(By.CSS_SELECTOR, "#catalog tbody tr")
    assert 0 < len(rows) <= 100 and all(r.is_displayed() for r in rows[:5])
    formats = {a.text: a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "a.format-link")}
    assert formats["Turtle"].endswith("/catalog.ttl?full=1") and formats["RDF/XML"].endswith("/catalog.rdf?full=1")
    rows[0].find_element(By.CSS_SELECTOR, "th a").click()
    wait(browser, until.url_contains("/page/dataset/"))


def test_click_from_dashboard_to_a_gap_report_and_on_to_an_entity(page):
    browser = page("/")
    browser.find_element(By.CSS_SELECTOR, "a[href='/gaps/missing-bridges']").click()
    wait(browser, until.url_contains("/gaps/missing-bridges"))
    assert heading(browser) == "Fehlende Brücken"
    first = browser.find_element(By.CSS_SELECTOR, "#report tbody tr a[href^='/page/department/']")
    name = first.text
    first.click()
    wait(browser, until.url_contains("/page/department/"))
    assert heading(browser) == name
    assert browser.find_element(By.CSS_SELECTOR, "link[rel=alternate][type='text/turtle']")


def test_heatmap_cell_leads_to_the_departments_projects_on_that_goal(page):
    browser = page("/")
    cell = browser.find_element(By.CSS_SELECTOR, "#heatmap tbody td a[href$='#goal-11']")
    count = int(cell.text)
    cell.click()
    wait(browser, until.url_contains("#goal-11"))
    projects = browser.find_elements(By.XPATH, "//h3[@id='goal-11']/following-sibling::ul[1]/li")
    assert len(projects) == count


def test_gap_filters_narrow_the_report(page):
    browser = page("/gaps/missing-bridges")
    total = len(browser.find_elements(By.CSS_SELECTOR, "#report tbody tr"))
    browser.find_element(By.CSS_SELECTOR, "#filter-department option[value$='/department/tiefbauamt']").click()
    browser.find_element(By.CSS_SELECTOR, "#filter-goal option[value='11']").click()
    browser.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]").click()
    wait(browser, until.url_contains("goal=11"))
    rows = browser.find_elements(By.CSS_SELECTOR, "#report tbody tr")
    assert 0 < len(rows) < total
    assert all("Tiefbauamt" in row.text and "11." in row.text for row in rows)


def test_language_switch_turns_the_heading_english_and_back(page):
    browser = page("/")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "de"
    browser.find_element(By.CSS_SELECTOR, "a[hreflang=en]").click()
    wait(browser, lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en")
    assert heading(browser) == "Sustainability in Musterstadt: who works on what?"
    browser.get(browser.current_url.split("?")[0] + "gaps")
    assert heading(browser) == "Gaps"
    browser.find_element(By.CSS_SELECTOR, "a[hreflang=de]").click()
    wait(browser, lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "de")
    assert heading(browser) == "Lücken"


def test_keyboard_reaches_the_skip_link_first_and_it_jumps_to_the_content(page):
    browser = page("/")
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    active = browser.switch_to.active_element
    assert active.get_attribute("class") == "skip-link" and active.is_displayed()
    active.send_keys(Keys.ENTER)
    assert browser.switch_to.active_element.get_attribute("id") == "main"


def test_keyboard_focus_is_visible(page):
    browser = page("/")
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB, Keys.TAB)
    focused = browser.switch_to.active_element
    assert focused.get_attribute("href") is not None
    style = browser.execute_script(
        "const s = getComputedStyle(arguments[0]); return [s.outlineStyle, s.outlineWidth]", focused
    )
    assert style == ["solid", "3px"]


@pytest.mark.parametrize("path", ["/", "/gaps/missing-bridges", "/page/department/tiefbauamt", "/search?q=Radweg"])
def test_pages_fit_a_360_pixel_phone_without_sideways_scrolling(page, path):
    browser = page(path)
    browser.set_window_size(360, 800)
    overflow = browser.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    assert browser.find_element(By.TAG_NAME, "h1").is_displayed()


def test_print_layout_hides_navigation_and_keeps_the_report(page):
    browser = page("/gaps/missing-bridges")
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        assert not browser.find_element(By.CSS_SELECTOR, ".site-nav").is_displayed()
        assert not browser.find_element(By.CSS_SELECTOR, "form.filters").is_displayed()
        assert browser.find_element(By.ID, "report").is_displayed()
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})


# -- accessibility (axe-core) ---------------------------------------------------------------------

AXE_PAGES = [
    "/",
    "/gaps/missing-bridges",
    "/gaps/unused-datasets?goal=11",
    "/search?q=Radweg&sdg_code=11.2",
    "/search?q=Wer+arbeitet+an+Radverkehr%3F",
    "/gaps/unused-datasets",
    "/catalog",
    "/page/department/tiefbauamt",
    "/page/project/radverkehrskonzept",
    "/page/sdg/7",
    "/def",
    "/def/Project",
    "/derived/worksOnTarget",
]


def axe_violations(browser) -> list[dict]:
    """Run axe-core (every rule, WCAG 2.1 A/AA and best practice) on the open page."""
    assert AXE.exists(), f"axe-core is missing at {AXE}: run .ci/browser.sh"
    browser.execute_script(AXE.read_text(encoding="utf-8"))
    browser.set_script_timeout(60)
    return browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations), e => done([{id: 'axe-error',"
        " impact: 'critical', help: String(e), nodes: []}]));"
    )


@pytest.mark.parametrize("path", AXE_PAGES)
def test_axe_finds_no_serious_or_critical_violations(page, path):
    browser = page(path)
    violations = axe_violations(browser)
    serious = [
        (v["id"], v["impact"], v["help"], [n["target"] for n in v["nodes"]][:3])
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == []


# -- staff login ----------------------------------------------------------------------------------


def test_login_with_a_token_shows_internal_data_and_logout_hides_it(page):
    browser = page("/page/project/radverkehrskonzept")
    assert "Ansprechperson" not in browser.find_element(By.CSS_SELECTOR, "dl.facts").text
    browser.find_element(By.LINK_TEXT, "Anmelden").click()
    field = wait(browser, until.visibility_of_element_located((By.ID, "token")))
    field.send_keys(READER_TOKEN, Keys.ENTER)
    # The login page's own address carries ?next=/page/project/…, so wait for the page, not the URL.
    wait(browser, until.text_to_be_present_in_element((By.CSS_SELECTOR, "dl.facts"), "Ansprechperson"))
    assert "/login" not in browser.current_url
    cookie = browser.get_cookie(ui.SESSION_COOKIE)
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"
    browser.find_element(By.CSS_SELECTOR, ".site-tools button").click()
    wait(browser, lambda d: d.find_elements(By.LINK_TEXT, "Anmelden"))
    browser.get(browser.current_url.rstrip("/") + "/page/project/radverkehrskonzept")
    assert "Ansprechperson" not in browser.find_element(By.CSS_SELECTOR, "dl.facts").text


# -- screenshots for the README -------------------------------------------------------------------


def full_page_screenshot(browser, target: Path) -> None:
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(WIDTH, min(height + 40, 4000))
    target.parent.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(target))
    browser.set_window_size(WIDTH, HEIGHT)


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/", "dashboard.png"),
        (
            "/gaps/missing-bridges?department=https%3A%2F%2Fmusterstadt.example%2Fid%2Fdepartment%2Ftiefbauamt",
            "gap-report.png",
        ),
        ("/page/project/radverkehrskonzept", "entity-project.png"),
        ("/search?q=Wer+arbeitet+an+11.2%3F", "search-question.png"),
        ("/gaps/unused-datasets?goal=11", "gap-unused-datasets.png"),
        ("/catalog", "catalog.png"),
    ],
)
def test_screenshots_for_the_readme(page, path, name, tmp_path):
    browser = page(path)
    shot = tmp_path / name
    full_page_screenshot(browser, shot)
    assert shot.read_bytes().startswith(b"\x89PNG")
    # Written into the checkout only when it changed, so a test run leaves no noise in git.
    target = SCREENSHOTS / name
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists() or target.read_bytes() != shot.read_bytes():
        shutil.copyfile(shot, target)
