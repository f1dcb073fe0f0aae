"""One run at a time per ledger (issue 10, item 4).

A run reads the ledger long before it commits: a run of another month that
committed in between would be missing from its outputs, without a word. So a
run holds its ledger from before its first read of it to the publish, and a
second run waits for it, up to `wait_s`, then refuses with one line naming the
run that holds it. Never a stale result.

The lock belongs to the process and dies with it, however it dies (SIGKILL too):

* SQLite: an OS lock (`flock`) on `<database file>.lock`, beside the database;
  the file says which run holds it. An in-memory database needs none.
* PostgreSQL: a session-level advisory lock on a connection of its own, keyed by
  the database and schema the URL's search path leads to (so ledgers in two
  schemas do not block each other); the connection's `application_name` says
  which run holds it.

The lock is no part of the store's commit: the store's transactions are as they
were, this only decides who may run them. Whoever takes it first settles what
crashed runs left (dues.run.recovery), so no run reads a ledger ahead of its outputs.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

from dues.run.request import RunError
from dues.store.engine import StoreError, describe, masked

DEFAULT_WAIT_S = 300.0
_POLL_S = 0.2
# The first key of every dues ledger lock (pg_advisory_lock(int, int) has a key
# space of its own, apart from the one-key form the migrations lock takes).
_PG_SPACE = 0x64756573  # "dues"
_PG_APP_PREFIX = "dues-run "  # application_name is cut at 63 bytes; a holder fits


class LedgerBusy(RunError):
    """Another run held the ledger for the whole wait; the message names it."""


@dataclass(frozen=True)
class Holder:
    """The run that holds a ledger, as it writes itself where a waiting run can read it."""

    run_id: str
    period: str
    pid: int
    since: datetime  # UTC

    @classmethod
    def this_process(cls, run_id: str, period: str) -> Holder:
        return cls(run_id, period, os.getpid(), datetime.now(UTC).replace(microsecond=0))

    def text(self) -> str:
        """One line of four words: run id, period, pid, since (Unix seconds)."""
        return f"{self.run_id} {self.period} {self.pid} {int(self.since.timestamp())}"

    @classmethod
    def parse(cls, text: str) -> Holder | None:
        """The holder written by `text`; None for anything else (a record half written)."""
        words = text.split()
        if len(words) != 4 or not (words[2].isdigit() and words[3].isdigit()):
            return None
        since = datetime.fromtimestamp(int(words[3]), UTC)
        return cls(words[0], words[1], int(words[2]), since)

    def describe(self) -> str:
        local = self.since.astimezone()
        today = datetime.now().astimezone().date()
        shown = f"{local:%H:%M:%S}" if local.date() == today else f"{local:%Y-%m-%d %H:%M:%S}"
        return f"run {self.run_id} (period {self.period}, pid {self.pid}, since {shown})"


class _Lock(Protocol):
    def try_take(self, holder: Holder) -> bool: ...
    def holder(self) -> Holder | None: ...
    def close(self) -> None: ...


@contextlib.contextmanager
def ledger_lock(
    url: str,
    run_id: str,
    period: str,
    wait_s: float = DEFAULT_WAIT_S,
    *,
    out: Path | None = None,
    recover: bool = True,
) -> Iterator[bool]:
    """Hold the ledger at `url` for the block; wait up to `wait_s` for another run's
    hold to end, then raise LedgerBusy naming that run.

    Once held, and before the block runs, what crashed runs left is settled
    (`dues.run.recovery.recover`, in every OUT the ledger knows and in `out`), unless
    `recover` is false. Yields whether a lock was taken (an in-memory SQLite
    database needs none, and has nothing to recover)."""
    lock = _lock_of(url)
    if lock is None:
        yield False
        return
    try:
        holder = Holder.this_process(run_id, period)
        deadline = time.monotonic() + max(0.0, wait_s)
        while not lock.try_take(holder):
            left = deadline - time.monotonic()
            if left <= 0:
                other = lock.holder()
                named = other.describe() if other else "another dues run"
                raise LedgerBusy(
                    f"the ledger {masked(url)} is in use by {named}; "
                    f"waited {wait_s:g} s — try again when it is done"
                )
            time.sleep(min(_POLL_S, left))
        if recover:
            from dues.run.recovery import recover as settle_crashed_runs

            settle_crashed_runs(url, out, own=run_id)
        yield True
    finally:
        lock.close()


def _lock_of(url: str) -> _Lock | None:
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError as error:
        raise StoreError(f"cannot open database {masked(url)}: {describe(error)}") from error
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:") or database.startswith("file::memory:"):
            return None  # only this process can see it
        return _FileLock(Path(f"{Path(database).expanduser()}.lock"))
    if backend == "postgresql":
        return _PgLock(url, parsed)
    raise StoreError(
        f"cannot open database {masked(url)}: dues keeps its ledger in SQLite or PostgreSQL, "
        f"not {backend}"
    )


class _FileLock:
    """`flock` on a file beside the database; the file holds the holder's line.

    The file is never removed: a run that removed it could leave a waiting run
    locking a file no later run opens.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.held = False
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as error:
            raise StoreError(
                f"cannot open the ledger's lock file {path}: {error.strerror}"
            ) from error

    def try_take(self, holder: Holder) -> bool:
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        self.held = True
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, (holder.text() + "\n").encode(), 0)
        return True

    def holder(self) -> Holder | None:
        return Holder.parse(os.pread(self.fd, 512, 0).decode(errors="replace"))

    def close(self) -> None:
        if self.held:
            with contextlib.suppress(OSError):
                os.ftruncate(self.fd, 0)  # no one holds it now
        os.close(self.fd)  # and the lock goes with the last descriptor


