"""Loyalty versus profit (Reinartz & Kumar 2000): lifetimes, one-time buyers apart, ties,
the cost model, refitted intervals, sensitivity and the simulated truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from loyalty_cases import END, START, ExponentialAlive, cohort, constructed, oracle_of

from crmlab.costs import CostModel
from crmlab.errors import DataError
from crmlab.studies import (
    GROUPS,
    SEGMENTS,
    compare_with_truth,
    loyalty_profit,
    simulation_check,
    split_groups,
)
from crmlab.studies.association import bootstrap_correlations, resample_midranks
from crmlab.studies.loyalty_profit import rerun

Q1 = ("2024-01-01", "2024-03-31")


def _study(tx=None, **kw):
    params = {
        "model": ExponentialAlive(k=10.0),
        "costs": CostModel.per_period(0.4, 5.0, 0.5, "W"),
        "cohort": Q1,
        "observation_end": END,
        "n_boot": 20,
        "seed": 1,
    }
    params.update(kw)
    return loyalty_profit(constructed() if tx is None else tx, **params)


def test_study_on_constructed_cases_keeps_one_time_buyers_apart():
    tx = constructed()
    res = _study(tx)
    c = res.customers
    assert len(c) == 40
    assert res.excluded == {
        "customers with first purchase outside the cohort": 10,
        "their transactions": 20,
    }
    pattern = tx.groupby("customer_id")["pattern"].first().reindex(c.index)
    # one-timers: lifetime 10 ln 2; regulars: 20 + 30 ln 2; steady: 30 + 30 ln 2; late: alive
    np.testing.assert_allclose(c.loc[pattern == "one", "lifetime"], 10 * np.log(2), atol=1e-5)
    np.testing.assert_allclose(
        c.loc[pattern == "regular", "lifetime"], 20 + 30 * np.log(2), atol=1e-5
    )
    assert c.loc[pattern == "late", "censored"].all()
    assert not c.loc[pattern != "late", "censored"].any()
    # profit = 0.4 revenue - 5 orders - 0.5 x weeks counted alive (the cost model per week)
    expected = 0.4 * c["revenue"] - 5.0 * c["orders"] - 0.5 * c["lifetime"]
    np.testing.assert_allclose(c["profit"], expected)
    np.testing.assert_allclose(c["cost_marketing"], 0.5 * c["lifetime"])
    # one-time buyers are their own group; the quadrants are cut among the 30 repeat buyers
    assert (c.loc[pattern == "one", "segment"] == "One-time buyers").all()
    assert not c.loc[pattern == "one", ["long_life", "high_profit"]].any().any()
    assert res.ties == {
        "one_time_buyers": 10,
        "one_time_tied": 10,
        "one_time_lifetime": pytest.approx(10 * np.log(2), abs=1e-5),
        "one_time_censored": 0,
    }
    splits = res.splits.set_index("dimension")
    repeat = c[c["repeat_buyer"]]
    assert splits.loc["lifetime", "among"] == "repeat buyers"
    assert splits.loc["lifetime", "cut"] == pytest.approx(repeat["lifetime"].median())
    assert (
        splits.loc["lifetime", "n_tied_at_cut"]
        == (np.isclose(repeat["lifetime"], splits.loc["lifetime", "cut"])).sum()
    )
    assert splits.loc["lifetime", "n_low"] + splits.loc["lifetime", "n_high"] == 30
    seg = res.segments.set_index("segment")
    assert seg.index.tolist() == GROUPS
    assert seg["customers"].sum() == 40 and seg.loc["One-time buyers", "customers"] == 10
    np.testing.assert_allclose(seg.loc[SEGMENTS, "share_of_repeat"].sum(), 1.0)
    assert np.isnan(seg.loc["One-time buyers", "share_of_repeat"])
    np.testing.assert_allclose(seg["profit"].sum(), c["profit"].sum())
    # statistics per sample; the stand-in model cannot be refitted and the method says so
    r = res.statistic("pearson")
    assert r["sample"] == "repeat buyers" and r["n"] == 30
    assert r.estimate == pytest.approx(np.corrcoef(repeat["lifetime"], repeat["profit"])[0, 1])
    r0 = res.statistic("pearson_without_marketing")
    before = repeat["profit"] + repeat["cost_marketing"]
    assert r0.estimate == pytest.approx(np.corrcoef(repeat["lifetime"], before)[0, 1])
    assert res.statistic("pearson", "all customers")["n"] == 40
    assert "held fixed" in r["method"] and not res.bootstrap.refitted
    with pytest.raises(KeyError):
        res.statistic("pearson_true_lifetime")  # no dropout process for a stand-in
    # proposition 4 is testable (the data carry quantity); each proposition has a caveat
    p = res.propositions.set_index("proposition")
    assert p.loc[4, "verdict"] != "not testable" and p.loc[4, "n"] == 30
    assert p["caveat"].str.len().gt(20).all()
    assert "repeat buyers" in res.summary()


def test_all_customers_together_when_asked():
    res = _study(one_time_apart=False, split=(15.0, "median"))
    c = res.customers
    assert "One-time buyers" not in set(c["segment"])
    assert res.splits["among"].eq("all customers").all()
    assert res.statistic("pearson", "all customers")["n"] == 40
    with pytest.raises(KeyError):
        res.statistic("pearson", "repeat buyers")


def test_recorded_costs_and_marketing_over_the_window():
    tx = constructed()
    tx["cost"] = 0.5 * tx["amount"]
    res = _study(
        tx, costs=CostModel.per_period(0.3, 0.0, 1.0, "W"), marketing_until="observation_end"
    )
    c = res.customers
    np.testing.assert_allclose(c["cost_of_goods"], 0.5 * c["revenue"])
    np.testing.assert_allclose(c["cost_marketing"], c["T"])
    assert res.settings["margin"] is None
    # the cost column is ignored when the cost model says so
    res = _study(tx, costs=CostModel(0.3, use_cost_column=False))
    np.testing.assert_allclose(res.customers["cost_of_goods"], 0.7 * res.customers["revenue"])


def test_split_ties_go_low_and_degenerate_splits_are_refused():
    values = np.r_[np.ones(80), np.arange(2.0, 22.0)]
    high, info = split_groups(values, "median", name="lifetime", labels=("short", "long"))
    assert info["cut"] == 1.0 and info["n_tied_at_cut"] == 80
    assert info["n_high"] == 20 == high.sum() and info["n_low"] == 80
    degenerate = np.r_[np.ones(97), [2.0, 3.0, 4.0]]
    with pytest.raises(DataError, match=r"only 3 of 100 customers .*97 customers are tied"):
        split_groups(degenerate, "median", name="lifetime", labels=("short", "long"))
    high, info = split_groups(
        degenerate, 1.5, name="lifetime", labels=("short", "long"), min_share=0.01
    )
    assert high.sum() == 3 and info["n_tied_at_cut"] == 0
    with pytest.raises(DataError, match="'median', 'mean' or a number"):
        split_groups(values, "tertile", name="profit", labels=("low", "high"))


def test_too_few_repeat_buyers_says_how_to_fix():
    tx = constructed()
    ones = tx[tx["pattern"] == "one"]
    with pytest.raises(DataError, match="one_time_apart=False"):
        _study(ones)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"alive_threshold": 0.0}, "alive_threshold must lie strictly between 0 and 1"),
        ({"alive_threshold": 1.5}, "alive_threshold"),
        ({"alive_threshold": float("nan")}, "alive_threshold"),
        ({"costs": 0.3}, "costs must be a crmlab.costs.CostModel"),
        ({"cohort": ("2030-01-01", "2030-03-31")}, "has no customers: first purchases"),
        ({"cohort": ("2024-03-31", "2024-01-01")}, "ends .* before it starts"),
        ({"cohort": "2024"}, "cohort must be a pair of dates"),
        ({"model": "weibull"}, "model must be one of"),
        ({"split": "tertile"}, "'median', 'mean' or a number"),
        ({"n_boot": 1}, "n_boot must be at least 10"),
        ({"observation_end": "not a date"}, "observation_end must be a date"),
        ({"marketing_until": "forever"}, "marketing_until"),
        ({"margins": (1.5,)}, "margins must lie in"),
    ],
)
def test_bad_parameters_raise_clear_errors(kwargs, message):
    with pytest.raises(DataError, match=message):
        _study(**kwargs)


def test_missing_columns_and_transactions_after_the_end():
    tx = constructed()
    with pytest.raises(DataError, match="no column 'amount'"):
        loyalty_profit(tx.drop(columns="amount"), model=ExponentialAlive())
    late = pd.DataFrame(
        {"customer_id": [1, 999], "date": [END + pd.Timedelta(days=3)] * 2, "amount": [5.0, 5.0]}
    )
    res = _study(pd.concat([tx, late], ignore_index=True))
    assert res.excluded["transactions after observation_end"] == 2
    assert 999 not in res.customers.index


def test_string_customer_ids_and_default_window():
    tx = constructed()
    tx["customer_id"] = "C" + tx["customer_id"].astype(str).str.zfill(3)
    res = loyalty_profit(tx, model=ExponentialAlive(), n_boot=0)
    assert res.customers.index[0] == "C001" and len(res.customers) == 50
    assert res.settings["observation_end"] == str((START + pd.Timedelta(weeks=48)).date())
    assert res.excluded == {}
    assert np.isnan(res.statistic("pearson")["lower"])  # no bootstrap: no interval


def test_sensitivity_grid_says_why_the_answer_moves():
    res = _study(thresholds=(0.3, 0.5, 0.7), margins=(0.3, 0.4), marketing_factors=(0, 1, 2))
    s = res.sensitivity
    assert len(s) == 3 * 2 * 3
    assert sorted(s["marketing_cost_per_week"].unique()) == [0.0, 0.5, 1.0]
    c = res.customers
    one = ~c["repeat_buyer"]
    # one-time buyers' lifetime is t_x + 10 ln(1/c): longer at a lower threshold
    for c_, weeks in ((0.3, 10 * np.log(1 / 0.3)), (0.7, 10 * np.log(1 / 0.7))):
        rows = s[np.isclose(s["alive_threshold"], c_)]
        np.testing.assert_allclose(rows["one_time_median_lifetime"], weeks, atol=1e-5)
        np.testing.assert_allclose(
            rows["one_time_mean_marketing"], rows["marketing_cost_per_week"] * weeks, atol=1e-4
        )
    base = s[
        np.isclose(s["alive_threshold"], 0.5)
        & np.isclose(s["margin"], 0.4)
        & np.isclose(s["marketing_cost_per_week"], 0.5)
    ].iloc[0]
    assert base["pearson_repeat"] == pytest.approx(res.statistic("pearson").estimate)
    assert base["pearson_all"] == pytest.approx(np.corrcoef(c["lifetime"], c["profit"])[0, 1])
    assert one.sum() == 10


def test_rerun_keeps_the_fit_and_changes_the_assumptions():
    tx = constructed()
    res = _study(tx)
    again = rerun(res, tx, alive_threshold=0.6, margin=0.5, marketing_cost_per_week=0.0)
    assert again.fit is res.fit and again.settings["alive_threshold"] == 0.6
    np.testing.assert_allclose(again.customers["cost_marketing"], 0.0)
    np.testing.assert_allclose(
        again.customers["profit"],
        0.5 * again.customers["revenue"] - 5.0 * again.customers["orders"],
    )


def test_resampled_midranks_equal_rankdata(rng):
    from scipy import stats

    x = rng.integers(0, 6, 40).astype(float)
    idx = rng.integers(0, 40, size=(9, 40))
    uniq, codes = np.unique(x, return_inverse=True)
    np.testing.assert_array_equal(
        resample_midranks(codes, uniq.size, idx), stats.rankdata(x[idx], axis=1)
    )


def test_bootstrap_correlations_are_seeded_and_cover_the_truth(rng):
    n = 2000
    z = rng.normal(size=(n, 2))
    x = z[:, 0]
    y = 0.5 * z[:, 0] + np.sqrt(0.75) * z[:, 1]
    a = bootstrap_correlations(x, y, n_boot=300, seed=7)
    pd.testing.assert_frame_equal(a, bootstrap_correlations(x, y, n_boot=300, seed=7))
    pear = a.set_index("statistic").loc["pearson"]
    assert pear.lower < 0.5 < pear.upper and pear.upper - pear.lower < 0.1


def test_welch_difference_matches_scipy(rng):
    from scipy import stats

    from crmlab.studies.propositions import welch_difference

    a, b = rng.normal(1.0, 2.0, 40), rng.normal(0.0, 1.0, 25)
    ours = welch_difference(a, b, 0.9)
    ref = stats.ttest_ind(a, b, equal_var=False)
    ci = ref.confidence_interval(confidence_level=0.9)
    np.testing.assert_allclose(
        [ours["p_value"], ours["lower"], ours["upper"]], [ref.pvalue, ci.low, ci.high]
    )
    assert np.isnan(welch_difference(np.full(5, 0.7), np.full(4, 0.7))["estimate"])


def test_kaplan_meier_rows_say_nan_only_where_the_median_is_nan():
    res = _study()
    km = res.association[res.association["statistic"].str.startswith("km_median")]
    for row in km.itertuples():
        assert ("stays above 0.5" in row.method) == bool(np.isnan(row.estimate))


# --------------------------------------------------------------------------- known truth

COSTS = CostModel.per_period(0.3, 2.0, 0.25, "W")


def test_oracle_study_truth_comparison_uses_the_same_cost_model():
    sim = cohort(1200, link=1.0, seed=8, margin=0.3, cost_per_order=2.0)
    res = loyalty_profit(
        sim.transactions,
        model=oracle_of(sim),
        costs=CostModel.per_period(0.3, 2.0, 0.25, "W", use_cost_column=False),
        observation_end=sim.params["observation_end"],
        n_boot=0,
    )
    table = compare_with_truth(res, sim).set_index("sample")
    truth = sim.truth.loc[res.customers.index]
    profit = truth["revenue"] - truth["cost"] - 0.25 * truth["observed_lifetime"]
    rep = res.customers["repeat_buyer"]
    assert table.loc["repeat buyers", "true_pearson"] == pytest.approx(
        np.corrcoef(truth.loc[rep, "observed_lifetime"], profit[rep])[0, 1]
    )
    # the study's estimated profit differs from the true one only through the lifetime
    gap = (res.customers["profit"] - profit) - 0.25 * (
        truth["observed_lifetime"] - res.customers["lifetime"]
    )
    assert np.abs(gap).max() < 0.01 * res.customers["orders"].max() + 1e-6
    assert table.loc["all customers", "lifetime_rank_correlation"] > 0.6
    assert table.loc["all customers", "censoring_agreement"] > 0.75


def test_refitted_intervals_cover_the_simulated_truth():
    """Small simulated retailers with known truth, studied with the fitted Pareto/NBD and
    a bootstrap that refits it: the drawn-lifetime interval covers the true correlation
    in both worlds; the threshold estimate over all customers runs above the truth in the
    linked world (the one-time buyers' tie), which is why the report leads with repeat
    buyers and the drawn lifetimes."""
    check = simulation_check(COSTS, seeds=(3,), n_customers=500, n_boot=30)
    table = check.table
    assert set(table["world"]) == {"independent (link = 0)", "linked (link = 1)"}
    assert table["imputed_covers_truth"].all(), table
    for _, row in table.iterrows():
        assert row["imputed_lower"] < row["imputed_pearson"] < row["imputed_upper"]
    linked = table[(table["link"] == 1.0) & (table["sample"] == "all customers")].iloc[0]
    assert linked["estimated_pearson"] > linked["true_pearson"]
    for res, _ in check.studies.values():
        assert res.bootstrap.refitted and len(res.bootstrap.replicates) + res.bootstrap.failed == 30
        assert "model refitted" in res.statistic("pearson")["method"]
    cov = check.coverage()
    assert cov["runs"].tolist() == [1, 1]
    assert cov["imputed_covered"].tolist() == [1, 1]
