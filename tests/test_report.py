"""The auditors' workbook: read back with openpyxl, cell by cell."""

from __future__ import annotations

import json
import re
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from openpyxl import load_workbook
from openpyxl.worksheet._writer import ALL_TEMP_FILES

from dues.arrears import arrears
from dues.conservation import FileStats
from dues.policy import DEFAULT_POLICY_PATH, Policy, load_policy
from dues.report import fen_to_yuan, write_report

ZH_SHEETS = [
    "概览",
    "对账明细",
    "欠缴账龄",
    "滞纳金台账",
    "建会推动",
    "筹备金返还",
    "分成明细",
    "回拨清单",
    "未匹配税票",
    "隔离记录",
    "运行信息",
]
EN_SHEETS = ["Overview", "Reconciliation", "Arrears aging", "Late fees", "Founding drive",
             "Prep fund returns", "Distribution", "Payouts", "Unmatched receipts", "Quarantine",
             "Run info"]  # fmt: skip

A = "91330100MA27XYZ12A"
B = "12330100470000123B"
C = "91330100MA2CCCCC3C"


def _recon_row(
    period: str, uscc: str, name: str, status: str, expected: int, paid: int
) -> dict[str, Any]:
    return {
        "period": period, "uscc": uscc, "name": name, "jurisdiction": "城关镇工会",
        "unit_type": "enterprise", "channel": "tax", "union_status": "own", "fund": "dues",
        "rate_bp": 100, "wage_base_fen": expected * 100, "base_source": "declared",
        "expected_fen": expected, "paid_dues_fen": paid, "paid_prep_fen": 0, "allocated_fen": 0,
        "paid_fen": paid, "variance_fen": paid - expected, "status": status,
        "fund_mismatch": False, "channel_mismatch": False,
        "due_date": date(2026, int(period[5:]) + 1, 15), "days_past_due": 30,
    }  # fmt: skip


def _tables(recon_rows: int = 3) -> dict[str, pl.DataFrame]:
    rows = [
        _recon_row("2026-08", A, "=1+1测试单位", "underpaid", 1_234_567, 1_000_000),
        _recon_row("2026-08", B, "县教育局", "matched", 500_000, 500_000),
        _recon_row("2026-09", A, "=1+1测试单位", "not_filed", 1_234_567, 0),
    ]
    rows += [
        _recon_row("2026-09", f"{i:018d}", f"单位{i}", "not_due", 100, 0)
        for i in range(recon_rows - len(rows))
    ]
    recon = pl.DataFrame(rows).with_columns(
        pl.col(c).cast(pl.Int64) for c in ("rate_bp", "days_past_due")
    )
    arrears = pl.DataFrame(
        {
            "uscc": [A],
            "name": ["=1+1测试单位"],
            "jurisdiction": ["城关镇工会"],
            "arrears_fen": [1_469_134],
            "credit_fen": [0],
            "months_outstanding": [2],
            "oldest_period": ["2026-08"],
            "aging_0_30_fen": [1_234_567],
            "aging_31_90_fen": [234_567],
            "aging_91_180_fen": [0],
            "aging_181_365_fen": [0],
            "aging_over_365_fen": [0],
        }
    )
    founding = pl.DataFrame(
        {
            "uscc": [C, A, B],
            "name": ["丙公司", "@甲公司", "乙公司"],
            "jurisdiction": ["西街社区工会", "城关镇工会", "城关镇工会"],
            "employees": [30, 8, 40],
            "union_kind": ["none", "none", "joint"],
            "tier": [1, 3, 1],
            "prep_paid_12m_fen": [10_000, 0, 25_050],
            "arrears_fen": [0, 5, 0],
            "tier_label": ["一类(职工≥25人)", "三类(职工<10人)", "一类(职工≥25人)"],
            "action": ["found_union", "found_union", "found_own_union"],
            "ownership": ["non_public", None, "public"],
            "members": [None, 0, 12],
            "联系电话": ["0571-1234567", None, "13800138000"],
        }
    )
    prep = pl.DataFrame(
        {
            "uscc": [C],
            "name": ["丙公司"],
            "union_founded": [date(2026, 9, 1)],
            "returnable_fen": [36_000],
        }
    )
    unmatched = pl.DataFrame(
        {"source_file": ["collections_2026-09.csv"], "source_row": [7], "receipt_no": ["-3320"],
         "uscc": ["91330100MA2ZZZZZ9Z"], "taxpayer_name": ["+未知单位"], "amount_fen": [-1_050],
         "line_no": [1], "period_start": [date(2026, 9, 1)], "period_end": [date(2026, 9, 30)]}
    )  # fmt: skip
    quarantine = pl.DataFrame(
        {"source_file": ["collections_2026-09.csv"], "source_row": [9], "column": ["uscc"],
         "reason": ["bad_uscc"], "raw": ['{"uscc": "=cmd|calc", "amount": "12.00"}']}
    )  # fmt: skip
    late_fees = pl.DataFrame(
        {"uscc": [A], "name": ["=1+1测试单位"], "jurisdiction": ["城关镇工会"],
         "accrued_fen": [12_345], "collected_fen": [10_000], "balance_fen": [2_345]}
    )  # fmt: skip
    indicators = pl.DataFrame(
        {
            "level": ["jurisdiction", "jurisdiction", "county"],
            "jurisdiction": ["西街社区工会", "城关镇工会", "全县"],
            "year": [2026] * 3,
            "tax_expected_fen": [0, 3_000_000, 3_000_000],
            "tax_collected_fen": [0, 2_400_000, 2_400_000],
            "tax_collection_rate": [None, 0.8, 0.8],
            "fiscal_expected_fen": [100_000, 0, 100_000],
            "fiscal_collected_fen": [100_000, 0, 100_000],
            "fiscal_collection_rate": [1.0, None, 1.0],
            "tax_units": [1, 2, 3],
            "tax_units_tier1": [1, 1, 2],
            "organized_tier1": [0, 1, 1],
            "founding_rate_tier1": [0.0, 1.0, 0.5],
            "organized_tax_units": [0, 1, 1],
            "founding_rate_all": [0.0, 0.5, 1 / 3],
            "employees_organized": [0, 40, 40],
            "members_organized": [0, 38, 38],
            "membership_rate": [None, 0.95, 0.95],
        }
    )
    return {
        "reconciliation": recon, "arrears": arrears, "founding_drive": founding,
        "prep_returns": prep, "unmatched": unmatched, "quarantine": quarantine,
        "indicators": indicators, "late_fees": late_fees,
    }  # fmt: skip


