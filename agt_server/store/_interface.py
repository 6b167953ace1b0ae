"""What a store promises (:class:`Store`), its errors, and :class:`MemoryStore` for throwaway runs and tests.

A store keeps what the engine asks to be made durable (the ``StoreWrite`` values of
``agt_server.engine._writes``) and gives it back as a :class:`StoredState` at start.  Its methods are
synchronous and may block on the disk: the async shell calls them off the trio loop (``StoreWriter``
does that for commits).  Every implementation must be safe to call from any thread.

The semantics every store shares (:class:`MemoryStore` is the executable reference):

* ``commit(writes)`` applies the writes in order, all or nothing, and is durable when it returns.
  Recording the same attempt of a record twice (same job, record and attempt number) or scheduling two
  callbacks with the same id is a bug in the caller: the whole commit fails with :class:`StoreError`
  and nothing of it is applied.  ``CallbackDone`` for an unknown or already-done callback is a no-op.
* ``load()`` gives: *done* — the records with a final attempt; *attempts* — the highest attempt number
  recorded per record; *callbacks* — the ones not done yet, by due time then scheduling order;
  *job_states* — the last state of each job.  A ``RecordStarted`` alone changes none of these: a record
  that was in progress is simply not done, so the engine puts it back in the queue.
* ``audit()`` is newest first; the audit log is append-only.
* After ``close()`` every other method raises :class:`StoreClosedError`; ``close()`` itself is idempotent.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Protocol

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

__all__ = ["MemoryStore", "Store", "StoreClosedError", "StoreError"]


class StoreError(Exception):
    """The store cannot do what was asked: the file is unreadable, corrupt, too new, or a commit failed."""


class StoreClosedError(StoreError):
    """The store (or its writer) was closed before, or while, the operation was asked for."""


class Store(Protocol):
    """Durable storage of the engine's store writes."""

    def load(self) -> StoredState:
        """What the engine resumes from; called once at start.

        Raises:
            StoreError: the store cannot be read.
        """
        ...

    def commit(self, writes: Sequence[StoreWrite]) -> None:
        """Apply ``writes`` in order in one transaction; they are durable when this returns.

        Raises:
            StoreError: nothing of ``writes`` was applied.
        """
        ...

    def audit(self, offset: int = 0, limit: int = 100, subject: str | None = None) -> list[AuditEntry]:
        """The audit log, newest first: ``limit`` entries after skipping ``offset``, only ``subject``'s if given.

        Raises:
            ValueError: ``offset`` or ``limit`` is negative.
        """
        ...

    def outcomes(self, job: str | None = None) -> list[RecordAttempt]:
        """Every finished attempt, oldest first (in commit order), only ``job``'s if given."""
        ...

    def close(self) -> None:
        """Release the store's resources; later calls raise :class:`StoreClosedError`."""
        ...


def check_page(offset: int, limit: int) -> None:
    """Reject a negative page offset or size."""
    if offset < 0 or limit < 0:
        raise ValueError(f"offset and limit must not be negative, not {offset!r} and {limit!r}")


class MemoryStore(Store):
    """A store in plain dicts: the same semantics as ``SqliteStore``, gone when the process ends."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._closed = False
        self._started: list[RecordStarted] = []
        self._attempts: list[RecordAttempt] = []
        self._attempt_keys: set[tuple[str, str, int]] = set()
        # callback id -> (callback, done_at); dicts keep insertion order, i.e. scheduling order.
        self._callbacks: dict[str, tuple[StoredCallback, float | None]] = {}
        self._job_states: dict[str, JobStateChanged] = {}
        self._audit: list[AuditEntry] = []

    def _check_open(self) -> None:
        if self._closed:
            raise StoreClosedError("the memory store is closed")

    def load(self) -> StoredState:
        with self._lock:
            self._check_open()
            done: dict[str, set[str]] = {}
            attempts: dict[str, dict[str, int]] = {}
            for write in self._attempts:
                per_job = attempts.setdefault(write.job, {})
                per_job[write.record_id] = max(per_job.get(write.record_id, 0), write.attempt)
                if write.final:
                    done.setdefault(write.job, set()).add(write.record_id)
            pending = [callback for callback, done_at in self._callbacks.values() if done_at is None]
            return StoredState(
                done={job: frozenset(records) for job, records in done.items()},
                attempts=attempts,
                callbacks=tuple(sorted(pending, key=lambda callback: callback.due_at)),  # stable: ties by scheduling
                job_states={job: change.state for job, change in self._job_states.items()},
            )

    def commit(self, writes: Sequence[StoreWrite]) -> None:
        with self._lock:
            self._check_open()
            self._validate(writes)
            for write in writes:
                self._apply(write)

    def _validate(self, writes: Sequence[StoreWrite]) -> None:
        """Raise before anything is applied if a write would fail, so a commit is all or nothing."""
        attempt_keys: set[tuple[str, str, int]] = set()
        callback_ids: set[str] = set()
        for write in writes:
            if isinstance(write, RecordAttempt):
                key = (write.job, write.record_id, write.attempt)
                if key in self._attempt_keys or key in attempt_keys:
                    raise StoreError(
                        f"attempt {write.attempt} of record {write.record_id!r} of job {write.job!r} "
                        "is already recorded"
                    )
                attempt_keys.add(key)
            elif isinstance(write, CallbackScheduled):
                if write.callback_id in self._callbacks or write.callback_id in callback_ids:
                    raise StoreError(f"callback {write.callback_id!r} is already scheduled")
                callback_ids.add(write.callback_id)
            elif not isinstance(write, RecordStarted | CallbackDone | JobStateChanged | AuditEntry):
                raise TypeError(f"not a store write: {write!r}")

    def _apply(self, write: StoreWrite) -> None:
        match write:
            case RecordStarted():
                self._started.append(write)
            case RecordAttempt():
                self._attempts.append(write)
                self._attempt_keys.add((write.job, write.record_id, write.attempt))
            case CallbackScheduled():
                callback = StoredCallback(
                    write.callback_id, write.job, write.record_id, write.due_at, write.owner, write.phone, write.name
                )
                self._callbacks[write.callback_id] = (callback, None)
            case CallbackDone():
                entry = self._callbacks.get(write.callback_id)
                if entry is not None and entry[1] is None:
                    self._callbacks[write.callback_id] = (entry[0], write.at)
            case JobStateChanged():
                self._job_states[write.job] = write
            case AuditEntry():
                self._audit.append(write)

    def audit(self, offset: int = 0, limit: int = 100, subject: str | None = None) -> list[AuditEntry]:
        check_page(offset, limit)
        with self._lock:
            self._check_open()
            entries = [entry for entry in reversed(self._audit) if subject is None or entry.subject == subject]
            return entries[offset : offset + limit]

    def outcomes(self, job: str | None = None) -> list[RecordAttempt]:
        with self._lock:
            self._check_open()
            return [write for write in self._attempts if job is None or write.job == job]

    def close(self) -> None:
        with self._lock:
            self._closed = True
