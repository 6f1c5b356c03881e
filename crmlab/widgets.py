"""Interactive explorers that fall back to a static picture when run headless.

In JupyterLab, :func:`explore` shows sliders and redraws a figure as they move.
When a notebook is executed without a front end (papermill, ``crmlab report``,
the test-suite), it draws the figure once at the sliders' current values, so a
report shows a real picture instead of a dead widget. Widgets never compute
numbers of their own: ``draw`` calls tested ``crmlab`` functions.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import ipywidgets
import matplotlib.pyplot as plt
from IPython.display import display

from crmlab.report.names import STATIC_ENV


def is_static() -> bool:
    """True when the notebook runs without a live front end (set by ``crmlab report``)."""
    return os.environ.get(STATIC_ENV, "") not in ("", "0")


def slider(value: float, low: float, high: float, step: float, description: str) -> Any:
    """A float slider with a readable label (integers give an IntSlider)."""
    kind = (
        ipywidgets.IntSlider
        if all(isinstance(v, int) for v in (value, low, high, step))
        else ipywidgets.FloatSlider
    )
    return kind(
        value=value,
        min=low,
        max=high,
        step=step,
        description=description,
        continuous_update=False,
        style={"description_width": "initial"},
        layout=ipywidgets.Layout(width="420px"),
    )


def dropdown(value: Any, options: list[Any], description: str) -> Any:
    """A drop-down choice."""
    return ipywidgets.Dropdown(
        value=value,
        options=options,
        description=description,
        style={"description_width": "initial"},
    )


def _current(control: Any) -> Any:
    return control.value if isinstance(control, ipywidgets.ValueWidget) else control


def _displayable(result: Any) -> bool:
    """Tables and rich objects are shown; matplotlib artists and lists of them are not."""
    if result is None or isinstance(result, plt.Figure | plt.Axes | list | tuple):
        return False
    return any(
        hasattr(result, attr) for attr in ("_repr_html_", "_repr_markdown_", "_repr_png_")
    ) or isinstance(result, str | int | float)


def explore(draw: Callable[..., Any], **controls: Any) -> None:
    """Show ``draw(**values)`` with a control for each keyword.

    Parameters
    ----------
    draw : callable
        Draws a figure (matplotlib) and/or returns something to display, from
        keyword arguments named like ``controls``.
    **controls
        ipywidgets controls (see :func:`slider`, :func:`dropdown`) or fixed values.
    """
    if is_static():
        result = draw(**{name: _current(c) for name, c in controls.items()})
        if _displayable(result):
            display(result)
        plt.show()
        return

    def shown(**values: Any) -> Any:
        result = draw(**values)
        if _displayable(result):
            return result
        plt.show()
        return None

    widget = ipywidgets.interactive(shown, **controls)
    display(widget)
