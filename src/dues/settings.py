"""Deployment settings: where the database is, which policy file, where outputs go.

Read from the environment (`DUES_*`) or an ignored `.env`; command-line options win.
Credentials belong in the environment, never in `config/`.
"""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DUES_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///var/dues.db"
    config: Path | None = None
    out: Path = Path("out")


def mask_url(url: str) -> str:
    """A database URL safe to print: the password replaced by ***."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url.split("@")[-1] if "@" in url else url
