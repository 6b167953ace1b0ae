"""Tests for preferred campaigns through the engine: lists, assignment, balancing, moves, calls (R1–R11).

Everything runs through :meth:`Engine.handle` and :meth:`Engine.tick` with the clock in the test's
hands (``helpers.Driver``); the demo site has CMP1–CMP4 (outbound, priorities 5, 5, 3, 7), INBOUND1,
BLEND1 and PREVIEW1, all running.
"""

from __future__ import annotations

import attrs
import pytest

from agt_server.config import AgentConfig, CallingListConfig, FieldSpec, JobConfig, SiteConfig
from agt_server.engine import (
    AgentState,
    AssignmentMode,
    CallbackDue,
    CallKind,
    ControlJob,
    InboundCall,
    JobAction,
    JobEvent,
    MoveAgent,
    OperationRefused,
    SetPreferredJobs,
)
from agt_server.protocol import JobType, MessageType, WorkClass, encode

from .helpers import Driver, call, demo

CMP12 = ("CMP1", "CMP2")


def driver(config: SiteConfig | None = None, *agents: str) -> Driver:
    """A driver for ``config`` (the demo by default) with ``agents`` logged on."""
    d = Driver.of(config)
    for agent in agents:
        d.logon(agent)
    return d


def control(d: Driver, job: str, action: JobAction) -> None:
    """A supervisor changes ``job``'s state."""
    d.feed(ControlJob(job, action))


def on_call(d: Driver, agent: str, job: str) -> None:
    """Give ``agent`` (ready on ``job``) a call of ``job`` so that it is S70000."""
    d.feed(InboundCall(call(job, f"busy-{agent}", kind=CallKind.INBOUND)))
    assert d.state_of(agent) == f"S70000,{job}"


def with_jobs(config: SiteConfig, *jobs: JobConfig) -> SiteConfig:
    """``config`` with ``jobs`` added."""
    return attrs.evolve(config, jobs=(*config.jobs, *jobs))


def with_agent(config: SiteConfig, agent: AgentConfig) -> SiteConfig:
    """``config`` with ``agent`` replacing the agent of the same name."""
    return attrs.evolve(config, agents=tuple(agent if a.name == agent.name else a for a in config.agents))


def ready_on(d: Driver, agent: str, *jobs: str) -> None:
    """``agent`` sets its list to ``jobs``, joins its job and asks for the next record."""
    d.set_list(agent, *jobs)
    d.expect_ok(agent, "AGTAvailWork")
    d.expect_ok(agent, "AGTReadyNextItem")
    d.take(agent)


def imbalanced(dwell_time: float, resume_at: float) -> Driver:
    """Four agents preferring CMP1 and CMP2, all put on CMP1 at time 0 (CMP2 paused), CMP2 resumed at
    ``resume_at``."""
    agents = [f"agent{number}" for number in range(1, 5)]
    d = driver(demo(dwell_time=dwell_time, rebalance_interval=1), *agents)
    control(d, "CMP2", JobAction.PAUSE)
    for agent in agents:
        d.set_list(agent, *CMP12)
        d.moves(agent)
    assert d.attached_counts()["CMP1"] == 4
    d.advance(resume_at)
    control(d, "CMP2", JobAction.RESUME)
    return d


def full_jobs_config() -> SiteConfig:
    """The demo with CMP1 and CMP2 limited to one agent each."""
    return demo(dwell_time=0, CMP1={"max_agents": 1}, CMP2={"max_agents": 1})


class TestSetPreferredJobList:
    def test_one_job_per_segment(self) -> None:
        """Jobs given one per segment become the list, in the order given."""
        d = driver(None, "agent1")
        d.set_list("agent1", "CMP2", "CMP1")
        assert d.get_list("agent1") == ["O,CMP2,A", "O,CMP1,A"]

    def test_comma_separated_segment(self) -> None:
        """One segment ``CMP1,CMP2`` is read as two jobs."""
        d = driver(None, "agent1")
        d.set_list("agent1", "CMP1,CMP2")
        assert d.get_list("agent1") == ["O,CMP1,A", "O,CMP2,A"]

    def test_duplicates_collapsed(self) -> None:
        """A job named twice is kept once, at its first place."""
        d = driver(None, "agent1")
        d.set_list("agent1", "CMP3", "CMP1", "CMP3", "CMP1")
        assert d.get_list("agent1") == ["O,CMP3,A", "O,CMP1,A"]

    @pytest.mark.parametrize("segments", [(), ("",)], ids=["no-segment", "one-empty-segment"])
    def test_empty_clears(self, segments: tuple[str, ...]) -> None:
        """No segment, or one empty segment, clears the list; the agent stays server-assigned."""
        d = driver(None, "agent1")
        d.set_list("agent1", "CMP1")
        d.set_list("agent1", *segments)
        assert d.get_list("agent1") == []
        assert d.session("agent1").mode is AssignmentMode.SERVER

    def test_twenty_jobs_accepted(self) -> None:
        """A list of 20 jobs is accepted and read back whole (R1)."""
        extra = tuple(JobConfig(f"X{index:02d}", JobType.OUTBOUND) for index in range(21))
        d = driver(with_jobs(demo(), *extra), "agent1")
        d.set_list("agent1", *(job.name for job in extra[:20]))
        assert d.get_list("agent1") == [f"O,X{index:02d},A" for index in range(20)]

    def test_twenty_one_jobs_refused(self) -> None:
        """A list of 21 existing jobs is refused with E70000 and its detail; the list is unchanged (R1)."""
        extra = tuple(JobConfig(f"X{index:02d}", JobType.OUTBOUND) for index in range(21))
        d = driver(with_jobs(demo(), *extra), "agent1")
        d.set_list("agent1", "CMP1")
        assert d.refusal("agent1", "AGTSetPreferredJobList", *(job.name for job in extra)) == (
            "E70000,at most 20 preferred jobs, got 21",
        )
        assert d.get_list("agent1") == ["O,CMP1,A"]

    def test_unknown_job_refused(self) -> None:
        """An unknown job is refused with E28890,<job>; the list is unchanged."""
        d = driver(None, "agent1")
        d.set_list("agent1", "CMP1")
        assert d.refusal("agent1", "AGTSetPreferredJobList", "CMP2", "NOPE") == ("E28890,NOPE",)
        assert d.get_list("agent1") == ["O,CMP1,A"]

    def test_not_applicable_job_refused(self) -> None:
        """A job the agent may not work (managed, for an agent without work class M) gets E28883,<job>."""
        agent = AgentConfig("agent1", "x", work_classes=frozenset(WorkClass) - {WorkClass.MANAGED})
        d = driver(with_agent(demo(), agent), "agent1")
        assert d.refusal("agent1", "AGTSetPreferredJobList", "CMP1", "PREVIEW1") == ("E28883,PREVIEW1",)
        assert d.get_list("agent1") == []
        assert d.session("agent1").mode is AssignmentMode.MANUAL

    def test_get_before_any_list(self) -> None:
        """An agent that never set a list reads back an empty one."""
        d = driver(None, "agent1")
        assert d.get_list("agent1") == []

    def test_get_shows_type_and_status(self) -> None:
        """The read-back gives ``type,name,status`` per job: status I for a job that is not running."""
        d = driver(None, "agent1")
        control(d, "CMP2", JobAction.PAUSE)
        d.set_list("agent1", "INBOUND1", "CMP2", "BLEND1")
        assert d.get_list("agent1") == ["I,INBOUND1,A", "O,CMP2,I", "B,BLEND1,A"]


