"""Unit tests of ``agt-load``'s scenario: durations, ranges, weighted codes and the TOML layout.

Every refusal is a :class:`ScenarioError` whose message names the key at fault, so each test checks the
message as well as the exception.  The example ``examples/load/demo.toml`` is read with ``tomllib``
exactly as the command line reads it.
"""

from __future__ import annotations

import math
import random
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agt_server.load import (
    Action,
    ActionKind,
    Scenario,
    ScenarioError,
    TimeRange,
    WeightedCodes,
    scenario_from_mapping,
)
from agt_server.load._scenario import MAX_AGENTS, parse_duration, parse_threshold

DEMO_TOML = Path(__file__).resolve().parents[2] / "examples" / "load" / "demo.toml"
#: What every scenario with actions needs besides them.
API = {"api": "http://127.0.0.1:8080", "token": "demo-admin"}


def refused(data: dict[str, Any], *fragments: str) -> str:
    """Check that ``data`` is refused with a message holding every fragment; return the message."""
    with pytest.raises(ScenarioError) as caught:
        scenario_from_mapping(data, "test.toml")
    message = str(caught.value)
    assert message.startswith("test.toml: "), message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    return message


class TestParseDuration:
    @pytest.mark.parametrize(
        ("text", "seconds"),
        [
            ("250ms", 0.25),
            ("60s", 60.0),
            ("2m", 120.0),
            ("1h", 3600.0),
            ("1.5s", 1.5),
            (".5s", 0.5),
            ("0", 0.0),
            (" 3s ", 3.0),
            ("12", 12.0),
            (12, 12.0),
            (1.5, 1.5),
            (0, 0.0),
        ],
    )
    def test_accepted_forms(self, text: object, seconds: float) -> None:
        """Numbers are seconds; strings may carry a unit ms, s, m or h."""
        assert parse_duration(text, "run.duration") == pytest.approx(seconds)

    @pytest.mark.parametrize(
        "value",
        [-1, -0.5, "-5s", math.nan, math.inf, -math.inf, True, False, "abc", "5 sec", "1us", "", "5s5", None, [5]],
    )
    def test_refused_forms(self, value: object) -> None:
        """Negatives, NaN, infinities, booleans and garbage are refused, and the message names the key."""
        with pytest.raises(ScenarioError, match=r"^run\.duration: "):
            parse_duration(value, "run.duration")

    @settings(max_examples=200)
    @given(st.integers(min_value=0, max_value=2**53))
    def test_units_scale(self, n: int) -> None:
        """``{n}ms`` is n thousandths of a second (to the last bit or so) and ``{n}s`` is n seconds."""
        assert parse_duration(f"{n}ms", "x") == pytest.approx(n / 1000, rel=1e-15, abs=0)
        assert parse_duration(f"{n}s", "x") == n
        assert parse_duration(n, "x") == n


class TestParseThreshold:
    def test_keyword_and_limit(self) -> None:
        """``KEYWORD=DURATION`` gives the keyword and the limit in seconds."""
        assert parse_threshold("AGTReadyNextItem=50ms", "--max-p99") == ("AGTReadyNextItem", 0.05)
        assert parse_threshold(" connect = 2s", "--max-p99") == ("connect", 2.0)

    @pytest.mark.parametrize("text", ["AGTReadyNextItem", "=50ms", "AGTLogon=fast", "AGTLogon=-1s"])
    def test_refused(self, text: str) -> None:
        """A threshold without a keyword, an equals sign or a valid duration is refused."""
        with pytest.raises(ScenarioError, match=r"^--max-p99: "):
            parse_threshold(text, "--max-p99")


