"""`dues validate`: ingest files on their own, write what was accepted and quarantined.

Beside quarantine.parquet goes quarantine.xlsx, for the clerk who corrects the rows:
one row per quarantined row with its file, row, the column as the file heads it, the
reason code and the reason in words (dues.reasons), then the row's cells as read,
under the file's own headers (`quarantine_sheet`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from dues.files import write_parquet
from dues.ingest import InputResult, read_input
from dues.outputs import empty_quarantine
from dues.policy import load_policy
from dues.readers import InputError
from dues.reasons import reason_text
from dues.report.labels import Lang
from dues.report.quarantine_book import (
    WHOLE_ROW,
    quarantine_sheet,
    write_quarantine_workbook,
)
from dues.schemas import Kind

QUARANTINE_XLSX = "quarantine.xlsx"


@dataclass(frozen=True)
class ValidateResult:
    results: list[InputResult]
    errors: list[str]  # one line per file that could not be used
    quarantine: pl.DataFrame = field(default_factory=empty_quarantine)

    def headers(self) -> dict[str, dict[str, str]]:
        """File -> (SPEC column -> its header in that file)."""
        return {r.stats.file: dict(r.headers) for r in self.results}


def validate_files(
    paths: list[Path], out: Path, kind: Kind | None = None, max_back_months: int | None = None
) -> ValidateResult:
    """Read each file alone; write OUT/accepted.parquet and OUT/quarantine.parquet.

    A file that cannot be read is reported and contributes nothing. Files of
    different kinds cannot share one accepted.parquet, so that is refused whole.
    Without a run period, a line is `bad_period` when its period starts more than
    `max_back_months` (by default the policy's, $DUES_CONFIG or config/policy.toml)
    before its own paid or allocated date (SPEC §3).
    """
    if max_back_months is None:
        max_back_months = _policy_max_back_months()
    results: list[InputResult] = []
    errors: list[str] = []
    for path in paths:
        try:
            results.append(read_input(path, kind, max_back_months=max_back_months))
        except InputError as exc:
            errors.append(str(exc))
        except OSError as exc:  # a folder named like a file, a file that may not be read
            errors.append(f"{path.name}: cannot read it ({exc.strerror or type(exc).__name__})")
    kinds = sorted({r.stats.kind for r in results})
    if len(kinds) > 1:
        raise InputError(
            f"the files are of different kinds ({', '.join(kinds)}): "
            "validate each kind separately or pass --kind"
        )
    if results:
        accepted = pl.concat([r.accepted for r in results], how="vertical")
        quarantine = pl.concat([empty_quarantine(), *(r.quarantine for r in results)])
        write_parquet(accepted, out / "accepted.parquet")
        write_parquet(quarantine, out / "quarantine.parquet")
        sheet = quarantine_sheet(quarantine, {r.stats.file: r.headers for r in results}, kinds[0])
        write_quarantine_workbook(out / QUARANTINE_XLSX, sheet)
        return ValidateResult(results, errors, quarantine)
    return ValidateResult(results, errors)


def _policy_max_back_months() -> int:
    try:
        return load_policy().max_back_months
    except (OSError, ValueError) as exc:  # the policy's own message, on one line
        first = str(exc).strip().splitlines()[0]
        raise InputError(f"{first} (dues validate reads max_back_months from it)") from exc


def quarantine_listing(result: ValidateResult, limit: int, lang: Lang = "zh") -> list[list[str]]:
    """The first `limit` quarantined rows as text: file, row, the column as the file heads
    it, `code: reason in words`, and the row's non-empty cells as `header=value`."""
    headers = result.headers()
    rows = []
    for q in result.quarantine.head(limit).iter_rows(named=True):
        named = headers.get(q["source_file"], {})
        column = WHOLE_ROW if q["column"] == "*" else named.get(q["column"], q["column"])
        raw = json.loads(q["raw"]) if q["raw"] else {}
        cells = "; ".join(f"{named.get(k, k)}={v}" for k, v in raw.items() if v not in (None, ""))
        reason = f"{q['reason']}: {reason_text(q['reason'], lang)}"
        rows.append([q["source_file"], str(q["source_row"]), column, reason, cells])
    return rows
