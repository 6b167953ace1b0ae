"""The HTTP listener inside AgentServer: ports, health, metrics, the dashboard's files, unknown paths and
methods, and the server without it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import attrs
import httpx
import trio

from agt_server.supervisor import STATIC_DIR
from tests.support import HOST, config_for_tests, running_server

from .helpers import TIMEOUT, Api, assigned, ok, problem

_SAMPLE = re.compile(r"^(?P<name>[a-z_]+)(?P<labels>\{[^}]*\})? (?P<value>[0-9.e+-]+)$")


def _samples(text: str) -> dict[str, float]:
    """Prometheus text as {"name{labels}": value}; checks every line's syntax."""
    samples = {}
    for line in text.splitlines():
        if line.startswith("#"):
            assert re.match(r"^# (HELP|TYPE) agt_[a-z_]+ \S", line), line
            continue
        match = _SAMPLE.match(line)
        assert match is not None, line
        samples[match["name"] + (match["labels"] or "")] = float(match["value"])
    return samples


class TestPorts:
    async def test_bound_port_and_port_file(self, api: Api) -> None:
        """BoundPorts has the http port, a real free port, and its JSON (the port file) names it."""
        ports = api.running.ports
        assert isinstance(ports.http, int)
        assert ports.http > 0
        assert ports.http not in (ports.agent, ports.tls, ports.tty)
        assert json.loads(ports.to_json())["http"] == ports.http

    async def test_http_off(self, tmp_path: Path) -> None:
        """With http_port None the server runs its agent listeners only and reports http as null."""
        config = config_for_tests(tmp_path)
        config = attrs.evolve(config, listeners=attrs.evolve(config.listeners, http_port=None))
        with trio.fail_after(TIMEOUT):
            async with running_server(config) as running, running.logged_on("agent1"):
                assert running.ports.http is None
                assert json.loads(running.ports.to_json())["http"] is None

    async def test_shutdown_stops_the_http_listener(self, api: Api) -> None:
        """After shutdown() the HTTP port refuses connections."""
        with trio.fail_after(TIMEOUT):
            await api.running.server.shutdown()
            async with httpx.AsyncClient(base_url=api.running.http_url) as client:
                try:
                    response = await client.get("/api/v1/healthz")
                except httpx.ConnectError:
                    return
            raise AssertionError(f"the server still answers: {response.status_code}")


class TestHealthAndMetrics:
    async def test_healthz(self, api: Api) -> None:
        """healthz counts sessions and logged-on agents."""
        with trio.fail_after(TIMEOUT):
            assert ok(await api.anonymous.get("/api/v1/healthz")) == {
                "status": "ok",
                "sessions": 0,
                "agents_logged_on": 0,
            }
            async with api.running.client(), api.running.logged_on("agent3"):
                assert ok(await api.anonymous.get("/api/v1/healthz")) == {
                    "status": "ok",
                    "sessions": 2,
                    "agents_logged_on": 1,
                }

    async def test_metrics(self, api: Api) -> None:
        """/metrics is Prometheus text whose gauges and counters follow what happens: sessions, commands by
        keyword (unknown ones as "other"), moves by reason, calls delivered and dispositions."""
        with trio.fail_after(TIMEOUT):
            response = await api.anonymous.get("/metrics")
            assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
            before = _samples(response.text)
            assert before["agt_sessions"] == 0
            assert before["agt_calls_delivered_total"] == 0
            assert "# TYPE agt_commands_total counter" in response.text
            async with api.running.logged_on("agent1") as agent1:
                await agent1.command("AGTNoSuchCommand", check=False)
                ok(await api.admin.put("/api/v1/agents/agent1/preferred-campaigns", json={"campaigns": ["CMP1"]}))
                await assigned(agent1)
                await agent1.avail_work()
                await agent1.ready_next_item()
                ok(await api.admin.post("/api/v1/inbound-calls", json={"campaign": "INBOUND1"}), 202)
                await assigned(agent1)
                await agent1.next_notification(timeout=3)  # the call
                await agent1.finished_item(20)
                await assigned(agent1)  # back to CMP1
                samples = _samples((await api.anonymous.get("/metrics")).text)
            assert samples["agt_sessions"] == 1
            assert samples["agt_agents_logged_on"] == 1
            assert samples['agt_commands_total{keyword="AGTLogon"}'] == 1
            assert samples['agt_commands_total{keyword="AGTReadyNextItem"}'] == 1
            assert samples['agt_commands_total{keyword="other"}'] == 1
            assert samples['agt_assignment_moves_total{reason="supervisor"}'] == 1
            assert samples['agt_assignment_moves_total{reason="inbound"}'] == 1
            assert samples['agt_assignment_moves_total{reason="returned"}'] == 1
            assert samples["agt_calls_delivered_total"] == 1
            assert samples["agt_dispositions_total"] == 1
            assert samples["agt_event_subscribers"] == 0
            assert samples["agt_rebalance_seconds_count"] >= 0

    async def test_rebalances_are_timed(self, api: Api) -> None:
        """A campaign pause asks for a full rebalance, which the driver times for agt_rebalance_seconds."""
        with trio.fail_after(TIMEOUT):
            counters = api.running.server.driver.counters
            ok(await api.admin.post("/api/v1/campaigns/CMP1/pause"))
            while counters.rebalances == 0:
                await trio.sleep(0.02)
            samples = _samples((await api.anonymous.get("/metrics")).text)
            assert samples["agt_rebalance_seconds_count"] >= 1
            assert samples["agt_rebalance_seconds_sum"] > 0
            assert samples["agt_rebalance_last_seconds"] > 0


