"""The ledger store: what every run reads from and commits to.

Re-running a period (SPEC §5: idempotent, corrected inputs replace) works like
this. Each receipt line, allocation, quarantine row, registry snapshot, input
file and result row belongs to the run that stored it. ``commit_run`` for
period P, in one transaction:

1. inserts the new run as ``completed``, and marks every ``completed`` run of a
   later period stale (``stale_since``, ``stale_by_run``: it was derived from a
   ledger without this run; ``dues rerun`` replaces it by a fresh run);
2. deletes every row belonging to earlier ``completed`` runs of P, and marks
   those runs ``superseded`` (their ``runs`` row stays, for the audit trail);
3. inserts the new run's rows.

So the caller must judge duplicates against the store *without* the rows of
earlier runs of P — ``load_lines_with_keys(..., exclude_period=P)`` — and pass every line
of its inputs that is not stored by another period as ``new_receipts``. Then
running P twice on the same inputs leaves the same ledger, and corrected
inputs replace P's lines instead of adding to them. A run refuses, before it
commits, to drop lines P stored unless told to (``lines_leaving``,
dues.run.merge). Lines first stored by P and seen again by a later period Q were
duplicates in Q and live only in P: dropped with ``--replace``, they leave Q too.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from types import TracebackType
from typing import Any, Literal, Self

import polars as pl
import sqlalchemy as sa

from dues.conservation import FileStats
from dues.store import packs
from dues.store import tables as t
from dues.store.bulk import insert_frame, read_frame
from dues.store.engine import (
    StoreError,
    check_period,
    create_store_engine,
    default_url,
    describe,
    masked,
    upgrade_to_head,
    writing,
)
from dues.store.frames import Frame, caller_view, conform, load_result, result_parts


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One period run, as written to the ``runs`` table and run.json."""

    run_id: str
    period: str  # YYYY-MM
    as_of: date
    started_at: datetime  # timezone-aware
    finished_at: datetime  # timezone-aware
    code_version: str
    config_hash: str
    totals: Mapping[str, int] = field(default_factory=dict)  # run.json's


_RUNS_SCHEMA = t.frame_schema(t.runs, with_store_owned=True)
LineKind = Literal["receipts", "allocations"]
_LINES: dict[str, tuple[sa.Table, sa.Table]] = {
    "receipts": (t.receipts, t.receipt_keys),
    "allocations": (t.allocations, t.allocation_keys),
}


