"""SPEC §4 rules 4-7 on the grid of units × months (`dues.unit_months`): the base of
each month, fund and channel mismatches, days past due, the rows and their order.

Amounts are fen. Each case runs the whole `reconcile` on a one- to three-unit
registry (`_frames.run`) and reads the month's row.
"""

from __future__ import annotations

import polars as pl
import pytest
from _frames import POLICY, allocation, day, month_row, receipt, run, unit

# ---- rule 4: base ----------------------------------------------------------------------------

# receipts (first month, last month, wage base) | registry payroll | month | base_source, base
BASE_CASES = [
    ("declared: the month's own record",
     [("2026-05", None, 1000)], None, "2026-05", "declared", 1000),
    ("declared: all records of the month, any fund",
     [("2026-05", None, 1000), ("2026-05", None, 700)], None, "2026-05", "declared", 1700),
    ("declared: a quarter's base split, remainder in its last month",
     [("2026-04", "2026-06", 3001)], None, "2026-06", "declared", 1001),
    ("declared: a refund-only month has base 0",
     [("2026-04", None, 1000), ("2026-05", None, 0)], None, "2026-05", "declared", 0),
    ("estimated_last: a month without records takes the last declared base",
     [("2026-04", None, 1000)], 9999, "2026-06", "estimated_last", 1000),
    ("estimated_last: the latest earlier month, not the first",
     [("2026-04", None, 1000), ("2026-05", None, 2000)], None, "2026-06", "estimated_last", 2000),
    ("registry: no record yet, the registry's monthly payroll",
     [("2026-06", None, 1000)], 7000, "2026-04", "registry", 7000),
    ("unknown: no record before, no payroll",
     [("2026-06", None, 1000)], None, "2026-05", "unknown", 0),
]  # fmt: skip


@pytest.mark.parametrize(
    ("records", "payroll", "period", "source", "base"),
    [case[1:] for case in BASE_CASES],
    ids=[case[0] for case in BASE_CASES],
)
def test_base_of_a_month(
    records: list[tuple[str, str | None, int]],
    payroll: int | None,
    period: str,
    source: str,
    base: int,
) -> None:
    out = run(
        [unit(monthly_payroll_fen=payroll)], [receipt("U1", f, la, wage=w) for f, la, w in records]
    )
    row = month_row(out, period)
    assert (row["base_source"], row["wage_base_fen"]) == (source, base)


def test_allocations_declare_a_base_too() -> None:
    organ = unit("G1", unit_type="government_organ")
    out = run([organ], allocations=[allocation("G1", "2026-04", wage=5000, amount=100)])
    assert (
        month_row(out, "2026-04", "G1")["base_source"],
        month_row(out, "2026-05", "G1")["wage_base_fen"],
    ) == (
        "declared",
        5000,
    )


def test_a_unit_never_borrows_another_units_base() -> None:
    out = run([unit("U1"), unit("U2"), unit("U3")], [receipt("U1", "2026-06", wage=5000)])
    sources = out.reconciliation.filter(pl.col("uscc") != "U1")["base_source"].unique().to_list()
    assert sources == ["unknown"]
    assert month_row(out, "2026-06", "U1")["base_source"] == "declared"


def test_a_base_declared_before_the_start_period_is_still_the_last_one() -> None:
    policy = POLICY.model_copy(update={"start_period": "2026-05"})
    out = run([unit()], [receipt("U1", "2026-03", wage=4000)], policy=policy)
    assert out.reconciliation["period"].min() == "2026-05"
    row = month_row(out, "2026-05")
    assert (row["base_source"], row["wage_base_fen"]) == ("estimated_last", 4000)


# ---- rule 5: fund and channel mismatches -----------------------------------------------------

