"""The ``Message`` value: one AGT message, in either direction, on either framing."""

from __future__ import annotations

import attrs

from ._codes import MessageType

__all__ = ["SERVER_CLIENT_ID", "Message"]

#: What the real server writes into the Client/Originator field of every message it sends; clients
#: such as the Silverlight one parse this field as letters and spaces only.
SERVER_CLIENT_ID = "Agent server"


@attrs.frozen
class Message:
    """One AGT message.

    Attributes:
        keyword: the command or event name, e.g. ``AGTLogon`` (at most 20 ASCII characters).
        type: the message type (C, P, D, R, B or N).
        segments: the data segments in order.  Server messages start with the status digit and the
            message code (``("0", "M00000")``); commands carry their arguments.
        client: the Client/Originator field (free text, at most 20 characters).
        process_id: the Process ID field; the server sends its session number, clients send anything.
        invoke_id: an opaque string of at most 4 characters.  The server echoes a command's invoke id
            verbatim in every P, D and R that answers it; notifications carry ``"0"``.
        continued: ``True`` when the message ended with ETB (more of it follows), ``False`` for ETX.
    """

    keyword: str
    type: MessageType
    segments: tuple[str, ...] = ()
    client: str = SERVER_CLIENT_ID
    process_id: str = "0"
    invoke_id: str = "0"
    continued: bool = False

    @property
    def status(self) -> str | None:
        """The status digit of a server message (``"0"`` or ``"1"``), or ``None`` when absent."""
        return self.segments[0] if self.segments else None

    @property
    def code(self) -> str | None:
        """The six-character message code of a server message (``M00000``, ``E28804``, ...).

        Detail comma-appended to the code (``E28865,AGTFoo``) is not part of it; ``None`` when absent.
        """
        if len(self.segments) < 2:
            return None
        return self.segments[1][:6]
