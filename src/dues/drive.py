"""SPEC §4 rules 9 and 10: the founding drive (建会) and preparatory-fund returns.

A founding-drive row is the SPEC §5 columns, then what an organizer visiting the unit
needs (`drive_details`): the tier in words with its employee thresholds, what to do
there (`found_union`: found a union, 需建会; `found_own_union`: a joint-union unit of
tier-1 size founds its own, 需单独建会), the registry's ownership and members, and
the registry's extra columns (联系人, 联系电话, 地址 ...) under their own headers.
"""

from __future__ import annotations

import json

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
# After the SPEC columns; then the registry's extra columns, as many as it has.
DRIVE_DETAIL_COLUMNS = ("tier_label", "action", "ownership", "members")
PREP_RETURN_COLUMNS = ("uscc", "name", "union_founded", "returnable_fen")
# What the organizer goes to do, by the unit's union_kind (rule 9 visits no other).
ACTIONS = {"none": "found_union", "joint": "found_own_union"}
EXTRAS = "extras"  # the registry's JSON object of extra cells (dues.ingest)

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


def tier_labels(policy: Policy) -> dict[int, str]:
    """Each tier in words with its employee thresholds: {1: '一类(职工≥25人)', ...}."""
    first, second = policy.tier1_min_employees, policy.tier2_min_employees
    middle = f"{second}人" if second == first - 1 else f"{second}-{first - 1}人"
    return {1: f"一类(职工≥{first}人)", 2: f"二类(职工{middle})", 3: f"三类(职工<{second}人)"}


def drive_details(drive: pl.DataFrame, registry: pl.DataFrame, policy: Policy) -> pl.DataFrame:
    """The SPEC rows of the founding drive with the organizer's columns (module doc).

    `drive` holds FOUNDING_DRIVE_COLUMNS (rule 9's rows, or as the ledger stored them),
    `registry` the run's registry (or its snapshot), with an `extras` column or without.
    An extra column named like one of ours is suffixed `(名录)`.
    """
    extras = EXTRAS if EXTRAS in registry.columns else None
    units = registry.select(
        "uscc",
        "ownership",
        "members",
        (pl.col(extras) if extras else pl.lit(None, pl.String)).alias(EXTRAS),
    )
    rows = drive.select(FOUNDING_DRIVE_COLUMNS).join(
        units, on="uscc", how="left", validate="1:1", maintain_order="left"
    )
    labels = tier_labels(policy)
    rows = rows.with_columns(
        tier_label=pl.col("tier").replace_strict(labels, default=None, return_dtype=pl.String),
        action=pl.col("union_kind").replace_strict(ACTIONS, default=None, return_dtype=pl.String),
    )
    texts = rows.get_column(EXTRAS).drop_nulls().unique(maintain_order=True).to_list()
    headers = list(dict.fromkeys(h for text in texts for h in json.loads(text)))
    ours = (*FOUNDING_DRIVE_COLUMNS, *DRIVE_DETAIL_COLUMNS)
    fixed = rows.select(*ours)
    if not headers:
        return fixed
    decoded = rows.get_column(EXTRAS).str.json_decode(
        pl.Struct([pl.Field(h, pl.String) for h in headers])
    )
    cells = decoded.struct.unnest()
    return fixed.hstack(cells.rename({h: f"{h}(名录)" for h in headers if h in ours}))


def extra_columns(columns: list[str]) -> list[str]:
    """The registry's extra columns among a founding-drive frame's `columns`."""
    ours = {*FOUNDING_DRIVE_COLUMNS, *DRIVE_DETAIL_COLUMNS}
    return [c for c in columns if c not in ours]


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
    run period; arrears_fen is the unit's arrears (0 when it has none). The SPEC
    columns are followed by the organizer's (`drive_details`).
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
    rows = (
        registry.filter((channel(pl.col("unit_type")) == "tax") & to_visit)
        .with_columns(tier=tier(pl.col("employees"), policy))
        .join(prep, on="uscc", how="left", validate="1:1")
        .join(arrears.select("uscc", "arrears_fen"), on="uscc", how="left", validate="1:1")
        .with_columns(pl.col("prep_paid_12m_fen", "arrears_fen").fill_null(0))
        .sort("uscc")
        .select(FOUNDING_DRIVE_COLUMNS)
    )
    return drive_details(rows, registry, policy)


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
