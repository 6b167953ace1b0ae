"""Agents over REST: list and filters, detail, explanation, preferred campaigns with ETags, moves and
messages, and every error they answer (issue 6 contract, "Resources")."""

from __future__ import annotations

import datetime
from pathlib import Path

import attrs
import httpx
import pytest
import trio

from agt_server.config import DEMO_LOAD_AGENT_COUNT, DEMO_LOAD_GROUP, DEMO_LOAD_PASSWORD, demo_config
from agt_server.protocol import WorkClass
from tests.support import config_for_tests

from .helpers import (
    ADMIN,
    SUPERVISOR,
    TIMEOUT,
    Api,
    assert_quiet,
    assigned,
    expect_notice,
    ok,
    open_api,
    problem,
    state,
)

PREFERRED = "/api/v1/agents/agent1/preferred-campaigns"


class TestListAndDetail:
    async def test_logged_off_agent(self, api: Api) -> None:
        """An agent that never logged on shows as logged off with nulls, an explanation and no last change."""
        with trio.fail_after(TIMEOUT):
            assert ok(await api.admin.get("/api/v1/agents/agent7")) == {
                "name": "agent7",
                "group": "team-a",
                "logged_on": False,
                "state": None,
                "campaign": None,
                "preferred_campaigns": [],
                "mode": None,
                "temporary": None,
                "session": None,
                "explanation": "agent7 is not logged on.",
                "idle_reason": None,
                "last_change": None,
            }

    async def test_logged_on_agent_without_campaign(self, api: Api) -> None:
        """A logged-on agent without a job is S70004 in manual mode, with its session, an idle reason equal to
        its explanation and the time of its logon."""
        with trio.fail_after(TIMEOUT):
            before = datetime.datetime.now(datetime.UTC)
            async with api.running.logged_on("agent2"):
                agent = ok(await api.admin.get("/api/v1/agents/agent2"))
                assert agent["logged_on"] is True
                assert (agent["state"], agent["campaign"], agent["mode"]) == ("S70004", None, "manual")
                assert agent["session"]["listener"] == "wire"
                assert agent["session"]["peer"].startswith("127.0.0.1:")
                assert agent["session"]["process_id"].isdigit()
                assert agent["idle_reason"] == agent["explanation"]
                assert "chooses its jobs itself" in agent["explanation"]
                changed = datetime.datetime.fromisoformat(agent["last_change"])
                assert before - datetime.timedelta(seconds=1) <= changed <= datetime.datetime.now(datetime.UTC)

    async def test_sorted_and_filtered(self, api: Api) -> None:
        """The list is sorted by name; state, campaign and group filters combine."""
        with trio.fail_after(TIMEOUT):
            async with api.running.logged_on("agent3") as agent3, api.running.logged_on("agent12"):
                ok(await api.admin.put("/api/v1/agents/agent3/preferred-campaigns", json={"campaigns": ["CMP2"]}))
                assert await assigned(agent3) == ("CMP2", "supervisor")
                names = [agent["name"] for agent in ok(await api.admin.get("/api/v1/agents"))["agents"]]
                assert names == sorted(f"agent{number}" for number in range(1, 21))

                async def listed(**params: str) -> list[str]:
                    response = await api.admin.get("/api/v1/agents", params=params)
                    return [agent["name"] for agent in ok(response)["agents"]]

                assert await listed(state="S70003") == ["agent3"]
                assert await listed(state="S70004") == ["agent12"]
                assert await listed(campaign="CMP2") == ["agent3"]
                assert await listed(campaign="CMP2", group="team-b") == []
                assert await listed(state="S70004", group="team-b") == ["agent12"]
                assert len(await listed(group="team-a")) == 10

    async def test_logged_on_filter(self, api: Api) -> None:
        """logged_on=true lists only the logged-on agents, false only the others; both combine with the other
        filters, and total counts every agent the token may see whatever the filters."""
        with trio.fail_after(TIMEOUT):
            async with api.running.logged_on("agent3"), api.running.logged_on("agent12"):

                async def listed(client: httpx.AsyncClient = api.admin, **params: str) -> tuple[list[str], int]:
                    body = ok(await client.get("/api/v1/agents", params=params))
                    return [agent["name"] for agent in body["agents"]], body["total"]

                assert await listed(logged_on="true") == (["agent12", "agent3"], 20)
                off, total = await listed(logged_on="false")
                assert (off, total) == (sorted(f"agent{n}" for n in range(1, 21) if n not in (3, 12)), 20)
                assert await listed(logged_on="true", group="team-a") == (["agent3"], 20)
                assert await listed(logged_on="false", state="S70004") == ([], 20)
                assert await listed(logged_on="true", state="S70004") == (["agent12", "agent3"], 20)
                # A supervisor of team-a sees (and counts) its own group only.
                assert await listed(api.supervisor, logged_on="true") == (["agent3"], 10)

    async def test_logged_on_filter_with_load_agents(self, tmp_path: Path) -> None:
        """On the demo with its 10,000 load agents, logged_on=true lists the one load agent logged on."""
        config = config_for_tests(tmp_path, agents=demo_config(tmp_path).agents)
        with trio.fail_after(TIMEOUT):
            async with open_api(config) as api, api.running.client() as client:
                await client.logon("load42", DEMO_LOAD_PASSWORD)
                body = ok(await api.admin.get("/api/v1/agents", params={"logged_on": "true"}))
                assert [agent["name"] for agent in body["agents"]] == ["load42"]
                assert body["agents"][0]["group"] == DEMO_LOAD_GROUP
                assert body["total"] == len(config.agents) == 20 + DEMO_LOAD_AGENT_COUNT
                everyone = ok(await api.admin.get("/api/v1/agents"))
                assert len(everyone["agents"]) == everyone["total"] == len(config.agents)
                off = ok(await api.admin.get("/api/v1/agents", params={"logged_on": "false", "group": "load"}))
                assert len(off["agents"]) == DEMO_LOAD_AGENT_COUNT - 1
                assert "load42" not in {agent["name"] for agent in off["agents"]}

    @pytest.mark.parametrize(
        ("params", "message"),
        [
            ({"state": "S79999"}, "state"),
            ({"state": "null"}, "state"),
            ({"logged_on": "yes"}, "logged_on"),
            ({"logged_on": "1"}, "logged_on"),
            ({"logged_on": ""}, "logged_on"),
            ({"campaign": "NOPE"}, "there is no campaign NOPE"),
            ({"group": ""}, "group"),
        ],
    )
    async def test_bad_filters(self, api: Api, params: dict[str, str], message: str) -> None:
        """An unknown state code, campaign, an empty group or a logged_on other than true or false is a 422
        naming the parameter."""
        with trio.fail_after(TIMEOUT):
            problem(await api.admin.get("/api/v1/agents", params=params), 422, message)

    async def test_repeated_filter(self, api: Api) -> None:
        """A query parameter given twice is a 422, not silently one of the two."""
        with trio.fail_after(TIMEOUT):
            response = await api.admin.get("/api/v1/agents?state=S70001&state=S70004")
            body = problem(response, 422, "state", "more than once")
            assert body["errors"] == [{"location": "state", "message": "given more than once"}]

    async def test_unknown_agent(self, api: Api) -> None:
        """Every agent path answers 404 for an agent that is not configured."""
        with trio.fail_after(TIMEOUT):
            for method, suffix, body in [
                ("GET", "", None),
                ("GET", "/explain", None),
                ("GET", "/preferred-campaigns", None),
                ("PUT", "/preferred-campaigns", {"campaigns": []}),
                ("DELETE", "/preferred-campaigns", None),
                ("POST", "/move", {"campaign": "CMP1"}),
                ("POST", "/messages", {"text": "hi"}),
            ]:
                response = await api.admin.request(method, f"/api/v1/agents/agent99{suffix}", json=body)
                problem(response, 404, "there is no agent agent99")

    async def test_explain(self, api: Api) -> None:
        """explain gives the engine's explanation, which follows the agent's list."""
        with trio.fail_after(TIMEOUT):
            async with api.running.logged_on("agent1") as agent1:
                ok(await api.admin.put(PREFERRED, json={"campaigns": ["CMP3"]}))
                await assigned(agent1)
                explained = ok(await api.viewer.get("/api/v1/agents/agent1/explain"))
                assert explained == {
                    "agent": "agent1",
                    "explanation": api.running.server.driver.engine.explain("agent1"),
                }
                assert "CMP3" in explained["explanation"]


