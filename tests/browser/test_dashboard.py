"""The supervisor dashboard in a real browser.

Debian's Chromium (``/usr/bin/chromium``, never a browser downloaded by ``playwright install``) is driven
by Playwright's *sync* API: its async API needs asyncio and cannot run inside ``trio.run``, and sync
tests under pytest-trio's ``trio_mode`` are plain function calls.  The browser is one session-scoped
fixture; every test gets its own server, an ``agt_server`` subprocess on free ports (it is up in well
under a second), and its own browser context (so its own ``sessionStorage``).  Agents are driven from
the test over the wire port by :class:`WireAgent`, a small blocking AGT client.

Every wait is bounded: Playwright's ``expect`` by :data:`TIMEOUT_MS`, the agent's by :data:`TIMEOUT`.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, Route, expect, sync_playwright

from agt_server.config import DEMO_LOAD_PASSWORD, demo_config, hash_password
from agt_server.protocol import Message, MessageType, WireCodec, encode

HOST = "127.0.0.1"
CHROMIUM = "/usr/bin/chromium"
#: The flags that make headless Chromium quiet and quick on an offline machine (stack.md, "Browser check").
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ADMIN = "demo-admin"
VIEWER = "demo-viewer"
#: What the dashboard gets to show a change: the brief says within a second, the tests allow five.
TIMEOUT_MS = 5000
TIMEOUT = TIMEOUT_MS / 1000
SCREENSHOT = Path("/tmp/dashboard.png")
ROOT = Path(__file__).resolve().parents[2]
#: The demo's agents: agent1..agent20 and the load-test agents load1..load10000.
DEMO_AGENTS = len(demo_config().agents)
#: How long the page may take to list every one of the demo's agents (a table of 10,020 rows).
FULL_LIST_TIMEOUT_MS = 30000

#: Names that would run script if the page ever parsed data as HTML.  Job and agent names are at most 19
#: printable ASCII characters without spaces or commas; a group name may hold anything.
SCRIPT_JOB = "X<script>"
HTML_AGENT = "<b>agent1"
PAYLOAD_GROUP = "<img src=x onerror=window.__pwned=1>"


# -- the server ------------------------------------------------------------------------------------


class ServerProcess:
    """An ``agt_server`` subprocess on free ports of 127.0.0.1."""

    def __init__(self, directory: Path, *options: str) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        port_file = directory / "ports.json"
        self.log_path = directory / "server.log"
        self.options = options
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "agt_server",
                    "--agent-port",
                    "0",
                    "--tls-port",
                    "off",
                    "--tty-port",
                    "off",
                    "--data-dir",
                    str(directory / "data"),
                    "--port-file",
                    str(port_file),
                    "--no-demo-activity",
                    *options,
                ],
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 20
        while not port_file.exists():
            if self.process.poll() is not None:
                raise AssertionError(f"the server exited ({self.process.returncode}):\n{self.log()}")
            if time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"the server wrote no port file within 20 s:\n{self.log()}")
            time.sleep(0.02)
        ports = json.loads(port_file.read_text())
        self.agent_port: int = ports["agent"]
        self.http_port: int = ports["http"]
        self.url = f"http://{HOST}:{self.http_port}/"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def api(self, method: str, path: str, body: object = None, token: str = ADMIN) -> tuple[int, object]:
        """Call the REST API directly; the status and the decoded JSON answer."""
        request = urllib.request.Request(
            f"{self.url}api/v1/{path}",
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """Start servers (the demo configuration unless given ``--config``); all stopped after the test."""
    servers: list[ServerProcess] = []

    def start(*options: str, http_port: int = 0) -> ServerProcess:
        server = ServerProcess(tmp_path / f"server{len(servers)}", "--http-port", str(http_port), *options)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def server(start_server: Callable[..., ServerProcess]) -> ServerProcess:
    """The demo configuration (agent1..agent20, CMP1..CMP4 and more; tokens demo-admin, demo-viewer)."""
    return start_server()


# -- agents over the wire --------------------------------------------------------------------------


class WireAgent:
    """A blocking AGT client over a plain socket: a reader thread decodes every message the server
    sends; the test sends commands and waits for replies and notifications."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection((HOST, port), timeout=TIMEOUT)
        self.sock.settimeout(None)
        self.codec = WireCodec()
        self.messages: list[Message] = []
        self.closed = False
        self.changed = threading.Condition()
        self.invoke_id = 0
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:
                data = b""
            with self.changed:
                if not data:
                    self.closed = True
                    self.changed.notify_all()
                    return
                self.codec.receive_data(data)
                while isinstance(message := self.codec.next_message(), Message):
                    self.messages.append(message)
                self.changed.notify_all()

    def wait_for(self, predicate: Callable[[Message], bool], what: str, since: int = 0) -> Message:
        """The first message from index ``since`` on that matches; fails after :data:`TIMEOUT`."""
        found: list[Message] = []

        def match() -> bool:
            found[:] = [m for m in self.messages[since:] if predicate(m)][:1]
            return bool(found) or self.closed

        with self.changed:
            self.changed.wait_for(match, TIMEOUT)
            assert found, f"no {what} within {TIMEOUT} s; received: {[(m.keyword, m.segments) for m in self.messages]}"
            return found[0]

    def command(self, keyword: str, *args: str) -> Message:
        """Send a command and wait for its final reply, which must be a success."""
        return self.wait_reply(self.send(keyword, *args), keyword, *args)

    def send(self, keyword: str, *args: str) -> str:
        """Send a command without waiting; its invoke id, for :meth:`wait_reply`."""
        self.invoke_id += 1
        invoke_id = str(self.invoke_id)
        self.sock.sendall(
            encode(Message(keyword, MessageType.COMMAND, args, client="browser-test", invoke_id=invoke_id))
        )
        return invoke_id

    def wait_reply(self, invoke_id: str, keyword: str, *args: str) -> Message:
        """Wait for the final reply to the command ``invoke_id``, which must be a success."""
        reply = self.wait_for(
            lambda m: m.type is MessageType.RESPONSE and m.invoke_id == invoke_id, f"reply to {keyword}"
        )
        assert reply.segments[:2] == ("0", "M00000"), f"{keyword} {args} failed: {reply.segments}"
        return reply

    def logon(self, agent: str, password: str | None = None) -> None:
        """Log on as ``agent`` (password: its name, as in the demo and the hostile site)."""
        self.command("AGTLogon", agent, agent if password is None else password)

    def set_preferred(self, *jobs: str) -> None:
        """Send the agent's own preferred list (it becomes server-assigned)."""
        # AGTSetPreferredJobList is 22 characters; the header's keyword field holds the first 20.
        self.command("AGTSetPreferredJobLi", *jobs)

    def wait_assigned(self, job: str, reason: str, since: int = 0) -> Message:
        """Wait for ``AGTJobAssigned <job> <reason>``."""
        return self.wait_for(
            lambda m: (
                m.keyword == "AGTJobAssigned"
                and m.type is MessageType.NOTIFICATION
                and m.segments[1:] == ("M00001", job, reason)
            ),
            f"AGTJobAssigned {job} {reason}",
            since,
        )

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        self.reader.join(TIMEOUT)


