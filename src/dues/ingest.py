"""Ingest one bureau file: find its header, type every cell, validate, quarantine.

Nothing is lost and nothing is silent (SPEC §3): every data row ends up accepted,
quarantined (with file, row, column, reason code and raw cells) or counted as an
exact duplicate, and the money of the file is conserved across those three.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandera.polars as pa
import polars as pl

from dues import normalize, repeats, uscc
from dues.conservation import FileStats
from dues.policy import DEFAULT_MAX_BACK_MONTHS
from dues.readers import Grid, InputError, read_grid
from dues.reasons import REASONS
from dues.schemas import KINDS, ColumnSpec, InputSpec, Kind, alias_map, header_key, input_spec
from dues.schemas import enum_labels as _enum_labels
from dues.schemas import item_codes as _item_codes
from dues.schemas import pandera_schema as _pandera_schema

_PARSE_REASON = {"money": "bad_number", "int": "bad_number", "date": "bad_date", "rate": "bad_rate"}
# Whole-row checks are reported against the column a clerk would correct.
_FRAME_CHECK_COLUMN = {
    "bad_period": "period_start",
    "item_code_mismatch": "item_code",
    "members_exceed_employees": "members",
    "missing_union_founded": "union_founded",
}
_TOTALS = ("合计", "总计")
# The registry's extra columns, carried as one JSON object (schemas/README.md).
EXTRAS = "extras"
_CODE_COLUMNS = frozenset({"receipt_no", "voucher_no", "item_code"})
# A column whose first rows are mostly distinct is parsed row by row (see _parse_cells).
_SAMPLE_ROWS, _DISTINCT_RATIO = 10_000, 0.5
_HEADER_SCAN_ROWS = 30


@dataclass(frozen=True)
class InputResult:
    accepted: pl.DataFrame
    quarantine: pl.DataFrame
    duplicates: pl.DataFrame
    stats: FileStats
    # SPEC column -> its header as the file spells it (what a clerk looks for)
    headers: Mapping[str, str] = field(default_factory=dict)


# ---- header -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Header:
    kind: Kind
    index: int  # row position in the grid
    columns: dict[str, str]  # grid column -> SPEC column
    extra: tuple[str, ...]
    extra_columns: dict[str, str]  # grid column -> its header, made unique (extras)


def _match_header(cells: tuple[Any, ...], kind: Kind) -> tuple[dict[int, str], dict[int, str]]:
    """SPEC columns by grid position, and the other headed columns (the extras) by theirs."""
    aliases = alias_map(kind)
    mapped: dict[int, str] = {}
    extra: dict[int, str] = {}
    for i, cell in enumerate(cells):
        if cell is None or not str(cell).strip():
            continue
        name = aliases.get(header_key(str(cell)))
        if name is not None and name not in mapped.values():
            mapped[i] = name
        else:
            extra[i] = str(cell).strip()
    return mapped, extra


def _unique_headers(headers: dict[int, str]) -> dict[str, str]:
    """Grid column -> header, a repeated header numbered (备注, 备注(2)) so each names one."""
    seen: Counter[str] = Counter()
    out: dict[str, str] = {}
    for i, header in headers.items():
        seen[header] += 1
        out[f"c{i}"] = header if seen[header] == 1 else f"{header}({seen[header]})"
    return out


# How a clerk calls each kind of file (the bureaus' own names beside ours).
_KIND_NAMES: dict[Kind, str] = {
    "registry": "a unit registry (单位名录)",
    "collections": "a tax collection file (税务代收明细)",
    "allocations": "a fiscal allocation file (财政划拨明细)",
}


def _other_kind(grid: Grid, kind: Kind) -> tuple[Kind, int] | None:
    """The other kind whose complete header a top row holds, and that row's index: a
    file given to the wrong option is named for what it is."""
    for index in range(min(grid.cells.height, _HEADER_SCAN_ROWS)):
        cells = grid.cells.row(index)
        for other in KINDS:
            if other == kind:
                continue
            named = set(_match_header(cells, other)[0].values())
            spec = input_spec(other)
            if all(
                not c.required or c.name in named or c.implied_by in named for c in spec.columns
            ):
                return other, index
    return None


def find_header(grid: Grid, kind: Kind | None) -> _Header:
    """The first row (among the top ones) that names every required column of a kind."""
    kinds = (kind,) if kind else KINDS
    best: tuple[int, Kind, int, list[str]] | None = None  # matches, kind, row, missing
    for index in range(min(grid.cells.height, _HEADER_SCAN_ROWS)):
        cells = grid.cells.row(index)
        for k in kinds:
            mapped, extra = _match_header(cells, k)
            named = set(mapped.values())
            missing = [
                c.name
                for c in input_spec(k).columns
                if c.required and c.name not in named and c.implied_by not in named
            ]
            if not missing:
                columns = {f"c{i}": n for i, n in mapped.items()}
                return _Header(k, index, columns, tuple(extra.values()), _unique_headers(extra))
            if best is None or len(mapped) > best[0]:
                best = (len(mapped), k, index, missing)
    if best is None or best[0] == 0:
        if kind is not None and (other := _other_kind(grid, kind)) is not None:
            raise InputError(
                f"this is {_KIND_NAMES[other[0]]}, not {_KIND_NAMES[kind]}: "
                f"its header (row {grid.rows[other[1]]}) names every {other[0]} column; "
                "check which file went to which option"
            )
        article = "an" if kind == "allocations" else "a"
        what = (
            f"{article} {kind} header" if kind else "a registry, collections or allocations header"
        )
        raise InputError(
            f"no header row found in the first {_HEADER_SCAN_ROWS} rows: expected {what}"
        )
    _, k, index, missing = best
    spec = input_spec(k)
    names = ", ".join(f"{m} ({'/'.join(spec.column(m).aliases[:2])})" for m in missing)
    found = ", ".join(str(c) for c in grid.cells.row(index) if c is not None)
    raise InputError(
        f"missing required column {names} for {k} at row {grid.rows[index]}; found: {found}"
    )


# ---- typing -------------------------------------------------------------------------


def _typed(col: ColumnSpec, raw: pl.Expr) -> pl.Expr:
    match col.type:
        case "money":
            return normalize.money_fen(raw)
        case "int":
            return normalize.whole_number(raw)
        case "rate":
            return normalize.rate_bp(raw)
        case "date":
            return normalize.date_value(raw)
        case "uscc":
            return normalize.clean_text(uscc.normalized(raw))
        case "implied_by:item_code":
            # The item read from 征收品目代码 (the only column that implies another, see
            # schemas/inputs.toml). An unknown code is kept as text so pandera's check
            # names it `bad_enum`.
            by_code = {code: item for item, code in _item_codes().items()}
            code = normalize.code_text(raw)
            return pl.coalesce(code.replace_strict(by_code, default=None), code)
        case t if t.startswith("enum:"):
            # Unknown labels are kept as text so pandera's check names them `bad_enum`.
            labels = _enum_labels(t.removeprefix("enum:"))
            return pl.coalesce(normalize.enum_value(raw, labels), normalize.clean_text(raw))
        case _ if col.name in _CODE_COLUMNS:
            return normalize.code_text(raw)
        case _:
            return normalize.text_value(raw)


def _fast_path(col: ColumnSpec) -> normalize.FastPath | None:
    if col.name in _CODE_COLUMNS:
        return normalize.FAST_PATHS["code"]
    return normalize.FAST_PATHS.get(col.type)


def _parse_cells(cells: pl.Series, col: ColumnSpec) -> pl.Series:
    """The full normalizer of `col` over `cells`, once per distinct text where that pays.

    Bureau columns repeat themselves (a handful of rates, items and dates in a million
    lines), and the text normalizers are the costly part of ingest, so a repetitive
    column is parsed once per distinct text and mapped back; a column of mostly unique
    texts (amounts, receipt numbers) is parsed row by row, skipping the unique-and-join.
    """
    frame = cells.to_frame("text")
    sample = cells.head(_SAMPLE_ROWS)
    if sample.n_unique() > _DISTINCT_RATIO * max(sample.len(), 1):
        return frame.select(value=_typed(col, pl.col("text"))).get_column("value")
    distinct = cells.unique().to_frame("text")
    parsed = distinct.with_columns(value=_typed(col, pl.col("text")))
    return frame.join(
        parsed, on="text", how="left", nulls_equal=True, maintain_order="left"
    ).get_column("value")


def _parse_column(cells: pl.Series, col: ColumnSpec) -> pl.Series:
    """Typed values of one column: plain cells by their fast path, the rest in full."""
    fast = _fast_path(col)
    if fast is None:
        return _parse_cells(cells, col)
    frame = cells.to_frame("text").select(
        plain=pl.col("text").str.contains(fast.pattern).fill_null(False),
        value=fast.parse(pl.col("text")),
    )
    rest = frame.get_column("plain").not_().arg_true()
    values = frame.get_column("value")
    if rest.is_empty():
        return values
    full = _parse_cells(cells.gather(rest), col)
    return values.scatter(rest, full.cast(values.dtype))


def _defaults(spec: InputSpec) -> list[pl.Expr]:
    out = []
    if spec.kind == "collections":
        out.append(pl.col("line_no").fill_null(1))
    if spec.kind == "registry":
        out.append(pl.col("filing_frequency").fill_null("monthly"))
    return out


def _parse_failures(spec: InputSpec) -> pl.Expr:
    """Struct(column, reason) of the first cell that is empty-but-required or unparseable."""
    expr: pl.Expr = pl.lit(None, dtype=pl.Struct({"column": pl.String, "reason": pl.String}))
    for col in reversed(spec.columns):
        # strip_chars() drops Unicode white space (the full-width space too): no NFKC needed
        present = (pl.col(f"raw_{col.name}").str.strip_chars().str.len_bytes() > 0).fill_null(False)
        reason = _PARSE_REASON.get(col.type)
        conds: list[tuple[pl.Expr, str]] = []
        if col.required:
            conds.append((~present, "missing_value"))
        if reason:
            conds.append((present & pl.col(col.target).is_null(), reason))
        for cond, code in reversed(conds):
            expr = (
                pl.when(cond)
                .then(pl.struct(column=pl.lit(col.name), reason=pl.lit(code)))
                .otherwise(expr)
            )
    return expr


def _pandera_failures(frame: pl.DataFrame, spec: InputSpec) -> pl.DataFrame:
    """(row position, column, reason) of every pandera check failure, first per row."""
    order = {c.target: i for i, c in enumerate(spec.columns)}
    by_target = {c.target: c.name for c in spec.columns}
    try:
        _pandera_schema(spec.kind).validate(frame, lazy=True)
    except pa.errors.SchemaErrors as err:
        cases: pl.DataFrame = err.failure_cases
    else:
        return pl.DataFrame(schema={"pos": pl.Int64, "column": pl.String, "reason": pl.String})
    cases = cases.filter(pl.col("index").is_not_null()).select(
        pos=pl.col("index").cast(pl.Int64),
        column=pl.coalesce(
            pl.col("column").replace_strict(by_target, default=None),
            pl.col("check").replace_strict(_FRAME_CHECK_COLUMN, default="*"),
        ),
        target=pl.col("column"),
        reason=pl.col("check").replace({"not_nullable": "missing_value"}),
    )
    unknown = set(cases["reason"].unique()) - set(REASONS)
    if unknown:  # a dtype error would mean our own casting is wrong: fail loudly
        raise RuntimeError(f"unexpected pandera failure {sorted(unknown)}")
    return (
        cases.with_columns(order=pl.col("target").replace_strict(order, default=len(order)))
        .sort("pos", "order")
        .unique("pos", keep="first", maintain_order=True)
        .select("pos", "column", "reason")
    )


def _extras_json(header: _Header) -> pl.Expr:
    """The row's extra cells as a JSON object by header (in file order), values as text
    (trimmed, empty -> null, Excel's `.0` dropped from whole numbers such as a phone
    number); null when the file has no extra column."""
    if not header.extra_columns:
        return pl.lit(None, dtype=pl.String).alias(EXTRAS)
    cells = []
    for grid, name in header.extra_columns.items():
        text = pl.col(grid).str.strip_chars().str.replace(r"^(\d+)\.0+$", "${1}")
        cells.append(pl.when(text.str.len_chars() > 0).then(text).alias(name))
    return pl.struct(cells).struct.json_encode().alias(EXTRAS)


def _raw_json(spec: InputSpec) -> pl.Expr:
    return pl.struct(
        [pl.col(f"raw_{c.name}").alias(c.name) for c in spec.columns]
    ).struct.json_encode()


@dataclass(frozen=True)
class _Totals:
    """The 合计/总计 rows of a file's body: dropped from the data, the last one checked."""

    source_rows: pl.Series  # every totals row
    row: int | None = None  # the last one's
    amount_fen: int | None = None  # the last one's, if its amount cell parses


