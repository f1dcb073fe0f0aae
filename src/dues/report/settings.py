"""config/report.toml: the federation's own words on the auditors' workbook.

The federation's name heads the overview, and a sign-off block (制表人 / 审核人 / 日期
by default) closes its tables, so the printed overview can be signed and filed.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from dues.tomlconfig import load_toml_model


def _default_path() -> Path:
    """config/report.toml of the source tree, else the copy a wheel ships (see setup.py)."""
    here = Path(__file__).resolve().parent.parent
    source = here.parents[1] / "config" / "report.toml"
    return source if source.is_file() else here / "defaults" / "report.toml"


DEFAULT_REPORT_CONFIG = _default_path()


class ReportSettings(BaseModel):
    """What config/report.toml holds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    federation: str = ""
    sign_off: tuple[str, ...] = Field(default=("制表人", "审核人", "日期"), max_length=6)


def load_report_settings(path: Path | None = None) -> ReportSettings:
    """The settings at `path` (default: config/report.toml); one-line errors."""
    return load_toml_model(path or DEFAULT_REPORT_CONFIG, ReportSettings, "report settings")
