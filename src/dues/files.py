"""Atomic file writing: a reader never sees half a file, a crash leaves the old one."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import polars as pl


def file_mode() -> int:
    """The mode any new file of this process gets: 0666 less the umask.

    mkstemp creates its file 0600 (private, as a temporary file should be); an output
    gets this mode instead, so an office's auditors' group can read what a run wrote.
    """
    return 0o666 & ~_umask()


def _umask() -> int:
    # Linux tells the umask without changing it; elsewhere it can only be read by
    # setting it, which another thread creating a file at that moment would notice.
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside `target`; on success it replaces `target`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        tmp_path.chmod(file_mode())
        os.replace(tmp_path, target)
    finally:
        tmp_path.unlink(missing_ok=True)


# Every Parquet file dues writes: fixed settings (no statistics timestamps).
_PARQUET_SETTINGS: dict[str, Any] = {"compression": "zstd", "statistics": True}


def write_parquet(frame: pl.DataFrame, target: Path) -> None:
    """Parquet with fixed settings, so equal frames give equal bytes."""
    with atomic_path(target) as tmp:
        frame.write_parquet(tmp, **_PARQUET_SETTINGS)


def sink_parquet(frame: pl.LazyFrame, target: Path, row_group_rows: int) -> None:
    """`frame` streamed into Parquet with write_parquet's settings, never whole in memory:
    row groups of exactly `row_group_rows` rows (the last fewer), so equal frames give
    equal bytes. (Without a row group size the streaming sink cuts a row group wherever
    its engine's morsels end, which vary from run to run.)"""
    with atomic_path(target) as tmp:
        frame.sink_parquet(tmp, row_group_size=row_group_rows, **_PARQUET_SETTINGS)


def write_text(text: str, target: Path) -> None:
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
