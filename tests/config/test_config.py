"""Tests for the site configuration: the TOML loader, its error messages, the example and the demo."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from agt_server.config import (
    DEMO_LOAD_AGENT_COUNT,
    DEMO_LOAD_GROUP,
    AgentConfig,
    CallbackOwner,
    CallingListConfig,
    CompletionKey,
    ConfigError,
    DialingConfig,
    FieldSpec,
    FieldType,
    JobConfig,
    ListenerConfig,
    LogonThrottleConfig,
    PasswordVerifier,
    ProtocolOptions,
    SessionLimits,
    SimulationConfig,
    SiteConfig,
    TlsConfig,
    TokenConfig,
    TokenRole,
    demo_config,
    hash_password,
    load_config,
    verify_password,
)
from agt_server.config._load import _DIALING_KEYS, _PORT_KEYS, _TOKEN_KEYS, _TOP_KEYS
from agt_server.protocol import JobType, WorkClass

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

HASH = hash_password("pw", cost=1)
LIST = '[[calling_lists]]\nname = "l1"\nfields = [{ name = "A", length = 5 }]\n'
JOB = '[[jobs]]\nname = "J1"\ntype = "O"\noutbound_list = "l1"\n'
AGENT = f'[[agents]]\nname = "a1"\npassword_hash = "{HASH}"\n'
MINIMAL = LIST + JOB + AGENT
DIALING = "[jobs.dialing]\n"
INBOUND_JOB = '[[jobs]]\nname = "J1"\ntype = "I"\ninbound_list = "l1"\n'

#: Every key the loader knows, as test_every_key_appears looks for it in examples/site.toml.
EXAMPLE_KEYS = [
    "data_dir", "[listeners]", "host", "agent_port", "tls_port", "tty_port",
    "[tls]", "certificate", "key", "client_ca", "require_client_certificate", "minimum_version",
    "[limits]", "idle_timeout", "max_connections", "outbox_size", "max_message_size", "write_timeout",
    "inter_message_delay",
    "[assignment]", "dwell_time", "rebalance_interval",
    "[throttle]", "max_failures", "window", "lockout",
    "[protocol]", "require_headset", "pending_replies", "encoding",
    "[simulation]", "seed", "database",
    "[[calling_lists]]", "fields", "length", "type", "csv", "generated_records", "id_field",
    "[[jobs]]", "priority", "min_agents", "max_agents", "required_skills", "linked_job", "outbound_list",
    "inbound_list", "keys", "code", "description", "label", "units", "start_running",
    "[jobs.dialing]", "dial_delay", "answer_rate", "outcomes", "max_attempts", "retry_delay", "hangup_rate",
    "talk_time", "preview_timeout", "inbound_rate", "callback_owner", "calling_hours", "callback_min_minutes",
    "[[agents]]", "password_hash", "skills", "work_classes", "group",
    "http_port", "[[tokens]]", "token", "role", "groups", "campaign_control",
]  # fmt: skip


def write(tmp_path: Path, text: str, name: str = "site.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load_error(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return str(info.value)


@pytest.fixture(scope="module")
def site() -> SiteConfig:
    return load_config(EXAMPLES / "site.toml")


class TestExampleSite:
    def test_top_level(self, site: SiteConfig) -> None:
        """The example's source and data_dir are the file and a "data" folder beside it."""
        assert site.source == str(EXAMPLES / "site.toml")
        assert site.data_dir == EXAMPLES / "data"

    def test_sections(self, site: SiteConfig) -> None:
        """The example's listener, TLS, limit, throttle and protocol sections load as written."""
        assert site.listeners == ListenerConfig(
            host="127.0.0.1", agent_port=22700, tls_port=22701, tty_port=None, http_port=8080
        )
        assert site.tls == TlsConfig(require_client_certificate=False, minimum_version="TLSv1.2")
        assert site.limits == SessionLimits(
            idle_timeout=0, max_connections=1000, outbox_size=256, max_message_size=65536, inter_message_delay=0
        )
        assert site.throttle == LogonThrottleConfig(max_failures=5, window=60, lockout=30)
        assert site.protocol == ProtocolOptions(
            require_headset=True, pending_replies=frozenset({"AGTFinishedItem"}), encoding="latin-1"
        )
        assert site.simulation == SimulationConfig(seed=42, database="agt_server.sqlite3")

    def test_calling_lists(self, site: SiteConfig) -> None:
        """The example's accounts lists read examples/accounts.csv, one with declared fields and one with the
        header's; the others are generated."""
        accounts, accounts_text, leads, inbound = site.calling_lists
        assert accounts == CallingListConfig(
            name="accounts",
            fields=(
                FieldSpec("ACCTNUM", 16, FieldType.NUMERIC),
                FieldSpec("NAME", 26, FieldType.CHARACTER),
                FieldSpec("PHONE1", 10, FieldType.NUMERIC),
                FieldSpec("PHONE2", 10, FieldType.NUMERIC),
                FieldSpec("BALANCE", 10, FieldType.CURRENCY),
                FieldSpec("CITY", 20, FieldType.CHARACTER),
                FieldSpec("DUEDATE", 10, FieldType.DATE),
            ),
            csv_path=EXAMPLES / "accounts.csv",
            id_field="ACCTNUM",
        )
        # Header-derived: every column as text, as long as its longest value.
        assert accounts_text == CallingListConfig(
            name="accounts_text",
            fields=(
                FieldSpec("ACCTNUM", 16),
                FieldSpec("NAME", 17),
                FieldSpec("PHONE1", 10),
                FieldSpec("PHONE2", 10),
                FieldSpec("BALANCE", 7),
                FieldSpec("CITY", 11),
                FieldSpec("DUEDATE", 10),
            ),
            csv_path=EXAMPLES / "accounts.csv",
            id_field="ACCTNUM",
        )
        assert (leads.name, leads.csv_path, leads.generated_records) == ("leads", None, 500)
        assert (inbound.name, inbound.csv_path, inbound.generated_records) == ("inbound_calls", None, 100)

    def test_accounts_csv_matches_the_list(self, site: SiteConfig) -> None:
        """examples/accounts.csv has a header naming the list's fields and ten records."""
        accounts = site.calling_lists[0]
        assert accounts.csv_path is not None
        header, *rows = accounts.csv_path.read_text(encoding="utf-8").splitlines()
        assert [field.name for field in accounts.fields] == header.split(",")
        assert len(rows) == 10
        assert all(len(row.split(",")) == len(accounts.fields) for row in rows)

    def test_jobs(self, site: SiteConfig) -> None:
        """The example's first job uses every job key; the others show each job type."""
        assert site.jobs[0] == JobConfig(
            name="CMP1",
            type=JobType.OUTBOUND,
            priority=7,
            min_agents=2,
            max_agents=10,
            required_skills=frozenset({"collections"}),
            linked_job="CMP2",
            outbound_list="accounts",
            keys=(
                CompletionKey(20, "SALE", "sale"),
                CompletionKey(21, "NO SALE", "no_sale"),
                CompletionKey(22, "CALL BACK", "call_back"),
                CompletionKey(98, "AGENT RECALL", "agent_recall"),
            ),
            units=(),
            start_running=True,
            dialing=DialingConfig(
                dial_delay=(2, 6),
                answer_rate=0.7,
                outcomes=((11, 1.0), (15, 2.0), (13, 1.0)),
                max_attempts=3,
                retry_delay=120,
                hangup_rate=0.1,
                talk_time=(20, 90),
                preview_timeout=30,
                inbound_rate=0,
                callback_owner=CallbackOwner.AGENT,
                calling_hours=("08:00", "21:00"),
                callback_min_minutes=5,
            ),
        )
        assert [(job.name, job.type) for job in site.jobs] == [
            ("CMP1", JobType.OUTBOUND),
            ("CMP2", JobType.OUTBOUND),
            ("UNITS1", JobType.OUTBOUND),
            ("INBOUND1", JobType.INBOUND),
            ("BLEND1", JobType.BLEND),
            ("PREVIEW1", JobType.MANAGED),
        ]
        assert not site.jobs[1].start_running
        assert site.jobs[2].units == ("EAST", "WEST")
        assert (site.jobs[4].outbound_list, site.jobs[4].inbound_list) == ("leads", "inbound_calls")
        assert site.jobs[1].dialing == DialingConfig()
        assert [job.dialing.inbound_rate for job in site.jobs] == [0, 0, 0, 2.0, 1.0, 0]
        assert (site.jobs[5].outbound_list, site.jobs[5].dialing.preview_timeout) == ("accounts_text", 20)

    def test_agents(self, site: SiteConfig) -> None:
        """The example's agents load with their skills, work classes and groups, and agentN's password is agentN."""
        agent1, agent2, agent3 = site.agents
        assert agent1 == AgentConfig(
            name="agent1",
            password_hash=agent1.password_hash,
            skills=frozenset({"collections", "spanish"}),
            work_classes=frozenset(WorkClass),
            group="team-a",
        )
        assert agent2.work_classes == frozenset({WorkClass.OUTBOUND, WorkClass.MANAGED})
        assert (agent3.group, agent3.work_classes) == ("team-b", frozenset({WorkClass.INBOUND, WorkClass.BLEND}))
        for agent in site.agents:
            assert agent.password_hash.startswith("scrypt$14$8$1$")
            assert verify_password(agent.password_hash, agent.name)

    def test_tokens(self, site: SiteConfig) -> None:
        """The example has one token of each role; only the supervisor's has groups and campaign control."""
        assert site.tokens == (
            TokenConfig("alice", "change-me-alice-0123456789", TokenRole.ADMIN),
            TokenConfig(
                "bob", "change-me-bob-0123456789", TokenRole.SUPERVISOR, frozenset({"team-a"}), campaign_control=True
            ),
            TokenConfig("wallboard", "change-me-wallboard-0123456789", TokenRole.VIEWER),
        )

    def test_every_key_appears(self) -> None:
        """Every key the loader knows appears in the example, as a setting or a commented-out line."""
        text = (EXAMPLES / "site.toml").read_text(encoding="utf-8")
        keys = EXAMPLE_KEYS
        lines = [line.lstrip("# ") for line in text.splitlines()]
        missing = [key for key in keys if not any(line.startswith(key) or f" {key} =" in line for line in lines)]
        assert missing == []


