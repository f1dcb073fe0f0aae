"""SPEC §4 rules 9 and 10 (`dues.drive`): which units the founding drive visits, in
which tier, and the preparatory fund returned to a unit that founds its union.

Amounts are fen. Most cases run the whole `reconcile` (`_frames.run`).
"""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest
from _frames import DEFAULTS, POLICY, REGISTRY_SCHEMA, day, month_row, receipt, run, unit

from dues.drive import founding_drive
from dues.periods import parse_period

# ---- rule 9: founding drive ------------------------------------------------------------------

# unit type | union kind | employees | tier (None: not visited)
DRIVE_CASES = [
    ("enterprise", "none", 3, 3),
    ("enterprise", "none", 9, 3),
    ("enterprise", "none", 10, 2),
    ("enterprise", "none", 24, 2),
    ("enterprise", "none", 25, 1),
    ("social_org", "none", 400, 1),
    ("enterprise_institution", "none", 30, 1),  # tax channel
    ("enterprise", "joint", 25, 1),  # big enough to found its own
    ("enterprise", "joint", 24, None),
    ("enterprise", "own", 400, None),
    ("government_organ", "none", 100, None),  # fiscal channel: not a drive target
    ("public_institution", "none", 100, None),
]


@pytest.mark.parametrize(("unit_type", "union_kind", "employees", "tier"), DRIVE_CASES)
def test_founding_drive_targets_and_tiers(
    unit_type: str, union_kind: str, employees: int, tier: int | None
) -> None:
    founded = None if union_kind == "none" else "2015-01-01"
    out = run(
        [unit(unit_type=unit_type, union_kind=union_kind, employees=employees, founded=founded)]
    )
    assert out.founding_drive["tier"].to_list() == ([] if tier is None else [tier])


def test_a_unit_founding_later_is_judged_on_the_registry_as_it_stands() -> None:
    out = run([unit(union_kind="own", founded="2027-01-01", employees=40)])
    assert out.founding_drive.is_empty()
    assert month_row(out, "2026-06")["union_status"] == "none"


def test_founding_drive_row_carries_prep_paid_in_the_last_12_months_and_arrears() -> None:
    registry = pl.DataFrame(
        [unit(union_kind="none", founded=None, employees=12)], schema=REGISTRY_SCHEMA
    )
    reconciliation = pl.DataFrame(
        {
            "uscc": ["U1"] * 3,
            "period": ["2025-06", "2025-07", "2026-06"],
            "paid_prep_fen": [500, 300, 200],
        }
    )
    owed = pl.DataFrame({"uscc": ["U1"], "arrears_fen": [900]})
    row = founding_drive(registry, reconciliation, owed, DEFAULTS, parse_period("2026-06")).row(
        0, named=True
    )
    assert row == {
        "uscc": "U1", "name": "单位U1", "jurisdiction": "东镇工会", "employees": 12,
        "union_kind": "none", "tier": 2, "prep_paid_12m_fen": 500, "arrears_fen": 900,
        "tier_label": "二类(职工10-24人)", "action": "found_union",
        "ownership": "non_public", "members": 20,
    }  # fmt: skip


# ---- rule 10: preparatory-fund return ------------------------------------------------------

JAN_TO_MAY = ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05"]
PREP_100 = [(m, "preparatory", 100) for m in JAN_TO_MAY]

# union kind, founded | money by month | policy changes | returnable (None: not listed)
RETURN_CASES = [
    ("founded 10 May: first organized month June, Jan-May returned",
     "own", "2026-05-10", PREP_100, {}, 500),
    ("founded 1 May: May is organized, Jan-Apr returned",
     "own", "2026-05-01", PREP_100, {}, 400),
    ("organized from the first reconciled month: no none month before it",
     "own", "2026-01-01", PREP_100, {}, None),
    ("organized before the start period",
     "own", "2025-12-01", PREP_100, {}, None),
    ("founds after the run period: not yet",
     "own", "2026-08-01", PREP_100, {}, None),
    ("no union", "none", None, PREP_100, {}, None),
    ("joint coverage is founding", "joint", "2026-04-01", PREP_100, {}, 300),
    ("joint coverage with the switch off is not",
     "joint", "2026-04-01", PREP_100, {"joint_counts_as_organized": False}, None),
    ("dues paid before founding are not returned",
     "own", "2026-05-10", [*PREP_100, ("2026-02", "dues", 100)], {}, 500),
    ("a refund reduces what is returned",
     "own", "2026-05-10", [*PREP_100, ("2026-03", "preparatory", -100)], {}, 400),
    ("preparatory fund paid after founding is not returned",
     "own", "2026-03-01", [("2026-01", "preparatory", 100), ("2026-04", "preparatory", 100)], {},
     100),
    ("look-back of 3 months: March-May",
     "own", "2026-05-10", PREP_100, {"lookback_months": 3}, 300),
    ("half returned, rounded half up: 101 -> 51",
     "own", "2026-05-10", [("2026-01", "preparatory", 101)], {"return_ratio_bp": 5000}, 51),
    ("nothing paid: left out", "own", "2026-05-10", [], {}, None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("union_kind", "founded", "money", "changes", "returnable"),
    [case[1:] for case in RETURN_CASES],
    ids=[case[0] for case in RETURN_CASES],
)
def test_preparatory_fund_returned_on_founding(
    union_kind: str,
    founded: str | None,
    money: list[tuple[str, str, int]],
    changes: dict[str, Any],
    returnable: int | None,
) -> None:
    policy = POLICY.model_copy(update={"start_period": "2026-01", **changes})
    receipts = [receipt("U1", m, amount=a, item=item) for m, item, a in money]
    out = run([unit(union_kind=union_kind, founded=founded)], receipts, policy=policy)
    assert out.prep_returns["returnable_fen"].to_list() == (
        [] if returnable is None else [returnable]
    )
    if returnable is not None:
        assert out.prep_returns.row(0, named=True)["union_founded"] == day(str(founded))
