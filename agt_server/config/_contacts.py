"""The records of calling lists, read from their CSV files or generated.

A CSV file has a header line naming its columns, then one record per line.  It is read as UTF-8 (with or
without a BOM), or as Latin-1 when it is not valid UTF-8, which is what spreadsheets on Windows often
save.  Values are stripped of surrounding blanks; an empty value is allowed in every field but the id
field.  Each value must fit its field: at most the field's length, and for ``N`` digits only, for ``$``
an amount (``-12.50``), for ``D`` a date (``2025/07/01`` or ``2025-07-01``), for ``T`` a time of day
(``08:30``); ``C`` takes any text.

A generated list makes up plausible records, the same ones for the same seed and list name: names,
unique account numbers, 10-digit phone numbers, balances, cities, due dates and time zones for the fields
so named, and text fitting its type and length for any other field.
"""

from __future__ import annotations

import datetime
import random
import re
from collections.abc import Callable
from pathlib import Path

from ._load import (
    TIME_OF_DAY,
    ConfigError,
    CsvInvalid,
    CsvUnreadable,
    csv_columns,
    format_date,
    id_space,
    read_csv,
)
from ._models import CallingListConfig, ContactRecord, FieldSpec, FieldType, SiteConfig

__all__ = ["load_all", "load_records"]

_DIGITS = re.compile(r"[0-9]+")
_AMOUNT = re.compile(r"-?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)")
_DATE = re.compile(r"(?P<year>[0-9]{4})(?P<sep>[/-])(?P<month>[0-9]{2})(?P=sep)(?P<day>[0-9]{2})")


def load_records(calling_list: CallingListConfig, *, seed: int = 0) -> tuple[ContactRecord, ...]:
    """The records of ``calling_list``: read from its CSV file, or generated.

    Each record's fields are in the list's field order; its id is the value of the list's ``id_field``
    (the first field by default).

    Args:
        calling_list: the list.
        seed: with the list's name, decides the generated records (unused for a CSV file).

    Raises:
        ConfigError: the CSV file cannot be read, lacks a field's column, or has a bad value or a
            duplicate record id; the message names the file, the line and the field.  Also when a
            generated list's id field cannot hold that many different values.
    """
    if calling_list.csv_path is not None:
        return _read_records(calling_list, calling_list.csv_path)
    return _generate_records(calling_list, seed)


def load_all(config: SiteConfig) -> dict[str, tuple[ContactRecord, ...]]:
    """The records of every calling list of ``config``, by list name.

    Generated lists use ``config.simulation.seed`` (0 when it is ``None``), so they are the same on every
    run of one configuration.
    """
    seed = config.simulation.seed or 0
    return {calling_list.name: load_records(calling_list, seed=seed) for calling_list in config.calling_lists}


def _id_field(calling_list: CallingListConfig) -> FieldSpec:
    if not calling_list.fields:
        raise ConfigError(f"calling list {calling_list.name!r}: has no fields")
    name = calling_list.id_field or calling_list.fields[0].name
    for field in calling_list.fields:
        if field.name == name:
            return field
    raise ConfigError(f"calling list {calling_list.name!r}: id_field {name!r} is not one of its fields")


# -- CSV files ---------------------------------------------------------------------------------------------------


def _read_records(calling_list: CallingListConfig, path: Path) -> tuple[ContactRecord, ...]:
    shown = str(path)
    id_field = _id_field(calling_list)
    names = [field.name for field in calling_list.fields]
    try:
        contents = read_csv(path)
        columns = csv_columns(contents, names)
    except CsvUnreadable as exc:
        raise ConfigError(f"{shown}: cannot read: {exc.reason}") from None
    except CsvInvalid as exc:
        raise ConfigError(f"{shown}: {exc.where}: {exc.problem}") from None
    width = len(contents.header)
    first_seen: dict[str, int] = {}
    records = []
    for line, values in contents.rows:
        if len(values) != width:
            count = f"{len(values)} value" + ("" if len(values) == 1 else "s")
            raise ConfigError(f"{shown}: line {line}: {count}, but the header has {width} columns")
        fields = []
        for field, column in zip(calling_list.fields, columns, strict=True):
            value = values[column]
            problem = value_problem(field, value)
            if problem is None and field is id_field:
                if not value:
                    problem = "the record id must not be empty"
                elif value in first_seen:
                    problem = f"duplicate record id {value!r} (first on line {first_seen[value]})"
            if problem is not None:
                raise ConfigError(f"{shown}: line {line}, {field.name}: {problem}")
            fields.append((field.name, value))
        record_id = values[columns[names.index(id_field.name)]]
        first_seen[record_id] = line
        records.append(ContactRecord(record_id=record_id, fields=tuple(fields)))
    return tuple(records)


