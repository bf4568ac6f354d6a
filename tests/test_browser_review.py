"""Reviewing SDG suggestions in a real headless Chromium: an editor signs in, accepts one
suggestion with the keyboard and rejects another with the mouse; the accepted link shows in the gap report
at once (the public report, which anonymous visitors read), and the rejected one is not offered again.

Runs like tests/test_browser.py (Debian's chromium and chromium-driver, Selenium, axe-core from
tests/.axe) over the demo municipality, on embedded Oxigraph and on Virtuoso (`backend`). Saves
docs/screenshots/review.png for the README.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from test_browser import browser as chromium
from test_browser import wait

from api.app import create_app
from api.demo import load_demo
from api.testing import EDITOR_TOKEN, LiveServer, make_settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
    pytest.skip("Debian's chromium and chromium-driver are not installed (run .ci/browser.sh)", allow_module_level=True)
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install selenium)")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support import expected_conditions as until  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
AXE = Path(__file__).parent / ".axe" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOT = ROOT / "docs" / "screenshots" / "review.png"
WIDTH, HEIGHT = 1280, 900
# The headless Chromium of tests/test_browser.py (fixture), under the name this module's tests ask for.
browser = chromium
ACCEPTED_PROJECT = "Gründerzentrum und Coworking"  # demo project without SDG links; 8.3 is its first suggestion
REJECTED_PROJECT = "Integriertes Klimaschutzkonzept"


@pytest.fixture(scope="module")
def site(backend) -> Iterator[LiveServer]:
    """The demo on each store kind (`backend`: embedded Oxigraph, Virtuoso), with the derived graphs the gap
    reports read, as served; the module's tests run in order on each."""
    store = backend.new(derived=True)
    load_demo(store, make_settings())
    with LiveServer(create_app(make_settings(), store=store)) as server:
        yield server


@pytest.fixture
def editor(browser, site):
    """The browser signed in with the editor token through the login form, on the review page."""
    browser.set_window_size(WIDTH, HEIGHT)
    browser.get(f"{site.url}/suggestions")
    if browser.find_elements(By.ID, "token"):
        browser.find_element(By.ID, "token").send_keys(EDITOR_TOKEN, Keys.ENTER)
    wait(browser, until.text_to_be_present_in_element((By.TAG_NAME, "h1"), "SDG-Vorschläge prüfen"))
    return browser


def item_section(browser, title: str):
    """The review page's section of the item titled `title`, or None."""
    for section in browser.find_elements(By.CSS_SELECTOR, "section.review-item"):
        if title in section.find_element(By.TAG_NAME, "h2").text:
            return section
    return None


def offered_targets(section) -> list[str]:
    return [
        i.get_attribute("value") for i in section.find_elements(By.CSS_SELECTOR, "form[action$=accept] [name=target]")
    ]


def test_the_navigation_leads_editors_to_the_review_page(editor, site):
    editor.get(site.url + "/")
    link = editor.find_element(By.LINK_TEXT, "Vorschläge prüfen")
    link.click()
    wait(editor, until.text_to_be_present_in_element((By.TAG_NAME, "h1"), "SDG-Vorschläge prüfen"))
    assert editor.find_element(By.CSS_SELECTOR, ".site-nav a[aria-current=page]").text == "Vorschläge prüfen"


def test_an_editor_accepts_a_suggestion_with_the_keyboard_and_the_gap_report_shows_it(editor, site):
    section = item_section(editor, ACCEPTED_PROJECT)
    target = offered_targets(section)[0]
    button = section.find_element(By.CSS_SELECTOR, "form[action$=accept] button")
    assert button.get_attribute("textContent") == f"Übernehmen: {target} für „{ACCEPTED_PROJECT}“"
    button.send_keys(Keys.ENTER)
    notice = wait(editor, until.visibility_of_element_located((By.ID, "review-done")))
    assert notice.text.startswith(f"Übernommen: {target} für „{ACCEPTED_PROJECT}“")
    assert item_section(editor, ACCEPTED_PROJECT) is None  # linked now: no longer open
    # The public report: in the demo staff also see an internal measure of 8.3, so the gap is one that
    # anonymous visitors see; signing out shows the page as they do (the bare link is public, api/review.py).
    editor.find_element(By.CSS_SELECTOR, ".site-tools button").click()
    wait(editor, lambda d: d.find_elements(By.LINK_TEXT, "Anmelden"))
    editor.get(f"{site.url}/gaps/unmeasured-projects?goal={target.split('.')[0]}")
    rows = [r.text for r in editor.find_elements(By.CSS_SELECTOR, "table.report tbody tr")]
    assert any(ACCEPTED_PROJECT in r and target in r for r in rows), rows
    report = httpx.get(f"{site.url}/api/gaps/unmeasured-projects", params={"limit": 1000}, timeout=30).json()
    assert (ACCEPTED_PROJECT, target) in {(r["project"]["label"], r["target"]["code"]) for r in report["rows"]}


def test_an_editor_rejects_a_suggestion_and_it_is_not_offered_again(editor, site):
    section = item_section(editor, REJECTED_PROJECT)
    target = offered_targets(section)[0]
    section.find_element(By.CSS_SELECTOR, "form[action$=reject] button").click()
    notice = wait(editor, until.visibility_of_element_located((By.ID, "review-done")))
    assert notice.text.startswith(f"Abgelehnt: {target} für „{REJECTED_PROJECT}“")
    section = item_section(editor, REJECTED_PROJECT)
    assert section is not None and target not in offered_targets(section) and len(offered_targets(section)) == 3
    section.find_element(By.CSS_SELECTOR, "h2 a").click()  # on to the project's own page
    wait(editor, until.visibility_of_element_located((By.ID, "section-suggestions")))
    shown = editor.find_element(By.ID, "section-suggestions").find_element(By.XPATH, "..")
    assert target not in [i.get_attribute("value") for i in shown.find_elements(By.CSS_SELECTOR, "[name=target]")]


def test_the_review_page_has_no_serious_accessibility_violations(editor):
    assert AXE.exists(), f"axe-core is missing at {AXE}: run .ci/browser.sh"
    editor.execute_script(AXE.read_text(encoding="utf-8"))
    editor.set_script_timeout(60)
    violations = editor.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations), e => done([{id: 'axe-error',"
        " impact: 'critical', help: String(e), nodes: []}]));"
    )
    serious = [
        (v["id"], v["help"], [n["target"] for n in v["nodes"]][:3])
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == []


def test_screenshot_of_the_review_page_for_the_readme(editor, backend, tmp_path):
    if backend.name != "embedded":
        pytest.skip("one screenshot is enough: the embedded store's")
    height = editor.execute_script("return document.documentElement.scrollHeight")
    editor.set_window_size(WIDTH, min(height + 40, 4000))
    shot = tmp_path / "review.png"
    assert editor.save_screenshot(str(shot))
    editor.set_window_size(WIDTH, HEIGHT)
    # Written into the checkout only when it changed, so a test run leaves no noise in git.
    if not SCREENSHOT.exists() or SCREENSHOT.read_bytes() != shot.read_bytes():
        shutil.copyfile(shot, SCREENSHOT)
