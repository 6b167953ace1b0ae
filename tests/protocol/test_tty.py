"""Tests for the tty framing: :class:`TtyCodec` and :func:`render_line` (agt-protocol.md §1.8).

Lines are checked three ways, as h11's ``test_io.py::tr`` does (see :func:`check_lines`): the whole
buffer at once, one byte at a time, and followed by the start of another line.
"""

# ruff: noqa: SIM300  # the style guide's `assert expected == actual` reads as a Yoda condition to ruff

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agt_server.protocol import (
    CLOSED,
    MAX_MESSAGE_SIZE,
    MAX_SEGMENTS,
    NEED_DATA,
    TTY_CLIENT_ID,
    Message,
    MessageType,
    RemoteProtocolError,
    Sentinel,
    TtyCodec,
    render_line,
)

from .strategies import chunked, garbage, split_points

C, D, R, N = MessageType.COMMAND, MessageType.DATA, MessageType.RESPONSE, MessageType.NOTIFICATION

#: The start of a line that never ends, appended to check that the decoder leaves it alone.
PARTIAL = b"AGTListJobs,A"


def command(keyword: str, invoke_id: str, *segments: str) -> Message:
    """A command as the tty codec produces it: type C, client ``tty``, process id 0."""
    return Message(keyword, C, segments, client=TTY_CLIENT_ID, process_id="0", invoke_id=invoke_id)


def drain(codec: TtyCodec) -> tuple[list[Message], Sentinel]:
    """Every message ready in ``codec``, and the sentinel that ended the run."""
    got: list[Message] = []
    while True:
        event = codec.next_message()
        if isinstance(event, Sentinel):
            return got, event
        got.append(event)


def check_lines(data: bytes, expected_messages: list[Message]) -> None:
    """Check that ``data`` decodes to ``expected_messages`` three ways.

    1. The whole buffer at once, then EOF: nothing more, CLOSED.
    2. One byte at a time: a message appears exactly when its CR or LF arrives, NEED_DATA otherwise.
    3. Followed by the start of another line: NEED_DATA after the expected messages; at EOF that
       unfinished line is returned too.
    """
    codec = TtyCodec()
    codec.receive_data(data)
    got, sentinel = drain(codec)
    assert expected_messages == got
    assert NEED_DATA == sentinel
    codec.receive_data(b"")
    assert CLOSED == codec.next_message()

    codec = TtyCodec()
    got = []
    for index in range(len(data)):
        codec.receive_data(data[index:index + 1])
        ready, sentinel = drain(codec)
        assert NEED_DATA == sentinel
        if ready:
            assert data[index:index + 1] in (b"\r", b"\n"), f"line completed at byte {index}, not a line end"
        got += ready
    assert expected_messages == got

    codec = TtyCodec()
    codec.receive_data(data + PARTIAL)
    got, sentinel = drain(codec)
    assert expected_messages == got
    assert NEED_DATA == sentinel
    codec.receive_data(b"")
    assert ([command("AGTListJobs", str(len(expected_messages) + 1), "A")], CLOSED) == drain(codec)


def check_line_error(codec: TtyCodec, expected_reply: Message | None) -> None:
    """The next message of ``codec`` is an error carrying ``expected_reply``."""
    with pytest.raises(RemoteProtocolError) as excinfo:
        codec.next_message()
    assert expected_reply == excinfo.value.reply
    assert excinfo.value.fatal is False


SYSTEM_ERROR = Message("AGTSystemError", N, ("1", "E28863,a line must start with a keyword"))