class TestTimeRange:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("2s..5s", TimeRange(2.0, 5.0)),
            ("250ms..1s", TimeRange(0.25, 1.0)),
            ([2, 5], TimeRange(2.0, 5.0)),
            (["1s", "2m"], TimeRange(1.0, 120.0)),
            (3, TimeRange(3.0, 3.0)),
            ("3s", TimeRange(3.0, 3.0)),
            ("2s..2s", TimeRange(2.0, 2.0)),
        ],
    )
    def test_accepted_forms(self, value: object, expected: TimeRange) -> None:
        """A range is ``low..high``, a two-element list, or one duration (a fixed time)."""
        assert TimeRange.parse(value, "calls.talk") == expected

    def test_low_above_high_is_refused(self) -> None:
        """A range whose low end is above its high end is refused."""
        with pytest.raises(ScenarioError, match=r"^calls\.talk: .*low end 5 s is above its high end 2 s"):
            TimeRange.parse("5s..2s", "calls.talk")

    @pytest.mark.parametrize("value", [[1], [1, 2, 3], "..5s", "1s..", "a..b", "-1s..2s", True])
    def test_malformed_is_refused(self, value: object) -> None:
        """Lists of the wrong length and ends that are not durations are refused."""
        with pytest.raises(ScenarioError, match=r"^calls\.talk: "):
            TimeRange.parse(value, "calls.talk")

    @given(st.floats(0, 100), st.floats(0, 100), st.integers())
    def test_pick_stays_in_range(self, a: float, b: float, seed: int) -> None:
        """A picked duration lies between the ends."""
        low, high = sorted((a, b))
        picked = TimeRange(low, high).pick(random.Random(seed))
        assert low <= picked <= high


class TestWeightedCodes:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ({"20": 3, "21": 1}, WeightedCodes((20, 21), (3.0, 1.0))),
            ({20: 2.5}, WeightedCodes((20,), (2.5,))),
            ("20=3,21=1", WeightedCodes((20, 21), (3.0, 1.0))),
            ("20=3, 21", WeightedCodes((20, 21), (3.0, 1.0))),
            ([20, 21, 24], WeightedCodes((20, 21, 24), (1.0, 1.0, 1.0))),
            ("20=0,21=1", WeightedCodes((20, 21), (0.0, 1.0))),
        ],
    )
    def test_accepted_forms(self, value: object, expected: WeightedCodes) -> None:
        """Codes with weights come as a table, a ``code=weight`` string, or a list (equal weights)."""
        assert WeightedCodes.parse(value, "calls.codes") == expected

    @pytest.mark.parametrize(
        ("value", "fragment"),
        [
            ("20=-1", "must not be negative"),
            ({"-20": 1}, "must not be negative"),
            ([], "at least one completion code"),
            ({}, "at least one completion code"),
            ("20=0,21=0", "at least one completion code"),
            ("", "is not a completion code and a weight"),
            ("twenty=1", "is not a completion code and a weight"),
            ("20=lots", "is not a completion code and a weight"),
            ([20.5], "is not a completion code and a weight"),
            (20, "expected codes with weights"),
        ],
    )
    def test_refused(self, value: object, fragment: str) -> None:
        """Negatives, an empty set, a zero total and garbage are refused, naming the key."""
        with pytest.raises(ScenarioError) as caught:
            WeightedCodes.parse(value, "calls.codes")
        assert str(caught.value).startswith("calls.codes: ")
        assert fragment in str(caught.value)

    @pytest.mark.parametrize("value", ["20=nan,21=1", "20=inf,21=1", {"20": math.inf}, {"20": math.nan, "21": 1}])
    def test_non_finite_weights_are_refused(self, value: object) -> None:
        """A NaN or infinite weight is refused when the scenario is read (TOML has ``nan`` and ``inf``):
        otherwise every agent would fail later, at its first AGTFinishedItem, in ``random.choices``."""
        with pytest.raises(ScenarioError, match=r"^calls\.codes: "):
            WeightedCodes.parse(value, "calls.codes")

    @given(
        st.dictionaries(st.integers(0, 999), st.floats(0, 100), min_size=1).filter(lambda d: sum(d.values()) > 0),
        st.integers(),
    )
    def test_pick_only_listed_codes_with_weight(self, weights: dict[int, float], seed: int) -> None:
        """``pick`` only returns listed codes whose weight is above 0."""
        codes = WeightedCodes.parse({str(code): weight for code, weight in weights.items()}, "calls.codes")
        rng = random.Random(seed)
        allowed = {code for code, weight in weights.items() if weight > 0}
        assert {codes.pick(rng) for _ in range(50)} <= allowed


