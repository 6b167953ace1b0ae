"""Tests for the dialer simulation through the engine: calls, outcomes, retries, demand, dialed-out jobs,
restarts, managed previews, customer hang-ups, inbound arrivals, callbacks and lost agents.

Everything runs through :meth:`Engine.handle` and :meth:`Engine.tick` with the clock in the test's hands
(``helpers.Driver``; ``advance`` ticks at every deadline on the way).  The site is the demo with small
generated calling lists (three records each unless a test says otherwise), a fixed seed, and a dialer
without delays: dials happen at once, every dial is answered (or none is), no caller rings and no
customer hangs up, unless a test changes that.  Store writes are read from the effects; where the
store's own rules matter they are committed to a :class:`MemoryStore`, which is also what restarts
resume from.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agt_server.config import (
    CallbackOwner,
    CallingListConfig,
    ContactRecord,
    DialingConfig,
    FieldSpec,
    SimulationConfig,
    SiteConfig,
    load_all,
)
from agt_server.engine import (
    STORE_WRITE_TYPES,
    CallbackDone,
    CallbackScheduled,
    Effect,
    Engine,
    JobStateChanged,
    RecordAttempt,
    RecordStarted,
    Send,
    StoredCallback,
    StoredState,
)
from agt_server.protocol import MAX_CLIENT_READ, CompletionCode, MessageType, encode
from agt_server.store import MemoryStore

from .helpers import Driver, demo

#: 2025-06-15 15:06:40 UTC: a clock for the tests that schedule callbacks (they need a real date).
T0 = 1_750_000_000.0
#: The demo's calling lists, by the job that dials them.
LISTS = {
    "CMP1": "cmp1_list",
    "CMP2": "cmp2_list",
    "CMP3": "cmp3_list",
    "CMP4": "cmp4_list",
    "BLEND1": "blend1_list",
    "PREVIEW1": "preview1_list",
    "INBOUND1": "inbound_calls",
}
#: Dial at once, every dial answered, nobody calls in, nobody hangs up.
FAST = DialingConfig(dial_delay=(0.0, 0.0), answer_rate=1.0, inbound_rate=0.0, hangup_rate=0.0, retry_delay=60.0)
#: Nobody answers: every dial ends with a dialer outcome.
UNANSWERED = attrs.evolve(FAST, answer_rate=0.0)
#: The completion codes of the dialer's default outcomes table (busy, no answer, answering machine).
DIALER_CODES = {code for code, _ in FAST.outcomes}


# -- the site ------------------------------------------------------------------------------------------


def site(
    records: int = 3,
    *,
    dialing: DialingConfig = FAST,
    seed: int = 7,
    sizes: dict[str, int] | None = None,
    jobs: dict[str, dict[str, object]] | None = None,
    dwell_time: float = 30.0,
) -> SiteConfig:
    """The demo with ``records`` generated records per list (``sizes`` per list name), ``dialing`` for every
    job and the simulation seeded; ``jobs`` evolves single jobs (e.g. ``{"CMP1": {"max_agents": 2}}``)."""
    changes = {job: {"dialing": dialing} for job in LISTS}
    for job, change in (jobs or {}).items():
        changes[job] = {**changes[job], **change}
    config = demo(dwell_time=dwell_time, **changes)
    lists = tuple(
        attrs.evolve(calling_list, generated_records=(sizes or {}).get(calling_list.name, records))
        for calling_list in config.calling_lists
    )
    return attrs.evolve(config, calling_lists=lists, simulation=SimulationConfig(seed=seed, database=":memory:"))


def dialing_for(job: str, **changes: object) -> dict[str, dict[str, object]]:
    """``site(jobs=...)`` changes giving ``job`` the FAST dialing changed by ``changes``."""
    return {job: {"dialing": attrs.evolve(FAST, **changes)}}


def driver(config: SiteConfig, *, stored: StoredState | None = None, now: float = 0.0) -> Driver:
    """A driver for ``config`` with its calling lists' records loaded (the dialer dials them)."""
    return Driver(Engine.from_config(config, records=load_all(config), stored=stored), now=now)


def ids(config: SiteConfig, job: str) -> list[str]:
    """The record ids of ``job``'s calling list, in list order."""
    return [record.record_id for record in load_all(config)[LISTS[job]]]


def record(config: SiteConfig, job: str, record_id: str) -> ContactRecord:
    """One record of ``job``'s calling list."""
    return next(r for r in load_all(config)[LISTS[job]] if r.record_id == record_id)


def value(config: SiteConfig, job: str, record_id: str, field: str) -> str:
    """A field's value in one record of ``job``'s calling list."""
    return dict(record(config, job, record_id).fields)[field]


# -- agents --------------------------------------------------------------------------------------------


def join(
    d: Driver,
    agent: str,
    job: str,
    *,
    fields: Sequence[str] = (),
    key: str | None = "ACCTNUM",
    list_type: str = "O",
    work_class: str | None = None,
    ready: bool = True,
) -> None:
    """Log ``agent`` on (a manual PC agent), attach ``job``, choose its key and data fields, join the job
    and (unless ``ready`` is false) ask for the next record."""
    d.logon(agent)
    if work_class is not None:
        d.expect_ok(agent, "AGTSetWorkClass", work_class)
    d.expect_ok(agent, "AGTAttachJob", job)
    if key is not None:
        d.expect_ok(agent, "AGTSetNotifyKeyField", list_type, key)
    for field in fields:
        d.expect_ok(agent, "AGTSetDataField", list_type, field)
    d.expect_ok(agent, "AGTAvailWork")
    if ready:
        d.expect_ok(agent, "AGTReadyNextItem")
    d.take(agent)


def prefer(d: Driver, agent: str, first: str, *others: str) -> None:
    """Log ``agent`` on and put it, server-assigned, on ``first`` with the preferred list ``first, *others``
    (first alone, so the server has no choice, then the whole list: ``first`` is still a candidate, it
    stays); it ends ready, with ACCTNUM as its key field."""
    d.logon(agent)
    d.set_list(agent, first)
    assert d.job_of(agent) == first
    if others:
        d.set_list(agent, first, *others)
        assert d.job_of(agent) == first
    d.expect_ok(agent, "AGTSetNotifyKeyField", "O", "ACCTNUM")
    d.expect_ok(agent, "AGTAvailWork")
    d.expect_ok(agent, "AGTReadyNextItem")
    d.take(agent)


def parts(d: Driver, agent: str, keyword: str = "AGTCallNotify") -> list[tuple[str, ...]]:
    """The messages of the ``keyword`` notifications ``agent`` received (segments), taking them out of its
    inbox (the other messages stay).

    Each must be a notification with invoke id 0 and at most 256 bytes on the wire.
    """
    found = []
    inbox = d.inbox[agent]
    d.inbox[agent] = [message for message in inbox if message.keyword != keyword]
    for message in inbox:
        if message.keyword != keyword:
            continue
        assert message.type is MessageType.NOTIFICATION, message
        assert message.invoke_id == "0", message
        assert len(encode(message)) <= MAX_CLIENT_READ, message
        found.append(message.segments)
    return found


def offered(d: Driver, agent: str, keyword: str = "AGTCallNotify") -> str | None:
    """The key field value (``ACCTNUM``: the record id) of the one call ``agent`` was offered since the
    last read, or ``None`` when none was; checks the notification's three parts."""
    messages = parts(d, agent, keyword)
    if not messages:
        return None
    assert messages[0][:2] == ("0", "M00001"), messages
    assert messages[-1] == ("0", "M00000"), messages
    assert sum(1 for m in messages if m == ("0", "M00000")) == 1, messages
    key = messages[0][-1]
    assert key.startswith("ACCTNUM,"), messages
    return key.removeprefix("ACCTNUM,")


