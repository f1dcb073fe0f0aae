"""The stages of one period run, listed once in `STAGES`.

`run_period` walks STAGES in-process; the Prefect flow (`flows/monthly.py`) makes
each stage a task; the benchmark times each. A stage takes the run's context,
reads what earlier stages left in the work folder and writes its own part of it.

    ingest → merge-with-ledger → reconcile → manifest → report-and-commit → publish

The commit is the run's commit point: a run that dies after it is published by the
next command (dues.run.recovery); one that dies before it leaves the store as it was.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import polars as pl

from dues import ledger
from dues.distribution import distribute, distribution_long, payouts, payouts_of_pieces
from dues.files import sink_parquet, write_parquet, write_text
from dues.late_fees import PAID_LINE_COLUMNS
from dues.outputs import RUN_JSON, empty_quarantine
from dues.policy import policy_json
from dues.reconcile import reconcile_sums
from dues.report.job import WorkbookJob, WorkbookJobError
from dues.report.staged import write_staged_workbook
from dues.run.commit import commit
from dues.run.faults import fault
from dues.run.inputs import read_inputs
from dues.run.lock import ledger_lock
from dues.run.manifest import RunSummary, write_manifest
from dues.run.merge import (
    RAW,
    after_merge,
    conflicts_to_quarantine,
    meet_later_runs,
    read_ledger,
    read_waiting,
    refuse_removals,
    without_raw,
)
from dues.run.publish import discard, publish
from dues.run.recovery import settle
from dues.run.request import RunContext, RunError, RunRequest, preflight
from dues.run.workfolder import read_stats, write_stats
from dues.store.store import LineKind
from dues.store.tables import LINE_TABLES, frame_schema
from dues.unit_months import unit_month_sums

# Above this many unit-months the workbook is written by a child process beside the
# commit; below it, starting a Python process costs more than it saves.
WORKBOOK_PROCESS_ROWS = 100_000
# Rows per row group of distribution.parquet, which is streamed (dues.files.sink_parquet):
# about 70 MB of its rows at a time.
LONG_ROW_GROUP = 500_000
# The ledger's name for the lines of each input kind.
_LINES = {"collections": "receipts", "allocations": "allocations"}


def ingest(ctx: RunContext) -> None:
    """Read and validate every input file; stage the accepted lines and the quarantine."""
    results = read_inputs(ctx.request, ctx.policy.max_back_months)
    work = ctx.work
    write_parquet(results[0][1].accepted, work.registry)
    for kind, lines in _LINES.items():
        frames = [r.accepted for k, r in results if k == kind]
        if frames:
            write_parquet(pl.concat(frames), work.incoming(lines))
    quarantine = pl.concat([empty_quarantine(), *(r.quarantine for _, r in results)])
    write_parquet(quarantine, work.ingest_quarantine)
    write_stats([r.stats for _, r in results], work.ingest_stats)


def merge(ctx: RunContext) -> None:
    """Tell new lines from exact repeats and conflicts with what the store holds, and
    read what the rules need of the stored ledger: its unit-month sums, the lines of
    units outside this run's registry, and the lines waiting to be distributed whose
    unit is in it (rule 13). No stored line is read but these."""
    from dues.store import open_store

    work = ctx.work
    registry = pl.read_parquet(work.registry, columns=["uscc"])["uscc"]
    with open_store(ctx.request.db) as store:
        incoming = {lines: _incoming(ctx, lines) for lines in _LINES.values()}
        ledger_now = read_ledger(store, ctx.period, incoming, registry)
        merges: dict[LineKind, ledger.Merge] = {
            "receipts": ledger.merge_receipts(ledger_now.stored["receipts"], incoming["receipts"]),
            "allocations": ledger.merge_allocations(
                ledger_now.stored["allocations"], incoming["allocations"]
            ),
        }
        if not ctx.request.replace:
            refuse_removals(store, ctx.period, {k: m.new for k, m in merges.items()})
        later = meet_later_runs(store, ctx.period, merges)
        waiting = {k: read_waiting(store, k, ctx.period, registry, later) for k in merges}
        store.keep_policy(ctx.config_hash, policy_json(ctx.policy))
        if ctx.policy.late_fee_bp_per_day > 0:
            # Late fees on: the accrual needs the stored lines' paid dates (rule 12).
            paid = store.load_line_columns("receipts", PAID_LINE_COLUMNS, before_period=ctx.period)
            repeats = later.repeats.get("receipts")
            if repeats is not None:
                paid = pl.concat([paid, repeats.select(PAID_LINE_COLUMNS)])
            write_parquet(paid, work.stored_paid_lines)
    ledger_now = ledger_now.with_repeats(later.repeats, registry)
    for lines, result in merges.items():
        # The ledger after this run is stored + new; the store takes new only.
        write_parquet(without_raw(result.new), work.new(lines))
        write_parquet(ledger_now.outside[lines], work.outside(lines))
        write_parquet(waiting[lines][0], work.waiting(lines))
        write_parquet(waiting[lines][1], work.marks(lines))
    write_parquet(ledger_now.sums, work.stored_sums)
    conflicts = [
        conflicts_to_quarantine(
            merges["receipts"].conflicts, "receipt_no", later.keeping("receipts")
        ),
        conflicts_to_quarantine(
            merges["allocations"].conflicts, "voucher_no", later.keeping("allocations")
        ),
    ]
    quarantine = pl.concat([pl.read_parquet(work.ingest_quarantine), *conflicts])
    write_parquet(quarantine.sort("source_file", "source_row"), work.quarantine)
    write_stats(after_merge(read_stats(work.ingest_stats), list(merges.values())), work.stats)


def _incoming(ctx: RunContext, lines: str) -> pl.DataFrame:
    """This run's lines of `lines`, typed as the store's, with ingest's `raw` cells."""
    schema = frame_schema(LINE_TABLES[lines]) | {RAW: pl.String()}
    path = ctx.work.incoming(lines)
    if not path.exists():
        return pl.DataFrame(schema=schema)
    return pl.read_parquet(path).select(list(schema)).cast(schema)


