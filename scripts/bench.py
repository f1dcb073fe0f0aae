"""Ingest and reconcile benchmarks on generated data (`make bench`, `make bench-big`).

Inputs are generated under bench-data/ and reused while their manifest matches, so a
rerun measures only the pipeline. Every measurement runs in a fresh child process, so
its peak RSS (ru_maxrss of that process) is its own and not the generator's.

    python scripts/bench.py [--units N] [--skip-pg] [--skip-sqlite] [--only ingest|run]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from multiprocessing import get_context
from pathlib import Path
from typing import Any, TypeVar

DATA = Path("bench-data")
SEED = 7
CSV_ROWS, XLSX_ROWS = 1_000_000, 100_000
PG_URL = os.environ.get("DUES_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TARGETS = {"ingest_csv": 5.0, "ingest_xlsx": 2.0}
T = TypeVar("T")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def in_child(fn: Callable[..., T], *args: Any) -> T:
    """Run fn(*args) in a fresh process (spawned, so nothing is inherited)."""
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(fn, *args).result()


# ---- generation (not timed as part of any benchmark) -----------------------------------


def _manifest_ok(path: Path, expect: dict[str, Any]) -> bool:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return all(data.get(k) == v for k, v in expect.items())


def gen_ingest_files() -> dict[str, Any]:
    from dues.sample import generate_collections_csv, generate_collections_xlsx

    out = DATA / "ingest"
    out.mkdir(parents=True, exist_ok=True)
    expected: dict[str, Any] = {}
    for name, rows, gen in (
        ("collections_1m.csv", CSV_ROWS, generate_collections_csv),
        ("collections_100k.xlsx", XLSX_ROWS, generate_collections_xlsx),
    ):
        manifest = out / f"{name}.manifest.json"
        if not ((out / name).exists() and _manifest_ok(manifest, {"rows": rows, "seed": SEED})):
            facts = asdict(gen(out / name, rows=rows, seed=SEED))
            manifest.write_text(json.dumps(facts | {"seed": SEED}), encoding="utf-8")
        expected[name] = json.loads(manifest.read_text(encoding="utf-8"))
    return expected


def gen_run_files(units: int) -> dict[str, Any]:
    from dues.sample import generate_bench

    out = DATA / f"run-{units}"
    if not _manifest_ok(out / "manifest.json", {"units": units, "seed": SEED}):
        shutil.rmtree(out, ignore_errors=True)
        generate_bench(out, units=units, months=12, seed=SEED)
    data: dict[str, Any] = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return data


# ---- measurements (each in its own process) ----------------------------------------------


def bench_ingest(path: str, kind: str) -> dict[str, Any]:
    from dues.ingest import read_input
    from dues.readers import read_grid

    start = time.perf_counter()
    result = read_input(Path(path), kind)
    seconds = time.perf_counter() - start
    peak = peak_rss_mb()  # before the extra read below
    # The reading alone (bytes -> grid of cell texts), timed again after the run above,
    # with the file as warm in the page cache as it was for the second half of that run.
    start = time.perf_counter()
    read_grid(Path(path))
    read_s = time.perf_counter() - start
    s = result.stats
    return {
        "file": Path(path).name,
        "seconds": round(seconds, 3),
        "read_s": round(read_s, 3),
        "type_validate_s": round(seconds - read_s, 3),
        "rows_read": s.rows_read,
        "rows_per_s": round(s.rows_read / seconds),
        "accepted": s.rows_accepted,
        "quarantined": s.rows_quarantined,
        "duplicates": s.rows_duplicate,
        "peak_rss_mb": round(peak),
    }


def bench_run(units: int, db: str, out: str) -> dict[str, Any]:
    from dues import run as r

    folder = DATA / f"run-{units}"
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    periods = manifest["periods"]
    req = r.RunRequest(
        period=max(periods),
        registry=folder / manifest["registry"],
        collections=tuple(folder / c for f in periods.values() for c in f["collections"]),
        allocations=tuple(folder / a for f in periods.values() for a in f["allocations"]),
        out=Path(out),
        db=db,
    )
    stages: dict[str, float] = {}
    rss: dict[str, float] = {}

    def timed(name: str, fn: Callable[..., T], *args: Any) -> T:
        start = time.perf_counter()
        value = fn(*args)
        stages[name] = round(time.perf_counter() - start, 3)
        rss[name] = round(peak_rss_mb())
        print(f"    {name:<20} {stages[name]:>9.2f} s  (peak RSS {rss[name]:,.0f} MB)", flush=True)
        return value

    ctx = timed("preflight", r.preflight, req)
    try:
        for stage in r.STAGES:  # the very stages run_period and the flow walk
            timed(stage.name, stage.run, ctx)
        summary = r.summarize(ctx)
        for part in ("workbook", "report_and_commit"):  # side by side inside that stage
            print(f"      {part:<18} {summary.timings[part]:>9.2f} s", flush=True)
    finally:
        r.discard(ctx)
    stages["total"] = round(sum(stages.values()), 3)
    return {
        "period": req.period,
        "collection_files": len(req.collections),
        "receipt_lines": manifest["receipt_lines"],
        "stages_s": stages,
        "report_and_commit_parts_s": summary.timings,
        "peak_rss_mb_after_stage": rss,
        "peak_rss_mb": round(peak_rss_mb()),
        # The workbook's own process runs beside the last stage: the sum bounds the two.
        "peak_rss_workbook_child_mb": round(summary.timings.get("workbook_peak_rss_mb", 0)),
        "peak_rss_total_mb": round(peak_rss_mb() + summary.timings.get("workbook_peak_rss_mb", 0)),
        "quarantined": summary.quarantined,
        "unmatched": summary.unmatched,
        "founding_drive": summary.founding_drive,
    }


def run_on(backend: str, units: int) -> dict[str, Any]:
    import sqlalchemy as sa

    out = DATA / f"out-{backend}-{units}"
    shutil.rmtree(out, ignore_errors=True)
    if backend == "sqlite":
        db_file = DATA / f"bench-{units}.db"
        db_file.unlink(missing_ok=True)
        return in_child(bench_run, units, f"sqlite:///{db_file}", str(out))
    base = sa.make_url(PG_URL)
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = base.update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        return in_child(bench_run, units, url.render_as_string(hide_password=False), str(out))
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


# ---- driver --------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--units", type=int, default=100_000)
    ap.add_argument("--skip-pg", action="store_true")
    ap.add_argument("--skip-sqlite", action="store_true")
    ap.add_argument("--only", choices=("ingest", "run"))
    args = ap.parse_args(argv)
    DATA.mkdir(exist_ok=True)
    results: dict[str, Any] = {"units": args.units, "cpus": os.cpu_count()}

    if args.only != "run":
        start = time.perf_counter()
        expected = in_child(gen_ingest_files)
        print(f"generated/checked ingest inputs in {time.perf_counter() - start:.1f} s")
        ingest: dict[str, Any] = {}
        for key, name, kind in (
            ("ingest_csv", "collections_1m.csv", "collections"),
            ("ingest_xlsx", "collections_100k.xlsx", "collections"),
        ):
            r = in_child(bench_ingest, str(DATA / "ingest" / name), kind)
            r["target_s"], r["expected"] = TARGETS[key], expected[name]
            ingest[key] = r
            verdict = "OK" if r["seconds"] <= r["target_s"] else "OVER TARGET"
            print(
                f"{key:<12} {r['seconds']:>7.2f} s (target {r['target_s']} s, {verdict}; "
                f"read {r['read_s']:.2f} s, type + validate {r['type_validate_s']:.2f} s)  "
                f"{r['rows_per_s']:>9,} rows/s  read {r['rows_read']:,}  accepted "
                f"{r['accepted']:,} (expected {r['expected']['accepted']:,})  quarantined "
                f"{r['quarantined']:,} (expected {r['expected']['quarantined']:,})  "
                f"peak RSS {r['peak_rss_mb']:,} MB"
            )
        results["ingest"] = ingest

    if args.only != "ingest":
        start = time.perf_counter()
        manifest = in_child(gen_run_files, args.units)
        print(
            f"generated/checked {args.units:,} units, {manifest['receipt_lines']:,} receipt "
            f"lines in {time.perf_counter() - start:.1f} s"
        )
        skips = (("sqlite", args.skip_sqlite), ("postgresql", args.skip_pg))
        backends = [b for b, skip in skips if not skip]
        runs: dict[str, Any] = {}
        for backend in backends:
            print(f"run on {backend}:", flush=True)
            runs[backend] = run_on(backend, args.units)
        results["run"] = runs
        if runs:
            names = list(next(iter(runs.values()))["stages_s"])
            print(f"\n{'stage':<20}" + "".join(f"{b:>14}" for b in runs))
            for name in names:
                print(
                    f"{name:<20}"
                    + "".join(f"{r['stages_s'][name]:>12.2f} s" for r in runs.values())
                )
            for label, key in (
                ("peak RSS run", "peak_rss_mb"),
                ("peak RSS workbook", "peak_rss_workbook_child_mb"),
                ("peak RSS sum", "peak_rss_total_mb"),
            ):
                print(f"{label:<20}" + "".join(f"{r[key]:>11,} MB" for r in runs.values()))

    (DATA / "results.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(f"\nwrote {DATA / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
