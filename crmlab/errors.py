"""The one error type crmlab raises for bad input.

The rules that raise it live in :mod:`crmlab.checks`; ``require_columns`` is
importable from here too (``from crmlab.errors import DataError, require_columns``).
"""

from __future__ import annotations

from typing import Any


class DataError(ValueError):
    """Input data or parameters that crmlab cannot use.

    The message names the column (or parameter), how many rows are affected, the
    first offending row and value, and what to do about it.
    """


def __getattr__(name: str) -> Any:
    # the rules live in crmlab.checks, which imports DataError from here: resolve late
    if name == "require_columns":
        from crmlab.checks import require_columns

        return require_columns
    raise AttributeError(f"module 'crmlab.errors' has no attribute {name!r}")