@pytest.fixture
def wire_agent() -> Iterator[Callable[[int], WireAgent]]:
    """Connect agents to a wire port; all disconnected after the test."""
    agents: list[WireAgent] = []

    def connect(port: int) -> WireAgent:
        agent = WireAgent(port)
        agents.append(agent)
        return agent

    yield connect
    for agent in agents:
        agent.close()


# -- the browser -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium, shared by every test of the session."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh browser profile (cookies, sessionStorage) for one test; fails the test on any script error."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    context.on("weberror", lambda error: errors.append(str(error.error)))
    yield context
    context.close()
    assert not errors, f"script errors in the page: {errors}"


def sign_in(page: Page, token: str = ADMIN) -> None:
    """Give the token form ``token`` and wait until the event stream is open."""
    expect(page.locator("#login")).to_be_visible()
    page.get_by_label("Access token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#dashboard")).to_be_visible()
    expect(page.locator("body")).to_have_attribute("data-connected", "true")


def open_dashboard(context: BrowserContext, server: ServerProcess, token: str = ADMIN) -> Page:
    page = context.new_page()
    page.goto(server.url)
    sign_in(page, token)
    return page


def row_of_agent(page: Page, agent: str) -> Locator:
    """The agents-table row of ``agent`` (matched on its data-agent attribute, whatever its characters)."""
    return page.locator(f"#agents-body tr[data-agent={json.dumps(agent)}]")


