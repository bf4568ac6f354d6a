"""One settings object, read from `QUERSCHNITT_*` environment variables (and `.env`)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting of Querschnitt; the README table lists each one (a test keeps it complete)."""

    model_config = SettingsConfigDict(env_prefix="QUERSCHNITT_", env_file=".env", extra="ignore")

    store: str = Field(
        "./data/store",
        description="Store location: a directory for the embedded Oxigraph store, or `memory`.",
    )
    base_iri: str = Field(
        "https://musterstadt.example/id/",
        description="Base of instance IRIs (`{base}{kind}/{id}`); must end with `/`.",
    )
    public_url: str = Field(
        "http://127.0.0.1:8000",
        description="URL under which clients reach the service (for links, paging, the service description).",
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
    max_concurrent_queries: int = Field(4, description="Queries evaluated at once; more get 503.")

    def graph_iri(self, name: str) -> str:
        """IRI of the named graph of source `name`."""
        return f"{self.base_iri}graph/{name}"
