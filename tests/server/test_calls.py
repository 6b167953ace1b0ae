"""End-to-end tests of the dialer over real sockets: calls reach agent desktops, dispositions are stored.

Policy: every test runs a server of its own (:func:`tests.support.running_server`) on the demo site with
small generated calling lists (CMP1 has three records), a fixed seed, a SQLite store in the test's
directory, and a fast dialer: a dial takes at most 50 ms and is answered, nobody calls in and nobody
hangs up, unless the test says otherwise.  Agents are driven with the client library; where the bytes
matter (messages of at most 256 bytes) a raw socket reads them.  The only engine inputs a test feeds
directly are callbacks falling due (``running.server.driver.dispatch``): callback times have minute
resolution, too slow for a test.  What the store kept is read after ``driver.durable()``.  Every test runs
under ``trio.fail_after(TIMEOUT)``.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import attrs
import trio

from agt_server.client import AgtClient, AgtCommandError, Notification
from agt_server.config import (
    CallingListConfig,
    ContactRecord,
    DialingConfig,
    FieldSpec,
    FieldType,
    SimulationConfig,
    SiteConfig,
    load_all,
)
from agt_server.engine import Call, CallbackDue, CallKind, RecordAttempt
from agt_server.protocol import MAX_CLIENT_READ, CompletionCode, MessageType, encode
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
NOTICE_WAIT = 3.0
#: A dial takes 0 to 50 ms and is answered; nobody calls in or hangs up; unanswered records come back fast.
FAST = DialingConfig(dial_delay=(0.0, 0.05), answer_rate=1.0, inbound_rate=0.0, hangup_rate=0.0, retry_delay=0.2)
#: A dialer that takes an hour: an agent ready on such a job stays ready.
SLOW = attrs.evolve(FAST, dial_delay=(3600.0, 3600.0))
#: The dialer's outcomes for unanswered dials.
DIALER_CODES = {code for code, _ in FAST.outcomes}


# -- configuration -----------------------------------------------------------------------------------


def calls_config(
    tmp_path: Path,
    *,
    sizes: dict[str, int] | None = None,
    dialing: DialingConfig = FAST,
    jobs: dict[str, DialingConfig] | None = None,
    lists: Sequence[CallingListConfig] = (),
    seed: int = 11,
) -> SiteConfig:
    """The demo with ``dialing`` for every job (``jobs`` per job), CMP1's list of 3 generated records and the
    others of 20 (``sizes`` per list), ``lists`` replacing the lists of the same name, and a fixed seed."""
    config = config_for_tests(tmp_path, dialing=dialing)
    sizes = {"cmp1_list": 3, **(sizes or {})}
    replaced = {calling_list.name: calling_list for calling_list in lists}
    calling_lists = tuple(
        replaced.get(c.name, attrs.evolve(c, generated_records=sizes.get(c.name, 20))) for c in config.calling_lists
    )
    job_configs = tuple(attrs.evolve(job, dialing=(jobs or {}).get(job.name, dialing)) for job in config.jobs)
    simulation = SimulationConfig(seed=seed, database=config.simulation.database)
    return attrs.evolve(config, calling_lists=calling_lists, jobs=job_configs, simulation=simulation)


def records_of(config: SiteConfig, list_name: str) -> dict[str, ContactRecord]:
    """The records of one calling list, by id."""
    return {record.record_id: record for record in load_all(config)[list_name]}


# -- agent helpers -----------------------------------------------------------------------------------


def fits(notice: Notification) -> Notification:
    """``notice``, after checking that each of its messages is at most 256 bytes on the wire."""
    sizes = [len(encode(message)) for message in notice.messages]
    assert all(size <= MAX_CLIENT_READ for size in sizes), (notice.keyword, sizes)
    return notice


async def expect_notice(client: AgtClient, keyword: str) -> Notification:
    """The next notification, which must be ``keyword`` (and fit in 256-byte messages)."""
    notice = await client.next_notification(timeout=NOTICE_WAIT)
    assert notice.keyword == keyword, f"expected {keyword}, got {notice.keyword} {notice.records}"
    return fits(notice)


async def assigned(client: AgtClient) -> tuple[str, str]:
    """The next notification must be AGTJobAssigned ``0 M00001 <job> <reason>``, ``0 M00000``: (job, reason)."""
    notice = await expect_notice(client, "AGTJobAssigned")
    assert [m.segments[:2] for m in notice.messages] == [("0", "M00001"), ("0", "M00000")]
    job, reason = notice.messages[0].segments[2:]
    return job, reason


def key_of(call: Notification) -> str:
    """The record id of a call whose key field is ACCTNUM."""
    key = call.first.segments[-1]
    assert key.startswith("ACCTNUM,"), call.first.segments
    return key.removeprefix("ACCTNUM,")


async def state(client: AgtClient) -> tuple[str, str | None]:
    """AGTListState as (code, job)."""
    report = await client.list_state()
    return report.code, report.job


async def prefer_only(client: AgtClient, *jobs: str) -> None:
    """Put a fresh agent on ``jobs[0]`` with the preferred list ``jobs`` (``jobs[0]`` alone first, so the
    server has no choice; then the whole list, on which ``jobs[0]`` is still a candidate: it stays)."""
    await client.set_preferred_job_list([jobs[0]])
    assert await assigned(client) == (jobs[0], "assigned")
    if len(jobs) > 1:
        await client.set_preferred_job_list(list(jobs))
        assert await state(client) == ("S70003", jobs[0])


async def set_fields(client: AgtClient, fields: Sequence[str] = ("NAME",), list_type: str = "O") -> None:
    """ACCTNUM as the key field and ``fields`` as data fields."""
    await client.set_notify_key_field(list_type, "ACCTNUM")
    for field in fields:
        await client.set_data_field(list_type, field)


async def get_ready(client: AgtClient) -> None:
    """AGTAvailWork then AGTReadyNextItem."""
    await client.avail_work()
    await client.ready_next_item()


async def stored(running: RunningServer, job: str | None = None) -> list[RecordAttempt]:
    """The attempts the store holds once everything dispatched so far is durable."""
    await running.server.driver.durable()
    return running.server.store.outcomes(job)


# -- raw wire helpers ----------------------------------------------------------------------------------


async def raw_ok(raw: RawConnection, keyword: str, *args: str) -> None:
    """Send a command that must succeed (any notification meanwhile is a failure)."""
    messages = await raw.command(keyword, *args, invoke_id="7")
    assert all(m.type is not MessageType.NOTIFICATION for m in messages), messages
    assert messages[-1].segments == ("0", "M00000"), messages


async def raw_notification(raw: RawConnection, keyword: str) -> list[bytes]:
    """The frames of the next ``keyword`` notification, up to its ``0 M00000``."""
    frames = []
    while True:
        frame = await raw.receive_frame()
        assert frame is not None, "the server closed the connection"
        message = decode_frame(frame)
        assert (message.type, message.keyword) == (MessageType.NOTIFICATION, keyword), frame
        frames.append(frame)
        if message.segments == ("0", "M00000"):
            return frames


# -- the tests -----------------------------------------------------------------------------------------


class TestDialedOut:
    """R5, "all contacts dialed out": agents on a finished job move to their other preferred job."""

    async def test_two_agents_dial_out_cmp1_and_move_to_cmp2(self, tmp_path: Path) -> None:
        """Two agents preferring CMP1 and CMP2 work CMP1's three records; CMP1 completes and both end on CMP2
        (job-dialed-out); every record was offered once and its disposition stored."""
        config = calls_config(tmp_path)
        cmp1 = records_of(config, "cmp1_list")
        worked: dict[str, list[str]] = {"agent1": [], "agent2": []}
        moved: dict[str, tuple[str, ...]] = {}

        async def work(name: str, client: AgtClient) -> None:
            while True:
                notice = fits(await client.next_notification(timeout=NOTICE_WAIT))
                if notice.keyword == "AGTJobAssigned":
                    moved[name] = notice.messages[0].segments[2:]
                    return
                assert notice.keyword == "AGTCallNotify", notice
                worked[name].append(key_of(notice))
                await client.finished_item(20)
                await client.ready_next_item()

        with trio.fail_after(TIMEOUT):
            async with (
                running_server(config) as running,
                running.logged_on("agent1") as agent1,
                running.logged_on("agent2") as agent2,
            ):
                for client in (agent1, agent2):
                    await prefer_only(client, "CMP1", "CMP2")
                    await set_fields(client)
                for client in (agent1, agent2):
                    await get_ready(client)
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(work, "agent1", agent1)
                    nursery.start_soon(work, "agent2", agent2)
                assert moved == {"agent1": ("CMP2", "job-dialed-out"), "agent2": ("CMP2", "job-dialed-out")}
                assert sorted(worked["agent1"] + worked["agent2"]) == sorted(cmp1)
                assert worked["agent1"]
                assert worked["agent2"]
                for client in (agent1, agent2):
                    report = await client.list_state()
                    assert report.job == "CMP2"
                    jobs = {job.name: job.active for job in await client.list_jobs()}
                    assert (jobs["CMP1"], jobs["CMP2"]) == (False, True)
                outcomes = await stored(running, "CMP1")
                assert sorted((a.record_id, a.attempt, a.code, a.final) for a in outcomes) == sorted(
                    (record_id, 1, 20, True) for record_id in cmp1
                )
                assert {(a.agent, a.record_id) for a in outcomes} == {
                    (name, record_id) for name, ids in worked.items() for record_id in ids
                }


class TestCallData:
    """A call carries the key field and exactly the chosen data fields, in the order chosen, in messages
    of at most 256 bytes."""

    async def test_chosen_fields_in_order(self, tmp_path: Path) -> None:
        """The record's values for DUEDATE, NAME, CITY and BALANCE, in that order; AGTReadField agrees."""
        config = calls_config(tmp_path)
        cmp1 = records_of(config, "cmp1_list")
        chosen = ("DUEDATE", "NAME", "CITY", "BALANCE")
        with trio.fail_after(TIMEOUT):
            async with running_server(config) as running, running.logged_on("agent1") as agent:
                await agent.attach_job("CMP1")
                await set_fields(agent, chosen)
                await get_ready(agent)
                for count in range(1, len(cmp1) + 1):
                    call = await expect_notice(agent, "AGTCallNotify")
                    fields = dict(cmp1[key_of(call)].fields)
                    assert call.first.segments == (
                        "0",
                        "M00001",
                        fields["NAME"],
                        "OUTBOUND",
                        f"ACCTNUM,{fields['ACCTNUM']}",
                    )
                    assert call.records[3:] == tuple(f"{name},{fields[name]}" for name in chosen)
                    assert call.messages[-1].segments == ("0", "M00000")
                    assert await agent.read_field("O", "CITY") == fields["CITY"]
                    assert await state(agent) == ("S70000", "CMP1")
                    await agent.finished_item(21)
                    if count < len(cmp1):
                        await agent.ready_next_item()
                notice = await expect_notice(agent, "AGTJobEnd")  # all three done: CMP1 is dialed out
                assert [m.segments for m in notice.messages] == [("0", "M00000")]
                assert len(await stored(running, "CMP1")) == len(cmp1)

    async def test_long_values_split_within_256_bytes_on_the_wire(self, tmp_path: Path) -> None:
        """A list with 150-character fields: on a raw socket every frame of every call is at most 256 bytes,
        and the data parts together hold every chosen field whole, in the order chosen."""
        fields = (
            FieldSpec("ACCTNUM", 16, FieldType.NUMERIC),
            FieldSpec("NAME", 26),
            FieldSpec("PHONE1", 10, FieldType.NUMERIC),
            FieldSpec("NOTE1", 150),
            FieldSpec("NOTE2", 150),
            FieldSpec("NOTE3", 150),
        )
        rows = [
            {
                "ACCTNUM": f"{number:016d}",
                "NAME": f"Customer Number {number}",
                "PHONE1": f"303555{number:04d}",
                "NOTE1": (f"first note of {number}, " * 10)[:150],
                "NOTE2": (f"second note; {number}|" * 12)[:150],
                "NOTE3": f"{number}" * 150,
            }
            for number in (1, 2, 3)
        ]
        path = tmp_path / "long.csv"
        with path.open("w", newline="", encoding="utf-8") as file:
            writer = csv.DictWriter(file, fieldnames=[spec.name for spec in fields])
            writer.writeheader()
            writer.writerows(rows)
        long_list = CallingListConfig("cmp1_list", fields, csv_path=path)
        config = calls_config(tmp_path, lists=[long_list])
        chosen = ("NOTE3", "NAME", "NOTE1", "PHONE1", "NOTE2")
        by_id = {record_id: dict(record.fields) for record_id, record in records_of(config, "cmp1_list").items()}
        assert sorted(by_id) == sorted(row["ACCTNUM"] for row in rows)
        assert min(len(row["NOTE1"]) for row in by_id.values()) > 140
        with trio.fail_after(TIMEOUT):
            async with running_server(config) as running, open_raw_connection(running.ports.agent) as raw:
                await raw.receive()  # AGTSTART
                await raw.logon("agent1")
                await raw_ok(raw, "AGTReserveHeadset", "1001")
                await raw_ok(raw, "AGTConnHeadset")
                await raw_ok(raw, "AGTAttachJob", "CMP1")
                await raw_ok(raw, "AGTSetNotifyKeyField", "O", "ACCTNUM")
                for field in chosen:
                    await raw_ok(raw, "AGTSetDataField", "O", field)
                await raw_ok(raw, "AGTAvailWork")
                await raw_ok(raw, "AGTReadyNextItem")
                seen = []
                for count in range(1, len(rows) + 1):
                    frames = await raw_notification(raw, "AGTCallNotify")
                    assert max(len(frame) for frame in frames) <= MAX_CLIENT_READ, [len(f) for f in frames]
                    messages = [decode_frame(frame) for frame in frames]
                    first, *data, _ = messages
                    record_id = first.segments[-1].removeprefix("ACCTNUM,")
                    row = by_id[record_id]
                    assert first.segments == ("0", "M00001", row["NAME"], "OUTBOUND", f"ACCTNUM,{record_id}")
                    assert len(data) > 1  # split over several messages
                    assert all(m.segments[:2] == ("0", "M00001") for m in data)
                    assert [s for m in data for s in m.segments[2:]] == [f"{name},{row[name]}" for name in chosen]
                    seen.append(record_id)
                    if count < len(rows):
                        await raw_ok(raw, "AGTFinishedItem", "20")
                        await raw_ok(raw, "AGTReadyNextItem")
                    else:  # the last record: CMP1 is dialed out, this PC agent hears AGTJobEnd
                        await raw.send_command("AGTFinishedItem", "20", invoke_id="7")
                        replies = [await raw.receive(), await raw.receive()]
                        assert sorted((m.keyword, m.segments) for m in replies) == [
                            ("AGTFinishedItem", ("0", "M00000")),
                            ("AGTJobEnd", ("0", "M00000")),
                        ]
                assert sorted(seen) == sorted(by_id)
                assert {a.record_id for a in await stored(running, "CMP1")} == set(by_id)


