"""Tests for :class:`agt_server.store.StoreWriter`: group commit off the trio loop.

The store under the writer is a :class:`MemoryStore` that records each transaction's size and can be
slowed down, held at a gate or made to fail; one test runs the writer over a real ``SqliteStore`` file.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
import trio
import trio.testing

from agt_server.engine._writes import JobStateChanged, RecordAttempt, StoreWrite
from agt_server.store import MemoryStore, SqliteStore, StoreClosedError, StoreError, StoreWriter


def attempt(record_id: str) -> RecordAttempt:
    """A final attempt on ``record_id`` of J1."""
    return RecordAttempt("J1", record_id, 1, 20, "agent07", 100.0, True)


class SpyStore(MemoryStore):
    """A MemoryStore that records the size of each commit, and may sleep, wait at a gate, or fail first."""

    def __init__(self, *, delay: float = 0.0, fail_with: Exception | None = None) -> None:
        super().__init__()
        self.delay = delay
        self.fail_with = fail_with
        self.gate: threading.Event | None = None
        self.commits: list[int] = []

    def commit(self, writes: Sequence[StoreWrite]) -> None:
        if self.gate is not None:
            self.gate.wait(timeout=10)
        time.sleep(self.delay)
        if self.fail_with is not None:
            raise self.fail_with
        super().commit(writes)
        self.commits.append(len(writes))


class TestStoreWriter:
    async def test_grouped(self) -> None:
        """100 concurrent callers are served by far fewer commits, each returning only once its write is stored."""
        store = SpyStore(delay=0.01)
        writer = StoreWriter(store)
        returned: list[str] = []

        async def caller(record_id: str) -> None:
            await writer.commit([attempt(record_id)])
            assert attempt(record_id) in store.outcomes()
            returned.append(record_id)

        with trio.fail_after(5):
            async with trio.open_nursery() as nursery:
                await nursery.start(writer.run)
                async with trio.open_nursery() as callers:
                    for number in range(100):
                        callers.start_soon(caller, f"r{number}")
                await writer.aclose()
        assert 100 == len(returned) == sum(store.commits)
        assert len(store.commits) <= 10, store.commits

    async def test_returns_only_when_durable(self) -> None:
        """A caller is still waiting while its commit is in progress, and returns once it is done."""
        store = SpyStore()
        store.gate = threading.Event()
        writer = StoreWriter(store)
        returned = trio.Event()

        async def caller() -> None:
            await writer.commit([attempt("r1")])
            returned.set()

        with trio.fail_after(5):
            async with trio.open_nursery() as nursery:
                await nursery.start(writer.run)
                nursery.start_soon(caller)
                await trio.testing.wait_all_tasks_blocked()
                assert not returned.is_set()
                assert store.outcomes() == []
                store.gate.set()
                await returned.wait()
                assert [attempt("r1")] == store.outcomes()
                await writer.aclose()

    async def test_order(self) -> None:
        """Batches are committed in the order commit() was called, across several transactions."""
        store = SpyStore(delay=0.002)
        writer = StoreWriter(store, max_writes=8)
        submitted: list[int] = []

        async def caller(number: int) -> None:
            submitted.append(number)  # no checkpoint before commit() queues the batch
            await writer.commit([attempt(f"r{number}"), JobStateChanged("J1", f"s{number}", "sup", float(number))])

        with trio.fail_after(5):
            async with trio.open_nursery() as nursery:
                await nursery.start(writer.run)
                async with trio.open_nursery() as callers:
                    for number in range(50):
                        callers.start_soon(caller, number)
                        if number % 7 == 0:
                            await trio.sleep(0.003)
                await writer.aclose()
        assert [f"r{number}" for number in submitted] == [outcome.record_id for outcome in store.outcomes()]
        assert {"J1": f"s{submitted[-1]}"} == store.load().job_states
        assert len(store.commits) > 6  # at most 4 batches of 2 writes per transaction

    async def test_bounded_transactions(self) -> None:
        """No transaction holds more than max_writes writes, except one oversized batch committed alone and whole."""
        store = SpyStore(delay=0.005)
        writer = StoreWriter(store, max_writes=10)

        with trio.fail_after(5):
            async with trio.open_nursery() as nursery:
                await nursery.start(writer.run)
                async with trio.open_nursery() as callers:
                    for number in range(30):
                        callers.start_soon(writer.commit, [attempt(f"r{number}")])
                    callers.start_soon(writer.commit, [attempt(f"big{number}") for number in range(25)])
                await writer.aclose()
        assert sum(store.commits) == 55
        assert [size for size in store.commits if size > 10] == [25]

    async def test_failure_reaches_every_caller(self) -> None:
        """A failed commit raises StoreError (caused by the store's error) in every waiting caller, and in run()."""
        failure = OSError("disk full")
        store = SpyStore(delay=0.01, fail_with=failure)
        writer = StoreWriter(store, max_writes=5)  # so some callers are still queued behind the failed commit
        errors: list[StoreError] = []

        async def caller(number: int) -> None:
            with pytest.raises(StoreError) as caught:
                await writer.commit([attempt(f"r{number}")])
            errors.append(caught.value)

        with trio.fail_after(5), pytest.RaisesGroup(pytest.RaisesExc(OSError, match="disk full")):
            async with trio.open_nursery() as nursery:
                for number in range(20):
                    nursery.start_soon(caller, number)
                await trio.testing.wait_all_tasks_blocked()
                nursery.start_soon(writer.run)
        assert len(errors) == 20
        assert all(error.__cause__ is failure for error in errors)
        messages = sorted(str(error) for error in errors)
        assert [m for m in messages if "disk full" in m] == ["committing 5 writes failed: disk full"] * 5
        assert sum("an earlier commit failed" in message for message in messages) == 15
        assert len({id(error) for error in errors}) == 20  # each caller raised its own exception
        assert store.outcomes() == []
        with pytest.raises(StoreError, match="failed commit"):
            await writer.commit([attempt("later")])

    async def test_cancelled_run(self) -> None:
        """When run() is cancelled the commit in progress completes, and queued callers get StoreClosedError."""
        store = SpyStore()
        store.gate = threading.Event()
        writer = StoreWriter(store)
        results: dict[str, str] = {}

        async def caller(record_id: str) -> None:
            try:
                await writer.commit([attempt(record_id)])
                results[record_id] = "committed"
            except StoreClosedError:
                results[record_id] = "closed"

        with trio.fail_after(5):
            async with trio.open_nursery() as nursery:
                run_scope = trio.CancelScope()

                async def run_writer() -> None:
                    with run_scope:
                        await writer.run()

                nursery.start_soon(run_writer)
                nursery.start_soon(caller, "first")
                await trio.testing.wait_all_tasks_blocked()  # "first" is in the worker thread, held at the gate
                for number in range(5):
                    nursery.start_soon(caller, f"queued{number}")
                await trio.testing.wait_all_tasks_blocked()
                run_scope.cancel()
                store.gate.set()
        assert {"first": "committed"} | {f"queued{number}": "closed" for number in range(5)} == results
        assert [attempt("first")] == store.outcomes()
        with pytest.raises(StoreClosedError):
            await writer.commit([attempt("later")])

    async def test_aclose_commits_queued(self) -> None:
        """aclose() lets everything already queued be committed, then run() returns and new commits are refused."""
        store = SpyStore()
        store.gate = threading.Event()
        writer = StoreWriter(store)

        with trio.fail_after(5):
            async with trio.open_nursery() as nursery:
                await nursery.start(writer.run)
                for number in range(5):
                    nursery.start_soon(writer.commit, [attempt(f"r{number}")])
                await trio.testing.wait_all_tasks_blocked()
                nursery.start_soon(writer.aclose)
                await trio.testing.wait_all_tasks_blocked()
                with pytest.raises(StoreClosedError):
                    await writer.commit([attempt("late")])
                store.gate.set()
        assert {f"r{number}" for number in range(5)} == {outcome.record_id for outcome in store.outcomes()}

    async def test_aclose_without_run(self) -> None:
        """Callers queued on a writer that never ran get StoreClosedError from aclose() instead of hanging."""
        writer = StoreWriter(SpyStore())
        errors: list[StoreClosedError] = []

        async def caller() -> None:
            with pytest.raises(StoreClosedError) as caught:
                await writer.commit([attempt("r1")])
            errors.append(caught.value)

        with trio.fail_after(5):
            async with trio.open_nursery() as nursery:
                nursery.start_soon(caller)
                nursery.start_soon(caller)
                await trio.testing.wait_all_tasks_blocked()
                await writer.aclose()
        assert len(errors) == 2
        with pytest.raises(StoreClosedError):
            await writer.run()

    async def test_empty_commit(self) -> None:
        """An empty commit returns after the batches queued before it, without a transaction of its own."""
        store = SpyStore(delay=0.01)
        writer = StoreWriter(store)

        with trio.fail_after(5):
            async with trio.open_nursery() as nursery:
                await nursery.start(writer.run)
                nursery.start_soon(writer.commit, [attempt("r1")])
                await trio.testing.wait_all_tasks_blocked()
                await writer.commit([])
                assert [attempt("r1")] == store.outcomes()
                await writer.commit([])
                await writer.aclose()
        assert store.commits == [1]

    def test_max_writes_at_least_one(self) -> None:
        """A writer that could commit nothing is refused."""
        with pytest.raises(ValueError, match="max_writes"):
            StoreWriter(MemoryStore(), max_writes=0)

    async def test_over_sqlite(self, tmp_path: Path) -> None:
        """Grouped commits from a worker thread reach an SQLite file, as a reopened store shows."""
        path = tmp_path / "agt.db"
        store = SqliteStore(path)
        writer = StoreWriter(store)

        with trio.fail_after(10):
            async with trio.open_nursery() as nursery:
                await nursery.start(writer.run)
                async with trio.open_nursery() as callers:
                    for number in range(50):
                        callers.start_soon(writer.commit, [attempt(f"r{number}")])
                await writer.aclose()
        store.close()
        reopened = SqliteStore(path)
        try:
            assert frozenset(f"r{number}" for number in range(50)) == reopened.load().done["J1"]
        finally:
            reopened.close()
