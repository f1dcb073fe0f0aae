"""Rule 13: the distribution split (分成) of the lines a run distributes, and the payouts
to each recipient (回拨 to the base unions, shares of the upper levels).

Which lines a run distributes is the run's business (dues.run.stages: each line once,
by the first run that has it in its ledger with its unit in its registry); here a
frame of lines becomes one row per line × month (rule 1) with each level's fen.

Readings where the SPEC leaves room:

* A receipt line comes by the tax channel with the fund of its item; `late_fee` lines
  are not split (rule 13) and are left out here. An allocation comes by the fiscal
  channel as fund `dues`: rule 3 allocates dues (2%) to every fiscal unit, with or
  without a union. The line's channel and fund pick the split row, whatever the
  unit's own channel (money paid by the wrong channel is split as it came).
* The unit class `small_micro` is the unit's: tax-channel units (by unit type) with
  employees <= small_micro_max_employees in the run's registry, when that is > 0.
* A level whose share is 0 in the row in force gets no row in distribution.parquet
  (its amount is null in the wide shape); a level with a share gets its row even
  when a tiny line rounds its fen to 0.
* `key` is "receipt_no/line_no" for a receipt line ("R1/1") and the voucher_no of an
  allocation; (channel, key) names a line.
* The base share's recipient: the unit's own union (recipient = its uscc) when its
  union status that month (rule 2) is own; the jurisdiction's joint union (recipient
  = the jurisdiction) when joint; the county's preparatory-fund account (recipient
  "prep_account") for preparatory money and for units with status none. The upper
  levels' recipient is the level's name.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TypeVar

import polars as pl

from dues.checks import assert_unique
from dues.periods import first_day_expr, period_text
from dues.policy import LEVELS, Policy
from dues.rules import channel, level_amounts, month_calendar, split_by_month, splits_by_month
from dues.rules import union_status as union_status_expr

FrameT = TypeVar("FrameT", pl.DataFrame, pl.LazyFrame)
PREP_ACCOUNT = "prep_account"
UPPER_LEVEL = "upper_level"
# distribution.parquet: SPEC §5's columns, then the recipient's kind (as in payouts).
DISTRIBUTION_COLUMNS = (
    "source_file",
    "source_row",
    "key",
    "uscc",
    "period",
    "fund",
    "channel",
    "level",
    "recipient",
    "amount_fen",
    "recipient_kind",
)
PAYOUT_COLUMNS = ("level", "recipient", "recipient_kind", "lines", "amount_fen")
LEVEL_COLUMNS = tuple(f"{level}_fen" for level in LEVELS)
# One row per line × month: the shape the store and the workbook's 分成明细 keep (the
# long form has up to five rows per line × month).
WIDE_COLUMNS = (
    "source_file",
    "source_row",
    "key",
    "uscc",
    "period",
    "fund",
    "channel",
    "base_recipient",
    "base_recipient_kind",
    *LEVEL_COLUMNS,
)
# What a distributed line brings (dues.run.stages stages these for the conservation).
LINE_COLUMNS = (
    "channel",
    "key",
    "fund",
    "uscc",
    "period_start",
    "period_end",
    "amount_fen",
    "source_file",
    "source_row",
)
_SPLIT_FUNDS = ("dues", "preparatory")
_LINE_SCHEMA = {
    "channel": pl.String,
    "key": pl.String,
    "fund": pl.String,
    "uscc": pl.String,
    "period_start": pl.Date,
    "period_end": pl.Date,
    "amount_fen": pl.Int64,
    "source_file": pl.String,
    "source_row": pl.Int64,
}


def distributable_lines(receipts: pl.DataFrame, allocations: pl.DataFrame) -> pl.DataFrame:
    """The receipt lines (but late fees) and allocations as rule 13 splits them:
    LINE_COLUMNS, sorted by (channel, key)."""
    from_receipts = receipts.filter(pl.col("item").is_in(_SPLIT_FUNDS)).select(
        channel=pl.lit("tax"),
        key=pl.concat_str(pl.col("receipt_no"), pl.lit("/"), pl.col("line_no").cast(pl.String)),
        fund=pl.col("item"),
        **{c: pl.col(c) for c in LINE_COLUMNS[3:]},
    )
    from_allocations = allocations.select(
        channel=pl.lit("fiscal"),
        key=pl.col("voucher_no"),
        fund=pl.lit("dues"),
        **{c: pl.col(c) for c in LINE_COLUMNS[3:]},
    )
    # Each channel sorted by key alone, fiscal before tax: the (channel, key) order without
    # a two-column sort, which took 5 s of eleven million lines against 1 s (2026-12-04).
    parts = [
        part.cast(_LINE_SCHEMA).sort("key")  # type: ignore[arg-type]
        for part in (from_allocations, from_receipts)
    ]
    return pl.concat(parts)


def distribution_wide(lines: pl.DataFrame, registry: pl.DataFrame, policy: Policy) -> pl.DataFrame:
    """Rule 13 for `lines` (distributable_lines, every unit in `registry`): WIDE_COLUMNS,
    one row per line × month, sorted by (channel, key, period). A level's fen is null
    where its share in the row in force is 0."""
    schema = {c: pl.String for c in WIDE_COLUMNS} | {
        "source_row": pl.Int64,
        **{c: pl.Int64 for c in LEVEL_COLUMNS},
    }
    if lines.is_empty():
        return pl.DataFrame(schema=schema).select(WIDE_COLUMNS)
    assert_unique(lines, ["channel", "key"], "distributed lines")
    assert_unique(registry, ["uscc"], "registry")
    units = registry.select(
        "uscc", "unit_type", "employees", "jurisdiction", "union_kind", "union_founded"
    )
    months = split_by_month(lines, ["amount_fen"]).join(
        units, on="uscc", how="left", validate="m:1"
    )
    outside = months.filter(pl.col("unit_type").is_null())
    if outside.height:
        raise ValueError(f"distributed line {outside['key'][0]} of a unit not in the registry")
    small = policy.small_micro_max_employees
    small_micro = (
        (channel(pl.col("unit_type")) == "tax") & (pl.col("employees") <= small) & (small > 0)
    )
    first, last = months["month"].min(), months["month"].max()
    shares = splits_by_month(
        policy.split_table(),
        month_calendar(int(first), int(last), policy.due_day),  # type: ignore[arg-type]
    )
    months = months.with_columns(
        unit_class=pl.when(small_micro).then(pl.lit("small_micro")).otherwise(pl.lit("general"))
    ).join(shares, on=["channel", "fund", "unit_class", "month"], how="left", validate="m:1")
    amounts = level_amounts(pl.col("amount_fen"), [pl.col(level) for level in LEVELS])
    status = union_status_expr(
        pl.col("union_kind"), pl.col("union_founded"), first_day_expr(pl.col("month"))
    )
    base_kind = (
        pl.when(pl.col("fund") == "preparatory")
        .then(pl.lit(PREP_ACCOUNT))
        .when(status == "own")
        .then(pl.lit("own_union"))
        .when(status == "joint")
        .then(pl.lit("joint_union"))
        .otherwise(pl.lit(PREP_ACCOUNT))
    )
    base_recipient = (
        pl.when(base_kind == "own_union")
        .then(pl.col("uscc"))
        .when(base_kind == "joint_union")
        .then(pl.col("jurisdiction"))
        .otherwise(pl.lit(PREP_ACCOUNT))
    )
    return (
        months.with_columns(
            *(
                pl.when(pl.col(level) != 0).then(amount).otherwise(None).alias(f"{level}_fen")
                for level, amount in zip(LEVELS, amounts, strict=True)
            ),
            period=period_text(pl.col("month")),
            # No base share, no base recipient (the long rows have none to name).
            base_recipient=pl.when(pl.col("base") != 0).then(base_recipient),
            base_recipient_kind=pl.when(pl.col("base") != 0).then(base_kind),
        )
        .sort("channel", "key", "month")
        .select(WIDE_COLUMNS)
        .cast(schema)  # type: ignore[arg-type]
    )


def distribution_long(wide: FrameT) -> FrameT:
    """The wide rows as distribution.parquet has them: one row per line × month × level
    with a share, sorted by (channel, key, period, level in split order).

    Each wide row becomes its five levels by exploding two lists built in level order
    (the level's number and its fen), so the rows come out in the wide rows' order and
    need no sort: at 100,000 units' first run that is six million rows (an unpivot and a
    sort of them took twice the time and memory). The level's name, recipient and kind
    follow from its number after the levels without a share are gone; exploding those
    three as lists of text too took a third longer, streamed (5.3 s against 4.0 s for
    three million wide rows, 2026-12-04). Lazy in, lazy out: a run streams the file."""
    number = pl.col("level_no")
    level = pl.lit(pl.Series(list(LEVELS))).gather(number)
    return (
        wide.with_columns(
            level_no=pl.lit(list(range(len(LEVELS))), dtype=pl.List(pl.UInt8)),
            amount_fen=pl.concat_list(list(LEVEL_COLUMNS)),
        )
        .select(*WIDE_COLUMNS[:9], "level_no", "amount_fen")
        .explode("level_no", "amount_fen")
        .filter(pl.col("amount_fen").is_not_null())
        .with_columns(
            level=level,
            recipient=pl.when(number == 0).then(pl.col("base_recipient")).otherwise(level),
            recipient_kind=pl.when(number == 0)
            .then(pl.col("base_recipient_kind"))
            .otherwise(pl.lit(UPPER_LEVEL)),
        )
        .select(DISTRIBUTION_COLUMNS)
    )


def distribution_wide_of_long(long: pl.DataFrame) -> pl.DataFrame:
    """distribution_long undone: the wide rows (what the store keeps of the long file)."""
    keys = list(WIDE_COLUMNS[:7])
    base = long.filter(pl.col("level") == "base").select(
        *keys, base_recipient="recipient", base_recipient_kind="recipient_kind"
    )
    amounts = long.pivot(
        on="level", on_columns=list(LEVELS), index=keys, values="amount_fen"
    ).rename({level: f"{level}_fen" for level in LEVELS})
    wide = amounts.join(base, on=keys, how="left", validate="1:1", nulls_equal=True)
    schema = {c: pl.String for c in WIDE_COLUMNS} | {
        "source_row": pl.Int64,
        **{c: pl.Int64 for c in LEVEL_COLUMNS},
    }
    return wide.sort("channel", "key", "period").select(WIDE_COLUMNS).cast(schema)  # type: ignore[arg-type]


def payouts(wide: pl.DataFrame) -> pl.DataFrame:
    """payouts.parquet: per level and recipient, the lines that paid it and the fen,
    sorted by level (split order), recipient kind and recipient.

    Summed from the wide rows (one per line × month), not from distribution.parquet's
    five rows per line-month: counting each recipient's distinct lines over the long
    rows took 2.4 s of the 10 s split at 100,000 units' first run, and the long rows
    are then needed only for their file. A line's base share may go to two recipients
    (its unit founded its union mid-period), so the base level counts lines per
    recipient; each upper level has one recipient and counts the lines with a share.
    """
    line = ["channel", "key"]
    base = (
        wide.filter(pl.col("base_fen").is_not_null())
        .group_by("base_recipient", "base_recipient_kind", *line)
        .agg(pl.col("base_fen").sum())
        .group_by(recipient="base_recipient", recipient_kind="base_recipient_kind")
        .agg(lines=pl.len().cast(pl.Int64), amount_fen=pl.col("base_fen").sum())
        .select(
            pl.lit(LEVELS[0]).alias("level"), "recipient", "recipient_kind", "lines", "amount_fen"
        )
    )
    upper = LEVELS[1:]
    per_line = wide.group_by(line).agg(
        *(pl.col(f"{level}_fen").sum().alias(level) for level in upper),
        *(pl.col(f"{level}_fen").is_not_null().any().alias(f"{level}_has") for level in upper),
    )
    levels = [
        per_line.filter(pl.col(f"{level}_has")).select(
            level=pl.lit(level),
            recipient=pl.lit(level),
            recipient_kind=pl.lit(UPPER_LEVEL),
            lines=pl.len().cast(pl.Int64),
            amount_fen=pl.col(level).sum(),
        )
        for level in upper
    ]
    # A level no line has a share of gets no row (its frame above is one row of 0 lines).
    return payout_order(pl.concat([base, *levels]).filter(pl.col("lines") > 0))


def payouts_of_pieces(parts: list[pl.DataFrame]) -> pl.DataFrame:
    """payouts of the whole split from the payouts of its pieces (of disjoint lines): the
    lines and fen of each level and recipient, added up."""
    return payout_order(
        pl.concat(parts)
        .group_by("level", "recipient", "recipient_kind")
        .agg(pl.col("lines").sum(), pl.col("amount_fen").sum())
    )


def payout_order(frame: pl.DataFrame) -> pl.DataFrame:
    """Payout rows in their order: level (split order), recipient kind, recipient."""
    order = {level: i for i, level in enumerate(LEVELS)}
    return (
        frame.with_columns(_level=pl.col("level").replace_strict(order, return_dtype=pl.Int64))
        .sort("_level", "recipient_kind", "recipient")
        .select(PAYOUT_COLUMNS)
    )


def split_conservation(lines: pl.DataFrame, long: pl.DataFrame) -> list[dict[str, object]]:
    """Per channel and fund: the lines distributed and their fen against the fen the
    distribution gives out (`holds` when equal, to the fen). Both sides are summed
    independently: the lines' amounts, and every level's rows."""
    had = lines.group_by("channel", "fund").agg(
        lines=pl.len().cast(pl.Int64), lines_fen=pl.col("amount_fen").sum()
    )
    gave = long.group_by("channel", "fund").agg(distributed_fen=pl.col("amount_fen").sum())
    both = (
        had.join(gave, on=["channel", "fund"], how="full", coalesce=True)
        .with_columns(pl.col("lines", "lines_fen", "distributed_fen").fill_null(0).cast(pl.Int64))
        .sort("channel", "fund")
    )
    return [
        row | {"holds": row["lines_fen"] == row["distributed_fen"]}
        for row in both.iter_rows(named=True)
    ]


# Lines per piece of the split (Distribution.wide_pieces). A province's first run splits
# eleven million lines: made whole, the wide rows and what they are made of took 15 GB
# and 23 s (2026-12-04); a piece of a million lines takes about 1 GB.
LINE_PIECE_ROWS = 1_000_000


@dataclass(frozen=True)
class Distribution:
    """What a run distributes (rule 13), and its bookkeeping for the store.

    The split itself is made in pieces of lines (`wide_pieces`), so a caller writes each
    piece and lets it go; `wide` and `long` make it whole, for small runs and tests."""

    lines: pl.DataFrame  # distributable_lines of the lines distributed
    registry: pl.DataFrame
    policy: Policy
    # Per kind, the run's own lines the store keeps watch of: key columns, uscc,
    # distributed_period (an earlier period's, or null: waiting) and waits (the unit
    # is outside the registry).
    waiting: dict[str, pl.DataFrame]
    # Per kind, the stored lines of other runs it distributed: key columns, uscc, run_id.
    taken: dict[str, pl.DataFrame]

    def wide_pieces(self, rows: int = LINE_PIECE_ROWS) -> Iterator[pl.DataFrame]:
        """distribution_wide of the lines, `rows` lines at a time, in order: at least one
        piece. Each line is split on its own and the lines are in (channel, key) order,
        so the pieces concatenated are distribution_wide of all the lines."""
        for offset in range(0, max(self.lines.height, 1), rows):
            yield distribution_wide(self.lines.slice(offset, rows), self.registry, self.policy)

    def wide(self) -> pl.DataFrame:
        """One row per line × month: what the store and 分成明细 keep."""
        return pl.concat(self.wide_pieces())

    def long(self) -> pl.DataFrame:
        """distribution.parquet's rows, whole (a run streams them from the wide pieces)."""
        return distribution_long(self.wide())

    def conservation(self) -> list[dict[str, object]]:
        return split_conservation(self.lines, self.long())


