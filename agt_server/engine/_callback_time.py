"""AGTSetCallback's arguments: from the agent's date, time and phone to a callback, or the exact error reply.

This module is pure: it reads its arguments and the clock value it is given, and either returns a
:class:`CallbackRequest` or raises :class:`CommandRejected` whose ``segments`` are the reply to send.

The command
-----------
``AGTSetCallback Date § Time § PhoneIndex [§ RecallName [§ RecallNumber]]`` (3–5 segments; any of them may
be blank).  Surrounding blanks are ignored in every segment.

* **Date** follows the format the server reports in ``AGTListCallbackFmt`` (``CCYY/MM/DD`` by default).  A
  format is made of the tokens ``CCYY`` (four-digit year), ``YY`` (two-digit year, meaning 20YY), ``MM``,
  ``DD`` — each exactly once — and the separators ``/``, ``-`` and ``.``.  An empty date means today in the
  server zone.  Years 1900–2199 are accepted as years (the CC of ``CCYY`` in 19–21); earlier dates then fail
  as being in the past.
* **Time** is ``HHMM`` or ``HH:MM`` in the 24-hour clock, optionally followed by ``A``/``P`` (either case;
  12-hour clock, hour 1–12, ``12A`` is midnight and ``12P`` noon) or by ``+`` (relative: the callback is
  due HH hours and MM minutes from now; HH may be 00–99, MM 00–59).  A relative time ignores the date's value
  (a given date must still be well-formed).  Absolute times are wall-clock times in the *server* zone.
* **PhoneIndex** picks the record's phone (1 = PHONE1 …).  A non-blank **RecallNumber** overrides it: the
  index is then not looked at and the callback has no phone index.  A phone number is 3–43 digits with an
  optional leading ``+``.
* **RecallName** is free text, kept as given (stripped).

Order of the checks (the first failure is the reply)
----------------------------------------------------
1. date format: the server's format (``E28836``), then the date: characters other than digits and
   separators (``E28831``), layout (``E28832 § <input> § <format>``), month (``E28833``), year (``E28834``),
   day of the month (``E28835``);
2. time: shape (``E28840``), seconds given (``E28839``), hour (``E28837``), minute (``E28838``);
3. phone: recall number (``E28843 § <number>``) when one is given, else the index (``E28841``) and the
   record's phone at that index (``E28842,B``);
4. zone: the record's zone field blank (``E28842,T``), not a known IANA zone (``E28849,agent``), calling
   hours that admit no time at all (``E28842,Z``);
5. past and too soon: due at or before now (``E28847``), less than ``min_minutes`` ahead
   (``E28800 § <min_minutes>``);
6. legal hours: the due time's local wall clock *in the record's zone* (the server zone when the record has
   none) outside ``calling_hours`` (``E28848``).

Time-zone handling
------------------
The agent types the time of the server zone (that is what its screen shows and what "today" means); the
record's zone only decides whether the customer may be called then.  A wall-clock time that a DST change
skips (e.g. 02:30 on the spring-forward night) is read with the offset in force before the change, so it
lands that much later; one that happens twice is the first occurrence (``fold=0``, Python's default).
Calling hours are compared at minute resolution and both ends are inclusive: ``("08:00", "21:00")``
admits 21:00:59.
"""

from __future__ import annotations

import datetime
import functools
import re
import zoneinfo
from collections.abc import Sequence

import attrs

from agt_server.protocol import ErrorCode

from ._errors import CommandRejected

__all__ = ["DEFAULT_DATE_FORMAT", "ZONE_PROCESS", "CallbackRequest", "parse_callback"]

DEFAULT_DATE_FORMAT = "CCYY/MM/DD"
#: The "process" named in ``E28849,<process>``: on a real dialer the process that failed the zone lookup.
ZONE_PROCESS = "agent"

_DIGITS = frozenset("0123456789")
_SEPARATORS = frozenset("/-.")
# The tokens a date format may use, longest first so that CCYY is not read as two YY.
_FORMAT_TOKENS = ("CCYY", "YY", "MM", "DD")
_MIN_YEAR = 1900
_MAX_YEAR = 2199

# [0-9] rather than \d: \d also matches other scripts' digits, which int() would happily convert.
_TIME_PLAIN = re.compile(r"([0-9]{2})([0-9]{2})([0-9]{2})?")
_TIME_COLON = re.compile(r"([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?")
_CLOCK = re.compile(r"([0-9]{2}):([0-9]{2})")
_PHONE = re.compile(r"\+?[0-9]{3,43}")


