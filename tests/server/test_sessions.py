"""Integration tests of agent sessions: a real AgentServer on 127.0.0.1 port 0, driven by the client
library or by raw sockets (protocol_spec.md §2, §6, §8.6, §9; agt-protocol.md §2.4, §1.11, §8.3).

Policy: localhost port 0 only; every test runs under ``trio.fail_after``; the tests that wait on time
use the real clock with short limits (the server's timers are real).
"""

from __future__ import annotations

import random
import re
import ssl
from collections.abc import Callable
from pathlib import Path

import attrs
import pytest
import structlog
import trio

from agt_server.client import AgtCommandError, JobListing, agt_client_over
from agt_server.config import JobConfig, LogonThrottleConfig, SessionLimits
from agt_server.engine import Engine, Expel
from agt_server.protocol import ETX, MAX_CLIENT_READ, RS, JobType, MessageType
from tests.support import (
    HOST,
    RawConnection,
    RunningServer,
    command_bytes,
    config_for_tests,
    connect_tcp,
    decode_frame,
    open_raw_connection,
    running_server,
)

#: The demo's jobs as AGTListJobs A lists them for an agent with every work class.
DEMO_JOBS = [
    JobListing("O", "CMP1", "A"),
    JobListing("O", "CMP2", "A"),
    JobListing("O", "CMP3", "A"),
    JobListing("O", "CMP4", "A"),
    JobListing("I", "INBOUND1", "A"),
    JobListing("B", "BLEND1", "A"),
    JobListing("M", "PREVIEW1", "A"),
]
OK = ("0", "M00000")


def _greeting_bytes(process_id: str) -> bytes:
    """The greeting of protocol_spec.md §2, byte for byte, for a session with ``process_id``."""
    header = f"{'AGTSTART':<20}N{'Agent server':<20}{process_id:<6}{'0':<4}{'2':<4}".encode()
    return header + RS + b"0" + RS + b"AGENT_STARTUP" + ETX


async def _wait_until(predicate: Callable[[], bool], what: str, timeout: float = 3.0) -> None:
    """Poll ``predicate()`` until it is true; fail the test after ``timeout`` seconds."""
    with trio.move_on_after(timeout):
        while not predicate():
            await trio.sleep(0.01)
        return
    pytest.fail(f"timed out waiting until {what}")


async def _greeted(raw: RawConnection) -> str:
    """Read the greeting from ``raw``, check it and return the session's process id."""
    greeting = await raw.receive()
    assert (greeting.keyword, greeting.type, greeting.segments) == (
        "AGTSTART",
        MessageType.NOTIFICATION,
        ("0", "AGENT_STARTUP"),
    )
    return greeting.process_id


class TestTypicalSequences:
    """The log-in and log-out sequences every real client sends (agt-protocol.md §2.4)."""

    async def test_log_in_and_log_out(self, server: RunningServer) -> None:
        """The whole log-in sequence reaches S70001 on CMP1, and the log-out sequence ends with the server
        closing the connection after AGTLogoff's R 0 M00000."""
        with trio.fail_after(10):
            async with server.client() as client:
                process_id = client.greeting.process_id
                for method, args, pending in [
                    (client.logon, ("agent1", "agent1"), True),
                    (client.reserve_headset, ("4711",), True),
                    (client.connect_headset, (), True),
                ]:
                    reply = await method(*args)
                    assert (reply.pending, reply.data, reply.response.segments) == (pending, (), OK), reply.keyword
                    assert reply.response.process_id == process_id
                assert await client.list_jobs("A") == DEMO_JOBS
                for method, args, pending in [
                    (client.set_work_class, ("O",), False),
                    (client.attach_job, ("CMP1",), False),
                    (client.set_notify_key_field, ("O", "ACCTNUM"), False),
                    (client.set_data_field, ("O", "NAME"), False),
                    (client.set_data_field, ("O", "PHONE1"), False),
                    (client.set_data_field, ("O", "BALANCE"), False),
                    (client.avail_work, (), True),
                    (client.ready_next_item, (), False),
                ]:
                    reply = await method(*args)
                    assert (reply.pending, reply.data, reply.response.segments) == (pending, (), OK), reply.keyword
                    assert reply.response.process_id == process_id
                state = await client.command("AGTListState")
                assert [m.segments for m in state.data] == [("0", "S70001,CMP1")]
                assert state.response.segments == OK
                session = server.server.driver.engine.online["agent1"]
                assert (session.job, session.process_id) == ("CMP1", process_id)

                for method, pending, state_after in [
                    (client.no_further_work, True, "S70003,CMP1"),
                    (client.detach_job, False, "S70004"),
                    (client.disconnect_headset, True, "S70004"),
                    (client.free_headset, False, "S70004"),
                ]:
                    reply = await method()
                    assert (reply.pending, reply.response.segments) == (pending, OK), reply.keyword
                    state = await client.command("AGTListState")
                    assert [m.segments for m in state.data] == [("0", state_after)]
                reply = await client.logoff()
                assert (reply.pending, reply.response.segments) == (False, OK)
                await client.wait_closed()
                assert client.close_reason == "the server closed the connection"
            assert "agent1" not in server.server.driver.engine.online


