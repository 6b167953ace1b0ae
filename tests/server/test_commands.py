"""Integration tests of every AGT command, through real sockets, against protocol_spec.md §8.

Policy: every test runs a server of its own on 127.0.0.1 port 0 (the ``server`` fixture, or
:func:`tests.support.running_server` for a changed configuration) and talks to it with the client library
or, where the bytes matter (message types, invoke ids, pipelining), with :class:`RawPeer`, a peer that
sends hand-built messages through the real :class:`WireCodec`.  Every I/O test runs under
``trio.fail_after``.  Replies are checked exactly: the segments of the final ``R``, whether a ``P``
came first, the ``D`` messages (each at most 256 bytes and led by ``0 M00001``), the echoed keyword and
invoke id, and the session's process id.

No call is ever delivered yet (§8.1), so states that need one (an agent on a record, a NoFurtherWork
waiting for AGTFinishedItem) are produced by setting the live session's fields in the server's engine;
the commands are still sent over the socket.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import attrs
import pytest
import trio

from agt_server.client import AgtClient
from agt_server.config import (
    CallingListConfig,
    FieldSpec,
    ProtocolOptions,
    SiteConfig,
)
from agt_server.engine import AgentState, HeadsetState, JobState, ListType, Session
from agt_server.protocol import RS, Message, MessageType, Sentinel, WireCodec, WorkClass, encode
from tests.support import HOST, RunningServer, config_for_tests, running_server

TIMEOUT = 10

#: What AGTListJobs A shows agent1 on the demo site, in order.
ALL_JOBS = (
    "O,CMP1,A",
    "O,CMP2,A",
    "O,CMP3,A",
    "O,CMP4,A",
    "I,INBOUND1,A",
    "B,BLEND1,A",
    "M,PREVIEW1,A",
)
#: The fields of every demo calling list, as AGTListCallFields and AGTListDataFields show them.
DEMO_FIELDS = (
    "ACCTNUM,16,N,F",
    "NAME,26,C,F",
    "PHONE1,10,N,F",
    "PHONE2,10,N,F",
    "BALANCE,10,$,F",
    "CITY,20,C,F",
    "DUEDATE,10,D,F",
)
#: The completion keys of every demo job, as AGTListKeys shows them.
DEMO_KEYS = (
    "20,SALE,sale",
    "21,NO SALE,no_sale",
    "22,CALL BACK,call_back",
    "23,WRONG PARTY,wrong_party",
    "24,NOT INTERESTED,not_interested",
    "93,SOLD,sold",
    "98,AGENT RECALL,agent_recall",
)
#: The largest message a real client can read (protocol_spec.md §5).
MAX_SENT = 256


# -- helpers -----------------------------------------------------------------------------------------


def _check_correlation(client: AgtClient, reply_keyword: str, messages: tuple[Message, ...], invoke_id: str) -> None:
    """Every message answering a command echoes its keyword and invoke id and carries the session's pid."""
    for message in messages:
        assert message.keyword == reply_keyword
        assert message.invoke_id == invoke_id
        assert message.process_id == client.greeting.process_id


async def ok(client: AgtClient, keyword: str, *args: str, pending: bool = False, data: bool = False) -> tuple[str, ...]:
    """Send a command that must succeed; check its reply pattern exactly and return its data records.

    ``pending``: a ``P`` must (or must not) come before the ``R``; ``data``: ``D`` messages must (or must
    not) come before it, each at most 256 bytes and led by ``0 M00001``.
    """
    reply = await client.command(keyword, *args, check=False)
    _check_correlation(client, keyword, (*reply.data, reply.response), reply.invoke_id)
    assert reply.response.type is MessageType.RESPONSE
    assert reply.response.segments == ("0", "M00000")
    assert reply.pending is pending
    if data:
        assert reply.data
        for message in reply.data:
            assert message.type is MessageType.DATA
            assert message.segments[:2] == ("0", "M00001")
            assert len(encode(message)) <= MAX_SENT
    else:
        assert reply.data == ()
    return reply.records


async def refused(client: AgtClient, keyword: str, *args: str, pending: bool | None = False) -> tuple[str, ...]:
    """Send a command that must fail; check it is answered ``R 1 …`` (after a ``P`` only when ``pending``,
    not checked when ``None``) with no data, and return the ``R``'s segments."""
    reply = await client.command(keyword, *args, check=False)
    _check_correlation(client, keyword, (*reply.data, reply.response), reply.invoke_id)
    assert reply.response.type is MessageType.RESPONSE
    assert reply.response.status == "1"
    assert reply.data == ()
    if pending is not None:
        assert reply.pending is pending
    return reply.response.segments


async def state(client: AgtClient) -> tuple[str, ...]:
    """AGTListState's one ``D`` message's segments (``0``, ``S7000x[,job]``), after checking its reply."""
    reply = await client.command("AGTListState", check=False)
    _check_correlation(client, "AGTListState", (*reply.data, reply.response), reply.invoke_id)
    assert reply.response.segments == ("0", "M00000")
    assert not reply.pending
    assert len(reply.data) == 1
    assert reply.data[0].type is MessageType.DATA
    return reply.data[0].segments


def session(server: RunningServer, agent: str = "agent1") -> Session:
    """The live engine session of a logged-on agent."""
    return server.server.driver.engine.online[agent]


async def attached(client: AgtClient, job: str = "CMP1", work_class: str | None = None) -> None:
    """Set the work class (when given) and attach ``job``."""
    if work_class is not None:
        await client.set_work_class(work_class)
    await client.attach_job(job)


async def available(client: AgtClient, job: str = "CMP1", work_class: str | None = None) -> None:
    """Attach ``job`` and become available for work on it."""
    await attached(client, job, work_class)
    await client.avail_work()


def changed_config(
    tmp_path: Path,
    jobs: dict[str, dict[str, object]] | None = None,
    agent1: dict[str, object] | None = None,
    **changes: object,
) -> SiteConfig:
    """The test configuration with some demo jobs and agent1 evolved (by name), plus site ``changes``."""
    base = config_for_tests(tmp_path)
    new_jobs = tuple(attrs.evolve(job, **(jobs or {}).get(job.name, {})) for job in base.jobs)
    new_agents = tuple(
        attrs.evolve(agent, **agent1) if agent1 and agent.name == "agent1" else agent for agent in base.agents
    )
    return attrs.evolve(base, jobs=new_jobs, agents=new_agents, **changes)


def raw_command(
    keyword: str, *segments: str, invoke_id: str = "1", type_: MessageType = MessageType.COMMAND
) -> Message:
    """A message as a client would build it."""
    return Message(keyword, type_, segments, client="raw test", process_id="0", invoke_id=invoke_id)


@attrs.define(eq=False)
class RawPeer:
    """A client that sends hand-built messages and reads the server's messages one at a time."""

    stream: trio.SocketStream
    codec: WireCodec = attrs.Factory(WireCodec)

    async def send_bytes(self, data: bytes) -> None:
        """Send raw bytes."""
        await self.stream.send_all(data)

    async def send(self, *messages: Message) -> None:
        """Send ``messages`` in one write."""
        await self.stream.send_all(b"".join(encode(message) for message in messages))

    async def receive(self) -> Message:
        """The next message from the server."""
        while True:
            item = self.codec.next_message()
            if isinstance(item, Message):
                return item
            assert item is not Sentinel.CLOSED, "the server closed the connection"
            self.codec.receive_data(await self.stream.receive_some(65536))

    async def receive_reply(self) -> list[Message]:
        """Every message up to and including the next final ``R``."""
        received = [await self.receive()]
        while received[-1].type is not MessageType.RESPONSE:
            received.append(await self.receive())
        return received

    async def exchange(self, message: Message) -> list[Message]:
        """Send ``message``; return the server's messages up to its final ``R``."""
        await self.send(message)
        return await self.receive_reply()


@asynccontextmanager
async def raw_peer(server: RunningServer) -> AsyncIterator[tuple[RawPeer, Message]]:
    """A :class:`RawPeer` connected to ``server``'s wire port, and the greeting it received."""
    assert server.ports.agent is not None
    stream = await trio.open_tcp_stream(HOST, server.ports.agent)
    async with stream:
        peer = RawPeer(stream)
        greeting = await peer.receive()
        yield peer, greeting


def layout(messages: list[Message]) -> list[tuple[str, str, str, tuple[str, ...]]]:
    """Keyword, type letter, invoke id and segments of each message."""
    return [(m.keyword, m.type.value, m.invoke_id, m.segments) for m in messages]


# -- §8.1 the gate every command passes ---------------------------------------------------------------


