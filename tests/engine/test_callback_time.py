"""Tests for :func:`agt_server.engine._callback_time.parse_callback`: AGTSetCallback's argument checks.

Every test runs at the same instant, ``NOW`` = 2026-11-26 10:00 UTC (11:00 in Paris, the server zone), and
checks error replies by their exact segments (``CommandRejected.segments``).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from agt_server.engine._callback_time import CallbackRequest, parse_callback
from agt_server.engine._errors import CommandRejected
from agt_server.protocol import ErrorCode

UTC = datetime.UTC
NOW = datetime.datetime(2026, 11, 26, 10, 0, tzinfo=UTC).timestamp()
PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")
PHONES = ("0140000000", "+33611111111", "")
LEGAL = ("08:00", "21:00")
SETCALLBACK_CODES = {
    ErrorCode.E28800, ErrorCode.E28831, ErrorCode.E28832, ErrorCode.E28833, ErrorCode.E28834, ErrorCode.E28835,
    ErrorCode.E28836, ErrorCode.E28837, ErrorCode.E28838, ErrorCode.E28839, ErrorCode.E28840, ErrorCode.E28841,
    ErrorCode.E28842, ErrorCode.E28843, ErrorCode.E28847, ErrorCode.E28848, ErrorCode.E28849,
}  # fmt: skip


def parse(
    *args: str,
    phones: Sequence[str] = PHONES,
    date_format: str = "CCYY/MM/DD",
    calling_hours: tuple[str, str] = ("00:00", "23:59"),
    min_minutes: int = 0,
    record_zone: str | None = None,
    zone: datetime.tzinfo = PARIS,
) -> CallbackRequest:
    """``parse_callback`` at ``NOW`` with the server in Paris unless told otherwise."""
    return parse_callback(
        args,
        now=NOW,
        zone=zone,
        phones=phones,
        date_format=date_format,
        calling_hours=calling_hours,
        min_minutes=min_minutes,
        record_zone=record_zone,
    )


def rejected(
    *args: str,
    phones: Sequence[str] = PHONES,
    date_format: str = "CCYY/MM/DD",
    calling_hours: tuple[str, str] = ("00:00", "23:59"),
    min_minutes: int = 0,
    record_zone: str | None = None,
) -> tuple[str, ...]:
    """The reply segments of a call to ``parse`` that must be rejected."""
    with pytest.raises(CommandRejected) as info:
        parse(
            *args,
            phones=phones,
            date_format=date_format,
            calling_hours=calling_hours,
            min_minutes=min_minutes,
            record_zone=record_zone,
        )
    return info.value.segments


def paris(year: int, month: int, day: int, hour: int, minute: int) -> float:
    """Epoch seconds of a Paris wall-clock time."""
    return datetime.datetime(year, month, day, hour, minute, tzinfo=PARIS).timestamp()


def test_zones_available() -> None:
    """The system tz database has the zones these tests use."""
    assert {"Europe/Paris", "America/New_York", "Asia/Tokyo"} <= available_timezones()


class TestHappyPaths:
    def test_absolute_date_and_time(self) -> None:
        """A date and a 24-hour time are a Paris wall-clock time on PHONE1."""
        assert parse("2026/11/27", "1305", "1") == CallbackRequest(paris(2026, 11, 27, 13, 5), "0140000000", 1, "")

    def test_colon_time(self) -> None:
        """``13:05`` means the same as ``1305``."""
        assert parse("2026/11/27", "13:05", "1").due_at == paris(2026, 11, 27, 13, 5)

    def test_twelve_hour_pm(self) -> None:
        """``05:00p`` is 17:00."""
        assert parse("2026/11/27", "05:00p", "1").due_at == paris(2026, 11, 27, 17, 0)

    def test_twelve_hour_upper_case_without_colon(self) -> None:
        """``0500A`` is 05:00: the suffix may be upper case and the colon left out."""
        assert parse("2026/11/27", "0500A", "1").due_at == paris(2026, 11, 27, 5, 0)

    def test_relative(self) -> None:
        """``00:30+`` is half an hour from now."""
        assert parse("", "00:30+", "2").due_at == NOW + 1800

    def test_relative_without_colon(self) -> None:
        """``0130+`` is an hour and a half from now."""
        assert parse("", "0130+", "1").due_at == NOW + 5400

    def test_empty_date_is_today(self) -> None:
        """A blank date means today in the server zone."""
        assert parse("", "15:00", "1").due_at == paris(2026, 11, 26, 15, 0)

    def test_second_phone(self) -> None:
        """The index picks the record's phone, 1-based."""
        request = parse("2026/11/27", "10:00", "2")
        assert (request.phone, request.phone_index) == ("+33611111111", 2)

    def test_name_kept(self) -> None:
        """The recall name is returned, stripped of surrounding blanks."""
        assert parse("2026/11/27", "10:00", "1", " Mr Smith ").name == "Mr Smith"

    def test_recall_number_overrides_index(self) -> None:
        """A recall number replaces the record phone and leaves no phone index, whatever the index says."""
        request = parse("2026/11/27", "10:00", "99", "", "+14155550100")
        assert (request.phone, request.phone_index, request.name) == ("+14155550100", None, "")

    def test_blank_optional_segments(self) -> None:
        """Blank name and number segments (count 5) behave like omitted ones."""
        assert parse("2026/11/27", "10:00", "1", "", "") == parse("2026/11/27", "10:00", "1")

    def test_surrounding_blanks_ignored(self) -> None:
        """Blanks around the date, time and index are ignored."""
        assert parse(" 2026/11/27 ", " 10:00 ", " 1 ") == parse("2026/11/27", "10:00", "1")

    def test_record_zone_other_than_server_zone(self) -> None:
        """A record in New York is callable at 14:00 Paris (08:00 there) and the time stays a Paris time."""
        request = parse("2026/11/26", "14:00", "1", calling_hours=LEGAL, record_zone="America/New_York")
        assert request.due_at == paris(2026, 11, 26, 14, 0)


