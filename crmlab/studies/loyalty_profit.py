"""Loyalty versus profit: are long-life customers the profitable ones?

Reinartz, W. J. & Kumar, V. (2000). On the profitability of long-life customers
in a noncontractual setting: an empirical investigation and implications for
marketing. *Journal of Marketing* 64(4), 17-35. Reinartz, W. & Kumar, V. (2002).
The mismanagement of customer loyalty. *Harvard Business Review* 80(7), 86-94.

The study, for one cohort of new customers observed to a common end date:

1. fit a buy-till-you-die model (Pareto/NBD as in the paper) and estimate each
   customer's lifetime as the time from the first purchase until P(alive) falls
   below a threshold (:func:`crmlab.studies.lifetime.alive_lifetimes`); a
   customer still counted as alive at the end of observation is right-censored;
2. compute each customer's profit over the observation window,
   ``revenue - cost of goods - cost_per_order x orders - marketing``, where
   marketing costs ``marketing_cost_per_week`` for every week the firm counts
   the customer as alive (as a catalogue retailer keeps mailing its active
   customers); profit may be negative;
3. split customers at a lifetime cut and a profit cut into Strangers (short,
   low), Butterflies (short, high), Barnacles (long, low), True Friends (long,
   high);
4. measure the association of lifetime and profit (bootstrap correlations, an
   HC3-robust regression, the same restricted to customers whose end was
   observed, Kaplan-Meier/log-rank/Cox comparison of lifetimes between profit
   groups), check it over a grid of thresholds and margins, and test the
   paper's four propositions.

All times are in weeks (days / 7), the time unit of crmlab's BTYD models.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from crmlab.errors import DataError
from crmlab.simulate import SimulatedData
from crmlab.studies import propositions as _props
from crmlab.studies.association import bootstrap_correlations, ols_hc3, survival_by_group
from crmlab.studies.lifetime import alive_lifetimes
from crmlab.units import DAYS_PER_UNIT

SEGMENTS = ["Strangers", "Butterflies", "Barnacles", "True Friends"]
DAYS_PER_WEEK = DAYS_PER_UNIT["W"]
MODELS = {"pareto_nbd": "ParetoNBD", "bg_nbd": "BGNBD", "mbg_nbd": "MBGNBD"}
#: Correlations between lifetime and profit reported by Reinartz & Kumar (HBR 2002).
HBR_CORRELATIONS = pd.DataFrame(
    {
        "company": ["grocery retailer", "corporate services", "direct brokerage", "mail order"],
        "correlation": [0.45, 0.30, 0.29, 0.20],
    }
)


@dataclass
class LoyaltyProfitResult:
    """Everything the loyalty-versus-profit study found.

    Attributes
    ----------
    customers : DataFrame
        One row per cohort customer (index ``customer_id``): ``first_purchase``,
        ``frequency``, ``recency``, ``T`` (weeks), ``p_alive_end`` (P(alive) at the
        end of observation), ``lifetime`` (weeks from first purchase until P(alive)
        fell below the threshold, or until the end of observation if censored),
        ``censored``, ``orders``, ``units`` (if the data have ``quantity``),
        ``revenue``, ``cost_of_goods``, ``cost_orders``, ``cost_marketing``,
        ``cost`` (their sum), ``profit`` (revenue - cost), ``long_life``,
        ``high_profit`` and ``segment``.
    segments : DataFrame
        One row per segment: customers, shares of customers/revenue/profit,
        revenue, profit, mean and median lifetime and profit, share censored.
    association : DataFrame
        Tidy: ``statistic, sample, estimate, lower, upper, p_value, n, method``.
    sensitivity : DataFrame
        Headline statistics for each (alive_threshold, margin) on the grid.
    propositions : DataFrame
        The four propositions of Reinartz & Kumar (2000), each with its test,
        estimate, interval, p-value and verdict.
    splits : DataFrame
        How lifetime and profit were cut: rule, cut value, customers on each
        side and customers tied at the cut (ties go to the lower group).
    survival : DataFrame
        Kaplan-Meier curves of lifetime per profit group (``group, time, survival``).
    profit_by_tenure : DataFrame
        Mean profit per tenure period (``tenure_period`` weeks) by lifetime group.
    fit : object
        The fitted model that gave P(alive).
    settings : dict
        Every assumption the study used.
    excluded : dict
        What was left out and why (counts).
    """

    customers: pd.DataFrame
    segments: pd.DataFrame
    association: pd.DataFrame
    sensitivity: pd.DataFrame
    propositions: pd.DataFrame
    splits: pd.DataFrame
    survival: pd.DataFrame
    profit_by_tenure: pd.DataFrame
    fit: Any
    settings: dict = field(default_factory=dict)
    excluded: dict = field(default_factory=dict)

    def statistic(self, name: str, sample: str = "all") -> pd.Series:
        """One row of :attr:`association`, e.g. ``statistic("pearson")``."""
        rows = self.association[
            (self.association["statistic"] == name) & (self.association["sample"] == sample)
        ]
        if rows.empty:
            raise KeyError(f"no statistic {name!r} for sample {sample!r}")
        return rows.iloc[0]

    def summary(self) -> str:
        """The findings in words and numbers."""
        c = self.customers
        s = self.settings
        pear = self.statistic("pearson")
        spear = self.statistic("spearman")
        slope = self.statistic("ols_slope")
        lines = [
            "Loyalty versus profit (Reinartz & Kumar 2000)",
            f"Customers: {len(c):,} (first purchase {s['cohort'][0]} to {s['cohort'][1]}, "
            f"observed to {s['observation_end']}); model {s['model']}, "
            f"P(alive) threshold {s['alive_threshold']:g}.",
            f"Lifetime: median {c['lifetime'].median():.1f} weeks; "
            f"{c['censored'].mean():.1%} still alive at the end (censored).",
            f"Profit: total {c['profit'].sum():,.0f}, median {c['profit'].median():,.2f} per "
            f"customer; {(c['profit'] < 0).mean():.1%} of customers lose money.",
            f"Correlation of lifetime and profit: Pearson {pear.estimate:.2f} "
            f"[{pear.lower:.2f}, {pear.upper:.2f}], Spearman {spear.estimate:.2f} "
            f"[{spear.lower:.2f}, {spear.upper:.2f}] (HBR 2002: 0.20-0.45).",
            f"Each extra week of lifetime goes with {slope.estimate:,.2f} of profit "
            f"[{slope.lower:,.2f}, {slope.upper:,.2f}] (OLS, HC3).",
        ]
        observed = self.association[self.association["sample"] == "end observed"]
        if not observed.empty:
            p_obs = observed[observed["statistic"] == "pearson"].iloc[0]
            lines.append(
                f"Customers whose end was observed ({int(p_obs.n):,}): Pearson "
                f"{p_obs.estimate:.2f} [{p_obs.lower:.2f}, {p_obs.upper:.2f}]."
            )
        logrank = self.association[self.association["statistic"] == "logrank"]
        if not logrank.empty:
            lr = logrank.iloc[0]
            lines.append(
                f"Lifetimes of high- vs low-profit customers (log-rank): chi2 = "
                f"{lr.estimate:,.1f}, p = {lr.p_value:.2g}."
            )
        seg = self.segments.set_index("segment")
        lines.append(
            "Segments: "
            + "; ".join(
                f"{name} {seg.loc[name, 'share_customers']:.0%} of customers, "
                f"{seg.loc[name, 'share_profit']:.0%} of profit"
                for name in SEGMENTS
            )
            + "."
        )
        for row in self.propositions.itertuples():
            lines.append(f"P{row.proposition} {row.claim}: {row.verdict}.")
        if self.excluded:
            lines.append(
                "Excluded: " + "; ".join(f"{k}: {v:,}" for k, v in self.excluded.items()) + "."
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        pear = self.statistic("pearson")
        return (
            f"<LoyaltyProfitResult: {len(self.customers):,} customers, "
            f"Pearson r(lifetime, profit) = {pear.estimate:.3f}>"
        )


# --------------------------------------------------------------------------- checks


def _check_parameters(
    alive_threshold: float,
    margin: float | None,
    cost_per_order: float,
    marketing_cost_per_week: float,
    n_boot: int,
    tenure_period: float,
    level: float,
    marketing_until: str,
) -> None:
    if not 0.0 < float(alive_threshold) < 1.0:
        raise DataError(
            f"alive_threshold must lie strictly between 0 and 1; got {alive_threshold!r}. "
            "Reinartz & Kumar use 0.5."
        )
    if margin is not None and not 0.0 <= float(margin) <= 1.0:
        raise DataError(
            f"margin is the gross margin as a share of revenue and must lie in [0, 1]; got "
            f"{margin!r}. Pass e.g. margin=0.3 for 30%, or margin=None to use the 'cost' column."
        )
    for name, value in (
        ("cost_per_order", cost_per_order),
        ("marketing_cost_per_week", marketing_cost_per_week),
    ):
        if not np.isfinite(value) or value < 0:
            raise DataError(f"{name} must be a cost >= 0 (currency units); got {value!r}.")
    if int(n_boot) < 10:
        raise DataError(f"n_boot must be at least 10 bootstrap draws; got {n_boot!r}.")
    if not tenure_period > 0:
        raise DataError(f"tenure_period must be > 0 weeks; got {tenure_period!r}.")
    if not 0.5 < level < 1:
        raise DataError(f"level must lie in (0.5, 1), e.g. 0.95; got {level!r}.")
    if marketing_until not in ("lifetime", "observation_end"):
        raise DataError(
            f"marketing_until must be 'lifetime' or 'observation_end'; got {marketing_until!r}."
        )


def _timestamp(value: Any, name: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{name} must be a date like '1998-06-30'; got {value!r}.") from exc
    if ts is pd.NaT:
        raise DataError(f"{name} must be a date like '1998-06-30'; got {value!r}.")
    return ts


def _prepare(
    transactions: pd.DataFrame,
    cohort: Sequence[Any] | None,
    observation_end: Any,
    margin: float | None,
) -> tuple[pd.DataFrame, pd.Timestamp, tuple[pd.Timestamp, pd.Timestamp], dict[str, int]]:
    missing = [c for c in ("customer_id", "date", "amount") if c not in transactions.columns]
    if margin is None and "cost" not in transactions.columns:
        missing.append("cost")
    if missing:
        fix = (
            "load it with crmlab.load_source or crmlab.read_transactions"
            if "cost" not in missing
            else "pass a margin (e.g. margin=0.3) or add a 'cost' column (cost of goods)"
        )
        raise DataError(
            f"transactions have no column {', '.join(map(repr, missing))}; they have "
            f"{', '.join(map(repr, map(str, transactions.columns)))}. Fix: {fix}."
        )
    if not pd.api.types.is_datetime64_any_dtype(transactions["date"]):
        raise DataError(
            "column 'date' is not a datetime column; validate the transactions with "
            "crmlab.validate_transactions first."
        )
    if len(transactions) == 0:
        raise DataError("transactions are empty: there is nothing to study.")
    tx = transactions
    excluded: dict[str, int] = {}
    end = (
        tx["date"].max().normalize()
        if observation_end is None
        else _timestamp(observation_end, "observation_end")
    )
    after = tx["date"] > end + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
    if after.any():
        excluded["transactions after observation_end"] = int(after.sum())
        tx = tx.loc[~after]
    if len(tx) == 0:
        raise DataError(
            f"no transactions on or before observation_end={end.date()}; the data start on "
            f"{transactions['date'].min().date()}."
        )
    first = tx.groupby("customer_id", sort=False)["date"].transform("min")
    if cohort is None:
        start, stop = first.min().normalize(), first.max().normalize()
    else:
        if isinstance(cohort, str) or len(cohort) != 2:
            raise DataError(
                f"cohort must be a pair of dates (first, last day of first purchase), e.g. "
                f"('1997-01-01', '1997-03-31'); got {cohort!r}."
            )
        start, stop = _timestamp(cohort[0], "cohort start"), _timestamp(cohort[1], "cohort end")
        if stop < start:
            raise DataError(f"cohort ends ({stop.date()}) before it starts ({start.date()}).")
    stop_incl = stop + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
    inside = (first >= start) & (first <= stop_incl)
    if not inside.any():
        raise DataError(
            f"the cohort {start.date()} to {stop.date()} has no customers: first purchases in "
            f"the data run from {first.min().date()} to {first.max().date()}. Choose a cohort "
            "inside that range."
        )
    if stop_incl > end:
        raise DataError(
            f"the cohort ends ({stop.date()}) after observation_end ({end.date()}); "
            "observation must end after the last first purchase."
        )
    if not inside.all():
        out_customers = tx.loc[~inside, "customer_id"].nunique()
        excluded["customers with first purchase outside the cohort"] = int(out_customers)
        excluded["their transactions"] = int((~inside).sum())
        tx = tx.loc[inside]
    return tx, end, (start, stop), excluded


def _customer_table(tx: pd.DataFrame, end: pd.Timestamp, margin: float | None) -> pd.DataFrame:
    """Frequency/recency/T in weeks (``crmlab.rfm_summary``: same-day purchases are one
    occasion) plus orders, units, revenue and cost of goods per customer."""
    from crmlab.summary import rfm_summary

    rfm = rfm_summary(tx, calibration_end=end, time_unit="W")
    g = tx.groupby("customer_id", sort=True)
    out = pd.DataFrame(
        {
            "first_purchase": rfm["first_purchase"],
            "frequency": rfm["frequency"].astype(float),
            "recency": rfm["recency"].astype(float),
            "T": rfm["T"].astype(float),
        }
    ).sort_index()
    out["orders"] = g.size().astype(float)
    if "quantity" in tx.columns:
        out["units"] = g["quantity"].sum().astype(float)
    out["revenue"] = g["amount"].sum().astype(float)
    if margin is None:
        out["cost_of_goods"] = g["cost"].sum().astype(float)
    else:
        out["cost_of_goods"] = (1.0 - float(margin)) * out["revenue"]
    out.index.name = "customer_id"
    return out


def _fit_model(model: Any, summary: pd.DataFrame) -> Any:
    if not isinstance(model, str):
        if not hasattr(model, "probability_alive"):
            raise DataError(
                f"model must be one of {sorted(MODELS)} or a fitted crmlab model with "
                f"probability_alive(); got {type(model).__name__}."
            )
        return model
    if model not in MODELS:
        raise DataError(f"model must be one of {sorted(MODELS)}; got {model!r}.")
    import crmlab.models as models

    cls = getattr(models, MODELS[model], None)
    if cls is None:
        raise DataError(
            f"crmlab.models has no {MODELS[model]} yet; choose another model= of "
            f"{sorted(k for k, v in MODELS.items() if hasattr(models, v))}."
        )
    return cls().fit(summary[["frequency", "recency", "T"]])


# --------------------------------------------------------------------------- money


def _money(
    table: pd.DataFrame,
    lifetime: pd.Series,
    margin: float | None,
    base_margin: float | None,
    cost_per_order: float,
    marketing_cost_per_week: float,
    marketing_until: str,
) -> pd.DataFrame:
    """Costs and profit per customer for one margin (and lifetime, through marketing)."""
    revenue = table["revenue"]
    if margin is None or margin == base_margin:
        cogs = table["cost_of_goods"]
    else:
        cogs = (1.0 - float(margin)) * revenue
    weeks = lifetime if marketing_until == "lifetime" else table["T"]
    frame = pd.DataFrame(
        {
            "cost_of_goods": cogs,
            "cost_orders": cost_per_order * table["orders"],
            "cost_marketing": marketing_cost_per_week * weeks,
        }
    )
    frame["cost"] = frame.sum(axis=1)
    frame["profit"] = revenue - frame["cost"]
    return frame


def _cut(values: np.ndarray, rule: Any, name: str) -> float:
    if isinstance(rule, str):
        if rule == "median":
            return float(np.median(values))
        if rule == "mean":
            return float(np.mean(values))
        raise DataError(f"split for {name} must be 'median', 'mean' or a number; got {rule!r}.")
    value = float(rule)
    if not np.isfinite(value):
        raise DataError(f"split cut for {name} must be finite; got {rule!r}.")
    return value


def split_groups(
    values: np.ndarray,
    rule: Any,
    *,
    name: str,
    labels: tuple[str, str],
    min_share: float = 0.05,
    strict: bool = True,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Split customers into a low and a high group at a cut.

    Customers *at* the cut go to the low group (``high = value > cut``), so a
    median split with many ties at the median (one-time buyers share one
    lifetime) can leave well under half in the high group; the returned record
    says how many were tied. If either group holds fewer than ``min_share`` of
    the customers a :class:`DataError` says so (``strict``), instead of
    silently putting almost everyone in one group.

    Returns
    -------
    high : array of bool
    info : dict
        ``dimension, rule, cut, low_label, high_label, n_low, n_high, n_tied_at_cut,
        share_high``.
    """
    cut = _cut(values, rule, name)
    high = values > cut
    n = values.size
    n_high = int(high.sum())
    n_tied = int(np.sum(values == cut))
    info = {
        "dimension": name,
        "rule": str(rule),
        "cut": cut,
        "low_label": labels[0],
        "high_label": labels[1],
        "n_low": n - n_high,
        "n_high": n_high,
        "n_tied_at_cut": n_tied,
        "share_high": n_high / n if n else np.nan,
    }
    smaller = min(n_high, n - n_high)
    if strict and smaller < min_share * n:
        side = labels[1] if n_high < n - n_high else labels[0]
        raise DataError(
            f"the {rule!r} split of {name} at {cut:.4g} leaves only {smaller:,} of {n:,} "
            f"customers ({smaller / n:.1%}) in the '{side}' group ({n_tied:,} customers are "
            f"tied at the cut and go to '{labels[0]}'). Fix: pass split=(lifetime_cut, "
            "profit_cut) with explicit cut-offs, or split='mean'."
        )
    return high, info


