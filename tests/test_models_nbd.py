"""BG/NBD, MBG/NBD, Pareto/NBD: published tables, brute force and parameter recovery."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import crmlab
from crmlab.models import BGNBD, MBGNBD, ParetoNBD
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


def _simulate_bgnbd(rng, n, r, alpha, a, b, mbg=False):
    lam = rng.gamma(r, 1 / alpha, n)
    p = rng.beta(a, b, n)
    T = rng.uniform(20, 60, n)
    t = np.zeros(n)
    x = np.zeros(n)
    tx = np.zeros(n)
    alive = rng.random(n) >= p if mbg else np.ones(n, bool)
    while alive.any():
        t = t + rng.exponential(1 / lam)
        buy = alive & (t <= T)
        x[buy] += 1
        tx[buy] = t[buy]
        alive = buy & (rng.random(n) >= p)
    return pd.DataFrame({"frequency": x, "recency": tx, "T": T})


def _simulate_pareto(rng, n, r, alpha, s, beta):
    lam = rng.gamma(r, 1 / alpha, n)
    death = rng.exponential(1 / rng.gamma(s, 1 / beta, n))
    T = rng.uniform(20, 60, n)
    end = np.minimum(death, T)
    t = np.zeros(n)
    x = np.zeros(n)
    tx = np.zeros(n)
    active = np.ones(n, bool)
    while active.any():
        t = t + rng.exponential(1 / lam)
        active = t <= end
        x[active] += 1
        tx[active] = t[active]
    return pd.DataFrame({"frequency": x, "recency": tx, "T": T})


@pytest.mark.parametrize(
    ("model", "truth"),
    [
        (BGNBD, (0.5, 6.0, 0.9, 3.0)),
        (MBGNBD, (0.5, 6.0, 0.9, 3.0)),
        (ParetoNBD, (0.6, 8.0, 0.7, 10.0)),
    ],
)
def test_parameter_recovery(rng, model, truth):
    n = 60_000
    if model is ParetoNBD:
        data = _simulate_pareto(rng, n, *truth)
    else:
        data = _simulate_bgnbd(rng, n, *truth, mbg=model is MBGNBD)
    res = model().fit(data)
    z = (res.params.to_numpy() - np.array(truth)) / res.bse.to_numpy()
    assert np.all(np.abs(z) < 2.5), dict(zip(res.params.index, z.round(2), strict=True))


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


def test_all_zero_repeat_customers_fit_or_warn():
    data = pd.DataFrame({"frequency": 0.0, "recency": 0.0, "T": np.linspace(10, 50, 500)})
    with pytest.warns(crmlab.models.base.ConvergenceWarning):
        res = BGNBD().fit(data)
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
