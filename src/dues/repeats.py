"""Repeats (SPEC §3): a line is judged against the line kept for its key.

The line kept for a key is the first one accepted: the stored line when the key is
already stored, else the first line of the key in the frame. Every later line with
that key is an exact repeat when its content equals the kept line's, else a conflict
(quarantined as `conflicting_duplicate` by the caller). A line that equals an earlier
conflict is still a conflict: R1/100, R1/200, R1/200 keep R1/100 and make both R1/200
lines conflicts. kept + repeats + conflicts = the lines given.

Content is every contract column of the record except its key. Optional columns (a
receipt's item_code, paid_date and tax_office) are compared only where both lines carry
a value: a bureau export that omits an optional column does not make the same receipt
line a different one (the county-40 example re-sends a receipt line from a file without
item_code and counts it as a duplicate, not a conflict).

One function, `split_repeats`, judges both the lines within one file (ingest: nothing
stored) and a run's lines against the store (`dues.ledger`, which first puts the files
in their order of precedence).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from dues.checks import assert_columns, assert_unique
from dues.schemas import Kind, input_spec


@dataclass(frozen=True)
class Record:
    """What makes two lines the same line (key) and the same line said twice (content)."""

    key: tuple[str, ...]
    content: tuple[str, ...]
    optional: tuple[str, ...] = ()


def record_of(kind: Kind, *, optional_as_loose: bool) -> Record:
    """The record of an input kind, from its contract (schemas/inputs.toml): the key,
    and every other column as content; with `optional_as_loose`, the columns a file
    may lack (SPEC §2: item_code, paid_date, tax_office) are compared only where both
    lines carry a value."""
    spec = input_spec(kind)
    key = tuple(spec.column(k).target for k in spec.key)
    others = [c for c in spec.columns if c.target not in key]
    loose = tuple(c.target for c in others if optional_as_loose and not c.required)
    content = tuple(c.target for c in others if c.target not in loose)
    return Record(key=key, content=content, optional=loose)


RECORDS: dict[Kind, Record] = {
    # A bureau re-sends a line from an export that lacks an optional column.
    "collections": record_of("collections", optional_as_loose=True),
    "allocations": record_of("allocations", optional_as_loose=True),
    # A registry is one file, never stored line by line: a blank cell against a filled
    # one is two accounts of the unit, so no column is loose here.
    "registry": record_of("registry", optional_as_loose=False),
}
RECEIPT, ALLOCATION, REGISTRY_UNIT = (
    RECORDS[k] for k in ("collections", "allocations", "registry")
)

_STORED = "__stored"
_AT = "__at"
_FIRST = "__first"
_KEPT = "__kept_"


@dataclass(frozen=True)
class Merge:
    """The lines given, sorted into three disjoint frames with their columns and order."""

    new: pl.DataFrame
    duplicates: pl.DataFrame
    conflicts: pl.DataFrame


def split_repeats(lines: pl.DataFrame, record: Record, stored: pl.DataFrame | None = None) -> Merge:
    """`lines` as kept (new), exact repeats and conflicts, judged in frame order.

    The frame's order is the order of precedence: the caller sorts it (see
    `dues.ledger`). `stored` holds the lines kept before, one per key.
    """
    key, compared = list(record.key), [*record.content, *record.optional]
    assert_columns(lines, [*key, *compared], "incoming records")
    if stored is not None:
        assert_columns(stored, [*key, *compared], "stored records")
        assert_unique(stored, key, "stored records")
    repeated = lines.select(pl.struct(key).is_duplicated()).to_series()
    stored_at: pl.Series | None = None  # each line's row in `stored`, null if not stored
    if stored is not None and not stored.is_empty():
        stored_at = (
            lines.select(key)
            .join(
                stored.select(key).with_row_index(_AT),
                on=key,
                how="left",
                validate="m:1",
                maintain_order="left",
            )
            .get_column(_AT)
        )
        repeated |= stored_at.is_not_null()
    # Most lines are new: a key neither stored nor repeated needs no content comparison.
    if not repeated.any():
        return Merge(new=lines, duplicates=lines.clear(), conflicts=lines.clear())
    # Every line of a contested key is in `where`, so `over(key)` below sees them all.
    where = repeated.arg_true()
    # The position of the key's first line, computed once: a window per column is slow.
    contested = (
        lines[where].with_row_index(_AT).with_columns(pl.col(_AT).first().over(key).alias(_FIRST))
    )
    first = pl.col(_FIRST)
    # Conflicts are never kept, so the kept line is the stored one, else the first.
    kept = {c: pl.col(c).gather(first) for c in compared}
    in_store = pl.lit(False)
    if stored is not None and stored_at is not None:
        at = stored_at.gather(where)
        # Rows not stored gather row 0 here; `in_store` keeps them out of the comparison.
        before = stored.select(compared)[at.fill_null(0)]
        contested = contested.with_columns(
            *before.select(pl.all().name.prefix(_KEPT)).get_columns(),
            at.is_not_null().alias(_STORED),
        )
        in_store = pl.col(_STORED)
        kept = {c: pl.when(in_store).then(pl.col(_KEPT + c)).otherwise(kept[c]) for c in compared}
    same = pl.lit(True)
    for c in record.content:
        same &= pl.col(c).eq_missing(kept[c])
    for c in record.optional:
        same &= (pl.col(c) == kept[c]).fill_null(True)
    judged = contested.select(new=~in_store & (pl.col(_AT) == first), same=same)
    later = ~judged.get_column("new")
    dropped = pl.zeros(lines.height, pl.Boolean, eager=True).scatter(where.filter(later), True)
    return Merge(
        new=lines.filter(~dropped),
        duplicates=lines[where.filter(later & judged.get_column("same"))],
        conflicts=lines[where.filter(later & ~judged.get_column("same"))],
    )
