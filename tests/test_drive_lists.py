"""The founding-drive lists for organizers (issue 11, item 4): the registry's extra
columns carried to founding_drive.parquet, kept by the ledger through `dues rerun`,
and `dues drive` writing one workbook per jurisdiction in visit order.

The example county's registry is given three extra columns (联系人, 联系电话, 地址)
and a repeated 备注; its months 2026-07 and 2026-08 are run on a fresh ledger.
"""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from _paths import require_county
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from dues.cli import app
from dues.drive import DRIVE_DETAIL_COLUMNS, FOUNDING_DRIVE_COLUMNS
from dues.report.drive_book import safe_file_name, workbook_names
from dues.run import RunRequest, run_period

COUNTY = require_county()
SUMMARY = json.loads((COUNTY / "expected" / "summary.json").read_text(encoding="utf-8"))
INPUTS = COUNTY / "inputs"
RUNS = {run["period"]: run for run in SUMMARY["runs"]}
PERIODS = ["2026-07", "2026-08"]
EXTRA_HEADERS = ["联系人", "联系电话", "地址", "备注", "备注"]


def contact(row: int) -> list[object]:
    """The extra cells of registry row `row`: a phone typed as a number, as Excel keeps it."""
    return [f"联系人{row}", 13_800_000_000 + row, f"城关镇{row}号", f"备注{row}", None]


def registry_with_extras(folder: Path) -> Path:
    wb = openpyxl.load_workbook(INPUTS / SUMMARY["registry"])
    ws = wb.active
    header = next(r for r in range(1, 10) if ws.cell(r, 1).value == "统一社会信用代码")
    width = ws.max_column
    for i, title in enumerate(EXTRA_HEADERS, 1):
        ws.cell(header, width + i, title)
    for row in range(header + 1, ws.max_row + 1):
        if ws.cell(row, 1).value:
            for i, value in enumerate(contact(row), 1):
                ws.cell(row, width + i, value)
    path = folder / "registry.xlsx"
    wb.save(path)
    return path


def request(period: str, registry: Path, out: Path, db: str) -> RunRequest:
    run = RUNS[period]
    return RunRequest(
        period=period,
        registry=registry,
        collections=tuple(INPUTS / f for f in run["collections"]),
        allocations=tuple(INPUTS / f for f in run["allocations"]),
        out=out,
        db=db,
    )


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, Path]:
    """(OUT, db URL, OUT of the same months with the plain registry)."""
    root = tmp_path_factory.mktemp("drive")
    registry = registry_with_extras(root)
    db = f"sqlite:///{root / 'ledger.db'}"
    plain = root / "plain"
    for period in PERIODS:
        run_period(request(period, registry, root / "out", db))
        run_period(
            request(period, INPUTS / SUMMARY["registry"], plain, f"sqlite:///{root / 'p.db'}")
        )
    return root / "out", db, plain


def test_founding_drive_parquet_carries_the_extra_columns_after_its_own(
    ledger: tuple[Path, str, Path],
) -> None:
    out, _, plain = ledger
    got = pl.read_parquet(out / "2026-08" / "founding_drive.parquet")
    ours = [*FOUNDING_DRIVE_COLUMNS, *DRIVE_DETAIL_COLUMNS]
    assert got.columns == [*ours, "联系人", "联系电话", "地址", "备注", "备注(2)"]
    # The extra columns change nothing else: the SPEC figures are the plain registry's.
    assert_frame_equal(
        got.select(ours), pl.read_parquet(plain / "2026-08" / "founding_drive.parquet")
    )
    for row in got.iter_rows(named=True):
        n = int(row["联系人"].removeprefix("联系人"))
        assert [row["联系电话"], row["地址"], row["备注"], row["备注(2)"]] == [
            str(13_800_000_000 + n),
            f"城关镇{n}号",
            f"备注{n}",
            None,
        ]


def test_action_and_tier_words_follow_the_union_kind_and_the_thresholds(
    ledger: tuple[Path, str, Path],
) -> None:
    got = pl.read_parquet(ledger[0] / "2026-08" / "founding_drive.parquet")
    # union kind -> action; tier -> words with the default thresholds (25, 10)
    actions = {"none": "found_union", "joint": "found_own_union"}
    words = {1: "一类(职工≥25人)", 2: "二类(职工10-24人)", 3: "三类(职工<10人)"}
    for row in got.iter_rows(named=True):
        assert row["action"] == actions[row["union_kind"]]
        assert row["tier_label"] == words[row["tier"]]
    assert set(got["union_kind"]) == {"none", "joint"}  # both actions are shown


