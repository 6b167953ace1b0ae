"""The AGT wire framing, sans-IO: bytes in, :class:`Message` out; :class:`Message` in, bytes out.

Theory of operation
-------------------
A wire message is a fixed 55-byte header, a data part and one terminator byte::

    keyword(20) type(1) client(20) process-id(6) invoke-id(4) segment-count(4)  {RS segment}*  ETX|ETB

Header fields are left-justified and space-padded, so a 20-character keyword runs straight into the
type byte.  Each segment is *preceded* by RS (0x1E); ETX (0x03) ends a message, ETB (0x17) ends a part
of one that continues.  Neither terminator can occur inside a message, so the decoder splits the
stream on them and parses each frame strictly by offsets.

The decoder is forgiving where real peers are sloppy and strict where sloppiness would hide a bug:

* CR, LF and NUL between messages are skipped (people test with netcat; some clients add CRLF);
* Telnet IAC negotiation before the first message is dropped (Avaya's own DLL used a Telnet control);
* a zero-argument command with one stray empty segment is accepted (Avaya's DLL sends that), and so
  are extra *empty* trailing segments;
* everything else that is wrong — a frame shorter than a header, an unknown type letter, a segment
  count that is not a number or does not match, more than 256 segments, more than 64 KiB — raises
  :class:`RemoteProtocolError` carrying the reply to send.  The bad frame is dropped and decoding
  resumes at the next message: one bad command never costs the session.

Nothing else is ever raised, whatever the bytes; the property tests feed arbitrary bytes to prove it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NoReturn

import attrs

from ._codes import ErrorCode, MessageType
from ._errors import LocalProtocolError, RemoteProtocolError
from ._framing import (
    MAX_MESSAGE_SIZE,
    MAX_SEGMENTS,
    TRUNCATED_KEYWORDS,
    Sentinel,
    StreamBuffer,
    error_reply,
    is_echoable_invoke_id,
    is_valid_keyword,
    raise_oversized,
    strip_telnet_commands,
)
from ._message import Message

__all__ = [
    "ETB",
    "ETX",
    "HEADER_SIZE",
    "MAX_CLIENT_READ",
    "RS",
    "WireCodec",
    "encode",
    "encoded_size",
    "split_records",
]

RS = b"\x1e"
ETX = b"\x03"
ETB = b"\x17"
HEADER_SIZE = 55

#: Real clients (the Go client, the JavaScript one) read 256 bytes at a time and treat each read as
#: exactly one message, so every message this server sends must fit in 256 bytes.
MAX_CLIENT_READ = 256

_TERMINATOR = re.compile(b"[\x03\x17]")
_BETWEEN_MESSAGES = b"\r\n\x00"
_TYPE_OF_LETTER = {t.value: t for t in MessageType}
_TYPE_LETTERS = {t: t.value for t in MessageType}
_FRAMING_BYTE = re.compile(b"[\x1e\x03\x17]")
_TYPE_BYTES = frozenset(t.value.encode("ascii") for t in MessageType)


@attrs.define(eq=False)
class WireCodec(StreamBuffer):
    """A sans-IO codec for one connection using the binary wire framing.

    Feed received bytes with :meth:`receive_data` (``b""`` means the peer closed), take messages
    with :meth:`next_message` until it returns :data:`Sentinel.NEED_DATA`, and turn outgoing
    messages into bytes with :meth:`send`.

    Its arguments are :class:`StreamBuffer`'s: the encoding of data segments and the size limits.
    """

    _seen_message: bool = attrs.field(default=False, init=False)

    def next_message(self) -> Message | Sentinel:
        """Return the next complete message, or a :class:`Sentinel` when there is none.

        Raises:
            RemoteProtocolError: the next message is malformed.  It has been dropped; calling again
                continues with the message after it.
        """
        buffer = self._buffer
        if not buffer and not self._eof:  # every read ends here once its messages are taken: be quick
            self._scan_from = 0
            return Sentinel.NEED_DATA
        while True:
            if not self._discarding:
                if not self._seen_message and strip_telnet_commands(buffer, anywhere=False, eof=self._eof):
                    return Sentinel.NEED_DATA
                if buffer and buffer[0] in _BETWEEN_MESSAGES:  # (no copy of the buffer when there is nothing to skip)
                    del buffer[: len(buffer) - len(buffer.lstrip(_BETWEEN_MESSAGES))]
                    self._scan_from = 0
                    continue
            found = _TERMINATOR.search(buffer, self._scan_from)
            if found is None:
                return self._no_terminator()
            end = found.start()
            frame = bytes(buffer[:end])
            continued = buffer[end] == ETB[0]
            del buffer[:end + 1]
            self._scan_from = 0
            if self._discarding:
                self._discarding = False
                continue
            if len(frame) + 1 > self.max_message_size:
                keyword, invoke_id = _peek_header(frame)
                raise_oversized(keyword, invoke_id)
            self._seen_message = True
            return self._parse(frame, continued)

    def send(self, message: Message) -> bytes:
        """Encode ``message`` for the wire (see :func:`encode`)."""
        return encode(message, encoding=self.encoding)

    def _no_terminator(self) -> Sentinel:
        buffer = self._buffer
        if self._eof:
            if buffer and not self._discarding:
                buffer.clear()
                raise RemoteProtocolError("connection closed in the middle of a message", reply=None)
            buffer.clear()
            return Sentinel.CLOSED
        if len(buffer) >= self.max_message_size:
            keyword, invoke_id = _peek_header(bytes(buffer[:HEADER_SIZE]))
            buffer.clear()
            self._scan_from = 0
            if not self._discarding:
                self._discarding = True
                raise_oversized(keyword, invoke_id)
        self._scan_from = len(buffer)
        return Sentinel.NEED_DATA

    def _parse(self, frame: bytes, continued: bool) -> Message:
        keyword = frame[0:20].decode("latin-1").rstrip(" ")
        shift = 0
        if keyword in TRUNCATED_KEYWORDS:
            keyword = TRUNCATED_KEYWORDS[keyword]
            overflow = keyword[20:].encode("ascii")
            after = 20 + len(overflow)
            if frame[20:after] == overflow and frame[after:after + 1] in _TYPE_BYTES:
                shift = len(overflow)  # the keyword was padded, not truncated: the header is longer
        if len(frame) < HEADER_SIZE + shift:
            raise RemoteProtocolError(
                f"message of {len(frame)} bytes is shorter than the {HEADER_SIZE}-byte header",
                reply=error_reply(None, "0", ErrorCode.E28863, "message shorter than the header"),
            )
        # From here on, offsets are those of a standard header: the keyword is cut off.
        header = " " * 20 + frame[20 + shift:HEADER_SIZE + shift].decode("latin-1")
        invoke_id = header[47:51].strip(" ")
        reply_invoke_id = invoke_id if is_echoable_invoke_id(invoke_id) else "0"
        if not is_valid_keyword(keyword):
            raise RemoteProtocolError(
                f"invalid keyword {keyword!r}",
                reply=error_reply(None, "0", ErrorCode.E28863, "invalid keyword"),
            )
        type_letter = header[20]
        message_type = _TYPE_OF_LETTER.get(type_letter)
        if message_type is None:
            raise RemoteProtocolError(
                f"{keyword}: unknown message type {type_letter!r}",
                reply=error_reply(keyword, reply_invoke_id, ErrorCode.E70001, "message type must be C"),
            )
        count_field = header[51:55].strip(" ")
        if not (count_field.isascii() and count_field.isdigit()):
            raise RemoteProtocolError(
                f"{keyword}: segment count {count_field!r} is not a number",
                reply=error_reply(keyword, reply_invoke_id, ErrorCode.E28863, "segment count is not a number"),
            )
        declared = int(count_field)
        segments = self._segments(frame[HEADER_SIZE + shift:], keyword, reply_invoke_id)
        if len(segments) > declared and not any(segments[declared:]):
            segments = segments[:declared]
        if declared > self.max_segments or len(segments) > self.max_segments:
            raise RemoteProtocolError(
                f"{keyword}: more than {self.max_segments} segments",
                reply=error_reply(keyword, reply_invoke_id, ErrorCode.E70000, "too many segments"),
            )
        if len(segments) != declared:
            raise RemoteProtocolError(
                f"{keyword}: header declares {declared} segments but {len(segments)} were sent",
                reply=error_reply(keyword, reply_invoke_id, ErrorCode.E70000, "segment count does not match"),
            )
        return Message(
            keyword=keyword,
            type=message_type,
            segments=tuple(segments),
            client=header[21:41].rstrip(" "),
            process_id=header[41:47].strip(" "),
            invoke_id=invoke_id,
            continued=continued,
        )

    def _segments(self, data: bytes, keyword: str, invoke_id: str) -> list[str]:
        if not data:
            return []
        if data[:1] != RS:
            raise RemoteProtocolError(
                f"{keyword}: data part does not start with RS (0x1E)",
                reply=error_reply(keyword, invoke_id, ErrorCode.E28863, "data must start with RS"),
            )
        return [part.decode(self.encoding, errors="replace") for part in data[1:].split(RS)]


def _peek_header(frame: bytes) -> tuple[str | None, str]:
    """Keyword and invoke id of a frame too long to parse, when they look valid (for the reply)."""
    if len(frame) < HEADER_SIZE:
        return None, "0"
    header = frame[:HEADER_SIZE].decode("latin-1")
    keyword = header[0:20].rstrip(" ")
    invoke_id = header[47:51].strip(" ")
    return (keyword if is_valid_keyword(keyword) else None), (invoke_id if is_echoable_invoke_id(invoke_id) else "0")


def encode(message: Message, *, encoding: str = "latin-1") -> bytes:
    """Encode one message in the wire framing.

    Raises:
        LocalProtocolError: a field does not fit its width, a numeric field is not a number, a
            segment contains a framing byte, or the message exceeds the size or segment limits.
    """
    keyword, client, process_id, invoke_id, segments = (
        message.keyword,
        message.client,
        message.process_id,
        message.invoke_id,
        message.segments,
    )
    if not is_valid_keyword(keyword):
        raise LocalProtocolError(f"keyword {keyword!r} is not 1-20 printable ASCII characters")
    if len(client) > 20 or not client.isascii() or not client.isprintable():
        raise LocalProtocolError(f"client field {client!r} is not at most 20 printable ASCII characters")
    if not (0 < len(process_id) <= 6 and process_id.isascii() and process_id.isdigit()):
        raise LocalProtocolError(f"process id {process_id!r} is not a number of at most 6 digits")
    if not is_echoable_invoke_id(invoke_id):
        raise LocalProtocolError(f"invoke id {invoke_id!r}: at most 4 single-byte characters, no framing bytes")
    if len(segments) > MAX_SEGMENTS:
        raise LocalProtocolError(f"{keyword}: {len(segments)} segments, at most {MAX_SEGMENTS}")
    # Every reply goes through here: ljust builds the header in a third of the time of the same
    # f-string with format specs, and the segments are checked for framing bytes in one search.
    header = "".join((
        keyword[:20].ljust(20),
        _TYPE_LETTERS[message.type],
        client.ljust(20),
        process_id.ljust(6),
        invoke_id.ljust(4),
        str(len(segments)).ljust(4),
    ))  # fmt: skip
    try:
        data = [segment.encode(encoding) for segment in segments]
    except UnicodeEncodeError:
        _raise_for_bad_segment(message, encoding)
    if _FRAMING_BYTE.search(b"".join(data)):
        _raise_for_bad_segment(message, encoding)
    terminator = ETB if message.continued else ETX
    wire = header.encode("latin-1") + (RS + RS.join(data) + terminator if data else terminator)
    if len(wire) > MAX_MESSAGE_SIZE:
        raise LocalProtocolError(f"{keyword}: {len(wire)} bytes, at most {MAX_MESSAGE_SIZE}")
    return wire


def _raise_for_bad_segment(message: Message, encoding: str) -> NoReturn:
    """Raise the error for the first segment of ``message`` that cannot go on the wire."""
    for segment in message.segments:
        try:
            data = segment.encode(encoding)
        except UnicodeEncodeError as exc:
            raise LocalProtocolError(f"{message.keyword}: segment {segment!r} is not {encoding}") from exc
        if RS in data or ETX in data or ETB in data:
            raise LocalProtocolError(f"{message.keyword}: segment {segment!r} contains a framing byte")
    raise AssertionError("no bad segment")  # pragma: no cover


def encoded_size(message: Message, *, encoding: str = "latin-1") -> int:
    """The number of bytes :func:`encode` produces for ``message``, without building them."""
    return HEADER_SIZE + sum(1 + len(s.encode(encoding, errors="replace")) for s in message.segments) + 1


def fit_message(
    message: Message, *, max_size: int = MAX_CLIENT_READ, keep: int = 2, encoding: str = "latin-1"
) -> Message:
    """``message`` shortened to at most ``max_size`` bytes by cutting its longest segments.

    The first ``keep`` segments (a server message's status and code) are never cut.  Free text from
    calling lists (a customer's name, a long field value) must not push a message past what real
    clients read in one go; losing the end of a long value is the lesser harm.
    """
    excess = encoded_size(message, encoding=encoding) - max_size
    if excess <= 0:
        return message
    segments = list(message.segments)
    while excess > 0:
        candidates = [index for index in range(keep, len(segments)) if segments[index]]
        if not candidates:
            break
        longest = max(candidates, key=lambda index: len(segments[index]))
        cut = min(excess, len(segments[longest]))
        segments[longest] = segments[longest][: len(segments[longest]) - cut]
        excess -= cut
    return attrs.evolve(message, segments=tuple(segments))


def split_records(
    template: Message,
    records: Sequence[str],
    *,
    max_size: int = MAX_CLIENT_READ,
    mark_continued: bool = False,
    cut_long_records: bool = False,
    encoding: str = "latin-1",
) -> list[Message]:
    """Spread ``records`` over as few messages as possible, each at most ``max_size`` bytes.

    Every message is ``template`` with its segments (the leading ones, e.g. ``("0", "M00001")``)
    followed by the next records that fit, in order.  At least one message is returned, even for no
    records.  This is how long job lists and call data reach clients that read 256 bytes at a time.

    Args:
        template: the message each part copies; its segments lead every part.
        records: the segments to distribute.
        max_size: the largest encoded message allowed.
        mark_continued: end every part but the last with ETB (off by default: real clients expect
            complete ``D``/``N`` messages).
        cut_long_records: cut a record that cannot fit alone to the room there is, instead of raising
            (for free text from calling lists, where losing a long value's end is the lesser harm).

    Raises:
        LocalProtocolError: one record alone does not fit in ``max_size`` with the leading segments
            (unless ``cut_long_records``).
    """
    room = max_size - encoded_size(template, encoding=encoding)
    parts: list[list[str]] = [[]]
    used = 0
    for whole in records:
        cost = 1 + len(whole.encode(encoding, errors="replace"))
        record = whole[: room - 1] if cost > room and cut_long_records else whole
        cost = min(cost, room) if cut_long_records else cost
        if cost > room:
            raise LocalProtocolError(
                f"{template.keyword}: record of {cost - 1} bytes cannot fit in a {max_size}-byte message"
            )
        if used + cost > room or len(template.segments) + len(parts[-1]) >= MAX_SEGMENTS:
            parts.append([])
            used = 0
        parts[-1].append(record)
        used += cost
    last = len(parts) - 1
    return [
        attrs.evolve(
            template,
            segments=template.segments + tuple(chunk),
            continued=mark_continued and index < last,
        )
        for index, chunk in enumerate(parts)
    ]