RUN_INFO: dict[str, Any] = {
    "run_id": "2026-09-r1",
    "period": "2026-09",
    "as_of": "2026-09-30",
    "started_at": "2026-10-01T08:00:00+08:00",
    "finished_at": "2026-10-01T08:00:05+08:00",
    "code_version": "0.1.0+abc1234",
    "config_hash": "c0ffee" * 10 + "beef",
    "inputs": [
        FileStats(
            file="collections_2026-09.csv",
            kind="collections",
            sha256="ab" * 32,
            encoding="utf-8",
            header_row=1,
            rows_read=12,
            rows_accepted=10,
            rows_quarantined=1,
            rows_duplicate=1,
            money_read_fen=1_000_000,
            money_accepted_fen=990_000,
            money_quarantined_fen=1_200,
            money_duplicate_fen=8_800,
        ).as_json()
    ],
    "totals": {"expected_fen": 2_969_134, "paid_fen": 1_500_000},
}


def _write(tmp_path: Path, name: str = "report.xlsx", **kwargs: Any) -> Path:
    path = tmp_path / name
    write_report(path, kwargs.pop("tables", None) or _tables(), RUN_INFO, **kwargs)
    return path


def _last(ws: Any) -> int:
    """The last data row of a detail sheet: the end of its filter's range (a total row
    and a legend follow it)."""
    return int(re.sub(r"^.*:[A-Z]+", "", ws.auto_filter.ref))


def _data_rows(ws: Any) -> list[tuple[Any, ...]]:
    return list(ws.iter_rows(min_row=2, max_row=_last(ws), values_only=True))


def _label_values(ws: Any) -> dict[str, Any]:
    """Column A label -> column B value, for the key/value blocks of the small sheets."""
    return {row[0]: row[1] for row in ws.iter_rows(values_only=True) if row and row[0]}


def test_sheets_are_named_in_chinese_by_default_and_in_english_on_request(tmp_path: Path) -> None:
    assert load_workbook(_write(tmp_path)).sheetnames == ZH_SHEETS
    assert load_workbook(_write(tmp_path, "en.xlsx", lang="en")).sheetnames == EN_SHEETS


def test_detail_sheets_have_translated_headers_and_values(tmp_path: Path) -> None:
    wb = load_workbook(_write(tmp_path))
    ws = wb["对账明细"]
    header = [c.value for c in ws[1]]
    assert header[:4] == ["所属期", "统一社会信用代码", "单位名称", "管理工会"]
    assert {"应缴金额(元)", "实缴金额(元)", "状态", "差额(元)"} <= set(header)
    status = header.index("状态")
    assert [ws.cell(r, status + 1).value for r in (2, 3, 4)] == ["少缴", "已对平", "未申报"]
    assert ws.cell(2, header.index("应缴款项") + 1).value == "工会经费"
    assert ws.cell(2, header.index("征收渠道") + 1).value == "税务代收"
    assert ws.cell(2, header.index("基数来源") + 1).value == "申报"
    assert ws.cell(2, header.index("错缴款项") + 1).value == "否"
    assert ws.cell(2, header.index("费率") + 1).number_format == "0.00%"
    assert ws.cell(2, header.index("费率") + 1).value == pytest.approx(0.01)
    due = ws.cell(2, header.index("缴款期限") + 1)
    assert due.value.date() == date(2026, 9, 15) and due.number_format == "yyyy-mm-dd"

    en = load_workbook(_write(tmp_path, "en.xlsx", lang="en"))["Reconciliation"]
    en_header = [c.value for c in en[1]]
    assert en_header[:3] == ["Period", "USCC", "Unit name"] and "Expected (yuan)" in en_header
    assert en.cell(2, en_header.index("Status") + 1).value == "underpaid"
    en_totals = _label_values(en.parent["Overview"])
    assert en_totals["Expected (yuan)"] == 29691.34 and en_totals["Quarantined rows"] == 1
    assert _label_values(en.parent["Run info"])["Config hash"] == RUN_INFO["config_hash"]


