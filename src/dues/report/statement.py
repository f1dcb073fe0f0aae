"""The unit statement workbook (单位对账单, `dues statement`): Chinese, yuan, printable.

Three sheets: 对账单 — a header block (unit or jurisdiction, period, months, as-of,
the ledger's run id), then per unit its months with totals, each unit starting a
printed page; 缴款明细 — every receipt line and allocation in each month it is
attributed to, with its share (rule 1), source file and row, and a totals row;
单位汇总 — one row per unit: totals of its due months, arrears, credit and aging.

Money is shown in yuan with two decimals from integer fen (dues.report.cells), enum
codes by their labels (dues.report.labels). The file is the same byte for byte for
the same statement: every zip entry and the document's times carry the run's as-of.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
from openpyxl import Workbook
from openpyxl.styles import Border, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.pagebreak import Break
from openpyxl.writer.excel import ExcelWriter

from dues.files import atomic_path
from dues.report import cells
from dues.report.cells import BOLD, HEADING_FONT, TITLE_FONT, Kind, header_cells, styled, text_cell
from dues.report.labels import column_label, value_labels
from dues.report.workbook import _StableZip
from dues.statement import Statement

# The statement's own words (the shared columns are labelled by dues.report.labels).
_LABELS: dict[str, str] = {
    "title": "单位对账单",
    "title_jurisdiction": "管理工会单位对账单",
    "lines_title": "缴款明细（每条税票行与财政划拨，按所属月份分摊）",
    "units_title": "单位汇总",
    "sheet_months": "对账单",
    "sheet_lines": "缴款明细",
    "sheet_units": "单位汇总",
    "unit": "单位",
    "jurisdiction": "管理工会",
    "period": "所属期",
    "months": "对账期间",
    "as_of": "截至日期",
    "counted_from": "欠缴自此所属期起累计",
    "run_id": "账本运行编号",
    "ledger": "账本",
    "units": "单位数",
    "stale": "注意：本所属期的运行已过期（其后补跑过更早的所属期），本对账单按账本现状重新计算；"
    "请运行 dues rerun 更新该期输出。",
    "outside": "另有 {n} 条记录分摊到对账期间以外的月份，未列入。",
    "totals_due": "合计(已到期月份)",
    "totals_not_due": "未到期月份",
    "totals": "合计",
    "arrears": "欠缴合计(元)",
    "credit": "多缴合计(元)",
    "months_outstanding": "欠缴月数",
    "oldest_period": "最早欠缴所属期",
    "no_months": "（无月份）",
    "base_period": "基数所属期",
    "lines": "记录条数",
    "owed_fen": "本月欠缴(元)",
    "month_credit_fen": "本月多缴(元)",
    "running_arrears_fen": "累计欠缴(元)",
    "aging_bucket": "账龄",
    "notes": "备注",
    "kind": "类别",
    "key": "税票号码/拨款凭证号",
    "item": "征收品目",
    "paid_date": "入库/划拨日期",
    "months_covered": "所属月数",
    "line_wage_base_fen": "整行计税依据(元)",
    "line_amount_fen": "整行金额(元)",
    "share_wage_base_fen": "本月分摊基数(元)",
    "share_amount_fen": "本月分摊金额(元)",
    "receipt": "税票",
    "allocation": "财政划拨",
    "months_count": "月份数",
    "expected_due_fen": "应缴(已到期,元)",
    "paid_due_fen": "实缴(已到期,元)",
    "variance_due_fen": "差额(已到期,元)",
}
_ITEMS = {"dues": "工会经费", "preparatory": "工会筹备金", "late_fee": "滞纳金"}
_TOP = Border(top=Side(style="thin"))


def _label(key: str) -> str:
    return _LABELS[key]


def _bucket_label(suffix: str | None) -> str | None:
    if suffix is None:
        return None
    first, last = suffix.split("_")
    return f"{last}天以上" if first == "over" else f"{first}-{last}天"


# (frame column, header, kind) of the months table.
_MONTHS: list[tuple[str, str, Kind]] = [
    ("period", column_label("period", "zh"), "text"),
    ("union_status", column_label("union_status", "zh"), "text"),
    ("fund", column_label("fund", "zh"), "text"),
    ("rate_bp", column_label("rate_bp", "zh"), "bp"),
    ("wage_base_fen", column_label("wage_base_fen", "zh"), "money"),
    ("base_source", column_label("base_source", "zh"), "text"),
    ("base_period", _label("base_period"), "text"),
    ("expected_fen", column_label("expected_fen", "zh"), "money"),
    ("paid_dues_fen", column_label("paid_dues_fen", "zh"), "money"),
    ("paid_prep_fen", column_label("paid_prep_fen", "zh"), "money"),
    ("allocated_fen", column_label("allocated_fen", "zh"), "money"),
    ("paid_fen", column_label("paid_fen", "zh"), "money"),
    ("variance_fen", column_label("variance_fen", "zh"), "money"),
    ("status", column_label("status", "zh"), "text"),
    ("due_date", column_label("due_date", "zh"), "date"),
    ("days_past_due", column_label("days_past_due", "zh"), "int"),
    ("owed_fen", _label("owed_fen"), "money"),
    ("credit_fen", _label("month_credit_fen"), "money"),
    ("running_arrears_fen", _label("running_arrears_fen"), "money"),
    ("aging_bucket", _label("aging_bucket"), "text"),
    ("lines", _label("lines"), "int"),
    ("notes", _label("notes"), "text"),
]
_MONTH_TOTALS = ("expected_fen", "paid_dues_fen", "paid_prep_fen", "allocated_fen", "paid_fen",
                 "variance_fen", "owed_fen", "credit_fen", "lines")  # fmt: skip
_MONTH_WIDTHS = [14, 10, 11, 7, 14, 12, 10, 13, 13, 13, 13, 13, 13, 9, 11, 8, 13, 12, 13, 11, 8, 16]

_LINES: list[tuple[str, str, Kind]] = [
    ("uscc", column_label("uscc", "zh"), "text"),
    ("name", column_label("name", "zh"), "text"),
    ("period", column_label("period", "zh"), "text"),
    ("kind", _label("kind"), "text"),
    ("key", _label("key"), "text"),
    ("line_no", column_label("line_no", "zh"), "int"),
    ("item", _label("item"), "text"),
    ("paid_date", _label("paid_date"), "date"),
    ("period_start", column_label("period_start", "zh"), "date"),
    ("period_end", column_label("period_end", "zh"), "date"),
    ("months_covered", _label("months_covered"), "int"),
    ("line_wage_base_fen", _label("line_wage_base_fen"), "money"),
    ("line_amount_fen", _label("line_amount_fen"), "money"),
    ("wage_base_fen", _label("share_wage_base_fen"), "money"),
    ("amount_fen", _label("share_amount_fen"), "money"),
    ("paid_dues_fen", column_label("paid_dues_fen", "zh"), "money"),
    ("paid_prep_fen", column_label("paid_prep_fen", "zh"), "money"),
    ("allocated_fen", column_label("allocated_fen", "zh"), "money"),
    ("source_file", column_label("source_file", "zh"), "text"),
    ("source_row", column_label("source_row", "zh"), "int"),
]
_LINE_TOTALS = ("wage_base_fen", "amount_fen", "paid_dues_fen", "paid_prep_fen", "allocated_fen")
_LINE_WIDTHS = [21, 24, 9, 9, 22, 7, 11, 12, 11, 11, 8, 15, 13, 15, 13, 13, 13, 13, 28, 8]


def _shown_months(months: pl.DataFrame) -> pl.DataFrame:
    """The months as the sheet shows them: labels for codes, flags as a note."""
    status = value_labels("status", "zh")
    notes = pl.concat_str(
        [
            pl.when(pl.col("fund_mismatch")).then(pl.lit(column_label("fund_mismatch", "zh"))),
            pl.when(pl.col("channel_mismatch")).then(
                pl.lit(column_label("channel_mismatch", "zh"))
            ),
        ],
        separator="；",
        ignore_nulls=True,
    )
    return months.with_columns(
        pl.col("union_status").replace(value_labels("union_kind", "zh")),
        pl.col("fund").replace(value_labels("fund", "zh")),
        pl.col("base_source").replace(value_labels("base_source", "zh")),
        pl.col("status").replace(status),
        aging_bucket=pl.col("aging_bucket").map_elements(_bucket_label, return_dtype=pl.String),
        notes=pl.when(notes != "").then(notes),
    )


def _shown_lines(lines: pl.DataFrame, units: pl.DataFrame) -> pl.DataFrame:
    return lines.join(units.select("uscc", "name"), on="uscc", how="left").with_columns(
        kind=pl.col("kind").replace({k: _label(k) for k in ("receipt", "allocation")}),
        key=pl.coalesce("receipt_no", "voucher_no"),
        item=pl.col("item").replace(_ITEMS),
    )


class _Sheet:
    """A sheet written row by row, with fixed widths and landscape printing."""

    def __init__(self, wb: Any, title: str, widths: Sequence[float]) -> None:
        self.ws = wb.create_sheet(title)
        for i, width in enumerate(widths, 1):
            self.ws.column_dimensions[get_column_letter(i)].width = width
        cells.print_setup(self.ws)
        self.row = 0

    def add(self, *values: Any) -> int:
        self.ws.append(list(values))
        self.row += 1
        return self.row

    def pair(self, label: str, value: Any, kind: Kind = "text") -> None:
        self.add(text_cell(self.ws, label, font=BOLD), styled(self.ws, value, kind))

    def header(self, columns: Sequence[tuple[str, str, Kind]]) -> None:
        self.labels([h for _, h, _ in columns])

    def labels(self, labels: Sequence[str]) -> None:
        """A header row; tall enough for two lines of wrapped label."""
        self.add(*header_cells(self.ws, list(labels)))
        self.ws.row_dimensions[self.row].height = 30

    def rows(self, frame: pl.DataFrame, columns: Sequence[tuple[str, str, Kind]]) -> None:
        for row in frame.iter_rows(named=True):
            values = [styled(self.ws, row[name], kind) for name, _, kind in columns]
            self.add(*values)
            if row.get("status") in (value_labels("status", "zh")["underpaid"],):
                self._fill(cells.BAD, len(columns))
            elif row.get("status") == value_labels("status", "zh")["not_filed"]:
                self._fill(cells.WARN, len(columns))

    def _fill(self, variant: int, n: int) -> None:
        fill = cells.FILLS[variant]
        for col in range(1, n + 1):
            self.ws.cell(self.row, col).fill = fill

    def totals(
        self,
        label: str,
        frame: pl.DataFrame,
        columns: Sequence[tuple[str, str, Kind]],
        summed: Sequence[str],
    ) -> None:
        values: list[Any] = []
        for i, (name, _, kind) in enumerate(columns):
            if i == 0:
                values.append(text_cell(self.ws, label, font=BOLD))
            elif name in summed:
                values.append(styled(self.ws, int(frame[name].sum() or 0), kind, font=BOLD))
            else:
                values.append(None)
        self.add(*values)
        for col in range(1, len(columns) + 1):
            self.ws.cell(self.row, col).border = _TOP


def _header_block(sheet: _Sheet, statement: Statement, title: str) -> None:
    run = statement.run
    sheet.add(text_cell(sheet.ws, title, font=TITLE_FONT))
    units = statement.units
    if units.height == 1:
        unit = units.row(0, named=True)
        sheet.pair(_label("unit"), f"{unit['name']}（{unit['uscc']}）")
        sheet.pair(_label("jurisdiction"), unit["jurisdiction"])
    else:
        jurisdictions = units["jurisdiction"].unique().sort().to_list()
        sheet.pair(_label("jurisdiction"), "、".join(jurisdictions))
        sheet.pair(_label("units"), units.height, "int")
    sheet.pair(_label("period"), run.period)
    first = statement.first_shown or run.start_period
    sheet.pair(_label("months"), f"{first} … {run.period}")
    if first != run.start_period:
        sheet.pair(_label("counted_from"), run.start_period)
    sheet.pair(_label("as_of"), run.as_of, "date")
    sheet.pair(_label("run_id"), run.run_id)
    sheet.pair(_label("ledger"), run.ledger)
    if run.stale:
        sheet.add(text_cell(sheet.ws, _label("stale"), font=BOLD))
    if statement.lines_outside:
        sheet.add(text_cell(sheet.ws, _label("outside").format(n=statement.lines_outside)))


def _unit_block(sheet: _Sheet, statement: Statement, unit: dict[str, Any]) -> None:
    type_label = value_labels("unit_type", "zh").get(unit["unit_type"], unit["unit_type"])
    channel = value_labels("channel", "zh").get(unit["channel"], unit["channel"])
    sheet.add(
        text_cell(
            sheet.ws,
            f"{unit['name']}　{unit['uscc']}　{type_label}・{channel}　{unit['jurisdiction']}",
            font=HEADING_FONT,
        )
    )
    summary: list[tuple[str, Any, Kind]] = [
        (_label("arrears"), unit["arrears_fen"], "money"),
        (_label("credit"), unit["credit_fen"], "money"),
        (_label("months_outstanding"), unit["months_outstanding"], "int"),
        (_label("oldest_period"), unit["oldest_period"] or "—", "text"),
    ]
    for suffix, _, _ in statement.aging_buckets:
        label = f"{_label('aging_bucket')} {_bucket_label(suffix)}(元)"
        summary.append((label, unit[f"aging_{suffix}_fen"], "money"))
    # A small table of its own: the labels wrap in their header cells.
    sheet.labels([label for label, _, _ in summary])
    sheet.add(*(styled(sheet.ws, value, kind) for _, value, kind in summary))
    sheet.add()
    months = _shown_months(statement.months.filter(pl.col("uscc") == unit["uscc"]))
    sheet.header(_MONTHS)
    if months.is_empty():
        sheet.add(text_cell(sheet.ws, _label("no_months")))
        return
    sheet.rows(months, _MONTHS)
    not_due = value_labels("status", "zh")["not_due"]
    sheet.totals(
        _label("totals_due"), months.filter(pl.col("status") != not_due), _MONTHS, _MONTH_TOTALS
    )
    later = months.filter(pl.col("status") == not_due)
    if later.height:
        sheet.totals(_label("totals_not_due"), later, _MONTHS, _MONTH_TOTALS)


def _months_sheet(wb: Any, statement: Statement) -> None:
    one = statement.units.height == 1
    title = _label("title") if one else _label("title_jurisdiction")
    sheet = _Sheet(wb, _label("sheet_months"), _MONTH_WIDTHS)
    _header_block(sheet, statement, title)
    for i, unit in enumerate(statement.units.iter_rows(named=True)):
        if i:
            sheet.ws.row_breaks.append(Break(id=sheet.row))  # each unit on a page of its own
        sheet.add()
        _unit_block(sheet, statement, unit)
    sheet.ws.print_options.horizontalCentered = True


def _lines_sheet(wb: Any, statement: Statement) -> None:
    sheet = _Sheet(wb, _label("sheet_lines"), _LINE_WIDTHS)
    sheet.add(text_cell(sheet.ws, _label("lines_title"), font=TITLE_FONT))
    sheet.pair(_label("period"), statement.run.period)
    sheet.pair(_label("run_id"), statement.run.run_id)
    sheet.add()
    sheet.header(_LINES)
    first = sheet.row
    lines = _shown_lines(statement.lines, statement.units)
    sheet.rows(lines, _LINES)
    sheet.totals(_label("totals"), lines, _LINES, _LINE_TOTALS)
    sheet.ws.freeze_panes = f"C{first + 1}"
    sheet.ws.print_title_rows = f"{first}:{first}"


_UNITS: list[tuple[str, str, Kind]] = [
    ("uscc", column_label("uscc", "zh"), "text"),
    ("name", column_label("name", "zh"), "text"),
    ("jurisdiction", column_label("jurisdiction", "zh"), "text"),
    ("months", _label("months_count"), "int"),
    ("expected_fen", _label("expected_due_fen"), "money"),
    ("paid_fen", _label("paid_due_fen"), "money"),
    ("variance_fen", _label("variance_due_fen"), "money"),
    ("arrears_fen", column_label("arrears_fen", "zh"), "money"),
    ("credit_fen", column_label("credit_fen", "zh"), "money"),
    ("months_outstanding", column_label("months_outstanding", "zh"), "int"),
    ("oldest_period", column_label("oldest_period", "zh"), "text"),
]


def _units_sheet(wb: Any, statement: Statement) -> None:
    aging: list[tuple[str, str, Kind]] = [
        (f"aging_{s}_fen", column_label(f"aging_{s}_fen", "zh"), "money")
        for s, _, _ in statement.aging_buckets
    ]
    columns: list[tuple[str, str, Kind]] = [*_UNITS, *aging]
    widths = [21, 26, 14, 8, 15, 15, 15, 14, 14, 9, 12, *([15] * len(aging))]
    sheet = _Sheet(wb, _label("sheet_units"), widths)
    sheet.add(text_cell(sheet.ws, _label("units_title"), font=TITLE_FONT))
    sheet.pair(_label("period"), statement.run.period)
    sheet.add()
    sheet.header(columns)
    sheet.rows(statement.units, columns)
    summed = [n for n, _, k in columns if k == "money"] + ["months_outstanding"]
    sheet.totals(_label("totals"), statement.units, columns, summed)


def write_statement(path: Path, statement: Statement) -> None:
    """The statement workbook at `path`, replacing any file there atomically."""
    stamp = datetime(statement.run.as_of.year, statement.run.as_of.month, statement.run.as_of.day)
    wb = Workbook()
    wb.remove(wb.active)
    wb.properties.creator = "dues"
    wb.properties.title = f"{_label('title')} {statement.run.period}"
    wb.properties.created = stamp
    wb.properties.modified = stamp
    _months_sheet(wb, statement)
    _lines_sheet(wb, statement)
    _units_sheet(wb, statement)
    with atomic_path(path) as tmp:
        ExcelWriter(wb, _StableZip(tmp, stamp, {})).save()


def export_statement(statement: Statement, out: Path, fmt: str) -> list[Path]:
    """Write `statement` as the workbook `out` (fmt "xlsx") or as units.parquet,
    months.parquet and lines.parquet in the folder `out` (fmt "parquet")."""
    if fmt == "parquet":
        return statement.write_parquet(out)
    if fmt != "xlsx":
        raise ValueError(f"--format must be xlsx or parquet, not {fmt!r}")
    write_statement(out, statement)
    return [out]
