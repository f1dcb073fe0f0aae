"""The unit-month sums of each run as one Parquet file: what a run reads (issue 9).

`unit_month_sum_packs`: per run, its `unit_month_sums` rows as Parquet bytes. A
ledger from before this revision gets the packs of its runs from their kept sums on
its next run (dues.ledger_check.ensure_month_sums); nothing is converted here.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "unit_month_sum_packs",
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("parquet", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_unit_month_sum_packs")),
    )


def downgrade() -> None:
    op.drop_table("unit_month_sum_packs")
