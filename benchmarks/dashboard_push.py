"""Benchmark 4: dashboard push -- how fast an agent's state change reaches 100 open event streams.

100 Server-Sent Event streams are open on ``GET /api/v1/events?token=...`` (raw HTTP/1.1 over trio
sockets, lighter than an HTTP client library).  One AGT agent, logged on and server-assigned, changes
its state at t0 by sending AGTSetPreferredJobList with the other job (it moves from STORM1 to STORM2 or
back); for each stream we take the time the first ``agent`` event naming it arrives.  Repeated R times
(default 20): p50/p99/max over all samples, and the median of the per-round p99.

Target: p99 <= 250 ms.  Printed next to a baseline from the same run: the same measurement with a single
open stream.  The server runs as a subprocess; client and server share this machine's cores.

Run:  .venv/bin/python benchmarks/dashboard_push.py [--streams 100] [--rounds 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import trio
from reassignment_storm import TOKEN, AgtClient, agent_name, percentile, raise_fd_limit, running_server

AGENT = agent_name(0)


class Stream:
    """One raw SSE connection; records the arrival of the first event about AGENT once armed."""

    def __init__(self) -> None:
        self.armed = False
        self.arrived: float | None = None
        self.got = trio.Event()

    async def run(self, port: int, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        stream = await trio.open_tcp_stream("127.0.0.1", port)
        request = (f"GET /api/v1/events?token={TOKEN} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   "Accept: text/event-stream\r\n\r\n")  # fmt: skip
        await stream.send_all(request.encode())
        buffer = b""
        started = False
        event_type = ""
        async with stream:
            while True:
                data = await stream.receive_some(65536)
                if not data:
                    return
                now = time.perf_counter()
                buffer += data
                *lines, buffer = buffer.split(b"\n")
                for raw in lines:
                    line = raw.rstrip(b"\r")
                    if line.startswith(b"retry:") and not started:
                        started = True
                        task_status.started()
                    elif line.startswith(b"event: "):
                        event_type = line[7:].decode()
                    elif self.armed and line.startswith(b"data: ") and event_type == "agent" and AGENT.encode() in line:
                        self.armed = False
                        self.arrived = now
                        self.got.set()


async def measure(streams: list[Stream], agent: AgtClient, rounds: int, flip: list[int]) -> list[list[float]]:
    results = []
    for _ in range(rounds):
        for stream in streams:
            stream.armed, stream.arrived, stream.got = True, None, trio.Event()
        job = ("STORM1", "STORM2")[flip[0] % 2]
        flip[0] += 1
        t0 = time.perf_counter()
        await agent.request("AGTSetPreferredJobList", job)
        with trio.move_on_after(10):
            for stream in streams:
                await stream.got.wait()
        results.append([(s.arrived - t0) * 1000 for s in streams if s.arrived is not None])
        missing = sum(s.arrived is None for s in streams)
        if missing:
            print(f"  round: {missing} streams saw no event within 10 s")
        await trio.sleep(0.3)  # let trailing events (campaign counts) drain before the next round
    return results


def report(label: str, results: list[list[float]]) -> float:
    samples = [value for round_ in results for value in round_]
    per_round_p99 = [percentile(round_, 0.99) for round_ in results if round_]
    p99 = percentile(samples, 0.99)
    print(f"{label}: {len(samples)} samples   p50 {percentile(samples, 0.5):.2f} ms   p99 {p99:.2f} ms   "
          f"max {max(samples):.2f} ms   median of per-round p99 {statistics.median(per_round_p99):.2f} ms")  # fmt: skip
    return p99


async def bench(ports: dict[str, int], count: int, rounds: int) -> None:
    agent = await AgtClient.connect(ports["agent"])
    await agent.logon(AGENT, ("STORM1",), [])
    flip = [1]

    async with trio.open_nursery() as nursery:
        first = Stream()
        await nursery.start(first.run, ports["http"])
        await trio.sleep(0.5)
        baseline = await measure([first], agent, rounds, flip)
        streams = [first]
        for _ in range(count - 1):
            stream = Stream()
            await nursery.start(stream.run, ports["http"])
            streams.append(stream)
        await trio.sleep(0.5)
        loaded = await measure(streams, agent, rounds, flip)
        nursery.cancel_scope.cancel()
    base_p99 = report(f"baseline  1 stream,   {rounds} rounds", baseline)
    p99 = report(f"loaded    {count} streams, {rounds} rounds", loaded)
    print(f"p99 with {count} streams = {p99 / base_p99:.1f}x the 1-stream p99")
    print(f"target p99 <= 250 ms: {'met' if p99 <= 250 else 'missed'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--streams", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    print(f"RLIMIT_NOFILE {raise_fd_limit()}; {os.cpu_count()} CPUs")
    with running_server(1) as ports:
        trio.run(bench, ports, args.streams, args.rounds)


if __name__ == "__main__":
    main()
