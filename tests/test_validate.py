"""`dues validate`: each file read on its own; what was accepted and quarantined written once."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from dues.readers import InputError
from dues.schemas import Kind
from dues.validate import validate_files

COLLECTIONS_HEADER = (
    "电子税票号码,登记序号,社会信用代码(纳税人识别号),纳税人名称,征收品目,征收品目代码,"
    "税款所属期起,税款所属期止,计税依据,税率,实缴金额,入库日期"
)
FILES = {
    "c1.csv": f"""{COLLECTIONS_HEADER}
R1,1,91110000600037341L,甲公司,工会经费,399001010,2026-07-01,2026-07-31,10000.00,1%,100.00,2026-08-10
R2,1,91110000600037341X,丙公司,工会经费,399001010,2026-07-01,2026-07-31,1000.00,1%,10.00,2026-08-12
""",
    "c2.csv": f"""{COLLECTIONS_HEADER}
R3,1,911100007109310534,乙公司,工会经费,399001010,2026-07-01,2026-07-31,5000.00,1%,50.00,2026-08-11
""",
    "a1.csv": """voucher_no,uscc,unit_name,period_start,period_end,wage_base,amount,allocated_date
CZ001,911100007109310534,某局,2026-07-01,2026-09-30,229500.57,4590.01,2026-09-28
""",
}  # c1: one good line, one with a bad check digit; c2: one good line; a1: an allocation


def files(tmp_path: Path, names: list[str]) -> list[Path]:
    """Paths to `names` in tmp_path, written from FILES; a name not in FILES is left absent."""
    for name in names:
        if name in FILES:
            (tmp_path / name).write_text(FILES[name], encoding="utf-8")
    return [tmp_path / name for name in names]


# files | --kind | accepted (file, row) | quarantined (file, row, reason) | errors begin with
VALIDATE_CASES = [
    ("one file: the good line accepted, the bad USCC quarantined",
     ["c1.csv"], None, [("c1.csv", 2)], [("c1.csv", 3, "bad_uscc")], []),
    ("two files of one kind: both in one accepted.parquet, file after file",
     ["c2.csv", "c1.csv"], None, [("c2.csv", 2), ("c1.csv", 2)], [("c1.csv", 3, "bad_uscc")], []),
    ("a file that cannot be read is reported and adds nothing",
     ["c1.csv", "gone.csv"], None, [("c1.csv", 2)], [("c1.csv", 3, "bad_uscc")],
     ["gone.csv: no such file"]),
    ("--kind: a file of another kind cannot be read as that kind",
     ["c1.csv", "a1.csv"], "allocations", [("a1.csv", 2)], [],
     ["c1.csv: this is a tax collection file (税务代收明细), not a fiscal allocation"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("names", "kind", "accepted", "quarantined", "errors"),
    [case[1:] for case in VALIDATE_CASES],
    ids=[case[0] for case in VALIDATE_CASES],
)
def test_validate_writes_every_readable_files_accepted_and_quarantined_rows(
    tmp_path: Path,
    names: list[str],
    kind: Kind | None,
    accepted: list[tuple[str, int]],
    quarantined: list[tuple[str, int, str]],
    errors: list[str],
) -> None:
    out = tmp_path / "out"
    result = validate_files(files(tmp_path, names), out, kind)
    got_accepted = pl.read_parquet(out / "accepted.parquet")
    got_quarantine = pl.read_parquet(out / "quarantine.parquet")
    assert got_accepted.select("source_file", "source_row").rows() == accepted
    assert got_quarantine.select("source_file", "source_row", "reason").rows() == quarantined
    assert len(result.errors) == len(errors)
    assert all(e.startswith(want) for e, want in zip(result.errors, errors, strict=True))
    assert sum(r.stats.rows_accepted for r in result.results) == got_accepted.height
    assert sum(r.stats.rows_quarantined for r in result.results) == got_quarantine.height


def test_nothing_is_written_when_no_file_can_be_read(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = validate_files(files(tmp_path, ["gone.csv"]), out)
    assert (result.results, result.errors) == ([], ["gone.csv: no such file"])
    assert not out.exists()


def test_files_of_different_kinds_are_refused_whole(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(InputError, match=r"different kinds \(allocations, collections\)"):
        validate_files(files(tmp_path, ["c1.csv", "a1.csv"]), out)
    assert not out.exists()


LONG_AGO = f"""{COLLECTIONS_HEADER}
R1,1,91110000600037341L,甲公司,工会经费,399001010,2021-09-01,2021-09-30,100.00,1%,1.00,2026-09-14
R2,1,91110000600037341L,甲公司,工会经费,399001010,2021-10-01,2021-10-31,100.00,1%,1.00,2026-10-14
R3,1,91110000600037341L,甲公司,工会经费,399001010,2006-10-01,2006-10-31,100.00,1%,1.00,2026-10-14
R4,1,91110000600037341L,甲公司,工会经费,399001010,2006-10-01,2006-10-31,100.00,1%,1.00,
"""  # R1: 60 months before it was paid; R2: 60 too; R3: 240; R4 has no paid date


@pytest.mark.parametrize(("max_back", "bad_rows"), [(None, [4]), (60, [4]), (59, [2, 3, 4])])
def test_validate_quarantines_a_period_long_before_its_paid_date(
    tmp_path: Path, max_back: int | None, bad_rows: list[int]
) -> None:
    """SPEC §3: in `dues validate` the paid date stands for the run period; the policy's
    max_back_months (60 by default) is how far back a period may start."""
    path = tmp_path / "old.csv"
    path.write_text(LONG_AGO, encoding="utf-8")
    result = validate_files([path], tmp_path / "out", max_back_months=max_back)
    quarantine = result.results[0].quarantine
    assert quarantine["source_row"].to_list() == bad_rows
    assert set(quarantine["reason"]) == {"bad_period"}
    assert set(quarantine["column"]) == {"period_start"}
    assert result.results[0].stats.rows_conserved and result.results[0].stats.money_conserved


def test_validate_reads_max_back_months_from_the_policy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dues.policy import DEFAULT_POLICY_PATH

    policy = tmp_path / "policy.toml"
    policy.write_text(
        "max_back_months = 300\n"
        + DEFAULT_POLICY_PATH.read_text(encoding="utf-8").replace("max_back_months = 60\n", ""),
        encoding="utf-8",
    )
    monkeypatch.setenv("DUES_CONFIG", str(policy))
    path = tmp_path / "old.csv"
    path.write_text(LONG_AGO, encoding="utf-8")
    assert validate_files([path], tmp_path / "out").results[0].quarantine.is_empty()
    policy.write_text("max_back_months = 0\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"^policy file .* is invalid:") as err:
        validate_files([path], tmp_path / "out")
    assert "\n" not in str(err.value)


def test_a_year_10000_or_0026_is_a_bad_date_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "years.csv"
    lines = [COLLECTIONS_HEADER]
    for i, day in enumerate(
        ["10000-10-14", "0026-10-14", "1900-10-14", "9999-10-14", "2026-10-14"]
    ):
        lines.append(
            f"R{i},1,91110000600037341L,甲公司,工会经费,399001010,2026-09-01,2026-09-30,"
            f"100.00,1%,1.00,{day}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = validate_files([path], tmp_path / "out")
    quarantine = result.results[0].quarantine
    assert quarantine.select("source_row", "column", "reason").rows() == [
        (r, "paid_date", "bad_date") for r in (2, 3, 4, 5)
    ]
    assert result.results[0].accepted["receipt_no"].to_list() == ["R4"]


# ---- issue 11, item 5: the quarantine listed and written for the clerk ------------------

TWO_SPELLINGS = {
    "q1.csv": f"""{COLLECTIONS_HEADER}
