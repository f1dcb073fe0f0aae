"""SPEC §4 rule 11: collection, founding and membership indicators, year to date."""

from __future__ import annotations

import polars as pl

from dues.periods import format_period
from dues.policy import Policy
from dues.rules import channel, organized

COUNTY = "全县"

INDICATOR_COLUMNS = (
    "level",
    "jurisdiction",
    "year",
    "tax_expected_fen",
    "tax_collected_fen",
    "tax_collection_rate",
    "fiscal_expected_fen",
    "fiscal_collected_fen",
    "fiscal_collection_rate",
    "tax_units",
    "tax_units_tier1",
    "organized_tier1",
    "founding_rate_tier1",
    "organized_tax_units",
    "founding_rate_all",
    "employees_organized",
    "members_organized",
    "membership_rate",
)


def _ratio(numerator: str, denominator: str) -> pl.Expr:
    """Float ratio, null when the denominator is 0 (no rate can be stated)."""
    return (
        pl.when(pl.col(denominator) != 0)
        .then(pl.col(numerator) / pl.col(denominator))
        .otherwise(None)
        .cast(pl.Float64)
    )


def indicators(
    registry: pl.DataFrame, reconciliation: pl.DataFrame, policy: Policy, end: int
) -> pl.DataFrame:
    """One row per jurisdiction (sorted) and a county row (jurisdiction 全县) last.

    Collection (到位率): over the run year's months up to the run period that are due
    (status ≠ not_due), expected_fen and paid_fen per channel.
    Founding (组建率) and membership (入会率): units as of the run period month, with
    "organized" as for the rate (joint counts unless the policy switch says no).
    Membership counts only organized units that report members, so a registry
    without the optional members column gives no rate rather than 0%.
    """
    year = end // 12
    # `YYYY-MM` text sorts as the months do: compare it rather than parse a million rows.
    this_year = pl.col("period").is_between(
        pl.lit(format_period(year * 12)), pl.lit(format_period(end))
    )
    collection = reconciliation.filter(this_year & (pl.col("status") != "not_due")).select(
        "jurisdiction",
        tax_expected_fen=pl.when(pl.col("channel") == "tax").then("expected_fen").otherwise(0),
        tax_collected_fen=pl.when(pl.col("channel") == "tax").then("paid_fen").otherwise(0),
        fiscal_expected_fen=pl.when(pl.col("channel") == "fiscal")
        .then("expected_fen")
        .otherwise(0),
        fiscal_collected_fen=pl.when(pl.col("channel") == "fiscal").then("paid_fen").otherwise(0),
    )
    status_now = reconciliation.filter(pl.col("period") == format_period(end)).select(
        "uscc", "union_status"
    )
    units = (
        registry.join(status_now, on="uscc", how="left", validate="1:1")
        .with_columns(
            is_organized=organized(
                pl.col("union_status"), policy.joint_counts_as_organized
            ).fill_null(False)
        )
        .select(
            "jurisdiction",
            tax_units=channel(pl.col("unit_type")) == "tax",
            tax_units_tier1=(channel(pl.col("unit_type")) == "tax")
            & (pl.col("employees") >= policy.tier1_min_employees),
            is_organized="is_organized",
            employees_organized=pl.when(pl.col("is_organized") & pl.col("members").is_not_null())
            .then("employees")
            .otherwise(0),
            members_organized=pl.when(pl.col("is_organized"))
            .then("members")
            .otherwise(0)
            .fill_null(0),
        )
        .with_columns(
            organized_tier1=pl.col("tax_units_tier1") & pl.col("is_organized"),
            organized_tax_units=pl.col("tax_units") & pl.col("is_organized"),
        )
        .drop("is_organized")
    )
    money = ["tax_expected_fen", "tax_collected_fen", "fiscal_expected_fen", "fiscal_collected_fen"]
    counts = ["tax_units", "tax_units_tier1", "organized_tier1", "organized_tax_units"]
    people = ["employees_organized", "members_organized"]
    by_jurisdiction = (
        units.group_by("jurisdiction")
        .agg(pl.col(counts).sum().cast(pl.Int64), pl.col(people).sum().cast(pl.Int64))
        .join(
            collection.group_by("jurisdiction").agg(pl.col(money).sum()),
            on="jurisdiction",
            how="left",
            validate="1:1",
        )
        .with_columns(pl.col(money).fill_null(0), level=pl.lit("jurisdiction"))
        .sort("jurisdiction")
    )
    county = by_jurisdiction.select(
        pl.col(money + counts + people).sum(),
        level=pl.lit("county"),
        jurisdiction=pl.lit(COUNTY),
    )
    both = pl.concat([by_jurisdiction, county], how="diagonal_relaxed")
    return both.with_columns(
        year=pl.lit(year, pl.Int32),
        tax_collection_rate=_ratio("tax_collected_fen", "tax_expected_fen"),
        fiscal_collection_rate=_ratio("fiscal_collected_fen", "fiscal_expected_fen"),
        founding_rate_tier1=_ratio("organized_tier1", "tax_units_tier1"),
        founding_rate_all=_ratio("organized_tax_units", "tax_units"),
        membership_rate=_ratio("members_organized", "employees_organized"),
    ).select(INDICATOR_COLUMNS)
