"""The engine: pure, deterministic state of every agent session and job.

Time is passed in, effects are returned, nothing awaits.  Everything in ``__all__`` is its public API.
"""

from ._allocation import AgentSlot, JobSlot, allocate
from ._assignment import MoveReason
from ._calls import Call, CallKind, Temporary
from ._engine import Engine
from ._errors import CommandRejected
from ._events import AgentEvent, Close, Connected, Disconnected, Effect, Expel, Input, JobEvent, Received, Send
from ._jobs import Job, JobState, is_applicable, work_class_error
from ._session import AgentState, AssignmentMode, HeadsetState, ListType, Session
from ._supervision import (
    MAX_MESSAGE_LENGTH,
    MAX_PREFERRED_JOBS,
    CallbackDue,
    ControlJob,
    InboundCall,
    JobAction,
    LinkJob,
    MoveAgent,
    OperationRefused,
    ScheduleCallback,
    SendToAgent,
    SetPreferredJobs,
    SupervisorInput,
)
from ._writes import (
    STORE_WRITE_TYPES,
    AuditEntry,
    CallbackDone,
    CallbackScheduled,
    JobStateChanged,
    RecordAttempt,
    RecordStarted,
    StoredCallback,
    StoredState,
    StoreWrite,
)

__all__ = [
    "MAX_MESSAGE_LENGTH",
    "MAX_PREFERRED_JOBS",
    "STORE_WRITE_TYPES",
    "AgentEvent",
    "AgentSlot",
    "AgentState",
    "AssignmentMode",
    "AuditEntry",
    "Call",
    "CallKind",
    "CallbackDone",
    "CallbackDue",
    "CallbackScheduled",
    "Close",
    "CommandRejected",
    "Connected",
    "ControlJob",
    "Disconnected",
    "Effect",
    "Engine",
    "Expel",
    "HeadsetState",
    "InboundCall",
    "Input",
    "Job",
    "JobAction",
    "JobEvent",
    "JobSlot",
    "JobState",
    "JobStateChanged",
    "LinkJob",
    "ListType",
    "MoveAgent",
    "MoveReason",
    "OperationRefused",
    "Received",
    "RecordAttempt",
    "RecordStarted",
    "ScheduleCallback",
    "Send",
    "SendToAgent",
    "Session",
    "SetPreferredJobs",
    "StoreWrite",
    "StoredCallback",
    "StoredState",
    "SupervisorInput",
    "Temporary",
    "allocate",
    "is_applicable",
    "work_class_error",
]
