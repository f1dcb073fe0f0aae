"""Read a bureau file into a grid of cell texts with the row numbers a person sees.

CSV encodings are detected from the bytes (BOM, then strict UTF-8, else
GB18030, which is a superset of GBK), never from the file name. Workbooks are
read with calamine (fastexcel), about 20x faster than openpyxl; calamine drops
leading empty rows and columns, so the sheet's first used row is looked up
separately to keep `source_row` equal to the row number Excel shows.
"""

from __future__ import annotations

import csv
import hashlib
import re
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import polars as pl

_BOM = b"\xef\xbb\xbf"


class InputError(Exception):
    """A whole file cannot be used: unreadable, empty, or a required column is missing."""


@dataclass(frozen=True)
class Grid:
    """All cells of a file as text; `rows[i]` is the 1-based row number of `cells` row i."""

    cells: pl.DataFrame  # columns c0..cN, all String
    rows: pl.Series  # Int64 row numbers
    encoding: str
    sha256: str  # of the file's bytes, for the run manifest


def _parse_csv(source: bytes) -> pl.DataFrame:
    head = source[: 1 << 16].decode("utf-8", errors="ignore")
    # Title rows above the header have fewer fields than the data, and polars takes the
    # column count from the first line: a line of empty fields as wide as the widest of
    # the first lines goes first, and is dropped again after parsing.
    width = max((len(r) for r in csv.reader(head.splitlines()[:50])), default=1)
    cells = pl.read_csv(
        b"," * (width - 1) + b"\n" + source,
        has_header=False,
        schema={f"c{i}": pl.String for i in range(width)},
        truncate_ragged_lines=True,
        raise_if_empty=False,
    )
    return cells.slice(1)


def _read_csv_cells(data: bytes) -> tuple[pl.DataFrame, str]:
    """Cells and encoding: a BOM says UTF-8; else strict UTF-8 (polars checks every
    field as it parses, which saves decoding a large file twice); else GB18030, a
    superset of GBK."""
    head = data[: 1 << 16]
    if b"\r" in head and b"\n" not in head:
        # Bare CR line ends (Excel for Mac, SPEC §3): polars splits records on LF only.
        data = data.replace(b"\r", b"\n")
    if data.startswith(_BOM):
        return _parse_csv(data[len(_BOM) :]), "utf-8-sig"
    try:
        return _parse_csv(data), "utf-8"
    except pl.exceptions.ComputeError as exc:
        if "utf-8" not in str(exc).lower():
            raise
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"cannot decode as UTF-8, GBK or GB18030 (byte {exc.start}); save it as CSV UTF-8"
        ) from exc
    return _parse_csv(text.encode("utf-8")), "gb18030"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_csv(path: Path) -> Grid:
    data = path.read_bytes()
    # One copy at most (a BOM file), and isspace() stops at the first byte that is not
    # white space: no pass over a big file.
    body = data.removeprefix(_BOM)
    if not body or body.isspace():
        raise InputError("the file is empty")
    del body
    # hashlib releases the GIL on large buffers: the digest is free beside the parse.
    with ThreadPoolExecutor(max_workers=1) as pool:
        digest = pool.submit(_sha256, data)
        try:
            cells, encoding = _read_csv_cells(data)
        except pl.exceptions.PolarsError as exc:
            raise InputError(f"cannot parse as CSV: {exc}") from exc
        sha256 = digest.result()
    if cells.height == 0 or all(cells[c].null_count() == cells.height for c in cells.columns):
        raise InputError("the file is empty")
    # One CSV record per line: bureau exports never wrap cells across lines.
    rows = pl.int_range(1, cells.height + 1, eager=True, dtype=pl.Int64)
    return Grid(cells, rows, encoding, sha256)


_CELL = re.compile(rb'<c r="[A-Z]+(\d+)"[^>]*?(?:/>|>(.*?)</c>)', re.S)


