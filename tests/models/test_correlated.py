"""Pareto/NBD with correlated rates (Sarmanov family, as CLVTools' use.cor): m = 0 is the
Pareto/NBD on CDNOW, the analytic gradient against finite differences, the likelihood
against two-dimensional quadrature over (lambda, mu), CDNOW's fits on the family's bound
(sample and full cohort) with the likelihood-ratio test and the profile interval, and the
parameters, correlation, P(alive) and expectations recovered from customers simulated with
known m (crmlab.simulate.correlated)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

import crmlab
from crmlab.errors import DataError
from crmlab.models import ParetoNBD
from crmlab.models.correlated import (
    CorrelatedParetoNBD,
    FamilyBoundWarning,
    _rho_parts,
    _sarmanov_loglik,
    compare_kernel_scales,
    correlation_range,
    m_bounds,
)
from crmlab.simulate.correlated import (
    correlated_customers,
    sarmanov_rates,
)


def _summary(name: str) -> pd.DataFrame:
    tx = crmlab.load_dataset(name)
    return crmlab.rfm_summary(
        tx, calibration_end="1997-09-30", observation_end="1998-06-30", time_unit="W"
    )


@pytest.fixture(scope="module")
def summary() -> pd.DataFrame:
    return _summary("cdnow_sample")


@pytest.fixture(scope="module")
def pareto(summary) -> crmlab.models.ParetoNBDResult:
    return ParetoNBD().fit(summary)


@pytest.mark.parametrize("scale", [1.0, 10.0])
def test_zero_correlation_is_the_pareto_nbd_on_cdnow(summary, pareto, scale):
    model = CorrelatedParetoNBD(kernel_scale=scale)
    values = [*pareto.params, 0.0]
    assert model.loglik(values, summary) == pytest.approx(pareto.loglik, abs=1e-9)
    held = model.fit(summary, fixed={"m": 0.0})
    np.testing.assert_allclose(held.params.iloc[:4], pareto.params, rtol=1e-5)
    assert held.loglik == pytest.approx(pareto.loglik, abs=1e-6)
    assert held.bse["m"] == 0 and held.k == 4 and held.correlation == 0
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


@pytest.mark.parametrize("scale", [1.0, 10.0])
@pytest.mark.parametrize("share", [-0.6, 0.7])
def test_gradient_matches_finite_differences(summary, pareto, scale, share):
    marginals = pareto.params.to_numpy() * np.array([1.1, 0.9, 1.2, 0.8])
    low, high = m_bounds(*marginals, scale)
    values = np.r_[marginals, share * (high if share > 0 else -low)]
    p = CorrelatedParetoNBD(scale)._data(summary, None)
    value, grad = _sarmanov_loglik(values, scale, p, grad=True)
    theta = np.r_[np.log(values[:4]), values[4]]

    def at(t):
        return _sarmanov_loglik(np.r_[np.exp(t[:4]), t[4]], scale, p)[0]

    numeric = []
    for i in range(5):
        step = np.zeros(5)
        step[i] = 1e-6
        numeric.append((at(theta + step) - at(theta - step)) / 2e-6)
    assert value == pytest.approx(CorrelatedParetoNBD(scale).loglik(values, summary))
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-3)


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


def _brute(x, tx, T, m, c):
    """ln of the Pareto/NBD likelihood given (lambda, mu) integrated against the Sarmanov
    density by a product Gauss-Legendre rule in (lambda, mu)."""
    r, alpha, s, beta = POINT
    la, lb = (alpha / (alpha + c)) ** r, (beta / (beta + c)) ** s
    nodes, weights = _product_rule()
    lam, mu = nodes[:, None], nodes[None, :]
    density = (
        stats.gamma.pdf(lam, r, scale=1 / alpha)
        * stats.gamma.pdf(mu, s, scale=1 / beta)
        * (1 + m * (np.exp(-c * lam) - la) * (np.exp(-c * mu) - lb))
    )
    total = lam + mu
    alive = lam**x * np.exp(-total * T)
    dead = lam**x * mu / total * (np.exp(-total * tx) - np.exp(-total * T))
    return np.log(weights @ (density * (alive + dead)) @ weights)


@pytest.mark.parametrize(("m", "c"), [(-1.5, 1.0), (0.0, 1.0), (2.5, 1.0), (-1.2, 3.0), (1.3, 3.0)])
def test_likelihood_matches_two_dimensional_quadrature(m, c):
    low, high = m_bounds(*POINT, c)
    assert low < m < high
    frame = pd.DataFrame(PATTERNS, columns=["frequency", "recency", "T"])
    brute = sum(_brute(*row, m, c) for row in PATTERNS)
    model = CorrelatedParetoNBD(kernel_scale=c)
    assert model.loglik([*POINT, m], frame) == pytest.approx(brute, rel=1e-9)
    outside = [*POINT, high * 1.01]
    assert model.loglik(outside, frame) == -np.inf  # not a density there


def test_correlation_and_range_from_the_bounds():
    # rho = m L_A L_B sqrt(rs) c^2 / ((alpha + c)(beta + c)), and its range the m bounds'
    r, alpha, s, beta = POINT
    c = 2.0
    la, lb = (alpha / (alpha + c)) ** r, (beta / (beta + c)) ** s
    per_m = la * lb * np.sqrt(r * s) * c**2 / ((alpha + c) * (beta + c))
    low, high = m_bounds(*POINT, c)
    assert correlation_range(*POINT, kernel_scale=c) == pytest.approx((low * per_m, high * per_m))
    assert low == pytest.approx(-1 / max(la * lb, (1 - la) * (1 - lb)))
    assert high == pytest.approx(1 / max(la * (1 - lb), (1 - la) * lb))


def test_cdnow_sample_ends_on_the_family_bound(summary, pareto):
    # CLVTools' kernel (c = 1) on weekly CDNOW: the likelihood rises to the upper bound
    # of m; the fit is the constrained maximum, says so, and the test of m = 0 still holds
    with pytest.warns(FamilyBoundWarning, match="upper bound of the Sarmanov family"):
        fit = CorrelatedParetoNBD().fit(summary)
    assert fit.extra["at_bound"] == "upper" and fit.converged
    assert fit.correlation == pytest.approx(fit.correlation_range[1], rel=1e-6)
    assert fit.params["m"] == pytest.approx(m_bounds(*fit.params.iloc[:4])[1], rel=1e-6)
    assert np.isnan(fit.correlation_se)
    assert "on the upper bound of the Sarmanov family" in fit.summary()
    test = fit.likelihood_ratio(pareto)
    assert test["statistic"] == pytest.approx(2 * (fit.loglik - pareto.loglik))
    assert test["p_value"] < 0.05
    # the constrained maximum: the profile there equals the fit, and falls below it
    model = CorrelatedParetoNBD()
    at, _ = model.profile(summary, fit.correlation, fit.params)
    assert at == pytest.approx(fit.loglik, abs=1e-4)
    inside, _ = model.profile(summary, fit.correlation - 0.02, fit.params)
    assert inside < fit.loglik
    # the same maximum from a start elsewhere in the family
    with pytest.warns(FamilyBoundWarning):
        again = CorrelatedParetoNBD().fit(
            summary, initial={"r": 0.8, "alpha": 15.0, "s": 0.3, "beta": 5.0, "m": -0.5}
        )
    assert again.loglik == pytest.approx(fit.loglik, abs=1e-3)


def test_kernel_scales_compared_on_cdnow(summary, pareto):
    # every scale ends on the family's upper bound; the table records it, the likelihoods
    # compare across scales (each nests the Pareto/NBD) and rows match single fits
    table = compare_kernel_scales(summary, scales=(1.0, 10.0))
    assert list(table["at_bound"]) == ["upper", "upper"]
    assert table["correlation_se"].isna().all()
    assert table.attrs["pareto_nbd_loglik"] == pytest.approx(pareto.loglik)
    np.testing.assert_allclose(table["correlation"], table["range_high"], rtol=1e-6)
    with pytest.warns(FamilyBoundWarning):
        single = CorrelatedParetoNBD(kernel_scale=10.0).fit(summary)
    row = table.iloc[1]
    assert row["loglik"] == pytest.approx(single.loglik, abs=1e-6)
    assert row["lr_statistic"] == pytest.approx(2 * (single.loglik - pareto.loglik), abs=1e-5)
    assert row["p_value"] == pytest.approx(stats.chi2.sf(row["lr_statistic"], 1))
    assert (table["loglik"] > pareto.loglik).all()


def test_cdnow_full_cohort_rejects_independence():
    full = _summary("cdnow")
    assert len(full) == 23570
    pareto = ParetoNBD().fit(full)
    with pytest.warns(FamilyBoundWarning):
        fit = CorrelatedParetoNBD(kernel_scale=10.0).fit(full)
    assert fit.extra["at_bound"] == "upper"
    test = fit.likelihood_ratio(pareto)
    assert test["p_value"] < 1e-10
    assert 0 < fit.correlation <= fit.correlation_range[1] * (1 + 1e-9)


@pytest.fixture(scope="module")
def simulated():
    # times recorded to the day, as transaction data are (1,500 distinct patterns)
    return correlated_customers(
        6000, r=1.0, alpha=2.0, s=1.0, beta=4.0, m=3.0, resolution=1 / 7, seed=4
    )


def test_simulated_rates_have_the_stated_correlation():
    rng = np.random.default_rng(7)
    lam, mu = sarmanov_rates(200_000, r=1.0, alpha=2.0, s=1.0, beta=4.0, m=3.0, rng=rng)
    rho = 3 * (2 / 3) * 0.8 / 15  # m L_A L_B sqrt(rs) / ((alpha+1)(beta+1))
    se = (1 + rho**2) / np.sqrt(lam.size) * 3  # generous: the rates are skewed
    assert np.corrcoef(lam, mu)[0, 1] == pytest.approx(rho, abs=3 * se)
    assert lam.mean() == pytest.approx(0.5, rel=0.01) and mu.mean() == pytest.approx(0.25, rel=0.01)
    with pytest.raises(DataError, match="'m'"):
        sarmanov_rates(10, r=1.0, alpha=2.0, s=1.0, beta=4.0, m=50.0, rng=rng)


@pytest.fixture(scope="module")
def simulated_fit(simulated):
    return CorrelatedParetoNBD().fit(simulated.summary)


def test_recovers_the_parameters_and_correlation(simulated, simulated_fit):
    truth = simulated.params
    data = simulated.summary
    fit = simulated_fit
    assert fit.extra["at_bound"] is None and fit.converged
    for name in ("r", "alpha", "s", "beta", "m"):
        assert abs(fit.params[name] - truth[name]) < 3 * fit.bse[name], name
    rho = fit.with_params([truth[n] for n in ("r", "alpha", "s", "beta", "m")]).correlation
    assert rho == pytest.approx(3 * (2 / 3) * 0.8 / 15)
    assert abs(fit.correlation - rho) < 3 * fit.correlation_se
    assert fit.correlation / fit.correlation_se > 2  # positive correlation detected
    assert "Correlation of purchase and dropout rates" in fit.summary()
    independent = ParetoNBD().fit(data)
    assert fit.likelihood_ratio(independent)["p_value"] < 0.01
    interval = fit.correlation_interval(data, steps=4)
    assert interval["lower"] < rho < interval["upper"]
    assert interval["lower"] < fit.correlation < interval["upper"]
    # below the estimate the profile is quadratic: the delta-method half-width; above it
    # the family's bound (0.131 at the fitted marginals) makes the likelihood fall fast
    se = fit.correlation_se
    assert fit.correlation - interval["lower"] == pytest.approx(1.96 * se, rel=0.1)
    assert interval["upper"] - fit.correlation < 0.6 * (fit.correlation - interval["lower"])
    assert not interval["upper_limited_by_family"]


def test_profile_is_the_maximum_over_the_marginals(simulated, simulated_fit):
    # the profile's SLSQP against Nelder-Mead over the four marginals with m = rho / base
    # (below the estimate, where m at the profile's maximum is inside the family)
    fit, data = simulated_fit, simulated.summary
    rho = fit.correlation - fit.correlation_se
    model = CorrelatedParetoNBD()
    profile, where = model.profile(data, rho, fit.params)
    p = model._data(data, None)

    def negative(theta):
        marginals = np.exp(theta)
        values = np.r_[marginals, rho / _rho_parts(marginals, 1.0)[0]]
        low, high = m_bounds(*marginals)
        return 1e10 if not low <= values[4] <= high else -_sarmanov_loglik(values, 1.0, p)[0]

    start = np.log(where.to_numpy()[:4] * 1.02)
    settings = {"xatol": 1e-8, "fatol": 1e-8, "maxiter": 4000}
    direct = optimize.minimize(negative, start, method="Nelder-Mead", options=settings)
    assert profile == pytest.approx(-direct.fun, abs=1e-4)
    assert profile == pytest.approx(fit.loglik - 0.5, abs=0.05)  # one SE: quadratic here
    assert where["m"] * _rho_parts(where.to_numpy(), 1.0)[0] == pytest.approx(rho)


def test_probability_alive_and_expectations_against_the_simulation(simulated, simulated_fit):
    truth = simulated.params
    values = [truth[n] for n in ("r", "alpha", "s", "beta", "m")]
    exact = simulated_fit.with_params(values)
    p = exact.probability_alive(simulated.summary).to_numpy()
    alive = simulated.truth["alive"].to_numpy()
    assert abs(p.sum() - alive.sum()) < 4 * np.sqrt(np.sum(p * (1 - p)))
    # a new customer's expected purchases against the simulated mean
    t = 15.0
    fresh = correlated_customers(
        100_000, **{k: truth[k] for k in ("r", "alpha", "s", "beta", "m")}, age=(t, t), seed=5
    ).summary
    se = fresh["frequency"].std() / np.sqrt(len(fresh))
    assert abs(float(exact.expected_purchases(t)) - fresh["frequency"].mean()) < 4 * se


def test_bad_kernel_scale_and_parameters_are_named():
    for bad in (0, -1.0, float("nan"), "ten", True):
        with pytest.raises(DataError, match="kernel_scale"):
            CorrelatedParetoNBD(kernel_scale=bad)
    with pytest.raises(DataError, match="r, alpha, s, beta > 0"):
        CorrelatedParetoNBD().loglik([1.0, -2.0, 1.0, 1.0, 0.0], pd.DataFrame())
    frame = pd.DataFrame(PATTERNS * 3, columns=["frequency", "recency", "T"])
    everything = dict(zip(CorrelatedParetoNBD.names, [*POINT, 0.0], strict=True))
    with pytest.raises(DataError, match="leave at least one free"):
        CorrelatedParetoNBD().fit(frame, fixed=everything)
    with pytest.raises(DataError, match="not parameters"):
        CorrelatedParetoNBD().fit(frame, fixed={"gamma": 1.0})
