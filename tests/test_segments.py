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


def test_cdnow_sample_pyramid_is_consistent(cdnow_sample):
    p = seg.customer_pyramid(cdnow_sample, "1997-12-31", "6M")
    active = p.table.loc[["Top", "Big", "Medium", "Small"], "customers"].sum()
    assert p.table["customers"].sum() == cdnow_sample["customer_id"].nunique()
    assert p.table.loc["Top", "customers"] == pytest.approx(0.01 * active, abs=2)
    assert p.table["revenue"].sum() == pytest.approx(
        cdnow_sample.loc[cdnow_sample.date.between("1997-07-01", "1997-12-31"), "amount"].sum()
    )
    assert isinstance(crmlab.segments.customer_pyramid, type(seg.customer_pyramid))


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
    v = pd.DataFrame(
        {
            "actual_value": [50.0, 5.0, -2.0, 1.0],
            "potential_value": [50.0, 30.0, -2.0, 1.0],
            "p_alive": [0.9, 0.8, 0.2, 0.1],
        }
    )
    v["gap"] = v["potential_value"] - v["actual_value"]
    tier = seg.value_tiers(v, mvc_share=0.25, mgc_share=0.25)
    grid = pd.DataFrame([[0.0, 0.5], [0.1, 0.6]], index=[0.0, 2.0], columns=[0.0, 5.0])
    axes = [
        plots.segments.pyramid(p2.table),
        plots.segments.tier_shares(p2.table),
        plots.segments.pyramid_history(seg.pyramid_history(ps)),
        plots.segments.migration_heatmap(mig),
        plots.segments.migration_flows(mig.flows),
        plots.segments.rfm_segments(seg.segment_table(r, s)),
        plots.segments.rfm_grid(r),
        plots.segments.value_tiers(seg.tier_table(v, tier)),
        plots.segments.value_map(v, tier),
        plots.segments.cost_grid(grid),
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
