"""The ledger's tables (SQLAlchemy Core) and the polars frame contract of each.

Frame tables hold the contract columns of schemas/README.md (for results:
the SPEC §5 output columns as the rules modules name them) plus a few columns
the store owns (``STORE_OWNED``), which callers never pass. Money is BIGINT
fen, dates are DATE; the only floats are the indicators' rates.

The migrations in ``dues/migrations/versions`` are frozen copies of these
definitions; change both together (``alembic revision --autogenerate`` diffs
them, see ``dues/migrations/alembic.ini``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl
import sqlalchemy as sa

# Every constraint gets a predictable name, so that later migrations (and the
# SQLite batch mode, which recreates tables) can refer to it on any backend.
NAMING_CONVENTION: Mapping[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=dict(NAMING_CONVENTION))

# Columns filled in by the store itself, never part of a caller's frame.
STORE_OWNED: frozenset[str] = frozenset({"run_id", "run_period", "row_no"})

RUN_STATUSES = ("completed", "superseded")


def _text(name: str, *, nullable: bool = False, primary_key: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(), nullable=nullable, primary_key=primary_key)


def _int(name: str, *, nullable: bool = False, primary_key: bool = False) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger(), nullable=nullable, primary_key=primary_key)


def _date(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.Date(), nullable=nullable)


def _float(name: str) -> sa.Column[Any]:
    # Rates and shares only (indicators); money is never a float.
    return sa.Column(name, sa.Double(), nullable=True)


def _run_id(*, primary_key: bool = False) -> sa.Column[str]:
    # No foreign key on the frame tables: PostgreSQL checks one per inserted
    # row, which doubled the time to store a million receipt lines. The store
    # writes the runs row and its rows in one transaction, and deletes by run.
    return sa.Column("run_id", sa.String(), nullable=False, primary_key=primary_key)


runs = sa.Table(
    "runs",
    metadata,
    _text("run_id", primary_key=True),
    _text("period"),
    _date("as_of"),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
    _text("code_version"),
    _text("config_hash"),
    _text("status"),
    # Kept for the audit trail: a re-run of a period replaces the data of the
    # earlier run but leaves its row here, pointing at its successor.
    sa.Column("superseded_by", sa.String(), sa.ForeignKey("runs.run_id"), nullable=True),
    # run.json's totals as JSON (money in fen, counts), for `dues runs`.
    sa.Column("totals", sa.Text(), nullable=True),
    # A completed run is stale once a run of an earlier period commits after it: its
    # outputs were derived from a ledger that no longer is (migration 0005). Set by
    # that run's commit (the first such run, and when); `dues rerun` clears it by
    # replacing the stale run with a fresh one.
    sa.Column("stale_since", sa.DateTime(timezone=True), nullable=True),
    sa.Column("stale_by_run", sa.String(), nullable=True),
    sa.CheckConstraint(f"status IN {RUN_STATUSES!r}", name="status"),
    sa.Index(None, "period"),
)

# The policies runs applied, by their hash (runs.config_hash), so `dues rerun` applies
# a period's own policy again. Content-addressed: written before the run commits and
# never deleted, so a failed run leaves at most a row no run points at.
policies = sa.Table(
    "policies",
    metadata,
    _text("config_hash", primary_key=True),
    sa.Column("policy", sa.Text(), nullable=False),  # canonical JSON (dues.policy)
)

input_files = sa.Table(
    "input_files",
    metadata,
    sa.Column("run_id", sa.String(), sa.ForeignKey("runs.run_id"), primary_key=True),
    _text("file_name", primary_key=True),
    _text("kind"),
    _text("sha256"),
    _int("rows_read"),
    _int("rows_accepted"),
    _int("rows_quarantined"),
    _int("rows_duplicate"),
    _int("money_read_fen"),
    _int("money_accepted_fen"),
    _int("money_quarantined_fen"),
    _int("money_duplicate_fen"),
    sa.Column("rows_without_paid_date", sa.BigInteger(), nullable=False, server_default="0"),
)

registry_snapshots = sa.Table(
    "registry_snapshots",
    metadata,
    _run_id(primary_key=True),
    _text("uscc", primary_key=True),
    _text("name"),
    _text("unit_type"),
    _text("ownership", nullable=True),
    _int("employees"),
    _int("members", nullable=True),
    _text("jurisdiction"),
    _text("union_kind"),
    _date("union_founded", nullable=True),
    _text("filing_frequency"),
    _int("monthly_payroll_fen", nullable=True),
    _text("source_file"),
    _int("source_row"),
    # The registry's extra columns (联系人, 联系电话 ...) as a JSON object by header, null
    # when it had none: `dues drive` and `dues rerun` find them here (migration 0007).
    _text("extras", nullable=True),
)

# The receipt key is the primary key: a receipt line is stored once, by the
# run that first saw it (SPEC §3 duplicates).
receipts = sa.Table(
    "receipts",
    metadata,
    _text("receipt_no", primary_key=True),
    _int("line_no", primary_key=True),
    _text("uscc"),
    _text("taxpayer_name"),
    _text("item"),
    _text("item_code", nullable=True),
    _date("period_start"),
    _date("period_end"),
    _int("wage_base_fen"),
    _int("rate_bp"),
    _int("amount_fen"),
    # Null for lines from export templates without 入库日期 (SPEC §2.2, migration 0002).
    _date("paid_date", nullable=True),
    _text("tax_office", nullable=True),
    _text("source_file"),
    _int("source_row"),
    _run_id(),
    # A run reads the lines of units outside its registry (the unmatched receipts) by it.
    sa.Index(None, "uscc"),
)

allocations = sa.Table(
    "allocations",
    metadata,
    _text("voucher_no", primary_key=True),
    _text("uscc"),
    _text("unit_name"),
    _date("period_start"),
    _date("period_end"),
    _int("wage_base_fen"),
    _int("amount_fen"),
    _date("allocated_date"),
    _text("source_file"),
    _int("source_row"),
    _run_id(),
    sa.Index(None, "uscc"),
)

# What the reconciliation needs of the lines (dues.unit_months.unit_month_sums): per
# run, the rule 1 month shares of the lines it stored, summed per unit and month
# (month = year * 12 + month - 1). Written in the transaction that stores the lines
# and deleted with them, so a run reads these instead of every stored line;
# `dues ledger check` rebuilds them from the lines and lists what differs.
# late_fee_fen: the late-fee lines' amounts (rule 12's collected), in no other figure
# (migration 0009; 0 for the runs before it, which stored no late-fee line).
unit_month_sums = sa.Table(
    "unit_month_sums",
    metadata,
    _run_id(primary_key=True),
    _text("uscc", primary_key=True),
    _int("month", primary_key=True),
    _int("wage_base_fen"),
    _int("paid_dues_fen"),
    _int("paid_prep_fen"),
    _int("allocated_fen"),
    _int("receipt_lines"),
    _int("records"),
    sa.Column("late_fee_fen", sa.BigInteger(), nullable=False, server_default="0"),
)

# The same sums once more, one Parquet file per run: what a run reads (why: see
# dues.store.packs). The table above stays the record SQL can query; both are written
# in one transaction, and `dues ledger check` rebuilds both from the lines (migration
# 0010). A migration that changes unit_month_sums must delete the packs: the next run
# rebuilds them from the table (ensure_month_sums).
unit_month_sum_packs = sa.Table(
    "unit_month_sum_packs",
    metadata,
    _run_id(primary_key=True),
    sa.Column("parquet", sa.LargeBinary(), nullable=False),
)

# Rule 13's bookkeeping, one row per line (by its key) that is not simply distributed
# by the run storing it: a line whose unit was outside that run's registry (`waits`)
# waits for the first run of a later period whose registry has its unit, and that
# period goes in `distributed_period`; a line an earlier period's run distributed
# (a repeat of a line a later period's run stores, when the months ran out of order)
# keeps that period. A period's re-run clears its marks first. Rows belong to the run
# storing the line (`run_id`) and go with it. A run reads the rows still waiting and
# its own period's: as many as the unmatched lines, never the whole ledger (0008).
waiting_receipts = sa.Table(
    "waiting_receipts",
    metadata,
    _text("receipt_no", primary_key=True),
    _int("line_no", primary_key=True),
    _text("uscc"),
    _run_id(),
    _text("distributed_period", nullable=True),
    sa.Column("waits", sa.Boolean(), nullable=False),
)
waiting_allocations = sa.Table(
    "waiting_allocations",
    metadata,
    _text("voucher_no", primary_key=True),
    _text("uscc"),
    _run_id(),
    _text("distributed_period", nullable=True),
    sa.Column("waits", sa.Boolean(), nullable=False),
)

# Where each run publishes its outputs (issue 10, item 5). Written in the run's commit
# transaction, so the ledger knows a committed run's OUT and its staged folder
# (OUT/.work/<run id>/out/); `published_at` is set once OUT/<period>/ is the run's.
# A run committed but never published (killed between commit and rename) is what
# the next dues command rolls forward (dues.run.recovery).
publications = sa.Table(
    "publications",
    metadata,
    sa.Column("run_id", sa.String(), sa.ForeignKey("runs.run_id"), primary_key=True),
    _text("out_dir"),  # absolute
    sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
)

# A source row may fail several rules, so the store numbers the rows itself.
quarantine = sa.Table(
    "quarantine",
    metadata,
    _run_id(primary_key=True),
    _int("row_no", primary_key=True),
    _text("source_file"),
    _int("source_row"),
    _text("column"),
    _text("reason"),
    _text("raw"),
)

# --- period results (SPEC §5 outputs), keyed by the period of the run -------
# Only key columns are NOT NULL: the rules own the values, the store keeps them.


def _result_table(name: str, key: tuple[str, ...], *columns: sa.Column[Any]) -> sa.Table:
    return sa.Table(
        name,
        metadata,
        _text("run_period"),
        _run_id(),
        *columns,
        sa.PrimaryKeyConstraint("run_period", *key),
    )


result_reconciliation = _result_table(
    "result_reconciliation",
    ("period", "uscc"),
    _text("period"),
    _text("uscc"),
    _text("name", nullable=True),
    _text("jurisdiction", nullable=True),
    _text("unit_type", nullable=True),
    _text("channel", nullable=True),
    _text("union_status", nullable=True),
    _text("fund", nullable=True),
    _int("rate_bp", nullable=True),
    _int("wage_base_fen", nullable=True),
    _text("base_source", nullable=True),
    _int("expected_fen", nullable=True),
    _int("paid_dues_fen", nullable=True),
    _int("paid_prep_fen", nullable=True),
    _int("allocated_fen", nullable=True),
    _int("paid_fen", nullable=True),
    _int("variance_fen", nullable=True),
    _text("status", nullable=True),
    sa.Column("fund_mismatch", sa.Boolean(), nullable=True),
    sa.Column("channel_mismatch", sa.Boolean(), nullable=True),
    _date("due_date", nullable=True),
    _int("days_past_due", nullable=True),
)

result_arrears = _result_table(
    "result_arrears",
    ("uscc",),
    _text("uscc"),
    _text("name", nullable=True),
    _text("jurisdiction", nullable=True),
    _int("arrears_fen", nullable=True),
    _int("credit_fen", nullable=True),
    _int("months_outstanding", nullable=True),
    _text("oldest_period", nullable=True),
)

# The aging buckets are policy (config aging_bucket_days), so the arrears
# frame's aging_<bucket>_fen columns vary; they are kept one row per bucket, and
# only where the unit owes something in it: a missing row is 0. The first unit
# (by uscc) keeps a row for every bucket, so every bucket of the run is named.
# (Most units owe in one or two of five buckets: at 100,000 units this stores
# 122,000 rows instead of 306,000, which was the largest insert of a run.)
result_arrears_aging = _result_table(
    "result_arrears_aging",
    ("uscc", "bucket_no"),
    _text("uscc"),
    _int("bucket_no"),  # the column's position among the aging columns, from 1
    _text("bucket"),  # as in the column name: 0_30, 31_90, ..., over_365
    _int("aging_fen", nullable=True),
)

result_founding_drive = _result_table(
    "result_founding_drive",
    ("uscc",),
    _text("uscc"),
    _text("name", nullable=True),
    _text("jurisdiction", nullable=True),
    _int("employees", nullable=True),
    _text("union_kind", nullable=True),
    _int("tier", nullable=True),
    _int("prep_paid_12m_fen", nullable=True),
    _int("arrears_fen", nullable=True),
)

result_prep_returns = _result_table(
    "result_prep_returns",
    ("uscc",),
    _text("uscc"),
    _text("name", nullable=True),
    _date("union_founded", nullable=True),
    _int("returnable_fen", nullable=True),
)

# Unmatched rows have no key of their own (SPEC gives no line_no): numbered.
result_unmatched = _result_table(
    "result_unmatched",
    ("row_no",),
    _int("row_no"),
    _text("source_file", nullable=True),
    _int("source_row", nullable=True),
    _text("receipt_no", nullable=True),
    _text("uscc", nullable=True),
    _text("taxpayer_name", nullable=True),
    _int("amount_fen", nullable=True),
)

result_indicators = _result_table(
    "result_indicators",
    ("level", "jurisdiction"),
    _text("level"),
    _text("jurisdiction"),
    _int("year", nullable=True),
    _int("tax_expected_fen", nullable=True),
    _int("tax_collected_fen", nullable=True),
    _float("tax_collection_rate"),
    _int("fiscal_expected_fen", nullable=True),
    _int("fiscal_collected_fen", nullable=True),
    _float("fiscal_collection_rate"),
    _int("tax_units", nullable=True),
    _int("tax_units_tier1", nullable=True),
    _int("organized_tier1", nullable=True),
    _float("founding_rate_tier1"),
    _int("organized_tax_units", nullable=True),
    _float("founding_rate_all"),
    _int("employees_organized", nullable=True),
    _int("members_organized", nullable=True),
    _float("membership_rate"),
)

# Rule 13, one row per distributed line × month in the wide shape (the five levels'
# fen side by side, null where a level has no share): distribution.parquet's long rows
# are up to five times as many (dues.store.frames converts both ways).
result_distribution = _result_table(
    "result_distribution",
    ("channel", "key", "period"),
    _text("source_file", nullable=True),
    _int("source_row", nullable=True),
    _text("key"),
    _text("uscc", nullable=True),
    _text("period"),
    _text("fund", nullable=True),
    _text("channel"),
    _text("base_recipient", nullable=True),
    _text("base_recipient_kind", nullable=True),
    _int("base_fen", nullable=True),
    _int("county_fen", nullable=True),
    _int("city_fen", nullable=True),
    _int("province_fen", nullable=True),
    _int("national_fen", nullable=True),
)

result_payouts = _result_table(
    "result_payouts",
    ("level", "recipient_kind", "recipient"),
    _text("level"),
    _text("recipient"),
    _text("recipient_kind"),
    _int("lines", nullable=True),
    _int("amount_fen", nullable=True),
)

result_late_fees = _result_table(
    "result_late_fees",
    ("uscc",),
    _text("uscc"),
    _text("name", nullable=True),
    _text("jurisdiction", nullable=True),
    _int("accrued_fen", nullable=True),
    _int("collected_fen", nullable=True),
    _int("balance_fen", nullable=True),
)

# The outputs of SPEC §5 stored per period (quarantine is stored per run).
RESULT_TABLES: Mapping[str, sa.Table] = {
    "reconciliation": result_reconciliation,
    "arrears": result_arrears,
    "founding_drive": result_founding_drive,
    "prep_returns": result_prep_returns,
    "unmatched": result_unmatched,
    "indicators": result_indicators,
    "late_fees": result_late_fees,
    "distribution": result_distribution,
    "payouts": result_payouts,
}
RESULT_KINDS: tuple[str, ...] = tuple(RESULT_TABLES)

# Tables holding rows of a run, cleared by run_id when its period is re-run.
# No index on receipts.run_id or allocations.run_id: a re-run's delete scans
# them once, cheaper than keeping an index up to date on every insert.
RUN_TABLES: tuple[sa.Table, ...] = (
    input_files,
    registry_snapshots,
    receipts,
    allocations,
    unit_month_sums,
    unit_month_sum_packs,
    waiting_receipts,
    waiting_allocations,
    quarantine,
    publications,
)
# The ledger's lines, by the name the run gives them.
LINE_TABLES: dict[str, sa.Table] = {"receipts": receipts, "allocations": allocations}
# The lines waiting to be distributed (rule 13), by the same names.
WAITING_TABLES: dict[str, sa.Table] = {
    "receipts": waiting_receipts,
    "allocations": waiting_allocations,
}
# Tables holding results, keyed by the run's period (one live run per period).
PERIOD_TABLES: tuple[sa.Table, ...] = (*RESULT_TABLES.values(), result_arrears_aging)


def polars_dtype(column: sa.Column[Any]) -> pl.DataType:
    """The polars dtype a column of ``column``'s SQL type holds in a frame."""
    sql_type = column.type
    if isinstance(sql_type, sa.DateTime):
        return pl.Datetime("us", "UTC")
    if isinstance(sql_type, sa.Date):
        return pl.Date()
    if isinstance(sql_type, sa.Boolean):
        return pl.Boolean()
    if isinstance(sql_type, sa.Integer):
        return pl.Int64()
    if isinstance(sql_type, sa.Float):
        return pl.Float64()
    if isinstance(sql_type, sa.String):
        return pl.String()
    raise TypeError(f"no polars dtype for {column.table.name}.{column.name}: {sql_type!r}")


