"""Invoke ids: the server echoes a command's id in every P, D and R that answers it.

The header field is four characters wide, so ids run 1..9999 and then start over (go-apc refuses
longer ids; an unbounded counter would overflow the header after 9999 commands).  An id whose
command is still waiting for its final ``R`` is skipped, so two commands in flight never share one.
``0`` is never used: it is the invoke id of notifications.
"""

from __future__ import annotations

from collections.abc import Container

import attrs

__all__ = ["MAX_INVOKE_ID", "InvokeIds"]

MAX_INVOKE_ID = 9999


@attrs.define(eq=False)
class InvokeIds:
    """A cycling allocator of invoke ids ``"1"`` .. ``"9999"``."""

    _last: int = 0

    def allocate(self, in_flight: Container[str]) -> str:
        """The next id after the last one allocated that is not in ``in_flight``.

        Raises:
            RuntimeError: all 9999 ids are in flight.
        """
        for _ in range(MAX_INVOKE_ID):
            self._last = self._last % MAX_INVOKE_ID + 1
            candidate = str(self._last)
            if candidate not in in_flight:
                return candidate
        raise RuntimeError(f"all {MAX_INVOKE_ID} invoke ids are in flight")
