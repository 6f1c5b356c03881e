"""Time-invariant covariates on the model base (crmlab.models.base.Covariates).

Checks: a constant-zero covariate reproduces the fit without covariates; the
per-pattern likelihoods the covariate fits use equal the fast totals; analytic gradients
against finite differences; recovery of known effects from crmlab.simulate.retailer; the
saturated per-cohort sBG equals separate fits of each cohort; categorical coding and
predictions for new customers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import crmlab
from crmlab import simulate
from crmlab.errors import DataError
from crmlab.models import (
    BGNBD,
    MBGNBD,
    ConvergenceWarning,
    GammaGamma,
    IdentificationError,
    ParetoNBD,
    ShiftedBetaGeometric,
)
from crmlab.models.base import Covariates
from crmlab.models.sbg import contracts_from_cohorts

NBD = {"BGNBD": BGNBD, "MBGNBD": MBGNBD, "ParetoNBD": ParetoNBD}


@pytest.fixture(scope="module")
def summary() -> pd.DataFrame:
    tx = crmlab.load_dataset("cdnow_sample")
    s = crmlab.rfm_summary(tx, calibration_end="1997-09-30", time_unit="W")
    first = tx.sort_values("date").groupby("customer_id")["amount"].first()
    return s.assign(zero=0.0, log_first=np.log1p(first.reindex(s.index).to_numpy()))


@pytest.mark.parametrize("name", list(NBD))
def test_constant_zero_covariate_reproduces_the_fit_without_covariates(summary, name):
    plain = NBD[name]().fit(summary)
    with pytest.raises(IdentificationError, match="'zero' takes one value"):
        NBD[name]().fit(summary, covariates=["zero"])
    with pytest.warns(ConvergenceWarning, match="'zero' takes one value"):
        zero = NBD[name]().fit(summary, covariates=["zero"], strict=False)
    np.testing.assert_allclose(zero.params[plain.params.index], plain.params, rtol=1e-6)
    assert zero.loglik == pytest.approx(plain.loglik, abs=1e-6)
    assert (zero.params.drop(plain.params.index) == 0).all()
    # predictions at z = 0 are those of the plain fit
    np.testing.assert_allclose(
        zero.probability_alive(summary), plain.probability_alive(summary), rtol=1e-5
    )


def test_constant_zero_covariate_gamma_gamma_and_sbg(summary):
    plain = GammaGamma().fit(summary)
    with pytest.warns(ConvergenceWarning):
        zero = GammaGamma().fit(summary, covariates=["zero"], strict=False)
    np.testing.assert_allclose(zero.params[plain.params.index], plain.params, rtol=1e-6)
    cohorts = crmlab.load_dataset("retention_cohorts")
    frame = contracts_from_cohorts({"regular": cohorts["regular"][:8]}).assign(zero=0.0)
    plain = ShiftedBetaGeometric().fit(cohorts["regular"][:8])
    with pytest.warns(ConvergenceWarning):
        zero = ShiftedBetaGeometric().fit(frame, covariates=["zero"], strict=False)
    np.testing.assert_allclose(zero.params[["alpha", "beta"]], plain.params, rtol=1e-5)
    assert zero.loglik == pytest.approx(plain.loglik, abs=1e-8)


@pytest.mark.parametrize("name", list(NBD))
def test_per_pattern_likelihood_and_gradient(summary, name):
    model = NBD[name]()
    spec = Covariates.build(summary, ["log_first"], model.links)
    p = model._data(summary, spec.matrix(summary))
    start = dict(zip(model.names, [0.5, 8.0, 0.7, 3.0], strict=True))
    # at zero coefficients the per-pattern sum is the fast total
    each, _ = model._loglik_each(start, p)
    assert p.w @ each == pytest.approx(model.loglik(list(start.values()), summary), rel=1e-10)
    negll = model._objective(p, spec)
    theta = np.r_[np.log(list(start.values())), 0.1 * np.arange(1, len(spec.coef_names) + 1)]
    value, grad = negll(theta)
    h = 1e-6
    numeric = [
        (negll(theta + h * e)[0] - negll(theta - h * e)[0]) / (2 * h) for e in np.eye(theta.size)
    ]
    np.testing.assert_allclose(grad, numeric, rtol=1e-4, atol=1e-3)


def _simulated(model: str, effects: dict, n: int = 8000, seed: int = 3):
    rng = np.random.default_rng(11)
    cov = pd.DataFrame({"z": rng.standard_normal(n), "vip": (rng.random(n) < 0.3).astype(float)})
    sim = simulate.retailer(n, model=model, covariates=cov, effects=effects, seed=seed, horizon=104)
    s = crmlab.rfm_summary(
        sim.transactions, calibration_end=sim.params["observation_end"], time_unit="W"
    )
    return s.join(sim.truth[["z", "vip"]])


def _within(fit, truth: dict, k: float = 3.5) -> None:
    for name, value in truth.items():
        est, se = fit.params[name], fit.bse[name]
        assert abs(est - value) < k * se, (name, est, se, value)


def test_pareto_nbd_and_gamma_gamma_recover_known_effects():
    effects = {
        "purchase": {"z": 0.4, "vip": 0.5},
        "dropout": {"z": -0.3},
        "spend": {"z": 0.2},
    }
    data = _simulated("pareto_nbd", effects)
    fit = ParetoNBD().fit(data, covariates=["z", "vip"])
    _within(
        fit,
        {
            "r": 0.55,
            "alpha": 10.58,
            "s": 0.61,
            "beta": 11.67,
            "purchase:z": 0.4,
            "purchase:vip": 0.5,
            "dropout:z": -0.3,
            "dropout:vip": 0.0,
        },
    )
    spend = GammaGamma().fit(data, covariates=["z"])
    _within(spend, {"p": 6.25, "q": 3.74, "gamma": 15.44, "spend:z": 0.2})


@pytest.mark.parametrize("model, cls", [("bg_nbd", BGNBD), ("mbg_nbd", MBGNBD)])
def test_bg_family_recovers_known_effects(model, cls):
    effects = {"purchase": {"z": 0.4, "vip": 0.5}, "a": {"z": 0.3}, "b": {"vip": -0.4}}
    fit = cls().fit(_simulated(model, effects, n=10000), covariates=["z", "vip"])
    _within(
        fit,
        {
            "r": 0.55,
            "alpha": 10.58,
            "a": 0.79,
            "b": 2.43,
            "purchase:z": 0.4,
            "purchase:vip": 0.5,
            "a:z": 0.3,
            "a:vip": 0.0,
            "b:z": 0.0,
            "b:vip": -0.4,
        },
    )


def test_per_cohort_sbg_equals_separate_fits_of_each_cohort():
    cohorts = crmlab.load_dataset("retention_cohorts")
    regular, high = cohorts["regular"][:8], cohorts["high_end"][:8]
    frame = contracts_from_cohorts({"regular": regular, "high_end": high})
    fit = ShiftedBetaGeometric().fit(frame, covariates=["cohort"], reference={"cohort": "regular"})
    alone = {
        name: ShiftedBetaGeometric().fit(c)
        for name, c in (("regular", regular), ("high_end", high))
    }
    np.testing.assert_allclose(fit.params[["alpha", "beta"]], alone["regular"].params, rtol=1e-4)
    high_fit = fit.for_covariates({"cohort": "high_end"})
    np.testing.assert_allclose(high_fit.params, alone["high_end"].params, rtol=1e-4)
    assert fit.loglik == pytest.approx(alone["regular"].loglik + alone["high_end"].loglik, abs=1e-6)
    assert "reference level 'regular'" in fit.summary()
    np.testing.assert_allclose(
        high_fit.survival([1, 4, 7]), alone["high_end"].survival([1, 4, 7]), rtol=1e-4
    )


def test_categorical_coding_new_customers_and_unknown_levels(summary):
    data = summary.assign(
        size=pd.cut(summary["log_first"], [-1, 2.5, 3.5, 99], labels=["s", "m", "l"]).astype(str)
    )
    fit = ParetoNBD().fit(data, covariates=["size"], reference={"size": "m"})
    assert [n for n in fit.params.index if ":" in n] == [
        "purchase:size[l]",
        "purchase:size[s]",
        "dropout:size[l]",
        "dropout:size[s]",
    ]
    # predictions for a customer equal those of the individual model for their level
    one = data[data["size"] == "l"].head(5)
    alone = fit.for_covariates({"size": "l"})
    np.testing.assert_allclose(
        fit.expected_purchases(10, one),
        alone.expected_purchases(10, one[["frequency", "recency", "T"]]),
    )
    assert fit.expected_purchases(52.0, covariates={"size": "l"}) == pytest.approx(
        float(alone.expected_purchases(52.0))
    )
    alpha_l = fit.params["alpha"] * np.exp(-fit.params["purchase:size[l]"])
    assert alone.params["alpha"] == pytest.approx(alpha_l)
    with pytest.raises(DataError, match="levels the model was not fitted on"):
        fit.probability_alive(data.head(3).assign(size="xl"))
    with pytest.raises(DataError, match="covariates"):
        fit.expected_purchases(52.0)
    with pytest.raises(DataError, match="not columns of the summary"):
        ParetoNBD().fit(data, covariates=["nope"])
    with pytest.raises(DataError, match="missing values"):
        ParetoNBD().fit(
            data.assign(log_first=np.where(data.index == data.index[3], np.nan, 1.0)),
            covariates=["log_first"],
        )


def test_first_purchase_size_on_cdnow_has_standard_errors_and_intervals(summary):
    fit = BGNBD().fit(summary, covariates=["log_first"])
    assert fit.converged and (fit.bse > 0).all()
    ci = fit.conf_int()
    assert (ci["lower"] < fit.params).all() and (fit.params < ci["upper"]).all()
    assert "purchase:log_first" in fit.summary()
    frame = fit.clv(
        summary.head(50), spend=30.0, annual_discount_rate=0.1, horizon="1Y", level=0.9, draws=40
    )
    assert (frame["lower"] <= frame["clv"]).all() and (frame["clv"] <= frame["upper"]).all()


def test_retailer_with_zero_effects_draws_exactly_as_without_and_refuses_bad_effects():
    cov = pd.DataFrame({"z": np.linspace(-1, 1, 300)})
    plain = simulate.retailer(300, seed=5)
    zero = simulate.retailer(300, seed=5, covariates=cov, effects={"purchase": {"z": 0.0}})
    pd.testing.assert_frame_equal(plain.transactions, zero.transactions)
    moved = simulate.retailer(300, seed=5, covariates=cov, effects={"purchase": {"z": 1.0}})
    rates = moved.truth["purchase_rate"] / plain.truth["purchase_rate"]
    np.testing.assert_allclose(rates, np.exp(cov["z"].to_numpy()))  # same draws, scaled
    with pytest.raises(DataError, match="does not apply"):
        simulate.retailer(300, covariates=cov, effects={"a": {"z": 1.0}})
    with pytest.raises(DataError, match="one row per customer"):
        simulate.retailer(10, covariates=cov, effects={"purchase": {"z": 1.0}})
