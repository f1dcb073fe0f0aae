"""The entry point of the rules: registry + all stored records -> the outputs of SPEC §5.

`reconcile` is pure: no files, no database, no clock (as_of defaults to the last
day of the run period, not to today), so the same inputs always give the same
frames and an auditor can re-run any period.

Where the SPEC leaves room, these readings are taken (each is also documented
at the function that implements it):

* "Organized" (own, or joint while `joint_counts_as_organized`) is one notion for
  the rate, the preparatory-fund return and the founding-rate indicators; only
  the founding drive judges the registry's union_kind itself (rule 9).
* The base of the latest earlier month with records may come from before the
  start period; the return look-back counts reconciled months only.
* days_past_due is null for months not yet due.
* Arrears and credit are not netted; aging splits arrears only; a unit is listed
  with arrears > 0 or credit > 0 (the example's arrears.csv lists arrears > 0).
* A fiscal-channel month "has receipts" when any receipt line is attributed to it,
  even one netting to zero with its refund.
* Collection indicators cover the due months of the run year within the
  reconciled months, collected = paid_fen (every fund and channel); unit counts
  use the union status of the run period's month.
* Allocations of units outside the registry are returned as
  `unmatched_allocations` (SPEC §5 lists only receipts as unmatched).
* With no stored record and no configured start, the run period is the start.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from dues.arrears import arrears
from dues.checks import assert_columns, assert_unique
from dues.drive import founding_drive, prep_returns
from dues.indicators import indicators
from dues.late_fees import late_fees, undated_lines
from dues.periods import first_day, format_period, last_day, parse_period
from dues.policy import Policy
from dues.unit_months import reconciliation_of_sums, unit_month_sums

REGISTRY_COLUMNS = (
    "uscc",
    "name",
    "unit_type",
    "employees",
    "members",
    "jurisdiction",
    "union_kind",
    "union_founded",
    "filing_frequency",
    "monthly_payroll_fen",
)
RECEIPT_COLUMNS = (
    "receipt_no",
    "line_no",
    "uscc",
    "taxpayer_name",
    "item",
    "period_start",
    "period_end",
    "wage_base_fen",
    "amount_fen",
    "source_file",
    "source_row",
)
ALLOCATION_COLUMNS = (
    "voucher_no",
    "uscc",
    "unit_name",
    "period_start",
    "period_end",
    "wage_base_fen",
    "amount_fen",
    "source_file",
    "source_row",
)
UNMATCHED_COLUMNS = (
    "source_file",
    "source_row",
    "receipt_no",
    "uscc",
    "taxpayer_name",
    "amount_fen",
    "line_no",
    "period_start",
    "period_end",
)
UNMATCHED_ALLOCATION_COLUMNS = (
    "source_file",
    "source_row",
    "voucher_no",
    "uscc",
    "unit_name",
    "amount_fen",
    "period_start",
    "period_end",
)


@dataclass(frozen=True)
class Outputs:
    """The frames of one period run (SPEC §5), columns in the SPEC's order."""

    reconciliation: pl.DataFrame
    arrears: pl.DataFrame
    founding_drive: pl.DataFrame
    prep_returns: pl.DataFrame
    unmatched: pl.DataFrame
    indicators: pl.DataFrame
    # Allocations whose USCC is not in the registry: SPEC §5 lists only receipts as
    # unmatched, but money must not vanish silently (SPEC §3), so they are kept apart.
    unmatched_allocations: pl.DataFrame
    start_period: str
    late_fees: pl.DataFrame
    # Dues / preparatory lines without a paid date that the late-fee accrual counted as
    # paid on their due dates (rule 12); 0 with late fees off, when no line is read.
    late_fee_undated_lines: int = 0

    def frames(self) -> dict[str, pl.DataFrame]:
        """The SPEC §5 outputs among these, by output name (the quarantine is ingest's)."""
        return {
            "reconciliation": self.reconciliation,
            "arrears": self.arrears,
            "founding_drive": self.founding_drive,
            "prep_returns": self.prep_returns,
            "unmatched": self.unmatched,
            "indicators": self.indicators,
            "late_fees": self.late_fees,
        }


def start_month(sums: pl.DataFrame, policy: Policy, end: int) -> int:
    """Configured start_period, else the earliest month any stored record is attributed to.

    Receipts of units outside the registry count too (SPEC §4): `sums` holds every
    unit's. Late-fee lines do not (they are no dues: a fee line for an old month
    must not add months to reconcile). With no records at all the run period itself
    is the start.
    """
    if policy.start_period is not None:
        return parse_period(policy.start_period)
    earliest = sums.filter(pl.col("records") > 0).select(pl.col("month").min()).item()
    return end if earliest is None else int(earliest)