def finish(d: Driver, agent: str, code: str = "20") -> list[Effect]:
    """``agent`` finishes its record with ``code`` (which must be accepted); returns the effects."""
    start = len(d.log)
    d.expect_ok(agent, "AGTFinishedItem", code)
    return d.log[start:]


def of_type(effects: Iterable[object], kind: type) -> list:
    """The effects of one type, in order."""
    return [effect for effect in effects if isinstance(effect, kind)]


def attempts(d: Driver, job: str | None = None) -> list[RecordAttempt]:
    """Every RecordAttempt the engine has written so far (of ``job`` only, if given)."""
    return [a for a in of_type(d.log, RecordAttempt) if job is None or a.job == job]


def sent_to(effects: Iterable[object], conn: int) -> list[Send]:
    """The messages among ``effects`` that went to connection ``conn``."""
    return [effect for effect in effects if isinstance(effect, Send) and effect.conn == conn]


def commit_all(d: Driver, store: MemoryStore | None = None) -> MemoryStore:
    """Commit every store write of the run, in order, to a memory store (which enforces the store's rules:
    an attempt of a record is recorded once, a callback is scheduled once)."""
    store = store or MemoryStore()
    store.commit([effect for effect in d.log if isinstance(effect, STORE_WRITE_TYPES)])
    return store


def work_through(d: Driver, agent: str, limit: int = 20) -> list[str]:
    """``agent`` (ready) takes and finishes calls until none comes; returns the offered record ids."""
    seen = []
    for _ in range(limit):
        d.advance(0)
        record_id = offered(d, agent)
        if record_id is None:
            return seen
        seen.append(record_id)
        finish(d, agent)
        if d.session(agent).job is None or d.state_of(agent) != f"S70002,{d.job_of(agent)}":
            return seen
        d.expect_ok(agent, "AGTReadyNextItem")
    raise AssertionError(f"more than {limit} calls: {seen}")


# -- AGTCallNotify -------------------------------------------------------------------------------------


class TestCallNotify:
    """A ready agent gets the next record as AGTCallNotify: three parts, each at most 256 bytes."""

    def test_ready_agent_gets_the_first_record(self) -> None:
        """First ``0 M00001 <NAME> OUTBOUND ACCTNUM,<id>``, then the chosen fields in the order chosen,
        then ``0 M00000``; the agent is S70000 and the record has left the queue (RecordStarted)."""
        config = site()
        d = driver(config)
        join(d, "agent1", "CMP1", fields=("CITY", "NAME", "PHONE1"))
        effects = d.advance(0)
        first = ids(config, "CMP1")[0]
        v = {field: value(config, "CMP1", first, field) for field in ("NAME", "CITY", "PHONE1")}
        assert parts(d, "agent1") == [
            ("0", "M00001", v["NAME"], "OUTBOUND", f"ACCTNUM,{first}"),
            ("0", "M00001", f"CITY,{v['CITY']}", f"NAME,{v['NAME']}", f"PHONE1,{v['PHONE1']}"),
            ("0", "M00000"),
        ]
        assert d.state_of("agent1") == "S70000,CMP1"
        assert of_type(effects, RecordStarted) == [RecordStarted("CMP1", first, 0.0)]

    def test_without_key_and_data_fields(self) -> None:
        """No key field chosen: the first part ends with the call type; no fields: no middle part."""
        config = site()
        d = driver(config)
        join(d, "agent1", "CMP1", key=None)
        d.advance(0)
        name = value(config, "CMP1", ids(config, "CMP1")[0], "NAME")
        assert parts(d, "agent1") == [("0", "M00001", name, "OUTBOUND"), ("0", "M00000")]

    def test_not_before_the_dial_delay(self) -> None:
        """The call comes the job's dial delay after the agent is ready, not before."""
        d = driver(site(dialing=attrs.evolve(FAST, dial_delay=(5.0, 5.0))))
        join(d, "agent1", "CMP1")
        d.advance(4.9)
        assert offered(d, "agent1") is None
        assert d.state_of("agent1") == "S70001,CMP1"
        d.advance(0.1)
        assert offered(d, "agent1") is not None
        assert d.state_of("agent1") == "S70000,CMP1"

    def test_available_agent_gets_no_call(self) -> None:
        """Only a ready agent (AGTReadyNextItem) is given a record."""
        d = driver(site())
        join(d, "agent1", "CMP1", ready=False)
        d.advance(100)
        assert offered(d, "agent1") is None
        assert d.state_of("agent1") == "S70002,CMP1"

    def test_without_records_the_dialer_dials_nothing(self) -> None:
        """An engine given no records places no calls (and the jobs' demand is not limited)."""
        d = Driver(Engine.from_config(site()))
        join(d, "agent1", "CMP1")
        d.advance(600)
        assert offered(d, "agent1") is None
        assert d.engine.capacity("CMP1") is None
        assert of_type(d.log, RecordStarted) == []

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        values=st.lists(
            st.text(st.characters(codec="latin-1", exclude_categories=("Cc",)), max_size=150), min_size=5, max_size=5
        ),
        order=st.permutations(["F1", "F2", "F3", "F4", "F5"]),
        chosen=st.integers(1, 5),
    )
    def test_fields_in_chosen_order_and_messages_within_256_bytes(
        self, values: list[str], order: list[str], chosen: int
    ) -> None:
        """However long the values, the chosen fields arrive complete, in the order chosen, spread over
        messages of at most 256 bytes."""
        names = ["F1", "F2", "F3", "F4", "F5"]
        fields = (FieldSpec("ACCTNUM", 16), *(FieldSpec(name, 150) for name in names))
        config = site()
        config = attrs.evolve(
            config,
            calling_lists=tuple(
                CallingListConfig("cmp1_list", fields) if c.name == "cmp1_list" else c for c in config.calling_lists
            ),
        )
        the_record = ContactRecord("1234", (("ACCTNUM", "1234"), *zip(names, values, strict=True)))
        d = Driver(Engine.from_config(config, records={"cmp1_list": (the_record,)}))
        join(d, "agent1", "CMP1", fields=order[:chosen])
        d.advance(0)
        messages = parts(d, "agent1")  # checks the 256 bytes
        assert messages[0] == ("0", "M00001", "1234", "OUTBOUND", "ACCTNUM,1234")
        assert messages[-1] == ("0", "M00000")
        middle = messages[1:-1]
        assert all(m[:2] == ("0", "M00001") for m in middle)
        by_name = dict(zip(names, values, strict=True))
        assert [segment for m in middle for segment in m[2:]] == [f"{name},{by_name[name]}" for name in order[:chosen]]

    def test_value_longer_than_a_message_is_cut_to_fit(self) -> None:
        """A customer name and a field value that cannot fit in one message are cut so that every message
        stays within 256 bytes; the fields after it still arrive whole."""
        config = site()
        name, note = "N" * 300, "x" * 400
        the_record = ContactRecord("1234", (("ACCTNUM", "1234"), ("NAME", name), ("CITY", note), ("PHONE1", "555")))
        d = Driver(Engine.from_config(config, records={"cmp1_list": (the_record,)}))
        join(d, "agent1", "CMP1", fields=("CITY", "PHONE1"))
        d.advance(0)
        messages = parts(d, "agent1")  # checks the 256 bytes
        assert messages[0][2].startswith("NNNN")
        assert messages[0][3:] == ("OUTBOUND", "ACCTNUM,1234")
        data = [segment for m in messages[1:-1] for segment in m[2:]]
        assert len(data) == 2
        assert data[0].startswith("CITY,xxxx")
        assert note.startswith(data[0].removeprefix("CITY,"))
        assert data[1] == "PHONE1,555"
        assert messages[-1] == ("0", "M00000")


