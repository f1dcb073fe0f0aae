"""The `dues` command line: its refusals, its SPEC §5 argument form, `dues validate`."""

from __future__ import annotations

from pathlib import Path

import pytest
from _paths import COUNTY
from typer.testing import CliRunner

from dues.cli import app

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--period", "2026-13"], "--period must be YYYY-MM"),
        (["--period", "2026-07", "--as-of", "someday"], "--as-of must be a date"),
    ],
)
def test_cli_refuses_bad_arguments_before_any_work(
    tmp_path: Path, args: list[str], message: str
) -> None:
    base = ["run", "--registry", "r.xlsx", "--collections", "c.csv", "--out", str(tmp_path)]
    result = CliRunner().invoke(app, [*base, *args])
    assert result.exit_code == 2
    assert message in result.output
    assert list(tmp_path.iterdir()) == []


@pytest.mark.usefixtures("county")
def test_cli_reports_an_unreachable_prefect_api(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
    inputs = COUNTY / "inputs"
    result = CliRunner().invoke(
        app,
        ["run", "--period", "2026-07", "--registry", str(inputs / "registry.xlsx"),
         "--collections", str(inputs / "collections_2026-07.xlsx"), "--out", str(tmp_path)],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "Prefect API at http://127.0.0.1:9/api is unreachable" in result.output


@pytest.mark.parametrize(
    ("argv", "expanded"),
    [
        (["--collections", "a", "b"], ["--collections", "a", "--collections", "b"]),
        (
            ["--collections", "a", "--allocations", "x", "y", "--out", "o"],
            ["--collections", "a", "--allocations", "x", "--allocations", "y", "--out", "o"],
        ),
        (["--period", "2026-10", "--registry", "r"], ["--period", "2026-10", "--registry", "r"]),
    ],
)
def test_a_list_may_follow_one_flag_as_the_spec_writes_it(
    argv: list[str], expanded: list[str]
) -> None:
    from dues.cli import expand_multi_value_options

    assert expand_multi_value_options(["run", *argv]) == ["run", *expanded]


def test_validate_accounts_for_every_row_and_counts_lines_without_a_paid_date(
    tmp_path: Path,
) -> None:
    template = FIXTURES / "collections_union_finance_template.xlsx"
    result = CliRunner().invoke(
        app, ["validate", str(template), "--out", str(tmp_path)], terminal_width=200
    )
    assert result.exit_code == 0, result.output
    lines = {line.strip("│┃ ").split("│")[0].strip(): line for line in result.output.splitlines()}
    assert "holds" in lines["conservation"]
    assert "3" in lines["without paid date"]  # the template has no 入库日期 column
    assert (tmp_path / "accepted.parquet").is_file() and (tmp_path / "quarantine.parquet").is_file()


def test_validate_names_the_file_it_cannot_read(tmp_path: Path) -> None:
    fake = tmp_path / "代收.xlsx"
    fake.write_bytes(b"%PDF-1.7 not a workbook")
    result = CliRunner().invoke(app, ["validate", str(fake), "--out", str(tmp_path / "v")])
    assert result.exit_code == 2
    assert "代收.xlsx" in result.output


@pytest.mark.usefixtures("county")
def test_without_a_prefect_server_a_run_happens_in_this_process_without_prefect(
    tmp_path: Path,
) -> None:
    import json
    import os
    import subprocess
    import sys

    inputs = COUNTY / "inputs"
    script = (
        "import sys\n"
        "from dues.cli import main\n"
        "sys.argv = ['dues', 'run', '--period', '2026-07', '--registry', sys.argv[1],\n"
        "            '--collections', sys.argv[2], '--allocations', sys.argv[3]]\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exit:\n"
        "    assert not exit.code, exit.code\n"
        "assert 'prefect' not in sys.modules, 'local mode imported Prefect'\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    (tmp_path / "dues.toml").write_text('[ledger]\nurl = "sqlite:///ledger.db"\n')
    done = subprocess.run(
        [sys.executable, "-c", script, str(inputs / "registry.xlsx"),
         str(inputs / "collections_2026-07.xlsx"), str(inputs / "allocations_2026-07.csv")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    # Said in the workbook's language, Chinese by default (dues.cli_text).
    assert "报表：out/2026-07/report.xlsx" in done.stdout
    assert f"台账：sqlite:///{tmp_path / 'ledger.db'} — 空：这是它的第一次运行" in (
        " ".join(done.stdout.split())
    )
    history = CliRunner().invoke(
        app, ["runs", "--json", "--db", f"sqlite:///{tmp_path / 'ledger.db'}"]
    )
    assert history.exit_code == 0, history.output
    (run,) = [json.loads(line) for line in history.output.splitlines()]
    assert (run["period"], run["status"], run["inputs"], run["stale"]) == (
        "2026-07",
        "completed",
        3,
        False,
    )
    assert run["arrears_fen"] == 7_301_029  # the example county's July (SPEC §4 rule 8)


@pytest.mark.parametrize("entry", ["dues.cli", "flows.monthly"])
def test_prefect_analytics_and_telemetry_are_off_wherever_dues_runs(
    tmp_path: Path, entry: str
) -> None:
    """From a folder without the repository's prefect.toml, importing dues is enough."""
    import json
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    script = (
        f"import json, os, {entry}\n"
        "from prefect.settings import get_current_settings\n"
        "from prefect._internal.analytics.enabled import is_telemetry_enabled\n"
        "s = get_current_settings()\n"
        "print(json.dumps({'server': s.server.analytics_enabled,\n"
        "    'cloud': s.cloud.enable_orchestration_telemetry,\n"
        "    'sdk': is_telemetry_enabled(), 'do_not_track': os.environ.get('DO_NOT_TRACK')}))\n"
    )
    ci_markers = ("CI", "GITHUB_ACTIONS", "GITLAB_CI", "BUILDKITE", "JENKINS_URL", "TF_BUILD")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PREFECT_") and k != "DO_NOT_TRACK" and k not in ci_markers
    }
    env["PYTHONPATH"] = os.pathsep.join([str(root / "src"), str(root)])
    env["PREFECT_HOME"] = str(tmp_path / "prefect-home")  # no profile of this machine's
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {"server": False, "cloud": False, "sdk": False, "do_not_track": "1"}
