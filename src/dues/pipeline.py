"""One period run as a chain of stages that hand each other file paths.

`run_period` calls the stages in order and is the library entry point; the
Prefect flow in `flows/` calls the very same stages as tasks. Stages talk through
Parquet files in a private work folder (`OUT/.work/<run id>/`), never large
frames, so a task can be retried or run in another process.

A run completes or leaves no trace: outputs are written to a staging folder,
the store commits everything of the run in one transaction, and only then does
the staging folder replace `OUT/<period>/` (two renames).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl

import dues
from dues import ledger
from dues.files import write_parquet, write_text
from dues.ingest import InputResult, empty_quarantine, read_input
from dues.periods import first_day, last_day, parse_period
from dues.policy import Policy, load_policy, policy_hash
from dues.readers import InputError
from dues.reconcile import Outputs, reconcile
from dues.schemas import Kind

_READERS = 3  # files read at once: two cores, and one thread's Python work between parses
PERIOD_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
OUTPUT_NAMES = (
    "reconciliation",
    "arrears",
    "founding_drive",
    "prep_returns",
    "unmatched",
    "quarantine",
    "indicators",
)


# Above this many unit-months the workbook's detail sheet keeps only the exceptions.
REPORT_DETAIL_LIMIT = 200_000
# Above this many unit-months the workbook is written by a child process beside the commit
# (report_and_commit); below it, starting a Python process costs more than it saves.
WORKBOOK_PROCESS_ROWS = 100_000
# Ten times what a province's workbook takes here; beyond it the run gives up, nothing stored.
WORKBOOK_TIMEOUT_S = 600.0


class RunError(Exception):
    """The run cannot go on; the message is one line a finance clerk can act on."""


@dataclass(frozen=True)
class RunRequest:
    """What `dues run` was asked to do (SPEC §5), as plain data a Prefect task can carry."""

    period: str
    registry: Path
    collections: tuple[Path, ...]
    allocations: tuple[Path, ...] = ()
    out: Path = Path("out")
    db: str = "sqlite:///var/dues.db"
    config: Path | None = None
    as_of: date | None = None
    lang: str = "zh"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["registry"] = str(self.registry)
        data["collections"] = [str(p) for p in self.collections]
        data["allocations"] = [str(p) for p in self.allocations]
        data["out"] = str(self.out)
        data["config"] = str(self.config) if self.config else None
        data["as_of"] = self.as_of.isoformat() if self.as_of else None
        return data


@dataclass(frozen=True)
class RunContext:
    """A run in progress: its id, its work folder and where the staged outputs go."""

    run_id: str
    request: RunRequest
    started_at: str
    work: Path

    @property
    def staging(self) -> Path:
        return self.work / "out"

    @property
    def final(self) -> Path:
        return self.request.out / self.request.period


@dataclass
class RunSummary:
    run_id: str
    period: str
    out_dir: Path
    report: Path
    totals: dict[str, int] = field(default_factory=dict)
    files: list[dict[str, Any]] = field(default_factory=list)
    start_period: str = ""
    quarantined: int = 0
    unmatched: int = 0
    founding_drive: int = 0
    # The last stage's measures: seconds of its parts, the workbook process's peak MB.
    timings: dict[str, float] = field(default_factory=dict)


# ---- stage 0: checks that cost nothing --------------------------------------------------


def check_period(period: str) -> str:
    if not PERIOD_RE.match(period):
        raise RunError(f"--period must be YYYY-MM (e.g. 2026-10), not {period!r}")
    return period


def _one_line(exc: Exception) -> str:
    """pydantic lists each error on its own lines; a clerk's error is one line."""
    from pydantic import ValidationError

    cause = exc if isinstance(exc, ValidationError) else exc.__cause__
    if isinstance(cause, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'file'}: {e['msg']}" for e in cause.errors()
        )
    return " ".join(str(exc).split())


def preflight(request: RunRequest) -> RunContext:
    """Refuse a bad request before any file is read; create the private work folder."""
    check_period(request.period)
    begins = first_day(parse_period(request.period))
    if request.as_of is not None and request.as_of < begins:
        raise RunError(
            f"--as-of {request.as_of} is before the period {request.period} begins ({begins})"
        )
    for path in (request.registry, *request.collections, *request.allocations):
        if not path.is_file():
            raise RunError(f"{path}: no such file")
    try:
        request.out.mkdir(parents=True, exist_ok=True)
        probe = request.out / f".write-probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise RunError(f"output folder {request.out} is not writable: {exc.strerror}") from exc
    try:
        load_policy(request.config)
    except (ValueError, OSError) as exc:
        raise RunError(
            f"config {request.config or 'config/policy.toml'}: {_one_line(exc)}"
        ) from exc
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:8]
    work = request.out / ".work" / run_id
    work.mkdir(parents=True)
    return RunContext(run_id, request, datetime.now(UTC).isoformat(timespec="seconds"), work)


