"""A config file in TOML read into a pydantic model, every failure one line naming the file.

The notice template (config/notice.toml) and the workbook's settings (config/report.toml)
are read this way; the policy keeps its own reader, whose errors list every bad key.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


def load_toml_model(path: Path, model: type[M], what: str) -> M:
    """`path` read as `model`; ValueError of one line ("<what> <path>: …") if it cannot be."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"{what} not found: {path}") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"{what} {path} cannot be read: {exc}") from exc
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "file"
        raise ValueError(f"{what} {path}: {where}: {first['msg']}") from exc
