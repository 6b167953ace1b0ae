"""The trio shell: listeners, connections, the engine driver.  Thin glue around the engine."""

from ._auth import LogonGate, LogonThrottle
from ._driver import EngineDriver
from ._hub import Event, EventHub, Subscription
from ._logging import configure_logging
from ._serve import AgentServer, BoundPorts
from ._tls import demo_certificate, server_ssl_context

__all__ = [
    "AgentServer",
    "BoundPorts",
    "EngineDriver",
    "Event",
    "EventHub",
    "LogonGate",
    "LogonThrottle",
    "Subscription",
    "configure_logging",
    "demo_certificate",
    "server_ssl_context",
]
