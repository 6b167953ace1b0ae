"""Tests for ``agt_server.client``.

Policy (after trio-websocket): the peer is a fake server written here on top of the real
:class:`WireCodec`, over ``trio.testing.memory_stream_pair()`` or a real socket on 127.0.0.1 port 0;
every I/O test runs under ``trio.fail_after``; tests that wait on time use ``autojump_clock``; the
fake server decides when the connection closes.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial
from typing import Any

import attrs
import pytest
import structlog
import trio
import trio.testing

from agt_server.client import (
    AgentStateReport,
    AgtClient,
    AgtClientError,
    AgtCommandError,
    AgtConnectionClosed,
    AgtConnectionError,
    AgtUnexpectedReply,
    CallbackFormat,
    FieldListing,
    JobListing,
    KeyListing,
    Notification,
    NotificationAssembler,
    NotificationQueue,
    Reply,
    agt_client_over,
    open_agt_client,
)
from agt_server.client._invoke_ids import InvokeIds
from agt_server.protocol import AgentStateCode, Message, MessageType, Sentinel, WireCodec, encode
from agt_server.server import demo_certificate

PID = "4242"
GREETING = Message("AGTSTART", MessageType.NOTIFICATION, ("0", "AGENT_STARTUP"), process_id=PID)

Builder = Callable[[Message], Message]


def pending() -> Builder:
    """A ``P 0 S28833`` answering the command it is applied to."""
    return lambda command: Message(
        command.keyword, MessageType.PENDING, ("0", "S28833"), process_id=PID, invoke_id=command.invoke_id
    )


def data(*segments: str) -> Builder:
    """A ``D 0 <segments>`` answering the command it is applied to."""
    return lambda command: Message(
        command.keyword, MessageType.DATA, ("0", *segments), process_id=PID, invoke_id=command.invoke_id
    )


def response(code: str = "M00000", *detail: str) -> Builder:
    """The final ``R``: ``0 M00000``, or ``1 <code> <detail>`` for an E-code."""
    status = "1" if code.startswith("E") else "0"
    return lambda command: Message(
        command.keyword, MessageType.RESPONSE, (status, code, *detail), process_id=PID, invoke_id=command.invoke_id
    )


def busy(code: str) -> Builder:
    """A ``B 1 <code>`` (busy) answering the command it is applied to."""
    return lambda command: Message(
        command.keyword, MessageType.BUSY, ("1", code), process_id=PID, invoke_id=command.invoke_id
    )


def notify(keyword: str, *segments: str) -> Message:
    """An ``N`` message with invoke id 0."""
    return Message(keyword, MessageType.NOTIFICATION, segments, process_id=PID)


CALL_NOTIFY = (
    notify("AGTCallNotify", "0", "M00001", "MARY ROE", "OUTBOUND", "ACCTNUM,1234567"),
    notify("AGTCallNotify", "0", "M00001", "BAL,12.50", "PHONE1,5551230000"),
    notify("AGTCallNotify", "0", "M00000"),
)
JOB_END = notify("AGTJobEnd", "0", "M00000")


@attrs.define(eq=False)
class FakeServer:
    """The server end of a connection, speaking through the real codec."""

    stream: trio.abc.Stream
    codec: WireCodec = attrs.Factory(WireCodec)
    received: bytearray = attrs.Factory(bytearray)
    commands: list[Message] = attrs.Factory(list)

    async def send(self, *messages: Message) -> None:
        for message in messages:
            await self.stream.send_all(encode(message))

    async def receive(self) -> Message:
        while True:
            item = self.codec.next_message()
            if isinstance(item, Message):
                self.commands.append(item)
                return item
            if item is Sentinel.CLOSED:
                raise AssertionError("the client closed the connection")
            chunk = await self.stream.receive_some()
            self.received += chunk
            self.codec.receive_data(chunk)

    async def answer(self, *builders: Builder) -> Message:
        """Receive one command and send the messages built from it."""
        command = await self.receive()
        await self.send(*(build(command) for build in builders))
        return command


@contextlib.asynccontextmanager
async def session(**options: Any) -> AsyncIterator[tuple[AgtClient, FakeServer]]:
    """A client over a memory stream whose fake server has already greeted it."""
    client_stream, server_stream = trio.testing.memory_stream_pair()
    server = FakeServer(server_stream)
    await server.send(GREETING)
    async with agt_client_over(client_stream, **options) as client:
        yield client, server


class TestGreeting:
    async def test_greeting_is_exposed(self) -> None:
        """The AGTSTART greeting is available as client.greeting."""
        with trio.fail_after(5):
            async with session() as (client, _):
                assert client.greeting.keyword == "AGTSTART"
                assert client.greeting.segments == ("0", "AGENT_STARTUP")
                assert not client.closed

    async def test_wrong_first_message(self) -> None:
        """A first message other than the greeting raises AgtConnectionError."""
        client_stream, server_stream = trio.testing.memory_stream_pair()
        await FakeServer(server_stream).send(notify("AGTJobEnd", "0", "M00000"))
        with trio.fail_after(5), pytest.raises(AgtConnectionError, match="AGTJobEnd"):
            async with agt_client_over(client_stream):
                pytest.fail("the session must not start")

    async def test_refusing_greeting(self) -> None:
        """An AGTSTART carrying an error (agent slots exceeded) raises AgtConnectionError with the code."""
        client_stream, server_stream = trio.testing.memory_stream_pair()
        await FakeServer(server_stream).send(notify("AGTSTART", "1", "E28858"))
        with trio.fail_after(5), pytest.raises(AgtConnectionError, match="E28858"):
            async with agt_client_over(client_stream):
                pytest.fail("the session must not start")

    async def test_close_before_greeting(self) -> None:
        """The server closing before its greeting raises AgtConnectionError."""
        client_stream, server_stream = trio.testing.memory_stream_pair()
        await server_stream.aclose()
        with trio.fail_after(5), pytest.raises(AgtConnectionError, match="closed"):
            async with agt_client_over(client_stream):
                pytest.fail("the session must not start")

    async def test_greeting_timeout(self, autojump_clock: trio.testing.MockClock) -> None:
        """No greeting within greeting_timeout raises AgtConnectionError."""
        client_stream, _server_stream = trio.testing.memory_stream_pair()
        with trio.fail_after(5), pytest.raises(AgtConnectionError, match="within 3"):
            async with agt_client_over(client_stream, greeting_timeout=3):
                pytest.fail("the session must not start")
        assert trio.current_time() == pytest.approx(3)

    async def test_body_exception_is_not_wrapped(self) -> None:
        """An exception raised inside the session block reaches the caller as itself, not in a group."""
        with trio.fail_after(5), pytest.raises(KeyError):
            async with session():
                raise KeyError("body")


class TestCommand:
    async def test_command_bytes(self) -> None:
        """A command goes out as one wire message with the client name, process id 0 and a fresh invoke id."""
        with trio.fail_after(5):
            async with session() as (client, server), trio.open_nursery() as nursery:
                nursery.start_soon(server.answer, pending(), response())
                await client.logon("agent07", "s3cret")
        expected = (
            b"AGTLogon" + b" " * 12 + b"C" + b"agt_server" + b" " * 10 + b"0     " + b"1   " + b"3   "
            b"\x1eagent07\x1es3cret\x1ePCAPI_5.2.0.0.1\x03"
        )
        assert expected == bytes(server.received)

    async def test_pending_data_response(self) -> None:
        """A P, D, D, R reply is returned whole, with the records of both D messages in order."""
        with trio.fail_after(5):
            async with session() as (client, server), trio.open_nursery() as nursery:
                nursery.start_soon(
                    server.answer,
                    pending(),
                    data("M00001", "O,SALES1,A", "B,BLEND2,I"),
                    data("M00001", "M,PREVIEW3,A"),
                    response(),
                )
                reply = await client.command("AGTListJobs", "A")
        assert reply.ok
        assert reply.pending
        assert reply.code == "M00000"
        assert reply.keyword == "AGTListJobs"
        assert len(reply.data) == 2
        assert reply.records == ("O,SALES1,A", "B,BLEND2,I", "M,PREVIEW3,A")
        assert reply.invoke_id == server.commands[0].invoke_id

    async def test_pipelined_replies_out_of_order(self) -> None:
        """Two commands in flight get their own replies even when the server interleaves and reverses them."""
        results: dict[str, list[FieldListing]] = {}

        async def fields(client: AgtClient, list_name: str) -> None:
            results[list_name] = await client.list_call_fields(list_name)

        with trio.fail_after(5):
            async with session() as (client, server), trio.open_nursery() as nursery:
                nursery.start_soon(fields, client, "LISTA")
                first = await server.receive()
                nursery.start_soon(fields, client, "LISTB")
                second = await server.receive()
                await server.send(
                    pending()(first),
                    data("M00001", "B_FIELD,10,C,F")(second),
                    data("M00001", "A_FIELD,16,N,F")(first),
                    response()(second),
                    response()(first),
                )
        assert first.invoke_id != second.invoke_id
        assert first.segments == ("LISTA",)
        assert results == {
            "LISTA": [FieldListing(name="A_FIELD", length=16, type="N")],
            "LISTB": [FieldListing(name="B_FIELD", length=10, type="C")],
        }

    async def test_error_response_raises(self) -> None:
        """R 1 E28804 raises AgtCommandError whose code is E28804 and whose text names command and code."""
        with trio.fail_after(5):
            async with session() as (client, server), trio.open_nursery() as nursery:
                nursery.start_soon(server.answer, response("E28804"))
                with pytest.raises(AgtCommandError) as info:
                    await client.attach_job("SALES1")
        assert info.value.code == "E28804"
        assert info.value.keyword == "AGTAttachJob"
        assert "AGTAttachJob" in str(info.value)
        assert "E28804" in str(info.value)
        assert not info.value.reply.ok

    async def test_error_after_pending_with_detail(self) -> None:
        """An error after a P keeps the pending flag and its detail segments."""
        with trio.fail_after(5):
            async with session() as (client, server), trio.open_nursery() as nursery:
                nursery.start_soon(server.answer, pending(), response("E28805", "SALES1"))
                with pytest.raises(AgtCommandError) as info:
                    await client.avail_work()
        assert info.value.reply.pending
        assert info.value.reply.detail == ("SALES1",)
        assert "SALES1" in str(info.value)

    async def test_unchecked_error(self) -> None:
        """With check=False a failed reply is returned instead of raised."""
        with trio.fail_after(5):
            async with session() as (client, server), trio.open_nursery() as nursery:
                nursery.start_soon(server.answer, response("E28842,B"))
                reply = await client.command("AGTSetCallback", "2026/01/02", "13:05", "1", check=False)
        assert not reply.ok
        assert reply.code == "E28842"
        assert reply.detail == ("B",)

    async def test_busy_is_final(self) -> None:
        """A B (busy) message ends the command as a failure."""
        with trio.fail_after(5):
            async with session() as (client, server), trio.open_nursery() as nursery:
                nursery.start_soon(server.answer, busy("E28900"))
                with pytest.raises(AgtCommandError, match="E28900"):
                    await client.ready_next_item()

    async def test_unknown_invoke_id_is_ignored(self) -> None:
        """A reply for an invoke id nobody waits for is logged and skipped."""

        async def serve(server: FakeServer) -> None:
            command = await server.receive()
            stray = Message("AGTListState", MessageType.RESPONSE, ("0", "M00000"), process_id=PID, invoke_id="9876")
            await server.send(stray, data("S70004")(command), response()(command))

        with trio.fail_after(5), structlog.testing.capture_logs() as logs:
            async with session() as (client, server), trio.open_nursery() as nursery:
                nursery.start_soon(serve, server)
                state = await client.list_state()
        assert state == AgentStateReport(code="S70004", job=None)
        assert any(entry["event"] == "reply_for_unknown_invoke_id" for entry in logs)

    async def test_malformed_message_is_skipped(self) -> None:
        """A frame that is not AGT is logged and skipped, and the reply after it still arrives."""

        async def serve(server: FakeServer) -> None:
            command = await server.receive()
            await server.stream.send_all(b"garbage\x03")
            await server.send(response()(command))

        with trio.fail_after(5), structlog.testing.capture_logs() as logs:
            async with session() as (client, server), trio.open_nursery() as nursery:
                nursery.start_soon(serve, server)
                reply = await client.detach_job()
        assert reply.ok
        assert any(entry["event"] == "malformed_message_skipped" for entry in logs)

    async def test_no_further_work_waits_for_its_final_response(self) -> None:
        """AGTNoFurtherWork's P comes at once, its R only after FinishedItem, which completes in between."""
        order: list[str] = []

        async def leave(client: AgtClient) -> None:
            reply = await client.no_further_work()
            assert reply.pending
            order.append("AGTNoFurtherWork")

        with trio.fail_after(5):
            async with session() as (client, server), trio.open_nursery() as nursery:
                nursery.start_soon(leave, client)
                no_further_work = await server.answer(pending())
                nursery.start_soon(server.answer, response())
                await client.finished_item(22)
                order.append("AGTFinishedItem")
                await server.send(response()(no_further_work))
        assert order == ["AGTFinishedItem", "AGTNoFurtherWork"]
        assert server.commands[1].segments == ("22",)


