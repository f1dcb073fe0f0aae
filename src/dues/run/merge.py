"""The run's lines against the ledger: one judgment of repeats, and its bookkeeping.

Every valid line of every input file comes here unjudged (see `dues.run.inputs`), so
SPEC §3 holds across the run's files and the store alike: a line is judged against
the line kept for its key. The lines judged repeats or conflicts leave their file's
accepted figures (`FileStats.after_merge`); conflicts join the quarantine, with the
bureau's cells where ingest kept them (keys repeated within one file), else the
line's typed values.

A run of period P judges its lines against every other period's stored lines (a key is
stored once) but derives its outputs from the lines of earlier periods' runs and its own
(`read_ledger`), so the order months were run in changes no outputs but which of two
conflicting lines is kept. Before anything is written, a re-run that would remove lines
P's earlier run stored refuses (`refuse_removals`) unless `--replace` was given.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import polars as pl

from dues.conservation import FileStats
from dues.ledger_check import ensure_month_sums
from dues.repeats import Merge
from dues.run.request import RunError
from dues.store import Store
from dues.store.store import LineKind
from dues.summary import yuan
from dues.unit_months import SUM_COLUMNS, unit_month_sums

RAW = "raw"  # the bureau cells ingest keeps for a line whose key repeats in its file
_WHERE = ("source_file", "source_row")


def conflicts_to_quarantine(
    conflicts: pl.DataFrame, key: str, kept_later: pl.DataFrame | None = None
) -> pl.DataFrame:
    """The conflicts as quarantine rows. A conflict with a line a later period's run
    stored (`kept_later`: its key columns, `run_id`, `run_period`) names that run in
    its `raw` JSON (`stored_by_run`, `stored_by_period`): the order the months were run
    in decided which line is kept, so the clerk sees where the kept one lives."""
    content = [c for c in conflicts.columns if c not in (*_WHERE, RAW)]
    typed = pl.struct(pl.col(content).cast(pl.String)).struct.json_encode()
    raw = pl.coalesce(pl.col(RAW), typed) if RAW in conflicts.columns else typed
    if kept_later is not None and not kept_later.is_empty():
        keys = [c for c in kept_later.columns if c not in ("run_id", "run_period")]
        conflicts = conflicts.join(kept_later, on=keys, how="left")
        named = pl.struct(
            stored_by_run=pl.col("run_id"), stored_by_period=pl.col("run_period")
        ).struct.json_encode()
        # Both are JSON objects: splice the run's two fields into the row's object.
        raw = (
            pl.when(pl.col("run_id").is_not_null())
            .then(pl.concat_str(raw.str.strip_suffix("}"), pl.lit(","), named.str.slice(1)))
            .otherwise(raw)
        )
    return conflicts.select(
        *_WHERE, column=pl.lit(key), reason=pl.lit("conflicting_duplicate"), raw=raw
    )


@dataclass(frozen=True)
class LaterRuns:
    """What a month run after a later one meets of the lines that later month's run
    stored: exact repeats (this month's lines too, so its outputs count them) and the
    stored lines its conflicts contradict (their key columns, `run_id`, `run_period`)."""

    repeats: dict[str, pl.DataFrame]
    keepers: dict[str, pl.DataFrame]
    # The repeats' key columns and the run storing each (`run_id`): rule 13's bookkeeping.
    stored_by: dict[str, pl.DataFrame] = field(default_factory=dict)

    def keeping(self, kind: str) -> pl.DataFrame | None:
        return self.keepers.get(kind)


def meet_later_runs(store: Store, period: str, merges: dict[LineKind, Merge]) -> LaterRuns:
    """The lines of this run that later periods' runs store (see LaterRuns). Months run
    in order meet none, and ask the store no more than its list of runs."""
    if not (store.list_runs()["period"] > period).any():
        return LaterRuns(repeats={}, keepers={})
    repeats: dict[str, pl.DataFrame] = {}
    keepers: dict[str, pl.DataFrame] = {}
    stored_by: dict[str, pl.DataFrame] = {}
    for kind, merge in merges.items():
        keepers[kind] = _kept_later(store, kind, merge.conflicts, period)
        kept = _kept_later(store, kind, merge.duplicates, period)
        keys = [c for c in kept.columns if c not in ("run_id", "run_period")]
        repeats[kind] = merge.duplicates.join(kept.select(keys), on=keys, how="semi")
        stored_by[kind] = kept.select(*keys, "run_id")
    return LaterRuns(repeats=repeats, keepers=keepers, stored_by=stored_by)


def _kept_later(store: Store, kind: LineKind, lines: pl.DataFrame, period: str) -> pl.DataFrame:
    """The stored lines with the keys of `lines` that runs of periods after `period` keep."""
    return store.runs_storing(kind, lines).filter(pl.col("run_period") > period)


def kept_by_later(quarantine: pl.DataFrame) -> list[tuple[str, str, int]]:
    """(run id, period, rows) of the later runs that keep lines the quarantined conflicts
    contradict (`conflicts_to_quarantine`), by period."""
    named = quarantine.filter(pl.col("raw").str.contains('"stored_by_run":', literal=True))
    runs = [json.loads(raw) for raw in named["raw"]]
    counted = Counter((r["stored_by_run"], r["stored_by_period"]) for r in runs)
    return sorted(((run, period, n) for (run, period), n in counted.items()), key=lambda r: r[1])


def refuse_removals(store: Store, period: str, new: dict[LineKind, pl.DataFrame]) -> None:
    """Refuse, before anything is written, a re-run of `period` that would remove lines
    its earlier run stored: lines whose keys are not among the lines this run stores
    (fewer lines, another file, an empty or header-only file). A line whose content
    changed keeps its key and is replaced, not removed. `--replace` skips this."""
    receipts = store.lines_leaving("receipts", new["receipts"], period)
    allocations = store.lines_leaving("allocations", new["allocations"], period)
    if receipts[0] or allocations[0]:
        raise RunError(
            f"re-running {period} would remove {receipts[0]} receipt line(s) "
            f"({yuan(receipts[1])} yuan) and {allocations[0]} allocation(s) "
            f"({yuan(allocations[1])} yuan) that its earlier run stored and these inputs "
            "lack; nothing was written. Pass --replace to remove them"
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
    sums: pl.DataFrame  # the unit-month sums of the earlier periods' lines, one row per run
    outside: dict[str, pl.DataFrame]  # their lines of units outside the registry

    def with_repeats(self, repeats: dict[str, pl.DataFrame], registry: pl.Series) -> StoredLedger:
        """The ledger with `repeats`: lines of this run a later period's run stores
        (`LaterRuns.repeats`), which the run's outputs count as a run in order would."""
        lines = {k: without_raw(f) for k, f in repeats.items()}
        if all(f.is_empty() for f in lines.values()):
            return self
        extra = unit_month_sums(lines["receipts"], lines["allocations"])
        return StoredLedger(
            stored=self.stored,
            sums=pl.concat([self.sums, extra.select(SUM_COLUMNS)], how="vertical_relaxed"),
            outside={
                k: pl.concat([f, lines[k].filter(~pl.col("uscc").is_in(registry))])
                for k, f in self.outside.items()
            },
        )


def read_ledger(
    store: Store, period: str, incoming: dict[str, pl.DataFrame], registry: pl.Series
) -> StoredLedger:
    """The ledger as a run of `period` sees it. Its lines are judged against every other
    period's stored lines (a key is stored once), but its outputs derive from the lines
    of earlier periods only, as when the months are run in order: re-running a month,
    or running a forgotten one, gives the outputs an in-order run gives, whatever later
    months were run before (those go stale: dues.run.rederive)."""
    ensure_month_sums(store)
    # Per run, not added up: the rules add them as they place them on the grid.
    sums = store.load_month_sum_packs(before_period=period).select(SUM_COLUMNS)
    elsewhere = sums.select(pl.col("uscc").unique()).filter(~pl.col("uscc").is_in(registry))
    kinds: tuple[LineKind, ...] = ("receipts", "allocations")
    return StoredLedger(
        stored={k: store.load_lines_with_keys(k, incoming[k], period) for k in kinds},
        sums=sums,
        outside={
            k: store.load_lines_of_units(k, elsewhere["uscc"], period, before_period=period)
            for k in kinds
        },
    )


def read_waiting(
    store: Store, kind: LineKind, period: str, registry: pl.Series, later: LaterRuns
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Rule 13's stored lines for a run of `period`, as a run in month order would see
    them: (the stored lines it distributes, with `stored_run`; the keys of its own lines
    an earlier period distributed, with that `distributed_period`).

    It distributes the lines that waited (their unit was outside the registry of the run
    that stored them; no earlier period distributed them) whose unit is in its registry,
    and its exact repeats of lines a later period's run stores (in month order it would
    have stored them) unless an earlier period distributed them. Reads the waiting rows
    (as many as unmatched lines), then those lines by their keys; a month run in order
    meets no repeats and no such keys of its own.
    """
    rows = store.load_waiting(kind, period).filter(pl.col("uscc").is_in(registry))
    keys = [c for c in rows.columns if c not in ("uscc", "run_id")]
    waited = store.load_lines_with_keys(kind, rows.select(keys)).join(
        rows.select(*keys, stored_run="run_id"), on=keys, how="left"
    )
    repeats = without_raw(later.repeats.get(kind, waited.clear().drop("stored_run")))
    repeats = repeats.filter(pl.col("uscc").is_in(registry))
    if repeats.is_empty():
        repeats = repeats.with_columns(stored_run=pl.lit(None, pl.String))
    else:
        earlier = store.load_marks_with_keys(kind, repeats.select(keys)).filter(
            pl.col("distributed_period") < period
        )
        repeats = repeats.join(earlier, on=keys, how="anti").join(
            later.stored_by[kind].rename({"run_id": "stored_run"}), on=keys, how="left"
        )
    stored = pl.concat([waited, repeats.select(waited.columns)])
    return stored, store.load_marks_of_period(kind, period)
