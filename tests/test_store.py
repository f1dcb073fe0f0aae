"""The ledger store, on SQLite and PostgreSQL alike (fixture ``store_url``)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from polars.testing import assert_frame_equal

from dues.arrears import arrears as arrears_of
from dues.conservation import FileStats
from dues.policy import DEFAULT_POLICY_PATH, Policy, load_policy
from dues.store import RunRecord, Store, StoreError, open_store
from dues.store.tables import frame_schema, quarantine, registry_snapshots

# The frame contracts of schemas/README.md, written out so a drift shows here.
RECEIPTS = pl.Schema(
    {
        "receipt_no": pl.String(),
        "line_no": pl.Int64(),
        "uscc": pl.String(),
        "taxpayer_name": pl.String(),
        "item": pl.String(),
        "item_code": pl.String(),
        "period_start": pl.Date(),
        "period_end": pl.Date(),
        "wage_base_fen": pl.Int64(),
        "rate_bp": pl.Int64(),
        "amount_fen": pl.Int64(),
        "paid_date": pl.Date(),
        "tax_office": pl.String(),
        "source_file": pl.String(),
        "source_row": pl.Int64(),
    }
)
ALLOCATIONS = pl.Schema(
    {
        "voucher_no": pl.String(),
        "uscc": pl.String(),
        "unit_name": pl.String(),
        "period_start": pl.Date(),
        "period_end": pl.Date(),
        "wage_base_fen": pl.Int64(),
        "amount_fen": pl.Int64(),
        "allocated_date": pl.Date(),
        "source_file": pl.String(),
        "source_row": pl.Int64(),
    }
)
USCC = "91330102MA2H0X1234"
HEAD_REVISION = "0010"  # the newest file in dues/migrations/versions


def receipt(receipt_no: str, line_no: int = 1, **changes: Any) -> dict[str, Any]:
    row = {
        "receipt_no": receipt_no,
        "line_no": line_no,
        "uscc": USCC,
        "taxpayer_name": "杭州某某有限公司",
        "item": "dues",
        "item_code": "399001010",
        "period_start": date(2026, 7, 1),
        "period_end": date(2026, 9, 30),
        "wage_base_fen": 30_000_000,
        "rate_bp": 100,
        "amount_fen": 300_000,
        "paid_date": date(2026, 10, 8),
        "tax_office": "国家税务总局某县税务局",
        "source_file": "collections.xlsx",
        "source_row": 2,
    }
    return row | changes


def receipts(*rows: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=RECEIPTS)


def allocations(*voucher_nos: str) -> pl.DataFrame:
    rows = [
        (no, USCC, "某县教育局", date(2026, 10, 1), date(2026, 10, 31), 900_000, 18_000,
         date(2026, 10, 20), "allocations.csv", i + 2)
        for i, no in enumerate(voucher_nos)
    ]  # fmt: skip
    return pl.DataFrame(rows, schema=ALLOCATIONS, orient="row")


def empty(schema: pl.Schema) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)


def reconciliation(period: str, *usccs: str) -> pl.DataFrame:
    row = {
        "period": period, "name": "某单位", "jurisdiction": "城关镇总工会",
        "unit_type": "enterprise", "channel": "tax", "union_status": "own", "fund": "dues",
        "rate_bp": 100, "wage_base_fen": 10_000_000, "base_source": "declared",
        "expected_fen": 100_000, "paid_dues_fen": 90_000, "paid_prep_fen": 0,
        "allocated_fen": 0, "paid_fen": 90_000, "variance_fen": -10_000, "status": "underpaid",
        "fund_mismatch": False, "channel_mismatch": None, "due_date": date(2026, 11, 15),
        "days_past_due": None,
    }  # fmt: skip
    nullable = {"channel_mismatch": pl.Boolean, "days_past_due": pl.Int64}
    return pl.DataFrame([{"uscc": u, **row} for u in usccs], schema_overrides=nullable).select(
        "period", "uscc", *[c for c in row if c != "period"]
    )


def arrears(*usccs: str) -> pl.DataFrame:
    """Arrears with the default buckets plus a configured extra one."""
    return pl.DataFrame(
        [
            {
                "uscc": u, "name": "某单位", "jurisdiction": "城关镇总工会", "arrears_fen": 10_000,
                "credit_fen": 0, "months_outstanding": 1, "oldest_period": "2026-09",
                "aging_0_30_fen": 10_000, "aging_31_60_fen": 0, "aging_over_60_fen": None,
            }
            for u in usccs
        ],
        schema_overrides={"months_outstanding": pl.UInt32, "aging_over_60_fen": pl.Int64},
    )  # fmt: skip


def indicators() -> pl.DataFrame:
    columns = {
        "level": "county", "jurisdiction": "全县", "year": 2026,
        "tax_expected_fen": 300, "tax_collected_fen": 100, "tax_collection_rate": 1 / 3,
        "fiscal_expected_fen": 0, "fiscal_collected_fen": 0, "fiscal_collection_rate": None,
        "tax_units": 3, "tax_units_tier1": 1, "organized_tier1": 1, "founding_rate_tier1": 1.0,
        "organized_tax_units": 2, "founding_rate_all": 2 / 3, "employees_organized": 40,
        "members_organized": 37, "membership_rate": 0.925,
    }  # fmt: skip
    return pl.DataFrame([columns], schema_overrides={"fiscal_collection_rate": pl.Float64})


def other_results() -> dict[str, pl.DataFrame]:
    """The remaining outputs, one or two rows each."""
    return {
        "founding_drive": pl.DataFrame(
            [(USCC, "某单位", "城关镇总工会", 30, "none", 1, 1_200, 0)],
            schema=["uscc", "name", "jurisdiction", "employees", "union_kind", "tier",
                    "prep_paid_12m_fen", "arrears_fen"],
            orient="row",
        ),
        "prep_returns": pl.DataFrame(
            [(USCC, "某单位", date(2026, 8, 1), 2_400)],
            schema=["uscc", "name", "union_founded", "returnable_fen"],
            orient="row",
        ),
        # No key of its own: stored and returned in the order given.
        "unmatched": pl.DataFrame(
            [("c.xlsx", 9, "R9", "91330102MA2H0X9999", "外地公司", 500),
             ("c.xlsx", 3, "R3", "91330102MA2H0X8888", "另一公司", -20)],
            schema=["source_file", "source_row", "receipt_no", "uscc", "taxpayer_name",
                    "amount_fen"],
            orient="row",
        ),
    }  # fmt: skip


def run_record(period: str, run_id: str) -> RunRecord:
    started = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
    return RunRecord(
        run_id=run_id,
        period=period,
        as_of=date.fromisoformat(f"{period}-28"),
        started_at=started,
        finished_at=started + timedelta(seconds=42),
        code_version="0.1.0",
        config_hash="c0ffee",
    )


def input_file(name: str) -> FileStats:
    return FileStats(
        file=name,
        kind="collections",
        sha256="ab" * 32,
        encoding="utf-8",
        header_row=1,
        rows_read=3,
        rows_accepted=2,
        rows_quarantined=1,
        rows_duplicate=0,
        money_read_fen=600_000,
        money_accepted_fen=600_000,
        money_quarantined_fen=0,
        money_duplicate_fen=0,
    )


def commit(
    store: Store,
    period: str,
    run_id: str,
    *,
    new_receipts: pl.DataFrame | None = None,
    new_allocations: pl.DataFrame | None = None,
    results: dict[str, pl.DataFrame] | None = None,
    record: RunRecord | None = None,
    before_commit: Callable[[], object] | None = None,
) -> None:
    """A run of ``period`` with a one-unit registry, one quarantined row and one input file."""
    registry = pl.DataFrame(
        [(USCC, "杭州某某有限公司", "enterprise", None, 30, None, "城关镇总工会", "own",
          date(2020, 5, 1), "monthly", 10_000_000, "registry.xlsx", 2,
          '{"联系人": "张三", "联系电话": null}')],
        schema=frame_schema(registry_snapshots),
        orient="row",
    )  # fmt: skip
    quarantined = pl.DataFrame(
        [("collections.xlsx", 4, "uscc", "bad_uscc_check", '{"uscc": "9133"}')],
        schema=frame_schema(quarantine),
        orient="row",
    )
    store.commit_run(
        record or run_record(period, run_id),
        registry=registry,
        new_receipts=empty(RECEIPTS) if new_receipts is None else new_receipts,
        new_allocations=empty(ALLOCATIONS) if new_allocations is None else new_allocations,
        quarantine=quarantined,
        input_files=[input_file("collections.xlsx")],
        results={"reconciliation": reconciliation(period, USCC)} if results is None else results,
        before_commit=before_commit,
    )


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with open_store(store_url) as opened:
        yield opened


def test_open_store_migrates_an_empty_database_to_head(store_url: str) -> None:
    with open_store(store_url) as store:
        assert set(store.row_counts()) >= {"runs", "receipts", "allocations", "quarantine"}
        assert set(store.row_counts().values()) == {0}
    engine = sa.create_engine(store_url)
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == HEAD_REVISION
    engine.dispose()
    with open_store(store_url) as again:  # already at head: opens without migrating
        assert again.list_runs().height == 0


def test_the_head_revision_dues_knows_is_alembics() -> None:
    from dues.store import engine

    assert engine.HEAD_REVISION == engine.head_revision() == HEAD_REVISION


def test_a_ledger_at_head_opens_without_importing_alembic(tmp_path: Path) -> None:
    """Alembic costs a fifth of a county run's start-up: only a migration may load it."""
    db = tmp_path / "ledger.db"
    with open_store(f"sqlite:///{db}"):
        pass
    probe = (
        "import sys\n"
        "from dues.store import StoreError, open_store\n"
        "try:\n"
        f"    with open_store({f'sqlite:///{db}'!r}) as s:\n"
        "        s.list_runs()\n"
        "except StoreError as error:\n"
        "    print(error)\n"
        "print(sorted(m for m in sys.modules if m == 'alembic' or m.startswith('alembic.')))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
    # Any other revision goes through Alembic, which knows them all.
    raw = sqlite3.connect(db)
    raw.execute("UPDATE alembic_version SET version_num = 'f00d'")
    raw.commit()
    raw.close()
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert "schema is at revision f00d, newer than this version of dues" in done.stdout
    assert "'alembic'" in done.stdout


def test_a_new_sqlite_ledger_has_big_pages_and_wal_and_an_old_one_keeps_its_pages(
    tmp_path: Path,
) -> None:
    from dues.store.engine import SQLITE_PAGE_SIZE

    new, old = tmp_path / "new.db", tmp_path / "old.db"
    with open_store(f"sqlite:///{new}"):
        pass
    legacy = sqlite3.connect(old)  # a ledger made before: SQLite's default 4 KiB pages
    legacy.execute("CREATE TABLE keep (x)")
    legacy.close()
    with open_store(f"sqlite:///{old}") as store:
        assert store.list_runs().height == 0
    for path, size in ((new, SQLITE_PAGE_SIZE), (old, 4096)):
        con = sqlite3.connect(path)
        assert con.execute("PRAGMA page_size").fetchone()[0] == size
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        con.close()


def test_empty_store_gives_empty_frames_of_the_contract(store: Store) -> None:
    assert store.load_receipts().schema == RECEIPTS
    assert store.load_allocations().schema == ALLOCATIONS
    assert store.load_results("reconciliation", "2026-10").height == 0


def test_receipts_round_trip_with_contract_dtypes(store: Store) -> None:
    stored = receipts(
        receipt("R2", 2, amount_fen=-1, item_code=None, tax_office=""),  # refund, null vs ""
        receipt("R1", taxpayer_name='名称, 带 "引号"\n和换行', item="preparatory"),
        receipt("R2", 1, wage_base_fen=9_007_199_254_740_993),  # beyond float precision
    )
    commit(store, "2026-10", "run-1", new_receipts=stored)

    loaded = store.load_receipts()

    assert loaded.schema == RECEIPTS
    assert_frame_equal(loaded, stored.sort("receipt_no", "line_no"))


def test_allocations_round_trip(store: Store) -> None:
    commit(store, "2026-10", "run-1", new_allocations=allocations("V2", "V1"))
    assert_frame_equal(store.load_allocations(), allocations("V2", "V1").sort("voucher_no"))


def test_results_round_trip_per_period(store: Store) -> None:
    results = {
        "reconciliation": reconciliation("2026-10", "B", "A"),
        "arrears": arrears("B", "A"),
        "indicators": indicators(),
        **other_results(),
    }
    commit(store, "2026-10", "run-1", results=results)

    assert_frame_equal(
        store.load_results("reconciliation", "2026-10"), results["reconciliation"].sort("uscc")
    )
    expected_arrears = results["arrears"].sort("uscc").cast({"months_outstanding": pl.Int64})
    assert_frame_equal(store.load_results("arrears", "2026-10"), expected_arrears)
    assert_frame_equal(
        store.load_results("indicators", "2026-10"), indicators().cast({"year": pl.Int64})
    )
    for kind, frame in other_results().items():
        assert_frame_equal(store.load_results(kind, "2026-10"), frame)
    assert store.load_results("reconciliation", "2026-09").height == 0


def test_commit_run_records_the_run_and_its_input_files(store: Store) -> None:
    commit(store, "2026-10", "run-1", new_receipts=receipts(receipt("R1")))
    runs = store.list_runs()
    assert runs.select("run_id", "period", "status").rows() == [("run-1", "2026-10", "completed")]
    assert runs["started_at"].dtype == pl.Datetime("us", "UTC")
    assert runs["started_at"][0] == datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
    assert runs["as_of"][0] == date(2026, 10, 28)
    counts = store.row_counts()
    assert (counts["input_files"], counts["registry_snapshots"], counts["quarantine"]) == (1, 1, 1)


@pytest.mark.parametrize("failure", ["last_write", "before_commit"])
def test_a_rerun_that_fails_late_leaves_the_ledger_as_it_was(store: Store, failure: str) -> None:
    """A re-run of the period that fails after it has already replaced the earlier
    run's rows and stored new receipts: on its last write (two reconciliation rows
    with one key, which only the database can refuse), or just before COMMIT (the
    caller's workbook failed)."""
    commit(store, "2026-10", "run-1", new_receipts=receipts(receipt("R1")))
    before = (store.row_counts(), store.load_receipts().to_dicts())
    seen: list[dict[str, int]] = []

    def workbook_failed() -> None:
        seen.append(store.row_counts())  # another connection: nothing of run-2 visible yet
        raise OSError("disk full while saving report.xlsx")

    late: dict[str, Any] = (
        {"results": {"reconciliation": reconciliation("2026-10", USCC, USCC)}}
        if failure == "last_write"
        else {"before_commit": workbook_failed}
    )
    error = StoreError if failure == "last_write" else OSError
    with pytest.raises(error, match="run-2" if failure == "last_write" else "disk full"):
        rerun = receipts(receipt("R1"), receipt("R9"))
        commit(store, "2026-10", "run-2", new_receipts=rerun, **late)
    assert seen == ([] if failure == "last_write" else [before[0]])
    assert (store.row_counts(), store.load_receipts().to_dicts()) == before
    assert store.list_runs()["run_id"].to_list() == ["run-1"]
    assert store.list_runs()["status"].to_list() == ["completed"]


def test_commit_run_rejects_a_bad_frame_before_writing_anything(store: Store) -> None:
    bad = reconciliation("2026-10", USCC).rename({"paid_fen": "paid_yuan"})
    with pytest.raises(StoreError, match=r"missing columns \['paid_fen'\].*paid_yuan"):
        commit(store, "2026-10", "run-1", new_receipts=receipts(receipt("R1")),
               results={"reconciliation": bad})  # fmt: skip
    with pytest.raises(StoreError, match="amount_fen is Float64"):
        floats = receipts(receipt("R1")).cast({"amount_fen": pl.Float64})
        commit(store, "2026-10", "run-1", new_receipts=floats)
    with pytest.raises(StoreError, match="unknown result kind 'quarantine'"):
        commit(store, "2026-10", "run-1", results={"quarantine": empty(RECEIPTS)})
    assert set(store.row_counts().values()) == {0}


def test_lazy_frames_store_their_rows_and_a_bad_one_fails_before_or_rolls_back(
    store: Store,
) -> None:
    """The new lines and results may come as LazyFrames (a run reads its biggest ones
    so): the same rows are stored; wrong columns are refused before anything is written;
    rows that fail only as they are read roll the whole run back."""
    lines = receipts(receipt("R1"), receipt("R2"))
    commit(store, "2026-10", "run-1", new_receipts=lines.lazy(),  # type: ignore[arg-type]
           results={"reconciliation": reconciliation("2026-10", USCC).lazy()})  # type: ignore[dict-item]  # fmt: skip
    assert store.load_receipts().select(lines.columns).equals(lines.sort("receipt_no"))
    assert store.load_results("reconciliation", "2026-10").height == 1
    before = store.row_counts()
    with pytest.raises(StoreError, match=r"new_receipts: missing columns \['uscc'\]"):
        commit(store, "2026-10", "run-2", new_receipts=lines.lazy().drop("uscc"))  # type: ignore[arg-type]
    # A count that fits Int64 only on the way: the cast fails as the rows are read.
    too_big = lines.with_columns(line_no=pl.lit(2**63, dtype=pl.UInt64)).lazy()
    with pytest.raises(StoreError, match="run-2"):
        commit(store, "2026-10", "run-2", new_receipts=too_big)  # type: ignore[arg-type]
    assert store.row_counts() == before
    assert store.list_runs()["run_id"].to_list() == ["run-1"]


def test_rerunning_a_period_with_the_same_inputs_changes_nothing(store: Store) -> None:
    first = receipts(receipt("R1"), receipt("R2"))
    commit(store, "2026-10", "run-1", new_receipts=first, new_allocations=allocations("V1"))
    before = (store.row_counts(), store.load_receipts(), store.load_results("reconciliation",
              "2026-10"))  # fmt: skip

    # What the pipeline does: duplicates are judged against the store without
    # this period's earlier run, so the same lines come back as new.
    again = store.load_receipts(exclude_period="2026-10")
    assert again.height == 0
    commit(store, "2026-10", "run-2", new_receipts=first, new_allocations=allocations("V1"))

    counts = store.row_counts()
    assert counts == before[0] | {"runs": 2}
    assert_frame_equal(store.load_receipts(), before[1])
    assert_frame_equal(store.load_results("reconciliation", "2026-10"), before[2])
    runs = store.list_runs()
    assert runs.select("run_id", "status", "superseded_by").rows() == [
        ("run-1", "superseded", "run-2"),
        ("run-2", "completed", None),
    ]


def test_rerunning_a_period_with_corrected_inputs_replaces_its_lines(store: Store) -> None:
    commit(store, "2026-09", "sep", new_receipts=receipts(receipt("S1")))
    commit(store, "2026-10", "oct-1", new_receipts=receipts(receipt("R1"), receipt("R2")))

    corrected = receipts(receipt("R1", amount_fen=310_000), receipt("R3"))
    commit(store, "2026-10", "oct-2", new_receipts=corrected)

    loaded = store.load_receipts()
    assert loaded["receipt_no"].to_list() == ["R1", "R3", "S1"]
    assert loaded.filter(pl.col("receipt_no") == "R1")["amount_fen"].item() == 310_000


def test_exclude_period_leaves_out_lines_of_earlier_runs_of_that_period(store: Store) -> None:
    commit(store, "2026-09", "sep", new_receipts=receipts(receipt("S1")),
           new_allocations=allocations("VS"))  # fmt: skip
    commit(store, "2026-10", "oct", new_receipts=receipts(receipt("R1")),
           new_allocations=allocations("VR"))  # fmt: skip

    def numbers(frame: pl.DataFrame) -> list[str]:
        return frame[frame.columns[0]].to_list()

    assert numbers(store.load_receipts()) == ["R1", "S1"]
    assert numbers(store.load_receipts(exclude_period="2026-10")) == ["S1"]
    assert numbers(store.load_receipts(exclude_period="2026-09")) == ["R1"]
    assert numbers(store.load_receipts(exclude_period="2026-11")) == ["R1", "S1"]
    assert numbers(store.load_allocations(exclude_period="2026-10")) == ["VS"]
    with pytest.raises(StoreError, match="YYYY-MM"):
        store.load_receipts(exclude_period="2026-13")


def test_a_receipt_line_is_stored_once(store: Store) -> None:
    commit(store, "2026-09", "sep", new_receipts=receipts(receipt("R1")))
    before = store.row_counts()

    with pytest.raises(StoreError, match=r"pk_receipts|UNIQUE constraint failed: receipts"):
        commit(store, "2026-10", "oct", new_receipts=receipts(receipt("R1", amount_fen=1)))

    assert store.row_counts() == before
    with pytest.raises(StoreError, match=r"pk_receipts|UNIQUE"):  # within one run, too
        commit(store, "2026-10", "oct", new_receipts=receipts(receipt("R5"), receipt("R5")))


def assert_one_line_store_error(error: StoreError, url_text: str) -> None:
    message = str(error)
    assert message.startswith(f"cannot open database {url_text}: "), message
    assert "\n" not in message


def test_unreachable_postgresql_is_one_clear_line_with_the_password_masked() -> None:
    url = "postgresql+psycopg://dues:s3cret@127.0.0.1:1/dues"
    with pytest.raises(StoreError) as caught:
        open_store(url, timeout_s=2)
    assert_one_line_store_error(caught.value, "postgresql+psycopg://dues:***@127.0.0.1:1/dues")
    assert "s3cret" not in str(caught.value)
    assert "refused" in str(caught.value).lower()


def test_a_locked_sqlite_file_is_one_clear_line(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")  # rollback-journal file: nobody may even read
    try:
        with pytest.raises(StoreError) as caught:
            open_store(f"sqlite:///{path}", timeout_s=0.2)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert_one_line_store_error(caught.value, f"sqlite:///{path}")
    assert str(caught.value).endswith("database is locked")


def test_a_run_waits_for_a_writer_then_fails_cleanly_and_can_retry(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    with open_store(url, timeout_s=0.2) as store:
        holder = sqlite3.connect(tmp_path / "ledger.db", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another process writing
        try:
            with pytest.raises(StoreError, match=r"^cannot store run run-1 .*database is locked$"):
                commit(store, "2026-10", "run-1", new_receipts=receipts(receipt("R1")))
            assert store.load_receipts().height == 0  # WAL: reading still works
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        commit(store, "2026-10", "run-1", new_receipts=receipts(receipt("R1")))
        assert store.load_receipts().height == 1


def test_the_default_database_is_the_users_own_ledger_wherever_one_stands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    with open_store() as store:
        assert store.url == f"sqlite:///{tmp_path / 'data' / 'dues' / 'ledger.db'}"
    assert (tmp_path / "data" / "dues" / "ledger.db").is_file()


def test_run_times_must_carry_a_timezone(store: Store) -> None:
    naive = replace(run_record("2026-10", "run-1"), started_at=datetime(2026, 11, 2))
    with pytest.raises(StoreError, match="started_at must be timezone-aware"):
        commit(store, "2026-10", "run-1", record=naive)


def test_arrears_keep_the_aging_buckets_the_county_configured(store: Store) -> None:
    # aging_bucket_days = [60, 365] gives three aging columns (dues.arrears names them).
    defaults = load_policy(DEFAULT_POLICY_PATH)
    county = Policy.model_validate(defaults.model_dump() | {"aging_bucket_days": [60, 365]})
    recon = pl.concat(
        [
            reconciliation("2026-09", "A").with_columns(days_past_due=pl.lit(61, pl.Int64)),
            reconciliation("2026-10", "A", "B").with_columns(
                days_past_due=pl.Series([30, 400], dtype=pl.Int64)
            ),
        ]
    )
    owed = arrears_of(recon, county)
    assert owed.columns[7:] == ["aging_0_60_fen", "aging_61_365_fen", "aging_over_365_fen"]
    assert owed.select(owed.columns[7:]).rows() == [(10_000, 10_000, 0), (0, 0, 10_000)]
    commit(store, "2026-10", "run-1", results={"reconciliation": recon, "arrears": owed})
    loaded = store.load_results("arrears", "2026-10")
    assert_frame_equal(loaded, owed.cast({"months_outstanding": pl.Int64}))

    # The county goes back to the default buckets: a re-run keeps none of the old ones.
    owed = arrears_of(recon, defaults)
    commit(store, "2026-10", "run-2", results={"reconciliation": recon, "arrears": owed})
    loaded = store.load_results("arrears", "2026-10")
    assert_frame_equal(loaded, owed.cast({"months_outstanding": pl.Int64}))
    assert loaded.columns[7:] == [
        f"aging_{suffix}_fen" for suffix, _, _ in defaults.aging_buckets()
    ]
    # Only what is owed is kept, and the first unit names every bucket: A keeps its
    # three empty buckets (of five), B none of its four.
    assert owed.select(owed.columns[7:]).rows() == [(10_000, 10_000, 0, 0, 0), (0, 0, 0, 0, 10_000)]
    assert store.row_counts()["result_arrears_aging"] == 5 + 1


def test_each_result_table_keeps_its_output_contract_in_order() -> None:
    from dues.distribution import WIDE_COLUMNS
    from dues.outputs import COLUMNS
    from dues.store.tables import RESULT_TABLES, frame_schema

    assert set(RESULT_TABLES) == set(COLUMNS) - {"quarantine"}  # stored apart, per run
    for name, table in RESULT_TABLES.items():
        kept = list(frame_schema(table))
        # Unmatched receipts keep the SPEC's columns; the period and line live in `receipts`.
        # The founding drive keeps the SPEC's too: the rest is the registry snapshot's.
        spec_only = name in ("unmatched", "founding_drive")
        contract = [c for c in COLUMNS[name] if c in kept] if spec_only else COLUMNS[name]
        if name == "distribution":  # kept wide: one row per line × month, not per level
            contract = WIDE_COLUMNS
        assert kept == list(contract), name


def test_a_receipt_line_without_a_paid_date_is_stored_and_read_back(store: Store) -> None:
    """Export templates without 入库日期 (SPEC §2.2) give lines whose paid_date is null."""
    stored = receipts(receipt("R1", paid_date=None), receipt("R2"))
    commit(store, "2026-10", "run-1", new_receipts=stored)
    assert_frame_equal(store.load_receipts(), stored)


def test_a_ledger_of_revision_0001_keeps_its_lines_and_takes_lines_without_a_paid_date(
    store_url: str,
) -> None:
    config = Config()
    config.set_main_option("script_location", "dues:migrations")
    engine = sa.create_engine(store_url)
    with engine.begin() as conn:  # a ledger made before paid_date became optional
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
        conn.execute(
            sa.text(
                "INSERT INTO receipts VALUES ('R0', 1, :uscc, '甲', 'dues', NULL, '2026-07-01',"
                " '2026-07-31', 100, 100, 1, '2026-08-10', NULL, 'c.csv', 2, 'run-0')"
            ),
            {"uscc": USCC},
        )
    engine.dispose()
    with open_store(store_url) as store:
        commit(store, "2026-10", "run-1", new_receipts=receipts(receipt("R1", paid_date=None)))
        loaded = store.load_receipts()
    assert loaded.select("receipt_no", "paid_date").rows() == [
        ("R0", date(2026, 8, 10)),
        ("R1", None),
    ]


def test_a_registry_snapshot_keeps_the_registrys_extra_columns(store: Store) -> None:
    commit(store, "2026-10", "run-1")
    snapshot = store.load_registry_of_run("run-1")
    assert snapshot["extras"].to_list() == ['{"联系人": "张三", "联系电话": null}']


def test_a_ledger_of_revision_0006_keeps_its_snapshots_without_extra_columns(
    store_url: str,
) -> None:
    config = Config()
    config.set_main_option("script_location", "dues:migrations")
    engine = sa.create_engine(store_url)
    with engine.begin() as conn:  # a ledger made before the extras were kept
        config.attributes["connection"] = conn
        command.upgrade(config, "0006")
        conn.execute(
            sa.text(
                "INSERT INTO registry_snapshots VALUES ('run-0', :uscc, '甲', 'enterprise', NULL,"
                " 30, NULL, '东镇工会', 'none', NULL, 'monthly', NULL, 'r.xlsx', 2)"
            ),
            {"uscc": USCC},
        )
    engine.dispose()
    with open_store(store_url) as store:
        snapshot = store.load_registry_of_run("run-0")
    assert snapshot.select("uscc", "extras").rows() == [(USCC, None)]


def test_a_ledger_of_revision_0006_gets_its_unmatched_lines_as_waiting_for_the_split(
    store_url: str,
) -> None:
    """Migration 0008: a stored dues or preparatory line whose unit was not in the registry
    of the run storing it waits (rule 13); matched lines and late fees do not."""
    config = Config()
    config.set_main_option("script_location", "dues:migrations")
    engine = sa.create_engine(store_url)
    line = (
        "INSERT INTO receipts VALUES (:no, 1, :uscc, '甲', :item, NULL, '2026-07-01',"
        " '2026-07-31', 100, 100, 1, '2026-08-10', NULL, 'c.csv', 2, 'run-0')"
    )
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0006")
        conn.execute(
            sa.text(
                "INSERT INTO registry_snapshots (run_id, uscc, name, unit_type, employees, "
                "jurisdiction, union_kind, filing_frequency, source_file, source_row) VALUES "
                "('run-0', :uscc, '甲', 'enterprise', 3, '东镇工会', 'none', 'monthly', 'r', 2)"
            ),
            {"uscc": USCC},
        )
        for no, uscc, item in [
            ("R0", USCC, "dues"),
            ("R1", "X9", "dues"),
            ("R2", "X9", "preparatory"),
            ("R3", "X9", "late_fee"),
        ]:
            conn.execute(sa.text(line), {"no": no, "uscc": uscc, "item": item})
        conn.execute(
            sa.text(
                "INSERT INTO allocations VALUES ('V1', 'X8', '乙', '2026-07-01', '2026-07-31', "
                "100, 2, '2026-07-20', 'a.csv', 2, 'run-0')"
            )
        )
        command.upgrade(config, "head")
        waiting = conn.execute(
            sa.text("SELECT receipt_no, uscc, run_id, distributed_period, waits "
                    "FROM waiting_receipts ORDER BY receipt_no")
        ).all()  # fmt: skip
        allocations = conn.execute(sa.text("SELECT voucher_no, uscc FROM waiting_allocations"))
        assert [tuple(r) for r in waiting] == [
            ("R1", "X9", "run-0", None, True),
            ("R2", "X9", "run-0", None, True),
        ]
        assert [tuple(r) for r in allocations] == [("V1", "X8")]
    engine.dispose()


# --- bulk I/O (dues.store.bulk): every value through the fast paths, chunk after chunk ---

AWKWARD_TEXT = [
    "a,b", 'say "hi"', '"', ",", "line 1\nline 2", "cr\r\nlf", "tab\there", "back\\slash",
    "\\N", "NULL", "", "  spaced  ", "𠀀 😀 مرحبا", "杭州某某有限公司（分厂）",
]  # fmt: skip
AWKWARD_DATES = [date(1900, 1, 1), date(1969, 12, 31), date(1970, 1, 1), date(1999, 12, 31),
                 date(2000, 1, 1), date(2099, 12, 31)]  # fmt: skip


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two rows per COPY chunk and per fetch, so a few rows cross several chunks."""
    from dues.store import bulk

    monkeypatch.setattr(bulk, "_COPY_CHUNK_ROWS", 2)
    monkeypatch.setattr(bulk, "_FETCH_CHUNK_ROWS", 2)


@pytest.mark.usefixtures("small_chunks")
def test_receipt_lines_keep_every_value_through_the_bulk_paths(store: Store) -> None:
    """Text that CSV, COPY or JSON could garble, null beside "", dates either side of
    1970 and 2000 (the epochs of Arrow and of PostgreSQL), the Int64 extremes."""
    rows = [
        receipt(
            f"R{i:02}",
            taxpayer_name=text,
            item_code=None if i % 3 == 0 else text,
            tax_office="" if i % 2 else None,
            period_start=AWKWARD_DATES[i % len(AWKWARD_DATES)],
            paid_date=None if i % 4 == 0 else AWKWARD_DATES[-1 - i % len(AWKWARD_DATES)],
            wage_base_fen=2**63 - 1 - i,
            amount_fen=-(2**63) + i,
            source_row=i,
        )
        for i, text in enumerate(AWKWARD_TEXT)
    ]
    stored = receipts(*rows)
    commit(store, "2026-10", "run-1", new_receipts=stored)
    assert_frame_equal(store.load_receipts(), stored)


@pytest.mark.usefixtures("small_chunks")
def test_results_keep_booleans_nulls_and_floats_through_the_bulk_paths(store: Store) -> None:
    recon = reconciliation("2026-10", "A", "B", "C").with_columns(
        fund_mismatch=pl.Series([True, False, None], dtype=pl.Boolean),
        channel_mismatch=pl.Series([None, True, False], dtype=pl.Boolean),
        due_date=pl.Series([None, date(1999, 12, 31), date(2000, 1, 1)], dtype=pl.Date),
        name=pl.Series(["", None, 'x,"y"\n'], dtype=pl.String),
    )
    rates = pl.concat(
        [indicators().with_columns(jurisdiction=pl.lit(j)) for j in ("甲", "乙", "丙")]
    ).with_columns(
        tax_collection_rate=pl.Series([1 / 3, 1e300, 5e-324]),
        membership_rate=pl.Series([float("inf"), None, 0.925]),
    )
    commit(store, "2026-10", "run-1", results={"reconciliation": recon, "indicators": rates})
    assert_frame_equal(store.load_results("reconciliation", "2026-10"), recon)
    assert_frame_equal(
        store.load_results("indicators", "2026-10"),
        rates.sort("level", "jurisdiction").cast({"year": pl.Int64}),
    )


@pytest.mark.usefixtures("small_chunks")
def test_a_commit_rolled_back_after_its_bulk_writes_leaves_none_of_their_rows(
    store: Store,
) -> None:
    """Bulk rows go on the run's own connection: several COPY chunks (or one executemany)
    of receipts and results, then the caller fails before COMMIT, and none of them stay."""
    commit(store, "2026-10", "run-1", new_receipts=receipts(receipt("R1")))
    before = store.row_counts()

    def fail() -> None:
        raise OSError("the workbook could not be saved")

    with pytest.raises(OSError, match="workbook"):
        commit(
            store,
            "2026-11",
            "run-2",
            new_receipts=receipts(*(receipt(f"S{i}") for i in range(7))),
            new_allocations=allocations("V1", "V2", "V3"),
            results={"reconciliation": reconciliation("2026-11", "A", "B", "C", "D", "E")},
            before_commit=fail,
        )
    assert store.row_counts() == before
    assert store.load_receipts()["receipt_no"].to_list() == ["R1"]
    assert store.load_results("reconciliation", "2026-11").height == 0


def test_keyed_reads_look_the_keys_up_instead_of_scanning_every_stored_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run reads the stored lines its keys repeat through the index: SQLite's plan
    searches receipts and allocations by key (or uscc), never scans them, so the cost
    follows the run's keys, not the size of the ledger."""
    from dues.store import bulk

    plans: list[str] = []
    fetch = bulk._fetch_sqlite

    def explained(conn: sa.Connection, statement: Any, wire: pl.Schema) -> pl.DataFrame:
        compiled = statement.compile(
            dialect=conn.dialect, compile_kwargs={"render_postcompile": True}
        )
        params = compiled.construct_params()
        positional = [params[name] for name in compiled.positiontup or ()]
        raw = conn.connection.driver_connection
        rows = raw.execute(f"EXPLAIN QUERY PLAN {compiled}", positional).fetchall()
        plans.append(" | ".join(str(row[3]) for row in rows))
        return fetch(conn, statement, wire)

    with open_store(f"sqlite:///{tmp_path / 'ledger.db'}") as store:
        lines = receipts(receipt("R1"), receipt("R2"))
        commit(store, "2026-09", "run-1", new_receipts=lines, new_allocations=allocations("V0"))
        monkeypatch.setattr(bulk, "_fetch_sqlite", explained)
        keys = pl.DataFrame({"receipt_no": ["R2", "R9"], "line_no": [1, 1]})
        found = store.load_lines_with_keys("receipts", keys, "2026-10")
        assert found["receipt_no"].to_list() == ["R2"]
        vouchers = pl.DataFrame({"voucher_no": ["V1"]})
        assert store.load_lines_with_keys("allocations", vouchers, "2026-10").is_empty()
        units = store.load_lines_of_units("receipts", pl.Series([USCC]), "2026-10")
        assert units["receipt_no"].to_list() == ["R1", "R2"]
    assert len(plans) == 3
    for plan in plans:
        assert "SEARCH receipts" in plan or "SEARCH allocations" in plan, plan
        assert "SCAN receipts" not in plan and "SCAN allocations" not in plan, plan


def test_keyed_reads_send_no_keys_when_no_other_period_stored_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cold start's million keys are not pushed into the database to find nothing."""
    import dues.store.store as store_module

    sent: list[str] = []
    insert = store_module.insert_frame

    def recorded(conn: sa.Connection, table: sa.Table, frame: pl.DataFrame) -> None:
        sent.append(table.name)
        insert(conn, table, frame)

    keys = pl.DataFrame({"receipt_no": ["R1"], "line_no": [1]})
    with open_store(f"sqlite:///{tmp_path / 'ledger.db'}") as store:
        monkeypatch.setattr(store_module, "insert_frame", recorded)
        assert store.load_lines_with_keys("receipts", keys, "2026-09").is_empty()
        assert sent == []  # an empty ledger
        commit(store, "2026-09", "run-1", new_receipts=receipts(receipt("R1")))
        sent.clear()
        assert store.load_lines_with_keys("receipts", keys, "2026-09").is_empty()
        assert "scratch_receipt_keys" not in sent  # only the re-run period's own lines
        found = store.load_lines_with_keys("receipts", keys, "2026-10")
        assert found["receipt_no"].to_list() == ["R1"]
        assert "scratch_receipt_keys" in sent


def _receipt_indexes(store_url: str) -> set[str]:
    engine = sa.create_engine(store_url)
    try:
        with engine.connect() as conn:
            return {str(i["name"]) for i in sa.inspect(conn).get_indexes("receipts")}
    finally:
        engine.dispose()


def test_a_big_first_load_builds_the_uscc_index_after_its_rows(
    store: Store, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first load of a big frame drops the secondary index and builds it after the
    inserts, in the run's transaction: a load that fails before COMMIT leaves the index
    as it was, one that commits has it, and a later load into rows keeps it."""
    from dues.store import bulk

    monkeypatch.setattr(bulk, "_REBUILD_INDEX_ROWS", 3)
    indexes = _receipt_indexes(store_url)
    assert any("uscc" in name for name in indexes), indexes
    dropped: list[str] = []
    drop = sa.Index.drop

    def recorded_drop(index: sa.Index, bind: Any, **kw: Any) -> None:
        dropped.append(str(index.name))
        drop(index, bind, **kw)

    monkeypatch.setattr(sa.Index, "drop", recorded_drop)

    def fail() -> None:
        raise OSError("the workbook could not be saved")

    many = receipts(*(receipt(f"R{i}") for i in range(5)))
    with pytest.raises(OSError):
        commit(store, "2026-09", "run-0", new_receipts=many, before_commit=fail)
    assert dropped and _receipt_indexes(store_url) == indexes
    commit(store, "2026-09", "run-1", new_receipts=many)
    assert _receipt_indexes(store_url) == indexes
    assert store.load_lines_of_units("receipts", pl.Series([USCC]), "2026-10").height == 5
    dropped.clear()
    commit(store, "2026-10", "run-2", new_receipts=receipts(*(receipt(f"S{i}") for i in range(5))))
    assert dropped == [] and _receipt_indexes(store_url) == indexes
