"""The REST API's request, response and query models: frozen attrs classes.

The same classes validate requests (``msgspec.convert``), shape responses and generate the OpenAPI
document's schemas (``msgspec.json.schema_components``), so the three cannot drift apart.  Constraints
are ``msgspec.Meta`` annotations; a class docstring becomes its schema's description.
"""

from __future__ import annotations

import datetime
from typing import Annotated, Literal

import attrs
import msgspec

from agt_server.engine import MAX_MESSAGE_LENGTH, MAX_PREFERRED_JOBS

__all__ = [
    "MAX_AUDIT_PAGE",
    "MAX_LIST_ITEMS",
    "Agent",
    "AgentList",
    "AgentQuery",
    "AgentSession",
    "AuditEntry",
    "AuditPage",
    "AuditQuery",
    "Callback",
    "CallbackRequest",
    "Campaign",
    "CampaignList",
    "CampaignType",
    "EventsQuery",
    "Explanation",
    "FieldError",
    "Health",
    "InboundCallAccepted",
    "InboundCallRequest",
    "LinkRequest",
    "Message",
    "MessageRequest",
    "MoveRequest",
    "PreferredCampaigns",
    "PreferredCampaignsRequest",
    "Problem",
    "TemporaryWork",
]

#: The largest audit page.
MAX_AUDIT_PAGE = 500
#: The most names a preferred list request may hold before duplicates are collapsed (a bound on the work a
#: request causes; the rule is on different campaigns).
MAX_LIST_ITEMS = 100

#: A campaign (job) name as the configuration allows it.
CampaignName = Annotated[str, msgspec.Meta(min_length=1, max_length=19, description="A campaign (job) name.")]
AgentName = Annotated[str, msgspec.Meta(min_length=1, max_length=19, description="An agent's logon name.")]
#: The AGTListState codes.
AgentStateCode = Literal["S70004", "S70003", "S70002", "S70001", "S70000"]
CampaignType = Literal["O", "I", "B", "M"]
CampaignState = Literal["inactive", "running", "paused", "stopped", "completed"]


# -- problems -------------------------------------------------------------------------------------------


@attrs.frozen
class FieldError:
    """Where a request is invalid, and why."""

    location: Annotated[str, msgspec.Meta(description="A JSON path into the body (`$.campaigns[0]`) or a parameter.")]
    message: str


@attrs.frozen
class Problem:
    """An RFC 9457 problem document (`application/problem+json`)."""

    type: Annotated[str, msgspec.Meta(description="`https://agt-server.dev/problems/<slug>`.")]
    title: str
    status: int
    detail: Annotated[str, msgspec.Meta(description="What went wrong, in words.")]
    errors: Annotated[list[FieldError] | None, msgspec.Meta(description="Validation errors only.")] = None


# -- agents ---------------------------------------------------------------------------------------------


@attrs.frozen
class TemporaryWork:
    """The agent is on a campaign only for one call, then returns to its preferred campaigns."""

    kind: Literal["callback", "inbound"]
    campaign: str


@attrs.frozen
class AgentSession:
    """The agent's AGT connection."""

    peer: Annotated[str, msgspec.Meta(description="The client's address and port.")]
    listener: Annotated[str, msgspec.Meta(description="`wire`, `tls` or `tty`.")]
    process_id: Annotated[str, msgspec.Meta(description="The process id in the session's message headers.")]


@attrs.frozen
class Agent:
    """A configured agent, logged on or not."""

    name: str
    group: str
    logged_on: bool
    state: Annotated[AgentStateCode | None, msgspec.Meta(description="The AGTListState code; null when logged off.")]
    campaign: Annotated[str | None, msgspec.Meta(description="The campaign the agent is attached to.")]
    preferred_campaigns: list[str]
    mode: Annotated[
        Literal["manual", "server", "pinned"] | None,
        msgspec.Meta(description="Who picks its campaign: the agent (manual), the server, or pinned by a move."),
    ]
    temporary: TemporaryWork | None
    session: AgentSession | None
    explanation: Annotated[str, msgspec.Meta(description="Why the agent is where it is.")]
    idle_reason: Annotated[str | None, msgspec.Meta(description="Why a logged-on agent has no campaign.")]
    last_change: Annotated[datetime.datetime | None, msgspec.Meta(description="When it last changed.")]


@attrs.frozen
class AgentList:
    """Agents, sorted by name."""

    agents: list[Agent]
    total: Annotated[
        int, msgspec.Meta(ge=0, description="How many agents the caller may see, whatever the filters.")
    ]


