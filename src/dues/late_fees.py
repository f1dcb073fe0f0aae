"""SPEC §4 rule 12: late fees (滞纳金), accrued per unit-month and collected per unit.

Policy `late_fee_bp_per_day` (0 = off) and `late_fee_grace_days`. For a tax-channel
unit-month with expected E > 0 and due date D, the amount outstanding on day d is
O(d) = max(0, E − Σ of its dues / preparatory month shares (rule 1) paid on or before
d); as of A the month accrues round_half_up(Σ_{d = D+1+grace … A} O(d) × bp / 10000).

O is a step function that changes only on paid dates, so the sum is taken over the
intervals between them (outstanding × days), never day by day: a province's millions
of unit-months stay millions of rows, not billions of days. A share without a paid
date counts as paid on its month's due date (no fee accrues on it). Fen-days can
pass Int64 (10^14 fen × 36,500 days × 100 bp): they are summed in Int128, and only
the rounded fee comes back to Int64.

Collected late fee = Σ of the unit's accepted `late_fee` receipt lines, whatever their
period: the stored unit-month sums keep them (`unit_months.unit_month_sums`,
`late_fee_fen`), so with late fees off nothing but those sums is read.

Where the SPEC leaves room, these readings are taken:

* Fees accrue on the reconciled unit-months (start period … run period), with the
  expected and due date of the reconciliation, estimated bases included.
* A unit is listed when its accrued or collected fee is not 0; units outside the
  registry are not (their late-fee lines are unmatched receipts, like any receipt).
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from dues.periods import period_index
from dues.rules import LATE_FEE_ITEM, round_half_up, split_by_month

LATE_FEE_COLUMNS = ("uscc", "name", "jurisdiction", "accrued_fen", "collected_fen", "balance_fen")
# What the accrual needs of a receipt line, and no more (read only when fees are on).
PAID_LINE_COLUMNS = ("uscc", "item", "period_start", "period_end", "amount_fen", "paid_date")


def payment_shares(lines: pl.DataFrame) -> pl.DataFrame:
    """Rule 1 month shares of the dues and preparatory lines, each with its paid date.

    Columns uscc, month, paid_date (null where the line has none), amount_fen.
    Late-fee lines pay no dues and are left out.
    """
    dues = lines.filter(pl.col("item") != LATE_FEE_ITEM).select(
        "uscc", "period_start", "period_end", "amount_fen", "paid_date"
    )
    return split_by_month(dues, ["amount_fen"]).select("uscc", "month", "paid_date", "amount_fen")


def accrued_fen(
    months: pl.DataFrame,
    payments: pl.DataFrame,
    as_of: date,
    bp_per_day: int,
    grace_days: int,
) -> pl.DataFrame:
    """Rule 12's accrued late fee per unit-month, by intervals between paid dates.

    `months`: uscc, month, due_date, expected_fen — the unit-months fees accrue on
    (tax channel, expected > 0; one row each). `payments`: uscc, month, paid_date,
    amount_fen (`payment_shares`). Returns uscc, month, accrued_fen for every month
    whose fee window (D + 1 + grace … as_of) is not empty, sorted.
    """
    if bp_per_day == 0:
        return pl.DataFrame(
            schema=pl.Schema(
                {"uscc": pl.String(), "month": months.schema["month"], "accrued_fen": pl.Int64()}
            )
        )
    key = ["uscc", "month"]
    window = months.select(
        *key, "due_date", "expected_fen", first=pl.col("due_date") + timedelta(days=1 + grace_days)
    ).filter(pl.col("first") <= as_of, pl.col("expected_fen") > 0)
    paid = (
        payments.join(window.select(*key, "due_date", "first"), on=key, how="inner")
        .with_columns(day=pl.coalesce("paid_date", "due_date"))
        .filter(pl.col("day") <= as_of)
        # Paid before the window opens: already paid on its first day.
        .select(*key, day=pl.max_horizontal("day", "first"), amount_fen="amount_fen")
    )
    # Every window starts with an interval, paid on or not.
    opening = window.select(*key, day="first", amount_fen=pl.lit(0, pl.Int64))
    intervals = (
        pl.concat([opening, paid])
        .group_by(*key, "day")
        .agg(pl.col("amount_fen").sum())
        .sort(*key, "day")
        .with_columns(
            paid_fen=pl.col("amount_fen").cum_sum().over(key),
            until=pl.col("day").shift(-1).over(key).fill_null(as_of + timedelta(days=1)),
        )
        .join(window.select(*key, "expected_fen"), on=key, how="left")
        .with_columns(
            outstanding=pl.max_horizontal(pl.col("expected_fen") - pl.col("paid_fen"), 0),
            days=(pl.col("until") - pl.col("day")).dt.total_days(),
        )
    )
    return (
        intervals.group_by(key)
        .agg(fen_days=(pl.col("outstanding").cast(pl.Int128) * pl.col("days")).sum())
        .select(
            *key,
            accrued_fen=round_half_up(pl.col("fen_days") * bp_per_day, 10_000).cast(pl.Int64),
        )
        .sort(key)
    )


def collected_fen(sums: pl.DataFrame) -> pl.DataFrame:
    """Per unit: Σ late_fee_fen of the unit-month sums (every month, every run). uscc,
    collected_fen; units whose late-fee lines net to 0 are left out."""
    return (
        sums.filter(pl.col("late_fee_fen") != 0)
        .group_by("uscc")
        .agg(collected_fen=pl.col("late_fee_fen").sum())
        .filter(pl.col("collected_fen") != 0)
    )


def accrual_months(reconciliation: pl.DataFrame) -> pl.DataFrame:
    """The reconciled unit-months late fees accrue on: tax channel, expected > 0.

    uscc, month (from `period`), due_date, expected_fen.
    """
    return reconciliation.filter(pl.col("channel") == "tax", pl.col("expected_fen") > 0).select(
        "uscc",
        month=period_index(pl.col("period")),
        due_date="due_date",
        expected_fen="expected_fen",
    )


def undated_lines(lines: pl.DataFrame, registry: pl.DataFrame) -> int:
    """How many dues / preparatory lines of registry units have no paid date: the lines
    the accrual counts as paid on their months' due dates."""
    return (
        lines.filter(pl.col("item") != LATE_FEE_ITEM, pl.col("paid_date").is_null())
        .join(registry.select("uscc"), on="uscc", how="semi")
        .height
    )


