"""Plots of loyalty versus profit: quadrants, group bars, sensitivity, survival, truth checks.

Each function draws a result of :func:`crmlab.studies.loyalty_profit` (its
``customers``, ``splits``, ``segments``, ``sensitivity``, ``survival``,
``profit_by_tenure`` or ``association`` frames) or of
:func:`crmlab.studies.simulation_check`, computes no number of its own, and gives its
figure an alt text (:func:`crmlab.plots.alt.describe`) stating what it shows.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from crmlab.plots.alt import describe

ONE_TIME = "One-time buyers"
SEGMENT_ORDER = ["Strangers", "Butterflies", "Barnacles", "True Friends"]
GROUP_ORDER = [ONE_TIME, *SEGMENT_ORDER]


def _colors() -> dict[str, tuple]:
    palette = sns.color_palette("colorblind", 10)
    return {
        ONE_TIME: palette[4],
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
    title: str = "Lifetime versus profit: one-time buyers and four kinds of repeat buyers",
) -> Axes:
    """Scatter of lifetime (weeks) against profit, coloured by group, with the cuts.

    One-time buyers (all sharing one estimated lifetime when their end was observed)
    are drawn as their own group, and the tie is marked by a labelled vertical line; the
    dashed cuts apply to the customers the quadrants were cut among (``splits.among``).
    Censored customers (still alive at the end of observation) are open circles. With
    many customers a seeded random subset of ``max_points`` is drawn (the title says so).
    ``symlog`` puts profit on a symmetric log scale so losses and large profits both show.
    """
    ax = _ax(ax)
    colors = _colors()
    data = customers
    if len(data) > max_points:
        data = data.sample(max_points, random_state=seed)
    rng = np.random.default_rng(seed)
    span = float(np.ptp(customers["lifetime"])) or 1.0
    jitter = rng.uniform(-0.004, 0.004, len(data)) * span
    groups = [g for g in GROUP_ORDER if (customers["segment"] == g).any()]
    for name in groups:
        part = data["segment"] == name
        for censored in (False, True):
            sel = part & (data["censored"] == censored)
            if not sel.any():
                continue
            ax.scatter(
                data.loc[sel, "lifetime"] + jitter[sel.to_numpy()],
                data.loc[sel, "profit"],
                s=9,
                alpha=0.45,
                facecolors="none" if censored else colors[name],
                edgecolors=colors[name],
                linewidths=0.6,
                label=f"{name}{' (censored)' if censored else ''}",
            )
    one = customers[customers["segment"] == ONE_TIME]
    tie_text = ""
    if len(one):
        counts = one["lifetime"].value_counts()
        tie, tied = float(counts.index[0]), int(counts.iloc[0])
        ax.axvline(tie, color=colors[ONE_TIME], lw=1.2, ls=":")
        ax.annotate(
            f"{tied:,} one-time buyers\ntied at {tie:.1f} weeks",
            xy=(tie, 0.5),
            xycoords=("data", "axes fraction"),
            xytext=(4, 0),
            textcoords="offset points",
            fontsize=8,
            color=colors[ONE_TIME],
        )
        tie_text = f" {tied:,} one-time buyers share one lifetime of {tie:.1f} weeks."
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
    ax.set_title(f"{title}{shown}")
    ax.legend(loc="upper center", fontsize=7, ncol=3, markerscale=1.5)
    among = splits["among"].iloc[0] if "among" in splits else "all customers"
    return describe(
        ax,
        f"Scatter of {len(customers):,} customers' estimated lifetime against profit.{tie_text} "
        f"Among {among} the cuts are at {cuts['lifetime']:.1f} weeks and "
        f"{currency}{cuts['profit']:,.2f} of profit.",
    )


def segment_shares(segments: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Share of customers, revenue and profit of each group (grouped bars)."""
    ax = _ax(ax)
    order = [g for g in GROUP_ORDER if g in set(segments["segment"])]
    table = segments.set_index("segment").reindex(order)
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
    ax.set_xlabel("Group")
    ax.set_title("Who brings the customers, the revenue and the profit")
    ax.legend()
    parts = [
        f"{name}: {row.customers:.0%} of customers, {row.profit:.0%} of profit"
        for name, row in shares.iterrows()
    ]
    return describe(ax, f"Bars of each group's shares: {'; '.join(parts)}.")


