"""Run queries under guard rails: a bounded number at once, a deadline that really stops the work.

Two modes (setting `query_isolation`):
- `process` (default for an on-disk store): a pool of pre-started worker processes (`api.query_worker`),
  one per concurrency slot. A query that passes its deadline gets its worker killed with SIGKILL — the
  only way to stop pyoxigraph (oxigraph#1926) — and a fresh worker takes the slot.
- `thread` (the only choice for an in-memory store, which another process cannot open): the query runs
  in the request's thread. The concurrency bound holds, but the deadline is *not* enforced: pyoxigraph
  cannot be interrupted, so a runaway query keeps its core and its slot until it ends.

The process mode has one fast path (setting `query_fast_path`, on by default): a query that is a single
triple pattern and nothing else (`api.sparql_text.is_single_pattern`) runs in a thread. Its cost is one
index range scan, and the row cap stops that scan after `max_rows + 1` rows (the lazy evaluation stops
with the serializer), so it needs no deadline — and skips the worker round trip, which costs cheap
queries about a third of their throughput on a 2-core machine (bench/endpoint.py). Everything else,
however cheap it looks, goes to a worker: a cost estimate that could be wrong is not a guard rail.

Workers never open the server's live store directory: pyoxigraph calls a read-only open while another
process writes it "undefined behaviour" (`Store.read_only`). The W3C suite saw about one query in 40 right
after a Graph Store write spin in the worker until the deadline, and a read-only open right after a write
names files that the writer's flush or compaction removes a moment later (1 open in 20, measured). Instead
the server takes a checkpoint between two writes (`EmbeddedStore.checkpoint`: hard links, 20–80 ms) when a
job finds the store written since the last one, and workers open that directory, which nobody writes. A
job that arrives while a write runs uses the previous checkpoint (the state before the write, as a query
running beside the write sees); checkpoints no worker has open are removed.

Either way the caller gets an `Answer`: a head (kind, format, truncation) and the body, whole when it
is small or as a stream of chunks; closing the answer gives the slot back.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from api.evaluate import EvaluationError, Head, QueryJob, prepare
from api.query_worker import DATA, END, ERROR, HEAD, JOB, READY, Closed, FrameReader, TimedOut, frame, write_all
from api.sparql_text import is_single_pattern
from api.store import EmbeddedStore, Store

log = logging.getLogger(__name__)

# Bodies up to this size are answered whole (no streaming machinery for cheap queries).
SMALL_BODY = 256 * 1024
_STARTUP_TIMEOUT = 60.0


class Busy(Exception):
    """Every query slot is taken; the client should retry later (503 + Retry-After)."""


class DeadlineExceeded(Exception):
    """The query ran past the deadline and was stopped."""


class WorkerFailed(Exception):
    """The worker process died for another reason (out of memory, a crash)."""


class Admission:
    """The queue in front of the query slots: at most `waiting` callers wait, each at most `timeout` seconds.

    Waiting absorbs bursts (64 clients at 4 slots wait their turn instead of failing); the bound keeps an
    overload from piling up threads and memory: the caller past it gets Busy (503) at once.
    """

    def __init__(self, *, waiting: int, timeout: float):
        self.limit = waiting
        self.timeout = timeout
        self.waiting = 0
        self.lock = threading.Lock()

    @contextlib.contextmanager
    def queued(self) -> Iterator[float]:
        """Count the caller as waiting while inside; yields the seconds it may wait for a slot."""
        with self.lock:
            if self.waiting >= self.limit:
                raise Busy
            self.waiting += 1
        try:
            yield self.timeout
        finally:
            with self.lock:
                self.waiting -= 1


class Answer:
    """The head of a query result and its body: `body` when small, else `chunks()`; always `close()`."""

    def __init__(self, head: Head, body: bytes | None = None, chunks: Iterator[bytes] | None = None, release=None):
        self.head = head
        self.body = body
        self._chunks = chunks
        self._release = release

    def chunks(self) -> Iterator[bytes]:
        if self.body is not None:
            yield self.body
        elif self._chunks is not None:
            yield from self._chunks

    def close(self) -> None:
        release, self._release = self._release, None
        if release is not None:
            release()


class Executor(Protocol):
    mode: str

    def run(self, job: QueryJob) -> Answer: ...

    def close(self) -> None: ...


class ThreadExecutor:
    """In-thread evaluation with a concurrency bound and no enforced deadline (see module docstring)."""

    mode = "thread"

    def __init__(self, store: Store, *, slots: int, admission: Admission):
        self.store = store
        self.slots = threading.BoundedSemaphore(slots)
        self.admission = admission

    def run(self, job: QueryJob) -> Answer:
        """Evaluate `job` here; raise Busy or EvaluationError."""
        with self.admission.queued() as timeout:
            if not self.slots.acquire(timeout=timeout):
                raise Busy
        try:
            if job.max_rows > 0:
                prepared = prepare(self.store, job)
                if prepared.size is not None and prepared.size <= SMALL_BODY:
                    buffer = io.BytesIO()
                    prepared.write(buffer)
                    self.slots.release()
                    return Answer(prepared.head, body=buffer.getvalue())
                stream = _ThreadStream(lambda: prepared)
            else:
                # pyoxigraph's lazy results must be consumed by the thread that created them ("unsendable"),
                # so an uncapped query is evaluated in the producer thread from the start.
                stream = _ThreadStream(lambda: prepare(self.store, job))
            head = stream.head()
        except BaseException:
            self.slots.release()
            raise
        return Answer(head, chunks=stream.chunks(), release=lambda: (stream.stop(), self.slots.release()))

    def close(self) -> None:
        pass


class _ThreadStream:
    """Evaluates and writes a body in a producer thread, handing its output over in chunks (bounded queue)."""

    def __init__(self, make):
        self.queue: queue.Queue = queue.Queue(maxsize=16)
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._produce, args=(make,), daemon=True)
        self.thread.start()

    def _produce(self, make) -> None:
        try:
            prepared = make()
        except Exception as error:
            self.queue.put(error)
            return
        sink = _QueueSink(self)
        try:
            self._put(prepared.head)
            prepared.write(sink)
            sink.push()
            self._put(None)
        except _Stopped:
            pass
        except Exception as error:  # after the head was sent, a failure can only cut the stream
            log.warning("query stream failed: %s", error)
            with contextlib.suppress(_Stopped):
                self._put(error)

    def _put(self, item) -> None:
        while not self.stopped.is_set():
            try:
                self.queue.put(item, timeout=0.5)
                return
            except queue.Full:
                continue
        raise _Stopped

    def head(self) -> Head:
        item = self.queue.get()
        if isinstance(item, Exception):
            raise item
        return item

    def chunks(self) -> Iterator[bytes]:
        while True:
            item = self.queue.get()
            if item is None:
                return
            if isinstance(item, Exception):
                raise item
            yield item

    def stop(self) -> None:
        self.stopped.set()


class _Stopped(Exception):
    pass


class _QueueSink(io.RawIOBase):
    def __init__(self, stream: _ThreadStream):
        self.stream = stream
        self.pending = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.pending += data
        if len(self.pending) >= 1 << 16:
            self.push()
        return len(data)

    def push(self) -> None:
        # Not flush(): io's close() calls flush() from __del__, where a stopped stream must stay quiet.
        if self.pending:
            self.stream._put(bytes(self.pending))
            self.pending.clear()


class _Worker:
    """One worker process and the server's ends of its pipes."""

    def __init__(self, snapshot: str, generation: int):
        self.snapshot = snapshot
        package_root = str(Path(__file__).resolve().parents[1])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "api.query_worker", snapshot, str(generation)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            # Its own session: a Ctrl-C meant for the server must not kill workers mid-query.
            start_new_session=True,
        )
        self.reader = FrameReader(self.process.stdout.fileno())
        self.deadline: float | None = None
        self.killed_for_deadline = False

    def wait_ready(self, timeout: float) -> None:
        kind, payload = self.reader.read(time.monotonic() + timeout)
        if kind != READY:
            raise WorkerFailed(f"query worker sent {kind!r} instead of ready")

    def send(self, job: QueryJob, generation: int, snapshot: str) -> None:
        message = {"generation": generation, "snapshot": snapshot, "job": vars(job)}
        message = json.dumps(message, separators=(",", ":")).encode()
        write_all(self.process.stdin.fileno(), frame(JOB, message))

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGKILL)

    def stop(self) -> None:
        """Close the pipes, let the worker exit on end of input, and reap it."""
        for pipe in (self.process.stdin, self.process.stdout):
            with contextlib.suppress(OSError):
                pipe.close()
        try:
            self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.kill()
            self.process.wait()