def value_problem(field: FieldSpec, value: str) -> str | None:
    """What is wrong with ``value`` in ``field`` (its length, its type), or ``None``; empty values fit."""
    if len(value) > field.length:
        return f"{value!r} is longer than {field.length} characters ({len(value)})"
    if not value:
        return None
    if field.type is FieldType.NUMERIC and not _DIGITS.fullmatch(value):
        return f"{value!r} is not a number (digits only)"
    if field.type is FieldType.CURRENCY and not _AMOUNT.fullmatch(value):
        return f"{value!r} is not an amount"
    if field.type is FieldType.DATE and not _is_date(value):
        return f"{value!r} is not a date (YYYY/MM/DD or YYYY-MM-DD)"
    if field.type is FieldType.TIME and not TIME_OF_DAY.fullmatch(value):
        return f"{value!r} is not a time (HH:MM)"
    return None


def _is_date(value: str) -> bool:
    match = _DATE.fullmatch(value)
    if match is None:
        return False
    try:
        datetime.date(int(match["year"]), int(match["month"]), int(match["day"]))
    except ValueError:
        return False
    return True


# -- generated lists ---------------------------------------------------------------------------------------------

_FIRST_NAMES = (
    "Ada", "Bruno", "Chiara", "Desmond", "Elena", "Farid", "Greta", "Hiro", "Ingrid", "Jonas",
    "Keiko", "Luis", "Maya", "Nikolai", "Olivia", "Priya", "Quentin", "Rosa", "Samuel", "Tamara",
    "Umar", "Valentina", "Wesley", "Ximena", "Yusuf", "Zoe",
)  # fmt: skip
_LAST_NAMES = (
    "Whitfield", "Castellanos", "Lindqvist", "Okafor", "Marchetti", "Haddad", "Novak", "Tanabe", "Solberg",
    "Pereira", "Brennan", "Dubois", "Fischer", "Gallagher", "Ivanova", "Jensen", "Kowalski", "Moreau",
    "Nakamura", "O'Neill", "Patel", "Quinn", "Rossi", "Schneider", "Torres", "Young",
)  # fmt: skip
_CITIES = (
    "Springfield", "Riverton", "Lakeside", "Fairview", "Greenville", "Oakdale", "Madison", "Georgetown",
    "Clinton", "Franklin", "Salem", "Bristol", "Ashland", "Burlington", "Dover", "Milford",
)  # fmt: skip
_TIME_ZONES = (
    "America/New_York", "America/Chicago", "America/Denver", "America/Phoenix", "America/Los_Angeles",
    "America/Anchorage", "Pacific/Honolulu",
)  # fmt: skip
_WORDS = ("standard", "premium", "basic", "gold", "silver", "renewal", "priority", "review", "new", "returning")
#: Generated dates (other than ids) fall in the year from this day.
_DATES_FROM = datetime.date(2025, 1, 1)


def _generate_records(calling_list: CallingListConfig, seed: int) -> tuple[ContactRecord, ...]:
    count = calling_list.generated_records
    if count <= 0:
        return ()
    id_field = _id_field(calling_list)
    # A string seed is hashed with SHA-512, so the records do not depend on PYTHONHASHSEED.
    rng = random.Random(f"{seed}:{calling_list.name}")
    columns: list[list[str]] = []
    for field in calling_list.fields:
        unique = field is id_field or (_kind(field) == "account" and len(id_space(field)[0]) >= count)
        if unique:
            columns.append(_unique_values(calling_list, field, count, rng))
        else:
            make = _maker(field)
            columns.append([make(rng) for _ in range(count)])
    names = [field.name for field in calling_list.fields]
    id_column = columns[names.index(id_field.name)]
    return tuple(
        ContactRecord(record_id=id_column[index], fields=tuple(zip(names, row, strict=True)))
        for index, row in enumerate(zip(*columns, strict=True))
    )


