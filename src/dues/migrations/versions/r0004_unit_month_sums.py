"""The ledger keeps per run the unit-month sums of its lines (issue 9: a run reads these,
not every stored line). Existing ledgers get them on their next run: the store
rebuilds the sums of every stored run from its lines (Store.rebuild_month_sums).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MONEY = ("wage_base_fen", "paid_dues_fen", "paid_prep_fen", "allocated_fen")


def upgrade() -> None:
    op.create_table(
        "unit_month_sums",
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("uscc", sa.String(), nullable=False),
        sa.Column("month", sa.BigInteger(), nullable=False),
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in _MONEY),
        sa.Column("receipt_lines", sa.BigInteger(), nullable=False),
        sa.Column("records", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "uscc", "month", name=op.f("pk_unit_month_sums")),
    )
    # The lines of units outside a run's registry are read by their USCC.
    op.create_index(op.f("ix_receipts_uscc"), "receipts", ["uscc"])
    op.create_index(op.f("ix_allocations_uscc"), "allocations", ["uscc"])


def downgrade() -> None:
    op.drop_index(op.f("ix_allocations_uscc"), table_name="allocations")
    op.drop_index(op.f("ix_receipts_uscc"), table_name="receipts")
    op.drop_table("unit_month_sums")
