"""compare_models and frequency_recency_grid: hand-computed cases and real fits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import crmlab
from crmlab import DataError
from crmlab.models.comparison import (
    compare_models,
    frequency_recency_grid,
    holdout_dates,
    holdout_forecast,
)


class Linear:
    """A stand-in fitted model whose forecasts are easy to compute by hand:
    E[X(t) | x] = rate * t * (x + 1); P(alive) = 1 / (1 + T - recency)."""

    def __init__(self, rate: float, loglik: float, k: int = 2, n: int = 4):
        self.rate = rate
        self.params = pd.Series(np.ones(k))
        self.loglik = loglik
        self.aic = 2 * k - 2 * loglik
        self.bic = k * np.log(n) - 2 * loglik

    def expected_purchases(self, t, data=None):
        return pd.Series(self.rate * np.asarray(t) * (data["frequency"] + 1), index=data.index)

    def probability_alive(self, data):
        return 1 / (1 + data["T"] - data["recency"])


@pytest.fixture
def summary():
    return pd.DataFrame(
        {
            "frequency": [0, 1, 2, 3],
            "recency": [0.0, 5.0, 8.0, 10.0],
            "T": [10.0] * 4,
            "frequency_holdout": [0, 1, 1, 4],
            "duration_holdout": [2.0] * 4,
        },
        index=pd.Index(["a", "b", "c", "d"], name="customer_id"),
    )


def test_comparison_by_hand(summary):
    table = compare_models({"m1": Linear(0.25, -10.0), "m2": Linear(0.5, -9.0, k=3)}, summary)
    # m1 expects 0.5 * (x + 1) = 0.5, 1, 1.5, 2 against 0, 1, 1, 4
    m1 = table.loc["m1"]
    assert m1["holdout_actual"] == 6 and m1["holdout_expected"] == pytest.approx(5.0)
    assert m1["holdout_error_pct"] == pytest.approx(100 * (5 - 6) / 6)
    assert m1["mae"] == pytest.approx((0.5 + 0 + 0.5 + 2) / 4)
    assert m1["rmse"] == pytest.approx(np.sqrt((0.25 + 0 + 0.25 + 4) / 4))
    assert m1["aic"] == pytest.approx(24.0) and m1["parameters"] == 2
    m2 = table.loc["m2"]
    assert m2["holdout_expected"] == pytest.approx(10.0)
    assert m2["bic"] == pytest.approx(3 * np.log(4) + 18)
    assert list(table.index) == ["m1", "m2"] and table.index.name == "model"


def test_unequal_holdout_lengths_are_passed_per_customer(summary):
    summary["duration_holdout"] = [1.0, 2.0, 3.0, 4.0]
    got = holdout_forecast(Linear(1.0, -1.0), summary)
    np.testing.assert_allclose(got, [1 * 1, 2 * 2, 3 * 3, 4 * 4])


def test_missing_or_bad_holdout_column_is_named(summary):
    with pytest.raises(DataError, match="no column 'frequency_holdout'"):
        compare_models({"m": Linear(1, -1)}, summary.drop(columns="frequency_holdout"))
    summary.loc["c", "frequency_holdout"] = -1
    with pytest.raises(DataError, match="1 values .* first for customer 'c'"):
        compare_models({"m": Linear(1, -1)}, summary)
    with pytest.raises(DataError, match="at least one fitted model"):
        compare_models({}, summary)


def test_grid_matches_the_formula_and_sets_recency_zero_for_non_repeaters():
    grid = frequency_recency_grid(Linear(1, -1), 10.0, max_frequency=3, recency_points=6)
    assert grid.shape == (4, 6) and list(grid.columns) == [0, 2, 4, 6, 8, 10]
    assert grid.loc[2, 4.0] == pytest.approx(1 / (1 + 10 - 4))
    assert (grid.loc[0] == 1 / 11).all()
    purchases = frequency_recency_grid(
        Linear(0.5, -1), 10.0, quantity="expected_purchases", horizon=4, max_frequency=2
    )
    assert purchases.loc[2].iloc[-1] == pytest.approx(0.5 * 4 * 3)
    with pytest.raises(DataError, match="quantity must be"):
        frequency_recency_grid(Linear(1, -1), 10.0, quantity="clv")


@pytest.mark.skipif(not hasattr(crmlab.models, "BGNBD"), reason="BG/NBD not available yet")
def test_bgnbd_grid_rises_with_recency_and_comparison_runs(cdnow_sample):
    summary = crmlab.rfm_summary(
        cdnow_sample, calibration_end="1997-09-30", observation_end="1998-06-30", time_unit="W"
    )
    fit = crmlab.models.BGNBD().fit(summary)
    grid = frequency_recency_grid(fit, 39.0, max_frequency=10)
    assert (np.diff(grid.loc[1:].to_numpy(), axis=1) >= -1e-12).all()
    table = compare_models({"BG/NBD": fit}, summary)
    assert abs(table.loc["BG/NBD", "holdout_error_pct"]) < 20


def test_holdout_dates_default_to_the_published_cdnow_split(cdnow_sample):
    cal, end = holdout_dates(cdnow_sample)
    assert (cal, end) == (pd.Timestamp("1997-09-30"), pd.Timestamp("1998-06-30"))
    cal, end = holdout_dates(cdnow_sample, "1997-06-30", "1997-12-31")
    assert (cal, end) == (pd.Timestamp("1997-06-30"), pd.Timestamp("1997-12-31"))
    with pytest.raises(DataError, match="must lie after the first purchase"):
        holdout_dates(cdnow_sample, "1999-01-01")
    with pytest.raises(DataError, match="must be dates"):
        holdout_dates(cdnow_sample, "not a date")
