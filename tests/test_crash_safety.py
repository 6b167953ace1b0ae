"""Crash safety of a real ``agt-server`` process: ``kill -9`` loses nothing acknowledged (product.md §7).

One test, in two phases, against ``python -m agt_server`` run as a subprocess on a site configuration
written into tmp_path (one outbound job, CRASH1, over a generated list of 300 records, dialed at once and
always answered):

1. Four agents work CRASH1 concurrently through the client library.  A disposition counts as acknowledged
   only once ``AGTFinishedItem`` has returned ``R 0 M00000``.  After at least 40 of them, while every agent
   is still working, the server gets SIGKILL.  The SQLite file is then read directly: every acknowledged
   disposition is there with its code and agent as a final attempt, and nothing is half-written (the
   integrity check passes, every row is a well-formed attempt by one of our agents on a record that was
   started and delivered, at most one final attempt per record).
2. The server restarts on the same data directory and four agents work until CRASH1 completes.  No record
   that was final before the crash is offered again, every record that was in progress at the crash
   (started in the store, no final attempt) is offered again, and at the end every record of the list has
   exactly one final attempt and the job is stored as completed.

Why it is slow-ish for a unit test (about 2 s here, more on a slow disk): two real server processes start
(Python imports, scrypt checks of the agents' passwords at a low cost), and every one of the 300
dispositions costs a round trip, a few milliseconds of talk time and an fsync of the SQLite write-ahead
log (group-committed) before it is acknowledged.  Every wait is bounded: each server gets 20 s to
write its port file, each phase has its own deadline, and the whole test fails after 90 s.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import attrs
import trio

from agt_server.client import AgtClient, AgtClientError, AgtConnectionClosed, Notification, open_agt_client
from agt_server.config import hash_password, load_all, load_config
from agt_server.store import SqliteStore
from tests.support import HOST

JOB = "CRASH1"
LIST = "crashlist"
ID_FIELD = "ACCTNUM"
RECORDS = 300
CODES = (20, 21, 22)
AGENTS = ("crash1", "crash2", "crash3", "crash4")
PASSWORD = "crash-safety-pw"
DATABASE = "crash.sqlite3"
#: Acknowledged dispositions before the server is killed.
ACKS_BEFORE_KILL = 40
#: How long a started server may take to write its port file.
START_TIMEOUT = 20
#: How long phase 1 may take to reach ACKS_BEFORE_KILL acknowledgements.
PHASE_1_TIMEOUT = 20
#: How long phase 2 may take to finish the rest of the list.
PHASE_2_TIMEOUT = 40
#: How long an agent talks before finishing a call: several calls are in progress at any moment.
TALK_TIME = 0.003
#: How long an agent waits for its next call (the dial delay is at most 10 ms).
CALL_TIMEOUT = 10
#: The whole test.
TEST_TIMEOUT = 90


def site_toml() -> str:
    """The site configuration: CRASH1 over a generated list, fast dialing, four agents, a fixed seed."""
    password_hash = hash_password(PASSWORD, cost=10)
    agents = "".join(
        f'\n[[agents]]\nname = "{agent}"\npassword_hash = "{password_hash}"\nwork_classes = ["O"]\n' for agent in AGENTS
    )
    keys = ", ".join(f'{{ code = {code}, description = "CODE {code}", label = "c{code}" }}' for code in CODES)
    return f"""
data_dir = "data"

[simulation]
seed = 20240601
database = "{DATABASE}"

[[calling_lists]]
name = "{LIST}"
generated_records = {RECORDS}
id_field = "{ID_FIELD}"
fields = [
    {{ name = "{ID_FIELD}", length = 16, type = "N" }},
    {{ name = "NAME", length = 26 }},
    {{ name = "PHONE1", length = 10, type = "N" }},
]

