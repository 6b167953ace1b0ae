"""The AGT client: one agent session over a trio stream.

Theory of operation
-------------------
:func:`open_agt_client` connects (TCP, optionally TLS) and hands the stream to
:func:`agt_client_over`, which runs one reader task for the life of the session and waits for the
server's greeting (``AGTSTART N 0 AGENT_STARTUP``) before yielding the :class:`AgtClient`.

The reader task is the only one that reads.  It feeds every chunk to a :class:`WireCodec` (so a
message may arrive in any number of reads, and one read may carry several messages) and dispatches
each decoded message:

* ``N`` messages go through a :class:`NotificationAssembler` into the bounded
  :class:`NotificationQueue` (``client.notifications``); a full queue drops its oldest entry rather
  than block the reader, because replies to commands travel on the same stream;
* ``P``, ``D`` and the final ``R`` (or ``B``) are routed by their echoed invoke id to the command
  waiting for them, so commands may be pipelined and answered out of order;
* a malformed message is logged and skipped (the codec resynchronises on the next terminator).

Senders take a lock and write one whole message per ``send_all``, shielded from cancellation: a
half-written command would desynchronise the server's parser for every later command.

When the stream ends — server EOF, a broken connection, or :meth:`AgtClient.aclose` — every waiting
command raises :class:`AgtConnectionClosed` and the notification queue ends after its last entry.
"""

from __future__ import annotations

import contextlib
import math
import ssl
from collections.abc import AsyncIterator, Sequence

import attrs
import structlog
import trio

from agt_server.protocol import Message, MessageType, RemoteProtocolError, Sentinel, WireCodec, render_line

from ._errors import AgtCommandError, AgtConnectionClosed, AgtConnectionError
from ._events import Notification, Reply
from ._invoke_ids import InvokeIds
from ._notifications import DEFAULT_NOTIFICATION_CAPACITY, NotificationAssembler, NotificationQueue
from ._records import (
    AgentStateReport,
    CallbackFormat,
    FieldListing,
    JobListing,
    KeyListing,
    parse_callback_format,
    parse_field_listings,
    parse_field_value,
    parse_job_listings,
    parse_key_listings,
    parse_state_report,
)

__all__ = [
    "DEFAULT_API_VERSION",
    "DEFAULT_CLIENT_NAME",
    "GET_PREFERRED_JOB_LIST",
    "SET_PREFERRED_JOB_LIST",
    "AgtClient",
    "agt_client_over",
    "open_agt_client",
]

#: The AgentAPIVersion that AGTLogon sends by default (Proactive Contact 5.2).
DEFAULT_API_VERSION = "PCAPI_5.2.0.0.1"
#: What the client writes into the Client/Originator header field.
DEFAULT_CLIENT_NAME = "agt_server"
#: Bytes asked for per read; AGT messages are short, so one read usually drains the socket.
RECEIVE_SIZE = 65536
#: How long a graceful close (the TLS close_notify) may take before the stream is closed forcefully.
CLOSE_TIMEOUT = 1.0

#: The POM preferred-job commands (project design, protocol_spec.md §10).  Their names are 22
#: characters long; the codec writes the first 20 into the keyword field and reads either form back.
SET_PREFERRED_JOB_LIST = "AGTSetPreferredJobList"
GET_PREFERRED_JOB_LIST = "AGTGetPreferredJobList"

_GREETING_KEYWORD = "AGTSTART"
_GREETING_SEGMENTS = ("0", "AGENT_STARTUP")
_CLOSED_BY_CLIENT = "the client closed the connection"

log: structlog.typing.FilteringBoundLogger = structlog.get_logger("agt_server.client")


def _check_client_name(_instance: object, _attribute: object, value: str) -> None:
    if len(value) > 20 or not value.isascii() or not value.isprintable():
        raise ValueError(f"client name {value!r} is not at most 20 printable ASCII characters")


@attrs.define(eq=False)
class _InFlight:
    """A sent command waiting for its final message."""

    keyword: str
    invoke_id: str
    pending: bool = False
    data: list[Message] = attrs.Factory(list)
    final: Message | None = None
    done: trio.Event = attrs.Factory(trio.Event)