class TestDateFormat:
    @pytest.mark.parametrize("date_format", ["CCYY/MM/DDX", "ccyy/mm/dd", "CCYY MM DD", "CC/MM/DD", "CCYY/MM/D"])
    def test_bad_character(self, date_format: str) -> None:
        """A format with a character that is neither a token nor a separator is E28836."""
        assert rejected("2026/11/27", "10:00", "1", date_format=date_format) == ("1", "E28836")

    @pytest.mark.parametrize("date_format", ["CCYY/MM", "YYYY/MM/DD", "CCYY/MM/DD/DD", ""])
    def test_missing_or_repeated_token(self, date_format: str) -> None:
        """A format without each of year, month and day exactly once is E28836."""
        assert rejected("2026/11/27", "10:00", "1", date_format=date_format) == ("1", "E28836")

    def test_checked_even_for_blank_date(self) -> None:
        """A broken format is reported even when the agent leaves the date blank."""
        assert rejected("", "15:00", "1", date_format="CCYY/MM/DDX") == ("1", "E28836")

    @pytest.mark.parametrize(
        ("date_format", "text"),
        [("DD.MM.CCYY", "27.11.2026"), ("MM-DD-YY", "11-27-26"), ("CCYYMMDD", "20261127"), ("YY/MM/DD", "26/11/27")],
    )
    def test_other_formats(self, date_format: str, text: str) -> None:
        """Other orders, separators and two-digit years (20YY) name the same day."""
        assert parse(text, "10:00", "1", date_format=date_format).due_at == paris(2026, 11, 27, 10, 0)