# ---- stage 1: read and validate every input file ----------------------------------------


def _read(path: Path, kind: Kind) -> InputResult:
    try:
        return read_input(path, kind)
    except InputError as exc:
        raise RunError(str(exc)) from exc


def ingest(ctx: RunContext) -> Path:
    """Read the registry, collections and allocations; stage them as Parquet."""
    req = ctx.request
    jobs: list[tuple[Kind, Path]] = [("registry", req.registry)]
    jobs += [("collections", p) for p in req.collections]
    jobs += [("allocations", p) for p in req.allocations]
    # Files are read side by side: polars releases the GIL, so the Python-side work
    # of one file (pandera, bookkeeping) overlaps the parsing of the next. Results come
    # back in input order, and so does the first error.
    with ThreadPoolExecutor(max_workers=_READERS) as pool:
        results = list(zip(jobs, pool.map(lambda job: _read(job[1], job[0]), jobs), strict=True))
    registry = results[0][1]
    if registry.accepted.is_empty():
        raise RunError(f"{req.registry.name}: the registry has no valid unit")
    twice = registry.quarantine.filter(pl.col("reason") == "conflicting_duplicate")
    if not twice.is_empty():
        rows = ", ".join(str(r) for r in twice["source_row"].to_list()[:5])
        raise RunError(
            f"{req.registry.name}: the same USCC appears twice with different content "
            f"(rows {rows}); correct the registry"
        )
    stage = ctx.work / "ingest"
    stage.mkdir(exist_ok=True)
    write_parquet(registry.accepted, stage / "registry.parquet")
    for kind in ("collections", "allocations"):
        frames = [r.accepted for (k, _), r in results if k == kind]
        if frames:
            write_parquet(pl.concat(frames), stage / f"{kind}.parquet")
    quarantine = pl.concat([empty_quarantine(), *(r.quarantine for _, r in results)])
    write_parquet(quarantine, stage / "quarantine.parquet")
    stats = [r.stats.as_dict() for _, r in results]
    write_text(json.dumps(stats, ensure_ascii=False, indent=1), stage / "stats.json")
    return stage


# ---- stage 2: merge with the stored history ---------------------------------------------


def merge_history(ctx: RunContext, stage: Path) -> Path:
    """Tell new records from exact repeats and conflicts with what the store holds."""
    from dues.store import open_store

    req = ctx.request
    with open_store(req.db) as store:
        stored_receipts = store.load_receipts(exclude_period=req.period)
        stored_allocations = store.load_allocations(exclude_period=req.period)
    incoming_r = _read_or_empty(stage / "collections.parquet", stored_receipts)
    incoming_a = _read_or_empty(stage / "allocations.parquet", stored_allocations)
    rec = ledger.merge_receipts(stored_receipts, incoming_r)
    alloc = ledger.merge_allocations(stored_allocations, incoming_a)
    merged = ctx.work / "merge"
    merged.mkdir(exist_ok=True)
    # The ledger after this run is stored_* + new_*; the store takes new_* only.
    write_parquet(rec.new, merged / "new_receipts.parquet")
    write_parquet(alloc.new, merged / "new_allocations.parquet")
    write_parquet(stored_receipts, merged / "stored_receipts.parquet")
    write_parquet(stored_allocations, merged / "stored_allocations.parquet")
    conflicts = pl.concat(
        [
            _conflicts_to_quarantine(rec.conflicts, "receipt_no"),
            _conflicts_to_quarantine(alloc.conflicts, "voucher_no"),
        ]
    )
    quarantine = pl.concat([pl.read_parquet(stage / "quarantine.parquet"), conflicts]).sort(
        "source_file", "source_row"
    )
    write_parquet(quarantine, merged / "quarantine.parquet")
    # Per-file conservation now counts repeats and conflicts found against the store.
    stats = json.loads((stage / "stats.json").read_text(encoding="utf-8"))
    moved = _per_file(rec.duplicates, alloc.duplicates)
    clashed = _per_file(rec.conflicts, alloc.conflicts)
    for entry in stats:
        dup_rows, dup_fen = moved.get(entry["file"], (0, 0))
        bad_rows, bad_fen = clashed.get(entry["file"], (0, 0))
        entry["rows_accepted"] -= dup_rows + bad_rows
        entry["money_accepted_fen"] -= dup_fen + bad_fen
        entry["rows_duplicate"] += dup_rows
        entry["money_duplicate_fen"] += dup_fen
        entry["rows_quarantined"] += bad_rows
        entry["money_quarantined_fen"] += bad_fen
        if bad_rows:
            by_reason = entry["quarantined_by_reason"]
            by_reason["conflicting_duplicate"] = (
                by_reason.get("conflicting_duplicate", 0) + bad_rows
            )
        entry["rows_conserved"], entry["money_conserved"] = conservation(entry)
    write_text(json.dumps(stats, ensure_ascii=False, indent=1), merged / "stats.json")
    shutil.copy(stage / "registry.parquet", merged / "registry.parquet")
    return merged