class TestPreferredAssignment:
    def test_attached_to_one_preferred_job(self) -> None:
        """Setting a list attaches the agent to exactly one of its preferred running jobs (R3)."""
        d = driver(None, "agent1")
        d.set_list("agent1", "CMP3", "CMP2")
        moves = d.moves("agent1")
        assert len(moves) == 1
        keyword, job, reason = moves[0]
        assert (keyword, reason) == ("AGTJobAssigned", "assigned")
        assert job in ("CMP3", "CMP2")
        assert d.job_of("agent1") == job
        assert [name for name, conns in d.engine.attached.items() if d.conns["agent1"] in conns] == [job]

    def test_only_running_preferred_job(self) -> None:
        """With one preferred job paused, the agent goes to the other (R3)."""
        d = driver(None, "agent1")
        control(d, "CMP1", JobAction.PAUSE)
        d.set_list("agent1", *CMP12)
        assert d.moves("agent1") == [("AGTJobAssigned", "CMP2", "assigned")]

    def test_balanced_within_list(self) -> None:
        """Agents with the same list are shared between its jobs and never put on another one (R4)."""
        agents = [f"agent{number}" for number in range(1, 7)]
        d = driver(demo(dwell_time=0), *agents)
        for agent in agents:
            d.set_list(agent, *CMP12)
        d.advance(5)
        counts = d.attached_counts()
        assert (counts["CMP1"], counts["CMP2"]) == (3, 3)
        assert sum(counts.values()) == 6

    def test_shares_follow_priority(self) -> None:
        """Ten agents preferring CMP3 (priority 3) and CMP4 (priority 7) settle 3 and 7 (R4)."""
        agents = [f"agent{number}" for number in range(1, 11)]
        d = driver(demo(dwell_time=0), *agents)
        for agent in agents:
            d.set_list(agent, "CMP3", "CMP4")
        d.advance(5)
        counts = d.attached_counts()
        assert (counts["CMP3"], counts["CMP4"]) == (3, 7)

    @pytest.mark.parametrize(
        ("action", "reason"),
        [(JobAction.PAUSE, "job-paused"), (JobAction.STOP, "job-stopped"), (JobAction.COMPLETE, "job-dialed-out")],
    )
    def test_reassigned_when_job_ends(self, action: JobAction, reason: str) -> None:
        """When its job pauses, stops or dials out, the agent moves at once to another preferred job (R5)."""
        d = driver(None, "agent1")
        d.set_list("agent1", *CMP12)
        first = d.job_of("agent1")
        other = "CMP2" if first == "CMP1" else "CMP1"
        d.moves("agent1")
        assert first is not None
        control(d, first, action)
        assert d.moves("agent1") == [("AGTJobAssigned", other, reason)]
        assert d.job_of("agent1") == other

    @pytest.mark.parametrize(
        ("action", "reason"),
        [(JobAction.PAUSE, "job-paused"), (JobAction.STOP, "job-stopped"), (JobAction.COMPLETE, "job-dialed-out")],
    )
    def test_idle_when_no_preferred_job_runs(self, action: JobAction, reason: str) -> None:
        """With no preferred job running the agent is left idle, though other jobs run (R6)."""
        d = driver(None, "agent1")
        control(d, "CMP2", JobAction.PAUSE)
        d.set_list("agent1", *CMP12)
        d.moves("agent1")
        control(d, "CMP1", action)
        assert d.moves("agent1") == [("AGTJobUnassigned", "CMP1", reason)]
        d.advance(60)
        assert d.moves("agent1") == []
        assert d.state_of("agent1") == AgentState.IDLE.value
        assert d.engine.jobs["CMP3"].running

    def test_resume_puts_agent_back(self) -> None:
        """An agent left idle is attached again as soon as a preferred job runs again (R5, R6)."""
        d = driver(None, "agent1")
        d.set_list("agent1", "CMP1")
        control(d, "CMP1", JobAction.PAUSE)
        d.moves("agent1")
        control(d, "CMP1", JobAction.RESUME)
        assert [(keyword, job) for keyword, job, _ in d.moves("agent1")] == [("AGTJobAssigned", "CMP1")]

    def test_not_moved_mid_call(self) -> None:
        """An agent on a call stays on its job when the job pauses, and moves when it finishes the record."""
        d = driver(None, "agent1")
        d.set_list("agent1", "BLEND1", "CMP1")
        assert d.job_of("agent1") == "BLEND1"
        d.expect_ok("agent1", "AGTAvailWork")
        d.expect_ok("agent1", "AGTReadyNextItem")
        on_call(d, "agent1", "BLEND1")
        d.moves("agent1")
        control(d, "BLEND1", JobAction.PAUSE)
        d.advance(60)
        assert d.moves("agent1") == []
        assert d.state_of("agent1") == "S70000,BLEND1"
        d.expect_ok("agent1", "AGTFinishedItem", "20")
        assert d.moves("agent1") == [("AGTJobAssigned", "CMP1", "job-paused")]

    @pytest.mark.parametrize("ready", [False, True], ids=["available", "ready"])
    def test_state_kept_across_move(self, ready: bool) -> None:
        """An agent available (S70002) or ready (S70001) is so on its new job too."""
        d = driver(None, "agent1")
        d.set_list("agent1", *CMP12)
        d.expect_ok("agent1", "AGTAvailWork")
        expected = AgentState.AVAILABLE
        if ready:
            d.expect_ok("agent1", "AGTReadyNextItem")
            expected = AgentState.READY
        first = d.job_of("agent1")
        assert first is not None
        control(d, first, JobAction.PAUSE)
        assert d.job_of("agent1") not in (None, first)
        assert d.session("agent1").state is expected

    def test_state_kept_across_idle_spell(self) -> None:
        """An available agent left idle is available again when it gets a job back."""
        d = driver(None, "agent1")
        d.set_list("agent1", "CMP1")
        d.expect_ok("agent1", "AGTAvailWork")
        control(d, "CMP1", JobAction.PAUSE)
        assert d.state_of("agent1") == "S70004"
        control(d, "CMP1", JobAction.RESUME)
        assert d.state_of("agent1") == "S70002,CMP1"

    def test_fields_carried_where_new_list_has_them(self) -> None:
        """Key and data fields survive a move only where the new job's calling list has the field."""
        short = CallingListConfig("short_list", (FieldSpec("ACCTNUM", 16), FieldSpec("NAME", 26)))
        config = demo(CMP2={"outbound_list": "short_list"})
        config = attrs.evolve(config, calling_lists=(*config.calling_lists, short))
        d = driver(config, "agent1")
        control(d, "CMP2", JobAction.PAUSE)
        d.set_list("agent1", *CMP12)
        d.expect_ok("agent1", "AGTSetNotifyKeyField", "O", "CITY")
        for field in ("NAME", "CITY", "ACCTNUM"):
            d.expect_ok("agent1", "AGTSetDataField", "O", field)
        control(d, "CMP2", JobAction.RESUME)
        control(d, "CMP1", JobAction.PAUSE)
        assert d.job_of("agent1") == "CMP2"
        session = d.session("agent1")
        assert session.key_fields == {}
        assert {kind.value: names for kind, names in session.data_fields.items() if names} == {
            "O": ["NAME", "ACCTNUM"]
        }

    def test_key_field_kept_when_present(self) -> None:
        """A key field the new job's list also has is kept."""
        d = driver(None, "agent1")
        control(d, "CMP2", JobAction.PAUSE)
        d.set_list("agent1", *CMP12)
        d.expect_ok("agent1", "AGTSetNotifyKeyField", "O", "ACCTNUM")
        control(d, "CMP2", JobAction.RESUME)
        control(d, "CMP1", JobAction.PAUSE)
        assert d.job_of("agent1") == "CMP2"
        assert {kind.value: name for kind, name in d.session("agent1").key_fields.items()} == {"O": "ACCTNUM"}

    def test_avail_work_without_job_asks_for_assignment(self) -> None:
        """AGTAvailWork without a job makes the server attach the agent, available, to a running job."""
        d = driver(None, "agent1")
        d.expect_ok("agent1", "AGTAvailWork")
        assert d.session("agent1").mode is AssignmentMode.SERVER
        [(keyword, job, reason)] = d.moves("agent1")
        assert (keyword, reason) == ("AGTJobAssigned", "assigned")
        assert d.state_of("agent1") == f"S70002,{job}"


