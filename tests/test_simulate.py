"""Simulators with known truth: reproducible for a seed, their data agree with their truth,
summary statistics match the parameters, and the models recover them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import crmlab
from crmlab import DataError, simulate
from crmlab import simulate as rd
from crmlab.defection import reason_shares
from crmlab.integration import evaluate_matching, single_customer_view
from crmlab.relationships import distinct_per_customer, threshold_test
from crmlab.simulate.retailer import MODELS

COLUMNS = {
    "sales": {"record_id": "order_id"},
    "service": {"record_id": "ticket_id"},
    "marketing": {"record_id": "contact_id"},
}


def test_relationships_truth_is_recovered():
    sim = rd.relationships(3000, threshold=4, seed=1)
    customers, contacts = sim.tables["customers"], sim.tables["contacts"]
    breadth = distinct_per_customer(contacts, of="employee_id", customers=customers["customer_id"])
    np.testing.assert_array_equal(breadth.to_numpy(), customers["n_employees"].to_numpy())
    test = threshold_test(customers)
    assert test.changes()
    assert test.slope_below == pytest.approx(sim.params["slope"], abs=0.15)
    flat = rd.relationships(3000, threshold=None, seed=2)
    assert not threshold_test(flat.tables["customers"]).changes()
    assert set(customers["segment"]) == set(rd.SEGMENTS)
    with pytest.raises(DataError, match="n_customers"):
        rd.relationships(0)
    with pytest.raises(DataError, match="threshold"):
        rd.relationships(10, threshold=0)


def test_defection_survey_shares_match_truth():
    sim = rd.defection_survey(20000, seed=3)
    shares = reason_shares(sim.tables["survey"]).set_index("reason")["share"]
    for reason, p in sim.params["overall"].items():
        assert shares[reason] == pytest.approx(p, abs=0.015)
    with pytest.raises(DataError, match="sum to 1"):
        rd.defection_survey(10, shares={"a": {"x": 0.5, "y": 0.6}}, segment_weights={"a": 1})


def test_crm_sources_truth_aligns_and_rules_trade_precision_for_recall():
    sim = rd.crm_sources(800, seed=4)
    full = single_customer_view(sim.tables, columns=COLUMNS)
    recs = full.records[["source", "record_id"]].to_numpy()
    np.testing.assert_array_equal(recs, sim.truth[["source", "record_id"]].to_numpy())
    ids_only = single_customer_view(sim.tables, columns=COLUMNS, rules=("customer_id",))
    with_email = single_customer_view(sim.tables, columns=COLUMNS, rules=("customer_id", "email"))
    truth = sim.truth["person_id"]
    e0, e1, e2 = (
        evaluate_matching(v.records["person_id"], truth) for v in (ids_only, with_email, full)
    )
    assert e0["precision"] == 1 and e1["precision"] == 1  # ids and e-mails are never shared
    assert e0["recall"] < e1["recall"] < e2["recall"]
    assert e2["precision"] < 1  # shared household phones merge different people
    assert sim.params["shared_phones"] > 0


def test_shoppers_follow_their_favourite_group():
    sim = rd.shoppers(2000, loyalty=0.8, seed=5)
    trans = sim.tables["transactions"]
    group_of = {c: g for g, cats in rd.CATEGORY_GROUPS.items() for c in cats}
    fav = sim.truth.set_index("customer_id")["favourite_group"]
    in_fav = trans["category"].map(group_of).to_numpy() == fav.loc[trans["customer_id"]].to_numpy()
    # P(favourite) = loyalty + (1 - loyalty) / groups
    assert in_fav.mean() == pytest.approx(0.8 + 0.2 / 4, abs=0.02)
    assert trans.groupby("customer_id")["date"].is_monotonic_increasing.all()
    with pytest.raises(DataError, match="loyalty"):
        rd.shoppers(10, loyalty=2)
    with pytest.raises(DataError, match="same number"):
        rd.shoppers(10, groups={"a": ["x"], "b": ["y", "z"]})


# --- retailer -------------------------------------------------------------------------


@pytest.mark.parametrize("model", MODELS)
def test_retailer_is_reproducible_and_its_data_agree_with_its_truth(model):
    sim = simulate.retailer(3000, model=model, seed=7)
    again = simulate.retailer(3000, model=model, seed=7)
    pd.testing.assert_frame_equal(sim.transactions, again.transactions)
    pd.testing.assert_frame_equal(sim.truth, again.truth)
    assert not sim.transactions.equals(simulate.retailer(3000, model=model, seed=8).transactions)
    tx, truth = sim.transactions, sim.truth
    assert list(tx.columns) == ["customer_id", "date", "amount", "cost"]
    by = tx.groupby("customer_id")
    assert (by.size() == truth["purchases"]).all()
    assert (truth["purchases"] == truth["frequency"] + 1).all()
    assert (by["date"].min() == truth["first_purchase"]).all()
    assert by["date"].is_monotonic_increasing.all()
    np.testing.assert_allclose(by["amount"].sum(), truth["revenue"])
    np.testing.assert_allclose(by["cost"].sum(), truth["cost"])
    end = sim.params["observation_end"]
    assert tx["date"].max() < end
    np.testing.assert_allclose((end - truth["first_purchase"]).dt.days / 7, truth["T"])
    assert (truth["recency"] <= truth["observed_lifetime"] + 1e-9).all()
    assert (truth.loc[truth["frequency"] == 0, "recency"] == 0).all()
    assert truth["alive_at_end"].equals(truth["lifetime"] > truth["T"])
    # the last purchase date is the first purchase plus the recency (whole days, rounded down)
    last = by["date"].max()
    lag = (last - truth["first_purchase"]).dt.days.to_numpy()
    assert np.all(np.abs(lag - truth["recency"].to_numpy() * 7) <= 1)


def test_retailer_rates_match_their_parameters():
    """100k customers: sample means within four standard errors of the model's means."""
    n, r, alpha, s, beta = 100_000, 0.55, 10.58, 0.61, 11.67
    sim = simulate.retailer(n, r=r, alpha=alpha, s=s, beta=beta, seed=1)
    lam, mu = sim.truth["purchase_rate"], sim.truth["dropout_rate"]
    assert abs(lam.mean() - r / alpha) < 4 * np.sqrt(r) / alpha / np.sqrt(n)
    assert abs(mu.mean() - s / beta) < 4 * np.sqrt(s) / beta / np.sqrt(n)
    # repeat purchases given the rates and spans are Poisson: total within sampling error
    expected = float((lam * sim.truth["observed_lifetime"]).sum())
    assert abs(sim.truth["frequency"].sum() - expected) < 4 * np.sqrt(expected)
    # P(alive at T | lambda, mu) = exp(-mu T)
    p_alive = float(np.exp(-mu * sim.truth["T"]).mean())
    assert abs(sim.truth["alive_at_end"].mean() - p_alive) < 4 * np.sqrt(p_alive / n)
    bg = simulate.retailer(n, model="bg_nbd", a=0.8, b=2.4, seed=2).truth
    assert abs(bg["dropout_probability"].mean() - 0.8 / 3.2) < 0.003
    # BG/NBD: alive if no coin of the Poisson(lambda T) purchases said leave: exp(-lambda p T)
    alive = float(np.exp(-bg["purchase_rate"] * bg["dropout_probability"] * bg["T"]).mean())
    assert abs(bg["alive_at_end"].mean() - alive) < 4 * np.sqrt(alive * (1 - alive) / n)
    mbg = simulate.retailer(n, model="mbg_nbd", a=0.8, b=2.4, seed=2).truth
    alive = (1 - mbg["dropout_probability"]) * np.exp(
        -mbg["purchase_rate"] * mbg["dropout_probability"] * mbg["T"]
    )
    alive = float(alive.mean())  # MBG/NBD: and no leaving right after the first purchase
    assert abs(mbg["alive_at_end"].mean() - alive) < 4 * np.sqrt(alive * (1 - alive) / n)


