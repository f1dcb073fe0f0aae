"""The data rows of a detail sheet as worksheet XML, built column-wise by polars.

Written by hand because no maintained Python library writes styled xlsx rows fast:
openpyxl (the workbook's writer) spends ~10 µs per cell in Python, so a province's
300,000 detail rows took a minute; xlsxwriter is about twice as fast, no more. The
rows of a table are plain SpreadsheetML (`<row>`, `<c>`, `<v>`, inline strings), the
same markup openpyxl writes for them, built here by vectorized string expressions
over the whole frame. openpyxl still writes everything else (workbook, styles,
header row, panes, filter); `workbook._StableZip` splices these rows into the sheet
in front of `</sheetData>` as it stores the sheet.

Values are written the way openpyxl writes them: numbers as exact decimal text (fen
and basis points by integer arithmetic, no float anywhere, trailing zeros dropped as
"%.16g" drops them), dates as Excel serial days, text as inline strings (never a
formula, whatever it starts with), empty cells left out unless they carry a fill; an
amount beyond Excel's 15 digits as text (dues.report.cells.money_text).
tests/test_report.py compares every cell with what openpyxl's own cell writer makes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import polars as pl
from openpyxl.utils import get_column_letter

from dues.report.cells import MAX_EXACT_FEN, Column, Kind

_EXCEL_EPOCH = pl.date(1899, 12, 30)  # serial day 0 (see dues.normalize)
_SLICE_ROWS = 20_000  # rows turned into one string at a time: bounded memory


def _decimal(value: pl.Expr, places: int) -> pl.Expr:
    """Integer `value` / 10**places as the shortest exact decimal text: 12300 -> '123'."""
    scale = 10**places
    magnitude = value.abs()
    whole = (magnitude // scale).cast(pl.String)
    frac = (magnitude % scale).cast(pl.String).str.zfill(places).str.strip_chars_end("0")
    sign = pl.when(value < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    point = pl.when(frac.str.len_bytes() > 0).then(pl.lit(".")).otherwise(pl.lit(""))
    return pl.concat_str([sign, whole, point, frac])


def _escaped(text: pl.Expr) -> pl.Expr:
    """Element text: the three markup characters, and CR kept as a reference (XML
    parsers turn a bare CR into LF)."""
    return (
        text.str.replace_all("&", "&amp;", literal=True)
        .str.replace_all("<", "&lt;", literal=True)
        .str.replace_all(">", "&gt;", literal=True)
        .str.replace_all("\r", "&#13;", literal=True)
    )


def _money_text(fen: pl.Expr) -> pl.Expr:
    """What dues.report.cells.money_text makes, for a column: -123456789 -> '-1,234,567.89'."""
    magnitude = fen.abs()
    # Groups of three from the right: reversed, a comma after every three digits.
    whole = (
        (magnitude // 100)
        .cast(pl.String)
        .str.reverse()
        .str.replace_all(r"(\d{3})", "$1,")
        .str.strip_chars_end(",")
        .str.reverse()
    )
    cents = (magnitude % 100).cast(pl.String).str.zfill(2)
    sign = pl.when(fen < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    return pl.concat_str([sign, whole, pl.lit("."), cents])


def _number_text(name: str, kind: Kind, dtype: pl.DataType) -> pl.Expr:
    col = pl.col(name)
    if kind == "money":
        return _decimal(col.cast(pl.Int64), 2)
    if kind == "bp":
        return _decimal(col.cast(pl.Int64), 4)
    if kind == "date":
        return (col.cast(pl.Date) - _EXCEL_EPOCH).dt.total_days().cast(pl.String)
    if dtype.is_integer():
        return col.cast(pl.String)
    # Floats (shares, not money): "%.16g", as openpyxl prints them.
    return col.map_elements(lambda v: f"{v:.16g}", return_dtype=pl.String)


def _inline_text(ref: pl.Expr, text: pl.Expr) -> pl.Expr:
    space = (
        pl.when(text != text.str.strip_chars())
        .then(pl.lit(' xml:space="preserve"'))
        .otherwise(pl.lit(""))
    )
    return pl.concat_str(
        [ref, pl.lit(' t="inlineStr"><is><t'), space, pl.lit(">"), _escaped(text)]
    ) + pl.lit("</t></is></c>")


def _cell(
    column: Column,
    letter: str,
    dtype: pl.DataType,
    style: pl.Expr | None,
    row: pl.Expr,
    inexact: bool = False,
) -> pl.Expr:
    """`<c>` of one column for every row ('' where openpyxl writes no cell)."""
    value = pl.col(column.name)
    s_attr = (
        pl.lit("")
        if style is None
        else pl.when(style.is_null()).then(pl.lit("")).otherwise(pl.format(' s="{}"', style))
    )
    ref = pl.concat_str([pl.lit(f'<c r="{letter}'), row, pl.lit('"'), s_attr])
    if column.kind == "text" or dtype == pl.String:
        text = value.cast(pl.String)
        filled = (
            pl.when(text == "")  # openpyxl writes an empty string as an empty cell
            .then(pl.concat_str([ref, pl.lit(' t="inlineStr"/>')]))
            .otherwise(_inline_text(ref, text))
        )
    elif inexact:  # some amount of this column is beyond Excel's 15 digits
        fen = value.cast(pl.Int64)
        filled = (
            pl.when(fen.abs() > MAX_EXACT_FEN)
            .then(_inline_text(ref, _money_text(fen)))
            .otherwise(
                pl.concat_str([ref, pl.lit(' t="n"><v>'), _decimal(fen, 2)]) + pl.lit("</v></c>")
            )
        )
    else:
        filled = pl.concat_str(
            [ref, pl.lit(' t="n"><v>'), _number_text(column.name, column.kind, dtype)]
        ) + pl.lit("</v></c>")
    empty = pl.concat_str([ref, pl.lit(' t="n"/>')])
    if style is None:  # an unstyled empty cell is not written at all
        return pl.when(value.is_null()).then(pl.lit("")).otherwise(filled)
    return (
        pl.when(value.is_not_null())
        .then(filled)
        .when(style.is_not_null())
        .then(empty)
        .otherwise(pl.lit(""))
    )


def write_rows(
    out: IO[bytes],
    shown: pl.DataFrame,
    columns: list[Column],
    styles: list[pl.Expr | None],
    first_row: int,
) -> None:
    """Write `<row>` elements for `shown` (display values, plus the columns `styles`
    reads), numbered from `first_row`. `styles[i]` gives the style id of column i per
    row (null: no style attribute), or is None when the column is never styled."""
    for start in range(0, shown.height, _SLICE_ROWS):
        base = first_row + start
        row = pl.int_range(base, base + pl.len(), dtype=pl.Int64).cast(pl.String)
        parts = [pl.concat_str([pl.lit('<row r="'), row, pl.lit('">')])]
        part = shown.slice(start, _SLICE_ROWS)
        for i, (column, style) in enumerate(zip(columns, styles, strict=True)):
            letter = get_column_letter(i + 1)
            dtype = shown.schema[column.name]
            inexact = column.kind == "money" and _beyond_exact(part[column.name])
            parts.append(_cell(column, letter, dtype, style, row, inexact))
        parts.append(pl.lit("</row>"))
        xml = part.select(pl.concat_str(parts).alias("xml"))
        # Straight from polars to the file, row after row with nothing between them:
        # no Python string of the slice (its join and encode were a third of the time).
        xml.write_csv(out, include_header=False, quote_style="never", line_terminator="")


def _beyond_exact(fen: pl.Series) -> bool:
    return bool((fen.cast(pl.Int64).abs().max() or 0) > MAX_EXACT_FEN)  # type: ignore[operator]


@dataclass
class PendingRows:
    """Rows files written before the workbook is saved, by sheet title."""

    directory: Path
    files: dict[str, Path] = field(default_factory=dict)

    @contextlib.contextmanager
    def open(self, title: str) -> Iterator[IO[bytes]]:
        path = self.directory / f"rows-{len(self.files) + 1}.xml"
        self.files[title] = path
        with path.open("wb") as out:
            yield out
