"""The customer-profitability whale curve (Kaplan & Narayanan, "Measuring and managing
customer profitability", *Journal of Cost Management*, 2001; Cooper & Kaplan 1991).

Customers are ranked from most to least profitable; the curve plots cumulative
profit, as a percentage of total profit, against the cumulative share of customers.
It rises above 100% (the "hump": profit earned by the profitable customers), then the
loss-making customers pull it back down to exactly 100% at the right end. Typical
published hump heights are 150-300% of total profit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from crmlab.errors import DataError
from crmlab.segments.profit import CostModel, customer_profit


def _profit(profit: pd.Series) -> np.ndarray:
    p = pd.Series(profit, dtype=float)
    if len(p) == 0:
        raise DataError("no customers to draw a whale curve for: the profit series is empty.")
    if p.isna().any():
        first = p.index[np.flatnonzero(p.isna().to_numpy())[0]]
        raise DataError(
            f"profit has {int(p.isna().sum())} missing value(s), first for customer {first!r}."
        )
    return np.sort(p.to_numpy())[::-1]


def whale_curve(profit: pd.Series) -> pd.DataFrame:
    """Cumulative profit by customer rank (most profitable first).

    Returns
    -------
    DataFrame
        One row per customer plus a leading origin row (0, 0): ``customers`` (count so
        far), ``customer_share`` (0..1), ``cumulative_profit`` and ``cumulative_share``
        (cumulative profit / total profit, NaN when total profit is 0; ends at 1).
    """
    p = _profit(profit)
    cum = np.concatenate([[0.0], np.cumsum(p)])
    total = cum[-1]
    n = len(p)
    k = np.arange(n + 1)
    share = cum / total if total != 0 else np.full(n + 1, np.nan)
    if total != 0:
        share[-1] = 1.0
    return pd.DataFrame(
        {
            "customers": k,
            "customer_share": k / n,
            "cumulative_profit": cum,
            "cumulative_share": share,
        }
    )


def whale_summary(profit: pd.Series) -> pd.Series:
    """Key numbers of the whale curve.

    Returns
    -------
    Series
        ``customers``, ``total_profit``, ``peak_profit`` (highest cumulative profit),
        ``peak_share`` (peak / total; NaN unless total profit > 0), ``peak_at`` (share of
        customers at the peak: the profitable ones), ``share_unprofitable`` (profit < 0),
        ``share_zero`` (profit exactly 0), ``profit_destroyed`` (sum of negative profits,
        as a positive number).
    """
    p = _profit(profit)
    cum = np.cumsum(p)
    peak = int(np.argmax(cum))
    total = float(cum[-1])
    return pd.Series(
        {
            "customers": float(len(p)),
            "total_profit": total,
            "peak_profit": float(cum[peak]),
            "peak_share": float(cum[peak] / total) if total > 0 else np.nan,
            "peak_at": (peak + 1) / len(p),
            "share_unprofitable": float(np.mean(p < 0)),
            "share_zero": float(np.mean(p == 0)),
            "profit_destroyed": float(-p[p < 0].sum()),
        }
    )


def whale_sensitivity(
    transactions: pd.DataFrame,
    costs: CostModel,
    parameter: str,
    values: Sequence[float],
    *,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """:func:`whale_summary` for each value of one cost assumption.

    Parameters
    ----------
    costs : CostModel
        The base assumptions.
    parameter : {"margin", "cost_per_order", "cost_per_customer_year"}
        The assumption to vary.
    values : sequence of float
        Values to try.

    Returns
    -------
    DataFrame indexed by the parameter value, columns as :func:`whale_summary`.
    """
    allowed = ("margin", "cost_per_order", "cost_per_customer_year")
    if parameter not in allowed:
        raise DataError(f"parameter 'parameter' is {parameter!r}; use one of {allowed}.")
    if parameter == "margin" and costs.use_cost_column and "cost" in transactions.columns:
        raise DataError(
            "the transactions have a 'cost' column, so 'margin' has no effect; vary "
            "cost_per_order or cost_per_customer_year, or set use_cost_column=False."
        )
    rows = {}
    for value in values:
        varied = replace(costs, **{parameter: float(value)})
        profit = customer_profit(transactions, varied, start=start, end=end)["profit"]
        rows[float(value)] = whale_summary(profit)
    out = pd.DataFrame(rows).T
    out.index.name = parameter
    return out


def whale_grid(
    transactions: pd.DataFrame,
    costs: CostModel,
    cost_per_order: Sequence[float],
    cost_per_customer_year: Sequence[float],
    *,
    statistic: str = "peak_share",
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """A :func:`whale_summary` statistic of historical profit over both serving costs.

    Profit is :func:`customer_profit` with ``costs``' margin and each pair
    (cost per order, cost per customer-year): ``gross margin - c_o orders - c_y years``.

    Returns
    -------
    DataFrame
        Index ``cost_per_order``, columns ``cost_per_customer_year``, cells ``statistic``
        (e.g. ``"peak_share"``, ``"share_unprofitable"``).
    """
    base = customer_profit(
        transactions,
        replace(costs, cost_per_order=0.0, cost_per_customer_year=0.0),
        start=start,
        end=end,
    )
    if statistic not in whale_summary(base["profit"]).index:
        raise DataError(
            f"parameter 'statistic' is {statistic!r}; use one of "
            f"{list(whale_summary(base['profit']).index)}."
        )
    grid = {}
    for co in cost_per_order:
        row = {}
        for cy in cost_per_customer_year:
            if co < 0 or cy < 0:
                raise DataError(f"costs must be zero or more, got {co!r} and {cy!r}.")
            profit = base["gross_margin"] - co * base["orders"] - cy * base["years_served"]
            row[float(cy)] = float(whale_summary(profit)[statistic])
        grid[float(co)] = row
    out = pd.DataFrame(grid).T
    out.index.name, out.columns.name = "cost_per_order", "cost_per_customer_year"
    return out


WHALE_ROWS = {
    "customers": ("customers", "{:,.0f}"),
    "total_profit": ("total profit ($)", "{:,.0f}"),
    "peak_profit": ("peak cumulative profit ($)", "{:,.0f}"),
    "peak_share": ("peak (% of total profit)", "{:.0%}"),
    "peak_at": ("customers at the peak (%)", "{:.1%}"),
    "share_unprofitable": ("customers losing money (%)", "{:.1%}"),
    "profit_destroyed": ("profit lost on loss-makers ($)", "{:,.0f}"),
}


def whale_table(**stats: pd.Series) -> pd.DataFrame:
    """Whale-curve summaries side by side, formatted for a report (one column per
    keyword: ``whale_table(CDNOW=..., **{"simulated retailer": ...})``)."""
    return pd.DataFrame(
        {
            name: {label: fmt.format(s[key]) for key, (label, fmt) in WHALE_ROWS.items()}
            for name, s in stats.items()
        }
    )
