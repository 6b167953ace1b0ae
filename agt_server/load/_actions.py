"""Scheduled supervisor actions: the REST requests, and which simulated agents each should move.

Each action is one :class:`~agt_server.load.Disruption`: the agents it is expected to move are told
(:meth:`SimulatedAgent.expect_move`) *before* the request goes out, so that a notification that beats
the HTTP response is timed too.  The latency is from just before the request to each agent's next
move notification (``AGTJobAssigned``, ``AGTJobUnassigned``, or a PC job change).
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

import httpx
import trio

from ._agent import SimulatedAgent
from ._scenario import Action, ActionKind
from ._stats import Disruption

__all__ = ["perform_action"]

#: How long one REST request may take.
_REQUEST_TIMEOUT = 30.0


async def perform_action(http: httpx.AsyncClient, action: Action, agents: Sequence[SimulatedAgent]) -> Disruption:
    """Carry out ``action`` through the REST API and return the disruption being timed.

    The affected agents, and the notification that answers each: for ``pause`` and ``stop``, the
    logged-on agents on the campaign, until one takes them off it; for ``resume`` and ``start``, the
    logged-on agents without a job, until one puts them on the campaign (those it does not take are
    counted as affected, not notified); for ``move``, the first ``action.agents`` logged-on agents, until
    one puts them on the target; for ``preferred``, the same agents, until their next move (an agent
    whose job is on its new list may not move at all).  When the request fails nobody is waited for.
    """
    online = [agent for agent in agents if agent.logged_on]
    leaving = to = None
    match action.kind:
        case ActionKind.PAUSE | ActionKind.STOP:
            affected = [agent for agent in online if agent.job == action.campaign]
            leaving = action.campaign
        case ActionKind.RESUME | ActionKind.START:
            affected = [agent for agent in online if agent.job is None]
            to = action.campaign
        case ActionKind.MOVE:
            affected = online[: action.agents]
            to = action.campaign
        case _:
            affected = online[: action.agents]
    disruption = Disruption(action.label, trio.current_time(), len(affected), sum(agent.on_call for agent in affected))
    for agent in affected:
        agent.expect_move(disruption, leaving=leaving, to=to)
    try:
        if action.kind in (ActionKind.PREFERRED, ActionKind.MOVE):
            statuses = [await _agent_request(http, action, agent.name) for agent in affected]
            disruption.status = max(statuses, default=200)
        else:
            path = f"/api/v1/campaigns/{quote(str(action.campaign), safe='')}/{action.kind.value}"
            response = await http.post(path, timeout=_REQUEST_TIMEOUT)
            disruption.status = response.status_code
            if response.is_error:
                disruption.problem = _problem(response)
    except httpx.HTTPError as exc:
        disruption.problem = f"{type(exc).__name__}: {exc}"
    if disruption.problem is not None or (disruption.status or 0) >= 400:
        for agent in affected:
            agent.forget(disruption)
    return disruption


async def _agent_request(http: httpx.AsyncClient, action: Action, agent: str) -> int:
    path = f"/api/v1/agents/{quote(agent, safe='')}"
    if action.kind is ActionKind.PREFERRED:
        body: dict[str, object] = {"campaigns": list(action.campaigns)}
        response = await http.put(f"{path}/preferred-campaigns", json=body, timeout=_REQUEST_TIMEOUT)
    else:
        response = await http.post(f"{path}/move", json={"campaign": action.campaign}, timeout=_REQUEST_TIMEOUT)
    return response.status_code


def _problem(response: httpx.Response) -> str:
    """The RFC 9457 problem's detail, or the start of the body."""
    try:
        detail = response.json().get("detail")
    except ValueError:
        detail = None
    return f"HTTP {response.status_code}: {detail or response.text[:200]}"
