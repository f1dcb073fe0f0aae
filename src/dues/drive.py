"""SPEC §4 rules 9 and 10: the founding drive (建会) and preparatory-fund returns."""

from __future__ import annotations

import polars as pl

from dues.periods import format_period, period_index
from dues.policy import Policy
from dues.rules import channel, first_organized_month, organized, round_half_up

FOUNDING_DRIVE_COLUMNS = (
    "uscc",
    "name",
    "jurisdiction",
    "employees",
    "union_kind",
    "tier",
    "prep_paid_12m_fen",
    "arrears_fen",
)
PREP_RETURN_COLUMNS = ("uscc", "name", "union_founded", "returnable_fen")

# The founding drive's column is named for 12 months; it is not the return look-back.
DRIVE_PREP_MONTHS = 12


def tier(employees: pl.Expr, policy: Policy) -> pl.Expr:
    """Rule 9: 1 from tier1_min_employees, 2 from tier2_min_employees, else 3."""
    return (
        pl.when(employees >= policy.tier1_min_employees)
        .then(1)
        .when(employees >= policy.tier2_min_employees)
        .then(2)
        .otherwise(3)
        .cast(pl.Int64)
    )


def founding_drive(
    registry: pl.DataFrame,
    reconciliation: pl.DataFrame,
    arrears: pl.DataFrame,
    policy: Policy,
    end: int,
) -> pl.DataFrame:
    """Rule 9: tax-channel units to visit, sorted by uscc.

    Judged on the registry as it stands (union_kind, not the month's status): units
    with no union, and joint-union units of tier-1 size, which should found their
    own. prep_paid_12m_fen sums paid_prep_fen over the 12 months ending with the
    run period; arrears_fen is the unit's arrears (0 when it has none).
    """
    # `YYYY-MM` text sorts as the months do: compare it rather than parse a million rows.
    window = pl.col("period").is_between(
        pl.lit(format_period(end - DRIVE_PREP_MONTHS + 1)), pl.lit(format_period(end))
    )
    prep = (
        reconciliation.filter(window & (pl.col("paid_prep_fen") != 0))
        .group_by("uscc")
        .agg(prep_paid_12m_fen=pl.col("paid_prep_fen").sum())
    )
    to_visit = (pl.col("union_kind") == "none") | (
        (pl.col("union_kind") == "joint") & (pl.col("employees") >= policy.tier1_min_employees)
    )
    return (
        registry.filter((channel(pl.col("unit_type")) == "tax") & to_visit)
        .with_columns(tier=tier(pl.col("employees"), policy))
        .join(prep, on="uscc", how="left", validate="1:1")
        .join(arrears.select("uscc", "arrears_fen"), on="uscc", how="left", validate="1:1")
        .with_columns(pl.col("prep_paid_12m_fen", "arrears_fen").fill_null(0))
        .sort("uscc")
        .select(FOUNDING_DRIVE_COLUMNS)
    )


def prep_returns(
    registry: pl.DataFrame, reconciliation: pl.DataFrame, policy: Policy, start: int, end: int
) -> pl.DataFrame:
    """Rule 10: preparatory fund to return to newly organized units, sorted by uscc.

    A unit qualifies when its first organized month lies within the reconciled
    months start..end after at least one reconciled month without a union, i.e.
    start < first organized month <= end. returnable_fen = round_half_up(return
    ratio × Σ paid_prep_fen of its `none` months among the `lookback_months` months
    before that first organized month). Only reconciled months count, as
    paid_prep_fen is defined on them. "Organized" follows the
    joint_counts_as_organized switch, as for the rate: a unit that keeps paying the
    preparatory fund under a joint union is not yet returned what it paid.
    Units with nothing (or less than nothing) returnable are left out.
    """
    # The founding date fixes the first organized month (rule 2), so the few
    # candidates come from the registry and only their rows are read.
    candidates = registry.select(
        "uscc",
        first=first_organized_month(
            pl.col("union_kind"), pl.col("union_founded"), policy.joint_counts_as_organized
        ),
    ).filter(pl.col("first").is_between(start + 1, end))
    paid = (
        reconciliation.filter(pl.col("paid_prep_fen") != 0)
        .filter(~organized(pl.col("union_status"), policy.joint_counts_as_organized))
        .select("uscc", "paid_prep_fen", month=period_index(pl.col("period")))
        .join(candidates, on="uscc", how="inner", validate="m:1")
        .filter(
            pl.col("month").is_between(
                pl.col("first") - policy.lookback_months, pl.col("first") - 1
            )
        )
        .group_by("uscc")
        .agg(prep_paid=pl.col("paid_prep_fen").sum())
    )
    return (
        paid.with_columns(
            returnable_fen=round_half_up(pl.col("prep_paid") * policy.return_ratio_bp, 10_000)
        )
        .filter(pl.col("returnable_fen") > 0)
        .join(
            registry.select("uscc", "name", "union_founded"), on="uscc", how="inner", validate="1:1"
        )
        .sort("uscc")
        .select(PREP_RETURN_COLUMNS)
    )
