"""Integration tests of the tty listener: people typing into telnet (protocol_spec.md §7).

A raw trio socket to ``ports.tty`` types lines and reads the server's lines; every test runs under
``trio.fail_after`` on 127.0.0.1 port 0.
"""

from __future__ import annotations

import trio

from tests.support import RunningServer, TtyConnection, open_tty_connection

GREETING = "AGTSTART N 0|AGENT_STARTUP"
JOBS_LINE = "AGTListJobs D 0|M00001|O,CMP1,A|O,CMP2,A|O,CMP3,A|O,CMP4,A|I,INBOUND1,A|B,BLEND1,A|M,PREVIEW1,A"
NOT_A_COMMAND = (
    "AGTSystemError N 1|E28863,a line must start with a keyword"
    "  (unknown file descriptor: possibly a malformed command)"
)


def _tty_port(server: RunningServer) -> int:
    assert server.ports.tty is not None
    return server.ports.tty


async def _log_on(tty: TtyConnection, agent: str = "agent1") -> None:
    assert await tty.lines(1) == [GREETING]
    assert await tty.command(f"AGTLogon,{agent},{agent}") == ["AGTLogon P 0|S28833", "AGTLogon R 0|M00000"]


class TestTtyGreetingAndLogon:
    """The greeting and AGTLogon in the tty form."""

    async def test_greeting_line(self, server: RunningServer) -> None:
        """The first thing the server writes is exactly the line AGTSTART N 0|AGENT_STARTUP with CRLF."""
        with trio.fail_after(5):
            async with open_tty_connection(_tty_port(server)) as tty:
                received = b""
                while len(received) < len(GREETING) + 2:
                    chunk = await tty.stream.receive_some(100)
                    assert chunk
                    received += chunk
                assert received == GREETING.encode() + b"\r\n"

    async def test_logon_line(self, server: RunningServer) -> None:
        """Typing AGTLogon,agent1,agent1 gives the P and R lines and logs the agent on."""
        with trio.fail_after(5):
            async with open_tty_connection(_tty_port(server)) as tty:
                await _log_on(tty)
                assert "agent1" in server.server.driver.engine.online

    async def test_error_line_shows_the_meaning(self, server: RunningServer) -> None:
        """Errors show their meaning in brackets: a command before logon, a wrong password, an unknown job."""
        with trio.fail_after(5):
            async with open_tty_connection(_tty_port(server)) as tty:
                assert await tty.lines(1) == [GREETING]
                assert await tty.command("AGTListJobs,A") == ["AGTListJobs R 1|E28924  (must log on first)"]
                assert await tty.command("AGTLogon,agent1,wrong") == [
                    "AGTLogon P 0|S28833",
                    "AGTLogon R 1|E28926  (invalid logon: unknown agent or wrong password)",
                ]
                assert await tty.command("AGTLogon, agent1 , agent1") == ["AGTLogon P 0|S28833", "AGTLogon R 0|M00000"]
                assert await tty.command("AGTAttachJob,NOPE") == [
                    "AGTAttachJob R 1|E28890,NOPE  (cannot open the job's resource file)"
                ]
                assert await tty.command("AGTFoo") == ["AGTFoo R 1|E28865,AGTFoo  (unknown command)"]


