"""YASGUI and the API docs work in a real headless Chromium under the Content-Security-Policy the app sends.

The pages are only useful if the browser runs their scripts: a policy that is too strict leaves them
blank, with the reason only in the browser console. Each test reads that console log (Chromium writes
every CSP violation there as an error) and a control test proves that a violation does show up in it.
The Chromium and Selenium setup is the one of tests/test_browser.py (same skip reasons).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import test_browser as shared  # skips this module too when Chromium or Selenium is missing
from fastapi.testclient import TestClient

import api.testing
from api.app import create_app
from api.store import EmbeddedStore
from api.testing import LiveServer, fill, make_settings

browser = shared.browser  # the fixture: headless Chromium with a fresh profile
wait = shared.wait
By = shared.By

QUERY = (
    "SELECT ?dataset ?title WHERE { ?dataset a <http://www.w3.org/ns/dcat#Dataset> ; "
    "<http://purl.org/dc/terms/title> ?title }"
)


@pytest.fixture(scope="module")
def site() -> Iterator[LiveServer]:
    """The app over the sample data, its public URL the live server's own, so YASGUI queries this server."""
    port = api.testing._free_port()
    app = create_app(make_settings(public_url=f"http://127.0.0.1:{port}"), store=fill(EmbeddedStore(None)))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(api.testing, "_free_port", lambda: port)
        server = LiveServer(app)
    with server:
        yield server


@pytest.fixture
def page(browser, site):
    """Open a path of the live site with an empty console log; returns the driver."""

    def open_(path: str):
        browser.get_log("browser")  # reading the log empties it
        browser.get(site.url + path)
        wait(browser, lambda d: d.execute_script("return document.readyState") == "complete")
        return browser

    return open_


def csp_violations(browser) -> list[str]:
    """The console's CSP messages since the log was last read."""
    return [e["message"] for e in browser.get_log("browser") if "Content Security Policy" in e["message"]]


def run_in_yasgui(browser, query: str) -> list[str]:
    """Type `query` into the open YASGUI tab, press its run button, and return the result table's rows."""
    # YASGUI keeps the last results (in localStorage, too): wait for new ones, not for any.
    browser.execute_script(
        "window.before = yasgui.getTab().getYasr().results; yasgui.getTab().getYasqe().setValue(arguments[0])", query
    )
    (button,) = [b for b in browser.find_elements(By.CSS_SELECTOR, ".yasqe_queryButton") if b.is_displayed()]
    button.click()
    wait(browser, lambda d: d.execute_script("return yasgui.getTab().getYasr().results !== window.before"))
    rows = ".tabPanel.active .yasr tbody tr"
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, rows))
    return [row.text for row in browser.find_elements(By.CSS_SELECTOR, rows)]


def test_yasgui_runs_a_query_and_shows_the_results(page):
    rows = run_in_yasgui(page("/sparql"), QUERY)
    assert len(rows) == 1 and "Radverkehrszählung" in rows[0]


def test_yasgui_and_its_query_cause_no_csp_violation(page):
    browser = page("/sparql")
    run_in_yasgui(browser, QUERY)
    assert csp_violations(browser) == []


def test_a_csp_violation_does_show_in_the_console_log(page):
    browser = page("/sparql")
    browser.execute_script(
        "const s = document.createElement('script'); s.textContent = 'window.injected = 1'; document.body.append(s)"
    )
    assert any("inline script" in message for message in csp_violations(browser))


def test_the_api_docs_render_every_operation(page, site):
    browser = page("/docs")
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".opblock"))
    shown = {
        (block.find_element(By.CSS_SELECTOR, ".opblock-summary-method").text.lower(), block.get_attribute("id"))
        for block in browser.find_elements(By.CSS_SELECTOR, ".opblock")
    }
    operations = site.app.openapi()["paths"]
    assert len(shown) == sum(len(methods) for methods in operations.values())
    assert ("get", "operations-data-graphs_api_graphs_get") in shown


def test_the_api_docs_cause_no_csp_violation_and_load_nothing_from_elsewhere(page, site):
    browser = page("/docs")
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".opblock"))
    loaded = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert csp_violations(browser) == []
    assert [url for url in loaded if not url.startswith(site.url)] == []


@pytest.mark.parametrize(
    ("path", "heading"),
    [
        ("/def", "Querschnitt-Vokabular"),
        ("/def/Project", "qs:Project"),
        ("/derived/worksOnTarget", "qsd:worksOnTarget"),
    ],
)
def test_the_vocabulary_pages_render_with_no_csp_violation_and_load_nothing_from_elsewhere(page, site, path, heading):
    browser = page(path)
    assert heading in browser.find_element(By.CSS_SELECTOR, "h1").text
    loaded = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert any(url.endswith("/static/ui/ui.css") for url in loaded)
    assert csp_violations(browser) == []
    assert [url for url in loaded if not url.startswith(site.url)] == []


def test_a_hash_iri_of_the_vocabulary_lands_on_its_entry(page):
    browser = page("/def#Project")
    entry = browser.find_element(By.ID, "Project")
    assert "qs:Project" in entry.text
    assert browser.execute_script("return document.querySelector(':target').id") == "Project"


def test_the_apps_own_docs_page_uses_the_vendored_swagger_ui():
    with TestClient(create_app(make_settings(), store=fill(EmbeddedStore(None)))) as client:
        body = client.get("/docs").text
    assert "/static/swagger-ui/swagger-ui-bundle.js" in body and "cdn.jsdelivr.net" not in body