class TestGreeting:
    """The AGTSTART greeting (protocol_spec.md §2, §8.6)."""

    async def test_greeting_is_the_exact_72_bytes_first(self, server: RunningServer) -> None:
        """The first bytes on a connection are exactly the 72-byte greeting carrying the session's process id."""
        with trio.fail_after(5):
            assert server.ports.agent is not None
            stream = await connect_tcp(server.ports.agent)
            try:
                received = b""
                while len(received) < 72:
                    chunk = await stream.receive_some(72 - len(received))
                    assert chunk, f"closed after {received!r}"
                    received += chunk
                (session,) = server.server.driver.engine.sessions.values()
                assert session.process_id.isdigit()
                assert received == _greeting_bytes(session.process_id)
                assert len(received) == 72
            finally:
                await trio.aclose_forcefully(stream)

    async def test_each_connection_has_its_own_process_id(self, server: RunningServer) -> None:
        """Two connections' greetings carry different numeric process ids, and each session's replies keep its own."""
        assert server.ports.agent is not None
        with trio.fail_after(5):
            async with (
                open_raw_connection(server.ports.agent) as first,
                open_raw_connection(server.ports.agent) as second,
            ):
                first_id, second_id = await _greeted(first), await _greeted(second)
                assert first_id.isdigit()
                assert second_id.isdigit()
                assert first_id != second_id
                for raw, process_id in ((first, first_id), (second, second_id)):
                    replies = await raw.command("AGTListJobs", "A")
                    assert {m.process_id for m in replies} == {process_id}


class TestLongReplies:
    """Long lists are split into several D messages of at most 256 bytes (protocol_spec.md §5, §8.1)."""

    async def test_sixty_jobs_arrive_in_several_short_data_messages(self, tmp_path: Path) -> None:
        """AGTListJobs with 60 jobs answers several D 0 M00001 messages, each at most 256 bytes, whose
        records are all 60 listings in order, then R 0 M00000."""
        jobs = tuple(JobConfig(f"JOB{n:02d}", JobType.OUTBOUND, outbound_list="cmp1_list") for n in range(1, 61))
        with trio.fail_after(10):
            async with running_server(config_for_tests(tmp_path, jobs=jobs)) as running:
                assert running.ports.agent is not None
                async with open_raw_connection(running.ports.agent) as raw:
                    await _greeted(raw)
                    await raw.logon("agent1")
                    await raw.send_command("AGTListJobs", "A", invoke_id="7")
                    frames = []
                    while not frames or decode_frame(frames[-1]).type is not MessageType.RESPONSE:
                        frame = await raw.receive_frame()
                        assert frame is not None
                        frames.append(frame)
        messages = [decode_frame(frame) for frame in frames]
        assert len(messages) > 2
        assert all(len(frame) <= MAX_CLIENT_READ for frame in frames), [len(frame) for frame in frames]
        *data, final = messages
        assert all(m.type is MessageType.DATA and m.segments[:2] == ("0", "M00001") for m in data)
        assert {m.invoke_id for m in messages} == {"7"}
        assert final.segments == OK
        records = [record for m in data for record in m.segments[2:]]
        assert records == [f"O,JOB{n:02d},A" for n in range(1, 61)]


