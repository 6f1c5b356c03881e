"""BG/NBD, MBG/NBD, Pareto/NBD: published tables, brute force and parameter recovery."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats
from scipy.special import betaln, gammaln

import crmlab
from crmlab import simulate
from crmlab.models import BGNBD, MBGNBD, ParetoNBD, nbd
from crmlab.models.diagnostics import conditional_expectations, frequency_fit, tracking


@pytest.fixture(scope="module")
def summary() -> pd.DataFrame:
    tx = crmlab.load_dataset("cdnow_sample")
    return crmlab.rfm_summary(
        tx, calibration_end="1997-09-30", observation_end="1998-06-30", time_unit="W"
    )


@pytest.fixture(scope="module")
def fits(summary):
    return {M.__name__: M().fit(summary) for M in (BGNBD, ParetoNBD, MBGNBD)}


def test_bgnbd_reproduces_fader_hardie_lee_2005(fits):
    res = fits["BGNBD"]
    assert res.params.round(3).to_dict() == {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    assert round(res.loglik, 1) == -9582.4
    assert res.converged and (res.bse > 0).all()
    assert "BG/NBD" in res.summary()


def test_pareto_nbd_reproduces_published_estimates(fits):
    res = fits["ParetoNBD"]
    assert res.params.round(3).to_dict() == {
        "r": 0.553,
        "alpha": 10.578,
        "s": 0.606,
        "beta": 11.669,
    }
    assert round(res.loglik, 1) == -9595.0


@pytest.mark.parametrize("model", ["BGNBD", "MBGNBD", "ParetoNBD"])
def test_purchase_probabilities_sum_to_one_and_match_the_mean(fits, model):
    res = fits[model]
    n = np.arange(0, 800)
    for t in (1.0, 39.0, 150.0):
        probs = res.purchase_probability(n, t)
        assert probs.sum() == pytest.approx(1.0, abs=1e-5)
        assert (probs * n).sum() == pytest.approx(float(res.expected_purchases(t)), rel=1e-3)


@pytest.mark.parametrize(
    ("model", "truth"),
    [
        (BGNBD, {"r": 0.5, "alpha": 6.0, "a": 0.9, "b": 3.0}),
        (MBGNBD, {"r": 0.5, "alpha": 6.0, "a": 0.9, "b": 3.0}),
        (ParetoNBD, {"r": 0.6, "alpha": 8.0, "s": 0.7, "beta": 10.0}),
    ],
)
def test_parameter_recovery(model, truth):
    """60k customers of crmlab.simulate, exact (continuous-time) summaries."""
    name = {BGNBD: "bg_nbd", MBGNBD: "mbg_nbd", ParetoNBD: "pareto_nbd"}[model]
    sim = simulate.retailer(
        60_000, model=name, acquisition_periods=None, horizon=60, seed=3, **truth
    )
    res = model().fit(sim.truth[["frequency", "recency", "T"]])
    z = (res.params.to_numpy() - np.array(list(truth.values()))) / res.bse.to_numpy()
    assert np.all(np.abs(z) < 2.5), dict(zip(res.params.index, z.round(2), strict=True))


# --- gradients and brute-force integration ------------------------------------------

PARAM_POINTS = {
    "BGNBD": [(0.243, 4.414, 0.793, 2.426), (2.0, 0.5, 0.2, 40.0), (0.05, 200.0, 30.0, 0.3)],
    "MBGNBD": [(0.525, 6.183, 0.891, 1.614), (2.0, 0.5, 0.2, 40.0), (0.05, 200.0, 30.0, 0.3)],
    "ParetoNBD": [(0.553, 10.578, 0.606, 11.669), (2.0, 0.5, 0.3, 200.0), (0.1, 300.0, 5.0, 0.5)],
}
MODEL_CLASSES = {"BGNBD": BGNBD, "MBGNBD": MBGNBD, "ParetoNBD": ParetoNBD}
# (x, t_x, T): new and one-off customers, heavy buyers, long and short histories
PATTERNS = [
    (0, 0.0, 1.0),
    (0, 0.0, 39.0),
    (0, 0.0, 500.0),
    (1, 0.5, 1.0),
    (1, 20.0, 39.0),
    (5, 38.0, 39.0),
    (5, 2.0, 500.0),
    (40, 30.0, 39.0),
    (300, 499.0, 500.0),
    (300, 20.0, 500.0),
]


def _pattern_frame(patterns=PATTERNS) -> pd.DataFrame:
    return pd.DataFrame(patterns, columns=["frequency", "recency", "T"]).astype(float)


@pytest.mark.parametrize("name", list(MODEL_CLASSES))
def test_analytic_gradient_matches_finite_differences(name, summary):
    cls = MODEL_CLASSES[name]
    extreme = pd.concat([summary[["frequency", "recency", "T"]], _pattern_frame()])
    for data in (summary, extreme, _pattern_frame([(0, 0.0, t) for t in (5.0, 50.0, 90.0)])):
        p = nbd._patterns(data)
        for point in PARAM_POINTS[name]:
            theta = np.log(point)
            value, grad = cls._loglik(theta, p, grad=True)
            assert value == pytest.approx(cls._loglik(theta, p))
            h = 1e-6
            numeric = [
                (cls._loglik(theta + h * e, p) - cls._loglik(theta - h * e, p)) / (2 * h)
                for e in np.eye(4)
            ]
            assert grad == pytest.approx(numeric, rel=1e-5, abs=1e-6 * max(1.0, abs(value)))


def _beta_mean(h, a: float, b: float) -> float:
    """E[h(p)] for p ~ Beta(a, b), by adaptive quadrature with the beta kernel as weight."""
    value, _ = integrate.quad(
        h, 0.0, 1.0, weight="alg", wvar=(a - 1, b - 1), epsabs=0, epsrel=1e-10
    )
    return value / np.exp(betaln(a, b))


def _brute_force(name: str, params, x: float, tx: float, T: float, t: float):
    """Log-likelihood, P(alive) and E[X(T, T+t)] from the individual-level model, mixed by
    numerical integration: only the gamma Laplace transform
    E[l^x e^(-l c)] = Gamma(r+x)/Gamma(r) alpha^r / (alpha+c)^(r+x) is used in closed form.
    Both branches are scaled by (alpha + t_x)^-(r+x) so nothing underflows."""
    if name == "ParetoNBD":
        r, alpha, s, beta = params
        log_scale = -(r + x) * np.log(alpha + tx) - s * np.log(beta + tx)
        log_c = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta) + log_scale

        def relative(tau: float) -> float:  # survival of both processes to tau, scaled
            return ((alpha + tx) / (alpha + tau)) ** (r + x) * ((beta + tx) / (beta + tau)) ** s

        stay = relative(T)  # alive at T
        drop, _ = integrate.quad(  # no purchase after t_x, death at tau in (t_x, T)
            lambda tau: relative(tau) * s / (beta + tau), tx, T, epsabs=0, epsrel=1e-10, limit=200
        )
        # alive: lambda ~ Gamma(r+x, alpha+T), mu ~ Gamma(s, beta+T); E[lambda (1-e^-mu t)/mu]
        remaining, _ = integrate.quad(
            lambda u: ((beta + T) / (beta + T + u)) ** s, 0.0, t, epsabs=0, epsrel=1e-10
        )
        per_alive = (r + x) / (alpha + T) * remaining
    else:
        r, alpha, a, b = params
        mbg = name == "MBGNBD"
        log_c = gammaln(r + x) - gammaln(r) + r * np.log(alpha) - (r + x) * np.log(alpha + tx)
        k = x + 1 if mbg else x  # (1-p)^k: survived every chance to leave

        def expected_given(p: float) -> float:  # E over lambda of (1 - e^(-lambda p t)) / p
            if p == 0:
                return (r + x) * t / (alpha + T)
            return -np.expm1(-(r + x) * np.log1p(p * t / (alpha + T))) / p

        survive = _beta_mean(lambda p: (1 - p) ** k, a, b)
        stay = ((alpha + tx) / (alpha + T)) ** (r + x) * survive
        drop = 0.0
        if mbg or x > 0:
            drop = _beta_mean(lambda p: p * (1 - p) ** (k - 1), a, b)
        # given alive, p ~ Beta(a, b + k) (conjugate): integrate over its bulk
        posterior = stats.beta(a, b + k)
        per_alive, _ = integrate.quad(
            lambda p: expected_given(p) * posterior.pdf(p),
            posterior.ppf(1e-15),
            posterior.isf(1e-15),
            points=[posterior.mean()],
            epsabs=0,
            epsrel=1e-10,
            limit=200,
        )
    likelihood = stay + drop
    return log_c + np.log(likelihood), stay / likelihood, stay / likelihood * per_alive


def _result(name: str, params):
    cls = {"BGNBD": nbd.BGNBDResult, "MBGNBD": nbd.MBGNBDResult, "ParetoNBD": nbd.ParetoNBDResult}
    names = MODEL_CLASSES[name].names
    return cls[name](
        model=name,
        params=pd.Series(params, index=list(names)),
        cov=pd.DataFrame(np.zeros((4, 4))),
        loglik=np.nan,
        n_obs=1.0,
        converged=True,
        message="",
    )


@pytest.mark.filterwarnings("ignore::scipy.integrate.IntegrationWarning")  # the asserts judge
@pytest.mark.parametrize("name", list(MODEL_CLASSES))
def test_likelihood_and_predictions_match_brute_force_integration(name):
    data = _pattern_frame()
    for params in PARAM_POINTS[name]:
        res = _result(name, params)
        alive = res.probability_alive(data).to_numpy()
        expected = res.expected_purchases(52.0, data).to_numpy()
        for k, (x, tx, T) in enumerate(PATTERNS):
            ll = MODEL_CLASSES[name]().loglik(params, data.iloc[[k]])
            brute_ll, brute_alive, brute_expected = _brute_force(name, params, x, tx, T, 52.0)
            where = (name, params, (x, tx, T))
            assert ll == pytest.approx(brute_ll, rel=1e-8, abs=1e-8), where
            assert alive[k] == pytest.approx(brute_alive, rel=1e-6, abs=1e-12), where
            assert expected[k] == pytest.approx(brute_expected, rel=1e-6, abs=1e-12), where


def test_loglik_scores_given_parameters(fits, summary):
    res = fits["BGNBD"]
    assert BGNBD().loglik(res.params, summary) == pytest.approx(res.loglik, rel=1e-12)
    with pytest.raises(crmlab.DataError, match="4 positive values"):
        BGNBD().loglik([1.0, 2.0], summary)


def test_bgnbd_one_time_buyers_are_alive_but_not_under_mbgnbd(fits):
    data = pd.DataFrame({"frequency": [0.0], "recency": [0.0], "T": [38.0]})
    assert fits["BGNBD"].probability_alive(data).iloc[0] == 1.0
    assert fits["MBGNBD"].probability_alive(data).iloc[0] < 1.0


def test_extreme_inputs_stay_finite(fits):
    data = pd.DataFrame(
        {"frequency": [0.0, 300.0, 300.0, 1.0], "recency": [0.0, 499.0, 20.0, 500.0], "T": 500.0}
    )
    for res in fits.values():
        alive = res.probability_alive(data)
        assert np.isfinite(alive).all() and ((alive >= 0) & (alive <= 1)).all()
        assert np.isfinite(res.expected_purchases(52.0, data)).all()
    assert fits["ParetoNBD"].probability_alive(data).iloc[2] < 1e-6


def test_all_zero_repeat_customers_raise_or_warn_when_asked():
    data = pd.DataFrame({"frequency": 0.0, "recency": 0.0, "T": np.linspace(10, 50, 500)})
    with pytest.raises(crmlab.models.IdentificationError, match="none of the 500 customers"):
        BGNBD().fit(data)
    with pytest.warns(crmlab.models.base.ConvergenceWarning, match="none of the 500"):
        res = BGNBD().fit(data, strict=False)
    assert not res.converged
    assert "did not converge" in res.summary()


def test_weights_equal_repeated_rows(summary):
    patterns = summary[["frequency", "recency", "T"]].round(0)
    counts = patterns.value_counts().rename("weight").reset_index()
    a = BGNBD().fit(patterns)
    b = BGNBD().fit(counts)
    assert a.loglik == pytest.approx(b.loglik, rel=1e-8)


def test_clv_discounting(fits, summary):
    res = fits["BGNBD"]
    spend = pd.Series(50.0, index=summary.index)
    undiscounted = res.clv(summary, spend=spend, margin=0.3, discount_rate=0.0, horizon=52)
    expected = 0.3 * 50.0 * res.expected_purchases(52.0, summary)
    np.testing.assert_allclose(undiscounted, expected, rtol=1e-9)
    discounted = res.clv(summary, spend=spend, margin=0.3, discount_rate=0.01, horizon=52)
    assert (discounted <= undiscounted + 1e-12).all()
    with pytest.raises(crmlab.DataError, match="margin"):
        res.clv(summary, spend=spend, margin=1.5, discount_rate=0.0, horizon=52)


def test_goodness_of_fit_frames(fits, summary):
    res = fits["BGNBD"]
    freq = frequency_fit(res, summary)
    assert freq["observed"].sum() == len(summary) == pytest.approx(freq["expected"].sum())
    assert freq["observed"].iloc[0] == 1411
    assert freq["expected"].iloc[0] == pytest.approx(1411, rel=0.01)
    tx = crmlab.load_dataset("cdnow_sample")
    track = tracking(
        res, tx, summary=summary, calibration_end="1997-09-30", observation_end="1998-06-30"
    )
    assert track["cumulative_actual"].iloc[-1] == 2457 + 1882
    assert len(track) == 78
    cond = conditional_expectations(res, summary)
    assert cond["customers"].sum() == len(summary)


def test_bad_summary_is_named():
    with pytest.raises(crmlab.DataError, match="recency"):
        BGNBD().fit(pd.DataFrame({"frequency": [1.0], "recency": [5.0], "T": [3.0]}))
    with pytest.raises(crmlab.DataError, match="rfm_summary"):
        BGNBD().fit(pd.DataFrame({"frequency": [1.0]}))


@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize("model", ["pareto_nbd", "bg_nbd", "mbg_nbd"])
def test_extreme_data_fit_cleanly_or_say_so(model):
    """Heavy buyers over 500 weeks: converge and recover the truth, with no numerical
    warnings; nearly no repeat buyers (a flat likelihood): a ConvergenceWarning at worst."""
    cls = {"pareto_nbd": ParetoNBD, "bg_nbd": BGNBD, "mbg_nbd": MBGNBD}[model]
    dropout = {"s": 0.5, "beta": 200.0} if model == "pareto_nbd" else {"a": 0.5, "b": 60.0}
    truth = {"r": 5.0, "alpha": 10.0, **dropout}
    heavy = simulate.retailer(
        4000, model=model, horizon=500, acquisition_periods=None, seed=8, **truth
    ).truth
    assert heavy["frequency"].max() > 400
    fit = cls().fit(heavy[["frequency", "recency", "T"]])
    assert fit.converged
    z = (fit.params - pd.Series(truth)) / fit.bse
    assert (z.abs() < 3).all(), z.round(2).to_dict()
    rare = {"s": 3.0, "beta": 0.5} if model == "pareto_nbd" else {"a": 30.0, "b": 0.5}
    sparse = simulate.retailer(
        3000, model=model, r=0.2, alpha=300.0, horizon=100, seed=9, **rare
    ).truth[["frequency", "recency", "T"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", crmlab.models.base.ConvergenceWarning)
        result = cls().fit(sparse, strict=False)
    assert np.isfinite(result.loglik)
    if not result.converged:  # a flat likelihood is refused by default, with the reason
        with pytest.raises(crmlab.models.IdentificationError, match="cannot be estimated"):
            cls().fit(sparse)
