"""The ``agt-server`` command: run the server, or hash a password for the configuration.

``agt-server`` alone runs the embedded demo configuration; ``--config FILE`` runs a site
configuration.  A bad configuration or a port in use ends the program with one clear message (exit
status 2 and 1), never a traceback.
"""

from __future__ import annotations

import argparse
import getpass
import ipaddress
import os
import signal
import sys
from pathlib import Path

import attrs
import structlog
import trio

from agt_server import __version__
from agt_server.config import ConfigError, SiteConfig, demo_config, hash_password, load_config
from agt_server.demo import DEMO_AGENTS, run_demo_activity
from agt_server.server import AgentServer, BoundPorts, configure_logging
from agt_server.store import StoreError

__all__ = ["main"]

log = structlog.get_logger("agt_server")


def _port(value: str) -> int | None:
    if value == "off":
        return None
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number or 'off'") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is outside 0-65535")
    return port


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="agt-server",
        description="An AGT agent server (Avaya Proactive Contact / POM) with Agent Preferred Campaigns.",
        epilog="Without --config the embedded demo configuration runs (see the README). "
        "'agt-server hash-password' prints a password hash for a configuration file.",
    )
    parser.add_argument("--version", action="version", version=f"agt-server {__version__}")
    parser.add_argument("--config", type=Path, metavar="FILE", help="site configuration (TOML)")
    parser.add_argument("--host", help="address to listen on (default from the configuration: 127.0.0.1)")
    for name, what in (
        ("agent", "wire"),
        ("tls", "TLS"),
        ("tty", "tty (telnet)"),
        ("http", "supervisor REST API and dashboard"),
    ):
        parser.add_argument(
            f"--{name}-port", type=_port, default=argparse.SUPPRESS, metavar="PORT",
            help=f"{what} listener port; 0 = any free port, 'off' = disabled",
        )
    parser.add_argument("--data-dir", type=Path, metavar="DIR", help="where the server keeps its files")
    parser.add_argument(
        "--db", metavar="PATH",
        help="the SQLite database of durable data (default: agt_server.sqlite3 in the data directory); "
        "':memory:' for a throwaway run",
    )
    parser.add_argument("--port-file", type=Path, metavar="PATH", help="write the bound ports as JSON once listening")
    parser.add_argument(
        "--no-demo-activity", dest="demo_activity", action="store_false",
        help="with the demo configuration, do not run the simulated agents (agent11-agent20) and the "
        "director that pauses and resumes CMP1-CMP4",
    )
    parser.add_argument("--log-format", choices=("console", "json"), default="console")
    parser.add_argument("--log-level", choices=("debug", "info", "warning", "error"), default="info")
    return parser


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _hash_password_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="agt-server hash-password",
        description="Read a password (prompted, or one line from standard input) and print its hash "
        "for a configuration's password_hash.",
    )
    parser.add_argument("--cost", type=int, default=14, help="scrypt cost as a power of two (default 14)")
    args = parser.parse_args(argv)
    if sys.stdin.isatty():
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            print("agt-server hash-password: the passwords differ", file=sys.stderr)
            return 2
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        print("agt-server hash-password: empty password", file=sys.stderr)
        return 2
    print(hash_password(password, cost=args.cost))
    return 0


def _configure(args: argparse.Namespace) -> SiteConfig:
    config = load_config(args.config) if args.config else demo_config()
    listeners = config.listeners
    overrides = {
        key: getattr(args, key)
        for key in ("agent_port", "tls_port", "tty_port", "http_port")
        if hasattr(args, key)
    }
    if args.host:
        overrides["host"] = args.host
    config = attrs.evolve(config, listeners=attrs.evolve(listeners, **overrides))
    if args.config is None and not _is_loopback(config.listeners.host):
        raise ConfigError(
            f"the demo configuration listens on this machine only (127.0.0.1, ::1 or localhost), not "
            f"{config.listeners.host}: its REST API tokens and agent passwords are public; "
            "run a site configuration (--config FILE) with tokens of your own to listen elsewhere"
        )
    if args.data_dir:
        config = attrs.evolve(config, data_dir=args.data_dir)
    if args.db:
        database = args.db if args.db == ":memory:" else str(Path(args.db).resolve())
        config = attrs.evolve(config, simulation=attrs.evolve(config.simulation, database=database))
    return config


async def _run(server: AgentServer, port_file: Path | None, demo_activity: bool) -> None:
    config = server.config
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:
            ports = await nursery.start(server.serve)
            if port_file is not None:
                partial_file = port_file.with_name(port_file.name + ".tmp")
                partial_file.write_text(ports.to_json())
                os.replace(partial_file, port_file)
            log.info("ready", configuration=config.source, agents=len(config.agents), jobs=len(config.jobs))
            activity = trio.CancelScope()
            if demo_activity and ports.agent is not None:
                nursery.start_soon(_demo_activity, server, ports, activity)
            async for received in signals:
                log.info("signal_received", signal=signal.Signals(received).name)
                activity.cancel()
                await server.shutdown()
                break


async def _demo_activity(server: AgentServer, ports: BoundPorts, scope: trio.CancelScope) -> None:
    log.info("demo_activity", agents=", ".join(DEMO_AGENTS), note="agent1-agent10 are free for you")
    with scope:
        await run_demo_activity(server, ports)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``agt-server``; returns the process exit status."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["hash-password"]:
        return _hash_password_main(argv[1:])
    args = _parser().parse_args(argv)
    configure_logging(args.log_format, args.log_level)
    try:
        config = _configure(args)
    except ConfigError as exc:
        print(f"agt-server: configuration error: {exc}", file=sys.stderr)
        return 2
    try:
        server = AgentServer(config)
    except (ConfigError, StoreError) as exc:
        print(f"agt-server: cannot start: {exc}", file=sys.stderr)
        return 2
    try:
        trio.run(_run, server, args.port_file, args.demo_activity and args.config is None)
    except (OSError, ExceptionGroup) as exc:
        # trio's nurseries wrap a failed bind in exception groups; report the OS error itself.
        cause = _first_os_error(exc)
        if cause is None:
            raise
        print(f"agt-server: cannot start: {cause}", file=sys.stderr)
        return 1
    return 0


def _first_os_error(exc: BaseException) -> OSError | None:
    if isinstance(exc, OSError):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            found = _first_os_error(inner)
            if found is not None:
                return found
    return None