class TestNotifications:
    async def test_assembled_and_interleaved_with_a_reply(self) -> None:
        """A 3-part AGTCallNotify and a single AGTJobEnd are assembled around a command's reply."""

        async def serve(server: FakeServer) -> None:
            command = await server.receive()
            await server.send(
                CALL_NOTIFY[0],
                JOB_END,
                data("S70001,SALES1")(command),
                CALL_NOTIFY[1],
                response()(command),
                CALL_NOTIFY[2],
            )

        with trio.fail_after(5):
            async with session() as (client, server), trio.open_nursery() as nursery:
                nursery.start_soon(serve, server)
                state = await client.list_state()
                job_end = await client.next_notification()
                call = await client.next_notification()
        assert state == AgentStateReport(code="S70001", job="SALES1")
        assert state.state is AgentStateCode.READY
        assert job_end == Notification("AGTJobEnd", (JOB_END,))
        assert call.keyword == "AGTCallNotify"
        assert call.messages == CALL_NOTIFY
        assert call.code == "M00000"
        assert call.first.segments[2:4] == ("MARY ROE", "OUTBOUND")
        assert call.records == ("MARY ROE", "OUTBOUND", "ACCTNUM,1234567", "BAL,12.50", "PHONE1,5551230000")

    async def test_parts_of_different_keywords_interleave(self) -> None:
        """Parts of two notifications that interleave are assembled per keyword."""
        with trio.fail_after(5):
            async with session() as (client, server):
                await server.send(
                    CALL_NOTIFY[0],
                    notify("AGTReceiveMessage", "0", "M00001", "Break at 10:30"),
                    CALL_NOTIFY[1],
                    notify("AGTReceiveMessage", "0", "M00000"),
                    CALL_NOTIFY[2],
                )
                message = await client.next_notification()
                call = await client.next_notification()
        assert message.keyword == "AGTReceiveMessage"
        assert message.records == ("Break at 10:30",)
        assert call.messages == CALL_NOTIFY

    async def test_error_notification_is_single(self) -> None:
        """AGTSystemError 1 E28924 is a complete notification by itself."""
        with trio.fail_after(5):
            async with session() as (client, server):
                await server.send(notify("AGTSystemError", "1", "E28924"))
                error = await client.next_notification()
        assert error.keyword == "AGTSystemError"
        assert error.status == "1"
        assert error.code == "E28924"

    async def test_next_notification_by_keyword_keeps_others(self) -> None:
        """Asking for one keyword skips others but keeps them, in order, for later calls and iteration."""
        with trio.fail_after(5):
            async with session() as (client, server):
                await server.send(
                    JOB_END,
                    notify("AGTReceiveMessage", "0", "M00001", "hello"),
                    notify("AGTReceiveMessage", "0", "M00000"),
                    *CALL_NOTIFY,
                )
                call = await client.next_notification("AGTCallNotify")
                first = await client.next_notification()
                rest = [await anext(client.notifications)]
        assert call.keyword == "AGTCallNotify"
        assert first.keyword == "AGTJobEnd"
        assert [n.keyword for n in rest] == ["AGTReceiveMessage"]

    async def test_next_notification_timeout(self, autojump_clock: trio.testing.MockClock) -> None:
        """next_notification raises TooSlowError when nothing arrives within the timeout."""
        with trio.fail_after(5):
            async with session() as (client, _):
                with pytest.raises(trio.TooSlowError):
                    await client.next_notification(timeout=2)
        assert trio.current_time() == pytest.approx(2)

    async def test_overflow_drops_the_oldest(self) -> None:
        """When nobody consumes, a full queue drops its oldest notifications and counts them."""
        keywords = ["AGTJobEnd", "AGTUnitEnd", "AGTIicbOnline", "AGTIicbOffline"]
        with trio.fail_after(5):
            async with session(notification_capacity=2) as (client, server), trio.open_nursery() as nursery:
                await server.send(*(notify(keyword, "0", "M00000") for keyword in keywords))
                nursery.start_soon(server.answer, response())
                await client.detach_job()  # its reply comes after the notifications: all are queued now
                kept = [client.notifications.receive_nowait(), client.notifications.receive_nowait()]
        assert client.notifications.dropped == 2
        assert [n.keyword for n in kept] == ["AGTIicbOnline", "AGTIicbOffline"]


