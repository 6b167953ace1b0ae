"""Serving the app with hypercorn's trio worker, in the caller's nursery and trio run.

Hypercorn's own logs go through the standard library's logging, which ``configure_logging`` formats
with the rest: ``hypercorn.error`` for its messages, ``agt_server.http`` for the access log (path
without the query string, which may hold an event stream's token).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import cast

import hypercorn.config
import hypercorn.trio
import trio
from hypercorn.typing import Framework
from starlette.applications import Starlette

__all__ = ["serve_http"]

#: Pending connections the kernel may queue (hypercorn's default of 100 makes a connect storm of 1,000
#: dashboards take seconds of SYN retries).
_BACKLOG = 4096
#: How long open requests get to finish at shutdown before they are cut (event streams end before this,
#: when the event hub closes).
_GRACEFUL_TIMEOUT = 3.0
_ACCESS_LOG_FORMAT = "%(h)s %(m)s %(U)s %(s)s %(b)s %(L)ss"


async def serve_http(
    app: Starlette,
    host: str,
    port: int,
    *,
    shutdown_trigger: Callable[[], Awaitable[None]],
    task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve ``app`` on ``host:port`` until ``shutdown_trigger`` returns (then shut down gracefully) or
    cancellation; reports the bound port once listening."""
    config = hypercorn.config.Config()
    config.bind = [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"]
    config.backlog = _BACKLOG
    config.graceful_timeout = _GRACEFUL_TIMEOUT
    config.accesslog = logging.getLogger("agt_server.http")
    config.access_log_format = _ACCESS_LOG_FORMAT
    config.errorlog = logging.getLogger("hypercorn.error")
    async with trio.open_nursery() as nursery:
        # Starlette's __call__ does not match hypercorn's Framework union, though it is an ASGI 3 app.
        framework = cast(Framework, app)
        binds: list[str] = await nursery.start(
            partial(hypercorn.trio.serve, framework, config, shutdown_trigger=shutdown_trigger)
        )
        task_status.started(int(binds[0].rsplit(":", 1)[1]))
