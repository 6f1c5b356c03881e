"""plots.models draws the tables it is given: counts of bars/lines, labels, errors."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from crmlab import DataError  # noqa: E402
from crmlab.plots import models as pm  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_frequency_fit_bars_and_labels():
    table = pd.DataFrame(
        {"frequency": ["0", "1", "2+"], "observed": [10, 5, 2], "BG/NBD": [9.5, 5.5, 2.0]}
    )
    ax = pm.frequency_fit(table)
    heights = sorted(p.get_height() for p in ax.patches if p.get_height() > 0)
    assert heights == sorted([10, 5, 2, 9.5, 5.5, 2.0])
    assert "Repeat purchases" in ax.get_xlabel() and ax.get_ylabel() == "Customers"
    assert {t.get_text() for t in ax.get_legend().get_texts()} == {"Actual", "BG/NBD"}
    with pytest.raises(DataError, match="'observed'"):
        pm.frequency_fit(table.drop(columns="observed"))


def test_tracking_draws_actual_models_and_boundary():
    weeks = np.arange(1, 11)
    table = pd.DataFrame(
        {
            "period": weeks,
            "actual": weeks % 3,
            "expected_BG/NBD": np.ones(10),
            "cumulative_actual": np.cumsum(weeks % 3),
            "cumulative_expected_BG/NBD": np.cumsum(np.ones(10)),
        }
    )
    ax = pm.tracking(table, 5)
    lines = ax.get_lines()
    assert len(lines) == 3  # actual, model, boundary
    np.testing.assert_array_equal(lines[0].get_ydata(), np.cumsum(weeks % 3))
    assert lines[2].get_xdata()[0] == 5
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Actual", "BG/NBD"]
    ax2 = pm.tracking(table, 5, cumulative=False)
    np.testing.assert_array_equal(ax2.get_lines()[0].get_ydata(), weeks % 3)


def test_conditional_expectations_labels_customers():
    table = pd.DataFrame(
        {
            "frequency": ["0", "1", "2+"],
            "customers": [100, 40, 12],
            "actual_holdout": [0.2, 1.0, 2.5],
            "expected_holdout": [0.25, 0.9, 2.4],
        }
    )
    ax = pm.conditional_expectations(table)
    assert len(ax.get_lines()) == 2
    assert ax.get_xticklabels()[1].get_text() == "1\n(n=40)"


def test_heatmap_puts_high_frequency_on_top():
    grid = pd.DataFrame(
        [[0.1, 0.2], [0.3, 0.9]],
        index=pd.Index([0, 1], name="frequency"),
        columns=pd.Index([0.0, 10.0], name="recency"),
    )
    ax = pm.frequency_recency_heatmap(grid)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["1", "0"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "10"]
    assert list(ax.get_xticks()) == [0.5, 1.5]
    assert ax.collections[0].get_array().reshape(2, 2)[0, 1] == pytest.approx(0.9)


def test_clv_distribution_says_what_it_leaves_out():
    clv = pd.Series(np.r_[np.linspace(0, 100, 99), 10_000.0])
    ax = pm.clv_distribution(clv, clip_quantile=0.99, markers={"mean": float(clv.mean())})
    assert "1 customers above" in ax.get_title()
    with pytest.raises(DataError):
        pm.clv_distribution(pd.Series([], dtype=float))


def test_customer_paths_one_row_per_customer():
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 2],
            "date": pd.to_datetime(["2020-01-01", "2020-02-01", "2020-03-01"]),
            "amount": [10.0, 20.0, 30.0],
        }
    )
    ax = pm.customer_paths(tx, [1, 2], labels={1: "Ann"}, calibration_end="2020-02-15")
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Ann", "customer 2"]
    assert [len(c.get_offsets()) for c in ax.collections] == [2, 1]


def test_tracking_takes_the_boundary_from_the_table():
    table = pd.DataFrame(
        {
            "period": [1.0, 2.0, 3.0],
            "cumulative_actual": [1, 2, 4],
            "cumulative_expected": [1, 2, 3],
        }
    )
    with pytest.raises(DataError, match="calibration_end"):
        pm.tracking(table)
    table.attrs["calibration_end"] = 2.0
    ax = pm.tracking(table)
    assert ax.get_lines()[-1].get_xdata()[0] == 2.0


def test_model_totals_bars_intervals_and_used_model():
    totals = pd.DataFrame(
        {
            "total_clv": [900.0, 800.0, 700.0],
            "lower": [850.0, np.nan, 600.0],
            "upper": [990.0, np.nan, 760.0],
        },
        index=pd.Index(["Pareto/NBD", "BG/NBD", "MBG/NBD"], name="model"),
    )
    ax = pm.model_totals(totals, used="Pareto/NBD", level=0.9)
    assert [p.get_width() for p in ax.patches] == [900.0, 800.0, 700.0]
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "Pareto/NBD (used)",
        "BG/NBD",
        "MBG/NBD",
    ]
    (bars,) = [c for c in ax.containers if hasattr(c, "has_xerr") and c.has_xerr]
    segments = bars.lines[2][0].get_segments()
    assert len(segments) == 2  # no interval drawn where lower/upper are missing
    np.testing.assert_allclose(sorted(s[0][0] for s in segments), [600.0, 850.0])
    assert "90% interval" in ax.get_title()
    from crmlab.plots.alt import alt_text

    assert alt_text(ax) == (
        "Bars of total CLV by model: Pareto/NBD $900 ($850 to $990); BG/NBD $800; "
        "MBG/NBD $700 ($600 to $760)."
    )
    with pytest.raises(DataError, match="no models"):
        pm.model_totals(totals.iloc[:0])


def test_formula_draws_each_line_with_its_source_as_alt_text():
    from crmlab.plots.alt import alt_text

    fig = pm.formula([r"a = \frac{1}{2}", r"b = a^2"], title="Two lines")
    assert [t.get_text() for t in fig.texts][:2] == [r"$a = \frac{1}{2}$", r"$b = a^2$"]
    assert alt_text(fig) == r"a = \frac{1}{2} ; b = a^2"
    with pytest.raises(DataError, match="at least one line"):
        pm.formula([])
