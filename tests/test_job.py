"""The workbook's own process (dues.report.job): it dies with the run that started it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead but for its parent's wait: /proc says which.
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "State:\tZ" not in status.read_text(encoding="ascii")


@pytest.mark.skipif(sys.platform != "linux", reason="PR_SET_PDEATHSIG is Linux's")
def test_a_run_killed_by_sigkill_leaves_no_workbook_process_behind(tmp_path: Path) -> None:
    # The job blocks reading run.json from a FIFO nobody writes: a workbook mid-way.
    os.mkfifo(tmp_path / "run.json")
    run = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time\n"
         "from pathlib import Path\n"
         "from dues.report.job import WorkbookJob\n"
         "job = WorkbookJob(Path(sys.argv[1]), 'zh')\n"
         "print(job._proc.pid, flush=True)\n"
         "time.sleep(600)\n",
         str(tmp_path)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert run.stdout is not None
    child = int(run.stdout.readline())
    assert _alive(child)
    run.send_signal(signal.SIGKILL)
    run.wait(timeout=30)
    deadline = time.monotonic() + 10
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child), "the workbook process outlived the run"