class TestPreview:
    """A managed job (PREVIEW1, work class M): the record is previewed, then dialed on AGTManagedCall."""

    async def test_preview_then_managed_call(self, tmp_path: Path) -> None:
        """AGTPreviewRecord ``<name> (Preview)`` ``MANAGED``; AGTManagedCall answers P, D ``(CONNECT)``, R; the
        line is up (AGTHoldCall works); AGTFinishedItem stores the disposition."""
        config = calls_config(tmp_path)
        preview = records_of(config, "preview1_list")
        with trio.fail_after(TIMEOUT):
            async with running_server(config) as running, running.logged_on("agent1") as agent:
                await agent.set_work_class("M")
                await agent.attach_job("PREVIEW1")
                await set_fields(agent, ("NAME", "PHONE1"))
                await get_ready(agent)
                notice = await expect_notice(agent, "AGTPreviewRecord")
                record_id = key_of(notice)
                fields = dict(preview[record_id].fields)
                assert notice.first.segments[2:4] == (f"{fields['NAME']} (Preview)", "MANAGED")
                assert notice.records[3:] == (f"NAME,{fields['NAME']}", f"PHONE1,{fields['PHONE1']}")
                assert await state(agent) == ("S70000", "PREVIEW1")
                hold = await agent.command("AGTHoldCall", check=False)
                assert (hold.ok, hold.code) == (False, "E28866")  # not dialed yet: no line
                reply = await agent.managed_call()
                assert reply.pending
                assert reply.records == ("(CONNECT)",)
                await agent.command("AGTHoldCall")
                await agent.finished_item(20)
                assert await state(agent) == ("S70002", "PREVIEW1")
                outcomes = await stored(running, "PREVIEW1")
                assert [(a.record_id, a.code, a.agent, a.final) for a in outcomes] == [(record_id, 20, "agent1", True)]


