"""End-to-end tests of POM's Agent Preferred Campaigns over real sockets (product.md §2 R1–R11, §4).

Policy: every test runs a server of its own on 127.0.0.1 port 0 (the ``server`` fixture, or
:func:`tests.support.running_server` for a changed configuration) and talks to it as agent desktops do,
with the client library, or with a raw socket where the bytes matter.  Job control and supervisor
operations go through the server's engine driver (``running.server.driver.dispatch``), as the REST API
will.  Notifications are read in the order the server sent them, so each test sees the exact sequence an
agent desktop sees.  No dialer runs yet: the only calls are the callbacks and inbound calls the tests
inject.  Every test runs under ``trio.fail_after(10)``; those that need fairness rebalancing within the
test use a dwell time of 0.2 s and a rebalance interval of 0.1 s.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AsyncExitStack
from pathlib import Path

import attrs
import pytest
import trio

from agt_server.client import GET_PREFERRED_JOB_LIST, SET_PREFERRED_JOB_LIST, AgtClient, JobListing, Notification
from agt_server.config import AgentConfig, AssignmentConfig, JobConfig, SiteConfig, hash_password
from agt_server.engine import (
    Call,
    CallbackDue,
    CallKind,
    ControlJob,
    InboundCall,
    JobAction,
    MoveAgent,
    MoveReason,
    OperationRefused,
    SetPreferredJobs,
    SupervisorInput,
)
from agt_server.protocol import ETX, MAX_CLIENT_READ, RS, JobType, MessageType, WorkClass, encode
from tests.support import (
    RawConnection,
    RunningServer,
    config_for_tests,
    decode_frame,
    open_raw_connection,
    running_server,
)

TIMEOUT = 10
#: How long a notification the server owes may take to arrive.
NOTICE_WAIT = 2.0
#: How long a test listens to be sure that nothing (more) arrives.
QUIET = 0.3
#: Every reason code an assignment notification may carry (product.md §4).
REASONS = frozenset(reason.value for reason in MoveReason)
#: A configuration change that makes fairness rebalancing show within a test.
FAST = AssignmentConfig(dwell_time=0.2, rebalance_interval=0.1)
#: The state of each job after each action.
RUNNING_AFTER = {
    JobAction.PAUSE: False,
    JobAction.STOP: False,
    JobAction.COMPLETE: False,
    JobAction.RESUME: True,
    JobAction.START: True,
}


# -- helpers -----------------------------------------------------------------------------------------


def dispatch(running: RunningServer, event: SupervisorInput) -> None:
    """Feed a supervisor or job-control input to the running server's engine, as the REST API does."""
    running.server.driver.dispatch(event)


def control(running: RunningServer, job: str, action: JobAction) -> None:
    """Pause, resume, stop, start or complete ``job``."""
    dispatch(running, ControlJob(job, action))


def evolve_jobs(config: SiteConfig, **changes: dict[str, object]) -> SiteConfig:
    """``config`` with the named jobs changed, e.g. ``evolve_jobs(config, CMP3={"start_running": False})``."""
    jobs = tuple(attrs.evolve(job, **changes.get(job.name, {})) for job in config.jobs)
    return attrs.evolve(config, jobs=jobs)


def linked_config(tmp_path: Path, **changes: object) -> SiteConfig:
    """The demo with CMP1 linked to CMP3, and CMP3 not started."""
    config = config_for_tests(tmp_path, **changes)
    return evolve_jobs(config, CMP1={"linked_job": "CMP3"}, CMP3={"start_running": False})


def callback(owner: str, job: str = "CMP4", customer: str = "John Doe", record_id: str = "cb-1") -> CallbackDue:
    """An agent-owned callback on ``job`` falling due."""
    fields = (("ACCTNUM", "4000123412341234"), ("NAME", customer), ("PHONE1", "3035551234"))
    return CallbackDue(Call(job, CallKind.CALLBACK, record_id, fields=fields, owner=owner, customer=customer))


def inbound(job: str = "INBOUND1", customer: str = "Jane Roe") -> InboundCall:
    """A customer calling in to ``job``."""
    fields = (("NAME", customer), ("PHONE1", "7205550000"))
    return InboundCall(Call(job, CallKind.INBOUND, "in-1", fields=fields, customer=customer))


async def next_move(client: AgtClient) -> tuple[str, str, str]:
    """The next notification, which must be AGTJobAssigned or AGTJobUnassigned: (keyword, job, reason).

    Checks its shape: ``0 M00001 <job> <reason>`` then ``0 M00000``, invoke id 0.
    """
    notice = await client.next_notification(timeout=NOTICE_WAIT)
    assert notice.keyword in ("AGTJobAssigned", "AGTJobUnassigned"), f"got {notice.keyword} {notice.records}"
    return _move_of(notice)


def _move_of(notice: Notification) -> tuple[str, str, str]:
    assert len(notice.messages) == 2, notice.messages
    first, last = notice.messages
    assert first.segments[:2] == ("0", "M00001")
    assert len(first.segments) == 4, first.segments
    assert last.segments == ("0", "M00000")
    for message in notice.messages:
        assert message.type is MessageType.NOTIFICATION
        assert message.invoke_id == "0"
    job, reason = first.segments[2:]
    assert reason in REASONS
    return notice.keyword, job, reason


async def assigned(client: AgtClient) -> tuple[str, str]:
    """The next notification must be AGTJobAssigned: (job, reason)."""
    keyword, job, reason = await next_move(client)
    assert keyword == "AGTJobAssigned", f"{keyword} {job} {reason}"
    return job, reason


async def unassigned(client: AgtClient) -> tuple[str, str]:
    """The next notification must be AGTJobUnassigned: (job, reason)."""
    keyword, job, reason = await next_move(client)
    assert keyword == "AGTJobUnassigned", f"{keyword} {job} {reason}"
    return job, reason


async def expect_notice(client: AgtClient, keyword: str) -> Notification:
    """The next notification, which must be ``keyword``."""
    notice = await client.next_notification(timeout=NOTICE_WAIT)
    assert notice.keyword == keyword, f"expected {keyword}, got {notice.keyword} {notice.records}"
    return notice


