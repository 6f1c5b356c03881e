"""Plots of loyalty versus profit: lifetime-profit quadrants, segment bars, sensitivity.

Each function draws a result of :func:`crmlab.studies.loyalty_profit` (its
``customers``, ``splits``, ``segments``, ``sensitivity``, ``survival``,
``profit_by_tenure`` or ``association`` frames) and computes no number of its own.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator

SEGMENT_ORDER = ["Strangers", "Butterflies", "Barnacles", "True Friends"]


def _colors() -> dict[str, tuple]:
    palette = sns.color_palette("colorblind", 10)
    return {
        "Strangers": palette[7],
        "Butterflies": palette[1],
        "Barnacles": palette[0],
        "True Friends": palette[2],
    }


def _ax(ax: Axes | None, size: tuple[float, float] = (8, 5)) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=size)
    return ax


def quadrants(
    customers: pd.DataFrame,
    splits: pd.DataFrame,
    *,
    ax: Axes | None = None,
    currency: str = "$",
    max_points: int = 20000,
    seed: int = 0,
    symlog: bool = True,
) -> Axes:
    """Scatter of lifetime (weeks) against profit, coloured by segment, with the cuts.

    Censored customers (still alive at the end of observation) are drawn as open
    circles. With many customers a seeded random subset of ``max_points`` is
    drawn (the title says so). ``symlog`` puts profit on a symmetric log scale
    so losses and large profits are both visible.
    """
    ax = _ax(ax)
    colors = _colors()
    data = customers
    if len(data) > max_points:
        data = data.sample(max_points, random_state=seed)
    rng = np.random.default_rng(seed)
    # a little horizontal jitter separates customers tied at the same lifetime
    span = float(np.ptp(customers["lifetime"])) or 1.0
    jitter = rng.uniform(-0.004, 0.004, len(data)) * span
    for name in SEGMENT_ORDER:
        part = data["segment"] == name
        for censored, marker in ((False, "o"), (True, "o")):
            sel = part & (data["censored"] == censored)
            if not sel.any():
                continue
            ax.scatter(
                data.loc[sel, "lifetime"] + jitter[sel.to_numpy()],
                data.loc[sel, "profit"],
                s=9,
                alpha=0.45,
                marker=marker,
                facecolors="none" if censored else colors[name],
                edgecolors=colors[name],
                linewidths=0.6,
                label=f"{name}{' (censored)' if censored else ''}",
            )
    cuts = splits.set_index("dimension")["cut"]
    ax.axvline(cuts["lifetime"], color="0.25", lw=1, ls="--")
    ax.axhline(cuts["profit"], color="0.25", lw=1, ls="--")
    corners = {
        "Strangers": (0.02, 0.04, "left", "bottom"),
        "Butterflies": (0.02, 0.80, "left", "top"),
        "Barnacles": (0.98, 0.04, "right", "bottom"),
        "True Friends": (0.98, 0.96, "right", "top"),
    }
    for name, (x, y, ha, va) in corners.items():
        ax.text(
            x,
            y,
            name,
            transform=ax.transAxes,
            ha=ha,
            va=va,
            fontsize=11,
            fontweight="bold",
            color=colors[name],
            bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none"},
        )
    if symlog:
        ax.set_yscale("symlog", linthresh=10)
    ax.set_xlabel("Estimated lifetime (weeks since first purchase)")
    ax.set_ylabel(f"Profit per customer ({currency}{', symmetric log scale' if symlog else ''})")
    shown = "" if len(data) == len(customers) else f" (random {len(data):,} of {len(customers):,})"
    ax.set_title(f"Lifetime versus profit: four kinds of customers{shown}")
    ax.legend(loc="upper center", fontsize=8, ncol=2, markerscale=1.5)
    return ax


def segment_shares(segments: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Share of customers, revenue and profit of each segment (grouped bars)."""
    ax = _ax(ax)
    table = segments.set_index("segment").reindex(SEGMENT_ORDER)
    shares = table[["share_customers", "share_revenue", "share_profit"]].rename(
        columns={
            "share_customers": "customers",
            "share_revenue": "revenue",
            "share_profit": "profit",
        }
    )
    x = np.arange(len(shares))
    width = 0.26
    for i, col in enumerate(shares.columns):
        ax.bar(x + (i - 1) * width, 100 * shares[col], width, label=f"share of {col}")
    ax.axhline(0, color="0.3", lw=0.8)
    ax.set_xticks(x, shares.index)
    ax.set_ylabel("Share of the cohort total (%)")
    ax.set_xlabel("Segment")
    ax.set_title("Who brings the customers, the revenue and the profit")
    ax.legend()
    return ax


