"""Plots of market share vs customer share, share of wallet,
Dirichlet benchmarks and double jeopardy.

Each function draws a table returned by :mod:`crmlab.share` and computes no number
of its own.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.ticker import PercentFormatter

from crmlab.plots.alt import describe


def _ax(ax: Axes | None, size: tuple[float, float] = (8, 5)) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=size)
    return ax


def double_jeopardy(
    benchmark: pd.DataFrame,
    *,
    measure: str = "purchase_frequency",
    title: str = "Double jeopardy: small brands have fewer buyers who buy them less often",
    ax: Axes | None = None,
) -> Axes:
    """Penetration (x) against a loyalty measure (y) per brand, observed as points and
    Dirichlet-expected as hollow markers joined by a line.

    ``benchmark`` is :func:`crmlab.share.dirichlet_benchmark`; ``measure`` one of
    ``purchase_frequency``, ``scr``, ``sole_buyers``.
    """
    ax = _ax(ax)
    labels = {
        "purchase_frequency": "Purchases per buyer of the brand",
        "scr": "Share of category requirements of its buyers",
        "sole_buyers": "Share of buyers who buy only this brand",
    }
    order = benchmark.sort_values("penetration_expected")
    ax.plot(
        order["penetration_expected"],
        order[f"{measure}_expected"],
        "o--",
        mfc="none",
        color="grey",
        label="Dirichlet expected",
    )
    ax.scatter(
        benchmark["penetration_observed"],
        benchmark[f"{measure}_observed"],
        s=60,
        color=sns.color_palette("colorblind")[0],
        zorder=3,
        label="Observed",
    )
    for name, row in benchmark.iterrows():
        ax.annotate(
            str(name),
            (row["penetration_observed"], row[f"{measure}_observed"]),
            textcoords="offset points",
            xytext=(6, 4),
        )
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    if measure != "purchase_frequency":
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("Penetration (% of category buyers who bought the brand)")
    ax.set_ylabel(labels.get(measure, measure))
    ax.set_title(title)
    ax.legend()
    fmt = "{:.1f}" if measure == "purchase_frequency" else "{:.0%}"
    points = "; ".join(
        f"{name}: penetration {row['penetration_observed']:.0%} observed, "
        f"{row['penetration_expected']:.0%} expected, {measure.replace('_', ' ')} "
        f"{fmt.format(row[f'{measure}_observed'])} observed, "
        f"{fmt.format(row[f'{measure}_expected'])} expected"
        for name, row in order.iterrows()
    )
    return describe(
        ax,
        f"Scatter of {labels.get(measure, measure).lower()} against penetration per brand, "
        f"observed (dots) and Dirichlet-expected (hollow, joined): {points}.",
    )


def loyalty_deviation(
    benchmark: pd.DataFrame,
    *,
    measure: str = "scr",
    ax: Axes | None = None,
) -> Axes:
    """Observed minus Dirichlet-expected loyalty per brand (bars, percentage points)."""
    ax = _ax(ax, (8, 4))
    dev = benchmark[f"{measure}_deviation"].sort_values()
    colors = [
        sns.color_palette("colorblind")[2] if v > 0 else sns.color_palette("colorblind")[3]
        for v in dev
    ]
    ax.barh([str(i) for i in dev.index], dev.to_numpy() * 100, color=colors)
    ax.axvline(0, color="black", lw=0.8)
    name = {"scr": "share of category requirements", "sole_buyers": "sole buyers"}.get(
        measure, measure
    )
    ax.set_xlabel(f"Observed - expected {name} (percentage points)")
    ax.set_ylabel("Brand")
    ax.set_title("Loyalty above (green) or below (red) the Dirichlet benchmark")
    bars = "; ".join(f"{brand} {100 * v:+.1f} points" for brand, v in dev.iloc[::-1].items())
    return describe(ax, f"Bars of observed minus Dirichlet-expected {name} per brand: {bars}.")


def duplication_heatmap(
    duplication: pd.DataFrame, *, title: str = "Duplication of purchase", ax: Axes | None = None
) -> Axes:
    """Heat map of a duplication table (row: buyers of; column: also bought)."""
    ax = _ax(ax, (6, 5))
    sns.heatmap(
        duplication * 100,
        annot=True,
        fmt=".0f",
        cmap="Blues",
        vmin=0,
        vmax=100,
        cbar_kws={"label": "% of the row brand's buyers"},
        ax=ax,
    )
    ax.set_xlabel("Also bought")
    ax.set_ylabel("Buyers of")
    ax.set_title(title)
    rows = "; ".join(
        f"buyers of {row}: "
        + ", ".join(f"{v:.0%} also bought {col}" for col, v in values.items() if col != row)
        for row, values in duplication.iterrows()
    )
    return describe(ax, f"Heat map of {title.lower()}: {rows}.")


def share_of_wallet_distribution(
    shares: pd.DataFrame,
    *,
    column: str = "share_of_wallet",
    by: str = "firm",
    title: str = "How much of each customer's wallet the firm holds",
    xlabel: str = "Share of the customer's category spending (share of wallet)",
    ylabel: str = "% of the firm's customers",
    legend_title: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Histogram of share of wallet (or SCR) per group (firm or brand), as % of the
    group's customers."""
    ax = _ax(ax)
    bins = np.linspace(0, 1, 21)
    for (name, group), color in zip(
        shares.groupby(by, observed=True), sns.color_palette("colorblind"), strict=False
    ):
        weights = np.full(len(group), 100.0 / max(len(group), 1))
        ax.hist(
            group[column], bins=bins, weights=weights, histtype="step", lw=2, color=color,
            label=str(name),
        )  # fmt: skip
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(title=legend_title or by.replace("_", " ").capitalize())
    groups = "; ".join(
        f"{name}: {len(group):,} customers, median {group[column].median():.0%}"
        for name, group in shares.groupby(by, observed=True)
    )
    return describe(
        ax,
        f"Step histograms of {xlabel[0].lower()}{xlabel[1:]}, one line per "
        f"{by.replace('_', ' ')}, as {ylabel[0].lower()}{ylabel[1:]}: {groups}.",
    )


