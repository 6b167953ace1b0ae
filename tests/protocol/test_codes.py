"""Tests for the protocol's code tables (agt-protocol.md §1.4, §2.1, §5)."""

# ruff: noqa: SIM300  # the style guide's `assert expected == actual` reads as a Yoda condition to ruff

from __future__ import annotations

import re

import pytest

from agt_server.protocol import (
    AgentStateCode,
    CompletionCode,
    ErrorCode,
    JobStatus,
    JobType,
    MessageCode,
    MessageType,
    WorkClass,
    describe_completion_code,
)


class TestErrorCode:
    """The ErrorCode table."""

    @pytest.mark.parametrize("code", list(ErrorCode), ids=lambda code: code.name)
    def test_member(self, code: ErrorCode) -> None:
        """Each member's value is its name, ``E`` and five digits, with a non-empty meaning."""
        assert code.name == code.value
        assert re.fullmatch(r"E\d{5}", code.value)
        assert code.meaning.strip()

    def test_lookup_by_value(self) -> None:
        """A code read off the wire finds its member and meaning."""
        assert "job not running" == ErrorCode("E28804").meaning
        assert ErrorCode.E28804 is ErrorCode("E28804")

    def test_compares_equal_to_wire_value(self) -> None:
        """A member is a str equal to its wire value."""
        assert "E70000" == ErrorCode.E70000
        assert isinstance(ErrorCode.E70000, str)

    def test_unknown_value(self) -> None:
        """A value that is not in the table raises ValueError."""
        with pytest.raises(ValueError, match="E99999"):
            ErrorCode("E99999")

    @pytest.mark.parametrize("value", ["E28863", "E28865", "E28924", "E70000", "E70001", "E70002"])
    def test_codes_the_server_needs(self, value: str) -> None:
        """The codes the codec and engine send are in the table."""
        assert value == ErrorCode(value).value


class TestAgentStateCode:
    """The agent states of AGTListState."""

    def test_values(self) -> None:
        """The states are exactly S70000 to S70004, in order."""
        assert ["S70000", "S70001", "S70002", "S70003", "S70004"] == [state.value for state in AgentStateCode]

    def test_meanings(self) -> None:
        """Every state has a meaning; S70004 is the idle state."""
        assert all(state.meaning for state in AgentStateCode)
        assert AgentStateCode.IDLE is AgentStateCode("S70004")


class TestMessageCode:
    """Message and status codes that are not errors."""

    def test_shape(self) -> None:
        """Every code is one of M, S followed by five digits, with a meaning."""
        for code in MessageCode:
            assert re.fullmatch(r"[MS]\d{5}", code.value), code
            assert code.meaning

    def test_well_known(self) -> None:
        """Completion, data-follows and pending have their documented values."""
        assert ("M00000", "M00001", "S28833") == (MessageCode.COMPLETE, MessageCode.DATA_FOLLOWS, MessageCode.PENDING)


class TestMessageType:
    """The one-byte message type."""

    def test_letters(self) -> None:
        """The type letters are exactly C, P, D, R, B and N."""
        assert ["C", "P", "D", "R", "B", "N"] == [message_type.value for message_type in MessageType]

    def test_lookup(self) -> None:
        """A letter read off the wire finds its type; a lowercase one does not."""
        assert MessageType.NOTIFICATION is MessageType("N")
        with pytest.raises(ValueError, match="'c'"):
            MessageType("c")


class TestJobsAndWorkClasses:
    """Job types, job statuses and work classes."""

    def test_values(self) -> None:
        """The letters are those of agt-protocol.md §6, each with a meaning."""
        assert ["O", "I", "B", "M"] == [member.value for member in JobType]
        assert ["A", "I"] == [member.value for member in JobStatus]
        assert ["O", "I", "B", "P", "M"] == [member.value for member in WorkClass]
        assert all(member.meaning for table in (JobType, JobStatus, WorkClass) for member in table)


class TestDescribeCompletionCode:
    """describe_completion_code() and the CompletionCode table."""

    @pytest.mark.parametrize(
        ("code", "expected"),
        [
            (0, "NOTCALLED"),
            (1, "CODE1"),
            (11, "BUSY"),
            (19, "RECALL"),
            (35, "CANCEL"),
            (49, "OPDIED"),
            (93, "SOLD"),
            (98, "AORECALL"),
            (9, "reserved"),
            (10, "reserved"),
            (96, "reserved"),
            (97, "reserved"),
            (99, "reserved"),
            (20, "customer-defined"),
            (34, "customer-defined"),
            (51, "customer-defined"),
            (88, "customer-defined"),
            (100, "customer-defined"),
            (200, "customer-defined"),
        ],
    )
    def test_known(self, code: int, expected: str) -> None:
        """Named codes give their name, others say whether they are reserved or customer-defined."""
        assert expected == describe_completion_code(code)

    def test_covers_0_to_200(self) -> None:
        """Every code from 0 to 200 has a non-empty description."""
        assert all(describe_completion_code(code) for code in range(201))

    def test_named_codes_described_by_name(self) -> None:
        """Every member of CompletionCode is described by its own name."""
        assert [code.name for code in CompletionCode] == [describe_completion_code(code) for code in CompletionCode]

    @pytest.mark.parametrize("code", [-1, 201, 999])
    def test_out_of_range(self, code: int) -> None:
        """A code outside 0-200 raises ValueError."""
        with pytest.raises(ValueError, match=str(code)):
            describe_completion_code(code)