def reconcile(ctx: RunContext) -> None:
    """Apply SPEC §4 to the whole history (the stored sums and this run's new lines);
    split the lines this run distributes (rule 13: its new lines and the stored ones that
    waited, of units in its registry); stage every Parquet output, the new lines' sums
    and the split's bookkeeping for the store."""
    work = ctx.work
    registry = pl.read_parquet(work.registry)
    new = {lines: pl.read_parquet(work.new(lines)) for lines in _LINES.values()}
    new_sums = unit_month_sums(new["receipts"], new["allocations"])
    write_parquet(new_sums, work.new_sums)
    # Of the new lines the rules need only their sums, the lines of units outside the
    # registry (the unmatched) and, with late fees on, the paid dates; the lines are let
    # go until the split reads them again (a province's first run: eleven million).
    outside = {
        lines: pl.concat(
            [
                pl.read_parquet(work.outside(lines)),
                new[lines].join(registry.select("uscc"), on="uscc", how="anti"),
            ]
        )
        for lines in _LINES.values()
    }
    paid_lines = None
    if ctx.policy.late_fee_bp_per_day > 0:
        paid_lines = pl.concat(
            [
                pl.read_parquet(work.stored_paid_lines),
                new["receipts"].select(PAID_LINE_COLUMNS),
            ]
        )
    del new
    try:
        outputs = reconcile_sums(
            registry,
            pl.concat([pl.read_parquet(work.stored_sums), new_sums], how="vertical_relaxed"),
            outside["receipts"],
            outside["allocations"],
            ctx.policy,
            ctx.period,
            ctx.request.as_of,
            paid_lines=paid_lines,
        )
    except ValueError as exc:
        raise RunError(str(exc)) from exc
    # Written before the split is made, so the two are never in memory together.
    frames = outputs.frames() | {"quarantine": pl.read_parquet(work.quarantine)}
    for name, frame in frames.items():
        write_parquet(frame, work.output(name))
    write_text(outputs.start_period, work.start_period)
    write_text(str(outputs.late_fee_undated_lines), work.late_fee_undated)
    write_parquet(outputs.unmatched_allocations, work.unmatched_allocations)
    del frames, outputs, outside, paid_lines
    new = {lines: pl.read_parquet(work.new(lines)) for lines in _LINES.values()}
    try:
        split = distribute(
            registry,
            new,
            {lines: pl.read_parquet(work.waiting(lines)) for lines in _LINES.values()},
            {lines: pl.read_parquet(work.marks(lines)) for lines in _LINES.values()},
            ctx.policy,
        )
    except ValueError as exc:
        raise RunError(str(exc)) from exc
    # The split a piece of lines at a time, each piece staged as it is made; the long
    # rows (five per line-month) are streamed from the staged pieces.
    payout_parts = []
    shutil.rmtree(work.distribution_wide_folder, ignore_errors=True)  # a retry's pieces
    for k, wide in enumerate(split.wide_pieces()):
        write_parquet(wide, work.distribution_wide(k))
        payout_parts.append(payouts(wide))
    wide_rows = pl.scan_parquet(work.distribution_wide_pieces)
    sink_parquet(distribution_long(wide_rows), work.output("distribution"), LONG_ROW_GROUP)
    write_parquet(payouts_of_pieces(payout_parts), work.output("payouts"))
    write_parquet(split.lines, work.distributed_lines)
    for lines in _LINES.values():
        write_parquet(split.waiting[lines], work.new_waiting(lines))
        write_parquet(split.taken[lines], work.taken(lines))