class TestPreferredCampaigns:
    async def test_get_put_delete_with_etags(self, api: Api) -> None:
        """GET shows the list with an ETag; PUT replaces it (new ETag, the agent moves); DELETE clears it."""
        with trio.fail_after(TIMEOUT):
            async with api.running.logged_on("agent1") as agent1:
                response = await api.supervisor.get(PREFERRED)
                assert ok(response) == {"agent": "agent1", "campaigns": []}
                empty_tag = response.headers["etag"]
                assert empty_tag.startswith('"') and empty_tag.endswith('"')

                response = await api.supervisor.put(PREFERRED, json={"campaigns": ["CMP2", "CMP1"]})
                assert ok(response) == {"agent": "agent1", "campaigns": ["CMP2", "CMP1"]}
                tag = response.headers["etag"]
                assert tag != empty_tag
                job, reason = await assigned(agent1)
                assert (job in ("CMP1", "CMP2"), reason) == (True, "supervisor")
                response = await api.viewer.get(PREFERRED)
                assert (ok(response)["campaigns"], response.headers["etag"]) == (["CMP2", "CMP1"], tag)
                assert [listing.name for listing in await agent1.get_preferred_job_list()] == ["CMP2", "CMP1"]

                response = await api.supervisor.delete(PREFERRED)
                assert ok(response) == {"agent": "agent1", "campaigns": []}
                assert response.headers["etag"] == empty_tag
                assert await agent1.get_preferred_job_list() == []

    async def test_if_match(self, api: Api) -> None:
        """If-Match with the current ETag (or *) succeeds; with a stale one it is 412 and nothing changes."""
        with trio.fail_after(TIMEOUT):
            async with api.running.logged_on("agent1") as agent1:
                stale = (await api.admin.get(PREFERRED)).headers["etag"]
                response = await api.admin.put(PREFERRED, json={"campaigns": ["CMP1"]}, headers={"If-Match": stale})
                current = response.headers["etag"]
                assert ok(response)["campaigns"] == ["CMP1"]
                await assigned(agent1)

                response = await api.admin.put(PREFERRED, json={"campaigns": ["CMP2"]}, headers={"If-Match": stale})
                problem(response, 412, "have changed", current)
                problem(await api.admin.delete(PREFERRED, headers={"If-Match": stale}), 412)
                assert ok(await api.admin.get(PREFERRED))["campaigns"] == ["CMP1"]
                await assert_quiet(agent1)

                response = await api.admin.put(
                    PREFERRED, json={"campaigns": ["CMP1", "CMP4"]}, headers={"If-Match": f'"x", {current}'}
                )
                assert ok(response)["campaigns"] == ["CMP1", "CMP4"]
                response = await api.admin.delete(PREFERRED, headers={"If-Match": "*"})
                assert ok(response)["campaigns"] == []

    async def test_duplicates_collapse_and_twenty_is_the_cap(self, api: Api) -> None:
        """30 names that collapse to 3 are accepted in first-seen order; 21 different ones are a 422 naming 20."""
        with trio.fail_after(TIMEOUT):
            async with api.running.logged_on("agent1"):
                names = ["CMP3", "CMP1", "CMP3", "CMP2"] * 7 + ["CMP1", "CMP2"]
                assert ok(await api.admin.put(PREFERRED, json={"campaigns": names}))["campaigns"] == [
                    "CMP3",
                    "CMP1",
                    "CMP2",
                ]
                many = [f"X{number}" for number in range(21)]
                problem(await api.admin.put(PREFERRED, json={"campaigns": many}), 422, "at most 20", "21")
                assert ok(await api.admin.get(PREFERRED))["campaigns"] == ["CMP3", "CMP1", "CMP2"]

    async def test_unknown_campaign(self, api: Api) -> None:
        """A list naming an unknown campaign is a 422 naming it."""
        with trio.fail_after(TIMEOUT):
            async with api.running.logged_on("agent1"):
                problem(await api.admin.put(PREFERRED, json={"campaigns": ["CMP1", "NOPE"]}), 422, "NOPE")

    async def test_not_applicable(self, tmp_path: Path) -> None:
        """A campaign the agent may not work (INBOUND1 for an outbound-only agent) is a 422 naming it."""
        config = config_for_tests(tmp_path)
        agents = tuple(
            attrs.evolve(agent, work_classes=frozenset({WorkClass.OUTBOUND})) if agent.name == "agent1" else agent
            for agent in config.agents
        )
        with trio.fail_after(TIMEOUT):
            async with open_api(attrs.evolve(config, agents=agents)) as api, api.running.logged_on("agent1"):
                response = await api.admin.put(PREFERRED, json={"campaigns": ["CMP1", "INBOUND1"]})
                problem(response, 422, "INBOUND1 is not applicable")

    async def test_agent_not_logged_on(self, api: Api) -> None:
        """Changing the list of an agent that is not logged on is a 409; reading it gives an empty list."""
        with trio.fail_after(TIMEOUT):
            problem(await api.admin.put(PREFERRED, json={"campaigns": ["CMP1"]}), 409, "agent1 is not logged on")
            problem(await api.admin.delete(PREFERRED), 409, "agent1 is not logged on")
            assert ok(await api.admin.get(PREFERRED)) == {"agent": "agent1", "campaigns": []}

    async def test_dropped_connection_clears_the_list(self, api: Api) -> None:
        """R11 seen over REST: once the agent's connection drops it is logged off and its list is empty."""
        with trio.fail_after(TIMEOUT):
            async with api.running.logged_on("agent1") as agent1:
                ok(await api.admin.put(PREFERRED, json={"campaigns": ["CMP1"]}))
                await assigned(agent1)
                assert ok(await api.admin.get(PREFERRED))["campaigns"] == ["CMP1"]
            while ok(await api.admin.get("/api/v1/agents/agent1"))["logged_on"]:
                await trio.sleep(0.01)
            assert ok(await api.admin.get(PREFERRED))["campaigns"] == []

    async def test_audited_with_the_token_name(self, api: Api) -> None:
        """Each change is in the audit log with the token's name, before and after."""
        with trio.fail_after(TIMEOUT):
            async with api.running.logged_on("agent1"):
                ok(await api.supervisor.put(PREFERRED, json={"campaigns": ["CMP1", "CMP2"]}))
                ok(await api.admin.delete(PREFERRED))
                entries = ok(await api.viewer.get("/api/v1/audit", params={"subject": "agent1"}))["entries"]
                assert [(e["actor"], e["action"], e["before"], e["after"]) for e in entries] == [
                    (ADMIN, "preferred_list", "CMP1,CMP2", ""),
                    (SUPERVISOR, "preferred_list", "", "CMP1,CMP2"),
                ]


