"""Random sequences of agent commands, supervisor operations, job changes, calls and time, with the
assignment rules checked after every step (protocol_spec.md §10.5).

The site (``helpers.custom_config``): outbound jobs J1 (priority 7, at most 2 agents), J2 (5),
J3 (3, at most 3), J4 (5, at most 1) and J5 (2), the inbound job IN1, and agents a1–a8.  a1 and a2
are manual (PC) agents that attach unlimited jobs themselves; the others set preferred lists, ask for
work, and are moved by supervisors.
"""

from __future__ import annotations

import contextlib

from hypothesis import Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from agt_server.engine import (
    AgentSlot,
    AgentState,
    AssignmentMode,
    CallbackDue,
    CallKind,
    ControlJob,
    InboundCall,
    JobAction,
    JobSlot,
    MoveAgent,
    OperationRefused,
    Session,
    SetPreferredJobs,
    allocate,
    is_applicable,
    work_class_error,
)

from .helpers import KEY_CODES, Driver, call, comparable_key, custom_config, preferred_lists, replay

CONFIG = custom_config()
JOBS = tuple(job.name for job in CONFIG.jobs)
MAXIMUM = {job.name: job.max_agents for job in CONFIG.jobs}
UNLIMITED = tuple(name for name in JOBS if MAXIMUM[name] is None)
OUTBOUND = tuple(name for name in JOBS if name != "IN1")
MANUAL = ("a1", "a2")
SERVER = tuple(agent.name for agent in CONFIG.agents if agent.name not in MANUAL)
AGENTS = MANUAL + SERVER


def assignable(d: Driver, session: Session, name: str) -> bool:
    """Whether ``name`` may be given to ``session``'s agent: applicable, and fitting its work class."""
    job = d.engine.jobs[name]
    assert session.agent is not None
    return is_applicable(session.agent, job.config) and work_class_error(session.work_class, job.type) is None


def candidate_jobs(d: Driver, session: Session) -> list[str]:
    """The running assignable jobs, within the agent's list when it has one (worked out independently)."""
    names = session.preferred or JOBS
    return [name for name in names if d.engine.jobs[name].running and assignable(d, session, name)]


