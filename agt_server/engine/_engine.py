"""The engine: every agent session's state machine, the jobs they work, and who works which job.

Theory of operation
-------------------
The engine is pure and deterministic.  The shell feeds it inputs (``Connected``, ``Received``,
``Disconnected``, ``Expel`` from connections; supervisor inputs from the REST API) with the current
time and carries out the effects it returns (``Send``, ``Close``, ``AgentEvent``, ``JobEvent``).  It
never awaits, never reads a clock and never touches a socket, so every behaviour can be tested by
calling :meth:`Engine.handle` and :meth:`Engine.tick` and reading the effects.

A command goes through the same gate every time, in this order:

1. a message that is not a command (type ``C``) gets ``E70001``;
2. an unknown keyword gets ``E28865,<keyword>``;
3. a wrong number of arguments gets ``E70000`` (extra *empty* trailing arguments are ignored, as real
   clients send them);
4. anything but ``AGTLogon`` before logon gets ``E28924``;
5. the command's handler checks its own preconditions, raising :class:`CommandRejected` with the
   documented E-code, or does its work and replies.

After every input the balancer *settles* the agents it touched (see ``_assignment.py``); a full,
fairness-restoring rebalance runs from :meth:`tick` when :meth:`next_deadline` says so.

Handlers live in ``_agent_commands.py``, assignment in ``_assignment.py``, calls in ``_delivery.py``,
supervisor operations in ``_supervision.py``; this module holds the state they work on.
"""

from __future__ import annotations

import datetime
import random

import attrs

from agt_server.config import AgentConfig, CallingListConfig, ContactRecord, SiteConfig
from agt_server.protocol import COMMANDS, ErrorCode, Message, MessageType, WorkClass

from ._agent_commands import HANDLERS, CommandCall
from ._assignment import Balancer
from ._delivery import Switchboard
from ._dialer import Dialer
from ._errors import CommandRejected
from ._events import AgentEvent, Close, Connected, Disconnected, Effect, Expel, Input, Received, Send
from ._jobs import Job, JobState, is_applicable, work_class_error
from ._session import AgentState, AssignmentMode, Session
from ._supervision import JobAction, SupervisorInput, control_job, supervise
from ._writes import StoredState

__all__ = ["Engine"]

#: Process ids the sessions write into their headers: numeric, constant per session, at most 6 digits.
_FIRST_PROCESS_ID = 1000
_LAST_PROCESS_ID = 999_999


