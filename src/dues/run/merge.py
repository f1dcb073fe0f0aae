"""The run's lines against the ledger: one judgment of repeats, and its bookkeeping.

Every valid line of every input file comes here unjudged (see `dues.run.inputs`), so
SPEC §3 holds across the run's files and the store alike: a line is judged against
the line kept for its key. The lines judged repeats or conflicts leave their file's
accepted figures (`FileStats.after_merge`); conflicts join the quarantine, with the
bureau's cells where ingest kept them (keys repeated within one file), else the
line's typed values.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl

from dues.conservation import FileStats
from dues.ledger_check import ensure_month_sums
from dues.repeats import Merge
from dues.store import Store
from dues.store.store import LineKind
from dues.unit_months import SUM_COLUMNS

RAW = "raw"  # the bureau cells ingest keeps for a line whose key repeats in its file
_WHERE = ("source_file", "source_row")


def conflicts_to_quarantine(conflicts: pl.DataFrame, key: str) -> pl.DataFrame:
    content = [c for c in conflicts.columns if c not in (*_WHERE, RAW)]
    typed = pl.struct(pl.col(content).cast(pl.String)).struct.json_encode()
    raw = pl.coalesce(pl.col(RAW), typed) if RAW in conflicts.columns else typed
    return conflicts.select(
        *_WHERE, column=pl.lit(key), reason=pl.lit("conflicting_duplicate"), raw=raw
    )


def without_raw(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.drop(RAW, strict=False)


def after_merge(stats: list[FileStats], merges: list[Merge]) -> list[FileStats]:
    """Each file's conservation record once the merge took its repeats and conflicts."""
    duplicates = _per_file(m.duplicates for m in merges)
    conflicts = _per_file(m.conflicts for m in merges)
    return [
        s.after_merge(
            duplicates=duplicates.get(s.file, (0, 0, 0))[:2],
            conflicts=conflicts.get(s.file, (0, 0, 0))[:2],
            undated=duplicates.get(s.file, (0, 0, 0))[2] + conflicts.get(s.file, (0, 0, 0))[2],
        )
        for s in stats
    ]


def _per_file(frames: Iterable[pl.DataFrame]) -> dict[str, tuple[int, int, int]]:
    """(rows, fen, rows without a paid date) per source file of the lines taken out."""
    out: dict[str, tuple[int, int, int]] = {}
    for frame in frames:
        undated = pl.col("paid_date").is_null().sum() if "paid_date" in frame.columns else pl.lit(0)
        grouped = frame.group_by("source_file").agg(
            pl.len(), pl.col("amount_fen").sum(), undated.alias("undated")
        )
        for name, rows, fen, no_date in grouped.iter_rows():
            r, f, u = out.get(name, (0, 0, 0))
            out[name] = (r + int(rows), f + int(fen or 0), u + int(no_date))
    return out


@dataclass(frozen=True)
class StoredLedger:
    """What a run reads of the stored ledger: never every stored line."""

    stored: dict[str, pl.DataFrame]  # the stored lines with the keys of the run's lines
    sums: pl.DataFrame  # the unit-month sums of every stored run's lines, one row per run
    outside: dict[str, pl.DataFrame]  # the stored lines of units outside the registry


def read_ledger(
    store: Store, period: str, incoming: dict[str, pl.DataFrame], registry: pl.Series
) -> StoredLedger:
    """The ledger as a run of `period` sees it: other periods' runs only (a re-run
    replaces the lines its period stored before)."""
    ensure_month_sums(store)
    # Per run, not added up: the rules add them as they place them on the grid.
    sums = store.load_month_sums(exclude_period=period).select(SUM_COLUMNS)
    elsewhere = sums.select(pl.col("uscc").unique()).filter(~pl.col("uscc").is_in(registry))
    kinds: tuple[LineKind, ...] = ("receipts", "allocations")
    return StoredLedger(
        stored={k: store.load_lines_with_keys(k, incoming[k], period) for k in kinds},
        sums=sums,
        outside={k: store.load_lines_of_units(k, elsewhere["uscc"], period) for k in kinds},
    )
