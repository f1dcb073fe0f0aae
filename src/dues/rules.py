"""SPEC §4 rules 1-7 and 13, one function per rule: polars expressions and small frames.

Each function is named for what it returns and never reads a file or the clock.
Months are Int32 month indexes (`dues.periods`); money is Int64 fen. The grid of
units × months that applies them is built in `dues.unit_months`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl

from dues.periods import MONTH_DTYPE, first_day_expr, format_period, month_index, period_text
from dues.policy import LEVELS

FISCAL_UNIT_TYPES = ("government_organ", "public_institution")
# Receipt lines of this item are no dues (rule 5): they count in the late-fee ledger only.
LATE_FEE_ITEM = "late_fee"


def round_half_up(numerator: pl.Expr, denominator: int) -> pl.Expr:
    """floor(numerator / denominator + 1/2), exactly, in Int64 arithmetic.

    Written as (2n + d) // 2d: polars' integer `//` floors toward minus infinity, so
    the identity holds for negative numerators too, where a half goes up toward
    +infinity (-2.5 -> -2). Expected values have bases >= 0, where this is the
    finance office's 四舍五入; floats are never involved.
    """
    if denominator <= 0:
        raise ValueError("round_half_up needs a positive denominator")
    return (numerator * 2 + denominator) // (2 * denominator)


def expected_fen(wage_base_fen: pl.Expr, rate_bp: pl.Expr) -> pl.Expr:
    """Rule §4 head: round_half_up(base × rate_bp / 10000)."""
    return round_half_up(wage_base_fen * rate_bp, 10_000)


def channel(unit_type: pl.Expr) -> pl.Expr:
    """'fiscal' for organs and budget-funded institutions, 'tax' for every other unit type."""
    return (
        pl.when(unit_type.is_in(FISCAL_UNIT_TYPES)).then(pl.lit("fiscal")).otherwise(pl.lit("tax"))
    )


def split_by_month(records: pl.DataFrame, values: Sequence[str]) -> pl.DataFrame:
    """Rule 1: one row per record and month of its period, with `month` (Int32) added.

    Each of `values` is split evenly in fen: every month gets floor(x / k) (toward
    minus infinity, so refunds split like payments), the last month also the
    remainder, which keeps every fen. period_start / period_end are kept.
    """
    first = month_index(pl.col("period_start"))
    last = month_index(pl.col("period_end"))
    with_span = records.with_columns(_first=first, _k=(last - first + 1).cast(pl.Int64))
    bad = with_span.filter(~pl.col("_k").is_between(1, 12) | pl.col("_k").is_null())
    if bad.height:
        raise ValueError(f"{bad.height} record(s) with a period that is not 1-12 whole months")
    # Most records cover one month: only the others pay for the explode.
    single = with_span.filter(pl.col("_k") == 1).with_columns(month=pl.col("_first"))
    multi = with_span.filter(pl.col("_k") > 1)
    exploded = multi.with_columns(
        month=pl.int_ranges("_first", pl.col("_first") + pl.col("_k"), dtype=MONTH_DTYPE)
    ).explode("month")
    is_last = pl.col("month") == pl.col("_first") + pl.col("_k") - 1
    shares = []
    for name in values:
        share = pl.col(name) // pl.col("_k")
        remainder = pl.col(name) - share * pl.col("_k")
        shares.append((share + pl.when(is_last).then(remainder).otherwise(0)).alias(name))
    return pl.concat([single, exploded.with_columns(shares)]).drop("_first", "_k")


def record_months(receipts: pl.DataFrame, allocations: pl.DataFrame, unit: str) -> pl.DataFrame:
    """Rules 1, 4, 5: one row per record and month, in the columns the months are summed in.

    Columns: `unit` (the caller's unit key), month, wage_base_fen (any fund,
    allocations too), paid_dues_fen, paid_prep_fen, allocated_fen, receipt_lines
    (1 for a receipt line, 0 for an allocation). Late-fee lines are left out: they are
    no dues, add to no base and make no month filed (rule 5).
    """
    receipt_months = split_by_month(
        receipts.filter(pl.col("item") != LATE_FEE_ITEM).select(
            unit, "item", "period_start", "period_end", "wage_base_fen", "amount_fen"
        ),
        ["wage_base_fen", "amount_fen"],
    ).select(
        unit,
        "month",
        "wage_base_fen",
        paid_dues_fen=pl.when(pl.col("item") == "dues").then("amount_fen").otherwise(0),
        paid_prep_fen=pl.when(pl.col("item") == "preparatory").then("amount_fen").otherwise(0),
        allocated_fen=pl.lit(0, pl.Int64),
        receipt_lines=pl.lit(1, pl.Int64),
    )
    allocation_months = split_by_month(
        allocations.select(unit, "period_start", "period_end", "wage_base_fen", "amount_fen"),
        ["wage_base_fen", "amount_fen"],
    ).select(
        unit,
        "month",
        "wage_base_fen",
        paid_dues_fen=pl.lit(0, pl.Int64),
        paid_prep_fen=pl.lit(0, pl.Int64),
        allocated_fen="amount_fen",
        receipt_lines=pl.lit(0, pl.Int64),
    )
    return pl.concat([receipt_months, allocation_months], how="vertical_relaxed")


def month_calendar(start: int, end: int, due_day: int) -> pl.DataFrame:
    """Rule 6 per month: month, period, first_day, due_monthly, due_quarterly.

    Monthly filers owe on `due_day` of the next month; quarterly filers on that day
    of the month after the calendar quarter (month // 3 * 3 is the quarter's first).
    """
    months = pl.int_range(start, end + 1, dtype=MONTH_DTYPE, eager=True).alias("month")

    def due(due_month: pl.Expr) -> pl.Expr:
        return pl.date(due_month // 12, due_month % 12 + 1, due_day)

    return pl.DataFrame(months).with_columns(
        period=period_text(pl.col("month")),
        first_day=first_day_expr(pl.col("month")),
        due_monthly=due(pl.col("month") + 1),
        due_quarterly=due(pl.col("month") // 3 * 3 + 3),
    )


def union_status(union_kind: pl.Expr, union_founded: pl.Expr, first_day: pl.Expr) -> pl.Expr:
    """Rule 2: own / joint once founded on or before the month's first day, else none."""
    founded = (union_kind != "none") & (union_founded <= first_day)
    return pl.when(founded.fill_null(False)).then(union_kind).otherwise(pl.lit("none"))


def first_organized_month(
    union_kind: pl.Expr, union_founded: pl.Expr, joint_counts_as_organized: bool
) -> pl.Expr:
    """Rule 2 solved for the month: the first month whose status counts as organized.

    Founded on the 1st -> that month, later in the month -> the next; null for units
    that never count as organized (no union, or joint with the switch off).
    """
    kinds = ["own", "joint"] if joint_counts_as_organized else ["own"]
    month = month_index(union_founded) + (union_founded.dt.day() != 1).cast(MONTH_DTYPE)
    return pl.when(union_kind.is_in(kinds)).then(month).otherwise(None)


def organized(union_status: pl.Expr, joint_counts_as_organized: bool) -> pl.Expr:
    """Rule 2's switch: does this union status count as organized (for rate, return, indicators)?"""
    if joint_counts_as_organized:
        return union_status.is_in(["own", "joint"])
    return union_status == "own"


def rates_by_month(rate_table: pl.DataFrame, calendar: pl.DataFrame) -> pl.DataFrame:
    """Rule 3: fund and rate_bp per (channel, rate_status, month) from the dated table.

    The row with the latest effective_from on or before the month's first day
    applies. A month with no row in force is an error, not a silent zero rate.
    """
    combos = rate_table.select("channel", "status").unique()
    grid = combos.join(calendar.select("month", "first_day"), how="cross").sort("first_day")
    table = rate_table.sort("effective_from")
    found = grid.join_asof(
        table.select("channel", "status", "fund", "rate_bp", "effective_from"),
        left_on="first_day",
        right_on="effective_from",
        by=["channel", "status"],
        strategy="backward",
        check_sortedness=False,
    )
    missing = found.filter(pl.col("rate_bp").is_null())
    if missing.height:
        first = missing.sort("month").row(0, named=True)
        raise ValueError(
            f"no rate in force for {first['channel']}/{first['status']} "
            f"in {format_period(first['month'])}: add an earlier effective_from to the policy"
        )
    return found.select(
        "channel", pl.col("status").alias("rate_status"), "month", "fund", "rate_bp"
    )


def status(
    due_date: pl.Expr, as_of: date, records: pl.Expr, variance_fen: pl.Expr, tolerance_fen: int
) -> pl.Expr:
    """Rule 7: not_due / not_filed / matched / underpaid / overpaid."""
    return (
        pl.when(due_date > as_of)
        .then(pl.lit("not_due"))
        .when(records == 0)
        .then(pl.lit("not_filed"))
        .when(variance_fen.abs() <= tolerance_fen)
        .then(pl.lit("matched"))
        .when(variance_fen < 0)
        .then(pl.lit("underpaid"))
        .otherwise(pl.lit("overpaid"))
    )


def splits_by_month(split_table: pl.DataFrame, calendar: pl.DataFrame) -> pl.DataFrame:
    """Rule 13: the levels' shares per (channel, fund, unit_class, month).

    As `rates_by_month`: the row with the latest effective_from on or before the
    month's first day applies. `unit_class` is "general", or "small_micro" where the
    small_micro row in force applies and else the general one (the class row first).
    A general month with no row in force is an error (the policy loader refuses such
    a table; this guards a table built in code).
    """
    months = calendar.select("month", "first_day").sort("first_day")
    table = split_table.with_columns(pl.col("unit_class").fill_null("general")).sort(
        "effective_from"
    )

    def in_force(rows: pl.DataFrame) -> pl.DataFrame:
        combos = rows.select("channel", "fund").unique()
        grid = combos.join(months, how="cross").sort("first_day")
        return grid.join_asof(
            rows.select("channel", "fund", *LEVELS, "effective_from"),
            left_on="first_day",
            right_on="effective_from",
            by=["channel", "fund"],
            strategy="backward",
            check_sortedness=False,
        )

    general = in_force(table.filter(pl.col("unit_class") == "general"))
    missing = general.filter(pl.col("effective_from").is_null())
    if missing.height:
        first = missing.sort("month").row(0, named=True)
        raise ValueError(
            f"no split row in force for {first['channel']} {first['fund']} "
            f"in {format_period(first['month'])}: add an earlier effective_from to the policy"
        )
    classed = in_force(table.filter(pl.col("unit_class") == "small_micro"))
    # The small_micro class of a month: its own row in force, else the general row.
    small = general.join(classed, on=["channel", "fund", "month"], how="left", suffix="_c")
    has_class = pl.col("effective_from_c").is_not_null()
    small = small.select(
        "channel",
        "fund",
        "month",
        *(pl.when(has_class).then(f"{lv}_c").otherwise(lv).alias(lv) for lv in LEVELS),
    )
    return pl.concat(
        [
            general.select("channel", "fund", "month", *LEVELS).with_columns(
                unit_class=pl.lit("general")
            ),
            small.with_columns(unit_class=pl.lit("small_micro")),
        ]
    ).select("channel", "fund", "unit_class", "month", *LEVELS)


def level_amounts(amount_fen: pl.Expr, shares_bp: Sequence[pl.Expr]) -> list[pl.Expr]:
    """Rule 13 for one amount x: each level's fen, the levels in split order.

    Every level but the last with a nonzero share gets round_half_up(|x| × share /
    10000) with the sign of x; the last gets x minus the others. So the levels add up
    to x exactly, and -x splits into exactly the negatives (a refund reverses its
    payment level by level). A level with a zero share before the last gets 0.
    (A level may get -1 fen of a tiny line: shares of 2500 each split 2 fen 1, 1, 1, -1.)
    """
    sign = pl.when(amount_fen < 0).then(-1).otherwise(1)
    rounded = [sign * round_half_up(amount_fen.abs() * share, 10_000) for share in shares_bp]
    last = pl.lit(None, pl.Int64)
    for i, share in enumerate(shares_bp):
        last = pl.when(share != 0).then(pl.lit(i, pl.Int64)).otherwise(last)
    out = []
    for i in range(len(shares_bp)):
        before = sum((rounded[j] for j in range(i)), pl.lit(0, pl.Int64))
        out.append(pl.when(last == i).then(amount_fen - before).otherwise(rounded[i]))
    return out
