"""`dues.checks`: a join key that repeats, or a column that is missing, stops the run by name."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from dues.checks import assert_columns, assert_unique

# what the frame holds | the key | the error (None: the key is unique)
UNIQUE_CASES = [
    ("one key, all different",
     {"uscc": ["U1", "U2", "U3"]}, ["uscc"], None),
    ("one key repeated",
     {"uscc": ["U2", "U1", "U2"]}, ["uscc"], "registry: 1 duplicate key(s) on (uscc), e.g. U2"),
    ("two keys: each repeats, no pair does",
     {"receipt_no": ["R1", "R1", "R2"], "line_no": [1, 2, 1]}, ["receipt_no", "line_no"], None),
    ("two keys: a pair repeats",
     {"receipt_no": ["R1", "R1", "R2"], "line_no": [1, 1, 1]}, ["receipt_no", "line_no"],
     "registry: 1 duplicate key(s) on (receipt_no, line_no), e.g. ('R1', 1)"),
    ("seven keys twice: all counted, the first five in key order shown",
     {"uscc": ["U7", "U6", "U5", "U4", "U3", "U2", "U1"] * 2}, ["uscc"],
     "registry: 7 duplicate key(s) on (uscc), e.g. U1, U2, U3, U4, U5"),
    ("a missing key twice is a repeat too",
     {"uscc": [None, None, "U1"]}, ["uscc"], "registry: 1 duplicate key(s) on (uscc), e.g. None"),
    ("no rows", {"uscc": pl.Series([], dtype=pl.String)}, ["uscc"], None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("columns", "keys", "error"),
    [case[1:] for case in UNIQUE_CASES],
    ids=[case[0] for case in UNIQUE_CASES],
)
def test_a_repeated_key_is_refused_naming_the_frame_and_a_few_keys(
    columns: dict[str, Any], keys: list[str], error: str | None
) -> None:
    frame = pl.DataFrame(columns)
    if error is None:
        assert_unique(frame, keys, "registry")
        return
    with pytest.raises(ValueError) as raised:
        assert_unique(frame, keys, "registry")
    assert str(raised.value) == error


# the frame has columns a, b, c | the columns required | the error (None: all there)
COLUMN_CASES = [
    ("all there, in any order, others allowed", ["b", "a"], None),
    ("one missing", ["a", "x"], "receipts: missing column(s) x"),
    ("several missing, in the order required", ["z", "a", "y"], "receipts: missing column(s) z, y"),
]


@pytest.mark.parametrize(
    ("required", "error"),
    [case[1:] for case in COLUMN_CASES],
    ids=[case[0] for case in COLUMN_CASES],
)
def test_a_missing_column_is_refused_naming_the_frame_and_the_columns(
    required: list[str], error: str | None
) -> None:
    frame = pl.DataFrame({"a": [1], "b": [2], "c": [3]})
    if error is None:
        assert_columns(frame, required, "receipts")
        return
    with pytest.raises(ValueError) as raised:
        assert_columns(frame, required, "receipts")
    assert str(raised.value) == error
