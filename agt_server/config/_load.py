"""Reading a site configuration from a TOML file.

All validation lives here, at the boundary, so the models in ``_models.py`` stay plain data.  The
loader's promise is one precise message per bad file, never a traceback: the message names the file,
the key path in TOML terms (``jobs[2].keys[0].code``) and what is wrong with the value found there::

    site.toml: jobs[2].priority: must be an integer from 1 to 10, got 12

Unknown keys are errors, because in a configuration a misspelt key that is silently ignored is a
setting that silently does not apply.  Validation stops at the first problem, in document order
within a table and in the order of the schema between tables; cross-references (linked jobs, calling
lists) are checked once everything they may point at has been read.

A calling list's CSV file is read here too, for its header: it must name the list's declared fields, or
it gives the fields when none are declared.  The records themselves are checked by ``load_records``
(``_contacts.py``), which shares this module's CSV reader.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import enum
import io
import math
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import NoReturn

import attrs

from agt_server.protocol import JobType, WorkClass

from ._models import (
    AgentConfig,
    AssignmentConfig,
    CallbackOwner,
    CallingListConfig,
    CompletionKey,
    DialingConfig,
    FieldSpec,
    FieldType,
    JobConfig,
    ListenerConfig,
    LogonThrottleConfig,
    ProtocolOptions,
    SessionLimits,
    SimulationConfig,
    SiteConfig,
    TlsConfig,
    TokenConfig,
    TokenRole,
)
from ._passwords import check_hash_format

__all__ = ["ConfigError", "load_config"]

#: Longest job, agent, calling-list and field name (PC's limit; the wire fields are sized for it).
MAX_NAME_LENGTH = 19
#: Completion codes a job may define (PC reserves 0..200; the low ones are system codes, but sites
#: do configure some of them, so only the range is enforced).
MAX_COMPLETION_CODE = 200
MAX_FIELD_LENGTH = 255
#: Smallest and largest accepted ``limits.max_message_size``: below 256 bytes not even a header and
#: a logon fit; above 16 MiB one connection could hold the server's memory hostage.
MIN_MESSAGE_SIZE = 256
MAX_MESSAGE_SIZE_LIMIT = 16 * 1024 * 1024
#: A generated calling list lives in memory; a cap turns a typo (an extra zero or three) into an error
#: instead of an out-of-memory at start-up.
MAX_GENERATED_RECORDS = 1_000_000
TLS_VERSIONS = ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
#: The shortest REST API token accepted: anything shorter is guessed too easily.
MIN_TOKEN_LENGTH = 8
#: The listener ports, in the order ``[listeners]`` documents them.
_PORT_KEYS = ("agent_port", "tls_port", "tty_port", "http_port")
_TOKEN_KEYS = ("name", "token", "role", "groups", "campaign_control")
#: A time of day as calling hours and ``T`` fields write it.
TIME_OF_DAY = re.compile(r"(?:[01][0-9]|2[0-3]):[0-5][0-9]")
#: A completion code as an ``outcomes`` key: decimal, no sign, no leading zeros.
_CODE_KEY = re.compile(r"0|[1-9][0-9]{0,2}")
#: A header keyword is 20 characters at most; every AGT command starts with ``AGT``.
_KEYWORD = re.compile(r"AGT[A-Za-z0-9]{1,17}")
_SYNTAX_POSITION = re.compile(
    r"^(?P<message>.*) \((?:at line (?P<line>\d+), column (?P<column>\d+)|at end of document)\)$"
)

# Defaults come from the models, so the two cannot drift apart.
_DEFAULT_LISTENERS = ListenerConfig()
_DEFAULT_TLS = TlsConfig()
_DEFAULT_JOB = JobConfig(name="", type=JobType.OUTBOUND)
_DEFAULT_AGENT = AgentConfig(name="", password_hash="")

_TOP_KEYS = (
    "data_dir",
    "listeners",
    "tls",
    "limits",
    "throttle",
    "protocol",
    "assignment",
    "simulation",
    "calling_lists",
    "jobs",
    "agents",
    "tokens",
)


class ConfigError(Exception):
    """The configuration cannot be used.  ``str(error)`` is a complete one-line message for the user:
    ``<file>: <key path>: <problem>``, ``<file>: line <n>, column <m>: <syntax error>`` or
    ``<file>: cannot read: <reason>``."""


def load_config(path: Path) -> SiteConfig:
    """Read and validate the site configuration in the TOML file at ``path``.

    Relative paths inside the file (``data_dir``, TLS files, CSV files) are taken relative to the folder
    that holds the file, so a configuration works wherever the server is started from; ``data_dir``
    defaults to ``data`` in that folder.

    Args:
        path: the TOML file.

    Returns:
        The configuration, with ``source`` set to ``str(path)``.

    Raises:
        ConfigError: the file cannot be read, is not valid TOML or UTF-8, or breaks a rule of the
            schema, or a calling list's CSV file cannot be read or its header does not fit; the message
            says which and where.
    """
    source = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ConfigError(f"{source}: line {line}: not valid UTF-8 (byte 0x{raw[exc.start]:02x})") from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: {_describe_syntax_error(str(exc))}") from None
    try:
        return _read_site(document, source, path.absolute().parent)
    except _Invalid as exc:
        where = f"{exc.key_path}: " if exc.key_path else ""
        raise ConfigError(f"{source}: {where}{exc.problem}") from None


def _describe_syntax_error(message: str) -> str:
    # tomllib (3.11) puts the position at the end of the message: "Invalid value (at line 7, column 3)".
    # Users scan for the position first, so it moves to the front like the other messages' key paths.
    match = _SYNTAX_POSITION.match(message)
    if match is None:
        return message
    if match["line"] is None:
        return f"at end of file: {match['message']}"
    return f"line {match['line']}, column {match['column']}: {match['message']}"


class _Invalid(Exception):
    """A rule is broken at ``key_path`` (empty for the document itself)."""

    def __init__(self, key_path: str, problem: str) -> None:
        super().__init__(key_path, problem)
        self.key_path = key_path
        self.problem = problem


class _Missing(enum.Enum):
    MISSING = enum.auto()


_MISSING = _Missing.MISSING


class _Table:
    """A TOML table at a known key path, whose keys have been checked against the allowed ones."""

    def __init__(self, data: Mapping[str, object], path: str, allowed: Iterable[str]) -> None:
        allowed = frozenset(allowed)
        for key in data:
            if key not in allowed:
                raise _Invalid(path, f"unknown key {key!r}")
        self.data = data
        self.path = path

    def path_of(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def get(self, key: str) -> object:
        """The value at ``key``, or ``_MISSING``."""
        return self.data.get(key, _MISSING)

    def require(self, key: str) -> object:
        value = self.data.get(key, _MISSING)
        if value is _MISSING:
            raise _Invalid(self.path, f"missing required key {key!r}")
        return value

    def fail(self, key: str, problem: str) -> NoReturn:
        raise _Invalid(self.path_of(key), problem)

    def string(self, key: str, default: str) -> str:
        value = self.get(key)
        return default if value is _MISSING else _string(value, self.path_of(key))

    def boolean(self, key: str, default: bool) -> bool:
        value = self.get(key)
        if value is _MISSING:
            return default
        if not isinstance(value, bool):
            self.fail(key, f"must be true or false, got {_show(value)}")
        return value

    def integer(self, key: str, default: int, low: int, high: int | None = None) -> int:
        value = self.get(key)
        return default if value is _MISSING else _integer(value, self.path_of(key), low, high)

    def number(
        self, key: str, default: float, low: float, high: float | None = None, *, allow_low: bool = True
    ) -> float:
        value = self.get(key)
        return default if value is _MISSING else _number(value, self.path_of(key), low, high, allow_low=allow_low)

    def choice(self, key: str, default: str, choices: Iterable[str]) -> str:
        value = self.get(key)
        return default if value is _MISSING else _choice(value, self.path_of(key), choices)

    def path_value(self, key: str, base: Path) -> Path | None:
        value = self.get(key)
        if value is _MISSING:
            return None
        text = _string(value, self.path_of(key))
        if not text:
            self.fail(key, "must not be empty")
        return base / Path(text).expanduser()

    def strings(self, key: str) -> tuple[str, ...]:
        """An array of non-empty strings (empty when the key is absent)."""
        value = self.get(key)
        if value is _MISSING:
            return ()
        items = _array(value, self.path_of(key))
        result = []
        for index, item in enumerate(items):
            text = _string(item, f"{self.path_of(key)}[{index}]")
            if not text:
                raise _Invalid(f"{self.path_of(key)}[{index}]", "must not be empty")
            result.append(text)
        return tuple(result)

    def table(self, key: str, allowed: Iterable[str]) -> _Table:
        value = self.get(key)
        if value is _MISSING:
            return _Table({}, self.path_of(key), allowed)
        if not isinstance(value, dict):
            self.fail(key, f"must be a table, got {_show(value)}")
        return _Table(value, self.path_of(key), allowed)

    def tables(self, key: str, allowed: Iterable[str]) -> list[_Table]:
        """An array of tables (``[[key]]`` or an array of inline tables); empty when absent."""
        value = self.get(key)
        if value is _MISSING:
            return []
        if not isinstance(value, list):
            self.fail(key, f"must be an array of tables, got {_show(value)}")
        allowed = tuple(allowed)
        result = []
        for index, item in enumerate(value):
            item_path = f"{self.path_of(key)}[{index}]"
            if not isinstance(item, dict):
                raise _Invalid(item_path, f"must be a table, got {_show(item)}")
            result.append(_Table(item, item_path, allowed))
        return result


def _show(value: object) -> str:
    """A value as the user wrote it in TOML, more or less, for "got ..." in messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return repr(value).removesuffix(".0")
    if isinstance(value, int | float | str):
        return repr(value)
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return f"a {type(value).__name__}"