class TestCallbacks:
    """AGTSetCallback schedules a callback in the store; when due it takes its owner from another job (R7)."""

    async def test_callback_from_a_non_preferred_job_to_its_owner_and_back(self, tmp_path: Path) -> None:
        """The agent schedules a callback on a CMP4 record (R 0 M00000, kept in the store), then prefers only
        CMP1; when the callback is due it hears AGTAORNotify, works it on CMP4 (callback) and goes back to CMP1
        (returned)."""
        config = calls_config(tmp_path)
        cmp4 = records_of(config, "cmp4_list")
        with trio.fail_after(TIMEOUT):
            async with running_server(config) as running, running.logged_on("agent1") as agent:
                await prefer_only(agent, "CMP4")
                await set_fields(agent)
                await get_ready(agent)
                call = await expect_notice(agent, "AGTCallNotify")
                record_id = key_of(call)
                fields = dict(cmp4[record_id].fields)
                before = running.server.driver.now()
                reply = await agent.set_callback("", "00:10+", 1, "Call me")
                assert reply.response.segments == ("0", "M00000")
                await running.server.driver.durable()
                (callback,) = running.server.store.load().callbacks
                assert (callback.job, callback.record_id, callback.owner, callback.phone, callback.name) == (
                    "CMP4",
                    record_id,
                    "agent1",
                    fields["PHONE1"],
                    "Call me",
                )
                assert before + 600 <= callback.due_at <= running.server.driver.now() + 600
                await agent.finished_item(22)
                await agent.set_preferred_job_list(["CMP1"])
                assert await assigned(agent) == ("CMP1", "assigned")
                assert await state(agent) == ("S70002", "CMP1")
                due = Call("CMP4", CallKind.CALLBACK, record_id, cmp4[record_id].fields, "agent1", fields["NAME"])
                running.server.driver.dispatch(CallbackDue(due))
                aor = await expect_notice(agent, "AGTAORNotify")
                assert [m.segments for m in aor.messages] == [
                    ("0", "M00001", fields["NAME"], "CMP4", "Allid", "CMP1"),
                    ("0", "M00000"),
                ]
                assert await assigned(agent) == ("CMP4", "callback")
                await agent.ready_next_item()
                recall = await expect_notice(agent, "AGTCallNotify")
                assert recall.first.segments == (
                    "0",
                    "M00001",
                    "Agent agent1 Owned Recall",
                    "OUTBOUND",
                    f"ACCTNUM,{record_id}",
                )
                assert recall.records[3:] == (f"NAME,{fields['NAME']}",)
                await agent.finished_item(20)
                assert await assigned(agent) == ("CMP1", "returned")
                assert await state(agent) == ("S70002", "CMP1")
                outcomes = [a for a in await stored(running, "CMP4") if a.record_id == record_id]
                assert [(a.attempt, a.code, a.agent, a.final) for a in outcomes] == [
                    (1, 22, "agent1", True),
                    (2, 20, "agent1", True),
                ]

    async def test_invalid_callback_date_refused(self, tmp_path: Path) -> None:
        """A date that does not exist gets the parse error and nothing is stored."""
        config = calls_config(tmp_path)
        with trio.fail_after(TIMEOUT):
            async with running_server(config) as running, running.logged_on("agent1") as agent:
                await agent.attach_job("CMP1")
                await set_fields(agent)
                await get_ready(agent)
                await expect_notice(agent, "AGTCallNotify")
                reply = await agent.command("AGTSetCallback", "2031/02/30", "1200", "1", check=False)
                assert (reply.ok, reply.code) == (False, "E28835")
                await running.server.driver.durable()
                assert running.server.store.load().callbacks == ()


