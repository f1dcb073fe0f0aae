"""Golden outputs: the example county's four runs give exactly the committed Parquet files.

The example's own expected CSVs (test_county40) pin the figures the SPEC defines; these
golden files pin everything else an auditor re-runs and compares: every column of every
Parquet output (due dates, base sources, indicators, quarantine raw JSON), the dtypes,
the row order, and the stable part of run.json. A change to any of them is a diff here.

After a deliberate change, rewrite them and review the diff before committing:

    DUES_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import polars as pl
import pytest
from _paths import require_county
from polars.testing import assert_frame_equal

from dues.outputs import NAMES as OUTPUT_NAMES
from dues.run import RunRequest, run_period

COUNTY = require_county()
GOLDEN = Path(__file__).parent / "golden" / "county-40"
SUMMARY = json.loads((COUNTY / "expected" / "summary.json").read_text(encoding="utf-8"))
UPDATE = os.environ.get("DUES_UPDATE_GOLDEN") == "1"
# run.json keys that differ from run to run by design.
VOLATILE = {"run_id", "started_at", "finished_at", "code_version", "database"}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("golden")
    inputs = COUNTY / "inputs"
    for run in SUMMARY["runs"]:
        run_period(
            RunRequest(
                period=run["period"],
                registry=inputs / SUMMARY["registry"],
                collections=tuple(inputs / f for f in run["collections"]),
                allocations=tuple(inputs / f for f in run["allocations"]),
                out=root / "out",
                db=f"sqlite:///{root / 'ledger.db'}",
            )
        )
    return root / "out"


def stable(run_json: Path) -> dict[str, object]:
    info = json.loads(run_json.read_text(encoding="utf-8"))
    return {k: v for k, v in sorted(info.items()) if k not in VOLATILE}


@pytest.mark.parametrize("period", [run["period"] for run in SUMMARY["runs"]])
@pytest.mark.parametrize("name", OUTPUT_NAMES)
def test_parquet_outputs_equal_the_golden_files(runs: Path, period: str, name: str) -> None:
    got = pl.read_parquet(runs / period / f"{name}.parquet")
    golden = GOLDEN / period / f"{name}.parquet"
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        got.write_parquet(golden)
    assert_frame_equal(got, pl.read_parquet(golden), check_exact=True)


@pytest.mark.parametrize("period", [run["period"] for run in SUMMARY["runs"]])
def test_run_json_equals_the_golden_one_but_for_ids_and_times(runs: Path, period: str) -> None:
    got = stable(runs / period / "run.json")
    golden = GOLDEN / period / "run.json"
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(json.dumps(got, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    assert got == json.loads(golden.read_text(encoding="utf-8"))