def _string(value: object, path: str) -> str:
    if not isinstance(value, str):
        raise _Invalid(path, f"must be a string, got {_show(value)}")
    return value


def _integer(value: object, path: str, low: int, high: int | None) -> int:
    bound = f"of at least {low}" if high is None else f"from {low} to {high}"
    # bool is an int in Python but not in TOML; ``true`` for a priority is a mistake.
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        raise _Invalid(path, f"must be an integer {bound}, got {_show(value)}")
    return value


def _number(value: object, path: str, low: float, high: float | None = None, *, allow_low: bool = True) -> float:
    if high is not None:
        bound = f"from {_show(low)} to {_show(high)}"
    else:
        bound = f"of at least {_show(low)}" if allow_low else f"greater than {_show(low)}"
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < low
        or (value == low and not allow_low)
        or (high is not None and value > high)
    ):
        raise _Invalid(path, f"must be a number {bound}, got {_show(value)}")
    return float(value)


def _choice(value: object, path: str, choices: Iterable[str]) -> str:
    # str() turns enum members into their values, which is what the user writes.
    choices = tuple(str(choice) for choice in choices)
    if not isinstance(value, str) or value not in choices:
        listed = ", ".join(repr(choice) for choice in choices[:-1]) + f" or {choices[-1]!r}"
        raise _Invalid(path, f"must be one of {listed}, got {_show(value)}")
    return value


