"""Periods and the cost model that turns revenue into customer profit.

Profit needs costs that most transaction logs (CDNOW among them) do not hold, so
every cost is an explicit, stated assumption of :class:`CostModel`:

``profit = gross margin - cost_per_order * orders - cost_per_customer_year * years served``

where the gross margin is ``amount - cost`` when the transactions carry a ``cost``
column (the direct cost of each order) and ``margin * amount`` otherwise, and
"years served" is the number of days of the period ``(start, end]`` from the
customer's first purchase on (that day included), in years of 365.25 days.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from crmlab.costs import CostModel
from crmlab.errors import DataError
from crmlab.units import DAYS_PER_YEAR

_LENGTH = re.compile(r"^\s*(\d+)\s*([DWMQY])\s*$", re.IGNORECASE)


def parse_length(length: str | int | pd.DateOffset) -> pd.DateOffset:
    """A period length such as ``"3M"``, ``"13W"``, ``"1Y"``, ``"90D"`` or days as an int."""
    if isinstance(length, pd.DateOffset):
        return length
    if isinstance(length, int | np.integer) and not isinstance(length, bool):
        if length <= 0:
            raise DataError(f"parameter 'length' is {length}; give a positive number of days.")
        return pd.DateOffset(days=int(length))
    match = _LENGTH.match(str(length))
    if match is None or int(match.group(1)) <= 0:
        raise DataError(
            f"parameter 'length' is {length!r}; give a positive count and a unit, "
            "e.g. '3M' (months), '13W' (weeks), '1Y' (years), '90D' (days)."
        )
    n, unit = int(match.group(1)), match.group(2).upper()
    key = {"D": "days", "W": "weeks", "M": "months", "Q": "months", "Y": "years"}[unit]
    return pd.DateOffset(**{key: n * 3 if unit == "Q" else n})


def period_bounds(end: str | pd.Timestamp, length: str | int | pd.DateOffset) -> tuple:
    """``(start, end)`` of the period ``start < date <= end`` (dates compared by day).

    ``end`` is the last day of the period (inclusive); ``start`` = ``end - length``
    is the last day of the previous period, so consecutive periods tile the calendar:
    ``end="1997-03-31", length="3M"`` is 1 January to 31 March 1997. When ``end`` is a
    month end and the length is in months or years, ``start`` is a month end too
    (``end="1997-06-30"`` gives ``start="1997-03-31"``).
    """
    try:
        stop = pd.Timestamp(end).normalize()
    except (ValueError, TypeError) as exc:
        raise DataError(f"parameter 'end' is {end!r}; give a date like '1997-12-31'.") from exc
    offset = parse_length(length)
    return _snap(stop - offset, stop, offset), stop


def _snap(day: pd.Timestamp, anchor: pd.Timestamp, offset: pd.DateOffset) -> pd.Timestamp:
    """Month arithmetic keeps month ends: 30 June - 3 months = 31 March, not 30 March."""
    monthly = any(k in offset.kwds for k in ("months", "years"))
    if monthly and anchor.is_month_end:
        return day + pd.offsets.MonthEnd(0)
    return day


def period_ends(
    first_end: str | pd.Timestamp, length: str | int | pd.DateOffset, n_periods: int
) -> list[pd.Timestamp]:
    """Ends of ``n_periods`` consecutive periods of ``length``, the first ending ``first_end``
    (month ends stay month ends: 1997-03-31, 1997-06-30, 1997-09-30, 1997-12-31 ...)."""
    if not isinstance(n_periods, int | np.integer) or n_periods < 1:
        raise DataError(
            f"parameter 'n_periods' is {n_periods!r}; give a whole number of 1 or more."
        )
    first = period_bounds(first_end, length)[1]
    offset = parse_length(length)
    return [_snap(first + k * offset, first, offset) for k in range(n_periods)]


def check_transactions(transactions: pd.DataFrame, columns: tuple[str, ...] = ()) -> None:
    """Raise :class:`DataError` when required transaction columns are missing."""
    need = ("customer_id", "date", "amount", *columns)
    missing = [c for c in need if c not in transactions.columns]
    if missing:
        raise DataError(
            f"transactions lack column(s) {missing}; have {list(transactions.columns)}. "
            "Load them with crmlab.load_source or rename the columns."
        )
    if not pd.api.types.is_datetime64_any_dtype(transactions["date"]):
        raise DataError(
            "column 'date' is not a datetime column; validate the transactions with "
            "crmlab.validate_transactions first."
        )


def check_overlap(transactions: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> None:
    """Raise :class:`DataError` when the period ``(start, end]`` misses the data entirely."""
    if len(transactions) == 0:
        raise DataError("transactions are empty: 0 rows; give at least one purchase.")
    first, last = transactions["date"].min(), transactions["date"].max()
    if end < first.normalize() or start >= last.normalize():
        raise DataError(
            f"the period {start.date()} (excluded) to {end.date()} does not overlap the "
            f"data, which run from {first.date()} to {last.date()}; choose an end date "
            "and length inside the data."
        )


def customer_profit(
    transactions: pd.DataFrame,
    costs: CostModel | None = None,
    *,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Revenue, costs and profit of every customer who bought in ``start < date <= end``.

    Parameters
    ----------
    transactions : DataFrame
        ``customer_id``, ``date``, ``amount`` and optionally ``cost``.
    costs : CostModel, optional
        The cost assumptions (default: 30% margin, no serving costs).
    start, end : timestamp, optional
        Period bounds (``start`` excluded, ``end`` included, by day); default: all data.
        The period's serving cost runs from ``start`` (default: the day before the
        first purchase in the data) to ``end`` (default: the last purchase day).

    Returns
    -------
    DataFrame
        Indexed by ``customer_id`` (customers with at least one order in the period):
        ``orders``, ``revenue``, ``gross_margin``, ``order_costs``, ``customer_costs``,
        ``profit`` (= gross_margin - order_costs - customer_costs), ``first_purchase``
        (first purchase ever, any period), ``years_served``.
    """
    costs = costs or CostModel()
    check_transactions(transactions)
    day = transactions["date"].dt.normalize()
    lo = day.min() - pd.Timedelta(days=1) if start is None else pd.Timestamp(start).normalize()
    hi = day.max() if end is None else pd.Timestamp(end).normalize()
    first = transactions.groupby("customer_id", sort=True)["date"].min().dt.normalize()
    inside = (day > lo) & (day <= hi)
    tx = transactions.loc[inside]
    use_cost = costs.use_cost_column and "cost" in tx.columns
    direct = tx["cost"].to_numpy(float) if use_cost else (1 - costs.margin) * tx["amount"]
    frame = pd.DataFrame(
        {
            "customer_id": tx["customer_id"].to_numpy(),
            "revenue": tx["amount"].to_numpy(float),
            "gross_margin": tx["amount"].to_numpy(float) - np.asarray(direct, float),
        }
    )
    grouped = frame.groupby("customer_id", sort=True)
    out = grouped.agg(revenue=("revenue", "sum"), gross_margin=("gross_margin", "sum"))
    out.insert(0, "orders", grouped.size().astype(int))
    out["first_purchase"] = first.reindex(out.index)
    # periods are (start, end]: a customer first seen on day d is served from d - 1 day,
    # just as a period starting on day d has start = d - 1; so the first day counts
    joined = out["first_purchase"] - pd.Timedelta(days=1)
    served_from = joined.where(joined > lo, lo)
    years = (hi - served_from).dt.days / DAYS_PER_YEAR
    out["years_served"] = years.astype(float)
    out["order_costs"] = costs.cost_per_order * out["orders"]
    out["customer_costs"] = costs.cost_per_customer_year * out["years_served"]
    out["profit"] = out["gross_margin"] - out["order_costs"] - out["customer_costs"]
    return out[
        [
            "orders",
            "revenue",
            "gross_margin",
            "order_costs",
            "customer_costs",
            "profit",
            "first_purchase",
            "years_served",
        ]
    ]


def last_period_ends(
    transactions: pd.DataFrame, length: str | int | pd.DateOffset, n_periods: int
) -> list[pd.Timestamp]:
    """Ends of the last ``n_periods`` complete periods of ``length`` in the data.

    With a length in months or years the periods end on month ends and the last one on
    the last month end on or before the last purchase day (a month the data cover only
    in part is left out); otherwise the last period ends on the last purchase day.
    """
    check_transactions(transactions)
    if len(transactions) == 0:
        raise DataError("transactions are empty: 0 rows; give at least one purchase.")
    offset = parse_length(length)
    last = transactions["date"].max().normalize()
    if any(k in offset.kwds for k in ("months", "years")) and not last.is_month_end:
        last = last - pd.offsets.MonthEnd(1)
    if not isinstance(n_periods, int | np.integer) or n_periods < 1:
        raise DataError(
            f"parameter 'n_periods' is {n_periods!r}; give a whole number of 1 or more."
        )
    first = _snap(last - (n_periods - 1) * offset, last, offset)
    return period_ends(first, offset, n_periods)
