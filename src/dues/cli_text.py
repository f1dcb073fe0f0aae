"""What `dues run` and `dues rerun` say, in the workbook's language (`--lang zh|en`).

One table, `TEXTS`: each text once, Chinese and English side by side, in the words the
workbook uses (dues.report.labels). `say(key, lang, **values)` fills one in. Rich markup
([bold] …) is part of the text; the values are filled in escaped by the caller.
"""

from __future__ import annotations

from typing import Literal

Lang = Literal["zh", "en"]

TEXTS: dict[str, tuple[str, str]] = {
    # The run's summary table (print_summary).
    "summary.title": (
        "工会经费 {period}(月份 {start} … {period})",
        "dues {period} (months {start} … {period})",
    ),
    "summary.yuan": ("元", "yuan"),
    "summary.expected": ("应缴合计(已到期月份)", "expected (due months)"),
    "summary.paid": ("实缴合计", "paid"),
    "summary.arrears": ("欠缴合计", "arrears"),
    "summary.credit": ("多缴合计", "credit"),
    "summary.returnable": ("可返还筹备金", "preparatory-fund returns"),
    "summary.unmatched": ("未匹配税票", "unmatched receipts"),
    "summary.unmatched_value": ("{lines} 行 · {money}", "{lines} · {money}"),
    "summary.quarantined": ("隔离记录行数", "quarantined rows"),
    "summary.drive": ("待推动建会", "founding drive"),
    "summary.drive_value": ("{units} 个单位", "{units} units"),
    "summary.report": ("报表：[bold]{path}[/]", "report: [bold]{path}[/]"),
    # The lines around it.
    "ledger.empty": (
        "台账：{url} — 空：这是它的第一次运行",
        "ledger: {url} — empty: this is its first run",
    ),
    "ledger.runs": (
        "台账：{url} — {runs} 次运行，期间 {first} … {last}",
        "ledger: {url} — {runs} run(s), periods {first} … {last}",
    ),
    "stale": (
        "[bold yellow]过时：[/]{periods} — 在本次 {period} 运行之前生成；"
        "用 `dues rerun --from {first}` 重新生成",
        "[bold yellow]stale:[/] {periods} — derived before this run of {period}; "
        "re-derive with `dues rerun --from {first}`",
    ),
    "conflicts": (
        "[bold yellow]冲突：[/]{rows} 行隔离记录与 {runs} 保留的记录矛盾，那些运行在先"
        "(SPEC §3：保留最先接受的记录)；见 quarantine.parquet",
        "[bold yellow]conflicts:[/] {rows} quarantined line(s) contradict lines kept by "
        "{runs}, which ran first (SPEC §3: the first accepted line is kept); "
        "see quarantine.parquet",
    ),
    "conflicts.run": ("{period} 的运行 {run}", "run {run} of {period}"),
    # `dues rerun`.
    "rerun.done": (
        "{period}：已重新生成，运行 {run} — 应缴 {expected}，实缴 {paid}，"
        "欠缴 {arrears} 元；{report}",
        "{period}: re-derived as run {run} — expected {expected}, paid {paid}, "
        "arrears {arrears} yuan; {report}",
    ),
    "rerun.still_stale": ("仍然过时：{periods}", "still stale: {periods}"),
    "rerun.period": ("重新生成 {period}", "re-deriving {period}"),
    # The stages as the progress display names them beside their names (dues.run.STAGES).
    "stage.ingest": ("读取并校验输入文件", "reading and checking the input files"),
    "stage.restage": ("取出该期已存的记录", "taking the period's stored lines"),
    "stage.merge-with-ledger": ("与台账合并", "merging with the ledger"),
    "stage.reconcile": ("按规则核算", "applying the rules"),
    "stage.manifest": ("核对守恒，写 run.json", "checking conservation, writing run.json"),
    "stage.report-and-commit": ("写报表，提交台账", "writing the workbook, committing the ledger"),
    "stage.publish": ("发布结果", "publishing the outputs"),
    "stage.seconds": ("{seconds:.1f} 秒", "{seconds:.1f} s"),
    "stage.failed": ("失败", "failed"),
}


def say(key: str, lang: Lang, /, **values: object) -> str:
    """The text `key` in `lang`, its {fields} filled with `values`."""
    zh, en = TEXTS[key]
    return (zh if lang == "zh" else en).format(**values)


def stage_label(name: str, lang: Lang) -> str:
    """What a stage does, in words; a stage the table does not know, by its name only."""
    key = f"stage.{name}"
    return say(key, lang) if key in TEXTS else ""
