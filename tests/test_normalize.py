"""Case tables for the normalizers: what a bureau cell says and what dues reads."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from dues import normalize


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
