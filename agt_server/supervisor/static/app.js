/* agt_server supervisor dashboard: plain ES2020, no framework, no build step.
 *
 * The REST API (api/v1/...) is the truth.  The page keeps a copy of the campaigns and the agents and
 * redraws a row whenever its copy changes.  The event stream (api/v1/events) only says *what* changed:
 * a `campaign` event re-fetches the campaigns list, an `agent` event marks that agent as changed.  A site
 * may have thousands of agents (the demo has 10,020), so by default the page lists only the logged-on
 * ones (`agents?logged_on=true`), and the agents changed within COALESCE_MS are read together: one by one
 * when a handful changed, else with one list of the logged-on agents; never two such reads at once.  A
 * `logged_off` event while only logged-on agents are listed needs no read: the row goes.  Only the rows
 * whose agent changed are drawn again.  Every answer carries a sequence number taken when its request was
 * sent, so an older answer never overwrites a newer one (nor brings back a row taken out after it).
 *
 * Every value from the server reaches the page through textContent, attributes or <option> values
 * (createElement / append of strings), never through innerHTML: a name such as `X<script>` is text.
 */
"use strict";

(() => {
  const API = "api/v1";
  const TOKEN_KEY = "agt_server.supervisor.token";
  const FEED_LIMIT = 200;
  const MAX_PREFERRED = 20;
  const MAX_BANNERS = 5;
  // When the stream is closed for good (server down, token refused), try again after this long.
  const RETRY_MS = 3000;
  // Records left change with every dial and are not announced as events: refresh them now and then.
  const CAMPAIGN_POLL_MS = 10000;
  // Agents whose events arrive within this long are read together (a site may have thousands of agents).
  const COALESCE_MS = 300;
  // Up to this many changed agents are read one by one, more with one list of the logged-on agents.
  const HANDFUL = 5;

  const STATE_LABELS = {
    S70000: "on a call",
    S70001: "ready",
    S70002: "available",
    S70003: "attached",
    S70004: "no job",
  };
  const TYPE_LABELS = { O: "outbound", I: "inbound", B: "blend", M: "managed" };
  const ACTIONS = [
    // [action, label, enabled in state]
    ["start", "Start", (s) => s !== "running" && s !== "paused"],
    ["pause", "Pause", (s) => s === "running"],
    ["resume", "Resume", (s) => s === "paused"],
    ["stop", "Stop", (s) => s === "running" || s === "paused"],
  ];
  const EVENT_TYPES = ["agent", "campaign"];

  // -- state ---------------------------------------------------------------------------------------

  let token = null;
  // Bumped on sign-in and sign-out: answers and events of an earlier session are dropped.
  let generation = 0;
  let sequence = 0;
  const campaigns = new Map(); // name -> {campaign, seq}
  let campaignOrder = [];
  let campaignsSeq = 0;
  const agents = new Map(); // name -> {agent, json, preferred, etag, etagList, busy, focus, seq}
  let agentOrder = []; // the names in agents, sorted by byName: the rows in table order
  const rows = new Map(); // name -> its <tr>
  const leftAt = new Map(); // name -> the sequence number when its row was taken out
  let loggedOnCount = 0; // of the agents in the table
  let agentTotal = null; // the agents this token may see, from the last list
  // The "hide logged-off agents" option: the server then lists only the logged-on ones.
  let hideLoggedOff = true;
  const changed = new Set(); // agents whose events came in since the last refresh
  let changeTimer = null;
  let source = null;
  let lastEventId = null;
  let openedBefore = false;
  let retryTimer = null;
  let pollTimer = null;
  const pending = new Map(); // refresh key -> {dirty}

  const $ = (id) => document.getElementById(id);

  // -- DOM helpers ---------------------------------------------------------------------------------

  /** An element; props: class, text, dataset, on<event>, boolean or string attributes.  Children are
   * nodes or strings (strings become text nodes). */
  function el(tag, props = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props)) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = String(value);
      else if (key === "dataset") {
        for (const [name, item] of Object.entries(value)) {
          if (item !== undefined && item !== null) node.dataset[name] = String(item);
        }
      } else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else if (value === true) node.setAttribute(key, "");
      else node.setAttribute(key, String(value));
    }
    for (const child of children) {
      if (child !== null && child !== undefined && child !== false) node.append(child);
    }
    return node;
  }

  const enc = encodeURIComponent;
  const sameList = (a, b) => Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => x === b[i]);
  // agent2 before agent10, as people count (the API sorts by code point).
  const byName = new Intl.Collator("en", { numeric: true }).compare;
  const slug = (text) => String(text).toLowerCase().replace(/[^a-z0-9-]+/g, "-");

  function formatTime(iso, withDate) {
    if (!iso) return "";
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return String(iso);
    const time = date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
    if (!withDate || date.toDateString() === new Date().toDateString()) return time;
    return `${date.toLocaleDateString([], { month: "short", day: "numeric" })} ${time}`;
  }

  // -- the API -------------------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, problem) {
      super(problem.detail || problem.title || `HTTP ${status}`);
      this.status = status;
      this.problem = problem;
    }
  }

  async function readProblem(response) {
    const text = await response.text().catch(() => "");
    let problem = null;
    if (/json/i.test(response.headers.get("Content-Type") || "")) {
      try {
        problem = JSON.parse(text);
      } catch (_) {
        problem = null;
      }
    }
    if (!problem || typeof problem !== "object") {
      problem = { title: `${response.status} ${response.statusText}`.trim(), detail: text.slice(0, 300) };
    }
    return problem;
  }

  async function api(method, path, { body, headers = {} } = {}) {
    const init = {
      method,
      cache: "no-store",
      headers: { Accept: "application/json", Authorization: `Bearer ${token}`, ...headers },
    };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers["Content-Type"] = "application/json";
    }
    let response;
    try {
      response = await fetch(`${API}/${path}`, init);
    } catch (err) {
      throw new ApiError(0, { title: "The server cannot be reached", detail: String((err && err.message) || err) });
    }
    if (!response.ok) throw new ApiError(response.status, await readProblem(response));
    const text = await response.text();
    return { data: text ? JSON.parse(text) : null, etag: response.headers.get("ETag"), status: response.status };
  }

  // -- banners -------------------------------------------------------------------------------------

  function showBanner(kind, heading, detail, extra = []) {
    const box = $("banners");
    const banner = el(
      "div",
      { class: `banner banner-${kind}`, role: kind === "info" ? "status" : "alert" },
      el(
        "div",
        { class: "banner-text" },
        el("strong", { text: heading }),
        detail ? el("span", { class: "banner-detail", text: detail }) : null,
        extra.length ? el("ul", { class: "banner-list" }, ...extra.map((item) => el("li", { text: item }))) : null,
      ),
    );
    banner.append(el("button", { type: "button", class: "banner-close", "aria-label": "Dismiss", text: "×", onclick: () => banner.remove() }));
    box.prepend(banner);
    while (box.childElementCount > MAX_BANNERS) box.lastElementChild.remove();
    return banner;
  }

  function describeValidation(item) {
    if (typeof item === "string") return item;
    if (item && typeof item === "object") {
      const where = item.location || item.loc || item.path || item.pointer || item.field;
      const what = item.msg || item.message || item.detail || JSON.stringify(item);
      return where ? `${Array.isArray(where) ? where.join(".") : where}: ${what}` : String(what);
    }
    return String(item);
  }

  /** Show an error as a banner; a refused token ends the session. */
  function handleError(err, context) {
    if (!(err instanceof ApiError)) {
      showBanner("error", context, String((err && err.message) || err));
      return;
    }
    if (err.status === 401) {
      signOut("The server refused the token (401); sign in again.");
      return;
    }
    const problem = err.problem;
    const title = problem.title || (err.status ? `HTTP ${err.status}` : "Error");
    const banner = showBanner(
      "error",
      context,
      [title, problem.detail].filter(Boolean).join(": "),
      Array.isArray(problem.errors) ? problem.errors.map(describeValidation) : [],
    );
    banner.dataset.status = String(err.status);
    if (problem.type) banner.dataset.problemType = String(problem.type);
  }

  // -- refreshing ----------------------------------------------------------------------------------

  /** Run fn for key now, or once more after the run in flight: never two at once, never one lost. */
  function schedule(key, fn) {
    const running = pending.get(key);
    if (running) {
      running.dirty = true;
      return;
    }
    const state = { dirty: false };
    pending.set(key, state);
    const gen = generation;
    (async () => {
      try {
        do {
          state.dirty = false;
          await fn();
        } while (state.dirty && gen === generation);
      } catch (err) {
        if (gen === generation) handleError(err, "Could not refresh the dashboard");
      } finally {
        pending.delete(key);
      }
    })();
  }

  const scheduleCampaigns = () => schedule("campaigns", loadCampaigns);
  const scheduleAgents = () => schedule("agents", loadAgents);
  const scheduleAgent = (name) => schedule(`agent:${name}`, () => refreshAgent(name));
  const scheduleChanged = () => schedule("changed", refreshChanged);

  function refreshAll() {
    scheduleCampaigns();
    scheduleAgents();
  }

  async function loadCampaigns() {
    const gen = generation;
    const seq = ++sequence;
    const { data } = await api("GET", "campaigns");
    if (gen !== generation || seq < campaignsSeq) return;
    campaignsSeq = seq;
    const list = (data && data.campaigns) || [];
    const namesChanged = !sameList(campaignOrder, list.map((c) => c.name));
    campaigns.clear();
    for (const campaign of list) campaigns.set(campaign.name, { campaign, seq });
    campaignOrder = list.map((c) => c.name);
    renderCampaigns();
    // The agents' "add" menus list the campaigns.
    if (namesChanged) renderAgents();
  }

  /** Keep agent as answered by a request numbered seq; null when a newer answer is already kept (or the
   * agent left the table after this request was sent).  `changed`: whether the row must be drawn again. */
  function storeAgent(agent, seq) {
    let record = agents.get(agent.name);
    if (!record) {
      if (seq < (leftAt.get(agent.name) ?? 0)) return null;
      leftAt.delete(agent.name);
      record = { agent: null, json: "", preferred: [], etag: null, etagList: null, busy: false, focus: null, seq: 0 };
      agents.set(agent.name, record);
    }
    if (seq < record.seq) return null;
    const before = record.agent;
    const json = JSON.stringify(agent);
    const preferred = Array.isArray(agent.preferred_campaigns) ? agent.preferred_campaigns : [];
    // An edit may have changed the page's preferred list before the server's answer came.
    const changed = json !== record.json || !sameList(preferred, record.preferred);
    if (before && before.logged_on) loggedOnCount -= 1;
    if (agent.logged_on) loggedOnCount += 1;
    record.agent = agent;
    record.json = json;
    record.seq = seq;
    record.preferred = preferred;
    return { record, before, changed };
  }

  /** Drop an agent's record; answers to requests sent before this are not shown. */
  function dropAgent(name) {
    const record = agents.get(name);
    if (!record) return false;
    if (record.agent.logged_on) loggedOnCount -= 1;
    agents.delete(name);
    leftAt.set(name, ++sequence);
    return true;
  }

  /** Take an agent out of the table (logged off while only logged-on agents are listed, or not visible). */
  function forgetAgent(name) {
    if (dropAgent(name)) removeAgentRow(name);
  }

  /** Whether a change of this agent changes a campaign's attached count. */
  function movedCampaign(before, after) {
    const temporary = (a) => (a && a.temporary ? a.temporary.campaign : null);
    return !before || before.campaign !== after.campaign || before.logged_on !== after.logged_on || temporary(before) !== temporary(after);
  }

  async function loadAgents() {
    const gen = generation;
    const onlyLoggedOn = hideLoggedOff;
    const seq = ++sequence;
    const { data } = await api("GET", onlyLoggedOn ? "agents?logged_on=true" : "agents");
    // An answer for the other view: the run that the switch scheduled reads the right one.
    if (gen !== generation || onlyLoggedOn !== hideLoggedOff) return;
    const list = (data && data.agents) || [];
    const names = new Set(list.map((a) => a.name));
    for (const name of [...agents.keys()]) if (!names.has(name)) dropAgent(name);
    for (const agent of list) storeAgent(agent, seq);
    if (data && typeof data.total === "number") agentTotal = data.total;
    agentOrder = [...agents.keys()].sort(byName);
    renderAgents();
  }

  async function refreshAgent(name) {
    const gen = generation;
    const seq = ++sequence;
    let agent;
    try {
      ({ data: agent } = await api("GET", `agents/${enc(name)}`));
    } catch (err) {
      // An agent this token may not see, or that no longer exists: not the supervisor's problem.
      if (gen === generation && (err.status === 403 || err.status === 404)) {
        forgetAgent(name);
        return;
      }
      throw err;
    }
    if (gen !== generation || !agent) return;
    applyAgent(agent, seq);
  }

  /** Show one agent's answer: add, redraw or (logged off while only logged-on agents are listed) remove its
   * row.  Returns whether a campaign's attached count may have changed. */
  function applyAgent(agent, seq) {
    const name = agent.name;
    if (hideLoggedOff && !agent.logged_on) {
      const record = agents.get(name);
      if (!record || seq < record.seq) return false;
      forgetAgent(name);
      scheduleCampaigns();
      return true;
    }
    const isNew = !agents.has(name);
    const stored = storeAgent(agent, seq);
    if (!stored) return false;
    if (isNew) addAgentRow(name);
    else if (stored.changed || stored.record.busy) renderAgentRow(name);
    // Attached counts live on the campaigns: re-read them when this agent changed campaign.
    const moved = movedCampaign(stored.before, agent);
    if (moved) scheduleCampaigns();
    return moved;
  }

  /** Note that an agent changed; the agents changed within COALESCE_MS are read together. */
  function agentChanged(name) {
    changed.add(name);
    if (changeTimer === null) {
      changeTimer = setTimeout(() => {
        changeTimer = null;
        scheduleChanged();
      }, COALESCE_MS);
    }
  }

  /** Read the agents that changed: one by one when a handful did, else the list of logged-on agents in one
   * request (under a storm of events, one request per window instead of one per event). */
  async function refreshChanged() {
    const names = [...changed];
    changed.clear();
    if (names.length <= HANDFUL) {
      for (const name of names) await refreshAgent(name);
      return;
    }
    const gen = generation;
    const seq = ++sequence;
    const { data } = await api("GET", "agents?logged_on=true");
    if (gen !== generation) return;
    const list = (data && data.agents) || [];
    if (data && typeof data.total === "number") agentTotal = data.total;
    const online = new Set();
    for (const agent of list) {
      online.add(agent.name);
      applyAgent(agent, seq);
    }
    // Who was on in the page and is not in the list logged off meanwhile (or was never seen by this token).
    const gone = [];
    for (const [name, record] of agents) {
      if (record.agent.logged_on && !online.has(name) && record.seq < seq) gone.push(name);
    }
    if (!gone.length) return;
    scheduleCampaigns();
    if (hideLoggedOff) for (const name of gone) forgetAgent(name);
    else if (gone.length <= HANDFUL) for (const name of gone) await refreshAgent(name);
    else scheduleAgents();
  }

  // -- campaigns -----------------------------------------------------------------------------------

  function renderCampaigns() {
    const body = $("campaigns-body");
    const rows = campaignOrder.map((name) => campaignRow(campaigns.get(name).campaign));
    if (!rows.length) rows.push(el("tr", { class: "empty" }, el("td", { colspan: 7, text: "No campaigns." })));
    body.replaceChildren(...rows);
  }

  function campaignRow(c) {
    const wanted = c.wanted === null || c.wanted === undefined ? "–" : c.wanted;
    const records = c.records_left === null || c.records_left === undefined ? "–" : c.records_left;
    const limits = [`min ${c.min_agents ?? 0}`, `max ${c.max_agents ?? "none"}`];
    const row = el(
      "tr",
      { dataset: { campaign: c.name, state: c.state } },
      el(
        "th",
        { scope: "row", "data-field": "name" },
        el("span", { class: "name", text: c.name }),
        c.linked_campaign ? el("span", { class: "sub", text: `then ${c.linked_campaign}` }) : null,
        c.required_skills && c.required_skills.length ? el("span", { class: "sub", text: `skills: ${c.required_skills.join(", ")}` }) : null,
      ),
      el("td", { "data-field": "type", title: c.type, text: TYPE_LABELS[c.type] || c.type }),
      el("td", { "data-field": "state" }, el("span", { class: "badge", dataset: { state: c.state }, text: c.state })),
      el("td", { class: "num", "data-field": "priority", text: c.priority }),
      el("td", { class: "num", "data-field": "agents", title: limits.join(", ") }, `${c.attached ?? 0} / ${wanted}`),
      el("td", { class: "num", "data-field": "records-left", text: records }),
    );
    const control = el("td", { class: "actions", "data-field": "control" });
    for (const [action, label, enabled] of ACTIONS) {
      const button = el("button", {
        type: "button",
        class: `action action-${action}`,
        dataset: { action },
        "aria-label": `${label} ${c.name}`,
        disabled: !enabled(c.state),
        text: label,
      });
      button.addEventListener("click", () => controlCampaign(c.name, action, button));
      control.append(button);
    }
    row.append(control);
    return row;
  }

  async function controlCampaign(name, action, button) {
    const gen = generation;
    button.disabled = true;
    const seq = ++sequence;
    try {
      const { data } = await api("POST", `campaigns/${enc(name)}/${action}`);
      if (gen !== generation) return;
      if (data && data.name && campaigns.has(data.name) && seq > campaigns.get(data.name).seq) {
        campaigns.set(data.name, { campaign: data, seq });
        renderCampaigns();
      }
    } catch (err) {
      if (gen !== generation) return;
      handleError(err, `Could not ${action} ${name}`);
      renderCampaigns();
    }
  }

  // -- agents --------------------------------------------------------------------------------------

  function renderAgents() {
    const body = $("agents-body");
    const focus = rememberFocus(body);
    rows.clear();
    const list = [];
    for (const name of agentOrder) {
      const record = agents.get(name);
      if (!record) continue;
      const row = agentRow(record);
      rows.set(name, row);
      list.push(row);
    }
    if (!list.length) list.push(emptyAgentsRow());
    body.replaceChildren(...list);
    if (focus && rows.has(focus.agent)) restoreFocus(rows.get(focus.agent), focus);
    renderAgentCount();
  }

  const emptyAgentsRow = () =>
    el("tr", { class: "empty" }, el("td", { colspan: 7, text: hideLoggedOff ? "No agent is logged on." : "No agents." }));

  function renderAgentRow(name) {
    const record = agents.get(name);
    const old = rows.get(name);
    if (!record || !old) {
      renderAgents();
      return;
    }
    // While an edit is on its way its controls are disabled (and lose focus): give the focus back after.
    const focus = rememberFocus(old) || record.focus;
    const row = agentRow(record);
    old.replaceWith(row);
    rows.set(name, row);
    if (record.busy) {
      record.focus = focus;
    } else {
      record.focus = null;
      restoreFocus(row, focus);
    }
    renderAgentCount();
  }

  /** Where name belongs in agentOrder (sorted by byName): its index, or where to insert it. */
  function orderIndex(name) {
    let low = 0;
    let high = agentOrder.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (byName(agentOrder[middle], name) < 0) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /** Draw a new agent's row in its place, leaving the other rows alone. */
  function addAgentRow(name) {
    const record = agents.get(name);
    if (!record) return;
    if (rows.has(name)) {
      renderAgentRow(name);
      return;
    }
    const at = orderIndex(name);
    if (agentOrder[at] !== name) agentOrder.splice(at, 0, name);
    const row = agentRow(record);
    const body = $("agents-body");
    if (!rows.size) body.replaceChildren();
    // Every name in agentOrder has its row: the next one is where this one goes.
    body.insertBefore(row, rows.get(agentOrder[at + 1]) ?? null);
    rows.set(name, row);
    renderAgentCount();
  }

  function removeAgentRow(name) {
    const at = orderIndex(name);
    if (agentOrder[at] === name) agentOrder.splice(at, 1);
    const row = rows.get(name);
    if (row) {
      rows.delete(name);
      row.remove();
      if (!rows.size) $("agents-body").replaceChildren(emptyAgentsRow());
    }
    renderAgentCount();
  }

  function rememberFocus(container) {
    const active = document.activeElement;
    if (!active || !container.contains(active) || !active.dataset.action) return null;
    const row = active.closest("tr");
    return { agent: row && row.dataset.agent, action: active.dataset.action, campaign: active.dataset.campaign };
  }

  function restoreFocus(container, focus) {
    if (!focus) return;
    let fallback = null;
    for (const node of container.querySelectorAll("[data-action]")) {
      const row = node.closest("tr");
      if (!row || row.dataset.agent !== focus.agent || node.disabled) continue;
      if (node.dataset.action === focus.action && node.dataset.campaign === focus.campaign) {
        node.focus();
        return;
      }
      if (node.dataset.action === "add") fallback = node;
    }
    // The control is gone (a removed chip): the row's "add" menu is the nearest place.
    if (fallback) fallback.focus();
  }

  function renderAgentCount() {
    const total = agentTotal ?? agents.size;
    $("agents-count").textContent = `${loggedOnCount} logged on of ${total} agent${total === 1 ? "" : "s"}`;
  }

  function agentRow(record) {
    const a = record.agent;
    const row = el("tr", {
      dataset: {
        agent: a.name,
        loggedOn: a.logged_on ? "true" : "false",
        state: a.state || "",
        campaign: a.campaign || "",
        mode: a.mode || "",
      },
    });
    row.append(el("th", { scope: "row", "data-field": "name", title: a.explanation || null, text: a.name }));
    row.append(el("td", { "data-field": "group", text: a.group ?? "" }));

    const stateCell = el("td", { "data-field": "state" });
    if (a.logged_on) {
      stateCell.append(
        el("span", { class: "badge", dataset: { state: a.state || "" }, text: STATE_LABELS[a.state] || a.state || "logged on" }),
        el("span", { class: "code", text: a.state || "" }),
      );
    } else {
      stateCell.append(el("span", { class: "badge", dataset: { state: "off" }, text: "logged off" }));
    }
    row.append(stateCell);

    const campaignCell = el("td", { "data-field": "campaign", title: a.explanation || null });
    campaignCell.append(el("span", { class: "value", text: a.campaign || (a.logged_on ? "—" : "") }));
    if (a.temporary) campaignCell.append(el("span", { class: "sub tag", text: `${a.temporary.kind} on ${a.temporary.campaign}` }));
    if (a.logged_on && a.mode) campaignCell.append(el("span", { class: "sub", text: a.mode }));
    row.append(campaignCell);

    row.append(preferredCell(record));
    row.append(el("td", { "data-field": "idle-reason", class: "reason", text: a.idle_reason || "" }));
    row.append(
      el(
        "td",
        { "data-field": "last-change" },
        a.last_change ? el("time", { datetime: a.last_change, title: a.last_change, text: formatTime(a.last_change, true) }) : null,
      ),
    );
    return row;
  }

  function preferredCell(record) {
    const a = record.agent;
    const list = record.preferred;
    const editable = Boolean(a.logged_on) && !record.busy;
    const cell = el("td", { "data-field": "preferred", class: "preferred" });
    if (record.busy) cell.setAttribute("aria-busy", "true");

    const chips = el("ul", { class: "chips", "aria-label": `${a.name}'s preferred campaigns` });
    for (const name of list) {
      chips.append(
        el(
          "li",
          { class: "chip", dataset: { campaign: name } },
          el("span", { text: name }),
          el("button", {
            type: "button",
            class: "chip-remove",
            dataset: { action: "remove", campaign: name },
            "aria-label": `Remove ${name} from ${a.name}'s preferred campaigns`,
            title: `remove ${name}`,
            disabled: !editable,
            text: "×",
            onclick: () => editPreferred(a.name, list.filter((n) => n !== name), `remove ${name} from ${a.name}'s preferred campaigns`),
          }),
        ),
      );
    }
    cell.append(chips);
    if (!list.length) {
      const none = a.logged_on && (a.mode === "server" || a.mode === "pinned") ? "any campaign" : "none";
      cell.append(el("span", { class: "none", text: none }));
    }
    if (!a.logged_on) return cell;

    const full = list.length >= MAX_PREFERRED;
    const select = el("select", {
      dataset: { action: "add" },
      "aria-label": `Add a preferred campaign for ${a.name}`,
      disabled: !editable || full,
      title: full ? `at most ${MAX_PREFERRED} preferred campaigns` : null,
    });
    select.append(el("option", { value: "", text: full ? `${MAX_PREFERRED} max` : "add…" }));
    for (const name of campaignOrder) {
      if (!list.includes(name)) select.append(el("option", { value: name, text: name }));
    }
    select.addEventListener("change", () => {
      const name = select.value;
      if (name) editPreferred(a.name, [...list, name], `add ${name} to ${a.name}'s preferred campaigns`);
    });
    const clear = el("button", {
      type: "button",
      class: "clear",
      dataset: { action: "clear" },
      "aria-label": `Clear ${a.name}'s preferred campaigns`,
      disabled: !editable || !list.length,
      text: "clear",
      onclick: () => editPreferred(a.name, null, `clear ${a.name}'s preferred campaigns`),
    });
    cell.append(el("span", { class: "editor" }, select, clear));
    return cell;
  }

  /** The ETag of the list the supervisor sees, fetched when not known; fails like a 412 when the
   * server's list is not the one on the page. */
  async function etagFor(name, record) {
    if (record.etag && sameList(record.etagList, record.preferred)) return record.etag;
    const { data, etag } = await api("GET", `agents/${enc(name)}/preferred-campaigns`);
    const list = (data && data.campaigns) || [];
    record.etag = etag;
    record.etagList = list;
    if (!sameList(list, record.preferred)) {
      throw new ApiError(412, { title: "Precondition Failed", detail: "the list changed meanwhile" });
    }
    return etag;
  }

  /** Replace (campaigns: an array) or clear (null) an agent's preferred list, with If-Match. */
  async function editPreferred(name, next, what) {
    const record = agents.get(name);
    if (!record || record.busy) return;
    if (next && next.length > MAX_PREFERRED) {
      showBanner("error", `Could not ${what}`, `An agent has at most ${MAX_PREFERRED} preferred campaigns.`);
      return;
    }
    const gen = generation;
    record.busy = true;
    renderAgentRow(name);
    try {
      const etag = await etagFor(name, record);
      const headers = etag ? { "If-Match": etag } : {};
      const path = `agents/${enc(name)}/preferred-campaigns`;
      const seq = ++sequence;
      const result = next === null ? await api("DELETE", path, { headers }) : await api("PUT", path, { headers, body: { campaigns: next } });
      if (gen !== generation) return;
      const list = (result.data && result.data.campaigns) || next || [];
      record.etag = result.etag;
      record.etagList = list;
      if (seq > record.seq) record.preferred = list;
    } catch (err) {
      if (gen !== generation) return;
      if (err.status === 412) {
        showBanner(
          "warning",
          `${name}'s preferred campaigns were changed by someone else`,
          "The page now shows the current list; make your change again.",
        ).dataset.status = "412";
      } else {
        handleError(err, `Could not ${what}`);
      }
    } finally {
      record.busy = false;
      if (gen === generation) {
        renderAgentRow(name);
        scheduleAgent(name);
      }
    }
  }

  // -- the live feed -------------------------------------------------------------------------------

  function describeEvent(type, data) {
    if (type === "agent") {
      const kind = data.kind ? String(data.kind).replace(/_/g, " ") : "changed";
      const parts = [data.agent ?? data.name ?? "?", kind];
      if (data.state) parts.push(`· ${STATE_LABELS[data.state] || data.state}`);
      if (data.job || data.campaign) parts.push(`on ${data.job || data.campaign}`);
      if (data.detail) parts.push(`— ${data.detail}`);
      return parts.join(" ");
    }
    if (type === "campaign") {
      const parts = [data.campaign ?? data.name ?? "?", data.state ?? "changed"];
      if (data.detail) parts.push(`— ${data.detail}`);
      return parts.join(" ");
    }
    const rest = { ...data };
    delete rest.time;
    return JSON.stringify(rest);
  }

  function addFeedLine(type, data, id) {
    const feed = $("feed");
    const at = data.time || new Date().toISOString();
    feed.prepend(
      el(
        "li",
        { class: "feed-line", dataset: { type, eventId: id || null } },
        el("time", { datetime: at, title: at, text: formatTime(at, false) }),
        el("span", { class: `kind kind-${slug(type)}`, text: type }),
        el("span", { class: "what", text: describeEvent(type, data) }),
      ),
    );
    while (feed.childElementCount > FEED_LIMIT) feed.lastElementChild.remove();
  }

  function onEvent(event) {
    if (event.lastEventId) lastEventId = event.lastEventId;
    let data;
    try {
      data = JSON.parse(event.data);
    } catch (_) {
      data = { text: event.data };
    }
    if (!data || typeof data !== "object") data = { value: data };
    const type = event.type === "message" ? String(data.type || "message") : event.type;
    addFeedLine(type, data, event.lastEventId);
    if (type === "agent") {
      const name = data.agent ?? data.name;
      if (typeof name !== "string" || !name) {
        scheduleAgents();
      } else if (data.kind === "logged_off" && hideLoggedOff) {
        // The event says all there is to show: the row goes, and the campaign it was on has one agent fewer.
        changed.delete(name);
        forgetAgent(name);
        scheduleCampaigns();
      } else {
        agentChanged(name);
      }
    } else if (type === "campaign") {
      scheduleCampaigns();
    }
  }

  // -- the event stream ----------------------------------------------------------------------------

  function setConnection(state, label) {
    document.body.dataset.connected = state === "live" ? "true" : "false";
    const indicator = $("connection");
    indicator.dataset.state = state;
    indicator.textContent = label;
  }

  function connectEvents() {
    const gen = generation;
    let url = `${API}/events?token=${enc(token)}`;
    if (lastEventId) url += `&last_event_id=${enc(lastEventId)}`;
    const stream = new EventSource(url);
    source = stream;
    stream.addEventListener("open", () => {
      if (source !== stream) return;
      setConnection("live", "live");
      // After a reconnection, read everything again: cheap, and nothing missed stays wrong.
      if (openedBefore) refreshAll();
      openedBefore = true;
    });
    stream.addEventListener("error", () => {
      if (source !== stream) return;
      if (stream.readyState === EventSource.CLOSED) {
        // The browser gave up (the server answered with an error, e.g. a refused token).
        stream.close();
        source = null;
        setConnection("offline", "offline, retrying…");
        retryTimer = setTimeout(() => retryEvents(gen), RETRY_MS);
      } else {
        setConnection("reconnecting", "reconnecting…");
      }
    });
    for (const type of EVENT_TYPES) stream.addEventListener(type, (event) => source === stream && onEvent(event));
    stream.addEventListener("message", (event) => source === stream && onEvent(event));
  }

  async function retryEvents(gen) {
    retryTimer = null;
    if (gen !== generation) return;
    try {
      await api("GET", "campaigns");
    } catch (err) {
      if (gen !== generation) return;
      if (err.status === 401) {
        handleError(err, "");
        return;
      }
      retryTimer = setTimeout(() => retryEvents(gen), RETRY_MS);
      return;
    }
    if (gen === generation) connectEvents();
  }

  // -- signing in and out --------------------------------------------------------------------------

  function showLogin(message) {
    $("dashboard").hidden = true;
    $("session").hidden = true;
    $("login").hidden = false;
    const error = $("token-error");
    error.hidden = !message;
    error.textContent = message || "";
    const input = $("token-input");
    input.value = "";
    input.focus();
  }

  function startDashboard() {
    generation += 1;
    openedBefore = false;
    lastEventId = null;
    $("login").hidden = true;
    $("dashboard").hidden = false;
    $("session").hidden = false;
    setConnection("connecting", "connecting…");
    connectEvents();
    refreshAll();
    pollTimer = setInterval(scheduleCampaigns, CAMPAIGN_POLL_MS);
  }

  function stopDashboard() {
    generation += 1;
    if (source) source.close();
    source = null;
    clearTimeout(retryTimer);
    clearInterval(pollTimer);
    clearTimeout(changeTimer);
    retryTimer = pollTimer = changeTimer = null;
    pending.clear();
    campaigns.clear();
    agents.clear();
    rows.clear();
    leftAt.clear();
    changed.clear();
    loggedOnCount = 0;
    agentTotal = null;
    campaignOrder = [];
    agentOrder = [];
    campaignsSeq = 0;
    $("campaigns-body").replaceChildren();
    $("agents-body").replaceChildren();
    $("feed").replaceChildren();
    $("agents-count").textContent = "";
    setConnection("offline", "signed out");
  }

  function signOut(message) {
    stopDashboard();
    token = null;
    sessionStorage.removeItem(TOKEN_KEY);
    $("banners").replaceChildren();
    showLogin(message);
  }

  async function signIn(candidate) {
    const button = $("token-form").querySelector("button");
    button.disabled = true;
    token = candidate;
    try {
      await api("GET", "campaigns");
    } catch (err) {
      token = null;
      const error = $("token-error");
      error.hidden = false;
      error.textContent =
        err.status === 401 ? "That token was refused." : `Could not sign in: ${[err.problem && err.problem.title, err.message].filter(Boolean).join(": ")}`;
      return;
    } finally {
      button.disabled = false;
    }
    sessionStorage.setItem(TOKEN_KEY, candidate);
    startDashboard();
  }

  function init() {
    $("token-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const candidate = $("token-input").value.trim();
      if (!candidate) {
        const error = $("token-error");
        error.hidden = false;
        error.textContent = "Enter an access token.";
        return;
      }
      signIn(candidate);
    });
    $("sign-out").addEventListener("click", (event) => {
      event.preventDefault();
      signOut("");
    });
    const hide = $("hide-logged-off");
    const showOption = () => {
      hideLoggedOff = hide.checked;
      $("agents-table").classList.toggle("hide-off", hideLoggedOff);
    };
    showOption();
    hide.addEventListener("change", () => {
      showOption();
      if (token) scheduleAgents();
    });
    token = sessionStorage.getItem(TOKEN_KEY);
    if (token) startDashboard();
    else showLogin("");
  }

  init();
})();
