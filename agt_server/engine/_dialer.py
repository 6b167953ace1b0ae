"""The dialer simulation: contact lists become calls, outcomes are recorded, jobs get dialed out.

Theory of operation
-------------------
Each job with an outbound calling list keeps its records in one of four places: the *queue* (never
dialed, or put back after a restart), the *retry* heap (an unanswered dial waiting for its retry
time), *in progress* (being dialed or worked by an agent), and *done* (finished for good).  A job's
*outstanding work* is everything not done; it is the job's demand for agents, so balancing sends
agents where contacts remain, and when it reaches zero the job completes — "dialed out" — which moves
its agents under rule R5.

When an agent becomes ready on such a job the dialer schedules a dial for it after the job's dial
delay.  When the dial comes due it takes the next record (due retries first) and decides, with the
engine's seeded random generator, whether a person answers: then the call is delivered to the agent
(``AGTCallNotify``; ``AGTPreviewRecord`` on a managed job, dialed on ``AGTManagedCall`` or when the
preview times out); otherwise the dialer records an outcome (busy, no answer, answering machine … at
the configured weights) without the agent, puts the record up for retry while attempts remain, and
dials again for the agent.  On an outbound call the customer may hang up first
(``AGTAutoReleaseLine``) at the configured rate.  Inbound and blend jobs receive callers at their
configured arrival rate (R8), and callbacks scheduled with ``AGTSetCallback`` come due at their time
(R7).

Everything that must survive a crash is returned as a store write: a record leaving the queue, every
finished attempt with its completion code, callbacks scheduled and delivered.  At start the dialer
resumes from the stored state: finished records are never dialed again, records that were in
progress go back to the queue, attempt counts and pending callbacks are kept.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections import deque
from typing import TYPE_CHECKING

import attrs

from agt_server.config import CallbackOwner, ContactRecord
from agt_server.protocol import CompletionCode, JobType

from ._calls import Call, CallKind
from ._events import Effect
from ._session import AgentState, Session
from ._writes import (
    CallbackDone,
    CallbackScheduled,
    RecordAttempt,
    RecordStarted,
    StoredCallback,
    StoredState,
)

if TYPE_CHECKING:
    from ._engine import Engine

__all__ = ["Dialer", "JobWork"]


@attrs.frozen
class _DialDue:
    conn: int
    token: int


@attrs.frozen
class _CustomerHangsUp:
    conn: int
    record_id: str


@attrs.frozen
class _PreviewTimeout:
    conn: int
    record_id: str


@attrs.frozen
class _InboundArrival:
    job: str


@attrs.frozen
class _CallbackDue:
    callback: StoredCallback


@attrs.frozen
class _RetryDue:
    job: str


_Timer = _DialDue | _CustomerHangsUp | _PreviewTimeout | _InboundArrival | _CallbackDue | _RetryDue


@attrs.define(eq=False)
class JobWork:
    """The records of one job with an outbound list, and where each one is."""

    records: dict[str, ContactRecord]
    queue: deque[str]
    retry: list[tuple[float, str]] = attrs.Factory(list)
    in_progress: set[str] = attrs.Factory(set)
    done: set[str] = attrs.Factory(set)
    attempts: dict[str, int] = attrs.Factory(dict)

    @property
    def outstanding(self) -> int:
        """Records not finished for good: the job's demand for agents."""
        return len(self.queue) + len(self.retry) + len(self.in_progress)

    def take(self, now: float) -> str | None:
        """The next record to dial: a due retry first, then the queue."""
        if self.retry and self.retry[0][0] <= now:
            record_id = heapq.heappop(self.retry)[1]
        elif self.queue:
            record_id = self.queue.popleft()
        else:
            return None
        self.in_progress.add(record_id)
        return record_id


