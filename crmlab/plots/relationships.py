"""Plots of relationship breadth, cross-buying, defection reasons,
delivered value, recommendations and data quality.

Each function draws a table returned by ``crmlab.relationships``,
``crmlab.defection``, ``crmlab.delivered_value``, ``crmlab.integration`` or
``crmlab.recommend``; none computes a number a report states.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes


def _ax(ax: Axes | None) -> Axes:
    return ax if ax is not None else plt.subplots()[1]


def retention_curve(
    observed: pd.DataFrame,
    fits: dict[str, Any] | None = None,
    *,
    xlabel: str = "Distinct employees who served the customer",
    ax: Axes | None = None,
) -> Axes:
    """Observed retention by breadth (Wilson bars) with fitted logit curves and bands.

    ``observed`` is from :func:`crmlab.relationships.retention_by_level`; ``fits`` maps a
    label to a :class:`~crmlab.relationships.BreadthFit`.
    """
    ax = _ax(ax)
    x = observed.index.to_numpy(dtype=float)
    r = observed["retention"].to_numpy()
    ax.errorbar(
        x,
        r,
        yerr=[r - observed["lower"].to_numpy(), observed["upper"].to_numpy() - r],
        fmt="o",
        color="black",
        capsize=3,
        label="observed (95% Wilson)",
        zorder=3,
    )
    colors = sns.color_palette(n_colors=max(3, len(fits or {})))
    for color, (label, fit) in zip(colors, (fits or {}).items(), strict=False):
        c = fit.curve
        ax.plot(c["breadth"], c["retention"], "-", color=color, label=label)
        ax.fill_between(c["breadth"], c["lower"], c["upper"], color=color, alpha=0.15)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("Retention rate")
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_formatter(plt.matplotlib.ticker.PercentFormatter(1.0))
    ax.set_title("Retention against relationship breadth")
    ax.legend(loc="lower right")
    return ax


def cross_buying(table: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Mean value (bars, left axis) and retention (line with Wilson band, right axis)
    by number of product lines; ``table`` from :func:`crmlab.relationships.cross_buying`.
    """
    ax = _ax(ax)
    x = table.index.to_numpy()
    ax.bar(x, table["mean_value"], color=sns.color_palette()[0], alpha=0.7, label="mean value")
    ax.set_xlabel("Product lines bought")
    ax.set_ylabel("Mean customer value (money)")
    ax2 = ax.twinx()
    ax2.plot(x, table["retention"], "o-", color=sns.color_palette()[1], label="retention")
    ax2.fill_between(x, table["lower"], table["upper"], color=sns.color_palette()[1], alpha=0.2)
    ax2.set_ylim(0, 1)
    ax2.set_ylabel("Retention rate")
    ax2.yaxis.set_major_formatter(plt.matplotlib.ticker.PercentFormatter(1.0))
    ax2.grid(False)
    handles = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    ax.legend(handles, ["mean value", "retention (95% Wilson)"], loc="upper left")
    ax.set_title("Cross-buying: value and retention by product lines")
    return ax


