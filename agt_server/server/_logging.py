"""One structlog pipeline, rendered as console lines or JSON, for our events and the stdlib's alike."""

from __future__ import annotations

import logging
import sys

import structlog

__all__ = ["configure_logging"]


def configure_logging(log_format: str = "console", level: str = "info") -> None:
    """Send every log record (structlog's and the standard library's) through one pipeline.

    Args:
        log_format: ``console`` for people, ``json`` for machines (one object per line).
        level: ``debug``, ``info``, ``warning`` or ``error``.
    """
    numeric_level = logging.getLevelNamesMapping()[level.upper()]
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
    ]
    renderer: structlog.typing.Processor
    if log_format == "json":
        renderer = structlog.processors.JSONRenderer()
        final: list[structlog.typing.Processor] = [structlog.processors.dict_tracebacks, renderer]
    else:
        # Plain tracebacks: with rich installed (agt-load needs it) structlog would render rich ones with
        # every frame's locals, repr'ing the engine (seconds with thousands of sessions, on the event
        # loop) and, seen in a test, leaving a connection cut off by the timeout watchdog open.
        renderer = structlog.dev.ConsoleRenderer(
            colors=sys.stderr.isatty(), exception_formatter=structlog.dev.plain_traceback
        )
        final = [renderer]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *final],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric_level)