class TestCommandGate:
    """The checks of §8.1, in their order: message type, keyword, argument count, logon."""

    @pytest.mark.parametrize(
        "type_",
        [MessageType.DATA, MessageType.RESPONSE, MessageType.PENDING, MessageType.NOTIFICATION, MessageType.BUSY],
    )
    async def test_non_command_before_logon(self, server: RunningServer, type_: MessageType) -> None:
        """A message whose type is not C is answered R 1 E70001,message type must be C, even before logon."""
        with trio.fail_after(TIMEOUT):
            async with raw_peer(server) as (peer, _):
                replies = await peer.exchange(raw_command("AGTListState", invoke_id="5", type_=type_))
        assert layout(replies) == [("AGTListState", "R", "5", ("1", "E70001,message type must be C"))]

    async def test_non_command_after_logon(self, server: RunningServer) -> None:
        """After logon a D message with valid arguments is still refused with E70001, and the session goes on."""
        with trio.fail_after(TIMEOUT):
            async with raw_peer(server) as (peer, _):
                await peer.exchange(raw_command("AGTLogon", "agent1", "agent1", invoke_id="1"))
                replies = await peer.exchange(raw_command("AGTListJobs", "O", invoke_id="2", type_=MessageType.DATA))
                after = await peer.exchange(raw_command("AGTListState", invoke_id="3"))
        assert layout(replies) == [("AGTListJobs", "R", "2", ("1", "E70001,message type must be C"))]
        assert layout(after) == [
            ("AGTListState", "D", "3", ("0", "S70004")),
            ("AGTListState", "R", "3", ("0", "M00000")),
        ]

    @pytest.mark.parametrize("letter", [b"X", b"c", b" "])
    async def test_unknown_type_letter(self, server: RunningServer, letter: bytes) -> None:
        """A type letter that is no message type at all is answered R 1 E70001 too, and the session goes on."""
        with trio.fail_after(TIMEOUT):
            async with raw_peer(server) as (peer, _):
                wire = encode(raw_command("AGTListJobs", "A", invoke_id="6"))
                await peer.send_bytes(wire[:20] + letter + wire[21:])
                replies = await peer.receive_reply()
                after = await peer.exchange(raw_command("AGTLogon", "agent1", "agent1", invoke_id="7"))
        assert layout(replies) == [("AGTListJobs", "R", "6", ("1", "E70001,message type must be C"))]
        assert layout(after)[-1] == ("AGTLogon", "R", "7", ("0", "M00000"))

    async def test_type_checked_before_keyword(self, server: RunningServer) -> None:
        """An unknown keyword sent with type D gets E70001, not E28865: the type is checked first."""
        with trio.fail_after(TIMEOUT):
            async with raw_peer(server) as (peer, _):
                replies = await peer.exchange(raw_command("AGTFoo", invoke_id="9", type_=MessageType.DATA))
        assert layout(replies) == [("AGTFoo", "R", "9", ("1", "E70001,message type must be C"))]

    async def test_unknown_keyword_before_logon(self, server: RunningServer) -> None:
        """An unknown keyword is answered E28865 with the keyword appended, before logon too."""
        with trio.fail_after(TIMEOUT):
            async with server.client() as client:
                assert await refused(client, "AGTFoo") == ("1", "E28865,AGTFoo")

    async def test_unknown_keyword_after_logon(self, server: RunningServer) -> None:
        """An unknown keyword is answered E28865,<keyword> after logon, arguments notwithstanding."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                assert await refused(client, "AGTFoo", "a", "b") == ("1", "E28865,AGTFoo")
                assert await refused(client, "AGTSetPreferredJobs", "CMP1") == ("1", "E28865,AGTSetPreferredJobs")

    async def test_keywords_are_case_sensitive(self, server: RunningServer) -> None:
        """A known keyword in another case is an unknown keyword."""
        with trio.fail_after(TIMEOUT):
            async with server.client() as client:
                assert await refused(client, "agtlogon", "agent1", "agent1") == ("1", "E28865,agtlogon")
                assert await refused(client, "AGTLISTJOBS", "A") == ("1", "E28865,AGTLISTJOBS")

    @pytest.mark.parametrize(
        ("keyword", "args", "detail"),
        [
            ("AGTListJobs", (), "AGTListJobs takes 1 arguments"),
            ("AGTListJobs", ("A", "O"), "AGTListJobs takes 1 arguments"),
            ("AGTListState", ("x",), "AGTListState takes 0 arguments"),
            ("AGTLogoff", ("now",), "AGTLogoff takes 0 arguments"),
            ("AGTSetCallback", ("2030/01/01", "1200"), "AGTSetCallback takes 3-5 arguments"),
            ("AGTUpdateField", ("O", "NAME"), "AGTUpdateField takes 3 arguments"),
            ("AGTReleaseLine", ("a", "b", "c"), "AGTReleaseLine takes 0-2 arguments"),
        ],
    )
    async def test_wrong_argument_count(
        self, server: RunningServer, keyword: str, args: tuple[str, ...], detail: str
    ) -> None:
        """A wrong number of arguments is answered E70000,<keyword> takes <n> arguments."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                assert await refused(client, keyword, *args) == ("1", f"E70000,{detail}")

    async def test_logon_argument_count(self, server: RunningServer) -> None:
        """AGTLogon with one or four arguments is answered E70000,AGTLogon takes 2-3 arguments."""
        with trio.fail_after(TIMEOUT):
            async with server.client() as client:
                assert await refused(client, "AGTLogon", "agent1") == ("1", "E70000,AGTLogon takes 2-3 arguments")
                assert await refused(client, "AGTLogon", "agent1", "agent1", "v", "x") == (
                    "1",
                    "E70000,AGTLogon takes 2-3 arguments",
                )

    async def test_argument_count_checked_before_logon(self, server: RunningServer) -> None:
        """Before logon a wrong argument count gets E70000, not E28924."""
        with trio.fail_after(TIMEOUT):
            async with server.client() as client:
                assert await refused(client, "AGTListJobs") == ("1", "E70000,AGTListJobs takes 1 arguments")

    @pytest.mark.parametrize(
        ("keyword", "args"),
        [
            ("AGTListJobs", ("A",)),
            ("AGTListState", ()),
            ("AGTLogoff", ()),
            ("AGTAttachJob", ("CMP1",)),
            ("AGTReserveHeadset", ("1001",)),
            ("AGTSetTenant", ("Default",)),
            ("AGTListTenants", ()),
            ("AGTLogonAcd", ("1234",)),
            ("AGTDialerMode", ()),
            ("AGTAvailWork", ()),
        ],
    )
    async def test_before_logon(self, server: RunningServer, keyword: str, args: tuple[str, ...]) -> None:
        """Any command but AGTLogon before logon is answered E28924."""
        with trio.fail_after(TIMEOUT):
            async with server.client() as client:
                assert await refused(client, keyword, *args) == ("1", "E28924")

    async def test_extra_empty_trailing_arguments(self, server: RunningServer) -> None:
        """Extra empty trailing arguments are ignored before the argument count is checked."""
        with trio.fail_after(TIMEOUT):
            async with server.client() as client:
                await ok(client, "AGTLogon", "agent1", "agent1", "PCAPI_5.2.0.0.1", "", pending=True)
                assert await ok(client, "AGTListJobs", "O", "", "", data=True) == ALL_JOBS[:4]
                assert await state(client) == ("0", "S70004")
                reply = await client.command("AGTListState", "", "", check=False)
                assert reply.ok
                assert reply.records == ("S70004",)

    async def test_stray_empty_segment_with_zero_count(self, server: RunningServer) -> None:
        """A zero-argument command whose count is 0 but which carries one empty segment is accepted."""
        with trio.fail_after(TIMEOUT):
            async with raw_peer(server) as (peer, _):
                await peer.exchange(raw_command("AGTLogon", "agent1", "agent1", invoke_id="1"))
                wire = encode(raw_command("AGTListState", invoke_id="2"))
                await peer.send_bytes(wire[:-1] + RS + wire[-1:])
                replies = await peer.receive_reply()
        assert layout(replies) == [
            ("AGTListState", "D", "2", ("0", "S70004")),
            ("AGTListState", "R", "2", ("0", "M00000")),
        ]


class TestCorrelation:
    """Every reply echoes the command's keyword and invoke id and carries the session's process id (§4)."""

    async def test_greeting(self, server: RunningServer) -> None:
        """The first message is AGTSTART N 0 AGENT_STARTUP with invoke id 0 and a numeric process id."""
        with trio.fail_after(TIMEOUT):
            async with raw_peer(server) as (_, greeting):
                pass
        assert layout([greeting]) == [("AGTSTART", "N", "0", ("0", "AGENT_STARTUP"))]
        assert greeting.process_id.isdigit()
        assert len(greeting.process_id) <= 6
        assert greeting.client == "Agent server"

    async def test_invoke_ids_and_process_id_echoed(self, server: RunningServer) -> None:
        """P, D and R echo invoke ids Invo, 2222 and 7 verbatim, and all carry the greeting's process id."""
        with trio.fail_after(TIMEOUT):
            async with raw_peer(server) as (peer, greeting):
                logon = await peer.exchange(
                    raw_command("AGTLogon", "agent1", "agent1", "PCAPI_5.2.0.0.1", invoke_id="Invo")
                )
                jobs = await peer.exchange(raw_command("AGTListJobs", "A", invoke_id="2222"))
                listed = await peer.exchange(raw_command("AGTListState", invoke_id="7"))
                error = await peer.exchange(raw_command("AGTAttachJob", "NOPE", invoke_id="42"))
                unknown = await peer.exchange(raw_command("AGTFoo", invoke_id="abc"))
        assert layout(logon) == [
            ("AGTLogon", "P", "Invo", ("0", "S28833")),
            ("AGTLogon", "R", "Invo", ("0", "M00000")),
        ]
        assert layout(jobs) == [
            ("AGTListJobs", "D", "2222", ("0", "M00001", *ALL_JOBS)),
            ("AGTListJobs", "R", "2222", ("0", "M00000")),
        ]
        assert layout(listed) == [
            ("AGTListState", "D", "7", ("0", "S70004")),
            ("AGTListState", "R", "7", ("0", "M00000")),
        ]
        assert layout(error) == [("AGTAttachJob", "R", "42", ("1", "E28890,NOPE"))]
        assert layout(unknown) == [("AGTFoo", "R", "abc", ("1", "E28865,AGTFoo"))]
        for message in logon + jobs + listed + error + unknown:
            assert message.process_id == greeting.process_id
            assert message.client == "Agent server"

    async def test_same_invoke_id_every_time(self, server: RunningServer) -> None:
        """A client that sends invoke id 2222 for every command gets each reply with 2222."""
        with trio.fail_after(TIMEOUT):
            async with raw_peer(server) as (peer, greeting):
                first = await peer.exchange(raw_command("AGTLogon", "agent1", "agent1", invoke_id="2222"))
                second = await peer.exchange(raw_command("AGTAttachJob", "CMP1", invoke_id="2222"))
                third = await peer.exchange(raw_command("AGTListState", invoke_id="2222"))
        assert {message.invoke_id for message in first + second + third} == {"2222"}
        assert {message.process_id for message in first + second + third} == {greeting.process_id}
        assert layout(third)[0] == ("AGTListState", "D", "2222", ("0", "S70003,CMP1"))

    async def test_pipelined_commands(self, server: RunningServer) -> None:
        """Commands sent in one write are answered in order, each with its own invoke id."""
        with trio.fail_after(TIMEOUT):
            async with raw_peer(server) as (peer, _):
                await peer.exchange(raw_command("AGTLogon", "agent1", "agent1", invoke_id="1"))
                await peer.send(
                    raw_command("AGTAttachJob", "CMP2", invoke_id="10"),
                    raw_command("AGTListState", invoke_id="11"),
                    raw_command("AGTDetachJob", invoke_id="12"),
                )
                replies = [await peer.receive() for _ in range(4)]
        assert layout(replies) == [
            ("AGTAttachJob", "R", "10", ("0", "M00000")),
            ("AGTListState", "D", "11", ("0", "S70003,CMP2")),
            ("AGTListState", "R", "11", ("0", "M00000")),
            ("AGTDetachJob", "R", "12", ("0", "M00000")),
        ]


