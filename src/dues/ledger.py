"""Deduplication of stored records (SPEC §3): what a run adds, repeats, or contradicts.

A receipt line is identified by (receipt_no, line_no), an allocation by voucher_no.
The first occurrence of a key wins: a stored row before any incoming row, and
within the incoming rows the earlier file (in the order the files appear in
`incoming`) and then the earlier source row. Every later row with that key is an
exact duplicate when its content equals the winner's, else a conflict (quarantined
as `conflicting_duplicate` by the caller). new + duplicates + conflicts = incoming.

Content is every contract column except the key and source_file / source_row.
Optional columns (item_code, tax_office) are compared only where both rows carry
a value: a bureau export that omits an optional column does not make the same
receipt line a different one (the county-40 example re-sends a receipt line from
a file without item_code and counts it as a duplicate, not a conflict).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from dues.checks import assert_columns, assert_unique

RECEIPT_KEY = ("receipt_no", "line_no")
RECEIPT_CONTENT = (
    "uscc",
    "taxpayer_name",
    "item",
    "period_start",
    "period_end",
    "wage_base_fen",
    "rate_bp",
    "amount_fen",
    "paid_date",
)
RECEIPT_OPTIONAL = ("item_code", "tax_office")

ALLOCATION_KEY = ("voucher_no",)
ALLOCATION_CONTENT = (
    "uscc",
    "unit_name",
    "period_start",
    "period_end",
    "wage_base_fen",
    "amount_fen",
    "allocated_date",
)

_SEQ = "__seq"
_STORED = "__stored"
_REF = "__ref_"


@dataclass(frozen=True)
class Merge:
    """Incoming rows sorted into three disjoint frames with the incoming columns."""

    new: pl.DataFrame
    duplicates: pl.DataFrame
    conflicts: pl.DataFrame


def merge_receipts(stored: pl.DataFrame, incoming: pl.DataFrame) -> Merge:
    """Split incoming receipt lines into new, exact duplicates and conflicting duplicates."""
    return merge_records(stored, incoming, RECEIPT_KEY, RECEIPT_CONTENT, RECEIPT_OPTIONAL)


def merge_allocations(stored: pl.DataFrame, incoming: pl.DataFrame) -> Merge:
    """Split incoming allocations into new, exact duplicates and conflicting duplicates."""
    return merge_records(stored, incoming, ALLOCATION_KEY, ALLOCATION_CONTENT, ())


def merge_records(
    stored: pl.DataFrame,
    incoming: pl.DataFrame,
    key: Sequence[str],
    content: Sequence[str],
    optional: Sequence[str],
) -> Merge:
    """The merge of the module docstring, for any key and content columns."""
    key, content, optional = list(key), list(content), list(optional)
    compared = content + optional
    assert_columns(incoming, [*key, *compared, "source_file", "source_row"], "incoming records")
    assert_columns(stored, [*key, *compared], "stored records")
    assert_unique(stored, key, "stored records")
    columns = incoming.columns
    ordered = _in_precedence_order(incoming)
    reference = stored.select(
        *key,
        *(pl.col(c).alias(_REF + c) for c in compared),
        pl.lit(True).alias(_STORED),
    )
    joined = ordered.join(reference, on=key, how="left", validate="m:1", maintain_order="left")
    # Most lines are new: a key neither stored nor repeated needs no content comparison.
    contested = joined.select(
        pl.col(_STORED).fill_null(False) | pl.struct(key).is_duplicated()
    ).to_series()
    if not contested.any():
        return Merge(
            new=ordered.select(columns), duplicates=incoming.clear(), conflicts=incoming.clear()
        )
    where = contested.arg_true()
    in_store = pl.col(_STORED).fill_null(False)
    # The winner's content: the stored row, else the first incoming row of the key
    # (`first().over` follows the frame's order, which is the precedence order).
    winner = {
        c: pl.when(in_store).then(pl.col(_REF + c)).otherwise(pl.col(c).first().over(key))
        for c in compared
    }
    same = pl.lit(True)
    for c in content:
        same &= pl.col(c).eq_missing(winner[c])
    for c in optional:
        same &= (pl.col(c) == winner[c]).fill_null(True)
    is_first = pl.int_range(pl.len()).over(key) == 0
    kinds = (
        joined[where]
        .select(
            pl.when(~in_store & is_first)
            .then(pl.lit("new"))
            .when(same)
            .then(pl.lit("duplicate"))
            .otherwise(pl.lit("conflict"))
        )
        .to_series()
    )
    kind = pl.repeat("new", joined.height, dtype=pl.String, eager=True).scatter(where, kinds)

    def part(name: str) -> pl.DataFrame:
        return ordered.filter(kind == name).select(columns)

    return Merge(new=part("new"), duplicates=part("duplicate"), conflicts=part("conflict"))


def _in_precedence_order(incoming: pl.DataFrame) -> pl.DataFrame:
    """Rows by file (in order of first appearance), then source row; stable."""
    rank = pl.col(_SEQ).min().over("source_file")
    ranked = incoming.with_row_index(_SEQ).with_columns(__file_rank=rank)
    # Files concatenated in order are already sorted: skip sorting a million rows then.
    in_order = ranked.select(
        (
            (pl.col("__file_rank").diff() > 0)
            | ((pl.col("__file_rank").diff() == 0) & (pl.col("source_row").diff() >= 0))
        )
        .fill_null(True)
        .all()
    ).item()
    if not in_order:
        ranked = ranked.sort("__file_rank", "source_row", _SEQ)
    return ranked.drop("__file_rank", _SEQ)
