"""BG/CNBD-k and MBG/CNBD-k (Platzer & Reutterer 2016): k = 1 is the BG/NBD and MBG/NBD on
CDNOW, k chosen by likelihood (1 on CDNOW, as BTYDplus' demo reports), the likelihood
against quadrature, and recovery and predictions on customers simulated with known k."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

import crmlab
from crmlab.errors import DataError
from crmlab.models import BGCNBD, BGNBD, MBGCNBD, MBGNBD, IdentificationError
from crmlab.models.cnbd import _cnbd_loglik, simulate_summary

TRUTH = {"r": 2.0, "alpha": 6.0, "a": 1.0, "b": 4.0}


@pytest.fixture(scope="module")
def summary() -> pd.DataFrame:
    tx = crmlab.load_dataset("cdnow_sample")
    return crmlab.rfm_summary(
        tx,
        calibration_end="1997-09-30",
        observation_end="1998-06-30",
        time_unit="W",
        regularity=True,
    )


@pytest.mark.parametrize(("model", "peer"), [(BGCNBD, BGNBD), (MBGCNBD, MBGNBD)])
def test_k_1_is_the_bg_nbd_and_mbg_nbd_on_cdnow(summary, model, peer):
    fit, reference = model(1).fit(summary), peer().fit(summary)
    assert fit.model == f"{model.family}-1" and fit.regularity == 1
    np.testing.assert_allclose(fit.params, reference.params, rtol=1e-7)
    np.testing.assert_allclose(fit.bse, reference.bse, rtol=1e-5)
    assert fit.loglik == pytest.approx(reference.loglik, abs=1e-8)
    np.testing.assert_allclose(
        fit.probability_alive(summary), reference.probability_alive(summary), atol=1e-12
    )
    t = summary["duration_holdout"].iloc[0]
    np.testing.assert_allclose(
        fit.expected_purchases(t, summary), reference.expected_purchases(t, summary), atol=1e-10
    )
    np.testing.assert_allclose(
        fit.expected_purchases(np.array([1.0, 13.0, 52.0])),
        reference.expected_purchases(np.array([1.0, 13.0, 52.0])),
        rtol=1e-10,
    )
    np.testing.assert_allclose(
        fit.purchase_probability(np.arange(8), 39.0),
        reference.purchase_probability(np.arange(8), 39.0),
        atol=1e-12,
    )
    head = summary.head(200)
    np.testing.assert_allclose(
        fit.clv(head, annual_discount_rate=0.1, horizon=52),
        reference.clv(head, annual_discount_rate=0.1, horizon=52),
        rtol=1e-9,
    )


def test_bg_cnbd_1_gives_fader_hardie_lee_2005_on_cdnow(summary):
    # FHL (2005), section 4: r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, LL = -9582.4
    fit = BGCNBD(1).fit(summary)
    assert fit.params.round(3).to_dict() == {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    assert round(fit.loglik, 1) == -9582.4


@pytest.mark.parametrize("model", [BGCNBD, MBGCNBD])
def test_fit_k_chooses_k_1_on_cdnow(summary, model):
    fit = model.fit_k(summary)
    table = fit.k_table
    assert fit.regularity == 1 and fit.model == f"{model.family}-1"
    assert list(table.index) == list(range(1, 13)) and table["converged"].all()
    assert table["chosen"].tolist() == [True] + [False] * 11
    assert table["loglik"].idxmax() == 1 and table["loglik"].is_monotonic_decreasing
    assert table.loc[1, "loglik"] == pytest.approx(fit.loglik)
    # each row is the fit of that k
    two = model(2).fit(summary)
    assert table.loc[2, "loglik"] == pytest.approx(two.loglik)
    assert table.loc[2, "alpha"] == pytest.approx(two.params["alpha"])
    assert "-2 results" in two.summary()


INTERVALS = [
    ([], 0.0, 10.0),  # no repeat purchase
    ([1.5, 4.0, 2.5], 8.0, 20.0),
    ([3.0, 0.5], 3.5, 3.5),  # last purchase at T
    ([6.0], 6.0, 30.0),
]


def _brute(intervals, T, k, shift, r, alpha, a, b):
    """The likelihood as the integral over lambda and p of Erlang-k densities of the
    intervals times alive-and-no-purchase-since or left-after-the-last-purchase."""
    x, tx = len(intervals), float(np.sum(intervals))

    def density(lam):
        return np.prod([stats.gamma.pdf(d, k, scale=1 / lam) for d in intervals])

    def over_lambda(f):
        value, _ = integrate.quad(
            lambda lam: stats.gamma.pdf(lam, r, scale=1 / alpha) * density(lam) * f(lam),
            0,
            np.inf,
            epsabs=0,
            epsrel=1e-11,
            limit=200,
        )
        return value

    def over_p(f):
        value, _ = integrate.quad(lambda p: stats.beta.pdf(p, a, b) * f(p), 0, 1, epsrel=1e-12)
        return value

    alive = over_p(lambda p: (1 - p) ** (x + shift)) * over_lambda(
        lambda lam: stats.gamma.sf(T - tx, k, scale=1 / lam)
    )
    left = 0.0
    if x + shift > 0:
        left = over_p(lambda p: p * (1 - p) ** (x + shift - 1)) * over_lambda(lambda lam: 1.0)
    return np.log(alive + left), alive / (alive + left)


@pytest.mark.parametrize("k", [1, 2, 3])
@pytest.mark.parametrize("model", [BGCNBD, MBGCNBD])
def test_likelihood_and_p_alive_match_quadrature(model, k):
    point = {"r": 1.3, "alpha": 5.0, "a": 0.8, "b": 2.5}
    frame = pd.DataFrame(
        {
            "frequency": [float(len(d)) for d, _, _ in INTERVALS],
            "recency": [tx for _, tx, _ in INTERVALS],
            "T": [T for _, _, T in INTERVALS],
            "litt": [float(np.sum(np.log(d))) for d, _, _ in INTERVALS],
        }
    )
    brute = [_brute(d, T, k, model.shift, **point) for d, _, T in INTERVALS]
    assert model(k).loglik(point, frame) == pytest.approx(sum(b[0] for b in brute), rel=1e-9)
    with warnings.catch_warnings():  # four customers do not identify a fit: only its shell
        warnings.simplefilter("ignore")
        fit = model(k).fit(pd.concat([frame] * 3), strict=False)
    fit = fit.with_params(list(point.values()))
    np.testing.assert_allclose(fit.probability_alive(frame), [b[1] for b in brute], rtol=1e-8)


@pytest.mark.parametrize("model", [BGCNBD, MBGCNBD])
def test_gradient_matches_finite_differences(model):
    data = simulate_summary(2000, k=3, **TRUTH, seed=3)
    for k in (1, 3):
        p = model(k)._data(data, None)
        theta = np.log([1.3, 5.0, 0.8, 3.0])
        _, grad = _cnbd_loglik(theta, p, k, model.shift, True)
        h = 1e-6
        numeric = [
            (
                _cnbd_loglik(theta + h * e, p, k, model.shift, False)
                - _cnbd_loglik(theta - h * e, p, k, model.shift, False)
            )
            / (2 * h)
            for e in np.eye(4)
        ]
        np.testing.assert_allclose(grad, numeric, rtol=1e-6)


@pytest.mark.parametrize(("model", "k", "seed"), [(BGCNBD, 3, 1), (MBGCNBD, 2, 2)])
def test_recovers_k_and_parameters_from_simulated_customers(model, k, seed):
    data = simulate_summary(
        8000, k=k, **TRUTH, dropout_at_zero=model is MBGCNBD, holdout=26, seed=seed
    )
    fit = model.fit_k(data, k_max=k + 2)
    assert fit.regularity == k
    assert fit.k_table.loc[k, "loglik"] > fit.k_table.drop(index=k)["loglik"].max() + 50
    z = (fit.params - pd.Series(TRUTH)) / fit.bse
    assert np.all(np.abs(z) < 3), z.to_dict()
    # the Poisson-clock model misreads the regular customers' timing
    assert fit.loglik > (BGNBD() if model is BGCNBD else MBGNBD()).fit(data).loglik + 500


@pytest.mark.parametrize(("model", "k"), [(BGCNBD, 3), (MBGCNBD, 2)])
def test_p_alive_and_expected_purchases_match_monte_carlo(model, k):
    # customers simulated with known parameters: the model's P(alive) summed over them is
    # the expected number alive (sd sqrt(sum p(1-p)) given their histories), and the
    # conditional expectations summed over customers predict the holdout purchases
    data = simulate_summary(
        40000, k=k, **TRUTH, dropout_at_zero=model is MBGCNBD, holdout=26, seed=11
    )
    truth = model(k).fit(data.head(3000)).with_params(list(TRUTH.values()))
    alive = truth.probability_alive(data)
    z_alive = (alive.sum() - data["alive"].sum()) / np.sqrt(np.sum(alive * (1 - alive)))
    assert abs(z_alive) < 4
    expected = truth.expected_purchases(26.0, data)
    actual = data["frequency_holdout"]
    for group in (data["frequency"] == 0, data["frequency"].between(1, 3), data["frequency"] > 3):
        se = actual[group].std() / np.sqrt(group.sum())
        assert abs(expected[group].mean() - actual[group].mean()) < 4 * se
    # recency matters beyond P(alive) (the Erlang clock's phase and the posterior rate):
    # customers alive at T, by the time since their last purchase
    gap = data["T"] - data["recency"]
    late = (data["frequency"] > 0) & data["alive"] & (gap > 8)
    early = (data["frequency"] > 0) & data["alive"] & (gap < 2)
    rate_late = expected[late] / alive[late]
    rate_early = expected[early] / alive[early]
    for group, rate in ((late, rate_late), (early, rate_early)):
        se = actual[group].std() / np.sqrt(group.sum())
        assert abs(rate.mean() - actual[group].mean()) < 4 * se


@pytest.mark.parametrize(("model", "k"), [(BGCNBD, 2), (MBGCNBD, 3)])
def test_new_customer_expectation_and_counts_match_monte_carlo(model, k):
    t = 20.0
    data = simulate_summary(
        200000, k=k, **TRUTH, dropout_at_zero=model is MBGCNBD, T=(t, t), seed=5
    )
    truth = model(k).fit(data.head(3000)).with_params(list(TRUTH.values()))
    se = data["frequency"].std() / np.sqrt(len(data))
    assert abs(float(truth.expected_purchases(t)) - data["frequency"].mean()) < 4 * se
    probability = truth.purchase_probability(np.arange(6), t)
    share = np.array([(data["frequency"] == n).mean() for n in range(6)])
    np.testing.assert_array_less(
        np.abs(probability - share), 4 * np.sqrt(probability * (1 - probability) / len(data))
    )
    assert truth.purchase_probability(np.arange(400), t).sum() == pytest.approx(1, abs=1e-9)


def test_one_time_buyers_alive_for_bg_not_for_mbg(summary):
    once = summary[summary["frequency"] == 0]
    assert np.all(BGCNBD(2).fit(summary).probability_alive(once) == 1)
    assert np.all(MBGCNBD(2).fit(summary).probability_alive(once) < 1)


def test_intervals_clv_and_draws(summary):
    fit = MBGCNBD(2).fit(summary)
    frame = fit.expected_purchases(39.0, summary.head(50), level=0.9, draws=50)
    assert list(frame.columns[:3]) == ["expected", "lower", "upper"]
    assert np.all(frame["lower"] <= frame["expected"]) and np.all(
        frame["expected"] <= frame["upper"]
    )
    clv = fit.clv(summary.head(50), annual_discount_rate=0.1, horizon="1Y", spend=30.0)
    no_discount = fit.clv(summary.head(50), discount_rate=0.0, horizon=52, spend=30.0)
    np.testing.assert_allclose(no_discount, 30 * fit.expected_purchases(52, summary.head(50)))
    assert np.all(clv <= no_discount + 1e-9) and np.all(clv > 0)


def test_litt_from_the_transaction_log():
    log = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 1, 1, 2, 3, 3],
            "date": pd.to_datetime(
                [
                    "2020-01-01",
                    "2020-01-08",
                    "2020-01-08",  # same day: one occasion
                    "2020-01-22",
                    "2020-03-01",  # after calibration
                    "2020-01-05",
                    "2020-01-02",
                    "2020-01-05",
                ]
            ),
            "amount": [10.0] * 8,
        }
    )
    plain = crmlab.rfm_summary(log, calibration_end="2020-02-01")
    assert "litt" not in plain.columns
    out = crmlab.rfm_summary(log, calibration_end="2020-02-01", regularity=True)
    # customer 1: gaps of 1 and 2 weeks; customer 2: none; customer 3: 3 days
    np.testing.assert_allclose(out["litt"], [np.log(1) + np.log(2), 0.0, np.log(3 / 7)])
    pd.testing.assert_frame_equal(out.drop(columns="litt"), plain)
    days = crmlab.rfm_summary(log, calibration_end="2020-02-01", regularity=True, time_unit="D")
    np.testing.assert_allclose(days["litt"], [np.log(7) + np.log(14), 0.0, np.log(3)])
    patterns = crmlab.rfm_summary(
        pd.concat([log, log.assign(customer_id=log["customer_id"] + 10)]),
        calibration_end="2020-02-01",
        regularity=True,
        patterns=True,
    )
    assert (patterns["weight"] == 2).all()
    np.testing.assert_allclose(np.sort(patterns["litt"]), np.sort(out["litt"]))
    with pytest.raises(DataError, match="regularity"):
        crmlab.rfm_summary("transactions.csv", regularity=True)
    with pytest.raises(DataError, match="regularity must be True or False"):
        crmlab.rfm_summary(log, regularity="yes")


def test_bad_input_is_named(summary):
    with pytest.raises(DataError, match="litt"):
        BGCNBD(2).fit(summary.drop(columns="litt"))
    BGCNBD(1).fit(summary.drop(columns="litt"))  # k = 1 needs no litt
    for k in (0, 2.5, True, 101):
        with pytest.raises(DataError, match="whole number"):
            BGCNBD(k)
    bad = summary.copy()
    bad.loc[bad.index[bad["frequency"] == 0][0], "litt"] = 1.0
    with pytest.raises(DataError, match="frequency 0 has no inter-purchase time"):
        MBGCNBD(2).fit(bad)
    bad = summary.copy()
    bad.iloc[3, bad.columns.get_loc("litt")] = np.nan
    with pytest.raises(DataError, match="'litt' has 1"):
        MBGCNBD(2).fit(bad)
    with pytest.raises(DataError, match="takes no covariates"):
        BGCNBD(2).fit(summary, covariates=["T"])
    with pytest.raises(IdentificationError, match="repeat purchase"):
        BGCNBD(2).fit(summary.assign(frequency=0.0, recency=0.0, litt=0.0))
    with pytest.raises(IdentificationError):
        BGCNBD.fit_k(summary.assign(frequency=0.0, recency=0.0, litt=0.0), k_max=2)


def test_weights_count_customers(summary):
    patterns = crmlab.rfm_summary(
        crmlab.load_dataset("cdnow_sample"),
        calibration_end="1997-09-30",
        time_unit="W",
        regularity=True,
        patterns=True,
    )
    params = {"r": 0.3, "alpha": 3.0, "a": 0.9, "b": 2.0}
    assert MBGCNBD(3).loglik(params, patterns) == pytest.approx(
        MBGCNBD(3).loglik(params, summary), rel=1e-12
    )
