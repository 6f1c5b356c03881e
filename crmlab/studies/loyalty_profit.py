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
2. compute each customer's profit over the observation window with one
   :class:`crmlab.costs.CostModel`:
   ``revenue - cost of goods - cost_per_order x orders - marketing``, where
   marketing costs the model's cost per customer and week for every week the firm
   counts the customer as alive (a catalogue retailer mails its active customers), so
   profit contains ``-c x lifetime`` by construction;
3. keep **one-time buyers apart**: customers who never bought again share one
   history, hence one tied lifetime (on CDNOW half the cohort), and a median split
   over everyone would only separate one-time from repeat buyers. They form their
   own group; Strangers (short, low), Butterflies (short, high), Barnacles (long,
   low) and True Friends (long, high) are cut among repeat buyers, and the number of
   customers tied at each cut is stated;
4. measure the association of lifetime and profit with intervals from a bootstrap
   that **refits the lifetime model** on every resample
   (:mod:`crmlab.studies.bootstrap`), with and without the lifetime-proportional
   marketing cost; compare lifetimes of profit groups (Kaplan-Meier, log-rank, Cox);
   rerun the headline over a grid of thresholds, margins and marketing costs; and test
   the paper's four propositions.

All times are in weeks, the time unit of crmlab's BTYD models.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from crmlab.costs import CostModel
from crmlab.errors import DataError
from crmlab.studies import propositions as _props
from crmlab.studies.association import COLUMNS, ols_hc3, survival_by_group
from crmlab.studies.bootstrap import BootstrapRun, refit_bootstrap, refitter
from crmlab.studies.bootstrap import weighted_pearson as _wpearson
from crmlab.studies.bootstrap import weighted_slope as _wslope
from crmlab.studies.bootstrap import weighted_spearman as _wspearman
from crmlab.studies.lifetime import alive_lifetimes, draw_true_lifetimes

