"""The Dirichlet's fit statistics, its misfits and the customer-share findings
(crmlab/share/findings.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

import crmlab
from crmlab import share, simulate
from crmlab.errors import DataError
from crmlab.simulate.wallet import DESIGN


@pytest.fixture(scope="module")
def yogurt():
    panel = crmlab.load_dataset("yogurt")
    fit = share.fit_dirichlet_panel(panel)
    return panel, fit, share.dirichlet_benchmark(panel, fit=fit)


def hand_benchmark() -> pd.DataFrame:
    frame = pd.DataFrame(index=pd.Index(["A", "B", "C"], name="brand"))
    for measure, obs, exp in [
        ("penetration", [0.5, 0.3, 0.1], [0.45, 0.35, 0.2]),
        ("purchase_frequency", [4.0, 3.0, 2.0], [4.5, 3.0, 1.0]),
        ("scr", [0.6, 0.4, 0.3], [0.5, 0.4, 0.35]),
        ("sole_buyers", [0.2, 0.1, np.nan], [0.15, 0.1, 0.05]),
    ]:
        frame[f"{measure}_observed"] = obs
        frame[f"{measure}_expected"] = exp
    return frame


def test_fit_statistics_by_hand():
    stats = share.dirichlet_fit_statistics(hand_benchmark())
    assert stats.loc["penetration", "mad"] == pytest.approx((0.05 + 0.05 + 0.1) / 3)
    assert stats.loc["penetration", "observed"] == pytest.approx(0.3)
    assert stats.loc["penetration", "expected"] == pytest.approx(1.0 / 3)
    assert stats.loc["penetration", "largest"] == "C"
    assert stats.loc["penetration", "largest_deviation"] == pytest.approx(-0.1)
    assert stats.loc["purchase_frequency", "mad"] == pytest.approx(0.5)
    assert stats.loc["purchase_frequency", "relative_mad"] == pytest.approx(0.5 / 3.0)
    # a brand without a sole-buyer value is left out of that measure, not counted as 0
    assert stats.loc["sole_buyers", "mad"] == pytest.approx(0.025)
    with pytest.raises(DataError, match="scr_expected"):
        share.dirichlet_fit_statistics(hand_benchmark().drop(columns="scr_expected"))


def test_misfits_on_yogurt_name_hiland_and_weight(yogurt):
    panel, fit, bench = yogurt
    table = share.dirichlet_misfits(panel, fit, tolerance=0.05)
    assert list(table.index[table["misfit"]]) == ["hiland", "weight"]
    assert list(table.index[:2]) == ["hiland", "weight"]  # sorted by |deviation|
    hiland = table.loc["hiland"]
    assert (hiland["households"], hiland["buyers"]) == (100, 26)
    low, high = proportion_confint(26, 100, alpha=0.05, method="wilson")
    assert (hiland["penetration_low"], hiland["penetration_high"]) == pytest.approx((low, high))
    assert hiland["penetration_observed"] == pytest.approx(0.26)
    assert hiland["penetration_expected"] == pytest.approx(0.105, abs=5e-4)
    assert table.loc["weight", "penetration_expected"] == pytest.approx(0.585, abs=5e-4)
    assert table["s_brand"].min() == pytest.approx(0.51, abs=5e-3)  # weight
    assert table["s_brand"].max() == pytest.approx(9.04, abs=5e-3)  # hiland
    pd.testing.assert_series_equal(
        table.loc[bench.index, "scr_expected"], bench["scr_expected"], check_names=False
    )
    # a wide tolerance, or intervals wide enough, leave no misfit
    assert not share.dirichlet_misfits(panel, fit, tolerance=0.2)["misfit"].any()
    assert not share.dirichlet_misfits(panel, fit, tolerance=0.0, level=0.9999999)["misfit"].any()
    with pytest.raises(DataError, match="tolerance"):
        share.dirichlet_misfits(panel, fit, tolerance=5)


def test_dirichlet_parameters_and_panels(yogurt):
    panel, fit, _ = yogurt
    params = share.dirichlet_parameters(fit)
    assert params.loc[0, "s"] == fit.s and params.loc[0, "m"] == fit.m
    assert params.loc[0, "category_buy_rate"] == pytest.approx(fit.m / fit.category_penetration)
    both = share.dirichlet_panels({"yogurt": panel, "tuna": crmlab.load_dataset("tuna")})
    assert both.loc["yogurt", "misfits"] == "hiland, weight"
    assert both.loc["tuna", "misfits"] == ""
    assert both.loc["yogurt", "brand"] == "weight"
    assert both.loc["yogurt", "households"] == 100
    assert both.loc["tuna", "mad_penetration"] < both.loc["yogurt", "mad_penetration"]


def test_focus_and_fit_findings(yogurt):
    panel, fit, bench = yogurt
    f = share.focus_finding("yogurt", bench, "weight")
    assert f.numbers["scr_observed"] == bench.loc["weight", "scr_observed"]
    assert f.text.endswith("the largest gap of the panel's 4 brands.")
    assert share.focus_finding("yogurt", bench, "dannon").text.endswith("benchmark.")
    with pytest.raises(DataError, match="not in the yogurt panel"):
        share.focus_finding("yogurt", bench, "skw")
    g = share.dirichlet_fit_finding("yogurt", bench, fit)
    stats = share.dirichlet_fit_statistics(bench)
    assert g.numbers["mad_penetration_points"] == pytest.approx(
        100 * stats.loc["penetration", "mad"]
    )
    assert "S runs from 0.51 (weight) to 9.04 (hiland)" in g.text
    assert "misses the observed penetration by 8.1 percentage points" in g.text


def test_misfit_finding_for_none_one_and_several(yogurt):
    panel, fit, _ = yogurt
    table = share.dirichlet_misfits(panel, fit, tolerance=0.05)
    two = share.misfit_finding(table, tolerance=0.05)
    assert two.text.startswith("The Dirichlet misses 2 brands by more than 5 percentage points")
    assert "hiland is bought by 26.0% of households (interval 18.4% to 35.4%) against 10.5%" in (
        two.text
    )
    assert "weight is bought by 44.0% (34.7% to 53.8%) against 58.5% predicted" in two.text
    one = share.misfit_finding(table.assign(misfit=table.index == "weight"), tolerance=0.05)
    assert one.text.startswith("The Dirichlet misses 1 brand by") and "hiland" not in one.text
    none = share.misfit_finding(table.assign(misfit=False), tolerance=0.05)
    assert none.text.startswith("No brand's penetration lies more than 5 percentage points")
    odd = table.rename(index={"hiland": "hi{land}"})
    assert "hi{land} is bought" in share.misfit_finding(odd, tolerance=0.05).text


def test_market_and_wallet_rule_findings_are_labelled_simulated():
    sim = simulate.wallet(1500, 4, seed=3)
    assert sim.params["design"] == DESIGN
    w = share.share_of_wallet(sim.spend)
    market = share.market_vs_customer_share(w, best_share=0.2)
    f = share.market_finding(market, best_share=0.2, built_in=sim.params["design"])
    assert f.simulated and "built into the simulation" in f.text
    assert f.text.startswith("In the simulated market Firm A leads with")
    same = market.assign(share_of_best_wallets=market["market_share"])
    g = share.market_finding(same, best_share=0.2)
    assert "leads both on market share" in g.text and g.simulated
    _, scores = share.wallet_rule_evaluation(w, share="share_of_wallet")
    h = share.wallet_rule_finding(scores)
    assert h.simulated and h.numbers["r_war"] == scores.loc["war", "correlation"]
    assert h.numbers["mae_sat_points"] == pytest.approx(
        100 * scores.loc["satisfaction_share", "mae"]
    )


def test_share_findings_order(yogurt):
    panel, fit, bench = yogurt
    table = share.dirichlet_misfits(panel, fit, tolerance=0.05)
    w = share.share_of_wallet(simulate.wallet(500, 3, seed=1).spend)
    market = share.market_vs_customer_share(w)
    _, scores = share.wallet_rule_evaluation(w, share="share_of_wallet")
    findings = share.share_findings(
        "yogurt", bench, fit, table, "weight", tolerance=0.05, market=market, rule_scores=scores
    )
    assert [f.simulated for f in findings] == [False, False, False, True, True]
    assert len({f.text for f in findings}) == 5
    assert len(share.share_findings("yogurt", bench, fit, table, "weight", tolerance=0.05)) == 3


def test_fit_statistics_view_formats_shares_and_purchases():
    html = share.fit_statistics_view(share.dirichlet_fit_statistics(hand_benchmark())).to_html()
    assert "6.7%" in html  # penetration MAD (0.05 + 0.05 + 0.1) / 3
    assert "0.50" in html  # purchase frequency MAD, in purchases per buyer
    assert "Purchases per buyer" in html and "Brand furthest off" in html