class TestBodies:
    """Malformed and invalid request bodies."""

    @pytest.mark.parametrize(
        ("content", "detail"),
        [
            (b"{bad", "not valid JSON"),
            (b'{"campaigns": ["CMP1"]', "not valid JSON"),
            (b"[1, 2]", "must be a JSON object, not an array"),
            (b'"CMP1"', "must be a JSON object, not a string"),
            (b"", "needs a JSON object"),
            (b"\xff\xfe", "not valid JSON"),
        ],
    )
    async def test_malformed_json_is_400(self, api: Api, content: bytes, detail: str) -> None:
        """A body that is not a JSON object is a 400 problem."""
        with trio.fail_after(TIMEOUT):
            response = await api.admin.put(PREFERRED, content=content, headers={"Content-Type": "application/json"})
            problem(response, 400, detail)

    async def test_oversized_body_is_400(self, api: Api) -> None:
        """A body over 64 KiB is refused without being parsed."""
        with trio.fail_after(TIMEOUT):
            response = await api.admin.put(PREFERRED, content=b" " * (65 * 1024) + b"{}")
            problem(response, 400, "larger than 65536 bytes")

    @pytest.mark.parametrize(
        ("body", "location", "message"),
        [
            ({"campaigns": "CMP1"}, "$.campaigns", "Expected `array`, got `str`"),
            ({"campaigns": [1]}, "$.campaigns[0]", "Expected `str`, got `int`"),
            ({"campaigns": [""]}, "$.campaigns[0]", "Expected `str` of length >= 1"),
            ({"campaigns": ["X" * 20]}, "$.campaigns[0]", "Expected `str` of length <= 19"),
            ({}, "$", "Object missing required field `campaigns`"),
        ],
    )
    async def test_invalid_body_is_422_with_errors(
        self, api: Api, body: object, location: str, message: str
    ) -> None:
        """A JSON object that breaks the model is a 422 whose errors name the place and the problem."""
        with trio.fail_after(TIMEOUT):
            response = await api.admin.put(PREFERRED, json=body)
            assert problem(response, 422, message)["errors"] == [{"location": location, "message": message}]

    async def test_unknown_fields_are_ignored(self, api: Api) -> None:
        """Fields the model does not have are ignored (forward compatibility)."""
        with trio.fail_after(TIMEOUT):
            async with api.running.logged_on("agent1"):
                response = await api.admin.put(PREFERRED, json={"campaigns": ["CMP1"], "comment": "x"})
                assert ok(response)["campaigns"] == ["CMP1"]


