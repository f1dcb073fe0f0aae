"""Reading bureau files: every row and every fen accounted for, bad rows quarantined."""

from __future__ import annotations

import csv
import json
from datetime import date, datetime
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dues import uscc
from dues.ingest import REASONS, read_input
from dues.readers import InputError

FIXTURES = Path(__file__).parent / "fixtures"
from _paths import COUNTY, county_summary  # noqa: E402

SUMMARY = county_summary()

COLLECTION_HEADER = [
    "电子税票号码", "登记序号", "社会信用代码(纳税人识别号)", "纳税人名称", "征收品目",
    "征收品目代码", "税款所属期起", "税款所属期止", "计税依据", "税率", "实缴金额", "入库日期",
]  # fmt: skip


@pytest.mark.usefixtures("county")
@pytest.mark.parametrize("name", sorted(SUMMARY["files"]))
def test_example_county_files_give_the_published_figures(name: str) -> None:
    expected = SUMMARY["files"][name]
    stats = read_input(COUNTY / "inputs" / name).stats
    assert stats.rows_read == expected["rows"]
    assert stats.rows_accepted == expected["accepted"]
    assert stats.rows_quarantined == expected["quarantined"]
    assert stats.rows_duplicate == expected.get("duplicates", 0)
    assert stats.money_accepted_fen == expected["accepted_amount_fen"]
    assert stats.rows_conserved and stats.money_conserved


def test_gbk_csv_with_title_rows_and_totals_row() -> None:
    result = read_input(FIXTURES / "collections_gbk_title_totals.csv")
    s = result.stats
    assert (s.kind, s.encoding, s.header_row) == ("collections", "gb18030", 3)
    assert (s.rows_read, s.rows_accepted, s.rows_quarantined) == (3, 2, 1)
    assert (s.totals_row, s.totals_fen, s.totals_check) == (7, 178871, "ok")
    accepted = result.accepted
    assert accepted["amount_fen"].to_list() == [117871, 60000]
    assert accepted["wage_base_fen"].to_list() == [11787120, 3000000]
    assert accepted["rate_bp"].to_list() == [100, 200]
    assert accepted["item"].to_list() == ["dues", "preparatory"]
    assert accepted["period_end"].to_list() == [date(2026, 7, 31), date(2026, 9, 30)]
    assert accepted["source_row"].to_list() == [4, 5]
    bad = result.quarantine.row(0, named=True)
    assert (bad["source_row"], bad["column"], bad["reason"]) == (6, "uscc", "bad_uscc")
    assert json.loads(bad["raw"])["uscc"] == "91110000600037341X"


def test_bom_csv_with_full_width_digits_duplicates_and_conflicts() -> None:
    result = read_input(FIXTURES / "collections_utf8_bom_fullwidth.csv")
    s = result.stats
    assert s.encoding == "utf-8-sig"
    assert (s.rows_read, s.rows_accepted, s.rows_quarantined, s.rows_duplicate) == (5, 3, 1, 1)
    assert result.accepted["amount_fen"].to_list() == [945593, 63871, -100]
    assert result.accepted["paid_date"].to_list()[0] == date(2026, 10, 14)
    conflict = result.quarantine.row(0, named=True)
    assert (conflict["source_row"], conflict["reason"]) == (6, "conflicting_duplicate")
    assert (s.money_read_fen, s.money_duplicate_fen, s.money_quarantined_fen) == (
        945593 + 63871 * 2 - 100 - 200,
        63871,
        -200,
    )
    assert s.money_conserved


def test_english_headers_extra_columns_and_bad_periods() -> None:
    result = read_input(FIXTURES / "allocations_english.csv")
    assert result.stats.kind == "allocations"
    assert result.stats.extra_columns == ("remark",)
    assert result.accepted["voucher_no"].to_list() == ["CZ001"]
    assert result.quarantine["reason"].to_list() == ["bad_period"]