def _read_or_empty(path: Path, like: pl.DataFrame) -> pl.DataFrame:
    if path.exists():
        return pl.read_parquet(path).select(like.columns).cast(like.schema)
    return like.clear()


def _conflicts_to_quarantine(frame: pl.DataFrame, key: str) -> pl.DataFrame:
    content = [c for c in frame.columns if c not in ("source_file", "source_row")]
    return frame.select(
        "source_file",
        "source_row",
        column=pl.lit(key),
        reason=pl.lit("conflicting_duplicate"),
        raw=pl.struct(pl.col(content).cast(pl.String)).struct.json_encode(),
    )


def conservation(entry: dict[str, Any]) -> tuple[bool, bool]:
    """(rows, money) conservation of SPEC §3 for one file's figures."""
    rows = entry["rows_read"] == (
        entry["rows_accepted"] + entry["rows_quarantined"] + entry["rows_duplicate"]
    )
    money = entry["money_read_fen"] == (
        entry["money_accepted_fen"] + entry["money_quarantined_fen"] + entry["money_duplicate_fen"]
    )
    return rows, money


def _per_file(receipts: pl.DataFrame, allocations: pl.DataFrame) -> dict[str, tuple[int, int]]:
    """Rows and fen per source file of the lines the ledger merge took out of `accepted`."""
    out: dict[str, tuple[int, int]] = {}
    for frame in (receipts, allocations):
        if frame.is_empty():
            continue
        grouped = frame.group_by("source_file").agg(pl.len(), pl.col("amount_fen").sum())
        for name, rows, fen in grouped.iter_rows():
            r, f = out.get(name, (0, 0))
            out[name] = (r + int(rows), f + int(fen or 0))
    return out


# ---- stage 3: the rules ---------------------------------------------------------------------


def reconcile_stage(ctx: RunContext, merged: Path) -> Path:
    """Apply SPEC §4 to the whole history; write every Parquet output into staging."""
    req = ctx.request
    policy = load_policy(req.config)
    try:
        outputs = reconcile(
            pl.read_parquet(merged / "registry.parquet"),
            _ledger(merged, "receipts"),
            _ledger(merged, "allocations"),
            policy,
            req.period,
            req.as_of,
        )
    except ValueError as exc:
        raise RunError(str(exc)) from exc
    ctx.staging.mkdir(parents=True, exist_ok=True)
    frames = _output_frames(outputs, pl.read_parquet(merged / "quarantine.parquet"))
    for name, frame in frames.items():
        write_parquet(frame, ctx.staging / f"{name}.parquet")
    write_text(outputs.start_period, merged / "start_period.txt")
    write_parquet(outputs.unmatched_allocations, merged / "unmatched_allocations.parquet")
    return ctx.staging


def _ledger(merged: Path, kind: str) -> pl.DataFrame:
    """Every record of `kind` the run reconciles: the stored ones, then this run's new ones."""
    return pl.concat(
        [
            pl.read_parquet(merged / f"stored_{kind}.parquet"),
            pl.read_parquet(merged / f"new_{kind}.parquet"),
        ]
    )


def _output_frames(outputs: Outputs, quarantine: pl.DataFrame) -> dict[str, pl.DataFrame]:
    return {
        "reconciliation": outputs.reconciliation,
        "arrears": outputs.arrears,
        "founding_drive": outputs.founding_drive,
        "prep_returns": outputs.prep_returns,
        "unmatched": outputs.unmatched,
        "quarantine": quarantine,
        "indicators": outputs.indicators,
    }