@attrs.define(eq=False)
class Engine:
    """All agent sessions and jobs of one server.

    Create it with :meth:`from_config`; then call :meth:`handle` for every input and :meth:`tick` when
    :meth:`next_deadline` has passed.
    """

    config: SiteConfig
    jobs: dict[str, Job]
    agents: dict[str, AgentConfig]
    calling_lists: dict[str, CallingListConfig]
    sessions: dict[int, Session] = attrs.Factory(dict)
    #: the session each logged-on agent is using, by agent name
    online: dict[str, Session] = attrs.Factory(dict)
    #: the reserved headset ids, with the connection holding each (one id per logged-on session)
    headsets: dict[str, int] = attrs.Factory(dict)
    #: the connections of the agents attached to each job
    attached: dict[str, set[int]] = attrs.field(init=False)
    #: the names of the running jobs (kept in step with the jobs' states by set_job_state)
    running: set[str] = attrs.field(init=False)
    #: the jobs an agent of one (work classes, skills, current work class) profile may be given;
    #: few profiles, many agents
    _assignable: dict[tuple[frozenset[WorkClass], frozenset[str], WorkClass], frozenset[str]] = attrs.field(
        init=False, factory=dict
    )
    #: the calling lists' records, by list name; without them the dialer dials nothing
    records: dict[str, tuple[ContactRecord, ...]] = attrs.Factory(dict)
    #: what a previous run left in the store
    stored: StoredState = attrs.Factory(StoredState)
    #: the time zone callbacks are typed in
    zone: datetime.tzinfo = datetime.UTC
    #: seeds the dialer's random choices
    seed: int | None = None
    balancer: Balancer = attrs.field(init=False)
    switchboard: Switchboard = attrs.field(init=False)
    dialer: Dialer = attrs.field(init=False)
    _next_process_id: int = _FIRST_PROCESS_ID
    _started: bool = False

    def __attrs_post_init__(self) -> None:
        self.attached = {name: set() for name in self.jobs}
        self.running = {name for name, job in self.jobs.items() if job.running}
        self.balancer = Balancer(self)
        self.switchboard = Switchboard(self)
        self.dialer = Dialer(self, self.records, self.stored, random.Random(self.seed))

    @classmethod
    def from_config(
        cls,
        config: SiteConfig,
        *,
        records: dict[str, tuple[ContactRecord, ...]] | None = None,
        stored: StoredState | None = None,
        zone: datetime.tzinfo = datetime.UTC,
    ) -> Engine:
        """An engine for ``config``, resuming from ``stored`` (job states, finished records, callbacks).

        Args:
            records: the calling lists' records (``agt_server.config.load_all``).  Without them the
                dialer places no outbound calls and no inbound calls arrive: the engine then only runs
                sessions and assignment, which is what most tests want.
            stored: what the store kept from a previous run.
            zone: the time zone in which agents type callback dates and times.
        """
        stored = stored or StoredState()
        states = {state.value: state for state in JobState}
        jobs = {}
        for job in config.jobs:
            initial = JobState.RUNNING if job.start_running else JobState.INACTIVE
            jobs[job.name] = Job(job, states.get(stored.job_states.get(job.name, ""), initial))
        return cls(
            config=config,
            jobs=jobs,
            agents={agent.name: agent for agent in config.agents},
            calling_lists={calling_list.name: calling_list for calling_list in config.calling_lists},
            records=records or {},
            stored=stored,
            zone=zone,
            seed=config.simulation.seed,
        )

    def handle(self, event: Input | SupervisorInput, now: float) -> list[Effect]:
        """Process one input at time ``now`` (seconds, any monotonic origin) and return the effects.

        Raises:
            OperationRefused: a supervisor input that cannot be carried out (nothing was changed).
        """
        effects: list[Effect] = []
        match event:
            case Connected(conn=conn, peer=peer):
                self._connect(conn, peer, effects)
            case Received(conn=conn, message=message, credentials_ok=credentials_ok):
                session = self.sessions.get(conn)
                if session is not None and not session.closing:
                    self._receive(session, message, credentials_ok, now, effects)
            case Disconnected(conn=conn, reason=reason):
                session = self.sessions.pop(conn, None)
                if session is not None:
                    self.log_off(session, reason, now, effects)
            case Expel(conn=conn, reason=reason):
                session = self.sessions.get(conn)
                if session is not None and not session.closing:
                    notice = Message(
                        "AGTSystemError",
                        MessageType.NOTIFICATION,
                        ("1", f"{ErrorCode.E28921.value},{reason}"),
                        process_id=session.process_id,
                    )
                    effects.append(Send(conn, notice))
                    self.close_session(session, reason, now, effects)
            case _:
                supervise(self, event, now, effects)
        self.balancer.settle(now, effects)
        return effects

    def tick(self, now: float) -> list[Effect]:
        """Run whatever is due at ``now``: dials, call events, arrivals, callbacks, the next rebalance."""
        effects: list[Effect] = []
        if not self._started:
            self._started = True
            self.dialer.start(now, effects)
        self.dialer.run_due(now, effects)
        due = self.balancer.next_deadline()
        if due is not None and due <= now:
            self.balancer.rebalance(now, effects)
        self.balancer.settle(now, effects)
        return effects

    def next_deadline(self) -> float | None:
        """When :meth:`tick` next has work, or ``None`` (the first tick is due at once)."""
        if not self._started:
            return 0.0
        deadlines = [due for due in (self.balancer.next_deadline(), self.dialer.next_deadline()) if due is not None]
        return min(deadlines, default=None)

    def capacity(self, job: str) -> int | None:
        """How many agents ``job`` takes: its maximum, and no more than its remaining records (its demand)."""
        maximum, demand = self.jobs[job].config.max_agents, self.dialer.demand(job)
        if maximum is None:
            return demand
        return maximum if demand is None else min(maximum, demand)

    def complete_job(self, job: str, now: float, effects: list[Effect]) -> None:
        """Every record of ``job`` is done: it completes ("dialed out") and its agents move on (R5)."""
        control_job(self, job, JobAction.COMPLETE, now, effects, actor="dialer")

    def explain(self, agent: str) -> str:
        """Why ``agent`` is on its job or idle, in words a supervisor understands."""
        session = self.online.get(agent)
        if session is None:
            return f"{agent} is not logged on." if agent in self.agents else f"there is no agent {agent}."
        return self.balancer.explain(session)

    # -- sessions ------------------------------------------------------------------------------

    def _connect(self, conn: int, peer: str, effects: list[Effect]) -> None:
        process_id = str(self._next_process_id)
        self._next_process_id = (
            _FIRST_PROCESS_ID if self._next_process_id >= _LAST_PROCESS_ID else self._next_process_id + 1
        )
        self.sessions[conn] = Session(conn=conn, process_id=process_id, peer=peer)
        greeting = Message("AGTSTART", MessageType.NOTIFICATION, ("0", "AGENT_STARTUP"), process_id=process_id)
        effects.append(Send(conn, greeting))

    def _receive(
        self, session: Session, message: Message, credentials_ok: bool | None, now: float, effects: list[Effect]
    ) -> None:
        call = CommandCall(self, session, message, now, effects, credentials_ok)
        try:
            args = self._admit(session, message)
            call.pending_wanted = COMMANDS[message.keyword].pending or (
                message.keyword in self.config.protocol.pending_replies
            )
            HANDLERS[message.keyword](call, args)
        except CommandRejected as rejection:
            call.reply(MessageType.RESPONSE, *rejection.segments)

    def _admit(self, session: Session, message: Message) -> tuple[str, ...]:
        """The checks every command passes before its handler runs; returns its arguments."""
        spec = COMMANDS.get(message.keyword)
        if message.type is not MessageType.COMMAND:
            raise CommandRejected(ErrorCode.E70001, "message type must be C")
        if spec is None:
            raise CommandRejected(ErrorCode.E28865, message.keyword)
        args = list(message.segments)
        while len(args) > spec.max_args and args and not args[-1]:
            args.pop()
        if not spec.min_args <= len(args) <= spec.max_args:
            expected = str(spec.min_args) if spec.min_args == spec.max_args else f"{spec.min_args}-{spec.max_args}"
            raise CommandRejected(ErrorCode.E70000, f"{message.keyword} takes {expected} arguments")
        if session.agent is None and message.keyword != "AGTLogon":
            raise CommandRejected(ErrorCode.E28924)
        return tuple(args)

    def set_job_state(self, name: str, state: JobState) -> None:
        """Change a job's state (the only way it changes)."""
        self.jobs[name].state = state
        if state is JobState.RUNNING:
            self.running.add(name)
        else:
            self.running.discard(name)

    def assignable_jobs(self, agent: AgentConfig, work_class: WorkClass) -> frozenset[str]:
        """The jobs the server may give ``agent`` working as ``work_class``: applicable to it (a work class
        of its fits, it has a required skill) and fitting the work class it uses now, so that it can
        join them (AGTAvailWork's rule).  Cached per profile."""
        profile = (agent.work_classes, agent.skills, work_class)
        jobs = self._assignable.get(profile)
        if jobs is None:
            jobs = frozenset(
                name
                for name, job in self.jobs.items()
                if is_applicable(agent, job.config) and work_class_error(work_class, job.type) is None
            )
            self._assignable[profile] = jobs
        return jobs

    def attach(self, session: Session, job: str) -> None:
        """Put ``session`` on ``job`` (state is the caller's business)."""
        session.job = job
        self.attached[job].add(session.conn)
        self.balancer.unbalanced = True

    def detach(self, session: Session) -> None:
        """Take ``session`` off its job, forgetting the job's set-up; the job gains room."""
        job = session.job
        if job is None:
            return
        self.attached[job].discard(session.conn)
        session.clear_job()
        self.balancer.job_has_room(job)

    def log_off(self, session: Session, reason: str, now: float, effects: list[Effect]) -> None:
        """Take ``session``'s agent off its job and out of the online table (logoff or lost connection).

        Its preferred list goes with it (R11): logging on again starts without one.
        """
        if session.agent is None:
            return
        name = session.agent.name
        if self.online.get(name) is session:
            del self.online[name]
        if session.headset_id is not None and self.headsets.get(session.headset_id) == session.conn:
            del self.headsets[session.headset_id]
        self.dialer.agent_lost(session, now, effects)
        self.balancer.forget(session)
        self.detach(session)
        session.agent = None
        session.preferred = ()
        session.mode = AssignmentMode.MANUAL
        self.switchboard.agent_gone(session, now, effects)
        effects.append(AgentEvent("logged_off", name, session.conn, detail=reason))

    def close_session(self, session: Session, reason: str, now: float, effects: list[Effect]) -> None:
        """Log ``session`` off and close its connection after what was already sent."""
        self.log_off(session, reason, now, effects)
        session.closing = True
        effects.append(Close(session.conn, reason))

    def state_changed(self, session: Session, effects: list[Effect], detail: str = "") -> None:
        """Record that ``session``'s agent state or job changed."""
        if session.agent is not None:
            effects.append(
                AgentEvent(
                    "state_changed",
                    session.agent.name,
                    session.conn,
                    state=session.state.value,
                    job=session.job,
                    detail=detail,
                )
            )

    def agents_working(self, job_name: str) -> int:
        """How many agents are available for work (or working) on ``job_name``."""
        sessions = self.sessions
        return sum(
            1
            for conn in self.attached[job_name]
            if conn in sessions and sessions[conn].state not in (AgentState.IDLE, AgentState.ATTACHED)
        )