class TestReplyPatterns:
    """P before R only for the commands marked P; D messages of at most 256 bytes before R (§8.1)."""

    async def test_quick_commands_have_no_pending(self, server: RunningServer) -> None:
        """AttachJob, SetNotifyKeyField, SetDataField, ReadyNextItem, DetachJob, FreeHeadset, Logoff: bare R."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                await ok(client, "AGTAttachJob", "CMP1")
                await ok(client, "AGTSetNotifyKeyField", "O", "ACCTNUM")
                await ok(client, "AGTSetDataField", "O", "NAME")
                await ok(client, "AGTClearDataSet", "O")
                await ok(client, "AGTAvailWork", pending=True)
                await ok(client, "AGTReadyNextItem")
                assert await refused(client, "AGTFinishedItem", "20") == ("1", "E28919")
                await ok(client, "AGTNoFurtherWork", pending=True)
                await ok(client, "AGTDetachJob")
                await ok(client, "AGTDisconnHeadset", pending=True)
                await ok(client, "AGTFreeHeadset")
                await ok(client, "AGTLogoff")

    async def test_list_split_over_messages(self, tmp_path: Path) -> None:
        """A list longer than one message is sent as several D messages of at most 256 bytes, in order."""
        fields = tuple(FieldSpec(f"WIDE_FIELD_NUMBER_{n:02}", 10) for n in range(40))
        config = config_for_tests(tmp_path)
        config = attrs.evolve(config, calling_lists=(*config.calling_lists, CallingListConfig("wide", fields)))
        with trio.fail_after(TIMEOUT):
            async with running_server(config) as server, server.logged_on() as client:
                reply = await client.command("AGTListCallFields", "wide")
                records = await ok(client, "AGTListCallFields", "wide", data=True)
        assert len(reply.data) > 1
        assert records == tuple(f"WIDE_FIELD_NUMBER_{n:02},10,C,F" for n in range(40))

    async def test_job_list_split_over_messages(self, tmp_path: Path) -> None:
        """AGTListJobs with forty jobs sends several D messages, each at most 256 bytes, listing all of them."""
        template = config_for_tests(tmp_path).jobs[0]
        jobs = tuple(attrs.evolve(template, name=f"CAMPAIGN_NUMBER_{n:02}") for n in range(40))
        with trio.fail_after(TIMEOUT):
            async with running_server(config_for_tests(tmp_path, jobs=jobs)) as server, server.logged_on() as client:
                reply = await client.command("AGTListJobs", "A")
                records = await ok(client, "AGTListJobs", "O", data=True)
        assert len(reply.data) > 1
        assert records == tuple(f"O,CAMPAIGN_NUMBER_{n:02},A" for n in range(40))

    async def test_configured_pending_replies(self, tmp_path: Path) -> None:
        """A command named in protocol.pending_replies is answered P before its R."""
        config = config_for_tests(
            tmp_path, protocol=ProtocolOptions(pending_replies=frozenset({"AGTAttachJob", "AGTReadyNextItem"}))
        )
        with trio.fail_after(TIMEOUT):
            async with running_server(config) as server, server.logged_on() as client:
                await ok(client, "AGTAttachJob", "CMP1", pending=True)
                await ok(client, "AGTAvailWork", pending=True)
                await ok(client, "AGTReadyNextItem", pending=True)


# -- §8.2 connection commands -------------------------------------------------------------------------


class TestLogon:
    """AGTLogon: P, R; E28925, E58007, E28926, E28812."""

    async def test_with_api_version(self, server: RunningServer) -> None:
        """A three-argument logon is answered P then R, and the agent is in S70004."""
        with trio.fail_after(TIMEOUT):
            async with server.client() as client:
                await ok(client, "AGTLogon", "agent1", "agent1", "PCAPI_5.2.0.0.1", pending=True)
                assert await state(client) == ("0", "S70004")

    async def test_without_api_version(self, server: RunningServer) -> None:
        """A two-argument (PDS-era) logon is accepted."""
        with trio.fail_after(TIMEOUT):
            async with server.client() as client:
                await ok(client, "AGTLogon", "agent2", "agent2", pending=True)
                assert await state(client) == ("0", "S70004")

    async def test_any_api_version_text(self, server: RunningServer) -> None:
        """Any text is accepted as the API version."""
        with trio.fail_after(TIMEOUT):
            async with server.client() as client:
                await ok(client, "AGTLogon", "agent3", "agent3", "GOLANG_0.0.3", pending=True)

    async def test_default_tenant(self, server: RunningServer) -> None:
        """Default\\agent1 logs on as agent1 and sets the tenant (a later AGTSetTenant gets E58018)."""
        with trio.fail_after(TIMEOUT):
            async with server.client() as client:
                await ok(client, "AGTLogon", "Default\\agent1", "agent1", "PCAPI_5.2.0.0.1", pending=True)
                assert "agent1" in server.server.driver.engine.online
                assert await refused(client, "AGTSetTenant", "Default") == ("1", "E58018")

    async def test_unknown_tenant(self, server: RunningServer) -> None:
        """Other\\agent1 is refused with E58007,Other and the session stays logged off."""
        with trio.fail_after(TIMEOUT):
            async with server.client() as client:
                assert await refused(client, "AGTLogon", "Other\\agent1", "agent1", pending=None) == (
                    "1",
                    "E58007,Other",
                )
                assert await refused(client, "AGTListState") == ("1", "E28924")
                await ok(client, "AGTLogon", "agent1", "agent1", pending=True)

    async def test_wrong_password(self, server: RunningServer) -> None:
        """A wrong password is answered P then R 1 E28926, and the session stays logged off."""
        with trio.fail_after(TIMEOUT):
            async with server.client() as client:
                assert await refused(client, "AGTLogon", "agent1", "wrong", pending=True) == ("1", "E28926")
                assert await refused(client, "AGTListState") == ("1", "E28924")
                await ok(client, "AGTLogon", "agent1", "agent1", pending=True)

    async def test_unknown_agent(self, server: RunningServer) -> None:
        """An unknown agent is answered P then R 1 E28926, like a wrong password."""
        with trio.fail_after(TIMEOUT):
            async with server.client() as client:
                assert await refused(client, "AGTLogon", "nobody", "nobody", pending=True) == ("1", "E28926")

    async def test_throttled_after_failures(self, server: RunningServer) -> None:
        """After five failed logons the right password is refused with E28926 too."""
        with trio.fail_after(TIMEOUT):
            async with server.client() as client:
                for _ in range(5):
                    assert await refused(client, "AGTLogon", "agent1", "wrong", pending=True) == ("1", "E28926")
                assert await refused(client, "AGTLogon", "agent1", "agent1", pending=True) == ("1", "E28926")

    async def test_logged_on_elsewhere(self, server: RunningServer) -> None:
        """The same agent on a second connection is refused with E28812,<agent>; the first session goes on."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on("agent1") as first, server.client() as second:
                assert await refused(second, "AGTLogon", "agent1", "agent1", pending=None) == ("1", "E28812,agent1")
                assert await refused(second, "AGTListState") == ("1", "E28924")
                assert await state(first) == ("0", "S70004")
                await ok(second, "AGTLogon", "agent2", "agent2", pending=True)

    async def test_tenant_checked_before_password(self, server: RunningServer) -> None:
        """An unknown tenant with a wrong password gets E58007,<tenant>: the tenant is checked first."""
        with trio.fail_after(TIMEOUT):
            async with server.client() as client:
                assert await refused(client, "AGTLogon", "Other\\agent1", "wrong", pending=None) == (
                    "1",
                    "E58007,Other",
                )

    async def test_password_checked_before_elsewhere(self, server: RunningServer) -> None:
        """A wrong password for an agent logged on elsewhere gets E28926, not E28812."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on("agent1"), server.client() as second:
                assert await refused(second, "AGTLogon", "agent1", "wrong", pending=True) == ("1", "E28926")

    async def test_already_logged_on_in_session(self, server: RunningServer) -> None:
        """A second logon on a logged-on session, as any agent, is a bare R 1 E28925."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on("agent1") as client:
                assert await refused(client, "AGTLogon", "agent1", "agent1") == ("1", "E28925")
                assert await refused(client, "AGTLogon", "agent2", "agent2", "PCAPI_5.2.0.0.1") == ("1", "E28925")
                assert "agent2" not in server.server.driver.engine.online