# -- finishing records ---------------------------------------------------------------------------------


class TestFinishing:
    """AGTFinishedItem checks the code against the job's keys, records the outcome, and frees the agent."""

    def test_valid_code_records_a_final_attempt(self) -> None:
        """A valid key: ``R 0 M00000``, RecordAttempt(final, agent) and the agent is available (S70002)."""
        config = site()
        d = driver(config)
        join(d, "agent1", "CMP1")
        d.advance(3)
        first = offered(d, "agent1")
        assert first == ids(config, "CMP1")[0]
        effects = finish(d, "agent1", "20")
        assert of_type(effects, RecordAttempt) == [RecordAttempt("CMP1", first, 1, 20, "agent1", 3.0, True)]
        assert d.state_of("agent1") == "S70002,CMP1"
        d.advance(10)
        assert offered(d, "agent1") is None  # available, not ready: no next call

    def test_leading_zeros_accepted(self) -> None:
        """``020`` is code 20."""
        d = driver(site())
        join(d, "agent1", "CMP1")
        d.advance(0)
        offered(d, "agent1")
        assert [a.code for a in of_type(finish(d, "agent1", "020"), RecordAttempt)] == [20]

    @pytest.mark.parametrize("code", ["99", "19", "abc", "", "-20"])
    def test_invalid_code_refused(self, code: str) -> None:
        """A code that is not one of the job's keys gets ``E28947,<code>``; the record stays open."""
        d = driver(site())
        join(d, "agent1", "CMP1")
        d.advance(0)
        record_id = offered(d, "agent1")
        start = len(d.log)
        assert d.refusal("agent1", "AGTFinishedItem", code) == (f"E28947,{code}" if code else "E28947",)
        assert of_type(d.log[start:], RecordAttempt) == []
        assert d.state_of("agent1") == "S70000,CMP1"
        assert of_type(finish(d, "agent1", "21"), RecordAttempt)[0].record_id == record_id

    def test_no_record_to_finish(self) -> None:
        """AGTFinishedItem without a record: ``E28919``."""
        d = driver(site())
        join(d, "agent1", "CMP1", ready=False)
        assert d.refusal("agent1", "AGTFinishedItem", "20") == ("E28919",)

    def test_every_record_offered_once_in_list_order(self) -> None:
        """A finished record is never offered again: one agent works the list in order, then nothing comes."""
        config = site(records=4)
        d = driver(config)
        join(d, "agent1", "CMP1")
        assert work_through(d, "agent1") == ids(config, "CMP1")
        assert [(a.record_id, a.attempt, a.final) for a in attempts(d)] == [
            (record_id, 1, True) for record_id in ids(config, "CMP1")
        ]

    def test_read_and_update_field(self) -> None:
        """AGTReadField answers ``<field>,<type>,<length>,<value>``; AGTUpdateField changes the value (at most
        the field's length); without a record both answer E28912."""
        config = site()
        d = driver(config)
        join(d, "agent1", "CMP1")
        d.advance(0)
        record_id = offered(d, "agent1")
        name = value(config, "CMP1", record_id, "NAME")
        replies = d.expect_ok("agent1", "AGTReadField", "O", "NAME")
        assert [r.segments for r in replies] == [("0", "M00001", f"NAME,C,26,{name}"), ("0", "M00000")]
        d.expect_ok("agent1", "AGTUpdateField", "O", "CITY", "Paris")
        replies = d.expect_ok("agent1", "AGTReadField", "O", "CITY")
        assert replies[0].segments == ("0", "M00001", "CITY,C,20,Paris")
        assert d.refusal("agent1", "AGTUpdateField", "O", "CITY", "X" * 21)[0] == "E28900"
        finish(d, "agent1")
        assert d.refusal("agent1", "AGTReadField", "O", "NAME") == ("E28912",)
        assert d.refusal("agent1", "AGTUpdateField", "O", "CITY", "Rome") == ("E28912",)


# -- dialer outcomes and retries -----------------------------------------------------------------------


class TestDialerOutcomes:
    """Unanswered dials end with an outcome of the job's table, recorded without the agent, and are retried
    after the retry delay until ``max_attempts``."""

    def test_unanswered_dials_are_recorded_without_the_agent(self) -> None:
        """answer_rate 0: every record gets attempt 1 with a code of the outcomes table, agent None, not
        final; the agent hears nothing and stays ready."""
        config = site(dialing=UNANSWERED)
        d = driver(config)
        join(d, "agent1", "CMP1")
        d.advance(0)
        found = attempts(d)
        assert [(a.record_id, a.attempt, a.agent, a.final) for a in found] == [
            (record_id, 1, None, False) for record_id in ids(config, "CMP1")
        ]
        assert {a.code for a in found} <= DIALER_CODES
        assert offered(d, "agent1") is None
        assert d.state_of("agent1") == "S70001,CMP1"
        assert [r.record_id for r in of_type(d.log, RecordStarted)] == ids(config, "CMP1")

    @pytest.mark.parametrize("table", [((13, 1.0),), ((11, 1.0), (15, 0.0)), ((15, 3.0), (13, 1.0))])
    def test_codes_come_from_the_outcomes_table(self, table: tuple[tuple[int, float], ...]) -> None:
        """Only codes with a weight above zero are recorded."""
        config = site(records=6, dialing=attrs.evolve(UNANSWERED, outcomes=table, max_attempts=1))
        d = driver(config)
        join(d, "agent1", "CMP1")
        d.advance(0)
        assert len(attempts(d)) == 6
        assert {a.code for a in attempts(d)} <= {code for code, weight in table if weight > 0}

    def test_retried_after_the_retry_delay_final_after_max_attempts(self) -> None:
        """Attempt 2 comes only after retry_delay; attempt 3 (max_attempts) is final and the job completes."""
        config = site(dialing=attrs.evolve(UNANSWERED, retry_delay=60.0, max_attempts=3))
        d = driver(config)
        join(d, "agent1", "CMP1")
        d.advance(0)
        assert len(attempts(d)) == 3
        d.advance(59.9)
        assert len(attempts(d)) == 3
        d.advance(0.1)
        assert [(a.attempt, a.final, a.at) for a in attempts(d)[3:]] == [(2, False, 60.0)] * 3
        d.advance(60)
        third = attempts(d)[6:]
        assert sorted((a.record_id, a.attempt, a.final, a.at) for a in third) == sorted(
            (record_id, 3, True, 120.0) for record_id in ids(config, "CMP1")
        )
        assert JobStateChanged("CMP1", "completed", "dialer", 120.0) in d.log
        d.advance(600)
        assert len(attempts(d)) == 9

    def test_one_attempt_is_final(self) -> None:
        """max_attempts 1: the first unanswered dial finishes the record."""
        d = driver(site(dialing=attrs.evolve(UNANSWERED, max_attempts=1)))
        join(d, "agent1", "CMP1")
        d.advance(0)
        assert [(a.attempt, a.final) for a in attempts(d)] == [(1, True)] * 3

    def test_same_seed_same_run(self) -> None:
        """The dialer's choices come from the seeded generator: the same seed gives the same run."""

        def run() -> list[object]:
            d = driver(site(records=8, dialing=attrs.evolve(FAST, answer_rate=0.5, dial_delay=(0.0, 5.0))))
            join(d, "agent1", "CMP1")
            for _ in range(30):
                d.advance(7)
                if offered(d, "agent1") is not None:
                    finish(d, "agent1")
                    d.expect_ok("agent1", "AGTReadyNextItem")
            return d.log

        first = run()
        assert len(of_type(first, RecordAttempt)) > 8  # some dials went unanswered, and were retried
        assert run() == first

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        seed=st.integers(0, 2**32),
        answer_rate=st.sampled_from([0.0, 0.3, 0.7, 1.0]),
        max_attempts=st.integers(1, 3),
        records=st.integers(1, 4),
        agents=st.integers(1, 2),
    )
    def test_every_record_ends_exactly_once(
        self, seed: int, answer_rate: float, max_attempts: int, records: int, agents: int
    ) -> None:
        """Whatever the dialer decides: attempts of a record are numbered 1, 2, … with at most max_attempts
        dialer outcomes, exactly one final attempt which is its last, the store accepts every write, and the
        job completes once every record is final."""
        dialing = attrs.evolve(FAST, answer_rate=answer_rate, max_attempts=max_attempts, retry_delay=10.0)
        config = site(records, dialing=dialing, seed=seed)
        d = driver(config)
        names = [f"agent{n}" for n in range(1, agents + 1)]
        for name in names:
            join(d, name, "CMP1")
        for _ in range(200):
            d.advance(5)
            for name in names:
                if offered(d, name) is not None:
                    finish(d, name)
                    if d.state_of(name) == "S70002,CMP1":
                        d.expect_ok(name, "AGTReadyNextItem")
            if not d.engine.jobs["CMP1"].running:
                break
        by_record: dict[str, list[RecordAttempt]] = {}
        for attempt in attempts(d, "CMP1"):
            by_record.setdefault(attempt.record_id, []).append(attempt)
        assert set(by_record) == set(ids(config, "CMP1"))
        for history in by_record.values():
            assert [a.attempt for a in history] == list(range(1, len(history) + 1))
            assert [a.final for a in history] == [False] * (len(history) - 1) + [True]
            assert all(a.agent is None for a in history[:-1])
            assert all(a.code in DIALER_CODES for a in history if a.agent is None)
            assert len(history) <= max_attempts
        assert [c for c in of_type(d.log, JobStateChanged) if c.job == "CMP1"] == [
            JobStateChanged("CMP1", "completed", "dialer", max(a.at for a in attempts(d, "CMP1")))
        ]
        commit_all(d)