_KEYS = {"receipts": ["receipt_no", "line_no"], "allocations": ["voucher_no"]}


def distribute(
    registry: pl.DataFrame,
    new: dict[str, pl.DataFrame],
    stored: dict[str, pl.DataFrame],
    marks: dict[str, pl.DataFrame],
    policy: Policy,
) -> Distribution:
    """Rule 13 for one run, per kind ("receipts", "allocations"): its `new` lines of
    units in `registry`, but those an earlier period distributed (`marks`: key columns,
    distributed_period), and the `stored` lines it takes (lines that waited, with
    `stored_run`; dues.run.merge.read_waiting). New lines of units outside the registry
    wait in turn; late fees never wait (they are not split)."""
    units = registry.select("uscc")
    splittable = {"receipts": pl.col("item").is_in(_SPLIT_FUNDS), "allocations": pl.lit(True)}
    mine: dict[str, pl.DataFrame] = {}
    waiting: dict[str, pl.DataFrame] = {}
    taken: dict[str, pl.DataFrame] = {}
    in_registry = pl.col("uscc").is_in(units["uscc"].implode())
    for kind, keys in _KEYS.items():
        # No marks (every run but one whose months came out of order): no anti join,
        # which took 4.8 s of a province's eleven million new lines.
        fresh = (
            new[kind].join(marks[kind], on=keys, how="anti") if marks[kind].height else new[kind]
        )
        theirs = stored[kind].join(units, on="uscc", how="semi")
        mine[kind] = pl.concat([fresh.filter(in_registry), theirs.select(new[kind].columns)])
        outside = ~in_registry
        waits = fresh.filter(outside & splittable[kind]).select(
            *keys, "uscc", distributed_period=pl.lit(None, pl.String), waits=pl.lit(True)
        )
        done = (
            new[kind]
            .join(marks[kind], on=keys, how="inner")
            .select(*keys, "uscc", pl.col("distributed_period").cast(pl.String), waits=outside)
        )
        waiting[kind] = pl.concat([waits, done]).sort(keys)
        taken[kind] = theirs.select(*keys, "uscc", run_id="stored_run").sort(keys)
    lines = distributable_lines(mine["receipts"], mine["allocations"])
    # Checked here for all the lines; distribution_wide checks each piece.
    assert_unique(lines, ["channel", "key"], "distributed lines")
    return Distribution(lines=lines, registry=registry, policy=policy, waiting=waiting, taken=taken)
