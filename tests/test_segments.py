"""Customer pyramid, tier migration, RFM segments, MVC/MGC/BZ and the whale curve,
checked on hand-built frames whose answers are known exactly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import crmlab
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


# --- pyramid -------------------------------------------------------------------------


def test_pyramid_exact_tiers_for_100_customers():
    p = seg.customer_pyramid(toy100(), "2020-03-31", "3M")
    assert p.period == "1 Jan 2020 to 31 Mar 2020"
    tiers = p.customers["tier"].astype(str)
    assert tiers.loc[[1]].eq("Top").all()
    assert tiers.loc[2:5].eq("Big").all()
    assert tiers.loc[6:20].eq("Medium").all()
    assert tiers.loc[21:100].eq("Small").all()
    t = p.table
    assert t.loc[["Top", "Big", "Medium", "Small", "Inactive"], "customers"].tolist() == [
        1,
        4,
        15,
        80,
        0,
    ]
    assert t.loc["Top", "revenue"] == 100.0
    assert t.loc["Big", "revenue"] == sum(range(96, 100))
    assert t.loc["Small", "min_value"] == 1.0
    assert t.loc["Medium", "min_value"] == 81.0
    assert t["revenue_share"].sum() == pytest.approx(1.0)
    assert t.loc["Big", "avg_order_value"] == pytest.approx(97.5)
    assert t.loc["Top", "profit"] == pytest.approx(30.0)  # default 30% margin
    assert t["share_of_active"].iloc[:4].tolist() == pytest.approx([0.01, 0.04, 0.15, 0.80])


def test_ties_at_a_cutoff_go_to_the_higher_tier():
    amounts = [100.0] + [90.0] * 4 + [80.0] * 2 + [70.0] * 93  # ranks 6-7 tie across the 5% cut
    t = tx([(i + 1, "2020-03-01", a) for i, a in enumerate(amounts)])
    # make 5 and 6 tie at the 5% cut-off: customers 5, 6, 7 at 85
    t.loc[t.customer_id.isin([5, 6, 7]), "amount"] = 85.0
    p = seg.customer_pyramid(t, "2020-03-31", "1M")
    tiers = p.customers["tier"].astype(str)
    assert tiers.loc[5] == tiers.loc[6] == tiers.loc[7] == "Big"
    assert p.table.loc["Big", "customers"] == 6  # 4 nominal + 2 pulled up by the tie
    # 93 customers tie at 70 straddling the Medium/Small cut: all go to Medium
    assert p.table.loc["Medium", "customers"] == 93
    assert p.table.loc["Small", "customers"] == 0


def test_all_equal_revenue_puts_everyone_on_top():
    t = tx([(i, "2020-03-01", 25.0) for i in range(50)])
    p = seg.customer_pyramid(t, "2020-03-31", "1M")
    assert p.table.loc["Top", "customers"] == 50
    assert p.table.loc[["Big", "Medium", "Small"], "customers"].sum() == 0


def test_rank_by_profit_differs_from_revenue():
    t = tx([(1, "2020-03-01", 100.0), (2, "2020-03-01", 60.0), (3, "2020-03-02", 61.0)])
    t["cost"] = [95.0, 10.0, 11.0]
    rev = seg.customer_pyramid(t, "2020-03-31", "1M", cutoffs=(0.34, 0.66), labels=("A", "B"))
    prof = seg.customer_pyramid(
        t, "2020-03-31", "1M", cutoffs=(0.34, 0.66), labels=("A", "B"), rank_by="profit"
    )
    assert rev.customers.loc[1, "tier"] == "A"
    assert prof.customers.loc[1, "tier"] == "B"


def test_inactive_future_prospects_and_suspects():
    t = tx(
        [
            (1, "2020-01-10", 50.0),  # active in Q1, silent in Q2 -> inactive
            (2, "2020-02-10", 20.0),
            (2, "2020-05-10", 30.0),  # active in Q2
            (3, "2020-08-01", 40.0),  # first purchase after Q2 -> not in the pyramid
        ]
    )
    p = seg.customer_pyramid(t, "2020-06-30", "3M", prospects=[10, 11, 2], suspects=[11, 12, 13])
    tiers = p.customers["tier"].astype(str)
    assert tiers.loc[1] == "Inactive"
    assert tiers.loc[2] == "Top"
    assert 3 not in tiers.index
    assert p.table.loc["Prospects", "customers"] == 2  # 10, 11 (2 is a customer)
    assert p.table.loc["Suspects", "customers"] == 2  # 12, 13 (11 is a prospect)
    assert len(p.notes) == 3
    assert p.table["customers"].sum() == len(p.customers)


def test_empty_period_inside_the_data():
    t = tx([(1, "2020-01-10", 50.0), (2, "2020-01-11", 10.0), (1, "2020-12-01", 5.0)])
    p = seg.customer_pyramid(t, "2020-06-30", "3M")
    assert p.table.loc[["Top", "Big", "Medium", "Small"], "customers"].sum() == 0
    assert p.table.loc["Inactive", "customers"] == 2
    assert np.isnan(p.table.loc["Top", "avg_order_value"])


@pytest.mark.parametrize(
    "cutoffs", [(0.01, 0.04, 0.15, 0.70), (0.5, 0.6), (0.0, 0.2, 0.8), (1.2, -0.2), ()]
)
def test_cutoffs_must_be_positive_and_sum_to_one(cutoffs):
    with pytest.raises(DataError, match="cutoffs"):
        seg.customer_pyramid(toy100(), "2020-03-31", "3M", cutoffs=cutoffs)


def test_labels_and_rank_by_are_checked():
    with pytest.raises(DataError, match="labels"):
        seg.customer_pyramid(toy100(), "2020-03-31", "3M", labels=("a", "b"))
    with pytest.raises(DataError, match="reserved"):
        seg.customer_pyramid(
            toy100(), "2020-03-31", "3M", labels=("Top", "Big", "Medium", "Inactive")
        )
    with pytest.raises(DataError, match="rank_by"):
        seg.customer_pyramid(toy100(), "2020-03-31", "3M", rank_by="orders")


@pytest.mark.parametrize("end", ["2019-06-30", "2021-09-30", "2020-02-28"])
def test_period_outside_the_data_is_an_error(end):
    # data: 2020-03-15 only; a 1-month period ending 2020-02-28 misses it too
    with pytest.raises(DataError, match="does not overlap"):
        seg.customer_pyramid(toy100(), end, "1M")


def test_missing_columns_are_named():
    with pytest.raises(DataError, match="amount"):
        seg.customer_pyramid(toy100().drop(columns="amount"), "2020-03-31", "3M")


# --- migration -----------------------------------------------------------------------


def migration_toy():
    rows = [(i, "2020-02-01", float(101 - i)) for i in range(1, 101)]  # Q1: 100 customers
    rows += [(i, "2020-05-01", float(i)) for i in range(1, 61)]  # Q2: 1..60 reversed order
    rows += [(200 + i, "2020-05-02", 1000.0 + i) for i in range(3)]  # 3 new, big
    rows += [(i, "2020-08-01", 5.0) for i in range(90, 101)]  # Q3: 90..100 reactivate
    return tx(rows)


def test_migration_rows_sum_to_previous_tier_counts():
    t = migration_toy()
    q1, q2, q3 = seg.pyramid_series(t, ["2020-03-31", "2020-06-30", "2020-09-30"], "3M").values()
    m = seg.tier_migration(q1, q2)
    prev = q1.table["customers"]
    assert m.counts.loc[prev.index].sum(axis=1).tolist() == prev.tolist()
    assert m.counts.loc["New"].sum() == 3
    assert m.counts.loc["New", "Top"] == 1  # 202 spends most of 63
    assert m.flows.loc["lost", "customers"] == 40
    assert m.flows.loc["new", "customers"] == 3
    assert m.counts.loc["Top", "Small"] == 1  # customer 1 spends 1 in Q2
    pct = m.row_percent.dropna()
    assert np.allclose(pct.sum(axis=1), 100)
    assert m.revenue_change.to_numpy().sum() == pytest.approx(
        q2.table["revenue"].sum() - q1.table["revenue"].sum()
    )
    assert m.flows["revenue_change"].sum() == pytest.approx(m.revenue_change.to_numpy().sum())
    growth = q2.table["revenue"].sum() / q1.table["revenue"].sum() - 1
    assert m.flows["change_vs_before"].sum() == pytest.approx(growth)
    m2 = seg.tier_migration(q2, q3)
    assert m2.flows.loc["reactivated", "customers"] == 11
    assert m2.counts.loc["Inactive"].sum() == q2.table.loc["Inactive", "customers"]
    assert m2.flows.loc["lost", "customers"] == 63


def test_migration_order_and_tiers_are_checked():
    t = migration_toy()
    q1 = seg.customer_pyramid(t, "2020-03-31", "3M")
    q2 = seg.customer_pyramid(t, "2020-06-30", "3M")
    with pytest.raises(DataError, match="earlier"):
        seg.tier_migration(q2, q1)
    with pytest.raises(DataError, match="overlap"):
        seg.tier_migration(q1, seg.customer_pyramid(t, "2020-04-30", "3M"))
    other = seg.customer_pyramid(t, "2020-06-30", "3M", cutoffs=(0.5, 0.5), labels=("H", "L"))
    with pytest.raises(DataError, match="different tiers"):
        seg.tier_migration(q1, other)


def test_pyramid_history_has_one_row_per_period():
    ps = seg.pyramid_series(migration_toy(), ["2020-06-30", "2020-03-31"], "3M")
    h = seg.pyramid_history(ps)
    assert list(h.index) == [pd.Timestamp("2020-03-31"), pd.Timestamp("2020-06-30")]
    assert h.loc[pd.Timestamp("2020-06-30"), ("customers", "Inactive")] == 40


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
    assert s.astype(str).tolist() == [
        "champions",
        "new customers",
        "cannot lose them",
        "at risk",
        "need attention",
        "hibernating",
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
    with pytest.raises(DataError, match="5 bins"):
        seg.rfm_segments(seg.rfm_scores(t, bins=7))


# --- MVC / MGC / BZ ------------------------------------------------------------------


def test_potential_value_from_wallet_and_benchmark():
    spend = pd.Series([100.0, 50.0, 10.0], index=["a", "b", "c"])
    wallet = pd.Series([100.0, 200.0, 20.0], index=["a", "b", "c"])
    assert seg.potential_value(spend, margin=0.5, wallet=wallet).tolist() == [0.0, 75.0, 5.0]
    bench = seg.potential_value(spend, margin=0.5, quantile=0.5)  # benchmark = median 50
    assert bench.tolist() == [0.0, 0.0, 20.0]
    with pytest.raises(DataError, match="wallet"):
        seg.potential_value(spend, wallet=pd.Series([1.0, 1.0, 1.0], index=spend.index))


def test_value_groups_exact():
    values = pd.DataFrame(
        {
            "actual_value": [100.0, 90, 10, 5, 1, -3, 20, 20, 8, 0],
            "potential_value": [0.0, 5, 80, 70, 60, 90, 1, 1, 0, 0],
        },
        index=list("abcdefghij"),
    )
    values["expected_profit"] = values["actual_value"]
    g = seg.value_groups(values, mvc_share=0.2, mgc_share=0.2)["group"].astype(str)
    assert g.to_dict() == {
        "a": "MVC",
        "b": "MVC",
        "c": "MGC",
        "d": "MGC",
        "e": "Others",
        "f": "BZ",
        "g": "Others",
        "h": "Others",
        "i": "Others",
        "j": "Others",
    }
    tied = seg.value_groups(values, mvc_share=0.3)["group"].astype(str)
    assert (tied == "MVC").sum() == 4  # g and h tie at the 30% cut: both in
    table = seg.value_group_table(seg.value_groups(values))
    assert table.loc[["MVC", "MGC", "BZ", "Others"], "customers"].tolist() == [2, 2, 1, 5]
    assert table["actual_value"].sum() == pytest.approx(values["actual_value"].sum())
    assert table.loc["BZ", "expected_profit"] == -3.0


def test_value_groups_bad_input():
    values = pd.DataFrame({"actual_value": [1.0], "potential_value": [1.0]})
    with pytest.raises(DataError, match="expected_profit"):
        seg.value_groups(values)
    values["expected_profit"] = 1.0
    with pytest.raises(DataError, match="exceeds 1"):
        seg.value_groups(values, mvc_share=0.6, mgc_share=0.6)


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


def test_cdnow_sample_pyramid_is_consistent(cdnow_sample):
    p = seg.customer_pyramid(cdnow_sample, "1997-12-31", "6M")
    active = p.table.loc[["Top", "Big", "Medium", "Small"], "customers"].sum()
    assert p.table["customers"].sum() == cdnow_sample["customer_id"].nunique()
    assert p.table.loc["Top", "customers"] == pytest.approx(0.01 * active, abs=2)
    assert p.table["revenue"].sum() == pytest.approx(
        cdnow_sample.loc[cdnow_sample.date.between("1997-07-01", "1997-12-31"), "amount"].sum()
    )
    assert isinstance(crmlab.segments.customer_pyramid, type(seg.customer_pyramid))


def test_historical_and_model_values():
    profit = pd.DataFrame({"revenue": [100.0, 10.0, 50.0], "profit": [25.0, -2.0, 10.0]})
    h = seg.historical_values(profit, margin=0.5, quantile=1.0)
    assert h["potential_value"].tolist() == [0.0, 45.0, 25.0]
    assert h["expected_profit"].tolist() == [25.0, -2.0, 10.0]
    m = seg.model_values(
        pd.Series([2.0, 0.1, 1.0]),
        pd.Series([50.0, 40.0, 20.0]),
        margin=0.5,
        cost_per_order=5.0,
        cost_per_customer_year=4.0,
        horizon_years=2.0,
        quantile=1.0,
    )
    assert m["actual_value"].tolist() == pytest.approx([40.0, 1.5, 5.0])
    assert m["expected_profit"].tolist() == pytest.approx([32.0, -6.5, -3.0])
    assert m["potential_value"].tolist() == pytest.approx([0.0, 48.0, 40.0])
    groups = seg.value_groups(m, mvc_share=1 / 3, mgc_share=1 / 3)["group"].astype(str)
    assert groups.tolist() == ["MVC", "BZ", "BZ"]
    with pytest.raises(DataError, match="expected_spend"):
        seg.model_values(pd.Series([1.0, 2.0]), pd.Series([1.0], index=[0]))


def test_plots_draw_every_table(cdnow_sample):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from crmlab import plots

    ps = seg.pyramid_series(cdnow_sample, ["1997-06-30", "1997-12-31"], "6M")
    p1, p2 = ps.values()
    mig = seg.tier_migration(p1, p2)
    r = seg.rfm_scores(cdnow_sample)
    s = seg.rfm_segments(r)
    profit = seg.customer_profit(cdnow_sample, seg.CostModel(0.3, 2.0, 5.0))
    grouped = seg.value_groups(seg.historical_values(profit))
    axes = [
        plots.segments.pyramid(p2.table),
        plots.segments.tier_shares(p2.table),
        plots.segments.pyramid_history(seg.pyramid_history(ps)),
        plots.segments.migration_heatmap(mig),
        plots.segments.migration_flows(mig.flows),
        plots.segments.rfm_segments(seg.segment_table(r, s)),
        plots.segments.rfm_grid(r),
        plots.segments.value_groups(seg.value_group_table(grouped)),
        plots.segments.value_map(grouped),
        plots.segments.whale_curve(
            seg.whale_curve(profit["profit"]), seg.whale_summary(profit["profit"]), label="x"
        ),
    ]
    sens = seg.whale_sensitivity(cdnow_sample, seg.CostModel(), "cost_per_order", [0.0, 2.0])
    axes.append(plots.segments.whale_sensitivity(sens))
    assert axes[-1].get_xlabel() == "Cost per order ($, assumed)"
    assert all(ax.get_title() for ax in axes)
    assert all(ax.get_xlabel() or not ax.axison for ax in axes)
    plt.close("all")
