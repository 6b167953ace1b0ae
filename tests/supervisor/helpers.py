"""What the supervisor API tests share: a real server with one HTTP client per role, problem checks,
an SSE reader and AGT notification helpers.

Every test runs its own server on 127.0.0.1 port 0 (agent, TLS, tty and HTTP ports) and talks to it as
a supervisor's tool does (httpx) and as agent desktops do (the AGT client library).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import attrs
import httpx
import pytest
import trio

from agt_server.client import AgtClient, Notification
from agt_server.config import SiteConfig, TokenConfig, TokenRole
from agt_server.supervisor import PROBLEM_MEDIA_TYPE, PROBLEM_TYPE_BASE
from tests.support import RunningServer, running_server

#: Every test's limit.
TIMEOUT = 15
#: How long a notification the server owes may take to arrive.
NOTICE_WAIT = 3.0
#: How long a test listens to be sure that nothing (more) arrives.
QUIET = 0.3

ADMIN = "demo-admin"
SUPERVISOR = "demo-supervisor"
VIEWER = "demo-viewer"
#: A supervisor of team-a without campaign control (added by :func:`with_observer`).
OBSERVER = "observer-token"

SLUGS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    412: "precondition-failed",
    422: "validation",
}


def with_observer(config: SiteConfig) -> SiteConfig:
    """``config`` plus a team-a supervisor token without campaign control (:data:`OBSERVER`)."""
    observer = TokenConfig("observer", OBSERVER, TokenRole.SUPERVISOR, frozenset({"team-a"}))
    return attrs.evolve(config, tokens=(*config.tokens, observer))


@attrs.define(eq=False)
class Api:
    """A running server and an HTTP client for each demo token (and one without a token)."""

    running: RunningServer
    clients: dict[str | None, httpx.AsyncClient]

    def __getitem__(self, token: str | None) -> httpx.AsyncClient:
        return self.clients[token]

    @property
    def admin(self) -> httpx.AsyncClient:
        return self.clients[ADMIN]

    @property
    def supervisor(self) -> httpx.AsyncClient:
        return self.clients[SUPERVISOR]

    @property
    def viewer(self) -> httpx.AsyncClient:
        return self.clients[VIEWER]

    @property
    def anonymous(self) -> httpx.AsyncClient:
        return self.clients[None]

    def client_for(self, token: str | None) -> httpx.AsyncClient:
        """A client sending ``token`` (``None``: no Authorization header)."""
        return self.clients[token]


@asynccontextmanager
async def open_api(config: SiteConfig) -> AsyncIterator[Api]:
    """Run a server for ``config`` (with :data:`OBSERVER` added) and open a client per token."""
    config = with_observer(config)
    async with running_server(config) as running, AsyncExitStack() as stack:
        clients: dict[str | None, httpx.AsyncClient] = {}
        for token in (ADMIN, SUPERVISOR, VIEWER, OBSERVER, None):
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            clients[token] = await stack.enter_async_context(
                httpx.AsyncClient(base_url=running.http_url, headers=headers, timeout=10)
            )
        yield Api(running, clients)


def problem(response: httpx.Response, status: int, *detail: str) -> dict[str, Any]:
    """Check that ``response`` is an RFC 9457 problem document of ``status`` whose detail contains each of
    ``detail``; return its body."""
    assert response.status_code == status, f"{response.status_code} {response.text}"
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body: dict[str, Any] = response.json()
    assert body["type"] == PROBLEM_TYPE_BASE + SLUGS[status]
    assert body["status"] == status
    assert isinstance(body["title"], str)
    assert body["title"]
    assert isinstance(body["detail"], str)
    assert body["detail"]
    for text in detail:
        assert text in body["detail"], body["detail"]
    return body


def ok(response: httpx.Response, status: int = 200) -> Any:
    """Check that ``response`` has ``status`` and a JSON body; return the body."""
    assert response.status_code == status, f"{response.status_code} {response.text}"
    assert response.headers["content-type"] == "application/json"
    return response.json()


# -- AGT sessions ------------------------------------------------------------------------------------


async def next_move(client: AgtClient) -> tuple[str, str, str]:
    """The next notification, which must be AGTJobAssigned or AGTJobUnassigned: (keyword, job, reason)."""
    notice = await client.next_notification(timeout=NOTICE_WAIT)
    assert notice.keyword in ("AGTJobAssigned", "AGTJobUnassigned"), f"got {notice.keyword} {notice.records}"
    first = notice.messages[0]
    assert first.segments[:2] == ("0", "M00001")
    job, reason = first.segments[2:4]
    return notice.keyword, job, reason


async def assigned(client: AgtClient) -> tuple[str, str]:
    """The next notification must be AGTJobAssigned: (job, reason)."""
    keyword, job, reason = await next_move(client)
    assert keyword == "AGTJobAssigned", f"{keyword} {job} {reason}"
    return job, reason


async def expect_notice(client: AgtClient, keyword: str) -> Notification:
    """The next notification, which must be ``keyword``."""
    notice = await client.next_notification(timeout=NOTICE_WAIT)
    assert notice.keyword == keyword, f"expected {keyword}, got {notice.keyword} {notice.records}"
    return notice


async def assert_quiet(client: AgtClient, seconds: float = QUIET) -> None:
    """No notification arrives within ``seconds``."""
    with trio.move_on_after(seconds):
        notice = await client.next_notification()
        pytest.fail(f"unexpected notification {notice.keyword} {notice.records}")


async def state(client: AgtClient) -> tuple[str, str | None]:
    """AGTListState as (code, job)."""
    report = await client.list_state()
    return report.code, report.job


# -- Server-Sent Events ------------------------------------------------------------------------------


@attrs.frozen
class SseEvent:
    """One event of the stream."""

    id: int
    type: str
    data: dict[str, Any]


@attrs.define(eq=False)
class SseReader:
    """Reads an open ``text/event-stream`` response event by event (comments and ``retry`` kept apart)."""

    lines: AsyncIterator[str]
    comments: list[str] = attrs.Factory(list)
    retry: int | None = None

    async def next_event(self, timeout: float = NOTICE_WAIT) -> SseEvent:
        """The next event; fails the test if the stream ends or nothing comes within ``timeout``."""
        with trio.fail_after(timeout):
            event = await self._next()
        assert event is not None, "the event stream ended"
        return event

    async def until(self, predicate: Any, timeout: float = NOTICE_WAIT) -> list[SseEvent]:
        """Events up to and including the first for which ``predicate(event)`` is true."""
        seen = []
        with trio.fail_after(timeout):
            while True:
                event = await self._next()
                assert event is not None, f"the event stream ended after {seen}"
                seen.append(event)
                if predicate(event):
                    return seen

    async def rest(self) -> list[SseEvent]:
        """Every event until the stream ends."""
        events = []
        while (event := await self._next()) is not None:
            events.append(event)
        return events

    async def _next(self) -> SseEvent | None:
        fields: dict[str, str] = {}
        async for line in self.lines:
            if line == "":
                if "data" in fields:
                    return SseEvent(int(fields["id"]), fields.get("event", "message"), json.loads(fields["data"]))
                continue
            if line.startswith(":"):
                self.comments.append(line)
                continue
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "retry":
                self.retry = int(value)
            else:
                fields[name] = value
        return None


@asynccontextmanager
async def open_events(client: httpx.AsyncClient, **params: Any) -> AsyncIterator[SseReader]:
    """Open ``GET /api/v1/events`` (``params`` as query parameters; ``headers=`` for extra headers)."""
    headers = params.pop("headers", {})
    async with client.stream("GET", "/api/v1/events", params=params, headers=headers) as response:
        assert response.status_code == 200, (await response.aread()).decode()
        assert response.headers["content-type"].startswith("text/event-stream")
        yield SseReader(response.aiter_lines())
