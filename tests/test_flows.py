"""The Prefect wiring: the monthly flow, its artifacts, the deployment file, and `dues run`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

ROOT = Path(__file__).resolve().parents[1]
from _paths import COUNTY, county_summary  # noqa: E402

SUMMARY = county_summary()


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    # One temporary Prefect server for the whole session: each costs about 10 s.
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.mark.usefixtures("county")
def test_monthly_flow_runs_the_pipeline_and_publishes_artifacts(
    prefect_harness: None, tmp_path: Path
) -> None:
    from prefect.artifacts import Artifact

    from flows.monthly import monthly_reconciliation

    run = SUMMARY["runs"][0]
    inputs = COUNTY / "inputs"
    summary = monthly_reconciliation(
        period=run["period"],
        registry=str(inputs / SUMMARY["registry"]),
        collections=[str(inputs / f) for f in run["collections"]],
        allocations=[str(inputs / f) for f in run["allocations"]],
        out=str(tmp_path / "out"),
        db=f"sqlite:///{tmp_path / 'l.db'}",
    )
    assert summary.quarantined == run["quarantined_rows_in_this_run"]
    assert summary.report.is_file()
    markdown = Artifact.get("dues-summary")
    assert markdown is not None and run["period"] in str(markdown.data)
    table = Artifact.get("dues-collection-rates")
    assert table is not None
    rows = json.loads(str(table.data))
    assert rows[-1]["jurisdiction"] == "全县"


@pytest.mark.usefixtures("county")
def test_backfill_runs_months_in_order(prefect_harness: None, tmp_path: Path) -> None:
    from flows.monthly import backfill

    summaries = backfill(
        start="2026-07",
        end="2026-08",
        registry=str(COUNTY / "inputs" / SUMMARY["registry"]),
        inputs=str(COUNTY / "inputs"),
        out=str(tmp_path / "out"),
        db=f"sqlite:///{tmp_path / 'l.db'}",
    )
    assert [s.period for s in summaries] == ["2026-07", "2026-08"]
    assert [s.unmatched for s in summaries] == [0, 1]


def test_deployment_file_names_a_monthly_cron_in_beijing_time() -> None:
    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    (deployment,) = spec["deployments"]
    module, _, name = deployment["entrypoint"].partition(":")
    assert (ROOT / module).is_file()
    import flows.monthly

    assert callable(getattr(flows.monthly, name))
    (schedule,) = deployment["schedules"]
    assert schedule["cron"] == "0 6 5 * *"
    assert schedule["timezone"] == "Asia/Shanghai"


def test_the_flow_makes_a_task_of_each_stage_of_dues_run() -> None:
    from dues.run import STAGES
    from flows.monthly import TASKS

    assert [t.name for t in TASKS] == [s.name for s in STAGES]
    assert [t.fn for t in TASKS] == [s.run for s in STAGES]
    assert [t.retries for t in TASKS] == [s.retries for s in STAGES]


# ---- failures: retried only when they may pass, logged without a traceback (issue 10) --------

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"


def _flow_run(state: object) -> tuple[dict[str, object], dict[str, int]]:
    """The parameters Prefect stored for a flow run, and the run count of each task."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    flow_run_id = state.state_details.flow_run_id  # type: ignore[attr-defined]
    with get_client(sync_client=True) as client:
        flow_run = client.read_flow_run(flow_run_id)
        tasks = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
        )
    return flow_run.parameters, {t.name.rsplit("-", 1)[0]: t.run_count for t in tasks}


