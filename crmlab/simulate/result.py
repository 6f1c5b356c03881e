"""The one return type of every simulator: the data, the truth and the parameters."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

# the simulators' parameter checks live with every other rule, in crmlab.checks
from crmlab.checks import check_count, check_fraction, check_positive

__all__ = ["SimulatedData", "check_count", "check_fraction", "check_positive"]


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
