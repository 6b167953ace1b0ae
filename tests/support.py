"""Helpers the integration tests share: a real server on 127.0.0.1 port 0, and clients for it."""

from __future__ import annotations

import re
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import attrs
import trio

from agt_server.client import AgtClient, open_agt_client
from agt_server.config import DEMO_LOAD_GROUP, DialingConfig, ListenerConfig, SiteConfig, demo_config
from agt_server.protocol import Message, MessageType, Sentinel, WireCodec, encode
from agt_server.server import AgentServer, BoundPorts

HOST = "127.0.0.1"


#: The dialer of most tests: it would dial an hour after an agent is ready, and no caller rings, so
#: tests about sessions and assignment see only the calls they make themselves.
QUIET_DIALING = DialingConfig(dial_delay=(3600.0, 3600.0), inbound_rate=0.0)


def config_for_tests(data_dir: Path, *, dialing: DialingConfig = QUIET_DIALING, **changes: object) -> SiteConfig:
    """The demo configuration on free ports, keeping its files (and its database) in ``data_dir``, with
    ``dialing`` for every job (quiet by default); ``changes`` evolve it.

    Its agents are the demo's agent1 to agent20, without the 10,000 load agents (a test that needs them
    passes ``agents=demo_config(...).agents``)."""
    demo = demo_config(data_dir)
    config = attrs.evolve(
        demo,
        listeners=ListenerConfig(host=HOST, agent_port=0, tls_port=0, tty_port=0, http_port=0),
        jobs=tuple(attrs.evolve(job, dialing=dialing) for job in demo.jobs),
        agents=tuple(agent for agent in demo.agents if agent.group != DEMO_LOAD_GROUP),
    )
    return attrs.evolve(config, **changes)


@attrs.frozen
class RunningServer:
    """A server started by :func:`running_server`."""

    server: AgentServer
    ports: BoundPorts

    @property
    def http_url(self) -> str:
        """The supervisor API's base URL, ``http://127.0.0.1:<port>``."""
        assert self.ports.http is not None, "the HTTP listener is off"
        return f"http://{HOST}:{self.ports.http}"

    @asynccontextmanager
    async def client(self, *, ssl_context: ssl.SSLContext | None = None) -> AsyncIterator[AgtClient]:
        """A client connected to the wire port (or the TLS port, given an SSL context)."""
        port = self.ports.tls if ssl_context is not None else self.ports.agent
        assert port is not None
        async with open_agt_client(HOST, port, ssl_context=ssl_context, server_hostname="localhost") as client:
            yield client

    @asynccontextmanager
    async def logged_on(self, agent: str = "agent1", *, headset: bool = True) -> AsyncIterator[AgtClient]:
        """A client logged on as ``agent`` (whose demo password is its name), headset connected."""
        async with self.client() as client:
            await client.logon(agent, agent)
            if headset:
                await client.reserve_headset(str(abs(hash(agent)) % 10**9))
                await client.connect_headset()
            yield client


@asynccontextmanager
async def running_server(config: SiteConfig) -> AsyncIterator[RunningServer]:
    """Run an AgentServer for ``config`` for the duration of the block."""
    server = AgentServer(config)
    async with trio.open_nursery() as nursery:
        ports: BoundPorts = await nursery.start(server.serve)
        yield RunningServer(server, ports)
        nursery.cancel_scope.cancel()


# -- raw connections: the bytes on the wire, with no client library in between ---------------------

_TERMINATOR = re.compile(b"[\x03\x17]")
_RECEIVE_SIZE = 65536


async def connect_tcp(
    port: int, *, source_host: str | None = None, receive_buffer: int | None = None
) -> trio.SocketStream:
    """A TCP connection to ``HOST:port``, optionally from another loopback address (``127.0.0.2``) or with
    a small kernel receive buffer (so that a client that does not read fills it quickly)."""
    sock = trio.socket.socket()
    try:
        if receive_buffer is not None:
            sock.setsockopt(trio.socket.SOL_SOCKET, trio.socket.SO_RCVBUF, receive_buffer)
        if source_host is not None:
            await sock.bind((source_host, 0))
        await sock.connect((HOST, port))
    except BaseException:
        sock.close()
        raise
    return trio.SocketStream(sock)


def command_bytes(keyword: str, *args: str, invoke_id: str = "1") -> bytes:
    """One command in the wire framing, as a client sends it (client ``raw``, process id ``0``)."""
    return encode(Message(keyword, MessageType.COMMAND, args, client="raw", process_id="0", invoke_id=invoke_id))


def decode_frame(frame: bytes) -> Message:
    """The message in ``frame`` (one whole message, terminator included)."""
    codec = WireCodec()
    codec.receive_data(frame)
    message = codec.next_message()
    assert isinstance(message, Message), f"{frame!r} is not one message"
    assert codec.next_message() is Sentinel.NEED_DATA, f"{frame!r} holds more than one message"
    return message


