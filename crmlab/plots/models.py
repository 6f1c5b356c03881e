"""Plots of model fit: frequency fit, tracking, conditional expectations,
P(alive) and expected-purchase heat maps and the distribution of CLV.

They draw tables computed elsewhere (``crmlab.models.diagnostics``,
``crmlab.models.comparison``, a fitted model's ``clv``) and compute no number
that a report states. Each takes ``ax=None`` and returns the Axes. The pictures
follow Fader, Hardie & Lee (2005), "Counting your customers the easy way",
*Marketing Science* 24(2), figs. 3-9.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter

from crmlab.errors import DataError, require_columns
from crmlab.plots.alt import describe


def _axes(ax: Axes | None, size: tuple[float, float] = (8, 4.5)) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=size)
    return ax


def _money(ax: Axes, axis: str = "x", unit: str = "$") -> None:
    fmt = FuncFormatter(lambda v, _: f"{unit}{v:,.0f}")
    (ax.xaxis if axis == "x" else ax.yaxis).set_major_formatter(fmt)


def frequency_fit(
    table: pd.DataFrame,
    *,
    ax: Axes | None = None,
    time_label: str = "calibration period",
) -> Axes:
    """Observed vs expected number of customers by repeat-purchase count.

    ``table`` has ``frequency`` (0, 1, ..., with the last row possibly "7+"),
    ``observed`` and one or more model columns (``expected`` or model names);
    every column other than ``frequency`` and ``observed`` is drawn as a model.
    """
    require_columns(table, ["frequency", "observed"], "frequency_fit")
    models = [c for c in table.columns if c not in ("frequency", "observed")]
    if not models:
        raise DataError("frequency_fit needs at least one column of expected counts.")
    ax = _axes(ax)
    long = table.melt(
        id_vars="frequency", value_vars=["observed", *models], var_name="", value_name="customers"
    )
    long["frequency"] = long["frequency"].astype(str)
    long[""] = long[""].replace({"observed": "Actual", "expected": "Model"})
    sns.barplot(data=long, x="frequency", y="customers", hue="", ax=ax)
    ax.set(
        xlabel=f"Repeat purchases in the {time_label}",
        ylabel="Customers",
        title="How many customers made 0, 1, 2, ... repeat purchases",
    )
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.legend(title=None)
    first = table.iloc[0]
    parts = ", ".join(f"{m} {first[m]:,.0f}" for m in models)
    return describe(
        ax,
        f"Bars of customers by repeat purchases ({table['frequency'].iloc[0]} to "
        f"{table['frequency'].iloc[-1]}), actual and expected by {', '.join(map(str, models))}; "
        f"with {first['frequency']} repeat purchases: actual {first['observed']:,.0f}, {parts}.",
    )


def tracking(
    table: pd.DataFrame,
    calibration_end: Any = None,
    *,
    cumulative: bool = True,
    actual: str | None = None,
    expected: str | Sequence[str] | None = None,
    ax: Axes | None = None,
    time_label: str = "Week",
) -> Axes:
    """Actual and expected repeat transactions over time, calibration | holdout.

    Parameters
    ----------
    table : DataFrame
        One row per period (index or column ``period``: numbers or dates) with
        actual and expected repeat transactions; by default the columns are
        ``cumulative_actual``/``cumulative_expected`` (``cumulative=True``) or
        ``actual``/``expected``. Pass ``expected`` as a list to draw several models.
    calibration_end : number or date, optional
        Where the calibration period ends (dashed vertical line); by default
        ``table.attrs["calibration_end"]``, which
        :func:`crmlab.models.diagnostics.tracking` sets.
    """
    if calibration_end is None:
        calibration_end = table.attrs.get("calibration_end")
        if calibration_end is None:
            raise DataError(
                "tracking needs calibration_end: pass it, or a table from "
                "crmlab.models.diagnostics.tracking, which records it."
            )
    frame = table.set_index("period") if "period" in table.columns else table
    prefix = "cumulative_" if cumulative else ""
    actual = actual or f"{prefix}actual"
    expected = expected or [c for c in frame.columns if c.startswith(f"{prefix}expected")]
    if not expected and not cumulative:
        expected = [c for c in frame.columns if c.startswith("expected")]
    expected = [expected] if isinstance(expected, str) else list(expected)
    require_columns(frame, [actual, *expected], "tracking")
    if not expected:
        raise DataError("tracking needs at least one column of expected transactions.")
    ax = _axes(ax)
    ax.plot(frame.index, frame[actual], color="black", lw=2, label="Actual")
    styles = ["--", "-.", ":", (0, (5, 1))]
    for i, col in enumerate(expected):
        label = col.removeprefix(prefix).removeprefix("expected").strip("_ ") or "Model"
        ax.plot(frame.index, frame[col], ls=styles[i % len(styles)], lw=2, label=label)
    ax.axvline(calibration_end, color="grey", lw=1, ls="--")
    ax.annotate(
        "end of calibration",
        xy=(calibration_end, 1),
        xycoords=("data", "axes fraction"),
        xytext=(4, -14),
        textcoords="offset points",
        color="grey",
        fontsize=9,
    )
    kind = "Cumulative repeat" if cumulative else "Repeat"
    ax.set(
        xlabel=time_label,
        ylabel=f"{kind} transactions",
        title=f"{kind} transactions: actual vs model (calibration | holdout)",
    )
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.legend()
    last = frame.iloc[-1]
    ends = "; ".join(
        f"{col.removeprefix(prefix).removeprefix('expected').strip('_ ') or 'model'} "
        f"{last[col]:,.0f}"
        for col in expected
    )
    return describe(
        ax,
        f"{kind} transactions per {time_label.lower()}, actual and expected, with a dashed line "
        f"at the end of calibration ({calibration_end}); at the last {time_label.lower()}: "
        f"actual {last[actual]:,.0f}, {ends}.",
    )


def conditional_expectations(
    table: pd.DataFrame,
    *,
    ax: Axes | None = None,
    holdout_label: str = "holdout period",
) -> Axes:
    """Average holdout purchases by calibration frequency: actual vs model.

    ``table`` has ``frequency``, ``actual_holdout`` and ``expected_holdout``
    (more model columns starting with ``expected`` are drawn too) and optionally
    ``customers`` (shown under the frequency labels).
    """
    require_columns(table, ["frequency", "actual_holdout"], "conditional_expectations")
    models = [c for c in table.columns if c.startswith("expected")]
    if not models:
        raise DataError("conditional_expectations needs a column of expected holdout purchases.")
    ax = _axes(ax)
    x = np.arange(len(table))
    ax.plot(x, table["actual_holdout"], "o-", color="black", lw=2, label="Actual")
    for col in models:
        label = col.removeprefix("expected_holdout").removeprefix("expected").strip("_ ")
        ax.plot(x, table[col], "s--", lw=2, label=label or "Model")
    labels = table["frequency"].astype(str).tolist()
    if "customers" in table.columns:
        labels = [f"{f}\n(n={n:,})" for f, n in zip(labels, table["customers"], strict=True)]
    ax.set_xticks(x, labels, fontsize=9)
    ax.set(
        xlabel="Repeat purchases in the calibration period (customers)",
        ylabel=f"Purchases per customer in the {holdout_label}",
        title="Conditional expectations: who buys again, and how much",
    )
    ax.legend()
    return describe(
        ax,
        f"Lines of mean purchases per customer in the {holdout_label} by repeat purchases in "
        f"calibration ({labels[0].split(chr(10))[0]} to {labels[-1].split(chr(10))[0]}), actual "
        f"from {table['actual_holdout'].min():.2f} to {table['actual_holdout'].max():.2f}, "
        f"against {len(models)} model forecast(s).",
    )


def frequency_recency_heatmap(
    grid: pd.DataFrame,
    *,
    label: str = "P(alive)",
    title: str | None = None,
    ax: Axes | None = None,
    time_label: str = "weeks",
    fmt_percent: bool | None = None,
) -> Axes:
    """Heat map of a model quantity over frequency (rows) and recency (columns).

    ``grid`` comes from :func:`crmlab.models.comparison.frequency_recency_grid`:
    index ``frequency``, columns ``recency``. High frequency with low recency
    (many purchases, long ago) sits in the top-left corner.
    """
    if grid.empty:
        raise DataError("frequency_recency_heatmap got an empty grid.")
    ax = _axes(ax, (8, 5))
    percent = fmt_percent if fmt_percent is not None else label.lower().startswith("p(")
    data = grid.sort_index(ascending=False)
    sns.heatmap(
        data,
        ax=ax,
        cmap="viridis",
        vmin=0 if percent else None,
        vmax=1 if percent else None,
        cbar_kws={"label": label},
        xticklabels=False,
        yticklabels=False,
    )
    # label about ten columns and rows, centred on their cells
    xstep = max(1, len(data.columns) // 9)
    ystep = max(1, len(data.index) // 10)
    xs = range(0, len(data.columns), xstep)
    ys = range(0, len(data.index), ystep)
    ax.set_xticks([i + 0.5 for i in xs], [f"{data.columns[i]:.0f}" for i in xs], rotation=0)
    ax.set_yticks([i + 0.5 for i in ys], [str(data.index[i]) for i in ys], rotation=0)
    ax.set(
        xlabel=f"Recency: time of last purchase since the first ({time_label})",
        ylabel="Frequency: repeat purchases",
        title=title or f"{label} by frequency and recency",
    )
    top_left = data.iloc[0, 0]
    top_right = data.iloc[0, -1]
    return describe(
        ax,
        f"Heat map: {title or label}. For {data.index[0]} repeat purchases, {label} is "
        f"{top_left:.2f} when the last purchase was at the start and {top_right:.2f} when it "
        f"was at {data.columns[-1]:.0f} {time_label}.",
    )


def clv_distribution(
    clv: pd.Series,
    *,
    ax: Axes | None = None,
    bins: int = 60,
    clip_quantile: float = 0.99,
    unit: str = "$",
    markers: dict[str, float] | None = None,
) -> Axes:
    """Histogram of customer lifetime values.

    The x axis stops at the ``clip_quantile`` of CLV so that the few very valuable
    customers do not squeeze the picture (the title says how many lie beyond);
    ``markers`` draws labelled vertical lines, e.g. ``{"mean": clv.mean()}``
    computed by the caller.
    """
    values = pd.Series(clv, dtype=float).dropna()
    if values.empty:
        raise DataError("clv_distribution got no CLV values.")
    ax = _axes(ax)
    upper = float(values.quantile(clip_quantile))
    shown = values[values <= upper]
    sns.histplot(shown, bins=bins, ax=ax, color=sns.color_palette()[0])
    for i, (name, value) in enumerate((markers or {}).items()):
        ax.axvline(value, color=sns.color_palette()[i + 1], ls="--", lw=1.5, label=name)
    if markers:
        ax.legend()
    _money(ax, "x", unit)
    beyond = len(values) - len(shown)
    ax.set(
        xlabel=f"Customer lifetime value ({unit})",
        ylabel="Customers",
        title=f"Distribution of CLV ({beyond:,} customers above {unit}{upper:,.0f} not shown)",
    )
    marks = "".join(f", {k} {unit}{v:,.2f}" for k, v in (markers or {}).items())
    return describe(
        ax,
        f"Histogram of the CLV of {len(values):,} customers up to {unit}{upper:,.0f}{marks}.",
    )


def customer_paths(
    transactions: pd.DataFrame,
    customers: Sequence[Any],
    *,
    calibration_end: Any = None,
    labels: dict[Any, str] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Purchase timelines of a few customers (one row of dots each).

    ``transactions`` has ``customer_id``, ``date`` and ``amount``; dot size grows
    with the amount. Used to show two customers side by side.
    """
    require_columns(transactions, ["customer_id", "date", "amount"], "customer_paths")
    ax = _axes(ax, (8, 0.9 * len(customers) + 1.6))
    labels = labels or {}
    for row, cust in enumerate(customers):
        own = transactions[transactions["customer_id"] == cust]
        ax.scatter(
            own["date"],
            np.full(len(own), row),
            s=20 + 2 * own["amount"].clip(upper=200),
            alpha=0.8,
        )
    ax.set_yticks(range(len(customers)), [labels.get(c, f"customer {c}") for c in customers])
    ax.set_ylim(-0.7, len(customers) - 0.3)
    if calibration_end is not None:
        ax.axvline(pd.Timestamp(calibration_end), color="grey", ls="--", lw=1)
    ax.set(xlabel="Date of purchase (dot size: amount)", title="Purchase histories")
    ax.grid(axis="y", visible=False)
    return describe(
        ax,
        "Purchase dates of "
        + " and ".join(labels.get(c, f"customer {c}") for c in customers)
        + ", one row of dots each, with a dashed line at the end of calibration.",
    )


