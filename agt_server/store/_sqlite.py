"""The SQLite store: one file (or ``:memory:``), durable on every commit.

Durability: a file is opened in WAL mode with ``synchronous=FULL``, so a commit returns only after
its write-ahead log frames are fsynced — it survives ``kill -9`` of the process and a power loss.  WAL
also lets another process (the ``sqlite3`` shell) read while the server writes.

Threading: commits run in a worker thread (``StoreWriter`` uses ``trio.to_thread``) and other calls may
come from the trio thread, so the one connection is opened with ``check_same_thread=False`` and every
use of it holds ``self._lock``.

Schema: ``schema_version`` holds one row, :data:`SCHEMA_VERSION`.  A file without it is given the schema
(if it has no tables) or refused; a file of a newer version is refused rather than misread.  The audit
table is append-only, enforced by triggers as well as by this module never updating it.
"""

from __future__ import annotations

import itertools
import operator
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

from agt_server.engine._writes import (
    AuditEntry,
    CallbackDone,
    CallbackScheduled,
    JobStateChanged,
    RecordAttempt,
    RecordStarted,
    StoredCallback,
    StoredState,
    StoreWrite,
)

from ._interface import Store, StoreClosedError, StoreError, check_page

__all__ = ["SCHEMA_VERSION", "SqliteStore"]

#: The schema version this code writes and understands.
SCHEMA_VERSION = 1

#: How long a statement waits for another connection's lock (e.g. a ``sqlite3`` shell) before failing.
BUSY_TIMEOUT_MS = 5_000

_SCHEMA = (
    "CREATE TABLE schema_version (version INTEGER NOT NULL)",
    """CREATE TABLE records_started (
        id INTEGER PRIMARY KEY,
        job TEXT NOT NULL,
        record_id TEXT NOT NULL,
        at REAL NOT NULL
    )""",
    # The UNIQUE index also serves load()'s GROUP BY and outcomes()' filter by job.
    """CREATE TABLE record_attempts (
        id INTEGER PRIMARY KEY,
        job TEXT NOT NULL,
        record_id TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        code INTEGER NOT NULL,
        agent TEXT,
        at REAL NOT NULL,
        final INTEGER NOT NULL CHECK (final IN (0, 1)),
        UNIQUE (job, record_id, attempt)
    )""",
    """CREATE TABLE callbacks (
        id TEXT PRIMARY KEY,
        job TEXT NOT NULL,
        record_id TEXT NOT NULL,
        due_at REAL NOT NULL,
        owner TEXT,
        phone TEXT NOT NULL,
        name TEXT NOT NULL,
        scheduled_at REAL NOT NULL,
        done_at REAL
    )""",
    """CREATE TABLE job_states (
        job TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        actor TEXT NOT NULL,
        at REAL NOT NULL
    )""",
    """CREATE TABLE audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at REAL NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        subject TEXT NOT NULL,
        "before" TEXT NOT NULL,
        "after" TEXT NOT NULL
    )""",
    "CREATE INDEX audit_by_subject ON audit (subject, id)",
    """CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
    """CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
)


