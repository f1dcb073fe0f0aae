"""The ledger keeps where each run publishes its outputs (issue 10, item 5: recovery
after a crash). Runs stored before this revision have no row: they were published
by the code that stored them.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "publications",
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("out_dir", sa.String(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.run_id"], name=op.f("fk_publications_run_id_runs")
        ),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_publications")),
    )


def downgrade() -> None:
    op.drop_table("publications")
