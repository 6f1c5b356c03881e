"""Weighted statistics equal the statistics of the resample written out; the refitting
bootstrap refits, counts failures, and is seeded."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from loyalty_cases import ExponentialAlive, cohort
from scipy import stats

from crmlab.errors import DataError
from crmlab.studies.bootstrap import (
    refit_bootstrap,
    refitter,
    weighted_midranks,
    weighted_pearson,
    weighted_slope,
    weighted_spearman,
)
from crmlab.summary import rfm_summary


def test_weighted_statistics_equal_the_repeated_rows(rng):
    x = rng.integers(0, 8, 60).astype(float)  # many ties, as lifetimes have
    y = 0.4 * x + rng.normal(size=60)
    w = rng.multinomial(60, np.full(60, 1 / 60)).astype(float)
    xr, yr = np.repeat(x, w.astype(int)), np.repeat(y, w.astype(int))
    assert weighted_pearson(x, y, w) == pytest.approx(stats.pearsonr(xr, yr).statistic)
    assert weighted_spearman(x, y, w) == pytest.approx(stats.spearmanr(xr, yr).statistic)
    assert weighted_slope(x, y, w) == pytest.approx(stats.linregress(xr, yr).slope)
    ranks = weighted_midranks(x, w)
    np.testing.assert_allclose(np.repeat(ranks, w.astype(int)), stats.rankdata(xr))
    assert np.isnan(weighted_pearson(np.ones(5), y[:5], np.ones(5)))
    assert np.isnan(weighted_slope(np.ones(5), y[:5], np.ones(5)))


def test_refitter_refits_crmlab_models_and_not_stand_ins():
    sim = cohort(400, link=1.0, seed=2)
    summary = rfm_summary(
        sim.transactions, calibration_end=sim.params["observation_end"], time_unit="W"
    )
    import crmlab.models as models

    fit = models.ParetoNBD().fit(summary[["frequency", "recency", "T"]])
    refit = refitter("pareto_nbd", fit)
    again = refit(summary[["frequency", "recency", "T"]].assign(weight=1.0))
    np.testing.assert_allclose(again.params, fit.params, rtol=1e-3)
    assert refitter(fit, fit) is not None  # a fitted result names its model
    assert refitter(ExponentialAlive(), ExponentialAlive()) is None


def test_refit_bootstrap_counts_failed_refits_and_is_seeded():
    summary = pd.DataFrame({"frequency": [0.0, 1, 2, 3], "recency": [0.0, 1, 2, 3], "T": 5.0})
    calls = []

    def refit(data):
        calls.append(data)
        if len(calls) % 3 == 0:
            raise DataError("boundary")
        return ExponentialAlive(k=float(data["weight"].sum()))

    def statistic(fit_b, w, rng):
        return {"k": fit_b.k, "w0": w[0]}

    run = refit_bootstrap(summary, refit, None, statistic, n_boot=12, seed=4)
    assert run.requested == 12 and run.failed == 4 and len(run.replicates) == 8
    assert (run.replicates["k"] == 4).all()  # the weights add up to n
    assert all("weight" in d and (d["weight"] > 0).all() for d in calls)
    calls.clear()
    same = refit_bootstrap(summary, refit, None, statistic, n_boot=12, seed=4)
    pd.testing.assert_frame_equal(run.replicates, same.replicates)
    assert "refitted" in run.method and run.refitted
    fixed = refit_bootstrap(summary, None, ExponentialAlive(), statistic, n_boot=10, seed=4)
    assert fixed.failed == 0 and "held fixed" in fixed.method
    lo, hi = fixed.interval("w0", 0.9)
    assert lo <= hi
