"""Write a staged run's workbook in a process of its own (see pipeline.report_and_commit).

    python -m dues.workbook_job STAGING LANG

STAGING holds the run's Parquet outputs and run.json; report.xlsx is written beside them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    from dues.pipeline import write_workbook

    staging, lang = Path(argv[0]), argv[1]
    info = json.loads((staging / "run.json").read_text(encoding="utf-8"))
    write_workbook(staging, info, lang)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