class TestTtyCodecLines:
    """Splitting the stream into lines and lines into commands."""

    @pytest.mark.parametrize("line_end", [b"\r", b"\n", b"\r\n", b"\n\r"], ids=["cr", "lf", "crlf", "lfcr"])
    def test_line_ends(self, line_end: bytes) -> None:
        """A line ends with CR, LF, CRLF or LFCR; the pair never makes an extra command."""
        data = b"AGTLogon,agent1,secret" + line_end + b"AGTListJobs,A" + line_end
        check_lines(data, [command("AGTLogon", "1", "agent1", "secret"), command("AGTListJobs", "2", "A")])

    def test_empty_lines_ignored(self) -> None:
        """Empty lines and lines of blanks are skipped and use no invoke id."""
        check_lines(b"\r\n\n  \r\t\nAGTListState\r\n\r\n", [command("AGTListState", "1")])

    def test_fields_trimmed(self) -> None:
        """Spaces around the keyword and every field are removed."""
        check_lines(b"  AGTLogon , agent1,  secret  \n", [command("AGTLogon", "1", "agent1", "secret")])

    def test_inner_spaces_kept(self) -> None:
        """Spaces inside a field are kept (free text such as a message to a supervisor)."""
        check_lines(b"AGTSendMessage,hello  there\n", [command("AGTSendMessage", "1", "hello  there")])

    def test_positional_empty_fields_kept(self) -> None:
        """Empty fields are kept in place, including a trailing one."""
        check_lines(b"AGTReleaseLine,,5\nAGTSetCallback,a,b,c,,e\nAGTFoo,\n", [
            command("AGTReleaseLine", "1", "", "5"),
            command("AGTSetCallback", "2", "a", "b", "c", "", "e"),
            command("AGTFoo", "3", ""),
        ])

    def test_keyword_only(self) -> None:
        """A line with only a keyword is a command without arguments."""
        check_lines(b"AGTAvailWork\r\n", [command("AGTAvailWork", "1")])

    def test_invoke_ids_numbered(self) -> None:
        """Commands get invoke ids 1, 2, 3, ... in the order they were typed."""
        data = b"".join(b"AGTListState\n" for _ in range(12))
        check_lines(data, [command("AGTListState", str(n)) for n in range(1, 13)])

    def test_invoke_ids_wrap(self) -> None:
        """After 9999 the invoke id starts again at 1, so it always fits the four-byte field."""
        codec = TtyCodec()
        codec.receive_data(b"A\n" * 10001)
        got, _ = drain(codec)
        assert ["9998", "9999", "1", "2"] == [message.invoke_id for message in got[9997:]]

    def test_keyword_case_kept(self) -> None:
        """The keyword is taken as typed; matching it is the engine's business."""
        check_lines(b"agtlogon,a,b\n", [command("agtlogon", "1", "a", "b")])

    @pytest.mark.parametrize(
        "telnet",
        [
            pytest.param(b"\xff\xfb\x01", id="will"),
            pytest.param(b"\xff\xfd\x03", id="do"),
            pytest.param(b"\xff\xf4", id="interrupt"),
            pytest.param(b"\xff\xfa\x18\x00VT100\xff\xf0", id="subnegotiation"),
        ],
    )
    def test_telnet_anywhere(self, telnet: bytes) -> None:
        """Telnet IAC sequences are removed wherever they occur: before, inside and between lines."""
        data = telnet + b"AGTLogon," + telnet + b"agent1,secret" + telnet + b"\r\n" + telnet + b"AGTListState\r\n"
        check_lines(data, [command("AGTLogon", "1", "agent1", "secret"), command("AGTListState", "2")])

    def test_telnet_split_across_chunks(self) -> None:
        """A Telnet sequence split across reads inside a line is held back and then removed."""
        codec = TtyCodec()
        for chunk in (b"AGTLog", b"on\xff", b"\xfa\x18", b"\x00VT\xff", b"\xf0,a\xff", b"\xfd"):
            codec.receive_data(chunk)
            assert NEED_DATA == codec.next_message()
        codec.receive_data(b"\x03,b\r\n")
        assert ([command("AGTLogon", "1", "a", "b")], NEED_DATA) == drain(codec)

    def test_line_end_right_after_split_telnet(self) -> None:
        """A line end arriving in the same read that completes a split Telnet sequence ends the line at once."""
        codec = TtyCodec()
        codec.receive_data(b"AGTListState\xff")
        assert NEED_DATA == codec.next_message()
        codec.receive_data(b"\xfb\x01\r")
        assert ([command("AGTListState", "1")], NEED_DATA) == drain(codec)

    def test_nul_stripped(self) -> None:
        """NUL bytes are removed (telnet sends CR NUL for the return key)."""
        check_lines(b"AGTLogon,agent1,secret\r\x00AGTList\x00State\r\x00", [
            command("AGTLogon", "1", "agent1", "secret"),
            command("AGTListState", "2"),
        ])

    def test_latin1_text(self) -> None:
        """8-bit characters in fields are decoded as latin-1."""
        check_lines("AGTSendMessage,Grüße\n".encode("latin-1"), [command("AGTSendMessage", "1", "Grüße")])

    def test_last_line_without_line_end(self) -> None:
        """A last line without its line end is returned at EOF, then the stream is closed."""
        codec = TtyCodec()
        codec.receive_data(b"AGTListState\nAGTLogoff")
        assert ([command("AGTListState", "1")], NEED_DATA) == drain(codec)
        codec.receive_data(b"")
        assert ([command("AGTLogoff", "2")], CLOSED) == drain(codec)

    def test_eof_on_empty_stream(self) -> None:
        """EOF before any byte, or after only blanks and NULs, closes the stream."""
        for data in (b"", b"  \x00 "):
            codec = TtyCodec()
            codec.receive_data(data)
            codec.receive_data(b"")
            assert ([], CLOSED) == drain(codec)

    def test_data_after_eof_ignored(self) -> None:
        """Bytes received after EOF are ignored."""
        codec = TtyCodec()
        codec.receive_data(b"")
        codec.receive_data(b"AGTListState\n")
        assert CLOSED == codec.next_message()