@attrs.frozen
class AgentQuery:
    """Filters of the agent list; all must match."""

    state: AgentStateCode | None = None
    campaign: CampaignName | None = None
    group: Annotated[str, msgspec.Meta(min_length=1)] | None = None
    logged_on: Annotated[
        bool | None, msgspec.Meta(description="`true`: only logged-on agents; `false`: only logged-off ones.")
    ] = None


@attrs.frozen
class PreferredCampaigns:
    """An agent's preferred campaigns (empty: any campaign)."""

    agent: str
    campaigns: list[str]


@attrs.frozen
class PreferredCampaignsRequest:
    """The agent's new preferred campaigns, replacing the old ones (duplicates are collapsed)."""

    campaigns: Annotated[
        list[CampaignName],
        msgspec.Meta(
            max_length=MAX_LIST_ITEMS,
            description=f"At most {MAX_PREFERRED_JOBS} different campaigns, each applicable to the agent.",
        ),
    ]


@attrs.frozen
class Explanation:
    """Why the agent is on its campaign, or idle."""

    agent: str
    explanation: str


@attrs.frozen
class MoveRequest:
    """Move the agent to this campaign (it stays there until the campaign stops being one it may work)."""

    campaign: CampaignName


@attrs.frozen
class MessageRequest:
    """A text message for the agent (AGTReceiveMessage)."""

    text: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_MESSAGE_LENGTH)]


@attrs.frozen
class Message:
    """A message sent to an agent."""

    agent: str
    text: str


# -- campaigns ------------------------------------------------------------------------------------------


@attrs.frozen
class Campaign:
    """A campaign (job) and how many agents it has and wants."""

    name: str
    type: Annotated[CampaignType, msgspec.Meta(description="Outbound, inbound, blend, managed.")]
    state: CampaignState
    priority: int
    min_agents: int
    max_agents: int | None
    attached: Annotated[int, msgspec.Meta(description="Agents on it now.")]
    wanted: Annotated[int | None, msgspec.Meta(description="The most agents it can use; null: no limit.")]
    records_left: Annotated[int | None, msgspec.Meta(description="Records still to work; null: no outbound list.")]
    linked_campaign: str | None
    required_skills: list[str]


@attrs.frozen
class CampaignList:
    """Every campaign, in configuration order."""

    campaigns: list[Campaign]


@attrs.frozen
class LinkRequest:
    """The campaign that starts when this one stops or is dialed out; null removes the link."""

    linked_campaign: CampaignName | None


@attrs.frozen
class CallbackRequest:
    """Schedule a callback on a record of the campaign's calling list."""

    campaign: CampaignName
    record_id: Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
    due_at: Annotated[datetime.datetime, msgspec.Meta(tz=True, description="ISO 8601 with a time zone.")]
    owner: Annotated[AgentName | None, msgspec.Meta(description="The agent it is for; null: any agent.")] = None


@attrs.frozen
class Callback:
    """A scheduled callback."""

    campaign: str
    record_id: str
    due_at: datetime.datetime
    owner: str | None


@attrs.frozen
class InboundCallRequest:
    """A customer calling in to an inbound or blend campaign."""

    campaign: CampaignName
    caller: Annotated[
        dict[
            Annotated[str, msgspec.Meta(min_length=1, max_length=19)],
            Annotated[str, msgspec.Meta(max_length=255)],
        ],
        msgspec.Meta(max_length=64, description="The caller's record fields; NAME is shown to the agent."),
    ] = attrs.Factory(dict)
    record_id: Annotated[str, msgspec.Meta(min_length=1, max_length=255)] | None = None


@attrs.frozen
class InboundCallAccepted:
    """The call is queued for the campaign's agents."""

    campaign: str
    record_id: str


# -- audit, health ------------------------------------------------------------------------------------


@attrs.frozen
class AuditEntry:
    """A preferred-list change or a supervisor action."""

    at: datetime.datetime
    actor: str
    action: str
    subject: str
    before: str
    after: str


@attrs.frozen
class AuditPage:
    """Audit entries, newest first."""

    entries: list[AuditEntry]
    offset: int
    limit: int


@attrs.frozen
class AuditQuery:
    """Which page of the audit log."""

    offset: Annotated[int, msgspec.Meta(ge=0, le=2**31)] = 0
    limit: Annotated[int, msgspec.Meta(ge=1, le=MAX_AUDIT_PAGE)] = 50
    subject: Annotated[str, msgspec.Meta(min_length=1)] | None = None


@attrs.frozen
class EventsQuery:
    """Where the event stream starts, and the token for clients that cannot send headers."""

    last_event_id: Annotated[int, msgspec.Meta(ge=0)] | None = None
    token: str | None = None


@attrs.frozen
class Health:
    """The server is up."""

    status: Literal["ok"]
    sessions: int
    agents_logged_on: int
