"""Tests of the ``agt-server`` command, run as a real subprocess (``python -m agt_server``).

Every wait is bounded: the server gets 20 s to write its port file, signals 5 s to end it, and every
subprocess is killed at the end of its test if it is still running.  The server listens on
127.0.0.1 port 0 only and keeps its files in the test's tmp_path.
"""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest
import trio

from agt_server import __version__
from agt_server.client import JobListing, open_agt_client
from agt_server.config import verify_password
from tests.support import HOST

AGT_SERVER = [sys.executable, "-m", "agt_server"]
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "site.toml"
FREE_PORTS = ["--agent-port", "0", "--tls-port", "0", "--tty-port", "0", "--http-port", "0"]
#: How long a started server may take to write its port file.
START_TIMEOUT = 20
#: How long the server may take to exit after SIGTERM or SIGINT.
EXIT_TIMEOUT = 5
_LISTENING = re.compile(r"\blistening\b.*\baddress=(?P<address>\S+) listener=(?P<listener>\w+)")


@attrs.define(eq=False)
class ServerProcess:
    """An ``agt-server`` subprocess that has written its port file."""

    process: trio.Process
    ports: dict[str, Any]
    stderr_path: Path

    @property
    def stderr(self) -> str:
        """Everything the server has written to standard error so far."""
        return self.stderr_path.read_text(errors="replace")

    async def stop(self, signum: int = signal.SIGTERM) -> int:
        """Send ``signum`` and return the exit status; fails the test if the server is still running after 5 s."""
        self.process.send_signal(signum)
        with trio.fail_after(EXIT_TIMEOUT):
            return await self.process.wait()


@asynccontextmanager
async def agt_server_process(tmp_path: Path, *args: str) -> AsyncIterator[ServerProcess]:
    """Run ``agt-server <args> --data-dir <tmp>/data --port-file <tmp>/ports.json`` until its port file
    appears; kill it when the block exits if it is still running."""
    port_file = tmp_path / "ports.json"
    stderr_path = tmp_path / "stderr.log"
    command = [*AGT_SERVER, *args, "--data-dir", str(tmp_path / "data"), "--port-file", str(port_file)]
    with stderr_path.open("wb") as stderr:
        process = await trio.lowlevel.open_process(
            command, stdin=subprocess.DEVNULL, stdout=stderr, stderr=stderr, cwd=tmp_path
        )
        try:
            with trio.move_on_after(START_TIMEOUT):
                while not port_file.exists() and process.poll() is None:
                    await trio.sleep(0.05)
            if not port_file.exists():
                pytest.fail(f"no port file (exit status {process.poll()}); stderr:\n{stderr_path.read_text()}")
            yield ServerProcess(process, json.loads(port_file.read_text()), stderr_path)
        finally:
            if process.poll() is None:
                process.kill()
                with trio.move_on_after(EXIT_TIMEOUT):
                    await process.wait()


