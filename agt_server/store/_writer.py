"""Commits off the trio loop, grouped: many callers' writes made durable by one fsync.

Theory of operation
-------------------
A durable commit costs an fsync — milliseconds — and must not block the trio loop, so it runs in a
worker thread.  Committing each caller's batch in its own transaction would cap the server at a few
hundred acknowledgements per second; instead :meth:`StoreWriter.commit` only queues the caller's
batch and waits on the batch's own :class:`trio.Event`, and one task, :meth:`StoreWriter.run`, takes
everything queued so far (up to :data:`MAX_WRITES_PER_COMMIT` writes), commits it in ONE transaction
in a worker thread, and wakes every caller of the group.  While that commit runs, new batches pile up
and go together in the next one: the busier the server, the bigger the groups ("group commit").

Guarantees:

* A caller returns only after its writes are durable; batches are committed in the order
  :meth:`~StoreWriter.commit` was called, and one batch is never split across transactions (a batch
  larger than the limit is committed alone).
* If a commit fails, every caller of its group gets a :class:`StoreError` whose ``__cause__`` is the
  store's exception, and the writer stops — fail-stop: later batches may depend on the lost ones
  (a callback done after being scheduled), so nothing more is committed.  Batches still queued and
  later calls get a :class:`StoreError` too, and :meth:`~StoreWriter.run` re-raises the failure, so
  the server stops rather than acknowledge what it cannot store.
* :meth:`~StoreWriter.aclose` commits what was already queued, then stops :meth:`~StoreWriter.run`;
  if ``run`` is cancelled instead (or was never started), queued callers get a
  :class:`StoreClosedError`.  Nobody is left waiting either way.
* A caller cancelled while waiting does not withdraw its batch: it may still be committed.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

import attrs
import trio

from agt_server.engine._writes import StoreWrite

from ._interface import Store, StoreClosedError, StoreError

__all__ = ["MAX_WRITES_PER_COMMIT", "StoreWriter"]

#: The most writes grouped into one transaction, which bounds the memory and the time of one commit
#: (10,000 small rows commit in a few tens of milliseconds).
MAX_WRITES_PER_COMMIT = 10_000


@attrs.define(eq=False)
class _Batch:
    """One caller's writes and how their commit ended."""

    writes: tuple[StoreWrite, ...]
    done: trio.Event = attrs.Factory(trio.Event)
    error: StoreError | None = None

    def succeed(self) -> None:
        self.done.set()

    def fail(self, error: StoreError) -> None:
        if not self.done.is_set():
            self.error = error
            self.done.set()


class StoreWriter:
    """Makes store writes durable without blocking the trio loop, grouping concurrent commits.

    Start :meth:`run` in a nursery (``await nursery.start(writer.run)``), then call :meth:`commit`
    from any task.

    Args:
        store: the store to commit to; its ``commit`` is called in a worker thread.
        max_writes: the most writes grouped into one transaction.
    """

    def __init__(self, store: Store, *, max_writes: int = MAX_WRITES_PER_COMMIT) -> None:
        if max_writes < 1:
            raise ValueError(f"max_writes must be at least 1, not {max_writes!r}")
        self.store = store
        self._max_writes = max_writes
        self._pending: deque[_Batch] = deque()
        self._wakeup = trio.Event()
        self._running = False
        self._closing = False
        self._failure: BaseException | None = None
        self._stopped = trio.Event()

    async def commit(self, writes: Sequence[StoreWrite]) -> None:
        """Return once ``writes`` are durable (committed in one transaction, after every earlier batch).

        An empty ``writes`` still waits for every earlier batch: a barrier.

        Raises:
            StoreError: the commit failed (``__cause__`` is the store's exception), or an earlier one did.
            StoreClosedError: the writer was closed or stopped before the writes were committed.
        """
        self._check_accepting()
        batch = _Batch(tuple(writes))
        self._pending.append(batch)
        self._wakeup.set()
        await batch.done.wait()
        if batch.error is not None:
            # A fresh exception per caller: one instance raised in many tasks would pile up their tracebacks.
            raise type(batch.error)(*batch.error.args) from batch.error.__cause__

    def _check_accepting(self) -> None:
        if self._failure is not None:
            raise StoreError("the store writer stopped after a failed commit") from self._failure
        if self._closing:
            raise StoreClosedError("the store writer is closed")

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Commit queued batches until :meth:`aclose`; start it once, in a nursery.

        Raises:
            Exception: whatever the store's ``commit`` raised (after failing every waiting caller).
        """
        if self._running:
            raise RuntimeError("StoreWriter.run is already running")
        self._check_accepting()
        self._running = True
        group: list[_Batch] = []
        try:
            task_status.started()
            while True:
                if not self._pending:
                    if self._closing:
                        return
                    self._wakeup = trio.Event()
                    await self._wakeup.wait()
                    continue
                group = self._take_group()
                writes = [write for batch in group for write in batch.writes]
                if writes:
                    try:
                        # Not abandoned on cancel: a commit in progress finishes and its callers hear of it.
                        await trio.to_thread.run_sync(self.store.commit, writes)
                    except Exception as exc:
                        self._failure = exc
                        error = StoreError(f"committing {len(writes)} writes failed: {exc}")
                        error.__cause__ = exc
                        for batch in group:
                            batch.fail(error)
                        raise
                for batch in group:
                    batch.succeed()
        finally:
            self._running = False
            self._closing = True
            if self._failure is not None:
                error = StoreError("not committed: an earlier commit failed and the store writer stopped")
                error.__cause__ = self._failure
            else:
                error = StoreClosedError("not committed: the store writer stopped")
            for batch in (*group, *self._pending):
                batch.fail(error)  # a no-op for batches already answered
            self._pending.clear()
            self._stopped.set()

    def _take_group(self) -> list[_Batch]:
        """The oldest queued batches, as many as fit in one transaction (always at least one)."""
        group = [self._pending.popleft()]
        size = len(group[0].writes)
        while self._pending and size + len(self._pending[0].writes) <= self._max_writes:
            batch = self._pending.popleft()
            group.append(batch)
            size += len(batch.writes)
        return group

    async def aclose(self) -> None:
        """Refuse new commits, commit those already queued, and stop :meth:`run`.

        If :meth:`run` is not running, queued callers get a :class:`StoreClosedError` instead.
        """
        self._closing = True
        if self._running:
            self._wakeup.set()
            await self._stopped.wait()
            return
        error = StoreClosedError("not committed: the store writer was closed before it ran")
        for batch in self._pending:
            batch.fail(error)
        self._pending.clear()
        await trio.lowlevel.checkpoint()
