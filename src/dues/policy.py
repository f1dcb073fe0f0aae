"""The reconciliation policy (config/policy.toml): rates by date, thresholds, switches.

The policy is data, not code: a finance officer changes a rate by adding a dated
row, and every run records `policy_hash` so that an audit can tell which policy
gave which numbers. Unknown keys are rejected so a misspelt key cannot silently
fall back to a default.
"""

from __future__ import annotations

import hashlib
import json
import os
import tomllib
from datetime import date
from itertools import pairwise
from pathlib import Path
from typing import Literal, Self

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from dues.periods import parse_period

Channel = Literal["tax", "fiscal"]
RateStatus = Literal["none", "organized"]
Fund = Literal["dues", "preparatory"]
UnitClass = Literal["small_micro"]
# Rule 13's levels, in the order a line is split: the last with a nonzero share takes
# the remainder.
LEVELS: tuple[str, ...] = ("base", "county", "city", "province", "national")
# The (channel, fund) pairs money arrives by: receipts by the tax channel with the fund
# of their item, allocations by the fiscal channel as dues (dues.distribution).
SPLIT_FUNDS: tuple[tuple[str, str], ...] = (
    ("tax", "dues"),
    ("tax", "preparatory"),
    ("fiscal", "dues"),
)


def _default_policy_path() -> Path:
    """config/policy.toml of the source tree, else the copy a wheel ships (see setup.py)."""
    here = Path(__file__).resolve().parent
    source = here.parents[1] / "config" / "policy.toml"
    return source if source.is_file() else here / "defaults" / "policy.toml"


DEFAULT_POLICY_PATH = _default_policy_path()
CONFIG_ENV = "DUES_CONFIG"
# SPEC §3: a line whose period starts longer ago than this before the run is implausible.
DEFAULT_MAX_BACK_MONTHS = 60


class Rate(BaseModel):
    """One row of the dated rate table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    channel: Channel
    status: RateStatus
    fund: Fund
    rate_bp: int = Field(ge=0, le=10_000)
    effective_from: date


class Split(BaseModel):
    """One row of the dated split table (rule 13): the levels' shares in basis points."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    channel: Channel
    fund: Fund
    # "small_micro": the row of tax-channel units with employees <= small_micro_max_employees.
    unit_class: UnitClass | None = None
    base: int = Field(ge=0, le=10_000)
    county: int = Field(ge=0, le=10_000)
    city: int = Field(ge=0, le=10_000)
    province: int = Field(ge=0, le=10_000)
    national: int = Field(ge=0, le=10_000)
    effective_from: date

    def shares(self) -> tuple[int, ...]:
        return tuple(getattr(self, level) for level in LEVELS)

    def describe(self, number: int) -> str:
        """'splits row 3 (tax dues from 2000-01-01)': how a refusal names the row."""
        kind = f" {self.unit_class}" if self.unit_class else ""
        return f"splits row {number} ({self.channel} {self.fund}{kind} from {self.effective_from})"


def _example_split(channel: str, fund: str, unit_class: str | None = None) -> Split:
    shares = (10_000, 0, 0, 0, 0) if unit_class else (6000, 2000, 800, 700, 500)
    return Split.model_validate(
        {"channel": channel, "fund": fund, "unit_class": unit_class}
        | dict(zip(LEVELS, shares, strict=True))
        | {"effective_from": date(2000, 1, 1)}
    )


# The example table config/policy.toml ships, for a policy that gives none (a policy a
# ledger kept from before rule 13, a test's): every federation sets its own.
EXAMPLE_SPLITS: tuple[Split, ...] = (
    *(_example_split(channel, fund) for channel, fund in SPLIT_FUNDS),
    _example_split("tax", "dues", "small_micro"),
)
# SPEC §3: no line is attributed to a month before this (earlier dates are bad_date).
_FIRST_MONTH = date(2000, 1, 1)


