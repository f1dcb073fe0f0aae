"""The stages of a run (dues.run.stages) on a tiny county written here: no example needed.

Repeats judged once over the run's files and the store, the conservation records the
merge leaves, the policy read once, a work folder no stage rewrites, outputs with the
umask's mode, and a county's own aging buckets.
"""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path

import openpyxl
import polars as pl
import pytest
import sqlalchemy as sa

from dues.outputs import NAMES
from dues.run import STAGES, RunError, RunRequest, RunSummary, discard, preflight, run_period
from dues.run import summarize as summarize_run
from dues.store import open_store

ROOT = Path(__file__).resolve().parents[1]
A, B = "91110000600037341L", "911100007109310534"  # 甲 has its own union, 乙 none
REGISTRY = f"""统一社会信用代码,单位名称,单位类型,职工人数,管理工会,建会形式,建会日期
{A},甲公司,企业,30,东镇工会,单独建会,2020-01-01
{B},乙公司,企业,12,东镇工会,未建会,
"""
HEADER = ",".join(
    ("电子税票号码", "登记序号", "纳税人识别号", "纳税人名称", "征收品目", "税款所属期起",
     "税款所属期止", "计税依据", "税率", "实缴金额")
)  # fmt: skip


def line(receipt: str, month: str, amount: str, wage: str = "10000.00", uscc: str = A) -> str:
    """One dues line of 甲 (or `uscc`) for `month`, paid on the 10th of the next month."""
    year, mon = map(int, month.split("-"))
    last = {2: 28, 4: 30, 6: 30, 9: 30, 11: 30}.get(mon, 31)
    paid = f"{year + mon // 12}-{mon % 12 + 1:02d}-10"
    cells = [receipt, "1", uscc, "甲公司", "工会经费", f"{month}-01", f"{month}-{last}", wage, "1%"]
    return ",".join([*cells, amount, paid])


def csv(folder: Path, name: str, *lines: str, paid_date: bool = True) -> Path:
    header = HEADER + (",入库日期" if paid_date else "")
    rows = [r if paid_date else r.rsplit(",", 1)[0] for r in lines]
    path = folder / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def request(tmp_path: Path, period: str, *collections: Path, **over: object) -> RunRequest:
    registry = tmp_path / "registry.csv"
    if not registry.exists():
        registry.write_text(REGISTRY, encoding="utf-8")
    fields: dict[str, object] = {
        "period": period,
        "registry": registry,
        "collections": collections,
        "out": tmp_path / "out",
        "db": f"sqlite:///{tmp_path / 'ledger.db'}",
    }
    return RunRequest(**(fields | over))  # type: ignore[arg-type]


def figures(summary: RunSummary, name: str) -> tuple[int, int, int]:
    (record,) = [f for f in summary.files if f["file"] == name]
    assert record["rows_conserved"] and record["money_conserved"]
    return record["rows_accepted"], record["rows_quarantined"], record["rows_duplicate"]


def quarantine(summary: RunSummary) -> list[tuple[str, int, str]]:
    frame = pl.read_parquet(summary.out_dir / "quarantine.parquet")
    return list(frame.select("source_file", "source_row", "reason").iter_rows())


# ---- repeats: judged once, over all the run's files and the store ------------------------


def test_a_line_repeated_in_a_later_file_is_judged_against_the_kept_line(tmp_path: Path) -> None:
    first = csv(tmp_path, "a.csv", line("R1", "2026-09", "100.00"))
    later = csv(
        tmp_path,
        "b.csv",
        line("R1", "2026-09", "200.00", "20000.00"),
        line("R1", "2026-09", "200.00", "20000.00"),
    )
    summary = run_period(request(tmp_path, "2026-10", first, later))
    assert figures(summary, "a.csv") == (1, 0, 0)
    assert figures(summary, "b.csv") == (0, 2, 0)  # both conflict with R1/100
    assert quarantine(summary) == [
        ("b.csv", 2, "conflicting_duplicate"),
        ("b.csv", 3, "conflicting_duplicate"),
    ]
    raw = pl.read_parquet(summary.out_dir / "quarantine.parquet")["raw"].to_list()
    assert all(json.loads(r)["amount"] == "200.00" for r in raw)  # the bureau's own cells


