"""Fitting callers' frames to the ledger tables, and stored rows back to frames."""

from __future__ import annotations

from typing import TypeVar, cast

import polars as pl
import sqlalchemy as sa

from dues.arrears import AGING_COLUMN, aging_column, aging_columns
from dues.distribution import distribution_long, distribution_wide_of_long, payout_order
from dues.store import tables as t
from dues.store.bulk import read_frame
from dues.store.engine import StoreError

# What commit_run takes of a big frame: the rows, or a LazyFrame that brings them when
# their table's turn comes (a province's first run keeps one table's rows in memory at
# a time, not all of them).
Frame = pl.DataFrame | pl.LazyFrame
FrameT = TypeVar("FrameT", bound=Frame)


def conform(frame: FrameT, table: sa.Table, what: str) -> FrameT:
    """``frame`` with exactly ``table``'s contract columns and dtypes, or StoreError.

    A LazyFrame's columns and dtypes are checked at once; its rows, when it is
    collected (a failing cast then raises polars' error)."""
    expected = t.frame_schema(table)
    schema = frame.collect_schema()
    missing = [name for name in expected if name not in schema]
    unexpected = [name for name in schema if name not in expected]
    if missing or unexpected:
        raise StoreError(f"{what}: missing columns {missing}, unexpected columns {unexpected}")
    casts: list[pl.Expr] = []
    for name, dtype in expected.items():
        have = schema[name]
        if have == dtype:
            continue
        # Only lossless widening: an all-null column, or a count that came out
        # of polars as UInt32. Anything else is a caller's bug worth seeing.
        if have == pl.Null or (have.is_integer() and dtype == pl.Int64):
            casts.append(pl.col(name).cast(dtype, strict=True))
        else:
            raise StoreError(f"{what}: column {name} is {have}, expected {dtype}")
    try:
        return cast("FrameT", frame.select(list(expected)).with_columns(casts))
    except pl.exceptions.PolarsError as error:
        raise StoreError(f"{what}: {' '.join(str(error).split())}") from error


def caller_view(frame: pl.DataFrame, table: sa.Table) -> pl.DataFrame:
    """Stored rows as a caller's frame: contract columns, in key order.

    Sorting here rather than in SQL gives byte order on every backend, where
    ORDER BY would follow each server's collation.
    """
    return frame.sort(t.row_order(table)).select(list(t.frame_schema(table)))


def check_kind(kind: str) -> sa.Table:
    """The table of result ``kind``, or StoreError."""
    table = t.RESULT_TABLES.get(kind)
    if table is None:
        hint = "; quarantine rows go in commit_run(quarantine=...)" if kind == "quarantine" else ""
        raise StoreError(f"unknown result kind {kind!r} (known: {', '.join(t.RESULT_KINDS)}){hint}")
    return table


def result_parts(kind: str, frame: Frame) -> list[tuple[sa.Table, Frame]]:
    """The rows to insert for one result frame, per table. The wide distribution may
    come as a LazyFrame (collected only as its rows go in); any other result is
    collected here."""
    table = check_kind(kind)
    what = f"results[{kind!r}]"
    if table is t.result_distribution and "level" not in frame.collect_schema():
        return [(table, conform(frame, table, what))]
    if isinstance(frame, pl.LazyFrame):
        frame = frame.collect()
    if table is t.result_distribution and "level" in frame.columns:
        # distribution.parquet's long rows, kept one row per line × month.
        return [(table, conform(distribution_wide_of_long(frame), table, what))]
    if table is not t.result_arrears:
        return [(table, conform(frame, table, what))]
    aging = aging_columns(frame.columns)
    for name in aging:
        if not frame.schema[name].is_integer():
            raise StoreError(f"{what}: column {name} is {frame.schema[name]}, expected Int64")
    if not aging:
        return [(table, conform(frame, table, what))]
    long = (
        frame.select(pl.col("uscc"), pl.col(aging).cast(pl.Int64))
        .unpivot(on=aging, index="uscc", variable_name="column", value_name="aging_fen")
        .with_columns(
            bucket_no=pl.col("column").replace_strict(
                {name: number for number, name in enumerate(aging, 1)}, return_dtype=pl.Int64
            ),
            bucket=pl.col("column").str.extract(AGING_COLUMN.pattern),
        )
        .drop("column")
        # See tables.result_arrears_aging: no zero rows, but every bucket named once.
        .filter(
            (pl.col("aging_fen") != 0).fill_null(True) | (pl.col("uscc") == pl.col("uscc").min())
        )
    )
    return [
        (table, conform(frame.drop(aging), table, what)),
        (t.result_arrears_aging, conform(long, t.result_arrears_aging, what)),
    ]


def load_result(conn: sa.Connection, kind: str, period: str) -> pl.DataFrame:
    """The stored ``kind`` frame of ``period``, as it was given to commit_run."""
    table = check_kind(kind)
    frame = caller_view(read_frame(conn, table, table.c.run_period == period), table)
    if table is t.result_distribution:
        return distribution_long(frame)
    if table is t.result_payouts:
        return payout_order(frame)
    if table is not t.result_arrears:
        return frame
    aging = t.result_arrears_aging
    long = caller_view(read_frame(conn, aging, aging.c.run_period == period), aging)
    named = long.select("bucket_no", "bucket").unique().sort("bucket_no")
    # Every unit × every bucket: a missing row is 0 (nothing owed), a stored null stays.
    full = (
        frame.select("uscc")
        .join(named, how="cross")
        .join(long.with_columns(_kept=pl.lit(True)), on=["uscc", "bucket_no", "bucket"], how="left")
        .with_columns(pl.when(pl.col("_kept")).then("aging_fen").otherwise(0).alias("aging_fen"))
    )
    buckets = named["bucket"].to_list()
    wide = full.pivot(on="bucket", on_columns=buckets, index="uscc", values="aging_fen")
    wide = wide.rename({bucket: aging_column(bucket) for bucket in buckets})
    return frame.join(wide, on="uscc", how="left", validate="1:1", maintain_order="left")
