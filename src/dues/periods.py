"""Months as `YYYY-MM` text and as an integer index, in scalar and polars form.

A month index is `year * 12 + month - 1`: consecutive months are consecutive
integers, so month arithmetic is integer arithmetic and vectorizes in polars.
Calendar quarters align with it (`index // 3` is the quarter number) because a
year holds a whole number of quarters.
"""

from __future__ import annotations

import calendar
import re
from datetime import date
from typing import Final

import polars as pl

MONTH_DTYPE = pl.Int32
_PERIOD = re.compile(r"^([0-9]{4})-([0-9]{2})\Z")


def parse_period(text: str) -> int:
    """`'2026-07'` -> month index; anything else is a ValueError naming the text.

    The one check of the `YYYY-MM` form: the command line, the run and the store
    all call it (through `check_period`), so they refuse the same texts.
    """
    match = _PERIOD.match(text) if isinstance(text, str) else None
    if match is None or not 1 <= int(match.group(2)) <= 12:
        raise ValueError(f"period must be YYYY-MM (e.g. 2026-10), not {text!r}")
    return int(match.group(1)) * 12 + int(match.group(2)) - 1


# SPEC §3's plausible dates, 2000-01-01 … 2099-12-31: a run period outside them is a typo.
FIRST_PLAUSIBLE: Final = 2000 * 12
LAST_PLAUSIBLE: Final = 2099 * 12 + 11


def check_period(text: str) -> str:
    """`text` itself when it is a month written `YYYY-MM` within SPEC §3's plausible
    range (2000-01 … 2099-12), else a ValueError naming the text."""
    if not FIRST_PLAUSIBLE <= parse_period(text) <= LAST_PLAUSIBLE:
        raise ValueError(
            f"period {text!r} is outside {format_period(FIRST_PLAUSIBLE)} … "
            f"{format_period(LAST_PLAUSIBLE)}"
        )
    return text


def format_period(index: int) -> str:
    """Month index -> `'YYYY-MM'`."""
    year, month0 = divmod(index, 12)
    return f"{year:04d}-{month0 + 1:02d}"


def month_of(day: date) -> int:
    """The month index a date falls in."""
    return day.year * 12 + day.month - 1


def first_day(index: int) -> date:
    """First day of the month."""
    year, month0 = divmod(index, 12)
    return date(year, month0 + 1, 1)


def last_day(index: int) -> date:
    """Last day of the month."""
    year, month0 = divmod(index, 12)
    return date(year, month0 + 1, calendar.monthrange(year, month0 + 1)[1])


def month_index(day: pl.Expr) -> pl.Expr:
    """Date expression -> Int32 month index."""
    return (day.dt.year().cast(MONTH_DTYPE) * 12 + day.dt.month().cast(MONTH_DTYPE) - 1).cast(
        MONTH_DTYPE
    )


def first_day_expr(index: pl.Expr) -> pl.Expr:
    """Month index expression -> Date of the month's first day."""
    return pl.date(index // 12, index % 12 + 1, 1)


def period_text(index: pl.Expr) -> pl.Expr:
    """Month index expression -> `'YYYY-MM'` String."""
    year = (index // 12).cast(pl.String).str.zfill(4)
    month = (index % 12 + 1).cast(pl.String).str.zfill(2)
    return pl.concat_str([year, pl.lit("-"), month])


def period_index(text: pl.Expr) -> pl.Expr:
    """`'YYYY-MM'` String expression -> Int32 month index (null where not of that shape)."""
    year = text.str.slice(0, 4).cast(MONTH_DTYPE, strict=False)
    month = text.str.slice(5, 2).cast(MONTH_DTYPE, strict=False)
    return (year * 12 + month - 1).cast(MONTH_DTYPE)
