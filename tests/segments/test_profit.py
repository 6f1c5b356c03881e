"""Periods and the cost model (crmlab/segments/profit.py), on hand-built frames."""

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


# --- periods and costs -------------------------------------------------------------


def test_period_bounds_tile_the_calendar():
    start, end = seg.period_bounds("1997-06-30", "3M")
    assert (start, end) == (pd.Timestamp("1997-03-31"), pd.Timestamp("1997-06-30"))
    assert seg.period_bounds("1997-06-15", "3M")[0] == pd.Timestamp("1997-03-15")
    assert seg.period_bounds("1998-02-28", "1Y")[0] == pd.Timestamp("1997-02-28")
    ends = seg.period_ends("1997-03-31", "3M", 4)
    assert [str(e.date()) for e in ends] == ["1997-03-31", "1997-06-30", "1997-09-30", "1997-12-31"]
    starts = [seg.period_bounds(e, "3M")[0] for e in ends]
    assert starts[1:] == ends[:-1]  # the periods tile the calendar
    assert seg.period_ends("2020-01-07", "1W", 3)[-1] == pd.Timestamp("2020-01-21")
    with pytest.raises(DataError, match="n_periods"):
        seg.period_ends("2020-01-07", "1W", 0)


def test_last_period_ends_leave_out_a_partial_month():
    t = tx([(1, "2019-01-05", 1.0), (1, "2020-06-10", 1.0)])
    ends = seg.last_period_ends(t, "3M", 3)
    assert [str(e.date()) for e in ends] == ["2019-11-30", "2020-02-29", "2020-05-31"]
    assert seg.last_period_ends(t, "30D", 2) == [
        pd.Timestamp("2020-05-11"),
        pd.Timestamp("2020-06-10"),
    ]
    assert seg.period_bounds("1997-12-31", "1Y")[0] == pd.Timestamp("1996-12-31")
    assert seg.period_bounds("2020-01-10", 7)[0] == pd.Timestamp("2020-01-03")
    assert seg.period_bounds("2020-12-31", "1Q")[0] == pd.Timestamp("2020-09-30")


@pytest.mark.parametrize("length", ["0M", "three months", -5, "3X"])
def test_bad_length_is_named(length):
    with pytest.raises(DataError, match="length"):
        seg.parse_length(length)


def test_customer_profit_applies_every_cost():
    t = tx([(1, "2020-01-01", 100.0), (1, "2020-07-01", 50.0), (2, "2020-12-31", 10.0)])
    costs = seg.CostModel(margin=0.4, cost_per_order=5.0, cost_per_customer_year=36.525)
    p = seg.customer_profit(t, costs, start="2019-12-31", end="2020-12-31")
    # customer 1: served 366 days (2020 is a leap year) from 2019-12-31 (day before first)
    assert p.loc[1, "orders"] == 2
    assert p.loc[1, "gross_margin"] == pytest.approx(60.0)
    assert p.loc[1, "order_costs"] == pytest.approx(10.0)
    assert p.loc[1, "years_served"] == pytest.approx(366 / 365.25)
    assert p.loc[1, "profit"] == pytest.approx(60 - 10 - 36.525 * 366 / 365.25)
    # customer 2 first bought on the last day: served one day
    assert p.loc[2, "years_served"] == pytest.approx(1 / 365.25)
    assert p.loc[2, "profit"] == pytest.approx(4 - 5 - 0.1)


def test_cost_column_replaces_margin():
    t = tx([(1, "2020-01-01", 100.0), (2, "2020-01-02", 10.0)])
    t["cost"] = [70.0, 12.0]
    p = seg.customer_profit(t, seg.CostModel(margin=0.9))
    assert p["gross_margin"].tolist() == pytest.approx([30.0, -2.0])
    q = seg.customer_profit(t, seg.CostModel(margin=0.9, use_cost_column=False))
    assert q["gross_margin"].tolist() == pytest.approx([90.0, 9.0])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"margin": 1.5},
        {"margin": -0.1},
        {"cost_per_order": -1.0},
        {"cost_per_customer_year": np.nan},
    ],
)
def test_bad_costs_raise(kwargs):
    with pytest.raises(DataError, match=next(iter(kwargs))):
        seg.CostModel(**kwargs)