class ProcessExecutor:
    """A pool of killable query workers over an on-disk store; one worker per concurrency slot."""

    mode = "process"

    def __init__(
        self, store: EmbeddedStore, *, slots: int, timeout: float, admission: Admission, fast_path: bool = True
    ):
        if not store.has_local_path:
            raise ValueError("worker processes need an on-disk store; an in-memory store runs queries in threads")
        self.store = store
        self.timeout = timeout
        self.admission = admission
        self.idle: queue.LifoQueue[_Worker] = queue.LifoQueue()
        self.leased: set[_Worker] = set()
        self.lock = threading.Lock()
        self.closed = threading.Event()
        self.fast = ThreadExecutor(store, slots=slots, admission=admission) if fast_path else None
        self.snapshots = _Snapshots(store)
        # Every worker process alive or starting: the checkpoints they have open must not be removed.
        self.workers: set[_Worker] = set()
        workers = [self._start_worker() for _ in range(slots)]
        for worker in workers:
            worker.wait_ready(_STARTUP_TIMEOUT)
            self.idle.put(worker)
        self.watchdog = threading.Thread(target=self._watch, name="query-deadline-watchdog", daemon=True)
        self.watchdog.start()

    def run(self, job: QueryJob) -> Answer:
        """Send `job` to an idle worker; raise Busy, DeadlineExceeded, WorkerFailed or EvaluationError."""
        if self.fast is not None and job.max_rows > 0 and is_single_pattern(job.sparql):
            return self.fast.run(job)
        with self.admission.queued() as timeout:
            try:
                worker = self.idle.get(timeout=timeout)
            except queue.Empty:
                raise Busy from None
        deadline = time.monotonic() + self.timeout
        with self.lock:
            worker.deadline = deadline
            self.leased.add(worker)
        try:
            generation, snapshot = self.snapshots.assign(worker, self._snapshots_in_use)
            worker.send(job, generation, snapshot)
            kind, payload = worker.reader.read(deadline)
            if kind == ERROR:
                self._give_back(worker)
                error = json.loads(payload)
                raise EvaluationError(error["kind"], error["message"])
            if kind != HEAD:
                raise WorkerFailed(f"query worker sent {kind!r} instead of a head")
            head = Head(**json.loads(payload))
            parts: list[bytes] = []
            size = 0
            while size <= SMALL_BODY:
                kind, payload = worker.reader.read(deadline)
                if kind == END:
                    self._give_back(worker)
                    return Answer(head, body=b"".join(parts))
                if kind != DATA:
                    raise WorkerFailed(json.loads(payload)["message"] if kind == ERROR else f"unexpected {kind!r}")
                parts.append(payload)
                size += len(payload)
        except EvaluationError:
            raise
        except BaseException as error:
            self._discard(worker)
            raise self._reason(worker, error) from None
        stream = _WorkerStream(self, worker, parts, deadline)
        return Answer(head, chunks=stream.chunks(), release=stream.close)

    def _start_worker(self) -> _Worker:
        with self.snapshots.lock:  # registered before a newer checkpoint can prune the one it opens
            generation, snapshot = self.snapshots.latest
            worker = _Worker(snapshot, generation)
            with self.lock:
                self.workers.add(worker)
        return worker

    def _snapshots_in_use(self) -> set[str]:
        with self.lock:
            return {w.snapshot for w in self.workers}

    def worker_pids(self) -> set[int]:
        """Process ids of the live workers (for operations and tests)."""
        with self.lock:
            leased = set(self.leased)
        return {w.process.pid for w in (*leased, *list(self.idle.queue)) if w.process.poll() is None}

    def _reason(self, worker: _Worker, error: BaseException) -> BaseException:
        if isinstance(error, TimedOut) or worker.killed_for_deadline:
            return DeadlineExceeded()
        if isinstance(error, Closed | OSError):
            return WorkerFailed("the query worker stopped unexpectedly (out of memory?)")
        return error

    def _give_back(self, worker: _Worker) -> None:
        with self.lock:
            self.leased.discard(worker)
            worker.deadline = None
        self.idle.put(worker)

    def _discard(self, worker: _Worker) -> None:
        """Kill a worker whose state is unknown (deadline, client gone, failure) and start a replacement."""
        with self.lock:
            self.leased.discard(worker)
            self.workers.discard(worker)
        worker.kill()
        if not self.closed.is_set():
            threading.Thread(target=self._replace, args=(worker,), daemon=True).start()

    def _replace(self, old: _Worker) -> None:
        old.stop()
        for attempt in range(5):
            worker = None
            try:
                worker = self._start_worker()
                worker.wait_ready(_STARTUP_TIMEOUT)
            except Exception as error:
                if worker is not None:
                    self._forget(worker)
                log.error("could not start a query worker (attempt %d): %s", attempt + 1, error)
                time.sleep(1)
                continue
            if self.closed.is_set():
                self._forget(worker)
            else:
                self.idle.put(worker)
            return

    def _watch(self) -> None:
        # The backstop: a leased worker past its deadline is killed even if nobody is reading from it
        # (a client that stopped reading a stream, an abandoned answer).
        while not self.closed.wait(0.25):
            now = time.monotonic()
            with self.lock:
                late = [w for w in self.leased if w.deadline is not None and now > w.deadline + 0.5]
            for worker in late:
                worker.killed_for_deadline = True
                worker.kill()

    def close(self) -> None:
        """Stop every worker (server shutdown)."""
        self.closed.set()
        while True:
            try:
                self.idle.get_nowait().stop()
            except queue.Empty:
                break
        with self.lock:
            leased = list(self.leased)
        for worker in leased:
            worker.kill()
            worker.stop()
        self.snapshots.close()

    def _forget(self, worker: _Worker) -> None:
        worker.kill()
        worker.stop()
        with self.lock:
            self.workers.discard(worker)