def test_the_extra_columns_survive_a_rerun_from_the_ledger_alone(
    ledger: tuple[Path, str, Path], tmp_path: Path
) -> None:
    out, db, _ = ledger
    before = pl.read_parquet(out / "2026-08" / "founding_drive.parquet")
    rerun_out = tmp_path / "rerun"
    result = CliRunner().invoke(
        app, ["rerun", "--from", "2026-07", "--out", str(rerun_out), "--db", db]
    )
    assert result.exit_code == 0, result.output
    assert_frame_equal(pl.read_parquet(rerun_out / "2026-08" / "founding_drive.parquet"), before)


def test_dues_drive_writes_one_workbook_per_jurisdiction_in_visit_order(
    ledger: tuple[Path, str, Path], tmp_path: Path
) -> None:
    out, db, _ = ledger
    parquet = pl.read_parquet(out / "2026-08" / "founding_drive.parquet")
    lists = tmp_path / "lists"
    result = CliRunner().invoke(
        app, ["drive", "--period", "2026-08", "--out", str(lists), "--db", db]
    )
    assert result.exit_code == 0, result.output
    jurisdictions = sorted(set(parquet["jurisdiction"]))
    names = sorted(p.name for p in lists.iterdir())
    assert names == sorted(f"建会推动_2026-08_{j}.xlsx" for j in jurisdictions)
    for jurisdiction in jurisdictions:
        ws = openpyxl.load_workbook(lists / f"建会推动_2026-08_{jurisdiction}.xlsx").active
        assert jurisdiction in ws["A1"].value and "2026-08" in ws["A1"].value
        header = [c.value for c in ws[3]]
        assert header[:4] == ["序号", "档次说明", "需办事项", "单位名称"]
        assert header[-6:] == ["联系人", "联系电话", "地址", "备注", "备注(2)", "走访记录"]
        rows = [
            dict(zip(header, r, strict=True)) for r in ws.iter_rows(min_row=4, values_only=True)
        ]
        mine = parquet.filter(pl.col("jurisdiction") == jurisdiction)
        # visit order: tier, then employees descending, then uscc
        expected = mine.sort(["tier", "employees", "uscc"], descending=[False, True, False])
        assert [r["统一社会信用代码"] for r in rows] == expected["uscc"].to_list()
        assert [r["序号"] for r in rows] == list(range(1, mine.height + 1))
        actions = {"found_union": "需建会", "found_own_union": "需单独建会"}
        for r, want in zip(rows, expected.iter_rows(named=True), strict=True):
            assert r["需办事项"] == actions[want["action"]]
            assert r["档次说明"] == want["tier_label"]
            assert r["职工人数"] == want["employees"]
            assert r["联系电话"] == want["联系电话"]
            assert round(r["欠缴金额(元)"] * 100) == want["arrears_fen"]


def test_dues_drive_refuses_a_period_the_ledger_has_not_run(
    ledger: tuple[Path, str, Path], tmp_path: Path
) -> None:
    result = CliRunner().invoke(
        app, ["drive", "--period", "2026-12", "--out", str(tmp_path / "x"), "--db", ledger[1]]
    )
    assert result.exit_code == 2
    assert "no completed run of 2026-12" in result.output
    assert not (tmp_path / "x").exists()


def test_dues_drive_in_english_labels_the_list_in_english(
    ledger: tuple[Path, str, Path], tmp_path: Path
) -> None:
    args = ["drive", "--period", "2026-07", "--out", str(tmp_path), "--db", ledger[1]]
    result = CliRunner().invoke(app, [*args, "--lang", "en"])
    assert result.exit_code == 0, result.output
    ws = openpyxl.load_workbook(sorted(tmp_path.glob("*.xlsx"))[0]).active
    assert ws["A1"].value.startswith("Founding drive: ")
    header = [c.value for c in ws[3]]
    assert header[:4] == ["No.", "Tier (employees)", "Action", "Unit name"]
    assert {r[2] for r in ws.iter_rows(min_row=4, values_only=True)} <= {
        "found a union",
        "found its own union",
    }


# text | file name
SAFE_NAME_CASES = [
    ("城关镇工会", "城关镇工会"),
    ("开发区/工业园区工会", "开发区_工业园区工会"),
    ('a:b*c?"d"<e>|f\\g', "a_b_c__d__e__f_g"),
    ("  .隐藏. ", "隐藏"),
    ("CON", "_CON"),
    ("nul.txt", "_nul.txt"),
    ("...", "_"),
    ("工" * 100, "工" * 80),
]


@pytest.mark.parametrize(("text", "name"), SAFE_NAME_CASES)
def test_a_jurisdiction_becomes_a_safe_file_name(text: str, name: str) -> None:
    assert safe_file_name(text) == name


def test_jurisdictions_alike_once_made_safe_get_numbered_files() -> None:
    names = workbook_names(["A/B", "A:B", "a_b"], "2026-10")
    assert names == {
        "A/B": "建会推动_2026-10_A_B.xlsx",
        "A:B": "建会推动_2026-10_A_B(2).xlsx",
        "a_b": "建会推动_2026-10_a_b(3).xlsx",
    }
