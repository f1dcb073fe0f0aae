"""Bulk I/O of a receipts-shaped frame to and from both ledger backends, every path side by side.

One process, one data set, every path in turn (issue 9, item 1), so the ratios are
comparable on a noisy machine. Writes go into an empty, freshly migrated ``receipts``
table and include COMMIT; reads return the frame with its ledger dtypes.

    python scripts/bench_store_io.py [--rows 1000000] [--repeat 3] [--skip-pg] [--skip-sqlite]
                                     [--only TEXT]

Each path runs --repeat times, in turns (every path once, then again), and the table shows
the best and the median. "before" is the path of bulk.py before issue 9; "bulk.py" the one
it takes now. Paths marked "own connection" open a second connection, so they cannot share
the run's transaction (what ``Store.commit_run`` needs); they are here to compare. The ADBC
SQLite driver carries its own copy of SQLite: here it only ever opens a file while no
sqlite3 connection of this process has it open (two copies of SQLite in one process on one
file lose each other's POSIX locks), which is also why bulk.py does not use it. Paths
whose package is missing are skipped; to run them all:

    pip install numpy adbc-driver-sqlite adbc-driver-postgresql connectorx

(numpy is for the hand-written encoders below only: it is no dependency of dues, and
where it is installed pandera imports it into every dues process.)
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import struct
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from dues.store import bulk, open_store
from dues.store import tables as t
from dues.store.engine import writing

PG_URL = os.environ.get("DUES_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SCHEMA = t.frame_schema(t.receipts, with_store_owned=True)
COLUMNS = list(SCHEMA)


def receipts_frame(rows: int) -> pl.DataFrame:
    """``rows`` receipt lines in key order: Unicode names, nulls, quotes and commas in text."""
    i = pl.int_range(0, rows, dtype=pl.Int64, eager=True)
    unit = i // 3
    month = unit % 12
    frame = pl.DataFrame({"i": i}).select(
        receipt_no=pl.format("3301{}", (unit + 10_000_000).cast(pl.String)),
        line_no=i % 3 + 1,
        uscc=pl.format("91330102MA{}", (unit % 100_000 + 10_000_000).cast(pl.String)),
        taxpayer_name=pl.format('杭州第{}制造有限公司, "分厂"', (unit % 100_000).cast(pl.String)),
        item=pl.when(i % 3 == 2).then(pl.lit("preparatory")).otherwise(pl.lit("dues")),
        item_code=pl.when(i % 5 == 0).then(None).otherwise(pl.lit("10118")),
        period_start=pl.date(2025, 1, 1) + pl.duration(days=month * 30),
        period_end=pl.date(2025, 1, 28) + pl.duration(days=month * 30),
        wage_base_fen=unit * 1_000 + 5_000_000,
        rate_bp=pl.lit(200, dtype=pl.Int64),
        amount_fen=unit * 20 + 100_000,
        paid_date=pl.when(i % 7 == 0).then(None).otherwise(pl.date(2025, 2, 15)),
        tax_office=pl.when(i % 11 == 0).then(None).otherwise(pl.lit("国家税务总局杭州市税务局")),
        source_file=pl.lit("collections_2025-01.csv"),
        source_row=i + 2,
        run_id=pl.lit("run-bench"),
    )
    return frame.cast(dict(SCHEMA))  # type: ignore[arg-type]


# ---- databases ---------------------------------------------------------------------------


@dataclass
class Target:
    backend: str  # sqlite | postgresql
    url: str  # SQLAlchemy URL
    adbc_uri: str  # what the ADBC driver and connectorx are given
    table: str  # the receipts table as ADBC/connectorx name it


@contextmanager
def fresh_target(backend: str, tmp: Path) -> Iterator[Target]:
    """An empty ledger at head: a new SQLite file, or a new PostgreSQL schema."""
    if backend == "sqlite":
        path = tmp / f"{uuid.uuid4().hex[:8]}.db"
        url = f"sqlite:///{path}"
        open_store(url).close()
        try:
            yield Target(backend, url, str(path), "receipts")
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    base = sa.make_url(PG_URL)
    url = base.update_query_dict({"options": f"-csearch_path={schema}"})
    open_store(url.render_as_string(hide_password=False)).close()
    plain = base.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        full = url.render_as_string(hide_password=False)
        yield Target(backend, full, plain, f"{schema}.receipts")
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@contextmanager
def run_transaction(target: Target) -> Iterator[sa.Connection]:
    """The kind of write transaction commit_run opens (BEGIN IMMEDIATE on SQLite)."""
    store = open_store(target.url)
    engine: sa.Engine = store._engine  # a benchmark looks inside
    try:
        with engine.connect() as conn, writing(conn).begin():
            yield conn
    finally:
        store.close()


def driver(conn: sa.Connection) -> Any:
    return conn.connection.driver_connection


# ---- writes ------------------------------------------------------------------------------


def write_bulk(target: Target, frame: pl.DataFrame) -> None:
    """What commit_run does now: bulk.insert_frame on the run's connection."""
    with run_transaction(target) as conn:
        bulk.insert_frame(conn, t.receipts, frame)


