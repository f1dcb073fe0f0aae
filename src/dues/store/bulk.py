"""Moving polars frames in and out of ledger tables fast.

A run stores about a million receipt lines at county scale and far more at
province scale, so frames bypass SQLAlchemy's per-row processing. Every bulk
read and write uses the DBAPI connection of the caller's SQLAlchemy
transaction, so a write commits or rolls back with everything else
(``Store.commit_run`` is all or nothing) and a read sees that transaction's
rows and scratch tables. PostgreSQL gets binary COPY through psycopg 3, the
rows encoded from Arrow by pgpq, and CSV COPY out; SQLite ``executemany`` on
the raw sqlite3 connection in and ``fetchmany`` out. Other drivers fall back
to plain SQLAlchemy Core, which is slower but correct.

Why these paths (scripts/bench_store_io.py: 1,000,000 receipt lines, every
path in turn in one process, median of 3 to 5 turns on the 2-core machine):

* PostgreSQL write: binary COPY from pgpq 4.5 s, CSV COPY (before) 5.3 s. The
  server's work dominates: psycopg's own ``write_row`` is as fast in wall time
  but spends 2.8 s of client CPU to pgpq's 1.0 s, and ADBC's ``adbc_ingest``
  (5.9 s) needs a connection of its own, outside the run's transaction.
* SQLite write: ``executemany`` 6.2 s. ADBC's ingest takes 3.8 s, but on its
  own connection, which cannot join the run's transaction; staging the rows
  in a scratch file through ADBC and ``INSERT ... SELECT`` from it ATTACHed
  to the run's connection took 5.3 s (best 4.2 s), for a scratch file per
  frame, a DETACH that SQLite refuses before COMMIT, and ADBC's own copy of
  SQLite; SQLite's json_each over polars' JSON took 20 s.
* SQLite read: ``fetchmany`` 4.8 s (``fetchall``, before, 5.5 s and twice
  the peak memory). ADBC reads in 1.6 s, but its driver links its own SQLite
  (3.53 beside Python's 3.40): two copies of SQLite on one file in one
  process lose each other's POSIX locks (sqlite.org/howtocorrupt.html 2.2.1),
  and here a read through ADBC after a commit on the pool's connection saw
  an empty table. connectorx (2.0 s) also reads through a SQLite of its own.
* PostgreSQL read: CSV COPY 3.1 s; ADBC 2.5 s, connectorx 2.5 s, both on a
  connection of their own: ADBC's takes 50-70 ms to open (it loads the
  server's types), against 1 ms for a whole small read on the pooled
  connection, and a run's reads are many and small (the scratch-table reads
  must be on the run's connection anyway).
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from typing import Any

import polars as pl
import sqlalchemy as sa
from pgpq import ArrowToPostgresBinaryEncoder

from dues.store.tables import frame_schema

# Rows per COPY chunk: bounds the memory of the encoded rows at a few tens of MB.
_COPY_CHUNK_ROWS = 200_000
_DATE_FORMAT = "%Y-%m-%d"  # what SQLAlchemy's Date type stores in SQLite, too
_FETCH_CHUNK_ROWS = 100_000  # sqlite3 rows turned into a frame at a time


def _backend(conn: sa.Connection) -> str:
    dialect = conn.dialect
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        return "psycopg"
    if dialect.name == "sqlite" and dialect.driver == "pysqlite":
        return "sqlite3"
    return "generic"


def _driver_connection(conn: sa.Connection) -> Any:
    raw = conn.connection.driver_connection
    if raw is None:  # only after the connection was invalidated
        raise sa.exc.InvalidRequestError("the database connection was closed")
    return raw


# --- writing -----------------------------------------------------------------


def insert_frame(conn: sa.Connection, table: sa.Table, frame: pl.DataFrame) -> None:
    """Insert every row of ``frame`` (all of ``table``'s columns, store-owned ones too)."""
    if frame.height == 0:
        return
    # In key order, index pages fill one after the other: twice as fast as
    # random order on SQLite for a million receipt lines.
    key = [c.name for c in table.primary_key.columns]
    frame = frame.select([c.name for c in table.columns]).sort(key)
    rebuild = _indexes_to_rebuild(conn, table, frame.height)
    for index in rebuild:
        index.drop(conn)
    backend = _backend(conn)
    if backend == "psycopg":
        _copy_in(conn, table, frame)
    elif backend == "sqlite3":
        _executemany_sqlite(conn, table, frame)
    else:
        conn.execute(table.insert(), frame.to_dicts())
    for index in rebuild:
        index.create(conn)


# A first load at least this big builds the secondary indexes after its rows instead of
# inserting into them row by row: rows in key order do not come in `uscc` order, so each
# insert lands on a random index page. For 1,100,000 receipt lines into an empty SQLite
# table (the cold start at 100k units): 10.7-15.4 s with the index, 5.9-7.2 s dropping it
# and building it after the inserts (2026-12-02, a loaded 2-core machine, two turns). Both
# stores drop and create indexes inside the run's transaction, so it stays all or nothing.
_REBUILD_INDEX_ROWS = 100_000


def _indexes_to_rebuild(conn: sa.Connection, table: sa.Table, rows: int) -> list[sa.Index]:
    if rows < _REBUILD_INDEX_ROWS or not table.indexes:
        return []
    if conn.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first() is not None:
        return []  # a table with rows keeps its index: rebuilding it would cost them all
    return sorted(table.indexes, key=lambda index: str(index.name))


def _quoted_columns(conn: sa.Connection, table: sa.Table) -> str:
    # Quoting matters: quarantine has a column named "column".
    quote = conn.dialect.identifier_preparer.quote
    return ", ".join(quote(c.name) for c in table.columns)


def _copy_in(conn: sa.Connection, table: sa.Table, frame: pl.DataFrame) -> None:
    target = conn.dialect.identifier_preparer.format_table(table)
    statement = f"COPY {target} ({_quoted_columns(conn, table)}) FROM STDIN (FORMAT binary)"
    with _driver_connection(conn).cursor() as cursor, cursor.copy(statement) as copy:
        for data in copy_binary(frame):
            copy.write(data)


def copy_binary(frame: pl.DataFrame) -> Iterator[bytes]:
    """``frame`` in PostgreSQL's binary COPY format, a chunk of rows at a time.

    Each column's type is read off its Arrow type (Int64 as bigint, Date as
    date, String as text, ...), so ``frame`` must have the table's dtypes,
    which ``frames.conform`` ensures.
    """
    # Oldest: plain (large) strings, which pgpq knows, rather than string views.
    arrow = frame.to_arrow(compat_level=pl.CompatLevel.oldest())
    encoder = ArrowToPostgresBinaryEncoder(arrow.schema)
    yield encoder.write_header()
    for batch in arrow.to_batches(max_chunksize=_COPY_CHUNK_ROWS):
        yield encoder.write_batch(batch)
    yield encoder.finish()


def _executemany_sqlite(conn: sa.Connection, table: sa.Table, frame: pl.DataFrame) -> None:
    rows = frame.with_columns(pl.col(pl.Date).dt.to_string(_DATE_FORMAT))
    placeholders = ", ".join("?" for _ in table.columns)
    statement = (
        f"INSERT INTO {conn.dialect.identifier_preparer.format_table(table)} "
        f"({_quoted_columns(conn, table)}) VALUES ({placeholders})"
    )
    cursor = _driver_connection(conn).cursor()
    try:
        cursor.executemany(statement, rows.iter_rows())
    finally:
        cursor.close()


# --- reading -----------------------------------------------------------------


def read_frame(
    conn: sa.Connection,
    table: sa.Table,
    where: sa.ColumnElement[bool] | None,
    columns: Sequence[str] | None = None,
) -> pl.DataFrame:
    """All columns of ``table`` (store-owned ones too), or only ``columns``, for the rows
    matching ``where``."""
    schema = frame_schema(table, with_store_owned=True)
    if columns is not None:
        schema = pl.Schema({name: schema[name] for name in columns})
    statement = sa.select(*(table.c[name] for name in schema))
    if where is not None:
        statement = statement.where(where)
    backend = _backend(conn)
    if backend == "psycopg":
        wire = pl.Schema({n: pl.String() if d == pl.Boolean else d for n, d in schema.items()})
        frame = _copy_out(conn, statement, wire)
    elif backend == "sqlite3":
        wire = pl.Schema(
            {
                n: pl.String() if d == pl.Date else pl.Int64() if d == pl.Boolean else d
                for n, d in schema.items()
            }
        )
        frame = _fetch_sqlite(conn, statement, wire)
    else:
        frame = pl.DataFrame(conn.execute(statement).all(), schema=schema, orient="row")
    return _restore_dtypes(frame, schema)


def _copy_out(conn: sa.Connection, statement: sa.Select[Any], wire: pl.Schema) -> pl.DataFrame:
    # COPY takes no bind parameters; SQLAlchemy renders the few literals
    # (a period string) with the dialect's own escaping.
    query = statement.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
    buffer = io.BytesIO()
    with _driver_connection(conn).cursor() as cursor:
        # Dates leave the server in the session's DateStyle; pin it to ISO.
        cursor.execute("SET LOCAL DateStyle TO 'ISO, YMD'")
        with cursor.copy(f"COPY ({query}) TO STDOUT (FORMAT csv)") as copy:
            for data in copy:
                buffer.write(data)
    if buffer.tell() == 0:
        return pl.DataFrame(schema=wire)
    buffer.seek(0)
    return pl.read_csv(buffer, has_header=False, schema=wire)


def _fetch_sqlite(conn: sa.Connection, statement: sa.Select[Any], wire: pl.Schema) -> pl.DataFrame:
    # Expanding IN lists are only spelled out at execution; render them now.
    compiled = statement.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.construct_params()
    positional = [params[name] for name in compiled.positiontup or ()]
    cursor = _driver_connection(conn).cursor()
    chunks: list[pl.DataFrame] = []
    try:
        cursor.execute(str(compiled), positional)
        # A chunk at a time: read at once, a million receipt lines took 1.7 GB at
        # the peak (their 16 million Python objects), in chunks 0.8 GB, as fast.
        while rows := cursor.fetchmany(_FETCH_CHUNK_ROWS):
            chunks.append(pl.DataFrame(rows, schema=wire, orient="row"))
    finally:
        cursor.close()
    return pl.concat(chunks) if chunks else pl.DataFrame(schema=wire)


def _restore_dtypes(frame: pl.DataFrame, schema: pl.Schema) -> pl.DataFrame:
    fixes: list[pl.Expr] = []
    for name, dtype in schema.items():
        wire = frame.schema[name]
        if wire == dtype:
            continue
        column = pl.col(name)
        if dtype == pl.Date:
            fixes.append(column.str.to_date(_DATE_FORMAT))
        elif dtype == pl.Boolean and wire == pl.String:
            fixes.append(column == "t")  # PostgreSQL's CSV spelling of true
        else:
            fixes.append(column.cast(dtype))
    return frame.with_columns(fixes) if fixes else frame
