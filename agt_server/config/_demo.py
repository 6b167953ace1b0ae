"""The embedded demo site: the configuration ``agt-server`` runs with when given no file.

Four outbound campaigns CMP1 to CMP4 as in POM's "Agent Preferred Campaigns" description, plus one job
of each other type, all running, with generated calling lists, and twenty agents ``agent1`` to
``agent20`` whose password is their own name.  The simulated dialer works at human speed, so that a
person can watch calls come and go.  For load tests (``agt-load``) it also has 10,000 agents ``load1``
to ``load10000`` in group ``load``, all with the password ``load``.
"""

from __future__ import annotations

import functools
from pathlib import Path

import attrs

from agt_server.protocol import JobType, WorkClass

from ._models import (
    AgentConfig,
    CallingListConfig,
    CompletionKey,
    DialingConfig,
    FieldSpec,
    FieldType,
    JobConfig,
    ListenerConfig,
    SimulationConfig,
    SiteConfig,
    TokenConfig,
    TokenRole,
)
from ._passwords import hash_password

__all__ = ["DEMO_LOAD_AGENT_COUNT", "DEMO_LOAD_GROUP", "DEMO_LOAD_PASSWORD", "DEMO_TOKENS", "demo_config"]

#: scrypt cost of the demo agents' hashes.  2**10 takes about 2 ms instead of about 50 ms at the default
#: 14, so a demo server (and each of the many the tests start) is up at once.  Demo only: the demo's
#: passwords are public anyway.
DEMO_PASSWORD_COST = 10
DEMO_AGENT_COUNT = 20
#: The load-test agents ``load1`` ... ``load10000`` (group ``load``): what ``agt-load`` logs on by default.
DEMO_LOAD_AGENT_COUNT = 10_000
DEMO_LOAD_GROUP = "load"
DEMO_LOAD_PASSWORD = "load"
DEMO_RECORDS_PER_LIST = 200
#: Records of the inbound list: the callers that INBOUND1 and BLEND1 take calls from.
DEMO_INBOUND_RECORDS = 500

_FIELDS = (
    FieldSpec("ACCTNUM", 16, FieldType.NUMERIC),
    FieldSpec("NAME", 26, FieldType.CHARACTER),
    FieldSpec("PHONE1", 10, FieldType.NUMERIC),
    FieldSpec("PHONE2", 10, FieldType.NUMERIC),
    FieldSpec("BALANCE", 10, FieldType.CURRENCY),
    FieldSpec("CITY", 20, FieldType.CHARACTER),
    FieldSpec("DUEDATE", 10, FieldType.DATE),
)

_KEYS = tuple(
    CompletionKey(code, description, description.lower().replace(" ", "_"))
    for code, description in (
        (20, "SALE"),
        (21, "NO SALE"),
        (22, "CALL BACK"),
        (23, "WRONG PARTY"),
        (24, "NOT INTERESTED"),
        (93, "SOLD"),
        (98, "AGENT RECALL"),
    )
)

_INBOUND_LIST = "inbound_calls"

#: The demo's REST API tokens.  They are public (here and in the README), which is why the demo listens
#: on loopback addresses only.  Each token's name is the token itself, so the audit log shows which was used.
DEMO_TOKENS = (
    TokenConfig("demo-admin", "demo-admin", TokenRole.ADMIN),
    TokenConfig(
        "demo-supervisor", "demo-supervisor", TokenRole.SUPERVISOR, groups=frozenset({"team-a"}), campaign_control=True
    ),
    TokenConfig("demo-viewer", "demo-viewer", TokenRole.VIEWER),
)

#: (name, type, priority) of every demo job, in the order AGTListJobs shows them.
_JOBS = (
    ("CMP1", JobType.OUTBOUND, 5),
    ("CMP2", JobType.OUTBOUND, 5),
    ("CMP3", JobType.OUTBOUND, 3),
    ("CMP4", JobType.OUTBOUND, 7),
    ("INBOUND1", JobType.INBOUND, 5),
    ("BLEND1", JobType.BLEND, 5),
    ("PREVIEW1", JobType.MANAGED, 5),
)

#: Every demo job's dialing: a call every few seconds, seven in ten answered, conversations of 20 to 90
#: seconds of which one in ten ends with the customer hanging up, unanswered records retried after two
#: minutes, three attempts each.
_DIALING = DialingConfig(
    dial_delay=(2.0, 6.0),
    answer_rate=0.7,
    hangup_rate=0.1,
    talk_time=(20.0, 90.0),
    retry_delay=120.0,
    max_attempts=3,
)
#: What differs per job: PREVIEW1's previews last 20 seconds; calls arrive at INBOUND1 (2 a minute) and
#: BLEND1 (1 a minute).
_JOB_DIALING = {
    "PREVIEW1": attrs.evolve(_DIALING, preview_timeout=20.0),
    "INBOUND1": attrs.evolve(_DIALING, inbound_rate=2.0),
    "BLEND1": attrs.evolve(_DIALING, inbound_rate=1.0),
}


