"""Tests for the wire framing: :class:`WireCodec`, :func:`encode`, :func:`encoded_size`, :func:`split_records`.

Every decoder case is checked three ways, as h11's ``test_io.py::tr`` does (see :func:`check_decode`):
the whole buffer at once, one byte at a time, and followed by the start of another message.  Expected
bytes are written out literally from agt-protocol.md §1.10, never produced by the encoder under test.
"""

# ruff: noqa: SIM300  # the style guide's `assert expected == actual` reads as a Yoda condition to ruff

from __future__ import annotations

import itertools

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from agt_server.protocol import (
    CLOSED,
    ETB,
    ETX,
    HEADER_SIZE,
    MAX_CLIENT_READ,
    MAX_MESSAGE_SIZE,
    MAX_SEGMENTS,
    NEED_DATA,
    RS,
    LocalProtocolError,
    Message,
    MessageType,
    RemoteProtocolError,
    Sentinel,
    WireCodec,
    encode,
    encoded_size,
    fit_message,
    split_records,
)

from .strategies import chunked, frame_streams, garbage, messages, segments, split_points

C, P, D, R, N = (MessageType.COMMAND, MessageType.PENDING, MessageType.DATA, MessageType.RESPONSE,
                 MessageType.NOTIFICATION)

#: The start of a message that never completes, appended to check that the decoder leaves it alone.
PARTIAL = b"AGTListJobs         CEMUCLIENT           0     99  1   \x1eA"


def header(
    keyword: str = "AGTListJobs",
    *,
    type_letter: str = "C",
    client: str = "EMUCLIENT",
    process_id: str = "0",
    invoke_id: str = "9",
    count: str = "1",
) -> bytes:
    """A 55-byte header built by hand (not by the encoder): every field left-justified and space-padded."""
    raw = (
        keyword.ljust(20) + type_letter.ljust(1) + client.ljust(20) + process_id.ljust(6) + invoke_id.ljust(4)
        + count.ljust(4)
    ).encode("latin-1")
    assert HEADER_SIZE == len(raw)
    return raw


#: A valid command and the message it decodes to; used after errors to show the session goes on.
VALID = b"AGTListState        CEMUCLIENT           0     77  0   \x03"
VALID_MESSAGE = Message("AGTListState", C, (), client="EMUCLIENT", process_id="0", invoke_id="77")


def drain(codec: WireCodec) -> tuple[list[Message], Sentinel]:
    """Every message ready in ``codec``, and the sentinel that ended the run."""
    got: list[Message] = []
    while True:
        event = codec.next_message()
        if isinstance(event, Sentinel):
            return got, event
        got.append(event)


def decode_all(data: bytes) -> list[Message]:
    """Decode ``data`` fed at once, expecting no error and nothing left over."""
    codec = WireCodec()
    codec.receive_data(data)
    got, sentinel = drain(codec)
    assert NEED_DATA == sentinel
    return got


def check_decode(data: bytes, expected_messages: list[Message]) -> None:
    """Check that ``data`` decodes to ``expected_messages`` three ways, as h11's ``tr`` does.

    1. The whole buffer at once, then EOF on the clean boundary.
    2. One byte at a time: a message appears exactly when its terminator byte arrives, NEED_DATA otherwise.
    3. Followed by the start of another message, which stays in the buffer (NEED_DATA), then EOF
       in its middle is an error without a reply.
    """
    codec = WireCodec()
    codec.receive_data(data)
    got, sentinel = drain(codec)
    assert expected_messages == got
    assert NEED_DATA == sentinel
    codec.receive_data(b"")
    assert CLOSED == codec.next_message()

    codec = WireCodec()
    got = []
    for index in range(len(data)):
        codec.receive_data(data[index:index + 1])
        ready, sentinel = drain(codec)
        assert NEED_DATA == sentinel
        if ready:
            assert data[index:index + 1] in (ETX, ETB), f"message completed at byte {index}, not a terminator"
        got += ready
    assert expected_messages == got

    codec = WireCodec()
    codec.receive_data(data + PARTIAL)
    got, sentinel = drain(codec)
    assert expected_messages == got
    assert NEED_DATA == sentinel
    codec.receive_data(b"")
    with pytest.raises(RemoteProtocolError) as excinfo:
        codec.next_message()
    assert excinfo.value.reply is None
    assert CLOSED == codec.next_message()


def summary(reply: Message | None) -> tuple[str, MessageType, str, str | None, str | None] | None:
    """The parts of a reply a client acts on: keyword, type, invoke id, status digit and code."""
    if reply is None:
        return None
    return reply.keyword, reply.type, reply.invoke_id, reply.status, reply.code


def check_decode_error(data: bytes, expected_reply: tuple[str, MessageType, str, str, str]) -> None:
    """Check that the frame ``data`` is rejected with ``expected_reply`` (see :func:`summary`), three ways.

    1. The whole buffer at once: one non-fatal error with that reply (which must be encodable), then NEED_DATA.
    2. One byte at a time: NEED_DATA until the terminator, then the error.
    3. Followed by a valid message: the error, then that message; the session is not lost.
    """
    codec = WireCodec()
    codec.receive_data(data)
    with pytest.raises(RemoteProtocolError) as excinfo:
        codec.next_message()
    assert expected_reply == summary(excinfo.value.reply)
    assert excinfo.value.fatal is False
    assert excinfo.value.reply is not None
    encode(excinfo.value.reply)
    assert NEED_DATA == codec.next_message()

    codec = WireCodec()
    for index in range(len(data) - 1):
        codec.receive_data(data[index:index + 1])
        assert NEED_DATA == codec.next_message()
    codec.receive_data(data[-1:])
    with pytest.raises(RemoteProtocolError) as excinfo:
        codec.next_message()
    assert expected_reply == summary(excinfo.value.reply)

    codec = WireCodec()
    codec.receive_data(data + VALID)
    with pytest.raises(RemoteProtocolError):
        codec.next_message()
    assert ([VALID_MESSAGE], NEED_DATA) == drain(codec)


