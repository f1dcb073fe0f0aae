"""The Prefect wiring: the monthly flow, its artifacts, the deployment file, and `dues run`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
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
