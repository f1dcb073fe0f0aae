"""The outputs of SPEC §5 that are frames: their names (`OUT/<period>/<name>.parquet`).

The column lists live beside the rule that makes each output (`unit_months`,
`arrears`, `drive`, `indicators`, `late_fees`, `reconcile`, `distribution`, `ingest` for
the quarantine) and are collected here, so the run, the store and the workbook agree on
one list.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from dues.arrears import ARREARS_COLUMNS
from dues.distribution import DISTRIBUTION_COLUMNS, PAYOUT_COLUMNS
from dues.drive import DRIVE_DETAIL_COLUMNS, FOUNDING_DRIVE_COLUMNS, PREP_RETURN_COLUMNS
from dues.indicators import INDICATOR_COLUMNS
from dues.late_fees import LATE_FEE_COLUMNS
from dues.reconcile import UNMATCHED_COLUMNS
from dues.unit_months import RECONCILIATION_COLUMNS

# Rows rejected from a run's input files (SPEC §3): made by ingest and by the ledger merge.
QUARANTINE_SCHEMA = pl.Schema(
    {
        "source_file": pl.String,
        "source_row": pl.Int64,
        "column": pl.String,
        "reason": pl.String,
        "raw": pl.String,  # the row's cells as JSON
    }
)
QUARANTINE_COLUMNS = tuple(QUARANTINE_SCHEMA)

COLUMNS: dict[str, tuple[str, ...]] = {
    "reconciliation": RECONCILIATION_COLUMNS,
    "arrears": ARREARS_COLUMNS,  # then one aging_<bucket>_fen per bucket of the policy
    # then the registry's extra columns, under their headers (dues.drive.extra_columns)
    "founding_drive": (*FOUNDING_DRIVE_COLUMNS, *DRIVE_DETAIL_COLUMNS),
    "prep_returns": PREP_RETURN_COLUMNS,
    "unmatched": UNMATCHED_COLUMNS,
    "quarantine": QUARANTINE_COLUMNS,
    "indicators": INDICATOR_COLUMNS,
    "late_fees": LATE_FEE_COLUMNS,
    "distribution": DISTRIBUTION_COLUMNS,  # long: a row per line × month × level (rule 13)
    "payouts": PAYOUT_COLUMNS,
}
NAMES = tuple(COLUMNS)


def empty_quarantine() -> pl.DataFrame:
    return pl.DataFrame(schema=QUARANTINE_SCHEMA)


def output_path(folder: Path, name: str) -> Path:
    """Where output `name` lies in an `OUT/<period>/` folder (or its staged copy)."""
    return folder / f"{name}.parquet"


RUN_JSON = "run.json"
REPORT = "report.xlsx"
