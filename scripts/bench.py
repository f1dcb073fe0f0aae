"""Ingest benchmarks, and dues beside a plain pandas script (issue 9) (`make bench`).

Inputs are generated under bench-data/ and reused while their manifest matches, so a
rerun measures only the pipeline. Every measurement is a fresh process.

Run cases (`--cases`): each on SQLite and on PostgreSQL, three processes measured side
by side on the same clean CSVs, in this one benchmark run:

* dues CLI: `dues run ...` in a subprocess, default settings, PREFECT_API_URL unset —
  what an office runs;
* dues library: `dues.run.run_period` in a fresh Python process;
* pandas: scripts/pandas_reference.py, SPEC §4's arithmetic alone (no store, so it
  re-reads every month's files), in a venv of its own (bench-data/yardstick-venv: dues
  does not depend on pandas, and an office's dues has none to import).

Each dues measurement starts from its own copy of the case's store: the months stored
before the case were run one by one beforehand (`--setup monthly`, as an office would
have; `--setup once` stores them in one run), untimed. Times are wall seconds of the
whole process, start to exit. Peak MB is that of all the processes of a measurement
(the run and its workbook child, and a Prefect server it starts): the largest of the
polled sum of their resident sets (every 50 ms) and the largest single ru_maxrss.

`--at REV` measures a commit instead of the working tree (which other sessions may be
editing): it is checked out in a worktree under bench-data/code/ and put first on every
child's PYTHONPATH, ahead of the editable install.

    python scripts/bench.py [--units N] [--cases county,steady,cold] [--skip-pg]
        [--skip-sqlite] [--only ingest|run] [--repeat K] [--setup monthly|once] [--at REV]
        [--kinds cli,library,pandas]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from multiprocessing import get_context
from pathlib import Path
from typing import Any, TypeVar

DATA = Path("bench-data")
SEED = 7
CSV_ROWS, XLSX_ROWS = 1_000_000, 100_000
PG_URL = os.environ.get("DUES_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TARGETS = {"ingest_csv": 5.0, "ingest_xlsx": 2.0}
BIN = Path(sys.executable).parent  # the venv's: python, dues
# The pandas script runs in a venv of its own: pandas is no dependency of dues, and
# where it is installed pandera imports it (0.3 s of every dues process).
YARDSTICK = DATA / "yardstick-venv"
YARDSTICK_PACKAGES = ("pandas>=2.2", "numpy", "pyarrow>=15")
PAGE = os.sysconf("SC_PAGE_SIZE")
COUNTY_UNITS = 300
SQLITE_SIDE_FILES = ("", "-wal", "-shm", ".lock")  # the file, its journal, the store's lock
TOTALS = ("expected_fen", "paid_fen", "paid_dues_fen", "paid_prep_fen", "allocated_fen")
TOTALS += ("arrears_fen", "credit_fen")
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


def dataset_dir(units: int, periods: int) -> Path:
    return DATA / f"run-{units}-{periods}p"


def gen_run_files(units: int, periods: int) -> dict[str, Any]:
    """`periods` monthly runs' files for `units` units (each run's files cover the month before)."""
    from dues.sample import generate_bench

    out = dataset_dir(units, periods)
    manifest = out / "manifest.json"
    ok = _manifest_ok(manifest, {"units": units, "seed": SEED})
    if not (ok and len(json.loads(manifest.read_text(encoding="utf-8"))["periods"]) == periods):
        shutil.rmtree(out, ignore_errors=True)
        generate_bench(out, units=units, months=periods + 1, seed=SEED)
    data: dict[str, Any] = json.loads(manifest.read_text(encoding="utf-8"))
    return data


def files_of(units: int, periods: int, first: int, last: int) -> dict[str, Any]:
    """The registry and the files of the runs first..last-1 (0-based), and the last's period."""
    folder = dataset_dir(units, periods)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    labels = sorted(manifest["periods"])[first:last]
    runs = [manifest["periods"][p] for p in labels]
    return {
        "period": labels[-1],
        "registry": str(folder / manifest["registry"]),
        "collections": [str(folder / c) for r in runs for c in r["collections"]],
        "allocations": [str(folder / a) for r in runs for a in r["allocations"]],
    }