class Store:
    """The ledger database. Create with ``open_store``; close when done."""

    def __init__(self, engine: sa.Engine, url: str) -> None:
        self._engine = engine
        self._url = url
        self._dbapi_error: type[Exception] = engine.dialect.loaded_dbapi.Error

    @property
    def url(self) -> str:
        """The database URL with the password masked."""
        return masked(self._url)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release every database connection; safe to call twice."""
        self._engine.dispose()

    @contextmanager
    def _transaction(self, action: str, *, write: bool = False) -> Iterator[sa.Connection]:
        try:
            with self._engine.connect() as conn:
                if write:
                    writing(conn)
                with conn.begin():
                    yield conn
        except (sa.exc.SQLAlchemyError, self._dbapi_error) as error:
            raise StoreError(f"{action} in {self.url}: {describe(error, self._url)}") from error

    # --- reading -------------------------------------------------------------

    def load_receipts(self, exclude_period: str | None = None) -> pl.DataFrame:
        """Every stored receipt line (contract columns), by (receipt_no, line_no).

        With ``exclude_period``, leave out the lines stored by earlier runs of
        that period: what a re-run of it must judge duplicates against.
        """
        return self._load_ledger(t.receipts, exclude_period, "cannot load receipts")

    def load_allocations(self, exclude_period: str | None = None) -> pl.DataFrame:
        """Every stored fiscal allocation (contract columns), by voucher_no; see load_receipts."""
        return self._load_ledger(t.allocations, exclude_period, "cannot load allocations")

    def _load_ledger(
        self, table: sa.Table, exclude_period: str | None, action: str
    ) -> pl.DataFrame:
        where = None
        if exclude_period is not None:
            check_period(exclude_period)
            earlier = sa.select(t.runs.c.run_id).where(t.runs.c.period == exclude_period)
            where = table.c.run_id.not_in(earlier)
        with self._transaction(action) as conn:
            return caller_view(read_frame(conn, table, where), table)

    def load_lines_with_keys(
        self, kind: LineKind, keys: pl.DataFrame, exclude_period: str | None = None
    ) -> pl.DataFrame:
        """The stored lines of ``kind`` whose keys are among ``keys`` (a frame of the key
        columns): what a run's lines must be judged against, and no more (see load_receipts
        for ``exclude_period``). The keys go to a scratch table the database joins."""
        table, scratch = _LINES[kind]
        key = [c.name for c in scratch.columns]
        match = _in_scratch([table.c[k] for k in key], scratch)
        return self._load_with_scratch(
            table, scratch, keys.select(key).unique(), match, exclude_period
        )

    def load_lines_of_units(
        self,
        kind: LineKind,
        usccs: pl.Series,
        exclude_period: str | None = None,
        *,
        before_period: str | None = None,
    ) -> pl.DataFrame:
        """The stored lines of ``kind`` of the units ``usccs`` (e.g. those outside a run's
        registry, for its unmatched receipts); see load_receipts for ``exclude_period``.
        With ``before_period``, only the lines of runs of earlier periods."""
        table, _ = _LINES[kind]
        units = pl.DataFrame({"uscc": usccs.unique()}, schema={"uscc": pl.String})
        match = _in_scratch([table.c.uscc], t.unit_keys)
        if before_period is not None:
            match = sa.and_(match, table.c.run_id.in_(_runs_before(before_period)))
        return self._load_with_scratch(table, t.unit_keys, units, match, exclude_period)

    def _load_with_scratch(
        self,
        table: sa.Table,
        scratch: sa.Table,
        rows: pl.DataFrame,
        match: sa.ColumnElement[bool],
        exclude_period: str | None,
    ) -> pl.DataFrame:
        nothing = pl.DataFrame(schema=t.frame_schema(table))
        if rows.is_empty():
            return nothing
        others = None if exclude_period is None else table.c.run_id.not_in(_runs_of(exclude_period))
        where = match if others is None else sa.and_(match, others)
        with self._transaction(f"cannot load {table.name}") as conn:
            # A first run (or a re-run of the only period) has nothing to look up: skip
            # sending its keys, a million at a cold start (8 s into SQLite's scratch).
            anything = sa.select(sa.literal(1)).select_from(table)
            if others is not None:
                anything = anything.where(others)
            if conn.execute(anything.limit(1)).first() is None:
                return nothing
            scratch.create(conn)
            try:
                insert_frame(conn, scratch, rows)
                return caller_view(read_frame(conn, table, where), table)
            finally:
                scratch.drop(conn)

    def load_month_sums(
        self, exclude_period: str | None = None, *, before_period: str | None = None
    ) -> pl.DataFrame:
        """The unit-month sums of every stored run's lines, one row per run, unit and
        month, in no particular order (the rules add them up); see load_receipts
        for ``exclude_period``. With ``before_period``, only those of runs of earlier
        periods: the ledger a run of that period derives its outputs from."""
        table = t.unit_month_sums
        where: sa.ColumnElement[bool] | None = None
        if exclude_period is not None:
            where = table.c.run_id.not_in(_runs_of(exclude_period))
        if before_period is not None:
            where = table.c.run_id.in_(_runs_before(before_period))
        with self._transaction("cannot load the unit-month sums") as conn:
            return read_frame(conn, table, where)

    def load_month_sum_packs(self, *, before_period: str | None = None) -> pl.DataFrame:
        """The unit-month sums of every run, or of the runs of periods before
        ``before_period``, as load_month_sums gives them, read from their packs
        (dues.store.packs): what a run derives its outputs from. A run without a pack
        has none of its sums here: ``runs_lacking_sum_packs`` lists them
        (dues.ledger_check.ensure_month_sums)."""
        table = t.unit_month_sum_packs
        query = sa.select(table.c.run_id, table.c.parquet).order_by(table.c.run_id)
        if before_period is not None:
            query = query.where(table.c.run_id.in_(_runs_before(before_period)))
        with self._transaction("cannot load the unit-month sums") as conn:
            rows = conn.execute(query).all()
        try:
            frames = [packs.unpack(data, run_id) for run_id, data in rows]
        except packs.PackError as error:
            raise StoreError(f"cannot load the unit-month sums in {self.url}: {error}") from error
        schema = t.frame_schema(t.unit_month_sums, with_store_owned=True)
        return pl.concat(frames) if frames else pl.DataFrame(schema=schema)

    def runs_lacking_sum_packs(self) -> list[str]:
        """The completed runs whose sums have no pack: runs stored before revision 0010."""
        packed = sa.select(t.unit_month_sum_packs.c.run_id)
        query = sa.select(t.runs.c.run_id).where(
            t.runs.c.status == "completed", t.runs.c.run_id.not_in(packed)
        )
        with self._transaction("cannot list the runs without a sums pack") as conn:
            return sorted(conn.execute(query.order_by(t.runs.c.run_id)).scalars())

    def keep_sum_pack(self, run_id: str, sums: pl.DataFrame) -> None:
        """Store ``sums`` as run ``run_id``'s sums pack, replacing the one it had."""
        rows = conform(sums, t.unit_month_sums, "month sums")
        with self._transaction(f"cannot store the sums of run {run_id}", write=True) as conn:
            _replace_pack(conn, run_id, rows)

    def earliest_month(self, *, through_period: str) -> int | None:
        """The earliest month (index) any line of a run of ``through_period`` or an earlier
        period is attributed to, any unit's (from the kept unit-month sums): the default
        start period of that period's run (SPEC §4). None when there is none."""
        check_period(through_period)
        table = t.unit_month_sums
        runs = sa.select(t.runs.c.run_id).where(t.runs.c.period <= through_period)
        # Late-fee lines make no month of their own (records 0): they are no dues.
        query = sa.select(sa.func.min(table.c.month)).where(
            table.c.run_id.in_(runs), table.c.records > 0
        )
        with self._transaction("cannot find the earliest stored month") as conn:
            earliest = conn.execute(query).scalar_one_or_none()
        return None if earliest is None else int(earliest)

    def load_line_columns(
        self, kind: LineKind, columns: Sequence[str], *, before_period: str
    ) -> pl.DataFrame:
        """``columns`` of the stored lines of ``kind`` of runs of periods before
        ``before_period``, in no particular order: what a rule needs of every line the
        period's outputs count (the late-fee accrual's paid dates), and no more."""
        table, _ = _LINES[kind]
        where = table.c.run_id.in_(_runs_before(before_period))
        with self._transaction(f"cannot load {table.name}") as conn:
            return read_frame(conn, table, where, columns)

    def load_lines_of_run(self, kind: LineKind, run_id: str) -> pl.DataFrame:
        """The lines of ``kind`` stored by run ``run_id`` (to rebuild its sums)."""
        table, _ = _LINES[kind]
        with self._transaction(f"cannot load {table.name} of run {run_id}") as conn:
            return caller_view(read_frame(conn, table, table.c.run_id == run_id), table)

    def runs_with_lines(self) -> list[str]:
        """The runs whose lines are in the ledger (completed runs that stored lines)."""
        query = sa.union(
            sa.select(t.receipts.c.run_id).distinct(), sa.select(t.allocations.c.run_id).distinct()
        )
        with self._transaction("cannot list the runs with lines") as conn:
            return sorted(conn.execute(query).scalars())

    def lacks_month_sums(self) -> bool:
        """Whether lines are stored but no unit-month sums at all: a ledger from before
        revision 0004. Three EXISTS probes, cheap however large the ledger."""
        has = [
            sa.exists(sa.select(table.c.run_id))
            for table in (t.receipts, t.allocations, t.unit_month_sums)
        ]
        query = sa.select(sa.or_(has[0], has[1]) & ~has[2])
        with self._transaction("cannot probe the unit-month sums") as conn:
            return bool(conn.execute(query).scalar_one())

    def runs_with_month_sums(self) -> list[str]:
        """The runs whose unit-month sums are in the ledger."""
        query = sa.select(t.unit_month_sums.c.run_id).distinct()
        with self._transaction("cannot list the runs with unit-month sums") as conn:
            return sorted(conn.execute(query).scalars())

    def replace_month_sums(self, run_id: str, sums: pl.DataFrame) -> None:
        """Store ``sums`` as run ``run_id``'s unit-month sums, replacing what it had."""
        rows = conform(sums, t.unit_month_sums, "month sums").with_columns(run_id=pl.lit(run_id))
        with self._transaction(f"cannot store the sums of run {run_id}", write=True) as conn:
            conn.execute(t.unit_month_sums.delete().where(t.unit_month_sums.c.run_id == run_id))
            insert_frame(conn, t.unit_month_sums, rows)
            _replace_pack(conn, run_id, rows.drop("run_id"))

    def load_waiting(self, kind: LineKind, period: str) -> pl.DataFrame:
        """The lines of ``kind`` waiting to be distributed (rule 13) as a run of ``period``
        sees them: stored by runs of earlier periods with their unit outside that run's
        registry, and distributed by no earlier period (a later period's, or this
        period's earlier run, would have them from a run in month order). Key columns,
        uscc and run_id (the run storing the line), in key order: as many rows as such
        lines, never the whole ledger."""
        table = t.WAITING_TABLES[kind]
        taken = table.c.distributed_period
        where = sa.and_(
            table.c.waits,
            table.c.run_id.in_(_runs_before(period)),
            sa.or_(taken.is_(None), taken >= period),
        )
        keys = _key_columns(table)
        with self._transaction(f"cannot load the {table.name}") as conn:
            frame = read_frame(conn, table, where)
        return frame.select(*keys, "uscc", "run_id").sort(keys)

    def load_marks_of_period(self, kind: LineKind, period: str) -> pl.DataFrame:
        """Key columns and distributed_period of the lines of ``kind`` stored by runs of
        ``period`` that an earlier period's run distributed (see ``load_waiting``)."""
        table = t.WAITING_TABLES[kind]
        where = sa.and_(table.c.run_id.in_(_runs_of(period)), table.c.distributed_period < period)
        with self._transaction(f"cannot load the {table.name}") as conn:
            frame = read_frame(conn, table, where)
        return frame.select(*_key_columns(table), "distributed_period")

    def load_marks_with_keys(self, kind: LineKind, keys: pl.DataFrame) -> pl.DataFrame:
        """Key columns and distributed_period of the rule 13 rows with these keys."""
        table, scratch = t.WAITING_TABLES[kind], _LINES[kind][1]
        names = _key_columns(table)
        schema = {k: t.frame_schema(table)[k] for k in [*names, "distributed_period"]}
        if keys.is_empty():
            return pl.DataFrame(schema=schema)
        match = _in_scratch([table.c[k] for k in names], scratch)
        with self._transaction(f"cannot load the {table.name}") as conn:
            scratch.create(conn)
            try:
                insert_frame(conn, scratch, keys.select(names).unique())
                frame = read_frame(conn, table, match)
            finally:
                scratch.drop(conn)
        return frame.select(list(schema)).filter(pl.col("distributed_period").is_not_null())

    def lines_leaving(self, kind: LineKind, keys: pl.DataFrame, period: str) -> tuple[int, int]:
        """(lines, fen) of the stored lines of ``kind`` of ``period``'s completed run whose
        keys are not among ``keys``: what a re-run of ``period`` storing ``keys`` removes."""
        table, scratch = _LINES[kind]
        key = [c.name for c in scratch.columns]
        kept = sa.exists().where(*(scratch.c[k] == table.c[k] for k in key))
        query = sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(table.c.amount_fen), 0))
        with self._transaction(f"cannot count the stored {table.name} of {period}") as conn:
            runs = conn.execute(_runs_of(period, "completed")).scalars().all()
            if not runs:
                return 0, 0  # the period's first run removes nothing
            query = query.where(table.c.run_id.in_(runs), ~kept)
            scratch.create(conn)
            try:
                insert_frame(conn, scratch, keys.select(key).unique())
                lines, fen = conn.execute(query).one()
            finally:
                scratch.drop(conn)
        return int(lines), int(fen)

    def runs_storing(self, kind: LineKind, keys: pl.DataFrame) -> pl.DataFrame:
        """The key columns of ``keys`` stored as lines of ``kind``, with the run that stored
        each line and its period (``run_id``, ``run_period``): who keeps a conflicting key."""
        table, scratch = _LINES[kind]
        key = [c.name for c in scratch.columns]
        schema = {k: t.frame_schema(table)[k] for k in key} | {
            "run_id": pl.String(),
            "run_period": pl.String(),
        }
        if keys.is_empty():
            return pl.DataFrame(schema=schema)
        query = (
            sa.select(*(table.c[k] for k in key), table.c.run_id, t.runs.c.period)
            .join(t.runs, t.runs.c.run_id == table.c.run_id)
            .where(sa.exists().where(*(scratch.c[k] == table.c[k] for k in key)))
        )
        with self._transaction(f"cannot find the runs storing {table.name}") as conn:
            scratch.create(conn)
            try:
                insert_frame(conn, scratch, keys.select(key).unique())
                rows = conn.execute(query).all()
            finally:
                scratch.drop(conn)
        return pl.DataFrame(rows, schema=schema, orient="row").sort(key)

    def load_registry_of_run(self, run_id: str) -> pl.DataFrame:
        """The registry snapshot run ``run_id`` stored (contract columns, by USCC)."""
        table = t.registry_snapshots
        with self._transaction(f"cannot load the registry of run {run_id}") as conn:
            return caller_view(read_frame(conn, table, table.c.run_id == run_id), table)

    def load_quarantine_of_run(self, run_id: str) -> pl.DataFrame:
        """The quarantine rows run ``run_id`` stored, in the order it stored them."""
        table = t.quarantine
        with self._transaction(f"cannot load the quarantine of run {run_id}") as conn:
            frame = read_frame(conn, table, table.c.run_id == run_id).sort("row_no")
        return frame.select(list(t.frame_schema(table)))

    def keep_policy(self, config_hash: str, policy_json: str) -> None:
        """Keep the policy of ``config_hash`` (once: the hash names its content)."""
        table = t.policies
        with self._transaction("cannot keep the run's policy", write=True) as conn:
            stored = conn.execute(
                sa.select(table.c.config_hash).where(table.c.config_hash == config_hash)
            ).first()
            if stored is None:
                conn.execute(table.insert().values(config_hash=config_hash, policy=policy_json))

    def load_policy(self, config_hash: str) -> str | None:
        """The policy JSON kept for ``config_hash``; None for runs from before revision 0005."""
        table = t.policies
        with self._transaction("cannot load a policy") as conn:
            return conn.execute(
                sa.select(table.c.policy).where(table.c.config_hash == config_hash)
            ).scalar_one_or_none()

    def load_results(self, kind: str, period: str) -> pl.DataFrame:
        """The ``kind`` output (one of RESULT_KINDS) stored by the latest run of ``period``.

        Empty when the period was never run. An empty arrears frame comes back
        without aging columns: the bucket names live in the rows. The store keeps
        what the caller gave commit_run: `dues run` gives the reconciliation of the
        period's own month only (its reconciliation.parquet has every month).
        """
        check_period(period)
        with self._transaction(f"cannot load {kind} results of {period}") as conn:
            return load_result(conn, kind, period)

    def list_runs(self) -> pl.DataFrame:
        """Every run, oldest first, superseded ones included (status tells)."""
        query = sa.select(*t.runs.columns).order_by(t.runs.c.started_at, t.runs.c.run_id)
        with self._transaction("cannot list runs") as conn:
            rows = [_utc_row(row._asdict()) for row in conn.execute(query)]
        return pl.DataFrame(rows, schema=_RUNS_SCHEMA, orient="row")

    def list_input_files(self) -> pl.DataFrame:
        """Every run's input files with their conservation counts, by run and file name."""
        table = t.input_files
        query = sa.select(*table.columns).order_by(table.c.run_id, table.c.file_name)
        with self._transaction("cannot list input files") as conn:
            rows = [row._asdict() for row in conn.execute(query)]
        return pl.DataFrame(rows, schema=t.frame_schema(table, with_store_owned=True), orient="row")

    def row_counts(self) -> dict[str, int]:
        """Rows per ledger table: a cheap health check, and what tests assert on."""
        with self._transaction("cannot count rows") as conn:
            return {
                table.name: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
                for table in t.metadata.sorted_tables
            }

    # --- writing -------------------------------------------------------------

    def commit_run(
        self,
        run: RunRecord,
        *,
        registry: pl.DataFrame,
        new_receipts: Frame,
        new_allocations: pl.DataFrame,
        new_month_sums: Frame | None = None,
        quarantine: pl.DataFrame,
        input_files: Sequence[FileStats],
        results: Mapping[str, Frame],
        waiting: Mapping[str, pl.DataFrame] | None = None,
        distributed: Mapping[str, pl.DataFrame] | None = None,
        before_commit: Callable[[], object] | None = None,
        out_dir: str | None = None,
    ) -> None:
        """Store a finished run, replacing earlier runs of its period; all or nothing.

        Frames carry exactly their contract columns (schemas/README.md; for
        ``results`` the SPEC §5 columns, see ``dues.store.tables``). Any error
        raises StoreError and leaves the ledger as it was. ``before_commit`` is
        called once every row is in, just before COMMIT: whatever it raises rolls
        the transaction back and propagates (the caller's other outputs failed).
        ``out_dir`` (absolute) is where the run publishes its outputs: kept in the same
        transaction, so the next command can publish a run committed but not published
        (``unpublished_runs``, ``dues.run.recovery``). The new receipt lines, their month
        sums and the wide distribution may come as LazyFrames, each collected only when its
        rows go in and let go after: their columns are checked before the transaction,
        their rows as they are read (a failure then rolls everything back).

        Rule 13's bookkeeping, per line kind (dues.store.tables.waiting_receipts):
        ``waiting`` holds the run's own lines to keep watch of (key columns, uscc,
        distributed_period, waits); ``distributed`` the lines of other runs this run
        distributed (key columns, uscc, run_id: the run storing each). The marks of
        the period's earlier run are cleared first: what it took waits again unless
        ``distributed`` names it.
        """
        _check_run(run)
        # Conform everything before the transaction: a caller's mistake is
        # reported without touching the database.
        sums = (
            None
            if new_month_sums is None
            else conform(new_month_sums, t.unit_month_sums, "new_month_sums")
        )
        frames: list[tuple[sa.Table, Frame]] = [
            (t.registry_snapshots, conform(registry, t.registry_snapshots, "registry")),
            (t.receipts, conform(new_receipts, t.receipts, "new_receipts")),
            (t.allocations, conform(new_allocations, t.allocations, "new_allocations")),
            (t.quarantine, conform(quarantine, t.quarantine, "quarantine")),
        ]
        for kind, frame in sorted(results.items()):
            frames.extend(result_parts(kind, frame))
        for kind, frame in sorted((waiting or {}).items()):
            table = t.WAITING_TABLES[kind]
            frames.append((table, conform(frame, table, f"waiting[{kind!r}]")))
        taken = {
            kind: frame.select(*_key_columns(t.WAITING_TABLES[kind]), "uscc", "run_id").unique()
            for kind, frame in (distributed or {}).items()
        }
        action = f"cannot store run {run.run_id} for period {run.period}"
        with self._transaction(action, write=True) as conn:
            _replace_earlier_runs(conn, run)
            if out_dir is not None:
                conn.execute(t.publications.insert().values(run_id=run.run_id, out_dir=out_dir))
            if input_files:
                conn.execute(t.input_files.insert(), [_input_file_row(run, f) for f in input_files])
            for table, frame in frames:
                # A LazyFrame's rows are collected here and let go once they are in.
                insert_frame(conn, table, _with_store_owned(_rows(frame, table, run), table, run))
            if sums is not None:  # as rows SQL can query, and as the pack a run reads
                rows = _rows(sums, t.unit_month_sums, run)
                insert_frame(
                    conn, t.unit_month_sums, _with_store_owned(rows, t.unit_month_sums, run)
                )
                _replace_pack(conn, run.run_id, rows)
                del rows
            _mark_distributed(conn, run.period, taken)
            if before_commit is not None:
                before_commit()

    # --- publishing (dues.run.recovery) --------------------------------------

    def unpublished_runs(self) -> list[tuple[str, str, str]]:
        """(run id, period, out dir) of each completed run whose outputs were never
        marked published: committed, then killed before or during the publish."""
        p, r = t.publications, t.runs
        query = (
            sa.select(r.c.run_id, r.c.period, p.c.out_dir)
            .join(p, p.c.run_id == r.c.run_id)
            .where(r.c.status == "completed", p.c.published_at.is_(None))
            .order_by(r.c.started_at, r.c.run_id)
        )
        with self._transaction("cannot list the unpublished runs") as conn:
            return [(a, b, c) for a, b, c in conn.execute(query)]

    def output_folders(self) -> list[str]:
        """Every OUT folder the ledger's live runs publish to."""
        query = sa.select(t.publications.c.out_dir).distinct()
        with self._transaction("cannot list the output folders") as conn:
            return sorted(conn.execute(query).scalars())

    def mark_published(self, run_id: str) -> None:
        """Record that OUT/<period>/ now holds run ``run_id``'s outputs."""
        p = t.publications
        done = p.update().where(p.c.run_id == run_id).values(published_at=datetime.now(UTC))
        with self._transaction(f"cannot mark run {run_id} published", write=True) as conn:
            conn.execute(done)

    def run_statuses(self, run_ids: Sequence[str]) -> dict[str, str]:
        """The status of each of ``run_ids`` the ledger holds (absent: never committed)."""
        if not run_ids:
            return {}
        query = sa.select(t.runs.c.run_id, t.runs.c.status).where(t.runs.c.run_id.in_(run_ids))
        with self._transaction("cannot read run statuses") as conn:
            return {a: b for a, b in conn.execute(query)}


