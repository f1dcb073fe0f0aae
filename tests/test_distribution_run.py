"""Rule 13 end to end: `dues run` writes distribution.parquet and payouts.parquet, the
workbook's 分成明细 and 回拨清单, and the split's conservation in run.json; a line of a
unit outside the registry waits until a later period's registry has it; a re-run of a
period redoes that period's distribution without counting a line twice; `dues rerun`
gives the same split. Amounts are those of the CSV files, in yuan; outputs in fen."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from test_stages import REGISTRY, A, B, csv, line

from dues.run import RunError, RunRequest, run_period
from dues.run.rederive import rerun_from
from dues.store import open_store

C = "91110000MA00000C0X"  # 丙, covered by 东镇工会's joint union, not in the first registry
WITH_C = REGISTRY + f"{C},丙公司,企业,8,东镇工会,联合工会,2020-01-01\n"


def prep(receipt: str, month: str, amount: str, uscc: str) -> str:
    return line(receipt, month, amount, uscc=uscc).replace("工会经费", "工会筹备金")


def request(
    folder: Path, period: str, registry: str, *lines: str, db: str | None = None
) -> RunRequest:
    reg = folder / f"registry-{period}-{len(registry)}.csv"
    reg.write_text(registry, encoding="utf-8")
    collections = csv(folder, f"c{period}.csv", *lines)
    return RunRequest(
        period=period,
        registry=reg,
        collections=(collections,),
        out=folder / "out",
        db=db or f"sqlite:///{folder / 'l.db'}",
        replace=True,
    )


SEPTEMBER = (
    line("R1", "2026-09", "100.00"),  # 甲's dues: 60 / 20 / 8 / 7 / 5 yuan
    prep("R2", "2026-09", "9.99", B),  # 乙's preparatory fund: 5.99 / 2.00 / 0.80 / 0.70 / 0.50
    line("R3", "2026-09", "50.00", uscc=C),  # 丙 is not in September's registry: it waits
)
OCTOBER = (line("R4", "2026-10", "100.00"),)


def read(folder: Path, period: str, name: str) -> pl.DataFrame:
    return pl.read_parquet(folder / "out" / period / f"{name}.parquet")


def levels(frame: pl.DataFrame, key: str) -> list[tuple[str, str, str, int]]:
    rows = frame.filter(pl.col("key") == key)
    return rows.select("level", "recipient", "recipient_kind", "amount_fen").rows()


def test_a_run_splits_its_lines_and_writes_the_files_the_sheets_and_run_json(
    tmp_path: Path,
) -> None:
    summary = run_period(request(tmp_path, "2026-09", REGISTRY, *SEPTEMBER))
    split = read(tmp_path, "2026-09", "distribution")
    assert split["key"].unique().sort().to_list() == ["R1/1", "R2/1"]  # not 丙's R3
    assert levels(split, "R1/1") == [
        ("base", A, "own_union", 6000),
        ("county", "county", "upper_level", 2000),
        ("city", "city", "upper_level", 800),
        ("province", "province", "upper_level", 700),
        ("national", "national", "upper_level", 500),
    ]
    assert levels(split, "R2/1") == [
        ("base", "prep_account", "prep_account", 599),
        ("county", "county", "upper_level", 200),
        ("city", "city", "upper_level", 80),
        ("province", "province", "upper_level", 70),
        ("national", "national", "upper_level", 50),
    ]
    assert split.select("source_file", "source_row", "uscc", "period", "fund", "channel").row(
        0
    ) == ("c2026-09.csv", 2, A, "2026-09", "dues", "tax")
    assert read(tmp_path, "2026-09", "payouts").rows() == [
        ("base", A, "own_union", 1, 6000),
        ("base", "prep_account", "prep_account", 1, 599),
        ("county", "county", "upper_level", 2, 2200),
        ("city", "city", "upper_level", 2, 880),
        ("province", "province", "upper_level", 2, 770),
        ("national", "national", "upper_level", 2, 550),
    ]
    assert read(tmp_path, "2026-09", "unmatched")["receipt_no"].to_list() == ["R3"]

    info = json.loads((summary.out_dir / "run.json").read_text(encoding="utf-8"))
    assert info["distribution"] == {
        "by_fund": [
            {"channel": "tax", "fund": "dues", "lines": 1, "lines_fen": 10000,
             "distributed_fen": 10000, "holds": True},
            {"channel": "tax", "fund": "preparatory", "lines": 1, "lines_fen": 999,
             "distributed_fen": 999, "holds": True},
        ],
        "conserved": True,
    }  # fmt: skip
    assert (info["totals"]["distributed_lines"], info["totals"]["distributed_fen"]) == (2, 10999)

    wb = openpyxl.load_workbook(summary.report)
    detail = [[c.value for c in row] for row in wb["分成明细"].iter_rows()]
    assert detail[0][:3] == ["来源文件", "来源行号", "税票号/凭证号"]
    assert detail[0][7:] == ["基层受款方", "基层受款方类型", "基层工会(元)", "县级工会(元)",
                             "市级工会(元)", "省级工会(元)", "全国总工会(元)"]  # fmt: skip
    assert detail[1][7:] == [A, "本单位工会", 60, 20, 8, 7, 5]
    assert detail[2][7:] == ["筹备金专户", "筹备金专户", 5.99, 2, 0.8, 0.7, 0.5]
    assert wb["分成明细"]["J2"].number_format == "#,##0.00"
    payouts = [[c.value for c in row] for row in wb["回拨清单"].iter_rows()]
    assert payouts[0] == ["层级", "受款方", "受款方类型", "笔数", "分成金额(元)"]
    assert payouts[2] == ["基层工会", "筹备金专户", "筹备金专户", 1, 5.99]
    assert payouts[3] == ["县级工会", "县级工会", "上级工会", 2, 22]

    with open_store(f"sqlite:///{tmp_path / 'l.db'}") as store:
        assert_frame_equal(store.load_results("distribution", "2026-09"), split)
        assert_frame_equal(
            store.load_results("payouts", "2026-09"), read(tmp_path, "2026-09", "payouts")
        )
        assert store.row_counts()["result_distribution"] == 2  # wide: a row per line × month


def test_a_waiting_line_is_distributed_by_the_first_later_run_whose_registry_has_its_unit(
    tmp_path: Path, store_url: str
) -> None:
    """On both stores: the waiting rows are updated by key in the commit."""
    run_period(request(tmp_path, "2026-09", REGISTRY, *SEPTEMBER, db=store_url))
    september = read(tmp_path, "2026-09", "distribution")
    run_period(request(tmp_path, "2026-10", WITH_C, *OCTOBER, db=store_url))
    october = read(tmp_path, "2026-10", "distribution")
    # 丙's September line, stored by September's run, is October's to distribute: its
    # base share goes to the joint union of 东镇工会 (丙's status in September: joint).
    assert october["key"].unique().sort().to_list() == ["R3/1", "R4/1"]
    assert levels(october, "R3/1")[0] == ("base", "东镇工会", "joint_union", 3000)
    assert october.filter(pl.col("key") == "R3/1")["period"].unique().to_list() == ["2026-09"]
    assert read(tmp_path, "2026-09", "distribution").equals(september)
    info = json.loads((tmp_path / "out" / "2026-10" / "run.json").read_text(encoding="utf-8"))
    assert info["distribution"]["by_fund"][0]["lines_fen"] == 15000

    # Re-running October with the same inputs redoes its distribution: R3 once, not twice.
    run_period(request(tmp_path, "2026-10", WITH_C, *OCTOBER, db=store_url))
    assert read(tmp_path, "2026-10", "distribution").equals(october)
    # A November run does not distribute R3 again: October did.
    run_period(request(tmp_path, "2026-11", WITH_C, line("R5", "2026-11", "10.00"), db=store_url))
    assert read(tmp_path, "2026-11", "distribution")["key"].unique().to_list() == ["R5/1"]

    # October re-run without 丙 in its registry: R3 waits again...
    run_period(request(tmp_path, "2026-10", REGISTRY, *OCTOBER, db=store_url))
    assert read(tmp_path, "2026-10", "distribution")["key"].unique().to_list() == ["R4/1"]
    # ...and November, re-derived (stale since that re-run), now distributes it.
    rerun_from("2026-11", out=tmp_path / "out", db=store_url)
    assert read(tmp_path, "2026-11", "distribution")["key"].unique().sort().to_list() == [
        "R3/1",
        "R5/1",
    ]
    with open_store(store_url) as store:
        total = sum(
            store.load_results("distribution", p)
            .filter(pl.col("key") == "R3/1")["amount_fen"]
            .sum()
            for p in ("2026-09", "2026-10", "2026-11")
        )
    assert total == 5000  # distributed exactly once over the live runs


def test_dues_rerun_gives_the_same_distribution(tmp_path: Path) -> None:
    run_period(request(tmp_path, "2026-09", REGISTRY, *SEPTEMBER))
    run_period(request(tmp_path, "2026-10", WITH_C, *OCTOBER))
    before = {n: read(tmp_path, "2026-10", n) for n in ("distribution", "payouts")}
    run_period(request(tmp_path, "2026-09", REGISTRY, *SEPTEMBER))  # October goes stale
    rerun_from("2026-10", out=tmp_path / "out", db=f"sqlite:///{tmp_path / 'l.db'}")
    for name, frame in before.items():
        assert read(tmp_path, "2026-10", name).equals(frame), name
    wb = openpyxl.load_workbook(tmp_path / "out" / "2026-10" / "report.xlsx", read_only=True)
    assert {"分成明细", "回拨清单"} <= set(wb.sheetnames)


def test_a_distribution_that_loses_a_fen_refuses_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dues.distribution as distribution

    whole = distribution.distribution_wide

    def losing(*args: object, **kwargs: object) -> pl.DataFrame:
        # distribution.parquet is written from the wide rows: one fen less in the first.
        wide = whole(*args, **kwargs)  # type: ignore[arg-type]
        return wide.with_columns(
            pl.when(pl.int_range(pl.len()) == 0).then(pl.col("base_fen") - 1)
            .otherwise(pl.col("base_fen")).alias("base_fen")
        )  # fmt: skip

    monkeypatch.setattr(distribution, "distribution_wide", losing)
    with pytest.raises(RunError, match="distribution of the tax dues lines gives out 9999 fen"):
        run_period(request(tmp_path, "2026-09", REGISTRY, *SEPTEMBER))
    assert not (tmp_path / "out" / "2026-09").exists()
    with open_store(f"sqlite:///{tmp_path / 'l.db'}") as store:
        assert store.list_runs().is_empty()


def test_a_province_sized_split_leaves_its_sheet_to_the_parquet_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dues.report import staged

    monkeypatch.setattr(staged, "DETAIL_LIMIT", 1)  # two line-months count as big
    summary = run_period(request(tmp_path, "2026-09", REGISTRY, *SEPTEMBER))
    info = json.loads((summary.out_dir / "run.json").read_text(encoding="utf-8"))
    assert info["report_distribution"].startswith("分成明细 lists none of 2 line-months")
    wb = openpyxl.load_workbook(summary.report, read_only=True)
    assert len(list(wb["分成明细"].iter_rows())) == 1  # the header
    payouts = list(wb["回拨清单"].iter_rows(values_only=True))
    assert len(payouts) == 1 + 6 + 2 and payouts[-1][0] == "合计(本表)"  # a blank row, the total
    assert read(tmp_path, "2026-09", "distribution").height == 10
