"""Which move notification answers a supervisor action, for timing it (agt_server/load/_agent.py)."""

from __future__ import annotations

import pytest

from agt_server.load import Disruption
from agt_server.load._agent import ExpectedMove

PAUSE = ExpectedMove(Disruption("pause CMP1 @1s", 0.0), on_call=False, leaving="CMP1", to=None)
MOVE = ExpectedMove(Disruption("move 1 agents -> CMP2 @1s", 0.0), on_call=False, leaving=None, to="CMP2")
PREFERRED = ExpectedMove(Disruption("preferred 1 agents -> [CMP3] @1s", 0.0), on_call=False, leaving=None, to=None)


@pytest.mark.parametrize(
    ("expected", "keyword", "previous", "target", "answered"),
    [
        # A pause is answered by whatever takes the agent off the paused job ...
        (PAUSE, "AGTJobAssigned", "CMP1", "CMP2", True),
        (PAUSE, "AGTJobUnassigned", "CMP1", "CMP1", True),
        (PAUSE, "AGTJobEnd", "CMP1", None, True),
        # ... not by a move that happened elsewhere, or back onto it.
        (PAUSE, "AGTJobAssigned", "CMP3", "CMP2", False),
        (PAUSE, "AGTJobAssigned", None, "CMP1", False),
        # A move (or a resume) is answered by being put on the target job only.
        (MOVE, "AGTJobAssigned", "CMP1", "CMP2", True),
        (MOVE, "AGTJobAssigned", "CMP1", "CMP3", False),
        (MOVE, "AGTJobUnassigned", "CMP1", "CMP1", False),
        # A new preferred list: the next move, whatever it is.
        (PREFERRED, "AGTJobUnassigned", "CMP1", "CMP1", True),
        (PREFERRED, "AGTJobAssigned", None, "CMP3", True),
    ],
)
def test_answered_by(
    expected: ExpectedMove, keyword: str, previous: str | None, target: str | None, answered: bool
) -> None:
    """Each action kind is timed to the notification that is its effect, not to any later move."""
    assert expected.answered_by(keyword, previous, target) is answered
