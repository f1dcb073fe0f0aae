"""Rule 13, the distribution split (分成) and returns to base unions (回拨): case tables an
auditor can read, the policy's split table and its refusals, and the money identities
(levels add up to the line, a refund reverses its payment) as hypothesis properties.

Shares are basis points of the levels base, county, city, province, national; amounts
are fen. Each expected row is worked by hand in its comment.
"""

from __future__ import annotations

from datetime import date
from itertools import pairwise
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from _frames import (
    ALLOCATION_SCHEMA,
    DEFAULTS,
    RECEIPT_SCHEMA,
    REGISTRY_SCHEMA,
    allocation,
    receipt,
    unit,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from dues.distribution import (
    DISTRIBUTION_COLUMNS,
    WIDE_COLUMNS,
    Distribution,
    distributable_lines,
    distribute,
    distribution_long,
    distribution_wide,
    distribution_wide_of_long,
    payout_order,
    payouts,
    payouts_of_pieces,
    split_conservation,
)
from dues.policy import DEFAULT_POLICY_PATH, EXAMPLE_SPLITS, LEVELS, Policy, load_policy
from dues.rules import level_amounts

EXAMPLE = (6000, 2000, 800, 700, 500)


def payouts_of_long(long: pl.DataFrame) -> pl.DataFrame:
    """The payouts by their definition: per level and recipient of distribution.parquet's
    rows, the distinct lines and the fen."""
    return payout_order(
        long.group_by("level", "recipient", "recipient_kind").agg(
            lines=pl.struct("channel", "key").n_unique().cast(pl.Int64),
            amount_fen=pl.col("amount_fen").sum(),
        )
    )


def split_one(amount: int, shares: tuple[int, ...]) -> tuple[int, ...]:
    frame = pl.DataFrame({"x": [amount], **{lv: [s] for lv, s in zip(LEVELS, shares, strict=True)}})
    exprs = level_amounts(pl.col("x"), [pl.col(lv) for lv in LEVELS])
    row = frame.select(e.alias(lv) for e, lv in zip(exprs, LEVELS, strict=True)).row(0)
    return tuple(int(v) for v in row)


# amount, shares (base, county, city, province, national) -> fen per level
SPLIT_CASES = [
    # 100 yuan of dues by the example row: exact shares, no rounding.
    (10_000, EXAMPLE, (6000, 2000, 800, 700, 500)),
    # 9.99 yuan: 599.4 -> 599, 199.8 -> 200, 79.92 -> 80, 69.93 -> 70; national the rest, 50.
    (999, EXAMPLE, (599, 200, 80, 70, 50)),
    # its refund: every level the exact negative (rounding by magnitude, sign of the line).
    (-999, EXAMPLE, (-599, -200, -80, -70, -50)),
    # 1 fen: base 0.6 -> 1, the others round to 0, national's remainder is 0.
    (1, EXAMPLE, (1, 0, 0, 0, 0)),
    # half a fen rounds up in magnitude: 2.5 -> 3; county is the last nonzero, gets 2.
    (5, (5000, 5000, 0, 0, 0), (3, 2, 0, 0, 0)),
    (-5, (5000, 5000, 0, 0, 0), (-3, -2, 0, 0, 0)),
    # full return (small and micro enterprises): base takes everything.
    (12_345, (10_000, 0, 0, 0, 0), (12_345, 0, 0, 0, 0)),
    # only the national level: it is the last nonzero level, and the only one.
    (777, (0, 0, 0, 0, 10_000), (0, 0, 0, 0, 777)),
    # four quarters of 2 fen: 0.5 -> 1 three times, the last nonzero (province) gets -1.
    (2, (2500, 2500, 2500, 2500, 0), (1, 1, 1, -1, 0)),
    # nothing to split.
    (0, EXAMPLE, (0, 0, 0, 0, 0)),
]


@pytest.mark.parametrize(("amount", "shares", "levels"), SPLIT_CASES)
def test_a_line_splits_by_level_as_the_case_table_says(
    amount: int, shares: tuple[int, ...], levels: tuple[int, ...]
) -> None:
    assert split_one(amount, shares) == levels
    assert sum(levels) == amount


def registry(*units: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame(list(units), schema=REGISTRY_SCHEMA)


def lines(
    receipts: list[dict[str, Any]] = (), allocations: list[dict[str, Any]] = ()
) -> pl.DataFrame:  # type: ignore[assignment]
    return distributable_lines(
        pl.DataFrame(list(receipts), schema=RECEIPT_SCHEMA),
        pl.DataFrame(list(allocations), schema=ALLOCATION_SCHEMA),
    )


def with_policy(**over: Any) -> Policy:
    data = DEFAULTS.model_dump() | over
    return Policy.model_validate(data)


def base_of(wide: pl.DataFrame) -> list[tuple[str, str, str, int]]:
    return wide.select("period", "base_recipient", "base_recipient_kind", "base_fen").rows()


# Who receives the base share (the unit U1 of jurisdiction 东镇工会), month by month.
RECIPIENT_CASES = [
    # own union founded long ago: its own union, named by its USCC.
    ("own union", unit(), "dues", [("2026-07", "U1", "own_union", 6000)]),
    # joint union: the jurisdiction's joint union.
    ("joint union", unit(union_kind="joint"), "dues",
     [("2026-07", "东镇工会", "joint_union", 6000)]),
    # no union: the county's preparatory-fund account, even for dues money.
    ("no union", unit(union_kind="none", founded=None), "dues",
     [("2026-07", "prep_account", "prep_account", 6000)]),
    # preparatory money always goes to the account, whatever the union status.
    ("preparatory of an own union", unit(), "preparatory",
     [("2026-07", "prep_account", "prep_account", 6000)]),
    # founded 2026-07-15: July is still none (rule 2, first day of the month), August own.
    ("founded mid-July", unit(founded="2026-07-15"), "dues-2m",
     [("2026-07", "prep_account", "prep_account", 6000), ("2026-08", "U1", "own_union", 6000)]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "the_unit", "money", "expected"), RECIPIENT_CASES, ids=[c[0] for c in RECIPIENT_CASES]
)
def test_the_base_share_goes_to_the_recipient_of_the_unit_s_status_that_month(
    case: str, the_unit: dict[str, Any], money: str, expected: list[tuple[str, str, str, int]]
) -> None:
    if money == "dues-2m":
        line = receipt("U1", "2026-07", "2026-08", amount=20_000)
    else:
        line = receipt("U1", "2026-07", amount=10_000, item=money)
    wide = distribution_wide(lines([line]), registry(the_unit), DEFAULTS)
    assert base_of(wide) == expected


def test_an_allocation_is_fiscal_dues_and_a_late_fee_is_not_split() -> None:
    organ = unit("G1", unit_type="government_organ", union_kind="own")
    got = lines(
        [
            receipt("G1", "2026-07", amount=100, item="late_fee"),
            receipt("G1", "2026-07", amount=500),
        ],
        [allocation("G1", "2026-07", amount=999)],
    )
    assert got.select("channel", "fund", "amount_fen").rows() == [
        ("fiscal", "dues", 999),
        ("tax", "dues", 500),
    ]
    wide = distribution_wide(got, registry(organ), DEFAULTS)
    assert wide.filter(pl.col("channel") == "fiscal").select(
        "base_fen", "county_fen", "city_fen", "province_fen", "national_fen"
    ).row(0) == (599, 200, 80, 70, 50)


# small_micro_max_employees, the unit -> the row applied (full return or the example)
SMALL_MICRO_CASES = [
    # the class is off while the maximum is 0: the example row
    ("off", 0, unit(employees=5), "dues", EXAMPLE),
    # 5 employees <= 10: the small_micro row returns everything to the base
    ("small enterprise", 10, unit(employees=5), "dues", (10_000, 0, 0, 0, 0)),
    # exactly at the maximum is in the class
    ("at the maximum", 10, unit(employees=10), "dues", (10_000, 0, 0, 0, 0)),
    # 11 employees: the general row
    ("above", 10, unit(employees=11), "dues", EXAMPLE),
    # the example has no small_micro row for the preparatory fund: the general row
    ("preparatory", 10, unit(employees=5), "preparatory", EXAMPLE),
    # a fiscal-channel unit is never small_micro (its allocations take the fiscal row)
    ("organ", 10, unit(employees=5, unit_type="government_organ"), "allocation", EXAMPLE),
]


@pytest.mark.parametrize(
    ("case", "maximum", "the_unit", "money", "shares"),
    SMALL_MICRO_CASES,
    ids=[c[0] for c in SMALL_MICRO_CASES],
)
def test_the_small_micro_row_applies_before_the_general_one(
    case: str, maximum: int, the_unit: dict[str, Any], money: str, shares: tuple[int, ...]
) -> None:
    policy = with_policy(small_micro_max_employees=maximum)
    if money == "allocation":
        got = lines(allocations=[allocation("U1", "2026-07", amount=10_000)])
    else:
        got = lines([receipt("U1", "2026-07", amount=10_000, item=money)])
    wide = distribution_wide(got, registry(the_unit), policy)
    levels = wide.select(f"{lv}_fen" for lv in LEVELS).row(0)
    assert tuple(v or 0 for v in levels) == shares


def test_the_row_in_force_on_the_first_day_of_each_month_applies() -> None:
    """A quarter Jul-Sep of 300 yuan, with a new dues row from 2026-09-01 (base 7000,
    county 1000): July and August by the old row, September by the new one."""
    new = dict(EXAMPLE_SPLITS[0].model_dump(), base=7000, county=1000)
    new["effective_from"] = date(2026, 9, 1)
    policy = with_policy(splits=[*(s.model_dump() for s in EXAMPLE_SPLITS), new])
    wide = distribution_wide(
        lines([receipt("U1", "2026-07", "2026-09", amount=30_000)]), registry(unit()), policy
    )
    assert wide.select("period", "base_fen", "county_fen").rows() == [
        ("2026-07", 6000, 2000),
        ("2026-08", 6000, 2000),
        ("2026-09", 7000, 1000),
    ]


def test_a_level_without_a_share_has_no_row_and_payouts_count_lines() -> None:
    policy = with_policy(small_micro_max_employees=10)
    got = lines(
        [
            receipt("U1", "2026-07", "2026-08", amount=1001),  # 500 + 501
            receipt("U2", "2026-07", amount=200),
        ]
    )
    wide = distribution_wide(got, registry(unit("U1", employees=5), unit("U2")), policy)
    long = distribution_long(wide)
    # U1 is small_micro: one base row per month; U2 five levels.
    assert long.group_by("uscc").len().sort("uscc").rows() == [("U1", 2), ("U2", 5)]
    assert payouts(wide).rows() == [
        ("base", "U1", "own_union", 1, 1001),
        ("base", "U2", "own_union", 1, 120),
        ("county", "county", "upper_level", 1, 40),
        ("city", "city", "upper_level", 1, 16),
        ("province", "province", "upper_level", 1, 14),
        ("national", "national", "upper_level", 1, 10),
    ]
    assert distribution_wide_of_long(long).equals(wide)


def test_distribute_takes_registry_units_and_leaves_the_others_waiting() -> None:
    new_receipts = pl.DataFrame(
        [
            receipt("U1", "2026-07", amount=100),
            receipt("X9", "2026-07", amount=300),
            receipt("X9", "2026-07", amount=5, item="late_fee"),
        ],
        schema=RECEIPT_SCHEMA,
    )
    stored = pl.DataFrame([receipt("U2", "2026-06", amount=200)], schema=RECEIPT_SCHEMA)
    stored = stored.with_columns(stored_run=pl.lit("run-6"))
    none = pl.DataFrame(schema=ALLOCATION_SCHEMA)
    no_marks = {
        "receipts": pl.DataFrame(
            schema={"receipt_no": pl.String, "line_no": pl.Int64, "distributed_period": pl.String}
        ),
        "allocations": pl.DataFrame(
            schema={"voucher_no": pl.String, "distributed_period": pl.String}
        ),
    }
    split = distribute(
        registry(unit("U1"), unit("U2")),
        {"receipts": new_receipts, "allocations": none},
        {"receipts": stored, "allocations": none.with_columns(stored_run=pl.lit("x"))},
        no_marks,
        DEFAULTS,
    )
    assert sorted(split.lines["uscc"]) == ["U1", "U2"]
    # X9 is not in the registry: its dues line waits, its late fee does not.
    assert split.waiting["receipts"].select("uscc", "distributed_period", "waits").rows() == [
        ("X9", None, True)
    ]
    assert split.taken["receipts"].rows() == [(stored["receipt_no"][0], 1, "U2", "run-6")]
    assert all(r["holds"] for r in split.conservation())
    # A line of this run an earlier period distributed (months run out of order) is not
    # distributed again, and keeps its mark.
    marked = no_marks | {
        "receipts": new_receipts.head(1).select(
            "receipt_no", "line_no", distributed_period=pl.lit("2026-05")
        )
    }
    again = distribute(
        registry(unit("U1"), unit("U2")),
        {"receipts": new_receipts, "allocations": none},
        {"receipts": stored.clear(), "allocations": none.with_columns(stored_run=pl.lit("x"))},
        marked,
        DEFAULTS,
    )
    assert again.lines.height == 0
    assert again.waiting["receipts"].select("uscc", "distributed_period", "waits").rows() == [
        ("U1", "2026-05", False),
        ("X9", None, True),
    ]


# --- the policy's split table -----------------------------------------------------


def test_the_shipped_table_is_the_example_and_small_micro_is_off() -> None:
    policy = load_policy(DEFAULT_POLICY_PATH)
    assert policy.splits == EXAMPLE_SPLITS
    assert policy.small_micro_max_employees == 0
    general = {(s.channel, s.fund): s.shares() for s in policy.splits if s.unit_class is None}
    assert general == {
        ("tax", "dues"): EXAMPLE,
        ("tax", "preparatory"): EXAMPLE,
        ("fiscal", "dues"): EXAMPLE,
    }
    classed = [s for s in policy.splits if s.unit_class == "small_micro"]
    assert [(s.channel, s.fund, s.shares()) for s in classed] == [
        ("tax", "dues", (10_000, 0, 0, 0, 0))
    ]


def _policy_file(tmp_path: Path, splits: str, head: str = "") -> Path:
    text = DEFAULT_POLICY_PATH.read_text(encoding="utf-8")
    rates = text[text.index("[[rates]]") : text.index("[[splits]]")]
    path = tmp_path / "policy.toml"
    path.write_text(head + rates + splits, encoding="utf-8")
    return path


def _row(channel: str, fund: str, shares: tuple[int, ...] = EXAMPLE, since: str = "2000-01-01",
         extra: str = "") -> str:  # fmt: skip
    levels = "".join(f"{lv} = {s}\n" for lv, s in zip(LEVELS, shares, strict=True))
    return (
        f'[[splits]]\nchannel = "{channel}"\nfund = "{fund}"\n{extra}{levels}'
        f"effective_from = {since}\n"
    )


GOOD = _row("tax", "dues") + _row("tax", "preparatory") + _row("fiscal", "dues")

REFUSALS = [
    (
        "sum",
        _row("tax", "dues", (6000, 2000, 800, 600, 500)) + GOOD,
        "splits row 1 (tax dues from 2000-01-01): shares sum to 9900, not 10000",
    ),
    (
        "overlap",
        GOOD + _row("tax", "dues", (5000, 3000, 800, 700, 500)),
        "splits row 4 (tax dues from 2000-01-01): overlaps splits row 1, which starts the same day",
    ),
    (
        "class overlap",
        GOOD + _row("tax", "dues", (10_000, 0, 0, 0, 0), extra='unit_class = "small_micro"\n') * 2,
        "splits row 5 (tax dues small_micro from 2000-01-01): overlaps splits row 4",
    ),
    (
        "missing",
        _row("tax", "dues") + _row("tax", "preparatory"),
        "splits: no row for fiscal dues: every month needs one",
    ),
    (
        "late start",
        _row("tax", "dues", since="2020-01-01")
        + _row("tax", "preparatory")
        + _row("fiscal", "dues"),
        "splits row 1 (tax dues from 2020-01-01): no tax dues row is in force before "
        "2020-01-01; the table must start by 2000-01-01",
    ),
    ("unknown key", GOOD.replace("base = 6000\n", "base = 6000\nbasis = 1\n", 1), "basis"),
    ("unknown class", GOOD + _row("tax", "dues", extra='unit_class = "tiny"\n'), "small_micro"),
    ("negative share", GOOD.replace("county = 2000", "county = -2000", 1), "county"),
]


@pytest.mark.parametrize(("case", "splits", "message"), REFUSALS, ids=[c[0] for c in REFUSALS])
def test_the_loader_refuses_a_bad_split_table_naming_the_row(
    tmp_path: Path, case: str, splits: str, message: str
) -> None:
    with pytest.raises(ValueError, match="is invalid") as info:
        load_policy(_policy_file(tmp_path, splits))
    assert message in str(info.value)


def test_a_good_split_table_and_the_small_micro_maximum_load(tmp_path: Path) -> None:
    policy = load_policy(_policy_file(tmp_path, GOOD, head="small_micro_max_employees = 20\n"))
    assert policy.small_micro_max_employees == 20
    assert [s.shares() for s in policy.splits] == [EXAMPLE] * 3
    with pytest.raises(ValueError, match="small_micro_max_employees"):
        load_policy(_policy_file(tmp_path, GOOD, head="small_micro_max_employees = -1\n"))


def test_a_policy_without_splits_gets_the_example_table() -> None:
    """A policy kept by a ledger from before rule 13 validates with the example table."""
    data = DEFAULTS.model_dump()
    del data["splits"], data["small_micro_max_employees"]
    assert Policy.model_validate(data).splits == EXAMPLE_SPLITS


# --- the money identities ---------------------------------------------------------


@st.composite
def share_rows(draw: st.DrawFn) -> tuple[int, ...]:
    cuts = sorted(draw(st.lists(st.integers(0, 10_000), min_size=4, max_size=4)))
    bounds = [0, *cuts, 10_000]
    return tuple(b - a for a, b in pairwise(bounds))


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    shares=share_rows(),
    amounts=st.lists(st.integers(-(10**13), 10**13), min_size=1, max_size=20),
)
def test_every_amount_splits_into_levels_adding_up_to_it_and_its_negative_into_theirs(
    shares: tuple[int, ...], amounts: list[int]
) -> None:
    frame = pl.DataFrame({"x": amounts}).with_columns(
        **{lv: pl.lit(s, pl.Int64) for lv, s in zip(LEVELS, shares, strict=True)}
    )
    shares_expr = [pl.col(lv) for lv in LEVELS]
    names = [f"{lv}_fen" for lv in LEVELS]
    pay = frame.select(
        e.alias(n) for e, n in zip(level_amounts(pl.col("x"), shares_expr), names, strict=True)
    )
    refund = frame.select(
        e.alias(n) for e, n in zip(level_amounts(-pl.col("x"), shares_expr), names, strict=True)
    )
    assert pay.select(pl.sum_horizontal(pl.all()))[:, 0].to_list() == amounts
    assert refund.rows() == [tuple(-v for v in row) for row in pay.rows()]
    # a level with no share gets nothing
    for lv, share in zip(pay.columns, shares, strict=True):
        if share == 0:
            assert set(pay[lv]) == {0}


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    shares=share_rows(),
    amounts=st.lists(st.integers(-(10**13), 10**13), min_size=1, max_size=8),
    spans=st.lists(st.integers(1, 12), min_size=8, max_size=8),
    prep=st.booleans(),
)
def test_levels_add_up_to_every_line_and_a_refund_reverses_its_payment(
    shares: tuple[int, ...], amounts: list[int], spans: list[int], prep: bool
) -> None:
    """Over multi-month lines (rule 1 splits each into months: floor, the last month the
    remainder) of a unit founding its union mid-way: every line's levels add up to it,
    so a refund's add up to minus its payment's; where the months of both get the same
    fen (a one-month line) each level of the refund is the payment's reversed."""
    row = dict(zip(LEVELS, shares, strict=True))
    splits = [
        {"channel": c, "fund": f, **row, "effective_from": date(2000, 1, 1)}
        for c, f in (("tax", "dues"), ("tax", "preparatory"), ("fiscal", "dues"))
    ]
    policy = with_policy(splits=splits)
    item = "preparatory" if prep else "dues"
    paid = [
        receipt("U1", "2026-01", f"2026-{k:02d}", amount=x, item=item)
        for x, k in zip(amounts, spans, strict=False)
    ]
    refunds = [r | {"receipt_no": f"{r['receipt_no']}-refund", "amount_fen": -r["amount_fen"]}
               for r in paid]  # fmt: skip
    got = lines(paid + refunds, [allocation("U1", "2026-03", "2026-05", amount=amounts[0])])
    wide = distribution_wide(got, registry(unit(founded="2026-02-01")), policy)
    levels = [f"{lv}_fen" for lv in LEVELS]
    level_sum = pl.sum_horizontal(pl.col(levels).fill_null(0))
    per_line = wide.group_by("channel", "key").agg(level_sum.sum().alias("total"))
    expected = got.select("channel", "key", total="amount_fen")
    assert per_line.sort("channel", "key").equals(expected.sort("channel", "key"))
    for r in paid:
        one = wide.filter(pl.col("key") == f"{r['receipt_no']}/1").sort("period")
        back = wide.filter(pl.col("key") == f"{r['receipt_no']}-refund/1").sort("period")
        # rule 1 splits the refund of a multi-month line by floor as well (-71 over three
        # months: -24, -24, -23 against 23, 23, 25): its months differ, its total is -x.
        if one.height == 1:
            assert back.select(pl.col(levels).neg()).equals(one.select(levels))
            assert back["base_recipient"].equals(one["base_recipient"])
    long = distribution_long(wide)
    assert all(r["holds"] for r in split_conservation(got, long))
    assert distribution_wide_of_long(long).equals(wide)
    assert payouts(wide).equals(payouts_of_long(long))
    # Streamed (a run writes the file so), and split in pieces of any size: the same rows
    # in the same order, and the payouts of the pieces added up are those of the whole.
    assert distribution_long(wide.lazy()).collect().equals(long)
    split = Distribution(
        lines=got, registry=registry(unit(founded="2026-02-01")), policy=policy,
        waiting={}, taken={},
    )  # fmt: skip
    for rows in (1, 3, got.height):
        pieces = list(split.wide_pieces(rows))
        assert len(pieces) == -(-got.height // rows)
        assert pl.concat(pieces).equals(wide)
        assert payouts_of_pieces([payouts(p) for p in pieces]).equals(payouts(wide))


def test_the_worked_example_of_the_readme() -> None:
    """README, "The split and returns": 甲 founds its union on 2026-08-15 and pays a
    quarter Jul-Sep of 1,000.01 yuan, and a refund of 50.00 for July."""
    quarter = receipt("U1", "2026-07", "2026-09", amount=100_001)
    refund = receipt("U1", "2026-07", amount=-5_000)
    wide = distribution_wide(
        lines([quarter, refund]), registry(unit(founded="2026-08-15")), DEFAULTS
    )
    assert wide.select("period", "base_recipient", *(f"{lv}_fen" for lv in LEVELS)).rows() == [
        ("2026-07", "prep_account", 20_000, 6667, 2667, 2333, 1666),
        ("2026-08", "prep_account", 20_000, 6667, 2667, 2333, 1666),
        ("2026-09", "U1", 20_001, 6667, 2667, 2333, 1667),
        ("2026-07", "prep_account", -3000, -1000, -400, -350, -250),
    ]
    # Counted from the wide rows; the long rows give the same, recipient by recipient.
    assert payouts(wide).equals(payouts_of_long(distribution_long(wide)))
    assert payouts(wide).select("recipient", "lines", "amount_fen").rows() == [
        ("U1", 1, 20_001),
        ("prep_account", 2, 37_000),
        ("county", 2, 19_001),
        ("city", 2, 7601),
        ("province", 2, 6649),
        ("national", 2, 4749),
    ]


def test_no_lines_give_one_empty_piece_of_the_wide_columns() -> None:
    split = Distribution(
        lines=lines([]), registry=registry(unit()), policy=DEFAULTS, waiting={}, taken={}
    )
    pieces = list(split.wide_pieces())
    assert len(pieces) == 1
    assert pieces[0].is_empty() and pieces[0].columns == list(WIDE_COLUMNS)
    assert split.long().columns == list(DISTRIBUTION_COLUMNS)


def test_the_lines_come_in_channel_then_key_order_whatever_their_numbers() -> None:
    """(channel, key) order is the key's text order: "R1-2/1" before "R1/1" before
    "R1/10" before "R1/2" (not the receipt numbers' order), fiscal lines before tax."""
    numbered = [("R1", 2), ("R1", 10), ("R1-2", 1), ("R1", 1), ("R10", 1), ("late", 1)]
    paid = [
        receipt("U1", "2026-07", amount=100, item="late_fee" if no == "late" else "dues")
        | {"receipt_no": no, "line_no": line}
        for no, line in numbered
    ]
    vouchers = [allocation("U1", "2026-07", amount=5) | {"voucher_no": v} for v in ("V2", "V10")]
    got = lines(paid, vouchers)
    assert got.select("channel", "key").rows() == [
        ("fiscal", "V10"), ("fiscal", "V2"),
        ("tax", "R1-2/1"), ("tax", "R1/1"), ("tax", "R1/10"), ("tax", "R1/2"), ("tax", "R10/1"),
    ]  # fmt: skip
    assert got.equals(got.sort("channel", "key"))
