"""Agents: list, detail, explanation, preferred campaigns (with ETags), moves and messages."""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

from starlette.responses import Response

from agt_server.config import AgentConfig
from agt_server.engine import CallKind, MoveAgent, SendToAgent, SetPreferredJobs

from ._auth import Access
from ._handling import Context, json_response
from ._models import (
    Agent,
    AgentList,
    AgentQuery,
    AgentSession,
    Explanation,
    Message,
    MessageRequest,
    MoveRequest,
    PreferredCampaigns,
    PreferredCampaignsRequest,
    TemporaryWork,
)
from ._openapi import HeaderParameter, Registry
from ._problems import ProblemError

if TYPE_CHECKING:
    from agt_server.server import AgentServer

__all__ = ["agent_view", "api", "preferred_etag"]

api = Registry()

_TAG = "agents"
_AGENT = "/api/v1/agents/{agent}"
_IF_MATCH = HeaderParameter("If-Match", "The ETag of the list this change is based on; 412 when it has changed.")
_ETAG = (("ETag", "Identifies this version of the list, for If-Match."),)


def agent_view(server: AgentServer, config: AgentConfig) -> Agent:
    """What the API shows of an agent, from the engine's state."""
    engine = server.driver.engine
    name = config.name
    explanation = engine.explain(name)
    changed = server.driver.last_change.get(name)
    last_change = None if changed is None else datetime.datetime.fromtimestamp(changed, datetime.UTC)
    session = engine.online.get(name)
    if session is None:
        return Agent(name, config.group, False, None, None, [], None, None, None, explanation, None, last_change)
    temporary = None
    if session.temporary is not None:
        callback = session.temporary.kind is CallKind.CALLBACK
        temporary = TemporaryWork("callback" if callback else "inbound", session.temporary.job)
    connection = server.driver.connections.get(session.conn)
    return Agent(
        name=name,
        group=config.group,
        logged_on=True,
        state=session.state.value,
        campaign=session.job,
        preferred_campaigns=list(session.preferred),
        mode=session.mode.value,
        temporary=temporary,
        session=AgentSession(session.peer, connection.listener if connection else "unknown", session.process_id),
        explanation=explanation,
        idle_reason=explanation if session.job is None else None,
        last_change=last_change,
    )


def preferred_etag(agent: str, campaigns: Sequence[str]) -> str:
    """The ETag of ``agent``'s preferred list ``campaigns`` (quoted, as the header carries it)."""
    digest = hashlib.sha256("\n".join([agent, *campaigns]).encode()).hexdigest()[:20]
    return f'"{digest}"'


def _agent(ctx: Context) -> AgentConfig:
    """The agent named in the path: 404 when there is none, 403 outside a supervisor's groups."""
    name = ctx.path("agent")
    config = ctx.server.driver.engine.agents.get(name)
    if config is None:
        raise ProblemError(404, f"there is no agent {name}")
    ctx.who.check_group(name, config.group)
    return config


def _preferred(ctx: Context, agent: str) -> list[str]:
    session = ctx.server.driver.engine.online.get(agent)
    return [] if session is None else list(session.preferred)


def _preferred_response(ctx: Context, agent: str) -> Response:
    campaigns = _preferred(ctx, agent)
    return json_response(PreferredCampaigns(agent, campaigns), headers={"ETag": preferred_etag(agent, campaigns)})


def _check_if_match(ctx: Context, agent: str) -> None:
    header = ctx.request.headers.get("if-match")
    if header is None:
        return
    current = preferred_etag(agent, _preferred(ctx, agent))
    wanted = [tag.strip() for tag in header.split(",")]
    if "*" not in wanted and current not in wanted:
        raise ProblemError(
            412, f"{agent}'s preferred campaigns have changed (ETag {current}); read them again and retry"
        )


