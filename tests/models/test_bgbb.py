"""BG/BB (Fader, Hardie & Shang 2010): published estimates, closed forms against brute force
and simulation (moved from tests/test_models_discrete.py; the sBG is in test_sbg.py)."""

from __future__ import annotations

import warnings
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from scipy.special import comb

import crmlab
from crmlab.errors import DataError
from crmlab.models import BGBB
from crmlab.models.base import ConvergenceWarning, IdentificationError
from crmlab.models.bgbb import BGBBResult

PAPER_BGBB = {"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783}


def make_bgbb(**params: float) -> BGBBResult:
    names = list(params)
    return BGBBResult(
        model="BG/BB",
        params=pd.Series(params, dtype=float),
        cov=pd.DataFrame(np.zeros((4, 4)), names, names),
        loglik=np.nan,
        n_obs=1.0,
        converged=True,
        message="",
    )


def simulate_bgbb(rng: np.random.Generator, n_customers: int, n: int, **par: float) -> np.ndarray:
    """Transaction indicators (customers x opportunities) drawn from the BG/BB story.

    Alive at opportunity t with probability (1 - theta)^t; transacts with prob p if alive.
    """
    p = rng.beta(par["alpha"], par["beta"], n_customers)
    theta = rng.beta(par["gamma"], par["delta"], n_customers)
    life = rng.geometric(theta)  # alive at opportunities 1 .. life-1
    t = np.arange(1, n + 1)
    alive = t[None, :] < life[:, None]
    return alive & (rng.random((n_customers, n)) < p[:, None])


def summarise(y: np.ndarray) -> pd.DataFrame:
    n = y.shape[1]
    x = y.sum(axis=1)
    last = np.where(x > 0, n - np.argmax(y[:, ::-1], axis=1), 0)
    return pd.DataFrame({"frequency": x, "recency": last, "n_periods": n})


@pytest.fixture(scope="module")
def donations() -> pd.DataFrame:
    return crmlab.load_dataset("donations")


@pytest.fixture(scope="module")
def bgbb_fit(donations: pd.DataFrame) -> BGBBResult:
    return BGBB().fit(donations)


# ---------------------------------------------------------------- BG/BB


def test_bgbb_reproduces_fader_hardie_shang_2010(bgbb_fit: BGBBResult) -> None:
    # Table 2 of FHS (2010): 11,104 donors of the 1995 cohort, 1996-2001
    assert bgbb_fit.converged
    assert bgbb_fit.n_obs == 11_104
    for name, value in PAPER_BGBB.items():
        assert bgbb_fit.params[name] == pytest.approx(value, abs=6e-4)
    assert bgbb_fit.loglik == pytest.approx(-33_225.6, abs=0.1)
    assert (bgbb_fit.bse > 0).all()
    assert "alpha" in bgbb_fit.summary()


def test_bgbb_unconditional_expectation_matches_published_tracking(bgbb_fit: BGBBResult) -> None:
    # E[X(n)] for a new donor, n = 1..11, from the "Tracking Plot" sheet of the
    # spreadsheet accompanying Hardie's BG/BB note (brucehardie.com/notes/010),
    # which implements FHS (2010) eq. (7) at the published estimates
    published = [0.4985, 0.9233, 1.2969, 1.6323, 1.9381, 2.2202, 2.4826, 2.7285, 2.9603]
    published += [3.1798, 3.3887]
    np.testing.assert_allclose(bgbb_fit.expected_purchases(np.arange(1, 12)), published, atol=6e-5)


@pytest.mark.parametrize(
    "params",
    [
        PAPER_BGBB,
        {"alpha": 1e8, "beta": 1e-3, "gamma": 1e-3, "delta": 1e8},
        {"alpha": 1e-4, "beta": 1e9, "gamma": 5e7, "delta": 2e-3},
    ],
)
def test_bgbb_likelihood_is_a_probability_over_all_histories(params: dict) -> None:
    # each (x, t_x, n) pattern stands for C(t_x - 1, x - 1) equally likely histories;
    # the extreme parameters are where differences of betaln lose all their digits
    fit = make_bgbb(**params)
    n = 7
    rows = [(0, 0)] + [(x, t) for t in range(1, n + 1) for x in range(1, t + 1)]
    data = pd.DataFrame(rows, columns=["frequency", "recency"]).assign(n_periods=n)
    from crmlab.models.bgbb import log_likelihood

    ll = log_likelihood(fit.params.to_numpy(), *(data[c].to_numpy(float) for c in data))
    multiplicity = np.where(data.frequency > 0, comb(data.recency - 1, data.frequency - 1), 1)
    assert np.sum(multiplicity * np.exp(ll)) == pytest.approx(1.0, abs=1e-12)


def test_bgbb_gradient_matches_finite_differences(donations: pd.DataFrame) -> None:
    from crmlab.models.bgbb import log_likelihood, log_likelihood_grad

    cols = [donations[c].to_numpy(float) for c in ("frequency", "recency", "n_periods")]
    point = np.array([1.3, 0.6, 0.8, 2.5])
    _, grad = log_likelihood_grad(point, *cols)
    h = 1e-6
    numeric = np.column_stack(
        [
            (log_likelihood(point + e, *cols) - log_likelihood(point - e, *cols)) / (2 * h)
            for e in np.eye(4) * h
        ]
    )
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-8)


