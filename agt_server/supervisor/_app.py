"""The Starlette app: the API's routes from the registries, the OpenAPI document, the dashboard's files."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from agt_server import __version__

from . import _agents, _audit, _campaigns, _events, _metrics
from ._auth import TokenTable
from ._handling import endpoint
from ._openapi import Registry, openapi_document
from ._problems import ProblemError, http_exception_handler, problem_response, server_error_handler

if TYPE_CHECKING:
    from agt_server.server import AgentServer

__all__ = ["OPENAPI_PATH", "STATIC_DIR", "api_registry", "build_app"]

#: The dashboard's files (index.html, app.js, style.css): served as they are, no build step.
STATIC_DIR = Path(__file__).parent / "static"
OPENAPI_PATH = "/api/v1/openapi.json"

_DESCRIPTION = (
    "Supervisors steer agt_server live: agents' preferred campaigns (POM's Agent Preferred Campaigns), moves and "
    "messages, campaign control, callbacks, inbound calls, the audit log and a live event stream.  Errors are "
    "RFC 9457 problem documents."
)


def api_registry() -> Registry:
    """Every operation of the API, in the order the document lists them."""
    return Registry.merge([_agents.api, _campaigns.api, _audit.api, _events.api, _metrics.api])


def build_app(server: AgentServer) -> Starlette:
    """The supervisor app of ``server``: REST API under ``/api/v1``, ``/metrics``, and the dashboard at ``/``."""
    registry = api_registry()
    tokens = TokenTable.from_config(server.config.tokens)
    document = msgspec.json.encode(
        openapi_document(
            registry.operations, title="agt_server supervisor API", version=__version__, description=_DESCRIPTION
        )
    )

    async def openapi(_request: Request) -> Response:
        return Response(document, media_type="application/json")

    async def dashboard(_request: Request) -> Response:
        index = STATIC_DIR / "index.html"
        if not index.is_file():
            return problem_response(ProblemError(404, "the dashboard is not installed (no static/index.html)"))
        return FileResponse(index, media_type="text/html")

    # One route per path, so that a wrong method's 405 lists every method the path has in its Allow header.
    by_path: dict[str, dict[str, Callable[[Request], Awaitable[Response]]]] = {}
    for operation in registry.operations:
        by_path.setdefault(operation.path, {})[operation.method] = endpoint(operation, server, tokens)
    routes: list[BaseRoute] = [
        Route(path, _dispatch(methods), methods=list(methods)) for path, methods in by_path.items()
    ]
    routes += [
        Route(OPENAPI_PATH, openapi, methods=["GET"]),
        Route("/", dashboard, methods=["GET"]),
        Mount("/static", app=StaticFiles(directory=STATIC_DIR, check_dir=False), name="static"),
    ]
    return Starlette(
        routes=routes,
        exception_handlers={HTTPException: http_exception_handler, Exception: server_error_handler},
    )


def _dispatch(
    methods: dict[str, Callable[[Request], Awaitable[Response]]],
) -> Callable[[Request], Awaitable[Response]]:
    """One endpoint serving several methods of a path (HEAD as GET; Starlette has refused any other)."""

    async def serve(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        return await methods[method](request)

    return serve