def _validate_registry(registry: pl.DataFrame) -> None:
    if registry.height == 0:
        raise ValueError("registry is empty: nothing to reconcile")
    assert_columns(registry, REGISTRY_COLUMNS, "registry")
    assert_unique(registry, ["uscc"], "registry")
    unfounded = registry.filter(
        (pl.col("union_kind") != "none") & pl.col("union_founded").is_null()
    )
    if unfounded.height:
        raise ValueError(
            f"registry: {unfounded.height} unit(s) with a union but no union_founded, "
            f"e.g. {unfounded['uscc'][0]}"
        )


def _validate_lines(receipts: pl.DataFrame, allocations: pl.DataFrame) -> None:
    assert_columns(receipts, RECEIPT_COLUMNS, "receipts")
    assert_columns(allocations, ALLOCATION_COLUMNS, "allocations")
    assert_unique(
        receipts, ["receipt_no", "line_no"], "receipts (deduplicate with dues.ledger first)"
    )
    assert_unique(allocations, ["voucher_no"], "allocations (deduplicate with dues.ledger first)")


def reconcile(
    registry: pl.DataFrame,
    receipts: pl.DataFrame,
    allocations: pl.DataFrame,
    policy: Policy,
    period: str,
    as_of: date | None = None,
) -> Outputs:
    """Re-derive every month from the start period to `period` from all stored records.

    `receipts` and `allocations` are every record stored so far (all runs), already
    deduplicated; `as_of` defaults to the last day of `period`.
    """
    _validate_registry(registry)
    _validate_lines(receipts, allocations)
    in_registry = registry.select("uscc")
    return reconcile_sums(
        registry,
        unit_month_sums(receipts, allocations),
        receipts.join(in_registry, on="uscc", how="anti"),
        allocations.join(in_registry, on="uscc", how="anti"),
        policy,
        period,
        as_of,
        paid_lines=receipts,
    )


def reconcile_sums(
    registry: pl.DataFrame,
    sums: pl.DataFrame,
    outside_receipts: pl.DataFrame,
    outside_allocations: pl.DataFrame,
    policy: Policy,
    period: str,
    as_of: date | None = None,
    *,
    paid_lines: pl.DataFrame | None = None,
) -> Outputs:
    """`reconcile` from what the ledger keeps: the unit-month sums of every record
    (`unit_months.unit_month_sums`, every unit's) and the lines of units outside
    the registry (any superset of them will do: those inside are left out here).

    `paid_lines` (columns `late_fees.PAID_LINE_COLUMNS`, the receipt lines of every
    record the sums hold, any unit's) is needed only with late fees on (rule 12)."""
    _validate_registry(registry)
    end = parse_period(period)
    start = start_month(sums, policy, end)
    if end < start:
        raise ValueError(f"period {period} is before the start period {format_period(start)}")
    as_of = last_day(end) if as_of is None else as_of
    if as_of < first_day(end):
        raise ValueError(f"as-of date {as_of} is before the period {period} begins")

    in_registry = registry.select("uscc")
    rows = reconciliation_of_sums(registry, sums, policy, start, end, as_of)
    owed = arrears(rows, policy)
    fees_on = policy.late_fee_bp_per_day > 0
    return Outputs(
        reconciliation=rows,
        arrears=owed,
        founding_drive=founding_drive(registry, rows, owed, policy, end),
        prep_returns=prep_returns(registry, rows, policy, start, end),
        unmatched=outside_receipts.join(in_registry, on="uscc", how="anti")
        .sort("receipt_no", "line_no")
        .select(UNMATCHED_COLUMNS),
        indicators=indicators(registry, rows, policy, end),
        unmatched_allocations=outside_allocations.join(in_registry, on="uscc", how="anti")
        .sort("voucher_no")
        .select(UNMATCHED_ALLOCATION_COLUMNS),
        start_period=format_period(start),
        late_fees=late_fees(
            registry,
            rows,
            sums,
            paid_lines,
            as_of,
            policy.late_fee_bp_per_day,
            policy.late_fee_grace_days,
        ),
        late_fee_undated_lines=undated_lines(paid_lines, registry)
        if fees_on and paid_lines is not None
        else 0,
    )