def test_bgbb_pmf_and_unconditional_mean(bgbb_fit: BGBBResult) -> None:
    pmf = bgbb_fit.purchase_probability(np.arange(11), 10)
    assert pmf.sum() == pytest.approx(1.0, abs=1e-12)
    mean = bgbb_fit.expected_purchases(10)
    assert np.sum(np.arange(11) * pmf) == pytest.approx(mean, rel=1e-10)
    # the model's own fitted histogram against the observed one (FHS Figure 3)
    assert bgbb_fit.purchase_probability(0, 6) == pytest.approx(0.311, abs=0.005)


def test_bgbb_predictions_match_monte_carlo(rng: np.random.Generator) -> None:
    n, ahead, size = 6, 5, 400_000
    y = simulate_bgbb(rng, size, n + ahead + 1, **PAPER_BGBB)
    calib = summarise(y[:, :n])
    fit = make_bgbb(**PAPER_BGBB)
    # unconditional mean of X(n)
    mc_mean = y[:, :n].sum(axis=1).mean()
    assert fit.expected_purchases(n) == pytest.approx(mc_mean, abs=4 * y[:, :n].sum(1).std() / 650)
    # pattern-level P(alive at n+1) and E[X(n, n+5)]; P(alive) from the transaction process:
    # alive at n+1 means the lifetime exceeds n+1, estimated via the simulated holdout mean
    frame = calib.assign(
        future=y[:, n : n + ahead].sum(axis=1),
    )
    grouped = frame.groupby(["frequency", "recency", "n_periods"])
    stats = grouped["future"].agg(["mean", "std", "size"]).reset_index()
    stats = stats[stats["size"] >= 3000]
    assert len(stats) >= 10
    pred = fit.expected_purchases(ahead, stats[["frequency", "recency", "n_periods"]])
    se = stats["std"] / np.sqrt(stats["size"])
    assert np.all(np.abs(pred - stats["mean"]) < 4.5 * se)


def test_bgbb_probability_alive_matches_simulated_survival(rng: np.random.Generator) -> None:
    par = PAPER_BGBB
    size, n = 300_000, 6
    p = rng.beta(par["alpha"], par["beta"], size)
    theta = rng.beta(par["gamma"], par["delta"], size)
    life = rng.geometric(theta)
    t = np.arange(1, n + 1)
    y = (t[None, :] < life[:, None]) & (rng.random((size, n)) < p[:, None])
    frame = summarise(y).assign(alive_next=life > n + 1)
    stats = frame.groupby(["frequency", "recency", "n_periods"])["alive_next"].agg(["mean", "size"])
    stats = stats[stats["size"] >= 3000].reset_index()
    pred = make_bgbb(**par).probability_alive(stats[["frequency", "recency", "n_periods"]])
    se = np.sqrt(pred * (1 - pred) / stats["size"])
    assert np.all(np.abs(pred - stats["mean"]) < 4.5 * se)


