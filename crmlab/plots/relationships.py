"""Plots of relationship breadth, cross-buying, defection reasons,
delivered value, recommendations and data quality.

Each function draws a table returned by ``crmlab.relationships``,
``crmlab.defection``, ``crmlab.delivered_value``, ``crmlab.integration`` or
``crmlab.recommend``; none computes a number a report states. Each figure carries an
alt text (:func:`crmlab.plots.alt.describe`) saying what it shows. Money is in
dollars ("$"). The ``*_explorer`` functions return the drawing callback that
:func:`crmlab.widgets.explore` calls when a slider moves.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes

from crmlab.plots.alt import describe


def _dollars(value: float) -> str:
    """A signed amount as "+$20" or "-$24"."""
    return f"{'-' if value < 0 else '+'}${abs(value):,.0f}"


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
    names = ", ".join(fits or {}) or "no fitted curve"
    return describe(
        ax,
        f"Retention rate (0-100%) against {xlabel.lower()} ({x.min():g} to {x.max():g}): "
        f"observed rates as points with 95% Wilson intervals, from {r.min():.0%} to "
        f"{r.max():.0%}, and fitted curves with 95% bands: {names}.",
    )


def cross_buying(table: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Mean value (bars, left axis) and retention (line with Wilson band, right axis)
    by number of product lines; ``table`` from :func:`crmlab.relationships.cross_buying`.
    """
    ax = _ax(ax)
    x = table.index.to_numpy()
    ax.bar(x, table["mean_value"], color=sns.color_palette()[0], alpha=0.7, label="mean value")
    ax.set_xlabel("Product lines bought")
    ax.set_ylabel("Mean customer value ($ a year)")
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
    return describe(
        ax,
        f"Bars: mean customer value in dollars for customers buying {x.min()} to {x.max()} "
        f"product lines, from ${table['mean_value'].min():,.0f} to "
        f"${table['mean_value'].max():,.0f}; line with band: retention rate with its 95% "
        f"Wilson interval, from {table['retention'].min():.0%} to "
        f"{table['retention'].max():.0%}. Groups: "
        + ", ".join(f"{i} lines: n = {n:,}" for i, n in table["customers"].items())
        + ".",
    )


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
        ax.legend(loc="lower right", title=by)
    if by is None:
        what = ", ".join(
            f"{r} {v:.0%}" for r, v in zip(shares["reason"], shares["share"], strict=True)
        )
    else:
        what = "; ".join(
            f"{g}: "
            + ", ".join(f"{r} {v:.0%}" for r, v in zip(p["reason"], p["share"], strict=True))
            for g, p in shares.groupby(by, sort=False)
        )
    claim = (
        f" A dashed line marks the claimed share of {claimed:.0%}." if claimed is not None else ""
    )
    return describe(
        ax,
        f"Horizontal bars: share of former customers naming each main reason for leaving, "
        f"with 95% Wilson intervals; {what}.{claim}",
    )


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
    ax.set_ylabel("$ per purchase (money-equivalent)")
    ax.set_xlabel("Offer")
    ax.set_title("Customer delivered value = total value - total cost")
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=9)
    return describe(
        ax,
        "Stacked bars per offer: value components (product, service, personnel, image) "
        "upward and cost components (money, time, energy, psychic) downward, in dollars per "
        "purchase; diamonds mark delivered value: "
        + ", ".join(f"{i} ${v:,.0f}" for i, v in table["delivered_value"].items())
        + ".",
    )


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
    ax.set_xlabel("Delivered value minus best rival's ($ per purchase)")
    ax.set_title(f"What moves the edge{' of ' + offer if offer else ''}")
    ax.legend(loc="lower right", fontsize=9)
    return describe(
        ax,
        f"Tornado chart: {offer or 'the offer'}'s edge over the best rival (now "
        f"{_dollars(base)}) when each component is lowered or raised, longest bar first: "
        + ", ".join(
            f"{i} {_dollars(a)} to {_dollars(b)}"
            for i, a, b in zip(sens.index, lo, hi, strict=True)
        )
        + ". A dashed line marks a tie with the best rival.",
    )


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
    ax.set_title("The learning relationship: hit rate by purchases known")
    ax.legend(title="method")
    return describe(
        ax,
        f"Hit rate at {k} (share of test customers whose next new category is among the "
        "recommendations) against the number of past purchases known, one line per method "
        "with its 95% Wilson band: "
        + "; ".join(
            f"{m} {part['hit_rate'].iloc[0]:.0%} to {part['hit_rate'].iloc[-1]:.0%}"
            for m, part in evaluation.groupby("method", sort=False)
        )
        + ".",
    )


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
    return describe(
        ax,
        "Grouped bars per source system: records, persons after matching and records "
        "matched to nothing: "
        + "; ".join(
            f"{i} {r:,} records, {p:,} persons, {u:,} unmatched"
            for i, r, p, u in zip(q.index, q["records"], q["persons"], q["unmatched"], strict=True)
        )
        + ".",
    )


