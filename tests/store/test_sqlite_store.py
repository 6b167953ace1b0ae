"""Tests for :class:`agt_server.store.SqliteStore` and :class:`agt_server.store.MemoryStore`.

The shared semantics run against every store (``MemoryStore``, ``SqliteStore`` on a file and on
``":memory:"``); file handling, the schema and crash safety (a real process killed with SIGKILL) run
against ``SqliteStore`` alone.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

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
from agt_server.store import SCHEMA_VERSION, MemoryStore, SqliteStore, Store, StoreClosedError, StoreError


def attempt(
    record_id: str,
    number: int = 1,
    *,
    job: str = "J1",
    code: int = 20,
    agent: str | None = "agent07",
    at: float = 100.0,
    final: bool = True,
) -> RecordAttempt:
    """An attempt on ``record_id`` of ``job``."""
    return RecordAttempt(job, record_id, number, code, agent, at, final)


def scheduled(callback_id: str, *, due_at: float = 500.0, owner: str | None = "agent07") -> CallbackScheduled:
    """A callback on record ``r-<callback_id>`` of J1."""
    return CallbackScheduled(callback_id, "J1", f"r-{callback_id}", due_at, owner, "5551234", "Ann", 100.0)


def stored(write: CallbackScheduled) -> StoredCallback:
    """The pending callback ``load()`` should give back for ``write``."""
    return StoredCallback(
        write.callback_id, write.job, write.record_id, write.due_at, write.owner, write.phone, write.name
    )


def entry(number: int, subject: str = "agent07") -> AuditEntry:
    """The ``number``-th audit entry, about ``subject``."""
    return AuditEntry(float(number), "supervisor", "preferred_list", subject, f"before{number}", f"after{number}")


def every_kind() -> list[StoreWrite]:
    """At least one write of every type."""
    return [
        RecordStarted("J1", "r1", 90.0),
        attempt("r1", final=False, code=15, agent=None),
        attempt("r1", 2),
        scheduled("cb1"),
        scheduled("cb2", owner=None),
        CallbackDone("cb1", 120.0),
        JobStateChanged("J1", "paused", "sup", 130.0),
        entry(1),
    ]


@pytest.fixture(params=["memory", "sqlite-file", "sqlite-in-memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """Each kind of store, empty."""
    opened: Store
    if request.param == "memory":
        opened = MemoryStore()
    elif request.param == "sqlite-file":
        opened = SqliteStore(tmp_path / "agt.db")
    else:
        opened = SqliteStore(":memory:")
    yield opened
    opened.close()


class TestLoad:
    def test_empty(self, store: Store) -> None:
        """A new store loads as an empty state."""
        assert StoredState() == store.load()

    def test_final_attempt_is_done(self, store: Store) -> None:
        """A record with a final attempt is done, with its attempt counted."""
        store.commit([RecordStarted("J1", "r1", 90.0), attempt("r1")])
        assert StoredState(done={"J1": frozenset({"r1"})}, attempts={"J1": {"r1": 1}}) == store.load()

    def test_non_final_attempts(self, store: Store) -> None:
        """A record with only non-final attempts is not done, and its attempts are counted."""
        store.commit([attempt("r1", 1, final=False), attempt("r2", 1, final=False)])
        store.commit([attempt("r1", 2, final=False), attempt("r2", 2, final=False), attempt("r2", 3)])
        state = store.load()
        assert {"J1": frozenset({"r2"})} == state.done
        assert state.attempts == {"J1": {"r1": 2, "r2": 3}}

    def test_started_only(self, store: Store) -> None:
        """A record that was started but never finished is neither done nor counted, so it goes back to the queue."""
        store.commit([RecordStarted("J1", "r1", 90.0)])
        assert StoredState() == store.load()

    def test_jobs_kept_apart(self, store: Store) -> None:
        """The same record id in two jobs is two records."""
        store.commit([attempt("r1", job="J1"), attempt("r1", 1, job="J2", final=False)])
        state = store.load()
        assert {"J1": frozenset({"r1"})} == state.done
        assert state.attempts == {"J1": {"r1": 1}, "J2": {"r1": 1}}

    def test_callbacks(self, store: Store) -> None:
        """Pending callbacks come back with every field, by due time."""
        late, early = scheduled("cb1", due_at=900.0), scheduled("cb2", due_at=300.0, owner=None)
        store.commit([late, early])
        assert (stored(early), stored(late)) == store.load().callbacks

    def test_callback_done_not_returned(self, store: Store) -> None:
        """A callback marked done is no longer pending, even when scheduled in the same commit."""
        store.commit([scheduled("cb1"), scheduled("cb2")])
        store.commit([CallbackDone("cb1", 200.0), scheduled("cb3"), CallbackDone("cb3", 201.0)])
        assert (stored(scheduled("cb2")),) == store.load().callbacks

    def test_callback_done_unknown(self, store: Store) -> None:
        """Marking an unknown or already-done callback done changes nothing."""
        store.commit([scheduled("cb1"), CallbackDone("cb1", 200.0)])
        store.commit([CallbackDone("nope", 200.0), CallbackDone("cb1", 300.0)])
        assert store.load().callbacks == ()

    def test_job_states_last_wins(self, store: Store) -> None:
        """Each job's last state is kept, across and within commits."""
        store.commit([JobStateChanged("J1", "running", "system", 1.0), JobStateChanged("J2", "running", "system", 1.0)])
        store.commit([JobStateChanged("J1", "paused", "sup", 2.0), JobStateChanged("J1", "stopped", "sup", 3.0)])
        assert store.load().job_states == {"J1": "stopped", "J2": "running"}

    def test_commit_is_atomic(self, store: Store) -> None:
        """A commit with a duplicate attempt fails with StoreError and applies none of its writes."""
        store.commit([attempt("r1")])
        before = store.load()
        with pytest.raises(StoreError):
            store.commit([entry(1), attempt("r2"), JobStateChanged("J1", "paused", "sup", 2.0), attempt("r1")])
        assert before == store.load()
        assert store.audit() == []
        assert [attempt("r1")] == store.outcomes()

    def test_duplicate_callback(self, store: Store) -> None:
        """Scheduling a callback id twice, even within one commit, fails and applies nothing."""
        with pytest.raises(StoreError):
            store.commit([scheduled("cb1"), scheduled("cb1", due_at=1.0)])
        assert store.load().callbacks == ()

    def test_not_a_write(self, store: Store) -> None:
        """Something that is not a store write is a TypeError, and nothing of the commit is applied."""
        with pytest.raises(TypeError, match="not a store write"):
            store.commit([attempt("r1"), "bogus"])  # type: ignore[list-item]
        assert StoredState() == store.load()

    def test_empty_commit(self, store: Store) -> None:
        """Committing nothing changes nothing."""
        store.commit([])
        assert StoredState() == store.load()

    def test_closed(self, store: Store) -> None:
        """Every call after close raises StoreClosedError; closing again is harmless."""
        store.close()
        store.close()
        with pytest.raises(StoreClosedError):
            store.load()
        with pytest.raises(StoreClosedError):
            store.commit([attempt("r1")])
        with pytest.raises(StoreClosedError):
            store.audit()
        with pytest.raises(StoreClosedError):
            store.outcomes()


