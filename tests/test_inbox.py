"""`dues.inbox`: which month a scheduled run closes, and which of the inbox's files it reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from dues.inbox import files_for_period
from dues.readers import InputError

# Header rows only: the inbox tells a file's kind by its header, not by its name.
HEADERS = {
    "collections": "电子税票号码,登记序号,社会信用代码(纳税人识别号),纳税人名称,征收品目,"
    "征收品目代码,税款所属期起,税款所属期止,计税依据,税率,实缴金额,入库日期",
    "allocations": "voucher_no,uscc,unit_name,period_start,period_end,wage_base,amount,"
    "allocated_date",
    "registry": "统一社会信用代码,单位名称,单位类型,职工人数,管理工会,建会形式,建会日期",
}


def inbox_with(tmp_path: Path, period: str, files: dict[str, str]) -> Path:
    """INBOX/<period>/ holding `files`: file name -> the kind of header it carries."""
    folder = tmp_path / "inbox" / period
    folder.mkdir(parents=True)
    for name, kind in files.items():
        (folder / name).write_text(HEADERS[kind] + "\n", encoding="utf-8")
    return tmp_path / "inbox"


def test_previous_period_is_last_month_in_beijing() -> None:
    from datetime import UTC, datetime

    from dues.inbox import previous_period

    # 2026-11-30 23:00 UTC is already 1 December in Beijing.
    assert previous_period(datetime(2026, 11, 30, 23, 0, tzinfo=UTC)) == "2026-11"
    assert previous_period(datetime(2026, 1, 5, 6, 0, tzinfo=UTC)) == "2025-12"


def test_the_months_files_are_sorted_by_the_kind_their_header_names(tmp_path: Path) -> None:
    inbox = inbox_with(
        tmp_path,
        "2026-08",
        {
            "z_tax.csv": "collections",
            "a_tax.CSV": "collections",  # the suffix in any case
            "fiscal.csv": "allocations",
            "registry.csv": "registry",  # not a month's file: left out
            "notes.txt": "collections",  # not a spreadsheet suffix: never opened
        },
    )
    folder = inbox / "2026-08"
    collections, allocations = files_for_period(inbox, "2026-08")
    assert collections == [str(folder / "a_tax.CSV"), str(folder / "z_tax.csv")]
    assert allocations == [str(folder / "fiscal.csv")]


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (None, "no inbox folder for 2026-08"),
        ({}, "no tax collection file for 2026-08"),
        ({"fiscal.csv": "allocations"}, "no tax collection file for 2026-08"),
    ],
    ids=["no folder for the month", "an empty folder", "allocations only"],
)
def test_a_month_without_a_tax_collection_file_is_refused(
    tmp_path: Path, files: dict[str, str] | None, message: str
) -> None:
    inbox = tmp_path / "inbox" if files is None else inbox_with(tmp_path, "2026-08", files)
    with pytest.raises(InputError, match=message):
        files_for_period(inbox, "2026-08")