def write_xlsx(path: Path, rows: list[list[object]]) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def good_row(receipt: str, amount: object = 1000.5, **over: object) -> list[object]:
    row: dict[str, object] = {
        "电子税票号码": receipt, "登记序号": 1, "社会信用代码(纳税人识别号)": "91110000600037341L",
        "纳税人名称": "甲公司", "征收品目": "工会经费", "征收品目代码": "399001010",
        "税款所属期起": datetime(2026, 7, 1), "税款所属期止": datetime(2026, 7, 31),
        "计税依据": 100050.0, "税率": 0.01, "实缴金额": amount, "入库日期": 46273,
    }  # fmt: skip
    row.update(over)
    return list(row.values())


def test_xlsx_keeps_excel_row_numbers_below_blank_rows(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "c.xlsx",
        [
            [None],
            ["某县税务局代征明细"],
            [None],
            COLLECTION_HEADER,
            good_row("A1"),
            [None],
            good_row("A2", amount="x"),
            good_row("A3", **{"征收品目": "印花税"}),
            good_row("A4", **{"征收品目代码": "399001020"}),
            good_row("A5", **{"税款所属期止": datetime(2027, 7, 31)}),
            good_row("A6", **{"计税依据": -5}),
            good_row("A7", **{"税率": "abc"}),
            good_row("A8", **{"入库日期": "soon"}),
            good_row("A9", **{"纳税人名称": None}),
            ["合计", None, None, None, None, None, None, None, None, None, 99999],
        ],
    )
    result = read_input(path)
    assert result.stats.header_row == 4
    assert result.accepted["source_row"].to_list() == [5]
    assert result.accepted["paid_date"].to_list() == [date(2026, 9, 8)]
    got = result.quarantine.select("source_row", "column", "reason").rows()
    assert got == [
        (7, "amount", "bad_number"),
        (8, "item", "bad_enum"),
        (9, "item_code", "item_code_mismatch"),
        (10, "period_start", "bad_period"),
        (11, "wage_base", "negative_wage_base"),
        (12, "rate", "bad_rate"),
        (13, "paid_date", "bad_date"),
        (14, "taxpayer_name", "missing_value"),
    ]
    assert result.stats.totals_check == "mismatch"
    assert set(result.quarantine["reason"]) <= set(REASONS)


def test_registry_rules(tmp_path: Path) -> None:
    header = [
        "统一社会信用代码",
        "单位名称",
        "单位类型",
        "职工人数",
        "会员人数",
        "管理工会",
        "建会形式",
        "建会日期",
    ]
    path = write_xlsx(
        tmp_path / "r.xlsx",
        [
            header,
            [
                "91110000600037341L",
                "甲",
                "企业",
                30,
                20,
                "东镇工会",
                "单独建会",
                datetime(2020, 1, 2),
            ],
            [
                "911100007109310534",
                "乙",
                "事业单位",
                5,
                9,
                "东镇工会",
                "单独建会",
                datetime(2020, 1, 2),
            ],
            ["91350100M000100Y43", "丙", "企业", 5, None, "东镇工会", "联合工会", None],
            ["91350100M000100Y43", "丙", "企业", 5, None, "东镇工会", "未建会", None],
        ],
    )
    result = read_input(path)
    assert result.accepted["uscc"].to_list() == ["91110000600037341L", "91350100M000100Y43"]
    assert result.accepted["filing_frequency"].to_list() == ["monthly", "monthly"]
    assert result.quarantine.select("source_row", "reason").rows() == [
        (3, "members_exceed_employees"),
        (4, "missing_union_founded"),
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"\xef\xbb\xbf\r\n  \n", "empty"),  # a BOM and blank lines
        ("电子税票号码,纳税人名称\n1,甲\n".encode(), "missing required column"),
        (b"\xff\xfe\x00\x01garbage\x81", "cannot decode"),
        (b"just,some,words\n1,2,3\n", "no header row"),
    ],
)
def test_unusable_files_fail_whole_with_the_file_name(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match=rf"^bad\.csv: .*{message}"):
        read_input(path)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_a_bare_title_line_above_the_header_is_skipped(tmp_path: Path, encoding: str) -> None:
    """Exports often start with a title alone on its line (no commas to pad it)."""
    row = ["320260000000000001", "1", "91110000600037341L", "甲公司",
           "工会经费", "399001010", "2026-10-01", "2026-10-31", "1,000.00", "0.01", "10.00",
           "2026-11-05"]  # fmt: skip
    lines = ["青溪县税务代收工会经费明细", "", ",".join(COLLECTION_HEADER), ",".join(
        f'"{v}"' if "," in v else v for v in row)]  # fmt: skip
    path = tmp_path / "titled.csv"
    path.write_text("\r\n".join(lines) + "\r\n", encoding=encoding)
    result = read_input(path, "collections")
    s = result.stats
    assert (s.header_row, s.rows_read, s.rows_accepted) == (3, 1, 1)
    assert result.accepted["amount_fen"].to_list() == [1000]
    assert result.accepted["source_row"].to_list() == [4]