def system_error(code: str) -> tuple[str, MessageType, str, str, str]:
    """The reply summary of an ``AGTSystemError`` notification, for input whose keyword is unreadable."""
    return "AGTSystemError", N, "0", "1", code


# --- the worked examples of agt-protocol.md §1.10 ------------------------------------------------------

GREETING = b"AGTSTART            NAgent server        4242  0   2   \x1e0\x1eAGENT_STARTUP\x03"
GREETING_HEX = bytes.fromhex(
    "41 47 54 53 54 41 52 54 20 20 20 20 20 20 20 20"
    "20 20 20 20 4e 41 67 65 6e 74 20 73 65 72 76 65"
    "72 20 20 20 20 20 20 20 20 34 32 34 32 20 20 30"
    "20 20 20 32 20 20 20 1e 30 1e 41 47 45 4e 54 5f"
    "53 54 41 52 54 55 50 03"
)


def server(keyword: str, type_: MessageType, invoke_id: str, *segments: str, continued: bool = False) -> Message:
    """A message from the server of §1.10 (client ``Agent server``, PID 4242)."""
    return Message(keyword, type_, segments, process_id="4242", invoke_id=invoke_id, continued=continued)


def client(keyword: str, invoke_id: str, *segments: str) -> Message:
    """A command from the ``EMUCLIENT`` client of §1.10 (process id 0)."""
    return Message(keyword, C, segments, client="EMUCLIENT", process_id="0", invoke_id=invoke_id)


WORKED_EXAMPLES = [
    pytest.param(
        GREETING, server("AGTSTART", N, "0", "0", "AGENT_STARTUP"), 72, id="a-greeting"),
    pytest.param(
        b"AGTLogon            CEMUCLIENT           0     7   3   \x1eagent07\x1es3cret\x1ePCAPI_5.2.0.0.1\x03",
        client("AGTLogon", "7", "agent07", "s3cret", "PCAPI_5.2.0.0.1"), 87, id="b-logon-command"),
    pytest.param(
        b"AGTLogon            PAgent server        4242  7   2   \x1e0\x1eS28833\x03",
        server("AGTLogon", P, "7", "0", "S28833"), 65, id="b-logon-pending"),
    pytest.param(
        b"AGTLogon            RAgent server        4242  7   2   \x1e0\x1eM00000\x03",
        server("AGTLogon", R, "7", "0", "M00000"), 65, id="b-logon-response"),
    pytest.param(
        b"AGTListJobs         CEMUCLIENT           0     8   1   \x1eA\x03",
        client("AGTListJobs", "8", "A"), 58, id="c-listjobs-command"),
    pytest.param(
        b"AGTListJobs         DAgent server        4242  8   5   "
        b"\x1e0\x1eM00001\x1eO,SALES1,A\x1eB,BLEND2,I\x1eM,PREVIEW3,A\x03",
        server("AGTListJobs", D, "8", "0", "M00001", "O,SALES1,A", "B,BLEND2,I", "M,PREVIEW3,A"), 100,
        id="c-listjobs-data"),
    pytest.param(
        b"AGTListJobs         RAgent server        4242  8   2   \x1e0\x1eM00000\x03",
        server("AGTListJobs", R, "8", "0", "M00000"), 65, id="c-listjobs-response"),
    pytest.param(
        b"AGTSetNotifyKeyFieldCEMUCLIENT           0     9   2   \x1eO\x1eACCTNUM\x03",
        client("AGTSetNotifyKeyField", "9", "O", "ACCTNUM"), 66, id="d-20-char-keyword"),
    pytest.param(
        b"AGTAttachJob        RAgent server        4242  10  2   \x1e1\x1eE28804\x03",
        server("AGTAttachJob", R, "10", "1", "E28804"), 65, id="d-error-reply"),
    pytest.param(
        b"AGTAvailWork        CEMUCLIENT           0     11  0   \x03",
        client("AGTAvailWork", "11"), 56, id="d-zero-arguments"),
    pytest.param(
        b"AGTCallNotify       NAgent server        4242  0   5   "
        b"\x1e0\x1eM00001\x1eMARY ROE\x1eOUTBOUND\x1eACCTNUM,1234567\x03",
        server("AGTCallNotify", N, "0", "0", "M00001", "MARY ROE", "OUTBOUND", "ACCTNUM,1234567"), 99,
        id="d-callnotify-1"),
    pytest.param(
        b"AGTCallNotify       NAgent server        4242  0   4   \x1e0\x1eM00001\x1eBAL,12.50\x1ePHONE1,5551230000\x03",
        server("AGTCallNotify", N, "0", "0", "M00001", "BAL,12.50", "PHONE1,5551230000"), 93,
        id="d-callnotify-2"),
    pytest.param(
        b"AGTCallNotify       NAgent server        4242  0   2   \x1e0\x1eM00000\x03",
        server("AGTCallNotify", N, "0", "0", "M00000"), 65, id="d-callnotify-3"),
    pytest.param(
        b"AGTListDataFields   DAgent server        4242  12  4   \x1e0\x1eM00001\x1eACCTNUM,16,N,F\x1eNAME,26,C,F\x17",
        server("AGTListDataFields", D, "12", "0", "M00001", "ACCTNUM,16,N,F", "NAME,26,C,F", continued=True), 92,
        id="d-etb-part"),
]