class TestDate:
    @pytest.mark.parametrize("text", ["2026/11/2x", "tomorrow", "2026 11 27", "２０２６/11/27"])
    def test_not_numeric(self, text: str) -> None:
        """A date with anything but ASCII digits and separators is E28831."""
        assert rejected(text, "10:00", "1") == ("1", "E28831")

    @pytest.mark.parametrize("text", ["2026-11-27", "26/11/27", "2026/1/27", "2026/11/270", "20261127", "/"])
    def test_wrong_layout(self, text: str) -> None:
        """A numeric date that does not fit the format is E28832 followed by the input and the format."""
        assert rejected(text, "10:00", "1") == ("1", "E28832", text, "CCYY/MM/DD")

    def test_wrong_layout_reports_stripped_input_and_configured_format(self) -> None:
        """E28832 names the input without its blanks and the format in force."""
        assert rejected(" 2026/11/27 ", "10:00", "1", date_format="DD.MM.CCYY") == (
            "1",
            "E28832",
            "2026/11/27",
            "DD.MM.CCYY",
        )

    @pytest.mark.parametrize("text", ["2026/00/27", "2026/13/01", "2027/99/01"])
    def test_month(self, text: str) -> None:
        """A month outside 1-12 is E28833."""
        assert rejected(text, "10:00", "1") == ("1", "E28833")

    @pytest.mark.parametrize("text", ["1899/12/31", "2200/01/01", "0000/01/01", "9999/12/31"])
    def test_year(self, text: str) -> None:
        """A year outside 1900-2199 is E28834."""
        assert rejected(text, "10:00", "1") == ("1", "E28834")

    def test_last_year_of_range(self) -> None:
        """2199 is still a valid year."""
        assert parse("2199/12/31", "10:00", "1").due_at == paris(2199, 12, 31, 10, 0)

    def test_first_year_of_range_is_past(self) -> None:
        """1900 is a valid year, so its dates fail as being in the past."""
        assert rejected("1900/01/01", "10:00", "1") == ("1", "E28847")

    @pytest.mark.parametrize("text", ["2026/11/31", "2026/12/00", "2026/12/32", "2027/02/29", "2100/02/29"])
    def test_day(self, text: str) -> None:
        """A day the month does not have is E28835 (2027 and 2100 are not leap years)."""
        assert rejected(text, "10:00", "1") == ("1", "E28835")

    def test_leap_day(self) -> None:
        """February 29 exists in a leap year."""
        assert parse("2028/02/29", "10:00", "1").due_at == paris(2028, 2, 29, 10, 0)

    def test_leap_day_of_2000_is_a_day(self) -> None:
        """2000/02/29 is a real day (2000 is a leap year), so it fails only as being in the past."""
        assert rejected("2000/02/29", "10:00", "1") == ("1", "E28847")

    def test_month_checked_before_year_and_day(self) -> None:
        """With month, year and day all wrong, the month is reported."""
        assert rejected("2300/13/40", "10:00", "1") == ("1", "E28833")

    def test_year_checked_before_day(self) -> None:
        """With year and day wrong, the year is reported."""
        assert rejected("2300/11/40", "10:00", "1") == ("1", "E28834")


class TestTime:
    @pytest.mark.parametrize(
        "text", ["", "9:30", "930", "10.30", "10:30x", "ab:cd", "10:3", "+", "p", "10:30p+", "1030pm", "10:30 p"]
    )
    def test_format(self, text: str) -> None:
        """Anything but HHMM or HH:MM with an optional A, P or + is E28840."""
        assert rejected("2026/11/27", text, "1") == ("1", "E28840")

    @pytest.mark.parametrize("text", ["103000", "10:30:00", "10:30:00p", "103000+"])
    def test_seconds(self, text: str) -> None:
        """Seconds are E28839."""
        assert rejected("2026/11/27", text, "1") == ("1", "E28839")

    @pytest.mark.parametrize("text", ["2400", "24:00", "99:00", "00:30a", "00:00P", "13:00p"])
    def test_hour(self, text: str) -> None:
        """An hour outside 0-23 (1-12 with A or P) is E28837."""
        assert rejected("2026/11/27", text, "1") == ("1", "E28837")

    @pytest.mark.parametrize("text", ["1060", "10:60", "11:99a", "00:60+"])
    def test_minute(self, text: str) -> None:
        """A minute outside 0-59 is E28838, relative times included."""
        assert rejected("2026/11/27", text, "1") == ("1", "E28838")

    def test_seconds_checked_before_hour(self) -> None:
        """A time with seconds and a bad hour is reported as having seconds."""
        assert rejected("2026/11/27", "25:00:00", "1") == ("1", "E28839")

    def test_hour_checked_before_minute(self) -> None:
        """A time with a bad hour and a bad minute is reported for its hour."""
        assert rejected("2026/11/27", "2460", "1") == ("1", "E28837")

    @pytest.mark.parametrize(("text", "hour", "minute"), [("23:59", 23, 59), ("0000", 0, 0), ("00:59", 0, 59)])
    def test_24_hour_bounds(self, text: str, hour: int, minute: int) -> None:
        """Hours 0-23 and minutes 0-59 are accepted."""
        assert parse("2026/11/27", text, "1").due_at == paris(2026, 11, 27, hour, minute)

    @pytest.mark.parametrize(
        ("text", "hour", "minute"),
        [("12:00a", 0, 0), ("12:30a", 0, 30), ("12:00p", 12, 0), ("12:59P", 12, 59), ("01:00p", 13, 0),
         ("11:59p", 23, 59), ("01:00a", 1, 0), ("11:59A", 11, 59)],
    )  # fmt: skip
    def test_12_hour_clock(self, text: str, hour: int, minute: int) -> None:
        """12A is midnight, 12P noon, and P adds twelve hours to 1-11."""
        assert parse("2026/11/27", text, "1").due_at == paris(2026, 11, 27, hour, minute)

    def test_relative_may_exceed_a_day(self) -> None:
        """A relative time may have up to 99 hours."""
        assert parse("", "99:59+", "1").due_at == NOW + 99 * 3600 + 59 * 60

    def test_relative_ignores_date_value(self) -> None:
        """A relative time counts from now, even next to a well-formed date in the past."""
        assert parse("2026/01/01", "00:30+", "1").due_at == NOW + 1800

    def test_relative_still_checks_date_format(self) -> None:
        """A relative time does not excuse a malformed date."""
        assert rejected("2026-01-01", "00:30+", "1") == ("1", "E28832", "2026-01-01", "CCYY/MM/DD")