UNIT = "W"
SEGMENTS = ["Strangers", "Butterflies", "Barnacles", "True Friends"]
ONE_TIME = "One-time buyers"
GROUPS = [ONE_TIME, *SEGMENTS]
REPEAT, ALL, OBSERVED = "repeat buyers", "all customers", "repeat buyers, end observed"
#: The correlation of the true (drawn) lifetime with profit, a model-based estimate.
IMPUTED = "pearson_true_lifetime"
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
        ``frequency``, ``recency``, ``T`` (weeks), ``repeat_buyer``, ``p_alive_end``,
        ``lifetime`` (weeks from first purchase until P(alive) fell below the threshold,
        or until the end of observation if censored), ``censored``, ``orders``,
        ``units`` (if the data have ``quantity``), ``revenue``, ``cost_of_goods``,
        ``cost_orders``, ``cost_marketing``, ``cost``, ``profit``, ``long_life``,
        ``high_profit`` (both False for one-time buyers kept apart) and ``segment``.
    segments : DataFrame
        One row per group (one-time buyers, then the four quadrants): customers, shares
        of all customers, of repeat buyers, of revenue and profit, lifetimes, profits.
    association : DataFrame
        Tidy: ``statistic, sample, estimate, lower, upper, p_value, n, method``; samples
        ``repeat buyers``, ``all customers``, ``repeat buyers, end observed``.
    sensitivity : DataFrame
        Headline statistics for each (alive_threshold, margin, marketing_cost_per_week).
    propositions : DataFrame
        The four propositions, each with its test, estimate, interval, p-value, verdict
        and the caveat that limits it.
    splits : DataFrame
        How lifetime and profit were cut: rule, cut, customers on each side and tied at
        the cut (ties go to the lower group), and the customers the cut was made among.
    ties : dict
        ``one_time_buyers``, ``one_time_tied`` (the largest set of one-time buyers
        sharing one lifetime) and ``one_time_lifetime`` (that lifetime, weeks).
    survival : DataFrame
        Kaplan-Meier curves of lifetime per profit group among repeat buyers.
    profit_by_tenure : DataFrame
        Mean profit per tenure period (``tenure_period`` weeks) by lifetime group.
    bootstrap : BootstrapRun
        The refitting bootstrap behind the intervals (draws, failures, seconds).
    fit : object
        The fitted model that gave P(alive).
    costs : CostModel
        The cost model.
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
    ties: dict
    survival: pd.DataFrame
    profit_by_tenure: pd.DataFrame
    bootstrap: BootstrapRun
    fit: Any
    costs: CostModel
    settings: dict = field(default_factory=dict)
    excluded: dict = field(default_factory=dict)

    def statistic(self, name: str, sample: str = REPEAT) -> pd.Series:
        """One row of :attr:`association`, e.g. ``statistic("pearson", "all customers")``."""
        rows = self.association[
            (self.association["statistic"] == name) & (self.association["sample"] == sample)
        ]
        if rows.empty:
            raise KeyError(f"no statistic {name!r} for sample {sample!r}")
        return rows.iloc[0]

    def assumptions(self) -> pd.DataFrame:
        """Every assumption of the study as an ``Assumption``/``Value`` table for a report."""
        s = self.settings
        boot = self.bootstrap
        how = "model refitted on each" if boot.refitted else "lifetimes held fixed"
        rows = {
            "Cohort (first purchase)": f"{s['cohort'][0]} to {s['cohort'][1]}",
            "Observed until": s["observation_end"],
            "Model for P(alive)": s["model"],
            "Alive threshold": f"{s['alive_threshold']:g}",
            "Gross margin": "recorded cost of goods"
            if s["margin"] is None
            else f"{s['margin']:.0%} of revenue",
            "Cost per order ($)": f"{s['cost_per_order']:.2f}",
            "Marketing per week counted alive ($)": f"{s['marketing_cost_per_week']:.2f}",
            "Marketing charged until": "the estimated end of the lifetime"
            if s["marketing_until"] == "lifetime"
            else "the end of observation",
            "One-time buyers": "their own group" if s["one_time_apart"] else "cut with the rest",
            "Split rule (lifetime, profit)": ", ".join(map(str, s["split"])),
            "Bootstrap": f"{boot.requested:,} resamples, {how}; {boot.failed} refits failed",
        }
        return pd.DataFrame({"Assumption": list(rows), "Value": list(rows.values())})

    def summary(self) -> str:
        """The findings in words and numbers (see :func:`loyalty_findings` for the report)."""
        from crmlab.studies.loyalty_findings import loyalty_findings

        return "\n".join(f.text for f in loyalty_findings(self))

    def __repr__(self) -> str:
        pear = self.statistic("pearson")
        return (
            f"<LoyaltyProfitResult: {len(self.customers):,} customers, "
            f"Pearson r(lifetime, profit) among repeat buyers = {pear.estimate:.3f}>"
        )


# --------------------------------------------------------------------------- checks


def _check_parameters(
    alive_threshold: float,
    costs: Any,
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
    if not isinstance(costs, CostModel):
        raise DataError(
            f"costs must be a crmlab.costs.CostModel; got {type(costs).__name__}. Build one "
            "with CostModel.per_period(margin, cost_per_order, marketing_per_week, 'W')."
        )
    if int(n_boot) != 0 and int(n_boot) < 10:
        raise DataError(
            f"n_boot must be at least 10 bootstrap draws (or 0 for no intervals); got {n_boot!r}."
        )
    if not tenure_period > 0:
        raise DataError(f"tenure_period must be > 0 weeks; got {tenure_period!r}.")
    if not 0.5 < level < 1:
        raise DataError(f"level must lie in (0.5, 1), e.g. 0.95; got {level!r}.")
    if marketing_until not in ("lifetime", "observation_end"):
        raise DataError(
            f"marketing_until must be 'lifetime' or 'observation_end'; got {marketing_until!r}."
        )


# --------------------------------------------------------------------------- data


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
) -> tuple[pd.DataFrame, pd.Timestamp, tuple[pd.Timestamp, pd.Timestamp], dict[str, int]]:
    missing = [c for c in ("customer_id", "date", "amount") if c not in transactions.columns]
    if missing:
        fix = "load it with crmlab.load_source or crmlab.read_transactions"
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