def write_csv_copy(target: Target, frame: pl.DataFrame) -> None:
    """Before: COPY (FORMAT csv) of polars' CSV, through psycopg on the run's connection."""
    sql = f"COPY receipts ({', '.join(COLUMNS)}) FROM STDIN (FORMAT csv)"
    with run_transaction(target) as conn, driver(conn).cursor() as cur, cur.copy(sql) as copy:
        for chunk in frame.iter_slices(200_000):
            buffer = io.BytesIO()
            chunk.write_csv(buffer, include_header=False)
            copy.write(buffer.getvalue())


def _sqlite_wire(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(pl.col(pl.Date).dt.to_string("%Y-%m-%d"))


def write_executemany_columns(target: Target, frame: pl.DataFrame) -> None:
    """executemany fed by zip over column lists instead of polars' iter_rows."""
    rows = _sqlite_wire(frame)
    marks = ", ".join("?" for _ in COLUMNS)
    sql = f"INSERT INTO receipts ({', '.join(COLUMNS)}) VALUES ({marks})"
    with run_transaction(target) as conn:
        cursor = driver(conn).cursor()
        for chunk in rows.iter_slices(100_000):
            cursor.executemany(sql, zip(*(chunk[c].to_list() for c in COLUMNS), strict=True))


def write_json_objects(target: Target, frame: pl.DataFrame, chunk_rows: int = 100_000) -> None:
    """polars writes a JSON array of row objects; SQLite's json_each unpacks it, in C."""
    rows = _sqlite_wire(frame)
    fields = ", ".join(f"value ->> '$.{c}'" for c in COLUMNS)
    sql = f"INSERT INTO receipts ({', '.join(COLUMNS)}) SELECT {fields} FROM json_each(?)"
    with run_transaction(target) as conn:
        cursor = driver(conn).cursor()
        for chunk in rows.iter_slices(chunk_rows):
            cursor.execute(sql, (chunk.write_json(),))


def write_adbc_ingest(target: Target, frame: pl.DataFrame) -> None:
    """ADBC bulk ingest on its own connection (own transaction: reference only)."""
    data = _sqlite_wire(frame) if target.backend == "sqlite" else frame
    with _adbc(target) as conn:
        with conn.cursor() as cursor:
            name = target.table.rpartition(".")
            cursor.adbc_ingest(
                name[2], data.to_arrow(), mode="append", db_schema_name=name[0] or None
            )
        conn.commit()


def write_adbc_attach(target: Target, frame: pl.DataFrame) -> None:
    """ADBC ingest into a scratch SQLite file, then INSERT ... SELECT from it, attached."""
    stage = Path(target.adbc_uri).with_suffix(".stage.db")
    import adbc_driver_sqlite.dbapi as sqlite_adbc

    with sqlite_adbc.connect(str(stage)) as scratch:
        with scratch.cursor() as cursor:
            cursor.adbc_ingest("receipts", _sqlite_wire(frame).to_arrow(), mode="create")
        scratch.commit()
    with run_transaction(target) as conn:
        raw = driver(conn)
        raw.execute("ATTACH DATABASE ? AS stage", (str(stage),))
        cols = ", ".join(COLUMNS)
        raw.execute(f"INSERT INTO main.receipts ({cols}) SELECT {cols} FROM stage.receipts")
    # DETACH is refused inside a transaction; the pooled connection is dropped anyway.
    stage.unlink()


def write_arrow_binary_copy(target: Target, frame: pl.DataFrame) -> None:
    """COPY BINARY encoded by pyarrow compute below (byte for byte what pgpq writes)."""
    sql = f"COPY receipts ({', '.join(COLUMNS)}) FROM STDIN (FORMAT BINARY)"
    with run_transaction(target) as conn, driver(conn).cursor() as cur, cur.copy(sql) as copy:
        for data in copy_binary_chunks(frame):
            copy.write(data)


_PG_EPOCH_DAYS = 10_957  # 2000-01-01, PostgreSQL's day 0, in days since 1970-01-01
_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
_TRAILER = struct.pack(">h", -1)
_WIDTH = {pl.Int64: (">i8", 8), pl.Float64: (">f8", 8), pl.Date: (">i4", 4), pl.Boolean: ("u1", 1)}


def _fixed(values: np.ndarray, width: int) -> pa.Array:
    data = pa.py_buffer(np.ascontiguousarray(values))
    rows = data.size // width
    return pa.FixedSizeBinaryArray.from_buffers(pa.binary(width), rows, [None, data])


def _field_pieces(column: pa.Array, dtype: pl.DataType) -> list[pa.Array]:
    valid = pc.is_valid(column).to_numpy(zero_copy_only=False)
    if dtype == pl.String:
        data = column.cast(pa.large_binary())
        lengths = pc.binary_length(data).to_numpy(zero_copy_only=False)
        lengths = np.where(valid, lengths, -1).astype(">i4")
        return [_fixed(lengths, 4).cast(pa.large_binary()), data.fill_null(b"")]
    fmt, width = _WIDTH[dtype.base_type()]
    if dtype == pl.Date:
        values = (
            column.cast(pa.int32()).fill_null(0).to_numpy(zero_copy_only=False) - _PG_EPOCH_DAYS
        )
    elif dtype == pl.Boolean:
        values = column.fill_null(False).to_numpy(zero_copy_only=False)
    else:
        values = column.fill_null(0).to_numpy(zero_copy_only=False)
    if column.null_count == 0:
        record = np.empty(len(column), dtype=[("n", ">i4"), ("v", fmt)])
        record["n"] = width
        record["v"] = values
        return [_fixed(record.view(np.uint8), 4 + width).cast(pa.large_binary())]
    prefix = np.where(valid, width, -1).astype(">i4")
    payload = _fixed(values.astype(fmt), width).cast(pa.large_binary())
    return [_fixed(prefix, 4).cast(pa.large_binary()), pc.if_else(pa.array(valid), payload, b"")]


def copy_binary_chunks(
    frame: pl.DataFrame, chunk_rows: int = 100_000
) -> Iterator[bytes | memoryview]:
    yield _HEADER
    count = pa.scalar(struct.pack(">h", frame.width), pa.large_binary())
    for chunk in frame.iter_slices(chunk_rows):
        table = chunk.to_arrow()
        pieces: list[pa.Array] = []
        for name, dtype in chunk.schema.items():
            pieces.extend(_field_pieces(table.column(name).combine_chunks(), dtype))
        rows = pc.binary_join_element_wise(count, *pieces, pa.scalar(b"", pa.large_binary()))
        offsets = np.frombuffer(rows.buffers()[1], dtype=np.int64)
        start, end = int(offsets[rows.offset]), int(offsets[rows.offset + len(rows)])
        yield memoryview(rows.buffers()[2])[start:end]
    yield _TRAILER


def write_psycopg_write_row(target: Target, frame: pl.DataFrame) -> None:
    """psycopg's own binary COPY, one Python tuple per row."""
    sql = f"COPY receipts ({', '.join(COLUMNS)}) FROM STDIN (FORMAT BINARY)"
    types = ["text", "int8", "text", "text", "text", "text", "date", "date", "int8", "int8",
             "int8", "date", "text", "text", "int8", "text"]  # fmt: skip
    with run_transaction(target) as conn, driver(conn).cursor() as cur, cur.copy(sql) as copy:
        copy.set_types(types)
        for row in frame.iter_rows():
            copy.write_row(row)


# ---- reads -------------------------------------------------------------------------------


def read_bulk(target: Target) -> pl.DataFrame:
    """What the store does now: bulk.read_frame, outside a write transaction."""
    store = open_store(target.url)
    try:
        with store._engine.connect() as conn, conn.begin():
            return bulk.read_frame(conn, t.receipts, None)
    finally:
        store.close()


def read_sqlite_fetchall(target: Target) -> pl.DataFrame:
    """Before on SQLite: every row fetched at once, then one frame of them."""
    with _sqlite_rows(target) as cursor:
        rows = cursor.fetchall()
    return _as_ledger(pl.DataFrame(rows, schema=_wire(), orient="row"))


@contextmanager
def _sqlite_rows(target: Target) -> Iterator[Any]:
    store = open_store(target.url)
    try:
        with store._engine.connect() as conn, conn.begin():
            yield driver(conn).execute(_select() + "receipts")
    finally:
        store.close()


def _wire() -> pl.Schema:
    return pl.Schema({n: pl.String() if d == pl.Date else d for n, d in SCHEMA.items()})


@contextmanager
def _adbc(target: Target) -> Iterator[Any]:
    if target.backend == "sqlite":
        import adbc_driver_sqlite.dbapi as sqlite_adbc

        conn = sqlite_adbc.connect(target.adbc_uri)
    else:
        import adbc_driver_postgresql.dbapi as pg_adbc

        conn = pg_adbc.connect(target.adbc_uri)
    try:
        yield conn
    finally:
        conn.close()


def _select() -> str:
    return f"SELECT {', '.join(COLUMNS)} FROM "


def _as_ledger(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        pl.col(n).str.to_date("%Y-%m-%d") if frame.schema[n] == pl.String else pl.col(n).cast(d)
        for n, d in SCHEMA.items()
        if frame.schema[n] != d
    )


def read_adbc(target: Target) -> pl.DataFrame:
    """ADBC on its own connection; on SQLite the whole result as one batch, for its types."""
    with _adbc(target) as conn, conn.cursor() as cursor:
        if target.backend == "sqlite":
            # The driver types each column from the first batch: an all-null start fails.
            cursor.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(2**31 - 2)})
        cursor.execute(_select() + target.table)
        return _as_ledger(pl.DataFrame(cursor.fetch_arrow_table()))


