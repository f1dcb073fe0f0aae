"""Unit statements (`dues statement`, issue 11 item 1): a unit's months from the ledger alone.

The reference is what each run of the example county published: every unit's statement
of every period must give its rows of that period's reconciliation.parquet and its row of
arrears.parquet to the fen, and its lines must add up to the months they made.
"""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from _county_ledger import CountyLedger, periods, request, run_county
from _paths import require_county
from typer.testing import CliRunner

from dues.arrears import aging_column
from dues.cli import app
from dues.report.cells import MONEY_FORMAT, fen_to_yuan
from dues.run import run_period
from dues.statement import (
    LINE_COLUMNS,
    MONTH_COLUMNS,
    Statement,
    StatementError,
    load_statement,
)
from dues.store import open_store
from dues.unit_months import RECONCILIATION_COLUMNS

require_county()
PERIODS = periods()


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> CountyLedger:
    return run_county(tmp_path_factory.mktemp("county"))


def statements(county: CountyLedger, period: str) -> dict[str, Statement]:
    """The statement of every unit of the period's registry, each made on its own."""
    usccs = county.output(period, "reconciliation")["uscc"].unique().sort().to_list()
    with open_store(county.db) as store:
        return {u: load_statement(store, period=period, usccs=[u]) for u in usccs}


@pytest.fixture(scope="module")
def every(county: CountyLedger) -> dict[str, dict[str, Statement]]:
    return {period: statements(county, period) for period in PERIODS}


# ---- agreement with the run's outputs, unit by unit -------------------------------------


@pytest.mark.parametrize("period", PERIODS)
def test_every_units_months_are_its_rows_of_the_runs_reconciliation(
    county: CountyLedger, every: dict[str, dict[str, Statement]], period: str
) -> None:
    published = county.output(period, "reconciliation")
    assert len(every[period]) == 40
    for uscc, statement in every[period].items():
        mine = published.filter(pl.col("uscc") == uscc)
        assert statement.months.select(RECONCILIATION_COLUMNS).equals(mine), uscc
        assert statement.run.start_period == mine["period"].min()


@pytest.mark.parametrize("period", PERIODS)
def test_every_units_arrears_credit_and_aging_are_its_row_of_arrears_parquet(
    county: CountyLedger, every: dict[str, dict[str, Statement]], period: str
) -> None:
    published = county.output(period, "arrears")
    listed = 0
    for uscc, statement in every[period].items():
        unit = statement.units.row(0, named=True)
        row = published.filter(pl.col("uscc") == uscc)
        if row.is_empty():  # not listed: it owes nothing and has no credit
            assert (unit["arrears_fen"], unit["credit_fen"]) == (0, 0), uscc
            continue
        listed += 1
        expected = row.row(0, named=True)
        assert {c: unit[c] for c in published.columns} == expected, uscc
        # The months' running arrears end at the unit's arrears; aging adds up per bucket.
        assert statement.months["running_arrears_fen"][-1] == expected["arrears_fen"]
        for suffix, _, _ in statement.aging_buckets:
            in_bucket = statement.months.filter(pl.col("aging_bucket") == suffix)
            assert in_bucket["owed_fen"].sum() == expected[aging_column(suffix)], (uscc, suffix)
    assert listed == published.height


@pytest.mark.parametrize("period", PERIODS)
def test_a_periods_statement_counts_no_line_of_a_later_periods_run(
    county: CountyLedger, every: dict[str, dict[str, Statement]], period: str
) -> None:
    runs = {p: request(p, county.out, county.db) for p in PERIODS}
    allowed = {
        f.name for p, r in runs.items() if p <= period for f in (*r.collections, *r.allocations)
    }
    files = set().union(*(set(s.lines["source_file"].to_list()) for s in every[period].values()))
    assert files <= allowed
    later = {f.name for p, r in runs.items() if p > period for f in r.collections}
    assert not files & later


# ---- the lines made the months ------------------------------------------------------------


def test_the_line_shares_of_each_month_add_up_to_its_paid_figures_and_declared_base(
    every: dict[str, dict[str, Statement]],
) -> None:
    for statement in every[PERIODS[-1]].values():
        sums = statement.lines.group_by("uscc", "period").agg(
            pl.col("paid_dues_fen", "paid_prep_fen", "allocated_fen", "wage_base_fen").sum(),
            pl.len().alias("n"),
        )
        months = statement.months.join(sums, on=["uscc", "period"], how="left", suffix="_lines")
        for m in months.iter_rows(named=True):
            n = m["n"] or 0
            assert m["lines"] == n
            for fund in ("paid_dues_fen", "paid_prep_fen", "allocated_fen"):
                assert m[fund] == (m[f"{fund}_lines"] or 0), (m["uscc"], m["period"], fund)
            if m["base_source"] == "declared":
                assert m["wage_base_fen"] == m["wage_base_fen_lines"]
            else:
                assert n == 0