def _uses_cost_column(tx: pd.DataFrame, costs: CostModel) -> bool:
    return bool(costs.use_cost_column and "cost" in tx.columns)


def _customer_table(tx: pd.DataFrame, end: pd.Timestamp, costs: CostModel) -> pd.DataFrame:
    """Frequency/recency/T in weeks (``crmlab.rfm_summary``: same-day purchases are one
    occasion) plus orders, units, revenue and cost of goods per customer."""
    from crmlab.summary import rfm_summary

    rfm = rfm_summary(tx, calibration_end=end, time_unit=UNIT)
    g = tx.groupby("customer_id", sort=True)
    out = pd.DataFrame(
        {
            "first_purchase": rfm["first_purchase"],
            "frequency": rfm["frequency"].astype(float),
            "recency": rfm["recency"].astype(float),
            "T": rfm["T"].astype(float),
        }
    ).sort_index()
    out["repeat_buyer"] = out["frequency"] > 0
    out["orders"] = g.size().astype(float)
    if "quantity" in tx.columns:
        out["units"] = g["quantity"].sum().astype(float)
    out["revenue"] = g["amount"].sum().astype(float)
    if _uses_cost_column(tx, costs):
        out["cost_of_goods"] = g["cost"].sum().astype(float)
    else:
        out["cost_of_goods"] = (1.0 - costs.margin) * out["revenue"]
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

    return getattr(models, MODELS[model])().fit(summary[["frequency", "recency", "T"]])


# --------------------------------------------------------------------------- money


def _money(
    table: pd.DataFrame,
    lifetime: pd.Series | np.ndarray,
    costs: CostModel,
    marketing_until: str,
    *,
    margin: float | None = None,
    marketing_per_week: float | None = None,
) -> pd.DataFrame:
    """Costs and profit per customer; ``margin``/``marketing_per_week`` override the
    cost model's (for the sensitivity grid; a margin override replaces recorded costs)."""
    revenue = table["revenue"]
    cogs = table["cost_of_goods"] if margin is None else (1.0 - float(margin)) * revenue
    per_week = costs.cost_per_customer(UNIT) if marketing_per_week is None else marketing_per_week
    weeks = np.asarray(lifetime, dtype=float) if marketing_until == "lifetime" else table["T"]
    frame = pd.DataFrame(
        {
            "cost_of_goods": cogs,
            "cost_orders": costs.cost_per_order * table["orders"],
            "cost_marketing": per_week * np.asarray(weeks, dtype=float),
        },
        index=table.index,
    )
    frame["cost"] = frame.sum(axis=1)
    frame["profit"] = revenue - frame["cost"]
    return frame


def _segments(
    repeat: np.ndarray, long_life: np.ndarray, high_profit: np.ndarray, apart: bool
) -> pd.Categorical:
    code = 1 + 2 * long_life.astype(int) + high_profit.astype(int)
    if apart:
        code = np.where(repeat, code, 0)
    return pd.Categorical.from_codes(code, categories=GROUPS)


def segment_table(customers: pd.DataFrame) -> pd.DataFrame:
    """Counts, shares, revenue, profit, lifetimes per group (every group, even empty).

    ``share_customers`` is the share of all customers, ``share_of_repeat`` the share of
    repeat buyers (NaN for the one-time buyers), ``share_revenue``/``share_profit`` shares
    of the cohort's totals.
    """
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
    ).reindex(GROUPS)
    table["customers"] = table["customers"].fillna(0).astype(int)
    repeat_total = int(customers["repeat_buyer"].sum())
    quadrant_repeat = customers.groupby("segment", observed=False)["repeat_buyer"].sum()
    share_repeat = quadrant_repeat.reindex(GROUPS) / repeat_total if repeat_total else np.nan
    if customers["segment"].eq(ONE_TIME).any() or not customers["repeat_buyer"].all():
        share_repeat = share_repeat.where(share_repeat.index != ONE_TIME)
    total = {k: customers[k].sum() for k in ("revenue", "profit")}
    table.insert(1, "share_customers", table["customers"] / len(customers))
    table.insert(2, "share_of_repeat", share_repeat)
    table.insert(4, "share_revenue", table["revenue"] / total["revenue"])
    table.insert(6, "share_profit", table["profit"] / total["profit"])
    table.index.name = "segment"
    return table.reset_index()


