"""Shared hypothesis strategies for the AGT protocol tests.

The value strategies (keywords, invoke ids, ..., :func:`messages`) produce what
:func:`agt_server.protocol.encode` accepts and the wire decoder gives back unchanged, so round-trip
tests can compare whole :class:`Message` values.  The byte strategies (:func:`near_miss_frames`,
``noisy_streams``, ``garbage``) produce what a careless or hostile peer might send.
"""

from __future__ import annotations

import itertools

from hypothesis import strategies as st

from agt_server.protocol import (
    ETB,
    ETX,
    MAX_MESSAGE_SIZE,
    MAX_SEGMENTS,
    RS,
    Message,
    MessageType,
    encode,
    encoded_size,
)

__all__ = [
    "PRINTABLE_ASCII",
    "PRINTABLE_ASCII_NO_SPACE",
    "chunked",
    "clients",
    "frame_streams",
    "garbage",
    "invoke_ids",
    "keywords",
    "messages",
    "near_miss_frames",
    "noisy_streams",
    "process_ids",
    "segment_lists",
    "segments",
    "split_points",
]

#: Printable ASCII, space included (the Client field may contain spaces).
PRINTABLE_ASCII = "".join(chr(code) for code in range(0x20, 0x7F))
#: Printable ASCII without the space (keywords and invoke ids).
PRINTABLE_ASCII_NO_SPACE = PRINTABLE_ASCII[1:]

#: A keyword: 1-20 printable ASCII characters, no spaces.
keywords = st.text(alphabet=PRINTABLE_ASCII_NO_SPACE, min_size=1, max_size=20)

#: An invoke id: an opaque string of 1-4 printable ASCII characters, no spaces.
invoke_ids = st.text(alphabet=PRINTABLE_ASCII_NO_SPACE, min_size=1, max_size=4)

#: A process id: 1-6 decimal digits.
process_ids = st.text(alphabet="0123456789", min_size=1, max_size=6)

#: A Client field: at most 20 printable ASCII characters.  The decoder strips the padding, so a value
#: with trailing spaces would not come back unchanged; leading and inner spaces are fine.
clients = st.text(alphabet=PRINTABLE_ASCII, max_size=20).map(lambda text: text.rstrip(" "))

#: A data segment: latin-1 text without the framing bytes RS, ETX and ETB.
segments = st.text(
    alphabet=st.characters(codec="latin-1", exclude_characters="\x1e\x03\x17"),
    max_size=30,
)


def segment_lists(*, max_segments: int = MAX_SEGMENTS) -> st.SearchStrategy[tuple[str, ...]]:
    """Segment tuples, usually short, sometimes close to or at ``max_segments``.

    Long lists use short segments so a message always stays far below ``MAX_MESSAGE_SIZE``
    (256 segments of at most 30 bytes are about 8 KiB).
    """
    short = st.lists(segments, max_size=min(8, max_segments))
    long = st.lists(
        st.text(alphabet=st.characters(codec="latin-1", exclude_characters="\x1e\x03\x17"), max_size=2),
        min_size=max(0, max_segments - 8),
        max_size=max_segments,
    )
    return st.one_of(short, long).map(tuple)


@st.composite
def messages(draw: st.DrawFn, *, types: st.SearchStrategy[MessageType] | None = None) -> Message:
    """A whole valid :class:`Message` of any type (or of ``types``) that :func:`encode` accepts."""
    message = Message(
        keyword=draw(keywords),
        type=draw(types if types is not None else st.sampled_from(MessageType)),
        segments=draw(segment_lists()),
        client=draw(clients),
        process_id=draw(process_ids),
        invoke_id=draw(invoke_ids),
        continued=draw(st.booleans()),
    )
    # By construction; checked so a change of the limits cannot make the strategy silently invalid.
    assert encoded_size(message) <= MAX_MESSAGE_SIZE
    return message


