"""Life for the embedded demo: simulated agents and a campaign director, so `make run` shows the
preferred-campaign feature at work without any client.  Agents agent1-agent10 are left for people."""

from ._activity import DEMO_AGENTS, run_demo_activity

__all__ = ["DEMO_AGENTS", "run_demo_activity"]
