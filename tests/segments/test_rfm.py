"""RFM scores and the R rfm package's segment table (crmlab/segments/rfm.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmlab import DataError
from crmlab import segments as seg


def tx(rows: list[tuple]) -> pd.DataFrame:
    """Transactions from (customer_id, date, amount) tuples."""
    frame = pd.DataFrame(rows, columns=["customer_id", "date", "amount"])
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


def toy100() -> pd.DataFrame:
    """Customers 1..100 buy once in March 2020; customer i spends 101 - i (1 spends most)."""
    return tx([(i, "2020-03-15", float(101 - i)) for i in range(1, 101)])


# --- RFM -----------------------------------------------------------------------------


def test_scores_are_exact_quintiles_without_ties():
    s = seg.score(pd.Series(np.arange(100.0)), 5)
    assert s.value_counts().sort_index().tolist() == [20] * 5
    assert s.iloc[0] == 1 and s.iloc[-1] == 5
    low = seg.score(pd.Series(np.arange(100.0)), 4, higher_is_better=False)
    assert low.iloc[0] == 4 and low.iloc[-1] == 1


def test_tied_values_share_the_middle_score():
    values = pd.Series([1.0] * 50 + list(range(2, 52)))
    s = seg.score(values, 5)
    assert s.iloc[:50].nunique() == 1
    assert s.iloc[0] == 2  # average rank 25.5 of 100 -> 1 + floor(5 * 24.5 / 100) = 2
    assert seg.score(pd.Series([3.0] * 10), 5).eq(3).all()


def test_rfm_scores_units_and_values():
    t = tx(
        [
            (1, "2020-12-31", 10.0),
            (1, "2020-06-01", 30.0),
            (2, "2020-12-01", 100.0),
            (3, "2020-01-01", 5.0),
            (4, "2019-01-01", 7.0),  # outside a 1-year window ending 2020-12-31
        ]
    )
    r = seg.rfm_scores(t, "2020-12-31", length="1Y", bins=3)
    assert list(r.index) == [1, 2, 3]
    assert r["recency_days"].tolist() == [0, 30, 365]
    assert r["frequency"].tolist() == [2, 1, 1]
    assert r["monetary"].tolist() == [40.0, 100.0, 5.0]
    assert r["R"].tolist() == [3, 2, 1]
    assert r.loc[1, "F"] == 3 and r.loc[2, "F"] == r.loc[3, "F"]
    assert r["M"].tolist() == [2, 3, 1]
    assert r.loc[1, "RFM"] == "332"
    mean = seg.rfm_scores(t, "2020-12-31", length="1Y", bins=3, monetary="mean")
    assert mean.loc[1, "monetary"] == 20.0


def test_rfm_segments_follow_the_rules_in_order():
    scores = pd.DataFrame(
        {
            "R": [5, 5, 1, 1, 3, 2],
            "F": [5, 1, 5, 3, 3, 1],
            "M": [5, 2, 5, 2, 3, 1],
            "recency_days": [1, 2, 300, 280, 100, 200],
            "frequency": [9, 1, 9, 3, 3, 1],
            "monetary": [500.0, 20, 400, 60, 80, 10],
        },
        index=list("abcdef"),
    )
    s = seg.rfm_segments(scores)
    # first match wins, in the R rfm package's row order
    assert s.astype(str).tolist() == [
        "champions",
        "potential loyalist",
        "at risk",
        "at risk",
        "loyal customers",
        "about to sleep",
    ]
    custom = seg.rfm_segments(scores, {"vip": "M >= 5"}, other="rest")
    assert custom.astype(str).tolist() == ["vip", "rest", "vip", "rest", "rest", "rest"]
    table = seg.segment_table(scores, s)
    assert table["customers"].sum() == 6
    assert table.loc["champions", "total_monetary"] == 500.0


def test_rfm_bad_parameters():
    t = toy100()
    with pytest.raises(DataError, match="bins"):
        seg.rfm_scores(t, bins=1)
    with pytest.raises(DataError, match="monetary"):
        seg.rfm_scores(t, monetary="median")
    with pytest.raises(DataError, match="overlap"):
        seg.rfm_scores(t, "2019-01-01")
    with pytest.raises(DataError, match="rule 'bad'"):
        seg.rfm_segments(seg.rfm_scores(t), {"bad": "Q >= 3"})
    seven = seg.rfm_scores(t, bins=7)
    assert seg.rfm_segments(seven).notna().all()  # rules follow the scores' bins


def test_segment_rules_are_the_r_package_table_and_scale_with_bins():
    five = seg.segment_rules(5)
    assert list(five) == list(seg.RFM_PACKAGE_SEGMENTS.index)
    assert five["champions"] == "R >= 4 and R <= 5 and F >= 4 and F <= 5 and M >= 4 and M <= 5"
    assert five["can't lose them"].startswith("R >= 1 and R <= 1 and F >= 4")
    ten = seg.segment_rules(10)
    # 5-level range [4, 5] covers the top 40% of ranks: levels 7-10 of 10
    assert ten["champions"].startswith("R >= 7 and R <= 10")
    with pytest.raises(DataError, match="bins"):
        seg.segment_rules(1)


def test_segment_table_explains_empty_and_overlapping_segments():
    # half the customers bought once: they share one F score, so F = 1 is empty
    t = tx(
        [(i, f"2020-{1 + i % 12:02d}-10", 10.0 + i) for i in range(1, 41)]
        + [(i, "2020-12-20", 5.0) for i in range(21, 41)]
    )
    r = seg.rfm_scores(t, "2020-12-31")
    assert 1 not in set(r["F"])
    rules = seg.segment_rules(5)
    table = seg.segment_table(r, seg.rfm_segments(r, rules), rules)
    assert table["customers"].sum() == 40
    note = table.loc["new customers", "note"]
    assert note.startswith("0 customers") and "F = 1" in note
    assert "'potential loyalist'" in note  # its ranges lie inside an earlier segment's
    both = table.loc["loyal customers"]
    assert both["match_rule"] - both["taken_earlier"] == both["customers"]
    assert (table["taken_earlier"] >= 0).all()
