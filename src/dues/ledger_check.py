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
    """Give a ledger from before the sums were kept (revision 0004) its sums, and one
    from before their packs (revision 0010) its packs, once.

    Every run calls this, so it probes first: listing the runs of the stored lines
    would scan every line, each month, for ever.
    """
    if store.lacks_month_sums():
        have = set(store.runs_with_month_sums())
        for run_id in store.runs_with_lines():
            if run_id not in have:
                store.replace_month_sums(run_id, month_sums_of_run(store, run_id))
    # A ledger from before revision 0010: each run's pack from its kept sums, once.
    lacking = store.runs_lacking_sum_packs()
    if lacking:
        kept = store.load_month_sums().filter(pl.col("run_id").is_in(lacking))
        for run_id in lacking:
            store.keep_sum_pack(run_id, kept.filter(pl.col("run_id") == run_id).drop("run_id"))


def month_sums_differences(store: Store) -> pl.DataFrame:
    """(run_id, uscc, month, figure, kept, rebuilt, kept_in) wherever the kept sums and
    the sums rebuilt from the lines differ: a changed figure, a unit-month kept without
    lines, or lines with no kept unit-month. `kept_in` says which copy differs: the
    `table` (unit_month_sums) or the `pack` a run reads (unit_month_sum_packs). A run
    without a pack (stored before revision 0010) is checked in its table only. Empty
    when the ledger is whole."""
    table = store.load_month_sums().select(_KEY + _FIGURES)
    packed = store.load_month_sum_packs().select(_KEY + _FIGURES)
    runs = sorted(set(store.runs_with_lines()) | set(table["run_id"].unique()))
    rebuilt = pl.concat(
        [month_sums_of_run(store, run_id).with_columns(run_id=pl.lit(run_id)) for run_id in runs]
        or [pl.DataFrame(schema=table.schema)],
        how="diagonal_relaxed",
    ).select(_KEY + _FIGURES)
    unpacked = set(store.runs_lacking_sum_packs())
    return pl.concat(
        [
            _differences(table, rebuilt).with_columns(kept_in=pl.lit("table")),
            _differences(packed, rebuilt.filter(~pl.col("run_id").is_in(unpacked))).with_columns(
                kept_in=pl.lit("pack")
            ),
        ]
    ).sort(*_KEY, "figure", "kept_in")


def _differences(kept: pl.DataFrame, rebuilt: pl.DataFrame) -> pl.DataFrame:
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