# ---- cases --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """A measured run: the months already stored, the new months' files given to it."""

    name: str
    units: int
    periods: int  # of generated monthly files
    stored: int  # runs stored before this one
    new: int  # runs whose files this one is given (1: a monthly run; all: a cold start)

    @property
    def label(self) -> str:
        size = f"{self.units:,} units"
        if self.stored == 0:
            return f"{self.name}: {size}, {self.new} months at once, empty store"
        return f"{self.name}: {size}, month {self.stored + self.new} ({self.stored} stored)"


def cases_for(names: list[str], units: int) -> list[Case]:
    table = {
        "county": [Case("county", COUNTY_UNITS, 4, 3, 1)],
        "steady": [Case("steady", units, 12, 10, 1)],
        "cold": [Case("cold", units, 12, 0, 12)],
        # issue 9 item 2: a steady month's cost must not grow with the stored months.
        "growth": [Case("month-12", units, 24, 11, 1), Case("month-24", units, 24, 23, 1)],
    }
    unknown = [n for n in names if n not in table]
    if unknown:
        raise SystemExit(f"--cases: unknown {', '.join(unknown)} (known: {', '.join(table)})")
    return [case for n in names for case in table[n]]


# ---- stores: one per measurement, copied from the case's stored months ---------------------


class Stores:
    """Ledgers of one backend: snapshots after k stored months, and fresh copies of them."""

    def __init__(self, backend: str, tag: str) -> None:
        self.backend, self.tag = backend, tag
        self.snapshots: dict[tuple[Path, int], str] = {}
        self._made: set[str] = set()  # PostgreSQL databases this run created
        (DATA / "stores").mkdir(parents=True, exist_ok=True)

    def _sqlite(self, name: str) -> str:
        return f"sqlite:///{DATA / 'stores' / f'{self.tag}-{name}.db'}"

    def _pg(self, name: str) -> str:
        import sqlalchemy as sa

        url = sa.make_url(PG_URL).set(database=f"dues_bench_{self.tag}_{name}")
        return url.render_as_string(hide_password=False)

    @contextmanager
    def _admin(self) -> Iterator[Any]:
        import sqlalchemy as sa

        engine = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                yield conn
        finally:
            engine.dispose()

    def fresh(self, name: str, like: str | None = None) -> str:
        """A new ledger named `name`: empty, or a copy of the ledger at `like`."""
        if self.backend == "sqlite":
            url = self._sqlite(name)
            path = Path(url.removeprefix("sqlite:///"))
            for suffix in SQLITE_SIDE_FILES:
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            if like is not None:
                shutil.copyfile(like.removeprefix("sqlite:///"), path)
            return url
        import sqlalchemy as sa

        url = self._pg(name)
        db = sa.make_url(url).database
        template = f' TEMPLATE "{sa.make_url(like).database}"' if like else ""
        with self._admin() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{db}"'))
            conn.execute(sa.text(f'CREATE DATABASE "{db}"{template}'))
        self._made.add(str(db))
        return url

    def drop(self, url: str) -> None:
        if self.backend == "sqlite":
            path = url.removeprefix("sqlite:///")
            for suffix in SQLITE_SIDE_FILES:
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            return
        import sqlalchemy as sa

        self._drop_pg(str(sa.make_url(url).database))

    def _drop_pg(self, db: str) -> None:
        import sqlalchemy as sa

        with self._admin() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        self._made.discard(db)

    def drop_all(self) -> None:
        for url in self.snapshots.values():
            self.drop(url)
        for db in sorted(self._made):
            self._drop_pg(db)
        self.snapshots.clear()

    def stored(self, case: Case, setup: str) -> str | None:
        """The ledger after the case's stored months (None: empty), built once per run."""
        if case.stored == 0:
            return None
        folder = dataset_dir(case.units, case.periods)
        key = (folder, case.stored)
        if key in self.snapshots:
            return self.snapshots[key]
        # Continue from the longest snapshot of the same data that is not too long.
        have = max((k for f, k in self.snapshots if f == folder and k < case.stored), default=0)
        name = f"{folder.name.replace('-', '_')}_{case.stored}"
        url = self.fresh(name, self.snapshots.get((folder, have)))
        start = time.perf_counter()
        in_child(store_months, case.units, case.periods, have, case.stored, url, setup)
        print(
            f"  stored months {have + 1}..{case.stored} of {folder.name} on {self.backend} "
            f"({setup}, untimed) in {time.perf_counter() - start:.0f} s",
            flush=True,
        )
        self.snapshots[key] = url
        return url