def open_store(url: str | None = None, *, timeout_s: float = 10.0) -> Store:
    """Open the ledger at ``url`` (default: ``engine.default_url()``), migrated to head.

    ``timeout_s`` bounds the wait for a locked SQLite file and for connecting
    to PostgreSQL. Raises StoreError with one line when that fails.
    """
    url = _normalized(url or default_url())
    try:
        engine = create_store_engine(url, timeout_s=timeout_s)
    except (sa.exc.SQLAlchemyError, ImportError, OSError) as error:
        raise StoreError(f"cannot open database {masked(url)}: {describe(error, url)}") from error
    try:
        upgrade_to_head(engine)
    except (StoreError, sa.exc.SQLAlchemyError, OSError) as error:
        engine.dispose()
        raise StoreError(f"cannot open database {masked(url)}: {describe(error, url)}") from error
    return Store(engine, url)


def _normalized(url: str) -> str:
    # psycopg 3 is the PostgreSQL driver dues ships; SQLAlchemy's default for a
    # bare postgresql:// would be psycopg2, which is not installed.
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


# --- helpers -----------------------------------------------------------------


def _in_scratch(columns: list[sa.Column[Any]], scratch: sa.Table) -> sa.ColumnElement[bool]:
    """``columns`` IN (the scratch table's rows): the database walks the scratch rows and
    looks each up in the table's index. (A correlated EXISTS made SQLite scan every
    stored line instead, each month more of them: 1,000,000 for a tenth as many keys.)"""
    keys = sa.select(*scratch.columns)
    if len(columns) == 1:
        return columns[0].in_(keys)
    return sa.tuple_(*columns).in_(keys)


