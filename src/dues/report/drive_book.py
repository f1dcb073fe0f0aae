"""The founding-drive list of one jurisdiction as a workbook an organizer takes on visits.

One sheet, printed landscape one page wide with its title and header on every page:
a title row (jurisdiction, period, units per tier), the header, then one row per
unit in visit order (`visit_order`: tier 1 first, big units first) with what to do
there, its size, the money it paid or owes and the registry's extra columns
(联系人, 联系电话, 地址 …) under their own headers, and an empty 走访记录 column for
the organizer's notes. Money is shown in yuan from integer fen (dues.report.cells).
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any

import polars as pl
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Border, Side
from openpyxl.utils import get_column_letter

from dues.drive import extra_columns
from dues.files import atomic_path
from dues.report import cells
from dues.report.labels import Lang, column_label, pick, value_labels

# The columns of the list, in order, after 序号; the extras and 走访记录 follow.
LIST_COLUMNS = (
    "tier_label",
    "action",
    "name",
    "uscc",
    "employees",
    "members",
    "ownership",
    "union_kind",
    "prep_paid_12m_fen",
    "arrears_fen",
)
_KINDS: dict[str, cells.Kind] = {
    "employees": "int",
    "members": "int",
    "prep_paid_12m_fen": "money",
    "arrears_fen": "money",
}
_ENUMS = {"action": "action", "ownership": "ownership", "union_kind": "union_kind"}
_WORDS: dict[str, tuple[str, str]] = {
    "title": ("建会推动名单　{jurisdiction}　{period}", "Founding drive: {jurisdiction}, {period}"),
    "counts": (
        "共 {n} 家，按推动档次、职工人数排列：{tiers}",
        "{n} units, by tier and employees: {tiers}",
    ),
    "no": ("序号", "No."),
    "visit": ("走访记录", "Visit notes"),
}
_TITLE_ROWS = 2  # title and counts, above the header
_FROZEN = "F4"  # 序号 … 单位名称 stay in view; the header too
# What Windows and most file systems refuse in a file name, and names Windows reserves.
_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')
_RESERVED = re.compile(r"(CON|PRN|AUX|NUL|COM[0-9]|LPT[0-9])(\..*)?", re.IGNORECASE)
_MAX_NAME = 80  # characters of the jurisdiction kept in a file name
_THIN = Side(style="thin", color="999999")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)


def visit_order(frame: pl.DataFrame) -> pl.DataFrame:
    """Rows in the order a visit takes them: tier, then employees descending, then uscc."""
    return frame.sort(
        ["tier", "employees", "uscc"], descending=[False, True, False], nulls_last=True
    )


def safe_file_name(text: str) -> str:
    """`text` as one file name on any file system: no separators, no characters Windows
    refuses, no reserved device name, not hidden, at most _MAX_NAME characters."""
    name = _UNSAFE.sub("_", unicodedata.normalize("NFC", text)).strip(" .")
    name = name[:_MAX_NAME].strip(" .")
    if not name:
        return "_"
    return f"_{name}" if _RESERVED.fullmatch(name) else name


def workbook_names(jurisdictions: list[str], period: str) -> dict[str, str]:
    """Jurisdiction -> its workbook's file name, `建会推动_<period>_<jurisdiction>.xlsx`;
    two that come out alike (case folded, as Windows compares) are numbered."""
    taken: set[str] = set()
    out: dict[str, str] = {}
    for jurisdiction in jurisdictions:
        stem = f"建会推动_{period}_{safe_file_name(jurisdiction)}"
        name, n = f"{stem}.xlsx", 1
        while name.casefold() in taken:
            n += 1
            name = f"{stem}({n}).xlsx"
        taken.add(name.casefold())
        out[jurisdiction] = name
    return out


def _tier_counts(frame: pl.DataFrame) -> str:
    counts = frame.group_by("tier_label", "tier").len().sort("tier")
    return "，".join(f"{label} {n} 家" for label, _, n in counts.iter_rows())


def _shown(frame: pl.DataFrame, names: list[str], lang: Lang) -> pl.DataFrame:
    """Enum codes as words; everything else as it is."""
    return frame.with_columns(
        pl.col(name).replace(value_labels(enum, lang)) for name, enum in _ENUMS.items()
    ).select(names)


def _boxed(ws: Any, value: Any, kind: cells.Kind) -> Any:
    """A data cell with a thin box, so the printed list reads as a form (empty ones too)."""
    cell = cells.styled(ws, value, kind)
    if cell is None:
        cell = WriteOnlyCell(ws)
    cell.border = _BOX
    return cell


def write_drive_workbook(
    path: Path, frame: pl.DataFrame, jurisdiction: str, period: str, lang: Lang = "zh"
) -> None:
    """Write the list of `frame` (one jurisdiction's founding-drive rows, with the columns
    of dues.drive) to `path`, atomically."""
    rows = visit_order(frame)
    extras = extra_columns(rows.columns)
    names = [*LIST_COLUMNS, *extras]
    shown = _shown(rows, names, lang)
    headers = [
        pick(_WORDS["no"], lang),
        *(column_label(n, lang) for n in names),
        pick(_WORDS["visit"], lang),
    ]
    kinds: list[cells.Kind] = ["int", *(_KINDS.get(n, "text") for n in names), "text"]
    values = [list(r) for r in shown.iter_rows()]
    wb = Workbook(write_only=True)
    wb.properties.creator = "dues"
    title = pick(_WORDS["title"], lang).format(jurisdiction=jurisdiction, period=period)
    wb.properties.title = title
    ws = wb.create_sheet(pick(("建会推动", "Founding drive"), lang))
    for i, (header, kind) in enumerate(zip(headers, kinds, strict=True)):
        samples = [row[i - 1] for row in values[:500]] if 0 < i <= len(names) else []
        ws.column_dimensions[get_column_letter(i + 1)].width = cells.column_width(
            header, samples, kind
        )
    ws.column_dimensions[get_column_letter(len(headers))].width = 30  # room to write in
    ws.freeze_panes = _FROZEN
    cells.print_setup(ws)
    ws.print_title_rows = f"1:{_TITLE_ROWS + 1}"
    ws.append([cells.text_cell(ws, title, font=cells.TITLE_FONT)])
    counts = pick(_WORDS["counts"], lang).format(n=rows.height, tiers=_tier_counts(rows))
    ws.append([cells.text_cell(ws, counts)])
    ws.append(cells.header_cells(ws, headers))
    for number, row in enumerate(values, 1):
        line = [_boxed(ws, number, "int")]
        line += [_boxed(ws, v, k) for v, k in zip(row, kinds[1:-1], strict=True)]
        ws.append([*line, _boxed(ws, None, "text")])
    ws.auto_filter.ref = f"A{_TITLE_ROWS + 1}:{get_column_letter(len(headers))}{len(values) + 3}"
    with atomic_path(path) as tmp:
        wb.save(tmp)


def write_drive_workbooks(
    frame: pl.DataFrame, out: Path, period: str, lang: Lang = "zh"
) -> list[Path]:
    """One workbook per jurisdiction of `frame` in folder `out` (see workbook_names),
    by jurisdiction; nothing when no unit is to be visited."""
    jurisdictions = sorted(frame.get_column("jurisdiction").unique().to_list())
    names = workbook_names(jurisdictions, period)
    paths = []
    for jurisdiction in jurisdictions:
        path = out / names[jurisdiction]
        mine = frame.filter(pl.col("jurisdiction") == jurisdiction)
        write_drive_workbook(path, mine, jurisdiction, period, lang)
        paths.append(path)
    return paths
