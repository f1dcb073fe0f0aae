"""The policy file: defaults of the SPEC, dated rates, strict keys, a stable hash."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from dues.policy import DEFAULT_POLICY_PATH, Policy, load_policy, policy_hash

RATES = """
[[rates]]
channel = "tax"
status = "none"
fund = "preparatory"
rate_bp = 200
effective_from = 2000-01-01
[[rates]]
channel = "tax"
status = "organized"
fund = "dues"
rate_bp = 100
effective_from = "2000-01-01"
[[rates]]
channel = "fiscal"
status = "none"
fund = "dues"
rate_bp = 200
effective_from = 2000-01-01
[[rates]]
channel = "fiscal"
status = "organized"
fund = "dues"
rate_bp = 200
effective_from = 2000-01-01
"""


TWO_TAX_NONE_RATES = RATES.replace(
    'status = "organized"\nfund = "dues"', 'status = "none"\nfund = "dues"', 1
)
NO_FISCAL_RATES = RATES.split('[[rates]]\nchannel = "fiscal"')[0]
RATE_WITH_UNKNOWN_KEY = RATES.replace('fund = "preparatory"', 'fund = "preparatory"\nnote = "x"')


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_default_policy_file_holds_the_spec_defaults() -> None:
    policy = load_policy(DEFAULT_POLICY_PATH)
    assert (policy.tolerance_fen, policy.due_day, policy.start_period) == (1, 15, None)
    assert policy.joint_counts_as_organized is True
    assert (policy.tier1_min_employees, policy.tier2_min_employees) == (25, 10)
    assert (policy.lookback_months, policy.return_ratio_bp) == (12, 10_000)
    assert (
        policy.max_back_months
        == 60
        == Policy.model_validate({"rates": policy.rates}).max_back_months
    )
    assert (policy.late_fee_bp_per_day, policy.late_fee_grace_days) == (0, 0)
    table = {(r.channel, r.status): (r.fund, r.rate_bp) for r in policy.rates}
    assert table == {
        ("tax", "none"): ("preparatory", 200),
        ("tax", "organized"): ("dues", 100),
        ("fiscal", "none"): ("dues", 200),
        ("fiscal", "organized"): ("dues", 200),
    }


def test_none_reads_dues_config_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path, "due_day = 20\n" + RATES)
    monkeypatch.setenv("DUES_CONFIG", str(path))
    assert load_policy().due_day == 20


def test_none_without_environment_reads_config_policy_toml(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DUES_CONFIG", raising=False)
    assert load_policy() == load_policy(DEFAULT_POLICY_PATH)


def test_dates_may_be_toml_dates_or_iso_text(tmp_path: Path) -> None:
    policy = load_policy(_write(tmp_path, RATES))
    assert {r.effective_from for r in policy.rates} == {date(2000, 1, 1)}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tolerence_fen = 1\n" + RATES, "tolerence_fen"),
        ("due_day = 29\n" + RATES, "due_day"),
        ('start_period = "2026-13"\n' + RATES, "YYYY-MM"),
        ("tier1_min_employees = 10\ntier2_min_employees = 10\n" + RATES, "tier2_min_employees"),
        ("aging_bucket_days = [90, 30]\n" + RATES, "aging_bucket_days"),
        ("return_ratio_bp = 12000\n" + RATES, "return_ratio_bp"),
        ("max_back_months = 0\n" + RATES, "max_back_months"),
        ("max_back_months = 1201\n" + RATES, "max_back_months"),
        ('max_back_months = "sixty"\n' + RATES, "max_back_months"),
        ("late_fee_bp_per_day = -1\n" + RATES, "late_fee_bp_per_day"),
        ("late_fee_bp_per_day = 101\n" + RATES, "late_fee_bp_per_day"),
        ("late_fee_grace_days = 366\n" + RATES, "late_fee_grace_days"),
        ("late_fee_bp_per_dya = 5\n" + RATES, "late_fee_bp_per_dya"),
        (TWO_TAX_NONE_RATES, "two rates for tax/none"),
        (NO_FISCAL_RATES, "no rate for fiscal/none, fiscal/organized"),
        (RATE_WITH_UNKNOWN_KEY, "note"),
        ("due_day = \n", "not valid TOML"),
    ],
)  # fmt: skip
def test_invalid_policy_is_a_clear_error_naming_the_key(
    tmp_path: Path, text: str, message: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ValueError, match=message) as info:
        load_policy(path)
    assert str(path) in str(info.value)


def test_missing_policy_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"nowhere\.toml"):
        load_policy(tmp_path / "nowhere.toml")


def test_hash_ignores_layout_and_follows_content(tmp_path: Path) -> None:
    policy = load_policy(_write(tmp_path, RATES))
    reordered = load_policy(_write(tmp_path, "\n# a comment\ntolerance_fen = 1\n" + RATES))
    assert (
        policy_hash(policy)
        == policy_hash(reordered)
        == policy_hash(Policy.model_validate(policy.model_dump()))
    )
    changed = load_policy(_write(tmp_path, RATES.replace("rate_bp = 100", "rate_bp = 150")))
    assert policy_hash(changed) != policy_hash(policy)
    assert len(policy_hash(policy)) == 64


def test_aging_buckets_name_the_output_columns() -> None:
    policy = load_policy(DEFAULT_POLICY_PATH)
    assert policy.aging_buckets() == [
        ("0_30", 0, 30),
        ("31_90", 31, 90),
        ("91_180", 91, 180),
        ("181_365", 181, 365),
        ("over_365", 366, None),
    ]