def test_late_fee_sheet_shows_the_ledger_in_yuan_with_chinese_headers(tmp_path: Path) -> None:
    ws = load_workbook(_write(tmp_path))["滞纳金台账"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == (
        "统一社会信用代码", "单位名称", "管理工会", "应计滞纳金(元)", "已缴滞纳金(元)",
        "滞纳金余额(元)",
    )  # fmt: skip
    assert rows[1] == (A, "=1+1测试单位", "城关镇工会", 123.45, 100, 23.45)
    assert ws.cell(2, 4).number_format == ws.cell(2, 6).number_format == "#,##0.00"


def test_overview_totals_equal_the_sums_of_the_frames_in_yuan(tmp_path: Path) -> None:
    tables = _tables()
    ws = load_workbook(_write(tmp_path))["概览"]
    totals = _label_values(ws)

    def yuan(frame: str, column: str) -> Decimal:
        return fen_to_yuan(int(tables[frame][column].sum()))

    def cell(label: str) -> Decimal:
        return Decimal(str(totals[label]))

    assert cell("应缴合计(元)") == yuan("reconciliation", "expected_fen") == Decimal("29691.34")
    assert cell("实缴合计(元)") == yuan("reconciliation", "paid_fen")
    assert cell("欠缴合计(元)") == yuan("arrears", "arrears_fen")
    assert cell("多缴合计(元)") == yuan("arrears", "credit_fen")
    assert cell("未匹配税票金额(元)") == yuan("unmatched", "amount_fen") == Decimal("-10.5")
    assert cell("可返还筹备金(元)") == yuan("prep_returns", "returnable_fen")
    assert totals["待推动建会单位数"] == 3
    assert totals["隔离记录行数"] == 1
    # Channel collection rates come from the county indicators row.
    channels = {row[0]: row[1:4] for row in ws.iter_rows(values_only=True)}
    assert channels["税务代收"] == (30000, 24000, 0.8)
    assert channels["财政划拨"] == (1000, 1000, 1)


def test_overview_has_a_native_bar_chart_of_jurisdiction_rates(tmp_path: Path) -> None:
    path = _write(tmp_path)
    with zipfile.ZipFile(path) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
        assert len(charts) == 1
        xml = z.read(charts[0]).decode()
    assert "<barChart>" in xml and "'概览'!$D$" in xml  # the tax rates column


def test_money_is_shown_in_yuan_exactly_with_two_decimals(tmp_path: Path) -> None:
    path = _write(tmp_path)
    ws = load_workbook(path)["对账明细"]
    header = [c.value for c in ws[1]]
    expected = ws.cell(2, header.index("应缴金额(元)") + 1)
    assert expected.value == 12345.67  # 1234567 fen
    assert Decimal(str(expected.value)) == Decimal("12345.67")
    assert expected.number_format == "#,##0.00"
    with zipfile.ZipFile(path) as z:
        sheet = z.read("xl/worksheets/sheet2.xml").decode()
    assert "<v>12345.67</v>" in sheet  # the digits themselves, not a float artefact


def test_text_that_looks_like_a_formula_is_stored_as_text(tmp_path: Path) -> None:
    wb = load_workbook(_write(tmp_path))
    checks = [
        (wb["对账明细"]["C2"], "=1+1测试单位"),
        (wb["欠缴账龄"]["B2"], "=1+1测试单位"),
        (wb["未匹配税票"]["C2"], "-3320"),
        (wb["未匹配税票"]["E2"], "+未知单位"),
    ]
    founding = wb["建会推动"]
    checks.append((next(c for c in founding["D"] if c.value == "@甲公司"), "@甲公司"))
    for cell, text in checks:
        assert cell.value == text and cell.data_type == "s", cell.coordinate
    with zipfile.ZipFile(_write(tmp_path, "again.xlsx")) as z:
        assert "<f>" not in "".join(z.read(n).decode() for n in z.namelist() if "sheet" in n)


def test_detail_sheets_freeze_the_header_and_have_an_autofilter(tmp_path: Path) -> None:
    wb = load_workbook(_write(tmp_path))
    assert wb["对账明细"].freeze_panes == "D2"  # period, USCC and name stay in view
    assert wb["对账明细"].auto_filter.ref == "A1:V4"
    for name in ZH_SHEETS[1:-1]:
        ws = wb[name]
        assert ws.freeze_panes is not None and ws.freeze_panes.endswith("2"), name
        assert ws.auto_filter.ref == f"A1:{ws.cell(1, ws.max_column).column_letter}{_last(ws)}"
        assert ws.column_dimensions["A"].width >= 8


def test_underpaid_and_not_filed_rows_and_arrears_cells_are_filled(tmp_path: Path) -> None:
    wb = load_workbook(_write(tmp_path))
    recon = wb["对账明细"]
    colours = [recon.cell(r, 3).fill.fgColor.rgb for r in (2, 3, 4)]
    assert colours[0].endswith("FFC7CE") and colours[2].endswith("FFEB9C")
    assert recon.cell(3, 3).fill.fill_type is None  # matched: no fill
    arrears = wb["欠缴账龄"]
    header = [c.value for c in arrears[1]]
    assert arrears.cell(2, header.index("欠缴金额(元)") + 1).fill.fill_type == "solid"
    assert arrears.cell(2, header.index("账龄91-180天(元)") + 1).fill.fill_type is None


def test_founding_drive_is_grouped_by_jurisdiction_then_tier(tmp_path: Path) -> None:
    ws = load_workbook(_write(tmp_path))["建会推动"]
    rows = [r[:4] for r in _data_rows(ws)]
    assert rows == [
        ("城关镇工会", 1, B, "乙公司"),
        ("城关镇工会", 3, A, "@甲公司"),
        ("西街社区工会", 1, C, "丙公司"),
    ]


def test_run_info_lists_each_input_with_its_hash_and_conservation(tmp_path: Path) -> None:
    ws = load_workbook(_write(tmp_path))["运行信息"]
    info = _label_values(ws)
    assert info["运行编号"] == "2026-09-r1"
    assert info["代码版本"] == "0.1.0+abc1234" and info["配置哈希"] == RUN_INFO["config_hash"]
    rows = list(ws.iter_rows(values_only=True))
    header = next(r for r in rows if r[0] == "文件")
    record = dict(
        zip(header, next(r for r in rows if r[0] == "collections_2026-09.csv"), strict=False)
    )
    assert record["SHA-256"] == "ab" * 32 and record["类型"] == "税务代收明细"
    assert record["读入行数"] == 12 and record["行数守恒"] == "是" and record["金额守恒"] == "是"
    assert record["读入金额(元)"] == 10000


def test_a_long_table_continues_on_numbered_sheets(tmp_path: Path) -> None:
    path = _write(tmp_path, tables=_tables(recon_rows=7), max_rows_per_sheet=3)
    wb = load_workbook(path)
    assert wb.sheetnames[1:4] == ["对账明细", "对账明细(2)", "对账明细(3)"]
    parts = [wb[n] for n in wb.sheetnames[1:4]]
    assert [_last(ws) for ws in parts] == [4, 4, 2]  # header + 3, header + 3, header + 1
    assert all(ws["A1"].value == "所属期" and ws.freeze_panes == "D2" for ws in parts)
    assert parts[2].auto_filter.ref == "A1:V2"
    en = load_workbook(
        _write(tmp_path, "en.xlsx", tables=_tables(recon_rows=4), lang="en", max_rows_per_sheet=3)
    )
    assert en.sheetnames[1:3] == ["Reconciliation", "Reconciliation(2)"]


def test_the_same_inputs_give_the_same_bytes(tmp_path: Path) -> None:
    first = _write(tmp_path, "first.xlsx").read_bytes()
    second = _write(tmp_path, "second.xlsx").read_bytes()
    assert first == second
    props = load_workbook(tmp_path / "first.xlsx").properties
    assert props.created.isoformat() == "2026-10-01T00:00:00"  # started_at in UTC
    assert props.modified.isoformat() == "2026-10-01T00:00:05"


def test_empty_tables_still_give_every_sheet_with_its_header(tmp_path: Path) -> None:
    tables = {k: v.clear() for k, v in _tables().items()}
    wb = load_workbook(_write(tmp_path, tables=tables))
    assert wb.sheetnames == ZH_SHEETS
    assert wb["隔离记录"].max_row == 1 and wb["隔离记录"]["D1"].value == "原因代码"
    assert _label_values(wb["概览"])["应缴合计(元)"] == 0
    # Nothing to total and no fills to explain: the header alone.
    assert [wb[n].max_row for n in ZH_SHEETS[1:-1]] == [1] * len(ZH_SHEETS[1:-1])


def test_a_missing_column_writes_nothing_and_keeps_the_old_report(tmp_path: Path) -> None:
    path = _write(tmp_path)
    before = path.read_bytes()
    tables = _tables()
    tables["quarantine"] = tables["quarantine"].drop("reason")
    with pytest.raises(ValueError, match="reason"):
        write_report(path, tables, RUN_INFO)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.xlsx"]


def test_money_must_be_integer_fen(tmp_path: Path) -> None:
    tables = _tables()
    tables["unmatched"] = tables["unmatched"].with_columns(pl.col("amount_fen").cast(pl.Float64))
    with pytest.raises(TypeError, match="integer fen"):
        write_report(tmp_path / "r.xlsx", tables, RUN_INFO)
    assert list(tmp_path.iterdir()) == []
    # The sheets streamed before the failure leave no temp files behind either.
    assert ALL_TEMP_FILES == []


@pytest.mark.parametrize(
    ("written", "read_back"),
    [
        ("=SUM(A1:A9)", "=SUM(A1:A9)"),
        ("#N/A", "#N/A"),  # an Excel error value unless stored as text
        ("坏\x01字符", "坏\ufffd字符"),  # XML cannot carry the control character
        ("  前后空格 ", "  前后空格 "),
    ],
)
def test_awkward_text_is_kept_as_text(tmp_path: Path, written: str, read_back: str) -> None:
    tables = _tables()
    tables["unmatched"] = tables["unmatched"].with_columns(taxpayer_name=pl.lit(written))
    cell = load_workbook(_write(tmp_path, tables=tables))["未匹配税票"]["E2"]
    assert cell.value == read_back and cell.data_type == "s"


ODD_TEXT = [
    "a & b <c> d",
    " leading space",
    "trailing space ",
    "\u3000全角空格",
    "line\r\nbreak",
    "tab\there",
    "\x01control",
    "=SUM(A1:A2)",
    "#N/A",
    "-5",
    "+86",
    "@home",
    "",
    None,
    "quote \" and ' and ]]>",
    "emoji 🧾",
]


def _odd_tables() -> dict[str, pl.DataFrame]:
    tables = _tables(recon_rows=8)
    recon = tables["reconciliation"]
    recon = recon.with_columns(
        name=pl.Series(ODD_TEXT[: recon.height]),
        expected_fen=pl.Series(
            [0, 5, -5, 100, -1_050, 10**15, None, 123_456_789_012], dtype=pl.Int64
        ),
        rate_bp=pl.Series([200, 150, 10_000, 0, None, 1, 100, 25], dtype=pl.Int64),
        due_date=pl.Series([date(2026, 9, 15), None, date(1950, 1, 1), date(2099, 12, 31)] * 2),
        days_past_due=pl.Series([None, 0, 30, -1, 7, None, 3, 1], dtype=pl.Int64),
        status=pl.Series(
            [
                "underpaid",
                "not_filed",
                "matched",
                "overpaid",
                "not_due",
                "underpaid",
                "unknown_code",
                "not_filed",
            ]
        ),
    )
    quarantine = pl.DataFrame(
        {
            "source_file": [f"f{i}.csv" for i in range(len(ODD_TEXT))],
            "source_row": list(range(len(ODD_TEXT))),
            "column": ["uscc"] * len(ODD_TEXT),
            "reason": ["bad_uscc"] * len(ODD_TEXT),
            "raw": ODD_TEXT,
        }
    )
    return tables | {"reconciliation": recon, "quarantine": quarantine}


def _cells(ws: Any) -> list[tuple[Any, ...]]:
    return [
        (c.coordinate, c.value, c.data_type, c.number_format, c.fill.fill_type, c.fill.fgColor.rgb)
        for row in ws.iter_rows()
        for c in row
        if c.value is not None or c.fill.fill_type is not None
    ]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_detail_rows_give_excel_what_openpyxl_cells_give_it(tmp_path: Path, lang: str) -> None:
    from _cell_writer import write_tables_cell_by_cell

    from dues.report.workbook import DETAIL_TABLES, _empty_optional

    tables = {**_empty_optional(), **_odd_tables()}
    write_report(tmp_path / "fast.xlsx", tables, RUN_INFO, lang=lang)  # type: ignore[arg-type]
    write_tables_cell_by_cell(
        tmp_path / "cells.xlsx",
        {k: tables[k] for k in DETAIL_TABLES},
        lang,  # type: ignore[arg-type]
        {r["file"]: r["kind"] for r in RUN_INFO["inputs"]},
    )
    fast = load_workbook(tmp_path / "fast.xlsx")
    oracle = load_workbook(tmp_path / "cells.xlsx")
    assert oracle.sheetnames == fast.sheetnames[1:-1]
    for title in oracle.sheetnames:
        assert _cells(fast[title]) == _cells(oracle[title]), title
        assert fast[title].max_row == oracle[title].max_row


def test_arrears_sheet_has_one_column_per_configured_aging_bucket(tmp_path: Path) -> None:
    # A county with buckets [60, 365]: the frame dues.arrears makes, written as it comes.
    policy = Policy.model_validate(
        load_policy(DEFAULT_POLICY_PATH).model_dump() | {"aging_bucket_days": [60, 365]}
    )
    recon = pl.DataFrame(
        [
            _recon_row("2026-08", A, "甲公司", "underpaid", 1_234_567, 1_000_000)
            | {"days_past_due": 400},
            _recon_row("2026-09", A, "甲公司", "not_filed", 50_000, 0) | {"days_past_due": 61},
            _recon_row("2026-09", B, "乙公司", "not_filed", 70_000, 0) | {"days_past_due": 60},
        ]
    )
    owed = arrears(recon, policy)
    aging = ["aging_0_60_fen", "aging_61_365_fen", "aging_over_365_fen"]
    assert owed.columns[7:] == aging
    tables = _tables() | {"reconciliation": recon, "arrears": owed}
    labels = {
        "zh": ["账龄0-60天(元)", "账龄61-365天(元)", "账龄365天以上(元)"],
        "en": ["Aged 0-60 days (yuan)", "Aged 61-365 days (yuan)", "Aged over 365 days (yuan)"],
    }
    for lang, sheet in (("zh", "欠缴账龄"), ("en", "Arrears aging")):
        ws = load_workbook(_write(tmp_path, f"{lang}.xlsx", tables=tables, lang=lang))[sheet]
        header = [c.value for c in ws[1]]
        assert header[:4] == (
            ["统一社会信用代码", "单位名称", "管理工会", "欠缴金额(元)"]
            if lang == "zh"
            else ["USCC", "Unit name", "Jurisdiction", "Arrears (yuan)"]
        )
        assert header[7:] == labels[lang]
        assert ws.auto_filter.ref == "A1:J3"
        rows = [
            [Decimal(str(c.value)) for c in row[7:]] for row in ws.iter_rows(min_row=2, max_row=3)
        ]
        assert rows == [  # B sorts before A
            [Decimal("700"), Decimal("0"), Decimal("0")],
            [Decimal("0"), Decimal("500"), Decimal("2345.67")],
        ]
        assert all(c.number_format == "#,##0.00" for c in ws[2][7:])
        # The youngest bucket is a reminder (amber), older ones a problem (red).
        assert ws["H2"].fill.fgColor.rgb.endswith("FFEB9C")
        assert ws["I3"].fill.fgColor.rgb.endswith("FFC7CE")
        assert ws["J3"].fill.fgColor.rgb.endswith("FFC7CE")
        assert ws["I2"].fill.fill_type is None


GOLDEN_RUN = Path(__file__).parent / "golden" / "county-40" / "2026-10"
_RAW_NAME = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")


def _label_cells(wb: Any) -> list[tuple[str, str]]:
    """(sheet, text) of every header cell of every sheet, and of the overview's and run
    info's label column (column A): the words the workbook itself chose."""
    out = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                header = c.fill.fill_type == "solid" and c.fill.fgColor.rgb.endswith("DDEBF7")
                label = ws.title in ("概览", "运行信息") and c.column == 1
                if isinstance(c.value, str) and (header or label):
                    out.append((ws.title, c.value))
    return out


def test_no_sheet_shows_a_raw_column_name_in_chinese(tmp_path: Path) -> None:
    # The example county's last run as the pipeline hands it over: Parquet and run.json.
    tables = {p.stem: pl.read_parquet(p) for p in sorted(GOLDEN_RUN.glob("*.parquet"))}
    info = json.loads((GOLDEN_RUN / "run.json").read_text(encoding="utf-8"))
    raw = {c for frame in tables.values() for c in frame.columns}
    raw |= {*info, *info["totals"], *(k for record in info["inputs"] for k in record)}
    assert {"line_no", "period_start", "period_end"} <= set(tables["unmatched"].columns)

    write_report(tmp_path / "zh.xlsx", tables, info)
    seen = _label_cells(load_workbook(tmp_path / "zh.xlsx"))
    assert {sheet for sheet, _ in seen} >= set(ZH_SHEETS)
    assert [(s, t) for s, t in seen if t in raw or _RAW_NAME.fullmatch(t)] == []
    # Nor any value: a reason or column is said in words, a check in Chinese.
    from dues.reasons import REASONS

    book = load_workbook(tmp_path / "zh.xlsx")
    quarantine = list(book["隔离记录"].iter_rows(values_only=True))
    assert len(quarantine) > 1
    header = quarantine[0]
    for row in quarantine[1:]:
        record = dict(zip(header, row, strict=True))
        assert record["原因"] == REASONS[record["原因代码"]].zh
        assert record["问题字段"] not in raw and not _RAW_NAME.fullmatch(record["问题字段"])
    assert "原始数据" not in header
    shown = [v for r in book["运行信息"].iter_rows(values_only=True) for v in r[1:]]
    codes = [v for v in shown if isinstance(v, str) and _RAW_NAME.fullmatch(v)]
    assert [v for v in codes if not re.fullmatch(r"[0-9a-f]{64}", v)] == []  # but hashes

    write_report(tmp_path / "en.xlsx", tables, info, lang="en")
    en = load_workbook(tmp_path / "en.xlsx")
    assert [(ws.title, c.value) for ws in en for c in ws[1] if c.value in raw] == []
    assert [c.value for c in en["Unmatched receipts"][1]][-3:] == [
        "Line no.",
        "Period start",
        "Period end",
    ]


def test_run_info_judges_conservation_by_the_figures_not_by_the_json_flags(
    tmp_path: Path,
) -> None:
    broken = {**RUN_INFO["inputs"][0], "rows_accepted": 9, "rows_conserved": True}
    path = tmp_path / "report.xlsx"
    write_report(path, _tables(), {**RUN_INFO, "inputs": [broken]})
    rows = list(load_workbook(path)["运行信息"].iter_rows(values_only=True))
    header = next(r for r in rows if r[0] == "文件")
    record = dict(zip(header, next(r for r in rows if r[0] == broken["file"]), strict=False))
    assert record["行数守恒"] == "否" and record["金额守恒"] == "是"


# ---- text and amounts Excel cannot hold as they are (issue 10, item 8) ---------------------


def _utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def test_xml_illegal_characters_in_any_text_cell_become_the_replacement_character(
    tmp_path: Path,
) -> None:
    # U+FFFE and U+FFFF pass openpyxl's own check, and one of them made the file unreadable.
    tables = _tables()
    tables["reconciliation"] = tables["reconciliation"].with_columns(
        name=pl.lit("甲\ufffe乙\uffff丙\x01丁")
    )
    tables["indicators"] = tables["indicators"].with_columns(
        jurisdiction=pl.col("jurisdiction") + "\ufffe"
    )
    run_info = RUN_INFO | {"run_id": "r\ufffe1", "code_version": "bad\udcff name"}  # surrogate
    path = tmp_path / "report.xlsx"
    write_report(path, tables, run_info)
    wb = load_workbook(path)  # raised on main: the XML was not well formed
    assert wb["对账明细"]["C2"].value == "甲\ufffd乙\ufffd丙\ufffd丁"
    assert "西街社区工会\ufffd" in [c.value for c in wb["概览"]["A"]]
    info = _label_values(wb["运行信息"])
    assert (info["运行编号"], info["代码版本"]) == ("r\ufffd1", "bad\ufffd name")


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("𠀀" * 20_000, "𠀀" * 16_383),  # 32,766 units: the next pair would not fit whole
        ("a" + "𠀀" * 20_000, "a" + "𠀀" * 16_383),  # exactly 32,767 units
        ("字" * 40_000, "字" * 32_767),  # one unit each
        ("𠀀" * 16_383, "𠀀" * 16_383),  # short enough: untouched
    ],
)
def test_long_text_is_cut_at_excels_32767_utf16_units_never_inside_a_pair(
    tmp_path: Path, text: str, kept: str
) -> None:
    tables = _tables()
    tables["unmatched"] = tables["unmatched"].with_columns(taxpayer_name=pl.lit(text))
    run_info = RUN_INFO | {"run_id": text}  # the small sheets' cells (openpyxl's own)
    path = tmp_path / "report.xlsx"
    write_report(path, tables, run_info)
    wb = load_workbook(path)
    for value in (wb["未匹配税票"]["E2"].value, _label_values(wb["运行信息"])["运行编号"]):
        assert value == kept
        assert _utf16_units(value) <= 32_767
        assert not any(0xD800 <= ord(ch) <= 0xDFFF for ch in value)


