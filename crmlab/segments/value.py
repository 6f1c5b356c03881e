"""Most valuable, most growable and below-zero customers (Peppers & Rogers,
*Enterprise One to One*, 1997; Peppers, Rogers & Dorf, *The One to One Fieldbook*, 1999).

* **Actual value** - what the customer is worth if nothing changes: historical
  profit over a period (:func:`crmlab.segments.customer_profit`) or a model CLV
  (``crmlab.models``: BG/NBD or Pareto/NBD with Gamma-Gamma).
* **Potential value** - what the customer *could* be worth beyond that. With wallet
  data it is the share-of-wallet gap times the wallet times the margin,
  ``(1 - SOW) * wallet * margin = (wallet - spend) * margin``. Without wallet data,
  :func:`potential_value` offers a stated benchmark: the wallet of every customer is
  taken to be at least the spend at the ``quantile`` of all customers (what good
  customers demonstrably spend), so potential = ``max(0, benchmark - spend) * margin``.
  It is an assumption, not a measurement; say so in any report.
* **Expected profit** - actual value net of cost to serve; negative = below zero.

Groups, checked in this order: ``BZ`` (expected profit < 0), ``MVC`` (top
``mvc_share`` of all customers by actual value), ``MGC`` (top ``mgc_share`` of all
customers by potential value among those left), ``Others``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmlab.errors import DataError

GROUPS = ("MVC", "MGC", "BZ", "Others")


def potential_value(
    spend: pd.Series,
    *,
    margin: float = 0.30,
    wallet: pd.Series | None = None,
    quantile: float = 0.90,
) -> pd.Series:
    """Potential (unrealised) value per customer, in the currency of ``spend``.

    Parameters
    ----------
    spend : Series
        The firm's revenue from each customer over a period.
    margin : float
        Gross margin on extra revenue.
    wallet : Series, optional
        Each customer's total category spend over the same period. When given,
        potential = ``(wallet - spend) * margin`` (share-of-wallet gap x wallet x margin);
        a wallet below spend raises :class:`DataError`.
    quantile : float
        Without wallet data: benchmark wallet = the ``quantile`` of ``spend`` across
        customers; potential = ``max(0, benchmark - spend) * margin``.

    Returns
    -------
    Series ``potential_value`` aligned to ``spend``.
    """
    if not 0 <= margin <= 1:
        raise DataError(f"parameter 'margin' is {margin!r}; give a fraction between 0 and 1.")
    spend = pd.Series(spend, dtype=float)
    if wallet is not None:
        w = pd.Series(wallet, dtype=float).reindex(spend.index)
        bad = w.isna() | (w < spend - 1e-9)
        if bad.any():
            i = np.flatnonzero(bad.to_numpy())[0]
            raise DataError(
                f"wallet has {int(bad.sum())} customer(s) missing or below the firm's own "
                f"spend, first {spend.index[i]!r}: wallet {w.iloc[i]!r} < spend {spend.iloc[i]!r}; "
                "a wallet is the customer's total category spend, at least their spend with you."
            )
        gap = w - spend
    else:
        if not 0 < quantile <= 1:
            raise DataError(f"parameter 'quantile' is {quantile!r}; give a value in (0, 1].")
        benchmark = float(spend.quantile(quantile)) if len(spend) else 0.0
        gap = (benchmark - spend).clip(lower=0)
    return (gap * margin).rename("potential_value")


def value_groups(
    values: pd.DataFrame,
    *,
    actual: str = "actual_value",
    potential: str = "potential_value",
    expected_profit: str = "expected_profit",
    mvc_share: float = 0.20,
    mgc_share: float = 0.20,
) -> pd.DataFrame:
    """Label each customer MVC, MGC, BZ or Others.

    Parameters
    ----------
    values : DataFrame
        One row per customer with the three named columns (expected profit may be the
        actual value itself when actual value is already net of cost to serve).
    mvc_share, mgc_share : float
        Share of *all* customers that form the MVC group (by actual value) and the
        MGC group (by potential value). Ties at the cut-off go to the group (the
        group may be slightly larger than the share); BZ customers are never MVC/MGC.

    Returns
    -------
    DataFrame
        ``values`` plus ``group`` (ordered categorical MVC, MGC, BZ, Others).
    """
    for name in (actual, potential, expected_profit):
        if name not in values.columns:
            raise DataError(
                f"column {name!r} is missing; have {list(values.columns)}. Pass the column "
                "names with actual=, potential=, expected_profit=."
            )
        if values[name].isna().any():
            raise DataError(
                f"column {name!r} has {int(values[name].isna().sum())} missing value(s), first "
                f"for customer {values.index[values[name].isna().to_numpy()][0]!r}; fill them."
            )
    for pname, share in (("mvc_share", mvc_share), ("mgc_share", mgc_share)):
        if not 0 <= share <= 1:
            raise DataError(f"parameter {pname!r} is {share!r}; give a share between 0 and 1.")
    if mvc_share + mgc_share > 1:
        raise DataError(
            f"mvc_share + mgc_share = {mvc_share + mgc_share:.3g} exceeds 1; the groups "
            "are shares of the same customers."
        )
    n = len(values)
    bz = values[expected_profit] < 0
    rank_a = values[actual].where(~bz).rank(method="min", ascending=False)
    mvc = ~bz & (rank_a - 1 < mvc_share * n - 1e-9)
    rest = ~bz & ~mvc
    pot = values[potential].where(rest)
    rank_p = pot.rank(method="min", ascending=False)
    mgc = rest & (rank_p - 1 < mgc_share * n - 1e-9) & (values[potential] > 0)
    group = np.select([bz, mvc, mgc], ["BZ", "MVC", "MGC"], default="Others")
    out = values.copy()
    out["group"] = pd.Categorical(group, categories=list(GROUPS), ordered=True)
    return out


def value_group_table(
    grouped: pd.DataFrame,
    *,
    actual: str = "actual_value",
    potential: str = "potential_value",
    expected_profit: str = "expected_profit",
) -> pd.DataFrame:
    """Size, value and potential of each group: ``customers``, ``share``, ``actual_value``
    (sum), ``actual_share``, ``mean_actual``, ``potential_value`` (sum), ``potential_share``,
    ``expected_profit`` (sum)."""
    g = grouped.groupby("group", observed=False)
    table = pd.DataFrame(
        {
            "customers": g.size().astype(int),
            "actual_value": g[actual].sum(),
            "potential_value": g[potential].sum(),
            "expected_profit": g[expected_profit].sum(),
        }
    )
    table.insert(1, "share", table["customers"] / max(len(grouped), 1))
    tot_a, tot_p = table["actual_value"].sum(), table["potential_value"].sum()
    table.insert(3, "actual_share", table["actual_value"] / tot_a if tot_a else np.nan)
    table.insert(4, "mean_actual", table["actual_value"] / table["customers"].replace(0, np.nan))
    table.insert(6, "potential_share", table["potential_value"] / tot_p if tot_p else np.nan)
    table.index = pd.Index(table.index.astype(str), name="group")
    return table


def historical_values(
    profit: pd.DataFrame,
    *,
    margin: float = 0.30,
    wallet: pd.Series | None = None,
    quantile: float = 0.90,
) -> pd.DataFrame:
    """Value inputs from past profit ("if the past repeats").

    Parameters
    ----------
    profit : DataFrame
        Output of :func:`crmlab.segments.customer_profit` for the analysis period.
    margin, wallet, quantile
        Passed to :func:`potential_value` with the period's revenue as spend.

    Returns
    -------
    DataFrame
        ``revenue``, ``actual_value`` (= profit over the period, after all costs to serve),
        ``potential_value``, ``expected_profit`` (= actual value: the past profit taken as
        the forecast, so BZ = customers who lost money in the period).
    """
    out = pd.DataFrame(index=profit.index)
    out["revenue"] = profit["revenue"]
    out["actual_value"] = profit["profit"]
    out["potential_value"] = potential_value(
        profit["revenue"], margin=margin, wallet=wallet, quantile=quantile
    )
    out["expected_profit"] = out["actual_value"]
    return out


def model_values(
    expected_transactions: pd.Series,
    expected_spend: pd.Series,
    *,
    margin: float = 0.30,
    cost_per_order: float = 0.0,
    cost_per_customer_year: float = 0.0,
    horizon_years: float = 1.0,
    quantile: float = 0.90,
) -> pd.DataFrame:
    """Value inputs from a purchase model (e.g. BG/NBD or Pareto/NBD with Gamma-Gamma).

    ``actual_value = E[X] * (margin * E[M] - cost_per_order)`` is the expected margin of
    the customer's future orders net of order costs over the horizon (``E[X]`` =
    ``expected_transactions``, ``E[M]`` = ``expected_spend``; pass discounted expected
    transactions for a discounted value). ``expected_profit = actual_value -
    cost_per_customer_year * horizon_years``: the firm keeps serving every customer on
    its books for the whole horizon, alive or not, which is what makes dormant customers
    below zero. ``potential_value = max(0, benchmark - E[X] E[M]) * margin``, the
    benchmark being the ``quantile`` of expected revenue ``E[X] E[M]`` across customers.

    Returns
    -------
    DataFrame
        ``expected_transactions``, ``expected_spend``, ``revenue`` (expected),
        ``actual_value``, ``potential_value``, ``expected_profit``.
    """
    if horizon_years <= 0:
        raise DataError(f"parameter 'horizon_years' is {horizon_years!r}; give a positive number.")
    x = pd.Series(expected_transactions, dtype=float)
    m = pd.Series(expected_spend, dtype=float).reindex(x.index)
    if m.isna().any():
        first = x.index[np.flatnonzero(m.isna().to_numpy())[0]]
        raise DataError(
            f"expected_spend is missing for {int(m.isna().sum())} customer(s), first {first!r}; "
            "give a spend for every customer with expected transactions."
        )
    out = pd.DataFrame({"expected_transactions": x, "expected_spend": m})
    out["revenue"] = x * m
    out["actual_value"] = x * (margin * m - cost_per_order)
    out["potential_value"] = potential_value(out["revenue"], margin=margin, quantile=quantile)
    out["expected_profit"] = out["actual_value"] - cost_per_customer_year * horizon_years
    return out