def split_points(data: st.DataObject, size: int, *, max_cuts: int = 12) -> list[int]:
    """Draw sorted, distinct cut positions strictly inside a buffer of ``size`` bytes."""
    if size < 2:
        return []
    cuts = data.draw(st.lists(st.integers(1, size - 1), max_size=max_cuts, unique=True), label="cuts")
    return sorted(cuts)


def chunked(blob: bytes, cuts: list[int]) -> list[bytes]:
    """Split ``blob`` at ``cuts`` (sorted positions) into consecutive non-empty chunks."""
    bounds = [0, *cuts, len(blob)]
    return [blob[start:end] for start, end in itertools.pairwise(bounds) if end > start]


def _field_bytes(size: int) -> st.SearchStrategy[bytes]:
    """Exactly ``size`` arbitrary bytes other than the terminators ETX and ETB."""
    return st.binary(min_size=size, max_size=size).map(lambda raw: raw.replace(ETX, b"?").replace(ETB, b"?"))


def _padded(values: st.SearchStrategy[str], width: int) -> st.SearchStrategy[bytes]:
    return values.map(lambda value: value.ljust(width).encode("latin-1"))


_FRAME_FIELDS = ("keyword", "type", "client", "process_id", "invoke_id", "count", "data")


@st.composite
def near_miss_frames(draw: st.DrawFn) -> bytes:
    """One wire frame, terminator included, that is valid except for at most two fields of arbitrary bytes.

    Random bytes almost never get past the keyword check; these frames reach every later check of the
    decoder (type letter, segment count, RS, invoke id echo) with odd values in the other fields.
    """
    corrupt = draw(st.sets(st.sampled_from(_FRAME_FIELDS), max_size=2), label="corrupt")

    def field(name: str, valid: st.SearchStrategy[bytes], size: int) -> bytes:
        return draw(_field_bytes(size) if name in corrupt else valid, label=name)

    parts = draw(st.lists(segments, max_size=6), label="segments")
    if "data" in corrupt:
        data = draw(
            st.one_of(
                st.binary(max_size=20).map(lambda raw: raw.replace(ETX, b"?").replace(ETB, b"?")),
                st.integers(0, MAX_SEGMENTS + 2).map(lambda n: RS * n),
            ),
            label="data",
        )
    else:
        data = b"".join(RS + part.encode("latin-1") for part in parts)
    count = st.one_of(st.just(len(parts)), st.integers(0, MAX_SEGMENTS + 2)).map(str)
    return (
        field("keyword", _padded(keywords, 20), 20)
        + field("type", st.sampled_from([t.value.encode() for t in MessageType]), 1)
        + field("client", _padded(clients, 20), 20)
        + field("process_id", _padded(process_ids, 6), 6)
        + field("invoke_id", _padded(invoke_ids, 4), 4)
        + field("count", _padded(count, 4), 4)
        + data
        + draw(st.sampled_from([ETX, ETB]), label="terminator")
    )


#: Byte strings that look like AGT traffic: arbitrary bytes mixed with framing bytes, Telnet and line
#: noise, and whole valid messages, so the decoders meet both garbage and near-misses.
noisy_streams = st.lists(
    st.one_of(
        st.binary(max_size=80),
        st.sampled_from([RS, ETX, ETB, b"\xff", b"\xff\xfb\x01", b"\xff\xfa", b"\xff\xf0", b"\r\n", b"\x00"]),
        messages().map(encode),
        messages().map(lambda message: encode(message)[:-1]),
        near_miss_frames(),
    ),
    max_size=12,
).map(b"".join)

#: One to four near-miss frames back to back.
frame_streams = st.lists(near_miss_frames(), min_size=1, max_size=4).map(b"".join)

#: Anything a peer might send: plain random bytes, noisy AGT-like traffic, or near-miss frames.
garbage = st.one_of(st.binary(max_size=300), noisy_streams, frame_streams)
