"""Shifted-beta-geometric (sBG) contract model: Fader & Hardie (2007) cohorts, closed forms
and degenerate inputs (moved from tests/test_models_discrete.py)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.special import hyp2f1

import crmlab
from crmlab.errors import DataError
from crmlab.models import ShiftedBetaGeometric
from crmlab.models.base import ConvergenceWarning, IdentificationError
from crmlab.models.sbg import ShiftedBetaGeometricResult

# ---------------------------------------------------------------- sBG


PAPER_SBG = {"regular": (0.704, 1.182), "high_end": (0.668, 3.806)}


@pytest.fixture(scope="module")
def cohorts() -> pd.DataFrame:
    return crmlab.load_dataset("retention_cohorts")


@pytest.mark.parametrize("segment", ["regular", "high_end"])
def test_sbg_reproduces_fader_hardie_2007(cohorts: pd.DataFrame, segment: str) -> None:
    calib = cohorts.loc[cohorts.year <= 7, segment]
    fit = ShiftedBetaGeometric().fit(calib)
    assert fit.converged
    alpha, beta = PAPER_SBG[segment]
    assert fit.params["alpha"] == pytest.approx(alpha, abs=6e-4)
    assert fit.params["beta"] == pytest.approx(beta, abs=6e-4)
    # projection of years 8-12: the closed form equals the chained retention rates
    years = np.arange(8, 13)
    projected = fit.project(years).to_numpy()
    chained = 1000 * np.cumprod(fit.retention_rate(np.arange(1, 13)))[years - 1]
    np.testing.assert_allclose(projected, chained, rtol=1e-12)
    # and tracks the actual survivors closely, as the paper's Figure shows (within 5%)
    actual = cohorts.set_index("year").loc[years, segment].to_numpy()
    assert np.all(np.abs(projected / actual - 1) < 0.05)
    assert np.all(projected < actual)  # the paper notes a slight under-projection


def test_sbg_probabilities_are_consistent() -> None:
    fit = ShiftedBetaGeometric().fit([1000, 631, 468, 382, 326, 289, 262, 241])
    t = np.arange(1, 300)
    churn = fit.churn_probability(t)
    np.testing.assert_allclose(1 - np.cumsum(churn), fit.survival(t), atol=1e-12)
    assert fit.survival(0) == 1.0
    np.testing.assert_allclose(
        fit.retention_rate(t[1:]), fit.survival(t[1:]) / fit.survival(t[:-1]), rtol=1e-12
    )
    assert fit.expected_lifetime() == np.inf  # alpha = 0.704 <= 1


def test_sbg_expected_lifetime_finite_case() -> None:
    fit = _sbg(alpha=3.0, beta=5.0)
    t = np.arange(0, 200_000)
    assert fit.expected_lifetime() == pytest.approx(np.sum(fit.survival(t)), rel=1e-4)


def _sbg(alpha: float, beta: float) -> ShiftedBetaGeometricResult:
    return ShiftedBetaGeometricResult(
        model="sBG",
        params=pd.Series({"alpha": alpha, "beta": beta}),
        cov=pd.DataFrame(np.zeros((2, 2))),
        loglik=np.nan,
        n_obs=1.0,
        converged=True,
        message="",
    )


@pytest.mark.parametrize("renewals", [0, 1, 4, 20])
def test_sbg_dert_equals_long_discounted_sum(renewals: int) -> None:
    fit = _sbg(alpha=0.704, beta=1.182)
    d, n = 0.1, renewals + 1
    k = np.arange(1, 6000)
    brute = np.sum(fit.survival(n + k - 1) / fit.survival(n - 1) / (1 + d) ** k)
    assert fit.dert(d, renewals=renewals) == pytest.approx(brute, rel=1e-10)
    if renewals == 0:  # Fader & Hardie (2010): DEL = 2F1(1, b; a + b; 1/(1 + d))
        assert 1 + fit.dert(d) == pytest.approx(hyp2f1(1, 1.182, 1.886, 1 / 1.1), rel=1e-12)
    # their DERL for a customer facing renewal n, with scipy's 2F1 as an independent check
    a, b = 0.704, 1.182
    paper = (b + n - 1) / (a + b + n - 1) * hyp2f1(1, b + n, a + b + n, 1 / (1 + d))
    assert fit.derl(d, renewals=renewals) == pytest.approx(paper, rel=1e-10)
    assert fit.clv(margin=50.0, discount_rate=d, renewals=renewals) == pytest.approx(50 * brute)


def test_sbg_recovers_parameters_from_simulation(rng: np.random.Generator) -> None:
    truth = (0.7, 1.2)
    theta = rng.beta(*truth, 80_000)
    lifetime = rng.geometric(theta)  # period in which the customer churns
    alive = [np.sum(lifetime > t) for t in range(0, 10)]
    fit = ShiftedBetaGeometric().fit(alive)
    assert fit.n_obs == 80_000
    for name, value in zip(("alpha", "beta"), truth, strict=True):
        assert abs(fit.params[name] - value) < 2 * fit.bse[name], name


def test_sbg_extreme_counts_do_not_crash() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = ShiftedBetaGeometric().fit([1000, 1000, 1000, 1000], strict=False)  # no churn
    assert np.isfinite(fit.loglik)
    assert not fit.converged
    assert any(issubclass(w.category, ConvergenceWarning) for w in caught)
    assert "did not converge" in fit.summary()
    assert fit.survival(3) > 0.999
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        fit = ShiftedBetaGeometric().fit([1000, 0, 0], strict=False)  # all churn at once
    assert np.isfinite(fit.loglik)
    assert fit.survival(1) < 1e-3
    with pytest.raises(IdentificationError, match="nobody churned"):
        ShiftedBetaGeometric().fit([1000, 1000, 1000, 1000])
    with pytest.raises(IdentificationError, match="everybody churned"):
        ShiftedBetaGeometric().fit([1000, 0, 0])


def test_sbg_rejects_bad_counts() -> None:
    with pytest.raises(DataError, match="rises at position 2"):
        ShiftedBetaGeometric().fit([1000, 600, 700])
    with pytest.raises(DataError, match="at least two"):
        ShiftedBetaGeometric().fit([1000])
    with pytest.raises(DataError, match="not finite"):
        ShiftedBetaGeometric().fit([1000, np.nan])
    with pytest.raises(DataError, match="retention_rate needs t >= 1"):
        _sbg(1.0, 1.0).retention_rate(0)