def sensitivity(
    table: pd.DataFrame,
    *,
    margin: float,
    hbr: pd.DataFrame | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Pearson r of lifetime and profit across P(alive) thresholds at one margin.

    One colour per marketing cost per week; solid lines are repeat buyers, dashed lines
    all customers (one-time buyers included). ``hbr`` shades the range Reinartz & Kumar
    report for four companies.
    """
    ax = _ax(ax)
    if hbr is not None and len(hbr):
        lo, hi = float(hbr["correlation"].min()), float(hbr["correlation"].max())
        ax.axhspan(lo, hi, color="0.88", label=f"HBR 2002 range ({lo:.2f}-{hi:.2f})")
    part = table[np.isclose(table["margin"], margin)]
    palette = sns.color_palette("colorblind", 8)
    for i, (cost, rows) in enumerate(part.groupby("marketing_cost_per_week", sort=True)):
        rows = rows.sort_values("alive_threshold")
        color = palette[i % len(palette)]
        ax.plot(
            rows["alive_threshold"],
            rows["pearson_repeat"],
            marker="o",
            color=color,
            label=f"repeat buyers, marketing ${cost:.2f}/week",
        )
        ax.plot(
            rows["alive_threshold"],
            rows["pearson_all"],
            marker="s",
            ls="--",
            color=color,
            label=f"all customers, marketing ${cost:.2f}/week",
        )
    ax.axhline(0, color="0.3", lw=0.8)
    ax.set_xlabel("P(alive) threshold below which a customer counts as gone")
    ax.set_ylabel("Pearson correlation, lifetime vs profit")
    ax.set_title(
        f"How the answer depends on the threshold and the marketing cost ({margin:.0%} margin)"
    )
    ax.legend(fontsize=7, ncol=2)
    return describe(
        ax,
        f"Lines of the correlation over thresholds {part['alive_threshold'].min():g} to "
        f"{part['alive_threshold'].max():g}: repeat buyers from "
        f"{part['pearson_repeat'].min():.2f} to {part['pearson_repeat'].max():.2f}, all "
        f"customers from {part['pearson_all'].min():.2f} to {part['pearson_all'].max():.2f}.",
    )


def survival(
    curves: pd.DataFrame,
    *,
    ax: Axes | None = None,
    title: str = "Kaplan-Meier lifetimes of repeat buyers by profit group",
) -> Axes:
    """Kaplan-Meier curves of lifetime for each profit group (censoring respected)."""
    ax = _ax(ax)
    ends = []
    for label, part in curves.groupby("group", sort=True):
        ax.step(part["time"], part["survival"], where="post", label=str(label))
        ends.append(f"{label} ends at {part['survival'].iloc[-1]:.0%}")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("Weeks since first purchase")
    ax.set_ylabel("Share still counted as alive")
    ax.set_title(title)
    ax.legend()
    return describe(ax, f"Step curves of the share still counted alive: {'; '.join(ends)}.")


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
            label=f"{label}-life repeat buyers",
        )
    ax.axhline(0, color="0.3", lw=0.8)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(
        f"Tenure period ({tenure_period:g} weeks each; 0 = the period of the first order)"
    )
    ax.set_ylabel(f"Mean profit per customer in the period ({currency})")
    ax.set_title("Do long-life customers become more profitable over time?")
    ax.legend()
    return describe(
        ax, "Mean profit per tenure period with 95% intervals for short- and long-life buyers."
    )


def correlation_comparison(
    association: pd.DataFrame,
    hbr: pd.DataFrame,
    *,
    statistics: tuple[str, ...] = ("pearson", "pearson_true_lifetime"),
    samples: tuple[str, ...] = ("repeat buyers", "all customers"),
    ax: Axes | None = None,
) -> Axes:
    """This study's correlations (with intervals) beside the HBR 2002 companies'."""
    ax = _ax(ax, (8, 4.2))
    keep = association["statistic"].isin(statistics) & association["sample"].isin(samples)
    rows = association[keep]
    names = {"pearson": "threshold lifetime", "pearson_true_lifetime": "drawn true lifetime"}
    labels = list(hbr["company"]) + [
        f"{s}: {names.get(st, st)}" for st, s in zip(rows["statistic"], rows["sample"], strict=True)
    ]
    y = np.arange(len(labels))
    palette = sns.color_palette("colorblind", 2)
    ax.scatter(
        hbr["correlation"], y[: len(hbr)], color=palette[0], label="Reinartz & Kumar (HBR 2002)"
    )
    ax.errorbar(
        rows["estimate"],
        y[len(hbr) :],
        xerr=[rows["estimate"] - rows["lower"], rows["upper"] - rows["estimate"]],
        fmt="o",
        color=palette[1],
        capsize=3,
        label="this study (95% interval, model refitted per resample)",
    )
    ax.set_yticks(y, labels)
    ax.axvline(0, color="0.3", lw=0.8)
    ax.set_xlim(min(-0.05, float(np.nanmin(rows["lower"])) - 0.05), 1)
    ax.set_xlabel("Correlation of customer lifetime and profit")
    ax.set_ylabel("Company or sample")
    ax.set_title("Lifetime-profit correlation: this cohort beside the published ones")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=2, fontsize=8)
    parts = [
        f"{lab} {est:.2f}" for lab, est in zip(labels[len(hbr) :], rows["estimate"], strict=True)
    ]
    return describe(ax, f"Dots with intervals: {'; '.join(parts)}; HBR companies 0.20 to 0.45.")


def simulation_check(table: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Truth against both intervals in each simulated world (a row of
    :attr:`crmlab.studies.SimulationCheck.table` per world, seed and sample)."""
    ax = _ax(ax, (8, 1.2 + 0.9 * len(table)))
    palette = sns.color_palette("colorblind", 3)
    y = np.arange(len(table))
    labels = [
        f"{w}, seed {s}: {smp}"
        for w, s, smp in zip(table["world"], table["seed"], table["sample"], strict=True)
    ]
    for offset, (est, lo, hi, color, name) in enumerate(
        (
            ("estimated_pearson", "lower", "upper", palette[1], "threshold lifetimes"),
            (
                "imputed_pearson",
                "imputed_lower",
                "imputed_upper",
                palette[2],
                "drawn true lifetimes",
            ),
        )
    ):
        ax.errorbar(
            table[est],
            y + (offset - 0.5) * 0.25,
            xerr=[table[est] - table[lo], table[hi] - table[est]],
            fmt="o",
            capsize=3,
            color=color,
            label=f"estimate and interval: {name}",
        )
    ax.scatter(table["true_pearson"], y, marker="x", s=60, color="black", zorder=3, label="truth")
    ax.set_yticks(y, labels)
    ax.axvline(0, color="0.3", lw=0.8)
    ax.set_xlabel("Correlation of lifetime and profit (simulated)")
    ax.set_ylabel("Simulated world and sample")
    ax.set_title("Simulated retailers, same cost model: do the intervals cover the truth?")
    ax.legend(fontsize=8, loc="best")
    parts = [
        f"{lab}: truth {t:.2f}, threshold {e:.2f}, drawn {i:.2f}"
        for lab, t, e, i in zip(
            labels,
            table["true_pearson"],
            table["estimated_pearson"],
            table["imputed_pearson"],
            strict=True,
        )
    ]
    return describe(ax, f"Simulated check. {'; '.join(parts)}.")


def simulated_quadrants(studies: dict[Any, tuple[Any, Any]], *, seed: int = 0) -> Figure:
    """Quadrant pictures of the first simulated cohort of each world, side by side."""
    first: dict[str, Any] = {}
    for (world, _), (result, _) in studies.items():
        first.setdefault(world, result)
    fig, axes = plt.subplots(1, len(first), figsize=(7.5 * len(first), 5.5), squeeze=False)
    for ax, (world, result) in zip(axes[0], first.items(), strict=True):
        quadrants(
            result.customers, result.splits, ax=ax, seed=seed, title=f"Simulated retailer, {world}"
        )
    fig.tight_layout()
    return fig


def what_if(
    result: Any,
    transactions: pd.DataFrame,
    alive_threshold: float,
    margin: float,
    marketing_cost_per_week: float,
) -> Axes:
    """Rerun the study at other assumptions (same fitted model, no bootstrap) and draw its
    quadrants; for :func:`crmlab.widgets.explore` sliders."""
    from crmlab.studies.loyalty_profit import rerun

    res = rerun(
        result,
        transactions,
        alive_threshold=alive_threshold,
        margin=margin,
        marketing_cost_per_week=marketing_cost_per_week,
    )
    ax = quadrants(res.customers, res.splits, seed=int(result.settings["seed"]))
    r = res.statistic("pearson")
    ax.set_title(
        f"Threshold {alive_threshold:.2f}, margin {margin:.0%}, marketing "
        f"${marketing_cost_per_week:.2f}/week: r among {r['sample']} = {r.estimate:.2f}"
    )
    return ax
