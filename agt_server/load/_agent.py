"""One simulated agent: logs on, gets work, handles calls, logs off, counting and timing everything.

The agent is a single task around one :class:`~agt_server.client.AgtClient`.  It never sleeps blindly:
every pause (talk, wrap-up, think, waiting for a call) is a wait on the session's notifications with a
deadline, so a notification is handled (and timed) the moment it arrives, except while a command of
the agent's own is in flight (then within that command's round trip).

What the agent does, in order (see :class:`~agt_server.load.Scenario` for the knobs):

1. connect, ``AGTLogon``, ``AGTReserveHeadset``, ``AGTConnHeadset``; ``AGTSetWorkClass`` and
   ``AGTSetPreferredJobList`` when the scenario has them;
2. ``AGTAttachJob`` + ``AGTAvailWork`` (attach mode), or ``AGTAvailWork`` alone, which in server
   assignment joins the job the server gave it, or asks for one (POM);
3. until the run's stop time: ``AGTReadyNextItem`` whenever it has a job and is not ready; on
   ``AGTCallNotify`` (or ``AGTPreviewRecord`` then ``AGTManagedCall``) talk, ``AGTReleaseLine`` (unless
   the customer hung up: ``AGTAutoReleaseLine``), wrap up, sometimes ``AGTSetCallback``, then
   ``AGTFinishedItem`` with a weighted code; follow ``AGTJobAssigned``/``AGTJobUnassigned`` (the server
   keeps its ready state across moves), and ``AGTJobTransLink``/``AGTJobTransRequest``/``AGTJobEnd``
   as a PC client does (detach, then attach the named job);
4. at the stop time: finish the call in hand, ``AGTNoFurtherWork`` and ``AGTDetachJob`` if on a job,
   ``AGTDisconnHeadset``, ``AGTFreeHeadset``, ``AGTLogoff``.

A refused command is an error, unless a server move crossed it: the server moved the agent (a move
notification arrived) between the command going out and its refusal coming back.  Those are counted
as races, not errors: any client meets them, and the agent simply carries on from its new state.
"""

from __future__ import annotations

import math
import random
import ssl
from collections.abc import Callable

import attrs
import trio

from agt_server.client import (
    DEFAULT_API_VERSION,
    SET_PREFERRED_JOB_LIST,
    AgtClient,
    AgtConnectionClosed,
    AgtConnectionError,
    Notification,
    Reply,
    open_agt_client,
)

from ._scenario import Scenario
from ._stats import Disruption, LoadStats

__all__ = ["SimulatedAgent"]

#: Notifications that change the agent's job, and so end a disruption's wait.
_MOVES = frozenset({"AGTJobAssigned", "AGTJobUnassigned", "AGTJobEnd", "AGTJobTransLink", "AGTJobTransRequest"})
#: Notifications that put a call in front of the agent.
_CALLS = frozenset({"AGTCallNotify", "AGTPreviewRecord"})
#: How long an agent waits before retrying a command refused for no reason it can see.
_BACK_OFF = 1.0
#: How many steps (leave the job, free the headset, log off) leaving may take, counting those repeated
#: because the server assigned the agent a job meanwhile.
_LEAVE_STEPS = 10
#: How long the last commands (logoff) may take before the agent gives up and closes the connection.
_LEAVE_TIMEOUT = 10.0