class TestWorkedExamples:
    """The worked examples of agt-protocol.md §1.10, byte for byte."""

    @pytest.mark.parametrize(("wire", "message", "size"), WORKED_EXAMPLES)
    def test_decodes(self, wire: bytes, message: Message, size: int) -> None:
        """Each example decodes to its stated fields, whole, byte at a time and with trailing data."""
        assert size == len(wire)
        check_decode(wire, [message])

    @pytest.mark.parametrize(("wire", "message", "size"), WORKED_EXAMPLES)
    def test_encodes(self, wire: bytes, message: Message, size: int) -> None:
        """Each example's message encodes to exactly the bytes of the reference, of the stated length."""
        assert wire == encode(message)
        assert size == encoded_size(message)

    def test_greeting_hex_dump(self) -> None:
        """The greeting matches the hex dump of example (a) and is 72 bytes long."""
        assert GREETING_HEX == GREETING
        assert 72 == len(GREETING)

    def test_twenty_character_keyword_runs_into_the_type_byte(self) -> None:
        """A 20-character keyword fills its field, so the type letter follows with no space (hex ... 64 43 ...)."""
        wire = encode(client("AGTSetNotifyKeyField", "9", "O", "ACCTNUM"))
        assert bytes.fromhex("69 65 6c 64 43 45 4d") == wire[16:23]

    def test_zero_argument_command_has_no_rs(self) -> None:
        """A zero-argument command is the header followed directly by ETX: 56 bytes, no RS at all."""
        wire = encode(client("AGTAvailWork", "11"))
        assert 56 == len(wire)
        assert RS not in wire
        assert ETX == wire[-1:]

    def test_etb_part_decodes_as_continued(self) -> None:
        """A message ended by ETB decodes with ``continued`` set, one ended by ETX without it."""
        wire = b"AGTListDataFields   DAgent server        4242  12  4   \x1e0\x1eM00001\x1eACCTNUM,16,N,F\x1eNAME,26,C,F"  # noqa: E501
        assert [True, False] == [m.continued for m in decode_all(wire + ETB + wire + ETX)]

    def test_whole_conversation_in_one_buffer(self) -> None:
        """Examples (a) to (d) sent back to back in one buffer decode in order."""
        wire = b"".join(example.values[0] for example in WORKED_EXAMPLES)
        check_decode(wire, [example.values[1] for example in WORKED_EXAMPLES])

    def test_message_properties(self) -> None:
        """``status`` and ``code`` read the status digit and the six-character code, ignoring comma detail."""
        reply = server("AGTFoo", R, "1", "1", "E28865,AGTFoo")
        assert ("1", "E28865") == (reply.status, reply.code)
        assert (None, None) == (client("AGTAvailWork", "1").status, client("AGTAvailWork", "1").code)


