"""Reading a bureau file into cell texts: encodings, line endings, row numbers, refusals."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from _xlsx_build import build, inline, number, table

from dues.readers import InputError, read_grid

TEXT = "电子税票号码,实缴金额\nR1,100.00\nR2,200.00\n"


@pytest.mark.parametrize(
    ("encoded", "encoding"),
    [
        (TEXT.encode("utf-8"), "utf-8"),
        (b"\xef\xbb\xbf" + TEXT.encode("utf-8"), "utf-8-sig"),
        (TEXT.encode("gb18030"), "gb18030"),
        (TEXT.replace("\n", "\r\n").encode("utf-8"), "utf-8"),
        (TEXT.replace("\n", "\r").encode("utf-8"), "utf-8"),  # Excel for Mac
    ],
)
def test_a_csv_reads_the_same_cells_whatever_its_encoding_and_line_ends(
    tmp_path: Path, encoded: bytes, encoding: str
) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes(encoded)
    grid = read_grid(path)
    assert grid.encoding.replace("-", "").lower().startswith(encoding.replace("-", "")[:5])
    assert grid.cells.rows() == [("电子税票号码", "实缴金额"), ("R1", "100.00"), ("R2", "200.00")]
    assert grid.rows.to_list() == [1, 2, 3]
    assert grid.sha256 == hashlib.sha256(encoded).hexdigest()


@pytest.mark.parametrize(
    ("name", "content"),
    [("empty.csv", b""), ("blank.csv", b"\xef\xbb\xbf\n\n"), ("fake.xlsx", b"%PDF-1.7")],
)
def test_a_file_that_holds_no_table_is_refused_in_one_line(
    tmp_path: Path, name: str, content: bytes
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError) as err:
        read_grid(path)
    assert "\n" not in str(err.value)


# ---- line endings ---------------------------------------------------------------------


def test_a_csv_with_lf_crlf_and_bare_cr_in_one_file_reads_one_row_per_line(tmp_path: Path) -> None:
    """SPEC §3: every one of the three ends a line, in any mix (two files pasted together)."""
    path = tmp_path / "mixed.csv"
    path.write_bytes("电子税票号码,实缴金额\nR1,1\r\nR2,2\rR3,3\rR4,4\nR5,5".encode())
    grid = read_grid(path)
    assert grid.cells.rows() == [
        ("电子税票号码", "实缴金额"),
        ("R1", "1"),
        ("R2", "2"),
        ("R3", "3"),
        ("R4", "4"),
        ("R5", "5"),
    ]
    assert grid.rows.to_list() == [1, 2, 3, 4, 5, 6]


@pytest.mark.parametrize("inner", ["\n", "\r\n", "\r"])
def test_a_quoted_line_break_stays_inside_its_one_cell(tmp_path: Path, inner: str) -> None:
    """Row numbers count records, as Excel shows the file: the cell is one row's."""
    path = tmp_path / "quoted.csv"
    text = f'电子税票号码,备注\rR1,"first{inner}second"\r\nR2,plain\rR3,x'
    path.write_bytes(text.encode())
    grid = read_grid(path)
    assert grid.cells.rows() == [
        ("电子税票号码", "备注"),
        ("R1", "first\nsecond"),
        ("R2", "plain"),
        ("R3", "x"),
    ]
    assert grid.rows.to_list() == [1, 2, 3, 4]


# ---- workbooks that would hang or exhaust memory ---------------------------------------
# Each is read in a child process with a time limit and an address-space limit, so a
# reader that backtracks or allocates the dense grid fails the test instead of the machine.

_CHILD = """
import sys
from pathlib import Path
from dues.readers import InputError, read_grid
try:
    grid = read_grid(Path(sys.argv[1]))
except InputError as exc:
    print("refused:", exc)
else:
    print("read:", grid.cells.height, grid.rows.to_list()[:3], grid.cells.row(0))
"""


def _limit_memory() -> None:
    import resource

    four_gib = 4 << 30
    resource.setrlimit(resource.RLIMIT_AS, (four_gib, four_gib))


def read_in_child(path: Path, timeout: float = 60.0) -> str:
    """read_grid(path) in a fresh interpreter: its one line, or a failure of the test."""
    import subprocess
    import sys

    try:
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, str(path)],
            capture_output=True,
            text=True,
            timeout=timeout,
            preexec_fn=_limit_memory,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"reading {path.name} took more than {timeout} s")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 1, done.stdout
    return lines[0]


HEADER = ["电子税票号码", "实缴金额"]


def test_a_long_xml_comment_before_sheetdata_does_not_stall_the_first_row_scan(
    tmp_path: Path,
) -> None:
    """Valid XML: 400 KB of comment full of cell-like text, then the table at row 3."""
    junk = '<c r="A1"><v>1' * 25_000
    path = build(
        tmp_path / "comment.xlsx",
        table([HEADER, ["R1", "100.00"]], first_row=3),
        before=f"<!-- {junk} -->",
    )
    assert read_in_child(path, timeout=30) == ("read: 2 [3, 4] ('电子税票号码', '实缴金额')")


