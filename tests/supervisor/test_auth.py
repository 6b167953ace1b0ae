"""Tokens and roles: who may read and change what (issue 6 contract, "Auth").

Every operation of the API's registry is tried, so a route added without the right access fails here.
"""

from __future__ import annotations

from typing import Any

import pytest
import trio

from agt_server.supervisor import Access, api_registry

from .helpers import ADMIN, OBSERVER, SUPERVISOR, TIMEOUT, VIEWER, Api, ok, problem

#: Values for path parameters: agent1 (team-a) and CMP1 exist.
PATH_VALUES = {"agent": "agent1", "name": "CMP1"}
#: A valid body for each operation that takes one.
BODIES: dict[str, dict[str, Any]] = {
    "put_preferred_campaigns": {"campaigns": ["CMP1"]},
    "move_agent": {"campaign": "CMP1"},
    "send_message": {"text": "hello"},
    "link_campaign": {"linked_campaign": None},
    "schedule_callback": {"campaign": "CMP1", "record_id": "x", "due_at": "2099-01-01T00:00:00Z"},
    "inbound_call": {"campaign": "INBOUND1"},
}
OPERATIONS = api_registry().operations
PROTECTED = [operation for operation in OPERATIONS if operation.access is not Access.PUBLIC]
WRITES = [operation for operation in OPERATIONS if operation.access in (Access.WRITE, Access.CAMPAIGN_CONTROL)]
CAMPAIGN_CONTROL = [operation for operation in OPERATIONS if operation.access is Access.CAMPAIGN_CONTROL]


def _url(path: str, values: dict[str, str] = PATH_VALUES) -> str:
    for name, value in values.items():
        path = path.replace("{" + name + "}", value)
    return path


def _ids(operations: list[Any]) -> list[str]:
    return [operation.operation_id for operation in operations]


class TestAuthentication:
    """No token, another scheme or an unknown token: 401 with WWW-Authenticate: Bearer."""

    @pytest.mark.parametrize("operation", PROTECTED, ids=_ids(PROTECTED))
    async def test_every_protected_operation_needs_a_token(self, api: Api, operation: Any) -> None:
        """Each operation that is not public answers 401 without a token, naming the header it wants."""
        with trio.fail_after(TIMEOUT):
            response = await api.anonymous.request(
                operation.method, _url(operation.path), json=BODIES.get(operation.operation_id)
            )
            problem(response, 401, "Authorization: Bearer <token>")
            assert response.headers["www-authenticate"].startswith("Bearer")

    async def test_unknown_token(self, api: Api) -> None:
        """An unknown token is refused with 401 and error="invalid_token"."""
        with trio.fail_after(TIMEOUT):
            response = await api.anonymous.get("/api/v1/agents", headers={"Authorization": "Bearer not-a-token"})
            problem(response, 401, "not valid")
            assert 'error="invalid_token"' in response.headers["www-authenticate"]

    @pytest.mark.parametrize("header", ["Basic ZGVtby1hZG1pbjo=", "Bearer", "demo-admin", "Token demo-admin"])
    async def test_malformed_authorization(self, api: Api, header: str) -> None:
        """An Authorization header that is not "Bearer <token>" is refused with 401."""
        with trio.fail_after(TIMEOUT):
            response = await api.anonymous.get("/api/v1/agents", headers={"Authorization": header})
            problem(response, 401, "Bearer <token>")
            assert response.headers["www-authenticate"].startswith("Bearer")

    async def test_the_scheme_is_case_insensitive(self, api: Api) -> None:
        """"bearer" works as well as "Bearer"."""
        with trio.fail_after(TIMEOUT):
            response = await api.anonymous.get("/api/v1/campaigns", headers={"Authorization": "bearer demo-viewer"})
            assert len(ok(response)["campaigns"]) == 7

    async def test_query_token_only_for_the_event_stream(self, api: Api) -> None:
        """?token= is not accepted in place of the header outside /api/v1/events."""
        with trio.fail_after(TIMEOUT):
            problem(await api.anonymous.get("/api/v1/agents", params={"token": ADMIN}), 401)

    @pytest.mark.parametrize("path", ["/api/v1/healthz", "/metrics", "/api/v1/openapi.json", "/"])
    async def test_public_paths(self, api: Api, path: str) -> None:
        """Health, metrics, the OpenAPI document and the dashboard need no token."""
        with trio.fail_after(TIMEOUT):
            assert (await api.anonymous.get(path)).status_code == 200


class TestViewer:
    """A viewer token reads everything and changes nothing."""

    @pytest.mark.parametrize("operation", WRITES, ids=_ids(WRITES))
    async def test_every_write_is_forbidden(self, api: Api, operation: Any) -> None:
        """Each operation that changes something answers 403 to a viewer, saying it may only read."""
        with trio.fail_after(TIMEOUT):
            response = await api.viewer.request(
                operation.method, _url(operation.path), json=BODIES.get(operation.operation_id)
            )
            problem(response, 403, "viewer token", "only read")

    async def test_nothing_changed(self, api: Api) -> None:
        """A viewer's refused pause leaves the campaign running and writes no audit entry."""
        with trio.fail_after(TIMEOUT):
            problem(await api.viewer.post("/api/v1/campaigns/CMP1/pause"), 403)
            assert ok(await api.viewer.get("/api/v1/campaigns/CMP1"))["state"] == "running"
            assert ok(await api.viewer.get("/api/v1/audit"))["entries"] == []

    async def test_reads_every_agent(self, api: Api) -> None:
        """A viewer lists all 20 agents and reads those of any group."""
        with trio.fail_after(TIMEOUT):
            agents = ok(await api.viewer.get("/api/v1/agents"))["agents"]
            assert len(agents) == 20
            assert ok(await api.viewer.get("/api/v1/agents/agent15"))["group"] == "team-b"


