"""The AGT protocol's tables: message types, codes, agent states, completion codes, jobs and work classes.

Every member carries a one-line meaning (``.meaning``) so logs, the tty rendering and the docs can say
what a code stands for.  Meanings are paraphrased from the Proactive Contact 5.2 Agent API guide
(see ``protocol_spec.md`` and the reference it is written from).
"""

from __future__ import annotations

import enum

__all__ = [
    "AgentStateCode",
    "CompletionCode",
    "ErrorCode",
    "JobStatus",
    "JobType",
    "MessageCode",
    "MessageType",
    "WorkClass",
    "describe_completion_code",
]


class _CodedEnum(enum.StrEnum):
    """A string enum whose members are ``(wire value, meaning)`` pairs.

    The wire value is the member's value (and, being a ``str``, the member compares equal to it); the
    meaning is a one-line human description.
    """

    meaning: str

    # ``meaning`` has a default only so that type checkers accept the value lookup ``ErrorCode("E28804")``;
    # every member definition gives one.
    def __new__(cls, value: str, meaning: str = "") -> _CodedEnum:
        member = str.__new__(cls, value)
        member._value_ = value
        member.meaning = meaning
        return member


class MessageType(_CodedEnum):
    """The one-byte message type at header offset 20."""

    COMMAND = ("C", "command, client to server")
    PENDING = ("P", "command accepted, final response follows (S28833)")
    DATA = ("D", "data for a command, before its final response")
    RESPONSE = ("R", "final response: 0 M00000 on success, 1 Exxxxx on failure")
    BUSY = ("B", "server cannot process the command (never sent by this server)")
    NOTIFICATION = ("N", "unsolicited event from the server, invoke id 0")


class MessageCode(_CodedEnum):
    """Message and status codes that are not errors."""

    COMPLETE = ("M00000", "successful completion, or end of a multi-message event")
    DATA_FOLLOWS = ("M00001", "data follows; more messages may follow")
    PENDING = ("S28833", "request pending")
    TRANSFER_IN_PROGRESS = ("S28814", "transfer in progress")
    STANDBY_OUTBOUND = ("S28971", "agent about to be acquired for outbound (blending)")
    STANDBY_INBOUND = ("S28972", "agent about to be released to inbound (blending)")
    RECALL_ABORTED = ("S28974", "an agent-owned recall was aborted")
    MANUAL_MODE_JOB = ("S28996", "agent joined a manual-mode job")
    PREVIEW_EMPTY_RECORD_JOB = ("S28997", "agent joined a job with preview of empty records")
    SEARCH_RESULT = ("S12153", "preview search result counter")


class AgentStateCode(_CodedEnum):
    """Agent states reported by AGTListState (``S7000x`` or ``S7000x,<job>``)."""

    ON_CALL = ("S70000", "working a customer record or on a call")
    READY = ("S70001", "ready, waiting for the next record")
    AVAILABLE = ("S70002", "joined the job (AvailWork done), not ready for the next record")
    ATTACHED = ("S70003", "attached to a job, not yet available for work")
    IDLE = ("S70004", "logged on, no job attached")


class JobType(_CodedEnum):
    """Job types, the first field of an AGTListJobs record."""

    OUTBOUND = ("O", "outbound (also unit-work-list and sales-verification jobs)")
    INBOUND = ("I", "inbound")
    BLEND = ("B", "blend: inbound and outbound")
    MANAGED = ("M", "managed (preview) dialing")


class JobStatus(_CodedEnum):
    """Job status, the third field of an AGTListJobs record."""

    ACTIVE = ("A", "active: running, agents may attach")
    INACTIVE = ("I", "inactive: not running")


class WorkClass(_CodedEnum):
    """Agent work classes (AGTSetWorkClass)."""

    OUTBOUND = ("O", "outbound agent: outbound, blend, unit-work-list and sales-verification jobs")
    INBOUND = ("I", "inbound agent: inbound and blend jobs")
    BLEND = ("B", "blend agent: blend jobs")
    PERSON_TO_PERSON = ("P", "person-to-person agent: outbound, inbound and blend jobs")
    MANAGED = ("M", "managed agent: managed (preview) jobs")