class TestByteStream:
    async def test_one_byte_at_a_time(self) -> None:
        """Server messages split at every byte position are reassembled."""
        client_stream, server_stream = trio.testing.memory_stream_pair()
        server = FakeServer(server_stream)

        async def trickle(*messages: Message) -> None:
            for byte in b"".join(encode(message) for message in messages):
                await server_stream.send_all(bytes([byte]))
                await trio.testing.wait_all_tasks_blocked()

        async def serve() -> None:
            await trickle(GREETING)
            command = await server.receive()
            await trickle(pending()(command), data("M00001", "O,SALES1,A")(command), *CALL_NOTIFY, response()(command))

        with trio.fail_after(5):
            async with trio.open_nursery() as nursery:
                nursery.start_soon(serve)
                async with agt_client_over(client_stream) as client:
                    jobs = await client.list_jobs()
                    call = await client.next_notification()
        assert jobs == [JobListing(type="O", name="SALES1", status="A")]
        assert call.messages == CALL_NOTIFY

    async def test_many_messages_in_one_write(self) -> None:
        """Several messages coalesced into one write are all decoded."""
        client_stream, server_stream = trio.testing.memory_stream_pair()
        server = FakeServer(server_stream)

        async def serve() -> None:
            command = await server.receive()
            builders = (pending(), data("M00001", "O,SALES1,A"), response())
            await server_stream.send_all(b"".join(encode(m) for m in (*CALL_NOTIFY, JOB_END)))
            await server_stream.send_all(b"".join(encode(build(command)) for build in builders))

        await server.send(GREETING)
        with trio.fail_after(5):
            async with agt_client_over(client_stream) as client, trio.open_nursery() as nursery:
                nursery.start_soon(serve)
                jobs = await client.list_jobs()
                keywords = [(await client.next_notification()).keyword for _ in range(2)]
        assert jobs == [JobListing(type="O", name="SALES1", status="A")]
        assert keywords == ["AGTCallNotify", "AGTJobEnd"]


