"""Campaigns, callbacks, inbound calls and the audit log over REST (issue 6 contract, "Resources")."""

from __future__ import annotations

import datetime
from pathlib import Path

import attrs
import pytest
import trio

from tests.support import config_for_tests

from .helpers import ADMIN, SUPERVISOR, TIMEOUT, Api, assigned, expect_notice, ok, open_api, problem, state

PREFERRED = "/api/v1/agents/agent1/preferred-campaigns"


def _future(seconds: float = 3600) -> str:
    return (datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=seconds)).isoformat()


def _record(api: Api, campaign: str = "CMP1") -> str:
    """A record id of ``campaign``'s calling list."""
    return next(iter(api.running.server.driver.engine.dialer.work[campaign].records))


class TestCampaigns:
    async def test_list_matches_the_engine(self, api: Api) -> None:
        """Every campaign in configuration order, with the engine's state, capacity, demand and attachments."""
        with trio.fail_after(TIMEOUT):
            async with api.running.logged_on("agent1") as agent1:
                ok(await api.admin.put(PREFERRED, json={"campaigns": ["CMP4"]}))
                await assigned(agent1)
                campaigns = ok(await api.viewer.get("/api/v1/campaigns"))["campaigns"]
            engine = api.running.server.driver.engine
            assert [campaign["name"] for campaign in campaigns] == list(engine.jobs)
            by_name = {campaign["name"]: campaign for campaign in campaigns}
            assert by_name["CMP4"] == {
                "name": "CMP4",
                "type": "O",
                "state": "running",
                "priority": 7,
                "min_agents": 0,
                "max_agents": None,
                "attached": 1,
                "wanted": 200,
                "records_left": 200,
                "linked_campaign": None,
                "required_skills": [],
            }
            assert (by_name["INBOUND1"]["type"], by_name["BLEND1"]["type"], by_name["PREVIEW1"]["type"]) == (
                "I",
                "B",
                "M",
            )
            for name, campaign in by_name.items():
                assert campaign["wanted"] == engine.capacity(name)
                assert campaign["records_left"] == engine.dialer.demand(name)

    async def test_limits_and_skills(self, tmp_path: Path) -> None:
        """max_agents caps wanted; required skills are listed sorted."""
        config = config_for_tests(tmp_path)
        jobs = tuple(
            attrs.evolve(job, max_agents=3, min_agents=1, required_skills=frozenset({"spanish", "collections"}))
            if job.name == "CMP2"
            else job
            for job in config.jobs
        )
        with trio.fail_after(TIMEOUT):
            async with open_api(attrs.evolve(config, jobs=jobs)) as api:
                campaign = ok(await api.admin.get("/api/v1/campaigns/CMP2"))
                assert (campaign["min_agents"], campaign["max_agents"], campaign["wanted"]) == (1, 3, 3)
                assert campaign["required_skills"] == ["collections", "spanish"]

    async def test_unknown_campaign(self, api: Api) -> None:
        """Every campaign path answers 404 for a campaign that does not exist."""
        with trio.fail_after(TIMEOUT):
            for method, suffix, body in [
                ("GET", "", None),
                ("POST", "/start", None),
                ("POST", "/pause", None),
                ("POST", "/resume", None),
                ("POST", "/stop", None),
                ("PUT", "/link", {"linked_campaign": None}),
            ]:
                response = await api.admin.request(method, f"/api/v1/campaigns/NOPE{suffix}", json=body)
                problem(response, 404, "there is no campaign NOPE")

    async def test_control_cycle(self, api: Api) -> None:
        """pause, resume, stop and start each answer the campaign in its new state; impossible ones are 409."""
        with trio.fail_after(TIMEOUT):
            url = "/api/v1/campaigns/CMP3"
            problem(await api.admin.post(f"{url}/resume"), 409, "cannot resume CMP3: it is running")
            problem(await api.admin.post(f"{url}/start"), 409, "cannot start CMP3: it is running")
            assert ok(await api.admin.post(f"{url}/pause"))["state"] == "paused"
            problem(await api.admin.post(f"{url}/pause"), 409, "cannot pause CMP3: it is paused")
            assert ok(await api.admin.post(f"{url}/resume"))["state"] == "running"
            assert ok(await api.admin.post(f"{url}/stop"))["state"] == "stopped"
            problem(await api.admin.post(f"{url}/stop"), 409, "cannot stop CMP3: it is stopped")
            problem(await api.admin.post(f"{url}/pause"), 409, "it is stopped")
            assert ok(await api.admin.post(f"{url}/start"))["state"] == "running"
            actions = [e["action"] for e in ok(await api.admin.get("/api/v1/audit"))["entries"]]
            assert actions == ["job_start", "job_stop", "job_resume", "job_pause"]

    async def test_state_survives_as_the_engine_sees_it(self, api: Api) -> None:
        """The response is sent after the change is durable: the store already has the new state."""
        with trio.fail_after(TIMEOUT):
            ok(await api.admin.post("/api/v1/campaigns/CMP2/pause"))
            stored = await trio.to_thread.run_sync(api.running.server.store.load)
            assert stored.job_states["CMP2"] == "paused"

    async def test_link(self, api: Api) -> None:
        """A link is set and removed; stopping the linked-from campaign starts the linked one (R9)."""
        with trio.fail_after(TIMEOUT):
            ok(await api.admin.post("/api/v1/campaigns/CMP3/stop"))
            campaign = ok(await api.admin.put("/api/v1/campaigns/CMP1/link", json={"linked_campaign": "CMP3"}))
            assert campaign["linked_campaign"] == "CMP3"
            assert ok(await api.admin.post("/api/v1/campaigns/CMP1/stop"))["state"] == "stopped"
            assert ok(await api.admin.get("/api/v1/campaigns/CMP3"))["state"] == "running"
            campaign = ok(await api.admin.put("/api/v1/campaigns/CMP1/link", json={"linked_campaign": None}))
            assert campaign["linked_campaign"] is None
            entries = ok(await api.admin.get("/api/v1/audit", params={"subject": "CMP1"}))["entries"]
            assert [(e["action"], e["before"], e["after"]) for e in entries] == [
                ("job_link", "CMP3", ""),
                ("job_stop", "running", "stopped"),
                ("job_link", "", "CMP3"),
            ]

    @pytest.mark.parametrize(
        ("body", "status", "detail"),
        [
            ({"linked_campaign": "CMP1"}, 422, "cannot be linked to itself"),
            ({"linked_campaign": "NOPE"}, 422, "there is no campaign NOPE"),
            ({}, 422, "linked_campaign"),
            ({"linked_campaign": 5}, 422, "Expected `str | null`, got `int`"),
        ],
    )
    async def test_bad_link(self, api: Api, body: object, status: int, detail: str) -> None:
        """Linking to itself, to an unknown campaign, or a body without linked_campaign is a 422."""
        with trio.fail_after(TIMEOUT):
            problem(await api.admin.put("/api/v1/campaigns/CMP1/link", json=body), status, detail)


