"""`write_report`: the whole workbook, saved atomically and reproducibly.

Reproducible means byte for byte: the same tables and run_info give the same
file, so the workbook can be kept as a golden file and a change in any number
shows up as a diff. openpyxl's own `save` stamps the document properties and
every zip entry with the current time; we save through `ExcelWriter` into a zip
whose entries all carry the run's timestamp, and take the document's created /
modified times from run_info.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import zipfile
from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
from openpyxl import Workbook
from openpyxl.writer.excel import ExcelWriter

from dues.distribution import distribution_wide_of_long
from dues.files import atomic_path
from dues.report.labels import TABLE_COLUMNS, Lang, text
from dues.report.overview import write_overview, write_run_info
from dues.report.quarantine_book import workbook_quarantine
from dues.report.settings import ReportSettings, load_report_settings
from dues.report.sheetdata import PendingRows
from dues.report.table import EXCEL_MAX_DATA_ROWS, require_columns, write_table

if TYPE_CHECKING:
    from _typeshed import SizedBuffer, StrPath

# Detail sheets in workbook order, after 概览 and before 运行信息.
DETAIL_TABLES = ("reconciliation", "arrears", "late_fees", "founding_drive", "prep_returns",
                 "distribution", "payouts", "unmatched", "quarantine")  # fmt: skip
# Tables a caller may leave out (written as empty sheets): the split came later than the
# other outputs, and a workbook of the reconciliation alone is still one.
_OPTIONAL = ("distribution", "payouts")
_ZIP_EPOCH = datetime(1980, 1, 1)  # the earliest time a zip entry can carry
# Deflate level 1, not zlib's default 6: for the 250 MB 对账明细 of 100,000 units it
# compressed in 2.4 s instead of 8.9 s, to a file of 27 MB instead of 22 MB.
_ZIP_LEVEL = 1


class _StableZip(zipfile.ZipFile):
    """A zip whose entries all carry one fixed time instead of the clock's."""

    def __init__(self, file: Path, stamp: datetime, rows: Mapping[str, Path]) -> None:
        super().__init__(file, "w", zipfile.ZIP_DEFLATED, allowZip64=True, compresslevel=_ZIP_LEVEL)
        self._date_time = max(stamp, _ZIP_EPOCH).timetuple()[:6]
        self._rows = rows  # sheet part name -> its data rows (dues.report.sheetdata)

    def _info(self, name: str, size: int = 0) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, self._date_time)
        info.compress_type = zipfile.ZIP_DEFLATED
        # What ZipFile.open(info, "w") compresses with (a property of that name since 3.13).
        info._compresslevel = _ZIP_LEVEL  # type: ignore[attr-defined]
        info.external_attr = 0o600 << 16  # what ZipFile.writestr gives a bare name
        info.file_size = size  # lets ZipFile.open decide on zip64 up front
        return info

    def writestr(
        self,
        zinfo_or_arcname: str | zipfile.ZipInfo,
        data: SizedBuffer | str,
        compress_type: int | None = None,
        compresslevel: int | None = None,
    ) -> None:
        if isinstance(zinfo_or_arcname, str):
            zinfo_or_arcname = self._info(zinfo_or_arcname)
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    def write(
        self,
        filename: StrPath,
        arcname: StrPath | None = None,
        compress_type: int | None = None,
        compresslevel: int | None = None,
    ) -> None:
        # openpyxl adds each streamed sheet from its temp file this way; stream it on,
        # with the sheet's data rows spliced in before </sheetData>.
        name = os.fspath(arcname if arcname is not None else filename)
        rows = self._rows.get(name)
        size = os.path.getsize(filename) + (os.path.getsize(rows) if rows else 0)
        info = self._info(name, size)
        with open(filename, "rb") as src, self.open(info, "w") as dst:
            if rows is None:
                shutil.copyfileobj(src, dst, 1 << 20)
                return
            head, marker, tail = src.read().partition(b"</sheetData>")
            if not marker or marker in tail:
                raise RuntimeError(f"{name}: cannot find where its data rows go")
            dst.write(head)
            with open(rows, "rb") as body:
                shutil.copyfileobj(body, dst, 1 << 20)
            dst.write(marker + tail)