def test_missing_column_message_names_column_and_what_was_found(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    header = [h for h in COLLECTION_HEADER if h != "实缴金额"]
    path.write_text(",".join(header) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_input(path, "collections")
    text = str(err.value)
    assert "amount (实缴金额" in text and "found: 电子税票号码" in text


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b"not a workbook",
            r"fake\.xlsx: the file is a text file, not an Excel workbook \(though named \.xlsx\)",
        ),
        (
            b"\x00\x01\x02\xfe binary",
            r"fake\.xlsx: the file is not an Excel workbook \(though named \.xlsx\)",
        ),
        (b"%PDF-1.7", r"fake\.xlsx: the file is a PDF, not an Excel workbook"),
        (b"\xff\xd8\xff\xe0 JFIF", r"fake\.xlsx: the file is an image, not an Excel workbook"),
        (b"PK\x03\x04 a zip, but no workbook", r"fake\.xlsx: the file is a damaged zip archive"),
        (b"", r"fake\.xlsx: the file is empty"),
    ],
)
def test_a_workbook_that_is_not_one_fails_clearly_in_one_line(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "fake.xlsx"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message) as err:
        read_input(path)
    assert "\n" not in str(err.value)


# ---- conservation for any mix of rows ------------------------------------------------

VALID = ["91110000600037341L", "911100007109310534", "91350100M000100Y43"]
row_kinds = st.sampled_from(["good", "dup", "conflict", "bad_uscc", "bad_number", "bad_date"])


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.tuples(row_kinds, st.integers(-(10**9), 10**9)), min_size=1, max_size=30))
def test_rows_and_money_are_conserved_for_any_mix(
    tmp_path: Path, plan: list[tuple[str, int]]
) -> None:
    lines: list[list[str]] = []
    good_keys: list[list[str]] = []
    expected_accepted = 0
    for i, (kind, fen) in enumerate(plan):
        sign = "-" if fen < 0 else ""
        money = f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"
        row = [f"R{i}", "1", VALID[i % 3], "甲", "工会经费", "", "2026-07-01", "2026-07-31",
               "100.00", "1%", money, "2026-08-01"]  # fmt: skip
        if kind in ("dup", "conflict") and good_keys:
            row = list(good_keys[i % len(good_keys)])
            if kind == "conflict":
                row[10] = f"{money}1" if money != row[10] else "0.01"
        elif kind == "bad_uscc":
            row[2] = VALID[0][:-1] + "X"
        elif kind == "bad_number":
            row[8] = "n/a"
        elif kind == "bad_date":
            row[11] = "2026-02-30"
        else:
            good_keys.append(row)
            expected_accepted += 1
        lines.append(row)
    path = tmp_path / "mix.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLLECTION_HEADER)
        writer.writerows(lines)
    result = read_input(path)
    s = result.stats
    assert s.rows_read == len(plan)
    assert s.rows_accepted == expected_accepted
    assert s.rows_conserved and s.money_conserved
    assert s.money_accepted_fen == int(result.accepted["amount_fen"].sum() or 0)
    assert result.accepted.select(["receipt_no", "line_no"]).is_unique().all()
    assert uscc.is_valid(VALID[0])
    assert pl.concat(
        [
            result.accepted.select("source_row"),
            result.quarantine.select("source_row"),
            result.duplicates.select("source_row"),
        ]
    )["source_row"].sort().to_list() == list(range(2, len(plan) + 2))


