"""The distribution split (rule 13): its period results, and the lines waiting for it.

`result_distribution` (one row per distributed line × month, the five levels' fen side
by side) and `result_payouts` (per level and recipient) are period results like the
others. `waiting_receipts` / `waiting_allocations` list the lines a run stored whose
unit was outside its registry (`waits`), until a later period's run distributes them
(its period in `distributed_period`), and the lines an earlier period distributed
(months run out of order, dues.store.tables). A ledger of an earlier revision gets,
as waiting, each stored dues or preparatory receipt line and each allocation whose
unit is not in the registry snapshot of the run that stored it (the lines its runs
matched count as distributed by them: re-deriving those periods splits them). One
scan of the ledger, here only.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LEVELS = ("base", "county", "city", "province", "national")


def _text(name: str, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(), nullable=nullable)


def _int(name: str, nullable: bool = False) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger(), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "waiting_receipts",
        _text("receipt_no"),
        _int("line_no"),
        _text("uscc"),
        _text("run_id"),
        _text("distributed_period", nullable=True),
        sa.Column("waits", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("receipt_no", "line_no", name=op.f("pk_waiting_receipts")),
    )
    op.create_table(
        "waiting_allocations",
        _text("voucher_no"),
        _text("uscc"),
        _text("run_id"),
        _text("distributed_period", nullable=True),
        sa.Column("waits", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("voucher_no", name=op.f("pk_waiting_allocations")),
    )
    op.create_table(
        "result_distribution",
        _text("run_period"),
        _text("run_id"),
        _text("source_file", nullable=True),
        _int("source_row", nullable=True),
        _text("key"),
        _text("uscc", nullable=True),
        _text("period"),
        _text("fund", nullable=True),
        _text("channel"),
        _text("base_recipient", nullable=True),
        _text("base_recipient_kind", nullable=True),
        *(_int(f"{level}_fen", nullable=True) for level in _LEVELS),
        sa.PrimaryKeyConstraint(
            "run_period", "channel", "key", "period", name=op.f("pk_result_distribution")
        ),
    )
    op.create_table(
        "result_payouts",
        _text("run_period"),
        _text("run_id"),
        _text("level"),
        _text("recipient"),
        _text("recipient_kind"),
        _int("lines", nullable=True),
        _int("amount_fen", nullable=True),
        sa.PrimaryKeyConstraint(
            "run_period", "level", "recipient_kind", "recipient", name=op.f("pk_result_payouts")
        ),
    )
    _wait_for_unmatched_lines()


def _wait_for_unmatched_lines() -> None:
    op.execute(
        "INSERT INTO waiting_receipts (receipt_no, line_no, uscc, run_id, distributed_period, "
        "waits) SELECT r.receipt_no, r.line_no, r.uscc, r.run_id, NULL, TRUE FROM receipts r "
        "WHERE r.item IN ('dues', 'preparatory') AND NOT EXISTS (SELECT 1 FROM "
        "registry_snapshots s WHERE s.run_id = r.run_id AND s.uscc = r.uscc)"
    )
    op.execute(
        "INSERT INTO waiting_allocations (voucher_no, uscc, run_id, distributed_period, "
        "waits) SELECT a.voucher_no, a.uscc, a.run_id, NULL, TRUE FROM allocations a "
        "WHERE NOT EXISTS (SELECT 1 FROM registry_snapshots s "
        "WHERE s.run_id = a.run_id AND s.uscc = a.uscc)"
    )


def downgrade() -> None:
    op.drop_table("result_payouts")
    op.drop_table("result_distribution")
    op.drop_table("waiting_allocations")
    op.drop_table("waiting_receipts")
