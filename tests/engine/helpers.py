"""An in-memory driver for the engine, and the hypothesis strategies the engine tests share.

:class:`Driver` plays the server shell: it connects agents, logs them on, sends their commands,
runs supervisor inputs and timer ticks at a clock it owns, and files every message the engine sends
per agent, so a test reads "what did agent3 hear" instead of digging through effects.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from fractions import Fraction

import attrs
from hypothesis import strategies as st

from agt_server.config import (
    AgentConfig,
    AssignmentConfig,
    CallingListConfig,
    CompletionKey,
    FieldSpec,
    JobConfig,
    ProtocolOptions,
    SiteConfig,
    demo_config,
)
from agt_server.engine import (
    AgentSlot,
    Call,
    CallKind,
    Connected,
    Disconnected,
    Effect,
    Engine,
    JobSlot,
    OperationRefused,
    Received,
    Send,
    Session,
)
from agt_server.protocol import JobType, Message, MessageType, WorkClass

__all__ = [
    "KEY_CODES",
    "TICK",
    "Driver",
    "agent_slots",
    "allocation_instances",
    "allocation_key",
    "brute_force",
    "call",
    "comparable_key",
    "custom_config",
    "demo",
    "effective_capacity",
    "job_slots",
    "preferred_lists",
    "replay",
]

#: More ticks than this within one :meth:`Driver.advance` means a deadline that never moves on.
_MAX_TICKS = 10_000

#: Completion codes every job of :func:`custom_config` accepts (the demo's too).
KEY_CODES = (20, 21, 22)


# -- configurations -----------------------------------------------------------------------------------


def demo(*, dwell_time: float = 30.0, rebalance_interval: float = 1.0, **job_changes: dict[str, object]) -> SiteConfig:
    """The demo site; ``job_changes`` maps a job name to the attributes to evolve it with."""
    config = demo_config()
    jobs = tuple(attrs.evolve(job, **job_changes.get(job.name, {})) for job in config.jobs)
    return attrs.evolve(
        config,
        jobs=jobs,
        assignment=AssignmentConfig(dwell_time=dwell_time, rebalance_interval=rebalance_interval),
    )


_FIELDS = (FieldSpec("ACCTNUM", 16), FieldSpec("NAME", 26), FieldSpec("PHONE1", 10))
_KEYS = tuple(CompletionKey(code, f"KEY{code}") for code in KEY_CODES)


def custom_config(
    jobs: Sequence[tuple[str, int, int | None]] = (
        ("J1", 7, 2),
        ("J2", 5, None),
        ("J3", 3, 3),
        ("J4", 5, 1),
        ("J5", 2, None),
    ),
    *,
    agents: int = 8,
    dwell_time: float = 5.0,
    rebalance_interval: float = 1.0,
    inbound: str | None = "IN1",
) -> SiteConfig:
    """A small outbound site: ``jobs`` are (name, priority, max agents), plus an inbound job ``inbound``
    (no limit), ``agents`` agents ``a1``... with every work class, no headset needed."""
    lists = [CallingListConfig("out", _FIELDS), CallingListConfig("in", _FIELDS)]
    configs = [
        JobConfig(name, JobType.OUTBOUND, priority=priority, max_agents=maximum, outbound_list="out", keys=_KEYS)
        for name, priority, maximum in jobs
    ]
    if inbound is not None:
        configs.append(JobConfig(inbound, JobType.INBOUND, inbound_list="in", keys=_KEYS))
    return SiteConfig(
        source="<test>",
        jobs=tuple(configs),
        agents=tuple(
            AgentConfig(f"a{number}", "unused", work_classes=frozenset(WorkClass)) for number in range(1, agents + 1)
        ),
        calling_lists=tuple(lists),
        protocol=ProtocolOptions(require_headset=False),
        assignment=AssignmentConfig(dwell_time=dwell_time, rebalance_interval=rebalance_interval),
    )


def call(
    job: str,
    record: str = "r1",
    *,
    kind: CallKind = CallKind.OUTBOUND,
    owner: str | None = None,
    customer: str = "",
    fields: Iterable[tuple[str, str]] = (),
) -> Call:
    """A call of ``job`` (outbound unless ``kind`` says otherwise) for record ``record``."""
    return Call(job, kind, record, tuple(fields), owner=owner, customer=customer)


# -- the driver ---------------------------------------------------------------------------------------


@attrs.define(eq=False)
class Driver:
    """One engine driven in memory, with a clock the test moves and an inbox per agent.

    Every effect of every input is kept in ``log`` (for replay comparisons); messages are also filed by
    the agent whose connection they went to, in ``inbox``, until the test reads them.
    """

    engine: Engine
    now: float = 0.0
    conns: dict[str, int] = attrs.Factory(dict)
    inbox: dict[str, list[Message]] = attrs.Factory(dict)
    log: list[object] = attrs.Factory(list)
    #: every input with its time, and every tick time: enough to replay the run into a fresh engine
    journal: list[tuple[object, float]] = attrs.Factory(list)
    _names: dict[int, str] = attrs.Factory(dict)
    _next_conn: itertools.count[int] = attrs.Factory(lambda: itertools.count(1))

    @classmethod
    def of(cls, config: SiteConfig | None = None) -> Driver:
        """A driver for ``config`` (the demo site by default)."""
        return cls(Engine.from_config(config or demo()))

    # -- inputs ---------------------------------------------------------------------------------------

    def feed(self, event: object) -> list[Effect]:
        """Hand one input to the engine at the current time and file its effects.

        Raises:
            OperationRefused: as the engine does (the refusal is logged too).
        """
        self.journal.append((event, self.now))
        try:
            effects = self.engine.handle(event, self.now)  # type: ignore[arg-type]
        except OperationRefused as refused:
            self.log.append(("refused", refused.kind, str(refused)))
            raise
        self._file(effects)
        return effects

    def tick(self) -> list[Effect]:
        """Run whatever is due at the current time."""
        self.journal.append((TICK, self.now))
        effects = self.engine.tick(self.now)
        self._file(effects)
        return effects

    def advance(self, seconds: float) -> list[Effect]:
        """Move the clock on by ``seconds``, ticking at every deadline on the way (as the shell does)."""
        end = self.now + seconds
        effects: list[Effect] = []
        for _ in range(_MAX_TICKS):
            deadline = self.engine.next_deadline()
            if deadline is None or deadline > end:
                break
            self.now = max(self.now, deadline)
            effects += self.tick()
        else:
            raise AssertionError(f"the engine asked for more than {_MAX_TICKS} ticks before {end}")
        self.now = end
        effects += self.tick()
        return effects

    def connect(self, agent: str) -> int:
        """Open a connection for ``agent`` (not logged on yet); returns its connection id."""
        conn = next(self._next_conn)
        self.conns[agent] = conn
        self._names[conn] = agent
        self.inbox[agent] = []
        self.feed(Connected(conn, f"test:{conn}"))
        return conn

    def logon(self, agent: str, *, headset: bool = True) -> int:
        """Connect and log ``agent`` on (with a connected headset); the inbox starts empty."""
        conn = self.connect(agent)
        self.expect_ok(agent, "AGTLogon", agent, agent)
        if headset:
            self.expect_ok(agent, "AGTReserveHeadset", str(conn))
            self.expect_ok(agent, "AGTConnHeadset")
        self.inbox[agent].clear()
        return conn

    def drop(self, agent: str) -> list[Effect]:
        """The agent's connection ends (logoff by a lost connection)."""
        return self.feed(Disconnected(self.conns[agent], "dropped"))

    def send(self, agent: str, keyword: str, *segments: str, invoke_id: str = "1") -> list[Message]:
        """Send one command from ``agent``; returns the replies to it (P, D and R; notifications stay
        in the inbox)."""
        message = Message(keyword, MessageType.COMMAND, tuple(segments), client="t", invoke_id=invoke_id)
        self.feed(Received(self.conns[agent], message, credentials_ok=True if keyword == "AGTLogon" else None))
        replies = [m for m in self.inbox[agent] if m.type is not MessageType.NOTIFICATION and m.keyword == keyword]
        self.inbox[agent] = [m for m in self.inbox[agent] if not any(m is reply for reply in replies)]
        return replies

    def expect_ok(self, agent: str, keyword: str, *segments: str) -> list[Message]:
        """Send a command that must succeed; returns its replies."""
        replies = self.send(agent, keyword, *segments)
        assert replies, f"{keyword} got no reply"
        assert replies[-1].segments[:2] == ("0", "M00000"), f"{keyword} {segments}: {replies}"
        return replies

    def refusal(self, agent: str, keyword: str, *segments: str) -> tuple[str, ...]:
        """Send a command that must be refused; returns the refusal's segments after the ``1``."""
        replies = self.send(agent, keyword, *segments)
        final = replies[-1]
        assert final.type is MessageType.RESPONSE and final.status == "1", f"{keyword} {segments}: {replies}"
        return final.segments[1:]

    def set_list(self, agent: str, *jobs: str) -> None:
        """``agent`` sets its preferred list (one job per segment)."""
        self.expect_ok(agent, "AGTSetPreferredJobList", *jobs)

    def get_list(self, agent: str) -> list[str]:
        """``agent``'s preferred list as AGTGetPreferredJobList returns it (``type,name,status`` records)."""
        replies = self.expect_ok(agent, "AGTGetPreferredJobList")
        return [record for reply in replies if reply.type is MessageType.DATA for record in reply.segments[2:]]

    # -- reading ------------------------------------------------------------------------------------

    def session(self, agent: str) -> Session:
        """The engine's session of ``agent``'s current connection."""
        return self.engine.sessions[self.conns[agent]]

    def job_of(self, agent: str) -> str | None:
        """The job ``agent`` is attached to."""
        return self.session(agent).job

    def state_of(self, agent: str) -> str:
        """``agent``'s AGTListState code (``S70004`` or ``S7000x,<job>``)."""
        return self.session(agent).state_code

    def take(self, agent: str) -> list[Message]:
        """Every message ``agent`` received since the last read, emptying its inbox."""
        messages, self.inbox[agent] = self.inbox[agent], []
        return messages

    def notices(self, agent: str, *keywords: str) -> list[tuple[str, ...]]:
        """The notifications ``agent`` received (with one of ``keywords``, when given) as
        ``(keyword, *segments)``, emptying its inbox."""
        return [
            (message.keyword, *message.segments)
            for message in self.take(agent)
            if message.type is MessageType.NOTIFICATION and (not keywords or message.keyword in keywords)
        ]

    def moves(self, agent: str) -> list[tuple[str, str, str]]:
        """The assignment notices ``agent`` received, as ``(keyword, job, reason)``, emptying its inbox.

        Each notice must be the two-message form ``0 M00001 <job> <reason>`` then ``0 M00000``.
        """
        found = [n for n in self.notices(agent) if n[0] in ("AGTJobAssigned", "AGTJobUnassigned")]
        result = []
        for first, second in zip(found[::2], found[1::2], strict=True):
            assert first[0] == second[0], found
            assert first[1:3] == ("0", "M00001") and len(first) == 5, found
            assert second[1:] == ("0", "M00000"), found
            result.append((first[0], first[3], first[4]))
        return result

    def attached_counts(self) -> dict[str, int]:
        """How many agents are attached to each job."""
        return {name: len(conns) for name, conns in self.engine.attached.items()}

    def _file(self, effects: list[Effect]) -> None:
        self.log.extend(effects)
        for effect in effects:
            if isinstance(effect, Send):
                name = self._names.get(effect.conn)
                if name is not None and self.conns.get(name) == effect.conn:
                    self.inbox[name].append(effect.message)


