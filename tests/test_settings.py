"""Deployment settings: the one default ledger, and the environment over it."""

from __future__ import annotations

from pathlib import Path

import pytest

from dues.settings import Settings
from dues.store.engine import StoreError, default_url, masked


def test_without_a_dues_toml_the_default_ledger_is_the_users_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DUES_DATABASE_URL", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    for folder in (tmp_path / "a", tmp_path / "b" / "c"):  # wherever the clerk stands
        folder.mkdir(parents=True)
        monkeypatch.chdir(folder)
        expected = f"sqlite:///{tmp_path / 'data' / 'dues' / 'ledger.db'}"
        assert default_url() == Settings().database_url == expected


def test_a_dues_toml_above_the_working_folder_names_the_ledger(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DUES_DATABASE_URL", raising=False)
    (tmp_path / "dues.toml").write_text('[ledger]\nurl = "sqlite:///var/ledger.db"\n')
    (tmp_path / "out" / "2026-10").mkdir(parents=True)
    for folder in (tmp_path, tmp_path / "out" / "2026-10"):
        monkeypatch.chdir(folder)
        assert Settings().database_url == f"sqlite:///{tmp_path / 'var' / 'ledger.db'}"
    pg = "postgresql+psycopg://dues@db/dues"
    (tmp_path / "dues.toml").write_text(f'[ledger]\nurl = "{pg}"\n')
    assert default_url() == pg


def test_a_dues_toml_without_a_ledger_is_refused_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "dues.toml").write_text("[ledgr]\nurl = 1\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StoreError, match=r"dues\.toml: cannot read the ledger") as err:
        default_url()
    assert "\n" not in str(err.value)


def test_the_environment_names_the_database(monkeypatch: pytest.MonkeyPatch) -> None:
    url = "postgresql+psycopg://dues:s3cret@db/dues"
    monkeypatch.setenv("DUES_DATABASE_URL", url)
    assert Settings().database_url == url
    assert masked(url) == "postgresql+psycopg://dues:***@db/dues"


def test_a_url_that_cannot_be_parsed_is_never_shown() -> None:
    assert masked("not a url with p4ssw0rd") == "<unparseable database URL>"
