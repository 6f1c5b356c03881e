"""A small simulated retailer for the value-tier notebooks: customers keep arriving,
buy, go quiet, and every order carries a cost.

Used where real data lack what the lesson needs (CDNOW is one acquisition cohort and
records no costs). The process, per customer ``i`` (all draws independent):

* arrival time ``a_i`` uniform over the ``years`` of history (ongoing acquisition at a
  constant rate);
* purchase rate ``lambda_i ~ Gamma(shape=r, rate=alpha)`` per year and lifetime
  ``tau_i ~ Exponential(rate=mu_i)``, ``mu_i ~ Gamma(shape=s, rate=beta)`` (the
  Pareto/NBD story, Schmittlein, Morrison & Colombo 1987); the first order is at ``a_i``,
  repeat orders are a Poisson process of rate ``lambda_i`` on ``(a_i, min(a_i + tau_i, end))``;
* order value ``~ Gamma(shape=p, rate=nu_i)``, ``nu_i ~ Gamma(shape=q, rate=gamma)``
  (Gamma-Gamma, Fader, Hardie & Lee 2005), rounded to cents;
* direct cost of an order = ``(1 - m_i) * amount + c_i``: goods at the customer's gross
  margin ``m_i ~ Beta(margin_a, margin_b)`` (mean 0.30 by default: some customers buy
  low-margin goods) plus the customer's cost to serve one order ``c_i ~ Gamma(shape=
  service_shape, mean=service_mean)`` (delivery, returns, calls; skewed: a few customers
  are expensive to serve, which is what bends the whale curve down).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmlab.errors import DataError


def simulated_retailer(
    n_customers: int = 4000,
    *,
    years: float = 3.0,
    start: str = "2021-01-01",
    r: float = 0.8,
    alpha: float = 0.25,
    s: float = 1.0,
    beta: float = 1.5,
    p: float = 4.0,
    q: float = 6.0,
    gamma: float = 75.0,
    margin_a: float = 6.0,
    margin_b: float = 14.0,
    service_mean: float = 8.0,
    service_shape: float = 1.0,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Simulate a retailer with ongoing acquisition and order costs.

    Parameters
    ----------
    n_customers : int
        Customers who arrive over the history.
    years : float
        Length of the history in years (365.25 days).
    start : str
        First day of the history.
    r, alpha : float
        Gamma heterogeneity of the yearly purchase rate (mean ``r / alpha`` = 3.2 a year).
    s, beta : float
        Gamma heterogeneity of the yearly dropout rate (mean rate ``s / beta`` = 0.67 a year).
    p, q, gamma : float
        Gamma-Gamma spend: mean order value ``p * gamma / (q - 1)`` = $60.
    margin_a, margin_b : float
        Beta distribution of customers' gross margins (mean ``a / (a + b)`` = 0.30).
    service_mean, service_shape : float
        Gamma distribution of each customer's cost to serve an order (mean $8; shape 1 =
        exponential, so about 1 customer in 20 costs over three times the mean).
    seed : int
        Random seed.

    Returns
    -------
    transactions : DataFrame
        ``customer_id``, ``date``, ``amount``, ``cost`` sorted by date.
    customers : DataFrame
        The truth per customer: ``arrival``, ``purchase_rate`` and ``dropout_rate`` (per
        year), ``lifetime_end`` (date the customer goes quiet), ``mean_order_value``,
        ``margin``, ``service_cost`` (per order).
    """
    if not isinstance(n_customers, int | np.integer) or n_customers < 1:
        raise DataError(f"parameter 'n_customers' is {n_customers!r}; give a whole number >= 1.")
    if years <= 0:
        raise DataError(f"parameter 'years' is {years!r}; give a positive number of years.")
    rng = np.random.default_rng(seed)
    n = int(n_customers)
    arrival = rng.uniform(0.0, years, n)
    rate = rng.gamma(r, 1.0 / alpha, n)
    dropout = rng.gamma(s, 1.0 / beta, n)
    death = arrival + rng.exponential(1.0 / dropout)
    until = np.minimum(death, years)
    repeats = rng.poisson(rate * (until - arrival))
    nu = rng.gamma(q, 1.0 / gamma, n)
    margin = rng.beta(margin_a, margin_b, n)
    service = rng.gamma(service_shape, service_mean / service_shape, n)
    owner = np.concatenate([np.arange(n), np.repeat(np.arange(n), repeats)])
    times = np.concatenate([arrival, rng.uniform(arrival[owner[n:]], until[owner[n:]])])
    amount = np.round(rng.gamma(p, 1.0 / nu[owner]), 2)
    origin = pd.Timestamp(start)
    days = np.floor(times * 365.25).astype(int)
    transactions = pd.DataFrame(
        {
            "customer_id": owner + 1,
            "date": origin + pd.to_timedelta(days, unit="D"),
            "amount": amount,
            "cost": np.round((1.0 - margin[owner]) * amount + service[owner], 2),
        }
    )
    transactions = transactions.sort_values(["date", "customer_id"], kind="stable")
    transactions = transactions.reset_index(drop=True)
    customers = pd.DataFrame(
        {
            "arrival": origin + pd.to_timedelta(np.floor(arrival * 365.25), unit="D"),
            "purchase_rate": rate,
            "dropout_rate": dropout,
            "lifetime_end": origin
            + pd.to_timedelta(np.floor(np.minimum(death, 1e4) * 365.25), unit="D"),
            "mean_order_value": p / nu,
            "margin": margin,
            "service_cost": service,
        },
        index=pd.Index(np.arange(1, n + 1), name="customer_id"),
    )
    return transactions, customers