def store_months(units: int, periods: int, first: int, last: int, db: str, setup: str) -> None:
    """Runs first..last-1 into the ledger at db: one by one, or (`once`) in one run."""
    from dues.run import RunRequest, run_period

    out = DATA / "out" / "setup"
    spans = [(k, k + 1) for k in range(first, last)] if setup == "monthly" else [(first, last)]
    for a, b in spans:
        f = files_of(units, periods, a, b)
        run_period(
            RunRequest(
                period=f["period"],
                registry=Path(f["registry"]),
                collections=tuple(Path(p) for p in f["collections"]),
                allocations=tuple(Path(p) for p in f["allocations"]),
                out=out,
                db=db,
            )
        )
    shutil.rmtree(out, ignore_errors=True)


# ---- one measured process -------------------------------------------------------------------


@dataclass
class Measured:
    seconds: float
    peak_mb: float  # the larger of the two below
    peak_tree_mb: float  # the largest polled sum over the process tree
    peak_single_mb: float  # the largest ru_maxrss of one process in the tree
    returncode: int
    stdout: str = field(repr=False)
    stderr: str = field(repr=False)

    def as_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if k not in ("stdout", "stderr")}


def _tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo.extend(int(c) for c in fh.read().split())
        except OSError:
            continue
    return pids


def _rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


def measure(cmd: list[str], log: Path, env: dict[str, str] | None = None) -> Measured:
    """Run cmd to its end; wall seconds and the peak memory of all its processes."""
    log.parent.mkdir(parents=True, exist_ok=True)
    out_path, err_path = log.with_suffix(".out"), log.with_suffix(".err")
    with out_path.open("wb") as out, err_path.open("wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
        peak = [0]
        done = threading.Event()

        def poll() -> None:
            while not done.wait(0.05):
                peak[0] = max(peak[0], sum(_rss_bytes(p) for p in _tree(proc.pid)))

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        try:
            # wait4, not wait: its ru_maxrss is the largest of the child and its reaped children.
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:
            proc.kill()  # the benchmark was stopped: leave no measured process behind
            proc.wait()
            raise
        seconds = time.perf_counter() - start
        done.set()
        poller.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
    tree_mb, single_mb = peak[0] / 2**20, usage.ru_maxrss / 1024
    return Measured(
        seconds=round(seconds, 2),
        peak_mb=round(max(tree_mb, single_mb)),
        peak_tree_mb=round(tree_mb),
        peak_single_mb=round(single_mb),
        returncode=proc.returncode,
        stdout=out_path.read_text(encoding="utf-8", errors="replace"),
        stderr=err_path.read_text(encoding="utf-8", errors="replace"),
    )


def last_json(text: str) -> dict[str, Any]:
    for line in reversed(text.splitlines()):
        if line.startswith("{"):
            value: dict[str, Any] = json.loads(line)
            return value
    return {}


def library_child(request_json: str) -> int:
    """`bench.py --library-run JSON`: run_period in this fresh process, stages timed."""
    started = time.perf_counter()
    from dues import run as r
    from dues.run import stages as stages_module

    imported = time.perf_counter() - started
    spec = json.loads(request_json)
    times: dict[str, float] = {}

    def timed(stage: r.Stage) -> r.Stage:
        def run(ctx: r.RunContext) -> None:
            start = time.perf_counter()
            stage.run(ctx)
            times[stage.name] = round(time.perf_counter() - start, 3)

        return replace(stage, run=run)

    # run_period walks the module's STAGES: timing each leaves the walk itself untouched.
    stages_module.STAGES = tuple(timed(s) for s in r.STAGES)
    start = time.perf_counter()
    summary = r.run_period(
        r.RunRequest(
            period=spec["period"],
            registry=Path(spec["registry"]),
            collections=tuple(Path(p) for p in spec["collections"]),
            allocations=tuple(Path(p) for p in spec["allocations"]),
            out=Path(spec["out"]),
            db=spec["db"],
        )
    )
    report = {
        "import_s": round(imported, 3),
        "run_period_s": round(time.perf_counter() - start, 3),
        "stages_s": times,
        "timings": summary.timings,
        "run_json": str(summary.out_dir / "run.json"),
    }
    print(json.dumps(report))
    return 0


def yardstick_python() -> Path:
    """The pandas script's interpreter: bench-data/yardstick-venv, made on first use."""
    python = YARDSTICK / "bin" / "python"
    stamp = YARDSTICK / "installed.txt"
    wanted = "\n".join(YARDSTICK_PACKAGES)
    if python.exists() and stamp.exists() and stamp.read_text(encoding="utf-8") == wanted:
        return python
    shutil.rmtree(YARDSTICK, ignore_errors=True)
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(YARDSTICK)], check=True)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, *YARDSTICK_PACKAGES], check=True)
    stamp.write_text(wanted, encoding="utf-8")
    return python