# ---- stage 4: run.json and the workbook -----------------------------------------------------


def totals_of(frames: dict[str, pl.DataFrame]) -> dict[str, int]:
    rec = frames["reconciliation"]
    due = rec.filter(pl.col("status") != "not_due")

    def total(frame: pl.DataFrame, column: str) -> int:
        return int(frame[column].sum() or 0) if frame.height else 0

    return {
        "expected_fen": total(due, "expected_fen"),
        "paid_fen": total(due, "paid_fen"),
        "paid_dues_fen": total(due, "paid_dues_fen"),
        "paid_prep_fen": total(due, "paid_prep_fen"),
        "allocated_fen": total(due, "allocated_fen"),
        "arrears_fen": total(frames["arrears"], "arrears_fen"),
        "credit_fen": total(frames["arrears"], "credit_fen"),
        "unmatched_fen": total(frames["unmatched"], "amount_fen"),
        "returnable_fen": total(frames["prep_returns"], "returnable_fen"),
        "founding_drive_units": frames["founding_drive"].height,
        "quarantined_rows": frames["quarantine"].height,
        "unmatched_receipts": frames["unmatched"].height,
    }


def run_info(
    ctx: RunContext, merged: Path, frames: dict[str, pl.DataFrame], stats: list[dict[str, Any]]
) -> dict[str, Any]:
    req = ctx.request
    policy: Policy = load_policy(req.config)
    as_of = req.as_of or last_day(parse_period(req.period))
    return {
        "run_id": ctx.run_id,
        "period": req.period,
        "as_of": as_of.isoformat(),
        "start_period": (merged / "start_period.txt").read_text(encoding="utf-8"),
        "started_at": ctx.started_at,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "code_version": dues.__version__,
        "config_hash": policy_hash(policy),
        "database": _masked(req.db),
        "inputs": stats,
        "conservation_holds": all(s["rows_conserved"] and s["money_conserved"] for s in stats),
        "totals": totals_of(frames) | _unmatched_allocations(merged),
    }


def _unmatched_allocations(merged: Path) -> dict[str, int]:
    """Allocations to units not in the registry: not in any SPEC output, so counted here."""
    frame = pl.read_parquet(merged / "unmatched_allocations.parquet")
    fen = int(frame["amount_fen"].sum() or 0) if frame.height else 0
    return {"unmatched_allocations": frame.height, "unmatched_allocations_fen": fen}


def _masked(url: str) -> str:
    from dues.settings import mask_url

    return mask_url(url)


def write_manifest(ctx: RunContext, merged: Path) -> dict[str, Any]:
    """Check conservation once more and write run.json into staging; return its content."""
    frames = {
        n: pl.read_parquet(ctx.staging / f"{n}.parquet")
        for n in OUTPUT_NAMES
        if n != "reconciliation"
    }
    # The columns the totals and the exception count need: 8 of 22, no names or codes.
    frames["reconciliation"] = pl.read_parquet(
        ctx.staging / "reconciliation.parquet", columns=_MANIFEST_COLUMNS
    )
    # Conservation after the store merge, checked again on the figures run.json will carry.
    stats = json.loads((merged / "stats.json").read_text(encoding="utf-8"))
    for entry in stats:
        if not all(conservation(entry)):
            raise RunError(f"{entry['file']}: conservation does not hold; nothing was written")
    info = run_info(ctx, merged, frames, stats)
    rows = frames["reconciliation"].height
    if rows > REPORT_DETAIL_LIMIT:
        shown = exceptions_only(frames["reconciliation"]).height
        info["report_detail"] = (
            f"对账明细 lists {shown:,} of {rows:,} unit-months "
            "(underpaid, not filed, overpaid or mismatched); all are in reconciliation.parquet"
        )
    write_text(
        json.dumps(info, ensure_ascii=False, indent=1, sort_keys=True), ctx.staging / "run.json"
    )
    return info