@attrs.define(eq=False)
class SimulatedAgent:
    """One agent of a load run.

    Attributes:
        number: the agent's number (its name, password and headset come from the scenario's patterns).
        job: the job the agent is on as far as it knows (from its commands and notifications).
        on_call: whether a call is in front of it (from the call notification to AGTFinishedItem).
        logged_on: whether it is logged on now.
        waiting: disruptions waiting for the move notification that answers them.
    """

    number: int
    scenario: Scenario
    stats: LoadStats
    stop_at: float
    rng: random.Random
    ssl_context: ssl.SSLContext | None = None
    job: str | None = None
    on_call: bool = False
    logged_on: bool = False
    waiting: list[ExpectedMove] = attrs.Factory(list)
    _client: AgtClient | None = None
    _ready: bool = False
    #: joined its job's work (AGTAvailWork answered); the server keeps this across its moves
    _working: bool = False
    _moves_seen: int = 0
    _last_refusal_raced: bool = False
    _leaving: bool = False
    _wait_scope: trio.CancelScope | None = None
    _had_job: bool = False
    _incoming: Notification | None = None
    _hung_up: bool = False
    _next_job: str | None = None

    @property
    def name(self) -> str:
        """The agent's name."""
        return self.scenario.agent_name(self.number)

    def stop_now(self) -> None:
        """Move the stop time to now (the run was interrupted): finish the call in hand, then log off."""
        self.stop_at = min(self.stop_at, trio.current_time())
        self._wake()

    def expect_move(self, disruption: Disruption, *, leaving: str | None = None, to: str | None = None) -> None:
        """Time ``disruption`` to this agent's move notification that answers it: the one taking it off
        job ``leaving``, or putting it on job ``to``, or (neither given) its next one."""
        self.waiting.append(ExpectedMove(disruption, self.on_call, leaving, to))

    def forget(self, disruption: Disruption) -> None:
        """Stop waiting for ``disruption`` (its request failed)."""
        self.waiting = [expected for expected in self.waiting if expected.disruption is not disruption]

    async def run(self) -> None:
        """Run the whole session; never raises for anything the server or the network does."""
        stats = self.stats
        stats.started += 1
        started = trio.current_time()
        try:
            async with open_agt_client(
                self.scenario.host,
                self.scenario.port,
                ssl_context=self.ssl_context,
                client_name=self.name[:20],
            ) as client:
                stats.connect.record(trio.current_time() - started)
                stats.connected += 1
                self._client = client
                await self._session()
        except AgtConnectionError as exc:
            stats.connect_failures[_short(str(exc))] += 1
        except AgtConnectionClosed:
            if self.logged_on:
                reason = self._client.close_reason if self._client is not None else None
                stats.disconnects[_short(reason or "the connection closed")] += 1
        except Exception as exc:
            # A bug of ours, or a reply the agent cannot read: this agent stops, the others go on.
            stats.failures[_short(f"{type(exc).__name__}: {exc}")] += 1
        finally:
            self.logged_on = False
            self.on_call = False
            if not self._had_job:
                stats.never_assigned += 1

    # -- the session -----------------------------------------------------------------------------

    async def _session(self) -> None:
        scenario = self.scenario
        logon = await self._command("AGTLogon", self.name, scenario.agent_password(self.number), DEFAULT_API_VERSION)
        if not logon.ok:
            return
        self.logged_on = True
        self.stats.logged_on += 1
        await self._command("AGTReserveHeadset", scenario.agent_headset(self.number))
        await self._command("AGTConnHeadset")
        if scenario.work_class is not None:
            await self._command("AGTSetWorkClass", scenario.work_class)
        if scenario.preferred is not None:
            await self._command(SET_PREFERRED_JOB_LIST, *scenario.preferred)
        if scenario.attach:
            await self._attach(scenario.attach[self.number % len(scenario.attach)])
        else:
            await self._avail_work()
        await self._work()
        if self.job is not None:
            self.stats.working_at_stop += 1
        else:
            self.stats.waiting_at_stop += 1
        await self._leave()

    async def _attach(self, job: str) -> None:
        if (await self._command("AGTAttachJob", job)).ok:
            self.job, self._had_job = job, True
            await self._avail_work()

    async def _avail_work(self) -> None:
        if (await self._command("AGTAvailWork")).ok:
            self._working = True

    async def _work(self) -> None:
        """Take calls until the stop time (a call in hand is always finished)."""
        while True:
            if self._incoming is not None:
                await self._work_call(self._incoming)
            elif self._next_job is not None:
                await self._follow_job_change()
            elif trio.current_time() >= self.stop_at:
                return
            elif self.job is not None and not self._working:
                await self._avail_work()
                if not self._working:
                    await self._wait(trio.current_time() + _BACK_OFF, self._interrupts_thinking)
            elif self.job is not None and not self._ready:
                await self._get_ready()
            else:
                await self._wait(math.inf, self._has_something_to_do)

    def _has_something_to_do(self) -> bool:
        return self._incoming is not None or self._next_job is not None or (self.job is not None and not self._ready)

    async def _get_ready(self) -> None:
        think = self.scenario.think.pick(self.rng)
        if think and await self._wait(trio.current_time() + think, self._interrupts_thinking):
            return
        reply = await self._command("AGTReadyNextItem")
        if reply.ok:
            self._ready = True
        elif not self._last_refusal_raced:
            await self._wait(trio.current_time() + _BACK_OFF, self._interrupts_thinking)

    def _interrupts_thinking(self) -> bool:
        return self._incoming is not None or self._next_job is not None or self.job is None

    async def _work_call(self, notice: Notification) -> None:
        self._incoming, self._ready, self.on_call, self._hung_up = None, False, True, False
        scenario, rng = self.scenario, self.rng
        if notice.keyword == "AGTPreviewRecord":
            kind = "PREVIEW"
            await self._wait(trio.current_time() + scenario.think.pick(rng), stoppable=False)
            await self._command("AGTManagedCall")
        else:
            kind = notice.first.segments[3] if len(notice.first.segments) > 3 else "OUTBOUND"
        self.stats.calls[kind] += 1
        # A call in hand runs its course even past the stop time (the drain time bounds it).
        await self._wait(trio.current_time() + scenario.talk.pick(rng), self._customer_hung_up, stoppable=False)
        if scenario.release and not self._hung_up:
            await self._command("AGTReleaseLine")
        await self._wait(trio.current_time() + scenario.wrap.pick(rng), stoppable=False)
        if kind == "OUTBOUND" and scenario.callback_rate and rng.random() < scenario.callback_rate:
            hours, minutes = divmod(round(scenario.callback_after / 60), 60)
            if (await self._command("AGTSetCallback", "", f"{hours:02}:{minutes:02}+", "1")).ok:
                self.stats.callbacks += 1
        if (await self._command("AGTFinishedItem", str(scenario.codes.pick(rng)))).ok:
            self.stats.finished += 1
        self.on_call = False

    def _customer_hung_up(self) -> bool:
        return self._hung_up

    async def _follow_job_change(self) -> None:
        """A PC job change (AGTJobTransLink/TransRequest, AGTJobEnd): detach, then attach the named job."""
        next_job, self._next_job = self._next_job, None
        self._ready = False
        if self.job is not None and (await self._command("AGTDetachJob")).ok:
            self.job, self._working = None, False
        if next_job and self.job is None:
            await self._attach(next_job)

    async def _leave(self) -> None:
        """Stop work and log off; if the server assigns a job meanwhile, leave that job and try again."""
        self._leaving = True
        with trio.move_on_after(_LEAVE_TIMEOUT + self.scenario.drain):
            headset_freed = False
            for _ in range(_LEAVE_STEPS):
                # The agent's job is only ever what the server last said: a move may cross any command here.
                self._drain_notifications()
                if self.job is not None:
                    if self._working:
                        await self._no_further_work()
                    if self.job is not None and (await self._command("AGTDetachJob")).ok:
                        self.job = None
                    continue
                if not headset_freed:
                    # Refused when a move crossed it (the agent is working again): the loop leaves that job first.
                    headset_freed = (await self._command("AGTDisconnHeadset")).ok and (
                        await self._command("AGTFreeHeadset")
                    ).ok
                    continue
                if (await self._command("AGTLogoff")).ok:
                    self.logged_on = False
                    self.stats.logged_off += 1
                    return
        # Out of steps or out of time: counted (as a failure), so that a CI gate does not pass over it.
        self.stats.failures["did not manage to log off (AGTLogoff kept being refused, or leaving timed out)"] += 1

    async def _no_further_work(self) -> None:
        """AGTNoFurtherWork, working any call that arrives before the server takes the agent off work.

        A server-assigned agent may be moved again meanwhile; the caller re-reads :attr:`job`.
        """
        done = trio.Event()
        closed: AgtConnectionClosed | None = None

        async def ask() -> None:
            try:
                if (await self._command("AGTNoFurtherWork")).ok:
                    self._working = False
            except AgtConnectionClosed:
                pass  # the working loop below sees the end of the connection too
            finally:
                done.set()
                if not self.on_call:
                    self._wake()  # the loop below waits for this; a call in hand is not cut short

        # Errors are caught inside the nursery so that the caller sees AgtConnectionClosed itself, not
        # an ExceptionGroup around it.
        async with trio.open_nursery() as nursery:
            nursery.start_soon(ask)
            try:
                while not done.is_set():
                    await self._wait(math.inf, lambda: done.is_set() or self._incoming is not None)
                    if self._incoming is not None:
                        await self._work_call(self._incoming)
            except AgtConnectionClosed as exc:
                closed = exc
                nursery.cancel_scope.cancel()
        if closed is not None:
            raise closed
        self._ready = False

    # -- commands and notifications --------------------------------------------------------------

    async def _command(self, keyword: str, *args: str) -> Reply:
        """Send one command, time it, and count a refusal as an error or a race."""
        assert self._client is not None
        moves_before, hung_up_before = self._moves_seen, self._hung_up
        sent = trio.current_time()
        reply = await self._client.command(keyword, *args, check=False)
        self.stats.command_latency(keyword).record(trio.current_time() - sent)
        if not reply.ok:
            # The refusal was written after every notification sent before it: a move that crossed the
            # command has been received by now (the reader queues notifications as they arrive).
            self._drain_notifications()
            code = reply.code or reply.response.type.value
            # A move crossed it, or the customer hung up while AGTReleaseLine was on its way (E28866).
            self._last_refusal_raced = self._moves_seen != moves_before or (
                keyword == "AGTReleaseLine" and self._hung_up and not hung_up_before
            )
            if self._last_refusal_raced:
                self.stats.races[keyword, code] += 1
            else:
                self.stats.errors[keyword, code] += 1
        return reply

    async def _wait(
        self, deadline: float, until: Callable[[], bool] | None = None, *, stoppable: bool = True
    ) -> bool:
        """Handle notifications until ``deadline`` (trio clock), ``until()`` holds, or (when ``stoppable``
        and not yet leaving) the stop time.

        Returns whether ``until()`` ended the wait.
        """
        assert self._client is not None
        queue = self._client.notifications
        # While leaving, the stop time has passed: only the deadline bounds the wait.
        bounded = stoppable and not self._leaving
        with trio.move_on_at(min(deadline, self.stop_at) if bounded else deadline) as self._wait_scope:
            while until is None or not until():
                try:
                    notice = await queue.receive()
                except trio.EndOfChannel:
                    raise AgtConnectionClosed(self._client.close_reason or "the connection closed") from None
                self._on_notification(notice)
        self._wait_scope = None
        return until is not None and until()

    def _wake(self) -> None:
        """End the current wait early (its condition changed for a reason other than a notification)."""
        if self._wait_scope is not None:
            self._wait_scope.cancel()

    def _drain_notifications(self) -> None:
        assert self._client is not None
        queue = self._client.notifications
        while True:
            try:
                notice = queue.receive_nowait()
            except trio.WouldBlock:
                return
            except trio.EndOfChannel:
                raise AgtConnectionClosed(self._client.close_reason or "the connection closed") from None
            self._on_notification(notice)

    def _on_notification(self, notice: Notification) -> None:
        keyword = notice.keyword
        self.stats.notifications[keyword] += 1
        if keyword in _MOVES:
            self._moved(notice)
        elif keyword in _CALLS:
            self._incoming = notice
        elif keyword == "AGTAutoReleaseLine":
            self._hung_up = True
            self.stats.hangups += 1

    def _moved(self, notice: Notification) -> None:
        self._moves_seen += 1
        keyword, records = notice.keyword, notice.records
        target = records[0] if records else None
        if self.waiting:
            now, still_waiting = trio.current_time(), []
            for expected in self.waiting:
                if expected.answered_by(keyword, self.job, target):
                    disruption = expected.disruption
                    histogram = disruption.after_call if expected.on_call else disruption.latency
                    histogram.record(now - disruption.sent_at)
                else:
                    still_waiting.append(expected)
            self.waiting = still_waiting
        if keyword == "AGTJobAssigned":
            self.job, self._had_job = target, True
            self.stats.moves[records[1] if len(records) > 1 else "?"] += 1
        elif keyword == "AGTJobUnassigned":
            self.job = None
            self.stats.moves[records[1] if len(records) > 1 else "?"] += 1
        else:
            # AGTJobEnd (the job ended: detach and wait for the run to end), AGTJobTransLink and
            # AGTJobTransRequest (go to the named job, as a PC client does).  Either way the server has
            # stopped the agent's work, as AGTNoFurtherWork would (protocol_spec.md §10.4).
            self._ready = self._working = False
            self._next_job = "" if keyword == "AGTJobEnd" else (target or "")


@attrs.frozen
class ExpectedMove:
    """A disruption an agent waits to hear of, and which move notification answers it."""

    disruption: Disruption
    on_call: bool
    leaving: str | None
    to: str | None

    def answered_by(self, keyword: str, previous_job: str | None, target: str | None) -> bool:
        """Whether the move ``keyword`` (to or off ``target``) of an agent that was on ``previous_job``
        answers this disruption."""
        if self.leaving is not None:
            return previous_job == self.leaving and not (keyword == "AGTJobAssigned" and target == self.leaving)
        if self.to is not None:
            return keyword == "AGTJobAssigned" and target == self.to
        return True


def _short(reason: str) -> str:
    """A reason short enough for a report line."""
    return reason if len(reason) <= 100 else reason[:97] + "..."