@attrs.frozen
class CallbackRequest:
    """A valid callback request.

    Attributes:
        due_at: when the callback is due, epoch seconds (UTC).
        phone: the number to call.
        phone_index: the record phone it came from (1-based), ``None`` when a recall number was given.
        name: the recall name, may be ``""``.
    """

    due_at: float
    phone: str
    phone_index: int | None
    name: str


def parse_callback(
    args: tuple[str, ...],
    *,
    now: float,
    zone: zoneinfo.ZoneInfo | datetime.tzinfo,
    phones: Sequence[str],
    date_format: str = DEFAULT_DATE_FORMAT,
    calling_hours: tuple[str, str] = ("00:00", "23:59"),
    min_minutes: int = 0,
    record_zone: str | None = None,
) -> CallbackRequest:
    """Check AGTSetCallback's arguments and work out the callback; see the module docstring for the rules.

    Args:
        args: the command's 3–5 segments: date, time, phone index[, recall name[, recall number]].
        now: the current time, epoch seconds.
        zone: the server's zone: absolute times and "today" are read in it.
        phones: the record's phone numbers in order (PHONE1, PHONE2 …).
        date_format: the date format reported by AGTListCallbackFmt.
        calling_hours: the legal calling hours ``(start, end)`` as ``"HH:MM"``, in the record's local time.
        min_minutes: how many minutes ahead a callback must be at least.
        record_zone: the record's time-zone field (an IANA name), ``None`` when the record has no such field.

    Returns:
        The callback.

    Raises:
        CommandRejected: an argument is wrong; its ``segments`` are the reply.
        ValueError: not 3–5 segments, or ``calling_hours`` not ``"HH:MM"`` pairs (caller or configuration
            errors, not the agent's).
    """
    if not 3 <= len(args) <= 5:
        raise ValueError(f"AGTSetCallback takes 3 to 5 segments, got {len(args)}")
    date_text, time_text, index_text = (arg.strip() for arg in args[:3])
    name = args[3].strip() if len(args) > 3 else ""
    number = args[4].strip() if len(args) > 4 else ""

    # 1. date
    date = _parse_date(date_text, date_format)
    # 2. time
    relative, hour, minute = _parse_time(time_text)
    # 3. phone
    phone, phone_index = _select_phone(index_text, number, phones)
    # 4. zone
    hours_zone = _record_zone(record_zone, zone)
    start, end = _parse_clock(calling_hours[0]), _parse_clock(calling_hours[1])
    if start > end:
        # Legal calling hours never straddle midnight; a window that ends before it starts admits no time
        # at all, so the record cannot be recalled in its zone whatever the agent types.
        raise CommandRejected(ErrorCode.E28842, "Z")

    # 5. past and too soon
    if relative:
        due_at = now + hour * 3600 + minute * 60
    else:
        day = date if date is not None else datetime.datetime.fromtimestamp(now, zone).date()
        due_at = datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone).timestamp()
    # A date before today needs no check of its own: its due time is before today's midnight, so before now.
    if due_at <= now:
        raise CommandRejected(ErrorCode.E28847)
    if due_at < now + min_minutes * 60:
        raise CommandRejected(ErrorCode.E28800, "", str(min_minutes))

    # 6. legal hours
    local = datetime.datetime.fromtimestamp(due_at, hours_zone)
    if not start <= local.hour * 60 + local.minute <= end:
        raise CommandRejected(ErrorCode.E28848)
    return CallbackRequest(due_at=due_at, phone=phone, phone_index=phone_index, name=name)


def _format_tokens(date_format: str) -> list[str]:
    """The tokens of a date format (``CCYY``, ``YY``, ``MM``, ``DD`` or a separator character); E28836 if bad."""
    tokens: list[str] = []
    position = 0
    while position < len(date_format):
        token = next((t for t in _FORMAT_TOKENS if date_format.startswith(t, position)), None)
        if token is None:
            token = date_format[position]
            if token not in _SEPARATORS:
                raise CommandRejected(ErrorCode.E28836)
        tokens.append(token)
        position += len(token)
    years = tokens.count("CCYY") + tokens.count("YY")
    # A format without each of year, month and day exactly once cannot name a date; the dialer's only code
    # for a broken format is "bad format character", so that is what it gets.
    if years != 1 or tokens.count("MM") != 1 or tokens.count("DD") != 1:
        raise CommandRejected(ErrorCode.E28836)
    return tokens


