"""Publishing the staged outputs, and removing a run's work folder.

The store has committed before `publish` runs: the commit is the run's commit
point. Two renames then replace OUT/<period>/ by the staged folder (the old one
aside into the work folder, the staged one into place), so a reader sees the old
outputs or the new ones, never a mixture. Each rename is atomic and its folders
are synced; a crash between the two leaves OUT/<period>/ missing for the next
command's recovery to complete (`swap` again, dues.run.recovery) from what the
store says.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

from dues.run.faults import fault
from dues.run.request import RunContext
from dues.run.workfolder import WorkFolder


def publish(ctx: RunContext) -> None:
    """Replace OUT/<period>/ by the staged folder, then mark the run published."""
    from dues.store import open_store

    swap(ctx.work, ctx.final)
    fault("publish-renamed")
    with open_store(ctx.request.db) as store:
        store.mark_published(ctx.run_id)


def swap(work: WorkFolder, final: Path) -> None:
    """Move OUT/<period>/ aside into the work folder and the staged folder into its place.

    Safe to call again after a crash at any point of it, while the staged folder is
    there: what was moved aside before stays aside (it is the old outputs).
    """
    if final.exists():
        if work.previous.exists():  # an aside from an interrupted swap would block the rename
            shutil.rmtree(work.previous)
        os.replace(final, work.previous)
        sync_folder(work.root)
        sync_folder(final.parent)
        fault("publish-aside")
    os.replace(work.staging, final)
    sync_folder(final.parent)
    sync_folder(work.root)


def restore(work: WorkFolder, final: Path) -> bool:
    """Put back the OUT/<period>/ a swap moved aside, when nothing took its place."""
    if final.exists() or not work.previous.is_dir():
        return False
    os.replace(work.previous, final)
    sync_folder(final.parent)
    return True


def discard(ctx: RunContext) -> None:
    """Remove the run's work folder (and the .work folder when it is left empty)."""
    remove(ctx.work)


def remove(work: WorkFolder) -> None:
    """Remove a work folder, then its lock file, then `.work` itself when it is empty."""
    shutil.rmtree(work.root, ignore_errors=True)
    work.release()
    with contextlib.suppress(OSError):
        work.root.parent.rmdir()


def sync_tree(folder: Path) -> None:
    """fsync every file under `folder` and the folders themselves: the staged outputs
    must be on disk before the store commits to them (a power cut after the commit
    must not leave the committed run's files empty)."""
    for root, _, files in os.walk(folder):
        for name in files:
            fd = os.open(Path(root) / name, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        sync_folder(Path(root))


def sync_folder(folder: Path) -> None:
    """fsync a folder, so the renames in it survive a power cut."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
