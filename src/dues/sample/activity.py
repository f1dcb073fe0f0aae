"""What the units pay, month by month: tax receipts and fiscal allocations.

A payment for month m normally arrives in month m+1 (quarterly: the month after
the quarter), so the file of period P mostly covers P-1. The first period's file
also carries everything paid before it (the history the federation loads when
it starts), and a payment made after the last period is not in any file yet.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

from dues.sample import names
from dues.sample.codes import make_uscc, receipt_no, voucher_no
from dues.sample.text import add_months, half_up, month_end, quarter_start, truncated
from dues.sample.units import Unit

DUES_BP, PREP_BP, FISCAL_BP = 100, 200, 200
_OTHER_REGIONS = ("369902", "369903", "360102", "440305")  # where outsiders registered


@dataclass(frozen=True)
class ReceiptLine:
    """One line of an electronic tax receipt (SPEC §2.2), money in fen."""

    receipt_no: str
    line_no: int
    uscc: str
    taxpayer_name: str
    item: str  # dues | preparatory
    period_start: date
    period_end: date
    wage_base_fen: int
    rate_bp: int
    amount_fen: int
    paid_date: date
    tax_office: str
    registered: bool  # False: an unmatched receipt
    tag: str  # regular | late | overpaid | refund | outsider | special


@dataclass(frozen=True)
class Allocation:
    """One fiscal allocation (SPEC §2.3), money in fen."""

    voucher_no: str
    uscc: str
    unit_name: str
    period_start: date
    period_end: date
    wage_base_fen: int
    amount_fen: int
    allocated_date: date


@dataclass(frozen=True)
class _Line:
    start: date
    end: date
    base_fen: int
    rate_bp: int
    item: str
    amount_fen: int


@dataclass(frozen=True)
class _Payment:
    unit: Unit
    paid: date
    lines: tuple[_Line, ...]
    tag: str


class Simulation:
    """Draws every payment of the reconciled `months`; files them by the period they arrive."""

    def __init__(self, rng: random.Random, units: Sequence[Unit], months: list[date]) -> None:
        self.rng = rng
        self.months = months
        # The declared base of each unit-month: the payroll with a few per cent of drift.
        self.base = {
            (u.uscc, m): u.payroll_fen * (1000 + rng.randrange(-30, 31)) // 1000
            for u in units
            for m in months
        }

    # ---- tax channel ----------------------------------------------------------------

    def _rate(self, unit: Unit, month: date) -> tuple[str, int]:
        if unit.behaviour == "pays_by_tax":
            return "dues", FISCAL_BP
        organized = unit.organized_in(month)
        lagging = unit.behaviour == "founded_mid_year_lagging"
        if organized and lagging and not unit.organized_in(add_months(month, -1)):
            return "preparatory", PREP_BP  # the bureau's record caught up one month late
        if organized or unit.behaviour == "wrong_fund":
            return "dues", DUES_BP
        return "preparatory", PREP_BP

    def _line(self, unit: Unit, first: date, last: date) -> _Line:
        item, rate = self._rate(unit, first)
        base, month = 0, first
        while month <= last:
            base += self.base[(unit.uscc, month)]
            month = add_months(month, 1)
        amount = truncated(base, rate) if unit.behaviour == "truncates" else half_up(base, rate)
        if unit.behaviour == "drops_fen":
            amount -= amount % 100  # 抹零: the jiao and fen dropped, a small shortfall
        elif unit.behaviour == "rounds_up":
            amount += -amount % 100  # rounded up to whole yuan, a small credit
        return _Line(first, month_end(last), base, rate, item, amount)

    def _day(self, month: date, late: bool = False) -> date:
        if late or self.rng.random() < 0.12:
            return month.replace(day=self.rng.randrange(16, 29))  # after the 15th
        return month.replace(day=self.rng.randrange(1, 16))

    def receipts_of(self, unit: Unit) -> list[_Payment]:
        if unit.behaviour == "delinquent" or (unit.fiscal and unit.behaviour != "pays_by_tax"):
            return []
        if unit.filing == "quarterly":
            return [
                _Payment(
                    unit,
                    self._day(add_months(q, 3)),
                    (self._line(unit, q, add_months(q, 2)),),
                    "regular",
                )
                for q in self.months
                if q == quarter_start(q) and add_months(q, 2) <= self.months[-1]
            ]
        payments: list[_Payment] = []
        owed_late: dict[date, list[date]] = {}  # paid-in month -> months it settles
        overpaid = self.months[-2] if len(self.months) > 1 else self.months[-1]
        # `catches_up`: two months missed, then settled by one two-line receipt in the
        # last period's file.
        missed = self.months[-4:-2] if len(self.months) >= 4 else self.months[:1]
        for month in self.months:
            if unit.behaviour == "catches_up" and month in missed:
                owed_late.setdefault(add_months(self.months[-1], 1), []).append(month)
                continue
            if unit.behaviour == "sporadic" and self.rng.random() < 0.35:
                if self.rng.random() < 0.6:
                    owed_late.setdefault(add_months(month, self.rng.randrange(2, 5)), []).append(
                        month
                    )
                continue
            line = self._line(unit, month, month)
            paid = self._day(add_months(month, 1))
            if unit.behaviour == "overpays" and month == overpaid:
                # A clerk keyed one digit too many; the bureau refunds the excess a month later.
                excess = line.amount_fen * 9
                payments.append(
                    _Payment(
                        unit,
                        paid,
                        (replace(line, amount_fen=line.amount_fen + excess),),
                        "overpaid",
                    )
                )
                refund = replace(line, base_fen=0, amount_fen=-excess)
                payments.append(_Payment(unit, self._day(add_months(paid, 1)), (refund,), "refund"))
                continue
            payments.append(_Payment(unit, paid, (line,), "regular"))
        for paid_month, settled in sorted(owed_late.items()):
            lines = tuple(self._line(unit, m, m) for m in settled)
            payments.append(_Payment(unit, self._day(paid_month, late=True), lines, "late"))
        return payments

    def outsiders(self, period: date, count: int, taken: set[str]) -> list[_Payment]:
        """Receipts of taxpayers missing from the registry (kept as unmatched, SPEC §3)."""
        out = []
        for _ in range(count):
            code = make_uscc(self.rng, "91", self.rng.choice(_OTHER_REGIONS))
            while code in taken:
                code = make_uscc(self.rng, "91", self.rng.choice(_OTHER_REGIONS))
            taken.add(code)
            stranger = Unit(
                uscc=code, name=names.outsider_name(self.rng), unit_type="enterprise",
                ownership="non_public", employees=0, members=0, jurisdiction="",
                union_kind="none", union_founded=None, filing="monthly", filing_written=False,
                payroll_fen=self.rng.randrange(2_000_000, 20_000_000), registry_payroll_fen=None,
                behaviour="outsider", tax_office=names.TAX_BUREAU,
            )  # fmt: skip
            month = add_months(period, -1)
            base = stranger.payroll_fen
            line = _Line(
                month, month_end(month), base, PREP_BP, "preparatory", half_up(base, PREP_BP)
            )
            out.append(_Payment(stranger, self._day(period), (line,), "outsider"))
        return out

    # ---- fiscal channel -------------------------------------------------------------

    def allocations_of(self, unit: Unit) -> list[tuple[date, _Line]]:
        if not unit.fiscal or unit.behaviour in ("never_allocated", "pays_by_tax"):
            return []
        rate = DUES_BP if unit.behaviour == "under_allocated" else FISCAL_BP
        spans: list[tuple[date, date]]
        if unit.filing == "quarterly":
            spans = [
                (q, add_months(q, 2))
                for q in self.months
                if q == quarter_start(q) and add_months(q, 2) <= self.months[-1]
            ]
        else:
            spans = [(m, m) for m in self.months]
        late = self.months[len(self.months) // 2]
        out = []
        for first, last in spans:
            base = sum(self.base[(unit.uscc, m)] for m in _span(first, last))
            delay = 3 if unit.behaviour == "allocated_late" and first == late else 1
            day = add_months(last, delay).replace(day=self.rng.randrange(3, 13))
            out.append(
                (day, _Line(first, month_end(last), base, rate, "dues", half_up(base, rate)))
            )
        return out


def _span(first: date, last: date) -> list[date]:
    months, month = [], first
    while month <= last:
        months.append(month)
        month = add_months(month, 1)
    return months


def _arrival(paid: date, periods: list[date]) -> date | None:
    """The period whose file carries a payment made on `paid` (None: after the last one)."""
    paid_month = paid.replace(day=1)
    return next((p for p in periods if p >= paid_month), None)


def collect(
    rng: random.Random, units: Sequence[Unit], months: list[date], periods: list[date]
) -> tuple[dict[date, list[ReceiptLine]], dict[date, list[Allocation]]]:
    """Receipt lines and allocations of each period's files, numbered in payment order."""
    sim = Simulation(rng, units, months)
    payments = [p for u in units for p in sim.receipts_of(u)]
    taken = {u.uscc for u in units}
    for period in periods:
        payments += sim.outsiders(period, 1 + rng.randrange(2), taken)
    payments.sort(key=lambda p: (p.paid, p.unit.uscc, p.tag))
    receipts: dict[date, list[ReceiptLine]] = {p: [] for p in periods}
    serial = rng.randrange(10_000, 90_000)
    for payment in payments:
        arrives = _arrival(payment.paid, periods)
        serial += rng.randrange(1, 60)  # other taxes' receipts fall in between
        if arrives is None:
            continue
        number = receipt_no(payment.paid.year, serial)
        for line_no, line in enumerate(payment.lines, start=1):
            receipts[arrives].append(
                ReceiptLine(
                    receipt_no=number, line_no=line_no, uscc=payment.unit.uscc,
                    taxpayer_name=payment.unit.name, item=line.item, period_start=line.start,
                    period_end=line.end, wage_base_fen=line.base_fen, rate_bp=line.rate_bp,
                    amount_fen=line.amount_fen, paid_date=payment.paid,
                    tax_office=payment.unit.tax_office,
                    registered=payment.tag != "outsider", tag=payment.tag,
                )
            )  # fmt: skip
    allocations: dict[date, list[Allocation]] = {p: [] for p in periods}
    drawn = sorted(
        ((day, u, line) for u in units for day, line in sim.allocations_of(u)),
        key=lambda x: (x[0], x[1].uscc),
    )
    per_month: dict[date, int] = {}
    for day, unit, line in drawn:
        arrives = _arrival(day, periods)
        if arrives is None:
            continue
        n = per_month[day.replace(day=1)] = per_month.get(day.replace(day=1), 0) + 1
        allocations[arrives].append(
            Allocation(
                voucher_no=voucher_no(day.year, day.month, n), uscc=unit.uscc,
                unit_name=unit.name, period_start=line.start, period_end=line.end,
                wage_base_fen=line.base_fen, amount_fen=line.amount_fen, allocated_date=day,
            )
        )  # fmt: skip
    return receipts, allocations
