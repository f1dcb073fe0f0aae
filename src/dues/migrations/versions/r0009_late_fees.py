"""Late fees (滞纳金, SPEC §4 rule 12): the late-fee lines' sums and the late-fee ledger.

`unit_month_sums.late_fee_fen`: the amounts of the late-fee receipt lines a run stored,
per unit and month (the collected late fee). Runs stored before this revision stored no
late-fee line (they were quarantined as bad_enum), so theirs are 0.

`result_late_fees`: late_fees.parquet of each period, one row per unit.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("unit_month_sums") as batch:
        batch.add_column(
            sa.Column("late_fee_fen", sa.BigInteger(), nullable=False, server_default="0")
        )
    op.create_table(
        "result_late_fees",
        sa.Column("run_period", sa.String(), nullable=False),
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("uscc", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=True),
        sa.Column("jurisdiction", sa.String(), nullable=True),
        sa.Column("accrued_fen", sa.BigInteger(), nullable=True),
        sa.Column("collected_fen", sa.BigInteger(), nullable=True),
        sa.Column("balance_fen", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("run_period", "uscc", name=op.f("pk_result_late_fees")),
    )


def downgrade() -> None:
    op.drop_table("result_late_fees")
    with op.batch_alter_table("unit_month_sums") as batch:
        batch.drop_column("late_fee_fen")
