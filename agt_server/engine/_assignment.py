"""Assignment: which job each server-assigned agent works, and moving it there (rules R3–R8, R11).

Theory of operation
-------------------
An agent is *server-assigned* once it sends a preferred list (an empty one means "any campaign"),
once a supervisor sets or clears its list, or when it asks for work (AGTAvailWork) without a job.
Its *candidates* are the running jobs applicable to it, within its preferred list when it has one.

Two mechanisms keep agents placed:

* **settling** runs after every input, on the few agents whose situation changed (their list, their
  job's state, a job gaining room).  An agent whose job is no longer a candidate leaves it at once
  (unless it is on a call: then when the call ends); an agent without a job takes the candidate with
  the lowest load per unit of priority that has room.  This keeps the rules true at every moment —
  nobody idles while one of its candidates wants agents, nobody works a job outside its list.
* **rebalancing** restores fairness between jobs (``_allocation.allocate``: minimums by priority,
  then weighted max-min fair shares).  It runs at most every ``assignment.rebalance_interval``
  seconds, and moves only agents that are not on a call and have stayed ``dwell_time`` on their job.

Agents are told with notifications carrying the job and a reason (our POM extension):
``AGTJobAssigned 0 M00001 <job> <reason>`` then ``0 M00000`` when they are put on a job (the job
they were on, if any, is left), and ``AGTJobUnassigned 0 M00001 <job> <reason>`` then ``0 M00000``
when they leave a job and have none.  Agents in manual mode (plain PC clients) are never moved by
balancing; they see ``AGTJobEnd``/``AGTJobTransLink``/``AGTJobTransRequest`` as on a PC system.
"""

from __future__ import annotations

import enum
import heapq
from typing import TYPE_CHECKING

from agt_server.protocol import Message, MessageType, fit_message

from ._allocation import AgentSlot, JobSlot, allocate
from ._calls import CallKind
from ._events import Effect, Send
from ._jobs import JobState, is_applicable
from ._session import AgentState, AssignmentMode, ListType, Session

if TYPE_CHECKING:
    from ._engine import Engine

__all__ = ["Balancer", "MoveReason", "candidates", "notification", "potential_jobs"]


class MoveReason(enum.StrEnum):
    """Why the server put an agent on a job or took it off one (the last segment of the notice)."""

    ASSIGNED = "assigned"  #: the agent asked for work, or its own list changed
    REBALANCED = "rebalanced"  #: fairness between its preferred jobs
    JOB_PAUSED = "job-paused"  #: its job was paused
    JOB_STOPPED = "job-stopped"  #: its job was stopped (or is not running)
    JOB_DIALED_OUT = "job-dialed-out"  #: every record of its job is done
    SUPERVISOR = "supervisor"  #: a supervisor changed its list or moved it
    CALLBACK = "callback"  #: taken temporarily for a callback (R7)
    INBOUND = "inbound"  #: taken temporarily for an inbound call (R8)
    RETURNED = "returned"  #: back to normal assignment after a callback or inbound call


_LEFT_JOB_REASONS = {
    JobState.PAUSED: MoveReason.JOB_PAUSED,
    JobState.STOPPED: MoveReason.JOB_STOPPED,
    JobState.INACTIVE: MoveReason.JOB_STOPPED,
    JobState.COMPLETED: MoveReason.JOB_DIALED_OUT,
}


def notification(session: Session, keyword: str, *messages: tuple[str, ...]) -> list[Effect]:
    """The ``N`` messages of one notification to ``session`` (invoke id 0, the session's process id),
    each cut to the 256 bytes real clients read at once."""
    return [
        Send(
            session.conn,
            fit_message(Message(keyword, MessageType.NOTIFICATION, segments, process_id=session.process_id)),
        )
        for segments in messages
    ]


def candidates(engine: Engine, session: Session) -> tuple[str, ...]:
    """The jobs ``session``'s agent may be given: running, applicable, fitting its work class, and
    preferred when it has a list."""
    agent = session.agent
    if agent is None:
        return ()
    assignable, running = engine.assignable_jobs(agent, session.work_class), engine.running
    return tuple(name for name in session.preferred or engine.jobs if name in running and name in assignable)


def potential_jobs(engine: Engine, session: Session) -> tuple[str, ...]:
    """The jobs that would be candidates if they were running (to know whom a job's start concerns)."""
    agent = session.agent
    if agent is None:
        return ()
    assignable = engine.assignable_jobs(agent, session.work_class)
    return tuple(name for name in session.preferred or engine.jobs if name in assignable)


