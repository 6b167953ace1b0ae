"""Tests for :func:`agt_server.engine.allocate`: the weighted max-min fair allocation of agents to jobs.

The property tests compare the algorithm with a brute force (``helpers.brute_force``) that tries every
assignment of small instances and ranks them by the allocation's three goals, in order: minimums met
by priority, as many agents placed as possible, and the fairest spread of load per unit of priority.
"""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from agt_server.engine import AgentSlot, JobSlot, allocate

from .helpers import allocation_instances, brute_force, comparable_key, effective_capacity


def loads(result: dict[str, str | None]) -> dict[str, int]:
    """How many agents each job got."""
    counts: dict[str, int] = {}
    for job in result.values():
        if job is not None:
            counts[job] = counts.get(job, 0) + 1
    return counts


def flexible(count: int, jobs: tuple[str, ...], prefix: str = "f") -> list[AgentSlot]:
    """``count`` idle movable agents that can work any of ``jobs``."""
    return [AgentSlot(f"{prefix}{index:02d}", jobs) for index in range(count)]


class TestAllocateAgainstBruteForce:
    @settings(max_examples=400, deadline=None)
    @given(allocation_instances())
    def test_optimal(self, instance: tuple[list[JobSlot], list[AgentSlot]]) -> None:
        """The allocation is as good as the best assignment found by trying them all."""
        jobs, agents = instance
        result = allocate(jobs, agents)
        best = brute_force(jobs, agents)
        assert comparable_key(jobs, agents, result) == comparable_key(jobs, agents, best)

    @settings(max_examples=300, deadline=None)
    @given(allocation_instances())
    def test_feasible(self, instance: tuple[list[JobSlot], list[AgentSlot]]) -> None:
        """Every agent gets an answer; movable agents get a candidate or nothing, the others stay put,
        and no job passes its capacity (raised to the agents that may not leave it)."""
        jobs, agents = instance
        result = allocate(jobs, agents)
        assert sorted(result) == sorted(agent.name for agent in agents)
        for agent in agents:
            if agent.movable:
                assert result[agent.name] is None or result[agent.name] in agent.candidates
            else:
                assert result[agent.name] == agent.current
        counts = loads(result)
        for job in jobs:
            capacity = effective_capacity(job, agents)
            assert capacity is None or counts.get(job.name, 0) <= capacity

    @settings(max_examples=200, deadline=None)
    @given(allocation_instances(), st.randoms(use_true_random=False))
    def test_deterministic(self, instance: tuple[list[JobSlot], list[AgentSlot]], rng: random.Random) -> None:
        """The same inputs give the same result, whatever the order of the agents and jobs."""
        jobs, agents = instance
        result = allocate(jobs, agents)
        assert allocate(jobs, agents) == result
        shuffled_agents, shuffled_jobs = list(agents), list(jobs)
        rng.shuffle(shuffled_agents)
        rng.shuffle(shuffled_jobs)
        assert allocate(shuffled_jobs, shuffled_agents) == result

    @settings(max_examples=200, deadline=None)
    @given(allocation_instances())
    def test_work_conserving(self, instance: tuple[list[JobSlot], list[AgentSlot]]) -> None:
        """No movable agent is left idle while one of its candidates is below its capacity."""
        jobs, agents = instance
        result = allocate(jobs, agents)
        counts = loads(result)
        by_name = {job.name: job for job in jobs}
        for agent in agents:
            if agent.movable and result[agent.name] is None:
                for name in agent.candidates:
                    capacity = by_name[name].capacity
                    assert capacity is not None and counts.get(name, 0) >= capacity, (agent, name, result)

    @settings(max_examples=200, deadline=None)
    @given(allocation_instances())
    def test_stable(self, instance: tuple[list[JobSlot], list[AgentSlot]]) -> None:
        """Running again with the result as every agent's current job moves nobody."""
        jobs, agents = instance
        result = allocate(jobs, agents)
        again = [
            AgentSlot(agent.name, agent.candidates, result[agent.name], agent.movable) for agent in agents
        ]
        assert allocate(jobs, again) == result


