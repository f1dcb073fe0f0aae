"""`generate_county`: a county of SPEC §1 shape, its registry and each period's bureau files."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from dues.sample import names, styles
from dues.sample.activity import Allocation, ReceiptLine, collect
from dues.sample.defects import REASONS, Row, allocation_row, inject, receipt_row
from dues.sample.manifest import CountyFacts, FileManifest, PeriodFiles, SampleManifest
from dues.sample.styles import STYLES, Cell, Style
from dues.sample.text import add_months, month_end, month_label, parse_month, quarter_start
from dues.sample.units import Unit, build_units

DEFAULT_PERIODS = ("2026-07", "2026-08", "2026-09", "2026-10")
REGISTRY_FILE = "registry.xlsx"
_UNIT_TYPE_LABELS = {
    "enterprise": "企业",
    "enterprise_institution": "企业化管理事业单位",
    "government_organ": "党政机关",
    "public_institution": "事业单位",
    "social_org": "社会组织",
    "other": "其他",
}
_OWNERSHIP_LABELS = {"public": "公有", "non_public": "非公有"}
_UNION_LABELS = {"own": "单独建会", "joint": "联合工会", "none": "未建会"}
_FILING_LABELS = {"monthly": "按月", "quarterly": "按季"}
_REGISTRY_HEADER = (
    "统一社会信用代码", "单位名称", "单位类型", "所有制", "职工人数", "会员人数",
    "所属工会", "建会形式", "建会日期", "申报期限", "月工资总额",
)  # fmt: skip


def history_months(periods: Sequence[date]) -> list[date]:
    """The months records are attributed to: from the quarter three months before the
    first period (the history loaded with the first run) to the month before the last."""
    month, last = quarter_start(add_months(periods[0], -3)), add_months(periods[-1], -1)
    months = []
    while month <= last:
        months.append(month)
        month = add_months(month, 1)
    return months


def generate_county(
    out_dir: Path,
    *,
    periods: Sequence[str] = DEFAULT_PERIODS,
    units: int = 1400,
    seed: int = 2026,
) -> SampleManifest:
    """Write registry.xlsx, each period's collection and allocation file and manifest.json.

    Same arguments, same bytes. Files rotate through the four styles period by period
    (collections: xlsx, GBK, BOM, English; allocations two steps behind).
    """
    if units < 100:
        raise ValueError("a county needs at least 100 units to carry every kind of case")
    months_of = sorted({parse_month(p) for p in periods})
    if not months_of:
        raise ValueError("at least one period is needed")
    out_dir.mkdir(parents=True, exist_ok=True)
    months = history_months(months_of)
    # Separate streams: changing how files look does not change who pays what.
    county = build_units(random.Random(f"{seed}/units"), units, months)
    receipts, allocations = collect(random.Random(f"{seed}/payments"), county, months, months_of)
    rng = random.Random(f"{seed}/files")

    files = {REGISTRY_FILE: _write_registry(out_dir / REGISTRY_FILE, county, months_of[-1])}
    runs: dict[str, PeriodFiles] = {}
    for i, period in enumerate(months_of):
        label = month_label(period)
        c_style, a_style = STYLES[i % len(STYLES)], STYLES[(i + 2) % len(STYLES)]
        c_name = f"collections_{label}{c_style.suffix}"
        a_name = f"allocations_{label}{a_style.suffix}"
        files[c_name] = _write_collections(out_dir / c_name, receipts[period], c_style, rng)
        files[a_name] = _write_allocations(out_dir / a_name, allocations[period], a_style, rng)
        runs[label] = PeriodFiles((c_name,), (a_name,))

    unmatched = sorted({r.uscc for rs in receipts.values() for r in rs if not r.registered})
    manifest = SampleManifest(
        seed=seed,
        registry=REGISTRY_FILE,
        periods=runs,
        files=dict(sorted(files.items())),
        county=_facts(county, months[0], tuple(unmatched)),
    )
    manifest.write(out_dir / "manifest.json")
    return manifest


def _facts(county: list[Unit], start: date, unmatched: tuple[str, ...]) -> CountyFacts:
    tax = [u for u in county if not u.fiscal]
    organized = sum(u.union_kind != "none" for u in tax)
    kinds = Counter(
        "town" if j.endswith("镇工会") else "community" if j.endswith("社区工会") else
        "system" if j.endswith("系统工会") else "park"
        for j in {u.jurisdiction for u in county}
    )  # fmt: skip
    return CountyFacts(
        units=len(county),
        tax_units=len(tax),
        fiscal_units=len(county) - len(tax),
        by_unit_type=dict(sorted(Counter(u.unit_type for u in county).items())),
        by_union_kind=dict(sorted(Counter(u.union_kind for u in county).items())),
        jurisdictions=dict(sorted(kinds.items())),
        quarterly=sum(u.filing == "quarterly" for u in county),
        founding_rate_bp=organized * 10_000 // len(tax) if tax else 0,
        history_start=month_label(start),
        founded_mid_year=tuple(
            sorted(u.uscc for u in county if u.behaviour.startswith("founded_mid_year"))
        ),
        unmatched_usccs=unmatched,
        behaviours=dict(sorted(Counter(u.behaviour for u in county).items())),
    )


# ---- files --------------------------------------------------------------------------


def _write_registry(path: Path, county: list[Unit], as_of: date) -> FileManifest:
    """The registry as the federation's member system exports it: one title row, then data."""
    order = {j: i for i, j in enumerate(names.JURISDICTIONS)}
    listed = sorted(county, key=lambda u: (order[u.jurisdiction], u.uscc))
    rows: list[list[Cell]] = [
        [
            u.uscc,
            u.name,
            _UNIT_TYPE_LABELS[u.unit_type],
            _OWNERSHIP_LABELS[u.ownership],
            u.employees,
            u.members,
            u.jurisdiction,
            _UNION_LABELS[u.union_kind],
            u.union_founded,
            _FILING_LABELS[u.filing] if u.filing_written else None,
            None if u.registry_payroll_fen is None else u.registry_payroll_fen / 100,
        ]
        for u in listed
    ]
    title = f"{names.COUNTY}总工会基层工会及单位名录（截至{month_end(as_of).isoformat()}）"
    styles.write_xlsx(
        path,
        "单位名录",
        _REGISTRY_HEADER,
        rows,
        titles=[[title]],
        money_cols=frozenset({10}),
        date_cols=frozenset({8}),
    )
    registry_rows = [Row({}, None, "accepted") for _ in rows]
    return FileManifest.of_rows("registry", "xlsx", "xlsx", 2, registry_rows, totals=False)


