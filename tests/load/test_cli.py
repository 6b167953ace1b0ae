"""``agt-load``'s command line, end to end: ``main(argv)`` against a real server, and its exit status.

``main`` calls ``trio.run`` itself and, to end a run early on Ctrl-C, listens for SIGINT, which only the
main thread can do; so these tests are synchronous and call ``main`` on the test's (main) thread, while
the server runs in a trio run of its own on a background thread (:func:`server_in_thread`, bounded by
``START_TIMEOUT`` and ``STOP_TIMEOUT``).  Every run is a second or two.  ``main`` configures structlog
for the whole process; the ``structlog_restored`` fixture puts the previous configuration back so that
later tests still see their logs.
"""

from __future__ import annotations

import json
import queue
import socket
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import structlog
import trio

from agt_server.config import demo_config
from agt_server.load import main
from agt_server.server import BoundPorts
from tests.support import HOST, config_for_tests, running_server

from .test_load_run import FAST

#: How long the background server may take to start, and to stop.
START_TIMEOUT = 20
STOP_TIMEOUT = 10
#: Flags of every run: a couple of seconds of quick calls, no live progress.
SHORT = [
    "--no-progress",
    "--host",
    HOST,
    "--agents",
    "8",
    "--ramp-up",
    "50",
    "--duration",
    "1500ms",
    "--drain",
    "5s",
    "--talk",
    "20ms..60ms",
    "--wrap",
    "10ms..30ms",
    "--think",
    "10ms..30ms",
    "--preferred",
    "CMP1,CMP2",
    "--seed",
    "99",
]


@contextmanager
def server_in_thread(tmp_path: Path) -> Iterator[BoundPorts]:
    """The demo site with its load agents and a fast dialer, served by a trio run on another thread."""
    config = config_for_tests(tmp_path, dialing=FAST, agents=demo_config(tmp_path).agents)
    started: queue.Queue[tuple[BoundPorts, trio.lowlevel.TrioToken, trio.CancelScope] | BaseException] = queue.Queue()

    async def serve() -> None:
        try:
            async with running_server(config) as running:
                with trio.CancelScope() as scope:
                    started.put((running.ports, trio.lowlevel.current_trio_token(), scope))
                    await trio.sleep_forever()
        except BaseException as exc:
            started.put(exc)
            raise

    thread = threading.Thread(target=trio.run, args=(serve,), name="agt-server", daemon=True)
    thread.start()
    outcome = started.get(timeout=START_TIMEOUT)
    if isinstance(outcome, BaseException):
        raise outcome
    ports, token, scope = outcome
    try:
        yield ports
    finally:
        trio.from_thread.run_sync(scope.cancel, trio_token=token)
        thread.join(STOP_TIMEOUT)
        assert not thread.is_alive(), "the server did not stop"


@pytest.fixture(autouse=True)
def structlog_restored() -> Iterator[None]:
    """Undo ``main``'s process-wide structlog configuration after the test."""
    saved = structlog.get_config()
    yield
    structlog.configure(**saved)


@pytest.fixture
def wide_stderr(monkeypatch: pytest.MonkeyPatch) -> None:
    """Give rich a wide console, so that messages are checked apart from how they are wrapped (that has a
    test of its own, :meth:`TestNothingRuns.test_error_is_one_line`)."""
    monkeypatch.setenv("COLUMNS", "1000")


@pytest.fixture
def ports(tmp_path: Path) -> Iterator[BoundPorts]:
    with server_in_thread(tmp_path) as bound:
        yield bound


def run(argv: Sequence[str]) -> int:
    """``agt-load argv``'s exit status, as the console script would exit (argparse exits by itself)."""
    try:
        return main(list(argv))
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1