class TestDwellTime:
    def test_rebalance_waits_for_dwell_time(self) -> None:
        """A fairness rebalance leaves agents placed less than dwell_time ago, and moves them after."""
        d = imbalanced(dwell_time=30, resume_at=10)
        d.advance(19)  # t = 29
        assert d.attached_counts()["CMP2"] == 0
        d.advance(2)  # t = 31
        counts = d.attached_counts()
        assert (counts["CMP1"], counts["CMP2"]) == (2, 2)
        moved = [move for number in range(1, 5) for move in d.moves(f"agent{number}")]
        assert moved == [("AGTJobAssigned", "CMP2", "rebalanced")] * 2

    def test_leaving_job_ignores_dwell_time(self) -> None:
        """An agent whose job pauses moves at once, though it was placed a moment ago."""
        d = driver(demo(dwell_time=30), "agent1")
        d.set_list("agent1", *CMP12)
        first = d.job_of("agent1")
        assert first is not None
        d.advance(1)
        control(d, first, JobAction.PAUSE)
        assert d.job_of("agent1") not in (None, first)



class TestFairnessRestored:
    """Whatever changes the load of jobs, fairness is restored within a rebalance interval (rule 4)."""

    def test_after_job_resumes(self) -> None:
        """A job resumed after every agent's dwell time has passed gets its fair share."""
        d = imbalanced(dwell_time=30, resume_at=100)
        d.advance(2)
        counts = d.attached_counts()
        assert (counts["CMP1"], counts["CMP2"]) == (2, 2)

    def test_after_logoff(self) -> None:
        """When the agents of one job log off, the others are shared out again."""
        agents = [f"agent{number}" for number in range(1, 5)]
        d = driver(demo(dwell_time=0), *agents)
        for agent in agents:
            d.set_list(agent, *CMP12)
        d.advance(5)
        for agent in agents:
            if d.job_of(agent) == "CMP1":
                d.drop(agent)
        d.advance(2)
        counts = d.attached_counts()
        assert (counts["CMP1"], counts["CMP2"]) == (1, 1)

    def test_after_call_ends(self) -> None:
        """An agent kept on its job by a call during a rebalance is moved once it finishes the record."""
        d = driver(demo(dwell_time=0), "agent1", "agent2")
        control(d, "CMP2", JobAction.PAUSE)
        d.set_list("agent1", "BLEND1", "CMP2")
        d.set_list("agent2", "BLEND1")
        d.expect_ok("agent1", "AGTAvailWork")
        d.expect_ok("agent1", "AGTReadyNextItem")
        on_call(d, "agent1", "BLEND1")
        control(d, "CMP2", JobAction.RESUME)
        d.advance(5)
        assert d.job_of("agent1") == "BLEND1"
        d.expect_ok("agent1", "AGTFinishedItem", "20")
        d.advance(2)
        assert d.job_of("agent1") == "CMP2"

    def test_after_manual_agents_attach(self) -> None:
        """Manual agents crowding a job count towards its load: a server-assigned agent moves to even it out."""
        d = driver(demo(dwell_time=0), "agent1", "agent2", "agent3", "agent4")
        d.set_list("agent1", *CMP12)
        d.set_list("agent2", *CMP12)
        d.advance(5)
        d.expect_ok("agent3", "AGTAttachJob", "CMP1")
        d.expect_ok("agent4", "AGTAttachJob", "CMP1")
        d.advance(2)
        counts = d.attached_counts()
        assert (counts["CMP1"], counts["CMP2"]) == (2, 2)

    def test_after_list_grows(self) -> None:
        """An agent that adds an empty job to its list is moved there to even out the load."""
        d = driver(demo(dwell_time=0), "agent1", "agent2")
        d.set_list("agent1", "CMP1")
        d.set_list("agent2", "CMP1")
        d.advance(5)
        d.set_list("agent1", *CMP12)
        d.advance(2)
        counts = d.attached_counts()
        assert (counts["CMP1"], counts["CMP2"]) == (1, 1)


