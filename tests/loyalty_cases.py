"""Cases shared by the loyalty-study tests: a closed-form P(alive) stand-in, a hand-built
transactions log, the Pareto/NBD P(alive) at known parameters, and simulated cohorts."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmlab.simulate import retailer

START = pd.Timestamp("2024-01-01")
END = START + pd.Timedelta(weeks=52)


class ExponentialAlive:
    """A fitted-model stand-in with a closed-form P(alive), to check the root search.

    P(alive | x, t_x, T) = exp(-(T - t_x) / (k (1 + x))), so the lifetime for a
    threshold c is exactly t_x + k (1 + x) ln(1 / c).
    """

    def __init__(self, k: float = 10.0) -> None:
        self.k = k
        self.params = pd.Series({"k": k})

    def probability_alive(self, data: pd.DataFrame) -> pd.Series:
        return np.exp(-(data["T"] - data["recency"]) / (self.k * (1 + data["frequency"])))

    def crossing(self, x: float, t_x: float, c: float) -> float:
        return t_x + self.k * (1 + x) * np.log(1 / c)


def constructed(copies: int = 10) -> pd.DataFrame:
    """Five purchase patterns (weeks after 1 Jan 2024), ``copies`` customers each.

    one-timer: week 0. regular: weeks 0, 10, 20. steady: weeks 0, 5, 30. late: weeks 0, 48
    (alive at the end). second-quarter newcomer: weeks 14, 16 (outside a Q1 cohort).
    """
    patterns = {
        "one": [0],
        "regular": [0, 10, 20],
        "steady": [0, 5, 30],
        "late": [0, 48],
        "newcomer": [14, 16],
    }
    rows = []
    cid = 0
    for name, weeks in patterns.items():
        for j in range(copies):
            cid += 1
            for w in weeks:
                rows.append(
                    {
                        "customer_id": cid,
                        "date": START + pd.Timedelta(weeks=w),
                        "amount": 20.0 + j,
                        "quantity": 1 + (j % 3),
                        "pattern": name,
                    }
                )
    return pd.DataFrame(rows)


class ParetoNBDOracle:
    """Pareto/NBD P(alive) at the *true* parameters (Fader & Hardie 2005 note, eq. for A0).

    A reference for the study's machinery that does not depend on model fitting.
    """

    def __init__(self, r: float, alpha: float, s: float, beta: float) -> None:
        self.params = pd.Series({"r": r, "alpha": alpha, "s": s, "beta": beta})

    def probability_alive(self, data: pd.DataFrame) -> np.ndarray:
        from scipy.special import hyp2f1

        r, a, s, b = self.params
        x, tx, T = (data[c].to_numpy(float) for c in ("frequency", "recency", "T"))
        rsx = r + s + x
        m, p2 = (a, s + 1) if a >= b else (b, r + x)
        d = abs(a - b)

        def log_term(t):
            return np.log(hyp2f1(rsx, p2, rsx + 1, d / (m + t))) - rsx * np.log(m + t)

        l1, l2 = log_term(tx), log_term(T)
        with np.errstate(divide="ignore"):
            log_a0 = l1 + np.log1p(-np.exp(l2 - l1))
        log_ratio = np.log(s / rsx) + (r + x) * np.log(a + T) + s * np.log(b + T) + log_a0
        return 1.0 / (1.0 + np.exp(log_ratio))


def cohort(n: int, *, link: float, seed: int, **kw):
    """A 13-week cohort observed for 78 weeks: weekly Pareto/NBD rates (means 0.11 and
    0.018) and order values of about $30 for everyone (q large: little spend heterogeneity)."""
    from crmlab.studies import SIMULATED_RETAILER

    return retailer(n, link=link, start=str(START.date()), seed=seed, **SIMULATED_RETAILER, **kw)


def oracle_of(sim) -> ParetoNBDOracle:
    p = sim.params
    return ParetoNBDOracle(p["r"], p["alpha"], p["s"], p["beta"])
