"""The whale curve and its cost sensitivity (crmlab/segments/whale.py)."""

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


# --- whale curve ---------------------------------------------------------------------


def test_whale_curve_hand_example():
    profit = pd.Series([-20.0, 50.0, 30.0, -10.0, 0.0])  # total 50, peak 80 after 2
    w = seg.whale_curve(profit)
    assert w["cumulative_profit"].tolist() == [0, 50, 80, 80, 70, 50]
    assert w["cumulative_share"].iloc[-1] == 1.0
    assert w["customer_share"].iloc[-1] == 1.0
    s = seg.whale_summary(profit)
    assert s["peak_share"] == pytest.approx(1.6)
    assert s["peak_at"] == pytest.approx(0.4)
    assert s["share_unprofitable"] == pytest.approx(0.4)
    assert s["profit_destroyed"] == pytest.approx(30.0)


def test_whale_curve_ends_at_total_profit(rng):
    profit = pd.Series(rng.normal(5, 20, size=500))
    w = seg.whale_curve(profit)
    assert w["cumulative_profit"].iloc[-1] == pytest.approx(profit.sum())
    assert w["cumulative_share"].iloc[-1] == 1.0
    assert w["cumulative_share"].max() == pytest.approx(seg.whale_summary(profit)["peak_share"])


def test_whale_bad_input_and_nonpositive_total():
    with pytest.raises(DataError, match="empty"):
        seg.whale_summary(pd.Series([], dtype=float))
    assert np.isnan(seg.whale_summary(pd.Series([-1.0, -2.0]))["peak_share"])


def test_whale_sensitivity_to_cost_to_serve():
    t = tx([(i, "2020-01-01", float(i)) for i in range(1, 21)])
    costs = seg.CostModel(margin=0.5)
    sens = seg.whale_sensitivity(t, costs, "cost_per_order", [0.0, 2.0, 5.0])
    # profit_i = i/2 - c: unprofitable when i < 2c
    assert sens["share_unprofitable"].tolist() == pytest.approx([0.0, 0.15, 0.45])
    assert sens.loc[0.0, "peak_share"] == pytest.approx(1.0)
    assert (sens["peak_share"].diff().dropna() > 0).all()
    t["cost"] = 0.0
    with pytest.raises(DataError, match="margin"):
        seg.whale_sensitivity(t, costs, "margin", [0.1])


def test_whale_grid_over_both_costs():
    t = tx([(i, "2020-01-01", float(i)) for i in range(1, 21)])
    t = pd.concat([t, tx([(1, "2020-12-31", 1.0)])])
    grid = seg.whale_grid(t, seg.CostModel(margin=0.5), [0.0, 2.0], [0.0, 3.0])
    assert grid.loc[0.0, 0.0] == pytest.approx(1.0)
    for co in grid.index:
        for cy in grid.columns:
            costs = seg.CostModel(0.5, co, cy)
            direct = seg.whale_summary(seg.customer_profit(t, costs)["profit"])["peak_share"]
            assert grid.loc[co, cy] == pytest.approx(direct)
    share = seg.whale_grid(t, seg.CostModel(0.5), [2.0], [0.0], statistic="share_unprofitable")
    # profit i/2 - 2 orders x 2: customers 1 (two orders), 2 and 3 lose money; 4 breaks even
    assert share.iloc[0, 0] == pytest.approx(3 / 20)
    with pytest.raises(DataError, match="statistic"):
        seg.whale_grid(t, seg.CostModel(0.5), [0.0], [0.0], statistic="nope")


def test_whale_table_formats_each_summary():
    s = seg.whale_summary(pd.Series([-20.0, 50.0, 30.0, -10.0, 0.0]))
    table = seg.whale_table(a=s, b=s)
    assert list(table.columns) == ["a", "b"]
    assert table.loc["peak (% of total profit)", "a"] == "160%"