class TestAttachAndDetach:
    def test_attach_to_a_full_job_is_refused(self) -> None:
        """A server-assigned agent idle because its preferred jobs are full cannot attach one of them itself:
        AGTAttachJob gets E28813 and the job stays within its maximum (the agent is placed when one has room)."""
        d = driver(full_jobs_config(), "agent1", "agent2", "agent3")
        d.set_list("agent2", "CMP1")
        d.set_list("agent3", "CMP2")
        d.set_list("agent1", *CMP12)
        assert d.job_of("agent1") is None
        reply = d.refusal("agent1", "AGTAttachJob", "CMP1")
        assert reply[0] == "E28813"
        assert len(d.engine.attached["CMP1"]) == 1
        d.drop("agent3")
        assert d.job_of("agent1") == "CMP2"

    def test_attach_must_fit_the_work_class(self) -> None:
        """A server-assigned agent may not pin itself to a job its work class cannot join (E28816 on INBOUND1
        for class O), so a pin never leaves it on a job where AGTAvailWork would fail."""
        d = driver(None, "agent1")
        d.set_list("agent1", "INBOUND1")
        assert d.job_of("agent1") is None
        reply = d.refusal("agent1", "AGTAttachJob", "INBOUND1")
        assert reply[0] == "E28816"
        assert d.job_of("agent1") is None

    def test_attach_only_preferred(self) -> None:
        """A server-assigned agent may not attach a job outside its list (E28890)."""
        d = driver(full_jobs_config(), "agent1", "agent2")
        d.set_list("agent2", "CMP1")
        d.set_list("agent1", "CMP1")
        assert d.job_of("agent1") is None
        reply = d.refusal("agent1", "AGTAttachJob", "CMP3")
        assert reply[0].startswith("E28890")
        assert d.job_of("agent1") is None

    def test_detach_stops_server_assignment(self) -> None:
        """After AGTDetachJob the agent is in manual mode: no job is given to it any more."""
        d = driver(None, "agent1")
        d.set_list("agent1", *CMP12)
        d.expect_ok("agent1", "AGTDetachJob")
        d.moves("agent1")
        assert d.session("agent1").mode is AssignmentMode.MANUAL
        control(d, "CMP3", JobAction.PAUSE)
        control(d, "CMP3", JobAction.RESUME)
        d.advance(60)
        assert d.moves("agent1") == []
        assert d.job_of("agent1") is None


