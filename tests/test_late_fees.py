"""SPEC §4 rule 12 (`dues.late_fees`): late fees (滞纳金) accrued and collected.

Amounts are fen. The case table is one unit-month of July 2026 owing 100,000 fen
(1,000 yuan), due 15 August (monthly) or 15 October (quarterly), at 5 bp
(0.05 %) a day, as of 31 October unless a case says otherwise. Each case gives
the arithmetic of its fee: outstanding fen × days × 5 / 10000, rounded half up.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from _frames import POLICY, day, month_row, receipt, run, unit
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from typer.testing import CliRunner

from dues.cli import app
from dues.late_fees import accrued_fen, payment_shares
from dues.periods import parse_period
from dues.rules import month_calendar

JULY = parse_period("2026-07")
FEES_ON = POLICY.model_copy(update={"late_fee_bp_per_day": 5})


def due(filing: str, month: int = JULY) -> date:
    """Rule 6's due date of `month`, from the rule itself."""
    calendar = month_calendar(month, month, due_day=15).row(0, named=True)
    return calendar["due_quarterly" if filing == "quarterly" else "due_monthly"]


def accrue(
    payments: list[tuple[int, str | None]],
    *,
    filing: str = "monthly",
    grace: int = 0,
    expected: int = 100_000,
    as_of: str = "2026-10-31",
) -> int:
    months = pl.DataFrame(
        {"uscc": ["U1"], "month": [JULY], "due_date": [due(filing)], "expected_fen": [expected]},
        schema_overrides={"month": pl.Int32},
    )
    paid = pl.DataFrame(
        {
            "uscc": ["U1"] * len(payments),
            "month": [JULY] * len(payments),
            "paid_date": [day(p) if p else None for _, p in payments],
            "amount_fen": [a for a, _ in payments],
        },
        schema={"uscc": pl.String, "month": pl.Int32, "paid_date": pl.Date, "amount_fen": pl.Int64},
    )
    got = accrued_fen(months, paid, day(as_of), bp_per_day=5, grace_days=grace)
    assert got.height <= 1
    return int(got["accrued_fen"][0]) if got.height else 0


@pytest.mark.parametrize(
    ("payments", "options", "accrued"),
    [
        # paid on time, or on the due date itself: nothing accrues
        ([(100_000, "2026-08-10")], {}, 0),
        ([(100_000, "2026-08-15")], {}, 0),
        # paid late in full on 14 Sep: 100,000 × 29 days (16 Aug … 13 Sep) × 5 / 10000
        ([(100_000, "2026-09-14")], {}, 1_450),
        # more than owed, late: the outstanding amount never goes below 0
        ([(150_000, "2026-09-14")], {}, 1_450),
        # in two parts, 40,000 of it late: 40,000 × 29 × 5 / 10000
        ([(60_000, "2026-08-10"), (40_000, "2026-09-14")], {}, 580),
        # never paid: 100,000 × 77 days (16 Aug … 31 Oct) × 5 / 10000
        ([], {}, 3_850),
        # paid after the as-of date: as never paid, as of 31 Oct
        ([(100_000, "2026-11-05")], {}, 3_850),
        # paid on time, 30,000 refunded on 30 Sep: 30,000 × 32 days (30 Sep … 31 Oct)
        ([(100_000, "2026-08-10"), (-30_000, "2026-09-30")], {}, 480),
        # quarterly filer: July is due 15 Oct; never paid: 100,000 × 16 days (16 … 31 Oct)
        ([], {"filing": "quarterly"}, 800),
        # quarterly filer paying on 20 Sep is on time; a monthly filer owes 100,000 × 35 days
        ([(100_000, "2026-09-20")], {"filing": "quarterly"}, 0),
        ([(100_000, "2026-09-20")], {}, 1_750),
        # 3 grace days: the fee starts 19 Aug; paid 14 Sep: 100,000 × 26 days × 5 / 10000
        ([(100_000, "2026-09-14")], {"grace": 3}, 1_300),
        # paid within the grace days: nothing
        ([(100_000, "2026-08-18")], {"grace": 3}, 0),
        # no paid date: counted as paid on the due date, nothing accrues on it
        ([(100_000, None)], {}, 0),
        # 60,000 without a paid date, the rest never: 40,000 × 77 × 5 / 10000
        ([(60_000, None)], {}, 1_540),
        # not yet past due on the as-of date: nothing
        ([], {"as_of": "2026-08-15"}, 0),
        # half a fen rounds up: 1,000 × 1 day (16 Aug) × 5 / 10000 = 0.5
        ([], {"expected": 1_000, "as_of": "2026-08-16"}, 1),
        # under half a fen rounds down: 999 × 1 × 5 / 10000 = 0.4995
        ([], {"expected": 999, "as_of": "2026-08-16"}, 0),
    ],
)  # fmt: skip
def test_accrued_late_fee_of_a_unit_month(
    payments: list[tuple[int, str | None]], options: dict[str, Any], accrued: int
) -> None:
    assert accrue(payments, **options) == accrued


