"""The site configuration as frozen attrs values.

A configuration comes from a TOML file (``load_config``) or from the embedded demo
(``demo_config``); either way the rest of the server sees only these values.  They are plain data:
validation happens once, at the boundary, in ``_load.py``.
"""

from __future__ import annotations

import enum
from pathlib import Path

import attrs

from agt_server.protocol import JobType, WorkClass

__all__ = [
    "AgentConfig",
    "AssignmentConfig",
    "CallbackOwner",
    "CallingListConfig",
    "CompletionKey",
    "ContactRecord",
    "DialingConfig",
    "FieldSpec",
    "FieldType",
    "JobConfig",
    "ListenerConfig",
    "LogonThrottleConfig",
    "ProtocolOptions",
    "SessionLimits",
    "SimulationConfig",
    "SiteConfig",
    "TlsConfig",
    "TokenConfig",
    "TokenRole",
]


class FieldType(enum.StrEnum):
    """Calling-list field types, as AGTListCallFields reports them."""

    CHARACTER = "C"  #: free text
    NUMERIC = "N"  #: digits
    CURRENCY = "$"  #: an amount
    DATE = "D"  #: a date
    TIME = "T"  #: a time of day


@attrs.frozen
class FieldSpec:
    """One field of a calling list: ``<name>,<length>,<type>,F`` on the wire."""

    name: str
    length: int
    type: FieldType = FieldType.CHARACTER


@attrs.frozen
class CallingListConfig:
    """A calling (contact) list: its field layout and where its records come from.

    Attributes:
        name: the list's name, as AGTListCallLists shows it.
        fields: the fields in order (for a CSV file without declared fields: its header's, as text).
        csv_path: a CSV file of records (``None`` for a generated list).
        generated_records: how many records to generate when there is no CSV file.
        id_field: the field that identifies a record (default: the first field).
    """

    name: str
    fields: tuple[FieldSpec, ...]
    csv_path: Path | None = None
    generated_records: int = 0
    id_field: str | None = None


@attrs.frozen
class CompletionKey:
    """One completion code a job accepts, as AGTListKeys reports it: ``<code>,<description>,<label>``."""

    code: int
    description: str
    label: str = ""


class CallbackOwner(enum.StrEnum):
    """Who a callback scheduled by an agent belongs to."""

    AGENT = "agent"  #: the agent who scheduled it (agent-owned recall, rule R7)
    CAMPAIGN = "campaign"  #: any agent of the job


@attrs.frozen
class DialingConfig:
    """How the simulated dialer works one job.  Zero delays and a seeded generator make runs repeatable.

    Attributes:
        dial_delay: seconds (min, max) from an agent being ready to its call being answered (or not).
        answer_rate: share of dials a person answers (0-1); the others end with a dialer outcome.
        outcomes: completion code -> weight for the unanswered dials (e.g. 11 busy, 15 no answer,
            13 answering machine); the dialer records them without involving an agent.
        max_attempts: dials per record before it is finished with its last outcome.
        retry_delay: seconds before an unanswered record is dialed again.
        hangup_rate: share of answered calls where the customer hangs up first (AGTAutoReleaseLine).
        talk_time: seconds (min, max) after which such a customer hangs up.
        preview_timeout: seconds a managed job's preview lasts before the server dials by itself.
        inbound_rate: inbound calls per minute arriving at an inbound or blend job (0 = none).
        callback_owner: who callbacks scheduled on this job belong to.
        calling_hours: local hours (start, end) in which callbacks may be scheduled, as "HH:MM".
        callback_min_minutes: how far ahead a callback must be scheduled at least (E28800 otherwise).
    """

    dial_delay: tuple[float, float] = (0.0, 0.0)
    answer_rate: float = 1.0
    outcomes: tuple[tuple[int, float], ...] = ((11, 1.0), (15, 2.0), (13, 1.0))
    max_attempts: int = 3
    retry_delay: float = 60.0
    hangup_rate: float = 0.0
    talk_time: tuple[float, float] = (30.0, 120.0)
    preview_timeout: float = 30.0
    inbound_rate: float = 0.0
    callback_owner: CallbackOwner = CallbackOwner.AGENT
    calling_hours: tuple[str, str] = ("00:00", "23:59")
    callback_min_minutes: int = 0


