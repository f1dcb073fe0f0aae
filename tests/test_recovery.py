"""Recovery after a crash (dues.run.recovery), on both stores, with real processes.

A run is killed with SIGKILL (dues.run.faults: DUES_FAULT_AT) at every stage boundary
and inside the commit and the publish. The next command that opens the ledger
(`dues runs`, or `dues run`) leaves the store and OUT/<period>/ together as before the
killed run (killed before its COMMIT) or as after it (killed after), and nothing in
OUT/.work/; the run after gives the outputs of a run never killed. A run's own failure
(an exception) is settled at once: removed before the commit, published after it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from test_stages import REGISTRY, B, csv, line
from typer.testing import CliRunner

import dues.run.publish as publish_module
from dues.cli import app
from dues.run import STAGES, RunRequest, run_period
from dues.run.faults import FAULT_ENV
from dues.run.recovery import identity, recover
from dues.run.workfolder import WorkFolder
from dues.store import open_store

PERIOD = "2026-10"
# Where a run can die, in the order it gets there; from `commit-done` on it had committed.
POINTS = (
    *(f"before-{s.name}" for s in STAGES if s.name != "publish"),
    "commit-rows-in",
    "commit-done",
    "before-publish",
    "publish-aside",
    "publish-renamed",
    "after-publish",
)
COMMITTED_FROM = POINTS.index("commit-done")
# Starts each killed run in a process of its own, forked from this warm one: importing
# dues costs more than the tiny run itself. Fork is safe here: this process has one
# thread (it ran no polars query). Reads "point registry collections out db" lines;
# answers each with the child's wait status.
FORKER = """
import os, sys
from pathlib import Path
from dues.run import RunRequest, run_period
print("ready", flush=True)
for request in sys.stdin:
    point, registry, collections, out, db = request.rstrip("\\n").split("\\t")
    pid = os.fork()
    if pid == 0:
        os.environ[sys.argv[1]] = point  # DUES_FAULT_AT
        try:
            run_period(RunRequest(period="2026-10", registry=Path(registry),
                                  collections=(Path(collections),), out=Path(out), db=db,
                                  wait_s=60, replace=True))
        finally:
            os._exit(0)
    print(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]), flush=True)
