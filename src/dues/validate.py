"""`dues validate`: ingest files on their own, write what was accepted and quarantined."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from dues.files import write_parquet
from dues.ingest import InputResult, read_input
from dues.outputs import empty_quarantine
from dues.readers import InputError
from dues.schemas import Kind


@dataclass(frozen=True)
class ValidateResult:
    results: list[InputResult]
    errors: list[str]  # one line per file that could not be used


def validate_files(paths: list[Path], out: Path, kind: Kind | None = None) -> ValidateResult:
    """Read each file alone; write OUT/accepted.parquet and OUT/quarantine.parquet.

    A file that cannot be read is reported and contributes nothing. Files of
    different kinds cannot share one accepted.parquet, so that is refused whole.
    """
    results: list[InputResult] = []
    errors: list[str] = []
    for path in paths:
        try:
            results.append(read_input(path, kind))
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
    return ValidateResult(results, errors)