def test_a_repeat_of_a_conflicting_line_is_quarantined_as_a_conflict_too(tmp_path: Path) -> None:
    """R1/100, R1/200, R1/200: each is judged against the kept R1/100 (SPEC §3)."""
    line = ["R1", "1", VALID[0], "甲", "工会经费", "", "2026-07-01", "2026-07-31",
            "10000.00", "1%"]  # fmt: skip
    path = tmp_path / "repeats.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLLECTION_HEADER)
        for amount in ("100.00", "200.00", "200.00"):
            writer.writerow([*line, amount, "2026-08-01"])
    result = read_input(path)
    s = result.stats
    assert (s.rows_read, s.rows_accepted, s.rows_quarantined, s.rows_duplicate) == (3, 1, 2, 0)
    assert result.accepted["amount_fen"].to_list() == [10000]
    assert result.quarantine.select("source_row", "reason").rows() == [
        (3, "conflicting_duplicate"),
        (4, "conflicting_duplicate"),
    ]
    assert (s.money_read_fen, s.money_quarantined_fen, s.money_duplicate_fen) == (50000, 40000, 0)
    assert s.rows_conserved and s.money_conserved


# ---- totals rows and bureau layouts from outside this project ------------------------

LEADING = ["所属税期", "所属区"]  # extra columns before the contract ones


def write_rows(path: Path, rows: list[list[object]]) -> Path:
    if path.suffix == ".xlsx":
        return write_xlsx(path, rows)
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([["" if v is None else v for v in row] for row in rows])
    return path


def text_row(receipt: str, amount: str = "1000.50", **over: object) -> list[object]:
    dates = {"税款所属期起": "2026-07-01", "税款所属期止": "2026-07-31", "入库日期": "2026-08-10"}
    return good_row(receipt, amount, **(dates | over))


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
@pytest.mark.parametrize(("stated", "check"), [("2,001.00", "ok"), ("2,000.00", "mismatch")])
def test_a_totals_row_labelled_outside_the_contract_columns_is_dropped_and_checked(
    tmp_path: Path, suffix: str, stated: str, check: str
) -> None:
    """合计 in the sheet's first column, before the contract columns (SPEC §2)."""
    blank_row = [None] * len(COLLECTION_HEADER)
    totals = ["合计", None, *blank_row]
    totals[2 + COLLECTION_HEADER.index("计税依据")] = "200100.00"
    totals[2 + COLLECTION_HEADER.index("实缴金额")] = stated
    path = write_rows(
        tmp_path / f"c{suffix}",
        [
            [*LEADING, *COLLECTION_HEADER],
            ["2026-07", "东区", *text_row("A1")],
            ["2026-07", "西区", *text_row("A2")],
            totals,
        ],
    )
    result = read_input(path)
    s = result.stats
    assert (s.rows_read, s.rows_accepted, s.rows_quarantined) == (2, 2, 0)
    assert (s.totals_row, s.totals_check) == (4, check)
    assert s.extra_columns == tuple(LEADING)
    assert result.quarantine.is_empty()


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_receipt_line_that_merely_says_total_is_data(tmp_path: Path, suffix: str) -> None:
    """A totals row has no receipt number (SPEC §3): these lines are read as any other."""
    path = write_rows(
        tmp_path / f"c{suffix}",
        [
            [*LEADING, *COLLECTION_HEADER],
            ["合计", None, *text_row("A1")],
            [None, None, *text_row("A2", **{"纳税人名称": "合计"})],
        ],
    )
    result = read_input(path)
    assert result.accepted["receipt_no"].to_list() == ["A1", "A2"]
    assert result.accepted["taxpayer_name"].to_list() == ["甲公司", "合计"]
    assert result.stats.totals_check == "absent" and result.stats.totals_row is None