class TestManualAgents:
    def test_never_moved(self) -> None:
        """Agents that attach jobs themselves are not moved by balancing, however uneven the load."""
        agents = [f"agent{number}" for number in range(1, 5)]
        d = driver(demo(dwell_time=0), *agents, "agent9")
        for agent in agents:
            d.expect_ok(agent, "AGTAttachJob", "CMP1")
            d.expect_ok(agent, "AGTAvailWork")
        d.set_list("agent9", "CMP1", "CMP2")
        d.advance(60)
        for agent in agents:
            assert d.state_of(agent) == "S70002,CMP1"
            assert d.notices(agent) == []

    def test_job_end(self) -> None:
        """A manual agent whose job stops gets AGTJobEnd and stops working, still attached."""
        d = driver(None, "agent1")
        d.expect_ok("agent1", "AGTAttachJob", "CMP1")
        d.expect_ok("agent1", "AGTAvailWork")
        control(d, "CMP1", JobAction.STOP)
        assert d.notices("agent1") == [("AGTJobEnd", "0", "M00000")]
        assert d.state_of("agent1") == "S70003,CMP1"

    def test_job_trans_link(self) -> None:
        """A manual agent whose job ends with a linked job gets AGTJobTransLink, and the linked job starts (R9)."""
        d = driver(demo(CMP1={"linked_job": "CMP3"}), "agent1")
        control(d, "CMP3", JobAction.STOP)
        d.expect_ok("agent1", "AGTAttachJob", "CMP1")
        effects = d.feed(ControlJob("CMP1", JobAction.COMPLETE))
        assert d.notices("agent1") == [("AGTJobTransLink", "0", "M00001", "CMP3"), ("AGTJobTransLink", "0", "M00000")]
        assert d.engine.jobs["CMP3"].running
        assert JobEvent("CMP3", "running", detail="linked from CMP1") in effects

    def test_trans_request(self) -> None:
        """A supervisor's move reaches a manual agent as AGTJobTransRequest; the agent is not moved for it."""
        d = driver(None, "agent1")
        d.expect_ok("agent1", "AGTAttachJob", "CMP1")
        d.feed(MoveAgent("agent1", "CMP4"))
        assert d.notices("agent1") == [
            ("AGTJobTransRequest", "0", "M00001", "CMP4"),
            ("AGTJobTransRequest", "0", "M00000"),
        ]
        assert d.job_of("agent1") == "CMP1"

    def test_pause_is_silent(self) -> None:
        """A paused job sends its manual agents nothing (it only gives no work)."""
        d = driver(None, "agent1")
        d.expect_ok("agent1", "AGTAttachJob", "CMP1")
        control(d, "CMP1", JobAction.PAUSE)
        assert d.notices("agent1") == []
        assert d.job_of("agent1") == "CMP1"


class TestLinkedJobs:
    def test_linked_job_not_added_to_list(self) -> None:
        """When a preferred job ends and its linked job starts, the linked job stays out of the list (R9)."""
        d = driver(demo(CMP1={"linked_job": "CMP3"}), "agent1")
        control(d, "CMP3", JobAction.STOP)
        d.set_list("agent1", "CMP1")
        d.moves("agent1")
        control(d, "CMP1", JobAction.STOP)
        assert d.engine.jobs["CMP3"].running
        assert d.get_list("agent1") == ["O,CMP1,I"]
        assert d.moves("agent1") == [("AGTJobUnassigned", "CMP1", "job-stopped")]
        d.advance(30)
        assert d.job_of("agent1") is None

    def test_linked_job_taken_once_listed(self) -> None:
        """Once the agent adds the linked job to its list, it is attached to it."""
        d = driver(demo(CMP1={"linked_job": "CMP3"}), "agent1")
        control(d, "CMP3", JobAction.STOP)
        d.set_list("agent1", "CMP1")
        control(d, "CMP1", JobAction.STOP)
        d.moves("agent1")
        d.set_list("agent1", "CMP1", "CMP3")
        assert d.moves("agent1") == [("AGTJobAssigned", "CMP3", "assigned")]


