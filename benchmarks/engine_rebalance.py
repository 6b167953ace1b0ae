"""Benchmark 5: a full rebalance of 10,000 agents x 200 jobs x 20 preferences.

Target (product.md §5): well under 100 ms.  Printed next to a baseline from the same run: a naive
greedy pass over the same input (each agent to its least-loaded candidate, no fairness, no chains),
the cheapest thing any rebalance must at least do.

Run:  .venv/bin/python benchmarks/engine_rebalance.py [--agents 10000] [--jobs 200] [--preferences 20]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable

import attrs

from agt_server.config import AgentConfig, AssignmentConfig, JobConfig, demo_config
from agt_server.engine import AgentSlot, Connected, Engine, JobSlot, Received, allocate
from agt_server.protocol import JobType, Message, MessageType


def _timed(function: Callable[[], object], repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return times


def _greedy(jobs: list[JobSlot], agents: list[AgentSlot]) -> dict[str, str | None]:
    load = {job.name: 0 for job in jobs}
    weight = {job.name: job.priority for job in jobs}
    result: dict[str, str | None] = {}
    for agent in agents:
        best = min(agent.candidates, key=lambda name: load[name] / weight[name], default=None)
        if best is not None:
            load[best] += 1
        result[agent.name] = best
    return result


def _engine(agents: int, jobs: int, preferences: int, rng: random.Random) -> Engine:
    """An engine with every agent logged on, holding a random preferred list, and placed."""
    demo = demo_config()
    job_configs = tuple(
        JobConfig(f"JOB{index:03}", JobType.OUTBOUND, priority=rng.randint(1, 10), outbound_list="cmp1_list")
        for index in range(jobs)
    )
    password_hash = demo.agents[0].password_hash
    agent_configs = tuple(AgentConfig(f"agent{index:05}", password_hash) for index in range(agents))
    config = attrs.evolve(
        demo, jobs=job_configs, agents=agent_configs, assignment=AssignmentConfig(dwell_time=0, rebalance_interval=0)
    )
    engine = Engine.from_config(config)
    names = [job.name for job in job_configs]
    for index, agent in enumerate(agent_configs):
        conn = index + 1
        engine.handle(Connected(conn, "bench"), 0.0)
        logon = Message("AGTLogon", MessageType.COMMAND, (agent.name, "x"), client="bench", invoke_id="1")
        engine.handle(Received(conn, logon, credentials_ok=True), 0.0)
        chosen = tuple(rng.sample(names, preferences))
        command = Message("AGTSetPreferredJobList", MessageType.COMMAND, chosen, client="bench", invoke_id="2")
        engine.handle(Received(conn, command, credentials_ok=None), 0.0)
    engine.tick(1.0)
    return engine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, default=10_000)
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--preferences", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(20261126)

    job_slots = [JobSlot(f"JOB{index:03}", rng.randint(1, 10)) for index in range(args.jobs)]
    names = [job.name for job in job_slots]
    agent_slots = [
        AgentSlot(f"agent{index:05}", tuple(rng.sample(names, args.preferences)), rng.choice([*names, None]))
        for index in range(args.agents)
    ]
    baseline = _timed(lambda: _greedy(job_slots, agent_slots), args.repeats)
    scratch = _timed(lambda: allocate(job_slots, agent_slots), args.repeats)

    print(f"building an engine with {args.agents} logged-on agents (not timed) ...", flush=True)
    engine = _engine(args.agents, args.jobs, args.preferences, rng)
    now = [2.0]

    def full_rebalance() -> None:
        now[0] += 1.0
        engine.balancer.rebalance(now[0], [])

    settled = _timed(full_rebalance, args.repeats)

    def baseline_ms(values: list[float]) -> str:
        return f"{statistics.median(values):8.1f} ms"

    size = f"{args.agents} agents x {args.jobs} jobs x {args.preferences} preferences"
    print(f"\nEngine rebalance, {size}, median of {args.repeats}:")
    print(f"  baseline: naive greedy pass (no fairness) {baseline_ms(baseline)}")
    print(f"  allocate() from scratch                   {baseline_ms(scratch)}"
          f"   ({statistics.median(scratch) / statistics.median(baseline):.1f}x baseline)")
    print(f"  engine full rebalance (settled state)     {baseline_ms(settled)}"
          f"   ({statistics.median(settled) / statistics.median(baseline):.1f}x baseline)")
    verdict = "met" if statistics.median(settled) < 100 else "MISSED"
    print(f"  target: well under 100 ms -> {verdict}")


if __name__ == "__main__":
    main()
