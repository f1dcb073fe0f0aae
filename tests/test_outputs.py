"""The output contract (SPEC §5): the names and columns every writer and reader shares."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from _frames import POLICY, receipt, run, unit

from dues.arrears import aging_columns
from dues.outputs import COLUMNS, NAMES, empty_quarantine, output_path


def test_the_outputs_are_the_spec_files_in_its_order() -> None:
    assert NAMES == (
        "reconciliation",
        "arrears",
        "founding_drive",
        "prep_returns",
        "unmatched",
        "quarantine",
        "indicators",
        "late_fees",
        "distribution",
        "payouts",
    )
    assert output_path(Path("out/2026-10"), "arrears") == Path("out/2026-10/arrears.parquet")
    assert empty_quarantine().columns == list(COLUMNS["quarantine"])


def test_what_the_rules_return_has_exactly_the_contract_columns() -> None:
    outputs = run(
        [unit(), unit("U2")],
        [receipt("U1", "2026-05", wage=100_000, amount=500), receipt("X9", "2026-05")],
    )
    for name, frame in outputs.frames().items():
        columns = [c for c in frame.columns if c not in aging_columns(frame.columns)]
        assert columns == list(COLUMNS[name]), name
    aging = aging_columns(outputs.arrears.columns)
    assert len(aging) == len(POLICY.aging_bucket_days) + 1
    assert isinstance(outputs.arrears, pl.DataFrame)
