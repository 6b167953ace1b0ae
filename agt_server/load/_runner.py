"""Run a scenario: start the agents at the ramp-up rate, fire the actions, watch the generator itself.

Everything runs in one trio process: one task per agent (plus its client's reader task), one task
starting agents, one firing actions, one measuring the event loop's lag, and one reporting progress.
The lag task asks to wake every ``LAG_INTERVAL`` and records how late it woke: when the generator is
saturated its timers fire late, and every latency it measures includes that delay, so the report
shows it next to the latencies instead of letting client saturation pass for server slowness.
"""

from __future__ import annotations

import random
import resource
import signal
import ssl
import time
from collections.abc import Callable

import attrs
import httpx
import trio

from ._actions import perform_action
from ._agent import SimulatedAgent
from ._scenario import Scenario
from ._stats import LoadStats

__all__ = ["LAG_INTERVAL", "Progress", "RunResult", "raise_open_file_limit", "run_load"]

#: How often the lag task asks to be woken, in seconds.
LAG_INTERVAL = 0.01
#: How often progress is reported, in seconds.
PROGRESS_INTERVAL = 0.5
#: Seconds beyond the drain time for the last commands (the logoff) before agents are cut off.
_LAST_WORDS = 15.0
#: File descriptors the generator needs besides one per agent (stdio, the REST client, the event loop).
_SPARE_FILES = 64


@attrs.frozen
class Progress:
    """A snapshot for the live display.

    Attributes:
        elapsed: seconds since the run started; ``duration`` the planned run time.
        connected: agents with an open session now; ``on_call`` of them on a call.
        stats: the run's counters so far (read only).
        stopping: whether the stop time has passed and agents are logging off.
    """

    elapsed: float
    duration: float
    connected: int
    on_call: int
    stats: LoadStats
    stopping: bool


@attrs.frozen
class RunResult:
    """What a finished run hands to the report.

    Attributes:
        scenario: what was run.
        stats: every count and latency.
        wall_seconds: from the first agent's start to the last agent's end.
        cpu_seconds: the generator's CPU time (user + system) over the same span.
        agents_cut_off: agents still running when the drain time ran out (their sessions were closed).
    """

    scenario: Scenario
    stats: LoadStats
    wall_seconds: float
    cpu_seconds: float
    agents_cut_off: int


def raise_open_file_limit(agents: int) -> str | None:
    """Raise the soft open-file limit so that ``agents`` connections fit.

    Returns what it did or why it could not (a line for the user), or ``None`` when the limit was
    already high enough.
    """
    needed = agents + _SPARE_FILES
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return None
    target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError) as exc:
        return f"warning: could not raise the open-file limit from {soft} to {needed}: {exc}"
    if target < needed:
        return (
            f"warning: the open-file limit can only be raised to {hard} (the hard limit), fewer than the "
            f"{needed} this run needs: raise the hard limit (ulimit -Hn, as root) or run fewer agents"
        )
    return f"raised the open-file limit from {soft} to {target}"


def _ssl_context(scenario: Scenario) -> ssl.SSLContext | None:
    if not scenario.tls:
        return None
    context = ssl.create_default_context(cafile=str(scenario.ca_file) if scenario.ca_file else None)
    if scenario.insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def run_load(
    scenario: Scenario, on_progress: Callable[[Progress], None] | None = None, *, interruptible: bool = False
) -> RunResult:
    """Run ``scenario`` to the end (the stop time, then at most ``drain`` seconds to log off).

    ``on_progress`` is called every :data:`PROGRESS_INTERVAL` seconds and once at the end.  With
    ``interruptible`` (main thread only), the first SIGINT (Ctrl-C) brings the stop time forward to
    now, so the run ends early with a report; a second one aborts it.
    """
    stats = LoadStats()
    start = trio.current_time()
    stop_at = start + scenario.duration
    stop_early = trio.Event()
    seeds = random.Random(scenario.seed)
    ssl_context = _ssl_context(scenario)
    agents = [
        SimulatedAgent(number, scenario, stats, stop_at, random.Random(seeds.getrandbits(64)), ssl_context)
        for number in range(scenario.first, scenario.first + scenario.agents)
    ]
    cpu_before = _cpu_seconds()

    def report_progress() -> None:
        if on_progress is not None:
            now = trio.current_time()
            connected = sum(agent.logged_on for agent in agents)
            on_call = sum(agent.on_call for agent in agents)
            on_progress(Progress(now - start, scenario.duration, connected, on_call, stats, now >= stop_at))

    async with trio.open_nursery() as watchers:
        watchers.start_soon(_measure_lag, stats)
        watchers.start_soon(_report_progress, report_progress)
        if scenario.actions:
            watchers.start_soon(_fire_actions, scenario, agents, stats, start)
        if interruptible:
            watchers.start_soon(_stop_on_interrupt, agents, stop_early)
        ended = 0

        async def run_agent(agent: SimulatedAgent) -> None:
            nonlocal ended
            await agent.run()
            ended += 1

        # Agents log off after the stop time; those still at it when the drain time is up are cut off.
        with trio.move_on_at(stop_at + scenario.drain + _LAST_WORDS):
            async with trio.open_nursery() as nursery:
                for index, agent in enumerate(agents):
                    starts_at = start + index / scenario.ramp_up
                    if starts_at >= stop_at:
                        break
                    with trio.move_on_at(starts_at):
                        await stop_early.wait()
                    if stop_early.is_set():
                        break
                    nursery.start_soon(run_agent, agent)
        watchers.cancel_scope.cancel()
    wall = trio.current_time() - start
    report_progress()
    return RunResult(scenario, stats, wall, _cpu_seconds() - cpu_before, stats.started - ended)


async def _stop_on_interrupt(agents: list[SimulatedAgent], stop_early: trio.Event) -> None:
    with trio.open_signal_receiver(signal.SIGINT) as signals:
        async for _ in signals:
            if stop_early.is_set():
                raise KeyboardInterrupt
            stop_early.set()
            for agent in agents:
                agent.stop_now()


async def _measure_lag(stats: LoadStats) -> None:
    while True:
        expected = time.perf_counter() + LAG_INTERVAL
        await trio.sleep(LAG_INTERVAL)
        stats.loop_lag.record(max(0.0, time.perf_counter() - expected))


async def _report_progress(report: Callable[[], None]) -> None:
    while True:
        await trio.sleep(PROGRESS_INTERVAL)
        report()


async def _fire_actions(scenario: Scenario, agents: list[SimulatedAgent], stats: LoadStats, start: float) -> None:
    headers = {"Authorization": f"Bearer {scenario.token}"}
    async with httpx.AsyncClient(base_url=str(scenario.api), headers=headers) as http:
        for action in scenario.actions:
            await trio.sleep_until(start + action.at)
            stats.disruptions.append(await perform_action(http, action, agents))