def _segments(long_life: np.ndarray, high_profit: np.ndarray) -> pd.Categorical:
    code = 2 * long_life.astype(int) + high_profit.astype(int)
    return pd.Categorical.from_codes(code, categories=SEGMENTS)


def segment_table(customers: pd.DataFrame) -> pd.DataFrame:
    """Counts, shares, revenue, profit, lifetimes per segment (all four rows, even empty)."""
    g = customers.groupby("segment", observed=False)
    table = pd.DataFrame(
        {
            "customers": g.size(),
            "revenue": g["revenue"].sum(),
            "profit": g["profit"].sum(),
            "mean_lifetime": g["lifetime"].mean(),
            "median_lifetime": g["lifetime"].median(),
            "mean_profit": g["profit"].mean(),
            "median_profit": g["profit"].median(),
            "share_censored": g["censored"].mean(),
        }
    ).reindex(SEGMENTS)
    table["customers"] = table["customers"].fillna(0).astype(int)
    total = {k: customers[k].sum() for k in ("revenue", "profit")}
    table.insert(1, "share_customers", table["customers"] / len(customers))
    table.insert(3, "share_revenue", table["revenue"] / total["revenue"])
    table.insert(5, "share_profit", table["profit"] / total["profit"])
    table.index.name = "segment"
    return table.reset_index()


