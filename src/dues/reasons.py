"""The quarantine's reason codes (SPEC §3), each described once in Chinese and English.

The codes are stable: auditors filter on them, so a code never changes meaning. This
table is the one place they are described; `dues validate`, quarantine.xlsx and the
workbooks say a reason in words from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Reason:
    zh: str
    en: str

    def said(self, lang: Literal["zh", "en"]) -> str:
        return self.zh if lang == "zh" else self.en


REASONS: dict[str, Reason] = {
    "missing_value": Reason("必填项为空", "a required cell is empty"),
    "bad_uscc": Reason(
        "统一社会信用代码不是18位或校验位不符(GB 32100-2015)",
        "not an 18-character USCC with a valid GB 32100-2015 check character",
    ),
    "bad_number": Reason(
        "不是数字(或应为整数而不是)，或金额超出±1万亿元",
        "not a number (or not a whole number where one is needed), or beyond ±10^12 yuan",
    ),
    "bad_date": Reason(
        "不是日期，或不在2000-01-01至2099-12-31之间",
        "not a date, or outside 2000-01-01 … 2099-12-31",
    ),
    "bad_rate": Reason(
        "不是0至100%之间的税率(0.02、2%或2)", "not a rate (0.02, 2% or 2) between 0 and 100%"
    ),
    "bad_enum": Reason(
        "不是允许的取值(中文名称或英文代码)",
        "not one of the allowed values (English name or Chinese label)",
    ),
    "item_code_mismatch": Reason(
        "征收品目代码与征收品目不一致", "征收品目代码 does not agree with 征收品目"
    ),
    "bad_period": Reason(
        "所属期不是1至12个整月，或起始月早于运行所属期(validate时为入库日期)超过max_back_months个月",
        "period is not whole calendar months, 1 to 12 of them, or starts more than "
        "max_back_months before the run period (before its paid date, in dues validate)",
    ),
    "negative_wage_base": Reason("计税依据(工资总额)小于零", "wage base below zero"),
    "negative_value": Reason(
        "人数或金额不应为负数", "a count or amount that cannot be negative is"
    ),
    "members_exceed_employees": Reason("会员人数多于职工人数", "more members than employees"),
    "missing_union_founded": Reason(
        "已建会单位缺少建会日期", "union founded date missing for a unit with a union"
    ),
    "conflicting_duplicate": Reason(
        "与先前一行编号相同而内容不同(保留先接受的一行)",
        "same key as an earlier line, different content (the first accepted is kept)",
    ),
}


def reason_text(code: str, lang: Literal["zh", "en"] = "zh") -> str:
    """The reason in words; a code not in the table is shown as it is."""
    reason = REASONS.get(code)
    return reason.said(lang) if reason else code
