"""Registry snapshots keep the registry's extra columns (issue 11, item 4).

`registry_snapshots.extras`: the unit's cells of the registry columns outside SPEC §2.1
(联系人, 联系电话, 地址 ...) as a JSON object by header, so `dues drive` and `dues rerun`
carry them to the founding-drive outputs from the ledger alone. Snapshots stored before
this revision have none (null), as a registry without extra columns.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("registry_snapshots") as batch:
        batch.add_column(sa.Column("extras", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("registry_snapshots") as batch:
        batch.drop_column("extras")
