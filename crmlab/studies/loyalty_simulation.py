"""A simulated cohort whose lifetimes and profits are known, to check the loyalty study.

Customers follow the Pareto/NBD story (Schmittlein, Morrison & Colombo 1987): while
alive, customer *i* buys at Poisson rate ``lambda_i ~ Gamma(r, alpha)`` per week;
the relationship ends after an exponential lifetime with rate
``mu_i ~ Gamma(s, beta)``. First purchases fall on whole weeks of the cohort's
first ``cohort_weeks`` weeks; observation ends ``horizon_weeks`` after the cohort
starts.

What a customer spends is governed by ``link`` in [0, 1]:

* the *linked* part: every purchase spends ``Gamma(shape 4, mean spend_mean)``,
  so revenue grows with the number of purchases and hence with lifetime;
* the *independent* part: a customer total ``Gamma(shape 2, mean total_mean)``,
  drawn independently of rates and lifetimes and spread evenly over the
  customer's purchases.

Each order amount is ``link x linked + (1 - link) x independent``, so ``link=0``
makes true profit unrelated to lifetime and ``link=1`` ties them. The cost of
goods of each order is ``(1 - margin) x amount`` (column ``cost``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from crmlab.errors import DataError


@dataclass
class SimulatedCohort:
    """Transactions and the truth behind them.

    Attributes
    ----------
    transactions : DataFrame
        ``customer_id, date, amount, cost`` (cost of goods per order).
    truth : DataFrame
        Per customer (index ``customer_id``): ``first_purchase``, ``dropout_weeks``
        (true lifetime since the first purchase), ``T`` (weeks observed),
        ``alive_at_end``, ``observed_lifetime`` (``min(dropout, T)``), ``purchases``,
        ``revenue``, ``cost``, ``profit`` (revenue - cost of goods).
    params : dict
        The simulation's parameters.
    """

    transactions: pd.DataFrame
    truth: pd.DataFrame
    params: dict

    @property
    def true_correlation(self) -> float:
        """Pearson correlation of true observed lifetime and true profit."""
        return float(np.corrcoef(self.truth["observed_lifetime"], self.truth["profit"])[0, 1])


def simulate_cohort(
    n_customers: int = 3000,
    *,
    link: float = 1.0,
    r: float = 0.9,
    alpha: float = 8.0,
    s: float = 0.7,
    beta: float = 40.0,
    spend_mean: float = 30.0,
    total_mean: float = 120.0,
    margin: float = 0.3,
    start: str = "2024-01-01",
    cohort_weeks: int = 13,
    horizon_weeks: int = 78,
    seed: int = 0,
) -> SimulatedCohort:
    """Simulate one acquisition cohort of a retailer (see the module docstring).

    Parameters
    ----------
    n_customers : int
        Customers in the cohort.
    link : float
        0 = profit unrelated to lifetime, 1 = profit grows with purchases (and lifetime).
    r, alpha, s, beta : float
        Pareto/NBD heterogeneity: purchase rates ~ Gamma(r, alpha), dropout rates
        ~ Gamma(s, beta), per week (rate parametrisation, means r/alpha and s/beta).
    spend_mean, total_mean : float
        Mean spend per purchase (linked part) and mean customer total (independent part).
    margin : float
        Gross margin; cost of goods = (1 - margin) x amount.
    start : str
        First day of the cohort.
    cohort_weeks, horizon_weeks : int
        Weeks in which first purchases happen; weeks from ``start`` to the end of observation.
    seed : int
        Seed of ``numpy.random.default_rng``.

    Returns
    -------
    SimulatedCohort
    """
    if n_customers < 1:
        raise DataError(f"n_customers must be at least 1; got {n_customers!r}.")
    if not 0.0 <= link <= 1.0:
        raise DataError(f"link must lie in [0, 1] (0 = unrelated, 1 = linked); got {link!r}.")
    if not 0.0 <= margin <= 1.0:
        raise DataError(f"margin must lie in [0, 1]; got {margin!r}.")
    if not 0 < cohort_weeks < horizon_weeks:
        raise DataError(
            f"need 0 < cohort_weeks < horizon_weeks; got {cohort_weeks!r}, {horizon_weeks!r}."
        )
    rng = np.random.default_rng(seed)
    n = int(n_customers)
    lam = rng.gamma(r, 1 / alpha, n)
    mu = rng.gamma(s, 1 / beta, n)
    dropout = rng.exponential(1 / mu)
    first_week = rng.integers(0, cohort_weeks, n).astype(float)
    T = horizon_weeks - first_week
    span = np.minimum(dropout, T)
    repeats = rng.poisson(lam * span)
    counts = repeats + 1
    cust = np.repeat(np.arange(n), counts)
    offset = np.repeat(span, counts) * rng.uniform(0, 1, cust.size)
    is_first = np.r_[True, cust[1:] != cust[:-1]]
    offset[is_first] = 0.0
    days = np.floor((np.repeat(first_week, counts) + offset) * 7)
    linked = rng.gamma(4.0, spend_mean / 4.0, cust.size)
    independent = np.repeat(rng.gamma(2.0, total_mean / 2.0, n) / counts, counts)
    amount = np.round(link * linked + (1 - link) * independent, 2)
    cost = np.round((1 - margin) * amount, 2)
    start_ts = pd.Timestamp(start)
    ids = np.arange(1, n + 1)
    transactions = pd.DataFrame(
        {
            "customer_id": ids[cust],
            "date": start_ts + pd.to_timedelta(days, unit="D"),
            "amount": amount,
            "cost": cost,
        }
    ).sort_values(["customer_id", "date"], ignore_index=True)
    revenue = np.bincount(cust, weights=amount, minlength=n)
    cogs = np.bincount(cust, weights=cost, minlength=n)
    truth = pd.DataFrame(
        {
            "first_purchase": start_ts + pd.to_timedelta(first_week * 7, unit="D"),
            "dropout_weeks": dropout,
            "T": T,
            "alive_at_end": dropout > T,
            "observed_lifetime": span,
            "purchases": counts,
            "revenue": revenue,
            "cost": cogs,
            "profit": revenue - cogs,
        },
        index=pd.Index(ids, name="customer_id"),
    )
    params = {
        "n_customers": n,
        "link": link,
        "r": r,
        "alpha": alpha,
        "s": s,
        "beta": beta,
        "spend_mean": spend_mean,
        "total_mean": total_mean,
        "margin": margin,
        "start": start,
        "cohort_weeks": cohort_weeks,
        "horizon_weeks": horizon_weeks,
        "seed": seed,
    }
    return SimulatedCohort(transactions, truth, params)


def compare_with_truth(result: Any, cohort: SimulatedCohort) -> pd.Series:
    """How well a loyalty study of ``cohort.transactions`` recovered the simulated truth.

    Parameters
    ----------
    result : LoyaltyProfitResult
        :func:`crmlab.studies.loyalty_profit` run on the simulated transactions.
    cohort : SimulatedCohort
        The simulation.

    Returns
    -------
    Series
        ``true_pearson`` (true observed lifetime vs true profit), ``estimated_pearson``
        with ``lower``/``upper`` (the study's bootstrap interval), ``interval_covers_truth``,
        ``lifetime_rank_correlation`` (Spearman of estimated lifetime and true
        ``min(dropout, T)``), ``lifetime_median_abs_error`` (weeks) and
        ``censoring_agreement`` (share of customers whose censoring flag equals
        "truly alive at the end").
    """
    customers = result.customers
    truth = cohort.truth.loc[customers.index]
    pearson = result.statistic("pearson")
    true_r = float(np.corrcoef(truth["observed_lifetime"], truth["profit"])[0, 1])
    return pd.Series(
        {
            "true_pearson": true_r,
            "estimated_pearson": float(pearson.estimate),
            "lower": float(pearson.lower),
            "upper": float(pearson.upper),
            "interval_covers_truth": bool(pearson.lower <= true_r <= pearson.upper),
            "lifetime_rank_correlation": float(
                spearmanr(customers["lifetime"], truth["observed_lifetime"]).statistic
            ),
            "lifetime_median_abs_error": float(
                np.median(np.abs(customers["lifetime"] - truth["observed_lifetime"]))
            ),
            "censoring_agreement": float(
                (customers["censored"].to_numpy() == truth["alive_at_end"].to_numpy()).mean()
            ),
        }
    )
