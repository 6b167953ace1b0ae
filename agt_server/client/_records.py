"""Parsed data records of the list commands, and the parsers that build them from a :class:`Reply`.

Record layouts (agt-protocol.md §3, §6):

* AGTListJobs, AGTGetPreferredJobList: ``<Type>,<Name>,<Status>`` per record (``O,SALES1,A``);
* AGTListState: one record ``S7000x`` or ``S7000x,<Job>``;
* AGTListCallFields, AGTListDataFields: ``<Name>,<Length>,<Type>,F`` per record;
* AGTListKeys: ``<CompCode>,<Description>,<ScriptLabel>`` per record (the code may be empty);
* AGTReadField: one record ``<Name>,<Type>,<Length>,<Value>`` (note: Type before Length);
* AGTListCallbackFmt: two records, ``<DateFormat>`` and ``<Phones>``.

A record that does not fit raises :class:`AgtUnexpectedReply`; a silently wrong value would be worse.
"""

from __future__ import annotations

import attrs

from agt_server.protocol import AgentStateCode, JobStatus

from ._errors import AgtUnexpectedReply
from ._events import Reply

__all__ = [
    "AgentStateReport",
    "CallbackFormat",
    "FieldListing",
    "JobListing",
    "KeyListing",
    "parse_callback_format",
    "parse_field_listings",
    "parse_field_value",
    "parse_job_listings",
    "parse_key_listings",
    "parse_state_report",
]


@attrs.frozen
class JobListing:
    """One job of AGTListJobs (or of the preferred-job list).

    Attributes:
        type: the job type letter: ``O`` outbound, ``I`` inbound, ``B`` blend, ``M`` managed.
        name: the job name.
        status: ``A`` active or ``I`` inactive.
    """

    type: str
    name: str
    status: str

    @property
    def active(self) -> bool:
        """Whether the job is running (status ``A``), i.e. can be attached."""
        return self.status == JobStatus.ACTIVE


@attrs.frozen
class AgentStateReport:
    """The agent's state as AGTListState reports it.

    Attributes:
        code: the state code, ``S70000`` (on a call) to ``S70004`` (logged on, no job).
        job: the job the agent is attached to, or ``None`` (always ``None`` for ``S70004``).
    """

    code: str
    job: str | None

    @property
    def state(self) -> AgentStateCode | None:
        """The state as an :class:`~agt_server.protocol.AgentStateCode`, or ``None`` for an unknown code."""
        return _STATES.get(self.code)


@attrs.frozen
class FieldListing:
    """One calling-list field of AGTListCallFields or AGTListDataFields.

    Attributes:
        name: the field name.
        length: the field length in characters.
        type: ``C`` character, ``N`` numeric, ``$`` currency, ``D`` date or ``T`` time.
    """

    name: str
    length: int
    type: str


@attrs.frozen
class KeyListing:
    """One completion code of AGTListKeys.

    Attributes:
        code: the completion code as sent (may be empty for informational entries).
        description: what the code means.
        label: the script label.
    """

    code: str
    description: str
    label: str


@attrs.frozen
class CallbackFormat:
    """What AGTListCallbackFmt reports for AGTSetCallback.

    Attributes:
        date_format: the recall date format, e.g. ``CCYY/MM/DD``.
        phones: how many phone numbers a record has (valid phone indexes are 1 to this).
    """

    date_format: str
    phones: int


_STATES = {state.value: state for state in AgentStateCode}


def parse_job_listings(reply: Reply) -> list[JobListing]:
    """Jobs from ``<Type>,<Name>,<Status>`` records."""
    jobs = []
    for record in reply.records:
        parts = record.split(",")
        if len(parts) != 3:
            raise AgtUnexpectedReply(reply, f"job record {record!r} is not <Type>,<Name>,<Status>")
        jobs.append(JobListing(*parts))
    return jobs


def parse_state_report(reply: Reply) -> AgentStateReport:
    """The state from the single ``S7000x[,<Job>]`` record."""
    if len(reply.records) != 1:
        raise AgtUnexpectedReply(reply, "expected exactly one state record")
    code, _, job = reply.records[0].partition(",")
    return AgentStateReport(code=code, job=job or None)


def parse_field_listings(reply: Reply) -> list[FieldListing]:
    """Fields from ``<Name>,<Length>,<Type>,F`` records."""
    fields = []
    for record in reply.records:
        parts = record.split(",")
        if len(parts) < 3 or not parts[1].isdigit():
            raise AgtUnexpectedReply(reply, f"field record {record!r} is not <Name>,<Length>,<Type>,F")
        fields.append(FieldListing(name=parts[0], length=int(parts[1]), type=parts[2]))
    return fields


def parse_key_listings(reply: Reply) -> list[KeyListing]:
    """Completion codes from ``<CompCode>,<Description>,<ScriptLabel>`` records.

    The description is everything between the first and the last comma, so it may contain commas.
    """
    keys = []
    for record in reply.records:
        code, first_comma, rest = record.partition(",")
        description, last_comma, label = rest.rpartition(",")
        if not (first_comma and last_comma):
            raise AgtUnexpectedReply(reply, f"key record {record!r} is not <CompCode>,<Description>,<ScriptLabel>")
        keys.append(KeyListing(code=code, description=description, label=label))
    return keys


def parse_field_value(reply: Reply) -> str:
    """The value from the single ``<Name>,<Type>,<Length>,<Value>`` record (the value may hold commas)."""
    if len(reply.records) != 1:
        raise AgtUnexpectedReply(reply, "expected exactly one field record")
    parts = reply.records[0].split(",", 3)
    if len(parts) != 4:
        raise AgtUnexpectedReply(reply, "field record is not <Name>,<Type>,<Length>,<Value>")
    return parts[3]


def parse_callback_format(reply: Reply) -> CallbackFormat:
    """The date format and phone count from the ``<DateFormat>``, ``<Phones>`` records."""
    if len(reply.records) != 2 or not reply.records[1].isdigit():
        raise AgtUnexpectedReply(reply, "expected the records <DateFormat>, <Phones>")
    return CallbackFormat(date_format=reply.records[0], phones=int(reply.records[1]))
