"""Per-customer value tables built from fitted models, and two teaching contrasts.

* :func:`customer_table` - every customer with frequency, recency, T, P(alive),
  expected purchases, expected spend and CLV (the table a consultant exports);
* :func:`contrasting_customers` - a customer with many purchases long ago who is
  worth less than one with few recent purchases (Fader, Hardie & Lee 2005,
  "Counting your customers the easy way", *Marketing Science* 24(2): recency
  matters more than frequency once a customer has gone quiet);
* :func:`value_now_vs_lifetime` - the "students at the bank" idea: ranking
  customers by what they bring now misses many of the most valuable ones over
  their lifetime (Blattberg, Kim & Neslin 2008, *Database Marketing*, ch. 5).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crmlab.errors import DataError, require_columns


def spend_inputs(summary: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """The Gamma-Gamma inputs, with repeat buyers whose repeat purchases were worth nothing
    treated as having no repeat spend history.

    Gamma-Gamma models positive spend; a customer whose repeat purchases average 0 (free
    items, fully refunded orders) cannot enter its likelihood. Such customers get
    ``frequency`` 0 in the returned frame, so the fit leaves them out and their expected
    spend is the population mean. Returns the frame and how many customers were treated
    so (say so in the report).
    """
    require_columns(summary, ["frequency", "monetary_value"], "spend_inputs")
    zero = (summary["frequency"] > 0) & ~(summary["monetary_value"] > 0)
    out = summary[["frequency", "monetary_value"]].copy()
    out.loc[zero, "frequency"] = 0
    out.loc[zero, "monetary_value"] = 0.0
    return out, int(zero.sum())


def customer_table(
    summary: pd.DataFrame,
    transactions_model: Any,
    *,
    spend: pd.Series,
    horizon: float,
    clv: pd.Series,
) -> pd.DataFrame:
    """Every customer's P(alive), expected purchases, expected spend and CLV.

    Parameters
    ----------
    summary : DataFrame
        ``frequency``, ``recency``, ``T`` (calibration) and ``monetary_value``.
    transactions_model : fitted result
        A BG/NBD-family result (``probability_alive``, ``expected_purchases``).
    spend : Series
        Expected spend per purchase (e.g. Gamma-Gamma ``expected_spend``), aligned to ``summary``.
    horizon : float
        Period for ``expected_purchases`` (time units of the fit, e.g. 52 weeks).
    clv : Series
        Each customer's CLV from ``transactions_model.clv(...)`` (aligned to ``summary``).

    Returns
    -------
    DataFrame
        Index as ``summary``; columns ``frequency``, ``recency``, ``T``,
        ``monetary_value``, ``p_alive``, ``expected_purchases``, ``expected_spend``,
        ``clv``; sorted by CLV, highest first.
    """
    require_columns(summary, ["frequency", "recency", "T", "monetary_value"], "customer_table")
    for label, series in (("clv", clv), ("spend", spend)):
        missing = summary.index.difference(series.index)
        if len(missing):
            raise DataError(
                f"{label} has no value for {len(missing):,} customers, first {missing[0]!r}; "
                "compute it on the same summary."
            )
    table = summary[["frequency", "recency", "T", "monetary_value"]].copy()
    table["p_alive"] = np.asarray(transactions_model.probability_alive(summary), dtype=float)
    table["expected_purchases"] = np.asarray(
        transactions_model.expected_purchases(horizon, data=summary), dtype=float
    )
    table["expected_spend"] = spend.reindex(summary.index).to_numpy(dtype=float)
    table["clv"] = clv.reindex(summary.index).to_numpy(dtype=float)
    return table.sort_values("clv", ascending=False, kind="mergesort")


def contrasting_customers(table: pd.DataFrame, *, many_quantile: float = 0.9) -> pd.DataFrame:
    """Two real customers: many purchases long ago vs few recent ones, worth more.

    The "many, long ago" customer has a frequency at or above the
    ``many_quantile`` of repeat buyers and a last purchase in the first half of
    their time as a customer (recency <= T / 2); among those, the one with the
    most purchases. The "few, recent" customer has 1 or 2 repeat purchases, the
    last in the final tenth of their time (recency >= 0.9 T), the same age T as
    closely as possible, and a higher CLV; among those, the one of the closest
    age, then the fewest purchases.

    Returns
    -------
    DataFrame
        Two rows indexed by customer with a ``profile`` column first, or no rows
        when the data holds no such pair (e.g. very small samples).
    """
    require_columns(table, ["frequency", "recency", "T", "clv"], "contrasting_customers")
    repeaters = table[table["frequency"] > 0]
    if repeaters.empty:
        return table.iloc[:0].assign(profile=pd.Series(dtype=str))
    cut = repeaters["frequency"].quantile(many_quantile)
    old = table[(table["frequency"] >= cut) & (table["recency"] <= table["T"] / 2)]
    if old.empty:
        return table.iloc[:0].assign(profile=pd.Series(dtype=str))
    first = old.sort_values(["frequency", "clv"], ascending=[False, True], kind="mergesort").iloc[
        [0]
    ]
    a = first.iloc[0]
    recent = table[
        table["frequency"].between(1, 2)
        & (table["recency"] >= 0.9 * table["T"])
        & (table["clv"] > a["clv"])
    ]
    if recent.empty:
        return table.iloc[:0].assign(profile=pd.Series(dtype=str))
    order = recent.assign(_age_gap=(recent["T"] - a["T"]).abs()).sort_values(
        ["_age_gap", "frequency", "clv"], kind="mergesort"
    )
    second = order.drop(columns="_age_gap").iloc[[0]]
    pair = pd.concat([first, second])
    pair.insert(0, "profile", ["many purchases, long ago", "few purchases, recent"])
    return pair


def value_now_vs_lifetime(
    value_now: pd.Series, clv: pd.Series, *, top: float = 0.2
) -> pd.DataFrame:
    """Cross-table of the top ``top`` share of customers by value now vs by CLV.

    Parameters
    ----------
    value_now : Series
        What each customer brought so far (e.g. margin on calibration spend).
    clv : Series
        Each customer's lifetime value from now on (same index).
    top : float
        Share of customers called "top" on each measure (ties broken by order).

    Returns
    -------
    DataFrame
        Index ``top by value now`` / ``others by value now``; columns
        ``customers_top_clv``, ``customers_other_clv``, ``clv_share`` (share of
        total CLV held by that row's customers who are top by CLV). The top-CLV
        customers that a value-now ranking misses are the "students at the bank":
        little revenue today, much over their lifetime.
    """
    if not 0 < top < 1:
        raise DataError(f"top must be a share between 0 and 1, got {top!r}.")
    missing = clv.index.difference(value_now.index)
    if len(missing):
        raise DataError(
            f"value_now has no value for {len(missing):,} customers, first {missing[0]!r}."
        )
    now = value_now.reindex(clv.index).to_numpy(dtype=float)
    life = clv.to_numpy(dtype=float)
    n = len(life)
    k = max(1, int(round(top * n)))
    top_now = np.zeros(n, dtype=bool)
    top_now[np.argsort(-now, kind="mergesort")[:k]] = True
    top_life = np.zeros(n, dtype=bool)
    top_life[np.argsort(-life, kind="mergesort")[:k]] = True
    total = life.sum()
    rows = {}
    for label, mask in (("top by value now", top_now), ("others by value now", ~top_now)):
        rows[label] = {
            "customers_top_clv": int((mask & top_life).sum()),
            "customers_other_clv": int((mask & ~top_life).sum()),
            "clv_share": float(life[mask & top_life].sum() / total) if total else np.nan,
        }
    return pd.DataFrame.from_dict(rows, orient="index")