class TestInbound:
    """Callers arrive at INBOUND1 at its inbound rate (R8)."""

    async def test_inbound_call_takes_an_outbound_agent_and_returns_it(self, tmp_path: Path) -> None:
        """An agent ready on CMP1 (whose dials take an hour) is taken to INBOUND1 for a caller, then returned."""
        config = calls_config(tmp_path, jobs={"CMP1": SLOW, "INBOUND1": attrs.evolve(FAST, inbound_rate=600.0)})
        callers = records_of(config, "inbound_calls")
        with trio.fail_after(TIMEOUT):
            async with running_server(config) as running, running.logged_on("agent1") as agent:
                await prefer_only(agent, "CMP1")
                await get_ready(agent)
                assert await assigned(agent) == ("INBOUND1", "inbound")
                call = await expect_notice(agent, "AGTCallNotify")
                assert call.first.segments[:4] == ("0", "M00001", "INBOUND CALL", "INBOUND")
                assert await state(agent) == ("S70000", "INBOUND1")
                await agent.finished_item(20)
                assert await assigned(agent) == ("CMP1", "returned")
                assert await state(agent) == ("S70002", "CMP1")
                outcomes = await stored(running, "INBOUND1")
                assert [(a.code, a.agent, a.final) for a in outcomes] == [(20, "agent1", True)]
                assert outcomes[0].record_id in callers

    async def test_callers_calling_again_are_each_stored(self, tmp_path: Path) -> None:
        """The inbound list has two callers and is cycled: the third call is the first caller again.  Every
        call's disposition is acknowledged and stored (the server must not stop on a duplicate attempt)."""
        config = calls_config(
            tmp_path, sizes={"inbound_calls": 2}, jobs={"INBOUND1": attrs.evolve(FAST, inbound_rate=600.0)}
        )
        with trio.fail_after(TIMEOUT):
            async with running_server(config) as running, running.logged_on("agent1") as agent:
                await agent.set_work_class("I")
                await agent.attach_job("INBOUND1")
                await set_fields(agent, list_type="I")
                await get_ready(agent)
                callers = []
                for _ in range(3):
                    callers.append(key_of(await expect_notice(agent, "AGTCallNotify")))
                    await agent.finished_item(20)
                    await agent.ready_next_item()
                assert callers[2] == callers[0]
                outcomes = await stored(running, "INBOUND1")
                assert [(a.record_id, a.code) for a in outcomes] == [(caller, 20) for caller in callers]


