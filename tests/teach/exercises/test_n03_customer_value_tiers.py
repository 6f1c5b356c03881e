"""What only notebook 03's exercises claim, on the namespace the notebook builds (see
``machinery.py``; the checks every exercise passes are in ``test_every_exercise.py``): the
common mistakes get their own feedback, the predict exercise explains itself with the
computation, and the claims of the why and choose explanations hold on the data."""

from __future__ import annotations

import pytest
from teach.exercises.machinery import texts

from crmlab import segments, teach
from crmlab.teach.exercises import n03_customer_value_tiers as n03

NOTEBOOK = "03"


def test_common_mistakes_get_their_own_feedback(ns, shown):
    values, profit = ns["values"], ns["profit"]
    notebook_share = float(ns["tiers"].loc["MVC", "actual_share"])
    teach.check("03.1", notebook_share, values=values)
    teach.check("03.1", 0.10, values=values)
    teach.check("03.4", 0.05, profit=profit)
    teach.check("03.4", 1 - n03.picked_share(profit), profit=profit)
    first, tenth, picked, kept = texts(shown)
    assert "top fifth" in first and "mvc_share=0.10" in first
    assert "share of customers" in tenth
    assert "share of customers" in picked
    assert "you keep" in kept


def test_predict_explains_with_the_computation_after_a_right_answer(ns, shown):
    values, costs = ns["values"], ns["costs"]
    before, after = n03.bz_before_after(values, costs)
    assert after > before  # the claim the exercise teaches, on the data
    assert before == segments.bz_share(values, costs.cost_per_order, costs.cost_per_customer_year)
    assert teach.check("03.2", "Up", values=values, costs=costs)
    assert teach.check("03.2", "increases", values=values, costs=costs)
    assert f"{before:.1%}" in texts(shown)[0] and f"{after:.1%}" in texts(shown)[0]
    assert not teach.check("03.2", "a lot", values=values, costs=costs)
    assert "up" in texts(shown)[-1] and "Not an answer yet" in texts(shown)[-1]


def test_why_mgc_claims_hold_on_the_data(ns):
    p = n03.low_spender_profile(ns["values"], ns["rfm"])
    mgc_share = float((ns["values"]["tier"].astype(str) == "MGC").mean())
    assert p["low_mgc"] < mgc_share  # few of the low spenders are MGC
    assert p["low_once"] > 0.5 and p["low_orders"] < p["mgc_orders"]
    assert p["low_gap"] < p["mgc_gap"]
    # option b's feedback: the gap does not depend on the serving costs
    free = segments.customer_values(
        ns["fitted"],
        segments.CostModel(ns["margin"], 0.0, 0.0),
        horizon=ns["horizon"],
        annual_discount_rate=ns["annual_discount_rate"],
        rate_groups=ns["rate_groups"],
        quantile=ns["potential_quantile"],
    )
    assert (free["gap"] - ns["values"]["gap"]).abs().max() < 1e-9


def test_whale_peak_identity_behind_the_right_option(ns):
    s = segments.whale_summary(ns["profit"]["profit"])
    assert s["peak_share"] == pytest.approx(1 + s["profit_destroyed"] / s["total_profit"])
    free = segments.customer_profit(ns["transactions"], segments.CostModel(ns["margin"], 0, 0))
    assert segments.whale_summary(free["profit"])["peak_share"] == pytest.approx(1.0)


def test_cherry_picking_matches_a_direct_count(ns):
    p = ns["profit"]["profit"]
    k = int(0.05 * len(p) + 1e-9)
    assert n03.picked_share(ns["profit"]) == pytest.approx(p.nlargest(k).sum() / p.sum())
