"""The detail tables written cell by cell through openpyxl: the oracle for sheetdata.

This is how dues wrote its detail sheets until the rows were built by polars
(dues.report.sheetdata). It is kept here, and only here, so a test can check that
the fast rows give Excel exactly what openpyxl's own cells give it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES

from dues.report import cells
from dues.report.cells import FILLS, NO_FILL, Column, bp_to_ratio, fen_to_yuan
from dues.report.labels import Lang, sheet_name
from dues.report.quarantine_book import workbook_quarantine
from dues.report.table import _fill_index, _new_sheet, legend, plan

# Excel reads a cell typed as any of these as a formula; stored text must stay text.
FORMULA_PREFIXES = ("=", "+", "-", "@")


def _needs_text_cell(value: str) -> bool:
    """Text that openpyxl or Excel could take for a formula or an error value."""
    return value.startswith(FORMULA_PREFIXES) or value in ERROR_CODES


def _convert(kind: str) -> Any:
    return {"money": fen_to_yuan, "bp": bp_to_ratio}.get(kind)


def _row(
    ws: Any, columns: list[Column], values: tuple[Any, ...], fills: tuple[int, ...]
) -> list[Any]:
    out: list[Any] = []
    for column, value, fill in zip(columns, values, fills, strict=True):
        conv = _convert(column.kind)
        if column.kind == "money" and value is not None and abs(value) > cells.MAX_EXACT_FEN:
            value = cells.money_text(value)  # beyond Excel's 15 digits: exact, as text
        elif conv is not None and value is not None:
            value = conv(value)
        fmt = cells.number_format(column.kind)
        if fill == NO_FILL and fmt is None:
            if isinstance(value, str) and _needs_text_cell(value):
                value = cells.text_cell(ws, value)
            out.append(value)
            continue
        cell = WriteOnlyCell(ws)
        if fmt:
            cell.number_format = fmt
        if FILLS[fill] is not None:
            cell.fill = FILLS[fill]
        cell.value = value
        if isinstance(value, str):
            cell.data_type = "s"
        out.append(cell)
    return out


def write_tables_cell_by_cell(
    path: Path,
    tables: dict[str, pl.DataFrame],
    lang: Lang,
    file_kinds: dict[str, str] | None = None,
) -> None:
    wb = Workbook(write_only=True)
    for key, frame in tables.items():
        if key == "quarantine" and lang == "zh":  # as write_report shows it
            frame = workbook_quarantine(frame, file_kinds or {})
        shown, columns, n = plan(key, frame, lang)
        fill_index = _fill_index(key, columns)
        ws = _new_sheet(wb, sheet_name(key, lang), columns, 0)
        for row in shown.iter_rows():
            marks = row[n:]
            fills = tuple(
                (marks[k] or NO_FILL) if k >= 0 and marks else NO_FILL for k in fill_index
            )
            ws.append(_row(ws, columns, row[:n], fills))
        _footer(ws, key, shown, columns, lang)
    wb.save(path)


def _footer(ws: Any, key: str, shown: pl.DataFrame, columns: list[Column], lang: Lang) -> None:
    """The total row (each money column's sum, bold) and the legend, cell by cell, after
    a blank row each; none under a sheet without rows."""
    if shown.is_empty():
        return
    ws.append([])
    money = [c.kind == "money" for c in columns]
    if any(money):
        row: list[Any] = []
        for i, c in enumerate(columns):
            if c.kind == "money":
                fen = sum(v for v in shown[c.name].to_list() if v is not None)
                value: Any = (
                    cells.money_text(fen) if abs(fen) > cells.MAX_EXACT_FEN else fen_to_yuan(fen)
                )
                cell = WriteOnlyCell(ws, value)
                cell.number_format = cells.MONEY_FORMAT
            elif i == 0:
                cell = WriteOnlyCell(ws, "合计(本表)" if lang == "zh" else "Total (this sheet)")
            else:
                row.append(None)
                continue
            cell.font = cells.BOLD
            row.append(cell)
        ws.append(row)
    lines = legend(key, lang)
    if lines:
        ws.append([])
        ws.append(["图例" if lang == "zh" else "Legend"])
        for label, fill in lines:
            cell = WriteOnlyCell(ws, label)
            cell.fill = FILLS[fill]
            ws.append([cell])