def _title_lines(kind: str, rows: Sequence[ReceiptLine] | Sequence[Allocation]) -> list[str]:
    dates = [r.paid_date if isinstance(r, ReceiptLine) else r.allocated_date for r in rows]
    span = f"{min(dates).isoformat()}至{max(dates).isoformat()}" if dates else ""
    if kind == "collections":
        return [f"{names.TAX_BUREAU}代征工会经费（筹备金）明细表", f"入库日期：{span}"]
    return [f"{names.COUNTY}财政局工会经费划拨明细表", f"划拨日期：{span}"]


def _write_rows(
    path: Path, kind: str, style: Style, rows: list[Row], titles: list[str]
) -> FileManifest:
    cols = styles.columns(kind, style)
    header = styles.headers(kind, style)
    data: list[list[Cell]] = [[r.cells[c] for c in cols] for r in rows]
    read = sum(r.amount_fen or 0 for r in rows)
    totals: list[Cell] | None = None
    if style.totals:
        totals = [None] * len(cols)
        totals[0] = "合计"
        totals[cols.index("amount")] = (
            read / 100 if style.workbook else styles.money(read, style, random.Random(0))
        )
    header_row = style.title_rows + 1
    if style.workbook:
        styles.write_xlsx(
            path,
            "代征明细" if kind == "collections" else "划拨明细",
            header,
            data,
            titles=[[titles[0]], [titles[1], None, None, "单位：元"], [None]],
            totals=totals,
            money_cols=frozenset(i for i, c in enumerate(cols) if c in styles.MONEY_COLUMNS),
            date_cols=frozenset(i for i, c in enumerate(cols) if c in styles.DATE_COLUMNS),
        )
    else:
        styles.write_csv(
            path, style, header, data, titles=titles[: style.title_rows], totals=totals
        )
    encoding = style.encoding or "xlsx"
    return FileManifest.of_rows(kind, style.name, encoding, header_row, rows, style.totals)


def _write_collections(
    path: Path, lines: list[ReceiptLine], style: Style, rng: random.Random
) -> FileManifest:
    rows = [receipt_row(line, style, rng) for line in lines]
    counts = {reason: rng.choice((1, 1, 2)) for reason in REASONS}
    rows = inject(rows, lines, style, rng, counts)
    return _write_rows(path, "collections", style, rows, _title_lines("collections", lines))


def _write_allocations(
    path: Path, allocations: list[Allocation], style: Style, rng: random.Random
) -> FileManifest:
    rows = [allocation_row(a, style, rng) for a in allocations]
    return _write_rows(path, "allocations", style, rows, _title_lines("allocations", allocations))
