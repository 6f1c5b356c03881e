"""Pyramid report tables and findings (crmlab/segments/pyramid.py), on hand-built
transactions whose answers are known exactly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from crmlab import DataError
from crmlab import segments as seg


def tx(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["customer_id", "date", "amount"])
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


def two_quarters(new_in_second: int = 0) -> pd.DataFrame:
    """100 customers buy in Q1 2020 (customer i spends 101 - i); in Q2 the even-numbered
    ones buy again (spending 10 each), plus ``new_in_second`` newcomers spending 5."""
    rows = [(i, "2020-02-15", float(101 - i)) for i in range(1, 101)]
    rows += [(i, "2020-05-15", 10.0) for i in range(2, 101, 2)]
    rows += [(1000 + k, "2020-05-20", 5.0) for k in range(new_in_second)]
    return tx(rows)


def pyramids(frame: pd.DataFrame) -> dict:
    ends = seg.period_ends("2020-03-31", "3M", 2)
    return seg.pyramid_series(frame, ends, "3M")


def test_pyramid_periods_is_every_customer_in_every_period():
    p = pyramids(two_quarters(new_in_second=3))
    long = seg.pyramid_periods(p)
    assert list(long.columns) == [
        "customer_id", "period_end", "tier", "rank", "orders", "revenue", "profit"
    ]  # fmt: skip
    first, second = sorted(p)
    assert (long["period_end"] == first).sum() == 100  # newcomers had not bought yet
    assert (long["period_end"] == second).sum() == 103
    q2 = long[long["period_end"] == second].set_index("customer_id")
    assert (q2.loc[range(1, 101, 2), "tier"] == "Inactive").all()
    assert q2["revenue"].sum() == pytest.approx(50 * 10.0 + 3 * 5.0)
    with pytest.raises(DataError, match="no pyramids"):
        seg.pyramid_periods({})


def test_concentration_finding_by_hand():
    p = pyramids(two_quarters())
    f = seg.concentration_finding(p[min(p)])
    total = sum(range(1, 101))  # 5050
    assert f.numbers["top_n"] == 1 and f.numbers["active"] == 100
    assert f.numbers["top_revenue"] == pytest.approx(100 / total)
    assert f.numbers["upper_n"] == 20  # Top 1 + Big 4 + Medium 15
    assert f.numbers["upper_revenue"] == pytest.approx(sum(range(81, 101)) / total)
    assert "the 1 Top-tier customers (1.0% of the 100 active customers) brought 2.0%" in f.text
    assert "the 20 customers above the Small tier (20.0%) brought 35.8%" in f.text


def test_cohort_finding_says_whether_new_customers_arrive():
    single = seg.cohort_finding(pyramids(two_quarters()))
    assert single.numbers["new"] == 0
    assert single.text.startswith("No new customers arrive in these data (a single cohort)")
    assert single.numbers["first_active"] == 100 and single.numbers["last_active"] == 50
    assert single.numbers["kept"] == pytest.approx(0.5)
    assert single.numbers["first_threshold"] == 100.0  # the one Top customer spent 100
    grown = seg.cohort_finding(pyramids(two_quarters(new_in_second=7)))
    assert grown.numbers["new"] == 7 and grown.numbers["last_active"] == 57
    assert "with 7 new customers in the 1 later periods" in grown.text


def test_migration_finding_by_hand_with_wilson_interval():
    p = pyramids(two_quarters(new_in_second=2))
    first, second = sorted(p)
    m = seg.tier_migration(p[first], p[second])
    f = seg.migration_finding(m, min_customers=30)
    n = f.numbers
    assert n["active"] == 100 and n["lost"] == 50 and n["lost_share"] == 0.5
    # the odd customers stop: they spent 100, 98, ..., 2 in Q1
    assert n["lost_revenue"] == pytest.approx(sum(range(2, 101, 2)))
    assert n["lost_pct"] == pytest.approx(sum(range(2, 101, 2)) / 5050)
    # the Top tier is customer 1 alone (odd: stopped); Small = customers 21..100
    assert n["top_n"] == 1 and n["top_lost"] == 1.0 and n["top_stay"] == 0.0
    lo, hi = proportion_confint(1, 1, alpha=0.05, method="wilson")
    assert (n["top_lost_low"], n["top_lost_high"]) == pytest.approx((lo, hi))
    assert n["bottom_n"] == 80 and n["bottom_lost"] == 0.5
    assert "of the 1 Top-tier customers (fewer than 30, so these shares are rough)" in f.text
    assert "Small-tier customers (fewer" not in f.text  # 80 customers are enough
    assert "From the period ending 31 Mar 2020 to the one ending 30 Jun 2020" in f.text
    assert not f.simulated
    no_flag = seg.migration_finding(m, min_customers=1)
    assert "rough" not in no_flag.text


def test_acquisition_finding_and_simulated_label():
    p = pyramids(two_quarters(new_in_second=4))
    first, second = sorted(p)
    m = seg.tier_migration(p[first], p[second])
    f = seg.acquisition_finding(m, context="In the simulated shop", simulated=True)
    assert f.simulated and f.text.startswith("In the simulated shop, the period ending 30 Jun")
    assert f.numbers["new"] == 4 and f.numbers["new_revenue"] == 20.0
    assert f.numbers["lost"] == 50 and f.numbers["reactivated"] == 0
    # all movements together: Q2 revenue / Q1 revenue - 1
    assert f.numbers["growth"] == pytest.approx((500 + 20) / 5050 - 1)
    with pytest.raises(ValueError, match="simulated"):
        seg.acquisition_finding(m, context="In the shop", simulated=True)


def test_pyramid_findings_order_and_simulated_sentences():
    p = pyramids(two_quarters())
    sim = pyramids(two_quarters(new_in_second=5))
    first, second = sorted(sim)
    findings = seg.pyramid_findings(p, seg.tier_migration(sim[first], sim[second]))
    assert [f.simulated for f in findings] == [False, False, False, True, True]
    assert all("simulated" in f.text for f in findings[3:])
    assert len({f.text for f in findings}) == 5
    assert len(seg.pyramid_findings(p)) == 3
    with pytest.raises(DataError, match="two or more"):
        seg.pyramid_findings({min(p): p[min(p)]})


def test_migration_view_flags_small_rows():
    p = pyramids(two_quarters(new_in_second=2))
    first, second = sorted(p)
    m = seg.tier_migration(p[first], p[second])
    view = seg.migration_view(m, min_customers=30)
    assert view["customers"].to_dict() == {"Top": 1, "Big": 4, "Medium": 15, "Small": 80, "New": 2}
    assert view.loc["Top", "note"].startswith("fewer than 30 customers")
    assert view.loc["Small", "note"] == ""
    assert "Inactive" not in view.index  # nobody was inactive in the first quarter
    np.testing.assert_allclose(view.drop(columns=["customers", "note"]).sum(axis=1), 100)


def test_views_have_readable_headers():
    p = pyramids(two_quarters())
    first, second = sorted(p)
    view = seg.tier_view(p[first].table)
    assert view.loc["Top", "% of revenue"] == round(100 * 100 / 5050, 1)
    assert view.loc["Top", "lowest value in tier ($)"] == 100.0
    flows = seg.flows_view(seg.tier_migration(p[first], p[second]).flows)
    assert flows.loc["lost", "revenue change ($)"] == -sum(range(2, 101, 2))
    assert "change (% of earlier revenue)" in flows.columns


def test_tiers_by_period_is_one_column_per_period():
    wide = seg.tiers_by_period(pyramids(two_quarters(new_in_second=1)))
    assert list(wide.columns) == ["2020-03-31", "2020-06-30"]
    assert wide.loc[1].tolist() == ["Top", "Inactive"]
    assert pd.isna(wide.loc[1000, "2020-03-31"]) and wide.loc[1000, "2020-06-30"] != "Inactive"


def test_pyramid_periods_active_only_keeps_the_buyers():
    p = pyramids(two_quarters(new_in_second=3))
    long = seg.pyramid_periods(p, active_only=True)
    assert len(long) == 100 + 53
    assert not long["tier"].isin(["Inactive", "Prospects", "Suspects"]).any()
    full = seg.pyramid_periods(p)
    assert long["revenue"].sum() == pytest.approx(full["revenue"].sum())


def test_styled_views_keep_the_values_and_show_a_dash_for_n_a():
    p = pyramids(two_quarters())
    first, second = sorted(p)
    styled = seg.tier_view(p[first].table, styled=True)
    pd.testing.assert_frame_equal(styled.data, seg.tier_view(p[first].table))
    html = styled.to_html()
    assert "3,240" in html  # the Small tier's revenue (1 + ... + 80), thousands separated
    assert ">-</td>" in html  # the inactive have no average order
    m = seg.tier_migration(p[first], p[second])
    assert seg.flows_view(m.flows, styled=True).data.equals(seg.flows_view(m.flows))
    assert "rough" in seg.migration_view(m, styled=True).to_html()


def test_pyramid_client_counts_the_last_two_periods(cdnow_sample, tmp_path, monkeypatch):
    from client_checks import check_plain

    costs = seg.CostModel(0.3, 2.0, 5.0)
    ends = seg.period_ends("1997-03-31", "3M", 4)
    pyramids = seg.pyramid_series(cdnow_sample, ends, "3M", costs=costs)
    client, actions = seg.pyramid_client(pyramids, min_customers=30)
    before, after = (pyramids[e].customers for e in ends[-2:])
    active_now = after["tier"].astype(str) != "Inactive"
    active_now &= after["tier"].astype(str).isin(pyramids[ends[-1]].labels)
    top = pyramids[ends[-1]].labels[0]
    n = client[0].numbers
    assert n["active"] == active_now.sum() and n["top_n"] == (after["tier"] == top).sum()
    assert n["top_money"] == pytest.approx(after.loc[after["tier"] == top, "revenue"].sum())
    was = before["tier"].astype(str).isin(pyramids[ends[-2]].labels)
    gone = after["tier"].astype(str).reindex(before.index) == "Inactive"
    m = client[1].numbers
    assert m["prior"] == was.sum() and m["lost"] == (was & gone).sum()
    assert m["lost_revenue"] == pytest.approx(before.loc[was & gone, "revenue"].sum())
    upper = before["tier"].astype(str).isin(pyramids[ends[-2]].labels[:-1])
    assert m["back"] == (upper & gone).sum()
    assert m["back_revenue"] == pytest.approx(before.loc[upper & gone, "revenue"].sum())
    top_before = before["tier"] == top
    assert m["top_lost"] == pytest.approx((top_before & gone).sum() / top_before.sum())
    assert m["low"] <= m["top_lost"] <= m["high"]
    assert [a.verb for a in actions] == ["keep", "win back"]
    for text in [f.text for f in client] + [a.text for a in actions]:
        check_plain(text)
    monkeypatch.setenv("CRMLAB_EXPORT_DIR", str(tmp_path))
    seg.pyramid_client(pyramids, export=True)
    for action in actions:
        assert len(pd.read_csv(tmp_path / action.list_file)) == action.customers
    with pytest.raises(DataError, match="two or more"):
        seg.pyramid_client({ends[0]: pyramids[ends[0]]})