def test_amounts_beyond_excels_15_digits_are_written_exactly_as_text_with_a_note(
    tmp_path: Path,
) -> None:
    tables = _tables()
    big = 10**15 + 1  # 10,000,000,000,000.01 yuan: Excel would show ….00
    largest_exact = 10**15 - 1
    tables["reconciliation"] = tables["reconciliation"].with_columns(
        expected_fen=pl.Series([big, largest_exact, -big], dtype=pl.Int64)
    )
    tables["arrears"] = tables["arrears"].with_columns(arrears_fen=pl.lit(2 * big, pl.Int64))
    wb = load_workbook(_write(tmp_path, tables=tables))
    ws = wb["对账明细"]
    header = [c.value for c in ws[1]]
    col = header.index("应缴金额(元)") + 1
    cells = [ws.cell(r, col) for r in (2, 3, 4)]
    assert (cells[0].value, cells[0].data_type) == ("10,000,000,000,000.01", "s")
    assert (cells[2].value, cells[2].data_type) == ("-10,000,000,000,000.01", "s")
    assert cells[1].data_type == "n" and Decimal(str(cells[1].value)) == Decimal("9999999999999.99")
    overview = wb["概览"]
    assert any("15 位有效数字" in str(c.value) for c in overview["A"])
    totals = _label_values(overview)
    assert Decimal(str(totals["应缴合计(元)"])) == Decimal("9999999999999.99")
    assert totals["欠缴合计(元)"] == "20,000,000,000,000.02"
    # An ordinary report carries no such note.
    plain = load_workbook(_write(tmp_path, "plain.xlsx"))["概览"]
    assert not any("15 位有效数字" in str(c.value) for c in plain["A"])