async def assert_quiet(client: AgtClient, seconds: float = QUIET) -> None:
    """No notification arrives within ``seconds``."""
    with trio.move_on_after(seconds):
        notice = await client.next_notification()
        pytest.fail(f"unexpected notification {notice.keyword} {notice.records}")


def drain(client: AgtClient) -> list[Notification]:
    """Every notification already received and not yet consumed."""
    notices = []
    while True:
        try:
            notices.append(client.notifications.receive_nowait())
        except trio.WouldBlock:
            return notices


async def state(client: AgtClient) -> tuple[str, str | None]:
    """AGTListState as (code, job)."""
    report = await client.list_state()
    return report.code, report.job


async def prefer(client: AgtClient, jobs: Sequence[str]) -> tuple[str, str]:
    """Send a preferred list to an agent without a job; return (job, reason) of its AGTJobAssigned."""
    await client.set_preferred_job_list(jobs)
    return await assigned(client)


async def on_cmp1_preferring_cmp1_and_cmp2(client: AgtClient) -> None:
    """Get an agent onto CMP1 with the list CMP1, CMP2 without relying on the server's tie-breaking."""
    assert await prefer(client, ["CMP1"]) == ("CMP1", "assigned")
    await client.set_preferred_job_list(["CMP1", "CMP2"])  # CMP1 is still a candidate: it stays
    assert await state(client) == ("S70003", "CMP1")
    assert drain(client) == []


async def get_ready(client: AgtClient) -> None:
    """AGTAvailWork then AGTReadyNextItem on the attached job."""
    await client.avail_work()
    await client.ready_next_item()


async def active_jobs(client: AgtClient) -> set[str]:
    """The jobs AGTListJobs shows the agent as active."""
    return {job.name for job in await client.list_jobs() if job.active}


def other(job: str, pair: tuple[str, str] = ("CMP1", "CMP2")) -> str:
    """The job of ``pair`` that is not ``job``."""
    assert job in pair
    return pair[1] if job == pair[0] else pair[0]


# -- raw wire helpers --------------------------------------------------------------------------------


def overflowing_command(keyword: bytes, invoke_id: str, *args: str) -> bytes:
    """A command whose keyword is written whole, pushing the rest of the header right (``%-20s``)."""
    header = (
        keyword
        + b"C"
        + b"raw".ljust(20)
        + b"0".ljust(6)
        + invoke_id.encode("ascii").ljust(4)
        + str(len(args)).encode("ascii").ljust(4)
    )
    return header + b"".join(RS + arg.encode("latin-1") for arg in args) + ETX


async def raw_reply(raw: RawConnection, invoke_id: str, notices: list[bytes]) -> list[bytes]:
    """The frames answering the command sent with ``invoke_id`` (up to its R); notifications met on the
    way go to ``notices``."""
    frames = []
    while True:
        frame = await raw.receive_frame()
        assert frame is not None, "the server closed the connection"
        message = decode_frame(frame)
        if message.type is MessageType.NOTIFICATION:
            notices.append(frame)
            continue
        frames.append(frame)
        if message.type is MessageType.RESPONSE and message.invoke_id == invoke_id:
            return frames


async def raw_ok(raw: RawConnection, notices: list[bytes], keyword: str, *args: str) -> list[bytes]:
    """Send a command that must succeed; return its frames."""
    await raw.send_command(keyword, *args, invoke_id="5")
    frames = await raw_reply(raw, "5", notices)
    assert decode_frame(frames[-1]).segments == ("0", "M00000"), frames[-1]
    return frames


async def raw_notices_until(raw: RawConnection, keyword: str, notices: list[bytes]) -> None:
    """Read notifications into ``notices`` until one of ``keyword`` ends (``0 M00000``)."""
    while True:
        frame = await raw.receive_frame()
        assert frame is not None, "the server closed the connection"
        message = decode_frame(frame)
        assert message.type is MessageType.NOTIFICATION, frame
        notices.append(frame)
        if message.keyword == keyword and message.segments == ("0", "M00000"):
            return


# -- the feature's example: CMP1–CMP4 running, an agent preferring CMP1 and CMP2 ------------------------


