"""The engine: pure, deterministic state of every agent session and job.

Time is passed in, effects are returned, nothing awaits.  Everything in ``__all__`` is its public API.
"""

from ._engine import Engine
from ._errors import CommandRejected
from ._events import AgentEvent, Close, Connected, Disconnected, Effect, Expel, Input, Received, Send
from ._jobs import Job, JobState, is_applicable, work_class_error
from ._session import AgentState, HeadsetState, ListType, Session

__all__ = [
    "AgentEvent",
    "AgentState",
    "Close",
    "CommandRejected",
    "Connected",
    "Disconnected",
    "Effect",
    "Engine",
    "Expel",
    "HeadsetState",
    "Input",
    "Job",
    "JobState",
    "ListType",
    "Received",
    "Send",
    "Session",
    "is_applicable",
    "work_class_error",
]