def test_founding_drive_shows_the_organizers_columns_in_chinese(tmp_path: Path) -> None:
    ws = load_workbook(_write(tmp_path))["建会推动"]
    header = [c.value for c in ws[1]]
    assert header[-5:] == ["档次说明", "需办事项", "所有制", "会员人数", "联系电话"]
    rows = [dict(zip(header, r, strict=True)) for r in _data_rows(ws)]
    assert [(r["需办事项"], r["所有制"], r["联系电话"]) for r in rows] == [
        ("需单独建会", "公有", "13800138000"),  # 乙公司: joint, tier 1
        ("需建会", None, None),  # 甲公司
        ("需建会", "非公有", "0571-1234567"),  # 丙公司
    ]
    assert rows[0]["档次说明"] == "一类(职工≥25人)"


# ---- the workbook as an audit document (issue 11, item 3) ----------------------------------


def test_quarantine_says_each_reason_in_words_and_each_cell_under_the_bureau_header(
    tmp_path: Path,
) -> None:
    rows = list(load_workbook(_write(tmp_path))["隔离记录"].iter_rows(values_only=True))
    record = dict(zip(rows[0], rows[1], strict=True))
    # The quarantined line is from collections_2026-09.csv, a 税务代收明细 (RUN_INFO).
    assert record["来源文件"] == "collections_2026-09.csv" and record["行号"] == 9
    assert record["问题字段"] == "社会信用代码(纳税人识别号)"
    assert record["原因代码"] == "bad_uscc"
    assert record["原因"] == "统一社会信用代码不是18位或校验位不符(GB 32100-2015)"
    # The raw cells, each under its bureau header, as text (never a formula).
    assert record["实缴金额"] == "12.00"
    assert record["社会信用代码(纳税人识别号)"] == "=cmd|calc"
    assert "原始数据" not in record and "raw" not in record