@attrs.define(eq=False)
class RawConnection:
    """A wire-framed connection driven by hand: the test writes exactly the bytes it wants and reads
    every message the server sends, raw bytes included.  Open one with :func:`open_raw_connection`."""

    stream: trio.SocketStream
    _buffer: bytearray = attrs.field(factory=bytearray, init=False)

    async def send_command(self, keyword: str, *args: str, invoke_id: str = "1") -> None:
        """Send one command."""
        await self.stream.send_all(command_bytes(keyword, *args, invoke_id=invoke_id))

    async def receive_frame(self) -> bytes | None:
        """The next message's bytes, terminator included, or ``None`` once the server has closed
        (or reset) the connection."""
        while True:
            found = _TERMINATOR.search(self._buffer)
            if found is not None:
                frame = bytes(self._buffer[: found.end()])
                del self._buffer[: found.end()]
                return frame
            try:
                data = await self.stream.receive_some(_RECEIVE_SIZE)
            except trio.BrokenResourceError:
                data = b""
            if not data:
                assert not self._buffer, f"the connection ended inside a message: {bytes(self._buffer)!r}"
                return None
            self._buffer += data

    async def receive(self) -> Message:
        """The next message; fails the test when the connection ends instead."""
        frame = await self.receive_frame()
        assert frame is not None, "the server closed the connection"
        return decode_frame(frame)

    async def receive_until_closed(self) -> list[Message]:
        """Every message the server sends until it closes the connection."""
        messages = []
        while (frame := await self.receive_frame()) is not None:
            messages.append(decode_frame(frame))
        return messages

    async def command(self, keyword: str, *args: str, invoke_id: str = "1") -> list[Message]:
        """Send a command; return every message up to and including its final ``R``."""
        await self.send_command(keyword, *args, invoke_id=invoke_id)
        messages = []
        while True:
            message = await self.receive()
            messages.append(message)
            if message.type is MessageType.RESPONSE and message.invoke_id == invoke_id:
                return messages

    async def logon(self, agent: str, password: str | None = None) -> None:
        """Log on as ``agent`` (password: its name, as in the demo) and check that it worked."""
        replies = await self.command("AGTLogon", agent, agent if password is None else password, invoke_id="99")
        assert [(m.type, m.segments) for m in replies] == [
            (MessageType.PENDING, ("0", "S28833")),
            (MessageType.RESPONSE, ("0", "M00000")),
        ]


@asynccontextmanager
async def open_raw_connection(
    port: int, *, source_host: str | None = None, receive_buffer: int | None = None
) -> AsyncIterator[RawConnection]:
    """A :class:`RawConnection` to ``HOST:port``, closed (abruptly) when the block exits."""
    stream = await connect_tcp(port, source_host=source_host, receive_buffer=receive_buffer)
    try:
        yield RawConnection(stream)
    finally:
        await trio.aclose_forcefully(stream)


@attrs.define(eq=False)
class TtyConnection:
    """A connection to the tty listener: the test types lines and reads the server's lines."""

    stream: trio.SocketStream
    _buffer: bytearray = attrs.field(factory=bytearray, init=False)

    async def type(self, text: str | bytes) -> None:
        """Send ``text`` as it is (add the line end yourself)."""
        await self.stream.send_all(text.encode("latin-1") if isinstance(text, str) else text)

    async def receive_line(self) -> str | None:
        """The next line the server sends, without its CRLF, or ``None`` once it has closed."""
        while True:
            end = self._buffer.find(b"\r\n")
            if end >= 0:
                line = bytes(self._buffer[:end]).decode("latin-1")
                del self._buffer[: end + 2]
                return line
            try:
                data = await self.stream.receive_some(_RECEIVE_SIZE)
            except trio.BrokenResourceError:
                data = b""
            if not data:
                assert not self._buffer, f"the connection ended inside a line: {bytes(self._buffer)!r}"
                return None
            self._buffer += data

    async def lines(self, count: int) -> list[str]:
        """The next ``count`` lines; fails the test when the connection ends first."""
        received = []
        for _ in range(count):
            line = await self.receive_line()
            assert line is not None, f"the server closed the connection after {received!r}"
            received.append(line)
        return received

    async def command(self, line: str, *, line_end: str = "\r\n") -> list[str]:
        """Type one command line; return the server's lines up to and including its final ``R`` line."""
        await self.type(line + line_end)
        keyword = line.split(",", 1)[0].strip()
        received: list[str] = []
        while not received or not received[-1].startswith(f"{keyword} R "):
            received += await self.lines(1)
        return received


@asynccontextmanager
async def open_tty_connection(port: int) -> AsyncIterator[TtyConnection]:
    """A :class:`TtyConnection` to ``HOST:port``, closed (abruptly) when the block exits."""
    stream = await connect_tcp(port)
    try:
        yield TtyConnection(stream)
    finally:
        await trio.aclose_forcefully(stream)
