"""Atomic writes: a reader sees the old file or the new one, with the umask's mode."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import polars as pl
import pytest

from dues.files import atomic_path, file_mode, sink_parquet, write_parquet, write_text


def test_a_failed_write_leaves_the_old_file_and_no_temporary_one(tmp_path: Path) -> None:
    target = tmp_path / "run.json"
    write_text("old", target)
    with pytest.raises(OSError, match="disk full"), atomic_path(target) as tmp:
        tmp.write_text("half", encoding="utf-8")
        raise OSError("disk full")
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_a_written_file_gets_the_mode_the_umask_gives(tmp_path: Path, umask: int) -> None:
    before = os.umask(umask)
    try:
        assert file_mode() == 0o666 & ~umask
        write_parquet(pl.DataFrame({"a": [1]}), tmp_path / "a.parquet")
        write_text("x", tmp_path / "b.txt")
    finally:
        os.umask(before)
    modes = {stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir()}
    assert modes == {0o666 & ~umask}


def test_equal_frames_give_equal_parquet_bytes(tmp_path: Path) -> None:
    frame = pl.DataFrame({"uscc": ["U2", "U1"], "amount_fen": [1, -1]})
    write_parquet(frame, tmp_path / "a.parquet")
    write_parquet(frame.clone(), tmp_path / "b.parquet")
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()


def test_a_streamed_frame_has_row_groups_of_the_size_asked_and_equal_bytes(
    tmp_path: Path,
) -> None:
    import pyarrow.parquet as pq

    frame = pl.DataFrame(
        {"key": ["R1/1", "R2/1", None, "R3/1", "长的纳税人名称超过十二个字节"] * 3,
         "amount_fen": [1, -1, None, 2**62, 0] * 3}
    )  # fmt: skip
    # Pieces of another size, as a run's staged wide rows come.
    for k in range(0, frame.height, 4):
        write_parquet(frame.slice(k, 4), tmp_path / "in" / f"{k:05d}.parquet")
    pieces = sorted((tmp_path / "in").iterdir())
    sink_parquet(pl.scan_parquet(pieces), tmp_path / "a.parquet", 6)
    sink_parquet(pl.scan_parquet(pieces).select("key", "amount_fen"), tmp_path / "b.parquet", 6)
    assert pl.read_parquet(tmp_path / "a.parquet").equals(frame)
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()
    groups = pq.ParquetFile(tmp_path / "a.parquet").metadata
    assert [groups.row_group(i).num_rows for i in range(groups.num_row_groups)] == [6, 6, 3]


def test_a_stream_that_fails_leaves_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "distribution.parquet"
    write_parquet(pl.DataFrame({"a": ["0"]}), target)
    failing = pl.LazyFrame({"a": ["1", "x"]}).select(pl.col("a").cast(pl.Int64, strict=True))
    with pytest.raises(pl.exceptions.InvalidOperationError):
        sink_parquet(failing, target, 1)
    assert pl.read_parquet(target)["a"].to_list() == ["0"]
    assert [p.name for p in tmp_path.iterdir()] == ["distribution.parquet"]
