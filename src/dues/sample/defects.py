"""Rows as written to a file, and the damage real exports carry (SPEC §3 reason codes).

Each bad row is a real receipt line with exactly one defect, so the reason the
validator must give is known; the money of the line is kept when its amount
cell still parses (it counts as quarantined money), dropped when it does not.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, timedelta

from dues.sample import styles
from dues.sample.activity import Allocation, ReceiptLine
from dues.sample.codes import corrupt_uscc
from dues.sample.styles import Cell, Style
from dues.sample.text import add_months, impossible_date_text, month_end

ITEM_CODES = {"dues": "399001010", "preparatory": "399001020"}
ITEM_LABELS = {"dues": "工会经费", "preparatory": "工会筹备金"}
# Every quarantine reason a collection file carries (conflicting_duplicate: an extra line).
REASONS = (
    "bad_uscc",
    "missing_value",
    "bad_number",
    "bad_date",
    "bad_rate",
    "bad_enum",
    "item_code_mismatch",
    "bad_period",
    "negative_wage_base",
    "conflicting_duplicate",
)
ACCEPTED, DUPLICATE = "accepted", "duplicate"


@dataclass(frozen=True)
class Row:
    """A data row of a file: its cells by SPEC column, and what the validator must make of it."""

    cells: dict[str, Cell]
    amount_fen: int | None  # the amount as the file states it; None when it does not parse
    outcome: str  # accepted | duplicate | a reason code
    column: str = ""  # the column the quarantine names
    registered: bool = True  # False: an unmatched receipt


def receipt_row(line: ReceiptLine, style: Style, rng: random.Random) -> Row:
    item = line.item if style.english else ITEM_LABELS[line.item]
    cells: dict[str, Cell] = {
        "receipt_no": line.receipt_no,
        "line_no": styles.integer(line.line_no, style, rng),
        "uscc": line.uscc,
        "taxpayer_name": line.taxpayer_name,
        "item": item,
        "item_code": ITEM_CODES[line.item],
        "period_start": styles.day(line.period_start, style, rng),
        "period_end": styles.day(line.period_end, style, rng),
        "wage_base": styles.money(line.wage_base_fen, style, rng),
        "rate": styles.rate(line.rate_bp, style),
        "amount": styles.money(line.amount_fen, style, rng),
        "paid_date": styles.day(line.paid_date, style, rng),
        "tax_office": line.tax_office,
    }
    return Row(cells, line.amount_fen, ACCEPTED, registered=line.registered)


def allocation_row(a: Allocation, style: Style, rng: random.Random) -> Row:
    cells: dict[str, Cell] = {
        "voucher_no": a.voucher_no,
        "uscc": a.uscc,
        "unit_name": a.unit_name,
        "period_start": styles.day(a.period_start, style, rng),
        "period_end": styles.day(a.period_end, style, rng),
        "wage_base": styles.money(a.wage_base_fen, style, rng),
        "amount": styles.money(a.amount_fen, style, rng),
        "allocated_date": styles.day(a.allocated_date, style, rng),
    }
    return Row(cells, a.amount_fen, ACCEPTED)


# ---- one defect per row -------------------------------------------------------------


def _garbled_number(fen: int, style: Style, rng: random.Random) -> str:
    whole, cents = divmod(fen, 100)
    variants = [f"{whole}..{cents:02d}", f"{fen // 1_000_000}.{fen // 10_000 % 100:02d}万"]
    if not style.workbook:
        variants.append("#VALUE!")  # an Excel error pasted as text; in a workbook it is no text
    return rng.choice(variants)


def _impossible_date(d: date, style: Style, rng: random.Random) -> str:
    layout = "iso" if style.workbook else style.date_style
    y, m, dd = rng.choice(((d.year, 2, 30), (d.year, 9, 31), (d.year, 13, d.day)))
    return impossible_date_text(y, m, dd, layout)


def _damage(reason: str, row: Row, line: ReceiptLine, style: Style, rng: random.Random) -> Row:
    """`row` with the one defect that the validator reports as `reason`."""
    cells = dict(row.cells)
    amount: int | None = line.amount_fen
    match reason:
        case "bad_uscc":
            cells["uscc"], column = corrupt_uscc(line.uscc, rng), "uscc"
        case "missing_value":
            column = rng.choice(("uscc", "taxpayer_name", "period_end", "rate", "paid_date"))
            cells[column] = styles.empty(style)
        case "bad_number":
            column = rng.choice(("wage_base", "amount"))
            fen = line.wage_base_fen if column == "wage_base" else line.amount_fen
            cells[column] = _garbled_number(fen, style, rng)
            amount = None if column == "amount" else amount
        case "bad_date":
            cells["paid_date"], column = _impossible_date(line.paid_date, style, rng), "paid_date"
        case "bad_rate":
            words = "百分之一" if line.rate_bp == 100 else "百分之二"
            cells["rate"], column = rng.choice((words, "150%", "1/100")), "rate"
        case "bad_enum":
            # Another levy's line in the union file; its code is left out so that only
            # the item is wrong.
            other = "stamp_duty" if style.english else rng.choice(("印花税", "残疾人就业保障金"))
            cells["item"], cells["item_code"], column = other, styles.empty(style), "item"
        case "item_code_mismatch":
            wrong = "preparatory" if line.item == "dues" else "dues"
            cells["item_code"], column = ITEM_CODES[wrong], "item_code"
        case "bad_period":
            start, end = _bad_period(line, rng)
            cells["period_start"] = styles.day(start, style, rng)
            cells["period_end"] = styles.day(end, style, rng)
            column = "period_start"  # the validator names period_start for the whole period
        case "negative_wage_base":
            cells["wage_base"] = styles.money(-line.wage_base_fen, style, rng)
            column = "wage_base"
        case _:
            raise ValueError(reason)
    return replace(row, cells=cells, amount_fen=amount, outcome=reason, column=column)


def _bad_period(line: ReceiptLine, rng: random.Random) -> tuple[date, date]:
    start, end = line.period_start, line.period_end
    match rng.randrange(3):
        case 0:
            return start.replace(day=5), end  # not from the first of a month
        case 1:
            return start, end - timedelta(days=1)  # not to the end of a month
        case _:
            return add_months(start, -14), month_end(end)  # 15 months: more than 12


def inject(
    rows: list[Row],
    lines: list[ReceiptLine],
    style: Style,
    rng: random.Random,
    counts: dict[str, int],
) -> list[Row]:
    """Damage `counts[reason]` rows per reason; add one exact duplicate and the conflicts.

    Only single-line receipts of registered units paid on time are damaged, so late
    payments, refunds and unmatched receipts reach the reconciliation intact.
    """
    per_receipt = Counter(line.receipt_no for line in lines)
    candidates = [
        i
        for i, line in enumerate(lines)
        if line.tag == "regular" and line.registered and per_receipt[line.receipt_no] == 1
    ]
    damaged = sum(n for r, n in counts.items() if r != "conflicting_duplicate")
    sources = counts.get("conflicting_duplicate", 0) + 1
    if len(candidates) < damaged + sources:
        raise ValueError(f"too few receipt lines ({len(candidates)}) for the defects asked for")
    picked = rng.sample(candidates, damaged + sources)
    out = list(rows)
    cursor = 0
    for reason in REASONS[:-1]:
        for _ in range(counts.get(reason, 0)):
            i = picked[cursor]
            out[i] = _damage(reason, rows[i], lines[i], style, rng)
            cursor += 1
    extras: list[tuple[Row, Row]] = []
    dup_source = out[picked[cursor]]
    extras.append((dup_source, replace(dup_source, outcome=DUPLICATE)))
    for i in picked[cursor + 1 :]:
        source, line = out[i], lines[i]
        # The bureau re-sent the line corrected: same receipt and line number, new amount.
        fen = line.amount_fen + rng.randrange(1, 1_000)
        cells = dict(source.cells, amount=styles.money(fen, style, rng))
        extras.append((source, Row(cells, fen, "conflicting_duplicate", "receipt_no")))
    for source, extra in extras:
        after = next(k for k, r in enumerate(out) if r is source)
        out.insert(rng.randint(after + 1, len(out)), extra)
    return out
