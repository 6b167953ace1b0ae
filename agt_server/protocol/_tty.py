"""The tty framing: the command-line form of the PC manual, for people typing into telnet.

A command is one line of comma-separated fields, the keyword first: ``AGTLogon,agent1,secret``.  A
line ends with CR or LF (either, or both; empty lines are ignored).  Telnet IAC sequences are removed
wherever they occur, since a telnet client may send them at any time.  Fields are trimmed of the
spaces around them, so ``AGTLogon, agent1, secret`` works too; empty fields stay (positional
arguments such as ``AGTReleaseLine,,5`` need them).

The server answers with one readable line per message::

    AGTListJobs D 0|M00001|O,CMP1,A|O,CMP2,I
    AGTAttachJob R 1|E28804  (job not running)

keyword, type letter, then the segments joined by ``|``; an error code gets its meaning in brackets,
and a continued (ETB) message ends with `` +``.  Commands typed here carry no invoke id, so the codec
numbers them 1, 2, ... 9999 and round again (replies do not show it).
"""

from __future__ import annotations

import attrs

from ._codes import ErrorCode, MessageType
from ._errors import RemoteProtocolError
from ._framing import (
    Sentinel,
    StreamBuffer,
    error_reply,
    is_valid_keyword,
    raise_oversized,
    strip_telnet_commands,
)
from ._message import Message

__all__ = ["TTY_CLIENT_ID", "TtyCodec", "render_line"]

#: The Client field of commands typed on the tty listener.
TTY_CLIENT_ID = "tty"
_LINE_ENDS = b"\r\n"
_MAX_INVOKE_ID = 9999


@attrs.define(eq=False)
class TtyCodec(StreamBuffer):
    """A sans-IO codec for one connection using the tty (line) framing; same interface as ``WireCodec``."""

    _last_invoke_id: int = attrs.field(default=0, init=False)

    def next_message(self) -> Message | Sentinel:
        """Return the next typed command, or a :class:`Sentinel` when there is none.

        Raises:
            RemoteProtocolError: the line is not a command.  It has been dropped; calling again
                continues with the next line.
        """
        buffer = self._buffer
        incomplete_command = strip_telnet_commands(buffer, anywhere=True, eof=self._eof)
        while True:
            end = _find_line_end(buffer, self._scan_from)
            if end < 0:
                if self._eof and buffer and not self._discarding:
                    end = len(buffer)  # a last line without its line end still counts
                else:
                    return self._no_line_end(incomplete_command)
            line = bytes(buffer[:end])
            del buffer[:end + 1]
            self._scan_from = 0
            if self._discarding:
                self._discarding = False
                continue
            text = line.replace(b"\x00", b"").decode(self.encoding, errors="replace").strip()
            if not text:
                continue
            if len(line) + 1 > self.max_message_size:
                raise_oversized(None, "0")
            return self._parse(text)

    def send(self, message: Message) -> bytes:
        """Render ``message`` as one readable line ending in CRLF."""
        return (render_line(message) + "\r\n").encode(self.encoding, errors="replace")

    def _no_line_end(self, incomplete_command: bool) -> Sentinel:
        buffer = self._buffer
        if self._eof:
            buffer.clear()
            return Sentinel.CLOSED
        if len(buffer) >= self.max_message_size:
            buffer.clear()
            self._scan_from = 0
            if not self._discarding:
                self._discarding = True
                raise_oversized(None, "0")
        elif not incomplete_command:
            self._scan_from = len(buffer)
        return Sentinel.NEED_DATA

    def _parse(self, text: str) -> Message:
        fields = [field.strip() for field in text.split(",")]
        keyword, segments = fields[0], tuple(fields[1:])
        if not is_valid_keyword(keyword):
            raise RemoteProtocolError(
                f"{text[:40]!r} does not start with a keyword",
                reply=error_reply(None, "0", ErrorCode.E28863, "a line must start with a keyword"),
            )
        self._last_invoke_id = self._last_invoke_id % _MAX_INVOKE_ID + 1
        invoke_id = str(self._last_invoke_id)
        if len(segments) > self.max_segments:
            raise RemoteProtocolError(
                f"{keyword}: more than {self.max_segments} fields",
                reply=error_reply(keyword, invoke_id, ErrorCode.E70000, "too many segments"),
            )
        return Message(
            keyword=keyword,
            type=MessageType.COMMAND,
            segments=segments,
            client=TTY_CLIENT_ID,
            invoke_id=invoke_id,
        )


def _find_line_end(buffer: bytearray, start: int) -> int:
    ends = [i for i in (buffer.find(b"\r", start), buffer.find(b"\n", start)) if i >= 0]
    return min(ends) if ends else -1


def render_line(message: Message) -> str:
    """One readable line for ``message`` (no line end), as the tty listener shows it."""
    line = f"{message.keyword} {message.type.value} " + "|".join(message.segments)
    code = message.code
    if code is not None and code.startswith("E") and code in ErrorCode._value2member_map_:
        line += f"  ({ErrorCode(code).meaning})"
    if message.continued:
        line += " +"
    return "".join(ch if ch.isprintable() else "?" for ch in line)
