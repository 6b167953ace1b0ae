"""Supervisor operations and job control, as engine inputs (the REST API calls these).

Each input is validated before anything changes; a refused one raises :class:`OperationRefused`
with a message for the supervisor, and the engine is left as it was.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs

from agt_server.config import AgentConfig
from agt_server.protocol import ErrorCode, JobType

from ._assignment import MoveReason, candidates, notification
from ._calls import Call
from ._errors import CommandRejected
from ._events import AgentEvent, Effect, JobEvent
from ._jobs import JobState, is_applicable
from ._session import WORKING_STATES, AgentState, AssignmentMode, Session
from ._writes import AuditEntry, JobStateChanged

if TYPE_CHECKING:
    from ._engine import Engine

__all__ = [
    "MAX_PREFERRED_JOBS",
    "CallbackDue",
    "ControlJob",
    "InboundCall",
    "JobAction",
    "MoveAgent",
    "OperationRefused",
    "SetPreferredJobs",
    "SupervisorInput",
    "validate_preferred",
]

#: The most preferred campaigns an agent may have (POM: 20).
MAX_PREFERRED_JOBS = 20


class OperationRefused(Exception):
    """A supervisor operation that cannot be done; nothing was changed.

    Attributes:
        kind: ``not_found`` (no such agent or job), ``conflict`` (not possible in the current state) or
            ``invalid`` (the request itself is wrong).
    """

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class JobAction(enum.Enum):
    """What a supervisor (or the dialer) can do to a job."""

    START = "start"  #: run a job that is not running (not paused: resume that)
    PAUSE = "pause"  #: stop dialing for now; agents move to their other candidates
    RESUME = "resume"  #: run a paused job again
    STOP = "stop"  #: stop the job; a linked job starts
    COMPLETE = "complete"  #: every record is done ("dialed out"); a linked job starts


@attrs.frozen
class SetPreferredJobs:
    """Replace an agent's preferred list (``()`` clears it: any applicable campaign)."""

    agent: str
    jobs: tuple[str, ...]
    actor: str = "supervisor"


@attrs.frozen
class MoveAgent:
    """Move a logged-on agent to a job, which it then keeps until the job stops being a candidate."""

    agent: str
    job: str
    actor: str = "supervisor"


@attrs.frozen
class ControlJob:
    """Start, pause, resume, stop or complete a job."""

    job: str
    action: JobAction
    actor: str = "supervisor"


@attrs.frozen
class CallbackDue:
    """A scheduled callback is due (R7): ``call.owner`` names the agent that owns it, if any."""

    call: Call


@attrs.frozen
class InboundCall:
    """A customer calls in to an inbound or blend job (R8)."""

    call: Call


@attrs.frozen
class SendToAgent:
    """A supervisor's text message to a logged-on agent (AGTReceiveMessage; at most 79 characters)."""

    agent: str
    text: str
    actor: str = "supervisor"


@attrs.frozen
class LinkJob:
    """Set (or clear, with ``None``) the job that starts when ``job`` stops or completes (R9)."""

    job: str
    linked_job: str | None
    actor: str = "supervisor"


@attrs.frozen
class ScheduleCallback:
    """Schedule a callback on a record of a job's outbound list, due at ``due_at`` (epoch seconds),
    owned by ``owner`` (an agent) or by the campaign."""

    job: str
    record_id: str
    due_at: float
    owner: str | None = None
    actor: str = "supervisor"


#: The longest text message an agent receives (PC 5.2: 79 characters).
MAX_MESSAGE_LENGTH = 79

SupervisorInput = (
    SetPreferredJobs | MoveAgent | ControlJob | CallbackDue | InboundCall | SendToAgent | LinkJob | ScheduleCallback
)

