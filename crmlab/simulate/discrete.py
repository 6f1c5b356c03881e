"""Discrete-time simulators: transaction opportunities (BG/BB) and subscriptions (sBG, BdW)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmlab.simulate.result import SimulatedData, check_count, check_positive


def opportunities(
    n_customers: int = 10_000,
    n_periods: int = 6,
    *,
    alpha: float = 1.204,
    beta: float = 0.750,
    gamma: float = 0.657,
    delta: float = 2.783,
    seed: int = 0,
) -> SimulatedData:
    """Customers with ``n_periods`` discrete transaction opportunities (the BG/BB story).

    While alive, customer ``i`` transacts at each opportunity with probability
    ``p_i ~ Beta(alpha, beta)``; before each opportunity an alive customer dies with
    probability ``theta_i ~ Beta(gamma, delta)`` (Fader, Hardie & Shang 2010). The
    defaults are their estimates for the donations data (6 annual opportunities).

    Returns
    -------
    SimulatedData
        ``summary``: ``frequency, recency, n_periods`` per customer (recency = last
        opportunity with a transaction, 0 if none); ``history``: customers x opportunities
        of True/False; ``truth``: ``p``, ``theta``, ``death`` (first opportunity at which
        the customer is dead) and ``alive_next`` (alive at opportunity ``n_periods + 1``).
    """
    n = check_count("n_customers", n_customers)
    periods = check_count("n_periods", n_periods)
    check_positive(alpha=alpha, beta=beta, gamma=gamma, delta=delta)
    rng = np.random.default_rng(seed)
    p = rng.beta(alpha, beta, n)
    theta = rng.beta(gamma, delta, n)
    death = rng.geometric(np.maximum(theta, 1e-12))  # alive at opportunities 1 .. death - 1
    t = np.arange(1, periods + 1)
    history = (t[None, :] < death[:, None]) & (rng.random((n, periods)) < p[:, None])
    frequency = history.sum(axis=1)
    recency = np.where(frequency > 0, periods - np.argmax(history[:, ::-1], axis=1), 0)
    ids = pd.Index(np.arange(1, n + 1), name="customer_id")
    summary = pd.DataFrame(
        {"frequency": frequency, "recency": recency, "n_periods": periods}, index=ids
    )
    truth = pd.DataFrame(
        {"p": p, "theta": theta, "death": death, "alive_next": death > periods + 1}, index=ids
    )
    params = {"alpha": alpha, "beta": beta, "gamma": gamma, "delta": delta, "seed": seed}
    return SimulatedData(
        {"summary": summary, "history": pd.DataFrame(history, index=ids, columns=t)},
        truth,
        {"n_customers": n, "n_periods": periods, **params},
    )


def subscriptions(
    n_customers: int = 1000,
    n_periods: int = 12,
    *,
    alpha: float = 0.704,
    beta: float = 1.182,
    c: float = 1.0,
    seed: int = 0,
) -> SimulatedData:
    """A cohort of subscribers who renew each period (the shifted-beta-geometric story, or
    the beta-discrete-Weibull one when ``c != 1``).

    Subscriber ``i`` has ``theta_i ~ Beta(alpha, beta)`` and stays beyond period t with
    probability ``(1 - theta_i)^(t^c)`` (Fader, Hardie, Liu, Davin & Steenburgh 2018). With
    ``c = 1`` (the default) that is a constant churn probability ``theta_i`` each period,
    so the period of cancellation is geometric (Fader & Hardie 2007); ``c > 1`` makes each
    subscriber's churn hazard rise with tenure, ``c < 1`` fall. The defaults are Fader &
    Hardie's "regular" cohort. For ``c != 1`` the lifetime is drawn by inversion:
    ``T = floor((ln U / ln(1 - theta))^(1/c)) + 1`` with ``U ~ Uniform(0, 1)``, so that
    ``P(T > t) = P(U <= (1 - theta)^(t^c))``.

    Returns
    -------
    SimulatedData
        ``alive``: ``period`` 0 .. ``n_periods`` and ``alive``, the subscribers active at
        the start of each period (the input of :class:`crmlab.models.ShiftedBetaGeometric`);
        ``truth``: ``theta`` and ``lifetime`` (periods paid for) per subscriber.
    """
    n = check_count("n_customers", n_customers)
    periods = check_count("n_periods", n_periods)
    check_positive(alpha=alpha, beta=beta, c=c)
    rng = np.random.default_rng(seed)
    theta = rng.beta(alpha, beta, n)
    if c == 1:  # the geometric draw keeps the sBG cohorts of earlier versions seed for seed
        lifetime = rng.geometric(np.maximum(theta, 1e-12))
    else:
        with np.errstate(divide="ignore"):
            x = np.log(rng.random(n)) / np.log1p(-np.minimum(theta, 1.0))
        lifetime = np.floor(np.minimum(x ** (1.0 / c), 1e15)).astype(np.int64) + 1
    counts = np.bincount(np.minimum(lifetime, periods + 1), minlength=periods + 2)
    alive = n - np.concatenate([[0], np.cumsum(counts[1 : periods + 1])])
    truth = pd.DataFrame(
        {"theta": theta, "lifetime": lifetime},
        index=pd.Index(np.arange(1, n + 1), name="customer_id"),
    )
    return SimulatedData(
        {"alive": pd.DataFrame({"period": np.arange(periods + 1), "alive": alive})},
        truth,
        {
            "n_customers": n,
            "n_periods": periods,
            "alpha": alpha,
            "beta": beta,
            "c": c,
            "seed": seed,
        },
    )