# -- demand --------------------------------------------------------------------------------------------


class TestDemand:
    """A job's demand for agents is its outstanding records: capacity = min(max_agents, outstanding)."""

    @pytest.mark.parametrize(("maximum", "expected"), [(None, 3), (2, 2), (3, 3), (5, 3)])
    def test_capacity(self, maximum: int | None, expected: int) -> None:
        """Three records: the capacity is the smaller of the maximum and the three."""
        d = driver(site(jobs={"CMP1": {"max_agents": maximum}}))
        assert d.engine.capacity("CMP1") == expected

    def test_capacity_follows_the_outstanding_records(self) -> None:
        """A record in progress still counts; a finished one does not."""
        d = driver(site())
        join(d, "agent1", "CMP1")
        d.advance(0)
        assert d.engine.capacity("CMP1") == 3  # one in progress, two queued
        offered(d, "agent1")
        finish(d, "agent1")
        assert d.engine.capacity("CMP1") == 2

    def test_records_waiting_for_a_retry_count(self) -> None:
        """Unanswered records waiting for their retry are outstanding work."""
        d = driver(site(dialing=UNANSWERED))
        join(d, "agent1", "CMP1")
        d.advance(0)
        assert len(attempts(d)) == 3
        assert d.engine.capacity("CMP1") == 3

    def test_jobs_without_outbound_records_are_not_limited(self) -> None:
        """An inbound job's capacity is its maximum (none): callers, not records, make its work."""
        d = driver(site(jobs={"INBOUND1": {"max_agents": 4}}))
        assert d.engine.capacity("INBOUND1") == 4
        assert d.engine.capacity("CMP2") == 3

    def test_balancing_sends_no_more_agents_than_records(self) -> None:
        """Three agents preferring only CMP1, which has two records: two are put on it, the third waits."""
        d = driver(site(sizes={"cmp1_list": 2}))
        for agent in ("agent1", "agent2", "agent3"):
            d.logon(agent)
            d.set_list(agent, "CMP1")
        d.advance(5)
        assert d.attached_counts()["CMP1"] == 2
        assert [d.job_of(agent) for agent in ("agent1", "agent2", "agent3")].count(None) == 1

    def test_a_place_freed_on_a_job_short_of_records_is_taken_at_once(self) -> None:
        """CMP1 has two records, so room for two agents: when one of its two agents detaches, the third,
        waiting, is put on it in the same step, not at the next rebalance."""
        d = driver(site(sizes={"cmp1_list": 2}))
        agents = ("agent1", "agent2", "agent3")
        for agent in agents:
            d.logon(agent)
            d.set_list(agent, "CMP1")
        d.advance(5)
        (waiting,) = [agent for agent in agents if d.job_of(agent) is None]
        leaving = next(agent for agent in agents if d.job_of(agent) == "CMP1")
        d.expect_ok(leaving, "AGTDetachJob")
        assert d.job_of(waiting) == "CMP1"
        assert d.moves(waiting)[-1] == ("AGTJobAssigned", "CMP1", "assigned")

    def test_an_outcome_does_not_look_at_agents_waiting(self) -> None:
        """An attempt's end never raises a job's demand (a finished record lowers it, a retry keeps it), so
        the agents waiting for the job are not looked at again (with thousands waiting that cost more than
        all the rest); the job may now have more agents than records, so a rebalance is asked for."""
        d = driver(site(sizes={"cmp1_list": 2}))
        for agent in ("agent1", "agent2", "agent3"):
            d.logon(agent)
            d.set_list(agent, "CMP1")
        d.advance(5)
        balancer = d.engine.balancer
        (waiting,) = balancer.waiting_for["CMP1"]
        balancer.unbalanced = False
        (working, *_) = d.engine.attached["CMP1"]
        session = d.engine.sessions[working]
        d.engine.dialer.record_outcome("CMP1", ids(d.engine.config, "CMP1")[0], 20, session.agent_name, 6.0, [])
        assert waiting not in balancer.dirty
        assert balancer.unbalanced


# -- dialed out ----------------------------------------------------------------------------------------


