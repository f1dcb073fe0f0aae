"""Receipt lines may lack a paid date: export templates without 入库日期 (SPEC §2.2).

Each input file's record counts its lines without one (input_files.rows_without_paid_date).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # SQLite cannot drop NOT NULL in place: batch mode copies the table into a new one.
    with op.batch_alter_table("receipts") as batch:
        batch.alter_column("paid_date", existing_type=sa.Date(), nullable=True)
    # Files stored before this revision had a paid date on every line.
    with op.batch_alter_table("input_files") as batch:
        batch.add_column(
            sa.Column("rows_without_paid_date", sa.BigInteger(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("input_files") as batch:
        batch.drop_column("rows_without_paid_date")
    # Fails while a stored line has no paid date: there is no date to give it.
    with op.batch_alter_table("receipts") as batch:
        batch.alter_column("paid_date", existing_type=sa.Date(), nullable=False)