def _array(value: object, path: str) -> list[object]:
    if not isinstance(value, list):
        raise _Invalid(path, f"must be an array, got {_show(value)}")
    return value


def _name(table: _Table, key: str = "name") -> str:
    """A required job, agent, calling-list or field name: what PC accepts in its comma-separated replies."""
    path = table.path_of(key)
    value = _string(table.require(key), path)
    problem = _name_problem(value)
    if problem is not None:
        raise _Invalid(path, problem)
    return value


def _name_problem(value: str) -> str | None:
    """What is wrong with ``value`` as a name, or ``None``."""
    if not value:
        return "must not be empty"
    if len(value) > MAX_NAME_LENGTH:
        return f"must be at most {MAX_NAME_LENGTH} characters, got {value!r} ({len(value)})"
    if not all(" " <= char <= "~" for char in value):
        return f"must be printable ASCII, got {value!r}"
    if " " in value:
        return f"must not contain spaces, got {value!r}"
    if "," in value:
        # Names travel inside comma-separated records (AGTListJobs, AGTListCallFields).
        return f"must not contain commas, got {value!r}"
    return None


def _unique(seen: dict[str, str], value: str, path: str, what: str) -> None:
    """Record ``value`` as seen at ``path``, or fail naming where it was seen first."""
    if value in seen:
        raise _Invalid(path, f"duplicate {what} {value!r} (first at {seen[value]})")
    seen[value] = path


def _read_site(document: Mapping[str, object], source: str, base: Path) -> SiteConfig:
    top = _Table(document, "", _TOP_KEYS)
    data_dir = top.path_value("data_dir", base) or base / "data"
    listeners = _read_listeners(top.table("listeners", ("host", *_PORT_KEYS)))
    tls = _read_tls(
        top.table("tls", ("certificate", "key", "client_ca", "require_client_certificate", "minimum_version")),
        base,
    )
    limits = _read_limits(
        top.table(
            "limits",
            (
                "idle_timeout",
                "max_connections",
                "outbox_size",
                "max_message_size",
                "write_timeout",
                "inter_message_delay",
            ),
        )
    )
    throttle = _read_throttle(top.table("throttle", ("max_failures", "window", "lockout")))
    protocol = _read_protocol(top.table("protocol", ("require_headset", "pending_replies", "encoding")))
    assignment = _read_assignment(top.table("assignment", ("dwell_time", "rebalance_interval")))
    simulation = _read_simulation(top.table("simulation", ("seed", "database")))

    list_names: dict[str, str] = {}
    calling_lists = []
    for table in top.tables("calling_lists", ("name", "fields", "csv", "generated_records", "id_field")):
        calling_list = _read_calling_list(table, base)
        _unique(list_names, calling_list.name, table.path_of("name"), "calling list name")
        calling_lists.append(calling_list)

    job_tables = top.tables(
        "jobs",
        (
            "name",
            "type",
            "priority",
            "min_agents",
            "max_agents",
            "required_skills",
            "linked_job",
            "outbound_list",
            "inbound_list",
            "keys",
            "units",
            "start_running",
            "dialing",
        ),
    )
    if not job_tables:
        raise _Invalid("jobs", "at least one job is required ([[jobs]])")
    job_names: dict[str, str] = {}
    jobs = []
    for table in job_tables:
        job = _read_job(table, list_names)
        _unique(job_names, job.name, table.path_of("name"), "job name")
        jobs.append(job)
    # Links are checked only now, because a job may link to one defined after it.
    for table, job in zip(job_tables, jobs, strict=True):
        if job.linked_job is None:
            continue
        if job.linked_job == job.name:
            table.fail("linked_job", f"a job cannot link to itself ({job.name!r})")
        if job.linked_job not in job_names:
            table.fail("linked_job", f"no job named {job.linked_job!r}")

    agent_tables = top.tables("agents", ("name", "password_hash", "skills", "work_classes", "group"))
    if not agent_tables:
        raise _Invalid("agents", "at least one agent is required ([[agents]])")
    agent_names: dict[str, str] = {}
    agents = []
    for table in agent_tables:
        agent = _read_agent(table)
        _unique(agent_names, agent.name, table.path_of("name"), "agent name")
        agents.append(agent)

    groups = {agent.group for agent in agents}
    token_names: dict[str, str] = {}
    token_values: dict[str, str] = {}
    tokens = []
    for table in top.tables("tokens", _TOKEN_KEYS):
        token = _read_token(table, groups)
        _unique(token_names, token.name, table.path_of("name"), "token name")
        if token.token in token_values:
            # Never echo a secret into a message: say where the first one is.
            table.fail("token", f"the same token as {token_values[token.token]} (each token must be unique)")
        token_values[token.token] = table.path_of("token")
        tokens.append(token)

    return SiteConfig(
        source=source,
        jobs=tuple(jobs),
        agents=tuple(agents),
        calling_lists=tuple(calling_lists),
        listeners=listeners,
        tls=tls,
        limits=limits,
        throttle=throttle,
        protocol=protocol,
        assignment=assignment,
        simulation=simulation,
        data_dir=data_dir,
        tokens=tuple(tokens),
    )


