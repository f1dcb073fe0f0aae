"""The run history (`dues runs`): inputs and totals per run, and which periods are stale."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import polars as pl
import pytest

from dues.history import run_history


def at(minute: int) -> datetime:
    return datetime(2026, 11, 5, 6, minute, tzinfo=UTC)


def runs(*rows: tuple[str, str, str, int]) -> pl.DataFrame:
    """(run id, period, status, minute it finished) per run, as the store lists them."""
    return pl.DataFrame(
        [
            {"run_id": r, "period": p, "status": s, "started_at": at(m - 1),
             "finished_at": at(m), "totals": json.dumps({"expected_fen": m, "arrears_fen": 1})}
            for r, p, s, m in rows
        ],
        schema={"run_id": pl.String, "period": pl.String, "status": pl.String,
                "started_at": pl.Datetime("us", "UTC"), "finished_at": pl.Datetime("us", "UTC"),
                "totals": pl.String},
    )  # fmt: skip


FILES = pl.DataFrame(
    {"run_id": ["a", "a", "b"], "file_name": ["registry.xlsx", "c7.csv", "registry.xlsx"]}
)


@pytest.mark.parametrize(
    ("case", "rows", "stale"),
    [
        ("months run in order: none stale",
         [("a", "2026-07", "completed", 10), ("b", "2026-08", "completed", 20)], []),
        ("July re-run after August: August stale",
         [("x", "2026-07", "superseded", 5), ("b", "2026-08", "completed", 20),
          ("a", "2026-07", "completed", 30)], ["b"]),
        ("a forgotten June run last: July and August stale",
         [("a", "2026-07", "completed", 10), ("b", "2026-08", "completed", 20),
          ("c", "2026-06", "completed", 30)], ["a", "b"]),
        ("August re-run after the July re-run: fresh again",
         [("a", "2026-07", "completed", 30), ("b", "2026-08", "completed", 40)], []),
    ],
)  # fmt: skip
def test_a_period_is_stale_when_an_earlier_one_was_run_after_it(
    case: str, rows: list[tuple[str, str, str, int]], stale: list[str]
) -> None:
    history = run_history(runs(*rows), FILES)
    assert history.filter("stale")["run_id"].to_list() == stale, case


def test_each_run_lists_its_inputs_and_totals_oldest_first() -> None:
    history = run_history(
        runs(("b", "2026-08", "completed", 20), ("a", "2026-07", "completed", 10)), FILES
    )
    assert history["run_id"].to_list() == ["a", "b"]
    first = history.row(0, named=True)
    assert (first["inputs"], first["input_files"]) == (2, "c7.csv, registry.xlsx")
    assert (first["expected_fen"], first["arrears_fen"], first["quarantined_rows"]) == (10, 1, None)
