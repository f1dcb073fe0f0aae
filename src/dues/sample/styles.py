"""The four shapes bureau files come in (SPEC §2), and writing them byte-for-byte repeatably.

* `xlsx`    — a workbook with three title rows, Chinese headers, money as numbers,
               Excel dates (date cells, some plain serial numbers) and a 合计 row;
* `gbk`     — a GBK CSV with two title lines, other header aliases, thousands
               separators, 2026/8/5 dates, 1% rates and a 合计 line;
* `bom`     — a UTF-8 CSV with a byte-order mark, full-width digits and 元 on some
               money cells, 20261008 dates, 0.01 rates;
* `english` — a plain UTF-8 CSV with the English column names and enum names,
               ISO dates and bare rates (1 = 1%), as a clerk would build by hand.
"""

from __future__ import annotations

import csv
import io
import random
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.writer.excel import ExcelWriter

from dues.sample.text import date_text, excel_serial, full_width, rate_text, yuan

Cell = str | int | float | date | None
FIXED_TIME = datetime(2026, 1, 1)  # workbook created/modified: no clock in the output
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry


@dataclass(frozen=True)
class Style:
    name: str
    suffix: str
    encoding: str  # "" for workbooks
    english: bool
    date_style: str  # excel | slash | compact | iso
    rate_style: str  # fraction | percent | bare
    thousands: bool
    decorate: bool  # full-width digits and a 元 suffix on some cells
    title_rows: int
    totals: bool

    @property
    def workbook(self) -> bool:
        return self.suffix == ".xlsx"


XLSX = Style("xlsx", ".xlsx", "", False, "excel", "fraction", False, False, 3, True)
GBK = Style("gbk", ".csv", "gbk", False, "slash", "percent", True, False, 2, True)
BOM = Style("bom", ".csv", "utf-8-sig", False, "compact", "fraction", False, True, 0, False)
ENGLISH = Style("english", ".csv", "utf-8", True, "iso", "bare", False, False, 0, False)
STYLES = (XLSX, GBK, BOM, ENGLISH)

# Header texts by style: the Chinese aliases vary as they do between bureau systems.
_COLLECTION_HEADERS = {
    "receipt_no": ("电子税票号码", "税票号码"),
    "line_no": ("登记序号", "序号"),
    "uscc": ("社会信用代码(纳税人识别号)", "纳税人识别号"),
    "taxpayer_name": ("纳税人名称", "纳税人名称"),
    "item": ("征收品目", "征收品目"),
    "item_code": ("征收品目代码", "征收品目代码"),
    "period_start": ("税款所属期起", "税款所属期起"),
    "period_end": ("税款所属期止", "税款所属期止"),
    "wage_base": ("计税依据", "计税依据"),
    "rate": ("税率", "征收率"),
    "amount": ("实缴金额", "实缴(退)金额"),
    "paid_date": ("入库日期", "入库日期"),
    "tax_office": ("征收税务机关", "征收税务机关"),
}
_ALLOCATION_HEADERS = {
    "voucher_no": "拨款凭证号",
    "uscc": "统一社会信用代码",
    "unit_name": "单位名称",
    "period_start": "所属期起",
    "period_end": "所属期止",
    "wage_base": "工资总额",
    "amount": "划拨金额",
    "allocated_date": "划拨日期",
}
COLLECTION_COLUMNS = tuple(_COLLECTION_HEADERS)
ALLOCATION_COLUMNS = tuple(_ALLOCATION_HEADERS)
MONEY_COLUMNS = frozenset({"wage_base", "amount", "monthly_payroll"})
DATE_COLUMNS = frozenset(
    {"period_start", "period_end", "paid_date", "allocated_date", "union_founded"}
)


def columns(kind: str, style: Style) -> tuple[str, ...]:
    if kind == "allocations":
        return ALLOCATION_COLUMNS
    # A hand-made English sheet leaves out the optional tax office.
    return COLLECTION_COLUMNS[:-1] if style.english else COLLECTION_COLUMNS