class TestPhone:
    @pytest.mark.parametrize("index", ["0", "4", "", "x", "-1", "+1", "1.0", "１"])
    def test_bad_index(self, index: str) -> None:
        """An index that is not an integer from 1 to the number of phones is E28841."""
        assert rejected("2026/11/27", "10:00", index) == ("1", "E28841")

    def test_no_phones(self) -> None:
        """With no phones in the record, index 1 is E28841."""
        assert rejected("2026/11/27", "10:00", "1", phones=()) == ("1", "E28841")

    def test_leading_zero_index(self) -> None:
        """``01`` is index 1."""
        assert parse("2026/11/27", "10:00", "01").phone_index == 1

    @pytest.mark.parametrize("phone", ["", "n/a", "12", "01 40 00 00 00"])
    def test_bad_record_phone(self, phone: str) -> None:
        """A record phone that is blank or not 3-43 digits is E28842,B."""
        assert rejected("2026/11/27", "10:00", "1", phones=(phone,)) == ("1", "E28842,B")

    def test_blank_third_phone(self) -> None:
        """Index 3 is in range but PHONE3 is blank: E28842,B."""
        assert rejected("2026/11/27", "10:00", "3") == ("1", "E28842,B")

    @pytest.mark.parametrize("number", ["12", "abc", "+", "++123", "0612-345678", "1" * 44, "+" + "1" * 44])
    def test_bad_recall_number(self, number: str) -> None:
        """A recall number that is not 3-43 digits after an optional + is E28843 followed by the number."""
        assert rejected("2026/11/27", "10:00", "1", "", number) == ("1", "E28843", number)

    @pytest.mark.parametrize("number", ["123", "+123", "1" * 43, "+" + "1" * 43])
    def test_recall_number_bounds(self, number: str) -> None:
        """3 and 43 digits, with or without +, are valid recall numbers."""
        assert parse("2026/11/27", "10:00", "1", "", number).phone == number

    def test_recall_number_saves_bad_record_phone(self) -> None:
        """A recall number is used even when the indexed record phone is blank."""
        assert parse("2026/11/27", "10:00", "3", "", "0612345678").phone == "0612345678"


