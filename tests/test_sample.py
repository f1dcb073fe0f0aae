"""The generated county and benchmark files: repeatable, valid, shaped as SPEC §1, and
described exactly by their manifests (which `dues validate` must reproduce)."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import polars as pl
import pytest
from stdnum.cn import uscc as stdnum_uscc

from dues.ingest import read_input
from dues.sample import (
    SampleManifest,
    generate_bench,
    generate_collections_csv,
    generate_collections_xlsx,
    generate_county,
    main_sample,
)
from dues.sample.codes import REGISTRATION, make_uscc, org_check
from dues.sample.defects import REASONS
from dues.sample.text import full_width, rate_text, yuan

UNITS = 200
PERIODS = ("2026-07", "2026-08", "2026-09", "2026-10")


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SampleManifest]:
    out = tmp_path_factory.mktemp("county")
    return out, generate_county(out, periods=PERIODS, units=UNITS, seed=11)


@pytest.fixture(scope="module")
def registry(county: tuple[Path, SampleManifest]) -> list[dict[str, Any]]:
    out, manifest = county
    ws = openpyxl.load_workbook(out / manifest.registry, read_only=True).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    header = rows[1]  # one title row above the header
    return [dict(zip(header, row, strict=True)) for row in rows[2:]]


# ---- an independent GB 32100-2015 check (not the generator's, not the validator's) ------

_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def _check_char(code17: str) -> str:
    weights = [pow(3, i, 31) for i in range(17)]  # 1, 3, 9, 27, 19, 26, ... = 3^i mod 31
    total = sum(_CHARS.index(c) * w for c, w in zip(code17, weights, strict=True))
    return _CHARS[-total % 31]


def _valid(code: str) -> bool:
    if code[:2].isdigit():
        return bool(stdnum_uscc.is_valid(code))  # stdnum takes digit-initial codes only
    return len(code) == 18 and all(c in _CHARS for c in code) and _check_char(code[:17]) == code[17]


def test_independent_check_agrees_with_stdnum() -> None:
    for code in ("91110000600037341L", "911100007109310534", "91350100M000100Y43"):
        assert _check_char(code[:17]) == code[17]
        assert stdnum_uscc.is_valid(code)


# ---- codes and text -----------------------------------------------------------------------


@pytest.mark.parametrize("prefix", sorted({p for opts in REGISTRATION.values() for p, _ in opts}))
def test_generated_usccs_are_valid_for_every_registration_prefix(prefix: str) -> None:
    import random

    rng = random.Random(prefix)
    for _ in range(200):
        code = make_uscc(rng, prefix)
        assert code.startswith(prefix)
        assert _valid(code), code
        assert org_check(code[8:16]) == code[16]  # the organisation code's own check


def test_money_and_rate_text_use_integer_arithmetic() -> None:
    assert yuan(123456) == "1234.56"
    assert yuan(5) == "0.05"
    assert yuan(-341528) == "-3415.28"
    assert yuan(123456789012, thousands=True) == "1,234,567,890.12"
    assert yuan(-100, thousands=True) == "-1.00"
    assert full_width("1,234.56") == "１，２３４．５６"
    assert [rate_text(100, s) for s in ("fraction", "percent", "bare")] == ["0.01", "1%", "1"]
    assert [rate_text(200, s) for s in ("fraction", "percent", "bare")] == ["0.02", "2%", "2"]
    assert rate_text(150, "fraction") == "0.015"
    assert rate_text(150, "percent") == "1.5%"


# ---- the county -------------------------------------------------------------------------


def test_same_seed_same_files(county: tuple[Path, SampleManifest], tmp_path: Path) -> None:
    out, manifest = county
    again = generate_county(tmp_path, periods=PERIODS, units=UNITS, seed=11)
    assert again == manifest
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(p.name for p in tmp_path.iterdir())
    for name in names:
        assert (out / name).read_bytes() == (tmp_path / name).read_bytes(), name
        if name.endswith(".xlsx"):
            assert _cells(out / name) == _cells(tmp_path / name)


def _cells(path: Path) -> list[tuple[Any, ...]]:
    ws = openpyxl.load_workbook(path, read_only=True).worksheets[0]
    return list(ws.iter_rows(values_only=True))


def test_another_seed_other_files(county: tuple[Path, SampleManifest], tmp_path: Path) -> None:
    out, manifest = county
    other = generate_county(tmp_path, periods=PERIODS, units=UNITS, seed=12)
    assert (tmp_path / other.registry).read_bytes() != (out / manifest.registry).read_bytes()


def test_manifest_json_is_sorted_and_round_trips(county: tuple[Path, SampleManifest]) -> None:
    out, manifest = county
    text = (out / "manifest.json").read_text(encoding="utf-8")
    assert text == manifest.to_json()
    assert SampleManifest.read(out / "manifest.json") == manifest
    assert list(manifest.files) == sorted(manifest.files)
    assert list(manifest.periods) == list(PERIODS)


def test_registry_usccs_valid_and_unique(registry: list[dict[str, Any]]) -> None:
    codes = [r["统一社会信用代码"] for r in registry]
    assert len(codes) == UNITS == len(set(codes))
    assert all(_valid(c) for c in codes)
    names = [r["单位名称"] for r in registry]
    assert len(set(names)) == len(names)


def test_unmatched_receipts_are_valid_codes_missing_from_the_registry(
    county: tuple[Path, SampleManifest], registry: list[dict[str, Any]]
) -> None:
    _, manifest = county
    known = {r["统一社会信用代码"] for r in registry}
    unmatched = manifest.county.unmatched_usccs
    assert len(unmatched) >= len(PERIODS)
    assert all(_valid(c) and c not in known for c in unmatched)
    files = [manifest.files[f] for p in manifest.periods.values() for f in p.collections]
    assert sum(f.unmatched for f in files) == len(unmatched)


def test_county_is_shaped_like_spec_section_1(
    county: tuple[Path, SampleManifest], registry: list[dict[str, Any]]
) -> None:
    _, manifest = county
    unions = {r["所属工会"] for r in registry}
    assert sum(u.endswith("镇工会") for u in unions) == 15
    assert sum(u.endswith("社区工会") for u in unions) == 20
    assert sum(u.endswith("系统工会") for u in unions) == 20
    assert unions >= {"工业园区工会", "教育系统工会", "卫生健康系统工会"}
    assert len(unions) == 56

    types = Counter(r["单位类型"] for r in registry)
    assert types["企业"] > UNITS // 2  # mostly enterprises
    assert set(types) == {"企业", "企业化管理事业单位", "党政机关", "事业单位", "社会组织", "其他"}
    tax = [r for r in registry if r["单位类型"] not in ("党政机关", "事业单位")]
    organized = sum(r["建会形式"] != "未建会" for r in tax)
    assert 0.90 <= organized / len(tax) <= 0.99  # founding rate (组建率) about 96%
    assert manifest.county.founding_rate_bp == organized * 10_000 // len(tax)

    assert any(r["申报期限"] == "按季" for r in tax)  # quarterly tax filers
    for r in registry:
        assert 0 <= r["会员人数"] <= r["职工人数"]
        assert (r["建会日期"] is None) == (r["建会形式"] == "未建会")
    # Unions founded during the reconciled months make a preparatory-fund return arise.
    history = date.fromisoformat(manifest.county.history_start + "-01")
    mid_year = [
        r
        for r in registry
        if isinstance(r["建会日期"], datetime) and r["建会日期"].date() > history
    ]
    assert {r["统一社会信用代码"] for r in mid_year} == set(manifest.county.founded_mid_year)
    assert len(mid_year) >= 2


def test_every_reason_code_is_injected(county: tuple[Path, SampleManifest]) -> None:
    _, manifest = county
    collections = [manifest.files[f] for p in manifest.periods.values() for f in p.collections]
    assert len(collections) == len(PERIODS)
    seen = Counter[str]()
    for f in collections:
        seen.update(f.bad_rows)
        assert f.duplicates == 1  # one exact duplicate line per collection file
    assert set(seen) == set(REASONS)
    assert "conflicting_duplicate" in REASONS and "bad_enum" in REASONS


def test_manifest_accounts_for_every_row_and_fen(county: tuple[Path, SampleManifest]) -> None:
    _, manifest = county
    for name, f in manifest.files.items():
        assert f.rows == f.accepted + f.quarantined + f.duplicates, name
        assert f.quarantined == sum(f.bad_rows.values()) == len(f.quarantine), name
        assert f.read_amount_fen == (
            f.accepted_amount_fen + f.quarantined_amount_fen + f.duplicate_amount_fen
        ), name
        assert f.totals_fen in (None, f.read_amount_fen), name
        rows = [q.row for q in f.quarantine]
        assert rows == sorted(rows) and all(r > f.header_row for r in rows), name


def test_files_rotate_through_the_bureau_styles(county: tuple[Path, SampleManifest]) -> None:
    out, manifest = county
    c_files = [p.collections[0] for p in manifest.periods.values()]
    a_files = [p.allocations[0] for p in manifest.periods.values()]
    assert [manifest.files[f].style for f in c_files] == ["xlsx", "gbk", "bom", "english"]
    assert sorted(manifest.files[f].style for f in a_files) == ["bom", "english", "gbk", "xlsx"]

    book = _cells(out / c_files[0])
    assert book[3][0] == "电子税票号码" and book[-1][0] == "合计"  # 3 title rows, a totals row
    assert any(isinstance(row[11], int) for row in book[4:-1])  # bare Excel serial dates
    assert any(isinstance(row[11], datetime) for row in book[4:-1])  # date cells

    gbk = (out / c_files[1]).read_bytes()
    with pytest.raises(UnicodeDecodeError):
        gbk.decode("utf-8")
    lines = list(csv.reader(io.StringIO(gbk.decode("gbk"))))
    assert lines[2][0] == "税票号码" and lines[-1][0] == "合计"
    assert any("," in cell for cell in lines[3])  # thousands separators
    assert any(cell.endswith("%") for cell in lines[3])
    assert any(cell.count("/") == 2 for cell in lines[3])  # 2026/8/5

    bom = (out / c_files[2]).read_bytes()
    assert bom.startswith(b"\xef\xbb\xbf")
    text = bom.decode("utf-8-sig")
    assert "元" in text and "．" in text  # 元 suffixes and full-width digits
    english = (out / c_files[3]).read_text(encoding="utf-8")
    assert english.startswith("receipt_no,line_no,uscc,")


def test_validator_reproduces_the_manifest(county: tuple[Path, SampleManifest]) -> None:
    out, manifest = county
    for name, f in manifest.files.items():
        result = read_input(out / name)
        s = result.stats
        assert s.kind == f.kind, name
        assert s.header_row == f.header_row, name
        assert (s.rows_read, s.rows_accepted, s.rows_quarantined, s.rows_duplicate) == (
            f.rows,
            f.accepted,
            f.quarantined,
            f.duplicates,
        ), name
        assert s.quarantined_by_reason == f.bad_rows, name
        assert s.money_accepted_fen == f.accepted_amount_fen, name
        assert s.money_quarantined_fen == f.quarantined_amount_fen, name
        assert s.money_duplicate_fen == f.duplicate_amount_fen, name
        assert s.money_read_fen == f.read_amount_fen, name
        assert s.totals_fen == f.totals_fen, name
        got = result.quarantine.select("source_row", "column", "reason").rows()
        assert got == [(q.row, q.column, q.reason) for q in f.quarantine], name


def test_receipts_carry_refunds_late_payments_and_multi_line_receipts(
    county: tuple[Path, SampleManifest],
) -> None:
    out, manifest = county
    frames = []
    for period, files in manifest.periods.items():
        accepted = read_input(out / files.collections[0]).accepted
        frames.append(accepted.with_columns(run=pl.lit(date.fromisoformat(period + "-01"))))
    receipts = pl.concat(frames)
    assert receipts.filter(pl.col("amount_fen") < 0).height >= 1  # refunds (退库)
    assert receipts.filter(pl.col("line_no") > 1).height >= 1
    # Late payments: paid in a later run for a month two or more months back.
    late = receipts.filter(
        pl.col("period_end") < pl.col("run").dt.offset_by("-1mo"),
        pl.col("paid_date") >= pl.col("run"),
    )
    assert late.height >= 1
    quarterly = receipts.filter(pl.col("period_end") > pl.col("period_start").dt.month_end())
    assert quarterly.height >= 1
    assert set(receipts["item"].unique()) == {"dues", "preparatory"}
    assert set(receipts["rate_bp"].unique()) >= {100, 200}


def test_main_sample_is_the_cli_hook(tmp_path: Path) -> None:
    manifest = main_sample(tmp_path, 120, 5)
    assert (tmp_path / "manifest.json").exists()
    assert list(manifest.periods) == list(PERIODS)
    assert manifest.county.units == 120


# ---- benchmark data -----------------------------------------------------------------------


def test_collections_csv_is_exact_and_repeatable(tmp_path: Path) -> None:
    figures = generate_collections_csv(tmp_path / "a.csv", 6_000, seed=3)
    assert generate_collections_csv(tmp_path / "b.csv", 6_000, seed=3) == figures
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    s = read_input(tmp_path / "a.csv").stats
    assert (s.rows_read, s.rows_accepted, s.rows_quarantined) == (
        figures.rows,
        figures.accepted,
        figures.quarantined,
    )
    assert figures.rows == 6_000 and 0 < figures.quarantined < 30
    assert s.quarantined_by_reason == figures.bad_rows
    assert s.money_accepted_fen == figures.accepted_amount_fen


def test_collections_xlsx_is_exact_and_repeatable(tmp_path: Path) -> None:
    figures = generate_collections_xlsx(tmp_path / "a.xlsx", 600, seed=4)
    generate_collections_xlsx(tmp_path / "b.xlsx", 600, seed=4)
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()
    s = read_input(tmp_path / "a.xlsx").stats
    assert (s.rows_read, s.rows_accepted, s.rows_quarantined) == (
        figures.rows,
        figures.accepted,
        figures.quarantined,
    )
    assert s.money_accepted_fen == figures.accepted_amount_fen
    assert s.totals_check == "ok"


def test_bench_set_is_exact(tmp_path: Path) -> None:
    manifest = generate_bench(tmp_path, units=1_000, months=4, end_period="2026-06", seed=1)
    assert list(manifest.periods) == ["2026-04", "2026-05", "2026-06"]
    registry = read_input(tmp_path / manifest.registry).stats
    assert registry.rows_accepted == 1_000 and registry.rows_quarantined == 0
    lines = 0
    for name, f in manifest.files.items():
        s = read_input(tmp_path / name).stats
        assert (s.rows_read, s.rows_accepted, s.rows_quarantined) == (
            f.rows,
            f.accepted,
            f.quarantined,
        ), name
        assert s.money_accepted_fen == f.accepted_amount_fen, name
        if name.startswith("collections"):
            lines += f.rows
    assert lines == manifest.receipt_lines
    # One receipt a month per tax unit that files (quarterly filers once a quarter).
    assert 700 < manifest.files["collections_2026-05.csv"].rows < 1_000