def test_retailer_spend_and_costs_follow_their_parameters():
    p, q, gamma = 4.0, 6.0, 75.0
    sim = simulate.retailer(
        20_000,
        p=p,
        q=q,
        gamma=gamma,
        margin=0.3,
        margin_concentration=20,
        cost_per_order=8.0,
        cost_per_order_shape=1.0,
        marketing_cost=0.5,
        acquisition_periods=None,
        horizon=3,
        time_unit="Y",
        r=3.2,
        alpha=1.0,
        start="2021-01-01",
        seed=3,
    )
    tx, truth = sim.transactions, sim.truth
    assert tx["amount"].mean() == pytest.approx(p * gamma / (q - 1), rel=0.05)
    assert truth["margin"].mean() == pytest.approx(0.3, abs=0.005)
    assert truth["cost_per_order"].mean() == pytest.approx(8.0, rel=0.05)
    owner = truth.loc[tx["customer_id"]]
    direct = (1 - owner["margin"].to_numpy()) * tx["amount"] + owner["cost_per_order"].to_numpy()
    np.testing.assert_allclose(tx["cost"], direct, atol=0.006)
    np.testing.assert_allclose(truth["marketing_cost"], 0.5 * truth["T"])
    np.testing.assert_allclose(
        truth["profit"], truth["revenue"] - truth["cost"] - truth["marketing_cost"]
    )
    # ongoing acquisition: first purchases spread over the whole three years
    first = truth["first_purchase"]
    assert first.min() < pd.Timestamp("2021-02-01") and first.max() > pd.Timestamp("2023-11-30")
    assert tx["date"].max() < pd.Timestamp("2024-01-01")


