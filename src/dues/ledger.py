"""A run's lines against the stored ledger (SPEC §3): what it adds, repeats or contradicts.

A receipt line is identified by (receipt_no, line_no), an allocation by voucher_no.
Each incoming line is judged against the line kept for its key by
`dues.repeats.split_repeats` (the rule is stated there): the stored line when the
key is stored, else the first incoming line, taking the earlier file (in the order
the files appear in `incoming`) and then the earlier source row.
new + duplicates + conflicts = incoming, and the conflicts are quarantined as
`conflicting_duplicate` by the caller.
"""

from __future__ import annotations

import polars as pl

from dues.checks import assert_columns
from dues.repeats import ALLOCATION, RECEIPT, Merge, Record, split_repeats

__all__ = ["Merge", "merge_allocations", "merge_receipts"]

_SEQ = "__seq"


def merge_receipts(stored: pl.DataFrame, incoming: pl.DataFrame) -> Merge:
    """Split incoming receipt lines into new, exact duplicates and conflicting duplicates."""
    return _merge(stored, incoming, RECEIPT)


def merge_allocations(stored: pl.DataFrame, incoming: pl.DataFrame) -> Merge:
    """Split incoming allocations into new, exact duplicates and conflicting duplicates."""
    return _merge(stored, incoming, ALLOCATION)


def _merge(stored: pl.DataFrame, incoming: pl.DataFrame, record: Record) -> Merge:
    assert_columns(incoming, ["source_file", "source_row"], "incoming records")
    return split_repeats(_in_precedence_order(incoming), record, stored)


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
