"""Unit statements (单位对账单, SPEC §5 `dues statement`): a unit's months from the ledger.

A statement shows, for every month a period's run reconciled, what SPEC §4 made of
it — union status, fund, rate, the base and where it came from, expected, paid by
fund, variance, status, the running arrears and their aging — and every receipt line
and allocation attributed to it, with the line's share in that month (rule 1).

It is derived as the period's run derived it: from the run's registry snapshot, the
policy and as-of date it applied, and the lines stored by that run and by the runs
of earlier periods (a period's outputs count no later period's lines,
`dues.run.merge.read_ledger`). Every rule depends only on the unit's own records, so
the rules applied to the unit's lines alone give its rows of the run's
reconciliation.parquet and arrears.parquet to the fen. Only the start period depends
on the whole ledger: the policy's start_period, else the earliest month any line of
those runs — any unit's, matched or not — is attributed to (`reconcile.start_month`).

A stale period (a run of an earlier period committed after it) is derived from the
ledger as it now is, as `dues rerun` would derive it; `Statement.run.stale` says so.
One case the ledger cannot show: a period run after a later one, whose files repeated
lines that later period's run had stored. Its outputs counted them (`LaterRuns.repeats`
in dues.run.merge), but the ledger keeps them as the later run's lines only, so its
statement, like `dues rerun` of it, leaves them out.

`unit_statement` is pure (frames in, frames out); `load_statement` reads the ledger.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from dues.arrears import OWING_STATUSES, arrears, arrears_columns
from dues.periods import format_period, month_index, parse_period, period_index, period_text
from dues.policy import Policy
from dues.reconcile import start_month
from dues.rules import channel, split_by_month
from dues.store import Store
from dues.unit_months import RECONCILIATION_COLUMNS, reconciliation


class StatementError(Exception):
    """What a statement cannot be made of, in one line."""


# The months table: the reconciliation's columns, then what a statement adds to them.
MONTH_COLUMNS = (
    *RECONCILIATION_COLUMNS,
    "base_period",  # the month whose declarations gave the base (declared or estimated_last)
    "lines",  # receipt lines and allocations attributed to the month
    "owed_fen",  # this month's arrears (rule 8: underpaid or not_filed, expected - paid)
    "credit_fen",  # this month's credit (rule 8: overpaid, paid - expected)
    "running_arrears_fen",  # the unit's arrears over its months up to this one
    "aging_bucket",  # the aging bucket of the month's arrears (Policy.aging_buckets)
)
# The lines table: one row per receipt line or allocation and month it is attributed to.
LINE_COLUMNS = (
    "period",
    "uscc",
    "kind",  # receipt | allocation
    "receipt_no",
    "line_no",
    "voucher_no",
    "item",  # the receipt line's item; null for an allocation
    "paid_date",  # 入库日期 of a receipt line, 划拨日期 of an allocation
    "period_start",
    "period_end",
    "months_covered",
    "line_wage_base_fen",  # the whole line's
    "line_amount_fen",
    "wage_base_fen",  # this month's share (rule 1)
    "amount_fen",
    "paid_dues_fen",  # the share as rule 5 counts it, by fund
    "paid_prep_fen",
    "allocated_fen",
    "source_file",
    "source_row",
)
_TOTALLED = ("expected_fen", "paid_dues_fen", "paid_prep_fen", "allocated_fen", "paid_fen",
             "variance_fen")  # fmt: skip


def unit_columns(policy: Policy) -> tuple[str, ...]:
    """The per-unit summary: the totals of its due months (status not `not_due`, as
    run.json's totals), the number of months, and its row of arrears.parquet."""
    return (
        "uscc",
        "name",
        "jurisdiction",
        "unit_type",
        "channel",
        "months",
        *_TOTALLED,
        *arrears_columns(policy)[3:],
    )


@dataclass(frozen=True)
class StatementRun:
    """The run a statement is of: the period's completed run in the ledger."""

    run_id: str
    period: str
    as_of: date
    start_period: str
    config_hash: str
    stale: bool  # derived before a later run of an earlier period (see the module)
    ledger: str  # the ledger's URL, password masked


@dataclass(frozen=True)
class Statement:
    """The statement of one or more units: `units` (one row each, unit_columns),
    `months` (MONTH_COLUMNS, by uscc and period) and `lines` (LINE_COLUMNS)."""

    run: StatementRun
    units: pl.DataFrame
    months: pl.DataFrame
    lines: pl.DataFrame
    aging_buckets: tuple[tuple[str, int, int | None], ...]
    lines_outside: int  # line-months before the start period or after the period
    first_shown: str = ""  # the first month shown (`from_period`); "" = the start period

    def of_unit(self, uscc: str) -> Statement:
        """The statement of one of its units."""

        def mine(frame: pl.DataFrame) -> pl.DataFrame:
            return frame.filter(pl.col("uscc") == uscc)

        return Statement(
            self.run,
            mine(self.units),
            mine(self.months),
            mine(self.lines),
            self.aging_buckets,
            0,
            self.first_shown,
        )

    def from_period(self, first: str) -> Statement:
        """The months from `first` on (and their lines); the running arrears and the
        units' totals still count every month from the start period."""
        if first > self.run.period:
            raise StatementError(f"--from {first} is after the period {self.run.period}")
        shown = pl.col("period") >= first
        return Statement(
            self.run,
            self.units,
            self.months.filter(shown),
            self.lines.filter(shown),
            self.aging_buckets,
            self.lines_outside,
            max(first, self.run.start_period),
        )

    def write_parquet(self, folder: Path) -> list[Path]:
        """units.parquet, months.parquet and lines.parquet in `folder`."""
        from dues.files import write_parquet

        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for name, frame in (("units", self.units), ("months", self.months), ("lines", self.lines)):
            write_parquet(frame, folder / f"{name}.parquet")
            written.append(folder / f"{name}.parquet")
        return written


def statement_lines(receipts: pl.DataFrame, allocations: pl.DataFrame) -> pl.DataFrame:
    """Rule 1 per line: one row per receipt line or allocation and month of its period,
    with the line's whole figures and its month's share (LINE_COLUMNS and `month`).
    The shares by fund count as rule 5 counts them: dues and preparatory receipt lines
    as paid, allocations as allocated, any other item (late fees) as neither."""
    receipt_rows = receipts.select(
        "uscc",
        kind=pl.lit("receipt"),
        receipt_no="receipt_no",
        line_no="line_no",
        voucher_no=pl.lit(None, pl.String),
        item="item",
        paid_date="paid_date",
        period_start="period_start",
        period_end="period_end",
        wage_base_fen="wage_base_fen",
        amount_fen="amount_fen",
        source_file="source_file",
        source_row="source_row",
    )
    allocation_rows = allocations.select(
        "uscc",
        kind=pl.lit("allocation"),
        receipt_no=pl.lit(None, pl.String),
        line_no=pl.lit(None, pl.Int64),
        voucher_no="voucher_no",
        item=pl.lit(None, pl.String),
        paid_date="allocated_date",
        period_start="period_start",
        period_end="period_end",
        wage_base_fen="wage_base_fen",
        amount_fen="amount_fen",
        source_file="source_file",
        source_row="source_row",
    )
    rows = pl.concat([receipt_rows, allocation_rows], how="vertical_relaxed").with_columns(
        line_wage_base_fen="wage_base_fen",
        line_amount_fen="amount_fen",
        months_covered=(
            month_index(pl.col("period_end")) - month_index(pl.col("period_start")) + 1
        ).cast(pl.Int64),
    )
    shares = split_by_month(rows, ["wage_base_fen", "amount_fen"])
    share = pl.col("amount_fen")
    return (
        shares.with_columns(
            period=period_text(pl.col("month")),
            paid_dues_fen=pl.when(pl.col("item") == "dues").then(share).otherwise(0),
            paid_prep_fen=pl.when(pl.col("item") == "preparatory").then(share).otherwise(0),
            allocated_fen=pl.when(pl.col("kind") == "allocation").then(share).otherwise(0),
        )
        .sort(
            "uscc",
            "month",
            "kind",
            "receipt_no",
            "line_no",
            "voucher_no",
            descending=[False, False, True, False, False, False],
        )
        .select(*LINE_COLUMNS, "month")
    )


def _aging_bucket(policy: Policy) -> pl.Expr:
    """The bucket (Policy.aging_buckets' suffix) of a month owing something, by days_past_due."""
    bucket: pl.Expr = pl.lit(None, pl.String)
    for suffix, low, high in reversed(policy.aging_buckets()):
        inside = pl.col("days_past_due") >= low
        if high is not None:
            inside &= pl.col("days_past_due") <= high
        bucket = pl.when(inside).then(pl.lit(suffix)).otherwise(bucket)
    return pl.when(pl.col("owed_fen") > 0).then(bucket).otherwise(None)


def unit_statement(
    registry: pl.DataFrame,
    receipts: pl.DataFrame,
    allocations: pl.DataFrame,
    policy: Policy,
    start: int,
    end: int,
    as_of: date,
    run: StatementRun,
) -> Statement:
    """The statement of the `registry` units from their lines (every stored line of
    theirs the period counts): SPEC §4 rules 1-8 as `reconcile` applies them."""
    months = reconciliation(registry, receipts, allocations, policy, start, end, as_of)
    lines = statement_lines(receipts, allocations)
    declared = lines.select("uscc", "month").unique().sort("month")
    owing = pl.col("status").is_in(OWING_STATUSES) & (pl.col("variance_fen") < 0)
    months = (
        months.with_columns(month=period_index(pl.col("period")))
        .sort("month")
        .join_asof(
            declared.with_columns(base_month=pl.col("month")),
            on="month",
            by="uscc",
            strategy="backward",
            check_sortedness=False,
        )
        .join(
            lines.group_by("uscc", "month").agg(lines=pl.len().cast(pl.Int64)),
            on=["uscc", "month"],
            how="left",
        )
        .with_columns(
            base_period=pl.when(pl.col("base_source").is_in(["declared", "estimated_last"]))
            .then(period_text(pl.col("base_month")))
            .otherwise(None),
            lines=pl.col("lines").fill_null(0),
            owed_fen=pl.when(owing).then(-pl.col("variance_fen")).otherwise(0),
            credit_fen=pl.when(pl.col("status") == "overpaid")
            .then(pl.col("variance_fen"))
            .otherwise(0),
        )
        .sort("uscc", "month")
        .with_columns(
            running_arrears_fen=pl.col("owed_fen").cum_sum().over("uscc"),
            aging_bucket=_aging_bucket(policy),
        )
        .select(MONTH_COLUMNS)
    )
    inside = pl.col("month").is_between(start, end)
    shown = lines.filter(inside)
    # Over the due months, as run.json's totals: a month not yet due owes nothing yet.
    totals = months.group_by("uscc").agg(
        *(pl.col(c).filter(pl.col("status") != "not_due").sum() for c in _TOTALLED),
        months=pl.len().cast(pl.Int64),
    )
    owed = arrears(months.select(RECONCILIATION_COLUMNS), policy).drop("name", "jurisdiction")
    zeros = {c: 0 for c in owed.columns if c.endswith("_fen")} | {"months_outstanding": 0}
    units = (
        registry.select(
            "uscc", "name", "jurisdiction", "unit_type", channel=channel(pl.col("unit_type"))
        )
        .join(totals, on="uscc", how="left")
        .join(owed, on="uscc", how="left")
        .with_columns(pl.col(c).fill_null(v) for c, v in zeros.items())
        .sort("uscc")
        .select(unit_columns(policy))
    )
    return Statement(
        run=run,
        units=units,
        months=months,
        lines=shown.drop("month"),
        aging_buckets=tuple(policy.aging_buckets()),
        lines_outside=lines.height - shown.height,
    )


def completed_run(store: Store, period: str | None) -> dict[str, object]:
    """The completed run of `period` (default: the latest period's), as `runs` lists it."""
    runs = store.list_runs().filter(pl.col("status") == "completed").sort("period")
    if runs.is_empty():
        raise StatementError(f"the ledger {store.url} holds no completed run")
    if period is None:
        return runs.row(-1, named=True)
    mine = runs.filter(pl.col("period") == period)
    if mine.is_empty():
        periods = runs["period"].to_list()
        raise StatementError(
            f"the ledger holds no completed run of {period}; its periods: "
            f"{', '.join(periods[:12])}{' …' if len(periods) > 12 else ''}"
        )
    return mine.row(0, named=True)


def load_statement(
    store: Store,
    *,
    period: str | None = None,
    usccs: Sequence[str] | None = None,
    jurisdiction: str | None = None,
    config: Path | None = None,
    say: Callable[[str], None] = print,
) -> Statement:
    """The statement of the units `usccs` (or every unit of `jurisdiction`) as the
    completed run of `period` (default: the latest) derived them (see the module).

    `config` is the policy applied when the ledger does not keep the run's own
    (runs from before ledger revision 0005); `say` gets one line saying so.
    """
    from dues.run.rederive import policy_of_run
    from dues.run.request import RunError

    run = completed_run(store, period)
    period = str(run["period"])
    try:
        policy = policy_of_run(store, run, config, say)
    except RunError as exc:
        raise StatementError(str(exc)) from exc
    registry = store.load_registry_of_run(str(run["run_id"]))
    chosen = select_units(registry, usccs, jurisdiction, f"run {run['run_id']} of {period}")
    end = parse_period(period)
    if store.lacks_month_sums():
        raise StatementError(
            "the ledger keeps no unit-month sums yet (a ledger from before revision 0004); "
            "the next `dues run` computes them"
        )
    earliest = store.earliest_month(through_period=period)
    start = start_month(
        pl.DataFrame(
            {"month": [earliest], "records": [0 if earliest is None else 1]},
            schema={"month": pl.Int64, "records": pl.Int64},
        ),
        policy,
        end,
    )
    # The lines of runs of this period and earlier ones: those its outputs count.
    after = format_period(end + 1)
    units = chosen["uscc"]
    receipts = store.load_lines_of_units("receipts", units, before_period=after)
    allocations = store.load_lines_of_units("allocations", units, before_period=after)
    as_of = run["as_of"]
    assert isinstance(as_of, date)
    info = StatementRun(
        run_id=str(run["run_id"]),
        period=period,
        as_of=as_of,
        start_period=format_period(start),
        config_hash=str(run["config_hash"]),
        stale=run["stale_since"] is not None,
        ledger=store.url,
    )
    return unit_statement(chosen, receipts, allocations, policy, start, end, as_of, info)


def select_units(
    registry: pl.DataFrame,
    usccs: Sequence[str] | None,
    jurisdiction: str | None,
    whose: str,
) -> pl.DataFrame:
    """The registry rows of `usccs`, or of every unit of `jurisdiction`; one line if none."""
    if usccs:
        wanted = [u.strip().upper() for u in usccs]
        missing = [u for u in wanted if u not in set(registry["uscc"].to_list())]
        if missing:
            raise StatementError(f"unit {missing[0]} is not in the registry of {whose}")
        return registry.filter(pl.col("uscc").is_in(wanted)).sort("uscc")
    if jurisdiction is not None:
        chosen = registry.filter(pl.col("jurisdiction") == jurisdiction.strip()).sort("uscc")
        if chosen.is_empty():
            known = registry["jurisdiction"].unique().sort().to_list()
            raise StatementError(
                f"no unit of jurisdiction {jurisdiction!r} in the registry of {whose}; "
                f"its jurisdictions: {', '.join(known[:20])}{' …' if len(known) > 20 else ''}"
            )
        return chosen
    return registry.sort("uscc")