def test_a_deterministic_failure_is_not_retried_and_logs_no_traceback(
    prefect_harness: None, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from flows.monthly import monthly_reconciliation

    (tmp_path / "registry.xlsx").write_bytes(PDF)
    (tmp_path / "c.csv").write_text("x\n")
    state = monthly_reconciliation(
        period="2026-08",
        registry=str(tmp_path / "registry.xlsx"),
        collections=[str(tmp_path / "c.csv")],
        out=str(tmp_path / "out"),
        db=f"sqlite:///{tmp_path / 'l.db'}",
        return_state=True,
    )
    assert state.is_failed()
    _, run_counts = _flow_run(state)
    assert run_counts["ingest"] == 1  # three on main: two retries, 5 s apart
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert errors and all("registry.xlsx: the file is a PDF" in r.getMessage() for r in errors)
    assert all(r.exc_info is None and not r.exc_text for r in errors)  # the message, no traceback


@pytest.mark.parametrize(
    ("error", "retried"),
    [
        (OSError(5, "Input/output error"), True),  # a network share hiccup
        (ConnectionResetError(104, "Connection reset by peer"), True),
        (FileNotFoundError(2, "No such file"), False),
        (PermissionError(13, "Permission denied"), False),
        (IsADirectoryError(21, "Is a directory"), False),
        (ValueError("not a number"), False),
    ],
)
def test_a_stage_is_retried_only_after_a_failure_that_may_pass(
    error: Exception, retried: bool
) -> None:
    from prefect.states import Failed

    from dues.run import STAGES, RunError
    from dues.store import StoreError
    from flows.monthly import TASKS, retry_if_transient

    assert all(t.retry_condition_fn is retry_if_transient for t in TASKS)
    assert any(s.retries for s in STAGES)  # else there is nothing to decide
    assert retry_if_transient(TASKS[0], None, Failed(data=error)) is retried  # type: ignore[arg-type]
    # Wrapped as the stages wrap it, the verdict is the same.
    for wrapper in (RunError, StoreError):
        try:
            try:
                raise error
            except Exception as cause:
                raise wrapper(str(cause)) from cause
        except Exception as wrapped:
            verdict = retry_if_transient(TASKS[0], None, Failed(data=wrapped))  # type: ignore[arg-type]
            assert verdict is retried


def test_a_dropped_database_connection_is_retried_a_bad_query_is_not() -> None:
    import sqlalchemy as sa
    from prefect.states import Failed

    from dues.store import StoreError
    from flows.monthly import TASKS, retry_if_transient

    def store_error(invalidated: bool) -> StoreError:
        cause = sa.exc.OperationalError("COMMIT", {}, Exception("server closed the connection"))
        cause.connection_invalidated = invalidated
        error = StoreError("cannot commit")
        error.__cause__ = cause
        return error

    assert retry_if_transient(TASKS[0], None, Failed(data=store_error(True)))  # type: ignore[arg-type]
    assert not retry_if_transient(TASKS[0], None, Failed(data=store_error(False)))  # type: ignore[arg-type]


def test_the_cli_in_prefect_mode_gives_the_error_line_and_no_traceback(
    prefect_harness: None, tmp_path: Path
) -> None:
    import os
    import subprocess
    import sys

    from prefect.settings import PREFECT_API_URL

    (tmp_path / "registry.xlsx").write_bytes(PDF)
    (tmp_path / "c.csv").write_text("x\n")
    env = os.environ | {
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        "PREFECT_LOGGING_LEVEL": "DEBUG",
    }
    script = "from dues.cli import main; main()"
    done = subprocess.run(
        [sys.executable, "-c", script, "run", "--period", "2026-08", "--registry",
         "registry.xlsx", "--collections", "c.csv", "--db", f"sqlite:///{tmp_path / 'l.db'}"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert "Retry" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("error: registry.xlsx: the file is a PDF"), done.stderr


# ---- no secret in Prefect's database (issue 10, item 8) -----------------------------------

SECRET_URL = "postgresql+psycopg://postgres:s3cret-pw@127.0.0.1:5432/test"


@pytest.mark.parametrize("given_by", ["--db", "DUES_DATABASE_URL"])
def test_the_flow_parameters_never_carry_the_database_password(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, given_by: str
) -> None:
    from dues.run import RunRequest
    from dues.settings import Settings
    from flows.monthly import flow_parameters

    monkeypatch.delenv("DUES_DATABASE_URL", raising=False)
    if given_by == "DUES_DATABASE_URL":
        monkeypatch.setenv("DUES_DATABASE_URL", SECRET_URL)
    db = SECRET_URL if given_by == "--db" else Settings().database_url  # as `dues run` does
    request = RunRequest(period="2026-08", registry=tmp_path / "r.xlsx", collections=(), db=db)
    parameters = flow_parameters(request)
    assert "s3cret-pw" not in json.dumps(parameters, default=str)
    assert parameters["db"] == "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def test_the_worker_finds_the_password_in_its_environment_not_in_a_parameter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from dues.dburl import with_password, without_password

    public = without_password(SECRET_URL)
    monkeypatch.setenv("DUES_DATABASE_URL", SECRET_URL)
    assert with_password(public) == SECRET_URL
    # Another database's password is never lent to this one.
    other = "postgresql+psycopg://postgres@127.0.0.1:5432/other"
    assert with_password(other) == other
    assert with_password(other, lambda: "from-a-secret-block").endswith(
        ":from-a-secret-block@127.0.0.1:5432/other"
    )
    monkeypatch.delenv("DUES_DATABASE_URL")
    assert with_password(public) == public  # left to PGPASSWORD or ~/.pgpass


@pytest.mark.postgres
@pytest.mark.parametrize("given_by", ["--db", "DUES_DATABASE_URL"])
def test_prefect_stores_no_password_for_a_run_of_dues_run(
    prefect_harness: None,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    given_by: str,
    pg_schema_url: str,
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.sorting import FlowRunSort
    from prefect.settings import PREFECT_API_URL
    from typer.testing import CliRunner

    from dues.cli import app

    monkeypatch.setenv("PREFECT_API_URL", str(PREFECT_API_URL.value()))
    monkeypatch.delenv("DUES_DATABASE_URL", raising=False)
    # A schema of its own on the test server (the run opens the ledger before it fails):
    # never the shared database, which other checkouts' ledgers may have migrated.
    public = sa.make_url(pg_schema_url).set(password=None)
    secret = public.set(password="s3cret-pw").render_as_string(hide_password=False)
    db: list[str] = ["--db", secret]
    if given_by == "DUES_DATABASE_URL":
        monkeypatch.setenv("DUES_DATABASE_URL", secret)
        db = []
    (tmp_path / "registry.xlsx").write_bytes(PDF)  # the flow fails at once; its run is stored
    (tmp_path / "c.csv").write_text("x\n")
    result = CliRunner().invoke(
        app,
        ["run", "--period", "2026-08", "--registry", str(tmp_path / "registry.xlsx"),
         "--collections", str(tmp_path / "c.csv"), "--out", str(tmp_path / "out"), *db],
    )  # fmt: skip
    assert result.exit_code == 2 and "the file is a PDF" in result.output, result.output
    with get_client(sync_client=True) as client:
        (latest,) = client.read_flow_runs(sort=FlowRunSort.EXPECTED_START_TIME_DESC, limit=1)
    assert latest.parameters["registry"] == str(tmp_path / "registry.xlsx")
    assert "s3cret-pw" not in json.dumps(latest.parameters, default=str)
    assert latest.parameters["db"] == public.render_as_string(hide_password=False)


def test_the_deployment_file_passes_no_database_url() -> None:
    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    (deployment,) = spec["deployments"]
    assert "db" not in deployment["parameters"]  # the worker's DUES_DATABASE_URL is used