def write_workbook(staging: Path, info: dict[str, Any], lang: str) -> Path:
    """Write report.xlsx into `staging` from the staged Parquet outputs and run.json's `info`."""
    from dues.report import write_report

    others = [n for n in OUTPUT_NAMES if n != "reconciliation"]
    frames = {n: pl.read_parquet(staging / f"{n}.parquet") for n in others}
    reconciliation = staging / "reconciliation.parquet"
    if pl.scan_parquet(reconciliation).select(pl.len()).collect().item() > REPORT_DETAIL_LIMIT:
        # openpyxl writes ~100k cells a second: a province's 1.2M unit-months would take
        # many minutes. The workbook then lists the unit-months that need action;
        # reconciliation.parquet always holds every row, and the overview counts them all
        # (from the three columns it sums, so 12M unit-months stay out of memory).
        frames["reconciliation_full"] = pl.read_parquet(reconciliation, columns=_OVERVIEW_COLUMNS)
        frames["reconciliation"] = pl.scan_parquet(reconciliation).filter(_EXCEPTION).collect()
    else:
        frames["reconciliation"] = pl.read_parquet(reconciliation)
    path = staging / "report.xlsx"
    write_report(path, frames, info, lang=lang)  # type: ignore[arg-type]
    return path


# Unit-months an officer must act on: not matched (and due), or paid by the wrong way.
_EXCEPTION = (
    pl.col("status").is_in(["underpaid", "not_filed", "overpaid"])
    | pl.col("fund_mismatch")
    | pl.col("channel_mismatch")
)
_OVERVIEW_COLUMNS = ["expected_fen", "paid_fen", "status"]
_MANIFEST_COLUMNS = [
    "status",
    "expected_fen",
    "paid_fen",
    "paid_dues_fen",
    "paid_prep_fen",
    "allocated_fen",
    "fund_mismatch",
    "channel_mismatch",
]


def exceptions_only(reconciliation: pl.DataFrame) -> pl.DataFrame:
    """Unit-months an officer must act on: not matched (and due), or paid by the wrong way."""
    return reconciliation.filter(_EXCEPTION)


# ---- stage 5: commit and publish ------------------------------------------------------------


def report_and_commit(ctx: RunContext, merged: Path) -> RunSummary:
    """Write the workbook while the store takes the run's rows; commit, then publish.

    The workbook and the inserts share the two cores, so this takes about the longer of
    the two instead of their sum. A big workbook is written by a child process
    (`python -m dues.workbook_job`): in a thread its Python parts (openpyxl) would hold
    the GIL that the inserts need to bind their rows, and its memory would add to the
    run's. The transaction commits only after the workbook is saved: if either fails,
    the store is untouched and nothing is published.
    """
    info = write_manifest(ctx, merged)
    rows = pl.scan_parquet(ctx.staging / "reconciliation.parquet").select(pl.len()).collect()
    start = time.perf_counter()
    timings: dict[str, float] = {}
    if rows.item() > WORKBOOK_PROCESS_ROWS:
        job = _WorkbookJob(ctx.staging, ctx.request.lang)
        try:
            _commit(ctx, merged, info, before_commit=job.wait)
        finally:
            job.stop()
        timings["workbook"] = job.seconds
        if job.peak_rss_mb is not None:
            timings["workbook_peak_rss_mb"] = job.peak_rss_mb
    else:
        write_workbook(ctx.staging, info, ctx.request.lang)
        timings["workbook"] = round(time.perf_counter() - start, 3)
        _commit(ctx, merged, info)
    timings["report_and_commit"] = round(time.perf_counter() - start, 3)
    publish(ctx)
    return _summary(ctx, info, timings)


