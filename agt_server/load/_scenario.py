"""What a load run does: the :class:`Scenario`, read from a TOML file and command-line flags.

A scenario is a frozen value.  :func:`scenario_from_mapping` builds one from the TOML layout (see
``examples/load/*.toml``); the command line turns its flags into the same mapping and lays them over
the file's, so a flag always wins over the file and both are checked by one piece of code.  Every
mistake raises :class:`ScenarioError` naming the key and what was expected.

Durations are numbers of seconds or strings with a unit (``250ms``, ``60s``, ``2m``, ``1h``); a
random duration is a range ``"2s..5s"`` or a two-element list ``[2, 5]`` (a single value means a fixed
duration).
"""

from __future__ import annotations

import enum
import math
import random
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

__all__ = [
    "Action",
    "ActionKind",
    "Scenario",
    "ScenarioError",
    "TimeRange",
    "WeightedCodes",
    "parse_duration",
    "parse_threshold",
    "scenario_from_mapping",
]

_DURATION = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m|h)?\s*")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}
#: The most agents one generator process is meant to hold (the design's target on 2 cores).
MAX_AGENTS = 10_000
_WORK_CLASSES = frozenset("OIBPM")


class ScenarioError(ValueError):
    """The scenario (file or flags) is wrong; the message says where and what was expected."""


def parse_duration(value: object, where: str) -> float:
    """Seconds from ``12``, ``1.5``, ``"250ms"``, ``"60s"``, ``"2m"`` or ``"1h"``; never negative."""
    if isinstance(value, bool):
        raise ScenarioError(f"{where}: expected a duration such as 60, '250ms' or '2m', got {value!r}")
    if isinstance(value, int | float):
        try:
            seconds = float(value)
        except OverflowError:
            seconds = math.inf
    elif isinstance(value, str) and (match := _DURATION.fullmatch(value)):
        seconds = float(match[1]) * _UNIT_SECONDS[match[2]]
    else:
        raise ScenarioError(f"{where}: expected a duration such as 60, '250ms' or '2m', got {value!r}")
    if not 0 <= seconds < math.inf:  # also refuses NaN
        raise ScenarioError(f"{where}: a duration must be a finite number of seconds >= 0, got {value!r}")
    return seconds


@attrs.frozen
class TimeRange:
    """A random duration, uniform between ``low`` and ``high`` seconds."""

    low: float
    high: float

    @classmethod
    def parse(cls, value: object, where: str) -> TimeRange:
        """From ``"2s..5s"``, ``[2, 5]`` or one duration (a fixed time)."""
        if isinstance(value, str) and ".." in value:
            parts: Sequence[object] = value.split("..", 1)
        elif isinstance(value, list | tuple):
            parts = value
        else:
            parts = (value, value)
        if len(parts) != 2:
            raise ScenarioError(f"{where}: expected a range such as '2s..5s' or [2, 5], got {value!r}")
        low, high = (parse_duration(part, where) for part in parts)
        if low > high:
            raise ScenarioError(f"{where}: the range's low end {low:g} s is above its high end {high:g} s")
        return cls(low, high)

    def pick(self, rng: random.Random) -> float:
        """A duration drawn from the range."""
        return self.low if self.low == self.high else rng.uniform(self.low, self.high)

    def __str__(self) -> str:
        return f"{self.low:g}s" if self.low == self.high else f"{self.low:g}s..{self.high:g}s"