def _moment(value: Any) -> datetime | None:
    """A run_info time as naive UTC (what the document properties hold)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    else:
        moment = datetime.fromisoformat(str(value))
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.replace(microsecond=0)


def _discard(wb: Any) -> None:
    """Remove the temp files of sheets streamed before a failure (openpyxl keeps them
    until the process exits, and a long-lived worker would pile them up)."""
    for ws in wb.worksheets:
        writer = getattr(ws, "_writer", None)
        if writer is None:
            continue
        # Finish the row stream first: left to the garbage collector, it would write
        # its closing tag into a file already closed.
        for step in (getattr(ws, "_rows", None), writer):
            if step is not None:
                with contextlib.suppress(Exception):
                    step.close()
        with contextlib.suppress(Exception):
            writer.cleanup()


def _check(tables: Mapping[str, pl.DataFrame], lang: str, max_rows: int) -> None:
    if lang not in ("zh", "en"):
        raise ValueError(f"lang must be 'zh' or 'en', got {lang!r}")
    if not 1 <= max_rows <= EXCEL_MAX_DATA_ROWS:
        raise ValueError(f"max_rows_per_sheet must be 1..{EXCEL_MAX_DATA_ROWS}, got {max_rows}")
    missing = [key for key in TABLE_COLUMNS if key not in tables and key not in _OPTIONAL]
    if missing:
        raise ValueError(f"write_report needs tables {missing}")
    for key in TABLE_COLUMNS:
        if key in tables:
            require_columns(key, tables[key])


def _empty_optional() -> dict[str, pl.DataFrame]:
    from dues.distribution import PAYOUT_COLUMNS, WIDE_COLUMNS

    def empty(columns: tuple[str, ...]) -> pl.DataFrame:
        return pl.DataFrame(
            schema={
                c: pl.Int64 if c.endswith("_fen") or c in ("source_row", "lines") else pl.String
                for c in columns
            }
        )

    return {"distribution": empty(WIDE_COLUMNS), "payouts": empty(PAYOUT_COLUMNS)}


def write_report(
    path: Path,
    tables: Mapping[str, pl.DataFrame],
    run_info: Mapping[str, Any],
    *,
    lang: Lang = "zh",
    max_rows_per_sheet: int = EXCEL_MAX_DATA_ROWS,
    settings: ReportSettings | None = None,
) -> None:
    """Write the auditors' workbook to `path`, replacing any file there atomically.

    `tables` holds the frames of SPEC §5 by name (reconciliation, arrears,
    founding_drive, prep_returns, unmatched, quarantine, indicators; distribution in
    its wide shape (or distribution.parquet's long one) and payouts, optional), money in
    integer fen; `run_info` is the run
    manifest (run.json). A detail table longer than `max_rows_per_sheet` data rows
    continues on further sheets. `settings` (default: config/report.toml) name the
    federation and the overview's sign-off block.
    Nothing is written if any table lacks a column or the writing fails.
    """
    tables = {**_empty_optional(), **tables}
    if "level" in tables["distribution"].columns:  # distribution.parquet as it is
        tables["distribution"] = distribution_wide_of_long(tables["distribution"])
    _check(tables, lang, max_rows_per_sheet)
    settings = settings or load_report_settings()
    if lang == "zh":  # the reasons in words, the raw cells under the bureau's headers
        kinds = {str(r.get("file")): str(r.get("kind")) for r in run_info.get("inputs") or []}
        tables["quarantine"] = workbook_quarantine(tables["quarantine"], kinds)
    path = Path(path)
    if not path.parent.is_dir():  # fail before streaming a million rows, not after
        raise FileNotFoundError(f"no directory {path.parent} to write {path.name} in")
    created = _moment(run_info.get("started_at")) or _moment(run_info.get("as_of")) or _ZIP_EPOCH
    modified = _moment(run_info.get("finished_at")) or created

    wb = Workbook(write_only=True)
    wb.properties.creator = "dues"
    wb.properties.title = f"{text('title', lang)} {run_info.get('period') or ''}".rstrip()
    wb.properties.created = created
    wb.properties.modified = modified
    try:
        # Beside the target (the run's staging folder): the rows can take a gigabyte at
        # province scale, and the run's own clean-up removes them if this process is killed.
        with (
            tempfile.TemporaryDirectory(dir=path.parent, prefix=".rows-") as rows_dir,
            atomic_path(path) as tmp,
        ):
            pending = PendingRows(Path(rows_dir))
            write_overview(wb, tables, run_info, lang, settings)
            for key in DETAIL_TABLES:
                write_table(wb, key, tables[key], lang, pending, max_rows_per_sheet)
            write_run_info(wb, run_info, lang)
            # openpyxl stores sheet n (1-based, workbook order) as xl/worksheets/sheet{n}.xml.
            parts = {
                f"xl/worksheets/sheet{n}.xml": pending.files[ws.title]
                for n, ws in enumerate(wb.worksheets, 1)
                if ws.title in pending.files
            }
            ExcelWriter(wb, _StableZip(tmp, modified, parts)).save()
    except BaseException:
        _discard(wb)
        raise
