"""Every word the auditors' workbook shows, in Chinese and English.

The pipeline speaks in English column names and enum codes (SPEC §5); the
workbook is read by finance staff and auditors, so each code gets a label here
and nowhere else. A column or value without a label is written under its code,
never dropped: a new upstream column shows up in the workbook rather than
vanishing from it.
"""

from __future__ import annotations

from typing import Literal

from dues.arrears import AGING_COLUMN
from dues.distribution import WIDE_COLUMNS
from dues.outputs import COLUMNS as OUTPUT_COLUMNS

Lang = Literal["zh", "en"]

# Sheet keys in workbook order; the keys of `tables` are among them.
SHEETS: dict[str, tuple[str, str]] = {
    "overview": ("概览", "Overview"),
    "reconciliation": ("对账明细", "Reconciliation"),
    "arrears": ("欠缴账龄", "Arrears aging"),
    "late_fees": ("滞纳金台账", "Late fees"),
    "founding_drive": ("建会推动", "Founding drive"),
    "prep_returns": ("筹备金返还", "Prep fund returns"),
    "distribution": ("分成明细", "Distribution"),
    "payouts": ("回拨清单", "Payouts"),
    "unmatched": ("未匹配税票", "Unmatched receipts"),
    "quarantine": ("隔离记录", "Quarantine"),
    "run_info": ("运行信息", "Run info"),
}

# The input frames and their columns in sheet order: the SPEC §5 contract
# (dues.outputs), with the columns a sheet groups by moved to the front. The arrears
# frame's aging columns follow its contract: how many is policy (see AGING).
_FIRST = {"founding_drive": ("jurisdiction", "tier")}
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    name: (*_FIRST.get(name, ()), *(c for c in columns if c not in _FIRST.get(name, ())))
    for name, columns in OUTPUT_COLUMNS.items()
}
# 分成明细 shows the distribution one row per line × month, its five levels side by side
# (distribution.parquet's long rows are up to five times as many).
TABLE_COLUMNS["distribution"] = WIDE_COLUMNS

