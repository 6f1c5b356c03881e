"""Pyramid and migration pictures (crmlab/plots/segments.py): empty groups, small rows,
currency and alt text."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from crmlab import plots  # noqa: E402
from crmlab import segments as seg  # noqa: E402
from crmlab.plots.alt import alt_text  # noqa: E402


@pytest.fixture
def pyramids():
    rows = [(i, "2020-02-15", float(101 - i)) for i in range(1, 101)]
    rows += [(i, "2020-05-15", 10.0) for i in range(2, 101, 2)]
    frame = pd.DataFrame(rows, columns=["customer_id", "date", "amount"])
    frame["date"] = pd.to_datetime(frame["date"])
    yield seg.pyramid_series(frame, seg.period_ends("2020-03-31", "3M", 2), "3M")
    plt.close("all")


def test_pyramid_leaves_out_an_empty_band_and_says_so(pyramids):
    first, second = (pyramids[e] for e in sorted(pyramids))
    assert first.table.loc["Inactive", "customers"] == 0
    ax = plots.segments.pyramid(first.table, title="First quarter")
    texts = [t.get_text() for t in ax.texts]
    assert not any(t.startswith("Inactive:") for t in texts)
    assert "Not drawn: Inactive (nobody in this period)." in texts
    assert len(ax.patches) == 4  # the four tiers, no band for the empty group
    assert alt_text(ax).startswith("First quarter: bands from the top tier down, Top: 1")
    ax2 = plots.segments.pyramid(second.table)
    assert "Inactive: 50 people" in [t.get_text() for t in ax2.texts]
    assert len(ax2.patches) == 5


def test_migration_heatmap_marks_rows_of_few_customers(pyramids):
    first, second = sorted(pyramids)
    m = seg.tier_migration(pyramids[first], pyramids[second])
    ax = plots.segments.migration_heatmap(m, min_customers=30)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["Top (n=1) *", "Big (n=4) *", "Medium (n=15) *", "Small (n=80)"]
    assert "fewer than 30 customers" in ax.get_xlabel()
    # all 50 Q2 buyers spend the same 10, so they tie for the Top tier
    assert "Small (n=80) 50.0% to Top, 0.0% to Big" in alt_text(ax)


def test_money_axes_are_in_dollars_and_described(pyramids):
    first, second = sorted(pyramids)
    m = seg.tier_migration(pyramids[first], pyramids[second])
    ax = plots.segments.migration_flows(m.flows)
    assert ax.get_ylabel() == "Revenue change ($)"
    assert "lost -$2,550 (50 customers)" in alt_text(ax)
    history = seg.pyramid_history(pyramids)
    ax = plots.segments.pyramid_history(history, what="revenue")
    assert ax.get_ylabel() == "Revenue ($)"
    assert "Top $100" in alt_text(ax)
    ax = plots.segments.tier_shares(pyramids[first].table)
    assert alt_text(ax).startswith("Bars of each tier's share")


def test_pyramid_for_cutoffs_draws_the_given_shares(pyramids):
    first = min(pyramids)
    frame = pd.DataFrame(
        {"customer_id": range(1, 101), "date": pd.Timestamp("2020-02-15"), "amount": 1.0}
    )
    frame["amount"] = [float(101 - i) for i in range(1, 101)]
    ax = plots.segments.pyramid_for_cutoffs(frame, first, "3M", 0.05, 0.10, 0.25)
    assert "Top: 5 customers (5%)" in [t.get_text().split(",")[0] for t in ax.texts][0]


def test_pyramid_history_writes_the_inactive_above_the_active_tiers(pyramids):
    ax = plots.segments.pyramid_history(seg.pyramid_history(pyramids))
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["Top", "Big", "Medium", "Small"]  # the inactive are not stacked
    assert "Inactive: 50" in [t.get_text() for t in ax.texts]
    assert "Inactive 50" in alt_text(ax)
