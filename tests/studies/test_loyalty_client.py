"""crmlab.studies.loyalty_client: the loyalty study's client sentences, actions and lists on a
hand-made result whose every number can be counted."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest
from client_checks import check_plain

from crmlab.studies.loyalty_client import link_words, loyalty_client, loyalty_lists
from crmlab.studies.loyalty_profit import segment_table


def hand_result(*, one_time_apart: bool = True):
    # 10 customers: 2 one-time buyers (tied at 20 weeks), then 2 in each quadrant among the
    # 8 repeat buyers, cut at 50 weeks and $10 of profit
    ids = pd.Index([f"c{i}" for i in range(10)], name="customer_id")
    segment = ["One-time buyers"] * 2 + ["Strangers"] * 2 + ["Butterflies"] * 2
    segment += ["Barnacles"] * 2 + ["True Friends"] * 2
    customers = pd.DataFrame(
        {
            "first_purchase": pd.to_datetime(["1997-01-05"] * 10),
            "orders": [1, 1, 2, 2, 3, 4, 3, 2, 5, 6],
            "revenue": [20.0, 30.0, 25.0, 30.0, 200.0, 150.0, 60.0, 50.0, 300.0, 250.0],
            "cost_marketing": [5.0, 5.0, 10.0, 10.0, 11.0, 12.0, 16.0, 17.0, 16.0, 17.0],
            "profit": [-1.0, 2.0, -4.0, 1.0, 43.0, 25.0, -8.0, -4.0, 64.0, 46.0],
            "lifetime": [20.0, 20.0, 40.0, 44.0, 44.0, 48.0, 64.0, 68.0, 64.0, 68.0],
            "censored": [False, False, False, False, True, False, True, True, True, False],
            "p_alive_end": [0.1, 0.1, 0.2, 0.3, 0.7, 0.2, 0.8, 0.9, 0.9, 0.4],
            "repeat_buyer": [False] * 2 + [True] * 8,
            "segment": pd.Categorical(segment),
        },
        index=ids,
    )
    customers["long_life"] = customers["lifetime"] > 50
    rep = customers[customers["repeat_buyer"]]
    r = float(rep["lifetime"].corr(rep["profit"]))
    r_all = float(customers["lifetime"].corr(customers["profit"]))
    association = pd.DataFrame(
        {
            "statistic": ["pearson", "pearson_without_marketing"] * 2,
            "sample": ["repeat buyers"] * 2 + ["all customers"] * 2,
            "estimate": [r, 0.25, r_all, 0.35],
            "lower": [r - 0.2, 0.05, r_all - 0.1, 0.3],
            "upper": [r + 0.2, 0.45, r_all + 0.1, 0.4],
            "n": [8, 8, 10, 10],
        }
    )
    sensitivity = pd.DataFrame(
        {
            "alive_threshold": [0.3, 0.5, 0.7],
            "margin": [0.2, 0.3, 0.4],
            "marketing_cost_per_week": [0.0, 0.25, 0.5],
            "pearson_repeat": [0.3, r, -0.1],
            "pearson_all": [0.4, 0.2, 0.1],
        }
    )

    def statistic(name, sample="repeat buyers"):
        rows = association[(association["statistic"] == name) & (association["sample"] == sample)]
        return rows.iloc[0]

    return SimpleNamespace(
        customers=customers,
        segments=segment_table(customers),
        splits=pd.DataFrame({"dimension": ["lifetime", "profit"], "cut": [50.0, 10.0]}),
        association=association,
        sensitivity=sensitivity,
        statistic=statistic,
        settings={
            "one_time_apart": one_time_apart,
            "cohort": ("1997-01-01", "1997-03-31"),
            "observation_end": "1998-06-30",
            "split": ("median", "median"),
            "margin": 0.3,
            "cost_per_order": 2.0,
            "marketing_cost_per_week": 0.25,
            "marketing_until": "lifetime",
            "alive_threshold": 0.5,
        },
    )


def test_link_words_follow_the_interval():
    assert "did not clearly" in link_words(0.05, -0.02, 0.12)
    assert "only slightly more" in link_words(0.085, 0.063, 0.102)
    assert "moderately more" in link_words(0.4, 0.35, 0.45)
    assert "clearly more" in link_words(0.6, 0.5, 0.7)
    assert "less profit" in link_words(-0.2, -0.3, -0.1)


def test_client_sentences_by_hand():
    result = hand_result()
    client, actions = loyalty_client(result)
    for item in [*client, *actions]:
        check_plain(item.text)
    head, once, groups, costs, sens = client
    rep = result.customers[result.customers["repeat_buyer"]]
    assert head.numbers["n"] == 8
    assert head.numbers["med_long"] == pytest.approx(
        rep.loc[rep["lifetime"] > 50, "profit"].median()
    )
    assert head.numbers["med_short"] == pytest.approx(13.0)  # -4, 1, 43, 25
    assert (
        "customers who bought more than once" in head.text
        and "0.20 to 0.45 on the same scale" in head.text
    )
    assert once.numbers["one"] == 2 and once.numbers["share_one"] == pytest.approx(0.2)
    assert once.numbers["weeks"] == 20.0 and "brought $1 of profit" in once.text
    assert "between 1 January 1997 and 31 March 1997" in once.text
    total = result.customers["profit"].sum()  # 164
    assert groups.numbers["p_lh"] == pytest.approx(110 / total)
    assert groups.numbers["p_sh"] == pytest.approx(68 / total)
    assert groups.numbers["sl"] == pytest.approx(0.25)
    assert "25% are short-lived low-profit" in groups.text and "at the middle" in groups.text
    assert costs.numbers["loss"] == pytest.approx(0.4)  # c0, c2, c6, c7
    assert "30% margin, $2.00 per order and $0.25 of mailings" in costs.text
    assert sens.numbers["r0"] == 0.25 and "would be 0.25 instead of" in (sens.text)
    assert (sens.numbers["rr_min"], sens.numbers["rr_max"]) == (-0.1, 0.3)
    assert "most likely between 0.05 and 0.45" in sens.text
    assert "between -0.10 and 0.30 on that scale" in sens.text


def test_actions_by_hand(tmp_path, monkeypatch):
    monkeypatch.setenv("CRMLAB_EXPORT_DIR", str(tmp_path))
    result = hand_result()
    _, actions = loyalty_client(result, export=True)
    verbs = [a.verb for a in actions]
    assert verbs == ["keep", "look after", "serve more cheaply", "spend little"]
    keep, look, cheap, little = actions
    assert (keep.customers, keep.value) == (2, 110.0)
    assert "$110 of profit" in keep.text and "1 of these customers are still buying" in keep.text
    assert (look.customers, look.value) == (2, 68.0)
    assert look.numbers["weeks"] == 46.0
    # long-lived low-profit: $21 before the $33 of mailings, $12 lost after
    assert (cheap.customers, cheap.value) == (2, -12.0)
    assert "brought $21 before mailing costs and lost $12 after the $33 of mailings" in cheap.text
    assert "cost $3 more than they brought" in little.text
    for action in actions:
        listed = pd.read_csv(tmp_path / action.list_file, index_col=0)
        assert len(listed) == action.customers
        assert listed["profit"].sum() == pytest.approx(action.value)
    lists = loyalty_lists(result)
    assert list(lists["loyalty_long_high_profit"].index) == ["c8", "c9"]  # most profitable first
    assert list(lists["loyalty_long_low_profit"].index) == ["c6", "c7"]  # least profitable first
    assert "chance_still_buying" in lists["loyalty_short_high_profit"].columns


def test_one_time_buyers_not_kept_apart_are_named():
    result = hand_result(one_time_apart=False)
    client, _ = loyalty_client(result)
    for item in client:
        check_plain(item.text)
    assert client[0].text.startswith("Among all 10 customers")
    assert "they were not kept apart" in client[1].text
    assert "Split at the middle of all customers" in client[2].text
    assert "among all customers would be 0.35" in client[4].text
    assert "between 0.10 and 0.40" in client[4].text  # the grid's all-customer column
