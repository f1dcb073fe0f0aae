"""The example county (shared/examples/county-40): four monthly runs give the published results.

Each run reads its files with `dues.ingest.read_input`, merges the accepted rows
into the history of all earlier runs with `dues.ledger`, and reconciles the whole
history against the registry, as `dues run` does without the database.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import polars as pl
import pytest
from _paths import require_county

from dues.ingest import read_input
from dues.ledger import merge_allocations, merge_receipts
from dues.policy import load_policy
from dues.reconcile import Outputs, reconcile

COUNTY = require_county()
SUMMARY = json.loads((COUNTY / "expected" / "summary.json").read_text(encoding="utf-8"))
PERIODS = [run["period"] for run in SUMMARY["runs"]]


@dataclass(frozen=True)
class Run:
    outputs: Outputs
    quarantined: int


def _runs() -> Iterator[tuple[str, Run]]:
    policy = load_policy()
    registry = read_input(COUNTY / "inputs" / SUMMARY["registry"], "registry").accepted
    receipts: pl.DataFrame | None = None
    allocations: pl.DataFrame | None = None
    for run in SUMMARY["runs"]:
        quarantined = 0
        read_r = [read_input(COUNTY / "inputs" / f, "collections") for f in run["collections"]]
        read_a = [read_input(COUNTY / "inputs" / f, "allocations") for f in run["allocations"]]
        quarantined += sum(r.quarantine.height for r in [*read_r, *read_a])
        incoming_r = pl.concat([r.accepted for r in read_r])
        receipts = incoming_r.clear() if receipts is None else receipts
        merged = merge_receipts(receipts, incoming_r)
        receipts = pl.concat([receipts, merged.new])
        quarantined += merged.conflicts.height
        if read_a:
            incoming_a = pl.concat([r.accepted for r in read_a])
            allocations = incoming_a.clear() if allocations is None else allocations
            merged_a = merge_allocations(allocations, incoming_a)
            allocations = pl.concat([allocations, merged_a.new])
            quarantined += merged_a.conflicts.height
        assert allocations is not None, "the first run of the example has allocations"
        outputs = reconcile(registry, receipts, allocations, policy, run["period"])
        yield run["period"], Run(outputs, quarantined)


@pytest.fixture(scope="module")
def runs() -> dict[str, Run]:
    return dict(_runs())


def _expected(period: str, name: str) -> pl.DataFrame:
    return pl.read_csv(COUNTY / "expected" / period / f"{name}.csv", infer_schema_length=0)


def _as_text(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """Our frame in the CSV's spelling: every value as text, booleans lower case."""
    return frame.select(
        pl.col(c).cast(pl.String).str.to_lowercase()
        if frame.schema[c] == pl.Boolean
        else pl.col(c).cast(pl.String)
        for c in columns
    )


def _assert_same_rows(got: pl.DataFrame, expected: pl.DataFrame, key: list[str]) -> None:
    got_sorted = got.sort(key)
    expected_sorted = expected.sort(key)
    missing = expected_sorted.join(got_sorted, on=expected.columns, how="anti")
    extra = got_sorted.join(expected_sorted, on=expected.columns, how="anti")
    assert missing.is_empty() and extra.is_empty(), (
        f"\nexpected, not got:\n{missing}\ngot, not expected:\n{extra}"
    )
    assert got_sorted.equals(expected_sorted)


@pytest.mark.parametrize("period", PERIODS)
def test_every_unit_month_matches_the_published_reconciliation(
    runs: dict[str, Run], period: str
) -> None:
    expected = _expected(period, "reconciliation")
    got = _as_text(runs[period].outputs.reconciliation, expected.columns)
    _assert_same_rows(got, expected, ["period", "uscc"])


@pytest.mark.parametrize("period", PERIODS)
def test_units_in_arrears_and_their_arrears_match(runs: dict[str, Run], period: str) -> None:
    expected = _expected(period, "arrears")
    owing = runs[period].outputs.arrears.filter(pl.col("arrears_fen") > 0)
    _assert_same_rows(_as_text(owing, expected.columns), expected, ["uscc"])


@pytest.mark.parametrize("period", PERIODS)
def test_founding_drive_lists_the_published_units_and_tiers(
    runs: dict[str, Run], period: str
) -> None:
    expected = _expected(period, "founding_drive")
    got = _as_text(runs[period].outputs.founding_drive, expected.columns)
    _assert_same_rows(got, expected, ["uscc"])


@pytest.mark.parametrize("period", PERIODS)
def test_preparatory_fund_returns_match(runs: dict[str, Run], period: str) -> None:
    expected = _expected(period, "prep_returns")
    got = _as_text(runs[period].outputs.prep_returns, expected.columns)
    _assert_same_rows(got, expected, ["uscc"])


@pytest.mark.parametrize("run", SUMMARY["runs"], ids=PERIODS)
def test_start_period_quarantine_and_unmatched_counts(
    runs: dict[str, Run], run: dict[str, object]
) -> None:
    got = runs[str(run["period"])]
    assert got.outputs.start_period == run["start_period"]
    assert got.quarantined == run["quarantined_rows_in_this_run"]
    assert got.outputs.unmatched.height == run["unmatched_receipts"]


def test_reconciliation_is_deterministic(runs: dict[str, Run]) -> None:
    again = dict(_runs())
    for period, run in runs.items():
        for name in (
            "reconciliation",
            "arrears",
            "founding_drive",
            "prep_returns",
            "unmatched",
            "indicators",
        ):
            assert getattr(again[period].outputs, name).equals(getattr(run.outputs, name)), (
                period,
                name,
            )
