"""Tables built once per data version (api/report_tables.py): kept until a write, built once for many callers,
never kept when a write landed during the build, and warmed after a write without a visitor."""

from __future__ import annotations

import threading
import time

from pyoxigraph import Literal, NamedNode, Quad

from api.report_tables import ReportTables, WarmUp
from api.store import Visibility, open_store

GRAPH = "https://example.org/graph/a"


def write(store, value: str) -> None:
    store.replace_graph(
        GRAPH,
        [Quad(NamedNode("https://example.org/s"), NamedNode("https://example.org/p"), Literal(value))],
        visibility=Visibility.PUBLIC,
        source="test",
        loader="test",
        checksum="sha256:0",
    )


def current_value(store) -> str:
    return next(iter(store.query("SELECT ?o WHERE { ?s ?p ?o }", include_internal=True)))["o"].value


def test_a_table_is_built_once_per_data_version_and_again_after_a_write():
    store = open_store("memory")
    write(store, "one")
    tables = ReportTables(store)
    assert tables.get("k", lambda: current_value(store)) == "one"
    assert tables.get("k", lambda: "never built") == "one"
    write(store, "two")
    assert tables.get("k", lambda: current_value(store)) == "two"
    assert tables.builds == 2


def test_callers_asking_during_a_build_wait_for_that_one_build():
    store = open_store("memory")
    write(store, "one")
    tables = ReportTables(store)
    calls = []
    release = threading.Event()

    def slow_build() -> str:
        calls.append(1)
        release.wait(5)
        return current_value(store)

    answers = []
    threads = [threading.Thread(target=lambda: answers.append(tables.get("k", slow_build))) for _ in range(6)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 5
    while not calls and time.monotonic() < deadline:
        time.sleep(0.01)
    release.set()
    for thread in threads:
        thread.join(5)
    assert answers == ["one"] * 6 and len(calls) == 1


def test_a_build_a_write_overtook_is_built_again_and_the_mixed_value_never_kept():
    store = open_store("memory")
    write(store, "one")
    tables = ReportTables(store)
    seen = []

    def build_with_a_write_in_between() -> str:
        first = current_value(store)
        if not seen:
            write(store, "two")  # lands between the build's two reads
        seen.append(first)
        return first + "+" + current_value(store)

    assert tables.get("k", build_with_a_write_in_between) == "two+two"
    assert tables.get("k", lambda: "never built") == "two+two"


def test_a_failed_build_is_not_kept_and_the_next_caller_builds_again():
    store = open_store("memory")
    write(store, "one")
    tables = ReportTables(store)

    def fail() -> str:
        raise RuntimeError("engine down")

    try:
        tables.get("k", fail)
    except RuntimeError:
        pass
    else:
        raise AssertionError("the failure must reach the caller")
    assert tables.get("k", lambda: current_value(store)) == "one"


def test_the_warm_up_builds_after_each_write_without_a_visitor():
    store = open_store("memory")
    write(store, "one")
    tables = ReportTables(store)
    warm = WarmUp(store, lambda: tables.get("k", lambda: current_value(store)), interval=0.02)
    warm.start()
    try:
        write(store, "two")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and tables.builds < 2:
            time.sleep(0.02)
        assert tables.get("k", lambda: "not warmed") == "two"
    finally:
        warm.stop()


class FlakyStore:
    """A store whose data version cannot be read once (a remote store's small request fails while it is down)."""

    def __init__(self):
        self.failures = 0

    @property
    def generation(self) -> int:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("the store is unavailable")
        return 1


def test_a_store_lost_right_after_a_build_releases_the_waiting_callers_and_the_next_one_builds():
    store = FlakyStore()
    tables = ReportTables(store)
    started, release = threading.Event(), threading.Event()

    def build_then_lose_the_store() -> str:
        started.set()
        release.wait(5)
        store.failures = 1  # lost between the build and the check of its data version
        return "stale"

    failures = []

    def first() -> None:
        try:
            tables.get("k", build_then_lose_the_store)
        except ConnectionError as error:
            failures.append(error)

    builder = threading.Thread(target=first)
    builder.start()
    assert started.wait(5)
    answers = []
    waiter = threading.Thread(target=lambda: answers.append(tables.get("k", lambda: "fresh")))
    waiter.start()
    time.sleep(0.05)  # the second caller now waits for the first build
    release.set()
    builder.join(5)
    waiter.join(5)
    assert not waiter.is_alive(), "a caller waiting for a failed build must not hang"
    assert len(failures) == 1 and answers == ["fresh"]
    assert tables.get("k", lambda: "never built") == "fresh"
