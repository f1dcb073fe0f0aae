"""What was generated, and exactly what `dues validate` must make of each file.

Written as `manifest.json` (sorted keys, no times) so it is as repeatable as the
files it describes. Every figure is counted from the rows as generated, money
from the integer fen they were made of.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from dues.sample.defects import ACCEPTED, DUPLICATE, Row


@dataclass(frozen=True)
class QuarantinedRow:
    row: int  # 1-based, as Excel or a text editor shows it
    column: str
    reason: str


@dataclass(frozen=True)
class FileManifest:
    """One file: rows = accepted + quarantined + duplicates; money likewise."""

    kind: str  # registry | collections | allocations
    style: str  # xlsx | gbk | bom | english
    encoding: str  # as written: xlsx, gbk, utf-8-sig, utf-8
    header_row: int
    rows: int  # data rows: no title, header or totals row
    accepted: int
    quarantined: int
    duplicates: int
    bad_rows: dict[str, int]  # reason code -> rows
    accepted_amount_fen: int
    quarantined_amount_fen: int  # rows whose amount still parses
    duplicate_amount_fen: int
    read_amount_fen: int  # every parseable amount: what the 合计 row states
    totals_fen: int | None  # the 合计 row's amount, None without one
    unmatched: int  # accepted rows whose USCC is not in the registry
    unmatched_amount_fen: int
    quarantine: tuple[QuarantinedRow, ...] = ()

    @classmethod
    def of_rows(
        cls, kind: str, style: str, encoding: str, header_row: int, rows: list[Row], totals: bool
    ) -> FileManifest:
        def fen(outcome: str | None, *, registered: bool | None = None) -> int:
            return sum(
                r.amount_fen or 0
                for r in rows
                if (outcome is None or r.outcome == outcome)
                and (registered is None or r.registered == registered)
            )

        bad = [
            QuarantinedRow(header_row + 1 + i, r.column, r.outcome)
            for i, r in enumerate(rows)
            if r.outcome not in (ACCEPTED, DUPLICATE)
        ]
        read = fen(None)
        return cls(
            kind=kind,
            style=style,
            encoding=encoding,
            header_row=header_row,
            rows=len(rows),
            accepted=sum(r.outcome == ACCEPTED for r in rows),
            quarantined=len(bad),
            duplicates=sum(r.outcome == DUPLICATE for r in rows),
            bad_rows=dict(sorted(Counter(q.reason for q in bad).items())),
            accepted_amount_fen=fen(ACCEPTED),
            quarantined_amount_fen=read - fen(ACCEPTED) - fen(DUPLICATE),
            duplicate_amount_fen=fen(DUPLICATE),
            read_amount_fen=read,
            totals_fen=read if totals else None,
            unmatched=sum(r.outcome == ACCEPTED and not r.registered for r in rows),
            unmatched_amount_fen=fen(ACCEPTED, registered=False),
            quarantine=tuple(bad),
        )


@dataclass(frozen=True)
class PeriodFiles:
    """The files of one monthly run (what `dues run --period` takes)."""

    collections: tuple[str, ...]
    allocations: tuple[str, ...]


@dataclass(frozen=True)
class CountyFacts:
    """The county's shape, for tests and for reading the demo's results against."""

    units: int
    tax_units: int
    fiscal_units: int
    by_unit_type: dict[str, int]
    by_union_kind: dict[str, int]
    jurisdictions: dict[str, int]  # town / community / system / park -> unions with units
    quarterly: int  # registry units with 申报期限 按季
    founding_rate_bp: int  # organized share of tax-channel units, basis points
    history_start: str  # the earliest month any record is attributed to
    founded_mid_year: tuple[str, ...]  # USCCs whose union was founded during the history
    unmatched_usccs: tuple[str, ...]
    behaviours: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class SampleManifest:
    seed: int
    registry: str
    periods: dict[str, PeriodFiles]
    files: dict[str, FileManifest]
    county: CountyFacts

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1, sort_keys=True) + "\n"

    def write(self, path: Path) -> None:
        path.write_text(self.to_json(), encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> SampleManifest:
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SampleManifest:
        files = {
            name: FileManifest(
                **{k: v for k, v in f.items() if k != "quarantine"},
                quarantine=tuple(QuarantinedRow(**q) for q in f["quarantine"]),
            )
            for name, f in d["files"].items()
        }
        county = dict(d["county"])
        for key in ("founded_mid_year", "unmatched_usccs"):
            county[key] = tuple(county[key])
        return cls(
            seed=d["seed"],
            registry=d["registry"],
            periods={
                p: PeriodFiles(tuple(f["collections"]), tuple(f["allocations"]))
                for p, f in d["periods"].items()
            },
            files=files,
            county=CountyFacts(**county),
        )
