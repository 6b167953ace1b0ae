"""Calls reaching agents: AGTCallNotify, finishing records, callbacks (R7) and inbound calls (R8).

A call is offered only to an agent that is ready (S70001) on the call's job.  The notification is
three parts, as the PC guide and real clients expect: the operator message, call type and key field;
the fields the agent chose with AGTSetDataField, in that order, split so no message passes 256 bytes;
then ``0 M00000``.

Callbacks and inbound calls may take an agent off its job for one call: the agent is moved to the
call's job *temporarily* (``AGTJobAssigned … callback|inbound``; a callback is announced first with
PC's ``AGTAORNotify``), and when it finishes the record it goes back to normal assignment
(``AGTJobAssigned … returned``), not necessarily to the job it left.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import TYPE_CHECKING

from agt_server.protocol import Message, MessageType, split_records

from ._assignment import MoveReason, notification
from ._calls import Call, CallKind, Temporary
from ._events import Effect, Send
from ._jobs import is_applicable
from ._session import AgentState, AssignmentMode, ListType, Session

if TYPE_CHECKING:
    from ._engine import Engine

__all__ = ["Switchboard"]

_UNIT = "Allid"  # the default unit label of PC samples; the simulation has no unit work lists by default


class Switchboard:
    """Queues of calls waiting for agents, and the delivery of calls to agents."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        #: inbound callers waiting for an agent, per job, in arrival order
        self.inbound_queue: dict[str, deque[Call]] = {name: deque() for name in engine.jobs}
        #: callbacks waiting for any agent of their job
        self.callback_queue: dict[str, deque[Call]] = {name: deque() for name in engine.jobs}

    # -- delivering ---------------------------------------------------------------------------

    def offer(self, session: Session, call: Call, now: float, effects: list[Effect], *, preview: bool = False) -> None:
        """Give ``call`` to ``session`` (ready on the call's job), and the agent is S70000.

        A call is announced with AGTCallNotify, line connected; a managed job's record with
        AGTPreviewRecord, for the agent to look at before it is dialed (AGTManagedCall or the timeout).
        """
        assert session.job == call.job and session.state is AgentState.READY
        list_type = ListType.INBOUND if call.kind is CallKind.INBOUND else ListType.OUTBOUND
        keyword = "AGTPreviewRecord" if preview else "AGTCallNotify"
        if preview:
            first = ["0", "M00001", f"{_operator_message(call, session)} (Preview)", "MANAGED"]
        else:
            first = ["0", "M00001", _operator_message(call, session), call.kind.call_type]
        key_field = session.key_fields.get(list_type)
        if key_field is not None and call.value(key_field) is not None:
            first.append(f"{key_field},{call.value(key_field)}")
        effects += notification(session, keyword, tuple(_clean(segment) for segment in first))
        template = Message(keyword, MessageType.NOTIFICATION, ("0", "M00001"), process_id=session.process_id)
        records = [
            _clean(f"{name},{call.value(name)}")
            for name in session.data_fields.get(list_type, [])
            if call.value(name) is not None
        ]
        if records:
            encoding = self.engine.config.protocol.encoding
            parts = split_records(template, records, cut_long_records=True, encoding=encoding)
            effects += [Send(session.conn, part) for part in parts]
        effects += notification(session, keyword, ("0", "M00000"))
        session.call, session.line_open, session.previewing = call, not preview, preview
        session.state, session.ready_since = AgentState.ON_RECORD, None
        self.engine.state_changed(session, effects, f"{call.kind.value} call {call.record_id}")

    def place_managed_call(self, session: Session, effects: list[Effect]) -> None:
        """Dial the previewed record (AGTManagedCall, or the preview timing out): the line is up."""
        session.previewing, session.line_open = False, True
        self.engine.state_changed(session, effects, "managed call placed")

    def auto_release(self, session: Session, effects: list[Effect]) -> None:
        """The customer hung up first: the line is released, the record stays open (AGTAutoReleaseLine)."""
        session.line_open = False
        effects += notification(session, "AGTAutoReleaseLine", ("0", "M00000"))

    def agent_ready(self, session: Session, now: float, effects: list[Effect]) -> None:
        """``session`` just became ready: give it the first call waiting for it, if any."""
        if session.state is not AgentState.READY or session.job is None:
            return
        mine = [call for call in session.waiting_calls if call.job == session.job]
        if mine:
            session.waiting_calls.remove(mine[0])
            self.offer(session, mine[0], now, effects)
            return
        for queue in (self.callback_queue[session.job], self.inbound_queue[session.job]):
            if queue:
                self.offer(session, queue.popleft(), now, effects)
                return
        if session.server_assigned and session.temporary is None:
            for job, queue in self.inbound_queue.items():
                if queue and job != session.job and self._may_take_inbound(session, job):
                    self._take_temporarily(session, queue.popleft(), MoveReason.INBOUND, now, effects)
                    return
        self.engine.dialer.agent_ready(session, now)

    def finish(self, session: Session, now: float, effects: list[Effect]) -> None:
        """``session`` finished its record: back to available, or off the job if it was leaving."""
        session.call, session.line_open, session.previewing = None, False, False
        if session.no_further_work_invoke is not None:
            nfw = Message(
                "AGTNoFurtherWork",
                MessageType.RESPONSE,
                ("0", "M00000"),
                process_id=session.process_id,
                invoke_id=session.no_further_work_invoke,
            )
            effects.append(Send(session.conn, nfw))
            session.no_further_work_invoke = None
            session.state = AgentState.ATTACHED
        elif session.leaving:
            session.state, session.leaving = AgentState.ATTACHED, False
        else:
            session.state = AgentState.AVAILABLE
        self.engine.state_changed(session, effects, "record finished")
        other_job_callbacks = [call for call in session.waiting_calls if call.job != session.job]
        if other_job_callbacks and session.server_assigned:
            session.temporary = None
            session.waiting_calls.remove(other_job_callbacks[0])
            self._take_temporarily(session, other_job_callbacks[0], MoveReason.CALLBACK, now, effects)
        elif session.temporary is not None:
            session.temporary = None
            self.engine.balancer.touch(session, MoveReason.RETURNED)
        elif session.server_assigned:
            self.engine.balancer.touch(session)

    def agent_gone(self, session: Session, now: float, effects: list[Effect]) -> None:
        """``session`` logged off: the calls held for it go to the other agents of their jobs."""
        held, session.waiting_calls = session.waiting_calls, []
        for call in held:
            if call.kind is CallKind.INBOUND:
                self.inbound_call(call, now, effects)
            else:
                self.callback_due(call, now, effects)

    # -- callbacks (R7) -----------------------------------------------------------------------

    def callback_due(self, call: Call, now: float, effects: list[Effect]) -> None:
        """A callback is due: to its owner when logged on (taking it from another job if need be),
        else to any agent of its job."""
        if not self.engine.jobs[call.job].running:
            self.callback_queue[call.job].append(call)  # given out when the job runs again
            return
        owner = self.engine.online.get(call.owner) if call.owner else None
        job_config = self.engine.jobs[call.job].config
        if owner is not None and owner.agent is not None and is_applicable(owner.agent, job_config):
            if owner.job == call.job:
                owner.waiting_calls.append(call)
                self.agent_ready(owner, now, effects)
                return
            if owner.server_assigned:
                original = owner.job or call.job
                effects += notification(
                    owner,
                    "AGTAORNotify",
                    ("0", "M00001", _clean(call.customer or call.record_id), call.job, _UNIT, original),
                    ("0", "M00000"),
                )
                if owner.state is AgentState.ON_RECORD or owner.temporary is not None:
                    owner.waiting_calls.append(call)  # taken when its current call ends
                else:
                    self._take_temporarily(owner, call, MoveReason.CALLBACK, now, effects)
                return
        ready = self._longest_idle(session for session in self._sessions_on(call.job))
        if ready is not None:
            self.offer(ready, call, now, effects)
        else:
            self.callback_queue[call.job].append(call)

    # -- inbound calls (R8) -------------------------------------------------------------------

    def inbound_call(self, call: Call, now: float, effects: list[Effect]) -> None:
        """An inbound caller for ``call.job``: the longest-idle eligible agent takes it, else it waits."""
        eligible = [
            session
            for session in self.engine.online.values()
            if session.state is AgentState.READY
            and session.temporary is None
            and (session.job == call.job or self._may_take_inbound(session, call.job))
        ]
        agent = self._longest_idle(eligible)
        if agent is None:
            self.inbound_queue[call.job].append(call)
        elif agent.job == call.job:
            self.offer(agent, call, now, effects)
        else:
            self._take_temporarily(agent, call, MoveReason.INBOUND, now, effects)

    # -- helpers ------------------------------------------------------------------------------

    def _may_take_inbound(self, session: Session, job: str) -> bool:
        """A server-assigned agent working another job may be taken for ``job``'s inbound call (R8)."""
        return (
            session.agent is not None
            and session.mode is not AssignmentMode.MANUAL
            and session.job is not None
            and session.call is None
            and is_applicable(session.agent, self.engine.jobs[job].config)
        )

    def _take_temporarily(
        self, session: Session, call: Call, reason: MoveReason, now: float, effects: list[Effect]
    ) -> None:
        previous = session.job
        self.engine.balancer.move(session, call.job, reason, now, effects, offer_waiting_calls=False)
        session.temporary = Temporary(call.kind, call.job, previous)
        if session.state is AgentState.READY:
            self.offer(session, call, now, effects)
        else:
            session.waiting_calls.append(call)  # offered when it is ready

    def _sessions_on(self, job: str) -> list[Session]:
        sessions = self.engine.sessions
        return [sessions[conn] for conn in sorted(self.engine.attached[job]) if conn in sessions]

    @staticmethod
    def _longest_idle(sessions: Iterable[Session]) -> Session | None:
        ready = [
            session for session in sessions if session.state is AgentState.READY and session.ready_since is not None
        ]
        if not ready:
            return None
        return min(ready, key=lambda session: (session.ready_since, session.agent_name or ""))


def _operator_message(call: Call, session: Session) -> str:
    if call.kind is CallKind.INBOUND:
        return "INBOUND CALL"
    if call.kind is CallKind.CALLBACK and call.owner and call.owner == session.agent_name:
        return f"Agent {call.owner} Owned Recall"
    return call.customer or call.record_id


def _clean(text: str) -> str:
    """Framing bytes cannot travel inside a segment; show them as '?'."""
    return text.translate({0x1E: "?", 0x03: "?", 0x17: "?"})
