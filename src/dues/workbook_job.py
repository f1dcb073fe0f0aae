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
    try:
        import resource
    except ImportError:  # not on Windows
        return None
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)  # KiB on Linux


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