def _samples(repeat: np.ndarray, censored: np.ndarray, apart: bool) -> dict[str, np.ndarray]:
    everyone = np.ones(repeat.size, dtype=bool)
    if not apart:
        return {ALL: everyone, "all customers, end observed": ~censored}
    return {REPEAT: repeat, ALL: everyone, OBSERVED: repeat & ~censored}


def _point_statistics(
    lifetime: np.ndarray,
    profit: np.ndarray,
    marketing: np.ndarray,
    masks: dict[str, np.ndarray],
    w: np.ndarray,
) -> dict[str, float]:
    """Statistics of one (re)sample: per sample Pearson, Spearman, the OLS slope and the
    Pearson correlation without the lifetime-proportional marketing cost."""
    out = {}
    before = profit + marketing
    for sample, mask in masks.items():
        ww = w * mask
        out[f"pearson|{sample}"] = _wpearson(lifetime, profit, ww)
        out[f"spearman|{sample}"] = _wspearman(lifetime, profit, ww)
        out[f"ols_slope|{sample}"] = _wslope(lifetime, profit, ww)
        out[f"pearson_without_marketing|{sample}"] = _wpearson(lifetime, before, ww)
    return out


def _imputed(
    fit: Any,
    table: pd.DataFrame,
    p_alive: pd.Series,
    costs: CostModel,
    marketing_until: str,
    masks: dict[str, np.ndarray],
    w: np.ndarray,
    rng: np.random.Generator,
) -> dict[str, float]:
    """Pearson r of a draw of the true lifetimes with the profit they imply, per sample
    (:func:`crmlab.studies.lifetime.draw_true_lifetimes`; empty for an unknown model)."""
    drawn = draw_true_lifetimes(fit, table, rng, p_alive=p_alive.to_numpy())
    if drawn is None:
        return {}
    profit = _money(table, drawn, costs, marketing_until)["profit"].to_numpy()
    return {
        f"{IMPUTED}|{sample}": _wpearson(drawn, profit, w * mask)
        for sample, mask in masks.items()
        if "end observed" not in sample
    }


def _imputed_estimate(
    fit: Any,
    table: pd.DataFrame,
    life: pd.DataFrame,
    costs: CostModel,
    marketing_until: str,
    masks: dict[str, np.ndarray],
    seed: int,
    draws: int = 20,
) -> dict[str, float]:
    """Mean over ``draws`` draws of the true lifetimes at the full-sample fit."""
    rng = np.random.default_rng([seed, 1])
    ones = np.ones(len(table))
    runs = [
        _imputed(fit, table, life["p_alive_end"], costs, marketing_until, masks, ones, rng)
        for _ in range(draws)
    ]
    if not runs or not runs[0]:
        return {}
    return {k: float(np.nanmean([run[k] for run in runs])) for k in runs[0]}