class TestConnectionEnd:
    async def test_server_eof_fails_pending_command_and_ends_notifications(self) -> None:
        """Server EOF makes a waiting command raise AgtConnectionClosed and ends the notification iterator."""

        async def serve(server: FakeServer) -> None:
            await server.receive()
            await server.send(JOB_END, CALL_NOTIFY[0])
            await server.stream.aclose()

        with trio.fail_after(5):
            async with session() as (client, server), trio.open_nursery() as nursery:
                nursery.start_soon(serve, server)
                with pytest.raises(AgtConnectionClosed):
                    await client.ready_next_item()
                remaining = [notification.keyword async for notification in client.notifications]
                assert client.closed
                assert "server closed" in (client.close_reason or "")
        assert remaining == ["AGTJobEnd"]  # the unfinished AGTCallNotify is discarded

    async def test_logoff_then_close(self) -> None:
        """logoff returns normally when the server answers and then closes; later commands fail at once."""

        async def serve(server: FakeServer) -> None:
            await server.answer(response())
            await server.stream.aclose()

        with trio.fail_after(5):
            async with session() as (client, server), trio.open_nursery() as nursery:
                nursery.start_soon(serve, server)
                reply = await client.logoff()
                await client.wait_closed()
                with pytest.raises(AgtConnectionClosed):
                    await client.list_state()
        assert reply.ok
        assert [command.keyword for command in server.commands] == ["AGTLogoff"]

    async def test_aclose_fails_pending_command(self) -> None:
        """aclose makes a waiting command raise AgtConnectionClosed."""
        with trio.fail_after(5):
            async with session() as (client, server), trio.open_nursery() as nursery:

                async def close_after_command() -> None:
                    await server.receive()
                    await client.aclose()

                nursery.start_soon(close_after_command)
                with pytest.raises(AgtConnectionClosed):
                    await client.avail_work()
                assert client.closed
                assert await anext(aiter(client.notifications), None) is None