class TestWireCodecTolerances:
    """What the decoder accepts from sloppy peers (agt-protocol.md §1.5, §1.11)."""

    def test_line_noise_between_messages(self) -> None:
        """CR, LF and NUL before, between and after messages are skipped."""
        wire = b"\r\n" + VALID + b"\r\n\x00" + GREETING + b"\n\x00\r"
        check_decode(wire, [VALID_MESSAGE, server("AGTSTART", N, "0", "0", "AGENT_STARTUP")])

    @pytest.mark.parametrize(
        "telnet",
        [
            pytest.param(b"\xff\xfb\x01", id="will"),
            pytest.param(b"\xff\xfd\x03", id="do"),
            pytest.param(b"\xff\xfe\x22\xff\xfc\x01", id="dont-wont"),
            pytest.param(b"\xff\xfa\x18\x01\xff\xf0", id="subnegotiation"),
            pytest.param(b"\xff\xfb\x01\xff\xfd\x03\xff\xfa\x1f\x00\x50\x00\x18\xff\xf0\xff\xf1", id="mixed"),
            pytest.param(b"\r\n\xff\xfb\x01\x00\xff\xfd\x03\r\n", id="with-line-noise"),
        ],
    )
    def test_telnet_before_first_message(self, telnet: bytes) -> None:
        """Telnet IAC sequences before the first message are dropped."""
        check_decode(telnet + VALID + VALID, [VALID_MESSAGE, VALID_MESSAGE])

    def test_telnet_split_across_chunks(self) -> None:
        """An IAC SB ... IAC SE sequence split across reads is held back and then dropped."""
        codec = WireCodec()
        for chunk in (b"\xff", b"\xfa\x18", b"\x01ab\xff", b"\xf0\xff", b"\xfb"):
            codec.receive_data(chunk)
            assert NEED_DATA == codec.next_message()
        codec.receive_data(b"\x01" + VALID)
        assert ([VALID_MESSAGE], NEED_DATA) == drain(codec)

    def test_incomplete_telnet_at_eof(self) -> None:
        """A Telnet sequence cut off by EOF before any message is dropped: the stream is closed, no error."""
        codec = WireCodec()
        codec.receive_data(b"\xff\xfa\x18\x01")
        assert NEED_DATA == codec.next_message()
        codec.receive_data(b"")
        assert CLOSED == codec.next_message()

    def test_telnet_after_first_message_is_not_stripped(self) -> None:
        """An IAC after the first message is part of the next frame, which is then garbage."""
        codec = WireCodec()
        codec.receive_data(VALID + b"\xff\xfb\x01" + VALID + VALID)
        assert VALID_MESSAGE == codec.next_message()
        with pytest.raises(RemoteProtocolError) as excinfo:
            codec.next_message()
        assert system_error("E28863") == summary(excinfo.value.reply)
        assert ([VALID_MESSAGE], NEED_DATA) == drain(codec)

    def test_zero_count_with_stray_separator(self) -> None:
        """A zero-count command followed by one empty segment (Avaya's DLL) decodes with no segments."""
        wire = b"AGTConnHeadset      C102                 PrID  300 0   \x1e\x03"
        check_decode(wire, [Message("AGTConnHeadset", C, (), client="102", process_id="PrID", invoke_id="300")])

    def test_extra_empty_trailing_segments_dropped(self) -> None:
        """Empty segments beyond the declared count are dropped."""
        wire = header("AGTLogon", invoke_id="7", count="2") + b"\x1eagent07\x1es3cret\x1e\x1e\x1e\x03"
        check_decode(wire, [client("AGTLogon", "7", "agent07", "s3cret")])

    def test_declared_empty_segments_kept(self) -> None:
        """Empty segments within the declared count are positional and kept, trailing ones included."""
        wire = header("AGTReleaseLine", invoke_id="5", count="2") + b"\x1e\x1e5\x03"
        wire += header("AGTSetCallback", invoke_id="6", count="3") + b"\x1ea\x1e\x1e\x03"
        check_decode(wire, [client("AGTReleaseLine", "5", "", "5"), client("AGTSetCallback", "6", "a", "", "")])

    @pytest.mark.parametrize("invoke_id", ["Invo", "InID", "0", "9999", "x"])
    def test_invoke_id_kept_verbatim(self, invoke_id: str) -> None:
        """Invoke ids are opaque strings (AVAL sends ``Invo``), kept verbatim without their padding."""
        check_decode(header(invoke_id=invoke_id, count="1") + b"\x1eA\x03", [client("AGTListJobs", invoke_id, "A")])

    @pytest.mark.parametrize(
        ("client_field", "process_id"),
        [("COriginator_ID", "PrID"), ("102", "111111"), ("  Golang", "abc"), ("", "0"), ("Agent server", "17970")],
    )
    def test_client_and_process_id_not_validated(self, client_field: str, process_id: str) -> None:
        """The Client and Process ID fields are taken as sent, whatever they contain."""
        wire = header("AGTListJobs", client=client_field, process_id=process_id, invoke_id="1") + b"\x1eA\x03"
        expected = Message("AGTListJobs", C, ("A",), client=client_field, process_id=process_id, invoke_id="1")
        check_decode(wire, [expected])

    @pytest.mark.parametrize("type_", list(MessageType))
    def test_every_message_type(self, type_: MessageType) -> None:
        """Every one of the six type letters decodes to its MessageType."""
        wire = header("AGTFoo", type_letter=type_.value, invoke_id="1", count="0") + ETX
        check_decode(wire, [Message("AGTFoo", type_, (), client="EMUCLIENT", invoke_id="1")])

    def test_segments_keep_every_latin1_byte(self) -> None:
        """Segment bytes other than RS, ETX and ETB come back unchanged as latin-1 text."""
        data = bytes(b for b in range(256) if b not in (0x1E, 0x03, 0x17))
        wire = header("AGTSendMessage", count="1") + RS + data + ETX
        check_decode(wire, [client("AGTSendMessage", "9", data.decode("latin-1"))])

    def test_segments_decoded_with_configured_encoding(self) -> None:
        """A codec configured for cp1251 decodes segments with it (GOAPC's Russian servers)."""
        codec = WireCodec(encoding="cp1251")
        codec.receive_data(header("AGTSendMessage", count="1") + RS + "Привет".encode("cp1251") + ETX)
        assert client("AGTSendMessage", "9", "Привет") == codec.next_message()

    def test_exactly_max_segments(self) -> None:
        """A message with exactly MAX_SEGMENTS segments is accepted."""
        wire = header("AGTListJobs", count=str(MAX_SEGMENTS)) + RS * MAX_SEGMENTS + b"x" + ETX
        assert [client("AGTListJobs", "9", *([""] * (MAX_SEGMENTS - 1)), "x")] == decode_all(wire)

    def test_exactly_max_message_size(self) -> None:
        """A message of exactly MAX_MESSAGE_SIZE bytes, terminator included, decodes even fed in small reads."""
        filler = "x" * (MAX_MESSAGE_SIZE - HEADER_SIZE - 2)
        wire = header("AGTSendMessage", count="1") + RS + filler.encode() + ETX
        assert MAX_MESSAGE_SIZE == len(wire)
        codec = WireCodec()
        got: list[Message] = []
        for chunk in chunked(wire + VALID, list(range(997, len(wire) + len(VALID), 997))):
            codec.receive_data(chunk)
            got += drain(codec)[0]
        assert [client("AGTSendMessage", "9", filler), VALID_MESSAGE] == got


