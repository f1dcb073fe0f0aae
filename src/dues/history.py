"""The run history as the ledger keeps it: what `dues runs` lists (SPEC §5).

Plain functions over the store's `runs` and `input_files` frames. A completed run of
period P is **stale** when a run of an earlier period completed after it: P was
re-derived from a ledger that no longer exists (a corrected or forgotten earlier
month), so its published outputs may be out of date until P is run again.
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
    # The latest finish of a completed run of any earlier period.
    latest_earlier = (
        runs.filter(completed)
        .sort("period")
        .select("period", done=pl.col("finished_at").cum_max().shift(1))
        .group_by("period")
        .agg(pl.col("done").min().alias("earlier_done"))
    )
    return (
        runs.join(inputs, on="run_id", how="left")
        .join(totals, on="run_id", how="left")
        .join(latest_earlier, on="period", how="left")
        .with_columns(
            inputs=pl.col("inputs").fill_null(0),
            stale=(completed & (pl.col("earlier_done") > pl.col("finished_at"))).fill_null(False),
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
        )
    )
