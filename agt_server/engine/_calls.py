"""Calls as the engine sees them: a record delivered to an agent, and temporary work for one."""

from __future__ import annotations

import enum

import attrs

__all__ = ["Call", "CallKind", "Temporary"]


class CallKind(enum.Enum):
    """Where a call comes from."""

    OUTBOUND = "outbound"  #: dialed by the job's dialer
    INBOUND = "inbound"  #: a customer calling in to an inbound or blend job
    CALLBACK = "callback"  #: a scheduled callback (recall), dialed like an outbound call

    @property
    def call_type(self) -> str:
        """The call type AGTCallNotify shows: ``INBOUND`` or ``OUTBOUND``."""
        return "INBOUND" if self is CallKind.INBOUND else "OUTBOUND"


@attrs.frozen
class Call:
    """One customer record offered to an agent.

    Attributes:
        job: the job the call belongs to.
        kind: outbound, inbound or callback.
        record_id: the record's key in its calling list.
        fields: the record's field values, in the calling list's order.
        owner: the agent a callback belongs to (agent-owned recall), if any.
        customer: the customer's name, the first thing the agent sees.
    """

    job: str
    kind: CallKind
    record_id: str
    fields: tuple[tuple[str, str], ...] = ()
    owner: str | None = None
    customer: str = ""

    def value(self, field: str) -> str | None:
        """The record's value for ``field``, or ``None`` when it has no such field."""
        for name, value in self.fields:
            if name == field:
                return value
        return None


@attrs.frozen
class Temporary:
    """An agent on a job only for one call (R7 callbacks, R8 inbound calls).

    Attributes:
        kind: what took the agent.
        job: the job it was taken to.
        previous_job: where it was before (for the supervisor's explanation; it returns to normal
            assignment, not necessarily to this job).
    """

    kind: CallKind
    job: str
    previous_job: str | None
