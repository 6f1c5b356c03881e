"""Helpers a notebook calls so that its rendered report is clean and useful.

* :func:`setup` - plot style and display options, first thing in every notebook;
* :func:`export` - write a table behind the report (CSV and Excel) for a client;
* :func:`executive_summary` - the computed key points, moved to the top of the report.

The renderer (``crmlab report``) sets ``CRMLAB_EXPORT_DIR`` so exports land
beside the report; run interactively, they land in ``reports/tables/``.
"""

from __future__ import annotations

import html
import os
from pathlib import Path

import pandas as pd
from IPython.display import HTML, display

EXPORT_ENV = "CRMLAB_EXPORT_DIR"
SUMMARY_CLASS = "crmlab-summary"


def setup() -> None:
    """Apply crmlab's plot style and pandas display options."""
    from crmlab import plots

    plots.use_style()
    pd.set_option("display.max_columns", 30)
    pd.set_option("display.width", 120)
    pd.set_option("display.float_format", _number)


def _number(value: float) -> str:
    """Tables show 4 significant digits, thousands separated, never 1.917e+04."""
    if value != value or value in (float("inf"), float("-inf")):
        return str(value)
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if value != 0 and abs(value) < 1e-4:
        return f"{value:.2e}"
    return f"{value:,.4g}"


def export_dir() -> Path:
    """Where :func:`export` writes (``$CRMLAB_EXPORT_DIR`` or ``reports/tables``)."""
    env = os.environ.get(EXPORT_ENV)
    return Path(env) if env else Path(__file__).resolve().parents[1] / "reports" / "tables"


def export(table: pd.DataFrame, name: str, *, index: bool = True) -> list[Path]:
    """Write ``table`` as ``<name>.csv`` and ``<name>.xlsx`` for the people who act on it.

    Parameters
    ----------
    table : DataFrame
        For instance every customer with their segment or CLV.
    name : str
        File stem, e.g. ``"customers_clv"``.
    index : bool
        Whether to write the index (customer ids usually are the index).

    Returns
    -------
    list of Path
        The files written.
    """
    folder = export_dir()
    folder.mkdir(parents=True, exist_ok=True)
    csv, xlsx = folder / f"{name}.csv", folder / f"{name}.xlsx"
    table.to_csv(csv, index=index)
    frame = table.copy()
    for col in frame.select_dtypes(include=["datetimetz"]).columns:
        frame[col] = frame[col].dt.tz_localize(None)
    frame.to_excel(xlsx, index=index, sheet_name=name[:31])
    display(
        HTML(
            f"<p><em>Exported {len(table):,} rows: <code>{html.escape(csv.name)}</code>, "
            f"<code>{html.escape(xlsx.name)}</code>.</em></p>"
        )
    )
    return [csv, xlsx]


def executive_summary(points: list[str], title: str = "Executive summary") -> None:
    """Show the report's key findings; the renderer moves this block to the top.

    Each point should be a sentence whose numbers come from crmlab results
    (format them in the notebook, e.g. ``f"{share:.0%} of customers ..."``).
    Markdown-style ``**bold**`` is not interpreted; pass plain text.
    """
    items = "".join(f"<li>{html.escape(p)}</li>" for p in points)
    display(
        HTML(f'<div class="{SUMMARY_CLASS}"><h2>{html.escape(title)}</h2><ul>{items}</ul></div>')
    )
