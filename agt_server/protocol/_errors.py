"""The codec's errors.

``ProtocolError`` is the base; ``RemoteProtocolError`` means the peer sent something that is not AGT,
``LocalProtocolError`` means our own code tried to build a message that cannot go on the wire.  A
``RemoteProtocolError`` carries the reply to send back (``reply``), so the shell never has to invent one,
and says whether the session can go on reading (``fatal``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._message import Message

__all__ = ["LocalProtocolError", "ProtocolError", "RemoteProtocolError"]


class ProtocolError(Exception):
    """Something is wrong with an AGT message."""


class LocalProtocolError(ProtocolError):
    """We tried to encode a message that the wire cannot carry (a bug in the caller)."""


class RemoteProtocolError(ProtocolError):
    """The peer sent bytes that are not a valid AGT message.

    Attributes:
        reply: the message to send back, or ``None`` when nothing can usefully be sent (the peer
            already closed the connection).
        fatal: ``True`` when the stream cannot be resynchronised and the connection should be closed
            after the reply; ``False`` when the decoder skipped the bad message and can go on.
    """

    def __init__(self, text: str, *, reply: Message | None, fatal: bool = False) -> None:
        super().__init__(text)
        self.reply = reply
        self.fatal = fatal