def test_a_line_equal_to_the_stored_one_is_a_duplicate_after_a_conflict(tmp_path: Path) -> None:
    run_period(
        request(tmp_path, "2026-09", csv(tmp_path, "s.csv", line("R1", "2026-09", "200.00")))
    )
    again = csv(tmp_path, "c.csv", line("R1", "2026-09", "100.00"), line("R1", "2026-09", "200.00"))
    summary = run_period(request(tmp_path, "2026-10", again))
    assert figures(summary, "c.csv") == (0, 1, 1)
    assert quarantine(summary) == [("c.csv", 2, "conflicting_duplicate")]


def test_lines_without_a_paid_date_are_counted_as_the_merge_leaves_them(tmp_path: Path) -> None:
    lines = [line("R1", "2026-09", "100.00"), line("R2", "2026-09", "50.00", uscc=B)]
    first = run_period(
        request(tmp_path, "2026-09", csv(tmp_path, "t9.csv", *lines, paid_date=False))
    )
    assert first.files[1]["rows_without_paid_date"] == 2
    # The same record in the store and in the workbook's 运行信息.
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    with engine.connect() as conn:
        stored = conn.execute(
            sa.text("SELECT rows_without_paid_date FROM input_files WHERE file_name = 't9.csv'")
        ).scalar_one()
    engine.dispose()
    assert stored == 2
    rows = list(openpyxl.load_workbook(first.report)["运行信息"].iter_rows(values_only=True))
    header = next(r for r in rows if r[0] == "文件")
    record = dict(zip(header, next(r for r in rows if r[0] == "t9.csv"), strict=False))
    assert record["无入库日期行数"] == 2
    resent = run_period(
        request(tmp_path, "2026-10", csv(tmp_path, "t10.csv", *lines, paid_date=False))
    )
    assert figures(resent, "t10.csv") == (0, 0, 2)
    assert resent.files[1]["rows_without_paid_date"] == 0  # both are the stored lines


def test_two_inputs_with_one_name_are_refused_before_any_work(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "y").mkdir()
    one = csv(tmp_path / "x", "代收.csv", line("R1", "2026-09", "100.00"))
    other = csv(tmp_path / "y", "代收.csv", line("R2", "2026-09", "100.00"))
    with pytest.raises(RunError, match=r"two input files are named 代收\.csv") as err:
        run_period(request(tmp_path, "2026-10", one, other))
    assert "\n" not in str(err.value)
    assert not (tmp_path / "out" / ".work").exists()


# ---- the run's own promises ------------------------------------------------------------


def test_the_policy_is_read_once_and_run_json_hashes_the_one_applied(tmp_path: Path) -> None:
    from dues.policy import load_policy, policy_hash

    default = (ROOT / "config" / "policy.toml").read_text(encoding="utf-8")
    config = tmp_path / "policy.toml"
    config.write_text(default, encoding="utf-8")
    applied = load_policy(config)
    underpaid = csv(tmp_path, "c.csv", line("R1", "2026-09", "50.00"))
    ctx = preflight(request(tmp_path, "2026-10", underpaid, config=config))
    try:
        # A clerk edits the policy while the run reads its files: the run goes on
        # with the policy it started with, and says so.
        lenient = re.sub(r"(?m)^tolerance_fen\s*=.*$", "tolerance_fen = 1000000", default)
        config.write_text(lenient, encoding="utf-8")
        for stage in STAGES:
            stage.run(ctx)
        summary = summarize_run(ctx)
    finally:
        discard(ctx)
    info = json.loads((summary.out_dir / "run.json").read_text(encoding="utf-8"))
    assert info["config_hash"] == policy_hash(applied) != policy_hash(load_policy(config))
    months = pl.read_parquet(summary.out_dir / "reconciliation.parquet")
    assert months.filter(period="2026-09", uscc=A)["status"].item() == "underpaid"


