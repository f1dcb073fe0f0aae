"""Reading a bureau file into cell texts: encodings, line endings, row numbers, refusals."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

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