def read_json(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def closed_port() -> int:
    """A port of 127.0.0.1 that nothing listens on (it was just bound and released)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
    return port


#: The keys of [agents], as the message about an unknown one lists them.
KNOWN_AGENT_KEYS = "attach, count, first, headset, name, password, preferred, ramp_up, work_class"


class TestRuns:
    def test_clean_run_exits_0(self, ports: BoundPorts, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """A clean short run that meets its thresholds exits 0; the JSON report has the run's fields with no
        errors and every threshold met, and the text report goes to standard output."""
        out = tmp_path / "report.json"
        status = run(
            [*SHORT, "--port", str(ports.agent), "--max-errors", "0", "--max-p99", "AGTLogon=10s", "--json", str(out)]
        )
        captured = capsys.readouterr()
        assert status == 0, captured.err
        report = read_json(out)
        assert report["passed"] is True
        assert report["errors"] == 0
        assert report["target"] == f"tcp://{HOST}:{ports.agent}"
        assert (report["agents"], report["logged_on"], report["logged_off"]) == (8, 8, 8)
        assert report["commands"] > 0
        assert report["command_latency"]["AGTLogon"]["count"] == 8
        assert report["calls_finished"] > 0
        assert [(check["name"], check["ok"]) for check in report["thresholds"]] == [
            ("p99 AGTLogon", True),
            ("errors", True),
        ]
        assert "AGTLogon" in captured.out
        assert "Traceback" not in captured.err

    def test_impossible_threshold_exits_1(self, ports: BoundPorts, tmp_path: Path) -> None:
        """A p99 limit of 0 ms cannot be met: exit 1, and the JSON report says passed false."""
        out = tmp_path / "report.json"
        status = run([*SHORT, "--port", str(ports.agent), "--max-p99", "AGTReadyNextItem=0ms", "--json", str(out)])
        assert status == 1
        report = read_json(out)
        assert report["passed"] is False
        (check,) = report["thresholds"]
        assert (check["name"], check["ok"]) == ("p99 AGTReadyNextItem", False)
        assert check["value"] > 0

    def test_threshold_on_a_command_that_never_ran_exits_1(self, ports: BoundPorts, tmp_path: Path) -> None:
        """A threshold on a command no agent sent (no callbacks in this run) is a breach: exit 1."""
        out = tmp_path / "report.json"
        status = run([*SHORT, "--port", str(ports.agent), "--max-p99", "AGTSetCallback=10s", "--json", str(out)])
        assert status == 1
        report = read_json(out)
        assert report["passed"] is False
        assert report["errors"] == 0
        (check,) = report["thresholds"]
        assert (check["ok"], check["value"]) == (False, None)
        assert "no samples" in check["note"]

    def test_scenario_file_with_flags_over_it(self, ports: BoundPorts, tmp_path: Path) -> None:
        """A scenario file is read, and flags override its keys (here the port and the agent count)."""
        scenario = tmp_path / "run.toml"
        scenario.write_text('[server]\nport = 1\n[agents]\ncount = 100\nname = "load{n}"\n', encoding="utf-8")
        out = tmp_path / "report.json"
        status = run([str(scenario), *SHORT, "--agents", "3", "--port", str(ports.agent), "--json", str(out)])
        assert status == 0
        report = read_json(out)
        assert (report["agents"], report["logged_on"], report["target"]) == (3, 3, f"tcp://{HOST}:{ports.agent}")

    def test_wrong_password_exits_3(self, ports: BoundPorts, tmp_path: Path) -> None:
        """When no agent can log on (wrong password) nothing ran: exit 3."""
        out = tmp_path / "report.json"
        status = run([*SHORT, "--agents", "2", "--port", str(ports.agent), "--password", "wrong", "--json", str(out)])
        assert status == 3
        report = read_json(out)
        assert report["logged_on"] == 0
        assert report["errors"] == 2


class TestNothingRuns:
    def test_server_not_listening_exits_3(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """Against a port nothing listens on, no agent logs on: exit 3, the connect failures reported."""
        out = tmp_path / "report.json"
        status = run([*SHORT, "--agents", "3", "--port", str(closed_port()), "--json", str(out)])
        captured = capsys.readouterr()
        assert status == 3, captured.err
        report = read_json(out)
        assert (report["connected"], report["logged_on"]) == (0, 0)
        assert sum(report["connect_failures"].values()) == 3
        assert "Traceback" not in captured.err

    def test_main_off_the_main_thread(self, tmp_path: Path) -> None:
        """``main`` also runs from a thread other than the main one (where no Ctrl-C can reach it): the
        run happens and ends with its exit status, instead of crashing because only the main thread may
        listen for SIGINT."""
        out = tmp_path / "report.json"
        statuses: list[int | BaseException] = []

        def worker() -> None:
            try:
                statuses.append(run([*SHORT, "--agents", "1", "--port", str(closed_port()), "--json", str(out)]))
            except BaseException as exc:  # the failure is what the test reports
                statuses.append(exc)

        thread = threading.Thread(target=worker, name="agt-load")
        thread.start()
        thread.join(START_TIMEOUT)
        assert not thread.is_alive()
        assert statuses == [3]
        assert read_json(out)["logged_on"] == 0

    @pytest.mark.parametrize(
        ("flags", "message"),
        [
            (["--duration", "abc"], "run.duration: expected a duration"),
            (["--agents", "0"], "agents.count: expected a whole number from 1 to 10000"),
            (["--agents", "20000"], "agents.count: expected a whole number from 1 to 10000"),
            (["--talk", "5s..1s"], "calls.talk: the range's low end"),
            (["--codes", "20=-1"], "calls.codes"),
            (["--max-p99", "AGTLogon"], "--max-p99: expected KEYWORD=DURATION"),
            (["--max-p99", "AGTLogon=1us"], "--max-p99: expected a duration"),
            (["--insecure"], "server.insecure only applies with server.tls"),
            (["--work-class", "Z"], "agents.work_class"),
            (["--agents", "abc"], "--agents: invalid int value"),
        ],
    )
    @pytest.mark.usefixtures("wide_stderr")
    def test_bad_flag_exits_2(self, flags: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
        """A bad flag value exits 2 before anything runs, with the message on standard error, no traceback."""
        status = run(["--no-progress", "--port", str(closed_port()), *flags])
        captured = capsys.readouterr()
        assert status == 2
        assert message in captured.err
        assert "Traceback" not in captured.err
        assert "agents (load" not in captured.err, "the run started"

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("[agents]\ncolour = 'blue'\n", "unknown key agents.colour"),
            ("[agent]\ncount = 5\n", "unknown section 'agent'"),
            ("[agents\ncount = 5\n", "not valid TOML"),
            ("[calls]\ntalk = '1s..'\n", "calls.talk"),
        ],
    )
    @pytest.mark.usefixtures("wide_stderr")
    def test_bad_scenario_file_exits_2(
        self, tmp_path: Path, text: str, message: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A scenario file with an unknown key, an unknown section, bad TOML or a bad value exits 2, naming
        the file and the fault on standard error, without a traceback."""
        scenario = tmp_path / "bad.toml"
        scenario.write_text(text, encoding="utf-8")
        status = run([str(scenario), "--no-progress"])
        captured = capsys.readouterr()
        assert status == 2
        assert f"agt-load: error: {scenario}: " in captured.err
        assert message in captured.err
        assert "Traceback" not in captured.err

    def test_error_is_one_line(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """An error is one line on standard error whatever its length (CI logs are grepped, and a path
        must not be cut in two), even when standard error is a pipe, which rich takes as 80 columns."""
        monkeypatch.delenv("COLUMNS", raising=False)
        scenario = tmp_path / ("a-scenario-file-with-a-rather-long-name-" * 2 + ".toml")
        scenario.write_text("[agents]\ncolour = 'blue'\n", encoding="utf-8")
        status = run([str(scenario), "--no-progress"])
        err = capsys.readouterr().err
        assert status == 2
        assert err == f"agt-load: error: {scenario}: unknown key agents.colour (known: {KNOWN_AGENT_KEYS})\n"

    def test_missing_scenario_file_exits_2(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """A scenario file that cannot be read exits 2."""
        status = run([str(tmp_path / "missing.toml"), "--no-progress"])
        assert status == 2
        assert "cannot read it" in capsys.readouterr().err