class TestCallbacks:
    async def test_schedule(self, api: Api) -> None:
        """A callback for an agent on a CMP1 record is 201 with what was scheduled, audited with the token."""
        with trio.fail_after(TIMEOUT):
            record = _record(api)
            due_at = "2099-05-01T09:30:00+02:00"
            body = {"campaign": "CMP1", "record_id": record, "due_at": due_at, "owner": "agent2"}
            response = await api.supervisor.post("/api/v1/callbacks", json=body)
            created = ok(response, 201)
            assert created["campaign"] == "CMP1"
            assert (created["record_id"], created["owner"]) == (record, "agent2")
            assert datetime.datetime.fromisoformat(created["due_at"]) == datetime.datetime.fromisoformat(due_at)
            entries = ok(await api.admin.get("/api/v1/audit", params={"limit": 1}))["entries"]
            assert [(e["actor"], e["action"], e["subject"], e["after"]) for e in entries] == [
                (SUPERVISOR, "callback", "CMP1", f"{record} for agent2")
            ]
            stored = await trio.to_thread.run_sync(api.running.server.store.load)
            assert [(c.job, c.record_id, c.owner) for c in stored.callbacks] == [("CMP1", record, "agent2")]

    async def test_campaign_callback(self, api: Api) -> None:
        """Without an owner the callback belongs to the campaign (owner null)."""
        with trio.fail_after(TIMEOUT):
            body = {"campaign": "CMP2", "record_id": _record(api, "CMP2"), "due_at": _future()}
            assert ok(await api.admin.post("/api/v1/callbacks", json=body), 201)["owner"] is None

    @pytest.mark.parametrize(
        ("change", "detail", "location"),
        [
            ({"due_at": "2099-01-01T10:00:00"}, "timezone", "$.due_at"),
            ({"due_at": "tomorrow"}, "Invalid RFC3339", "$.due_at"),
            ({"due_at": "2001-01-01T10:00:00Z"}, "must be due in the future", None),
            ({"campaign": "NOPE"}, "there is no campaign NOPE", None),
            ({"campaign": "INBOUND1"}, "inbound job", None),
            ({"record_id": "no-such-record"}, "CMP1 has no record no-such-record", None),
            ({"owner": "agent99"}, "there is no agent agent99", None),
            ({"record_id": ""}, "length >= 1", "$.record_id"),
        ],
    )
    async def test_invalid(self, api: Api, change: dict[str, str], detail: str, location: str | None) -> None:
        """A naive or unparsable time, a past time, an unknown campaign, record or owner, or an inbound campaign
        is a 422."""
        with trio.fail_after(TIMEOUT):
            body = {"campaign": "CMP1", "record_id": _record(api), "due_at": _future(), **change}
            response = await api.admin.post("/api/v1/callbacks", json=body)
            found = problem(response, 422, detail)
            if location is not None:
                assert found["errors"][0]["location"] == location
            assert ok(await api.admin.get("/api/v1/audit"))["entries"] == []


