"""Benchmark inputs at province scale, built column-wise with polars (no Python row loops).

`generate_bench` writes a registry and a year of monthly collection and allocation
files for 100,000 units (about a million receipt lines); `generate_collections_csv`
and `generate_collections_xlsx` write one big collection file. The data are clean
but for about 0.1% bad rows of three kinds, counted exactly in the returned figures.

Same seed, same bytes (the random columns come from `bench_units.uniform`).
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

import polars as pl

from dues.sample import names
from dues.sample.bench_units import bench_units, draws, uniform, write_registry_csv
from dues.sample.codes import ALPHABET
from dues.sample.manifest import PeriodFiles
from dues.sample.styles import FIXED_TIME, save_workbook
from dues.sample.text import (
    add_months,
    excel_serial,
    month_end,
    month_label,
    parse_month,
    yuan_expr,
)

_BAD_PER_MILLE = 1  # about 0.1% of receipt lines are damaged
BAD_REASONS = ("bad_uscc", "bad_number", "bad_date")
_HEADER = {
    "receipt_no": "电子税票号码",
    "line_no": "登记序号",
    "uscc": "社会信用代码(纳税人识别号)",
    "taxpayer_name": "纳税人名称",
    "item": "征收品目",
    "item_code": "征收品目代码",
    "period_start": "税款所属期起",
    "period_end": "税款所属期止",
    "wage_base": "计税依据",
    "rate": "税率",
    "amount": "实缴金额",
    "paid_date": "入库日期",
    "tax_office": "征收税务机关",
}


@dataclass(frozen=True)
class BenchFile:
    """What `dues validate` must make of one generated file."""

    rows: int
    accepted: int
    quarantined: int
    bad_rows: dict[str, int]
    accepted_amount_fen: int


@dataclass(frozen=True)
class BenchManifest:
    seed: int
    units: int
    registry: str
    periods: dict[str, PeriodFiles]  # the files of each monthly run
    files: dict[str, BenchFile]
    receipt_lines: int

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1, sort_keys=True) + "\n"


# ---- receipts -----------------------------------------------------------------------


def _receipts(
    lines: pl.DataFrame, rng: random.Random, first_serial: int
) -> tuple[pl.DataFrame, int]:
    """Typed receipt lines from (unit columns, period_start, months, paid_month).

    Returns the frame sorted by payment and numbered, with a `bad` reason column
    (null for clean rows), and the next free receipt serial.
    """
    n = lines.height
    random_cols = draws(rng, n, "d0", "d1", "d2")
    drift = 1_000 + (random_cols["d0"] % 61).cast(pl.Int64) - 30  # a few per cent month to month
    frame = pl.concat([lines, random_cols], how="horizontal").with_columns(drift=drift)
    organized = pl.col("union_founded").is_not_null() & (
        pl.col("union_founded") <= pl.col("period_start")
    )
    rate = pl.when(organized).then(100).otherwise(200)
    base = pl.col("payroll_fen") * pl.col("months") * pl.col("drift") // 1_000
    frame = frame.with_columns(
        period_end=pl.when(pl.col("months") == 3)
        .then(pl.col("period_start").dt.offset_by("2mo"))
        .otherwise(pl.col("period_start"))
        .dt.month_end(),
        wage_base_fen=base,
        rate_bp=rate.cast(pl.Int64),
        paid_date=pl.col("paid_month") + pl.duration(days=(pl.col("d1") % 15).cast(pl.Int64)),
    ).with_columns(
        amount_fen=(pl.col("wage_base_fen") * pl.col("rate_bp") + 5_000) // 10_000,
        item=pl.when(organized).then(pl.lit("dues")).otherwise(pl.lit("preparatory")),
    )
    # Receipts are numbered in payment order; a stable sort keeps the units' order within a day.
    frame = frame.sort("paid_date", maintain_order=True).with_columns(
        serial=pl.int_range(pl.len(), dtype=pl.Int64) + first_serial
    )
    pick = pl.col("d2") % 1_000
    kind = pl.col("d2") // 1_000 % len(BAD_REASONS)
    bad: pl.Expr = pl.lit(None, dtype=pl.String)
    for i, reason in reversed(list(enumerate(BAD_REASONS))):
        bad = pl.when((pick < _BAD_PER_MILLE) & (kind == i)).then(pl.lit(reason)).otherwise(bad)
    frame = frame.with_columns(bad=bad)
    return frame, first_serial + n


def _wrong_check(uscc: pl.Expr, r: pl.Expr) -> pl.Expr:
    """The code with its check character moved 1..30 places along the alphabet."""
    value = uscc.str.slice(17, 1).replace_strict(
        {c: i for i, c in enumerate(ALPHABET)}, return_dtype=pl.Int64
    )
    wrong = ((value + 1 + (r % 30).cast(pl.Int64)) % 31).replace_strict(
        dict(enumerate(ALPHABET)), return_dtype=pl.String
    )
    return uscc.str.slice(0, 17) + wrong


def _receipt_text(frame: pl.DataFrame) -> pl.DataFrame:
    """The bureau's CSV columns as text, bad rows damaged as their reason says."""
    bad = pl.col("bad")
    return frame.select(
        # '3', the year, a 13-digit serial: 18 digits, built as one integer.
        (3 * 10**17 + pl.col("paid_date").dt.year().cast(pl.Int64) * 10**13 + pl.col("serial"))
        .cast(pl.String)
        .alias(_HEADER["receipt_no"]),
        pl.lit("1").alias(_HEADER["line_no"]),
        pl.when(bad == "bad_uscc")
        .then(_wrong_check(pl.col("uscc"), pl.col("d0")))
        .otherwise(pl.col("uscc"))
        .alias(_HEADER["uscc"]),
        pl.col("name").alias(_HEADER["taxpayer_name"]),
        pl.when(pl.col("item") == "dues")
        .then(pl.lit("工会经费"))
        .otherwise(pl.lit("工会筹备金"))
        .alias(_HEADER["item"]),
        pl.when(pl.col("item") == "dues")
        .then(pl.lit("399001010"))
        .otherwise(pl.lit("399001020"))
        .alias(_HEADER["item_code"]),
        pl.col("period_start").cast(pl.String).alias(_HEADER["period_start"]),
        pl.col("period_end").cast(pl.String).alias(_HEADER["period_end"]),
        yuan_expr(pl.col("wage_base_fen")).alias(_HEADER["wage_base"]),
        pl.when(pl.col("rate_bp") == 100)
        .then(pl.lit("0.01"))
        .otherwise(pl.lit("0.02"))
        .alias(_HEADER["rate"]),
        pl.when(bad == "bad_number")
        .then(yuan_expr(pl.col("amount_fen")).str.replace(".", "..", literal=True))
        .otherwise(yuan_expr(pl.col("amount_fen")))
        .alias(_HEADER["amount"]),
        pl.when(bad == "bad_date")
        .then(pl.format("{}-02-30", pl.col("paid_date").dt.year()))
        .otherwise(pl.col("paid_date").cast(pl.String))
        .alias(_HEADER["paid_date"]),
        pl.col("tax_office").alias(_HEADER["tax_office"]),
    )