def test_each_line_is_split_over_the_months_it_covers_and_keeps_every_fen(
    county: CountyLedger, every: dict[str, dict[str, Statement]]
) -> None:
    lines = pl.concat([s.lines for s in every[PERIODS[-1]].values()])
    assert lines.columns == list(LINE_COLUMNS)
    per_line = lines.group_by("kind", "receipt_no", "line_no", "voucher_no").agg(
        pl.len().alias("months"),
        pl.col("months_covered").first(),
        pl.col("amount_fen", "wage_base_fen").sum(),
        pl.col("line_amount_fen", "line_wage_base_fen").first(),
        pl.col("period").n_unique().alias("distinct"),
    )
    assert (per_line["months"] == per_line["months_covered"]).all()
    assert (per_line["distinct"] == per_line["months"]).all()
    assert (per_line["amount_fen"] == per_line["line_amount_fen"]).all()
    assert (per_line["wage_base_fen"] == per_line["line_wage_base_fen"]).all()
    assert per_line.filter(pl.col("months_covered") > 1).height > 0, "the example has quarters"
    assert all(s.lines_outside == 0 for s in every[PERIODS[-1]].values())
    # Every stored line of a registry unit is there (the unmatched receipts have no unit).
    with open_store(county.db) as store:
        run_id = store.list_runs().filter(pl.col("period") == PERIODS[-1])["run_id"][0]
        units = store.load_registry_of_run(run_id)["uscc"]
        stored = sum(
            frame.filter(pl.col("uscc").is_in(units.implode())).height
            for frame in (store.load_receipts(), store.load_allocations())
        )
    assert per_line.height == stored


def test_an_estimated_base_names_the_month_it_was_estimated_from(
    every: dict[str, dict[str, Statement]],
) -> None:
    estimated = 0
    for statement in every[PERIODS[-1]].values():
        months = statement.months
        declared = dict(
            months.filter(pl.col("base_source") == "declared")
            .select("period", "wage_base_fen")
            .iter_rows()
        )
        for m in months.iter_rows(named=True):
            if m["base_source"] == "declared":
                assert m["base_period"] == m["period"]
            elif m["base_source"] == "estimated_last":
                estimated += 1
                assert m["base_period"] < m["period"]
                later_declared = [p for p in declared if m["base_period"] < p < m["period"]]
                assert not later_declared, "the latest earlier month with records"
                if m["base_period"] in declared:
                    assert m["wage_base_fen"] == declared[m["base_period"]]
            else:
                assert m["base_period"] is None
    assert estimated > 0, "the example has months without records"


def test_from_shows_the_later_months_but_keeps_the_running_arrears(
    every: dict[str, dict[str, Statement]],
) -> None:
    def spans(s: Statement) -> bool:
        periods = s.lines["period"]
        return bool((periods < "2026-08").any() and (periods >= "2026-08").any())

    statement = next(s for s in every[PERIODS[-1]].values() if spans(s))
    later = statement.from_period("2026-08")
    assert later.months["period"].min() == "2026-08"
    whole = statement.months.filter(pl.col("period") >= "2026-08")
    assert later.months.equals(whole)
    assert later.units.equals(statement.units)
    assert later.lines.equals(statement.lines.filter(pl.col("period") >= "2026-08"))
    assert 0 < later.lines.height < statement.lines.height
    with pytest.raises(StatementError, match="after the period"):
        statement.from_period("2027-01")


# ---- choosing units and periods -------------------------------------------------------------


def test_a_jurisdictions_statement_holds_each_of_its_units_statements(
    county: CountyLedger, every: dict[str, dict[str, Statement]]
) -> None:
    arrears = county.output(PERIODS[-1], "arrears")
    jurisdiction = arrears["jurisdiction"][0]
    with open_store(county.db) as store:
        together = load_statement(store, jurisdiction=jurisdiction)
    mine = [s for s in every[PERIODS[-1]].values() if s.units["jurisdiction"][0] == jurisdiction]
    assert together.units.height == len(mine) > 1
    assert together.months.equals(pl.concat([s.months for s in mine]))
    assert together.units.equals(pl.concat([s.units for s in mine]))
    assert together.lines.sort(LINE_COLUMNS[:6]).equals(
        pl.concat([s.lines for s in mine]).sort(LINE_COLUMNS[:6])
    )


