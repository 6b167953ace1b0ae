"""What a person sees: the live progress panel while the run goes, and the report at the end (rich).

Progress goes to standard error (it is redrawn in place on a terminal and printed every few seconds
otherwise), the report to standard output, so ``agt-load ... > report.txt`` keeps only the report.
"""

from __future__ import annotations

import time
from collections import deque

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from ._report import Latency, Report
from ._runner import Progress

__all__ = ["LiveProgress", "render_report"]

#: Seconds between progress lines when standard error is not a terminal.
_PLAIN_EVERY = 5.0
#: Seconds of history the rates are computed over.
_RATE_WINDOW = 2.0


class LiveProgress:
    """Receives :class:`Progress` snapshots and shows them; use as a context manager around the run."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._live = Live(console=console, refresh_per_second=4, transient=True) if console.is_terminal else None
        self._history: deque[tuple[float, int, int]] = deque()
        self._last_plain = 0.0

    def __enter__(self) -> LiveProgress:
        if self._live is not None:
            self._live.__enter__()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._live is not None:
            self._live.__exit__(None, None, None)

    def update(self, progress: Progress) -> None:
        """Show ``progress`` (called by the runner every half second)."""
        stats = progress.stats
        now = time.monotonic()
        self._history.append((now, stats.commands_answered, stats.finished))
        while len(self._history) > 2 and now - self._history[0][0] > _RATE_WINDOW:
            self._history.popleft()
        then, commands_then, calls_then = self._history[0]
        span = max(now - then, 1e-9)
        commands_rate = (stats.commands_answered - commands_then) / span
        calls_rate = (stats.finished - calls_then) / span
        errors = sum(stats.errors.values())
        lag = stats.loop_lag.percentile(99) * 1000
        codes = ", ".join(f"{code} x{count}" for (_, code), count in stats.errors.most_common(4))
        phase = "logging off" if progress.stopping else f"{progress.elapsed:5.1f} / {progress.duration:g} s"
        line = (
            f"{phase} | agents on {progress.connected} (started {stats.started}, on a call {progress.on_call}) | "
            f"commands/s {commands_rate:,.0f} | calls/s {calls_rate:,.1f} (finished {stats.finished:,}) | "
            f"errors {errors}{f' ({codes})' if codes else ''} | loop lag p99 {lag:.1f} ms"
        )
        if self._live is not None:
            self._live.update(Text(line))
        elif now - self._last_plain >= _PLAIN_EVERY:
            self._last_plain = now
            self._console.print(line, soft_wrap=True)


def _latency_row(name: str, latency: Latency) -> list[str]:
    return [
        name,
        f"{latency.count:,}",
        f"{latency.p50_ms:.2f}",
        f"{latency.p95_ms:.2f}",
        f"{latency.p99_ms:.2f}",
        f"{latency.max_ms:.2f}",
    ]


def _latency_table(title: str) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("what")
    for column in ("count", "p50 ms", "p95 ms", "p99 ms", "max ms"):
        table.add_column(column, justify="right")
    return table


def render_report(report: Report) -> Group:
    """The report as rich renderables, in reading order."""
    parts: list[RenderableType] = []
    parts.append(
        Text(
            f"agt-load: {report.agents:,} agents against {report.target} for {report.duration_s:g} s "
            f"(ran {report.wall_s:.1f} s with logoff)\n"
            f"agents: started {report.started:,}, connected {report.connected:,}, logged on {report.logged_on:,}, "
            f"logged off {report.logged_off:,}, cut off at the end {report.cut_off:,}\n"
            f"at the stop time: {report.working_at_stop:,} had a job, {report.waiting_at_stop:,} were waiting for "
            f"one; {report.never_assigned:,} never had a job\n"
            f"commands: {report.commands:,} answered ({report.commands_per_s:,.0f}/s); calls: "
            f"{', '.join(f'{kind} {count:,}' for kind, count in report.calls.items()) or 'none'}; finished "
            f"{report.calls_finished:,} ({report.calls_per_s:,.1f}/s); callbacks set {report.callbacks_set:,}; "
            f"customer hang-ups {report.customer_hangups:,}"
        )
    )
    commands = _latency_table("Command latency (send to final reply)")
    for keyword, latency in report.command_latency.items():
        commands.add_row(*_latency_row(keyword, latency))
    commands.add_row(*_latency_row("(connect to greeting)", report.connect_latency), style="dim")
    parts.append(commands)
    if report.disruptions:
        disruptions = _latency_table("Supervisor actions: request to each affected agent's move notification")
        disruptions.add_column("affected / notified / on a call", justify="right")
        disruptions.add_column("HTTP")
        for item in report.disruptions:
            row = _latency_row(item.action, item.latency)
            row += [f"{item.affected:,} / {item.notified:,} / {item.on_call:,}", str(item.http_status or item.problem)]
            disruptions.add_row(*row)
            if item.after_call.count:
                disruptions.add_row(*_latency_row("  agents on a call (moved after it)", item.after_call), style="dim")
        parts.append(disruptions)
    if report.moves:
        parts.append(Text("server moves by reason: " + ", ".join(f"{k} {v:,}" for k, v in report.moves.items())))
    parts.append(_errors_text(report))
    parts.append(_generator_text(report))
    if report.thresholds:
        parts.append(_thresholds_text(report))
    return Group(*parts)


def _errors_text(report: Report) -> Text:
    text = Text(f"errors: {report.errors:,}", style="bold red" if report.errors else "bold green")
    for item in report.errors_by_code:
        text.append(f"\n  {item.keyword} refused {item.code}: {item.count:,}")
    for title, counts in (
        ("could not connect or log on", report.connect_failures),
        ("disconnected by the server or the network", report.disconnects),
        ("agent stopped by a generator failure", report.failures),
    ):
        for reason, count in counts.items():
            text.append(f"\n  {title}: {reason}: {count:,}")
    if report.races_by_code:
        races = sum(item.count for item in report.races_by_code)
        text.append(f"\nraces (refused because a server move crossed the command; not errors): {races:,}", style="")
        for item in report.races_by_code:
            text.append(f"\n  {item.keyword} refused {item.code}: {item.count:,}", style="")
    return text


def _generator_text(report: Report) -> Text:
    lag = report.loop_lag
    figures = (
        f"event-loop lag p50 {lag.p50_ms:.2f} ms, p99 {lag.p99_ms:.2f} ms, max {lag.max_ms:.1f} ms; "
        f"CPU {report.generator_cpu_s:.1f} s = {report.generator_cpu_share:.0%} of one core"
    )
    if report.generator_saturated:
        return Text(
            f"generator: SATURATED ({figures}): the latencies above include the generator's own delay; "
            f"run fewer agents per process or give it its own machine",
            style="bold yellow",
        )
    return Text(f"generator: kept up ({figures})", style="green")


def _thresholds_text(report: Report) -> Text:
    text = Text("thresholds: " + ("all met" if report.passed else "BREACHED"), style="bold")
    for check in report.thresholds:
        if check.name == "errors":
            shown = f"{check.value} (limit {check.limit:g})"
        else:
            value = "none" if check.value is None else f"{check.value * 1000:.2f} ms"
            shown = f"{value} (limit {check.limit * 1000:g} ms)"
        verdict = "ok" if check.ok else "BREACH"
        text.append(f"\n  {check.name}: {shown} {verdict} ({check.note})", style="green" if check.ok else "red")
    return text
