"""The two small sheets: 概览 (totals, collection rates, a chart) and 运行信息.

Totals are plain sums of the frames handed in, so an auditor can tick each one
against the detail sheets; the collection rates are the indicators of SPEC §4
rule 11 as the rules computed them, not re-derived here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
from openpyxl.cell import WriteOnlyCell
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Border, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.pagebreak import Break

from dues.conservation import FileStats
from dues.report import cells
from dues.report.cells import BOLD, HEADING_FONT, TITLE_FONT, Kind, header_cells, styled, text_cell
from dues.report.labels import (
    TABLE_COLUMNS,
    Lang,
    column_label,
    sheet_name,
    text,
    value_labels,
)
from dues.report.settings import ReportSettings
from dues.report.table import require_columns

SIGN_LINE = Border(bottom=Side(style="thin"))

# The overview chart's widest: a landscape A4 page's printable width, about.
CHART_WIDTH_CM = 25.0
# Indicator columns of the per-jurisdiction table (level and year go in the heading).
_INDICATORS = [c for c in TABLE_COLUMNS["indicators"] if c not in ("level", "year")]


class _Sheet:
    """A write-only sheet that remembers which row it is on (for chart references)."""

    def __init__(self, wb: Any, title: str, widths: Sequence[float], lang: Lang) -> None:
        self.ws = wb.create_sheet(title)
        for i, width in enumerate(widths, 1):
            self.ws.column_dimensions[get_column_letter(i)].width = width
        cells.print_setup(self.ws, len(widths), lang)
        self.ws.print_title_cols = "A:A"  # the names beside the columns printed on page two
        self.row = 0

    def add(self, *values: Any) -> int:
        self.ws.append(list(values))
        self.row += 1
        return self.row

    def heading(self, label: str) -> None:
        self.add()
        self.add(text_cell(self.ws, label, font=HEADING_FONT))

    def pairs(self, rows: Sequence[tuple[str, Any, Kind]]) -> None:
        for label, value, kind in rows:
            self.add(text_cell(self.ws, label), styled(self.ws, value, kind))


def _total(frame: pl.DataFrame, column: str, where: pl.Expr | None = None) -> int:
    if where is not None:
        frame = frame.filter(where)
    return int(frame[column].sum() or 0)


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def _year_label(indicators: pl.DataFrame) -> str:
    years = indicators["year"].drop_nulls().unique().sort().to_list()
    return "、".join(str(y) for y in years) or "—"


def write_overview(
    wb: Any,
    tables: Mapping[str, pl.DataFrame],
    run_info: Mapping[str, Any],
    lang: Lang,
    settings: ReportSettings | None = None,
) -> None:
    settings = settings or ReportSettings()
    # Totals come from every unit-month even when the detail sheet lists only exceptions.
    recon = tables.get("reconciliation_full", tables["reconciliation"])
    indicators = tables["indicators"]
    require_columns("indicators", indicators)
    cells.check_money_range(
        indicators, [c for c in _INDICATORS if c.endswith("_fen")], "indicators"
    )
    level_labels = value_labels("level", lang)
    by_jur = indicators.filter(pl.col("level") == "jurisdiction").sort(
        "jurisdiction", maintain_order=True
    )
    county = indicators.filter(pl.col("level") == "county")
    names = [*by_jur["jurisdiction"].to_list(), level_labels["county"]]
    names += [_file_label(r, lang) for r in _money_files(run_info)]  # the tie-out's rows
    first_width = max([28, *(cells.display_width(str(n)) + 2 for n in names)])
    sheet = _Sheet(
        wb,
        sheet_name("overview", lang),
        [min(first_width, 50)] + [16] * (len(_INDICATORS) - 1),
        lang,
    )
    ws = sheet.ws

    if settings.federation:
        sheet.add(text_cell(ws, settings.federation, font=TITLE_FONT))
    sheet.add(text_cell(ws, text("title", lang), font=TITLE_FONT))
    if any(
        cells.beyond_exact(frame, [c for c in frame.columns if c.endswith("_fen")])
        for frame in tables.values()
    ):
        sheet.add(text_cell(ws, text("inexact_note", lang)))
    for key in ("period", "as_of", "run_id"):
        sheet.add(text_cell(ws, text(key, lang)), text_cell(ws, _as_text(run_info.get(key)) or ""))

    sheet.heading(text("totals", lang))
    sheet.add(*header_cells(ws, [text("item", lang), text("value", lang)]))
    sheet.pairs(
        [
            (text("expected", lang), _total(recon, "expected_fen"), "money"),
            (
                text("expected_not_due", lang),
                _total(recon, "expected_fen", pl.col("status") == "not_due"),
                "money",
            ),
            (text("collected", lang), _total(recon, "paid_fen"), "money"),
            (text("arrears", lang), _total(tables["arrears"], "arrears_fen"), "money"),
            (text("credit", lang), _total(tables["arrears"], "credit_fen"), "money"),
            (text("unmatched", lang), _total(tables["unmatched"], "amount_fen"), "money"),
            (text("returnable", lang), _total(tables["prep_returns"], "returnable_fen"), "money"),
            (text("founding_units", lang), tables["founding_drive"].height, "int"),
            (text("quarantined_rows", lang), tables["quarantine"].height, "int"),
        ]
    )

    # Channel rates: the county row of the indicators, or the jurisdictions summed if absent.
    source = county if county.height else by_jur
    year = _year_label(indicators)
    sheet.heading(text("by_channel", lang).format(year=year))
    sheet.add(
        *header_cells(
            ws,
            [
                text("channel", lang),
                column_label("expected_fen", lang),
                column_label("paid_fen", lang),
                text("rate", lang),
            ],
        )
    )
    channels = value_labels("channel", lang)
    grand = [0, 0]
    for channel in ("tax", "fiscal"):
        expected = _total(source, f"{channel}_expected_fen")
        collected = _total(source, f"{channel}_collected_fen")
        grand = [grand[0] + expected, grand[1] + collected]
        rate = (
            source[f"{channel}_collection_rate"][0]
            if county.height
            else _ratio(collected, expected)
        )
        sheet.add(
            text_cell(ws, channels[channel]),
            styled(ws, expected, "money"),
            styled(ws, collected, "money"),
            styled(ws, rate, "rate"),
        )
    sheet.add(
        text_cell(ws, text("all_channels", lang)),
        styled(ws, grand[0], "money"),
        styled(ws, grand[1], "money"),
        styled(ws, _ratio(grand[1], grand[0]), "rate"),
    )

    _tie_out(sheet, run_info, tables["unmatched"], lang)

    sheet.heading(text("by_jurisdiction", lang).format(year=year))
    header_row = sheet.add(*header_cells(ws, [column_label(c, lang) for c in _INDICATORS]))
    kinds = {c: _indicator_kind(c, indicators.schema[c]) for c in _INDICATORS}
    for row in by_jur.select(_INDICATORS).iter_rows(named=True):
        sheet.add(*(styled(ws, row[c], kinds[c]) for c in _INDICATORS))
    last_jur_row = sheet.row
    for row in county.select(_INDICATORS).iter_rows(named=True):
        row["jurisdiction"] = level_labels["county"]
        sheet.add(*(styled(ws, row[c], kinds[c], font=BOLD) for c in _INDICATORS))

    _sign_off(sheet, settings.sign_off)
    if by_jur.height:
        _add_chart(sheet, lang, header_row, last_jur_row)


_TIE_OUT = ("rows_read", "money_read_fen", "money_accepted_fen", "money_quarantined_fen",
            "money_duplicate_fen")  # fmt: skip


def _money_files(run_info: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [r for r in run_info.get("inputs") or [] if r.get("kind") != "registry"]


def _file_label(record: Mapping[str, Any], lang: Lang) -> str:
    kind = str(record.get("kind"))
    return f"{record.get('file')}（{value_labels('kind', lang).get(kind, kind)}）"


def _tie_out(
    sheet: _Sheet, run_info: Mapping[str, Any], unmatched: pl.DataFrame, lang: Lang
) -> None:
    """Each money file of the run (run.json's inputs): its money read = accepted +
    quarantined + repeats, and how much of what it brought is on 未匹配税票. Receipts
    still unmatched from earlier runs' files get a row of their own, so the column adds
    up to the overview's unmatched total."""
    files = _money_files(run_info)
    if not files:
        return
    ws = sheet.ws
    by_file = dict(unmatched.group_by("source_file").agg(pl.col("amount_fen").sum()).iter_rows())
    sheet.heading(text("tie_out", lang))
    header = [column_label(c, lang) for c in ("file", *_TIE_OUT)]
    sheet.add(*header_cells(ws, [*header, text("tie_out_unmatched", lang),
                                 column_label("money_conserved", lang)]))  # fmt: skip
    yes_no = value_labels("bool", lang)
    sums = dict.fromkeys((*_TIE_OUT, "unmatched"), 0)
    for record in files:
        stats = FileStats.from_json(record)
        values = {c: int(record.get(c) or 0) for c in _TIE_OUT}
        values["unmatched"] = int(by_file.pop(record["file"], 0) or 0)
        sums = {c: sums[c] + values[c] for c in sums}
        sheet.add(
            text_cell(ws, _file_label(record, lang)),
            *(styled(ws, values[c], "int" if c == "rows_read" else "money") for c in _TIE_OUT),
            styled(ws, values["unmatched"], "money"),
            text_cell(ws, yes_no["true" if stats.money_conserved else "false"]),
        )
    earlier = sum(int(v or 0) for v in by_file.values())
    if earlier:
        sheet.add(
            text_cell(ws, text("tie_out_earlier", lang)),
            *([None] * len(_TIE_OUT)),
            styled(ws, earlier, "money"),
        )
        sums["unmatched"] += earlier
    sheet.add(
        text_cell(ws, text("tie_out_total", lang), font=BOLD),
        *(styled(ws, sums[c], "int" if c == "rows_read" else "money", font=BOLD)
          for c in _TIE_OUT),
        styled(ws, sums["unmatched"], "money", font=BOLD),
    )  # fmt: skip


def _sign_off(sheet: _Sheet, labels: Sequence[str]) -> None:
    """One row of `label：` and a ruled blank to sign on, per label, under the tables."""
    if not labels:
        return
    sheet.add()
    sheet.add()
    # From column B: column A is repeated on the pages to the right (print titles).
    row: list[Any] = [None]
    for label in labels:
        row.append(text_cell(sheet.ws, f"{label}：", font=BOLD))
        blank = WriteOnlyCell(sheet.ws, "")
        blank.border = SIGN_LINE
        row.append(blank)
    sheet.add(*row)


def _indicator_kind(column: str, dtype: pl.DataType) -> Kind:
    if column.endswith("_fen"):
        return "money"
    if column.endswith("_rate") or column.startswith("founding_rate"):
        return "rate"
    return "int" if dtype.is_integer() else "text"


def _add_chart(sheet: _Sheet, lang: Lang, header_row: int, last_row: int) -> None:
    chart = BarChart()
    chart.type = "col"
    chart.title = text("chart", lang)
    chart.y_axis.title = text("rate", lang)
    chart.y_axis.number_format = "0%"
    # openpyxl marks axes deleted by default; recent Excel then hides them.
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    for column in ("tax_collection_rate", "fiscal_collection_rate"):
        col = _INDICATORS.index(column) + 1
        ref = Reference(sheet.ws, min_col=col, min_row=header_row, max_row=last_row)
        chart.add_data(ref, titles_from_data=True)
    chart.set_categories(Reference(sheet.ws, min_col=1, min_row=header_row + 1, max_row=last_row))
    # At most CHART_WIDTH_CM wide, and on a page of its own: never cut by a page break.
    chart.width = min(max(16.0, 1.2 * (last_row - header_row)), CHART_WIDTH_CM)
    chart.height = 9.0
    anchor = sheet.row + 3
    sheet.ws.row_breaks.append(Break(id=anchor - 1))
    sheet.ws.add_chart(chart, f"A{anchor}")


# ---- 运行信息 -------------------------------------------------------------------

_RUN_FIELDS = ("run_id", "period", "as_of", "start_period", "started_at", "finished_at",
               "code_version", "config_hash", "report_detail", "report_distribution")  # fmt: skip
# Not every run.json records these: a big run's notes say what its sheets leave out.
_OPTIONAL_RUN_FIELDS = frozenset(("start_period", "report_detail", "report_distribution"))
_INPUT_FIELDS = ("file", "kind", "sha256", "rows_read", "rows_accepted", "rows_quarantined",
                 "rows_duplicate", "rows_conserved", "money_read_fen", "money_accepted_fen",
                 "money_quarantined_fen", "money_duplicate_fen", "money_conserved", "encoding",
                 "header_row", "totals_fen", "totals_check", "rows_without_paid_date")  # fmt: skip
# Shown only when some input record carries them.
_OPTIONAL_INPUT_FIELDS = frozenset(("money_duplicate_fen", "encoding", "header_row", "totals_fen",
                                    "totals_check", "rows_without_paid_date"))  # fmt: skip


# Run times are kept in UTC (run.json); the workbook shows them as the county reads a clock.
LOCAL_TIME = ZoneInfo("Asia/Shanghai")


def local_time(value: Any) -> str | None:
    """An ISO time as local time to the second, `2026-10-01 08:00:05`; a time without
    a zone is taken as UTC, text that is no time is shown as it is."""
    if value is None or value == "":
        return None
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(LOCAL_TIME).strftime("%Y-%m-%d %H:%M:%S")


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def write_run_info(wb: Any, run_info: Mapping[str, Any], lang: Lang) -> None:
    sheet = _Sheet(wb, sheet_name("run_info", lang), [30, 16, 68] + [16] * 15, lang)
    ws = sheet.ws
    sheet.add(text_cell(ws, text("run", lang), font=HEADING_FONT))
    for key in _RUN_FIELDS:
        if key in _OPTIONAL_RUN_FIELDS and key not in run_info:
            continue
        shown = (local_time if key.endswith("_at") else _as_text)(run_info.get(key)) or ""
        sheet.add(text_cell(ws, text(key, lang)), text_cell(ws, shown))

    inputs: list[Mapping[str, Any]] = list(run_info.get("inputs") or [])
    fields = [
        f
        for f in _INPUT_FIELDS
        if f not in _OPTIONAL_INPUT_FIELDS or any(f in rec for rec in inputs)
    ]
    sheet.heading(text("inputs", lang))
    sheet.add(*header_cells(ws, [column_label(f, lang) for f in fields]))
    kinds = value_labels("kind", lang)
    checks = value_labels("totals_check", lang)
    yes_no = value_labels("bool", lang)
    for record in inputs:
        # The verdicts come from the conservation record itself, not from its JSON copy.
        stats = FileStats.from_json(record)
        values = {**record, "rows_conserved": stats.rows_conserved,
                  "money_conserved": stats.money_conserved}  # fmt: skip
        row: list[Any] = []
        for f in fields:
            value = values.get(f)
            if isinstance(value, bool):
                row.append(text_cell(ws, yes_no["true" if value else "false"]))
            elif f == "kind" and value is not None:
                row.append(text_cell(ws, kinds.get(str(value), str(value))))
            elif f == "encoding" and value == "xlsx":  # a workbook has no text encoding
                row.append(text_cell(ws, text("xlsx_encoding", lang)))
            elif f == "totals_check" and value is not None:
                row.append(text_cell(ws, checks.get(str(value), str(value))))
            elif isinstance(value, int):
                row.append(styled(ws, value, "money" if f.endswith("_fen") else "int"))
            else:
                row.append(None if value is None else text_cell(ws, _as_text(value) or ""))
        sheet.add(*row)

    split: Mapping[str, Any] = run_info.get("distribution") or {}
    if split:
        columns = ("channel", "fund", "lines", "lines_fen", "distributed_fen", "holds")
        sheet.heading(text("distribution", lang))
        sheet.add(*header_cells(ws, [column_label(c, lang) for c in columns]))
        labels = {c: value_labels(c, lang) for c in ("channel", "fund")}
        for record in split.get("by_fund", []):
            sheet.add(
                *(text_cell(ws, labels[c].get(record[c], record[c])) for c in ("channel", "fund")),
                styled(ws, record["lines"], "int"),
                styled(ws, record["lines_fen"], "money"),
                styled(ws, record["distributed_fen"], "money"),
                text_cell(ws, yes_no["true" if record["holds"] else "false"]),
            )

    totals: Mapping[str, Any] = run_info.get("totals") or {}
    sheet.heading(text("run_totals", lang))
    sheet.add(*header_cells(ws, [text("name", lang), text("value", lang)]))
    for name, value in totals.items():
        # Money totals end in _fen (the project's convention); anything else is a count.
        label = column_label(name, lang)
        kind: Kind = "money" if name.endswith("_fen") else "int"
        sheet.add(text_cell(ws, label), styled(ws, value, kind))