class TestInboundCalls:
    async def test_inbound_call_takes_the_agent(self, api: Api) -> None:
        """An injected call to INBOUND1 is 202 and takes a ready agent from CMP1 for the call (R8); meanwhile the
        agent shows the temporary work over REST, and afterwards it returns to CMP1."""
        with trio.fail_after(TIMEOUT):
            async with api.running.logged_on("agent1") as agent1:
                ok(await api.admin.put(PREFERRED, json={"campaigns": ["CMP1"]}))
                assert await assigned(agent1) == ("CMP1", "supervisor")
                await agent1.avail_work()
                await agent1.ready_next_item()
                body = {"campaign": "INBOUND1", "caller": {"NAME": "Jane Roe", "PHONE1": "7205550000"}}
                accepted = ok(await api.supervisor.post("/api/v1/inbound-calls", json=body), 202)
                assert accepted["campaign"] == "INBOUND1"
                assert accepted["record_id"].startswith("api-")
                assert await assigned(agent1) == ("INBOUND1", "inbound")
                call = await expect_notice(agent1, "AGTCallNotify")
                assert call.first.segments[2:4] == ("INBOUND CALL", "INBOUND")
                assert await state(agent1) == ("S70000", "INBOUND1")
                agent = ok(await api.admin.get("/api/v1/agents/agent1"))
                assert agent["temporary"] == {"kind": "inbound", "campaign": "INBOUND1"}
                assert (agent["state"], agent["campaign"]) == ("S70000", "INBOUND1")
                await agent1.finished_item(20)
                assert await assigned(agent1) == ("CMP1", "returned")
                assert ok(await api.admin.get("/api/v1/agents/agent1"))["temporary"] is None

    async def test_record_id_is_kept(self, api: Api) -> None:
        """A given record id is used as it is."""
        with trio.fail_after(TIMEOUT):
            body = {"campaign": "BLEND1", "record_id": "caller-42"}
            assert ok(await api.admin.post("/api/v1/inbound-calls", json=body), 202) == {
                "campaign": "BLEND1",
                "record_id": "caller-42",
            }

    @pytest.mark.parametrize(
        ("body", "status", "detail"),
        [
            ({"campaign": "CMP1"}, 409, "CMP1 is not an inbound or blend job"),
            ({"campaign": "NOPE"}, 422, "there is no campaign NOPE"),
            ({"campaign": "INBOUND1", "caller": {"NAME": 5}}, 422, "Expected `str`, got `int`"),
            ({"campaign": "INBOUND1", "caller": ["Jane"]}, 422, "Expected `object`, got `array`"),
            ({"caller": {}}, 422, "Object missing required field `campaign`"),
        ],
    )
    async def test_refused(self, api: Api, body: object, status: int, detail: str) -> None:
        """An outbound campaign is a 409; an unknown campaign or a malformed caller is a 422."""
        with trio.fail_after(TIMEOUT):
            problem(await api.admin.post("/api/v1/inbound-calls", json=body), status, detail)


