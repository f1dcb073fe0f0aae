"""The example county's four months run in order into one ledger (`dues run`'s stages):
what the statement and notice tests read back, beside the outputs each run published."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from _paths import require_county

from dues.run import RunRequest, run_period


@dataclass(frozen=True)
class CountyLedger:
    out: Path  # OUT: OUT/<period>/ holds each run's published outputs
    db: str

    def output(self, period: str, name: str) -> pl.DataFrame:
        return pl.read_parquet(self.out / period / f"{name}.parquet")


def summary() -> dict[str, object]:
    county = require_county()
    loaded: dict[str, object] = json.loads(
        (county / "expected" / "summary.json").read_text(encoding="utf-8")
    )
    return loaded


def periods() -> list[str]:
    return [run["period"] for run in summary()["runs"]]  # type: ignore[attr-defined]


def request(period: str, out: Path, db: str) -> RunRequest:
    inputs = require_county() / "inputs"
    info = summary()
    run = next(r for r in info["runs"] if r["period"] == period)  # type: ignore[attr-defined]
    return RunRequest(
        period=period,
        registry=inputs / str(info["registry"]),
        collections=tuple(inputs / f for f in run["collections"]),
        allocations=tuple(inputs / f for f in run["allocations"]),
        out=out,
        db=db,
    )


def run_county(root: Path, db: str | None = None, upto: str | None = None) -> CountyLedger:
    """Run the county's months in order (up to `upto`) into `db` (default: a SQLite
    file in `root`), publishing to `root/out`."""
    db = db or f"sqlite:///{root / 'ledger.db'}"
    for period in periods():
        if upto is not None and period > upto:
            break
        run_period(request(period, root / "out", db))
    return CountyLedger(root / "out", db)
