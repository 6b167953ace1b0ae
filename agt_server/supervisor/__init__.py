"""The supervisor REST API and dashboard: a Starlette app served by hypercorn in the server's trio run.

``build_app(server)`` makes the app of an :class:`~agt_server.server.AgentServer`; ``serve_http`` serves
it (``AgentServer.serve`` does both when ``listeners.http_port`` is set).  ``api_registry()`` lists every
operation, as the OpenAPI document at ``/api/v1/openapi.json`` describes them.

Everything in ``__all__`` is the public API of ``agt_server.supervisor``.
"""

from ._app import OPENAPI_PATH, STATIC_DIR, api_registry, build_app
from ._auth import Access, Principal, TokenTable
from ._events import HEARTBEAT_SECONDS
from ._problems import PROBLEM_MEDIA_TYPE, PROBLEM_TYPE_BASE
from ._serve import serve_http

__all__ = [
    "HEARTBEAT_SECONDS",
    "OPENAPI_PATH",
    "PROBLEM_MEDIA_TYPE",
    "PROBLEM_TYPE_BASE",
    "STATIC_DIR",
    "Access",
    "Principal",
    "TokenTable",
    "api_registry",
    "build_app",
    "serve_http",
]
