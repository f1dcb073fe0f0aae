"""Unified social credit code (统一社会信用代码, GB 32100-2015), checked vectorized.

python-stdnum has `stdnum.cn.uscc`, but it validates one string at a time in
Python (too slow for a province's million receipt lines) and rejects codes whose
first character is a letter (A, N, Y ...), which the standard allows. So the
check is written here as polars expressions; stdnum serves as the test oracle.
"""

from __future__ import annotations

import polars as pl

# GB 32100-2015 character set: digits and upper-case letters without I, O, S, V, Z.
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
_PATTERN = f"^[{ALPHABET}]{{18}}$"


def check_character(code17: str) -> str:
    """The 18th character for the first 17 (scalar form, for generators and tests)."""
    total = sum(_VALUE[c] * w for c, w in zip(code17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def is_valid(code: str) -> bool:
    """Scalar validity check: 18 characters of the alphabet and a correct check character."""
    if len(code) != 18 or any(c not in _VALUE for c in code):
        return False
    return check_character(code[:17]) == code[17]


def normalized(text: pl.Expr) -> pl.Expr:
    """Fold full-width characters, drop spaces and upper-case: the form codes are stored in."""
    return text.cast(pl.String).str.normalize("NFKC").str.replace_all(r"\s", "").str.to_uppercase()


def valid(code: pl.Expr) -> pl.Expr:
    """True where `code` (already normalized) is a valid 18-character USCC."""
    total = pl.lit(0, dtype=pl.Int64)
    for i, weight in enumerate(WEIGHTS):
        value = code.str.slice(i, 1).replace_strict(_VALUE, default=0, return_dtype=pl.Int64)
        total = total + value * weight
    expected = ((31 - total % 31) % 31).replace_strict(
        dict(enumerate(ALPHABET)), default="?", return_dtype=pl.String
    )
    shaped = code.str.contains(_PATTERN)
    return shaped & (code.str.slice(17, 1) == expected)