def _unique_values(calling_list: CallingListConfig, field: FieldSpec, count: int, rng: random.Random) -> list[str]:
    population, write = id_space(field)
    if len(population) < count:
        raise ConfigError(
            f"calling list {calling_list.name!r}: cannot generate {count} records: the id field {field.name!r} "
            f"(type {field.type.value!r}, length {field.length}) holds at most {len(population)} different values"
        )
    if field.type in (FieldType.NUMERIC, FieldType.CHARACTER) and count <= len(population) * 9 // 10:
        # Account numbers look better without leading zeros: 10**(n-1) to 10**n - 1.
        population = range(len(population) // 10, len(population))
    elif field.type is FieldType.DATE:
        population = population[: max(count, 10 * 366)]  # days of the 2000s, unless more are needed
    return [write(number) for number in rng.sample(population, count)]


def _kind(field: FieldSpec) -> str:
    """What kind of data a field holds, guessed from its name."""
    name = field.name.upper().replace("_", "")
    if name in ("ACCTNUM", "ACCTNO", "ACCOUNT", "ACCOUNTNUMBER", "ACCTNUMBER"):
        return "account"
    if "PHONE" in name:
        return "phone"
    if name in ("NAME", "FULLNAME", "CUSTNAME", "CUSTOMER", "CUSTOMERNAME"):
        return "name"
    if name.startswith(("FIRST", "FNAME", "GIVEN")):
        return "first"
    if name.startswith(("LAST", "LNAME", "SURNAME")):
        return "last"
    if "CITY" in name or "TOWN" in name:
        return "city"
    if name in ("TZ", "TIMEZONE", "ZONE"):
        return "zone"
    return "other"


def _maker(field: FieldSpec) -> Callable[[random.Random], str]:
    """A function making one random value for ``field``, fitting its type and length."""
    length = field.length
    if field.type is FieldType.CURRENCY:
        return lambda rng: _amount(rng, length)
    if field.type is FieldType.DATE:
        if length < 10:
            return lambda rng: ""
        return lambda rng: format_date(_DATES_FROM + datetime.timedelta(days=rng.randrange(365)))
    if field.type is FieldType.TIME:
        if length < 5:
            return lambda rng: ""
        return lambda rng: f"{rng.randrange(8, 21):02d}:{rng.randrange(0, 60, 5):02d}"
    kind = _kind(field)
    if kind == "phone" and length >= 10:
        # 555-0100 to 555-0199 are the numbers set aside for fiction.
        return lambda rng: f"{rng.randrange(201, 990)}5550{rng.randrange(100, 200)}"
    if field.type is FieldType.NUMERIC or kind in ("phone", "account"):
        digits = min(length, 10)
        return lambda rng: f"{rng.randrange(10**digits):0{digits}d}"
    if kind == "zone":
        zones = [zone for zone in _TIME_ZONES if len(zone) <= length] or (["UTC"] if length >= 3 else [""])
        return lambda rng: rng.choice(zones)
    if kind == "name":
        return lambda rng: _fit(f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}", length)
    choices = {"first": _FIRST_NAMES, "last": _LAST_NAMES, "city": _CITIES}.get(kind, _WORDS)
    return lambda rng: _fit(rng.choice(choices), length)


def _fit(text: str, length: int) -> str:
    return text[:length].rstrip()


def _amount(rng: random.Random, length: int) -> str:
    """An amount with cents such as 123.45 (up to 9999.99), or whole when the field is shorter than 4."""
    if length < 4:
        return str(rng.randrange(10**length))
    cents = rng.randrange(10 ** (min(length - 3, 4) + 2))
    return f"{cents // 100}.{cents % 100:02d}"
