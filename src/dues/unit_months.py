"""Rules 2-7 applied to the grid of registry units × months: the reconciliation rows.

The grid is dense and month-major: row (month - start) * n_units + unit, with
`unit` the row number of the registry sorted by uscc. That order *is* the output
order (period, uscc), so no sort is needed, and per-month sums land in their rows
by position instead of by a join on string keys: this is what lets a province's
million unit-months reconcile in about a second.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from dues.checks import assert_unique
from dues.periods import MONTH_DTYPE, month_index
from dues.policy import Policy
from dues.rules import (
    LATE_FEE_ITEM,
    channel,
    expected_fen,
    month_calendar,
    organized,
    rates_by_month,
    record_months,
    status,
    union_status,
)

RECONCILIATION_COLUMNS = (
    "period",
    "uscc",
    "name",
    "jurisdiction",
    "unit_type",
    "channel",
    "union_status",
    "fund",
    "rate_bp",
    "wage_base_fen",
    "base_source",
    "expected_fen",
    "paid_dues_fen",
    "paid_prep_fen",
    "allocated_fen",
    "paid_fen",
    "variance_fen",
    "status",
    "fund_mismatch",
    "channel_mismatch",
    "due_date",
    "days_past_due",
)
SUMMED = ("wage_base_fen", "paid_dues_fen", "paid_prep_fen", "allocated_fen", "receipt_lines")
# Per unit and month: the sums of rules 4-5 and `records`, the number of record-months,
# and the late-fee lines' amounts (rule 12's collected late fee; in no other figure).
SUM_COLUMNS = ("uscc", "month", *SUMMED, "records", "late_fee_fen")


def unit_index(registry: pl.DataFrame) -> pl.DataFrame:
    """The registry sorted by uscc, with `unit` (Int64) = its row number."""
    assert_unique(registry, ["uscc"], "registry")
    return registry.sort("uscc").with_row_index("unit").with_columns(pl.col("unit").cast(pl.Int64))


def unit_month_sums(receipts: pl.DataFrame, allocations: pl.DataFrame) -> pl.DataFrame:
    """Rules 1, 4, 5 summed per unit and month: what the reconciliation needs of the lines.

    One row per (uscc, month) with a record attributed to it, sorted; columns
    SUM_COLUMNS. Sums of sums are sums: the ledger keeps these per run, and a run adds
    its new lines' to the stored ones instead of reading every stored line again.

    Late-fee lines are in no rule 4-5 figure; their amounts are `late_fee_fen`, each
    line whole in the first month of its period (only the unit's total is used, rule
    12), so a (uscc, month) with late fees only has a row with `records` = 0.
    """
    dues = (
        record_months(receipts, allocations, "uscc")
        .group_by("uscc", "month")
        .agg(pl.col(SUMMED).sum(), records=pl.len().cast(pl.Int64))
    )
    fees = (
        receipts.filter(pl.col("item") == LATE_FEE_ITEM)
        .group_by("uscc", month=month_index(pl.col("period_start")).cast(MONTH_DTYPE))
        .agg(late_fee_fen=pl.col("amount_fen").sum())
    )
    if fees.is_empty():
        both = dues.with_columns(late_fee_fen=pl.lit(0, pl.Int64))
    else:
        both = dues.join(fees, on=["uscc", "month"], how="full", coalesce=True).with_columns(
            pl.col(*SUMMED, "records", "late_fee_fen").fill_null(0)
        )
    return both.sort("uscc", "month").select(SUM_COLUMNS)


def month_totals(months: pl.DataFrame, n_units: int, start: int, end: int) -> pl.DataFrame:
    """Rules 4-5: per grid row, the sums of what is attributed to it, and `records` (count).

    `months` is unit-month sums keyed by `unit`; months outside start..end are left out.
    """
    size = n_units * (end - start + 1)
    # Sorted first: grouping a sorted integer key is a scan, not a hash table.
    sums = (
        months.filter(pl.col("month").is_between(start, end))
        .select(
            ((pl.col("month").cast(pl.Int64) - start) * n_units + pl.col("unit")).alias("row"),
            *SUMMED,
            "records",
        )
        .sort("row")
        .group_by("row")
        .agg(pl.col(*SUMMED, "records").sum())
    )
    return pl.DataFrame(
        [
            pl.zeros(size, pl.Int64, eager=True).alias(c).scatter(sums["row"], sums[c])
            for c in (*SUMMED, "records")
        ]
    )


def base_before(months: pl.DataFrame, n_units: int, start: int) -> pl.Series:
    """Per unit, the summed wage base of its latest month with records before `start` (or null).

    Rule 4's "latest earlier month that has records" may lie before the start period.
    """
    latest = (
        months.filter(pl.col("month") < start, pl.col("records") > 0)
        .group_by("unit", "month")
        .agg(pl.col("wage_base_fen").sum())
        .sort("month")
        .group_by("unit")
        .last()
    )
    return pl.repeat(None, n_units, dtype=pl.Int64, eager=True).scatter(
        latest["unit"], latest["wage_base_fen"]
    )


def last_declared_base(grid: pl.DataFrame, n_units: int) -> pl.Series:
    """Rule 4: per grid row, the base of the latest month on or before it with records.

    `grid` holds month-major columns records, wage_base_fen (that month's own sum)
    and base_before (per unit, repeated). A forward fill runs in unit-major order,
    anchored at every month with records and at each unit's first month (which
    carries base_before), so no value leaks from one unit into the next.
    """
    n_months = grid.height // n_units
    row = pl.int_range(pl.len(), dtype=pl.Int64)
    unit_major = grid.select(
        pl.col("records", "wage_base_fen", "base_before").gather(
            (row % n_months) * n_units + row // n_months
        )
    )
    has = pl.col("records") > 0
    first_of_unit = row % n_months == 0
    last = unit_major.select(
        pl.when(has)
        .then("wage_base_fen")
        .otherwise("base_before")
        .gather(pl.when(has | first_of_unit).then(row).forward_fill())
        .alias("last")
    )
    return last.select(
        pl.col("last").gather((row % n_units) * n_months + row // n_units)
    ).to_series()


def _rate_key(month: pl.Expr, start: int, fiscal: pl.Expr, is_organized: pl.Expr) -> pl.Expr:
    """Position of a (month, channel, organized) rate in the month-ordered rate table."""
    return (
        (month.cast(pl.Int64) - start) * 4 + fiscal.cast(pl.Int64) * 2 + is_organized.cast(pl.Int64)
    )


def reconciliation(
    registry: pl.DataFrame,
    receipts: pl.DataFrame,
    allocations: pl.DataFrame,
    policy: Policy,
    start: int,
    end: int,
    as_of: date,
) -> pl.DataFrame:
    """Rules 1-7: one row per registry unit and month start..end, sorted (period, uscc).

    Records of units outside the registry are ignored here (they are the unmatched
    receipts). Columns: RECONCILIATION_COLUMNS (SPEC §5).
    """
    return reconciliation_of_sums(
        registry, unit_month_sums(receipts, allocations), policy, start, end, as_of
    )


def reconciliation_of_sums(
    registry: pl.DataFrame,
    sums: pl.DataFrame,
    policy: Policy,
    start: int,
    end: int,
    as_of: date,
) -> pl.DataFrame:
    """`reconciliation` from the unit-month sums of every record (`unit_month_sums`).

    A (uscc, month) may come several times (the sums each run kept, and this run's):
    sums of sums are sums, and they are added where they land on the grid.
    """
    units = unit_index(registry)
    ids = units.select("uscc", "unit")
    months = sums.join(ids, on="uscc", how="inner").drop("uscc")
    n_units = units.height
    calendar = month_calendar(start, end, policy.due_day)
    rates = (
        rates_by_month(policy.rate_table(), calendar)
        .with_columns(
            key=_rate_key(
                pl.col("month"),
                start,
                pl.col("channel") == "fiscal",
                pl.col("rate_status") == "organized",
            )
        )
        .sort("key")
    )
    if rates["key"].to_list() != list(range(4 * calendar.height)):
        raise ValueError("the rate table must give every channel and status a rate each month")
    per_unit = units.select(
        "uscc",
        "name",
        "jurisdiction",
        "unit_type",
        "union_kind",
        "union_founded",
        "filing_frequency",
        "monthly_payroll_fen",
        channel=channel(pl.col("unit_type")),
        base_before=base_before(months, n_units, start),
    )
    # Row r of the grid is month r // n_units of unit r % n_units (month-major).
    row = pl.int_range(n_units * calendar.height, dtype=pl.Int64)
    grid = pl.concat(
        [
            calendar.select(pl.all().gather(row // n_units)),
            per_unit.select(pl.all().gather(row % n_units)),
            month_totals(months, n_units, start, end),
        ],
        how="horizontal",
    )
    grid = grid.with_columns(last_base=last_declared_base(grid, n_units))
    is_tax = pl.col("channel") == "tax"
    rate_key = _rate_key(
        pl.col("month"),
        start,
        ~is_tax,
        organized(pl.col("union_status"), policy.joint_counts_as_organized),
    )
    return (
        grid.with_columns(
            union_status=union_status(
                pl.col("union_kind"), pl.col("union_founded"), pl.col("first_day")
            ),
            due_date=pl.when(pl.col("filing_frequency") == "quarterly")
            .then("due_quarterly")
            .otherwise("due_monthly"),
            base_source=pl.when(pl.col("records") > 0)
            .then(pl.lit("declared"))
            .when(pl.col("last_base").is_not_null())
            .then(pl.lit("estimated_last"))
            .when(pl.col("monthly_payroll_fen").is_not_null())
            .then(pl.lit("registry"))
            .otherwise(pl.lit("unknown")),
            wage_base_fen=pl.coalesce("last_base", "monthly_payroll_fen", pl.lit(0, pl.Int64)),
            paid_fen=pl.col("paid_dues_fen") + pl.col("paid_prep_fen") + pl.col("allocated_fen"),
        )
        .with_columns(
            fund=pl.lit(rates["fund"]).gather(rate_key),
            rate_bp=pl.lit(rates["rate_bp"]).gather(rate_key),
        )
        .with_columns(expected_fen=expected_fen(pl.col("wage_base_fen"), pl.col("rate_bp")))
        .with_columns(variance_fen=pl.col("paid_fen") - pl.col("expected_fen"))
        .with_columns(
            status=status(
                pl.col("due_date"),
                as_of,
                pl.col("records"),
                pl.col("variance_fen"),
                policy.tolerance_fen,
            ),
            fund_mismatch=is_tax
            & (
                ((pl.col("fund") == "dues") & (pl.col("paid_prep_fen") != 0))
                | ((pl.col("fund") == "preparatory") & (pl.col("paid_dues_fen") != 0))
            ),
            channel_mismatch=(is_tax & (pl.col("allocated_fen") != 0))
            | (~is_tax & (pl.col("receipt_lines") > 0)),
            days_past_due=pl.when(pl.col("due_date") <= as_of)
            .then((pl.lit(as_of) - pl.col("due_date")).dt.total_days())
            .cast(pl.Int64),
        )
        .select(RECONCILIATION_COLUMNS)
    )


def needs_action() -> pl.Expr:
    """Unit-months an officer must act on: due and not matched, or paid by the wrong way.

    What the workbook's 对账明细 lists of a big run's last months (dues.report.staged),
    when its unit-months are too many for a sheet; reconciliation.parquet keeps every row.
    """
    return (
        pl.col("status").is_in(["underpaid", "not_filed", "overpaid"])
        | pl.col("fund_mismatch")
        | pl.col("channel_mismatch")
    )
