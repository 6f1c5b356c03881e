"""widgets.explore draws a static figure when run headless and a live widget otherwise.
(The tests of crmlab.teach are in tests/teach/.)"""

from __future__ import annotations

import ipywidgets
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from crmlab import widgets  # noqa: E402


@pytest.fixture
def shown(monkeypatch):
    """Everything passed to IPython's display by the widgets module."""
    out: list = []
    monkeypatch.setattr(widgets, "display", out.append)
    return out


def test_slider_and_dropdown():
    assert isinstance(widgets.slider(3, 1, 10, 1, "n"), ipywidgets.IntSlider)
    s = widgets.slider(0.3, 0.05, 0.8, 0.05, "Gross margin")
    assert isinstance(s, ipywidgets.FloatSlider) and s.value == 0.3
    d = widgets.dropdown("BG/NBD", ["BG/NBD", "Pareto/NBD"], "Model")
    assert d.value == "BG/NBD" and list(d.options) == ["BG/NBD", "Pareto/NBD"]


def test_explore_is_static_under_the_renderer(monkeypatch, shown):
    monkeypatch.setenv(widgets.STATIC_ENV, "1")
    assert widgets.is_static()
    calls = []

    def draw(margin, model):
        calls.append((margin, model))
        plt.plot([0, 1], [0, margin])
        return pd.DataFrame({"margin": [margin]})

    widgets.explore(
        draw,
        margin=widgets.slider(0.3, 0.05, 0.8, 0.05, "Gross margin"),
        model=widgets.dropdown("a", ["a", "b"], "Model"),
    )
    assert calls == [(0.3, "a")]
    assert len(shown) == 1 and isinstance(shown[0], pd.DataFrame)
    assert not any(isinstance(s, ipywidgets.Widget) for s in shown)


def test_explore_does_not_display_matplotlib_return_values(monkeypatch, shown):
    monkeypatch.setenv(widgets.STATIC_ENV, "1")
    widgets.explore(lambda k: plt.plot([0, 1], [0, k]), k=2.0)
    assert shown == []


def test_explore_is_a_live_widget_in_jupyter(monkeypatch, shown):
    monkeypatch.delenv(widgets.STATIC_ENV, raising=False)
    assert not widgets.is_static()
    widgets.explore(lambda margin: None, margin=widgets.slider(0.3, 0.05, 0.8, 0.05, "m"))
    assert len(shown) == 1 and isinstance(shown[0], ipywidgets.interactive)
    monkeypatch.setenv(widgets.STATIC_ENV, "0")
    assert not widgets.is_static()
