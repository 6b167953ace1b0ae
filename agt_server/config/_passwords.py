"""Agent passwords: scrypt hashes, and a verifier that does not pay scrypt twice for the same logon.

A stored hash reads ``scrypt$<cost>$<r>$<p>$<salt>$<key>``: scrypt with ``n = 2**cost``, block size
``r`` and parallelism ``p``, then the salt and the derived key in standard base64.  The parameters
travel with the hash so that a site can raise the cost later without invalidating old hashes.

Why a cache: scrypt is slow on purpose (about 50 ms and 16 MiB at the default cost 14), which is right
for one logon and wrong for a load test or a shift change where thousands of agents log on within
seconds, often with one shared password.  :class:`PasswordVerifier` remembers successful verifications,
so each distinct (hash, password) pair costs a single scrypt per process.  Failures are never cached:
a wrong password always costs the full scrypt, which is what slows down guessing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import threading

__all__ = ["PasswordVerifier", "check_hash_format", "hash_password", "verify_password"]

#: The identifier that opens every stored hash.
_ALGORITHM = "scrypt"
#: The default cost: n = 2**14 with r = 8 needs 16 MiB and about 50 ms, OWASP's recommended minimum.
DEFAULT_COST = 14
#: Block size and parallelism written by :func:`hash_password` (the usual scrypt choices).
_R = 8
_P = 1
_SALT_BYTES = 16
_KEY_BYTES = 32
#: Bounds accepted when reading a hash.  The upper cost keeps one verification under about 1 GiB of
#: memory (128 * r * n bytes); anything beyond that is a typo or an attack on the server's memory.
_MIN_COST, _MAX_COST = 1, 20
_MAX_R, _MAX_P = 32, 16
_MAX_MEMORY = 1 << 30
_MIN_SALT_BYTES = 8
_MIN_KEY_BYTES, _MAX_KEY_BYTES = 16, 64
_FORMAT = "scrypt$<cost>$<r>$<p>$<salt>$<key>"


def hash_password(password: str, *, cost: int = DEFAULT_COST) -> str:
    """Hash ``password`` for storage in the site configuration.

    Args:
        password: the password in clear.
        cost: scrypt's work factor, ``n = 2**cost``; each step up doubles time and memory.  Use the
            default for real sites; only the demo uses less.

    Returns:
        ``scrypt$<cost>$8$1$<salt>$<key>`` with a fresh 16-byte random salt and a 32-byte key, so hashing
        the same password twice gives two different strings that both verify.

    Raises:
        ValueError: ``cost`` is outside 1 to 20.
    """
    if isinstance(cost, bool) or not isinstance(cost, int) or not _MIN_COST <= cost <= _MAX_COST:
        raise ValueError(f"cost must be an integer from {_MIN_COST} to {_MAX_COST}, got {cost!r}")
    salt = secrets.token_bytes(_SALT_BYTES)
    key = _scrypt(password, salt, cost=cost, r=_R, p=_P, length=_KEY_BYTES)
    return "$".join((_ALGORITHM, str(cost), str(_R), str(_P), _b64(salt), _b64(key)))


def verify_password(stored_hash: str, password: str) -> bool:
    """Tell whether ``password`` is the one ``stored_hash`` was made from.

    Always runs the full scrypt (see :class:`PasswordVerifier` for the cached variant); the final
    comparison takes the same time wherever the keys differ.

    Raises:
        ValueError: ``stored_hash`` is malformed (the message says how, see :func:`check_hash_format`).
    """
    cost, r, p, salt, key = _parse(stored_hash)
    return hmac.compare_digest(_scrypt(password, salt, cost=cost, r=r, p=p, length=len(key)), key)


def check_hash_format(stored_hash: str) -> None:
    """Check that ``stored_hash`` is a hash :func:`verify_password` can use, without verifying anything.

    The configuration loader calls this so a broken hash fails at start-up, not at the agent's first
    logon.  Messages never repeat the hash's text: a site that pasted a clear password into the
    ``password_hash`` field should not see it echoed in logs.

    Raises:
        ValueError: with a message saying what is wrong.
    """
    _parse(stored_hash)


class PasswordVerifier:
    """:func:`verify_password` with a memory of successful verifications.

    The cache maps ``(stored_hash, HMAC-SHA256(password))`` to nothing: presence means "verified".
    The password digest is keyed with a random per-verifier secret rather than a bare SHA-256, so the
    cache never holds a value that could be attacked offline faster than the scrypt hash itself.  The
    cache is bounded; when it is full the oldest entry goes, which only costs one more scrypt later.

    Thread safety: :meth:`verify` may run in worker threads (``trio.to_thread.run_sync``) concurrently.
    scrypt runs outside the lock; two threads verifying the same new pair both compute it once, which
    is harmless.
    """

    def __init__(self, max_entries: int = 100_000) -> None:
        """Create an empty verifier remembering at most ``max_entries`` successful verifications."""
        if max_entries < 1:
            raise ValueError(f"max_entries must be at least 1, got {max_entries}")
        self._max_entries = max_entries
        self._secret = secrets.token_bytes(32)
        # A dict keeps insertion order, which makes it a cheap FIFO: the first key is the oldest.
        self._verified: dict[tuple[str, bytes], None] = {}
        self._lock = threading.Lock()

    def verify(self, stored_hash: str, password: str) -> bool:
        """Tell whether ``password`` matches ``stored_hash``, running scrypt only for an unseen pair.

        Raises:
            ValueError: ``stored_hash`` is malformed.
        """
        cache_key = (stored_hash, hmac.digest(self._secret, _encode(password), "sha256"))
        if cache_key in self._verified:
            return True
        if not verify_password(stored_hash, password):
            return False
        with self._lock:
            while len(self._verified) >= self._max_entries:
                del self._verified[next(iter(self._verified))]
            self._verified[cache_key] = None
        return True

    def __len__(self) -> int:
        """The number of remembered verifications."""
        return len(self._verified)


def _parse(stored_hash: str) -> tuple[int, int, int, bytes, bytes]:
    """Split a stored hash into ``(cost, r, p, salt, key)``, raising ``ValueError`` if it is malformed."""
    parts = stored_hash.split("$")
    if len(parts) != 6 or parts[0] != _ALGORITHM:
        raise ValueError(f"not a password hash: expected {_FORMAT!r} as `agt-server hash-password` prints it")
    cost = _parse_int(parts[1], "cost", _MIN_COST, _MAX_COST)
    r = _parse_int(parts[2], "r", 1, _MAX_R)
    p = _parse_int(parts[3], "p", 1, _MAX_P)
    if 128 * r * (2**cost) > _MAX_MEMORY:
        raise ValueError(f"password hash needs more than 1 GiB of memory (cost {cost}, r {r})")
    salt = _parse_b64(parts[4], "salt")
    key = _parse_b64(parts[5], "key")
    if len(salt) < _MIN_SALT_BYTES:
        raise ValueError(f"password hash salt must be at least {_MIN_SALT_BYTES} bytes, got {len(salt)}")
    if not _MIN_KEY_BYTES <= len(key) <= _MAX_KEY_BYTES:
        raise ValueError(f"password hash key must be {_MIN_KEY_BYTES} to {_MAX_KEY_BYTES} bytes, got {len(key)}")
    return cost, r, p, salt, key


def _parse_int(text: str, name: str, low: int, high: int) -> int:
    # isdecimal() rejects signs, spaces and underscores, which int() would accept.
    if not (text.isascii() and text.isdecimal()) or not low <= int(text) <= high:
        raise ValueError(f"password hash {name} must be an integer from {low} to {high}")
    return int(text)


def _parse_b64(text: str, name: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error):
        raise ValueError(f"password hash {name} is not valid base64") from None


def _scrypt(password: str, salt: bytes, *, cost: int, r: int, p: int, length: int) -> bytes:
    n = 2**cost
    # OpenSSL refuses anything above 32 MiB unless told otherwise; give it what the parameters need
    # (128 * r * n for the main array, plus p blocks and slack for its bookkeeping).
    maxmem = 128 * r * (n + p + 2) + (1 << 20)
    return hashlib.scrypt(_encode(password), salt=salt, n=n, r=r, p=p, maxmem=maxmem, dklen=length)


def _encode(password: str) -> bytes:
    # surrogatepass: any Python str hashes, even one with lone surrogates, instead of raising mid-logon.
    return password.encode("utf-8", "surrogatepass")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
