"""The `dues` command line: validate bureau files, generate a sample county, run a period."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from dues.readers import InputError
from dues.schemas import Kind

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Reconcile trade-union dues and preparatory-fund collections (SPEC §5).",
)
console = Console()
err_console = Console(stderr=True)


def yuan(fen: int | None) -> str:
    """Fen as yuan text with thousands separators, by integer arithmetic."""
    if fen is None:
        return "—"
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole:,}.{cents:02d}"


def fail(message: str, code: int = 2) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="Input files (.xlsx, .xls, .csv).")],
    out: Annotated[Path, typer.Option(help="Folder for accepted.parquet and quarantine.parquet.")],
    kind: Annotated[
        Optional[str],  # noqa: UP045 - typer needs Optional on 3.11
        typer.Option(help="registry | collections | allocations (default: from the headers)."),
    ] = None,
) -> None:
    """Read and validate files on their own and account for every row and fen."""
    from dues.validate import validate_files

    if kind is not None and kind not in ("registry", "collections", "allocations"):
        raise fail(f"--kind must be registry, collections or allocations, not {kind!r}")
    try:
        result = validate_files(files, out, kind=kind)  # type: ignore[arg-type]
    except InputError as exc:
        raise fail(str(exc)) from exc
    for r in result.results:
        s = r.stats
        table = Table(title=f"{s.file} — {s.kind}, header at row {s.header_row}, {s.encoding}")
        table.add_column("")
        table.add_column("rows", justify="right")
        table.add_column("money (yuan)", justify="right")
        table.add_row("read", f"{s.rows_read:,}", yuan(s.money_read_fen))
        table.add_row("accepted", f"{s.rows_accepted:,}", yuan(s.money_accepted_fen))
        table.add_row("quarantined", f"{s.rows_quarantined:,}", yuan(s.money_quarantined_fen))
        for reason, n in s.quarantined_by_reason.items():
            table.add_row(f"  {reason}", f"{n:,}", "")
        table.add_row("duplicates", f"{s.rows_duplicate:,}", yuan(s.money_duplicate_fen))
        ok = s.rows_conserved and s.money_conserved
        table.add_row("conservation", "[green]holds[/]" if ok else "[red]BROKEN[/]", "")
        if s.totals_check != "absent":
            verdict = "[green]agrees[/]" if s.totals_check == "ok" else "[red]disagrees[/]"
            table.add_row(f"totals row {s.totals_row}", verdict, yuan(s.totals_fen))
        console.print(table)
        if s.extra_columns:
            console.print(f"  extra columns kept aside: {', '.join(s.extra_columns)}")
    for line in result.errors:
        err_console.print(f"[bold red]error:[/] {line}", highlight=False, soft_wrap=True)
    if result.results:
        console.print(f"wrote {out / 'accepted.parquet'} and {out / 'quarantine.parquet'}")
    if result.errors:
        raise typer.Exit(2)


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
    console.print(f"sample county written to {out} ({manifest!r:.0}{units} units)")


def main() -> None:  # pragma: no cover - console entry point
    app()
