"""Alembic environment of the ledger.

``dues.store.open_store`` runs it with its own connection, already inside a
transaction (``config.attributes["connection"]``). Developers run it through
the ``alembic`` command with ``alembic.ini`` beside this file, e.g. to
autogenerate a revision after changing ``dues.store.tables``.
"""

from __future__ import annotations

import os
from typing import Any

import sqlalchemy as sa
from alembic import context

from dues.store.engine import create_store_engine, default_url
from dues.store.tables import metadata

config = context.config


def _configure(**kwargs: Any) -> None:
    # Batch mode: SQLite cannot ALTER most things, so Alembic rebuilds the
    # table instead; on PostgreSQL it emits ordinary ALTERs.
    context.configure(target_metadata=metadata, render_as_batch=True, compare_type=True, **kwargs)


def _url() -> str:
    return os.environ.get("DUES_DATABASE_URL") or config.get_main_option(
        "sqlalchemy.url", default_url()
    )


def run_offline() -> None:
    """Write the SQL to stdout, for a DBA who applies it by hand (``--sql``)."""
    _configure(url=_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if isinstance(connection, sa.Connection):
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_store_engine(_url(), timeout_s=10.0)
    try:
        with engine.connect() as own_connection:
            _configure(connection=own_connection)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
