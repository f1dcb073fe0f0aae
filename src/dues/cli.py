"""The `dues` command line: validate bureau files, generate a sample county, run a period."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from dues.cli_text import say as text
from dues.cli_text import stage_label
from dues.errors import one_line
from dues.readers import InputError
from dues.summary import yuan

if TYPE_CHECKING:
    from rich.progress import Progress

    from dues.report.labels import Lang
    from dues.run import RunRequest, RunSummary, StageEvent, StageHook
    from dues.validate import ValidateResult

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Reconcile trade-union dues and preparatory-fund collections (SPEC §5).",
    # A traceback's locals would print the database URL, password and all.
    pretty_exceptions_show_locals=False,
)
DB_HELP = (
    "Database URL (default: DUES_DATABASE_URL, else the ledger a dues.toml here or in a "
    "folder above names, else your own: ~/.local/share/dues/ledger.db)."
)
console = Console()
err_console = Console(stderr=True)

# Options several commands share, declared once.
DbOption = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(help=DB_HELP),
]
OutOption = Annotated[Path, typer.Option(help="Output folder; results go to OUT/<period>/.")]
LangOption = Annotated[
    str, typer.Option(help="Language of the workbook and of what the command says: zh or en.")
]
WaitOption = Annotated[
    float,
    typer.Option(
        "--wait",
        min=0,
        metavar="SECONDS",
        help="How long to wait for another run holding the ledger before refusing.",
    ),
]


def workbook_lang(lang: str) -> Lang:
    """--lang checked: the workbook's language, or the one error line."""
    if lang == "zh":
        return "zh"
    if lang == "en":
        return "en"
    raise fail(f"--lang must be zh or en, not {lang!r}")


def period_option(value: str, option: str = "--period") -> str:
    """A period option checked (YYYY-MM, SPEC §3's plausible range), or the one error line."""
    from dues.periods import check_period

    try:
        return check_period(value)
    except ValueError as exc:
        raise fail(f"{option} {str(exc).removeprefix('period ')}") from exc


