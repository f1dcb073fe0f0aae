"""The ledger: every run's inputs, accepted lines and results, in SQLite or PostgreSQL.

    with open_store(url) as store:
        stored = store.load_lines_with_keys("receipts", incoming, exclude_period=run.period)
        sums = store.load_month_sums(exclude_period=run.period)
        ...
        store.commit_run(run, registry=..., new_receipts=..., new_month_sums=..., ...)

A run reads the kept unit-month sums, never every line (``load_receipts`` is for
audits and tests).

See ``dues.store.store`` for what re-running a period does.
"""

from dues.store.engine import StoreError, default_url
from dues.store.store import RunRecord, Store, open_store
from dues.store.tables import RESULT_KINDS

__all__ = [
    "RESULT_KINDS",
    "RunRecord",
    "Store",
    "StoreError",
    "default_url",
    "open_store",
]
