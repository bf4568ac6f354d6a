"""One settings object, read from `QUERSCHNITT_*` environment variables (and `.env`)."""

from __future__ import annotations

import socket
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting of Querschnitt; the README table lists each one (a test keeps it complete)."""

    model_config = SettingsConfigDict(env_prefix="QUERSCHNITT_", env_file=".env", extra="ignore")

    store: str = Field(
        "./data/store",
        description=(
            "Store location: a directory for the embedded Oxigraph store, `memory`, or the URL of a remote "
            "SPARQL 1.1 query endpoint (e.g. Virtuoso `http://127.0.0.1:8890/sparql`)."
        ),
    )
    base_iri: str = Field(
        "https://musterstadt.example/id/",
        description="Base of instance IRIs (`{base}{kind}/{id}`); must end with `/`.",
    )
    public_url: str = Field(
        "http://127.0.0.1:8000",
        description=(
            "URL under which clients reach the service (links, redirects, paging, YASGUI, VoID, the service "
            "description). Unset, `querschnitt serve` uses the address it listens on (`--host`, `--port`); "
            "set it behind a reverse proxy."
        ),
    )
    municipality_name: str = Field("Musterstadt", description="Name of the municipality (publisher).")
    municipality_key: str | None = Field(
        None, description="Amtlicher Gemeindeschlüssel (8 digits), used for `dct:spatial`."
    )
    tokens: str = Field(
        "",
        description="Staff tokens as `role:sha256hex` separated by commas; roles reader, editor, admin.",
    )
    query_timeout: float = Field(30.0, description="Query deadline in seconds.")
    max_rows: int = Field(10_000, description="Cap on result rows per query; a truncated answer says so.")
    max_concurrent_queries: int = Field(4, description="Queries evaluated at once; more wait in the queue.")
    max_queued_queries: int = Field(
        128, ge=0, description="Queries that may wait for a slot; one more gets 503 with Retry-After at once."
    )
    query_cache_mb: float = Field(
        64, ge=0, description="Memory for small query answers, reused until the next write (0: no cache)."
    )
    query_queue_timeout: float = Field(
        10.0,
        description="Seconds a query waits in the queue for a free slot before it gets 503 with Retry-After.",
    )
    query_isolation: Literal["auto", "process", "thread"] = Field(
        "auto",
        description=(
            "Where queries run: `process` (killable worker processes: the deadline really stops the work; "
            "needs an on-disk store), `thread` (in the server process: no enforced deadline), or `auto` "
            "(process for an on-disk store, thread in memory)."
        ),
    )
    query_fast_path: bool = Field(
        True,
        description=(
            "With `process` isolation, run queries that are a single triple pattern (cost: one index scan, "
            "cut off by the row cap) in the server process, skipping the worker round trip."
        ),
    )
    service_allowlist: str = Field(
        "",
        description=(
            "IRIs that SPARQL `SERVICE` and `LOAD` may reach, comma-separated; an entry ending with `/` "
            "allows every IRI under it. Empty (the default) refuses all remote calls."
        ),
    )
    max_queries_per_client: int = Field(
        2,
        ge=0,
        description=(
            "Queries one client (its token, else its address) may have running or waiting at once; one more "
            "gets 503 with Retry-After at once, so that one client cannot take every slot (0: no bound)."
        ),
    )
    header_timeout: float = Field(
        10.0,
        gt=0,
        description=(
            "Seconds a client has to send a request's headers, from connecting or from the end of the previous "
            "answer; then the connection is closed (408)."
        ),
    )
    body_timeout: float = Field(
        10.0,
        gt=0,
        description=(
            "A request body must bring at least `body_min_rate` bytes per second in every period of this many "
            "seconds (while the server reads it); a slower one is closed (408)."
        ),
    )
    body_min_rate: int = Field(1024, ge=0, description="Bytes per second a request body must at least arrive at.")
    max_header_bytes: int = Field(
        65_536, ge=1024, description="Largest request line and headers of one request; larger get 431."
    )
    max_connections: int = Field(
        1000,
        ge=1,
        description=(
            "Open HTTP connections; one more takes the place of the one that has waited longest for its "
            "request headers, or gets 503 if none waits."
        ),
    )
    max_connections_per_client: int = Field(
        100,
        ge=0,
        description=(
            "Open HTTP connections from one address; one more gets 503 and is closed at once (0: no bound; "
            "behind a reverse proxy every client has the proxy's address)."
        ),
    )
    auth_failures_per_minute: int = Field(
        10,
        ge=0,
        description=(
            "Failed token checks one address may make per minute; further requests with a token get 429 with "
            "Retry-After until the minute is over (0: no bound)."
        ),
    )
    max_body_bytes: int = Field(1_000_000, description="Largest query or update request body; larger get 413.")
    max_upload_bytes: int = Field(
        100_000_000, description="Largest Graph Store Protocol upload (PUT/POST /graphs); larger get 413."
    )
    cors_origins: str = Field(
        "*",
        description=(
            "Origins allowed to read the SPARQL endpoint, Graph Store and VoID from a browser (CORS), "
            "comma-separated; `*` for any, empty for none. Tokens are never accepted cross-origin."
        ),
    )

    catalog_title: str | None = Field(
        None, description="Title of the DCAT-AP.de catalog at /catalog (German); default `Offene Daten {municipality}`."
    )
    catalog_description: str | None = Field(
        None, description="Description of the DCAT-AP.de catalog (German); default: a sentence naming the municipality."
    )
    catalog_page_size: int = Field(
        100, ge=1, le=10_000, description="Datasets per page of /catalog (Hydra paging; `?full=1` gives all at once)."
    )
    catalog_contributor_id: str | None = Field(
        None,
        description=(
            "`dcatde:contributorID` for every dataset: an IRI or id from http://dcat-ap.de/def/contributors/ "
            "(needed for direct delivery to GovData; leave empty when a Land portal harvests you)."
        ),
    )

    access_log_json: bool = Field(
        False, description="Write one JSON line per request to the `querschnitt.access` logger (no query strings)."
    )

    remote_update_url: str | None = Field(
        None, description="SPARQL Update endpoint of a remote store (default: the query URL)."
    )
    remote_gsp_url: str | None = Field(
        None, description="Graph Store Protocol endpoint of a remote store (faster uploads; optional)."
    )
    remote_user: str | None = Field(None, description="User for a remote store (HTTP basic or digest, as it asks).")
    remote_password: str | None = Field(None, description="Password for a remote store.")

    def remote_options(self) -> dict:
        """Keyword options for `open_store` when `store` is a remote endpoint URL."""
        return {
            "update_url": self.remote_update_url,
            "gsp_url": self.remote_gsp_url,
            "user": self.remote_user,
            "password": self.remote_password,
            "query_timeout": self.query_timeout,
        }

    def served_at(self, host: str, port: int) -> Settings:
        """These settings for a server listening on `host`:`port`: unless `public_url` was set, links name
        that address (a default of port 8000 sent YASGUI and every link to the wrong port)."""
        if "public_url" in self.model_fields_set:
            return self
        if host in ("", "0.0.0.0", "::"):
            # Every interface: this machine's name is what other machines can reach.
            host = socket.getfqdn()
        if ":" in host:
            host = f"[{host}]"  # an IPv6 address in a URL (RFC 3986 §3.2.2)
        return self.model_copy(update={"public_url": f"http://{host}:{port}"})

    def graph_iri(self, name: str) -> str:
        """IRI of the named graph of source `name`."""
        return f"{self.base_iri}graph/{name}"
