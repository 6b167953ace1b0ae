"""The route registry, and the OpenAPI 3.1 document generated from it.

Each resource module declares its operations on a :class:`Registry` with the models they read and
write; the app builds its routes from the same declarations, so the document describes exactly what
is served.  Schemas come from the attrs models through ``msgspec.json.schema_components``.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

import attrs
import msgspec

from ._auth import Access
from ._models import Problem
from ._problems import PROBLEM_MEDIA_TYPE, problem_for

__all__ = ["Handler", "HeaderParameter", "Operation", "Registry", "openapi_document"]

#: An operation's handler: ``(context, [body or query model]) -> Response``.  The context type lives in
#: ``_handling.py``; the registry does not need to know it.
Handler = Callable[..., Awaitable[Any]]

_PATH_PARAMETER = re.compile(r"{(\w+)}")
_REF = "#/components/schemas/{name}"


@attrs.frozen
class HeaderParameter:
    """A request header an operation reads."""

    name: str
    description: str
    schema: dict[str, object] = attrs.Factory(lambda: {"type": "string"})


@attrs.frozen
class Operation:
    """One method on one path, as served and as documented.

    Attributes:
        method: ``GET``, ``PUT``, ``POST`` or ``DELETE``.
        path: the full path, with ``{parameters}`` (Starlette's syntax is OpenAPI's).
        handler: the coroutine function that serves it.
        operation_id: a unique identifier (the handler's name).
        summary: one line; ``description`` more if needed.
        tag: the group it is listed under.
        access: what the caller needs (see ``_auth.Access``).
        body: the request body's model (JSON).
        query: the query parameters' model.
        response: the success response's model (JSON); ``None`` with ``media_type`` for other content.
        status: the success status.
        media_type: the success response's content type.
        problems: the problem statuses it may answer, besides those implied by the rest (401 and 403 with
            access, 400 and 422 with a body, 422 with a query, 404 with path parameters).
        headers: request headers it reads.
        response_headers: success response headers: name -> description.
        query_token: a ``token`` query parameter may stand in for the Authorization header.
    """

    method: str
    path: str
    handler: Handler
    operation_id: str
    summary: str
    tag: str
    access: Access
    description: str = ""
    body: type | None = None
    query: type | None = None
    response: type | None = None
    status: int = 200
    media_type: str = "application/json"
    problems: tuple[int, ...] = ()
    headers: tuple[HeaderParameter, ...] = ()
    response_headers: tuple[tuple[str, str], ...] = ()
    query_token: bool = False

    @property
    def path_parameters(self) -> list[str]:
        """The names of the path's parameters, in order."""
        return _PATH_PARAMETER.findall(self.path)

    @property
    def problem_statuses(self) -> list[int]:
        """Every problem status the operation may answer."""
        statuses = set(self.problems)
        if self.access is not Access.PUBLIC:
            statuses.add(401)
        if self.access in (Access.WRITE, Access.CAMPAIGN_CONTROL):
            statuses.add(403)
        if self.body is not None:
            statuses |= {400, 422}
        if self.query is not None:
            statuses.add(422)
        if self.path_parameters:
            statuses.add(404)
        return sorted(statuses)


@attrs.define(eq=False)
class Registry:
    """The operations of one resource module (or, merged, of the whole API)."""

    operations: list[Operation] = attrs.Factory(list)

    def operation(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        tag: str,
        access: Access,
        **details: Any,
    ) -> Callable[[Handler], Handler]:
        """Declare the decorated handler as serving ``method path``; ``details`` are :class:`Operation` fields."""

        def register(handler: Handler) -> Handler:
            self.operations.append(
                Operation(method, path, handler, handler.__name__, summary, tag, access, **details)
            )
            return handler

        return register

    @classmethod
    def merge(cls, registries: Iterable[Registry]) -> Registry:
        """One registry with every operation of ``registries``, in order."""
        merged = cls()
        for registry in registries:
            merged.operations += registry.operations
        ids = [operation.operation_id for operation in merged.operations]
        duplicates = {name for name in ids if ids.count(name) > 1}
        assert not duplicates, f"operation ids must be unique: {duplicates}"
        return merged


def openapi_document(operations: Sequence[Operation], *, title: str, version: str, description: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``operations``."""
    models: set[type] = {Problem}
    for operation in operations:
        models |= {model for model in (operation.body, operation.response) if model is not None}
    ordered = sorted(models, key=lambda model: model.__name__)
    _, schemas = msgspec.json.schema_components(ordered, ref_template=_REF)
    paths: dict[str, dict[str, Any]] = {}
    for operation in operations:
        paths.setdefault(operation.path, {})[operation.method.lower()] = _operation_object(operation)
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version, "description": description},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "A token of the site configuration."},
                "query_token": {
                    "type": "apiKey",
                    "in": "query",
                    "name": "token",
                    "description": "The same token as a query parameter, for EventSource (event stream only).",
                },
            },
        },
    }


def _operation_object(operation: Operation) -> dict[str, Any]:
    document: dict[str, Any] = {
        "operationId": operation.operation_id,
        "summary": operation.summary,
        "tags": [operation.tag],
    }
    if operation.description:
        document["description"] = operation.description
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
        for name in operation.path_parameters
    ]
    if operation.query is not None:
        parameters += _query_parameters(operation.query)
    parameters += [
        {"name": header.name, "in": "header", "required": False, "description": header.description}
        | {"schema": header.schema}
        for header in operation.headers
    ]
    if parameters:
        document["parameters"] = parameters
    if operation.body is not None:
        document["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": _REF.format(name=operation.body.__name__)}}},
        }
    document["responses"] = _responses(operation)
    if operation.access is Access.PUBLIC:
        document["security"] = []
    else:
        document["security"] = [{"bearer": []}] + ([{"query_token": []}] if operation.query_token else [])
    return document


def _responses(operation: Operation) -> dict[str, Any]:
    success: dict[str, Any] = {"description": operation.summary}
    if operation.response is not None:
        schema: dict[str, Any] = {"$ref": _REF.format(name=operation.response.__name__)}
        success["content"] = {operation.media_type: {"schema": schema}}
    else:
        success["content"] = {operation.media_type: {"schema": {"type": "string"}}}
    if operation.response_headers:
        success["headers"] = {
            name: {"description": description, "schema": {"type": "string"}}
            for name, description in operation.response_headers
        }
    responses: dict[str, Any] = {str(operation.status): success}
    for status in operation.problem_statuses:
        responses[str(status)] = {
            "description": problem_for(status, "").title,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": _REF.format(name=Problem.__name__)}}},
        }
        if status == 401:
            responses["401"]["headers"] = {
                "WWW-Authenticate": {"description": "Bearer", "schema": {"type": "string"}}
            }
    return responses


def _query_parameters(model: type) -> list[dict[str, Any]]:
    """One parameter per field of the query model; optional ones lose their ``null`` (an absent parameter is null)."""
    _, components = msgspec.json.schema_components([model], ref_template=_REF)
    schema = components[model.__name__]
    required = set(schema.get("required", ()))
    parameters = []
    for name, generated in schema["properties"].items():
        field_schema = dict(generated)
        variants = field_schema.pop("anyOf", None)
        if variants is not None:
            kept = [variant for variant in variants if variant != {"type": "null"}]
            field_schema = {**(kept[0] if len(kept) == 1 else {"anyOf": kept}), **field_schema}
        if field_schema.get("default", 0) is None:
            del field_schema["default"]
        description = field_schema.pop("description", None)
        parameter: dict[str, Any] = {"name": name, "in": "query", "required": name in required, "schema": field_schema}
        if description:
            parameter["description"] = description
        parameters.append(parameter)
    return parameters