def row_of_campaign(page: Page, campaign: str) -> Locator:
    """The campaigns-table row of ``campaign``."""
    return page.locator(f"#campaigns-body tr[data-campaign={json.dumps(campaign)}]")


# -- the tests -------------------------------------------------------------------------------------


def test_page_shows_agents_live(
    server: ServerProcess, context: BrowserContext, wire_agent: Callable[[int], WireAgent]
) -> None:
    """An agent logging on and off over AGT shows in its row within seconds, without a reload."""
    page = open_dashboard(context, server)
    expect(page.locator("#campaigns-body tr")).to_have_count(7)
    expect(row_of_campaign(page, "CMP1").locator("[data-field=state]")).to_have_text("running")
    expect(page.locator("#agents-count")).to_have_text(f"0 logged on of {DEMO_AGENTS} agents")
    row = row_of_agent(page, "agent1")
    expect(row).to_have_count(0)

    agent1 = wire_agent(server.agent_port)
    agent1.logon("agent1")
    expect(row).to_have_attribute("data-logged-on", "true")
    expect(row).to_have_attribute("data-state", "S70004")
    expect(row.locator("[data-field=state]")).to_contain_text("no job")
    expect(page.locator("#feed li[data-type=agent]").first).to_contain_text("agent1")

    # A second agent on a campaign, for the screenshot: chips, a campaign, the feed.
    agent2 = wire_agent(server.agent_port)
    agent2.logon("agent2")
    agent2.set_preferred("CMP3", "CMP4")
    agent2.wait_assigned("CMP4", "assigned")
    row2 = row_of_agent(page, "agent2")
    expect(row2).to_have_attribute("data-campaign", "CMP4")
    expect(row2.locator("li.chip")).to_have_text(["CMP3×", "CMP4×"])
    expect(row_of_campaign(page, "CMP4").locator("[data-field=agents]")).to_contain_text("1 /")
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    agent1.command("AGTLogoff")
    expect(row).to_have_count(0)
    expect(page.locator("#agents-count")).to_have_text(f"1 logged on of {DEMO_AGENTS} agents")


def test_editing_the_preferred_list_moves_the_agent(
    server: ServerProcess, context: BrowserContext, wire_agent: Callable[[int], WireAgent]
) -> None:
    """Adding, removing and clearing preferred campaigns in the page reaches the agent's AGT session."""
    agent1 = wire_agent(server.agent_port)
    agent1.logon("agent1")
    page = open_dashboard(context, server)
    row = row_of_agent(page, "agent1")
    add = row.locator("select[data-action=add]")
    expect(row).to_have_attribute("data-logged-on", "true")
    expect(row.locator("li.chip")).to_have_count(0)

    add.select_option("CMP2")
    agent1.wait_assigned("CMP2", "supervisor")
    expect(row).to_have_attribute("data-campaign", "CMP2")
    expect(row.locator("[data-field=campaign]")).to_contain_text("CMP2")
    expect(row.locator("li.chip")).to_have_text(["CMP2×"])
    expect(add.locator("option[value=CMP2]")).to_have_count(0)
    assert server.api("GET", "agents/agent1/preferred-campaigns") == (200, {"agent": "agent1", "campaigns": ["CMP2"]})

    add.select_option("CMP1")
    expect(row.locator("li.chip")).to_have_text(["CMP2×", "CMP1×"])
    seen = len(agent1.messages)
    row.get_by_role("button", name="Remove CMP2 from agent1's preferred campaigns").click()
    agent1.wait_assigned("CMP1", "supervisor", since=seen)
    expect(row).to_have_attribute("data-campaign", "CMP1")
    expect(row.locator("li.chip")).to_have_text(["CMP1×"])

    row.get_by_role("button", name="Clear agent1's preferred campaigns").click()
    expect(row.locator("li.chip")).to_have_count(0)
    expect(row.locator("[data-field=preferred]")).to_contain_text("any campaign")
    assert server.api("GET", "agents/agent1/preferred-campaigns") == (200, {"agent": "agent1", "campaigns": []})


