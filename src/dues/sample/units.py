"""The county's legal units (SPEC §1): who they are, their unions, and how they pay."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, timedelta

from dues.sample import names
from dues.sample.codes import COUNTY_REGION, PREFECTURE_REGION, make_uscc, registration_prefix

FISCAL_TYPES = frozenset({"government_organ", "public_institution"})

# Share of units per kind of jurisdiction, and the unit-type mix inside each kind.
_GROUPS: tuple[tuple[tuple[str, ...], float, tuple[tuple[str, int], ...]], ...] = (
    (
        names.TOWN_UNIONS,
        0.42,
        (
            ("enterprise", 88),
            ("social_org", 3),
            ("other", 4),
            ("public_institution", 3),
            ("enterprise_institution", 1),
            ("government_organ", 1),
        ),
    ),
    (names.COMMUNITY_UNIONS, 0.22, (("enterprise", 86), ("social_org", 9), ("other", 5))),
    ((names.PARK,), 0.18, (("enterprise", 99), ("enterprise_institution", 1))),
    (
        names.FISCAL_SYSTEMS,
        0.11,
        (("government_organ", 35), ("public_institution", 65)),
    ),
    (
        names.ENTERPRISE_SYSTEMS,
        0.07,
        (("enterprise", 80), ("enterprise_institution", 15), ("social_org", 5)),
    ),
)
# Typical head count (median, spread) and monthly wage range in yuan, by unit type.
_EMPLOYEES: dict[str, tuple[float, float]] = {
    "enterprise": (10, 1.2),
    "enterprise_institution": (30, 0.8),
    "government_organ": (35, 0.7),
    "public_institution": (40, 0.9),
    "social_org": (5, 0.7),
    "other": (7, 0.6),
}
_WAGE_YUAN = {
    "enterprise": (4_200, 8_000),
    "enterprise_institution": (6_000, 9_000),
    "government_organ": (7_500, 11_000),
    "public_institution": (7_000, 10_500),
    "social_org": (3_500, 5_500),
    "other": (3_000, 5_000),
}
# Schools and hospitals make education and health the largest system unions.
_LARGE_SYSTEMS = {"教育系统工会": 3.0, "卫生健康系统工会": 2.0}
NONE_SHARE = 0.04  # tax-channel units without a union: a founding rate of about 96%


@dataclass(frozen=True)
class Unit:
    uscc: str
    name: str
    unit_type: str
    ownership: str
    employees: int
    members: int
    jurisdiction: str
    union_kind: str  # own | joint | none
    union_founded: date | None
    filing: str  # monthly | quarterly (for fiscal units: how the allocation comes)
    filing_written: bool  # whether the registry's 申报期限 cell is filled in
    payroll_fen: int  # the true monthly payroll the unit declares around
    registry_payroll_fen: int | None  # what the registry knows (月工资总额), if anything
    behaviour: str  # how it pays: see `assign_behaviours`
    tax_office: str

    @property
    def fiscal(self) -> bool:
        return self.unit_type in FISCAL_TYPES

    def organized_in(self, month: date) -> bool:
        """SPEC §4.2: organized if founded on or before the first day of the month."""
        return self.union_founded is not None and self.union_founded <= month


def _lognormal(rng: random.Random, median: float, sigma: float, lo: int, hi: int) -> int:
    # Box-Muller from random() alone: its output is fixed across Python versions.
    u1, u2 = 1.0 - rng.random(), rng.random()
    z = math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)
    return max(lo, min(hi, round(median * math.exp(sigma * z))))


def _quotas(rng: random.Random, units: int) -> list[tuple[str, tuple[tuple[str, int], ...]]]:
    """One (jurisdiction, type mix) per unit: every jurisdiction gets one, the rest by weight."""
    slots: list[tuple[str, tuple[tuple[str, int], ...]]] = []
    weights: list[float] = []
    for jurisdictions, share, mix in _GROUPS:
        for j in jurisdictions:
            slots.append((j, mix))
            size = _LARGE_SYSTEMS.get(j, 1.0) * rng.uniform(0.6, 1.4)
            weights.append(share / len(jurisdictions) * size)
    chosen = slots[: min(units, len(slots))]
    chosen += rng.choices(slots, weights, k=max(0, units - len(slots)))
    return chosen


def _union(rng: random.Random, unit_type: str, employees: int) -> str:
    if unit_type in FISCAL_TYPES:
        return "own" if rng.random() < 0.97 else "joint"
    # Small units are mostly covered by a joint (联合) union; larger ones found their own.
    own_share = 0.85 if employees >= 25 else 0.2
    return "own" if rng.random() < own_share else "joint"


def _founded(rng: random.Random) -> date:
    # Not before 2000 (SPEC §3: an earlier date is bad_date); the same draw either way.
    return max(date(2000, 1, 1), date(1995, 1, 1) + timedelta(days=rng.randrange(31 * 365)))


@dataclass(frozen=True)
class _Draft:
    """A unit before its union and payment habits are decided."""

    uscc: str
    name: str
    unit_type: str
    employees: int
    jurisdiction: str
    payroll_fen: int


def build_units(rng: random.Random, count: int, months: list[date]) -> list[Unit]:
    """`count` units; `months` are the reconciled months (for unions founded during them)."""
    taken: set[str] = set()
    codes: set[str] = set()
    drafts: list[_Draft] = []
    seen_gov: set[str] = set()
    for jurisdiction, mix in _quotas(rng, count):
        types, weights = zip(*mix, strict=True)
        unit_type = rng.choices(types, weights)[0]
        # A town or the park has exactly one government (人民政府 / 管委会).
        if jurisdiction.endswith("镇工会") or jurisdiction == names.PARK:
            if jurisdiction not in seen_gov:
                unit_type = "government_organ"
                seen_gov.add(jurisdiction)
            elif unit_type == "government_organ":
                unit_type = "public_institution"
        region = PREFECTURE_REGION if rng.random() < 0.12 else COUNTY_REGION
        prefix = registration_prefix(rng, unit_type)
        if unit_type == "enterprise" and (jurisdiction == names.PARK or "系统" in jurisdiction):
            prefix = "91"  # the park's factories, banks, the grid: all companies
        name = names.try_name(rng, taken, unit_type, prefix, jurisdiction)
        if name is None and unit_type == "government_organ":
            # A system has only so many organs (教育 has one: 教育体育局); the rest are
            # its schools, clinics and stations.
            unit_type = "public_institution"
            prefix = registration_prefix(rng, unit_type)
        name = name or names.unique_name(rng, taken, unit_type, prefix, jurisdiction)
        code = make_uscc(rng, prefix, region)
        while code in codes:
            code = make_uscc(rng, prefix, region)
        codes.add(code)
        median, sigma = _EMPLOYEES[unit_type]
        if jurisdiction == names.PARK and unit_type == "enterprise":
            median = 25  # the park hosts the county's factories
        # 个体工商户 (92) and co-operatives (93) are small by nature.
        cap = {"92": 8, "93": 30}.get(prefix, 3_000)
        employees = _lognormal(rng, median, sigma, 1, cap)
        lo, hi = _WAGE_YUAN[unit_type]
        drafts.append(
            _Draft(
                uscc=code,
                name=name,
                unit_type=unit_type,
                employees=employees,
                jurisdiction=jurisdiction,
                payroll_fen=employees * rng.randrange(lo * 100, hi * 100),
            )
        )
    return _finish(rng, drafts, months)


def _finish(rng: random.Random, drafts: list[_Draft], months: list[date]) -> list[Unit]:
    tax = [i for i, d in enumerate(drafts) if d.unit_type not in FISCAL_TYPES]
    none_ids = _pick_unorganized(rng, drafts, tax)
    behaviours = assign_behaviours(rng, drafts, tax, none_ids, months)
    units = []
    for i, d in enumerate(drafts):
        unit_type, employees = d.unit_type, d.employees
        kind = "none" if i in none_ids else _union(rng, unit_type, employees)
        behaviour = behaviours.get(i, "regular")
        founded = None if kind == "none" else _founded(rng)
        if behaviour.startswith("founded_mid_year"):
            founded = _mid_year(rng, months)
        members = 0 if kind == "none" else round(employees * rng.uniform(0.86, 1.0))
        fiscal = unit_type in FISCAL_TYPES
        quarterly = rng.random() < (0.5 if fiscal else (0.12 if employees < 20 else 0.02))
        if behaviour != "regular" and not fiscal:
            quarterly = False  # the special cases are easier to follow month by month
        if behaviour in ("allocated_late", "pays_by_tax"):
            quarterly = False
        payroll = d.payroll_fen
        known = rng.random() < 0.65 or behaviour == "delinquent"
        jurisdiction = d.jurisdiction
        units.append(
            Unit(
                uscc=d.uscc,
                name=d.name,
                unit_type=unit_type,
                ownership=_ownership(rng, unit_type),
                employees=employees,
                members=members,
                jurisdiction=jurisdiction,
                union_kind=kind,
                union_founded=founded,
                filing="quarterly" if quarterly else "monthly",
                filing_written=quarterly or rng.random() < 0.7,
                payroll_fen=payroll,
                registry_payroll_fen=payroll * rng.randrange(950, 1051) // 1000 if known else None,
                behaviour=behaviour,
                tax_office=_tax_office(jurisdiction),
            )
        )
    return units


def _ownership(rng: random.Random, unit_type: str) -> str:
    if unit_type in (*FISCAL_TYPES, "enterprise_institution", "other"):
        return "public"
    if unit_type == "enterprise" and rng.random() < 0.08:
        return "public"  # county state-owned enterprises
    return "non_public"


def _tax_office(jurisdiction: str) -> str:
    if jurisdiction == names.PARK:
        return f"{names.TAX_BUREAU}工业园区税务分局"
    if jurisdiction.endswith("镇工会"):
        return f"{names.TAX_BUREAU}{jurisdiction.removesuffix('工会')}税务分局"
    return names.TAX_BUREAU


def _pick_unorganized(rng: random.Random, drafts: list[_Draft], tax: list[int]) -> set[int]:
    """Exactly NONE_SHARE of tax-channel units have no union, most of them small."""
    target = round(NONE_SHARE * len(tax))
    small = [i for i in tax if drafts[i].employees < 25]
    large = [i for i in tax if drafts[i].employees >= 25]
    n_large = min(len(large), round(target * 0.3))
    picked = rng.sample(large, n_large) + rng.sample(small, min(len(small), target - n_large))
    return set(picked)


def _mid_year(rng: random.Random, months: list[date]) -> date:
    """A founding date whose first organized month has at least one earlier reconciled month."""
    first_organized = months[rng.randrange(2, len(months) - 1)] if len(months) > 3 else months[-1]
    return first_organized - timedelta(days=rng.randrange(0, 26))


def assign_behaviours(
    rng: random.Random,
    drafts: list[_Draft],
    tax: list[int],
    none_ids: set[int],
    months: list[date],
) -> dict[int, str]:
    """Who departs from paying right and on time, and how (each unit at most one way).

    Tax channel: `delinquent` never files; `sporadic` skips months and pays some later;
    `truncates` drops the fraction of a fen (within tolerance); `drops_fen` pays whole
    yuan, rounded down (抹零); `rounds_up` pays whole yuan, rounded up; `wrong_fund` (no
    union) pays dues at 1%;
    `overpays` pays too much once and gets a refund; `catches_up` misses two months and
    pays both late on one receipt of two lines; `founded_mid_year` pays the
    preparatory fund until its union is founded (`founded_mid_year_lagging` once more after).
    Fiscal channel: `never_allocated`, `allocated_late`, `under_allocated` (at 1%),
    `pays_by_tax` (a public institution whose dues come through the tax bureau).
    """
    out: dict[int, str] = {}
    pool = [i for i in tax if i not in none_ids]
    rng.shuffle(pool)
    n_tax = len(tax)
    n_mid = max(2, round(n_tax * 0.004)) if len(months) > 3 else 0
    plan = (
        ("founded_mid_year_lagging", min(1, n_mid)),
        ("founded_mid_year", max(0, n_mid - 1)),
        ("overpays", 2),
        ("catches_up", 2),
        ("delinquent", round(n_tax * 0.015)),
        ("sporadic", round(n_tax * 0.04)),
        ("truncates", round(n_tax * 0.02)),
        ("drops_fen", max(1, round(n_tax * 0.01))),
        ("rounds_up", max(1, round(n_tax * 0.005))),
    )
    for behaviour, n in plan:
        for _ in range(n):
            if pool:
                out[pool.pop()] = behaviour
    unorganized = sorted(none_ids)
    rng.shuffle(unorganized)
    for i in unorganized[:2]:
        out[i] = "wrong_fund"
    for i in unorganized[2 : 2 + max(1, len(unorganized) // 10)]:
        out[i] = "delinquent"  # never pays the preparatory fund either
    fiscal = [i for i, d in enumerate(drafts) if d.unit_type in FISCAL_TYPES]
    rng.shuffle(fiscal)
    institutions = [i for i in fiscal if drafts[i].unit_type == "public_institution"]
    if institutions:
        out[institutions[0]] = "pays_by_tax"
        fiscal.remove(institutions[0])
    special = ("never_allocated", "allocated_late", "under_allocated")
    for behaviour, i in zip(special, fiscal, strict=False):
        out[i] = behaviour
    return out
