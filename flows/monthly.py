"""The monthly reconciliation as a Prefect flow: the stages of `dues.pipeline` as tasks.

Tasks hand each other paths (the run's work folder), never frames, so a retry or
a worker in another process sees exactly what the previous task wrote.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from dues import pipeline
from dues.pipeline import RunContext, RunRequest, RunSummary
from dues.summary import jurisdiction_rates, markdown_summary

# Reading files on a network share is what fails transiently; rules never need a retry.
preflight = task(name="preflight", cache_policy=NO_CACHE)(pipeline.preflight)
ingest = task(name="ingest", retries=2, retry_delay_seconds=5, cache_policy=NO_CACHE)(
    pipeline.ingest
)
merge = task(name="merge-with-ledger", cache_policy=NO_CACHE)(pipeline.merge_history)
reconcile = task(name="reconcile", cache_policy=NO_CACHE)(pipeline.reconcile_stage)
# The commit itself is one transaction; a retry after a dropped connection is safe.
report_and_commit = task(
    name="report-and-commit", retries=1, retry_delay_seconds=10, cache_policy=NO_CACHE
)(pipeline.report_and_commit)


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
    db: str = "sqlite:///var/dues.db",
    config: str | None = None,
    as_of: date | None = None,
    lang: str = "zh",
) -> RunSummary:
    """Ingest, validate, reconcile, persist and report one period (SPEC §5)."""
    request = RunRequest(
        period=pipeline.check_period(period),
        registry=Path(registry),
        collections=tuple(Path(p) for p in collections),
        allocations=tuple(Path(p) for p in allocations or ()),
        out=Path(out),
        db=db,
        config=Path(config) if config else None,
        as_of=as_of,
        lang=lang,
    )
    ctx: RunContext = preflight(request)
    try:
        stage = ingest(ctx)
        merged = merge(ctx, stage)
        reconcile(ctx, merged)
        summary: RunSummary = report_and_commit(ctx, merged)
    finally:
        pipeline.discard(ctx)
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
    db: str = "sqlite:///var/dues.db",
    config: str | None = None,
) -> list[RunSummary]:
    """Run the months start..end in order, each with its files found in `inputs`.

    Files are matched by name: collections_<YYYY-MM>.*, allocations_<YYYY-MM>.*.
    """
    from dues.periods import format_period, parse_period

    first = parse_period(pipeline.check_period(start))
    last = parse_period(pipeline.check_period(end))
    summaries = []
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
    db: str = "sqlite:///var/dues.db",
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