class TestLogoff:
    """AGTLogoff: R then the connection closes; E28916."""

    async def test_closes_connection(self, server: RunningServer) -> None:
        """AGTLogoff is answered R (no P), the server closes the connection, and the agent can log on again at once."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on("agent1", headset=False) as client:
                await ok(client, "AGTLogoff")
                await client.wait_closed()
                assert client.closed
            assert "agent1" not in server.server.driver.engine.online
            async with server.client() as again:
                await ok(again, "AGTLogon", "agent1", "agent1", pending=True)

    async def test_with_headset_connected(self, server: RunningServer) -> None:
        """AGTLogoff with a headset still connected succeeds, and the headset is free for another agent."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on("agent1", headset=False) as client:
                await client.reserve_headset("777")
                await client.connect_headset()
                await ok(client, "AGTLogoff")
                await client.wait_closed()
            async with server.logged_on("agent2", headset=False) as other:
                await ok(other, "AGTReserveHeadset", "777", pending=True)

    async def test_job_attached(self, server: RunningServer) -> None:
        """AGTLogoff with a job attached is refused with E28916 and the session stays open."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                await client.attach_job("CMP1")
                assert await refused(client, "AGTLogoff") == ("1", "E28916")
                assert not client.closed
                assert await state(client) == ("0", "S70003,CMP1")


class TestHeadset:
    """AGTReserveHeadset, AGTConnHeadset, AGTDisconnHeadset, AGTFreeHeadset and their sequence errors."""

    async def test_full_sequence(self, server: RunningServer) -> None:
        """Reserve (P R), connect (P R), disconnect (P R), free (R), then reserve again."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on(headset=False) as client:
                await ok(client, "AGTReserveHeadset", "1001", pending=True)
                await ok(client, "AGTConnHeadset", pending=True)
                await ok(client, "AGTDisconnHeadset", pending=True)
                await ok(client, "AGTFreeHeadset")
                await ok(client, "AGTReserveHeadset", "12345678901234", pending=True)

    async def test_free_reserved_headset(self, server: RunningServer) -> None:
        """A reserved, never connected headset can be freed."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on(headset=False) as client:
                await ok(client, "AGTReserveHeadset", "1001", pending=True)
                await ok(client, "AGTFreeHeadset")

    @pytest.mark.parametrize("headset_id", ["abc", "123456789012345", "12a4", "-1", ""])
    async def test_invalid_id(self, server: RunningServer, headset_id: str) -> None:
        """A headset id that is not 1-14 digits gets E28871 followed by the id and the reason."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on(headset=False) as client:
                assert await refused(client, "AGTReserveHeadset", headset_id) == (
                    "1",
                    "E28871",
                    headset_id,
                    "headset id must be 1-14 digits",
                )

    async def test_already_reserved(self, server: RunningServer) -> None:
        """Reserving a second headset gets E28923 followed by the id already reserved."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on(headset=False) as client:
                await ok(client, "AGTReserveHeadset", "1001", pending=True)
                assert await refused(client, "AGTReserveHeadset", "2002") == ("1", "E28923", "1001")

    async def test_error_order(self, server: RunningServer) -> None:
        """An invalid id is reported before an existing reservation, and that before another agent's use."""
        with trio.fail_after(TIMEOUT):
            async with (
                server.logged_on("agent1", headset=False) as first,
                server.logged_on("agent2", headset=False) as second,
            ):
                await ok(first, "AGTReserveHeadset", "555", pending=True)
                await ok(second, "AGTReserveHeadset", "556", pending=True)
                assert (await refused(second, "AGTReserveHeadset", "x"))[:2] == ("1", "E28871")
                assert await refused(second, "AGTReserveHeadset", "555") == ("1", "E28923", "556")

    async def test_in_use_by_another_agent(self, server: RunningServer) -> None:
        """A headset another agent has reserved gets E50611 followed by its id."""
        with trio.fail_after(TIMEOUT):
            async with (
                server.logged_on("agent1", headset=False) as first,
                server.logged_on("agent2", headset=False) as second,
            ):
                await ok(first, "AGTReserveHeadset", "555", pending=True)
                assert await refused(second, "AGTReserveHeadset", "555") == ("1", "E50611", "555")
                await ok(second, "AGTReserveHeadset", "556", pending=True)

    async def test_free_again_after_free_logoff_or_drop(self, server: RunningServer) -> None:
        """A headset is free again once its holder frees it, logs off, or loses its connection."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on("agent2", headset=False) as taker:
                async with server.logged_on("agent1", headset=False) as holder:
                    await ok(holder, "AGTReserveHeadset", "555", pending=True)
                    await ok(holder, "AGTFreeHeadset")
                    await ok(taker, "AGTReserveHeadset", "555", pending=True)
                    await ok(taker, "AGTFreeHeadset")
                    await ok(holder, "AGTReserveHeadset", "555", pending=True)
                    await ok(holder, "AGTLogoff")
                await ok(taker, "AGTReserveHeadset", "555", pending=True)
                await ok(taker, "AGTFreeHeadset")
                async with server.logged_on("agent3", headset=False) as dropped:
                    await ok(dropped, "AGTReserveHeadset", "555", pending=True)
                    assert await refused(taker, "AGTReserveHeadset", "555") == ("1", "E50611", "555")
                # The connection closed without a logoff: the server logs the agent off and frees its headset.
                for _ in range(100):
                    if "555" not in server.server.driver.engine.headsets:
                        break
                    await trio.sleep(0.01)
                await ok(taker, "AGTReserveHeadset", "555", pending=True)

    @pytest.mark.parametrize("keyword", ["AGTConnHeadset", "AGTDisconnHeadset", "AGTFreeHeadset"])
    async def test_none_reserved(self, server: RunningServer, keyword: str) -> None:
        """Connecting, disconnecting or freeing without a reserved headset gets E28873."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on(headset=False) as client:
                assert await refused(client, keyword) == ("1", "E28873")

    async def test_already_connected(self, server: RunningServer) -> None:
        """Connecting a connected headset gets E28872."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                assert await refused(client, "AGTConnHeadset") == ("1", "E28872")

    async def test_disconnect_not_connected(self, server: RunningServer) -> None:
        """Disconnecting a reserved but unconnected headset, or one already disconnected, gets E28876."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on(headset=False) as client:
                await ok(client, "AGTReserveHeadset", "1001", pending=True)
                assert await refused(client, "AGTDisconnHeadset") == ("1", "E28876")
                await ok(client, "AGTConnHeadset", pending=True)
                await ok(client, "AGTDisconnHeadset", pending=True)
                assert await refused(client, "AGTDisconnHeadset") == ("1", "E28876")

    async def test_disconnect_while_available(self, server: RunningServer) -> None:
        """Disconnecting while available for work gets E28900 with the reason as a further segment."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                await available(client)
                assert await refused(client, "AGTDisconnHeadset") == (
                    "1",
                    "E28900",
                    "still available for work: send AGTNoFurtherWork first",
                )
                await client.ready_next_item()
                assert (await refused(client, "AGTDisconnHeadset"))[:2] == ("1", "E28900")

    async def test_free_while_connected(self, server: RunningServer) -> None:
        """Freeing a connected headset gets E28879."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                assert await refused(client, "AGTFreeHeadset") == ("1", "E28879")

    async def test_reconnect_after_disconnect(self, server: RunningServer) -> None:
        """A disconnected (still reserved) headset can be connected again."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                await ok(client, "AGTDisconnHeadset", pending=True)
                await ok(client, "AGTConnHeadset", pending=True)


class TestAcd:
    """AGTLogonAcd and AGTLogoffAcd: E70011, the simulation has no ACD."""

    @pytest.mark.parametrize(
        ("keyword", "args"), [("AGTLogonAcd", ("1234",)), ("AGTLogonAcd", ("1234", "1")), ("AGTLogoffAcd", ())]
    )
    async def test_not_available(self, server: RunningServer, keyword: str, args: tuple[str, ...]) -> None:
        """ACD logon and logoff are a bare R 1 E70011."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                assert await refused(client, keyword, *args) == ("1", "E70011")


# -- §8.3 system commands -----------------------------------------------------------------------------


class TestListJobs:
    """AGTListJobs: D <type>,<job>,<status> per record, R; E70003."""

    @pytest.mark.parametrize(
        ("job_type", "expected"),
        [
            ("A", ALL_JOBS),
            ("O", ALL_JOBS[:4]),
            ("I", ("I,INBOUND1,A",)),
            ("B", ("B,BLEND1,A",)),
            ("M", ("M,PREVIEW1,A",)),
        ],
    )
    async def test_by_type(self, server: RunningServer, job_type: str, expected: tuple[str, ...]) -> None:
        """Each job type lists exactly the jobs of that type (A all), in configuration order."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on(headset=False) as client:
                assert await ok(client, "AGTListJobs", job_type, data=True) == expected

    @pytest.mark.parametrize("job_type", ["X", "o", "OI", "U"])
    async def test_unknown_type(self, server: RunningServer, job_type: str) -> None:
        """An unknown job type is answered E70003,<type>."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on(headset=False) as client:
                assert await refused(client, "AGTListJobs", job_type) == ("1", f"E70003,{job_type}")

    @pytest.mark.parametrize("job_state", [JobState.PAUSED, JobState.STOPPED, JobState.INACTIVE, JobState.COMPLETED])
    async def test_status_of_job_not_running(self, server: RunningServer, job_state: JobState) -> None:
        """A job that is not running is listed with status I."""
        server.server.driver.engine.set_job_state("CMP2", job_state)
        with trio.fail_after(TIMEOUT):
            async with server.logged_on(headset=False) as client:
                assert await ok(client, "AGTListJobs", "O", data=True) == (
                    "O,CMP1,A",
                    "O,CMP2,I",
                    "O,CMP3,A",
                    "O,CMP4,A",
                )

    async def test_only_applicable_jobs(self, tmp_path: Path) -> None:
        """Jobs the agent's work classes or skills do not fit are not listed."""
        config = changed_config(
            tmp_path,
            jobs={"CMP4": {"required_skills": frozenset({"french"})}},
            agent1={"work_classes": frozenset({WorkClass.OUTBOUND})},
        )
        with trio.fail_after(TIMEOUT):
            async with running_server(config) as server, server.logged_on(headset=False) as client:
                assert await ok(client, "AGTListJobs", "A", data=True) == (
                    "O,CMP1,A",
                    "O,CMP2,A",
                    "O,CMP3,A",
                    "B,BLEND1,A",
                )
                assert await ok(client, "AGTListJobs", "I", data=True) == ()


class TestAttachJob:
    """AGTAttachJob: R, state S70003; E28889, E28890, E28804."""

    async def test_attach(self, server: RunningServer) -> None:
        """Attaching a running job is answered R and puts the agent in S70003,<job>."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                await ok(client, "AGTAttachJob", "CMP3")
                assert await state(client) == ("0", "S70003,CMP3")

    async def test_attach_without_headset(self, server: RunningServer) -> None:
        """A job can be attached before any headset is reserved."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on(headset=False) as client:
                await ok(client, "AGTAttachJob", "INBOUND1")
                assert await state(client) == ("0", "S70003,INBOUND1")

    async def test_already_attached(self, server: RunningServer) -> None:
        """Attaching while attached gets E28889, whatever job is named."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                await client.attach_job("CMP1")
                assert await refused(client, "AGTAttachJob", "CMP2") == ("1", "E28889")
                assert await refused(client, "AGTAttachJob", "NOPE") == ("1", "E28889")
                assert await state(client) == ("0", "S70003,CMP1")

    @pytest.mark.parametrize("job", ["NOPE", "cmp1", "CMP"])
    async def test_unknown_job(self, server: RunningServer, job: str) -> None:
        """An unknown job (names are case-sensitive) gets E28890,<job>."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                assert await refused(client, "AGTAttachJob", job) == ("1", f"E28890,{job}")
                assert await state(client) == ("0", "S70004")

    async def test_job_not_applicable(self, tmp_path: Path) -> None:
        """A job the agent may not work gets E28890,<job>."""
        config = changed_config(tmp_path, agent1={"work_classes": frozenset({WorkClass.OUTBOUND})})
        with trio.fail_after(TIMEOUT):
            async with running_server(config) as server, server.logged_on() as client:
                assert await refused(client, "AGTAttachJob", "INBOUND1") == ("1", "E28890,INBOUND1")
                assert await refused(client, "AGTAttachJob", "PREVIEW1") == ("1", "E28890,PREVIEW1")
                await ok(client, "AGTAttachJob", "BLEND1")

    @pytest.mark.parametrize("job_state", [JobState.PAUSED, JobState.STOPPED, JobState.INACTIVE, JobState.COMPLETED])
    async def test_job_not_running(self, server: RunningServer, job_state: JobState) -> None:
        """A job that is not running gets E28804,<job>."""
        server.server.driver.engine.set_job_state("CMP1", job_state)
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                assert await refused(client, "AGTAttachJob", "CMP1") == ("1", "E28804,CMP1")
                assert await state(client) == ("0", "S70004")


class TestDetachJob:
    """AGTDetachJob: R, state S70004, job settings cleared; E28913, E28915, E28914."""

    async def test_detach(self, server: RunningServer) -> None:
        """Detaching is answered R, puts the agent in S70004 and clears the key and data fields."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                await client.attach_job("BLEND1")
                await client.set_notify_key_field("O", "ACCTNUM")
                await client.set_data_field("I", "NAME")
                await ok(client, "AGTDetachJob")
                assert await state(client) == ("0", "S70004")
                assert session(server).key_fields == {}
                assert session(server).data_fields == {}
                await ok(client, "AGTAttachJob", "CMP1")

    async def test_after_no_further_work(self, server: RunningServer) -> None:
        """After AGTNoFurtherWork the job can be detached."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                await available(client)
                await client.no_further_work()
                await ok(client, "AGTDetachJob")
                assert await state(client) == ("0", "S70004")

    async def test_nothing_attached(self, server: RunningServer) -> None:
        """Detaching with no job gets E28913."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                assert await refused(client, "AGTDetachJob") == ("1", "E28913")

    async def test_still_available(self, server: RunningServer) -> None:
        """Detaching while available or ready for work gets E28914."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                await available(client)
                assert await refused(client, "AGTDetachJob") == ("1", "E28914")
                await client.ready_next_item()
                assert await refused(client, "AGTDetachJob") == ("1", "E28914")
                assert await state(client) == ("0", "S70001,CMP1")

    async def test_no_further_work_pending(self, server: RunningServer) -> None:
        """Detaching while an AGTNoFurtherWork waits for the record to be finished gets E28915.

        No record can be delivered yet, so the agent is put on one in the engine.
        """
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                await available(client)
                session(server).state = AgentState.ON_RECORD
                session(server).no_further_work_invoke = "99"
                assert await refused(client, "AGTDetachJob") == ("1", "E28915")


