"""The engine driver: feeds the engine, routes its effects to connections, runs its timers.

One engine, single-threaded on the trio loop: every input goes through :meth:`EngineDriver.dispatch`,
which calls the engine synchronously and applies the effects at once, so no locks are needed.
Connections get their messages through bounded outboxes read by their writer tasks; a connection
whose outbox is full is not reading, and it is cut off rather than allowed to slow anyone else.
"""

from __future__ import annotations

import attrs
import structlog
import trio

from agt_server.engine import AgentEvent, Close, Effect, Engine, Input, JobEvent, Send, SupervisorInput
from agt_server.protocol import Message

__all__ = ["CloseRequest", "Connection", "EngineDriver", "OutboxItem"]

log = structlog.get_logger("agt_server.server")


@attrs.frozen
class CloseRequest:
    """Tells a writer task to close its connection once everything queued before it is written."""

    reason: str


OutboxItem = Message | CloseRequest


@attrs.define(eq=False)
class Connection:
    """The shell's side of one connection."""

    conn: int
    peer: str
    listener: str
    outbox: trio.MemorySendChannel[OutboxItem]
    cancel_scope: trio.CancelScope
    agent: str | None = None
    #: why the connection ended, once it has; reported to the engine as the logoff reason
    end_reason: str | None = None
    #: set by the writer when the outbox has drained to half; the reader waits on it (backpressure)
    drained: trio.Event = attrs.Factory(trio.Event)

    @property
    def backlog(self) -> int:
        """Messages waiting in the outbox."""
        return self.outbox.statistics().current_buffer_used

    def cut_off(self, reason: str) -> None:
        """End the connection now, without waiting for its outbox to drain."""
        if self.end_reason is None:
            self.end_reason = reason
        self.cancel_scope.cancel()


@attrs.define(eq=False)
class EngineDriver:
    """Owns the engine and the table of live connections."""

    engine: Engine
    outbox_size: int
    connections: dict[int, Connection] = attrs.Factory(dict)
    _last_conn: int = 0
    _timers_changed: trio.Event = attrs.Factory(trio.Event)
    #: the deadline the timer task sleeps until; it is woken only when the engine's changes
    _waiting_for: float | None = None

    def open_connection(
        self, peer: str, listener: str, cancel_scope: trio.CancelScope
    ) -> tuple[Connection, trio.MemoryReceiveChannel[OutboxItem]]:
        """Register a new connection; returns it and the receiving end of its outbox."""
        self._last_conn += 1
        send, receive = trio.open_memory_channel[OutboxItem](self.outbox_size)
        connection = Connection(self._last_conn, peer, listener, send, cancel_scope)
        self.connections[connection.conn] = connection
        return connection, receive

    def forget_connection(self, connection: Connection) -> None:
        """Remove a connection that has ended (its handler calls this last)."""
        self.connections.pop(connection.conn, None)
        connection.outbox.close()

    def dispatch(self, event: Input | SupervisorInput) -> None:
        """Feed ``event`` to the engine now and carry out what it returns.

        Raises:
            OperationRefused: a supervisor input the engine refused (nothing changed).
        """
        self.apply(self.engine.handle(event, trio.current_time()))

    def apply(self, effects: list[Effect]) -> None:
        """Carry out the engine's effects, in order."""
        for effect in effects:
            match effect:
                case Send(conn=conn, message=message):
                    self.enqueue(conn, message)
                case Close(conn=conn, reason=reason):
                    self.enqueue(conn, CloseRequest(reason))
                case AgentEvent():
                    self._note(effect)
                case JobEvent(job=job, state=state, detail=detail):
                    log.info("job_changed", job=job, state=state, detail=detail)
        if self.engine.next_deadline() != self._waiting_for:
            self._timers_changed.set()

    def enqueue(self, conn: int, item: OutboxItem) -> None:
        """Queue ``item`` for connection ``conn``; a connection whose outbox is full is cut off."""
        connection = self.connections.get(conn)
        if connection is None or connection.end_reason is not None:
            return
        try:
            connection.outbox.send_nowait(item)
        except trio.WouldBlock:
            log.warning("outbox_full_disconnect", conn=conn, agent=connection.agent, peer=connection.peer)
            connection.cut_off("outbox full: the client stopped reading")
        except (trio.ClosedResourceError, trio.BrokenResourceError):
            pass

    def _note(self, event: AgentEvent) -> None:
        connection = self.connections.get(event.conn)
        if connection is not None:
            if event.kind == "logged_on":
                connection.agent = event.agent
            elif event.kind == "logged_off":
                connection.agent = None
        fields = {"agent": event.agent, "conn": event.conn}
        if event.state is not None:
            fields["state"] = event.state
        if event.job is not None:
            fields["job"] = event.job
        if event.detail:
            fields["detail"] = event.detail
        log.info(f"agent_{event.kind}", **fields)

    async def run_timers(self) -> None:
        """Call the engine's ``tick`` whenever its next deadline passes; runs until cancelled."""
        while True:
            deadline = self._waiting_for = self.engine.next_deadline()
            self._timers_changed = trio.Event()
            with trio.move_on_at(deadline if deadline is not None else float("inf")):
                await self._timers_changed.wait()
                continue
            self.apply(self.engine.tick(trio.current_time()))