def cannot_write(out: Path, error: OSError) -> typer.Exit:
    """The one error line of a command whose --out could not be written (a full disk, a
    folder gone, no permission)."""
    return fail(f"--out {out}: cannot write ({error.strerror or error})")


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print `message` as the one error line of the command; the exit to raise."""
    print_error(message)
    return typer.Exit(code)


def print_error(message: str) -> None:
    """One line on stderr, whatever `message` holds: a file name's newlines and escape
    sequences shown escaped (dues.errors.one_line), its brackets never taken for markup."""
    err_console.print(
        f"[bold red]error:[/] {escape(one_line(message))}", highlight=False, soft_wrap=True
    )


def shown(value: object) -> str:
    """A file name or path as stdout shows it: escaped like an error line."""
    return escape(one_line(str(value)))


def check_output_folder(out: Path) -> bool:
    """`--out` must be a folder this process can write in (created if missing): checked
    before any file is read, so a refusal costs nothing. True if it was created."""
    import tempfile

    if out.exists() and not out.is_dir():
        raise fail(f"--out {out} is a file, not a folder")
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as exc:
        raise fail(f"--out {out}: the folder is not writable ({exc.strerror or exc})") from exc
    return created


class StageProgress:
    """The stages of a run as they start and finish, with their times, on a terminal.

    Shown on stderr while it is a terminal; anywhere else (a pipe, a file, a test) the
    run says nothing until its summary, and an error stays the one line it is. The
    stage running has a spinner and its time so far; each finished stage stays as one
    line, and the spinner is gone before any other line is written. `hook` is the plain
    callback `dues.run` takes (dues.run.stages.StageHook).
    """

    def __init__(self, lang: Lang, out: Console | None = None) -> None:
        self.lang: Lang = lang
        self.console = out or err_console
        self.live: Progress | None = None  # the running stage's spinner

    def hook(self) -> StageHook | None:
        """The callback to give a run; None off a terminal (nothing is shown)."""
        return self.on_stage if self.console.is_terminal else None

    def heading(self, line: str) -> None:
        """A line above the stages (`dues rerun`: the period re-derived next)."""
        if self.console.is_terminal:
            self.stop()
            self.console.print(line, highlight=False, soft_wrap=True)

    def on_stage(self, name: str, event: StageEvent, seconds: float) -> None:
        label = stage_label(name, self.lang)
        self.stop()  # a stage's spinner goes before anything else is written
        if event == "start":
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self.live = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )
            self.live.add_task(f"{name:<18} {label}")
            self.live.start()
            return
        took = text("stage.seconds", self.lang, seconds=seconds)
        if event == "done":
            line = f"[green]✓[/] {name:<18} {label}  [dim]{took}[/]"
        else:
            line = f"[red]✗[/] {name:<18} {label}  [red]{text('stage.failed', self.lang)}[/] {took}"
        self.console.print(line, highlight=False, soft_wrap=True)

    def stop(self) -> None:
        """End the spinner, if one turns (at the run's end, however it ends)."""
        if self.live is not None:
            self.live.stop()
            self.live = None


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="Input files (.xlsx, .xls, .csv).")],
    out: Annotated[Path, typer.Option(help="Folder for accepted.parquet and quarantine.parquet.")],
    kind: Annotated[
        Optional[str],  # noqa: UP045 - typer needs Optional on 3.11
        typer.Option(help="registry | collections | allocations (default: from the headers)."),
    ] = None,
    show: Annotated[
        int, typer.Option(min=0, help="How many quarantined rows to list (all are in the files).")
    ] = 20,
    lang: Annotated[str, typer.Option(help="Language of the reasons listed: zh or en.")] = "zh",
) -> None:
    """Read and validate files on their own and account for every row and fen.

    Writes accepted.parquet, quarantine.parquet and quarantine.xlsx (the quarantined
    rows with their reasons in words and their cells under the file's own headers)
    and lists the first quarantined rows.
    """
    from dues.validate import validate_files

    chosen_lang = workbook_lang(lang)
    if kind is not None and kind not in ("registry", "collections", "allocations"):
        raise fail(f"--kind must be registry, collections or allocations, not {kind!r}")
    created = check_output_folder(out)
    try:
        result = validate_files(files, out, kind=kind)  # type: ignore[arg-type]
    except InputError as exc:
        raise fail(str(exc)) from exc
    except OSError as exc:  # writing the Parquet files: a full disk, a folder gone
        raise cannot_write(out, exc) from exc
    finally:
        if created and out.is_dir() and not any(out.iterdir()):
            out.rmdir()  # a refused file leaves nothing behind, not even its folder
    for r in result.results:
        s = r.stats
        table = Table(
            title=f"{shown(s.file)} — {s.kind}, header at row {s.header_row}, {s.encoding}"
        )
        table.add_column("")
        table.add_column("rows", justify="right")
        table.add_column("money (yuan)", justify="right")
        table.add_row("read", f"{s.rows_read:,}", yuan(s.money_read_fen))
        table.add_row("accepted", f"{s.rows_accepted:,}", yuan(s.money_accepted_fen))
        if s.rows_without_paid_date:
            table.add_row("  without paid date", f"{s.rows_without_paid_date:,}", "")
        table.add_row("quarantined", f"{s.rows_quarantined:,}", yuan(s.money_quarantined_fen))
        for reason, n in s.quarantined_by_reason.items():
            table.add_row(f"  {reason}", f"{n:,}", "")
        table.add_row("duplicates", f"{s.rows_duplicate:,}", yuan(s.money_duplicate_fen))
        ok = s.conserved
        table.add_row("conservation", "[green]holds[/]" if ok else "[red]BROKEN[/]", "")
        if s.totals_check != "absent":
            verdict = "[green]agrees[/]" if s.totals_check == "ok" else "[red]disagrees[/]"
            table.add_row(f"totals row {s.totals_row}", verdict, yuan(s.totals_fen))
        console.print(table)
        if s.extra_columns:
            fate = "carried to the founding drive" if s.kind == "registry" else "kept aside"
            console.print(f"  extra columns {fate}: {', '.join(s.extra_columns)}")
    print_quarantined(result, show, chosen_lang)
    for line in result.errors:
        print_error(line)
    if result.results:
        console.print(
            f"wrote {shown(out / 'accepted.parquet')}, {shown(out / 'quarantine.parquet')} "
            f"and {shown(out / 'quarantine.xlsx')}",
            highlight=False,
            soft_wrap=True,
        )
    if result.errors:
        raise typer.Exit(2)