@attrs.frozen
class JobConfig:
    """A job (campaign).

    Attributes:
        name: at most 19 ASCII characters, no spaces.
        type: outbound, inbound, blend or managed.
        priority: 1 (lowest) to 10 (highest); shares of agents are proportional to it.
        min_agents: agents the job gets before any job shares the rest.
        max_agents: the most agents the job takes (``None`` = no limit).
        required_skills: an agent needs one of these to work the job (empty = everyone).
        linked_job: the job that starts when this one completes or stops.
        outbound_list: the calling list dialed (outbound, blend and managed jobs).
        inbound_list: the calling list of inbound calls (inbound and blend jobs).
        keys: the completion codes agents may finish records with.
        units: unit ids of a unit-work-list job (empty for other jobs).
        start_running: whether the job runs as soon as the server starts.
        dialing: how the simulated dialer works the job.
    """

    name: str
    type: JobType
    priority: int = 5
    min_agents: int = 0
    max_agents: int | None = None
    required_skills: frozenset[str] = frozenset()
    linked_job: str | None = None
    outbound_list: str | None = None
    inbound_list: str | None = None
    keys: tuple[CompletionKey, ...] = ()
    units: tuple[str, ...] = ()
    start_running: bool = True
    dialing: DialingConfig = DialingConfig()


@attrs.frozen
class AgentConfig:
    """An agent who may log on.

    Attributes:
        name: the logon name (at most 19 characters, no spaces).
        password_hash: the password as ``agt-server hash-password`` prints it (never the password).
        skills: matched against jobs' required skills.
        work_classes: the work classes the agent may use; a job is applicable when one of them fits.
        group: the supervisor group the agent belongs to.
    """

    name: str
    password_hash: str
    skills: frozenset[str] = frozenset()
    work_classes: frozenset[WorkClass] = frozenset(WorkClass)
    group: str = "default"


@attrs.frozen
class ListenerConfig:
    """Where the server listens.  A port of ``None`` disables that listener; ``0`` picks a free port.

    ``http_port`` serves the supervisor REST API and the dashboard.
    """

    host: str = "127.0.0.1"
    agent_port: int | None = 22700
    tls_port: int | None = 22701
    tty_port: int | None = 22702
    http_port: int | None = 8080


class TokenRole(enum.StrEnum):
    """What a supervisor REST API token may do."""

    ADMIN = "admin"  #: everything
    SUPERVISOR = "supervisor"  #: read everything but agents outside its groups; steer its groups' agents
    VIEWER = "viewer"  #: read only


@attrs.frozen
class TokenConfig:
    """A bearer token of the supervisor REST API.

    Attributes:
        name: who uses it; the audit log names this as the actor of every change made with it.
        token: the secret sent as ``Authorization: Bearer <token>`` (at least 8 characters).
        role: what it may do.
        groups: a supervisor's agent groups: the only agents it sees and steers.
        campaign_control: a supervisor may also start, pause, resume, stop and link campaigns and inject
            callbacks and inbound calls.
    """

    name: str
    token: str
    role: TokenRole
    groups: frozenset[str] = frozenset()
    campaign_control: bool = False


@attrs.frozen
class TlsConfig:
    """The TLS listener's settings.

    Attributes:
        certificate: PEM certificate chain; ``None`` in the demo, which makes a self-signed one.
        key: PEM private key.
        client_ca: CA bundle to verify client certificates with (``None`` = do not ask for one).
        require_client_certificate: refuse clients without a valid certificate (needs ``client_ca``).
        minimum_version: the oldest TLS version accepted: ``TLSv1``, ``TLSv1.1``, ``TLSv1.2`` or ``TLSv1.3``.
    """

    certificate: Path | None = None
    key: Path | None = None
    client_ca: Path | None = None
    require_client_certificate: bool = False
    minimum_version: str = "TLSv1.2"


