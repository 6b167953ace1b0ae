"""One connection's logical state: who is logged on and where the agent stands.

The state model is the PC Agent API's (reference §2).  ``AgentState`` is what AGTListState reports;
the headset is an orthogonal sub-state; the rest are flags that commands check.
"""

from __future__ import annotations

import enum

import attrs

from agt_server.config import AgentConfig
from agt_server.protocol import WorkClass

from ._calls import Call, Temporary

__all__ = ["WORKING_STATES", "AgentState", "AssignmentMode", "HeadsetState", "ListType", "Session"]


class AgentState(enum.Enum):
    """Where a logged-on agent stands, with the code AGTListState reports for it."""

    IDLE = "S70004"  #: logged on, no job attached
    ATTACHED = "S70003"  #: job attached, not available for work
    AVAILABLE = "S70002"  #: joined the job (AGTAvailWork), not ready for the next record
    READY = "S70001"  #: waiting for the next record (AGTReadyNextItem)
    ON_RECORD = "S70000"  #: working a record or on a call


#: States in which the agent is available for work on its job.
WORKING_STATES = frozenset({AgentState.AVAILABLE, AgentState.READY, AgentState.ON_RECORD})


class HeadsetState(enum.Enum):
    """The headset sub-state (AGTReserveHeadset → AGTConnHeadset → AGTDisconnHeadset → AGTFreeHeadset)."""

    NONE = "none"  #: no headset reserved
    RESERVED = "reserved"  #: reserved, not connected
    CONNECTED = "connected"  #: connected: the agent can take calls
    DISCONNECTED = "disconnected"  #: disconnected, still reserved


class AssignmentMode(enum.Enum):
    """Who decides which job a logged-on agent works."""

    MANUAL = "manual"  #: the agent attaches jobs itself: pure Proactive Contact behaviour
    SERVER = "server"  #: the server attaches, balances and moves the agent (POM preferred campaigns)
    PINNED = "pinned"  #: server-assigned, but kept on the job the agent (or a supervisor) chose


class ListType(enum.StrEnum):
    """Which calling list a field command is about."""

    INBOUND = "I"  #: the inbound list of an inbound or blend job
    OUTBOUND = "O"  #: the outbound list of an outbound, blend or managed job


@attrs.define(eq=False)
class Session:
    """The logical state of one connection (identity object, mutated by the engine only).

    Attributes:
        conn: the shell's connection id.
        process_id: the number this session writes in every header's process-id field.
        peer: the client's address, for logs.
        agent: the logged-on agent's configuration, ``None`` before logon.
        state: the agent state (meaningful once logged on).
        job: the attached job's name.
        work_class: the work class in force (AGTSetWorkClass; default outbound).
        headset: the headset sub-state; ``headset_id`` the reserved id.
        key_fields: the key field chosen per list type (AGTSetNotifyKeyField).
        data_fields: the fields sent with each call, per list type, in the order chosen.
        units: the units selected on a unit-work-list job.
        no_further_work_invoke: the invoke id of an AGTNoFurtherWork whose final reply is deferred.
        tenant: the tenant selected (AGTSetTenant or ``Tenant\\Agent`` at logon).
        logging_io: AGTLogIoStart is in force.
        closing: AGTLogoff succeeded; nothing more is processed.
        preferred: the agent's preferred jobs (at most 20), in the order given; empty = any job.
        mode: who decides the agent's job.
        pinned_job: the job a pinned agent stays on (its own AGTAttachJob, or a supervisor's move).
        leaving: the server ended the agent's work on its job (AGTJobEnd and the like): once its record
            is finished it stops taking work, as after AGTNoFurtherWork.
        resume_state: the state the agent gets back when the server attaches it to a job (an agent that
            was available or ready stays so across moves, and across a spell without a job).
        moved_at: when the server last put the agent on a job (balancing waits a dwell time after it).
        temporary: the agent is on its job only for a callback or an inbound call, then returns.
        call: the record the agent is working, if any.
        line_open: the agent is still connected to the customer of ``call`` (AGTReleaseLine hangs up).
        previewing: ``call`` is a managed job's record shown for preview, not dialed yet.
        waiting_calls: callbacks held for this agent until it is ready on their job.
        ready_since: when the agent became ready for the next record (longest idle gets inbound calls).
    """

    conn: int
    process_id: str
    peer: str
    agent: AgentConfig | None = None
    state: AgentState = AgentState.IDLE
    job: str | None = None
    work_class: WorkClass = WorkClass.OUTBOUND
    headset: HeadsetState = HeadsetState.NONE
    headset_id: str | None = None
    key_fields: dict[ListType, str] = attrs.Factory(dict)
    data_fields: dict[ListType, list[str]] = attrs.Factory(dict)
    units: tuple[str, ...] = ()
    no_further_work_invoke: str | None = None
    tenant: str | None = None
    logging_io: bool = False
    closing: bool = False
    preferred: tuple[str, ...] = ()
    mode: AssignmentMode = AssignmentMode.MANUAL
    pinned_job: str | None = None
    leaving: bool = False
    resume_state: AgentState = AgentState.ATTACHED
    moved_at: float | None = None
    temporary: Temporary | None = None
    call: Call | None = None
    line_open: bool = False
    previewing: bool = False
    waiting_calls: list[Call] = attrs.Factory(list)
    ready_since: float | None = None

    @property
    def agent_name(self) -> str | None:
        """The logged-on agent's name, or ``None``."""
        return self.agent.name if self.agent else None

    @property
    def state_code(self) -> str:
        """What AGTListState reports: ``S70004`` or ``S7000x,<job>``."""
        if self.job is None:
            return self.state.value
        return f"{self.state.value},{self.job}"

    def clear_job(self) -> None:
        """Forget everything tied to the attached job (AGTDetachJob clears these)."""
        self.job = None
        self.state = AgentState.IDLE
        self.key_fields.clear()
        self.data_fields.clear()
        self.units = ()
        self.no_further_work_invoke = None
        self.temporary = None
        self.leaving = False

    @property
    def server_assigned(self) -> bool:
        """Whether the server decides this agent's job (it sent a preferred list, or asked for work)."""
        return self.mode is not AssignmentMode.MANUAL