class TestWireCodecErrors:
    """What the decoder rejects, the reply it offers, and that decoding goes on afterwards."""

    def test_count_too_high(self) -> None:
        """Fewer segments than declared is answered R 1 E70000, echoing the keyword and invoke id."""
        wire = b"AGTLogon            CEMUCLIENT           0     7   3   \x1eagent07\x1es3cret\x03"
        check_decode_error(wire, ("AGTLogon", R, "7", "1", "E70000"))

    def test_count_too_low(self) -> None:
        """More non-empty segments than declared is answered R 1 E70000."""
        check_decode_error(header("AGTLogon", invoke_id="Invo", count="1") + b"\x1ea\x1eb\x03",
                           ("AGTLogon", R, "Invo", "1", "E70000"))

    def test_count_zero_with_data(self) -> None:
        """A zero-count command followed by a non-empty segment is answered R 1 E70000."""
        check_decode_error(header("AGTAvailWork", invoke_id="11", count="0") + b"\x1ex\x03",
                           ("AGTAvailWork", R, "11", "1", "E70000"))

    @pytest.mark.parametrize("letter", ["X", "c", "M", "U", " ", "\x00"])
    def test_unknown_type_letter(self, letter: str) -> None:
        """A type letter other than C, P, D, R, B or N is answered R 1 E70001."""
        check_decode_error(header("AGTLogon", type_letter=letter, invoke_id="7", count="0") + ETX,
                           ("AGTLogon", R, "7", "1", "E70001"))

    @pytest.mark.parametrize("count", ["x", "    ", "-1", "1 2", "0x1", "+1"])
    def test_non_numeric_count(self, count: str) -> None:
        """A segment count that is not a decimal number is answered R 1 E28863."""
        check_decode_error(header("AGTListJobs", invoke_id="8", count=count) + b"\x1eA\x03",
                           ("AGTListJobs", R, "8", "1", "E28863"))

    @pytest.mark.parametrize(
        "wire",
        [
            pytest.param(b"AGTLogon\x03", id="keyword-only"),
            pytest.param(b"hello\x17", id="etb"),
            pytest.param(b"\x03", id="empty"),
            pytest.param(header()[:-1] + ETX, id="54-bytes"),
        ],
    )
    def test_frame_shorter_than_header(self, wire: bytes) -> None:
        """A frame shorter than the 55-byte header is answered with an AGTSystemError E28863 notification."""
        check_decode_error(wire, system_error("E28863"))

    @pytest.mark.parametrize(
        "keyword",
        [
            pytest.param("  AGTLogon", id="leading-spaces"),
            pytest.param("", id="blank"),
            pytest.param("AGT Logon", id="inner-space"),
            pytest.param("AGTLögon", id="not-ascii"),
            pytest.param("AGT\x01Logon", id="control"),
        ],
    )
    def test_invalid_keyword(self, keyword: str) -> None:
        """A keyword field that is not 1-20 printable ASCII characters is answered with AGTSystemError E28863."""
        check_decode_error(header(keyword, invoke_id="7", count="0") + ETX, system_error("E28863"))

    def test_too_many_segments(self) -> None:
        """More than MAX_SEGMENTS segments, declared and sent, is answered R 1 E70000."""
        count = MAX_SEGMENTS + 1
        check_decode_error(header("AGTListJobs", invoke_id="8", count=str(count)) + b"\x1ex" * count + ETX,
                           ("AGTListJobs", R, "8", "1", "E70000"))

    def test_too_many_segments_declared(self) -> None:
        """A declared count above MAX_SEGMENTS is answered R 1 E70000 even when few segments follow."""
        check_decode_error(header("AGTListJobs", invoke_id="8", count="9999") + b"\x1ex\x03",
                           ("AGTListJobs", R, "8", "1", "E70000"))

    def test_data_without_leading_rs(self) -> None:
        """A data part that does not start with RS is answered R 1 E28863."""
        check_decode_error(header("AGTListJobs", invoke_id="8", count="1") + b"A\x03",
                           ("AGTListJobs", R, "8", "1", "E28863"))

    def test_oversized_with_terminator(self) -> None:
        """A frame over MAX_MESSAGE_SIZE arriving whole is rejected once with R 1 E28863, then decoding goes on."""
        big = header("AGTSendMessage", invoke_id="42", count="1") + RS + b"x" * MAX_MESSAGE_SIZE + ETX
        codec = WireCodec()
        codec.receive_data(big + VALID)
        with pytest.raises(RemoteProtocolError) as excinfo:
            codec.next_message()
        assert ("AGTSendMessage", R, "42", "1", "E28863") == summary(excinfo.value.reply)
        assert ([VALID_MESSAGE], NEED_DATA) == drain(codec)

    def test_one_byte_over_max_message_size(self) -> None:
        """A frame one byte longer than MAX_MESSAGE_SIZE is rejected."""
        wire = header("AGTSendMessage", count="1") + RS + b"x" * (MAX_MESSAGE_SIZE - HEADER_SIZE - 1) + ETX
        assert MAX_MESSAGE_SIZE + 1 == len(wire)
        codec = WireCodec()
        codec.receive_data(wire)
        with pytest.raises(RemoteProtocolError):
            codec.next_message()

    @staticmethod
    def feed_counting_errors(codec: WireCodec, data: bytes, chunk_size: int) -> tuple[int, list[Message]]:
        """Feed ``data`` in chunks, draining after each; count the errors and collect the messages."""
        errors, got = 0, []
        for start in range(0, len(data), chunk_size):
            codec.receive_data(data[start:start + chunk_size])
            while True:
                try:
                    event = codec.next_message()
                except RemoteProtocolError as exc:
                    errors += 1
                    assert ("AGTSendMessage", R, "42", "1", "E28863") == summary(exc.reply)
                    continue
                if isinstance(event, Sentinel):
                    break
                got.append(event)
        return errors, got

    def test_oversized_in_reads_then_terminator(self) -> None:
        """A frame growing past MAX_MESSAGE_SIZE read by read errors once; its rest is skipped to the terminator."""
        junk = header("AGTSendMessage", invoke_id="42", count="1") + RS + b"x" * (3 * MAX_MESSAGE_SIZE)
        errors, got = self.feed_counting_errors(WireCodec(), junk + ETX + VALID, 4093)
        assert (1, [VALID_MESSAGE]) == (errors, got)

    def test_oversized_never_terminated(self) -> None:
        """A frame that grows past the limit without a terminator errors once and then stops growing the buffer."""
        codec = WireCodec()
        junk = header("AGTSendMessage", invoke_id="42", count="1") + RS + b"x" * (3 * MAX_MESSAGE_SIZE)
        errors, got = self.feed_counting_errors(codec, junk, 8191)
        assert (1, []) == (errors, got)
        codec.receive_data(b"")
        assert CLOSED == codec.next_message()

    def test_eof_mid_message(self) -> None:
        """EOF in the middle of a message is an error without a reply, and then the stream is closed."""
        codec = WireCodec()
        codec.receive_data(VALID + VALID[:30])
        assert VALID_MESSAGE == codec.next_message()
        assert NEED_DATA == codec.next_message()
        codec.receive_data(b"")
        with pytest.raises(RemoteProtocolError) as excinfo:
            codec.next_message()
        assert excinfo.value.reply is None
        assert CLOSED == codec.next_message()
        assert CLOSED == codec.next_message()

    @pytest.mark.parametrize("tail", [b"", b"\r\n", b"\x00"])
    def test_eof_on_boundary(self, tail: bytes) -> None:
        """EOF after a complete message (and line noise) closes the stream without an error."""
        codec = WireCodec()
        codec.receive_data(VALID + tail)
        codec.receive_data(b"")
        assert ([VALID_MESSAGE], CLOSED) == drain(codec)

    def test_eof_on_empty_stream(self) -> None:
        """EOF before any byte closes the stream."""
        codec = WireCodec()
        codec.receive_data(b"")
        assert CLOSED == codec.next_message()

    def test_data_after_eof_ignored(self) -> None:
        """Bytes received after EOF are ignored."""
        codec = WireCodec()
        codec.receive_data(b"")
        codec.receive_data(VALID)
        assert CLOSED == codec.next_message()

    def test_errors_do_not_lose_the_session(self) -> None:
        """A run of different bad frames, each followed by a good one, yields every good one in order."""
        bad = [
            header(count="2") + b"\x1eA\x03",
            header(type_letter="X") + b"\x1eA\x03",
            header(count="?") + b"\x1eA\x03",
            b"short\x03",
            header("  AGTFoo") + b"\x1eA\x03",
            header(count="300") + RS * 300 + ETX,
            header() + b"A\x03",
        ]
        codec = WireCodec()
        codec.receive_data(b"".join(frame + VALID for frame in bad))
        for _ in bad:
            with pytest.raises(RemoteProtocolError):
                codec.next_message()
            assert VALID_MESSAGE == codec.next_message()
        assert NEED_DATA == codec.next_message()

    @pytest.mark.parametrize(
        "invoke_field",
        [pytest.param("    ", id="blank"), pytest.param("a b", id="inner-space"), pytest.param("\x01", id="control")],
    )
    def test_reply_is_encodable_whatever_the_invoke_id(self, invoke_field: str) -> None:
        """The reply carried by the error can always be encoded and sent, even when the invoke id cannot be echoed."""
        codec = WireCodec()
        codec.receive_data(header("AGTLogon", invoke_id=invoke_field, count="3") + b"\x1ea\x03")
        with pytest.raises(RemoteProtocolError) as excinfo:
            codec.next_message()
        assert excinfo.value.reply is not None
        encode(excinfo.value.reply)


