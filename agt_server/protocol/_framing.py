"""What the wire and tty codecs share: limits, sentinels, keyword rules, Telnet noise, error replies."""

from __future__ import annotations

import enum
import re

import attrs

from ._codes import ErrorCode, MessageType
from ._errors import RemoteProtocolError
from ._message import Message

__all__ = [
    "LONG_KEYWORDS",
    "MAX_MESSAGE_SIZE",
    "MAX_SEGMENTS",
    "TRUNCATED_KEYWORDS",
    "Sentinel",
    "StreamBuffer",
    "error_reply",
    "is_echoable_invoke_id",
    "is_valid_keyword",
    "strip_telnet_commands",
]

#: The largest message we accept, terminator included.  AGT messages are short (the longest real
#: ones, job lists of ~80 jobs, stay under 2 KiB); the cap only stops a peer from filling our memory.
MAX_MESSAGE_SIZE = 64 * 1024

#: The most segments a message may carry.  A PC job list never has more than a few hundred jobs and
#: this server splits long lists anyway; more than this is garbage or an attack.
MAX_SEGMENTS = 256

_KEYWORD_SIZE = 20
_IAC = 0xFF
_SB = 0xFA
_SE = 0xF0
_WILL, _DONT = 0xFB, 0xFE


class Sentinel(enum.Enum):
    """What ``next_message()`` returns when it has no message to give."""

    #: the buffer holds no complete message yet; feed more bytes with ``receive_data``
    NEED_DATA = "need data"
    #: the peer closed the connection (``receive_data(b"")``) and every message has been read
    CLOSED = "closed"


#: POM's preferred-campaign commands have names longer than the 20-byte keyword field.  A client that
#: formats the header strictly writes their first 20 characters; one that pads without truncating
#: (as ``%-20s`` and ``PadRight`` do) pushes the rest of the header two bytes right.  We accept both
#: and always write the 20-character form.
LONG_KEYWORDS = ("AGTSetPreferredJobList", "AGTGetPreferredJobList")
TRUNCATED_KEYWORDS = {keyword[:_KEYWORD_SIZE]: keyword for keyword in LONG_KEYWORDS}


# Both checks run on every message in and out; as regular expressions they cost a tenth of a
# per-character generator (benchmarks/protocol_overhead.py).
_KEYWORD = re.compile(f"[!-~]{{1,{_KEYWORD_SIZE}}}")
_ECHOABLE_INVOKE_ID = re.compile("[^\x1e\x03\x17\u0100-\U0010ffff]{0,4}")


def is_valid_keyword(keyword: str) -> bool:
    """Whether ``keyword`` can be a keyword: 1-20 printable ASCII characters, no spaces (or a long POM one)."""
    return _KEYWORD.fullmatch(keyword) is not None or keyword in LONG_KEYWORDS


def is_echoable_invoke_id(invoke_id: str) -> bool:
    """Whether ``invoke_id`` can be written back into a header verbatim: at most 4 single-byte
    characters and no framing byte (RS, ETX, ETB).  A blank one is echoed as blanks."""
    return _ECHOABLE_INVOKE_ID.fullmatch(invoke_id) is not None


def error_reply(keyword: str | None, invoke_id: str, code: ErrorCode, detail: str = "") -> Message:
    """The reply to a message we could not accept.

    A message whose keyword we could read gets its own ``R 1 <code>``; one we could not read at all
    gets an ``AGTSystemError`` notification, as the real server reports malformed input.
    """
    segment = f"{code.value},{detail}" if detail else code.value
    if keyword is None:
        return Message("AGTSystemError", MessageType.NOTIFICATION, ("1", segment))
    return Message(keyword, MessageType.RESPONSE, ("1", segment), invoke_id=invoke_id)


def strip_telnet_commands(buffer: bytearray, *, anywhere: bool, eof: bool) -> bool:
    """Remove Telnet IAC command sequences from ``buffer`` in place.

    With ``anywhere`` false only sequences at the very start are removed (the wire codec tolerates
    them before the first message only); with it true, every complete sequence is removed.

    Returns:
        ``True`` when the buffer ends (or, with ``anywhere`` false, starts) with an incomplete
        sequence that needs more bytes; always ``False`` once ``eof`` is set.
    """
    pos = 0
    while True:
        start = buffer.find(_IAC, pos) if anywhere else (0 if buffer[:1] == b"\xff" else -1)
        if start < 0:
            return False
        if start + 1 >= len(buffer):
            return _incomplete(buffer, start, eof)
        command = buffer[start + 1]
        if _WILL <= command <= _DONT:
            end = start + 3
        elif command == _SB:
            close = buffer.find(bytes((_IAC, _SE)), start + 2)
            if close < 0:
                return _incomplete(buffer, start, eof)
            end = close + 2
        else:
            end = start + 2
        if end > len(buffer):
            return _incomplete(buffer, start, eof)
        del buffer[start:end]
        pos = start


def _incomplete(buffer: bytearray, start: int, eof: bool) -> bool:
    if eof:
        del buffer[start:]
        return False
    return True


@attrs.define(eq=False)
class StreamBuffer:
    """The receiving half both codecs share: the bytes received so far and the end of the stream.

    Args:
        encoding: the single-byte text encoding of data segments (latin-1 keeps every byte).
        max_message_size: the largest message accepted, terminator included.
        max_segments: the most segments a message may carry.
    """

    encoding: str = "latin-1"
    max_message_size: int = MAX_MESSAGE_SIZE
    max_segments: int = MAX_SEGMENTS
    _buffer: bytearray = attrs.field(factory=bytearray, init=False)
    _scan_from: int = attrs.field(default=0, init=False)
    _discarding: bool = attrs.field(default=False, init=False)
    _eof: bool = attrs.field(default=False, init=False)

    def receive_data(self, data: bytes | bytearray) -> None:
        """Add bytes received from the peer; ``b""`` marks the end of the stream."""
        if not data:
            self._eof = True
        elif not self._eof:
            self._buffer += data


def raise_oversized(keyword: str | None, invoke_id: str) -> None:
    """Raise the error for a message longer than :data:`MAX_MESSAGE_SIZE`."""
    raise RemoteProtocolError(
        f"message longer than {MAX_MESSAGE_SIZE} bytes; skipped to the next terminator",
        reply=error_reply(keyword, invoke_id, ErrorCode.E28863, "message too long"),
    )
