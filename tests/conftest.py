"""Shared pytest fixtures."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from _paths import require_county

# ---- the shared example county ------------------------------------------------------------


@pytest.fixture(scope="session")
def county() -> Path:
    """shared/examples/county-40 (see tests/_paths.py): skips without it, fails when CI is set."""
    return require_county()


# ---- the user's own ledger ------------------------------------------------------------------


@pytest.fixture(autouse=True, scope="session")
def _private_user_data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No test may touch the real ~/.local/share/dues (the default ledger's folder)."""
    folder = tmp_path_factory.mktemp("user-data")
    before = os.environ.get("XDG_DATA_HOME")
    os.environ["XDG_DATA_HOME"] = str(folder)
    yield
    if before is None:
        os.environ.pop("XDG_DATA_HOME", None)
    else:
        os.environ["XDG_DATA_HOME"] = before


# ---- ledger databases ---------------------------------------------------------------------

PG_URL_ENV = "DUES_TEST_PG_URL"
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _pg_unavailable(url: sa.URL, reason: str) -> None:
    """CI must test PostgreSQL; a developer without a server just skips those tests."""
    shown = url.render_as_string(hide_password=True)
    message = f"PostgreSQL {shown} (env {PG_URL_ENV}) is not reachable: {reason}"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def pg_schema_url() -> Iterator[str]:
    """A URL of the test PostgreSQL server whose search_path is a fresh, empty schema.

    The schema is dropped afterwards, so tests never see each other's tables.
    """
    base = sa.make_url(os.environ.get(PG_URL_ENV, DEFAULT_PG_URL))
    schema = f"dues_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(
        base, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
    )
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.OperationalError as error:
        admin.dispose()
        _pg_unavailable(base, " ".join(str(error.orig).split()))
    url = base.update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty ledger database on each backend: a SQLite file, a PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    url: str = request.getfixturevalue("pg_schema_url")
    return url
