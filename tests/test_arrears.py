"""SPEC §4 rule 8 (`dues.arrears`): each unit's arrears, credit and aging, from its
reconciliation rows. Amounts are fen.
"""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest
from _frames import DEFAULTS

from dues.arrears import arrears

# ---- rule 8: arrears, credit, aging ----------------------------------------------------------


def _arrears_of(rows: list[tuple[str, str, int, int, int | None]]) -> dict[str, Any]:
    frame = pl.DataFrame(
        [
            {
                "uscc": "U1",
                "name": "n",
                "jurisdiction": "j",
                "period": p,
                "status": s,
                "expected_fen": e,
                "paid_fen": pd,
                "days_past_due": d,
            }
            for p, s, e, pd, d in rows
        ],
        schema_overrides={"days_past_due": pl.Int64},
    )
    out = arrears(frame, DEFAULTS)
    return out.row(0, named=True) if out.height else {}


def test_arrears_credit_and_aging_of_a_unit() -> None:
    # period, status, expected, paid, days past due
    got = _arrears_of([
        ("2025-01", "not_filed", 1000, 0, 400),   # 1000 owed, over 365 days
        ("2026-03", "underpaid", 500, 300, 200),  # 200 owed, 181-365
        ("2026-05", "not_filed", 0, 0, 120),      # unknown base: owes nothing
        ("2026-06", "overpaid", 100, 150, 100),   # 50 credit
        ("2026-07", "matched", 100, 101, 60),     # neither
        ("2026-08", "underpaid", 100, 0, 31),     # 100 owed, 31-90
        ("2026-09", "not_filed", 100, 0, 30),     # 100 owed, 0-30
        ("2026-10", "not_due", 100, 0, None),     # neither
    ])  # fmt: skip
    assert got == {
        "uscc": "U1", "name": "n", "jurisdiction": "j",
        "arrears_fen": 1400, "credit_fen": 50, "months_outstanding": 4, "oldest_period": "2025-01",
        "aging_0_30_fen": 100, "aging_31_90_fen": 100, "aging_91_180_fen": 0,
        "aging_181_365_fen": 200, "aging_over_365_fen": 1000,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("days", "bucket"),
    [(0, "0_30"), (30, "0_30"), (31, "31_90"), (90, "31_90"), (91, "91_180"), (180, "91_180"),
     (181, "181_365"), (365, "181_365"), (366, "over_365")],
)  # fmt: skip
def test_aging_bucket_by_days_past_due(days: int, bucket: str) -> None:
    got = _arrears_of([("2026-01", "underpaid", 100, 40, days)])
    assert {k: v for k, v in got.items() if k.startswith("aging_") and v} == {
        f"aging_{bucket}_fen": 60
    }


@pytest.mark.parametrize(
    ("rows", "listed"),
    [
        ([("2026-01", "matched", 100, 99, 10)], {}),
        ([("2026-01", "not_filed", 0, 0, 10)], {}),
        ([("2026-01", "not_due", 100, 0, None)], {}),
        (
            [("2026-01", "overpaid", 100, 130, 10)],
            {"arrears_fen": 0, "credit_fen": 30, "months_outstanding": 0},
        ),
    ],
    ids=["matched", "nothing owed on an unknown base", "not due", "credit only"],
)
def test_which_units_the_arrears_list_holds(
    rows: list[tuple[str, str, int, int, int | None]], listed: dict[str, int]
) -> None:
    got = _arrears_of(rows)
    assert {k: got[k] for k in listed} == listed and bool(got) == bool(listed)