def late_fees(
    registry: pl.DataFrame,
    reconciliation: pl.DataFrame,
    sums: pl.DataFrame,
    paid_lines: pl.DataFrame | None,
    as_of: date,
    bp_per_day: int,
    grace_days: int,
) -> pl.DataFrame:
    """late_fees.parquet: per registry unit with accrued or collected ≠ 0, sorted by uscc.

    `sums` are the unit-month sums of every record the period sees; `paid_lines` the
    lines themselves (PAID_LINE_COLUMNS), needed only when bp_per_day > 0.
    """
    units = registry.select("uscc", "name", "jurisdiction")
    collected = collected_fen(sums)
    if bp_per_day > 0:
        if paid_lines is None:
            raise ValueError("late fees are on: the accrual needs the receipt lines' paid dates")
        accrued = (
            accrued_fen(
                accrual_months(reconciliation),
                payment_shares(paid_lines.join(units, on="uscc", how="semi")),
                as_of,
                bp_per_day,
                grace_days,
            )
            .group_by("uscc")
            .agg(pl.col("accrued_fen").sum())
        )
    else:
        accrued = pl.DataFrame(schema={"uscc": pl.String, "accrued_fen": pl.Int64})
    return (
        accrued.join(collected, on="uscc", how="full", coalesce=True)
        # Only registry units: the others' late-fee lines are unmatched receipts.
        .join(units, on="uscc", how="inner")
        .with_columns(pl.col("accrued_fen", "collected_fen").fill_null(0))
        .filter((pl.col("accrued_fen") != 0) | (pl.col("collected_fen") != 0))
        .with_columns(balance_fen=pl.col("accrued_fen") - pl.col("collected_fen"))
        .sort("uscc")
        .select(LATE_FEE_COLUMNS)
    )
