"""The AGT protocol, sans-IO: messages, codes, and the wire and tty codecs.

This package contains no networking code at all.  Everything in ``__all__`` is the public API of
``agt_server.protocol``.
"""

from ._codes import (
    AgentStateCode,
    CompletionCode,
    ErrorCode,
    JobStatus,
    JobType,
    MessageCode,
    MessageType,
    WorkClass,
    describe_completion_code,
)
from ._commands import COMMANDS, POM_EXTENSIONS, CommandSpec
from ._errors import LocalProtocolError, ProtocolError, RemoteProtocolError
from ._framing import MAX_MESSAGE_SIZE, MAX_SEGMENTS, Sentinel
from ._message import SERVER_CLIENT_ID, Message
from ._tty import TTY_CLIENT_ID, TtyCodec, render_line
from ._wire import (
    ETB,
    ETX,
    HEADER_SIZE,
    MAX_CLIENT_READ,
    RS,
    WireCodec,
    encode,
    encoded_size,
    fit_message,
    split_records,
)

NEED_DATA = Sentinel.NEED_DATA
CLOSED = Sentinel.CLOSED

__all__ = [
    "CLOSED",
    "COMMANDS",
    "ETB",
    "ETX",
    "HEADER_SIZE",
    "MAX_CLIENT_READ",
    "MAX_MESSAGE_SIZE",
    "MAX_SEGMENTS",
    "NEED_DATA",
    "POM_EXTENSIONS",
    "RS",
    "SERVER_CLIENT_ID",
    "TTY_CLIENT_ID",
    "AgentStateCode",
    "CommandSpec",
    "CompletionCode",
    "ErrorCode",
    "JobStatus",
    "JobType",
    "LocalProtocolError",
    "Message",
    "MessageCode",
    "MessageType",
    "ProtocolError",
    "RemoteProtocolError",
    "Sentinel",
    "TtyCodec",
    "WireCodec",
    "WorkClass",
    "describe_completion_code",
    "encode",
    "encoded_size",
    "fit_message",
    "render_line",
    "split_records",
]
