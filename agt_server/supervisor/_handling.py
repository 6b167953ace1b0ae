"""From an HTTP request to a handler call and back: authentication, decoding, problems.

:func:`endpoint` turns a declared :class:`~._openapi.Operation` into a Starlette endpoint that
authenticates and authorises the caller, decodes the query or JSON body into the operation's model
(400 for a body that is not a JSON object, 422 for one that breaks the model), calls the handler with
a :class:`Context`, and turns any :class:`ProblemError` or engine refusal into a problem document.
"""

from __future__ import annotations

import datetime
import operator
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
_BOOLEANS = {"true": True, "false": False}

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
    return Response(msgspec.json.encode(_plain(model)), status, headers, "application/json")


#: Types msgspec encodes as they are.
_LEAVES = frozenset({str, int, float, bool, type(None), datetime.datetime})
#: Per attrs class: its field names in declaration order, and a getter of their values as a tuple.
_fields_of: dict[type, tuple[tuple[str, ...], Callable[[Any], tuple[Any, ...]]]] = {}


def _plain(value: Any) -> Any:
    """``value`` with attrs instances as dicts of their fields in declaration order, like ``attrs.asdict``.

    Twice as fast as ``attrs.asdict``, which matters for the largest answer, the agent list (10,000 agents
    and more on a load-test site), built on the event loop that also serves the AGT sessions.  msgspec's own
    attrs support would be faster still, but it writes the fields in alphabetical order.
    """
    kind = type(value)
    if kind in _LEAVES:
        return value
    if kind is list or kind is tuple or kind is set or kind is frozenset:
        return [item if type(item) in _LEAVES else _plain(item) for item in value]
    known = _fields_of.get(kind)
    if known is None:
        if kind is dict:
            return {key: _plain(item) for key, item in value.items()}
        if not attrs.has(kind):
            return value
        names = tuple(field.name for field in attrs.fields(kind))
        getter = operator.attrgetter(*names) if len(names) > 1 else lambda instance: (getattr(instance, names[0]),)
        known = _fields_of[kind] = (names, getter)
    names, getter = known
    return {
        name: item if type(item) in _LEAVES else _plain(item) for name, item in zip(names, getter(value), strict=True)
    }


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
    # Query values are text; only the model's integer fields are read as numbers and its boolean fields as
    # `true` / `false` (msgspec's lax mode would also turn "null" into None, "1" into True and "true" into
    # True for a text field, which a query never means).  Anything else stays text and fails validation.
    numbers, booleans = _typed_fields(model)
    params: dict[str, object] = {}
    for name, value in request.query_params.multi_items():
        if name in params:
            raise ProblemError(
                422, f"query parameter {name}: given more than once", errors=[FieldError(name, "given more than once")]
            )
        if name in numbers and _INTEGER.fullmatch(value):
            params[name] = int(value)
        elif name in booleans and value in _BOOLEANS:
            params[name] = _BOOLEANS[value]
        else:
            params[name] = value
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


_typed_fields_of: dict[type, tuple[frozenset[str], frozenset[str]]] = {}


def _typed_fields(model: type) -> tuple[frozenset[str], frozenset[str]]:
    """The names of ``model``'s fields that hold integers and those that hold booleans (``T`` or ``T | None``)."""
    known = _typed_fields_of.get(model)
    if known is not None:
        return known
    info = msgspec.inspect.type_info(model)
    assert isinstance(info, msgspec.inspect.DataclassType)

    def holds(field: msgspec.inspect.Field, kind: type[msgspec.inspect.Type]) -> bool:
        members = [_bare(field.type)]
        if isinstance(members[0], msgspec.inspect.UnionType):
            members = [_bare(member) for member in members[0].types]
        return any(isinstance(member, kind) for member in members)

    known = _typed_fields_of[model] = (
        frozenset(field.name for field in info.fields if holds(field, msgspec.inspect.IntType)),
        frozenset(field.name for field in info.fields if holds(field, msgspec.inspect.BoolType)),
    )
    return known


def _bare(info: msgspec.inspect.Type) -> msgspec.inspect.Type:
    """The type under any ``Annotated`` description."""
    return info.type if isinstance(info, msgspec.inspect.Metadata) else info


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
