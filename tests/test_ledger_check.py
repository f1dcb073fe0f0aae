"""`dues ledger check`: the kept unit-month totals against the raw lines (issue 9)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa
from _paths import require_county
from typer.testing import CliRunner

from dues.cli import app
from dues.ledger_check import month_sums_differences
from dues.run import RunRequest, run_period
from dues.store import Store, open_store

COUNTY = require_county()
SUMMARY = json.loads((COUNTY / "expected" / "summary.json").read_text(encoding="utf-8"))
INPUTS = COUNTY / "inputs"


def run_county(out: Path, db: str, runs: list[dict] | None = None) -> None:  # type: ignore[type-arg]
    for run in runs or SUMMARY["runs"]:
        run_period(
            RunRequest(
                period=run["period"],
                registry=INPUTS / SUMMARY["registry"],
                collections=tuple(INPUTS / f for f in run["collections"]),
                allocations=tuple(INPUTS / f for f in run["allocations"]),
                out=out,
                db=db,
            )
        )


def execute(db: str, statement: str) -> None:
    engine = sa.create_engine(db)
    with engine.begin() as conn:
        conn.execute(sa.text(statement))
    engine.dispose()


def test_the_example_countys_runs_leave_a_whole_ledger_and_a_corrupt_total_is_reported(
    tmp_path: Path, store_url: str
) -> None:
    run_county(tmp_path / "out", store_url)
    result = CliRunner().invoke(app, ["ledger", "check", "--db", store_url])
    assert result.exit_code == 0, result.output
    assert "agree" in result.output
    with open_store(store_url) as store:
        victim = store.load_month_sums().row(0, named=True)
    execute(
        store_url,
        f"UPDATE unit_month_sums SET paid_dues_fen = paid_dues_fen + 1 "
        f"WHERE run_id = '{victim['run_id']}' AND uscc = '{victim['uscc']}' "
        f"AND month = {victim['month']}",
    )
    with open_store(store_url) as store:
        differences = month_sums_differences(store)
    assert differences.rows() == [
        (victim["run_id"], victim["uscc"], victim["month"], "paid_dues_fen",
         victim["paid_dues_fen"] + 1, victim["paid_dues_fen"], "table"),
    ]  # fmt: skip
    result = CliRunner().invoke(app, ["ledger", "check", "--db", store_url], terminal_width=200)
    assert result.exit_code == 1
    assert "1 kept total(s) differ" in result.output and "paid_dues_fen" in result.output


def test_a_corrupt_sums_pack_is_reported_apart_from_the_table(
    tmp_path: Path, store_url: str
) -> None:
    run_county(tmp_path / "out", store_url)
    with open_store(store_url) as store:
        packs = store.load_month_sum_packs()
        victim = packs.row(0, named=True)
        run_id = victim["run_id"]
        mine = packs.filter(pl.col("run_id") == run_id).drop("run_id")
        # One unit-month lost from the pack, one figure changed: the table is intact.
        changed = mine.slice(1).with_columns(
            pl.when(pl.int_range(pl.len()) == 0)
            .then(pl.col("wage_base_fen") + 7)
            .otherwise(pl.col("wage_base_fen"))
            .alias("wage_base_fen")
        )
        store.keep_sum_pack(run_id, changed)
        differences = month_sums_differences(store)
    second = mine.row(1, named=True)
    assert set(differences["kept_in"]) == {"pack"}
    assert differences.filter(pl.col("figure") == "wage_base_fen").select(
        "uscc", "month", "kept", "rebuilt"
    ).rows() == sorted(
        [
            (victim["uscc"], victim["month"], 0, victim["wage_base_fen"]),
            (second["uscc"], second["month"], second["wage_base_fen"] + 7, second["wage_base_fen"]),
        ]
    )
    result = CliRunner().invoke(app, ["ledger", "check", "--db", store_url], terminal_width=200)
    assert result.exit_code == 1 and "pack" in result.output


def test_a_ledger_without_kept_totals_gets_them_on_its_next_run(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'ledger.db'}"
    first, *rest = SUMMARY["runs"]
    run_county(tmp_path / "before", db, [first])
    execute(db, "DELETE FROM unit_month_sums")  # as a ledger from before revision 0004
    execute(db, "DELETE FROM unit_month_sum_packs")  # ... and before 0010
    run_county(tmp_path / "before", db, rest)
    run_county(tmp_path / "fresh", f"sqlite:///{tmp_path / 'fresh.db'}")
    last = SUMMARY["runs"][-1]["period"]
    for name in ("reconciliation", "arrears"):
        legacy = pl.read_parquet(tmp_path / "before" / last / f"{name}.parquet")
        fresh = pl.read_parquet(tmp_path / "fresh" / last / f"{name}.parquet")
        assert legacy.equals(fresh), name
    with open_store(db) as store:
        assert month_sums_differences(store).is_empty()
        assert store.runs_lacking_sum_packs() == []


def test_a_run_reads_no_stored_line_but_those_it_needs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def everything(*args: object, **kwargs: object) -> pl.DataFrame:
        raise AssertionError("a run read the whole stored history of lines")

    monkeypatch.setattr(Store, "load_receipts", everything)
    monkeypatch.setattr(Store, "load_allocations", everything)
    run_county(tmp_path / "out", f"sqlite:///{tmp_path / 'ledger.db'}")
    last = SUMMARY["runs"][-1]["period"]
    expected = pl.read_csv(COUNTY / "expected" / last / "reconciliation.csv")
    got = pl.read_parquet(tmp_path / "out" / last / "reconciliation.parquet")
    assert got["paid_fen"].sum() == expected["paid_fen"].sum()


def test_an_unreadable_sums_pack_is_one_line_naming_the_run_and_the_repair(
    tmp_path: Path,
) -> None:
    db = f"sqlite:///{tmp_path / 'ledger.db'}"
    run_county(tmp_path / "out", db, SUMMARY["runs"][:1])
    execute(db, "UPDATE unit_month_sum_packs SET parquet = X'00ff'")
    result = CliRunner().invoke(app, ["ledger", "check", "--db", db])
    assert result.exit_code != 0
    assert "is unreadable" in result.output and "unit_month_sum_packs" in result.output
    assert "Traceback" not in result.output
    execute(db, "DELETE FROM unit_month_sum_packs")  # the repair the message names
    run_county(tmp_path / "out", db, SUMMARY["runs"][1:2])
    with open_store(db) as store:
        assert month_sums_differences(store).is_empty()
