"""The run's records as the store keeps them, committed in one transaction.

Of the reconciliation the store keeps the run's own month: each month once, as its
own run settled it (reconciliation.parquet has every month, re-derived each run).
Unmatched receipts keep their SPEC columns; the period and line number live in
the `receipts` table. The distribution is kept one row per line × month (its five
levels side by side), with the lines that wait for a later run (rule 13).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import polars as pl

from dues.arrears import aging_columns
from dues.conservation import FileStats
from dues.files import write_text
from dues.outputs import NAMES
from dues.run.faults import fault
from dues.run.publish import sync_tree
from dues.run.recovery import identity
from dues.run.request import RunContext
from dues.store import RunRecord, open_store
from dues.store.frames import Frame
from dues.store.tables import RESULT_TABLES, frame_schema

_KINDS = ("receipts", "allocations")


def run_record(info: dict[str, Any]) -> RunRecord:
    """The `runs` row of run.json's content."""
    return RunRecord(
        run_id=info["run_id"],
        period=info["period"],
        as_of=date.fromisoformat(info["as_of"]),
        started_at=datetime.fromisoformat(info["started_at"]),
        finished_at=datetime.fromisoformat(info["finished_at"]),
        code_version=info["code_version"],
        config_hash=info["config_hash"],
        totals=info["totals"],
    )


def stored_results(ctx: RunContext) -> dict[str, Frame]:
    """Each staged output but the quarantine, with the columns its result table keeps."""
    out: dict[str, Frame] = {}
    for name in NAMES:
        if name == "quarantine":
            continue  # stored apart, as the run's quarantine
        frame = pl.scan_parquet(ctx.work.output(name))
        if name == "distribution":
            # The store keeps it wide: the reconcile stage staged that shape too. Read
            # as its rows go in (a province's first run: twelve million of them).
            out[name] = pl.scan_parquet(ctx.work.distribution_wide_pieces)
            continue
        if name == "reconciliation":
            frame = frame.filter(pl.col("period") == ctx.period)
        keep = frame_schema(RESULT_TABLES[name])
        names = frame.collect_schema().names()
        aging = aging_columns(names) if name == "arrears" else []
        out[name] = frame.select(c for c in names if c in keep or c in aging).collect()
    return out


def commit(
    ctx: RunContext,
    info: dict[str, Any],
    inputs: list[FileStats],
    before_commit: Callable[[], object] | None = None,
) -> None:
    """Store the run, replacing earlier runs of its period; `before_commit` as in the store.

    This is the run's commit point. The staged outputs are synced to disk before the
    COMMIT, and the store keeps where the run publishes (OUT) in the same transaction:
    a run killed after it is published by the next command (dues.run.recovery).
    """
    work = ctx.work
    # Which ledger the run commits to: another ledger's recovery leaves the folder.
    write_text(f"{ctx.run_id}\n{identity(ctx.request.db)}\n", work.committing)

    def last_step() -> None:
        if before_commit is not None:
            before_commit()  # (a big workbook is saved by then)
        sync_tree(work.staging)
        fault("commit-rows-in")

    with open_store(ctx.request.db) as store:
        store.commit_run(
            run_record(info),
            registry=pl.read_parquet(work.registry),
            # The big ones are read as their rows go in, one table's at a time.
            new_receipts=pl.scan_parquet(work.new("receipts")),
            new_allocations=pl.read_parquet(work.new("allocations")),
            new_month_sums=pl.scan_parquet(work.new_sums),
            quarantine=pl.read_parquet(work.output("quarantine")),
            input_files=inputs,
            results=stored_results(ctx),
            waiting={k: pl.read_parquet(work.new_waiting(k)) for k in _KINDS},
            distributed={k: pl.read_parquet(work.taken(k)) for k in _KINDS},
            before_commit=last_step,
            out_dir=str(ctx.request.out.resolve()),
        )
    fault("commit-done")