def _totals(body: pl.DataFrame, header: _Header, spec: InputSpec) -> _Totals:
    """The totals rows among the grid rows below the header (all columns, source_row).

    The label may stand in any column, one outside the contract too: exports with extra
    leading columns (所属税期, 所属区 ...) put 合计 in the sheet's first one. Every other
    cell of the row is empty or an amount, and its key cells are empty: a receipt line
    whose name merely says 合计 is data (SPEC §3).
    """
    cells = [c for c in body.columns if c != "source_row"]
    keys = sorted(g for g, n in header.columns.items() if n in spec.key)
    # Only a row whose key cells hold no letter or digit can be one: a cheap look at one
    # or two columns (a look for 计 in every cell would cost 2.5 times the old look at
    # the contract's text columns) before the exact look at those few rows.
    hit = body.select(
        pl.all_horizontal(
            pl.col(k).is_null() | ~pl.col(k).str.contains("[0-9A-Za-z]") for k in keys
        )
    ).to_series()
    none = _Totals(body.get_column("source_row").clear())
    if not hit.any():
        return none
    # One cell per row: the rules are one expression, not one per column (polars takes
    # longer to plan thirteen copies of money_fen than to run them on a few rows).
    cell = body.filter(hit).unpivot(on=cells, index="source_row", variable_name="col")
    text = pl.col("value")
    label = text.str.replace_all(r"\s", "").is_in(_TOTALS).fill_null(False)
    blank = text.str.strip_chars().str.len_bytes().fill_null(0) == 0
    amount = ~pl.col("col").is_in(keys) & normalize.money_fen(text).is_not_null()
    rows = (
        cell.group_by("source_row", maintain_order=True)
        .agg(total=label.any() & (blank | label | amount).all())
        .filter("total")
        .get_column("source_row")
    )
    if rows.is_empty():
        return none
    last = int(rows[-1])
    value = None
    amount_col = _grid_col(header, spec.amount) if spec.amount else None
    if amount_col is not None:
        stated = cell.filter(pl.col("source_row") == last, pl.col("col") == amount_col)
        value = stated.select(normalize.money_fen(text)).item()
    return _Totals(rows, last, int(value) if value is not None else None)


