"""`dues drive`: the founding-drive lists of a period, per jurisdiction, from the ledger alone.

No input file is read and nothing is derived again: the rows are those the period's
completed run stored (its founding-drive results), given the organizer's columns
(dues.drive.drive_details) from the registry snapshot that run stored, with its extra
columns, under the policy that run applied (its tier thresholds). So the lists say
what the run's founding_drive.parquet says, whenever they are written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from dues.drive import drive_details
from dues.policy import Policy, load_policy
from dues.report.drive_book import write_drive_workbooks
from dues.report.labels import Lang
from dues.store import Store, open_store


class DriveError(Exception):
    """The ledger has no completed run of the period asked for."""


@dataclass(frozen=True)
class DriveLists:
    period: str
    run_id: str
    units: int
    paths: list[Path]
    note: str | None = None  # said when the run's own policy is not in the ledger


def drive_of_period(store: Store, period: str) -> tuple[pl.DataFrame, str, str | None]:
    """The founding-drive rows of `period`'s completed run with the organizer's columns,
    that run's id, and a note when its policy had to be taken from the policy file."""
    runs = store.list_runs().filter(pl.col("period") == period, pl.col("status") == "completed")
    if runs.is_empty():
        raise DriveError(f"the ledger has no completed run of {period}: run `dues run` first")
    run = runs.row(0, named=True)
    kept = store.load_policy(run["config_hash"])
    note = None
    if kept is not None:
        policy = Policy.model_validate_json(kept)
    else:
        policy = load_policy()
        note = (
            f"the ledger does not keep the policy run {run['run_id']} applied (stored before "
            "revision 0006): tiers are named by the thresholds of the policy file"
        )
    rows = store.load_results("founding_drive", period)
    registry = store.load_registry_of_run(run["run_id"])
    return drive_details(rows, registry, policy), run["run_id"], note


def write_drive_lists(period: str, out: Path, db: str, lang: Lang = "zh") -> DriveLists:
    """Write one workbook per jurisdiction of `period`'s founding drive into `out`."""
    with open_store(db) as store:
        frame, run_id, note = drive_of_period(store, period)
    out.mkdir(parents=True, exist_ok=True)
    paths = write_drive_workbooks(frame, out, period, lang)
    return DriveLists(period, run_id, frame.height, paths, note)
