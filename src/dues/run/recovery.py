"""Recovery after a crash (issue 10, item 5): the commit is the commit point.

A run stages everything in `OUT/.work/<run id>/`, commits to the store in one
transaction, then renames its staged folder over `OUT/<period>/` (dues.run.publish).
A run killed anywhere leaves one of three things, which the next dues command that
opens the ledger settles, holding the ledger (dues.run.lock), before it reads it:

* **committed, not published** (killed after the COMMIT, or between the renames):
  the store knows the run and its OUT (the `publications` row written in the commit
  transaction), so the run is rolled forward: its staged folder is published,
  completing a half-done swap (OUT/<period>/ moved aside and nothing in its place is
  the only moment OUT/<period>/ is missing).
* **never committed** (killed before the COMMIT, or inside the transaction: the
  database rolls it back): its work folder is removed; an OUT/<period>/ moved aside
  by it (a swap only a committed run starts) is put back.
* **published** (killed while removing its work folder): the folder is removed.

A folder whose lock (`OUT/.work/<run id>.lock`, dues.run.workfolder) is held belongs
to a run in progress and is left alone, so `OUT/.work/` holds only the runs in
progress once any command has opened the ledger. The folders looked at are those of
every OUT the ledger publishes to, and the command's own OUT.

A run's own failure (an exception, not a kill) is settled the same way at once, by
`settle`, still holding the ledger.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
from pathlib import Path

import sqlalchemy as sa

from dues.outputs import RUN_JSON
from dues.run.publish import remove, restore, swap
from dues.run.request import RunContext, RunError
from dues.run.workfolder import WorkFolder, claim
from dues.store import Store, StoreError, open_store
from dues.store.engine import masked

log = logging.getLogger("dues.recovery")


def recover(url: str, out: Path | None = None, own: str | None = None) -> list[str]:
    """Settle what crashed runs left of the ledger at `url`; the caller holds the ledger.

    Looks in every OUT the ledger publishes to and in `out`; leaves run `own` (the
    caller's) alone. Returns (and logs) one line per thing done.
    """
    notes: list[str] = []
    try:
        with open_store(url) as store:
            for run_id, period, out_dir in store.unpublished_runs():
                if run_id != own:
                    notes.extend(_roll_forward(store, Path(out_dir), run_id, period))
            folders = {Path(f) for f in store.output_folders()}
            if out is not None:
                folders.add(out.resolve())
            for folder in sorted(folders):
                notes.extend(_sweep(store, folder, own, identity(url)))
    except OSError as exc:
        where = exc.filename or out or "the output folders"
        raise RunError(f"cannot recover the outputs in {where}: {exc.strerror}") from exc
    for note in notes:
        log.warning("%s", note)
    return notes


def recover_ledger(url: str) -> list[str]:
    """`recover` for a command that is no run (`dues runs`): only when the ledger is
    free at once; a run holding it has recovered it already."""
    from dues.run.lock import LedgerBusy, ledger_lock

    try:
        with ledger_lock(url, "recovery", "-", wait_s=0, recover=False) as held:
            return recover(url) if held else []
    except LedgerBusy:
        return []
    except RunError as exc:  # the listing goes on; the next run will try again
        log.warning("%s", exc)
        return []


def settle(ctx: RunContext) -> None:
    """End a run's work folder, the run holding the ledger: removed, unless the run
    committed and is not yet published — then it is published now (its failure came
    after the commit point), or, when the store cannot tell, left for the next
    command's `recover`."""
    work = ctx.work
    if not work.committing.exists() or not work.staging.exists():
        remove(work)  # never tried to commit, or published
        return
    try:
        with open_store(ctx.request.db) as store:
            if ctx.run_id in {r for r, _, _ in store.unpublished_runs()}:
                work.release()  # so that the roll-forward can take the folder
                for note in _roll_forward(store, ctx.request.out.resolve(), ctx.run_id, ctx.period):
                    log.warning("%s", note)
                return
    except (StoreError, OSError):
        work.release()  # the next command's recovery decides; the lock must not stay held
        return
    restore(work, ctx.final)  # (a swap only a committed run starts)
    remove(work)


def identity(url: str) -> str:
    """The ledger `url` names, however it is spelled: a SQLite file by its absolute path."""
    with contextlib.suppress(sa.exc.ArgumentError):
        parsed = sa.make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database:
            return f"sqlite:{Path(parsed.database).expanduser().resolve()}"
    return masked(url)


def _roll_forward(store: Store, out: Path, run_id: str, period: str) -> list[str]:
    """Publish committed run `run_id` (unless its process is still alive) and mark it."""
    work = WorkFolder.of_run(out, run_id)
    final = out / period
    fd = None
    if work.lock_file.parent.is_dir():
        fd = claim(work.lock_file)
        if fd is None:
            return []  # its process is alive (a run between its commit and its publish)
    try:
        notes = []
        if work.staging.is_dir():
            swap(work, final)
            notes.append(
                f"recovered run {run_id} ({period}): it was stored in the ledger but stopped "
                f"before its outputs were published; they are now in {final}"
            )
        elif _run_of(final) != run_id:
            restore(work, final)
            notes.append(
                f"run {run_id} ({period}) committed, but its staged outputs are gone and "
                f"{final} is not its: run {period} again"
            )
        store.mark_published(run_id)
        return notes
    finally:
        _drop(work, fd)


def _sweep(store: Store, out: Path, own: str | None, ledger: str) -> list[str]:
    """Remove the work folders in OUT/.work/ of dead runs of this ledger."""
    folder = out / ".work"
    if not folder.is_dir():
        return []
    entries = [p for p in folder.iterdir() if p.is_dir() or p.suffix == ".lock"]
    ids = {p.name.removesuffix(".lock") for p in entries} - {own}
    statuses = store.run_statuses(sorted(ids))
    notes, removed = [], []
    for run_id in sorted(ids):
        work = WorkFolder.of_run(out, run_id)
        fd = claim(work.lock_file)
        if fd is None:
            continue  # a run in progress
        if run_id not in statuses and _committed_elsewhere(work, ledger):
            os.close(fd)  # that ledger's next command settles it
            continue
        if work.previous.is_dir():
            period = _period_of(work.previous)
            if period is not None and restore(work, out / period):
                notes.append(f"put back {out / period}, moved aside by run {run_id}")
        if work.root.is_dir():
            removed.append(run_id)
        _drop(work, fd)
    if removed:
        notes.append(
            f"removed {len(removed)} work folder(s) of runs that did not finish from {folder}: "
            + ", ".join(removed)
        )
    with contextlib.suppress(OSError):
        folder.rmdir()
    return notes


def _committed_elsewhere(work: WorkFolder, ledger: str) -> bool:
    """Whether the run tried to commit to another ledger (sharing this OUT)."""
    try:
        marker = work.committing.read_text(encoding="utf-8").split("\n")
    except OSError:
        return False
    return len(marker) > 1 and marker[1] != ledger


def _drop(work: WorkFolder, fd: int | None) -> None:
    """Remove a dead run's work folder and lock file, then let go of the lock."""
    shutil.rmtree(work.root, ignore_errors=True)
    if fd is not None:
        work.lock_file.unlink(missing_ok=True)
        os.close(fd)
    with contextlib.suppress(OSError):
        work.root.parent.rmdir()


def _run_json(folder: Path) -> dict[str, object]:
    try:
        info = json.loads((folder / RUN_JSON).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return info if isinstance(info, dict) else {}


def _run_of(folder: Path) -> object:
    return _run_json(folder).get("run_id")


def _period_of(folder: Path) -> str | None:
    period = _run_json(folder).get("period")
    return period if isinstance(period, str) and len(period) == 7 else None