class TestTypedCommands:
    #: The commands the fake server received in the last :meth:`answer_with`.
    sent: list[Message]

    @pytest.mark.parametrize(
        ("call", "keyword", "args"),
        [
            (lambda c: c.logon("agent07", "s3cret"), "AGTLogon", ("agent07", "s3cret", "PCAPI_5.2.0.0.1")),
            (lambda c: c.logon("agent07", "s3cret", None), "AGTLogon", ("agent07", "s3cret")),
            (lambda c: c.logoff(), "AGTLogoff", ()),
            (lambda c: c.reserve_headset(12), "AGTReserveHeadset", ("12",)),
            (lambda c: c.connect_headset(), "AGTConnHeadset", ()),
            (lambda c: c.disconnect_headset(), "AGTDisconnHeadset", ()),
            (lambda c: c.free_headset(), "AGTFreeHeadset", ()),
            (lambda c: c.attach_job("SALES1"), "AGTAttachJob", ("SALES1",)),
            (lambda c: c.detach_job(), "AGTDetachJob", ()),
            (lambda c: c.set_work_class("O"), "AGTSetWorkClass", ("O",)),
            (lambda c: c.set_notify_key_field("O", "ACCTNUM"), "AGTSetNotifyKeyField", ("O", "ACCTNUM")),
            (lambda c: c.set_data_field("O", "BAL"), "AGTSetDataField", ("O", "BAL")),
            (lambda c: c.clear_data_set("O"), "AGTClearDataSet", ("O",)),
            (lambda c: c.avail_work(), "AGTAvailWork", ()),
            (lambda c: c.ready_next_item(), "AGTReadyNextItem", ()),
            (lambda c: c.release_line(), "AGTReleaseLine", ()),
            (lambda c: c.release_line("CLOSING"), "AGTReleaseLine", ("CLOSING",)),
            (lambda c: c.release_line(message_number=7), "AGTReleaseLine", ("", "7")),
            (lambda c: c.finished_item(22), "AGTFinishedItem", ("22",)),
            (lambda c: c.no_further_work(), "AGTNoFurtherWork", ()),
            (lambda c: c.update_field("O", "BAL", "0.00"), "AGTUpdateField", ("O", "BAL", "0.00")),
            (lambda c: c.set_callback("2026/01/02", "13:05", 1), "AGTSetCallback", ("2026/01/02", "13:05", "1")),
            (
                lambda c: c.set_callback("2026/01/02", "00:30+", 2, recall_number="5551234"),
                "AGTSetCallback",
                ("2026/01/02", "00:30+", "2", "", "5551234"),
            ),
            (lambda c: c.managed_call(), "AGTManagedCall", ()),
            (lambda c: c.send_message("need help"), "AGTSendMessage", ("need help",)),
            (lambda c: c.set_preferred_job_list(["SALES1", "SALES2"]), "AGTSetPreferredJobList", ("SALES1", "SALES2")),
            (lambda c: c.set_preferred_job_list([]), "AGTSetPreferredJobList", ()),
        ],
    )
    async def test_sends_keyword_and_args(
        self, call: Callable[[AgtClient], Awaitable[object]], keyword: str, args: tuple[str, ...]
    ) -> None:
        """Each typed method sends its command keyword with its arguments in order."""
        with trio.fail_after(5):
            async with session() as (client, server), trio.open_nursery() as nursery:
                nursery.start_soon(server.answer, response())
                await call(client)
        (command,) = server.commands
        assert (command.keyword, command.segments) == (keyword, args)
        assert (command.type, command.client, command.process_id) == (MessageType.COMMAND, "agt_server", "0")

    async def test_preferred_jobs_reject_a_single_string(self) -> None:
        """A bare string is refused rather than sent one character per segment."""
        with trio.fail_after(5):
            async with session() as (client, _):
                with pytest.raises(TypeError):
                    await client.set_preferred_job_list("SALES1")

    async def answer_with(self, call: Callable[[AgtClient], Awaitable[Any]], *builders: Builder) -> Any:
        """Run ``call`` against a server that answers with ``builders``; its error is raised as is."""
        error: AgtClientError | None = None
        with trio.fail_after(5):
            async with session() as (client, server), trio.open_nursery() as nursery:
                nursery.start_soon(server.answer, *builders)
                try:
                    result = await call(client)
                except AgtClientError as exc:
                    error = exc
                    nursery.cancel_scope.cancel()
        if error is not None:
            raise error
        self.sent = server.commands
        return result

    async def test_list_jobs(self) -> None:
        """list_jobs parses Type,Name,Status records."""
        jobs = await self.answer_with(lambda c: c.list_jobs(), data("M00001", "O,SALES1,A", "B,BLEND2,I"), response())
        assert jobs == [JobListing("O", "SALES1", "A"), JobListing("B", "BLEND2", "I")]
        assert [job.active for job in jobs] == [True, False]

    async def test_list_jobs_empty(self) -> None:
        """A job list without records is empty."""
        assert await self.answer_with(lambda c: c.list_jobs("M"), data("M00001"), response()) == []

    async def test_list_jobs_malformed(self) -> None:
        """A job record without three fields raises AgtUnexpectedReply."""
        with pytest.raises(AgtUnexpectedReply, match="SALES1"):
            await self.answer_with(lambda c: c.list_jobs(), data("M00001", "SALES1"), response())

    async def test_list_state_without_job(self) -> None:
        """list_state parses a bare S70004 as no job."""
        state = await self.answer_with(lambda c: c.list_state(), data("S70004"), response())
        assert state == AgentStateReport("S70004", None)
        assert state.state is AgentStateCode.IDLE

    async def test_list_state_with_job(self) -> None:
        """list_state parses S70000,<job>."""
        state = await self.answer_with(lambda c: c.list_state(), data("S70000,SALES1"), response())
        assert state == AgentStateReport("S70000", "SALES1")

    async def test_list_state_without_data(self) -> None:
        """A state reply without its D message raises AgtUnexpectedReply."""
        with pytest.raises(AgtUnexpectedReply):
            await self.answer_with(lambda c: c.list_state(), response())

    async def test_list_data_fields(self) -> None:
        """list_data_fields parses Name,Length,Type,F records."""
        fields = await self.answer_with(
            lambda c: c.list_data_fields("O"), data("M00001", "ACCTNUM,16,N,F", "NAME,26,C,F"), response()
        )
        assert fields == [FieldListing("ACCTNUM", 16, "N"), FieldListing("NAME", 26, "C")]

    async def test_list_keys(self) -> None:
        """list_keys parses CompCode,Description,ScriptLabel records; the description may hold commas."""
        keys = await self.answer_with(
            lambda c: c.list_keys(),
            data("M00001", ",*Record not yet called,pf_msg_1", "22,Sale, paid by card,sale_lbl"),
            response(),
        )
        assert keys == [
            KeyListing("", "*Record not yet called", "pf_msg_1"),
            KeyListing("22", "Sale, paid by card", "sale_lbl"),
        ]

    async def test_read_field(self) -> None:
        """read_field returns the value of a Name,Type,Length,Value record, commas included."""
        value = await self.answer_with(
            lambda c: c.read_field("O", "NAME"), data("M00001", "NAME,C,26,ROE, MARY"), response()
        )
        assert value == "ROE, MARY"

    async def test_list_call_lists(self) -> None:
        """list_call_lists returns the list names."""
        lists = await self.answer_with(lambda c: c.list_call_lists(), data("M00001", "list1", "list2"), response())
        assert lists == ["list1", "list2"]

    async def test_list_callback_fmt(self) -> None:
        """list_callback_fmt parses the date format and the phone count."""
        fmt = await self.answer_with(lambda c: c.list_callback_fmt(), data("M00001", "CCYY/MM/DD", "2"), response())
        assert fmt == CallbackFormat("CCYY/MM/DD", 2)

    async def test_get_preferred_job_list(self) -> None:
        """get_preferred_job_list sends AGTGetPreferredJobList and parses job records."""
        jobs = await self.answer_with(lambda c: c.get_preferred_job_list(), data("M00001", "O,SALES1,A"), response())
        assert jobs == [JobListing("O", "SALES1", "A")]
        assert [(c.keyword, c.segments) for c in self.sent] == [("AGTGetPreferredJobList", ())]


