"""One frame as one or more streamed sheets: header, typed cells, fills, filter.

Sheets are written in openpyxl's write-only mode; their data rows are built as XML
by polars (dues.report.sheetdata), so a 1.2M-row reconciliation streams through a
file instead of a million Python cell objects. A frame longer
than `max_rows` data rows continues on `名称(2)`, `名称(3)`, … (Excel stops at
1,048,576 rows, header included).
"""

from __future__ import annotations

from typing import IO, Any

import polars as pl
from openpyxl.utils import get_column_letter

from dues.arrears import aging_columns
from dues.report import cells
from dues.report.cells import BAD, BAND, GOOD, NO_FILL, WARN, Column, Kind
from dues.report.labels import (
    COLUMN_ENUM,
    LEGENDS,
    TABLE_COLUMNS,
    TABLE_ENUM,
    Lang,
    column_label,
    pick,
    sheet_name,
    text,
    value_labels,
)
from dues.report.sheetdata import PendingRows, write_rows

EXCEL_MAX_DATA_ROWS = 1_048_575
_WIDTH_SAMPLE = 500  # rows looked at for column widths (the head: deterministic)
_ROW_FILL = "*"  # key of a fill that colours every cell of the row

# Which columns stay visible when scrolling right, besides the header row.
_FROZEN_COLUMNS = {"reconciliation": 3, "arrears": 2, "founding_drive": 2, "distribution": 3,
                   "quarantine": 2}  # fmt: skip


def _over_zero(column: str, fill: int) -> pl.Expr:
    return pl.when(pl.col(column) > 0).then(fill).otherwise(NO_FILL)


def _fills(key: str, names: list[str]) -> dict[str, pl.Expr]:
    """Fill variant per row (`*`) or per cell of the shown columns `names`: what an
    auditor must not miss."""
    match key:
        case "reconciliation":
            status = pl.col("status")
            return {
                _ROW_FILL: pl.when(status == "underpaid")
                .then(BAD)
                .when(status == "not_filed")
                .then(WARN)
                .otherwise(NO_FILL)
            }
        case "arrears":
            marks = {"arrears_fen": _over_zero("arrears_fen", BAD)}
            for i, col in enumerate(aging_columns(names)):
                # The youngest bucket is a reminder, not yet a problem.
                marks[col] = _over_zero(col, WARN if i == 0 else BAD)
            marks["credit_fen"] = _over_zero("credit_fen", GOOD)
            return marks
        case "founding_drive":
            # Alternate a light band per jurisdiction so its units read as one group.
            group = pl.col("jurisdiction").rle_id() % 2
            return {_ROW_FILL: pl.when(group == 1).then(BAND).otherwise(NO_FILL)}
        case _:
            return {}


def _sorted(key: str, frame: pl.DataFrame) -> pl.DataFrame:
    if key == "founding_drive":
        # Visit lists go out per jurisdiction, most urgent tier first, big units first.
        return frame.sort(
            ["jurisdiction", "tier", "employees", "uscc"],
            descending=[False, False, True, False],
            nulls_last=True,
            maintain_order=True,
        )
    return frame


# Months on which money is owed: only they are past due in the workbook.
OWING_STATUSES = ("underpaid", "not_filed")


def _shown_values(key: str, frame: pl.DataFrame) -> pl.DataFrame:
    """What a sheet shows where it differs from the output: 逾期天数 only on the months
    that owe money (reconciliation.parquet keeps the days of every month, SPEC §5)."""
    if key == "reconciliation" and "days_past_due" in frame.columns:
        owing = pl.col("status").is_in(OWING_STATUSES)
        return frame.with_columns(
            days_past_due=pl.when(owing).then(pl.col("days_past_due")).otherwise(None)
        )
    return frame


def _kind(name: str, dtype: pl.DataType) -> Kind:
    if name.endswith("_fen"):
        return "money"
    if name.endswith("_bp"):
        return "bp"
    if dtype.is_float():
        return "rate" if name.endswith("_rate") else "number"
    if dtype == pl.Date:
        return "date"
    if dtype.is_integer():
        return "int"
    return "text"


def _value_expr(key: str, name: str, dtype: pl.DataType, kind: Kind, lang: Lang) -> pl.Expr:
    col = pl.col(name)
    if dtype == pl.Boolean:
        labels = value_labels("bool", lang)
        return col.replace_strict(
            {True: labels["true"], False: labels["false"]}, return_dtype=pl.String
        )
    if kind != "text":
        return col
    if dtype != pl.String:
        col = col.cast(pl.String)
    enum = TABLE_ENUM.get((key, name)) or COLUMN_ENUM.get(name)
    if enum is not None:
        # Unknown codes pass through as they are: visible, never blanked.
        col = col.replace(value_labels(enum, lang))
    # XML cannot carry some characters (dues.report.cells.fit_text); the length is
    # fitted afterwards, by `_fit_long_text`, for the few cells that need it.
    return col.str.replace_all(cells.ILLEGAL_CHARS, cells.REPLACEMENT)