@api.operation(
    "GET",
    "/api/v1/agents",
    summary="List agents",
    description="Every configured agent (a supervisor: of its groups), logged on or not, sorted by name; "
    "`logged_on=true` lists only the logged-on ones (the dashboard's default on a site of thousands); "
    "`total` counts the agents the caller may see, whatever the filters.",
    tag=_TAG,
    access=Access.READ,
    query=AgentQuery,
    response=AgentList,
)
async def list_agents(ctx: Context, query: AgentQuery) -> Response:
    # This runs on the event loop that serves the AGT sessions, and a load-test site has 10,000 agents: the
    # loop does no more than the filters need (only the online table for logged_on=true).
    engine = ctx.server.driver.engine
    if query.campaign is not None and query.campaign not in engine.jobs:
        raise ProblemError(422, f"there is no campaign {query.campaign}")
    online = engine.online
    configs = engine.agents
    who = ctx.who
    wants_state = query.state is not None or query.campaign is not None or query.logged_on is True
    names = online if wants_state else configs
    agents = []
    for name in sorted(names):
        config = configs.get(name)
        if config is None or not who.sees_group(config.group):
            continue
        if query.group is not None and config.group != query.group:
            continue
        session = online.get(name)
        if query.logged_on is not None and query.logged_on != (session is not None):
            continue
        if query.state is not None and (session is None or session.state.value != query.state):
            continue
        if query.campaign is not None and (session is None or session.job != query.campaign):
            continue
        agents.append(agent_view(ctx.server, config))
    total = sum(1 for config in configs.values() if who.sees_group(config.group))
    return json_response(AgentList(agents, total))


@api.operation("GET", _AGENT, summary="One agent", tag=_TAG, access=Access.READ, response=Agent, problems=(403,))
async def get_agent(ctx: Context) -> Response:
    return json_response(agent_view(ctx.server, _agent(ctx)))


@api.operation(
    "GET",
    f"{_AGENT}/explain",
    summary="Why the agent is on its campaign, or idle",
    tag=_TAG,
    access=Access.READ,
    response=Explanation,
    problems=(403,),
)
async def explain_agent(ctx: Context) -> Response:
    name = _agent(ctx).name
    return json_response(Explanation(name, ctx.server.driver.engine.explain(name)))


@api.operation(
    "GET",
    f"{_AGENT}/preferred-campaigns",
    summary="The agent's preferred campaigns",
    tag=_TAG,
    access=Access.READ,
    response=PreferredCampaigns,
    response_headers=_ETAG,
    problems=(403,),
)
async def get_preferred_campaigns(ctx: Context) -> Response:
    return _preferred_response(ctx, _agent(ctx).name)


@api.operation(
    "PUT",
    f"{_AGENT}/preferred-campaigns",
    summary="Replace the agent's preferred campaigns",
    description="Atomic; the agent (which must be logged on) hears of any move on its AGT session at once.",
    tag=_TAG,
    access=Access.WRITE,
    body=PreferredCampaignsRequest,
    response=PreferredCampaigns,
    headers=(_IF_MATCH,),
    response_headers=_ETAG,
    problems=(409, 412),
)
async def put_preferred_campaigns(ctx: Context, body: PreferredCampaignsRequest) -> Response:
    return await _set_preferred(ctx, tuple(body.campaigns))


@api.operation(
    "DELETE",
    f"{_AGENT}/preferred-campaigns",
    summary="Clear the agent's preferred campaigns (it may then work any campaign)",
    tag=_TAG,
    access=Access.WRITE,
    response=PreferredCampaigns,
    headers=(_IF_MATCH,),
    response_headers=_ETAG,
    problems=(409, 412),
)
async def delete_preferred_campaigns(ctx: Context) -> Response:
    return await _set_preferred(ctx, ())


async def _set_preferred(ctx: Context, campaigns: tuple[str, ...]) -> Response:
    name = _agent(ctx).name
    _check_if_match(ctx, name)
    await ctx.steer(SetPreferredJobs(name, campaigns, actor=ctx.actor))
    return _preferred_response(ctx, name)


@api.operation(
    "POST",
    f"{_AGENT}/move",
    summary="Move the agent to a campaign",
    description="The agent must be logged on and the campaign running, applicable and (with a list) preferred.",
    tag=_TAG,
    access=Access.WRITE,
    body=MoveRequest,
    response=Agent,
    problems=(403, 409),
)
async def move_agent(ctx: Context, body: MoveRequest) -> Response:
    config = _agent(ctx)
    if body.campaign not in ctx.server.driver.engine.jobs:
        raise ProblemError(422, f"there is no campaign {body.campaign}")
    await ctx.steer(MoveAgent(config.name, body.campaign, actor=ctx.actor))
    return json_response(agent_view(ctx.server, config))


@api.operation(
    "POST",
    f"{_AGENT}/messages",
    summary="Send the agent a text message (AGTReceiveMessage)",
    tag=_TAG,
    access=Access.WRITE,
    body=MessageRequest,
    response=Message,
    status=202,
    problems=(409,),
)
async def send_message(ctx: Context, body: MessageRequest) -> Response:
    name = _agent(ctx).name
    await ctx.steer(SendToAgent(name, body.text, actor=ctx.actor))
    return json_response(Message(name, body.text), status=202)
