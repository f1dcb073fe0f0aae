"""Tiny hand-written inputs for the rule tests, and `run`: reconcile them in one call.

Amounts are fen. A registry row is `unit(...)`, a receipt line `receipt(...)`, an
allocation `allocation(...)`: fields a case does not name take a plain default, so
each case table shows only what it is about. Shared by test_rules, test_unit_months,
test_arrears, test_drive, test_indicators and test_reconcile.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl

from dues.periods import parse_period
from dues.policy import DEFAULT_POLICY_PATH, Policy, load_policy
from dues.reconcile import Outputs, reconcile

DEFAULTS = load_policy(DEFAULT_POLICY_PATH)
POLICY = DEFAULTS.model_copy(update={"start_period": "2026-04"})

REGISTRY_SCHEMA = {
    "uscc": pl.String, "name": pl.String, "unit_type": pl.String, "ownership": pl.String,
    "employees": pl.Int64, "members": pl.Int64, "jurisdiction": pl.String,
    "union_kind": pl.String, "union_founded": pl.Date, "filing_frequency": pl.String,
    "monthly_payroll_fen": pl.Int64, "source_file": pl.String, "source_row": pl.Int64,
}  # fmt: skip
RECEIPT_SCHEMA = {
    "receipt_no": pl.String, "line_no": pl.Int64, "uscc": pl.String, "taxpayer_name": pl.String,
    "item": pl.String, "item_code": pl.String, "period_start": pl.Date, "period_end": pl.Date,
    "wage_base_fen": pl.Int64, "rate_bp": pl.Int64, "amount_fen": pl.Int64,
    "paid_date": pl.Date, "tax_office": pl.String, "source_file": pl.String, "source_row": pl.Int64,
}  # fmt: skip
ALLOCATION_SCHEMA = {
    "voucher_no": pl.String, "uscc": pl.String, "unit_name": pl.String,
    "period_start": pl.Date, "period_end": pl.Date, "wage_base_fen": pl.Int64,
    "amount_fen": pl.Int64, "allocated_date": pl.Date, "source_file": pl.String,
    "source_row": pl.Int64,
}  # fmt: skip


def day(text: str) -> date:
    return date.fromisoformat(text)


def unit(uscc: str = "U1", **over: Any) -> dict[str, Any]:
    founded = over.pop("founded", "2015-01-01")
    return {
        "uscc": uscc,
        "name": f"单位{uscc}",
        "unit_type": "enterprise",
        "ownership": "non_public",
        "employees": 30,
        "members": 20,
        "jurisdiction": "东镇工会",
        "union_kind": "own",
        "union_founded": day(founded) if founded else None,
        "filing_frequency": "monthly",
        "monthly_payroll_fen": None,
        "source_file": "registry.xlsx",
        "source_row": 2,
    } | over


def months(first: str, last: str | None = None) -> tuple[date, date]:
    """('2026-04', '2026-06') -> (2026-04-01, 2026-06-30)."""
    from dues.periods import first_day, last_day

    return first_day(parse_period(first)), last_day(parse_period(last or first))


_serial = iter(range(10**9))


def receipt(
    uscc: str,
    first: str,
    last: str | None = None,
    wage: int = 0,
    amount: int = 0,
    item: str = "dues",
) -> dict[str, Any]:
    start, end = months(first, last)
    n = next(_serial)
    return {
        "receipt_no": f"R{n}", "line_no": 1, "uscc": uscc, "taxpayer_name": "x", "item": item,
        "item_code": None, "period_start": start, "period_end": end, "wage_base_fen": wage,
        "rate_bp": 100, "amount_fen": amount, "paid_date": end, "tax_office": None,
        "source_file": "c.csv", "source_row": n,
    }  # fmt: skip


def allocation(
    uscc: str, first: str, last: str | None = None, wage: int = 0, amount: int = 0
) -> dict[str, Any]:
    start, end = months(first, last)
    n = next(_serial)
    return {
        "voucher_no": f"V{n}", "uscc": uscc, "unit_name": "x", "period_start": start,
        "period_end": end, "wage_base_fen": wage, "amount_fen": amount, "allocated_date": end,
        "source_file": "a.csv", "source_row": n,
    }  # fmt: skip


def run(
    units: list[dict[str, Any]],
    receipts: list[dict[str, Any]] = (),  # type: ignore[assignment]
    allocations: list[dict[str, Any]] = (),  # type: ignore[assignment]
    period: str = "2026-06",
    policy: Policy = POLICY,
    as_of: date | None = None,
) -> Outputs:
    return reconcile(
        pl.DataFrame(units, schema=REGISTRY_SCHEMA),
        pl.DataFrame(list(receipts), schema=RECEIPT_SCHEMA),
        pl.DataFrame(list(allocations), schema=ALLOCATION_SCHEMA),
        policy,
        period,
        as_of,
    )


def month_row(out: Outputs, period: str, uscc: str = "U1") -> dict[str, Any]:
    rows = out.reconciliation.filter((pl.col("period") == period) & (pl.col("uscc") == uscc))
    assert rows.height == 1
    row: dict[str, Any] = rows.row(0, named=True)
    return row
