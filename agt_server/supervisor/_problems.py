"""Errors as RFC 9457 problem documents (``application/problem+json``).

A handler raises :class:`ProblemError`; the app turns it, Starlette's own HTTP errors (unknown path,
wrong method) and any unexpected exception into a problem document with a clear ``detail``.  Engine
refusals map by kind: ``not_found`` → 404, ``conflict`` → 409, ``invalid`` → 422.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import msgspec
import structlog
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from agt_server.engine import OperationRefused

from ._models import FieldError, Problem

__all__ = [
    "PROBLEM_MEDIA_TYPE",
    "PROBLEM_TYPE_BASE",
    "ProblemError",
    "http_exception_handler",
    "problem_response",
    "refusal",
    "server_error_handler",
]

log = structlog.get_logger("agt_server.supervisor")

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://agt-server.dev/problems/"

#: status -> (type slug, title)
_KINDS: dict[int, tuple[str, str]] = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Authentication required"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    409: ("conflict", "Conflict"),
    412: ("precondition-failed", "Precondition failed"),
    422: ("validation", "Validation failed"),
    500: ("internal", "Internal server error"),
}
_REFUSAL_STATUS = {"not_found": 404, "conflict": 409, "invalid": 422}


class ProblemError(Exception):
    """A request that ends with a problem document.

    Attributes:
        status: the HTTP status.
        detail: what went wrong, for the person who sent the request.
        errors: for validation problems, where and what (``$.campaigns[0]``: ``Expected `str` ...``).
        headers: extra response headers (``WWW-Authenticate`` for 401).
    """

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        errors: Sequence[FieldError] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = tuple(errors)
        self.headers = dict(headers or {})


def refusal(exc: OperationRefused) -> ProblemError:
    """The problem for an engine refusal."""
    return ProblemError(_REFUSAL_STATUS.get(exc.kind, 409), str(exc))


def problem_for(status: int, detail: str, errors: Sequence[FieldError] = ()) -> Problem:
    """The problem document for ``status``."""
    slug, title = _KINDS.get(status, ("error", "Error"))
    return Problem(
        type=PROBLEM_TYPE_BASE + slug, title=title, status=status, detail=detail, errors=list(errors) or None
    )


def problem_response(error: ProblemError) -> Response:
    """``error`` as an ``application/problem+json`` response."""
    problem = problem_for(error.status, error.detail, error.errors)
    body: dict[str, object] = {
        "type": problem.type,
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
    }
    if problem.errors:
        body["errors"] = [{"location": item.location, "message": item.message} for item in problem.errors]
    return Response(msgspec.json.encode(body), error.status, error.headers, PROBLEM_MEDIA_TYPE)


async def http_exception_handler(request: Request, exc: Exception) -> Response:
    """Starlette's own errors (no such path, method not allowed) as problem documents."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        detail = f"there is no {request.url.path}"
    elif exc.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}"
    else:
        detail = exc.detail
    return problem_response(ProblemError(exc.status_code, detail, headers=exc.headers))


async def server_error_handler(request: Request, exc: Exception) -> Response:
    """A bug: log it with its traceback and answer 500 without details."""
    log.error("request_failed", method=request.method, path=request.url.path, exc_info=exc)
    return problem_response(ProblemError(500, "the server failed to handle the request; see its log"))
