"""Finding a month's bureau files in the office's inbox folder, for scheduled runs."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from dues.ingest import find_header
from dues.periods import format_period, month_of
from dues.readers import InputError, read_grid

SUFFIXES = {".csv", ".xlsx", ".xls", ".xlsm"}


def previous_period(now: datetime | None = None, tz: str = "Asia/Shanghai") -> str:
    """The month before `now` in the federation's time zone: what a run on the 5th closes."""
    moment = now.astimezone(ZoneInfo(tz)) if now else datetime.now(ZoneInfo(tz))
    return format_period(month_of(moment.date()) - 1)


def files_for_period(inbox: Path, period: str) -> tuple[list[str], list[str]]:
    """(collections, allocations) in INBOX/<period>/, each file's kind read from its header."""
    folder = inbox / period
    if not folder.is_dir():
        raise InputError(f"{folder}: no inbox folder for {period}")
    collections: list[str] = []
    allocations: list[str] = []
    for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in SUFFIXES):
        kind = find_header(read_grid(path), None).kind
        if kind == "collections":
            collections.append(str(path))
        elif kind == "allocations":
            allocations.append(str(path))
    if not collections:
        raise InputError(f"{folder}: no tax collection file for {period}")
    return collections, allocations