def test_retailer_link_zero_makes_revenue_unrelated_to_lifetime():
    kw = {"r": 0.9, "alpha": 8.0, "s": 0.7, "beta": 40.0, "q": 50.0, "gamma": 367.5, "p": 4.0}
    for link, low, high in [(0.0, -0.05, 0.05), (1.0, 0.3, 0.6)]:
        truth = simulate.retailer(4000, link=link, seed=4, **kw).truth
        r = np.corrcoef(truth["observed_lifetime"], truth["revenue"])[0, 1]
        assert low < r < high, (link, r)


def test_retailer_categories_follow_customer_preferences():
    sim = simulate.retailer(
        3000, categories=["books", "music", "film"], category_concentration=0.2, r=2.0, seed=5
    )
    tx = sim.transactions
    assert list(tx["category"].cat.categories) == ["books", "music", "film"]
    favourite = sim.truth.loc[tx["customer_id"], "favourite_category"].to_numpy()
    # concentrated preferences: most orders fall in the customer's favourite category
    assert (tx["category"].to_numpy() == favourite).mean() > 0.7
    assert simulate.retailer(10, categories=4).transactions["category"].nunique() <= 4


def test_retailer_rejects_bad_parameters():
    with pytest.raises(DataError, match="n_customers"):
        simulate.retailer(0)
    with pytest.raises(DataError, match="model"):
        simulate.retailer(10, model="pareto")
    with pytest.raises(DataError, match="time_unit"):
        simulate.retailer(10, time_unit="H")
    with pytest.raises(DataError, match="'alpha'"):
        simulate.retailer(10, alpha=-1)
    with pytest.raises(DataError, match="link"):
        simulate.retailer(10, link=1.5)
    with pytest.raises(DataError, match="acquisition_periods"):
        simulate.retailer(10, acquisition_periods=100, horizon=78)
    with pytest.raises(DataError, match="categories"):
        simulate.retailer(10, categories=["a", "a"])
    with pytest.raises(AttributeError, match="tables"):
        getattr(simulate.retailer(10), "customers")  # noqa: B009


def test_retailer_extreme_parameters_stay_finite():
    sim = simulate.retailer(2000, model="bg_nbd", r=5.0, alpha=0.5, a=0.01, b=50.0, seed=6)
    assert np.isfinite(sim.truth["lifetime"]).all()
    assert sim.truth["frequency"].max() > 500  # about ten purchases a week for 78 weeks
    slow = simulate.retailer(2000, r=0.01, alpha=100.0, s=0.01, beta=1000.0, seed=6)
    assert (slow.truth["frequency"] == 0).mean() > 0.99


# --- parameter recovery: every model from crmlab.simulate ---------------------------------

NBD_TRUTH = {
    "pareto_nbd": {"r": 0.55, "alpha": 10.58, "s": 0.61, "beta": 11.67},
    "bg_nbd": {"r": 0.55, "alpha": 10.58, "a": 0.79, "b": 2.43},
    "mbg_nbd": {"r": 0.55, "alpha": 10.58, "a": 0.79, "b": 2.43},
}


@pytest.mark.parametrize("model", list(NBD_TRUTH))
def test_models_recover_the_simulated_retailer(model):
    """60k customers summarised from their transactions: every parameter within 2.5 SE."""
    truth = NBD_TRUTH[model]
    sim = simulate.retailer(60_000, model=model, seed=11, **truth)
    summary = crmlab.rfm_summary(sim.transactions, calibration_end=sim.params["observation_end"])
    cls = {"pareto_nbd": "ParetoNBD", "bg_nbd": "BGNBD", "mbg_nbd": "MBGNBD"}[model]
    fit = getattr(crmlab.models, cls)().fit(summary)
    assert fit.converged
    for name, value in truth.items():
        assert abs(fit.params[name] - value) < 2.5 * fit.bse[name], (name, fit.params[name])
    spend = crmlab.models.GammaGamma().fit(summary[summary["frequency"] > 0])
    for name, value in {"p": 6.25, "q": 3.74, "gamma": 15.44}.items():
        assert abs(spend.params[name] - value) < 2.5 * spend.bse[name], name