def _read_listeners(table: _Table) -> ListenerConfig:
    host = table.string("host", _DEFAULT_LISTENERS.host)
    if not host:
        table.fail("host", "must not be empty")
    ports: dict[str, int | None] = {key: getattr(_DEFAULT_LISTENERS, key) for key in _PORT_KEYS}
    used: dict[int, str] = {}
    for key in _PORT_KEYS:
        value = table.get(key)
        if value == "off":
            ports[key] = None
        elif isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 65535:
            ports[key] = value
        elif value is not _MISSING:
            table.fail(key, f'must be a port number from 0 to 65535 or "off", got {_show(value)}')
        port = ports[key]
        # Port 0 asks the system for a free port, so several listeners may share it.
        if port:
            if port in used:
                table.fail(key, f"port {port} is already used by {table.path_of(used[port])}")
            used[port] = key
    return ListenerConfig(
        host=host,
        agent_port=ports["agent_port"],
        tls_port=ports["tls_port"],
        tty_port=ports["tty_port"],
        http_port=ports["http_port"],
    )


def _read_tls(table: _Table, base: Path) -> TlsConfig:
    certificate = table.path_value("certificate", base)
    key = table.path_value("key", base)
    client_ca = table.path_value("client_ca", base)
    require_client_certificate = table.boolean("require_client_certificate", _DEFAULT_TLS.require_client_certificate)
    minimum_version = table.choice("minimum_version", _DEFAULT_TLS.minimum_version, TLS_VERSIONS)
    if certificate is not None and key is None:
        table.fail("key", "required when certificate is given")
    if key is not None and certificate is None:
        table.fail("certificate", "required when key is given")
    if require_client_certificate and client_ca is None:
        table.fail("require_client_certificate", "needs client_ca, the CA bundle to verify client certificates with")
    return TlsConfig(
        certificate=certificate,
        key=key,
        client_ca=client_ca,
        require_client_certificate=require_client_certificate,
        minimum_version=minimum_version,
    )


def _read_limits(table: _Table) -> SessionLimits:
    defaults = SessionLimits()
    return SessionLimits(
        idle_timeout=table.number("idle_timeout", defaults.idle_timeout, 0),
        max_connections=table.integer("max_connections", defaults.max_connections, 1),
        outbox_size=table.integer("outbox_size", defaults.outbox_size, 1),
        max_message_size=table.integer(
            "max_message_size", defaults.max_message_size, MIN_MESSAGE_SIZE, MAX_MESSAGE_SIZE_LIMIT
        ),
        write_timeout=table.number("write_timeout", defaults.write_timeout, 0, allow_low=False),
        inter_message_delay=table.number("inter_message_delay", defaults.inter_message_delay, 0),
    )


def _read_throttle(table: _Table) -> LogonThrottleConfig:
    defaults = LogonThrottleConfig()
    return LogonThrottleConfig(
        max_failures=table.integer("max_failures", defaults.max_failures, 1),
        # A zero window would count no failure at all; a zero lockout is allowed and means "no lockout".
        window=table.number("window", defaults.window, 0, allow_low=False),
        lockout=table.number("lockout", defaults.lockout, 0),
    )


def _read_assignment(table: _Table) -> AssignmentConfig:
    defaults = AssignmentConfig()
    return AssignmentConfig(
        dwell_time=table.number("dwell_time", defaults.dwell_time, 0),
        rebalance_interval=table.number("rebalance_interval", defaults.rebalance_interval, 0),
    )


def _read_simulation(table: _Table) -> SimulationConfig:
    defaults = SimulationConfig()
    seed = defaults.seed
    value = table.get("seed")
    if value is not _MISSING:
        if isinstance(value, bool) or not isinstance(value, int):
            table.fail("seed", f"must be an integer, got {_show(value)}")
        seed = value
    database = table.string("database", defaults.database)
    if not database:
        table.fail("database", 'must not be empty (use ":memory:" for a database that is not kept)')
    return SimulationConfig(seed=seed, database=database)