class TestDroppedConnection:
    """A connection that drops is a logoff (protocol_spec.md §8.6)."""

    async def test_drop_logs_the_agent_off(self, server: RunningServer) -> None:
        """An agent whose connection closes while attached and ready can log on again at once from a new
        connection, and its old session is gone from the engine."""
        engine = server.server.driver.engine
        with trio.fail_after(10):
            async with server.logged_on("agent1") as client:
                await client.join("CMP1", work_class="O")
                await client.ready_next_item()
                old_process_id = client.greeting.process_id
                assert engine.agents_working("CMP1") == 1
            async with server.client() as again:
                reply = await again.logon("agent1", "agent1")
                assert reply.response.segments == OK
                assert engine.online["agent1"].process_id == again.greeting.process_id
                assert old_process_id not in {session.process_id for session in engine.sessions.values()}
                assert engine.agents_working("CMP1") == 0
                assert (await again.list_state()).code == "S70004"

    async def test_drop_empties_the_online_table(self, server: RunningServer) -> None:
        """When a ready agent's raw socket closes without AGTLogoff, the engine no longer has the agent online."""
        engine = server.server.driver.engine
        assert server.ports.agent is not None
        with trio.fail_after(5):
            async with open_raw_connection(server.ports.agent) as raw:
                await _greeted(raw)
                await raw.logon("agent3")
                for keyword, *args in [
                    ("AGTReserveHeadset", "33"),
                    ("AGTConnHeadset",),
                    ("AGTAttachJob", "CMP2"),
                    ("AGTAvailWork",),
                    ("AGTReadyNextItem",),
                ]:
                    assert (await raw.command(keyword, *args))[-1].segments == OK
                assert "agent3" in engine.online
            await _wait_until(lambda: "agent3" not in engine.online, "agent3 is logged off")
            assert engine.agents_working("CMP2") == 0
            assert server.server.driver.connections == {}