def _association(
    customers: pd.DataFrame,
    masks: dict[str, np.ndarray],
    boot: BootstrapRun,
    level: float,
    imputed: dict[str, float],
) -> pd.DataFrame:
    lifetime = customers["lifetime"].to_numpy()
    profit = customers["profit"].to_numpy()
    before = profit + customers["cost_marketing"].to_numpy()
    rows = []
    method = boot.method if boot.requested else "no bootstrap (n_boot=0)"
    for sample, mask in masks.items():
        x, y, y0 = lifetime[mask], profit[mask], before[mask]
        n = int(mask.sum())
        varies = n >= 3 and np.ptp(x) > 0
        for name, other in (("pearson", y), ("spearman", y), ("pearson_without_marketing", y0)):
            if varies and np.ptp(other) > 0:
                test = (stats.spearmanr if name == "spearman" else stats.pearsonr)(x, other)
                est, p = float(test.statistic), float(test.pvalue)
            else:
                est = p = np.nan
            lo, hi = boot.interval(f"{name}|{sample}", level)
            rows.append([name, sample, est, lo, hi, p, n, method])
        ols, _ = ols_hc3(x, y, level=level, sample=sample) if varies else (None, None)
        if ols is not None:
            slope = ols.iloc[0]
            lo, hi = boot.interval(f"ols_slope|{sample}", level)
            rows.append(["ols_slope", sample, slope.estimate, lo, hi, slope.p_value, n, method])
            r2 = ols.iloc[1]
            rows.append(["r_squared", sample, r2.estimate, np.nan, np.nan, np.nan, n, "OLS"])
        if f"{IMPUTED}|{sample}" in imputed:
            lo, hi = boot.interval(f"{IMPUTED}|{sample}", level)
            how = (
                "model-based: each customer's true lifetime drawn from the fitted model given "
                f"their purchases (mean of 20 draws); interval: {method}, one draw each"
            )
            rows.append([IMPUTED, sample, imputed[f"{IMPUTED}|{sample}"], lo, hi, np.nan, n, how])
    return pd.DataFrame(rows, columns=COLUMNS)


# --------------------------------------------------------------------------- study


