"""What only notebook 01's exercises claim, on the namespace the notebook builds (see
``machinery.py``; the checks every exercise passes are in ``test_every_exercise.py``): the
common mistakes of 01.1 get their own feedback, the answers match direct counts, and the
premises and explanations of the predict and why exercises hold on the data."""

from __future__ import annotations

import pandas as pd
import pytest
from teach.exercises.machinery import texts

from crmlab import segments, teach
from crmlab.stats import wilson_interval
from crmlab.teach.exercises import n01_customer_pyramid as n01

NOTEBOOK = "01"


def test_common_mistakes_of_01_1_get_their_own_feedback(ns, shown):
    pyramids, first, last = ns["pyramids"], ns["first"], ns["last"]
    upper = ["Top", "Big"]
    answers = {
        "first period": first.table.loc[upper, "revenue_share"].sum(),
        "share of profit": last.table.loc[upper, "profit_share"].sum(),
        "Top tier alone": last.table.loc["Top", "revenue_share"],
        "share of active customers": 0.05,
    }
    for said, answer in answers.items():
        # the mistakes must be apart from the answer, or they would be marked right
        assert abs(answer - n01.last_upper_revenue_share(pyramids)) > 0.01
        assert not teach.check("01.1", float(answer), pyramids=pyramids)
        assert said in texts(shown)[-1]


def test_last_upper_share_matches_a_direct_count(ns):
    last = ns["last"]
    active = last.customers[last.customers["tier"].isin(last.labels)]
    top = active["revenue"].rank(method="min", ascending=False) - 1 < 0.05 * len(active)
    assert n01.last_upper_revenue_share(ns["pyramids"]) == pytest.approx(
        active.loc[top, "revenue"].sum() / active["revenue"].sum()
    )


def test_wider_period_claim_holds_on_the_data_by_a_direct_count(ns, shown):
    tx, end = ns["transactions"], pd.Timestamp(ns["first_period_end"])
    before, after = n01.stopped_before_after(tx, end)
    day = tx["date"].dt.normalize()
    cohort = set(tx.loc[day <= end, "customer_id"])  # everyone active in the first period
    assert set(tx["customer_id"]) == cohort  # a single cohort: nobody new later
    for share, months in ((before, 3), (after, 6)):
        stop = end + pd.offsets.MonthEnd(months)
        again = set(tx.loc[(day > end) & (day <= stop), "customer_id"])
        assert share == pytest.approx(1 - len(again & cohort) / len(cohort))
    assert after < before  # the claim the exercise teaches
    objs = {"transactions": tx, "first_period_end": ns["first_period_end"]}
    assert teach.check("01.2", "Down", **objs)
    assert teach.check("01.2", "decreases", **objs)
    assert f"{before:.1%}" in texts(shown)[0] and f"{after:.1%}" in texts(shown)[0]
    assert not teach.check("01.2", "a lot", **objs)
    assert "Not an answer yet" in texts(shown)[-1]


def test_cohort_explanation_holds_on_the_data(ns):
    n = n01.cohort_numbers(ns["pyramids"])
    assert (
        n["new"] == 0
        and n["active"][0] == n["customers"] == ns["transactions"]["customer_id"].nunique()
    )
    assert max(n["active"][1:]) < n["active"][0]
    assert n["inactive_last"] + n["active"][-1] == n["customers"]  # nobody is removed


def test_small_row_numbers_and_their_interval(ns, shown):
    m, k = ns["sim_migration"], ns["min_customers"]
    row = n01.top_row(m, k)
    counts = m.counts.loc["Top"]
    assert row["n"] == counts.sum() < k  # the exercise's premise: the Top row is flagged
    assert row["stopped"] == counts["Inactive"]
    low, high = wilson_interval(row["stopped"], row["n"])
    assert (row["low"], row["high"]) == pytest.approx((float(low), float(high)))
    assert row["high"] - row["low"] > 0.25  # wide: the reason the right option gives
    assert teach.check("01.4", "c", sim_migration=m, min_customers=k)
    message = texts(shown)[-1]
    assert f"{row['low']:.1%}" in message and f"{row['high']:.1%}" in message
    assert "simulated" in message


def test_cherry_picking_claim_holds_and_vanishes_without_fixed_costs(ns):
    first, costs = ns["first"], ns["costs"]
    p = n01.margin_profile(first, costs)
    assert p["profit_share"] > p["revenue_share"]
    assert p["kept"]["Top"] > p["kept"]["Small"]
    free = segments.customer_pyramid(
        ns["transactions"],
        ns["ends"][0],
        ns["period_length"],
        costs=segments.CostModel(costs.margin, 0.0, 0.0),
    )
    q = n01.margin_profile(free, segments.CostModel(costs.margin, 0.0, 0.0))
    assert q["profit_share"] == pytest.approx(q["revenue_share"])  # no fixed costs, no gap
