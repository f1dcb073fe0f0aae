"""Human summaries of a finished run: the Prefect markdown artifact and the console table."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from dues.outputs import output_path

if TYPE_CHECKING:
    from dues.run import RunSummary


def yuan(fen: int | None) -> str:
    """Fen as yuan text with thousands separators, by integer arithmetic (no float)."""
    if fen is None:
        return "—"
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), 100)
    return f"{sign}{whole:,}.{cents:02d}"


def percent(ratio: float | None) -> str:
    return "—" if ratio is None else f"{ratio * 100:.1f}%"


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def channel_rates(out_dir: Path) -> list[dict[str, Any]]:
    """Expected vs collected per channel over the due months of the run's calendar year."""
    ind = pl.read_parquet(output_path(out_dir, "indicators")).filter(pl.col("level") == "county")
    if ind.is_empty():
        return []
    row = ind.row(0, named=True)
    return [
        {
            "channel": name,
            "expected": yuan(row[f"{key}_expected_fen"]),
            "collected": yuan(row[f"{key}_collected_fen"]),
            "rate": percent(_ratio(row[f"{key}_collected_fen"], row[f"{key}_expected_fen"])),
        }
        for key, name in (("tax", "税务代收 tax"), ("fiscal", "财政划拨 fiscal"))
    ]


def jurisdiction_rates(out_dir: Path) -> list[dict[str, Any]]:
    """到位率 per jurisdiction, for the Prefect table artifact."""
    ind = pl.read_parquet(output_path(out_dir, "indicators"))
    rows = []
    for r in ind.iter_rows(named=True):
        rows.append(
            {
                "jurisdiction": r["jurisdiction"],
                "tax expected": yuan(r["tax_expected_fen"]),
                "tax collected": yuan(r["tax_collected_fen"]),
                "tax 到位率": percent(r["tax_collection_rate"]),
                "fiscal 到位率": percent(r["fiscal_collection_rate"]),
                "组建率": percent(r["founding_rate_tier1"]),
                "入会率": percent(r["membership_rate"]),
            }
        )
    return rows


def markdown_summary(summary: RunSummary) -> str:
    t = summary.totals
    lines = [
        f"# dues {summary.period}",
        "",
        f"Run `{summary.run_id}`, months {summary.start_period} … {summary.period}.",
        "",
        "| input file | rows read | accepted | quarantined | duplicates | money accepted (yuan) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for f in summary.files:
        lines.append(
            f"| {f['file']} | {f['rows_read']:,} | {f['rows_accepted']:,} | "
            f"{f['rows_quarantined']:,} | {f['rows_duplicate']:,} | "
            f"{yuan(f['money_accepted_fen'])} |"
        )
    lines += ["", "| channel | expected | collected | 到位率 |", "|---|---:|---:|---:|"]
    for c in channel_rates(summary.out_dir):
        lines.append(f"| {c['channel']} | {c['expected']} | {c['collected']} | {c['rate']} |")
    lines += [
        "",
        f"* arrears: **{yuan(t['arrears_fen'])}** yuan; credit {yuan(t['credit_fen'])}",
        f"* founding drive: **{t['founding_drive_units']}** units to visit",
        f"* preparatory-fund returns: {yuan(t['returnable_fen'])}",
        f"* unmatched receipts: {t['unmatched_receipts']} ({yuan(t['unmatched_fen'])})",
        f"* quarantined rows: {t['quarantined_rows']}",
        f"* report: `{summary.report}`",
    ]
    return "\n".join(lines) + "\n"