def _read_protocol(table: _Table) -> ProtocolOptions:
    defaults = ProtocolOptions()
    require_headset = table.boolean("require_headset", defaults.require_headset)
    pending_replies = table.strings("pending_replies")
    for index, keyword in enumerate(pending_replies):
        if not _KEYWORD.fullmatch(keyword):
            raise _Invalid(
                f"{table.path_of('pending_replies')}[{index}]",
                f"must be an AGT command keyword such as 'AGTFinishedItem', got {keyword!r}",
            )
    encoding = table.string("encoding", defaults.encoding)
    if not _is_single_byte_encoding(encoding):
        table.fail("encoding", f"must be a single-byte text encoding such as 'latin-1' or 'cp1252', got {encoding!r}")
    return ProtocolOptions(
        require_headset=require_headset, pending_replies=frozenset(pending_replies), encoding=encoding
    )


def _is_single_byte_encoding(name: str) -> bool:
    # A single-byte codec maps byte 0xFF to exactly one character; UTF-8, UTF-16, ASCII and the
    # bytes-to-bytes codecs (hex, base64, rot13...) all fail this, most of them by raising.
    try:
        codecs.lookup(name)
        return len(b"\xff".decode(name)) == 1 and len("A".encode(name)) == 1
    except (LookupError, ValueError, TypeError):
        return False


def _read_calling_list(table: _Table, base: Path) -> CallingListConfig:
    name = _name(table)
    csv_path = table.path_value("csv", base)
    declared: tuple[FieldSpec, ...] | None = None
    if csv_path is None or table.get("fields") is not _MISSING:
        declared = _read_fields(table)
    generated_records = table.integer("generated_records", 0, 0, MAX_GENERATED_RECORDS)
    if csv_path is not None and "generated_records" in table.data:
        table.fail("generated_records", "cannot be combined with csv (records come from one or the other)")
    if csv_path is None:
        assert declared is not None
        fields = declared
    else:
        fields = _read_csv_fields(table, csv_path, declared)
    id_field = None
    if table.get("id_field") is not _MISSING:
        id_field = _string(table.get("id_field"), table.path_of("id_field"))
        if id_field not in {field.name for field in fields}:
            table.fail("id_field", f"no field named {id_field!r}")
    if generated_records:
        id_spec = next(field for field in fields if field.name == (id_field or fields[0].name))
        capacity = len(id_space(id_spec)[0])
        if generated_records > capacity:
            table.fail(
                "generated_records",
                f"must be at most {capacity}, the number of different values of the id field {id_spec.name!r} "
                f"(type {id_spec.type.value!r}, length {id_spec.length}), got {generated_records}",
            )
    return CallingListConfig(
        name=name, fields=fields, csv_path=csv_path, generated_records=generated_records, id_field=id_field
    )


def _read_fields(table: _Table) -> tuple[FieldSpec, ...]:
    table.require("fields")
    field_tables = table.tables("fields", ("name", "length", "type"))
    if not field_tables:
        table.fail("fields", "must have at least one field")
    field_names: dict[str, str] = {}
    fields = []
    for field_table in field_tables:
        field = FieldSpec(
            name=_name(field_table),
            length=_integer(field_table.require("length"), field_table.path_of("length"), 1, MAX_FIELD_LENGTH),
            type=FieldType(field_table.choice("type", FieldType.CHARACTER, FieldType)),
        )
        _unique(field_names, field.name, field_table.path_of("name"), "field name")
        fields.append(field)
    return tuple(fields)


def _read_csv_fields(table: _Table, csv_path: Path, declared: tuple[FieldSpec, ...] | None) -> tuple[FieldSpec, ...]:
    """The list's fields, checked against (or, without declared fields, made from) the CSV file's header."""
    shown = _string(table.get("csv"), table.path_of("csv"))
    try:
        contents = read_csv(csv_path)
        if declared is not None:
            csv_columns(contents, [field.name for field in declared])
            return declared
        return _header_fields(contents)
    except CsvUnreadable as exc:
        table.fail("csv", f"cannot read {shown}: {exc.reason}")
    except CsvInvalid as exc:
        table.fail("csv", f"{shown}: {exc.where}: {exc.problem}")


def _header_fields(contents: CsvContents) -> tuple[FieldSpec, ...]:
    """Fields named by the header, each of type C and as long as the column's longest value (1 to 255)."""
    seen: dict[str, int] = {}
    for column, name in enumerate(contents.header, start=1):
        where = f"line {contents.header_line}, column {column}"
        problem = _name_problem(name)
        if problem is not None:
            raise CsvInvalid(where, problem)
        if name in seen:
            raise CsvInvalid(where, f"duplicate column {name!r} (first in column {seen[name]})")
        seen[name] = column
    lengths = [1] * len(contents.header)
    for _, values in contents.rows:
        for index, value in enumerate(values[: len(lengths)]):
            lengths[index] = max(lengths[index], len(value))
    return tuple(
        FieldSpec(name, min(length, MAX_FIELD_LENGTH), FieldType.CHARACTER)
        for name, length in zip(contents.header, lengths, strict=True)
    )