def test_the_union_finance_upload_template_is_read_without_a_paid_date() -> None:
    """18 columns, full-width brackets in 社会信用代码（纳税人识别号）, no 入库日期, 合计 in
    所属税期."""
    result = read_input(FIXTURES / "collections_union_finance_template.xlsx")
    s = result.stats
    assert (s.kind, s.header_row, s.rows_read, s.rows_accepted, s.rows_quarantined) == (
        "collections", 1, 5, 3, 2,
    )  # fmt: skip
    assert s.extra_columns == ("所属税期", "工会经费编码", "开户银行", "开户行行号", "银行账号",
                               "收款国库")  # fmt: skip
    assert (s.totals_row, s.totals_fen, s.totals_check) == (7, 175871, "ok")
    assert s.rows_without_paid_date == 3
    assert s.money_accepted_fen == 117871 + 60000 - 5000 and s.money_conserved
    got = result.accepted.select(
        "receipt_no", "line_no", "uscc", "item", "item_code", "period_start", "period_end",
        "wage_base_fen", "rate_bp", "amount_fen", "paid_date", "tax_office", "source_row",
    ).rows()  # fmt: skip
    office = "国家税务总局青溪县税务局"
    assert got == [
        ("332026080000000101", 1, "91110000600037341L", "dues", "399001010", date(2026, 7, 1),
         date(2026, 7, 31), 11787120, 100, 117871, None, office, 2),
        ("332026080000000102", 1, "911100007109310534", "preparatory", "399001020",
         date(2026, 7, 1), date(2026, 9, 30), 3000000, 200, 60000, None, office, 3),
        ("332026080000000103", 2, "91350100M000100Y43", "dues", "399001010", date(2026, 8, 1),
         date(2026, 8, 31), 500000, 100, -5000, None, office, 4),
    ]  # fmt: skip
    assert result.quarantine.select("source_row", "column", "reason").rows() == [
        (5, "uscc", "bad_uscc"),
        (6, "item_code", "item_code_mismatch"),
    ]


@pytest.mark.parametrize("case", ["upper", "lower"])
def test_a_database_export_with_field_codes_as_headers(tmp_path: Path, case: str) -> None:
    """DZSPHM, NSRSBH ... in either case; no 征收品目: the item is read off ZSPM_DM."""
    path = FIXTURES / "collections_field_codes.csv"
    if case == "lower":
        header, rest = path.read_text(encoding="utf-8").split("\n", 1)
        path = tmp_path / path.name
        path.write_text(f"{header.lower()}\n{rest}", encoding="utf-8")
    result = read_input(path)
    s = result.stats
    assert (s.kind, s.rows_read, s.rows_accepted, s.rows_quarantined) == ("collections", 5, 3, 2)
    assert s.extra_columns == () and s.rows_without_paid_date == 0
    got = result.accepted.select(
        "receipt_no", "line_no", "uscc", "taxpayer_name", "item", "item_code", "period_start",
        "period_end", "wage_base_fen", "rate_bp", "amount_fen", "paid_date", "tax_office",
    ).rows()  # fmt: skip
    assert got == [
        ("332026080000000201", 1, "91110000600037341L", "甲公司", "dues", "399001010",
         date(2026, 7, 1), date(2026, 7, 31), 11787120, 100, 117871, date(2026, 8, 10),
         "13201230000"),
        ("332026080000000202", 1, "911100007109310534", "乙公司", "preparatory", "399001020",
         date(2026, 7, 1), date(2026, 9, 30), 3000000, 200, 60000, date(2026, 8, 12),
         "13201230000"),
        ("332026080000000203", 1, "91350100M000100Y43", "丙公司", "dues", "399001010",
         date(2026, 8, 1), date(2026, 8, 31), 500000, 100, -5000, date(2026, 9, 3),
         "13201230000"),
    ]  # fmt: skip
    bad = result.quarantine
    assert bad.select("source_row", "column", "reason").rows() == [
        (5, "item", "bad_enum"),  # 101010100 is no union levy
        (6, "item", "missing_value"),  # no code, so no item
    ]
    assert json.loads(bad["raw"][0])["item_code"] == "101010100"
    assert (s.money_quarantined_fen, s.money_conserved) == (3000 + 8000, True)


