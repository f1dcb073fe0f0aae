"""What a statement adds to the reconciliation (`dues.statement.unit_statement`): a case table.

One unit with a union (dues at 1 %), run period 2026-08, as of 2026-08-31, its lines:

    R-apr   2026-04          base 1,000,000   dues     10,000
    R-apr2  2026-04          base 0           dues        500   (April overpaid by 500)
            (no line for May: its base is estimated from April's declarations)
    R-q     2026-06..2026-07 base 2,000,001   dues     15,001   (split 7,500 / 7,501)
    R-prep  2026-06          base 0           prep.       100   (paid under the wrong fund)
            (no line for August: not yet due on 2026-08-31)

Amounts are fen. Each row of the table is what the month shows.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
import pytest
from _frames import ALLOCATION_SCHEMA, DEFAULTS, RECEIPT_SCHEMA, REGISTRY_SCHEMA, allocation, unit
from _frames import receipt as line

from dues.periods import parse_period
from dues.statement import Statement, StatementRun, unit_statement

AS_OF = date(2026, 8, 31)
RUN = StatementRun("r1", "2026-08", AS_OF, "2026-04", "h", stale=False, ledger="sqlite://")


def named(no: str, row: dict[str, Any]) -> dict[str, Any]:
    return row | {"receipt_no": no}


RECEIPTS = [
    named("R-apr", line("U1", "2026-04", wage=1_000_000, amount=10_000)),
    named("R-apr2", line("U1", "2026-04", wage=0, amount=500)),
    named("R-q", line("U1", "2026-06", "2026-07", wage=2_000_001, amount=15_001)),
    named("R-prep", line("U1", "2026-06", wage=0, amount=100, item="preparatory")),
]
# A fiscal unit: one allocation for a quarter, 60,001 split 20,000 / 20,000 / 20,001.
ALLOCATIONS = [allocation("U2", "2026-04", "2026-06", wage=3_000_000, amount=60_001)]


@pytest.fixture(scope="module")
def statement() -> Statement:
    registry = pl.DataFrame(
        [unit("U1"), unit("U2", unit_type="government_organ")], schema=REGISTRY_SCHEMA
    )
    return unit_statement(
        registry,
        pl.DataFrame(RECEIPTS, schema=RECEIPT_SCHEMA),
        pl.DataFrame(ALLOCATIONS, schema=ALLOCATION_SCHEMA),
        DEFAULTS,
        parse_period("2026-04"),
        parse_period("2026-08"),
        AS_OF,
        RUN,
    )


COLUMNS = ("base_source", "base_period", "wage_base_fen", "expected_fen", "paid_dues_fen",
           "paid_prep_fen", "status", "lines", "owed_fen", "credit_fen", "running_arrears_fen",
           "aging_bucket", "fund_mismatch")  # fmt: skip


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        ("2026-04", ("declared", "2026-04", 1_000_000, 10_000, 10_500, 0, "overpaid", 2,
         0, 500, 0, None, False)),
        # No line: the base of April, the latest earlier month with records; 77 days late.
        ("2026-05", ("estimated_last", "2026-04", 1_000_000, 10_000, 0, 0, "not_filed", 0,
         10_000, 0, 10_000, "31_90", False)),
        # Half of the quarter line (floor) and the preparatory-fund line, 47 days late.
        ("2026-06", ("declared", "2026-06", 1_000_000, 10_000, 7_500, 100, "underpaid", 2,
         2_400, 0, 12_400, "31_90", True)),
        # The quarter line's other half with its remainder fen; 16 days late.
        ("2026-07", ("declared", "2026-07", 1_000_001, 10_000, 7_501, 0, "underpaid", 1,
         2_499, 0, 14_899, "0_30", False)),
        # Not due on 2026-08-31: owes nothing yet, the running arrears stay.
        ("2026-08", ("estimated_last", "2026-07", 1_000_001, 10_000, 0, 0, "not_due", 0,
         0, 0, 14_899, None, False)),
    ],
)  # fmt: skip
def test_each_month_of_the_statement(
    statement: Statement, period: str, expected: tuple[Any, ...]
) -> None:
    row = statement.months.filter(pl.col("uscc") == "U1", pl.col("period") == period)
    assert row.select(COLUMNS).row(0) == expected


def test_the_units_totals_are_its_due_months_and_its_arrears(statement: Statement) -> None:
    u1 = statement.units.filter(pl.col("uscc") == "U1").row(0, named=True)
    assert (u1["months"], u1["expected_fen"], u1["paid_fen"]) == (5, 40_000, 25_601)
    assert (u1["arrears_fen"], u1["credit_fen"]) == (14_899, 500)
    assert (u1["months_outstanding"], u1["oldest_period"]) == (3, "2026-05")
    assert (u1["aging_0_30_fen"], u1["aging_31_90_fen"], u1["aging_over_365_fen"]) == (
        2_499, 12_400, 0)  # fmt: skip


def test_a_quarter_line_shows_in_each_of_its_months_with_its_share(
    statement: Statement,
) -> None:
    q = statement.lines.filter(pl.col("receipt_no") == "R-q")
    assert q.select("period", "months_covered", "wage_base_fen", "amount_fen",
                    "line_amount_fen", "paid_dues_fen").rows() == [
        ("2026-06", 2, 1_000_000, 7_500, 15_001, 7_500),
        ("2026-07", 2, 1_000_001, 7_501, 15_001, 7_501),
    ]  # fmt: skip
    prep = statement.lines.filter(pl.col("receipt_no") == "R-prep")
    assert prep.select("paid_dues_fen", "paid_prep_fen", "allocated_fen").row(0) == (0, 100, 0)


def test_an_allocation_is_split_like_a_receipt_and_counts_as_allocated(
    statement: Statement,
) -> None:
    lines = statement.lines.filter(pl.col("uscc") == "U2")
    assert lines.select("period", "kind", "voucher_no", "amount_fen", "allocated_fen").rows() == [
        ("2026-04", "allocation", ALLOCATIONS[0]["voucher_no"], 20_000, 20_000),
        ("2026-05", "allocation", ALLOCATIONS[0]["voucher_no"], 20_000, 20_000),
        ("2026-06", "allocation", ALLOCATIONS[0]["voucher_no"], 20_001, 20_001),
    ]
    months = statement.months.filter(pl.col("uscc") == "U2")
    assert months.select("period", "status", "owed_fen").rows() == [
        ("2026-04", "matched", 0),
        ("2026-05", "matched", 0),
        ("2026-06", "matched", 0),  # 1 fen over: within the tolerance
        ("2026-07", "not_filed", 20_000),
        ("2026-08", "not_due", 0),
    ]
