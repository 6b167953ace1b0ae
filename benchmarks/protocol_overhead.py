"""Benchmark 1: request/reply messages per second, agt-server vs. a bare trio line-echo server.

Target: at 100 connections, agt-server reaches at least 0.7x the messages per second of a bare trio
line-echo server (``trio.serve_tcp``, reads lines, echoes each) measured with the same client in the
same run.  Both servers run as subprocesses (their own core); the client is this process.

The client is the same for both: N connections, ping-pong (one outstanding request per connection),
each task sends its request with one ``send_all`` and reads until the reply's terminator.

* agt-server (the demo, ``--no-demo-activity``, ``--db :memory:``): the request is ``AGTListState``
  sent *before logon*.  Only 20 demo agents exist, so 100 and 1,000 connections cannot all log on;
  an unauthenticated command still goes the whole way: framing and decoding, the connection task,
  the engine's command gate, which answers a single ``R`` message ``1 E28924`` (not logged on), and
  the reply's encoding and send.  It skips only the command handler itself, which for AGTListState is
  a dictionary lookup.  The server's AGTSTART greeting and the first reply are decoded, and the reply is checked
  to be that E28924 response.
* echo: a line of exactly the same length as the AGT request (``x`` * (len - 1) + ``\\n``).

Run:  .venv/bin/python benchmarks/protocol_overhead.py [--connections 1,100,1000] [--seconds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import trio

from agt_server.protocol import ErrorCode, Message, MessageType, Sentinel, WireCodec, encode

HOST = "127.0.0.1"
TARGET_RATIO = 0.7
TARGET_CONNECTIONS = 100
ETX = b"\x03"


# -- the bare echo server (run as a subprocess of this script with --serve-echo) --------------------


async def _echo_handler(stream: trio.SocketStream) -> None:
    buffer = b""
    try:
        while True:
            data = await stream.receive_some()
            if not data:
                return
            buffer += data
            end = buffer.rfind(b"\n") + 1
            if end:
                lines, buffer = buffer[:end], buffer[end:]
                # Echo each complete line; all lines of one read in one send_all (stack.md: one
                # send_all per message is 10-30x worse, and ping-pong has one line per read anyway).
                await stream.send_all(b"".join(line + b"\n" for line in lines.split(b"\n")[:-1]))
    except trio.BrokenResourceError:
        return


async def _serve_echo(port_file: Path) -> None:
    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(trio.serve_tcp, _echo_handler, 0)
        port = listeners[0].socket.getsockname()[1]
        partial = port_file.with_name(port_file.name + ".tmp")
        partial.write_text(json.dumps({"echo": port}))
        partial.replace(port_file)


# -- subprocesses --------------------------------------------------------------------------------


def _wait_for_port_file(path: Path, process: subprocess.Popen[bytes], key: str) -> int:
    deadline = time.monotonic() + 30
    while not path.exists():
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode} before listening")
        if time.monotonic() > deadline:
            raise SystemExit("server did not start within 30 s")
        time.sleep(0.05)
    port = json.loads(path.read_text())[key]
    assert isinstance(port, int)
    return port


@contextmanager
def _subprocess(command: list[str], port_file: Path, key: str) -> Iterator[tuple[int, int]]:
    process = subprocess.Popen(command)
    try:
        yield _wait_for_port_file(port_file, process, key), process.pid
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def agt_server(directory: Path) -> Iterator[tuple[int, int]]:
    """An agt-server subprocess on a free port; yields the agent port and the process id."""
    port_file = directory / "agt-ports.json"
    command = [
        sys.executable, "-m", "agt_server", "--agent-port", "0", "--tls-port", "off", "--tty-port", "off",
        "--http-port", "off", "--data-dir", str(directory / "data"), "--port-file", str(port_file),
        "--no-demo-activity", "--db", ":memory:", "--log-level", "warning",
    ]  # fmt: skip
    with _subprocess(command, port_file, "agent") as server:
        yield server


@contextmanager
def echo_server(directory: Path) -> Iterator[tuple[int, int]]:
    """The bare trio echo server as a subprocess; yields its port and the process id."""
    port_file = directory / "echo-ports.json"
    command = [sys.executable, __file__, "--serve-echo", str(port_file)]
    with _subprocess(command, port_file, "echo") as server:
        yield server


# -- the client ----------------------------------------------------------------------------------


def agt_request() -> bytes:
    """The AGT request every connection repeats: AGTListState, before logon."""
    return encode(Message("AGTListState", MessageType.COMMAND, (), client="bench", process_id="0", invoke_id="1"))


async def warm_up_agt(stream: trio.SocketStream, request: bytes) -> None:
    """Read the server's AGTSTART greeting, send one request, and check that its reply is the single
    ``R 1 E28924`` response this benchmark expects."""
    codec = WireCodec()
    await stream.send_all(request)
    messages: list[Message] = []
    while not any(message.type is MessageType.RESPONSE for message in messages):
        codec.receive_data(await stream.receive_some())
        while isinstance(message := codec.next_message(), Message):
            messages.append(message)
    assert message is Sentinel.NEED_DATA, message
    reply = messages[-1]
    assert reply.type is MessageType.RESPONSE and ErrorCode.E28924 in reply.segments, reply
    assert [m.keyword for m in messages[:-1]] == ["AGTSTART"], messages


@dataclass
class _Shared:
    """What the connections of one measurement share."""

    start: trio.Event = field(default_factory=trio.Event)
    stop_at: float = float("inf")
    counts: list[int] = field(default_factory=list)


async def _connection(
    port: int, request: bytes, terminator: bytes, shared: _Shared,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:  # fmt: skip
    stream = await trio.open_tcp_stream(HOST, port)
    async with stream:
        # One request/reply before the clock starts: a warm connection, and a check of the reply.
        if terminator == ETX:
            await warm_up_agt(stream, request)
        else:
            await stream.send_all(request)
            reply = b""
            while terminator not in reply:
                reply += await stream.receive_some()
        task_status.started()
        await shared.start.wait()
        count = 0
        while trio.current_time() < shared.stop_at:
            await stream.send_all(request)
            data = await stream.receive_some()
            while terminator not in data:
                data += await stream.receive_some()
            count += 1
        shared.counts.append(count)


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of process ``pid`` so far (``/proc/<pid>/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(
    server: tuple[int, int], request: bytes, terminator: bytes, connections: int, seconds: float
) -> tuple[float, float]:
    """Replies per second over ``connections`` ping-pong connections for ``seconds``, and the server's
    CPU time per reply in microseconds."""
    port, pid = server
    shared = _Shared()
    async with trio.open_nursery() as nursery:
        for index in range(connections):
            await nursery.start(_connection, port, request, terminator, shared)
            if index % 100 == 99:
                await trio.sleep(0.01)  # a bounded connect rate: do not overrun the listen backlog
        began = time.perf_counter()
        cpu_began = cpu_seconds(pid)
        shared.stop_at = trio.current_time() + seconds
        shared.start.set()
    elapsed = time.perf_counter() - began
    replies = sum(shared.counts)
    return replies / elapsed, (cpu_seconds(pid) - cpu_began) / replies * 1e6


async def run(agt: tuple[int, int], echo: tuple[int, int], connection_counts: list[int], seconds: float) -> bool:
    request = agt_request()
    echo_line = b"x" * (len(request) - 1) + b"\n"
    print(f"request: AGTListState before logon, {len(request)} bytes; echo line {len(echo_line)} bytes")
    print(f"ping-pong, {seconds:g} s per measurement\n")
    print("server CPU per reply (µs) in brackets, from /proc/<pid>/stat\n")
    print(f"{'connections':>11}  {'echo msgs/s (CPU)':>20}  {'agt msgs/s (CPU)':>20}  {'agt/echo':>8}")
    met = True
    for connections in connection_counts:
        echo_rate, echo_cpu = await measure(echo, echo_line, b"\n", connections, seconds)
        agt_rate, agt_cpu = await measure(agt, request, ETX, connections, seconds)
        ratio = agt_rate / echo_rate
        note = ""
        if connections == TARGET_CONNECTIONS:
            met = ratio >= TARGET_RATIO
            note = f"  target >= {TARGET_RATIO}x: {'met' if met else 'MISSED'}"
        echo_text = f"{echo_rate:,.0f} ({echo_cpu:.0f})"
        agt_text = f"{agt_rate:,.0f} ({agt_cpu:.0f})"
        print(f"{connections:>11}  {echo_text:>20}  {agt_text:>20}  {ratio:>7.2f}x{note}")
    return met


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connections", default="1,100,1000", help="comma-separated connection counts")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--serve-echo", type=Path, metavar="PORT_FILE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_echo is not None:
        with suppress(KeyboardInterrupt):
            trio.run(_serve_echo, args.serve_echo)
        return
    connection_counts = [int(part) for part in args.connections.split(",")]
    with tempfile.TemporaryDirectory() as temp:
        directory = Path(temp)
        with agt_server(directory) as agt, echo_server(directory) as echo:
            trio.run(run, agt, echo, connection_counts, args.seconds)


if __name__ == "__main__":
    main()
