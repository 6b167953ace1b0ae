"""Logon checks the shell does before the engine sees an AGTLogon: throttling and password verification.

Password hashes are deliberately slow (scrypt), so they are verified in a worker thread, never on the
event loop; a failed-logon throttle per agent name and per client address stops guessing (and stops a
flood of logons from burning the CPU on hashes).
"""

from __future__ import annotations

from collections import deque

import attrs
import trio

from agt_server.config import LogonThrottleConfig, PasswordVerifier, hash_password

__all__ = ["LogonGate", "LogonThrottle"]

#: Verifications running at once; the machine has two cores and the event loop needs one.
_VERIFY_THREADS = 2


@attrs.define(eq=False)
class LogonThrottle:
    """Counts failed logons per key (an agent name, a client address) and locks a key out for a while
    after too many.  Pure: time is passed in."""

    config: LogonThrottleConfig
    _failures: dict[str, deque[float]] = attrs.field(factory=dict, init=False)
    _locked_until: dict[str, float] = attrs.field(factory=dict, init=False)

    def allowed(self, keys: tuple[str, ...], now: float) -> bool:
        """Whether a logon for all of ``keys`` may be tried at ``now``."""
        return all(self._locked_until.get(key, 0.0) <= now for key in keys)

    def record_failure(self, keys: tuple[str, ...], now: float) -> None:
        """Count a failed logon against each of ``keys``; lock out those over the limit."""
        for key in keys:
            recent = self._failures.setdefault(key, deque())
            recent.append(now)
            while recent and recent[0] <= now - self.config.window:
                recent.popleft()
            if len(recent) >= self.config.max_failures:
                self._locked_until[key] = now + self.config.lockout
                recent.clear()

    def record_success(self, keys: tuple[str, ...]) -> None:
        """Forget the failures of ``keys`` after a successful logon."""
        for key in keys:
            self._failures.pop(key, None)


@attrs.define(eq=False)
class LogonGate:
    """Decides whether an AGTLogon's credentials are good, off the event loop.

    Args:
        password_hashes: each configured agent's password hash, by name.
        throttle: the failed-logon throttle.
    """

    password_hashes: dict[str, str]
    throttle: LogonThrottle
    _verifier: PasswordVerifier = attrs.field(factory=PasswordVerifier, init=False)
    _limiter: trio.CapacityLimiter = attrs.field(factory=lambda: trio.CapacityLimiter(_VERIFY_THREADS), init=False)
    # Unknown agents are checked against this hash so that a wrong name costs as much as a wrong password.
    _decoy_hash: str = attrs.field(factory=lambda: hash_password("decoy", cost=10), init=False)

    async def check(self, agent_name: str, password: str, address: str) -> bool:
        """Whether ``agent_name`` may log on with ``password`` from ``address`` (throttled)."""
        keys = (f"agent:{agent_name}", f"address:{address}")
        if not self.throttle.allowed(keys, trio.current_time()):
            return False
        stored = self.password_hashes.get(agent_name)
        good = await trio.to_thread.run_sync(
            self._verifier.verify, stored or self._decoy_hash, password, limiter=self._limiter
        )
        good = good and stored is not None
        if good:
            self.throttle.record_success(keys)
        else:
            self.throttle.record_failure(keys, trio.current_time())
        return good
