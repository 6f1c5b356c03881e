"""Kotler's customer delivered value and its tornado sensitivity: hand-computed cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmlab import DataError
from crmlab.delivered_value import COMPONENTS, delivered_value, sensitivity


def offers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "product": [100.0, 90.0],
            "service": [20.0, 40.0],
            "personnel": [10.0, 20.0],
            "image": [10.0, 5.0],
            "money": [80.0, 95.0],
            "time": [10.0, 5.0],
            "energy": [5.0, 5.0],
            "psychic": [5.0, 0.0],
        },
        index=["A", "B"],
    )


def test_delivered_value_hand_case():
    out = delivered_value(offers())
    # A: value 140, cost 100, delivered 40; B: value 155, cost 105, delivered 50
    assert out.index.tolist() == ["B", "A"]
    assert out.loc["A", ["total_value", "total_cost", "delivered_value"]].tolist() == [140, 100, 40]
    assert out.loc["B", ["total_value", "total_cost", "delivered_value"]].tolist() == [155, 105, 50]
    assert out.loc["B", "value_cost_ratio"] == pytest.approx(155 / 105)
    assert out["rank"].tolist() == [1, 2]


def test_zero_cost_gives_infinite_ratio():
    data = offers()
    data.loc["A", ["money", "time", "energy", "psychic"]] = 0
    assert np.isinf(delivered_value(data).loc["A", "value_cost_ratio"])


def test_sensitivity_hand_case():
    out = sensitivity(offers(), "A", change=0.2)
    # base edge of A against B: 40 - 50 = -10
    assert (out["base_edge"] == -10).all()
    assert out.index[0] == "product"  # 20% of 100 is the biggest swing
    assert out.loc["product", ["edge_low", "edge_high", "swing"]].tolist() == [-30, 10, 40]
    # raising the money cost by 20% (16) lowers the edge; cutting it raises it
    assert out.loc["money", ["edge_low", "edge_high"]].tolist() == [6, -26]
    assert bool(out.loc["product", "flips"]) and bool(out.loc["money", "flips"])
    assert not bool(out.loc["psychic", "flips"])
    assert set(out.index) == set(COMPONENTS)
    assert out["swing"].is_monotonic_decreasing


def test_sensitivity_matches_recomputation():
    data = offers()
    out = sensitivity(data, "B", change=0.5)
    bumped = data.copy()
    bumped.loc["B", "time"] *= 1.5
    dv = delivered_value(bumped)["delivered_value"]
    assert out.loc["time", "edge_high"] == pytest.approx(dv["B"] - dv["A"])


def test_bad_offers():
    data = offers()
    data.loc["B", "time"] = -1
    with pytest.raises(
        DataError, match="'time' must hold numbers >= 0; 1 values do not, first for offer 'B'"
    ):
        delivered_value(data)
    with pytest.raises(DataError, match="lacks column"):
        delivered_value(offers().drop(columns="image"))
    with pytest.raises(DataError, match="not in the offers"):
        sensitivity(offers(), "C")
    with pytest.raises(DataError, match="at least two"):
        sensitivity(offers().loc[["A"]], "A")
    with pytest.raises(DataError, match="change"):
        sensitivity(offers(), "A", change=0)
    twice = pd.concat([offers(), offers().loc[["A"]]])
    with pytest.raises(DataError, match="twice"):
        delivered_value(twice)


def test_reaching_a_tie_is_not_a_flip():
    data = offers()
    # A's edge is -10; raising A's service of 50 by 20% adds exactly 10: a tie, not a win
    data.loc["A", "service"] = 50.0
    data.loc["A", "product"] = 70.0
    out = sensitivity(data, "A", change=0.2)
    assert out.loc["service", "edge_high"] == 0
    assert not bool(out.loc["service", "flips"])


def test_delivered_value_findings_say_the_values_are_assumed():
    from crmlab.delivered_value import delivered_value_findings

    data = offers()
    table, sens = delivered_value(data), sensitivity(data, "A", change=0.2)
    (finding,) = delivered_value_findings(table, sens, "A", change=0.2)
    # A: 140 - 100 = 40; B: 155 - 105 = 50; A is 10 behind; product 100 +/-20% swings 40
    assert finding.numbers["best_value"] == 50 and finding.numbers["ours"] == 40
    assert finding.numbers["gap"] == 10 and finding.numbers["swing"] == pytest.approx(40)
    assert finding.text.startswith("With the assumed component values")
    assert "B delivers the most value to the buyer ($50 per purchase)" in finding.text
    assert "$10 behind the best rival; its product value moves that gap most" in finding.text
    price_first = sens.loc[["money"]]
    (price,) = delivered_value_findings(table, price_first, "A", change=0.2)
    assert "its price moves that gap most" in price.text and "by $32" in price.text
    assert "enough to change the buyer's choice" in finding.text
    (ahead,) = delivered_value_findings(table, sensitivity(data, "B"), "B", change=0.2)
    assert "$10 ahead of the best rival" in ahead.text
    tie = data.copy()
    tie.loc["A", "product"] = 110.0
    t = delivered_value(tie)
    (tied,) = delivered_value_findings(t, sensitivity(tie, "A"), "A", change=0.2)
    assert "tie for the most value" in tied.text and "level with" in tied.text
    with pytest.raises(DataError, match="offer 'C'"):
        delivered_value_findings(table, sens, "C", change=0.2)


def test_delivered_value_client_says_the_values_are_assumed():
    from client_checks import check_plain

    from crmlab.delivered_value import delivered_value, delivered_value_client, sensitivity

    offers = pd.DataFrame(
        {
            "product": [100.0, 85.0, 115.0],
            "service": [30.0, 10.0, 35.0],
            "personnel": [20.0, 5.0, 25.0],
            "image": [10.0, 5.0, 25.0],
            "money": [110.0, 80.0, 150.0],
            "time": [10.0, 15.0, 8.0],
            "energy": [5.0, 10.0, 4.0],
            "psychic": [5.0, 8.0, 3.0],
        },
        index=pd.Index(["Ours", "Cheap", "Posh"], name="offer"),
    )
    table = delivered_value(offers)
    sens = sensitivity(offers, "Ours", change=0.1)
    (finding,), (action,) = delivered_value_client(table, sens, "Ours", change=0.1)
    # by hand: value - cost = 160 - 130 = 30 (ours), 105 - 113 = -8, 200 - 165 = 35 (Posh)
    assert finding.numbers["ours"] == pytest.approx(30.0)
    assert finding.numbers["rival_value"] == pytest.approx(35.0)
    assert finding.numbers["gap"] == pytest.approx(5.0) and "$5 behind Posh ($35)" in finding.text
    # price is the largest component (110): 10% of it moves the gap by 2 x 11 = 22
    assert finding.numbers["swing"] == pytest.approx(22.0) and "its price" in finding.text
    assert "assumed values" in finding.text and action.verb == "test"
    for text in (finding.text, action.text):
        check_plain(text)
    with pytest.raises(DataError, match="'Other'"):
        delivered_value_client(table, sens, "Other", change=0.1)
