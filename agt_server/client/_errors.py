"""The client's errors, factored out to avoid import loops.

::

    AgtClientError                 anything this client raises on purpose
    ├── AgtConnectionError         the session could not be opened (connect, TLS, greeting)
    ├── AgtConnectionClosed        the session ended while (or before) a command was waiting
    ├── AgtCommandError            the server answered a command with ``R 1 Exxxxx``
    └── AgtUnexpectedReply         a successful reply whose data this client cannot parse
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agt_server.protocol import ErrorCode

if TYPE_CHECKING:
    from ._events import Reply

__all__ = [
    "AgtClientError",
    "AgtCommandError",
    "AgtConnectionClosed",
    "AgtConnectionError",
    "AgtUnexpectedReply",
]


class AgtClientError(Exception):
    """Base class of every error the AGT client raises on purpose."""


class AgtConnectionError(AgtClientError):
    """The session could not be opened: no TCP connection, a failed TLS handshake, or no greeting.

    The server must speak first with ``AGTSTART N 0 AGENT_STARTUP``; any other first message, or the
    connection closing before it, ends the session before it started.
    """


class AgtConnectionClosed(AgtClientError):
    """The connection ended (server EOF, broken stream, or closed by us) before a reply arrived."""


class AgtCommandError(AgtClientError):
    """The server answered a command with an error (``R 1 Exxxxx``, or a ``B`` busy message).

    Attributes:
        reply: the whole reply, P and D messages included.
        keyword: the command's keyword, e.g. ``AGTAttachJob``.
        code: the six-character error code, e.g. ``E28804`` (empty when the reply carried none).
    """

    def __init__(self, reply: Reply) -> None:
        self.reply = reply
        self.keyword = reply.keyword
        self.code = reply.code
        super().__init__(_describe(reply))


class AgtUnexpectedReply(AgtClientError):
    """A command succeeded but its data does not have the documented layout.

    Attributes:
        reply: the reply that could not be parsed.
    """

    def __init__(self, reply: Reply, problem: str) -> None:
        self.reply = reply
        super().__init__(f"{reply.keyword}: {problem} (data records: {list(reply.records)!r})")


_MEANINGS = {code.value: code.meaning for code in ErrorCode}


def _describe(reply: Reply) -> str:
    text = f"{reply.keyword} failed: {reply.code or 'no code'}"
    if reply.code in _MEANINGS:
        text += f" ({_MEANINGS[reply.code]})"
    if reply.detail:
        text += " [" + ", ".join(reply.detail) + "]"
    return text
