"""Guards on frames that the rules rely on: a join on a non-unique key multiplies rows silently."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl


def assert_unique(df: pl.DataFrame, keys: Sequence[str], what: str) -> None:
    """Raise ValueError naming `what` and a few offending keys if `keys` repeat in `df`."""
    keys = list(keys)
    # Fast path: equal keys hash equal, so all-distinct hashes prove uniqueness. Only
    # when some hashes repeat (a duplicate, or rarely a collision) are keys compared.
    if df.select(pl.struct(keys).hash().n_unique()).item() == df.height:
        return
    dupes = df.group_by(keys).len().filter(pl.col("len") > 1)
    if dupes.height:
        sample = dupes.sort(keys).head(5).select(keys).rows()
        shown = ", ".join(str(row[0] if len(row) == 1 else row) for row in sample)
        raise ValueError(
            f"{what}: {dupes.height} duplicate key(s) on ({', '.join(keys)}), e.g. {shown}"
        )


def assert_columns(df: pl.DataFrame, columns: Sequence[str], what: str) -> None:
    """Raise ValueError naming `what` and the missing columns if any is absent."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{what}: missing column(s) {', '.join(missing)}")