class Balancer:
    """The assignment state of one engine: who waits for a job, what must be looked at again."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        #: server-assigned agents without a job, indexed by every job that could take them
        self.waiting_for: dict[str, set[int]] = {name: set() for name in engine.jobs}
        self.waiting: dict[int, tuple[str, ...]] = {}
        #: sessions to look at in the next settle, with the reason to give if they move
        self.dirty: dict[int, MoveReason | None] = {}
        #: the connection numbers of ``dirty`` as a heap, so that settling takes them lowest first in
        #: O(log n) each (a pause can touch thousands); may hold stale numbers no longer in ``dirty``
        self._dirty_order: list[int] = []
        self.rebalance_at: float | None = None
        self.last_rebalance: float | None = None
        #: something changed that may change the fair shares (an agent came, left, or became movable);
        #: the next settle schedules a rebalance
        self.unbalanced = False

    # -- marking ------------------------------------------------------------------------------

    def touch(self, session: Session, reason: MoveReason | None = None) -> None:
        """Look at ``session`` again in the next settle; ``reason`` overrides the reason of its move."""
        if session.conn not in self.dirty:
            heapq.heappush(self._dirty_order, session.conn)
            self.dirty[session.conn] = reason
        elif reason is not None:
            self.dirty[session.conn] = reason
        self.unbalanced = True

    def job_changed(self, name: str) -> None:
        """A job started, stopped or gained room: look again at its agents and at those waiting for it."""
        sessions = self.engine.sessions
        for conn in sorted(self.engine.attached[name] | self.waiting_for[name]):
            session = sessions.get(conn)
            if session is not None and session.server_assigned:
                self.touch(session)

    def job_has_room(self, name: str) -> None:
        """An agent left ``name``: the agents waiting for it may now have a place.

        Only as many as the job has room for (its maximum, or its records left) are looked at again,
        lowest connection first, the order settling takes them in: with thousands waiting, looking at
        all of them on every departure cost more than everything else the server did.  Should one of
        them take another job that gained room at the same moment, the rebalance asked for here fills
        the place.
        """
        self.unbalanced = True
        engine = self.engine
        if name not in engine.running:
            return
        waiting = self.waiting_for[name]
        capacity = engine.capacity(name)
        room = len(waiting) if capacity is None else capacity - len(engine.attached[name])
        sessions = engine.sessions
        for conn in heapq.nsmallest(room, waiting) if room > 0 else ():
            session = sessions.get(conn)
            if session is not None:
                self.touch(session)

    def demand_fell(self) -> None:
        """An attempt on one of a job's records ended: its demand (records left) stayed or fell.

        Nobody waiting can have gained a place, so they are not looked at (with thousands waiting, doing so
        on every outcome cost more than everything else the server did); the job may now have more agents
        than records, which the next rebalance sees to.
        """
        self.unbalanced = True

    def forget(self, session: Session) -> None:
        """Drop ``session`` from the indexes (logoff, manual mode)."""
        self._stop_waiting(session)
        self.dirty.pop(session.conn, None)
        self.unbalanced = True

    def request_rebalance(self, now: float) -> None:
        """Schedule a full rebalance, no sooner than the configured interval after the last one."""
        interval = self.engine.config.assignment.rebalance_interval
        due = now if self.last_rebalance is None else max(now, self.last_rebalance + interval)
        if self.rebalance_at is None or due < self.rebalance_at:
            self.rebalance_at = due

    # -- settling -----------------------------------------------------------------------------

    def settle(self, now: float, effects: list[Effect]) -> None:
        """Place every touched agent: off jobs that stopped being candidates, onto jobs with room."""
        while self.dirty:
            conn = heapq.heappop(self._dirty_order)
            if conn not in self.dirty:
                continue  # forgotten, or looked at by a rebalance, since it was touched
            reason = self.dirty.pop(conn)
            session = self.engine.sessions.get(conn)
            if session is None or not session.server_assigned or session.agent is None:
                continue
            self._settle_one(session, reason, now, effects)
        self._dirty_order.clear()  # whatever is left is stale
        if self.unbalanced:
            self.unbalanced = False
            self.request_rebalance(now)

    def _settle_one(self, session: Session, reason: MoveReason | None, now: float, effects: list[Effect]) -> None:
        if session.temporary is not None or session.state is AgentState.ON_RECORD:
            return  # looked at again when the call ends
        options = candidates(self.engine, session)
        if session.mode is AssignmentMode.PINNED:
            pinned = session.pinned_job
            if pinned in options and (session.job == pinned or self._has_room(pinned)):
                if session.job != pinned:
                    self.move(session, pinned, reason or MoveReason.SUPERVISOR, now, effects)
                return
            # Its chosen job stopped, or filled up before the move could be made: back to balancing.
            session.mode, session.pinned_job = AssignmentMode.SERVER, None
        if session.job is not None and session.job in options and reason is not MoveReason.RETURNED:
            return
        reason = reason or self._reason_for_leaving(session)
        best = self._roomiest(options, exclude=session.job if reason is not MoveReason.RETURNED else None)
        if best is None and session.job is not None and session.job in options:
            best = session.job  # returning to the job it was on, which is still a candidate
        if best is not None:
            self.move(session, best, reason, now, effects)
        elif session.job is not None:
            self.unassign(session, reason, effects)
        else:
            self._start_waiting(session)

    def _reason_for_leaving(self, session: Session) -> MoveReason:
        if session.job is None:
            return MoveReason.ASSIGNED
        state = self.engine.jobs[session.job].state
        return _LEFT_JOB_REASONS.get(state, MoveReason.ASSIGNED)

    def _has_room(self, name: str) -> bool:
        capacity = self.engine.capacity(name)
        return capacity is None or len(self.engine.attached[name]) < capacity

    def _roomiest(self, options: tuple[str, ...], exclude: str | None) -> str | None:
        """The candidate with the lowest load per unit of priority that has room (ties: priority, name)."""
        best: tuple[float, int, str] | None = None
        for name in options:
            if name == exclude or not self._has_room(name):
                continue
            job = self.engine.jobs[name]
            key = (len(self.engine.attached[name]) / job.config.priority, -job.config.priority, name)
            if best is None or key < best:
                best = key
        return None if best is None else best[2]

    # -- moving -------------------------------------------------------------------------------

    def move(
        self,
        session: Session,
        job: str,
        reason: MoveReason,
        now: float,
        effects: list[Effect],
        *,
        offer_waiting_calls: bool = True,
    ) -> None:
        """Put ``session`` on ``job`` (leaving its current one) and tell it why.

        An agent that arrives ready takes a call already waiting for the job, unless the caller is
        about to give it a particular one (``offer_waiting_calls=False``).
        """
        engine = self.engine
        self._stop_waiting(session)
        previous = session.job
        keep_state = session.state if previous is not None else session.resume_state
        key_fields = dict(session.key_fields)
        data_fields = {kind: list(names) for kind, names in session.data_fields.items()}
        if previous is not None:
            engine.detach(session)
        engine.attach(session, job)
        session.state = keep_state if keep_state is not AgentState.IDLE else AgentState.ATTACHED
        if session.state is AgentState.READY:
            session.ready_since = now
        session.moved_at = now
        session.key_fields, session.data_fields = key_fields, data_fields
        self._carry_fields(session, job)
        effects += notification(session, "AGTJobAssigned", ("0", "M00001", job, reason.value), ("0", "M00000"))
        engine.state_changed(session, effects, f"assigned to {job}: {reason.value}")
        if offer_waiting_calls and session.state is AgentState.READY:
            engine.switchboard.agent_ready(session, now, effects)

    def unassign(self, session: Session, reason: MoveReason, effects: list[Effect]) -> None:
        """Take ``session`` off its job, leaving it without one (it waits for a candidate to have room)."""
        previous = session.job
        assert previous is not None
        session.resume_state = session.state if session.state is not AgentState.ON_RECORD else AgentState.AVAILABLE
        self.engine.detach(session)
        effects += notification(session, "AGTJobUnassigned", ("0", "M00001", previous, reason.value), ("0", "M00000"))
        self.engine.state_changed(session, effects, f"left {previous}: {reason.value}")
        self._start_waiting(session)

    def _carry_fields(self, session: Session, job: str) -> None:
        """Keep the key and data fields the new job's lists also have; drop the others."""
        new = self.engine.jobs[job].config
        lists = {ListType.INBOUND: new.inbound_list, ListType.OUTBOUND: new.outbound_list}
        fields = {
            list_type: {spec.name for spec in self.engine.calling_lists[name].fields} if name else set()
            for list_type, name in lists.items()
        }
        session.key_fields = {kind: name for kind, name in session.key_fields.items() if name in fields[kind]}
        session.data_fields = {
            kind: [name for name in names if name in fields[kind]] for kind, names in session.data_fields.items()
        }

    def _start_waiting(self, session: Session) -> None:
        if session.conn in self.waiting:
            return
        jobs = potential_jobs(self.engine, session)
        self.waiting[session.conn] = jobs
        for name in jobs:
            self.waiting_for[name].add(session.conn)

    def _stop_waiting(self, session: Session) -> None:
        for name in self.waiting.pop(session.conn, ()):
            self.waiting_for[name].discard(session.conn)

    # -- rebalancing --------------------------------------------------------------------------

    def rebalance(self, now: float, effects: list[Effect]) -> None:
        """Restore fairness between jobs: the full allocation, applied to agents free to move."""
        engine = self.engine
        self.rebalance_at = None
        self.last_rebalance = now
        dwell = engine.config.assignment.dwell_time
        running = [job for job in engine.jobs.values() if job.running]
        jobs = [
            JobSlot(job.name, job.config.priority, job.config.min_agents, engine.capacity(job.name)) for job in running
        ]
        slots: list[AgentSlot] = []
        held_until: list[float] = []
        for session in engine.online.values():
            if session.agent is None:
                continue
            movable = (
                session.mode is AssignmentMode.SERVER
                and session.temporary is None
                and session.state is not AgentState.ON_RECORD
            )
            if movable and session.job is not None and session.moved_at is not None and session.moved_at + dwell > now:
                movable = False
                held_until.append(session.moved_at + dwell)
            if session.job is None and not movable:
                continue
            options = candidates(engine, session) if movable else ()
            slots.append(AgentSlot(session.agent.name, options, session.job, movable))
        target = allocate(jobs, slots)
        for slot in slots:
            if not slot.movable or target[slot.name] == slot.current:
                continue
            session = engine.online[slot.name]
            job = target[slot.name]
            if job is None:
                self.unassign(session, MoveReason.REBALANCED, effects)
            else:
                reason = MoveReason.REBALANCED if session.job is not None else MoveReason.ASSIGNED
                self.move(session, job, reason, now, effects)
        self.dirty.clear()  # the allocation has looked at everyone
        if held_until:
            # Agents held by their dwell time may be due a move once it ends: look again then.
            self.rebalance_at = max(min(held_until), now + engine.config.assignment.rebalance_interval)

    def next_deadline(self) -> float | None:
        """When the next full rebalance is due, if one is."""
        return self.rebalance_at

    # -- explaining ---------------------------------------------------------------------------

    def explain(self, session: Session) -> str:
        """Why the agent is on its job or idle, in words a supervisor understands."""
        engine = self.engine
        agent = session.agent
        if agent is None:
            return "not logged on"
        name = agent.name
        if session.mode is AssignmentMode.MANUAL:
            where = f"it is on {session.job}" if session.job else "it has no job"
            return f"{name} chooses its jobs itself (it has not sent a preferred list); {where}."
        wanted = ", ".join(session.preferred) if session.preferred else "any applicable campaign"
        if session.temporary is not None:
            what = "a callback" if session.temporary.kind is CallKind.CALLBACK else "an inbound call"
            return (
                f"{name} is on {session.temporary.job} only for {what}; afterwards it returns to "
                f"its preferred campaigns ({wanted})."
            )
        if session.job is not None:
            job = engine.jobs[session.job]
            load = len(engine.attached[job.name])
            share = f"{job.name} has {load} agent{'s' if load != 1 else ''} at priority {job.config.priority}"
            if session.mode is AssignmentMode.PINNED:
                return f"{name} is on {job.name}, which it (or a supervisor) chose; {share}."
            if session.state is AgentState.ON_RECORD and job.name not in candidates(engine, session):
                return f"{name} is finishing a call on {job.name}; it moves when the call ends."
            return f"{name} is on {job.name}, chosen by balancing among {wanted}; {share}."
        names = session.preferred or tuple(engine.jobs)
        reasons = []
        assignable = engine.assignable_jobs(agent, session.work_class)
        for job_name in names:
            job = engine.jobs[job_name]
            if not is_applicable(agent, job.config):
                if session.preferred:
                    reasons.append(f"{job_name} is not applicable to it")
            elif job_name not in assignable:
                if session.preferred:
                    reasons.append(f"{job_name} does not fit its work class {session.work_class.value}")
            elif not job.running:
                reasons.append(f"{job_name} is {_STATE_WORDS[job.state]}")
            elif job.config.max_agents is not None and len(engine.attached[job_name]) >= job.config.max_agents:
                reasons.append(f"{job_name} is full ({job.config.max_agents} agents)")
        detail = "; ".join(reasons) if reasons else "no campaign applies to it"
        scope = "none of its preferred campaigns can take it" if session.preferred else "no campaign can take it"
        return f"{name} is idle: {scope} ({detail})."


_STATE_WORDS = {
    JobState.INACTIVE: "not started",
    JobState.PAUSED: "paused",
    JobState.STOPPED: "stopped",
    JobState.COMPLETED: "dialed out",
    JobState.RUNNING: "running",
}
