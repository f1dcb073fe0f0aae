"""Identifiers the bureaus print: USCCs (GB 32100-2015) and receipt / voucher numbers.

The check characters are computed here on purpose rather than imported from
`dues.uscc`: the generator is the oracle the validator is tested against, so it
must not share the validator's code. Tests cross-check both with python-stdnum.
"""

from __future__ import annotations

import random

import polars as pl

# GB 32100-2015: the 31 characters (no I, O, S, V, Z) and the weights of positions 1-17.
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_VALUE = {c: i for i, c in enumerate(ALPHABET)}

# GB 11714 organisation code (positions 9-17 of a USCC): 8 body characters and a check.
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
# Body characters: digits and the letters a USCC may hold (GB 11714 allows all letters,
# but the USCC alphabet does not, so codes issued since 2015 avoid I, O, S, V, Z).
_ORG_BODY = "0123456789" + ALPHABET[10:]

# Registration authority + entity type (positions 1-2) by unit type, with weights.
# 1x: 机构编制 (11 organs, 12 institutions), 5x: 民政 (51 团体, 52 民办非企业, 53 基金会),
# 9x: 市场监管 (91 enterprises, 92 个体工商户, 93 农民专业合作社), N: 农业农村 (village
# collectives), Y: other authorities, A: the military's own institutions.
REGISTRATION: dict[str, tuple[tuple[str, int], ...]] = {
    "enterprise": (("91", 90), ("92", 6), ("93", 4)),
    "enterprise_institution": (("12", 100),),
    "government_organ": (("11", 100),),
    "public_institution": (("12", 97), ("A1", 3)),
    "social_org": (("51", 60), ("52", 35), ("53", 5)),
    "other": (("N2", 70), ("N3", 20), ("Y1", 10)),
}
COUNTY_REGION = "369901"  # a fictional county's administrative division code
PREFECTURE_REGION = "369900"  # units registered at the prefecture before 2015


def uscc_check(code17: str) -> str:
    """The GB 32100-2015 check character of the first 17 characters."""
    total = sum(_VALUE[c] * w for c, w in zip(code17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def org_check(body8: str) -> str:
    """The GB 11714 check character of an 8-character organisation code body."""
    total = sum((int(c, 36)) * w for c, w in zip(body8, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def registration_prefix(rng: random.Random, unit_type: str) -> str:
    """Positions 1-2 (authority, entity type) for a unit of `unit_type`."""
    options = REGISTRATION[unit_type]
    return rng.choices([p for p, _ in options], [w for _, w in options])[0]


def make_uscc(rng: random.Random, prefix: str, region: str = COUNTY_REGION) -> str:
    """A fresh valid USCC with registration `prefix`, registered in `region`."""
    # Codes issued before 2015 kept the old all-digit organisation code; newer ones mix letters.
    chars = _ORG_BODY if rng.random() < 0.5 else "0123456789"
    body = "".join(rng.choice(chars) for _ in range(8))
    code17 = prefix + region + body + org_check(body)
    return code17 + uscc_check(code17)


def corrupt_uscc(code: str, rng: random.Random) -> str:
    """The same code with a wrong check character (what a typing slip gives)."""
    right = _VALUE[code[17]]
    return code[:17] + ALPHABET[(right + rng.randrange(1, 31)) % 31]


def uscc_check_expr(code17: pl.Expr) -> pl.Expr:
    """Vectorized `uscc_check` over a column of 17-character strings."""
    total = pl.lit(0, dtype=pl.Int64)
    for i, weight in enumerate(WEIGHTS):
        value = code17.str.slice(i, 1).replace_strict(_VALUE, return_dtype=pl.Int64)
        total = total + value * weight
    return ((31 - total % 31) % 31).replace_strict(
        dict(enumerate(ALPHABET)), return_dtype=pl.String
    )


def org_check_expr(body8: pl.Expr) -> pl.Expr:
    """Vectorized `org_check` over a column of 8-digit strings."""
    total = pl.lit(0, dtype=pl.Int64)
    for i, weight in enumerate(_ORG_WEIGHTS):
        total = total + body8.str.slice(i, 1).cast(pl.Int64) * weight
    check = 11 - total % 11
    return (
        pl.when(check == 10)
        .then(pl.lit("X"))
        .when(check == 11)
        .then(pl.lit("0"))
        .otherwise(check.cast(pl.String))
    )


def receipt_no(year: int, serial: int) -> str:
    """电子税票号码: '3', the year, a 13-digit serial (18 digits, so always written as text)."""
    return f"3{year}{serial:013d}"


def voucher_no(year: int, month: int, serial: int) -> str:
    """拨款凭证号 of the treasury (国库集中支付): 'GK', year-month, a serial."""
    return f"GK{year}{month:02d}{serial:05d}"
