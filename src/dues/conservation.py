"""Where every row and fen of one input file went: the conservation record of SPEC §3.

    rows read  = rows accepted + rows quarantined + duplicate rows
    money read = money accepted + money quarantined + duplicate money

Ingest makes one `FileStats` per file; the ledger merge moves the lines it finds
repeated or contradicted by the store out of "accepted" with `after_merge`; the
same record, as JSON, is what run.json, the store's `input_files` table and the
workbook's 运行信息 sheet show. The identity is written here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from dues.schemas import Kind

# Derived from the fields; written to JSON for the reader, ignored when read back.
_DERIVED = ("rows_conserved", "money_conserved")


@dataclass(frozen=True)
class FileStats:
    """One input file's figures: what it held and where each row and fen went."""

    file: str  # no directory, as in the frames' source_file
    kind: Kind
    sha256: str
    encoding: str
    header_row: int
    rows_read: int
    rows_accepted: int
    rows_quarantined: int
    rows_duplicate: int
    money_read_fen: int
    money_accepted_fen: int
    money_quarantined_fen: int
    money_duplicate_fen: int
    quarantined_by_reason: Mapping[str, int] = field(default_factory=dict)
    totals_row: int | None = None
    totals_fen: int | None = None
    totals_check: str = "absent"  # absent | ok | mismatch
    extra_columns: tuple[str, ...] = ()
    # Accepted receipt lines with no 入库日期 (SPEC §2.2: some templates lack it).
    rows_without_paid_date: int = 0

    @property
    def rows_conserved(self) -> bool:
        return self.rows_read == self.rows_accepted + self.rows_quarantined + self.rows_duplicate

    @property
    def money_conserved(self) -> bool:
        return self.money_read_fen == (
            self.money_accepted_fen + self.money_quarantined_fen + self.money_duplicate_fen
        )

    @property
    def conserved(self) -> bool:
        return self.rows_conserved and self.money_conserved

    def after_merge(
        self,
        *,
        duplicates: tuple[int, int] = (0, 0),
        conflicts: tuple[int, int] = (0, 0),
        undated: int = 0,
    ) -> FileStats:
        """The record once the ledger merge took (rows, fen) of repeats and of conflicts
        out of this file's accepted lines (conflicts are quarantined); `undated` of the
        lines it took had no paid date."""
        (dup_rows, dup_fen), (bad_rows, bad_fen) = duplicates, conflicts
        by_reason = dict(self.quarantined_by_reason)
        if bad_rows:
            by_reason["conflicting_duplicate"] = (
                by_reason.get("conflicting_duplicate", 0) + bad_rows
            )
        return replace(
            self,
            rows_accepted=self.rows_accepted - dup_rows - bad_rows,
            money_accepted_fen=self.money_accepted_fen - dup_fen - bad_fen,
            rows_duplicate=self.rows_duplicate + dup_rows,
            money_duplicate_fen=self.money_duplicate_fen + dup_fen,
            rows_quarantined=self.rows_quarantined + bad_rows,
            money_quarantined_fen=self.money_quarantined_fen + bad_fen,
            quarantined_by_reason=dict(sorted(by_reason.items())),
            rows_without_paid_date=self.rows_without_paid_date - undated,
        )

    def as_json(self) -> dict[str, Any]:
        """The record as run.json carries it, with the two conservation verdicts."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["quarantined_by_reason"] = dict(self.quarantined_by_reason)
        out["extra_columns"] = list(self.extra_columns)
        return out | {
            "rows_conserved": self.rows_conserved,
            "money_conserved": self.money_conserved,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FileStats:
        """The record back from `as_json` (the verdicts are recomputed, not trusted)."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known and k not in _DERIVED}
        values["extra_columns"] = tuple(values.get("extra_columns", ()))
        return cls(**values)