def _fit_long_text(shown: pl.DataFrame, names: list[str]) -> pl.DataFrame:
    """Cut text beyond Excel's 32,767 UTF-16 units (cells.fit_text). Only a text of
    more than half that many characters can exceed it, so only those few cells are
    looked at in Python; polars counts characters, not UTF-16 units."""
    for name in names:
        if shown.schema[name] != pl.String:
            continue
        where = (shown[name].str.len_chars() > cells.MAX_TEXT // 2).arg_true()
        if where.is_empty():
            continue
        fitted = [cells.fit_text(v) for v in shown[name].gather(where).to_list()]
        shown = shown.with_columns(shown[name].scatter(where, fitted))
    return shown


def require_columns(key: str, frame: pl.DataFrame) -> None:
    missing = [c for c in TABLE_COLUMNS[key] if c not in frame.columns]
    if missing:
        raise ValueError(f"table {key!r} lacks column(s) {missing}; it has {frame.columns}")


def plan(key: str, frame: pl.DataFrame, lang: Lang) -> tuple[pl.DataFrame, list[Column], int]:
    """The frame as display values (plus trailing fill columns), its columns, and n values."""
    # 隔离记录 comes already shown in Chinese (dues.report.quarantine_book), else as the
    # contract has it.
    contract = () if key == "quarantine" and "raw" not in frame.columns else TABLE_COLUMNS[key]
    if contract:
        require_columns(key, frame)
    # Columns beyond the contract are shown after it, under their own names.
    names = [*contract, *(c for c in frame.columns if c not in contract)]
    frame = _shown_values(key, _sorted(key, frame))
    kinds = {n: _kind(n, frame.schema[n]) for n in names}
    cells.check_money_range(frame, [n for n in names if kinds[n] == "money"], key)

    fills = _fills(key, names)
    fill_names = [f"__fill_{i}" for i in range(len(fills))]
    shown = frame.select(
        *(_value_expr(key, n, frame.schema[n], kinds[n], lang) for n in names),
        *(expr.cast(pl.Int8).alias(f) for expr, f in zip(fills.values(), fill_names, strict=True)),
    )
    shown = _fit_long_text(shown, [n for n in names if kinds[n] == "text"])
    sample = shown.head(_WIDTH_SAMPLE)
    columns = []
    for n in names:
        header = column_label(n, lang, key)
        width = cells.column_width(header, sample[n].to_list(), kinds[n])
        columns.append(Column(n, header, kinds[n], width))
    return shown, columns, len(names)


def _fill_index(key: str, columns: list[Column]) -> list[int]:
    """For each shown column, which trailing fill column colours it (-1: none)."""
    fills = list(_fills(key, [c.name for c in columns]))
    out: list[int] = []
    for c in columns:
        if c.name in fills:
            out.append(fills.index(c.name))
        elif _ROW_FILL in fills:
            out.append(fills.index(_ROW_FILL))
        else:
            out.append(-1)
    return out


def _new_sheet(
    wb: Any, title: str, columns: list[Column], freeze_cols: int, lang: Lang = "zh"
) -> Any:
    ws = wb.create_sheet(title)
    # Widths and panes must be set before the first row: write-only sheets stream.
    for i, c in enumerate(columns, 1):
        ws.column_dimensions[get_column_letter(i)].width = c.width
    ws.freeze_panes = f"{get_column_letter(freeze_cols + 1)}2"
    cells.print_setup(ws, len(columns), lang)
    ws.print_title_rows = "1:1"  # the header on every printed page
    if freeze_cols and len(columns) > cells.ONE_PAGE_COLUMNS:
        # Two pages wide: the second half still says whose row it is.
        ws.print_title_cols = f"A:{get_column_letter(freeze_cols)}"
    ws.append(cells.header_cells(ws, [c.header for c in columns]))
    return ws


def _close_sheet(ws: Any, n_columns: int, n_rows: int) -> None:
    ws.auto_filter.ref = f"A1:{get_column_letter(n_columns)}{n_rows + 1}"


def _styles(ws: Any, key: str, shown: pl.DataFrame, columns: list[Column]) -> list[pl.Expr | None]:
    """Per column, the style id of each row's cell as an expression (None: never styled)."""
    fill_index = _fill_index(key, columns)
    out: list[pl.Expr | None] = []
    for column, k in zip(columns, fill_index, strict=True):
        formatted = cells.number_format(column.kind) is not None
        if k < 0:
            out.append(pl.lit(str(cells.style_id(ws, column.kind, NO_FILL))) if formatted else None)
            continue
        fill = pl.col(f"__fill_{k}").fill_null(NO_FILL)
        used = shown[f"__fill_{k}"].fill_null(NO_FILL).unique().sort().to_list()
        ids = {
            f: str(cells.style_id(ws, column.kind, f)) for f in used if f != NO_FILL or formatted
        }
        out.append(fill.replace_strict(ids, default=None, return_dtype=pl.String))
    return out


def write_table(
    wb: Any,
    key: str,
    frame: pl.DataFrame,
    lang: Lang,
    pending: PendingRows,
    max_rows: int = EXCEL_MAX_DATA_ROWS,
) -> list[str]:
    """Write `frame` as sheet(s) `key` of the write-only workbook; returns the sheet titles.

    openpyxl writes each sheet's header and settings; the data rows go to `pending`
    (see dues.report.sheetdata) and are spliced in when the workbook is saved.
    """
    if not 1 <= max_rows <= EXCEL_MAX_DATA_ROWS:
        raise ValueError(f"max_rows_per_sheet must be 1..{EXCEL_MAX_DATA_ROWS}, got {max_rows}")
    shown, columns, n = plan(key, frame, lang)
    freeze = _FROZEN_COLUMNS.get(key, 0)
    base = sheet_name(key, lang)
    titles: list[str] = []
    lines = legend(key, lang)
    for start in range(0, max(shown.height, 1), max_rows):
        titles.append(base if not titles else f"{base}({len(titles) + 1})")
        part = shown.slice(start, max_rows)
        ws = _new_sheet(wb, titles[-1], columns, freeze, lang)
        if lines:  # the legend is under the rows; on paper, on every page
            ws.oddHeader.right.text = "  ".join(t.split("(")[0] for t, _ in lines)
        with pending.open(titles[-1]) as out:
            write_rows(out, part, columns, _styles(ws, key, part, columns), first_row=2)
            _write_footer(out, ws, key, part, columns, lang)
        _close_sheet(ws, n, part.height)
    return titles


def total_row(shown: pl.DataFrame, columns: list[Column], lang: Lang) -> pl.DataFrame | None:
    """The 合计 row of a sheet's rows `shown`: each money column summed (in fen), the
    label in the first column; None for a sheet without money."""
    if not any(c.kind == "money" for c in columns):
        return None
    values = []
    for i, c in enumerate(columns):
        if c.kind == "money":
            values.append(pl.col(c.name).cast(pl.Int64).sum().alias(c.name))
        elif i == 0:
            values.append(pl.lit(text("sheet_total", lang)).alias(c.name))
        else:
            values.append(pl.lit(None, dtype=shown.schema[c.name]).alias(c.name))
    return shown.select(values)


def footer_rows(n_rows: int) -> tuple[int, int]:
    """Rows of the total and of the legend's title below `n_rows` data rows: each after
    a blank row, outside the filter's range, so sorting and filtering move only data."""
    total = n_rows + 3
    return total, total + 2


_LEGEND_FILLS = {"bad": BAD, "warn": WARN, "good": GOOD}


def legend(key: str, lang: Lang) -> list[tuple[str, int]]:
    """(text, fill variant) of each line of a sheet's legend; [] for a sheet without."""
    return [(pick(pair, lang), _LEGEND_FILLS[fill]) for fill, pair in LEGENDS.get(key, ())]


def _write_footer(
    out: IO[bytes], ws: Any, key: str, part: pl.DataFrame, columns: list[Column], lang: Lang
) -> None:
    """The total row and the legend, as rows after the data (dues.report.sheetdata);
    none under a sheet without rows."""
    if part.is_empty():
        return
    total_at, legend_at = footer_rows(part.height)
    total = total_row(part, columns, lang)
    if total is not None:
        styles: list[pl.Expr | None] = [
            pl.lit(str(cells.style_id(ws, c.kind, NO_FILL, bold=True)))
            if c.kind == "money" or i == 0
            else None
            for i, c in enumerate(columns)
        ]
        write_rows(out, total, columns, styles, first_row=total_at)
    lines = legend(key, lang)
    if not lines:
        return
    first = Column(columns[0].name, columns[0].header, "text", columns[0].width)
    shown = pl.DataFrame(
        {
            first.name: [text("legend", lang), *(t for t, _ in lines)],
            "__style": [
                str(cells.style_id(ws, "text", NO_FILL, bold=True)),
                *(str(cells.style_id(ws, "text", fill)) for _, fill in lines),
            ],
        }
    )
    write_rows(out, shown, [first], [pl.col("__style")], first_row=legend_at)