def demo_config(data_dir: Path | None = None) -> SiteConfig:
    """The demo site configuration.

    Jobs: CMP1, CMP2, CMP3 and CMP4 (outbound, priorities 5, 5, 3 and 7), INBOUND1 (inbound), BLEND1
    (blend) and PREVIEW1 (managed), all running, no agent limits, each with completion keys 20 SALE,
    21 NO SALE, 22 CALL BACK, 23 WRONG PARTY, 24 NOT INTERESTED, 93 SOLD and 98 AGENT RECALL.  Every job
    that dials has its own generated list of 200 records (``cmp1_list``, ..., ``preview1_list``);
    INBOUND1 and BLEND1 share the inbound list ``inbound_calls`` of 500 generated callers.  All lists
    have the fields ACCTNUM, NAME, PHONE1, PHONE2, BALANCE, CITY and DUEDATE.

    Dialing, at human speed: a dial takes 2 to 6 seconds, 70% of dials are answered, 10% of answered
    customers hang up after 20 to 90 seconds, an unanswered record is retried after 120 seconds, up to 3
    attempts; PREVIEW1's previews time out after 20 seconds; 2 calls a minute arrive at INBOUND1 and 1 a
    minute at BLEND1.  The simulation has no fixed seed and the default database.

    Agents: ``agent1`` to ``agent20``, each with its own name as password, all work classes;
    agent1-agent10 are in group ``team-a``, agent11-agent20 in ``team-b``.  Their hashes use scrypt cost
    10, far below a real site's, so that start-up stays fast (demo only); they are computed once per
    process and shared by every demo configuration.  For load tests, ``load1`` to ``load10000`` (group
    ``load``, all work classes) share the password ``load`` and one hash of it, so that the server's
    verifier cache makes 10,000 logons cost one scrypt run.

    Listeners: 127.0.0.1, ports 22700 (plain), 22701 (TLS, self-signed certificate), 22702 (tty) and 8080
    (the supervisor REST API and dashboard).

    REST API tokens (public, so the demo must listen on loopback only): ``demo-admin`` (admin),
    ``demo-supervisor`` (supervisor of group team-a, i.e. agent1-agent10, with campaign control) and
    ``demo-viewer`` (viewer).

    Args:
        data_dir: where the server keeps its files; ``Path("data")`` (relative to the working
            directory) by default.
    """
    jobs = []
    lists = []
    for name, job_type, priority in _JOBS:
        outbound_list = None
        if job_type in (JobType.OUTBOUND, JobType.BLEND, JobType.MANAGED):
            outbound_list = f"{name.lower()}_list"
            lists.append(CallingListConfig(outbound_list, _FIELDS, generated_records=DEMO_RECORDS_PER_LIST))
        inbound_list = _INBOUND_LIST if job_type in (JobType.INBOUND, JobType.BLEND) else None
        jobs.append(
            JobConfig(
                name=name,
                type=job_type,
                priority=priority,
                outbound_list=outbound_list,
                inbound_list=inbound_list,
                keys=_KEYS,
                start_running=True,
                dialing=_JOB_DIALING.get(name, _DIALING),
            )
        )
    lists.append(CallingListConfig(_INBOUND_LIST, _FIELDS, generated_records=DEMO_INBOUND_RECORDS))
    return SiteConfig(
        source="<demo>",
        jobs=tuple(jobs),
        agents=_demo_agents(),
        calling_lists=tuple(lists),
        listeners=ListenerConfig(host="127.0.0.1", agent_port=22700, tls_port=22701, tty_port=22702, http_port=8080),
        simulation=SimulationConfig(seed=None),
        data_dir=Path("data") if data_dir is None else data_dir,
        tokens=DEMO_TOKENS,
    )


@functools.cache
def _demo_agents() -> tuple[AgentConfig, ...]:
    # Hashing is the only slow part of the demo; the agents are immutable, so one tuple serves all.
    people = tuple(
        AgentConfig(
            name=f"agent{number}",
            password_hash=hash_password(f"agent{number}", cost=DEMO_PASSWORD_COST),
            work_classes=frozenset(WorkClass),
            group="team-a" if number <= DEMO_AGENT_COUNT // 2 else "team-b",
        )
        for number in range(1, DEMO_AGENT_COUNT + 1)
    )
    load_hash = hash_password(DEMO_LOAD_PASSWORD, cost=DEMO_PASSWORD_COST)
    load = tuple(
        AgentConfig(name=f"load{number}", password_hash=load_hash, group=DEMO_LOAD_GROUP)
        for number in range(1, DEMO_LOAD_AGENT_COUNT + 1)
    )
    return people + load

