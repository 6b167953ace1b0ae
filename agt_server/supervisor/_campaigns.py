"""Campaigns: list, detail, start/pause/resume/stop, links; callbacks and inbound calls into them."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, cast

from starlette.responses import Response

from agt_server.engine import Call, CallKind, ControlJob, InboundCall, JobAction, LinkJob, ScheduleCallback
from agt_server.protocol import JobType

from ._auth import Access
from ._handling import Context, json_response
from ._models import (
    Callback,
    CallbackRequest,
    Campaign,
    CampaignList,
    CampaignType,
    InboundCallAccepted,
    InboundCallRequest,
    LinkRequest,
)
from ._openapi import Handler, Registry
from ._problems import ProblemError

if TYPE_CHECKING:
    from agt_server.server import AgentServer

__all__ = ["api", "campaign_view"]

api = Registry()

_TAG = "campaigns"
_CAMPAIGN = "/api/v1/campaigns/{name}"
#: Record ids of injected inbound calls without one: unique within the server's life.
_inbound_ids = itertools.count(1)


def campaign_view(server: AgentServer, name: str) -> Campaign:
    """What the API shows of a campaign, from the engine's state."""
    engine = server.driver.engine
    job = engine.jobs[name]
    config = job.config
    return Campaign(
        name=name,
        type=cast(CampaignType, job.type.value),
        state=job.state.value,
        priority=config.priority,
        min_agents=config.min_agents,
        max_agents=config.max_agents,
        attached=len(engine.attached[name]),
        wanted=engine.capacity(name),
        records_left=engine.dialer.demand(name),
        linked_campaign=config.linked_job,
        required_skills=sorted(config.required_skills),
    )


def _campaign(ctx: Context) -> str:
    name = ctx.path("name")
    if name not in ctx.server.driver.engine.jobs:
        raise ProblemError(404, f"there is no campaign {name}")
    return name


@api.operation(
    "GET", "/api/v1/campaigns", summary="List campaigns", tag=_TAG, access=Access.READ, response=CampaignList
)
async def list_campaigns(ctx: Context) -> Response:
    return json_response(CampaignList([campaign_view(ctx.server, name) for name in ctx.server.driver.engine.jobs]))


@api.operation("GET", _CAMPAIGN, summary="One campaign", tag=_TAG, access=Access.READ, response=Campaign)
async def get_campaign(ctx: Context) -> Response:
    return json_response(campaign_view(ctx.server, _campaign(ctx)))


def _control(action: JobAction, summary: str) -> Handler:
    async def control(ctx: Context) -> Response:
        name = _campaign(ctx)
        await ctx.steer(ControlJob(name, action, actor=ctx.actor))
        return json_response(campaign_view(ctx.server, name))

    control.__name__ = f"{action.value}_campaign"
    return api.operation(
        "POST",
        f"{_CAMPAIGN}/{action.value}",
        summary=summary,
        tag=_TAG,
        access=Access.CAMPAIGN_CONTROL,
        response=Campaign,
        problems=(409,),
    )(control)


start_campaign = _control(JobAction.START, "Start a campaign that is inactive, stopped or completed")
pause_campaign = _control(JobAction.PAUSE, "Pause a running campaign (its agents move to their other campaigns)")
resume_campaign = _control(JobAction.RESUME, "Resume a paused campaign")
stop_campaign = _control(JobAction.STOP, "Stop a campaign (its linked campaign, if any, starts)")


@api.operation(
    "PUT",
    f"{_CAMPAIGN}/link",
    summary="Set or remove the campaign that starts when this one stops or is dialed out",
    tag=_TAG,
    access=Access.CAMPAIGN_CONTROL,
    body=LinkRequest,
    response=Campaign,
)
async def link_campaign(ctx: Context, body: LinkRequest) -> Response:
    name = _campaign(ctx)
    if body.linked_campaign is not None and body.linked_campaign not in ctx.server.driver.engine.jobs:
        raise ProblemError(422, f"there is no campaign {body.linked_campaign} to link to")
    await ctx.steer(LinkJob(name, body.linked_campaign, actor=ctx.actor))
    return json_response(campaign_view(ctx.server, name))


@api.operation(
    "POST",
    "/api/v1/callbacks",
    summary="Schedule a callback on a record",
    description="For an agent (owner), who gets it even from a campaign it does not prefer, or for the campaign.",
    tag=_TAG,
    access=Access.CAMPAIGN_CONTROL,
    body=CallbackRequest,
    response=Callback,
    status=201,
)
async def schedule_callback(ctx: Context, body: CallbackRequest) -> Response:
    engine = ctx.server.driver.engine
    if body.campaign not in engine.jobs:
        raise ProblemError(422, f"there is no campaign {body.campaign}")
    if body.owner is not None:
        owner = engine.agents.get(body.owner)
        if owner is None:
            raise ProblemError(422, f"there is no agent {body.owner} to own the callback")
        ctx.who.check_group(owner.name, owner.group)
    inbound = engine.jobs[body.campaign].type is JobType.INBOUND
    if not inbound and engine.dialer.record(body.campaign, body.record_id) is None:
        raise ProblemError(422, f"{body.campaign} has no record {body.record_id}")
    due_at = body.due_at.timestamp()
    await ctx.steer(ScheduleCallback(body.campaign, body.record_id, due_at, body.owner, actor=ctx.actor))
    return json_response(Callback(body.campaign, body.record_id, body.due_at, body.owner), status=201)


@api.operation(
    "POST",
    "/api/v1/inbound-calls",
    summary="A customer calls in to an inbound or blend campaign",
    description="The call goes to the longest-waiting eligible agent, or waits in the campaign's queue.",
    tag=_TAG,
    access=Access.CAMPAIGN_CONTROL,
    body=InboundCallRequest,
    response=InboundCallAccepted,
    status=202,
    problems=(409,),
)
async def inbound_call(ctx: Context, body: InboundCallRequest) -> Response:
    if body.campaign not in ctx.server.driver.engine.jobs:
        raise ProblemError(422, f"there is no campaign {body.campaign}")
    record_id = body.record_id or f"api-{next(_inbound_ids)}"
    fields = tuple(body.caller.items())
    call = Call(body.campaign, CallKind.INBOUND, record_id, fields, customer=body.caller.get("NAME", ""))
    await ctx.steer(InboundCall(call))
    return json_response(InboundCallAccepted(body.campaign, record_id), status=202)
