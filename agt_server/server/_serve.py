"""The server: listeners for the wire, TLS and tty framings around one engine driver."""

from __future__ import annotations

import datetime
import json
from functools import partial
from pathlib import Path

import attrs
import structlog
import trio

from agt_server.config import SiteConfig, load_all
from agt_server.engine import Engine, Expel
from agt_server.protocol import TtyCodec, WireCodec
from agt_server.store import MemoryStore, SqliteStore, Store, StoreWriter
from agt_server.supervisor import build_app, serve_http

from ._auth import LogonGate, LogonThrottle
from ._connection import ConnectionHandler, Listener, watch_timeouts
from ._driver import EngineDriver
from ._tls import demo_certificate, server_ssl_context

__all__ = ["AgentServer", "BoundPorts", "open_store"]

log = structlog.get_logger("agt_server.server")

#: Pending connections the kernel may queue per listener; a load test's connect storm needs many
#: (with a backlog of 100, 1,000 simultaneous connects take seconds of SYN retries).
_BACKLOG = 4096
#: How long sessions get, at shutdown, to receive their notice before the connections are cut.
_SHUTDOWN_GRACE = 2.0


def open_store(config: SiteConfig) -> Store:
    """The store ``config.simulation.database`` names: a SQLite file (relative to the data directory),
    SQLite in memory for ``:memory:``, or no persistence at all for ``none``."""
    database = config.simulation.database
    if database == "none":
        return MemoryStore()
    if database == ":memory:":
        return SqliteStore(database)
    path = Path(config.data_dir) / database
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteStore(path)


@attrs.frozen
class BoundPorts:
    """The ports the server listens on (``None`` for a disabled listener); ``http`` is the supervisor API's."""

    host: str
    agent: int | None
    tls: int | None
    tty: int | None
    http: int | None = None

    def to_json(self) -> str:
        """The ports as a JSON object, as ``--port-file`` writes them."""
        return json.dumps(attrs.asdict(self))


