"""Notifications: assembling ``N`` messages into events, and the queue the reader hands them to.

Theory of operation
-------------------
A notification with data is sent as one or more ``N`` messages coded ``M00001`` ("data follows")
and ends with a message coded anything else — normally ``0 M00000``, but an event may also end on
an error (``1 E28885``), a status (``0 S28996``) or, for the greeting, ``AGENT_STARTUP``.  A message
ending with ETB (``continued``) also announces more.  Parts of different events may interleave, so
:class:`NotificationAssembler` keeps one list of parts per keyword.

The reader task must never block on a slow consumer (replies to commands travel on the same
stream), so :class:`NotificationQueue` is bounded and *drops the oldest* notification when full,
counting what it dropped.  Consumers either iterate it (``async for``) or ask for the next
notification of one keyword; notifications of other keywords are then held back, in order, for
later calls.
"""

from __future__ import annotations

import collections

import attrs
import trio

from agt_server.protocol import Message, MessageCode

from ._events import Notification

__all__ = ["DEFAULT_NOTIFICATION_CAPACITY", "NotificationAssembler", "NotificationQueue"]

#: How many notifications may wait for a consumer before the oldest is dropped.  A busy agent gets a
#: few per call; a thousand is minutes of backlog.
DEFAULT_NOTIFICATION_CAPACITY = 1000


@attrs.define(eq=False)
class NotificationAssembler:
    """Turns ``N`` messages into :class:`Notification` events (sans-IO)."""

    _parts: dict[str, list[Message]] = attrs.field(factory=dict, init=False)

    def feed(self, message: Message) -> Notification | None:
        """Add one ``N`` message; return the notification it completes, or ``None`` if more is due."""
        parts = self._parts.setdefault(message.keyword, [])
        parts.append(message)
        if message.continued or message.code == MessageCode.DATA_FOLLOWS:
            return None
        del self._parts[message.keyword]
        return Notification(keyword=message.keyword, messages=tuple(parts))

    def discard_incomplete(self) -> list[str]:
        """Forget every partly received notification; return their keywords."""
        keywords = list(self._parts)
        self._parts.clear()
        return keywords


@attrs.define(eq=False)
class NotificationQueue:
    """The client's notifications, oldest first; an async iterator that ends when the connection does.

    Attributes:
        capacity: how many notifications are kept before the oldest is dropped.
        dropped: how many notifications were dropped because nobody consumed them in time.
    """

    capacity: int = attrs.field(default=DEFAULT_NOTIFICATION_CAPACITY, validator=attrs.validators.ge(1))
    dropped: int = attrs.field(default=0, init=False)
    _send: trio.MemorySendChannel[Notification] = attrs.field(init=False)
    _receive: trio.MemoryReceiveChannel[Notification] = attrs.field(init=False)
    # Notifications taken off the channel while looking for another keyword, waiting their turn.
    _held: collections.deque[Notification] = attrs.field(factory=collections.deque, init=False)

    def __attrs_post_init__(self) -> None:
        self._send, self._receive = trio.open_memory_channel[Notification](self.capacity)

    def put(self, notification: Notification) -> bool:
        """Queue ``notification`` without blocking; when full, drop the oldest first and return ``True``."""
        dropped = False
        while True:
            try:
                self._send.send_nowait(notification)
            except trio.WouldBlock:
                self._receive.receive_nowait()
                self.dropped += 1
                dropped = True
            except (trio.ClosedResourceError, trio.BrokenResourceError):
                return dropped
            else:
                return dropped

    def close(self) -> None:
        """No more notifications will come: consumers get what is queued, then the end."""
        self._send.close()

    def __aiter__(self) -> NotificationQueue:
        return self

    async def __anext__(self) -> Notification:
        try:
            return await self.receive()
        except trio.EndOfChannel:
            raise StopAsyncIteration from None

    async def receive(self, keyword: str | None = None) -> Notification:
        """Wait for the next notification, or the next one named ``keyword``.

        Notifications of other keywords met on the way are kept, in order, for later calls.

        Raises:
            trio.EndOfChannel: the connection ended and no (matching) notification is left.
        """
        found = self._take_held(keyword)
        while found is None:
            notification = await self._receive.receive()
            if keyword is None or notification.keyword == keyword:
                found = notification
            else:
                self._hold(notification)
        return found

    def receive_nowait(self, keyword: str | None = None) -> Notification:
        """Like :meth:`receive`, but without waiting.

        Raises:
            trio.WouldBlock: no (matching) notification is queued now.
            trio.EndOfChannel: the connection ended and no (matching) notification is left.
        """
        found = self._take_held(keyword)
        while found is None:
            notification = self._receive.receive_nowait()
            if keyword is None or notification.keyword == keyword:
                found = notification
            else:
                self._hold(notification)
        return found

    def _take_held(self, keyword: str | None) -> Notification | None:
        for index, notification in enumerate(self._held):
            if keyword is None or notification.keyword == keyword:
                del self._held[index]
                return notification
        return None

    def _hold(self, notification: Notification) -> None:
        if len(self._held) >= self.capacity:
            self._held.popleft()
            self.dropped += 1
        self._held.append(notification)
