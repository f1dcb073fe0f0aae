"""The run's private work folder, `OUT/.work/<run id>/`: every staged file, named once.

Stages hand each other files, never large frames, so a Prefect task can be
retried or run in another process. Each stage writes only into its own
subfolder and reads only what earlier stages wrote; the last stages fill
`out/`, the staged `OUT/<period>/` that `publish` renames into place.

    ingest/     registry, collections, allocations, quarantine (parquet), stats.json
    merge/      new_*, outside_*, waiting_* and marks_* receipts and allocations, stored_sums,
                quarantine, stats.json, stored_paid_lines (only with late fees on)
    reconcile/  new_sums, start_period.txt, unmatched_allocations.parquet,
                distributed_lines, new_waiting_* and taken_* (rule 13), late_fee_undated.txt
    out/        the SPEC §5 outputs, run.json, report.xlsx
    committing  written just before the commit is tried (dues.run.commit)
    previous/   the OUT/<period>/ a publish moved aside (dues.run.publish)
    timings.json

Beside the folder, `OUT/.work/<run id>.lock` says the run is alive: the run holds an
OS lock (`flock`) on it from before the folder exists until after it is removed, and
the lock dies with the process however it dies. The next command's recovery
(dues.run.recovery) leaves a folder whose lock is held alone, and settles the rest.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from dataclasses import dataclass
from pathlib import Path

from dues.conservation import FileStats
from dues.files import write_text
from dues.outputs import RUN_JSON, output_path


@dataclass(frozen=True)
class WorkFolder:
    root: Path

    @classmethod
    def of_run(cls, out: Path, run_id: str) -> WorkFolder:
        """The work folder of run `run_id` writing to OUT: `OUT/.work/<run id>/`."""
        return cls(out / ".work" / run_id)

    @classmethod
    def create(cls, out: Path, run_id: str) -> WorkFolder:
        """Create run `run_id`'s work folder, alive (its lock held) until `release`."""
        work = cls.of_run(out, run_id)
        while True:
            work.root.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = claim(work.lock_file, wait=True)
                break
            except FileNotFoundError:
                continue  # another run removed `.work` as it emptied it: make it again
        assert fd is not None  # waited for it: only a recovery's glance can hold it
        _ALIVE[work.lock_file] = fd
        work.root.mkdir()  # `.work` holds the lock file now: no one removes it
        return work

    def release(self) -> None:
        """Let go of the folder's lock and remove the lock file (the folder is gone)."""
        fd = _ALIVE.pop(self.lock_file, None)
        if fd is not None:
            self.lock_file.unlink(missing_ok=True)
            os.close(fd)

    @property
    def lock_file(self) -> Path:
        """`OUT/.work/<run id>.lock`: held by the run's process while it is alive."""
        return self.root.with_name(f"{self.root.name}.lock")

    @property
    def committing(self) -> Path:
        """Written just before the commit is tried: without it, the store never saw the run."""
        return self.root / "committing"

    # ---- ingest/: each input file read, typed and validated ----
    @property
    def registry(self) -> Path:
        return self.root / "ingest" / "registry.parquet"

    def incoming(self, kind: str) -> Path:
        """This run's accepted lines of `kind` (receipts or allocations), all files together."""
        return self.root / "ingest" / f"{kind}.parquet"

    @property
    def ingest_quarantine(self) -> Path:
        return self.root / "ingest" / "quarantine.parquet"

    @property
    def ingest_stats(self) -> Path:
        return self.root / "ingest" / "stats.json"

    # ---- merge/: the incoming lines judged against the ledger ----
    def new(self, kind: str) -> Path:
        """Lines of `kind` the store does not hold yet: what the commit inserts."""
        return self.root / "merge" / f"new_{kind}.parquet"

    def outside(self, kind: str) -> Path:
        """Stored lines of `kind` of units outside this run's registry (unmatched)."""
        return self.root / "merge" / f"outside_{kind}.parquet"

    def waiting(self, kind: str) -> Path:
        """Stored lines of `kind` this run distributes (rule 13: lines that waited, and
        repeats of lines a later period stores), with the run storing each."""
        return self.root / "merge" / f"waiting_{kind}.parquet"

    def marks(self, kind: str) -> Path:
        """Keys of this period's lines of `kind` an earlier period distributed."""
        return self.root / "merge" / f"marks_{kind}.parquet"

    @property
    def stored_sums(self) -> Path:
        """The unit-month sums of every line the store held before this run."""
        return self.root / "merge" / "stored_sums.parquet"

    @property
    def stored_paid_lines(self) -> Path:
        """What the late-fee accrual needs of the receipt lines earlier periods stored
        (late_fees.PAID_LINE_COLUMNS); written only with late fees on."""
        return self.root / "merge" / "stored_paid_lines.parquet"

    @property
    def quarantine(self) -> Path:
        """Every quarantined row of the run: ingest's and the merge's conflicts."""
        return self.root / "merge" / "quarantine.parquet"

    @property
    def stats(self) -> Path:
        """The conservation records after the merge."""
        return self.root / "merge" / "stats.json"

    # ---- reconcile/: what the rules return beside the SPEC outputs ----
    @property
    def new_sums(self) -> Path:
        """The unit-month sums of this run's new lines: what the store adds to its own."""
        return self.root / "reconcile" / "new_sums.parquet"

    @property
    def start_period(self) -> Path:
        return self.root / "reconcile" / "start_period.txt"

    @property
    def unmatched_allocations(self) -> Path:
        return self.root / "reconcile" / "unmatched_allocations.parquet"

    @property
    def distributed_lines(self) -> Path:
        """The lines the run distributed (rule 13): what the split's conservation checks."""
        return self.root / "reconcile" / "distributed_lines.parquet"

    @property
    def distribution_wide_folder(self) -> Path:
        """The distribution one row per line × month, as the store keeps it, a Parquet file
        per piece (Distribution.wide_pieces): staged beside the long distribution.parquet,
        which is streamed from these, so the commit need not pivot 5× the rows back."""
        return self.root / "reconcile" / "distribution_wide"

    def distribution_wide(self, piece: int) -> Path:
        """Piece `piece` of the wide distribution."""
        return self.distribution_wide_folder / f"{piece:05d}.parquet"

    @property
    def distribution_wide_pieces(self) -> list[Path]:
        """The pieces of the wide distribution, in order."""
        return sorted(self.distribution_wide_folder.glob("*.parquet"))

    def new_waiting(self, kind: str) -> Path:
        """Keys and uscc of the new lines of `kind` that wait to be distributed."""
        return self.root / "reconcile" / f"new_waiting_{kind}.parquet"

    def taken(self, kind: str) -> Path:
        """Keys of the waiting lines of `kind` this run distributed."""
        return self.root / "reconcile" / f"taken_{kind}.parquet"

    @property
    def late_fee_undated(self) -> Path:
        """How many lines the late-fee accrual counted as paid on their due dates."""
        return self.root / "reconcile" / "late_fee_undated.txt"

    # ---- out/: the staged OUT/<period>/ ----
    @property
    def staging(self) -> Path:
        return self.root / "out"

    def output(self, name: str) -> Path:
        return output_path(self.staging, name)

    @property
    def run_json(self) -> Path:
        return self.staging / RUN_JSON

    @property
    def previous(self) -> Path:
        """Where publish moves the OUT/<period>/ this run replaces (removed with the folder)."""
        return self.root / "previous"

    @property
    def timings(self) -> Path:
        return self.root / "timings.json"


# The lock of each work folder this process created, by its lock file (a RunContext
# travels between Prefect tasks as data; the descriptor stays with the process).
_ALIVE: dict[Path, int] = {}


def claim(lock_file: Path, *, wait: bool = False) -> int | None:
    """An open descriptor holding `lock_file`'s flock, or None when another process holds
    it (without `wait`). Whoever holds it may remove the file: a holder that finds its
    file removed or replaced while it waited tries again on the new one."""
    while True:
        fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(fd)
            return None
        with contextlib.suppress(FileNotFoundError):
            if os.stat(lock_file).st_ino == os.fstat(fd).st_ino:
                return fd
        os.close(fd)  # removed by its last holder: the lock is on a file no one sees


def write_stats(records: list[FileStats], path: Path) -> None:
    text = json.dumps([r.as_json() for r in records], ensure_ascii=False, indent=1)
    write_text(text, path)


def read_stats(path: Path) -> list[FileStats]:
    return [FileStats.from_json(r) for r in json.loads(path.read_text(encoding="utf-8"))]
