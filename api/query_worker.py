"""A query worker process (`python -m api.query_worker STORE_DIR`) and the frames it speaks over its pipes.

pyoxigraph cannot cancel a query (oxigraph#1926), so queries with a deadline run here, in a process the
server can kill. The worker opens a checkpoint of the on-disk store read-only (the server takes one between writes: a
read-only open of a directory another process writes is undefined behaviour); every job carries the
generation and directory of the checkpoint to use, and the worker reopens when they have moved on.

Wire format, both directions: one type byte, a 4-byte big-endian length, the payload.
Server → worker: `J` job (JSON: generation + QueryJob). Worker → server: `R` ready, then per job either
`X` error (JSON) or `H` head (JSON), `D` data…, and `E` end (or `X` if serialization failed midway).
"""

from __future__ import annotations

import json
import os
import select
import struct
import sys
import time

READY, JOB, HEAD, DATA, END, ERROR = b"R", b"J", b"H", b"D", b"E", b"X"
_HEADER = struct.Struct(">cI")
_FLUSH_AT = 1 << 16


def frame(kind: bytes, payload: bytes = b"") -> bytes:
    return _HEADER.pack(kind, len(payload)) + payload


class Closed(Exception):
    """The other end of the pipe is gone."""


class TimedOut(Exception):
    """No complete frame arrived before the deadline."""


class FrameReader:
    """Reads frames from a pipe file descriptor, waiting at most until a deadline (time.monotonic)."""

    def __init__(self, fd: int):
        self.fd = fd
        self.buffer = bytearray()
        self.poller = select.poll()
        self.poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)

    def read(self, deadline: float | None = None) -> tuple[bytes, bytes]:
        while True:
            if len(self.buffer) >= _HEADER.size:
                kind, length = _HEADER.unpack_from(self.buffer)
                end = _HEADER.size + length
                if len(self.buffer) >= end:
                    payload = bytes(self.buffer[_HEADER.size : end])
                    del self.buffer[:end]
                    return kind, payload
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self.poller.poll(remaining * 1000):
                    raise TimedOut
            chunk = os.read(self.fd, 1 << 16)
            if not chunk:
                raise Closed
            self.buffer += chunk

    def pending(self) -> bool:
        """Whether a complete frame can be read without waiting."""
        if len(self.buffer) >= _HEADER.size:
            _, length = _HEADER.unpack_from(self.buffer)
            if len(self.buffer) >= _HEADER.size + length:
                return True
        return bool(self.poller.poll(0))


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class FrameWriter:
    """A binary sink for pyoxigraph's serializers that sends what it gets as `D` frames, batched."""

    def __init__(self, fd: int):
        self.fd = fd
        self.pending = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.pending += frame(DATA, bytes(data))
        if len(self.pending) >= _FLUSH_AT:
            self.flush()
        return len(data)

    def send(self, kind: bytes, payload: bytes = b"") -> None:
        self.pending += frame(kind, payload)

    def flush(self) -> None:
        if self.pending:
            write_all(self.fd, bytes(self.pending))
            self.pending.clear()


def open_snapshot(path: str, *, attempts: int = 40):
    """Open the store read-only, retrying while the server's compaction replaces files under us.

    RocksDB's read-only open lists the live files and then opens them; a flush or compaction in the
    server can delete one in between ("IO error: No such file"). Measured: ~20 % of opens fail while
    the server bulk-loads, and the next try succeeds.
    """
    from api.store import EmbeddedStore

    for attempt in range(attempts):
        try:
            return EmbeddedStore(path, read_only=True)
        except (OSError, RuntimeError) as error:
            if attempt == attempts - 1 or not _vanished_file(str(error)):
                raise
            time.sleep(0.025 * (attempt + 1))
    raise AssertionError("unreachable")


def _vanished_file(message: str) -> bool:
    return "No such file" in message or "Corruption" in message


def main() -> None:
    """Serve jobs from stdin until it closes."""
    from api.evaluate import EvaluationError, QueryJob, prepare

    path = sys.argv[1]
    reader = FrameReader(os.dup(0))
    writer = FrameWriter(os.dup(1))
    # The pipes now have private descriptors; stray prints must not corrupt them.
    os.dup2(2, 1)
    store = open_snapshot(path)
    generation = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    writer.send(READY)
    writer.flush()
    while True:
        try:
            kind, payload = reader.read()
        except Closed:
            return
        if kind != JOB:
            continue
        message = json.loads(payload)
        if message["generation"] != generation:
            # A new checkpoint of the server's store (api/executor.py); never the live store directory.
            path = message.get("snapshot", path)
            store = open_snapshot(path)
            generation = message["generation"]
        job = QueryJob(**message["job"])
        try:
            try:
                prepared = prepare(store, job)
            except EvaluationError as error:
                if not _vanished_file(str(error)):
                    raise
                # The server's compaction deleted a file this snapshot had not opened yet: take a new one.
                store = open_snapshot(path)
                prepared = prepare(store, job)
        except EvaluationError as error:
            writer.send(ERROR, json.dumps({"kind": error.kind, "message": str(error)}).encode())
            writer.flush()
            continue
        writer.send(HEAD, json.dumps(vars(prepared.head)).encode())
        try:
            prepared.write(writer)
        except Exception as error:  # a failure after the head: the server cuts the stream
            writer.send(ERROR, json.dumps({"kind": "failed", "message": str(error)}).encode())
        else:
            writer.send(END)
        writer.flush()


if __name__ == "__main__":
    main()
