"""The report of a run: built once from the run's result, shown as text and written as JSON.

The same :class:`Report` value feeds both, so the terminal and ``--json`` never disagree.  Thresholds
(``--max-p99``, ``--max-errors``) are checked here; a threshold on something that never happened (no
sample of that command) is a breach, not a pass: a CI gate must not go green on an empty run.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from ._runner import RunResult
from ._scenario import Scenario
from ._stats import LatencyHistogram, LoadStats

__all__ = ["SATURATED_CPU_SHARE", "SATURATED_LAG_P99", "Latency", "Report", "ThresholdCheck", "build_report"]

#: Above this event-loop lag (p99, seconds) the generator is called saturated.
SATURATED_LAG_P99 = 0.050
#: Above this share of one core the generator is called saturated (it runs on one core).
SATURATED_CPU_SHARE = 0.90


@attrs.frozen
class Latency:
    """A latency distribution in milliseconds."""

    count: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float

    @classmethod
    def of(cls, histogram: LatencyHistogram) -> Latency:
        """Summarise ``histogram``."""
        def ms(seconds: float) -> float:
            return round(seconds * 1000, 3)

        return cls(
            count=histogram.count,
            p50_ms=ms(histogram.percentile(50)),
            p95_ms=ms(histogram.percentile(95)),
            p99_ms=ms(histogram.percentile(99)),
            max_ms=ms(histogram.max),
            mean_ms=ms(histogram.mean),
        )


@attrs.frozen
class CodeCount:
    """How often a command was refused with a code."""

    keyword: str
    code: str
    count: int


@attrs.frozen
class DisruptionReport:
    """A supervisor action and how long its agents took to hear of it."""

    action: str
    http_status: int | None
    problem: str | None
    affected: int
    on_call: int
    notified: int
    latency: Latency
    after_call: Latency


@attrs.frozen
class ThresholdCheck:
    """One threshold and whether the run met it."""

    name: str
    limit: float
    value: float | None
    ok: bool
    note: str


@attrs.frozen
class Report:
    """Everything the run measured.  ``passed`` is false when a threshold was breached."""

    target: str
    agents: int
    duration_s: float
    wall_s: float
    started: int
    connected: int
    logged_on: int
    logged_off: int
    cut_off: int
    working_at_stop: int
    waiting_at_stop: int
    never_assigned: int
    commands: int
    commands_per_s: float
    command_latency: dict[str, Latency]
    connect_latency: Latency
    calls: dict[str, int]
    calls_finished: int
    calls_per_s: float
    callbacks_set: int
    customer_hangups: int
    moves: dict[str, int]
    notifications: dict[str, int]
    disruptions: tuple[DisruptionReport, ...]
    errors: int
    errors_by_code: tuple[CodeCount, ...]
    races_by_code: tuple[CodeCount, ...]
    connect_failures: dict[str, int]
    disconnects: dict[str, int]
    failures: dict[str, int]
    loop_lag: Latency
    generator_cpu_s: float
    generator_cpu_share: float
    generator_saturated: bool
    thresholds: tuple[ThresholdCheck, ...]
    passed: bool

    def to_json(self) -> dict[str, Any]:
        """The report as JSON-ready data (the same fields as the attributes)."""
        return attrs.asdict(self, recurse=True)


def build_report(result: RunResult) -> Report:
    """Summarise ``result`` and check the scenario's thresholds."""
    scenario, stats = result.scenario, result.stats
    wall = max(result.wall_seconds, 1e-9)
    lag = Latency.of(stats.loop_lag)
    cpu_share = result.cpu_seconds / wall
    # Agents still running when the drain time ran out never logged off: errors too, for a CI gate.
    errors = stats.error_count + result.agents_cut_off
    checks = _check_thresholds(scenario, stats, errors)
    return Report(
        target=f"{'tls' if scenario.tls else 'tcp'}://{scenario.host}:{scenario.port}",
        agents=scenario.agents,
        duration_s=scenario.duration,
        wall_s=round(result.wall_seconds, 3),
        started=stats.started,
        connected=stats.connected,
        logged_on=stats.logged_on,
        logged_off=stats.logged_off,
        cut_off=result.agents_cut_off,
        working_at_stop=stats.working_at_stop,
        waiting_at_stop=stats.waiting_at_stop,
        never_assigned=stats.never_assigned,
        commands=stats.commands_answered,
        commands_per_s=round(stats.commands_answered / wall, 1),
        command_latency={keyword: Latency.of(stats.commands[keyword]) for keyword in sorted(stats.commands)},
        connect_latency=Latency.of(stats.connect),
        calls=dict(sorted(stats.calls.items())),
        calls_finished=stats.finished,
        calls_per_s=round(stats.finished / wall, 2),
        callbacks_set=stats.callbacks,
        customer_hangups=stats.hangups,
        moves=dict(sorted(stats.moves.items())),
        notifications=dict(sorted(stats.notifications.items())),
        disruptions=tuple(
            DisruptionReport(
                disruption.label,
                disruption.status,
                disruption.problem,
                disruption.affected,
                disruption.on_call,
                disruption.latency.count + disruption.after_call.count,
                Latency.of(disruption.latency),
                Latency.of(disruption.after_call),
            )
            for disruption in stats.disruptions
        ),
        errors=errors,
        errors_by_code=_code_counts(stats.errors),
        races_by_code=_code_counts(stats.races),
        connect_failures=dict(stats.connect_failures),
        disconnects=dict(stats.disconnects),
        failures=dict(stats.failures),
        loop_lag=lag,
        generator_cpu_s=round(result.cpu_seconds, 2),
        generator_cpu_share=round(cpu_share, 3),
        generator_saturated=lag.p99_ms / 1000 > SATURATED_LAG_P99 or cpu_share > SATURATED_CPU_SHARE,
        thresholds=checks,
        passed=all(check.ok for check in checks),
    )


def _code_counts(counter: Mapping[tuple[str, str], int]) -> tuple[CodeCount, ...]:
    return tuple(
        CodeCount(keyword, code, count) for (keyword, code), count in sorted(counter.items(), key=lambda item: -item[1])
    )


def _check_thresholds(scenario: Scenario, stats: LoadStats, errors: int) -> tuple[ThresholdCheck, ...]:
    checks = []
    for name, limit in scenario.max_p99:
        histograms = _histograms_named(stats, name)
        samples = sum(histogram.count for histogram in histograms)
        if not samples:
            checks.append(ThresholdCheck(f"p99 {name}", limit, None, False, "no samples: nothing to judge"))
            continue
        worst = max(histogram.percentile(99) for histogram in histograms if histogram.count)
        checks.append(ThresholdCheck(f"p99 {name}", limit, worst, worst <= limit, f"{samples} samples"))
    if scenario.max_errors is not None:
        ok = errors <= scenario.max_errors
        note = "refusals, connection failures, drops, agents that did not log off"
        checks.append(ThresholdCheck("errors", scenario.max_errors, errors, ok, note))
    return tuple(checks)


def _histograms_named(stats: LoadStats, name: str) -> list[LatencyHistogram]:
    """A command keyword, ``connect``, or an action kind (``pause``: every pause's notifications to the
    agents that were not on a call, who are moved at once)."""
    if name in stats.commands:
        return [stats.commands[name]]
    if name == "connect":
        return [stats.connect]
    return [disruption.latency for disruption in stats.disruptions if disruption.label.split(" ", 1)[0] == name]
