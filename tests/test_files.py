"""Atomic writes: a reader sees the old file or the new one, with the umask's mode."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import polars as pl
import pytest

from dues.files import atomic_path, file_mode, write_parquet, write_text


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
