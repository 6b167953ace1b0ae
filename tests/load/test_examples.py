"""The scenarios in examples/load/ are valid, and the PC-style one runs cleanly against a real server."""

from __future__ import annotations

import tomllib
from pathlib import Path

import attrs
import pytest
import trio

from agt_server.load import Scenario, build_report, run_load, scenario_from_mapping
from tests.load.test_load_run import TIMEOUT, assert_clean, fast_scenario, load_config, server_metrics
from tests.support import HOST, running_server

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "load"


def example(name: str) -> Scenario:
    path = EXAMPLES / name
    return scenario_from_mapping(tomllib.loads(path.read_text(encoding="utf-8")), str(path))


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.toml")), ids=lambda path: path.name)
def test_every_example_reads(path: Path) -> None:
    """Every scenario file of examples/load/ is a valid scenario."""
    assert example(path.name).agents > 0


def test_ci_gate_has_thresholds() -> None:
    """The CI example is seeded and gates on errors and latencies."""
    scenario = example("ci-gate.toml")
    assert scenario.seed is not None
    assert scenario.max_errors == 0
    assert dict(scenario.max_p99)["AGTReadyNextItem"] == pytest.approx(0.05)


async def test_pc_attach_over_tls_runs_cleanly(tmp_path: Path) -> None:
    """The PC-style example (attach in turn, TLS, no preferred list), shortened: no errors, each agent
    attached the job of its turn, and the server never moved anyone."""
    with trio.fail_after(TIMEOUT):
        async with running_server(load_config(tmp_path)) as running:
            assert running.ports.tls is not None
            # The example's own agents, jobs, work class and TLS, with the quick timings of the other runs.
            quick = fast_scenario(running)
            scenario = attrs.evolve(
                example("pc-attach-tls.toml"),
                host=HOST,
                port=running.ports.tls,
                agents=8,
                duration=2.0,
                **{name: getattr(quick, name) for name in ("ramp_up", "drain", "talk", "wrap", "think")},
            )
            report = build_report(await run_load(scenario))
            metrics = await server_metrics(running)
    assert_clean(report, 8)
    assert report.calls_finished > 0
    assert report.command_latency["AGTAttachJob"].count == 8
    assert "AGTSetPreferredJobList" not in report.command_latency
    assert report.moves == {}
    assert metrics.get("agt_assignment_moves_total", {}) == {}
    assert metrics["agt_commands_total"]["AGTAttachJob"] == 8