def test_pausing_a_campaign_moves_its_agents(
    server: ServerProcess, context: BrowserContext, wire_agent: Callable[[int], WireAgent]
) -> None:
    """Pause on CMP1 moves an agent preferring CMP1, CMP2 to CMP2 (job-paused), and the page shows it."""
    agent1 = wire_agent(server.agent_port)
    agent1.logon("agent1")
    agent1.set_preferred("CMP1", "CMP2")
    agent1.wait_assigned("CMP1", "assigned")
    page = open_dashboard(context, server)
    row = row_of_agent(page, "agent1")
    cmp1 = row_of_campaign(page, "CMP1")
    expect(row).to_have_attribute("data-campaign", "CMP1")
    expect(cmp1.locator("[data-field=agents]")).to_contain_text("1 /")

    seen = len(agent1.messages)
    cmp1.get_by_role("button", name="Pause CMP1").click()
    agent1.wait_assigned("CMP2", "job-paused", since=seen)
    expect(row).to_have_attribute("data-campaign", "CMP2")
    expect(row.locator("[data-field=campaign]")).to_contain_text("CMP2")
    expect(cmp1).to_have_attribute("data-state", "paused")
    expect(cmp1.locator("[data-field=agents]")).to_contain_text("0 /")
    expect(row_of_campaign(page, "CMP2").locator("[data-field=agents]")).to_contain_text("1 /")
    expect(cmp1.get_by_role("button", name="Pause CMP1")).to_be_disabled()
    expect(page.locator("#feed li[data-type=campaign]").first).to_contain_text("CMP1 paused")

    cmp1.get_by_role("button", name="Resume CMP1").click()
    expect(cmp1).to_have_attribute("data-state", "running")
    assert server.api("GET", "campaigns/CMP1")[1]["state"] == "running"  # type: ignore[index]


def write_hostile_site(directory: Path) -> Path:
    """A site whose names are HTML: a job ``X<script>``, an agent ``<b>agent1`` in a group that is an
    ``<img onerror>`` payload; and 21 jobs in all, one more than a preferred list may hold."""
    directory.mkdir(parents=True, exist_ok=True)
    jobs = [SCRIPT_JOB] + [f"CMP{number:02d}" for number in range(1, 21)]
    lines = [
        'data_dir = "data"',
        "[listeners]",
        f'host = "{HOST}"',
        "[[calling_lists]]",
        'name = "leads"',
        "generated_records = 50",
        'fields = [{ name = "ACCTNUM", length = 16, type = "N" }, { name = "NAME", length = 26 }]',
    ]
    for job in jobs:
        lines += ["[[jobs]]", f"name = {json.dumps(job)}", 'type = "O"', 'outbound_list = "leads"']
    lines += [
        "[[agents]]",
        f"name = {json.dumps(HTML_AGENT)}",
        f"password_hash = {json.dumps(hash_password(HTML_AGENT, cost=10))}",
        f"group = {json.dumps(PAYLOAD_GROUP)}",
        "[[tokens]]",
        'name = "admin"',
        f'token = "{ADMIN}"',
        'role = "admin"',
    ]
    path = directory / "site.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_names_are_rendered_as_text(
    tmp_path: Path,
    start_server: Callable[..., ServerProcess],
    context: BrowserContext,
    wire_agent: Callable[[int], WireAgent],
) -> None:
    """A job named X<script>, an agent named <b>agent1 and an <img onerror> group show as text, run
    nothing, and can be edited like any other name."""
    server = start_server("--config", str(write_hostile_site(tmp_path / "site")))
    agent = wire_agent(server.agent_port)
    agent.logon(HTML_AGENT)
    page = open_dashboard(context, server)
    row = row_of_agent(page, HTML_AGENT)
    expect(row).to_have_attribute("data-logged-on", "true")
    expect(row.locator("th")).to_have_text(HTML_AGENT)
    expect(row.locator("[data-field=group]")).to_have_text(PAYLOAD_GROUP)
    expect(row_of_campaign(page, SCRIPT_JOB).locator("th .name")).to_have_text(SCRIPT_JOB)

    row.locator("select[data-action=add]").select_option(SCRIPT_JOB)
    agent.wait_assigned(SCRIPT_JOB, "supervisor")
    expect(row).to_have_attribute("data-campaign", SCRIPT_JOB)
    expect(row.locator("[data-field=campaign] .value")).to_have_text(SCRIPT_JOB)
    expect(row.locator("li.chip")).to_have_text([f"{SCRIPT_JOB}×"])
    expect(page.locator("#feed").get_by_text(HTML_AGENT).first).to_be_visible()

    # Nothing was parsed as markup: no element the names spell, no handler run.
    assert page.locator("#dashboard script, #dashboard img, #dashboard b").count() == 0
    assert page.evaluate("typeof window.__pwned") == "undefined"