class TestSectionsAndKeys:
    def test_empty_mapping_is_the_default_scenario(self) -> None:
        """Every key is optional: an empty file gives Scenario's defaults."""
        assert scenario_from_mapping({}) == Scenario()

    def test_unknown_section(self) -> None:
        """An unknown section is refused, naming it and listing the known ones."""
        refused({"agent": {"count": 5}}, "unknown section 'agent'", "known: server, agents, run, calls, thresholds")

    def test_unknown_key(self) -> None:
        """An unknown key is refused as section.key, listing the section's keys."""
        refused({"agents": {"colour": "blue"}}, "unknown key agents.colour", "count")
        refused({"run": {"duraton": "5s"}}, "unknown key run.duraton", "duration")

    def test_section_must_be_a_table(self) -> None:
        """A section that is not a table is refused."""
        refused({"run": 5}, "[run] must be a table")

    @pytest.mark.parametrize(
        ("data", "key"),
        [
            ({"server": {"port": 0}}, "server.port"),
            ({"server": {"port": 70000}}, "server.port"),
            ({"server": {"tls": "yes"}}, "server.tls"),
            ({"server": {"host": ""}}, "server.host"),
            ({"agents": {"ramp_up": 0}}, "agents.ramp_up"),
            ({"agents": {"work_class": "X"}}, "agents.work_class"),
            ({"agents": {"preferred": ["CMP1", ""]}}, "agents.preferred"),
            ({"agents": {"preferred": [f"J{i}" for i in range(21)]}}, "agents.preferred"),
            ({"run": {"duration": "-1s"}}, "run.duration"),
            ({"run": {"seed": -1}}, "run.seed"),
            ({"calls": {"talk": "5s..1s"}}, "calls.talk"),
            ({"calls": {"callback_rate": 1.5}}, "calls.callback_rate"),
            ({"calls": {"release": 1}}, "calls.release"),
            ({"thresholds": {"max_errors": -1}}, "thresholds.max_errors"),
            ({"thresholds": {"max_p99": {"AGTLogon": "soon"}}}, "thresholds.max_p99.AGTLogon"),
            ({"thresholds": {"max_p99": 5}}, "thresholds.max_p99"),
        ],
    )
    def test_bad_values_name_their_key(self, data: dict[str, Any], key: str) -> None:
        """A value of the wrong kind or out of range is refused with the key in the message."""
        refused(data, f"test.toml: {key}")

    @pytest.mark.parametrize("count", [1, 2, MAX_AGENTS])
    def test_agent_count_in_range(self, count: int) -> None:
        """From 1 to 10,000 agents are accepted."""
        assert scenario_from_mapping({"agents": {"count": count, "ramp_up": 1000}}).agents == count

    def test_ramp_up_must_fit_in_the_duration(self) -> None:
        """Agents that would start after the stop time are refused up front (they would never run)."""
        refused({"agents": {"count": 1000, "ramp_up": 10}, "run": {"duration": 60}}, "takes 99.9 s", "ramp_up")
        assert scenario_from_mapping({"agents": {"count": 600, "ramp_up": 10}, "run": {"duration": 60}})

    @pytest.mark.parametrize("count", [0, -1, MAX_AGENTS + 1, True, 2.5])
    def test_agent_count_out_of_range(self, count: object) -> None:
        """Zero, negative, more than 10,000 and non-integer counts are refused."""
        refused({"agents": {"count": count}}, "agents.count", "from 1 to 10000")

    def test_values_read(self) -> None:
        """Keys land on their fields: names by comma string, work class upper-cased, thresholds as pairs."""
        scenario = scenario_from_mapping(
            {
                "agents": {"work_class": "b", "attach": "CMP1, CMP2,,CMP1", "preferred": []},
                "calls": {"talk": [1, 2], "codes": "20=1"},
                "thresholds": {"max_p99": ["AGTLogon=1s", "connect=250ms"], "max_errors": 3},
            }
        )
        assert scenario.work_class == "B"
        assert scenario.attach == ("CMP1", "CMP2")
        assert scenario.preferred == ()
        assert scenario.talk == TimeRange(1.0, 2.0)
        assert scenario.codes == WeightedCodes((20,), (1.0,))
        assert scenario.max_p99 == (("AGTLogon", 1.0), ("connect", 0.25))
        assert scenario.max_errors == 3

    def test_insecure_needs_tls(self) -> None:
        """``insecure`` without ``tls`` is refused (it would silently mean nothing)."""
        refused({"server": {"insecure": True}}, "server.insecure only applies with server.tls = true")
        assert scenario_from_mapping({"server": {"insecure": True, "tls": True}}).insecure