def print_quarantined(result: ValidateResult, show: int, lang: Lang) -> None:
    """The first `show` quarantined rows: file, row, column, reason in words, raw cells."""
    from dues.validate import quarantine_listing

    rows = quarantine_listing(result, show, lang)
    if not rows:
        return
    total = result.quarantine.height
    zh = lang == "zh"
    title = (
        f"隔离记录(前 {len(rows)} 行，共 {total} 行)"
        if zh
        else (f"quarantined rows (first {len(rows)} of {total})")
    )
    table = Table(title=title, show_lines=True)
    for name in (
        ("文件", "行", "字段", "原因", "原始数据")
        if zh
        else ("file", "row", "column", "reason", "cells as read")
    ):
        table.add_column(name, overflow="fold")
    for row in rows:
        table.add_row(*(escape(one_line(v)) for v in row))
    console.print(table)


@app.command()
def sample(
    out: Annotated[Path, typer.Option(help="Folder for the generated county files.")] = Path(
        "sample"
    ),
    units: Annotated[int, typer.Option(help="Number of legal units.")] = 1400,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same files).")] = 2026,
) -> None:
    """Generate a realistic sample county in every messy bureau format."""
    from dues.sample import main_sample

    manifest = main_sample(out, units, seed)
    console.print(
        f"sample county written to {out}: {units} units, {len(manifest.files)} files "
        f"over {len(manifest.periods)} months; the exact figures are in {out / 'manifest.json'}"
    )


def _parse_as_of(text: str | None) -> date | None:
    if text is None:
        return None
    import polars as pl

    from dues import normalize

    try:
        value = pl.select(normalize.date_value(pl.lit(text))).item()
    except (ValueError, OverflowError):  # a year Python's date cannot hold (+10000-01-01)
        value = None
    # SPEC §3's plausible dates, as for --period (dues.periods).
    if not isinstance(value, date) or not date(2000, 1, 1) <= value <= date(2099, 12, 31):
        raise fail(
            f"--as-of must be a date between 2000-01-01 and 2099-12-31 such as 2026-10-31, "
            f"not {text!r}"
        )
    return value


def check_prefect_api() -> None:
    """With PREFECT_API_URL set, make sure the server answers before any work starts."""
    import os

    url = os.environ.get("PREFECT_API_URL")
    if not url:
        return  # local mode: nothing to reach
    import httpx

    try:
        httpx.get(url.rstrip("/") + "/health", timeout=5).raise_for_status()
    except httpx.HTTPError as exc:
        raise fail(
            f"the Prefect API at {url} is unreachable ({type(exc).__name__}); start it with "
            "`prefect server start`, or unset PREFECT_API_URL to run in Prefect's local mode"
        ) from exc