#: The journal's mark for a call of :meth:`Engine.tick`.
TICK = "tick"


def replay(config: SiteConfig, journal: Iterable[tuple[object, float]]) -> list[object]:
    """Feed ``journal`` (from :attr:`Driver.journal`) into a fresh engine; returns its log, as a
    :class:`Driver` writes it."""
    engine = Engine.from_config(config)
    log: list[object] = []
    for event, now in journal:
        if event == TICK:
            log += engine.tick(now)
            continue
        try:
            log += engine.handle(event, now)  # type: ignore[arg-type]
        except OperationRefused as refused:
            log.append(("refused", refused.kind, str(refused)))
    return log


# -- allocation: strategies and the brute force --------------------------------------------------------


@st.composite
def job_slots(draw: st.DrawFn, max_jobs: int = 4) -> list[JobSlot]:
    """1-``max_jobs`` jobs ``J0``..., priorities 1-4, minimums 0-2, capacities ``None`` or 0-3 (≥ minimum)."""
    count = draw(st.integers(1, max_jobs))
    jobs = []
    for index in range(count):
        priority = draw(st.integers(1, 4))
        minimum = draw(st.integers(0, 2))
        capacity = draw(st.one_of(st.none(), st.integers(minimum, 3)))
        jobs.append(JobSlot(f"J{index}", priority, minimum, capacity))
    return jobs


