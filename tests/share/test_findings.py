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


# ------------------------------------------------------------------- client summary


def test_scr_interval_by_hand():
    # three buying households (y of the brand out of x in the category) and one non-buyer
    scr = pd.DataFrame(
        {
            "household_id": [1, 2, 3, 4],
            "brand": ["A"] * 4,
            "brand_purchases": [1, 2, 3, 0],
            "category_purchases": [2, 4, 4, 5],
        }
    )
    got = share.findings.scr_interval(scr, "A", level=0.95)
    ratio = 6 / 10
    var = ((1 - 1.2) ** 2 + (2 - 2.4) ** 2 + (3 - 2.4) ** 2) / (3 * 2 * (10 / 3) ** 2)
    half = 1.959963984540054 * var**0.5
    assert (got["buyers"], got["households"]) == (3, 4)
    assert got["scr"] == pytest.approx(ratio)
    assert (got["lower"], got["upper"]) == pytest.approx((ratio - half, ratio + half))
    with pytest.raises(DataError, match="brand 'B'"):
        share.findings.scr_interval(scr, "B")


def test_scr_interval_covers_the_true_share_in_simulation():
    # households whose category purchases vary; each buys the brand on 30% of occasions
    rng = np.random.default_rng(7)
    covered, runs = 0, 400
    for _ in range(runs):
        x = rng.integers(1, 40, size=150)
        y = rng.binomial(x, 0.3)
        keep = y > 0
        scr = pd.DataFrame(
            {
                "household_id": np.arange(keep.sum()),
                "brand": "A",
                "brand_purchases": y[keep],
                "category_purchases": x[keep],
            }
        )
        # the true share among buying households, for this draw of household sizes
        got = share.findings.scr_interval(scr, "A")
        covered += got["lower"] <= _buyer_share(x, 0.3) <= got["upper"]
    assert 0.91 <= covered / runs <= 0.98


def _buyer_share(x: np.ndarray, p: float) -> float:
    # households of sizes x buy the brand on each occasion with chance p; among those who
    # bought it at least once (chance 1 - (1-p)^x), the expected brand purchases sum to
    # sum(p x) and the category purchases to sum(x (1 - (1-p)^x))
    return float(np.sum(p * x) / np.sum(x * (1 - (1 - p) ** x)))


def _client_inputs(name: str):
    panel = crmlab.load_dataset(name)
    fit = share.fit_dirichlet_panel(panel)
    bench = share.dirichlet_benchmark(panel, fit=fit)
    misfits = share.dirichlet_misfits(panel, fit, tolerance=0.05)
    focus = str(bench["scr_deviation"].abs().idxmax())
    return share.share_of_category_requirements(panel), misfits, focus


def test_share_client_on_yogurt_acts_only_on_the_simulated_results():
    from client_checks import check_plain

    scr, misfits, focus = _client_inputs("yogurt")
    w = share.share_of_wallet(simulate.wallet(800, 4, seed=3).spend)
    market = share.market_vs_customer_share(w, best_share=0.2)
    _, scores = share.wallet_rule_evaluation(w, share="share_of_wallet")
    client, actions = share.findings.share_client(
        "yogurt", scr, misfits, focus, tolerance=0.05, market=market, rule_scores=scores,
        built_in=DESIGN,
    )  # fmt: skip
    focus_f, fit_f, apart, sim_market, sim_rule = client
    for f in client:
        check_plain(f.text)
        assert ("simulated" in f.text) == f.simulated
    for a in actions:
        check_plain(a.text)
    assert [f.simulated for f in client] == [False, False, False, True, True]
    own = share.findings.scr_interval(scr, "weight")
    assert focus == "weight" and focus_f.numbers["scr"] == pytest.approx(own["scr"])
    assert focus_f.numbers["scr_low"] < focus_f.numbers["scr_expected"]  # within chance
    assert "in line with its size" in focus_f.text
    assert focus_f.numbers["buyers"] == 44 and focus_f.numbers["households"] == 100
    assert focus_f.numbers["purchases"] == 2412
    stats = share.dirichlet_fit_statistics(misfits)
    assert fit_f.numbers["pen"] == pytest.approx(100 * stats.loc["penetration", "mad"])
    assert apart.numbers["apart"] == 2 and "many households buy it now and then" in apart.text
    assert "a loyal niche" in apart.text
    assert "between 18.4% and 35.4%" in apart.text
    assert "not your data" in sim_market.text and "Firm A has" in sim_market.text
    # the loyalty of weight's buyers is within chance: no action on it, only a test
    assert [a.verb for a in actions] == ["test"]
    with pytest.raises(DataError, match="not in the yogurt panel"):
        share.findings.share_client("yogurt", scr, misfits, "skw", tolerance=0.05)


@pytest.mark.parametrize(
    ("name", "verb", "file"),
    [("catsup", "grow", "share_catsup_hunts32_prospects"),
     ("cracker", "review", "share_cracker_sunshine_buyers")],
)  # fmt: skip
def test_share_client_acts_on_a_brand_beyond_chance(name, verb, file, tmp_path, monkeypatch):
    from client_checks import check_plain

    monkeypatch.setenv("CRMLAB_EXPORT_DIR", str(tmp_path))
    scr, misfits, focus = _client_inputs(name)
    client, actions = share.findings.share_client(
        name, scr, misfits, focus, tolerance=0.05, export=True
    )
    assert [a.verb for a in actions] == [verb]
    (action,) = actions
    check_plain(action.text)
    listed = pd.read_csv(tmp_path / f"{file}.csv", index_col=0)
    rows = scr[scr["brand"] == focus]
    bought = rows.set_index("household_id")["brand_purchases"] > 0
    if verb == "grow":  # households of the category that never bought the brand
        assert client[0].numbers["scr_low"] > client[0].numbers["scr_expected"]
        assert sorted(listed.index) == sorted(
            rows.loc[rows["brand_purchases"] == 0, "household_id"]
        )
        assert listed["category_purchases"].is_monotonic_decreasing
    else:  # the brand's buyers, least loyal first
        assert client[0].numbers["scr_high"] < client[0].numbers["scr_expected"]
        assert sorted(listed.index) == sorted(bought.index[bought])
        assert listed["share_of_purchases"].is_monotonic_increasing
    assert action.customers == len(listed) and action.list_file == f"{file}.csv"
    assert f"{action.customers:,} households" in action.text
