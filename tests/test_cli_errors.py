"""A clerk's mistakes through the real `dues` command: one line, a non-zero exit, no
traceback, at once (issue 10, items 6 and 8).

Each case runs the installed console script in a child process, as a clerk would,
with this checkout's code first on the path and Prefect's logging at DEBUG (which
must change nothing: local mode never imports Prefect).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"
COLLECTIONS = FIXTURES / "collections_gbk_title_totals.csv"
TEMPLATE = FIXTURES / "collections_union_finance_template.xlsx"
# Seconds a refusal may take: a child Python starting on a shared two-core machine.
QUICK_S = 20.0


def _command() -> list[str]:
    script = Path(sys.executable).with_name("dues")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "from dues.cli import main; main()"]


@dataclass(frozen=True)
class Done:
    code: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


def dues(args: list[str], cwd: Path, user: int | None = None) -> Done:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env |= {
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
        "PREFECT_LOGGING_LEVEL": "DEBUG",
        "COLUMNS": "80",
    }
    start = time.perf_counter()
    done = subprocess.run(
        [*_command(), *args], cwd=cwd, env=env, capture_output=True, text=True,
        timeout=120, user=user,
    )  # fmt: skip
    return Done(done.returncode, done.stdout, done.stderr, time.perf_counter() - start)


def assert_one_clean_line(done: Done, *fragments: str) -> str:
    """Exactly one error line, containing every fragment; no traceback anywhere."""
    assert done.code != 0, done
    assert "Traceback" not in done.stdout + done.stderr, done.stderr
    assert len(done.error_lines) == 1, done.stderr
    (line,) = done.error_lines
    assert line.startswith("error: "), line
    assert not any(jargon in line for jargon in ("calamine", "EOCD", "Zip error")), line
    for fragment in fragments:
        assert fragment in line, line
    assert done.seconds < QUICK_S, done.seconds
    return line


# ---- the files a clerk gives by mistake ----------------------------------------------------


def _utf16(text: str) -> bytes:
    return text.encode("utf-16")  # Excel's "Unicode text": neither UTF-8 nor GB18030


CASES: dict[str, tuple[str, bytes | None, tuple[str, ...]]] = {
    # case: (file name, bytes (None: no file), what the line must say besides the name)
    "missing file": ("registry.xlsx", None, ("no such file",)),
    "a folder": ("registry.csv", b"", ()),  # made a folder below
    "wrong kind": (
        "registry.csv",
        COLLECTIONS.read_bytes(),
        ("this is a tax collection file", "not a unit registry", "which file went to which"),
    ),
    "missing column": (
        "registry.csv",
        "统一社会信用代码,单位名称\n91110000600037341L,甲公司\n".encode(),
        ("missing required column", "unit_type", "found: 统一社会信用代码, 单位名称"),
    ),
    "unreadable encoding": (
        "registry.csv",
        _utf16("统一社会信用代码,单位名称\n91110000600037341L,甲公司\n"),
        ("cannot decode",),
    ),
    "empty": ("registry.xlsx", b"", ("empty",)),
    "a PDF": ("registry.xlsx", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", ("PDF",)),
    "text": ("registry.xlsx", "单位名称,职工人数\n甲,3\n".encode(), ("a text file, not an Excel",)),
    "an HTML table named .xls": (
        "registry.xls",
        b"<html><body><table><tr><td>\xe5\x8d\x95</td></tr></table></body></html>",
        ("a web page", "not an Excel workbook"),
    ),
    "a PNG image": (
        "registry.xlsx",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01",
        ("an image, not an Excel workbook",),
    ),
    "a damaged zip": ("registry.xlsx", TEMPLATE.read_bytes()[:2000], ("a damaged zip archive",)),
}


def _make(folder: Path, case: str) -> Path:
    name, data, _ = CASES[case]
    path = folder / name
    if case == "a folder":
        path.mkdir()
    elif data is not None:
        path.write_bytes(data)
    return path


@pytest.mark.parametrize("case", list(CASES))
def test_a_run_refuses_a_file_it_cannot_use_in_one_line(tmp_path: Path, case: str) -> None:
    registry = _make(tmp_path, case)
    done = dues(
        ["run", "--period", "2026-08", "--registry", str(registry), "--collections",
         str(COLLECTIONS), "--out", "out", "--db", f"sqlite:///{tmp_path / 'l.db'}"],
        cwd=tmp_path,
    )  # fmt: skip
    assert_one_clean_line(done, registry.name, *CASES[case][2])
    assert not list((tmp_path / "out").glob("2026-08*"))


def test_validate_gives_one_line_per_file_it_cannot_use(tmp_path: Path) -> None:
    paths = []
    for i, case in enumerate(CASES):
        folder = tmp_path / f"case{i}"
        folder.mkdir()
        paths.append(_make(folder, case))
    done = dues(["validate", "--kind", "registry", *map(str, paths), "--out", "v"], tmp_path)
    assert done.code != 0 and "Traceback" not in done.stdout + done.stderr, done.stderr
    assert len(done.error_lines) == len(CASES), done.stderr
    for line, case in zip(done.error_lines, CASES, strict=True):
        assert line.startswith(f"error: {CASES[case][0]}: "), line
        assert all(fragment in line for fragment in CASES[case][2]), (case, line)
    assert not (tmp_path / "v").exists()  # nothing written, not even the folder
    assert done.seconds < QUICK_S


# ---- odd arguments and odd names (item 8), in this process: quicker, just as strict ------


def invoke(args: list[str], cwd: Path) -> Done:
    from typer.testing import CliRunner

    from dues.cli import app

    here = Path.cwd()
    os.chdir(cwd)
    try:
        start = time.perf_counter()
        result = CliRunner().invoke(app, args)
    finally:
        os.chdir(here)
    # An exception other than the command's own exit is what a clerk would see as a traceback.
    if not isinstance(result.exception, SystemExit | None):
        raise AssertionError("Traceback: the command raised") from result.exception
    return Done(result.exit_code, result.stdout, result.stderr, time.perf_counter() - start)


def test_odd_arguments_are_refused_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("x")
    run = ["run", "--registry", str(COLLECTIONS), "--collections", str(COLLECTIONS),
           "--out", "out", "--db", f"sqlite:///{tmp_path / 'l.db'}"]  # fmt: skip
    cases = [
        (["validate", str(COLLECTIONS), "--out", "a-file"], ("--out a-file is a file",)),
        (["validate", str(COLLECTIONS), "--out", "a-file/v"], ("not writable",)),
        ([*run, "--period", "0000-01"], ("--period '0000-01' is outside 2000-01 … 2099-12",)),
        ([*run, "--period", "2026-08", "--as-of", "+10000-01-01"], ("--as-of", "+10000-01-01")),
        ([*run, "--period", "2026-08", "--as-of", "1999-12-31"], ("--as-of", "1999-12-31")),
        # Every command that takes a period says so the same way, naming its option.
        (
            [
                "rerun",
                "--from",
                "2100-01",
                "--out",
                "out",
                "--db",
                f"sqlite:///{tmp_path / 'l.db'}",
            ],
            ("--from '2100-01' is outside 2000-01 … 2099-12",),
        ),
        (
            ["drive", "--period", "26-08", "--out", "d", "--db", f"sqlite:///{tmp_path / 'l.db'}"],
            ("--period must be YYYY-MM",),
        ),
        (
            [
                "notices",
                "--period",
                "0000-01",
                "--out",
                "n",
                "--db",
                f"sqlite:///{tmp_path / 'l.db'}",
            ],
            ("--period '0000-01' is outside",),
        ),
    ]
    for args, fragments in cases:
        assert_one_clean_line(invoke(args, tmp_path), *fragments)
    assert not (tmp_path / "l.db").exists()  # refused before the ledger is opened


@pytest.fixture
def read_only_folder(tmp_path: Path) -> Iterator[Path]:
    """A folder this process may not write in. Root may write anywhere a mode forbids,
    so for root the folder is made immutable instead (chattr +i)."""
    folder = tmp_path / "locked"
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)
        return
    chattr = shutil.which("chattr")
    if chattr is None or subprocess.run([chattr, "+i", str(folder)]).returncode != 0:
        pytest.skip("running as root on a file system without chattr +i: no folder is read-only")
    try:
        yield folder
    finally:
        subprocess.run([chattr, "-i", str(folder)], check=True)


def test_validate_refuses_a_read_only_out_folder_in_one_line(
    tmp_path: Path, read_only_folder: Path
) -> None:
    done = invoke(["validate", str(COLLECTIONS), "--out", "locked/v"], tmp_path)
    assert_one_clean_line(done, "--out locked/v", "not writable")
    done = invoke(["validate", str(COLLECTIONS), "--out", "locked"], tmp_path)
    assert_one_clean_line(done, "--out locked", "not writable")


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("a\nb.csv", "a\\nb.csv"),
        ("\x1b[31m.csv", "\\x1b[31m.csv"),
        ("[bold]x\u202e.csv", "[bold]x\\u202e.csv"),  # markup shown, bidi override escaped
    ],
)
def test_file_names_are_echoed_escaped_never_raw(tmp_path: Path, name: str, shown: str) -> None:
    (tmp_path / name).write_bytes(b"")
    done = invoke(["validate", name, "--out", "v"], tmp_path)
    line = assert_one_clean_line(done, f"error: {shown}: the file is empty")
    assert line == f"error: {shown}: the file is empty"
    assert "\x1b" not in done.stderr + done.stdout and "\u202e" not in done.stderr


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("collections_2026-08.csv", "collections_2026-08.csv"),
        ("代收　明细.xlsx", "代收　明细.xlsx"),  # a full-width space is a space, not a control
        ("a\nb\r\tc", "a\\nb\\r\\tc"),
        ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"),
        ("abc\u202etxt.exe", "abc\\u202etxt.exe"),  # a right-to-left override spoofs the name
        ("\x00\x7f", "\\x00\\x7f"),
    ],
)
def test_one_line_escapes_what_a_terminal_would_act_on(text: str, shown: str) -> None:
    from dues.errors import one_line

    assert one_line(text) == shown
