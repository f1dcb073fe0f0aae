"""Realistic generated inputs for the demo, the tests and the benchmarks.

* `generate_county` — a county of SPEC §1's shape: registry.xlsx and, per period,
  a collection and an allocation file in rotating bureau styles, with known bad
  rows, and a manifest.json stating what `dues validate` must make of each file;
* `generate_bench` — a large, mostly clean data set (100,000 units, a year);
* `generate_collections_csv` / `generate_collections_xlsx` — one big collection file.
"""

from __future__ import annotations

from pathlib import Path

from dues.sample.bench import (
    BenchFile,
    BenchManifest,
    generate_bench,
    generate_collections_csv,
    generate_collections_xlsx,
)
from dues.sample.county import DEFAULT_PERIODS, generate_county
from dues.sample.manifest import (
    CountyFacts,
    FileManifest,
    PeriodFiles,
    QuarantinedRow,
    SampleManifest,
)

__all__ = [
    "DEFAULT_PERIODS",
    "BenchFile",
    "BenchManifest",
    "CountyFacts",
    "FileManifest",
    "PeriodFiles",
    "QuarantinedRow",
    "SampleManifest",
    "generate_bench",
    "generate_collections_csv",
    "generate_collections_xlsx",
    "generate_county",
    "main_sample",
]


def main_sample(out: Path, units: int, seed: int) -> SampleManifest:
    """`dues sample --out DIR`: the default four periods of a county of `units` units."""
    return generate_county(out, units=units, seed=seed)