class TestDashboardFiles:
    async def test_root_serves_index_html(self, api: Api) -> None:
        """GET / is the dashboard's index.html, as HTML, without a token."""
        with trio.fail_after(TIMEOUT):
            response = await api.anonymous.get("/")
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/html")
            assert response.content == (STATIC_DIR / "index.html").read_bytes()

    async def test_static_files(self, api: Api) -> None:
        """Every file of the static folder is served under /static/ as it is."""
        with trio.fail_after(TIMEOUT):
            files = sorted(path for path in STATIC_DIR.iterdir() if path.is_file())
            assert files
            for path in files:
                response = await api.anonymous.get(f"/static/{path.name}")
                assert response.status_code == 200, path.name
                assert response.content == path.read_bytes()

    async def test_missing_static_file(self, api: Api) -> None:
        """A file that is not there is a 404 problem."""
        with trio.fail_after(TIMEOUT):
            problem(await api.anonymous.get("/static/nope.js"), 404)


class TestRouting:
    async def test_unknown_path(self, api: Api) -> None:
        """An unknown path is a 404 problem naming it."""
        with trio.fail_after(TIMEOUT):
            problem(await api.admin.get("/api/v1/nothing-here"), 404, "/api/v1/nothing-here")

    async def test_wrong_method_lists_the_allowed_ones(self, api: Api) -> None:
        """A method the path does not have is a 405 problem whose Allow header lists every method it has."""
        with trio.fail_after(TIMEOUT):
            response = await api.admin.post("/api/v1/agents/agent1/preferred-campaigns")
            assert response.status_code == 405
            assert response.headers["content-type"] == "application/problem+json"
            allowed = {method.strip() for method in response.headers["allow"].split(",")}
            assert allowed == {"GET", "HEAD", "PUT", "DELETE"}
            assert "POST is not allowed" in response.json()["detail"]

    async def test_head(self, api: Api) -> None:
        """HEAD on a GET route answers its headers (the ETag too) without a body."""
        with trio.fail_after(TIMEOUT):
            response = await api.admin.head("/api/v1/agents/agent1/preferred-campaigns")
            assert response.status_code == 200
            assert response.headers["etag"]
            assert response.content == b""

    async def test_listens_on_the_configured_host_only(self, api: Api) -> None:
        """The HTTP listener binds the configured 127.0.0.1."""
        assert api.running.http_url == f"http://{HOST}:{api.running.ports.http}"