"""  # fmt: skip
ENV = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
# What differs between two runs of the same inputs: the run, its times, its ledger's name.
RUN_OWN = ("run_id", "started_at", "finished_at", "database")


def inputs(folder: Path) -> dict[str, Path]:
    """The registry (folder/registry.csv, as `request` expects it) and two versions of
    October: `one` has one receipt line, `three` has three."""
    (folder / "registry.csv").write_text(REGISTRY, encoding="utf-8")
    return {
        "one": csv(folder, "c10-one.csv", line("R1", PERIOD, "100.00")),
        "three": csv(
            folder,
            "c10-three.csv",
            line("R1", PERIOD, "100.00"),
            line("R2", PERIOD, "40.00", uscc=B),
            line("R3", "2026-09", "100.00"),
        ),
    }


def request(folder: Path, out: Path, db: str, collections: Path) -> RunRequest:
    return RunRequest(
        period=PERIOD,
        registry=folder / "registry.csv",
        collections=(collections,),
        out=out,
        db=db,
        replace=True,  # `one` after `three` removes two lines: the clerk's corrected file
    )


def run_json(out: Path) -> dict[str, object]:
    info: dict[str, object] = json.loads((out / PERIOD / "run.json").read_text(encoding="utf-8"))
    return info


def outputs(out: Path) -> tuple[dict[str, pl.DataFrame], dict[str, object]]:
    """OUT/<period>/'s Parquet frames, and its run.json without what is the run's own."""
    frames = {p.name: pl.read_parquet(p) for p in sorted((out / PERIOD).glob("*.parquet"))}
    info = {k: v for k, v in run_json(out).items() if k not in RUN_OWN}
    return frames, info


def assert_same_outputs(out: Path, expected: tuple[dict[str, pl.DataFrame], dict[str, object]]):
    frames, info = outputs(out)
    assert sorted(frames) == sorted(expected[0])
    for name, frame in frames.items():
        assert_frame_equal(frame, expected[0][name], check_row_order=True), name
    assert info == expected[1]


def ledger_state(db: str) -> tuple[str, int, int]:
    """The completed run of the period, how many runs and receipt lines the store holds."""
    with open_store(db) as store:
        runs = store.list_runs()
        counts = store.row_counts()
    (completed,) = runs.filter(pl.col("status") == "completed")["run_id"].to_list()
    return completed, runs.height, counts["receipts"]


@pytest.fixture(scope="module")
def unkilled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[object, object]]:
    """The outputs of each version of October, run once on a ledger no run died on."""
    folder = tmp_path_factory.mktemp("unkilled")
    db = f"sqlite:///{folder / 'ledger.db'}"
    found = {}
    for name, collections in inputs(folder).items():
        out = folder / f"out-{name}"
        run_period(request(folder, out, db, collections))
        found[name] = outputs(out)
    return found  # type: ignore[return-value]


@pytest.fixture(scope="module")
def forker() -> Iterator[subprocess.Popen[str]]:
    child = subprocess.Popen(
        [sys.executable, "-c", FORKER, FAULT_ENV],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=ENV,
    )  # fmt: skip
    assert child.stdout is not None and child.stdout.readline() == "ready\n"
    yield child
    child.communicate(timeout=30)


def killed_run(
    forker: subprocess.Popen[str], folder: Path, out: Path, db: str, collections: Path, point: str
) -> str:
    """Run October in a child process that SIGKILLs itself at `point`; its run id."""
    assert forker.stdin is not None and forker.stdout is not None
    args = [point, str(folder / "registry.csv"), str(collections), str(out), db]
    forker.stdin.write("\t".join(args) + "\n")
    forker.stdin.flush()
    assert forker.stdout.readline() == "-9\n", f"{point}: the run was not killed there"
    (left,) = (p for p in (out / ".work").iterdir() if p.is_dir())  # it cleaned up nothing
    return left.name


@pytest.mark.slow
def test_a_run_killed_anywhere_leaves_the_store_and_outputs_together(
    store_url: str,
    tmp_path: Path,
    unkilled: dict[str, tuple[object, object]],
    forker: subprocess.Popen[str],
) -> None:
    versions = inputs(tmp_path)
    lines = {"one": 1, "three": 3}
    out = tmp_path / "out"
    run_period(request(tmp_path, out, store_url, versions["one"]))
    published = "one"
    start = time.monotonic()
    for i, point in enumerate(POINTS):
        before, runs_before, _ = ledger_state(store_url)
        other = "three" if published == "one" else "one"
        killed = killed_run(forker, tmp_path, out, store_url, versions[other], point)
        if point == "publish-aside":  # the one moment OUT/<period>/ is missing
            assert not (out / PERIOD).exists()

        # The next command that opens the ledger: `dues runs`.
        listed = CliRunner().invoke(app, ["runs", "--db", store_url, "--json"])
        assert listed.exit_code == 0, listed.output
        completed, runs, receipts = ledger_state(store_url)
        if i >= COMMITTED_FROM:  # as after the killed run
            assert (completed, runs, receipts) == (killed, runs_before + 1, lines[other]), point
            published = other
        else:  # as before it
            assert (completed, runs, receipts) == (before, runs_before, lines[published]), point
        assert run_json(out)["run_id"] == completed, point
        assert not (out / ".work").exists(), point
        assert_same_outputs(out, unkilled[published])  # type: ignore[arg-type]

        # And the run after it gives what a run never killed gives.
        run_period(request(tmp_path, out, store_url, versions[other]))
        published = other
        assert_same_outputs(out, unkilled[published])  # type: ignore[arg-type]
        assert ledger_state(store_url)[2] == lines[published]
        assert not (out / ".work").exists(), point
    print(f"{len(POINTS)} kill points in {time.monotonic() - start:.1f} s")


@pytest.mark.parametrize("point", ["commit-done", "publish-aside", "before-merge-with-ledger"])
def test_the_next_run_recovers_before_it_reads_the_ledger(
    store_url: str,
    tmp_path: Path,
    point: str,
    unkilled: dict[str, tuple[object, object]],
    forker: subprocess.Popen[str],
) -> None:
    versions = inputs(tmp_path)
    out = tmp_path / "out"
    run_period(request(tmp_path, out, store_url, versions["one"]))
    killed = killed_run(forker, tmp_path, out, store_url, versions["three"], point)
    # A third version of October, run from another folder's OUT: the ledger knows the
    # killed run's OUT and rolls it forward there before this run reads it.
    elsewhere = tmp_path / "elsewhere"
    run_period(request(tmp_path, elsewhere, store_url, versions["one"]))
    with open_store(store_url) as store:
        runs = store.list_runs()
    statuses = dict(zip(runs["run_id"], runs["status"], strict=True))
    committed = point != "before-merge-with-ledger"
    assert (killed in statuses) == committed
    if committed:  # published in its OUT, then superseded by the run after it
        assert statuses[killed] == "superseded"
        assert run_json(out)["run_id"] == killed
        assert_same_outputs(out, unkilled["three"])  # type: ignore[arg-type]
    else:
        assert run_json(out)["run_id"] != killed
    assert not (out / ".work").exists()
    assert not (elsewhere / ".work").exists()


def test_a_run_in_progress_keeps_its_work_folder(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'ledger.db'}"
    out = tmp_path / "out"
    alive = WorkFolder.create(out, "20261101T000000Z-alive000")
    dead = WorkFolder.of_run(out, "20261101T000000Z-dead0000")
    (dead.root / "out").mkdir(parents=True)
    notes = recover(db, out)
    assert alive.root.is_dir() and not dead.root.exists()
    assert notes == [f"removed 1 work folder(s) of runs that did not finish from {out.resolve()}"
                     f"/.work: {dead.root.name}"]  # fmt: skip
    alive.release()
    recover(db, out)
    assert not (out / ".work").exists()


def test_a_failure_after_the_commit_publishes_and_one_before_removes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    versions = inputs(tmp_path)
    out, db = tmp_path / "out", f"sqlite:///{tmp_path / 'ledger.db'}"
    run_period(request(tmp_path, out, db, versions["one"]))
    real_swap = publish_module.swap
    monkeypatch.setattr(publish_module, "swap", lambda *_: (_ for _ in ()).throw(OSError(5, "EIO")))
    with pytest.raises(OSError):
        run_period(request(tmp_path, out, db, versions["three"]))
    completed, _, receipts = ledger_state(db)
    # The commit stands, so the failure's clean-up published the run.
    assert run_json(out)["run_id"] == completed and receipts == 3
    assert not (out / ".work").exists()

    monkeypatch.setattr(publish_module, "swap", real_swap)
    broken = csv(tmp_path, "broken.csv", line("R9", PERIOD, "1.00"))
    broken.write_bytes(b"\x00\x01 not a table")
    with pytest.raises(Exception):  # noqa: B017 - whatever ingest says; the folder goes
        run_period(request(tmp_path, out, db, broken))
    assert ledger_state(db) == (completed, 2, 3)
    assert not (out / ".work").exists()


def test_a_recovery_killed_halfway_through_its_swap_is_completed_by_the_next(
    store_url: str,
    tmp_path: Path,
    unkilled: dict[str, tuple[object, object]],
    forker: subprocess.Popen[str],
) -> None:
    versions = inputs(tmp_path)
    out = tmp_path / "out"
    run_period(request(tmp_path, out, store_url, versions["one"]))
    killed = killed_run(forker, tmp_path, out, store_url, versions["three"], "commit-done")
    # `dues runs` rolls the run forward, and is itself killed between the two renames.
    runs = [sys.executable, "-c", "from dues.cli import main; main()", "runs", "--db", store_url]
    child = subprocess.run(
        runs, capture_output=True, text=True, env=ENV | {FAULT_ENV: "publish-aside"}, timeout=120
    )
    assert child.returncode == -9, child.stderr
    assert not (out / PERIOD).exists()
    listed = CliRunner().invoke(app, ["runs", "--db", store_url])
    assert listed.exit_code == 0, listed.output
    assert ledger_state(store_url) == (killed, 2, 3)
    assert run_json(out)["run_id"] == killed
    assert_same_outputs(out, unkilled["three"])  # type: ignore[arg-type]
    assert not (out / ".work").exists()


def test_a_folder_committing_to_another_ledger_is_left_to_that_ledger(tmp_path: Path) -> None:
    out = tmp_path / "out"
    mine, other = (f"sqlite:///{tmp_path / name}" for name in ("mine.db", "other.db"))
    theirs = WorkFolder.of_run(out, "20261101T000000Z-theirs00")
    ours = WorkFolder.of_run(out, "20261101T000000Z-ours0000")
    for work, ledger in ((theirs, other), (ours, mine)):
        (work.root / "out").mkdir(parents=True)
        work.committing.write_text(f"{work.root.name}\n{identity(ledger)}\n", encoding="utf-8")
    recover(mine, out)  # ours never committed here (the store does not know it): it goes
    assert theirs.root.is_dir() and not ours.root.exists()
    recover(other, out)  # nor did theirs there
    assert not (out / ".work").exists()