class TestDialedOut:
    """A job whose records are all done completes ("dialed out") and its agents move on (R5)."""

    def test_server_assigned_agents_move_to_their_other_preferred_job(self) -> None:
        """Two agents on CMP1 preferring CMP1 and CMP2 finish CMP1's three records: CMP1 completes and both
        are moved to CMP2 (job-dialed-out), where the ready one gets a call at once."""
        config = site()
        d = driver(config)
        prefer(d, "agent1", "CMP1", "CMP2")
        prefer(d, "agent2", "CMP1", "CMP2")
        d.advance(0)
        seen = [offered(d, "agent1"), offered(d, "agent2")]
        finish(d, "agent1")
        d.expect_ok("agent1", "AGTReadyNextItem")
        d.advance(0)
        seen.append(offered(d, "agent1"))
        effects = finish(d, "agent2")  # agent2 is ready again: it waits, nothing left to dial
        d.expect_ok("agent2", "AGTReadyNextItem")
        d.advance(0)
        assert offered(d, "agent2") is None
        assert of_type(effects, JobStateChanged) == []
        d.advance(1)
        effects = finish(d, "agent1")  # the last record
        assert sorted(seen) == sorted(ids(config, "CMP1"))
        assert [c for c in of_type(effects, JobStateChanged) if c.job == "CMP1"] == [
            JobStateChanged("CMP1", "completed", "dialer", 1.0)
        ]
        d.advance(0)
        assert d.moves("agent1") == [("AGTJobAssigned", "CMP2", "job-dialed-out")]
        assert d.state_of("agent1") == "S70002,CMP2"
        assert offered(d, "agent2") in ids(config, "CMP2")  # ready before the move, ready after: a CMP2 call
        assert d.moves("agent2") == [("AGTJobAssigned", "CMP2", "job-dialed-out")]
        assert d.state_of("agent2") == "S70000,CMP2"
        assert not d.engine.jobs["CMP1"].running

    def test_manual_agent_gets_job_end(self) -> None:
        """A PC agent that finishes the last record hears AGTJobEnd and is off work (S70003)."""
        config = site()
        d = driver(config)
        join(d, "agent1", "CMP1")
        assert work_through(d, "agent1") == ids(config, "CMP1")
        assert parts(d, "agent1", "AGTJobEnd") == [("0", "M00000")]
        assert d.state_of("agent1") == "S70003,CMP1"
        assert d.refusal("agent1", "AGTAvailWork") == ("E28898,CMP1",)

    def test_dialed_out_by_unanswered_dials(self) -> None:
        """A job whose last record ends with a final dialer outcome completes too, and its ready manual
        agent hears AGTJobEnd."""
        d = driver(site(dialing=attrs.evolve(UNANSWERED, max_attempts=1)))
        join(d, "agent1", "CMP1")
        d.advance(0)
        assert JobStateChanged("CMP1", "completed", "dialer", 0.0) in d.log
        assert parts(d, "agent1", "AGTJobEnd") == [("0", "M00000")]
        assert d.state_of("agent1") == "S70003,CMP1"

    def test_linked_job_starts(self) -> None:
        """CMP1 linked to CMP3 (not started): when CMP1 is dialed out CMP3 starts, and the manual agent hears
        AGTJobTransLink CMP3."""
        config = site(records=1, jobs={"CMP1": {"linked_job": "CMP3"}, "CMP3": {"start_running": False}})
        d = driver(config)
        join(d, "agent1", "CMP1")
        d.advance(0)
        offered(d, "agent1")
        effects = finish(d, "agent1")
        assert [(c.job, c.state) for c in of_type(effects, JobStateChanged)] == [
            ("CMP1", "completed"),
            ("CMP3", "running"),
        ]
        assert parts(d, "agent1", "AGTJobTransLink") == [("0", "M00001", "CMP3"), ("0", "M00000")]

    def test_empty_list_completes_at_start(self) -> None:
        """A job whose calling list has no records is dialed out from the first tick."""
        d = driver(site(sizes={"cmp1_list": 0}))
        effects = d.advance(0)
        assert [c for c in of_type(effects, JobStateChanged) if c.job == "CMP1"] == [
            JobStateChanged("CMP1", "completed", "dialer", 0.0)
        ]
        assert [c.job for c in of_type(effects, JobStateChanged)] == ["CMP1"]


# -- restart -------------------------------------------------------------------------------------------


class TestRestart:
    """At start the dialer resumes from the stored state: done records are never dialed again, records that
    were in progress are dialed again, attempt counts and pending callbacks are kept."""

    def test_done_records_skipped_in_progress_records_offered_again(self) -> None:
        """Record 1 done, record 2 was in progress (one attempt ended): 2 and 3 are offered, 2 as attempt 2."""
        config = site()
        r1, r2, r3 = ids(config, "CMP1")
        stored = StoredState(done={"CMP1": frozenset({r1})}, attempts={"CMP1": {r1: 1, r2: 1}})
        d = driver(config, stored=stored)
        join(d, "agent1", "CMP1")
        assert work_through(d, "agent1") == [r2, r3]
        assert [(a.record_id, a.attempt) for a in attempts(d)] == [(r2, 2), (r3, 1)]
        assert JobStateChanged("CMP1", "completed", "dialer", 0.0) in d.log

    def test_all_done_completes_at_start(self) -> None:
        """Every record stored as done: the job completes at the first tick and offers nothing."""
        config = site()
        d = driver(config, stored=StoredState(done={"CMP1": frozenset(ids(config, "CMP1"))}))
        join(d, "agent1", "CMP1")
        d.advance(0)
        assert offered(d, "agent1") is None
        assert [c for c in of_type(d.log, JobStateChanged) if c.job == "CMP1"] == [
            JobStateChanged("CMP1", "completed", "dialer", 0.0)
        ]

    def test_resume_from_what_the_store_kept(self) -> None:
        """A run finishes record 1 and is on record 2 when it stops; the next run, from the store's state,
        offers record 2 (again) and 3, never record 1."""
        config = site()
        r1, r2, r3 = ids(config, "CMP1")
        before = driver(config)
        join(before, "agent1", "CMP1")
        before.advance(0)
        assert offered(before, "agent1") == r1
        finish(before, "agent1")
        before.expect_ok("agent1", "AGTReadyNextItem")
        before.advance(0)
        assert offered(before, "agent1") == r2
        store = commit_all(before)  # the crash: record 2 started, never finished
        after = driver(config, stored=store.load())
        join(after, "agent2", "CMP1")
        assert work_through(after, "agent2") == [r2, r3]
        commit_all(after, store)
        assert {(a.record_id, a.final) for a in store.outcomes("CMP1")} == {(r1, True), (r2, True), (r3, True)}

    def test_retry_counts_survive(self) -> None:
        """Attempts stored before the restart count towards max_attempts."""
        config = site(records=1, dialing=attrs.evolve(UNANSWERED, max_attempts=3))
        (r1,) = ids(config, "CMP1")
        d = driver(config, stored=StoredState(attempts={"CMP1": {r1: 2}}))
        join(d, "agent1", "CMP1")
        d.advance(0)
        assert [(a.attempt, a.final) for a in attempts(d)] == [(3, True)]

    def test_pending_callback_comes_due(self) -> None:
        """A stored callback comes due at its time and goes to its owner (CallbackDone is written)."""
        config = site()
        r3 = ids(config, "CMP1")[2]
        pending = StoredCallback("cb-stored", "CMP1", r3, T0 + 60, "agent1", "5551234567", "")
        d = driver(config, stored=StoredState(callbacks=(pending,)), now=T0)
        join(d, "agent1", "CMP1", ready=False)
        d.advance(59)
        assert of_type(d.log, CallbackDone) == []
        d.advance(1)
        assert of_type(d.log, CallbackDone) == [CallbackDone("cb-stored", T0 + 60)]
        d.expect_ok("agent1", "AGTReadyNextItem")
        messages = parts(d, "agent1")
        assert messages[0] == ("0", "M00001", "Agent agent1 Owned Recall", "OUTBOUND", f"ACCTNUM,{r3}")


# -- managed jobs --------------------------------------------------------------------------------------


def previewing(config: SiteConfig, d: Driver, agent: str = "agent1") -> str:
    """Put ``agent`` (work class M) on PREVIEW1, ready, and return the record it previews."""
    join(d, agent, "PREVIEW1", work_class="M", fields=("NAME",))
    d.advance(0)
    messages = parts(d, agent, "AGTPreviewRecord")
    record_id = ids(config, "PREVIEW1")[0]
    name = value(config, "PREVIEW1", record_id, "NAME")
    assert messages == [
        ("0", "M00001", f"{name} (Preview)", "MANAGED", f"ACCTNUM,{record_id}"),
        ("0", "M00001", f"NAME,{name}"),
        ("0", "M00000"),
    ]
    assert d.state_of(agent) == "S70000,PREVIEW1"
    return record_id