def read_polars_adbc(target: Target) -> pl.DataFrame:
    with _adbc(target) as conn:
        return _as_ledger(pl.read_database(_select() + target.table, connection=conn))


def read_connectorx(target: Target) -> pl.DataFrame:
    uri = f"sqlite://{target.adbc_uri}" if target.backend == "sqlite" else target.adbc_uri
    frame = pl.read_database_uri(_select() + target.table, uri, engine="connectorx")
    return _as_ledger(frame)


def read_sqlite_columns(target: Target) -> pl.DataFrame:
    """sqlite3 rows turned into columns by zip(*rows), a Series each."""
    with _sqlite_rows(target) as cursor:
        rows = cursor.fetchall()
    columns = zip(*rows, strict=True) if rows else ([] for _ in COLUMNS)
    wire = _wire()
    frame = pl.DataFrame(
        [pl.Series(n, list(c), dtype=wire[n]) for n, c in zip(COLUMNS, columns, strict=True)]
    )
    return _as_ledger(frame)


def read_sqlite_csv(target: Target) -> pl.DataFrame:
    """SQLite renders each row as a CSV line (quote, replace, ||), polars parses them."""
    text = """ifnull('"' || replace({0}, '"', '""') || '"', '')"""
    line = " || ',' || ".join(
        text.format(n) if d in (pl.String, pl.Date) else f"ifnull({n}, '')"
        for n, d in SCHEMA.items()
    )
    with _sqlite_rows(target) as cursor:
        rows = cursor.connection.execute(f"SELECT {line} FROM receipts").fetchall()
    data = "\n".join(r[0] for r in rows).encode()
    return _as_ledger(pl.read_csv(data, has_header=False, schema=_wire()))


