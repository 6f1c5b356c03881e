"""The one error type crmlab raises for bad input."""

from __future__ import annotations


class DataError(ValueError):
    """Input data or parameters that crmlab cannot use.

    The message names the column (or parameter), how many rows are affected, the
    first offending row and value, and what to do about it.
    """
