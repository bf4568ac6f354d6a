"""The process behind `api.sparql_check`: parses SPARQL text with pyoxigraph (and rdflib, for the guard), never evaluates.

It imports little (pyoxigraph, the frame helpers), so a fresh one starts in tens of milliseconds after
a text crashed the last one. A query is parsed by running it on an empty store with two dataset
arguments that pyoxigraph refuses together only *after* parsing; an update by running it on an empty
read-only store, which refuses the transaction after parsing (so LOAD fetches nothing). rdflib and
`api.guard` are imported on first use: only updates and texts that mention SERVICE or LOAD need them.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import socket
import struct
import sys
import tempfile
import threading

from pyoxigraph import NamedNode, Store

from api.query_worker import ERROR, HEAD, JOB, READY, Closed, FrameReader, frame, write_all

_NOWHERE = NamedNode("urn:querschnitt:nowhere")
_EMPTY = Store()


def _verdict(request: dict, empty_store) -> dict:
    """What the server needs to know about one text: a plan for updates, or a refusal (status, message)."""
    if request["kind"] == "warm":
        import api.guard  # noqa: F401 (imported ahead of the first text that needs it)

        return {}
    text, base_iri = request["text"], request["base_iri"]
    if request["parse"]:
        try:
            if request["kind"] == "query":
                # pyoxigraph refuses these two arguments together only after parsing: a parse, no evaluation.
                _EMPTY.query(text, base_iri=base_iri, use_default_graph_as_union=True, default_graph=[_NOWHERE])
            else:
                empty_store().update(text, base_iri=base_iri)
        except SyntaxError as error:
            return {"status": 400, "message": f"SPARQL syntax error: {error}"}
        except (ValueError, RuntimeError):
            pass  # parsed; the refusal to evaluate is the point
    if request["kind"] == "query" and request["allowlist"] is None:
        return {}
    from api.errors import HttpProblem
    from api.guard import Allowlist, check_query, check_update

    allowlist = Allowlist(request["allowlist"] or "")
    try:
        if request["kind"] == "query":
            check_query(text, allowlist, base_iri=base_iri)
            return {}
        plan = check_update(text, allowlist, base_iri=base_iri)
    except HttpProblem as problem:
        return {"status": problem.status, "message": problem.message}
    except Exception as error:  # rdflib's own limits (RecursionError …): what cannot be checked does not run
        return {"status": 400, "message": f"The {request['kind']} could not be checked: {error}"}
    return {"graphs": sorted(plan.graphs), "default_graph": plan.default_graph, "empty": plan.empty}


def _serve() -> None:
    reader = FrameReader(os.dup(0))
    out = os.dup(1)
    os.dup2(2, 1)  # the pipe has a private descriptor now; stray prints must not corrupt it
    made: list = []

    def empty_store():
        if not made:
            directory = tempfile.mkdtemp(prefix="querschnitt-check-")
            Store(directory).flush()
            made.append(directory)
            made.append(Store.read_only(directory))
        return made[1]

    write_all(out, frame(READY))
    try:
        while True:
            try:
                kind, payload = reader.read()
            except Closed:
                return
            if kind != JOB:
                continue
            answer = _verdict(json.loads(payload), empty_store)
            write_all(out, frame(ERROR if "status" in answer else HEAD, json.dumps(answer).encode()))
    finally:
        if made:
            shutil.rmtree(made[0], ignore_errors=True)


def _checker(stack: int) -> None:
    """Serve checks on fds 0 and 1 on a thread with a small stack, then exit."""
    threading.stack_size(stack)
    thread = threading.Thread(target=_serve)
    thread.start()
    thread.join()


def _zygote(stack: int) -> None:
    """Fork a checker for every request on the control socket (fd 0), which brings the checker's pipe ends.

    A fresh checker then costs a fork (milliseconds), not an interpreter start and imports (~60 ms of
    CPU): a client sending texts that crash the parser over and over slows the others down much less.
    This process never parses anything itself, and has one thread, so forking it is safe.
    """
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the checkers
    control = socket.socket(fileno=os.dup(0))
    # fd 0 stays taken (by /dev/null): the descriptors that arrive must not land on 0 or 1.
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(control, 1, 2)
        except OSError:
            return
        if not message or len(fds) != 2:
            return
        pid = os.fork()
        if pid == 0:
            control.close()
            os.dup2(fds[0], 0)
            os.dup2(fds[1], 1)
            for fd in fds:
                os.close(fd)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            try:
                _checker(stack)
            finally:
                os._exit(0)
        for fd in fds:
            os.close(fd)
        control.sendall(struct.pack(">i", pid))


def main() -> None:
    """`zygote MEMORY STACK`: fork checkers on request; `MEMORY STACK`: serve checks from stdin until it closes."""
    zygote = sys.argv[1] == "zygote"
    args = sys.argv[2:] if zygote else sys.argv[1:]
    memory, stack = int(args[0]), int(args[1])
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    # Crashes are expected here now and then; a core dump of each would cost the machine seconds of I/O.
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if zygote:
        _zygote(stack)
    else:
        _checker(stack)


if __name__ == "__main__":
    main()