R1,1,91110000600037341X,丙公司,工会经费,399001010,2026-07-01,2026-07-31,1000.00,1%,10.00,2026-08-12
R2,1,91110000600037341L,甲公司,工会经费,399001010,2026-07-01,2026-07-31,1000.00,1%,=1+1,2026-08-12
R3,1,91110000600037341L,甲公司,工会经费,399001020,2026-07-01,2026-07-31,1000.00,1%,10.00,2026-08-12
""",
    "q2.csv": """税票号码,统一社会信用代码,纳税人名称,征收品目,税款所属期起,\
税款所属期止,计税依据,税率,实缴金额
S1,91110000600037341L,甲公司,工会经费,2026-07-01,2026-08-15,1000.00,1%,10.00
""",
}  # q1: a bad USCC, an amount that is a formula, a code against its item; q2: a half month


def quarantine_files(tmp_path: Path) -> list[Path]:
    for name, text in TWO_SPELLINGS.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return [tmp_path / name for name in TWO_SPELLINGS]


def test_quarantine_xlsx_shows_reasons_in_words_and_the_cells_under_the_files_headers(
    tmp_path: Path,
) -> None:
    from openpyxl import load_workbook

    from dues.reasons import REASONS

    validate_files(quarantine_files(tmp_path), tmp_path / "out")
    ws = load_workbook(tmp_path / "out" / "quarantine.xlsx")["隔离记录"]
    rows = list(ws.iter_rows(values_only=True))
    header = list(rows[0])
    assert header[:5] == ["来源文件", "行号", "问题字段", "原因代码", "原因"]
    # One column per input column any file has, headed as the files head it.
    assert header[5:] == [
        "电子税票号码 / 税票号码", "登记序号", "社会信用代码(纳税人识别号) / 统一社会信用代码",
        "纳税人名称", "征收品目", "征收品目代码", "税款所属期起", "税款所属期止", "计税依据",
        "税率", "实缴金额", "入库日期",
    ]  # fmt: skip
    got = [dict(zip(header, r, strict=True)) for r in rows[1:]]
    # file | row | column as the file heads it | reason
    assert [(r["来源文件"], r["行号"], r["问题字段"], r["原因代码"]) for r in got] == [
        ("q1.csv", 2, "社会信用代码(纳税人识别号)", "bad_uscc"),
        ("q1.csv", 3, "实缴金额", "bad_number"),
        ("q1.csv", 4, "征收品目代码", "item_code_mismatch"),
        ("q2.csv", 2, "税款所属期起", "bad_period"),
    ]
    assert [r["原因"] for r in got] == [REASONS[r["原因代码"]].zh for r in got]
    assert (
        got[1]["实缴金额"] == "=1+1" and ws.cell(3, header.index("实缴金额") + 1).data_type == "s"
    )
    assert got[3]["电子税票号码 / 税票号码"] == "S1" and got[3]["登记序号"] is None
    assert got[3]["税款所属期止"] == "2026-08-15"


def test_every_reason_code_is_described_in_chinese_and_english() -> None:
    from dues.ingest import _PARSE_REASON
    from dues.reasons import REASONS, reason_text
    from dues.schemas import pandera_schema

    assert set(_PARSE_REASON.values()) <= set(REASONS)
    for code, reason in REASONS.items():
        assert reason.zh and reason.en and reason.zh != reason.en, code
        assert reason_text(code, "en") == reason.en
    assert reason_text("not_a_code") == "not_a_code"
    for kind in ("registry", "collections", "allocations"):
        schema = pandera_schema(kind)
        checks = [*schema.checks, *(c for col in schema.columns.values() for c in col.checks)]
        assert {c.name for c in checks} <= set(REASONS), kind


def test_dues_validate_lists_the_first_quarantined_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from dues.cli import app, console

    # The console's width is fixed when dues.cli is first imported (COLUMNS comes late).
    monkeypatch.setattr(console, "width", 400)
    paths = [str(p) for p in quarantine_files(tmp_path)]
    args = ["validate", *paths, "--out", str(tmp_path / "out"), "--show", "2"]
    result = CliRunner().invoke(app, args, terminal_width=400)
    assert result.exit_code == 0, result.output
    assert "隔离记录(前 2 行，共 4 行)" in result.output
    assert "bad_uscc: 统一社会信用代码不是18位或校验位不符" in result.output
    assert "社会信用代码(纳税人识别号)=91110000600037341X" in result.output
    assert "实缴金额=10.00" in result.output  # the raw cells, as read
    assert "item_code_mismatch: " not in result.output  # the third row is not listed
    assert "quarantine.xlsx" in result.output
    english = CliRunner().invoke(app, [*args, "--lang", "en"], terminal_width=400)
    assert "bad_uscc: not an 18-character USCC" in english.output