@attrs.frozen
class WeightedCodes:
    """Completion codes and their relative weights: which code an agent finishes a call with."""

    codes: tuple[int, ...]
    weights: tuple[float, ...]

    @classmethod
    def parse(cls, value: object, where: str) -> WeightedCodes:
        """From a table ``{ 20 = 3, 21 = 1 }``, a string ``"20=3,21=1"`` or a list of codes (equal weights)."""
        pairs: list[tuple[object, object]]
        if isinstance(value, Mapping):
            pairs = list(value.items())
        elif isinstance(value, str):
            pairs = [tuple(item.split("=", 1)) if "=" in item else (item, 1) for item in value.split(",")]  # type: ignore[misc]
        elif isinstance(value, list | tuple):
            pairs = [(item, 1) for item in value]
        else:
            raise ScenarioError(f"{where}: expected codes with weights such as {{ 20 = 3, 21 = 1 }}, got {value!r}")
        codes, weights = [], []
        for code, weight in pairs:
            try:
                number, share = int(str(code).strip()), float(str(weight).strip())
            except ValueError:
                raise ScenarioError(f"{where}: {code!r} = {weight!r} is not a completion code and a weight") from None
            if number < 0 or not 0 <= share < math.inf:
                problem = "codes and weights must not be negative (and weights finite)"
                raise ScenarioError(f"{where}: {problem}, got {code!r} = {weight!r}")
            codes.append(number)
            weights.append(share)
        if not codes or sum(weights) <= 0:
            raise ScenarioError(f"{where}: give at least one completion code with a weight above 0")
        return cls(tuple(codes), tuple(weights))

    def pick(self, rng: random.Random) -> int:
        """A code drawn by weight."""
        return rng.choices(self.codes, self.weights)[0]

    def __str__(self) -> str:
        return ",".join(f"{code}={weight:g}" for code, weight in zip(self.codes, self.weights, strict=True))


class ActionKind(enum.Enum):
    """What a scheduled supervisor action does, through the REST API."""

    PAUSE = "pause"  #: pause ``campaign``: its agents move (the time to their notifications is measured)
    RESUME = "resume"  #: resume ``campaign``
    STOP = "stop"  #: stop ``campaign``
    START = "start"  #: start ``campaign``
    PREFERRED = "preferred"  #: set the preferred ``campaigns`` of the first ``agents`` simulated agents
    MOVE = "move"  #: move the first ``agents`` simulated agents to ``campaign``


#: The actions that act on one campaign, and those that act on agents.
_CAMPAIGN_ACTIONS = frozenset({ActionKind.PAUSE, ActionKind.RESUME, ActionKind.STOP, ActionKind.START})


@attrs.frozen
class Action:
    """A supervisor action at ``at`` seconds into the run.

    Attributes:
        at: seconds after the run started.
        kind: what to do.
        campaign: the campaign to act on (campaign actions, and the target of ``move``).
        agents: how many simulated agents (the first ones) a ``preferred`` or ``move`` acts on.
        campaigns: the preferred list a ``preferred`` action sets (empty: any campaign).
    """

    at: float
    kind: ActionKind
    campaign: str | None = None
    agents: int = 0
    campaigns: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """How the report names this action, e.g. ``pause CMP1 @20s``."""
        if self.kind is ActionKind.PREFERRED:
            target = f"{self.agents} agents -> [{','.join(self.campaigns)}]"
        elif self.kind is ActionKind.MOVE:
            target = f"{self.agents} agents -> {self.campaign}"
        else:
            target = str(self.campaign)
        return f"{self.kind.value} {target} @{self.at:g}s"


