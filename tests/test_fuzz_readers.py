"""Fuzzing the readers and ingest: odd bytes end in one clean line or in conserved rows.

Random bytes, truncated and bit-flipped copies of a real small workbook and CSV, random
sheet XML and random CSV dialects all go through `read_input`. Each either refuses the
file with one InputError line (no line break, so no traceback folded into it) or reads
it with rows read = accepted + quarantined + duplicates and money likewise, every data
row landing in exactly one of the three. Any other exception fails the test.

Bounded for CI: a fixed number of examples per strategy, derandomized (the same cases
on every run), no per-example deadline; the whole module runs in well under 30 s.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from _xlsx_build import build, inline, number
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dues.ingest import InputResult, read_input
from dues.readers import InputError

FUZZ = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

HEADER = [
    "电子税票号码", "登记序号", "社会信用代码(纳税人识别号)", "纳税人名称", "征收品目",
    "征收品目代码", "税款所属期起", "税款所属期止", "计税依据", "税率", "实缴金额", "入库日期",
]  # fmt: skip
GOOD = ["R1", "1", "91110000600037341L", "甲公司", "工会经费", "399001010", "2026-07-01",
        "2026-07-31", "10000.00", "1%", "100.00", "2026-08-10"]  # fmt: skip
# Cell texts a row may hold: good ones, near misses and hostile ones.
CELL_TEXT = st.one_of(
    st.sampled_from(
        [*GOOD, "合计", "总计", "", " ", "1,2,3", "1.234,56", "①⓪⓪", "1000²", "１２３",
         "-0.005", "10000000000000000", "0026-01-01", "10000-01-01", "46273", "2%", "abc",
         "\x00", "甲\x00乙", "\r", '"', "\ufeff", "=1+1", "R1", "R2", "2006-07-01"]
    ),
    st.text(max_size=12),
)  # fmt: skip


def check(path: Path, kind: str | None) -> InputResult | None:
    """The property: one clean line, or every row and fen accounted for."""
    try:
        result = read_input(path, kind)  # type: ignore[arg-type]
    except InputError as exc:
        message = str(exc)
        assert message.startswith(f"{path.name}: ")
        assert "\n" not in message and "\r" not in message, message
        assert "Traceback" not in message
        return None
    conserved(result)
    return result


def conserved(result: InputResult) -> None:
    s = result.stats
    assert s.rows_read == s.rows_accepted + s.rows_quarantined + s.rows_duplicate
    assert s.rows_conserved and s.money_conserved
    rows = pl.concat(
        [
            result.accepted.select("source_row"),
            result.quarantine.select("source_row"),
            result.duplicates.select("source_row"),
        ]
    )["source_row"]
    assert rows.len() == s.rows_read
    assert rows.is_unique().all()
    if "amount_fen" in result.accepted.columns:  # the fen, summed exactly in Python
        accepted = sum(v for v in result.accepted["amount_fen"].to_list() if v is not None)
        duplicate = sum(v for v in result.duplicates["amount_fen"].to_list() if v is not None)
        assert s.money_accepted_fen == accepted
        assert s.money_duplicate_fen == duplicate


KINDS = st.sampled_from([None, "collections", "registry", "allocations"])


# ---- random bytes -------------------------------------------------------------------------


@FUZZ
@given(
    data=st.binary(max_size=600),
    prefix=st.sampled_from([b"", b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"\xef\xbb\xbf", b"%PDF"]),
    suffix=st.sampled_from([".csv", ".xlsx", ".xls", ".txt"]),
    kind=KINDS,
)
def test_random_bytes(
    tmp_path: Path, data: bytes, prefix: bytes, suffix: str, kind: str | None
) -> None:
    path = tmp_path / f"random{suffix}"
    path.write_bytes(prefix + data)
    check(path, kind)


# ---- truncated and damaged copies of real files -----------------------------------------


def _real_xlsx() -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["税务代收明细"])
    sheet.append(HEADER)
    for i in range(5):
        sheet.append([f"R{i}", *GOOD[1:10], f"{i}00.00", GOOD[11]])
    sheet.append(["合计", *[""] * 9, "1000.00"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _real_csv() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for i in range(5):
        writer.writerow([f"R{i}", *GOOD[1:10], f"{i}00.00", GOOD[11]])
    return out.getvalue().encode("utf-8")


REAL = {".xlsx": _real_xlsx(), ".csv": _real_csv()}


@FUZZ
@given(
    suffix=st.sampled_from(sorted(REAL)),
    cut=st.floats(min_value=0.0, max_value=1.0),
    flips=st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(1, 255)), max_size=4),
)
def test_truncated_or_damaged_real_files(
    tmp_path: Path, suffix: str, cut: float, flips: list[tuple[float, int]]
) -> None:
    data = bytearray(REAL[suffix])
    for where, mask in flips:
        i = min(int(where * len(data)), len(data) - 1)
        data[i] ^= mask
    path = tmp_path / f"real{suffix}"
    path.write_bytes(bytes(data[: max(1, int(cut * len(data)))]))
    check(path, "collections")


def test_the_real_files_read_whole(tmp_path: Path) -> None:
    """The untouched originals read: the damage above is what makes a refusal."""
    for suffix, data in REAL.items():
        path = tmp_path / f"real{suffix}"
        path.write_bytes(data)
        result = read_input(path, "collections")
        assert result.stats.rows_accepted == 5
        conserved(result)


# ---- random sheet XML -------------------------------------------------------------------


@st.composite
def sheet_cells(draw: st.DrawFn) -> tuple[str, list[str]]:
    """sheetData of a header row (usually) and random rows of random cells."""
    strings = draw(st.lists(CELL_TEXT, max_size=4))
    rows = []
    if draw(st.booleans()):
        rows.append(
            '<row r="1">' + "".join(inline(f"{chr(65 + j)}1", h) for j, h in enumerate(HEADER))
        )
        rows[-1] += "</row>"
    for r in range(2, 2 + draw(st.integers(0, 8))):
        cells = []
        for j in range(draw(st.integers(0, len(HEADER)))):
            ref = f"{chr(65 + j)}{r}"
            shape = draw(st.sampled_from(["inline", "number", "shared", "noref", "empty", "bad"]))
            text = draw(CELL_TEXT)
            if shape == "inline":
                cells.append(inline(ref, "".join(c for c in text if c >= " " or c in "\t\n")))
            elif shape == "number":
                cells.append(
                    number(ref, draw(st.sampled_from(["1", "1.5", "46273", "-3", "1e400"])))
                )
            elif shape == "shared":
                index = draw(st.integers(0, len(strings) + 1))  # sometimes past the end
                cells.append(f'<c r="{ref}" t="s"><v>{index}</v></c>')
            elif shape == "noref":
                cells.append("<c><v>7</v></c>")
            elif shape == "empty":
                cells.append(f'<c r="{ref}" s="1"/>')
            else:
                cells.append(f'<c r="{ref}" t="e"><v>#N/A</v></c>')
        rows.append(f'<row r="{r}">' + "".join(cells) + "</row>")
    printable = ["".join(c for c in s if c >= " " or c in "\t\n") for s in strings]
    return "".join(rows), printable


@FUZZ
@given(sheet=sheet_cells(), comment=st.booleans(), kind=st.sampled_from([None, "collections"]))
def test_random_sheet_xml(
    tmp_path: Path, sheet: tuple[str, list[str]], comment: bool, kind: str | None
) -> None:
    body, strings = sheet
    before = "<!-- a comment <c r='A1'><v>1</v> -->" if comment else ""
    path = build(tmp_path / "sheet.xlsx", body, before=before, strings=strings)
    check(path, kind)


# ---- random CSV dialects ------------------------------------------------------------------


# No totals label here, so every written row with a cell is a data row the reader must see.
CSV_TEXT = CELL_TEXT.filter(lambda t: "合计" not in t and "总计" not in t)


@FUZZ
@given(
    rows=st.lists(st.lists(CSV_TEXT, min_size=1, max_size=len(HEADER) + 2), min_size=1, max_size=8),
    header=st.booleans(),
    line_end=st.sampled_from(["\n", "\r\n", "\r", "mixed"]),
    quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]),
    title=st.booleans(),
)
def test_random_csv_dialects(
    tmp_path: Path,
    rows: list[list[str]],
    header: bool,
    line_end: str,
    quoting: int,
    encoding: str,
    title: bool,
) -> None:
    out = io.StringIO()
    writer = csv.writer(out, quoting=quoting, lineterminator="\n")
    if title:
        writer.writerow(["税务代收明细"])
    if header:
        writer.writerow(HEADER)
    writer.writerows([GOOD, *rows])
    text = out.getvalue()
    if line_end == "mixed":
        parts = text.split("\n")
        ends = ["\n", "\r", "\r\n"]  # a bare CR in the middle of the data
        text = "".join(p + ends[i % 3] for i, p in enumerate(parts[:-1])) + parts[-1]
    elif line_end != "\n":
        text = text.replace("\n", line_end)
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        data = text.encode("utf-8")
    path = tmp_path / "dialect.csv"
    path.write_bytes(data)
    result = check(path, None)
    if result is not None and header and result.stats.kind == "collections":
        # LF, CRLF and bare CR each end a record, quoted breaks do not (SPEC §3): no row is
        # glued to the one before or split in two.
        written = [GOOD, *rows]
        assert result.stats.rows_read == sum(1 for r in written if any(c != "" for c in r))


def test_a_zip_with_a_sheet_but_no_workbook_part_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "parts.xlsx"
    with zipfile.ZipFile(path, "w") as book:
        book.writestr("xl/worksheets/sheet1.xml", "<worksheet/>")
    with pytest.raises(InputError) as err:
        read_input(path)
    assert "\n" not in str(err.value)
