"""Stale periods re-derived from the ledger (`dues rerun --from P`): no input file read.

A run of period P changes the ledger that every later period's outputs were derived
from, so its commit marks the completed runs of later periods stale (dues.store.store).
`rerun_from` re-derives each completed period from P on, oldest first, as a run of it
would be, except that its first stage (`restage`) stages what that period's run stored
instead of reading files: the registry snapshot, the lines it stored (stored again, by
the new run), its quarantine and its input files' conservation records. It applies the
policy and as-of date that run applied. The other stages are `dues run`'s (STAGES), so
the outputs are exactly those a run of the period gives on the ledger as it now is, and
the new run replaces the stale one: the period is no longer stale.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import polars as pl

from dues.conservation import FileStats
from dues.files import write_parquet
from dues.outputs import RUN_JSON
from dues.policy import Policy, load_policy, policy_hash
from dues.run.manifest import RunSummary
from dues.run.merge import RAW
from dues.run.request import RunContext, RunError, RunRequest, check_period, preflight
from dues.run.stages import STAGES, Stage, StageHook, run_stages
from dues.run.workfolder import write_stats
from dues.store import Store, open_store
from dues.store.store import LineKind

_KINDS: tuple[LineKind, ...] = ("receipts", "allocations")


def restage(ctx: RunContext) -> None:
    """Stage, as ingest would, what the re-derived run stored: its registry snapshot, its
    lines, its quarantine and its input files' records."""
    run_id = ctx.request.rederive
    assert run_id is not None, "restage re-derives a stored run"
    work = ctx.work
    with open_store(ctx.request.db) as store:
        runs = store.list_runs()
        current = runs.filter(pl.col("run_id") == run_id, pl.col("status") == "completed")
        if current.is_empty():
            raise RunError(
                f"run {run_id} is no longer the completed run of {ctx.period} "
                "(another run replaced it); start `dues rerun` again"
            )
        write_parquet(store.load_registry_of_run(run_id), work.registry)
        for kind in _KINDS:
            lines = store.load_lines_of_run(kind, run_id)
            # Stored lines are typed: no bureau cells are kept beside them.
            write_parquet(
                lines.with_columns(pl.lit(None, pl.String).alias(RAW)), work.incoming(kind)
            )
        quarantine = store.load_quarantine_of_run(run_id)
        write_parquet(quarantine, work.ingest_quarantine)
        write_stats(_input_records(store, ctx, run_id, quarantine), work.ingest_stats)


def _input_records(
    store: Store, ctx: RunContext, run_id: str, quarantine: pl.DataFrame
) -> list[FileStats]:
    """The run's conservation records: from its published run.json when that is the run's
    (encodings, header rows, totals rows and all), else from the ledger's `input_files`."""
    published = ctx.final / RUN_JSON
    if published.is_file():
        info = json.loads(published.read_text(encoding="utf-8"))
        if info.get("run_id") == run_id:
            return [FileStats.from_json(r) for r in info["inputs"]]
    files = store.list_input_files().filter(pl.col("run_id") == run_id)
    reasons = quarantine.group_by("source_file", "reason").len()
    records = []
    for row in files.iter_rows(named=True):
        mine = reasons.filter(pl.col("source_file") == row["file_name"]).sort("reason")
        counted = {k: v for k, v in row.items() if k not in ("run_id", "file_name")}
        records.append(
            FileStats(
                file=row["file_name"],
                encoding="",  # not kept by the ledger
                header_row=0,
                quarantined_by_reason=dict(mine.select("reason", "len").iter_rows()),
                **counted,
            )
        )
    return records


# `dues run`'s stages, with the input files' ingest replaced by the stored run's.
REDERIVE_STAGES: tuple[Stage, ...] = (Stage("restage", restage), *STAGES[1:])


def rerun_from(
    first: str,
    *,
    out: Path,
    db: str,
    config: Path | None = None,
    say: Callable[[str], None] = print,
    progress: Callable[[str], StageHook | None] | None = None,
    **options: object,
) -> list[RunSummary]:
    """Re-derive every completed period from `first` on, oldest first (see the module).

    `config` is the policy applied to a run whose own policy the ledger does not keep
    (runs from before revision 0005); `say` gets one line for each such run. `options`
    are RunRequest's (lang, wait_s). `progress(period)`, if given, is the stage hook of
    that period's run (dues.run.stages.StageHook), asked as the run begins. Stops at the
    first failure: the periods done stay done, the rest stay stale.
    """
    check_period(first)
    with open_store(db) as store:
        runs = (
            store.list_runs()
            .filter(pl.col("status") == "completed", pl.col("period") >= first)
            .sort("period")
        )
        policies = [policy_of_run(store, run, config, say) for run in runs.iter_rows(named=True)]
    if runs.is_empty():
        raise RunError(f"the ledger has no completed run of {first} or a later period")
    summaries = []
    for run, policy in zip(runs.iter_rows(named=True), policies, strict=True):
        request = RunRequest.rederiving(
            run["run_id"], run["period"], run["as_of"], out, db, **options
        )
        # Held, settled and published as a run of the period is: a rerun that dies
        # after its commit is published by the next command, like any run.
        on_stage = None if progress is None else progress(run["period"])
        summaries.append(run_stages(preflight(request, policy), REDERIVE_STAGES, on_stage))
    return summaries


def policy_of_run(
    store: Store, run: dict[str, object], config: Path | None, say: Callable[[str], None]
) -> Policy:
    """The policy `run` applied, as the ledger keeps it; else the policy file's, said so."""
    kept = store.load_policy(str(run["config_hash"]))
    if kept is not None:
        return Policy.model_validate_json(kept)
    try:
        policy = load_policy(config)
    except (ValueError, OSError) as exc:
        raise RunError(f"config {config or 'config/policy.toml'}: {exc}") from exc
    if policy_hash(policy) != run["config_hash"]:
        say(
            f"{run['period']}: the ledger does not keep the policy its run applied "
            f"(config hash {str(run['config_hash'])[:12]}, stored before ledger revision "
            f"0005); re-derived with {config or 'config/policy.toml'} "
            f"(config hash {policy_hash(policy)[:12]})"
        )
    return policy
