"""Input contracts: column aliases from `schemas/inputs.toml` and the pandera models.

The TOML file is the one place where bureau header names and enum labels live;
the pandera models below carry the value rules of SPEC §3, each check named by
the quarantine reason code it produces.
"""

from __future__ import annotations

import os
import tomllib
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import pandera.polars as pa
import polars as pl

from dues import uscc

Kind = Literal["registry", "collections", "allocations"]
KINDS: tuple[Kind, ...] = ("registry", "collections", "allocations")


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    type: str  # str | uscc | int | money | rate | date | enum:<name>
    required: bool
    aliases: tuple[str, ...]
    # A file without this column reads its value off that one (the item off its code).
    implied_by: str | None = None

    @property
    def target(self) -> str:
        """The name of the typed column: money columns carry their unit, `_fen`."""
        if self.type == "money":
            return f"{self.name}_fen"
        if self.type == "rate":
            return f"{self.name}_bp"
        return self.name


@dataclass(frozen=True)
class InputSpec:
    kind: Kind
    columns: tuple[ColumnSpec, ...]
    key: tuple[str, ...]
    amount: str | None  # the money column that conservation is counted in

    def column(self, name: str) -> ColumnSpec:
        return next(c for c in self.columns if c.name == name)


def schemas_dir() -> Path:
    """DUES_SCHEMAS_DIR, else `schemas/` of the source tree, else the copy a wheel ships
    in the package (see setup.py)."""
    env = os.environ.get("DUES_SCHEMAS_DIR")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parent
    source = here.parents[1] / "schemas"
    return source if (source / "inputs.toml").is_file() else here / "defaults"


@cache
def _document() -> dict[str, Any]:
    with (schemas_dir() / "inputs.toml").open("rb") as fh:
        return tomllib.load(fh)


def header_key(text: str) -> str:
    """How headers are compared: full-width folded, spaces dropped, case ignored (a
    database export may write its field codes DZSPHM or dzsphm)."""
    return "".join(unicodedata.normalize("NFKC", text).split()).lower()


@cache
def input_spec(kind: Kind) -> InputSpec:
    section = _document()[kind]
    columns = tuple(
        ColumnSpec(
            name,
            c["type"],
            bool(c["required"]),
            tuple(c.get("aliases", ())),
            c.get("implied_by"),
        )
        for name, c in section["columns"].items()
    )
    return InputSpec(kind, columns, tuple(section["key"]), section.get("amount"))


@cache
def enum_labels(name: str) -> dict[str, list[str]]:
    labels: dict[str, list[str]] = _document()["enums"][name]
    return labels


@cache
def item_codes() -> dict[str, str]:
    codes: dict[str, str] = _document()["item_codes"]
    return codes


def alias_map(kind: Kind) -> dict[str, str]:
    """header_key(alias) -> column name, English names included."""
    out: dict[str, str] = {}
    for col in input_spec(kind).columns:
        for alias in (col.name, *col.aliases):
            out.setdefault(header_key(alias), col.name)
    return out


# ---- pandera models --------------------------------------------------------------

_Data = pa.PolarsData


def _element(name: str, expr: Callable[[pl.Expr], pl.Expr]) -> pa.Check:
    """A column check whose failures are quarantined under reason `name`; nulls pass."""

    def check(data: _Data) -> pl.LazyFrame:
        col = pl.col(data.key)
        return data.lazyframe.select(col.is_null() | expr(col))

    return pa.Check(check, name=name)


def _rowwise(name: str, ok: pl.Expr) -> pa.Check:
    """A whole-row check: `ok` over the row's columns; its failures go under reason `name`."""

    def check(data: _Data) -> pl.LazyFrame:
        return data.lazyframe.select(ok.fill_null(True).alias(name))

    return pa.Check(check, name=name)


def _isin(enum: str) -> pa.Check:
    values = list(enum_labels(enum))
    return _element("bad_enum", lambda c: c.is_in(values))


_DTYPES: dict[str, Any] = {
    "str": pl.String,
    "uscc": pl.String,
    "int": pl.Int64,
    "money": pl.Int64,
    "rate": pl.Int64,
    "date": pl.Date,
}

_USCC = _element("bad_uscc", uscc.valid)
_NON_NEGATIVE = _element("negative_value", lambda c: c >= 0)


def _month_index(d: pl.Expr) -> pl.Expr:
    return d.dt.year().cast(pl.Int64) * 12 + d.dt.month().cast(pl.Int64)


_PERIOD_OK = (
    (pl.col("period_start").dt.day() == 1)
    & (pl.col("period_end") == pl.col("period_end").dt.month_end())
    & (
        (_month_index(pl.col("period_end")) - _month_index(pl.col("period_start"))).is_between(
            0, 11
        )
    )
)


def _column_checks(kind: Kind, col: ColumnSpec) -> list[pa.Check]:
    checks: list[pa.Check] = []
    if col.type == "uscc":
        checks.append(_USCC)
    elif col.type.startswith("enum:"):
        checks.append(_isin(col.type.removeprefix("enum:")))
    elif col.type == "rate":
        checks.append(_element("bad_rate", lambda c: c.is_between(0, 10_000)))
    if col.name == "wage_base":
        checks.append(_element("negative_wage_base", lambda c: c >= 0))
    elif col.name in {"employees", "members", "monthly_payroll"}:
        checks.append(_NON_NEGATIVE)
    elif col.name == "line_no":
        checks.append(_element("bad_number", lambda c: c >= 1))
    return checks


def _frame_checks(kind: Kind) -> list[pa.Check]:
    if kind == "registry":
        return [
            _rowwise("members_exceed_employees", pl.col("members") <= pl.col("employees")),
            _rowwise(
                "missing_union_founded",
                (pl.col("union_kind") == "none") | pl.col("union_founded").is_not_null(),
            ),
        ]
    checks = [_rowwise("bad_period", _PERIOD_OK)]
    if kind == "collections":
        codes = item_codes()
        checks.append(
            _rowwise(
                "item_code_mismatch",
                pl.col("item_code").is_null()
                | (pl.col("item_code") == pl.col("item").replace_strict(codes, default=None)),
            )
        )
    return checks


@cache
def pandera_schema(kind: Kind) -> pa.DataFrameSchema:
    """The value contract of an input kind, over the typed frame (coerce=False: we cast)."""
    spec = input_spec(kind)
    columns = {
        col.target: pa.Column(
            _DTYPES["str" if col.type.startswith("enum:") else col.type],
            checks=_column_checks(kind, col),
            nullable=not col.required,
        )
        for col in spec.columns
    }
    return pa.DataFrameSchema(columns, checks=_frame_checks(kind), coerce=False, strict=False)