def run_agt_server(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """Run ``agt-server <args>`` to completion (at most 20 s)."""
    return subprocess.run(
        [*AGT_SERVER, *args], input=stdin, capture_output=True, text=True, timeout=START_TIMEOUT, check=False
    )


class TestServing:
    """The server starts, reports its ports and serves agents."""

    async def test_starts_reports_ports_and_serves(self, tmp_path: Path) -> None:
        """With every port 0, the port file names four free ports, the first log lines name each listening
        address, a client logs on to the wire port and the REST API answers on the http port."""
        with trio.fail_after(30):
            async with agt_server_process(tmp_path, *FREE_PORTS) as server:
                ports = server.ports
                assert set(ports) == {"host", "agent", "tls", "tty", "http"}
                assert ports["host"] == HOST
                assert all(
                    isinstance(ports[name], int) and ports[name] > 0 for name in ("agent", "tls", "tty", "http")
                )
                async with open_agt_client(HOST, ports["agent"]) as client:
                    assert (await client.logon("agent1", "agent1")).ok
                    assert (await client.list_jobs("O"))[0] == JobListing("O", "CMP1", "A")
                async with httpx.AsyncClient(base_url=f"http://{HOST}:{ports['http']}") as http:
                    health = await http.get("/api/v1/healthz")
                    assert (health.status_code, health.json()["status"]) == (200, "ok")
                lines = server.stderr.splitlines()
                listening = [_LISTENING.search(line) for line in lines[:3]]
                assert [(m.group("listener"), m.group("address")) for m in listening if m] == [
                    ("wire", f"{HOST}:{ports['agent']}"),
                    ("tls", f"{HOST}:{ports['tls']}"),
                    ("tty", f"{HOST}:{ports['tty']}"),
                ], lines[:3]
                assert await server.stop() == 0
            assert "Traceback" not in server.stderr

    async def test_disabled_listeners(self, tmp_path: Path) -> None:
        """With --tls-port, --tty-port and --http-port off the port file has null for them and only wire listens."""
        only_wire = ["--agent-port", "0", "--tls-port", "off", "--tty-port", "off", "--http-port", "off"]
        with trio.fail_after(30):
            async with agt_server_process(tmp_path, *only_wire) as server:
                assert server.ports["tls"] is None
                assert server.ports["tty"] is None
                assert server.ports["http"] is None
                assert isinstance(server.ports["agent"], int)
                async with open_agt_client(HOST, server.ports["agent"]) as client:
                    assert (await client.logon("agent2", "agent2")).ok
                listeners = [m.group("listener") for m in map(_LISTENING.search, server.stderr.splitlines()) if m]
                assert listeners == ["wire"]
                assert await server.stop() == 0

    async def test_example_site_configuration_runs(self, tmp_path: Path) -> None:
        """examples/site.toml starts with port overrides, and agent1 logs on with the password its comment states
        and sees that file's jobs; the self-signed certificate goes to --data-dir."""
        assert '# The password is "agent1".' in EXAMPLE.read_text()
        with trio.fail_after(30):
            async with agt_server_process(tmp_path, "--config", str(EXAMPLE), *FREE_PORTS) as server:
                assert all(isinstance(server.ports[name], int) for name in ("agent", "tls", "tty"))
                async with open_agt_client(HOST, server.ports["agent"]) as client:
                    assert (await client.logon("agent1", "agent1")).ok
                    assert await client.list_jobs("A") == [
                        JobListing("O", "CMP1", "A"),
                        JobListing("O", "CMP2", "I"),
                        JobListing("O", "UNITS1", "A"),
                        JobListing("I", "INBOUND1", "A"),
                        JobListing("B", "BLEND1", "A"),
                        JobListing("M", "PREVIEW1", "A"),
                    ]
                    await client.attach_job("CMP1")
                assert await server.stop() == 0
        assert (tmp_path / "data" / "tls" / "demo-cert.pem").exists()

    async def test_json_log_format(self, tmp_path: Path) -> None:
        """--log-format json writes one JSON object per line, hypercorn's included: our listening events with
        listener and address, ready, an access log line per HTTP request (path without its query), and at
        SIGTERM signal_received and shutting_down."""
        with trio.fail_after(30):
            async with agt_server_process(tmp_path, *FREE_PORTS, "--log-format", "json") as server:
                async with httpx.AsyncClient(base_url=f"http://{HOST}:{server.ports['http']}") as http:
                    assert (await http.get("/api/v1/healthz?token=hidden")).status_code == 200
                assert await server.stop() == 0
                records = [json.loads(line) for line in server.stderr.splitlines() if line.strip()]
        ours = [record for record in records if record["logger"] in ("agt_server", "agt_server.server")]
        events = [record["event"] for record in ours]
        assert events[:5] == ["listening", "listening", "listening", "listening", "ready"]
        assert [(r["listener"], r["address"]) for r in ours[:4]] == [
            ("wire", f"{HOST}:{server.ports['agent']}"),
            ("tls", f"{HOST}:{server.ports['tls']}"),
            ("tty", f"{HOST}:{server.ports['tty']}"),
            ("http", f"{HOST}:{server.ports['http']}"),
        ]
        assert any(r["logger"] == "hypercorn.error" and "Running on" in r["event"] for r in records)
        # hypercorn 0.18 may log a second line without status ("- -") when the client closes the connection
        # right after the response: a race in its access logging, harmless.
        access = [record["event"] for record in records if record["logger"] == "agt_server.http"]
        assert [line for line in access if " GET /api/v1/healthz 200 " in line], access
        assert not [line for line in access if "hidden" in line or "token" in line], access
        events = [record["event"] for record in records]
        assert "signal_received" in events
        assert "shutting_down" in events
        assert all(record["level"] for record in records)
        assert all(record["timestamp"] for record in records)


class TestSignals:
    """SIGTERM and SIGINT shut the server down cleanly."""

    @pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
    async def test_signal_tells_agents_and_exits_zero(self, tmp_path: Path, signum: int) -> None:
        """A logged-on client gets AGTSystemError N 1 E28921,server shutting down and is disconnected, and the
        process exits with status 0 within 5 s, without a traceback."""
        with trio.fail_after(30):
            async with agt_server_process(tmp_path, *FREE_PORTS) as server:
                async with open_agt_client(HOST, server.ports["agent"]) as client:
                    await client.login_sequence("agent1", "agent1")
                    await client.join("CMP1", work_class="O")
                    server.process.send_signal(signum)
                    notice = await client.next_notification(timeout=EXIT_TIMEOUT)
                    assert (notice.keyword, notice.first.segments) == (
                        "AGTSystemError",
                        ("1", "E28921,server shutting down"),
                    )
                    with trio.fail_after(EXIT_TIMEOUT):
                        await client.wait_closed()
                with trio.fail_after(EXIT_TIMEOUT):
                    assert await server.process.wait() == 0
            assert "Traceback" not in server.stderr
            assert "shutting_down" in server.stderr


class TestStartupErrors:
    """A bad configuration or a port in use ends the program with one clear message, never a traceback."""

    def test_bad_configuration_file(self, tmp_path: Path) -> None:
        """A job with priority 12 exits with status 2 and a message naming the file and jobs[0].priority."""
        config = tmp_path / "bad-site.toml"
        config.write_text(
            "[[calling_lists]]\n"
            'name = "leads"\n'
            "generated_records = 10\n"
            'fields = [{ name = "ACCTNUM", length = 16, type = "N" }]\n'
            "\n"
            "[[jobs]]\n"
            'name = "CMP1"\n'
            'type = "O"\n'
            "priority = 12\n"
            'outbound_list = "leads"\n'
            "\n"
            "[[agents]]\n"
            'name = "agent1"\n'
            f'password_hash = "{_example_hash()}"\n'
        )
        result = run_agt_server("--config", str(config), *FREE_PORTS, "--data-dir", str(tmp_path / "data"))
        assert result.returncode == 2
        assert str(config) in result.stderr
        assert "jobs[0].priority" in result.stderr
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr

    @pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.7", "::", "example.com"])
    def test_demo_refuses_a_non_loopback_host(self, tmp_path: Path, host: str) -> None:
        """The demo (public tokens and passwords) listening beyond this machine exits with status 2 and one line
        saying why, before it binds anything."""
        result = run_agt_server("--host", host, *FREE_PORTS, "--data-dir", str(tmp_path / "data"))
        assert result.returncode == 2
        (line,) = result.stderr.strip().splitlines()
        assert line.startswith("agt-server: configuration error: the demo configuration listens on this machine only")
        assert "tokens" in line
        assert host in line
        assert not (tmp_path / "data").exists()

    def test_port_in_use(self, tmp_path: Path) -> None:
        """A wire port another program listens on exits with status 1 and one clear message, without a traceback."""
        with socket.socket() as taken:
            taken.bind((HOST, 0))
            taken.listen()
            port = taken.getsockname()[1]
            result = run_agt_server(
                "--agent-port", str(port), "--tls-port", "off", "--tty-port", "off", "--http-port", "off",
                "--data-dir", str(tmp_path),
            )
        assert result.returncode == 1
        assert "Traceback" not in result.stderr
        assert "ExceptionGroup" not in result.stderr
        assert "agt-server: cannot start:" in result.stderr
        assert "in use" in result.stderr


class TestOtherCommands:
    """hash-password and --version."""

    def test_hash_password_from_stdin(self) -> None:
        """`agt-server hash-password` reads the password from standard input and prints one hash that
        verify_password accepts for it (and for nothing else)."""
        result = run_agt_server("hash-password", stdin="s3cret pass\n")
        assert result.returncode == 0, result.stderr
        (line,) = result.stdout.splitlines()
        assert line.startswith("scrypt$14$")
        assert verify_password(line, "s3cret pass")
        assert not verify_password(line, "s3cret pass\n")
        assert not verify_password(line, "other")

    def test_hash_password_refuses_an_empty_password(self) -> None:
        """An empty line on standard input exits with status 2 and prints no hash."""
        result = run_agt_server("hash-password", stdin="\n")
        assert result.returncode == 2
        assert result.stdout == ""
        assert "empty password" in result.stderr

    def test_version(self) -> None:
        """--version prints the program name and version and exits with status 0."""
        result = run_agt_server("--version")
        assert result.returncode == 0
        assert result.stdout == f"agt-server {__version__}\n"


def _example_hash() -> str:
    """agent1's password hash from examples/site.toml (a valid hash, so only the priority is wrong)."""
    found = re.search(r'password_hash = "([^"]+)"', EXAMPLE.read_text())
    assert found is not None
    return found.group(1)
