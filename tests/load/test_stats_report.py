"""Unit tests of ``agt-load``'s measurements and report: HDR latency histograms and threshold checks.

The histograms are real ``hdrhistogram`` ones (three significant digits), so percentiles are checked to
0.1 %.  Reports are built from hand-filled :class:`LoadStats`, as a finished run hands them over.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agt_server.load import (
    Disruption,
    LatencyHistogram,
    LoadStats,
    RunResult,
    Scenario,
    build_report,
)

#: HDR histograms with three significant digits are exact to one part in a thousand (or better).
PRECISION = 1e-3


def histogram_of(*seconds: float) -> LatencyHistogram:
    histogram = LatencyHistogram()
    for value in seconds:
        histogram.record(value)
    return histogram


def result(scenario: Scenario, stats: LoadStats, *, wall: float = 10.0, cpu: float = 1.0) -> RunResult:
    return RunResult(scenario, stats, wall, cpu, 0)


class TestLatencyHistogram:
    def test_empty_gives_zero(self) -> None:
        """An empty histogram has no samples, and every statistic is 0."""
        histogram = LatencyHistogram()
        assert (histogram.count, histogram.percentile(50), histogram.percentile(99), histogram.max, histogram.mean) == (
            0,
            0.0,
            0.0,
            0.0,
            0.0,
        )

    def test_percentiles_of_1_to_1000_ms(self) -> None:
        """1 ms to 1000 ms, one sample each: p50 is 500 ms, p99 990 ms, max 1 s, mean 500.5 ms, within 0.1 %."""
        histogram = histogram_of(*(ms / 1000 for ms in range(1, 1001)))
        assert histogram.count == 1000
        assert histogram.percentile(50) == pytest.approx(0.500, rel=PRECISION)
        assert histogram.percentile(95) == pytest.approx(0.950, rel=PRECISION)
        assert histogram.percentile(99) == pytest.approx(0.990, rel=PRECISION)
        assert histogram.percentile(100) == pytest.approx(1.0, rel=PRECISION)
        assert histogram.max == pytest.approx(1.0, rel=PRECISION)
        assert histogram.mean == pytest.approx(0.5005, rel=PRECISION)

    def test_microsecond_resolution(self) -> None:
        """Sub-millisecond latencies keep their microseconds."""
        histogram = histogram_of(0.000250, 0.000250, 0.000900)
        assert histogram.percentile(50) == pytest.approx(0.000250, rel=PRECISION)
        assert histogram.max == pytest.approx(0.000900, rel=PRECISION)

    def test_out_of_range_is_clamped(self) -> None:
        """Zero and negative durations count as 1 µs, and anything above an hour as an hour."""
        histogram = histogram_of(0.0, -5.0, 10_000.0)
        assert histogram.count == 3
        assert histogram.percentile(50) == pytest.approx(1e-6, rel=PRECISION)
        assert histogram.max == pytest.approx(3600.0, rel=PRECISION)

    @settings(max_examples=50, deadline=None)
    @given(st.lists(st.integers(1, 3_600_000_000), min_size=1, max_size=200))
    def test_max_and_percentiles_within_precision(self, micros: list[int]) -> None:
        """The max is the largest sample and p50 the median, each at the histogram's precision."""
        histogram = histogram_of(*(us / 1e6 for us in micros))
        ordered = sorted(micros)
        assert histogram.count == len(micros)
        assert histogram.max == pytest.approx(ordered[-1] / 1e6, rel=PRECISION)
        # HDR's percentile is the value of the sample at rank ceil(p/100 * count).
        rank = max(1, -(-len(ordered) * 50 // 100))
        assert histogram.percentile(50) == pytest.approx(ordered[rank - 1] / 1e6, rel=PRECISION)


class TestLoadStats:
    def test_error_count_excludes_races(self) -> None:
        """Errors are refusals not explained by a race, connect failures, disconnects and failures."""
        stats = LoadStats()
        stats.errors["AGTReadyNextItem", "E28901"] += 2
        stats.errors["AGTLogon", "E28820"] += 1
        stats.races["AGTReadyNextItem", "E28901"] += 50
        stats.connect_failures["connection refused"] += 3
        stats.disconnects["the server closed the connection"] += 4
        stats.failures["ValueError: boom"] += 5
        assert stats.error_count == 2 + 1 + 3 + 4 + 5

    def test_command_latency_is_created_once(self) -> None:
        """``command_latency`` returns the same histogram for a keyword each time."""
        stats = LoadStats()
        stats.command_latency("AGTLogon").record(0.01)
        stats.command_latency("AGTLogon").record(0.02)
        stats.command_latency("AGTLogoff").record(0.01)
        assert stats.commands["AGTLogon"].count == 2
        assert stats.commands_answered == 3


class TestThresholds:
    def test_p99_below_measured_is_a_breach(self) -> None:
        """A p99 limit under the measured p99 fails the report; the check shows the measured value."""
        stats = LoadStats()
        stats.commands["AGTReadyNextItem"] = histogram_of(*(ms / 1000 for ms in range(1, 101)))
        report = build_report(result(Scenario(max_p99=(("AGTReadyNextItem", 0.050),)), stats))
        (check,) = report.thresholds
        assert (check.name, check.limit, check.ok) == ("p99 AGTReadyNextItem", 0.050, False)
        assert check.value == pytest.approx(0.099, rel=PRECISION)
        assert check.note == "100 samples"
        assert report.passed is False

    def test_p99_above_measured_is_ok(self) -> None:
        """A p99 limit over the measured p99 passes."""
        stats = LoadStats()
        stats.commands["AGTReadyNextItem"] = histogram_of(*(ms / 1000 for ms in range(1, 101)))
        report = build_report(result(Scenario(max_p99=(("AGTReadyNextItem", 0.2),)), stats))
        assert [check.ok for check in report.thresholds] == [True]
        assert report.passed is True

    def test_threshold_without_samples_is_a_breach(self) -> None:
        """A threshold on a keyword that never ran is a breach with the note "no samples", not a pass."""
        stats = LoadStats()
        stats.commands["AGTLogon"] = histogram_of(0.001)
        report = build_report(result(Scenario(max_p99=(("AGTSetCallback", 10.0), ("AGTLogon", 10.0))), stats))
        by_name = {check.name: check for check in report.thresholds}
        assert by_name["p99 AGTSetCallback"].ok is False
        assert by_name["p99 AGTSetCallback"].value is None
        assert "no samples" in by_name["p99 AGTSetCallback"].note
        assert by_name["p99 AGTLogon"].ok is True
        assert report.passed is False

    def test_connect_and_action_thresholds(self) -> None:
        """``connect`` judges the connect times and an action kind (``pause``) every pause's notifications
        to agents that were not on a call; other actions do not count."""
        stats = LoadStats()
        stats.connect = histogram_of(0.001, 0.002)
        pause = Disruption("pause CMP1 @1s", 1.0, affected=2)
        pause.latency = histogram_of(0.010, 0.020)
        pause.after_call = histogram_of(5.0)  # agents on a call: not the server's reaction time
        resume = Disruption("resume CMP1 @2s", 2.0, affected=1)
        resume.latency = histogram_of(9.0)
        stats.disruptions += [pause, resume]
        scenario = Scenario(max_p99=(("connect", 0.005), ("pause", 0.015), ("resume", 10.0)))
        checks = build_report(result(scenario, stats)).thresholds
        assert [(check.name, check.ok) for check in checks] == [
            ("p99 connect", True),
            ("p99 pause", False),
            ("p99 resume", True),
        ]
        assert checks[1].value == pytest.approx(0.020, rel=PRECISION)

    def test_max_errors_counts_errors_not_races(self) -> None:
        """max_errors counts refusals, connect failures, disconnects and failures, never races."""
        stats = LoadStats()
        stats.errors["AGTFinishedItem", "E28830"] += 1
        stats.connect_failures["refused"] += 1
        stats.disconnects["reset"] += 1
        stats.failures["KeyError: x"] += 1
        stats.races["AGTReadyNextItem", "E28901"] += 100
        at_limit = build_report(result(Scenario(max_errors=4), stats))
        assert [(check.name, check.value, check.ok) for check in at_limit.thresholds] == [("errors", 4, True)]
        assert at_limit.errors == 4
        assert at_limit.passed is True
        over = build_report(result(Scenario(max_errors=3), stats))
        assert [(check.name, check.value, check.ok) for check in over.thresholds] == [("errors", 4, False)]
        assert over.passed is False

    def test_races_alone_pass_max_errors_0(self) -> None:
        """A run with only races passes max_errors = 0."""
        stats = LoadStats()
        stats.races["AGTReadyNextItem", "E28901"] += 3
        report = build_report(result(Scenario(max_errors=0), stats))
        assert report.errors == 0
        assert report.passed is True
        assert [(count.keyword, count.code, count.count) for count in report.races_by_code] == [
            ("AGTReadyNextItem", "E28901", 3)
        ]

    def test_no_thresholds_passes(self) -> None:
        """Without thresholds there is nothing to breach."""
        report = build_report(result(Scenario(), LoadStats()))
        assert report.thresholds == ()
        assert report.passed is True


class TestReport:
    def full_stats(self) -> LoadStats:
        stats = LoadStats()
        stats.commands["AGTLogon"] = histogram_of(0.002, 0.004)
        stats.commands["AGTFinishedItem"] = histogram_of(0.001)
        stats.errors["AGTFinishedItem", "E28830"] += 1
        stats.races["AGTReadyNextItem", "E28901"] += 2
        stats.notifications.update({"AGTCallNotify": 3, "AGTJobAssigned": 2})
        stats.moves.update({"assigned": 2})
        stats.calls.update({"OUTBOUND": 3})
        stats.finished, stats.started, stats.connected, stats.logged_on, stats.logged_off = 3, 2, 2, 2, 2
        stats.connect_failures["refused"] += 1
        disruption = Disruption("pause CMP1 @1s", 1.0, affected=2, on_call=1, status=200)
        disruption.latency.record(0.01)
        disruption.after_call.record(0.5)
        stats.disruptions.append(disruption)
        stats.loop_lag = histogram_of(0.001)
        return stats

    def test_fields(self) -> None:
        """The report carries the run's counts, latencies in ms and each disruption's notifications."""
        scenario = Scenario(agents=2, port=12345, tls=True, insecure=True, duration=8.0)
        report = build_report(RunResult(scenario, self.full_stats(), 10.0, 2.0, 1))
        assert report.target == "tls://127.0.0.1:12345"
        assert (report.agents, report.duration_s, report.wall_s, report.cut_off) == (2, 8.0, 10.0, 1)
        assert (report.commands, report.commands_per_s) == (3, 0.3)
        assert list(report.command_latency) == ["AGTFinishedItem", "AGTLogon"]
        assert report.command_latency["AGTLogon"].count == 2
        assert report.command_latency["AGTLogon"].max_ms == pytest.approx(4.0, rel=PRECISION)
        assert (report.calls, report.calls_finished, report.calls_per_s) == ({"OUTBOUND": 3}, 3, 0.3)
        # The refusal, the connect failure and the agent cut off at the end; the races are apart.
        assert report.errors == 3
        (disruption,) = report.disruptions
        assert (disruption.http_status, disruption.affected, disruption.on_call, disruption.notified) == (200, 2, 1, 2)
        assert report.generator_cpu_share == 0.2
        assert report.generator_saturated is False

    def test_saturation(self) -> None:
        """A generator using nearly a whole core, or whose loop wakes late, is called saturated."""
        busy = build_report(RunResult(Scenario(), LoadStats(), 10.0, 9.5, 0))
        assert busy.generator_saturated is True
        stats = LoadStats()
        stats.loop_lag = histogram_of(0.2)
        assert build_report(RunResult(Scenario(), stats, 10.0, 0.1, 0)).generator_saturated is True

    def test_to_json_is_json(self) -> None:
        """``to_json()`` is plain JSON (no NaN) that reads back with the same fields."""
        stats = self.full_stats()
        scenario = Scenario(max_p99=(("AGTLogon", 1.0), ("AGTSetCallback", 1.0)), max_errors=0)
        report = build_report(result(scenario, stats))
        text = json.dumps(report.to_json(), allow_nan=False)
        data = json.loads(text)
        assert data["commands"] == 3
        assert data["errors"] == 2
        assert data["passed"] is False
        assert data["command_latency"]["AGTLogon"]["count"] == 2
        assert data["disruptions"][0]["action"] == "pause CMP1 @1s"
        assert [check["ok"] for check in data["thresholds"]] == [True, False, False]
        assert data["races_by_code"] == [{"keyword": "AGTReadyNextItem", "code": "E28901", "count": 2}]

    def test_error_codes_most_frequent_first(self) -> None:
        """Refusals are listed by code, the most frequent first."""
        stats = LoadStats()
        stats.errors = Counter({("AGTLogon", "E1"): 1, ("AGTReadyNextItem", "E2"): 5, ("AGTFinishedItem", "E3"): 3})
        report = build_report(result(Scenario(), stats))
        assert [count.count for count in report.errors_by_code] == [5, 3, 1]
