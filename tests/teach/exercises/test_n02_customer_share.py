"""What only notebook 02's exercises claim, on the namespace the notebook builds (see
``machinery.py``; the checks every exercise passes are in ``test_every_exercise.py``): the
common mistakes get their own feedback, the what-ifs match hand computations and the
premises the choose and why exercises rest on hold on the data."""

from __future__ import annotations

import pytest
from teach.exercises.machinery import texts

from crmlab import share, teach
from crmlab.teach.exercises import n02_customer_share as n02

NOTEBOOK = "02"


def test_common_mistakes_of_02_1_get_their_own_feedback(ns, shown):
    pc, focus = ns["pc"], ns["focus"]
    row = pc.loc[focus]
    answers = {
        "market share today": row["market_share"],
        "not ten points of market share": row["market_share"] + 0.10,
        "10% of itself": row["market_share"] * 1.10,
        "new penetration share": row["penetration_share"] + 0.10,
    }
    for said, answer in answers.items():
        assert abs(answer - n02.lifted_share(pc, focus)) > 0.01  # apart from the answer
        assert not teach.check("02.1", float(answer), pc=pc, focus=focus)
        assert said in texts(shown)[-1]


def test_lifted_share_is_the_brand_volume_with_more_buyers_of_the_same_kind(ns):
    """By hand: (buyers + 0.10 N) x brand purchases per buyer / all purchases."""
    purchases, focus = ns["purchases"], ns["focus"]
    households = purchases["household_id"].nunique()
    mine = purchases[purchases["brand"] == focus]
    buyers = mine["household_id"].nunique()
    per_buyer = len(mine) / buyers
    expected = (buyers + 0.10 * households) * per_buyer / len(purchases)
    assert n02.lifted_share(ns["pc"], focus) == pytest.approx(expected)


def test_rank_gain_against_the_formula_and_its_mistakes(shown):
    gain = 2 / (3 * 4)  # 2 / (N (N + 1)) with N = 3
    assert n02.rank_gain() == pytest.approx(gain)
    assert (1 - 1 / 4) * 2 / 3 - (1 - 2 / 4) * 2 / 3 == pytest.approx(gain)
    assert teach.check("02.2", 1 / 6)
    assert teach.check("02.2", "0.17")
    assert not teach.check("02.2", "16.7%")  # the slip
    for answer, said in ((0.5, "share at rank 1"), (1 / 3, "share at rank 2"), (0.25, "2 / N")):
        assert not teach.check("02.2", answer)
        assert said in texts(shown)[-1]
    assert "Looks like a percentage" in texts(shown)[2]


def test_double_jeopardy_premise_and_claim_hold_on_the_data(ns, shown):
    j = n02.jeopardy_rows(ns["bench"])
    big, small = j[j["big"]], j[j["small"]]
    # the premise of the question, and the Dirichlet's double jeopardy
    assert small["purchase_frequency_observed"] < big["purchase_frequency_observed"]
    assert small["purchase_frequency_expected"] < big["purchase_frequency_expected"]
    assert small["penetration_expected"] < big["penetration_expected"]
    assert teach.check("02.3", "b", bench=ns["bench"])
    message = texts(shown)[-1]
    assert f"{small['purchase_frequency_expected']:.2f}" in message
    assert f"{big['purchase_frequency_expected']:.2f}" in message


def test_misfit_case_is_a_misfit_above_its_benchmark_with_its_own_s(ns, shown):
    case = n02.misfit_case(ns["misfits"], ns["fit"])
    assert case["misfit"] and case["scr_observed"] > case["scr_expected"]
    assert case["brand"] in case["misfits"]
    assert abs(case["s_brand"] - case["s"]) > 0.5  # the reason of the right option
    # option c's feedback: a misfit's Dirichlet penetration lies outside its interval
    m = ns["misfits"].loc[case["brand"]]
    assert not m["penetration_low"] <= m["penetration_expected"] <= m["penetration_high"]
    assert teach.check("02.4", "a", misfits=ns["misfits"], fit=ns["fit"])
    assert f"S = {case['s_brand']:.2f}" in texts(shown)[-1]


def test_built_in_premise_holds_and_is_said(ns, shown):
    r = n02.leader_row(ns["mvc"])
    assert r["leader"] == "Firm A" and r["best"] < r["market_share"]
    assert "Firm A" in ns["wallet_sim"].params["design"]  # built into the simulation
    market = share.market_vs_customer_share(ns["wallet"], best_share=ns["best_share"])
    assert market.loc["Firm A", "share_of_best_wallets"] == pytest.approx(r["best"])
    assert teach.check("02.5", "d", mvc=ns["mvc"])
    assert "simulation" in texts(shown)[-1]