@attrs.frozen
class Scenario:
    """Everything a load run does.  Build with :func:`scenario_from_mapping`.

    Attributes:
        host, port: the AGT server.
        tls: connect with TLS; ``ca_file`` is the CA to trust (default: the system's), ``insecure``
            skips certificate checks (for self-signed test certificates such as the demo's).
        agents: how many agents to simulate; ``first`` is the number of the first.
        name, password, headset: patterns for each agent's name, password and headset id, where
            ``{n}`` is the agent's number (Python format syntax: ``{n:05}`` pads).
        ramp_up: agents started per second.
        duration: seconds from the first start until agents are told to stop.
        drain: seconds agents get after ``duration`` to finish their call and log off.
        work_class: ``AGTSetWorkClass`` sent after logon (``None``: the server default).
        preferred: the preferred list each agent sets (``None``: it sends no AGTSetPreferredJobList;
            empty: it sends an empty one, "any campaign").
        attach: jobs to attach to, in turn by agent (empty: ask the server for work with AGTAvailWork).
        talk, wrap, think: the time on a call before releasing the line, between release and finishing
            the record, and between finishing and the next AGTReadyNextItem.
        release: send AGTReleaseLine before AGTFinishedItem (unless the customer hung up).
        codes: completion codes by weight.
        callback_rate: the share of outbound calls on which the agent sets a callback
            ``callback_after`` seconds ahead before finishing.
        actions: supervisor actions, through ``api`` with ``token``.
        seed: seeds every random choice (``None``: a fresh seed each run).
        max_p99: latency thresholds in seconds by command keyword; ``max_errors`` the errors allowed.
    """

    host: str = "127.0.0.1"
    port: int = 22700
    tls: bool = False
    ca_file: Path | None = None
    insecure: bool = False
    agents: int = 100
    first: int = 1
    name: str = "load{n}"
    password: str = "load"
    headset: str = "5{n:05}"
    ramp_up: float = 100.0
    duration: float = 60.0
    drain: float = 30.0
    work_class: str | None = None
    preferred: tuple[str, ...] | None = None
    attach: tuple[str, ...] = ()
    talk: TimeRange = TimeRange(2.0, 6.0)
    wrap: TimeRange = TimeRange(0.5, 2.0)
    think: TimeRange = TimeRange(0.0, 1.0)
    release: bool = True
    codes: WeightedCodes = WeightedCodes((20, 21, 24), (2.0, 5.0, 3.0))
    callback_rate: float = 0.0
    callback_after: float = 7200.0
    actions: tuple[Action, ...] = ()
    api: str | None = None
    token: str | None = None
    seed: int | None = None
    max_p99: tuple[tuple[str, float], ...] = ()
    max_errors: int | None = None

    def agent_name(self, number: int) -> str:
        """The name of agent ``number``."""
        return self.name.format(n=number)

    def agent_password(self, number: int) -> str:
        """The password of agent ``number`` (the pattern may use ``{n}`` and ``{name}``)."""
        return self.password.format(n=number, name=self.agent_name(number))

    def agent_headset(self, number: int) -> str:
        """The headset id agent ``number`` reserves."""
        return self.headset.format(n=number)


def parse_threshold(text: str, where: str) -> tuple[str, float]:
    """``"AGTReadyNextItem=50ms"`` -> ``("AGTReadyNextItem", 0.05)``."""
    keyword, equals, limit = text.partition("=")
    if not equals or not keyword.strip():
        raise ScenarioError(f"{where}: expected KEYWORD=DURATION such as AGTReadyNextItem=50ms, got {text!r}")
    return keyword.strip(), parse_duration(limit, where)


# -- building a scenario from the TOML layout -----------------------------------------------------

_SECTIONS: dict[str, frozenset[str]] = {
    "server": frozenset({"host", "port", "tls", "ca_file", "insecure", "api", "token"}),
    "agents": frozenset(
        {"count", "first", "name", "password", "headset", "ramp_up", "work_class", "preferred", "attach"}
    ),
    "run": frozenset({"duration", "drain", "seed"}),
    "calls": frozenset({"talk", "wrap", "think", "release", "codes", "callback_rate", "callback_after"}),
    "thresholds": frozenset({"max_p99", "max_errors"}),
}
_ACTION_KEYS = frozenset({"at", "do", "campaign", "agents", "campaigns"})


def scenario_from_mapping(data: Mapping[str, Any], source: str = "scenario") -> Scenario:
    """Check ``data`` (the TOML layout: sections server, agents, run, calls, thresholds and a list
    ``actions``) and build the scenario; absent keys keep :class:`Scenario`'s defaults.

    Raises:
        ScenarioError: an unknown section or key, or a value of the wrong kind or out of range.
    """
    unknown = set(data) - set(_SECTIONS) - {"actions"}
    if unknown:
        known = ", ".join([*_SECTIONS, "actions"])
        raise ScenarioError(f"{source}: unknown section {sorted(unknown)[0]!r} (known: {known})")
    fields: dict[str, Any] = {}
    for section, keys in _SECTIONS.items():
        table = data.get(section, {})
        if not isinstance(table, Mapping):
            raise ScenarioError(f"{source}: [{section}] must be a table")
        extra = set(table) - keys
        if extra:
            known = ", ".join(sorted(keys))
            raise ScenarioError(f"{source}: unknown key {section}.{sorted(extra)[0]} (known: {known})")
        for key, value in table.items():
            if value is not None:
                _read_key(fields, f"{source}: {section}.{key}", section, key, value)
    actions = data.get("actions", [])
    if not isinstance(actions, list):
        raise ScenarioError(f"{source}: actions must be an array of tables ([[actions]])")
    fields["actions"] = tuple(
        sorted((_read_action(item, f"{source}: actions[{index}]") for index, item in enumerate(actions)), key=_at)
    )
    scenario = Scenario(**fields)
    _check_whole(scenario, source)
    return scenario


