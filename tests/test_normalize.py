"""Case tables for the normalizers: what a bureau cell says and what dues reads."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dues import normalize, uscc


def apply(expr_fn, text):  # type: ignore[no-untyped-def]
    return pl.select(expr_fn(pl.lit(text, dtype=pl.String))).item()


@pytest.mark.parametrize(
    ("cell", "fen"),
    [
        ("1234.56", 123456),
        ("1,234.56", 123456),
        ("１２３４．５６", 123456),  # full-width digits and point
        ("９４５５９３．４８", 94559348),
        ("638.71元", 63871),
        (" 638.71 元 ", 63871),
        ("¥12.00", 1200),
        ("-3415.28", -341528),  # refund
        ("12", 1200),
        ("12.5", 1250),
        (".5", 50),
        ("0.005", 1),  # half up
        ("0.0049", 0),
        ("-0.005", -1),  # half up on the magnitude
        ("1014.5399999999999", 101454),  # an Excel float written out
        ("385.86", 38586),
        ("abc", None),
        ("1e5", None),
        ("", None),
        ("12.34.56", None),
    ],
)
def test_money_is_read_to_the_fen_with_half_up_rounding(cell: str, fen: int | None) -> None:
    assert apply(normalize.money_fen, cell) == fen


@pytest.mark.parametrize(
    ("cell", "value"),
    [("12", 12), ("1,200", 1200), ("12.0", 12), ("１２", 12), ("12.5", None), ("x", None)],
)
def test_whole_numbers_accept_excel_floats_but_not_fractions(cell: str, value: int | None) -> None:
    assert apply(normalize.whole_number, cell) == value


@pytest.mark.parametrize(
    ("cell", "bp"),
    [
        ("0.02", 200),
        ("2%", 200),
        ("2", 200),
        ("0.01", 100),
        ("1%", 100),
        ("1", 100),
        ("２％", 200),
        ("1.5", 150),
        ("0.015", 150),
        ("rate", None),
    ],
)
def test_rates_become_basis_points(cell: str, bp: int | None) -> None:
    assert apply(normalize.rate_bp, cell) == bp


@pytest.mark.parametrize(
    ("cell", "day"),
    [
        ("2026-10-08", date(2026, 10, 8)),
        ("2026/10/8", date(2026, 10, 8)),
        ("2026/8/5", date(2026, 8, 5)),
        ("20261008", date(2026, 10, 8)),
        ("46273", date(2026, 9, 8)),  # Excel serial day
        ("46273.0", date(2026, 9, 8)),
        ("2026-04-01 00:00:00", date(2026, 4, 1)),  # a datetime cell
        ("2026年8月5日", date(2026, 8, 5)),
        ("2026.8.5", date(2026, 8, 5)),
        ("２０２６－１０－０８", date(2026, 10, 8)),
        ("2026-13-45", None),
        ("2026-02-30", None),
        ("12", None),  # too small for a serial day of this century
        ("yesterday", None),
    ],
)
def test_dates_in_every_bureau_spelling(cell: str, day: date | None) -> None:
    assert apply(normalize.date_value, cell) == day


LABELS = {"enterprise": ["企业"], "public_institution": ["事业单位"], "own": ["单独建会"]}


@pytest.mark.parametrize(
    ("cell", "name"),
    [
        ("企业", "enterprise"),
        ("enterprise", "enterprise"),
        ("Enterprise", "enterprise"),
        (" 事业单位 ", "public_institution"),
        ("单独建会", "own"),
        ("企 业", "enterprise"),
        ("国企", None),
    ],
)
def test_enums_from_english_names_or_chinese_labels(cell: str, name: str | None) -> None:
    assert apply(lambda e: normalize.enum_value(e, LABELS), cell) == name


@pytest.mark.parametrize(
    ("cell", "code"),
    [("320260000000001065", "320260000000001065"), ("3202600.0", "3202600"), (" cz001 ", "CZ001")],
)
def test_codes_lose_excel_float_tails_and_spaces(cell: str, code: str) -> None:
    assert apply(normalize.code_text, cell) == code


# ---- plausibility (SPEC §3) -------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "fen"),
    [
        ("1,2,3", None),  # separators not in groups of three
        ("12,34", None),
        ("1.234,56", None),  # a decimal comma
        ("1,234,567.89", 123456789),
        ("１，２３４．５", 123450),  # full-width separators fold like full-width digits
        ("１２３", 12300),
        ("1 234 567", 123456700),  # a space between digits groups them like a comma
        ("1 2 3", None),
        ("①⓪⓪", None),  # NFKC would make these digits; they are not numbers
        ("1000²", None),
        ("١٢٣", None),  # other scripts' digits
        ("12元5", None),
        ("1000000000000", 100_000_000_000_000),  # exactly 10^12 yuan: the bound
        ("-1,000,000,000,000.00", -100_000_000_000_000),
        ("1000000000000.01", None),
        ("9999999999999", None),
        ("10000000000000000", None),  # 10^16 yuan: never an Int64 overflow
        ("99999999999999999999999", None),
    ],
)
def test_money_not_written_as_a_number_or_beyond_a_trillion_yuan_is_null(
    cell: str, fen: int | None
) -> None:
    assert apply(normalize.money_fen, cell) == fen


@pytest.mark.parametrize("cell", ["1,2,3", "①", "2²", "1.2.3"])
def test_counts_and_rates_follow_the_same_number_rules(cell: str) -> None:
    assert apply(normalize.whole_number, cell) is None
    assert apply(normalize.rate_bp, cell) is None


@pytest.mark.parametrize(
    ("cell", "day"),
    [
        ("0026-10-08", None),
        ("1900-01-01", None),
        ("1999-12-31", None),
        ("2000-01-01", date(2000, 1, 1)),
        ("2099-12-31", date(2099, 12, 31)),
        ("2100-01-01", None),
        ("9999-12-31", None),
        ("10000-01-01", None),
        ("+10000-01-01", None),
        ("99991231", None),
        ("36525", None),  # the Excel serial of 1999-12-31
        ("36526", date(2000, 1, 1)),
        ("73050", date(2099, 12, 31)),
        ("73051", None),
    ],
)
def test_dates_outside_2000_to_2099_are_not_plausible(cell: str, day: date | None) -> None:
    assert apply(normalize.date_value, cell) == day


# ---- fast paths: exactly the full normalizer on the cells they take -------------------

FULL = {
    "money": normalize.money_fen,
    "int": normalize.whole_number,
    "code": normalize.code_text,
    "uscc": lambda e: normalize.clean_text(uscc.normalized(e)),
    "date": normalize.date_value,
}


def _both(kind: str, cells: list[str]) -> tuple[list[object], list[object]]:
    fast = normalize.FAST_PATHS[kind]
    frame = pl.DataFrame({"t": cells}, schema={"t": pl.String})
    assert frame.select(pl.col("t").str.contains(fast.pattern).all()).item()
    out = frame.select(fast=fast.parse(pl.col("t")), full=FULL[kind](pl.col("t")))
    return out["fast"].to_list(), out["full"].to_list()


@pytest.mark.parametrize("kind", sorted(normalize.FAST_PATHS))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_a_fast_path_reads_its_cells_as_the_full_normalizer_does(kind: str, data) -> None:  # type: ignore[no-untyped-def]
    pattern = normalize.FAST_PATHS[kind].pattern
    cells = data.draw(st.lists(st.from_regex(pattern, fullmatch=True), min_size=1, max_size=30))
    fast, full = _both(kind, cells)
    assert fast == full


@pytest.mark.parametrize(
    ("kind", "cells"),
    [
        ("money", ["0", "-0", "12.", ".5", "-.05", "-12.30", "000123", "999999999999.99"]),
        ("int", ["0", "-0", "007", "123456789012345"]),
        (
            "date",
            ["2026-01-31", "2026-02-30", "2024-02-29", "2026-13-01", "2000-00-00", "2099-12-31"],
        ),
        ("uscc", ["91369901014008660R", "000000000000000000"]),
        ("code", ["320260000001000000", "CZ001"]),
    ],
)
def test_fast_paths_on_edge_cells(kind: str, cells: list[str]) -> None:
    fast, full = _both(kind, cells)
    assert fast == full


@settings(max_examples=40, deadline=None)
@given(
    cells=st.lists(
        st.one_of(
            st.from_regex(normalize.FAST_PATHS["money"].pattern, fullmatch=True),
            st.sampled_from(["1,234.56", "１２.５", "638.71元", "0.005", "abc", " 7 ", "-"]),
            st.none(),
        ),
        max_size=40,
    )
)
def test_ingest_parses_a_mixed_column_cell_for_cell_as_the_full_normalizer(cells) -> None:  # type: ignore[no-untyped-def]
    from dues.ingest import _parse_column
    from dues.schemas import input_spec

    col = input_spec("collections").column("amount")
    series = pl.Series("raw", cells, dtype=pl.String)
    expected = series.to_frame("t").select(normalize.money_fen(pl.col("t")))["money_fen"]
    assert _parse_column(series, col).to_list() == expected.to_list()
