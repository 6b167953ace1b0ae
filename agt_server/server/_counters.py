"""Counters of what the server does, for ``GET /metrics``: cheap enough to bump on every message.

The driver and the connections bump them; the supervisor API reads them.  Label sets are bounded: a
command keyword the protocol does not know is counted as ``other``, so a client sending garbage
keywords cannot grow the table.
"""

from __future__ import annotations

from collections import Counter

import attrs

from agt_server.engine import Effect, RecordAttempt, Send
from agt_server.protocol import COMMANDS

__all__ = ["UNKNOWN_KEYWORD", "Counters"]

#: The label of commands whose keyword is not an AGT command.
UNKNOWN_KEYWORD = "other"
#: The notifications that put a call in front of an agent.
_CALL_NOTICES = frozenset({"AGTCallNotify", "AGTPreviewRecord"})
#: The notifications of the server's assignment moves (``0 M00001 <job> <reason>``).
_MOVE_NOTICES = frozenset({"AGTJobAssigned", "AGTJobUnassigned"})


@attrs.define(eq=False)
class Counters:
    """Totals since the server started.

    Attributes:
        commands: commands received, by keyword.
        calls_delivered: calls and previews put in front of an agent.
        dispositions: records an agent finished with a completion code.
        moves: the server's assignment notices (AGTJobAssigned / AGTJobUnassigned), by reason.
        rebalances: full rebalances run; ``rebalance_seconds`` is their total duration and
            ``last_rebalance_seconds`` the latest one's.
    """

    commands: Counter[str] = attrs.Factory(Counter)
    calls_delivered: int = 0
    dispositions: int = 0
    moves: Counter[str] = attrs.Factory(Counter)
    rebalances: int = 0
    rebalance_seconds: float = 0.0
    last_rebalance_seconds: float = 0.0

    def command(self, keyword: str) -> None:
        """Count one command received."""
        self.commands[keyword if keyword in COMMANDS else UNKNOWN_KEYWORD] += 1

    def effect(self, effect: Effect) -> None:
        """Count what ``effect`` stands for, if anything."""
        match effect:
            case Send(message=message):
                keyword = message.keyword
                if keyword in _CALL_NOTICES:
                    # A call notice ends with "0 M00000" however many parts its data took.
                    if message.segments == ("0", "M00000"):
                        self.calls_delivered += 1
                elif keyword in _MOVE_NOTICES and len(message.segments) == 4:
                    self.moves[message.segments[3]] += 1
            case RecordAttempt(agent=agent) if agent is not None:
                self.dispositions += 1
            case _:
                pass

    def rebalanced(self, seconds: float) -> None:
        """Count one full rebalance that took ``seconds``."""
        self.rebalances += 1
        self.rebalance_seconds += seconds
        self.last_rebalance_seconds = seconds
