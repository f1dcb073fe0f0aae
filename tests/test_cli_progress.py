"""What a clerk sees of `dues run` (issue 11, item 5): the stages with their times on a
terminal, nothing but the summary elsewhere, and the summary in the workbook's language.

The terminal is a real pseudo-terminal (os.openpty) around the installed command, as a
clerk's shell is; the county is test_stages' tiny one (甲 with its union, 乙 without).
"""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_stages import REGISTRY, csv, line
from typer.testing import CliRunner

from dues.cli import app
from dues.run import STAGES

ROOT = Path(__file__).resolve().parents[1]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PREFECT_API") and k not in ("FORCE_COLOR", "TTY_COMPATIBLE")
    }
    return env | {
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
        "COLUMNS": "100",
        "TERM": "xterm",
    }


def _command() -> list[str]:
    script = Path(sys.executable).with_name("dues")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "from dues.cli import main; main()"]


def county(folder: Path, *lines: str) -> list[str]:
    """`dues run` of October on the tiny county in `folder`, its ledger there too."""
    registry = folder / "registry.csv"
    registry.write_text(REGISTRY, encoding="utf-8")
    collections = csv(folder, "c.csv", *lines)
    return ["run", "--period", "2026-10", "--registry", str(registry),
            "--collections", str(collections), "--out", str(folder / "out"),
            "--db", f"sqlite:///{folder / 'ledger.db'}"]  # fmt: skip


def on_a_terminal(args: list[str], cwd: Path) -> tuple[int, str]:
    """Run `dues ARGS` with stdin, stdout and stderr on one pseudo-terminal: its exit
    code and everything it wrote there, escape sequences taken out."""
    master, slave = os.openpty()
    child = subprocess.Popen(
        [*_command(), *args], cwd=cwd, env=_env(), stdin=slave, stdout=slave, stderr=slave
    )
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1.0)
            if not ready:
                if child.poll() is not None:
                    break
                continue
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed its terminal
                break
            if not data:
                break
            chunks.append(data)
        code = child.wait(timeout=30)
    finally:
        os.close(master)
        if child.poll() is None:
            child.kill()
    return code, ANSI.sub("", b"".join(chunks).decode("utf-8", "replace"))


def finished_stages(text: str, seconds: str) -> list[str]:
    """The stages a ✓ line says finished, in the order said, each with a time."""
    return re.findall(rf"✓ (\S+) .*? \d+\.\d {seconds}", text)


def test_on_a_terminal_each_stage_is_shown_as_it_finishes_with_its_time(tmp_path: Path) -> None:
    code, text = on_a_terminal(county(tmp_path, line("R1", "2026-10", "100.00")), tmp_path)
    assert code == 0, text
    assert finished_stages(text, "秒") == [stage.name for stage in STAGES]
    # The stages come before the summary, which follows them whole.
    assert text.index("✓ publish") < text.index("实缴合计") < text.index("报表：")


def test_on_a_terminal_the_failed_stage_is_marked_and_the_error_is_one_line(
    tmp_path: Path,
) -> None:
    args = county(tmp_path)
    (tmp_path / "c.csv").write_text("no header here\n", encoding="utf-8")
    code, text = on_a_terminal([*args, "--lang", "en"], tmp_path)
    assert code == 2, text
    assert "Traceback" not in text
    # Written after the spinner went: the last two lines, whole, as a terminal shows them.
    tail = text[text.rindex("✗") :].replace("\r\n", "\n").rstrip("\r\n").split("\n")
    assert len(tail) == 2 and "\r" not in "".join(tail), tail
    assert re.fullmatch(r"✗ ingest .* failed \d+\.\d s", tail[0]), tail
    assert tail[1].startswith("error: c.csv: no header row"), tail


def test_off_a_terminal_a_run_says_nothing_but_its_summary(tmp_path: Path) -> None:
    done = subprocess.run(
        [*_command(), *county(tmp_path, line("R1", "2026-10", "100.00"))],
        cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert not any(stage.name in done.stdout for stage in STAGES), done.stdout
    assert "\x1b" not in done.stdout and "\r" not in done.stdout
    said = [ln for ln in done.stdout.splitlines() if ln.strip()]
    assert said[0].startswith("台账：sqlite:///"), said
    assert said[-1] == "报表：" + str(tmp_path / "out" / "2026-10" / "report.xlsx"), said


# The tiny county's October run: 甲 owes 100.00 for September and paid 60.00; 乙, with no
# union, is visited by the founding drive.
SUMMARY = {
    "zh": [
        "工会经费 2026-10",
        "│ 应缴合计(已到期月份) │ 100.00 │",
        "│ 实缴合计 │ 60.00 │",
        "│ 欠缴合计 │ 40.00 │",
        "│ 多缴合计 │ 0.00 │",
        "│ 未匹配税票 │ 0 行 · 0.00 │",
        "│ 隔离记录行数 │ 0 │",
        "│ 待推动建会 │ 1 个单位 │",
        "报表：",
        "台账：",
    ],
    "en": [
        "dues 2026-10",
        "│ expected (due months) │ 100.00 │",
        "│ paid │ 60.00 │",
        "│ arrears │ 40.00 │",
        "│ credit │ 0.00 │",
        "│ unmatched receipts │ 0 · 0.00 │",
        "│ quarantined rows │ 0 │",
        "│ founding drive │ 1 units │",
        "report: ",
        "ledger: ",
    ],
}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_summary_is_in_the_workbook_language(tmp_path: Path, lang: str) -> None:
    # 甲's September, due by October's end: 1% of 10,000.00, 60.00 paid.
    args = county(tmp_path, line("R1", "2026-09", "60.00"))
    result = CliRunner().invoke(app, [*args, "--lang", lang], env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    for text in SUMMARY[lang]:
        assert " ".join(text.split()) in said, (text, result.output)
    other = SUMMARY["en" if lang == "zh" else "zh"]
    assert not any(" ".join(t.split()) in said for t in other[1:]), result.output
