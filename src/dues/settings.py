"""Deployment settings: where the database is, which policy file, where outputs go.

Read from the environment (`DUES_*`) or an ignored `.env`; command-line options win.
Credentials belong in the environment, never in `config/`.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from dues.store.engine import default_url


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DUES_", env_file=".env", extra="ignore")

    # Without DUES_DATABASE_URL: the ledger of the installation (see default_url).
    database_url: str = Field(default_factory=lambda: default_url())
    config: Path | None = None
    out: Path = Path("out")