def _at(action: Action) -> float:
    return action.at


def _read_key(fields: dict[str, Any], where: str, section: str, key: str, value: object) -> None:
    match section, key:
        case ("server", "host" | "api" | "token") | ("agents", "name" | "password" | "headset"):
            fields[key] = _string(value, where)
        case ("server", "port"):
            fields["port"] = _integer(value, where, 1, 65535)
        case ("server", "tls" | "insecure") | ("calls", "release"):
            fields[key] = _boolean(value, where)
        case ("server", "ca_file"):
            fields["ca_file"] = Path(_string(value, where))
        case ("agents", "count"):
            fields["agents"] = _integer(value, where, 1, MAX_AGENTS)
        case ("agents", "first"):
            fields["first"] = _integer(value, where, 0, 10**9)
        case ("agents", "ramp_up"):
            fields["ramp_up"] = _number(value, where, above=0)
        case ("agents", "work_class"):
            work_class = _string(value, where).upper()
            if work_class not in _WORK_CLASSES:
                raise ScenarioError(f"{where}: expected one of O, I, B, P, M, got {value!r}")
            fields["work_class"] = work_class
        case ("agents", "preferred" | "attach"):
            fields[key] = _names(value, where)
        case ("run", "duration" | "drain") | ("calls", "callback_after"):
            fields[key] = parse_duration(value, where)
        case ("run", "seed"):
            fields["seed"] = _integer(value, where, 0, 2**63)
        case ("calls", "talk" | "wrap" | "think"):
            fields[key] = TimeRange.parse(value, where)
        case ("calls", "codes"):
            fields["codes"] = WeightedCodes.parse(value, where)
        case ("calls", "callback_rate"):
            rate = _number(value, where)
            if rate > 1:
                raise ScenarioError(f"{where}: a share between 0 and 1, got {value!r}")
            fields["callback_rate"] = rate
        case ("thresholds", "max_p99"):
            fields["max_p99"] = _thresholds(value, where)
        case ("thresholds", "max_errors"):
            fields["max_errors"] = _integer(value, where, 0, 2**63)
        case _:  # pragma: no cover - _SECTIONS and this match list the same keys
            raise AssertionError(f"{section}.{key} has no reader")


def _read_action(item: object, where: str) -> Action:
    if not isinstance(item, Mapping):
        raise ScenarioError(f"{where}: an action is a table with at least 'at' and 'do'")
    extra = set(item) - _ACTION_KEYS
    if extra:
        raise ScenarioError(f"{where}: unknown key {sorted(extra)[0]!r} (known: {', '.join(sorted(_ACTION_KEYS))})")
    if "at" not in item or "do" not in item:
        raise ScenarioError(f"{where}: an action needs 'at' (when) and 'do' (what)")
    try:
        kind = ActionKind(item["do"])
    except ValueError:
        known = ", ".join(kind.value for kind in ActionKind)
        raise ScenarioError(f"{where}.do: expected one of {known}, got {item['do']!r}") from None
    campaign = _string(item["campaign"], f"{where}.campaign") if "campaign" in item else None
    agents = _integer(item.get("agents", 0), f"{where}.agents", 0, MAX_AGENTS)
    campaigns = _names(item.get("campaigns", []), f"{where}.campaigns")
    if (kind in _CAMPAIGN_ACTIONS or kind is ActionKind.MOVE) and campaign is None:
        raise ScenarioError(f"{where}: '{kind.value}' needs a campaign")
    if kind in (ActionKind.PREFERRED, ActionKind.MOVE) and agents == 0:
        raise ScenarioError(f"{where}: '{kind.value}' needs agents = <how many of the first agents>")
    return Action(parse_duration(item["at"], f"{where}.at"), kind, campaign, agents, campaigns)


