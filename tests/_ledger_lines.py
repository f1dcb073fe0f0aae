"""Receipt lines as the ledger holds them, for the case tables of test_repeats and test_ledger.

A line is `receipt(no, amount)`; fields a case does not name take a plain default.
`labels` says where each given line went, so a case reads as a list of verdicts.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl

from dues.repeats import Merge

RECEIPT_SCHEMA = {
    "receipt_no": pl.String,
    "line_no": pl.Int64,
    "uscc": pl.String,
    "taxpayer_name": pl.String,
    "item": pl.String,
    "item_code": pl.String,
    "period_start": pl.Date,
    "period_end": pl.Date,
    "wage_base_fen": pl.Int64,
    "rate_bp": pl.Int64,
    "amount_fen": pl.Int64,
    "paid_date": pl.Date,
    "tax_office": pl.String,
    "source_file": pl.String,
    "source_row": pl.Int64,
}


def receipt(
    no: str, amount: int = 100, file: str = "c.csv", row: int = 2, line: int = 1, **other: Any
) -> dict[str, Any]:
    return {
        "receipt_no": no,
        "line_no": line,
        "uscc": "U1",
        "taxpayer_name": "测试单位",
        "item": "dues",
        "item_code": "399001010",
        "period_start": date(2026, 7, 1),
        "period_end": date(2026, 7, 31),
        "wage_base_fen": amount * 100,
        "rate_bp": 100,
        "amount_fen": amount,
        "paid_date": date(2026, 8, 10),
        "tax_office": "测试县税务局",
        "source_file": file,
        "source_row": row,
    } | other


def receipts(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=RECEIPT_SCHEMA)


def labels(merge: Merge, given: pl.DataFrame) -> list[str]:
    """Where each given line went ("new", "dup", "conflict"), in the order given."""
    where: dict[tuple[str, int], str] = {}
    for name, frame in (
        ("new", merge.new),
        ("dup", merge.duplicates),
        ("conflict", merge.conflicts),
    ):
        for file, row in frame.select("source_file", "source_row").iter_rows():
            where[(file, row)] = name
    return [where[(f, r)] for f, r in given.select("source_file", "source_row").iter_rows()]
