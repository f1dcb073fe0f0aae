"""The run history as the ledger keeps it: what `dues runs` lists (SPEC §5).

Plain functions over the store's `runs` and `input_files` frames. A completed run of
period P is **stale** when a run of an earlier period committed after it: P was derived
from a ledger that no longer exists (a corrected or forgotten earlier month), so its
published outputs may be out of date until `dues rerun --from P` re-derives it. The
store marks it when that earlier run commits (`runs.stale_since`, `runs.stale_by_run`),
so the mark stays whatever runs follow, until a new run of P replaces the stale one.
"""

from __future__ import annotations

import json

import polars as pl

# The run.json totals `dues runs` shows, in this order.
SHOWN_TOTALS = ("expected_fen", "paid_fen", "arrears_fen", "quarantined_rows")


def run_history(runs: pl.DataFrame, input_files: pl.DataFrame) -> pl.DataFrame:
    """One row per run, oldest first: period, status, times, inputs, totals, stale."""
    inputs = input_files.group_by("run_id").agg(
        inputs=pl.len().cast(pl.Int64), input_files=pl.col("file_name").sort().str.join(", ")
    )
    totals = pl.DataFrame(
        [
            {"run_id": r, **{k: json.loads(t or "{}").get(k) for k in SHOWN_TOTALS}}
            for r, t in runs.select("run_id", "totals").iter_rows()
        ],
        schema={"run_id": pl.String, **dict.fromkeys(SHOWN_TOTALS, pl.Int64)},
        orient="row",
    )
    completed = pl.col("status") == "completed"
    by = runs.select(stale_by_run="run_id", stale_by_period="period")
    return (
        runs.join(inputs, on="run_id", how="left")
        .join(totals, on="run_id", how="left")
        .join(by, on="stale_by_run", how="left")
        .with_columns(
            inputs=pl.col("inputs").fill_null(0),
            stale=(completed & pl.col("stale_by_run").is_not_null()).fill_null(False),
        )
        .sort("started_at", "run_id")
        .select(
            "run_id",
            "period",
            "status",
            "started_at",
            "finished_at",
            "inputs",
            "input_files",
            *SHOWN_TOTALS,
            "stale",
            "stale_since",
            "stale_by_run",
            "stale_by_period",
        )
    )


def stale_periods(history: pl.DataFrame) -> list[str]:
    """The periods whose completed run is stale, oldest first."""
    return sorted(history.filter("stale")["period"].unique().to_list())