class TestDispositions:
    """Every disposition the server acknowledged with ``R`` is in the store."""

    async def test_every_acknowledged_disposition_is_stored(self, tmp_path: Path) -> None:
        """Two PC agents work CMP1 (six records, half the dials unanswered, two attempts each) until AGTJobEnd:
        the store holds exactly the acknowledged dispositions plus the dialer's outcomes, and every record has
        one final attempt."""
        dialing = attrs.evolve(FAST, answer_rate=0.5, max_attempts=2, retry_delay=0.2)
        config = calls_config(tmp_path, sizes={"cmp1_list": 6}, dialing=dialing)
        acknowledged: list[tuple[str, str, int]] = []

        async def work(name: str, client: AgtClient, codes: Sequence[int]) -> None:
            count = 0
            while True:
                notice = fits(await client.next_notification(timeout=NOTICE_WAIT))
                if notice.keyword == "AGTJobEnd":
                    return
                assert notice.keyword == "AGTCallNotify", notice
                code = codes[count % len(codes)]
                count += 1
                reply = await client.finished_item(code)
                assert reply.response.segments == ("0", "M00000")
                acknowledged.append((name, key_of(notice), code))
                ready = await client.command("AGTReadyNextItem", check=False)
                assert ready.ok or ready.code == "E28901", ready  # E28901: the job has just ended

        with trio.fail_after(TIMEOUT):
            async with (
                running_server(config) as running,
                running.logged_on("agent1") as agent1,
                running.logged_on("agent2") as agent2,
            ):
                for client in (agent1, agent2):
                    await client.attach_job("CMP1")
                    await set_fields(client)
                    assert {key.code for key in await client.list_keys()} >= {"20", "21", "23", "24"}
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(work, "agent1", agent1, (20, 21))
                    nursery.start_soon(work, "agent2", agent2, (23, 24))
                    for client in (agent1, agent2):
                        await get_ready(client)
                outcomes = await stored(running, "CMP1")
                by_agent = sorted((a.agent, a.record_id, a.code) for a in outcomes if a.agent is not None)
                assert by_agent == sorted(acknowledged)
                assert all(a.code in DIALER_CODES for a in outcomes if a.agent is None)
                finals = sorted(a.record_id for a in outcomes if a.final)
                assert finals == sorted(records_of(config, "cmp1_list"))
                for record_id in finals:
                    history = [a for a in outcomes if a.record_id == record_id]
                    assert [a.attempt for a in history] == list(range(1, len(history) + 1))
                    assert history[-1].final

    async def test_dropped_connection_mid_call_is_stored_as_opdied_and_retried(self, tmp_path: Path) -> None:
        """An agent whose connection drops mid-call leaves attempt 1 with code 49 (OPDIED), not final; another
        agent gets that record again after the retry delay."""
        config = calls_config(tmp_path)
        cmp1 = records_of(config, "cmp1_list")
        with trio.fail_after(TIMEOUT):
            async with running_server(config) as running:
                async with running.logged_on("agent1") as agent1:
                    await agent1.attach_job("CMP1")
                    await set_fields(agent1)
                    await get_ready(agent1)
                    dropped = key_of(await expect_notice(agent1, "AGTCallNotify"))
                while not (outcomes := await stored(running, "CMP1")):
                    await trio.sleep(0.01)  # the server notices the connection is gone
                assert [(a.record_id, a.attempt, a.code, a.agent, a.final) for a in outcomes] == [
                    (dropped, 1, int(CompletionCode.OPDIED), "agent1", False)
                ]
                async with running.logged_on("agent2") as agent2:
                    await agent2.attach_job("CMP1")
                    await set_fields(agent2)
                    await get_ready(agent2)
                    worked = []
                    while True:
                        notice = fits(await agent2.next_notification(timeout=NOTICE_WAIT))
                        if notice.keyword == "AGTJobEnd":
                            break
                        worked.append(key_of(notice))
                        await agent2.finished_item(20)
                        ready = await agent2.command("AGTReadyNextItem", check=False)
                        assert ready.ok or ready.code == "E28901", ready  # E28901: CMP1 has just ended
                assert sorted(worked) == sorted(cmp1)
                assert worked[-1] == dropped
                finals = [(a.record_id, a.attempt) for a in await stored(running, "CMP1") if a.final]
                assert (dropped, 2) in finals