def contract_columns(table: sa.Table) -> list[sa.Column[Any]]:
    """The columns a caller's frame carries for ``table`` (store-owned ones left out)."""
    return [c for c in table.columns if c.name not in STORE_OWNED]


def frame_schema(table: sa.Table, *, with_store_owned: bool = False) -> pl.Schema:
    """The polars schema of ``table``'s frames, in table column order."""
    columns = table.columns if with_store_owned else contract_columns(table)
    return pl.Schema({c.name: polars_dtype(c) for c in columns})


def row_order(table: sa.Table) -> list[str]:
    """The columns frames of ``table`` are sorted by: its key within a period."""
    return [c.name for c in table.primary_key.columns if c.name != "run_period"]


# Scratch tables of one read (TEMPORARY: per connection, dropped after the read): the
# keys or units a run asks the ledger about, so the database joins instead of
# sending every stored line.
scratch = sa.MetaData()
receipt_keys = sa.Table(
    "scratch_receipt_keys",
    scratch,
    _text("receipt_no", primary_key=True),
    _int("line_no", primary_key=True),
    prefixes=["TEMPORARY"],
)
allocation_keys = sa.Table(
    "scratch_allocation_keys",
    scratch,
    _text("voucher_no", primary_key=True),
    prefixes=["TEMPORARY"],
)
unit_keys = sa.Table(
    "scratch_unit_keys", scratch, _text("uscc", primary_key=True), prefixes=["TEMPORARY"]
)
