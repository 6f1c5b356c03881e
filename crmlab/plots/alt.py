"""Alt text for figures: a sentence saying what a picture shows, carried into the report.

Jupyter shows a matplotlib figure as a PNG through IPython's display formatter, and
nbconvert writes an output's ``alt`` metadata as the ``<img alt="...">`` of the report
(without it, nbconvert writes "No description has been provided for this image").
:func:`describe` stores the sentence on the figure and makes sure the PNG formatter of
the running IPython hands it over as that metadata; outside IPython it only stores it.

Plot functions call ``describe(ax, "...")`` with a sentence built from the table they
draw, so the description states the same numbers as the picture.
"""

from __future__ import annotations

from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure

ATTRIBUTE = "crmlab_alt"


def _figure(target: Axes | Figure) -> Figure:
    figure = target if isinstance(target, Figure) else target.get_figure(root=True)
    if figure is None:
        raise TypeError(f"cannot describe {type(target).__name__}: it is not on a figure")
    return figure


def describe(target: Axes | Figure, text: str, *, replace: bool = False) -> Axes | Figure:
    """Give the figure of ``target`` an alt text (appended to one it has, unless ``replace``).

    Parameters
    ----------
    target : Axes or Figure
        What a plot function drew on.
    text : str
        What the figure shows, in words and with its main numbers.
    replace : bool
        Replace the figure's description instead of adding a sentence to it (figures
        that several plot calls draw on collect one sentence each).

    Returns
    -------
    Axes or Figure
        ``target``, so a plot function can ``return describe(ax, ...)``.
    """
    figure = _figure(target)
    text = " ".join(str(text).split())
    old = getattr(figure, ATTRIBUTE, "")
    setattr(figure, ATTRIBUTE, text if replace or not old else f"{old} {text}")
    _install_formatter()
    return target


def alt_text(target: Axes | Figure) -> str:
    """The alt text stored on ``target``'s figure ("" if none)."""
    return getattr(_figure(target), ATTRIBUTE, "")


def _install_formatter() -> None:
    """Wrap IPython's PNG printer for figures so it returns ``(png, {"alt": text})``."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency of the kit
        return
    shell = get_ipython()
    if shell is None:
        return
    formatter = shell.display_formatter.formatters["image/png"]
    try:
        printer = formatter.lookup_by_type(Figure)
    except KeyError:
        return
    if getattr(printer, "_crmlab_alt", False):
        return

    def with_alt(figure: Figure, *args: Any, **kwargs: Any) -> Any:
        data = printer(figure, *args, **kwargs)
        text = getattr(figure, ATTRIBUTE, "")
        if data is None or not text or isinstance(data, tuple):
            return data
        return data, {"alt": text}

    with_alt._crmlab_alt = True  # type: ignore[attr-defined]
    formatter.for_type(Figure, with_alt)