class TestZone:
    def test_blank_record_zone(self) -> None:
        """A record whose zone field is blank is E28842,T."""
        assert rejected("2026/11/27", "10:00", "1", record_zone="") == ("1", "E28842,T")

    def test_whitespace_record_zone(self) -> None:
        """A zone field of blanks counts as blank: E28842,T."""
        assert rejected("2026/11/27", "10:00", "1", record_zone="  ") == ("1", "E28842,T")

    @pytest.mark.parametrize("name", ["Mars/Olympus", "europe/paris", "America", "../etc/passwd", "posixrules"])
    def test_unknown_record_zone(self, name: str) -> None:
        """A zone that is not a known IANA name is E28849,agent."""
        assert rejected("2026/11/27", "10:00", "1", record_zone=name) == ("1", "E28849,agent")

    def test_no_calling_hours(self) -> None:
        """Calling hours that end before they start admit no time: E28842,Z."""
        assert rejected("2026/11/27", "10:00", "1", calling_hours=("21:00", "08:00")) == ("1", "E28842,Z")

    @pytest.mark.parametrize("hours", [("8:00", "21:00"), ("08:00", "24:00"), ("08:60", "21:00"), ("0800", "2100")])
    def test_malformed_calling_hours(self, hours: tuple[str, str]) -> None:
        """Calling hours that are not HH:MM are a configuration error, not an agent's."""
        with pytest.raises(ValueError, match="calling hours"):
            parse("2026/11/27", "10:00", "1", calling_hours=hours)

    @pytest.mark.parametrize(("day", "time"), [(26, "14:00"), (27, "03:00")])
    def test_record_zone_bounds_inclusive(self, day: int, time: str) -> None:
        """14:00 and 03:00 Paris are 08:00 and 21:00 in New York: both ends of the calling hours."""
        request = parse(f"2026/11/{day:02d}", time, "1", calling_hours=LEGAL, record_zone="America/New_York")
        assert request.due_at == paris(2026, 11, day, int(time[:2]), 0)

    @pytest.mark.parametrize(("day", "time"), [(26, "13:59"), (27, "03:01")])
    def test_record_zone_outside_hours(self, day: int, time: str) -> None:
        """One minute outside New York's calling hours (07:59 or 21:01 there) is E28848."""
        date = f"2026/11/{day:02d}"
        assert rejected(date, time, "1", calling_hours=LEGAL, record_zone="America/New_York") == ("1", "E28848")

    def test_record_zone_not_server_zone_decides(self) -> None:
        """13:59 Paris is within Paris's calling hours yet outside New York's: the record's zone decides."""
        assert parse("2026/11/26", "13:59", "1", calling_hours=LEGAL).phone_index == 1
        assert rejected("2026/11/26", "13:59", "1", calling_hours=LEGAL, record_zone="America/New_York") == (
            "1",
            "E28848",
        )

    def test_server_zone_when_record_has_none(self) -> None:
        """Without a record zone the hours are judged in the server zone: 03:00 Paris is outside."""
        assert rejected("2026/11/27", "03:00", "1", calling_hours=LEGAL) == ("1", "E28848")

    def test_spring_forward_gap(self) -> None:
        """02:30 on Paris's spring-forward night (skipped) is read with the winter offset: 01:30 UTC."""
        expected = datetime.datetime(2027, 3, 28, 1, 30, tzinfo=UTC).timestamp()
        assert parse("2027/03/28", "02:30", "1").due_at == expected

    def test_fall_back_overlap(self) -> None:
        """02:30 on Paris's fall-back night (twice) is the first one, in summer time: 00:30 UTC."""
        expected = datetime.datetime(2027, 10, 31, 0, 30, tzinfo=UTC).timestamp()
        assert parse("2027/10/31", "02:30", "1").due_at == expected


class TestPastAndTooSoon:
    def test_date_before_today(self) -> None:
        """Yesterday, even late in the day, is E28847."""
        assert rejected("2026/11/25", "23:59", "1") == ("1", "E28847")

    def test_today_earlier(self) -> None:
        """A blank date with a time earlier today is E28847 (no roll-over to tomorrow)."""
        assert rejected("", "10:59", "1") == ("1", "E28847")

    def test_now_exactly(self) -> None:
        """A callback due exactly now is E28847."""
        assert rejected("2026/11/26", "11:00", "1") == ("1", "E28847")

    def test_relative_zero(self) -> None:
        """``00:00+`` is due now: E28847."""
        assert rejected("", "00:00+", "1") == ("1", "E28847")

    def test_one_minute_ahead(self) -> None:
        """A minute from now is accepted when there is no minimum."""
        assert parse("2026/11/26", "11:01", "1").due_at == NOW + 60

    @pytest.mark.parametrize("time", ["11:29", "00:29+", "00:01+"])
    def test_too_soon(self, time: str) -> None:
        """Less than the minimum ahead is E28800 followed by the minimum in minutes."""
        assert rejected("2026/11/26", time, "1", min_minutes=30) == ("1", "E28800", "30")

    @pytest.mark.parametrize("time", ["11:30", "00:30+"])
    def test_exactly_minimum(self, time: str) -> None:
        """Exactly the minimum ahead is accepted."""
        assert parse("2026/11/26", time, "1", min_minutes=30).due_at == NOW + 1800

    def test_past_beats_too_soon(self) -> None:
        """A time in the past is E28847 even with a minimum."""
        assert rejected("2026/11/26", "10:00", "1", min_minutes=30) == ("1", "E28847")