class ErrorCode(_CodedEnum):
    """Every error code of the Proactive Contact 5.2 Agent API that this server knows.

    Error replies carry the code as the second segment (``R 1 E28804``), sometimes with detail
    comma-appended (``E28865,AGTFoo``) or in further segments; clients read the first six characters.
    """

    E00518 = ("E00518", "calling list or keys file does not exist or cannot be opened")
    E12152 = ("E12152", "no previous record (preview search)")
    E12153 = ("E12153", "no more records (preview search)")
    E12156 = ("E12156", "no record matches the search key")
    E28628 = ("E28628", "transfer failed, try again later")
    E28644 = ("E28644", "calling list is not in the selected tenant")
    E28800 = ("E28800", "recall time too soon")
    E28804 = ("E28804", "job not running")
    E28805 = ("E28805", "job active but not dialing yet")
    E28812 = ("E28812", "agent already logged on elsewhere")
    E28813 = ("E28813", "no more agents of this type can join the job")
    E28814 = ("E28814", "managed agents cannot join this job")
    E28815 = ("E28815", "unit-work-list agents cannot join a sales-verification job")
    E28816 = ("E28816", "inbound agents only")
    E28817 = ("E28817", "outbound agents only")
    E28818 = ("E28818", "outbound or managed agents only")
    E28819 = ("E28819", "only outbound agents may join a sales-verification job")
    E28831 = ("E28831", "recall date is not numeric")
    E28832 = ("E28832", "recall date does not match the date format")
    E28833 = ("E28833", "invalid recall month")
    E28834 = ("E28834", "invalid recall year")
    E28835 = ("E28835", "invalid recall day")
    E28836 = ("E28836", "invalid character in the date format")
    E28837 = ("E28837", "invalid recall hour")
    E28838 = ("E28838", "invalid recall minute")
    E28839 = ("E28839", "seconds are not allowed in the recall time")
    E28840 = ("E28840", "invalid recall time format")
    E28841 = ("E28841", "invalid phone index")
    E28842 = ("E28842", "bad phone number, unknown time zone or outside the zone's hours")
    E28843 = ("E28843", "invalid phone number")
    E28847 = ("E28847", "recall date is in the past")
    E28848 = ("E28848", "recall time outside the legal calling hours of the zone")
    E28849 = ("E28849", "unknown time zone")
    E28850 = ("E28850", "cannot open a channel to the operator monitor")
    E28851 = ("E28851", "no response from the operator monitor")
    E28858 = ("E28858", "agent slots exceeded")
    E28859 = ("E28859", "invalid agent number")
    E28862 = ("E28862", "fatal select error, agent process terminating")
    E28863 = ("E28863", "unknown file descriptor: possibly a malformed command")
    E28864 = ("E28864", "unknown IPC message")
    E28865 = ("E28865", "unknown command")
    E28866 = ("E28866", "telephone line not available")
    E28867 = ("E28867", "line not off-hook")
    E28868 = ("E28868", "recalls not allowed on inbound jobs, or no agent on the transfer job")
    E28869 = ("E28869", "headset volume must be 1 to 8")
    E28870 = ("E28870", "reserve headset already pending")
    E28871 = ("E28871", "invalid headset id or unexpected reply")
    E28872 = ("E28872", "headset already connected, or already logged on to the ACD")
    E28873 = ("E28873", "headset not reserved")
    E28874 = ("E28874", "connect headset already pending")
    E28875 = ("E28875", "no connect-headset request pending")
    E28876 = ("E28876", "headset not connected")
    E28877 = ("E28877", "disconnect headset already pending")
    E28879 = ("E28879", "headset not disconnected")
    E28880 = ("E28880", "headset connection broken")
    E28881 = ("E28881", "headset reconnected")
    E28882 = ("E28882", "already available for work: cannot change the work class")
    E28883 = ("E28883", "invalid work class")
    E28884 = ("E28884", "cannot attach shared memory")
    E28885 = ("E28885", "not attached to a job")
    E28886 = ("E28886", "not a unit-work-list job")
    E28887 = ("E28887", "already available for work: cannot change the unit")
    E28888 = ("E28888", "unit not found")
    E28889 = ("E28889", "already attached to a job: detach first")
    E28890 = ("E28890", "cannot open the job's resource file")
    E28891 = ("E28891", "list type must be I or O")
    E28892 = ("E28892", "no inbound calling-list fields")
    E28893 = ("E28893", "no outbound calling-list fields")
    E28894 = ("E28894", "field name not found")
    E28895 = ("E28895", "already available for work")
    E28896 = ("E28896", "headset must be active")
    E28897 = ("E28897", "AvailWork already pending")
    E28898 = ("E28898", "job no longer available")
    E28899 = ("E28899", "no AvailWork request pending")
    E28900 = ("E28900", "internal error")
    E28901 = ("E28901", "not available for work")
    E28902 = ("E28902", "already has an open record")
    E28903 = ("E28903", "already ready for the next record")
    E28904 = ("E28904", "NoFurtherWork pending")
    E28905 = ("E28905", "job transfer active")
    E28906 = ("E28906", "not ready for the next record")
    E28907 = ("E28907", "not a managed-dialing job")
    E28908 = ("E28908", "not previewing a record")
    E28909 = ("E28909", "managed call already complete")
    E28910 = ("E28910", "managed call cancelled or complete")
    E28911 = ("E28911", "managed call cancelled")
    E28912 = ("E28912", "no customer record available")
    E28913 = ("E28913", "no job to detach")
    E28914 = ("E28914", "still available for work: send NoFurtherWork first")
    E28915 = ("E28915", "NoFurtherWork still executing")
    E28916 = ("E28916", "job attached: detach before logging off")
    E28917 = ("E28917", "no job attached")
    E28918 = ("E28918", "not available for work on the job")
    E28919 = ("E28919", "no active record to finish")
    E28920 = ("E28920", "headset not in the reserved list")
    E28921 = ("E28921", "fatal error, agent session terminating")
    E28922 = ("E28922", "no reserve-headset request pending")
    E28923 = ("E28923", "headset already reserved")
    E28924 = ("E28924", "must log on first")
    E28925 = ("E28925", "already logged on in this session")
    E28926 = ("E28926", "invalid logon: unknown agent or wrong password")
    E28942 = ("E28942", "transfer job not available")
    E28946 = ("E28946", "blend agent not yet acquired")
    E28947 = ("E28947", "invalid completion code")
    E28950 = ("E28950", "not an ACD extension")
    E28951 = ("E28951", "ACD extension in use")
    E28952 = ("E28952", "ACD agent limit reached")
    E28953 = ("E28953", "cannot read the ACD extension file")
    E28954 = ("E28954", "duplicate ACD login")
    E28955 = ("E28955", "ACD dispatcher not running")
    E28956 = ("E28956", "unknown ACD error")
    E28964 = ("E28964", "agent phone busy")
    E28965 = ("E28965", "softdialer link down")
    E28967 = ("E28967", "agent may not log off: agent-owned recall pending")
    E28985 = ("E28985", "customer no longer online")
    E29000 = ("E29000", "managed job needs work class M")
    E29203 = ("E29203", "could not attach a slot")
    E29206 = ("E29206", "failed to attach unit shared memory")
    E29950 = ("E29950", "feature not available in softdialer mode")
    E29952 = ("E29952", "failed to join the job (licensing)")
    E29953 = ("E29953", "preview search not enabled")
    E29954 = ("E29954", "no search in progress")
    E29955 = ("E29955", "search value missing")
    E29956 = ("E29956", "search already in progress")
    E29959 = ("E29959", "too many units selected")
    E50100 = ("E50100", "maximum number of agents exceeded")
    E50611 = ("E50611", "headset id in use")
    E50612 = ("E50612", "no more headsets permitted")
    E50613 = ("E50613", "headset id table failure")
    E58006 = ("E58006", "failed to load the tenant-user mapping")
    E58007 = ("E58007", "unknown tenant")
    E58018 = ("E58018", "tenant already set")
    E58021 = ("E58021", "tenant not set")
    E58022 = ("E58022", "tenant invalid, or user not in the tenant")
    E70000 = ("E70000", "incorrect number of arguments")
    E70001 = ("E70001", "incorrect message type")
    E70002 = ("E70002", "timed out waiting for a reply")
    E70003 = ("E70003", "unknown job type")
    E70006 = ("E70006", "unit not selected")
    E70007 = ("E70007", "cannot transfer an inbound call")
    E70008 = ("E70008", "must specify a transfer job")
    E70009 = ("E70009", "cannot send a message to a process")
    E70010 = ("E70010", "conference already in progress")
    E70011 = ("E70011", "agent blending not available")
    E70012 = ("E70012", "password expired")
    E70013 = ("E70013", "password changes not allowed")
    E70014 = ("E70014", "password file locked")
    E70015 = ("E70015", "no privilege to change the password")
    E70016 = ("E70016", "old password wrong")
    E70017 = ("E70017", "new password invalid")