def test_no_fee_accrues_when_late_fees_are_off() -> None:
    months = pl.DataFrame(
        {"uscc": ["U1"], "month": [JULY], "due_date": [due("monthly")], "expected_fen": [100]},
        schema_overrides={"month": pl.Int32},
    )
    paid = pl.DataFrame(
        schema={"uscc": pl.String, "month": pl.Int32, "paid_date": pl.Date, "amount_fen": pl.Int64}
    )
    assert accrued_fen(months, paid, date(2027, 1, 1), bp_per_day=0, grace_days=0).is_empty()


# ---- the interval computation against a day-by-day oracle ------------------------------


def naive_accrued(
    expected: int,
    due_date: date,
    payments: list[tuple[int, date | None]],
    as_of: date,
    bp: int,
    grace: int,
) -> int:
    """SPEC rule 12 read literally: every day from D + 1 + grace to A, one at a time."""
    total = 0
    d = due_date + timedelta(days=1 + grace)
    while d <= as_of:
        paid = sum(a for a, p in payments if (p or due_date) <= d)
        total += max(0, expected - paid)
        d += timedelta(days=1)
    return (2 * total * bp + 10_000) // 20_000


_payment = st.tuples(
    st.integers(-50_000, 150_000),
    st.one_of(st.none(), st.dates(date(2026, 5, 1), date(2027, 3, 31))),
)
_month = st.tuples(
    st.sampled_from(["A", "B"]),
    st.integers(JULY - 3, JULY + 2),
    st.integers(1, 10**12),
    st.lists(_payment, max_size=6),
)


@settings(max_examples=200, deadline=None)
@given(
    months=st.lists(_month, min_size=1, max_size=4, unique_by=lambda m: (m[0], m[1])),
    as_of=st.dates(date(2026, 6, 1), date(2027, 6, 30)),
    bp=st.integers(1, 100),
    grace=st.integers(0, 40),
    quarterly=st.booleans(),
)
def test_the_interval_sum_equals_the_day_by_day_sum(
    months: list[tuple[str, int, int, list[tuple[int, date | None]]]],
    as_of: date,
    bp: int,
    grace: int,
    quarterly: bool,
) -> None:
    filing = "quarterly" if quarterly else "monthly"
    frame = pl.DataFrame(
        [(u, m, due(filing, m), e) for u, m, e, _ in months],
        schema={
            "uscc": pl.String,
            "month": pl.Int32,
            "due_date": pl.Date,
            "expected_fen": pl.Int64,
        },
        orient="row",
    )
    paid = pl.DataFrame(
        [(u, m, p, a) for u, m, _, ps in months for a, p in ps],
        schema={"uscc": pl.String, "month": pl.Int32, "paid_date": pl.Date, "amount_fen": pl.Int64},
        orient="row",
    )
    got = accrued_fen(frame, paid, as_of, bp, grace)
    got_by_month = {(r["uscc"], r["month"]): r["accrued_fen"] for r in got.iter_rows(named=True)}
    for u, m, e, ps in months:
        want = naive_accrued(e, due(filing, m), ps, as_of, bp, grace)
        assert got_by_month.get((u, m), 0) == want


# ---- through reconcile: the rule 1 shares, collected fees, and what late fees are not --


def late_fee_line(uscc: str, first: str, amount: int, paid: str | None = None) -> dict[str, Any]:
    line = receipt(uscc, first, wage=1_000_000, amount=amount, item="late_fee")
    return line | {"item_code": "399001910", "rate_bp": 5, "paid_date": day(paid) if paid else None}


def paid_on(line: dict[str, Any], paid: str | None) -> dict[str, Any]:
    return line | {"paid_date": day(paid) if paid else None}