class TestSetWorkClass:
    """AGTSetWorkClass: R; E28883, E28882."""

    @pytest.mark.parametrize("work_class", ["O", "I", "B", "P", "M"])
    async def test_each_class(self, server: RunningServer, work_class: str) -> None:
        """Every work class letter is accepted with a bare R."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                await ok(client, "AGTSetWorkClass", work_class)
                assert session(server).work_class is WorkClass(work_class)

    async def test_first_letter_counts(self, server: RunningServer) -> None:
        """MANAGED sets class M and OUTBOUND sets class O, as the class's fit with a job shows."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                await ok(client, "AGTSetWorkClass", "MANAGED")
                await client.attach_job("CMP1")
                assert await refused(client, "AGTAvailWork") == ("1", "E28814")
                await ok(client, "AGTSetWorkClass", "OUTBOUND")
                await ok(client, "AGTAvailWork", pending=True)

    async def test_carries_over_jobs(self, server: RunningServer) -> None:
        """The work class set before attaching stays in force on the next job."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                await ok(client, "AGTSetWorkClass", "I")
                await client.attach_job("CMP1")
                await client.detach_job()
                await client.attach_job("INBOUND1")
                await ok(client, "AGTAvailWork", pending=True)

    @pytest.mark.parametrize("work_class", ["X", "o", "m", "1", "Z"])
    async def test_invalid(self, server: RunningServer, work_class: str) -> None:
        """A class whose first letter is not O, I, B, P or M (case-sensitive) gets E28883,<class>."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                assert await refused(client, "AGTSetWorkClass", work_class) == ("1", f"E28883,{work_class}")

    async def test_not_allowed_for_agent(self, tmp_path: Path) -> None:
        """A class the agent is not configured for gets E28883 naming the class and agent."""
        config = changed_config(tmp_path, agent1={"work_classes": frozenset({WorkClass.OUTBOUND})})
        with trio.fail_after(TIMEOUT):
            async with running_server(config) as server, server.logged_on() as client:
                assert await refused(client, "AGTSetWorkClass", "I") == ("1", "E28883,I is not allowed for agent1")
                await ok(client, "AGTSetWorkClass", "O")

    async def test_while_available(self, server: RunningServer) -> None:
        """Changing the class while available or ready for work gets E28882."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                await available(client)
                assert await refused(client, "AGTSetWorkClass", "O") == ("1", "E28882")
                await client.ready_next_item()
                assert await refused(client, "AGTSetWorkClass", "P") == ("1", "E28882")


class TestListState:
    """AGTListState: D 0 S7000x[,job], R in every state."""

    async def test_each_state(self, server: RunningServer) -> None:
        """The state goes S70004, S70003,CMP1, S70002,CMP1, S70001,CMP1 and back to S70003,CMP1 and S70004."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                assert await state(client) == ("0", "S70004")
                await client.attach_job("CMP1")
                assert await state(client) == ("0", "S70003,CMP1")
                await client.avail_work()
                assert await state(client) == ("0", "S70002,CMP1")
                await client.ready_next_item()
                assert await state(client) == ("0", "S70001,CMP1")
                await client.no_further_work()
                assert await state(client) == ("0", "S70003,CMP1")
                await client.detach_job()
                assert await state(client) == ("0", "S70004")

    async def test_on_record(self, server: RunningServer) -> None:
        """An agent on a record is reported S70000,<job> (the state is set in the engine: no calls yet)."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                await available(client, "BLEND1")
                session(server).state = AgentState.ON_RECORD
                assert await state(client) == ("0", "S70000,BLEND1")


class TestCallLists:
    """AGTListCallLists and AGTListCallFields: D, R; E00518."""

    async def test_list_call_lists(self, server: RunningServer) -> None:
        """Every configured calling list is listed, one per record, without a job attached."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on(headset=False) as client:
                assert await ok(client, "AGTListCallLists", data=True) == (
                    "cmp1_list",
                    "cmp2_list",
                    "cmp3_list",
                    "cmp4_list",
                    "blend1_list",
                    "preview1_list",
                    "inbound_calls",
                )

    @pytest.mark.parametrize("list_name", ["cmp1_list", "inbound_calls", "preview1_list"])
    async def test_list_call_fields(self, server: RunningServer, list_name: str) -> None:
        """A list's fields are listed as <field>,<length>,<type>,F."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on(headset=False) as client:
                assert await ok(client, "AGTListCallFields", list_name, data=True) == DEMO_FIELDS

    @pytest.mark.parametrize("list_name", ["nosuch", "CMP1_LIST", "CMP1"])
    async def test_unknown_list(self, server: RunningServer, list_name: str) -> None:
        """An unknown list gets E00518,agent,<list>."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on(headset=False) as client:
                assert await refused(client, "AGTListCallFields", list_name) == ("1", f"E00518,agent,{list_name}")


class TestListKeys:
    """AGTListKeys: D <code>,<description>,<label>, R; E28885."""

    @pytest.mark.parametrize("job", ["CMP1", "INBOUND1", "PREVIEW1"])
    async def test_keys(self, server: RunningServer, job: str) -> None:
        """The attached job's completion keys are listed in order."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                await client.attach_job(job)
                assert await ok(client, "AGTListKeys", data=True) == DEMO_KEYS

    async def test_not_attached(self, server: RunningServer) -> None:
        """Without a job AGTListKeys gets E28885."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                assert await refused(client, "AGTListKeys") == ("1", "E28885")


class TestScreens:
    """AGTListScreens (D, R; E28885, E28891) and AGTGetScreen (E28885, E28900)."""

    @pytest.mark.parametrize("list_type", ["I", "O"])
    async def test_list_screens(self, server: RunningServer, list_type: str) -> None:
        """No screens are configured: one D 0 M00001 without records, then R."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                await client.attach_job("BLEND1")
                assert await ok(client, "AGTListScreens", list_type, data=True) == ()

    async def test_list_screens_not_attached(self, server: RunningServer) -> None:
        """AGTListScreens without a job gets E28885."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                assert await refused(client, "AGTListScreens", "O") == ("1", "E28885")

    async def test_list_screens_bad_list_type(self, server: RunningServer) -> None:
        """AGTListScreens with a list type other than I or O gets E28891."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                await client.attach_job("CMP1")
                assert await refused(client, "AGTListScreens", "X") == ("1", "E28891")

    async def test_get_screen(self, server: RunningServer) -> None:
        """AGTGetScreen gets E28900 followed by the reason naming the screen."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                await client.attach_job("CMP1")
                assert await refused(client, "AGTGetScreen", "MAIN") == ("1", "E28900", "no agent screen named MAIN")

    async def test_get_screen_not_attached(self, server: RunningServer) -> None:
        """AGTGetScreen without a job gets E28885."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                assert await refused(client, "AGTGetScreen", "MAIN") == ("1", "E28885")


class TestSystemMisc:
    """AGTSendMessage, AGTSetPassword, AGTDumpData, AGTEcho*, AGTLogIo*, tenants and AGTDialerMode."""

    async def test_send_message(self, server: RunningServer) -> None:
        """AGTSendMessage is answered with a bare R, with or without a job."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                await ok(client, "AGTSendMessage", "Going on break in 5 minutes")
                await client.attach_job("CMP1")
                await ok(client, "AGTSendMessage", "")

    async def test_set_password(self, server: RunningServer) -> None:
        """AGTSetPassword is refused with E70013 and the old password still works."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                assert await refused(client, "AGTSetPassword", "agent1", "agent1", "n3wpass!") == ("1", "E70013")
            async with server.client() as again:
                await ok(again, "AGTLogon", "agent1", "agent1", pending=True)

    @pytest.mark.parametrize(
        ("keyword", "args"),
        [
            ("AGTDumpData", ("dumpfile",)),
            ("AGTEchoOn", ()),
            ("AGTEchoOff", ()),
            ("AGTLogIoStart", ()),
            ("AGTLogIoStop", ()),
        ],
    )
    async def test_acknowledged(self, server: RunningServer, keyword: str, args: tuple[str, ...]) -> None:
        """DumpData, EchoOn, EchoOff, LogIoStart and LogIoStop are answered with a bare R."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                await ok(client, keyword, *args)

    async def test_log_io_switches(self, server: RunningServer) -> None:
        """AGTLogIoStart turns the session's transaction log on and AGTLogIoStop off."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                await ok(client, "AGTLogIoStart")
                assert session(server).logging_io
                await ok(client, "AGTLogIoStop")
                assert not session(server).logging_io

    async def test_list_tenants(self, server: RunningServer) -> None:
        """AGTListTenants lists Default."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                assert await ok(client, "AGTListTenants", data=True) == ("Default",)

    async def test_set_tenant(self, server: RunningServer) -> None:
        """AGTSetTenant Default is answered P then R; a second one gets E58018."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                await ok(client, "AGTSetTenant", "Default", pending=True)
                assert session(server).tenant == "Default"
                assert await refused(client, "AGTSetTenant", "Default") == ("1", "E58018")

    @pytest.mark.parametrize("tenant", ["Other", "default", ""])
    async def test_set_unknown_tenant(self, server: RunningServer, tenant: str) -> None:
        """An unknown tenant (names are case-sensitive) is a bare R 1 E58007,<tenant>; Default still works after."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                expected = f"E58007,{tenant}" if tenant else "E58007"
                assert await refused(client, "AGTSetTenant", tenant) == ("1", expected)
                await ok(client, "AGTSetTenant", "Default", pending=True)

    async def test_set_tenant_error_order(self, server: RunningServer) -> None:
        """Once a tenant is set, even an unknown tenant gets E58018."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                await ok(client, "AGTSetTenant", "Default", pending=True)
                assert await refused(client, "AGTSetTenant", "Other") == ("1", "E58018")

    async def test_dialer_mode(self, server: RunningServer) -> None:
        """AGTDialerMode answers D DIGITAL, then R."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on(headset=False) as client:
                assert await ok(client, "AGTDialerMode", data=True) == ("DIGITAL",)


# -- §8.4 job set-up commands -------------------------------------------------------------------------


