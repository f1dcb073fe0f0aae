"""One period run (SPEC §5): `run_period(RunRequest(...))`, or the Prefect flow.

    request.py     what a run is asked to do, preflight (the policy loaded once)
    workfolder.py  the private work folder: every staged file named once
    inputs.py      every input file read side by side; the registry's refusals
    stages.py      the stages, listed once in STAGES, and run_period walking them
    merge.py       what a run reads of the ledger, the merge's bookkeeping, removals refused
    lock.py        one run at a time per ledger
    manifest.py    run.json and the RunSummary read back from it
    commit.py      the run's records as the store keeps them, in one transaction
    publish.py     the staged outputs renamed into OUT/<period>/; clean-up
    recovery.py    what a crashed run left, settled by the next command on the ledger
    faults.py      DUES_FAULT_AT: a run killed at a named point (the recovery test)
    rederive.py    `dues rerun`: stale periods re-derived from the ledger, no file read

A run completes or leaves no trace: outputs are written to a staging folder, the
store commits everything of the run in one transaction, and only then does the
staging folder replace `OUT/<period>/`. The commit is the commit point: a run killed
after it is published by the next command that opens the ledger (recovery.py).
"""

from dues.run.manifest import RunSummary
from dues.run.publish import discard
from dues.run.request import RunContext, RunError, RunRequest, check_period, preflight
from dues.run.stages import STAGES, Stage, StageEvent, StageHook, run_period, summarize

__all__ = [
    "STAGES",
    "RunContext",
    "RunError",
    "RunRequest",
    "RunSummary",
    "Stage",
    "StageEvent",
    "StageHook",
    "check_period",
    "discard",
    "preflight",
    "run_period",
    "summarize",
]