class _Snapshots:
    """The checkpoints of the store that workers open (see the module docstring), newest in `latest`."""

    def __init__(self, store: EmbeddedStore):
        self.store = store
        prefix = f".{store.path.name}-snapshots-"
        if not store.read_only:
            # Left by a server that was killed; only the process holding the store's lock can be using them.
            for leftover in store.path.parent.glob(prefix + "*"):
                shutil.rmtree(leftover, ignore_errors=True)
        try:
            # Beside the store: the same file system, so checkpoints are hard links, not copies.
            self.root = Path(tempfile.mkdtemp(prefix=prefix, dir=store.path.parent))
        except OSError:
            self.root = Path(tempfile.mkdtemp(prefix=prefix))  # a read-only parent: copies, but it works
        self.lock = threading.Lock()
        self.latest = self._take(wait=True)

    def assign(self, worker: _Worker, in_use) -> tuple[int, str]:
        """The checkpoint `worker` is to answer its next job from: a new one if the store was written since
        `latest` and no write runs now. Pinned to the worker under the lock, so no prune can remove it."""
        with self.lock:
            if self.latest[0] != self.store.generation:
                taken = self._take(wait=False)
                if taken is not None:
                    self.latest = taken
                    self._prune(in_use())
            worker.snapshot = self.latest[1]
            return self.latest

    def _take(self, *, wait: bool) -> tuple[int, str] | None:
        target = self.root / uuid.uuid4().hex
        generation = self.store.checkpoint(target, wait=wait)
        return None if generation is None else (generation, str(target))

    def _prune(self, in_use: set[str]) -> None:
        keep = in_use | {self.latest[1]}
        for child in self.root.iterdir():
            if str(child) not in keep:
                shutil.rmtree(child, ignore_errors=True)

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