def model_totals(
    totals: pd.DataFrame,
    *,
    value: str = "total_clv",
    ax: Axes | None = None,
    unit: str = "$",
    used: str | None = None,
    level: float | None = None,
) -> Axes:
    """Total CLV under each model as horizontal bars, with intervals where given.

    ``totals`` is indexed by model with ``value`` and optionally ``lower``/``upper``
    (e.g. :func:`crmlab.studies.clv_by_model`); intervals are drawn where both are
    finite. ``used`` marks the model the report relies on; ``level`` names the
    interval in the title.
    """
    require_columns(totals, [value], "model_totals")
    if totals.empty:
        raise DataError("model_totals got no models.")
    ax = _axes(ax, (8, 0.7 * len(totals) + 1.8))
    y = np.arange(len(totals))
    colours = [
        sns.color_palette()[1] if name == used else sns.color_palette()[0] for name in totals.index
    ]
    ax.barh(y, totals[value], color=colours)
    if {"lower", "upper"} <= set(totals.columns):
        ok = totals["lower"].notna() & totals["upper"].notna()
        if ok.any():
            mid = totals.loc[ok, value].to_numpy(dtype=float)
            err = np.vstack(
                [mid - totals.loc[ok, "lower"].to_numpy(), totals.loc[ok, "upper"].to_numpy() - mid]
            )
            ax.errorbar(mid, y[ok.to_numpy()], xerr=err, fmt="none", color="black", capsize=4)
    labels = [f"{name} (used)" if name == used else str(name) for name in totals.index]
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    _money(ax, "x", unit)
    what = f", {level:.0%} interval from parameter uncertainty" if level else ""
    ax.set(
        xlabel=f"Total customer lifetime value ({unit})",
        title=f"Total CLV of the cohort under each model{what}",
    )
    ax.grid(axis="y", visible=False)
    parts = []
    for name in totals.index:
        part = f"{name} {unit}{totals.loc[name, value]:,.0f}"
        if {"lower", "upper"} <= set(totals.columns) and totals.loc[
            name, ["lower", "upper"]
        ].notna().all():
            part += (
                f" ({unit}{totals.loc[name, 'lower']:,.0f} to "
                f"{unit}{totals.loc[name, 'upper']:,.0f})"
            )
        parts.append(part)
    return describe(ax, f"Bars of total CLV by model: {'; '.join(parts)}.")


