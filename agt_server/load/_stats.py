"""What a load run counts and times, shared by every simulated agent of the run.

Latencies go into HDR histograms (``hdrhistogram`` on PyPI): constant memory whatever the number of
samples, three significant digits from one microsecond to one hour, and exact percentiles of the
recorded values at that precision, so that p99 over a million commands costs nothing extra.  One
histogram per command keyword and per measured event, shared by all agents: the whole run is one
trio process, so no locking is needed.
"""

from __future__ import annotations

from collections import Counter

import attrs
from hdrh.histogram import HdrHistogram

__all__ = ["Disruption", "LatencyHistogram", "LoadStats"]

#: Histogram range in microseconds: 1 µs to one hour, 3 significant digits.
_LOWEST_US = 1
_HIGHEST_US = 3_600_000_000
_DIGITS = 3


class LatencyHistogram:
    """Durations in seconds, recorded with microsecond resolution in an HDR histogram."""

    __slots__ = ("_histogram",)

    def __init__(self) -> None:
        self._histogram = HdrHistogram(_LOWEST_US, _HIGHEST_US, _DIGITS)

    def record(self, seconds: float) -> None:
        """Add one sample (clamped to the histogram's range)."""
        micros = min(max(round(seconds * 1e6), _LOWEST_US), _HIGHEST_US)
        self._histogram.record_value(micros)

    @property
    def count(self) -> int:
        """How many samples were recorded."""
        return int(self._histogram.get_total_count())

    def percentile(self, percent: float) -> float:
        """The value at ``percent`` (0-100) in seconds; 0 when empty."""
        return float(self._histogram.get_value_at_percentile(percent)) / 1e6 if self.count else 0.0

    @property
    def max(self) -> float:
        """The largest sample in seconds (at the histogram's precision); 0 when empty."""
        return float(self._histogram.get_max_value()) / 1e6 if self.count else 0.0

    @property
    def mean(self) -> float:
        """The mean in seconds; 0 when empty."""
        return float(self._histogram.get_mean_value()) / 1e6 if self.count else 0.0


@attrs.define(eq=False)
class Disruption:
    """A supervisor action and the notifications it set off.

    Attributes:
        label: how the report names it (``pause CMP1 @20s``).
        sent_at: the run clock (seconds) just before the REST request went out.
        status: the HTTP status of the request (``None``: it failed before an answer; see ``problem``).
        affected: the agents expected to hear of it (on the paused job; the ones whose list changed).
        on_call: how many of them were on a call at the time (they move only after it).
        latency: from ``sent_at`` to the next move notification of each affected agent that was not on
            a call (the server's own reaction time).
        after_call: the same for the agents that were on a call (includes the rest of their call).
    """

    label: str
    sent_at: float
    affected: int = 0
    on_call: int = 0
    status: int | None = None
    problem: str | None = None
    latency: LatencyHistogram = attrs.Factory(LatencyHistogram)
    after_call: LatencyHistogram = attrs.Factory(LatencyHistogram)


@attrs.define(eq=False)
class LoadStats:
    """Every count and latency of a run; the agents and the runner write, the report reads.

    Attributes:
        commands: latency of every command answered, by keyword (successes and refusals alike).
        errors: commands refused (``R 1 Exxxxx``), by (keyword, code), when no server move explains it.
        races: commands refused because a server move crossed them on the wire (the agent was moved
            between sending and the reply, e.g. AGTReadyNextItem just after being unassigned): a
            protocol race every client must expect, counted apart from errors.
        notifications: notifications received, by keyword.
        moves: AGTJobAssigned / AGTJobUnassigned received, by reason.
        calls: calls put in front of an agent, by call type (OUTBOUND, INBOUND, PREVIEW).
        finished: records finished (AGTFinishedItem answered ok); ``callbacks`` set; ``hangups`` by the
            customer (AGTAutoReleaseLine).
        started, connected, logged_on, logged_off: agents reaching each step.
        working_at_stop: agents that had a job when the stop time came; ``waiting_at_stop`` had none
            (waiting for the server to assign one); ``never_assigned`` of all agents never had a job.
        connect_failures: agents that could not connect or log on, by reason.
        disconnects: sessions the server ended (or the network broke) before the agent logged off.
        failures: agents stopped by an unexpected exception in the generator, by exception.
        connect: time from starting a connection to the server's greeting.
        loop_lag: how late the generator's own event loop woke a timer.
        disruptions: supervisor actions and their effect.
    """

    commands: dict[str, LatencyHistogram] = attrs.Factory(dict)
    errors: Counter[tuple[str, str]] = attrs.Factory(Counter)
    races: Counter[tuple[str, str]] = attrs.Factory(Counter)
    notifications: Counter[str] = attrs.Factory(Counter)
    moves: Counter[str] = attrs.Factory(Counter)
    calls: Counter[str] = attrs.Factory(Counter)
    finished: int = 0
    callbacks: int = 0
    hangups: int = 0
    started: int = 0
    connected: int = 0
    logged_on: int = 0
    logged_off: int = 0
    working_at_stop: int = 0
    waiting_at_stop: int = 0
    never_assigned: int = 0
    connect_failures: Counter[str] = attrs.Factory(Counter)
    disconnects: Counter[str] = attrs.Factory(Counter)
    failures: Counter[str] = attrs.Factory(Counter)
    connect: LatencyHistogram = attrs.Factory(LatencyHistogram)
    loop_lag: LatencyHistogram = attrs.Factory(LatencyHistogram)
    disruptions: list[Disruption] = attrs.Factory(list)

    def command_latency(self, keyword: str) -> LatencyHistogram:
        """The histogram of ``keyword`` (created on first use)."""
        histogram = self.commands.get(keyword)
        if histogram is None:
            histogram = self.commands[keyword] = LatencyHistogram()
        return histogram

    @property
    def commands_answered(self) -> int:
        """Commands answered, all keywords."""
        return sum(histogram.count for histogram in self.commands.values())

    @property
    def error_count(self) -> int:
        """Errors: refused commands not explained by a race, failed connections, unexpected disconnects
        and agents stopped by a failure of the generator."""
        return sum(
            sum(counter.values()) for counter in (self.errors, self.connect_failures, self.disconnects, self.failures)
        )