# ---- a case on a backend ------------------------------------------------------------------


def _cli_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PREFECT_API_URL", None)  # an office's default: no Prefect server of its own
    return env


def _run_args(files: dict[str, Any]) -> list[str]:
    args = ["--period", files["period"], "--registry", files["registry"]]
    for path in files["collections"]:
        args += ["--collections", path]
    for path in files["allocations"]:
        args += ["--allocations", path]
    return args


def _totals_of(run_json: Path) -> dict[str, int]:
    try:
        totals: dict[str, int] = json.loads(run_json.read_text(encoding="utf-8"))["totals"]
    except (OSError, ValueError, KeyError):
        return {}
    return {k: totals[k] for k in TOTALS if k in totals}


def _fail(what: str, m: Measured) -> None:
    tail = "\n".join(m.stderr.strip().splitlines()[-15:])
    print(f"    {what} FAILED (exit {m.returncode}):\n{tail}", flush=True)


def bench_case(
    case: Case, backend: str, stores: Stores, setup: str, repeat: int, kinds: frozenset[str]
) -> dict[str, Any]:
    stored = stores.stored(case, setup)
    new = files_of(case.units, case.periods, case.stored, case.stored + case.new)
    every = files_of(case.units, case.periods, 0, case.stored + case.new)  # what pandas re-reads
    tag = f"{case.name}-{backend}"
    out = DATA / "out" / tag
    logs = DATA / "logs" / tag
    best: dict[str, Measured] = {}
    peaks: dict[str, float] = {}
    extra: dict[str, Any] = {}
    run_json: dict[str, Path] = {}

    def keep(kind: str, m: Measured) -> None:
        peaks[kind] = max(peaks.get(kind, 0), m.peak_mb)
        if m.returncode == 0 and (kind not in best or m.seconds < best[kind].seconds):
            best[kind] = m
        elif m.returncode != 0:
            _fail(kind, m)

    for i in range(repeat):
        # dues as an office runs it: the command, default settings.
        if "cli" in kinds:
            db = stores.fresh(f"m_{case.name.replace('-', '_')}_cli", stored)
            shutil.rmtree(out / "cli", ignore_errors=True)
            cmd = [str(BIN / "dues"), "run", *_run_args(new), "--out", str(out / "cli")]
            keep("cli", measure([*cmd, "--db", db], logs / f"cli-{i}", _cli_env()))
            run_json["cli"] = out / "cli" / new["period"] / "run.json"
            stores.drop(db)
        # dues as a library call in a fresh process.
        if "library" in kinds:
            db = stores.fresh(f"m_{case.name.replace('-', '_')}_lib", stored)
            shutil.rmtree(out / "library", ignore_errors=True)
            spec = json.dumps(new | {"out": str(out / "library"), "db": db})
            cmd = [str(BIN / "python"), __file__, "--library-run", spec]
            m = measure(cmd, logs / f"library-{i}", _cli_env())
            keep("library", m)
            if m.returncode == 0 and best["library"] is m:
                extra["library"] = last_json(m.stdout)
            run_json["library"] = out / "library" / new["period"] / "run.json"
            stores.drop(db)
        # The pandas script on the same clean CSVs (all months: it has no store).
        cmd = [str(yardstick_python()), str(Path(__file__).with_name("pandas_reference.py"))]
        cmd += ["--period", every["period"], "--registry", every["registry"]]
        cmd += ["--collections", *every["collections"], "--allocations", *every["allocations"]]
        cmd += ["--out", str(out / "pandas")]
        m = measure(cmd, logs / f"pandas-{i}")
        keep("pandas", m)
        if m.returncode == 0 and best["pandas"] is m:
            extra["pandas"] = last_json(m.stdout)

    def secs(kind: str) -> float | None:
        return best[kind].seconds if kind in best else None

    cli, lib, pandas = secs("cli"), secs("library"), secs("pandas")
    totals = {
        "dues_cli": _totals_of(run_json["cli"]) if "cli" in run_json else None,
        "dues_library": _totals_of(run_json["library"]) if "library" in run_json else None,
        "pandas": extra.get("pandas", {}).get("totals", {}),
    }
    row = {
        "case": case.label,
        "backend": backend,
        "dues_cli_s": cli,
        "dues_library_s": lib,
        "pandas_s": pandas,
        "ratio_cli_pandas": round(cli / pandas, 2) if cli and pandas else None,
        "ratio_library_pandas": round(lib / pandas, 2) if lib and pandas else None,
        "peak_mb": {k: round(v) for k, v in peaks.items()},
        "measured": {k: m.as_json() for k, m in best.items()},
        "library_stages_s": extra.get("library", {}).get("stages_s", {}),
        "library_import_s": extra.get("library", {}).get("import_s"),
        "library_run_period_s": extra.get("library", {}).get("run_period_s"),
        "report_and_commit_parts_s": extra.get("library", {}).get("timings", {}),
        "totals": totals,
        "receipt_files": {"dues": len(new["collections"]), "pandas": len(every["collections"])},
    }
    _print_row(row)
    return row