class _WorkerStream:
    """The rest of a large answer, read frame by frame from the worker that produced it."""

    def __init__(self, executor: ProcessExecutor, worker: _Worker, first: list[bytes], deadline: float):
        self.executor = executor
        self.worker = worker
        self.first = first
        self.deadline = deadline
        self.done = False
        self.lock = threading.Lock()

    def chunks(self) -> Iterator[bytes]:
        yield from self.first
        self.first = []
        while True:
            with self.lock:
                if self.done:
                    return
                try:
                    kind, payload = self.worker.reader.read(self.deadline)
                except (TimedOut, Closed, OSError) as error:
                    self._finish(ok=False)
                    raise self.executor._reason(self.worker, error) from None
                if kind == END:
                    self._finish(ok=True)
                    return
                if kind != DATA:
                    self._finish(ok=False)
                    raise WorkerFailed(json.loads(payload)["message"] if kind == ERROR else f"unexpected {kind!r}")
            yield payload

    def _finish(self, *, ok: bool) -> None:
        if not self.done:
            self.done = True
            if ok:
                self.executor._give_back(self.worker)
            else:
                self.executor._discard(self.worker)

    def close(self) -> None:
        # Called when the response ends or the client goes away; a worker still sending is killed,
        # never drained (that could block the event loop).
        if self.lock.acquire(blocking=False):
            try:
                self._finish(ok=False)
            finally:
                self.lock.release()
        else:
            self.worker.kill()