# -- CSV files of calling lists: shared with ``_contacts.py``, which reads their records ---------------------------


class CsvUnreadable(Exception):
    """A CSV file cannot be read at all; ``reason`` is the operating system's."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class CsvInvalid(Exception):
    """A CSV file breaks a rule at ``where`` (``line 7`` or ``line 1, column 3``)."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(where, problem)
        self.where = where
        self.problem = problem


@attrs.frozen
class CsvContents:
    """A CSV file's header and rows, each value stripped of surrounding blanks; blank rows are left out.

    Attributes:
        header_line: the line the header is on.
        rows: (line the row starts on, values).
    """

    header: tuple[str, ...]
    header_line: int
    rows: tuple[tuple[int, tuple[str, ...]], ...]


def read_csv(path: Path) -> CsvContents:
    """Read the CSV file at ``path``: UTF-8 (a BOM is allowed), or Latin-1 when it is not valid UTF-8.

    Raises:
        CsvUnreadable: the file cannot be read.
        CsvInvalid: it is not valid CSV, or has no header line.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CsvUnreadable(exc.strerror or str(exc)) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header: tuple[str, ...] | None = None
    header_line = 0
    rows: list[tuple[int, tuple[str, ...]]] = []
    next_line = 1
    try:
        for row in reader:
            line, next_line = next_line, reader.line_num + 1
            values = tuple(value.strip() for value in row)
            if not any(values):
                continue  # a blank line, or only separators (as spreadsheets export trailing rows)
            if header is None:
                header, header_line = values, line
            else:
                rows.append((line, values))
    except csv.Error as exc:
        raise CsvInvalid(f"line {reader.line_num}", f"not valid CSV: {exc}") from None
    if header is None:
        raise CsvInvalid("line 1", "no header line (the file is empty or blank)")
    return CsvContents(header, header_line, tuple(rows))


def csv_columns(contents: CsvContents, names: Sequence[str]) -> tuple[int, ...]:
    """The column index of each of ``names`` in the header; other columns are ignored.

    Raises:
        CsvInvalid: a name has no column, or more than one.
    """
    where = f"line {contents.header_line}"
    columns = []
    for name in names:
        found = [index for index, column in enumerate(contents.header) if column == name]
        if not found:
            raise CsvInvalid(where, f"no column for field {name!r}")
        if len(found) > 1:
            raise CsvInvalid(where, f"duplicate column {name!r} (columns {found[0] + 1} and {found[1] + 1})")
        columns.append(found[0])
    return tuple(columns)


#: Generated dates start here (ids of type D count days from it).
FIRST_GENERATED_DATE = datetime.date(2000, 1, 1)
#: The most digits a generated id of type N or C has.
MAX_ID_DIGITS = 16


def format_date(date: datetime.date) -> str:
    """A date as PC writes it: YYYY/MM/DD."""
    return f"{date.year:04d}/{date.month:02d}/{date.day:02d}"


def id_space(field: FieldSpec) -> tuple[range, Callable[[int], str]]:
    """The record ids a generated list can put in ``field``: numbers and how each one is written.

    Distinct numbers give distinct values that fit the field's type and length: digits for N and C,
    amounts with cents for $ (plain digits below length 4), days from 2000/01/01 for D (length 10 and
    more), minutes of the day as HH:MM for T (length 5 and more).  ``len()`` of the range is how many
    records a generated list with this id field can have.
    """
    length = field.length
    if field.type in (FieldType.NUMERIC, FieldType.CHARACTER):
        digits = min(length, MAX_ID_DIGITS)
        return range(10**digits), lambda number: f"{number:0{digits}d}"
    if field.type is FieldType.CURRENCY:
        if length < 4:
            return range(10**length), str
        return range(10 ** min(length - 1, MAX_ID_DIGITS)), lambda cents: f"{cents // 100}.{cents % 100:02d}"
    if field.type is FieldType.DATE:
        days = (datetime.date(9999, 12, 31) - FIRST_GENERATED_DATE).days + 1 if length >= 10 else 0
        return range(days), lambda day: format_date(FIRST_GENERATED_DATE + datetime.timedelta(days=day))
    minutes = 24 * 60 if length >= 5 else 0
    return range(minutes), lambda minute: f"{minute // 60:02d}:{minute % 60:02d}"


#: What each job type dials from: (needs an outbound list, needs an inbound list).
_LISTS_NEEDED = {
    JobType.OUTBOUND: (True, False),
    JobType.MANAGED: (True, False),
    JobType.BLEND: (True, True),
    JobType.INBOUND: (False, True),
}
_JOB_TYPE_NAMES = {
    JobType.OUTBOUND: "an outbound",
    JobType.MANAGED: "a managed",
    JobType.BLEND: "a blend",
    JobType.INBOUND: "an inbound",
}


def _read_job(table: _Table, list_names: Mapping[str, str]) -> JobConfig:
    name = _name(table)
    job_type = JobType(_choice(table.require("type"), table.path_of("type"), JobType))
    priority = table.integer("priority", _DEFAULT_JOB.priority, 1, 10)
    min_agents = table.integer("min_agents", _DEFAULT_JOB.min_agents, 0)
    max_agents: int | None = None
    if table.get("max_agents") is not _MISSING:
        max_agents = table.integer("max_agents", 0, 0)
        if max_agents < min_agents:
            table.fail("max_agents", f"must be at least min_agents ({min_agents}), got {max_agents}")
    required_skills = frozenset(table.strings("required_skills"))
    linked_job = None
    if table.get("linked_job") is not _MISSING:
        linked_job = _string(table.get("linked_job"), table.path_of("linked_job"))
    lists: dict[str, str | None] = {}
    for key, needed in zip(("outbound_list", "inbound_list"), _LISTS_NEEDED[job_type], strict=True):
        kind = f"{_JOB_TYPE_NAMES[job_type]} job (type {job_type.value!r})"
        value = table.get(key)
        if value is _MISSING:
            if needed:
                table.fail(key, f"required for {kind}")
            lists[key] = None
            continue
        list_name = _string(value, table.path_of(key))
        if not needed:
            table.fail(key, f"not used by {kind}")
        if list_name not in list_names:
            table.fail(key, f"no calling list named {list_name!r}")
        lists[key] = list_name
    codes: dict[str, str] = {}
    keys = []
    for key_table in table.tables("keys", ("code", "description", "label")):
        code_path = key_table.path_of("code")
        code = _integer(key_table.require("code"), code_path, 0, MAX_COMPLETION_CODE)
        _unique(codes, str(code), code_path, "completion code")
        description = _string(key_table.require("description"), key_table.path_of("description"))
        if not description:
            key_table.fail("description", "must not be empty")
        label = key_table.string("label", "")
        # AGTListKeys sends "<code>,<description>,<label>": a comma inside would shift the columns.
        for field, text in (("description", description), ("label", label)):
            if "," in text:
                key_table.fail(field, f"must not contain commas, got {text!r}")
        keys.append(CompletionKey(code=code, description=description, label=label))
    units = table.strings("units")
    start_running = table.boolean("start_running", _DEFAULT_JOB.start_running)
    dialing = _read_dialing(table.table("dialing", _DIALING_KEYS), job_type)
    return JobConfig(
        name=name,
        type=job_type,
        priority=priority,
        min_agents=min_agents,
        max_agents=max_agents,
        required_skills=required_skills,
        linked_job=linked_job,
        outbound_list=lists["outbound_list"],
        inbound_list=lists["inbound_list"],
        keys=tuple(keys),
        units=units,
        start_running=start_running,
        dialing=dialing,
    )


_DIALING_KEYS = (
    "dial_delay",
    "answer_rate",
    "outcomes",
    "max_attempts",
    "retry_delay",
    "hangup_rate",
    "talk_time",
    "preview_timeout",
    "inbound_rate",
    "callback_owner",
    "calling_hours",
    "callback_min_minutes",
)


def _read_dialing(table: _Table, job_type: JobType) -> DialingConfig:
    defaults = DialingConfig()
    dial_delay = _span(table, "dial_delay", defaults.dial_delay)
    answer_rate = table.number("answer_rate", defaults.answer_rate, 0, 1)
    outcomes = _outcomes(table, defaults.outcomes)
    if answer_rate < 1 and not any(weight > 0 for _, weight in outcomes):
        table.fail(
            "outcomes",
            f"needs at least one outcome with a positive weight when answer_rate is below 1 ({_show(answer_rate)})",
        )
    max_attempts = table.integer("max_attempts", defaults.max_attempts, 1)
    retry_delay = table.number("retry_delay", defaults.retry_delay, 0)
    hangup_rate = table.number("hangup_rate", defaults.hangup_rate, 0, 1)
    talk_time = _span(table, "talk_time", defaults.talk_time)
    preview_timeout = table.number("preview_timeout", defaults.preview_timeout, 0, allow_low=False)
    inbound_rate = table.number("inbound_rate", defaults.inbound_rate, 0)
    if "inbound_rate" in table.data and job_type not in (JobType.INBOUND, JobType.BLEND):
        table.fail("inbound_rate", f"not used by {_JOB_TYPE_NAMES[job_type]} job (type {job_type.value!r})")
    callback_owner = CallbackOwner(table.choice("callback_owner", defaults.callback_owner, CallbackOwner))
    calling_hours = _calling_hours(table, defaults.calling_hours)
    callback_min_minutes = table.integer("callback_min_minutes", defaults.callback_min_minutes, 0)
    return DialingConfig(
        dial_delay=dial_delay,
        answer_rate=answer_rate,
        outcomes=outcomes,
        max_attempts=max_attempts,
        retry_delay=retry_delay,
        hangup_rate=hangup_rate,
        talk_time=talk_time,
        preview_timeout=preview_timeout,
        inbound_rate=inbound_rate,
        callback_owner=callback_owner,
        calling_hours=calling_hours,
        callback_min_minutes=callback_min_minutes,
    )


def _pair(table: _Table, key: str, what: str) -> tuple[object, object] | None:
    """A two-item array at ``key`` (``None`` when absent)."""
    value = table.get(key)
    if value is _MISSING:
        return None
    if not isinstance(value, list) or len(value) != 2:
        got = f"an array of {len(value)}" if isinstance(value, list) else _show(value)
        table.fail(key, f"must be {what}, got {got}")
    return value[0], value[1]


def _span(table: _Table, key: str, default: tuple[float, float]) -> tuple[float, float]:
    """Seconds ``[min, max]``, both at least 0, min not above max."""
    pair = _pair(table, key, "[min, max], two numbers of seconds")
    if pair is None:
        return default
    path = table.path_of(key)
    low, high = (_number(item, f"{path}[{index}]", 0) for index, item in enumerate(pair))
    if low > high:
        table.fail(key, f"min ({_show(low)}) must not be greater than max ({_show(high)})")
    return low, high


def _calling_hours(table: _Table, default: tuple[str, str]) -> tuple[str, str]:
    """``["HH:MM", "HH:MM"]``, start not after end."""
    pair = _pair(table, "calling_hours", '[start, end], two times "HH:MM"')
    if pair is None:
        return default
    path = table.path_of("calling_hours")
    times = []
    for index, item in enumerate(pair):
        if not isinstance(item, str) or not TIME_OF_DAY.fullmatch(item):
            raise _Invalid(f"{path}[{index}]", f'must be a time "HH:MM" from "00:00" to "23:59", got {_show(item)}')
        times.append(item)
    start, end = times
    if start > end:
        table.fail("calling_hours", f"start ({start!r}) must not be later than end ({end!r})")
    return start, end


def _outcomes(table: _Table, default: tuple[tuple[int, float], ...]) -> tuple[tuple[int, float], ...]:
    """``{ "<completion code>" = <weight>, ... }``, in the order written."""
    value = table.get("outcomes")
    if value is _MISSING:
        return default
    if not isinstance(value, dict):
        table.fail(
            "outcomes", f'must be a table of completion code = weight, such as {{ "15" = 2.0 }}, got {_show(value)}'
        )
    path = table.path_of("outcomes")
    outcomes = []
    for key, weight in value.items():
        if not _CODE_KEY.fullmatch(key) or int(key) > MAX_COMPLETION_CODE:
            raise _Invalid(path, f"key {key!r} must be a completion code from 0 to {MAX_COMPLETION_CODE}")
        outcomes.append((int(key), _number(weight, f"{path}.{key}", 0)))
    return tuple(outcomes)


def _read_agent(table: _Table) -> AgentConfig:
    name = _name(table)
    password_hash = _string(table.require("password_hash"), table.path_of("password_hash"))
    try:
        check_hash_format(password_hash)
    except ValueError as exc:
        table.fail("password_hash", str(exc))
    skills = frozenset(table.strings("skills"))
    work_classes: frozenset[WorkClass] = frozenset(WorkClass)
    if table.get("work_classes") is not _MISSING:
        path = table.path_of("work_classes")
        items = _array(table.get("work_classes"), path)
        if not items:
            table.fail("work_classes", "must list at least one work class")
        work_classes = frozenset(
            WorkClass(_choice(item, f"{path}[{index}]", WorkClass)) for index, item in enumerate(items)
        )
    group = table.string("group", _DEFAULT_AGENT.group)
    if not group:
        table.fail("group", "must not be empty")
    return AgentConfig(name=name, password_hash=password_hash, skills=skills, work_classes=work_classes, group=group)


def _read_token(table: _Table, agent_groups: set[str]) -> TokenConfig:
    name = _string(table.require("name"), table.path_of("name"))
    if not name or not name.isprintable():
        table.fail("name", f"must be a non-empty line of printable text, got {_show(name)}")
    path = table.path_of("token")
    token = _string(table.require("token"), path)
    # The token travels in an HTTP header: printable ASCII without blanks.  The value is a secret, so the
    # messages describe it without quoting it.
    if len(token) < MIN_TOKEN_LENGTH:
        table.fail("token", f"must be at least {MIN_TOKEN_LENGTH} characters, got {len(token)}")
    if not all("!" <= char <= "~" for char in token):
        table.fail("token", "must be printable ASCII without spaces (it is sent in an HTTP header)")
    role = TokenRole(_choice(table.require("role"), table.path_of("role"), TokenRole))
    groups = table.strings("groups")
    campaign_control = table.boolean("campaign_control", False)
    if role is not TokenRole.SUPERVISOR:
        what = "an admin token may do everything" if role is TokenRole.ADMIN else "a viewer token may only read"
        for key in ("groups", "campaign_control"):
            if key in table.data:
                table.fail(key, f"only a supervisor token has {key} ({what})")
    elif not groups:
        table.fail("groups", "a supervisor token needs at least one agent group")
    for index, group in enumerate(groups):
        if group not in agent_groups:
            raise _Invalid(f"{table.path_of('groups')}[{index}]", f"no agent is in group {group!r}")
    return TokenConfig(
        name=name, token=token, role=role, groups=frozenset(groups), campaign_control=campaign_control
    )