@attrs.define(eq=False)
class AgtClient:
    """One AGT agent session.  Get one from :func:`open_agt_client` or :func:`agt_client_over`.

    Every command method sends one AGT command and waits for its final response; several may run
    concurrently from different tasks.  Methods that name a command raise :class:`AgtCommandError`
    when the server answers ``R 1 Exxxxx`` and :class:`AgtConnectionClosed` when the connection
    ends first.

    Attributes:
        client_name: the Client/Originator field of every command (at most 20 ASCII characters).
        notifications: the session's notifications, oldest first; ``async for`` over it ends when the
            connection does.  See also :meth:`next_notification`.
    """

    _stream: trio.abc.Stream
    client_name: str = attrs.field(default=DEFAULT_CLIENT_NAME, validator=_check_client_name)
    _notification_capacity: int = DEFAULT_NOTIFICATION_CAPACITY
    notifications: NotificationQueue = attrs.field(init=False)
    _codec: WireCodec = attrs.field(factory=WireCodec, init=False)
    _assembler: NotificationAssembler = attrs.field(factory=NotificationAssembler, init=False)
    _invoke_ids: InvokeIds = attrs.field(factory=InvokeIds, init=False)
    _in_flight: dict[str, _InFlight] = attrs.field(factory=dict, init=False)
    _send_lock: trio.Lock = attrs.field(factory=trio.Lock, init=False)
    _reader_scope: trio.CancelScope = attrs.field(factory=trio.CancelScope, init=False)
    _greeting: Message | None = attrs.field(default=None, init=False)
    _greeted: trio.Event = attrs.field(factory=trio.Event, init=False)
    _closed: trio.Event = attrs.field(factory=trio.Event, init=False)
    _close_reason: str | None = attrs.field(default=None, init=False)
    _log: structlog.typing.FilteringBoundLogger = attrs.field(init=False)

    @notifications.default
    def _make_notification_queue(self) -> NotificationQueue:
        return NotificationQueue(self._notification_capacity)

    @_log.default
    def _make_log(self) -> structlog.typing.FilteringBoundLogger:
        return log.bind(client_name=self.client_name)

    # -- session state ---------------------------------------------------------------------------

    @property
    def greeting(self) -> Message:
        """The server's ``AGTSTART`` greeting (always set once the client has been handed out)."""
        if self._greeting is None:
            raise AgtConnectionError("no AGTSTART greeting has been received")
        return self._greeting

    @property
    def closed(self) -> bool:
        """Whether the connection has ended (EOF, broken stream, or :meth:`aclose`)."""
        return self._closed.is_set()

    @property
    def close_reason(self) -> str | None:
        """Why the connection ended, or ``None`` while it is open."""
        return self._close_reason

    async def wait_closed(self) -> None:
        """Wait until the connection has ended (e.g. the server closing it after AGTLogoff)."""
        await self._closed.wait()

    async def aclose(self) -> None:
        """Close the connection.  Waiting commands raise :class:`AgtConnectionClosed`; idempotent."""
        self._finish(_CLOSED_BY_CLIENT)
        with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError):
            await self._stream.aclose()

    # -- commands and notifications --------------------------------------------------------------

    async def command(self, keyword: str, *args: str, check: bool = True) -> Reply:
        """Send one command and wait for its final response.

        Args:
            keyword: the command, e.g. ``AGTAttachJob``.
            *args: its arguments, one per data segment (empty strings are legal and positional).
            check: raise :class:`AgtCommandError` when the command fails; with ``False`` the failed
                reply is returned instead.

        Returns:
            The reply: pending flag, ``D`` messages and the final ``R``.

        Raises:
            AgtCommandError: the server answered ``R 1 Exxxxx`` (or ``B``) and ``check`` is true.
            AgtConnectionClosed: the connection ended before the final response.
            agt_server.protocol.LocalProtocolError: the command cannot be encoded (e.g. an argument
                contains a framing byte).
        """
        if self._close_reason is not None:
            raise AgtConnectionClosed(f"{keyword}: {self._close_reason}")
        invoke_id = self._invoke_ids.allocate(self._in_flight)
        wire = self._codec.send(
            Message(keyword, MessageType.COMMAND, args, client=self.client_name, process_id="0", invoke_id=invoke_id)
        )
        in_flight = _InFlight(keyword, invoke_id)
        self._in_flight[invoke_id] = in_flight
        try:
            await self._send(keyword, wire)
            await in_flight.done.wait()
        finally:
            if self._in_flight.get(invoke_id) is in_flight:
                del self._in_flight[invoke_id]
        if in_flight.final is None:
            raise AgtConnectionClosed(f"{keyword}: {self._close_reason}")
        reply = Reply(
            keyword=keyword,
            invoke_id=invoke_id,
            pending=in_flight.pending,
            data=tuple(in_flight.data),
            response=in_flight.final,
        )
        if check and not reply.ok:
            raise AgtCommandError(reply)
        return reply

    async def next_notification(self, keyword: str | None = None, timeout: float | None = None) -> Notification:
        """Wait for the next notification, or the next one named ``keyword``.

        Notifications of other keywords met on the way stay queued, in order, for later calls and
        for ``async for`` over :attr:`notifications`.

        Args:
            keyword: only return a notification with this keyword, e.g. ``AGTCallNotify``.
            timeout: give up after this many seconds (``None``: wait as long as the connection lasts).

        Raises:
            trio.TooSlowError: ``timeout`` expired.
            AgtConnectionClosed: the connection ended and no matching notification is left.
        """
        try:
            with trio.fail_after(math.inf if timeout is None else timeout):
                return await self.notifications.receive(keyword)
        except trio.EndOfChannel:
            wanted = keyword or "notification"
            raise AgtConnectionClosed(f"no further {wanted}: {self._close_reason}") from None

    # -- connection commands ---------------------------------------------------------------------

    async def logon(self, agent: str, password: str, api_version: str | None = DEFAULT_API_VERSION) -> Reply:
        """AGTLogon: log the agent on; with ``api_version=None`` the PDS-12-era two-argument form is sent."""
        args = (agent, password) if api_version is None else (agent, password, api_version)
        return await self.command("AGTLogon", *args)

    async def logoff(self) -> Reply:
        """AGTLogoff: end the session.  The server answers, then closes the connection."""
        return await self.command("AGTLogoff")

    async def reserve_headset(self, headset_id: str | int) -> Reply:
        """AGTReserveHeadset: reserve the agent's headset (extension)."""
        return await self.command("AGTReserveHeadset", str(headset_id))

    async def connect_headset(self) -> Reply:
        """AGTConnHeadset: connect the reserved headset (answers once the agent picks up)."""
        return await self.command("AGTConnHeadset")

    async def disconnect_headset(self) -> Reply:
        """AGTDisconnHeadset: disconnect the headset."""
        return await self.command("AGTDisconnHeadset")

    async def free_headset(self) -> Reply:
        """AGTFreeHeadset: release the headset reservation."""
        return await self.command("AGTFreeHeadset")

    # -- system and job-setup commands -----------------------------------------------------------

    async def list_jobs(self, job_type: str = "A") -> list[JobListing]:
        """AGTListJobs: the jobs of ``job_type`` (``A`` all, ``O``, ``I``, ``B``, ``M``)."""
        return parse_job_listings(await self.command("AGTListJobs", job_type))

    async def attach_job(self, name: str) -> Reply:
        """AGTAttachJob: attach the agent to job ``name``."""
        return await self.command("AGTAttachJob", name)

    async def detach_job(self) -> Reply:
        """AGTDetachJob: detach from the current job."""
        return await self.command("AGTDetachJob")

    async def set_work_class(self, work_class: str) -> Reply:
        """AGTSetWorkClass: ``O`` outbound, ``I`` inbound, ``B`` blend, ``P`` person-to-person, ``M`` managed."""
        return await self.command("AGTSetWorkClass", work_class)

    async def list_state(self) -> AgentStateReport:
        """AGTListState: the agent's state code and job."""
        return parse_state_report(await self.command("AGTListState"))

    async def list_call_lists(self) -> list[str]:
        """AGTListCallLists: the calling-list names."""
        return list((await self.command("AGTListCallLists")).records)

    async def list_call_fields(self, list_name: str) -> list[FieldListing]:
        """AGTListCallFields: the fields of calling list ``list_name``."""
        return parse_field_listings(await self.command("AGTListCallFields", list_name))

    async def list_data_fields(self, list_type: str) -> list[FieldListing]:
        """AGTListDataFields: the fields of the attached job's ``I`` or ``O`` list."""
        return parse_field_listings(await self.command("AGTListDataFields", list_type))

    async def list_keys(self) -> list[KeyListing]:
        """AGTListKeys: the attached job's completion codes."""
        return parse_key_listings(await self.command("AGTListKeys"))

    async def set_notify_key_field(self, list_type: str, field: str) -> Reply:
        """AGTSetNotifyKeyField: the field sent in the first message of every call notification."""
        return await self.command("AGTSetNotifyKeyField", list_type, field)

    async def set_data_field(self, list_type: str, field: str) -> Reply:
        """AGTSetDataField: append ``field`` to the fields sent with every call notification."""
        return await self.command("AGTSetDataField", list_type, field)

    async def clear_data_set(self, list_type: str) -> Reply:
        """AGTClearDataSet: forget the fields set with :meth:`set_data_field` for ``list_type``."""
        return await self.command("AGTClearDataSet", list_type)

    async def list_callback_fmt(self) -> CallbackFormat:
        """AGTListCallbackFmt: the recall date format and the number of phones per record."""
        return parse_callback_format(await self.command("AGTListCallbackFmt"))

    async def send_message(self, text: str) -> Reply:
        """AGTSendMessage: send ``text`` (at most 79 characters) to the supervisor."""
        return await self.command("AGTSendMessage", text)

    # -- working commands ------------------------------------------------------------------------

    async def avail_work(self) -> Reply:
        """AGTAvailWork: join the attached job (available for work)."""
        return await self.command("AGTAvailWork")

    async def ready_next_item(self) -> Reply:
        """AGTReadyNextItem: ready for the next record; the call comes as an AGTCallNotify notification."""
        return await self.command("AGTReadyNextItem")

    async def release_line(self, script_label: str | None = None, message_number: int | None = None) -> Reply:
        """AGTReleaseLine: hang up, keeping the record open; optionally with a script label or message number."""
        if message_number is not None:
            return await self.command("AGTReleaseLine", script_label or "", str(message_number))
        if script_label is not None:
            return await self.command("AGTReleaseLine", script_label)
        return await self.command("AGTReleaseLine")

    async def finished_item(self, code: int | str) -> Reply:
        """AGTFinishedItem: release the record with completion code ``code``."""
        return await self.command("AGTFinishedItem", str(code))

    async def no_further_work(self) -> Reply:
        """AGTNoFurtherWork: leave the job's work.  Returns only when the agent is actually off the job.

        The server answers ``P`` at once and the final ``R`` later (after :meth:`finished_item` when a
        record is open), so run this in its own task when a record is being worked.
        """
        return await self.command("AGTNoFurtherWork")

    async def read_field(self, list_type: str, field: str) -> str:
        """AGTReadField: the value of ``field`` in the current record."""
        return parse_field_value(await self.command("AGTReadField", list_type, field))

    async def update_field(self, list_type: str, field: str, value: str) -> Reply:
        """AGTUpdateField: set ``field`` of the current record to ``value``."""
        return await self.command("AGTUpdateField", list_type, field, value)

    async def set_callback(
        self,
        date: str,
        time: str,
        phone_index: int | str,
        recall_name: str | None = None,
        recall_number: str | None = None,
    ) -> Reply:
        """AGTSetCallback: schedule a recall of the current record.

        ``recall_number`` overrides ``phone_index``; when it is given without ``recall_name`` an empty
        name segment is sent in its place.
        """
        args = [date, time, str(phone_index)]
        if recall_name is not None or recall_number is not None:
            args.append(recall_name or "")
        if recall_number is not None:
            args.append(recall_number)
        return await self.command("AGTSetCallback", *args)

    async def managed_call(self) -> Reply:
        """AGTManagedCall: place the call of the record being previewed (managed job)."""
        return await self.command("AGTManagedCall")

    # -- POM preferred campaigns (project design, not Avaya's: see agt-protocol.md §7.2) -----------

    async def set_preferred_job_list(self, jobs: Sequence[str]) -> Reply:
        """AGTSetPreferredJobList: the agent's preferred jobs, one per segment; an empty list clears it."""
        if isinstance(jobs, str):
            raise TypeError("jobs must be a sequence of job names, not one string")
        return await self.command(SET_PREFERRED_JOB_LIST, *jobs)

    async def get_preferred_job_list(self) -> list[JobListing]:
        """AGTGetPreferredJobList: the agent's preferred jobs as ``<Type>,<Name>,<Status>`` records."""
        return parse_job_listings(await self.command(GET_PREFERRED_JOB_LIST))

    # -- typical sequences (agt-protocol.md §2.4) ------------------------------------------------

    async def login_sequence(
        self,
        agent: str,
        password: str,
        *,
        headset_id: str | int = "1",
        api_version: str | None = DEFAULT_API_VERSION,
    ) -> None:
        """Log on, reserve the headset and connect it."""
        await self.logon(agent, password, api_version)
        await self.reserve_headset(headset_id)
        await self.connect_headset()

    async def join(self, job: str, *, work_class: str | None = None) -> None:
        """Set the work class (when given), attach to ``job`` and become available for work."""
        if work_class is not None:
            await self.set_work_class(work_class)
        await self.attach_job(job)
        await self.avail_work()

    async def leave(self) -> None:
        """Stop taking work and detach from the job."""
        await self.no_further_work()
        await self.detach_job()

    async def logout_sequence(self) -> None:
        """Disconnect and free the headset, then log off (the server then closes the connection)."""
        await self.disconnect_headset()
        await self.free_headset()
        await self.logoff()

    # -- the reader ------------------------------------------------------------------------------

    async def _send(self, keyword: str, wire: bytes) -> None:
        async with self._send_lock:
            if self._close_reason is not None:
                raise AgtConnectionClosed(f"{keyword}: {self._close_reason}")
            try:
                with trio.CancelScope(shield=True):
                    await self._stream.send_all(wire)
            except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
                self._finish(f"sending failed ({_cause(exc)})")
                raise AgtConnectionClosed(f"{keyword}: {self._close_reason}") from exc

    async def _wait_for_greeting(self, timeout: float | None) -> None:
        with trio.move_on_after(math.inf if timeout is None else timeout):
            await self._greeted.wait()
        if self._greeting is None:
            problem = self._close_reason or f"nothing arrived within {timeout} s"
            raise AgtConnectionError(f"no AGTSTART greeting: {problem}")

    async def _read_messages(self) -> None:
        reason: str | None = None
        try:
            with self._reader_scope:
                while reason is None and self._close_reason is None:
                    self._codec.receive_data(await self._stream.receive_some(RECEIVE_SIZE))
                    reason = self._process_received()
        except trio.BrokenResourceError as exc:
            reason = f"the connection broke ({_cause(exc)})"
        except trio.ClosedResourceError:
            reason = _CLOSED_BY_CLIENT
        finally:
            self._finish(reason or _CLOSED_BY_CLIENT)

    def _process_received(self) -> str | None:
        """Dispatch every complete message; return why the connection ended, if it did."""
        while self._close_reason is None:
            try:
                item = self._codec.next_message()
            except RemoteProtocolError as exc:
                self._log.warning("malformed_message_skipped", error=str(exc), fatal=exc.fatal)
                if exc.fatal:
                    return f"unrecoverable framing error ({exc})"
                continue
            if isinstance(item, Sentinel):
                return "the server closed the connection" if item is Sentinel.CLOSED else None
            self._dispatch(item)
        return None

    def _dispatch(self, message: Message) -> None:
        if self._greeting is None:
            self._accept_greeting(message)
        elif message.type is MessageType.NOTIFICATION:
            notification = self._assembler.feed(message)
            if notification is not None and self.notifications.put(notification):
                self._log.warning("notification_dropped", dropped=self.notifications.dropped)
        elif message.type is MessageType.COMMAND:
            self._log.warning("unexpected_command_from_server", message=render_line(message))
        else:
            self._route_reply(message)

    def _accept_greeting(self, message: Message) -> None:
        if (
            message.type is MessageType.NOTIFICATION
            and message.keyword == _GREETING_KEYWORD
            and message.segments[:2] == _GREETING_SEGMENTS
        ):
            self._greeting = message
            self._greeted.set()
        else:
            self._finish(f"the server's first message is not the AGTSTART greeting: {render_line(message)}")

    def _route_reply(self, message: Message) -> None:
        in_flight = self._in_flight.get(message.invoke_id)
        if in_flight is None:
            self._log.warning("reply_for_unknown_invoke_id", invoke_id=message.invoke_id, message=render_line(message))
            return
        if message.keyword != in_flight.keyword:
            self._log.warning(
                "reply_keyword_mismatch", invoke_id=message.invoke_id, sent=in_flight.keyword, got=message.keyword
            )
        if message.type is MessageType.PENDING:
            in_flight.pending = True
        elif message.type is MessageType.DATA:
            in_flight.data.append(message)
        else:  # R, or B (busy), which is final too
            in_flight.final = message
            del self._in_flight[message.invoke_id]
            in_flight.done.set()

    def _finish(self, reason: str) -> None:
        """Mark the connection ended: fail waiting commands, end the notifications, stop the reader."""
        if self._close_reason is not None:
            return
        self._close_reason = reason
        self._log.debug("connection_closed", reason=reason)
        incomplete = self._assembler.discard_incomplete()
        if incomplete:
            self._log.warning("incomplete_notifications_discarded", keywords=incomplete)
        for in_flight in self._in_flight.values():
            in_flight.done.set()
        self._in_flight.clear()
        self.notifications.close()
        self._greeted.set()
        self._reader_scope.cancel()
        self._closed.set()