class TestMove:
    async def test_move_pins_the_agent(self, api: Api) -> None:
        """A move among the agent's preferred campaigns answers the agent, pinned; the agent is told why."""
        with trio.fail_after(TIMEOUT):
            async with api.running.logged_on("agent1") as agent1:
                ok(await api.admin.put(PREFERRED, json={"campaigns": ["CMP1"]}))
                assert await assigned(agent1) == ("CMP1", "supervisor")
                ok(await api.admin.put(PREFERRED, json={"campaigns": ["CMP1", "CMP2"]}))
                agent = ok(await api.supervisor.post("/api/v1/agents/agent1/move", json={"campaign": "CMP2"}))
                assert (agent["name"], agent["campaign"], agent["mode"]) == ("agent1", "CMP2", "pinned")
                assert await assigned(agent1) == ("CMP2", "supervisor")
                assert await state(agent1) == ("S70003", "CMP2")
                entries = ok(await api.admin.get("/api/v1/audit", params={"limit": 1}))["entries"]
                assert [(e["actor"], e["action"], e["before"], e["after"]) for e in entries] == [
                    (SUPERVISOR, "move_agent", "CMP1", "CMP2")
                ]

    async def test_move_refused(self, api: Api) -> None:
        """Moves the engine refuses are 409 (not preferred, not running, not logged on); an unknown campaign
        is a 422."""
        with trio.fail_after(TIMEOUT):
            problem(await api.admin.post("/api/v1/agents/agent1/move", json={"campaign": "CMP2"}), 409, "not logged on")
            async with api.running.logged_on("agent1") as agent1:
                ok(await api.admin.put(PREFERRED, json={"campaigns": ["CMP1"]}))
                await assigned(agent1)
                response = await api.admin.post("/api/v1/agents/agent1/move", json={"campaign": "CMP2"})
                problem(response, 409, "not one of agent1's preferred campaigns")
                ok(await api.admin.post("/api/v1/campaigns/CMP3/pause"))
                ok(await api.admin.put(PREFERRED, json={"campaigns": ["CMP1", "CMP3"]}))
                response = await api.admin.post("/api/v1/agents/agent1/move", json={"campaign": "CMP3"})
                problem(response, 409, "CMP3 is not running")
                response = await api.admin.post("/api/v1/agents/agent1/move", json={"campaign": "NOPE"})
                problem(response, 422, "there is no campaign NOPE")
                problem(await api.admin.post("/api/v1/agents/agent1/move", json={}), 422, "campaign")

    async def test_a_manual_agent_is_asked_to_move(self, api: Api) -> None:
        """An agent that attaches jobs itself gets AGTJobTransRequest for the campaign (PC behaviour)."""
        with trio.fail_after(TIMEOUT):
            async with api.running.logged_on("agent1") as agent1:
                await agent1.attach_job("CMP1")
                ok(await api.admin.post("/api/v1/agents/agent1/move", json={"campaign": "CMP3"}))
                notice = await expect_notice(agent1, "AGTJobTransRequest")
                assert notice.first.segments == ("0", "M00001", "CMP3")


