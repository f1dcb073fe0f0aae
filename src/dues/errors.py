"""What a clerk sees of a failure, and which failures are worth trying again.

An expected failure (a file that cannot be used, a refused argument, a ledger that
cannot be opened) reaches the clerk as one line. `one_line` makes any message that:
a file name may hold a newline or a terminal escape sequence (`a\\nb.csv`,
`\\x1b[31m.csv`), and echoed raw it would split the line or recolour the terminal,
so every character that is not printable is shown as Python's repr shows it.

`is_transient` is the retry policy of the Prefect tasks: only a failure that can pass
by itself (an I/O error on a network share, a dropped database connection) is tried
again; a deterministic one (no such file, a PDF named .xlsx, a missing column) never
is, since the retry would fail the same way, only later.
"""

from __future__ import annotations

import unicodedata

# I/O errors that say something about the path itself: trying again changes nothing.
_DETERMINISTIC_OS_ERRORS = (
    FileNotFoundError,
    FileExistsError,
    IsADirectoryError,
    NotADirectoryError,
    PermissionError,
)


def _shown(ch: str) -> str:
    if ch.isprintable() or unicodedata.category(ch) == "Zs":  # full-width spaces stay
        return ch
    return repr(ch)[1:-1]  # '\n' -> '\\n', '\x1b' -> '\\x1b', '\u202e' -> '\\u202e'


def one_line(text: str) -> str:
    """`text` with every non-printable character escaped as repr would escape it."""
    if text.isprintable():  # the usual case: nothing to do
        return text
    return "".join(_shown(ch) for ch in text)


def is_transient(error: BaseException) -> bool:
    """Whether `error`, or an error it was raised from, may pass if tried again."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and not isinstance(current, _DETERMINISTIC_OS_ERRORS):
            return True
        if getattr(current, "connection_invalidated", False):  # SQLAlchemy: link dropped
            return True
        # The chain a traceback would show: the explicit cause, else the context.
        if current.__cause__ is not None or current.__suppress_context__:
            current = current.__cause__
        else:
            current = current.__context__
    return False
