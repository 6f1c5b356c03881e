"""Subscriptions with duration dependence (crmlab.simulate.discrete.subscriptions, c != 1):
the drawn lifetimes follow the beta-discrete-Weibull survival, and c = 1 keeps the sBG draw."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

from crmlab import DataError, simulate
from crmlab.models.bdw import BetaDiscreteWeibull


def _bdw_survival(alpha, beta, c, t):
    """S(t) = E[(1 - theta)^(t^c)] by quadrature over the beta mixing (brute force)."""
    value, _ = integrate.quad(
        lambda th: (1 - th) ** (t**c) * stats.beta.pdf(th, alpha, beta), 0, 1, limit=200
    )
    return value


@pytest.mark.parametrize("c", [0.6, 1.7])
def test_lifetimes_follow_the_bdw_survival(c):
    n, alpha, beta = 200_000, 0.9, 1.5
    sim = simulate.subscriptions(n, 10, alpha=alpha, beta=beta, c=c, seed=3)
    lifetime = sim.truth["lifetime"].to_numpy()
    assert lifetime.min() >= 1 and sim.params["c"] == c
    for t in (1, 2, 4, 8):
        share = (lifetime > t).mean()
        se = np.sqrt(share * (1 - share) / n)
        assert abs(share - _bdw_survival(alpha, beta, c, t)) < 4 * se, t
    alive = sim.alive["alive"].tolist()
    assert alive == [int((lifetime > t).sum()) for t in range(11)]


def test_given_theta_the_individual_survival_is_discrete_weibull():
    # one customer type (theta fixed by a near-degenerate beta): P(T > t) = (1 - theta)^(t^c)
    n, c = 200_000, 1.5
    sim = simulate.subscriptions(n, 6, alpha=3000.0, beta=7000.0, c=c, seed=4)
    lifetime = sim.truth["lifetime"].to_numpy()
    theta = sim.truth["theta"].mean()
    for t in (1, 2, 3):
        share = (lifetime > t).mean()
        assert share == pytest.approx((1 - theta) ** (t**c), abs=4 * np.sqrt(0.25 / n))


def test_c_one_is_the_sbg_draw_seed_for_seed():
    default = simulate.subscriptions(5000, 8, alpha=0.7, beta=1.2, seed=9)
    explicit = simulate.subscriptions(5000, 8, alpha=0.7, beta=1.2, c=1.0, seed=9)
    assert default.alive.equals(explicit.alive)
    assert default.truth.equals(explicit.truth)


def test_bdw_recovers_c_and_nests_the_sbg():
    sim = simulate.subscriptions(60_000, 10, alpha=0.8, beta=1.4, c=1.6, seed=21)
    fit = BetaDiscreteWeibull().fit(sim.alive["alive"].to_numpy())
    for name, value in {"alpha": 0.8, "beta": 1.4, "c": 1.6}.items():
        assert abs(fit.params[name] - value) < 3 * fit.bse[name], name


def test_c_must_be_positive():
    with pytest.raises(DataError, match="'c'"):
        simulate.subscriptions(100, 5, c=0.0)