def manifest(ctx: RunContext) -> None:
    """Check conservation once more and write run.json into the staged outputs."""
    write_manifest(ctx, read_stats(ctx.work.stats))


def report_and_commit(ctx: RunContext) -> None:
    """Write the workbook while the store takes the run's rows; commit once both are done.

    The two share the cores, so this takes about the longer of the two instead of
    their sum. A big workbook is written by a child process (`dues.report.job`). The
    transaction commits only after the workbook is saved: if either fails, the store
    is untouched and nothing is published.
    """
    work = ctx.work
    info = json.loads(work.run_json.read_text(encoding="utf-8"))
    inputs = read_stats(work.stats)
    rows = pl.scan_parquet(work.output("reconciliation")).select(pl.len()).collect().item()
    start = time.perf_counter()
    timings: dict[str, float] = {}
    if rows > WORKBOOK_PROCESS_ROWS:
        job = WorkbookJob(work.staging, ctx.request.lang)
        try:
            commit(ctx, info, inputs, before_commit=job.wait)
        except WorkbookJobError as exc:
            raise RunError(str(exc)) from exc
        finally:
            job.stop()
        timings["workbook"] = job.seconds
        if job.peak_rss_mb is not None:
            timings["workbook_peak_rss_mb"] = job.peak_rss_mb
    else:
        write_staged_workbook(work.staging, ctx.request.lang, info)
        timings["workbook"] = round(time.perf_counter() - start, 3)
        commit(ctx, info, inputs)
    timings["report_and_commit"] = round(time.perf_counter() - start, 3)
    write_text(json.dumps(timings), work.timings)


@dataclass(frozen=True)
class Stage:
    name: str  # the Prefect task's name
    run: Callable[[RunContext], None]
    retries: int = 0  # Prefect's: what can fail for a moment (a network share, a dropped link)
    retry_delay_s: float = 0.0


STAGES: tuple[Stage, ...] = (
    Stage("ingest", ingest, retries=2, retry_delay_s=5),
    Stage("merge-with-ledger", merge),
    Stage("reconcile", reconcile),
    Stage("manifest", manifest),
    # The commit itself is one transaction; a retry after a dropped connection is safe.
    Stage("report-and-commit", report_and_commit, retries=1, retry_delay_s=10),
    Stage("publish", publish),
)


# What a stage hook is told: a stage starts, finishes, or fails (the error follows).
StageEvent = Literal["start", "done", "failed"]
# `on_stage(name, event, seconds)`: called as each stage starts (seconds 0) and ends
# (the stage's seconds). A plain callback: the command line shows it on a terminal,
# the core knows nothing of how (no rich, no Prefect here).
StageHook = Callable[[str, StageEvent, float], None]


def summarize(ctx: RunContext) -> RunSummary:
    """What the published run says of itself: run.json's figures and the stages' timings."""
    info = json.loads((ctx.final / RUN_JSON).read_text(encoding="utf-8"))
    timings = json.loads(ctx.work.timings.read_text(encoding="utf-8"))
    return RunSummary.of(info, ctx.final, timings)


def run_period(request: RunRequest, on_stage: StageHook | None = None) -> RunSummary:
    """The whole monthly job as a plain function (no Prefect needed); `on_stage` is told
    of each stage as it starts and ends (`StageHook`)."""
    return run_stages(preflight(request), STAGES, on_stage)


def run_stages(
    ctx: RunContext, stages: tuple[Stage, ...], on_stage: StageHook | None = None
) -> RunSummary:
    """Walk `stages` holding the ledger, and settle the work folder however they end.

    The ledger is held from before the first stage reads it until the run's outputs
    are published and read back (dues.run.lock); taking it first settles what crashed
    runs left (dues.run.recovery). However the run ends, its work folder is settled
    still holding the ledger: removed, or published when the run had committed.
    """
    request = ctx.request
    locked = False
    try:
        with ledger_lock(request.db, ctx.run_id, ctx.period, request.wait_s, out=request.out):
            locked = True
            try:
                for stage in stages:
                    fault(f"before-{stage.name}")
                    _run_stage(stage, ctx, on_stage)
                fault("after-publish")
                return summarize(ctx)
            finally:
                settle(ctx)
    finally:
        if not locked:
            discard(ctx)  # refused before it read anything


def _run_stage(stage: Stage, ctx: RunContext, on_stage: StageHook | None) -> None:
    """Run `stage`, telling `on_stage` when it starts and how it ended, after how long."""
    if on_stage is None:
        stage.run(ctx)
        return
    on_stage(stage.name, "start", 0.0)
    start = time.perf_counter()
    try:
        stage.run(ctx)
    except BaseException:
        on_stage(stage.name, "failed", time.perf_counter() - start)
        raise
    on_stage(stage.name, "done", time.perf_counter() - start)