def test_bgbb_recovers_simulated_opportunities():
    sim = simulate.opportunities(60_000, 8, alpha=1.2, beta=0.75, gamma=0.66, delta=2.8, seed=12)
    summary = sim.summary
    assert (summary["recency"] <= summary["n_periods"]).all()
    assert (summary.loc[summary["frequency"] == 0, "recency"] == 0).all()
    np.testing.assert_array_equal(summary["frequency"], sim.history.sum(axis=1))
    fit = crmlab.models.BGBB().fit(summary)
    truth = {"alpha": 1.2, "beta": 0.75, "gamma": 0.66, "delta": 2.8}
    for name, value in truth.items():
        assert abs(fit.params[name] - value) < 2.5 * fit.bse[name], name
    # P(alive at opportunity n + 1), averaged over customers, against the simulated share
    assert fit.probability_alive(summary).mean() == pytest.approx(
        sim.truth["alive_next"].mean(), abs=0.01
    )


def test_sbg_recovers_simulated_subscriptions():
    sim = simulate.subscriptions(80_000, 9, alpha=0.7, beta=1.2, seed=13)
    alive = sim.alive["alive"]
    assert alive.iloc[0] == 80_000 and alive.is_monotonic_decreasing
    lifetime = sim.truth["lifetime"]
    assert alive.tolist() == [int((lifetime > t).sum()) for t in range(10)]
    fit = crmlab.models.ShiftedBetaGeometric().fit(alive.to_numpy())
    for name, value in {"alpha": 0.7, "beta": 1.2}.items():
        assert abs(fit.params[name] - value) < 2.5 * fit.bse[name], name


# --- wallet ----------------------------------------------------------------------------


def test_wallet_is_consistent_and_reproducible():
    from crmlab import share

    sim = simulate.wallet(300, 4, seed=7)
    w, truth = sim.spend, sim.truth
    assert list(w.columns) == [
        "customer_id", "firm", "spend", "wallet", "satisfaction", "rank", "n_used"
    ]  # fmt: skip
    sums = truth.groupby("customer_id")["share"].sum()
    assert sums.to_numpy() == pytest.approx(np.ones(len(sums)))
    assert w["customer_id"].nunique() == 300  # every customer uses at least one firm
    assert ((w["rank"] >= 1) & (w["rank"] <= w["n_used"])).all()
    out = share.share_of_wallet(w)
    assert out["share_of_wallet"].to_numpy() == pytest.approx(truth["share"].to_numpy())
    assert simulate.wallet(300, 4, seed=7).spend.equals(w)
    with pytest.raises(DataError, match="n_firms"):
        simulate.wallet(300, 1)


@pytest.mark.parametrize("model", list(NBD_TRUTH))
def test_purchase_counts_of_new_customers_match_the_models_distribution(model):
    """Monte Carlo check of P(X(T) = n) and E[X(T)]: 100k customers all observed for T."""
    truth = NBD_TRUTH[model]
    sim = simulate.retailer(
        100_000, model=model, acquisition_periods=1 / 7, horizon=52, seed=21, **truth
    )
    assert (sim.truth["T"] == 52).all()
    counts = np.bincount(sim.truth["frequency"].to_numpy(), minlength=8)
    cls = {"pareto_nbd": "ParetoNBD", "bg_nbd": "BGNBD", "mbg_nbd": "MBGNBD"}[model]
    result_class = getattr(crmlab.models.nbd, f"{cls}Result")
    fit = result_class(
        model=cls,
        params=pd.Series(truth),
        cov=pd.DataFrame(np.zeros((4, 4))),
        loglik=np.nan,
        n_obs=1.0,
        converged=True,
        message="",
    )
    n = np.arange(8)
    expected = 100_000 * fit.purchase_probability(n, 52.0)
    # each cell within four binomial standard deviations
    sd = np.sqrt(expected * (1 - expected / 100_000))
    assert np.all(np.abs(counts[:8] - expected) < 4 * sd + 1), (counts[:8], expected.round())
    mean = float(fit.expected_purchases(52.0))
    se = sim.truth["frequency"].std() / np.sqrt(100_000)
    assert abs(sim.truth["frequency"].mean() - mean) < 4 * se