def wallet_rule_scatter(predictions: pd.DataFrame, *, ax: Axes | None = None) -> plt.Figure:
    """Actual share of wallet against the Wallet Allocation Rule and the satisfaction
    share (two panels, with the 45-degree line)."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), sharey=True)
    titles = {
        "war": "Wallet Allocation Rule (rank)",
        "satisfaction_share": "Satisfaction / sum of satisfaction",
    }
    for axis, (method, title) in zip(axes, titles.items(), strict=True):
        axis.scatter(predictions[method], predictions["actual"], s=6, alpha=0.25)
        axis.plot([0, 1], [0, 1], color="black", lw=0.8)
        axis.set_xlabel(f"Predicted share of wallet: {title}")
        axis.xaxis.set_major_formatter(PercentFormatter(1.0))
        axis.yaxis.set_major_formatter(PercentFormatter(1.0))
    axes[0].set_ylabel("Actual share of wallet")
    fig.suptitle("Predicting share of wallet from a survey")
    fig.tight_layout()
    return describe(
        fig,
        f"Two scatter plots of the actual share of wallet of {len(predictions):,} "
        "customer-firm pairs against its prediction by the Wallet Allocation Rule (left) "
        "and by satisfaction shares (right), with the 45-degree line of a perfect "
        "prediction.",
    )


def market_vs_best_wallets(table: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Bars of market share beside share of the best customers' wallets per firm."""
    ax = _ax(ax)
    cols = ["market_share", "share_of_best_wallets"]
    names = {
        "market_share": "Market share (all spending)",
        "share_of_best_wallets": "Share of the best customers' wallets",
    }
    (table[cols].rename(columns=names) * 100).plot.bar(ax=ax, rot=0)
    ax.set_ylabel("% of category spending")
    ax.set_xlabel("Firm")
    ax.set_title("Market share is not share of the best customers")
    ax.legend(loc="upper right", fontsize=10)
    bars = "; ".join(
        f"{firm}: {row['market_share']:.1%} of all spending, "
        f"{row['share_of_best_wallets']:.1%} of the best customers' wallets"
        for firm, row in table.iterrows()
    )
    return describe(
        ax,
        f"Paired bars per firm of market share and share of the best customers' wallets: {bars}.",
    )


def brand_scr_distribution(
    scr: pd.DataFrame,
    brand: str,
    *,
    panel: str = "",
    column: str = "brand",
    ax: Axes | None = None,
) -> Axes:
    """Histogram of the SCR that one brand's buyers give it, beside the other brands'.

    ``scr`` is :func:`crmlab.share.share_of_category_requirements` of one panel and
    ``brand`` one of its brands (a brand of another panel is refused, not replaced).
    """
    brands = list(pd.unique(scr[column].astype(str)))
    if str(brand) not in brands:
        from crmlab.errors import DataError

        raise DataError(
            f"brand {brand!r} is not in this panel; its brands are {', '.join(brands)}."
        )
    buyers = scr[scr["brand_purchases"] > 0]
    group = buyers[column].astype(str).where(buyers[column].astype(str) == str(brand))
    table = buyers.assign(group=group.fillna("other brands"))
    where = f" ({panel})" if panel else ""
    return share_of_wallet_distribution(
        table,
        column="scr",
        by="group",
        title=f"Share of category requirements of the buyers of {brand}{where}",
        xlabel="Share of the household's category purchases (SCR)",
        ylabel="% of the brand's buyers",
        legend_title="Buyers of",
        ax=ax,
    )