# --------------------------------------------------------------------------- study


def loyalty_profit(
    transactions: pd.DataFrame,
    *,
    model: Any = "pareto_nbd",
    alive_threshold: float = 0.5,
    margin: float | None = 0.3,
    cost_per_order: float = 0.0,
    marketing_cost_per_week: float = 0.0,
    marketing_until: str = "lifetime",
    cohort: Sequence[Any] | None = None,
    observation_end: Any = None,
    split: Any = "median",
    min_group_share: float = 0.05,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    thresholds: Sequence[float] = (0.3, 0.4, 0.5, 0.6, 0.7),
    margins: Sequence[float] | None = None,
    tenure_period: float = 13.0,
    strong_correlation: float = 0.5,
) -> LoyaltyProfitResult:
    """Replicate Reinartz & Kumar (2000): lifetime versus profit for a customer cohort.

    Parameters
    ----------
    transactions : DataFrame
        ``customer_id``, ``date``, ``amount`` (revenue per order); optional
        ``quantity`` (units per order, for proposition 4) and ``cost`` (cost of
        goods per order, used when ``margin`` is None).
    model : str or fitted model
        ``"pareto_nbd"`` (the paper's), ``"mbg_nbd"`` or ``"bg_nbd"`` (fitted on
        the cohort), or an already fitted crmlab model (used as given).
    alive_threshold : float
        P(alive) below which a customer counts as gone, in (0, 1); the paper
        uses 0.5.
    margin : float or None
        Gross margin as a share of revenue, in [0, 1]: cost of goods =
        (1 - margin) x revenue. ``None`` uses the ``cost`` column instead.
    cost_per_order : float
        Cost of serving one order (picking, packing, handling), >= 0.
    marketing_cost_per_week : float
        Marketing spent on a customer per week (catalogues, mailings), >= 0.
    marketing_until : {"lifetime", "observation_end"}
        Charge marketing while the customer counts as alive (the firm mails its
        active customers; default) or over the whole observation window.
    cohort : pair of dates or None
        First and last day of first purchase that defines the cohort (inclusive);
        None takes every customer. Customers outside are excluded and counted.
    observation_end : date or None
        Last day observed (default: the last transaction date). Later
        transactions are excluded and counted.
    split : "median", "mean" or (lifetime_cut, profit_cut)
        Where "long" and "high" start; each cut may also be "median"/"mean".
        Customers at the cut go to the lower group (see :func:`split_groups`).
    min_group_share : float
        Smallest share of customers either side of a cut may hold before the
        study refuses the split with a :class:`DataError`.
    n_boot, seed, level : int, int, float
        Bootstrap draws, their seed, and the confidence level of all intervals.
    thresholds, margins : sequences
        The sensitivity grid; ``margins`` defaults to (margin - 0.1, margin,
        margin + 0.1) clipped to [0.05, 0.95].
    tenure_period : float
        Length in weeks of the tenure periods of proposition 2 (13 = a quarter).
    strong_correlation : float
        Correlation a "strong" association must reach (proposition 1; Cohen's 0.5).

    Returns
    -------
    LoyaltyProfitResult
        ``customers``, ``segments``, ``association``, ``sensitivity``,
        ``propositions``, ``splits``, ``survival``, ``profit_by_tenure``,
        ``fit``, ``settings``, ``excluded`` and ``summary()``.

    Notes
    -----
    Profit per customer over the observation window (undiscounted):
    ``profit = revenue - cost_of_goods - cost_per_order * orders
    - marketing_cost_per_week * weeks_marketed``. Reinartz & Kumar define profit
    as gross contribution minus the mailing costs actually spent per customer;
    crmlab data have no mailing records, so marketing follows the stated rule.
    """
    _check_parameters(
        alive_threshold,
        margin,
        cost_per_order,
        marketing_cost_per_week,
        n_boot,
        tenure_period,
        level,
        marketing_until,
    )
    tx, end, (start, stop), excluded = _prepare(transactions, cohort, observation_end, margin)
    table = _customer_table(tx, end, margin)
    fit = _fit_model(model, table)
    life = alive_lifetimes(fit, table, alive_threshold)
    money = _money(
        table,
        life["lifetime"],
        margin,
        margin,
        cost_per_order,
        marketing_cost_per_week,
        marketing_until,
    )
    customers = table.drop(columns="cost_of_goods").join(life).join(money)

    if isinstance(split, str):
        rules = (split, split)
    elif isinstance(split, Sequence) and len(split) == 2:
        rules = tuple(split)
    else:
        raise DataError(
            f"split must be 'median', 'mean' or a pair (lifetime_cut, profit_cut); got {split!r}."
        )
    long_life, info_l = split_groups(
        customers["lifetime"].to_numpy(),
        rules[0],
        name="lifetime",
        labels=("short", "long"),
        min_share=min_group_share,
    )
    high_profit, info_p = split_groups(
        customers["profit"].to_numpy(),
        rules[1],
        name="profit",
        labels=("low", "high"),
        min_share=min_group_share,
    )
    customers["long_life"] = long_life
    customers["high_profit"] = high_profit
    customers["segment"] = _segments(long_life, high_profit)
    splits = pd.DataFrame([info_l, info_p])

    lifetime = customers["lifetime"].to_numpy()
    profit = customers["profit"].to_numpy()
    observed = ~customers["censored"].to_numpy()
    assoc = [
        bootstrap_correlations(lifetime, profit, n_boot=n_boot, seed=seed, level=level),
        ols_hc3(lifetime, profit, level=level)[0],
    ]
    if observed.sum() >= 3:
        assoc += [
            bootstrap_correlations(
                lifetime[observed],
                profit[observed],
                n_boot=n_boot,
                seed=seed + 1,
                level=level,
                sample="end observed",
            ),
            ols_hc3(lifetime[observed], profit[observed], level=level, sample="end observed")[0],
        ]
    group = np.where(high_profit, "high profit", "low profit")
    survival, surv_tests = survival_by_group(lifetime, observed, group, level=level)
    association = pd.concat([*assoc, surv_tests], ignore_index=True)

    grid_margins = _margin_grid(margin, margins)
    sensitivity = _sensitivity(
        fit,
        table,
        life,
        alive_threshold,
        thresholds,
        grid_margins,
        margin,
        cost_per_order,
        marketing_cost_per_week,
        marketing_until,
        rules,
    )

    by_tenure, tenure_test = _props.profit_by_tenure(
        tx, customers, margin, cost_per_order, marketing_cost_per_week, tenure_period, level
    )
    propositions = _props.test_propositions(
        association, customers, tenure_test, strong_correlation=strong_correlation, level=level
    )
    settings = {
        "model": model if isinstance(model, str) else type(model).__name__,
        "model_params": dict(getattr(fit, "params", pd.Series(dtype=float)).round(6)),
        "alive_threshold": alive_threshold,
        "margin": margin,
        "cost_per_order": cost_per_order,
        "marketing_cost_per_week": marketing_cost_per_week,
        "marketing_until": marketing_until,
        "cohort": (str(start.date()), str(stop.date())),
        "observation_end": str(end.date()),
        "split": rules,
        "n_boot": n_boot,
        "seed": seed,
        "level": level,
        "tenure_period": tenure_period,
        "time_unit": "weeks",
    }
    return LoyaltyProfitResult(
        customers=customers,
        segments=segment_table(customers),
        association=association,
        sensitivity=sensitivity,
        propositions=propositions,
        splits=splits,
        survival=survival,
        profit_by_tenure=by_tenure,
        fit=fit,
        settings=settings,
        excluded=excluded,
    )


