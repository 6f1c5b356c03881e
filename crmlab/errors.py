"""The one error type crmlab raises for bad input."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class DataError(ValueError):
    """Input data or parameters that crmlab cannot use.

    The message names the column (or parameter), how many rows are affected, the
    first offending row and value, and what to do about it.
    """


def require_columns(frame: Any, columns: Sequence[str], what: str) -> None:
    """Raise :class:`DataError` unless ``frame`` is a DataFrame with every one of ``columns``.

    The message names the missing columns, the ones there are, and the fix.
    """
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"{what} must be a pandas DataFrame, got {type(frame).__name__}.")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(
            f"{what} lacks column(s) {', '.join(map(repr, missing))}; it has "
            f"{', '.join(map(repr, map(str, frame.columns)))}. "
            "Rename your columns or pass the right names as arguments."
        )