def test_preferred_list_is_capped_at_twenty(
    tmp_path: Path,
    start_server: Callable[..., ServerProcess],
    context: BrowserContext,
    wire_agent: Callable[[int], WireAgent],
) -> None:
    """With 20 preferred campaigns the page offers no more; removing one offers them again."""
    server = start_server("--config", str(write_hostile_site(tmp_path / "site")))
    agent = wire_agent(server.agent_port)
    agent.logon(HTML_AGENT)
    twenty = [f"CMP{number:02d}" for number in range(1, 21)]
    path = f"agents/{urllib.parse.quote(HTML_AGENT, safe='')}/preferred-campaigns"
    status, _ = server.api("PUT", path, {"campaigns": twenty})
    assert status == 200
    page = open_dashboard(context, server)
    row = row_of_agent(page, HTML_AGENT)
    expect(row.locator("li.chip")).to_have_count(20)
    expect(row.locator("select[data-action=add]")).to_be_disabled()

    row.get_by_role("button", name=f"Remove CMP20 from {HTML_AGENT}'s preferred campaigns").click()
    expect(row.locator("li.chip")).to_have_count(19)
    add = row.locator("select[data-action=add]")
    expect(add).to_be_enabled()
    expect(add.locator("option:not([value=''])")).to_have_text(["X<script>", "CMP20"])


def test_token_is_asked_once_per_tab(server: ServerProcess, context: BrowserContext, browser: Browser) -> None:
    """A wrong token is refused; a right one is kept for the tab across reloads; sign out forgets it;
    another tab (another browser profile) is asked again."""
    page = context.new_page()
    page.goto(server.url)
    expect(page.locator("#dashboard")).to_be_hidden()
    page.get_by_label("Access token").fill("not-a-token")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#token-error")).to_have_text("That token was refused.")
    expect(page.locator("#dashboard")).to_be_hidden()

    sign_in(page)
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-connected", "true")
    expect(page.locator("#login")).to_be_hidden()
    expect(page.locator("#agents-count")).to_have_text(f"0 logged on of {DEMO_AGENTS} agents")

    other = browser.new_context()
    try:
        other_page = other.new_page()
        other_page.goto(server.url)
        expect(other_page.locator("#login")).to_be_visible()
    finally:
        other.close()

    page.get_by_role("link", name="sign out").click()
    expect(page.locator("#login")).to_be_visible()
    expect(page.locator("body")).to_have_attribute("data-connected", "false")
    page.reload()
    expect(page.locator("#login")).to_be_visible()
    expect(page.locator("#dashboard")).to_be_hidden()