@app.command()
def run(
    period: Annotated[str, typer.Option(help="The month to reconcile, YYYY-MM.")],
    registry: Annotated[Path, typer.Option(help="Unit registry (单位名录).")],
    collections: Annotated[
        list[Path], typer.Option(help="Tax collection files (税务代收明细); repeat or list.")
    ],
    allocations: Annotated[
        Optional[list[Path]],  # noqa: UP045
        typer.Option(help="Fiscal allocation files (财政划拨明细)."),
    ] = None,
    out: OutOption = Path("out"),
    db: DbOption = None,
    config: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(help="Policy file (default: config/policy.toml)."),
    ] = None,
    as_of: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--as-of", help="As-of date (default: last day of the period)."),
    ] = None,
    lang: LangOption = "zh",
    wait: WaitOption = 300.0,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="Let a re-run remove lines the period's earlier run stored and these "
            "inputs lack (without it, such a re-run refuses and says what it would remove).",
        ),
    ] = False,
) -> None:
    """Reconcile one period: ingest, validate, apply the rules, store and report."""
    from dues.run import RunError, RunRequest
    from dues.settings import Settings
    from dues.store import StoreError

    period_option(period)
    chosen_lang = workbook_lang(lang)
    settings = Settings()
    chosen_config = config or settings.config
    request = RunRequest(
        period=period,
        registry=registry,
        collections=tuple(collections),
        allocations=tuple(allocations or ()),
        out=out,
        db=db or settings.database_url,
        config=chosen_config,
        as_of=_parse_as_of(as_of),
        lang=chosen_lang,
        wait_s=wait,
        replace=replace,
    )
    check_prefect_api()  # before the ledger is even opened
    progress = StageProgress(chosen_lang)
    try:
        announce_ledger(request.db, chosen_lang)
        summary = execute(request, progress.hook())
        stale = stale_after(request.db, period)
    except (RunError, StoreError, InputError) as exc:
        progress.stop()
        raise fail(str(exc)) from exc
    finally:
        progress.stop()
    print_summary(summary, chosen_lang)
    note_kept_later(summary.out_dir, chosen_lang)
    if stale:
        console.print(
            text("stale", chosen_lang, periods=", ".join(stale), period=period, first=stale[0]),
            highlight=False,
            soft_wrap=True,
        )


def note_kept_later(folder: Path, lang: Lang = "zh") -> None:
    """One line when conflicts of this run contradict lines a later month's run keeps."""
    import polars as pl

    from dues.outputs import output_path
    from dues.run.merge import kept_by_later

    kept = kept_by_later(pl.read_parquet(output_path(folder, "quarantine")))
    if kept:
        rows = sum(n for _, _, n in kept)
        runs = ", ".join(
            text("conflicts.run", lang, run=run, period=period) for run, period, _ in kept
        )
        console.print(
            text("conflicts", lang, rows=rows, runs=runs),
            highlight=False,
            soft_wrap=True,
        )


def stale_after(url: str, period: str) -> list[str]:
    """The later periods whose completed run is stale in the ledger at `url`."""
    from dues.history import run_history, stale_periods
    from dues.store import open_store

    with open_store(url) as store:
        history = run_history(store.list_runs(), store.list_input_files())
    return [p for p in stale_periods(history) if p > period]


@app.command()
def rerun(
    from_period: Annotated[
        str, typer.Option("--from", help="The first period to re-derive, YYYY-MM.")
    ],
    out: OutOption = Path("out"),
    db: DbOption = None,
    config: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(help="Policy of runs stored without theirs (before revision 0006)."),
    ] = None,
    lang: LangOption = "zh",
    wait: WaitOption = 300.0,
) -> None:
    """Re-derive every completed period from --from on, oldest first, from the ledger alone.

    Each period is derived again from its stored registry snapshot, lines, quarantine
    and policy, on the ledger as it now is, and its outputs are published again: what
    makes stale periods current. No input file is read.
    """
    from dues.run import RunError
    from dues.run.rederive import rerun_from
    from dues.settings import Settings
    from dues.store import StoreError

    period_option(from_period, "--from")
    chosen_lang = workbook_lang(lang)
    settings = Settings()
    url = db or settings.database_url

    def say(line: str) -> None:
        console.print(line, highlight=False, soft_wrap=True)

    progress = StageProgress(chosen_lang)

    def period_progress(period: str) -> StageHook | None:
        progress.heading(text("rerun.period", chosen_lang, period=period))
        return progress.hook()

    try:
        announce_ledger(url, chosen_lang)
        summaries = rerun_from(
            from_period,
            out=out,
            db=url,
            config=config or settings.config,
            say=say,
            progress=period_progress,
            lang=chosen_lang,
            wait_s=wait,
        )
        stale = stale_after(url, "0000-00")
    except (RunError, StoreError) as exc:
        progress.stop()
        raise fail(str(exc)) from exc
    finally:
        progress.stop()
    for summary in summaries:
        t = summary.totals
        say(
            text(
                "rerun.done",
                chosen_lang,
                period=summary.period,
                run=summary.run_id,
                expected=yuan(t["expected_fen"]),
                paid=yuan(t["paid_fen"]),
                arrears=yuan(t["arrears_fen"]),
                report=summary.report,
            )
        )
    if stale:
        say(text("rerun.still_stale", chosen_lang, periods=", ".join(stale)))


