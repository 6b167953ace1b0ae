"""The live event stream, read as a dashboard reads it: ``text/event-stream`` over a real HTTP connection."""

from __future__ import annotations

import pytest
import trio

from agt_server.supervisor import _events

from .helpers import (
    ADMIN,
    NOTICE_WAIT,
    SUPERVISOR,
    TIMEOUT,
    Api,
    SseEvent,
    assigned,
    ok,
    open_events,
    problem,
)

PREFERRED = "/api/v1/agents/agent1/preferred-campaigns"


def _about(agent: str, kind: str) -> object:
    return lambda event: event.type == "agent" and event.data["agent"] == agent and event.data["kind"] == kind


class TestStream:
    async def test_events_in_order(self, api: Api) -> None:
        """A logon, a list change and a campaign pause arrive as agent and campaign events in the order they
        happened, with consecutive increasing ids."""
        with trio.fail_after(TIMEOUT):
            async with open_events(api.admin) as stream:
                async with api.running.logged_on("agent1") as agent1:
                    ok(await api.supervisor.put(PREFERRED, json={"campaigns": ["CMP2"]}))
                    await assigned(agent1)
                    ok(await api.supervisor.post("/api/v1/campaigns/CMP4/pause"))
                    events = await stream.until(lambda event: event.type == "campaign")
                assert stream.retry == 2000
            ids = [event.id for event in events]
            assert ids == list(range(ids[0], ids[0] + len(ids)))
            summary = [(event.type, event.data.get("kind"), event.data.get("agent") or event.data.get("campaign"))
                       for event in events]  # fmt: skip
            assert summary[0] == ("agent", "logged_on", "agent1")
            assert ("agent", "preferences_changed", "agent1") in summary
            assert summary[-1] == ("campaign", None, "CMP4")
            changed = summary.index(("agent", "preferences_changed", "agent1"))
            moved = [e for e in events[changed:] if e.data.get("kind") == "state_changed" and e.data.get("job")]
            assert moved[0].data["job"] == "CMP2"
            assert moved[0].data["state"] == "S70003"
            preferences = events[changed].data
            assert preferences["detail"] == f"(any) -> CMP2 by {SUPERVISOR}"
            assert events[-1].data["state"] == "paused"
            assert events[-1].data["detail"] == f"pause by {SUPERVISOR}"
            assert all("time" in event.data for event in events)

    async def test_resume_with_last_event_id(self, api: Api) -> None:
        """A client reconnecting with Last-Event-ID (or ?last_event_id=) first gets exactly the events after that
        id, then live ones."""
        with trio.fail_after(TIMEOUT):
            for campaign in ("CMP1", "CMP2", "CMP3"):
                ok(await api.admin.post(f"/api/v1/campaigns/{campaign}/pause"))
            hub = api.running.server.driver.hub
            first = hub.last_id - 2  # the CMP1 pause
            async with open_events(api.admin, headers={"Last-Event-ID": str(first)}) as stream:
                replayed = [await stream.next_event(), await stream.next_event()]
                assert [(event.id, event.data["campaign"]) for event in replayed] == [
                    (first + 1, "CMP2"),
                    (first + 2, "CMP3"),
                ]
                ok(await api.admin.post("/api/v1/campaigns/CMP4/pause"))
                live = await stream.next_event()
                assert (live.id, live.data["campaign"]) == (first + 3, "CMP4")
            async with open_events(api.admin, last_event_id=first + 2) as stream:
                again = await stream.next_event()
                assert (again.id, again.data["campaign"], again.data["state"]) == (first + 3, "CMP4", "paused")

    async def test_without_last_event_id_only_new_events(self, api: Api) -> None:
        """A fresh subscriber gets no history: its first event is the next one to happen."""
        with trio.fail_after(TIMEOUT):
            ok(await api.admin.post("/api/v1/campaigns/CMP1/pause"))
            async with open_events(api.viewer) as stream:
                ok(await api.admin.post("/api/v1/campaigns/CMP1/resume"))
                event = await stream.next_event()
                assert (event.type, event.data["campaign"], event.data["state"]) == ("campaign", "CMP1", "running")

    async def test_token_in_the_query(self, api: Api) -> None:
        """EventSource cannot send headers: ?token= authenticates the stream."""
        with trio.fail_after(TIMEOUT):
            async with open_events(api.anonymous, token=ADMIN) as stream:
                ok(await api.admin.post("/api/v1/campaigns/CMP2/pause"))
                assert (await stream.next_event()).data["campaign"] == "CMP2"

    @pytest.mark.parametrize(
        ("params", "headers", "status", "detail"),
        [
            ({}, {}, 401, "needs a token"),
            ({"token": "wrong-token"}, {}, 401, "not valid"),
            ({"token": ADMIN, "last_event_id": "x"}, {}, 422, "last_event_id"),
            ({"token": ADMIN, "last_event_id": "-1"}, {}, 422, "last_event_id"),
            ({"token": ADMIN}, {"Last-Event-ID": "abc"}, 422, "Last-Event-ID"),
        ],
    )
    async def test_refused(self, api: Api, params: dict[str, str], headers: dict[str, str], status: int,
                           detail: str) -> None:  # fmt: skip
        """No or a wrong token is 401; a last event id that is not a non-negative number is 422."""
        with trio.fail_after(TIMEOUT):
            response = await api.anonymous.get("/api/v1/events", params=params, headers=headers)
            problem(response, status, detail)

    async def test_supervisor_sees_only_its_groups(self, api: Api) -> None:
        """agent15 (team-b) logging on reaches the admin's stream but not demo-supervisor's (team-a), whose first
        agent event is agent1's; both see campaign events."""
        with trio.fail_after(TIMEOUT):
            async with (
                open_events(api.supervisor) as theirs,
                open_events(api.admin) as everything,
                api.running.logged_on("agent15"),
                api.running.logged_on("agent1"),
            ):
                ok(await api.admin.post("/api/v1/campaigns/CMP1/pause"))
                seen_by_admin = await everything.until(lambda event: event.type == "campaign")
                seen_by_supervisor = await theirs.until(lambda event: event.type == "campaign")
            agents_for_admin = {event.data["agent"] for event in seen_by_admin if event.type == "agent"}
            agents_for_supervisor = {event.data["agent"] for event in seen_by_supervisor if event.type == "agent"}
            assert agents_for_admin == {"agent1", "agent15"}
            assert agents_for_supervisor == {"agent1"}
            assert seen_by_supervisor[-1].id == seen_by_admin[-1].id

    async def test_heartbeat(self, api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
        """A quiet stream carries ": keep-alive" comments (every 15 s; shortened here)."""
        monkeypatch.setattr(_events, "HEARTBEAT_SECONDS", 0.05)
        with trio.fail_after(TIMEOUT):
            async with open_events(api.viewer) as stream:
                with trio.move_on_after(0.3):
                    await stream.rest()
                assert stream.comments[:2] == [": keep-alive", ": keep-alive"]

    async def test_subscribers_are_counted_and_released(self, api: Api) -> None:
        """An open stream is a subscriber; a client that goes away is unsubscribed."""
        with trio.fail_after(TIMEOUT):
            hub = api.running.server.driver.hub
            async with open_events(api.viewer), open_events(api.admin):
                assert hub.subscribers == 2
                metrics = (await api.anonymous.get("/metrics")).text
                assert "agt_event_subscribers 2\n" in metrics
            while hub.subscribers:
                await trio.sleep(0.01)
            assert "agt_event_subscribers 0\n" in (await api.anonymous.get("/metrics")).text


class TestShutdown:
    async def test_streams_end_cleanly_at_shutdown(self, api: Api) -> None:
        """At shutdown the open stream gets the last events (the agent logged off) and then ends cleanly; the
        whole shutdown is over at once, not after hypercorn's 3 s graceful timeout; the agent got AGTSystemError
        first."""
        with trio.fail_after(TIMEOUT):
            async with api.running.logged_on("agent1") as agent1, open_events(api.admin) as stream:
                started = trio.current_time()
                took: dict[str, float] = {}

                async def shut_down() -> None:
                    await api.running.server.shutdown()
                    took["shutdown"] = trio.current_time() - started

                async with trio.open_nursery() as nursery:
                    nursery.start_soon(shut_down)
                    rest: list[SseEvent] = await stream.rest()
                    took["stream"] = trio.current_time() - started
                notice = await agent1.next_notification(timeout=NOTICE_WAIT)
                assert notice.keyword == "AGTSystemError"
            assert took["stream"] < 1.0
            assert took["shutdown"] < 1.0
            assert [(event.data["agent"], event.data["kind"]) for event in rest] == [("agent1", "logged_off")]

    async def test_no_new_stream_after_shutdown(self, api: Api) -> None:
        """A stream opened once the hub is closed ends at once instead of hanging."""
        with trio.fail_after(TIMEOUT):
            api.running.server.driver.hub.close()
            async with open_events(api.admin) as stream:
                assert await stream.rest() == []