[[jobs]]
name = "{JOB}"
type = "O"
outbound_list = "{LIST}"
keys = [{keys}]
[jobs.dialing]
dial_delay = [0.0, 0.01]
answer_rate = 1.0
hangup_rate = 0.0
max_attempts = 1
{agents}"""


@attrs.frozen
class Disposition:
    """A completion code the server acknowledged (``AGTFinishedItem`` answered ``R 0 M00000``)."""

    job: str
    record_id: str
    code: int
    agent: str


@attrs.define(eq=False)
class Traffic:
    """What the agents of one phase saw, in order."""

    #: (agent, record id) of every AGTCallNotify received
    delivered: list[tuple[str, str]] = attrs.Factory(list)
    #: every disposition acknowledged
    acknowledged: list[Disposition] = attrs.Factory(list)
    #: agents that received AGTJobEnd
    job_ended: set[str] = attrs.Factory(set)
    #: AGTReadyNextItem refusals: (agent, error code); only expected once the job has completed
    ready_refused: list[tuple[str, str]] = attrs.Factory(list)
    #: agents whose loop ended because the connection closed (the server was killed)
    cut_off: set[str] = attrs.Factory(set)
    #: the record the holding agent kept open (not finished) until the crash
    held: str | None = None
    #: set (and replaced) whenever something above changes
    changed: trio.Event = attrs.Factory(trio.Event)

    def acknowledge(self, disposition: Disposition) -> None:
        self.acknowledged.append(disposition)
        self.notify()

    def notify(self) -> None:
        self.changed.set()
        self.changed = trio.Event()


@attrs.define(eq=False)
class ServerProcess:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@asynccontextmanager
async def agt_server(tmp_path: Path, config: Path, run: str) -> AsyncIterator[ServerProcess]:
    """``agt-server`` on ``config`` with its data in ``tmp_path/data``, once its port file exists; killed
    (if still running) when the block exits."""
    port_file = tmp_path / f"ports-{run}.json"
    log_path = tmp_path / f"server-{run}.log"
    command = [
        sys.executable, "-m", "agt_server", "--config", str(config),
        "--agent-port", "0", "--tls-port", "off", "--tty-port", "off", "--http-port", "off",
        "--data-dir", str(tmp_path / "data"), "--port-file", str(port_file),
        "--no-demo-activity", "--log-format", "json",
    ]  # fmt: skip
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT, cwd=tmp_path
        )
    try:
        with trio.move_on_after(START_TIMEOUT):
            while not port_file.exists() and process.poll() is None:
                await trio.sleep(0.05)
        assert port_file.exists(), f"no port file (exit status {process.poll()}); log:\n{log_path.read_text()}"
        yield ServerProcess(process, json.loads(port_file.read_text())["agent"], log_path)
    finally:
        if process.poll() is None:
            process.kill()
        await wait_exit(process)


async def wait_exit(process: subprocess.Popen[bytes]) -> int:
    with trio.fail_after(5):
        while process.poll() is None:
            await trio.sleep(0.01)
    return process.returncode


def record_id_of(call: Notification) -> str:
    """The record id an AGTCallNotify carries in its first message (the notify key field)."""
    keyed = [segment for segment in call.first.segments if segment.startswith(f"{ID_FIELD},")]
    assert len(keyed) == 1, f"AGTCallNotify without exactly one {ID_FIELD} key field: {call.first.segments}"
    return keyed[0].removeprefix(f"{ID_FIELD},")


async def work(client: AgtClient, agent: str, traffic: Traffic, *, crash_expected: bool, holds: bool) -> None:
    """Log on, attach CRASH1 and finish every call offered until AGTJobEnd (or, when a crash is expected,
    until the connection is cut).  An agent that ``holds`` keeps the first call it gets once half of
    ACKS_BEFORE_KILL are acknowledged open until the connection is cut: a record in progress at the crash."""
    try:
        await client.logon(agent, PASSWORD)
        await client.reserve_headset(AGENTS.index(agent) + 100)
        await client.connect_headset()
        await client.attach_job(JOB)
        await client.set_notify_key_field("O", ID_FIELD)
        await client.avail_work()
        await client.ready_next_item()
        calls = 0
        while True:
            notice = await client.next_notification(timeout=CALL_TIMEOUT)
            if notice.keyword == "AGTJobEnd":
                traffic.job_ended.add(agent)
                return
            if notice.keyword != "AGTCallNotify":
                continue
            record_id = record_id_of(notice)
            traffic.delivered.append((agent, record_id))
            if holds and len(traffic.acknowledged) >= ACKS_BEFORE_KILL // 2:
                traffic.held = record_id
                traffic.notify()
                await client.wait_closed()  # only the kill ends the hold (bounded by the phase's deadline)
                traffic.cut_off.add(agent)
                return
            await trio.sleep(TALK_TIME)  # so that other agents' calls are in progress when the kill comes
            code = CODES[(calls + AGENTS.index(agent)) % len(CODES)]
            calls += 1
            await client.finished_item(code)
            # finished_item returned: the server sent R 0 M00000, so the disposition is acknowledged.
            traffic.acknowledge(Disposition(JOB, record_id, code, agent))
            ready = await client.command("AGTReadyNextItem", check=False)
            if not ready.ok:
                # Expected only when that disposition completed the job; AGTJobEnd follows.  Checked below.
                traffic.ready_refused.append((agent, ready.code))
    except AgtConnectionClosed:
        if not crash_expected:
            raise
        traffic.cut_off.add(agent)


async def agent_session(port: int, agent: str, traffic: Traffic, crash_expected: bool) -> None:
    """One agent's connection for one phase (see :func:`work`); before the crash the last agent holds a call."""
    try:
        async with open_agt_client(HOST, port) as client:
            holds = crash_expected and agent == AGENTS[-1]
            await work(client, agent, traffic, crash_expected=crash_expected, holds=holds)
    except AgtClientError:
        # Closing a connection the server cut may fail too; only acceptable when the crash is expected.
        if not crash_expected:
            raise
        traffic.cut_off.add(agent)