_TRANSITIONS: dict[JobAction, tuple[frozenset[JobState], JobState]] = {
    JobAction.START: (frozenset({JobState.INACTIVE, JobState.STOPPED, JobState.COMPLETED}), JobState.RUNNING),
    JobAction.PAUSE: (frozenset({JobState.RUNNING}), JobState.PAUSED),
    JobAction.RESUME: (frozenset({JobState.PAUSED}), JobState.RUNNING),
    JobAction.STOP: (frozenset({JobState.RUNNING, JobState.PAUSED}), JobState.STOPPED),
    JobAction.COMPLETE: (frozenset({JobState.RUNNING, JobState.PAUSED}), JobState.COMPLETED),
}


def validate_preferred(engine: Engine, agent: AgentConfig, names: Sequence[str]) -> tuple[str, ...]:
    """The preferred list ``names`` cleaned up (duplicates collapsed, order kept).

    Raises:
        CommandRejected: more than 20 jobs (``E70000``), an unknown job (``E28890,<job>``), or a job
            not applicable to the agent (``E28883,<job>``).  The supervisor API turns these into
            :class:`OperationRefused`.
    """
    unique = tuple(dict.fromkeys(name for name in names if name))
    if len(unique) > MAX_PREFERRED_JOBS:
        raise CommandRejected(ErrorCode.E70000, f"at most {MAX_PREFERRED_JOBS} preferred jobs, got {len(unique)}")
    for name in unique:
        job = engine.jobs.get(name)
        if job is None:
            raise CommandRejected(ErrorCode.E28890, name)
        if not is_applicable(agent, job.config):
            raise CommandRejected(ErrorCode.E28883, name)
    return unique


def set_preferred(  # noqa: PLR0917 - the engine, the agent, the list and its context
    engine: Engine, session: Session, jobs: tuple[str, ...], actor: str, now: float, effects: list[Effect]
) -> None:
    """Give ``session`` the (validated) list ``jobs``: it is now assigned by the server (R3, R10).

    Every change is audited (who, when, before, after).
    """
    assert session.agent is not None
    before = session.preferred
    session.preferred = jobs
    if session.mode is AssignmentMode.MANUAL:
        session.mode = AssignmentMode.SERVER
        if session.job is not None:
            session.moved_at = None  # its own choice: balancing may move it at once
    engine.balancer.forget(session)
    reason = MoveReason.ASSIGNED if actor == session.agent.name else MoveReason.SUPERVISOR
    engine.balancer.touch(session, reason)
    effects.append(AuditEntry(now, actor, "preferred_list", session.agent.name, ",".join(before), ",".join(jobs)))
    effects.append(
        AgentEvent(
            "preferences_changed",
            session.agent.name,
            session.conn,
            state=session.state.value,
            job=session.job,
            detail=f"{','.join(before) or '(any)'} -> {','.join(jobs) or '(any)'} by {actor}",
        )
    )


