"""Where the shared example county lives: beside the checkout, as in CI, or DUES_SHARED_DIR."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _shared() -> Path:
    candidates = [Path(os.environ["DUES_SHARED_DIR"])] if "DUES_SHARED_DIR" in os.environ else []
    candidates += [ROOT.parent / "shared", Path("/work/shared")]
    for candidate in candidates:
        if (candidate / "examples" / "county-40").is_dir():
            return candidate
    raise FileNotFoundError(
        "shared/examples/county-40 not found beside the checkout; set DUES_SHARED_DIR"
    )


SHARED = _shared()
COUNTY = SHARED / "examples" / "county-40"