def loyalty_profit(
    transactions: pd.DataFrame,
    *,
    costs: CostModel | None = None,
    model: Any = "pareto_nbd",
    alive_threshold: float = 0.5,
    marketing_until: str = "lifetime",
    one_time_apart: bool = True,
    cohort: Sequence[Any] | None = None,
    observation_end: Any = None,
    split: Any = "median",
    min_group_share: float = 0.05,
    n_boot: int = 200,
    seed: int = 0,
    level: float = 0.95,
    thresholds: Sequence[float] = (0.3, 0.4, 0.5, 0.6, 0.7),
    margins: Sequence[float] | None = None,
    marketing_factors: Sequence[float] = (0.0, 0.5, 1.0, 2.0),
    tenure_period: float = 13.0,
    strong_correlation: float = 0.5,
) -> LoyaltyProfitResult:
    """Replicate Reinartz & Kumar (2000): lifetime versus profit for a customer cohort.

    Parameters
    ----------
    transactions : DataFrame
        ``customer_id``, ``date``, ``amount`` (revenue per order); optional
        ``quantity`` (units per order, for proposition 4) and ``cost`` (cost of goods
        per order, used when ``costs.use_cost_column``).
    costs : CostModel
        Margin, cost per order and marketing per customer and week counted alive:
        ``CostModel.per_period(margin, cost_per_order, marketing_per_week, "W")``.
        Default: 30% margin, no other costs.
    model : str or fitted model
        ``"pareto_nbd"`` (the paper's), ``"mbg_nbd"`` or ``"bg_nbd"`` (fitted on the
        cohort), or an already fitted model (used as given; a fitted crmlab model is
        refitted in the bootstrap, a stand-in with only ``probability_alive`` is not and
        the method column says so).
    alive_threshold : float
        P(alive) below which a customer counts as gone, in (0, 1); the paper uses 0.5.
    marketing_until : {"lifetime", "observation_end"}
        Charge marketing while the customer counts as alive (default) or over the whole
        observation window.
    one_time_apart : bool
        Keep one-time buyers as their own group and cut the quadrants among repeat
        buyers (default). False cuts everyone together, as the paper did.
    cohort : pair of dates or None
        First and last day of first purchase that defines the cohort (inclusive);
        None takes every customer. Customers outside are excluded and counted.
    observation_end : date or None
        Last day observed (default: the last transaction date). Later transactions are
        excluded and counted.
    split : "median", "mean" or (lifetime_cut, profit_cut)
        Where "long" and "high" start, among the customers cut (repeat buyers by
        default); customers at a cut go to the lower group (:func:`split_groups`).
    min_group_share : float
        Smallest share of the cut customers either side of a cut may hold before the
        study refuses the split with a :class:`DataError`.
    n_boot, seed, level : int, int, float
        Bootstrap draws (each refits the model; 0 = no intervals), their seed, and the
        confidence level of all intervals.
    thresholds, margins, marketing_factors : sequences
        The sensitivity grid: P(alive) thresholds, margins (default: the cost model's
        margin +- 0.1, clipped to [0.05, 0.95]) and multiples of the marketing cost.
    tenure_period : float
        Length in weeks of the tenure periods of proposition 2 (13 = a quarter).
    strong_correlation : float
        Correlation a "strong" association must reach (proposition 1; Cohen's 0.5).

    Returns
    -------
    LoyaltyProfitResult

    Notes
    -----
    Profit per customer over the observation window (undiscounted):
    ``profit = revenue - cost_of_goods - cost_per_order * orders - m * weeks_marketed``
    with ``m = costs.cost_per_customer("W")``. With ``marketing_until="lifetime"``
    profit contains ``-m * lifetime``, a negative link to lifetime built in by the cost
    model; the association table therefore also reports the correlation without it.
    """
    costs = CostModel() if costs is None else costs
    _check_parameters(alive_threshold, costs, n_boot, tenure_period, level, marketing_until)
    tx, end, (start, stop), excluded = _prepare(transactions, cohort, observation_end)
    table = _customer_table(tx, end, costs)
    fit = _fit_model(model, table)
    life = alive_lifetimes(fit, table, alive_threshold)
    money = _money(table, life["lifetime"], costs, marketing_until)
    customers = table.drop(columns="cost_of_goods").join(life).join(money)
    repeat = customers["repeat_buyer"].to_numpy()
    apart = bool(one_time_apart)
    if apart and repeat.sum() < 3:
        raise DataError(
            f"only {int(repeat.sum())} of {len(customers):,} customers bought more than once; "
            "the quadrants are cut among repeat buyers. Fix: a longer observation window, a "
            "larger cohort, or one_time_apart=False."
        )

    if isinstance(split, str):
        rules = (split, split)
    elif isinstance(split, Sequence) and len(split) == 2:
        rules = tuple(split)
    else:
        raise DataError(
            f"split must be 'median', 'mean' or a pair (lifetime_cut, profit_cut); got {split!r}."
        )
    among = repeat if apart else np.ones(len(customers), dtype=bool)
    long_life = np.zeros(len(customers), dtype=bool)
    high_profit = np.zeros(len(customers), dtype=bool)
    infos = []
    for values, flags, rule, name, labels in (
        (customers["lifetime"], long_life, rules[0], "lifetime", ("short", "long")),
        (customers["profit"], high_profit, rules[1], "profit", ("low", "high")),
    ):
        high, info = split_groups(
            values.to_numpy()[among], rule, name=name, labels=labels, min_share=min_group_share
        )
        flags[among] = high
        info["among"] = REPEAT if apart else ALL
        infos.append(info)
    customers["long_life"] = long_life
    customers["high_profit"] = high_profit
    customers["segment"] = _segments(repeat, long_life, high_profit, apart)
    splits = pd.DataFrame(infos)

    one = customers.loc[~repeat, "lifetime"]
    counts = one.value_counts()
    ties = {
        "one_time_buyers": int((~repeat).sum()),
        "one_time_tied": int(counts.iloc[0]) if len(counts) else 0,
        "one_time_lifetime": float(counts.index[0]) if len(counts) else np.nan,
        "one_time_censored": int(customers.loc[~repeat, "censored"].sum()),
    }

    masks = _samples(repeat, customers["censored"].to_numpy(), apart)
    boot = _bootstrap(
        table, fit, model, life, costs, alive_threshold, marketing_until, apart, n_boot, seed
    )
    imputed = _imputed_estimate(fit, table, life, costs, marketing_until, masks, seed)
    association = _association(customers, masks, boot, level, imputed)
    lifetime = customers["lifetime"].to_numpy()
    group = np.where(high_profit, "high profit", "low profit")[among]
    survival, surv_tests = survival_by_group(
        lifetime[among], ~customers["censored"].to_numpy()[among], group, level=level
    )
    surv_tests["sample"] = REPEAT if apart else ALL
    association = pd.concat([association, surv_tests], ignore_index=True)

    sensitivity = _sensitivity(
        fit,
        table,
        life,
        costs,
        alive_threshold,
        thresholds,
        _margin_grid(costs, margins),
        marketing_factors,
        marketing_until,
        rules,
        apart,
    )
    studied = customers.loc[among]
    by_tenure, tenure_test = _props.profit_by_tenure(
        tx.loc[tx["customer_id"].isin(studied.index)],
        studied,
        None if _uses_cost_column(tx, costs) else costs.margin,
        costs.cost_per_order,
        costs.cost_per_customer(UNIT),
        tenure_period,
        level,
    )
    propositions = _props.test_propositions(
        association,
        studied,
        tenure_test,
        sample=REPEAT if apart else ALL,
        strong_correlation=strong_correlation,
        level=level,
    )
    settings = {
        "model": model if isinstance(model, str) else type(model).__name__,
        "model_params": dict(getattr(fit, "params", pd.Series(dtype=float)).round(6)),
        "alive_threshold": alive_threshold,
        "margin": None if _uses_cost_column(tx, costs) else costs.margin,
        "cost_per_order": costs.cost_per_order,
        "marketing_cost_per_week": costs.cost_per_customer(UNIT),
        "marketing_until": marketing_until,
        "one_time_apart": apart,
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
        ties=ties,
        survival=survival,
        profit_by_tenure=by_tenure,
        bootstrap=boot,
        fit=fit,
        costs=costs,
        settings=settings,
        excluded=excluded,
    )