class Dialer:
    """Records, timers and outcomes of every job (part of the engine: pure, time passed in)."""

    def __init__(
        self,
        engine: Engine,
        records: dict[str, tuple[ContactRecord, ...]],
        stored: StoredState,
        rng: random.Random,
    ) -> None:
        self.engine = engine
        self.rng = rng
        self.stored = stored
        self.work: dict[str, JobWork] = {}
        #: attempt numbers of dispositions on records the dialer does not dial (inbound callers)
        self._other_attempts: dict[tuple[str, str], int] = {}
        for name, job in engine.jobs.items():
            list_name = job.config.outbound_list
            if list_name is None or job.type is JobType.INBOUND or list_name not in records:
                continue  # nothing to dial: the job's demand is not limited by records
            by_id = {record.record_id: record for record in records.get(list_name, ())}
            done = set(stored.done.get(name, frozenset())) & by_id.keys()
            attempts = {rid: count for rid, count in stored.attempts.get(name, {}).items() if rid in by_id}
            queue = deque(rid for rid in by_id if rid not in done)
            self.work[name] = JobWork(by_id, queue, done=done, attempts=attempts)
        self.inbound_records: dict[str, tuple[ContactRecord, ...]] = {
            name: records.get(job.config.inbound_list, ()) if job.config.inbound_list else ()
            for name, job in engine.jobs.items()
        }
        self._inbound_next = dict.fromkeys(engine.jobs, 0)
        self._timers: list[tuple[float, int, _Timer]] = []
        self._sequence = itertools.count()
        self._dial_tokens: dict[int, int] = {}
        self._callback_ids = itertools.count(1)
        for callback in stored.callbacks:
            self._schedule(callback.due_at, _CallbackDue(callback))
        self._arrivals_started = False

    # -- demand ---------------------------------------------------------------------------------

    def demand(self, job: str) -> int | None:
        """How many agents the job can use for its remaining work (``None`` = no limit from work)."""
        work = self.work.get(job)
        return None if work is None else work.outstanding

    # -- timers ---------------------------------------------------------------------------------

    def _schedule(self, at: float, timer: _Timer) -> None:
        heapq.heappush(self._timers, (at, next(self._sequence), timer))

    def next_deadline(self) -> float | None:
        """When the next timer is due."""
        return self._timers[0][0] if self._timers else None

    def start(self, now: float, effects: list[Effect]) -> None:
        """Start the inbound arrival processes (once, at the first tick) and complete empty jobs."""
        if self._arrivals_started:
            return
        self._arrivals_started = True
        for name, job in self.engine.jobs.items():
            if job.config.dialing.inbound_rate > 0 and self.inbound_records[name]:
                self._schedule(now + self._arrival_gap(name), _InboundArrival(name))
        for name in sorted(self.work):
            self._check_dialed_out(name, now, effects)

    def run_due(self, now: float, effects: list[Effect]) -> None:
        """Fire every timer due at ``now``."""
        while self._timers and self._timers[0][0] <= now:
            _, _, timer = heapq.heappop(self._timers)
            match timer:
                case _DialDue(conn=conn, token=token):
                    self._dial(conn, token, now, effects)
                case _CustomerHangsUp(conn=conn, record_id=record_id):
                    self._customer_hangs_up(conn, record_id, effects)
                case _PreviewTimeout(conn=conn, record_id=record_id):
                    self._preview_timeout(conn, record_id, effects)
                case _InboundArrival(job=job):
                    self._inbound_arrival(job, now, effects)
                case _CallbackDue(callback=callback):
                    self._callback_due(callback, now, effects)
                case _RetryDue(job=job):
                    self._wake_ready_agents(job, now)

    # -- dialing --------------------------------------------------------------------------------

    def agent_ready(self, session: Session, now: float) -> None:
        """``session`` is ready on a job: schedule its next dial after the job's dial delay."""
        job = session.job
        if job is None or job not in self.work or not self.engine.jobs[job].running:
            return
        token = next(self._sequence)
        self._dial_tokens[session.conn] = token
        low, high = self.engine.jobs[job].config.dialing.dial_delay
        self._schedule(now + self.rng.uniform(low, high), _DialDue(session.conn, token))

    def _dial(self, conn: int, token: int, now: float, effects: list[Effect]) -> None:
        session = self.engine.sessions.get(conn)
        if session is None or self._dial_tokens.get(conn) != token:
            return
        del self._dial_tokens[conn]
        job = session.job
        if (
            job is None
            or job not in self.work
            or session.state is not AgentState.READY
            or not self.engine.jobs[job].running
        ):
            return
        work = self.work[job]
        record_id = work.take(now)
        if record_id is None:
            if work.retry:
                self._schedule(work.retry[0][0], _RetryDue(job))
            self._check_dialed_out(job, now, effects)
            return
        dialing = self.engine.jobs[job].config.dialing
        effects.append(RecordStarted(job, record_id, now))
        if self.rng.random() < dialing.answer_rate:
            self._connect(session, job, work.records[record_id], now, effects)
            return
        codes, weights = zip(*dialing.outcomes, strict=True)
        code = self.rng.choices(codes, weights)[0]
        self.record_outcome(job, record_id, code, None, now, effects)
        self.agent_ready(session, now)  # the agent is still ready: dial the next record

    def _connect(self, session: Session, job: str, record: ContactRecord, now: float, effects: list[Effect]) -> None:
        dialing = self.engine.jobs[job].config.dialing
        call = Call(job, CallKind.OUTBOUND, record.record_id, record.fields, customer=_customer(record))
        if self.engine.jobs[job].type is JobType.MANAGED:
            self.engine.switchboard.offer(session, call, now, effects, preview=True)
            self._schedule(now + dialing.preview_timeout, _PreviewTimeout(session.conn, record.record_id))
            return
        self.engine.switchboard.offer(session, call, now, effects)
        if self.rng.random() < dialing.hangup_rate:
            low, high = dialing.talk_time
            self._schedule(now + self.rng.uniform(low, high), _CustomerHangsUp(session.conn, record.record_id))

    def _customer_hangs_up(self, conn: int, record_id: str, effects: list[Effect]) -> None:
        session = self.engine.sessions.get(conn)
        if session is None or session.call is None or session.call.record_id != record_id or not session.line_open:
            return
        self.engine.switchboard.auto_release(session, effects)

    def _preview_timeout(self, conn: int, record_id: str, effects: list[Effect]) -> None:
        session = self.engine.sessions.get(conn)
        if session is None or session.call is None or session.call.record_id != record_id:
            return
        if session.previewing:
            self.engine.switchboard.place_managed_call(session, effects)

    def _wake_ready_agents(self, job: str, now: float) -> None:
        for conn in sorted(self.engine.attached.get(job, ())):
            session = self.engine.sessions.get(conn)
            if session is not None and session.state is AgentState.READY and conn not in self._dial_tokens:
                self.agent_ready(session, now)

    # -- outcomes ----------------------------------------------------------------------------

    def record_outcome(  # noqa: PLR0917 - the attempt's facts, all needed
        self,
        job: str,
        record_id: str,
        code: int,
        agent: str | None,
        now: float,
        effects: list[Effect],
        *,
        final: bool | None = None,
    ) -> None:
        """An attempt on ``record_id`` ended with ``code``: record it; retry it or finish it for good.

        An agent's completion code finishes the record (``final`` defaults to that); a dialer outcome
        finishes it only when its attempts are used up.
        """
        work = self.work.get(job)
        if work is None or record_id not in work.records:
            # An inbound caller (who may call again), or a record this engine does not dial: only the
            # disposition is kept, numbered after the ones before it.
            key = (job, record_id)
            attempt = self._other_attempts.get(key, self.stored.attempts.get(job, {}).get(record_id, 0)) + 1
            self._other_attempts[key] = attempt
            effects.append(RecordAttempt(job, record_id, attempt, code, agent, now, True))
            return
        work.in_progress.discard(record_id)
        attempt = work.attempts.get(record_id, 0) + 1
        work.attempts[record_id] = attempt
        max_attempts = self.engine.jobs[job].config.dialing.max_attempts
        if final is None:
            final = agent is not None or attempt >= max_attempts
        effects.append(RecordAttempt(job, record_id, attempt, code, agent, now, final))
        if final:
            work.done.add(record_id)
            _discard(work, record_id)
        elif record_id not in work.done:
            retry_at = now + self.engine.jobs[job].config.dialing.retry_delay
            heapq.heappush(work.retry, (retry_at, record_id))
            self._schedule(retry_at, _RetryDue(job))  # wakes agents already waiting for a record
        self._check_dialed_out(job, now, effects)
        self.engine.balancer.demand_fell()

    def agent_lost(self, session: Session, now: float, effects: list[Effect]) -> None:
        """The agent's session ended abnormally: its record is finished with OPDIED (49), as on PC."""
        call = session.call
        self._dial_tokens.pop(session.conn, None)
        if call is None:
            return
        work = self.work.get(call.job)
        attempt = (work.attempts.get(call.record_id, 0) if work is not None else 0) + 1
        max_attempts = self.engine.jobs[call.job].config.dialing.max_attempts
        self.record_outcome(
            call.job,
            call.record_id,
            int(CompletionCode.OPDIED),
            session.agent_name,
            now,
            effects,
            final=attempt >= max_attempts,
        )

    def _check_dialed_out(self, job: str, now: float, effects: list[Effect]) -> None:
        work = self.work[job]
        if work.outstanding == 0 and self.engine.jobs[job].running:
            self.engine.complete_job(job, now, effects)

    # -- inbound arrivals (R8) ----------------------------------------------------------------

    def _arrival_gap(self, job: str) -> float:
        rate = self.engine.jobs[job].config.dialing.inbound_rate
        return self.rng.expovariate(rate / 60.0)

    def _inbound_arrival(self, job: str, now: float, effects: list[Effect]) -> None:
        records = self.inbound_records[job]
        self._schedule(now + self._arrival_gap(job), _InboundArrival(job))
        if not records or not self.engine.jobs[job].running:
            return
        index = self._inbound_next[job]
        self._inbound_next[job] = (index + 1) % len(records)
        record = records[index]
        call = Call(job, CallKind.INBOUND, record.record_id, record.fields, customer=_customer(record))
        self.engine.switchboard.inbound_call(call, now, effects)

    # -- callbacks (R7) -----------------------------------------------------------------------

    def schedule_callback(  # noqa: PLR0917 - the callback's facts, all needed
        self, session: Session, due_at: float, phone: str, name: str, now: float, effects: list[Effect]
    ) -> StoredCallback:
        """Schedule a callback on ``session``'s open record (agent-owned unless the job says campaign)."""
        call = session.call
        assert call is not None and session.agent is not None
        owner_kind = self.engine.jobs[call.job].config.dialing.callback_owner
        owner = session.agent.name if owner_kind is CallbackOwner.AGENT else None
        return self.add_callback(call.job, call.record_id, due_at, owner, phone, name, now, effects)

    def add_callback(  # noqa: PLR0917 - the callback's facts, all needed
        self,
        job: str,
        record_id: str,
        due_at: float,
        owner: str | None,
        phone: str,
        name: str,
        now: float,
        effects: list[Effect],
    ) -> StoredCallback:
        """Schedule a callback on ``record_id`` of ``job`` (from an agent's AGTSetCallback or the REST API)."""
        callback = StoredCallback(
            f"cb{int(now * 1000)}-{next(self._callback_ids)}", job, record_id, due_at, owner, phone, name
        )
        effects.append(CallbackScheduled(callback.callback_id, job, record_id, due_at, owner, phone, name, now))
        self._schedule(due_at, _CallbackDue(callback))
        return callback

    def record(self, job: str, record_id: str) -> ContactRecord | None:
        """The record ``record_id`` of ``job``'s outbound list, if the dialer has it."""
        work = self.work.get(job)
        return work.records.get(record_id) if work is not None else None

    def _callback_due(self, callback: StoredCallback, now: float, effects: list[Effect]) -> None:
        work = self.work.get(callback.job)
        record = work.records.get(callback.record_id) if work is not None else None
        fields = record.fields if record is not None else ()
        customer = _customer(record) if record is not None else callback.name
        call = Call(callback.job, CallKind.CALLBACK, callback.record_id, fields, callback.owner, customer)
        effects.append(CallbackDone(callback.callback_id, now))
        self.engine.switchboard.callback_due(call, now, effects)


def _discard(work: JobWork, record_id: str) -> None:
    """Take a finished record out of the queue and the retries (a callback can finish a queued record)."""
    if record_id in work.queue:
        work.queue.remove(record_id)
    if any(entry[1] == record_id for entry in work.retry):
        work.retry = [entry for entry in work.retry if entry[1] != record_id]
        heapq.heapify(work.retry)


def _customer(record: ContactRecord) -> str:
    for name, value in record.fields:
        if name == "NAME":
            return value
    return record.record_id