def _unmeasured(row: dict[str, Any], kind: str, v: float | None) -> str | None:
    """What to show for a kind that has no time: not asked for (`--kinds`), or failed."""
    if v is not None:
        return None
    return "failed" if kind in row["measured"] else "not measured"


def _print_row(row: dict[str, Any]) -> None:
    def s(kind: str, v: float | None) -> str:
        return _unmeasured(row, kind, v) or f"{v:.2f} s"

    print(
        f"    dues CLI {s('cli', row['dues_cli_s'])}, "
        f"library {s('library', row['dues_library_s'])}, "
        f"pandas {s('pandas', row['pandas_s'])}; ratio {row['ratio_cli_pandas']}; "
        f"peak MB {row['peak_mb']}",
        flush=True,
    )
    stages = row["library_stages_s"]
    if stages:
        parts = [f"imports {row['library_import_s']:.2f}"]
        parts += [f"{k} {v:.2f}" for k, v in stages.items()]
        print(f"    library: {', '.join(parts)}; run_period {row['library_run_period_s']:.2f} s")
    dues = row["totals"]["dues_cli"] or row["totals"]["dues_library"] or {}
    pandas = row["totals"]["pandas"]
    gaps = [
        f"{k} {(pandas[k] - dues[k]) / max(abs(dues[k]), 1):+.3%}"
        for k in TOTALS
        if k in dues and k in pandas
    ]
    same = row["totals"]["dues_cli"] == row["totals"]["dues_library"]
    both = None not in (row["totals"]["dues_cli"], row["totals"]["dues_library"])
    tail = f"; CLI = library: {same}" if both else ""
    print(f"    pandas vs dues totals: {', '.join(gaps)}{tail}", flush=True)


def print_table(rows: list[dict[str, Any]]) -> None:
    head = "| case | backend | dues CLI s | dues library s | pandas s | ratio (CLI / pandas) | "
    head += "ratio (library / pandas) | peak MB (CLI / library / pandas) |"
    print("\n" + head)
    print("|---|---|---:|---:|---:|---:|---:|---:|")

    def f(row: dict[str, Any], kind: str, v: float | None) -> str:
        return (_unmeasured(row, kind, v) or f"{v:.1f}").replace("not measured", "–")

    def x(v: float | None) -> str:
        return "–" if v is None else f"{v:.2f}×"

    for r in rows:
        if "error" in r:
            print(f"| {r['case']} | {r['backend']} | failed: {r['error'][:60]} | | | | | |")
            continue
        p = r["peak_mb"]
        mb = " / ".join(f"{p[k]:,.0f}" if k in p else "–" for k in ("cli", "library", "pandas"))
        cli, lib = f(r, "cli", r["dues_cli_s"]), f(r, "library", r["dues_library_s"])
        print(
            f"| {r['case']} | {r['backend']} | {cli} | {lib} | {f(r, 'pandas', r['pandas_s'])} | "
            f"{x(r['ratio_cli_pandas'])} | {x(r['ratio_library_pandas'])} | {mb} |"
        )


# ---- ingest ---------------------------------------------------------------------------------


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


def run_ingest() -> dict[str, Any]:
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
    return ingest


# ---- the code measured ----------------------------------------------------------------------