class TestOutcomes:
    def test_oldest_first(self, store: Store) -> None:
        """Every finished attempt comes back with every field, in commit order (not by time)."""
        first = [attempt("r1", final=False, code=15, agent=None, at=200.0), attempt("r2", at=150.5)]
        second = [attempt("r1", 2, code=33, at=100.25)]
        store.commit(first)
        store.commit([RecordStarted("J1", "r3", 1.0), *second])
        assert [*first, *second] == store.outcomes()

    def test_by_job(self, store: Store) -> None:
        """Outcomes can be limited to one job."""
        store.commit([attempt("r1", job="J1"), attempt("r1", job="J2"), attempt("r2", job="J1")])
        assert [attempt("r1", job="J2")] == store.outcomes("J2")
        assert [attempt("r1"), attempt("r2")] == store.outcomes("J1")
        assert store.outcomes("J3") == []


class TestAudit:
    def test_newest_first(self, store: Store) -> None:
        """The audit log comes back newest first, every field intact, across commits."""
        store.commit([entry(1), entry(2)])
        store.commit([entry(3)])
        assert [entry(3), entry(2), entry(1)] == store.audit()

    def test_same_time_by_insertion(self, store: Store) -> None:
        """Entries with the same time are ordered by when they were appended."""
        second = AuditEntry(5.0, "sup", "job_pause", "J1", "", "")
        store.commit([AuditEntry(5.0, "sup", "job_resume", "J1", "", ""), second])
        assert second == store.audit()[0]

    def test_paged(self, store: Store) -> None:
        """``offset`` and ``limit`` select one page of the newest-first log."""
        store.commit([entry(number) for number in range(25)])
        assert [entry(14), entry(13), entry(12), entry(11), entry(10)] == store.audit(offset=10, limit=5)
        assert [entry(1), entry(0)] == store.audit(offset=23, limit=5)
        assert store.audit(offset=25) == []
        assert store.audit(limit=0) == []
        assert len(store.audit(limit=1000)) == 25
        assert len(store.audit(limit=10)) == 10

    def test_by_subject(self, store: Store) -> None:
        """``subject`` keeps only the entries about it, still newest first and paged."""
        store.commit([entry(number, "agent07" if number % 2 else "J1") for number in range(10)])
        assert [entry(9), entry(7), entry(5), entry(3), entry(1)] == store.audit(subject="agent07")
        assert [entry(6, "J1"), entry(4, "J1")] == store.audit(offset=1, limit=2, subject="J1")
        assert store.audit(subject="nobody") == []

    def test_append_only(self, store: Store) -> None:
        """Later commits only add entries: every earlier one is still there, unchanged."""
        store.commit([entry(1), entry(2)])
        store.commit([entry(3), attempt("r1"), JobStateChanged("J1", "paused", "sup", 4.0)])
        assert [entry(1), entry(2), entry(3)] == store.audit()[::-1]

    @pytest.mark.parametrize(("offset", "limit"), [(-1, 10), (0, -1)])
    def test_negative_page(self, store: Store, offset: int, limit: int) -> None:
        """A negative offset or limit is a ValueError."""
        with pytest.raises(ValueError, match="negative"):
            store.audit(offset=offset, limit=limit)


