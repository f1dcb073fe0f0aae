"""The run history (`dues runs`): inputs and totals per run, and which periods are stale.

A run's staleness is kept by the ledger: the commit of a run of period P marks every
completed run of a later period (dues.store), and `run_history` shows those marks.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from test_store import commit, run_record

from dues import migrations
from dues.history import run_history, stale_periods
from dues.store import Store, open_store


def at(minute: int) -> datetime:
    return datetime(2026, 11, 5, 6, minute, tzinfo=UTC)


def runs(*rows: tuple[str, str, str, int, str | None]) -> pl.DataFrame:
    """(run id, period, status, minute it finished, run that made it stale) per run."""
    return pl.DataFrame(
        [
            {"run_id": r, "period": p, "status": s, "started_at": at(m - 1),
             "finished_at": at(m), "totals": json.dumps({"expected_fen": m, "arrears_fen": 1}),
             "stale_since": None if by is None else at(m + 1), "stale_by_run": by}
            for r, p, s, m, by in rows
        ],
        schema={"run_id": pl.String, "period": pl.String, "status": pl.String,
                "started_at": pl.Datetime("us", "UTC"), "finished_at": pl.Datetime("us", "UTC"),
                "totals": pl.String, "stale_since": pl.Datetime("us", "UTC"),
                "stale_by_run": pl.String},
    )  # fmt: skip


FILES = pl.DataFrame(
    {"run_id": ["a", "a", "b"], "file_name": ["registry.xlsx", "c7.csv", "registry.xlsx"]}
)


@pytest.mark.parametrize(
    ("case", "rows", "stale"),
    [
        ("no marks: none stale",
         [("a", "2026-07", "completed", 10, None), ("b", "2026-08", "completed", 20, None)], []),
        ("August marked by the July re-run",
         [("x", "2026-07", "superseded", 5, None), ("b", "2026-08", "completed", 20, "a"),
          ("a", "2026-07", "completed", 30, None)], [("b", "2026-07")]),
        ("a superseded run keeps its mark but is not stale: its successor is current",
         [("b", "2026-08", "superseded", 20, "a"), ("a", "2026-07", "completed", 30, None),
          ("c", "2026-08", "completed", 40, None)], []),
        # The old rule (derived from the order of runs) called this fresh: an August run
        # after July's re-run. The mark says what the ledger knows: July's re-run (a)
        # came after the August run that is still current.
        ("the mark, not the order, decides",
         [("a", "2026-07", "completed", 30, None), ("b", "2026-08", "completed", 20, "a")],
         [("b", "2026-07")]),
    ],
)  # fmt: skip
def test_a_run_is_stale_when_the_ledger_marks_it(
    case: str, rows: list[tuple[str, str, str, int, str | None]], stale: list[tuple[str, str]]
) -> None:
    history = run_history(runs(*rows), FILES)
    got = history.filter("stale").select("run_id", "stale_by_period").rows()
    assert got == stale, case


def test_each_run_lists_its_inputs_and_totals_oldest_first() -> None:
    history = run_history(
        runs(("b", "2026-08", "completed", 20, None), ("a", "2026-07", "completed", 10, None)),
        FILES,
    )
    assert history["run_id"].to_list() == ["a", "b"]
    first = history.row(0, named=True)
    assert (first["inputs"], first["input_files"]) == (2, "c7.csv, registry.xlsx")
    assert (first["expected_fen"], first["arrears_fen"], first["quarantined_rows"]) == (10, 1, None)


# ---- the marks in the store, on both backends ------------------------------------------


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with open_store(store_url) as opened:
        yield opened


def stale_now(store: Store) -> dict[str, str]:
    """period -> the run that made its completed run stale."""
    history = run_history(store.list_runs(), store.list_input_files()).filter("stale")
    return dict(history.select("period", "stale_by_run").iter_rows())


def test_a_run_marks_every_completed_later_period_stale_in_the_store(store: Store) -> None:
    for n, period in enumerate(["2026-07", "2026-08", "2026-09"]):
        commit(store, period, f"in-order-{n}")
    assert stale_now(store) == {}  # months run in order
    commit(store, "2026-07", "july-again")
    assert stale_now(store) == {"2026-08": "july-again", "2026-09": "july-again"}
    commit(store, "2026-08", "august-again")  # August is current again; September is not
    assert stale_now(store) == {"2026-09": "july-again"}
    commit(store, "2026-06", "forgotten-june")  # marks July and August; September keeps its mark
    assert stale_now(store) == {
        "2026-07": "forgotten-june",
        "2026-08": "forgotten-june",
        "2026-09": "july-again",
    }
    runs = store.list_runs()
    since = runs.filter(pl.col("run_id") == "august-again")["stale_since"].item()
    assert since.tzinfo is not None
    assert stale_periods(run_history(runs, store.list_input_files())) == [
        "2026-07",
        "2026-08",
        "2026-09",
    ]


def test_a_ledger_from_before_the_marks_gets_those_the_order_of_its_runs_implies(
    store_url: str,
) -> None:
    """Revision 0006 marks the runs of an older ledger as the old derived rule did: a
    completed run is stale when a completed run of an earlier period finished after it."""
    with open_store(store_url) as store:
        for n, period in enumerate(["2026-07", "2026-08", "2026-09", "2026-07"]):
            record = run_record(period, f"r{n}")
            record = replace(record, finished_at=record.finished_at + timedelta(minutes=n))
            commit(store, period, f"r{n}", record=record)
    engine = sa.create_engine(store_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        config = Config()
        config.set_main_option("script_location", str(Path(migrations.__file__).parent))
        config.attributes["connection"] = conn
        command.downgrade(config, "0005")  # the marks are gone with their columns
    engine.dispose()
    with open_store(store_url) as store:  # upgrades to head again
        assert stale_now(store) == {"2026-08": "r3", "2026-09": "r3"}
