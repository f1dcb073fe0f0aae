"""`dues.summary`: the figures a finished run shows in Prefect and on the console, as text."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from dues.run import RunSummary
from dues.summary import channel_rates, jurisdiction_rates, markdown_summary, percent, yuan


@pytest.mark.parametrize(
    ("fen", "text"),
    [(None, "—"), (0, "0.00"), (5, "0.05"), (100, "1.00"), (123_456, "1,234.56"),
     (-5, "-0.05"), (-123_456, "-1,234.56"), (10**17 + 1, "1,000,000,000,000,000.01")],
)  # fmt: skip
def test_yuan_is_fen_with_thousands_separators_and_two_decimals_exactly(
    fen: int | None, text: str
) -> None:
    assert yuan(fen) == text


@pytest.mark.parametrize(
    ("ratio", "text"),
    [(None, "—"), (0.0, "0.0%"), (0.5, "50.0%"), (1 / 3, "33.3%"), (0.9996, "100.0%"),
     (1.25, "125.0%")],
)  # fmt: skip
def test_percent_has_one_decimal(ratio: float | None, text: str) -> None:
    assert percent(ratio) == text


def indicators_in(out_dir: Path, rows: list[dict[str, object]]) -> Path:
    """OUT/<period>/indicators.parquet with the columns the summaries read."""
    schema = {
        "level": pl.String, "jurisdiction": pl.String,
        "tax_expected_fen": pl.Int64, "tax_collected_fen": pl.Int64,
        "fiscal_expected_fen": pl.Int64, "fiscal_collected_fen": pl.Int64,
        "tax_collection_rate": pl.Float64, "fiscal_collection_rate": pl.Float64,
        "founding_rate_tier1": pl.Float64, "membership_rate": pl.Float64,
    }  # fmt: skip
    pl.DataFrame(rows, schema=schema).write_parquet(out_dir / "indicators.parquet")
    return out_dir


EAST = {
    "level": "jurisdiction", "jurisdiction": "东镇工会",
    "tax_expected_fen": 200_000, "tax_collected_fen": 150_000,
    "fiscal_expected_fen": 0, "fiscal_collected_fen": 0,
    "tax_collection_rate": 0.75, "fiscal_collection_rate": None,
    "founding_rate_tier1": 0.5, "membership_rate": None,
}  # fmt: skip
COUNTY = EAST | {"level": "county", "jurisdiction": "全县"}


def test_channel_rates_are_the_countys_expected_and_collected_per_channel(tmp_path: Path) -> None:
    out_dir = indicators_in(tmp_path, [EAST, COUNTY])
    assert channel_rates(out_dir) == [
        {"channel": "税务代收 tax", "expected": "2,000.00", "collected": "1,500.00",
         "rate": "75.0%"},
        {"channel": "财政划拨 fiscal", "expected": "0.00", "collected": "0.00", "rate": "—"},
    ]  # fmt: skip


def test_without_a_county_row_there_are_no_channel_rates(tmp_path: Path) -> None:
    assert channel_rates(indicators_in(tmp_path, [EAST])) == []


def test_jurisdiction_rates_have_one_row_per_indicators_row_in_its_order(tmp_path: Path) -> None:
    rows = jurisdiction_rates(indicators_in(tmp_path, [EAST, COUNTY]))
    assert [r["jurisdiction"] for r in rows] == ["东镇工会", "全县"]
    assert rows[0] == {
        "jurisdiction": "东镇工会", "tax expected": "2,000.00", "tax collected": "1,500.00",
        "tax 到位率": "75.0%", "fiscal 到位率": "—", "组建率": "50.0%", "入会率": "—",
    }  # fmt: skip


TOTALS = {
    "arrears_fen": 123_456, "credit_fen": 100, "founding_drive_units": 3, "returnable_fen": 0,
    "unmatched_receipts": 1, "unmatched_fen": -1_050, "quarantined_rows": 2,
}  # fmt: skip
INPUT = {
    "file": "c.csv", "rows_read": 1_204, "rows_accepted": 1_200, "rows_quarantined": 2,
    "rows_duplicate": 2, "money_accepted_fen": 1_234_567,
}  # fmt: skip


def test_markdown_summary_lists_the_files_the_channels_and_the_run_totals(tmp_path: Path) -> None:
    summary = RunSummary(
        run_id="r-1",
        period="2026-08",
        out_dir=indicators_in(tmp_path, [COUNTY]),
        report=tmp_path / "report.xlsx",
        totals=TOTALS,
        files=[INPUT],
        start_period="2026-07",
    )
    assert markdown_summary(summary) == "\n".join(
        [
            "# dues 2026-08",
            "",
            "Run `r-1`, months 2026-07 … 2026-08.",
            "",
            "| input file | rows read | accepted | quarantined | duplicates "
            "| money accepted (yuan) |",
            "|---|---:|---:|---:|---:|---:|",
            "| c.csv | 1,204 | 1,200 | 2 | 2 | 12,345.67 |",
            "",
            "| channel | expected | collected | 到位率 |",
            "|---|---:|---:|---:|",
            "| 税务代收 tax | 2,000.00 | 1,500.00 | 75.0% |",
            "| 财政划拨 fiscal | 0.00 | 0.00 | — |",
            "",
            "* arrears: **1,234.56** yuan; credit 1.00",
            "* founding drive: **3** units to visit",
            "* preparatory-fund returns: 0.00",
            "* unmatched receipts: 1 (-10.50)",
            "* quarantined rows: 2",
            f"* report: `{tmp_path / 'report.xlsx'}`",
            "",
        ]
    )