@attrs.define(eq=False)
class AgentServer:
    """One agt_server: the engine, its driver, the agent listeners and the supervisor API.

    Start it with ``ports = await nursery.start(server.serve)``; stop it with :meth:`shutdown` (clean:
    every session is told and closed, event streams end, open requests finish) or by cancelling the
    nursery.
    """

    config: SiteConfig
    driver: EngineDriver = attrs.field(init=False)
    gate: LogonGate = attrs.field(init=False)
    store: Store = attrs.field(init=False)
    _stopped: trio.Event = attrs.field(factory=trio.Event, init=False)
    #: set once serve() has stopped everything (listeners, HTTP, store)
    _finished: trio.Event = attrs.field(factory=trio.Event, init=False)
    _serving: bool = attrs.field(default=False, init=False)

    def __attrs_post_init__(self) -> None:
        """Open the store, load the calling lists and resume the engine from what was stored.

        Raises:
            ConfigError: a calling list cannot be read.
            StoreError: the database cannot be opened.
        """
        self.store = open_store(self.config)
        stored = self.store.load()
        records = load_all(self.config)
        local_zone = datetime.datetime.now().astimezone().tzinfo or datetime.UTC
        engine = Engine.from_config(self.config, records=records, stored=stored, zone=local_zone)
        self.driver = EngineDriver(engine, self.config.limits.outbox_size, StoreWriter(self.store))
        self.gate = LogonGate(
            {agent.name: agent.password_hash for agent in self.config.agents},
            LogonThrottle(self.config.throttle),
        )

    async def serve(self, *, task_status: trio.TaskStatus[BoundPorts] = trio.TASK_STATUS_IGNORED) -> None:
        """Listen and serve until :meth:`shutdown` or cancellation; reports the bound ports once listening."""
        self._serving = True
        try:
            await self._serve(task_status)
        finally:
            self._finished.set()

    async def _serve(self, task_status: trio.TaskStatus[BoundPorts]) -> None:
        listeners = self.config.listeners
        async with trio.open_nursery() as nursery:
            bound: dict[str, int | None] = {}
            for name, port, listener in self._listener_kinds():
                if port is None:
                    bound[name] = None
                    continue
                sockets = await trio.open_tcp_listeners(port, host=listeners.host, backlog=_BACKLOG)
                bound[name] = sockets[0].socket.getsockname()[1]
                handler = ConnectionHandler(
                    self.driver,
                    self.gate,
                    listener,
                    max_connections=self.config.limits.max_connections,
                    inter_message_delay=self.config.limits.inter_message_delay,
                    outbox_size=self.config.limits.outbox_size,
                )
                nursery.start_soon(partial(trio.serve_listeners, handler, sockets))
                log.info("listening", listener=name, address=f"{listeners.host}:{bound[name]}")
            writer = self.driver.writer
            assert writer is not None
            await nursery.start(writer.run)
            nursery.start_soon(self.driver.run_commits)
            nursery.start_soon(self.driver.run_timers)
            limits = self.config.limits
            watch = partial(watch_timeouts, idle_timeout=limits.idle_timeout, write_timeout=limits.write_timeout)
            nursery.start_soon(watch, self.driver)
            http_stop, http_done = trio.Event(), trio.Event()
            http_port = None
            if listeners.http_port is not None:
                http_port = await nursery.start(self._serve_http, http_stop, http_done)
                log.info("listening", listener="http", address=f"{listeners.host}:{http_port}")
            else:
                http_done.set()
            task_status.started(BoundPorts(listeners.host, bound["wire"], bound["tls"], bound["tty"], http_port))
            try:
                await self._stopped.wait()
                # Event streams end first, so that hypercorn's graceful shutdown has nothing to wait for.
                self.driver.hub.close()
                http_stop.set()
                await http_done.wait()
                await self.driver.durable()
                await writer.aclose()
            finally:
                nursery.cancel_scope.cancel()
                self.store.close()

    async def _serve_http(
        self, stop: trio.Event, done: trio.Event, *, task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED
    ) -> None:
        try:
            await serve_http(
                build_app(self),
                self.config.listeners.host,
                self.config.listeners.http_port or 0,
                shutdown_trigger=stop.wait,
                task_status=task_status,
            )
        finally:
            done.set()

    async def shutdown(self, reason: str = "server shutting down") -> None:
        """Tell every session ``AGTSystemError E28921,<reason>``, give them a moment to read it, then stop, and
        return once :meth:`serve` has closed everything."""
        log.info("shutting_down", sessions=len(self.driver.connections))
        for conn in list(self.driver.connections):
            self.driver.dispatch(Expel(conn, reason))
        with trio.move_on_after(_SHUTDOWN_GRACE):
            while self.driver.connections:
                await trio.sleep(0.01)
        self._stopped.set()
        if self._serving:
            await self._finished.wait()

    def _listener_kinds(self) -> list[tuple[str, int | None, Listener]]:
        listeners, encoding = self.config.listeners, self.config.protocol.encoding
        max_size = self.config.limits.max_message_size
        wire = partial(WireCodec, encoding=encoding, max_message_size=max_size)
        tty = partial(TtyCodec, encoding=encoding, max_message_size=max_size)
        tls_context = None
        if listeners.tls_port is not None:
            tls = self.config.tls
            if tls.certificate is not None and tls.key is not None:
                certificate, key = tls.certificate, tls.key
            else:
                certificate, key = demo_certificate(Path(self.config.data_dir) / "tls", listeners.host)
            tls_context = server_ssl_context(tls, certificate, key)
        return [
            ("wire", listeners.agent_port, Listener("wire", wire)),
            ("tls", listeners.tls_port, Listener("tls", wire, tls_context)),
            ("tty", listeners.tty_port, Listener("tty", tty)),
        ]