def supervise(engine: Engine, command: SupervisorInput, now: float, effects: list[Effect]) -> None:
    """Carry out one supervisor input (see the classes above)."""
    match command:
        case SetPreferredJobs(agent=agent, jobs=jobs, actor=actor):
            session = _online(engine, agent)
            assert session.agent is not None
            try:
                cleaned = validate_preferred(engine, session.agent, jobs)
            except CommandRejected as exc:
                raise OperationRefused("invalid", _refusal_text(exc)) from exc
            set_preferred(engine, session, cleaned, actor, now, effects)
        case MoveAgent(agent=agent, job=job, actor=actor):
            session = _online(engine, agent)
            before = session.job or ""
            _move_agent(engine, session, job, effects)
            effects.append(AuditEntry(now, actor, "move_agent", agent, before, job))
        case ControlJob(job=job, action=action, actor=actor):
            control_job(engine, _job(engine, job), action, now, effects, actor)
        case CallbackDue(call=call):
            _job(engine, call.job)
            engine.switchboard.callback_due(call, now, effects)
        case SendToAgent(agent=agent, text=text, actor=actor):
            session = _online(engine, agent)
            if not text or len(text) > MAX_MESSAGE_LENGTH or any(ch in text for ch in "\x1e\x03\x17"):
                raise OperationRefused("invalid", f"a message is 1 to {MAX_MESSAGE_LENGTH} characters of text")
            effects += notification(session, "AGTReceiveMessage", ("0", "M00001", text), ("0", "M00000"))
            effects.append(AuditEntry(now, actor, "message", agent, "", text))
        case LinkJob(job=job, linked_job=linked, actor=actor):
            _link_job(engine, _job(engine, job), linked, now, actor, effects)
        case ScheduleCallback(job=job, record_id=record_id, due_at=due_at, owner=owner, actor=actor):
            _schedule_callback(engine, _job(engine, job), record_id, due_at, owner, now, effects)
            effects.append(AuditEntry(now, actor, "callback", job, "", f"{record_id} for {owner or 'the campaign'}"))
        case InboundCall(call=call):
            inbound_job = engine.jobs[_job(engine, call.job)]
            if inbound_job.type not in (JobType.INBOUND, JobType.BLEND):
                raise OperationRefused("conflict", f"{call.job} is not an inbound or blend job")
            # A caller to a job that is not running waits in its queue until it runs again.
            engine.switchboard.inbound_call(call, now, effects)


def control_job(  # noqa: PLR0917 - the engine, the job, the action and its context
    engine: Engine, name: str, action: JobAction, now: float, effects: list[Effect], actor: str = "supervisor"
) -> None:
    """Change a job's state and tell its agents; a stopped or completed job starts its linked job (R9).

    The new state is a store write, so it survives a restart; a supervisor's action is also audited.
    """
    job = engine.jobs[name]
    allowed, new_state = _TRANSITIONS[action]
    if job.state not in allowed:
        raise OperationRefused("conflict", f"cannot {action.value} {name}: it is {job.state.value}")
    before = job.state
    engine.set_job_state(name, new_state)
    effects.append(JobStateChanged(name, new_state.value, actor, now))
    effects.append(AuditEntry(now, actor, f"job_{action.value}", name, before.value, new_state.value))
    effects.append(JobEvent(name, new_state.value, detail=f"{action.value} by {actor}"))
    linked = job.config.linked_job if new_state in (JobState.STOPPED, JobState.COMPLETED) else None
    if linked is not None and not engine.jobs[linked].running:
        engine.set_job_state(linked, JobState.RUNNING)
        effects.append(JobStateChanged(linked, JobState.RUNNING.value, f"linked from {name}", now))
        effects.append(JobEvent(linked, JobState.RUNNING.value, detail=f"linked from {name}"))
        engine.balancer.job_changed(linked)
    if not job.running:
        _end_manual_work(engine, name, linked, new_state, effects)
    engine.balancer.job_changed(name)
    # A job that starts or stops changes everyone's fair share, not only its own agents'.
    engine.balancer.request_rebalance(now)


def _end_manual_work(
    engine: Engine, name: str, linked: str | None, new_state: JobState, effects: list[Effect]
) -> None:
    """PC behaviour for agents that attach jobs themselves: AGTJobEnd, or AGTJobTransLink to the linked job.

    A paused job simply gives no work; only a job that ends is announced.
    """
    if new_state is JobState.PAUSED:
        return
    for conn in sorted(engine.attached[name]):
        session = engine.sessions.get(conn)
        if session is None or session.mode is not AssignmentMode.MANUAL:
            continue
        if linked is not None:
            effects += notification(session, "AGTJobTransLink", ("0", "M00001", linked), ("0", "M00000"))
        else:
            effects += notification(session, "AGTJobEnd", ("0", "M00000"))
        _stop_work(engine, session, effects)


def _stop_work(engine: Engine, session: Session, effects: list[Effect]) -> None:
    """The server's own AGTNoFurtherWork: off work now, or after the record being worked."""
    if session.state is AgentState.ON_RECORD:
        session.leaving = True
    elif session.state in WORKING_STATES:
        session.state = AgentState.ATTACHED
        engine.state_changed(session, effects, "job ended")