def test_refused_action_shows_the_problem(server: ServerProcess, context: BrowserContext) -> None:
    """A viewer's pause is refused (403); the problem document's title and detail show in a banner."""
    page = open_dashboard(context, server, VIEWER)
    cmp1 = row_of_campaign(page, "CMP1")
    cmp1.get_by_role("button", name="Pause CMP1").click()
    status, problem = server.api("POST", "campaigns/CMP1/pause", token=VIEWER)
    assert status == 403
    assert isinstance(problem, dict)
    banner = page.locator("#banners .banner[data-status='403']")
    expect(banner).to_contain_text("Could not pause CMP1")
    expect(banner).to_contain_text(problem["detail"])
    expect(banner).to_contain_text(problem["title"])
    expect(cmp1).to_have_attribute("data-state", "running")
    banner.get_by_role("button", name="Dismiss").click()
    expect(banner).to_have_count(0)


def test_stale_list_is_reloaded_on_412(
    server: ServerProcess, context: BrowserContext, wire_agent: Callable[[int], WireAgent]
) -> None:
    """Edits carry If-Match; when the server answers 412 the page says so and shows the current list."""
    agent1 = wire_agent(server.agent_port)
    agent1.logon("agent1")
    agent1.set_preferred("CMP1")
    page = open_dashboard(context, server)
    row = row_of_agent(page, "agent1")
    expect(row.locator("li.chip")).to_have_text(["CMP1×"])

    sent: list[str | None] = []

    def stale(route: Route) -> None:
        headers = route.request.headers
        if route.request.method == "PUT":
            sent.append(headers.get("if-match"))
            headers = {**headers, "if-match": '"0000"'}
        route.continue_(headers=headers)

    page.route("**/api/v1/agents/agent1/preferred-campaigns", stale)
    row.locator("select[data-action=add]").select_option("CMP2")
    expect(page.locator("#banners .banner[data-status='412']")).to_contain_text("changed by someone else")
    expect(row.locator("li.chip")).to_have_text(["CMP1×"])
    assert sent and sent[0] and sent[0].startswith('"'), f"the PUT carried If-Match {sent}"
    page.unroute("**/api/v1/agents/agent1/preferred-campaigns")

    row.locator("select[data-action=add]").select_option("CMP2")
    expect(row.locator("li.chip")).to_have_text(["CMP1×", "CMP2×"])


def test_event_stream_reconnects_by_itself(
    start_server: Callable[..., ServerProcess], context: BrowserContext, wire_agent: Callable[[int], WireAgent]
) -> None:
    """When the server goes away the page says so; when it is back on the same port the page reconnects,
    reloads and follows events again without being told."""
    first = start_server()
    page = open_dashboard(context, first)
    first.stop()
    expect(page.locator("body")).to_have_attribute("data-connected", "false")
    expect(page.locator("#connection")).not_to_have_text("live")

    second = start_server(http_port=first.http_port)
    expect(page.locator("body")).to_have_attribute("data-connected", "true", timeout=15000)
    agent1 = wire_agent(second.agent_port)
    agent1.logon("agent1")
    expect(row_of_agent(page, "agent1")).to_have_attribute("data-logged-on", "true")


