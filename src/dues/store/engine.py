"""Opening a ledger database: URL defaults, per-backend settings, migrations, errors.

Every failure here reaches the user as one ``StoreError`` line naming the
database (password masked) and the cause, never a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, make_url

from dues import periods

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

# Execution option read by the SQLite "begin" hook below.
SQLITE_BEGIN_OPTION = "dues_sqlite_begin"
_MIGRATIONS = "dues:migrations"
# Any constant will do: it only has to be the same for every dues process.
_PG_MIGRATION_LOCK = 0x64756573  # "dues"
# The newest revision in migrations/versions (tests/test_store.py checks it against
# Alembic's own answer). A ledger already there is opened without importing Alembic,
# a fifth of a county run's start-up; any other revision goes through Alembic.
HEAD_REVISION = "0010"


class StoreError(RuntimeError):
    """The ledger database could not be opened, read or written; the message is one line."""


# The office's dues installation: found in the working folder or any folder above it.
LEDGER_FILE = "dues.toml"


def default_url(start: Path | None = None) -> str:
    """The ledger when none is named (by --db or DUES_DATABASE_URL).

    The one default of the whole program: the command line, the settings, the run
    request and Alembic all ask this function. It does not depend on the folder a
    clerk stands in, only on the installation: the ledger a `dues.toml` names, found
    in the working folder (`start`) or any folder above it, else the user's own
    ledger in their data folder (`~/.local/share/dues/ledger.db` on Linux).
    """
    found = find_ledger_file(start or Path.cwd())
    if found is not None:
        return ledger_of_file(found)
    from platformdirs import user_data_path

    return f"sqlite:///{user_data_path('dues') / 'ledger.db'}"


def find_ledger_file(start: Path) -> Path | None:
    """The nearest `dues.toml` in `start` or a folder above it."""
    for folder in (start.resolve(), *start.resolve().parents):
        if (folder / LEDGER_FILE).is_file():
            return folder / LEDGER_FILE
    return None


def ledger_of_file(path: Path) -> str:
    """The ledger URL a dues.toml names (`[ledger] url = ...`); a relative SQLite
    file is relative to the dues.toml, so every folder below it finds the same one."""
    import tomllib

    try:
        url = tomllib.loads(path.read_text(encoding="utf-8"))["ledger"]["url"]
        parsed = make_url(url)
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, sa.exc.ArgumentError) as exc:
        raise StoreError(
            f"{path}: cannot read the ledger from it ({type(exc).__name__}: {exc}); "
            'it must say [ledger] url = "sqlite:///ledger.db" or a postgresql+psycopg:// URL'
        ) from None
    database = parsed.database or ""
    relative = database not in ("", ":memory:") and not Path(database).expanduser().is_absolute()
    if parsed.get_backend_name() == "sqlite" and relative:
        parsed = parsed.set(database=str(path.parent / database))
    return parsed.render_as_string(hide_password=False)


def masked(url: str | URL) -> str:
    """``url`` fit for messages, logs and run.json: the password replaced by ***.

    A URL that cannot be parsed is not shown at all: it may hold a password in a
    place no parser can find.
    """
    try:
        return make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "<unparseable database URL>"


def describe(error: BaseException, url: str | URL | None = None) -> str:
    """One line saying why ``error`` happened, without SQL, parameters or passwords."""
    cause: BaseException = error
    # SQLAlchemy wraps the driver's error with the statement and its
    # parameters, which can be megabytes long; the driver's text is the reason.
    if isinstance(error, sa.exc.DBAPIError) and error.orig is not None:
        cause = error.orig
    text = " ".join(str(cause).split()) or type(cause).__name__
    try:
        password = make_url(url).password if url is not None else None
    except sa.exc.ArgumentError:  # the URL itself is what failed
        password = None
    if password:
        text = text.replace(str(password), "***")
    return text


def create_store_engine(url: str, *, timeout_s: float) -> sa.Engine:
    """An engine for ``url`` with the settings the ledger relies on for its backend."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, timeout_s)
    connect_args: dict[str, Any] = {}
    if parsed.get_backend_name() == "postgresql":
        # COPY sends UTF-8 bytes; an unreachable host must fail, not hang.
        connect_args = {"client_encoding": "utf8", "connect_timeout": max(2, round(timeout_s))}
        connect_args = {k: v for k, v in connect_args.items() if k not in parsed.query}
    return sa.create_engine(parsed, connect_args=connect_args, pool_pre_ping=True)


