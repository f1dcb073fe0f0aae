"""Fault injection for the crash-recovery test (tests/test_recovery.py), and nothing else.

With `DUES_FAULT_AT=<point>` in its environment, a run kills itself with SIGKILL when it
reaches that point: as a power cut or the OOM killer would, with no clean-up, no
`finally`, no rollback but the database's own. Unset (always, outside that test), a
point costs one dictionary look-up. The points, in the order a run reaches them:

    before-<stage>    before each stage of dues.run.STAGES (ingest … publish)
    commit-rows-in    inside the commit: every row inserted, COMMIT not yet sent
    commit-done       the transaction committed, nothing published
    publish-aside     the old OUT/<period>/ moved aside, the staged one not yet in place
    publish-renamed   OUT/<period>/ is the run's, not yet marked published in the store
    after-publish     published, the work folder not yet removed
"""

from __future__ import annotations

import os
import signal

FAULT_ENV = "DUES_FAULT_AT"


def fault(point: str) -> None:
    """Die here, at once, when DUES_FAULT_AT names this point."""
    if os.environ.get(FAULT_ENV) == point:
        os.kill(os.getpid(), signal.SIGKILL)
