"""The ledger's kept totals against its raw lines: `dues ledger check` (SPEC §5, issue 9).

A run reads the unit-month sums the store keeps per run (`unit_month_sums`), never
every stored line; the lines stay, for the audit trail and for rebuilding. This
module rebuilds the sums from the lines, run by run, and lists every unit-month
whose kept figure differs, and gives a ledger that predates the sums its sums.
"""

from __future__ import annotations

import polars as pl

from dues.store import Store
from dues.unit_months import SUMMED, unit_month_sums

_KEY = ["run_id", "uscc", "month"]
_FIGURES = [*SUMMED, "records", "late_fee_fen"]


def month_sums_of_run(store: Store, run_id: str) -> pl.DataFrame:
    """The unit-month sums of the lines run `run_id` stored, rebuilt from the lines."""
    return unit_month_sums(
        store.load_lines_of_run("receipts", run_id), store.load_lines_of_run("allocations", run_id)
    )


def ensure_month_sums(store: Store) -> None:
    """Give a ledger from before the sums were kept (revision 0004) its sums, once.

    Every run calls this, so it probes first: listing the runs of the stored lines
    would scan every line, each month, for ever.
    """
    if not store.lacks_month_sums():
        return
    have = set(store.runs_with_month_sums())
    for run_id in store.runs_with_lines():
        if run_id not in have:
            store.replace_month_sums(run_id, month_sums_of_run(store, run_id))


def month_sums_differences(store: Store) -> pl.DataFrame:
    """(run_id, uscc, month, figure, kept, rebuilt) wherever the kept sums and the sums
    rebuilt from the lines differ: a changed figure, a unit-month kept without lines,
    or lines with no kept unit-month. Empty when the ledger is whole."""
    kept = store.load_month_sums().select(_KEY + _FIGURES)
    runs = sorted(set(store.runs_with_lines()) | set(kept["run_id"].unique()))
    rebuilt = pl.concat(
        [month_sums_of_run(store, run_id).with_columns(run_id=pl.lit(run_id)) for run_id in runs]
        or [pl.DataFrame(schema=kept.schema)],
        how="diagonal_relaxed",
    ).select(_KEY + _FIGURES)
    both = kept.with_columns(pl.col("month").cast(pl.Int64)).join(
        rebuilt.with_columns(pl.col("month").cast(pl.Int64)),
        on=_KEY,
        how="full",
        coalesce=True,
        suffix="_rebuilt",
    )
    per_figure = [
        both.select(*_KEY, figure=pl.lit(f), kept=pl.col(f), rebuilt=pl.col(f"{f}_rebuilt"))
        for f in _FIGURES
    ]
    return (
        pl.concat(per_figure)
        .with_columns(pl.col("kept", "rebuilt").fill_null(0))
        .filter(pl.col("kept") != pl.col("rebuilt"))
        .sort(*_KEY, "figure")
    )
