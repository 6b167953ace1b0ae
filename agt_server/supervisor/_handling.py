"""From an HTTP request to a handler call and back: authentication, decoding, problems.

:func:`endpoint` turns a declared :class:`~._openapi.Operation` into a Starlette endpoint that
authenticates and authorises the caller, decodes the query or JSON body into the operation's model
(400 for a body that is not a JSON object, 422 for one that breaks the model), calls the handler with
a :class:`Context`, and turns any :class:`ProblemError` or engine refusal into a problem document.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import attrs
import msgspec
import msgspec.inspect
import structlog
from starlette.requests import Request
from starlette.responses import Response

from agt_server.config import TokenRole
from agt_server.engine import OperationRefused, SupervisorInput

from ._auth import Access, Principal, TokenTable
from ._models import FieldError
from ._openapi import Operation
from ._problems import ProblemError, problem_response, refusal

if TYPE_CHECKING:
    from agt_server.server import AgentServer

__all__ = ["MAX_BODY_SIZE", "Context", "endpoint", "json_response"]

log = structlog.get_logger("agt_server.supervisor")

#: The largest request body accepted (the biggest legitimate one, an inbound call's record, is far smaller).
MAX_BODY_SIZE = 64 * 1024
_AT = re.compile(r"^(?P<message>.*) - at `(?P<location>[^`]*)`$")
_INTEGER = re.compile(r"-?[0-9]{1,18}")

Model = TypeVar("Model")


@attrs.frozen
class Context:
    """What a handler gets: the request, the server, and who asks (``None`` on a public operation)."""

    request: Request
    server: AgentServer
    principal: Principal | None

    @property
    def actor(self) -> str:
        """The name the audit log records for changes made by this request."""
        assert self.principal is not None
        return self.principal.name

    @property
    def who(self) -> Principal:
        """The authenticated principal (only on operations that need a token)."""
        assert self.principal is not None
        return self.principal

    async def steer(self, command: SupervisorInput) -> None:
        """Hand ``command`` to the engine and return once what it changed is durable (the audit entry too).

        Raises:
            OperationRefused: the engine refused it (nothing changed).
        """
        self.server.driver.dispatch(command)
        await self.server.driver.durable()

    def path(self, name: str) -> str:
        """The path parameter ``name``."""
        value = self.request.path_params[name]
        assert isinstance(value, str)
        return value

    @property
    def is_admin(self) -> bool:
        """Whether the caller has an admin token."""
        return self.principal is not None and self.principal.role is TokenRole.ADMIN


def json_response(model: attrs.AttrsInstance, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """``model`` as a JSON response, its fields in declaration order."""
    return Response(msgspec.json.encode(attrs.asdict(model)), status, headers, "application/json")


def endpoint(
    operation: Operation, server: AgentServer, tokens: TokenTable
) -> Callable[[Request], Awaitable[Response]]:
    """The Starlette endpoint serving ``operation``."""

    async def serve(request: Request) -> Response:
        try:
            principal = None
            if operation.access is not Access.PUBLIC:
                query_token = request.query_params.get("token") if operation.query_token else None
                principal = tokens.authenticate(request.headers.get("authorization"), query_token)
                principal.check(operation.access)
            arguments: list[object] = []
            if operation.query is not None:
                arguments.append(_decode_query(request, operation.query))
            if operation.body is not None:
                arguments.append(await _decode_body(request, operation.body))
            response: Response = await operation.handler(Context(request, server, principal), *arguments)
        except ProblemError as problem:
            return problem_response(problem)
        except OperationRefused as refused:
            return problem_response(refusal(refused))
        except Exception:
            # A bug: the caller gets a problem document, the log gets the traceback.
            log.exception("request_failed", method=request.method, path=request.url.path)
            return problem_response(ProblemError(500, "the server failed to handle the request; see its log"))
        return response

    serve.__name__ = operation.operation_id
    return serve


def _decode_query(request: Request, model: type[Model]) -> Model:
    # Query values are text; only the model's integer fields are read as numbers (msgspec's lax mode would
    # also turn "null" into None and "true" into True, which a query never means).
    numbers = _integer_fields(model)
    params: dict[str, object] = {}
    for name, value in request.query_params.multi_items():
        if name in params:
            raise ProblemError(
                422, f"query parameter {name}: given more than once", errors=[FieldError(name, "given more than once")]
            )
        params[name] = int(value) if name in numbers and _INTEGER.fullmatch(value) else value
    try:
        return msgspec.convert(params, type=model)
    except msgspec.ValidationError as exc:
        message, location = _split(str(exc))
        where = location.removeprefix("$.") if location else "query"
        raise ProblemError(
            422, f"query parameter {where}: {message}", errors=[FieldError(where, message)]
        ) from None


async def _decode_body(request: Request, model: type[Model]) -> Model:
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY_SIZE:
            raise ProblemError(400, f"the body is larger than {MAX_BODY_SIZE} bytes")
    if not raw.strip():
        raise ProblemError(400, "this request needs a JSON object as its body")
    try:
        data = msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        raise ProblemError(400, f"the body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ProblemError(400, f"the body must be a JSON object, not {_json_kind(data)}")
    try:
        return msgspec.convert(data, type=model)
    except msgspec.ValidationError as exc:
        message, location = _split(str(exc))
        where = location or "$"
        raise ProblemError(422, f"{where}: {message}", errors=[FieldError(where, message)]) from None


_integer_fields_of: dict[type, frozenset[str]] = {}


def _integer_fields(model: type) -> frozenset[str]:
    """The names of ``model``'s fields that hold integers (``int`` or ``int | None``)."""
    known = _integer_fields_of.get(model)
    if known is not None:
        return known
    info = msgspec.inspect.type_info(model)
    assert isinstance(info, msgspec.inspect.DataclassType)
    known = _integer_fields_of[model] = frozenset(
        field.name
        for field in info.fields
        if isinstance(field.type, msgspec.inspect.IntType)
        or (
            isinstance(field.type, msgspec.inspect.UnionType)
            and any(isinstance(member, msgspec.inspect.IntType) for member in field.type.types)
        )
    )
    return known


def _split(error: str) -> tuple[str, str]:
    """msgspec's ``Expected `str`, got `int` - at `$.campaigns[0]``` as (message, location)."""
    match = _AT.match(error)
    if match is None:
        return error, ""
    return match["message"], match["location"]


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return "a number"