@st.composite
def agent_slots(draw: st.DrawFn, jobs: Sequence[JobSlot], max_agents: int = 6) -> list[AgentSlot]:
    """0-``max_agents`` agents over ``jobs``: candidates a subset, a current job (or none), mostly movable.

    A movable agent's current job may lie outside its candidates (its job stopped being one); an
    agent that may not move stays on its current job whatever its candidates.
    """
    names = [job.name for job in jobs]
    count = draw(st.integers(0, max_agents))
    agents = []
    for index in range(count):
        candidates = draw(st.lists(st.sampled_from(names), unique=True, max_size=len(names)))
        movable = draw(st.booleans() | st.just(True))
        # An agent that may not move is on a job; a movable one may be on any job, or none.
        current = draw((st.none() | st.sampled_from(names)) if movable else st.sampled_from(names))
        agents.append(AgentSlot(f"a{index}", tuple(candidates), current, movable))
    return agents


@st.composite
def allocation_instances(draw: st.DrawFn) -> tuple[list[JobSlot], list[AgentSlot]]:
    """A small allocation problem: ≤ 4 jobs and ≤ 6 agents."""
    jobs = draw(job_slots())
    return jobs, draw(agent_slots(jobs))


def effective_capacity(job: JobSlot, agents: Sequence[AgentSlot]) -> int | None:
    """A job's capacity, raised to the number of agents that may not leave it."""
    pinned = sum(1 for agent in agents if not agent.movable and agent.current == job.name)
    return None if job.capacity is None else max(job.capacity, pinned)


