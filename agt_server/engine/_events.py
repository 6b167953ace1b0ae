"""What goes into the engine (inputs) and what comes out (effects).

The engine never touches a socket or a clock.  The server shell turns socket activity into inputs,
passes them to :meth:`Engine.handle` with the current time, and carries out the effects it gets back:
``Send`` writes a message to a connection, ``Close`` closes one after everything queued before it has
been written, and ``AgentEvent`` is a fact for logs and (later) the supervisors' live feed.
"""

from __future__ import annotations

import attrs

from agt_server.protocol import Message

from ._writes import StoreWrite

__all__ = [
    "AgentEvent",
    "Close",
    "Connected",
    "Disconnected",
    "Effect",
    "Expel",
    "Input",
    "JobEvent",
    "Received",
    "Send",
]


@attrs.frozen
class Connected:
    """A client connected; the engine greets it.  ``conn`` is the shell's id for the connection."""

    conn: int
    peer: str


@attrs.frozen
class Received:
    """A complete command arrived on ``conn``.

    ``credentials_ok`` is set by the shell for ``AGTLogon`` only: it checks the password (slow, in a
    worker thread) and the failed-logon throttle before the engine sees the command.
    """

    conn: int
    message: Message
    credentials_ok: bool | None = None


@attrs.frozen
class Disconnected:
    """The connection ended (closed by either side, broken, or timed out); the agent is logged off."""

    conn: int
    reason: str


@attrs.frozen
class Expel:
    """The server wants ``conn`` gone (idle timeout, shutdown): the agent is told with
    ``AGTSystemError 1 E28921,<reason>``, logged off, and the connection closed."""

    conn: int
    reason: str


Input = Connected | Received | Disconnected | Expel


@attrs.frozen
class Send:
    """Write ``message`` to connection ``conn``."""

    conn: int
    message: Message


@attrs.frozen
class Close:
    """Close connection ``conn`` once everything sent before this effect has been written."""

    conn: int
    reason: str


@attrs.frozen
class AgentEvent:
    """Something happened to an agent that supervisors and logs care about.

    Attributes:
        kind: ``logged_on``, ``logged_off``, ``state_changed`` or ``message_sent``.
        agent: the agent's name.
        conn: the connection it happened on.
        state: the AGTListState code after the event (``S70004`` … ``S70000``), or ``None`` when logged off.
        job: the attached job, if any.
        detail: free text (a reason, a message).
    """

    kind: str
    agent: str
    conn: int
    state: str | None = None
    job: str | None = None
    detail: str = ""


@attrs.frozen
class JobEvent:
    """A job changed state (started, paused, resumed, stopped, completed)."""

    job: str
    state: str
    detail: str = ""


Effect = Send | Close | AgentEvent | JobEvent | StoreWrite
