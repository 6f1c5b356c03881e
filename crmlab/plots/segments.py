"""Plots of customer pyramid, tier migration, RFM segments, MVC/MGC/BZ, whale curve.

Each function draws a table returned by :mod:`crmlab.segments`; none computes a number
a report states.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.patches import Polygon
from matplotlib.ticker import StrMethodFormatter

from crmlab.plots.alt import describe
from crmlab.plots.style import PALETTE

_OUTSIDE = ("Inactive", "Prospects", "Suspects")


def _ax(ax: Axes | None, size: tuple[float, float] = (8, 4.5)) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=size)
    return ax


def pyramid(table: pd.DataFrame, ax: Axes | None = None, title: str | None = None) -> Axes:
    """Draw the customer pyramid: active tiers as bands of a triangle (top tier at the
    apex), non-customers (inactive, prospects, suspects) as bands beneath its base.

    Each band is labelled with its customers, share of active customers and share of
    revenue, from a :class:`crmlab.segments.Pyramid` ``table``. A group with nobody in
    it (for instance no inactive customers in a cohort's first period) is not drawn;
    a note under the pyramid names it.
    """
    ax = _ax(ax, (8, 5.5))
    active = [t for t in table.index if t not in _OUTSIDE]
    listed = [t for t in table.index if t in _OUTSIDE]
    outside = [t for t in listed if table.loc[t, "customers"] > 0]
    empty = [t for t in listed if t not in outside]
    colours = sns.color_palette(PALETTE, len(active) + len(listed))
    n = len(active)
    described = []
    for i, tier in enumerate(active):  # band i from the apex (y = n) down
        top, bottom = n - i, n - i - 1
        half_top, half_bottom = i / n, (i + 1) / n
        ax.add_patch(
            Polygon(
                [(-half_bottom, bottom), (half_bottom, bottom), (half_top, top), (-half_top, top)],
                closed=True,
                facecolor=colours[i],
                edgecolor="white",
                linewidth=2,
            )
        )
        row = table.loc[tier]
        label = (
            f"{tier}: {row['customers']:,.0f} customers ({row['share_of_active']:.0%}), "
            f"{row['revenue_share']:.0%} of revenue"
        )
        described.append(label)
        ax.text(1.05, bottom + 0.5, label, va="center", fontsize=10)
    for j, tier in enumerate(outside):
        y = -1.0 - j * 0.8
        ax.add_patch(
            plt.Rectangle((-1, y), 2, 0.7, facecolor=colours[n + j], alpha=0.45, edgecolor="white")
        )
        label = f"{tier}: {table.loc[tier, 'customers']:,.0f} people"
        described.append(label)
        ax.text(1.05, y + 0.35, label, va="center", fontsize=10)
    note = ""
    if empty:
        note = f"Not drawn: {', '.join(empty)} (nobody in this period)."
        ax.text(0, -0.3 - 0.8 * len(outside), note, ha="center", va="top", fontsize=9)
    ax.set_xlim(-1.1, 2.9)
    ax.set_ylim(-0.2 - 0.8 * len(outside) - (0.5 if empty else 0), n + 0.2)
    ax.axis("off")
    ax.set_title(title or "Customer pyramid (bands ordered by value, not drawn to scale)")
    return describe(
        ax,
        f"{title or 'Customer pyramid'}: bands from the top tier down, "
        f"{'; '.join(described)}. {note}",
    )


def tier_shares(table: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Bars of each active tier's share of customers, revenue and profit (in %)."""
    ax = _ax(ax)
    active = table.loc[[t for t in table.index if t not in _OUTSIDE]]
    shares = (
        active[["share_of_active", "revenue_share", "profit_share"]]
        .rename(
            columns={
                "share_of_active": "customers",
                "revenue_share": "revenue",
                "profit_share": "profit",
            }
        )
        .mul(100)
    )
    shares.plot.bar(ax=ax, rot=0)
    ax.set_xlabel("Tier")
    ax.set_ylabel("Share of the period's total (%)")
    ax.set_title("Few customers, much of the revenue")
    ax.legend(title="Share of")
    parts = [
        f"{tier} {row['customers']:.1f}% of customers, {row['revenue']:.1f}% of revenue, "
        f"{row['profit']:.1f}% of profit"
        for tier, row in shares.iterrows()
    ]
    return describe(ax, f"Bars of each tier's share of the period's totals: {'; '.join(parts)}.")


def pyramid_history(history: pd.DataFrame, ax: Axes | None = None, what: str = "customers") -> Axes:
    """Stacked bars of the active tiers' customers (or revenue) over periods, from
    :func:`crmlab.segments.pyramid_history`; inactive customers (and prospects, suspects)
    are written above each bar rather than stacked, so a large inactive group does not
    flatten the tiers."""
    ax = _ax(ax, (9, 4.8))
    frame = history[what].copy()
    frame.index = [pd.Timestamp(i).strftime("%Y-%m-%d") for i in frame.index]
    outside = [c for c in frame.columns if c in _OUTSIDE]
    active = frame.drop(columns=outside)
    active.plot.bar(stacked=True, ax=ax, rot=30, width=0.8)
    money = "$" if what != "customers" else ""
    if what == "customers":
        totals = active.sum(axis=1)
        for i, (label, row) in enumerate(frame[outside].iterrows()):
            text = "\n".join(f"{name}: {v:,.0f}" for name, v in row.items() if v > 0)
            if text:
                ax.annotate(
                    text, (i, totals[label]), ha="center", va="bottom", fontsize=8,
                    xytext=(0, 3), textcoords="offset points",
                )  # fmt: skip
        ax.margins(y=0.15)
    ax.set_xlabel("Period ending")
    ax.set_ylabel("Active customers" if what == "customers" else "Revenue ($)")
    ax.set_title(
        f"{'Active customers' if what == 'customers' else 'Revenue'} per tier, period by period"
    )
    ax.legend(title="Tier", bbox_to_anchor=(1.01, 1), loc="upper left")

    def period(label: str) -> str:
        row = frame.loc[label]
        return f"period ending {label}: " + ", ".join(
            f"{tier} {money}{value:,.0f}" for tier, value in row.items()
        )

    return describe(
        ax,
        f"Stacked bars of {what} per active tier in {len(frame)} periods"
        f"{', with the inactive written above each bar' if outside and what == 'customers' else ''}"
        f"; first {period(frame.index[0])}; last {period(frame.index[-1])}.",
    )


def migration_heatmap(
    migration,
    ax: Axes | None = None,
    percent: bool = True,
    title: str | None = None,
    min_customers: int = 30,
) -> Axes:
    """Heatmap of a :class:`crmlab.segments.Migration`: row percentages (colour and
    number) or counts; rows = tier before, columns = tier after.

    Each row label carries its number of customers; a row of fewer than
    ``min_customers`` is marked with an asterisk, explained under the picture, because
    one customer moves its percentages by 100 / n points.
    """
    ax = _ax(ax, (8, 5.2))
    data = migration.row_percent if percent else migration.counts
    n = migration.counts.sum(axis=1)
    data = data.loc[n > 0]
    n = n.loc[n > 0].astype(int)
    few = n < min_customers
    labels = [
        f"{tier} (n={count:,}){' *' if small else ''}"
        for tier, count, small in zip(n.index, n, few, strict=True)
    ]
    sns.heatmap(
        data.set_axis(labels, axis=0),
        annot=True,
        fmt=".0f" if not percent else ".1f",
        cmap="Blues",
        cbar_kws={"label": "% of the row" if percent else "customers"},
        ax=ax,
        linewidths=0.5,
    )
    ax.set_ylabel("Tier in the earlier period")
    xlabel = "Tier in the later period"
    if few.any():
        xlabel += f"\n* fewer than {min_customers} customers: the row's shares are rough"
    ax.set_xlabel(xlabel)
    ax.set_title(
        title or ("Tier migration (% of each earlier tier)" if percent else "Tier migration")
    )
    stay = [
        f"{tier} (n={n[tier]:,}{', few' if few[tier] else ''}) "
        + ", ".join(f"{v:.1f}% to {col}" for col, v in migration.row_percent.loc[tier].items())
        for tier in n.index
    ]
    return describe(
        ax,
        f"Heat map of {title or 'tier migration'}: each row is a tier of the earlier period "
        f"and shows where its customers went; {'; '.join(stay)}.",
    )


def migration_flows(flows: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Revenue change explained by each kind of movement (new, up, down, lost ...)."""
    ax = _ax(ax)
    change = flows["revenue_change"]
    good, bad = sns.color_palette(PALETTE)[2], sns.color_palette(PALETTE)[3]
    colours = [good if v >= 0 else bad for v in change]
    ax.bar(change.index.astype(str), change.to_numpy(), color=colours)
    ax.axhline(0, color="black", linewidth=0.8)
    for i, (v, n) in enumerate(zip(change, flows["customers"], strict=True)):
        ax.annotate(
            f"{n:,} cust.", (i, v), ha="center", va="bottom" if v >= 0 else "top", fontsize=9
        )
    ax.yaxis.set_major_formatter(StrMethodFormatter("${x:,.0f}"))
    ax.set_xlabel("Movement between the periods")
    ax.set_ylabel("Revenue change ($)")
    ax.set_title("Where the revenue change comes from")
    parts = [
        f"{flow} {'+' if v >= 0 else '-'}${abs(v):,.0f} ({n:,} customers)"
        for flow, v, n in zip(change.index, change, flows["customers"], strict=True)
    ]
    return describe(ax, f"Bars of the revenue change by kind of movement: {'; '.join(parts)}.")


def pyramid_for_cutoffs(
    transactions: pd.DataFrame,
    end,
    length,
    top_share: float,
    big_share: float,
    medium_share: float,
    *,
    rank_by: str = "revenue",
    costs=None,
    ax: Axes | None = None,
) -> Axes:
    """The pyramid of one period with the top three tiers' shares given and the Small
    tier taking the rest: the picture a cut-off slider redraws
    (:func:`crmlab.segments.customer_pyramid` computes it)."""
    from crmlab.segments import customer_pyramid

    small = 1.0 - top_share - big_share - medium_share
    p = customer_pyramid(
        transactions,
        end,
        length,
        cutoffs=[top_share, big_share, medium_share, small],
        rank_by=rank_by,
        costs=costs,
    )
    return pyramid(
        p.table,
        ax=ax,
        title=f"Pyramid with cut-offs {top_share:.1%}, {big_share:.0%}, {medium_share:.0%}, "
        f"{small:.1%}",
    )


def rfm_segments(table: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Share of customers and of monetary value per RFM segment (from
    :func:`crmlab.segments.segment_table`)."""
    ax = _ax(ax, (8, 5))
    data = table.loc[table["customers"] > 0, ["share", "monetary_share"]].mul(100)
    data.columns = ["customers", "monetary value"]
    data.iloc[::-1].plot.barh(ax=ax)
    ax.set_xlabel("Share of all scored customers / of total monetary value (%)")
    ax.set_ylabel("RFM segment")
    ax.set_title("RFM segments: size and value")
    ax.legend(title="Share of")
    parts = [
        f"{seg} {row.iloc[0]:.0f}% of customers, {row.iloc[1]:.0f}% of value"
        for seg, row in data.iterrows()
    ]
    return describe(
        ax,
        f"Bars of each RFM segment's share of customers and of monetary value: {'; '.join(parts)}.",
    )


def rfm_grid(scores: pd.DataFrame, ax: Axes | None = None, value: str = "customers") -> Axes:
    """R x F heatmap of customer counts (``value="customers"``) or mean monetary value."""
    ax = _ax(ax, (6.5, 5))
    if value == "customers":
        grid = pd.crosstab(scores["F"], scores["R"])
        label, fmt = "customers", "d"
    else:
        grid = scores.pivot_table(index="F", columns="R", values="monetary", aggfunc="mean")
        label, fmt = "mean monetary value", ".0f"
    sns.heatmap(
        grid.iloc[::-1], annot=True, fmt=fmt, cmap="Blues", ax=ax, cbar_kws={"label": label}
    )
    ax.set_xlabel("R score (5 = bought most recently)")
    ax.set_ylabel("F score (5 = most orders)")
    ax.set_title(f"RFM grid: {label}")
    top = grid.stack().idxmax()
    return describe(
        ax,
        f"Heat map of {label} by R score (across) and F score (up); the largest cell is "
        f"R = {top[1]}, F = {top[0]} with {grid.stack().max():,.0f}.",
    )


TIER_COLOURS = dict(
    zip(("MVC", "MGC", "BZ", "other"), sns.color_palette(PALETTE, 4).as_hex(), strict=True)
)


def value_tiers(table: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Bars of each tier's share of customers, of expected future profit (actual value)
    and of the potential-actual gap (%), from :func:`crmlab.segments.tier_table`."""
    ax = _ax(ax)
    data = table.drop(index="all", errors="ignore")[["share", "actual_share", "gap_share"]]
    data = data.mul(100)
    data.columns = ["customers", "actual value (expected future profit)", "potential - actual"]
    data.plot.bar(ax=ax, rot=0)
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xlabel("Tier (MVC most valuable, MGC most growable, BZ below zero)")
    ax.set_ylabel("Share of the total (%)")
    ax.set_title("MVC, MGC and BZ: size, value and room to grow")
    ax.legend(title="Share of")
    parts = [
        f"{tier}: {row.iloc[0]:.0f}% of customers, {row.iloc[1]:.0f}% of expected future profit, "
        f"{row.iloc[2]:.0f}% of the room to grow"
        for tier, row in data.iterrows()
    ]
    return describe(ax, f"Bars per value tier: {'; '.join(parts)}.")


def value_map(
    values: pd.DataFrame,
    tier: pd.Series,
    ax: Axes | None = None,
    max_points: int = 5000,
    seed: int = 0,
) -> Axes:
    """Scatter of actual value (expected future profit) against the gap potential - actual,
    coloured by tier (a seeded sample of at most ``max_points`` customers)."""
    ax = _ax(ax, (7.5, 5))
    data = values.assign(tier=pd.Series(tier, index=values.index).astype(str))
    data = data.assign(gap=data["potential_value"] - data["actual_value"])
    if len(data) > max_points:
        data = data.sample(max_points, random_state=seed)
    sns.scatterplot(
        data=data,
        x="actual_value",
        y="gap",
        hue="tier",
        hue_order=[t for t in TIER_COLOURS if (data["tier"] == t).any()],
        palette=TIER_COLOURS,
        ax=ax,
        s=12,
        alpha=0.6,
        linewidth=0,
    )
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xscale("symlog", linthresh=10)
    ax.set_yscale("symlog", linthresh=10)
    ax.set_xlabel("Actual value: expected future profit ($, symmetric log scale)")
    ax.set_ylabel("Potential - actual ($, symmetric log scale)")
    ax.set_title("Actual value and room to grow")
    return describe(
        ax,
        f"Scatter of {len(data):,} customers: expected future profit (across) against the "
        "gap between potential and actual value (up), coloured by tier; most growable "
        "customers sit high, most valuable ones far right, below-zero ones left of zero.",
    )


def cost_grid(
    grid: pd.DataFrame,
    ax: Axes | None = None,
    *,
    label: str = "BZ share (%)",
    title: str = "Below-zero customers by cost assumption",
    percent: bool = True,
) -> Axes:
    """Heat map of a statistic over cost per order (rows) and cost per customer-year
    (columns), numbers in the cells, from :func:`crmlab.segments.bz_grid` or
    :func:`crmlab.segments.whale_grid`."""
    ax = _ax(ax, (8, 5))
    data = grid.mul(100) if percent else grid
    data = data.copy()
    data.index = [f"${v:,.2f}" for v in grid.index]
    data.columns = [f"${v:,.2f}" for v in grid.columns]
    sns.heatmap(
        data.iloc[::-1],
        annot=True,
        fmt=".1f" if percent else ".2f",
        cmap="Reds",
        cbar_kws={"label": label},
        linewidths=0.5,
        ax=ax,
    )
    ax.set_xlabel("Cost per customer-year (assumed)")
    ax.set_ylabel("Cost per order (assumed)")
    ax.set_title(title)
    lo, hi = data.stack().min(), data.stack().max()
    return describe(
        ax,
        f"Heat map of {label} over cost per order (up) and cost per customer-year (across), "
        f"from {lo:,.1f} at {data.stack().idxmin()[0]} per order and "
        f"{data.stack().idxmin()[1]} a year to {hi:,.1f} at {data.stack().idxmax()[0]} and "
        f"{data.stack().idxmax()[1]}.",
    )


def whale_curve(
    curve: pd.DataFrame,
    summary: pd.Series | None = None,
    ax: Axes | None = None,
    label: str | None = None,
    title: str | None = None,
) -> Axes:
    """Cumulative profit (% of total) against customers ranked by profit (%), from
    :func:`crmlab.segments.whale_curve`; the peak is marked when ``summary`` is given."""
    ax = _ax(ax)
    (line,) = ax.plot(curve["customer_share"] * 100, curve["cumulative_share"] * 100, label=label)
    ax.axhline(100, color="grey", linestyle="--", linewidth=1)
    if summary is not None and np.isfinite(summary["peak_share"]):
        x, y = summary["peak_at"] * 100, summary["peak_share"] * 100
        ax.plot([x], [y], "o", color=line.get_color())
        ax.annotate(
            f"peak {y:.0f}% of total profit\nat {x:.0f}% of customers",
            (x, y),
            textcoords="offset points",
            xytext=(10, -30),
            fontsize=9,
        )
    ax.set_xlabel("Customers ranked from most to least profitable (%)")
    ax.set_ylabel("Cumulative profit (% of total profit)")
    ax.set_title(title or "Whale curve of customer profitability")
    if label:
        ax.legend(handles=[h for h in ax.get_lines() if not h.get_label().startswith("_")])
    end = curve["cumulative_share"].iloc[-1] * 100 if len(curve) else float("nan")
    peak = (
        f" It peaks at {summary['peak_share'] * 100:.0f}% of total profit after "
        f"{summary['peak_at'] * 100:.0f}% of customers."
        if summary is not None and np.isfinite(summary["peak_share"])
        else ""
    )
    who = f" ({label})" if label else ""
    return describe(
        ax,
        f"Whale curve{who}: cumulative profit as % of total against customers ranked from most "
        f"to least profitable, ending at {end:.0f}%.{peak}",
    )


def whale_sensitivity(table: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Peak height and share of loss-making customers against a cost assumption, from
    :func:`crmlab.segments.whale_sensitivity`."""
    ax = _ax(ax)
    x = table.index.to_numpy(float)
    ax.plot(x, table["peak_share"] * 100, marker="o", label="peak (% of total profit)")
    labels = {
        "cost_per_order": "Cost per order ($, assumed)",
        "cost_per_customer_year": "Cost per customer-year ($, assumed)",
        "margin": "Gross margin (fraction of revenue, assumed)",
    }
    ax.set_xlabel(labels.get(str(table.index.name), str(table.index.name)))
    ax.set_ylabel("Peak of the whale curve (% of total profit)")
    twin = ax.twinx()
    twin.plot(
        x,
        table["share_unprofitable"] * 100,
        marker="s",
        color=sns.color_palette(PALETTE)[3],
        label="customers losing money (%)",
    )
    twin.set_ylabel("Customers losing money (%)")
    twin.grid(False)
    lines = ax.get_lines() + twin.get_lines()
    ax.legend(lines, [line.get_label() for line in lines], loc="upper left")
    ax.set_title("How the whale curve depends on the cost to serve")
    return describe(
        ax,
        f"Lines of the whale curve's peak and the share of loss-making customers against "
        f"{ax.get_xlabel().lower()}: the peak goes from {table['peak_share'].iloc[0]:.0%} to "
        f"{table['peak_share'].iloc[-1]:.0%} of total profit, the loss-makers from "
        f"{table['share_unprofitable'].iloc[0]:.0%} to {table['share_unprofitable'].iloc[-1]:.0%}.",
    )


def whale_for_costs(
    transactions: pd.DataFrame,
    cost_per_order: float,
    cost_per_customer_year: float,
    margin: float,
) -> Axes:
    """The whale curve of historical profit under the given costs (for a slider:
    ``widgets.explore(functools.partial(whale_for_costs, transactions), ...)``)."""
    from crmlab import segments

    assumed = segments.CostModel(margin, cost_per_order, cost_per_customer_year)
    profit = segments.customer_profit(transactions, assumed)["profit"]
    return whale_curve(segments.whale_curve(profit), segments.whale_summary(profit))