class TestAllocateExamples:
    def test_minimums_by_priority(self) -> None:
        """Minimums are met highest priority first when there are too few agents for all of them."""
        jobs = [JobSlot("LOW", 1, minimum=2), JobSlot("HIGH", 4, minimum=2), JobSlot("MID", 2, minimum=2)]
        result = allocate(jobs, flexible(3, ("LOW", "HIGH", "MID")))
        assert loads(result) == {"HIGH": 2, "MID": 1}

    def test_minimum_before_shares(self) -> None:
        """A low-priority job's minimum is met before the high-priority job takes its larger share."""
        jobs = [JobSlot("LOW", 1, minimum=3), JobSlot("HIGH", 9)]
        result = allocate(jobs, flexible(4, ("LOW", "HIGH")))
        assert loads(result) == {"LOW": 3, "HIGH": 1}

    def test_shares_proportional_to_priority(self) -> None:
        """Jobs of priorities 1 and 3 share 8 flexible agents 2 and 6."""
        jobs = [JobSlot("A", 1), JobSlot("B", 3)]
        result = allocate(jobs, flexible(8, ("A", "B")))
        assert loads(result) == {"A": 2, "B": 6}

    def test_equal_priorities_share_equally(self) -> None:
        """Three jobs of equal priority share nine agents three each."""
        jobs = [JobSlot("A", 5), JobSlot("B", 5), JobSlot("C", 5)]
        result = allocate(jobs, flexible(9, ("A", "B", "C")))
        assert loads(result) == {"A": 3, "B": 3, "C": 3}

    def test_capacity_caps_share(self) -> None:
        """A job at capacity takes no more; the others get the rest."""
        jobs = [JobSlot("A", 9, capacity=1), JobSlot("B", 1)]
        result = allocate(jobs, flexible(5, ("A", "B")))
        assert loads(result) == {"A": 1, "B": 4}

    def test_dedicated_agents_count_for_their_job(self) -> None:
        """Agents that can only work A count for A; the flexible agents fill B, leaving the shares even."""
        jobs = [JobSlot("A", 1), JobSlot("B", 1)]
        agents = [AgentSlot(f"only{index}", ("A",)) for index in range(3)] + flexible(3, ("A", "B"))
        result = allocate(jobs, agents)
        assert loads(result) == {"A": 3, "B": 3}
        assert all(result[f"only{index}"] == "A" for index in range(3))
        assert all(result[f"f{index:02d}"] == "B" for index in range(3))

    def test_work_conserving_beyond_fair_share(self) -> None:
        """Agents that can only work a job go there even when it already has more than its share."""
        jobs = [JobSlot("A", 1), JobSlot("B", 10)]
        agents = [AgentSlot(f"only{index}", ("A",)) for index in range(4)]
        assert loads(allocate(jobs, agents)) == {"A": 4}

    def test_idle_when_candidates_full(self) -> None:
        """An agent whose only candidate is at capacity stays idle."""
        jobs = [JobSlot("A", 5, capacity=1)]
        agents = [AgentSlot("x1", ("A",), current="A"), AgentSlot("x2", ("A",))]
        assert allocate(jobs, agents) == {"x1": "A", "x2": None}

    def test_no_candidates_idle(self) -> None:
        """An agent with no candidates (or only jobs that are not running) is idle."""
        jobs = [JobSlot("A", 5)]
        agents = [AgentSlot("x1", ()), AgentSlot("x2", ("GONE",), current="GONE")]
        assert allocate(jobs, agents) == {"x1": None, "x2": None}

    def test_stays_when_fair(self) -> None:
        """Agents already spread fairly stay where they are."""
        jobs = [JobSlot("A", 5), JobSlot("B", 5)]
        agents = [
            AgentSlot("x1", ("A", "B"), current="B"),
            AgentSlot("x2", ("A", "B"), current="A"),
            AgentSlot("x3", ("A", "B"), current="B"),
            AgentSlot("x4", ("A", "B"), current="A"),
        ]
        assert allocate(jobs, agents) == {"x1": "B", "x2": "A", "x3": "B", "x4": "A"}

    def test_moves_fewest_to_restore_fairness(self) -> None:
        """With four agents on A and none on B, exactly two move to B."""
        jobs = [JobSlot("A", 5), JobSlot("B", 5)]
        agents = [AgentSlot(f"x{index}", ("A", "B"), current="A") for index in range(4)]
        result = allocate(jobs, agents)
        assert loads(result) == {"A": 2, "B": 2}

    def test_leaves_job_no_longer_candidate(self) -> None:
        """A movable agent on a job outside its candidates is moved to one of them."""
        jobs = [JobSlot("A", 5), JobSlot("B", 5)]
        result = allocate(jobs, [AgentSlot("x1", ("B",), current="A")])
        assert result == {"x1": "B"}

    def test_unmovable_agents_stay_and_count(self) -> None:
        """Agents that may not move stay on their job, even over its capacity, and count towards its load."""
        jobs = [JobSlot("A", 1, capacity=1), JobSlot("B", 1)]
        agents = [
            AgentSlot("busy1", ("B",), current="A", movable=False),
            AgentSlot("busy2", (), current="A", movable=False),
            *flexible(2, ("A", "B")),
        ]
        result = allocate(jobs, agents)
        assert result == {"busy1": "A", "busy2": "A", "f00": "B", "f01": "B"}

    def test_unmovable_load_shifts_shares(self) -> None:
        """Two agents held on A make the flexible agents go to B until B catches up."""
        jobs = [JobSlot("A", 1), JobSlot("B", 1)]
        agents = [AgentSlot(f"held{index}", ("A", "B"), current="A", movable=False) for index in range(2)]
        agents += flexible(4, ("A", "B"))
        assert loads(allocate(jobs, agents)) == {"A": 3, "B": 3}

    def test_chain_moves_flexible_agent(self) -> None:
        """An agent that can only work A gets A's only slot: the flexible agent on it moves to B."""
        jobs = [JobSlot("A", 5, capacity=1), JobSlot("B", 5)]
        agents = [AgentSlot("flex", ("A", "B"), current="A"), AgentSlot("newcomer", ("A",))]
        assert allocate(jobs, agents) == {"flex": "B", "newcomer": "A"}

    def test_longer_chain(self) -> None:
        """Placing an agent may shift a chain of two others (A → B → C)."""
        jobs = [JobSlot("A", 5, capacity=1), JobSlot("B", 5, capacity=1), JobSlot("C", 5, capacity=1)]
        agents = [
            AgentSlot("ab", ("A", "B"), current="A"),
            AgentSlot("bc", ("B", "C"), current="B"),
            AgentSlot("only_a", ("A",)),
        ]
        assert allocate(jobs, agents) == {"ab": "B", "bc": "C", "only_a": "A"}

    def test_zero_capacity_takes_nobody(self) -> None:
        """A job of capacity 0 takes no agent, even with a minimum of 0 and idle agents."""
        jobs = [JobSlot("A", 5, capacity=0)]
        assert allocate(jobs, flexible(2, ("A",))) == {"f00": None, "f01": None}

    def test_duplicate_candidates_harmless(self) -> None:
        """A candidate listed twice counts once."""
        jobs = [JobSlot("A", 5, capacity=1), JobSlot("B", 5, capacity=1)]
        agents = [AgentSlot("x1", ("A", "A")), AgentSlot("x2", ("A", "B"))]
        assert loads(allocate(jobs, agents)) == {"A": 1, "B": 1}
