"""run.json: what an auditor needs to re-run the period and check it (SPEC §5).

Run id, period, as-of, start and end time, code version, the hash of the policy
the run applied, each input's SHA-256 and conservation record, the distribution's
conservation (rule 13: per channel and fund, the fen of the lines it distributed
against the fen it gives out), and the totals.
`RunSummary` is what a caller gets back: the same figures, read from run.json.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

import dues
from dues.conservation import FileStats
from dues.distribution import split_conservation
from dues.files import write_text
from dues.outputs import NAMES, REPORT
from dues.report.staged import detail_note, distribution_note
from dues.run.request import RunContext, RunError
from dues.store.engine import masked

# The reconciliation columns the totals need: 6 of 22, no names or codes.
_TOTAL_COLUMNS = [
    "status",
    "expected_fen",
    "paid_fen",
    "paid_dues_fen",
    "paid_prep_fen",
    "allocated_fen",
]


@dataclass
class RunSummary:
    run_id: str
    period: str
    out_dir: Path
    report: Path
    totals: dict[str, int] = field(default_factory=dict)
    files: list[dict[str, Any]] = field(default_factory=list)
    start_period: str = ""
    quarantined: int = 0
    unmatched: int = 0
    founding_drive: int = 0
    # The last stages' measures: seconds of their parts, the workbook process's peak MB.
    timings: dict[str, float] = field(default_factory=dict)

    @classmethod
    def of(cls, info: dict[str, Any], out_dir: Path, timings: dict[str, float]) -> RunSummary:
        totals = info["totals"]
        return cls(
            run_id=info["run_id"],
            period=info["period"],
            out_dir=out_dir,
            report=out_dir / REPORT,
            totals=totals,
            files=info["inputs"],
            start_period=info["start_period"],
            quarantined=totals["quarantined_rows"],
            unmatched=totals["unmatched_receipts"],
            founding_drive=totals["founding_drive_units"],
            timings=timings,
        )


def _total(frame: pl.DataFrame, column: str) -> int:
    return int(frame[column].sum() or 0) if frame.height else 0


def totals_of(frames: dict[str, pl.DataFrame]) -> dict[str, int]:
    """The run's money and counts; the reconciliation's over its due months only."""
    due = frames["reconciliation"].filter(pl.col("status") != "not_due")
    return {
        "expected_fen": _total(due, "expected_fen"),
        "paid_fen": _total(due, "paid_fen"),
        "paid_dues_fen": _total(due, "paid_dues_fen"),
        "paid_prep_fen": _total(due, "paid_prep_fen"),
        "allocated_fen": _total(due, "allocated_fen"),
        "arrears_fen": _total(frames["arrears"], "arrears_fen"),
        "credit_fen": _total(frames["arrears"], "credit_fen"),
        "unmatched_fen": _total(frames["unmatched"], "amount_fen"),
        "returnable_fen": _total(frames["prep_returns"], "returnable_fen"),
        "late_fee_accrued_fen": _total(frames["late_fees"], "accrued_fen"),
        "late_fee_collected_fen": _total(frames["late_fees"], "collected_fen"),
        "late_fee_balance_fen": _total(frames["late_fees"], "balance_fen"),
        "founding_drive_units": frames["founding_drive"].height,
        "quarantined_rows": frames["quarantine"].height,
        "unmatched_receipts": frames["unmatched"].height,
    }


def distribution_record(lines: pl.DataFrame, given: pl.DataFrame) -> dict[str, Any]:
    """run.json's `distribution`: per channel and fund, the lines the run distributed and
    their fen against the fen its distribution gives out (rule 13: equal, to the fen).
    `given`: distribution.parquet's channel, fund and amount_fen, as rows or summed."""
    by_fund = split_conservation(lines, given)
    return {"by_fund": by_fund, "conserved": all(r["holds"] for r in by_fund)}


def run_info(ctx: RunContext, inputs: list[FileStats]) -> dict[str, Any]:
    """The content of run.json, from the staged outputs and the conservation records."""
    work = ctx.work
    # Of the big frames, only the columns the totals and the split's conservation sum.
    columns = {"reconciliation": _TOTAL_COLUMNS}
    frames = {
        n: pl.read_parquet(work.output(n), columns=columns.get(n))
        for n in NAMES
        if n != "distribution"
    }
    # distribution.parquet summed per channel and fund as it is read: a province's first
    # run has sixty million rows, which need not be in memory for their sums.
    given = (
        pl.scan_parquet(work.output("distribution"))
        .group_by("channel", "fund")
        .agg(pl.col("amount_fen").sum())
        .sort("channel", "fund")
        .collect(engine="streaming")
    )
    # Allocations to units not in the registry: in no SPEC output, so counted here.
    unmatched_allocations = pl.read_parquet(work.unmatched_allocations, columns=["amount_fen"])
    lines = pl.read_parquet(work.distributed_lines, columns=["channel", "fund", "amount_fen"])
    split = distribution_record(lines, given)
    info: dict[str, Any] = {
        "run_id": ctx.run_id,
        "period": ctx.period,
        "as_of": ctx.as_of.isoformat(),
        "start_period": work.start_period.read_text(encoding="utf-8"),
        "started_at": ctx.started_at,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "code_version": dues.__version__,
        "config_hash": ctx.config_hash,
        "database": masked(ctx.request.db),
        "inputs": [s.as_json() for s in inputs],
        "conservation_holds": all(s.conserved for s in inputs),
        "distribution": split,
        "totals": totals_of(frames)
        | {
            "unmatched_allocations": unmatched_allocations.height,
            "unmatched_allocations_fen": _total(unmatched_allocations, "amount_fen"),
            "distributed_lines": lines.height,
            "distributed_fen": _total(given, "amount_fen"),
            # Rule 12 counted these as paid on their due dates (0 with late fees off).
            "late_fee_undated_lines": int(work.late_fee_undated.read_text(encoding="utf-8")),
        },
    }
    note = detail_note(pl.scan_parquet(work.output("reconciliation")), ctx.period)
    if note is not None:
        info["report_detail"] = note
    wide = pl.scan_parquet(work.distribution_wide_pieces)
    line_months = wide.select(pl.len()).collect().item()
    split_note = distribution_note(line_months)
    if split_note is not None:
        info["report_distribution"] = split_note
    return info


def write_manifest(ctx: RunContext, inputs: list[FileStats]) -> None:
    """Check conservation once more and write run.json into staging."""
    for record in inputs:
        if not record.conserved:
            raise RunError(f"{record.file}: conservation does not hold; nothing was written")
    info = run_info(ctx, inputs)
    for row in info["distribution"]["by_fund"]:
        if not row["holds"]:
            raise RunError(
                f"the distribution of the {row['channel']} {row['fund']} lines gives out "
                f"{row['distributed_fen']} fen of their {row['lines_fen']}: conservation does "
                "not hold; nothing was written"
            )
    text = json.dumps(info, ensure_ascii=False, indent=1, sort_keys=True)
    write_text(text, ctx.work.run_json)