class TestCampaignExample:
    """Each bullet of the CMP1–CMP4 example of the feature description, end to end."""

    async def test_attached_to_cmp1_or_cmp2(self, server: RunningServer) -> None:
        """An agent preferring CMP1 and CMP2 is attached to one of them and to nothing else."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on("agent1") as agent:
                assert await active_jobs(agent) >= {"CMP1", "CMP2", "CMP3", "CMP4"}
                job, reason = await prefer(agent, ["CMP1", "CMP2"])
                assert job in ("CMP1", "CMP2")
                assert reason == "assigned"
                assert await state(agent) == ("S70003", job)
                await assert_quiet(agent)

    async def _reassigned_when(self, server: RunningServer, action: JobAction, reason: str) -> None:
        async with server.logged_on("agent1") as agent:
            first, _ = await prefer(agent, ["CMP1", "CMP2"])
            control(server, first, action)
            assert await assigned(agent) == (other(first), reason)
            assert await state(agent) == ("S70003", other(first))
            jobs = {job.name: job.status for job in await agent.list_jobs()}
            assert (jobs[first], jobs[other(first)]) == ("I", "A")
            await assert_quiet(agent)

    async def test_reassigned_to_the_other_when_its_campaign_is_dialed_out(self, server: RunningServer) -> None:
        """When the agent's campaign is dialed out it is moved to the other preferred one (job-dialed-out)."""
        with trio.fail_after(TIMEOUT):
            await self._reassigned_when(server, JobAction.COMPLETE, "job-dialed-out")

    async def test_reassigned_to_the_other_when_its_campaign_pauses(self, server: RunningServer) -> None:
        """When the agent's campaign pauses it is moved to the other preferred one (job-paused)."""
        with trio.fail_after(TIMEOUT):
            await self._reassigned_when(server, JobAction.PAUSE, "job-paused")

    async def test_reassigned_to_the_other_when_its_campaign_stops(self, server: RunningServer) -> None:
        """When the agent's campaign stops it is moved to the other preferred one (job-stopped)."""
        with trio.fail_after(TIMEOUT):
            await self._reassigned_when(server, JobAction.STOP, "job-stopped")

    async def test_idle_when_only_non_preferred_campaigns_run(self, tmp_path: Path) -> None:
        """With CMP1 and CMP2 not running and CMP3 and CMP4 running, the agent stays idle (R6)."""
        with trio.fail_after(TIMEOUT):
            async with (
                running_server(config_for_tests(tmp_path, assignment=FAST)) as running,
                running.logged_on("agent1") as agent,
            ):
                first, _ = await prefer(agent, ["CMP1", "CMP2"])
                control(running, other(first), JobAction.PAUSE)
                await assert_quiet(agent, 0.2)  # not its job: nothing to tell it
                control(running, first, JobAction.STOP)
                assert await unassigned(agent) == (first, "job-stopped")
                assert await state(agent) == ("S70004", None)
                assert await active_jobs(agent) >= {"CMP3", "CMP4"}
                await assert_quiet(agent, 0.6)  # several rebalances come and go
                assert await state(agent) == ("S70004", None)

    async def test_callback_from_a_non_preferred_campaign_takes_it_for_one_call(self, server: RunningServer) -> None:
        """A callback on CMP4 takes the agent for one call; afterwards it returns to CMP1 or CMP2 (R7)."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on("agent1") as agent:
                first, _ = await prefer(agent, ["CMP1", "CMP2"])
                await agent.set_data_field("O", "NAME")
                await get_ready(agent)
                dispatch(server, callback("agent1"))
                aor = await expect_notice(agent, "AGTAORNotify")
                assert [m.segments for m in aor.messages] == [
                    ("0", "M00001", "John Doe", "CMP4", "Allid", first),
                    ("0", "M00000"),
                ]
                assert await assigned(agent) == ("CMP4", "callback")
                call = await expect_notice(agent, "AGTCallNotify")
                assert call.first.segments[2:4] == ("Agent agent1 Owned Recall", "OUTBOUND")
                assert "NAME,John Doe" in call.records
                assert await state(agent) == ("S70000", "CMP4")
                await agent.finished_item(20)
                job, reason = await assigned(agent)
                assert job in ("CMP1", "CMP2")
                assert reason == "returned"
                assert await state(agent) == ("S70002", job)
                await assert_quiet(agent)

    async def test_inbound_call_takes_it_from_cmp1(self, server: RunningServer) -> None:
        """An inbound call takes the agent off CMP1; after it the agent is back on CMP1 or CMP2 (R8)."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on("agent1") as agent:
                await on_cmp1_preferring_cmp1_and_cmp2(agent)
                await get_ready(agent)
                dispatch(server, inbound())
                assert await assigned(agent) == ("INBOUND1", "inbound")
                call = await expect_notice(agent, "AGTCallNotify")
                assert call.first.segments[2:4] == ("INBOUND CALL", "INBOUND")
                assert await state(agent) == ("S70000", "INBOUND1")
                await agent.finished_item(20)
                job, reason = await assigned(agent)
                assert job in ("CMP1", "CMP2")
                assert reason == "returned"
                assert await state(agent) == ("S70002", job)
                await assert_quiet(agent)

    async def test_linked_campaign_is_not_added_to_the_list(self, tmp_path: Path) -> None:
        """CMP1 stopping starts its linked CMP3, but the agent's list stays CMP1, CMP2 and it goes to CMP2 (R9)."""
        with trio.fail_after(TIMEOUT):
            async with running_server(linked_config(tmp_path)) as running, running.logged_on("agent1") as agent:
                await on_cmp1_preferring_cmp1_and_cmp2(agent)
                assert "CMP3" not in await active_jobs(agent)
                control(running, "CMP1", JobAction.STOP)
                assert await assigned(agent) == ("CMP2", "job-stopped")
                assert await active_jobs(agent) >= {"CMP2", "CMP3"}
                assert await agent.get_preferred_job_list() == [
                    JobListing("O", "CMP1", "I"),
                    JobListing("O", "CMP2", "A"),
                ]
                assert await state(agent) == ("S70003", "CMP2")
                await assert_quiet(agent)


# -- the rules R1–R11 --------------------------------------------------------------------------------


def _with_extra_jobs(tmp_path: Path, count: int) -> SiteConfig:
    config = config_for_tests(tmp_path)
    extra = tuple(
        JobConfig(f"EXTRA{number:02}", JobType.OUTBOUND, outbound_list="cmp1_list") for number in range(1, count + 1)
    )
    return attrs.evolve(config, jobs=config.jobs + extra)