class TestTtyCodecErrors:
    """Lines the tty codec rejects, and that the next line still decodes."""

    @pytest.mark.parametrize(
        "line",
        [
            pytest.param(b"hello world", id="words"),
            pytest.param(b",AGTLogon", id="empty-keyword"),
            pytest.param(b"AGT Logon,a", id="space-in-keyword"),
            pytest.param("AGTLögon".encode("latin-1"), id="not-ascii"),
            pytest.param(b"AGT\x01Logon", id="control"),
            pytest.param(b"AGTSetNotifyKeyFieldX,O", id="keyword-21-chars"),
        ],
    )
    def test_not_a_keyword(self, line: bytes) -> None:
        """A line that does not start with a keyword is answered AGTSystemError E28863; the next line decodes."""
        codec = TtyCodec()
        codec.receive_data(line + b"\r\nAGTListState\r\n")
        check_line_error(codec, SYSTEM_ERROR)
        assert ([command("AGTListState", "1")], NEED_DATA) == drain(codec)

    def test_too_many_fields(self) -> None:
        """A command with more than MAX_SEGMENTS arguments is answered with its own R 1 E70000."""
        codec = TtyCodec()
        codec.receive_data(b"AGTListJobs" + b",x" * (MAX_SEGMENTS + 1) + b"\nAGTListState\n")
        check_line_error(codec, Message("AGTListJobs", R, ("1", "E70000,too many segments"), invoke_id="1"))
        assert ([command("AGTListState", "2")], NEED_DATA) == drain(codec)

    def test_max_fields(self) -> None:
        """A command with exactly MAX_SEGMENTS arguments is accepted."""
        codec = TtyCodec()
        codec.receive_data(b"AGTListJobs" + b",x" * MAX_SEGMENTS + b"\n")
        assert ([command("AGTListJobs", "1", *(["x"] * MAX_SEGMENTS))], NEED_DATA) == drain(codec)

    def test_over_long_line_whole(self) -> None:
        """A line longer than MAX_MESSAGE_SIZE arriving whole errors once; the next line decodes."""
        codec = TtyCodec()
        codec.receive_data(b"AGTSendMessage," + b"x" * MAX_MESSAGE_SIZE + b"\r\nAGTListState\r\n")
        with pytest.raises(RemoteProtocolError) as excinfo:
            codec.next_message()
        assert excinfo.value.reply is not None
        assert ("AGTSystemError", N, "1", "E28863") == (
            excinfo.value.reply.keyword, excinfo.value.reply.type, excinfo.value.reply.status, excinfo.value.reply.code)
        assert ([command("AGTListState", "1")], NEED_DATA) == drain(codec)

    def test_over_long_line_in_reads(self) -> None:
        """A line growing past MAX_MESSAGE_SIZE read by read errors once; the rest of it is skipped."""
        codec = TtyCodec()
        data = b"AGTSendMessage," + b"x" * (3 * MAX_MESSAGE_SIZE) + b"\r\nAGTListState\r\n"
        errors, got = 0, []
        for start in range(0, len(data), 4093):
            codec.receive_data(data[start:start + 4093])
            while True:
                try:
                    event = codec.next_message()
                except RemoteProtocolError:
                    errors += 1
                    continue
                if isinstance(event, Sentinel):
                    break
                got.append(event)
        assert (1, [command("AGTListState", "1")]) == (errors, got)

    def test_over_long_line_at_eof(self) -> None:
        """An over-long line cut off by EOF errors once, then the stream is closed."""
        codec = TtyCodec()
        codec.receive_data(b"x" * (MAX_MESSAGE_SIZE // 2))
        assert NEED_DATA == codec.next_message()
        codec.receive_data(b"x" * MAX_MESSAGE_SIZE)
        with pytest.raises(RemoteProtocolError):
            codec.next_message()
        codec.receive_data(b"")
        assert CLOSED == codec.next_message()

    @given(garbage, st.data())
    def test_arbitrary_bytes(self, raw: bytes, data: st.DataObject) -> None:
        """Whatever the bytes and however they are split, only RemoteProtocolError is raised, and EOF ends CLOSED."""
        codec = TtyCodec()

        def drain_tolerant() -> Sentinel:
            for _ in range(len(raw) + 3):
                try:
                    event = codec.next_message()
                except RemoteProtocolError as exc:
                    if exc.reply is not None:
                        codec.send(exc.reply)
                    continue
                if isinstance(event, Sentinel):
                    return event
                assert MessageType.COMMAND == event.type
            raise AssertionError("next_message() did not settle")

        for chunk in chunked(raw, split_points(data, len(raw))):
            codec.receive_data(chunk)
            assert NEED_DATA == drain_tolerant()
        codec.receive_data(b"")
        assert CLOSED == drain_tolerant()
        assert CLOSED == codec.next_message()


class TestRenderLine:
    """TtyCodec.send() and render_line(): one readable line per message."""

    def test_data_message(self) -> None:
        """A message renders as keyword, type letter and the segments joined by ``|``, ending with CRLF."""
        message = Message("AGTListJobs", D, ("0", "M00001", "O,CMP1,A"), invoke_id="3")
        assert b"AGTListJobs D 0|M00001|O,CMP1,A\r\n" == TtyCodec().send(message)

    def test_several_records(self) -> None:
        """Every segment is shown, in order."""
        message = Message("AGTListJobs", D, ("0", "M00001", "O,CMP1,A", "O,CMP2,I"))
        assert "AGTListJobs D 0|M00001|O,CMP1,A|O,CMP2,I" == render_line(message)

    def test_error_reply_with_meaning(self) -> None:
        """An error code is followed by its meaning in brackets."""
        message = Message("AGTAttachJob", R, ("1", "E28804"), invoke_id="4")
        assert b"AGTAttachJob R 1|E28804  (job not running)\r\n" == TtyCodec().send(message)

    def test_error_with_detail(self) -> None:
        """An error code with comma-appended detail still gets its meaning."""
        message = Message("AGTFoo", R, ("1", "E28865,AGTFoo"))
        assert "AGTFoo R 1|E28865,AGTFoo  (unknown command)" == render_line(message)

    def test_unknown_error_code(self) -> None:
        """An E-code this server does not know is shown without a meaning."""
        assert "AGTFoo R 1|E99999" == render_line(Message("AGTFoo", R, ("1", "E99999")))

    def test_success_has_no_meaning(self) -> None:
        """Message and status codes are shown bare."""
        assert "AGTLogon P 0|S28833" == render_line(Message("AGTLogon", MessageType.PENDING, ("0", "S28833")))

    def test_no_segments(self) -> None:
        """A message without segments renders as keyword and type letter."""
        assert "AGTSTART N " == render_line(Message("AGTSTART", N))

    def test_continued(self) -> None:
        """A continued (ETB) message ends with `` +``."""
        message = Message("AGTListJobs", D, ("0", "M00001", "O,CMP1,A"), continued=True)
        assert b"AGTListJobs D 0|M00001|O,CMP1,A +\r\n" == TtyCodec().send(message)

    def test_non_printable_replaced(self) -> None:
        """Non-printable characters (controls, framing bytes) are shown as ``?``."""
        message = Message("AGTSendMessage", N, ("0", "M00001", "a\x1eb\x03c\r\nd\x00"))
        assert b"AGTSendMessage N 0|M00001|a?b?c??d?\r\n" == TtyCodec().send(message)

    def test_unencodable_replaced(self) -> None:
        """Printable characters the codec's encoding cannot carry are sent as ``?``."""
        message = Message("AGTSendMessage", N, ("0", "M00001", "€5"))
        assert b"AGTSendMessage N 0|M00001|?5\r\n" == TtyCodec().send(message)

    def test_invoke_id_not_shown(self) -> None:
        """Replies do not show the invoke id, client or process id."""
        message = Message("AGTLogon", R, ("0", "M00000"), client="Agent server", process_id="4242", invoke_id="77")
        assert "AGTLogon R 0|M00000" == render_line(message)
