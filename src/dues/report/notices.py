"""Arrears notices as printable PDF (`dues notices`): one file per jurisdiction, A4,
one page per unit.

Drawn with reportlab and its built-in CJK font (STSong-Light, an Adobe CID font every
PDF reader carries), so no system font is needed or embedded. `invariant=1` leaves
the clock and a random id out of the file: the same notices give the same bytes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus.doctemplate import LayoutError

from dues.files import atomic_path
from dues.notices import Notice, NoticeBatch, NoticeTemplate, fill
from dues.report.labels import value_labels
from dues.summary import yuan

FONT = "STSong-Light"
_UNSAFE = re.compile(r'[\x00-\x1f/\\:*?"<>|]')


def _styles() -> dict[str, ParagraphStyle]:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    body = ParagraphStyle(
        "body", fontName=FONT, fontSize=11, leading=18, wordWrap="CJK", firstLineIndent=22
    )
    return {
        "title": ParagraphStyle(
            "title", parent=body, fontSize=18, leading=26, alignment=TA_CENTER, firstLineIndent=0
        ),
        "plain": ParagraphStyle("plain", parent=body, firstLineIndent=0),
        "body": body,
        "heading": ParagraphStyle("heading", parent=body, fontSize=12, firstLineIndent=0),
        "right": ParagraphStyle("right", parent=body, alignment=TA_RIGHT, firstLineIndent=0),
        "cell": ParagraphStyle("cell", parent=body, fontSize=9.5, leading=13, firstLineIndent=0),
        "small": ParagraphStyle("small", parent=body, fontSize=9.5, leading=14, firstLineIndent=0),
    }


def _escaped(text: str) -> str:
    """Text for a Paragraph, which reads a little XML: its markup characters escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _table(notice: Notice, styles: dict[str, ParagraphStyle]) -> Table:
    funds = value_labels("fund", "zh")
    header = ["所属期", "应缴款项", "应缴金额(元)", "已缴金额(元)", "欠缴金额(元)", "缴款期限",
              "逾期天数"]  # fmt: skip
    rows: list[list[object]] = [list(header)]
    for m in notice.months.iter_rows(named=True):
        rows.append(
            [
                m["period"],
                Paragraph(_escaped(funds.get(m["fund"], m["fund"])), styles["cell"]),
                yuan(m["expected_fen"]),
                yuan(m["paid_fen"]),
                yuan(m["owed_fen"]),
                m["due_date"].isoformat(),
                str(m["days_past_due"]),
            ]
        )
    expected, paid = (int(notice.months[c].sum()) for c in ("expected_fen", "paid_fen"))
    rows.append(["合计", "", yuan(expected), yuan(paid), yuan(notice.total_fen), "", ""])
    widths = [20 * mm, 26 * mm, 27 * mm, 27 * mm, 27 * mm, 24 * mm, 17 * mm]
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), FONT, 9.5),
                ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#DDEBF7")),
                ("ALIGN", (0, 0), (-1, 0), "CENTER"),
                ("ALIGN", (2, 1), (4, -1), "RIGHT"),
                ("ALIGN", (5, 1), (6, -1), "CENTER"),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("SPAN", (0, -1), (1, -1)),
                ("ALIGN", (0, -1), (1, -1), "CENTER"),
            ]
        )
    )
    return table


def _page(
    notice: Notice,
    batch: NoticeBatch,
    template: NoticeTemplate,
    issued: date,
    styles: dict[str, ParagraphStyle],
) -> list[Flowable]:
    fields = notice.fields(batch.run, template, issued)

    def para(text: str, style: str) -> Paragraph:
        return Paragraph(_escaped(fill(text, fields)), styles[style])

    story: list[Flowable] = [
        para(template.title, "title"),
        Spacer(1, 6 * mm),
        para(template.salutation, "plain"),
        *(para(t, "body") for t in template.opening),
        Spacer(1, 3 * mm),
        _table(notice, styles),
        Spacer(1, 3 * mm),
        *(para(t, "body") for t in template.closing),
        Spacer(1, 2 * mm),
        para(template.legal_basis_title, "heading"),
        *(para(t, "body") for t in template.legal_basis),
        Spacer(1, 10 * mm),
        KeepTogether([para(template.signature, "right"), para(fields["issued"], "right")]),
        Spacer(1, 8 * mm),
        para(template.contact, "small"),
        Paragraph(
            _escaped(
                f"统一社会信用代码：{notice.uscc}　所属期：{batch.run.period}　"
                f"账本运行编号：{batch.run.run_id}"
            ),
            styles["small"],
        ),
    ]
    return story


def file_name(period: str, jurisdiction: str) -> str:
    """`催缴通知书_<period>_<jurisdiction>.pdf`, the jurisdiction made safe for a file name."""
    return f"催缴通知书_{period}_{_UNSAFE.sub('_', jurisdiction).strip() or '_'}.pdf"


def write_notices(
    folder: Path, batch: NoticeBatch, template: NoticeTemplate, issued: date
) -> list[Path]:
    """One PDF per jurisdiction of `batch` in `folder`; the paths written, in order."""
    styles = _styles()
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for jurisdiction, notices in batch.by_jurisdiction.items():
        path = folder / file_name(batch.run.period, jurisdiction)
        _write_pdf(path, notices, batch, template, issued, styles, jurisdiction)
        written.append(path)
    return written


def _write_pdf(
    path: Path,
    notices: Sequence[Notice],
    batch: NoticeBatch,
    template: NoticeTemplate,
    issued: date,
    styles: dict[str, ParagraphStyle],
    jurisdiction: str,
) -> None:
    story: list[Flowable] = []
    for i, notice in enumerate(notices):
        if i:
            story.append(PageBreak())
        story += _page(notice, batch, template, issued, styles)
    with atomic_path(path) as tmp:
        doc = SimpleDocTemplate(
            str(tmp),
            pagesize=A4,
            leftMargin=20 * mm,
            rightMargin=20 * mm,
            topMargin=20 * mm,
            bottomMargin=18 * mm,
            title=f"{template.title} {batch.run.period} {jurisdiction}",
            author=template.federation,
            creator="dues",
            invariant=1,
        )
        try:
            doc.build(story)
        except LayoutError as exc:  # a paragraph longer than a page
            raise ValueError(f"{path.name}: a notice does not fit its page ({exc})") from exc