def claim_power(curve: pd.DataFrame, *, target: float, needed: int, ax: Axes | None = None) -> Axes:
    """Power of the exact test of a claimed share against survey size.

    ``curve`` has columns ``respondents`` and ``power`` (from
    :func:`crmlab.defection.claim_power`); ``needed`` is
    :attr:`crmlab.defection.SampleSize.n`, marked with the target power.
    """
    ax = _ax(ax)
    ax.plot(curve["respondents"], curve["power"], "-", color=sns.color_palette()[0], label="power")
    ax.axhline(target, color="grey", ls="--", lw=1, label=f"target {target:.0%}")
    ax.axvline(needed, color="black", ls=":", lw=1, label=f"n = {needed:,}")
    ax.set_xlabel("Former customers surveyed")
    ax.set_ylabel("Power (chance of rejecting a false claim)")
    ax.yaxis.set_major_formatter(plt.matplotlib.ticker.PercentFormatter(1.0))
    ax.set_ylim(0, 1)
    ax.set_title("How many exit interviews a test of the claim needs")
    ax.legend(loc="lower right")
    return describe(
        ax,
        f"Line: power of the exact binomial test against the number of former customers "
        f"surveyed, {curve['respondents'].min():,} to {curve['respondents'].max():,}; a dashed "
        f"line marks the {target:.0%} target and a dotted line the {needed:,} respondents "
        "from which the power stays above it.",
    )


def knot_explorer(
    customers: pd.DataFrame,
    observed: pd.DataFrame,
    *,
    breadth: str = "n_employees",
    outcome: str = "retained",
):
    """Callback for :func:`crmlab.widgets.explore`: the kinked logit at a chosen knot.

    Returns ``draw(knot)``, which runs :func:`crmlab.relationships.threshold_test` at that
    knot and draws the straight and kinked fits over ``observed``, the LR test in the title.
    """
    from crmlab import relationships

    def draw(knot: int) -> Axes:
        test = relationships.threshold_test(customers, breadth=breadth, outcome=outcome, knot=knot)
        ax = retention_curve(
            observed, {"straight logit": test.linear, f"kinked at {knot}": test.piecewise}
        )
        ax.set_title(f"Kink at {knot}: LR = {test.lr_stat:.1f}, p = {test.p_value:.2g}")
        return describe(
            ax,
            f"The kinked fit at {knot} contacts: likelihood-ratio statistic "
            f"{test.lr_stat:.1f}, p = {test.p_value:.2g}.",
        )

    return draw


def offer_explorer(offers: pd.DataFrame, offer: str):
    """Callback for :func:`crmlab.widgets.explore`: delivered value with ``offer``'s price
    (``money``) and ``service`` value set by sliders.

    Returns ``draw(price, service)``, which draws :func:`delivered_value` of the changed
    offers and returns their table (total value, total cost, delivered value, rank).
    """
    from crmlab import delivered_value as dv

    def draw(price: float, service: float) -> pd.DataFrame:
        changed = offers.copy()
        changed.loc[offer, "money"] = price
        changed.loc[offer, "service"] = service
        table = dv.delivered_value(changed)
        delivered_value(table)
        return table[["total_value", "total_cost", "delivered_value", "rank"]]

    return draw


def hit_rate_explorer(transactions: pd.DataFrame, **evaluate_options: Any):
    """Callback for :func:`crmlab.widgets.explore`: hit rates for ``k`` recommendations.

    Returns ``draw(k)``, which runs :func:`crmlab.recommend.evaluate` with ``k`` and the
    given options (history lengths, test share, seed) and draws :func:`hit_rates`.
    """
    from crmlab import recommend

    def draw(k: int) -> Axes:
        return hit_rates(recommend.evaluate(transactions, k=k, **evaluate_options), k=k)

    return draw
