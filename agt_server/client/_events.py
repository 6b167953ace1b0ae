"""What the client hands back: a command's :class:`Reply` and an assembled :class:`Notification`.

Both are frozen values built from the :class:`~agt_server.protocol.Message` objects that made them, so
nothing the server sent is lost; the properties read the common parts (status, code, data records).

Data records are the segments after the leading status digit and message code of each server
message.  One exception is built into :attr:`Reply.records`: ``AGTListState`` answers
``D 0 S7000x[,Job]`` with no ``M00001``, so a ``D`` code segment that is not a message code
(``M`` + five digits) is itself data and is kept.
"""

from __future__ import annotations

import re

import attrs

from agt_server.protocol import Message, MessageType

__all__ = ["Notification", "Reply"]

_MESSAGE_CODE = re.compile(r"M\d{5}")


@attrs.frozen
class Reply:
    """Everything the server sent back for one command.

    Attributes:
        keyword: the command's keyword.
        invoke_id: the invoke id the command was sent with (and the server echoed).
        pending: whether a ``P`` (``S28833``, request pending) came before the final message.
        data: the ``D`` messages, in order.
        response: the final message: ``R`` (or, rarely, ``B``).
    """

    keyword: str
    invoke_id: str
    pending: bool
    data: tuple[Message, ...]
    response: Message

    @property
    def ok(self) -> bool:
        """Whether the command succeeded: a final ``R`` with status ``0``."""
        return self.response.type is MessageType.RESPONSE and self.response.status == "0"

    @property
    def code(self) -> str:
        """The final message's six-character code (``M00000``, ``E28804``...), or ``""`` when absent."""
        return self.response.code or ""

    @property
    def detail(self) -> tuple[str, ...]:
        """Error detail: text comma-appended to the code (``E28842,B``) and segments after the code."""
        segments = self.response.segments
        if len(segments) < 2:
            return ()
        appended = segments[1][7:] if segments[1][6:7] == "," else ""
        return ((appended,) if appended else ()) + segments[2:]

    @property
    def records(self) -> tuple[str, ...]:
        """The data records of every ``D`` message, in order (e.g. one job per record for AGTListJobs)."""
        records: list[str] = []
        for message in self.data:
            segments = message.segments[1:]
            if segments and _MESSAGE_CODE.fullmatch(segments[0]):
                segments = segments[1:]
            records += segments
        return tuple(records)


@attrs.frozen
class Notification:
    """One server event, assembled from its ``N`` messages.

    A notification with data arrives as ``0 M00001 ...`` parts and ends with a message whose code is
    anything else (usually ``0 M00000``); a simple one is a single message (``AGTJobEnd 0 M00000``,
    ``AGTSystemError 1 E28924``).

    Attributes:
        keyword: the event name, e.g. ``AGTCallNotify``.
        messages: the ``N`` messages of the event, in order; never empty.
    """

    keyword: str
    messages: tuple[Message, ...] = attrs.field(validator=attrs.validators.min_len(1))

    @property
    def first(self) -> Message:
        """The first message (for AGTCallNotify: operator message, call type and key field)."""
        return self.messages[0]

    @property
    def status(self) -> str:
        """The last message's status digit: ``"0"``, or ``"1"`` for an error event."""
        return self.messages[-1].status or ""

    @property
    def code(self) -> str:
        """The last message's six-character code (``M00000``, ``E28880``, ``S28996``...), or ``""``."""
        return self.messages[-1].code or ""

    @property
    def records(self) -> tuple[str, ...]:
        """The data segments after status and code of every message, in order."""
        return tuple(segment for message in self.messages for segment in message.segments[2:])
