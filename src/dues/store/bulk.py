"""Moving polars frames in and out of ledger tables fast.

A run stores about a million receipt lines at county scale and far more at
province scale, so frames bypass SQLAlchemy's per-row processing: PostgreSQL
gets COPY through psycopg 3, SQLite one ``executemany`` on the raw sqlite3
connection. Both use the DBAPI connection of the caller's SQLAlchemy
transaction, so a bulk write commits or rolls back with everything else.
Other drivers fall back to plain SQLAlchemy Core, which is slower but correct.
"""

from __future__ import annotations

import io
from typing import Any

import polars as pl
import sqlalchemy as sa

from dues.store.tables import frame_schema

# Rows per COPY chunk: bounds the memory of the CSV text at a few tens of MB.
_COPY_CHUNK_ROWS = 200_000
_DATE_FORMAT = "%Y-%m-%d"  # what SQLAlchemy's Date type stores in SQLite, too


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


def insert_frame(conn: sa.Connection, table: sa.Table, frame: pl.DataFrame) -> None:
    """Insert every row of ``frame`` (all of ``table``'s columns, store-owned ones too)."""
    if frame.height == 0:
        return
    # In key order, index pages fill one after the other: twice as fast as
    # random order on SQLite for a million receipt lines.
    key = [c.name for c in table.primary_key.columns]
    frame = frame.select([c.name for c in table.columns]).sort(key)
    backend = _backend(conn)
    if backend == "psycopg":
        _copy_in(conn, table, frame)
    elif backend == "sqlite3":
        _executemany_sqlite(conn, table, frame)
    else:
        conn.execute(table.insert(), frame.to_dicts())


def _quoted_columns(conn: sa.Connection, table: sa.Table) -> str:
    # Quoting matters: quarantine has a column named "column".
    quote = conn.dialect.identifier_preparer.quote
    return ", ".join(quote(c.name) for c in table.columns)


def _copy_in(conn: sa.Connection, table: sa.Table, frame: pl.DataFrame) -> None:
    # polars' CSV matches PostgreSQL's: NULL is an empty unquoted field, an
    # empty string is "", and text is quoted whenever a delimiter needs it.
    target = conn.dialect.identifier_preparer.format_table(table)
    statement = f"COPY {target} ({_quoted_columns(conn, table)}) FROM STDIN (FORMAT csv)"
    with _driver_connection(conn).cursor() as cursor, cursor.copy(statement) as copy:
        for chunk in frame.iter_slices(_COPY_CHUNK_ROWS):
            buffer = io.BytesIO()
            chunk.write_csv(buffer, include_header=False)
            copy.write(buffer.getvalue())


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


def read_frame(
    conn: sa.Connection, table: sa.Table, where: sa.ColumnElement[bool] | None
) -> pl.DataFrame:
    """All columns of ``table`` (store-owned ones too) for the rows matching ``where``."""
    schema = frame_schema(table, with_store_owned=True)
    statement = sa.select(*table.columns)
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
    try:
        rows = cursor.execute(str(compiled), positional).fetchall()
    finally:
        cursor.close()
    return pl.DataFrame(rows, schema=wire, orient="row")


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
