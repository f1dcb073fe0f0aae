"""Look at an xlsx file's zip and first sheet before calamine reads it, within bounds.

calamine (through fastexcel) builds a sheet's used range as one dense grid and copies
each shared string into every cell that refers to it. A tiny hostile or damaged file
can ask either way for hundreds of GiB: one stray cell at XFD1048576 is a grid of
17 billion cells, one 10 MB string referred to 1,000 times is 10 GB of text, and the
Rust side then aborts or panics. No maintained library states those sizes up front
(openpyxl's read-only mode trusts the sheet's own `<dimension>`), so this module does,
from the zip directory and one linear pass over the sheet XML:

* the declared uncompressed size of the parts (the zip bomb); Python's zipfile stops at
  that size and checks the CRC, so the parts read here cannot be larger;
* the bounding box of the cells that hold a value, which is the grid calamine allocates;
* the bytes of cell text the shared strings expand to.

Cheap searches settle the usual file (every cell tag written `<c r="A1"`, at most 33
columns: 13 for a collections file); anything else is walked with expat, element by
element, which is exact and linear but slower. All regular expressions here are a
literal followed by bounded character classes: no backtracking.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from xml.parsers import expat

MAX_PART_BYTES = 1 << 30  # one part of the zip, uncompressed (a 1M-row sheet is ~850 MB)
MAX_TOTAL_BYTES = 3 << 30  # all parts together
MAX_CELLS = 1 << 25  # cells of the dense grid: 33,554,432 (~1 GB inside calamine)
MAX_TEXT_BYTES = 1 << 29  # cell text after shared strings are copied into their cells
_CHUNK = 1 << 24
_FIRST_ROW_BYTES = 1 << 26  # how far to look for the first used row before giving up

_MAX_ROW = 999_999  # the cheap path's bound: no cell ref with a seven-digit row
# A cell or row tag that is not `<c r="A1"` .. `<c r="Z999999"` (`<row r="999999"`), or one
# with a namespace prefix: where there is none, the grid is at most 26 x 999,999 cells.
# (Each pattern starts with a literal, which `re` skips to: an alternative that does not
# would make it try every byte, ten times slower.)
_UNUSUAL = re.compile(rb'<(?:c(?! r="[A-Z][0-9]{1,6}")|row(?! r="[0-9]{1,6}"))[\s/>]')
_PREFIXED = re.compile(rb":(?:c|row)[\s/>]")
_ODD = re.compile(rb"<(?:c|row)(?:/?>|\s+(?!r=))")  # a cell or row without r first
_WIDE = re.compile(rb'<c r="([A-Z]{2,3})[0-9]')
_DEEP = re.compile(rb'<c r="[A-Z]{1,3}[0-9]{7}')
# `t="s"` spelt so that counting the two plain spellings would miss it.
_SPELLED = re.compile(rb"""\st(?:\s+=|=\s+|=["']&)""")
_MIN_CELL_BYTES = 20  # `<c t="s"><v>0</v></c>` is 22 bytes: a sheet holds fewer cells
_SI_END = re.compile(rb"</(?:[\w.-]+:)?si>")
_REF = re.compile(r"([A-Z]{1,3})([0-9]{1,7})")


class Refused(Exception):
    """The workbook is beyond the bounds; the message is one line a clerk can act on."""


def column_number(letters: str) -> int:
    """'A' -> 1, 'Z' -> 26, 'AA' -> 27, 'XFD' -> 16384."""
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def column_letters(n: int) -> str:
    out = ""
    while n > 0:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def _target(
    rels: bytes, base: str, *, rel_id: bytes | None = None, kind: bytes = b""
) -> str | None:
    """The part a relationship points at: by its Id, or the first of a type."""
    for rel in re.finditer(rb"<(?:\w+:)?Relationship\s[^>]*>", rels):
        tag = rel.group(0)
        if rel_id is not None and not re.search(rb'\sId="' + re.escape(rel_id) + b'"', tag):
            continue
        if kind and not re.search(rb'\sType="[^"]*/' + kind + b'"', tag):
            continue
        target = re.search(rb'\sTarget="([^"]+)"', tag)
        if target:
            name = target.group(1).decode()
            return (
                name.lstrip("/")
                if name.startswith("/")
                else posixpath.normpath(posixpath.join(base, name))
            )
    return None


def first_sheet_part(book: zipfile.ZipFile) -> str:
    """Path of the first worksheet's XML part, as the package's relationships name it."""
    names = set(book.namelist())
    workbook = "xl/workbook.xml"
    if "_rels/.rels" in names:
        workbook = _target(book.read("_rels/.rels"), "", kind=b"officeDocument") or workbook
    folder, leaf = posixpath.split(workbook)
    rels_part = posixpath.join(folder, "_rels", f"{leaf}.rels")
    rel_id = re.search(rb'<(?:\w+:)?sheet\s[^>]*?r:id="([^"]+)"', book.read(workbook))
    if rel_id and rels_part in names:
        found = _target(book.read(rels_part), folder, rel_id=rel_id.group(1))
        if found and found in names:
            return found
    return "xl/worksheets/sheet1.xml"


def _check_sizes(book: zipfile.ZipFile) -> None:
    total = 0
    for info in book.infolist():
        total += info.file_size
        if info.file_size > MAX_PART_BYTES:
            raise Refused(
                f"the workbook part {info.filename} unpacks to {info.file_size:,} bytes "
                f"(more than {MAX_PART_BYTES:,}); save the sheet as .csv"
            )
    if total > MAX_TOTAL_BYTES:
        raise Refused(
            f"the workbook unpacks to {total:,} bytes (more than {MAX_TOTAL_BYTES:,}); "
            "save the sheet as .csv"
        )


def _chunks(book: zipfile.ZipFile, part: str) -> Iterator[bytes]:
    """The part's bytes in pieces cut after a '>', so no tag start is split."""
    carry = b""
    with book.open(part) as fh:
        while block := fh.read(_CHUNK):
            block = carry + block
            cut = block.rfind(b">") + 1
            if cut == 0:
                carry = block
                continue
            carry = block[cut:]
            yield block[:cut]
    if carry:
        yield carry


def _string_lengths(book: zipfile.ZipFile) -> list[int]:
    """Bytes of XML of each shared string, in index order: an upper bound of its text."""
    names = {i.filename.lower(): i.filename for i in book.infolist()}
    part = names.get("xl/sharedstrings.xml")
    if part is None:
        return []
    pieces = _SI_END.split(book.read(part))
    return [len(p) for p in pieces[:-1]]


def _fail_cells(top: int, left: int, bottom: int, right: int) -> Refused:
    cells = (bottom - top + 1) * (right - left + 1)
    first, last = f"{column_letters(left)}{top}", f"{column_letters(right)}{bottom}"
    return Refused(
        f"the first sheet's used range {first}:{last} is {cells:,} cells (more than "
        f"{MAX_CELLS:,}); delete the stray cells far from the table (the last is at {last})"
    )


def _fail_text(total: int) -> Refused:
    return Refused(
        f"the first sheet's text comes to more than {MAX_TEXT_BYTES:,} bytes ({total:,} "
        "counted) once its shared strings are filled in; the file is damaged or built to "
        "exhaust memory"
    )


def check_workbook(path: Path) -> None:
    """Raise Refused if reading `path`'s first sheet would exceed the bounds above.

    zipfile's own errors (not a zip, a damaged part, a bad CRC) pass through for the
    caller to name.
    """
    with zipfile.ZipFile(path) as book:
        _check_sizes(book)
        part = first_sheet_part(book)
        lengths = _string_lengths(book)
        longest = max(lengths, default=0)
        unusual = odd = deep = spelled = False
        columns: set[bytes] = set()
        string_cells = 0
        # Could the shared strings expand beyond the bound? Then count the cells using them.
        count = longest * (book.getinfo(part).file_size // _MIN_CELL_BYTES) > MAX_TEXT_BYTES
        for chunk in _chunks(book, part):
            # One search settles a sheet of up to 26 columns; only wider or odder ones are
            # looked at more closely, and only the oddest walked (each pass costs ~0.1 s per
            # 100,000 rows).
            if not unusual and (_UNUSUAL.search(chunk) or _PREFIXED.search(chunk)):
                unusual = True
            if unusual:
                odd = odd or _ODD.search(chunk) is not None or _PREFIXED.search(chunk) is not None
                deep = deep or _DEEP.search(chunk) is not None
                columns.update(_WIDE.findall(chunk))
            if count:
                string_cells += chunk.count(b't="s"') + chunk.count(b"t='s'")
                spelled = spelled or _SPELLED.search(chunk) is not None
        widest = max((column_number(c.decode()) for c in columns), default=26)
        too_wide = widest * _MAX_ROW > MAX_CELLS
        if odd or deep or too_wide or spelled or longest * string_cells > MAX_TEXT_BYTES:
            _walk(book, part, lengths)


def _walk(book: zipfile.ZipFile, part: str, lengths: list[int]) -> None:
    """The exact check: every cell's place as calamine gives it, and its shared text."""
    top = left = 1 << 40
    bottom = right = 0
    row = col = 0
    text = 0
    cell: dict[str, object] | None = None

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal row, col, cell
        local = name.rpartition("}")[2]
        if local == "row":
            r = attrs.get("r", "")
            row = int(r) if r.isdigit() else row + 1
            col = 0
        elif local == "c":
            m = _REF.fullmatch(attrs.get("r", ""))
            if m:
                col, row = column_number(m.group(1)), int(m.group(2))
            else:
                col += 1
            cell = {"t": attrs.get("t"), "value": False, "v": []}
        elif cell is not None and local in ("v", "is"):
            cell["value"] = True
            cell["in_v"] = local == "v"

    def end(name: str) -> None:
        nonlocal cell, top, left, bottom, right, text
        local = name.rpartition("}")[2]
        if cell is None:
            return
        if local == "v":
            cell["in_v"] = False
        elif local == "c":
            if cell["value"]:
                top, bottom = min(top, row), max(bottom, row)
                left, right = min(left, col), max(right, col)
                if cell["t"] == "s":
                    digits = "".join(cell["v"]).strip()  # type: ignore[arg-type]
                    if digits.isdigit() and int(digits) < len(lengths):
                        text += lengths[int(digits)]
                        if text > MAX_TEXT_BYTES:
                            raise _fail_text(text)
            cell = None

    def data(chars: str) -> None:
        if cell is not None and cell.get("in_v"):
            cell["v"].append(chars)  # type: ignore[attr-defined]

    parser = expat.ParserCreate(namespace_separator="}")
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = data
    try:
        for chunk in _chunks(book, part):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except expat.ExpatError:
        return  # not well-formed XML: calamine refuses it in its own words
    if bottom and (bottom - top + 1) * (right - left + 1) > MAX_CELLS:
        raise _fail_cells(top, left, bottom, right)


class _Found(Exception):
    def __init__(self, row: int) -> None:
        self.row = row


def first_used_row(path: Path) -> int:
    """Row number of the first cell with a value (calamine drops the empty rows above it).

    expat walks the sheet's first bytes: linear whatever they hold (a long XML comment
    before <sheetData> made the regular expression this replaces backtrack for minutes).
    """
    row = 0
    col = 0
    reading = False

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal row, col, reading
        local = name.rpartition("}")[2]
        if local == "row":
            r = attrs.get("r", "")
            row = int(r) if r.isdigit() else row + 1
        elif local == "c":
            m = _REF.fullmatch(attrs.get("r", ""))
            if m:
                row = int(m.group(2))
        elif local in ("v", "t"):
            reading = True

    def end(name: str) -> None:
        nonlocal reading
        reading = False

    def data(chars: str) -> None:
        if reading and chars:
            raise _Found(max(row, 1))

    parser = expat.ParserCreate(namespace_separator="}")
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = data
    seen = 0
    with zipfile.ZipFile(path) as book, book.open(first_sheet_part(book)) as sheet:
        try:
            while (block := sheet.read(1 << 16)) and seen < _FIRST_ROW_BYTES:
                seen += len(block)
                parser.Parse(block, False)
        except _Found as found:
            return found.row
        except expat.ExpatError:
            return 1
    return 1