def test_only_logged_on_agents_are_listed(
    server: ServerProcess, context: BrowserContext, wire_agent: Callable[[int], WireAgent]
) -> None:
    """The demo's 10,020 agents open as the logged-on ones only, asked of the server; a load agent logging on
    appears and logging off disappears; unchecking the option lists every agent."""
    lists: list[str] = []
    context.on(
        "request",
        lambda request: lists.append(request.url)
        if urllib.parse.urlsplit(request.url).path == "/api/v1/agents"
        else None,
    )
    page = open_dashboard(context, server)
    hide = page.get_by_label("hide logged-off agents")
    expect(hide).to_be_checked()
    count = page.locator("#agents-count")
    expect(count).to_have_text(f"0 logged on of {DEMO_AGENTS} agents")
    expect(page.locator("#agents-body tr")).to_have_text(["No agent is logged on."])
    assert lists and all(url.endswith("/api/v1/agents?logged_on=true") for url in lists), lists

    load42 = wire_agent(server.agent_port)
    load42.logon("load42", DEMO_LOAD_PASSWORD)
    row = row_of_agent(page, "load42")
    expect(row).to_have_attribute("data-logged-on", "true")
    expect(row.locator("[data-field=group]")).to_have_text("load")
    expect(page.locator("#agents-body tr")).to_have_count(1)
    expect(count).to_have_text(f"1 logged on of {DEMO_AGENTS} agents")

    load42.command("AGTLogoff")
    expect(row).to_have_count(0)
    expect(count).to_have_text(f"0 logged on of {DEMO_AGENTS} agents")

    hide.uncheck()
    expect(page.locator("#agents-body tr")).to_have_count(DEMO_AGENTS, timeout=FULL_LIST_TIMEOUT_MS)
    assert lists[-1].endswith("/api/v1/agents"), lists
    expect(row).to_have_attribute("data-logged-on", "false")
    expect(row.locator("[data-field=state]")).to_have_text("logged off")
    # Logged-off rows now stay: a logon changes the row in place, a logoff leaves it there.
    again = wire_agent(server.agent_port)
    again.logon("load42", DEMO_LOAD_PASSWORD)
    expect(row).to_have_attribute("data-logged-on", "true")
    expect(count).to_have_text(f"1 logged on of {DEMO_AGENTS} agents")
    again.command("AGTLogoff")
    expect(row).to_have_attribute("data-logged-on", "false")
    expect(page.locator("#agents-body tr")).to_have_count(DEMO_AGENTS)

    hide.check()
    expect(page.locator("#agents-body tr")).to_have_text(["No agent is logged on."])
    expect(count).to_have_text(f"0 logged on of {DEMO_AGENTS} agents")


#: How many agents change state at once in :func:`test_event_burst_is_coalesced`.
BURST = 200


def test_event_burst_is_coalesced(
    server: ServerProcess, context: BrowserContext, wire_agent: Callable[[int], WireAgent]
) -> None:
    """200 agents logging on and then off at once cost the page far fewer requests than events, and the
    table still ends up right."""
    page = open_dashboard(context, server)
    count = page.locator("#agents-count")
    expect(count).to_have_text(f"0 logged on of {DEMO_AGENTS} agents")
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url) if "/api/v1/" in request.url else None)
    names = [f"load{number}" for number in range(1, BURST + 1)]
    agents = [wire_agent(server.agent_port) for _ in names]

    # Every logon is on the wire before the first reply is read: the events come as one burst.
    sent = [agent.send("AGTLogon", name, DEMO_LOAD_PASSWORD) for agent, name in zip(agents, names, strict=True)]
    for agent, invoke_id in zip(agents, sent, strict=True):
        agent.wait_reply(invoke_id, "AGTLogon")
    expect(count).to_have_text(f"{BURST} logged on of {DEMO_AGENTS} agents")
    expect(page.locator("#agents-body tr[data-logged-on=true]")).to_have_count(BURST)
    expect(row_of_agent(page, "load200")).to_have_attribute("data-state", "S70004")
    on_requests = list(requests)
    # One logged_on event per agent; a request per window (and the campaigns it may have moved) instead.
    assert len(on_requests) <= BURST // 10, on_requests
    assert any(url.endswith("/api/v1/agents?logged_on=true") for url in on_requests), on_requests

    sent = [agent.send("AGTLogoff") for agent in agents]
    for agent, invoke_id in zip(agents, sent, strict=True):
        agent.wait_reply(invoke_id, "AGTLogoff")
    expect(count).to_have_text(f"0 logged on of {DEMO_AGENTS} agents")
    expect(page.locator("#agents-body tr")).to_have_text(["No agent is logged on."])
    # A logged_off event says all there is to show: the rows go without asking for the agents.
    off_requests = requests[len(on_requests) :]
    assert not [url for url in off_requests if "/api/v1/agents" in url], off_requests