_INSERT_STARTED = "INSERT INTO records_started (job, record_id, at) VALUES (?, ?, ?)"
_INSERT_ATTEMPT = (
    "INSERT INTO record_attempts (job, record_id, attempt, code, agent, at, final) VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_CALLBACK = (
    "INSERT INTO callbacks (id, job, record_id, due_at, owner, phone, name, scheduled_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_CALLBACK_DONE = "UPDATE callbacks SET done_at = ? WHERE id = ? AND done_at IS NULL"
_UPSERT_JOB_STATE = (
    "INSERT INTO job_states (job, state, actor, at) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (job) DO UPDATE SET state = excluded.state, actor = excluded.actor, at = excluded.at"
)
_INSERT_AUDIT = 'INSERT INTO audit (at, actor, action, subject, "before", "after") VALUES (?, ?, ?, ?, ?, ?)'


def _statement(write: StoreWrite) -> tuple[str, tuple[object, ...]]:
    """The SQL statement and parameters that apply ``write``."""
    match write:
        case RecordStarted():
            return _INSERT_STARTED, (write.job, write.record_id, write.at)
        case RecordAttempt():
            return _INSERT_ATTEMPT, (
                write.job,
                write.record_id,
                write.attempt,
                write.code,
                write.agent,
                write.at,
                int(write.final),
            )
        case CallbackScheduled():
            return _INSERT_CALLBACK, (
                write.callback_id,
                write.job,
                write.record_id,
                write.due_at,
                write.owner,
                write.phone,
                write.name,
                write.at,
            )
        case CallbackDone():
            return _CALLBACK_DONE, (write.at, write.callback_id)
        case JobStateChanged():
            return _UPSERT_JOB_STATE, (write.job, write.state, write.actor, write.at)
        case AuditEntry():
            return _INSERT_AUDIT, (write.at, write.actor, write.action, write.subject, write.before, write.after)
        case _:
            raise TypeError(f"not a store write: {write!r}")


class SqliteStore(Store):
    """A :class:`Store` in an SQLite file, or in memory for ``":memory:"``.

    Args:
        path: the database file, created (with its schema) if missing; ``":memory:"`` for a throwaway store.

    Raises:
        StoreError: naming the file, if it cannot be opened, is not an SQLite database, is not an
            agt_server store, or was written by a newer agt_server (schema version above
            :data:`SCHEMA_VERSION`).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._lock = threading.Lock()
        try:
            # isolation_level=None: no implicit transactions; commit() and load() issue their own BEGIN.
            self._db: sqlite3.Connection | None = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the store {self.path}: {exc}") from exc
        try:
            self._prepare(self._db)
        except BaseException as exc:
            self._db.close()
            self._db = None
            if isinstance(exc, sqlite3.Error):
                raise StoreError(f"cannot open the store {self.path}: {exc}") from exc
            raise

    def __repr__(self) -> str:
        return f"SqliteStore({self.path!r})"

    def _prepare(self, db: sqlite3.Connection) -> None:
        """Set the pragmas, then create the schema or check its version."""
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        # journal_mode is persistent in the file; on ":memory:" it stays "memory", which is fine.
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = FULL")
        # IMMEDIATE: two processes opening a new file at once cannot both create the schema.
        db.execute("BEGIN IMMEDIATE")
        try:
            tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if "schema_version" not in tables:
                if tables - {"sqlite_sequence"}:
                    raise StoreError(
                        f"{self.path} is an SQLite database but not an agt_server store "
                        f"(it has tables {sorted(tables)} and no schema_version)"
                    )
                for statement in _SCHEMA:
                    db.execute(statement)
                db.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
            else:
                versions = [version for (version,) in db.execute("SELECT version FROM schema_version")]
                if versions != [SCHEMA_VERSION]:
                    if len(versions) == 1 and isinstance(versions[0], int) and versions[0] > SCHEMA_VERSION:
                        raise StoreError(
                            f"the store {self.path} has schema version {versions[0]}, newer than "
                            f"this agt_server understands ({SCHEMA_VERSION}): upgrade agt_server"
                        )
                    raise StoreError(f"the store {self.path} has an invalid schema version {versions!r}")
            db.execute("COMMIT")
        finally:
            if db.in_transaction:
                db.execute("ROLLBACK")

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            raise StoreClosedError(f"the store {self.path} is closed")
        return self._db

    def _error(self, doing: str, exc: sqlite3.Error) -> StoreError:
        return StoreError(f"{doing} the store {self.path} failed: {exc}")

    def load(self) -> StoredState:
        with self._lock:
            db = self._connection()
            try:
                db.execute("BEGIN")  # one snapshot for all four reads
                try:
                    done: dict[str, set[str]] = {}
                    for job, record_id in db.execute(
                        "SELECT DISTINCT job, record_id FROM record_attempts WHERE final = 1"
                    ):
                        done.setdefault(job, set()).add(record_id)
                    attempts: dict[str, dict[str, int]] = {}
                    for job, record_id, attempt in db.execute(
                        "SELECT job, record_id, MAX(attempt) FROM record_attempts GROUP BY job, record_id"
                    ):
                        attempts.setdefault(job, {})[record_id] = attempt
                    callbacks = tuple(
                        StoredCallback(*row)
                        for row in db.execute(
                            "SELECT id, job, record_id, due_at, owner, phone, name FROM callbacks"
                            " WHERE done_at IS NULL ORDER BY due_at, rowid"
                        )
                    )
                    job_states = dict(db.execute("SELECT job, state FROM job_states").fetchall())
                finally:
                    db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise self._error("loading", exc) from exc
        return StoredState(
            done={job: frozenset(records) for job, records in done.items()},
            attempts=attempts,
            callbacks=callbacks,
            job_states=job_states,
        )

    def commit(self, writes: Sequence[StoreWrite]) -> None:
        with self._lock:
            db = self._connection()
            if not writes:
                return
            statements = [_statement(write) for write in writes]
            try:
                db.execute("BEGIN IMMEDIATE")
                try:
                    # A run of writes with the same statement goes through one executemany; order is kept.
                    for sql, run in itertools.groupby(statements, key=operator.itemgetter(0)):
                        db.executemany(sql, [parameters for _, parameters in run])
                    db.execute("COMMIT")
                finally:
                    if db.in_transaction:
                        db.execute("ROLLBACK")
            except sqlite3.Error as exc:
                raise self._error(f"committing {len(writes)} writes to", exc) from exc

    def audit(self, offset: int = 0, limit: int = 100, subject: str | None = None) -> list[AuditEntry]:
        check_page(offset, limit)
        where, parameters = ("", ()) if subject is None else ("WHERE subject = ?", (subject,))
        with self._lock:
            db = self._connection()
            try:
                rows = db.execute(
                    f'SELECT at, actor, action, subject, "before", "after" FROM audit {where}'
                    " ORDER BY id DESC LIMIT ? OFFSET ?",
                    (*parameters, limit, offset),
                ).fetchall()
            except sqlite3.Error as exc:
                raise self._error("reading the audit log of", exc) from exc
        return [AuditEntry(*row) for row in rows]

    def outcomes(self, job: str | None = None) -> list[RecordAttempt]:
        where, parameters = ("", ()) if job is None else ("WHERE job = ?", (job,))
        with self._lock:
            db = self._connection()
            try:
                rows = db.execute(
                    f"SELECT job, record_id, attempt, code, agent, at, final FROM record_attempts {where} ORDER BY id",
                    parameters,
                ).fetchall()
            except sqlite3.Error as exc:
                raise self._error("reading the outcomes of", exc) from exc
        return [
            RecordAttempt(job, record_id, attempt, code, agent, at, bool(final))
            for job, record_id, attempt, code, agent, at, final in rows
        ]

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                db, self._db = self._db, None
                try:
                    db.close()
                except sqlite3.Error as exc:
                    raise self._error("closing", exc) from exc
