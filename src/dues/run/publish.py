"""Publishing the staged outputs, and removing a run's work folder.

The store has committed before `publish` runs; two renames then replace
OUT/<period>/ by the staged folder, so a reader sees the old outputs or the new
ones, never a mixture.
"""

from __future__ import annotations

import contextlib
import os
import shutil

from dues.run.request import RunContext


def publish(ctx: RunContext) -> None:
    """Replace OUT/<period>/ by the staged folder: rename the old away, rename the new in."""
    final = ctx.final
    if final.exists():
        os.replace(final, ctx.work.previous)
    os.replace(ctx.work.staging, final)


def discard(ctx: RunContext) -> None:
    """Remove the run's work folder (and the .work folder when it is left empty)."""
    shutil.rmtree(ctx.work.root, ignore_errors=True)
    with contextlib.suppress(OSError):
        ctx.work.root.parent.rmdir()
