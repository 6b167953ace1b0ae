"""A connection's outbox: a bounded queue from the engine driver to the connection's one writer task.

A ``trio`` memory channel did this job until ten thousand idle agents showed what it costs to keep one
per connection: the channel's state, its two ends and the writer parked in ``receive()`` come to
3.3 KB per idle connection, a third of the 10 KB budget (benchmarks/scale.py).  This is the part of a
channel an outbox uses (one producer that never waits, one consumer, a bound, close), built from
trio's low-level parking primitives: 0.9 KB idle (most of it the writer's parked coroutines).  A
hand-off costs what a channel's does; counting the backlog is a ``len()`` instead of building a
statistics object (0.7 µs, twice per message).

The semantics are a memory channel's where the shell relies on them: ``send_nowait`` raises
:class:`trio.WouldBlock` when the queue is full and :class:`trio.ClosedResourceError` once closed;
an item sent while the writer waits is handed to it directly, so ``capacity`` items can queue behind
it; ``receive`` raises :class:`trio.EndOfChannel` once the outbox is closed and empty.
"""

from __future__ import annotations

from typing import Generic, TypeVar

import attrs
import trio

__all__ = ["Outbox"]

T = TypeVar("T")


@attrs.define(eq=False)
class Outbox(Generic[T]):
    """A bounded FIFO with one consumer task.

    Args:
        capacity: how many items may wait (besides one already handed to a waiting consumer).
    """

    capacity: int
    #: a list, not a deque: an empty deque is 0.6 KB and an empty list 56 bytes; the list is short
    #: (at most ``capacity``), so popping its first item costs nothing to speak of
    _items: list[T] = attrs.Factory(list)
    #: the consumer, while it waits in :meth:`receive`
    _waiter: trio.lowlevel.Task | None = None
    #: an item sent while the consumer waited, for it to take when it wakes up
    _handed: T | None = None
    _closed: bool = False

    def __len__(self) -> int:
        """Items waiting (not counting one handed to the consumer)."""
        return len(self._items)

    def send_nowait(self, item: T) -> None:
        """Queue ``item``, or hand it straight to the waiting consumer.

        Raises:
            trio.WouldBlock: ``capacity`` items are already waiting.
            trio.ClosedResourceError: the outbox is closed.
        """
        if self._closed:
            raise trio.ClosedResourceError("the outbox is closed")
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            self._handed = item
            trio.lowlevel.reschedule(waiter)
            return
        if len(self._items) >= self.capacity:
            raise trio.WouldBlock
        self._items.append(item)

    async def receive(self) -> T:
        """The next item, waiting for one if need be.

        Only a checkpoint when it has to wait or is cancelled: its caller (the writer) sends what it
        gets, and the send is the schedule point.

        Raises:
            trio.EndOfChannel: the outbox is closed and every item has been received.
            trio.BusyResourceError: another task is already waiting in ``receive``.
        """
        await trio.lowlevel.checkpoint_if_cancelled()
        if self._items:
            return self._items.pop(0)
        if self._closed:
            raise trio.EndOfChannel
        if self._waiter is not None:
            raise trio.BusyResourceError("another task is already receiving from this outbox")
        self._waiter = trio.lowlevel.current_task()
        await trio.lowlevel.wait_task_rescheduled(self._abort)
        item, self._handed = self._handed, None
        if item is None:  # woken by close()
            raise trio.EndOfChannel
        return item

    def close(self) -> None:
        """Take no more items; the consumer still receives those already queued."""
        self._closed = True
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            trio.lowlevel.reschedule(waiter)

    def _abort(self, _: object) -> trio.lowlevel.Abort:
        self._waiter = None
        return trio.lowlevel.Abort.SUCCEEDED