class TestSupervisor:
    """demo-supervisor: team-a (agent1-agent10) only, with campaign control."""

    async def test_lists_only_its_groups(self, api: Api) -> None:
        """The agent list holds exactly agent1-agent10, sorted by name; group=team-b gives nothing."""
        with trio.fail_after(TIMEOUT):
            names = [agent["name"] for agent in ok(await api.supervisor.get("/api/v1/agents"))["agents"]]
            assert names == sorted(f"agent{number}" for number in range(1, 11))
            assert ok(await api.supervisor.get("/api/v1/agents", params={"group": "team-b"}))["agents"] == []

    @pytest.mark.parametrize(
        ("method", "path", "body"),
        [
            ("GET", "/api/v1/agents/agent15", None),
            ("GET", "/api/v1/agents/agent15/explain", None),
            ("GET", "/api/v1/agents/agent15/preferred-campaigns", None),
            ("PUT", "/api/v1/agents/agent15/preferred-campaigns", {"campaigns": ["CMP1"]}),
            ("DELETE", "/api/v1/agents/agent15/preferred-campaigns", None),
            ("POST", "/api/v1/agents/agent15/move", {"campaign": "CMP1"}),
            ("POST", "/api/v1/agents/agent15/messages", {"text": "hi"}),
            ("GET", "/api/v1/audit?subject=agent15", None),
            (
                "POST",
                "/api/v1/callbacks",
                {"campaign": "CMP1", "record_id": "x", "due_at": "2099-01-01T00:00:00Z", "owner": "agent15"},
            ),
        ],
    )
    async def test_other_groups_are_forbidden(self, api: Api, method: str, path: str, body: Any) -> None:
        """Direct access to an agent of another group is 403, with a detail naming the group and the token's."""
        with trio.fail_after(TIMEOUT):
            response = await api.supervisor.request(method, path, json=body)
            problem(response, 403, "agent15 is in group 'team-b'", "team-a")

    async def test_steers_its_own_agents(self, api: Api) -> None:
        """A write on agent3 passes authorisation (and is refused by the engine only because agent3 is off)."""
        with trio.fail_after(TIMEOUT):
            problem(await api.supervisor.delete("/api/v1/agents/agent3/preferred-campaigns"), 409, "not logged on")

    async def test_controls_campaigns(self, api: Api) -> None:
        """With campaign_control it pauses and resumes a campaign, and the audit log names it."""
        with trio.fail_after(TIMEOUT):
            assert ok(await api.supervisor.post("/api/v1/campaigns/CMP4/pause"))["state"] == "paused"
            assert ok(await api.supervisor.post("/api/v1/campaigns/CMP4/resume"))["state"] == "running"
            entries = ok(await api.admin.get("/api/v1/audit"))["entries"]
            assert [(e["actor"], e["action"], e["subject"]) for e in entries] == [
                (SUPERVISOR, "job_resume", "CMP4"),
                (SUPERVISOR, "job_pause", "CMP4"),
            ]


class TestSupervisorWithoutCampaignControl:
    """A supervisor token without campaign_control steers its agents but not campaigns."""

    @pytest.mark.parametrize("operation", CAMPAIGN_CONTROL, ids=_ids(CAMPAIGN_CONTROL))
    async def test_campaign_control_is_forbidden(self, api: Api, operation: Any) -> None:
        """Start/pause/resume/stop/link, callbacks and inbound calls answer 403 naming campaign_control."""
        with trio.fail_after(TIMEOUT):
            response = await api.client_for(OBSERVER).request(
                operation.method, _url(operation.path), json=BODIES.get(operation.operation_id)
            )
            problem(response, 403, "campaign_control")

    async def test_reads_campaigns_and_steers_agents(self, api: Api) -> None:
        """It reads every campaign and may send its own agents' writes to the engine."""
        with trio.fail_after(TIMEOUT):
            client = api.client_for(OBSERVER)
            assert len(ok(await client.get("/api/v1/campaigns"))["campaigns"]) == 7
            problem(await client.post("/api/v1/agents/agent2/move", json={"campaign": "CMP1"}), 409)
            problem(await client.post("/api/v1/agents/agent12/move", json={"campaign": "CMP1"}), 403)


class TestAdmin:
    """An admin token may do everything."""

    @pytest.mark.parametrize("token", [ADMIN, SUPERVISOR, VIEWER])
    async def test_every_role_reads_campaigns(self, api: Api, token: str) -> None:
        """Campaign reads are open to every role."""
        with trio.fail_after(TIMEOUT):
            campaigns = ok(await api.client_for(token).get("/api/v1/campaigns"))["campaigns"]
            assert [campaign["name"] for campaign in campaigns][:4] == ["CMP1", "CMP2", "CMP3", "CMP4"]

    async def test_admin_sees_every_group(self, api: Api) -> None:
        """The admin lists all 20 agents and steers one of team-b."""
        with trio.fail_after(TIMEOUT):
            assert len(ok(await api.admin.get("/api/v1/agents"))["agents"]) == 20
            problem(await api.admin.post("/api/v1/agents/agent15/move", json={"campaign": "CMP1"}), 409)
