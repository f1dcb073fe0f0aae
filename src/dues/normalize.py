"""Normalizers: raw bureau cell text -> typed values, as polars expressions.

Every function takes an expression over *text* (the cell as read) and returns an
expression of the target type that is null where the text cannot be parsed.
The caller turns "non-empty text, null result" into a quarantine reason, so no
normalizer ever raises on bad data.

Money and rates are parsed as decimal *text* with integer arithmetic: polars'
string -> Decimal cast rounds half-to-even and floats cannot hold fen exactly,
and the finance office expects half-up rounding (四舍五入).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import polars as pl

# An Excel serial day number counts from 1899-12-30 (Lotus 1-2-3's leap-year bug
# makes day 60 the non-existent 1900-02-29; no bureau date is that old).
EXCEL_EPOCH = pl.date(1899, 12, 30)
# SPEC §3: a plausible date is within 2000-01-01 .. 2099-12-31; any other is `bad_date`.
FIRST_DATE, LAST_DATE = date(2000, 1, 1), date(2099, 12, 31)
# The serial numbers of those two days.
_SERIAL_MIN, _SERIAL_MAX = 36526, 73050
# SPEC §3: an amount or wage base beyond ±1,000,000,000,000 yuan is `bad_number`.
MAX_MONEY_FEN = 100 * 10**12

# What a number may be written with, before NFKC: ASCII and full-width digits, signs,
# separators, white space, currency and percent signs. NFKC alone would also turn ①⓪⓪
# or 1000² into digits.
_NUMBER_CHARS = r"^[\s0-9０-９,，.．+\-＋－%％¥￥元]*$"
# After folding: thousands separators only in groups of three, one decimal point.
_WELL_FORMED = r"^[+-]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]*)(?:\.[0-9]*)?%?$"

# sign, whole digits (may be empty: ".5"), fraction digits
_DECIMAL = r"^(?<sign>[+-]?)(?<whole>\d*)(?:\.(?<frac>\d*))?$"


# C0 control characters but tab and line feed: a NUL fails a PostgreSQL commit (its text
# cannot hold one) where SQLite would take it, so they are dropped from every cell's text
# for both stores alike; no bureau means anything by them.
_CONTROL = r"[\x00-\x08\x0b-\x1f]"


def clean_text(text: pl.Expr) -> pl.Expr:
    """Fold full-width characters to half-width, drop control characters and strip
    spaces; empty -> null."""
    folded = (
        text.cast(pl.String).str.normalize("NFKC").str.replace_all(_CONTROL, "").str.strip_chars()
    )
    return pl.when(folded.str.len_chars() == 0).then(None).otherwise(folded)


def _numeric_text(text: pl.Expr) -> pl.Expr:
    """Drop what bureaus decorate numbers with (thousands separators, 元, ¥, spaces), or
    null for text that is not written as a number (SPEC §3): `1,2,3`, `1.234,56`, `①⓪⓪`,
    `1000²`. A space between digits is a thousands separator, like a comma."""
    raw = text.cast(pl.String)
    folded = clean_text(raw).str.replace_all(r"¥|元$", "")
    grouped = folded.str.replace_all(r"([0-9])\s+([0-9])", "${1},${2}").str.replace_all(r"\s", "")
    ok = raw.str.contains(_NUMBER_CHARS) & grouped.str.contains(_WELL_FORMED)
    return pl.when(ok).then(grouped.str.replace_all(",", "", literal=True)).otherwise(None)


def scaled_int(text: pl.Expr, places: int, *, cleaned: bool = False) -> pl.Expr:
    """Parse decimal text to an integer count of 10**-places units, rounding half up.

    Half up means away from zero for the magnitude (-0.005 yuan -> -1 fen), which is how
    a refund of a rounded amount is written. Text with an exponent or other letters -> null.
    One regex pass splits sign, whole and fraction; the rest is integer arithmetic.
    """
    t = text if cleaned else _numeric_text(text)
    parts = t.str.extract_groups(_DECIMAL)
    whole = parts.struct.field("whole")
    frac = parts.struct.field("frac").fill_null("")
    # Keep `places` digits, and the next one to decide rounding.
    kept = frac.str.slice(0, places).str.pad_end(places, "0") if places else pl.lit("")
    round_up = frac.str.slice(places, 1).str.contains("^[5-9]").fill_null(False)
    digits = whole + kept
    # 18 significant digits fit Int64 with room for the scale: longer text is rejected.
    ok = (whole.str.len_chars() <= 18 - places) & (
        (whole.str.len_chars() > 0) | (frac.str.len_chars() > 0)
    )
    magnitude = (pl.when(digits.str.len_chars() > 0).then(digits).otherwise(pl.lit("0"))).cast(
        pl.Int64, strict=False
    ) + round_up.cast(pl.Int64)
    value = pl.when(parts.struct.field("sign") == "-").then(-magnitude).otherwise(magnitude)
    return pl.when(ok).then(value).otherwise(None)


def money_fen(text: pl.Expr) -> pl.Expr:
    """Yuan text ('1,234.56', '１２３４．５６', '638.71元', '-3415.28') -> Int64 fen;
    null beyond ±1,000,000,000,000 yuan (so no sum of a file's lines nears Int64's end)."""
    fen = scaled_int(text, 2)
    return pl.when(fen.abs() <= MAX_MONEY_FEN).then(fen).otherwise(None).alias("money_fen")


def whole_number(text: pl.Expr) -> pl.Expr:
    """Integer text ('12', '1,200', '12.0' as Excel writes it) -> Int64; '12.5' -> null."""
    t = _numeric_text(text)
    frac = t.str.extract_groups(_DECIMAL).struct.field("frac").fill_null("")
    integral = frac.str.replace_all("0", "").str.len_chars() == 0
    return pl.when(integral).then(scaled_int(t, 0, cleaned=True)).otherwise(None)


def rate_bp(text: pl.Expr) -> pl.Expr:
    """Rate text -> basis points: '0.02' -> 200, '2%' -> 200, '2' -> 200, '1.5' -> 150.

    A bare number of 1 or more is read as percent: no union levy is 100% or more,
    and bureaus write both 0.02 and 2 for the same rate.
    """
    t = _numeric_text(text)
    percent = t.str.ends_with("%")
    bare = t.str.strip_suffix("%")
    as_percent = scaled_int(bare, 2, cleaned=True)
    as_fraction = scaled_int(bare, 4, cleaned=True)
    looks_fraction = as_fraction < 10_000
    return (
        pl.when(percent)
        .then(as_percent)
        .when(looks_fraction)
        .then(as_fraction)
        .otherwise(as_percent)
    )


def date_value(text: pl.Expr) -> pl.Expr:
    """Date text -> Date: ISO, 2026/8/5, 20261008, 2026年8月5日, datetimes, Excel serials."""
    t = clean_text(text)
    day_part = t.str.replace(r"[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$", "")
    unified = (
        day_part.str.replace_all(r"[./年月]", "-").str.replace(r"日$", "").str.replace(r"-$", "")
    )
    dashed = unified.str.strptime(pl.Date, "%Y-%m-%d", strict=False)
    compact = (
        pl.when(unified.str.contains(r"^\d{8}$"))
        .then(unified.str.strptime(pl.Date, "%Y%m%d", strict=False))
        .otherwise(None)
    )
    serial_num = pl.when(t.str.contains(r"^\d{5}(\.0+)?$")).then(
        t.str.extract(r"^(\d{5})", 1).cast(pl.Int64, strict=False)
    )
    serial = (
        pl.when(serial_num.is_between(_SERIAL_MIN, _SERIAL_MAX))
        .then(EXCEL_EPOCH + pl.duration(days=serial_num))
        .otherwise(None)
        .cast(pl.Date)
    )
    parsed = pl.coalesce(compact, dashed, serial)
    return plausible_date(parsed)


def plausible_date(value: pl.Expr) -> pl.Expr:
    """The date where it lies within 2000-01-01 .. 2099-12-31 (SPEC §3), else null."""
    return pl.when(value.is_between(FIRST_DATE, LAST_DATE)).then(value).otherwise(None)


def enum_value(text: pl.Expr, labels: dict[str, list[str]]) -> pl.Expr:
    """English name or Chinese label -> English name; anything else -> null."""
    mapping: dict[str, str] = {}
    for name, chinese in labels.items():
        mapping[name.lower()] = name
        for label in chinese:
            mapping[label] = name
    t = clean_text(text).str.to_lowercase().str.replace_all(r"\s", "")
    return t.replace_strict(mapping, default=None, return_dtype=pl.String)


def text_value(text: pl.Expr) -> pl.Expr:
    """Free text: trimmed, full-width folded, empty -> null."""
    return clean_text(text)


def code_text(text: pl.Expr) -> pl.Expr:
    """Identifiers (receipt numbers, codes): trimmed, upper case, Excel's trailing '.0' dropped."""
    return clean_text(text).str.to_uppercase().str.replace(r"^(\d+)\.0+$", "${1}")