# Money columns end in `_fen` in the data but are shown in yuan, so their labels say 元.
COLUMNS: dict[str, tuple[str, str]] = {
    "period": ("所属期", "Period"),
    "uscc": ("统一社会信用代码", "USCC"),
    "name": ("单位名称", "Unit name"),
    "jurisdiction": ("管理工会", "Jurisdiction"),
    "unit_type": ("单位类型", "Unit type"),
    "channel": ("征收渠道", "Channel"),
    "union_status": ("建会状态", "Union status"),
    "fund": ("应缴款项", "Fund"),
    "rate_bp": ("费率", "Rate"),
    "wage_base_fen": ("工资基数(元)", "Wage base (yuan)"),
    "base_source": ("基数来源", "Base source"),
    "expected_fen": ("应缴金额(元)", "Expected (yuan)"),
    "paid_dues_fen": ("实缴工会经费(元)", "Paid as dues (yuan)"),
    "paid_prep_fen": ("实缴筹备金(元)", "Paid as preparatory fund (yuan)"),
    "allocated_fen": ("财政划拨(元)", "Allocated (yuan)"),
    "paid_fen": ("实缴金额(元)", "Paid (yuan)"),
    "variance_fen": ("差额(元)", "Variance (yuan)"),
    "status": ("状态", "Status"),
    "fund_mismatch": ("错缴款项", "Fund mismatch"),
    "channel_mismatch": ("错缴渠道", "Channel mismatch"),
    "due_date": ("缴款期限", "Due date"),
    "days_past_due": ("逾期天数", "Days past due"),
    "arrears_fen": ("欠缴金额(元)", "Arrears (yuan)"),
    "credit_fen": ("多缴金额(元)", "Credit (yuan)"),
    "months_outstanding": ("欠缴月数", "Months outstanding"),
    "oldest_period": ("最早欠缴所属期", "Oldest period"),
    "employees": ("职工人数", "Employees"),
    "union_kind": ("建会形式", "Union kind"),
    "tier": ("推动档次", "Tier"),
    "prep_paid_12m_fen": ("近12个月已缴筹备金(元)", "Prep fund paid, last 12 months (yuan)"),
    "tier_label": ("档次说明", "Tier (employees)"),
    "action": ("需办事项", "Action"),
    "ownership": ("所有制", "Ownership"),
    "members": ("会员人数", "Members"),
    "union_founded": ("建会日期", "Union founded"),
    "returnable_fen": ("可返还筹备金(元)", "Returnable (yuan)"),
    "accrued_fen": ("应计滞纳金(元)", "Late fee accrued (yuan)"),
    "collected_fen": ("已缴滞纳金(元)", "Late fee collected (yuan)"),
    "balance_fen": ("滞纳金余额(元)", "Late fee balance (yuan)"),
    "source_file": ("来源文件", "Source file"),
    "source_row": ("来源行号", "Source row"),
    "receipt_no": ("电子税票号码", "Receipt no."),
    "taxpayer_name": ("纳税人名称", "Taxpayer name"),
    "amount_fen": ("税票金额(元)", "Amount (yuan)"),
    # unmatched.parquet carries these after the SPEC columns (the receipt line's key and period)
    "line_no": ("税票行号", "Line no."),
    "period_start": ("所属期起", "Period start"),
    "period_end": ("所属期止", "Period end"),
    "column": ("字段", "Column"),
    "reason": ("原因代码", "Reason code"),
    "raw": ("原始数据", "Raw values"),
    "level": ("层级", "Level"),
    # distribution and payouts (rule 13)
    "key": ("税票号/凭证号", "Receipt line / voucher"),
    "recipient": ("受款方", "Recipient"),
    "recipient_kind": ("受款方类型", "Recipient kind"),
    "lines": ("笔数", "Lines"),
    "base_recipient": ("基层受款方", "Base recipient"),
    "base_recipient_kind": ("基层受款方类型", "Base recipient kind"),
    "base_fen": ("基层工会(元)", "Base union (yuan)"),
    "county_fen": ("县级工会(元)", "County (yuan)"),
    "city_fen": ("市级工会(元)", "City (yuan)"),
    "province_fen": ("省级工会(元)", "Province (yuan)"),
    "national_fen": ("全国总工会(元)", "National (yuan)"),
    "lines_fen": ("分成前金额(元)", "Lines (yuan)"),
    "distributed_fen": ("分成合计(元)", "Distributed (yuan)"),
    "holds": ("守恒", "Conserved"),
    "distributed_lines": ("分成笔数", "Lines distributed"),
    "year": ("年度", "Year"),
    "tax_expected_fen": ("税务应缴(元)", "Tax expected (yuan)"),
    "tax_collected_fen": ("税务实缴(元)", "Tax collected (yuan)"),
    "tax_collection_rate": ("税务到位率", "Tax collection rate"),
    "fiscal_expected_fen": ("财政应缴(元)", "Fiscal expected (yuan)"),
    "fiscal_collected_fen": ("财政实缴(元)", "Fiscal collected (yuan)"),
    "fiscal_collection_rate": ("财政到位率", "Fiscal collection rate"),
    "tax_units": ("税务渠道单位数", "Tax-channel units"),
    "tax_units_tier1": ("一档单位数", "Tier-1 units"),
    "organized_tier1": ("一档已建会", "Tier-1 organized"),
    "founding_rate_tier1": ("组建率(一档)", "Founding rate (tier 1)"),
    "organized_tax_units": ("已建会单位数", "Organized units"),
    "founding_rate_all": ("组建率(全部)", "Founding rate (all)"),
    "employees_organized": ("已建会单位职工数", "Employees, organized units"),
    "members_organized": ("会员人数", "Members"),
    "membership_rate": ("入会率", "Membership rate"),
    # run.json input records (运行信息)
    "file": ("文件", "File"),
    "kind": ("类型", "Kind"),
    "sha256": ("SHA-256", "SHA-256"),
    "encoding": ("编码", "Encoding"),
    "header_row": ("表头行", "Header row"),
    "rows_read": ("读入行数", "Rows read"),
    "rows_accepted": ("接受行数", "Rows accepted"),
    "rows_quarantined": ("隔离行数", "Rows quarantined"),
    "rows_duplicate": ("重复行数", "Duplicate rows"),
    "money_read_fen": ("读入金额(元)", "Money read (yuan)"),
    "money_accepted_fen": ("接受金额(元)", "Money accepted (yuan)"),
    "money_quarantined_fen": ("隔离金额(元)", "Money quarantined (yuan)"),
    "money_duplicate_fen": ("重复金额(元)", "Money in duplicates (yuan)"),
    "rows_conserved": ("行数守恒", "Rows conserved"),
    "money_conserved": ("金额守恒", "Money conserved"),
    "rows_without_paid_date": ("无入库日期行数", "Lines without paid date"),
    "totals_check": ("合计行核对", "Totals-row check"),
    "totals_fen": ("合计行金额(元)", "Totals row (yuan)"),
    # run.json totals (运行信息) not named like a column above
    "founding_drive_units": ("待推动建会单位数", "Units for the founding drive"),
    "quarantined_rows": ("隔离记录行数", "Quarantined rows"),
    "unmatched_receipts": ("未匹配税票行数", "Unmatched receipt lines"),
    "unmatched_fen": ("未匹配税票金额(元)", "Unmatched receipts (yuan)"),
    "unmatched_allocations": ("未匹配财政划拨笔数", "Unmatched allocations"),
    "unmatched_allocations_fen": ("未匹配财政划拨金额(元)", "Unmatched allocations (yuan)"),
    "late_fee_accrued_fen": ("应计滞纳金合计(元)", "Late fees accrued (yuan)"),
    "late_fee_collected_fen": ("已缴滞纳金合计(元)", "Late fees collected (yuan)"),
    "late_fee_balance_fen": ("滞纳金余额合计(元)", "Late fee balance (yuan)"),
    "late_fee_undated_lines": (
        "无入库日期按期限计的税票行数",
        "Lines without paid date, taken as paid when due",
    ),
}

