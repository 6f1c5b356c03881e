"""Alt text travels from a figure to the PNG output's metadata (crmlab/plots/alt.py)."""

from __future__ import annotations

from functools import partial

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from IPython.core.formatters import DisplayFormatter  # noqa: E402
from IPython.core.pylabtools import print_figure  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from crmlab.plots import alt  # noqa: E402


class Shell:
    """The part of an IPython shell that displays objects."""

    def __init__(self):
        self.display_formatter = DisplayFormatter()
        png = self.display_formatter.formatters["image/png"]
        png.for_type(Figure, partial(print_figure, fmt="png", base64=True))


def test_describe_stores_and_appends():
    fig, ax = plt.subplots()
    assert alt.alt_text(ax) == ""
    assert alt.describe(ax, "A line\n  rising.") is ax
    alt.describe(fig, "Second sentence.")
    assert alt.alt_text(fig) == "A line rising. Second sentence."
    alt.describe(ax, "Only this.", replace=True)
    assert alt.alt_text(ax) == "Only this."
    plt.close(fig)


def test_png_output_carries_the_alt_text(monkeypatch):
    shell = Shell()
    monkeypatch.setattr("IPython.get_ipython", lambda: shell)
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    alt.describe(ax, "A diagonal line.")
    data, metadata = shell.display_formatter.format(fig)
    assert data["image/png"]
    assert metadata["image/png"] == {"alt": "A diagonal line."}
    alt.describe(ax, "Again.")  # installing twice does not wrap twice
    _, metadata = shell.display_formatter.format(fig)
    assert metadata["image/png"] == {"alt": "A diagonal line. Again."}
    plain, _ = plt.subplots()
    data, metadata = shell.display_formatter.format(plain)  # no description: no metadata
    assert data["image/png"] and "image/png" not in metadata
    plt.close("all")
