"""Read every input file of a run, side by side, and refuse a registry that cannot be used."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import polars as pl

from dues.ingest import InputResult, read_input
from dues.policy import DEFAULT_MAX_BACK_MONTHS
from dues.readers import InputError
from dues.run.request import RunError, RunRequest
from dues.schemas import Kind

_READERS = 3  # files read at once: two cores, and one thread's Python work between parses


def read_inputs(
    request: RunRequest, max_back_months: int = DEFAULT_MAX_BACK_MONTHS
) -> list[tuple[Kind, InputResult]]:
    """(kind, result) per input file: the registry first, then collections, then allocations.

    A line whose period starts more than `max_back_months` (the policy's) before the run
    period is quarantined as `bad_period`.

    Files are read side by side: polars releases the GIL, so the Python-side work of
    one file (pandera, bookkeeping) overlaps the parsing of the next. Results come
    back in input order, and so does the first error.
    """
    jobs: list[tuple[Kind, Path]] = [("registry", request.registry)]
    jobs += [("collections", p) for p in request.collections]
    jobs += [("allocations", p) for p in request.allocations]
    with ThreadPoolExecutor(max_workers=_READERS) as pool:
        results = list(
            pool.map(lambda job: _read(job[1], job[0], request.period, max_back_months), jobs)
        )
    check_registry(request.registry, results[0])
    return [(kind, result) for (kind, _), result in zip(jobs, results, strict=True)]


def _read(path: Path, kind: Kind, period: str, max_back_months: int) -> InputResult:
    try:
        # Lines are judged for repeats once, over all files and the store, by the merge
        # (SPEC §3: against the line kept for the key, wherever it is); the registry is
        # never stored line by line, so it is judged within its file.
        return read_input(
            path,
            kind,
            judge_repeats=kind == "registry",
            run_period=period,
            max_back_months=max_back_months,
        )
    except InputError as exc:
        raise RunError(str(exc)) from exc


def check_registry(path: Path, registry: InputResult) -> None:
    """A run needs at least one unit, and each unit once: a USCC listed twice with
    different content leaves its union status (and so its rate) undecidable."""
    if registry.accepted.is_empty():
        raise RunError(f"{path.name}: the registry has no valid unit")
    twice = registry.quarantine.filter(pl.col("reason") == "conflicting_duplicate")
    if not twice.is_empty():
        rows = ", ".join(str(r) for r in twice["source_row"].to_list()[:5])
        raise RunError(
            f"{path.name}: the same USCC appears twice with different content "
            f"(rows {rows}); correct the registry"
        )