# unit type | union | what arrived (kind, amount) | fund due, fund_mismatch, channel_mismatch
MISMATCH_CASES = [
    ("enterprise", "own", [("dues", 100)], "dues", False, False),
    ("enterprise", "own", [("preparatory", 100)], "dues", True, False),
    ("enterprise", "none", [("dues", 100)], "preparatory", True, False),
    ("enterprise", "none", [("preparatory", 100)], "preparatory", False, False),
    ("enterprise", "own", [("preparatory", 100), ("preparatory", -100)], "dues", False, False),
    ("enterprise_institution", "own", [("dues", 100)], "dues", False, False),
    ("enterprise", "own", [("allocation", 100)], "dues", False, True),
    ("government_organ", "own", [("allocation", 100)], "dues", False, False),
    ("public_institution", "none", [("allocation", 100)], "dues", False, False),
    ("government_organ", "own", [("dues", 100)], "dues", False, True),
    ("government_organ", "own", [("preparatory", 100)], "dues", False, True),
    ("public_institution", "own", [("dues", 100), ("dues", -100)], "dues", False, True),
]


@pytest.mark.parametrize(
    ("unit_type", "union_kind", "arrived", "fund", "fund_mis", "channel_mis"), MISMATCH_CASES
)
def test_money_by_the_wrong_fund_or_channel_is_flagged_and_still_counts(
    unit_type: str,
    union_kind: str,
    arrived: list[tuple[str, int]],
    fund: str,
    fund_mis: bool,
    channel_mis: bool,
) -> None:
    founded = None if union_kind == "none" else "2015-01-01"
    receipts = [receipt("U1", "2026-04", amount=a, item=k) for k, a in arrived if k != "allocation"]
    allocations = [allocation("U1", "2026-04", amount=a) for k, a in arrived if k == "allocation"]
    out = run(
        [unit(unit_type=unit_type, union_kind=union_kind, founded=founded)], receipts, allocations
    )
    row = month_row(out, "2026-04")
    assert (row["fund"], row["fund_mismatch"], row["channel_mismatch"]) == (
        fund,
        fund_mis,
        channel_mis,
    )
    assert row["paid_fen"] == sum(a for _, a in arrived)
    assert row["paid_fen"] == row["paid_dues_fen"] + row["paid_prep_fen"] + row["allocated_fen"]


# ---- rules 6 and 7 on the grid: days past due, a late payment --------------------------------


@pytest.mark.parametrize(
    ("as_of", "status_of_july", "days_past_due"),
    [
        ("2026-08-14", "not_due", None),
        ("2026-08-15", "not_filed", 0),
        ("2026-09-30", "not_filed", 46),
    ],
)
def test_a_month_is_due_from_its_due_date(
    as_of: str, status_of_july: str, days_past_due: int | None
) -> None:
    out = run([unit(monthly_payroll_fen=1000)], period="2026-07", as_of=day(as_of))
    row = month_row(out, "2026-07")
    assert (row["status"], row["days_past_due"]) == (status_of_july, days_past_due)


def test_a_late_payment_settles_its_old_month() -> None:
    payer = unit(monthly_payroll_fen=100_000)
    may = receipt("U1", "2026-05", wage=100_000, amount=1000)
    late = receipt("U1", "2026-04", wage=100_000, amount=1000) | {"paid_date": day("2026-06-20")}
    before, after = run([payer], [may]), run([payer], [may, late])
    assert month_row(before, "2026-04")["status"] == "not_filed"
    assert before.arrears["arrears_fen"].to_list() == [1000]
    assert month_row(after, "2026-04")["status"] == "matched"
    assert after.arrears.is_empty()


# ---- the grid: one row per unit and month ----------------------------------------------------


def test_one_row_per_unit_and_month_in_period_uscc_order() -> None:
    out = run([unit("U2"), unit("U1")])
    rec = out.reconciliation
    assert rec.height == 2 * 3
    assert rec.select("period", "uscc").rows() == sorted(rec.select("period", "uscc").rows())
    assert rec.columns == [
        "period", "uscc", "name", "jurisdiction", "unit_type", "channel", "union_status", "fund",
        "rate_bp", "wage_base_fen", "base_source", "expected_fen", "paid_dues_fen", "paid_prep_fen",
        "allocated_fen", "paid_fen", "variance_fen", "status", "fund_mismatch", "channel_mismatch",
        "due_date", "days_past_due",
    ]  # fmt: skip
