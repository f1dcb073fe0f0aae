"""The monthly reconciliation as a Prefect flow: the stages of `dues.run` as tasks.

Wiring only: each of `dues.run.STAGES` becomes a task of the same name. Tasks hand
each other the run's context (its work folder), never frames, so a retry sees
exactly what the previous task wrote.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from prefect import Task, flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from dues.report.labels import Lang
from dues.run import STAGES, RunContext, RunRequest, RunSummary, check_period, discard, preflight
from dues.run import summarize as summarize_run
from dues.run.lock import ledger_lock
from dues.settings import Settings
from dues.summary import jurisdiction_rates, markdown_summary

TASKS: tuple[Task[[RunContext], None], ...] = tuple(
    task(
        name=stage.name,
        retries=stage.retries,
        retry_delay_seconds=stage.retry_delay_s,
        cache_policy=NO_CACHE,
    )(stage.run)
    for stage in STAGES
)
preflight_task = task(name="preflight", cache_policy=NO_CACHE)(preflight)
summarize_task = task(name="summarize", cache_policy=NO_CACHE)(summarize_run)


@task(name="publish-artifacts", cache_policy=NO_CACHE)
def publish_artifacts(summary: RunSummary) -> None:
    create_markdown_artifact(
        key="dues-summary",
        markdown=markdown_summary(summary),
        description=f"dues {summary.period}: money in, arrears, founding drive",
    )
    create_table_artifact(
        key="dues-collection-rates",
        table=jurisdiction_rates(summary.out_dir),
        description=f"到位率 per jurisdiction, {summary.period}",
    )


@flow(name="monthly-reconciliation", log_prints=True)
def monthly_reconciliation(
    period: str,
    registry: str,
    collections: list[str],
    allocations: list[str] | None = None,
    out: str = "out",
    db: str | None = None,
    config: str | None = None,
    as_of: date | None = None,
    lang: Lang = "zh",
    wait_s: float = 300.0,
    replace: bool = False,
) -> RunSummary:
    """Ingest, validate, reconcile, persist and report one period (SPEC §5).

    The flow's process holds the ledger around the tasks, which run in it
    (dues.run.lock); another run waits up to `wait_s` seconds, then refuses.
    """
    request = RunRequest(
        period=check_period(period),
        registry=Path(registry),
        collections=tuple(Path(p) for p in collections),
        allocations=tuple(Path(p) for p in allocations or ()),
        out=Path(out),
        db=db or Settings().database_url,
        config=Path(config) if config else None,
        as_of=as_of,
        lang=lang,
        wait_s=wait_s,
        replace=replace,
    )
    ctx: RunContext = preflight_task(request)
    try:
        with ledger_lock(request.db, ctx.run_id, ctx.period, wait_s):
            for run_stage in TASKS:
                run_stage(ctx)
            summary: RunSummary = summarize_task(ctx)
    finally:
        discard(ctx)
    publish_artifacts(summary)
    get_run_logger().info("report written to %s", summary.report)
    return summary


@flow(name="backfill", log_prints=True)
def backfill(
    start: str,
    end: str,
    registry: str,
    inputs: str,
    out: str = "out",
    db: str | None = None,
    config: str | None = None,
) -> list[RunSummary]:
    """Run the months start..end in order, each with its files found in `inputs`.

    Files are matched by name: collections_<YYYY-MM>.*, allocations_<YYYY-MM>.*.
    """
    from dues.periods import format_period, parse_period

    first = parse_period(check_period(start))
    last = parse_period(check_period(end))
    summaries: list[RunSummary] = []
    for period in (format_period(i) for i in range(first, last + 1)):
        folder = Path(inputs)
        collections = sorted(str(p) for p in folder.glob(f"collections_{period}.*"))
        allocations = sorted(str(p) for p in folder.glob(f"allocations_{period}.*"))
        summaries.append(
            monthly_reconciliation(
                period, registry, collections, allocations, out=out, db=db, config=config
            )
        )
    return summaries


@flow(name="scheduled-reconciliation", log_prints=True)
def scheduled_reconciliation(
    inbox: str = "inbox",
    registry: str = "inbox/registry.xlsx",
    period: str | None = None,
    out: str = "out",
    db: str | None = None,
    config: str | None = None,
) -> RunSummary:
    """What the office schedules: reconcile `period` (default: last month, Beijing time).

    The bureaus' files for a month are dropped into INBOX/<YYYY-MM>/; each file's
    kind (collections or allocations) is told from its header row.
    """
    from dues.inbox import files_for_period, previous_period

    chosen = period or previous_period()
    collections, allocations = files_for_period(Path(inbox), chosen)
    return monthly_reconciliation(
        chosen, registry, collections, allocations, out=out, db=db, config=config
    )
