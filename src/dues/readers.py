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

from dues import xlsxscan

_BOM = b"\xef\xbb\xbf"
_BARE_CR = re.compile(rb"\r(?!\n)")
_LINE_END = re.compile(rb"\r\n?")


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
    if _BARE_CR.search(data):
        # LF, CRLF and bare CR are all line ends (SPEC §3: Excel for Mac writes bare CR,
        # and a file pasted together from two machines mixes them); polars splits records
        # on LF only. A CR byte never occurs inside a UTF-8 or GB18030 character, and a
        # quoted cell's own line break stays inside its quotes, one cell, as LF.
        data = _LINE_END.sub(b"\n", data)
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
            raise InputError(f"cannot parse as CSV: {_first_line(exc)}") from exc
        sha256 = digest.result()
    if cells.height == 0 or all(cells[c].null_count() == cells.height for c in cells.columns):
        raise InputError("the file is empty")
    # Row numbers count records, as Excel shows a CSV: a quoted cell with a line break in
    # it is one cell of one row there too.
    rows = pl.int_range(1, cells.height + 1, eager=True, dtype=pl.Int64)
    return Grid(cells, rows, encoding, sha256)


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


# What a file named .xlsx/.xls often is instead, told by its first bytes.
_NOT_WORKBOOKS: tuple[tuple[tuple[bytes, ...], str], ...] = (
    ((b"%PDF",), "a PDF"),
    ((b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"BM", b"II*\x00", b"MM\x00*"), "an image"),
    ((b"RIFF",), "an image or a media file"),
    ((b"Rar!", b"7z\xbc\xaf", b"\x1f\x8b"), "a compressed archive"),
)


def _what_it_is(head: bytes) -> str:
    """What a file that is no workbook is, for the one line a clerk reads."""
    for magics, what in _NOT_WORKBOOKS:
        if head.startswith(magics):
            return what
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if start.startswith((b"<!doctype html", b"<html", b"<table", b"<?xml")):
        # Some export templates write an HTML or XML table and name it .xls.
        return "a web page (HTML/XML table)"
    if b"\x00" not in head:
        for encoding in ("utf-8", "gb18030"):
            try:
                head.decode(encoding)
            except UnicodeDecodeError as exc:
                if exc.start < len(head) - 4:  # not just a character cut at 512 bytes
                    continue
            return "a text file"
    return "not an Excel workbook"


def _not_a_workbook(path: Path, error: Exception) -> str:
    """One line a clerk can act on, instead of the Excel reader's own jargon."""
    with path.open("rb") as fh:
        head = fh.read(512)
    if not head:
        return "the file is empty"
    if head.startswith(b"PK\x03\x04") and not zipfile.is_zipfile(path):
        return (
            f"the file is a damaged zip archive (cut short or corrupted; named {path.suffix}), "
            "not a readable workbook: copy or export it again"
        )
    if not head.startswith(_WORKBOOK_MAGIC):
        what = _what_it_is(head)
        what = what if what.startswith("not ") else f"{what}, not an Excel workbook"
        return f"the file is {what} (though named {path.suffix}); export it as .xlsx or .csv"
    first = _first_line(error)
    if head.startswith(b"PK\x03\x04"):
        return f"cannot read as a workbook (a zip, but no readable Excel sheet in it): {first}"
    return f"cannot read as a workbook (damaged or protected?): {first}"


def _first_line(error: BaseException) -> str:
    """The first line of a library's message (polars and pyo3 add hints and backtraces)."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _read_workbook(path: Path) -> Grid:
    xlsx = path.suffix.lower() != ".xls"
    if xlsx:
        try:
            xlsxscan.check_workbook(path)
        except xlsxscan.Refused as exc:
            raise InputError(str(exc)) from exc
        except Exception as exc:  # not a zip, a damaged part, a method zipfile lacks
            raise InputError(_not_a_workbook(path, exc)) from exc
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
    except BaseException as exc:
        # A Rust panic inside calamine comes back as pyo3's PanicException, which derives
        # from BaseException (pyo3_runtime cannot be imported to name it): one line too.
        if type(exc).__name__ != "PanicException":
            raise
        raise InputError(
            f"cannot read as a workbook (damaged?): the Excel reader failed: {_first_line(exc)}"
        ) from None
    if cells.height == 0:
        raise InputError("the first sheet is empty")
    cells = cells.rename({c: f"c{i}" for i, c in enumerate(cells.columns)}).cast(pl.String)
    try:
        first = _first_used_row_xls(path) if not xlsx else xlsxscan.first_used_row(path)
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