# ---- the table -----------------------------------------------------------------------------

Write = Callable[[Target, pl.DataFrame], None]
Read = Callable[[Target], pl.DataFrame]
# name, function, whether it works on the run's connection (in its transaction)
WRITES: dict[str, list[tuple[str, Write, bool]]] = {
    "sqlite": [
        ("before = bulk.py: executemany, polars iter_rows", write_bulk, True),
        ("executemany, zip of column lists", write_executemany_columns, True),
        ("json_each over polars write_json", write_json_objects, True),
        ("ADBC ingest to a scratch file + ATTACH", write_adbc_attach, True),
        ("ADBC adbc_ingest", write_adbc_ingest, False),
    ],
    "postgresql": [
        ("before: COPY csv (polars write_csv)", write_csv_copy, True),
        ("bulk.py: COPY binary, pgpq", write_bulk, True),
        ("COPY binary, pyarrow-compute encoder", write_arrow_binary_copy, True),
        ("COPY binary, psycopg write_row", write_psycopg_write_row, True),
        ("ADBC adbc_ingest", write_adbc_ingest, False),
    ],
}
READS: dict[str, list[tuple[str, Read, bool]]] = {
    "sqlite": [
        ("before: sqlite3 fetchall, one frame", read_sqlite_fetchall, True),
        ("bulk.py: sqlite3 fetchmany, a frame a 100k rows", read_bulk, True),
        ("sqlite3 fetchall, zip to columns", read_sqlite_columns, True),
        ("SQLite renders CSV lines, polars read_csv", read_sqlite_csv, True),
        ("ADBC fetch_arrow_table", read_adbc, False),
        ("polars read_database (ADBC)", read_polars_adbc, False),
        ("connectorx", read_connectorx, False),
    ],
    "postgresql": [
        ("before = bulk.py: COPY csv, polars read_csv", read_bulk, True),
        ("ADBC fetch_arrow_table", read_adbc, False),
        ("polars read_database (ADBC)", read_polars_adbc, False),
        ("connectorx", read_connectorx, False),
    ],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-pg", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--only", help="run only the paths whose name contains one of these "
                        "comma-separated texts")  # fmt: skip
    args = parser.parse_args()
    backends = [b for b, skip in (("sqlite", args.skip_sqlite), ("postgresql", args.skip_pg))
                if not skip]  # fmt: skip
    frame = receipts_frame(args.rows)
    times: dict[tuple[str, str, str], list[tuple[float, float]]] = {}
    shares: dict[tuple[str, str, str], bool] = {}
    small: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench_store_io_") as tmp_dir:
        tmp = Path(tmp_dir)
        for turn in range(args.repeat):
            for backend in backends:
                for name, write, shared in WRITES[backend]:
                    if not _chosen(name, args.only):
                        continue
                    with fresh_target(backend, tmp) as target:
                        seconds = _timed(lambda: write(target, frame))  # noqa: B023
                        if seconds is not None and not read_bulk(target).equals(frame):
                            raise AssertionError(f"{backend} {name}: rows differ after writing")
                    _keep(times, shares, (backend, "write", name), shared, seconds, turn)
                with fresh_target(backend, tmp) as target:
                    write_bulk(target, frame)
                    for name, read, shared in READS[backend]:
                        if not _chosen(name, args.only):
                            continue
                        got: list[pl.DataFrame] = []
                        seconds = _timed(lambda: got.append(read(target)))  # noqa: B023
                        if got and not got[0].sort("receipt_no", "line_no").equals(frame):
                            raise AssertionError(f"{backend} {name}: frame differs after reading")
                        _keep(times, shares, (backend, "read", name), shared, seconds, turn)
                    small.extend(small_reads(target, args.repeat) if turn == 0 else [])
    print(f"\n{args.rows:,} receipt lines ({len(COLUMNS)} columns), one process, "
          f"best and median of {args.repeat}\n")  # fmt: skip
    print("| backend | op | path | on the run's connection | best s | median s | × before "
          "| client CPU s |")  # fmt: skip
    print("|---|---|---|---|---:|---:|---:|---:|")
    before: dict[tuple[str, str], float] = {}
    for (backend, op, name), measured in times.items():
        wall = [w for w, _ in measured]
        best = min(wall)
        base = before.setdefault((backend, op), best)  # the first path of each is "before"
        own = "yes" if shares[backend, op, name] else "no, its own"
        cpu = statistics.median(c for _, c in measured)
        cells = [backend, op, name, own, f"{best:.2f}", f"{statistics.median(wall):.2f}",
                 f"{best / base:.2f}", f"{cpu:.2f}"]  # fmt: skip
        print("| " + " | ".join(cells) + " |")
    print("\nA small read (the empty runs table), median ms\n")
    print("| backend | path | ms |\n|---|---|---:|")
    print("\n".join(small))


