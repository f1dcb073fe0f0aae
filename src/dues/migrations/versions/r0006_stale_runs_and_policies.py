"""The ledger knows which periods are stale, and keeps the policies runs applied (issue 10).

`runs.stale_since` / `runs.stale_by_run`: set on every completed run of a later period
when a run of an earlier period commits, so `dues runs` shows it whatever runs follow,
and `dues rerun --from P` replaces the stale runs. Runs stored before this revision get
the marks the old rule derived from the order of runs (a completed run is stale when a
completed run of an earlier period finished after it), naming that earlier run.

`policies`: the policy of each config hash, so a re-derived period applies its own.
Runs stored before this revision have none (`dues rerun` then says which it applies).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("stale_since", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("stale_by_run", sa.String(), nullable=True))
    op.create_table(
        "policies",
        sa.Column("config_hash", sa.String(), nullable=False),
        sa.Column("policy", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("config_hash", name=op.f("pk_policies")),
    )
    _mark_stale_by_order()


def _mark_stale_by_order() -> None:
    runs = sa.table(
        "runs",
        sa.column("run_id", sa.String()),
        sa.column("period", sa.String()),
        sa.column("status", sa.String()),
        sa.column("finished_at", sa.DateTime(timezone=True)),
        sa.column("stale_since", sa.DateTime(timezone=True)),
        sa.column("stale_by_run", sa.String()),
    )
    conn = op.get_bind()
    done = conn.execute(
        sa.select(runs.c.run_id, runs.c.period, runs.c.finished_at)
        .where(runs.c.status == "completed")
        .order_by(runs.c.finished_at, runs.c.run_id)
    ).all()
    # A handful of rows per period: plain Python is clearer than a window query that
    # both backends spell alike.
    for run_id, period, finished in done:
        earlier = [r for r in done if r.period < period and r.finished_at > finished]
        if earlier:
            first = earlier[0]
            conn.execute(
                runs.update()
                .where(runs.c.run_id == run_id)
                .values(stale_since=first.finished_at, stale_by_run=first.run_id)
            )


def downgrade() -> None:
    op.drop_table("policies")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("stale_by_run")
        batch.drop_column("stale_since")
