"""The cost model: one home for the assumptions that turn revenue into profit.

Most transaction logs (CDNOW among them) hold no costs, so every cost is an explicit,
stated assumption that segments and studies alike receive as one :class:`CostModel`:

.. math:: \\text{profit} = \\text{gross margin} - c_o \\cdot \\text{orders}
    - c_y \\cdot \\text{years as a customer}

with the gross margin ``amount - cost`` when the transactions carry a ``cost`` column
(the direct cost of each order) and ``margin * amount`` otherwise. What "years as a
customer" means is the caller's: the value-tier analysis charges the calendar time
since the first purchase, the loyalty study the estimated lifetime (Reinartz & Kumar
2000 charge marketing for as long as a customer is thought to be alive).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crmlab import units
from crmlab.errors import DataError


@dataclass(frozen=True)
class CostModel:
    """Assumed costs that turn revenue into profit.

    Parameters
    ----------
    margin : float
        Gross margin on revenue, in [0, 1], used when the data have no ``cost``
        column (or ``use_cost_column`` is False).
    cost_per_order : float
        Cost of handling one order (picking, shipping, payment), in currency units.
    cost_per_customer_year : float
        Cost of keeping one customer for a year (service, mailings, catalogues, account),
        charged pro rata for the time the customer counts as a customer.
    use_cost_column : bool
        Take the direct cost of each order from a ``cost`` column when there is one.
    """

    margin: float = 0.30
    cost_per_order: float = 0.0
    cost_per_customer_year: float = 0.0
    use_cost_column: bool = True

    def __post_init__(self) -> None:
        if not _is_number(self.margin) or not 0.0 <= self.margin <= 1.0:
            raise DataError(
                f"parameter 'margin' is {self.margin!r}; give the gross margin as a "
                "fraction of revenue between 0 and 1 (e.g. 0.3 for 30%)."
            )
        for name in ("cost_per_order", "cost_per_customer_year"):
            value = getattr(self, name)
            if not _is_number(value) or value < 0:
                raise DataError(
                    f"parameter {name!r} is {value!r}; give a cost of zero or more "
                    "in currency units."
                )

    def cost_per_customer(self, unit: str) -> float:
        """The cost of keeping one customer for one period of ``unit`` (``"W"``: a week)."""
        return self.cost_per_customer_year / units.periods_per_year(unit)

    @classmethod
    def per_period(
        cls, margin: float, cost_per_order: float, cost_per_customer: float, unit: str, **kw
    ) -> CostModel:
        """A cost model from a cost per customer and period of ``unit`` (e.g. per week)."""
        if not _is_number(cost_per_customer) or cost_per_customer < 0:
            raise DataError(
                f"cost per customer and period is {cost_per_customer!r}; give zero or more."
            )
        yearly = cost_per_customer * units.periods_per_year(unit)
        return cls(margin, cost_per_order, yearly, **kw)

    def describe(self) -> dict[str, str]:
        """The assumptions in words, for a report's method table."""
        return {
            "gross margin": f"{self.margin:.0%} of revenue"
            + (" (or the recorded cost of goods)" if self.use_cost_column else ""),
            "cost per order": f"${self.cost_per_order:,.2f}",
            "cost per customer and year": f"${self.cost_per_customer_year:,.2f}",
        }


def _is_number(value: object) -> bool:
    return (
        isinstance(value, int | float | np.integer | np.floating)
        and not isinstance(value, bool)
        and bool(np.isfinite(value))
    )
