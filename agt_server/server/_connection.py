"""One connection: a reader loop (bytes → codec → engine) and a writer task (outbox → codec → bytes).

Everything that can go wrong with one connection is caught here and ends that connection only: a
handler exception would otherwise take down ``trio.serve_listeners`` and every other agent with it.
"""

from __future__ import annotations

import math
import ssl
from collections.abc import Callable

import attrs
import structlog
import trio

from agt_server.engine import Connected, Disconnected, Expel, Received
from agt_server.protocol import (
    LocalProtocolError,
    Message,
    MessageType,
    RemoteProtocolError,
    Sentinel,
    TtyCodec,
    WireCodec,
)

from ._auth import LogonGate
from ._driver import CloseRequest, Connection, EngineDriver, OutboxItem

__all__ = ["ConnectionHandler", "Listener"]

log = structlog.get_logger("agt_server.server")

Codec = WireCodec | TtyCodec
_RECEIVE_SIZE = 65536
#: How long a TLS client has to finish its handshake.
_HANDSHAKE_TIMEOUT = 10.0


@attrs.frozen
class Listener:
    """What kind of listener a connection arrived on."""

    name: str  #: ``wire``, ``tls`` or ``tty``
    make_codec: Callable[[], Codec]
    ssl_context: ssl.SSLContext | None = None


