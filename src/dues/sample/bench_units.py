"""Benchmark units, drawn column-wise: a registry of any size in well under a second.

Random numbers come from `random.Random.randbytes`, viewed as UInt64 through
Arrow (no NumPy needed), so the draws of a seed do not depend on the polars version.
"""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

import polars as pl
import pyarrow as pa

from dues.sample import names
from dues.sample.codes import COUNTY_REGION, org_check_expr, uscc_check_expr
from dues.sample.text import add_months, yuan_expr

_TYPES = (  # unit type, share in per mille, registration prefix, Chinese label
    ("enterprise", 900, "91", "企业"),
    ("enterprise_institution", 15, "12", "企业化管理事业单位"),
    ("social_org", 35, "51", "社会组织"),
    ("other", 10, "N2", "其他"),
    ("government_organ", 15, "11", "党政机关"),
    ("public_institution", 25, "12", "事业单位"),
)
FISCAL = ("government_organ", "public_institution")


# ---- random columns -----------------------------------------------------------------


def uniform(rng: random.Random, n: int) -> pl.Series:
    """n UInt64 draws from the seeded stream, without a Python loop."""
    buffer = pa.py_buffer(rng.randbytes(8 * n))
    series = pl.from_arrow(pa.Array.from_buffers(pa.uint64(), n, [None, buffer]))
    assert isinstance(series, pl.Series)
    return series


def draws(rng: random.Random, n: int, *names_: str) -> pl.DataFrame:
    return pl.DataFrame({name: uniform(rng, n) for name in names_})


def _pick(values: tuple[str, ...], r: pl.Expr) -> pl.Expr:
    """values[r mod len] for a UInt64 draw r."""
    index = (r % len(values)).cast(pl.Int64)
    return pl.lit(pl.Series(values, dtype=pl.String)).gather(index)


def _unit_interval(r: pl.Expr) -> pl.Expr:
    return ((r // 2048).cast(pl.Float64) + 0.5) / float(1 << 53)


# ---- units --------------------------------------------------------------------------


def bench_units(rng: random.Random, n: int, window: date, *, fiscal: bool = True) -> pl.DataFrame:
    """n registry units; a few unions founded in the year starting at `window`."""
    random_cols = draws(rng, n, "r0", "r1", "r2", "r3", "r4", "r5", "r6")
    types = [t for t in _TYPES if fiscal or t[0] not in FISCAL]
    total = sum(t[1] for t in types)
    type_expr: pl.Expr = pl.lit(types[-1][0])
    prefix_expr: pl.Expr = pl.lit(types[-1][2])
    cumulative = 0
    cuts = []
    for unit_type, share, prefix, _ in types:
        cumulative += share
        cuts.append((cumulative, unit_type, prefix))
    for cut, unit_type, prefix in reversed(cuts[:-1]):
        below = (pl.col("r0") % total) < cut
        type_expr = pl.when(below).then(pl.lit(unit_type)).otherwise(type_expr)
        prefix_expr = pl.when(below).then(pl.lit(prefix)).otherwise(prefix_expr)
    # A bijection of the row index onto 8 digits keeps every organisation code unique.
    body = (
        ((pl.int_range(pl.len(), dtype=pl.Int64) * 7_919 + 1_234_567) % 100_000_000)
        .cast(pl.String)
        .str.zfill(8)
    )
    z = (-2.0 * _unit_interval(pl.col("r1")).log()).sqrt() * (
        2.0 * 3.141592653589793 * _unit_interval(pl.col("r2"))
    ).cos()
    employees = (10.0 * (1.2 * z).exp()).round().cast(pl.Int64).clip(1, 5_000)
    frame = random_cols.with_columns(
        unit_type=type_expr,
        code17=prefix_expr + COUNTY_REGION + body + org_check_expr(body),
        employees=employees,
        jurisdiction=_pick(names.JURISDICTIONS, pl.col("r3")),
        name=pl.lit(names.COUNTY)
        + _pick(names.TRADE, pl.col("r4"))
        + _pick(names.INDUSTRY, pl.col("r4") // 97)
        + pl.lit("有限公司"),
    )
    window_days = (add_months(window, 12) - window).days
    organized = (pl.col("r5") % 100) >= 4
    in_window = (pl.col("r5") // 100 % 1000) < 3  # 0.3%: founded during the year
    founded = (
        pl.when(in_window)
        .then(pl.lit(window) + pl.duration(days=(pl.col("r6") % window_days).cast(pl.Int64)))
        .otherwise(pl.date(2000, 1, 1) + pl.duration(days=(pl.col("r6") % 9_000).cast(pl.Int64)))
    )
    large = pl.col("employees") >= 25
    return frame.select(
        uscc=pl.col("code17") + uscc_check_expr(pl.col("code17")),
        name=pl.col("name"),
        unit_type=pl.col("unit_type"),
        ownership=pl.when(pl.col("unit_type").is_in(["enterprise", "social_org"]))
        .then(pl.lit("non_public"))
        .otherwise(pl.lit("public")),
        employees=pl.col("employees"),
        members=pl.when(organized)
        .then(pl.col("employees") * (86 + (pl.col("r6") % 15).cast(pl.Int64)) // 100)
        .otherwise(0),
        jurisdiction=pl.col("jurisdiction"),
        union_kind=pl.when(~organized)
        .then(pl.lit("none"))
        .when(large == ((pl.col("r2") % 10) < 8))
        .then(pl.lit("own"))
        .otherwise(pl.lit("joint")),
        union_founded=pl.when(organized).then(founded.cast(pl.Date)).otherwise(None),
        filing_frequency=pl.when((pl.col("r1") % 100) < 5)
        .then(pl.lit("quarterly"))
        .otherwise(pl.lit("monthly")),
        payroll_fen=pl.col("employees") * (450_000 + (pl.col("r3") // 61 % 450_000)).cast(pl.Int64),
        payroll_known=(pl.col("r4") % 10) < 6,
        fiscal=pl.col("unit_type").is_in(FISCAL),
    )


def _label(column: str, labels: dict[str, str]) -> pl.Expr:
    return pl.col(column).replace_strict(labels, return_dtype=pl.String)


def write_registry_csv(units: pl.DataFrame, path: Path) -> None:
    """The registry as a plain UTF-8 CSV with Chinese headers and labels."""
    type_labels = {t[0]: t[3] for t in _TYPES}
    out = units.select(
        pl.col("uscc").alias("统一社会信用代码"),
        pl.col("name").alias("单位名称"),
        _label("unit_type", type_labels).alias("单位类型"),
        _label("ownership", {"public": "公有", "non_public": "非公有"}).alias("所有制"),
        pl.col("employees").alias("职工人数"),
        pl.col("members").alias("会员人数"),
        pl.col("jurisdiction").alias("所属工会"),
        _label("union_kind", {"own": "单独建会", "joint": "联合工会", "none": "未建会"}).alias(
            "建会形式"
        ),
        pl.col("union_founded").dt.strftime("%Y-%m-%d").alias("建会日期"),
        _label("filing_frequency", {"monthly": "按月", "quarterly": "按季"}).alias("申报期限"),
        pl.when(pl.col("payroll_known"))
        .then(yuan_expr(pl.col("payroll_fen")))
        .otherwise(None)
        .alias("月工资总额"),
    )
    out.write_csv(path)