async def accept_everything(seen: list[tuple[str, tuple[str, ...]]], stream: trio.abc.Stream) -> None:
    """A server session that greets, answers every command with success and closes after AGTLogoff."""
    server = FakeServer(stream)
    try:
        await server.send(GREETING)
        while True:
            command = await server.receive()
            seen.append((command.keyword, command.segments))
            await server.send(response()(command))
            if command.keyword == "AGTLogoff":
                await stream.aclose()
                return
    except trio.BrokenResourceError:  # a client that failed the TLS handshake
        return


class TestOverTcp:
    async def test_open_agt_client_session(self) -> None:
        """open_agt_client talks to a server on a real socket through logon, join and logoff."""
        seen: list[tuple[str, tuple[str, ...]]] = []
        handler = partial(accept_everything, seen)
        with trio.fail_after(5):
            async with trio.open_nursery() as nursery:
                listeners = await nursery.start(partial(trio.serve_tcp, handler, 0, host="127.0.0.1"))
                port = listeners[0].socket.getsockname()[1]
                async with open_agt_client("127.0.0.1", port, client_name="tester") as client:
                    await client.login_sequence("agent07", "s3cret", headset_id=203)
                    await client.join("SALES1", work_class="O")
                    await client.logoff()
                    await client.wait_closed()
                nursery.cancel_scope.cancel()
        assert seen == [
            ("AGTLogon", ("agent07", "s3cret", "PCAPI_5.2.0.0.1")),
            ("AGTReserveHeadset", ("203",)),
            ("AGTConnHeadset", ()),
            ("AGTSetWorkClass", ("O",)),
            ("AGTAttachJob", ("SALES1",)),
            ("AGTAvailWork", ()),
            ("AGTLogoff", ()),
        ]

    async def test_connection_refused(self) -> None:
        """A port nobody listens on raises AgtConnectionError."""
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        with trio.fail_after(5), pytest.raises(AgtConnectionError, match="could not connect"):
            async with open_agt_client("127.0.0.1", port):
                pytest.fail("the session must not start")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 and its key (made as the server makes its demo one)."""
    cert, key = demo_certificate(tmp_path_factory.mktemp("tls"), "127.0.0.1")
    return str(cert), str(key)


class TestOverTls:
    async def test_tls_session_and_untrusted_server(self, certificate: tuple[str, str]) -> None:
        """open_agt_client runs a session over TLS, and refuses a server whose certificate it does not trust."""
        cert, key = certificate
        server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server_context.load_cert_chain(cert, key)
        seen: list[tuple[str, tuple[str, ...]]] = []
        serve = partial(trio.serve_ssl_over_tcp, partial(accept_everything, seen), 0, server_context, host="127.0.0.1")
        with trio.fail_after(5):
            async with trio.open_nursery() as nursery:
                listeners = await nursery.start(serve)
                port = listeners[0].transport_listener.socket.getsockname()[1]
                trusting = ssl.create_default_context(cafile=cert)
                async with open_agt_client("127.0.0.1", port, ssl_context=trusting) as client:
                    await client.logon("agent07", "s3cret")
                    await client.logoff()
                with pytest.raises(AgtConnectionError, match="CERTIFICATE_VERIFY_FAILED"):
                    async with open_agt_client("127.0.0.1", port, ssl_context=ssl.create_default_context()):
                        pytest.fail("the session must not start")
                nursery.cancel_scope.cancel()
        assert [keyword for keyword, _ in seen] == ["AGTLogon", "AGTLogoff"]


class TestReply:
    def test_records_skip_status_and_message_code(self) -> None:
        """Records are the D segments after status and M-code; an S7000x state segment is itself data."""
        state = Message("AGTListState", MessageType.DATA, ("0", "S70003,SALES1"))
        jobs = Message("AGTListJobs", MessageType.DATA, ("0", "M00001", "O,SALES1,A"))
        final = Message("AGTListJobs", MessageType.RESPONSE, ("0", "M00000"))
        assert Reply("AGTListState", "1", False, (state,), final).records == ("S70003,SALES1",)
        assert Reply("AGTListJobs", "2", False, (jobs, jobs), final).records == ("O,SALES1,A", "O,SALES1,A")

    def test_error_code_and_detail(self) -> None:
        """The code is the first six characters; comma-appended text and extra segments are the detail."""
        final = Message("AGTReserveHeadset", MessageType.RESPONSE, ("1", "E28871,x", "203", "bad id"))
        reply = Reply("AGTReserveHeadset", "3", True, (), final)
        assert (reply.ok, reply.code, reply.detail) == (False, "E28871", ("x", "203", "bad id"))


class TestNotificationAssembler:
    def test_parts_until_a_final_code(self) -> None:
        """M00001 parts accumulate until a message with another code completes the notification."""
        assembler = NotificationAssembler()
        assert assembler.feed(CALL_NOTIFY[0]) is None
        assert assembler.feed(CALL_NOTIFY[1]) is None
        assert assembler.feed(CALL_NOTIFY[2]) == Notification("AGTCallNotify", CALL_NOTIFY)

    def test_continued_message_waits_for_more(self) -> None:
        """A message ended with ETB is a part even when its code is M00000."""
        assembler = NotificationAssembler()
        continued = attrs.evolve(notify("AGTJobTransLink", "0", "M00000", "NEXTJOB"), continued=True)
        assert assembler.feed(continued) is None
        done = assembler.feed(notify("AGTJobTransLink", "0", "M00000"))
        assert done is not None
        assert done.records == ("NEXTJOB",)

    def test_discard_incomplete(self) -> None:
        """Unfinished notifications are reported and forgotten."""
        assembler = NotificationAssembler()
        assembler.feed(CALL_NOTIFY[0])
        assert assembler.discard_incomplete() == ["AGTCallNotify"]
        assert assembler.feed(CALL_NOTIFY[2]) == Notification("AGTCallNotify", (CALL_NOTIFY[2],))


class TestNotificationQueue:
    async def test_iteration_ends_after_close(self) -> None:
        """Queued notifications are still delivered after close, then iteration stops."""
        queue = NotificationQueue(capacity=5)
        queue.put(Notification("AGTJobEnd", (JOB_END,)))
        queue.close()
        assert [n.keyword async for n in queue] == ["AGTJobEnd"]

    def test_receive_nowait_would_block(self) -> None:
        """receive_nowait on an empty open queue raises WouldBlock."""
        with pytest.raises(trio.WouldBlock):
            NotificationQueue().receive_nowait()


class TestInvokeIds:
    def test_counts_from_one(self) -> None:
        """Ids start at 1 and count up."""
        ids = InvokeIds()
        assert [ids.allocate(()) for _ in range(3)] == ["1", "2", "3"]

    def test_wraps_after_9999_and_skips_in_flight(self) -> None:
        """After 9999 the ids start over at 1, skipping ids still in flight."""
        ids = InvokeIds()
        for _ in range(9998):
            ids.allocate(())
        assert ids.allocate(()) == "9999"
        assert ids.allocate({"1", "2"}) == "3"

    def test_all_in_flight(self) -> None:
        """When every id is in flight, allocation fails."""
        with pytest.raises(RuntimeError):
            InvokeIds().allocate({str(i) for i in range(1, 10000)})