def test_one_stray_cell_at_xfd1048576_is_refused_in_one_line_without_the_dense_grid(
    tmp_path: Path,
) -> None:
    path = build(
        tmp_path / "stray.xlsx",
        table([HEADER, ["R1", "100.00"]])
        + '<row r="1048576">'
        + number("XFD1048576", "1")
        + "</row>",
    )
    assert path.stat().st_size < 4_000
    line = read_in_child(path)
    assert line.startswith("refused: the first sheet's used range A1:XFD1048576 is 17,179,869,184")
    assert "XFD1048576" in line


@pytest.mark.parametrize(
    "stray",
    [
        # no cell reference: calamine places the cell after the one before it
        '<row r="1048576">' + "<c/>" * 200 + "<c><v>1</v></c></row>",
        # a namespace prefix on the cell tags
        '<x:row r="1048576"><x:c r="GR1048576"><x:v>1</x:v></x:c></x:row>',
        # a cell far below its own row element
        '<row r="3"><c r="Z3000000"><v>1</v></c></row>',
    ],
)
def test_a_stray_cell_written_oddly_is_found_too(tmp_path: Path, stray: str) -> None:
    body = table([HEADER, ["R1", "100.00"]]) + stray
    path = build(tmp_path / "odd.xlsx", body)
    if "x:" in stray:  # declare the prefix on the root element
        xml = path.read_bytes()
        assert xml
        path = _with_prefix(tmp_path / "odd.xlsx", body)
    assert read_in_child(path).startswith("refused: the first sheet's used range A1:")


def _with_prefix(path: Path, body: str) -> Path:
    import zipfile

    from _xlsx_build import sheet_xml

    xml = sheet_xml(body).replace(
        "<worksheet ",
        '<worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main" ',
    )
    rebuilt = path.with_name("prefixed.xlsx")
    with zipfile.ZipFile(path) as old, zipfile.ZipFile(rebuilt, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            data = old.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = xml.encode()
            new.writestr(info.filename, data)
    return rebuilt


def test_styled_empty_cells_far_out_are_not_the_used_range(tmp_path: Path) -> None:
    """calamine skips a cell without a value, and so does the check: the file reads."""
    body = table([HEADER, ["R1", "100.00"]]) + '<row r="1048576"><c r="XFD1048576" s="1"/></row>'
    assert read_in_child(build(tmp_path / "styled.xlsx", body)).startswith("read: ")


def test_one_huge_shared_string_referred_to_a_thousand_times_is_refused(tmp_path: Path) -> None:
    """10 MB of text x 1,000 cells from a 68 KB file: refused, neither a panic nor 10 GB."""
    refs = "".join(
        f'<row r="{r}"><c r="A{r}" t="s"><v>1</v></c><c r="B{r}"><v>1</v></c></row>'
        for r in range(2, 1002)
    )
    header = '<row r="1"><c r="A1" t="s"><v>0</v></c>' + inline("B1", "实缴金额") + "</row>"
    path = build(tmp_path / "bomb.xlsx", header + refs, strings=["电子税票号码", "x" * 10_000_000])
    assert path.stat().st_size < 100_000
    line = read_in_child(path)
    assert line.startswith("refused: the first sheet's text comes to more than 536,870,912 bytes")


def test_a_workbook_part_that_unpacks_beyond_the_bound_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dues import xlsxscan

    monkeypatch.setattr(xlsxscan, "MAX_PART_BYTES", 1_000)
    path = build(tmp_path / "big.xlsx", table([HEADER, ["R1", "x" * 2_000]]))
    with pytest.raises(InputError, match=r"unpacks to [0-9,]+ bytes \(more than 1,000\)"):
        read_grid(path)


def test_a_rust_panic_in_the_excel_reader_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pyo3's PanicException is a BaseException: `except Exception` alone would miss it."""
    import polars as pl

    PanicException = type("PanicException", (BaseException,), {})  # as pyo3 names it

    def panic(*args: object, **kwargs: object) -> None:
        raise PanicException("called `Option::unwrap()` on a `None` value\nat src/lib.rs")

    monkeypatch.setattr(pl, "read_excel", panic)
    path = build(tmp_path / "p.xlsx", table([HEADER, ["R1", "1"]]))
    with pytest.raises(InputError) as err:
        read_grid(path)
    assert str(err.value) == (
        "cannot read as a workbook (damaged?): the Excel reader failed: "
        "called `Option::unwrap()` on a `None` value"
    )


def test_the_first_used_row_survives_cells_without_references(tmp_path: Path) -> None:
    body = (
        '<row r="2"></row><row><c t="inlineStr"><is><t>电子税票号码</t></is></c>'
        '<c t="inlineStr"><is><t>实缴金额</t></is></c></row><row><c><v>1</v></c></row>'
    )
    grid = read_grid(build(tmp_path / "noref.xlsx", body))
    assert grid.rows.to_list()[:2] == [3, 4]