# ---- fast paths ------------------------------------------------------------------------
# Patterns spell digits [0-9]: `\d` in polars' regex matches every Unicode digit.
# Most cells of a big file are already plain ASCII ('2187914.65', '320260000001000000').
# For text that matches a fast path's pattern, its cheap expression gives exactly what the
# full normalizer above would (tests/test_normalize.py checks that with hypothesis); the
# caller sends only the remaining cells through the full normalizer. That skips NFKC and
# the regex passes for ~all of a million cells.


@dataclass(frozen=True)
class FastPath:
    pattern: str  # the cells this path is exact for
    parse: Callable[[pl.Expr], pl.Expr]  # exact on matching cells; anything on the others


def _plain_fen(text: pl.Expr) -> pl.Expr:
    # '-12.3' -> -123 * 10**(2 - 1): dropping the point and scaling is exact integer math.
    digits = text.str.replace(".", "", literal=True).cast(pl.Int64, strict=False)
    point = text.str.find(".", literal=True)
    decimals = (text.str.len_bytes() - point - 1).fill_null(0)
    return digits * pl.lit(10, dtype=pl.Int64).pow(2 - decimals)


FAST_PATHS: dict[str, FastPath] = {
    # At most 2 decimals (no rounding), at most 12 whole digits (inside ±10^12 yuan).
    "money": FastPath(r"^-?(?:[0-9]{1,12}(?:\.[0-9]{0,2})?|\.[0-9]{1,2})$", _plain_fen),
    "int": FastPath(r"^-?[0-9]{1,15}$", lambda t: t.cast(pl.Int64, strict=False)),
    "code": FastPath(r"^[0-9A-Z]+$", lambda t: t),
    "uscc": FastPath(r"^[0-9A-Z]{18}$", lambda t: t),
    # 2000-01-01 .. 2099-12-31 only: other years go through the full normalizer.
    "date": FastPath(
        r"^20[0-9]{2}-[0-9]{2}-[0-9]{2}$",
        lambda t: t.str.strptime(pl.Date, "%Y-%m-%d", strict=False),
    ),
}
