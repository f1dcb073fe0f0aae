"""The auditors' workbook, report.xlsx (SPEC §5).

Chinese sheet and column names (English with lang="en"), money in yuan with two
decimals, one sheet per output table, a totals overview and the run manifest.
"""

from dues.report.cells import fen_to_yuan
from dues.report.labels import COLUMNS, SHEETS, VALUES
from dues.report.workbook import write_report

__all__ = ["COLUMNS", "SHEETS", "VALUES", "fen_to_yuan", "write_report"]