class TestDataFields:
    """AGTListDataFields, AGTSetNotifyKeyField, AGTSetDataField, AGTClearDataSet: E28885, E28891-E28894."""

    @pytest.mark.parametrize(
        ("job", "list_type"),
        [("CMP1", "O"), ("INBOUND1", "I"), ("BLEND1", "I"), ("BLEND1", "O"), ("PREVIEW1", "O")],
    )
    async def test_list_data_fields(self, server: RunningServer, job: str, list_type: str) -> None:
        """The attached job's list of the given type has its fields listed."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                await client.attach_job(job)
                assert await ok(client, "AGTListDataFields", list_type, data=True) == DEMO_FIELDS

    @pytest.mark.parametrize(
        ("keyword", "args"),
        [
            ("AGTListDataFields", ("O",)),
            ("AGTSetNotifyKeyField", ("O", "ACCTNUM")),
            ("AGTSetDataField", ("O", "NAME")),
            ("AGTClearDataSet", ("O",)),
        ],
    )
    async def test_not_attached(self, server: RunningServer, keyword: str, args: tuple[str, ...]) -> None:
        """Without a job each of these commands gets E28885."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                assert await refused(client, keyword, *args) == ("1", "E28885")

    @pytest.mark.parametrize(
        ("keyword", "args"),
        [
            ("AGTListDataFields", ("X",)),
            ("AGTListDataFields", ("o",)),
            ("AGTSetNotifyKeyField", ("X", "NOPE")),
            ("AGTSetDataField", ("B", "NAME")),
            ("AGTClearDataSet", ("",)),
        ],
    )
    async def test_bad_list_type(self, server: RunningServer, keyword: str, args: tuple[str, ...]) -> None:
        """A list type other than I or O gets E28891 (before the field is looked at)."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                await client.attach_job("BLEND1")
                assert await refused(client, keyword, *args) == ("1", "E28891")

    @pytest.mark.parametrize(
        ("keyword", "args"),
        [
            ("AGTListDataFields", ("I",)),
            ("AGTSetNotifyKeyField", ("I", "ACCTNUM")),
            ("AGTSetDataField", ("I", "NAME")),
            ("AGTClearDataSet", ("I",)),
        ],
    )
    async def test_no_inbound_list(self, server: RunningServer, keyword: str, args: tuple[str, ...]) -> None:
        """Asking for the inbound list of an outbound job (CMP1) gets E28892."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                await client.attach_job("CMP1")
                assert await refused(client, keyword, *args) == ("1", "E28892")

    @pytest.mark.parametrize(
        ("keyword", "args"),
        [
            ("AGTListDataFields", ("O",)),
            ("AGTSetNotifyKeyField", ("O", "ACCTNUM")),
            ("AGTSetDataField", ("O", "NAME")),
            ("AGTClearDataSet", ("O",)),
        ],
    )
    async def test_no_outbound_list(self, server: RunningServer, keyword: str, args: tuple[str, ...]) -> None:
        """Asking for the outbound list of an inbound job (INBOUND1) gets E28893."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                await client.attach_job("INBOUND1")
                assert await refused(client, keyword, *args) == ("1", "E28893")

    @pytest.mark.parametrize("keyword", ["AGTSetNotifyKeyField", "AGTSetDataField"])
    @pytest.mark.parametrize("field", ["NOPE", "acctnum", "ACCTNUM "])
    async def test_unknown_field(self, server: RunningServer, keyword: str, field: str) -> None:
        """A field the list does not have (names are case-sensitive) gets E28894,<field>."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                await client.attach_job("CMP1")
                assert await refused(client, keyword, "O", field) == ("1", f"E28894,{field}")

    async def test_key_field_replaced(self, server: RunningServer) -> None:
        """Each AGTSetNotifyKeyField replaces the key field of its list type."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                await client.attach_job("BLEND1")
                await ok(client, "AGTSetNotifyKeyField", "O", "ACCTNUM")
                await ok(client, "AGTSetNotifyKeyField", "O", "NAME")
                await ok(client, "AGTSetNotifyKeyField", "I", "PHONE1")
                assert session(server).key_fields == {ListType.OUTBOUND: "NAME", ListType.INBOUND: "PHONE1"}

    async def test_data_fields_appended_and_cleared(self, server: RunningServer) -> None:
        """AGTSetDataField appends in call order; AGTClearDataSet forgets one list type's fields only."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                await client.attach_job("BLEND1")
                await ok(client, "AGTSetDataField", "O", "NAME")
                await ok(client, "AGTSetDataField", "O", "BALANCE")
                await ok(client, "AGTSetDataField", "I", "CITY")
                assert session(server).data_fields == {
                    ListType.OUTBOUND: ["NAME", "BALANCE"],
                    ListType.INBOUND: ["CITY"],
                }
                await ok(client, "AGTClearDataSet", "O")
                assert session(server).data_fields == {ListType.INBOUND: ["CITY"]}
                await ok(client, "AGTClearDataSet", "O")

    async def test_set_up_while_available(self, server: RunningServer) -> None:
        """The field commands still work once the agent is available for work."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                await available(client)
                await ok(client, "AGTSetNotifyKeyField", "O", "ACCTNUM")
                await ok(client, "AGTSetDataField", "O", "NAME")
                await ok(client, "AGTClearDataSet", "O")


def _unit_config(tmp_path: Path, units: tuple[str, ...] = ("U1", "U2", "U3")) -> SiteConfig:
    """The demo site with CMP1 a unit-work-list job of ``units``."""
    return changed_config(tmp_path, jobs={"CMP1": {"units": units}})


class TestUnits:
    """AGTListUnits and AGTSetUnit: E28886, E28887, E29959, E28888; AGTAvailWork's E70006."""

    @pytest.mark.parametrize(("keyword", "args"), [("AGTListUnits", ()), ("AGTSetUnit", ("U1",))])
    async def test_not_a_unit_job(self, server: RunningServer, keyword: str, args: tuple[str, ...]) -> None:
        """On a job without units (every demo job) both commands get E28886."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                await client.attach_job("CMP1")
                assert await refused(client, keyword, *args) == ("1", "E28886")

    @pytest.mark.parametrize(("keyword", "args"), [("AGTListUnits", ()), ("AGTSetUnit", ("U1",))])
    async def test_not_attached(self, tmp_path: Path, keyword: str, args: tuple[str, ...]) -> None:
        """Without a job both commands get E28885."""
        with trio.fail_after(TIMEOUT):
            async with running_server(_unit_config(tmp_path)) as server, server.logged_on() as client:
                assert await refused(client, keyword, *args) == ("1", "E28885")

    async def test_list_units(self, tmp_path: Path) -> None:
        """The units are listed comma-separated in one record."""
        with trio.fail_after(TIMEOUT):
            async with running_server(_unit_config(tmp_path)) as server, server.logged_on() as client:
                await client.attach_job("CMP1")
                assert await ok(client, "AGTListUnits", data=True) == ("U1,U2,U3",)

    async def test_set_unit_and_work(self, tmp_path: Path) -> None:
        """One unit, or several joined by |, can be selected; then AGTAvailWork succeeds."""
        with trio.fail_after(TIMEOUT):
            async with running_server(_unit_config(tmp_path)) as server, server.logged_on() as client:
                await client.attach_job("CMP1")
                await ok(client, "AGTSetUnit", "U2")
                assert session(server).units == ("U2",)
                await ok(client, "AGTSetUnit", "U1|U3")
                assert session(server).units == ("U1", "U3")
                await ok(client, "AGTAvailWork", pending=True)

    async def test_detach_clears_units(self, tmp_path: Path) -> None:
        """AGTDetachJob forgets the units selected, so the next AGTAvailWork gets E70006."""
        with trio.fail_after(TIMEOUT):
            async with running_server(_unit_config(tmp_path)) as server, server.logged_on() as client:
                await client.attach_job("CMP1")
                await ok(client, "AGTSetUnit", "U1")
                await ok(client, "AGTDetachJob")
                assert session(server).units == ()
                await client.attach_job("CMP1")
                assert await refused(client, "AGTAvailWork") == ("1", "E70006")

    @pytest.mark.parametrize(
        ("requested", "detail"), [("U9", "U9"), ("U1|U9", "U9"), ("u1", "u1"), ("|", "|"), ("", "")]
    )
    async def test_unknown_unit(self, tmp_path: Path, requested: str, detail: str) -> None:
        """A unit the job does not have gets E28888,<unit>."""
        with trio.fail_after(TIMEOUT):
            async with running_server(_unit_config(tmp_path)) as server, server.logged_on() as client:
                await client.attach_job("CMP1")
                expected = f"E28888,{detail}" if detail else "E28888"
                assert await refused(client, "AGTSetUnit", requested) == ("1", expected)

    async def test_too_many_units(self, tmp_path: Path) -> None:
        """More units than the job has gets E29959."""
        with trio.fail_after(TIMEOUT):
            async with running_server(_unit_config(tmp_path)) as server, server.logged_on() as client:
                await client.attach_job("CMP1")
                assert await refused(client, "AGTSetUnit", "U1|U2|U3|U1") == ("1", "E29959")

    async def test_already_available(self, tmp_path: Path) -> None:
        """Changing units while available for work gets E28887."""
        with trio.fail_after(TIMEOUT):
            async with running_server(_unit_config(tmp_path)) as server, server.logged_on() as client:
                await client.attach_job("CMP1")
                await client.command("AGTSetUnit", "U1")
                await client.avail_work()
                assert await refused(client, "AGTSetUnit", "U2") == ("1", "E28887")

    async def test_avail_without_unit(self, tmp_path: Path) -> None:
        """AGTAvailWork on a unit job before AGTSetUnit gets E70006."""
        with trio.fail_after(TIMEOUT):
            async with running_server(_unit_config(tmp_path)) as server, server.logged_on() as client:
                await client.attach_job("CMP1")
                assert await refused(client, "AGTAvailWork") == ("1", "E70006")
                assert await state(client) == ("0", "S70003,CMP1")


class TestListCallbackFmt:
    """AGTListCallbackFmt: D CCYY/MM/DD <phones>, R; E28868, E28885."""

    @pytest.mark.parametrize("job", ["CMP1", "BLEND1", "PREVIEW1"])
    async def test_format(self, server: RunningServer, job: str) -> None:
        """The date format CCYY/MM/DD and the phone count 2 come in one D message."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                await client.attach_job(job)
                reply = await client.command("AGTListCallbackFmt")
                assert await ok(client, "AGTListCallbackFmt", data=True) == ("CCYY/MM/DD", "2")
        assert [message.segments for message in reply.data] == [("0", "M00001", "CCYY/MM/DD", "2")]

    async def test_inbound_job(self, server: RunningServer) -> None:
        """On an inbound job AGTListCallbackFmt gets E28868."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                await client.attach_job("INBOUND1")
                assert await refused(client, "AGTListCallbackFmt") == ("1", "E28868")

    async def test_not_attached(self, server: RunningServer) -> None:
        """Without a job AGTListCallbackFmt gets E28885."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                assert await refused(client, "AGTListCallbackFmt") == ("1", "E28885")


