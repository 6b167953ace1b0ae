"""The live event stream: Server-Sent Events from the driver's event hub.

Each event is ``id: <n>``, ``event: agent|campaign``, ``data: <json>``.  A client that reconnects with
``Last-Event-ID`` (or ``?last_event_id=``) first gets the kept events after that id.  A comment line
every :data:`HEARTBEAT_SECONDS` keeps proxies from closing a quiet stream.  The stream ends when the
client goes away (Starlette cancels the generator; the subscription is closed in ``finally``) or when
the hub closes at shutdown (the subscription's channel ends after its last event).

A supervisor sees the agent events of its groups only; campaign events go to everyone.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

import msgspec
import trio
from starlette.responses import Response, StreamingResponse

from ._auth import Access
from ._handling import Context
from ._models import EventsQuery
from ._openapi import HeaderParameter, Registry
from ._problems import ProblemError

if TYPE_CHECKING:
    from agt_server.server import Event, Subscription

__all__ = ["HEARTBEAT_SECONDS", "api"]

api = Registry()

#: Seconds between keep-alive comments on a quiet stream.
HEARTBEAT_SECONDS = 15.0
#: Tells EventSource how soon to reconnect after the stream ends (milliseconds).
_RETRY_MS = 2000


@api.operation(
    "GET",
    "/api/v1/events",
    summary="Live events (Server-Sent Events)",
    description="`id`, `event` (`agent` or `campaign`) and `data` (JSON) per event; resumable with Last-Event-ID. "
    "EventSource cannot send headers: it may pass the token as `?token=`.",
    tag="events",
    access=Access.READ,
    query=EventsQuery,
    media_type="text/event-stream",
    headers=(HeaderParameter("Last-Event-ID", "Resume after this event id.", {"type": "integer", "minimum": 0}),),
    query_token=True,
)
async def events(ctx: Context, query: EventsQuery) -> Response:
    after = query.last_event_id
    header = ctx.request.headers.get("last-event-id")
    if header is not None and header.strip():
        try:
            after = int(header)
        except ValueError:
            raise ProblemError(422, f"Last-Event-ID must be an event id (a number), got {header!r}") from None
    subscription = ctx.server.driver.hub.subscribe(after)
    agents = ctx.server.driver.engine.agents
    principal = ctx.who

    def visible(event: Event) -> bool:
        if event.type != "agent":
            return True
        agent = agents.get(str(event.data.get("agent")))
        return agent is not None and principal.sees_group(agent.group)

    return StreamingResponse(
        _stream(subscription, visible),
        media_type="text/event-stream",
        # An event stream's connection is not reused: when the stream ends (at shutdown) the connection closes with
        # it, instead of idling until hypercorn's graceful timeout.
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no", "Connection": "close"},
    )


async def _stream(subscription: Subscription, visible: Callable[[Event], bool]) -> AsyncIterator[bytes]:
    try:
        yield f"retry: {_RETRY_MS}\n\n".encode()
        while True:
            event: Event | None = None
            with trio.move_on_after(HEARTBEAT_SECONDS):
                try:
                    event = await subscription.events.receive()
                except trio.EndOfChannel:
                    return
            if event is None:
                yield b": keep-alive\n\n"
            elif visible(event):
                yield _frame(event)
    finally:
        subscription.close()


def _frame(event: Event) -> bytes:
    data = msgspec.json.encode(event.data)
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (event.id, event.type.encode(), data)