class AssignmentMachine(RuleBasedStateMachine):
    """Drives one engine through random inputs and checks the assignment rules after each."""

    def __init__(self) -> None:
        super().__init__()
        self.d = Driver.of(CONFIG)
        self.calls = 0
        #: (conn, job) of every agent on a call after the previous step
        self.on_call: dict[str, tuple[int, str | None]] = {}
        #: agents that finished their record in this step (they may leave their job)
        self.finished: set[str] = set()

    # -- helpers ------------------------------------------------------------------------------------

    def online(self, agent: str) -> bool:
        return agent in self.d.engine.online

    def supervise(self, event: object) -> None:
        with contextlib.suppress(OperationRefused):
            self.d.feed(event)
        self.catch_up()

    def send(self, agent: str, keyword: str, *segments: str) -> None:
        if self.online(agent):
            self.d.send(agent, keyword, *segments)
            self.catch_up()

    def catch_up(self) -> None:
        """Tick when a deadline has passed, as the server's driver does."""
        deadline = self.d.engine.next_deadline()
        if deadline is not None and deadline <= self.d.now:
            self.d.tick()

    # -- rules --------------------------------------------------------------------------------------

    @initialize(
        lists=st.lists(st.none() | preferred_lists(JOBS), min_size=len(SERVER), max_size=len(SERVER)),
        ready=st.sets(st.sampled_from(SERVER)),
    )
    def start(self, lists: list[tuple[str, ...] | None], ready: set[str]) -> None:
        """Everyone logs on; most server agents set a list (``None``: they ask for work instead), and
        some get ready, so that the first steps already meet busy jobs."""
        for agent in AGENTS:
            self.d.logon(agent, headset=False)
        for agent, jobs in zip(SERVER, lists, strict=True):
            if jobs is not None:
                self.d.send(agent, "AGTSetPreferredJobList", *jobs)
        for agent in sorted(ready):
            self.get_ready(agent)
        self.catch_up()

    @rule(agent=st.sampled_from(AGENTS))
    def logon(self, agent: str) -> None:
        if not self.online(agent):
            self.d.logon(agent, headset=False)
            self.catch_up()

    @rule(agent=st.sampled_from(AGENTS))
    def drop(self, agent: str) -> None:
        if self.online(agent):
            self.d.drop(agent)
            self.catch_up()

    @rule(agent=st.sampled_from(AGENTS))
    def logoff(self, agent: str) -> None:
        self.send(agent, "AGTLogoff")

    @rule(agent=st.sampled_from(SERVER), jobs=preferred_lists(JOBS))
    def set_list(self, agent: str, jobs: tuple[str, ...]) -> None:
        self.send(agent, "AGTSetPreferredJobList", *jobs)

    @rule(agent=st.sampled_from(SERVER), jobs=preferred_lists(JOBS))
    def supervisor_sets_list(self, agent: str, jobs: tuple[str, ...]) -> None:
        self.supervise(SetPreferredJobs(agent, jobs))

    @rule(agent=st.sampled_from(SERVER), job=st.sampled_from(JOBS))
    def supervisor_moves(self, agent: str, job: str) -> None:
        self.supervise(MoveAgent(agent, job))

    @rule(agent=st.sampled_from(AGENTS))
    def avail_work(self, agent: str) -> None:
        # A manual agent joins its own job; without one it would be asking the server for work.
        if agent in SERVER or (self.online(agent) and self.d.job_of(agent) is not None):
            self.send(agent, "AGTAvailWork")

    @rule(agent=st.sampled_from(AGENTS))
    def ready(self, agent: str) -> None:
        self.send(agent, "AGTReadyNextItem")

    @rule(agent=st.sampled_from(AGENTS))
    def get_ready(self, agent: str) -> None:
        """AGTAvailWork when not yet available (or without a job, for a server-assigned agent), then
        AGTReadyNextItem."""
        if not self.online(agent):
            return
        session = self.d.session(agent)
        if session.state in (AgentState.ATTACHED, AgentState.IDLE) and (agent in SERVER or session.job):
            self.send(agent, "AGTAvailWork")
        self.send(agent, "AGTReadyNextItem")

    @rule(agent=st.sampled_from(AGENTS), code=st.sampled_from(KEY_CODES))
    def finish(self, agent: str, code: int) -> None:
        self.finished.add(agent)
        self.send(agent, "AGTFinishedItem", str(code))

    @rule(pick=st.integers(0, 7), code=st.sampled_from(KEY_CODES))
    def finish_a_call(self, pick: int, code: int) -> None:
        """One of the agents on a call finishes its record."""
        busy = sorted(s.agent_name for s in self.sessions() if s.agent_name and s.state is AgentState.ON_RECORD)
        if busy:
            self.finish(busy[pick % len(busy)], code)

    @rule(agent=st.sampled_from(AGENTS))
    def no_further_work(self, agent: str) -> None:
        self.send(agent, "AGTNoFurtherWork")

    @rule(agent=st.sampled_from(AGENTS), job=st.sampled_from(UNLIMITED))
    def attach(self, agent: str, job: str) -> None:
        self.send(agent, "AGTAttachJob", job)

    @rule(agent=st.sampled_from(AGENTS))
    def detach(self, agent: str) -> None:
        self.send(agent, "AGTDetachJob")

    @rule(agent=st.sampled_from(AGENTS), work_class=st.sampled_from("OIBP"))
    def set_work_class(self, agent: str, work_class: str) -> None:
        self.send(agent, "AGTSetWorkClass", work_class)

    @rule(job=st.sampled_from(JOBS), action=st.sampled_from(JobAction))
    def control(self, job: str, action: JobAction) -> None:
        self.supervise(ControlJob(job, action))

    @rule()
    def inbound(self) -> None:
        self.calls += 1
        self.supervise(InboundCall(call("IN1", f"in{self.calls}", kind=CallKind.INBOUND)))

    @rule(job=st.sampled_from(OUTBOUND), owner=st.none() | st.sampled_from(AGENTS))
    def callback(self, job: str, owner: str | None) -> None:
        self.calls += 1
        self.supervise(CallbackDue(call(job, f"cb{self.calls}", kind=CallKind.CALLBACK, owner=owner)))

    @rule(seconds=st.sampled_from([0.5, 1, 2, 4, 6, 10]))
    def wait(self, seconds: float) -> None:
        self.d.advance(seconds)

    # -- invariants ---------------------------------------------------------------------------------

    def sessions(self) -> list[Session]:
        return [session for session in self.d.engine.sessions.values() if session.agent is not None]

    @invariant()
    def one_job_each(self) -> None:
        """A connection is in at most one job's set, and each set is exactly the sessions on that job."""
        seen: dict[int, str] = {}
        for name, conns in self.d.engine.attached.items():
            for conn in conns:
                assert conn not in seen, f"conn {conn} on {seen[conn]} and {name}"
                seen[conn] = name
            assert conns == {s.conn for s in self.sessions() if s.job == name}, name
        for session in self.sessions():
            assert (session.job is None) == (session.state is AgentState.IDLE), session.state_code

    @invariant()
    def server_agents_on_candidates(self) -> None:
        """A server-assigned agent works one of its candidates, and a pinned one a running, applicable,
        preferred job — unless it is on a call or taken temporarily."""
        for session in self.sessions():
            if not session.server_assigned or session.job is None:
                continue
            if session.state is AgentState.ON_RECORD or session.temporary is not None:
                continue
            where = (session.agent_name, session.mode, session.job, session.preferred, session.work_class)
            if session.mode is AssignmentMode.SERVER:
                assert session.job in candidate_jobs(self.d, session), where
            else:
                job = self.d.engine.jobs[session.job]
                assert session.agent is not None
                assert job.running, where
                assert is_applicable(session.agent, job.config), where
                assert not session.preferred or session.job in session.preferred, where

    @invariant()
    def maximum_respected(self) -> None:
        """No job holds more agents than its maximum."""
        sessions = self.d.engine.sessions
        for name, conns in self.d.engine.attached.items():
            maximum = MAXIMUM[name]
            regular = [conn for conn in conns if sessions[conn].temporary is None]
            assert maximum is None or len(regular) <= maximum, (name, sorted(conns))

    @invariant()
    def work_conserving(self) -> None:
        """No server-assigned agent waits without a job while one of its candidates has room."""
        for session in self.sessions():
            if session.mode is not AssignmentMode.SERVER or session.job is not None:
                continue
            for name in candidate_jobs(self.d, session):
                maximum = MAXIMUM[name]
                assert maximum is not None and len(self.d.engine.attached[name]) >= maximum, (
                    session.agent_name,
                    name,
                    session.preferred,
                )

    @invariant()
    def fair_when_quiet(self) -> None:
        """With no rebalance pending, the agents free to move are placed as well as the allocation can
        place them (rule 4: fairness is restored within a rebalance interval)."""
        engine = self.d.engine
        if engine.next_deadline() is not None:
            return
        dwell = CONFIG.assignment.dwell_time
        jobs = [
            JobSlot(job.name, job.config.priority, job.config.min_agents, job.config.max_agents)
            for job in engine.jobs.values()
            if job.running
        ]
        running = {job.name for job in jobs}
        slots = []
        for session in self.sessions():
            movable = (
                session.mode is AssignmentMode.SERVER
                and session.temporary is None
                and session.state is not AgentState.ON_RECORD
                and (session.job is None or session.moved_at is None or session.moved_at + dwell <= self.d.now)
            )
            if session.job is None and not movable:
                continue
            options = tuple(candidate_jobs(self.d, session)) if movable else ()
            slots.append(AgentSlot(session.agent_name or "", options, session.job, movable))
        # Agents held on a job that is not running count for no job's load.
        now = {slot.name: slot.current if slot.current in running else None for slot in slots}
        best = {name: job if job in running else None for name, job in allocate(jobs, slots).items()}
        assert comparable_key(jobs, slots, now) == comparable_key(jobs, slots, best), (now, best)

    @invariant()
    def callers_not_kept_waiting(self) -> None:
        """No inbound caller or callback waits for a job while an agent is ready on that job."""
        switchboard = self.d.engine.switchboard
        for name in JOBS:
            waiting = len(switchboard.inbound_queue[name]) + len(switchboard.callback_queue[name])
            ready = [s.agent_name for s in self.sessions() if s.job == name and s.state is AgentState.READY]
            assert not (waiting and ready), (name, waiting, ready)

    @invariant()
    def calls_not_interrupted(self) -> None:
        """An agent on a call keeps its job and its call until it finishes the record."""
        for agent, (conn, job) in self.on_call.items():
            session = self.d.engine.sessions.get(conn)
            if session is None or session.agent is None or agent in self.finished:
                continue
            assert session.state is AgentState.ON_RECORD, (agent, session.state_code)
            assert session.job == job, (agent, job, session.job)
        self.finished.clear()
        self.on_call = {
            session.agent.name: (session.conn, session.job)
            for session in self.sessions()
            if session.agent is not None and session.state is AgentState.ON_RECORD
        }

    def teardown(self) -> None:
        """Replaying the same inputs at the same times into a fresh engine gives the same effects."""
        assert replay(CONFIG, self.d.journal) == self.d.log


# The explain phase re-runs a failing sequence hundreds of times to comment on it, which can take over
# a minute for this machine; the shrunk sequence is explanation enough.
AssignmentMachine.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=40,
    deadline=None,
    phases=tuple(phase for phase in Phase if phase is not Phase.explain),
)
TestAssignmentMachine = AssignmentMachine.TestCase