class TestAvailWork:
    """AGTAvailWork: P, R, state S70002; E28885, E28895, E28896, E28898, work-class errors, E28813."""

    async def test_avail(self, server: RunningServer) -> None:
        """AGTAvailWork is answered P then R and puts the agent in S70002,<job>."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                await client.attach_job("CMP1")
                await ok(client, "AGTAvailWork", pending=True)
                assert await state(client) == ("0", "S70002,CMP1")

    @pytest.mark.parametrize(
        ("work_class", "job"),
        [
            ("O", "CMP1"),
            ("O", "BLEND1"),
            ("I", "INBOUND1"),
            ("I", "BLEND1"),
            ("B", "BLEND1"),
            ("P", "CMP2"),
            ("P", "INBOUND1"),
            ("P", "BLEND1"),
            ("M", "PREVIEW1"),
        ],
    )
    async def test_fitting_work_class(self, server: RunningServer, work_class: str, job: str) -> None:
        """Each work class may join the job types it fits."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                await attached(client, job, work_class)
                await ok(client, "AGTAvailWork", pending=True)
                assert await state(client) == ("0", f"S70002,{job}")

    async def test_not_attached_asks_the_server_for_a_job(self, server: RunningServer) -> None:
        """Without a job AGTAvailWork asks for server assignment (POM): P, R, then an AGTJobAssigned
        notice puts the agent, available, on a running job."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                await ok(client, "AGTAvailWork", pending=True)
                notice = await client.next_notification("AGTJobAssigned")
                job, reason = notice.records
                assert reason == "assigned"
                assert await state(client) == ("0", f"S70002,{job}")

    async def test_not_attached_without_headset(self, server: RunningServer) -> None:
        """Without a job and without a connected headset, AGTAvailWork gets E28896."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on(headset=False) as client:
                assert await refused(client, "AGTAvailWork") == ("1", "E28896")

    async def test_already_available(self, server: RunningServer) -> None:
        """AGTAvailWork while available or ready gets E28895."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                await available(client)
                assert await refused(client, "AGTAvailWork") == ("1", "E28895")
                await client.ready_next_item()
                assert await refused(client, "AGTAvailWork") == ("1", "E28895")
                assert await state(client) == ("0", "S70001,CMP1")

    async def test_no_headset(self, server: RunningServer) -> None:
        """Without a headset, or with one reserved but not connected, AGTAvailWork gets E28896."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on(headset=False) as client:
                await client.attach_job("CMP1")
                assert await refused(client, "AGTAvailWork") == ("1", "E28896")
                await client.reserve_headset("1001")
                assert await refused(client, "AGTAvailWork") == ("1", "E28896")
                await client.connect_headset()
                await client.disconnect_headset()
                assert await refused(client, "AGTAvailWork") == ("1", "E28896")
                assert await state(client) == ("0", "S70003,CMP1")

    async def test_headset_not_required(self, tmp_path: Path) -> None:
        """With protocol.require_headset off, AGTAvailWork and AGTReadyNextItem need no headset."""
        config = config_for_tests(tmp_path, protocol=ProtocolOptions(require_headset=False))
        with trio.fail_after(TIMEOUT):
            async with running_server(config) as server, server.logged_on(headset=False) as client:
                await client.attach_job("CMP1")
                await ok(client, "AGTAvailWork", pending=True)
                await ok(client, "AGTReadyNextItem")

    async def test_job_stopped_after_attach(self, server: RunningServer) -> None:
        """A job that stopped running after the agent attached gets E28898,<job>."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                await client.attach_job("CMP1")
                server.server.driver.engine.set_job_state("CMP1", JobState.PAUSED)
                assert await refused(client, "AGTAvailWork") == ("1", "E28898,CMP1")
                assert await state(client) == ("0", "S70003,CMP1")

    @pytest.mark.parametrize(
        ("work_class", "job", "code"),
        [
            ("O", "PREVIEW1", "E29000"),
            ("I", "PREVIEW1", "E29000"),
            ("P", "PREVIEW1", "E29000"),
            ("M", "CMP1", "E28814"),
            ("M", "INBOUND1", "E28814"),
            ("M", "BLEND1", "E28814"),
            ("O", "INBOUND1", "E28816"),
            ("B", "INBOUND1", "E28816"),
            ("I", "CMP1", "E28817"),
            ("B", "CMP1", "E28817"),
        ],
    )
    async def test_work_class_does_not_fit(self, server: RunningServer, work_class: str, job: str, code: str) -> None:
        """A work class that does not fit the job type gets its documented error and leaves the agent attached."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                await attached(client, job, work_class)
                assert await refused(client, "AGTAvailWork") == ("1", code)
                assert await state(client) == ("0", f"S70003,{job}")

    async def test_error_order(self, tmp_path: Path) -> None:
        """Headset before job state, job state before work class, work class before unit, unit before the limit."""
        config = changed_config(tmp_path, jobs={"CMP1": {"units": ("U1",), "max_agents": 1}})
        with trio.fail_after(TIMEOUT):
            async with (
                running_server(config) as server,
                server.logged_on("agent1", headset=False) as client,
                server.logged_on("agent2") as busy,
            ):
                await busy.attach_job("CMP1")
                await busy.command("AGTSetUnit", "U1")
                await busy.avail_work()
                await client.set_work_class("I")
                await client.attach_job("CMP1")
                server.server.driver.engine.set_job_state("CMP1", JobState.PAUSED)
                assert await refused(client, "AGTAvailWork") == ("1", "E28896")
                await client.reserve_headset("1001")
                await client.connect_headset()
                assert await refused(client, "AGTAvailWork") == ("1", "E28898,CMP1")
                server.server.driver.engine.set_job_state("CMP1", JobState.RUNNING)
                assert await refused(client, "AGTAvailWork") == ("1", "E28817")
                await client.set_work_class("O")
                assert await refused(client, "AGTAvailWork") == ("1", "E70006")
                await client.command("AGTSetUnit", "U1")
                assert await refused(client, "AGTAvailWork") == ("1", "E28813")

    async def test_max_agents(self, tmp_path: Path) -> None:
        """Joining a job that has its maximum number of agents gets E28813 until one leaves."""
        config = changed_config(tmp_path, jobs={"CMP1": {"max_agents": 1}})
        with trio.fail_after(TIMEOUT):
            async with (
                running_server(config) as server,
                server.logged_on("agent1") as first,
                server.logged_on("agent2") as second,
            ):
                await available(first)
                await second.attach_job("CMP1")
                assert await refused(second, "AGTAvailWork") == ("1", "E28813")
                await ok(second, "AGTDetachJob")
                await available(second, "CMP2")
                await first.no_further_work()
                await second.no_further_work()
                await second.detach_job()
                await second.attach_job("CMP1")
                await ok(second, "AGTAvailWork", pending=True)


# -- §8.5 working commands ----------------------------------------------------------------------------


