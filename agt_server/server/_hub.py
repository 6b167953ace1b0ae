"""The event hub: every agent, preference, assignment and campaign change, fanned out to subscribers.

The supervisors' live feed (``GET /api/v1/events``, Server-Sent Events) and the dashboard read from
here.  Each event gets an increasing id; the last :data:`BACKLOG` are kept so that a client that
reconnects with ``Last-Event-ID`` gets what it missed.  Publishing never waits: a subscriber whose
buffer is full is dropped (it reconnects and resumes from its last id), so a slow browser never slows
the engine.
"""

from __future__ import annotations

import datetime
from collections import deque
from collections.abc import Mapping

import attrs
import trio

__all__ = ["BACKLOG", "Event", "EventHub", "Subscription"]

#: Events kept for clients that reconnect.
BACKLOG = 10_000
#: Events a subscriber may have waiting before it is dropped.
SUBSCRIBER_BUFFER = 1024


@attrs.frozen
class Event:
    """One published event: its id, its type (``agent``, ``campaign``, …) and its JSON-able data."""

    id: int
    type: str
    data: Mapping[str, object]


@attrs.define(eq=False)
class Subscription:
    """A subscriber's end: iterate ``events``; ``close()`` when done."""

    events: trio.MemoryReceiveChannel[Event]
    _hub: EventHub
    _send: trio.MemorySendChannel[Event]

    def close(self) -> None:
        """Stop receiving events."""
        self._hub.unsubscribe(self._send)


@attrs.define(eq=False)
class EventHub:
    """Publish events to every subscriber; keep a backlog for resumption."""

    _backlog: deque[Event] = attrs.Factory(lambda: deque(maxlen=BACKLOG))
    _subscribers: set[trio.MemorySendChannel[Event]] = attrs.Factory(set)
    _last_id: int = 0
    _closed: bool = False

    @property
    def last_id(self) -> int:
        """The id of the newest event (0 before any)."""
        return self._last_id

    @property
    def subscribers(self) -> int:
        """How many subscribers are connected."""
        return len(self._subscribers)

    def publish(self, type_: str, data: Mapping[str, object]) -> Event:
        """Record an event and hand it to every subscriber (dropping the ones that are full)."""
        self._last_id += 1
        stamped = {"time": datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds"), **data}
        event = Event(self._last_id, type_, stamped)
        self._backlog.append(event)
        for subscriber in list(self._subscribers):
            try:
                subscriber.send_nowait(event)
            except (trio.WouldBlock, trio.BrokenResourceError, trio.ClosedResourceError):
                self.unsubscribe(subscriber)
        return event

    def subscribe(self, after: int | None = None) -> Subscription:
        """A new subscription; with ``after``, the kept events newer than that id come first.

        After :meth:`close` the subscription ends at once (the server is shutting down).
        """
        # Room for the replayed backlog on top of the live buffer.
        size = SUBSCRIBER_BUFFER + (BACKLOG if after is not None else 0)
        send, receive = trio.open_memory_channel[Event](size)
        if self._closed:
            send.close()
            return Subscription(receive, self, send)
        if after is not None:
            for event in self._backlog:
                if event.id > after:
                    send.send_nowait(event)
        self._subscribers.add(send)
        return Subscription(receive, self, send)

    def unsubscribe(self, send: trio.MemorySendChannel[Event]) -> None:
        """Drop a subscriber; its iterator ends."""
        if send in self._subscribers:
            self._subscribers.discard(send)
            send.close()

    def close(self) -> None:
        """End every subscription, and any made later (at shutdown, so open event streams finish cleanly)."""
        self._closed = True
        for subscriber in list(self._subscribers):
            self.unsubscribe(subscriber)
