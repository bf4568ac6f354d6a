"""The store: one interface (`Store`, in `base`), an embedded and a remote implementation, `open_store` to choose.

    base.py              the interface, its exceptions, the metadata graph (imports no implementation)
    embedded.py          pyoxigraph on disk or in memory
    remote.py            any SPARQL 1.1 Query/Update (+ Graph Store Protocol) endpoint
    virtuoso_dialect.py  what Virtuoso needs on top of the standard (text rewrites, answer repairs)

Callers import from `api.store`; nothing above this package asks which implementation it holds (the
capability flags of `Store` say where they differ). See docs/architecture.md.
"""

from __future__ import annotations

from api.store.base import (
    EMPTY_GRAPH,
    META_GRAPH,
    STAGING_PREFIX,
    GraphInfo,
    QueryRefused,
    QueryResult,
    QuerySource,
    RemoteError,
    ResultTruncated,
    Store,
    StoreError,
    StoreLocked,
    StoreTimeout,
    StoreUnavailable,
    Visibility,
    meta_quads,
)
from api.store.embedded import EmbeddedStore, backup_snapshot, restore_directory
from api.store.remote import RemoteStore


def is_remote(location: str) -> bool:
    """Whether a `--store` / QUERSCHNITT_STORE value names a SPARQL endpoint rather than a directory."""
    return location.startswith(("http://", "https://"))


def open_store(location: str, *, read_only: bool = False, **remote_options) -> Store:
    """Open the store a setting or `--store` names (a directory, `memory`, or a SPARQL endpoint URL),
    derived graphs kept fresh."""
    from api import derived

    store: Store
    if is_remote(location):
        store = RemoteStore(location, **{k: v for k, v in remote_options.items() if v is not None})
    elif location == "memory":
        store = EmbeddedStore(None)
    else:
        store = EmbeddedStore(location, read_only=read_only)
    derived.install(store)
    return store


__all__ = [
    "EMPTY_GRAPH",
    "META_GRAPH",
    "STAGING_PREFIX",
    "EmbeddedStore",
    "GraphInfo",
    "QueryRefused",
    "QueryResult",
    "QuerySource",
    "RemoteError",
    "RemoteStore",
    "ResultTruncated",
    "Store",
    "StoreError",
    "StoreLocked",
    "StoreTimeout",
    "StoreUnavailable",
    "Visibility",
    "backup_snapshot",
    "is_remote",
    "meta_quads",
    "open_store",
    "restore_directory",
]
