"""Pareto/NBD with correlated rates (Sarmanov family, as CLVTools' use.cor): m = 0 is the
Pareto/NBD on CDNOW, the likelihood against two-dimensional quadrature, and the
correlation recovered with its standard error from customers simulated with known m."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import crmlab
from crmlab.models import IdentificationError, ParetoNBD
from crmlab.models.correlated import CorrelatedParetoNBD, m_bounds


@pytest.fixture(scope="module")
def summary() -> pd.DataFrame:
    tx = crmlab.load_dataset("cdnow_sample")
    return crmlab.rfm_summary(
        tx, calibration_end="1997-09-30", observation_end="1998-06-30", time_unit="W"
    )


def simulate(n, r, alpha, s, beta, m, seed, T=(10.0, 40.0)):
    """Rates from the Sarmanov density by rejection from the product of the gammas (accept
    with probability (1 + m phi_A phi_B) / (1 + |m|)); Pareto/NBD purchases given them."""
    rng = np.random.default_rng(seed)
    la, lb = (alpha / (alpha + 1)) ** r, (beta / (beta + 1)) ** s
    lam, mu = np.empty(0), np.empty(0)
    while lam.size < n:
        draw_l, draw_m = rng.gamma(r, 1 / alpha, n), rng.gamma(s, 1 / beta, n)
        accept = (1 + m * (np.exp(-draw_l) - la) * (np.exp(-draw_m) - lb)) / (1 + abs(m))
        keep = rng.random(n) < accept
        lam, mu = np.r_[lam, draw_l[keep]], np.r_[mu, draw_m[keep]]
    lam, mu = lam[:n], mu[:n]
    age = rng.uniform(T[0], T[1], n)
    life = np.minimum(rng.exponential(1 / mu), age)
    x = rng.poisson(lam * life).astype(float)
    tx = np.where(x > 0, life * rng.random(n) ** (1 / np.maximum(x, 1)), 0.0)
    frame = pd.DataFrame({"frequency": x, "recency": tx, "T": age})
    frame.attrs["time_unit"] = "W"
    return frame


def test_zero_correlation_is_the_pareto_nbd_on_cdnow(summary):
    pareto = ParetoNBD().fit(summary)
    model = CorrelatedParetoNBD()
    values = [*pareto.params, 0.0]
    assert model.loglik(values, summary) == pytest.approx(pareto.loglik, abs=1e-9)
    held = model.fit(summary, fixed={"m": 0.0})
    np.testing.assert_allclose(held.params.iloc[:4], pareto.params, rtol=1e-5)
    assert held.loglik == pytest.approx(pareto.loglik, abs=1e-6)
    assert held.bse["m"] == 0 and held.k == 4
    exact = held.with_params(values)
    np.testing.assert_allclose(
        exact.probability_alive(summary), pareto.probability_alive(summary), atol=1e-12
    )
    np.testing.assert_allclose(
        exact.expected_purchases(39.0, summary),
        pareto.expected_purchases(39.0, summary),
        rtol=1e-10,
    )
    np.testing.assert_allclose(
        exact.expected_purchases(np.array([5.0, 52.0])),
        pareto.expected_purchases(np.array([5.0, 52.0])),
        rtol=1e-12,
    )


def test_cdnow_asks_for_more_correlation_than_the_family_allows(summary):
    # the Sarmanov kernel exp(-lambda) on weekly rates near 0 bounds |rho| below ~0.1 here;
    # CDNOW's likelihood rises to the upper bound of m, and the fit says so
    with pytest.raises(IdentificationError, match="bound of the Sarmanov family"):
        CorrelatedParetoNBD().fit(summary)


POINT = (1.2, 2.0, 1.5, 3.0)  # shapes above 1: smooth densities for the product rule
PATTERNS = [(0, 0.0, 12.0), (4, 6.5, 20.0), (1, 0.3, 30.0)]


def _product_rule() -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes and weights on [0, 30] in panels (the gamma densities here
    are below e^-50 beyond 30)."""
    u, w = np.polynomial.legendre.leggauss(60)
    edges = [0.0, 1e-3, 0.01, 0.05, 0.25, 1.0, 3.0, 8.0, 30.0]
    panels = list(zip(edges[:-1], edges[1:], strict=True))
    nodes = np.concatenate([lo + (hi - lo) * (u + 1) / 2 for lo, hi in panels])
    weights = np.concatenate([(hi - lo) * w / 2 for lo, hi in panels])
    return nodes, weights


def _brute(x, tx, T, m):
    """ln of the Pareto/NBD likelihood given (lambda, mu) integrated against the Sarmanov
    density by a product Gauss-Legendre rule in (lambda, mu)."""
    r, alpha, s, beta = POINT
    la, lb = (alpha / (alpha + 1)) ** r, (beta / (beta + 1)) ** s
    nodes, weights = _product_rule()
    lam, mu = nodes[:, None], nodes[None, :]
    density = (
        stats.gamma.pdf(lam, r, scale=1 / alpha)
        * stats.gamma.pdf(mu, s, scale=1 / beta)
        * (1 + m * (np.exp(-lam) - la) * (np.exp(-mu) - lb))
    )
    total = lam + mu
    alive = lam**x * np.exp(-total * T)
    dead = lam**x * mu / total * (np.exp(-total * tx) - np.exp(-total * T))
    return np.log(weights @ (density * (alive + dead)) @ weights)


@pytest.mark.parametrize("m", [-1.5, 0.0, 2.5])
def test_likelihood_matches_two_dimensional_quadrature(m):
    low, high = m_bounds(*POINT)
    assert low < m < high
    frame = pd.DataFrame(PATTERNS, columns=["frequency", "recency", "T"])
    brute = sum(_brute(*row, m) for row in PATTERNS)
    assert CorrelatedParetoNBD().loglik([*POINT, m], frame) == pytest.approx(brute, rel=1e-9)


def test_recovers_the_correlation_with_its_standard_error():
    # the gamma marginals held at their true values (a free five-parameter fit of 6,000
    # customers takes minutes): the correlation is estimated from the joint behaviour
    truth = (1.0, 2.0, 1.0, 4.0, 3.0)
    data = simulate(6000, *truth, seed=4)
    marginals = dict(zip(("r", "alpha", "s", "beta"), truth[:4], strict=True))
    fit = CorrelatedParetoNBD().fit(data, fixed=marginals)
    rho = fit.with_params(list(truth)).correlation
    assert rho == pytest.approx(3 * (2 / 3) * 0.8 / 15)
    assert abs(fit.correlation - rho) < 3 * fit.correlation_se
    assert abs(fit.params["m"] - 3.0) < 3 * fit.bse["m"]
    assert fit.correlation / fit.correlation_se > 2  # positive correlation detected
    assert "Correlation of purchase and dropout rates" in fit.summary()
    # a new customer's expected purchases against the simulated mean
    t = 15.0
    fresh = simulate(100000, *truth, seed=5, T=(t, t))
    exact = fit.with_params(list(truth))
    se = fresh["frequency"].std() / np.sqrt(len(fresh))
    assert abs(float(exact.expected_purchases(t)) - fresh["frequency"].mean()) < 4 * se