def test_late_fee_lines_are_never_dues_paid_nor_base_nor_a_filed_month() -> None:
    units = [unit("U1"), unit("U2")]
    lines = [
        receipt("U1", "2026-05", wage=10_000_000, amount=100_000),
        late_fee_line("U1", "2026-05", 1_400),
        late_fee_line("U2", "2026-05", 500),
    ]
    with_fee = run(units, lines)
    without = run(units, lines[:1])
    assert with_fee.reconciliation.equals(without.reconciliation)
    assert month_row(with_fee, "2026-05", "U2")["status"] == "not_filed"
    assert month_row(with_fee, "2026-05")["paid_fen"] == 100_000


def test_a_late_fee_line_for_an_old_month_does_not_move_the_start_period() -> None:
    no_start = POLICY.model_copy(update={"start_period": None})
    lines = [
        receipt("U1", "2026-05", wage=10_000_000, amount=100_000),
        late_fee_line("U1", "2025-01", 300),
    ]
    out = run([unit("U1")], lines, policy=no_start)
    assert out.start_period == "2026-05"
    assert out.late_fees["collected_fen"].to_list() == [300]


def test_the_late_fee_ledger_per_unit() -> None:
    """U1 pays May late (due 15 Jun, paid 14 Jul: 100,000 × 28 days × 5 / 10000 = 1,400)
    and June on time, and pays a 1,400 fen late fee; U2 files quarterly: one line for
    April-June paid 20 Jul, each month due 15 Jul (3 × 100,000 × 4 days × 5 / 10000 =
    600); U3 pays only a late fee; U9 is not in the registry."""
    units = [unit("U1"), unit("U2", filing_frequency="quarterly"), unit("U3")]
    lines = [
        paid_on(receipt("U1", "2026-05", wage=10_000_000, amount=100_000), "2026-07-14"),
        paid_on(receipt("U1", "2026-06", wage=10_000_000, amount=100_000), "2026-07-10"),
        late_fee_line("U1", "2026-05", 1_400, "2026-07-14"),
        paid_on(receipt("U2", "2026-04", "2026-06", wage=30_000_000, amount=300_000), "2026-07-20"),
        late_fee_line("U3", "2026-06", 250),
        late_fee_line("U9", "2026-06", 999),
    ]
    out = run(units, lines, period="2026-06", policy=FEES_ON, as_of=date(2026, 7, 31))
    got = out.late_fees.select("uscc", "accrued_fen", "collected_fen", "balance_fen").rows()
    assert got == [("U1", 1_400, 1_400, 0), ("U2", 600, 0, 600), ("U3", 0, 250, -250)]
    assert out.late_fees["name"].to_list() == ["单位U1", "单位U2", "单位U3"]
    assert out.unmatched["amount_fen"].to_list() == [999]  # U9's fee: an unmatched receipt
    assert out.late_fee_undated_lines == 0

    off = run(units, lines, period="2026-06", as_of=date(2026, 7, 31))
    assert off.late_fees.select("uscc", "accrued_fen", "collected_fen").rows() == [
        ("U1", 0, 1_400),
        ("U3", 0, 250),
    ]


def test_lines_without_a_paid_date_are_counted_and_accrue_nothing() -> None:
    lines = [paid_on(receipt("U1", "2026-05", wage=10_000_000, amount=100_000), None)]
    out = run([unit("U1")], lines, period="2026-05", policy=FEES_ON, as_of=date(2026, 7, 31))
    assert out.late_fees.is_empty() and out.late_fee_undated_lines == 1


def test_payment_shares_split_a_line_as_rule_1_does() -> None:
    line = paid_on(receipt("U1", "2026-04", "2026-06", amount=100_001), "2026-07-20")
    shares = payment_shares(pl.DataFrame([line]))
    assert shares["amount_fen"].to_list() == [33_333, 33_333, 33_335]
    assert set(shares["paid_date"].to_list()) == {date(2026, 7, 20)}


# ---- end to end: `dues run` on a small hand-written county -----------------------------

FIXTURE = Path(__file__).parent / "fixtures" / "late_fees"
A, B, C = "91330100MA2LF0010H", "91330100MA2LF0020J", "91330100MA2LF0030K"