def announce_ledger(url: str, lang: Lang = "zh") -> None:
    """Which ledger a run uses and what it holds: a clerk sees a wrong or new one at once."""
    import polars as pl

    from dues.store import open_store

    with open_store(url) as store:
        runs = store.list_runs()
        shown = store.url
    if runs.is_empty():
        console.print(text("ledger.empty", lang, url=shown), highlight=False, soft_wrap=True)
        return
    done = sorted(runs.filter(pl.col("status") == "completed")["period"].to_list())
    console.print(
        text("ledger.runs", lang, url=shown, runs=runs.height, first=done[0], last=done[-1]),
        highlight=False,
        soft_wrap=True,
    )


def execute(request: RunRequest, on_stage: StageHook | None = None) -> RunSummary:
    """Run `request` in this process (local mode), or through Prefect when a server is named.

    Without PREFECT_API_URL the stages run here, as `dues.run.run_period`, and the run's
    history is the ledger's own `runs` table (`dues runs`): Prefect's throwaway server
    would cost more than a county's whole run. With it, the `monthly-reconciliation`
    flow runs the same stages as tasks, and the run shows in Prefect's UI.

    `on_stage` is told of each stage in local mode only: the flow's parameters are
    data Prefect stores, not a callback, and Prefect's own log lines say when each
    task starts and finishes.
    """
    import os

    if not os.environ.get("PREFECT_API_URL"):
        from dues.run import run_period

        return run_period(request, on_stage)
    check_prefect_api()
    from flows.monthly import flow_parameters, monthly_reconciliation

    # The flow runs in this process: it finds the password here (dues.dburl), and
    # Prefect's database, which keeps the parameters, never sees it.
    keep_password_in_environment(request.db)
    summary: RunSummary = monthly_reconciliation(**flow_parameters(request))
    return summary


def keep_password_in_environment(url: str) -> None:
    """Make `url`'s password reachable to a flow of this process or its children
    through DUES_DATABASE_URL (dues.dburl.with_password), not through a parameter."""
    import os

    from dues.dburl import ENV, without_password

    if without_password(url) != url:
        os.environ[ENV] = url


@app.command()
def runs(
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per run.")] = False,
) -> None:
    """The run history of the ledger: period, status, times, inputs, totals; stale marked."""
    import json

    from dues.history import run_history, stale_periods
    from dues.run.recovery import recover_ledger
    from dues.settings import Settings
    from dues.store import StoreError, open_store

    try:
        recover_ledger(db or Settings().database_url)  # what a crashed run left (dues.run.recovery)
        with open_store(db or Settings().database_url) as store:
            history = run_history(store.list_runs(), store.list_input_files())
    except StoreError as exc:
        raise fail(str(exc)) from exc
    if as_json:
        for row in history.iter_rows(named=True):
            typer.echo(json.dumps(row, ensure_ascii=False, default=str))
        return
    table = Table(title=f"dues runs — {len(history)} in the ledger")
    for name in ("period", "status", "started (UTC)", "inputs", "expected", "paid", "arrears",
                 "quarantined"):  # fmt: skip
        table.add_column(name, justify="left" if name in ("period", "status") else "right")
    for r in history.iter_rows(named=True):
        table.add_row(
            r["period"],
            r["status"] + (" · [bold yellow]stale[/]" if r["stale"] else ""),
            f"{r['started_at']:%m-%d %H:%M}",
            str(r["inputs"]),
            yuan(r["expected_fen"]),
            yuan(r["paid_fen"]),
            yuan(r["arrears_fen"]),
            "—" if r["quarantined_rows"] is None else str(r["quarantined_rows"]),
        )
    stale = stale_periods(history)
    if stale:
        by = sorted(history.filter("stale")["stale_by_period"].unique().to_list())
        table.caption = (
            f"stale: derived before a later run of {', '.join(by)}; "
            f"re-derive with `dues rerun --from {stale[0]}`"
        )
    console.print(table)


