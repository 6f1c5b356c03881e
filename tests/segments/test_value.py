"""Actual and potential value, MVC/MGC/BZ tiers, cost grids and the findings
(crmlab/segments/value.py): exact identities, known-truth simulations and hand examples."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from crmlab import DataError, simulate
from crmlab import segments as seg
from crmlab.costs import CostModel


@pytest.fixture(scope="module")
def fitted(cdnow_sample):
    return seg.fit_value_models(cdnow_sample, model="pareto_nbd")


@pytest.fixture(scope="module")
def values(fitted):
    return seg.customer_values(fitted, CostModel(0.3, 2.0, 5.0), horizon="2Y")


def test_pareto_alive_time_satisfies_the_purchase_identity(fitted):
    # Pareto/NBD: rate and lifetime independent given alive, so
    # E[X(t)] = (r + x) / (alpha + T) * E[time alive in (T, T + t]]
    s, res = fitted.summary, fitted.purchases
    a = seg.expected_alive_time(res, s, 52.0)
    ex = res.expected_purchases(52.0, data=s)
    rate = (res.params["r"] + s["frequency"]) / (res.params["alpha"] + s["T"])
    np.testing.assert_allclose(ex, rate * a, rtol=1e-4)
    assert (a <= 52.0 + 1e-9).all() and (a >= 0).all()


@pytest.mark.parametrize("model", ["bg_nbd", "mbg_nbd", "pareto_nbd"])
def test_alive_time_matches_simulated_truth(model):
    # at the true parameters, the mean predicted time alive equals the mean simulated one
    true = {"r": 0.5, "alpha": 8.0, "a": 0.6, "b": 2.5, "s": 0.7, "beta": 10.0}
    sim = simulate.retailer(
        20_000, model=model, horizon=52.0, seed=7, **{k: v for k, v in true.items()}
    )
    from crmlab import models, rfm_summary

    summary = rfm_summary(
        sim.transactions,
        calibration_end=sim.params["observation_end"] - pd.Timedelta(days=1),
        time_unit="W",
    )
    fitter = {"pareto_nbd": models.ParetoNBD, "bg_nbd": models.BGNBD, "mbg_nbd": models.MBGNBD}
    res = fitter[model]().fit(summary)
    names = list(res.params.index)
    res = dataclasses.replace(res, params=pd.Series({k: true[k] for k in names}))
    horizon = 26.0
    predicted = seg.expected_alive_time(res, summary, horizon).mean()
    truth = sim.truth.reindex(summary.index)
    rng = np.random.default_rng(1)
    alive = truth["alive_at_end"].to_numpy()
    if model == "pareto_nbd":
        rest = rng.exponential(1 / truth["dropout_rate"].to_numpy())
    else:  # memoryless: death at rate lambda * p after the end
        rest = rng.exponential(
            1 / (truth["purchase_rate"] * truth["dropout_probability"]).to_numpy()
        )
    simulated = np.where(alive, np.minimum(rest, horizon), 0.0)
    se = simulated.std() / np.sqrt(len(simulated))
    assert predicted == pytest.approx(simulated.mean(), abs=4 * se + 0.02 * horizon * 0.05)


def test_orders_times_spend_is_the_models_clv(fitted, values):
    from crmlab.models.customer_value import spend_inputs

    s = fitted.summary
    spend = fitted.spend.expected_spend(spend_inputs(s)[0])
    weekly = __import__("crmlab").units.rate_per_period(0.10, "W")
    clv = fitted.purchases.clv(
        s, spend=spend, margin=0.3, discount_rate=weekly, horizon=values.attrs["horizon_periods"]
    )
    clv = clv["clv"] if isinstance(clv, pd.DataFrame) else clv
    np.testing.assert_allclose(values["expected_margin"], clv, rtol=1e-9)


def test_actual_value_formula_and_potential_never_below(values):
    v = values
    np.testing.assert_allclose(
        v["actual_value"],
        0.3 * v["expected_spend"] * v["expected_orders"]
        - 2.0 * v["expected_orders"]
        - 5.0 * v["alive_years"],
    )
    assert (v["potential_value"] >= v["actual_value"] - 1e-12).all()
    assert (v["gap"] >= 0).all()
    assert v.attrs["horizon"] == "2 years"
    # alive time is at most the horizon, weighted by P(alive)
    assert (v["alive_years"] <= 2.0 + 1e-9).all()
    # in a group of one-time buyers only, nothing says anyone would spend more
    only_once = v.groupby("rate_group")["frequency"].transform("max") == 0
    assert only_once.any()
    assert (v.loc[only_once, "gap"].abs() < 1e-9).all()
    # a customer the model says has left has little potential
    gone = v["p_alive"] < 0.05
    assert v.loc[gone, "gap"].mean() < v.loc[~gone, "gap"].mean() / 5


def test_potential_uses_the_groups_spend_quantile(values):
    g = values.groupby("rate_group")["expected_spend"].quantile(0.9)
    reach = values["rate_group"].map(g)
    np.testing.assert_allclose(
        values["potential_spend"], np.maximum(values["expected_spend"], reach)
    )


def test_rate_group_keeps_ties_together():
    rate = pd.Series([1.0] * 6 + [2.0, 3.0, 4.0, 5.0])
    g = seg.rate_group(rate, 5)
    assert g.iloc[:6].nunique() == 1
    assert g.max() <= 5 and g.min() == 1


def test_wallet_potential_scales_orders_to_the_target_share():
    v = pd.DataFrame(
        {
            "expected_margin": [30.0, 30.0, 30.0],
            "order_costs": [10.0, 10.0, 10.0],
            "customer_costs": [5.0, 5.0, 5.0],
        },
        index=["a", "b", "c"],
    )
    sow = pd.Series({"c": 1.0, "a": 0.25, "b": 0.5})  # another order: aligned by id
    pot = seg.wallet_potential(v, sow, 0.5)
    assert pot.tolist() == pytest.approx([2 * 20 - 5, 20 - 5, 20 - 5])
    with pytest.raises(DataError, match="share_of_wallet"):
        seg.wallet_potential(v, pd.Series({"a": 0.0, "b": 0.5, "c": 1.0}), 0.5)
    with pytest.raises(DataError, match="missing"):
        seg.wallet_potential(v.drop(columns="order_costs"), sow, 0.5)


def test_value_tiers_exact():
    v = pd.DataFrame(
        {
            "actual_value": [100.0, 90, 10, 5, 1, -3, 20, 20, 8, 0],
            "potential_value": [100.0, 95, 90, 75, 61, 90, 21, 21, 8, 50],
            "p_alive": [0.9, 0.9, 0.8, 0.3, 0.6, 0.9, 0.7, 0.7, 0.9, 0.5],
        },
        index=list("abcdefghij"),
    )
    t = seg.value_tiers(v, mvc_share=0.2, mgc_share=0.2).astype(str)
    # BZ: f; MVC: a, b; MGC: gaps among alive non-MVC: c 80, e 60, j 50 (d not alive)
    assert t.to_dict() == {
        "a": "MVC",
        "b": "MVC",
        "c": "MGC",
        "d": "other",
        "e": "MGC",
        "f": "BZ",
        "g": "other",
        "h": "other",
        "i": "other",
        "j": "other",
    }
    assert (seg.value_tiers(v, mvc_share=0.3) == "MVC").sum() == 4  # g, h tie at the cut
    v["gap"] = v["potential_value"] - v["actual_value"]
    table = seg.tier_table(v, t)
    assert table.loc[["MVC", "MGC", "BZ", "other", "all"], "customers"].tolist() == [2, 2, 1, 5, 10]
    assert table.loc["all", "actual_value"] == pytest.approx(v["actual_value"].sum())
    assert table.loc["MGC", "median_p_alive"] == pytest.approx(0.7)
    moves = seg.tier_moves(t, seg.value_tiers(v.assign(actual_value=v["actual_value"] + 5)))
    assert moves.loc["BZ", "all"] == 1 and moves.loc["all", "all"] == 10


def test_value_tiers_bad_input():
    v = pd.DataFrame({"actual_value": [1.0], "potential_value": [1.0]})
    with pytest.raises(DataError, match="p_alive"):
        seg.value_tiers(v)
    v["p_alive"] = 0.5
    with pytest.raises(DataError, match="exceeds 1"):
        seg.value_tiers(v, mvc_share=0.6, mgc_share=0.6)
    with pytest.raises(DataError, match="p_alive_min"):
        seg.value_tiers(v, p_alive_min=2.0)


def test_bz_grid_matches_a_recomputation(values):
    grid = seg.bz_grid(values, [0.0, 2.0, 4.0], [0.0, 5.0], base=CostModel(0.3, 2.0, 5.0))
    for co in grid.index:
        for cy in grid.columns:
            direct = np.mean(
                values["expected_margin"]
                - co * values["expected_orders"]
                - cy * values["alive_years"]
                < 0
            )
            assert grid.loc[co, cy] == pytest.approx(direct)
            assert seg.bz_share(values, co, cy) == pytest.approx(direct)
    assert grid.loc[0.0, 0.0] == 0.0  # without serving costs nobody is below zero
    assert grid.loc[2.0, 5.0] == pytest.approx(np.mean(values["actual_value"] < 0))


def test_findings_cite_the_tables(cdnow_sample, values):
    costs = CostModel(0.3, 2.0, 5.0)
    v = values.copy()
    v["tier"] = seg.value_tiers(v)
    profit = seg.customer_profit(cdnow_sample, costs)["profit"]
    stats = seg.whale_summary(profit)
    peak = seg.whale_grid(cdnow_sample, costs, [0.0, 2.0], [0.0, 5.0])
    rfm = seg.rfm_scores(cdnow_sample)
    rules = seg.segment_rules(5)
    table = seg.segment_table(rfm, seg.rfm_segments(rfm, rules), rules)
    found = seg.value_tier_findings(
        v,
        costs,
        whale_stats=stats,
        peak_grid=peak,
        rfm_scores=rfm,
        rfm_table=table,
        simulated_stats=stats,
    )
    n = found[0].numbers
    assert n["bz"] == pytest.approx(np.mean(v["tier"] == "BZ"))
    assert n["mvc_value"] == pytest.approx(
        v.loc[v["tier"] == "MVC", "actual_value"].sum() / v["actual_value"].sum()
    )
    assert found[1].numbers["mgc_p"] == pytest.approx(v.loc[v["tier"] == "MGC", "p_alive"].median())
    assert found[2].numbers["bz_no_year"] == pytest.approx(seg.bz_share(v, 2.0, 0.0))
    assert found[3].numbers["p_min"] == pytest.approx(1.0)
    assert f"{found[3].numbers['peak']:.0%}" in found[3].text
    assert "champions" in found[4].text or "'" in found[4].text
    assert found[-1].simulated and "simulated" in found[-1].text
    texts = [f.text for f in found]
    assert len(set(texts)) == len(texts)  # no sentence repeats another


def _hand_values():
    # 10 customers with hand-set values: tiers follow from value_tiers (checked below)
    actual = [50.0, 30.0, 4.0, 3.0, 2.0, 1.0, -1.0, -2.0, -0.5, 0.5]
    gap = [10.0, 5.0, 20.0, 9.0, 1.0, 0.0, 3.0, 0.0, 0.0, 0.0]
    p_alive = [0.9, 0.9, 0.8, 0.7, 0.2, 0.1, 0.3, 0.2, 0.1, 0.05]
    values = pd.DataFrame(
        {
            "actual_value": actual,
            "potential_value": np.add(actual, gap),
            "p_alive": p_alive,
            "expected_orders": [5.0, 4.0, 1.0, 1.0, 0.5, 0.3, 0.4, 0.2, 0.1, 0.2],
            "expected_spend": 20.0,
            "alive_years": [2.5, 2.5, 2.0, 2.0, 1.0, 0.5, 1.0, 1.0, 0.5, 0.2],
            "breakeven_cost_per_year": [30.0, 22.0, 12.0, 11.0, 12.0, 7.0, 4.0, 3.0, 4.0, 8.0],
            "historical_profit": [40.0, 25.0, 3.0, 2.0, 1.0, 0.0, -1.0, -1.5, 0.5, 0.2],
        },
        index=pd.Index([f"c{i}" for i in range(10)], name="customer_id"),
    )
    costs = CostModel(0.3, 1.0, 5.0)
    # expected_margin so that actual = margin - c_o X - c_y A holds exactly
    values["expected_margin"] = (
        values["actual_value"] + 1.0 * values["expected_orders"] + 5.0 * values["alive_years"]
    )
    values["tier"] = seg.value_tiers(values, mvc_share=0.2, mgc_share=0.2, p_alive_min=0.5)
    values.attrs.update(horizon="3 years", quantile=0.9)
    return values, costs


def test_value_tier_client_cites_the_tiers_in_plain_words(tmp_path, monkeypatch):
    from client_checks import check_plain

    values, costs = _hand_values()
    assert list(values["tier"].astype(str)) == ["MVC", "MVC", "MGC", "MGC"] + ["other"] * 2 + [
        "BZ"
    ] * 3 + ["other"]
    profit = values["historical_profit"]
    stats = seg.whale_summary(profit)
    client, actions = seg.value_tier_client(values, costs, whale_stats=stats)
    first, grow, loss, past = (f.numbers for f in client)
    assert first["total"] == pytest.approx(87.0) and first["mvc_value"] == pytest.approx(80.0)
    assert first["mvc"] == 2 and first["mvc_value_share"] == pytest.approx(80 / 87)
    assert grow["mgc"] == 2 and grow["gap"] == pytest.approx(29.0)
    assert loss["bz"] == 3 and loss["loss"] == pytest.approx(3.5)
    assert loss["per_customer"] == pytest.approx(3.5 / 3)
    # without the yearly cost: margin - order costs = actual + 5 A, all >= 0 here
    assert loss["bz_no_year"] == 0 and "no customer would lose money" in client[2].text
    assert loss["breakeven"] == pytest.approx(9.5)
    assert past["destroyed"] == pytest.approx(2.5) and past["unprofitable"] == pytest.approx(0.2)
    assert [a.verb for a in actions] == ["keep", "grow", "serve more cheaply"]
    assert [a.customers for a in actions] == [2, 2, 3]
    assert [a.value for a in actions] == pytest.approx([80.0, 29.0, -3.5])
    for text in [f.text for f in client] + [a.text for a in actions]:
        check_plain(text)
    assert "$80 of profit" in actions[0].text and "$29 more profit" in actions[1].text
    # the lists name exactly each tier's customers, written only when asked
    monkeypatch.setenv("CRMLAB_EXPORT_DIR", str(tmp_path))
    assert not list(tmp_path.iterdir())
    seg.value_tier_client(values, costs, whale_stats=stats, export=True)
    for action, tier in zip(actions, ["MVC", "MGC", "BZ"], strict=True):
        listed = pd.read_csv(tmp_path / action.list_file, index_col=0)
        assert sorted(listed.index) == sorted(values.index[values["tier"] == tier])
        assert len(listed) == action.customers
    keep = pd.read_csv(tmp_path / "value_tiers_keep.csv", index_col=0)
    assert list(keep.index) == ["c0", "c1"] and keep["expected_profit"].is_monotonic_decreasing


def test_value_tier_client_without_losses_or_growth_recommends_only_what_follows():
    values, costs = _hand_values()
    values = values[values["actual_value"] >= 0].copy()
    values["tier"] = seg.value_tiers(values, mvc_share=0.2, mgc_share=0.0)
    client, actions = seg.value_tier_client(
        values, costs, whale_stats=seg.whale_summary(values["historical_profit"])
    )
    assert [a.verb for a in actions] == ["keep"]
    assert len(client) == 2  # value of the top customers and the profit so far


def test_value_tier_client_needs_the_tiers():
    values, costs = _hand_values()
    with pytest.raises(DataError, match="'tier'"):
        stats = seg.whale_summary(values["actual_value"])
        seg.value_tier_client(values.drop(columns="tier"), costs, whale_stats=stats)