def use_code(rev: str | None) -> dict[str, Any]:
    """Point every child at `rev` (a worktree first on PYTHONPATH), or say what is measured."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], check=True, capture_output=True, text=True).stdout

    head = git("rev-parse", "HEAD").strip()
    if rev is None:
        dirty = [line for line in git("status", "--porcelain").splitlines() if line]
        return {"code": "working tree", "head": head, "uncommitted_paths": len(dirty)}
    sha = git("rev-parse", "--verify", f"{rev}^{{commit}}").strip()
    tree = (DATA / "code" / sha[:12]).resolve()
    if not (tree / "src" / "dues").is_dir():
        shutil.rmtree(tree, ignore_errors=True)
        git("worktree", "prune")
        git("worktree", "add", "--detach", str(tree), sha)
    paths = [str(tree / "src"), str(tree)]
    os.environ["PYTHONPATH"] = os.pathsep.join(paths)  # the measured processes
    sys.path[:0] = paths  # spawned children (the set-up runs) start with this sys.path
    found = subprocess.run(
        [str(BIN / "python"), "-c", "import dues, flows; print(dues.__file__)"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    if not found.startswith(str(tree)):
        raise SystemExit(f"--at {rev}: the children would import dues from {found}")
    return {"code": sha, "worktree": str(tree)}


def drop_code(results: dict[str, Any]) -> None:
    """Remove the worktree of --at (it is made again in a second)."""
    if "worktree" in results:
        subprocess.run(["git", "worktree", "remove", "--force", results["worktree"]], check=False)


# ---- driver --------------------------------------------------------------------------------


def run_cases(args: argparse.Namespace, results: dict[str, Any]) -> None:
    cases = cases_for([c for c in args.cases.split(",") if c], args.units)
    for units, periods in sorted({(c.units, c.periods) for c in cases}):
        start = time.perf_counter()
        manifest = in_child(gen_run_files, units, periods)
        print(
            f"generated/checked {units:,} units, {periods} months, "
            f"{manifest['receipt_lines']:,} receipt lines in {time.perf_counter() - start:.1f} s",
            flush=True,
        )
    kinds = frozenset(k for k in args.kinds.split(",") if k)
    if not kinds <= {"cli", "library", "pandas"} or "pandas" not in kinds:
        raise SystemExit("--kinds: pandas and any of cli, library")
    skips = (("sqlite", args.skip_sqlite), ("postgresql", args.skip_pg))
    backends = [b for b, skip in skips if not skip]
    rows: list[dict[str, Any]] = []
    results["cases"] = rows
    tag = uuid.uuid4().hex[:8]
    order = {c.label: i for i, c in enumerate(cases)}
    for backend in backends:
        stores = Stores(backend, tag)
        try:
            for case in cases:
                print(f"{case.label} on {backend}:", flush=True)
                try:
                    row = bench_case(case, backend, stores, args.setup, args.repeat, kinds)
                except Exception as exc:  # a broken case must not lose the others
                    print(f"    FAILED: {type(exc).__name__}: {exc}", flush=True)
                    row = {"case": case.label, "backend": backend, "error": str(exc)}
                rows.append(row)
                # Side by side: every case's backends next to each other.
                rows.sort(key=lambda r: (order[r["case"]], backends.index(r["backend"])))
                write_results(results)  # a stopped benchmark keeps what it measured so far
        finally:
            stores.drop_all()
    print_table(rows)


def write_results(results: dict[str, Any]) -> None:
    (DATA / "results.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--units", type=int, default=100_000, help="units of all but the county")
    ap.add_argument("--cases", default="county,steady,cold", help="county,steady,cold,growth")
    ap.add_argument("--skip-pg", action="store_true")
    ap.add_argument("--skip-sqlite", action="store_true")
    ap.add_argument("--only", choices=("ingest", "run"))
    ap.add_argument("--repeat", type=int, default=1, help="keep the fastest of K of each")
    ap.add_argument("--kinds", default="cli,library,pandas", help="which processes to measure")
    ap.add_argument("--setup", choices=("monthly", "once"), default="monthly")
    ap.add_argument("--at", metavar="REV", help="measure this commit, not the working tree")
    ap.add_argument("--library-run", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.library_run:
        return library_child(args.library_run)
    # A stopped benchmark still drops the databases it made (the finally blocks run).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    DATA.mkdir(exist_ok=True)
    results: dict[str, Any] = {"units": args.units, "cpus": os.cpu_count()}
    results |= {"setup": args.setup, "repeat": args.repeat} | use_code(args.at)
    print(f"measuring {results['code']} (HEAD {results.get('head', results['code'])[:12]})")
    try:
        if args.only != "run":
            results["ingest"] = run_ingest()
        if args.only != "ingest":
            run_cases(args, results)
    finally:
        drop_code(results)
    write_results(results)
    print(f"\nwrote {DATA / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
