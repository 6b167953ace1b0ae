"""Health and Prometheus metrics (no token needed: they reveal counts, never names)."""

from __future__ import annotations

from starlette.responses import Response

from ._auth import Access
from ._handling import Context, json_response
from ._models import Health
from ._openapi import Registry

__all__ = ["PROMETHEUS_MEDIA_TYPE", "api"]

api = Registry()

PROMETHEUS_MEDIA_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@api.operation(
    "GET", "/api/v1/healthz", summary="The server is up", tag="operations", access=Access.PUBLIC, response=Health
)
async def healthz(ctx: Context) -> Response:
    driver = ctx.server.driver
    return json_response(Health("ok", len(driver.connections), len(driver.engine.online)))


@api.operation(
    "GET",
    "/metrics",
    summary="Prometheus metrics",
    tag="operations",
    access=Access.PUBLIC,
    media_type="text/plain",
)
async def metrics(ctx: Context) -> Response:
    driver = ctx.server.driver
    counters = driver.counters
    lines: list[str] = []

    def metric(name: str, kind: str, help_text: str, samples: list[tuple[str, float]]) -> None:
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} {kind}")
        lines.extend(f"{name}{labels} {_number(value)}" for labels, value in samples)

    metric("agt_sessions", "gauge", "Open AGT connections.", [("", len(driver.connections))])
    metric("agt_agents_logged_on", "gauge", "Agents logged on.", [("", len(driver.engine.online))])
    metric(
        "agt_commands_total",
        "counter",
        "AGT commands received, by keyword (other: not an AGT command).",
        [(f'{{keyword="{keyword}"}}', count) for keyword, count in sorted(counters.commands.items())],
    )
    metric(
        "agt_calls_delivered_total",
        "counter",
        "Calls and previews put in front of agents.",
        [("", counters.calls_delivered)],
    )
    metric(
        "agt_dispositions_total",
        "counter",
        "Records agents finished with a completion code.",
        [("", counters.dispositions)],
    )
    metric(
        "agt_assignment_moves_total",
        "counter",
        "The server's AGTJobAssigned and AGTJobUnassigned notices, by reason.",
        [(f'{{reason="{reason}"}}', count) for reason, count in sorted(counters.moves.items())],
    )
    metric(
        "agt_rebalance_seconds",
        "summary",
        "Full rebalances and the time they took.",
        [("_count", counters.rebalances), ("_sum", counters.rebalance_seconds)],
    )
    metric(
        "agt_rebalance_last_seconds",
        "gauge",
        "How long the latest full rebalance took.",
        [("", counters.last_rebalance_seconds)],
    )
    metric("agt_event_subscribers", "gauge", "Open event streams.", [("", driver.hub.subscribers)])
    return Response("\n".join(lines) + "\n", media_type=PROMETHEUS_MEDIA_TYPE)


def _number(value: float) -> str:
    return str(value) if isinstance(value, float) else str(int(value))