class CachingExecutor:
    """Small answers of the executor, kept until the store is written (its `generation` moves on).

    Dashboards and gap reports ask the same few queries again and again, and at 10^5 triples some take
    seconds. An answer is reused only for the identical job (text, parameters, visibility, dataset,
    formats, row cap) against the same store generation, so it is exactly what evaluating again would
    give. Only whole bodies up to SMALL_BODY are kept (streams are not), at most `budget` bytes in all,
    least recently used out first. Only for the embedded store, whose generation counts every write.
    Answers up to `entry_limit` bytes are kept; streamed ones once the stream has ended completely.
    """

    def __init__(self, inner: Executor, store: Store, *, budget: int, entry_limit: int = 8 * 1024 * 1024):
        self.inner = inner
        self.entry_limit = min(entry_limit, budget)
        self.mode = inner.mode
        self.store = store
        self.budget = budget
        self.entries: OrderedDict[tuple, tuple[Head, bytes]] = OrderedDict()
        self.size = 0
        self.generation = store.generation
        self.lock = threading.Lock()
        self.hits = self.misses = 0

    def run(self, job: QueryJob) -> Answer:
        generation = self.store.generation
        key = (json.dumps(vars(job), sort_keys=True),)
        with self.lock:
            if generation != self.generation:
                self.entries.clear()
                self.size = 0
                self.generation = generation
            cached = self.entries.get(key)
            if cached is not None:
                self.entries.move_to_end(key)
                self.hits += 1
                return Answer(cached[0], body=cached[1])
            self.misses += 1
        answer = self.inner.run(job)
        if answer.body is not None:
            self._keep(key, generation, answer.head, answer.body)
            return answer
        return Answer(answer.head, chunks=self._recorded(answer, key, generation), release=answer.close)

    def _recorded(self, answer: Answer, key: tuple, generation: int) -> Iterator[bytes]:
        """The answer's chunks, passed on as they come and kept if the stream ends within the entry limit."""
        parts: list[bytes] | None = []
        size = 0
        for chunk in answer.chunks():
            if parts is not None:
                size += len(chunk)
                if size <= self.entry_limit:
                    parts.append(chunk)
                else:
                    parts = None
            yield chunk
        if parts is not None:
            self._keep(key, generation, answer.head, b"".join(parts))

    def _keep(self, key: tuple, generation: int, head: Head, body: bytes) -> None:
        if len(body) > self.entry_limit:
            return
        with self.lock:
            # A write during the evaluation may have moved the generation on: keep only what is current.
            if self.generation == generation == self.store.generation and key not in self.entries:
                self.entries[key] = (head, body)
                self.size += len(body)
                while self.size > self.budget:
                    _, (_, old) = self.entries.popitem(last=False)
                    self.size -= len(old)

    def __getattr__(self, name: str):
        return getattr(self.inner, name)

    def close(self) -> None:
        self.inner.close()


def make_executor(
    store: Store,
    *,
    mode: str,
    slots: int,
    timeout: float,
    queue_timeout: float,
    max_waiting: int,
    fast_path: bool = True,
    cache_bytes: int = 0,
) -> Executor:
    """Choose the executor for `mode` (`auto`: processes for an on-disk store, threads in memory)."""
    admission = Admission(waiting=max_waiting, timeout=queue_timeout)
    if not store.local_engine:
        # A remote store enforces the deadline itself (server timeout + client timeout): threads suffice.
        # No cache: other processes may write to it.
        return ThreadExecutor(store, slots=slots, admission=admission)
    if mode == "auto":
        mode = "process" if store.has_local_path else "thread"
    if mode == "process":
        executor = ProcessExecutor(store, slots=slots, timeout=timeout, admission=admission, fast_path=fast_path)
    else:
        if not store.has_local_path:
            log.warning("in-memory store: queries run in threads; the %.0f s deadline is not enforced", timeout)
        executor = ThreadExecutor(store, slots=slots, admission=admission)
    return CachingExecutor(executor, store, budget=cache_bytes) if cache_bytes > 0 else executor