def dues_run(tmp_path: Path, policy: str | None) -> Path:
    out = tmp_path / "out"
    argv = ["run", "--period", "2026-09", "--registry", str(FIXTURE / "registry.csv"),
            "--collections", str(FIXTURE / "collections_2026-09.csv"), "--out", str(out),
            "--db", f"sqlite:///{tmp_path / 'ledger.db'}"]  # fmt: skip
    if policy is not None:
        argv += ["--config", str(FIXTURE / policy)]
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 0, result.output
    return out / "2026-09"


# Per unit (accrued, collected), as of 30 Sep 2026, at 5 bp a day. See README "Late fees".
# A: July 100,000 paid 25 Aug, due 15 Aug: 100,000 × 9 days = 450; August 40,000 of
#    100,000 paid 20 Sep, due 15 Sep: 40,000 × 4 days = 80; a 4.50 yuan late fee paid.
# B (quarterly): April-June paid 20 Jul, due 15 Jul: 3 × 100,000 × 4 days = 600.
# C: July has no paid date (no fee); August not filed, its base estimated from July's,
#    50,000 × 15 days (16-30 Sep) = 375; a 1.00 yuan late fee (for March) paid.
# With 3 grace days: A 100,000 × 6 + 40,000 × 1 -> 320; B 3 × 100,000 × 1 -> 150;
#    C 50,000 × 12 -> 300.
@pytest.mark.parametrize(
    ("policy", "ledger"),
    [
        ("policy_bp5.toml", {A: (530, 450), B: (600, 0), C: (375, 100)}),
        ("policy_bp5_grace3.toml", {A: (320, 450), B: (150, 0), C: (300, 100)}),
        (None, {A: (0, 450), C: (0, 100)}),
    ],
)
def test_dues_run_writes_the_late_fee_ledger(
    tmp_path: Path, policy: str | None, ledger: dict[str, tuple[int, int]]
) -> None:
    folder = dues_run(tmp_path, policy)
    fees = pl.read_parquet(folder / "late_fees.parquet")
    assert fees.columns == [
        "uscc", "name", "jurisdiction", "accrued_fen", "collected_fen", "balance_fen",
    ]  # fmt: skip
    got = {r[0]: (r[3], r[4]) for r in fees.rows()}
    assert got == ledger
    assert fees["balance_fen"].to_list() == [a - c for a, c in ledger.values()]

    totals = json.loads((folder / "run.json").read_text(encoding="utf-8"))["totals"]
    accrued = sum(a for a, _ in ledger.values())
    assert totals["late_fee_accrued_fen"] == accrued
    assert totals["late_fee_collected_fen"] == 550
    assert totals["late_fee_balance_fen"] == accrued - 550
    assert totals["late_fee_undated_lines"] == (0 if policy is None else 1)
    # Late-fee lines are no dues: A's July is paid exactly, its base without the fee line's.
    recon = pl.read_parquet(folder / "reconciliation.parquet")
    july = recon.filter(pl.col("uscc") == A, pl.col("period") == "2026-07").row(0, named=True)
    assert (july["wage_base_fen"], july["paid_fen"], july["status"]) == (
        10_000_000,
        100_000,
        "matched",
    )
    assert recon["period"].min() == "2026-04"  # C's fee for March is no reconciled month
    # 丁公司's fee: an unmatched receipt like any other.
    unmatched = pl.read_parquet(folder / "unmatched.parquet")
    assert unmatched.select("receipt_no", "amount_fen").rows() == [("LF0008", 200)]

    sheet = load_workbook(folder / "report.xlsx")["滞纳金台账"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][3:] == ("应计滞纳金(元)", "已缴滞纳金(元)", "滞纳金余额(元)")
    # The data rows, up to the blank row above the sheet's total.
    data = rows[1 : next((i for i, r in enumerate(rows) if not any(r)), len(rows))]
    assert [r[0] for r in data] == list(ledger)
    assert rows[1][4] == 4.5  # A's collected fee in yuan


def test_dues_rerun_derives_the_same_late_fee_ledger(tmp_path: Path) -> None:
    folder = dues_run(tmp_path, "policy_bp5.toml")
    first = pl.read_parquet(folder / "late_fees.parquet")
    again = CliRunner().invoke(
        app,
        ["rerun", "--from", "2026-09", "--out", str(tmp_path / "out"),
         "--db", f"sqlite:///{tmp_path / 'ledger.db'}"],
    )  # fmt: skip
    assert again.exit_code == 0, again.output
    assert pl.read_parquet(folder / "late_fees.parquet").equals(first)
    assert first["accrued_fen"].sum() == 1_505