def reason_shares(
    shares: pd.DataFrame,
    *,
    by: str | None = None,
    claimed: float | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Horizontal bars of defection-reason shares with Wilson intervals.

    ``shares`` from :func:`crmlab.defection.reason_shares` (grouped bars when ``by``).
    ``claimed`` draws a reference line (e.g. 2/3).
    """
    ax = _ax(ax)
    groups = [None] if by is None else list(pd.unique(shares[by]))
    reasons = list(pd.unique(shares["reason"]))
    height = 0.8 / len(groups)
    colors = sns.color_palette(n_colors=max(3, len(groups)))
    for i, g in enumerate(groups):
        part = shares if g is None else shares[shares[by] == g]
        part = part.set_index("reason").reindex(reasons)
        y = np.arange(len(reasons)) + i * height
        s = part["share"].to_numpy()
        ax.barh(
            y,
            s,
            height=height,
            color=colors[i],
            xerr=[s - part["lower"].to_numpy(), part["upper"].to_numpy() - s],
            capsize=3,
            label=None if g is None else str(g),
        )
    ax.set_yticks(np.arange(len(reasons)) + height * (len(groups) - 1) / 2, reasons)
    ax.invert_yaxis()
    if claimed is not None:
        ax.axvline(claimed, color="black", ls="--", lw=1, label=f"claim: {claimed:.0%}")
    ax.xaxis.set_major_formatter(plt.matplotlib.ticker.PercentFormatter(1.0))
    ax.set_xlabel("Share of former customers (95% Wilson interval)")
    ax.set_ylabel("Main reason for leaving")
    ax.set_title("Why customers leave")
    if by is not None or claimed is not None:
        ax.legend(loc="lower right")
    return ax


def delivered_value(table: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Stacked bars: value components up, cost components down, delivered value marked.

    ``table`` from :func:`crmlab.delivered_value.delivered_value`.
    """
    from crmlab.delivered_value import COST_COMPONENTS, VALUE_COMPONENTS

    ax = _ax(ax)
    x = np.arange(len(table))
    blues = sns.color_palette("Blues", len(VALUE_COMPONENTS) + 1)[1:]
    reds = sns.color_palette("Reds", len(COST_COMPONENTS) + 1)[1:]
    bottom = np.zeros(len(table))
    for col, color in zip(VALUE_COMPONENTS, blues, strict=True):
        ax.bar(x, table[col], bottom=bottom, color=color, label=f"value: {col}")
        bottom += table[col].to_numpy()
    bottom = np.zeros(len(table))
    for col, color in zip(COST_COMPONENTS, reds, strict=True):
        ax.bar(x, -table[col], bottom=bottom, color=color, label=f"cost: {col}")
        bottom -= table[col].to_numpy()
    ax.plot(x, table["delivered_value"], "D", color="black", ms=9, label="delivered value")
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xticks(x, [str(i) for i in table.index])
    ax.set_ylabel("Money-equivalent per purchase")
    ax.set_xlabel("Offer")
    ax.set_title("Customer delivered value = total value - total cost")
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5))
    return ax


def tornado(sens: pd.DataFrame, *, offer: str = "", ax: Axes | None = None) -> Axes:
    """Tornado chart of :func:`crmlab.delivered_value.sensitivity`: the edge over the best
    rival when each component moves down (left colour) or up (right colour).
    """
    ax = _ax(ax)
    y = np.arange(len(sens))
    base = sens["base_edge"].iloc[0]
    lo, hi = sens["edge_low"].to_numpy(), sens["edge_high"].to_numpy()
    c = sns.color_palette()
    ax.barh(y, lo - base, left=base, color=c[0], label="component lowered")
    ax.barh(y, hi - base, left=base, color=c[1], label="component raised")
    ax.axvline(base, color="black", lw=1, label="current edge")
    ax.axvline(0, color="grey", ls="--", lw=1, label="tie with best rival")
    ax.set_yticks(y, [f"{i} ({k})" for i, k in zip(sens.index, sens["kind"], strict=True)])
    ax.invert_yaxis()
    ax.set_xlabel("Delivered value minus best rival's (money-equivalent)")
    ax.set_title(f"What moves the edge{' of ' + offer if offer else ''}")
    ax.legend(loc="lower right", fontsize=9)
    return ax


def hit_rates(evaluation: pd.DataFrame, *, k: int | None = None, ax: Axes | None = None) -> Axes:
    """Hit rate at k against purchases known, per method, with Wilson bands;
    ``evaluation`` from :func:`crmlab.recommend.evaluate`.
    """
    ax = _ax(ax)
    for color, (method, part) in zip(
        sns.color_palette(), evaluation.groupby("method", sort=False), strict=False
    ):
        ax.plot(part["n_history"], part["hit_rate"], "o-", color=color, label=method)
        ax.fill_between(part["n_history"], part["lower"], part["upper"], color=color, alpha=0.15)
    ax.set_xlabel("Past purchases known (length of the relationship)")
    ax.set_ylabel(f"Hit rate at {k}" if k else "Hit rate")
    ax.yaxis.set_major_formatter(plt.matplotlib.ticker.PercentFormatter(1.0))
    ax.set_ylim(0, None)
    ax.set_title("The learning relationship: recommendations improve with history")
    ax.legend(title="method")
    return ax


def matching_funnel(quality: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Records and distinct persons per source, from the single customer view's
    ``quality`` table.
    """
    ax = _ax(ax)
    q = quality
    x = np.arange(len(q))
    w = 0.27
    c = sns.color_palette()
    ax.bar(x - w, q["records"], w, color=c[0], label="records")
    ax.bar(x, q["persons"], w, color=c[1], label="persons after matching")
    ax.bar(x + w, q["unmatched"], w, color=c[2], label="records matched to nothing")
    ax.set_xticks(x, list(q.index))
    ax.set_ylabel("Count")
    ax.set_title("Single customer view: records folded into persons")
    ax.legend()
    return ax