def test_run_info_shows_times_in_beijing_time_and_checks_in_words(tmp_path: Path) -> None:
    info = {
        **RUN_INFO,
        "started_at": "2026-12-02T16:38:18+00:00",
        "finished_at": "2026-12-02T16:38:25Z",
        "inputs": [
            {**RUN_INFO["inputs"][0], "totals_check": "ok"},
            {**RUN_INFO["inputs"][0], "file": "registry.xlsx", "kind": "registry",
             "encoding": "xlsx", "totals_check": "absent"},
        ],
    }  # fmt: skip
    path = tmp_path / "report.xlsx"
    write_report(path, _tables(), info)
    rows = list(load_workbook(path)["运行信息"].iter_rows(values_only=True))
    values = _label_values(load_workbook(path)["运行信息"])
    assert values["开始时间(北京时间)"] == "2026-12-03 00:38:18"
    assert values["结束时间(北京时间)"] == "2026-12-03 00:38:25"
    header = next(r for r in rows if r[0] == "文件")
    records = [
        dict(zip(header, r, strict=False))
        for r in rows
        if r[0] in ("collections_2026-09.csv", "registry.xlsx")
    ]
    assert [r["合计行核对"] for r in records] == ["一致", "无合计行"]
    assert records[1]["编码"] == "Excel文件(无需编码)"