def _first_sheet_xml(book: zipfile.ZipFile) -> str:
    """Path of the first worksheet's XML part, as the workbook's relationships name it."""
    workbook = book.read("xl/workbook.xml")
    rel_id = re.search(rb'<(?:\w+:)?sheet [^>]*?r:id="([^"]+)"', workbook)
    rels = book.read("xl/_rels/workbook.xml.rels")
    if rel_id:
        for rel in re.finditer(rb"<Relationship [^>]*>", rels):
            if b'Id="' + rel_id.group(1) + b'"' in rel.group(0):
                target = re.search(rb'Target="([^"]+)"', rel.group(0))
                if target:
                    name = target.group(1).decode()
                    return name.lstrip("/") if name.startswith("/") else f"xl/{name}"
    return "xl/worksheets/sheet1.xml"


def _first_used_row_xlsx(path: Path) -> int:
    """Row number of the first cell with a value, from the sheet XML's first bytes.

    openpyxl's read-only mode scans the whole sheet for its size when the file has no
    <dimension> (13 s for 100k rows), so the first rows are read straight from the zip.
    """
    with zipfile.ZipFile(path) as book, book.open(_first_sheet_xml(book)) as sheet:
        head = b""
        while chunk := sheet.read(1 << 16):
            head += chunk
            for cell in _CELL.finditer(head):
                body = cell.group(2) or b""
                if re.search(rb"<v>[^<]|<t[^>]*>[^<]", body):
                    return int(cell.group(1))
            if len(head) > 1 << 22:
                break
    return 1


def _first_used_row_xls(path: Path) -> int:
    import xlrd

    book = xlrd.open_workbook(str(path), on_demand=True)
    sheet = book.sheet_by_index(0)
    for r in range(min(sheet.nrows, 200)):
        if any(str(v).strip() for v in sheet.row_values(r)):
            return r + 1
    return 1


# What a workbook's first bytes are: xlsx is a zip, xls an OLE compound file.
_WORKBOOK_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")


def _not_a_workbook(path: Path, error: Exception) -> str:
    """One line a clerk can act on, instead of the Excel reader's own jargon."""
    with path.open("rb") as fh:
        head = fh.read(512)
    if not head:
        return "the file is empty"
    if not head.startswith(_WORKBOOK_MAGIC):
        what = (
            "a PDF, not an Excel workbook" if head.startswith(b"%PDF") else "not an Excel workbook"
        )
        return f"the file is {what} (though named {path.suffix}); export it as .xlsx or .csv"
    first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return f"cannot read as a workbook (damaged or protected?): {first}"


def _read_workbook(path: Path) -> Grid:
    try:
        cells = pl.read_excel(
            path,
            engine="calamine",
            sheet_id=1,
            has_header=False,
            infer_schema_length=0,
            drop_empty_rows=False,
        )
    except Exception as exc:  # fastexcel raises its own types for every failure
        raise InputError(_not_a_workbook(path, exc)) from exc
    if cells.height == 0:
        raise InputError("the first sheet is empty")
    cells = cells.rename({c: f"c{i}" for i, c in enumerate(cells.columns)}).cast(pl.String)
    try:
        first = (
            _first_used_row_xls(path)
            if path.suffix.lower() == ".xls"
            else _first_used_row_xlsx(path)
        )
    except Exception:  # an exotic workbook calamine could read: fall back to its own start
        first = 1
    rows = pl.int_range(first, first + cells.height, eager=True, dtype=pl.Int64)
    return Grid(cells, rows, "xlsx", _sha256_file(path))


def read_grid(path: Path) -> Grid:
    """Read `path` (.csv, .xlsx, .xlsm, .xls) into a Grid, or raise InputError."""
    if not path.exists():
        raise InputError("no such file")
    suffix = path.suffix.lower()
    if suffix in {".csv", ".txt"}:
        return _read_csv(path)
    if suffix in {".xlsx", ".xlsm", ".xls"}:
        return _read_workbook(path)
    raise InputError(f"unsupported file type {suffix!r}: expected .xlsx, .xls or .csv")
