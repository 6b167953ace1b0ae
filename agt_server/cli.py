"""The ``agt-server`` command."""

from __future__ import annotations

import sys

from agt_server import __version__


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``agt-server``; returns the process exit status."""
    del argv
    print(f"agt-server {__version__}: the protocol codec is built; the server itself is not yet.", file=sys.stderr)
    return 0
