"""`make demo`: a sample county, four monthly runs as `dues run` makes them, a summary.

Runs on embedded defaults: generated sample data, an SQLite file under the demo
folder and local mode (the stages in this process, no Prefect server); with
PREFECT_API_URL set, the runs go through the Prefect flow and show in its UI.
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

from rich.console import Console

from dues.cli import print_summary
from dues.sample import generate_county

PERIODS = ("2026-07", "2026-08", "2026-09", "2026-10")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("demo-out"))
    parser.add_argument("--units", type=int, default=1400)
    args = parser.parse_args()
    console = Console()
    started = time.perf_counter()
    if args.out.exists():
        shutil.rmtree(args.out)  # the demo always starts from an empty ledger
    inputs = args.out / "inputs"
    manifest = generate_county(inputs, periods=PERIODS, units=args.units)
    console.print(f"sample county: {args.units} units, files in {inputs}")

    from dues.cli import execute
    from dues.run import RunRequest

    db = f"sqlite:///{(args.out / 'dues.db').resolve()}"
    summary = None
    for period in PERIODS:
        files = manifest.periods[period]
        summary = execute(
            RunRequest(
                period=period,
                registry=inputs / manifest.registry,
                collections=tuple(inputs / f for f in files.collections),
                allocations=tuple(inputs / f for f in files.allocations),
                out=args.out / "out",
                db=db,
            )
        )
        console.print(
            f"{period}: {summary.quarantined} rows quarantined, "
            f"{summary.unmatched} unmatched receipts, {summary.founding_drive} units to visit"
        )
    assert summary is not None
    print_summary(summary)
    console.print(f"done in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
