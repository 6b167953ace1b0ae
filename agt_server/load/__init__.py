"""``agt-load``: scripted load tests, thousands of simulated agents against one AGT server.

One trio process simulates up to 10,000 agents with :mod:`agt_server.client`, following a
:class:`Scenario` (from a TOML file, see ``examples/load/``, and command-line flags): log on, set a
preferred list or attach a job, take calls, finish them with weighted completion codes, log off.  It
times every command in HDR histograms, times supervisor actions to the notifications they cause,
counts calls, errors by code and disconnects, watches its own event loop for saturation, and checks
thresholds for CI.

Everything in ``__all__`` is the public API of ``agt_server.load``.
"""

from ._cli import main
from ._report import Latency, Report, ThresholdCheck, build_report
from ._runner import Progress, RunResult, raise_open_file_limit, run_load
from ._scenario import Action, ActionKind, Scenario, ScenarioError, TimeRange, WeightedCodes, scenario_from_mapping
from ._stats import Disruption, LatencyHistogram, LoadStats

__all__ = [
    "Action",
    "ActionKind",
    "Disruption",
    "Latency",
    "LatencyHistogram",
    "LoadStats",
    "Progress",
    "Report",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "ThresholdCheck",
    "TimeRange",
    "WeightedCodes",
    "build_report",
    "main",
    "raise_open_file_limit",
    "run_load",
    "scenario_from_mapping",
]
