"""Months: `YYYY-MM` text, month indexes, first and last days, in scalar and polars form."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dues.periods import (
    check_period,
    first_day,
    first_day_expr,
    format_period,
    last_day,
    month_index,
    month_of,
    parse_period,
    period_index,
    period_text,
)


@pytest.mark.parametrize(
    ("text", "index"),
    [
        ("2026-01", 2026 * 12),
        ("2026-07", 2026 * 12 + 6),
        ("2026-12", 2026 * 12 + 11),
        ("0999-03", 999 * 12 + 2),
    ],
)
def test_period_text_and_index_round_trip(text: str, index: int) -> None:
    assert parse_period(text) == index
    assert format_period(index) == text


@pytest.mark.parametrize(
    "text", ["2026-13", "2026-00", "2026-7", "202607", "2026/07", " 2026-07", ""]
)
def test_malformed_period_is_a_clear_error(text: str) -> None:
    with pytest.raises(ValueError, match="YYYY-MM"):
        parse_period(text)


@pytest.mark.parametrize(
    ("period", "first", "last"),
    [
        ("2026-02", date(2026, 2, 1), date(2026, 2, 28)),
        ("2028-02", date(2028, 2, 1), date(2028, 2, 29)),
        ("2026-04", date(2026, 4, 1), date(2026, 4, 30)),
        ("2026-12", date(2026, 12, 1), date(2026, 12, 31)),
    ],
)
def test_first_and_last_day_of_month(period: str, first: date, last: date) -> None:
    assert first_day(parse_period(period)) == first
    assert last_day(parse_period(period)) == last
    assert month_of(first) == month_of(last) == parse_period(period)


@given(st.integers(min_value=1900 * 12, max_value=2200 * 12))
def test_polars_expressions_agree_with_scalar_helpers(index: int) -> None:
    row = (
        pl.DataFrame({"m": [index]}, schema={"m": pl.Int32})
        .select(
            text=period_text(pl.col("m")),
            first=first_day_expr(pl.col("m")),
            back=month_index(first_day_expr(pl.col("m"))),
            parsed=period_index(period_text(pl.col("m"))),
        )
        .row(0, named=True)
    )
    assert row == {
        "text": format_period(index),
        "first": first_day(index),
        "back": index,
        "parsed": index,
    }


@pytest.mark.parametrize(
    "text", ["2026-7", "2026-13", "2026-00", "２０２６-10", "2026-10\n", "", "26-10"]
)
def test_check_period_refuses_anything_but_yyyy_mm(text: str) -> None:
    with pytest.raises(ValueError, match="period must be YYYY-MM"):
        check_period(text)
    assert check_period("2026-10") == "2026-10"


@pytest.mark.parametrize("text", ["0000-01", "1999-12", "2100-01", "9999-12"])
def test_check_period_refuses_a_month_outside_specs_plausible_dates(text: str) -> None:
    with pytest.raises(ValueError, match="outside 2000-01 … 2099-12"):
        check_period(text)
    assert check_period("2000-01") == "2000-01" and check_period("2099-12") == "2099-12"