def test_bgbb_dert_equals_long_discounted_sum(bgbb_fit: BGBBResult, donations) -> None:
    data = donations[["frequency", "recency", "n_periods"]]
    d = 0.1
    horizons = np.arange(0, 400)
    cum = np.column_stack([bgbb_fit.expected_purchases(int(h), data) for h in horizons])
    increments = np.diff(cum, axis=1)  # expected transactions at opportunity n + k
    brute = increments @ (1 + d) ** -np.arange(1, len(horizons))
    dert = bgbb_fit.dert(data, discount_rate=d)
    np.testing.assert_allclose(dert, brute, rtol=1e-4)
    # finite horizons: the first H discounted increments, and H -> infinity
    for h in (1, 5, 50):
        np.testing.assert_allclose(
            bgbb_fit.dert(data, discount_rate=d, horizon=h),
            increments[:, :h] @ (1 + d) ** -np.arange(1, h + 1),
            rtol=1e-10,
        )
    np.testing.assert_allclose(bgbb_fit.dert(data, discount_rate=d, horizon=3000), dert)
    assert (bgbb_fit.dert(data, discount_rate=d, horizon=0) == 0).all()
    spend = pd.Series(50.0, index=data.index)
    clv = bgbb_fit.clv(data, spend=spend, margin=0.3, discount_rate=d)
    np.testing.assert_allclose(clv, dert * 15.0)


def test_bgbb_recovers_parameters_from_simulation(rng: np.random.Generator) -> None:
    truth = {"alpha": 1.2, "beta": 0.75, "gamma": 0.66, "delta": 2.8}
    y = simulate_bgbb(rng, 60_000, 8, **truth)
    fit = BGBB().fit(summarise(y))
    assert fit.converged
    for name, value in truth.items():
        assert abs(fit.params[name] - value) < 2 * fit.bse[name], name


def test_bgbb_fit_with_very_unequal_shapes(rng: np.random.Generator) -> None:
    # near-certain buyers with rare deaths: beta and gamma near 0, alpha and delta large
    truth = {"alpha": 20.0, "beta": 0.2, "gamma": 0.1, "delta": 30.0}
    fit = BGBB().fit(summarise(simulate_bgbb(rng, 50_000, 8, **truth)))
    assert fit.converged and np.all(np.isfinite(fit.bse))
    z = (fit.params - pd.Series(truth)) / fit.bse
    assert np.all(np.abs(z) < 4), z.to_dict()
    # rare buyers who die fast: almost nobody repeats, the shapes are barely identified;
    # the fit must stay finite and, if it cannot settle, say so
    truth = {"alpha": 0.1, "beta": 8.0, "gamma": 3.0, "delta": 0.5}
    rare = summarise(simulate_bgbb(rng, 50_000, 8, **truth))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = BGBB().fit(rare, strict=False)
    assert np.isfinite(fit.loglik)
    assert fit.converged or any(issubclass(w.category, ConvergenceWarning) for w in caught)
    if not fit.converged:
        with pytest.raises(IdentificationError, match="cannot be estimated"):
            BGBB().fit(rare)


def _rise(v: int, k: int) -> Fraction:
    out = Fraction(1)
    for j in range(k):
        out *= v + j
    return out


@pytest.mark.parametrize("a, b, g, d", [(10**8, 1, 3, 10**8), (2, 10**7, 3, 5), (1, 1, 3, 1)])
def test_bgbb_closed_forms_in_exact_arithmetic(a: int, b: int, g: int, d: int) -> None:
    """Eqs. (5), (11), (13) of FHS (2010) in exact rationals (whole-number parameters,
    gamma = 3 so the gamma-function ratios are short products) against the code."""
    data = pd.DataFrame({"frequency": [0, 1, 3, 6], "recency": [0, 6, 5, 6], "n_periods": 6})
    fit = make_bgbb(alpha=a, beta=b, gamma=g, delta=d)
    ahead = 5

    def beta_ab(x: int, y: int) -> Fraction:  # B(a+x, b+y) / B(a, b)
        return _rise(a, x) * _rise(b, y) / _rise(a + b, x + y)

    def beta_gd(shift_g: int, y: int) -> Fraction:  # B(g+shift, d+y) / B(g, d)
        return _rise(g, shift_g) * _rise(d, y) / _rise(g + d, shift_g + y)

    p_alive, expected = [], []
    for x, tx, n in data.itertuples(index=False):
        like = beta_ab(x, n - x) * beta_gd(0, n) + sum(
            beta_ab(x, tx - x + i) * beta_gd(1, tx + i) for i in range(n - tx)
        )
        p_alive.append(beta_ab(x, n - x) * beta_gd(0, n + 1) / like)
        # d/(g-1) G(g+d)/G(1+d) [G(1+d+n)/G(g+d+n) - G(1+d+n+h)/G(g+d+n+h)] with g = 3
        bracket = (
            Fraction(d, 2)
            * (1 + d)
            * (2 + d)
            * (
                Fraction(1, (1 + d + n) * (2 + d + n))
                - Fraction(1, (1 + d + n + ahead) * (2 + d + n + ahead))
            )
        )
        expected.append(beta_ab(x + 1, n - x) * bracket / like)
    np.testing.assert_allclose(fit.probability_alive(data), [float(v) for v in p_alive], rtol=1e-9)
    np.testing.assert_allclose(
        fit.expected_purchases(ahead, data), [float(v) for v in expected], rtol=1e-9
    )


