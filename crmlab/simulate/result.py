"""The one return type of every simulator: the data, the truth and the parameters."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from crmlab.errors import DataError


@dataclass
class SimulatedData:
    """Simulated tables plus the truth that generated them.

    Tables are also attributes: ``sim.transactions`` is ``sim.tables["transactions"]``.

    Attributes
    ----------
    tables : dict of str -> DataFrame
        The data as a firm would see them.
    truth : DataFrame or None
        Known answers (per customer, per record, ...).
    params : dict
        The parameters the data were generated with.
    """

    tables: dict[str, pd.DataFrame]
    truth: pd.DataFrame | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> pd.DataFrame:
        tables = self.__dict__.get("tables", {})
        if name in tables:
            return tables[name]
        raise AttributeError(f"no table or attribute {name!r}; tables: {sorted(tables)}")


def check_count(name: str, value: int, minimum: int = 1) -> int:
    """``value`` as an int, or a DataError if it is not a whole number >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise DataError(f"parameter {name!r} is {value!r}; give a whole number >= {minimum}.")
    return int(value)


def check_positive(**values: float) -> None:
    """DataError naming the first parameter that is not a finite positive number."""
    for name, value in values.items():
        if not np.isfinite(value) or value <= 0:
            raise DataError(f"parameter {name!r} is {value!r}; give a positive number.")


def check_fraction(**values: float) -> None:
    """DataError naming the first parameter outside [0, 1]."""
    for name, value in values.items():
        if not 0.0 <= value <= 1.0:
            raise DataError(f"parameter {name!r} is {value!r}; give a number in [0, 1].")