def _move_agent(engine: Engine, session: Session, job: str, effects: list[Effect]) -> None:
    assert session.agent is not None
    target = engine.jobs.get(job)
    if target is None:
        raise OperationRefused("not_found", f"there is no job {job}")
    if not target.running:
        raise OperationRefused("conflict", f"{job} is not running")
    if not is_applicable(session.agent, target.config):
        raise OperationRefused("conflict", f"{job} is not applicable to {session.agent.name}")
    if session.mode is AssignmentMode.MANUAL:
        # A PC client moves itself: tell it where to go (it detaches and attaches after the reply).
        if session.job == job:
            return
        effects += notification(session, "AGTJobTransRequest", ("0", "M00001", job), ("0", "M00000"))
        if session.job is not None:
            _stop_work(engine, session, effects)
        return
    if session.preferred and job not in session.preferred:
        raise OperationRefused(
            "conflict", f"{job} is not one of {session.agent.name}'s preferred campaigns; add it to the list first"
        )
    if job not in candidates(engine, session):
        raise OperationRefused("conflict", f"{job} cannot take {session.agent.name}")
    maximum = target.config.max_agents
    if maximum is not None and session.job != job and len(engine.attached[job]) >= maximum:
        raise OperationRefused("conflict", f"{job} already has its maximum of {maximum} agents")
    session.mode, session.pinned_job = AssignmentMode.PINNED, job
    engine.balancer.touch(session, MoveReason.SUPERVISOR)


def _link_job(  # noqa: PLR0917 - the engine, the link and its context
    engine: Engine, name: str, linked: str | None, now: float, actor: str, effects: list[Effect]
) -> None:
    if linked is not None:
        _job(engine, linked)
        if linked == name:
            raise OperationRefused("invalid", f"{name} cannot be linked to itself")
    job = engine.jobs[name]
    before = job.config.linked_job or ""
    job.config = attrs.evolve(job.config, linked_job=linked)
    effects.append(AuditEntry(now, actor, "job_link", name, before, linked or ""))
    effects.append(JobEvent(name, job.state.value, detail=f"linked to {linked or 'nothing'} by {actor}"))


def _schedule_callback(  # noqa: PLR0917 - the engine, the callback and its context
    engine: Engine, job: str, record_id: str, due_at: float, owner: str | None, now: float, effects: list[Effect]
) -> None:
    if engine.jobs[job].type is JobType.INBOUND:
        raise OperationRefused("invalid", f"{job} is an inbound job: it has no records to call back")
    record = engine.dialer.record(job, record_id)
    if record is None:
        raise OperationRefused("not_found", f"{job} has no record {record_id}")
    if owner is not None and owner not in engine.agents:
        raise OperationRefused("not_found", f"there is no agent {owner}")
    if due_at <= now:
        raise OperationRefused("invalid", "a callback must be due in the future")
    phone = next((value for name, value in record.fields if name.startswith("PHONE") and value), "")
    engine.dialer.add_callback(job, record_id, due_at, owner, phone, "", now, effects)


def _online(engine: Engine, agent: str) -> Session:
    session = engine.online.get(agent)
    if session is None:
        if agent in engine.agents:
            raise OperationRefused("conflict", f"{agent} is not logged on")
        raise OperationRefused("not_found", f"there is no agent {agent}")
    return session


def _job(engine: Engine, name: str) -> str:
    if name not in engine.jobs:
        raise OperationRefused("not_found", f"there is no job {name}")
    return name


def _refusal_text(exc: CommandRejected) -> str:
    if exc.code is ErrorCode.E70000:
        return exc.inline_detail
    if exc.code is ErrorCode.E28890:
        return f"there is no job {exc.inline_detail}"
    return f"{exc.inline_detail} is not applicable to this agent"
