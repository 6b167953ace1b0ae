"""agt-load raises its open-file limit for the agents it runs, and says when it cannot.

Each case runs in a child process whose limits are set before it starts, so this process's own
limits are never touched.
"""

from __future__ import annotations

import resource
import subprocess
import sys

_PROBE = "from agt_server.load import raise_open_file_limit; print(raise_open_file_limit(1000))"


def _probe(soft: int, hard: int) -> str:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))

    done = subprocess.run(
        [sys.executable, "-c", _PROBE], preexec_fn=limit, capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout.strip()


def test_raises_the_soft_limit_up_to_what_the_run_needs() -> None:
    """1,000 agents need 1,064 descriptors: a soft limit of 256 under a high hard limit is raised to that."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert _probe(256, hard) == "raised the open-file limit from 256 to 1064"


def test_says_so_when_the_hard_limit_is_too_low() -> None:
    """A hard limit below the need is reached, and the message says what to do."""
    message = _probe(256, 512)
    assert message.startswith("warning: the open-file limit can only be raised to 512 (the hard limit)")
    assert "1064" in message


def test_quiet_when_the_limit_is_high_enough() -> None:
    """Nothing is changed or said when the limit already fits the run."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert _probe(2000, hard) == "None"
