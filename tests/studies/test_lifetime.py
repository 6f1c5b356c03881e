"""Lifetimes from P(alive) (threshold crossing) and drawn from their distribution given
the data (checked against simulated customers whose dropout is known)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from loyalty_cases import ExponentialAlive, cohort, oracle_of
from scipy import stats

from crmlab.errors import DataError
from crmlab.studies.lifetime import alive_lifetimes, draw_true_lifetimes
from crmlab.summary import rfm_summary


def test_lifetimes_match_closed_form_and_censoring():
    model = ExponentialAlive(k=10.0)
    summary = pd.DataFrame(
        {
            "frequency": [0.0, 2.0, 1.0, 0.0, 3.0],
            "recency": [0.0, 20.0, 48.0, 0.0, 5.0],
            "T": [52.0, 52.0, 52.0, 3.0, 52.0],
        }
    )
    out = alive_lifetimes(model, summary, 0.5)
    crossing = np.array(
        [model.crossing(x, t, 0.5) for x, t in summary[["frequency", "recency"]].values]
    )
    expected_censored = crossing > summary["T"].to_numpy()
    assert (
        out["censored"].tolist() == expected_censored.tolist() == [False, False, True, True, False]
    )
    expected = np.where(expected_censored, summary["T"], crossing)
    np.testing.assert_allclose(out["lifetime"], expected, atol=1e-5)
    assert out.loc[out["censored"], "lifetime"].tolist() == [52.0, 3.0]


def test_lifetimes_monotone_in_threshold():
    model = ExponentialAlive(k=7.0)
    rng = np.random.default_rng(3)
    T = rng.uniform(10, 80, 300)
    summary = pd.DataFrame(
        {
            "frequency": rng.integers(0, 6, 300).astype(float),
            "recency": T * rng.uniform(0, 1, 300),
            "T": T,
        }
    )
    lifetimes = np.column_stack(
        [alive_lifetimes(model, summary, c)["lifetime"] for c in (0.1, 0.3, 0.5, 0.7, 0.9)]
    )
    assert np.all(np.diff(lifetimes, axis=1) <= 1e-9)
    assert np.all(lifetimes >= summary[["recency"]].to_numpy() - 1e-9)


class BGNBDLike:
    """P(alive) like the BG/NBD's: 1 for customers without repeat purchases at every age,
    below 1 right after a repeat purchase (a customer may drop out right after buying)."""

    def probability_alive(self, data: pd.DataFrame) -> np.ndarray:
        x, t_x, T = (data[c].to_numpy(float) for c in ("frequency", "recency", "T"))
        return np.where(x == 0, 1.0, 0.45 * np.exp(-(T - t_x) / 10.0))


def test_lifetime_ends_at_last_purchase_when_p_alive_starts_below_threshold():
    summary = pd.DataFrame(
        {"frequency": [0.0, 2.0, 2.0], "recency": [0.0, 7.0, 7.0], "T": [30, 30, 8]}
    )
    out = alive_lifetimes(BGNBDLike(), summary, 0.5)
    assert out["censored"].tolist() == [True, False, False]
    np.testing.assert_allclose(out["lifetime"], [30.0, 7.0, 7.0])
    out = alive_lifetimes(BGNBDLike(), summary, 0.3)
    np.testing.assert_allclose(out["lifetime"], [30.0, 7 + 10 * np.log(1.5), 8.0], atol=1e-5)
    assert out["censored"].tolist() == [True, False, True]


def test_bad_threshold_and_recency_after_T_are_refused():
    summary = pd.DataFrame({"frequency": [1.0], "recency": [5.0], "T": [4.0]})
    with pytest.raises(DataError, match="strictly between 0 and 1"):
        alive_lifetimes(ExponentialAlive(), summary, 1.0)
    with pytest.raises(DataError, match="recency > T"):
        alive_lifetimes(ExponentialAlive(), summary, 0.5)


def test_drawn_lifetimes_follow_the_true_dropout_of_simulated_customers():
    """At the true parameters, lifetimes drawn given each customer's purchases are
    distributed like the simulated true lifetimes min(dropout, T) of the same customers."""
    sim = cohort(6000, link=1.0, seed=5)
    summary = rfm_summary(
        sim.transactions, calibration_end=sim.params["observation_end"], time_unit="W"
    )
    truth = sim.truth.loc[summary.index]
    # rfm_summary merges same-day purchases; keep customers whose history it kept exactly
    same = np.isclose(summary["frequency"], truth["frequency"])
    summary, truth = summary[same], truth[same]
    oracle = oracle_of(sim)
    draws = np.stack(
        [draw_true_lifetimes(oracle, summary, np.random.default_rng(k)) for k in range(5)]
    )
    true_life = truth["observed_lifetime"].to_numpy()
    # never before the last purchase, never after the end of observation
    assert np.all(draws >= summary["recency"].to_numpy() - 1e-9)
    assert np.all(draws <= summary["T"].to_numpy() + 1e-9)
    # the share still alive and the distribution of lifetimes match the truth
    alive_drawn = np.isclose(draws, summary["T"].to_numpy()).mean()
    assert alive_drawn == pytest.approx(truth["alive_at_end"].mean(), abs=0.02)
    assert np.mean(draws) == pytest.approx(true_life.mean(), rel=0.03)
    ks = stats.ks_2samp(draws[0], true_life)
    assert ks.statistic < 0.04
    # and so does each group: one-time and repeat buyers
    one = summary["frequency"].to_numpy() == 0
    for group in (one, ~one):
        assert draws[:, group].mean() == pytest.approx(true_life[group].mean(), rel=0.05)


def test_drawn_lifetimes_for_bg_models_end_at_the_last_purchase():
    class BGNBDResult:  # named like crmlab's, with a P(alive) of 0 or 1
        def probability_alive(self, data):
            return (data["frequency"] > 1).astype(float).to_numpy()

    summary = pd.DataFrame({"frequency": [0.0, 1.0, 3.0], "recency": [0.0, 4.0, 9.0], "T": 20.0})
    out = draw_true_lifetimes(BGNBDResult(), summary, np.random.default_rng(0))
    np.testing.assert_allclose(out, [0.0, 4.0, 20.0])
    assert draw_true_lifetimes(ExponentialAlive(), summary, np.random.default_rng(0)) is None