class TestTtyLineHandling:
    """Line ends, telnet noise and lines that are not commands."""

    async def test_lf_only_and_cr_only_line_ends(self, server: RunningServer) -> None:
        """Commands ended by LF alone or CR alone are answered like CRLF-ended ones, and empty lines are ignored."""
        with trio.fail_after(5):
            async with open_tty_connection(_tty_port(server)) as tty:
                await _log_on(tty)
                expected = ["AGTListState D 0|S70004", "AGTListState R 0|M00000"]
                assert await tty.command("AGTListState", line_end="\n") == expected
                assert await tty.command("AGTListState", line_end="\r") == expected
                assert await tty.command("\r\n\n\rAGTListState", line_end="\n\n") == expected
                assert await tty.command("AGTListJobs,A", line_end="\r") == [JOBS_LINE, "AGTListJobs R 0|M00000"]

    async def test_telnet_commands_are_ignored(self, server: RunningServer) -> None:
        """Telnet IAC sequences before and inside a line are dropped and the command is understood."""
        with trio.fail_after(5):
            async with open_tty_connection(_tty_port(server)) as tty:
                assert await tty.lines(1) == [GREETING]
                await tty.type(b"\xff\xfb\x01\xff\xfd\x03AGTLogon,agent1,\xff\xfb\x01agent1\r\n")
                assert await tty.lines(2) == ["AGTLogon P 0|S28833", "AGTLogon R 0|M00000"]
                await tty.type(b"AGTList\xff\xfa\x18\x01\xff\xf0State\xff\xfb\x01\r\n")
                assert await tty.lines(2) == ["AGTListState D 0|S70004", "AGTListState R 0|M00000"]

    async def test_line_that_is_not_a_command(self, server: RunningServer) -> None:
        """`hello world` gets the AGTSystemError line and the session goes on."""
        with trio.fail_after(5):
            async with open_tty_connection(_tty_port(server)) as tty:
                await _log_on(tty)
                await tty.type("hello world\r\n")
                assert await tty.lines(1) == [NOT_A_COMMAND]
                assert await tty.command("AGTListState") == ["AGTListState D 0|S70004", "AGTListState R 0|M00000"]

    async def test_logoff_closes_the_connection(self, server: RunningServer) -> None:
        """AGTLogoff answers its R line and then the server closes the connection."""
        with trio.fail_after(5):
            async with open_tty_connection(_tty_port(server)) as tty:
                await _log_on(tty)
                assert await tty.command("AGTLogoff") == ["AGTLogoff R 0|M00000"]
                assert await tty.receive_line() is None
        assert server.server.driver.engine.online == {}


class TestTtyScenario:
    """The issue's whole scenario typed into telnet."""

    async def test_log_on_to_log_off(self, server: RunningServer) -> None:
        """Log on, list jobs, attach, join (headset and AvailWork), ready, NoFurtherWork, detach and log off,
        each answered with the documented lines, and the server closes the connection at the end."""
        script = [
            ("AGTLogon,agent1,agent1", ["AGTLogon P 0|S28833", "AGTLogon R 0|M00000"]),
            ("AGTListJobs,A", [JOBS_LINE, "AGTListJobs R 0|M00000"]),
            ("AGTAttachJob,CMP1", ["AGTAttachJob R 0|M00000"]),
            ("AGTListState", ["AGTListState D 0|S70003,CMP1", "AGTListState R 0|M00000"]),
            ("AGTAvailWork", ["AGTAvailWork R 1|E28896  (headset must be active)"]),
            ("AGTReserveHeadset,1", ["AGTReserveHeadset P 0|S28833", "AGTReserveHeadset R 0|M00000"]),
            ("AGTConnHeadset", ["AGTConnHeadset P 0|S28833", "AGTConnHeadset R 0|M00000"]),
            ("AGTAvailWork", ["AGTAvailWork P 0|S28833", "AGTAvailWork R 0|M00000"]),
            ("AGTListState", ["AGTListState D 0|S70002,CMP1", "AGTListState R 0|M00000"]),
            ("AGTReadyNextItem", ["AGTReadyNextItem R 0|M00000"]),
            ("AGTListState", ["AGTListState D 0|S70001,CMP1", "AGTListState R 0|M00000"]),
            ("AGTLogoff", ["AGTLogoff R 1|E28916  (job attached: detach before logging off)"]),
            ("AGTNoFurtherWork", ["AGTNoFurtherWork P 0|S28833", "AGTNoFurtherWork R 0|M00000"]),
            ("AGTDetachJob", ["AGTDetachJob R 0|M00000"]),
            ("AGTListState", ["AGTListState D 0|S70004", "AGTListState R 0|M00000"]),
            ("AGTDisconnHeadset", ["AGTDisconnHeadset P 0|S28833", "AGTDisconnHeadset R 0|M00000"]),
            ("AGTFreeHeadset", ["AGTFreeHeadset R 0|M00000"]),
            ("AGTLogoff", ["AGTLogoff R 0|M00000"]),
        ]
        with trio.fail_after(10):
            async with open_tty_connection(_tty_port(server)) as tty:
                assert await tty.lines(1) == [GREETING]
                for line, expected in script:
                    assert await tty.command(line) == expected, line
                assert await tty.receive_line() is None
        assert server.server.driver.engine.online == {}