SQLITE_PAGE_SIZE = 16_384
SQLITE_CACHE_KIB = 65_536  # page cache per connection (SQLite's default is 2 MiB)


def _sqlite_engine(url: URL, timeout_s: float) -> sa.Engine:
    database = url.database or ""
    in_memory = database in ("", ":memory:") or database.startswith("file::memory:")
    if not in_memory:
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    connect_args = {} if "timeout" in url.query else {"timeout": timeout_s}
    engine = sa.create_engine(url, connect_args=connect_args)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself (below): Python 3.11's sqlite3
        # otherwise starts transactions late and never around DDL, which
        # would make migrations and commit_run non-atomic.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            if not in_memory:
                # A new ledger gets 16 KiB pages (an existing one keeps its own; the size
                # is fixed once there is content or WAL): a run's million receipt lines
                # go in 6% faster and commit in 40% less time than with 4 KiB pages.
                cursor.execute(f"PRAGMA page_size={SQLITE_PAGE_SIZE}")
                # WAL lets readers work while a run is being written.
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        # Writers ask for IMMEDIATE so the write lock is taken (with the busy
        # timeout) up front; a deferred transaction that reads first and then
        # writes fails at once when another writer got in between.
        mode = conn.get_execution_options().get(SQLITE_BEGIN_OPTION, "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


def writing(conn: sa.Connection) -> sa.Connection:
    """``conn`` set up for a write transaction (only SQLite needs telling)."""
    return conn.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})


def _alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", _MIGRATIONS)
    return config


def head_revision() -> str | None:
    """The newest migration, as Alembic reads it from migrations/versions."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def _stored_revision(engine: sa.Engine) -> str | None:
    """alembic_version's one row, read without Alembic (None: no such table or row)."""
    version = sa.table("alembic_version", sa.column("version_num"))
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(sa.select(version.c.version_num)).scalar()


def upgrade_to_head(engine: sa.Engine) -> None:
    """Create the schema, or bring it up to this version of dues; a no-op at head.

    Alembic's failures come out as StoreError.
    """
    if _stored_revision(engine) == HEAD_REVISION:
        return
    from alembic.util import CommandError

    try:
        _upgrade(engine)
    except CommandError as error:
        raise StoreError(" ".join(str(error).split())) from error


def _upgrade(engine: sa.Engine) -> None:
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    config = _alembic_config()
    scripts = ScriptDirectory.from_config(config)
    head = scripts.get_current_head()
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    if current == head:
        return
    if current is not None and not _known_revision(scripts, current):
        raise StoreError(
            f"database schema is at revision {current}, newer than this version of dues "
            f"knows (head {head}); upgrade dues"
        )
    with writing(engine.connect()) as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            # Batch migrations rebuild tables (copy, drop, rename), which a
            # foreign key to them would veto; SQLite only lets this switch
            # change outside a transaction. Checked before commit instead.
            _driver_execute(conn, "PRAGMA foreign_keys=OFF")
        try:
            with conn.begin():
                if not sqlite:
                    # Two processes opening an empty database at once must not
                    # both create the tables; the loser waits, then finds them.
                    conn.execute(
                        sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK}
                    )
                config.attributes["connection"] = conn
                command.upgrade(config, "head")
                if sqlite and conn.exec_driver_sql("PRAGMA foreign_key_check").first():
                    raise StoreError("a migration left rows that break a foreign key")
        finally:
            if sqlite:
                _driver_execute(conn, "PRAGMA foreign_keys=ON")


def _driver_execute(conn: sa.Connection, statement: str) -> None:
    # Straight to sqlite3, so SQLAlchemy does not open a transaction first.
    raw = conn.connection.driver_connection
    if raw is not None:
        raw.execute(statement)


def _known_revision(scripts: ScriptDirectory, revision: str) -> bool:
    from alembic.util import CommandError

    try:
        return scripts.get_revision(revision) is not None
    except CommandError:
        return False


def check_period(period: str) -> None:
    """Raise StoreError unless ``period`` is a month written ``YYYY-MM``."""
    try:
        periods.check_period(period)
    except ValueError as error:
        raise StoreError(str(error)) from None