def _stats(frame: pl.DataFrame) -> BenchFile:
    counts = frame.group_by("bad").len().drop_nulls("bad")
    bad_rows = {str(k): int(v) for k, v in counts.sort("bad").iter_rows()}
    # A bad_number row's amount does not parse, the others' do; all are quarantined.
    accepted = frame.filter(pl.col("bad").is_null())
    return BenchFile(
        rows=frame.height,
        accepted=accepted.height,
        quarantined=frame.height - accepted.height,
        bad_rows=bad_rows,
        accepted_amount_fen=int(accepted["amount_fen"].sum()),
    )


def _tax_office(jurisdiction: pl.Expr) -> pl.Expr:
    return (
        pl.when(jurisdiction.str.ends_with("镇工会"))
        .then(pl.lit(names.TAX_BUREAU) + jurisdiction.str.strip_suffix("工会") + "税务分局")
        .otherwise(pl.lit(names.TAX_BUREAU))
    )


def _monthly_lines(
    units: pl.DataFrame, month: date, paid: date, rng: random.Random
) -> pl.DataFrame:
    """Receipt line requests of a paid month: monthly filers for `month`, quarterly filers
    for the quarter ending with it; 1% of units do not file."""
    tax = units.filter(~pl.col("fiscal"))
    filed = uniform(rng, tax.height) % 100 >= 1
    tax = tax.filter(filed)
    quarter_end = month.month % 3 == 0
    quarterly = pl.col("filing_frequency") == "quarterly"
    chosen = tax.filter(~quarterly | pl.lit(quarter_end))
    return chosen.select(
        "uscc",
        "name",
        "union_founded",
        "payroll_fen",
        tax_office=_tax_office(pl.col("jurisdiction")),
        period_start=pl.when(quarterly)
        .then(pl.lit(add_months(month, -2)))
        .otherwise(pl.lit(month)),
        months=pl.when(quarterly).then(3).otherwise(1).cast(pl.Int64),
        paid_month=pl.lit(paid),
    )


