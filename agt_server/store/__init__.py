"""Durable storage of the engine's store writes: nothing acknowledged is lost (product.md §7).

:class:`SqliteStore` keeps them in one SQLite file (``":memory:"`` for throwaway runs),
:class:`MemoryStore` in dicts; both implement :class:`Store`.  :class:`StoreWriter` runs commits off
the trio loop and groups concurrent ones into one transaction.  Everything in ``__all__`` is the
public API.
"""

from ._interface import MemoryStore, Store, StoreClosedError, StoreError
from ._sqlite import SCHEMA_VERSION, SqliteStore
from ._writer import MAX_WRITES_PER_COMMIT, StoreWriter

__all__ = [
    "MAX_WRITES_PER_COMMIT",
    "SCHEMA_VERSION",
    "MemoryStore",
    "SqliteStore",
    "Store",
    "StoreClosedError",
    "StoreError",
    "StoreWriter",
]
