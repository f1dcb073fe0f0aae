"""SPEC §4 rules 1, 2, 3, 6 and 7 (`dues.rules`): one case table per rule, inputs and
expected fen side by side.

Amounts are fen. Where a rule is best seen in a month's row, the case runs the whole
`reconcile` on a one-unit registry (`_frames.run`), so the table reads as "given
these receipts, the month shows this". The grid that applies the rules to every
unit and month (bases, mismatches, days past due) is tested in test_unit_months.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
import pytest
from _frames import POLICY, day, month_row, months, run, unit
from hypothesis import given
from hypothesis import strategies as st

from dues.periods import parse_period
from dues.policy import Policy, Rate
from dues.rules import (
    expected_fen,
    first_organized_month,
    organized,
    round_half_up,
    split_by_month,
    status,
    union_status,
)


def scalar(expr: pl.Expr) -> Any:
    return pl.select(expr).item()


# ---- money arithmetic ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("numerator", "denominator", "rounded"),
    [(4, 10, 0), (5, 10, 1), (15, 10, 2), (25, 10, 3), (0, 10, 0), (-4, 10, 0), (-5, 10, 0),
     (-6, 10, -1), (-15, 10, -1), (10**16 + 5000, 10_000, 10**12 + 1)],
)  # fmt: skip
def test_round_half_up_is_floor_of_x_plus_one_half(
    numerator: int, denominator: int, rounded: int
) -> None:
    assert scalar(round_half_up(pl.lit(numerator, pl.Int64), denominator)) == rounded


@pytest.mark.parametrize(
    ("wage_base_fen", "rate_bp", "expected"),
    [
        (9_377_018, 100, 93_770),  # 93,770.18 fen
        (47_250_044, 200, 945_001),  # 945,000.88
        (50, 100, 1),  # 0.5 fen rounds up
        (49, 100, 0),
        (250, 100, 3),  # 2.5 -> 3, not banker's 2
        (0, 200, 0),
    ],
)
def test_expected_is_base_times_rate_rounded_half_up(
    wage_base_fen: int, rate_bp: int, expected: int
) -> None:
    assert (
        scalar(expected_fen(pl.lit(wage_base_fen, pl.Int64), pl.lit(rate_bp, pl.Int64))) == expected
    )


# ---- rule 1: months --------------------------------------------------------------------------

# period of the record | amount | what each month gets (the last one takes the remainder)
SPLIT_CASES = [
    ("2026-04", "2026-04", 1000, [1000]),
    ("2026-04", "2026-06", 281_311, [93_770, 93_770, 93_771]),
    ("2026-04", "2026-06", 300, [100, 100, 100]),
    ("2026-04", "2026-06", -100, [-34, -34, -32]),  # floor(-100/3) = -34
    ("2026-07", "2026-08", -1, [-1, 0]),
    ("2025-11", "2026-01", 10, [3, 3, 4]),
    ("2026-01", "2026-12", 1_000_001, [83_333] * 11 + [83_338]),
]


@pytest.mark.parametrize(("first", "last", "amount", "per_month"), SPLIT_CASES)
def test_a_record_is_split_evenly_over_its_months(
    first: str, last: str, amount: int, per_month: list[int]
) -> None:
    start, end = months(first, last)
    frame = pl.DataFrame({"period_start": [start], "period_end": [end], "amount_fen": [amount]})
    split = split_by_month(frame, ["amount_fen"]).sort("month")
    assert split["amount_fen"].to_list() == per_month
    assert split["month"].to_list() == list(range(parse_period(first), parse_period(last) + 1))


@given(
    amount=st.integers(-(10**13), 10**13),
    first=st.integers(2000 * 12, 2100 * 12),
    k=st.integers(1, 12),
)
def test_month_split_conserves_every_fen(amount: int, first: int, k: int) -> None:
    from dues.periods import first_day, last_day

    frame = pl.DataFrame(
        {
            "period_start": [first_day(first)],
            "period_end": [last_day(first + k - 1)],
            "amount_fen": [amount],
        }
    )
    split = split_by_month(frame, ["amount_fen"])
    assert split.height == k
    assert split["amount_fen"].sum() == amount
    assert split["amount_fen"].min() == amount // k


def test_a_record_of_thirteen_months_is_refused() -> None:
    start, end = months("2026-01", "2027-01")
    frame = pl.DataFrame({"period_start": [start], "period_end": [end], "amount_fen": [1]})
    with pytest.raises(ValueError, match="1-12 whole months"):
        split_by_month(frame, ["amount_fen"])


# ---- rule 2: union status --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("union_kind", "founded", "period", "status_of_month"),
    [
        ("own", "2026-05-01", "2026-05", "own"),  # founded on the 1st: that month is organized
        ("own", "2026-05-02", "2026-05", "none"),  # founded on the 2nd: from the next month
        ("own", "2026-05-02", "2026-06", "own"),
        ("joint", "2026-08-01", "2026-07", "none"),
        ("joint", "2026-08-01", "2026-08", "joint"),
        ("none", None, "2026-08", "none"),
    ],
)
def test_union_status_of_a_month_follows_the_founding_date(
    union_kind: str, founded: str | None, period: str, status_of_month: str
) -> None:
    first = months(period)[0]
    got = scalar(
        union_status(
            pl.lit(union_kind), pl.lit(day(founded) if founded else None, pl.Date), pl.lit(first)
        )
    )
    assert got == status_of_month


@pytest.mark.parametrize(
    ("joint_counts", "fund", "rate_bp"),
    [(True, "dues", 100), (False, "preparatory", 200)],
)
def test_joint_coverage_counts_as_organized_unless_switched_off(
    joint_counts: bool, fund: str, rate_bp: int
) -> None:
    policy = POLICY.model_copy(update={"joint_counts_as_organized": joint_counts})
    row = month_row(run([unit(union_kind="joint")], policy=policy), "2026-04")
    assert (row["union_status"], row["fund"], row["rate_bp"]) == ("joint", fund, rate_bp)


@given(
    kind=st.sampled_from(["own", "joint", "none"]),
    founded=st.dates(date(2020, 1, 1), date(2030, 12, 31)),
    month=st.integers(2020 * 12, 2030 * 12 + 11),
    joint_counts=st.booleans(),
)
def test_first_organized_month_agrees_with_the_monthly_status(
    kind: str, founded: date, month: int, joint_counts: bool
) -> None:
    from dues.periods import first_day

    kind_, founded_ = pl.lit(kind), pl.lit(founded)
    monthly = scalar(
        organized(union_status(kind_, founded_, pl.lit(first_day(month))), joint_counts)
    )
    first = scalar(first_organized_month(kind_, founded_, joint_counts))
    assert monthly == (first is not None and first <= month)


# ---- rule 3: dated rates ---------------------------------------------------------------------


def _rates(*tax_organized: tuple[str, int]) -> Policy:
    fixed = [
        Rate(
            channel="tax",
            status="none",
            fund="preparatory",
            rate_bp=200,
            effective_from=day("2000-01-01"),
        ),
        Rate(
            channel="fiscal",
            status="none",
            fund="dues",
            rate_bp=200,
            effective_from=day("2000-01-01"),
        ),
        Rate(
            channel="fiscal",
            status="organized",
            fund="dues",
            rate_bp=200,
            effective_from=day("2000-01-01"),
        ),
    ]
    dated = [
        Rate(channel="tax", status="organized", fund="dues", rate_bp=bp, effective_from=day(since))
        for since, bp in tax_organized
    ]
    return POLICY.model_copy(update={"rates": tuple(fixed + dated), "start_period": "2026-05"})


@pytest.mark.parametrize(
    ("period", "rate_bp"),
    [
        ("2026-05", 100),  # only the 2000 row is in force
        ("2026-06", 150),  # effective 2026-06-01: in force on the first day
        ("2026-07", 150),  # effective 2026-07-02 is after 1 July
        ("2026-08", 120),
    ],
)
def test_the_latest_rate_in_force_on_the_first_day_applies(period: str, rate_bp: int) -> None:
    policy = _rates(("2000-01-01", 100), ("2026-06-01", 150), ("2026-07-02", 120))
    out = run([unit(monthly_payroll_fen=100_000)], period="2026-08", policy=policy)
    row = month_row(out, period)
    assert (row["rate_bp"], row["expected_fen"]) == (rate_bp, 100_000 * rate_bp // 10_000)


def test_a_month_without_a_rate_in_force_is_an_error() -> None:
    with pytest.raises(ValueError, match="no rate in force for tax/organized in 2026-05"):
        run([unit()], policy=_rates(("2026-07-01", 100)))


# ---- rule 6: due dates -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frequency", "period", "due"),
    [
        ("monthly", "2026-07", "2026-08-15"),
        ("monthly", "2026-12", "2027-01-15"),
        ("quarterly", "2026-01", "2026-04-15"),
        ("quarterly", "2026-07", "2026-10-15"),  # Q3 months are all due on 15 October
        ("quarterly", "2026-08", "2026-10-15"),
        ("quarterly", "2026-09", "2026-10-15"),
        ("quarterly", "2026-12", "2027-01-15"),
    ],
)
def test_due_date_of_a_month(frequency: str, period: str, due: str) -> None:
    policy = POLICY.model_copy(update={"start_period": "2026-01"})
    out = run([unit(filing_frequency=frequency)], period="2026-12", policy=policy)
    assert month_row(out, period)["due_date"] == day(due)


# ---- rule 7: status --------------------------------------------------------------------------

AS_OF = day("2026-10-31")


@pytest.mark.parametrize(
    ("due", "records", "variance", "tolerance", "expected"),
    [
        ("2026-11-15", 1, 0, 1, "not_due"),  # paid or not, a month not yet due is not judged
        ("2026-10-31", 0, -500, 1, "not_filed"),
        ("2026-10-15", 1, 0, 1, "matched"),
        ("2026-10-15", 1, -1, 1, "matched"),
        ("2026-10-15", 1, 1, 1, "matched"),
        ("2026-10-15", 1, -2, 1, "underpaid"),
        ("2026-10-15", 1, 2, 1, "overpaid"),
        ("2026-10-15", 1, -1, 0, "underpaid"),
        ("2026-10-15", 2, -5000, 1, "underpaid"),  # a filed refund is not "not filed"
    ],
)
def test_status_of_a_unit_month(
    due: str, records: int, variance: int, tolerance: int, expected: str
) -> None:
    got = scalar(status(pl.lit(day(due)), AS_OF, pl.lit(records), pl.lit(variance), tolerance))
    assert got == expected
