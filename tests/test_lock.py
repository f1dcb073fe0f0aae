"""One run at a time per ledger (dues.run.lock), on both stores, with real processes.

A second run waits for the run holding the ledger, refuses after its wait with one
line naming the holder, and goes on once the holder is done; a killed holder frees
the ledger; two months started together give what the two give one after the other;
the crash recovery of the run holding the ledger leaves a waiting run's work folder.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa
from polars.testing import assert_frame_equal
from test_stages import REGISTRY, B, csv, line

from dues.run import RunRequest, run_period
from dues.run.lock import LedgerBusy, ledger_lock
from dues.run.recovery import recover
from dues.store import open_store

HOLDER = "20261003T075802Z-ab12cd34"
OUTSIDE = "91350100M000100Y43"  # a unit in no registry: its lines go to every run's unmatched
# Takes the ledger, says so, waits for a line on stdin, holds on for argv[4] seconds,
# lets go and says when.
HOLD = """
import sys, time
from dues.run.lock import ledger_lock
with ledger_lock(sys.argv[1], sys.argv[2], sys.argv[3], 0):
    print("held", flush=True)
    sys.stdin.readline()
    time.sleep(float(sys.argv[4]))
print("released", time.time(), flush=True)
"""
# run_period with a pause after the merge has read the ledger and before the commit:
# without the lock, two runs started together both read the ledger before either
# commits, every time.
RUN = """
import dataclasses, sys, time
from pathlib import Path
import dues.run.stages as stages
from dues.run import RunRequest, run_period

def paused(stage):
    def run(ctx):
        stage.run(ctx)
        time.sleep(2.0)
    return dataclasses.replace(stage, run=run)

stages.STAGES = tuple(paused(s) if s.name == "merge-with-ledger" else s for s in stages.STAGES)
period, registry, collections, out, db = sys.argv[1:]
run_period(RunRequest(period=period, registry=Path(registry), collections=(Path(collections),),
                      out=Path(out), db=db, wait_s=120))