class TestMessages:
    async def test_message_reaches_the_agent(self, api: Api) -> None:
        """POST messages answers 202 and the agent receives AGTReceiveMessage with the text."""
        with trio.fail_after(TIMEOUT):
            async with api.running.logged_on("agent1") as agent1:
                text = "Please take your break at 10:15, thanks!"
                response = await api.supervisor.post("/api/v1/agents/agent1/messages", json={"text": text})
                assert ok(response, 202) == {"agent": "agent1", "text": text}
                notice = await expect_notice(agent1, "AGTReceiveMessage")
                assert notice.first.segments == ("0", "M00001", text)
                entries = ok(await api.admin.get("/api/v1/audit", params={"limit": 1}))["entries"]
                assert [(e["actor"], e["action"], e["subject"], e["after"]) for e in entries] == [
                    (SUPERVISOR, "message", "agent1", text)
                ]

    @pytest.mark.parametrize(
        ("text", "status", "detail"),
        [
            ("", 422, "length >= 1"),
            ("x" * 80, 422, "length <= 79"),
            ("bad\x03text", 422, "1 to 79 characters"),
        ],
    )
    async def test_bad_text(self, api: Api, text: str, status: int, detail: str) -> None:
        """Empty, too long (80) or control characters are 422; the agent gets nothing."""
        with trio.fail_after(TIMEOUT):
            async with api.running.logged_on("agent1") as agent1:
                problem(await api.admin.post("/api/v1/agents/agent1/messages", json={"text": text}), status, detail)
                await assert_quiet(agent1, 0.1)

    async def test_longest_text(self, api: Api) -> None:
        """79 characters are accepted."""
        with trio.fail_after(TIMEOUT):
            async with api.running.logged_on("agent1") as agent1:
                ok(await api.admin.post("/api/v1/agents/agent1/messages", json={"text": "y" * 79}), 202)
                assert (await expect_notice(agent1, "AGTReceiveMessage")).first.segments[2] == "y" * 79

    async def test_not_logged_on(self, api: Api) -> None:
        """A message to an agent that is not logged on is a 409."""
        with trio.fail_after(TIMEOUT):
            response = await api.admin.post("/api/v1/agents/agent4/messages", json={"text": "hi"})
            problem(response, 409, "agent4 is not logged on")
