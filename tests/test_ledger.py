"""Deduplication against the stored history: each incoming row is new, a duplicate or a conflict."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
import pytest
from _ledger_lines import labels, receipt, receipts
from hypothesis import given, settings
from hypothesis import strategies as st

from dues.ledger import merge_allocations, merge_receipts

ALLOCATION_SCHEMA = {
    "voucher_no": pl.String,
    "uscc": pl.String,
    "unit_name": pl.String,
    "period_start": pl.Date,
    "period_end": pl.Date,
    "wage_base_fen": pl.Int64,
    "amount_fen": pl.Int64,
    "allocated_date": pl.Date,
    "source_file": pl.String,
    "source_row": pl.Int64,
}


# What the ledger adds to the rule of test_repeats: the order of files and the store.
# stored rows | incoming rows | where each incoming row goes
RECEIPT_CASES = [
    ("a new line is stored", [], [receipt("R1")], ["new"]),
    ("a line re-sent in a later run is a duplicate",
     [receipt("R1", file="old.csv")], [receipt("R1", row=7)], ["dup"]),
    ("a later run's line with the same key and another amount conflicts",
     [receipt("R1", 100, file="old.csv")], [receipt("R1", 101)], ["conflict"]),
    ("the earlier file (as given) wins over a later file",
     [], [receipt("R1", 200, file="b.csv", row=9), receipt("R1", 100, file="a.csv", row=2)],
     ["new", "conflict"]),
    ("within a file the earlier source row wins, however the frame is ordered",
     [], [receipt("R1", 200, row=9), receipt("R1", 100, row=3)], ["conflict", "new"]),
    ("a stored line wins over every incoming line",
     [receipt("R1", 100, file="old.csv")], [receipt("R1", 200, row=2), receipt("R1", 100, row=3)],
     ["conflict", "dup"]),
    ("an export without the optional item_code / tax_office is the same line",
     [receipt("R1", file="old.csv")], [receipt("R1", item_code=None, tax_office=None)], ["dup"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("stored", "incoming", "expected"),
    [case[1:] for case in RECEIPT_CASES],
    ids=[case[0] for case in RECEIPT_CASES],
)
def test_receipt_lines_are_sorted_into_new_duplicate_conflict(
    stored: list[dict[str, Any]], incoming: list[dict[str, Any]], expected: list[str]
) -> None:
    incoming_frame = receipts(incoming)
    merge = merge_receipts(receipts(stored), incoming_frame)
    assert labels(merge, incoming_frame) == expected
    assert merge.new.columns == incoming_frame.columns


def allocation(
    voucher: str, amount: int = 4590, row: int = 2, file: str = "a.csv"
) -> dict[str, Any]:
    return {
        "voucher_no": voucher,
        "uscc": "G1",
        "unit_name": "测试机关",
        "period_start": date(2026, 7, 1),
        "period_end": date(2026, 9, 30),
        "wage_base_fen": amount * 50,
        "amount_fen": amount,
        "allocated_date": date(2026, 9, 28),
        "source_file": file,
        "source_row": row,
    }


@pytest.mark.parametrize(
    ("stored", "incoming", "expected"),
    [
        ([], [allocation("CZ1")], ["new"]),
        ([allocation("CZ1", file="old.csv")], [allocation("CZ1")], ["dup"]),
        ([allocation("CZ1", file="old.csv")], [allocation("CZ1", 4591)], ["conflict"]),
        ([], [allocation("CZ1", row=2), allocation("CZ2", row=3)], ["new", "new"]),
    ],
    ids=["new", "re-sent", "same voucher other amount", "two vouchers"],
)
def test_allocations_are_keyed_on_the_voucher(
    stored: list[dict[str, Any]], incoming: list[dict[str, Any]], expected: list[str]
) -> None:
    incoming_frame = pl.DataFrame(incoming, schema=ALLOCATION_SCHEMA)
    merge = merge_allocations(pl.DataFrame(stored, schema=ALLOCATION_SCHEMA), incoming_frame)
    assert labels(merge, incoming_frame) == expected


def test_stored_history_with_repeated_keys_is_refused() -> None:
    with pytest.raises(ValueError, match="stored records"):
        merge_receipts(receipts([receipt("R1"), receipt("R1", row=3)]), receipts([receipt("R2")]))


_rows = st.lists(
    st.tuples(
        st.sampled_from(["R1", "R2", "R3"]),
        st.integers(1, 2),
        st.sampled_from([100, 200]),
        st.sampled_from(["a.csv", "b.csv"]),
    ),
    max_size=12,
)


@settings(max_examples=200, deadline=None)
@given(stored=_rows, incoming=_rows)
def test_every_incoming_row_lands_in_exactly_one_place(
    stored: list[tuple[str, int, int, str]], incoming: list[tuple[str, int, int, str]]
) -> None:
    stored_frame = receipts(
        [receipt(no, amount, "old.csv", i, line) for i, (no, line, amount, _) in enumerate(stored)]
    ).unique(["receipt_no", "line_no"], keep="first", maintain_order=True)
    incoming_frame = receipts(
        [receipt(no, amount, file, i, line) for i, (no, line, amount, file) in enumerate(incoming)]
    )
    merge = merge_receipts(stored_frame, incoming_frame)
    parts = [merge.new, merge.duplicates, merge.conflicts]
    assert sum(p.height for p in parts) == incoming_frame.height
    assert pl.concat(parts).sort("source_row").equals(incoming_frame.sort("source_row"))
    assert sum(int(p["amount_fen"].sum()) for p in parts) == int(incoming_frame["amount_fen"].sum())
    keys = ["receipt_no", "line_no"]
    assert merge.new.select(keys).is_unique().all()
    assert merge.new.join(stored_frame, on=keys, how="semi").is_empty()
    history = pl.concat([stored_frame, merge.new])
    winners = history.select(*keys, winner=pl.col("amount_fen"))
    dup = merge.duplicates.join(winners, on=keys, how="left", validate="m:1")
    assert (dup["amount_fen"] == dup["winner"]).all()
    clash = merge.conflicts.join(winners, on=keys, how="left", validate="m:1")
    assert (clash["amount_fen"] != clash["winner"]).all()