class TestHangUp:
    """A customer who hangs up first: AGTAutoReleaseLine; the record stays open for the disposition."""

    async def test_customer_hangs_up(self, tmp_path: Path) -> None:
        """AGTAutoReleaseLine ``0 M00000``; AGTReleaseLine then gets E28866; AGTFinishedItem still works."""
        config = calls_config(tmp_path, dialing=attrs.evolve(FAST, hangup_rate=1.0, talk_time=(0.1, 0.1)))
        with trio.fail_after(TIMEOUT):
            async with running_server(config) as running, running.logged_on("agent1") as agent:
                await agent.attach_job("CMP1")
                await set_fields(agent)
                await get_ready(agent)
                record_id = key_of(await expect_notice(agent, "AGTCallNotify"))
                notice = await expect_notice(agent, "AGTAutoReleaseLine")
                assert [m.segments for m in notice.messages] == [("0", "M00000")]
                assert await state(agent) == ("S70000", "CMP1")
                try:
                    await agent.release_line()
                except AgtCommandError as error:
                    assert error.code == "E28866"
                else:
                    raise AssertionError("AGTReleaseLine after the customer hung up succeeded")
                await agent.finished_item(24)
                outcomes = await stored(running, "CMP1")
                assert [(a.record_id, a.code) for a in outcomes] == [(record_id, 24)]