class TestBadInput:
    """Garbage, oversized and truncated input costs at most the session that sent it (protocol_spec.md §2.2)."""

    async def test_binary_garbage_is_answered_and_the_session_goes_on(self, server: RunningServer) -> None:
        """Binary garbage gets AGTSystemError N 1 E28863 with the session's process id, the next command
        works, and another agent's session is undisturbed throughout."""
        assert server.ports.agent is not None
        noise = bytes(random.Random(7).choice(range(0x20, 0xFF)) for _ in range(300)).replace(b"\xff", b"?")
        with trio.fail_after(10):
            async with server.logged_on("agent2") as other, open_raw_connection(server.ports.agent) as raw:
                process_id = await _greeted(raw)
                await raw.logon("agent1")
                assert (await other.list_state()).code == "S70004"
                await raw.stream.send_all(b"\x01\x02\x04garbage" + ETX)
                first = await raw.receive()
                assert (first.keyword, first.type, first.segments, first.process_id) == (
                    "AGTSystemError",
                    MessageType.NOTIFICATION,
                    ("1", "E28863,message shorter than the header"),
                    process_id,
                )
                assert (await other.list_state()).code == "S70004"
                await raw.stream.send_all(b"\x00\x01" + noise + ETX)
                second = await raw.receive()
                assert (second.keyword, second.type, second.segments) == (
                    "AGTSystemError",
                    MessageType.NOTIFICATION,
                    ("1", "E28863,invalid keyword"),
                )
                replies = await raw.command("AGTListState", invoke_id="12")
                assert [(m.type, m.segments) for m in replies] == [
                    (MessageType.DATA, ("0", "S70004")),
                    (MessageType.RESPONSE, OK),
                ]
                await other.attach_job("CMP1")
                assert (await other.list_state()).job == "CMP1"

    async def test_oversized_message_is_refused_and_the_session_goes_on(self, server: RunningServer) -> None:
        """A message over 64 KiB gets R 1 E28863,message too long echoing its keyword and invoke id; the next
        command works, and another agent's session is undisturbed."""
        assert server.ports.agent is not None
        with trio.fail_after(10):
            async with server.logged_on("agent2") as other, open_raw_connection(server.ports.agent) as raw:
                await _greeted(raw)
                await raw.logon("agent1")
                # Built by hand: the encoder refuses to make a message this long.
                header = f"{'AGTSendMessage':<20}C{'raw':<20}{'0':<6}{'55':<4}{'1':<4}".encode()
                huge = header + RS + b"x" * 70_000 + ETX
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(raw.stream.send_all, huge)
                    refusal = await raw.receive()
                    assert (await other.list_state()).code == "S70004"
                assert (refusal.keyword, refusal.type, refusal.invoke_id, refusal.segments) == (
                    "AGTSendMessage",
                    MessageType.RESPONSE,
                    "55",
                    ("1", "E28863,message too long"),
                )
                replies = await raw.command("AGTListJobs", "O", invoke_id="56")
                assert [m.segments for m in replies] == [
                    ("0", "M00001", "O,CMP1,A", "O,CMP2,A", "O,CMP3,A", "O,CMP4,A"),
                    OK,
                ]
                assert (await other.list_state()).code == "S70004"

    async def test_truncated_message_then_close_just_ends_the_session(self, server: RunningServer) -> None:
        """Half a command followed by a close ends that session (its agent is logged off, nothing is sent)
        while another agent's session keeps working."""
        engine = server.server.driver.engine
        assert server.ports.agent is not None
        with trio.fail_after(10):
            async with server.logged_on("agent2") as other:
                async with open_raw_connection(server.ports.agent) as raw:
                    await _greeted(raw)
                    await raw.logon("agent1")
                    await raw.stream.send_all(command_bytes("AGTAttachJob", "CMP1")[:30])
                    assert (await other.list_state()).code == "S70004"
                    await raw.stream.send_eof()
                    assert await raw.receive_until_closed() == []
                await _wait_until(lambda: "agent1" not in engine.online, "agent1 is logged off")
                assert list(engine.online) == ["agent2"]
                await other.attach_job("CMP1")
                assert (await other.list_state()).job == "CMP1"


class TestSlowReaders:
    """A client that stops reading is cut off; no one else waits (protocol_spec.md §8.6)."""

    async def test_client_that_never_reads_is_cut_off_without_slowing_others(self, tmp_path: Path) -> None:
        """A client that keeps sending AGTListState but never reads is disconnected once the server's writes
        to it stay blocked for write_timeout, while a well-behaved client's commands each complete within 2 s."""
        config = config_for_tests(tmp_path, limits=SessionLimits(outbox_size=8, write_timeout=1.0))
        with trio.fail_after(20):
            async with running_server(config) as running, running.logged_on("agent2") as good:
                driver = running.server.driver
                assert running.ports.agent is not None
                async with open_raw_connection(running.ports.agent, receive_buffer=4096) as raw:
                    await _greeted(raw)
                    await raw.logon("agent1")
                    (flooder,) = [c.conn for c in driver.connections.values() if c.agent == "agent1"]
                    sent = 0

                    async def flood() -> None:
                        # Two commands per write, so that each read the server makes holds fewer replies than
                        # the outbox takes: what fills it is the socket buffers, not one big read.
                        nonlocal sent
                        batch = command_bytes("AGTListState", invoke_id="1") * 2
                        try:
                            while True:
                                await raw.stream.send_all(batch)
                                sent += 2
                                await trio.sleep(0.0005)
                        except (trio.BrokenResourceError, trio.ClosedResourceError):
                            pass

                    async with trio.open_nursery() as nursery:
                        nursery.start_soon(flood)
                        while flooder in driver.connections:
                            with trio.fail_after(2):
                                assert (await good.list_state()).code == "S70004"
                            with trio.fail_after(2):
                                assert len(await good.list_jobs("A")) == 7
                        nursery.cancel_scope.cancel()
                    assert sent > 4
                    assert "agent1" not in driver.engine.online
                    # Whatever was still in the socket buffers, the connection ends (EOF or reset).  Raw bytes are
                    # read, not frames: a client cut off for not reading may get the last message only in part
                    # (its rest was still in the server's send buffer when the connection was reset).
                    with trio.fail_after(5):
                        while True:
                            try:
                                if not await raw.stream.receive_some(65536):
                                    break
                            except trio.BrokenResourceError:
                                break
                with trio.fail_after(2):
                    await good.attach_job("CMP1")

    async def test_pipelining_client_that_reads_is_not_cut_off(self, tmp_path: Path) -> None:
        """A client that pipelines more commands in one write than its outbox holds, but reads every reply,
        gets all its replies and keeps its session: it has not stopped reading."""
        config = config_for_tests(tmp_path, limits=SessionLimits(outbox_size=8))
        with trio.fail_after(10):
            async with running_server(config) as running:
                assert running.ports.agent is not None
                async with open_raw_connection(running.ports.agent) as raw:
                    await _greeted(raw)
                    await raw.logon("agent1")
                    await raw.stream.send_all(
                        b"".join(command_bytes("AGTListState", invoke_id=str(n)) for n in range(1, 11))
                    )
                    replies = [await raw.receive() for _ in range(20)]
                    assert [(m.type, m.invoke_id) for m in replies] == [
                        (kind, str(n)) for n in range(1, 11) for kind in (MessageType.DATA, MessageType.RESPONSE)
                    ]
                    assert "agent1" in running.server.driver.engine.online