def _rows(frame: Frame, table: sa.Table, run: RunRecord) -> pl.DataFrame:
    if isinstance(frame, pl.DataFrame):
        return frame
    try:
        return frame.collect()
    except pl.exceptions.PolarsError as error:
        detail = " ".join(str(error).split())
        raise StoreError(
            f"cannot store run {run.run_id}: the rows for {table.name}: {detail}"
        ) from error


def _replace_pack(conn: sa.Connection, run_id: str, sums: pl.DataFrame) -> None:
    table = t.unit_month_sum_packs
    conn.execute(table.delete().where(table.c.run_id == run_id))
    conn.execute(table.insert().values(run_id=run_id, parquet=packs.pack(sums)))


def _check_run(run: RunRecord) -> None:
    check_period(run.period)
    for name in ("started_at", "finished_at"):
        if getattr(run, name).tzinfo is None:
            raise StoreError(f"run {run.run_id}: {name} must be timezone-aware")


def _with_store_owned(frame: pl.DataFrame, table: sa.Table, run: RunRecord) -> pl.DataFrame:
    owned = {
        "run_id": pl.lit(run.run_id, dtype=pl.String()),
        "run_period": pl.lit(run.period, dtype=pl.String()),
        # 1-based, like the source rows an auditor sees in Excel.
        "row_no": pl.int_range(1, pl.len() + 1, dtype=pl.Int64()),
    }
    return frame.with_columns(expr.alias(name) for name, expr in owned.items() if name in table.c)