def sensitivity(
    table: pd.DataFrame,
    *,
    statistic: str = "pearson",
    hbr: pd.DataFrame | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Correlation of lifetime and profit across P(alive) thresholds, one line per margin.

    ``hbr`` (e.g. ``crmlab.studies.HBR_CORRELATIONS``) shades the range of the
    correlations Reinartz & Kumar report for four companies.
    """
    ax = _ax(ax)
    if hbr is not None and len(hbr):
        lo, hi = float(hbr["correlation"].min()), float(hbr["correlation"].max())
        ax.axhspan(lo, hi, color="0.85", label=f"HBR 2002 range ({lo:.2f}-{hi:.2f})")
    margins = table["margin"].unique()
    for m in margins:
        part = table[table["margin"] == m] if not pd.isna(m) else table[table["margin"].isna()]
        label = "recorded costs" if pd.isna(m) else f"margin {m:.0%}"
        ax.plot(part["alive_threshold"], part[statistic], marker="o", label=label)
    ax.axhline(0, color="0.3", lw=0.8)
    ax.set_xlabel("P(alive) threshold below which a customer counts as gone")
    ax.set_ylabel(f"{statistic.capitalize()} correlation, lifetime vs profit")
    ax.set_title("How the answer depends on the assumptions")
    ax.legend()
    return ax


def survival(curves: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Kaplan-Meier curves of lifetime for each profit group (censoring respected)."""
    ax = _ax(ax)
    for label, part in curves.groupby("group", sort=True):
        ax.step(part["time"], part["survival"], where="post", label=str(label))
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("Weeks since first purchase")
    ax.set_ylabel("Share still counted as alive")
    ax.set_title("Kaplan-Meier lifetimes by profit group")
    ax.legend()
    return ax


def profit_by_tenure(
    table: pd.DataFrame, *, tenure_period: float = 13.0, currency: str = "$", ax: Axes | None = None
) -> Axes:
    """Mean profit per tenure period (95% normal intervals) for short- and long-life customers."""
    ax = _ax(ax)
    for label, part in table.groupby("lifetime_group", sort=False):
        err = 1.96 * part["se_profit"].fillna(0)
        ax.errorbar(
            part["tenure_period"],
            part["mean_profit"],
            yerr=err,
            marker="o",
            capsize=3,
            label=f"{label}-life customers",
        )
    ax.axhline(0, color="0.3", lw=0.8)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(
        f"Tenure period ({tenure_period:g} weeks each; 0 = the period of the first order)"
    )
    ax.set_ylabel(f"Mean profit per customer in the period ({currency})")
    ax.set_title("Do long-life customers become more profitable over time?")
    ax.legend()
    return ax


def correlation_comparison(
    association: pd.DataFrame,
    hbr: pd.DataFrame,
    *,
    label: str = "this study",
    ax: Axes | None = None,
) -> Axes:
    """This study's Pearson correlation (with interval) beside the HBR 2002 companies'."""
    ax = _ax(ax, (8, 3.8))
    rows = association[association["statistic"] == "pearson"]
    names = list(hbr["company"]) + [f"{label}: {s}" for s in rows["sample"]]
    values = list(hbr["correlation"]) + list(rows["estimate"])
    y = np.arange(len(names))
    palette = sns.color_palette("colorblind", 2)
    ax.scatter(
        values[: len(hbr)], y[: len(hbr)], color=palette[0], label="Reinartz & Kumar (HBR 2002)"
    )
    ours = y[len(hbr) :]
    ax.errorbar(
        rows["estimate"],
        ours,
        xerr=[rows["estimate"] - rows["lower"], rows["upper"] - rows["estimate"]],
        fmt="o",
        color=palette[1],
        capsize=3,
        label="this study (95% bootstrap interval)",
    )
    ax.set_yticks(y, names)
    ax.axvline(0, color="0.3", lw=0.8)
    ax.set_xlim(min(-0.05, float(np.nanmin(rows["lower"])) - 0.05), 1)
    ax.set_xlabel("Correlation of customer lifetime and profit")
    ax.set_ylabel("Company or sample")
    ax.set_title("Lifetime-profit correlation: this cohort beside the published ones")
    ax.legend(loc="lower right", fontsize=8)
    return ax
