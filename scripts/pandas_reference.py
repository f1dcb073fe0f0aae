"""The yardstick of the benchmark: SPEC §4's arithmetic as an analyst would write it in pandas.

Reads the clean CSVs that `dues.sample.generate_bench` writes (a registry, every month's
collection and allocation files) and does rules 1-8 only: split each record over its
months in fen, union status and rate per month, the base with rule 4's estimate, paid
per fund, due date and status, arrears and aging. Writes reconciliation.parquet and
arrears.parquet. Money is integer fen throughout.

No store: every run re-reads every month's files. No validation beyond what pandas
gives for free: a line whose amount or date does not parse is dropped, a line whose
USCC is not in the registry is left out by the join, a (receipt_no, line_no) seen
twice is kept once. No workbook, no run.json. Default policy only (SPEC §4 rule 3).

    python scripts/pandas_reference.py --period 2026-12 --registry R.csv \
        --collections C1.csv C2.csv ... --allocations A1.csv ... --out DIR [--compare run.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

DUE_DAY, TOLERANCE_FEN = 15, 1
AGING = [(0, 30), (31, 90), (91, 180), (181, 365), (366, None)]
FISCAL_TYPES = {"党政机关", "事业单位"}
UNION_KIND = {"单独建会": "own", "联合工会": "joint", "未建会": "none"}
ITEM = {"工会经费": "dues", "工会筹备金": "preparatory", "滞纳金": "late_fee"}
RECEIPT_COLUMNS = {
    "电子税票号码": "receipt_no",
    "登记序号": "line_no",
    "社会信用代码(纳税人识别号)": "uscc",
    "征收品目": "item",
    "税款所属期起": "period_start",
    "税款所属期止": "period_end",
    "计税依据": "wage_base",
    "实缴金额": "amount",
    "入库日期": "paid_date",
}
ALLOCATION_COLUMNS = {
    "拨款凭证号": "voucher_no",
    "统一社会信用代码": "uscc",
    "所属期起": "period_start",
    "所属期止": "period_end",
    "工资总额": "wage_base",
    "划拨金额": "amount",
    "划拨日期": "paid_date",
}


def read_csv(path: Path, columns: dict[str, str]) -> pd.DataFrame:
    frame = pd.read_csv(path, usecols=list(columns), dtype=str, engine="pyarrow")
    return frame.rename(columns=columns)


def fen(text: pd.Series) -> pd.Series:
    """Yuan text -> integer fen (nullable Int64; NaN where it does not parse)."""
    return (pd.to_numeric(text, errors="coerce") * 100).round().astype("Int64")


def month_of(dates: pd.Series) -> pd.Series:
    """Months counted from year 0: 2026-12 -> 2026 * 12 + 11."""
    return dates.dt.year * 12 + dates.dt.month - 1


def read_records(paths: list[str], columns: dict[str, str], key: list[str]) -> pd.DataFrame:
    frames = [read_csv(Path(p), columns) for p in paths]
    if not frames:
        return pd.DataFrame(columns=[*columns.values(), "first", "k"])
    records = pd.concat(frames, ignore_index=True)
    records["wage_base_fen"] = fen(records.pop("wage_base"))
    records["amount_fen"] = fen(records.pop("amount"))
    for col in ("period_start", "period_end", "paid_date"):
        records[col] = pd.to_datetime(records[col], format="%Y-%m-%d", errors="coerce")
    records = records.dropna(
        subset=["wage_base_fen", "amount_fen", "period_start", "period_end", "paid_date"]
    )
    records = records.drop_duplicates(subset=key)
    records["first"] = month_of(records["period_start"])
    records["k"] = month_of(records["period_end"]) - records["first"] + 1
    return records


def split_months(records: pd.DataFrame) -> pd.DataFrame:
    """Rule 1: one row per record and month; floor(x / k) each, the last month the remainder."""
    rows = records.loc[records.index.repeat(records["k"])].copy()
    offset = rows.groupby(level=0).cumcount().to_numpy()
    rows["month"] = rows["first"].to_numpy() + offset
    k = rows["k"].to_numpy()
    last = offset == k - 1
    for col in ("wage_base_fen", "amount_fen"):
        x = rows[col].to_numpy(dtype=np.int64)
        share = x // k
        rows[col] = share + np.where(last, x - share * k, 0)
    return rows.reset_index(drop=True)


def reconcile(args: argparse.Namespace) -> tuple[pd.DataFrame, pd.DataFrame]:
    year, month = map(int, args.period.split("-"))
    end = year * 12 + month - 1
    as_of = pd.Timestamp(year, month, 1) + pd.offsets.MonthEnd(0)

    registry = read_csv(
        Path(args.registry),
        {
            "统一社会信用代码": "uscc",
            "单位类型": "unit_type",
            "建会形式": "union_kind",
            "建会日期": "union_founded",
            "申报期限": "filing_frequency",
            "月工资总额": "monthly_payroll",
        },
    )
    registry["fiscal"] = registry["unit_type"].isin(FISCAL_TYPES)
    registry["union_kind"] = registry["union_kind"].map(UNION_KIND)
    registry["union_founded"] = pd.to_datetime(registry["union_founded"], format="%Y-%m-%d")
    registry["quarterly"] = registry["filing_frequency"] == "按季"
    registry["monthly_payroll_fen"] = fen(registry["monthly_payroll"])

    receipts = read_records(args.collections, RECEIPT_COLUMNS, ["receipt_no", "line_no"])
    allocations = read_records(args.allocations, ALLOCATION_COLUMNS, ["voucher_no"])
    receipts["item"] = receipts["item"].map(ITEM)
    receipts = receipts[receipts["item"] != "late_fee"]
    # The first month is the earliest any record is attributed to, in the registry or not.
    start = int(min(receipts["first"].min(), allocations["first"].min()))

    r = split_months(receipts)
    a = split_months(allocations)
    r["paid_dues_fen"] = np.where(r["item"] == "dues", r["amount_fen"], 0)
    r["paid_prep_fen"] = np.where(r["item"] == "preparatory", r["amount_fen"], 0)
    r["allocated_fen"] = 0
    r["receipt_lines"] = 1
    a["paid_dues_fen"] = a["paid_prep_fen"] = a["receipt_lines"] = 0
    a["allocated_fen"] = a["amount_fen"]
    cols = ["uscc", "month", "wage_base_fen", "paid_dues_fen", "paid_prep_fen"]
    cols += ["allocated_fen", "receipt_lines"]
    months = pd.concat([r[cols], a[cols]], ignore_index=True)
    months = months[months["month"].between(start, end)]
    sums = months.groupby(["uscc", "month"], as_index=False).agg(
        declared_base_fen=("wage_base_fen", "sum"),
        paid_dues_fen=("paid_dues_fen", "sum"),
        paid_prep_fen=("paid_prep_fen", "sum"),
        allocated_fen=("allocated_fen", "sum"),
        receipt_lines=("receipt_lines", "sum"),
        records=("month", "size"),
    )

    # The grid: every registry unit in every month from start to the period.
    n_months = end - start + 1
    grid = pd.DataFrame(
        {
            "uscc": np.repeat(registry["uscc"].to_numpy(), n_months),
            "month": np.tile(np.arange(start, end + 1), len(registry)),
        }
    )
    grid = grid.merge(registry, on="uscc", how="left").merge(sums, on=["uscc", "month"], how="left")
    amounts = ["paid_dues_fen", "paid_prep_fen", "allocated_fen", "receipt_lines", "records"]
    grid[amounts] = grid[amounts].fillna(0).astype("int64")
    grid = grid.sort_values(["uscc", "month"], ignore_index=True)
    grid["period"] = (
        (grid["month"] // 12).astype(str) + "-" + (grid["month"] % 12 + 1).astype(str).str.zfill(2)
    )
    first_day = pd.to_datetime(
        {"year": grid["month"] // 12, "month": grid["month"] % 12 + 1, "day": 1}
    )

    # Rules 2-3: union status and rate per month.
    founded = (grid["union_kind"] != "none") & (grid["union_founded"] <= first_day)
    grid["union_status"] = np.where(founded, grid["union_kind"], "none")
    organized = grid["union_status"].isin(["own", "joint"])
    grid["channel"] = np.where(grid["fiscal"], "fiscal", "tax")
    grid["fund"] = np.where(grid["fiscal"] | organized, "dues", "preparatory")
    grid["rate_bp"] = np.where(grid["fiscal"], 200, np.where(organized, 100, 200))

    # Rule 4: declared, else the latest earlier month with records, else the registry.
    has = grid["records"] > 0
    last = grid["declared_base_fen"].astype("Int64").where(has).groupby(grid["uscc"]).ffill()
    grid["base_source"] = np.select(
        [has, last.notna(), grid["monthly_payroll_fen"].notna()],
        ["declared", "estimated_last", "registry"],
        "unknown",
    )
    grid["wage_base_fen"] = last.fillna(grid["monthly_payroll_fen"]).fillna(0).astype("int64")

    # Rule 5, and round_half_up(base × rate / 10000) in integers.
    grid["paid_fen"] = grid["paid_dues_fen"] + grid["paid_prep_fen"] + grid["allocated_fen"]
    grid["expected_fen"] = (grid["wage_base_fen"] * grid["rate_bp"] * 2 + 10_000) // 20_000
    grid["variance_fen"] = grid["paid_fen"] - grid["expected_fen"]
    tax = grid["channel"] == "tax"
    grid["fund_mismatch"] = tax & (
        ((grid["fund"] == "dues") & (grid["paid_prep_fen"] != 0))
        | ((grid["fund"] == "preparatory") & (grid["paid_dues_fen"] != 0))
    )
    grid["channel_mismatch"] = (tax & (grid["allocated_fen"] != 0)) | (
        ~tax & (grid["receipt_lines"] > 0)
    )

    # Rules 6-7: due on the 15th of the month after (after the quarter for quarterly filers).
    due_month = np.where(grid["quarterly"], grid["month"] // 3 * 3 + 3, grid["month"] + 1)
    grid["due_date"] = pd.to_datetime(
        {"year": due_month // 12, "month": due_month % 12 + 1, "day": DUE_DAY}
    )
    grid["status"] = np.select(
        [
            grid["due_date"] > as_of,
            grid["records"] == 0,
            grid["variance_fen"].abs() <= TOLERANCE_FEN,
            grid["variance_fen"] < 0,
        ],
        ["not_due", "not_filed", "matched", "underpaid"],
        "overpaid",
    )
    grid["days_past_due"] = (as_of - grid["due_date"]).dt.days.where(grid["due_date"] <= as_of)

    # Rule 8: arrears over underpaid and not_filed months, credit over overpaid ones; aging.
    owing = grid["status"].isin(["underpaid", "not_filed"])
    grid["owed"] = np.where(owing, grid["expected_fen"] - grid["paid_fen"], 0)
    grid["credit"] = np.where(grid["status"] == "overpaid", grid["variance_fen"], 0)
    rows = grid[(grid["owed"] > 0) | (grid["credit"] > 0)].copy()
    for low, high in AGING:
        name = f"aging_{low}_{high}_fen" if high else f"aging_over_{low - 1}_fen"
        inside = (rows["days_past_due"] >= low) & (
            (rows["days_past_due"] <= high) if high else True
        )
        rows[name] = np.where(inside, rows["owed"], 0)
    aging = [c for c in rows.columns if c.startswith("aging_")]
    rows["outstanding"] = (rows["owed"] > 0).astype("int64")
    arrears = rows.groupby("uscc", as_index=False).agg(
        arrears_fen=("owed", "sum"),
        credit_fen=("credit", "sum"),
        months_outstanding=("outstanding", "sum"),
        **{c: (c, "sum") for c in aging},
    )
    oldest = rows[rows["owed"] > 0].groupby("uscc")["period"].min().rename("oldest_period")
    arrears = arrears.merge(oldest, on="uscc", how="left")

    reconciliation = grid[
        [
            "period", "uscc", "channel", "union_status", "fund", "rate_bp", "wage_base_fen",
            "base_source", "expected_fen", "paid_dues_fen", "paid_prep_fen", "allocated_fen",
            "paid_fen", "variance_fen", "status", "fund_mismatch", "channel_mismatch",
            "due_date", "days_past_due",
        ]
    ].sort_values(["period", "uscc"])  # fmt: skip
    return reconciliation, arrears


def totals(reconciliation: pd.DataFrame, arrears: pd.DataFrame) -> dict[str, int]:
    """run.json's money totals: the reconciliation's over due months, the arrears'."""
    due = reconciliation[reconciliation["status"] != "not_due"]
    out = {c: int(due[c].sum()) for c in ("expected_fen", "paid_fen", "paid_dues_fen")}
    out |= {c: int(due[c].sum()) for c in ("paid_prep_fen", "allocated_fen")}
    out |= {c: int(arrears[c].sum()) for c in ("arrears_fen", "credit_fen")}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--period", required=True)
    ap.add_argument("--registry", required=True)
    ap.add_argument("--collections", nargs="+", required=True)
    ap.add_argument("--allocations", nargs="*", default=[])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--compare", type=Path, help="a dues run.json to set the totals beside")
    args = ap.parse_args(argv)
    start = time.perf_counter()
    reconciliation, arrears = reconcile(args)
    args.out.mkdir(parents=True, exist_ok=True)
    reconciliation.to_parquet(args.out / "reconciliation.parquet", index=False)
    arrears.to_parquet(args.out / "arrears.parquet", index=False)
    mine = totals(reconciliation, arrears)
    theirs = {}
    if args.compare:
        theirs = json.loads(args.compare.read_text(encoding="utf-8"))["totals"]
    report = {
        "seconds": round(time.perf_counter() - start, 3),
        "rows": len(reconciliation),
        "totals": mine,
    }
    for name, value in mine.items():
        if name in theirs:
            gap = value - theirs[name]
            share = abs(gap) / max(abs(theirs[name]), 1)
            print(f"  {name:<14} pandas {value:>18,}  dues {theirs[name]:>18,}  gap {share:.4%}")
            report.setdefault("gap", {})[name] = gap
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
