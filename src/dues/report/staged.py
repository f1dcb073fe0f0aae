"""The workbook of a staged run: report.xlsx from the Parquet outputs and run.json beside it.

A province's 12M unit-months would take openpyxl many minutes (it writes ~100k
cells a second), so above `DETAIL_LIMIT` unit-months 对账明细 lists only those of
the last `DETAIL_MONTHS` months that need action (the older months' arrears are in
欠缴账龄, per unit and age); reconciliation.parquet always holds every row, and the
overview counts them all from the three columns it sums. (Every month's exceptions
were 201,857 rows for 100,000 units in their 11th month, most of the workbook's 8.4 s,
and each old month a unit did not file came back every month after.) Above
`DETAIL_LIMIT` line-months 分成明细 is left empty (distribution.parquet holds them;
回拨清单 the payouts).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

from dues.outputs import NAMES, REPORT, RUN_JSON, output_path
from dues.periods import format_period, parse_period
from dues.report.labels import Lang
from dues.report.workbook import write_report
from dues.unit_months import needs_action

# Above this many unit-months the workbook's detail sheet keeps only the exceptions.
DETAIL_LIMIT = 200_000
_OVERVIEW_COLUMNS = ["expected_fen", "paid_fen", "status"]


def is_big(reconciliation_rows: int) -> bool:
    return reconciliation_rows > DETAIL_LIMIT


# The months 对账明细 of a big run lists: the run's period and the two before it. A
# period's own month falls due in the next (SPEC §4), so the one before it is the month
# that just fell due, and the one before that shows who filed late.
DETAIL_MONTHS = 3


def detail_shown(period: str) -> pl.Expr:
    """The unit-months 对账明细 lists of a big run of `period`."""
    first = format_period(parse_period(period) - DETAIL_MONTHS + 1)
    return needs_action() & (pl.col("period") >= first)


def detail_note(reconciliation: pl.LazyFrame, period: str) -> str | None:
    """run.json's `report_detail`: what 对账明细 leaves out, or None when it lists all."""
    rows = reconciliation.select(pl.len()).collect().item()
    if not is_big(rows):
        return None
    shown = reconciliation.filter(detail_shown(period)).select(pl.len()).collect().item()
    return (
        # One line on 运行信息's printed page: what needs action is said in the README.
        f"对账明细 lists {shown:,} of {rows:,} unit-months: those of the {DETAIL_MONTHS} months "
        f"to {period} that need action; older months' arrears: 欠缴账龄; every unit-month: "
        "reconciliation.parquet"
    )


def distribution_note(rows: int) -> str | None:
    """run.json's `report_distribution`: 分成明细 (one row per line × month: `rows`, the
    wide distribution's) is left empty above DETAIL_LIMIT rows (a province's first run
    splits a million lines), else None."""
    if not is_big(rows):
        return None
    return (
        f"分成明细 lists none of {rows:,} line-months (more than {DETAIL_LIMIT:,}); all are in "
        "distribution.parquet, and 回拨清单 holds the payouts"
    )


def write_staged_workbook(folder: Path, lang: Lang, info: Mapping[str, Any] | None = None) -> Path:
    """Write report.xlsx into `folder` from its outputs and run.json (or `info`)."""
    if info is None:
        info = json.loads((folder / RUN_JSON).read_text(encoding="utf-8"))
    large = ("reconciliation", "distribution")
    frames = {n: pl.read_parquet(output_path(folder, n)) for n in NAMES if n not in large}
    distribution = pl.scan_parquet(output_path(folder, "distribution"))
    # run.json says when 分成明细 is left empty (distribution_note, counted once).
    if "report_distribution" in info:
        frames["distribution"] = distribution.head(0).collect()
    else:
        frames["distribution"] = distribution.collect()
    reconciliation = pl.scan_parquet(output_path(folder, "reconciliation"))
    if is_big(reconciliation.select(pl.len()).collect().item()):
        frames["reconciliation_full"] = reconciliation.select(_OVERVIEW_COLUMNS).collect()
        frames["reconciliation"] = reconciliation.filter(detail_shown(info["period"])).collect()
    else:
        frames["reconciliation"] = reconciliation.collect()
    path = folder / REPORT
    write_report(path, frames, info, lang=lang)
    return path
