"""Simulated agents and a campaign director for the demo.

The simulated agents are real AGT clients: they connect to the server's own wire port with
``agt_server.client``, log on, send a preferred list, ask for work and take whatever calls come.  The
director pauses and resumes CMP1-CMP4 in turn, so the log (and later the dashboard) shows agents
moving between their preferred campaigns (rules R3-R6).
"""

from __future__ import annotations

import random

import structlog
import trio

from agt_server.client import AgtClient, AgtClientError, open_agt_client
from agt_server.engine import ControlJob, JobAction, OperationRefused
from agt_server.server import AgentServer, BoundPorts

__all__ = ["DEMO_AGENTS", "run_demo_activity"]

log = structlog.get_logger("agt_server.demo")

#: The simulated agents and their preferred campaigns (an empty list: any campaign).
DEMO_AGENTS: dict[str, tuple[str, ...]] = {
    "agent11": ("CMP1", "CMP2"),
    "agent12": ("CMP1", "CMP2"),
    "agent13": ("CMP2", "CMP3"),
    "agent14": ("CMP2", "CMP3"),
    "agent15": ("CMP3", "CMP4"),
    "agent16": ("CMP3", "CMP4"),
    "agent17": ("CMP1", "CMP4"),
    "agent18": ("CMP1", "CMP4"),
    "agent19": (),
    "agent20": (),
}
_CAMPAIGNS = ("CMP1", "CMP2", "CMP3", "CMP4")
#: Seconds between two steps of the director (one campaign paused or resumed per step).
_DIRECTOR_STEP = 20.0


async def run_demo_activity(server: AgentServer, ports: BoundPorts, *, seed: int | None = None) -> None:
    """Run the simulated agents and the director until cancelled."""
    rng = random.Random(seed)
    async with trio.open_nursery() as nursery:
        for agent, preferred in DEMO_AGENTS.items():
            nursery.start_soon(_simulated_agent, ports, agent, preferred, random.Random(rng.random()))
        nursery.start_soon(_director, server)


async def _director(server: AgentServer) -> None:
    """Pause one campaign, later resume it, then the next: agents move within their lists."""
    while True:
        for name in _CAMPAIGNS:
            for action in (JobAction.PAUSE, JobAction.RESUME):
                await trio.sleep(_DIRECTOR_STEP)
                try:
                    server.driver.dispatch(ControlJob(name, action, actor="demo director"))
                except OperationRefused as exc:
                    log.info("demo_director_skipped", job=name, action=action.value, why=str(exc))
                else:
                    log.info("demo_director", job=name, action=action.value)


async def _simulated_agent(ports: BoundPorts, agent: str, preferred: tuple[str, ...], rng: random.Random) -> None:
    """One simulated agent, reconnecting if its session ends."""
    assert ports.agent is not None
    while True:
        try:
            async with open_agt_client(ports.host, ports.agent, client_name="demo") as client:
                await _work(client, agent, preferred, rng)
        except (AgtClientError, OSError) as exc:
            log.info("demo_agent_reconnecting", agent=agent, why=str(exc))
        await trio.sleep(5)


async def _work(client: AgtClient, agent: str, preferred: tuple[str, ...], rng: random.Random) -> None:
    await client.logon(agent, agent)
    await client.reserve_headset(agent.removeprefix("agent").rjust(4, "9"))
    await client.connect_headset()
    await client.set_preferred_job_list(preferred)
    await client.avail_work()
    async for notification in client.notifications:
        if notification.keyword in ("AGTJobAssigned", "AGTJobUnassigned"):
            job, reason = notification.records[:2]
            moved = "on" if notification.keyword == "AGTJobAssigned" else "off"
            log.info("demo_agent_moved", agent=agent, job=job, direction=moved, reason=reason)
            if moved == "on" and (await client.list_state()).code == "S70002":
                await client.ready_next_item()
        elif notification.keyword == "AGTCallNotify":
            await trio.sleep(rng.uniform(3, 10))  # talk
            await client.release_line()
            await trio.sleep(rng.uniform(1, 3))  # wrap up
            keys = [key.code for key in await client.list_keys()] or ["20"]
            await client.finished_item(rng.choice(keys))
            await client.ready_next_item()
