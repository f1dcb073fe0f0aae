"""A line is judged against the line kept for its key: in one file and against the store alike."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
import pytest
from _ledger_lines import labels, receipt, receipts

from dues.repeats import RECORDS, REGISTRY_UNIT, split_repeats
from dues.schemas import KINDS, Kind, input_spec

OLD = "old.csv"  # a file of an earlier run: its lines are the stored ones

# case | stored lines ([]: one file on its own, as ingest judges it) | lines given | verdicts
CASES = [
    ("an exact repeat in a file is a duplicate",
     [], [receipt("R1", 100, row=2), receipt("R1", 100, row=3)], ["new", "dup"]),
    ("an exact repeat of a stored line is a duplicate",
     [receipt("R1", 100, file=OLD)], [receipt("R1", 100)], ["dup"]),
    ("the same key with another amount in a file is a conflict",
     [], [receipt("R1", 100, row=2), receipt("R1", 200, row=3)], ["new", "conflict"]),
    ("the same key with another amount than the stored line is a conflict",
     [receipt("R1", 100, file=OLD)], [receipt("R1", 200)], ["conflict"]),
    ("R1/100, R1/200, R1/200 in a file: both 200 lines are conflicts",
     [], [receipt("R1", 100, row=2), receipt("R1", 200, row=3), receipt("R1", 200, row=4)],
     ["new", "conflict", "conflict"]),
    ("R1/100 stored, R1/200, R1/200 given: both 200 lines are conflicts",
     [receipt("R1", 100, file=OLD)], [receipt("R1", 200, row=2), receipt("R1", 200, row=3)],
     ["conflict", "conflict"]),
    ("the kept line again after a conflict is a duplicate",
     [], [receipt("R1", 100, row=2), receipt("R1", 200, row=3), receipt("R1", 100, row=4)],
     ["new", "conflict", "dup"]),
    ("a stored line is kept over the first line given",
     [receipt("R1", 100, file=OLD)], [receipt("R1", 200, row=2), receipt("R1", 100, row=3)],
     ["conflict", "dup"]),
    ("optional columns absent from the line given: a duplicate of the stored line",
     [receipt("R1", file=OLD)], [receipt("R1", item_code=None, tax_office=None)], ["dup"]),
    ("optional columns absent from the stored line: a duplicate",
     [receipt("R1", file=OLD, item_code=None, tax_office=None)], [receipt("R1")], ["dup"]),
    ("optional columns absent from the later line of a file: a duplicate",
     [], [receipt("R1", row=2), receipt("R1", row=3, item_code=None, tax_office=None)],
     ["new", "dup"]),
    ("a tax office differing from the stored line's: a conflict",
     [receipt("R1", file=OLD)], [receipt("R1", tax_office="另一税务局")], ["conflict"]),
    ("an item code differing within a file: a conflict",
     [], [receipt("R1", row=2), receipt("R1", row=3, item_code="399001020")],
     ["new", "conflict"]),
    ("a paid date differing from the stored line's: a conflict",
     [receipt("R1", file=OLD)], [receipt("R1", paid_date=date(2026, 8, 11))], ["conflict"]),
    ("no paid date on the line given (a template without 入库日期): a duplicate",
     [receipt("R1", file=OLD)], [receipt("R1", paid_date=None)], ["dup"]),
    ("another line of the same receipt is another key: new",
     [receipt("R1", file=OLD)], [receipt("R1", line=2)], ["new"]),
    ("the frame's order decides which line is first (the ledger sorts files first)",
     [], [receipt("R1", 200, row=9), receipt("R1", 100, row=3)], ["new", "conflict"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("stored", "given", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_each_line_is_judged_against_the_line_kept_for_its_key(
    stored: list[dict[str, Any]], given: list[dict[str, Any]], expected: list[str]
) -> None:
    lines = receipts(given)
    sides = [receipts(stored)] if stored else [None, receipts([])]
    for side in sides:
        merge = split_repeats(lines, RECORDS["collections"], side)
        assert labels(merge, lines) == expected
        assert merge.new.columns == lines.columns


def test_every_frame_keeps_the_order_it_was_given_in() -> None:
    given = [("R3", 1), ("R1", 1), ("R3", 1), ("R2", 1), ("R1", 2), ("R3", 2), ("R1", 2)]
    lines = receipts([receipt(no, fen, row=row) for row, (no, fen) in enumerate(given, start=2)])
    merge = split_repeats(lines, RECORDS["collections"])
    assert merge.new["source_row"].to_list() == [2, 3, 5]
    assert merge.duplicates["source_row"].to_list() == [4]
    assert merge.conflicts["source_row"].to_list() == [6, 7, 8]


def test_a_registry_unit_with_a_blank_cell_against_a_filled_one_is_a_conflict() -> None:
    unit = {c: "x" for c in (*REGISTRY_UNIT.key, *REGISTRY_UNIT.content)}
    lines = pl.DataFrame(
        [unit | {"source_row": 2}, unit | {"source_row": 3, "members": None}]
    ).with_columns(source_file=pl.lit("r.csv"))
    merge = split_repeats(lines, REGISTRY_UNIT)
    assert labels(merge, lines) == ["new", "conflict"]


@pytest.mark.parametrize("kind", KINDS)
def test_each_record_names_every_column_of_its_input_contract(kind: Kind) -> None:
    spec = input_spec(kind)
    record = RECORDS[kind]
    assert record.key == tuple(spec.column(k).target for k in spec.key)
    assert sorted((*record.key, *record.content, *record.optional)) == sorted(
        c.target for c in spec.columns
    )