def _allocations(
    units: pl.DataFrame, month: date, paid: date, rng: random.Random
) -> tuple[pl.DataFrame, BenchFile]:
    """The finance bureau's monthly allocations (2%) to every fiscal unit for `month`."""
    fiscal = units.filter(pl.col("fiscal"))
    n = fiscal.height
    drift = 1_000 + (uniform(rng, n) % 61).cast(pl.Int64) - 30
    day = (uniform(rng, n) % 10).cast(pl.Int64) + 2
    typed = (
        fiscal.select("uscc", "name")
        .with_columns(
            voucher=pl.int_range(1, n + 1, dtype=pl.Int64),
            base=fiscal["payroll_fen"] * drift // 1_000,
            day=day,
        )
        .with_columns(amount=(pl.col("base") * 200 + 5_000) // 10_000)
    )
    iso = "%Y-%m-%d"
    text = typed.select(
        (
            pl.lit(f"GK{paid.year}{paid.month:02d}")
            + pl.col("voucher").cast(pl.String).str.zfill(6)
        ).alias("拨款凭证号"),
        pl.col("uscc").alias("统一社会信用代码"),
        pl.col("name").alias("单位名称"),
        pl.lit(month.isoformat()).alias("所属期起"),
        pl.lit(month_end(month).isoformat()).alias("所属期止"),
        yuan_expr(pl.col("base")).alias("工资总额"),
        yuan_expr(pl.col("amount")).alias("划拨金额"),
        (pl.lit(paid) + pl.duration(days=pl.col("day"))).dt.strftime(iso).alias("划拨日期"),
    )
    amount = int(typed["amount"].sum()) if n else 0
    return text, BenchFile(n, n, 0, {}, amount)


# ---- entry points -------------------------------------------------------------------


def generate_bench(
    out_dir: Path,
    *,
    units: int = 100_000,
    months: int = 12,
    end_period: str = "2026-12",
    seed: int = 7,
) -> BenchManifest:
    """registry.csv and, for each month after the first, that month's collection and
    allocation CSVs (UTF-8, Chinese headers) covering the month before; manifest.json."""
    if months < 2:
        raise ValueError("months must be at least 2 (payments arrive the month after)")
    out_dir.mkdir(parents=True, exist_ok=True)
    end = parse_month(end_period)
    first = add_months(end, -(months - 1))
    rng = random.Random(f"{seed}/bench")
    unit_frame = bench_units(rng, units, first)
    write_registry_csv(unit_frame, out_dir / "registry.csv")
    files = {"registry.csv": BenchFile(units, units, 0, {}, 0)}
    periods: dict[str, PeriodFiles] = {}
    serial, lines_total = 1_000_000, 0
    for k in range(1, months):
        paid = add_months(first, k)
        month, label = add_months(paid, -1), month_label(paid)
        frame, serial = _receipts(_monthly_lines(unit_frame, month, paid, rng), rng, serial)
        c_name, a_name = f"collections_{label}.csv", f"allocations_{label}.csv"
        _receipt_text(frame).write_csv(out_dir / c_name)
        files[c_name] = _stats(frame)
        allocations, files[a_name] = _allocations(unit_frame, month, paid, rng)
        allocations.write_csv(out_dir / a_name)
        periods[label] = PeriodFiles((c_name,), (a_name,))
        lines_total += frame.height
    manifest = BenchManifest(
        seed, units, "registry.csv", periods, dict(sorted(files.items())), lines_total
    )
    (out_dir / "manifest.json").write_text(manifest.to_json(), encoding="utf-8")
    return manifest


def _synthetic_receipts(rows: int, seed: int) -> pl.DataFrame:
    """`rows` receipt lines: a pool of rows/12 tax units, each filing every month of 2026."""
    rng = random.Random(f"{seed}/collections")
    pool = max(1, -(-rows // 12))
    units = bench_units(rng, pool, date(2026, 1, 1), fiscal=False)
    index = pl.int_range(rows, dtype=pl.Int64)
    month = index // pool
    lines = units.select(
        pl.col("uscc", "name", "union_founded", "payroll_fen").gather(index % pool),
        tax_office=_tax_office(pl.col("jurisdiction")).gather(index % pool),
        period_start=pl.date(2026 + month // 12, month % 12 + 1, 1),
        months=pl.lit(1, dtype=pl.Int64),
        paid_month=pl.date(2026 + (month + 1) // 12, (month + 1) % 12 + 1, 1),
    )
    frame, _ = _receipts(lines, rng, 1_000_000)
    return frame


def generate_collections_csv(path: Path, rows: int = 1_000_000, seed: int = 7) -> BenchFile:
    """One UTF-8 collection CSV of exactly `rows` receipt lines (Chinese headers)."""
    frame = _synthetic_receipts(rows, seed)
    _receipt_text(frame).write_csv(path)
    return _stats(frame)


def generate_collections_xlsx(path: Path, rows: int = 100_000, seed: int = 7) -> BenchFile:
    """One collection workbook of `rows` lines: title rows, header, data, 合计 row.

    Written with openpyxl's write-only mode; dates as Excel serial numbers and money
    as numbers, as bureau exports hold them.
    """
    from openpyxl import Workbook

    frame = _synthetic_receipts(rows, seed)
    text = _receipt_text(frame)
    cells = pl.concat(
        [
            text.select(list(_HEADER.values())[:6]),
            frame.select(
                start=pl.col("period_start"),
                end=pl.col("period_end"),
                base=pl.col("wage_base_fen") / 100,
                rate=pl.col("rate_bp") / 10_000,
                amount=pl.when(pl.col("bad") == "bad_number")
                .then(None)
                .otherwise(pl.col("amount_fen") / 100),
                paid=pl.col("paid_date"),
            ),
            text.select(
                bad_amount=pl.when(frame["bad"] == "bad_number")
                .then(pl.col(_HEADER["amount"]))
                .otherwise(None),
                bad_paid=pl.when(frame["bad"] == "bad_date")
                .then(pl.col(_HEADER["paid_date"]))
                .otherwise(None),
                office=pl.col(_HEADER["tax_office"]),
            ),
        ],
        how="horizontal",
    )
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("代征明细")
    ws.append([f"{names.TAX_BUREAU}代征工会经费（筹备金）明细表"])
    ws.append(["入库期间：2026-02至2027-01", None, None, "单位：元"])
    ws.append([])
    ws.append(list(_HEADER.values()))
    for row in cells.iter_rows():
        (no, line, code, name, item, item_code, start, end, base, rate, amount, paid,
         bad_amount, bad_paid, office) = row  # fmt: skip
        ws.append(
            [
                no, int(line), code, name, item, item_code, excel_serial(start),
                excel_serial(end), base, rate, bad_amount or amount,
                bad_paid or excel_serial(paid), office,
            ]
        )  # fmt: skip
    # The 合计 row states every amount that parses (a bad_number row's does not).
    read = frame.filter(pl.col("bad").fill_null("") != "bad_number")["amount_fen"].sum()
    ws.append(["合计", *[None] * 9, int(read) / 100, None, None])
    wb.properties.created = FIXED_TIME
    save_workbook(wb, path)
    return _stats(frame)