class TestSupervisor:
    def test_set_list_takes_effect_at_once(self) -> None:
        """A supervisor's new list moves the agent at once, with reason supervisor (R10)."""
        d = driver(None, "agent1")
        d.set_list("agent1", "CMP1")
        d.moves("agent1")
        d.feed(SetPreferredJobs("agent1", ("CMP3",)))
        assert d.moves("agent1") == [("AGTJobAssigned", "CMP3", "supervisor")]
        assert d.get_list("agent1") == ["O,CMP3,A"]

    def test_set_list_for_manual_agent(self) -> None:
        """A supervisor's list makes a manual agent server-assigned at once (R10)."""
        d = driver(None, "agent1")
        d.feed(SetPreferredJobs("agent1", ("CMP2",)))
        assert d.moves("agent1") == [("AGTJobAssigned", "CMP2", "supervisor")]
        assert d.session("agent1").mode is AssignmentMode.SERVER

    def test_clear_list(self) -> None:
        """A supervisor clearing the list of an idle agent lets it take any running job at once (R10, R11)."""
        d = driver(None, "agent1")
        d.set_list("agent1", "CMP1")
        control(d, "CMP1", JobAction.PAUSE)
        d.moves("agent1")
        d.feed(SetPreferredJobs("agent1", ()))
        [(keyword, job, reason)] = d.moves("agent1")
        assert (keyword, reason) == ("AGTJobAssigned", "supervisor")
        assert job != "CMP1"
        assert d.get_list("agent1") == []

    def test_set_list_invalid(self) -> None:
        """An unknown job in a supervisor's list is refused as invalid, and nothing changes."""
        d = driver(None, "agent1")
        d.set_list("agent1", "CMP1")
        with pytest.raises(OperationRefused) as refused:
            d.feed(SetPreferredJobs("agent1", ("CMP2", "NOPE")))
        assert refused.value.kind == "invalid"
        assert d.get_list("agent1") == ["O,CMP1,A"]

    def test_move_pins_within_list(self) -> None:
        """A supervisor's move to a preferred job happens at once and balancing keeps the agent there."""
        agents = [f"agent{number}" for number in range(1, 5)]
        d = driver(demo(dwell_time=0), *agents)
        for agent in agents:
            d.set_list(agent, *CMP12)
        d.advance(5)
        mover = next(agent for agent in agents if d.job_of(agent) == "CMP1")
        for agent in agents:
            d.moves(agent)
        d.feed(MoveAgent(mover, "CMP2"))
        assert d.moves(mover) == [("AGTJobAssigned", "CMP2", "supervisor")]
        assert d.session(mover).mode is AssignmentMode.PINNED
        d.advance(30)
        assert d.job_of(mover) == "CMP2"
        counts = d.attached_counts()
        assert (counts["CMP1"], counts["CMP2"]) == (2, 2)

    def test_move_respects_maximum(self) -> None:
        """A supervisor's move to a job at its maximum is refused as a conflict: the job never holds more
        agents than its maximum."""
        d = driver(full_jobs_config(), "agent1", "agent2")
        d.set_list("agent1", "CMP1")
        d.set_list("agent2", *CMP12)
        assert (d.job_of("agent1"), d.job_of("agent2")) == ("CMP1", "CMP2")
        with pytest.raises(OperationRefused) as refused:
            d.feed(MoveAgent("agent2", "CMP1"))
        assert refused.value.kind == "conflict"
        assert len(d.engine.attached["CMP1"]) == 1
        assert d.job_of("agent2") == "CMP2"

    def test_deferred_move_respects_maximum(self) -> None:
        """A move to a job with room, made while the agent is on a call, does not overfill the job if
        another agent takes the last place before the call ends."""
        d = driver(full_jobs_config(), "agent1", "agent2")
        ready_on(d, "agent1", "BLEND1", "CMP1")
        on_call(d, "agent1", "BLEND1")
        d.feed(MoveAgent("agent1", "CMP1"))
        d.set_list("agent2", "CMP1")
        assert d.job_of("agent2") == "CMP1"
        d.expect_ok("agent1", "AGTFinishedItem", "20")
        assert len(d.engine.attached["CMP1"]) == 1
        assert d.job_of("agent1") in ("BLEND1", "CMP1")
        d.advance(5)
        assert len(d.engine.attached["CMP1"]) == 1

    def test_move_outside_list_refused(self) -> None:
        """A move to a job outside the agent's list is refused as a conflict, and nothing changes."""
        d = driver(None, "agent1")
        d.set_list("agent1", "CMP1")
        d.moves("agent1")
        with pytest.raises(OperationRefused) as refused:
            d.feed(MoveAgent("agent1", "CMP2"))
        assert refused.value.kind == "conflict"
        assert d.job_of("agent1") == "CMP1"
        assert d.session("agent1").mode is AssignmentMode.SERVER
        assert d.moves("agent1") == []

    @pytest.mark.parametrize(
        ("agent", "kind"), [("nobody", "not_found"), ("agent7", "conflict")], ids=["unknown", "not-logged-on"]
    )
    def test_move_absent_agent_refused(self, agent: str, kind: str) -> None:
        """Moving an unknown agent is not_found; moving an agent that is not logged on is a conflict."""
        d = driver(None, "agent1")
        with pytest.raises(OperationRefused) as refused:
            d.feed(MoveAgent(agent, "CMP1"))
        assert refused.value.kind == kind

    @pytest.mark.parametrize(
        ("setup", "action"),
        [
            ((), JobAction.START),
            ((), JobAction.RESUME),
            ((JobAction.PAUSE,), JobAction.PAUSE),
            ((JobAction.PAUSE,), JobAction.START),
            ((JobAction.STOP,), JobAction.RESUME),
            ((JobAction.STOP,), JobAction.PAUSE),
            ((JobAction.STOP,), JobAction.STOP),
            ((JobAction.COMPLETE,), JobAction.COMPLETE),
        ],
    )
    def test_invalid_job_transition_refused(self, setup: tuple[JobAction, ...], action: JobAction) -> None:
        """A job action that does not apply to the job's state is refused as a conflict; the state stays."""
        d = driver(None)
        for step in setup:
            control(d, "CMP1", step)
        before = d.engine.jobs["CMP1"].state
        with pytest.raises(OperationRefused) as refused:
            control(d, "CMP1", action)
        assert refused.value.kind == "conflict"
        assert d.engine.jobs["CMP1"].state is before


class TestLogoff:
    def test_disconnect_clears_list(self) -> None:
        """A dropped connection clears the list: the agent logs on again without one, in manual mode (R11)."""
        d = driver(None, "agent1")
        d.set_list("agent1", *CMP12)
        old = d.conns["agent1"]
        d.drop("agent1")
        assert all(old not in conns for conns in d.engine.attached.values())
        d.logon("agent1")
        assert d.get_list("agent1") == []
        assert d.session("agent1").mode is AssignmentMode.MANUAL
        assert d.job_of("agent1") is None
        assert d.moves("agent1") == []

    def test_disconnect_frees_slot(self) -> None:
        """The job slot of an agent that drops goes to an agent waiting for it."""
        d = driver(full_jobs_config(), "agent1", "agent2")
        d.set_list("agent1", "CMP1")
        d.set_list("agent2", "CMP1")
        assert d.job_of("agent2") is None
        d.drop("agent1")
        assert d.moves("agent2") == [("AGTJobAssigned", "CMP1", "assigned")]


