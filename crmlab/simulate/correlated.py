r"""Customers whose purchase and dropout rates are correlated (Sarmanov family).

Rates :math:`(\lambda, \mu)` are drawn from the density of
:class:`crmlab.models.CorrelatedParetoNBD`,

.. math:: g(\lambda; r, \alpha)\, h(\mu; s, \beta)\,
    \big[1 + m\,(e^{-c\lambda} - L_A)(e^{-c\mu} - L_B)\big],

by rejection from the product of the gamma marginals (accept with probability
:math:`(1 + m\phi_A\phi_B)/(1 + m^*)`, :math:`m^*` the largest value of
:math:`m\phi_A\phi_B`); given the rates, each customer buys as a Poisson process with rate
:math:`\lambda` until an exponential lifetime with rate :math:`\mu` (the Pareto/NBD story).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmlab.errors import DataError
from crmlab.simulate.result import SimulatedData, check_count, check_positive


def sarmanov_rates(
    n_customers: int,
    *,
    r: float,
    alpha: float,
    s: float,
    beta: float,
    m: float,
    kernel_scale: float = 1.0,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """``n_customers`` draws of (lambda, mu) from the Sarmanov density (module docstring).

    Raises :class:`~crmlab.errors.DataError` when m is outside the range for which the
    density is non-negative (:func:`crmlab.models.correlated.m_bounds`).
    """
    n = check_count("n_customers", n_customers)
    check_positive(r=r, alpha=alpha, s=s, beta=beta, kernel_scale=kernel_scale)
    c = float(kernel_scale)
    la, lb = (alpha / (alpha + c)) ** r, (beta / (beta + c)) ** s
    low = -1 / max(la * lb, (1 - la) * (1 - lb))
    high = 1 / max(la * (1 - lb), (1 - la) * lb)
    if not (isinstance(m, int | float | np.number) and low <= m <= high):
        raise DataError(
            f"parameter 'm' is {m!r}; at these marginals the Sarmanov density is a density "
            f"only for m in [{low:.4g}, {high:.4g}]."
        )
    top = 1 + (m / -low if m > 0 else m / -high)  # 1 + the largest m phi_A phi_B
    lam, mu = np.empty(0), np.empty(0)
    while lam.size < n:
        k = max(2 * (n - lam.size), 1000)
        draw_l, draw_m = rng.gamma(r, 1 / alpha, k), rng.gamma(s, 1 / beta, k)
        density = 1 + m * (np.exp(-c * draw_l) - la) * (np.exp(-c * draw_m) - lb)
        keep = rng.random(k) * top < density
        lam, mu = np.r_[lam, draw_l[keep]], np.r_[mu, draw_m[keep]]
    return lam[:n], mu[:n]


def correlated_customers(
    n_customers: int = 5000,
    *,
    r: float = 1.0,
    alpha: float = 2.0,
    s: float = 1.0,
    beta: float = 4.0,
    m: float = 3.0,
    kernel_scale: float = 1.0,
    age: tuple[float, float] = (10.0, 40.0),
    time_unit: str = "W",
    resolution: float | None = None,
    seed: int = 0,
) -> SimulatedData:
    """A summary of customers with Sarmanov-correlated purchase and dropout rates.

    Each customer is observed for ``T ~ Uniform(age)`` periods after the first purchase;
    ``frequency`` (repeat purchases), ``recency`` (time of the last one) and ``T`` form
    the summary table ``sim.summary`` (``attrs["time_unit"]`` set), ready for
    :meth:`crmlab.models.CorrelatedParetoNBD.fit`. ``sim.truth`` holds each customer's
    ``lam``, ``mu``, ``lifetime`` and ``alive`` (at T). ``resolution`` records recency and
    T to that grid as transaction data do (e.g. 1/7 of a week: days; fits then compress to
    far fewer distinct patterns); None keeps continuous times.
    """
    check_positive(age_low=age[0], age_high=age[1])
    rng = np.random.default_rng(seed)
    lam, mu = sarmanov_rates(
        n_customers,
        r=r,
        alpha=alpha,
        s=s,
        beta=beta,
        m=m,
        kernel_scale=kernel_scale,
        rng=rng,
    )
    params = dict(
        r=r,
        alpha=alpha,
        s=s,
        beta=beta,
        m=m,
        kernel_scale=kernel_scale,
        resolution=resolution,
        seed=seed,
    )
    return _customers(lam, mu, age, time_unit, resolution, rng, params)


def lognormal_customers(
    n_customers: int = 3000,
    *,
    mu_lambda: float = -2.0,
    mu_mu: float = -3.5,
    sigma_lambda: float = 1.0,
    sigma_mu: float = 1.0,
    rho: float = 0.5,
    age: tuple[float, float] = (10.0, 40.0),
    time_unit: str = "W",
    resolution: float | None = None,
    seed: int = 0,
) -> SimulatedData:
    r"""As :func:`correlated_customers` with bivariate lognormal rates (Abe 2009's
    population): :math:`(\ln\lambda, \ln\mu) \sim N((\mu_\lambda, \mu_\mu), \Sigma)`
    with standard deviations ``sigma_lambda``, ``sigma_mu`` and correlation ``rho``."""
    n = check_count("n_customers", n_customers)
    check_positive(sigma_lambda=sigma_lambda, sigma_mu=sigma_mu)
    if not -1 < rho < 1:
        raise DataError(f"parameter 'rho' is {rho!r}; give a correlation in (-1, 1).")
    check_positive(age_low=age[0], age_high=age[1])
    rng = np.random.default_rng(seed)
    z1, z2 = rng.standard_normal((2, n))
    lam = np.exp(mu_lambda + sigma_lambda * z1)
    mu = np.exp(mu_mu + sigma_mu * (rho * z1 + np.sqrt(1 - rho**2) * z2))
    params = dict(
        mu_lambda=mu_lambda,
        mu_mu=mu_mu,
        sigma_lambda=sigma_lambda,
        sigma_mu=sigma_mu,
        rho=rho,
        resolution=resolution,
        seed=seed,
    )
    return _customers(lam, mu, age, time_unit, resolution, rng, params)


def _customers(
    lam: np.ndarray,
    mu: np.ndarray,
    age: tuple[float, float],
    time_unit: str,
    resolution: float | None,
    rng: np.random.Generator,
    params: dict,
) -> SimulatedData:
    """Pareto/NBD purchases of customers with the given rates (module docstring)."""
    if age[1] < age[0]:
        raise DataError(f"age {age!r}: give (shortest, longest) observation time.")
    n = lam.size
    T = rng.uniform(age[0], age[1], n)
    lifetime = rng.exponential(1 / mu)
    active = np.minimum(lifetime, T)
    x = rng.poisson(lam * active).astype(float)
    # the last of x uniform purchase times in (0, active): active * U^(1/x)
    recency = np.where(x > 0, active * rng.random(n) ** (1 / np.maximum(x, 1)), 0.0)
    if resolution is not None:
        check_positive(resolution=resolution)
        T, recency = (np.round(v / resolution) * resolution for v in (T, recency))
    ids = pd.RangeIndex(n, name="customer_id")
    summary = pd.DataFrame({"frequency": x, "recency": recency, "T": T}, index=ids)
    summary.attrs["time_unit"] = time_unit
    truth = pd.DataFrame(
        {"lam": lam, "mu": mu, "lifetime": lifetime, "alive": lifetime > T}, index=ids
    )
    return SimulatedData({"summary": summary}, truth, params)


__all__ = ["correlated_customers", "lognormal_customers", "sarmanov_rates"]
