"""quarantine.xlsx: a frame of the clerk's quarantine sheet (dues.validate) as a workbook.

Every cell of a row's own cells is written as text, exactly as read (a cell that
starts with `=` stays text, never a formula); the row number as a number. The header
row stays in view and carries a filter, so the clerk can pick one file or one reason.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import polars as pl
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from dues.files import atomic_path
from dues.reasons import reason_text
from dues.report import cells
from dues.schemas import Kind, input_spec

SHEET = "隔离记录"
_WIDTH_SAMPLE = 500
# The sheet's first columns (the row's own cells follow, under the file's headers).
SHEET_HEADERS = {
    "source_file": "来源文件",
    "source_row": "行号",
    "column": "问题字段",
    "reason": "原因代码",
    "reason_text": "原因",
}
WHOLE_ROW = "整行"  # the column of a reason about the whole row ("*")


def bureau_headers(kind: Kind) -> dict[str, str]:
    """SPEC column -> the bureau's own header for it (its first alias in
    schemas/inputs.toml), for files whose actual headers were not kept."""
    return {c.name: c.aliases[0] if c.aliases else c.name for c in input_spec(kind).columns}


def quarantine_sheet(
    quarantine: pl.DataFrame,
    headers: Mapping[str, Mapping[str, str]],
    kind: Kind | Sequence[Kind],
) -> pl.DataFrame:
    """The quarantine as the clerk's sheet: SHEET_HEADERS, then one text column per input
    column any file has, headed as the files head it (two spellings joined by ` / `),
    holding the row's cells as read. `headers` is file -> SPEC column -> header; `kind`
    the kind of the files, or their kinds (the workbook's quarantine mixes them)."""
    kinds = [kind] if isinstance(kind, str) else list(kind)
    columns = list(dict.fromkeys(c.name for k in kinds for c in input_spec(k).columns))
    titles: dict[str, str] = {}
    for name in columns:
        spelt = dict.fromkeys(h[name] for h in headers.values() if name in h)
        if spelt:
            title = " / ".join(spelt)
            # A file's header that reads like one of the sheet's own is marked as the file's.
            titles[name] = f"{title}(原表)" if title in SHEET_HEADERS.values() else title
    # Which header names the problem column, in the row's own file.
    by_file = pl.DataFrame(
        [(f, n, h) for f, named in headers.items() for n, h in named.items()],
        schema={"source_file": pl.String, "column": pl.String, "header": pl.String},
        orient="row",
    )
    raw_cells = quarantine.get_column("raw").str.json_decode(
        pl.Struct([pl.Field(n, pl.String) for n in columns])
    )
    return (
        quarantine.with_columns(_order=pl.int_range(pl.len()))
        .join(by_file, on=["source_file", "column"], how="left")
        .sort("_order")
        .select(
            "source_file",
            "source_row",
            column=pl.when(pl.col("column") == "*")
            .then(pl.lit(WHOLE_ROW))
            .otherwise(pl.coalesce("header", "column")),
            reason="reason",
            reason_text=pl.col("reason").replace_strict(
                {code: reason_text(code) for code in quarantine["reason"].unique()},
                return_dtype=pl.String,
            ),
        )
        .rename(SHEET_HEADERS)
        .hstack(
            # Columns of different kinds headed alike (单位名称) are one column: a row's
            # file has only one of them.
            raw_cells.struct.unnest().select(
                pl.coalesce([n for n in titles if titles[n] == title]).alias(title)
                for title in dict.fromkeys(titles.values())
            )
        )
    )


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
    cells.print_setup(ws, sheet.width)
    ws.print_title_rows = "1:1"
    ws.append(cells.header_cells(ws, sheet.columns))
    for row in sheet.iter_rows():
        ws.append([cells.styled(ws, v, k) for v, k in zip(row, kinds, strict=True)])
    ws.auto_filter.ref = f"A1:{get_column_letter(max(sheet.width, 1))}{sheet.height + 1}"
    with atomic_path(path) as tmp:
        wb.save(tmp)


def workbook_quarantine(quarantine: pl.DataFrame, file_kinds: Mapping[str, str]) -> pl.DataFrame:
    """隔离记录 of the auditors' workbook: the clerk's sheet (`quarantine_sheet`), its
    columns headed as the bureau heads them. A run keeps no file's own headers, so each
    column is headed by its bureau header (`bureau_headers`) of the file's kind
    (`file_kinds`, run.json's inputs); a file of no known kind gets every kind's."""
    known: list[Kind] = ["collections", "allocations", "registry"]
    files = quarantine["source_file"].unique(maintain_order=True).to_list()
    kinds = [k for k in known if any(file_kinds.get(f) == k for f in files)]
    if any(file_kinds.get(f) not in known for f in files):
        kinds = known
    everyone: dict[str, str] = {}
    for kind in reversed(known):  # collections' header wins where kinds share a column
        everyone |= bureau_headers(kind)
    headers = {
        f: bureau_headers(file_kinds[f]) if file_kinds.get(f) in known else everyone  # type: ignore[arg-type]
        for f in files
    }
    # A raw that is no JSON object (not made by ingest) is shown whole, as it is.
    whole = [not _is_object(v) for v in quarantine["raw"].to_list()]
    cleaned = quarantine.with_columns(
        raw=pl.when(pl.Series(whole, dtype=pl.Boolean)).then(None).otherwise(pl.col("raw"))
    )
    sheet = quarantine_sheet(cleaned, headers, kinds or known)
    if any(whole):
        raw = [r if w else None for r, w in zip(quarantine["raw"].to_list(), whole, strict=True)]
        sheet = sheet.with_columns(pl.Series(RAW_HEADER, raw, dtype=pl.String))
    return sheet


RAW_HEADER = "原始数据"


def _is_object(raw: str | None) -> bool:
    if raw is None:
        return True
    try:
        cells = json.loads(raw)
    except ValueError:
        return False
    return isinstance(cells, dict) and all(v is None or isinstance(v, str) for v in cells.values())
