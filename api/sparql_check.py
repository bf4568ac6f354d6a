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
is remembered so that resending it costs nothing, and the next check gets a fresh child, forked by a
zygote process in a few milliseconds (a new interpreter would cost ~60 ms of CPU per crash).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import queue
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections import OrderedDict
from pathlib import Path

from api.errors import HttpProblem
from api.executor import Admission, Busy, DeadlineExceeded, WorkerFailed
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
        self.idle: queue.LifoQueue[_Child | None] = queue.LifoQueue()
        # Free places for a child not started yet; started lazily, so an app that never checks starts none.
        for _ in range(processes):
            self.idle.put(None)
        self.crashed: OrderedDict[bytes, None] = OrderedDict()
        self.lock = threading.Lock()
        self.zygote: _Zygote | None = None
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
                child = self._fork()
                child.wait_ready(_STARTUP_TIMEOUT)
            if request["allowlist"] is not None and not child.guard_loaded:
                # rdflib takes a second or more to import on a busy machine: that is not the text's time.
                child.ask({"kind": "warm"}, time.monotonic() + _STARTUP_TIMEOUT)
                child.guard_loaded = True
        except (Closed, OSError, TimedOut) as error:
            # Not the text's fault: it was not sent yet.
            self._lose(child)
            raise WorkerFailed(f"a SPARQL checker could not be started: {error}") from None
        try:
            kind_, payload = child.ask(request, time.monotonic() + self.timeout)
        except TimedOut:
            self._lose(child)
            raise DeadlineExceeded from None
        except BrokenPipeError:
            # The child reads a whole request before parsing it: it was gone before it saw this text.
            self._lose(child, dead=True)
            raise WorkerFailed("a SPARQL checker stopped unexpectedly") from None
        except (Closed, OSError):
            self._lose(child, dead=True)
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

    def _fork(self) -> _Child:
        with self.lock:
            if self.closed:
                raise OSError("the SPARQL checker is shut down")
            if self.zygote is not None and self.zygote.process.poll() is not None:
                self.zygote.close()  # its process is gone; its socket would leak
                self.zygote = None
            if self.zygote is None:
                self.zygote = _Zygote(self.memory_bytes, self.stack_bytes)
            zygote = self.zygote
        return zygote.fork()

    def _lose(self, child: _Child | None, *, dead: bool = False) -> None:
        """Kill a child whose state is unknown; its place in the pool is free for a fresh one."""
        if child is not None:
            child.close(kill=not dead)
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
                child.close(kill=True)
        with self.lock:
            if self.zygote is not None:
                self.zygote.close()
                self.zygote = None


class _Zygote:
    """The process that forks checkers (`api.sparql_check_child zygote`), and the socket to ask it for one."""

    def __init__(self, memory_bytes: int, stack_bytes: int):
        package_root = str(Path(__file__).resolve().parents[1])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
        ours, theirs = socket.socketpair()
        with theirs:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "api.sparql_check_child", "zygote", str(memory_bytes), str(stack_bytes)],
                stdin=theirs,
                env=env,
                start_new_session=True,  # a Ctrl-C meant for the server must not reach it
            )
        self.control = ours
        self.control.settimeout(_STARTUP_TIMEOUT)
        # One request and its answer at a time: the answers (process ids) carry no request number.
        self.lock = threading.Lock()

    def fork(self) -> _Child:
        """A new checker with its own pipes; raise OSError when the zygote is gone."""
        their_in, our_in = os.pipe()
        our_out, their_out = os.pipe()
        try:
            with self.lock:
                socket.send_fds(self.control, [b"f"], [their_in, their_out])
                answer = b""
                while len(answer) < 4:
                    chunk = self.control.recv(4 - len(answer))
                    if not chunk:
                        raise OSError("the checker zygote is gone")
                    answer += chunk
        except BaseException:
            os.close(our_in)
            os.close(our_out)
            raise
        finally:
            os.close(their_in)
            os.close(their_out)
        return _Child(struct.unpack(">i", answer)[0], our_in, our_out)

    def close(self) -> None:
        self.control.close()  # it exits on end of input
        try:
            self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __del__(self) -> None:
        # An app dropped without its shutdown (a test's, a crashed server's) still owns this socket and
        # process: release them instead of leaving them to the garbage collector's warnings.
        control = getattr(self, "control", None)
        if control is not None and control.fileno() != -1:
            control.close()
            with contextlib.suppress(OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait(timeout=2)  # reaped: no zombie, no "still running" warning


class _Child:
    """One checker forked by the zygote: its process id and the server's ends of its pipes."""

    def __init__(self, pid: int, stdin: int, stdout: int):
        self.pid = pid
        self.stdin = stdin
        self.reader = FrameReader(stdout)
        self.guard_loaded = False

    def ask(self, request: dict, deadline: float) -> tuple[bytes, bytes]:
        write_all(self.stdin, frame(JOB, json.dumps(request).encode()))
        return self.reader.read(deadline)

    def wait_ready(self, timeout: float) -> None:
        kind, _ = self.reader.read(time.monotonic() + timeout)
        if kind != READY:
            raise Closed

    def close(self, *, kill: bool) -> None:
        # Killed only while its pipe is open: the zygote reaps a dead one at once, and its pid may be reused.
        if kill:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
        for fd in (self.stdin, self.reader.fd):
            with contextlib.suppress(OSError):
                os.close(fd)