class TestDemoConfig:
    def test_jobs(self) -> None:
        """The demo runs CMP1-CMP4 (outbound; priorities 5, 5, 3, 7) plus an inbound, a blend and a managed job."""
        site = demo_config()
        assert [(job.name, job.type, job.priority) for job in site.jobs] == [
            ("CMP1", JobType.OUTBOUND, 5),
            ("CMP2", JobType.OUTBOUND, 5),
            ("CMP3", JobType.OUTBOUND, 3),
            ("CMP4", JobType.OUTBOUND, 7),
            ("INBOUND1", JobType.INBOUND, 5),
            ("BLEND1", JobType.BLEND, 5),
            ("PREVIEW1", JobType.MANAGED, 5),
        ]
        assert all(job.start_running and job.max_agents is None and job.min_agents == 0 for job in site.jobs)

    def test_completion_keys(self) -> None:
        """Every demo job offers the seven completion keys with snake-case labels."""
        expected = (
            CompletionKey(20, "SALE", "sale"),
            CompletionKey(21, "NO SALE", "no_sale"),
            CompletionKey(22, "CALL BACK", "call_back"),
            CompletionKey(23, "WRONG PARTY", "wrong_party"),
            CompletionKey(24, "NOT INTERESTED", "not_interested"),
            CompletionKey(93, "SOLD", "sold"),
            CompletionKey(98, "AGENT RECALL", "agent_recall"),
        )
        assert all(job.keys == expected for job in demo_config().jobs)

    def test_calling_lists(self) -> None:
        """Each dialing job has its own generated list of 200 records; inbound and blend share inbound_calls."""
        site = demo_config()
        lists = {calling_list.name: calling_list for calling_list in site.calling_lists}
        assert len(lists) == len(site.calling_lists)
        assert {job.name: (job.outbound_list, job.inbound_list) for job in site.jobs} == {
            "CMP1": ("cmp1_list", None),
            "CMP2": ("cmp2_list", None),
            "CMP3": ("cmp3_list", None),
            "CMP4": ("cmp4_list", None),
            "INBOUND1": (None, "inbound_calls"),
            "BLEND1": ("blend1_list", "inbound_calls"),
            "PREVIEW1": ("preview1_list", None),
        }
        assert set(lists) == {
            "cmp1_list", "cmp2_list", "cmp3_list", "cmp4_list", "blend1_list", "preview1_list", "inbound_calls"
        }  # fmt: skip
        for calling_list in site.calling_lists:
            expected = 500 if calling_list.name == "inbound_calls" else 200
            assert (calling_list.csv_path, calling_list.generated_records) == (None, expected)
            assert calling_list.id_field is None
            assert [(field.name, field.length, field.type) for field in calling_list.fields] == [
                ("ACCTNUM", 16, "N"),
                ("NAME", 26, "C"),
                ("PHONE1", 10, "N"),
                ("PHONE2", 10, "N"),
                ("BALANCE", 10, "$"),
                ("CITY", 20, "C"),
                ("DUEDATE", 10, "D"),
            ]

    def test_dialing(self) -> None:
        """The demo dials at human speed; PREVIEW1 previews for 20 s; calls arrive at INBOUND1 and BLEND1."""
        human = DialingConfig(
            dial_delay=(2.0, 6.0),
            answer_rate=0.7,
            hangup_rate=0.1,
            talk_time=(20.0, 90.0),
            retry_delay=120.0,
            max_attempts=3,
        )
        dialing = {job.name: job.dialing for job in demo_config().jobs}
        assert dialing == {
            "CMP1": human,
            "CMP2": human,
            "CMP3": human,
            "CMP4": human,
            "INBOUND1": attrs.evolve(human, inbound_rate=2.0),
            "BLEND1": attrs.evolve(human, inbound_rate=1.0),
            "PREVIEW1": attrs.evolve(human, preview_timeout=20.0),
        }
        assert human.outcomes == DialingConfig().outcomes
        assert human.callback_owner is CallbackOwner.AGENT

    def test_simulation(self) -> None:
        """The demo has no fixed seed and the default database."""
        assert demo_config().simulation == SimulationConfig(seed=None, database="agt_server.sqlite3")

    def test_agents(self) -> None:
        """The demo has agent1-agent20 with every work class, agent1-10 in team-a and agent11-20 in team-b."""
        agents = demo_config().agents[:20]
        assert [agent.name for agent in agents] == [f"agent{number}" for number in range(1, 21)]
        assert all(agent.work_classes == frozenset(WorkClass) for agent in agents)
        assert [agent.group for agent in agents] == ["team-a"] * 10 + ["team-b"] * 10

    def test_load_agents(self) -> None:
        """After them come load1-load10000 in group "load", every work class, all with the password "load"."""
        agents = demo_config().agents[20:]
        assert [agent.name for agent in agents] == [f"load{number}" for number in range(1, DEMO_LOAD_AGENT_COUNT + 1)]
        assert {agent.group for agent in agents} == {DEMO_LOAD_GROUP}
        assert all(agent.work_classes == frozenset(WorkClass) for agent in agents)
        verifier = PasswordVerifier()
        assert all(verifier.verify(agents[index].password_hash, "load") for index in (0, 4_999, -1))
        assert not verify_password(agents[0].password_hash, "load1")

    @pytest.mark.parametrize("number", [1, 7, 20])
    def test_password_is_the_agent_name(self, number: int) -> None:
        """agentN's password is "agentN" and nothing else."""
        agent = demo_config().agents[number - 1]
        assert verify_password(agent.password_hash, f"agent{number}")
        assert not verify_password(agent.password_hash, "agent")
        assert PasswordVerifier().verify(agent.password_hash, agent.name)

    def test_hashes_are_cheap_and_computed_once(self) -> None:
        """The demo's hashes use cost 10 and are shared by every demo configuration of the process."""
        first, second = demo_config(), demo_config(Path("/elsewhere"))
        assert first.agents is second.agents
        assert all(agent.password_hash.startswith("scrypt$10$8$1$") for agent in first.agents)
        # One hash per demo agent, and one shared by every load agent.
        assert len({agent.password_hash for agent in first.agents}) == 21

    def test_listeners_and_data_dir(self) -> None:
        """The demo listens on 127.0.0.1 ports 22700-22702 and keeps its files in data_dir (default "data")."""
        site = demo_config()
        assert site.listeners == ListenerConfig(
            host="127.0.0.1", agent_port=22700, tls_port=22701, tty_port=22702, http_port=8080
        )
        assert (site.source, site.data_dir) == ("<demo>", Path("data"))
        assert demo_config(Path("/tmp/x")).data_dir == Path("/tmp/x")
        assert site.tls == TlsConfig()

    def test_demo_as_toml_loads_the_same(self, tmp_path: Path) -> None:
        """The demo obeys the loader's rules: written out as TOML it loads back to the same jobs (with their
        dialing), lists, agents and simulation."""
        site = demo_config()
        parts = []
        for calling_list in site.calling_lists:
            fields = ", ".join(
                f'{{ name = "{field.name}", length = {field.length}, type = "{field.type}" }}'
                for field in calling_list.fields
            )
            parts.append(
                f'[[calling_lists]]\nname = "{calling_list.name}"\nfields = [{fields}]\n'
                f"generated_records = {calling_list.generated_records}\n"
            )
        for job in site.jobs:
            keys = ", ".join(
                f'{{ code = {key.code}, description = "{key.description}", label = "{key.label}" }}' for key in job.keys
            )
            lists = "".join(
                f'{name} = "{value}"\n'
                for name, value in (("outbound_list", job.outbound_list), ("inbound_list", job.inbound_list))
                if value is not None
            )
            parts.append(
                f'[[jobs]]\nname = "{job.name}"\ntype = "{job.type}"\npriority = {job.priority}\n'
                f"{lists}keys = [{keys}]\n{dialing_toml(job)}"
            )
        for agent in site.agents:
            parts.append(
                f'[[agents]]\nname = "{agent.name}"\npassword_hash = "{agent.password_hash}"\ngroup = "{agent.group}"\n'
            )
        loaded = load_config(write(tmp_path, "\n".join(parts)))
        assert (site.jobs, site.calling_lists, site.agents) == (loaded.jobs, loaded.calling_lists, loaded.agents)
        assert loaded.simulation == site.simulation


def dialing_toml(job: JobConfig) -> str:
    """``job.dialing`` as a ``[jobs.dialing]`` table, every key written (inbound_rate only where allowed)."""
    dialing = job.dialing
    outcomes = ", ".join(f'"{code}" = {weight!r}' for code, weight in dialing.outcomes)
    lines = [
        "[jobs.dialing]",
        f"dial_delay = [{dialing.dial_delay[0]!r}, {dialing.dial_delay[1]!r}]",
        f"answer_rate = {dialing.answer_rate!r}",
        f"outcomes = {{ {outcomes} }}",
        f"max_attempts = {dialing.max_attempts}",
        f"retry_delay = {dialing.retry_delay!r}",
        f"hangup_rate = {dialing.hangup_rate!r}",
        f"talk_time = [{dialing.talk_time[0]!r}, {dialing.talk_time[1]!r}]",
        f"preview_timeout = {dialing.preview_timeout!r}",
        f'callback_owner = "{dialing.callback_owner}"',
        f'calling_hours = ["{dialing.calling_hours[0]}", "{dialing.calling_hours[1]}"]',
        f"callback_min_minutes = {dialing.callback_min_minutes}",
    ]
    if job.type in (JobType.INBOUND, JobType.BLEND):
        lines.append(f"inbound_rate = {dialing.inbound_rate!r}")
    return "\n".join(lines) + "\n"


