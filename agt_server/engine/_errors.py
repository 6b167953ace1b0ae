"""The engine's one error: a command it refuses, carrying the reply to send."""

from __future__ import annotations

from agt_server.protocol import ErrorCode

__all__ = ["CommandRejected"]


class CommandRejected(Exception):
    """A command's precondition failed; the agent gets ``R 1 <code>[,detail]`` plus any extra segments.

    Attributes:
        code: the error code.
        inline_detail: detail comma-appended to the code (``E28865,AGTFoo``).
        extra: further segments after the code (``E28805`` then the job name).
    """

    def __init__(self, code: ErrorCode, inline_detail: str = "", *extra: str) -> None:
        super().__init__(f"{code.value}: {code.meaning}" + (f" ({inline_detail})" if inline_detail else ""))
        self.code = code
        self.inline_detail = inline_detail
        self.extra = extra

    @property
    def segments(self) -> tuple[str, ...]:
        """The reply's segments: ``1``, the code (with inline detail), then the extra segments."""
        code = f"{self.code.value},{self.inline_detail}" if self.inline_detail else self.code.value
        return ("1", code, *self.extra)