def formula(lines: Sequence[str], *, title: str | None = None, alt: str | None = None) -> Any:
    """Draw formulas (matplotlib mathtext, one line each) as a figure.

    A figure shows in a notebook and in a report alike, without MathJax; ``alt``
    (default: the TeX source) becomes the figure's alt text.
    """
    if not lines:
        raise DataError("formula needs at least one line of TeX.")
    fig = plt.figure(figsize=(8, 0.75 * len(lines) + (0.4 if title else 0.1)))
    for i, line in enumerate(lines):
        fig.text(
            0.02,
            1 - (i + 0.6) / (len(lines) + (0.5 if title else 0.1)),
            f"${line}$",
            fontsize=14,
            va="center",
        )
    if title:
        fig.suptitle(title, x=0.02, ha="left", fontsize=12)
    return describe(fig, alt or " ; ".join(lines))


def retention_curves(
    curves: pd.DataFrame,
    *,
    models: Sequence[str] = ("sBG", "BdW"),
    names: dict[str, str] | None = None,
) -> Any:
    """Observed vs model survival and retention rates of contract cohorts, holdout marked.

    One column of panels per cohort: on top the share of the cohort still active,
    ``S(t)``; below, the retention rate ``r(t) = S(t) / S(t-1)``. Observed values are
    dots, each model a line; the holdout years are shaded. Draws the ``curves`` table of
    :func:`crmlab.studies.contract_retention.contract_retention_study` (``cohort, year, period,
    observed``, one column per model and the same ending ``_retention``); ``names`` maps a
    cohort to the name shown. Returns the Figure.
    """
    need = ["cohort", "year", "period", "observed", "observed_retention"]
    need += [*models, *(f"{m}_retention" for m in models)]
    require_columns(curves, need, "retention_curves")
    if curves.empty:
        raise DataError("retention_curves got no cohorts.")
    cohorts = list(dict.fromkeys(curves["cohort"]))
    names = names or {}
    fig, axes = plt.subplots(
        2, len(cohorts), figsize=(5 * len(cohorts) + 1, 7.5), squeeze=False, sharex="col"
    )
    parts = []
    for j, cohort in enumerate(cohorts):
        table = curves[curves["cohort"] == cohort].sort_values("year")
        label = names.get(cohort, str(cohort).replace("_", "-"))
        held = table.loc[table["period"] == "holdout", "year"]
        for i, (suffix, what) in enumerate(
            (("", "Share still active"), ("_retention", "Retention rate"))
        ):
            ax = axes[i, j]
            ax.plot(table["year"], table[f"observed{suffix}"], "o", color="black", label="Observed")
            for model in models:
                ax.plot(table["year"], table[f"{model}{suffix}"], lw=2, label=model)
            if len(held):
                ax.axvspan(held.min() - 0.5, held.max() + 0.5, color="grey", alpha=0.15, lw=0)
                ax.annotate(
                    "holdout",
                    xy=(held.min() - 0.4, 0.04),
                    xycoords=("data", "axes fraction"),
                    color="dimgrey",
                    fontsize=9,
                )
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0%}"))
            ax.set(ylabel=what, title=f"{what}: {label} cohort")
            if i == 1:
                ax.set_xlabel("Year since the cohort's first contract")
            if i == 0 and j == 0:
                ax.legend()
        last = table.iloc[-1]
        fitted = ", ".join(f"{m} {last[m]:.0%}" for m in models)
        rates = ", ".join(f"{m} {last[f'{m}_retention']:.0%}" for m in models)
        calib = table.loc[table["period"] == "calibration", "year"].max()
        parts.append(
            f"{label} cohort, fitted to years 1 to {calib}: in year {last['year']} "
            f"{last['observed']:.0%} still active (models: {fitted}); retention rate from "
            f"{table['observed_retention'].iloc[1]:.0%} in year 1 to "
            f"{last['observed_retention']:.0%} in year {last['year']} (models: {rates})"
        )
    fig.suptitle("Contract cohorts: observed vs sBG and BdW, holdout years shaded")
    return describe(
        fig,
        "Share of each cohort still active (top) and retention rate (bottom) by year, "
        f"observed as dots and {', '.join(models)} as lines, holdout years shaded. "
        + "; ".join(parts)
        + ".",
    )
