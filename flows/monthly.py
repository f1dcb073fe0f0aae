"""The monthly reconciliation as a Prefect flow: the stages of `dues.run` as tasks.

Wiring only: each of `dues.run.STAGES` becomes a task of the same name. Tasks hand
each other the run's context (its work folder), never frames, so a retry sees
exactly what the previous task wrote. A stage is retried only after a failure that
can pass by itself (`dues.errors.is_transient`): a missing file, a PDF named .xlsx or
a missing column fails at once, never three times.

No parameter carries a secret: Prefect stores parameters and shows them in its UI, so
`db` comes without its password (`flow_parameters`), and the flow takes the password
on the worker from DUES_DATABASE_URL or the Secret block `dues-database-password`
(`dues.dburl`).

An expected failure (dues.errors.EXPECTED: a file that cannot be used, a refused
request, a ledger that cannot be opened) is logged by Prefect as its one-line
message, without the traceback Prefect's loggers would add (`quiet_expected_errors`).
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import Any

# dues before Prefect: importing dues sets Prefect's privacy defaults (no analytics, no
# telemetry; dues/__init__.py), which Prefect reads when it is first imported.
import dues  # noqa: F401

# isort: split
from prefect import Task, flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import State, TaskRun

from dues.dburl import with_password, without_password
from dues.errors import is_transient
from dues.readers import InputError
from dues.report.labels import Lang
from dues.run import (
    STAGES,
    RunContext,
    RunError,
    RunRequest,
    RunSummary,
    check_period,
    discard,
    preflight,
)
from dues.run import summarize as summarize_run
from dues.run.lock import ledger_lock
from dues.run.recovery import settle
from dues.settings import Settings
from dues.store import StoreError
from dues.summary import jurisdiction_rates, markdown_summary

SECRET_BLOCK = "dues-database-password"
# Failures whose message says all a clerk needs: Prefect logs them without a traceback.
EXPECTED = (RunError, InputError, StoreError)


class _WithoutTraceback(logging.Filter):
    """Drops the traceback of an expected failure from a log record (the message stays)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], EXPECTED):
            record.exc_info = None
            record.exc_text = None
        return True


def quiet_expected_errors() -> None:
    """Put `_WithoutTraceback` on every handler Prefect's logging set up (the console
    and the API log alike): Prefect logs a failed task and flow with exc_info=True."""
    loggers = [logging.getLogger(), logging.getLogger("prefect")]
    loggers += [
        logger
        for name, logger in logging.Logger.manager.loggerDict.items()
        if name.startswith("prefect.") and isinstance(logger, logging.Logger)
    ]
    for handler in {h for logger in loggers for h in logger.handlers}:
        if not any(isinstance(f, _WithoutTraceback) for f in handler.filters):
            handler.addFilter(_WithoutTraceback())


def retry_if_transient(_task: Task[Any, Any], _run: TaskRun, state: State[Any]) -> bool:
    """Prefect's retry condition: only a failure that may pass (dues.errors.is_transient)."""
    try:
        state.result()
    except BaseException as error:  # the state's exception, re-raised to read it
        return is_transient(error)
    return False


TASKS: tuple[Task[[RunContext], None], ...] = tuple(
    task(
        name=stage.name,
        retries=stage.retries,
        retry_delay_seconds=stage.retry_delay_s,
        retry_condition_fn=retry_if_transient,
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


def _secret_password() -> str | None:
    """The database password from the Prefect Secret block, if the server has one."""
    from prefect.blocks.system import Secret

    try:
        return str(Secret.load(SECRET_BLOCK).get())  # type: ignore[union-attr]
    except Exception:  # no block (ValueError), no server: the URL as it is
        return None


def flow_parameters(request: RunRequest) -> dict[str, Any]:
    """The parameters of `monthly_reconciliation` for `request`: every one of them is
    stored by Prefect and shown in its UI, so the database URL goes without a password."""
    return {
        "period": request.period,
        "registry": str(request.registry),
        "collections": [str(p) for p in request.collections],
        "allocations": [str(p) for p in request.allocations],
        "out": str(request.out),
        "db": without_password(request.db),
        "config": str(request.config) if request.config else None,
        "as_of": request.as_of,
        "lang": request.lang,
        "wait_s": request.wait_s,
        "replace": request.replace,
    }


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
    (dues.run.lock); another run waits up to `wait_s` seconds, then refuses. Taking
    it settles what crashed runs left (dues.run.recovery).
    """
    quiet_expected_errors()
    request = RunRequest(
        period=check_period(period),
        registry=Path(registry),
        collections=tuple(Path(p) for p in collections),
        allocations=tuple(Path(p) for p in allocations or ()),
        out=Path(out),
        # The password is looked up here, on the worker, and never becomes a parameter.
        db=with_password(db, _secret_password) if db else Settings().database_url,
        config=Path(config) if config else None,
        as_of=as_of,
        lang=lang,
        wait_s=wait_s,
        replace=replace,
    )
    ctx: RunContext = preflight_task(request)
    locked = False
    try:
        with ledger_lock(request.db, ctx.run_id, ctx.period, wait_s, out=request.out):
            locked = True
            try:
                for run_stage in TASKS:
                    run_stage(ctx)
                summary: RunSummary = summarize_task(ctx)
            finally:
                settle(ctx)  # holding the ledger: a committed run is published (dues.run.recovery)
    finally:
        if not locked:
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
