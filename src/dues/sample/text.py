"""Money, rates and dates written the ways the bureaus write them.

Money is integer fen from generation to file: every yuan text is made with
integer division, never by formatting a float, so the manifest's fen figures and
the file's text agree exactly.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

EXCEL_EPOCH = date(1899, 12, 30)  # Excel serial day 0 (with Lotus' 1900 leap-year bug)
_FULL_WIDTH = str.maketrans("0123456789.,-%", "０１２３４５６７８９．，－％")


def half_up(base_fen: int, rate_bp: int) -> int:
    """round_half_up(base × rate): what a correct receipt charges (base is never negative)."""
    return (base_fen * rate_bp + 5_000) // 10_000


def truncated(base_fen: int, rate_bp: int) -> int:
    """base × rate with the fraction dropped, as some payroll software computes it."""
    return base_fen * rate_bp // 10_000


def yuan(fen: int, *, thousands: bool = False) -> str:
    """Fen -> yuan text with two decimals: 123456 -> '1234.56' (or '1,234.56')."""
    whole, cents = divmod(abs(fen), 100)
    sign = "-" if fen < 0 else ""
    return f"{sign}{whole:,}.{cents:02d}" if thousands else f"{sign}{whole}.{cents:02d}"


def full_width(text: str) -> str:
    """Digits and punctuation in their full-width forms, as Chinese input methods type them."""
    return text.translate(_FULL_WIDTH)


def rate_text(rate_bp: int, style: str) -> str:
    """Basis points as 'fraction' 0.01, 'percent' 1% or 'bare' 1 (which means 1%)."""
    if style == "fraction":
        whole, frac = divmod(rate_bp, 10_000)
        return f"{whole}.{frac:04d}".rstrip("0").rstrip(".") if frac else str(whole)
    whole, frac = divmod(rate_bp, 100)
    number = f"{whole}.{frac:02d}".rstrip("0") if frac else str(whole)
    return number + "%" if style == "percent" else number


def date_text(d: date, style: str) -> str:
    """'iso' 2026-10-08, 'slash' 2026/10/8 (no zero padding), 'compact' 20261008."""
    if style == "slash":
        return f"{d.year}/{d.month}/{d.day}"
    if style == "compact":
        return f"{d.year}{d.month:02d}{d.day:02d}"
    return d.isoformat()


def impossible_date_text(year: int, month: int, day: int, style: str) -> str:
    """A date that does not exist (2026-09-31) in the style's layout, for bad_date rows."""
    if style == "slash":
        return f"{year}/{month}/{day}"
    if style == "compact":
        return f"{year}{month:02d}{day:02d}"
    return f"{year}-{month:02d}-{day:02d}"


def excel_serial(d: date) -> int:
    return (d - EXCEL_EPOCH).days


# ---- months ---------------------------------------------------------------------------


def parse_month(text: str) -> date:
    """'2026-10' -> date(2026, 10, 1)."""
    year, month = text.split("-")
    return date(int(year), int(month), 1)


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def month_end(month: date) -> date:
    return add_months(month, 1) - timedelta(days=1)


def month_label(month: date) -> str:
    return f"{month.year}-{month.month:02d}"


def quarter_start(month: date) -> date:
    return date(month.year, (month.month - 1) // 3 * 3 + 1, 1)


# ---- vectorized (benchmark files) -----------------------------------------------------


def yuan_expr(fen: pl.Expr) -> pl.Expr:
    """Vectorized `yuan` without separators: integer division only, sign kept."""
    magnitude = fen.abs()
    # 100 + cents is '100'..'199': its last two characters are the zero-padded cents.
    cents = (magnitude % 100 + 100).cast(pl.String).str.slice(1, 2)
    text = (magnitude // 100).cast(pl.String) + "." + cents
    return pl.when(fen < 0).then("-" + text).otherwise(text)