def _bootstrap(
    table: pd.DataFrame,
    fit: Any,
    model: Any,
    life: pd.DataFrame,
    costs: CostModel,
    threshold: float,
    marketing_until: str,
    apart: bool,
    n_boot: int,
    seed: int,
) -> BootstrapRun:
    """Refit the model on each resample and recompute lifetimes, profit and statistics."""
    repeat = table["repeat_buyer"].to_numpy()

    def statistics(fit_b: Any, w: np.ndarray, rng: np.random.Generator) -> dict[str, float]:
        lt = life if fit_b is fit else alive_lifetimes(fit_b, table, threshold, tol=1e-4)
        money = _money(table, lt["lifetime"], costs, marketing_until)
        masks = _samples(repeat, lt["censored"].to_numpy(), apart)
        out = _point_statistics(
            lt["lifetime"].to_numpy(),
            money["profit"].to_numpy(),
            money["cost_marketing"].to_numpy(),
            masks,
            w,
        )
        out.update(_imputed(fit_b, table, lt["p_alive_end"], costs, marketing_until, masks, w, rng))
        return out

    refit = refitter(model, fit)
    if int(n_boot) == 0:
        return BootstrapRun(pd.DataFrame(), 0, 0, 0.0, refit is not None)
    return refit_bootstrap(table, refit, fit, statistics, n_boot=n_boot, seed=seed)


def _margin_grid(costs: CostModel, margins: Sequence[float] | None) -> list[float]:
    if margins is not None:
        grid = [float(m) for m in margins]
        bad = [m for m in grid if not 0 <= m <= 1]
        if bad:
            raise DataError(f"margins must lie in [0, 1]; got {bad[0]!r}.")
        return grid
    m = costs.margin
    return sorted({float(np.clip(round(m + d, 4), 0.05, 0.95)) for d in (-0.1, 0.0, 0.1)})