# Enum columns of one table whose enum is not the column's everywhere: the split's
# levels are not the indicators' (county there is the county total row).
TABLE_ENUM: dict[tuple[str, str], str] = {
    ("payouts", "level"): "split_level",
    ("payouts", "recipient"): "recipient",
    ("distribution", "base_recipient"): "recipient",
}

# Enum columns and the enum each one holds.
COLUMN_ENUM: dict[str, str] = {
    "unit_type": "unit_type",
    "channel": "channel",
    "union_status": "union_kind",
    "union_kind": "union_kind",
    "fund": "fund",
    "base_source": "base_source",
    "status": "status",
    "level": "level",
    "kind": "kind",
    "ownership": "ownership",
    "action": "action",
    "recipient_kind": "recipient_kind",
    "base_recipient_kind": "recipient_kind",
}

VALUES: dict[str, dict[str, tuple[str, str]]] = {
    "status": {
        "matched": ("已对平", "matched"),
        "underpaid": ("少缴", "underpaid"),
        "overpaid": ("多缴", "overpaid"),
        "not_filed": ("未申报", "not filed"),
        "not_due": ("未到期", "not due"),
    },
    "fund": {"dues": ("工会经费", "dues"), "preparatory": ("工会筹备金", "preparatory fund")},
    "channel": {"tax": ("税务代收", "tax"), "fiscal": ("财政划拨", "fiscal")},
    "base_source": {
        "declared": ("申报", "declared"),
        "estimated_last": ("按上月估算", "estimated (last month)"),
        "registry": ("按名录估算", "estimated (registry)"),
        "unknown": ("未知", "unknown"),
    },
    "union_kind": {
        "own": ("单独建会", "own union"),
        "joint": ("联合工会", "joint union"),
        "none": ("未建会", "no union"),
    },
    "unit_type": {
        "enterprise": ("企业", "enterprise"),
        "enterprise_institution": ("企业化管理事业单位", "enterprise-managed institution"),
        "government_organ": ("党政机关", "government organ"),
        "public_institution": ("事业单位", "public institution"),
        "social_org": ("社会组织", "social organisation"),
        "other": ("其他", "other"),
    },
    "ownership": {"public": ("公有", "public"), "non_public": ("非公有", "non-public")},
    "action": {
        "found_union": ("需建会", "found a union"),
        "found_own_union": ("需单独建会", "found its own union"),
    },
    "level": {"jurisdiction": ("管理工会", "jurisdiction"), "county": ("全县", "county")},
    "kind": {
        "registry": ("单位名录", "registry"),
        "collections": ("税务代收明细", "collections"),
        "allocations": ("财政划拨明细", "allocations"),
    },
    "bool": {"true": ("是", "yes"), "false": ("否", "no")},
    # A file's totals row against the sum of its lines (dues.ingest).
    "totals_check": {
        "absent": ("无合计行", "no totals row"),
        "ok": ("一致", "agrees"),
        "mismatch": ("不一致", "disagrees"),
    },
    "split_level": {
        "base": ("基层工会", "base union"),
        "county": ("县级工会", "county"),
        "city": ("市级工会", "city"),
        "province": ("省级工会", "province"),
        "national": ("全国总工会", "national"),
    },
    # The recipients that are codes (a unit's own union is its USCC, a joint union its
    # jurisdiction's name: shown as they are).
    "recipient": {
        "prep_account": ("筹备金专户", "preparatory-fund account"),
        "county": ("县级工会", "county"),
        "city": ("市级工会", "city"),
        "province": ("省级工会", "province"),
        "national": ("全国总工会", "national"),
    },
    "recipient_kind": {
        "own_union": ("本单位工会", "own union"),
        "joint_union": ("联合工会", "joint union"),
        "prep_account": ("筹备金专户", "preparatory-fund account"),
        "upper_level": ("上级工会", "upper level"),
    },
}

