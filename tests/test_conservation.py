"""The conservation record (SPEC §3): one identity, adjusted by the ledger merge."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dues.conservation import FileStats


def record(**over: object) -> FileStats:
    figures: dict[str, object] = {
        "file": "collections_2026-10.csv",
        "kind": "collections",
        "sha256": "ab" * 32,
        "encoding": "utf-8",
        "header_row": 1,
        "rows_read": 10,
        "rows_accepted": 7,
        "rows_quarantined": 2,
        "rows_duplicate": 1,
        "money_read_fen": 100_000,
        "money_accepted_fen": 70_000,
        "money_quarantined_fen": 20_000,
        "money_duplicate_fen": 10_000,
        "quarantined_by_reason": {"bad_uscc": 2},
    }
    return FileStats(**(figures | over))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("change", "rows", "money"),
    [
        ({}, True, True),
        ({"rows_accepted": 6}, False, True),  # a row went nowhere
        ({"money_duplicate_fen": 9_999}, True, False),  # a fen went nowhere
        ({"rows_read": 11, "money_read_fen": 100_001}, False, False),
    ],
)
def test_the_identity_holds_only_when_every_row_and_fen_is_somewhere(
    change: dict[str, int], rows: bool, money: bool
) -> None:
    stats = record(**change)
    assert (stats.rows_conserved, stats.money_conserved, stats.conserved) == (
        rows,
        money,
        rows and money,
    )


def test_the_merge_moves_repeats_and_conflicts_out_of_accepted() -> None:
    merged = record().after_merge(duplicates=(2, 15_000), conflicts=(1, 5_000))
    assert (merged.rows_accepted, merged.rows_duplicate, merged.rows_quarantined) == (4, 3, 3)
    assert (merged.money_accepted_fen, merged.money_duplicate_fen) == (50_000, 25_000)
    assert merged.money_quarantined_fen == 25_000
    assert merged.quarantined_by_reason == {"bad_uscc": 2, "conflicting_duplicate": 1}
    assert merged.conserved
    assert record().after_merge() == record()


@given(
    dup=st.tuples(st.integers(0, 7), st.integers(-(10**9), 10**9)),
    bad=st.tuples(st.integers(0, 7), st.integers(-(10**9), 10**9)),
)
def test_whatever_the_merge_moves_the_identity_still_holds(
    dup: tuple[int, int], bad: tuple[int, int]
) -> None:
    assert record().after_merge(duplicates=dup, conflicts=bad).conserved


def test_the_json_of_run_json_reads_back_to_the_same_record() -> None:
    stats = record(totals_row=12, totals_fen=100_000, totals_check="ok", extra_columns=("备注",))
    data = json.loads(json.dumps(stats.as_json(), ensure_ascii=False))
    assert data["rows_conserved"] is True and data["extra_columns"] == ["备注"]
    assert FileStats.from_json(data) == stats
    # The verdicts are recomputed from the figures, never taken from the JSON.
    lying = data | {"rows_accepted": 1, "rows_conserved": True}
    assert not FileStats.from_json(lying).rows_conserved