class TestDemoTokens:
    def test_one_token_per_role(self) -> None:
        """The demo has the public tokens demo-admin, demo-supervisor (team-a, campaign control) and demo-viewer,
        each named after itself."""
        assert demo_config().tokens == (
            TokenConfig("demo-admin", "demo-admin", TokenRole.ADMIN),
            TokenConfig(
                "demo-supervisor", "demo-supervisor", TokenRole.SUPERVISOR, frozenset({"team-a"}), campaign_control=True
            ),
            TokenConfig("demo-viewer", "demo-viewer", TokenRole.VIEWER),
        )

    def test_supervisor_group_is_agent1_to_agent10(self) -> None:
        """demo-supervisor's group team-a holds exactly agent1-agent10."""
        site = demo_config()
        (supervisor,) = [token for token in site.tokens if token.role is TokenRole.SUPERVISOR]
        assert [agent.name for agent in site.agents if agent.group in supervisor.groups] == [
            f"agent{number}" for number in range(1, 11)
        ]


TOKEN = '[[tokens]]\nname = "t1"\ntoken = "secret-token-1"\n'


class TestLoadConfig:
    def test_minimal(self, tmp_path: Path) -> None:
        """A file with one list, one job and one agent loads, and everything else takes the models' defaults."""
        path = write(tmp_path, MINIMAL)
        assert load_config(path) == SiteConfig(
            source=str(path),
            jobs=(JobConfig(name="J1", type=JobType.OUTBOUND, outbound_list="l1"),),
            agents=(AgentConfig(name="a1", password_hash=HASH),),
            calling_lists=(CallingListConfig(name="l1", fields=(FieldSpec("A", 5),)),),
            data_dir=tmp_path / "data",
        )

    def test_relative_paths_follow_the_file(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """Relative paths are taken from the config file's folder, not from the working directory."""
        (tmp_path / "conf").mkdir()
        write(
            tmp_path / "conf",
            'data_dir = "state"\n[tls]\ncertificate = "tls/server.pem"\nkey = "tls/server.key"\n'
            'client_ca = "../ca.pem"\n'
            + LIST.replace('name = "l1"', 'name = "l1"\ncsv = "lists/l1.csv"')
            + JOB
            + AGENT,
        )
        (tmp_path / "conf" / "lists").mkdir()
        write(tmp_path / "conf" / "lists", "A\nx\n", "l1.csv")
        monkeypatch.chdir(tmp_path)
        site = load_config(Path("conf/site.toml"))
        assert site.source == "conf/site.toml"
        assert site.data_dir == tmp_path / "conf" / "state"
        assert site.tls.certificate == tmp_path / "conf" / "tls" / "server.pem"
        assert site.tls.key == tmp_path / "conf" / "tls" / "server.key"
        assert site.tls.client_ca == tmp_path / "conf" / ".." / "ca.pem"
        assert site.calling_lists[0].csv_path == tmp_path / "conf" / "lists" / "l1.csv"

    def test_absolute_paths_are_kept(self, tmp_path: Path) -> None:
        """An absolute path is used as written."""
        site = load_config(write(tmp_path, 'data_dir = "/var/lib/agt"\n' + MINIMAL))
        assert site.data_dir == Path("/var/lib/agt")

    def test_ports(self, tmp_path: Path) -> None:
        """ "off" disables a listener, and port 0 (any free port) may be used by several listeners."""
        site = load_config(
            write(tmp_path, '[listeners]\nhost = "0.0.0.0"\nagent_port = 0\ntls_port = 0\ntty_port = "off"\n' + MINIMAL)
        )
        assert site.listeners == ListenerConfig(host="0.0.0.0", agent_port=0, tls_port=0, tty_port=None)
        site = load_config(write(tmp_path, '[listeners]\nhttp_port = "off"\n' + MINIMAL))
        assert site.listeners.http_port is None
        site = load_config(write(tmp_path, "[listeners]\nhttp_port = 9090\n" + MINIMAL))
        assert site.listeners.http_port == 9090

    def test_tokens(self, tmp_path: Path) -> None:
        """[[tokens]] load in order; groups and campaign_control are a supervisor's, and default to none and false."""
        text = (
            MINIMAL.replace('name = "a1"', 'name = "a1"\ngroup = "g1"')
            + TOKEN + 'role = "admin"\n'
            + '[[tokens]]\nname = "Carol Supervisor"\ntoken = "secret-token-2"\nrole = "supervisor"\ngroups = ["g1"]\n'
            + '[[tokens]]\nname = "t3"\ntoken = "secret-token-3"\nrole = "supervisor"\ngroups = ["g1", "g1"]\n'
            + "campaign_control = true\n"
            + '[[tokens]]\nname = "t4"\ntoken = "secret-token-4"\nrole = "viewer"\n'
        )
        assert load_config(write(tmp_path, text)).tokens == (
            TokenConfig("t1", "secret-token-1", TokenRole.ADMIN),
            TokenConfig("Carol Supervisor", "secret-token-2", TokenRole.SUPERVISOR, frozenset({"g1"})),
            TokenConfig("t3", "secret-token-3", TokenRole.SUPERVISOR, frozenset({"g1"}), campaign_control=True),
            TokenConfig("t4", "secret-token-4", TokenRole.VIEWER),
        )

    def test_no_tokens(self, tmp_path: Path) -> None:
        """Without [[tokens]] there are none."""
        assert load_config(write(tmp_path, MINIMAL)).tokens == ()

    def test_numbers_accept_integers_and_floats(self, tmp_path: Path) -> None:
        """Durations may be written as integers or floats and come back as floats."""
        site = load_config(
            write(
                tmp_path,
                "[limits]\nidle_timeout = 30\ninter_message_delay = 0.25\n[throttle]\nwindow = 0.5\n" + MINIMAL,
            )
        )
        assert (site.limits.idle_timeout, site.limits.inter_message_delay, site.throttle.window) == (30.0, 0.25, 0.5)
        assert isinstance(site.limits.idle_timeout, float)

    @pytest.mark.parametrize("encoding", ["latin-1", "cp1252", "cp437", "iso8859-15"])
    def test_single_byte_encodings(self, tmp_path: Path, encoding: str) -> None:
        """Single-byte encodings are accepted and kept as written."""
        site = load_config(write(tmp_path, f'[protocol]\nencoding = "{encoding}"\n' + MINIMAL))
        assert site.protocol.encoding == encoding

    def test_job_options(self, tmp_path: Path) -> None:
        """A job may link to a job defined after it, and max_agents may equal min_agents."""
        text = LIST + JOB.replace('type = "O"', 'type = "O"\nlinked_job = "J2"\nmin_agents = 3\nmax_agents = 3')
        text += JOB.replace("J1", "J2") + AGENT
        site = load_config(write(tmp_path, text))
        assert (site.jobs[0].linked_job, site.jobs[0].min_agents, site.jobs[0].max_agents) == ("J2", 3, 3)
        assert site.jobs[1].max_agents is None

    def test_work_classes_subset(self, tmp_path: Path) -> None:
        """An agent's work_classes are the ones listed, duplicates collapsed."""
        text = LIST + JOB + AGENT + 'work_classes = ["I", "B", "I"]\nskills = ["x", "y"]\n'
        agent = load_config(write(tmp_path, text)).agents[0]
        assert agent.work_classes == frozenset({WorkClass.INBOUND, WorkClass.BLEND})
        assert agent.skills == frozenset({"x", "y"})


# Each case: a whole file, and the message after "<file>: ".
BAD_FILES = [
    # top level
    ("foo = 1\n" + MINIMAL, "unknown key 'foo'"),
    ("data_dir = 5\n" + MINIMAL, "data_dir: must be a string, got 5"),
    ('data_dir = ""\n' + MINIMAL, "data_dir: must not be empty"),
    ("listeners = 5\n" + MINIMAL, "listeners: must be a table, got 5"),
    ("tls = [1]\n" + MINIMAL, "tls: must be a table, got an array"),
    (LIST + AGENT, "jobs: at least one job is required ([[jobs]])"),
    ("jobs = []\n" + LIST + AGENT, "jobs: at least one job is required ([[jobs]])"),
    (LIST + JOB, "agents: at least one agent is required ([[agents]])"),
    ("jobs = 3\n" + LIST + AGENT, "jobs: must be an array of tables, got 3"),
    ("jobs = [1]\n" + LIST + AGENT, "jobs[0]: must be a table, got 1"),
    ("agents = [{}, 'x']\n" + LIST + JOB, "agents[1]: must be a table, got 'x'"),
    # listeners
    ('[listeners]\nhots = "x"\n' + MINIMAL, "listeners: unknown key 'hots'"),
    ('[listeners]\nhost = ""\n' + MINIMAL, "listeners.host: must not be empty"),
    ("[listeners]\nhost = 1\n" + MINIMAL, "listeners.host: must be a string, got 1"),
    ("[listeners]\nagent_port = 70000\n" + MINIMAL,
     'listeners.agent_port: must be a port number from 0 to 65535 or "off", got 70000'),
    ("[listeners]\ntls_port = -1\n" + MINIMAL,
     'listeners.tls_port: must be a port number from 0 to 65535 or "off", got -1'),
    ('[listeners]\ntty_port = "on"\n' + MINIMAL,
     "listeners.tty_port: must be a port number from 0 to 65535 or \"off\", got 'on'"),
    ("[listeners]\nagent_port = true\n" + MINIMAL,
     'listeners.agent_port: must be a port number from 0 to 65535 or "off", got true'),
    ("[listeners]\nagent_port = 2.5\n" + MINIMAL,
     'listeners.agent_port: must be a port number from 0 to 65535 or "off", got 2.5'),
    ("[listeners]\ntls_port = 22700\n" + MINIMAL,
     "listeners.tls_port: port 22700 is already used by listeners.agent_port"),
    ("[listeners]\nagent_port = 9000\ntty_port = 9000\n" + MINIMAL,
     "listeners.tty_port: port 9000 is already used by listeners.agent_port"),
    ('[listeners]\nhttp_port = "on"\n' + MINIMAL,
     "listeners.http_port: must be a port number from 0 to 65535 or \"off\", got 'on'"),
    ("[listeners]\nhttp_port = 22700\n" + MINIMAL,
     "listeners.http_port: port 22700 is already used by listeners.agent_port"),
    # tokens
    ("tokens = 1\n" + MINIMAL, "tokens: must be an array of tables, got 1"),
    (MINIMAL + '[[tokens]]\ntoken = "secret-token-1"\nrole = "admin"\n', "tokens[0]: missing required key 'name'"),
    (MINIMAL + '[[tokens]]\nname = "t1"\nrole = "admin"\n', "tokens[0]: missing required key 'token'"),
    (MINIMAL + TOKEN, "tokens[0]: missing required key 'role'"),
    (MINIMAL + TOKEN + 'role = "admin"\ncolour = "red"\n', "tokens[0]: unknown key 'colour'"),
    (MINIMAL + '[[tokens]]\nname = ""\ntoken = "secret-token-1"\nrole = "admin"\n',
     "tokens[0].name: must be a non-empty line of printable text, got ''"),
    (MINIMAL + '[[tokens]]\nname = "t1"\ntoken = "short"\nrole = "admin"\n',
     "tokens[0].token: must be at least 8 characters, got 5"),
    (MINIMAL + '[[tokens]]\nname = "t1"\ntoken = "has a space"\nrole = "admin"\n',
     "tokens[0].token: must be printable ASCII without spaces (it is sent in an HTTP header)"),
    (MINIMAL + '[[tokens]]\nname = "t1"\ntoken = 12345678\nrole = "admin"\n',
     "tokens[0].token: must be a string, got 12345678"),
    (MINIMAL + TOKEN + 'role = "boss"\n',
     "tokens[0].role: must be one of 'admin', 'supervisor' or 'viewer', got 'boss'"),
    (MINIMAL + TOKEN + 'role = "admin"\ngroups = ["default"]\n',
     "tokens[0].groups: only a supervisor token has groups (an admin token may do everything)"),
    (MINIMAL + TOKEN + 'role = "viewer"\ncampaign_control = false\n',
     "tokens[0].campaign_control: only a supervisor token has campaign_control (a viewer token may only read)"),
    (MINIMAL + TOKEN + 'role = "supervisor"\n',
     "tokens[0].groups: a supervisor token needs at least one agent group"),
    (MINIMAL + TOKEN + 'role = "supervisor"\ngroups = ["default", "team-x"]\n',
     "tokens[0].groups[1]: no agent is in group 'team-x'"),
    (MINIMAL + TOKEN + 'role = "supervisor"\ngroups = ["default"]\ncampaign_control = "yes"\n',
     "tokens[0].campaign_control: must be true or false, got 'yes'"),
    (MINIMAL + TOKEN + 'role = "admin"\n' + TOKEN.replace("secret-token-1", "secret-token-2") + 'role = "admin"\n',
     "tokens[1].name: duplicate token name 't1' (first at tokens[0].name)"),
    (MINIMAL + TOKEN + 'role = "admin"\n' + TOKEN.replace('"t1"', '"t2"') + 'role = "viewer"\n',
     "tokens[1].token: the same token as tokens[0].token (each token must be unique)"),
    # tls
    ('[tls]\ncertificate = "c.pem"\n' + MINIMAL, "tls.key: required when certificate is given"),
    ('[tls]\nkey = "k.pem"\n' + MINIMAL, "tls.certificate: required when key is given"),
    ("[tls]\nrequire_client_certificate = true\n" + MINIMAL,
     "tls.require_client_certificate: needs client_ca, the CA bundle to verify client certificates with"),
    ('[tls]\nrequire_client_certificate = "yes"\n' + MINIMAL,
     "tls.require_client_certificate: must be true or false, got 'yes'"),
    ('[tls]\nminimum_version = "TLSv1.4"\n' + MINIMAL,
     "tls.minimum_version: must be one of 'TLSv1', 'TLSv1.1', 'TLSv1.2' or 'TLSv1.3', got 'TLSv1.4'"),
    ("[tls]\nminimum_version = 1.2\n" + MINIMAL,
     "tls.minimum_version: must be one of 'TLSv1', 'TLSv1.1', 'TLSv1.2' or 'TLSv1.3', got 1.2"),
    ('[tls]\ncertificate = ""\n' + MINIMAL, "tls.certificate: must not be empty"),
    ("[tls]\nclient_ca = 3\n" + MINIMAL, "tls.client_ca: must be a string, got 3"),
    ('[tls]\nciphers = "HIGH"\n' + MINIMAL, "tls: unknown key 'ciphers'"),
    # limits
    ("[limits]\nidle_timeout = -1\n" + MINIMAL, "limits.idle_timeout: must be a number of at least 0, got -1"),
    ('[limits]\nidle_timeout = "5"\n' + MINIMAL, "limits.idle_timeout: must be a number of at least 0, got '5'"),
    ("[limits]\nidle_timeout = nan\n" + MINIMAL, "limits.idle_timeout: must be a number of at least 0, got nan"),
    ("[limits]\nidle_timeout = inf\n" + MINIMAL, "limits.idle_timeout: must be a number of at least 0, got inf"),
    ("[limits]\nidle_timeout = false\n" + MINIMAL, "limits.idle_timeout: must be a number of at least 0, got false"),
    ("[limits]\nmax_connections = 0\n" + MINIMAL, "limits.max_connections: must be an integer of at least 1, got 0"),
    ("[limits]\noutbox_size = 1.5\n" + MINIMAL, "limits.outbox_size: must be an integer of at least 1, got 1.5"),
    ("[limits]\nmax_message_size = 255\n" + MINIMAL,
     "limits.max_message_size: must be an integer from 256 to 16777216, got 255"),
    ("[limits]\nmax_message_size = 16777217\n" + MINIMAL,
     "limits.max_message_size: must be an integer from 256 to 16777216, got 16777217"),
    ("[limits]\ninter_message_delay = -0.5\n" + MINIMAL,
     "limits.inter_message_delay: must be a number of at least 0, got -0.5"),
    ("[limits]\nidle_timout = 5\n" + MINIMAL, "limits: unknown key 'idle_timout'"),
    # throttle
    ("[throttle]\nmax_failures = 0\n" + MINIMAL, "throttle.max_failures: must be an integer of at least 1, got 0"),
    ("[throttle]\nwindow = 0\n" + MINIMAL, "throttle.window: must be a number greater than 0, got 0"),
    ("[throttle]\nwindow = 0.0\n" + MINIMAL, "throttle.window: must be a number greater than 0, got 0"),
    ("[throttle]\nlockout = -1\n" + MINIMAL, "throttle.lockout: must be a number of at least 0, got -1"),
    # protocol
    ("[protocol]\nrequire_headset = 1\n" + MINIMAL, "protocol.require_headset: must be true or false, got 1"),
    ('[protocol]\npending_replies = "AGTFinishedItem"\n' + MINIMAL,
     "protocol.pending_replies: must be an array, got 'AGTFinishedItem'"),
    ('[protocol]\npending_replies = ["FinishedItem"]\n' + MINIMAL,
     "protocol.pending_replies[0]: must be an AGT command keyword such as 'AGTFinishedItem', got 'FinishedItem'"),
    ('[protocol]\npending_replies = ["AGTFinishedItem", "AGT Logon"]\n' + MINIMAL,
     "protocol.pending_replies[1]: must be an AGT command keyword such as 'AGTFinishedItem', got 'AGT Logon'"),
    ('[protocol]\npending_replies = ["AGTThisKeywordIsTooLong"]\n' + MINIMAL,
     "protocol.pending_replies[0]: must be an AGT command keyword such as 'AGTFinishedItem', "
     "got 'AGTThisKeywordIsTooLong'"),
    ('[protocol]\npending_replies = ["AGTFinishedItem", 3]\n' + MINIMAL,
     "protocol.pending_replies[1]: must be a string, got 3"),
    *[
        (f'[protocol]\nencoding = "{name}"\n' + MINIMAL,
         f"protocol.encoding: must be a single-byte text encoding such as 'latin-1' or 'cp1252', got '{name}'")
        for name in ("utf-8", "ascii", "utf-16", "no-such-codec", "hex", "rot13", "")
    ],
    ("[protocol]\nencoding = 1\n" + MINIMAL, "protocol.encoding: must be a string, got 1"),
    # calling lists
    ("[[calling_lists]]\nfields = []\n" + JOB + AGENT, "calling_lists[0]: missing required key 'name'"),
    ('[[calling_lists]]\nname = "l1"\n' + JOB + AGENT, "calling_lists[0]: missing required key 'fields'"),
    ('[[calling_lists]]\nname = "l1"\nfields = []\n' + JOB + AGENT,
     "calling_lists[0].fields: must have at least one field"),
    ('[[calling_lists]]\nname = "l1"\nfields = "A"\n' + JOB + AGENT,
     "calling_lists[0].fields: must be an array of tables, got 'A'"),
    ('[[calling_lists]]\nname = "l1"\nfields = ["A"]\n' + JOB + AGENT,
     "calling_lists[0].fields[0]: must be a table, got 'A'"),
    ('[[calling_lists]]\nname = "l1"\nfields = [{ name = "A" }]\n' + JOB + AGENT,
     "calling_lists[0].fields[0]: missing required key 'length'"),
    ('[[calling_lists]]\nname = "l1"\nfields = [{ name = "A", lenght = 5 }]\n' + JOB + AGENT,
     "calling_lists[0].fields[0]: unknown key 'lenght'"),
    ('[[calling_lists]]\nname = "l1"\nfields = [{ name = "A", length = 0 }]\n' + JOB + AGENT,
     "calling_lists[0].fields[0].length: must be an integer from 1 to 255, got 0"),
    ('[[calling_lists]]\nname = "l1"\nfields = [{ name = "A", length = 256 }]\n' + JOB + AGENT,
     "calling_lists[0].fields[0].length: must be an integer from 1 to 255, got 256"),
    ('[[calling_lists]]\nname = "l1"\nfields = [{ name = "A", length = 5, type = "X" }]\n' + JOB + AGENT,
     "calling_lists[0].fields[0].type: must be one of 'C', 'N', '$', 'D' or 'T', got 'X'"),
    ('[[calling_lists]]\nname = "l1"\nfields = [{ name = "A", length = 5 }, { name = "B B", length = 5 }]\n'
     + JOB + AGENT,
     "calling_lists[0].fields[1].name: must not contain spaces, got 'B B'"),
    ('[[calling_lists]]\nname = "l1"\nfields = [{ name = "ABCDEFGHIJKLMNOPQRST", length = 5 }]\n' + JOB + AGENT,
     "calling_lists[0].fields[0].name: must be at most 19 characters, got 'ABCDEFGHIJKLMNOPQRST' (20)"),
    ('[[calling_lists]]\nname = "l1"\nfields = [{ name = "A", length = 5 }, { name = "A", length = 3 }]\n'
     + JOB + AGENT,
     "calling_lists[0].fields[1].name: duplicate field name 'A' (first at calling_lists[0].fields[0].name)"),
    (LIST + LIST + JOB + AGENT,
     "calling_lists[1].name: duplicate calling list name 'l1' (first at calling_lists[0].name)"),
    (LIST + 'csv = "l1.csv"\ngenerated_records = 10\n' + JOB + AGENT,
     "calling_lists[0].generated_records: cannot be combined with csv (records come from one or the other)"),
    (LIST + "generated_records = -1\n" + JOB + AGENT,
     "calling_lists[0].generated_records: must be an integer from 0 to 1000000, got -1"),
    (LIST + "generated_records = 1000001\n" + JOB + AGENT,
     "calling_lists[0].generated_records: must be an integer from 0 to 1000000, got 1000001"),
    (LIST + "csv = 5\n" + JOB + AGENT, "calling_lists[0].csv: must be a string, got 5"),
    (LIST + 'cvs = "l1.csv"\n' + JOB + AGENT, "calling_lists[0]: unknown key 'cvs'"),
    # jobs
    (LIST + JOB + "priorty = 5\n" + AGENT, "jobs[0]: unknown key 'priorty'"),
    (LIST + '[[jobs]]\ntype = "O"\noutbound_list = "l1"\n' + AGENT, "jobs[0]: missing required key 'name'"),
    (LIST + '[[jobs]]\nname = "J1"\noutbound_list = "l1"\n' + AGENT, "jobs[0]: missing required key 'type'"),
    (LIST + JOB.replace('"J1"', '"CAMPAIGN_NUMBER_0001"') + AGENT,
     "jobs[0].name: must be at most 19 characters, got 'CAMPAIGN_NUMBER_0001' (20)"),
    (LIST + JOB.replace('"J1"', '"MY JOB"') + AGENT, "jobs[0].name: must not contain spaces, got 'MY JOB'"),
    (LIST + JOB.replace('"J1"', '"A,B"') + AGENT, "jobs[0].name: must not contain commas, got 'A,B'"),
    (LIST + JOB.replace('"J1"', '"CAMPAÑA"') + AGENT, "jobs[0].name: must be printable ASCII, got 'CAMPAÑA'"),
    (LIST + JOB.replace('"J1"', '"A\\tB"') + AGENT, "jobs[0].name: must be printable ASCII, got 'A\\tB'"),
    (LIST + JOB.replace('"J1"', '""') + AGENT, "jobs[0].name: must not be empty"),
    (LIST + JOB.replace('"J1"', "7") + AGENT, "jobs[0].name: must be a string, got 7"),
    (LIST + JOB.replace('"O"', '"X"') + AGENT, "jobs[0].type: must be one of 'O', 'I', 'B' or 'M', got 'X'"),
    (LIST + JOB.replace('"O"', '"o"') + AGENT, "jobs[0].type: must be one of 'O', 'I', 'B' or 'M', got 'o'"),
    (LIST + JOB + "priority = 12\n" + AGENT, "jobs[0].priority: must be an integer from 1 to 10, got 12"),
    (LIST + JOB + "priority = 0\n" + AGENT, "jobs[0].priority: must be an integer from 1 to 10, got 0"),
    (LIST + JOB + 'priority = "high"\n' + AGENT, "jobs[0].priority: must be an integer from 1 to 10, got 'high'"),
    (LIST + JOB + "priority = true\n" + AGENT, "jobs[0].priority: must be an integer from 1 to 10, got true"),
    (LIST + JOB + JOB.replace("J1", "J2") + "priority = 12\n" + AGENT,
     "jobs[1].priority: must be an integer from 1 to 10, got 12"),
    (LIST + JOB + "min_agents = -1\n" + AGENT, "jobs[0].min_agents: must be an integer of at least 0, got -1"),
    (LIST + JOB + "min_agents = 3\nmax_agents = 2\n" + AGENT,
     "jobs[0].max_agents: must be at least min_agents (3), got 2"),
    (LIST + JOB + "max_agents = -1\n" + AGENT, "jobs[0].max_agents: must be an integer of at least 0, got -1"),
    (LIST + JOB + 'required_skills = "a"\n' + AGENT, "jobs[0].required_skills: must be an array, got 'a'"),
    (LIST + JOB + 'required_skills = ["a", ""]\n' + AGENT, "jobs[0].required_skills[1]: must not be empty"),
    (LIST + JOB + 'required_skills = ["a", 2]\n' + AGENT, "jobs[0].required_skills[1]: must be a string, got 2"),
    (LIST + JOB + 'linked_job = "J1"\n' + AGENT, "jobs[0].linked_job: a job cannot link to itself ('J1')"),
    (LIST + JOB + 'linked_job = "NOPE"\n' + AGENT, "jobs[0].linked_job: no job named 'NOPE'"),
    (LIST + JOB + "linked_job = 3\n" + AGENT, "jobs[0].linked_job: must be a string, got 3"),
    (LIST + '[[jobs]]\nname = "J1"\ntype = "O"\n' + AGENT,
     "jobs[0].outbound_list: required for an outbound job (type 'O')"),
    (LIST + '[[jobs]]\nname = "J1"\ntype = "M"\n' + AGENT,
     "jobs[0].outbound_list: required for a managed job (type 'M')"),
    (LIST + '[[jobs]]\nname = "J1"\ntype = "B"\noutbound_list = "l1"\n' + AGENT,
     "jobs[0].inbound_list: required for a blend job (type 'B')"),
    (LIST + '[[jobs]]\nname = "J1"\ntype = "I"\n' + AGENT,
     "jobs[0].inbound_list: required for an inbound job (type 'I')"),
    (LIST + '[[jobs]]\nname = "J1"\ntype = "I"\noutbound_list = "l1"\ninbound_list = "l1"\n' + AGENT,
     "jobs[0].outbound_list: not used by an inbound job (type 'I')"),
    (LIST + JOB + 'inbound_list = "l1"\n' + AGENT, "jobs[0].inbound_list: not used by an outbound job (type 'O')"),
    (LIST + JOB.replace('outbound_list = "l1"', 'outbound_list = "nope"') + AGENT,
     "jobs[0].outbound_list: no calling list named 'nope'"),
    (LIST + '[[jobs]]\nname = "J1"\ntype = "I"\ninbound_list = "nope"\n' + AGENT,
     "jobs[0].inbound_list: no calling list named 'nope'"),
    (LIST + JOB + 'keys = [{ code = 201, description = "X" }]\n' + AGENT,
     "jobs[0].keys[0].code: must be an integer from 0 to 200, got 201"),
    (LIST + JOB + 'keys = [{ code = -1, description = "X" }]\n' + AGENT,
     "jobs[0].keys[0].code: must be an integer from 0 to 200, got -1"),
    (LIST + JOB + 'keys = [{ code = "20", description = "X" }]\n' + AGENT,
     "jobs[0].keys[0].code: must be an integer from 0 to 200, got '20'"),
    (LIST + JOB + 'keys = [{ description = "X" }]\n' + AGENT, "jobs[0].keys[0]: missing required key 'code'"),
    (LIST + JOB + "keys = [{ code = 20 }]\n" + AGENT, "jobs[0].keys[0]: missing required key 'description'"),
    (LIST + JOB + 'keys = [{ code = 20, description = "" }]\n' + AGENT,
     "jobs[0].keys[0].description: must not be empty"),
    (LIST + JOB + 'keys = [{ code = 20, description = "A" }, { code = 21, description = "NO, SALE" }]\n' + AGENT,
     "jobs[0].keys[1].description: must not contain commas, got 'NO, SALE'"),
    (LIST + JOB + 'keys = [{ code = 20, description = "SALE", label = "a,b" }]\n' + AGENT,
     "jobs[0].keys[0].label: must not contain commas, got 'a,b'"),
    (LIST + JOB + 'keys = [{ code = 20, description = "SALE", label = 1 }]\n' + AGENT,
     "jobs[0].keys[0].label: must be a string, got 1"),
    (LIST + JOB + 'keys = [{ code = 20, description = "A" }, { code = 20, description = "B" }]\n' + AGENT,
     "jobs[0].keys[1].code: duplicate completion code '20' (first at jobs[0].keys[0].code)"),
    (LIST + JOB + 'keys = [{ code = 20, descr = "A" }]\n' + AGENT, "jobs[0].keys[0]: unknown key 'descr'"),
    (LIST + JOB + 'keys = { code = 20, description = "A" }\n' + AGENT,
     "jobs[0].keys: must be an array of tables, got a table"),
    (LIST + JOB + "units = [1]\n" + AGENT, "jobs[0].units[0]: must be a string, got 1"),
    (LIST + JOB + 'start_running = "yes"\n' + AGENT, "jobs[0].start_running: must be true or false, got 'yes'"),
    (LIST + JOB + JOB + AGENT, "jobs[1].name: duplicate job name 'J1' (first at jobs[0].name)"),
    # agents
    (LIST + JOB + '[[agents]]\nname = "a1"\n', "agents[0]: missing required key 'password_hash'"),
    (LIST + JOB + f'[[agents]]\npassword_hash = "{HASH}"\n', "agents[0]: missing required key 'name'"),
    (LIST + JOB + '[[agents]]\nname = "a1"\npassword_hash = "secret"\n',
     "agents[0].password_hash: not a password hash: expected 'scrypt$<cost>$<r>$<p>$<salt>$<key>' "
     "as `agt-server hash-password` prints it"),
    (LIST + JOB + '[[agents]]\nname = "a1"\npassword_hash = "scrypt$99$8$1$c2FsdHNhbHQ=$a2V5a2V5a2V5a2V5a2V5a2V5"\n',
     "agents[0].password_hash: password hash cost must be an integer from 1 to 20"),
    (LIST + JOB + '[[agents]]\nname = "a1"\npassword_hash = 5\n', "agents[0].password_hash: must be a string, got 5"),
    (LIST + JOB + AGENT + 'pasword = "x"\n', "agents[0]: unknown key 'pasword'"),
    (LIST + JOB + AGENT.replace('"a1"', '"agent one"'), "agents[0].name: must not contain spaces, got 'agent one'"),
    (LIST + JOB + AGENT.replace('"a1"', '"agent,1"'), "agents[0].name: must not contain commas, got 'agent,1'"),
    (LIST + JOB + AGENT.replace('"a1"', '"agent_number_0000001"'),
     "agents[0].name: must be at most 19 characters, got 'agent_number_0000001' (20)"),
    (LIST + JOB + AGENT + AGENT, "agents[1].name: duplicate agent name 'a1' (first at agents[0].name)"),
    (LIST + JOB + AGENT + "work_classes = []\n", "agents[0].work_classes: must list at least one work class"),
    (LIST + JOB + AGENT + 'work_classes = ["O", "X"]\n',
     "agents[0].work_classes[1]: must be one of 'O', 'I', 'B', 'P' or 'M', got 'X'"),
    (LIST + JOB + AGENT + 'work_classes = "O"\n', "agents[0].work_classes: must be an array, got 'O'"),
    (LIST + JOB + AGENT + 'group = ""\n', "agents[0].group: must not be empty"),
    (LIST + JOB + AGENT + "group = 1\n", "agents[0].group: must be a string, got 1"),
    (LIST + JOB + AGENT + 'skills = [""]\n', "agents[0].skills[0]: must not be empty"),
    # calling lists: id_field, and generated lists' ids
    (LIST + 'id_field = "B"\n' + JOB + AGENT, "calling_lists[0].id_field: no field named 'B'"),
    (LIST + "id_field = 1\n" + JOB + AGENT, "calling_lists[0].id_field: must be a string, got 1"),
    (LIST + 'id_field = ""\n' + JOB + AGENT, "calling_lists[0].id_field: no field named ''"),
    ('[[calling_lists]]\nname = "l1"\nfields = [{ name = "A", length = 2, type = "N" }]\ngenerated_records = 101\n'
     + JOB + AGENT,
     "calling_lists[0].generated_records: must be at most 100, the number of different values of the id field 'A' "
     "(type 'N', length 2), got 101"),
    ('[[calling_lists]]\nname = "l1"\nfields = [{ name = "A", length = 1 }, { name = "B", length = 4, type = "T" }]\n'
     'id_field = "B"\ngenerated_records = 1\n' + JOB + AGENT,
     "calling_lists[0].generated_records: must be at most 0, the number of different values of the id field 'B' "
     "(type 'T', length 4), got 1"),
    ('[[calling_lists]]\nname = "l1"\nfields = [{ name = "T", length = 5, type = "T" }]\ngenerated_records = 1441\n'
     + JOB + AGENT,
     "calling_lists[0].generated_records: must be at most 1440, the number of different values of the id field 'T' "
     "(type 'T', length 5), got 1441"),
    # simulation
    ("simulation = 5\n" + MINIMAL, "simulation: must be a table, got 5"),
    ("[simulation]\nsed = 1\n" + MINIMAL, "simulation: unknown key 'sed'"),
    ('[simulation]\nseed = "x"\n' + MINIMAL, "simulation.seed: must be an integer, got 'x'"),
    ("[simulation]\nseed = 1.5\n" + MINIMAL, "simulation.seed: must be an integer, got 1.5"),
    ("[simulation]\nseed = true\n" + MINIMAL, "simulation.seed: must be an integer, got true"),
    ('[simulation]\ndatabase = ""\n' + MINIMAL,
     'simulation.database: must not be empty (use ":memory:" for a database that is not kept)'),
    ("[simulation]\ndatabase = 5\n" + MINIMAL, "simulation.database: must be a string, got 5"),
    # dialing
    (LIST + JOB + "dialing = 5\n" + AGENT, "jobs[0].dialing: must be a table, got 5"),
    (LIST + JOB + DIALING + "dial_dely = [1, 2]\n" + AGENT, "jobs[0].dialing: unknown key 'dial_dely'"),
    (LIST + JOB + DIALING + "dial_delay = 5\n" + AGENT,
     "jobs[0].dialing.dial_delay: must be [min, max], two numbers of seconds, got 5"),
    (LIST + JOB + DIALING + "dial_delay = [1, 2, 3]\n" + AGENT,
     "jobs[0].dialing.dial_delay: must be [min, max], two numbers of seconds, got an array of 3"),
    (LIST + JOB + DIALING + "dial_delay = [-1, 2]\n" + AGENT,
     "jobs[0].dialing.dial_delay[0]: must be a number of at least 0, got -1"),
    (LIST + JOB + DIALING + 'dial_delay = [1, "2"]\n' + AGENT,
     "jobs[0].dialing.dial_delay[1]: must be a number of at least 0, got '2'"),
    (LIST + JOB + DIALING + "dial_delay = [6, 2]\n" + AGENT,
     "jobs[0].dialing.dial_delay: min (6) must not be greater than max (2)"),
    (LIST + JOB + DIALING + "answer_rate = 1.5\n" + AGENT,
     "jobs[0].dialing.answer_rate: must be a number from 0 to 1, got 1.5"),
    (LIST + JOB + DIALING + "answer_rate = -0.1\n" + AGENT,
     "jobs[0].dialing.answer_rate: must be a number from 0 to 1, got -0.1"),
    (LIST + JOB + DIALING + 'answer_rate = "high"\n' + AGENT,
     "jobs[0].dialing.answer_rate: must be a number from 0 to 1, got 'high'"),
    (LIST + JOB + DIALING + "outcomes = 5\n" + AGENT,
     'jobs[0].dialing.outcomes: must be a table of completion code = weight, such as { "15" = 2.0 }, got 5'),
    (LIST + JOB + DIALING + 'outcomes = { "abc" = 1 }\n' + AGENT,
     "jobs[0].dialing.outcomes: key 'abc' must be a completion code from 0 to 200"),
    (LIST + JOB + DIALING + 'outcomes = { "201" = 1 }\n' + AGENT,
     "jobs[0].dialing.outcomes: key '201' must be a completion code from 0 to 200"),
    (LIST + JOB + DIALING + 'outcomes = { "011" = 1 }\n' + AGENT,
     "jobs[0].dialing.outcomes: key '011' must be a completion code from 0 to 200"),
    (LIST + JOB + DIALING + 'outcomes = { "-1" = 1 }\n' + AGENT,
     "jobs[0].dialing.outcomes: key '-1' must be a completion code from 0 to 200"),
    (LIST + JOB + DIALING + 'outcomes = { "11" = 1, "15" = -1 }\n' + AGENT,
     "jobs[0].dialing.outcomes.15: must be a number of at least 0, got -1"),
    (LIST + JOB + DIALING + 'outcomes = { "11" = "often" }\n' + AGENT,
     "jobs[0].dialing.outcomes.11: must be a number of at least 0, got 'often'"),
    (LIST + JOB + DIALING + 'answer_rate = 0.5\noutcomes = { "11" = 0, "15" = 0.0 }\n' + AGENT,
     "jobs[0].dialing.outcomes: needs at least one outcome with a positive weight when answer_rate is below 1 (0.5)"),
    (LIST + JOB + DIALING + "answer_rate = 0\noutcomes = {}\n" + AGENT,
     "jobs[0].dialing.outcomes: needs at least one outcome with a positive weight when answer_rate is below 1 (0)"),
    (LIST + JOB + DIALING + "max_attempts = 0\n" + AGENT,
     "jobs[0].dialing.max_attempts: must be an integer of at least 1, got 0"),
    (LIST + JOB + DIALING + "max_attempts = 2.5\n" + AGENT,
     "jobs[0].dialing.max_attempts: must be an integer of at least 1, got 2.5"),
    (LIST + JOB + DIALING + "retry_delay = -1\n" + AGENT,
     "jobs[0].dialing.retry_delay: must be a number of at least 0, got -1"),
    (LIST + JOB + DIALING + "hangup_rate = 2\n" + AGENT,
     "jobs[0].dialing.hangup_rate: must be a number from 0 to 1, got 2"),
    (LIST + JOB + DIALING + "talk_time = [90, 20]\n" + AGENT,
     "jobs[0].dialing.talk_time: min (90) must not be greater than max (20)"),
    (LIST + JOB + DIALING + 'talk_time = "long"\n' + AGENT,
     "jobs[0].dialing.talk_time: must be [min, max], two numbers of seconds, got 'long'"),
    (LIST + JOB + DIALING + "talk_time = [20, inf]\n" + AGENT,
     "jobs[0].dialing.talk_time[1]: must be a number of at least 0, got inf"),
    (LIST + JOB + DIALING + "preview_timeout = 0\n" + AGENT,
     "jobs[0].dialing.preview_timeout: must be a number greater than 0, got 0"),
    (LIST + JOB + DIALING + "inbound_rate = 1\n" + AGENT,
     "jobs[0].dialing.inbound_rate: not used by an outbound job (type 'O')"),
    (LIST + JOB + DIALING + "inbound_rate = 0\n" + AGENT,
     "jobs[0].dialing.inbound_rate: not used by an outbound job (type 'O')"),
    (LIST + JOB.replace('"O"', '"M"') + DIALING + "inbound_rate = 1\n" + AGENT,
     "jobs[0].dialing.inbound_rate: not used by a managed job (type 'M')"),
    (LIST + INBOUND_JOB + DIALING + "inbound_rate = -1\n" + AGENT,
     "jobs[0].dialing.inbound_rate: must be a number of at least 0, got -1"),
    (LIST + JOB + DIALING + 'callback_owner = "team"\n' + AGENT,
     "jobs[0].dialing.callback_owner: must be one of 'agent' or 'campaign', got 'team'"),
    (LIST + JOB + DIALING + 'calling_hours = "08:00-21:00"\n' + AGENT,
     "jobs[0].dialing.calling_hours: must be [start, end], two times \"HH:MM\", got '08:00-21:00'"),
    (LIST + JOB + DIALING + 'calling_hours = ["08:00"]\n' + AGENT,
     "jobs[0].dialing.calling_hours: must be [start, end], two times \"HH:MM\", got an array of 1"),
    (LIST + JOB + DIALING + 'calling_hours = ["8:00", "21:00"]\n' + AGENT,
     "jobs[0].dialing.calling_hours[0]: must be a time \"HH:MM\" from \"00:00\" to \"23:59\", got '8:00'"),
    (LIST + JOB + DIALING + 'calling_hours = ["08:00", "24:00"]\n' + AGENT,
     "jobs[0].dialing.calling_hours[1]: must be a time \"HH:MM\" from \"00:00\" to \"23:59\", got '24:00'"),
    (LIST + JOB + DIALING + 'calling_hours = ["08:00", 2100]\n' + AGENT,
     "jobs[0].dialing.calling_hours[1]: must be a time \"HH:MM\" from \"00:00\" to \"23:59\", got 2100"),
    (LIST + JOB + DIALING + 'calling_hours = ["21:00", "08:00"]\n' + AGENT,
     "jobs[0].dialing.calling_hours: start ('21:00') must not be later than end ('08:00')"),
    (LIST + JOB + DIALING + "callback_min_minutes = -5\n" + AGENT,
     "jobs[0].dialing.callback_min_minutes: must be an integer of at least 0, got -5"),
    (LIST + JOB + JOB.replace("J1", "J2") + DIALING + "max_attempts = 0\n" + AGENT,
     "jobs[1].dialing.max_attempts: must be an integer of at least 1, got 0"),
]  # fmt: skip


class TestLoadConfigErrors:
    @pytest.mark.parametrize(("text", "message"), BAD_FILES, ids=[message for _, message in BAD_FILES])
    def test_rule(self, tmp_path: Path, text: str, message: str) -> None:
        """Each broken rule fails with one message naming the file, the key path and the problem."""
        path = write(tmp_path, text)
        assert load_error(path) == f"{path}: {message}"

    def test_error_hides_the_traceback_chain(self, tmp_path: Path) -> None:
        """A ConfigError carries no chained exception, so printing it shows only the message."""
        with pytest.raises(ConfigError) as info:
            load_config(write(tmp_path, "[limits]\nmax_connections = 0\n" + MINIMAL))
        assert info.value.__cause__ is None
        assert info.value.__suppress_context__

    def test_missing_file(self, tmp_path: Path) -> None:
        """A missing file is reported as unreadable, with the operating system's reason."""
        path = tmp_path / "nope.toml"
        assert load_error(path) == f"{path}: cannot read: No such file or directory"

    def test_directory(self, tmp_path: Path) -> None:
        """A directory given as the file is reported as unreadable."""
        assert load_error(tmp_path) == f"{tmp_path}: cannot read: Is a directory"

    def test_syntax_error(self, tmp_path: Path) -> None:
        """A TOML syntax error names the file, then the line and column, then tomllib's message."""
        path = write(tmp_path, 'data_dir = "data"\n\n[limits]\nmax connections = 5\n')
        assert load_error(path) == f"{path}: line 4, column 5: Expected '=' after a key in a key/value pair"

    def test_syntax_error_at_end(self, tmp_path: Path) -> None:
        """A syntax error found at the end of the file says so instead of giving a position."""
        path = write(tmp_path, "data_dir =")
        assert load_error(path) == f"{path}: at end of file: Invalid value"

    def test_duplicate_table(self, tmp_path: Path) -> None:
        """Declaring a table twice is a syntax error with its position."""
        path = write(tmp_path, "[limits]\n[limits]\n")
        assert load_error(path) == f"{path}: line 2, column 8: Cannot declare ('limits',) twice"

    def test_not_utf8(self, tmp_path: Path) -> None:
        """A file that is not UTF-8 is reported with the line of the first bad byte."""
        path = tmp_path / "site.toml"
        path.write_bytes(b'data_dir = "data"\n# caf\xe9\n')
        assert load_error(path) == f"{path}: line 2: not valid UTF-8 (byte 0xe9)"


class TestDialingAndSimulation:
    def test_defaults(self, tmp_path: Path) -> None:
        """Without [jobs.dialing] or [simulation], jobs get DialingConfig() and the site SimulationConfig()."""
        site = load_config(write(tmp_path, MINIMAL))
        assert site.jobs[0].dialing == DialingConfig()
        assert site.simulation == SimulationConfig()

    def test_every_dialing_key(self, tmp_path: Path) -> None:
        """Every dialing key is read; integers become floats where the model has floats, outcomes keep their order."""
        text = (
            LIST
            + INBOUND_JOB
            + DIALING
            + 'dial_delay = [1, 2.5]\nanswer_rate = 0.25\noutcomes = { "15" = 2, 11 = 0.5, "0" = 0 }\n'
            + "max_attempts = 5\nretry_delay = 30\nhangup_rate = 1\ntalk_time = [0, 0]\npreview_timeout = 0.5\n"
            + 'inbound_rate = 3\ncallback_owner = "campaign"\ncalling_hours = ["09:30", "09:30"]\n'
            + "callback_min_minutes = 15\n"
            + AGENT
        )
        dialing = load_config(write(tmp_path, text)).jobs[0].dialing
        assert dialing == DialingConfig(
            dial_delay=(1.0, 2.5),
            answer_rate=0.25,
            outcomes=((15, 2.0), (11, 0.5), (0, 0.0)),
            max_attempts=5,
            retry_delay=30.0,
            hangup_rate=1.0,
            talk_time=(0.0, 0.0),
            preview_timeout=0.5,
            inbound_rate=3.0,
            callback_owner=CallbackOwner.CAMPAIGN,
            calling_hours=("09:30", "09:30"),
            callback_min_minutes=15,
        )
        assert all(isinstance(value, float) for value in (*dialing.dial_delay, dialing.retry_delay))

    def test_inline_dialing_table(self, tmp_path: Path) -> None:
        """dialing may also be an inline table; keys left out keep their defaults."""
        text = LIST + JOB + 'dialing = { max_attempts = 1, callback_owner = "agent" }\n' + AGENT
        assert load_config(write(tmp_path, text)).jobs[0].dialing == DialingConfig(max_attempts=1)

    def test_outcomes_may_be_empty_when_every_dial_is_answered(self, tmp_path: Path) -> None:
        """With answer_rate 1 no outcome is ever drawn, so outcomes may be empty or all zero."""
        for outcomes in ("{}", '{ "11" = 0 }'):
            text = LIST + JOB + DIALING + f"answer_rate = 1\noutcomes = {outcomes}\n" + AGENT
            assert load_config(write(tmp_path, text)).jobs[0].dialing.answer_rate == 1

    def test_inbound_rate_on_blend_job(self, tmp_path: Path) -> None:
        """A blend job takes inbound_rate like an inbound job."""
        job = '[[jobs]]\nname = "J1"\ntype = "B"\noutbound_list = "l1"\ninbound_list = "l1"\n'
        site = load_config(write(tmp_path, LIST + job + DIALING + "inbound_rate = 0.5\n" + AGENT))
        assert site.jobs[0].dialing.inbound_rate == 0.5

    def test_each_job_has_its_own_dialing(self, tmp_path: Path) -> None:
        """[jobs.dialing] belongs to the [[jobs]] entry above it."""
        text = LIST + JOB + DIALING + "max_attempts = 7\n" + JOB.replace("J1", "J2") + AGENT
        first, second = load_config(write(tmp_path, text)).jobs
        assert (first.dialing.max_attempts, second.dialing.max_attempts) == (7, DialingConfig().max_attempts)

    @pytest.mark.parametrize(("toml", "expected"), [
        ("seed = 7", SimulationConfig(seed=7)),
        ("seed = -3\ndatabase = \":memory:\"", SimulationConfig(seed=-3, database=":memory:")),
        ("database = \"state/calls.db\"", SimulationConfig(database="state/calls.db")),
    ])  # fmt: skip
    def test_simulation(self, tmp_path: Path, toml: str, expected: SimulationConfig) -> None:
        """[simulation] takes any integer seed and a database name kept as written."""
        assert load_config(write(tmp_path, f"[simulation]\n{toml}\n" + MINIMAL)).simulation == expected

    def test_id_field(self, tmp_path: Path) -> None:
        """id_field names one of the fields; left out, it stays None (the first field)."""
        text = '[[calling_lists]]\nname = "l1"\nfields = [{ name = "A", length = 5 }, { name = "B", length = 3 }]\n'
        assert load_config(write(tmp_path, text + 'id_field = "B"\n' + JOB + AGENT)).calling_lists[0].id_field == "B"
        assert load_config(write(tmp_path, text + JOB + AGENT)).calling_lists[0].id_field is None

    def test_generated_records_fill_the_id_field(self, tmp_path: Path) -> None:
        """A generated list may have exactly as many records as its id field has different values."""
        text = '[[calling_lists]]\nname = "l1"\nfields = [{ name = "A", length = 2, type = "N" }]\n'
        site = load_config(write(tmp_path, text + "generated_records = 100\n" + JOB + AGENT))
        assert site.calling_lists[0].generated_records == 100

    def test_every_loader_key_is_in_the_example_test(self) -> None:
        """The keys test_every_key_appears looks for include every top-level and dialing key of the loader."""
        listed = {key.strip("[]") for key in EXAMPLE_KEYS}
        assert set(_TOP_KEYS) <= listed
        assert set(_DIALING_KEYS) <= listed
        assert set(_PORT_KEYS) <= listed
        assert set(_TOKEN_KEYS) - {"name"} <= listed


def csv_list(csv: str = "l1.csv", extra: str = "") -> str:
    """A calling list reading ``csv`` with no declared fields, then one job and one agent."""
    return f'[[calling_lists]]\nname = "l1"\ncsv = "{csv}"\n{extra}' + JOB + AGENT


class TestCsvCallingLists:
    def test_fields_from_the_header(self, tmp_path: Path) -> None:
        """Without fields, each header column is a C field as long as its longest value, at least 1."""
        write(tmp_path, "ID,NAME,EMPTY\n1,Ada,\n22,Bartholomew,\n", "l1.csv")
        calling_list = load_config(write(tmp_path, csv_list())).calling_lists[0]
        assert calling_list.fields == (FieldSpec("ID", 2), FieldSpec("NAME", 11), FieldSpec("EMPTY", 1))
        assert (calling_list.csv_path, calling_list.generated_records) == (tmp_path / "l1.csv", 0)

    def test_header_only(self, tmp_path: Path) -> None:
        """A file with only a header gives fields of length 1."""
        write(tmp_path, "A,B\n", "l1.csv")
        assert load_config(write(tmp_path, csv_list())).calling_lists[0].fields == (
            FieldSpec("A", 1),
            FieldSpec("B", 1),
        )

    def test_length_at_most_255(self, tmp_path: Path) -> None:
        """A longer value makes the field 255 long (load_records then reports the value)."""
        write(tmp_path, "A,B\n1," + "x" * 300 + "\n", "l1.csv")
        assert load_config(write(tmp_path, csv_list())).calling_lists[0].fields[1] == FieldSpec("B", 255)

    def test_latin1_and_bom(self, tmp_path: Path) -> None:
        """Lengths count characters, in a Latin-1 file too; a UTF-8 BOM is not part of the first name."""
        (tmp_path / "l1.csv").write_bytes("ID,NAME\n1,Müller\n".encode("latin-1"))
        (tmp_path / "l2.csv").write_bytes("\ufeffID,NAME\n1,Müllerß\n".encode())
        assert load_config(write(tmp_path, csv_list())).calling_lists[0].fields == (
            FieldSpec("ID", 1),
            FieldSpec("NAME", 6),
        )
        assert load_config(write(tmp_path, csv_list("l2.csv"))).calling_lists[0].fields == (
            FieldSpec("ID", 1),
            FieldSpec("NAME", 7),
        )

    def test_id_field_from_the_header(self, tmp_path: Path) -> None:
        """id_field may name any header column; another name is an error."""
        write(tmp_path, "A,B\n1,2\n", "l1.csv")
        assert load_config(write(tmp_path, csv_list(extra='id_field = "B"\n'))).calling_lists[0].id_field == "B"
        path = write(tmp_path, csv_list(extra='id_field = "C"\n'))
        assert load_error(path) == f"{path}: calling_lists[0].id_field: no field named 'C'"

    def test_declared_fields_and_extra_columns(self, tmp_path: Path) -> None:
        """With fields, the header must name each of them; other columns, even repeated ones, are ignored."""
        write(tmp_path, "X,B,X,A,\n1,2,3,4,5\n", "l1.csv")
        text = csv_list(extra='fields = [{ name = "A", length = 5, type = "N" }, { name = "B", length = 2 }]\n')
        calling_list = load_config(write(tmp_path, text)).calling_lists[0]
        assert calling_list.fields == (FieldSpec("A", 5, FieldType.NUMERIC), FieldSpec("B", 2))

    @pytest.mark.parametrize(("contents", "problem"), [
        ("", "l1.csv: line 1: no header line (the file is empty or blank)"),
        ("\n\n", "l1.csv: line 1: no header line (the file is empty or blank)"),
        ("A,FIRST NAME\n", "l1.csv: line 1, column 2: must not contain spaces, got 'FIRST NAME'"),
        ("\nA,,B\n", "l1.csv: line 2, column 2: must not be empty"),
        ("A,B,A\n", "l1.csv: line 1, column 3: duplicate column 'A' (first in column 1)"),
        ("A,ABCDEFGHIJKLMNOPQRST\n", "l1.csv: line 1, column 2: must be at most 19 characters, "
         "got 'ABCDEFGHIJKLMNOPQRST' (20)"),
        ("A,Stra\u00dfe\n", "l1.csv: line 1, column 2: must be printable ASCII, got 'Stra\u00dfe'"),
        ('A,B\n"x,1\n', "l1.csv: line 2: not valid CSV: unexpected end of data"),
        ('A,B\n1,2\n"a"b,1\n', "l1.csv: line 3: not valid CSV: ',' expected after '\"'"),
    ])  # fmt: skip
    def test_header_problems(self, tmp_path: Path, contents: str, problem: str) -> None:
        """A header that cannot give field names fails naming calling_lists[n].csv, the file and where."""
        write(tmp_path, contents, "l1.csv")
        path = write(tmp_path, csv_list())
        assert load_error(path) == f"{path}: calling_lists[0].csv: {problem}"

    @pytest.mark.parametrize(("header", "problem"), [
        ("A,C", "l1.csv: line 1: no column for field 'B'"),
        ("B,A,B", "l1.csv: line 1: duplicate column 'B' (columns 1 and 3)"),
    ])  # fmt: skip
    def test_declared_field_problems(self, tmp_path: Path, header: str, problem: str) -> None:
        """With declared fields, each must be exactly one column of the header."""
        write(tmp_path, header + "\n", "l1.csv")
        path = write(tmp_path, csv_list(extra='fields = [{ name = "A", length = 5 }, { name = "B", length = 5 }]\n'))
        assert load_error(path) == f"{path}: calling_lists[0].csv: {problem}"

    def test_missing_file(self, tmp_path: Path) -> None:
        """A CSV file that does not exist is named as written, with the system's reason."""
        path = write(tmp_path, csv_list("lists/missing.csv"))
        assert load_error(path) == (
            f"{path}: calling_lists[0].csv: cannot read lists/missing.csv: No such file or directory"
        )

    def test_missing_file_with_declared_fields(self, tmp_path: Path) -> None:
        """Declared fields do not spare reading the file: its header must name them."""
        path = write(tmp_path, LIST + 'csv = "nope.csv"\n' + JOB + AGENT)
        assert load_error(path) == f"{path}: calling_lists[0].csv: cannot read nope.csv: No such file or directory"

    def test_directory(self, tmp_path: Path) -> None:
        """A folder given as the CSV file cannot be read."""
        (tmp_path / "lists").mkdir()
        path = write(tmp_path, csv_list("lists"))
        assert load_error(path) == f"{path}: calling_lists[0].csv: cannot read lists: Is a directory"

    def test_generated_records_with_csv_before_reading(self, tmp_path: Path) -> None:
        """csv with generated_records is reported as such, before the (missing) file is read."""
        path = write(tmp_path, csv_list(extra="generated_records = 5\n"))
        assert load_error(path) == (
            f"{path}: calling_lists[0].generated_records: "
            "cannot be combined with csv (records come from one or the other)"
        )

    def test_empty_fields_with_csv(self, tmp_path: Path) -> None:
        """fields = [] is still an error when csv is given."""
        write(tmp_path, "A\n", "l1.csv")
        path = write(tmp_path, csv_list(extra="fields = []\n"))
        assert load_error(path) == f"{path}: calling_lists[0].fields: must have at least one field"
