"""Plots of notebooks 06 and 07: they draw what the analyses return and say so in alt text."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from crmlab import plots  # noqa: E402
from crmlab.defection import claim_sample_size, power_curve, reason_shares  # noqa: E402
from crmlab.delivered_value import delivered_value, sensitivity  # noqa: E402
from crmlab.integration import single_customer_view  # noqa: E402
from crmlab.plots.alt import alt_text  # noqa: E402
from crmlab.recommend import evaluate  # noqa: E402
from crmlab.relationships import cross_buying, fit_retention, retention_by_level  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def customers(rng, n=800):
    x = rng.integers(1, 9, size=n)
    y = rng.random(n) < 1 / (1 + np.exp(-(-1.5 + 0.6 * np.minimum(x, 4))))
    data = pd.DataFrame({"n_employees": x, "retained": y.astype(int)})
    data["n_lines"] = data["n_employees"] // 2 + 1
    data["value"] = data["n_lines"] * 10.0
    return data


def offers():
    return pd.DataFrame(
        [[5, 1, 1, 1, 3, 1, 1, 1], [4, 2, 1, 1, 2, 1, 1, 1]],
        index=["A", "B"],
        columns=["product", "service", "personnel", "image", "money", "time", "energy", "psychic"],
        dtype=float,
    )


def test_retention_and_cross_buying_plots(rng):
    data = customers(rng)
    observed = retention_by_level(data)
    fits = {k: fit_retention(data, kind=k) for k in ("linear", "dummies")}
    ax = plots.relationships.retention_curve(observed, fits)
    assert len(ax.lines) >= 2 and ax.get_ylabel() == "Retention rate"
    alt = alt_text(ax)
    assert "linear, dummies" in alt and f"{observed['retention'].min():.0%}" in alt
    table, _ = cross_buying(data)
    ax = plots.relationships.cross_buying(table)
    assert "$" in ax.get_ylabel()
    assert f"${table['mean_value'].max():,.0f}" in alt_text(ax)
    assert f"n = {table['customers'].iloc[0]:,}" in alt_text(ax)


def test_reason_and_power_plots():
    survey = pd.DataFrame({"reason": ["service", "price"] * 5, "segment": list("ab" * 5)})
    shares = reason_shares(survey, by="segment")
    ax = plots.relationships.reason_shares(shares, by="segment", claimed=2 / 3)
    assert len(ax.patches) == 4
    assert "a: " in alt_text(ax) and "claimed share of 67%" in alt_text(ax)
    ax = plots.relationships.reason_shares(reason_shares(survey))
    assert "price 50%, service 50%" in alt_text(ax)  # ties in table order
    design = claim_sample_size()
    ax = plots.relationships.claim_power(power_curve(100), target=0.8, needed=design.n)
    assert "73 respondents" in alt_text(ax) and ax.get_xlabel() == "Former customers surveyed"


def test_delivered_value_plots_are_in_dollars():
    table = delivered_value(offers())
    ax = plots.relationships.delivered_value(table)
    assert ax.get_ylabel().startswith("$")
    assert "B $3, A $2" in alt_text(ax)  # A: 5+1+1+1 - (3+1+1+1) = 2; B: 8 - 5 = 3
    sens = sensitivity(offers(), "A")
    ax = plots.relationships.tornado(sens, offer="A")
    assert len(ax.patches) == 16 and "$" in ax.get_xlabel()
    assert "(now -$1)" in alt_text(ax)


def test_recommendation_and_matching_plots(rng):
    trans = pd.DataFrame(
        {
            "customer_id": np.repeat(np.arange(40), 3),
            "date": pd.Timestamp("2024-01-01") + pd.to_timedelta(np.tile([0, 1, 2], 40), "D"),
            "category": rng.choice(list("abcde"), 120),
        }
    )
    hits = evaluate(trans, history_lengths=(1, 2))
    ax = plots.relationships.hit_rates(hits, k=3)
    assert "Hit rate at 3" in alt_text(ax) and "cosine" in alt_text(ax)
    view = single_customer_view(
        {"crm": pd.DataFrame({"record_id": [1, 2], "email": ["a@b.co", "A@b.co"]})}
    )
    ax = plots.relationships.matching_funnel(view.quality)
    assert "crm 2 records, 1 persons" in alt_text(ax)


def test_explorers_draw_what_a_slider_asks_for(rng):
    from crmlab.relationships import threshold_test

    data = customers(rng)
    draw = plots.relationships.knot_explorer(data, retention_by_level(data))
    ax = draw(knot=3)
    test = threshold_test(data, knot=3)
    assert ax.get_title() == f"Kink at 3: LR = {test.lr_stat:.1f}, p = {test.p_value:.2g}"
    assert "kinked fit at 3 contacts" in alt_text(ax)
    table = plots.relationships.offer_explorer(offers(), "A")(price=1.0, service=1.0)
    assert table.loc["A", "delivered_value"] == pytest.approx(8 - 4)
    trans = pd.DataFrame(
        {
            "customer_id": np.repeat(np.arange(40), 3),
            "date": pd.Timestamp("2024-01-01") + pd.to_timedelta(np.tile([0, 1, 2], 40), "D"),
            "category": rng.choice(list("abcde"), 120),
        }
    )
    ax = plots.relationships.hit_rate_explorer(trans, history_lengths=(1, 2), seed=1)(k=2)
    assert ax.get_ylabel() == "Hit rate at 2"
