"""The engine driver: feeds the engine, routes its effects to connections, runs its timers.

One engine, single-threaded on the trio loop: every input goes through :meth:`EngineDriver.dispatch`,
which calls the engine synchronously and applies the effects at once, so no locks are needed.
Connections get their messages through bounded outboxes read by their writer tasks; a connection
whose outbox is full is not reading, and it is cut off rather than allowed to slow anyone else.
"""

from __future__ import annotations

import time
from collections import deque

import attrs
import structlog
import trio

from agt_server.engine import (
    STORE_WRITE_TYPES,
    AgentEvent,
    Close,
    Effect,
    Engine,
    Input,
    JobEvent,
    Send,
    SupervisorInput,
)
from agt_server.protocol import Message
from agt_server.store import StoreClosedError, StoreWriter

from ._counters import Counters
from ._hub import EventHub
from ._outbox import Outbox

__all__ = ["CloseRequest", "Connection", "EngineDriver", "OutboxItem"]

log = structlog.get_logger("agt_server.server")


@attrs.frozen
class CloseRequest:
    """Tells a writer task to close its connection once everything queued before it is written."""

    reason: str


OutboxItem = Message | CloseRequest


@attrs.define(eq=False)
class Connection:
    """The shell's side of one connection.

    Ten thousand idle agents mean ten thousand of these, so everything here is small or created only
    when needed (benchmarks/scale.py).
    """

    conn: int
    peer: str
    listener: str
    outbox: Outbox[OutboxItem]
    #: cancels everything of this connection (its nursery's scope); set as soon as that nursery is open
    cancel_scope: trio.CancelScope | None = None
    agent: str | None = None
    #: why the connection ended, once it has; reported to the engine as the logoff reason
    end_reason: str | None = None
    #: while the reader waits for backpressure to ease: set by the writer once the outbox is down to half
    drained: trio.Event | None = None
    #: since when (trio time) the reader has been waiting for data; ``None`` while it is busy
    waiting_since: float | None = None
    #: since when (trio time) the writer's current send has been under way; ``None`` between sends
    sending_since: float | None = None
    #: told it was idle too long and logged off: nothing more is read from it
    idle_expelled: bool = False

    @property
    def backlog(self) -> int:
        """Messages waiting in the outbox."""
        return len(self.outbox)

    def cut_off(self, reason: str) -> None:
        """End the connection now, without waiting for its outbox to drain."""
        if self.end_reason is None:
            self.end_reason = reason
        if self.cancel_scope is not None:
            self.cancel_scope.cancel()


@attrs.define(eq=False)
class EngineDriver:
    """Owns the engine, the table of live connections, and the order in which effects go out.

    Effects that come with store writes are held until the writes are durable (a reply never
    acknowledges what a crash could lose); every later batch waits behind them, so messages still go
    out in the order the engine produced them.
    """

    engine: Engine
    outbox_size: int
    writer: StoreWriter | None = None
    hub: EventHub = attrs.Factory(EventHub)
    counters: Counters = attrs.Factory(Counters)
    connections: dict[int, Connection] = attrs.Factory(dict)
    #: when each agent last changed (logged on or off, state, job, preferred list): engine time
    last_change: dict[str, float] = attrs.Factory(dict)
    _last_conn: int = 0
    _timers_changed: trio.Event = attrs.Factory(trio.Event)
    #: the deadline the timer task sleeps until; it is woken only when the engine's changes
    _waiting_for: float | None = None
    #: batches of effects waiting for (or behind) a commit, in order
    _held: deque[list[Effect]] = attrs.Factory(deque)
    _committing: bool = False
    _held_changed: trio.Event = attrs.Factory(trio.Event)
    _drained: trio.Event = attrs.Factory(trio.Event)
    #: engine time is wall-clock seconds; this is its offset from trio's clock (set on first use)
    _epoch: float | None = None

    def now(self) -> float:
        """The engine's time: wall-clock seconds since the epoch, advancing with trio's clock."""
        if self._epoch is None:
            self._epoch = time.time() - trio.current_time()
        return trio.current_time() + self._epoch

    def open_connection(self, peer: str, listener: str) -> Connection:
        """Register a new connection (its writer task reads ``connection.outbox``)."""
        self._last_conn += 1
        connection = Connection(self._last_conn, peer, listener, Outbox(self.outbox_size))
        self.connections[connection.conn] = connection
        return connection

    def forget_connection(self, connection: Connection) -> None:
        """Remove a connection that has ended (its handler calls this last)."""
        self.connections.pop(connection.conn, None)
        connection.outbox.close()

    def dispatch(self, event: Input | SupervisorInput) -> None:
        """Feed ``event`` to the engine now and carry out what it returns.

        Raises:
            OperationRefused: a supervisor input the engine refused (nothing changed).
        """
        self.deliver(self.engine.handle(event, self.now()))

    def deliver(self, effects: list[Effect]) -> None:
        """Carry out ``effects`` now, or after the store writes among them (or before them) are durable."""
        if self.writer is not None and (
            self._held or self._committing or any(isinstance(effect, STORE_WRITE_TYPES) for effect in effects)
        ):
            self._held.append(effects)
            self._held_changed.set()
        else:
            self.apply(effects)

    async def run_commits(self) -> None:
        """Commit held store writes (grouped) and then carry out their batches, in order; runs until cancelled."""
        assert self.writer is not None
        while True:
            await self._held_changed.wait()
            self._held_changed = trio.Event()
            while self._held:
                batches = list(self._held)
                self._held.clear()
                writes = [effect for batch in batches for effect in batch if isinstance(effect, STORE_WRITE_TYPES)]
                self._committing = True
                try:
                    await self.writer.commit(writes)
                except StoreClosedError:
                    return  # the server is stopping: nothing more goes out
                finally:
                    self._committing = False
                for batch in batches:
                    self.apply(batch)
            self._drained.set()
            self._drained = trio.Event()

    async def durable(self) -> None:
        """Wait until everything dispatched so far is committed and carried out."""
        while self._held or self._committing:
            await self._drained.wait()

    def apply(self, effects: list[Effect]) -> None:
        """Carry out the engine's effects, in order (store writes are the commit task's business)."""
        counters = self.counters
        for effect in effects:
            counters.effect(effect)
            match effect:
                case Send(conn=conn, message=message):
                    self.enqueue(conn, message)
                case Close(conn=conn, reason=reason):
                    self.enqueue(conn, CloseRequest(reason))
                case AgentEvent():
                    self._note(effect)
                    self.hub.publish("agent", attrs.asdict(effect))
                case JobEvent(job=job, state=state, detail=detail):
                    log.info("job_changed", job=job, state=state, detail=detail)
                    self.hub.publish("campaign", {"campaign": job, "state": state, "detail": detail})
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
        except trio.ClosedResourceError:
            pass

    def _note(self, event: AgentEvent) -> None:
        self.last_change[event.agent] = self.now()
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
            trio_deadline = float("inf") if deadline is None else deadline - (self.now() - trio.current_time())
            with trio.move_on_at(trio_deadline):
                await self._timers_changed.wait()
                continue
            now = self.now()
            rebalance_due = self.engine.balancer.next_deadline()
            started = time.perf_counter()
            effects = self.engine.tick(now)
            if rebalance_due is not None and rebalance_due <= now:
                self.counters.rebalanced(time.perf_counter() - started)
            self.deliver(effects)
