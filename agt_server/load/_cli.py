"""``agt-load``: the command line of the load generator.

Exit status: 0 the run completed and met its thresholds; 1 a threshold was breached; 2 the scenario
or the command line is wrong (nothing was run); 3 no agent could log on (the server is down, or the
names or passwords are wrong); 130 aborted by a second Ctrl-C (the first one ends the run early, with
its report).
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import sys
import threading
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import structlog
import trio
from rich.console import Console

from ._display import LiveProgress, render_report
from ._report import build_report
from ._runner import raise_open_file_limit, run_load
from ._scenario import MAX_AGENTS, Scenario, ScenarioError, parse_threshold, scenario_from_mapping

__all__ = ["main", "scenario_from_args"]

EXIT_OK, EXIT_BREACH, EXIT_USAGE, EXIT_NOTHING_RAN, EXIT_ABORTED = 0, 1, 2, 3, 130

_EPILOG = """\
Examples:
  agt-load --agents 1000 --duration 60s            # against `make run`'s demo (agents load1...)
  agt-load examples/load/demo.toml --json out.json --max-p99 AGTReadyNextItem=50ms --max-errors 0
  agt-load --agents 50 --attach CMP1 --talk 1s..3s --codes 20=1,21=3

Durations: 250ms, 60s, 2m, 1h or plain seconds; ranges: 2s..5s.  Flags override the scenario file.
Exit status: 0 ok, 1 a threshold breached, 2 bad scenario or flags, 3 no agent could log on,
130 aborted.  Ctrl-C once: stop now, log off and report; twice: abort.
"""

#: Flags that map onto a key of the scenario file: flag destination -> (section, key).
_FLAG_KEYS: dict[str, tuple[str, str]] = {
    "host": ("server", "host"),
    "port": ("server", "port"),
    "tls": ("server", "tls"),
    "ca_file": ("server", "ca_file"),
    "insecure": ("server", "insecure"),
    "api": ("server", "api"),
    "token": ("server", "token"),
    "agents": ("agents", "count"),
    "first": ("agents", "first"),
    "name": ("agents", "name"),
    "password": ("agents", "password"),
    "headset": ("agents", "headset"),
    "ramp_up": ("agents", "ramp_up"),
    "work_class": ("agents", "work_class"),
    "preferred": ("agents", "preferred"),
    "attach": ("agents", "attach"),
    "duration": ("run", "duration"),
    "drain": ("run", "drain"),
    "seed": ("run", "seed"),
    "talk": ("calls", "talk"),
    "wrap": ("calls", "wrap"),
    "think": ("calls", "think"),
    "release": ("calls", "release"),
    "codes": ("calls", "codes"),
    "callback_rate": ("calls", "callback_rate"),
    "callback_after": ("calls", "callback_after"),
    "max_p99": ("thresholds", "max_p99"),
    "max_errors": ("thresholds", "max_errors"),
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="agt-load",
        description="Simulate many AGT agents against an AGT server and report what they measured.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("scenario", nargs="?", type=Path, help="a scenario file (TOML; see examples/load/)")
    server = parser.add_argument_group("server")
    server.add_argument("--host", help="the AGT server (default 127.0.0.1)")
    server.add_argument("--port", type=int, help="its AGT port (default 22700)")
    server.add_argument("--tls", action="store_const", const=True, help="connect with TLS")
    server.add_argument("--ca-file", help="with --tls: the CA certificate to trust (default: the system's)")
    server.add_argument(
        "--insecure", action="store_const", const=True, help="with --tls: do not check the certificate (test servers)"
    )
    server.add_argument("--api", help="the REST API's base URL, for scenario actions (e.g. http://127.0.0.1:8080)")
    server.add_argument("--token", help="the REST API token for scenario actions")
    agents = parser.add_argument_group("agents")
    agents.add_argument("--agents", type=int, help=f"how many agents (default 100, at most {MAX_AGENTS:,})")
    agents.add_argument("--first", type=int, help="the number of the first agent (default 1)")
    agents.add_argument("--name", help="agent name pattern, {n} = number (default load{n})")
    agents.add_argument("--password", help="password pattern, {n} = number, {name} = name (default load)")
    agents.add_argument("--headset", help="headset id pattern, digits (default 5{n:05})")
    agents.add_argument("--ramp-up", help="agents started per second (default 100)")
    agents.add_argument("--work-class", help="AGTSetWorkClass after logon: O, I, B, P or M")
    agents.add_argument(
        "--preferred", help="comma-separated preferred jobs each agent sets ('' = an empty list: any campaign)"
    )
    agents.add_argument("--attach", help="comma-separated jobs to attach to in turn (default: server assignment)")
    run = parser.add_argument_group("run")
    run.add_argument("--duration", help="how long agents work before logging off (default 60s)")
    run.add_argument("--drain", help="how long agents get to finish their call and log off (default 30s)")
    run.add_argument("--seed", type=int, help="seed every random choice (default: random)")
    calls = parser.add_argument_group("calls")
    calls.add_argument("--talk", help="time on a call before AGTReleaseLine (default 2s..6s)")
    calls.add_argument("--wrap", help="time from release to AGTFinishedItem (default 500ms..2s)")
    calls.add_argument("--think", help="time from finishing to AGTReadyNextItem (default 0s..1s)")
    calls.add_argument("--no-release", dest="release", action="store_const", const=False, help="finish without release")
    calls.add_argument("--codes", help="completion codes with weights, e.g. 20=2,21=5,24=3 (the default)")
    calls.add_argument("--callback-rate", help="share of outbound calls that get a callback (default 0)")
    calls.add_argument("--callback-after", help="how far ahead callbacks are set (default 2h)")
    checks = parser.add_argument_group("thresholds and output")
    checks.add_argument(
        "--max-p99",
        action="append",
        metavar="KEYWORD=DURATION",
        help="fail (exit 1) if this command's p99 latency is above the limit; repeatable; KEYWORD may also be "
        "connect or an action kind such as pause",
    )
    checks.add_argument("--max-errors", type=int, help="fail (exit 1) if there are more errors than this")
    checks.add_argument("--json", type=Path, metavar="FILE", help="also write the report to FILE as JSON")
    checks.add_argument("--no-progress", action="store_true", help="do not show live progress")
    return parser


def scenario_from_args(args: argparse.Namespace) -> Scenario:
    """The scenario file (if any) with the flags laid over it."""
    data: dict[str, Any] = {}
    source = "command line"
    if args.scenario is not None:
        source = str(args.scenario)
        try:
            data = tomllib.loads(args.scenario.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ScenarioError(f"{source}: cannot read it: {exc.strerror or exc}") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ScenarioError(f"{source}: not valid TOML: {exc}") from None
    for destination, (section, key) in _FLAG_KEYS.items():
        value = getattr(args, destination)
        if value is None:
            continue
        if destination == "max_p99":
            value = [parse_threshold(item, "--max-p99") for item in value]
            value = {keyword: limit for keyword, limit in value}
        table = data.setdefault(section, {})
        if not isinstance(table, dict):
            raise ScenarioError(f"{source}: [{section}] must be a table")
        table[key] = value
    return scenario_from_mapping(data, source)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``agt-load``; returns the exit status."""
    args = _parser().parse_args(argv)
    # The client logs at debug and info level per connection; a load run wants only warnings, with plain
    # tracebacks (rich ones would render every frame's locals).
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.dev.ConsoleRenderer(exception_formatter=structlog.dev.plain_traceback),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
    )
    errors = Console(stderr=True)
    try:
        scenario = scenario_from_args(args)
    except ScenarioError as exc:
        errors.print(f"agt-load: error: {exc}", markup=False, highlight=False, soft_wrap=True)
        return EXIT_USAGE
    limit_note = raise_open_file_limit(scenario.agents)
    if limit_note:
        errors.print(f"agt-load: {limit_note}", markup=False, highlight=False, soft_wrap=True)
    errors.print(
        f"agt-load: {scenario.agents:,} agents ({scenario.agent_name(scenario.first)}...) against "
        f"{scenario.host}:{scenario.port}{' (TLS)' if scenario.tls else ''} for {scenario.duration:g} s, "
        f"starting {scenario.ramp_up:g} per second",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    progress = LiveProgress(errors)
    try:
        with progress:
            result = trio.run(
                functools.partial(
                run_load,
                scenario,
                None if args.no_progress else progress.update,
                # Signals can only be received on the main thread (a test may call main() from another).
                interruptible=threading.current_thread() is threading.main_thread(),
            )
            )
    except (KeyboardInterrupt, BaseExceptionGroup) as exc:
        # A second Ctrl-C arrives as KeyboardInterrupt, possibly inside trio's exception group.
        if isinstance(exc, BaseExceptionGroup) and exc.subgroup(KeyboardInterrupt) is None:
            raise
        errors.print("agt-load: aborted (second Ctrl-C): no report", markup=False, highlight=False, soft_wrap=True)
        return EXIT_ABORTED
    report = build_report(result)
    output = Console()
    if not output.is_terminal:
        output = Console(width=max(output.width, 132))  # a file or pipe: no wrapping at 80 columns
    output.print(render_report(report))
    if args.json is not None:
        args.json.write_text(json.dumps(report.to_json(), indent=2) + "\n", encoding="utf-8")
    if report.logged_on == 0:
        return EXIT_NOTHING_RAN
    return EXIT_OK if report.passed else EXIT_BREACH


def entry_point() -> None:
    """The ``agt-load`` console script."""
    sys.exit(main())
