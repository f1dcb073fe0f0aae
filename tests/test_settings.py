"""Deployment settings: the one default ledger, and the environment over it."""

from __future__ import annotations

from pathlib import Path

import pytest

from dues.settings import Settings
from dues.store.engine import default_url, masked


def test_the_default_ledger_is_var_dues_db_under_the_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DUES_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    expected = f"sqlite:///{tmp_path / 'var' / 'dues.db'}"
    assert default_url() == expected
    assert Settings().database_url == expected


def test_the_environment_names_the_database(monkeypatch: pytest.MonkeyPatch) -> None:
    url = "postgresql+psycopg://dues:s3cret@db/dues"
    monkeypatch.setenv("DUES_DATABASE_URL", url)
    assert Settings().database_url == url
    assert masked(url) == "postgresql+psycopg://dues:***@db/dues"


def test_a_url_that_cannot_be_parsed_is_never_shown() -> None:
    assert masked("not a url with p4ssw0rd") == "<unparseable database URL>"
