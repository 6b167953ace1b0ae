"""What each AGT command does to a session: preconditions, state changes and replies.

One function per command, registered in ``HANDLERS`` by keyword.  A handler either raises
:class:`CommandRejected` with the documented E-code (the engine turns it into ``R 1 <code>``) or
replies itself through its :class:`CommandCall`.  Error codes follow the PC 5.2 Agent API guide; the
order of the checks follows the order in which its pages list the preconditions, so that an agent that
breaks two rules hears about the one a real server would report.

The simulation has no telephony hardware, ACD or PBX, but the commands about them still run the
documented state machine: a headset is "connected" when the agent says so, hold and transfer need an
open line (there is none until calls are delivered), and ACD logon answers that agent blending is
not available on this system.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import attrs

from agt_server.protocol import (
    ErrorCode,
    JobType,
    Message,
    MessageType,
    WorkClass,
    split_records,
)

from ._callback_time import parse_callback
from ._calls import CallKind
from ._errors import CommandRejected
from ._events import AgentEvent, Effect, Send
from ._jobs import Job, is_applicable, work_class_error
from ._session import WORKING_STATES, AgentState, AssignmentMode, HeadsetState, ListType, Session
from ._supervision import set_preferred, validate_preferred

if TYPE_CHECKING:
    from agt_server.config import CallingListConfig, FieldSpec

    from ._calls import Call
    from ._engine import Engine

__all__ = ["HANDLERS", "CommandCall"]

_HEADSET_ID = re.compile(r"[0-9]{1,14}")
_PHONE_NUMBER = re.compile(r"\+?[0-9]{1,43}")
_DTMF = re.compile(r"[0-9*#]")
_TENANT = "Default"
#: What AGTDialerMode reports.  A "digital" (non-CTI) dialer allows every call-control command.
_DIALER_MODE = "DIGITAL"
_CALLBACK_DATE_FORMAT = "CCYY/MM/DD"


@attrs.define(eq=False)
class CommandCall:
    """One command being handled: the session, the message, the time, and the effects so far."""

    engine: Engine
    session: Session
    message: Message
    now: float
    effects: list[Effect]
    credentials_ok: bool | None = None
    #: whether this command answers ``P 0 S28833`` before its final reply (set by the engine)
    pending_wanted: bool = False
    _pending_sent: bool = False

    def reply(self, type_: MessageType, *segments: str) -> None:
        """Send a reply to this command (echoing its invoke id)."""
        self.effects.append(Send(self.session.conn, self._message(type_, segments)))

    def pending(self) -> None:
        """Send ``P 0 S28833`` (once) if this command is answered with one.

        Handlers call this where processing "gets going" (after their preconditions); :meth:`ok` and
        :meth:`data` call it too, so a command configured to get a ``P`` always gets one on success.
        """
        if self.pending_wanted and not self._pending_sent:
            self._pending_sent = True
            self.reply(MessageType.PENDING, "0", "S28833")

    def ok(self) -> None:
        """Send the final ``R 0 M00000``."""
        self.pending()
        self.reply(MessageType.RESPONSE, "0", "M00000")

    def data(self, records: Iterable[str]) -> None:
        """Send ``records`` as ``D 0 M00001 …`` messages of at most 256 bytes, then ``R 0 M00000``."""
        self.pending()
        template = self._message(MessageType.DATA, ("0", "M00001"))
        encoding = self.engine.config.protocol.encoding
        for part in split_records(template, list(records), cut_long_records=True, encoding=encoding):
            self.effects.append(Send(self.session.conn, part))
        self.ok()

    def _message(self, type_: MessageType, segments: tuple[str, ...]) -> Message:
        return Message(
            self.message.keyword,
            type_,
            segments,
            process_id=self.session.process_id,
            invoke_id=self.message.invoke_id,
        )

    # -- shared precondition checks ---------------------------------------------------------

    def attached_job(self) -> Job:
        """The attached job; ``E28885`` when there is none."""
        if self.session.job is None:
            raise CommandRejected(ErrorCode.E28885)
        return self.engine.jobs[self.session.job]

    def calling_list(self, job: Job, list_type_arg: str) -> CallingListConfig:
        """The job's calling list for list type ``I`` or ``O`` (``E28891``/``E28892``/``E28893``)."""
        if list_type_arg not in ListType._value2member_map_:
            raise CommandRejected(ErrorCode.E28891)
        list_type = ListType(list_type_arg)
        name = job.config.inbound_list if list_type is ListType.INBOUND else job.config.outbound_list
        if name is None:
            raise CommandRejected(ErrorCode.E28892 if list_type is ListType.INBOUND else ErrorCode.E28893)
        return self.engine.calling_lists[name]

    def field(self, job: Job, list_type_arg: str, field_name: str) -> FieldSpec:
        """A field of the job's calling list (``E28894`` when it has no such field)."""
        for spec in self.calling_list(job, list_type_arg).fields:
            if spec.name == field_name:
                return spec
        raise CommandRejected(ErrorCode.E28894, field_name)

    def open_line(self) -> None:
        """Commands that need a telephone line: ``E28885`` off a job, ``E28866`` without a connected call."""
        self.attached_job()
        if self.session.call is None or not self.session.line_open:
            raise CommandRejected(ErrorCode.E28866)

    def open_record(self, missing: ErrorCode = ErrorCode.E28912) -> Call:
        """The record being worked; ``missing`` (default ``E28912``) when there is none."""
        call = self.session.call
        if call is None:
            raise CommandRejected(missing)
        return call


