"""SPEC §4 rule 11 (`dues.indicators`): collection, founding and membership rates per
jurisdiction and for the county. Amounts are fen.
"""

from __future__ import annotations

import polars as pl
from _frames import POLICY, allocation, receipt, run, unit

# ---- rule 11: indicators ---------------------------------------------------------------------


def test_indicators_per_jurisdiction_and_county() -> None:
    units = [
        unit("A1", employees=30, members=20, monthly_payroll_fen=100_000),
        unit("A2", union_kind="none", founded=None, employees=40, members=0),
        unit("A3", union_kind="joint", employees=5, members=4),
        unit("A4", unit_type="government_organ", employees=10, members=10),
        unit("A5", employees=25, members=None, founded="2026-05-01"),  # not organized yet in March
        unit(
            "B1",
            union_kind="none",
            founded=None,
            employees=3,
            members=None,
            jurisdiction="西镇工会",
        ),
    ]
    receipts = [
        receipt("A1", "2025-12", wage=100_000, amount=1000),
        receipt("A1", "2026-01", wage=100_000, amount=1000),
    ]  # Feb: not filed, expected 1000 on the last base
    allocations = [allocation("A4", "2026-01", "2026-03", wage=150_000, amount=3000)]
    policy = POLICY.model_copy(update={"start_period": "2025-12"})
    out = run(units, receipts, allocations, period="2026-03", policy=policy)
    got = {r["jurisdiction"]: r for r in out.indicators.iter_rows(named=True)}
    assert list(got) == ["东镇工会", "西镇工会", "全县"]
    # Year to date = January and February 2026 (December is last year, March not yet due).
    assert {k: got["东镇工会"][k] for k in INDICATOR_A} == INDICATOR_A
    assert {k: got["西镇工会"][k] for k in INDICATOR_B} == INDICATOR_B
    assert {k: got["全县"][k] for k in INDICATOR_COUNTY} == INDICATOR_COUNTY


INDICATOR_A = {
    "level": "jurisdiction", "year": 2026,
    "tax_expected_fen": 2000, "tax_collected_fen": 1000, "tax_collection_rate": 0.5,
    "fiscal_expected_fen": 2000, "fiscal_collected_fen": 2000, "fiscal_collection_rate": 1.0,
    "tax_units": 4, "tax_units_tier1": 3, "organized_tier1": 1, "founding_rate_tier1": 1 / 3,
    "organized_tax_units": 2, "founding_rate_all": 0.5,
    "employees_organized": 45, "members_organized": 34, "membership_rate": 34 / 45,
}  # fmt: skip
INDICATOR_B = {
    "tax_expected_fen": 0, "tax_collection_rate": None, "fiscal_collection_rate": None,
    "tax_units": 1, "tax_units_tier1": 0, "founding_rate_tier1": None,
    "organized_tax_units": 0, "founding_rate_all": 0.0,
    "employees_organized": 0, "membership_rate": None,
}  # fmt: skip
INDICATOR_COUNTY = {
    "level": "county", "tax_expected_fen": 2000, "tax_collected_fen": 1000,
    "fiscal_expected_fen": 2000, "tax_units": 5, "tax_units_tier1": 3, "organized_tier1": 1,
    "organized_tax_units": 2, "founding_rate_all": 0.4, "membership_rate": 34 / 45,
}  # fmt: skip


def test_collection_indicators_start_again_each_year() -> None:
    policy = POLICY.model_copy(update={"start_period": "2026-11"})
    out = run([unit(monthly_payroll_fen=100_000)], period="2027-01", policy=policy)
    county = out.indicators.filter(pl.col("level") == "county").row(0, named=True)
    # January 2027 is not due before 15 February: nothing of 2027 is due yet.
    assert (county["year"], county["tax_expected_fen"], county["tax_collection_rate"]) == (
        2027,
        0,
        None,
    )