def _margin_grid(margin: float | None, margins: Sequence[float] | None) -> list[float | None]:
    if margins is not None:
        grid = [float(m) for m in margins]
        bad = [m for m in grid if not 0 <= m <= 1]
        if bad:
            raise DataError(f"margins must lie in [0, 1]; got {bad[0]!r}.")
        return grid
    if margin is None:
        return [None]
    return sorted({float(np.clip(round(margin + d, 4), 0.05, 0.95)) for d in (-0.1, 0.0, 0.1)})


def _sensitivity(
    fit: Any,
    table: pd.DataFrame,
    life: pd.DataFrame,
    base_threshold: float,
    thresholds: Sequence[float],
    margins: list[float | None],
    base_margin: float | None,
    cost_per_order: float,
    marketing_cost_per_week: float,
    marketing_until: str,
    rules: tuple[Any, Any],
) -> pd.DataFrame:
    """Headline statistics for every (threshold, margin); a degenerate split gives NaN shares."""
    rows = []
    for c in sorted({float(t) for t in thresholds} | {float(base_threshold)}):
        lt = life if c == base_threshold else alive_lifetimes(fit, table, c)
        lifetime = lt["lifetime"].to_numpy()
        for m in margins:
            money = _money(
                table,
                lt["lifetime"],
                m,
                base_margin,
                cost_per_order,
                marketing_cost_per_week,
                marketing_until,
            )
            profit = money["profit"].to_numpy()
            row = {
                "alive_threshold": c,
                "margin": np.nan if m is None else m,
                "median_lifetime": float(np.median(lifetime)),
                "share_censored": float(lt["censored"].mean()),
                "pearson": np.nan,
                "spearman": np.nan,
                "share_unprofitable": float(np.mean(profit < 0)),
            }
            if np.ptp(lifetime) > 0 and np.ptp(profit) > 0:
                row["pearson"] = float(np.corrcoef(lifetime, profit)[0, 1])
                row["spearman"] = float(spearmanr(lifetime, profit).statistic)
            try:
                long_life, _ = split_groups(
                    lifetime, rules[0], name="lifetime", labels=("short", "long"), min_share=0
                )
                high, _ = split_groups(
                    profit, rules[1], name="profit", labels=("low", "high"), min_share=0
                )
                seg = pd.Series(_segments(long_life, high)).value_counts(normalize=True)
                for name in SEGMENTS:
                    row[f"share_{name.lower().replace(' ', '_')}"] = float(seg.get(name, 0.0))
            except DataError:
                pass
            rows.append(row)
    return pd.DataFrame(rows)