class TestAudit:
    async def test_paging_newest_first(self, api: Api) -> None:
        """Entries come newest first; offset and limit page through them and are echoed."""
        with trio.fail_after(TIMEOUT):
            for campaign in ("CMP1", "CMP2", "CMP3", "CMP4"):
                ok(await api.admin.post(f"/api/v1/campaigns/{campaign}/pause"))
            page = ok(await api.viewer.get("/api/v1/audit", params={"offset": 1, "limit": 2}))
            assert (page["offset"], page["limit"]) == (1, 2)
            assert [entry["subject"] for entry in page["entries"]] == ["CMP3", "CMP2"]
            entry = page["entries"][0]
            assert (entry["actor"], entry["action"], entry["before"], entry["after"]) == (
                ADMIN,
                "job_pause",
                "running",
                "paused",
            )
            at = datetime.datetime.fromisoformat(entry["at"])
            assert abs((datetime.datetime.now(datetime.UTC) - at).total_seconds()) < 60
            default = ok(await api.viewer.get("/api/v1/audit"))
            assert (default["offset"], default["limit"], len(default["entries"])) == (0, 50, 4)

    async def test_supervisor_sees_its_groups_and_campaigns(self, api: Api) -> None:
        """A supervisor's pages leave out entries about other groups' agents, and count without them."""
        with trio.fail_after(TIMEOUT):
            async with api.running.logged_on("agent1"), api.running.logged_on("agent15"):
                ok(await api.admin.put(PREFERRED, json={"campaigns": ["CMP1"]}))
                ok(await api.admin.put("/api/v1/agents/agent15/preferred-campaigns", json={"campaigns": ["CMP2"]}))
                ok(await api.admin.post("/api/v1/campaigns/CMP4/pause"))
                ok(await api.admin.put("/api/v1/agents/agent15/preferred-campaigns", json={"campaigns": ["CMP3"]}))
            every = ok(await api.admin.get("/api/v1/audit"))["entries"]
            assert [entry["subject"] for entry in every] == ["agent15", "CMP4", "agent15", "agent1"]
            seen = ok(await api.supervisor.get("/api/v1/audit"))["entries"]
            assert [entry["subject"] for entry in seen] == ["CMP4", "agent1"]
            second = ok(await api.supervisor.get("/api/v1/audit", params={"offset": 1, "limit": 1}))["entries"]
            assert [entry["subject"] for entry in second] == ["agent1"]
            assert ok(await api.viewer.get("/api/v1/audit", params={"subject": "agent15"}))["entries"] != []

    @pytest.mark.parametrize(
        ("params", "detail"),
        [
            ({"offset": "-1"}, "offset"),
            ({"offset": "abc"}, "offset"),
            ({"limit": "0"}, "limit"),
            ({"limit": "501"}, "limit"),
            ({"subject": ""}, "subject"),
        ],
    )
    async def test_bad_page(self, api: Api, params: dict[str, str], detail: str) -> None:
        """A negative offset, a limit outside 1-500 or an empty subject is a 422 naming the parameter."""
        with trio.fail_after(TIMEOUT):
            found = problem(await api.admin.get("/api/v1/audit", params=params), 422, detail)
            assert found["errors"][0]["location"] == detail