class TestRules:
    """Each rule of product.md §2, end to end."""

    async def test_r1_at_most_twenty_preferred_campaigns(self, tmp_path: Path) -> None:
        """R1: a list of 20 campaigns is accepted and one of 21 is refused with E70000 naming the limit."""
        twenty = [f"EXTRA{number:02}" for number in range(1, 21)]
        with trio.fail_after(TIMEOUT):
            async with (
                running_server(_with_extra_jobs(tmp_path, 20)) as running,
                running.logged_on("agent1") as agent,
            ):
                reply = await agent.command(SET_PREFERRED_JOB_LIST, *twenty, "CMP1", check=False)
                assert reply.code == "E70000"
                assert reply.response.segments[0] == "1"
                assert "20" in ",".join(reply.response.segments[1:])
                assert await agent.get_preferred_job_list() == []
                assert await state(agent) == ("S70004", None)  # a refused list changes nothing

                job, reason = await prefer(agent, twenty)
                assert job in twenty
                assert reason == "assigned"
                assert [listing.name for listing in await agent.get_preferred_job_list()] == twenty
                # Twenty records do not fit in one 256-byte message: the read-back is split.
                read_back = await agent.command(GET_PREFERRED_JOB_LIST)
                assert len(read_back.data) >= 2
                assert all(len(encode(message)) <= MAX_CLIENT_READ for message in read_back.data)

                reply = await agent.command(SET_PREFERRED_JOB_LIST, "CMP1", *twenty, check=False)
                assert reply.code == "E70000"
                assert [listing.name for listing in await agent.get_preferred_job_list()] == twenty
                # Repeating a job does not count twice.
                await agent.set_preferred_job_list([*twenty, twenty[0]])
                assert [listing.name for listing in await agent.get_preferred_job_list()] == twenty

                with pytest.raises(OperationRefused, match="20"):
                    dispatch(running, SetPreferredJobs("agent1", (*twenty, "CMP1")))
                assert [listing.name for listing in await agent.get_preferred_job_list()] == twenty
                assert await state(agent) == ("S70003", job)
                await assert_quiet(agent, 0.1)

    async def test_r2_select_from_the_applicable_jobs_and_read_back(self, tmp_path: Path) -> None:
        """R2: AGTListJobs shows the applicable jobs, only those can be preferred, and the list reads back."""
        config = config_for_tests(tmp_path)
        no_managed = AgentConfig(
            "agent21",
            hash_password("agent21", cost=10),
            work_classes=frozenset(WorkClass) - {WorkClass.MANAGED},
        )
        config = attrs.evolve(config, agents=(*config.agents, no_managed))
        with trio.fail_after(TIMEOUT):
            async with running_server(config) as running:
                await self._r2_agent_without_managed_work(running)
                async with running.logged_on("agent1") as agent1:
                    # PREVIEW1 is accepted from an agent that may work managed jobs; the server gives it the
                    # job once the work class it uses can join it (protocol_spec.md §10.5).
                    await agent1.set_preferred_job_list(["PREVIEW1"])
                    assert await agent1.get_preferred_job_list() == [JobListing("M", "PREVIEW1", "A")]
                    await assert_quiet(agent1)
                    await agent1.set_work_class("M")
                    assert await assigned(agent1) == ("PREVIEW1", "assigned")
                    assert await state(agent1) == ("S70003", "PREVIEW1")

    async def _r2_agent_without_managed_work(self, running: RunningServer) -> None:
        """agent21 may not work managed jobs: what it can prefer, and reading its list back."""
        async with running.logged_on("agent21") as agent:
            assert [job.name for job in await agent.list_jobs()] == [
                "CMP1", "CMP2", "CMP3", "CMP4", "INBOUND1", "BLEND1",
            ]  # fmt: skip
            reply = await agent.command(SET_PREFERRED_JOB_LIST, "CMP1", "NOSUCHJOB", check=False)
            assert reply.response.segments == ("1", "E28890,NOSUCHJOB")
            reply = await agent.command(SET_PREFERRED_JOB_LIST, "CMP1", "PREVIEW1", check=False)
            assert reply.response.segments == ("1", "E28883,PREVIEW1")
            assert await agent.get_preferred_job_list() == []
            assert await state(agent) == ("S70004", None)

            job, _ = await prefer(agent, ["CMP2", "BLEND1", "CMP1"])
            assert job in ("CMP2", "BLEND1", "CMP1")
            assert await agent.get_preferred_job_list() == [
                JobListing("O", "CMP2", "A"),
                JobListing("B", "BLEND1", "A"),
                JobListing("O", "CMP1", "A"),
            ]
            # One comma-separated segment is accepted too.
            await agent.command(SET_PREFERRED_JOB_LIST, "CMP3,CMP4")
            job, _ = await assigned(agent)
            assert job in ("CMP3", "CMP4")
            control(running, other(job, ("CMP3", "CMP4")), JobAction.PAUSE)
            status = {listing.name: listing.status for listing in await agent.get_preferred_job_list()}
            assert status == {job: "A", other(job, ("CMP3", "CMP4")): "I"}
            # An empty list clears it.
            await agent.set_preferred_job_list([])
            assert await agent.get_preferred_job_list() == []

    async def test_r3_exactly_one_preferred_campaign_chosen_by_the_server(self, server: RunningServer) -> None:
        """R3: each agent is on exactly one of its preferred jobs, and two agents with one list use both jobs."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on("agent1") as first, server.logged_on("agent2") as second:
                job1, reason1 = await prefer(first, ["CMP1", "CMP2"])
                job2, reason2 = await prefer(second, ["CMP1", "CMP2"])
                assert {job1, job2} == {"CMP1", "CMP2"}
                assert reason1 == reason2 == "assigned"
                assert await state(first) == ("S70003", job1)
                assert await state(second) == ("S70003", job2)
                reply = await first.command("AGTAttachJob", "CMP3", check=False)
                assert reply.code == "E28889"  # one job at a time
                await assert_quiet(first)
                await assert_quiet(second, 0.05)
                assert await state(first) == ("S70003", job1)

    async def test_r4_balancing_stays_within_each_list(self, tmp_path: Path) -> None:
        """R4: through pause/resume/stop churn and rebalancing, no agent is ever on a job outside its list."""
        lists = {
            "agent1": ("CMP1", "CMP2"),
            "agent2": ("CMP2", "CMP3"),
            "agent3": ("CMP3",),
            "agent4": ("CMP1", "CMP4"),
            "agent5": ("CMP4", "CMP2", "CMP1"),
            "agent6": ("CMP2",),
            "agent7": ("BLEND1", "CMP3"),
            "agent8": ("CMP1", "CMP2"),
        }
        churn = [
            ("CMP1", JobAction.PAUSE),
            ("CMP2", JobAction.PAUSE),
            ("CMP1", JobAction.RESUME),
            ("CMP3", JobAction.STOP),
            ("CMP2", JobAction.RESUME),
            ("CMP4", JobAction.COMPLETE),
            ("CMP3", JobAction.START),
            ("CMP1", JobAction.PAUSE),
            ("CMP4", JobAction.START),
            ("CMP1", JobAction.RESUME),
            ("BLEND1", JobAction.PAUSE),
            ("CMP2", JobAction.STOP),
            ("CMP2", JobAction.START),
            ("BLEND1", JobAction.RESUME),
        ]
        running_jobs = {"CMP1", "CMP2", "CMP3", "CMP4", "BLEND1"}

        async def check_everyone(clients: dict[str, AgtClient], when: str) -> None:
            for name, client in clients.items():
                code, job = await state(client)
                candidates = set(lists[name]) & running_jobs
                if candidates:
                    assert job in candidates, f"{when}: {name} on {job}, its list {lists[name]}, running {running_jobs}"
                    assert code == "S70003"
                else:
                    assert (code, job) == ("S70004", None), f"{when}: {name} should be idle"

        with trio.fail_after(TIMEOUT):
            async with (
                running_server(config_for_tests(tmp_path, assignment=FAST)) as running,
                AsyncExitStack() as stack,
            ):
                clients = {name: await stack.enter_async_context(running.logged_on(name)) for name in lists}
                for name, client in clients.items():
                    await client.set_preferred_job_list(lists[name])
                await check_everyone(clients, "at first")
                for job, action in churn:
                    control(running, job, action)
                    if RUNNING_AFTER[action]:
                        running_jobs.add(job)
                    else:
                        running_jobs.discard(job)
                    await check_everyone(clients, f"after {action.value} {job}")
                    await trio.sleep(0.12)  # let a rebalance run
                    await check_everyone(clients, f"a while after {action.value} {job}")
                # Every notification each agent got names a job of its list, and they add up to where it is.
                for name, client in clients.items():
                    current: str | None = None
                    notices = drain(client)
                    assert notices, f"{name} was never told anything"
                    for notice in notices:
                        keyword, job, _ = _move_of(notice)
                        assert job in lists[name], f"{name} told {keyword} {job}"
                        if keyword == "AGTJobUnassigned":
                            assert job == current, f"{name} left {job} while on {current}"
                            current = None
                        else:
                            current = job
                    assert (await state(client))[1] == current

    async def test_r5_reassigned_to_another_running_preferred_campaign(self, server: RunningServer) -> None:
        """R5: an agent mid-call moves when the call ends, to a running preferred job (not a paused one)."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on("agent1") as agent:
                assert await prefer(agent, ["CMP1"]) == ("CMP1", "assigned")
                await agent.set_preferred_job_list(["CMP1", "CMP2", "CMP3"])
                control(server, "CMP2", JobAction.PAUSE)
                await get_ready(agent)
                dispatch(server, callback("agent1", job="CMP1"))  # its own job: a call on CMP1
                call = await expect_notice(agent, "AGTCallNotify")
                assert call.first.segments[3] == "OUTBOUND"
                assert await state(agent) == ("S70000", "CMP1")
                control(server, "CMP1", JobAction.PAUSE)
                await assert_quiet(agent)  # never moved in the middle of a call
                assert await state(agent) == ("S70000", "CMP1")
                await agent.finished_item(21)
                assert await assigned(agent) == ("CMP3", "job-paused")
                assert await state(agent) == ("S70002", "CMP3")
                await assert_quiet(agent)

    async def test_r6_idle_while_no_preferred_campaign_runs(self, tmp_path: Path) -> None:
        """R6: with its campaigns not started, paused, stopped and dialed out, the agent idles until one runs."""
        config = evolve_jobs(config_for_tests(tmp_path), CMP1={"start_running": False})
        with trio.fail_after(TIMEOUT):
            async with running_server(config) as running, running.logged_on("agent1") as agent:
                control(running, "CMP2", JobAction.PAUSE)
                control(running, "CMP3", JobAction.STOP)
                control(running, "CMP4", JobAction.COMPLETE)
                await agent.set_preferred_job_list(["CMP1", "CMP2", "CMP3", "CMP4"])
                assert await active_jobs(agent) == {"INBOUND1", "BLEND1", "PREVIEW1"}
                await assert_quiet(agent)
                assert await state(agent) == ("S70004", None)
                control(running, "CMP2", JobAction.RESUME)
                assert await assigned(agent) == ("CMP2", "assigned")
                assert await state(agent) == ("S70003", "CMP2")

    async def test_r7_callback_while_on_a_call_then_back_to_a_running_preferred(self, server: RunningServer) -> None:
        """R7: a callback announced mid-call takes the agent after it; then it goes where its list has room."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on("agent1") as agent:
                await on_cmp1_preferring_cmp1_and_cmp2(agent)
                await get_ready(agent)
                dispatch(server, callback("agent1", job="CMP1", customer="Ann Own", record_id="cb-own"))
                await expect_notice(agent, "AGTCallNotify")
                dispatch(server, callback("agent1", job="CMP4", customer="John Doe"))
                aor = await expect_notice(agent, "AGTAORNotify")
                assert aor.first.segments == ("0", "M00001", "John Doe", "CMP4", "Allid", "CMP1")
                await assert_quiet(agent, 0.2)  # not taken in the middle of its call
                assert await state(agent) == ("S70000", "CMP1")
                control(server, "CMP1", JobAction.PAUSE)
                await assert_quiet(agent, 0.2)
                await agent.finished_item(20)
                assert await assigned(agent) == ("CMP4", "callback")
                assert await state(agent) == ("S70002", "CMP4")
                await agent.ready_next_item()
                call = await expect_notice(agent, "AGTCallNotify")
                assert call.first.segments[2:4] == ("Agent agent1 Owned Recall", "OUTBOUND")
                await agent.finished_item(22)
                assert await assigned(agent) == ("CMP2", "returned")  # CMP1 paused meanwhile
                assert await state(agent) == ("S70002", "CMP2")
                await assert_quiet(agent)

    async def test_r8_inbound_call_takes_the_longest_idle_preferred_agent(self, server: RunningServer) -> None:
        """R8: an inbound call takes the longest-ready server-assigned agent (never a PC one), which returns after."""
        with trio.fail_after(TIMEOUT):
            async with (
                server.logged_on("agent3") as pc,
                server.logged_on("agent1") as first,
                server.logged_on("agent2") as second,
            ):
                await pc.attach_job("CMP3")
                await get_ready(pc)  # ready longest, but it chooses its jobs itself
                await on_cmp1_preferring_cmp1_and_cmp2(first)
                await get_ready(first)
                assert await prefer(second, ["CMP1", "CMP2"]) == ("CMP2", "assigned")
                await get_ready(second)
                dispatch(server, inbound())
                assert await assigned(first) == ("INBOUND1", "inbound")
                call = await expect_notice(first, "AGTCallNotify")
                assert call.first.segments[2:4] == ("INBOUND CALL", "INBOUND")
                control(server, "CMP1", JobAction.PAUSE)
                await assert_quiet(first, 0.2)  # on the inbound call: it stays
                await first.finished_item(20)
                assert await assigned(first) == ("CMP2", "returned")
                assert await state(first) == ("S70002", "CMP2")
                assert await state(second) == ("S70001", "CMP2")
                assert await state(pc) == ("S70001", "CMP3")
                await assert_quiet(second, 0.05)
                await assert_quiet(pc, 0.05)

    async def test_r9_linked_job_only_joins_the_list_when_someone_adds_it(self, tmp_path: Path) -> None:
        """R9: a dialed-out job's linked job starts but the agent idles until a supervisor adds it to its list."""
        with trio.fail_after(TIMEOUT):
            async with running_server(linked_config(tmp_path)) as running, running.logged_on("agent1") as agent:
                assert await prefer(agent, ["CMP1"]) == ("CMP1", "assigned")
                control(running, "CMP1", JobAction.COMPLETE)
                assert await unassigned(agent) == ("CMP1", "job-dialed-out")
                assert "CMP3" in await active_jobs(agent)
                assert await agent.get_preferred_job_list() == [JobListing("O", "CMP1", "I")]
                await assert_quiet(agent)
                assert await state(agent) == ("S70004", None)
                dispatch(running, SetPreferredJobs("agent1", ("CMP1", "CMP3")))
                assert await assigned(agent) == ("CMP3", "supervisor")
                assert await agent.get_preferred_job_list() == [
                    JobListing("O", "CMP1", "I"),
                    JobListing("O", "CMP3", "A"),
                ]

    async def test_r10_supervisor_sets_and_clears_the_list_live(self, server: RunningServer) -> None:
        """R10: a supervisor's new list moves the agent at once (reason supervisor); clearing it frees the agent."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on("agent1") as agent:
                await on_cmp1_preferring_cmp1_and_cmp2(agent)
                dispatch(server, SetPreferredJobs("agent1", ("CMP3",)))
                assert await assigned(agent) == ("CMP3", "supervisor")
                assert await agent.get_preferred_job_list() == [JobListing("O", "CMP3", "A")]
                assert await state(agent) == ("S70003", "CMP3")
                for refused in (
                    SetPreferredJobs("agent1", ("NOSUCHJOB",)),
                    SetPreferredJobs("agent99", ("CMP1",)),
                    SetPreferredJobs("agent2", ("CMP1",)),  # not logged on
                    MoveAgent("agent1", "CMP4"),  # not in its list
                ):
                    with pytest.raises(OperationRefused):
                        dispatch(server, refused)
                assert await agent.get_preferred_job_list() == [JobListing("O", "CMP3", "A")]
                await assert_quiet(agent, 0.1)
                control(server, "CMP3", JobAction.PAUSE)
                assert await unassigned(agent) == ("CMP3", "job-paused")
                dispatch(server, SetPreferredJobs("agent1", ()))
                job, reason = await assigned(agent)
                assert reason == "supervisor"
                assert job != "CMP3"
                assert job in await active_jobs(agent)
                assert await agent.get_preferred_job_list() == []
                assert await state(agent) == ("S70003", job)

    async def test_r11_logoff_clears_the_list(self, server: RunningServer) -> None:
        """R11: after the documented log-off sequence the agent logs on again without a list."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on("agent1") as agent:
                assert await prefer(agent, ["CMP1"]) == ("CMP1", "assigned")
                await agent.avail_work()
                await agent.no_further_work()
                await agent.detach_job()
                await agent.logoff()
                await agent.wait_closed()
            control(server, "CMP1", JobAction.PAUSE)  # with the old list, the agent would now idle
            async with server.logged_on("agent1") as agent:
                assert await agent.get_preferred_job_list() == []
                assert await state(agent) == ("S70004", None)
                await agent.avail_work()  # no job: let the server assign any campaign
                job, reason = await assigned(agent)
                assert reason == "assigned"
                assert job in await active_jobs(agent) - {"CMP1"}
                assert await state(agent) == ("S70002", job)

    async def test_r11_dropped_connection_clears_the_list(self, server: RunningServer) -> None:
        """R11: a connection dropped while working logs the agent off and its list goes with it."""
        engine = server.server.driver.engine
        with trio.fail_after(TIMEOUT):
            async with server.logged_on("agent1") as agent:
                assert await prefer(agent, ["CMP1"]) == ("CMP1", "assigned")
                await get_ready(agent)
            while "agent1" in engine.online:
                await trio.sleep(0.01)
            control(server, "CMP1", JobAction.PAUSE)
            async with server.logged_on("agent1") as agent:
                assert await agent.get_preferred_job_list() == []
                assert await state(agent) == ("S70004", None)
                await assert_quiet(agent, 0.1)
                await agent.avail_work()
                job, _ = await assigned(agent)
                assert job in await active_jobs(agent) - {"CMP1"}


