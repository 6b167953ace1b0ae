"""The audit log: preferred-list changes and supervisor actions, newest first.

The store is read in a worker thread (SQLite blocks).  A supervisor sees only entries about campaigns,
its groups' agents and things that are neither; its pages are counted over what it may see.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

import trio
from starlette.responses import Response

from agt_server.engine import AuditEntry as StoredEntry
from agt_server.store import Store

from ._auth import Access
from ._handling import Context, json_response
from ._models import AuditEntry, AuditPage, AuditQuery
from ._openapi import Registry

__all__ = ["api"]

api = Registry()

#: Entries read from the store at a time while filtering a supervisor's page.
_CHUNK = 500


@api.operation(
    "GET",
    "/api/v1/audit",
    summary="The audit log, newest first",
    description="Who changed which preferred list, and every supervisor action; `subject` is an agent or a campaign.",
    tag="audit",
    access=Access.READ,
    query=AuditQuery,
    response=AuditPage,
    problems=(403,),
)
async def audit(ctx: Context, query: AuditQuery) -> Response:
    engine = ctx.server.driver.engine
    principal = ctx.who
    subject = query.subject
    if subject is not None and subject in engine.agents:
        principal.check_group(subject, engine.agents[subject].group)

    def visible(entry: StoredEntry) -> bool:
        agent = engine.agents.get(entry.subject)
        return agent is None or principal.sees_group(agent.group)

    store = ctx.server.store
    if ctx.is_admin or principal.groups == frozenset() or subject is not None:
        entries = await trio.to_thread.run_sync(store.audit, query.offset, query.limit, subject)
    else:
        entries = await trio.to_thread.run_sync(_filtered_page, store, query.offset, query.limit, visible)
    return json_response(AuditPage([_entry(entry) for entry in entries], query.offset, query.limit))


def _filtered_page(store: Store, offset: int, limit: int, visible: Callable[[StoredEntry], bool]) -> list[StoredEntry]:
    """The page ``offset``/``limit`` of the entries ``visible`` accepts (runs in a worker thread)."""
    page: list[StoredEntry] = []
    skipped = 0
    read = 0
    while len(page) < limit:
        chunk = store.audit(read, _CHUNK)
        read += len(chunk)
        for entry in chunk:
            if not visible(entry):
                continue
            if skipped < offset:
                skipped += 1
            elif len(page) < limit:
                page.append(entry)
        if len(chunk) < _CHUNK:
            break
    return page


def _entry(entry: StoredEntry) -> AuditEntry:
    at = datetime.datetime.fromtimestamp(entry.at, datetime.UTC)
    return AuditEntry(at, entry.actor, entry.action, entry.subject, entry.before, entry.after)