def headers(kind: str, style: Style) -> list[str]:
    names = columns(kind, style)
    if style.english:
        return list(names)
    if kind == "allocations":
        return [_ALLOCATION_HEADERS[c] for c in names]
    variant = 1 if style is GBK else 0
    return [_COLLECTION_HEADERS[c][variant] for c in names]


# ---- cell values --------------------------------------------------------------------


def money(fen: int, style: Style, rng: random.Random) -> Cell:
    if style.workbook:
        return fen / 100  # what bureau exports hold; the reader rounds back to fen
    text = yuan(fen, thousands=style.thousands)
    if style.decorate:
        if rng.random() < 0.3:
            text = full_width(text)
        if rng.random() < 0.3:
            text += "元"
    return text


def day(d: date, style: Style, rng: random.Random) -> Cell:
    if style.workbook:
        # Most exports hold date cells; some tools write the bare serial number.
        return excel_serial(d) if rng.random() < 0.2 else d
    return date_text_of(d, style)


def date_text_of(d: date, style: Style) -> str:
    """A date as text in the style's layout (workbooks: ISO, as a typed-in text cell)."""
    return date_text(d, "iso" if style.workbook else style.date_style)


def rate(rate_bp: int, style: Style) -> Cell:
    if style.workbook:
        return rate_bp / 10_000
    return rate_text(rate_bp, style.rate_style)


def integer(n: int, style: Style, rng: random.Random) -> Cell:
    if style.workbook:
        return n
    return full_width(str(n)) if style.decorate and rng.random() < 0.3 else str(n)


def empty(style: Style) -> Cell:
    return None if style.workbook else ""


# ---- writers ------------------------------------------------------------------------


def write_csv(
    path: Path,
    style: Style,
    header: Sequence[str],
    rows: Sequence[Sequence[Cell]],
    *,
    titles: Sequence[str] = (),
    totals: Sequence[Cell] | None = None,
) -> None:
    """One CSV; title lines padded with commas to the header's width, as Excel saves them."""
    buffer = io.StringIO()
    # Chinese exports come from Windows tools (CRLF); the hand-made English sheet has LF.
    writer = csv.writer(buffer, lineterminator="\n" if style.english else "\r\n")
    width = len(header)
    for title in titles:
        writer.writerow([title] + [""] * (width - 1))
    writer.writerow(header)
    writer.writerows([["" if c is None else str(c) for c in row] for row in rows])
    if totals is not None:
        writer.writerow(["" if c is None else str(c) for c in totals])
    path.write_bytes(buffer.getvalue().encode(style.encoding))


def write_xlsx(
    path: Path,
    sheet: str,
    header: Sequence[str],
    rows: Sequence[Sequence[Cell]],
    *,
    titles: Sequence[Sequence[Cell]] = (),
    totals: Sequence[Cell] | None = None,
    money_cols: frozenset[int] = frozenset(),
    date_cols: frozenset[int] = frozenset(),
) -> None:
    """One workbook: titles, header, data, totals; money shown with 2 decimals."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = sheet
    for title in titles:
        ws.append(list(title))
    ws.append(list(header))
    first = len(titles) + 2  # the row number of the first data row
    for n, row in enumerate([*rows, *([totals] if totals is not None else [])], start=first):
        ws.append(list(row))
        for i in money_cols:
            ws.cell(n, i + 1).number_format = "#,##0.00"
        for i in date_cols:
            if isinstance(row[i], date):
                ws.cell(n, i + 1).number_format = "yyyy-mm-dd"
    save_workbook(wb, path)


def save_workbook(wb: Workbook, path: Path) -> None:
    """Save with fixed document times and zip entry times: same content, same bytes.

    openpyxl's own `save` stamps the current time into docProps/core.xml and every
    zip entry; its ExcelWriter does neither of the first, and the archive is then
    re-packed with a fixed entry time for the second.
    """
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    wb.properties.creator = "dues sample"
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        ExcelWriter(wb, archive).save()
    out = io.BytesIO()
    with (
        zipfile.ZipFile(raw) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            dst.writestr(entry, src.read(info.filename))
    path.write_bytes(out.getvalue())
