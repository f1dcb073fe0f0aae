"""quarantine.xlsx: a frame of the clerk's quarantine sheet (dues.validate) as a workbook.

Every cell of a row's own cells is written as text, exactly as read (a cell that
starts with `=` stays text, never a formula); the row number as a number. The header
row stays in view and carries a filter, so the clerk can pick one file or one reason.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from dues.files import atomic_path
from dues.report import cells

SHEET = "隔离记录"
_WIDTH_SAMPLE = 500


def write_quarantine_workbook(path: Path, sheet: pl.DataFrame) -> None:
    """Write `sheet` (columns already headed for the clerk) to `path`, atomically."""
    wb = Workbook(write_only=True)
    wb.properties.creator = "dues"
    ws = wb.create_sheet(SHEET)
    kinds: list[cells.Kind] = [
        "int" if dtype.is_integer() else "text" for dtype in sheet.schema.values()
    ]
    head = sheet.head(_WIDTH_SAMPLE)
    for i, (name, kind) in enumerate(zip(sheet.columns, kinds, strict=True), 1):
        width = cells.column_width(name, head[name].to_list(), kind)
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "C2"
    cells.print_setup(ws)
    ws.print_title_rows = "1:1"
    ws.append(cells.header_cells(ws, sheet.columns))
    for row in sheet.iter_rows():
        ws.append([cells.styled(ws, v, k) for v, k in zip(row, kinds, strict=True)])
    ws.auto_filter.ref = f"A1:{get_column_letter(max(sheet.width, 1))}{sheet.height + 1}"
    with atomic_path(path) as tmp:
        wb.save(tmp)
