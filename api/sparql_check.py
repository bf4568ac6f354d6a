"""Check untrusted SPARQL text in killable child processes: pyoxigraph's parser and the SERVICE/LOAD guard.

pyoxigraph's SPARQL parser is recursive in many places (groups, triple terms `<< … >>`, reifiers,
collections, paths, unary operators): 20,000 nested `<<` overflow any thread's stack and the process
dies with SIGSEGV, which no bracket count in the text foresees. rdflib's parser (used by `api.guard`
for SERVICE/LOAD and the graphs an update writes) is pure Python: a 729 KB text took 31 s of CPU.
So both run here, in a pool of small processes (`api.sparql_check_child`), each parsing on a thread
whose stack is much smaller than the server's threads (so what parses here parses there), under an
address-space limit. The pool is bounded (callers wait like queries do, then get Busy) and every
check has the query deadline: a check that takes longer is killed (DeadlineExceeded, 504). A child
that dies while parsing costs only itself: the client gets a 400 naming the limit, the text's digest
is remembered so that resending it costs nothing, and the next check starts a fresh child (~30 ms).

"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections import OrderedDict
from pathlib import Path

from api.errors import HttpProblem
from api.executor import Admission, Busy, DeadlineExceeded
from api.guard import Allowlist, UpdatePlan, mentions_remote
from api.query_worker import ERROR, JOB, READY, Closed, FrameReader, TimedOut, frame, write_all

# One eighth of a server thread's default stack (8 MB on Linux): text that nests shallowly enough to
# parse there nests shallowly enough for the query workers and the request threads.
STACK_BYTES = 1 << 20
# Parsing a text of at most `max_body_bytes` (1 MB) needs a few MB; this only stops a runaway.
MEMORY_BYTES = 2 << 30
_STARTUP_TIMEOUT = 30.0
_REMEMBERED = 1024


class SparqlChecker:
    """A bounded pool of checking processes; `check_query` and `check_update` raise HttpProblem when refused."""

    def __init__(
        self,
        *,
        processes: int,
        timeout: float,
        admission: Admission,
        memory_bytes: int = MEMORY_BYTES,
        stack_bytes: int = STACK_BYTES,
    ):
        self.timeout = timeout
        self.admission = admission
        self.memory_bytes = memory_bytes
        self.stack_bytes = stack_bytes
        self.idle: queue.LifoQueue[_Child] = queue.LifoQueue()
        # Free places for a child not started yet; started lazily, so an app that never checks starts none.
        for _ in range(processes):
            self.idle.put(None)
        self.crashed: OrderedDict[bytes, None] = OrderedDict()
        self.lock = threading.Lock()
        self.closed = False

    def check_query(self, sparql: str, *, base_iri: str, allowlist: Allowlist, parse: bool = True) -> None:
        """Refuse a query that pyoxigraph cannot parse (when `parse`) or that calls out to IRIs not allowed."""
        remote = mentions_remote(sparql)
        if parse or remote:
            self._check("query", sparql, base_iri, allowlist if remote else None, parse)

    def check_update(self, sparql: str, *, base_iri: str, allowlist: Allowlist, parse: bool = True) -> UpdatePlan:
        """The graphs an update writes; refuse what cannot be parsed, calls out, or writes the store's own graphs."""
        plan = self._check("update", sparql, base_iri, allowlist, parse)
        return UpdatePlan(graphs=set(plan["graphs"]), default_graph=plan["default_graph"], empty=plan["empty"])

    def _check(self, kind: str, sparql: str, base_iri: str, allowlist: Allowlist | None, parse: bool) -> dict:
        digest = hashlib.sha256(f"{kind}\n{sparql}".encode()).digest()
        with self.lock:
            if digest in self.crashed:
                raise HttpProblem(400, self._limit_message(kind))
        request = {
            "kind": kind,
            "text": sparql,
            "base_iri": base_iri,
            "allowlist": None if allowlist is None else ",".join(allowlist.entries),
            "parse": parse,
        }
        with self.admission.queued() as wait:
            try:
                child = self.idle.get(timeout=wait)
            except queue.Empty:
                raise Busy from None
        try:
            if child is None:
                child = _Child(self.memory_bytes, self.stack_bytes)
                child.wait_ready(_STARTUP_TIMEOUT)
            if request["allowlist"] is not None and not child.guard_loaded:
                # rdflib takes a second or more to import on a busy machine: that is not the text's time.
                child.ask({"kind": "warm"}, time.monotonic() + _STARTUP_TIMEOUT)
                child.guard_loaded = True
            kind_, payload = child.ask(request, time.monotonic() + self.timeout)
        except TimedOut:
            self._lose(child)
            raise DeadlineExceeded from None
        except (Closed, OSError):
            self._lose(child)
            with self.lock:
                self.crashed[digest] = None
                while len(self.crashed) > _REMEMBERED:
                    self.crashed.popitem(last=False)
            raise HttpProblem(400, self._limit_message(kind)) from None
        except BaseException:
            self._lose(child)
            raise
        self.idle.put(child)
        answer = json.loads(payload)
        if kind_ == ERROR:
            raise HttpProblem(answer["status"], answer["message"])
        return answer

    def _limit_message(self, kind: str) -> str:
        return (
            f"The {kind} nests deeper or is larger than the SPARQL parser's limits allow "
            f"(a {self.stack_bytes >> 10} KB stack, {self.memory_bytes >> 20} MB of memory); it was not run."
        )

    def _lose(self, child: _Child | None) -> None:
        """Kill a child whose state is unknown; its place in the pool is free for a fresh one."""
        if child is not None:
            child.kill()
        self.idle.put(None)

    def close(self) -> None:
        """Stop every child (server shutdown)."""
        self.closed = True
        while True:
            try:
                child = self.idle.get_nowait()
            except queue.Empty:
                break
            if child is not None:
                child.kill()


class _Child:
    def __init__(self, memory_bytes: int, stack_bytes: int):
        package_root = str(Path(__file__).resolve().parents[1])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "api.sparql_check_child", str(memory_bytes), str(stack_bytes)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            start_new_session=True,
        )
        self.reader = FrameReader(self.process.stdout.fileno())
        self.guard_loaded = False

    def ask(self, request: dict, deadline: float) -> tuple[bytes, bytes]:
        write_all(self.process.stdin.fileno(), frame(JOB, json.dumps(request).encode()))
        return self.reader.read(deadline)

    def wait_ready(self, timeout: float) -> None:
        kind, _ = self.reader.read(time.monotonic() + timeout)
        if kind != READY:
            raise Closed

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        for pipe in (self.process.stdin, self.process.stdout):
            with contextlib.suppress(OSError):
                pipe.close()
        # Reaped in the background: a killed child exits at once, but waiting here would hold the caller.
        threading.Thread(target=self.process.wait, daemon=True).start()