class TestManagedJob:
    """On a managed job the record is previewed (AGTPreviewRecord) and dialed on AGTManagedCall or when the
    preview times out."""

    def test_preview_then_managed_call(self) -> None:
        """No line during the preview; AGTManagedCall answers P, D ``(CONNECT)``, R and the line is up."""
        config = site(jobs=dialing_for("PREVIEW1", preview_timeout=20.0))
        d = driver(config)
        record_id = previewing(config, d)
        assert d.refusal("agent1", "AGTHoldCall") == ("E28866",)
        replies = d.send("agent1", "AGTManagedCall")
        assert [(r.type, r.segments) for r in replies] == [
            (MessageType.PENDING, ("0", "S28833")),
            (MessageType.DATA, ("0", "M00001", "(CONNECT)")),
            (MessageType.RESPONSE, ("0", "M00000")),
        ]
        d.expect_ok("agent1", "AGTHoldCall")
        assert d.refusal("agent1", "AGTManagedCall") == ("E28909",)
        effects = finish(d, "agent1")
        assert of_type(effects, RecordAttempt) == [RecordAttempt("PREVIEW1", record_id, 1, 20, "agent1", 0.0, True)]

    def test_preview_timeout_dials_by_itself(self) -> None:
        """Without AGTManagedCall the record is dialed when the preview times out."""
        config = site(jobs=dialing_for("PREVIEW1", preview_timeout=20.0))
        d = driver(config)
        previewing(config, d)
        d.advance(19.9)
        assert d.refusal("agent1", "AGTHoldCall") == ("E28866",)
        d.advance(0.1)
        d.expect_ok("agent1", "AGTHoldCall")
        assert d.refusal("agent1", "AGTManagedCall") == ("E28909",)

    def test_finished_during_preview_cancels(self) -> None:
        """AGTFinishedItem during the preview finishes the record; its timeout then dials nothing, not even
        the agent's next preview (which has a timeout of its own)."""
        config = site(jobs=dialing_for("PREVIEW1", preview_timeout=20.0))
        d = driver(config)
        record_id = previewing(config, d)
        effects = finish(d, "agent1", "21")
        assert of_type(effects, RecordAttempt) == [RecordAttempt("PREVIEW1", record_id, 1, 21, "agent1", 0.0, True)]
        effects = d.advance(10)
        assert sent_to(effects, d.conns["agent1"]) == []
        assert d.state_of("agent1") == "S70002,PREVIEW1"
        assert d.refusal("agent1", "AGTManagedCall") == ("E28908",)
        d.expect_ok("agent1", "AGTReadyNextItem")  # the next record at 10, previewed until 30
        d.advance(0)
        assert offered(d, "agent1", "AGTPreviewRecord") == ids(config, "PREVIEW1")[1]
        d.advance(15)
        assert d.refusal("agent1", "AGTHoldCall") == ("E28866",)  # the first timeout (20) did not dial it
        d.advance(5)
        d.expect_ok("agent1", "AGTHoldCall")

    def test_release_line_during_preview_cancels_the_dial(self) -> None:
        """AGTReleaseLine during the preview cancels the call: no line, even after the timeout; the record
        is then finished as usual."""
        config = site(jobs=dialing_for("PREVIEW1", preview_timeout=20.0))
        d = driver(config)
        previewing(config, d)
        d.expect_ok("agent1", "AGTReleaseLine")
        d.advance(30)
        assert d.refusal("agent1", "AGTHoldCall") == ("E28866",)
        assert d.state_of("agent1") == "S70000,PREVIEW1"
        finish(d, "agent1")

    def test_managed_call_on_an_outbound_job(self) -> None:
        """AGTManagedCall on an outbound job: E28907."""
        d = driver(site())
        join(d, "agent1", "CMP1")
        d.advance(0)
        assert d.refusal("agent1", "AGTManagedCall") == ("E28907",)


# -- customer hang-ups ---------------------------------------------------------------------------------


class TestCustomerHangsUp:
    """At hangup_rate the customer hangs up after talk_time: AGTAutoReleaseLine; the record stays open."""

    HANGS_UP = attrs.evolve(FAST, hangup_rate=1.0, talk_time=(5.0, 5.0))

    def test_auto_release_after_talk_time(self) -> None:
        """AGTAutoReleaseLine ``0 M00000`` after talk_time; then AGTReleaseLine gets E28866 (line already
        released) and AGTFinishedItem still finishes the record."""
        d = driver(site(dialing=self.HANGS_UP))
        join(d, "agent1", "CMP1")
        d.advance(4.9)
        record_id = offered(d, "agent1")
        assert parts(d, "agent1", "AGTAutoReleaseLine") == []
        d.advance(0.1)
        assert parts(d, "agent1", "AGTAutoReleaseLine") == [("0", "M00000")]
        assert d.state_of("agent1") == "S70000,CMP1"
        assert d.refusal("agent1", "AGTReleaseLine") == ("E28866",)
        assert d.refusal("agent1", "AGTHoldCall") == ("E28866",)
        effects = finish(d, "agent1", "23")
        assert of_type(effects, RecordAttempt) == [RecordAttempt("CMP1", record_id, 1, 23, "agent1", 5.0, True)]

    def test_no_hang_up_after_the_record_is_finished(self) -> None:
        """An agent that finished before the customer hung up hears nothing of it, not even on its next call:
        that customer hangs up talk_time after its own call began."""
        config = site(dialing=self.HANGS_UP)
        r1, r2, _ = ids(config, "CMP1")
        d = driver(config)
        join(d, "agent1", "CMP1", ready=False)
        d.advance(1)
        d.expect_ok("agent1", "AGTReadyNextItem")  # r1 at 1: its customer would hang up at 6
        d.advance(0)
        assert offered(d, "agent1") == r1
        d.advance(2)
        finish(d, "agent1")
        d.expect_ok("agent1", "AGTReadyNextItem")  # r2 at 3: its customer hangs up at 8
        d.advance(0)
        assert offered(d, "agent1") == r2
        d.advance(4.9)
        assert parts(d, "agent1", "AGTAutoReleaseLine") == []
        d.expect_ok("agent1", "AGTHoldCall")
        d.advance(0.1)
        assert parts(d, "agent1", "AGTAutoReleaseLine") == [("0", "M00000")]

    def test_no_hang_up_after_the_agent_released(self) -> None:
        """An agent that released the line first (AGTReleaseLine: P, R) hears no AGTAutoReleaseLine."""
        d = driver(site(dialing=self.HANGS_UP))
        join(d, "agent1", "CMP1")
        d.advance(1)
        offered(d, "agent1")
        replies = d.expect_ok("agent1", "AGTReleaseLine")
        assert [r.type for r in replies] == [MessageType.PENDING, MessageType.RESPONSE]
        d.advance(10)
        assert parts(d, "agent1", "AGTAutoReleaseLine") == []

    def test_hangup_rate_zero(self) -> None:
        """hangup_rate 0: the customer never hangs up first."""
        d = driver(site(dialing=attrs.evolve(FAST, talk_time=(1.0, 2.0))))
        join(d, "agent1", "CMP1")
        d.advance(300)
        assert parts(d, "agent1", "AGTAutoReleaseLine") == []
        d.expect_ok("agent1", "AGTReleaseLine")


# -- inbound arrivals (R8) -----------------------------------------------------------------------------


def inbound_site(rate: float = 60.0, records: int = 3, **jobs: dict[str, object]) -> SiteConfig:
    """The site with callers arriving at INBOUND1 at ``rate`` a minute."""
    changes = dialing_for("INBOUND1", inbound_rate=rate)
    return site(records, jobs={**changes, **jobs})


def wait_for_call(d: Driver, agent: str, keyword: str = "AGTCallNotify", limit: float = 600) -> list[tuple[str, ...]]:
    """Advance one second at a time until ``agent`` is offered a call; its messages."""
    for _ in range(int(limit)):
        d.advance(1)
        if d.state_of(agent).startswith("S70000"):
            return parts(d, agent, keyword)
    raise AssertionError(f"no call for {agent} within {limit} s")


