"""Write a staged run's workbook in a process of its own (see pipeline.report_and_commit).

    python -m dues.workbook_job STAGING LANG

STAGING holds the run's Parquet outputs and run.json; report.xlsx is written beside them.
The job prints one JSON line: its seconds and its peak memory, for the run's timings.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


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
    from dues.pipeline import write_workbook

    staging, lang = Path(argv[0]), argv[1]
    info = json.loads((staging / "run.json").read_text(encoding="utf-8"))
    write_workbook(staging, info, lang)
    seconds = round(time.perf_counter() - start, 3)
    print(json.dumps({"seconds": seconds, "peak_rss_mb": _peak_rss_mb()}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
