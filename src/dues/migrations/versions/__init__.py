"""Alembic revisions of the ledger schema, oldest first."""
