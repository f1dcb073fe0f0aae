"""A ledger URL without its password, and the password found again where the run happens.

Prefect keeps every flow run's parameters in its database and shows them in its UI,
to every user of the server: a `db` parameter must never carry the password. The
caller passes `without_password(url)`; the flow, on the worker, calls
`with_password`, which takes the password from the worker's own environment
(`DUES_DATABASE_URL`, when it names the same database) or from a secret the caller
looks up (the flow: a Prefect Secret block), else leaves the URL as it is, for the
driver's own sources (PostgreSQL's PGPASSWORD or ~/.pgpass).
"""

from __future__ import annotations

import os
from collections.abc import Callable

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

ENV = "DUES_DATABASE_URL"


def _parsed(url: str) -> URL | None:
    try:
        return make_url(url)
    except ArgumentError:
        return None


def _bare(url: URL) -> URL:
    # URL.set(password=None) leaves the password as it is: None there means "unchanged".
    return url._replace(password=None)


def without_password(url: str) -> str:
    """`url` with no password in it (an unparseable URL is passed on only if it cannot
    hold one: it has no '@')."""
    parsed = _parsed(url)
    if parsed is None:
        if "@" in url:
            raise ValueError("the database URL cannot be parsed; it is not passed on")
        return url
    return _bare(parsed).render_as_string(hide_password=False)


def with_password(url: str, secret: Callable[[], str | None] = lambda: None) -> str:
    """`url` with its password: its own, else DUES_DATABASE_URL's when that names the
    same database, else `secret()`'s; else `url` as it is."""
    parsed = _parsed(url)
    if parsed is None or parsed.password is not None:
        return url
    env = _parsed(os.environ.get(ENV, ""))
    if env is not None and env.password is not None and _bare(env) == parsed:
        return env.render_as_string(hide_password=False)
    password = secret() if parsed.get_backend_name() != "sqlite" else None
    if password:
        return parsed.set(password=password).render_as_string(hide_password=False)
    return url