def _grid_col(header: _Header, name: str) -> str | None:
    return next((g for g, n in header.columns.items() if n == name), None)


def _source(header: _Header, col: ColumnSpec) -> tuple[str | None, ColumnSpec]:
    """The grid column `col` is read from, and as what: its own, or else the column that
    implies it, read as `_typed` reads that one's values into `col`'s (a raw database
    export names the item only by its code, ZSPM_DM)."""
    own = _grid_col(header, col.name)
    if own is None and col.implied_by is not None:
        implying = _grid_col(header, col.implied_by)
        if implying is not None:
            return implying, replace(col, type=f"implied_by:{col.implied_by}")
    return own, col


def _without_paid_date(accepted: pl.DataFrame) -> int:
    """Accepted receipt lines without 入库日期 (rule 12 takes them as paid when due)."""
    if "paid_date" not in accepted.columns:
        return 0
    return accepted.get_column("paid_date").null_count()


def _amount(spec: InputSpec) -> pl.Expr:
    """The row's parseable amount in fen (0 for kinds without money, such as the registry)."""
    if spec.amount is None:
        return pl.lit(0, dtype=pl.Int64)
    return normalize.money_fen(pl.col(f"raw_{spec.amount}")).fill_null(0)


def _sum(frame: pl.DataFrame, spec: InputSpec) -> int:
    # In Int128: every amount is within ±10^14 fen, but a file's sum of them need not
    # fit Int64, and a wrapped sum would say "conservation holds" over a negative total.
    if spec.amount is None or frame.is_empty():
        return 0
    column = pl.col(f"{spec.amount}_fen").fill_null(0).cast(pl.Int128)
    return int(frame.select(column.sum()).item())