class TestInbound:
    """Callers arrive at inbound and blend jobs at their inbound_rate and go to ready agents (R8)."""

    def test_caller_reaches_a_ready_inbound_agent(self) -> None:
        """AGTCallNotify ``INBOUND CALL`` ``INBOUND`` with the inbound list's key and data fields; callers come
        in list order; their dispositions are recorded."""
        config = inbound_site()
        d = driver(config)
        join(d, "agent1", "INBOUND1", work_class="I", list_type="I", fields=("NAME", "PHONE1"))
        callers = ids(config, "INBOUND1")
        for expected in callers[:2]:
            messages = wait_for_call(d, "agent1")
            name, phone = (value(config, "INBOUND1", expected, field) for field in ("NAME", "PHONE1"))
            assert messages == [
                ("0", "M00001", "INBOUND CALL", "INBOUND", f"ACCTNUM,{expected}"),
                ("0", "M00001", f"NAME,{name}", f"PHONE1,{phone}"),
                ("0", "M00000"),
            ]
            effects = finish(d, "agent1")
            assert [(a.job, a.record_id, a.agent, a.final) for a in of_type(effects, RecordAttempt)] == [
                ("INBOUND1", expected, "agent1", True)
            ]
            d.expect_ok("agent1", "AGTReadyNextItem")

    def test_no_callers_at_rate_zero(self) -> None:
        """inbound_rate 0: nobody calls."""
        d = driver(inbound_site(rate=0.0))
        join(d, "agent1", "INBOUND1", work_class="I", list_type="I")
        d.advance(600)
        assert d.state_of("agent1") == "S70001,INBOUND1"

    def test_callers_wait_for_an_agent(self) -> None:
        """Callers arriving while nobody is ready wait; the first of them goes to the next ready agent at once."""
        config = inbound_site(rate=60.0)
        d = driver(config)
        join(d, "agent1", "INBOUND1", work_class="I", list_type="I", ready=False)
        d.advance(30)
        d.expect_ok("agent1", "AGTReadyNextItem")
        assert offered(d, "agent1") == ids(config, "INBOUND1")[0]
        assert d.state_of("agent1") == "S70000,INBOUND1"

    def test_caller_takes_an_outbound_agent_and_returns_it(self) -> None:
        """A server-assigned agent ready on CMP1 (whose dials are slow) is taken to INBOUND1 for a caller
        (inbound) and returned afterwards (returned)."""
        config = inbound_site(rate=6.0, **dialing_for("CMP1", dial_delay=(3600.0, 3600.0)))
        d = driver(config)
        prefer(d, "agent1", "CMP1")
        messages = wait_for_call(d, "agent1", limit=3000)
        assert messages[0][:4] == ("0", "M00001", "INBOUND CALL", "INBOUND")
        assert d.moves("agent1") == [("AGTJobAssigned", "INBOUND1", "inbound")]
        assert d.job_of("agent1") == "INBOUND1"
        finish(d, "agent1")
        assert d.moves("agent1") == [("AGTJobAssigned", "CMP1", "returned")]
        assert d.state_of("agent1") == "S70002,CMP1"

    def test_repeated_callers_are_each_stored(self) -> None:
        """The inbound list is cycled, so a caller can call again: every call's disposition must be a write the
        store accepts (an attempt of a record is recorded once), or the server stops on the failed commit."""
        config = inbound_site(rate=60.0, records=2)
        d = driver(config)
        join(d, "agent1", "INBOUND1", work_class="I", list_type="I")
        for _ in range(3):
            wait_for_call(d, "agent1")
            finish(d, "agent1")
            d.expect_ok("agent1", "AGTReadyNextItem")
        keys = [(a.job, a.record_id, a.attempt) for a in attempts(d, "INBOUND1")]
        assert len(keys) == 3
        assert len(set(keys)) == 3, f"the same attempt recorded twice: {keys}"
        assert len(commit_all(d).outcomes("INBOUND1")) == 3


# -- callbacks (R7) ------------------------------------------------------------------------------------


def on_record(config: SiteConfig, d: Driver, agent: str = "agent1", job: str = "CMP1") -> str:
    """``agent`` joins ``job`` (manual) at T0 and gets its first record; returns the record id."""
    join(d, agent, job)
    d.advance(0)
    record_id = offered(d, agent)
    assert record_id == ids(config, job)[0]
    return record_id


