"""The errors of report making: one family, all :class:`crmlab.errors.DataError`."""

from __future__ import annotations

from crmlab.errors import DataError


class ReportError(DataError):
    """A report could not be made: bad parameters, a failing cell, no such notebook."""


class ParameterError(ReportError):
    """Unknown parameter names or values of the wrong type; raised before anything runs."""


class ExecutionError(ReportError):
    """A cell of the notebook failed; the partly executed notebook is kept."""