def _months_back(spec: InputSpec, run_period: str | None, max_back_months: int) -> pl.Expr | None:
    """Lines whose period starts more than `max_back_months` before the run period, or,
    without one (`dues validate`), before their own paid or allocated date (SPEC §3)."""
    if "period_start" not in {c.name for c in spec.columns}:
        return None
    start = _month_index(pl.col("period_start"))
    if run_period is not None:
        year, month = (int(p) for p in run_period.split("-"))
        return start < year * 12 + month - 1 - max_back_months
    paid = "paid_date" if spec.kind == "collections" else "allocated_date"
    return (start < _month_index(pl.col(paid)) - max_back_months).fill_null(False)


def _month_index(day: pl.Expr) -> pl.Expr:
    return day.dt.year().cast(pl.Int64) * 12 + day.dt.month().cast(pl.Int64) - 1


def _totals_check(totals_fen: int | None, read_fen: int) -> str:
    if totals_fen is None:
        return "absent"
    return "ok" if totals_fen == read_fen else "mismatch"


def read_input(
    path: Path,
    kind: Kind | None = None,
    *,
    judge_repeats: bool = True,
    run_period: str | None = None,
    max_back_months: int = DEFAULT_MAX_BACK_MONTHS,
) -> InputResult:
    """Read, type and validate one input file. Raises InputError naming the file.

    With `judge_repeats` (`dues validate`), repeats are judged within the file. A run
    judges them once over all its files and the store (`dues.ledger`), so it reads
    with `judge_repeats=False`: every valid line is accepted, and a line whose key
    repeats within the file carries its bureau cells in a `raw` column, for the
    quarantine should it turn out a conflict.

    A line whose period starts more than `max_back_months` before `run_period` (YYYY-MM;
    without one, before the line's paid date) is quarantined as `bad_period`.
    """
    try:
        return _read_input(path, kind, judge_repeats, run_period, max_back_months)
    except InputError as exc:
        raise InputError(f"{path.name}: {exc}") from exc


