"""``run_load`` against a real server: the generator's counts must be what the server saw.

Policy: every test runs a server of its own on 127.0.0.1 port 0 (:func:`tests.support.running_server`)
on the demo site with its load agents ``load1``... and a fast dialer: a dial takes at most 50 ms and is
answered, nobody calls in and nobody hangs up, so a run of a few seconds handles hundreds of calls.
The scenario runs in-process (``run_load`` in the test's own trio run) with a fixed seed; after it, the
server's Prometheus counters (``GET /metrics``) are compared with the report.  Every test runs under
``trio.fail_after(TIMEOUT)``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import attrs
import httpx
import trio

from agt_server.config import DialingConfig, SiteConfig, demo_config
from agt_server.load import Action, ActionKind, Progress, Report, Scenario, TimeRange, build_report, run_load
from tests.support import HOST, RunningServer, config_for_tests, running_server

TIMEOUT = 30
#: A dial takes 0 to 50 ms and is answered; nobody calls in or hangs up; unanswered records come back fast.
FAST = DialingConfig(dial_delay=(0.0, 0.05), answer_rate=1.0, inbound_rate=0.0, hangup_rate=0.0, retry_delay=0.2)
_SAMPLE = re.compile(r"^(?P<name>[a-z_]+)(?:\{(?P<label>\w+)=\"(?P<value>[^\"]*)\"\})? (?P<number>\S+)$")


def load_config(tmp_path: Path) -> SiteConfig:
    """The demo site with its load agents and the fast dialer, on free ports."""
    return config_for_tests(tmp_path, dialing=FAST, agents=demo_config(tmp_path).agents)


def fast_scenario(running: RunningServer, **changes: Any) -> Scenario:
    """A short run of quick calls against ``running``'s wire port; ``changes`` evolve it."""
    assert running.ports.agent is not None
    scenario = Scenario(
        host=HOST,
        port=running.ports.agent,
        agents=32,
        ramp_up=50.0,
        duration=4.0,
        drain=5.0,
        talk=TimeRange(0.02, 0.06),
        wrap=TimeRange(0.01, 0.03),
        think=TimeRange(0.01, 0.03),
        preferred=("CMP1", "CMP2"),
        seed=1234,
    )
    return attrs.evolve(scenario, **changes)


async def server_metrics(running: RunningServer) -> dict[str, dict[str, float]]:
    """``GET /metrics``: each metric's samples by label value ("" for an unlabelled one)."""
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{running.http_url}/metrics")
    response.raise_for_status()
    metrics: dict[str, dict[str, float]] = {}
    for line in response.text.splitlines():
        if line.startswith("#") or not line:
            continue
        sample = _SAMPLE.match(line)
        assert sample is not None, f"not a Prometheus sample: {line!r}"
        metrics.setdefault(sample["name"], {})[sample["value"] or ""] = float(sample["number"])
    return metrics


def assert_clean(report: Report, agents: int) -> None:
    """No errors of any kind, and every agent logged on and off."""
    assert report.errors == 0, report.errors_by_code
    assert (report.connect_failures, report.disconnects, report.failures) == ({}, {}, {})
    assert report.errors_by_code == ()
    assert (report.started, report.connected, report.logged_on, report.logged_off) == (agents,) * 4
    assert report.cut_off == 0


class TestRunLoad:
    async def test_counts_match_the_server(self, tmp_path: Path) -> None:
        """A clean run with preferred lists: no errors, every agent on and off, calls finished, and every
        count of the report (commands by keyword, dispositions, calls, moves by reason) equal to the
        server's own counters."""
        with trio.fail_after(TIMEOUT):
            async with running_server(load_config(tmp_path)) as running:
                scenario = fast_scenario(running)
                progress: list[Progress] = []
                result = await run_load(scenario, progress.append)
                report = build_report(result)
                metrics = await server_metrics(running)
        assert_clean(report, scenario.agents)
        assert report.calls_finished > 0
        assert progress, "on_progress was never called"
        assert progress[-1].stopping and progress[-1].connected == 0
        assert report.command_latency["AGTLogon"].count == scenario.agents
        assert report.command_latency["AGTSetPreferredJobList"].count == scenario.agents
        # The server counts commands received and the report commands answered: the same, on a clean run.
        # AGTSetPreferredJobList, the 22-character POM keyword, is a known keyword to the server.
        assert dict(metrics["agt_commands_total"]) == {
            keyword: latency.count for keyword, latency in report.command_latency.items()
        }
        assert metrics["agt_dispositions_total"][""] == report.calls_finished
        assert metrics["agt_calls_delivered_total"][""] == sum(report.calls.values())
        assert sum(report.calls.values()) == report.calls_finished  # answered, released, finished: no hang-ups
        assert dict(metrics["agt_assignment_moves_total"]) == report.moves
        assert report.moves["assigned"] == scenario.agents
        assert metrics["agt_agents_logged_on"][""] == 0

    async def test_tls(self, tmp_path: Path) -> None:
        """A few agents over TLS (the demo's self-signed certificate, not checked) run without errors."""
        with trio.fail_after(TIMEOUT):
            async with running_server(load_config(tmp_path)) as running:
                assert running.ports.tls is not None
                scenario = fast_scenario(
                    running, port=running.ports.tls, tls=True, insecure=True, agents=5, duration=1.5
                )
                report = build_report(await run_load(scenario))
                metrics = await server_metrics(running)
        assert report.target == f"tls://{HOST}:{running.ports.tls}"
        assert_clean(report, 5)
        assert report.calls_finished > 0
        assert metrics["agt_dispositions_total"][""] == report.calls_finished

    async def test_pause_disruption(self, tmp_path: Path) -> None:
        """Pausing CMP1 mid-run moves exactly the agents that were on it: the disruption's affected agents
        all hear of it (notified == affected), the REST call answers 200, and the server's job-paused
        moves number the affected agents."""
        with trio.fail_after(TIMEOUT):
            async with running_server(load_config(tmp_path)) as running:
                scenario = fast_scenario(
                    running,
                    agents=20,
                    duration=3.0,
                    # Slower calls, so that CMP1's 200 records last beyond the pause, and a pause between
                    # them, so that some agents are on a call when it comes (they move after it) and some not.
                    talk=TimeRange(0.1, 0.3),
                    think=TimeRange(0.1, 0.3),
                    actions=(Action(1.5, ActionKind.PAUSE, "CMP1"),),
                    api=running.http_url,
                    token="demo-admin",
                )
                report = build_report(await run_load(scenario))
                metrics = await server_metrics(running)
                engine = running.server.driver.engine
                assert engine.jobs["CMP1"].running is False
        assert_clean(report, 20)
        (pause,) = report.disruptions
        assert pause.action == "pause CMP1 @1.5s"
        assert (pause.http_status, pause.problem) == (200, None)
        assert pause.affected > 0, "nobody was on CMP1 when it was paused"
        assert pause.notified == pause.affected
        assert pause.latency.count + pause.after_call.count == pause.affected
        assert pause.after_call.count == pause.on_call
        assert metrics["agt_assignment_moves_total"].get("job-paused") == pause.affected
        assert report.moves["job-paused"] == pause.affected