class TestActions:
    def test_sorted_by_time(self) -> None:
        """Actions are kept in the order they happen, whatever the file's order."""
        scenario = scenario_from_mapping(
            {
                "server": API,
                "actions": [
                    {"at": "30s", "do": "resume", "campaign": "CMP1"},
                    {"at": "1m", "do": "move", "campaign": "CMP2", "agents": 3},
                    {"at": 10, "do": "pause", "campaign": "CMP1"},
                    {"at": "500ms", "do": "preferred", "agents": 2, "campaigns": ["CMP4"]},
                ],
            }
        )
        assert scenario.actions == (
            Action(0.5, ActionKind.PREFERRED, None, 2, ("CMP4",)),
            Action(10.0, ActionKind.PAUSE, "CMP1"),
            Action(30.0, ActionKind.RESUME, "CMP1"),
            Action(60.0, ActionKind.MOVE, "CMP2", 3),
        )
        assert [action.label for action in scenario.actions] == [
            "preferred 2 agents -> [CMP4] @0.5s",
            "pause CMP1 @10s",
            "resume CMP1 @30s",
            "move 3 agents -> CMP2 @60s",
        ]

    @pytest.mark.parametrize(
        ("action", "fragment"),
        [
            ({"do": "pause", "campaign": "CMP1"}, "needs 'at' (when) and 'do' (what)"),
            ({"at": "1s", "campaign": "CMP1"}, "needs 'at' (when) and 'do' (what)"),
            ({"at": "1s", "do": "explode", "campaign": "CMP1"}, "actions[0].do: expected one of pause, resume"),
            ({"at": "1s", "do": "pause"}, "'pause' needs a campaign"),
            ({"at": "1s", "do": "stop"}, "'stop' needs a campaign"),
            ({"at": "1s", "do": "move", "agents": 2}, "'move' needs a campaign"),
            ({"at": "1s", "do": "move", "campaign": "CMP1"}, "'move' needs agents"),
            ({"at": "1s", "do": "preferred", "campaigns": ["CMP1"]}, "'preferred' needs agents"),
            ({"at": "-1s", "do": "pause", "campaign": "CMP1"}, "actions[0].at"),
            ({"at": "1s", "do": "pause", "campaign": "CMP1", "when": 3}, "unknown key 'when'"),
            ({"at": "1s", "do": "preferred", "agents": 2, "campaigns": 5}, "actions[0].campaigns"),
        ],
    )
    def test_refused(self, action: dict[str, Any], fragment: str) -> None:
        """An action needs at and do, a campaign for campaign actions and move, agents for preferred and move."""
        refused({"server": API, "actions": [action]}, "actions[0]", fragment)

    def test_actions_must_be_a_list_of_tables(self) -> None:
        """``actions`` is an array of tables."""
        refused({"server": API, "actions": {"at": 1}}, "actions must be an array of tables")
        refused({"server": API, "actions": ["pause"]}, "actions[0]: an action is a table")

    @pytest.mark.parametrize("server", [{}, {"api": API["api"]}, {"token": API["token"]}])
    def test_need_api_and_token(self, server: dict[str, str]) -> None:
        """Actions need the REST API's URL and a token."""
        action = {"at": "1s", "do": "pause", "campaign": "CMP1"}
        refused({"server": server, "actions": [action]}, "actions need server.api", "server.token")