def _parse_date(text: str, date_format: str) -> datetime.date | None:
    """The date ``text`` names in ``date_format`` (``None`` when blank: today); E28831–E28836 if bad."""
    # The format is checked even for a blank date: a broken configuration should show at once, not only
    # when an agent happens to type a date.
    tokens = _format_tokens(date_format)
    if not text:
        return None
    if any(char not in _DIGITS and char not in _SEPARATORS for char in text):
        raise CommandRejected(ErrorCode.E28831)
    fields: dict[str, int] = {}
    position = 0
    for token in tokens:
        piece = text[position : position + len(token)]
        position += len(token)
        if token in _SEPARATORS:
            matches = piece == token
        else:
            matches = len(piece) == len(token) and all(char in _DIGITS for char in piece)
            if matches:
                fields[token] = int(piece)
        if not matches:
            raise CommandRejected(ErrorCode.E28832, "", text, date_format)
    if position != len(text):
        raise CommandRejected(ErrorCode.E28832, "", text, date_format)

    month = fields["MM"]
    year = fields["CCYY"] if "CCYY" in fields else 2000 + fields["YY"]
    if not 1 <= month <= 12:
        raise CommandRejected(ErrorCode.E28833)
    if not _MIN_YEAR <= year <= _MAX_YEAR:
        raise CommandRejected(ErrorCode.E28834)
    try:
        return datetime.date(year, month, fields["DD"])
    except ValueError:
        # Year and month are valid by now, so only the day can be out of range.
        raise CommandRejected(ErrorCode.E28835) from None


def _parse_time(text: str) -> tuple[bool, int, int]:
    """``(relative, hour, minute)`` with the hour in the 24-hour clock unless relative; E28837–E28840 if bad."""
    suffix = text[-1:].upper() if text[-1:] in ("A", "a", "P", "p", "+") else ""
    body = text[: len(text) - len(suffix)]
    match = _TIME_PLAIN.fullmatch(body) or _TIME_COLON.fullmatch(body)
    if match is None:
        raise CommandRejected(ErrorCode.E28840)
    if match.group(3) is not None:
        raise CommandRejected(ErrorCode.E28839)
    hour, minute = int(match.group(1)), int(match.group(2))
    if suffix in ("A", "P"):
        if not 1 <= hour <= 12:
            raise CommandRejected(ErrorCode.E28837)
        # 12A is midnight and 12P noon: the 12 o'clock hour belongs to the half-day it starts.
        hour = hour % 12 + (12 if suffix == "P" else 0)
    elif suffix == "" and hour > 23:
        raise CommandRejected(ErrorCode.E28837)
    if minute > 59:
        raise CommandRejected(ErrorCode.E28838)
    return suffix == "+", hour, minute


def _select_phone(index_text: str, number: str, phones: Sequence[str]) -> tuple[str, int | None]:
    """The number to call and the phone index it came from; E28841, E28842,B or E28843 if bad."""
    if number:
        if _PHONE.fullmatch(number) is None:
            raise CommandRejected(ErrorCode.E28843, "", number)
        return number, None
    if not index_text or any(char not in _DIGITS for char in index_text):
        raise CommandRejected(ErrorCode.E28841)
    index = int(index_text)
    if not 1 <= index <= len(phones):
        raise CommandRejected(ErrorCode.E28841)
    phone = phones[index - 1].strip()
    if _PHONE.fullmatch(phone) is None:
        raise CommandRejected(ErrorCode.E28842, "B")
    return phone, index


def _record_zone(record_zone: str | None, server_zone: datetime.tzinfo) -> datetime.tzinfo:
    """The zone the legal hours are judged in; E28842,T or E28849,agent if the record's zone is unusable."""
    if record_zone is None:
        return server_zone
    key = record_zone.strip()
    if not key:
        # The record has a zone field but it is blank: the dialer cannot place the customer at all, which
        # is E28842's "T" (time zone unknown) rather than E28849's name lookup failure.
        raise CommandRejected(ErrorCode.E28842, "T")
    # Membership first: ZoneInfo() itself accepts odd keys ("posixrules") and raises assorted errors on
    # others ("../x", "zone.tab"); the list of available zones is the one definition of "known".
    if key not in _known_zones():
        raise CommandRejected(ErrorCode.E28849, ZONE_PROCESS)
    return zoneinfo.ZoneInfo(key)


@functools.cache
def _known_zones() -> frozenset[str]:
    """The IANA zone names available on this system (scanning the tz database once)."""
    return frozenset(zoneinfo.available_timezones())


def _parse_clock(text: str) -> int:
    """Minutes since midnight of an ``"HH:MM"`` calling-hours bound; ``ValueError`` if malformed."""
    match = _CLOCK.fullmatch(text.strip())
    if match is None or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise ValueError(f"calling hours must be 'HH:MM' (00:00-23:59), got {text!r}")
    return int(match.group(1)) * 60 + int(match.group(2))
