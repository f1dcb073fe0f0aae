"""What a run is asked to do, the checks that cost nothing, and the run in progress.

`preflight` refuses a bad request before any file is read, loads the policy
**once** (every stage applies that object, and run.json's `config_hash` is its
hash, so a policy file edited during a run changes nothing of it) and creates the
run's private work folder.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from dues.periods import check_period as _check_period
from dues.periods import first_day, last_day, parse_period
from dues.policy import Policy, load_policy, policy_hash
from dues.report.labels import Lang
from dues.run.workfolder import WorkFolder
from dues.settings import Settings


class RunError(Exception):
    """The run cannot go on; the message is one line a finance clerk can act on."""


@dataclass(frozen=True)
class RunRequest:
    """What `dues run` was asked to do (SPEC §5), as plain data a Prefect task can carry."""

    period: str
    registry: Path
    collections: tuple[Path, ...]
    allocations: tuple[Path, ...] = ()
    out: Path = Path("out")
    db: str = field(default_factory=lambda: Settings().database_url)
    config: Path | None = None
    as_of: date | None = None
    lang: Lang = "zh"
    # How long to wait for another run holding the ledger before refusing (dues.run.lock).
    wait_s: float = 300.0
    # Whether the run may remove lines the period's earlier run stored (`--replace`):
    # without it, a re-run whose inputs lack some of them refuses (dues.run.merge).
    replace: bool = False
    # `dues rerun`: the id of the stored run this run re-derives from the ledger (its
    # registry snapshot, lines, quarantine and input records); no input file is read,
    # so `registry` and the input files are unused (dues.run.rederive).
    rederive: str | None = None

    @classmethod
    def rederiving(
        cls, run_id: str, period: str, as_of: date, out: Path, db: str, **options: object
    ) -> RunRequest:
        """A request to re-derive stored run `run_id` of `period` with no input file."""
        return cls(
            period=period,
            registry=Path(),  # unused: the run's stored snapshot is read
            collections=(),
            out=out,
            db=db,
            as_of=as_of,
            rederive=run_id,
            **options,  # type: ignore[arg-type]
        )


@dataclass(frozen=True)
class RunContext:
    """A run in progress: its id, its request, the policy it applies and its work folder."""

    run_id: str
    request: RunRequest
    policy: Policy
    started_at: str  # ISO, UTC
    work: WorkFolder

    @property
    def config_hash(self) -> str:
        """The hash of the policy this run applies (run.json, the `runs` table)."""
        return policy_hash(self.policy)

    @property
    def period(self) -> str:
        return self.request.period

    @property
    def as_of(self) -> date:
        """The as-of date of SPEC rule 6: given, else the last day of the period."""
        return self.request.as_of or last_day(parse_period(self.request.period))

    @property
    def final(self) -> Path:
        """Where the outputs are published: OUT/<period>/."""
        return self.request.out / self.request.period


def check_period(period: str) -> str:
    """`period` when it is written YYYY-MM, else a RunError naming the option."""
    try:
        return _check_period(period)
    except ValueError as exc:
        raise RunError(f"--{exc}") from None


def preflight(request: RunRequest, policy: Policy | None = None) -> RunContext:
    """Refuse a bad request before any file is read; load the policy (unless given: the
    stored one of a re-derived run); create the work folder."""
    check_period(request.period)
    if request.lang not in ("zh", "en"):
        raise RunError(f"--lang must be zh or en, not {request.lang!r}")
    begins = first_day(parse_period(request.period))
    if request.as_of is not None and request.as_of < begins:
        raise RunError(
            f"--as-of {request.as_of} is before the period {request.period} begins ({begins})"
        )
    if request.rederive is None:
        inputs = (request.registry, *request.collections, *request.allocations)
        for path in inputs:
            if not path.is_file():
                raise RunError(f"{path}: no such file")
        _check_names(inputs)
    _check_writable(request.out)
    if policy is None:
        try:
            policy = load_policy(request.config)
        except (ValueError, OSError) as exc:
            raise RunError(
                f"config {request.config or 'config/policy.toml'}: {_one_line(exc)}"
            ) from exc
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:8]
    work = WorkFolder.create(request.out, run_id)  # alive until discarded (dues.run.publish)
    return RunContext(
        run_id=run_id,
        request=request,
        policy=policy,
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        work=work,
    )


def _check_names(inputs: tuple[Path, ...]) -> None:
    """Every line, quarantine row and conservation record names its file without its
    folder (SPEC §3: file and row), so two inputs of one name would be one file."""
    seen: dict[str, Path] = {}
    for path in inputs:
        other = seen.setdefault(path.name, path)
        if other != path:
            raise RunError(
                f"two input files are named {path.name} ({other} and {path}); "
                "rename one, or give the same file once"
            )


def _check_writable(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".write-probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise RunError(f"output folder {out} is not writable: {exc.strerror}") from exc


def _one_line(exc: Exception) -> str:
    """pydantic lists each error on its own lines; a clerk's error is one line."""
    from pydantic import ValidationError

    cause = exc if isinstance(exc, ValidationError) else exc.__cause__
    if isinstance(cause, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'file'}: {e['msg']}" for e in cause.errors()
        )
    return " ".join(str(exc).split())
