"""Re-runs that remove stored lines ask first; stale months are known and fixable (issue 10).

The example county's four months, run in order, are the reference: a re-run of an
earlier month, or a forgotten month run late, marks the later months stale in the
ledger, and `dues rerun --from P` re-derives them from the ledger alone, to the
outputs of a run in order.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa
from _paths import require_county
from typer.testing import CliRunner

from dues.cli import app
from dues.outputs import NAMES
from dues.run import RunError, RunRequest, run_period
from dues.run.rederive import rerun_from
from dues.store import open_store

COUNTY = require_county()
SUMMARY = json.loads((COUNTY / "expected" / "summary.json").read_text(encoding="utf-8"))
INPUTS = COUNTY / "inputs"
RUNS = {run["period"]: run for run in SUMMARY["runs"]}
LATER = ["2026-08", "2026-09", "2026-10"]


def request(period: str, out: Path, db: str, **over: object) -> RunRequest:
    run = RUNS[period]
    fields: dict[str, object] = {
        "period": period,
        "registry": INPUTS / SUMMARY["registry"],
        "collections": tuple(INPUTS / f for f in run["collections"]),
        "allocations": tuple(INPUTS / f for f in run["allocations"]),
        "out": out,
        "db": db,
    }
    return RunRequest(**(fields | over))  # type: ignore[arg-type]


def outputs(out: Path, period: str) -> dict[str, pl.DataFrame]:
    return {name: pl.read_parquet(out / period / f"{name}.parquet") for name in NAMES}


def stale(db: str) -> list[str]:
    result = CliRunner().invoke(app, ["runs", "--json", "--db", db])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    return sorted(r["period"] for r in rows if r["stale"])


@pytest.fixture(scope="module")
def in_order(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """OUT of the four months run in order on a fresh ledger: the reference."""
    root = tmp_path_factory.mktemp("in-order")
    for period in RUNS:
        run_period(request(period, root / "out", f"sqlite:///{root / 'l.db'}"))
    return root / "out"


def assert_same_outputs(out: Path, reference: Path, periods: list[str]) -> None:
    for period in periods:
        got, expected = outputs(out, period), outputs(reference, period)
        for name in NAMES:
            assert got[name].equals(expected[name]), f"{period} {name}.parquet differs"


# ---- item 2: a re-run that would remove stored lines refuses ------------------------------


def header_only(tmp_path: Path, name: str) -> Path:
    source = (INPUTS / name).read_bytes()
    path = tmp_path / "header-only" / name
    path.parent.mkdir()
    path.write_bytes(source.split(b"\n", 1)[0] + b"\n")
    return path


def without_last_lines(tmp_path: Path, name: str, n: int) -> Path:
    lines = (INPUTS / name).read_bytes().rstrip(b"\n").split(b"\n")
    path = tmp_path / f"short-{n}" / name
    path.parent.mkdir()
    path.write_bytes(b"\n".join(lines[:-n]) + b"\n")
    return path


def ledger_state(db: str, out: Path) -> tuple[object, ...]:
    with open_store(db) as store:
        counts, runs = store.row_counts(), store.list_runs()["run_id"].to_list()
    files = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    return counts, runs, files


def test_a_header_only_collections_file_refuses_to_wipe_the_month(
    tmp_path: Path, store_url: str
) -> None:
    out, db = tmp_path / "out", store_url
    run_period(request("2026-08", out, db))
    with open_store(db) as store:
        stored = store.load_receipts()
    before = ledger_state(db, out)
    empty = header_only(tmp_path, "collections_2026-08.csv")
    with pytest.raises(RunError) as refused:
        run_period(request("2026-08", out, db, collections=(empty,)))
    money = f"{stored['amount_fen'].sum() // 100:,}.{stored['amount_fen'].sum() % 100:02d}"
    assert str(refused.value) == (
        f"re-running 2026-08 would remove {stored.height} receipt line(s) ({money} yuan) "
        "and 0 allocation(s) (0.00 yuan) that its earlier run stored and these inputs lack; "
        "nothing was written. Pass --replace to remove them"
    )
    assert ledger_state(db, out) == before  # nothing written, no work folder left
    run_period(request("2026-08", out, db, collections=(empty,), replace=True))
    with open_store(db) as store:
        assert store.load_receipts().is_empty()


def test_fewer_allocations_refuse_but_identical_and_added_ones_do_not(tmp_path: Path) -> None:
    out, db = tmp_path / "out", f"sqlite:///{tmp_path / 'l.db'}"
    short = without_last_lines(tmp_path, "allocations_2026-07.csv", 2)
    run_period(request("2026-07", out, db, allocations=(short,)))
    run_period(request("2026-07", out, db))  # two allocations added: not refused
    run_period(request("2026-07", out, db))  # identical: not refused
    with open_store(db) as store:
        stored = store.load_allocations().sort("source_row")
    fen = stored.tail(2)["amount_fen"].sum()
    with pytest.raises(RunError) as refused:
        run_period(request("2026-07", out, db, allocations=(short,)))
    assert str(refused.value).startswith(
        "re-running 2026-07 would remove 0 receipt line(s) (0.00 yuan) and 2 allocation(s) "
        f"({fen // 100:,}.{fen % 100:02d} yuan)"
    )


def test_a_re_run_that_changes_a_line_is_not_refused(tmp_path: Path) -> None:
    out, db = tmp_path / "out", f"sqlite:///{tmp_path / 'l.db'}"
    run_period(request("2026-07", out, db))
    source = (INPUTS / "allocations_2026-07.csv").read_bytes()
    changed = tmp_path / "changed" / "allocations_2026-07.csv"
    changed.parent.mkdir()
    changed.write_bytes(source.replace(b",4590.01,", b",4591.01,"))
    assert changed.read_bytes() != source
    run_period(request("2026-07", out, db, allocations=(changed,)))
    with open_store(db) as store:
        assert 459_101 in store.load_allocations()["amount_fen"].to_list()


def test_the_cli_refuses_in_one_line_and_replace_lets_it_through(tmp_path: Path) -> None:
    out, db = tmp_path / "out", f"sqlite:///{tmp_path / 'l.db'}"
    run_period(request("2026-08", out, db))
    empty = header_only(tmp_path, "collections_2026-08.csv")
    argv = ["run", "--period", "2026-08", "--registry", str(INPUTS / SUMMARY["registry"]),
            "--collections", str(empty), "--out", str(out), "--db", db]  # fmt: skip
    refused = CliRunner().invoke(app, argv)
    assert refused.exit_code == 2
    errors = [line for line in refused.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "would remove" in errors[0] and "--replace" in errors[0]
    assert "Traceback" not in refused.output
    replaced = CliRunner().invoke(app, [*argv, "--replace"])
    assert replaced.exit_code == 0, replaced.output


# ---- item 3: stale months are marked, shown, and re-derived ------------------------------


def test_a_july_re_run_marks_the_later_months_and_rerun_restores_them(
    tmp_path: Path, in_order: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's case: July re-run after October leaves 08..10 derived from a ledger
    that no longer is; `dues rerun --from 2026-08` re-derives them, no files read."""
    out, db = tmp_path / "out", f"sqlite:///{tmp_path / 'l.db'}"
    for period in RUNS:
        run_period(request(period, out, db))
    july = RUNS["2026-07"]
    again = CliRunner().invoke(
        app,
        ["run", "--period", "2026-07", "--registry", str(INPUTS / SUMMARY["registry"]),
         "--collections", *(str(INPUTS / f) for f in july["collections"]),
         "--allocations", *(str(INPUTS / f) for f in july["allocations"]),
         "--out", str(out), "--db", db],
    )  # fmt: skip
    assert again.exit_code == 0, again.output
    # In the workbook's language, Chinese by default (dues.cli_text).
    said = [" ".join(line.split()) for line in again.output.splitlines() if "过时" in line]
    assert said == [
        "过时：2026-08, 2026-09, 2026-10 — 在本次 2026-07 运行之前生成；"
        "用 `dues rerun --from 2026-08` 重新生成"
    ]
    assert stale(db) == LATER
    # The console's width is fixed when dues.cli is first imported (COLUMNS comes late).
    from dues.cli import console

    monkeypatch.setattr(console, "width", 200)
    table = CliRunner().invoke(app, ["runs", "--db", db], env={"COLUMNS": "200"})
    assert table.output.count("completed · stale") == 3, table.output
    assert (
        "stale: derived before a later run of 2026-07; re-derive with `dues rerun --from 2026-08`"
    ) in table.output
    result = CliRunner().invoke(app, ["rerun", "--from", "2026-08", "--db", db, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert [line.split("：")[0] for line in result.output.splitlines() if "已重新生成" in line] == (
        LATER
    )
    assert stale(db) == []
    assert_same_outputs(out, in_order, ["2026-07", *LATER])
    with open_store(db) as store:
        runs = store.list_runs().filter(pl.col("status") == "completed")
        assert sorted(runs["period"].to_list()) == list(RUNS)


def test_a_forgotten_month_run_late_is_known_and_fixed_on_both_stores(
    tmp_path: Path, in_order: Path, store_url: str
) -> None:
    """August forgotten, run after October: September's and October's arrears were
    computed without it (order dependence); they are marked stale, and rerun gives the
    in-order outputs."""
    out = tmp_path / "out"
    for period in ["2026-07", "2026-09", "2026-10"]:
        run_period(request(period, out, store_url))
    october_without_august = outputs(out, "2026-10")["arrears"]
    assert not october_without_august.equals(outputs(in_order, "2026-10")["arrears"])
    run_period(request("2026-08", out, store_url))
    assert_same_outputs(out, in_order, ["2026-08"])  # the late month itself is right
    assert stale(store_url) == ["2026-09", "2026-10"]
    said: list[str] = []
    summaries = rerun_from("2026-09", out=out, db=store_url, say=said.append)
    assert [s.period for s in summaries] == ["2026-09", "2026-10"]
    assert said == []  # each run's own policy is kept in the ledger
    assert stale(store_url) == []
    assert_same_outputs(out, in_order, ["2026-09", "2026-10"])
    assert not (out / ".work").exists()


def test_a_conflict_with_a_later_months_line_names_the_run_that_keeps_it(tmp_path: Path) -> None:
    out, db = tmp_path / "out", f"sqlite:///{tmp_path / 'l.db'}"
    september = run_period(request("2026-09", out, db))
    july = RUNS["2026-07"]
    result = CliRunner().invoke(
        app,
        ["run", "--period", "2026-07", "--registry", str(INPUTS / SUMMARY["registry"]),
         "--collections", *(str(INPUTS / f) for f in july["collections"]),
         "--allocations", *(str(INPUTS / f) for f in july["allocations"]),
         "--out", str(out), "--db", db, "--lang", "en"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    said = [" ".join(line.split()) for line in result.output.splitlines() if "conflicts:" in line]
    assert len(said) == 1
    assert f"kept by run {september.run_id} of 2026-09" in said[0]
    quarantine = outputs(out, "2026-07")["quarantine"]
    named = [
        json.loads(raw)
        for raw in quarantine.filter(pl.col("reason") == "conflicting_duplicate")["raw"]
    ]
    kept_later = [r for r in named if "stored_by_run" in r]
    assert kept_later, quarantine
    assert {(r["stored_by_run"], r["stored_by_period"]) for r in kept_later} == {
        (september.run_id, "2026-09")
    }


def test_rerun_applies_the_policy_the_period_was_run_with(tmp_path: Path) -> None:
    """August run under another policy (a due day of the 20th), then July: August is
    re-derived under its own policy, as a run in order under it gives, though
    config/policy.toml says otherwise."""
    policy = (Path(__file__).resolve().parents[1] / "config" / "policy.toml").read_text(
        encoding="utf-8"
    )
    other = tmp_path / "other.toml"
    other.write_text(policy.replace("due_day = 15", "due_day = 20", 1), encoding="utf-8")
    ref_out, ref_db = tmp_path / "ref", f"sqlite:///{tmp_path / 'ref.db'}"
    run_period(request("2026-07", ref_out, ref_db))
    run_period(request("2026-08", ref_out, ref_db, config=other))
    out, db = tmp_path / "out", f"sqlite:///{tmp_path / 'l.db'}"
    run_period(request("2026-08", out, db, config=other))
    run_period(request("2026-07", out, db))
    rerun_from("2026-08", out=out, db=db)
    again = json.loads((out / "2026-08" / "run.json").read_text(encoding="utf-8"))
    reference = json.loads((ref_out / "2026-08" / "run.json").read_text(encoding="utf-8"))
    assert again["config_hash"] == reference["config_hash"]
    assert (
        again["config_hash"]
        != json.loads((out / "2026-07" / "run.json").read_text(encoding="utf-8"))["config_hash"]
    )
    assert_same_outputs(out, ref_out, ["2026-08"])
    # A ledger that does not keep the policy (runs from before revision 0006) says which
    # policy the period is re-derived with.
    engine = sa.create_engine(db)
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM policies"))
    engine.dispose()
    said: list[str] = []
    rerun_from("2026-08", out=out, db=db, say=said.append)
    assert len(said) == 1
    assert said[0].startswith("2026-08: the ledger does not keep the policy its run applied")
    assert "re-derived with config/policy.toml" in said[0]


def test_rerun_refuses_when_nothing_is_there_to_re_derive(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'l.db'}"
    with pytest.raises(RunError, match="no completed run of 2026-08 or a later period"):
        rerun_from("2026-08", out=tmp_path / "out", db=db)


def test_a_rerun_failing_after_its_commit_is_published_not_lost(
    tmp_path: Path, in_order: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rerun is held and settled as a run is: its commit stands, so a failure in the
    publish still publishes its staged outputs, and no work folder is left behind."""
    from dues.run import publish as publish_module

    out, db = tmp_path / "out", f"sqlite:///{tmp_path / 'l.db'}"
    for period in RUNS:
        run_period(request(period, out, db))
    run_period(request("2026-07", out, db))  # marks 08..10 stale
    real_swap = publish_module.swap
    calls: list[str] = []

    def failing_once(*args: object) -> None:
        calls.append("swap")
        if len(calls) == 1:
            raise OSError(5, "EIO")
        real_swap(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(publish_module, "swap", failing_once)
    with pytest.raises(OSError):
        rerun_from("2026-08", out=out, db=db)
    # The first re-derived period committed; its clean-up published it despite the failure.
    assert stale(db) == ["2026-09", "2026-10"]
    with open_store(db) as store:
        runs = store.list_runs().filter(
            pl.col("status") == "completed", pl.col("period") == "2026-08"
        )
    assert json.loads((out / "2026-08" / "run.json").read_text())["run_id"] == runs["run_id"][0]
    assert not (out / ".work").exists() or not any((out / ".work").iterdir())
    rerun_from("2026-09", out=out, db=db)
    assert stale(db) == []
    assert_same_outputs(out, in_order, LATER)