def compare_with_truth(result: LoyaltyProfitResult, simulation: SimulatedData) -> pd.Series:
    """How well a loyalty study of ``cohort.transactions`` recovered the simulated truth.

    Parameters
    ----------
    result : LoyaltyProfitResult
        :func:`crmlab.studies.loyalty_profit` run on ``simulation.transactions``.
    simulation : SimulatedData
        :func:`crmlab.simulate.retailer` output whose transactions were studied.

    Returns
    -------
    Series
        ``true_pearson`` (true observed lifetime vs true profit), ``estimated_pearson``
        with ``lower``/``upper`` (the study's bootstrap interval), ``interval_covers_truth``,
        ``lifetime_rank_correlation`` (Spearman of estimated lifetime and true
        ``min(dropout, T)``), ``lifetime_median_abs_error`` (weeks) and
        ``censoring_agreement`` (share of customers whose censoring flag equals
        "truly alive at the end").
    """
    customers = result.customers
    truth = simulation.truth.loc[customers.index]
    pearson = result.statistic("pearson")
    true_r = float(np.corrcoef(truth["observed_lifetime"], truth["profit"])[0, 1])
    return pd.Series(
        {
            "true_pearson": true_r,
            "estimated_pearson": float(pearson.estimate),
            "lower": float(pearson.lower),
            "upper": float(pearson.upper),
            "interval_covers_truth": bool(pearson.lower <= true_r <= pearson.upper),
            "lifetime_rank_correlation": float(
                spearmanr(customers["lifetime"], truth["observed_lifetime"]).statistic
            ),
            "lifetime_median_abs_error": float(
                np.median(np.abs(customers["lifetime"] - truth["observed_lifetime"]))
            ),
            "censoring_agreement": float(
                (customers["censored"].to_numpy() == truth["alive_at_end"].to_numpy()).mean()
            ),
        }
    )
