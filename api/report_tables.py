"""Gap reports computed once per data version: each caller view's tables are built on first need after a write
(or by the warm-up right after it) and then answer counts, filters and pages as lookups.

A table belongs to the store's `generation` it was built from; when a write moves the generation on, the
old tables are dropped and the next request (or the warm-up thread) builds the new ones. Two requests that
need the same table while it is built wait for the one build. The named queries stay the definition: a
table is their rows (api/gaps.py), sorted once, or for unused-datasets their grouping (api/unused_data.py).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable
from typing import Any

log = logging.getLogger(__name__)


class ReportTables:
    """Values built from one data version of `store`, by key; built once, dropped when the store is written."""

    def __init__(self, store: Any):
        self.store = store
        self._lock = threading.Lock()
        self._generation: int | None = None
        self._values: dict[Hashable, Any] = {}
        self._building: dict[Hashable, threading.Event] = {}
        self.builds = 0  # how many tables were built (observability, tests)

    def get(self, key: Hashable, build: Callable[[], Any], *, attempts: int = 3) -> Any:
        """The value of `key` for the store's current data version, built by `build()` if there is none yet.

        A build reads the store in several queries; when a write lands in between, its value mixes two versions
        and is built again (at most `attempts` times, then handed to this caller only, never kept)."""
        for attempt in range(attempts):
            generation, value, kept = self._attempt(key, build)
            if kept or generation == self.store.generation or attempt == attempts - 1:
                return value
        raise AssertionError("unreachable")

    def _attempt(self, key: Hashable, build: Callable[[], Any]) -> tuple[int, Any, bool]:
        while True:
            generation = self.store.generation
            with self._lock:
                if generation != self._generation:
                    self._generation, self._values, self._building = generation, {}, {}
                if key in self._values:
                    return generation, self._values[key], True
                waiting = self._building.get(key)
                if waiting is None:
                    done = self._building[key] = threading.Event()
                    break
            waiting.wait()
        kept = False
        try:
            value = build()
            # Read before taking the lock: on a remote store this is a request, and it can fail too.
            current = self.store.generation
            with self._lock:
                kept = self._building.get(key) is done and self._generation == generation == current
                if kept:
                    self._values[key] = value
                    self.builds += 1
        finally:
            # Whatever happened, the callers waiting for this build are released (and build themselves).
            with self._lock:
                if self._building.get(key) is done:
                    del self._building[key]
            done.set()
        return generation, value, kept


class WarmUp:
    """Builds the first views' tables right after each write, in a daemon thread, so no visitor waits for them."""

    def __init__(self, store: Any, warm: Callable[[], None], *, interval: float = 0.5):
        self.store, self.warm, self.interval = store, warm, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="report-warm-up", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        seen = None
        while not self._stop.is_set():
            try:
                generation = self.store.generation
                if generation != seen:
                    self.warm()
                    seen = generation
            except Exception:  # a failed warm-up costs only speed: the next request builds what it needs
                log.exception("warming the gap reports failed")
            self._stop.wait(self.interval)
