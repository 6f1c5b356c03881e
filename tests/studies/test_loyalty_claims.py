"""The sources' claims weighed on the loyalty cohort: students at the bank observed in two
halves of the window, and what a cherry-picker takes; every number against a count made
by hand on the constructed cohort."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from loyalty_cases import END, START, ExponentialAlive, constructed

from crmlab.costs import CostModel
from crmlab.errors import DataError
from crmlab.studies import loyalty_profit, students_at_the_bank
from crmlab.studies.loyalty_claims import (
    cherry_picking,
    cherry_picking_findings,
    students_finding,
    students_realised,
)

MARGIN = 0.4


def _study(tx: pd.DataFrame, costs: CostModel | None = None):
    return loyalty_profit(
        tx,
        model=ExponentialAlive(k=10.0),
        costs=costs or CostModel.per_period(MARGIN, 5.0, 0.5, "W"),
        cohort=("2024-01-01", "2024-03-31"),
        observation_end=END,
        n_boot=0,
        thresholds=(0.5,),
    )


@pytest.fixture(scope="module")
def tx():
    return constructed()


@pytest.fixture(scope="module")
def result(tx):
    return _study(tx)


def _by_hand(tx, result, split, value):
    cohort = tx[tx["customer_id"].isin(result.customers.index)]
    first = cohort["date"] <= split
    before = value(cohort[first]).groupby(cohort.loc[first, "customer_id"]).sum()
    after = value(cohort[~first]).groupby(cohort.loc[~first, "customer_id"]).sum()
    index = result.customers.index
    return before.reindex(index, fill_value=0.0), after.reindex(index, fill_value=0.0)


def test_default_split_is_halfway_and_values_are_margin_by_part(tx, result):
    sr = students_realised(tx, result)
    halfway = (START + (END - START) / 2).floor("D")
    assert sr.split_date == halfway and sr.observation_end == END
    assert sr.weeks_after == pytest.approx((END - halfway).days / 7)
    before, after = _by_hand(tx, result, halfway, lambda t: MARGIN * t["amount"])
    pd.testing.assert_series_equal(sr.values["value_before"], before, check_names=False)
    pd.testing.assert_series_equal(sr.values["value_after"], after, check_names=False)
    # the newcomers (first purchase in the second quarter) are not in the cohort
    assert len(sr.values) == 40
    # every customer bought in the first part; only "steady" and "late" bought in the second
    patterns = tx.groupby("customer_id")["pattern"].first().reindex(sr.values.index)
    assert set(patterns[sr.values["bought_after"]]) == {"steady", "late"}


def test_halves_and_students_match_a_count_by_hand(tx, result):
    sr = students_realised(tx, result, value_quantile=0.5, top_share=0.2)
    v = sr.values
    st = students_at_the_bank(v["value_before"], v["value_after"], top_share=0.2)
    assert sr.students.customers == st.customers
    assert (v["student"] == st.members).all()
    lower = v["value_before"] <= v["value_before"].quantile(0.5)
    top = v["value_after"] > v["value_after"].quantile(0.8)
    assert (v["lower"] == lower).all() and (v["top_after"] == top).all()
    assert (v["student"] == (lower & top)).all()
    h = sr.halves
    assert h["customers"].sum() == len(v)
    for name, mask in (("lower", lower), ("upper", ~lower)):
        bought = v.loc[mask, "bought_after"].mean()
        assert h.loc[name, "share_bought_after"] == pytest.approx(bought)
        assert h.loc[name, "mean_value_after"] == pytest.approx(v.loc[mask, "value_after"].mean())
        share = v.loc[mask, "value_after"].sum() / v["value_after"].sum()
        assert h.loc[name, "share_value_after"] == pytest.approx(share)
        assert h.loc[name, "top_after"] == (mask & top).sum()
    assert h["share_value_after"].sum() == pytest.approx(1.0)
    assert h["share_of_top"].sum() == pytest.approx(1.0)


def test_explicit_split_and_recorded_costs(tx):
    costed = tx.assign(cost=0.5 * tx["amount"] + 1.0)
    result = _study(costed, CostModel.per_period(MARGIN, 5.0, 0.5, "W", use_cost_column=True))
    assert result.settings["margin"] is None
    sr = students_realised(costed, result, split_date="2024-03-15")
    assert sr.split_date == pd.Timestamp("2024-03-15")
    before, after = _by_hand(
        costed, result, pd.Timestamp("2024-03-15"), lambda t: t["amount"] - t["cost"]
    )
    assert np.allclose(sr.values["value_before"], before)
    assert np.allclose(sr.values["value_after"], after)


def test_students_need_the_studied_transactions(tx, result):
    with pytest.raises(DataError, match="frame the loyalty study was run on"):
        students_realised(tx[tx["pattern"] != "late"], result)
    with pytest.raises(DataError, match="'amount'"):
        students_realised(tx.drop(columns="amount"), result)
    with pytest.raises(DataError, match="calibration_end"):
        students_realised(tx, result, split_date="2025-06-01")


def test_students_finding_cites_the_halves_and_proposition_2(tx, result):
    sr = students_realised(tx, result)
    f = students_finding(sr, result)
    n = f.numbers
    assert n["lower"] == sr.halves.loc["lower", "customers"]
    assert n["bought_low"] == sr.halves.loc["lower", "share_bought_after"]
    assert n["students"] == sr.students.customers
    prop = result.propositions.set_index("proposition").loc[2]
    assert n["verdict"] == prop["verdict"] and prop["verdict"] in f.text
    assert "proposition 2" in f.text and f"{sr.split_date:%d %B %Y}" in f.text


def test_cherry_picking_matches_a_direct_ranking(result):
    c = result.customers
    cp = cherry_picking(result, 0.10)
    k = int(0.10 * len(c))
    top = c["profit"].sort_values(ascending=False, kind="stable").iloc[:k]
    assert cp.customers == k
    assert cp.profit_share == pytest.approx(top.sum() / c["profit"].sum())
    taken = c.loc[top.index, "segment"].astype(str)
    assert cp.groups["customers"].sum() == k
    assert cp.groups.loc["True Friends", "customers"] == (taken == "True Friends").sum()
    assert cp.groups["share_of_taken"].sum() == pytest.approx(1.0)
    long_life = taken.isin(["Barnacles", "True Friends"]).mean()
    assert cp.long_life_share == pytest.approx(long_life)
    seg = c["segment"].astype(str)
    barnacles = (seg == "Barnacles").sum() / seg.isin(["Barnacles", "True Friends"]).sum()
    assert cp.barnacles_of_long_life == pytest.approx(barnacles)
    one = c[seg == "One-time buyers"]
    assert cp.one_time["customers"] == len(one) == 10
    assert cp.one_time["share_profit"] == pytest.approx(one["profit"].sum() / c["profit"].sum())
    assert cp.one_time["share_losing"] == pytest.approx((one["profit"] < 0).mean())
    assert cherry_picking(result, 0.001).customers == 1  # at least one customer


def test_cherry_picking_findings_and_bad_share(result):
    cp = cherry_picking(result, 0.05)
    take, single, cannot = cherry_picking_findings(cp, result)
    assert take.numbers["profit_share"] == cp.profit_share
    assert take.numbers["long"] + take.numbers["short"] == pytest.approx(1.0)
    assert single.numbers["n"] == cp.one_time["customers"] and "assumed" in single.text
    assert "cannot say" in cannot.text and not cannot.numbers
    for share in (0, 1, -0.1, 5):
        with pytest.raises(DataError, match="between 0 and 1"):
            cherry_picking(result, share)