# -- protocol details --------------------------------------------------------------------------------


class TestProtocol:
    """The POM extensions on the wire, and how server moves look to PC and POM clients."""

    async def test_full_22_character_keyword_in_an_overflowing_header(self, server: RunningServer) -> None:
        """A 57-byte header carrying the whole 22-character keyword is accepted and answered in 20 characters."""
        with trio.fail_after(TIMEOUT):
            async with open_raw_connection(server.ports.agent) as raw:
                process_id = (await raw.receive()).process_id
                await raw.logon("agent1")
                command = overflowing_command(b"AGTSetPreferredJobList", "7", "CMP1", "CMP2")
                assert command.index(RS) == 57
                await raw.stream.send_all(command)
                notices: list[bytes] = []
                (reply,) = await raw_reply(raw, "7", notices)
                assert reply[:21] == b"AGTSetPreferredJobLiR"
                assert reply[47:51] == b"7   "
                assert decode_frame(reply).segments == ("0", "M00000")
                await raw_notices_until(raw, "AGTJobAssigned", notices)
                assert [decode_frame(frame).segments for frame in notices] == [
                    ("0", "M00001", "CMP1", "assigned"),
                    ("0", "M00000"),
                ]
                await raw.stream.send_all(overflowing_command(b"AGTGetPreferredJobList", "8"))
                data, final = await raw_reply(raw, "8", notices)
                assert data[:21] == b"AGTGetPreferredJobLiD"
                assert final[:21] == b"AGTGetPreferredJobLiR"
                assert decode_frame(data).segments == ("0", "M00001", "O,CMP1,A", "O,CMP2,A")
                assert decode_frame(final).segments == ("0", "M00000")
                assert {decode_frame(frame).process_id for frame in (reply, data, final)} == {process_id}

    async def test_truncated_20_character_keyword(self, server: RunningServer) -> None:
        """The keyword cut to its first 20 characters, as strict clients write it, works the same."""
        with trio.fail_after(TIMEOUT):
            async with open_raw_connection(server.ports.agent) as raw:
                await raw.receive()
                await raw.logon("agent1")
                notices: list[bytes] = []
                await raw.send_command("AGTSetPreferredJobLi", "CMP2", invoke_id="12")
                (reply,) = await raw_reply(raw, "12", notices)
                assert reply[:21] == b"AGTSetPreferredJobLiR"
                assert decode_frame(reply).segments == ("0", "M00000")
                await raw_notices_until(raw, "AGTJobAssigned", notices)
                assert decode_frame(notices[0]).segments == ("0", "M00001", "CMP2", "assigned")
                await raw.send_command("AGTGetPreferredJobLi", invoke_id="13")
                data, final = await raw_reply(raw, "13", notices)
                assert data[:21] == b"AGTGetPreferredJobLiD"
                assert decode_frame(data).segments == ("0", "M00001", "O,CMP2,A")
                assert decode_frame(final).segments == ("0", "M00000")

    async def test_notifications_fit_in_256_bytes_and_carry_invoke_id_0(self, server: RunningServer) -> None:
        """Every notification message of a busy session is at most 256 bytes, with invoke id 0 and the session's pid."""
        with trio.fail_after(TIMEOUT):
            async with open_raw_connection(server.ports.agent) as raw:
                process_id = (await raw.receive()).process_id
                await raw.logon("agent1")
                notices: list[bytes] = []
                await raw_ok(raw, notices, "AGTReserveHeadset", "1001")
                await raw_ok(raw, notices, "AGTConnHeadset")
                await raw_ok(raw, notices, "AGTSetPreferredJobLi", "CMP1")
                await raw_notices_until(raw, "AGTJobAssigned", notices)
                await raw_ok(raw, notices, "AGTSetNotifyKeyField", "O", "ACCTNUM")
                for field in ("ACCTNUM", "NAME", "PHONE1", "PHONE2", "BALANCE", "CITY", "DUEDATE"):
                    await raw_ok(raw, notices, "AGTSetDataField", "O", field)
                await raw_ok(raw, notices, "AGTAvailWork")
                await raw_ok(raw, notices, "AGTReadyNextItem")
                full_record = (
                    ("ACCTNUM", "4000123412341234"),
                    ("NAME", "Maximiliana Wolfeschlegels"),
                    ("PHONE1", "3035551234"),
                    ("PHONE2", "7205554321"),
                    ("BALANCE", "1234567.89"),
                    ("CITY", "Truth or Consequences"[:20]),
                    ("DUEDATE", "2025/12/31"),
                )
                due = Call("CMP4", CallKind.CALLBACK, "cb-9", full_record, owner="agent1", customer="Maximiliana W.")
                dispatch(server, CallbackDue(due))
                await raw_notices_until(raw, "AGTCallNotify", notices)
                await raw_ok(raw, notices, "AGTFinishedItem", "20")
                await raw_notices_until(raw, "AGTJobAssigned", notices)
                await raw_ok(raw, notices, "AGTReadyNextItem")
                dispatch(server, inbound())
                await raw_notices_until(raw, "AGTCallNotify", notices)
                await raw_ok(raw, notices, "AGTFinishedItem", "20")
                await raw_notices_until(raw, "AGTJobAssigned", notices)
                control(server, "CMP1", JobAction.PAUSE)
                await raw_notices_until(raw, "AGTJobUnassigned", notices)

                keywords = set()
                for frame in notices:
                    message = decode_frame(frame)
                    keywords.add(message.keyword)
                    assert len(frame) <= MAX_CLIENT_READ, frame
                    assert message.type is MessageType.NOTIFICATION
                    assert frame[47:51] == b"0   ", frame
                    assert message.process_id == process_id
                assert keywords == {"AGTJobAssigned", "AGTAORNotify", "AGTCallNotify", "AGTJobUnassigned"}
                call_parts = [decode_frame(f).segments for f in notices if decode_frame(f).keyword == "AGTCallNotify"]
                first_part = ("0", "M00001", "Agent agent1 Owned Recall", "OUTBOUND", "ACCTNUM,4000123412341234")
                assert first_part in call_parts
                assert any("NAME,Maximiliana Wolfeschlegels" in segments for segments in call_parts)

    async def test_overlong_record_values_still_fit_in_256_bytes(self, server: RunningServer) -> None:
        """A callback whose customer name and key field are longer than a message still reaches the agent in
        messages of at most 256 bytes."""
        long_name = "N" * 300
        with trio.fail_after(TIMEOUT):
            async with server.logged_on("agent1") as agent:
                assert await prefer(agent, ["CMP1"]) == ("CMP1", "assigned")
                await agent.set_notify_key_field("O", "NAME")
                await agent.set_data_field("O", "NAME")
                await get_ready(agent)
                dispatch(server, callback("agent1", customer=long_name))
                aor = await expect_notice(agent, "AGTAORNotify")
                assert await assigned(agent) == ("CMP4", "callback")
                call = await expect_notice(agent, "AGTCallNotify")
                oversized = [
                    f"{message.keyword} {message.segments[:2]}: {len(encode(message))} bytes"
                    for message in (*aor.messages, *call.messages)
                    if len(encode(message)) > MAX_CLIENT_READ
                ]
                assert oversized == []
                assert call.first.segments[2:4] == ("Agent agent1 Owned Recall", "OUTBOUND")

    async def test_ready_stays_ready_and_available_stays_available_across_moves(self, server: RunningServer) -> None:
        """A ready agent is ready (S70001) on its new job and an available one available (S70002), even after
        a spell without a job."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on("agent1") as ready, server.logged_on("agent2") as available:
                first, _ = await prefer(ready, ["CMP1", "CMP2"])
                await get_ready(ready)
                pair = ("CMP3", "CMP4")
                second, _ = await prefer(available, pair)
                await available.avail_work()

                control(server, first, JobAction.PAUSE)
                assert await assigned(ready) == (other(first), "job-paused")
                assert await state(ready) == ("S70001", other(first))
                control(server, second, JobAction.STOP)
                assert await assigned(available) == (other(second, pair), "job-stopped")
                assert await state(available) == ("S70002", other(second, pair))

                control(server, other(first), JobAction.PAUSE)
                assert await unassigned(ready) == (other(first), "job-paused")
                control(server, other(second, pair), JobAction.PAUSE)
                assert await unassigned(available) == (other(second, pair), "job-paused")
                assert await state(ready) == ("S70004", None)
                assert await state(available) == ("S70004", None)
                control(server, first, JobAction.RESUME)
                assert await assigned(ready) == (first, "assigned")
                assert await state(ready) == ("S70001", first)
                control(server, other(second, pair), JobAction.RESUME)
                assert await assigned(available) == (other(second, pair), "assigned")
                assert await state(available) == ("S70002", other(second, pair))

    async def test_pc_agent_is_never_moved_and_gets_job_end(self, tmp_path: Path) -> None:
        """A PC agent that never sends a list stays on its job through pauses and rebalancing, and gets AGTJobEnd."""
        with trio.fail_after(TIMEOUT):
            async with (
                running_server(config_for_tests(tmp_path, assignment=FAST)) as running,
                running.logged_on("agent1") as pc,
                running.logged_on("agent2") as pom,
            ):
                await pc.attach_job("CMP1")
                await get_ready(pc)
                await prefer(pom, ["CMP1", "CMP2"])
                control(running, "CMP1", JobAction.PAUSE)
                await trio.sleep(0.4)  # rebalances run
                control(running, "CMP1", JobAction.RESUME)
                await assert_quiet(pc)
                assert await state(pc) == ("S70001", "CMP1")
                control(running, "CMP1", JobAction.STOP)
                end = await expect_notice(pc, "AGTJobEnd")
                assert [message.segments for message in end.messages] == [("0", "M00000")]
                assert await state(pc) == ("S70003", "CMP1")  # off work, still attached until it detaches
                await pc.detach_job()
                await assert_quiet(pc)
                assert await state(pc) == ("S70004", None)

    async def test_pc_agent_gets_job_trans_link(self, tmp_path: Path) -> None:
        """A PC agent whose job stops and links to another gets AGTJobTransLink and moves itself."""
        with trio.fail_after(TIMEOUT):
            async with running_server(linked_config(tmp_path)) as running, running.logged_on("agent1") as pc:
                await pc.attach_job("CMP1")
                await pc.avail_work()
                control(running, "CMP1", JobAction.STOP)
                link = await expect_notice(pc, "AGTJobTransLink")
                assert [message.segments for message in link.messages] == [("0", "M00001", "CMP3"), ("0", "M00000")]
                assert await state(pc) == ("S70003", "CMP1")
                await pc.detach_job()
                await pc.attach_job("CMP3")
                await pc.avail_work()
                assert await state(pc) == ("S70002", "CMP3")
                await assert_quiet(pc)

    async def test_pc_agent_gets_job_trans_request_on_a_supervisor_move(self, server: RunningServer) -> None:
        """A supervisor moving a PC agent sends it AGTJobTransRequest; the agent moves itself."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on("agent1") as pc:
                await pc.attach_job("CMP1")
                await get_ready(pc)
                dispatch(server, MoveAgent("agent1", "CMP2"))
                request = await expect_notice(pc, "AGTJobTransRequest")
                assert [message.segments for message in request.messages] == [
                    ("0", "M00001", "CMP2"),
                    ("0", "M00000"),
                ]
                assert await state(pc) == ("S70003", "CMP1")
                await pc.detach_job()
                await pc.attach_job("CMP2")
                await pc.avail_work()
                assert await state(pc) == ("S70002", "CMP2")
                await assert_quiet(pc)

    async def test_avail_work_without_a_job_asks_for_one(self, server: RunningServer) -> None:
        """AGTAvailWork without a job gets the agent assigned, available (S70002), now or when a job can take it."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on("agent1") as agent:
                await agent.avail_work()
                job, reason = await assigned(agent)
                assert reason == "assigned"
                assert job in await active_jobs(agent)
                assert await state(agent) == ("S70002", job)
            async with server.logged_on("agent2") as agent:
                control(server, "CMP1", JobAction.PAUSE)
                control(server, "CMP2", JobAction.PAUSE)
                await agent.set_preferred_job_list(["CMP1", "CMP2"])
                await agent.avail_work()
                await assert_quiet(agent)
                assert await state(agent) == ("S70004", None)
                control(server, "CMP2", JobAction.RESUME)
                assert await assigned(agent) == ("CMP2", "assigned")
                assert await state(agent) == ("S70002", "CMP2")


# -- fairness ----------------------------------------------------------------------------------------


class TestFairness:
    """Balancing between equal-priority preferred campaigns, visible to the agents."""

    async def test_resumed_campaign_gets_its_fair_share(self, tmp_path: Path) -> None:
        """Six agents preferring CMP1 and CMP2 all work CMP1 while CMP2 is paused, and split 3/3 once it resumes."""
        names = [f"agent{number}" for number in range(1, 7)]
        with trio.fail_after(TIMEOUT):
            async with (
                running_server(config_for_tests(tmp_path, assignment=FAST)) as running,
                AsyncExitStack() as stack,
            ):
                control(running, "CMP2", JobAction.PAUSE)
                agents = {name: await stack.enter_async_context(running.logged_on(name)) for name in names}
                for agent in agents.values():
                    assert await prefer(agent, ["CMP1", "CMP2"]) == ("CMP1", "assigned")
                await trio.sleep(0.5)  # past the dwell time and the rebalances the assignments asked for
                for agent in agents.values():
                    await assert_quiet(agent, 0)
                control(running, "CMP2", JobAction.RESUME)

                jobs: dict[str, str | None] = {}
                with trio.move_on_after(2.5):
                    while sum(1 for job in jobs.values() if job == "CMP2") < 3:
                        await trio.sleep(0.1)
                        jobs = {name: (await state(agent))[1] for name, agent in agents.items()}
                assert sorted(job or "idle" for job in jobs.values()) == ["CMP1"] * 3 + ["CMP2"] * 3, jobs
                for name, agent in agents.items():
                    moves = [_move_of(notice) for notice in drain(agent)]
                    if jobs[name] == "CMP2":
                        assert moves == [("AGTJobAssigned", "CMP2", "rebalanced")], (name, moves)
                    else:
                        assert moves == [], (name, moves)
                await trio.sleep(0.4)  # and it stays that way
                for name, agent in agents.items():
                    assert await state(agent) == ("S70003", jobs[name])
                    assert drain(agent) == []