# Free text of the overview and run-info sheets.
TEXT: dict[str, tuple[str, str]] = {
    "title": ("工会经费对账报告", "Union dues reconciliation report"),
    "inexact_note": (
        "注：超过 Excel 15 位有效数字的金额以文本写出，数字准确无误。",
        "Note: amounts beyond Excel's 15 significant digits are written as text, exactly.",
    ),
    "period": ("所属期", "Period"),
    "as_of": ("截至日期", "As of"),
    "run_id": ("运行编号", "Run id"),
    "totals": ("汇总(对账期间全部单位月份)", "Totals (all reconciled unit-months)"),
    "item": ("项目", "Item"),
    "value": ("数值", "Value"),
    "expected": ("应缴合计(元)", "Expected (yuan)"),
    "expected_not_due": ("其中：未到期应缴(元)", "of which not yet due (yuan)"),
    "collected": ("实缴合计(元)", "Collected (yuan)"),
    "arrears": ("欠缴合计(元)", "Arrears (yuan)"),
    "credit": ("多缴合计(元)", "Credit (yuan)"),
    "unmatched": ("未匹配税票金额(元)", "Unmatched receipts (yuan)"),
    "returnable": ("可返还筹备金(元)", "Returnable prep fund (yuan)"),
    "founding_units": ("待推动建会单位数", "Units for the founding drive"),
    "quarantined_rows": ("隔离记录行数", "Quarantined rows"),
    "by_channel": (
        "分渠道到位率（{year}年，截至所属期）",
        "Collection rate by channel ({year} to date)",
    ),
    "channel": ("渠道", "Channel"),
    "rate": ("到位率", "Collection rate"),
    "all_channels": ("合计", "All channels"),
    "by_jurisdiction": (
        "各管理工会指标(本年度截至所属期)",
        "Indicators by jurisdiction (year to date)",
    ),
    "chart": ("各管理工会到位率", "Collection rate by jurisdiction"),
    "run": ("运行", "Run"),
    "start_period": ("起始所属期", "Start period"),
    "report_detail": ("对账明细说明", "Detail sheet note"),
    "report_distribution": ("分成明细说明", "Split sheet note"),
    "started_at": ("开始时间(北京时间)", "Started at (Beijing time)"),
    "finished_at": ("结束时间(北京时间)", "Finished at (Beijing time)"),
    "code_version": ("代码版本", "Code version"),
    "config_hash": ("配置哈希", "Config hash"),
    "inputs": ("输入文件", "Input files"),
    "xlsx_encoding": ("Excel文件(无需编码)", "Excel workbook (no encoding)"),
    "run_totals": ("运行合计", "Run totals"),
    "distribution": ("分成守恒(本次分成的税票与划拨)", "Distribution conservation (lines split)"),
    "name": ("名称", "Name"),
    "sheet_total": ("合计(本表)", "Total (this sheet)"),
    "tie_out": ("各输入文件金额核对(本次运行)", "Money per input file (this run)"),
    "tie_out_unmatched": ("其中未匹配税票(元)", "Of which unmatched (yuan)"),
    "tie_out_earlier": ("此前各期文件的未匹配税票", "Unmatched from earlier runs' files"),
    "tie_out_total": ("合计", "Total"),
    "legend": ("图例", "Legend"),
}

