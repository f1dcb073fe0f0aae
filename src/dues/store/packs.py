"""A run's unit-month sums as one Parquet file kept in the ledger (`unit_month_sum_packs`).

Written by hand because no driver moves a frame through the run's own transaction
faster: Python's sqlite3 makes a Python object of every value it reads (2.9 s for the
999,180 unit-months of a steady month at 100,000 units), and the Arrow drivers that
do not (ADBC) need connections of their own (dues.store.bulk). A pack is one value
per run, so a run reads its ledger's sums in a tenth of a second on either store.
"""

from __future__ import annotations

import io

import polars as pl

from dues.store import tables as t

SCHEMA = t.frame_schema(t.unit_month_sums)  # the contract columns, run_id left out
_ORDER = ["uscc", "month"]


def pack(sums: pl.DataFrame) -> bytes:
    """`sums` (the contract columns of `unit_month_sums`) as Parquet bytes, by unit and
    month: the same sums give the same bytes."""
    buffer = io.BytesIO()
    sums.select(list(SCHEMA)).cast(SCHEMA).sort(_ORDER).write_parquet(
        buffer, compression="zstd", statistics=False
    )
    return buffer.getvalue()


class PackError(ValueError):
    """A pack that cannot be read as the sums it should hold."""


# What a clerk does about it: the next run rebuilds a missing pack from the table.
_REPAIR = "delete its row from unit_month_sum_packs and the next run rebuilds it"


def unpack(data: bytes, run_id: str) -> pl.DataFrame:
    """The sums of one pack, with `run_id`, as `load_month_sums` gives them; PackError
    when the bytes are no Parquet or hold other columns (a migration that changes
    `unit_month_sums` must drop the packs)."""
    try:
        frame = pl.read_parquet(io.BytesIO(data))
    except (pl.exceptions.PolarsError, OSError) as error:
        message = " ".join(str(error).split())
        what = f"the sums pack of run {run_id} is unreadable ({message})"
        raise PackError(f"{what}: {_REPAIR}") from error
    if frame.schema != SCHEMA:
        raise PackError(f"the sums pack of run {run_id} has other columns: {_REPAIR}")
    return frame.select(pl.lit(run_id, pl.String).alias("run_id"), *SCHEMA)
