"""Bearer tokens and what each role may do.

Roles: an admin may do everything; a supervisor reads everything except agents outside its groups, and
steers its groups' agents (and campaigns, with ``campaign_control``); a viewer only reads.  The
operation's :class:`Access` says what it needs; :meth:`Principal.check` refuses with 403 and a detail
that says why.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterable

import attrs

from agt_server.config import TokenConfig, TokenRole

from ._problems import ProblemError

__all__ = ["Access", "Principal", "TokenTable"]

_CHALLENGE = 'Bearer realm="agt_server"'


class Access(enum.Enum):
    """What an operation needs."""

    PUBLIC = "public"  #: nothing: no token
    READ = "read"  #: any token
    WRITE = "write"  #: an admin or supervisor token (a supervisor: only for its groups' agents)
    CAMPAIGN_CONTROL = "campaign_control"  #: an admin token, or a supervisor token with campaign_control


@attrs.frozen
class Principal:
    """Who sent a request: a configured token."""

    name: str
    role: TokenRole
    groups: frozenset[str] = frozenset()
    campaign_control: bool = False

    @classmethod
    def from_config(cls, token: TokenConfig) -> Principal:
        """The principal of a configured token."""
        return cls(token.name, token.role, token.groups, token.campaign_control)

    def check(self, access: Access) -> None:
        """Refuse (403) unless this principal may perform an operation needing ``access``."""
        if access in (Access.PUBLIC, Access.READ) or self.role is TokenRole.ADMIN:
            return
        if self.role is TokenRole.VIEWER:
            raise ProblemError(403, f"token {self.name!r} is a viewer token: it may only read")
        if access is Access.CAMPAIGN_CONTROL and not self.campaign_control:
            raise ProblemError(
                403, f"token {self.name!r} may not control campaigns, callbacks or inbound calls (no campaign_control)"
            )

    def sees_group(self, group: str) -> bool:
        """Whether this principal may see and steer agents of ``group``."""
        return self.role is not TokenRole.SUPERVISOR or group in self.groups

    def check_group(self, agent: str, group: str) -> None:
        """Refuse (403) access to ``agent`` of ``group`` outside a supervisor's groups."""
        if not self.sees_group(group):
            groups = ", ".join(sorted(self.groups))
            raise ProblemError(
                403, f"{agent} is in group {group!r}; token {self.name!r} may only see agents of {groups}"
            )


@attrs.define(eq=False)
class TokenTable:
    """The configured tokens, looked up by their SHA-256 digest (no comparison time leaks a token's text)."""

    _by_digest: dict[bytes, Principal]

    @classmethod
    def from_config(cls, tokens: Iterable[TokenConfig]) -> TokenTable:
        """A table of ``tokens``."""
        return cls({_digest(token.token): Principal.from_config(token) for token in tokens})

    def authenticate(self, authorization: str | None, query_token: str | None = None) -> Principal:
        """The principal of an ``Authorization: Bearer`` header (or, where allowed, a ``token`` query parameter).

        Raises:
            ProblemError: 401 with ``WWW-Authenticate: Bearer``: no token, another scheme, or an unknown token.
        """
        token = query_token
        if authorization is not None:
            scheme, _, credentials = authorization.strip().partition(" ")
            if scheme.lower() != "bearer" or not credentials.strip():
                raise ProblemError(
                    401,
                    "the Authorization header must be 'Bearer <token>'",
                    headers={"WWW-Authenticate": f'{_CHALLENGE}, error="invalid_request"'},
                )
            token = credentials.strip()
        if token is None:
            raise ProblemError(
                401,
                "this request needs a token: Authorization: Bearer <token>",
                headers={"WWW-Authenticate": _CHALLENGE},
            )
        principal = self._by_digest.get(_digest(token))
        if principal is None:
            raise ProblemError(
                401, "the token is not valid", headers={"WWW-Authenticate": f'{_CHALLENGE}, error="invalid_token"'}
            )
        return principal


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).digest()