def test_no_stage_writes_into_what_an_earlier_stage_wrote(tmp_path: Path) -> None:
    run_period(request(tmp_path, "2026-09", csv(tmp_path, "s.csv", line("R1", "2026-09", "9"))))
    ctx = preflight(
        request(tmp_path, "2026-10", csv(tmp_path, "c.csv", line("R2", "2026-10", "9")))
    )
    written: dict[Path, bytes] = {}
    try:
        for stage in STAGES[:-1]:  # publish moves the staged folder, by design
            stage.run(ctx)
            now = {p: p.read_bytes() for p in ctx.work.root.rglob("*") if p.is_file()}
            changed = [p for p, data in written.items() if now.get(p) != data]
            assert changed == [], f"{stage.name} rewrote {changed}"
            assert set(now) > set(written), f"{stage.name} wrote nothing"
            written = now
    finally:
        discard(ctx)


@pytest.mark.parametrize("umask", [0o002, 0o027])
def test_every_output_file_follows_the_umask(tmp_path: Path, umask: int) -> None:
    before = os.umask(umask)
    try:
        summary = run_period(
            request(tmp_path, "2026-10", csv(tmp_path, "c.csv", line("R1", "2026-09", "9")))
        )
    finally:
        os.umask(before)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in summary.out_dir.iterdir()}
    assert set(modes) >= {"run.json", "report.xlsx", *(f"{n}.parquet" for n in NAMES)}
    assert set(modes.values()) == {0o666 & ~umask}, modes


def test_a_county_with_its_own_aging_buckets_gets_them_everywhere(tmp_path: Path) -> None:
    text = (ROOT / "config" / "policy.toml").read_text(encoding="utf-8")
    config = tmp_path / "policy.toml"
    config.write_text(
        re.sub(r"(?m)^aging_bucket_days\s*=.*$", "aging_bucket_days = [60, 365]", text),
        encoding="utf-8",
    )
    # 甲 pays half of what it owes for July, August and September.
    lines = [line(f"R{m}", f"2026-{m:02d}", "50.00") for m in (7, 8, 9)]
    summary = run_period(
        request(tmp_path, "2026-10", csv(tmp_path, "c.csv", *lines), config=config)
    )
    aging = ["aging_0_60_fen", "aging_61_365_fen", "aging_over_365_fen"]
    arrears = pl.read_parquet(summary.out_dir / "arrears.parquet").filter(uscc=A)
    assert [c for c in arrears.columns if c.startswith("aging_")] == aging
    # Due 15 Aug, 15 Sep, 15 Oct; 77, 46 and 16 days before 31 Oct.
    assert arrears.select(aging).row(0) == (10_000, 5_000, 0)
    sheet = openpyxl.load_workbook(summary.report, read_only=True)["欠缴账龄"]
    header = next(sheet.iter_rows(max_row=1, values_only=True))
    assert [h for h in header if h and str(h).startswith("账龄")] == [
        "账龄0-60天(元)",
        "账龄61-365天(元)",
        "账龄365天以上(元)",
    ]
    with open_store(f"sqlite:///{tmp_path / 'ledger.db'}") as store:
        stored = store.load_results("arrears", "2026-10")
    assert [c for c in stored.columns if c.startswith("aging_")] == aging


# ---- the stage hook: what the command line's progress display is told --------------------


def test_the_stage_hook_is_told_of_every_stage_in_order_with_its_time(tmp_path: Path) -> None:
    events: list[tuple[str, str, float]] = []
    collections = csv(tmp_path, "c.csv", line("R1", "2026-10", "100.00"))
    run_period(
        request(tmp_path, "2026-10", collections),
        on_stage=lambda name, event, s: events.append((name, event, s)),
    )
    expected = [(stage.name, event) for stage in STAGES for event in ("start", "done")]
    assert [(name, event) for name, event, _ in events] == expected
    assert all(s == 0.0 for _, event, s in events if event == "start")
    assert all(s > 0.0 for _, event, s in events if event == "done")


def test_the_stage_hook_is_told_which_stage_failed_and_the_error_goes_on(tmp_path: Path) -> None:
    events: list[tuple[str, str]] = []
    bad = tmp_path / "c.csv"
    bad.write_text("no header here\n", encoding="utf-8")
    with pytest.raises(RunError, match="no header row"):
        run_period(
            request(tmp_path, "2026-10", bad),
            on_stage=lambda name, event, _s: events.append((name, event)),
        )
    assert events == [("ingest", "start"), ("ingest", "failed")]