class TestPatterns:
    def test_default_patterns(self) -> None:
        """By default agent 7 is load7, password load, headset 500007."""
        scenario = Scenario()
        assert (scenario.agent_name(7), scenario.agent_password(7), scenario.agent_headset(7)) == (
            "load7",
            "load",
            "500007",
        )

    def test_password_may_use_name(self) -> None:
        """The password pattern may use {name}."""
        scenario = scenario_from_mapping({"agents": {"name": "a{n}", "password": "{name}-pw"}})
        assert scenario.agent_password(3) == "a3-pw"

    def test_name_needs_n_for_several_agents(self) -> None:
        """A name without {n} gives every agent the same name: refused for more than one agent."""
        refused({"agents": {"name": "agent", "count": 2}}, "agents.name 'agent' gives every agent the same name")
        assert scenario_from_mapping({"agents": {"name": "agent1", "count": 1}}).agent_name(1) == "agent1"

    @pytest.mark.parametrize(("key", "pattern"), [("name", "load{x}"), ("password", "{"), ("headset", "{0}")])
    def test_patterns_must_format(self, key: str, pattern: str) -> None:
        """A pattern that does not format with {n} is refused."""
        refused({"agents": {key: pattern}}, f"agents.{key}", "is not a pattern with {n}")

    @pytest.mark.parametrize("pattern", ["h{n}", "{n:015}", "12345678901234{n}", "-{n}"])
    def test_headset_must_give_1_to_14_digits(self, pattern: str) -> None:
        """A headset pattern must give 1 to 14 digits."""
        refused({"agents": {"headset": pattern}}, "agents.headset must give 1-14 digits")

    def test_headset_of_14_digits(self) -> None:
        """Exactly 14 digits are accepted."""
        assert scenario_from_mapping({"agents": {"headset": "{n:014}"}}).agent_headset(1) == "00000000000001"

    def test_headset_checked_for_every_agent(self) -> None:
        """The headset check covers the last agent too: 13 digits then {n} gives 14 digits for agent 1
        but 15 for agent 10, which the server would refuse at AGTReserveHeadset."""
        refused({"agents": {"count": 10, "headset": "9999999999999{n}"}}, "agents.headset must give 1-14 digits")


class TestDemoFile:
    def test_demo_toml(self) -> None:
        """examples/load/demo.toml reads into the scenario its comments describe."""
        data = tomllib.loads(DEMO_TOML.read_text(encoding="utf-8"))
        scenario = scenario_from_mapping(data, str(DEMO_TOML))
        assert scenario == Scenario(
            host="127.0.0.1",
            port=22700,
            api="http://127.0.0.1:8080",
            token="demo-admin",
            agents=200,
            first=1,
            name="load{n}",
            password="load",
            headset="5{n:05}",
            ramp_up=100.0,
            work_class="O",
            preferred=("CMP1", "CMP2", "CMP3"),
            duration=60.0,
            drain=30.0,
            seed=7,
            talk=TimeRange(2.0, 6.0),
            wrap=TimeRange(0.5, 2.0),
            think=TimeRange(0.0, 1.0),
            release=True,
            codes=WeightedCodes((20, 21, 24), (2.0, 5.0, 3.0)),
            callback_rate=0.05,
            callback_after=7200.0,
            actions=(
                Action(20.0, ActionKind.PAUSE, "CMP1"),
                Action(35.0, ActionKind.RESUME, "CMP1"),
                Action(45.0, ActionKind.PREFERRED, None, 20, ("CMP4",)),
            ),
            max_p99=(("AGTReadyNextItem", 0.05), ("AGTFinishedItem", 0.1), ("pause", 1.0)),
            max_errors=0,
        )