class TestLegalHours:
    @pytest.mark.parametrize("time", ["07:59", "21:01", "23:59", "12:00a"])
    def test_outside(self, time: str) -> None:
        """Outside 08:00-21:00 in the server zone is E28848."""
        assert rejected("2026/11/27", time, "1", calling_hours=LEGAL) == ("1", "E28848")

    @pytest.mark.parametrize(("time", "hour", "minute"), [("08:00", 8, 0), ("21:00", 21, 0), ("09:00p", 21, 0)])
    def test_bounds_inclusive(self, time: str, hour: int, minute: int) -> None:
        """Both ends of the calling hours are allowed."""
        assert parse("2026/11/27", time, "1", calling_hours=LEGAL).due_at == paris(2026, 11, 27, hour, minute)

    def test_relative_outside(self) -> None:
        """A relative time landing at 21:01 Paris is E28848."""
        assert rejected("", "10:01+", "1", calling_hours=LEGAL) == ("1", "E28848")


class TestCheckOrder:
    def test_date_before_time(self) -> None:
        """A bad date is reported before a bad time."""
        assert rejected("2026/13/01", "99:99", "1") == ("1", "E28833")

    def test_time_before_phone(self) -> None:
        """A bad time is reported before a bad phone index."""
        assert rejected("2026/11/27", "24:00", "9") == ("1", "E28837")

    def test_phone_before_zone(self) -> None:
        """A bad phone index is reported before an unknown zone."""
        assert rejected("2026/11/27", "10:00", "9", record_zone="Mars/Olympus") == ("1", "E28841")

    def test_recall_number_before_zone(self) -> None:
        """A bad recall number is reported before a blank zone."""
        assert rejected("2026/11/27", "10:00", "1", "", "x", record_zone="") == ("1", "E28843", "x")

    def test_zone_before_past(self) -> None:
        """An unknown zone is reported before a date in the past."""
        assert rejected("2026/11/25", "10:00", "1", record_zone="Mars/Olympus") == ("1", "E28849,agent")

    def test_no_hours_before_too_soon(self) -> None:
        """Calling hours admitting no time are reported before a too-soon time."""
        hours = ("12:00", "11:00")
        assert rejected("", "00:01+", "1", calling_hours=hours, min_minutes=30) == ("1", "E28842,Z")

    def test_past_before_legal_hours(self) -> None:
        """A past time outside the calling hours is E28847."""
        assert rejected("2026/11/25", "03:00", "1", calling_hours=LEGAL) == ("1", "E28847")

    def test_too_soon_before_legal_hours(self) -> None:
        """A too-soon time outside the calling hours is E28800."""
        hours = ("12:00", "21:00")
        assert rejected("", "00:10+", "1", calling_hours=hours, min_minutes=30) == ("1", "E28800", "30")


class TestSegmentCount:
    @pytest.mark.parametrize("args", [("2026/11/27", "10:00"), ("2026/11/27", "10:00", "1", "", "", "")])
    def test_wrong_count(self, args: tuple[str, ...]) -> None:
        """Fewer than 3 or more than 5 segments is the caller's error (the dispatcher checks the count)."""
        with pytest.raises(ValueError, match="3 to 5 segments"):
            parse_callback(args, now=NOW, zone=PARIS, phones=PHONES)


# --- properties -------------------------------------------------------------------------------------------

TOKYO_TODAY = datetime.date(2026, 11, 26)  # NOW is 19:00 in Tokyo
EPOCH_DAY = datetime.date(1970, 1, 1).toordinal()
TOKYO_OFFSET = 9 * 3600  # Japan has kept +09:00 without DST since 1951