@attrs.frozen
class LogonThrottleConfig:
    """Failed-logon throttling: after ``max_failures`` failures within ``window`` seconds, for one agent
    name or one client address, logons from it are refused for ``lockout`` seconds."""

    max_failures: int = 5
    window: float = 60.0
    lockout: float = 30.0


@attrs.frozen
class SessionLimits:
    """Per-connection limits.

    Attributes:
        idle_timeout: seconds without a command before the server closes the connection (0 = never).
        max_connections: connections accepted at once, over all listeners.
        outbox_size: messages queued for one connection; a client that stops reading is disconnected
            when its outbox is full.
        max_message_size: the largest message accepted, in bytes.
        write_timeout: seconds a write to a client may stay blocked (the client is not reading)
            before the connection is closed.
        inter_message_delay: seconds to pause after each message sent (0 = none); some old clients
            need one message per read.
    """

    idle_timeout: float = 0.0
    max_connections: int = 20_000
    outbox_size: int = 256
    max_message_size: int = 64 * 1024
    write_timeout: float = 30.0
    inter_message_delay: float = 0.0


@attrs.frozen
class ProtocolOptions:
    """Choices where Avaya's documents and real servers disagree.

    Attributes:
        require_headset: AGTAvailWork needs a connected headset (E28896), as on a real system.
        pending_replies: commands answered with ``P 0 S28833`` before their final ``R`` in addition to
            those the PC logs show with one (e.g. ``AGTFinishedItem`` for clients written against the
            C# emulators).
        encoding: the single-byte encoding of data segments.
    """

    require_headset: bool = True
    pending_replies: frozenset[str] = frozenset()
    encoding: str = "latin-1"


@attrs.frozen
class AssignmentConfig:
    """How the server balances agents between their preferred campaigns.

    Attributes:
        dwell_time: seconds an agent stays on a job it was given before balancing may move it again
            (a job that stops being one of its candidates moves it at once).
        rebalance_interval: the least number of seconds between two full rebalances; in between, agents
            that need a job get one at once and fairness is restored at the next rebalance.
    """

    dwell_time: float = 30.0
    rebalance_interval: float = 1.0


@attrs.frozen
class ContactRecord:
    """One record of a calling list: its id and its field values in the list's field order."""

    record_id: str
    fields: tuple[tuple[str, str], ...]


@attrs.frozen
class SimulationConfig:
    """The simulation as a whole.

    Attributes:
        seed: seeds the dialer's random choices (``None``: different every run).
        database: the SQLite file for durable data, relative to ``data_dir``, or ``:memory:``.
    """

    seed: int | None = None
    database: str = "agt_server.sqlite3"


@attrs.frozen
class SiteConfig:
    """Everything the server is configured with.

    Attributes:
        source: the file the configuration came from, or ``"<demo>"``.
        data_dir: where the server keeps its files (the demo's self-signed certificate, later the database).
        tokens: the supervisor REST API's bearer tokens (none: every request that needs one is refused).
    """

    source: str
    jobs: tuple[JobConfig, ...]
    agents: tuple[AgentConfig, ...]
    calling_lists: tuple[CallingListConfig, ...] = ()
    listeners: ListenerConfig = ListenerConfig()
    tls: TlsConfig = TlsConfig()
    limits: SessionLimits = SessionLimits()
    throttle: LogonThrottleConfig = LogonThrottleConfig()
    protocol: ProtocolOptions = ProtocolOptions()
    assignment: AssignmentConfig = AssignmentConfig()
    simulation: SimulationConfig = SimulationConfig()
    data_dir: Path = Path("data")
    tokens: tuple[TokenConfig, ...] = ()