@app.command()
def drive(
    period: Annotated[str, typer.Option(help="The period whose founding drive to list, YYYY-MM.")],
    out: Annotated[Path, typer.Option(help="Folder for the workbooks, one per jurisdiction.")],
    db: DbOption = None,
    lang: LangOption = "zh",
) -> None:
    """Founding-drive lists (建会推动) per jurisdiction, from the period's run in the ledger."""
    from dues.drive_lists import DriveError, write_drive_lists
    from dues.settings import Settings
    from dues.store import StoreError

    period_option(period)
    chosen_lang = workbook_lang(lang)
    created = check_output_folder(out)
    try:
        lists = write_drive_lists(period, out, db or Settings().database_url, chosen_lang)
    except (DriveError, StoreError) as exc:
        raise fail(str(exc)) from exc
    except OSError as exc:
        raise cannot_write(out, exc) from exc
    finally:
        if created and out.is_dir() and not any(out.iterdir()):
            out.rmdir()  # a refusal (or a period with no unit to visit) leaves no folder
    if lists.note:
        console.print(lists.note, highlight=False, soft_wrap=True)
    if not lists.paths:
        console.print(f"{period}: no unit to visit (run {lists.run_id})", highlight=False)
        return
    console.print(
        f"{period}: {lists.units} unit(s) to visit in {len(lists.paths)} jurisdiction(s), "
        f"from run {lists.run_id}:",
        highlight=False,
        soft_wrap=True,
    )
    for path in lists.paths:
        console.print(f"  {shown(path)}", highlight=False, soft_wrap=True)


@app.command()
def statement(
    out: Annotated[
        Path, typer.Option(help="The workbook (FILE.xlsx); with --format parquet, a folder.")
    ],
    unit: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--unit", metavar="USCC", help="The unit's USCC."),
    ] = None,
    jurisdiction: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="Every unit of this jurisdiction (管理工会) instead of one."),
    ] = None,
    period: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="The period whose run it follows (default: the latest completed)."),
    ] = None,
    from_period: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--from", help="Show the months from this one on (YYYY-MM)."),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="xlsx or parquet.")] = "xlsx",
    db: DbOption = None,
    config: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(help="Policy of a run stored without its own (before revision 0006)."),
    ] = None,
) -> None:
    """A unit's statement (单位对账单): its months and every line that made them (ledger only)."""
    from dues.report.statement import export_statement
    from dues.settings import Settings
    from dues.statement import StatementError, load_statement
    from dues.store import StoreError, open_store

    if (unit is None) == (jurisdiction is None):
        raise fail("give --unit USCC or --jurisdiction NAME (one of them)")
    if fmt not in ("xlsx", "parquet"):
        raise fail(f"--format must be xlsx or parquet, not {fmt!r}")
    for name, value in (("--period", period), ("--from", from_period)):
        if value is not None:
            period_option(value, name)

    def say(line: str) -> None:
        console.print(line, highlight=False, soft_wrap=True)

    try:
        with open_store(db or Settings().database_url) as store:
            made = load_statement(
                store,
                period=period,
                usccs=None if unit is None else [unit],
                jurisdiction=jurisdiction,
                config=config or Settings().config,
                say=say,
            )
        if from_period is not None:
            made = made.from_period(from_period)
        written = export_statement(made, out, fmt)
    except (StatementError, StoreError) as exc:
        raise fail(str(exc)) from exc
    except OSError as exc:
        raise cannot_write(out, exc) from exc
    run = made.run
    if run.stale:
        say(
            f"[bold yellow]stale:[/] the run of {run.period} predates a later run of an earlier "
            "period; this statement follows the ledger as it is now (`dues runs` says which)"
        )
    say(
        f"statement of {made.units.height} unit(s), {run.period} (months {run.start_period} … "
        f"{run.period}, as of {run.as_of}, run {run.run_id}): "
        + ", ".join(shown(p) for p in written)
    )