@contextmanager
def read_database(path: Path) -> Iterator[sqlite3.Connection]:
    db = sqlite3.connect(path)
    try:
        yield db
    finally:
        db.close()


async def test_kill_9_loses_no_acknowledged_disposition_and_never_redials(tmp_path: Path) -> None:
    """SIGKILL mid-traffic keeps every acknowledged disposition; a restart never redials a finished record,
    re-queues the records in progress, and the list is then finished exactly once per record."""
    config = tmp_path / "site.toml"
    config.write_text(site_toml())
    all_records = {record.record_id for record in load_all(load_config(config))[LIST]}
    assert len(all_records) == RECORDS
    db_path = tmp_path / "data" / DATABASE

    with trio.fail_after(TEST_TIMEOUT):
        # -- phase 1: traffic, then kill -9 ------------------------------------------------------------------
        before = Traffic()
        async with agt_server(tmp_path, config, "1") as server:
            async with trio.open_nursery() as nursery:
                for agent in AGENTS:
                    nursery.start_soon(agent_session, server.port, agent, before, True)
                with trio.fail_after(PHASE_1_TIMEOUT):
                    while len(before.acknowledged) < ACKS_BEFORE_KILL or before.held is None:
                        await before.changed.wait()
                # Traffic is flowing: no agent has stopped, and the server is alive.
                assert not before.cut_off, before.cut_off
                assert not before.job_ended, before.job_ended
                assert server.process.poll() is None, server.log
                acks_at_kill = len(before.acknowledged)
                os.kill(server.process.pid, signal.SIGKILL)
                assert await wait_exit(server.process) == -signal.SIGKILL
            acknowledged = list(before.acknowledged)
            # Every agent was mid-session when the server died and saw its connection cut.
            assert before.cut_off == set(AGENTS), (before.cut_off, server.log)
            assert len(acknowledged) >= acks_at_kill >= ACKS_BEFORE_KILL

        # -- the database after the crash -----------------------------------------------------------------
        with read_database(db_path) as db:
            assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            started_rows = db.execute("SELECT job, record_id FROM records_started").fetchall()
        store = SqliteStore(db_path)
        try:
            outcomes = store.outcomes()
            outcomes_of_job = store.outcomes(JOB)
            stored = store.load()
        finally:
            store.close()
        started = {record_id for job, record_id in started_rows if job == JOB}
        assert {job for job, _ in started_rows} == {JOB}
        assert outcomes_of_job == outcomes
        finals = [attempt for attempt in outcomes if attempt.final]
        final_ids = {attempt.record_id for attempt in finals}
        delivered_ids = {record_id for _, record_id in before.delivered}

        # Every acknowledged disposition is stored, final, with its code and agent.
        stored_dispositions = {(a.job, a.record_id, a.code, a.agent, a.final) for a in outcomes}
        missing = [d for d in acknowledged if (d.job, d.record_id, d.code, d.agent, True) not in stored_dispositions]
        assert missing == [], f"acknowledged but lost by kill -9: {missing}"
        assert len(finals) >= len(acknowledged)
        # Nothing half-written: only whole, final first attempts by our agents, on records that were started
        # (in the store) and delivered (to us), each record finished at most once; the store agrees with itself.
        finished_twice = [record_id for record_id, count in Counter(a.record_id for a in outcomes).items() if count > 1]
        assert finished_twice == []
        malformed = [
            a for a in outcomes if (a.attempt, a.final, a.agent in AGENTS, a.code in CODES) != (1, True, True, True)
        ]
        assert malformed == []
        assert final_ids <= started, final_ids - started
        assert final_ids <= delivered_ids, final_ids - delivered_ids
        assert len(finals) <= len(before.delivered)
        assert stored.done == {JOB: frozenset(final_ids)}
        assert stored.attempts == {JOB: dict.fromkeys(final_ids, 1)}
        # A call is offered only once its RecordStarted is durable: every record delivered before the crash and
        # not finished is in progress in the store, and must go back to the queue.
        in_progress = started - final_ids
        assert delivered_ids - final_ids <= in_progress, (delivered_ids - final_ids) - in_progress
        assert before.held in in_progress, (before.held, in_progress)
        assert len(before.delivered) == len(delivered_ids), "a record was delivered twice before the crash"

        # -- phase 2: restart on the same data, finish the list ---------------------------------------------
        after = Traffic()
        async with agt_server(tmp_path, config, "2") as server:
            with trio.fail_after(PHASE_2_TIMEOUT):
                async with trio.open_nursery() as nursery:
                    for agent in AGENTS:
                        nursery.start_soon(agent_session, server.port, agent, after, False)
            assert server.process.poll() is None, server.log
            assert after.job_ended == set(AGENTS)
            server.process.send_signal(signal.SIGTERM)
            assert await wait_exit(server.process) == 0, server.log

        redelivered_ids = [record_id for _, record_id in after.delivered]
        redialed_finished = sorted(set(redelivered_ids) & final_ids)
        assert redialed_finished == [], (
            f"finished before the crash, offered again after the restart: {redialed_finished}"
        )
        assert in_progress <= set(redelivered_ids), f"in progress at the crash, never offered again: {in_progress}"
        assert len(redelivered_ids) == len(set(redelivered_ids)), "a record was offered twice after the restart"
        assert set(redelivered_ids) == all_records - final_ids
        # AGTReadyNextItem may be refused (not available for work) only when the job has just completed:
        # at most once per agent, to agents that then got AGTJobEnd.
        refused_agents = [agent for agent, _ in after.ready_refused]
        assert {code for _, code in after.ready_refused} <= {"E28901"}, after.ready_refused
        assert len(refused_agents) == len(set(refused_agents)), after.ready_refused
        assert set(refused_agents) <= after.job_ended

        store = SqliteStore(db_path)
        try:
            outcomes = store.outcomes(JOB)
            stored = store.load()
        finally:
            store.close()
        assert Counter(attempt.record_id for attempt in outcomes if attempt.final) == dict.fromkeys(all_records, 1)
        assert len(outcomes) == RECORDS
        stored_after = {(a.job, a.record_id, a.code, a.agent) for a in outcomes}
        missing_after = [d for d in after.acknowledged if attrs.astuple(d) not in stored_after]
        assert missing_after == []
        assert stored.done == {JOB: frozenset(all_records)}
        assert stored.job_states == {JOB: "completed"}
