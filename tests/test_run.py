"""A period run end to end (dues.run): the example county, idempotence, bad requests leave
no trace, the stages and their work folder."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from _paths import require_county

from dues.outputs import NAMES as OUTPUT_NAMES
from dues.run import RunError, RunRequest, run_period
from dues.store import open_store

COUNTY = require_county()
SUMMARY = json.loads((COUNTY / "expected" / "summary.json").read_text(encoding="utf-8"))
INPUTS = COUNTY / "inputs"
ROOT = Path(__file__).resolve().parents[1]


def request_for(run: dict, out: Path, db: str, **over: object) -> RunRequest:  # type: ignore[type-arg]
    fields: dict[str, object] = {
        "period": run["period"],
        "registry": INPUTS / SUMMARY["registry"],
        "collections": tuple(INPUTS / f for f in run["collections"]),
        "allocations": tuple(INPUTS / f for f in run["allocations"]),
        "out": out,
        "db": db,
    }
    fields.update(over)
    return RunRequest(**fields)  # type: ignore[arg-type]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.parquet"))}


def test_example_county_runs_in_order_on_every_backend(tmp_path: Path, store_url: str) -> None:
    out = tmp_path / "out"
    for run in SUMMARY["runs"]:
        summary = run_period(request_for(run, out, store_url))
        folder = out / run["period"]
        assert summary.start_period == run["start_period"]
        assert summary.quarantined == run["quarantined_rows_in_this_run"]
        assert summary.unmatched == run["unmatched_receipts"]
        for name in OUTPUT_NAMES:
            assert (folder / f"{name}.parquet").is_file()
        info = json.loads((folder / "run.json").read_text(encoding="utf-8"))
        assert info["conservation_holds"]
        assert {i["file"] for i in info["inputs"]} == {
            SUMMARY["registry"],
            *run["collections"],
            *run["allocations"],
        }
        # the example's own expected figures for this run
        expected = pl.read_csv(COUNTY / "expected" / run["period"] / "reconciliation.csv")
        got = pl.read_parquet(folder / "reconciliation.parquet")
        assert got.height == expected.height
        assert got["expected_fen"].sum() == expected["expected_fen"].sum()
        assert got["paid_fen"].sum() == expected["paid_fen"].sum()
    assert not (out / ".work").exists()
    with open_store(store_url) as store:
        assert store.list_runs().height == len(SUMMARY["runs"])


def test_rerun_with_same_inputs_gives_identical_parquet(tmp_path: Path) -> None:
    out, db = tmp_path / "out", f"sqlite:///{tmp_path / 'l.db'}"
    first_run = SUMMARY["runs"][0]
    run_period(request_for(first_run, out, db))
    before = snapshot(out / first_run["period"])
    run_period(request_for(first_run, out, db))
    assert snapshot(out / first_run["period"]) == before
    with open_store(db) as store:
        assert store.load_receipts().height == 72  # replaced, not doubled


def test_workbook_is_written_with_chinese_sheets(tmp_path: Path) -> None:
    out = tmp_path / "out"
    summary = run_period(request_for(SUMMARY["runs"][0], out, f"sqlite:///{tmp_path / 'l.db'}"))
    wb = openpyxl.load_workbook(summary.report, read_only=True)
    assert wb.sheetnames[:2] == ["概览", "对账明细"]
    assert "隔离记录" in wb.sheetnames and "运行信息" in wb.sheetnames


def bad_registry(tmp_path: Path, rows: list[list[object]]) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(
        ["统一社会信用代码", "单位名称", "单位类型", "职工人数", "管理工会", "建会形式", "建会日期"]
    )
    for row in rows:
        ws.append(row)
    path = tmp_path / "registry_bad.xlsx"
    wb.save(path)
    return path


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("period", "--period must be YYYY-MM"),
        ("as_of", "is before the period"),
        ("empty_registry", "no valid unit"),
        ("twice", "same USCC appears twice"),
        ("missing_file", "no such file"),
        ("config", "config"),
    ],
)
def test_bad_requests_fail_with_one_line_and_leave_no_trace(
    tmp_path: Path, case: str, message: str
) -> None:
    out, db = tmp_path / "out", f"sqlite:///{tmp_path / 'l.db'}"
    good = SUMMARY["runs"][0]
    run_period(request_for(good, out, db))
    before_files = sorted(p.relative_to(out) for p in out.rglob("*"))
    with open_store(db) as store:
        before_runs = store.list_runs().height
    second = SUMMARY["runs"][1]
    over: dict[str, object] = {}
    if case == "period":
        over["period"] = "2026-8"
    elif case == "as_of":
        over["as_of"] = date(2026, 7, 31)
    elif case == "empty_registry":
        over["registry"] = bad_registry(tmp_path, [])
    elif case == "twice":
        unit = ["91110000600037341L", "甲", "企业", 30, "东镇工会", "未建会", None]
        other = ["91110000600037341L", "甲", "企业", 31, "东镇工会", "未建会", None]
        over["registry"] = bad_registry(tmp_path, [unit, other])
    elif case == "missing_file":
        over["collections"] = (tmp_path / "nope.csv",)
    elif case == "config":
        cfg = tmp_path / "policy.toml"
        cfg.write_text("tolerance_fen = 1\nunknown_rate_key = 3\n", encoding="utf-8")
        over["config"] = cfg
    with pytest.raises(RunError, match=message) as err:
        run_period(request_for(second, out, db, **over))
    assert "\n" not in str(err.value)
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before_files
    with open_store(db) as store:
        assert store.list_runs().height == before_runs


def test_unwritable_output_folder_fails_before_ingest(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(RunError, match="not writable"):
        run_period(request_for(SUMMARY["runs"][0], blocker / "out", "sqlite:///:memory:"))


def test_a_workbook_that_fails_leaves_the_store_and_the_outputs_as_they_were(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dues.run import stages

    out, db = tmp_path / "out", f"sqlite:///{tmp_path / 'l.db'}"
    run_period(request_for(SUMMARY["runs"][0], out, db))
    before_files = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    with open_store(db) as store:
        before = (store.row_counts(), store.list_runs()["run_id"].to_list())

    def broken(folder: object, lang: object, info: object) -> None:
        raise OSError("disk full while saving report.xlsx")

    monkeypatch.setattr(stages, "write_staged_workbook", broken)
    with pytest.raises(OSError, match="disk full"):
        run_period(request_for(SUMMARY["runs"][1], out, db))
    after_files = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after_files == before_files
    with open_store(db) as store:
        assert (store.row_counts(), store.list_runs()["run_id"].to_list()) == before


def test_the_store_keeps_each_month_as_its_own_run_settled_it(tmp_path: Path) -> None:
    out, db = tmp_path / "out", f"sqlite:///{tmp_path / 'l.db'}"
    for run in SUMMARY["runs"]:
        run_period(request_for(run, out, db))
    with open_store(db) as store:
        for run in SUMMARY["runs"]:
            stored = store.load_results("reconciliation", run["period"])
            published = pl.read_parquet(out / run["period"] / "reconciliation.parquet")
            own_month = published.filter(pl.col("period") == run["period"])
            assert stored.height == own_month.height > 0
            assert stored["period"].unique().to_list() == [run["period"]]
            assert stored["expected_fen"].sum() == own_month["expected_fen"].sum()
            assert stored["status"].to_list() == own_month.sort("uscc")["status"].to_list()


def test_a_big_workbook_is_written_by_a_child_process_beside_the_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dues.run import stages

    monkeypatch.setattr(stages, "WORKBOOK_PROCESS_ROWS", 0)  # every workbook counts as big
    out, db = tmp_path / "out", f"sqlite:///{tmp_path / 'l.db'}"
    summary = run_period(request_for(SUMMARY["runs"][0], out, db))
    assert set(summary.timings) == {"workbook", "report_and_commit", "workbook_peak_rss_mb"}
    assert summary.timings["workbook_peak_rss_mb"] > 20  # a Python with polars and openpyxl
    book = openpyxl.load_workbook(summary.report, read_only=True)
    assert len(book.sheetnames) >= 8
    with open_store(db) as store:
        assert store.list_runs()["run_id"].to_list() == [summary.run_id]


@pytest.mark.parametrize(
    ("failure", "message"),
    [
        ("fails", r"report\.xlsx could not be written: .*Error"),
        ("hangs", r"not written within 0\.001 s; nothing was stored"),
    ],
)
def test_a_child_workbook_that_fails_or_hangs_leaves_no_trace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: str, message: str
) -> None:
    from dues.report import job
    from dues.run import RunContext, stages

    monkeypatch.setattr(stages, "WORKBOOK_PROCESS_ROWS", 0)
    if failure == "hangs":
        monkeypatch.setattr(job, "TIMEOUT_S", 0.001)  # no interpreter is that fast
    else:
        manifest = stages.manifest

        def manifest_then_block(ctx: RunContext) -> None:
            manifest(ctx)
            (ctx.work.staging / "report.xlsx").mkdir()  # the child cannot replace a folder

        monkeypatch.setattr(stages, "manifest", manifest_then_block)
        monkeypatch.setattr(
            stages,
            "STAGES",
            tuple(
                s if s.name != "manifest" else stages.Stage("manifest", manifest_then_block)
                for s in stages.STAGES
            ),
        )
    out, db = tmp_path / "out", f"sqlite:///{tmp_path / 'l.db'}"
    with pytest.raises(RunError, match=message):
        run_period(request_for(SUMMARY["runs"][0], out, db))
    assert [p for p in out.rglob("*")] == []
    with open_store(db) as store:
        assert store.list_runs().height == 0


def test_a_province_sized_run_lists_only_the_exceptions_but_counts_every_month(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dues.periods import format_period, parse_period
    from dues.report import staged
    from dues.report.labels import text
    from dues.unit_months import needs_action

    monkeypatch.setattr(staged, "DETAIL_LIMIT", 10)  # county-40 counts as big
    out, db = tmp_path / "out", f"sqlite:///{tmp_path / 'l.db'}"
    for run in SUMMARY["runs"]:  # the last month: older months need action too
        summary = run_period(request_for(run, out, db))
    everything = pl.read_parquet(summary.out_dir / "reconciliation.parquet")
    period = SUMMARY["runs"][-1]["period"]
    first = format_period(parse_period(period) - staged.DETAIL_MONTHS + 1)
    exceptions = everything.filter(needs_action() & (pl.col("period") >= first))
    # Only the last months': the older months that need action are left to 欠缴账龄.
    assert 0 < exceptions.height < everything.filter(needs_action()).height
    info = json.loads((summary.out_dir / "run.json").read_text(encoding="utf-8"))
    assert f"lists {exceptions.height:,} of {everything.height:,}" in info["report_detail"]
    run_sheet = openpyxl.load_workbook(summary.report, read_only=True)["运行信息"]
    assert info["report_detail"] in [c for r in run_sheet.iter_rows(values_only=True) for c in r]
    book = openpyxl.load_workbook(summary.report, read_only=True)
    rows = list(book["对账明细"].iter_rows(values_only=True))
    # The header and the data rows, up to the blank row above the total and the legend.
    detail = rows[: next(i for i, r in enumerate(rows) if not any(r))]
    assert len(detail) == 1 + exceptions.height
    assert rows[len(detail) + 1][0] == "合计(本表)"
    assert sorted(r[1] for r in detail[1:]) == sorted(exceptions["uscc"].to_list())
    overview = {r[0]: r[1] for r in book["概览"].iter_rows(values_only=True) if len(r) > 1}
    assert round(overview[text("expected", "zh")] * 100) == everything["expected_fen"].sum()
    assert round(overview[text("collected", "zh")] * 100) == everything["paid_fen"].sum()
