"""Where the shared example county (shared/examples/county-40) lives; importing never fails.

Looked for in $DUES_SHARED_DIR when it is set, and then only there (so
`DUES_SHARED_DIR=/nonexistent` runs the suite as a checkout without shared/ would);
otherwise in `../shared` beside the checkout, as in CI, then in /work/shared.

The rest of the suite runs from the repository alone. Tests that read the county say so:

* a module that needs it throughout starts with `COUNTY = require_county()`, which
  skips the whole module without it;
* a single test takes the `county` fixture (tests/conftest.py), or is marked
  `@pytest.mark.usefixtures("county")` when it reads the module's `COUNTY`;
* `county_summary()` is expected/summary.json, for parametrizing at import time;
  without the county it is an empty one (no runs, no files), so those cases are
  not collected.

When CI is set, each of these fails instead of skipping: CI must run the example.
`COUNTY` is where the county is, or where it was first looked for: read it only
behind one of the guards above.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, NoReturn

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_ENV = "DUES_SHARED_DIR"


def _candidates() -> list[Path]:
    if SHARED_ENV in os.environ:
        return [Path(os.environ[SHARED_ENV])]
    return [ROOT.parent / "shared", Path("/work/shared")]


def _find() -> Path | None:
    for shared in _candidates():
        if (shared / "examples" / "county-40").is_dir():
            return shared / "examples" / "county-40"
    return None


FOUND = _find()
COUNTY = FOUND or _candidates()[0] / "examples" / "county-40"


def _missing() -> NoReturn:
    looked = ", ".join(str(shared) for shared in _candidates())
    reason = f"shared/examples/county-40 not found (looked in {looked}); set {SHARED_ENV}"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}. CI is set, and CI must run the example county", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


def require_county() -> Path:
    """The example county's folder; without it, skip (the module, or the test), or fail in CI."""
    if FOUND is None:
        _missing()
    return FOUND


def county_summary() -> dict[str, Any]:
    """expected/summary.json; without the county, one with no runs and no files (fails in CI)."""
    if FOUND is None:
        if os.environ.get("CI"):
            _missing()
        return {"registry": "", "runs": [], "files": {}}
    summary: dict[str, Any] = json.loads(
        (FOUND / "expected" / "summary.json").read_text(encoding="utf-8")
    )
    return summary