# ---- plausibility (SPEC §3) -------------------------------------------------------------


def _collections_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLLECTION_HEADER)
        writer.writerows(rows)
    return path


def _line(receipt: str, start: str, end: str, amount: str = "1.00", paid: str = "2026-10-14"):  # type: ignore[no-untyped-def]
    return [receipt, "1", "91110000600037341L", "甲公司", "工会经费", "399001010", start, end,
            "100.00", "1%", amount, paid]  # fmt: skip


@pytest.mark.parametrize(
    ("max_back", "bad"),
    [(60, ["R2", "R3"]), (61, ["R3"]), (1, ["R1", "R2", "R3"])],
)
def test_a_period_more_than_max_back_months_before_the_run_period_is_bad_period(
    tmp_path: Path, max_back: int, bad: list[str]
) -> None:
    path = _collections_csv(
        tmp_path / "c.csv",
        [
            _line("R1", "2021-10-01", "2021-10-31"),  # 60 months before 2026-10
            _line("R2", "2021-09-01", "2021-09-30"),  # 61
            _line("R3", "2006-10-01", "2006-10-31"),  # 2026 mistyped: 240
            _line("R4", "2026-09-01", "2026-09-30"),
            _line("R5", "2026-11-01", "2026-11-30"),  # later than the run: not this rule's
        ],
    )
    result = read_input(path, run_period="2026-10", max_back_months=max_back)
    raw = [json.loads(r)["receipt_no"] for r in result.quarantine["raw"]]
    assert raw == bad
    assert set(result.quarantine["reason"]) == {"bad_period"}
    assert set(result.quarantine["column"]) == {"period_start"}
    s = result.stats
    assert (s.rows_read, s.rows_quarantined, s.money_quarantined_fen) == (
        5,
        len(bad),
        len(bad) * 100,
    )
    assert s.rows_conserved and s.money_conserved