def _cause(exc: BaseException) -> str:
    """A readable reason for a trio stream error (the OS or TLS error it wraps, when there is one)."""
    return repr(exc.__cause__ or exc)


@contextlib.asynccontextmanager
async def agt_client_over(
    stream: trio.abc.Stream,
    *,
    client_name: str = DEFAULT_CLIENT_NAME,
    greeting_timeout: float | None = 10,
    notification_capacity: int = DEFAULT_NOTIFICATION_CAPACITY,
) -> AsyncIterator[AgtClient]:
    """Run an AGT session over an already open stream (a socket, a TLS stream, a memory stream).

    The stream belongs to the session from then on and is closed when the block exits.

    Args:
        stream: the connection to the server.
        client_name: the Client/Originator field of every command.
        greeting_timeout: how long to wait for the ``AGTSTART`` greeting (``None``: forever).
        notification_capacity: how many unconsumed notifications are kept before the oldest is dropped.

    Raises:
        AgtConnectionError: the first message is not ``AGTSTART 0 AGENT_STARTUP``, the connection
            closed before it, or it did not come within ``greeting_timeout``.
    """
    try:
        client = AgtClient(stream, client_name=client_name, notification_capacity=notification_capacity)
    except BaseException:
        await trio.aclose_forcefully(stream)
        raise
    error: BaseException | None = None
    closed_gracefully = False
    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(client._read_messages)
            # An exception from the body is re-raised outside the nursery, so that the caller sees it
            # as it is and not wrapped in an ExceptionGroup.
            try:
                await client._wait_for_greeting(greeting_timeout)
                yield client
            except BaseException as exc:
                error = exc
            client._finish(_CLOSED_BY_CLIENT)
        if error is None:
            with trio.move_on_after(CLOSE_TIMEOUT):
                await client.aclose()
            closed_gracefully = True
    finally:
        if not closed_gracefully:
            await trio.aclose_forcefully(stream)
    if error is not None:
        raise error


