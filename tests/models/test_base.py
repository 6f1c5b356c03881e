"""crmlab.models.base: a broken fit is an error, not a result (issue 13, section 2).

One case per bad input or unidentifiable data set met so far, each asserting the exact
outcome: the error type and the words that say what is wrong and what to do.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import crmlab
from crmlab.errors import DataError
from crmlab.models import (
    BGBB,
    BGNBD,
    MBGNBD,
    ConvergenceWarning,
    GammaGamma,
    IdentificationError,
    ParetoNBD,
    ShiftedBetaGeometric,
    customer_value,
)
from crmlab.models.base import (
    discount_per_period,
    edge_parameters,
    guard_fit,
    interval_frame,
    interval_frame_blocks,
    per_customer,
)

NBD_MODELS = (BGNBD, MBGNBD, ParetoNBD)


def test_identification_error_is_a_data_error():
    assert issubclass(IdentificationError, DataError)
    assert crmlab.models.IdentificationError is IdentificationError


@pytest.mark.parametrize("column", ["frequency", "recency", "T"])
def test_nan_in_a_summary_column_is_refused_not_dropped(summary, column):
    bad = summary.copy()
    bad.iloc[[3, 10, 20], bad.columns.get_loc(column)] = np.nan
    first = bad.index[3]
    for model in NBD_MODELS:
        with pytest.raises(
            DataError, match=rf"column '{column}' has 3 missing values .*row 4 \(index {first}\)"
        ):
            model().fit(bad)
    fit = BGNBD().fit(summary)
    with pytest.raises(DataError, match=f"column '{column}' has 3 missing"):
        fit.probability_alive(bad)


def test_nan_in_spend_columns_is_refused(summary):
    bad = summary[summary["frequency"] > 0].copy()
    bad.iloc[0, bad.columns.get_loc("monetary_value")] = np.nan
    with pytest.raises(DataError, match="column 'monetary_value' has 1 missing values"):
        GammaGamma().fit(bad)


@pytest.mark.parametrize("model", NBD_MODELS)
def test_one_customer_cannot_identify_four_parameters(summary, model):
    repeat = summary[summary["frequency"] > 2].iloc[[0]]
    with pytest.raises(IdentificationError, match="1 customers cannot identify 4 parameters"):
        model().fit(repeat)


@pytest.mark.parametrize("model", NBD_MODELS)
def test_no_repeat_buyer_raises_and_says_what_to_do(model):
    data = pd.DataFrame({"frequency": 0.0, "recency": 0.0, "T": np.linspace(10, 50, 500)})
    with pytest.raises(IdentificationError) as caught:
        model().fit(data)
    text = str(caught.value)
    assert "none of the 500 customers made a repeat purchase" in text
    assert "longer calibration window" in text and "strict=False" in text
    with pytest.warns(ConvergenceWarning, match="none of the 500"):
        flagged = model().fit(data, strict=False)
    assert not flagged.converged


def test_all_transactions_on_one_day():
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 3, 4, 5, 6],
            "date": pd.to_datetime(["2024-01-05"] * 7),
            "amount": [1.0, 2, 3, 4, 5, 6, 7],
        }
    )
    summary = crmlab.rfm_summary(tx)
    with pytest.raises(IdentificationError, match=r"observed for no time \(T = 0"):
        BGNBD().fit(summary)


def test_repeat_purchases_at_age_zero_are_impossible():
    data = pd.DataFrame({"frequency": [0.0, 1.0, 2.0], "recency": 0.0, "T": 0.0})
    with pytest.raises(DataError, match="column 'T' has 2 impossible values.*age T > 0"):
        BGNBD().fit(data)


@pytest.mark.parametrize("model", NBD_MODELS)
def test_nobody_ever_leaves_puts_an_estimate_on_the_edge(model):
    rng = np.random.default_rng(1)
    T = rng.uniform(20, 40, 300)
    x = rng.poisson(T * 0.5).astype(float)
    data = pd.DataFrame({"frequency": x, "recency": np.where(x > 0, T, 0.0), "T": T})
    with pytest.raises(IdentificationError, match="edge of the parameter space"):
        model().fit(data)


def test_gamma_gamma_one_heavy_customer():
    data = pd.DataFrame({"frequency": [100_000], "monetary_value": [20.0]})
    with pytest.raises(IdentificationError, match="only 1 customer"):
        GammaGamma().fit(data)


def test_gamma_gamma_identical_spend_and_near_identical_spend():
    rng = np.random.default_rng(2)
    same = pd.DataFrame({"frequency": rng.integers(1, 10, 300), "monetary_value": 20.0})
    with pytest.raises(IdentificationError, match="spent the same mean amount"):
        GammaGamma().fit(same)
    near = same.assign(monetary_value=20 * np.exp(rng.normal(0, 0.01, 300)))
    with pytest.raises(IdentificationError, match=r"edge of the parameter space \(p="):
        GammaGamma().fit(near)


def test_discrete_models_refuse_degenerate_data():
    with pytest.raises(IdentificationError, match="no customer made a repeat"):
        BGBB().fit(pd.DataFrame({"frequency": [0], "recency": [0], "n_periods": [6]}))
    with pytest.raises(IdentificationError, match="nobody churned"):
        ShiftedBetaGeometric().fit([100, 100, 100])


def test_published_data_fit_without_raising(summary, cdnow):
    full = crmlab.rfm_summary(cdnow, calibration_end="1997-09-30", time_unit="W")
    for data in (summary, full):
        for model in NBD_MODELS:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                fit = model().fit(data)
            assert fit.converged and fit.time_unit == "W"
        spend, _ = customer_value.spend_inputs(data)
        assert GammaGamma().fit(spend).converged
    assert BGBB().fit(crmlab.load_dataset("donations")).converged


def test_a_list_is_not_a_frame():
    for model in NBD_MODELS:
        with pytest.raises(DataError, match="needs a pandas DataFrame.*got a list"):
            model().fit([1, 2, 3])
    with pytest.raises(DataError, match="got a list"):
        GammaGamma().fit([[1, 20.0]])
    with pytest.raises(DataError, match="rfm_summary needs the transactions as a pandas"):
        crmlab.rfm_summary([1, 2, 3])


def test_time_unit_must_be_a_string(cdnow_sample):
    with pytest.raises(DataError, match=r"time_unit=\['W'\] is not known"):
        crmlab.rfm_summary(cdnow_sample, time_unit=["W"])


def test_negative_or_infinite_forecast_period(summary):
    fit = BGNBD().fit(summary)
    for t in (-5, np.inf, np.nan):
        with pytest.raises(DataError, match="must be finite and >= 0"):
            fit.expected_purchases(t, summary)
    with pytest.raises(DataError, match="must be finite and >= 0"):
        fit.expected_purchases(np.array([1.0, -5.0]))
    with pytest.raises(DataError, match="one number or a Series"):
        fit.expected_purchases([1.0, 2.0], summary)


@pytest.mark.parametrize("horizon", [0, -52, np.nan, "0Y"])
def test_non_positive_horizon_is_refused(summary, horizon):
    fit = BGNBD().fit(summary)
    with pytest.raises(DataError, match="horizon|duration"):
        fit.clv(summary, annual_discount_rate=0.1, horizon=horizon)


def test_summary_in_another_time_unit_is_refused(cdnow_sample):
    weeks = crmlab.rfm_summary(cdnow_sample, calibration_end="1997-09-30", time_unit="W")
    days = crmlab.rfm_summary(cdnow_sample, calibration_end="1997-09-30", time_unit="D")
    fit = BGNBD().fit(weeks)
    with pytest.raises(DataError, match="time unit 'W' but this summary is in 'D'"):
        fit.probability_alive(days)


def test_strict_must_be_a_bool(summary):
    with pytest.raises(DataError, match="strict must be True or False"):
        BGNBD().fit(summary, strict="no")


def test_edge_parameters_shapes_and_scales():
    params = pd.Series({"r": 0.5, "alpha": 5e9, "a": 1e-9, "b": 3.0})
    assert edge_parameters(params, scales={"alpha": 40.0}) == ["a=1e-09", "alpha=5e+09"]
    assert edge_parameters(params, scales={"alpha": 1e4}) == ["a=1e-09"]


def test_guard_fit_passes_a_clean_fit_and_names_every_reason():
    params = pd.Series({"a": 1.0, "b": 2.0})
    assert guard_fit("M", params, True, "ok", strict=True, advice="") == (True, "ok")
    with pytest.raises(IdentificationError, match="singular Hessian.*Do this."):
        guard_fit("M", params, False, "x; Hessian is singular", strict=True, advice="Do this.")
    with pytest.raises(IdentificationError, match=r"did not converge \(maxiter\)"):
        guard_fit("M", params, False, "maxiter", strict=True, advice="")
    with pytest.warns(ConvergenceWarning, match="M cannot be estimated"):
        ok, message = guard_fit("M", params, False, "maxiter", strict=False, advice="")
    assert not ok and "did not converge" in message


def test_per_customer_values_are_matched_by_id():
    data = pd.DataFrame({"x": [1, 2, 3]}, index=["a", "b", "c"])
    spend = pd.Series({"c": 30.0, "a": 10.0, "b": 20.0, "z": 99.0})
    np.testing.assert_array_equal(per_customer(spend, data, "spend"), [10.0, 20.0, 30.0])
    np.testing.assert_array_equal(per_customer(5, data, "spend"), [5.0, 5.0, 5.0])
    with pytest.raises(DataError, match="no value for 1 customers of the summary, first 'c'"):
        per_customer(spend.drop("c"), data, "spend")
    with pytest.raises(DataError, match="matched by position"):
        per_customer(np.array([1.0, 2.0, 3.0]), data, "spend")
    with pytest.raises(DataError, match="1 duplicate customer ids, first 'a'"):
        per_customer(pd.Series([1.0, 2.0, 3.0, 4.0], index=["a", "a", "b", "c"]), data, "spend")
    with pytest.raises(DataError, match="column 'spend' has 1 missing values"):
        per_customer(pd.Series([1.0, np.nan, 3.0], index=["a", "b", "c"]), data, "spend")


def test_discount_rate_per_period_or_per_year():
    assert discount_per_period(0.0, None, None, "W") == 0.0
    weekly = discount_per_period(None, 0.10, None, "W")
    assert (1 + weekly) ** (365.25 / 7) == pytest.approx(1.10)
    assert discount_per_period(None, 0.10, 1, None) == pytest.approx(0.10)
    assert discount_per_period(None, 0.10, 12, None) == pytest.approx(1.1 ** (1 / 12) - 1)
    with pytest.raises(DataError, match="exactly one"):
        discount_per_period(0.01, 0.10, None, "W")
    with pytest.raises(DataError, match="exactly one"):
        discount_per_period(None, None, None, "W")
    with pytest.raises(DataError, match=">= 0"):
        discount_per_period(-0.01, None, None, "W")
    with pytest.raises(DataError, match="periods_per_year"):
        discount_per_period(None, 0.10, None, None)


def test_interval_frame_total_comes_from_the_same_draws():
    rng = np.random.default_rng(0)
    # two customers whose values move in opposite directions: the total is certain
    z = rng.standard_normal(400)
    samples = np.column_stack([10 + z, 10 - z])
    frame = interval_frame(np.array([10.0, 10.0]), samples, pd.Index(["a", "b"]), "clv", 0.9)
    assert (frame["upper"] - frame["lower"] > 3).all()
    total = frame.attrs["total"]
    assert total["clv"] == 20.0 and total["lower"] == total["upper"] == pytest.approx(20.0)
    assert total["level"] == 0.9 and total["draws"] == 400


@pytest.mark.parametrize("block", [1, 7, 64, 10_000])
def test_interval_frame_blocks_equals_the_whole_matrix(block):
    """Intervals computed block by block (issue 17: hundreds of thousands of customers)
    are the whole matrix's, value for value: ties, infinite draws and a fixed column."""
    rng = np.random.default_rng(3)
    samples = rng.lognormal(size=(150, 300))
    samples[:, 5] = 2.0  # one customer whose value does not move
    samples[7, 11] = np.inf  # a draw without finite value
    samples[:, 13] = np.round(samples[:, 13], 1)  # ties with the point estimate
    point = np.median(samples, axis=0) * 1.01
    point[13] = samples[0, 13]
    index = pd.Index([f"c{i}" for i in range(300)])
    whole = interval_frame(point, samples, index, "clv", 0.9)

    def values(draw_rows, rows):
        return samples[draw_rows][:, rows]

    blocks = interval_frame_blocks(point, values, 150, index, "clv", 0.9, block=block)
    pd.testing.assert_frame_equal(blocks, whole, check_exact=True)
    pd.testing.assert_series_equal(blocks.attrs["total"], whole.attrs["total"], check_exact=True)
    # a fixed row vector (spend that does not depend on the draw) broadcasts to every draw
    row = samples[0]
    fixed = interval_frame(point, np.tile(row, (150, 1)), index, "clv", 0.9)
    got = interval_frame_blocks(point, lambda d, r: row[r], 150, index, "clv", 0.9, block=block)
    pd.testing.assert_frame_equal(got, fixed, check_exact=True)