class _WorkbookJob:
    """`python -m dues.workbook_job STAGING LANG`, started at once, awaited by `wait`.

    A plain child interpreter rather than multiprocessing: nothing is pickled, and a
    caller's script needs no `if __name__ == "__main__"` guard.
    """

    def __init__(self, staging: Path, lang: str) -> None:
        self._start = time.perf_counter()
        self.seconds = 0.0  # the job's own time, as it reports it (else until it was awaited)
        self.peak_rss_mb: float | None = None
        # The child imports dues from where this process did, installed or not.
        home = str(Path(dues.__file__).resolve().parents[1])
        path = os.pathsep.join(p for p in (home, os.environ.get("PYTHONPATH")) if p)
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "dues.workbook_job", str(staging), lang],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": path},
        )

    def wait(self) -> None:
        # The store's transaction is open meanwhile: a workbook that never ends must not
        # hold the ledger's write lock for ever.
        try:
            out, err = self._proc.communicate(timeout=WORKBOOK_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.stop()
            raise RunError(
                f"report.xlsx was not written within {WORKBOOK_TIMEOUT_S:g} s; nothing was stored"
            ) from None
        self.seconds = round(time.perf_counter() - self._start, 3)
        if self._proc.returncode != 0:
            lines = err.decode("utf-8", errors="replace").strip().splitlines()
            raise RunError(f"report.xlsx could not be written: {lines[-1] if lines else 'killed'}")
        with contextlib.suppress(ValueError, IndexError, KeyError):
            report = json.loads(out.decode().strip().splitlines()[-1])
            self.seconds, self.peak_rss_mb = report["seconds"], report["peak_rss_mb"]

    def stop(self) -> None:
        if self._proc.poll() is None:  # the commit failed first: the workbook is moot
            self._proc.kill()
            self._proc.communicate()


def _commit(
    ctx: RunContext,
    merged: Path,
    info: dict[str, Any],
    before_commit: Callable[[], object] | None = None,
) -> None:
    from dues.store import InputFileRecord, RunRecord, open_store

    req = ctx.request
    # Of the reconciliation the store keeps the run's own month: each month once, as its
    # own run settled it (reconciliation.parquet has every month, re-derived each run).
    results = {
        n: pl.read_parquet(ctx.staging / f"{n}.parquet")
        for n in OUTPUT_NAMES
        if n != "reconciliation"
    }
    results["reconciliation"] = (
        pl.scan_parquet(ctx.staging / "reconciliation.parquet")
        .filter(pl.col("period") == req.period)
        .collect()
    )
    record = RunRecord(
        run_id=ctx.run_id,
        period=req.period,
        as_of=date.fromisoformat(info["as_of"]),
        started_at=datetime.fromisoformat(info["started_at"]),
        finished_at=datetime.fromisoformat(info["finished_at"]),
        code_version=info["code_version"],
        config_hash=info["config_hash"],
    )
    wanted = [f.name for f in fields(InputFileRecord) if f.name != "file_name"]
    files = [
        InputFileRecord(file_name=s["file"], **{name: s[name] for name in wanted})
        for s in info["inputs"]
    ]
    with open_store(req.db) as store:
        store.commit_run(
            record,
            registry=pl.read_parquet(merged / "registry.parquet"),
            new_receipts=pl.read_parquet(merged / "new_receipts.parquet"),
            new_allocations=pl.read_parquet(merged / "new_allocations.parquet"),
            quarantine=results["quarantine"],
            input_files=files,
            results=_for_store(results),
            before_commit=before_commit,
        )


def _summary(ctx: RunContext, info: dict[str, Any], timings: dict[str, float]) -> RunSummary:
    totals = info["totals"]
    return RunSummary(
        run_id=ctx.run_id,
        period=ctx.request.period,
        out_dir=ctx.final,
        report=ctx.final / "report.xlsx",
        totals=totals,
        files=info["inputs"],
        start_period=info["start_period"],
        quarantined=totals["quarantined_rows"],
        unmatched=totals["unmatched_receipts"],
        founding_drive=totals["founding_drive_units"],
        timings=timings,
    )


def _for_store(results: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """The result frames as the store keeps them: quarantine goes apart, and unmatched
    receipts keep their SPEC columns (the period and line number live in `receipts`)."""
    from dues.store.tables import RESULT_TABLES, frame_schema

    out = {}
    for name, frame in results.items():
        if name == "quarantine":
            continue
        out[name] = frame.select(
            c
            for c in frame.columns
            if c in frame_schema(RESULT_TABLES[name]) or c.startswith("aging_")
        )
    return out


def publish(ctx: RunContext) -> None:
    """Replace OUT/<period>/ by the staged folder: rename the old away, rename the new in."""
    final = ctx.final
    old = ctx.work / "previous"
    if final.exists():
        os.replace(final, old)
    os.replace(ctx.staging, final)
    discard(ctx)


def discard(ctx: RunContext) -> None:
    """Remove the run's work folder (and the .work folder when it is left empty)."""
    shutil.rmtree(ctx.work, ignore_errors=True)
    with contextlib.suppress(OSError):
        ctx.work.parent.rmdir()


def run_period(request: RunRequest) -> RunSummary:
    """The whole monthly job as a plain function (no Prefect needed)."""
    ctx = preflight(request)
    try:
        stage = ingest(ctx)
        merged = merge_history(ctx, stage)
        reconcile_stage(ctx, merged)
        return report_and_commit(ctx, merged)
    finally:
        discard(ctx)
