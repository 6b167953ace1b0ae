"""The seed scenarios, end to end: supervisors steer real AGT agent sessions over REST (R10, R5, R6, R11).

Each agent is an AGT client library session on the wire port; each supervisor action is an HTTP request
with a demo token; each check reads what the agent desktop receives, in order, and what the API shows.
"""

from __future__ import annotations

import trio

from .helpers import (
    SUPERVISOR,
    TIMEOUT,
    Api,
    assert_quiet,
    assigned,
    next_move,
    ok,
    state,
)


def preferred(agent: str) -> str:
    return f"/api/v1/agents/{agent}/preferred-campaigns"


class TestSupervisorSteersAgents:
    async def test_changing_the_list_moves_the_agent(self, api: Api) -> None:
        """A supervisor's list moves a logged-on agent at once: AGTJobAssigned <job> supervisor on its session,
        and again when the list changes to another campaign (R10)."""
        with trio.fail_after(TIMEOUT):
            async with api.running.logged_on("agent1") as agent1:
                assert await state(agent1) == ("S70004", None)
                ok(await api.supervisor.put(preferred("agent1"), json={"campaigns": ["CMP2"]}))
                assert await assigned(agent1) == ("CMP2", "supervisor")
                assert await state(agent1) == ("S70003", "CMP2")

                ok(await api.supervisor.put(preferred("agent1"), json={"campaigns": ["CMP3"]}))
                assert await assigned(agent1) == ("CMP3", "supervisor")
                assert await state(agent1) == ("S70003", "CMP3")
                assert [job.name for job in await agent1.get_preferred_job_list()] == ["CMP3"]
                agent = ok(await api.viewer.get("/api/v1/agents/agent1"))
                assert (agent["campaign"], agent["preferred_campaigns"], agent["mode"]) == ("CMP3", ["CMP3"], "server")
                assert agent["idle_reason"] is None
                await assert_quiet(agent1)

    async def test_clearing_the_list_returns_the_agent_to_any_campaign(self, api: Api) -> None:
        """With its only preferred campaign paused the agent is idle (R6); when the supervisor clears its list it
        is given a running campaign of any kind (R11's "no list = any campaign")."""
        with trio.fail_after(TIMEOUT):
            async with api.running.logged_on("agent1") as agent1:
                ok(await api.supervisor.put(preferred("agent1"), json={"campaigns": ["CMP3"]}))
                assert await assigned(agent1) == ("CMP3", "supervisor")
                ok(await api.supervisor.post("/api/v1/campaigns/CMP3/pause"))
                assert await next_move(agent1) == ("AGTJobUnassigned", "CMP3", "job-paused")
                assert await state(agent1) == ("S70004", None)
                idle = ok(await api.supervisor.get("/api/v1/agents/agent1"))
                assert idle["campaign"] is None
                assert "CMP3 is paused" in idle["idle_reason"]

                response = await api.supervisor.delete(preferred("agent1"))
                assert ok(response)["campaigns"] == []
                job, reason = await assigned(agent1)
                assert reason == "supervisor"
                assert job != "CMP3"
                assert ok(await api.admin.get(f"/api/v1/campaigns/{job}"))["state"] == "running"
                assert await state(agent1) == ("S70003", job)
                agent = ok(await api.supervisor.get("/api/v1/agents/agent1"))
                assert (agent["campaign"], agent["preferred_campaigns"], agent["idle_reason"]) == (job, [], None)
                assert "any applicable campaign" in agent["explanation"]

    async def test_pausing_cmp1_moves_its_agents_to_cmp2(self, api: Api) -> None:
        """Two agents on CMP1 preferring CMP1 and CMP2: the supervisor pauses CMP1 and both are moved to CMP2
        (AGTJobAssigned CMP2 job-paused, R5); the campaign counts follow."""
        with trio.fail_after(TIMEOUT):
            async with api.running.logged_on("agent1") as agent1, api.running.logged_on("agent2") as agent2:
                for name, agent in (("agent1", agent1), ("agent2", agent2)):
                    ok(await api.supervisor.put(preferred(name), json={"campaigns": ["CMP1"]}))
                    assert await assigned(agent) == ("CMP1", "supervisor")
                    ok(await api.supervisor.put(preferred(name), json={"campaigns": ["CMP1", "CMP2"]}))
                    assert await state(agent) == ("S70003", "CMP1")
                assert ok(await api.viewer.get("/api/v1/campaigns/CMP1"))["attached"] == 2

                paused = ok(await api.supervisor.post("/api/v1/campaigns/CMP1/pause"))
                assert (paused["state"], paused["attached"]) == ("paused", 0)
                assert await assigned(agent1) == ("CMP2", "job-paused")
                assert await assigned(agent2) == ("CMP2", "job-paused")
                assert await state(agent1) == ("S70003", "CMP2")
                assert await state(agent2) == ("S70003", "CMP2")
                assert ok(await api.viewer.get("/api/v1/campaigns/CMP2"))["attached"] == 2
                on_cmp2 = ok(await api.viewer.get("/api/v1/agents", params={"campaign": "CMP2"}))["agents"]
                assert [agent["name"] for agent in on_cmp2] == ["agent1", "agent2"]
                entries = ok(await api.admin.get("/api/v1/audit", params={"subject": "CMP1"}))["entries"]
                assert [(e["actor"], e["action"]) for e in entries] == [(SUPERVISOR, "job_pause")]
                await assert_quiet(agent1)
                await assert_quiet(agent2)
