"""Benchmark 2: N concurrent logged-on agents in one server process, and its memory per idle agent.

Target: at most 10 KB of server RSS per idle, logged-on agent, at 10,000 agents.  Printed next to
the server's own baseline RSS from the same run (after start, before any connection).

The server runs as a subprocess with a generated site configuration (one outbound job, a generated
list of 10 records, N agents ``load00001``... all sharing ONE scrypt hash of "load" at cost 10, so the
server's verifier cache makes every logon after the first cheap).  This process raises its open-file
soft limit to the hard limit (``RLIMIT_NOFILE``); the server subprocess inherits it.  Agents connect
in batches (each batch connected and logged on before the next starts), which bounds the connect
rate so the listen backlog is not overrun.  Each connection logs on, then stays idle.  RSS is VmRSS
from ``/proc/<pid>/status``.

    KB per agent = (RSS after N agents logged on - baseline RSS) / N

The marginal figure over the second half (RSS at N - RSS at N/2) / (N/2) is printed too: it leaves
out one-time costs (first logon, thread pool, lazy imports) that the whole-run figure includes.

Run:  .venv/bin/python benchmarks/scale.py [--agents 10000] [--batch 500]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import trio

from agt_server.config import hash_password
from agt_server.protocol import Message, MessageType, WireCodec, encode

HOST = "127.0.0.1"
TARGET_KB = 10.0
PASSWORD = "load"


def agent_name(index: int) -> str:
    return f"load{index:05}"


def site_toml(agents: int, data_dir: Path) -> str:
    """A site configuration with one outbound job, a tiny generated list and ``agents`` agents."""
    password_hash = hash_password(PASSWORD, cost=10)
    lines = [
        f'data_dir = "{data_dir}"',
        "",
        "[listeners]",
        f'host = "{HOST}"',
        "agent_port = 0",
        'tls_port = "off"',
        'tty_port = "off"',
        'http_port = "off"',
        "",
        "[limits]",
        f"max_connections = {agents + 100}",
        "",
        "[simulation]",
        "seed = 1",
        'database = ":memory:"',
        "",
        "[[calling_lists]]",
        'name = "loadlist"',
        "generated_records = 10",
        'fields = [{ name = "ACCTNUM", length = 16, type = "N" }, { name = "PHONE1", length = 10, type = "N" }]',
        "",
        "[[jobs]]",
        'name = "LOAD1"',
        'type = "O"',
        'outbound_list = "loadlist"',
        "",
    ]
    for index in range(1, agents + 1):
        lines += ["[[agents]]", f'name = "{agent_name(index)}"', f'password_hash = "{password_hash}"', ""]
    return "\n".join(lines)


def rss_kb(pid: int) -> int:
    """VmRSS of process ``pid``, in KB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


async def agent(
    port: int, name: str, failures: list[str], task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
) -> None:
    """Connect, log on as ``name``, report started, then stay idle (connected) until cancelled."""
    stream = await trio.open_tcp_stream(HOST, port)
    async with stream:
        logon = Message(
            "AGTLogon", MessageType.COMMAND, (name, PASSWORD), client="bench", process_id="0", invoke_id="1"
        )
        await stream.send_all(encode(logon))
        codec = WireCodec()
        reply: Message | None = None
        while reply is None:
            data = await stream.receive_some()
            if not data:
                raise RuntimeError(f"{name}: connection closed before the logon reply")
            codec.receive_data(data)
            while isinstance(message := codec.next_message(), Message):
                if message.type is MessageType.RESPONSE:
                    reply = message
        if reply.segments[:1] != ("0",):
            failures.append(f"{name}: {reply.segments}")
        task_status.started()
        await trio.sleep_forever()


async def run(port: int, pid: int, agents: int, batch: int) -> None:
    await trio.sleep(1.0)  # let the server settle after start
    baseline = rss_kb(pid)
    print(f"server baseline RSS (started, no connections): {baseline:,} KB")
    failures: list[str] = []
    half = agents // 2
    rss_half = baseline
    began = time.perf_counter()
    async with trio.open_nursery() as nursery:
        for start in range(1, agents + 1, batch):
            names = [agent_name(index) for index in range(start, min(start + batch, agents + 1))]
            async with trio.open_nursery() as batch_nursery:
                for name in names:
                    batch_nursery.start_soon(nursery.start, agent, port, name, failures)
            done = start + len(names) - 1
            if start <= half <= done:
                await trio.sleep(0.5)
                rss_half = rss_kb(pid)
        connect_seconds = time.perf_counter() - began
        await trio.sleep(2.0)  # idle: let the server finish any follow-up work (assignment, rebalance)
        after = rss_kb(pid)
        nursery.cancel_scope.cancel()
    if failures:
        print(f"{len(failures)} logons failed, e.g. {failures[:3]}")
    logged_on = agents - len(failures)
    print(f"{logged_on:,} of {agents:,} agents connected and logged on in {connect_seconds:.1f} s (batches of {batch})")
    print(f"server RSS with them idle: {after:,} KB (at {half:,} agents: {rss_half:,} KB)")
    per_agent = (after - baseline) / agents
    marginal = (after - rss_half) / (agents - half)
    verdict = "met" if per_agent <= TARGET_KB and not failures else "MISSED"
    print(f"KB per idle agent: {per_agent:.2f} (baseline {baseline:,} KB)  target <= {TARGET_KB:g} KB: {verdict}")
    print(f"marginal KB per agent over the second half: {marginal:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=500, help="connections opened (and logged on) at a time")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    print(f"open-file limit raised from {soft} to {hard} (the hard limit); the server subprocess inherits it")
    if hard < args.agents + 200:
        print(f"warning: the hard limit {hard} is below {args.agents} connections plus margin")
    with tempfile.TemporaryDirectory() as temp:
        directory = Path(temp)
        config = directory / "site.toml"
        config.write_text(site_toml(args.agents, directory / "data"))
        port_file = directory / "ports.json"
        command = [
            sys.executable, "-m", "agt_server", "--config", str(config), "--port-file", str(port_file),
            "--log-level", "warning",
        ]  # fmt: skip
        process = subprocess.Popen(command)
        try:
            deadline = time.monotonic() + 60
            while not port_file.exists():
                if process.poll() is not None:
                    raise SystemExit(f"server exited with {process.returncode} before listening")
                if time.monotonic() > deadline:
                    raise SystemExit("server did not start within 60 s")
                time.sleep(0.05)
            port = json.loads(port_file.read_text())["agent"]
            trio.run(run, port, process.pid, args.agents, args.batch)
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


if __name__ == "__main__":
    main()
