"""Atomic file writing: a reader never sees half a file, a crash leaves the old one."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl


def _umask() -> int:
    # The umask can only be read by setting it; read once, at import, before any
    # thread of this process writes a file.
    mask = os.umask(0)
    os.umask(mask)
    return mask


# mkstemp creates its file 0600 (private, as a temporary file should be); an output
# gets the mode any other new file of this process would get: 0666 less the umask,
# so an office's auditors' group can read what the run wrote.
_FILE_MODE = 0o666 & ~_umask()


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside `target`; on success it replaces `target`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        tmp_path.chmod(_FILE_MODE)
        os.replace(tmp_path, target)
    finally:
        tmp_path.unlink(missing_ok=True)


def write_parquet(frame: pl.DataFrame, target: Path) -> None:
    """Parquet with fixed settings (no statistics timestamps), so equal frames give equal bytes."""
    with atomic_path(target) as tmp:
        frame.write_parquet(tmp, compression="zstd", statistics=True)


def write_text(text: str, target: Path) -> None:
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