def _replace_earlier_runs(conn: sa.Connection, run: RunRecord) -> None:
    if conn.dialect.name == "postgresql":
        # Serialize run commits (SQLite does so with BEGIN IMMEDIATE): two
        # runs of one period must not both miss each other. Readers still read.
        conn.exec_driver_sql("LOCK TABLE runs IN SHARE ROW EXCLUSIVE MODE")
    earlier = (
        conn.execute(
            sa.select(t.runs.c.run_id).where(
                t.runs.c.period == run.period, t.runs.c.status == "completed"
            )
        )
        .scalars()
        .all()
    )
    conn.execute(t.runs.insert().values(**_run_row(run), status="completed"))
    _mark_later_stale(conn, run)
    if not earlier:
        return
    for table in t.RUN_TABLES:
        conn.execute(table.delete().where(table.c.run_id.in_(earlier)))
    for table in t.PERIOD_TABLES:
        conn.execute(table.delete().where(table.c.run_period == run.period))
    conn.execute(
        t.runs.update()
        .where(t.runs.c.run_id.in_(earlier))
        .values(status="superseded", superseded_by=run.run_id)
    )


def _key_columns(table: sa.Table) -> list[str]:
    return [c.name for c in table.primary_key.columns]


def _mark_distributed(conn: sa.Connection, period: str, taken: Mapping[str, pl.DataFrame]) -> None:
    """The lines of other runs that ``period`` distributes are exactly those its new run
    distributed (``taken``): its earlier run's marks are cleared (a waiting line waits
    again, a mark of a repeat goes), then each taken line is marked, a row added for
    one that had none (a repeat of a later period's line)."""
    for kind, table in t.WAITING_TABLES.items():
        mine = table.c.distributed_period == period
        conn.execute(table.update().where(mine, table.c.waits).values(distributed_period=None))
        conn.execute(table.delete().where(mine, ~table.c.waits))
        lines = taken.get(kind)
        if lines is None or lines.is_empty():
            continue
        scratch, keys = _LINES[kind][1], _key_columns(table)
        scratch.create(conn)
        try:
            insert_frame(conn, scratch, lines.select(keys))
            match = _in_scratch([table.c[k] for k in keys], scratch)
            conn.execute(table.update().where(match).values(distributed_period=period))
            present = read_frame(conn, table, match).select(keys)
        finally:
            scratch.drop(conn)
        added = lines.join(present, on=keys, how="anti").with_columns(
            distributed_period=pl.lit(period), waits=pl.lit(False)
        )
        insert_frame(conn, table, added)