@app.command()
def notices(
    period: Annotated[str, typer.Option(help="The period whose arrears are noticed, YYYY-MM.")],
    out: Annotated[Path, typer.Option(help="Folder for one PDF per jurisdiction.")],
    min_arrears_yuan: Annotated[
        float, typer.Option(min=0, help="Leave out units owing less than this (yuan).")
    ] = 0.0,
    jurisdiction: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option(help="Only this jurisdiction (管理工会); repeat for more."),
    ] = None,
    issued: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="The notices' date (default: the run's as-of); pay-by counts from it."),
    ] = None,
    template: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(help="Notice template (default: config/notice.toml)."),
    ] = None,
    db: DbOption = None,
) -> None:
    """Arrears notices (催缴通知书): one A4 page per unit in arrears, a PDF per jurisdiction."""
    from decimal import Decimal

    from dues.notices import load_template, select_notices
    from dues.report.notices import write_notices
    from dues.settings import Settings
    from dues.statement import StatementError
    from dues.store import StoreError, open_store

    period_option(period)
    min_fen = int((Decimal(str(min_arrears_yuan)) * 100).to_integral_value())
    on = _parse_as_of(issued)
    try:
        chosen = load_template(template)
        with open_store(db or Settings().database_url) as store:
            batch = select_notices(
                store,
                period,
                min_arrears_fen=min_fen,
                jurisdictions=jurisdiction,
                config=Settings().config,
                say=lambda line: console.print(line, highlight=False, soft_wrap=True),
            )
        if batch.count == 0:
            console.print(
                f"no unit of {period} owes {yuan(max(min_fen, 1))} yuan or more"
                + (f" in {', '.join(jurisdiction)}" if jurisdiction else "")
                + f": no notice written to {shown(out)}",
                highlight=False,
                soft_wrap=True,
            )
            return
        written = write_notices(out, batch, chosen, on or batch.run.as_of)
    except (StatementError, StoreError) as exc:
        raise fail(str(exc)) from exc
    except OSError as exc:
        raise cannot_write(out, exc) from exc
    console.print(
        f"{batch.count} notice(s) of {period} in {len(written)} file(s): "
        + ", ".join(shown(p) for p in written),
        highlight=False,
        soft_wrap=True,
    )


ledger_app = typer.Typer(no_args_is_help=True, help="Look after the ledger database.")
app.add_typer(ledger_app, name="ledger")


@ledger_app.command("check")
def ledger_check(
    db: DbOption = None,
) -> None:
    """Rebuild every kept unit-month total from the raw lines and list what differs."""
    import polars as pl

    from dues.ledger_check import month_sums_differences
    from dues.periods import format_period
    from dues.settings import Settings
    from dues.store import StoreError, open_store

    try:
        with open_store(db or Settings().database_url) as store:
            differences = month_sums_differences(store)
            runs = store.runs_with_lines()
            unsummed = sorted(set(runs) - set(store.runs_with_month_sums()))
    except StoreError as exc:
        raise fail(str(exc)) from exc
    if unsummed:
        # A ledger from before the totals were kept (revision 0004): not a corruption.
        console.print(
            f"{len(unsummed)} run(s) have no kept totals yet (kept since ledger revision "
            "0004); the next `dues run` computes them from their lines"
        )
        differences = differences.filter(~pl.col("run_id").is_in(unsummed))
    if differences.is_empty():
        console.print(f"ledger check: the kept unit-month totals of {len(runs)} run(s) agree")
        return
    shown = 40
    # Which copy differs: the table SQL reads, or the pack a run reads (ledger_check).
    packs = differences.filter(pl.col("kept_in") == "pack").height
    where = f" ({differences.height - packs} in the table, {packs} in the packs)" if packs else ""
    title = f"ledger check: {differences.height} kept total(s) differ from the lines{where}"
    table = Table(title=title)
    for name in ("run", "uscc", "month", "figure", "kept", "from the lines"):
        table.add_column(name, justify="right" if name in ("kept", "from the lines") else "left")
    for r in differences.head(shown).iter_rows(named=True):
        figure = r["figure"] if r["kept_in"] == "table" else f"{r['figure']} (pack)"
        table.add_row(
            r["run_id"], r["uscc"], format_period(r["month"]), figure, str(r["kept"]),
            str(r["rebuilt"]),
        )  # fmt: skip
    if differences.height > shown:
        table.caption = f"… and {differences.height - shown} more"
    console.print(table)
    raise typer.Exit(1)