def _sensitivity(
    fit: Any,
    table: pd.DataFrame,
    life: pd.DataFrame,
    costs: CostModel,
    base_threshold: float,
    thresholds: Sequence[float],
    margins: list[float],
    factors: Sequence[float],
    marketing_until: str,
    rules: tuple[Any, Any],
    apart: bool,
) -> pd.DataFrame:
    """Headline statistics for every (threshold, margin, marketing cost).

    Besides the correlations among repeat buyers and among all customers, each row
    gives the one-time buyers' median lifetime and marketing cost, the quantities that
    move the all-customer correlation when the threshold changes. ``margin`` replaces
    recorded costs of goods with ``(1 - margin) x revenue``.
    """
    base_week = costs.cost_per_customer(UNIT)
    weeks_grid = sorted({float(f) * base_week for f in factors} | {base_week})
    repeat = table["repeat_buyer"].to_numpy()
    rows = []
    for c in sorted({float(t) for t in thresholds} | {float(base_threshold)}):
        lt = life if c == base_threshold else alive_lifetimes(fit, table, c)
        lifetime = lt["lifetime"].to_numpy()
        for m in margins:
            for k in weeks_grid:
                money = _money(
                    table, lifetime, costs, marketing_until, margin=m, marketing_per_week=k
                )
                profit = money["profit"].to_numpy()
                ones = np.ones(lifetime.size)
                row = {
                    "alive_threshold": c,
                    "margin": m,
                    "marketing_cost_per_week": k,
                    "median_lifetime": float(np.median(lifetime)),
                    "share_censored": float(lt["censored"].mean()),
                    "pearson_repeat": _wpearson(lifetime, profit, ones * repeat),
                    "pearson_all": _wpearson(lifetime, profit, ones),
                    "one_time_median_lifetime": float(np.median(lifetime[~repeat]))
                    if (~repeat).any()
                    else np.nan,
                    "one_time_mean_marketing": float(money["cost_marketing"][~repeat].mean())
                    if (~repeat).any()
                    else np.nan,
                    "share_unprofitable": float(np.mean(profit < 0)),
                }
                among = repeat if apart else np.ones(lifetime.size, dtype=bool)
                try:
                    long_life, _ = split_groups(
                        lifetime[among], rules[0], name="lifetime", labels=("s", "l"), min_share=0
                    )
                    high, _ = split_groups(
                        profit[among], rules[1], name="profit", labels=("l", "h"), min_share=0
                    )
                    seg = pd.Series(
                        _segments(np.ones(long_life.size, bool), long_life, high, False)
                    ).value_counts(normalize=True)
                    for name in SEGMENTS:
                        row[f"share_{name.lower().replace(' ', '_')}"] = float(seg.get(name, 0))
                except DataError:
                    pass
                rows.append(row)
    return pd.DataFrame(rows)


def rerun(
    result: LoyaltyProfitResult,
    transactions: pd.DataFrame,
    *,
    alive_threshold: float,
    margin: float,
    marketing_cost_per_week: float,
) -> LoyaltyProfitResult:
    """The study again at another threshold, margin and marketing cost, on the same cohort
    and the same fitted model, without bootstrap (for sliders; intervals are NaN)."""
    s = result.settings
    costs = CostModel.per_period(
        margin, result.costs.cost_per_order, marketing_cost_per_week, UNIT, use_cost_column=False
    )
    return loyalty_profit(
        transactions,
        costs=costs,
        model=result.fit,
        alive_threshold=alive_threshold,
        marketing_until=s["marketing_until"],
        one_time_apart=s["one_time_apart"],
        cohort=s["cohort"],
        observation_end=s["observation_end"],
        split=s["split"],
        n_boot=0,
        seed=s["seed"],
        level=s["level"],
        thresholds=(alive_threshold,),
        margins=(margin,),
        marketing_factors=(1.0,),
        tenure_period=s["tenure_period"],
    )
