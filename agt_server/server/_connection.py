"""One connection: a reader loop (bytes → codec → engine) and a writer task (outbox → codec → bytes).

Everything that can go wrong with one connection is caught here and ends that connection only: a
handler exception would otherwise take down ``trio.serve_listeners`` and every other agent with it.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from contextlib import AbstractContextManager

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
from ._driver import CloseRequest, Connection, EngineDriver

__all__ = ["ConnectionHandler", "Listener", "watch_timeouts"]

log = structlog.get_logger("agt_server.server")

Codec = WireCodec | TtyCodec
_RECEIVE_SIZE = 65536
#: How long a TLS client has to finish its handshake.
_HANDSHAKE_TIMEOUT = 10.0
#: One shared name for every writer task: trio would otherwise build a 100-byte name string for each.
_WRITER_TASK_NAME = "agt_server.server.ConnectionHandler._write"


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
    inter_message_delay: float
    outbox_size: int

    async def __call__(self, stream: trio.abc.Stream) -> None:
        # One coroutine from accept to close: the frames an idle connection's task keeps cost memory
        # (benchmarks/scale.py), so serving is not split further than __call__ -> _read.
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
            connection = self.driver.open_connection(peer, self.listener.name)
            structlog.contextvars.bind_contextvars(conn=connection.conn)
            log.info("connection_opened")
            try:
                async with trio.open_nursery() as nursery:
                    # The nursery's scope is the connection's: cutting the connection off cancels both tasks.
                    connection.cancel_scope = nursery.cancel_scope
                    nursery.start_soon(self._write, stream, codec, connection, name=_WRITER_TASK_NAME)
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

    async def _read(self, stream: trio.abc.Stream, codec: Codec, connection: Connection) -> None:
        # An idle connection spends its life parked here, so what it parks on is most of its memory.
        # receive_some parks six coroutines deep (3.4 KB with its context manager and the abort
        # closure); waiting for readability first parks three deep (1.75 KB), and the receive_some
        # after it returns at once.  CPU per message is the same either way (measured).
        socket = stream.socket if isinstance(stream, trio.SocketStream) else None
        # No timeout scope here: the connections' timeouts are watched by watch_timeouts (below).
        resume_at = self._resume_at
        bound_agent = None
        while True:
            connection.waiting_since = trio.current_time()
            if socket is not None:
                await trio.lowlevel.wait_readable(socket)
            data = await stream.receive_some(_RECEIVE_SIZE)
            connection.waiting_since = None
            if connection.idle_expelled:
                await trio.sleep_forever()  # told, and logged off: the writer closes the connection after the notice
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
                if connection.backlog < resume_at and not (message.keyword == "AGTLogon" and connection.agent is None):
                    self._dispatch(message, connection, None)  # the common case: nothing to wait for
                else:
                    await self._process(message, connection)
                if connection.agent is not None and connection.agent != bound_agent:
                    bound_agent = connection.agent
                    structlog.contextvars.bind_contextvars(agent=bound_agent)

    @property
    def _resume_at(self) -> int:
        """The reader takes no more commands while this many replies wait in the outbox."""
        return max(1, self.outbox_size // 2)

    async def _process(self, message: Message, connection: Connection) -> None:
        # Backpressure: a client may pipeline many commands, but we answer no faster than it reads.
        # Its replies wait in the outbox; past half of it, take no more commands until the writer
        # has caught up.  Only a client whose writes block for write_timeout is cut off (watch_timeouts).
        while connection.backlog >= self._resume_at:
            connection.drained = drained = trio.Event()
            await drained.wait()
        connection.drained = None
        credentials_ok = None
        if message.keyword == "AGTLogon" and len(message.segments) >= 2 and connection.agent is None:
            name = message.segments[0].rpartition("\\")[2]
            credentials_ok = await self.gate.check(name, message.segments[1], connection.peer.rpartition(":")[0])
        self._dispatch(message, connection, credentials_ok)

    def _dispatch(self, message: Message, connection: Connection, credentials_ok: bool | None) -> None:
        self.driver.counters.command(message.keyword)
        self.driver.dispatch(Received(connection.conn, message, credentials_ok))

    def _reply_to_bad_message(self, connection: Connection, reply: Message) -> None:
        session = self.driver.engine.sessions.get(connection.conn)
        if session is not None:
            reply = attrs.evolve(reply, process_id=session.process_id)
        self.driver.enqueue(connection.conn, reply)

    async def _write(self, stream: trio.abc.Stream, codec: Codec, connection: Connection) -> None:
        # No cancel scope for the write timeout: a deadline per message cost more than the send itself,
        # and even one armed scope per connection is 0.7 KB per idle agent.  watch_timeouts cuts off a
        # connection whose send has been under way for write_timeout.
        while True:
            try:
                item = await connection.outbox.receive()
            except trio.EndOfChannel:
                return
            if isinstance(item, CloseRequest):
                connection.cut_off(item.reason)
                return
            try:
                data = codec.send(item)
            except LocalProtocolError:
                log.exception("unsendable_message", keyword=item.keyword)
            else:
                # One message per send: real clients parse each read as exactly one message.
                connection.sending_since = trio.current_time()
                await stream.send_all(data)
                connection.sending_since = None
            # A message taken off the outbox, sent or not, may be the one the reader waits for.
            drained = connection.drained
            if drained is not None and connection.backlog < self._resume_at:
                drained.set()
            if self.inter_message_delay:
                await trio.sleep(self.inter_message_delay)


async def watch_timeouts(driver: EngineDriver, *, idle_timeout: float, write_timeout: float) -> None:
    """Cut off connections whose send has been blocked for ``write_timeout`` (the client stopped
    reading), and expel those that sent nothing for ``idle_timeout`` (0: never); runs until cancelled.

    One task sweeps every connection a few times per timeout, instead of a deadline per connection:
    a trio cancel scope with a deadline costs 0.7 KB while armed and ~5 µs to enter and leave, and
    moving a deadline ~1.4 µs, which per message was a tenth of a reply's cost
    (benchmarks/protocol_overhead.py).  The sweep costs ~0.1 µs per connection.  A timeout fires
    between its value and a quarter more (at most a second more).
    """
    timeouts = [timeout for timeout in (idle_timeout, write_timeout) if timeout]
    period = min([1.0, *(timeout / 4 for timeout in timeouts)])
    while True:
        await trio.sleep(period)
        now = trio.current_time()
        for connection in list(driver.connections.values()):
            sending_since, waiting_since = connection.sending_since, connection.waiting_since
            if sending_since is not None and now - sending_since >= write_timeout:
                with _logging_context(connection):
                    log.warning("write_timeout_disconnect", agent=connection.agent, seconds=write_timeout)
                    connection.sending_since = None  # cut off once
                    connection.cut_off("write timed out: the client stopped reading")
            elif idle_timeout and waiting_since is not None and now - waiting_since >= idle_timeout:
                if connection.idle_expelled:
                    continue
                with _logging_context(connection):
                    connection.idle_expelled = True
                    try:
                        driver.dispatch(Expel(connection.conn, "idle timeout"))
                    except Exception:
                        # As in the connection's own tasks: a bug in one session must not end the others
                        # (nor this watchdog, which serves them all).
                        log.exception("connection_crashed")
                        connection.cut_off("internal error")


def _logging_context(connection: Connection) -> AbstractContextManager[None]:
    """What the connection's own tasks have bound for their log lines (and the engine's, through
    the driver), for the watchdog acting on the connection's behalf."""
    fields: dict[str, object] = {"peer": connection.peer, "listener": connection.listener, "conn": connection.conn}
    if connection.agent is not None:
        fields["agent"] = connection.agent
    return structlog.contextvars.bound_contextvars(**fields)


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