class Policy(BaseModel):
    """Settings of SPEC §4; defaults are the SPEC's defaults."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tolerance_fen: int = Field(default=1, ge=0)
    # Capped at 28 so every month has the day; no calendar clamping needed.
    due_day: int = Field(default=15, ge=1, le=28)
    start_period: str | None = None
    joint_counts_as_organized: bool = True
    tier1_min_employees: int = Field(default=25, ge=1)
    tier2_min_employees: int = Field(default=10, ge=1)
    lookback_months: int = Field(default=12, ge=1)
    return_ratio_bp: int = Field(default=10_000, ge=0, le=10_000)
    aging_bucket_days: tuple[int, ...] = (30, 90, 180, 365)
    # 1 month to 100 years: a typo such as 2006 for 2026 must not set the start period.
    max_back_months: int = Field(default=DEFAULT_MAX_BACK_MONTHS, ge=1, le=1200)
    # Rule 12, off at 0. At most 100 bp (1% a day, twenty times the usual 0.05%): a
    # larger figure is a typo, not a policy. Grace: at most a year.
    late_fee_bp_per_day: int = Field(default=0, ge=0, le=100)
    late_fee_grace_days: int = Field(default=0, ge=0, le=365)
    rates: tuple[Rate, ...] = Field(min_length=1)
    # Rule 13: tax-channel units with at most this many employees are the small_micro
    # class (their split rows apply first); 0 = no such class.
    small_micro_max_employees: int = Field(default=0, ge=0)
    splits: tuple[Split, ...] = EXAMPLE_SPLITS

    @field_validator("start_period")
    @classmethod
    def _start_is_a_month(cls, value: str | None) -> str | None:
        if value is not None:
            parse_period(value)
        return value

    @field_validator("aging_bucket_days")
    @classmethod
    def _buckets_ascend(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value or value[0] < 0 or any(b <= a for a, b in pairwise(value)):
            raise ValueError("aging_bucket_days must be non-empty, >= 0 and strictly ascending")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.tier2_min_employees >= self.tier1_min_employees:
            raise ValueError("tier2_min_employees must be below tier1_min_employees")
        seen: set[tuple[str, str, date]] = set()
        for rate in self.rates:
            key = (rate.channel, rate.status, rate.effective_from)
            if key in seen:
                raise ValueError(f"two rates for {rate.channel}/{rate.status} from {key[2]}")
            seen.add(key)
        missing = [
            f"{channel}/{status}"
            for channel in ("tax", "fiscal")
            for status in ("none", "organized")
            if not any(r.channel == channel and r.status == status for r in self.rates)
        ]
        if missing:
            raise ValueError(f"no rate for {', '.join(missing)}")
        _check_splits(self.splits)
        return self

    def split_table(self) -> pl.DataFrame:
        """The split rows as a frame (channel, fund, unit_class, the LEVELS, effective_from)."""
        return pl.DataFrame(
            [s.model_dump() for s in self.splits],
            schema={
                "channel": pl.String,
                "fund": pl.String,
                "unit_class": pl.String,
                **{level: pl.Int64 for level in LEVELS},
                "effective_from": pl.Date,
            },
        )

    def rate_table(self) -> pl.DataFrame:
        """The rate rows as a frame (channel, status, fund, rate_bp, effective_from)."""
        return pl.DataFrame(
            [r.model_dump() for r in self.rates],
            schema={
                "channel": pl.String,
                "status": pl.String,
                "fund": pl.String,
                "rate_bp": pl.Int64,
                "effective_from": pl.Date,
            },
        )

    def aging_buckets(self) -> list[tuple[str, int, int | None]]:
        """(column suffix, first day, last day or None) per bucket.

        The default limits give ('0_30', 0, 30) ... ('181_365', 181, 365), ('over_365', 366, None).
        """
        buckets: list[tuple[str, int, int | None]] = []
        low = 0
        for high in self.aging_bucket_days:
            buckets.append((f"{low}_{high}", low, high))
            low = high + 1
        buckets.append((f"over_{self.aging_bucket_days[-1]}", low, None))
        return buckets


def _check_splits(splits: tuple[Split, ...]) -> None:
    """Rule 13's table: each row sums to 10000, no two rows of one channel, fund and class
    start on one day, and a general row of each (channel, fund) money arrives by is in
    force from 2000-01-01 on (no line can be attributed to an earlier month), so every
    month has a row. Each refusal names the row, numbered from 1 in file order."""
    seen: dict[tuple[str, str, str | None, date], int] = {}
    for number, row in enumerate(splits, 1):
        total = sum(row.shares())
        if total != 10_000:
            raise ValueError(f"{row.describe(number)}: shares sum to {total}, not 10000")
        key = (row.channel, row.fund, row.unit_class, row.effective_from)
        if key in seen:
            raise ValueError(
                f"{row.describe(number)}: overlaps splits row {seen[key]}, "
                "which starts the same day"
            )
        seen[key] = number
    for channel, fund in SPLIT_FUNDS:
        general = [
            (s.effective_from, n)
            for n, s in enumerate(splits, 1)
            if (s.channel, s.fund, s.unit_class) == (channel, fund, None)
        ]
        if not general:
            raise ValueError(f"splits: no row for {channel} {fund}: every month needs one")
        first, number = min(general)
        if first > _FIRST_MONTH:
            raise ValueError(
                f"{splits[number - 1].describe(number)}: no {channel} {fund} row is in force "
                f"before {first}; the table must start by {_FIRST_MONTH}"
            )


def load_policy(path: Path | None = None) -> Policy:
    """Read a policy TOML file; None -> $DUES_CONFIG, else config/policy.toml of the project."""
    if path is None:
        env = os.environ.get(CONFIG_ENV)
        path = Path(env) if env else DEFAULT_POLICY_PATH
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"policy file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"policy file {path} is not valid TOML: {exc}") from exc
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        raise ValueError(f"policy file {path} is invalid:\n{exc}") from exc


def policy_hash(policy: Policy) -> str:
    """SHA-256 of the policy's canonical JSON: equal policies hash equal, however written."""
    return hashlib.sha256(policy_json(policy).encode("utf-8")).hexdigest()


def policy_json(policy: Policy) -> str:
    """The policy's canonical JSON: what the ledger keeps of it (`Policy.model_validate_json`
    reads it back), and what its hash is of."""
    return json.dumps(
        policy.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
