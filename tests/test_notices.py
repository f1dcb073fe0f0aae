"""Arrears notices (`dues notices`, issue 11 item 2): a PDF per jurisdiction, a page per unit.

The pages are read back as text (pypdf) and checked against the run's arrears.parquet:
who gets a page, with which months and amounts; the template's texts are what prints.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import polars as pl
import pytest
from _county_ledger import CountyLedger, periods, request, run_county
from _paths import require_county
from pypdf import PdfReader
from typer.testing import CliRunner

from dues.cli import app
from dues.notices import DEFAULT_TEMPLATE_PATH, PLACEHOLDERS, load_template
from dues.report.notices import file_name
from dues.run import run_period
from dues.statement import StatementError
from dues.summary import yuan

require_county()
PERIOD = periods()[-1]


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> CountyLedger:
    return run_county(tmp_path_factory.mktemp("county"))


def notices(county: CountyLedger, out: Path, *options: str) -> str:
    result = CliRunner().invoke(
        app, ["notices", "--period", PERIOD, "--out", str(out), "--db", county.db, *options]
    )
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())


def pages(path: Path) -> list[str]:
    """Each page's text, with the line breaks a paragraph's wrapping puts in removed."""
    return [page.extract_text().replace("\n", "") for page in PdfReader(path).pages]


def in_arrears(county: CountyLedger) -> pl.DataFrame:
    return county.output(PERIOD, "arrears").filter(pl.col("arrears_fen") > 0)


def test_each_unit_in_arrears_gets_one_page_naming_it_its_months_and_its_total(
    county: CountyLedger, tmp_path: Path
) -> None:
    said = notices(county, tmp_path / "out")
    owing = in_arrears(county)
    months = county.output(PERIOD, "reconciliation").filter(
        pl.col("status").is_in(["underpaid", "not_filed"]),
        pl.col("expected_fen") > pl.col("paid_fen"),
    )
    by_jurisdiction = owing.partition_by("jurisdiction", as_dict=True)
    written = sorted((tmp_path / "out").iterdir())
    assert [p.name for p in written] == sorted(file_name(PERIOD, j) for (j,) in by_jurisdiction)
    assert f"{owing.height} notice(s) of {PERIOD} in {len(written)} file(s)" in said
    for (jurisdiction,), units in by_jurisdiction.items():
        texts = pages(tmp_path / "out" / file_name(PERIOD, str(jurisdiction)))
        assert len(texts) == units.height  # one page per unit, by USCC
        for text, unit in zip(texts, units.sort("uscc").iter_rows(named=True), strict=True):
            assert unit["name"] in text and unit["uscc"] in text
            assert f"欠缴合计人民币{yuan(unit['arrears_fen'])}元" in text
            mine = months.filter(pl.col("uscc") == unit["uscc"])
            assert mine.height == unit["months_outstanding"]
            assert f"以下{mine.height}个月份" in text
            for m in mine.iter_rows(named=True):
                owed = yuan(m["expected_fen"] - m["paid_fen"])
                assert f"{m['period']}" in text and owed in text, (unit["uscc"], m["period"])
            assert "2026年11月15日前" in text  # as-of 2026-10-31 + 15 days


def test_a_unit_below_the_minimum_gets_no_page(county: CountyLedger, tmp_path: Path) -> None:
    owing = in_arrears(county).sort("arrears_fen")
    # Between two units' arrears: the smaller ones are left out.
    middle = owing["arrears_fen"][owing.height // 2]
    threshold = f"{middle // 100}.{middle % 100:02d}"
    notices(county, tmp_path / "out", "--min-arrears-yuan", threshold)
    kept = owing.filter(pl.col("arrears_fen") >= middle)
    assert 0 < kept.height < owing.height
    texts = [t for p in sorted((tmp_path / "out").iterdir()) for t in pages(p)]
    assert len(texts) == kept.height
    everything = "".join(texts)
    for unit in owing.iter_rows(named=True):
        assert (unit["uscc"] in everything) == (unit["arrears_fen"] >= middle), unit["uscc"]


def test_one_jurisdiction_only(county: CountyLedger, tmp_path: Path) -> None:
    owing = in_arrears(county)
    jurisdiction = str(owing["jurisdiction"][0])
    notices(county, tmp_path / "out", "--jurisdiction", jurisdiction)
    assert [p.name for p in (tmp_path / "out").iterdir()] == [file_name(PERIOD, jurisdiction)]


def test_an_empty_selection_says_so_in_one_line_and_writes_nothing(
    county: CountyLedger, tmp_path: Path
) -> None:
    said = notices(county, tmp_path / "out", "--min-arrears-yuan", "100000000")
    assert said == (
        f"no unit of {PERIOD} owes 100,000,000.00 yuan or more: no notice written to "
        f"{tmp_path / 'out'}"
    )
    assert not (tmp_path / "out").exists()


def test_the_same_notices_give_the_same_bytes(county: CountyLedger, tmp_path: Path) -> None:
    notices(county, tmp_path / "a")
    notices(county, tmp_path / "b")
    a = sorted((tmp_path / "a").iterdir())
    assert a and all(p.read_bytes() == (tmp_path / "b" / p.name).read_bytes() for p in a)


def test_the_templates_texts_are_what_prints(county: CountyLedger, tmp_path: Path) -> None:
    text = DEFAULT_TEMPLATE_PATH.read_text(encoding="utf-8")
    mine = tmp_path / "notice.toml"
    mine.write_text(
        text.replace('federation = "（请填写本会名称）县总工会"', 'federation = "青山县总工会"')
        .replace('phone = "（请填写联系电话）"', 'phone = "0571-1234567"')
        .replace("pay_by_days = 15", "pay_by_days = 30"),
        encoding="utf-8",
    )
    notices(county, tmp_path / "out", "--template", str(mine), "--issued", "2026-11-05")
    first = pages(sorted((tmp_path / "out").iterdir())[0])[0]
    assert "青山县总工会" in first and "0571-1234567" in first
    assert "2026年11月5日" in first and "2026年12月5日前" in first  # issued + 30 days
    assert "《中华人民共和国工会法》" in first


def test_the_default_template_cites_the_trade_union_law_without_article_numbers() -> None:
    template = load_template()
    basis = "".join(template.legal_basis)
    assert "《中华人民共和国工会法》" in basis
    assert re.search("第[一二三四五六七八九十百零0-9]+条", basis) is None
    assert "A federation edits this file" in DEFAULT_TEMPLATE_PATH.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("{unit_name}：", "{unit}："), "unknown placeholder {unit}"),
        (("pay_by_days = 15", "pay_by_days = -1"), "pay_by_days"),
        (('title = "工会经费催缴通知书"\n', ""), "title: Field required"),
        (("pay_by_days = 15", "pay_by_days = 15\nfax = 1"), "fax"),
    ],
)
def test_a_broken_template_is_one_error_line(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    text = DEFAULT_TEMPLATE_PATH.read_text(encoding="utf-8")
    assert change[0] in text
    path = tmp_path / "notice.toml"
    path.write_text(text.replace(change[0], change[1]), encoding="utf-8")
    with pytest.raises(StatementError, match=message.replace("{", r"\{").replace("}", r"\}")):
        load_template(path)


def test_every_placeholder_the_template_names_is_filled(
    county: CountyLedger, tmp_path: Path
) -> None:
    mine = tmp_path / "notice.toml"
    every = "".join(f"[{p}={{{p}}}]" for p in PLACEHOLDERS)
    text = DEFAULT_TEMPLATE_PATH.read_text(encoding="utf-8")
    mine.write_text(text.replace('salutation = "{unit_name}："', f'salutation = "{every}"'))
    notices(county, tmp_path / "out", "--template", str(mine))
    first = pages(sorted((tmp_path / "out").iterdir())[0])[0]
    for p in PLACEHOLDERS:
        assert f"[{p}=" in first and f"{{{p}}}" not in first


def test_a_stale_period_prints_no_notices(county: CountyLedger, tmp_path: Path) -> None:
    db_file = tmp_path / "copy.db"
    shutil.copyfile(county.db.removeprefix("sqlite:///"), db_file)
    db = f"sqlite:///{db_file}"
    run_period(request("2026-08", tmp_path / "runs", db))  # 09 and 10 go stale
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["notices", "--period", PERIOD, "--out", str(out), "--db", db])
    assert result.exit_code == 2
    assert f"dues rerun --from {PERIOD}" in " ".join(result.output.split())
    assert not out.exists()