class TestEncode:
    """encode(), encoded_size() and WireCodec.send()."""

    def test_fields_left_justified_and_padded(self) -> None:
        """Every header field is left-justified and space-padded to its width."""
        message = Message("AGTX", R, ("0", "M00000"), client="ab", process_id="12", invoke_id="3")
        expected = b"AGTX                Rab                  12    3   2   \x1e0\x1eM00000\x03"
        assert expected == encode(message)

    def test_full_width_fields(self) -> None:
        """Fields that fill their width exactly leave no padding at all."""
        message = Message("K" * 20, D, ("s",), client="c" * 20, process_id="123456", invoke_id="abcd", continued=True)
        expected = b"K" * 20 + b"D" + b"c" * 20 + b"123456abcd1   \x1es\x17"
        assert expected == encode(message)

    @pytest.mark.parametrize("invoke_id", ["", "a b", "\x01"])
    def test_odd_invoke_ids_are_echoed_verbatim(self, invoke_id: str) -> None:
        """A blank or odd invoke id a client sent is written back exactly, padded to four bytes."""
        command = b"AGTAvailWork        CX                   0     " + invoke_id.encode().ljust(4) + b"0   \x03"
        codec = WireCodec()
        codec.receive_data(command)
        received = codec.next_message()
        assert isinstance(received, Message)
        reply = encode(Message("AGTAvailWork", R, ("0", "M00000"), invoke_id=received.invoke_id))
        assert invoke_id.encode().ljust(4) == reply[47:51]

    def test_continued_ends_with_etb(self) -> None:
        """A continued message ends with ETB, any other with ETX."""
        message = Message("AGTListJobs", D, ("0", "M00001"))
        assert (ETB, ETX) == (encode(attrs.evolve(message, continued=True))[-1:], encode(message)[-1:])

    def test_count_of_three_digits(self) -> None:
        """A segment count of 256 is written left-justified in the four-byte field."""
        wire = encode(Message("AGTListJobs", D, ("x",) * MAX_SEGMENTS))
        assert b"256 " == wire[51:55]

    def test_server_defaults(self) -> None:
        """A message built with defaults carries the server's Client field, process id 0 and invoke id 0."""
        assert b"AGTSTART            NAgent server        0     0   0   \x03" == encode(Message("AGTSTART", N))

    @pytest.mark.parametrize(
        "changes",
        [
            pytest.param({"keyword": ""}, id="keyword-empty"),
            pytest.param({"keyword": "AGTSetNotifyKeyFieldX"}, id="keyword-21-chars"),
            pytest.param({"keyword": "AGT Logon"}, id="keyword-space"),
            pytest.param({"keyword": "AGTLögon"}, id="keyword-not-ascii"),
            pytest.param({"client": "c" * 21}, id="client-too-long"),
            pytest.param({"client": "Agent sérver"}, id="client-not-ascii"),
            pytest.param({"client": "Agent\tserver"}, id="client-control"),
            pytest.param({"process_id": "PrID"}, id="process-id-not-numeric"),
            pytest.param({"process_id": "1234567"}, id="process-id-7-digits"),
            pytest.param({"process_id": ""}, id="process-id-empty"),
            pytest.param({"process_id": "-1"}, id="process-id-negative"),
            pytest.param({"invoke_id": "12345"}, id="invoke-id-5-chars"),
            pytest.param({"invoke_id": "1\x1e"}, id="invoke-id-framing-byte"),
            pytest.param({"invoke_id": "€"}, id="invoke-id-not-single-byte"),
            pytest.param({"segments": ("a\x1eb",)}, id="segment-rs"),
            pytest.param({"segments": ("ok", "a\x03")}, id="segment-etx"),
            pytest.param({"segments": ("\x17",)}, id="segment-etb"),
            pytest.param({"segments": ("x",) * (MAX_SEGMENTS + 1)}, id="too-many-segments"),
            pytest.param({"segments": ("€",)}, id="segment-not-latin1"),
            pytest.param({"segments": ("x" * MAX_MESSAGE_SIZE,)}, id="too-big"),
        ],
    )
    def test_rejects(self, changes: dict[str, object]) -> None:
        """A message the wire cannot carry raises LocalProtocolError."""
        message = attrs.evolve(Message("AGTLogon", C, ("a",), client="c", process_id="1", invoke_id="1"), **changes)
        with pytest.raises(LocalProtocolError):
            encode(message)

    def test_configured_encoding(self) -> None:
        """Segments are encoded with the requested encoding, so non-latin-1 text can be sent."""
        wire = encode(Message("AGTSendMessage", N, ("Привет",)), encoding="cp1251")
        assert RS + "Привет".encode("cp1251") + ETX == wire[HEADER_SIZE:]

    def test_largest_message(self) -> None:
        """A message of exactly MAX_MESSAGE_SIZE bytes can be encoded."""
        message = Message("AGTX", D, ("x" * (MAX_MESSAGE_SIZE - HEADER_SIZE - 2),))
        assert MAX_MESSAGE_SIZE == len(encode(message))

    def test_send_is_encode(self) -> None:
        """WireCodec.send() gives the same bytes as encode() with the codec's encoding."""
        message = Message("AGTSendMessage", N, ("Привет",))
        assert encode(message, encoding="cp1251") == WireCodec(encoding="cp1251").send(message)

    @given(messages())
    def test_encoded_size(self, message: Message) -> None:
        """encoded_size() equals the length of encode()'s output."""
        assert len(encode(message)) == encoded_size(message)


