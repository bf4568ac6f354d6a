"""A throw-away Virtuoso (Debian's `virtuoso-opensource`) on loopback, for tests and benchmarks.

    with Virtuoso.start() as server:      # or Virtuoso.start(install=True) to apt-get it when missing
        store = server.store()            # a RemoteStore that may write (dba over HTTP digest, Graph Store uploads)
        ...
        server.wipe()                     # drop every graph written since the start

The database lives in a fresh temporary directory; the SQL and HTTP ports are free loopback ports; the
ini raises `ResultSetMaxRows` (Debian's 10 000 truncates answers silently with HTTP 200) and sets the
query time limit. `stop()` shuts the server down through isql (a checkpoint, then exit), kills it if
that fails, and removes the directory. `unavailable_reason()` says why no server can be had here.

Run it alone to keep one up for manual work: `python tests/virtuoso.py` (Ctrl-C stops it).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

VIRTUOSO = "virtuoso-t"
ISQL = "isql-vt"
VAD_DIR = "/usr/share/virtuoso-opensource-7/vad"
VSP_DIR = "/var/lib/virtuoso-opensource-7/vsp"
# Well above anything a test or the benchmark reads in one answer; truncation is still checked by RemoteStore.
RESULT_SET_MAX_ROWS = 50_000_000
MAX_QUERY_SECONDS = 300
AFTER_IMAGE_LIMIT = 400_000_000  # bytes; measured: 1.5e9 made large GSP uploads hang (lock wait, no CPU)

_INI = """\
[Database]
DatabaseFile       = {dir}/virtuoso.db
ErrorLogFile       = {dir}/virtuoso.log
LockFile           = {dir}/virtuoso.lck
TransactionFile    = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
ErrorLogLevel      = 7
FileExtend         = 200
MaxCheckpointRemap = 2000
Striping           = 0
TempStorage        = TempDatabase

[TempDatabase]
DatabaseFile       = {dir}/virtuoso-temp.db
TransactionFile    = {dir}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping           = 0

[Parameters]
ServerPort               = 127.0.0.1:{sql_port}
DisableUnixSocket        = 1
DisableTcpSocket         = 0
MaxClientConnections     = 20
CheckpointInterval       = 60
O_DIRECT                 = 0
CaseMode                 = 2
MaxStaticCursorRows      = 5000
AllowOSCalls             = 0
DirsAllowed              = ., {dir}, {vad}
VADInstallDir            = {vad}/
ThreadsPerQuery          = 2
AsyncQueueMaxThreads     = 10
NumberOfBuffers          = {buffers}
MaxDirtyBuffers          = {dirty}
MaxQueryMem              = 1G
VectorSize               = 1000
MaxVectorSize            = 1000000
AdjustVectorSize         = 0
; One swap of a large graph is one transaction: Virtuoso's default (50 MB of after-image) aborts it
; at ~10^6 triples ("log after image size went above the limit").
TransactionAfterImageLimit = {after_image}

[HTTPServer]
ServerPort                  = 127.0.0.1:{http_port}
ServerRoot                  = {vsp}
MaxClientConnections        = 20
DavRoot                     = DAV
EnabledDavVSP               = 0
HTTPProxyEnabled            = 0
ServerThreads               = 20
MaxKeepAlives               = 20
KeepAliveTimeout            = 10
HTTPThreadSize              = 280000
Charset                     = UTF-8
EnabledGzipContent          = 0

[SPARQL]
ResultSetMaxRows           = {max_rows}
MaxQueryExecutionTime      = {max_seconds}
; No MaxQueryCostEstimationTime (Debian sets 400): its estimates go wrong on small graphs and refuse cheap
; queries ("estimated execution time 0 (sec) exceeds the limit"); OpenLink: a setting for debugging only.
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def unavailable_reason(*, install: bool = False) -> str | None:
    """None when a Virtuoso can be started here; otherwise why not (for a skip message)."""
    if shutil.which(VIRTUOSO) and shutil.which(ISQL):
        return None
    if install and os.geteuid() == 0 and shutil.which("apt-get"):
        script = Path(__file__).resolve().parents[1] / ".ci" / "virtuoso.sh"
        result = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=900)
        if result.returncode == 0 and shutil.which(VIRTUOSO) and shutil.which(ISQL):
            return None
        return f"installing virtuoso-opensource failed: {(result.stderr or result.stdout).strip()[-300:]}"
    return (
        f"Virtuoso is not installed ({VIRTUOSO} and {ISQL} not on PATH); "
        "install it with `bash .ci/virtuoso.sh` (Debian package virtuoso-opensource, needs root)"
    )