def _check_whole(scenario: Scenario, source: str) -> None:
    """What no single key can check: patterns that format, and what actions need."""
    first, last = scenario.first, scenario.first + scenario.agents - 1
    for key, pattern in (("name", scenario.name), ("password", scenario.password), ("headset", scenario.headset)):
        for number in (first, last):
            try:
                value = pattern.format(n=number, name="x")
            except (KeyError, IndexError, ValueError) as exc:
                problem = f"agents.{key}: {pattern!r} is not a pattern with {{n}} ({exc})"
                raise ScenarioError(f"{source}: {problem}") from None
            if key == "headset" and not (value.isdigit() and len(value) <= 14):
                raise ScenarioError(
                    f"{source}: agents.headset must give 1-14 digits, {pattern!r} gives {value!r} for agent {number}"
                )
    if scenario.agents > 1 and scenario.agent_name(first) == scenario.agent_name(last):
        raise ScenarioError(f"{source}: agents.name {scenario.name!r} gives every agent the same name; use {{n}}")
    ramp = (scenario.agents - 1) / scenario.ramp_up
    if ramp >= scenario.duration:
        raise ScenarioError(
            f"{source}: starting {scenario.agents} agents at {scenario.ramp_up:g} per second takes {ramp:g} s, "
            f"not less than run.duration ({scenario.duration:g} s): raise agents.ramp_up or the duration"
        )
    if scenario.actions and not (scenario.api and scenario.token):
        raise ScenarioError(f"{source}: actions need server.api (the REST API's URL) and server.token")
    if scenario.insecure and not scenario.tls:
        raise ScenarioError(f"{source}: server.insecure only applies with server.tls = true")


def _string(value: object, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise ScenarioError(f"{where}: expected a non-empty string, got {value!r}")
    return value


def _boolean(value: object, where: str) -> bool:
    if not isinstance(value, bool):
        raise ScenarioError(f"{where}: expected true or false, got {value!r}")
    return value


def _integer(value: object, where: str, low: int, high: int) -> int:
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ScenarioError(f"{where}: expected a whole number from {low} to {high}, got {value!r}")
    return value


def _number(value: object, where: str, *, above: float | None = None) -> float:
    try:
        number = float(value) if isinstance(value, int | float | str) and not isinstance(value, bool) else None
    except ValueError:
        number = None
    if number is None or not 0 <= number < math.inf or (above is not None and number <= above):
        limit = f"above {above:g}" if above is not None else ">= 0"
        raise ScenarioError(f"{where}: expected a number {limit}, got {value!r}")
    return number


def _names(value: object, where: str) -> tuple[str, ...]:
    """Job names from a list or a comma-separated string (an empty string or list: none)."""
    if isinstance(value, str):
        items: list[object] = [part.strip() for part in value.split(",") if part.strip()]
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        raise ScenarioError(f"{where}: expected a list of job names, got {value!r}")
    if not all(isinstance(item, str) and item and "," not in item for item in items):
        raise ScenarioError(f"{where}: expected job names (non-empty strings without commas), got {value!r}")
    if len(items) > 20:
        raise ScenarioError(f"{where}: at most 20 jobs, got {len(items)}")
    return tuple(str(item) for item in dict.fromkeys(items))


def _thresholds(value: object, where: str) -> tuple[tuple[str, float], ...]:
    if isinstance(value, Mapping):
        return tuple((str(keyword), parse_duration(limit, f"{where}.{keyword}")) for keyword, limit in value.items())
    if isinstance(value, list | tuple):
        return tuple(parse_threshold(str(item), where) for item in value)
    raise ScenarioError(f"{where}: expected a table such as {{ AGTReadyNextItem = '50ms' }}, got {value!r}")
