"""crmlab: customer relationship management analytics for research and teaching.

The flow is one way: ``crmlab.data`` (load and validate transactions) ->
``crmlab.summary`` (one row per customer) -> ``crmlab.models`` (probability
models) -> value, segments, share and studies -> plots, widgets and reports.

Submodules are imported on first use, so ``import crmlab`` stays fast and
``crmlab.models.BGNBD`` works without an explicit ``import crmlab.models``.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from crmlab.data import (
    DataReport,
    dataset_path,
    list_datasets,
    load_dataset,
    load_source,
    read_transactions,
    validate_transactions,
)
from crmlab.errors import DataError

try:
    __version__ = version("crmlab")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

_LAZY_FUNCTIONS = {"rfm_summary": "crmlab.summary"}

__all__ = [
    "DataError",
    "DataReport",
    "dataset_path",
    "list_datasets",
    "load_dataset",
    "load_source",
    "read_transactions",
    "rfm_summary",
    "validate_transactions",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY_FUNCTIONS:
        return getattr(importlib.import_module(_LAZY_FUNCTIONS[name]), name)
    try:
        module = importlib.import_module(f"crmlab.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"crmlab.{name}":
            raise
        raise AttributeError(f"module 'crmlab' has no attribute {name!r}") from None
    globals()[name] = module
    return module
