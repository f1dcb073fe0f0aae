"""Initial ledger: runs, their inputs, the stored lines and the period results.

Revision ID: 0001
Revises: -
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "allocations",
        sa.Column("voucher_no", sa.String(), nullable=False),
        sa.Column("uscc", sa.String(), nullable=False),
        sa.Column("unit_name", sa.String(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("wage_base_fen", sa.BigInteger(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("allocated_date", sa.Date(), nullable=False),
        sa.Column("source_file", sa.String(), nullable=False),
        sa.Column("source_row", sa.BigInteger(), nullable=False),
        sa.Column("run_id", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("voucher_no", name=op.f("pk_allocations")),
    )
    op.create_table(
        "quarantine",
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("row_no", sa.BigInteger(), nullable=False),
        sa.Column("source_file", sa.String(), nullable=False),
        sa.Column("source_row", sa.BigInteger(), nullable=False),
        sa.Column("column", sa.String(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("raw", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "row_no", name=op.f("pk_quarantine")),
    )
    op.create_table(
        "receipts",
        sa.Column("receipt_no", sa.String(), nullable=False),
        sa.Column("line_no", sa.BigInteger(), nullable=False),
        sa.Column("uscc", sa.String(), nullable=False),
        sa.Column("taxpayer_name", sa.String(), nullable=False),
        sa.Column("item", sa.String(), nullable=False),
        sa.Column("item_code", sa.String(), nullable=True),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("wage_base_fen", sa.BigInteger(), nullable=False),
        sa.Column("rate_bp", sa.BigInteger(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("paid_date", sa.Date(), nullable=False),
        sa.Column("tax_office", sa.String(), nullable=True),
        sa.Column("source_file", sa.String(), nullable=False),
        sa.Column("source_row", sa.BigInteger(), nullable=False),
        sa.Column("run_id", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("receipt_no", "line_no", name=op.f("pk_receipts")),
    )
    op.create_table(
        "registry_snapshots",
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("uscc", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("unit_type", sa.String(), nullable=False),
        sa.Column("ownership", sa.String(), nullable=True),
        sa.Column("employees", sa.BigInteger(), nullable=False),
        sa.Column("members", sa.BigInteger(), nullable=True),
        sa.Column("jurisdiction", sa.String(), nullable=False),
        sa.Column("union_kind", sa.String(), nullable=False),
        sa.Column("union_founded", sa.Date(), nullable=True),
        sa.Column("filing_frequency", sa.String(), nullable=False),
        sa.Column("monthly_payroll_fen", sa.BigInteger(), nullable=True),
        sa.Column("source_file", sa.String(), nullable=False),
        sa.Column("source_row", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "uscc", name=op.f("pk_registry_snapshots")),
    )
    op.create_table(
        "result_arrears",
        sa.Column("run_period", sa.String(), nullable=False),
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("uscc", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=True),
        sa.Column("jurisdiction", sa.String(), nullable=True),
        sa.Column("arrears_fen", sa.BigInteger(), nullable=True),
        sa.Column("credit_fen", sa.BigInteger(), nullable=True),
        sa.Column("months_outstanding", sa.BigInteger(), nullable=True),
        sa.Column("oldest_period", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("run_period", "uscc", name=op.f("pk_result_arrears")),
    )
    op.create_table(
        "result_arrears_aging",
        sa.Column("run_period", sa.String(), nullable=False),
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("uscc", sa.String(), nullable=False),
        sa.Column("bucket_no", sa.BigInteger(), nullable=False),
        sa.Column("bucket", sa.String(), nullable=False),
        sa.Column("aging_fen", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint(
            "run_period", "uscc", "bucket_no", name=op.f("pk_result_arrears_aging")
        ),
    )
    op.create_table(
        "result_founding_drive",
        sa.Column("run_period", sa.String(), nullable=False),
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("uscc", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=True),
        sa.Column("jurisdiction", sa.String(), nullable=True),
        sa.Column("employees", sa.BigInteger(), nullable=True),
        sa.Column("union_kind", sa.String(), nullable=True),
        sa.Column("tier", sa.BigInteger(), nullable=True),
        sa.Column("prep_paid_12m_fen", sa.BigInteger(), nullable=True),
        sa.Column("arrears_fen", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("run_period", "uscc", name=op.f("pk_result_founding_drive")),
    )
    op.create_table(
        "result_indicators",
        sa.Column("run_period", sa.String(), nullable=False),
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("level", sa.String(), nullable=False),
        sa.Column("jurisdiction", sa.String(), nullable=False),
        sa.Column("year", sa.BigInteger(), nullable=True),
        sa.Column("tax_expected_fen", sa.BigInteger(), nullable=True),
        sa.Column("tax_collected_fen", sa.BigInteger(), nullable=True),
        sa.Column("tax_collection_rate", sa.Double(), nullable=True),
        sa.Column("fiscal_expected_fen", sa.BigInteger(), nullable=True),
        sa.Column("fiscal_collected_fen", sa.BigInteger(), nullable=True),
        sa.Column("fiscal_collection_rate", sa.Double(), nullable=True),
        sa.Column("tax_units", sa.BigInteger(), nullable=True),
        sa.Column("tax_units_tier1", sa.BigInteger(), nullable=True),
        sa.Column("organized_tier1", sa.BigInteger(), nullable=True),
        sa.Column("founding_rate_tier1", sa.Double(), nullable=True),
        sa.Column("organized_tax_units", sa.BigInteger(), nullable=True),
        sa.Column("founding_rate_all", sa.Double(), nullable=True),
        sa.Column("employees_organized", sa.BigInteger(), nullable=True),
        sa.Column("members_organized", sa.BigInteger(), nullable=True),
        sa.Column("membership_rate", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint(
            "run_period", "level", "jurisdiction", name=op.f("pk_result_indicators")
        ),
    )
    op.create_table(
        "result_prep_returns",
        sa.Column("run_period", sa.String(), nullable=False),
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("uscc", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=True),
        sa.Column("union_founded", sa.Date(), nullable=True),
        sa.Column("returnable_fen", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("run_period", "uscc", name=op.f("pk_result_prep_returns")),
    )
    op.create_table(
        "result_reconciliation",
        sa.Column("run_period", sa.String(), nullable=False),
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("period", sa.String(), nullable=False),
        sa.Column("uscc", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=True),
        sa.Column("jurisdiction", sa.String(), nullable=True),
        sa.Column("unit_type", sa.String(), nullable=True),
        sa.Column("channel", sa.String(), nullable=True),
        sa.Column("union_status", sa.String(), nullable=True),
        sa.Column("fund", sa.String(), nullable=True),
        sa.Column("rate_bp", sa.BigInteger(), nullable=True),
        sa.Column("wage_base_fen", sa.BigInteger(), nullable=True),
        sa.Column("base_source", sa.String(), nullable=True),
        sa.Column("expected_fen", sa.BigInteger(), nullable=True),
        sa.Column("paid_dues_fen", sa.BigInteger(), nullable=True),
        sa.Column("paid_prep_fen", sa.BigInteger(), nullable=True),
        sa.Column("allocated_fen", sa.BigInteger(), nullable=True),
        sa.Column("paid_fen", sa.BigInteger(), nullable=True),
        sa.Column("variance_fen", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(), nullable=True),
        sa.Column("fund_mismatch", sa.Boolean(), nullable=True),
        sa.Column("channel_mismatch", sa.Boolean(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("days_past_due", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint(
            "run_period", "period", "uscc", name=op.f("pk_result_reconciliation")
        ),
    )
    op.create_table(
        "result_unmatched",
        sa.Column("run_period", sa.String(), nullable=False),
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("row_no", sa.BigInteger(), nullable=False),
        sa.Column("source_file", sa.String(), nullable=True),
        sa.Column("source_row", sa.BigInteger(), nullable=True),
        sa.Column("receipt_no", sa.String(), nullable=True),
        sa.Column("uscc", sa.String(), nullable=True),
        sa.Column("taxpayer_name", sa.String(), nullable=True),
        sa.Column("amount_fen", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("run_period", "row_no", name=op.f("pk_result_unmatched")),
    )
    op.create_table(
        "runs",
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("period", sa.String(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("code_version", sa.String(), nullable=False),
        sa.Column("config_hash", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("superseded_by", sa.String(), nullable=True),
        sa.CheckConstraint("status IN ('completed', 'superseded')", name=op.f("ck_runs_status")),
        sa.ForeignKeyConstraint(
            ["superseded_by"], ["runs.run_id"], name=op.f("fk_runs_superseded_by_runs")
        ),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_runs")),
    )
    op.create_index(op.f("ix_runs_period"), "runs", ["period"])

    op.create_table(
        "input_files",
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("file_name", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("sha256", sa.String(), nullable=False),
        sa.Column("rows_read", sa.BigInteger(), nullable=False),
        sa.Column("rows_accepted", sa.BigInteger(), nullable=False),
        sa.Column("rows_quarantined", sa.BigInteger(), nullable=False),
        sa.Column("rows_duplicate", sa.BigInteger(), nullable=False),
        sa.Column("money_read_fen", sa.BigInteger(), nullable=False),
        sa.Column("money_accepted_fen", sa.BigInteger(), nullable=False),
        sa.Column("money_quarantined_fen", sa.BigInteger(), nullable=False),
        sa.Column("money_duplicate_fen", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.run_id"], name=op.f("fk_input_files_run_id_runs")
        ),
        sa.PrimaryKeyConstraint("run_id", "file_name", name=op.f("pk_input_files")),
    )


def downgrade() -> None:
    # Children first; dropping a table drops its indexes.
    op.drop_table("input_files")
    op.drop_table("runs")
    op.drop_table("result_unmatched")
    op.drop_table("result_reconciliation")
    op.drop_table("result_prep_returns")
    op.drop_table("result_indicators")
    op.drop_table("result_founding_drive")
    op.drop_table("result_arrears_aging")
    op.drop_table("result_arrears")
    op.drop_table("registry_snapshots")
    op.drop_table("receipts")
    op.drop_table("quarantine")
    op.drop_table("allocations")