@attrs.define(eq=False)
class ConnectionHandler:
    """Serves connections for one listener.  Call it with each accepted stream."""

    driver: EngineDriver
    gate: LogonGate
    listener: Listener
    max_connections: int
    idle_timeout: float
    write_timeout: float
    inter_message_delay: float
    outbox_size: int

    async def __call__(self, stream: trio.abc.Stream) -> None:
        peer = _peer_of(stream)
        structlog.contextvars.bind_contextvars(peer=peer, listener=self.listener.name)
        try:
            if self.listener.ssl_context is not None:
                try:
                    stream = await self._handshake(stream, self.listener.ssl_context)
                except (trio.BrokenResourceError, trio.TooSlowError) as exc:
                    # Plain-TCP clients on the TLS port, missing client certificates, port scanners.
                    log.info("tls_handshake_failed", error=str(exc.__cause__ or exc) or type(exc).__name__)
                    return
            codec = self.listener.make_codec()
            if len(self.driver.connections) >= self.max_connections:
                await self._refuse(stream, codec)
                return
            await self._serve(stream, codec, peer)
        except Exception:
            # A bug in one session must not end the others; say so loudly and drop this connection.
            log.exception("connection_crashed")
        finally:
            await trio.aclose_forcefully(stream)

    async def _handshake(self, stream: trio.abc.Stream, context: ssl.SSLContext) -> trio.SSLStream[trio.abc.Stream]:
        tls_stream = trio.SSLStream(stream, context, server_side=True)
        with trio.fail_after(_HANDSHAKE_TIMEOUT):
            await tls_stream.do_handshake()
        return tls_stream

    async def _refuse(self, stream: trio.abc.Stream, codec: Codec) -> None:
        log.warning("connection_refused", reason="too many connections", limit=self.max_connections)
        refusal = Message("AGTSTART", MessageType.NOTIFICATION, ("1", "E28858"))
        await stream.send_all(codec.send(refusal))

    async def _serve(self, stream: trio.abc.Stream, codec: Codec, peer: str) -> None:
        with trio.CancelScope() as scope:
            connection, outbox = self.driver.open_connection(peer, self.listener.name, scope)
            structlog.contextvars.bind_contextvars(conn=connection.conn)
            log.info("connection_opened")
            try:
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(self._write, stream, codec, outbox, connection)
                    self.driver.dispatch(Connected(connection.conn, peer))
                    await self._read(stream, codec, connection)
                    nursery.cancel_scope.cancel()
            except* (trio.BrokenResourceError, trio.ClosedResourceError, trio.TooSlowError) as lost:
                first = lost.exceptions[0]
                cause = first.__cause__ or first
                connection.end_reason = connection.end_reason or f"connection lost: {cause or type(cause).__name__}"
            finally:
                reason = connection.end_reason or "connection closed"
                self.driver.dispatch(Disconnected(connection.conn, reason))
                self.driver.forget_connection(connection)
                log.info("connection_closed", reason=reason, agent=connection.agent)

    async def _read(self, stream: trio.abc.Stream, codec: Codec, connection: Connection) -> None:
        timeout = self.idle_timeout or math.inf
        while True:
            with trio.move_on_after(timeout) as idle:
                data = await stream.receive_some(_RECEIVE_SIZE)
            if idle.cancelled_caught:
                self.driver.dispatch(Expel(connection.conn, "idle timeout"))
                await trio.sleep_forever()  # the writer closes the connection after the notice
            codec.receive_data(data)
            while True:
                try:
                    message = codec.next_message()
                except RemoteProtocolError as exc:
                    log.info("bad_message", error=str(exc), agent=connection.agent)
                    if exc.reply is not None:
                        self._reply_to_bad_message(connection, exc.reply)
                    if exc.fatal:
                        connection.end_reason = f"protocol error: {exc}"
                        return
                    continue
                if message is Sentinel.NEED_DATA:
                    break
                if message is Sentinel.CLOSED:
                    connection.end_reason = connection.end_reason or "closed by the client"
                    return
                await self._process(message, connection)

    async def _process(self, message: Message, connection: Connection) -> None:
        # Backpressure: a client may pipeline many commands, but we answer no faster than it reads.
        # Its replies wait in the outbox; past half of it, take no more commands until the writer
        # has caught up.  Only a client whose writes block for write_timeout is cut off (in _write).
        while connection.backlog >= max(1, self.outbox_size // 2):
            connection.drained = trio.Event()
            await connection.drained.wait()
        credentials_ok = None
        if message.keyword == "AGTLogon" and len(message.segments) >= 2 and connection.agent is None:
            name = message.segments[0].rpartition("\\")[2]
            credentials_ok = await self.gate.check(name, message.segments[1], connection.peer.rpartition(":")[0])
        self.driver.counters.command(message.keyword)
        self.driver.dispatch(Received(connection.conn, message, credentials_ok))
        if connection.agent is not None:
            structlog.contextvars.bind_contextvars(agent=connection.agent)

    def _reply_to_bad_message(self, connection: Connection, reply: Message) -> None:
        session = self.driver.engine.sessions.get(connection.conn)
        if session is not None:
            reply = attrs.evolve(reply, process_id=session.process_id)
        self.driver.enqueue(connection.conn, reply)

    async def _write(
        self,
        stream: trio.abc.Stream,
        codec: Codec,
        outbox: trio.MemoryReceiveChannel[OutboxItem],
        connection: Connection,
    ) -> None:
        # One cancel scope for the whole loop, armed only while a send is under way: a scope per message
        # cost more than the send itself under load (benchmarks/protocol_overhead.py).
        with trio.CancelScope() as blocked:
            async for item in outbox:
                if isinstance(item, CloseRequest):
                    connection.end_reason = connection.end_reason or item.reason
                    connection.cancel_scope.cancel()
                    return
                try:
                    data = codec.send(item)
                except LocalProtocolError:
                    log.exception("unsendable_message", keyword=item.keyword)
                    continue
                # One message per send: real clients parse each read as exactly one message.
                blocked.deadline = trio.current_time() + self.write_timeout
                await stream.send_all(data)
                blocked.deadline = math.inf
                if connection.backlog < max(1, self.outbox_size // 2):
                    connection.drained.set()
                if self.inter_message_delay:
                    await trio.sleep(self.inter_message_delay)
        if blocked.cancelled_caught:
            log.warning("write_timeout_disconnect", agent=connection.agent, seconds=self.write_timeout)
            connection.cut_off("write timed out: the client stopped reading")


def _peer_of(stream: trio.abc.Stream) -> str:
    socket_stream = stream
    while isinstance(socket_stream, trio.SSLStream):
        socket_stream = socket_stream.transport_stream
    if isinstance(socket_stream, trio.SocketStream):
        try:
            host, port, *_ = socket_stream.socket.getpeername()
        except OSError:
            return "unknown"
        return f"{host}:{port}"
    return "memory"