Handler = Callable[[CommandCall, tuple[str, ...]], None]
HANDLERS: dict[str, Handler] = {}


def _handles(*keywords: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        for keyword in keywords:
            HANDLERS[keyword] = handler
        return handler

    return register


def _listing_fields(fields: Iterable[FieldSpec]) -> list[str]:
    return [f"{spec.name},{spec.length},{spec.type.value},F" for spec in fields]


# -- connection ------------------------------------------------------------------------------


@_handles("AGTLogon")
def _logon(call: CommandCall, args: tuple[str, ...]) -> None:
    session, engine = call.session, call.engine
    if session.agent is not None:
        raise CommandRejected(ErrorCode.E28925)
    call.pending()
    tenant, _, name = args[0].rpartition("\\")
    if tenant and tenant != _TENANT:
        raise CommandRejected(ErrorCode.E58007, tenant)
    agent = engine.agents.get(name)
    if agent is None or not call.credentials_ok:
        raise CommandRejected(ErrorCode.E28926)
    if name in engine.online:
        raise CommandRejected(ErrorCode.E28812, name)
    session.agent = agent
    session.state = AgentState.IDLE
    session.tenant = tenant or None
    engine.online[name] = session
    call.effects.append(AgentEvent("logged_on", name, session.conn, state=session.state_code, detail=session.peer))
    call.ok()


@_handles("AGTLogoff")
def _logoff(call: CommandCall, args: tuple[str, ...]) -> None:
    if call.session.job is not None:
        raise CommandRejected(ErrorCode.E28916)
    call.ok()
    call.engine.close_session(call.session, "logged off", call.now, call.effects)


@_handles("AGTReserveHeadset")
def _reserve_headset(call: CommandCall, args: tuple[str, ...]) -> None:
    session, (headset_id,) = call.session, args
    if not _HEADSET_ID.fullmatch(headset_id):
        raise CommandRejected(ErrorCode.E28871, "", headset_id, "headset id must be 1-14 digits")
    if session.headset is not HeadsetState.NONE:
        raise CommandRejected(ErrorCode.E28923, "", session.headset_id or headset_id)
    if headset_id in call.engine.headsets:
        raise CommandRejected(ErrorCode.E50611, "", headset_id)
    call.pending()
    session.headset, session.headset_id = HeadsetState.RESERVED, headset_id
    call.engine.headsets[headset_id] = session.conn
    call.ok()


@_handles("AGTConnHeadset")
def _connect_headset(call: CommandCall, args: tuple[str, ...]) -> None:
    session = call.session
    if session.headset is HeadsetState.NONE:
        raise CommandRejected(ErrorCode.E28873)
    if session.headset is HeadsetState.CONNECTED:
        raise CommandRejected(ErrorCode.E28872)
    call.pending()
    session.headset = HeadsetState.CONNECTED
    call.ok()


@_handles("AGTDisconnHeadset")
def _disconnect_headset(call: CommandCall, args: tuple[str, ...]) -> None:
    session = call.session
    if session.headset is HeadsetState.NONE:
        raise CommandRejected(ErrorCode.E28873)
    if session.headset is not HeadsetState.CONNECTED:
        raise CommandRejected(ErrorCode.E28876)
    if session.state in WORKING_STATES:
        raise CommandRejected(ErrorCode.E28900, "", "still available for work: send AGTNoFurtherWork first")
    call.pending()
    session.headset = HeadsetState.DISCONNECTED
    call.ok()


@_handles("AGTFreeHeadset")
def _free_headset(call: CommandCall, args: tuple[str, ...]) -> None:
    session = call.session
    if session.headset is HeadsetState.NONE:
        raise CommandRejected(ErrorCode.E28873)
    if session.headset is HeadsetState.CONNECTED:
        raise CommandRejected(ErrorCode.E28879)
    if session.headset_id is not None:
        call.engine.headsets.pop(session.headset_id, None)
    session.headset, session.headset_id = HeadsetState.NONE, None
    call.ok()


@_handles("AGTLogonAcd", "AGTLogoffAcd")
def _acd(call: CommandCall, args: tuple[str, ...]) -> None:
    # Agent blending needs an ACD; the simulation has none, as a PC system without blending.
    raise CommandRejected(ErrorCode.E70011)


# -- system ----------------------------------------------------------------------------------


@_handles("AGTListJobs")
def _list_jobs(call: CommandCall, args: tuple[str, ...]) -> None:
    (job_type,) = args
    if job_type != "A" and job_type not in JobType._value2member_map_:
        raise CommandRejected(ErrorCode.E70003, job_type)
    agent = call.session.agent
    assert agent is not None
    call.data(
        job.listing
        for job in call.engine.jobs.values()
        if (job_type in ("A", job.type.value)) and is_applicable(agent, job.config)
    )


@_handles("AGTAttachJob")
def _attach_job(call: CommandCall, args: tuple[str, ...]) -> None:
    session, (name,) = call.session, args
    agent = session.agent
    assert agent is not None
    if session.job is not None:
        raise CommandRejected(ErrorCode.E28889)
    job = call.engine.jobs.get(name)
    if job is None or not is_applicable(agent, job.config):
        raise CommandRejected(ErrorCode.E28890, name)
    if not job.running:
        raise CommandRejected(ErrorCode.E28804, name)
    if session.server_assigned:
        # A server-assigned agent may choose its job itself: one the server could give it (preferred,
        # fitting its work class) with room, and it stays there.
        if session.preferred and name not in session.preferred:
            raise CommandRejected(ErrorCode.E28890, f"{name} is not a preferred job")
        mismatch = work_class_error(session.work_class, job.type)
        if mismatch is not None:
            raise CommandRejected(mismatch)
        capacity = call.engine.capacity(name)
        if capacity is not None and len(call.engine.attached[name]) >= capacity:
            raise CommandRejected(ErrorCode.E28813)
        call.engine.balancer.forget(session)
        session.mode, session.pinned_job, session.moved_at = AssignmentMode.PINNED, name, call.now
    call.engine.attach(session, job.name)
    session.state = AgentState.ATTACHED
    call.engine.state_changed(session, call.effects, "attached")
    call.ok()


@_handles("AGTDetachJob")
def _detach_job(call: CommandCall, args: tuple[str, ...]) -> None:
    session = call.session
    if session.job is None:
        raise CommandRejected(ErrorCode.E28913)
    if session.no_further_work_invoke is not None:
        raise CommandRejected(ErrorCode.E28915)
    if session.state in WORKING_STATES:
        raise CommandRejected(ErrorCode.E28914)
    call.engine.detach(session)
    if session.server_assigned:
        # Detaching stops server assignment until the agent asks again (a list, or AGTAvailWork).
        session.mode, session.pinned_job = AssignmentMode.MANUAL, None
        call.engine.balancer.forget(session)
    call.engine.state_changed(session, call.effects, "detached")
    call.ok()


@_handles("AGTSetWorkClass")
def _set_work_class(call: CommandCall, args: tuple[str, ...]) -> None:
    session, (requested,) = call.session, args
    agent = session.agent
    assert agent is not None
    # Avaya's own sample sends "OUTBOUND" for "O": the first letter decides.
    letter = requested[:1]
    if letter not in WorkClass._value2member_map_:
        raise CommandRejected(ErrorCode.E28883, requested)
    if session.state in WORKING_STATES:
        raise CommandRejected(ErrorCode.E28882)
    work_class = WorkClass(letter)
    if work_class not in agent.work_classes:
        raise CommandRejected(ErrorCode.E28883, f"{requested} is not allowed for {agent.name}")
    session.work_class = work_class
    if session.server_assigned:
        call.engine.balancer.forget(session)  # its candidates depend on the work class
        call.engine.balancer.touch(session)
    call.ok()


@_handles("AGTListState")
def _list_state(call: CommandCall, args: tuple[str, ...]) -> None:
    call.reply(MessageType.DATA, "0", call.session.state_code)
    call.ok()


@_handles("AGTListCallLists")
def _list_call_lists(call: CommandCall, args: tuple[str, ...]) -> None:
    call.data(call.engine.calling_lists)


@_handles("AGTListCallFields")
def _list_call_fields(call: CommandCall, args: tuple[str, ...]) -> None:
    (name,) = args
    calling_list = call.engine.calling_lists.get(name)
    if calling_list is None:
        raise CommandRejected(ErrorCode.E00518, f"agent,{name}")
    call.data(_listing_fields(calling_list.fields))


@_handles("AGTListKeys")
def _list_keys(call: CommandCall, args: tuple[str, ...]) -> None:
    job = call.attached_job()
    call.data(f"{key.code},{key.description},{key.label}" for key in job.config.keys)


@_handles("AGTListScreens")
def _list_screens(call: CommandCall, args: tuple[str, ...]) -> None:
    call.attached_job()
    if args[0] not in ListType._value2member_map_:
        raise CommandRejected(ErrorCode.E28891)
    call.data(())  # agent screens are a server-side feature this simulation does not configure


@_handles("AGTGetScreen")
def _get_screen(call: CommandCall, args: tuple[str, ...]) -> None:
    call.attached_job()
    raise CommandRejected(ErrorCode.E28900, "", f"no agent screen named {args[0]}")


@_handles("AGTSendMessage")
def _send_message(call: CommandCall, args: tuple[str, ...]) -> None:
    agent = call.session.agent
    assert agent is not None
    call.effects.append(AgentEvent("message_sent", agent.name, call.session.conn, detail=args[0]))
    call.ok()


@_handles("AGTSetPassword")
def _set_password(call: CommandCall, args: tuple[str, ...]) -> None:
    # Passwords live (hashed) in the site configuration, which the server never rewrites.
    raise CommandRejected(ErrorCode.E70013)


@_handles("AGTDumpData", "AGTEchoOn", "AGTEchoOff")
def _acknowledge(call: CommandCall, args: tuple[str, ...]) -> None:
    call.ok()


@_handles("AGTLogIoStart", "AGTLogIoStop")
def _log_io(call: CommandCall, args: tuple[str, ...]) -> None:
    call.session.logging_io = call.message.keyword == "AGTLogIoStart"
    call.ok()


@_handles("AGTListTenants")
def _list_tenants(call: CommandCall, args: tuple[str, ...]) -> None:
    call.data((_TENANT,))


@_handles("AGTSetTenant")
def _set_tenant(call: CommandCall, args: tuple[str, ...]) -> None:
    session, (tenant,) = call.session, args
    if session.tenant is not None:
        raise CommandRejected(ErrorCode.E58018)
    if tenant != _TENANT:
        raise CommandRejected(ErrorCode.E58007, tenant)
    call.pending()
    session.tenant = tenant
    call.ok()


@_handles("AGTDialerMode")
def _dialer_mode(call: CommandCall, args: tuple[str, ...]) -> None:
    call.data((_DIALER_MODE,))


# -- job set-up ------------------------------------------------------------------------------


@_handles("AGTListDataFields")
def _list_data_fields(call: CommandCall, args: tuple[str, ...]) -> None:
    job = call.attached_job()
    call.data(_listing_fields(call.calling_list(job, args[0]).fields))


@_handles("AGTSetNotifyKeyField")
def _set_notify_key_field(call: CommandCall, args: tuple[str, ...]) -> None:
    job = call.attached_job()
    spec = call.field(job, *args)
    call.session.key_fields[ListType(args[0])] = spec.name
    call.ok()


@_handles("AGTSetDataField")
def _set_data_field(call: CommandCall, args: tuple[str, ...]) -> None:
    job = call.attached_job()
    spec = call.field(job, *args)
    call.session.data_fields.setdefault(ListType(args[0]), []).append(spec.name)
    call.ok()


@_handles("AGTClearDataSet")
def _clear_data_set(call: CommandCall, args: tuple[str, ...]) -> None:
    job = call.attached_job()
    call.calling_list(job, args[0])
    call.session.data_fields.pop(ListType(args[0]), None)
    call.ok()


def _unit_job(call: CommandCall) -> Job:
    job = call.attached_job()
    if not job.config.units:
        raise CommandRejected(ErrorCode.E28886)
    return job


@_handles("AGTListUnits")
def _list_units(call: CommandCall, args: tuple[str, ...]) -> None:
    job = _unit_job(call)
    call.data((",".join(job.config.units),))


@_handles("AGTSetUnit")
def _set_unit(call: CommandCall, args: tuple[str, ...]) -> None:
    job = _unit_job(call)
    if call.session.state in WORKING_STATES:
        raise CommandRejected(ErrorCode.E28887)
    units = tuple(unit for unit in args[0].split("|") if unit)
    if len(units) > len(job.config.units):
        raise CommandRejected(ErrorCode.E29959)
    for unit in units:
        if unit not in job.config.units:
            raise CommandRejected(ErrorCode.E28888, unit)
    if not units:
        raise CommandRejected(ErrorCode.E28888, args[0])
    call.session.units = units
    call.ok()


@_handles("AGTListCallbackFmt")
def _list_callback_format(call: CommandCall, args: tuple[str, ...]) -> None:
    job = call.attached_job()
    if job.type is JobType.INBOUND:
        raise CommandRejected(ErrorCode.E28868)
    fields = call.engine.calling_lists[job.config.outbound_list].fields if job.config.outbound_list else ()
    phones = sum(1 for spec in fields if spec.name.startswith("PHONE")) or 1
    call.reply(MessageType.DATA, "0", "M00001", _CALLBACK_DATE_FORMAT, str(phones))
    call.ok()


@_handles("AGTAvailWork")
def _avail_work(call: CommandCall, args: tuple[str, ...]) -> None:
    session, engine = call.session, call.engine
    if session.job is None:
        _ask_for_work(call)
        return
    job = call.attached_job()
    if session.state in WORKING_STATES:
        raise CommandRejected(ErrorCode.E28895)
    if engine.config.protocol.require_headset and session.headset is not HeadsetState.CONNECTED:
        raise CommandRejected(ErrorCode.E28896)
    if not job.running:
        raise CommandRejected(ErrorCode.E28898, job.name)
    mismatch = work_class_error(session.work_class, job.type)
    if mismatch is not None:
        raise CommandRejected(mismatch)
    if job.config.units and not session.units:
        raise CommandRejected(ErrorCode.E70006)
    if job.config.max_agents is not None and engine.agents_working(job.name) >= job.config.max_agents:
        raise CommandRejected(ErrorCode.E28813)
    call.pending()
    session.state = AgentState.AVAILABLE
    engine.state_changed(session, call.effects, "available")
    call.ok()


def _ask_for_work(call: CommandCall) -> None:
    """AGTAvailWork without a job (POM): the server assigns the agent, available, to a candidate job."""
    session, engine = call.session, call.engine
    if engine.config.protocol.require_headset and session.headset is not HeadsetState.CONNECTED:
        raise CommandRejected(ErrorCode.E28896)
    call.pending()
    if session.mode is AssignmentMode.MANUAL:
        session.mode = AssignmentMode.SERVER
    session.resume_state = AgentState.AVAILABLE
    engine.balancer.touch(session)
    call.ok()


# -- POM preferred campaigns (our design: protocol_spec.md §10) -------------------------------


@_handles("AGTSetPreferredJobList")
def _set_preferred_job_list(call: CommandCall, args: tuple[str, ...]) -> None:
    agent = call.session.agent
    assert agent is not None
    names = args
    if len(args) == 1 and ("," in args[0] or "|" in args[0]):
        names = tuple(args[0].replace("|", ",").split(","))
    jobs = validate_preferred(call.engine, agent, [name.strip() for name in names])
    set_preferred(call.engine, call.session, jobs, agent.name, call.now, call.effects)
    call.ok()


@_handles("AGTGetPreferredJobList")
def _get_preferred_job_list(call: CommandCall, args: tuple[str, ...]) -> None:
    call.data(call.engine.jobs[name].listing for name in call.session.preferred)


# -- working ---------------------------------------------------------------------------------


@_handles("AGTReadyNextItem")
def _ready_next_item(call: CommandCall, args: tuple[str, ...]) -> None:
    session = call.session
    call.attached_job()
    if session.state is AgentState.ON_RECORD:
        raise CommandRejected(ErrorCode.E28902)
    if session.state is AgentState.READY:
        raise CommandRejected(ErrorCode.E28903)
    if session.no_further_work_invoke is not None:
        raise CommandRejected(ErrorCode.E28904)
    if session.state is not AgentState.AVAILABLE:
        raise CommandRejected(ErrorCode.E28901)
    if call.engine.config.protocol.require_headset and session.headset is not HeadsetState.CONNECTED:
        raise CommandRejected(ErrorCode.E28896)
    session.state, session.ready_since = AgentState.READY, call.now
    call.engine.state_changed(session, call.effects, "ready")
    call.ok()
    call.engine.switchboard.agent_ready(session, call.now, call.effects)


@_handles("AGTFinishedItem")
def _finished_item(call: CommandCall, args: tuple[str, ...]) -> None:
    job = call.attached_job()
    record = call.open_record(ErrorCode.E28919)
    code = args[0].strip()
    # Clients send completion codes with or without leading zeros ("019", "19").
    if not code.isdigit() or (job.config.keys and int(code) not in {key.code for key in job.config.keys}):
        raise CommandRejected(ErrorCode.E28947, code)
    # The disposition is a store write: the driver sends this reply only once it is durable.  The reply
    # comes first so that what finishing the record sets off (a job ending) follows it.
    call.ok()
    agent = call.session.agent_name
    call.engine.dialer.record_outcome(record.job, record.record_id, int(code), agent, call.now, call.effects)
    call.engine.switchboard.finish(call.session, call.now, call.effects)


@_handles("AGTReleaseLine")
def _release_line(call: CommandCall, args: tuple[str, ...]) -> None:
    session = call.session
    if session.previewing:
        # Releasing during a preview cancels the managed call; the record is then finished as usual.
        call.pending()
        session.previewing = False
        call.ok()
        return
    call.open_line()
    call.pending()
    session.line_open = False
    call.ok()


@_handles("AGTNoFurtherWork")
def _no_further_work(call: CommandCall, args: tuple[str, ...]) -> None:
    session = call.session
    if session.job is None:
        raise CommandRejected(ErrorCode.E28917)
    if session.no_further_work_invoke is not None:
        raise CommandRejected(ErrorCode.E28904)
    if session.state not in WORKING_STATES:
        raise CommandRejected(ErrorCode.E28918)
    call.pending()
    if session.state is AgentState.ON_RECORD:
        # The final reply waits until the agent finishes its record (AGTFinishedItem).
        session.no_further_work_invoke = call.message.invoke_id
        return
    session.state = AgentState.ATTACHED
    call.engine.state_changed(session, call.effects, "no further work")
    call.ok()


@_handles("AGTManagedCall", "AGTFindFirstRecord", "AGTFindNextRecord", "AGTCancelSearch")
def _managed(call: CommandCall, args: tuple[str, ...]) -> None:
    job = call.attached_job()
    if job.type is not JobType.MANAGED:
        raise CommandRejected(ErrorCode.E28907)
    session = call.session
    if session.call is None or (call.message.keyword != "AGTManagedCall" and not session.previewing):
        raise CommandRejected(ErrorCode.E28908)
    if call.message.keyword != "AGTManagedCall":
        raise CommandRejected(ErrorCode.E29953)  # preview search is not enabled on simulated jobs
    if not session.previewing:
        raise CommandRejected(ErrorCode.E28909)
    call.pending()
    call.engine.switchboard.place_managed_call(session, call.effects)
    call.reply(MessageType.DATA, "0", "M00001", "(CONNECT)")
    call.ok()


@_handles(
    "AGTHangupCall",
    "AGTHoldCall",
    "AGTUnholdCall",
    "AGTHookflashLine",
    "AGTTransferCall",
    "AGTMoFlashBlind",
    "AGTMoFlashSupv",
    "AGTGetHeadsetVol",
)
def _line_command(call: CommandCall, args: tuple[str, ...]) -> None:
    call.open_line()
    if call.message.keyword == "AGTGetHeadsetVol":
        call.reply(MessageType.DATA, "0", "M00001", "4", "4")  # ear and mouth volume, 1-8
    call.ok()


@_handles("AGTManualCall", "AGTManualPhone")
def _manual_call(call: CommandCall, args: tuple[str, ...]) -> None:
    call.attached_job()
    if not _PHONE_NUMBER.fullmatch(args[0]):
        raise CommandRejected(ErrorCode.E28843, "", args[0])
    call.open_line()
    if call.message.keyword == "AGTManualPhone":
        call.data((args[0],))
    else:
        call.ok()


@_handles("AGTDialDigit")
def _dial_digit(call: CommandCall, args: tuple[str, ...]) -> None:
    call.attached_job()
    if not _DTMF.fullmatch(args[0]):
        raise CommandRejected(ErrorCode.E28900, "", f"not a DTMF digit: {args[0]}")
    call.open_line()
    call.ok()


@_handles("AGTAdjustHeadset")
def _adjust_headset(call: CommandCall, args: tuple[str, ...]) -> None:
    call.attached_job()
    ear_or_mouth, volume = args
    if ear_or_mouth not in ("E", "M") or not volume.isdigit() or not 1 <= int(volume) <= 8:
        raise CommandRejected(ErrorCode.E28869)
    call.open_line()
    call.ok()


@_handles("AGTReadField")
def _read_field(call: CommandCall, args: tuple[str, ...]) -> None:
    job = call.attached_job()
    spec = call.field(job, args[0], args[1])
    record = call.open_record()
    value = record.value(spec.name) or ""
    # Note the order: name, type, length, value (AGTListDataFields has name, length, type).
    call.data((f"{spec.name},{spec.type.value},{spec.length},{value}",))


@_handles("AGTUpdateField")
def _update_field(call: CommandCall, args: tuple[str, ...]) -> None:
    job = call.attached_job()
    spec = call.field(job, args[0], args[1])
    record = call.open_record()
    value = args[2]
    if len(value) > spec.length:
        raise CommandRejected(ErrorCode.E28900, "", f"{spec.name} holds at most {spec.length} characters")
    fields = tuple((name, value if name == spec.name else old) for name, old in record.fields)
    if record.value(spec.name) is None:
        fields += ((spec.name, value),)
    call.session.call = attrs.evolve(record, fields=fields)
    call.ok()


@_handles("AGTDoNotCall")
def _do_not_call(call: CommandCall, args: tuple[str, ...]) -> None:
    call.attached_job()
    call.open_record()
    call.ok()


@_handles("AGTSetCallback")
def _set_callback(call: CommandCall, args: tuple[str, ...]) -> None:
    job = call.attached_job()
    if job.type is JobType.INBOUND:
        raise CommandRejected(ErrorCode.E28868)
    record = call.open_record(ErrorCode.E28866)
    if record.kind is CallKind.INBOUND:
        raise CommandRejected(ErrorCode.E28868)
    list_name = job.config.outbound_list
    fields = call.engine.calling_lists[list_name].fields if list_name else ()
    phones = [record.value(spec.name) or "" for spec in fields if spec.name.startswith("PHONE")]
    dialing = job.config.dialing
    request = parse_callback(
        args,
        now=call.now,
        zone=call.engine.zone,
        phones=phones,
        calling_hours=dialing.calling_hours,
        min_minutes=dialing.callback_min_minutes,
        record_zone=record.value("TZ"),
    )
    dialer = call.engine.dialer
    dialer.schedule_callback(call.session, request.due_at, request.phone, request.name, call.now, call.effects)
    call.ok()