def test_the_default_period_is_the_latest_completed_run(county: CountyLedger) -> None:
    uscc = county.output(PERIODS[-1], "arrears")["uscc"][0]
    with open_store(county.db) as store:
        latest = load_statement(store, usccs=[uscc])
        runs = store.list_runs()
    assert latest.run.period == PERIODS[-1]
    assert latest.run.run_id == runs.filter(pl.col("period") == PERIODS[-1])["run_id"][0]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--unit", "000000000000000000"], "unit 000000000000000000 is not in the registry of run"),
        (["--jurisdiction", "无此工会"], "no unit of jurisdiction '无此工会' in the registry"),
        (["--unit", "X", "--period", "2025-01"], "the ledger holds no completed run of 2025-01"),
        (["--unit", "X", "--jurisdiction", "Y"], "give --unit USCC or --jurisdiction NAME"),
        ([], "give --unit USCC or --jurisdiction NAME"),
        (["--unit", "X", "--format", "csv"], "--format must be xlsx or parquet"),
        (["--unit", "X", "--period", "2026-13"], "--period must be YYYY-MM"),
    ],
)
def test_what_a_statement_cannot_be_made_of_is_one_error_line(
    county: CountyLedger, tmp_path: Path, options: list[str], message: str
) -> None:
    out = tmp_path / "s.xlsx"
    result = CliRunner().invoke(app, ["statement", *options, "--out", str(out), "--db", county.db])
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
    assert not out.exists()


def test_an_empty_ledger_has_no_statement(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'empty.db'}"
    result = CliRunner().invoke(
        app, ["statement", "--unit", "X", "--out", str(tmp_path / "s.xlsx"), "--db", db]
    )
    assert result.exit_code == 2
    assert "holds no completed run" in result.output


# ---- the workbook and the Parquet files ---------------------------------------------------


def owing_unit(county: CountyLedger) -> dict[str, object]:
    arrears = county.output(PERIODS[-1], "arrears")
    return arrears.sort("arrears_fen", descending=True).row(0, named=True)


def test_the_workbook_names_unit_period_and_run_and_totals_its_months_in_yuan(
    county: CountyLedger, every: dict[str, dict[str, Statement]], tmp_path: Path
) -> None:
    # A unit that owes and paid something: both tables have rows.
    unit = next(
        s.units.row(0, named=True)
        for s in every[PERIODS[-1]].values()
        if s.units["arrears_fen"][0] > 0 and s.lines.height > 0
    )
    out = tmp_path / "对账单.xlsx"
    result = CliRunner().invoke(
        app, ["statement", "--unit", str(unit["uscc"]), "--out", str(out), "--db", county.db]
    )
    assert result.exit_code == 0, result.output
    statement = every[PERIODS[-1]][str(unit["uscc"])]
    assert f"run {statement.run.run_id}" in result.output
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["对账单", "缴款明细", "单位汇总"]
    ws = wb["对账单"]
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    texts = [str(v) for row in rows for v in row if v is not None]
    assert ws["A1"].value == "单位对账单"
    assert f"{unit['name']}（{unit['uscc']}）" in texts
    assert statement.run.run_id in texts and PERIODS[-1] in texts
    header = next(i for i, row in enumerate(rows) if row[:2] == ["所属期", "建会状态"])
    labels = rows[header]
    assert "应缴金额(元)" in labels and "累计欠缴(元)" in labels and "基数来源" in labels
    months = statement.months
    body = rows[header + 1 : header + 1 + months.height]
    assert [r[0] for r in body] == months["period"].to_list()
    expected_col = labels.index("应缴金额(元)")
    cell = ws.cell(header + 2, expected_col + 1)
    assert cell.number_format == MONEY_FORMAT
    assert [Decimal(str(r[expected_col])) for r in body] == [
        fen_to_yuan(v) for v in months["expected_fen"]
    ]
    totals = rows[header + 1 + months.height]
    assert totals[0] == "合计(已到期月份)"
    due = months.filter(pl.col("status") != "not_due")
    assert Decimal(str(totals[expected_col])) == fen_to_yuan(int(due["expected_fen"].sum()))
    owed_col = labels.index("本月欠缴(元)")
    assert Decimal(str(totals[owed_col])) == fen_to_yuan(int(unit["arrears_fen"]))  # type: ignore[call-overload]
    assert body[0][labels.index("建会状态")] in ("单独建会", "联合工会", "未建会")
    lines = wb["缴款明细"]
    line_rows = [[c.value for c in row] for row in lines.iter_rows()]
    assert line_rows[-1][0] == "合计"
    line_header = next(i for i, r in enumerate(line_rows) if r[0] == "统一社会信用代码")
    assert line_rows[line_header + 1 : -1] and len(line_rows[line_header + 1 : -1]) == (
        statement.lines.height
    )
    amount_col = line_rows[line_header].index("本月分摊金额(元)")
    assert Decimal(str(line_rows[-1][amount_col])) == fen_to_yuan(
        int(statement.lines["amount_fen"].sum())
    )