def test_days_past_due_are_shown_only_where_money_is_owed(tmp_path: Path) -> None:
    statuses = ["underpaid", "matched", "overpaid", "not_filed", "not_due"]
    recon = pl.DataFrame(
        [
            _recon_row("2026-08", A, "甲公司", status, 1_000, 500) | {"days_past_due": 30 + i}
            for i, status in enumerate(statuses)
        ]
    )
    ws = load_workbook(_write(tmp_path, tables=_tables() | {"reconciliation": recon}))["对账明细"]
    header = [c.value for c in ws[1]]
    shown = [
        (row[header.index("状态")], row[header.index("逾期天数")])
        for row in ws.iter_rows(min_row=2, max_row=1 + recon.height, values_only=True)
    ]
    assert shown == [
        ("少缴", 30),
        ("已对平", None),
        ("多缴", None),
        ("未申报", 33),
        ("未到期", None),
    ]
    assert recon["days_past_due"].to_list() == [30, 31, 32, 33, 34]  # the frame keeps them


def test_money_sheets_end_with_a_total_row_outside_the_filter_and_a_legend(tmp_path: Path) -> None:
    tables = _tables()
    wb = load_workbook(_write(tmp_path, tables=tables))
    recon = wb["对账明细"]
    header = [c.value for c in recon[1]]
    assert recon.auto_filter.ref == "A1:V4"  # the three unit-months only
    total = {h: c for h, c in zip(header, recon[6], strict=True)}  # after a blank row
    assert recon[5][0].value is None
    assert total["所属期"].value == "合计(本表)" and total["所属期"].font.b
    # 12,345.67 + 5,000.00 + 12,345.67 expected; 10,000.00 + 5,000.00 + 0 paid.
    assert Decimal(str(total["应缴金额(元)"].value)) == Decimal("29691.34")
    assert Decimal(str(total["实缴金额(元)"].value)) == Decimal("15000")
    assert total["应缴金额(元)"].number_format == "#,##0.00" and total["应缴金额(元)"].font.b
    assert total["状态"].value is None and total["逾期天数"].value is None
    # The legend says what the fills mean, each line in its own colour.
    assert recon["A8"].value == "图例"
    assert recon["A9"].value.startswith("红色底") and recon["A9"].fill.fgColor.rgb.endswith(
        "FFC7CE"
    )
    assert recon["A10"].value.startswith("黄色底") and recon["A10"].fill.fgColor.rgb.endswith(
        "FFEB9C"
    )
    # Every detail sheet with money has its total; one without (隔离记录) has none.
    for name, frame, column in (
        ("欠缴账龄", "arrears", "欠缴金额(元)"),
        ("未匹配税票", "unmatched", "税票金额(元)"),
        ("筹备金返还", "prep_returns", "可返还筹备金(元)"),
        ("建会推动", "founding_drive", "近12个月已缴筹备金(元)"),
        ("滞纳金台账", "late_fees", "滞纳金余额(元)"),
    ):
        ws = wb[name]
        head = [c.value for c in ws[1]]
        row = _last(ws) + 2
        assert ws.cell(row, 1).value == "合计(本表)", name
        assert Decimal(str(ws.cell(row, head.index(column) + 1).value)) == Decimal(
            sum(tables[frame][_fen_of(column, frame)].to_list())
        ).scaleb(-2), name
    assert wb["隔离记录"].max_row == 2
    en = load_workbook(_write(tmp_path, "en.xlsx", lang="en"))["Reconciliation"]
    assert en["A6"].value == "Total (this sheet)" and en["A8"].value == "Legend"


def _fen_of(label: str, frame: str) -> str:
    return {
        ("欠缴金额(元)", "arrears"): "arrears_fen",
        ("税票金额(元)", "unmatched"): "amount_fen",
        ("可返还筹备金(元)", "prep_returns"): "returnable_fen",
        ("近12个月已缴筹备金(元)", "founding_drive"): "prep_paid_12m_fen",
        ("滞纳金余额(元)", "late_fees"): "balance_fen",
    }[label, frame]


