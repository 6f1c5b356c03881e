"""crmlab.simulate.presets: named simulator settings shared by notebooks."""

from __future__ import annotations

import pandas as pd

from crmlab import simulate


def test_growing_retailer_is_the_documented_retailer_call():
    sim = simulate.presets.growing_retailer(300, 2.0, seed=7)
    direct = simulate.retailer(
        300,
        acquisition_periods=None,
        horizon=2.0,
        time_unit="Y",
        r=0.8,
        alpha=0.25,
        s=1.0,
        beta=1.5,
        p=4.0,
        q=6.0,
        gamma=75.0,
        margin=0.3,
        margin_concentration=20,
        cost_per_order=8.0,
        cost_per_order_shape=1.0,
        seed=7,
    )
    pd.testing.assert_frame_equal(sim.transactions, direct.transactions)
    assert simulate.growing_retailer is simulate.presets.growing_retailer


def test_growing_retailer_keeps_acquiring_and_records_costs():
    sim = simulate.presets.growing_retailer(2000, 3.0, seed=1)
    first = sim.truth["first_purchase"]
    # ongoing acquisition: first purchases spread over all three years, not one cohort
    years = (pd.to_datetime(first) - pd.Timestamp("1997-01-01")).dt.days / 365.25
    assert years.min() < 0.1 and years.max() > 2.9
    assert abs(years.mean() - 1.5) < 0.1
    assert "cost" in sim.transactions and (sim.transactions["cost"] > 0).all()
    # mean order value p * gamma / (q - 1) = $60 within sampling error
    assert abs(sim.transactions["amount"].mean() - 60.0) < 6.0
