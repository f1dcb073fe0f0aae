"""The input contracts (schemas/inputs.toml): header matching, the SPEC §2 columns, pandera."""

from __future__ import annotations

import pytest

from dues.schemas import KINDS, alias_map, header_key, input_spec

# SPEC §2.2: the tax system's raw field codes name the collection columns too.
FIELD_CODES = {
    "DZSPHM": "receipt_no", "NSRSBH": "uscc", "NSRMC": "taxpayer_name", "ZSPM_DM": "item_code",
    "SKSSQQ": "period_start", "SKSSQZ": "period_end", "JSYJ": "wage_base", "SL_1": "rate",
    "SJJE": "amount", "RKRQ": "paid_date", "ZSSWJG_DM": "tax_office",
}  # fmt: skip


@pytest.mark.parametrize(
    ("written", "as_read"),
    [("社会信用代码（纳税人识别号）", "社会信用代码(纳税人识别号)"), (" 实缴 金额 ", "实缴金额"),
     ("dzsphm", "DZSPHM"), ("Ｒｅｃｅｉｐｔ_ｎｏ", "receipt_no")],
)  # fmt: skip
def test_headers_match_whatever_their_width_spacing_and_case(written: str, as_read: str) -> None:
    assert header_key(written) == header_key(as_read)


@pytest.mark.parametrize("code", sorted(FIELD_CODES))
def test_every_field_code_names_its_collection_column(code: str) -> None:
    aliases = alias_map("collections")
    assert aliases[header_key(code)] == aliases[header_key(code.lower())] == FIELD_CODES[code]


def test_the_optional_columns_are_those_spec_section_2_marks_optional() -> None:
    optional = {k: {c.name for c in input_spec(k).columns if not c.required} for k in KINDS}
    assert optional["collections"] == {"line_no", "item_code", "paid_date", "tax_office"}
    # union_founded is required only of a unit with a union: a row rule, not a column's.
    assert optional["registry"] == {
        "ownership", "members", "union_founded", "filing_frequency", "monthly_payroll"
    }  # fmt: skip
    assert optional["allocations"] == set()
