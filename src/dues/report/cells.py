"""Cell values and styles: fen to yuan, text that must stay text, fills, widths.

Money in yuan. A fen amount is written as `Decimal(fen).scaleb(-2)`: an exact
decimal made by moving the decimal point, with no float arithmetic anywhere
(`fen * 0.01` would already be off in the last bit). openpyxl serialises numbers
with `"%.16g"`; Excel then holds the double nearest to that decimal, exactly what
it holds when a person types the amount, and `#,##0.00` shows it with 2 decimals.
Excel keeps 15 significant digits, so an amount of 10^13 yuan or more (beyond
`MAX_EXACT_FEN`) would be shown rounded: such an amount is written as text instead,
the exact decimal with the separators `#,##0.00` shows (`money_text`), and the
overview says so. With SPEC §3's bound on every amount (10^12 yuan) only sums of
absurd lines reach it.

Text is made fit for the file (`fit_text`): XML 1.0 cannot carry the C0 controls
(but tab, LF, CR), U+FFFE, U+FFFF or a lone surrogate (openpyxl's own
ILLEGAL_CHARACTERS_RE misses the last three, and one U+FFFE makes the workbook
unreadable), so each becomes U+FFFD, the replacement character a reader sees as
"something was here"; and Excel holds at most 32,767 UTF-16 code units in a cell,
so longer text is cut at that many units (an astral character such as 𠀀 counts
two), never between the two halves of a surrogate pair.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final, Literal

import polars as pl
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

Kind = Literal["text", "money", "bp", "rate", "date", "int", "number"]

MONEY_FORMAT: Final = "#,##0.00"
RATE_FORMAT: Final = "0.00%"
DATE_FORMAT: Final = "yyyy-mm-dd"
_FORMATS: dict[Kind, str | None] = {
    "money": MONEY_FORMAT,
    "bp": RATE_FORMAT,
    "rate": RATE_FORMAT,
    "date": DATE_FORMAT,
    "int": None,
    "number": None,
    "text": None,
}

# Excel's 15 significant digits: the largest amount in fen it shows digit for digit.
MAX_EXACT_FEN: Final = 10**15 - 1
# Excel's cell text limit, in UTF-16 code units.
MAX_TEXT: Final = 32_767
# What XML 1.0 cannot hold, for polars (its strings are valid UTF-8: no surrogates).
ILLEGAL_CHARS: Final = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x{FFFE}\x{FFFF}]"
# The same for Python's str, which can also hold lone surrogates.
_ILLEGAL: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
REPLACEMENT: Final = "\ufffd"

# Fill variants: index 0 is "no fill"; tables pick a variant per row or cell.
NO_FILL: Final = 0
BAD: Final = 1  # underpaid, arrears
WARN: Final = 2  # not filed, old arrears
GOOD: Final = 3  # credit
BAND: Final = 4  # alternate groups
FILLS: tuple[PatternFill | None, ...] = (
    None,
    PatternFill("solid", fgColor="FFC7CE"),
    PatternFill("solid", fgColor="FFEB9C"),
    PatternFill("solid", fgColor="C6EFCE"),
    PatternFill("solid", fgColor="F2F2F2"),
)

HEADER_FILL: Final = PatternFill("solid", fgColor="DDEBF7")
HEADER_ALIGN: Final = Alignment(horizontal="center", vertical="center", wrap_text=True)
HEADER_BORDER: Final = Border(bottom=Side(style="thin"))
BOLD: Final = Font(bold=True)
HEADER_FONT: Final = BOLD
TITLE_FONT: Final = Font(bold=True, size=14)
HEADING_FONT: Final = Font(bold=True, size=12)


A4_PAPER: Final = 9  # the paperSize code of A4 (ECMA-376 §18.18.43)
# Columns a portrait A4 page shows readably; a sheet of more is printed landscape.
PORTRAIT_COLUMNS: Final = 6
# Columns squeezed onto one page's width at most; a sheet of more prints two pages wide.
ONE_PAGE_COLUMNS: Final = 12
PAGE_FOOTER: Final = {"zh": "第 &P 页 / 共 &N 页", "en": "Page &P of &N"}


def print_setup(ws: Any, n_columns: int | None = None, lang: str = "zh") -> None:
    """Printed for the audit file on A4 (before the first row): landscape when the sheet
    has more than PORTRAIT_COLUMNS columns (or `n_columns` is not given), scaled to one
    page wide up to ONE_PAGE_COLUMNS columns and to two beyond (22 columns on one page
    cannot be read), pages numbered in the footer, the sheet's name in the header."""
    ws.page_setup.paperSize = A4_PAPER
    wide = n_columns is None or n_columns > PORTRAIT_COLUMNS
    ws.page_setup.orientation = "landscape" if wide else "portrait"
    ws.page_setup.fitToWidth = 1 if n_columns is None or n_columns <= ONE_PAGE_COLUMNS else 2
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.oddHeader.center.text = "&A"
    ws.oddFooter.center.text = PAGE_FOOTER["en" if lang == "en" else "zh"]