JOBS_TEMPLATE = Message("AGTListJobs", D, ("0", "M00001"), process_id="4242", invoke_id="8")
JOBS = [f"O,CAMPAIGN{i:03},A" for i in range(60)]


def records_of(parts: list[Message], template: Message) -> list[str]:
    """The records carried by ``parts``, in order, after checking each starts with the template's segments."""
    records: list[str] = []
    for part in parts:
        lead = len(template.segments)
        assert template.segments == part.segments[:lead]
        records += part.segments[lead:]
    return records


class TestSplitRecords:
    """split_records(): long lists spread over messages that fit a client's 256-byte read."""

    def test_parts_fit_and_reassemble(self) -> None:
        """Every part fits in 256 bytes, starts with the template's segments, and the records come back in order."""
        parts = split_records(JOBS_TEMPLATE, JOBS)
        assert len(parts) > 1
        assert all(len(encode(part)) <= MAX_CLIENT_READ for part in parts)
        assert JOBS == records_of(parts, JOBS_TEMPLATE)
        assert all(attrs.evolve(part, segments=JOBS_TEMPLATE.segments) == JOBS_TEMPLATE for part in parts)

    def test_parts_are_full(self) -> None:
        """Each part but the last has no room for the next part's first record (as few messages as possible)."""
        parts = split_records(JOBS_TEMPLATE, JOBS)
        for part, following in itertools.pairwise(parts):
            assert encoded_size(part) + 1 + len(following.segments[2]) > MAX_CLIENT_READ

    def test_no_records(self) -> None:
        """No records still give one message: the template itself."""
        assert [JOBS_TEMPLATE] == split_records(JOBS_TEMPLATE, [])

    def test_one_part(self) -> None:
        """Records that fit in one message give exactly one message."""
        assert [attrs.evolve(JOBS_TEMPLATE, segments=("0", "M00001", "a", "b"))] == split_records(
            JOBS_TEMPLATE, ["a", "b"])

    def test_mark_continued(self) -> None:
        """With mark_continued every part but the last ends with ETB."""
        parts = split_records(JOBS_TEMPLATE, JOBS, mark_continued=True)
        assert [True] * (len(parts) - 1) + [False] == [part.continued for part in parts]
        assert [ETB] * (len(parts) - 1) + [ETX] == [encode(part)[-1:] for part in parts]

    def test_not_continued_by_default(self) -> None:
        """Without mark_continued every part is a complete message, even from a continued template."""
        parts = split_records(attrs.evolve(JOBS_TEMPLATE, continued=True), JOBS)
        assert [False] * len(parts) == [part.continued for part in parts]

    def test_exact_fit(self) -> None:
        """A record that exactly fills the room left by the template fits in one part of max_size bytes."""
        room = MAX_CLIENT_READ - encoded_size(JOBS_TEMPLATE) - 1
        parts = split_records(JOBS_TEMPLATE, ["x" * room])
        assert [MAX_CLIENT_READ] == [len(encode(part)) for part in parts]

    def test_record_too_big(self) -> None:
        """A record that cannot fit in max_size bytes even alone raises LocalProtocolError."""
        room = MAX_CLIENT_READ - encoded_size(JOBS_TEMPLATE) - 1
        with pytest.raises(LocalProtocolError):
            split_records(JOBS_TEMPLATE, ["ok", "x" * (room + 1)])

    def test_segment_limit(self) -> None:
        """With a large max_size, parts are still cut so none has more than MAX_SEGMENTS segments."""
        records = [str(i % 10) for i in range(1000)]
        parts = split_records(JOBS_TEMPLATE, records, max_size=MAX_MESSAGE_SIZE)
        assert all(len(part.segments) <= MAX_SEGMENTS for part in parts)
        assert records == records_of(parts, JOBS_TEMPLATE)

    @given(
        records=st.lists(segments, max_size=60),
        max_size=st.integers(min_value=100, max_value=600),
        mark_continued=st.booleans(),
    )
    def test_property(self, records: list[str], max_size: int, mark_continued: bool) -> None:
        """For any records, every part fits in max_size and the parts' records concatenate to the input."""
        parts = split_records(JOBS_TEMPLATE, records, max_size=max_size, mark_continued=mark_continued)
        assert all(len(encode(part)) <= max_size for part in parts)
        assert records == records_of(parts, JOBS_TEMPLATE)
        assert [mark_continued and i < len(parts) - 1 for i in range(len(parts))] == [p.continued for p in parts]


