"""The connection outbox keeps the memory-channel semantics the shell relies on (agt_server/server/_outbox.py)."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from agt_server.server._outbox import Outbox


async def test_hand_off_capacity_and_close() -> None:
    """An item sent to a waiting writer is handed over; ``capacity`` more queue behind it, then WouldBlock;
    after close, sending fails and the writer still gets everything queued, then EndOfChannel."""
    box: Outbox[int] = Outbox(2)
    got: list[int | str] = []

    async def writer() -> None:
        while True:
            try:
                got.append(await box.receive())
            except trio.EndOfChannel:
                got.append("end")
                return

    async with trio.open_nursery() as nursery:
        nursery.start_soon(writer)
        await trio.testing.wait_all_tasks_blocked()
        box.send_nowait(1)  # handed straight to the waiting writer
        box.send_nowait(2)
        box.send_nowait(3)
        with pytest.raises(trio.WouldBlock):
            box.send_nowait(4)
        assert len(box) == 2
        await trio.testing.wait_all_tasks_blocked()
        assert got == [1, 2, 3]
        box.send_nowait(5)
        box.close()
        with pytest.raises(trio.ClosedResourceError):
            box.send_nowait(6)
    assert got == [1, 2, 3, 5, "end"]


async def test_cancelled_receive_loses_nothing() -> None:
    """A writer cancelled while waiting leaves the outbox usable; the next item is not lost."""
    box: Outbox[str] = Outbox(4)
    with trio.move_on_after(0.01):
        await box.receive()
    box.send_nowait("a")
    assert await box.receive() == "a"


async def test_one_receiver_at_a_time() -> None:
    """A second task receiving while one waits is a bug in the shell: BusyResourceError."""
    box: Outbox[str] = Outbox(4)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(box.receive)
        await trio.testing.wait_all_tasks_blocked()
        with pytest.raises(trio.BusyResourceError):
            await box.receive()
        nursery.cancel_scope.cancel()


async def test_close_wakes_the_waiting_writer() -> None:
    """Closing an empty outbox ends the writer's wait with EndOfChannel."""
    box: Outbox[str] = Outbox(4)
    ended = trio.Event()

    async def writer() -> None:
        with pytest.raises(trio.EndOfChannel):
            await box.receive()
        ended.set()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(writer)
        await trio.testing.wait_all_tasks_blocked()
        box.close()
    assert ended.is_set()


async def test_receive_after_close_drains_then_ends() -> None:
    """Items queued before close are received in order before EndOfChannel."""
    box: Outbox[int] = Outbox(4)
    for item in (1, 2, 3):
        box.send_nowait(item)
    box.close()
    assert [await box.receive() for _ in range(3)] == [1, 2, 3]
    with pytest.raises(trio.EndOfChannel):
        await box.receive()