class TestCallbacks:
    """AGTSetCallback schedules a callback on the open record; it comes due at its time (R7)."""

    def test_valid_callback_is_scheduled(self) -> None:
        """``R 0 M00000`` and a CallbackScheduled write: the record, due time, owner, phone and name."""
        config = site()
        d = driver(config, now=T0)
        record_id = on_record(config, d)
        start = len(d.log)
        d.expect_ok("agent1", "AGTSetCallback", "", "00:05+", "1", "Mrs Smith")
        scheduled = of_type(d.log[start:], CallbackScheduled)
        phone = value(config, "CMP1", record_id, "PHONE1")
        assert len(scheduled) == 1
        assert attrs.evolve(scheduled[0], callback_id="") == CallbackScheduled(
            "", "CMP1", record_id, T0 + 300, "agent1", phone, "Mrs Smith", T0
        )
        assert d.state_of("agent1") == "S70000,CMP1"  # the record stays open

    def test_absolute_time_and_second_phone(self) -> None:
        """An absolute date and time in the server's zone (UTC here) and phone index 2."""
        config = site()
        d = driver(config, now=T0)
        record_id = on_record(config, d)
        start = len(d.log)
        d.expect_ok("agent1", "AGTSetCallback", "2025/06/15", "1600", "2")
        (scheduled,) = of_type(d.log[start:], CallbackScheduled)
        due = datetime.datetime(2025, 6, 15, 16, 0, tzinfo=datetime.UTC).timestamp()
        assert (scheduled.due_at, scheduled.phone) == (due, value(config, "CMP1", record_id, "PHONE2"))

    def test_comes_due_to_its_owner_on_the_same_job(self) -> None:
        """Due at its time (CallbackDone), offered to its owner when ready, as ``Agent <agent> Owned Recall``;
        finishing it records another attempt of the record."""
        config = site()
        d = driver(config, now=T0)
        record_id = on_record(config, d)
        d.expect_ok("agent1", "AGTSetCallback", "", "00:05+", "1")
        finish(d, "agent1", "22")
        d.advance(299)
        assert of_type(d.log, CallbackDone) == []
        d.advance(1)
        assert [done.at for done in of_type(d.log, CallbackDone)] == [T0 + 300]
        assert parts(d, "agent1") == []  # available, not ready: it waits for the agent
        d.expect_ok("agent1", "AGTReadyNextItem")
        messages = parts(d, "agent1")
        assert messages[0] == ("0", "M00001", "Agent agent1 Owned Recall", "OUTBOUND", f"ACCTNUM,{record_id}")
        assert messages[-1] == ("0", "M00000")
        effects = finish(d, "agent1", "20")
        assert [(a.record_id, a.attempt, a.code, a.final) for a in of_type(effects, RecordAttempt)] == [
            (record_id, 2, 20, True)
        ]
        commit_all(d)

    def test_from_another_job_takes_its_owner_and_returns_it(self) -> None:
        """R7: scheduled on CMP4, due while the owner works CMP1 only: AGTAORNotify, moved to CMP4 (callback)
        for the call, then back to CMP1 (returned)."""
        config = site()
        d = driver(config, now=T0)
        prefer(d, "agent1", "CMP4")
        d.advance(0)
        record_id = offered(d, "agent1")
        assert record_id == ids(config, "CMP4")[0]
        d.expect_ok("agent1", "AGTSetCallback", "", "00:05+", "1")
        finish(d, "agent1", "22")
        d.set_list("agent1", "CMP1")
        assert d.moves("agent1") == [("AGTJobAssigned", "CMP1", "assigned")]
        assert d.state_of("agent1") == "S70002,CMP1"
        d.advance(300)
        name = value(config, "CMP4", record_id, "NAME")
        assert parts(d, "agent1", "AGTAORNotify") == [
            ("0", "M00001", name, "CMP4", "Allid", "CMP1"),
            ("0", "M00000"),
        ]
        assert d.moves("agent1") == [("AGTJobAssigned", "CMP4", "callback")]
        d.expect_ok("agent1", "AGTReadyNextItem")
        messages = parts(d, "agent1")
        assert messages[0] == ("0", "M00001", "Agent agent1 Owned Recall", "OUTBOUND", f"ACCTNUM,{record_id}")
        finish(d, "agent1")
        assert d.moves("agent1") == [("AGTJobAssigned", "CMP1", "returned")]
        assert [(a.job, a.record_id, a.attempt) for a in attempts(d) if a.record_id == record_id] == [
            ("CMP4", record_id, 1),
            ("CMP4", record_id, 2),
        ]

    def test_campaign_callback_goes_to_any_agent_of_the_job(self) -> None:
        """callback_owner campaign: no owner; when due it goes to whichever agent of the job is ready."""
        config = site(jobs=dialing_for("CMP1", callback_owner=CallbackOwner.CAMPAIGN))
        d = driver(config, now=T0)
        record_id = on_record(config, d)
        join(d, "agent2", "CMP1", ready=False)
        start = len(d.log)
        d.expect_ok("agent1", "AGTSetCallback", "", "00:05+", "1")
        assert [c.owner for c in of_type(d.log[start:], CallbackScheduled)] == [None]
        finish(d, "agent1", "22")
        d.advance(300)
        d.expect_ok("agent2", "AGTReadyNextItem")
        messages = parts(d, "agent2")
        name = value(config, "CMP1", record_id, "NAME")
        assert messages[0] == ("0", "M00001", name, "OUTBOUND", f"ACCTNUM,{record_id}")

    def test_owner_gone_goes_to_any_agent_of_the_job(self) -> None:
        """An agent-owned callback whose owner has logged off goes to another agent of its job."""
        config = site()
        d = driver(config, now=T0)
        record_id = on_record(config, d)
        d.expect_ok("agent1", "AGTSetCallback", "", "00:05+", "1")
        finish(d, "agent1", "22")
        d.drop("agent1")
        join(d, "agent2", "CMP1", ready=False)
        d.advance(300)
        d.expect_ok("agent2", "AGTReadyNextItem")
        name = value(config, "CMP1", record_id, "NAME")
        assert parts(d, "agent2")[0] == ("0", "M00001", name, "OUTBOUND", f"ACCTNUM,{record_id}")

    @pytest.mark.parametrize(
        ("args", "reply"),
        [
            (("2025/13/01", "1600", "1"), ("E28833",)),
            (("15/06/2025", "1600", "1"), ("E28832", "15/06/2025", "CCYY/MM/DD")),
            (("2025/06/x5", "1600", "1"), ("E28831",)),
            (("2025/02/30", "1600", "1"), ("E28835",)),
            (("2025/06/14", "1200", "1"), ("E28847",)),
            (("", "2500", "1"), ("E28837",)),
            (("", "12:60", "1"), ("E28838",)),
            (("", "00:05+", "9"), ("E28841",)),
        ],
    )
    def test_invalid_arguments_refused(self, args: tuple[str, ...], reply: tuple[str, ...]) -> None:
        """A bad date, time or phone gets the parse error; nothing is scheduled and the record stays open."""
        config = site()
        d = driver(config, now=T0)
        on_record(config, d)
        start = len(d.log)
        assert d.refusal("agent1", "AGTSetCallback", *args) == reply
        assert of_type(d.log[start:], CallbackScheduled) == []
        assert d.state_of("agent1") == "S70000,CMP1"

    def test_too_soon(self) -> None:
        """Less than callback_min_minutes ahead: ``E28800`` with the minimum."""
        config = site(jobs=dialing_for("CMP1", callback_min_minutes=10))
        d = driver(config, now=T0)
        on_record(config, d)
        assert d.refusal("agent1", "AGTSetCallback", "", "00:05+", "1") == ("E28800", "10")
        d.expect_ok("agent1", "AGTSetCallback", "", "00:10+", "1")

    def test_no_record(self) -> None:
        """Without an open record: E28866."""
        d = driver(site(), now=T0)
        join(d, "agent1", "CMP1", ready=False)
        assert d.refusal("agent1", "AGTSetCallback", "", "00:05+", "1") == ("E28866",)


# -- lost agents ---------------------------------------------------------------------------------------


class TestLostAgent:
    """A connection that drops mid-call finishes the attempt with OPDIED (49); the record is retried while
    attempts remain."""

    def test_dropped_mid_call_records_opdied_and_retries(self) -> None:
        """RecordAttempt code 49, not final; another agent gets the other records, then this one after the
        retry delay."""
        config = site(dialing=attrs.evolve(FAST, retry_delay=60.0))
        r1, r2, r3 = ids(config, "CMP1")
        d = driver(config)
        join(d, "agent1", "CMP1")
        d.advance(2)
        assert offered(d, "agent1") == r1
        effects = d.drop("agent1")
        assert of_type(effects, RecordAttempt) == [
            RecordAttempt("CMP1", r1, 1, int(CompletionCode.OPDIED), "agent1", 2.0, False)
        ]
        assert d.engine.capacity("CMP1") == 3
        join(d, "agent2", "CMP1")
        assert work_through(d, "agent2") == [r2, r3]
        d.advance(60)
        assert offered(d, "agent2") == r1
        effects = finish(d, "agent2")
        assert [(a.attempt, a.final) for a in of_type(effects, RecordAttempt)] == [(2, True)]
        assert any(c.job == "CMP1" and c.state == "completed" for c in of_type(effects, JobStateChanged))

    def test_retried_record_reaches_an_agent_already_waiting(self) -> None:
        """An agent ready on the job, waiting because the only record is on another agent's call, gets that
        record once its retry is due after the other agent's connection dropped."""
        config = site(records=1, dialing=attrs.evolve(FAST, retry_delay=60.0))
        (r1,) = ids(config, "CMP1")
        d = driver(config)
        join(d, "agent1", "CMP1")
        d.advance(0)
        assert offered(d, "agent1") == r1
        join(d, "agent2", "CMP1")
        d.advance(1)
        assert d.state_of("agent2") == "S70001,CMP1"  # nothing to dial for it
        d.drop("agent1")
        d.advance(61)
        assert offered(d, "agent2") == r1, "the retried record was never dialed again"

    def test_final_when_attempts_are_used_up(self) -> None:
        """max_attempts 1: the OPDIED attempt is final, and the job (one record) is dialed out."""
        config = site(records=1, dialing=attrs.evolve(FAST, max_attempts=1))
        d = driver(config)
        join(d, "agent1", "CMP1")
        d.advance(0)
        offered(d, "agent1")
        effects = d.drop("agent1")
        assert [(a.code, a.final) for a in of_type(effects, RecordAttempt)] == [(49, True)]
        assert JobStateChanged("CMP1", "completed", "dialer", 0.0) in effects

    def test_dropped_without_a_call_records_nothing(self) -> None:
        """An agent that drops while waiting for a call leaves no attempt behind."""
        d = driver(site(dialing=attrs.evolve(FAST, dial_delay=(10.0, 10.0))))
        join(d, "agent1", "CMP1")
        d.advance(5)
        assert of_type(d.drop("agent1"), RecordAttempt) == []
        d.advance(20)
        assert attempts(d) == []