def _raw_of_repeated_keys(good: pl.DataFrame, spec: InputSpec, key: list[str]) -> pl.Series:
    """The raw cells (JSON) of the lines whose key repeats in the file, null elsewhere."""
    raw = pl.repeat(None, good.height, dtype=pl.String, eager=True).alias("raw")
    where = good.select(pl.struct(key).is_duplicated()).to_series().arg_true()
    if where.is_empty():
        return raw
    return raw.scatter(where, good[where].select(_raw_json(spec)).to_series())


def _read_input(
    path: Path, kind: Kind | None, judge_repeats: bool, run_period: str | None, max_back: int
) -> InputResult:
    grid = read_grid(path)
    header = find_header(grid, kind)
    spec = input_spec(header.kind)
    body = grid.cells.slice(header.index + 1).with_columns(
        source_row=grid.rows.slice(header.index + 1)
    )
    totals = _totals(body, header, spec)
    sources = [_source(header, c) for c in spec.columns]
    # The registry's other columns (联系人, 联系电话, 地址 ...) go with the unit to the
    # founding drive (SPEC §5), as one JSON object beside the contract columns.
    carried = [EXTRAS] if header.kind == "registry" else []
    raw = body.select(
        *[(pl.col(g) if g else pl.lit(None, pl.String)).alias(f"raw_{c.name}") for g, c in sources],
        "source_row",
        *([_extras_json(header)] if carried else []),
    )
    # Rows with no cell at all are spacing, not data (nor one with only extra cells).
    data = pl.any_horizontal(pl.all().exclude("source_row", EXTRAS).is_not_null())
    if not totals.source_rows.is_empty():
        data = data & ~pl.col("source_row").is_in(totals.source_rows.implode())
    raw = raw.filter(data)

    typed = raw.with_columns(
        _parse_column(raw[f"raw_{c.name}"], c).alias(c.target) for _, c in sources
    )
    typed = typed.with_columns(_defaults(spec)).with_columns(
        source_file=pl.lit(path.name), _parse=_parse_failures(spec)
    )
    unparsed = typed.get_column("_parse").is_not_null()
    pre_bad = typed.filter(unparsed)
    candidates = typed.filter(~unparsed).drop("_parse")
    targets = [c.target for c in spec.columns]
    pandera_bad = _pandera_failures(candidates.select(targets), spec)
    # pandera_bad is sorted by row position, one row each: a mask keeps the two in step.
    failed = pl.zeros(candidates.height, pl.Boolean, eager=True).scatter(pandera_bad["pos"], True)
    bad_rows = candidates.filter(failed).hstack(pandera_bad.select("column", "reason"))
    good = candidates.filter(~failed)
    too_old = _months_back(spec, run_period, max_back)
    if too_old is not None:
        # A plausibility rule with a parameter of the run, so not in the cached schema.
        old = good.select(too_old.alias("old")).to_series()
        bad_rows = pl.concat(
            [
                bad_rows,
                good.filter(old).with_columns(
                    column=pl.lit("period_start"), reason=pl.lit("bad_period")
                ),
            ]
        )
        good = good.filter(~old)

    record = repeats.RECORDS[header.kind]
    if judge_repeats:
        judged = repeats.split_repeats(good, record)
        kept, dups, conflicts = judged.new, judged.duplicates, judged.conflicts
    else:
        kept, dups, conflicts = good, good.clear(), good.clear()
        kept = kept.with_columns(_raw_of_repeated_keys(good, spec, list(record.key)))
        carried.append("raw")

    quarantine = pl.concat(
        [
            pre_bad.select(
                "source_file",
                "source_row",
                column=pl.col("_parse").struct.field("column"),
                reason=pl.col("_parse").struct.field("reason"),
                raw=_raw_json(spec),
                _amount=_amount(spec),
            ),
            bad_rows.select(
                "source_file",
                "source_row",
                "column",
                "reason",
                raw=_raw_json(spec),
                _amount=_amount(spec),
            ),
            conflicts.select(
                "source_file",
                "source_row",
                column=pl.lit(spec.key[0]),
                reason=pl.lit("conflicting_duplicate"),
                raw=_raw_json(spec),
                _amount=_amount(spec),
            ),
        ]
    ).sort("source_row")
    accepted = kept.select(*targets, "source_file", "source_row", *carried)
    stats = FileStats(
        file=path.name,
        kind=header.kind,
        sha256=grid.sha256,
        encoding=grid.encoding,
        header_row=int(grid.rows[header.index]),
        rows_read=raw.height,
        rows_accepted=accepted.height,
        rows_quarantined=quarantine.height,
        rows_duplicate=dups.height,
        money_read_fen=_sum(typed, spec),
        money_accepted_fen=_sum(accepted, spec),
        money_quarantined_fen=int(quarantine["_amount"].cast(pl.Int128).sum() or 0),
        money_duplicate_fen=_sum(dups, spec),
        quarantined_by_reason=dict(sorted(Counter(quarantine["reason"].to_list()).items())),
        totals_row=totals.row,
        totals_fen=totals.amount_fen,
        totals_check=_totals_check(totals.amount_fen, _sum(typed, spec)),
        extra_columns=header.extra,
        rows_without_paid_date=_without_paid_date(accepted),
    )
    titles = grid.cells.row(header.index)
    return InputResult(
        accepted=accepted,
        quarantine=quarantine.drop("_amount"),
        duplicates=dups.select(*targets, "source_file", "source_row"),
        stats=stats,
        headers={n: str(titles[int(g[1:])]).strip() for g, n in header.columns.items()},
    )