def test_the_same_statement_gives_the_same_bytes(county: CountyLedger, tmp_path: Path) -> None:
    unit = str(owing_unit(county)["uscc"])
    made = []
    for name in ("a.xlsx", "b.xlsx"):
        result = CliRunner().invoke(
            app, ["statement", "--unit", unit, "--out", str(tmp_path / name), "--db", county.db]
        )
        assert result.exit_code == 0, result.output
        made.append((tmp_path / name).read_bytes())
    assert made[0] == made[1]


def test_parquet_holds_the_same_months_lines_and_units(
    county: CountyLedger, tmp_path: Path
) -> None:
    jurisdiction = str(owing_unit(county)["jurisdiction"])
    out = tmp_path / "pq"
    result = CliRunner().invoke(
        app,
        ["statement", "--jurisdiction", jurisdiction, "--format", "parquet", "--out", str(out),
         "--db", county.db, "--period", "2026-09"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    with open_store(county.db) as store:
        statement = load_statement(store, period="2026-09", jurisdiction=jurisdiction)
    months = pl.read_parquet(out / "months.parquet")
    assert months.columns == list(MONTH_COLUMNS)
    assert months.equals(statement.months)
    assert pl.read_parquet(out / "lines.parquet").equals(statement.lines)
    assert pl.read_parquet(out / "units.parquet").equals(statement.units)
    published = county.output("2026-09", "reconciliation").filter(
        pl.col("jurisdiction") == jurisdiction
    )
    assert months.select(RECONCILIATION_COLUMNS).sort("period", "uscc").equals(published)


# ---- a stale period, and the other store --------------------------------------------------


def test_a_stale_periods_statement_says_so(county: CountyLedger, tmp_path: Path) -> None:
    db_file = tmp_path / "copy.db"
    shutil.copyfile(county.db.removeprefix("sqlite:///"), db_file)
    db = f"sqlite:///{db_file}"
    run_period(request("2026-08", tmp_path / "out", db))  # 09 and 10 go stale
    unit = str(owing_unit(county)["uscc"])
    result = CliRunner().invoke(
        app, ["statement", "--unit", unit, "--out", str(tmp_path / "s.xlsx"), "--db", db]
    )
    assert result.exit_code == 0, result.output
    assert "stale:" in result.output
    with open_store(db) as store:
        assert load_statement(store, usccs=[unit]).run.stale
        assert not load_statement(store, period="2026-08", usccs=[unit]).run.stale


@pytest.mark.postgres
def test_statements_agree_with_the_run_on_postgresql(tmp_path: Path, pg_schema_url: str) -> None:
    store_url = pg_schema_url
    ledger = run_county(tmp_path, store_url, upto="2026-08")
    published = ledger.output("2026-08", "reconciliation")
    arrears = ledger.output("2026-08", "arrears")
    with open_store(store_url) as store:
        for uscc in published["uscc"].unique().sort().to_list():
            statement = load_statement(store, usccs=[uscc])
            mine = published.filter(pl.col("uscc") == uscc)
            assert statement.months.select(RECONCILIATION_COLUMNS).equals(mine)
            row = arrears.filter(pl.col("uscc") == uscc)
            if not row.is_empty():
                assert statement.units.select(arrears.columns).equals(row)


def test_from_on_the_command_line_shows_the_months_from_it(
    county: CountyLedger, tmp_path: Path
) -> None:
    unit = str(owing_unit(county)["uscc"])
    out = tmp_path / "pq"
    result = CliRunner().invoke(
        app,
        ["statement", "--unit", unit, "--from", "2026-08", "--format", "parquet",
         "--out", str(out), "--db", county.db],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    months = pl.read_parquet(out / "months.parquet")
    assert months["period"].to_list() == ["2026-08", "2026-09", "2026-10"]
    units = pl.read_parquet(out / "units.parquet")
    assert months["running_arrears_fen"][-1] == units["arrears_fen"][0] > 0