"""  # fmt: skip
ENV = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}


@pytest.fixture
def other_ledger(store_url: str, tmp_path: Path) -> Iterator[str]:
    """A second empty ledger on the backend of `store_url`: a file beside it, a schema."""
    url = sa.make_url(store_url)
    if url.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'other.db'}"
        return
    schema = f"dues_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        other = url.update_query_dict({"options": f"-csearch_path={schema}"})
        yield other.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def holding(
    url: str, period: str = "2026-09", hold_s: float = 0.0
) -> Iterator[subprocess.Popen[str]]:
    """A process holding the ledger at `url` as run HOLDER until a line reaches its stdin."""
    child = subprocess.Popen(
        [sys.executable, "-c", HOLD, url, HOLDER, period, str(hold_s)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
    )  # fmt: skip
    try:
        assert child.stdout is not None
        if child.stdout.readline() != "held\n":
            child.kill()
            pytest.fail(f"the holder did not take the ledger: {child.communicate()[1]}")
        yield child
    finally:
        if child.poll() is None:
            child.kill()
        child.communicate()


def dues_run(
    tmp_path: Path, db: str, period: str, collections: Path, wait_s: float
) -> subprocess.CompletedProcess[str]:
    """`dues run` in a process of its own."""
    registry = tmp_path / "registry.csv"
    registry.write_text(REGISTRY, encoding="utf-8")
    args = ["run", "--period", period, "--registry", str(registry), "--out", str(tmp_path / "out"),
            "--collections", str(collections), "--db", db, "--wait", f"{wait_s:g}"]  # fmt: skip
    return subprocess.run(
        [sys.executable, "-c", "from dues.cli import main; main()", *args],
        capture_output=True, text=True, env=ENV, timeout=120,
    )  # fmt: skip


def test_a_second_run_waits_refuses_naming_the_holder_and_goes_on_once_it_is_done(
    store_url: str, tmp_path: Path
) -> None:
    october = csv(tmp_path, "c10.csv", line("R1", "2026-10", "100.00"))
    with holding(store_url, hold_s=4) as holder:
        start = time.monotonic()
        refused = dues_run(tmp_path, store_url, "2026-10", october, wait_s=1)
        assert time.monotonic() - start >= 1
        assert refused.returncode != 0
        (message,) = refused.stderr.splitlines()
        assert message.startswith("error: the ledger ")
        assert f"is in use by run {HOLDER} (period 2026-09, pid {holder.pid}, since " in message
        assert message.endswith("waited 1 s — try again when it is done")
        assert not (tmp_path / "out" / "2026-10").exists()
        assert not (tmp_path / "out" / ".work").exists()

        assert holder.stdin is not None and holder.stdout is not None
        holder.stdin.write("\n")  # let go in 4 s: longer than a whole run of this county
        holder.stdin.flush()
        done = dues_run(tmp_path, store_url, "2026-10", october, wait_s=60)
        assert done.returncode == 0, done.stderr
        released = float(holder.stdout.readline().split()[1])
    with open_store(store_url) as store:
        (finished,) = store.list_runs()["finished_at"].to_list()
    # It waited for the holder, then ran (run.json's times are whole seconds).
    assert finished.timestamp() >= int(released)
    assert (tmp_path / "out" / "2026-10" / "run.json").is_file()


def test_a_killed_holder_frees_the_ledger(store_url: str) -> None:
    with holding(store_url) as holder:
        busy = pytest.raises(LedgerBusy, match=f"in use by run {HOLDER}")
        with busy, ledger_lock(store_url, "next", "2026-10", wait_s=0.3):
            pass
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
        start = time.monotonic()
        with ledger_lock(store_url, "next", "2026-10", wait_s=20):
            assert time.monotonic() - start < 20


def test_the_recovery_of_the_run_holding_the_ledger_leaves_a_waiting_runs_folder(
    store_url: str, tmp_path: Path
) -> None:
    october = csv(tmp_path, "c10.csv", line("R1", "2026-10", "100.00"))
    out = tmp_path / "out"
    pool = ThreadPoolExecutor(1)  # `dues run` waits in a process of its own
    with ledger_lock(store_url, HOLDER, "2026-09", wait_s=0, out=out):
        waiting = pool.submit(dues_run, tmp_path, store_url, "2026-10", october, 60)
        deadline = time.monotonic() + 60
        while not (out / ".work").is_dir() or not any((out / ".work").iterdir()):
            assert time.monotonic() < deadline and not waiting.done(), "it never started"
            time.sleep(0.05)
        (folder,) = (p for p in (out / ".work").iterdir() if p.is_dir())
        (folder / "staged-while-waiting").write_text("kept", encoding="utf-8")
        # What the holder's recovery did on taking the ledger, done once more now:
        # a dead run's folder goes, the waiting run's (its lock held) stays.
        dead = out / ".work" / "20261001T000000Z-dead0000"
        dead.mkdir()
        assert recover(store_url, out) == [
            f"removed 1 work folder(s) of runs that did not finish from "
            f"{out.resolve() / '.work'}: {dead.name}"
        ]
        assert (folder / "staged-while-waiting").read_text(encoding="utf-8") == "kept"
    pool.shutdown()
    done = waiting.result()
    assert done.returncode == 0, done.stderr
    assert not (out / ".work").exists()


def test_two_ledgers_do_not_block_each_other(store_url: str, other_ledger: str) -> None:
    with (
        holding(store_url),
        ledger_lock(other_ledger, "other", "2026-10", wait_s=0),
        ledger_lock("sqlite:///:memory:", "memory", "2026-10", wait_s=0),  # this process's alone
    ):
        pass


def test_two_months_started_together_give_what_they_give_one_after_the_other(
    store_url: str, other_ledger: str, tmp_path: Path
) -> None:
    registry = tmp_path / "registry.csv"
    registry.write_text(REGISTRY, encoding="utf-8")
    # Each month's run sees the other's lines: 乙's September is paid in both files,
    # and an outside unit's lines are in every run's unmatched.
    september = [line("R1", "2026-09", "100.00"), line("R2", "2026-09", "40.00", uscc=B)]
    october = [line("R3", "2026-10", "100.00"), line("R4", "2026-09", "60.00", uscc=B)]
    months = {
        "2026-09": csv(tmp_path, "c09.csv", *september, line("X1", "2026-09", "7", uscc=OUTSIDE)),
        "2026-10": csv(tmp_path, "c10.csv", *october, line("X2", "2026-10", "9", uscc=OUTSIDE)),
    }
    together = tmp_path / "together"
    children = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                RUN,
                period,
                str(registry),
                str(collections),
                str(together),
                store_url,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=ENV,
        )
        for period, collections in months.items()
    ]
    for child in children:
        _, err = child.communicate(timeout=180)
        assert child.returncode == 0, err
    with open_store(store_url) as store:
        runs = store.list_runs().sort("finished_at")
    assert runs["status"].to_list() == ["completed", "completed"]

    # The same months one after the other, in the order the lock let them in.
    apart = tmp_path / "apart"
    for period in runs["period"]:
        run_period(
            RunRequest(
                period=period,
                registry=registry,
                collections=(months[period],),
                out=apart,
                db=other_ledger,
            )
        )
    for period in months:
        names = sorted(p.name for p in (apart / period).glob("*.parquet"))
        assert names == sorted(p.name for p in (together / period).glob("*.parquet"))
        for name in names:
            (
                assert_frame_equal(
                    pl.read_parquet(together / period / name),
                    pl.read_parquet(apart / period / name),
                    check_row_order=True,
                ),
                f"{period}/{name}",
            )
