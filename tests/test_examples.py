"""The examples in examples/ describe what the server does today: they are replayed against it."""

from __future__ import annotations

import sys
from pathlib import Path

import trio

from tests.support import HOST, RunningServer

EXAMPLES = Path(__file__).parent.parent / "examples"


async def _read_lines(stream: trio.SocketStream, buffer: bytearray, count: int) -> list[str]:
    while buffer.count(b"\r\n") < count:
        data = await stream.receive_some(65536)
        if not data:
            break
        buffer += data
    lines = bytes(buffer).split(b"\r\n")
    taken, rest = lines[:count], lines[count:]
    buffer[:] = b"\r\n".join(rest)
    return [line.decode() for line in taken]


class TestTelnetTranscript:
    async def test_transcript_replays_exactly(self, server: RunningServer) -> None:
        """Typing the transcript's lines into the tty port gives exactly the transcript's answers."""
        transcript = (EXAMPLES / "telnet-session.txt").read_text().splitlines()
        steps: list[tuple[str | None, list[str]]] = [(None, [])]
        for line in transcript:
            if line.startswith("#"):
                continue
            if line.startswith("> "):
                steps.append((line[2:], []))
            else:
                steps[-1][1].append(line)
        assert server.ports.tty is not None
        with trio.fail_after(10):
            stream = await trio.open_tcp_stream(HOST, server.ports.tty)
            buffer = bytearray()
            for typed, expected in steps:
                if typed is not None:
                    await stream.send_all(typed.encode() + b"\r\n")
                assert await _read_lines(stream, buffer, len(expected)) == expected
            await stream.aclose()


class TestClientScript:
    async def test_agent_session_script_runs(self, server: RunningServer) -> None:
        """examples/agent_session.py walks a whole session against the server and exits cleanly."""
        assert server.ports.agent is not None
        script = str(EXAMPLES / "agent_session.py")
        command = [sys.executable, script, "--port", str(server.ports.agent), "--wait", "0.2"]
        with trio.fail_after(30):
            result = await trio.run_process(command, capture_stdout=True, capture_stderr=True, check=False)
        output = result.stdout.decode()
        assert result.returncode == 0, result.stderr.decode()
        assert "state: S70001" in output
        assert output.rstrip().endswith("logged off; the server closed the connection")