class _PgLock:
    """A session-level advisory lock on a connection of its own, in autocommit (an
    open transaction held for a whole run would hold back vacuum)."""

    def __init__(self, url: str, parsed: URL) -> None:
        self.url = url
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")  # the driver dues ships
        connect_args = {} if "connect_timeout" in parsed.query else {"connect_timeout": 10}
        self.engine = sa.create_engine(
            parsed, poolclass=NullPool, isolation_level="AUTOCOMMIT", connect_args=connect_args
        )
        try:
            self.conn = self.engine.connect()
            # The ledger is where the search path leads, however the URL spells it.
            where = self.conn.execute(
                sa.text(
                    "SELECT current_database(), "
                    "coalesce(current_schema(), current_setting('search_path'))"
                )
            ).one()
        except (sa.exc.SQLAlchemyError, ImportError, OSError) as error:
            self.engine.dispose()
            raise StoreError(
                f"cannot open database {masked(url)}: {describe(error, url)}"
            ) from error
        digest = hashlib.blake2b(f"{where[0]}/{where[1]}".encode(), digest_size=4).digest()
        # Kept non-negative: pg_locks shows the keys as unsigned oids.
        self.key = int.from_bytes(digest, "big") & 0x7FFFFFFF

    def try_take(self, holder: Holder) -> bool:
        taken = self._execute(
            "SELECT pg_try_advisory_lock(:space, :key)", space=_PG_SPACE, key=self.key
        ).scalar_one()
        if taken:
            self._execute(
                "SELECT set_config('application_name', :name, false)",
                name=_PG_APP_PREFIX + holder.text(),
            )
        return bool(taken)

    def holder(self) -> Holder | None:
        name = self._execute(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 "
            "AND l.classid::bigint = :space AND l.objid::bigint = :key "
            "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            space=_PG_SPACE,
            key=self.key,
        ).scalar()
        if not isinstance(name, str) or not name.startswith(_PG_APP_PREFIX):
            return None
        return Holder.parse(name.removeprefix(_PG_APP_PREFIX))

    def close(self) -> None:
        # Closing the session releases its advisory locks; a session already lost
        # (the server restarted) holds none.
        with contextlib.suppress(sa.exc.SQLAlchemyError):
            self.conn.close()
        self.engine.dispose()

    def _execute(self, sql: str, **params: int | str) -> sa.CursorResult[tuple[object, ...]]:
        try:
            return self.conn.execute(sa.text(sql), params)
        except sa.exc.SQLAlchemyError as error:
            raise StoreError(
                f"the ledger {masked(self.url)}: {describe(error, self.url)}"
            ) from error
