"""SPEC §4, rule by rule: one case table per rule, inputs and expected fen side by side.

Amounts are fen. Most cases run the whole `reconcile` on a one- or two-unit
registry, so each table reads as "given these receipts, the month shows this".
"""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dues.arrears import arrears
from dues.drive import founding_drive
from dues.periods import parse_period
from dues.policy import DEFAULT_POLICY_PATH, Policy, Rate, load_policy
from dues.reconcile import Outputs, reconcile
from dues.rules import (
    expected_fen,
    first_organized_month,
    organized,
    round_half_up,
    split_by_month,
    status,
    union_status,
)

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


# ---- rule 5 and 6: paid, due dates -----------------------------------------------------------


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


def test_a_late_payment_settles_its_old_month() -> None:
    payer = unit(monthly_payroll_fen=100_000)
    may = receipt("U1", "2026-05", wage=100_000, amount=1000)
    late = receipt("U1", "2026-04", wage=100_000, amount=1000) | {"paid_date": day("2026-06-20")}
    before, after = run([payer], [may]), run([payer], [may, late])
    assert month_row(before, "2026-04")["status"] == "not_filed"
    assert before.arrears["arrears_fen"].to_list() == [1000]
    assert month_row(after, "2026-04")["status"] == "matched"
    assert after.arrears.is_empty()


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


# ---- rule 9: founding drive ------------------------------------------------------------------

# unit type | union kind | employees | tier (None: not visited)
DRIVE_CASES = [
    ("enterprise", "none", 3, 3),
    ("enterprise", "none", 9, 3),
    ("enterprise", "none", 10, 2),
    ("enterprise", "none", 24, 2),
    ("enterprise", "none", 25, 1),
    ("social_org", "none", 400, 1),
    ("enterprise_institution", "none", 30, 1),  # tax channel
    ("enterprise", "joint", 25, 1),  # big enough to found its own
    ("enterprise", "joint", 24, None),
    ("enterprise", "own", 400, None),
    ("government_organ", "none", 100, None),  # fiscal channel: not a drive target
    ("public_institution", "none", 100, None),
]


@pytest.mark.parametrize(("unit_type", "union_kind", "employees", "tier"), DRIVE_CASES)
def test_founding_drive_targets_and_tiers(
    unit_type: str, union_kind: str, employees: int, tier: int | None
) -> None:
    founded = None if union_kind == "none" else "2015-01-01"
    out = run(
        [unit(unit_type=unit_type, union_kind=union_kind, employees=employees, founded=founded)]
    )
    assert out.founding_drive["tier"].to_list() == ([] if tier is None else [tier])


def test_a_unit_founding_later_is_judged_on_the_registry_as_it_stands() -> None:
    out = run([unit(union_kind="own", founded="2027-01-01", employees=40)])
    assert out.founding_drive.is_empty()
    assert month_row(out, "2026-06")["union_status"] == "none"


def test_founding_drive_row_carries_prep_paid_in_the_last_12_months_and_arrears() -> None:
    registry = pl.DataFrame(
        [unit(union_kind="none", founded=None, employees=12)], schema=REGISTRY_SCHEMA
    )
    reconciliation = pl.DataFrame(
        {
            "uscc": ["U1"] * 3,
            "period": ["2025-06", "2025-07", "2026-06"],
            "paid_prep_fen": [500, 300, 200],
        }
    )
    owed = pl.DataFrame({"uscc": ["U1"], "arrears_fen": [900]})
    row = founding_drive(registry, reconciliation, owed, DEFAULTS, parse_period("2026-06")).row(
        0, named=True
    )
    assert row == {
        "uscc": "U1", "name": "单位U1", "jurisdiction": "东镇工会", "employees": 12,
        "union_kind": "none", "tier": 2, "prep_paid_12m_fen": 500, "arrears_fen": 900,
    }  # fmt: skip


# ---- rule 10: preparatory-fund return ------------------------------------------------------

JAN_TO_MAY = ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05"]
PREP_100 = [(m, "preparatory", 100) for m in JAN_TO_MAY]

# union kind, founded | money by month | policy changes | returnable (None: not listed)
RETURN_CASES = [
    ("founded 10 May: first organized month June, Jan-May returned",
     "own", "2026-05-10", PREP_100, {}, 500),
    ("founded 1 May: May is organized, Jan-Apr returned",
     "own", "2026-05-01", PREP_100, {}, 400),
    ("organized from the first reconciled month: no none month before it",
     "own", "2026-01-01", PREP_100, {}, None),
    ("organized before the start period",
     "own", "2025-12-01", PREP_100, {}, None),
    ("founds after the run period: not yet",
     "own", "2026-08-01", PREP_100, {}, None),
    ("no union", "none", None, PREP_100, {}, None),
    ("joint coverage is founding", "joint", "2026-04-01", PREP_100, {}, 300),
    ("joint coverage with the switch off is not",
     "joint", "2026-04-01", PREP_100, {"joint_counts_as_organized": False}, None),
    ("dues paid before founding are not returned",
     "own", "2026-05-10", [*PREP_100, ("2026-02", "dues", 100)], {}, 500),
    ("a refund reduces what is returned",
     "own", "2026-05-10", [*PREP_100, ("2026-03", "preparatory", -100)], {}, 400),
    ("preparatory fund paid after founding is not returned",
     "own", "2026-03-01", [("2026-01", "preparatory", 100), ("2026-04", "preparatory", 100)], {},
     100),
    ("look-back of 3 months: March-May",
     "own", "2026-05-10", PREP_100, {"lookback_months": 3}, 300),
    ("half returned, rounded half up: 101 -> 51",
     "own", "2026-05-10", [("2026-01", "preparatory", 101)], {"return_ratio_bp": 5000}, 51),
    ("nothing paid: left out", "own", "2026-05-10", [], {}, None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("union_kind", "founded", "money", "changes", "returnable"),
    [case[1:] for case in RETURN_CASES],
    ids=[case[0] for case in RETURN_CASES],
)
def test_preparatory_fund_returned_on_founding(
    union_kind: str,
    founded: str | None,
    money: list[tuple[str, str, int]],
    changes: dict[str, Any],
    returnable: int | None,
) -> None:
    policy = POLICY.model_copy(update={"start_period": "2026-01", **changes})
    receipts = [receipt("U1", m, amount=a, item=item) for m, item, a in money]
    out = run([unit(union_kind=union_kind, founded=founded)], receipts, policy=policy)
    assert out.prep_returns["returnable_fen"].to_list() == (
        [] if returnable is None else [returnable]
    )
    if returnable is not None:
        assert out.prep_returns.row(0, named=True)["union_founded"] == day(str(founded))


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