def fen_to_yuan(fen: int) -> Decimal:
    """1234567 -> Decimal('12345.67'), exactly (see the module docstring)."""
    return Decimal(fen).scaleb(-2)


def bp_to_ratio(bp: int) -> Decimal:
    """200 bp -> Decimal('0.0200'), shown as 2.00%."""
    return Decimal(bp).scaleb(-4)


def check_money_range(frame: pl.DataFrame, columns: list[str], table: str) -> None:
    """Refuse money that is not integer fen."""
    for col in columns:
        if not frame[col].dtype.is_integer():
            raise TypeError(f"{table}.{col}: money must be integer fen, got {frame[col].dtype}")


def beyond_exact(frame: pl.DataFrame, columns: Iterable[str]) -> bool:
    """Whether any amount of `columns` is too large for Excel to show exactly."""
    return any(
        (frame.select(pl.col(c).cast(pl.Int64).abs().max()).item() or 0) > MAX_EXACT_FEN
        for c in columns
    )


def money_text(fen: int) -> str:
    """-123456789012345678 -> '-1,234,567,890,123,456.78': what #,##0.00 would show."""
    return f"{fen_to_yuan(fen):,.2f}"


def fit_text(value: str) -> str:
    """`value` as a cell can hold it (see the module docstring)."""
    value = _ILLEGAL.sub(REPLACEMENT, value)
    if len(value) * 2 <= MAX_TEXT:  # the usual case: short enough whatever it holds
        return value
    units = value.encode("utf-16-le")[: 2 * MAX_TEXT]
    if len(units) >= 2 and 0xD800 <= int.from_bytes(units[-2:], "little") <= 0xDBFF:
        units = units[:-2]  # the cut fell inside a surrogate pair: drop its first half
    return units.decode("utf-16-le")


def text_cell(ws: Any, value: str, *, font: Font | None = None) -> Any:
    """A cell that holds `value` as a literal string whatever it starts with."""
    cell = WriteOnlyCell(ws, fit_text(value))
    cell.data_type = "s"  # after the value: binding "=..." would make it a formula
    if font is not None:
        cell.font = font
    return cell


def header_cells(ws: Any, labels: list[str]) -> list[Any]:
    cells = []
    for label in labels:
        cell = text_cell(ws, label, font=HEADER_FONT)
        cell.fill = HEADER_FILL
        cell.alignment = HEADER_ALIGN
        cell.border = HEADER_BORDER
        cells.append(cell)
    return cells


def styled(ws: Any, value: Any, kind: Kind, *, font: Font | None = None) -> Any:
    """One formatted cell for the small sheets (overview, run info)."""
    if value is None:
        return None
    if isinstance(value, str):
        return text_cell(ws, value, font=font)
    if kind == "money" and abs(value) > MAX_EXACT_FEN:
        return text_cell(ws, money_text(value), font=font)
    if kind == "money":
        value = fen_to_yuan(value)
    elif kind == "bp":
        value = bp_to_ratio(value)
    cell = WriteOnlyCell(ws, value)
    fmt = _FORMATS[kind]
    if fmt:
        cell.number_format = fmt
    if font is not None:
        cell.font = font
    return cell


@dataclass(frozen=True)
class Column:
    """How one frame column is shown: its header, kind and width."""

    name: str
    header: str
    kind: Kind
    width: float


def number_format(kind: Kind) -> str | None:
    return _FORMATS[kind]


def style_id(ws: Any, kind: Kind, fill: int, *, bold: bool = False) -> int:
    """The workbook's style id for a cell of `kind` with fill variant `fill` (in bold:
    a total), registered on first use (the ids written in the rows of
    dues.report.sheetdata)."""
    cell = WriteOnlyCell(ws)
    fmt = _FORMATS[kind]
    if fmt:
        cell.number_format = fmt
    if FILLS[fill] is not None:
        cell.fill = FILLS[fill]
    if bold:
        cell.font = BOLD
    return int(cell.style_id)


def display_width(text: str) -> int:
    """Columns a text needs: CJK and full-width characters take two."""
    return sum(2 if ord(ch) >= 0x1100 else 1 for ch in text)


def shown(value: Any, kind: Kind) -> str:
    """The text Excel will display for a value (for column widths only)."""
    if value is None:
        return ""
    if kind == "money":
        return f"{fen_to_yuan(value):,.2f}"
    if kind in ("bp", "rate"):
        return "100.00%"
    if isinstance(value, date | datetime):
        return "2026-01-01"
    return str(value)


def column_width(header: str, samples: list[Any], kind: Kind) -> float:
    """Wide enough for the header and the sampled values, within 8..60 characters."""
    widest = max([display_width(header), *(display_width(shown(v, kind)) for v in samples)])
    return float(min(max(widest + 2, 8), 60))