class CompletionCode(enum.IntEnum):
    """The named completion codes (AGTFinishedItem's argument, dispositions of dialer outcomes).

    Codes 20-34, 51-88 and 100-200 are defined per site; :func:`describe_completion_code` covers every
    code from 0 to 200.
    """

    NOTCALLED = 0  #: record not yet called
    CODE1 = 1  #: reserved
    ERROR = 2  #: invalid phone number
    TIMEOUT = 3  #: no dial tone
    HANG_PORT = 4  #: port hung
    NOTINZONE = 5  #: outside the calling zone's hours
    MOFLASH_B = 6  #: blind voice-and-data transfer
    HANG_TRANS = 7  #: hung up during transfer
    TDSS_HF_B = 8  #: blind hookflash transfer
    BUSY = 11  #: line busy
    CONTTONE = 12  #: continuous tone (fax or modem)
    AUTOVOICE = 13  #: answering machine
    VOICE = 14  #: voice answer (interim)
    NOANSWER = 15  #: no answer
    RINGING = 16  #: still ringing
    CUSTHU = 17  #: customer hung up in queue
    TRANSFER = 18  #: transferred
    RECALL = 19  #: recall scheduled
    CANCEL = 35  #: managed call cancelled
    INTERCEPT = 36  #: special information tone
    NOCIRCUIT = 37  #: no circuit
    DISCONN = 38  #: disconnected number
    VACANT = 39  #: vacant number
    REORDER = 40  #: reorder tone
    R_RINGING = 41  #: ringing, rescheduled
    LINEFAIL = 42  #: line failure
    OP_RECALL = 43  #: operator recall
    DTMF_V = 44  #: DTMF voice
    HU_INB = 45  #: hung up, inbound
    HU_OUT = 46  #: hung up, outbound
    HANG_INB = 47  #: hang, inbound
    HANG_OUT = 48  #: hang, outbound
    OPDIED = 49  #: agent session ended abnormally
    R_HSONHOOK = 50  #: headset disconnected
    MANAGEDA = 89  #: managed call, agent cancelled
    MANAGEDB = 90  #: managed call, no connection
    VIRTVOICE = 91  #: virtual agent, voice
    VIRTAUTOV = 92  #: virtual agent, answering machine
    SOLD = 93  #: sale
    VERIFIED = 94  #: sale verified
    UNVERIFIED = 95  #: sale not verified
    AORECALL = 98  #: agent-owned recall


_CUSTOMER_RANGES = ((20, 34), (51, 88), (100, 200))
_RESERVED = frozenset({1, 9, 10, 96, 97, 99})
MAX_COMPLETION_CODE = 200


def describe_completion_code(code: int) -> str:
    """Return a one-line meaning for any completion code from 0 to 200.

    Raises:
        ValueError: when ``code`` is outside 0-200.
    """
    if not 0 <= code <= MAX_COMPLETION_CODE:
        raise ValueError(f"completion code {code} is outside 0-{MAX_COMPLETION_CODE}")
    if code in CompletionCode._value2member_map_:
        return CompletionCode(code).name
    if code in _RESERVED:
        return "reserved"
    if any(low <= code <= high for low, high in _CUSTOMER_RANGES):
        return "customer-defined"
    raise AssertionError(f"completion code {code} is not classified")  # pragma: no cover
