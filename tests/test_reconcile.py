"""`dues.reconcile`, the run as a whole: its start period, the records kept apart as
unmatched, and the inputs it refuses. Amounts are fen.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from _frames import DEFAULTS, allocation, day, receipt, run, unit

# ---- the run: start period, unmatched, validation --------------------------------------------


def test_start_period_is_the_earliest_month_of_any_stored_record_matched_or_not() -> None:
    receipts = [
        receipt("U1", "2026-04", amount=10),
        receipt("NOT-IN-REGISTRY", "2026-02", amount=7),
    ]
    out = run([unit()], receipts, policy=DEFAULTS)
    assert out.start_period == "2026-02"
    assert out.reconciliation["period"].unique().sort().to_list() == [
        "2026-02", "2026-03", "2026-04", "2026-05", "2026-06",
    ]  # fmt: skip
    assert out.unmatched.select("uscc", "amount_fen").rows() == [("NOT-IN-REGISTRY", 7)]
    assert out.unmatched.columns[:6] == [
        "source_file",
        "source_row",
        "receipt_no",
        "uscc",
        "taxpayer_name",
        "amount_fen",
    ]


def test_allocations_outside_the_registry_are_kept_apart() -> None:
    out = run([unit()], allocations=[allocation("G9", "2026-04", amount=5)])
    assert out.unmatched_allocations.select("uscc", "amount_fen").rows() == [("G9", 5)]


@pytest.mark.parametrize(
    ("units", "receipts", "period", "as_of", "message"),
    [
        ([], [], "2026-06", None, "registry is empty"),
        ([unit("U1"), unit("U1")], [], "2026-06", None, "registry: 1 duplicate key"),
        ([unit()], [], "2026-03", None, "before the start period 2026-04"),
        ([unit()], [], "2026-06", day("2026-05-31"), "before the period 2026-06 begins"),
        ([unit()], [], "2026-6", None, "YYYY-MM"),
        ([unit(union_kind="own", founded=None)], [], "2026-06", None, "no union_founded"),
        ([unit()], [receipt("U1", "2026-04") | {"receipt_no": "R"},
                    receipt("U1", "2026-05") | {"receipt_no": "R"}],
         "2026-06", None, "deduplicate"),
    ],
    ids=["empty registry", "uscc twice", "period before start", "as-of before period",
         "malformed period", "union without founding date", "receipts not deduplicated"],
)  # fmt: skip
def test_invalid_inputs_are_refused_with_a_clear_message(
    units: list[dict[str, Any]],
    receipts: list[dict[str, Any]],
    period: str,
    as_of: date | None,
    message: str,
) -> None:
    with pytest.raises(ValueError, match=message):
        run(units, receipts, period=period, as_of=as_of)