@app.command()
def serve(
    inbox: Annotated[
        Path, typer.Option(help="Folder with <YYYY-MM>/ subfolders of bureau files.")
    ] = Path("inbox"),
    registry: Annotated[Path, typer.Option(help="Unit registry used by each run.")] = Path(
        "inbox/registry.xlsx"
    ),
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("out"),
    db: DbOption = None,
    cron: Annotated[str, typer.Option(help="When to run (Asia/Shanghai).")] = "0 6 5 * *",
) -> None:
    """Run the monthly schedule on this machine: on the 5th at 06:00, reconcile last month."""
    from prefect.schedules import Cron

    from dues.dburl import without_password
    from dues.settings import Settings
    from flows.monthly import scheduled_reconciliation

    check_prefect_api()
    url = db or Settings().database_url
    try:
        public = without_password(url)
    except ValueError as exc:
        raise fail(f"--db: {exc}") from exc
    keep_password_in_environment(url)  # the served runs are children of this process
    scheduled_reconciliation.serve(
        name="dues-monthly",
        schedules=[Cron(cron, timezone="Asia/Shanghai")],
        parameters={
            "inbox": str(inbox),
            "registry": str(registry),
            "out": str(out),
            "db": public,  # a deployment's parameters are shown in Prefect's UI
        },
    )


def print_summary(summary: RunSummary, lang: Lang = "zh") -> None:
    """The run's figures in `lang` (dues.cli_text), and where its workbook is."""
    t = summary.totals
    unmatched = text(
        "summary.unmatched_value",
        lang,
        lines=t["unmatched_receipts"],
        money=yuan(t["unmatched_fen"]),
    )
    rows = (
        ("summary.expected", yuan(t["expected_fen"])),
        ("summary.paid", yuan(t["paid_fen"])),
        ("summary.arrears", yuan(t["arrears_fen"])),
        ("summary.credit", yuan(t["credit_fen"])),
        ("summary.returnable", yuan(t["returnable_fen"])),
        ("summary.unmatched", unmatched),
        ("summary.quarantined", str(t["quarantined_rows"])),
        ("summary.drive", text("summary.drive_value", lang, units=t["founding_drive_units"])),
    )
    table = Table(
        title=text("summary.title", lang, period=summary.period, start=summary.start_period)
    )
    table.add_column("")
    table.add_column(text("summary.yuan", lang), justify="right")
    for key, value in rows:
        table.add_row(text(key, lang), value)
    console.print(table)
    console.print(
        text("summary.report", lang, path=shown(summary.report)), highlight=False, soft_wrap=True
    )


MULTI_VALUE_OPTIONS = ("--collections", "--allocations")


def expand_multi_value_options(argv: list[str]) -> list[str]:
    """`--collections A B` -> `--collections A --collections B` (SPEC §5's form).

    click options take one value each; the SPEC lets a list follow one flag, so
    the words after it, up to the next option, are each given their own flag.
    """
    out: list[str] = []
    current: str | None = None
    for word in argv:
        if word.startswith("-"):
            current = word if word in MULTI_VALUE_OPTIONS else None
            out.append(word)
        elif current is not None and out[-1] != current:
            out += [current, word]
        else:
            out.append(word)
    return out


def main() -> None:  # pragma: no cover - console entry point
    import gc
    import sys

    try:
        app(args=expand_multi_value_options(sys.argv[1:]))
    finally:
        # The interpreter's shutdown collects every object the imports made (polars,
        # SQLAlchemy, pydantic, pandera: 0.25 s here, as long as a county's ingest) only
        # to free memory the exit frees anyway. Frozen objects are left out of that
        # collection; files and the ledger are closed by then (context managers), and
        # atexit and weakref finalizers still run.
        gc.freeze()
