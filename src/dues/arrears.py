"""SPEC §4 rule 8: arrears, credit and aging per unit, from the reconciliation rows."""

from __future__ import annotations

import re
from collections.abc import Iterable

import polars as pl

from dues.policy import Policy

OWING_STATUSES = ("underpaid", "not_filed")
# SPEC §5 arrears.parquet, before its aging columns.
ARREARS_COLUMNS = (
    "uscc",
    "name",
    "jurisdiction",
    "arrears_fen",
    "credit_fen",
    "months_outstanding",
    "oldest_period",
)


# One aging column per bucket of Policy.aging_buckets: aging_<first>_<last day>_fen, and
# aging_over_<days>_fen for the open-ended last one. The store, the workbook and the run
# find the columns (and the bucket, group 1) by this pattern alone.
AGING_COLUMN = re.compile(r"aging_([0-9]+_[0-9]+|over_[0-9]+)_fen")


def aging_column(bucket: str) -> str:
    """The column of a bucket named as Policy.aging_buckets names it (`0_30`, `over_365`)."""
    return f"aging_{bucket}_fen"


def aging_columns(columns: Iterable[str]) -> list[str]:
    """The aging columns among `columns`, in their order (youngest bucket first)."""
    return [c for c in columns if AGING_COLUMN.fullmatch(c)]


def arrears_columns(policy: Policy) -> tuple[str, ...]:
    """Column order of the arrears frame; one aging column per configured bucket."""
    return (*ARREARS_COLUMNS, *(aging_column(b) for b, _, _ in policy.aging_buckets()))


def arrears(reconciliation: pl.DataFrame, policy: Policy) -> pl.DataFrame:
    """One row per unit with arrears or credit, sorted by uscc.

    arrears_fen = Σ (expected - paid) over underpaid and not_filed months; credit_fen
    = Σ (paid - expected) over overpaid months; matched and not_due months count for
    neither (the fen a quarter's split leaves is no debt). Credit is not netted
    against arrears: the finance office settles them separately.
    months_outstanding and oldest_period count only months that owe something (a
    not_filed month with an unknown base owes 0 and is not outstanding). Aging
    buckets split arrears (not credit) by days_past_due, which is measured from each
    month's due date to the as-of date.
    """
    owed = (
        pl.when(pl.col("status").is_in(OWING_STATUSES))
        .then(pl.col("expected_fen") - pl.col("paid_fen"))
        .otherwise(0)
    )
    credit = (
        pl.when(pl.col("status") == "overpaid")
        .then(pl.col("paid_fen") - pl.col("expected_fen"))
        .otherwise(0)
    )
    # Most unit-months are matched or not due: drop them before grouping.
    rows = (
        reconciliation.filter(pl.col("status").is_in([*OWING_STATUSES, "overpaid"]))
        .select(
            "uscc", "name", "jurisdiction", "period", "days_past_due", _owed=owed, _credit=credit
        )
        .filter((pl.col("_owed") > 0) | (pl.col("_credit") > 0))
    )
    outstanding = pl.col("_owed") > 0
    aging = []
    for suffix, low, high in policy.aging_buckets():
        in_bucket = pl.col("days_past_due") >= low
        if high is not None:
            in_bucket &= pl.col("days_past_due") <= high
        aging.append(pl.col("_owed").filter(in_bucket).sum().alias(aging_column(suffix)))
    per_unit = rows.group_by("uscc").agg(
        pl.col("name").first(),
        pl.col("jurisdiction").first(),
        pl.col("_owed").sum().alias("arrears_fen"),
        pl.col("_credit").sum().alias("credit_fen"),
        outstanding.sum().cast(pl.Int64).alias("months_outstanding"),
        pl.col("period").filter(outstanding).min().alias("oldest_period"),
        *aging,
    )
    return per_unit.sort("uscc").select(arrears_columns(policy))
