"""Tests for calling-list records: read from CSV files (load_records) or generated, and load_all."""

from __future__ import annotations

import re
import zoneinfo
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agt_server.config import (
    CallingListConfig,
    ConfigError,
    ContactRecord,
    FieldSpec,
    FieldType,
    SimulationConfig,
    demo_config,
    load_all,
    load_config,
    load_records,
)
from agt_server.config._contacts import value_problem
from agt_server.config._load import id_space

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

#: The demo's field layout, which the example's accounts.csv also has.
FIELDS = (
    FieldSpec("ACCTNUM", 16, FieldType.NUMERIC),
    FieldSpec("NAME", 26, FieldType.CHARACTER),
    FieldSpec("PHONE1", 10, FieldType.NUMERIC),
    FieldSpec("PHONE2", 10, FieldType.NUMERIC),
    FieldSpec("BALANCE", 10, FieldType.CURRENCY),
    FieldSpec("CITY", 20, FieldType.CHARACTER),
    FieldSpec("DUEDATE", 10, FieldType.DATE),
)
HEADER = "ACCTNUM,NAME,PHONE1,PHONE2,BALANCE,CITY,DUEDATE\n"
ROW = "1000,Ada Whitfield,5550100101,,1250.00,Springfield,2025/07/01\n"


def csv_file(tmp_path: Path, text: str, name: str = "accounts.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def csv_list(path: Path, fields: tuple[FieldSpec, ...] = FIELDS, id_field: str | None = None) -> CallingListConfig:
    return CallingListConfig("accounts", fields, csv_path=path, id_field=id_field)


def records_error(calling_list: CallingListConfig) -> str:
    with pytest.raises(ConfigError) as info:
        load_records(calling_list)
    assert info.value.__cause__ is None
    return str(info.value)


def generated(
    count: int, fields: tuple[FieldSpec, ...] = FIELDS, name: str = "leads", id_field: str | None = None
) -> CallingListConfig:
    return CallingListConfig(name, fields, generated_records=count, id_field=id_field)


def assert_valid(calling_list: CallingListConfig, records: tuple[ContactRecord, ...]) -> None:
    """Every record has the list's fields in order, values fitting their fields, and a unique non-empty id."""
    names = [field.name for field in calling_list.fields]
    id_name = calling_list.id_field or names[0]
    assert len(records) == calling_list.generated_records
    for record in records:
        assert [name for name, _ in record.fields] == names
        for field, (_, value) in zip(calling_list.fields, record.fields, strict=True):
            assert value_problem(field, value) is None, (field, value)
            assert value == value.strip()
            assert "," not in value
        assert record.record_id == dict(record.fields)[id_name]
        assert record.record_id
    assert len({record.record_id for record in records}) == len(records)


class TestCsvRecords:
    def test_example_accounts(self) -> None:
        """examples/accounts.csv gives ten records in file order, ids from ACCTNUM, values as written."""
        site = load_config(EXAMPLES / "site.toml")
        records = load_records(site.calling_lists[0])
        assert len(records) == 10
        assert records[1] == ContactRecord(
            record_id="1000000000000002",
            fields=(
                ("ACCTNUM", "1000000000000002"),
                ("NAME", "Bruno Castellanos"),
                ("PHONE1", "5550100201"),
                ("PHONE2", ""),
                ("BALANCE", "89.99"),
                ("CITY", "Riverton"),
                ("DUEDATE", "2025/07/03"),
            ),
        )
        assert [record.record_id for record in records] == [f"10000000000000{n:02d}" for n in range(1, 11)]

    def test_header_derived_list(self) -> None:
        """The example's header-derived list has the same records, every value as text."""
        site = load_config(EXAMPLES / "site.toml")
        declared, derived = site.calling_lists[:2]
        assert load_records(derived) == load_records(declared)
        assert all(field.type is FieldType.CHARACTER for field in derived.fields)

    def test_field_order_is_the_lists(self, tmp_path: Path) -> None:
        """Fields come in the list's order whatever the column order; other columns are ignored."""
        path = csv_file(tmp_path, "NOTE,B,A\nhello,2,1\n")
        fields = (FieldSpec("A", 3, FieldType.NUMERIC), FieldSpec("B", 3))
        assert load_records(csv_list(path, fields)) == (ContactRecord("1", (("A", "1"), ("B", "2"))),)

    def test_id_field(self, tmp_path: Path) -> None:
        """id_field picks the field whose value is the record id."""
        path = csv_file(tmp_path, HEADER + ROW)
        assert load_records(csv_list(path, id_field="PHONE1"))[0].record_id == "5550100101"

    @pytest.mark.parametrize(("field", "value"), [
        (FieldSpec("X", 5, FieldType.NUMERIC), "00123"),
        (FieldSpec("X", 10, FieldType.CURRENCY), "-12.50"),
        (FieldSpec("X", 10, FieldType.CURRENCY), "100"),
        (FieldSpec("X", 10, FieldType.CURRENCY), ".5"),
        (FieldSpec("X", 10, FieldType.DATE), "2024/02/29"),
        (FieldSpec("X", 10, FieldType.DATE), "2025-07-01"),
        (FieldSpec("X", 5, FieldType.TIME), "00:00"),
        (FieldSpec("X", 5, FieldType.TIME), "23:59"),
        (FieldSpec("X", 3), "a;b"),
        (FieldSpec("X", 5, FieldType.NUMERIC), ""),
        (FieldSpec("X", 10, FieldType.DATE), ""),
    ])  # fmt: skip
    def test_good_values(self, tmp_path: Path, field: FieldSpec, value: str) -> None:
        """Values of each type in the accepted forms, and empty values, are kept as written."""
        path = csv_file(tmp_path, f"ID,X\n1,{value}\n")
        records = load_records(csv_list(path, (FieldSpec("ID", 2), field)))
        assert records[0].fields[1] == ("X", value)

    @pytest.mark.parametrize(("field", "value", "problem"), [
        (FieldSpec("X", 5, FieldType.NUMERIC), "12a", "'12a' is not a number (digits only)"),
        (FieldSpec("X", 5, FieldType.NUMERIC), "-12", "'-12' is not a number (digits only)"),
        (FieldSpec("X", 5, FieldType.NUMERIC), "\u0661\u0662", "'\u0661\u0662' is not a number (digits only)"),
        (FieldSpec("X", 10, FieldType.CURRENCY), "12.x", "'12.x' is not an amount"),
        (FieldSpec("X", 10, FieldType.CURRENCY), "$12", "'$12' is not an amount"),
        (FieldSpec("X", 10, FieldType.CURRENCY), "12.", "'12.' is not an amount"),
        (FieldSpec("X", 10, FieldType.DATE), "2025/13/01", "'2025/13/01' is not a date (YYYY/MM/DD or YYYY-MM-DD)"),
        (FieldSpec("X", 10, FieldType.DATE), "2025/02/29", "'2025/02/29' is not a date (YYYY/MM/DD or YYYY-MM-DD)"),
        (FieldSpec("X", 10, FieldType.DATE), "2025-07/01", "'2025-07/01' is not a date (YYYY/MM/DD or YYYY-MM-DD)"),
        (FieldSpec("X", 10, FieldType.DATE), "07/01/2025", "'07/01/2025' is not a date (YYYY/MM/DD or YYYY-MM-DD)"),
        (FieldSpec("X", 5, FieldType.TIME), "24:00", "'24:00' is not a time (HH:MM)"),
        (FieldSpec("X", 5, FieldType.TIME), "8:30", "'8:30' is not a time (HH:MM)"),
        (FieldSpec("X", 3), "abcd", "'abcd' is longer than 3 characters (4)"),
        (FieldSpec("X", 3, FieldType.NUMERIC), "1234", "'1234' is longer than 3 characters (4)"),
    ])  # fmt: skip
    def test_bad_values(self, tmp_path: Path, field: FieldSpec, value: str, problem: str) -> None:
        """A value that does not fit its field fails naming the file, the line and the field."""
        path = csv_file(tmp_path, f"ID,X\n1,\n2,{value}\n")
        assert records_error(csv_list(path, (FieldSpec("ID", 2), field))) == f"{path}: line 3, X: {problem}"

    def test_bad_amount_on_line_7(self, tmp_path: Path) -> None:
        """The brief's example: line numbers count the header and blank lines."""
        rows = "".join(ROW.replace("1000", str(1000 + n)) for n in range(4))
        path = csv_file(tmp_path, HEADER + rows + "\n" + ROW.replace("1000", "1009").replace("1250.00", "12.x"))
        assert records_error(csv_list(path)) == f"{path}: line 7, BALANCE: '12.x' is not an amount"

    def test_duplicate_record_id(self, tmp_path: Path) -> None:
        """Two records with one id fail at the second, naming the line of the first."""
        path = csv_file(tmp_path, HEADER + ROW + ROW.replace("1000", "1001") + ROW)
        assert records_error(csv_list(path)) == f"{path}: line 4, ACCTNUM: duplicate record id '1000' (first on line 2)"

    def test_duplicate_after_stripping(self, tmp_path: Path) -> None:
        """Values are stripped of surrounding blanks, so ' 7' and '7' are the same id."""
        path = csv_file(tmp_path, "ID,X\n7,a\n 7 ,b\n")
        assert records_error(csv_list(path, (FieldSpec("ID", 2), FieldSpec("X", 1)))) == (
            f"{path}: line 3, ID: duplicate record id '7' (first on line 2)"
        )

    def test_empty_record_id(self, tmp_path: Path) -> None:
        """The id field may not be empty (other fields may)."""
        path = csv_file(tmp_path, HEADER + ROW.replace("1000", ""))
        assert records_error(csv_list(path)) == f"{path}: line 2, ACCTNUM: the record id must not be empty"

    @pytest.mark.parametrize(("row", "count"), [("1,2\n", "2 values"), ("1\n", "1 value"), ("1,2,3,4\n", "4 values")])
    def test_wrong_number_of_values(self, tmp_path: Path, row: str, count: str) -> None:
        """Each row has as many values as the header has columns."""
        path = csv_file(tmp_path, "A,B,C\n" + row)
        fields = (FieldSpec("A", 5), FieldSpec("B", 5))
        assert records_error(csv_list(path, fields)) == f"{path}: line 2: {count}, but the header has 3 columns"

    def test_blank_lines_and_quotes(self, tmp_path: Path) -> None:
        """Blank rows are skipped; quoted values may hold commas and line breaks; a row's line is where it starts."""
        path = csv_file(tmp_path, 'ID,X\n\n1,"a, b"\n,\n2,"line\nbreak"\n3,"x\n')
        fields = (FieldSpec("ID", 2), FieldSpec("X", 20))
        assert records_error(csv_list(path, fields)) == f"{path}: line 7: not valid CSV: unexpected end of data"
        csv_file(tmp_path, 'ID,X\n\n1,"a, b"\n,\n2,"line\nbreak"\n3,"x ""y"""\n')
        assert [record.fields[1][1] for record in load_records(csv_list(path, fields))] == [
            "a, b",
            "line\nbreak",
            'x "y"',
        ]
        csv_file(tmp_path, 'ID,X\n\n1,"a, b"\n,\n2,"line\nbreak"\n3,"x\n4,5\n"\n1,z\n')
        assert (
            records_error(csv_list(path, fields)) == f"{path}: line 10, ID: duplicate record id '1' (first on line 3)"
        )

    def test_crlf_line_endings(self, tmp_path: Path) -> None:
        """Windows line endings are read like any other."""
        path = tmp_path / "accounts.csv"
        path.write_bytes(b"ID,X\r\n1,a\r\n2,b\r\n")
        records = load_records(csv_list(path, (FieldSpec("ID", 2), FieldSpec("X", 1))))
        assert [record.fields for record in records] == [(("ID", "1"), ("X", "a")), (("ID", "2"), ("X", "b"))]

    def test_latin1_fallback(self, tmp_path: Path) -> None:
        """A file that is not valid UTF-8 is read as Latin-1."""
        path = tmp_path / "accounts.csv"
        path.write_bytes("ID,NAME\n1,Jürgen Müller\n2,Zoë\n".encode("latin-1"))
        records = load_records(csv_list(path, (FieldSpec("ID", 2), FieldSpec("NAME", 20))))
        assert [record.fields[1][1] for record in records] == ["Jürgen Müller", "Zoë"]

    def test_utf8_with_bom(self, tmp_path: Path) -> None:
        """A UTF-8 file is read as UTF-8, with or without a BOM before the header."""
        path = tmp_path / "accounts.csv"
        path.write_bytes("\ufeffID,NAME\n1,Zoë Ōta\n".encode())
        records = load_records(csv_list(path, (FieldSpec("ID", 2), FieldSpec("NAME", 20))))
        assert records == (ContactRecord("1", (("ID", "1"), ("NAME", "Zoë Ōta"))),)

    def test_missing_file(self, tmp_path: Path) -> None:
        """A file that cannot be read is reported with the system's reason."""
        path = tmp_path / "nope.csv"
        assert records_error(csv_list(path)) == f"{path}: cannot read: No such file or directory"

    def test_missing_column(self, tmp_path: Path) -> None:
        """A field without a column (a list built in code) is reported at the header's line."""
        path = csv_file(tmp_path, "\nACCTNUM,NAME\n1,Ada\n")
        assert records_error(csv_list(path)) == f"{path}: line 2: no column for field 'PHONE1'"

    def test_header_only(self, tmp_path: Path) -> None:
        """A header without rows is an empty list."""
        assert load_records(csv_list(csv_file(tmp_path, HEADER))) == ()

    def test_empty_file(self, tmp_path: Path) -> None:
        """An empty file has no header."""
        path = csv_file(tmp_path, "")
        assert records_error(csv_list(path)) == f"{path}: line 1: no header line (the file is empty or blank)"

    def test_header_derived_from_toml(self, tmp_path: Path) -> None:
        """A list whose fields come from the header loads back every value, the longest filling its field."""
        csv_file(tmp_path, "CODE,LABEL\nA1,first\nB22,second one\n", "l1.csv")
        hashed = load_config(EXAMPLES / "site.toml").agents[0].password_hash
        (tmp_path / "site.toml").write_text(
            '[[calling_lists]]\nname = "l1"\ncsv = "l1.csv"\nid_field = "LABEL"\n'
            '[[jobs]]\nname = "J1"\ntype = "O"\noutbound_list = "l1"\n'
            f'[[agents]]\nname = "a1"\npassword_hash = "{hashed}"\n',
            encoding="utf-8",
        )
        calling_list = load_config(tmp_path / "site.toml").calling_lists[0]
        assert calling_list.fields == (FieldSpec("CODE", 3), FieldSpec("LABEL", 10))
        assert load_records(calling_list) == (
            ContactRecord("first", (("CODE", "A1"), ("LABEL", "first"))),
            ContactRecord("second one", (("CODE", "B22"), ("LABEL", "second one"))),
        )

    def test_value_longer_than_255_in_header_derived_list(self, tmp_path: Path) -> None:
        """A header-derived field is at most 255 long, so a longer value is reported by load_records."""
        long_value = "x" * 256
        path = csv_file(tmp_path, f"ID,X\n1,{long_value}\n")
        with_fields = csv_list(path, (FieldSpec("ID", 1), FieldSpec("X", 255)))
        assert records_error(with_fields) == f"{path}: line 2, X: {long_value!r} is longer than 255 characters (256)"


DEMO_FIELDS_PATTERNS = {
    "ACCTNUM": r"[1-9][0-9]{15}",
    "NAME": r"[A-Z][a-z]+ [A-Z][A-Za-z']+",
    "PHONE1": r"[2-9][0-9]{2}5550[0-9]{3}",
    "PHONE2": r"[2-9][0-9]{2}5550[0-9]{3}",
    "BALANCE": r"[0-9]{1,4}\.[0-9]{2}",
    "CITY": r"[A-Z][a-z]+",
    "DUEDATE": r"2025/[01][0-9]/[0-3][0-9]",
}


class TestGeneratedRecords:
    def test_plausible_values(self) -> None:
        """Generated records have names, 16-digit account numbers, phones, balances, cities and due dates."""
        calling_list = generated(300)
        records = load_records(calling_list, seed=1)
        assert_valid(calling_list, records)
        for record in records:
            for name, value in record.fields:
                assert re.fullmatch(DEMO_FIELDS_PATTERNS[name], value), (name, value)
        assert len({dict(record.fields)["NAME"] for record in records}) > 100
        assert len({dict(record.fields)["CITY"] for record in records}) > 5

    def test_same_seed_same_records(self) -> None:
        """The same seed and list name give the same records, in the same order."""
        assert load_records(generated(50), seed=3) == load_records(generated(50), seed=3)

    def test_different_seed_or_name_different_records(self) -> None:
        """Another seed, or another list name, gives other records."""
        base = load_records(generated(50), seed=3)
        assert load_records(generated(50), seed=4) != base
        assert load_records(generated(50, name="other"), seed=3) != base
        assert load_records(generated(50), seed=-3) != base

    def test_default_seed_is_zero(self) -> None:
        """load_records without a seed uses seed 0."""
        assert load_records(generated(5)) == load_records(generated(5), seed=0)

    def test_time_zones(self) -> None:
        """A TZ field holds IANA time zones that fit it."""
        fields = (FieldSpec("ACCTNUM", 8, FieldType.NUMERIC), FieldSpec("TZ", 20), FieldSpec("TIMEZONE", 14))
        records = load_records(generated(100, fields))
        zones = {value for record in records for name, value in record.fields if name in ("TZ", "TIMEZONE")}
        assert len(zones) > 3
        for zone in zones:
            zoneinfo.ZoneInfo(zone)
        assert all(len(dict(record.fields)["TIMEZONE"]) <= 14 for record in records)

    def test_other_fields(self) -> None:
        """Fields with other names get values of their type: digits, amounts, dates, times, words."""
        fields = (
            FieldSpec("ID", 4, FieldType.NUMERIC),
            FieldSpec("SCORE", 3, FieldType.NUMERIC),
            FieldSpec("FEE", 3, FieldType.CURRENCY),
            FieldSpec("OPENED", 10, FieldType.DATE),
            FieldSpec("SHORTDATE", 8, FieldType.DATE),
            FieldSpec("BEST_TIME", 5, FieldType.TIME),
            FieldSpec("SEGMENT", 4),
            FieldSpec("FIRSTNAME", 12),
            FieldSpec("LAST_NAME", 3),
        )
        calling_list = generated(40, fields)
        records = load_records(calling_list)
        assert_valid(calling_list, records)
        values = {name: [dict(record.fields)[name] for record in records] for name in (f.name for f in fields)}
        assert all(re.fullmatch(r"[0-9]{3}", value) for value in values["SCORE"])
        assert all(re.fullmatch(r"[0-9]{1,3}", value) for value in values["FEE"])
        assert all(value == "" for value in values["SHORTDATE"])
        assert all(re.fullmatch(r"[0-9]{2}:[0-9]{2}", value) for value in values["BEST_TIME"])
        assert all(value.isalpha() for value in values["FIRSTNAME"])

    @pytest.mark.parametrize("field", [
        FieldSpec("ID", 10, FieldType.DATE),
        FieldSpec("ID", 5, FieldType.TIME),
        FieldSpec("ID", 6, FieldType.CURRENCY),
        FieldSpec("ID", 2, FieldType.CURRENCY),
        FieldSpec("ID", 3),
        FieldSpec("ID", 1, FieldType.NUMERIC),
    ])  # fmt: skip
    def test_id_fields_of_every_type(self, field: FieldSpec) -> None:
        """An id field of any type gets distinct values of that type, as many as it can hold."""
        count = min(len_of(field), 60)
        calling_list = generated(count, (FieldSpec("NAME", 10), field), id_field="ID")
        assert_valid(calling_list, load_records(calling_list))

    def test_id_field_too_small(self) -> None:
        """A list built in code with more records than its id field can tell apart is refused."""
        calling_list = generated(11, (FieldSpec("ID", 1, FieldType.NUMERIC),))
        with pytest.raises(ConfigError) as info:
            load_records(calling_list)
        assert str(info.value) == (
            "calling list 'leads': cannot generate 11 records: the id field 'ID' (type 'N', length 1) "
            "holds at most 10 different values"
        )

    def test_small_account_field_that_is_not_the_id(self) -> None:
        """ACCTNUM too short to be unique, when it is not the id field, still gets digits."""
        fields = (FieldSpec("ID", 4, FieldType.NUMERIC), FieldSpec("ACCTNUM", 1, FieldType.NUMERIC))
        calling_list = generated(50, fields)
        assert_valid(calling_list, load_records(calling_list))

    def test_no_records(self) -> None:
        """A list with neither a CSV file nor generated records is empty."""
        assert load_records(generated(0)) == ()

    @settings(max_examples=50, deadline=None)
    @given(seed=st.integers(min_value=-(2**63), max_value=2**63))
    def test_valid_for_any_seed(self, seed: int) -> None:
        """Whatever the seed, the demo layout's records fit their fields and have unique ids."""
        calling_list = generated(30)
        assert_valid(calling_list, load_records(calling_list, seed=seed))

    @settings(max_examples=200, deadline=None)
    @given(
        specs=st.lists(
            st.tuples(
                st.sampled_from(
                    ["ACCTNUM", "NAME", "PHONE1", "BALANCE", "CITY", "DUEDATE", "TZ", "FIRST", "LAST", "X", "Y"]
                ),
                st.sampled_from(list(FieldType)),
                st.one_of(st.integers(1, 30), st.just(255)),
            ),
            min_size=1,
            max_size=8,
            unique_by=lambda spec: spec[0],
        ),
        count=st.integers(1, 40),
        seed=st.integers(),
        id_index=st.integers(0, 7),
    )
    def test_valid_for_any_layout(
        self, specs: list[tuple[str, FieldType, int]], count: int, seed: int, id_index: int
    ) -> None:
        """Whatever the fields' names, types and lengths, generated values fit them and ids are unique, or the
        id field cannot hold that many records and both the loader's rule and load_records say so."""
        fields = tuple(FieldSpec(name, length, field_type) for name, field_type, length in specs)
        id_field = fields[id_index % len(fields)]
        calling_list = generated(count, fields, id_field=id_field.name)
        if count > len_of(id_field):
            with pytest.raises(ConfigError, match="cannot generate"):
                load_records(calling_list, seed=seed)
            return
        records = load_records(calling_list, seed=seed)
        assert_valid(calling_list, records)
        assert records == load_records(calling_list, seed=seed)


def len_of(field: FieldSpec) -> int:
    """How many different ids a generated list can put in ``field`` (the loader's rule)."""
    return len(id_space(field)[0])


class TestLoadAll:
    def test_demo(self) -> None:
        """Every demo list is present: 200 records each, 500 callers in inbound_calls, all valid."""
        site = demo_config()
        records = load_all(site)
        assert list(records) == [calling_list.name for calling_list in site.calling_lists]
        assert {name: len(list_records) for name, list_records in records.items()} == {
            "cmp1_list": 200,
            "cmp2_list": 200,
            "cmp3_list": 200,
            "cmp4_list": 200,
            "blend1_list": 200,
            "preview1_list": 200,
            "inbound_calls": 500,
        }
        for calling_list in site.calling_lists:
            assert_valid(calling_list, records[calling_list.name])
        # Each list's records are its own.
        assert records["cmp1_list"] != records["cmp2_list"]

    def test_seed_comes_from_the_simulation(self) -> None:
        """load_all uses simulation.seed, 0 when it is None."""
        site = demo_config()
        seeded = attrs.evolve(site, simulation=SimulationConfig(seed=9))
        zero = attrs.evolve(site, simulation=SimulationConfig(seed=0))
        assert load_all(site) == load_all(zero)
        assert load_all(seeded)["cmp1_list"] == load_records(site.calling_lists[0], seed=9)
        assert load_all(seeded)["cmp1_list"] != load_all(site)["cmp1_list"]

    def test_example_site(self) -> None:
        """The example site's lists all load: two from accounts.csv, two generated."""
        records = load_all(load_config(EXAMPLES / "site.toml"))
        assert {name: len(list_records) for name, list_records in records.items()} == {
            "accounts": 10,
            "accounts_text": 10,
            "leads": 500,
            "inbound_calls": 100,
        }

    def test_generated_records_round_trip_through_csv(self, tmp_path: Path) -> None:
        """Generated records written as CSV load back unchanged under the same fields: they obey the CSV rules."""
        calling_list = demo_config().calling_lists[0]
        records = load_all(demo_config())[calling_list.name]
        lines = [",".join(field.name for field in calling_list.fields)]
        lines += [",".join(value for _, value in record.fields) for record in records]
        path = csv_file(tmp_path, "\n".join(lines) + "\n")
        assert load_records(attrs.evolve(calling_list, csv_path=path, generated_records=0)) == records