def test_every_sheet_prints_on_a4_with_page_numbers_and_readable_widths(tmp_path: Path) -> None:
    wb = load_workbook(_write(tmp_path))
    for ws in wb.worksheets:
        setup = ws.page_setup
        assert setup.paperSize == 9, ws.title  # A4
        assert ws.oddFooter.center.text == "第 &P 页 / 共 &N 页", ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage and setup.fitToHeight == 0, ws.title
        n = ws.max_column if ws.title in ("概览", "运行信息") else len(list(ws[1]))
        assert setup.orientation == ("landscape" if n > 6 else "portrait"), ws.title
        assert setup.fitToWidth == (1 if n <= 12 else 2), ws.title
    # 22 columns are two pages wide, never one; 9 fit on one.
    assert len(list(wb["对账明细"][1])) == 22 and wb["对账明细"].page_setup.fitToWidth == 2
    assert len(list(wb["未匹配税票"][1])) == 9 and wb["未匹配税票"].page_setup.fitToWidth == 1
    assert wb["筹备金返还"].page_setup.orientation == "portrait"  # four columns
    # Two pages wide, the second repeats the columns that say whose row it is.
    assert wb["对账明细"].print_title_cols == "$A:$C"
    assert wb["未匹配税票"].print_title_cols is None
    assert wb["隔离记录"].freeze_panes == "C2"  # file and row stay in view
    assert wb["隔离记录"].print_title_cols == "$A:$B"  # and on the right-hand pages
    assert wb["概览"].print_title_cols == "$A:$A"
    assert wb["对账明细"].oddHeader.right.text == "红色底：少缴  黄色底：未申报"
    for name in ZH_SHEETS[1:-1]:
        assert wb[name].print_title_rows == "$1:$1", name  # the header on every page
    # The chart starts a page: a break right above the row it is anchored at.
    overview = wb["概览"]
    anchor = overview._charts[0].anchor._from.row + 1  # 0-based in the drawing
    assert [b.id for b in overview.row_breaks.brk] == [anchor - 1]
    assert overview._charts[0].width <= 25
    en = load_workbook(_write(tmp_path, "en.xlsx", lang="en"))
    assert {ws.oddFooter.center.text for ws in en.worksheets} == {"Page &P of &N"}


def test_overview_names_the_federation_and_ends_with_a_sign_off_block(tmp_path: Path) -> None:
    from dues.report.settings import ReportSettings

    settings = ReportSettings(federation="青溪县总工会", sign_off=("制表人", "审核人", "日期"))
    path = tmp_path / "report.xlsx"
    write_report(path, _tables(), RUN_INFO, settings=settings)
    ws = load_workbook(path)["概览"]
    assert [ws["A1"].value, ws["A2"].value] == ["青溪县总工会", "工会经费对账报告"]
    rows = [r for r in ws.iter_rows() if r[1].value == "制表人："]
    assert len(rows) == 1
    row = rows[0][1:]  # from column B: column A repeats on the pages to the right
    assert [c.value for c in row[:6:2]] == ["制表人：", "审核人：", "日期："]
    assert all(c.border.bottom.style == "thin" for c in row[1:6:2])  # a line to sign on
    # Under the tables, above the chart (which starts its own page).
    assert row[0].row < ws.row_breaks.brk[0].id
    assert row[0].row > max(r[0].row for r in ws.iter_rows() if r[0].value == "全县")


def test_report_settings_come_from_config_report_toml(tmp_path: Path) -> None:
    from dues.report.settings import DEFAULT_REPORT_CONFIG, load_report_settings

    assert Path(__file__).parents[1] / "config" / "report.toml" == DEFAULT_REPORT_CONFIG
    shipped = load_report_settings()
    assert shipped.federation.endswith("县总工会") and shipped.sign_off == (
        "制表人",
        "审核人",
        "日期",
    )
    ws = load_workbook(_write(tmp_path))["概览"]
    assert ws["A1"].value == shipped.federation  # the default settings are the file's
    odd = tmp_path / "report.toml"
    odd.write_text('federation = "x"\nsignoff = ["制表人"]\n', encoding="utf-8")
    with pytest.raises(ValueError, match="signoff"):
        load_report_settings(odd)


def test_overview_ties_out_the_money_of_each_input_file(tmp_path: Path) -> None:
    tables = _tables()
    earlier = {"source_file": "collections_2026-08.csv", "source_row": 3, "receipt_no": "1",
               "uscc": A, "taxpayer_name": "甲", "amount_fen": 20_000, "line_no": 1,
               "period_start": date(2026, 8, 1), "period_end": date(2026, 8, 31)}  # fmt: skip
    tables["unmatched"] = pl.concat([tables["unmatched"], pl.DataFrame([earlier])])
    registry = {**RUN_INFO["inputs"][0], "file": "registry.xlsx", "kind": "registry"}
    path = tmp_path / "report.xlsx"
    write_report(path, tables, {**RUN_INFO, "inputs": [registry, *RUN_INFO["inputs"]]})
    overview = load_workbook(path)["概览"]
    rows = list(overview.iter_rows(values_only=True))
    start = next(i for i, r in enumerate(rows) if r[0] == "各输入文件金额核对(本次运行)")
    # Column A is wide enough for the file's name and kind (CJK characters count two).
    assert overview.column_dimensions["A"].width >= len("collections_2026-09.csv") + 2 * 8
    header = rows[start + 1][:8]
    assert header == ("文件", "读入行数", "读入金额(元)", "接受金额(元)", "隔离金额(元)",
                      "重复金额(元)", "其中未匹配税票(元)", "金额守恒")  # fmt: skip
    body = [r[:8] for r in rows[start + 2 : start + 5]]
    # RUN_INFO's file: 10,000.00 read = 9,900.00 accepted + 12.00 quarantined + 88.00 repeats;
    # its unmatched receipt is -10.50; the registry carries no money and is not listed.
    assert body[0][0] == "collections_2026-09.csv（税务代收明细）"
    assert [Decimal(str(v)) for v in body[0][1:7]] == [
        Decimal(v) for v in ("12", "10000", "9900", "12", "88", "-10.5")
    ]
    assert body[0][7] == "是"
    assert body[1][0] == "此前各期文件的未匹配税票" and Decimal(str(body[1][6])) == Decimal("200")
    assert body[2][0] == "合计" and Decimal(str(body[2][6])) == Decimal("189.5")
