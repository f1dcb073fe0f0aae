"""The workbook written by a process of its own, beside the store's commit.

    python -m dues.report.job FOLDER LANG

FOLDER holds a staged run's Parquet outputs and run.json; report.xlsx is written
beside them. The job prints one JSON line: its seconds and its peak memory.

In a thread, the workbook's Python parts (openpyxl) would hold the GIL the store's
inserts need to bind their rows, and its memory would add to the run's. A plain
child interpreter rather than multiprocessing: nothing is pickled, and a caller's
script needs no `if __name__ == "__main__"` guard.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import dues

# Ten times what a province's workbook takes here; beyond it the run gives up.
TIMEOUT_S = 600.0


class WorkbookJobError(RuntimeError):
    """The workbook could not be written; the message is one line."""


class WorkbookJob:
    """`python -m dues.report.job FOLDER LANG`, started at once, awaited by `wait`."""

    def __init__(self, folder: Path, lang: str) -> None:
        self._start = time.perf_counter()
        self.seconds = 0.0  # the job's own time, as it reports it (else until awaited)
        self.peak_rss_mb: float | None = None
        # The child imports dues from where this process did, installed or not.
        home = str(Path(dues.__file__).resolve().parents[1])
        path = os.pathsep.join(p for p in (home, os.environ.get("PYTHONPATH")) if p)
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "dues.report.job", str(folder), lang],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": path},
            preexec_fn=partial(_die_with_parent, os.getpid()) if sys.platform == "linux" else None,
        )

    def wait(self) -> None:
        """Until the workbook is saved; WorkbookJobError when it fails or takes too long."""
        # The caller's transaction is open meanwhile: a workbook that never ends must not
        # hold the ledger's write lock for ever.
        try:
            out, err = self._proc.communicate(timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.stop()
            raise WorkbookJobError(
                f"report.xlsx was not written within {TIMEOUT_S:g} s; nothing was stored"
            ) from None
        self.seconds = round(time.perf_counter() - self._start, 3)
        if self._proc.returncode != 0:
            lines = err.decode("utf-8", errors="replace").strip().splitlines()
            raise WorkbookJobError(
                f"report.xlsx could not be written: {lines[-1] if lines else 'killed'}"
            )
        with contextlib.suppress(ValueError, IndexError, KeyError):
            report = json.loads(out.decode().strip().splitlines()[-1])
            self.seconds, self.peak_rss_mb = report["seconds"], report["peak_rss_mb"]

    def stop(self) -> None:
        """Kill the job if it still runs (the commit failed first: the workbook is moot)."""
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.communicate()


def _die_with_parent(parent: int) -> None:
    """In the child, before exec: the kernel kills it when the run's process dies.

    A run killed by any signal (SIGKILL included: no handler of the parent's runs)
    must leave no process behind writing into a folder nobody will publish. Linux's
    prctl(PR_SET_PDEATHSIG) is the one way; no maintained library wraps just this.
    """
    import ctypes
    import signal

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the run died before the line above: follow it now
        os._exit(1)


def _peak_rss_mb() -> float | None:
    """This interpreter's own peak resident memory (VmHWM), where Linux tells it.

    Not getrusage's ru_maxrss: exec keeps the high-water mark of the parent image the
    child was forked from, which would report the run's memory as the workbook's.
    """
    try:
        status = Path("/proc/self/status").read_text(encoding="ascii")
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024)  # kB
    return None


def main(argv: list[str]) -> int:
    start = time.perf_counter()
    from dues.report.staged import write_staged_workbook

    folder, lang = Path(argv[0]), argv[1]
    write_staged_workbook(folder, lang)  # type: ignore[arg-type]
    seconds = round(time.perf_counter() - start, 3)
    print(json.dumps({"seconds": seconds, "peak_rss_mb": _peak_rss_mb()}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
