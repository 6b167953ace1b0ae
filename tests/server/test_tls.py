"""Integration tests of the TLS listener: configured and demo certificates, client certificates, the
oldest version accepted (protocol_spec.md §1; agt-protocol.md §8.3 item 6).

Certificates come from ``trustme``; everything runs on 127.0.0.1 port 0 under ``trio.fail_after``.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest
import structlog
import structlog.testing
import trio
import trustme

from agt_server.client import AgtConnectionError
from agt_server.config import TlsConfig
from tests.support import RunningServer, config_for_tests, connect_tcp, running_server

OK = ("0", "M00000")


@attrs.frozen
class Pki:
    """A test CA and the files of a server certificate it issued for localhost and 127.0.0.1."""

    ca: trustme.CA
    server_pem: Path  #: the server's key and certificate chain in one PEM file
    ca_pem: Path

    def tls(self, **changes: object) -> TlsConfig:
        """A TLS configuration presenting the server certificate; ``changes`` evolve it."""
        return attrs.evolve(TlsConfig(certificate=self.server_pem, key=self.server_pem), **changes)

    def client_context(self, *, certificate: trustme.LeafCert | None = None) -> ssl.SSLContext:
        """A client context trusting the CA, presenting ``certificate`` when given."""
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
        self.ca.configure_trust(context)
        if certificate is not None:
            certificate.configure_cert(context)
        return context


@pytest.fixture
def pki(tmp_path: Path) -> Iterator[Pki]:
    ca = trustme.CA()
    server_pem, ca_pem = tmp_path / "server.pem", tmp_path / "ca.pem"
    ca.issue_cert("localhost", "127.0.0.1").private_key_and_cert_chain_pem.write_to_path(server_pem)
    ca.cert_pem.write_to_path(ca_pem)
    yield Pki(ca, server_pem, ca_pem)


def _unverified_context() -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


async def _logs_on(running: RunningServer, context: ssl.SSLContext, agent: str = "agent1") -> None:
    """A TLS client with ``context`` is greeted, logs on and off, and the server closes the connection."""
    async with running.client(ssl_context=context) as client:
        assert client.greeting.segments == ("0", "AGENT_STARTUP")
        assert (await client.logon(agent, agent)).response.segments == OK
        assert (await client.list_state()).code == "S70004"
        assert (await client.logoff()).response.segments == OK
        await client.wait_closed()


class TestConfiguredCertificate:
    """The TLS listener presents the configured certificate."""

    async def test_client_logs_on_over_tls(self, tmp_path: Path, pki: Pki) -> None:
        """A client that trusts only the test CA and checks the host name logs on over TLS."""
        with trio.fail_after(10):
            async with running_server(config_for_tests(tmp_path, tls=pki.tls())) as running:
                await _logs_on(running, pki.client_context())
                assert not (tmp_path / "tls").exists()

    async def test_client_that_does_not_trust_the_ca_is_refused(self, tmp_path: Path, pki: Pki) -> None:
        """A client trusting another CA fails the handshake: the server really presents the configured chain."""
        stranger = Pki(trustme.CA(), pki.server_pem, pki.ca_pem)
        with trio.fail_after(10):
            async with running_server(config_for_tests(tmp_path, tls=pki.tls())) as running:
                with pytest.raises(AgtConnectionError):
                    async with running.client(ssl_context=stranger.client_context()):
                        pass
                await _logs_on(running, pki.client_context())


class TestClientCertificates:
    """Client certificates are optional by default and can be required."""

    async def test_optional_client_certificate(self, tmp_path: Path, pki: Pki) -> None:
        """With client_ca set and require_client_certificate false, clients with and without a certificate log on."""
        tls = pki.tls(client_ca=pki.ca_pem, require_client_certificate=False)
        with trio.fail_after(10):
            async with running_server(config_for_tests(tmp_path, tls=tls)) as running:
                await _logs_on(running, pki.client_context(), "agent1")
                await _logs_on(running, pki.client_context(certificate=pki.ca.issue_cert("agent-desktop")), "agent2")

    async def test_required_client_certificate(self, tmp_path: Path, pki: Pki) -> None:
        """With require_client_certificate true a client without a certificate, or with one from another CA, gets
        no session (never greeted), while one with a certificate from client_ca logs on."""
        tls = pki.tls(client_ca=pki.ca_pem, require_client_certificate=True)
        with trio.fail_after(10):
            async with running_server(config_for_tests(tmp_path, tls=tls)) as running:
                foreign = trustme.CA().issue_cert("agent-desktop")
                for context in (pki.client_context(), pki.client_context(certificate=foreign)):
                    with pytest.raises(AgtConnectionError):
                        async with running.client(ssl_context=context):
                            pass
                assert running.server.driver.engine.sessions == {}
                await _logs_on(running, pki.client_context(certificate=pki.ca.issue_cert("agent-desktop")))


class TestDemoCertificate:
    """Without a configured certificate the server makes a self-signed one in data_dir/tls."""

    async def test_demo_certificate_is_made_once_and_reused(self, tmp_path: Path) -> None:
        """The first start writes data_dir/tls/demo-cert.pem, a client that does not verify logs on with it, and
        the second start reuses the same certificate and key."""
        certificate, key = tmp_path / "tls" / "demo-cert.pem", tmp_path / "tls" / "demo-key.pem"
        assert not certificate.exists()
        with trio.fail_after(10):
            async with running_server(config_for_tests(tmp_path)) as running:
                assert certificate.exists()
                assert key.exists()
                first = certificate.read_bytes(), key.read_bytes()
                await _logs_on(running, _unverified_context())
            async with running_server(config_for_tests(tmp_path)) as running:
                assert (certificate.read_bytes(), key.read_bytes()) == first
                await _logs_on(running, _unverified_context())
        assert first[0].startswith(b"-----BEGIN CERTIFICATE-----")
        assert key.stat().st_mode & 0o077 == 0

    async def test_demo_certificate_names_localhost(self, tmp_path: Path) -> None:
        """A client trusting the demo certificate itself verifies it for the host name localhost."""
        with trio.fail_after(10):
            async with running_server(config_for_tests(tmp_path)) as running:
                context = ssl.create_default_context(cafile=tmp_path / "tls" / "demo-cert.pem")
                context.verify_flags &= ~ssl.VERIFY_X509_STRICT
                await _logs_on(running, context)


class TestMinimumVersion:
    """tls.minimum_version refuses older clients."""

    async def test_tls13_minimum_refuses_tls12_client(self, tmp_path: Path, pki: Pki) -> None:
        """With minimum_version TLSv1.3 a client capped at TLS 1.2 fails to connect and a TLS 1.3 client logs on."""
        with trio.fail_after(10):
            async with running_server(config_for_tests(tmp_path, tls=pki.tls(minimum_version="TLSv1.3"))) as running:
                old = pki.client_context()
                old.maximum_version = ssl.TLSVersion.TLSv1_2
                with pytest.raises(AgtConnectionError):
                    async with running.client(ssl_context=old):
                        pass
                modern = pki.client_context()
                modern.minimum_version = ssl.TLSVersion.TLSv1_3
                await _logs_on(running, modern)

    async def test_default_minimum_accepts_tls12_client(self, tmp_path: Path, pki: Pki) -> None:
        """With the default minimum (TLSv1.2) a client capped at TLS 1.2 logs on."""
        with trio.fail_after(10):
            async with running_server(config_for_tests(tmp_path, tls=pki.tls())) as running:
                old = pki.client_context()
                old.maximum_version = ssl.TLSVersion.TLSv1_2
                await _logs_on(running, old)


class TestPlainClientsOnTheTlsPort:
    """Clients that do not speak TLS on the TLS port cost only their own connection."""

    async def test_garbage_client_does_not_disturb_a_tls_session(self, tmp_path: Path, pki: Pki) -> None:
        """A plain client writing AGT bytes to the TLS port is dropped without a greeting, and a silent one gets
        nothing, while a TLS session goes on and a new TLS client logs on."""
        with trio.fail_after(10):
            async with running_server(config_for_tests(tmp_path, tls=pki.tls())) as running:
                port = running.ports.tls
                assert port is not None
                async with running.client(ssl_context=pki.client_context()) as session:
                    await session.logon("agent1", "agent1")
                    silent = await connect_tcp(port)
                    garbage = await connect_tcp(port)
                    try:
                        await garbage.send_all(b"AGTLogon            C" + b"\x1eagent2" * 40 + b"\x03\r\n\x00\xff")
                        received = b""
                        with trio.fail_after(5):
                            while True:
                                try:
                                    chunk = await garbage.receive_some(4096)
                                except trio.BrokenResourceError:
                                    break
                                if not chunk:
                                    break
                                received += chunk
                        assert b"AGTSTART" not in received
                        assert (await session.list_state()).code == "S70004"
                        await _logs_on(running, pki.client_context(), "agent2")
                        await session.attach_job("CMP1")
                        assert (await session.list_state()).job == "CMP1"
                        with trio.move_on_after(0.2):
                            assert await silent.receive_some(4096) == b"", "the server sent bytes to a silent client"
                    finally:
                        await trio.aclose_forcefully(silent)
                        await trio.aclose_forcefully(garbage)
                    assert list(running.server.driver.engine.online) == ["agent1"]


class TestHandshakeFailures:
    """A TLS handshake that fails is the client's problem, not a server crash."""

    async def test_failed_handshakes_are_not_logged_as_crashes(self, tmp_path: Path, pki: Pki) -> None:
        """A plain client and a client without the required certificate are logged without any error-level
        connection_crashed event (that event means a bug in the server)."""
        tls = pki.tls(client_ca=pki.ca_pem, require_client_certificate=True)
        with trio.fail_after(10):
            async with running_server(config_for_tests(tmp_path, tls=tls)) as running:
                assert running.ports.tls is not None
                with structlog.testing.capture_logs() as logs:
                    with pytest.raises(AgtConnectionError):
                        async with running.client(ssl_context=pki.client_context()):
                            pass
                    plain = await connect_tcp(running.ports.tls)
                    try:
                        await plain.send_all(b"AGTLogon            C\x1eagent1\x03")
                        with trio.fail_after(5):
                            while await plain.receive_some(4096):
                                pass
                    except trio.BrokenResourceError:
                        pass
                    finally:
                        await trio.aclose_forcefully(plain)
                    await trio.sleep(0.1)
        crashes = [entry for entry in logs if entry["event"] == "connection_crashed" or entry["log_level"] == "error"]
        assert crashes == []