def test_an_allocation_far_before_the_run_period_is_bad_period_too(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text(
        "voucher_no,uscc,unit_name,period_start,period_end,wage_base,amount,allocated_date\n"
        "CZ1,911100007109310534,某局,2016-07-01,2016-09-30,100.00,2.00,2026-09-28\n"
        "CZ2,911100007109310534,某局,2026-07-01,2026-09-30,100.00,2.00,2026-09-28\n",
        encoding="utf-8",
    )
    run = read_input(path, run_period="2026-10")
    assert run.quarantine.select("source_row", "reason").rows() == [(2, "bad_period")]
    alone = read_input(path)  # `dues validate`: against the allocated date
    assert alone.quarantine.select("source_row", "reason").rows() == [(2, "bad_period")]


@pytest.mark.usefixtures("county")
def test_one_receipt_mistyped_2006_does_not_drag_the_start_period_back(tmp_path: Path) -> None:
    from dues.run import RunRequest, run_period

    typo = _collections_csv(
        tmp_path / "typo.csv",
        [[*_line("320269999999999991", "2006-09-01", "2006-09-30")[:2], "9224861129GYJ6C871",
          *_line("x", "2006-09-01", "2006-09-30")[3:]]],
    )  # fmt: skip
    run = next(r for r in SUMMARY["runs"] if r["period"] == "2026-10")
    summary = run_period(
        RunRequest(
            period="2026-10",
            registry=COUNTY / "inputs" / SUMMARY["registry"],
            collections=(*(COUNTY / "inputs" / f for f in run["collections"]), typo),
            out=tmp_path / "out",
            db=f"sqlite:///{tmp_path / 'ledger.db'}",
        )
    )
    assert summary.start_period == "2026-07"  # this run's own earliest month, as without it
    quarantine = pl.read_parquet(tmp_path / "out" / "2026-10" / "quarantine.parquet")
    typo_rows = quarantine.filter(pl.col("source_file") == "typo.csv")
    assert typo_rows.select("source_row", "column", "reason").rows() == [
        (2, "period_start", "bad_period")
    ]


def test_amounts_beyond_a_trillion_yuan_are_bad_numbers_and_sums_never_wrap(
    tmp_path: Path,
) -> None:
    """Twenty lines of 999,999,999,999,999 yuan wrapped Int64 into a negative 'money read'."""
    rows = [_line(f"R{i}", "2026-09-01", "2026-09-30", "999999999999999") for i in range(20)]
    rows += [_line("B", "2026-09-01", "2026-09-30", "10000000000000000")]
    rows += [_line("OK", "2026-09-01", "2026-09-30", "1000000000000")]
    result = read_input(_collections_csv(tmp_path / "big.csv", rows))
    s = result.stats
    assert (s.rows_quarantined, s.rows_accepted) == (21, 1)
    assert set(result.quarantine["reason"]) == {"bad_number"}
    assert set(result.quarantine["column"]) == {"amount"}
    assert s.money_read_fen == s.money_accepted_fen == 100 * 10**12
    assert s.rows_conserved and s.money_conserved


def test_a_file_whose_sum_passes_int64_still_sums_exactly(tmp_path: Path) -> None:
    """100,000 lines of 10^12 yuan each are plausible; their 10^19 fen are beyond Int64."""
    path = tmp_path / "many.csv"
    head = ",".join(COLLECTION_HEADER)
    body = "".join(
        f"R{i},1,91110000600037341L,甲,工会经费,,2026-09-01,2026-09-30,1,1%,1000000000000,\n"
        for i in range(100_000)
    )
    path.write_text(head + "\n" + body, encoding="utf-8")
    s = read_input(path, judge_repeats=False).stats
    assert s.rows_accepted == 100_000
    assert s.money_read_fen == s.money_accepted_fen == 100_000 * 100 * 10**12 > 2**63
    assert s.money_conserved


@pytest.mark.parametrize(
    ("cell", "reason"),
    [("1,2,3", "bad_number"), ("1.234,56", "bad_number"), ("①⓪⓪", "bad_number"),
     ("1000²", "bad_number"), ("１２３", None), ("1,234.00", None)],
)  # fmt: skip
def test_amounts_not_written_as_numbers_are_quarantined(
    tmp_path: Path, cell: str, reason: str | None
) -> None:
    path = _collections_csv(tmp_path / "n.csv", [_line("R1", "2026-09-01", "2026-09-30", cell)])
    result = read_input(path)
    assert result.quarantine["reason"].to_list() == ([reason] if reason else [])
    if reason is None:
        assert result.accepted["amount_fen"].to_list() in ([12300], [123400])


# ---- control characters -----------------------------------------------------------------


def test_control_characters_in_text_cells_are_dropped_at_ingest(tmp_path: Path) -> None:
    row = _line("R\x001", "2026-09-01", "2026-09-30")
    row[3] = "甲\x00公\x07司\t(一)\n"
    path = _collections_csv(tmp_path / "nul.csv", [row])
    result = read_input(path)
    assert result.accepted["receipt_no"].to_list() == ["R1"]
    assert result.accepted["taxpayer_name"].to_list() == ["甲公司\t(一)"]


@pytest.mark.usefixtures("county")
def test_a_nul_in_a_text_cell_is_stored_alike_on_every_backend(
    tmp_path: Path, store_url: str
) -> None:
    """It failed the PostgreSQL commit (`invalid byte sequence for encoding "UTF8": 0x00`)."""
    from dues.run import RunRequest, run_period
    from dues.store import open_store

    run = next(r for r in SUMMARY["runs"] if r["period"] == "2026-10")
    source = COUNTY / "inputs" / run["collections"][0]
    lines = source.read_text(encoding="utf-8-sig").splitlines()
    lines[1] = (
        lines[1]
        .replace("测试单位0031有限公司", "测试单位\x000031有限公司")
        .replace("测试县税务局", "测试县\x00税务局\x1f")
    )
    cells = lines[2].split(",")
    cells[2] = cells[2][:-1] + ("0" if cells[2][-1] != "0" else "1")  # a bad check character
    cells[3] = "坏\x00行"
    lines[2] = ",".join(cells)  # quarantined: its raw cells keep the NUL, JSON-escaped
    nul = tmp_path / source.name
    nul.write_text("\n".join(lines) + "\n", encoding="utf-8")
    run_period(
        RunRequest(
            period="2026-10",
            registry=COUNTY / "inputs" / SUMMARY["registry"],
            collections=(nul,),
            out=tmp_path / "out",
            db=store_url,
        )
    )
    with open_store(store_url) as store:
        receipts = store.load_receipts()
    quarantine = pl.read_parquet(tmp_path / "out" / "2026-10" / "quarantine.parquet")
    assert quarantine.filter(pl.col("raw").str.contains("坏\\u0000行", literal=True)).height == 1
    line = receipts.filter(pl.col("receipt_no") == "320260000000002864").row(0, named=True)
    assert (line["taxpayer_name"], line["tax_office"]) == ("测试单位0031有限公司", "测试县税务局")
    assert (
        not receipts.select(pl.any_horizontal(pl.col(pl.String).str.contains("\x00", literal=True)))
        .to_series()
        .any()
    )


REGISTRY_WITH_EXTRAS = """统一社会信用代码,单位名称,单位类型,职工人数,管理工会,建会形式,\
联系人,联系电话,备注,备注,单位名称
91110000600037341L,甲公司,企业,30,东镇工会,未建会, 张三 ,13800138000.0,,二楼,甲厂
911100007109310534,乙公司,企业,8,东镇工会,未建会,,,,,
,,,,,,李四,123,,,
"""  # row 4 holds only extra cells: no unit


def test_the_registrys_extra_columns_are_kept_as_one_json_object_by_header(
    tmp_path: Path,
) -> None:
    path = tmp_path / "registry.csv"
    path.write_text(REGISTRY_WITH_EXTRAS, encoding="utf-8")
    result = read_input(path, "registry")
    assert result.stats.rows_read == 2 and result.stats.rows_accepted == 2
    extras = [json.loads(text) for text in result.accepted["extras"]]
    # trimmed, Excel's .0 dropped, empty -> null, a repeated header numbered, a second
    # 单位名称 kept as an extra, not as the name
    assert extras == [
        {"联系人": "张三", "联系电话": "13800138000", "备注": None, "备注(2)": "二楼",
         "单位名称": "甲厂"},
        {"联系人": None, "联系电话": None, "备注": None, "备注(2)": None, "单位名称": None},
    ]  # fmt: skip
    assert result.accepted["name"].to_list() == ["甲公司", "乙公司"]


def test_a_registry_without_extra_columns_has_none(tmp_path: Path) -> None:
    path = tmp_path / "registry.csv"
    path.write_text(
        "统一社会信用代码,单位名称,单位类型,职工人数,管理工会,建会形式\n"
        "91110000600037341L,甲公司,企业,30,东镇工会,未建会\n",
        encoding="utf-8",
    )
    assert read_input(path, "registry").accepted["extras"].to_list() == [None]
