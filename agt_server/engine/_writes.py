"""What the engine asks to be made durable (the ``StoreWrite`` effects), and what it gets back at start.

The engine never writes anything itself.  It returns these values among its effects; the shell hands
them to the store (``agt_server.store``), which commits them in one transaction, and only then sends
the replies that came with them — so a reply that acknowledges something (``AGTFinishedItem``'s
``R 0 M00000``) is never sent before what it acknowledges is on disk.  At start the store gives the
engine a :class:`StoredState` to resume from.

Times are wall-clock seconds since the epoch (UTC).
"""

from __future__ import annotations

import attrs

__all__ = [
    "STORE_WRITE_TYPES",
    "AuditEntry",
    "CallbackDone",
    "CallbackScheduled",
    "JobStateChanged",
    "RecordAttempt",
    "RecordStarted",
    "StoreWrite",
    "StoredCallback",
    "StoredState",
]


@attrs.frozen
class RecordStarted:
    """A record left the queue: it is being dialed or worked (back in the queue after a crash)."""

    job: str
    record_id: str
    at: float


@attrs.frozen
class RecordAttempt:
    """An attempt on a record ended with a completion code.

    Attributes:
        attempt: 1 for the first attempt on the record, 2 for the next …
        code: the completion code (the agent's, or the dialer's: busy 11, no answer 15 …).
        agent: the agent who finished it, if an agent did.
        final: the record is done and must never be dialed again (else it goes back to the queue).
    """

    job: str
    record_id: str
    attempt: int
    code: int
    agent: str | None
    at: float
    final: bool


@attrs.frozen
class CallbackScheduled:
    """A callback (recall) was scheduled on a record.

    Attributes:
        callback_id: unique id.
        due_at: when it is due.
        owner: the agent it belongs to (agent-owned recall), or ``None`` for any agent of the job.
        phone: the number to call.
        name: the recall name given (may be empty).
    """

    callback_id: str
    job: str
    record_id: str
    due_at: float
    owner: str | None
    phone: str
    name: str
    at: float


@attrs.frozen
class CallbackDone:
    """A callback was delivered (or cancelled) and is no longer pending."""

    callback_id: str
    at: float


@attrs.frozen
class JobStateChanged:
    """A job changed state (``running``, ``paused``, ``stopped``, ``completed``, ``inactive``)."""

    job: str
    state: str
    actor: str
    at: float


@attrs.frozen
class AuditEntry:
    """An append-only audit record of a preferred-list change or a supervisor action.

    Attributes:
        actor: who did it (an agent's name, a supervisor's token name, ``system``).
        action: what was done (``preferred_list``, ``move_agent``, ``job_pause`` …).
        subject: whom or what it was done to (an agent or a job).
        before: the value before (e.g. ``CMP1,CMP2``), empty when not applicable.
        after: the value after.
    """

    at: float
    actor: str
    action: str
    subject: str
    before: str
    after: str


StoreWrite = RecordStarted | RecordAttempt | CallbackScheduled | CallbackDone | JobStateChanged | AuditEntry
#: The store-write classes, for ``isinstance`` checks.
STORE_WRITE_TYPES = (RecordStarted, RecordAttempt, CallbackScheduled, CallbackDone, JobStateChanged, AuditEntry)


@attrs.frozen
class StoredCallback:
    """A pending callback as it was stored."""

    callback_id: str
    job: str
    record_id: str
    due_at: float
    owner: str | None
    phone: str
    name: str


@attrs.frozen
class StoredState:
    """What the engine resumes from after a restart.

    Attributes:
        done: per job, the records that are finished for good (never dialed again).
        attempts: per job, per record, how many attempts have ended so far.
        callbacks: the callbacks still pending.
        job_states: the last state of each job that ever changed state.
    """

    done: dict[str, frozenset[str]] = attrs.Factory(dict)
    attempts: dict[str, dict[str, int]] = attrs.Factory(dict)
    callbacks: tuple[StoredCallback, ...] = ()
    job_states: dict[str, str] = attrs.Factory(dict)
