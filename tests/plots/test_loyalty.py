"""The loyalty pictures draw the study's tables, label everything and carry alt text."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from loyalty_cases import END, ExponentialAlive, constructed  # noqa: E402

from crmlab import plots  # noqa: E402
from crmlab.costs import CostModel  # noqa: E402
from crmlab.plots.alt import alt_text  # noqa: E402
from crmlab.studies import HBR_CORRELATIONS, SimulationCheck, loyalty_profit  # noqa: E402


@pytest.fixture(scope="module")
def study():
    tx = constructed()
    res = loyalty_profit(
        tx,
        model=ExponentialAlive(),
        costs=CostModel.per_period(0.4, 1.0, 0.2, "W"),
        cohort=("2024-01-01", "2024-03-31"),
        observation_end=END,
        n_boot=20,
    )
    return res, tx


def test_every_picture_is_labelled_and_described(study):
    res, tx = study
    axes = [
        plots.loyalty.quadrants(res.customers, res.splits, max_points=25),
        plots.loyalty.segment_shares(res.segments),
        plots.loyalty.sensitivity(res.sensitivity, margin=0.4, hbr=HBR_CORRELATIONS),
        plots.loyalty.survival(res.survival),
        plots.loyalty.profit_by_tenure(res.profit_by_tenure),
        plots.loyalty.correlation_comparison(res.association, HBR_CORRELATIONS),
        plots.loyalty.what_if(res, tx, 0.6, 0.3, 0.1),
    ]
    for ax in axes:
        assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
        assert alt_text(ax)
    assert "random 25 of 40" in axes[0].get_title()
    # the one-time buyers' tie is marked and named in the alt text
    assert "10 one-time buyers share one lifetime" in alt_text(axes[0])
    assert "One-time buyers" in alt_text(axes[1])
    assert "threshold 0.60" in axes[-1].get_title().lower()
    plt.close("all")


def test_simulation_pictures_draw_the_check(study):
    res, _ = study
    table = pd.DataFrame(
        {
            "world": ["independent (link = 0)", "linked (link = 1)"],
            "seed": [0, 0],
            "sample": ["repeat buyers"] * 2,
            "true_pearson": [-0.2, 0.3],
            "estimated_pearson": [-0.18, 0.35],
            "lower": [-0.25, 0.31],
            "upper": [-0.1, 0.4],
            "imputed_pearson": [-0.21, 0.29],
            "imputed_lower": [-0.3, 0.22],
            "imputed_upper": [-0.12, 0.36],
        }
    )
    ax = plots.loyalty.simulation_check(table)
    assert "truth 0.30" in alt_text(ax) and "Simulated" in alt_text(ax)
    fig = plots.loyalty.simulated_quadrants({("a", 0): (res, None), ("b", 0): (res, None)})
    assert len(fig.axes) == 2
    check = SimulationCheck(table)
    assert check.table is table
    plt.close("all")