class TestCallbacks:
    def test_owned_callback_from_other_job(self) -> None:
        """A callback of a non-preferred job goes to its ready owner: AGTAORNotify, a temporary move, the call (R7)."""
        d = driver(None, "agent1")
        ready_on(d, "agent1", "CMP1")
        d.feed(CallbackDue(call("CMP3", "r7", kind=CallKind.CALLBACK, owner="agent1", customer="Jane Doe")))
        assert d.notices("agent1") == [
            ("AGTAORNotify", "0", "M00001", "Jane Doe", "CMP3", "Allid", "CMP1"),
            ("AGTAORNotify", "0", "M00000"),
            ("AGTJobAssigned", "0", "M00001", "CMP3", "callback"),
            ("AGTJobAssigned", "0", "M00000"),
            ("AGTCallNotify", "0", "M00001", "Agent agent1 Owned Recall", "OUTBOUND"),
            ("AGTCallNotify", "0", "M00000"),
        ]
        assert d.state_of("agent1") == "S70000,CMP3"
        assert d.session("agent1").temporary is not None

    def test_returns_after_callback(self) -> None:
        """After finishing the callback the agent is given a preferred job again, reason returned (R7)."""
        d = driver(None, "agent1")
        ready_on(d, "agent1", "CMP1")
        d.feed(CallbackDue(call("CMP3", "r7", kind=CallKind.CALLBACK, owner="agent1")))
        d.take("agent1")
        d.expect_ok("agent1", "AGTFinishedItem", "20")
        assert d.moves("agent1") == [("AGTJobAssigned", "CMP1", "returned")]
        assert d.session("agent1").temporary is None
        d.advance(60)
        assert d.job_of("agent1") == "CMP1"

    def test_callback_waits_for_call_end(self) -> None:
        """An owner on a call hears of its callback at once but is moved only when it finishes its record."""
        d = driver(None, "agent1")
        ready_on(d, "agent1", "BLEND1")
        on_call(d, "agent1", "BLEND1")
        d.take("agent1")
        d.feed(CallbackDue(call("CMP3", "r7", kind=CallKind.CALLBACK, owner="agent1")))
        assert [notice[0] for notice in d.notices("agent1")] == ["AGTAORNotify", "AGTAORNotify"]
        assert d.state_of("agent1") == "S70000,BLEND1"
        d.expect_ok("agent1", "AGTFinishedItem", "20")
        assert d.moves("agent1") == [("AGTJobAssigned", "CMP3", "callback")]


    def test_waiting_callback_goes_to_agent_moved_in_ready(self) -> None:
        """A campaign callback waiting for its job goes to a ready agent the server moves onto that job."""
        d = driver(None, "agent1")
        ready_on(d, "agent1", *CMP12)
        assert d.job_of("agent1") == "CMP1"
        d.feed(CallbackDue(call("CMP2", "r9", kind=CallKind.CALLBACK, customer="Max Roe")))
        assert d.state_of("agent1") == "S70001,CMP1"
        control(d, "CMP1", JobAction.PAUSE)
        assert d.state_of("agent1") == "S70000,CMP2"
        assert ("AGTCallNotify", "0", "M00001", "Max Roe", "OUTBOUND") in d.notices("agent1")

    def test_held_callback_survives_owner_logoff(self) -> None:
        """A callback held for its owner until its call ends goes to the job's agents if the owner drops."""
        d = driver(None, "agent1", "agent2")
        ready_on(d, "agent1", "BLEND1")
        on_call(d, "agent1", "BLEND1")
        d.feed(CallbackDue(call("CMP3", "r7", kind=CallKind.CALLBACK, owner="agent1", customer="Jane Doe")))
        d.drop("agent1")
        ready_on(d, "agent2", "CMP3")
        assert d.state_of("agent2") == "S70000,CMP3"


class TestInbound:
    def test_longest_idle_agent_takes_call(self) -> None:
        """An inbound call goes to the agent that has been ready longest (R8)."""
        d = driver(None, "agent1", "agent2", "agent3")
        for agent in ("agent1", "agent2", "agent3"):
            d.set_list(agent, "CMP2")
            d.expect_ok(agent, "AGTAvailWork")
        d.now = 10
        d.expect_ok("agent2", "AGTReadyNextItem")
        d.now = 11
        d.expect_ok("agent3", "AGTReadyNextItem")
        d.now = 12
        d.expect_ok("agent1", "AGTReadyNextItem")
        for agent in ("agent1", "agent2", "agent3"):
            d.take(agent)
        d.now = 13
        d.feed(InboundCall(call("INBOUND1", "in1", kind=CallKind.INBOUND)))
        assert d.state_of("agent2") == "S70000,INBOUND1"
        assert d.state_of("agent1") == "S70001,CMP2"
        assert d.state_of("agent3") == "S70001,CMP2"
        d.feed(InboundCall(call("INBOUND1", "in2", kind=CallKind.INBOUND)))
        assert d.state_of("agent3") == "S70000,INBOUND1"
        assert d.state_of("agent1") == "S70001,CMP2"

    def test_temporary_move_and_return(self) -> None:
        """The agent is moved for the call (reason inbound), told INBOUND, and returned after it (R8)."""
        d = driver(None, "agent1")
        ready_on(d, "agent1", "CMP1")
        d.feed(InboundCall(call("INBOUND1", "in1", kind=CallKind.INBOUND)))
        assert d.notices("agent1") == [
            ("AGTJobAssigned", "0", "M00001", "INBOUND1", "inbound"),
            ("AGTJobAssigned", "0", "M00000"),
            ("AGTCallNotify", "0", "M00001", "INBOUND CALL", "INBOUND"),
            ("AGTCallNotify", "0", "M00000"),
        ]
        d.expect_ok("agent1", "AGTFinishedItem", "21")
        assert d.moves("agent1") == [("AGTJobAssigned", "CMP1", "returned")]
        assert d.state_of("agent1") == "S70002,CMP1"

    def test_queued_until_agent_ready(self) -> None:
        """With no ready agent the call waits, and goes to the next agent that becomes ready (R8)."""
        d = driver(None, "agent1")
        d.set_list("agent1", "CMP1")
        d.expect_ok("agent1", "AGTAvailWork")
        d.take("agent1")
        d.feed(InboundCall(call("INBOUND1", "in1", kind=CallKind.INBOUND)))
        assert d.notices("agent1") == []
        d.expect_ok("agent1", "AGTReadyNextItem")
        assert d.state_of("agent1") == "S70000,INBOUND1"
        assert ("AGTCallNotify", "0", "M00001", "INBOUND CALL", "INBOUND") in d.notices("agent1")

    def test_queued_call_goes_to_agent_put_back_ready(self) -> None:
        """A waiting caller goes to an agent that arrives ready on the job by a server move (R8)."""
        d = driver(None, "agent1")
        d.expect_ok("agent1", "AGTSetWorkClass", "I")
        ready_on(d, "agent1", "INBOUND1")
        control(d, "INBOUND1", JobAction.PAUSE)
        assert d.state_of("agent1") == "S70004"
        d.feed(InboundCall(call("INBOUND1", "in1", kind=CallKind.INBOUND)))
        control(d, "INBOUND1", JobAction.RESUME)
        assert d.state_of("agent1") == "S70000,INBOUND1"
        assert ("AGTCallNotify", "0", "M00001", "INBOUND CALL", "INBOUND") in d.notices("agent1")

    def test_manual_agent_not_taken(self) -> None:
        """A manual agent ready on an outbound job is not taken for an inbound call."""
        d = driver(None, "agent1")
        d.expect_ok("agent1", "AGTAttachJob", "CMP1")
        d.expect_ok("agent1", "AGTAvailWork")
        d.expect_ok("agent1", "AGTReadyNextItem")
        d.feed(InboundCall(call("INBOUND1", "in1", kind=CallKind.INBOUND)))
        assert d.state_of("agent1") == "S70001,CMP1"