def format_date(day: datetime.date, date_format: str) -> str:
    """``day`` written in one of the formats the properties use."""
    return (
        date_format.replace("CCYY", f"{day.year:04d}")
        .replace("YY", f"{day.year % 100:02d}")
        .replace("MM", f"{day.month:02d}")
        .replace("DD", f"{day.day:02d}")
    )


def format_time(hour: int, minute: int, style: str) -> str:
    """A 24-hour time written as ``HHMM``, ``HH:MM``, or in the 12-hour clock with a or P."""
    if style == "plain":
        return f"{hour:02d}{minute:02d}"
    if style == "colon":
        return f"{hour:02d}:{minute:02d}"
    suffix = "a" if hour < 12 else "P"
    return f"{(hour % 12) or 12:02d}:{minute:02d}{suffix}"


class TestProperties:
    @settings(max_examples=300, deadline=None)
    @given(
        days_ahead=st.integers(1, 60_000),
        minute_of_day=st.integers(8 * 60, 21 * 60),
        date_format=st.sampled_from(["CCYY/MM/DD", "DD.MM.CCYY", "MM-DD-YY", "CCYYMMDD"]),
        style=st.sampled_from(["plain", "colon", "12h"]),
    )
    def test_valid_future_time_parses_to_expected_epoch(
        self, days_ahead: int, minute_of_day: int, date_format: str, style: str
    ) -> None:
        """Any future date within calling hours, in any format and time style, is that Tokyo wall-clock time."""
        day = TOKYO_TODAY + datetime.timedelta(days=days_ahead)
        assume(day.year <= 2199 and (day.year < 2100 or "CCYY" in date_format))
        hour, minute = divmod(minute_of_day, 60)
        request = parse(
            format_date(day, date_format),
            format_time(hour, minute, style),
            "1",
            date_format=date_format,
            calling_hours=LEGAL,
            zone=TOKYO,
        )
        expected = (day.toordinal() - EPOCH_DAY) * 86400 + hour * 3600 + minute * 60 - TOKYO_OFFSET
        assert request.due_at == expected

    @settings(max_examples=300, deadline=None)
    @given(days_ahead=st.integers(1, 3_000), hour=st.integers(0, 23), minute=st.integers(0, 59))
    def test_paris_wall_clock_round_trips(self, days_ahead: int, hour: int, minute: int) -> None:
        """Outside DST gaps, the due time shown in Paris is the date and time the agent typed."""
        day = datetime.date(2026, 11, 26) + datetime.timedelta(days=days_ahead)
        wall = datetime.datetime(day.year, day.month, day.day, hour, minute)
        # Skip the hour that spring-forward removes: it does not exist on a Paris clock.
        assume(wall.replace(tzinfo=PARIS).astimezone(UTC).astimezone(PARIS).replace(tzinfo=None) == wall)
        request = parse(format_date(day, "CCYY/MM/DD"), format_time(hour, minute, "colon"), "1")
        shown = datetime.datetime.fromtimestamp(request.due_at, PARIS).replace(tzinfo=None)
        assert shown == wall

    @settings(max_examples=200, deadline=None)
    @given(hours=st.integers(0, 99), minutes=st.integers(0, 59))
    def test_relative_time(self, hours: int, minutes: int) -> None:
        """Any non-zero ``HH:MM+`` is due that long after now."""
        assume(hours or minutes)
        assert parse("", f"{hours:02d}:{minutes:02d}+", "1").due_at == NOW + hours * 3600 + minutes * 60

    @settings(max_examples=500, deadline=None)
    @given(
        args=st.lists(st.text(max_size=12), min_size=3, max_size=5),
        record_zone=st.one_of(st.none(), st.text(max_size=20), st.sampled_from(["", "Asia/Tokyo", "Mars/X"])),
        min_minutes=st.integers(0, 120),
    )
    def test_any_input_is_accepted_or_rejected_with_a_setcallback_code(
        self, args: list[str], record_zone: str | None, min_minutes: int
    ) -> None:
        """Arbitrary segments give a callback in the future or a CommandRejected with one of SetCallback's codes."""
        try:
            request = parse(*args, calling_hours=LEGAL, min_minutes=min_minutes, record_zone=record_zone)
        except CommandRejected as error:
            assert error.code in SETCALLBACK_CODES
            assert error.segments[1][:6] == error.code.value
        else:
            assert request.due_at > NOW
            assert request.due_at >= NOW + min_minutes * 60
