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
        return self

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