def test_bgbb_gamma_one_limit_is_continuous() -> None:
    near = make_bgbb(alpha=1.0, beta=2.0, gamma=1.0 + 1e-7, delta=3.0)
    exact = make_bgbb(alpha=1.0, beta=2.0, gamma=1.0, delta=3.0)
    data = pd.DataFrame({"frequency": [0, 2, 5], "recency": [0, 4, 5], "n_periods": 6})
    np.testing.assert_allclose(
        near.expected_purchases(5, data), exact.expected_purchases(5, data), rtol=1e-5
    )
    assert near.expected_purchases(5) == pytest.approx(exact.expected_purchases(5), rel=1e-5)


@pytest.mark.parametrize(
    "params",
    [
        {"alpha": 1e-3, "beta": 1e3, "gamma": 1e3, "delta": 1e-3},
        {"alpha": 1e3, "beta": 1e-3, "gamma": 1e-3, "delta": 1e3},
        {"alpha": 0.01, "beta": 50.0, "gamma": 0.05, "delta": 200.0},
    ],
)
def test_bgbb_predictions_stay_finite_for_extreme_parameters(params: dict) -> None:
    fit = make_bgbb(**params)
    data = pd.DataFrame(
        {"frequency": [0, 1, 500, 1000], "recency": [0, 1000, 999, 1000], "n_periods": 1000}
    )
    for values in (
        fit.probability_alive(data),
        fit.expected_purchases(50, data),
        fit.dert(data, discount_rate=0.05),
    ):
        assert np.all(np.isfinite(values)) and np.all(values >= 0)
    assert np.isfinite(fit.purchase_probability(np.arange(0, 200), 200)).all()


@pytest.mark.parametrize("kind", ["no_repeat", "all_full"])
def test_bgbb_degenerate_data_warns_instead_of_crashing(kind: str) -> None:
    x = 0 if kind == "no_repeat" else 6
    data = pd.DataFrame({"frequency": [x], "recency": [x], "n_periods": [6], "weight": [5000]})
    reason = "no customer made a repeat" if kind == "no_repeat" else "every opportunity"
    with pytest.raises(IdentificationError, match=reason):
        BGBB().fit(data)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = BGBB().fit(data, strict=False)
    assert np.isfinite(fit.loglik)
    assert fit.loglik <= 1e-9  # the data are certain under a degenerate fit: loglik -> 0
    # the parameters run off to 0 / infinity: flagged, warned, and shown in the summary
    assert not fit.converged
    assert any(issubclass(w.category, ConvergenceWarning) for w in caught)
    assert "WARNING: the fit did not converge" in fit.summary()
    assert "edge of the parameter space" in fit.message


def test_bgbb_rejects_inconsistent_histories() -> None:
    good = {"frequency": [1, 2], "recency": [3, 4], "n_periods": [6, 6]}
    with pytest.raises(DataError, match="'frequency'.*above recency.*row 2"):
        BGBB().fit(pd.DataFrame({**good, "frequency": [1, 5]}))
    with pytest.raises(DataError, match="'recency'.*above n_periods"):
        BGBB().fit(pd.DataFrame({**good, "recency": [3, 7]}))
    with pytest.raises(DataError, match="'n_periods'"):
        BGBB().fit(pd.DataFrame({"frequency": [1], "recency": [1]}))
    with pytest.raises(DataError, match="whole numbers"):
        BGBB().fit(pd.DataFrame({**good, "frequency": [1.5, 2]}))
    with pytest.raises(DataError, match="discount_rate"):
        make_bgbb(**PAPER_BGBB).dert(pd.DataFrame(good), discount_rate=-0.1)
    # no discounting and no horizon: infinitely many transactions when gamma <= 1
    with pytest.raises(DataError, match="infinite"):
        make_bgbb(**PAPER_BGBB).dert(pd.DataFrame(good), discount_rate=0)