@dataclass
class Virtuoso:
    """One running throw-away server; use `Virtuoso.start()`."""

    directory: Path
    sql_port: int
    http_port: int
    process: subprocess.Popen
    owns_directory: bool = True
    # The graphs the server holds of its own after starting (system graphs); `wipe()` keeps these.
    baseline: frozenset[str] = frozenset()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def sparql_url(self) -> str:
        """The anonymous SPARQL endpoint (read-only unless `allow_anonymous_updates()`)."""
        return f"{self.base_url}/sparql"

    @property
    def update_url(self) -> str:
        """The authenticated endpoint (HTTP digest; user dba, password dba) that may update."""
        return f"{self.base_url}/sparql-auth"

    @property
    def gsp_url(self) -> str:
        """The authenticated Graph Store Protocol endpoint (`?graph-uri=`)."""
        return f"{self.base_url}/sparql-graph-crud-auth"

    @classmethod
    def start(
        cls,
        *,
        directory: Path | None = None,
        install: bool = False,
        buffers: int = 85_000,
        max_rows: int = RESULT_SET_MAX_ROWS,
        max_seconds: int = MAX_QUERY_SECONDS,
        timeout: float = 120.0,
    ) -> Virtuoso:
        """Start a server in a new temporary directory (or `directory`) and wait until SPARQL answers.

        `buffers` are 8 KiB pages of cache (85 000 ≈ 700 MB; Virtuoso's guide: 2/3 of the memory it may use).
        """
        reason = unavailable_reason(install=install)
        if reason is not None:
            raise RuntimeError(reason)
        owns = directory is None
        directory = Path(tempfile.mkdtemp(prefix="qs-virtuoso-")) if directory is None else directory
        directory.mkdir(parents=True, exist_ok=True)
        sql_port, http_port = _free_port(), _free_port()
        while http_port == sql_port:
            http_port = _free_port()
        vsp = VSP_DIR if Path(VSP_DIR).is_dir() else str(directory)
        (directory / "virtuoso.ini").write_text(
            _INI.format(
                dir=directory,
                sql_port=sql_port,
                http_port=http_port,
                vad=VAD_DIR,
                vsp=vsp,
                buffers=buffers,
                dirty=buffers * 3 // 4,
                max_rows=max_rows,
                max_seconds=max_seconds,
                after_image=AFTER_IMAGE_LIMIT,
            )
        )
        with (directory / "stdout.log").open("wb") as log:  # the child keeps its own copy of the descriptor
            process = subprocess.Popen(
                [VIRTUOSO, "-f", "-c", "virtuoso.ini"],
                cwd=directory,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        server = cls(directory, sql_port, http_port, process, owns)
        try:
            server._wait(timeout)
            server.baseline = frozenset(server.graph_iris())
        except BaseException:
            server.stop()
            raise
        return server

    def _wait(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"virtuoso-t exited with {self.process.returncode}: {self.log_tail()}")
            try:
                response = httpx.get(self.sparql_url, params={"query": "ASK {}"}, timeout=5)
                if response.status_code == 200:
                    return
                last = f"HTTP {response.status_code}"
            except httpx.HTTPError as error:
                last = str(error)
            time.sleep(0.2)
        raise RuntimeError(f"Virtuoso did not answer within {timeout:.0f} s ({last}): {self.log_tail()}")

    def log_tail(self, lines: int = 15) -> str:
        path = self.directory / "virtuoso.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return " | ".join(text.strip().splitlines()[-lines:])

    def isql(self, statement: str, *, timeout: float = 120) -> str:
        """Run SQL as dba through isql; raise with the output when it reports an error."""
        result = subprocess.run(
            [ISQL, f"127.0.0.1:{self.sql_port}", "dba", "dba", f"exec={statement}"],
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        output = result.stdout + result.stderr
        if result.returncode != 0 or "*** Error" in output:
            raise RuntimeError(f"isql {statement!r}: {output.strip()}")
        return output

    def allow_anonymous_updates(self) -> None:
        """Let the anonymous /sparql endpoint update (test use only: never on a reachable server)."""
        self.isql('GRANT SPARQL_UPDATE TO "SPARQL";')

    def checkpoint(self) -> None:
        self.isql("checkpoint;")

    def store(self, *, gsp: bool = True, **options):
        """A `RemoteStore` on this server that may write: dba over HTTP digest, uploads by Graph Store Protocol
        unless `gsp=False` (then by SPARQL `INSERT DATA`); `options` go to `RemoteStore`."""
        from api.store.remote import RemoteStore

        return RemoteStore(
            self.sparql_url,
            update_url=self.update_url,
            gsp_url=self.gsp_url if gsp else None,
            user="dba",
            password="dba",
            **options,
        )

    def graph_iris(self) -> set[str]:
        """Every graph holding a triple, the server's own included."""
        response = httpx.post(
            self.sparql_url,
            data={"query": "SELECT DISTINCT ?g { GRAPH ?g { ?s ?p ?o } }"},
            headers={"Accept": "application/sparql-results+json"},
            timeout=60,
        )
        response.raise_for_status()
        return {row["g"]["value"] for row in response.json()["results"]["bindings"]}

    def wipe(self) -> None:
        """Drop every graph written since the start (the server's own graphs stay)."""
        extra = sorted(self.graph_iris() - self.baseline)
        if extra:
            with self.store() as store:
                store.update(" ;\n".join(f"DROP SILENT GRAPH <{g}>" for g in extra))

    def stop(self) -> None:
        """Shut down (isql `shutdown;`, then SIGKILL after 30 s) and remove the directory it created."""
        if self.process.poll() is None:
            with contextlib.suppress(OSError, subprocess.TimeoutExpired):
                subprocess.run(
                    [ISQL, f"127.0.0.1:{self.sql_port}", "dba", "dba", "exec=shutdown;"],
                    capture_output=True,
                    timeout=30,
                    stdin=subprocess.DEVNULL,
                )
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        if self.owns_directory:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> Virtuoso:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


if __name__ == "__main__":
    server = Virtuoso.start(install="--install" in sys.argv)
    print(
        f"Virtuoso in {server.directory}: SPARQL {server.sparql_url}, updates {server.update_url}, SQL {server.sql_port}"
    )
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
