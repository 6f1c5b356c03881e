"""teach.check never reveals the answer; widgets.explore draws a static figure
when run headless and a live widget otherwise."""

from __future__ import annotations

import ipywidgets
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from crmlab import teach, widgets  # noqa: E402


@pytest.fixture
def shown(monkeypatch):
    """Everything passed to IPython's display, per module."""
    out: list = []
    monkeypatch.setattr(teach, "display", out.append)
    monkeypatch.setattr(widgets, "display", out.append)
    return out


@pytest.mark.parametrize(
    ("answer", "expected", "ok"),
    [
        (0.301, 0.3, True),
        (0.31, 0.3, False),
        (0.0, 0.0, True),
        (0.02, 0.0, False),
        ("  Champions ", "champions", True),
        ("x", 3.0, False),
        (["b", "a"], ["a", "b"], True),
        (["a"], ["a", "b"], False),
        (True, True, True),
        (1, True, True),
        ("a", ["a"], False),
        (float("nan"), 1.0, False),
    ],
)
def test_is_correct(answer, expected, ok):
    assert teach.is_correct(answer, expected, tolerance=0.01) is ok


def test_check_never_prints_the_expected_value(shown):
    assert not teach.check(None, 123.456, name="answer_1")
    assert teach.check(7, 123.456, hint="Average the column.") == False  # noqa: E712
    assert teach.check(123.4, 123.456)
    texts = [m.data for m in shown]
    assert "answer_1" in texts[0] and "Not answered" in texts[0]
    assert "Average the column." in texts[1]
    assert texts[2] == "**Correct.**"
    assert not any("123.45" in t for t in texts)


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


def test_check_result_prints_nothing_as_a_cells_last_value(shown):
    from IPython.core.formatters import DisplayFormatter

    result = teach.check(1.0, 1.0)
    assert bool(result) and result == True  # noqa: E712
    assert hasattr(result, "_ipython_display_") and result._ipython_display_() is None
    assert DisplayFormatter().format(result) == ({}, {})