class TestCallNotify:
    def test_shape(self) -> None:
        """AGTCallNotify is the operator message, call type and key field, then the chosen fields in
        order in messages of at most 256 bytes, then ``0 M00000``."""
        d = driver(None, "agent1")
        d.set_list("agent1", "CMP1")
        d.expect_ok("agent1", "AGTSetNotifyKeyField", "O", "ACCTNUM")
        for field in ("NAME", "CITY", "DUEDATE", "PHONE1", "BALANCE"):
            d.expect_ok("agent1", "AGTSetDataField", "O", field)
        d.expect_ok("agent1", "AGTAvailWork")
        d.expect_ok("agent1", "AGTReadyNextItem")
        d.take("agent1")
        fields = (("ACCTNUM", "123"), ("NAME", "N" * 90), ("CITY", "C" * 90), ("PHONE1", "555"), ("BALANCE", "9" * 80))
        d.feed(CallbackDue(call("CMP1", "r1", kind=CallKind.CALLBACK, customer="Ann Lee", fields=fields)))
        messages = d.take("agent1")
        assert all(m.keyword == "AGTCallNotify" and m.type is MessageType.NOTIFICATION for m in messages)
        assert all(len(encode(m)) <= 256 for m in messages)
        assert len(messages) >= 4
        assert messages[0].segments == ("0", "M00001", "Ann Lee", "OUTBOUND", "ACCTNUM,123")
        assert messages[-1].segments == ("0", "M00000")
        middle = messages[1:-1]
        assert all(m.segments[:2] == ("0", "M00001") for m in middle)
        records = [record for m in middle for record in m.segments[2:]]
        assert records == ["NAME," + "N" * 90, "CITY," + "C" * 90, "PHONE1,555", "BALANCE," + "9" * 80]

    def test_no_data_fields(self) -> None:
        """Without key or data fields the notice is the first message and ``0 M00000`` only."""
        d = driver(None, "agent1")
        ready_on(d, "agent1", "CMP1")
        d.feed(CallbackDue(call("CMP1", "r1", kind=CallKind.CALLBACK, customer="Ann", fields=(("NAME", "x"),))))
        assert d.notices("agent1") == [
            ("AGTCallNotify", "0", "M00001", "Ann", "OUTBOUND"),
            ("AGTCallNotify", "0", "M00000"),
        ]


class TestExplain:
    def test_idle_because_paused(self) -> None:
        """An idle agent's explanation names its paused preferred jobs."""
        d = driver(None, "agent1")
        d.set_list("agent1", *CMP12)
        control(d, "CMP1", JobAction.PAUSE)
        control(d, "CMP2", JobAction.PAUSE)
        text = d.engine.explain("agent1")
        assert "idle" in text
        assert "CMP1 is paused" in text
        assert "CMP2 is paused" in text

    def test_on_a_job(self) -> None:
        """An agent on a job is explained by balancing among its preferred jobs."""
        d = driver(None, "agent1")
        d.set_list("agent1", "CMP4")
        text = d.engine.explain("agent1")
        assert "is on CMP4" in text
        assert "balancing" in text
        assert "CMP4" in text

    def test_temporary(self) -> None:
        """An agent taken for an inbound call is explained as there only for that call."""
        d = driver(None, "agent1")
        ready_on(d, "agent1", "CMP1")
        d.feed(InboundCall(call("INBOUND1", "in1", kind=CallKind.INBOUND)))
        text = d.engine.explain("agent1")
        assert "INBOUND1" in text
        assert "only for an inbound call" in text
        assert "CMP1" in text

    def test_manual(self) -> None:
        """An agent that never sent a list is explained as choosing its jobs itself."""
        d = driver(None, "agent1")
        d.expect_ok("agent1", "AGTAttachJob", "CMP2")
        text = d.engine.explain("agent1")
        assert "chooses its jobs itself" in text
        assert "CMP2" in text

    def test_not_logged_on(self) -> None:
        """An agent that is not logged on is explained as such; an unknown name too."""
        d = driver(None)
        assert "not logged on" in d.engine.explain("agent5")
        assert "no agent" in d.engine.explain("nobody")