class TestReadyNextItem:
    """AGTReadyNextItem: R, state S70001; E28885, E28902, E28903, E28904, E28901, E28896."""

    async def test_ready(self, server: RunningServer) -> None:
        """AGTReadyNextItem is answered with a bare R and puts the agent in S70001,<job>."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                await available(client)
                await ok(client, "AGTReadyNextItem")
                assert await state(client) == ("0", "S70001,CMP1")

    async def test_not_attached(self, server: RunningServer) -> None:
        """Without a job AGTReadyNextItem gets E28885."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                assert await refused(client, "AGTReadyNextItem") == ("1", "E28885")

    async def test_not_available(self, server: RunningServer) -> None:
        """Attached but not available for work, AGTReadyNextItem gets E28901."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                await client.attach_job("CMP1")
                assert await refused(client, "AGTReadyNextItem") == ("1", "E28901")
                await client.avail_work()
                await client.no_further_work()
                assert await refused(client, "AGTReadyNextItem") == ("1", "E28901")

    async def test_already_ready(self, server: RunningServer) -> None:
        """A second AGTReadyNextItem gets E28903."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                await available(client)
                await client.ready_next_item()
                assert await refused(client, "AGTReadyNextItem") == ("1", "E28903")

    async def test_has_record(self, server: RunningServer) -> None:
        """An agent on a record gets E28902 (the record is set in the engine: no calls are delivered yet)."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                await available(client)
                session(server).state = AgentState.ON_RECORD
                assert await refused(client, "AGTReadyNextItem") == ("1", "E28902")

    async def test_no_further_work_pending(self, server: RunningServer) -> None:
        """An agent with an AGTNoFurtherWork pending gets E28904.

        The engine defers AGTNoFurtherWork only on a record, where E28902 is checked first; the pending
        flag is set in the engine on an available agent to reach the check.
        """
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                await available(client)
                session(server).no_further_work_invoke = "99"
                assert await refused(client, "AGTReadyNextItem") == ("1", "E28904")

    async def test_headset_lost(self, server: RunningServer) -> None:
        """An available agent whose headset is no longer connected gets E28896.

        AGTDisconnHeadset is refused while available, so the headset is disconnected in the engine
        (as a broken headset connection will).
        """
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                await available(client)
                session(server).headset = HeadsetState.DISCONNECTED
                assert await refused(client, "AGTReadyNextItem") == ("1", "E28896")


class TestNoFurtherWork:
    """AGTNoFurtherWork: P, then R when off the job, state S70003; E28917, E28904, E28918."""

    async def test_from_available(self, server: RunningServer) -> None:
        """From S70002 AGTNoFurtherWork is answered P then R at once, back to S70003,<job>."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                await available(client)
                await ok(client, "AGTNoFurtherWork", pending=True)
                assert await state(client) == ("0", "S70003,CMP1")

    async def test_from_ready(self, server: RunningServer) -> None:
        """From S70001 AGTNoFurtherWork is answered P then R at once, back to S70003,<job>."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                await available(client, "INBOUND1", "I")
                await client.ready_next_item()
                await ok(client, "AGTNoFurtherWork", pending=True)
                assert await state(client) == ("0", "S70003,INBOUND1")
                await ok(client, "AGTAvailWork", pending=True)

    async def test_no_job(self, server: RunningServer) -> None:
        """Without a job AGTNoFurtherWork is a bare R 1 E28917."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                assert await refused(client, "AGTNoFurtherWork") == ("1", "E28917")

    async def test_not_available(self, server: RunningServer) -> None:
        """Attached but not available, AGTNoFurtherWork is a bare R 1 E28918."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                await client.attach_job("CMP1")
                assert await refused(client, "AGTNoFurtherWork") == ("1", "E28918")

    async def test_deferred_on_record(self, server: RunningServer) -> None:
        """On a record AGTNoFurtherWork answers P only; meanwhile another gets E28904, AGTDetachJob E28915.

        The record is set in the engine (no calls are delivered yet); the commands go over the socket.
        """
        with trio.fail_after(TIMEOUT):
            async with raw_peer(server) as (peer, greeting):
                for invoke_id, command in enumerate(
                    [
                        raw_command("AGTLogon", "agent1", "agent1"),
                        raw_command("AGTReserveHeadset", "1001"),
                        raw_command("AGTConnHeadset"),
                        raw_command("AGTAttachJob", "CMP1"),
                        raw_command("AGTAvailWork"),
                    ],
                    start=1,
                ):
                    replies = await peer.exchange(attrs.evolve(command, invoke_id=str(invoke_id)))
                    assert replies[-1].segments == ("0", "M00000")
                session(server).state = AgentState.ON_RECORD
                await peer.send(raw_command("AGTNoFurtherWork", invoke_id="20"))
                pending = await peer.receive()
                # Had the final R been sent, it would arrive before the replies to the next command.
                listed = await peer.exchange(raw_command("AGTListState", invoke_id="21"))
                again = await peer.exchange(raw_command("AGTNoFurtherWork", invoke_id="22"))
                detach = await peer.exchange(raw_command("AGTDetachJob", invoke_id="23"))
                ready = await peer.exchange(raw_command("AGTReadyNextItem", invoke_id="24"))
        assert layout([pending]) == [("AGTNoFurtherWork", "P", "20", ("0", "S28833"))]
        assert layout(listed) == [
            ("AGTListState", "D", "21", ("0", "S70000,CMP1")),
            ("AGTListState", "R", "21", ("0", "M00000")),
        ]
        assert layout(again) == [("AGTNoFurtherWork", "R", "22", ("1", "E28904"))]
        assert layout(detach) == [("AGTDetachJob", "R", "23", ("1", "E28915"))]
        assert layout(ready) == [("AGTReadyNextItem", "R", "24", ("1", "E28902"))]
        assert {m.process_id for m in [pending, *listed, *again, *detach, *ready]} == {greeting.process_id}


class TestFinishedItem:
    """AGTFinishedItem: E28885, E28919 (no record is ever open yet)."""

    async def test_not_attached(self, server: RunningServer) -> None:
        """Without a job AGTFinishedItem gets E28885."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                assert await refused(client, "AGTFinishedItem", "20") == ("1", "E28885")

    @pytest.mark.parametrize("step", ["attached", "available", "ready"])
    async def test_no_record(self, server: RunningServer, step: str) -> None:
        """Without a record AGTFinishedItem is a bare R 1 E28919 in every job state."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                await client.attach_job("CMP1")
                if step != "attached":
                    await client.avail_work()
                if step == "ready":
                    await client.ready_next_item()
                assert await refused(client, "AGTFinishedItem", "20") == ("1", "E28919")
                assert await refused(client, "AGTFinishedItem", "098") == ("1", "E28919")


#: The commands that need an open line, with valid arguments.
LINE_COMMANDS = [
    ("AGTReleaseLine", ()),
    ("AGTReleaseLine", ("WRAPUP",)),
    ("AGTReleaseLine", ("", "5")),
    ("AGTHangupCall", ()),
    ("AGTHoldCall", ()),
    ("AGTUnholdCall", ()),
    ("AGTHookflashLine", ()),
    ("AGTHookflashLine", ("5551234",)),
    ("AGTTransferCall", ()),
    ("AGTTransferCall", ("5551234",)),
    ("AGTMoFlashBlind", ()),
    ("AGTMoFlashBlind", ("INBOUND1",)),
    ("AGTMoFlashSupv", ()),
    ("AGTMoFlashSupv", ("INBOUND1",)),
    ("AGTGetHeadsetVol", ()),
    ("AGTManualCall", ("5551234567",)),
    ("AGTManualCall", ("+15551234567",)),
    ("AGTManualPhone", ("5551234567",)),
    ("AGTDialDigit", ("5",)),
    ("AGTDialDigit", ("*",)),
    ("AGTDialDigit", ("#",)),
    ("AGTAdjustHeadset", ("E", "1")),
    ("AGTAdjustHeadset", ("M", "8")),
]


class TestLineCommands:
    """AGTReleaseLine, call control, AGTManualCall/Phone, AGTDialDigit, AGTAdjustHeadset: E28885, E28866."""

    @pytest.mark.parametrize(("keyword", "args"), LINE_COMMANDS)
    async def test_not_attached(self, server: RunningServer, keyword: str, args: tuple[str, ...]) -> None:
        """Without a job a line command gets E28885."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                assert await refused(client, keyword, *args) == ("1", "E28885")

    @pytest.mark.parametrize(("keyword", "args"), LINE_COMMANDS)
    async def test_no_line(self, server: RunningServer, keyword: str, args: tuple[str, ...]) -> None:
        """With no call delivered a line command is a bare R 1 E28866, even when ready for work."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                await available(client)
                await client.ready_next_item()
                assert await refused(client, keyword, *args) == ("1", "E28866")

    @pytest.mark.parametrize("keyword", ["AGTManualCall", "AGTManualPhone"])
    @pytest.mark.parametrize("number", ["abc", "555-1234", "+", "", "1" * 44, "++1555"])
    async def test_bad_phone_number(self, server: RunningServer, keyword: str, number: str) -> None:
        """A phone number that is not 1-43 digits (with an optional +) gets E28843 followed by the number."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                await client.attach_job("CMP1")
                assert await refused(client, keyword, number) == ("1", "E28843", number)

    @pytest.mark.parametrize("digit", ["A", "12", "", "D", " "])
    async def test_bad_digit(self, server: RunningServer, digit: str) -> None:
        """A DTMF digit other than 0-9, * or # gets E28900 followed by the reason."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                await client.attach_job("CMP1")
                assert await refused(client, "AGTDialDigit", digit) == ("1", "E28900", f"not a DTMF digit: {digit}")

    @pytest.mark.parametrize(
        "args", [("X", "5"), ("e", "5"), ("E", "0"), ("M", "9"), ("E", "a"), ("M", ""), ("E", "-1")]
    )
    async def test_bad_volume(self, server: RunningServer, args: tuple[str, str]) -> None:
        """AGTAdjustHeadset with a side other than E or M or a volume outside 1-8 gets E28869."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                await client.attach_job("CMP1")
                assert await refused(client, "AGTAdjustHeadset", *args) == ("1", "E28869")


class TestRecordCommands:
    """AGTReadField, AGTUpdateField, AGTDoNotCall, AGTSetCallback: errors without a record."""

    @pytest.mark.parametrize(
        ("keyword", "args"),
        [
            ("AGTReadField", ("O", "NAME")),
            ("AGTUpdateField", ("O", "NAME", "Mary Roe")),
            ("AGTDoNotCall", ()),
            ("AGTSetCallback", ("2030/01/01", "1200", "1")),
        ],
    )
    async def test_not_attached(self, server: RunningServer, keyword: str, args: tuple[str, ...]) -> None:
        """Without a job each of these gets E28885."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                assert await refused(client, keyword, *args) == ("1", "E28885")

    @pytest.mark.parametrize("keyword", ["AGTReadField", "AGTUpdateField"])
    @pytest.mark.parametrize(
        "case",
        [
            ("CMP1", "X", "NAME", "E28891"),
            ("CMP1", "I", "NAME", "E28892"),
            ("INBOUND1", "O", "NAME", "E28893"),
            ("CMP1", "O", "NOPE", "E28894,NOPE"),
            ("BLEND1", "I", "name", "E28894,name"),
            ("CMP1", "O", "NAME", "E28912"),
            ("INBOUND1", "I", "PHONE1", "E28912"),
        ],
    )
    async def test_field_errors(self, server: RunningServer, keyword: str, case: tuple[str, str, str, str]) -> None:
        """The list type and field are checked (E28891-E28894) before the record (E28912)."""
        job, list_type, field, expected = case
        args = (list_type, field) if keyword == "AGTReadField" else (list_type, field, "x")
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                await client.attach_job(job)
                assert await refused(client, keyword, *args) == ("1", expected)

    async def test_do_not_call(self, server: RunningServer) -> None:
        """Without a record AGTDoNotCall gets E28912."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                await available(client)
                await client.ready_next_item()
                assert await refused(client, "AGTDoNotCall") == ("1", "E28912")

    @pytest.mark.parametrize(
        "args",
        [
            ("2030/01/01", "1200", "1"),
            ("2030/01/01", "05:00p", "2", "Mary"),
            ("2030/01/01", "00:30+", "1", "", "5551234"),
        ],
    )
    async def test_set_callback_inbound(self, server: RunningServer, args: tuple[str, ...]) -> None:
        """On an inbound job AGTSetCallback gets E28868."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                await client.attach_job("INBOUND1")
                assert await refused(client, "AGTSetCallback", *args) == ("1", "E28868")

    @pytest.mark.parametrize("job", ["CMP1", "BLEND1", "PREVIEW1"])
    async def test_set_callback_no_line(self, server: RunningServer, job: str) -> None:
        """On other jobs, with no call, AGTSetCallback gets E28866."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                await client.attach_job(job)
                assert await refused(client, "AGTSetCallback", "2030/01/01", "1200", "1") == ("1", "E28866")


MANAGED_COMMANDS = [
    ("AGTManagedCall", ()),
    ("AGTFindFirstRecord", ("12345",)),
    ("AGTFindNextRecord", ()),
    ("AGTFindNextRecord", ("P",)),
    ("AGTCancelSearch", ()),
]


class TestManagedCommands:
    """AGTManagedCall, AGTFindFirstRecord, AGTFindNextRecord, AGTCancelSearch: E28885, E28907, E28908."""

    @pytest.mark.parametrize(("keyword", "args"), MANAGED_COMMANDS)
    async def test_not_attached(self, server: RunningServer, keyword: str, args: tuple[str, ...]) -> None:
        """Without a job each gets E28885."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                assert await refused(client, keyword, *args) == ("1", "E28885")

    @pytest.mark.parametrize("job", ["CMP1", "INBOUND1", "BLEND1"])
    @pytest.mark.parametrize(("keyword", "args"), MANAGED_COMMANDS)
    async def test_not_managed(self, server: RunningServer, job: str, keyword: str, args: tuple[str, ...]) -> None:
        """On a job that is not managed each is a bare R 1 E28907."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                await client.attach_job(job)
                assert await refused(client, keyword, *args) == ("1", "E28907")

    @pytest.mark.parametrize(("keyword", "args"), MANAGED_COMMANDS)
    async def test_not_previewing(self, server: RunningServer, keyword: str, args: tuple[str, ...]) -> None:
        """On PREVIEW1 with no record previewed each is a bare R 1 E28908."""
        with trio.fail_after(TIMEOUT):
            async with server.logged_on() as client:
                await available(client, "PREVIEW1", "M")
                await client.ready_next_item()
                assert await refused(client, keyword, *args) == ("1", "E28908")
