"""Arrears notices (催缴通知书, SPEC §5 `dues notices`): who gets one, for which months.

A unit gets a notice for period P when the arrears of P's completed run
(arrears.parquet, kept in the ledger as `result_arrears`) list it with arrears of at
least the chosen minimum. Its months outstanding are those of its statement
(`dues.statement`): the months whose arrears (rule 8) make up that figure, each with
expected, paid and owed. The two are checked against each other to the fen, and a
stale period (its outputs derived before a later run of an earlier period) is
refused: a notice must not claim money the ledger no longer says is owed.

Every text of a notice comes from a template (config/notice.toml): the federation's
name and contact, the pay-by days, the title and paragraphs with {placeholders}.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, model_validator

from dues.statement import Statement, StatementError, StatementRun, completed_run, load_statement
from dues.store import Store
from dues.summary import yuan
from dues.tomlconfig import load_toml_model


def _default_template_path() -> Path:
    """config/notice.toml of the source tree, else the copy a wheel ships (see setup.py)."""
    here = Path(__file__).resolve().parent
    source = here.parents[1] / "config" / "notice.toml"
    return source if source.is_file() else here / "defaults" / "notice.toml"


DEFAULT_TEMPLATE_PATH = _default_template_path()
PLACEHOLDERS = ("federation", "address", "phone", "unit_name", "uscc", "jurisdiction", "period",
                "as_of", "issued", "pay_by", "total_yuan", "months_outstanding",
                "oldest_period")  # fmt: skip


class NoticeTemplate(BaseModel):
    """config/notice.toml: every word a notice prints but the figures."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    federation: str
    address: str
    phone: str
    pay_by_days: int = Field(ge=0, le=365)
    title: str
    salutation: str
    opening: tuple[str, ...]
    closing: tuple[str, ...]
    legal_basis_title: str
    legal_basis: tuple[str, ...]
    contact: str
    signature: str

    @model_validator(mode="after")
    def _known_placeholders(self) -> NoticeTemplate:
        for name, text in self.texts():
            for _, field, spec, conversion in string.Formatter().parse(text):
                if field is not None and (field not in PLACEHOLDERS or spec or conversion):
                    raise ValueError(
                        f"{name}: unknown placeholder {{{field}}}; known: "
                        + ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)
                    )
        return self

    def texts(self) -> list[tuple[str, str]]:
        """(key, text) of every text that may hold placeholders."""
        out = [(k, getattr(self, k)) for k in ("title", "salutation", "contact", "signature")]
        for key in ("opening", "closing", "legal_basis"):
            out += [(f"{key}[{i}]", t) for i, t in enumerate(getattr(self, key))]
        return out


def load_template(path: Path | None = None) -> NoticeTemplate:
    """The notice template at `path` (default: config/notice.toml); one-line errors."""
    try:
        return load_toml_model(path or DEFAULT_TEMPLATE_PATH, NoticeTemplate, "notice template")
    except ValueError as exc:
        raise StatementError(str(exc)) from exc


@dataclass(frozen=True)
class Notice:
    """One unit's notice: who, the months outstanding (period, fund, expected_fen,
    paid_fen, owed_fen, due_date, days_past_due) and their total."""

    uscc: str
    name: str
    jurisdiction: str
    months: pl.DataFrame
    total_fen: int

    def fields(self, run: StatementRun, template: NoticeTemplate, issued: date) -> dict[str, str]:
        """The placeholders' values for this notice."""
        return {
            "federation": template.federation,
            "address": template.address,
            "phone": template.phone,
            "unit_name": self.name,
            "uscc": self.uscc,
            "jurisdiction": self.jurisdiction,
            "period": run.period,
            "as_of": chinese_date(run.as_of),
            "issued": chinese_date(issued),
            "pay_by": chinese_date(issued + timedelta(days=template.pay_by_days)),
            "total_yuan": yuan(self.total_fen),
            "months_outstanding": str(self.months.height),
            "oldest_period": str(self.months["period"].min()),
        }


def chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def fill(text: str, fields: Mapping[str, str]) -> str:
    """`text` with its placeholders filled (the template checked they are known)."""
    return text.format_map(fields)


@dataclass(frozen=True)
class NoticeBatch:
    """The notices of one period, by jurisdiction (sorted), each list by uscc."""

    run: StatementRun
    by_jurisdiction: dict[str, list[Notice]]

    @property
    def count(self) -> int:
        return sum(len(n) for n in self.by_jurisdiction.values())


def notices_of_statement(statement: Statement, owing: pl.DataFrame) -> list[Notice]:
    """The notices of the units of `owing` (uscc, name, jurisdiction, arrears_fen: rows of
    the run's arrears), their months from `statement`; checked to agree to the fen."""
    months = statement.months.filter(pl.col("owed_fen") > 0)
    notices = []
    for unit in owing.sort("uscc").iter_rows(named=True):
        mine = months.filter(pl.col("uscc") == unit["uscc"]).select(
            "period",
            "fund",
            "expected_fen",
            "paid_fen",
            "owed_fen",
            "due_date",
            "days_past_due",
        )
        total = int(mine["owed_fen"].sum() or 0)
        if total != unit["arrears_fen"]:
            raise StatementError(
                f"unit {unit['uscc']}: its months owe {yuan(total)} yuan but the run's arrears "
                f"say {yuan(unit['arrears_fen'])}; no notice was written"
            )
        notices.append(Notice(unit["uscc"], unit["name"], unit["jurisdiction"], mine, total))
    return notices


def select_notices(
    store: Store,
    period: str,
    *,
    min_arrears_fen: int = 1,
    jurisdictions: Sequence[str] | None = None,
    config: Path | None = None,
    say: Callable[[str], None] = print,
) -> NoticeBatch:
    """The notices of `period`: its run's units with arrears ≥ `min_arrears_fen` (and at
    least 1 fen), of `jurisdictions` if given (see the module)."""
    run = completed_run(store, period)
    if run["stale_since"] is not None:
        raise StatementError(
            f"the outputs of {period} are stale (a run of an earlier period committed after "
            f"its run); re-derive them with `dues rerun --from {period}` before printing notices"
        )
    owing = store.load_results("arrears", period).filter(
        pl.col("arrears_fen") >= max(min_arrears_fen, 1)
    )
    if jurisdictions:
        owing = owing.filter(pl.col("jurisdiction").is_in(list(jurisdictions)))
    if owing.is_empty():
        as_of = run["as_of"]
        assert isinstance(as_of, date)
        nobody = StatementRun(str(run["run_id"]), period, as_of, "", str(run["config_hash"]),
                              stale=False, ledger=store.url)  # fmt: skip
        return NoticeBatch(nobody, {})
    statement = load_statement(
        store,
        period=period,
        usccs=owing["uscc"].to_list(),
        config=config,
        say=say,
    )
    notices = notices_of_statement(statement, owing)
    grouped: dict[str, list[Notice]] = {}
    for notice in notices:
        grouped.setdefault(notice.jurisdiction, []).append(notice)
    return NoticeBatch(statement.run, dict(sorted(grouped.items())))