def _chosen(name: str, only: str | None) -> bool:
    return only is None or any(text in name for text in only.split(","))


def small_reads(target: Target, repeat: int) -> list[str]:
    """What one small read costs: the runs table (no rows), on the store's pooled
    connection and on a new ADBC connection (which also loads the server's types)."""
    store = open_store(target.url)
    statement = sa.select(*t.runs.columns)

    def pooled() -> None:
        with store._engine.connect() as conn, conn.begin():
            bulk.read_frame(conn, t.runs, None)

    def adbc() -> None:
        with _adbc(target) as conn, conn.cursor() as cursor:
            cursor.execute(str(statement).replace("runs", target.table.replace("receipts", "runs")))
            cursor.fetch_arrow_table()

    lines = []
    try:
        paths = [("bulk.read_frame, pooled connection", pooled)]
        if target.backend == "postgresql":  # not SQLite: the store's connection is open
            paths.append(("ADBC, new connection", adbc))
        for name, fn in paths:
            seconds = [s[0] for s in (_timed(fn) for _ in range(repeat * 5)) if s is not None]
            if seconds:
                lines.append(
                    f"| {target.backend} | {name} | {1000 * statistics.median(seconds):.1f} |"
                )
    finally:
        store.close()
    return lines


def _timed(fn: Callable[[], object]) -> tuple[float, float] | None:
    """Wall seconds, and CPU seconds of this process (all its threads): the client's share."""
    started, cpu = time.perf_counter(), time.process_time()
    try:
        fn()
    except ImportError as error:
        print(f"  skipped: {error}")
        return None
    return time.perf_counter() - started, time.process_time() - cpu


def _keep(
    times: dict[tuple[str, str, str], list[tuple[float, float]]],
    shares: dict[tuple[str, str, str], bool],
    key: tuple[str, str, str],
    shared: bool,
    seconds: tuple[float, float] | None,
    turn: int,
) -> None:
    shown = "skipped" if seconds is None else f"{seconds[0]:.2f} s (CPU {seconds[1]:.2f} s)"
    print(f"turn {turn + 1}  {key[0]:10} {key[1]:5} {key[2]:48} {shown}", flush=True)
    if seconds is not None:
        times.setdefault(key, []).append(seconds)
        shares[key] = shared


if __name__ == "__main__":
    main()