class TestRoundTrip:
    """Properties over arbitrary messages and arbitrary bytes."""

    @given(messages())
    def test_round_trip(self, message: Message) -> None:
        """Any valid message decodes back from its encoding, unchanged."""
        assert [message] == decode_all(encode(message))

    @given(st.lists(messages(), max_size=4), st.data())
    def test_round_trip_in_chunks(self, sent: list[Message], data: st.DataObject) -> None:
        """Messages sent back to back and received in arbitrary chunks decode in order, unchanged."""
        wire = b"".join(encode(message) for message in sent)
        codec = WireCodec()
        got: list[Message] = []
        for chunk in chunked(wire, split_points(data, len(wire))):
            codec.receive_data(chunk)
            ready, sentinel = drain(codec)
            assert NEED_DATA == sentinel
            got += ready
        codec.receive_data(b"")
        assert (sent, CLOSED) == (got, codec.next_message())

    @staticmethod
    def feed_anything(data: st.DataObject, wire: bytes) -> list[RemoteProtocolError]:
        """Feed ``wire`` in arbitrary chunks and then EOF, collecting the errors; the stream must end CLOSED."""
        codec = WireCodec()
        errors: list[RemoteProtocolError] = []

        def drain_tolerant() -> Sentinel:
            for _ in range(len(wire) + 3):
                try:
                    event = codec.next_message()
                except RemoteProtocolError as exc:
                    errors.append(exc)
                    continue
                if isinstance(event, Sentinel):
                    return event
                assert isinstance(event, Message)
            raise AssertionError("next_message() did not settle")

        for chunk in chunked(wire, split_points(data, len(wire))):
            codec.receive_data(chunk)
            assert NEED_DATA == drain_tolerant()
        codec.receive_data(b"")
        assert CLOSED == drain_tolerant()
        assert CLOSED == codec.next_message()
        return errors

    @given(garbage, st.data())
    def test_arbitrary_bytes(self, wire: bytes, data: st.DataObject) -> None:
        """Whatever the bytes and however they are split, only RemoteProtocolError is raised, and EOF ends CLOSED."""
        self.feed_anything(data, wire)

    @given(frame_streams, st.data())
    def test_replies_are_encodable(self, wire: bytes, data: st.DataObject) -> None:
        """Every reply carried by a RemoteProtocolError can be encoded, so the server can always send it."""
        for error in self.feed_anything(data, wire):
            if error.reply is not None:
                encode(error.reply)


class TestFitMessage:
    """fit_message() keeps server messages within the 256 bytes real clients read at once."""

    def test_message_that_fits_is_unchanged(self) -> None:
        """A message already within the limit comes back as it is."""
        message = Message("AGTCallNotify", N, ("0", "M00001", "MARY ROE", "OUTBOUND"))
        assert fit_message(message) is message

    def test_longest_segments_are_cut_to_fit(self) -> None:
        """An over-long message is cut, longest segment first, to exactly the limit; status and code stay."""
        message = Message("AGTAORNotify", N, ("0", "M00001", "x" * 300, "CMP4", "Allid", "y" * 100))
        fitted = fit_message(message)
        assert len(encode(fitted)) == MAX_CLIENT_READ
        assert fitted.segments[:2] == ("0", "M00001")
        assert fitted.segments[3:5] == ("CMP4", "Allid")
        assert fitted.segments[2].startswith("x") and fitted.segments[5] == "y" * 100

    @given(st.lists(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=400), max_size=8))
    def test_any_segments_fit(self, texts: list[str]) -> None:
        """Whatever the data segments, the result is at most 256 bytes and keeps its first two segments."""
        message = Message("AGTCallNotify", N, ("0", "M00001", *texts))
        fitted = fit_message(message)
        assert len(encode(fitted)) <= MAX_CLIENT_READ
        assert fitted.segments[:2] == ("0", "M00001")
        assert all(new == old[: len(new)] for new, old in zip(fitted.segments, message.segments, strict=True))


class TestSplitRecordsCutting:
    """split_records(cut_long_records=True) cuts a record too long for any message instead of raising."""

    def test_long_record_is_cut_to_the_room(self) -> None:
        """A 400-character record is cut so that its message is exactly 256 bytes; the others stay whole."""
        template = Message("AGTReadField", D, ("0", "M00001"))
        parts = split_records(template, ["short", "x" * 400, "tail"], cut_long_records=True)
        assert [len(encode(part)) for part in parts][1] == MAX_CLIENT_READ
        records = [segment for part in parts for segment in part.segments[2:]]
        assert records[0] == "short" and records[2] == "tail"
        assert records[1] == "x" * len(records[1]) and len(records[1]) < 400