# What the fills of a detail sheet mean (shown under its rows), by fill variant name.
LEGENDS: dict[str, tuple[tuple[str, tuple[str, str]], ...]] = {
    "reconciliation": (
        ("bad", ("红色底：少缴(当月欠缴)", "Red: underpaid (owes money for the month)")),
        ("warn", ("黄色底：未申报(应缴未缴)", "Yellow: not filed (nothing paid for the month)")),
    ),
    "arrears": (
        (
            "bad",
            (
                "红色底：欠缴金额，及超过首档账龄的欠缴",
                "Red: arrears, and arrears past the first bucket",
            ),
        ),
        (
            "warn",
            (
                "黄色底：首档账龄内的欠缴(提醒)",
                "Yellow: arrears within the first bucket (reminder)",
            ),
        ),
        ("good", ("绿色底：多缴金额", "Green: credit (overpaid)")),
    ),
}


def pick(pair: tuple[str, str], lang: Lang) -> str:
    return pair[0] if lang == "zh" else pair[1]


def sheet_name(key: str, lang: Lang) -> str:
    return pick(SHEETS[key], lang)


def _aging_label(column: str) -> tuple[str, str] | None:
    """An aging column's label from its bucket, so any aging_bucket_days a county sets
    reads in either language."""
    match = AGING_COLUMN.fullmatch(column)
    if match is None:
        return None
    first, last = match.group(1).split("_")
    if first == "over":
        return f"账龄{last}天以上(元)", f"Aged over {last} days (yuan)"
    return f"账龄{first}-{last}天(元)", f"Aged {first}-{last} days (yuan)"


# Columns of one table whose label is not the column's everywhere.
TABLE_LABELS: dict[tuple[str, str], tuple[str, str]] = {
    ("payouts", "amount_fen"): ("分成金额(元)", "Amount (yuan)"),
}


def column_label(column: str, lang: Lang, table: str | None = None) -> str:
    pair = TABLE_LABELS.get((table or "", column)) or COLUMNS.get(column) or _aging_label(column)
    return pick(pair, lang) if pair else column


def text(key: str, lang: Lang) -> str:
    return pick(TEXT[key], lang)


def value_labels(enum: str, lang: Lang) -> dict[str, str]:
    """code -> label of one enum; codes missing here are shown as they are."""
    return {code: pick(pair, lang) for code, pair in VALUES[enum].items()}