def _mark_later_stale(conn: sa.Connection, run: RunRecord) -> None:
    """Every completed run of a later period was derived without this run's ledger."""
    conn.execute(
        t.runs.update()
        .where(
            t.runs.c.period > run.period,
            t.runs.c.status == "completed",
            t.runs.c.stale_by_run.is_(None),
        )
        .values(stale_since=run.finished_at.astimezone(UTC), stale_by_run=run.run_id)
    )


def _input_file_row(run: RunRecord, stats: FileStats) -> dict[str, Any]:
    """The conservation record as the ``input_files`` table keeps it: its counts and fen."""
    counted = [c.name for c in t.input_files.columns if c.name not in ("run_id", "file_name")]
    return {"run_id": run.run_id, "file_name": stats.file} | {c: getattr(stats, c) for c in counted}


def _runs_of(period: str, status: str | None = None) -> sa.Select[tuple[str]]:
    check_period(period)
    query = sa.select(t.runs.c.run_id).where(t.runs.c.period == period)
    return query if status is None else query.where(t.runs.c.status == status)


def _runs_before(period: str) -> sa.Select[tuple[str]]:
    check_period(period)
    return sa.select(t.runs.c.run_id).where(t.runs.c.period < period)


def _run_row(run: RunRecord) -> dict[str, Any]:
    row = asdict(run)
    row["totals"] = json.dumps(dict(run.totals), sort_keys=True)
    # SQLite keeps no offset, so every timestamp is stored in UTC.
    row["started_at"] = run.started_at.astimezone(UTC)
    row["finished_at"] = run.finished_at.astimezone(UTC)
    return row


def _utc_row(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for name in ("started_at", "finished_at", "stale_since"):
        value: datetime | None = out[name]
        if value is not None:
            out[name] = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return out