@contextlib.asynccontextmanager
async def open_agt_client(
    host: str,
    port: int,
    *,
    ssl_context: ssl.SSLContext | None = None,
    server_hostname: str | None = None,
    client_name: str = DEFAULT_CLIENT_NAME,
    connect_timeout: float = 10,
    notification_capacity: int = DEFAULT_NOTIFICATION_CAPACITY,
) -> AsyncIterator[AgtClient]:
    """Connect to an AGT server and run a session; the connection is closed when the block exits.

    Example::

        async with open_agt_client("127.0.0.1", 22700) as client:
            await client.login_sequence("agent07", "s3cret")
            await client.join("SALES1")
            await client.ready_next_item()
            call = await client.next_notification("AGTCallNotify")

    Args:
        host: the server's name or address.
        port: the server's port (Proactive Contact uses 22700).
        ssl_context: wrap the connection in TLS with this context (``None``: plain TCP).
        server_hostname: the name to check the server certificate against (default: ``host``).
        client_name: the Client/Originator field of every command.
        connect_timeout: seconds allowed for the TCP connect plus TLS handshake, and again for the
            greeting.
        notification_capacity: how many unconsumed notifications are kept before the oldest is dropped.

    Raises:
        AgtConnectionError: the connection, the TLS handshake or the greeting failed.
    """
    stream = await _connect(host, port, ssl_context, server_hostname, connect_timeout)
    async with agt_client_over(
        stream,
        client_name=client_name,
        greeting_timeout=connect_timeout,
        notification_capacity=notification_capacity,
    ) as client:
        yield client


async def _connect(
    host: str, port: int, ssl_context: ssl.SSLContext | None, server_hostname: str | None, timeout: float
) -> trio.abc.Stream:
    try:
        with trio.fail_after(timeout):
            tcp_stream = await trio.open_tcp_stream(host, port)
            if ssl_context is None:
                return tcp_stream
            tls_stream = trio.SSLStream(tcp_stream, ssl_context, server_hostname=server_hostname or host)
            try:
                await tls_stream.do_handshake()
            except BaseException:
                await trio.aclose_forcefully(tls_stream)
                raise
            return tls_stream
    except trio.TooSlowError as exc:
        raise AgtConnectionError(f"could not connect to {host}:{port} within {timeout} s") from exc
    except (OSError, trio.BrokenResourceError) as exc:
        raise AgtConnectionError(f"could not connect to {host}:{port}: {_cause(exc)}") from exc
