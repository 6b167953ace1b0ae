"""Tests for password hashing, verification and the verification cache."""

from __future__ import annotations

import base64
import hashlib
import threading

import pytest

from agt_server.config import PasswordVerifier, check_hash_format, hash_password, verify_password

# The lowest cost keeps these tests fast; the format and the logic do not depend on it.
FAST = 1
SALT = base64.b64encode(b"s" * 16).decode()
KEY = base64.b64encode(b"k" * 32).decode()
KEY_8 = base64.b64encode(b"k" * 8).decode()
KEY_65 = base64.b64encode(b"k" * 65).decode()
NOT_A_HASH = (
    "not a password hash: expected 'scrypt$<cost>$<r>$<p>$<salt>$<key>' as `agt-server hash-password` prints it"
)


@pytest.fixture
def scrypt_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count hashlib.scrypt calls (one list item per call) while still computing the real result."""
    calls: list[int] = []
    real_scrypt = hashlib.scrypt

    def counting_scrypt(*args: object, **kwargs: object) -> bytes:
        calls.append(1)
        return real_scrypt(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(hashlib, "scrypt", counting_scrypt)
    return calls


class TestHashPassword:
    def test_format(self) -> None:
        """The hash reads scrypt$<cost>$8$1$<16-byte salt>$<32-byte key> in standard base64."""
        algorithm, cost, r, p, salt, key = hash_password("secret", cost=FAST).split("$")
        assert (algorithm, cost, r, p) == ("scrypt", "1", "8", "1")
        assert len(base64.b64decode(salt, validate=True)) == 16
        assert len(base64.b64decode(key, validate=True)) == 32

    def test_default_cost_is_14(self, scrypt_calls: list[int]) -> None:
        """Without a cost argument the hash uses cost 14, i.e. n = 2**14."""
        assert hash_password("secret").startswith("scrypt$14$8$1$")
        assert len(scrypt_calls) == 1

    def test_fresh_salt_each_time(self) -> None:
        """Hashing the same password twice gives two different hashes."""
        assert hash_password("secret", cost=FAST) != hash_password("secret", cost=FAST)

    @pytest.mark.parametrize("cost", [0, 21, -1])
    def test_cost_out_of_range(self, cost: int) -> None:
        """A cost outside 1 to 20 is refused before any hashing."""
        with pytest.raises(ValueError, match=f"cost must be an integer from 1 to 20, got {cost}"):
            hash_password("secret", cost=cost)


class TestVerifyPassword:
    @pytest.mark.parametrize("password", ["secret", "", "pässwörd ✓", "a" * 1000, "with space", "\udcff"])
    def test_round_trip(self, password: str) -> None:
        """A password verifies against its own hash, whatever characters it holds."""
        assert verify_password(hash_password(password, cost=FAST), password)

    @pytest.mark.parametrize("attempt", ["Secret", "secret ", "", "secre", "secrett"])
    def test_wrong_password(self, attempt: str) -> None:
        """Any other password does not verify."""
        assert not verify_password(hash_password("secret", cost=FAST), attempt)

    def test_known_vector(self) -> None:
        """Verification follows the documented parameters, so a hash built by hand with hashlib verifies."""
        salt = b"0123456789abcdef"
        key = hashlib.scrypt(b"agent1", salt=salt, n=2**4, r=8, p=1, dklen=32)
        stored = f"scrypt$4$8$1${base64.b64encode(salt).decode()}${base64.b64encode(key).decode()}"
        assert verify_password(stored, "agent1")
        assert not verify_password(stored, "agent2")

    def test_stored_parameters_are_used(self) -> None:
        """r, p and the key length are read from the hash, not assumed."""
        salt = b"saltsalt"
        key = hashlib.scrypt(b"pw", salt=salt, n=2**3, r=4, p=2, dklen=24)
        stored = f"scrypt$3$4$2${base64.b64encode(salt).decode()}${base64.b64encode(key).decode()}"
        assert verify_password(stored, "pw")

    def test_malformed_hash_raises(self) -> None:
        """Verifying against a malformed hash raises ValueError rather than answering False."""
        with pytest.raises(ValueError, match="not a password hash"):
            verify_password("secret", "secret")


class TestCheckHashFormat:
    def test_accepts_generated_hash(self) -> None:
        """A hash made by hash_password passes."""
        check_hash_format(hash_password("secret", cost=FAST))

    @pytest.mark.parametrize(
        ("stored", "message"),
        [
            ("", NOT_A_HASH),
            ("hunter2", NOT_A_HASH),
            (f"bcrypt$14$8$1${SALT}${KEY}", NOT_A_HASH),
            (f"scrypt$14$8$1${SALT}", NOT_A_HASH),
            (f"scrypt$14$8$1${SALT}${KEY}$", NOT_A_HASH),
            (f"scrypt$x$8$1${SALT}${KEY}", "password hash cost must be an integer from 1 to 20"),
            (f"scrypt$0$8$1${SALT}${KEY}", "password hash cost must be an integer from 1 to 20"),
            (f"scrypt$21$8$1${SALT}${KEY}", "password hash cost must be an integer from 1 to 20"),
            (f"scrypt$+4$8$1${SALT}${KEY}", "password hash cost must be an integer from 1 to 20"),
            (f"scrypt$ 4$8$1${SALT}${KEY}", "password hash cost must be an integer from 1 to 20"),
            (f"scrypt$14$0$1${SALT}${KEY}", "password hash r must be an integer from 1 to 32"),
            (f"scrypt$14$33$1${SALT}${KEY}", "password hash r must be an integer from 1 to 32"),
            (f"scrypt$14$8$0${SALT}${KEY}", "password hash p must be an integer from 1 to 16"),
            (f"scrypt$14$8$17${SALT}${KEY}", "password hash p must be an integer from 1 to 16"),
            (f"scrypt$20$16$1${SALT}${KEY}", "password hash needs more than 1 GiB of memory (cost 20, r 16)"),
            (f"scrypt$14$8$1$not*base64${KEY}", "password hash salt is not valid base64"),
            (f"scrypt$14$8$1$sälz${KEY}", "password hash salt is not valid base64"),
            (f"scrypt$14$8$1${SALT}$abc", "password hash key is not valid base64"),
            (f"scrypt$14$8$1$c2FsdA==${KEY}", "password hash salt must be at least 8 bytes, got 4"),
            (f"scrypt$14$8$1${SALT}${KEY_8}", "password hash key must be 16 to 64 bytes, got 8"),
            (f"scrypt$14$8$1${SALT}${KEY_65}", "password hash key must be 16 to 64 bytes, got 65"),
        ],
    )  # fmt: skip
    def test_rejects(self, stored: str, message: str) -> None:
        """Each kind of malformed hash is rejected with a message saying what is wrong."""
        with pytest.raises(ValueError) as info:
            check_hash_format(stored)
        assert str(info.value) == message

    def test_message_does_not_echo_the_value(self) -> None:
        """A clear password pasted where a hash belongs is not repeated in the error message."""
        with pytest.raises(ValueError) as info:
            check_hash_format("hunter2")
        assert "hunter2" not in str(info.value)

    def test_does_not_run_scrypt(self, scrypt_calls: list[int]) -> None:
        """Checking the format is cheap: no scrypt runs."""
        check_hash_format(f"scrypt$14$8$1${SALT}${KEY}")
        assert scrypt_calls == []


class TestPasswordVerifier:
    def test_success_is_cached(self, scrypt_calls: list[int]) -> None:
        """Verifying the same right password twice runs scrypt once."""
        stored = hash_password("secret", cost=FAST)
        scrypt_calls.clear()
        verifier = PasswordVerifier()
        assert verifier.verify(stored, "secret")
        assert verifier.verify(stored, "secret")
        assert len(scrypt_calls) == 1

    def test_shared_password_many_agents(self, scrypt_calls: list[int]) -> None:
        """Many logons with one shared hash and password cost a single scrypt."""
        stored = hash_password("shared", cost=FAST)
        scrypt_calls.clear()
        verifier = PasswordVerifier()
        assert all(verifier.verify(stored, "shared") for _ in range(1000))
        assert len(scrypt_calls) == 1

    def test_failure_is_not_cached(self, scrypt_calls: list[int]) -> None:
        """A wrong password runs scrypt every time, so guessing stays slow."""
        stored = hash_password("secret", cost=FAST)
        scrypt_calls.clear()
        verifier = PasswordVerifier()
        assert not verifier.verify(stored, "guess")
        assert not verifier.verify(stored, "guess")
        assert len(scrypt_calls) == 2
        assert len(verifier) == 0

    def test_cache_does_not_confuse_passwords(self) -> None:
        """After a right password is cached, a wrong one for the same hash still fails."""
        stored = hash_password("secret", cost=FAST)
        verifier = PasswordVerifier()
        assert verifier.verify(stored, "secret")
        assert not verifier.verify(stored, "Secret")

    def test_cache_does_not_confuse_hashes(self) -> None:
        """A password cached for one hash does not verify against another hash."""
        first, second = hash_password("one", cost=FAST), hash_password("two", cost=FAST)
        verifier = PasswordVerifier()
        assert verifier.verify(first, "one")
        assert not verifier.verify(second, "one")

    def test_cache_does_not_hold_the_password(self) -> None:
        """The cache keys hold neither the password nor its bare SHA-256."""
        stored = hash_password("secret", cost=FAST)
        verifier = PasswordVerifier()
        verifier.verify(stored, "secret")
        ((cached_hash, digest),) = verifier._verified
        assert cached_hash == stored
        assert digest not in (b"secret", hashlib.sha256(b"secret").digest())

    def test_bounded(self, scrypt_calls: list[int]) -> None:
        """The cache keeps at most max_entries pairs and forgets the oldest first."""
        hashes = {password: hash_password(password, cost=FAST) for password in ("a", "b", "c")}
        verifier = PasswordVerifier(max_entries=2)
        for password, stored in hashes.items():
            assert verifier.verify(stored, password)
        assert len(verifier) == 2
        scrypt_calls.clear()
        assert verifier.verify(hashes["c"], "c")
        assert scrypt_calls == []
        assert verifier.verify(hashes["a"], "a")
        assert len(scrypt_calls) == 1

    def test_max_entries_must_be_positive(self) -> None:
        """A verifier that could cache nothing is a mistake and is refused."""
        with pytest.raises(ValueError, match="max_entries must be at least 1, got 0"):
            PasswordVerifier(max_entries=0)

    def test_malformed_hash_raises(self) -> None:
        """A malformed hash raises ValueError as verify_password does."""
        with pytest.raises(ValueError, match="not a password hash"):
            PasswordVerifier().verify("plain", "plain")

    def test_threads(self) -> None:
        """Concurrent verifications from worker threads all answer correctly and keep the cache bounded."""
        hashes = [hash_password(f"pw{index}", cost=FAST) for index in range(20)]
        verifier = PasswordVerifier(max_entries=5)
        results: list[bool] = []
        lock = threading.Lock()

        def work(offset: int) -> None:
            for round_ in range(10):
                index = (offset + round_) % len(hashes)
                right = verifier.verify(hashes[index], f"pw{index}")
                wrong = verifier.verify(hashes[index], "nope")
                with lock:
                    results.append(right and not wrong)

        threads = [threading.Thread(target=work, args=(offset,)) for offset in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert results == [True] * 80
        assert len(verifier) <= 5