def allocation_key(
    jobs: Sequence[JobSlot], agents: Sequence[AgentSlot], result: dict[str, str | None]
) -> tuple[tuple[int, ...], int, list[Fraction]]:
    """How good ``result`` is, as three parts compared in order.

    1. ``min(load, minimum)`` of every job, jobs by priority (highest first) then name: maximised.
    2. The number of agents placed: maximised.
    3. The *unit levels* ``k / priority`` for ``0 <= k < load`` of every job, sorted descending:
       minimised lexicographically (the fairest spread has the lowest top levels).
    """
    load = {job.name: 0 for job in jobs}
    for agent in agents:
        job = result[agent.name]
        if job is not None:
            load[job] += 1
    ordered = sorted(jobs, key=lambda job: (-job.priority, job.name))
    minimums = tuple(min(load[job.name], job.minimum) for job in ordered)
    placed = sum(load.values())
    levels = sorted((Fraction(k, job.priority) for job in jobs for k in range(load[job.name])), reverse=True)
    return minimums, placed, levels


def _comparable(key: tuple[tuple[int, ...], int, list[Fraction]]) -> tuple[tuple[int, ...], int, list[Fraction]]:
    # Negating the levels turns "minimised" into "maximised".  That is only sound between lists of the
    # same length, which the levels are whenever the first two parts tie (as many agents placed).
    minimums, placed, levels = key
    return minimums, placed, [-level for level in levels]


def brute_force(jobs: Sequence[JobSlot], agents: Sequence[AgentSlot]) -> dict[str, str | None]:
    """The best feasible allocation by :func:`allocation_key`, found by trying every assignment."""
    capacity = {job.name: effective_capacity(job, agents) for job in jobs}
    known = {job.name for job in jobs}
    choices: list[list[str | None]] = []
    for agent in agents:
        if agent.movable:
            choices.append([None, *dict.fromkeys(name for name in agent.candidates if name in known)])
        else:
            choices.append([agent.current])
    best: dict[str, str | None] | None = None
    best_key = None
    for combination in itertools.product(*choices):
        load: dict[str | None, int] = {}
        for job in combination:
            load[job] = load.get(job, 0) + 1
        if any(cap is not None and load.get(name, 0) > cap for name, cap in capacity.items()):
            continue
        result = {agent.name: job for agent, job in zip(agents, combination, strict=True)}
        key = _comparable(allocation_key(jobs, agents, result))
        if best_key is None or key > best_key:
            best, best_key = result, key
    assert best is not None
    return best


def comparable_key(
    jobs: Sequence[JobSlot], agents: Sequence[AgentSlot], result: dict[str, str | None]
) -> tuple[tuple[int, ...], int, list[Fraction]]:
    """:func:`allocation_key` in a form where greater is better."""
    return _comparable(allocation_key(jobs, agents, result))


# -- engine strategies --------------------------------------------------------------------------------


def preferred_lists(jobs: Sequence[str]) -> st.SearchStrategy[tuple[str, ...]]:
    """A preferred list over ``jobs``: empty (any job) or a few of them in any order."""
    return st.lists(st.sampled_from(list(jobs)), unique=True, max_size=min(3, len(jobs))).map(tuple)