class TestIdleTimeout:
    """limits.idle_timeout closes connections that send nothing (protocol_spec.md §8.6, §9)."""

    async def test_idle_client_is_told_and_closed(self, tmp_path: Path) -> None:
        """After 0.5 s without a command the client gets AGTSystemError N 1 E28921,idle timeout, is logged
        off, and the connection closes."""
        config = config_for_tests(tmp_path, limits=SessionLimits(idle_timeout=0.5))
        with trio.fail_after(10):
            async with running_server(config) as running, running.logged_on("agent1") as client:
                quiet_since = trio.current_time()
                notice = await client.next_notification("AGTSystemError", timeout=3)
                waited = trio.current_time() - quiet_since
                with trio.fail_after(2):
                    await client.wait_closed()
                assert waited >= 0.45
                assert [(m.type, m.invoke_id, m.segments) for m in notice.messages] == [
                    (MessageType.NOTIFICATION, "0", ("1", "E28921,idle timeout"))
                ]
                assert notice.first.process_id == client.greeting.process_id
                assert "agent1" not in running.server.driver.engine.online

    async def test_tls_and_tty_connections_time_out_too(self, tmp_path: Path) -> None:
        """The idle timeout holds on the TLS and tty listeners as on the plain one."""
        config = config_for_tests(tmp_path, limits=SessionLimits(idle_timeout=0.5))
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        with trio.fail_after(10):
            async with running_server(config) as running:
                async with running.client(ssl_context=context) as client:
                    notice = await client.next_notification("AGTSystemError", timeout=3)
                    assert notice.records == ("E28921,idle timeout",) or notice.code.startswith("E28921")
                    with trio.fail_after(2):
                        await client.wait_closed()
                assert running.ports.tty is not None
                stream = await trio.open_tcp_stream(HOST, running.ports.tty)
                received = b""
                with trio.fail_after(3):
                    while chunk := await stream.receive_some(4096):
                        received += chunk
                assert b"E28921" in received, received

    async def test_the_timeout_watchdog_survives_an_engine_failure(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """If expelling an idle connection fails inside the engine (a bug), the server goes on: the timeout
        watchdog is shared by every connection, so it logs the failure and carries on timing out others."""
        config = config_for_tests(tmp_path, limits=SessionLimits(idle_timeout=0.3))
        handle = Engine.handle
        failures: list[object] = []

        def failing_on_expel(engine: Engine, event: object, now: float) -> object:
            if isinstance(event, Expel) and not failures:
                failures.append(event)
                raise RuntimeError("a bug")
            return handle(engine, event, now)  # type: ignore[arg-type]

        monkeypatch.setattr(Engine, "handle", failing_on_expel)
        # Log as the server does (plain tracebacks; see configure_logging), restoring the tests' set-up after.
        saved = structlog.get_config()
        structlog.configure(
            processors=[structlog.dev.ConsoleRenderer(colors=False, exception_formatter=structlog.dev.plain_traceback)]
        )
        try:
            with trio.fail_after(10):
                async with running_server(config) as running:
                    async with running.client() as failed:
                        # The connection whose expel failed is cut off and closed.
                        with trio.fail_after(3):
                            await failed.wait_closed()
                    assert failures
                    # The watchdog goes on: the next idle connection is expelled as usual.
                    async with running.logged_on("agent1") as client:
                        notice = await client.next_notification("AGTSystemError", timeout=3)
                        assert notice.messages[0].segments == ("1", "E28921,idle timeout")
                        with trio.fail_after(2):
                            await client.wait_closed()
        finally:
            structlog.configure(**saved)

    async def test_commands_keep_the_connection_open(self, tmp_path: Path) -> None:
        """A client that sends a command every 0.2 s stays connected well past the 0.5 s idle timeout."""
        config = config_for_tests(tmp_path, limits=SessionLimits(idle_timeout=0.5))
        with trio.fail_after(10):
            async with running_server(config) as running, running.logged_on("agent1") as client:
                for _ in range(8):
                    await trio.sleep(0.2)
                    assert (await client.list_state()).code == "S70004"
                assert not client.closed
                with pytest.raises(trio.WouldBlock):
                    client.notifications.receive_nowait()


class TestConnectionLimit:
    """limits.max_connections (protocol_spec.md §8.6, §9)."""

    async def test_connection_over_the_limit_is_refused(self, tmp_path: Path) -> None:
        """With max_connections=2 the third connection gets AGTSTART N 1 E28858 and is closed; once a
        connection ends, a new one is greeted normally."""
        config = config_for_tests(tmp_path, limits=SessionLimits(max_connections=2))
        with trio.fail_after(10):
            async with running_server(config) as running:
                port = running.ports.agent
                assert port is not None
                async with running.logged_on("agent1") as first:
                    async with running.client() as second:
                        async with open_raw_connection(port) as third:
                            refusal = await third.receive()
                            assert (refusal.keyword, refusal.type, refusal.invoke_id, refusal.segments) == (
                                "AGTSTART",
                                MessageType.NOTIFICATION,
                                "0",
                                ("1", "E28858"),
                            )
                            assert await third.receive_until_closed() == []
                        assert (await first.list_state()).code == "S70004"
                        assert (await second.logon("agent2", "agent2")).ok
                    await _wait_until(lambda: len(running.server.driver.connections) == 1, "one connection is left")
                    async with open_raw_connection(port) as fourth:
                        await _greeted(fourth)


class TestLogonThrottle:
    """Failed logons lock out the agent name and the client address (protocol_spec.md §8.2, §8.6)."""

    THROTTLE = LogonThrottleConfig(max_failures=3, window=60, lockout=30)

    async def test_lockout_by_agent_and_by_address(self, tmp_path: Path) -> None:
        """After 3 wrong passwords for agent1 from 127.0.0.1, agent1 is refused with E28926 even with the right
        password, from 127.0.0.1 and from 127.0.0.2 (agent key); agent2 is refused from 127.0.0.1 (address
        key) but logs on from 127.0.0.2."""
        config = config_for_tests(tmp_path, throttle=self.THROTTLE)
        with trio.fail_after(10):
            async with running_server(config) as running:
                port = running.ports.agent
                assert port is not None
                async with running.client() as client:
                    for _ in range(3):
                        with pytest.raises(AgtCommandError) as failed:
                            await client.logon("agent1", "wrong")
                        assert failed.value.code == "E28926"
                    with pytest.raises(AgtCommandError) as locked:
                        await client.logon("agent1", "agent1")
                    assert locked.value.code == "E28926"
                    assert locked.value.reply.pending
                    with pytest.raises(AgtCommandError) as same_address:
                        await client.logon("agent2", "agent2")
                    assert same_address.value.code == "E28926"
                for agent, code in (("agent1", "1"), ("agent2", "0")):
                    async with agt_client_over(await connect_tcp(port, source_host="127.0.0.2")) as elsewhere:
                        result = await elsewhere.command("AGTLogon", agent, agent, check=False)
                        assert result.response.segments[0] == code, (agent, result.response.segments)
                        if code == "1":
                            assert result.code == "E28926"
                        else:
                            assert list(running.server.driver.engine.online) == ["agent2"]

    async def test_lockout_ends(self, tmp_path: Path) -> None:
        """Once the lockout has passed, the right password logs the agent on again."""
        throttle = attrs.evolve(self.THROTTLE, lockout=0.3)
        with trio.fail_after(10):
            async with (
                running_server(config_for_tests(tmp_path, throttle=throttle)) as running,
                running.client() as client,
            ):
                for _ in range(3):
                    assert (await client.command("AGTLogon", "agent1", "nope", check=False)).code == "E28926"
                assert (await client.command("AGTLogon", "agent1", "agent1", check=False)).code == "E28926"
                await trio.sleep(0.4)
                assert (await client.logon("agent1", "agent1")).ok

    async def test_failures_below_the_limit_do_not_lock(self, tmp_path: Path) -> None:
        """Two wrong passwords (one fewer than max_failures) still let the right one through."""
        with trio.fail_after(10):
            async with (
                running_server(config_for_tests(tmp_path, throttle=self.THROTTLE)) as running,
                running.client() as client,
            ):
                for _ in range(2):
                    assert (await client.command("AGTLogon", "agent1", "nope", check=False)).code == "E28926"
                assert (await client.logon("agent1", "agent1")).ok


class TestShutdown:
    """AgentServer.shutdown tells every session and closes it (protocol_spec.md §8.6, §9)."""

    async def test_shutdown_tells_every_session(self, tmp_path: Path) -> None:
        """shutdown() sends AGTSystemError N 1 E28921,server shutting down to a working agent and to a connection
        not yet logged on, closes both, and stops listening."""
        with trio.fail_after(10):
            async with running_server(config_for_tests(tmp_path)) as running:
                port = running.ports.agent
                assert port is not None
                async with running.logged_on("agent1") as working, running.client() as greeted_only:
                    await working.join("CMP1", work_class="O")
                    await running.server.shutdown()
                    for client in (working, greeted_only):
                        notice = await client.next_notification(timeout=2)
                        assert (notice.keyword, notice.first.segments, notice.first.process_id) == (
                            "AGTSystemError",
                            ("1", "E28921,server shutting down"),
                            client.greeting.process_id,
                        )
                        with trio.fail_after(2):
                            await client.wait_closed()
                    assert running.server.driver.engine.online == {}
                    assert running.server.driver.connections == {}
                with pytest.raises(OSError):
                    await connect_tcp(port)


class TestInvokeIds:
    """Invoke ids are opaque and echoed verbatim (protocol_spec.md §4; agt-protocol.md §8.3 item 2)."""

    async def test_pipelined_commands_get_their_invoke_ids_back(self, server: RunningServer) -> None:
        """Three AGTListState commands sent in one write with invoke ids 1, Invo and 2222 are answered in order,
        each D and R echoing its command's invoke id."""
        assert server.ports.agent is not None
        with trio.fail_after(5):
            async with open_raw_connection(server.ports.agent) as raw:
                process_id = await _greeted(raw)
                await raw.logon("agent1")
                invoke_ids = ["1", "Invo", "2222"]
                await raw.stream.send_all(b"".join(command_bytes("AGTListState", invoke_id=i) for i in invoke_ids))
                replies = [await raw.receive() for _ in range(6)]
        assert [(m.keyword, m.type, m.invoke_id, m.segments) for m in replies] == [
            ("AGTListState", kind, invoke_id, segments)
            for invoke_id in invoke_ids
            for kind, segments in ((MessageType.DATA, ("0", "S70004")), (MessageType.RESPONSE, OK))
        ]
        assert {m.process_id for m in replies} == {process_id}
        assert all(re.fullmatch(r"\d+", m.process_id) for m in replies)