class TestSqliteFile:
    def test_reopen(self, tmp_path: Path) -> None:
        """A reopened file gives back everything that was committed."""
        path = tmp_path / "agt.db"
        store = SqliteStore(path)
        store.commit(every_kind())
        store.commit([entry(2, "J1"), attempt("r9", job="J2", final=False)])
        expected = (store.load(), store.audit(), store.outcomes())
        store.close()
        reopened = SqliteStore(str(path))
        try:
            assert expected == (reopened.load(), reopened.audit(), reopened.outcomes())
            assert (
                StoredState(
                    done={"J1": frozenset({"r1"})},
                    attempts={"J1": {"r1": 2}, "J2": {"r9": 1}},
                    callbacks=(stored(scheduled("cb2", owner=None)),),
                    job_states={"J1": "paused"},
                )
                == expected[0]
            )
        finally:
            reopened.close()

    def test_durability_settings(self, tmp_path: Path) -> None:
        """A file is in WAL mode with synchronous=FULL."""
        store = SqliteStore(tmp_path / "agt.db")
        try:
            assert store._db.execute("PRAGMA synchronous").fetchone() == (2,)  # type: ignore[union-attr]  # FULL
            with sqlite3.connect(tmp_path / "agt.db") as other:
                assert other.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        finally:
            store.close()

    def test_schema_version(self, tmp_path: Path) -> None:
        """A new file records schema version 1."""
        SqliteStore(tmp_path / "agt.db").close()
        with sqlite3.connect(tmp_path / "agt.db") as other:
            assert other.execute("SELECT version FROM schema_version").fetchall() == [(1,)]
        assert SCHEMA_VERSION == 1

    def test_newer_version(self, tmp_path: Path) -> None:
        """A file of a newer schema version is refused with an error naming the file and the version."""
        path = tmp_path / "agt.db"
        SqliteStore(path).close()
        with sqlite3.connect(path) as other:
            other.execute("UPDATE schema_version SET version = 7")
        other.close()
        with pytest.raises(StoreError, match=r"agt\.db has schema version 7, newer"):
            SqliteStore(path)

    def test_corrupt_file(self, tmp_path: Path) -> None:
        """A file that is not an SQLite database gives a StoreError naming it."""
        path = tmp_path / "garbage.db"
        path.write_bytes(b"this is not a database, just some text " * 200)
        with pytest.raises(StoreError, match=r"garbage\.db"):
            SqliteStore(path)

    @pytest.mark.parametrize("name", [".", "missing/agt.db"])
    def test_unopenable(self, tmp_path: Path, name: str) -> None:
        """A directory, or a file in a missing directory, gives a StoreError naming the path."""
        path = tmp_path / name
        with pytest.raises(StoreError, match="cannot open the store") as caught:
            SqliteStore(path)
        assert str(path) in str(caught.value)

    def test_foreign_database(self, tmp_path: Path) -> None:
        """An SQLite database that is not an agt_server store is refused, not written to."""
        path = tmp_path / "other.db"
        with sqlite3.connect(path) as other:
            other.execute("CREATE TABLE customers (name TEXT)")
        other.close()
        with pytest.raises(StoreError, match=r"other\.db is an SQLite database but not an agt_server store"):
            SqliteStore(path)
        with sqlite3.connect(path) as other:
            assert other.execute("SELECT name FROM sqlite_master").fetchall() == [("customers",)]
        other.close()

    def test_audit_rows_cannot_change(self, tmp_path: Path) -> None:
        """The file itself refuses updates and deletes of audit rows."""
        store = SqliteStore(tmp_path / "agt.db")
        store.commit([entry(1)])
        store.close()
        other = sqlite3.connect(tmp_path / "agt.db")
        try:
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                other.execute("UPDATE audit SET actor = 'mallory'")
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                other.execute("DELETE FROM audit")
        finally:
            other.close()
        reopened = SqliteStore(tmp_path / "agt.db")
        assert [entry(1)] == reopened.audit()
        reopened.close()

    def test_other_threads(self, tmp_path: Path) -> None:
        """Commits from worker threads and reads from this one share the store."""
        store = SqliteStore(tmp_path / "agt.db")
        errors: list[BaseException] = []

        def commit_some(worker: int) -> None:
            try:
                for number in range(20):
                    store.commit([attempt(f"w{worker}-{number}")])
            except BaseException as exc:  # reported below: a thread's exception would be lost
                errors.append(exc)

        threads = [threading.Thread(target=commit_some, args=(worker,)) for worker in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        try:
            assert errors == []
            assert len(store.load().done["J1"]) == 80
        finally:
            store.close()


# The child commits batches of three final attempts in a loop and prints each batch's number only
# after commit() has returned, i.e. once the store claims the batch is durable.  In lockstep it then
# waits for a line on stdin before the next batch, so it can be killed right after a reported commit.
CHILD = textwrap.dedent(
    """
    import sys
    from agt_server.engine._writes import RecordAttempt
    from agt_server.store import SqliteStore

    store = SqliteStore(sys.argv[1])
    lockstep = sys.argv[2] == "lockstep"
    batch = 0
    while True:
        store.commit([RecordAttempt("crash", f"{batch}-{part}", 1, 20, None, float(batch), True) for part in range(3)])
        print(batch, flush=True)
        if lockstep:
            sys.stdin.readline()
        batch += 1
    """
)


def batches_in(path: Path) -> dict[int, int]:
    """How many of each batch's three attempts the store at ``path`` holds."""
    store = SqliteStore(path)
    try:
        parts: dict[int, int] = {}
        for outcome in store.outcomes("crash"):
            batch = int(outcome.record_id.split("-")[0])
            parts[batch] = parts.get(batch, 0) + 1
        return parts
    finally:
        store.close()


class TestCrashSafety:
    @staticmethod
    def start_child(path: Path, mode: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-c", CHILD, str(path), mode],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    @staticmethod
    def read_batch(child: subprocess.Popen[str]) -> int:
        assert child.stdout is not None
        line = child.stdout.readline()
        if not line:
            child.kill()
            pytest.fail(f"the child ended early: {child.communicate(timeout=5)[1]}")
        return int(line)

    def test_sigkill_after_commit(self, tmp_path: Path) -> None:
        """A process killed with SIGKILL right after commit() returned loses none of the batches it committed."""
        path = tmp_path / "crash.db"
        with self.start_child(path, "lockstep") as child:
            assert child.stdin is not None
            try:
                for expected in range(7):
                    assert expected == self.read_batch(child)
                    if expected < 6:
                        child.stdin.write("\n")
                        child.stdin.flush()
                child.send_signal(signal.SIGKILL)  # the child is waiting on stdin, after committing batch 6
                assert child.wait(timeout=5) == -signal.SIGKILL
            finally:
                child.kill()
        assert dict.fromkeys(range(7), 3) == batches_in(path)

    def test_sigkill_while_committing(self, tmp_path: Path) -> None:
        """A process killed with SIGKILL at any moment loses no batch it reported, and leaves no batch in part."""
        path = tmp_path / "crash.db"
        with self.start_child(path, "free") as child:
            assert child.stdout is not None
            try:
                reported = [self.read_batch(child) for _ in range(30)]
                child.send_signal(signal.SIGKILL)
                assert child.wait(timeout=5) == -signal.SIGKILL
                # Lines printed between our last read and the kill were reported too.
                reported += [int(line) for line in child.stdout.read().split()]
            finally:
                child.kill()
        parts = batches_in(path)
        assert list(range(len(reported))) == reported
        assert set(reported) <= parts.keys()
        assert all(count == 3 for count in parts.values()), "a batch was committed in part"
        assert sorted(parts) == list(range(len(parts)))
