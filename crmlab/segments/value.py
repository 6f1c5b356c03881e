r"""Most valuable, most growable and below-zero customers (Peppers & Rogers,
*Enterprise One to One*, 1997; Peppers, Rogers & Dorf, *The One to One Fieldbook*, 1999).

Peppers & Rogers rank customers on two values, both about the future:

* **Actual value** - what the customer will be worth if nothing changes: the expected
  future profit over a stated horizon, from a fitted purchase model (Pareto/NBD, BG/NBD
  or MBG/NBD) and the Gamma-Gamma spend model (:func:`customer_values`). The customer's
  past profit (:func:`crmlab.segments.customer_profit`) is reported beside it as
  ``historical_profit``; it is not the actual value.
* **Potential (strategic) value** - what the customer could be worth if the firm won a
  larger share of the customer's category needs. With known wallets it is the
  share-of-wallet headroom in expected-profit terms (:func:`wallet_potential`). With
  only the firm's own transactions, :func:`customer_values` gives a stated model-based
  estimate: customers are grouped by their posterior purchase rate, and a customer's
  potential is the expected future profit they would bring if their spend per order
  reached the ``quantile`` of their group's (what customers who buy as often as they do
  demonstrably spend with us). Both are built on the same expected orders and expected
  time alive, so a customer the model says has left has little potential.

Groups (:func:`value_tiers`): **BZ** = negative expected future profit under the stated
costs; **MVC** = the top ``mvc_share`` of customers by actual value; **MGC** = the largest
gaps potential - actual among the customers still likely alive (P(alive) at least
``p_alive_min``), MVCs excluded; **other** = everyone else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import hyp2f1

from crmlab import units
from crmlab.costs import CostModel
from crmlab.errors import DataError

TIERS = ("MVC", "MGC", "BZ", "other")
MODELS = ("pareto_nbd", "bg_nbd", "mbg_nbd")


@dataclass(frozen=True)
class ValueModels:
    """The fitted models behind :func:`customer_values`.

    ``summary`` is :func:`crmlab.rfm_summary` of the whole history up to the scoring date
    (weeks); ``purchases`` the fitted purchase model; ``spend`` the Gamma-Gamma fit;
    ``zero_spend`` counts repeat buyers whose repeat orders were worth nothing (treated as
    having no spend history, see :func:`crmlab.models.customer_value.spend_inputs`).
    """

    summary: pd.DataFrame
    purchases: Any
    spend: Any
    zero_spend: int
    model: str
    time_unit: str = "W"


def fit_value_models(
    transactions: pd.DataFrame,
    *,
    model: str = "pareto_nbd",
    as_of: str | pd.Timestamp | None = None,
) -> ValueModels:
    """Fit a purchase model and Gamma-Gamma on every customer's history up to ``as_of``.

    Parameters
    ----------
    transactions : DataFrame
        ``customer_id``, ``date``, ``amount``.
    model : {"pareto_nbd", "bg_nbd", "mbg_nbd"}
        The purchase (and dropout) model. BG/NBD gives every one-time buyer P(alive) = 1
        (a property of the model); Pareto/NBD and MBG/NBD do not.
    as_of : date, optional
        The scoring date (last day of the history used); default: the last purchase day.

    Returns
    -------
    ValueModels
    """
    from crmlab import models, summary
    from crmlab.models.customer_value import spend_inputs

    if model not in MODELS:
        raise DataError(f"parameter 'model' is {model!r}; choose one of {', '.join(MODELS)}.")
    data = summary.rfm_summary(transactions, calibration_end=as_of, time_unit="W")
    fitter = {"pareto_nbd": models.ParetoNBD, "bg_nbd": models.BGNBD, "mbg_nbd": models.MBGNBD}
    purchases = fitter[model]().fit(data)
    spend_data, zero = spend_inputs(data)
    spend = models.GammaGamma().fit(spend_data)
    return ValueModels(data, purchases, spend, zero, model)


def _history(purchases: Any, data: pd.DataFrame) -> tuple[np.ndarray, ...]:
    for col in ("frequency", "recency", "T"):
        if col not in data.columns:
            raise DataError(
                f"column {col!r} is missing from the summary; have {list(data.columns)}. "
                "Make it with crmlab.rfm_summary."
            )
    params = {k: float(v) for k, v in purchases.params.items()}
    x = data["frequency"].to_numpy(float)
    T = data["T"].to_numpy(float)
    return params, x, T


def survival(purchases: Any, data: pd.DataFrame, u: float) -> np.ndarray:
    r"""P(the customer is still alive ``u`` time units after the end of their history).

    ``S(u) = P(alive at T) * P(alive at T + u | alive at T)``; given alive at ``T`` the
    posteriors of the purchase rate and the dropout process are independent
    (``lambda ~ Gamma(r + x, alpha + T)``), and

    * Pareto/NBD: ``mu ~ Gamma(s, beta + T)``, so
      :math:`P = ((\beta + T)/(\beta + T + u))^s`;
    * BG/NBD: the customer leaves after each purchase with ``p ~ Beta(a, b + x)``, so death
      comes at rate ``lambda p`` and :math:`P = E[(1 + p u/(\alpha+T))^{-(r+x)}]
      = {}_2F_1(r + x, a; a + b + x; -u/(\alpha + T))`;
    * MBG/NBD: as BG/NBD with ``p ~ Beta(a, b + x + 1)`` (one more coin survived, at the
      first purchase), so the last argument is ``a + b + x + 1``.
    """
    params, x, T = _history(purchases, data)
    p_alive = np.asarray(purchases.probability_alive(data), dtype=float)
    name = type(purchases).__name__
    if u <= 0:
        return p_alive
    if "Pareto" in name:
        s, beta = params["s"], params["beta"]
        return p_alive * ((beta + T) / (beta + T + u)) ** s
    if "BGNBD" in name:
        r, alpha, a, b = params["r"], params["alpha"], params["a"], params["b"]
        shift = 1.0 if name.startswith("MBG") else 0.0
        return p_alive * hyp2f1(r + x, a, a + b + x + shift, -u / (alpha + T))
    raise DataError(
        f"{name} is not a Pareto/NBD, BG/NBD or MBG/NBD result; expected time alive is "
        "defined for those models."
    )


def expected_alive_time(
    purchases: Any,
    data: pd.DataFrame,
    horizon: float,
    *,
    discount_rate: float = 0.0,
    step: float = 1.0,
) -> pd.Series:
    r"""Discounted expected time each customer is still a customer in ``(T, T + horizon]``.

    .. math:: A_i = \sum_{k=1}^{K} \Delta \, S_i((k - \tfrac12)\Delta)\,(1+d)^{-k\Delta}

    with :func:`survival` ``S_i``, steps of ``step`` time units (midpoint rule, discounted
    at the step's end, as :meth:`clv` discounts purchases) and discount rate ``d`` per time
    unit. For the Pareto/NBD, undiscounted, it satisfies
    ``E[X(horizon)] = (r + x)/(alpha + T) * A`` exactly (purchase rate and lifetime are
    independent): the test suite checks that identity.
    """
    if not horizon > 0:
        raise DataError(f"parameter 'horizon' is {horizon!r}; give a positive length.")
    if discount_rate < 0:
        raise DataError(f"discount_rate={discount_rate!r} must be >= 0 (per time unit).")
    ends = np.arange(step, float(horizon) + step / 2, step)
    total = np.zeros(len(data))
    prev = 0.0
    for end in ends:
        width = end - prev
        total += width * survival(purchases, data, end - width / 2) / (1 + discount_rate) ** end
        prev = end
    return pd.Series(total, index=data.index, name="alive_time")


def expected_orders(
    purchases: Any,
    data: pd.DataFrame,
    horizon: float,
    *,
    discount_rate: float = 0.0,
    step: float = 1.0,
) -> pd.Series:
    r"""Discounted expected repeat purchases in ``(T, T + horizon]``:
    :math:`\sum_k (E[X(k\Delta)] - E[X((k-1)\Delta)])(1+d)^{-k\Delta}`, the sum
    ``result.clv`` multiplies by margin and spend."""
    ends = np.arange(step, float(horizon) + step / 2, step)
    total = np.zeros(len(data))
    previous = np.zeros(len(data))
    for end in ends:
        current = np.asarray(purchases.expected_purchases(float(end), data=data), dtype=float)
        total += (current - previous) / (1 + discount_rate) ** end
        previous = current
    return pd.Series(total, index=data.index, name="expected_orders")


def customer_values(
    fitted: ValueModels,
    costs: CostModel,
    *,
    horizon: str | float = "3Y",
    annual_discount_rate: float = 0.10,
    rate_groups: int = 10,
    quantile: float = 0.9,
) -> pd.DataFrame:
    r"""Actual (expected future) value and model-based potential value of every customer.

    With ``X_i`` the discounted expected orders (:func:`expected_orders`), ``M_i`` the
    Gamma-Gamma expected spend per order, ``A_i`` the discounted expected years still a
    customer (:func:`expected_alive_time`) over the horizon, margin ``m``, cost per order
    ``c_o`` and cost per customer-year ``c_y``:

    .. math:: \text{actual}_i = m M_i X_i - c_o X_i - c_y A_i

    The yearly cost is charged only while the customer is alive (weighted by the
    probability that they still are), not for every customer on the books.

    Potential: customers are put in ``rate_groups`` groups by their posterior mean
    purchase rate ``(r + x)/(alpha + T)`` (quantile groups; equal rates stay together), and
    :math:`M^*_g` is the ``quantile`` of the group's expected spend per order. Then

    .. math:: \text{potential}_i = m \max(M_i, M^*_g) X_i - c_o X_i - c_y A_i
        \;\ge\; \text{actual}_i

    Assumptions: the customer keeps their purchase rate and lifetime and only spends more
    per order, as the better-spending customers with their purchase rate do; a customer
    unlikely to be alive has small ``X_i`` and so small potential. Customers without a
    repeat purchase all have the population mean spend, so in a group made only of them
    the gap is zero: nothing in their history says they would spend more.

    Parameters
    ----------
    fitted : ValueModels
        From :func:`fit_value_models`.
    costs : CostModel
        Margin, cost per order, cost per customer-year.
    horizon : str or float
        How far ahead, e.g. ``"3Y"`` (a number is in weeks).
    annual_discount_rate : float
        Yearly discount rate (converted to weeks by :func:`crmlab.units.rate_per_period`).
    rate_groups : int
        Groups of similar purchase rate for the potential spend.
    quantile : float
        Quantile of the group's spend per order taken as reachable.

    Returns
    -------
    DataFrame
        Indexed by customer: ``frequency``, ``recency``, ``T``, ``p_alive``,
        ``expected_orders``, ``expected_spend``, ``alive_years``, ``expected_margin``
        (``m M X``), ``order_costs``, ``customer_costs``, ``actual_value``,
        ``breakeven_cost_per_year`` (the ``c_y`` at which the actual value is 0),
        ``purchase_rate``, ``rate_group``, ``potential_spend``, ``potential_value``,
        ``gap`` (potential - actual). ``attrs`` records the horizon, rate and model.
    """
    unit = fitted.time_unit
    length = units.parse_duration(horizon, unit)
    weekly = units.rate_per_period(annual_discount_rate, unit)
    if not isinstance(rate_groups, int | np.integer) or rate_groups < 1:
        raise DataError(f"parameter 'rate_groups' is {rate_groups!r}; give a whole number >= 1.")
    if not 0 < quantile <= 1:
        raise DataError(f"parameter 'quantile' is {quantile!r}; give a value in (0, 1].")
    data = fitted.summary
    purchases = fitted.purchases
    from crmlab.models.customer_value import spend_inputs

    spend = fitted.spend.expected_spend(spend_inputs(data)[0])
    if not np.all(np.isfinite(spend)):
        raise DataError(
            "the Gamma-Gamma fit has no finite mean spend (q <= 1); actual value cannot be "
            "computed from it. Trim extreme order values or use a longer history."
        )
    out = data[["frequency", "recency", "T"]].copy()
    out["p_alive"] = np.asarray(purchases.probability_alive(data), dtype=float)
    orders = expected_orders(purchases, data, length, discount_rate=weekly).to_numpy()
    alive = expected_alive_time(purchases, data, length, discount_rate=weekly).to_numpy()
    out["expected_orders"] = orders
    out["expected_spend"] = spend.to_numpy(float)
    out["alive_years"] = alive / units.periods_per_year(unit)
    out["expected_margin"] = costs.margin * out["expected_spend"] * orders
    out["order_costs"] = costs.cost_per_order * orders
    out["customer_costs"] = costs.cost_per_customer_year * out["alive_years"]
    out["actual_value"] = out["expected_margin"] - out["order_costs"] - out["customer_costs"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["breakeven_cost_per_year"] = (out["expected_margin"] - out["order_costs"]) / out[
            "alive_years"
        ]
    r, alpha = float(purchases.params["r"]), float(purchases.params["alpha"])
    out["purchase_rate"] = (r + out["frequency"]) / (alpha + out["T"])
    out["rate_group"] = rate_group(out["purchase_rate"], rate_groups)
    reach = out.groupby("rate_group")["expected_spend"].transform(lambda v: v.quantile(quantile))
    out["potential_spend"] = np.maximum(out["expected_spend"], reach)
    out["potential_value"] = out["actual_value"] + costs.margin * orders * (
        out["potential_spend"] - out["expected_spend"]
    )
    out["gap"] = out["potential_value"] - out["actual_value"]
    years = units.convert(length, unit, "Y")
    out.attrs.update(
        horizon=f"{years:g} year{'s' if years != 1 else ''}",
        horizon_periods=length,
        time_unit=unit,
        annual_discount_rate=annual_discount_rate,
        model=fitted.model,
        quantile=quantile,
        rate_groups=rate_groups,
    )
    return out


def rate_group(rate: pd.Series, groups: int = 10) -> pd.Series:
    """Quantile groups 1..``groups`` of a purchase rate (1 = slowest). Equal rates share a
    group (so with many ties there are fewer, larger groups)."""
    rate = pd.Series(rate, dtype=float)
    if groups == 1 or rate.nunique() < 2:
        return pd.Series(1, index=rate.index, dtype=int)
    codes = pd.qcut(rate, groups, labels=False, duplicates="drop")
    return (codes.rank(method="dense").astype(int)).rename("rate_group")


def wallet_potential(
    values: pd.DataFrame, share_of_wallet: pd.Series, target_share: float | pd.Series
) -> pd.Series:
    r"""Potential value from share-of-wallet headroom, in expected-profit terms.

    If customer ``i`` gives the firm a share ``s_i`` of a category wallet, their orders with
    the firm scale to ``s^*/s_i`` times as many at a share ``s^* > s_i`` (same spend per
    order, same lifetime):

    .. math:: \text{potential}_i = \max(1, s^*/s_i)(m M_i - c_o) X_i - c_y A_i

    from the columns ``expected_margin`` (``m M X``), ``order_costs`` (``c_o X``) and
    ``customer_costs`` (``c_y A``) of :func:`customer_values`; never below the actual value.

    Parameters
    ----------
    values : DataFrame
        From :func:`customer_values` (or any frame with those three columns).
    share_of_wallet : Series
        Each customer's current share of wallet in (0, 1], aligned by customer id.
    target_share : float or Series
        The share the firm could win (e.g. the share its best-served customers give it).
    """
    need = ["expected_margin", "order_costs", "customer_costs"]
    missing = [c for c in need if c not in values.columns]
    if missing:
        raise DataError(f"columns {missing} are missing; pass the frame of customer_values.")
    sow = pd.Series(share_of_wallet, dtype=float).reindex(values.index)
    bad = ~((sow > 0) & (sow <= 1))
    if bad.any():
        first = values.index[np.flatnonzero(bad.to_numpy())[0]]
        raise DataError(
            f"share_of_wallet is missing or outside (0, 1] for {int(bad.sum())} customer(s), "
            f"first {first!r}; give every customer's share of their category spend."
        )
    target = pd.Series(target_share, index=values.index, dtype=float)
    scale = np.maximum(1.0, target / sow)
    per_order = values["expected_margin"] - values["order_costs"]
    return (scale * per_order - values["customer_costs"]).rename("potential_value")


def value_tiers(
    values: pd.DataFrame,
    *,
    mvc_share: float = 0.20,
    mgc_share: float = 0.20,
    p_alive_min: float = 0.5,
    actual: str = "actual_value",
    potential: str = "potential_value",
) -> pd.Series:
    """MVC, MGC, BZ or other for every customer.

    Checked in this order: **BZ** = actual value < 0; **MVC** = among the rest, the top
    ``mvc_share`` of *all* customers by actual value; **MGC** = among the rest with
    P(alive) >= ``p_alive_min`` and a positive gap, the top ``mgc_share`` of all customers
    by gap ``potential - actual``; **other**. Ties at a cut-off join the group (it may be
    slightly larger than its share).

    Returns
    -------
    Series ``tier``: ordered categorical MVC, MGC, BZ, other.
    """
    for name in (actual, potential, "p_alive"):
        if name not in values.columns:
            raise DataError(
                f"column {name!r} is missing; have {list(values.columns)}. Pass the frame of "
                "segments.customer_values."
            )
        if values[name].isna().any():
            first = values.index[values[name].isna().to_numpy()][0]
            raise DataError(
                f"column {name!r} has {int(values[name].isna().sum())} missing value(s), "
                f"first for customer {first!r}; fill them."
            )
    for pname, share in (("mvc_share", mvc_share), ("mgc_share", mgc_share)):
        if not 0 <= share <= 1:
            raise DataError(f"parameter {pname!r} is {share!r}; give a share between 0 and 1.")
    if mvc_share + mgc_share > 1:
        raise DataError(
            f"mvc_share + mgc_share = {mvc_share + mgc_share:.3g} exceeds 1; the groups are "
            "shares of the same customers."
        )
    if not 0 <= p_alive_min <= 1:
        raise DataError(f"parameter 'p_alive_min' is {p_alive_min!r}; give a probability.")
    n = len(values)
    bz = values[actual] < 0
    rank_a = values[actual].where(~bz).rank(method="min", ascending=False)
    mvc = ~bz & (rank_a - 1 < mvc_share * n - 1e-9)
    gap = values[potential] - values[actual]
    eligible = ~bz & ~mvc & (values["p_alive"] >= p_alive_min) & (gap > 0)
    rank_g = gap.where(eligible).rank(method="min", ascending=False)
    mgc = eligible & (rank_g - 1 < mgc_share * n - 1e-9)
    tier = np.select([bz, mvc, mgc], ["BZ", "MVC", "MGC"], default="other")
    return pd.Series(
        pd.Categorical(tier, categories=list(TIERS), ordered=True), index=values.index, name="tier"
    )


def tier_table(values: pd.DataFrame, tier: pd.Series) -> pd.DataFrame:
    """Size and value of each tier.

    Columns: ``customers``, ``share`` (of customers), ``actual_value`` (sum of expected
    future profit), ``actual_share`` (of the total actual value), ``potential_value``,
    ``gap`` (sum of potential - actual), ``gap_share``, ``median_p_alive`` and, when
    ``values`` has it, ``historical_profit`` (sum). The last row ``all`` is the total.
    """
    tier = pd.Series(tier).reindex(values.index)
    g = values.groupby(tier, observed=False)
    table = pd.DataFrame(
        {
            "customers": g.size().astype(int),
            "actual_value": g["actual_value"].sum(),
            "potential_value": g["potential_value"].sum(),
            "gap": g["gap"].sum() if "gap" in values else g["potential_value"].sum() * np.nan,
            "median_p_alive": g["p_alive"].median(),
        }
    )
    if "historical_profit" in values.columns:
        table["historical_profit"] = g["historical_profit"].sum()
    table.index = pd.Index(table.index.astype(str), name="tier")
    total = pd.Series(
        {
            "customers": len(values),
            "actual_value": values["actual_value"].sum(),
            "potential_value": values["potential_value"].sum(),
            "gap": table["gap"].sum(),
            "median_p_alive": values["p_alive"].median(),
            **(
                {"historical_profit": values["historical_profit"].sum()}
                if "historical_profit" in values.columns
                else {}
            ),
        },
        name="all",
    )
    table = pd.concat([table, total.to_frame().T])
    table.index.name = "tier"
    table["customers"] = table["customers"].astype(int)
    table.insert(1, "share", table["customers"] / max(len(values), 1))
    tot_a, tot_g = table.loc["all", "actual_value"], table.loc["all", "gap"]
    table.insert(3, "actual_share", table["actual_value"] / tot_a if tot_a else np.nan)
    table.insert(6, "gap_share", table["gap"] / tot_g if tot_g else np.nan)
    return table


def tier_moves(before: pd.Series, after: pd.Series) -> pd.DataFrame:
    """Customers per (tier before, tier after): who moves when an assumption changes.

    Rows: tiers under the first assumptions; columns: under the second; plus totals.
    """
    before, after = pd.Series(before), pd.Series(after)
    if not before.index.equals(after.index):
        after = after.reindex(before.index)
        if after.isna().any():
            raise DataError(
                "the two tier series hold different customers; compute both on the same values."
            )
    table = pd.crosstab(before, after, margins=True, margins_name="all", dropna=False)
    table.index.name, table.columns.name = "tier before", "tier after"
    return table


def bz_grid(
    values: pd.DataFrame,
    cost_per_order: Sequence[float],
    cost_per_customer_year: Sequence[float],
    *,
    base: CostModel,
) -> pd.DataFrame:
    """Share of customers with negative expected future profit over both serving costs.

    Recomputes ``actual = expected_margin - c_o X - c_y A`` from the columns of
    :func:`customer_values` made with ``base`` (margin fixed), for every pair.

    Returns
    -------
    DataFrame
        Index ``cost_per_order``, columns ``cost_per_customer_year``, cells BZ share.
    """
    if base.cost_per_order > 0:
        x = values["order_costs"] / base.cost_per_order
    elif "expected_orders" in values:
        x = values["expected_orders"]
    else:
        raise DataError("values need an 'expected_orders' column; use segments.customer_values.")
    years = values["alive_years"]
    margin = values["expected_margin"]
    grid = {}
    for co in cost_per_order:
        grid[float(co)] = {
            float(cy): float(np.mean(margin - co * x - cy * years < 0))
            for cy in cost_per_customer_year
        }
    out = pd.DataFrame(grid).T
    out.index.name, out.columns.name = "cost_per_order", "cost_per_customer_year"
    return out


def bz_share(values: pd.DataFrame, cost_per_order: float, cost_per_customer_year: float) -> float:
    """Share of customers with ``expected_margin - c_o expected_orders - c_y alive_years < 0``."""
    actual = (
        values["expected_margin"]
        - cost_per_order * values["expected_orders"]
        - cost_per_customer_year * values["alive_years"]
    )
    return float(np.mean(actual < 0))


def value_tier_findings(
    values: pd.DataFrame,
    costs: CostModel,
    *,
    whale_stats: pd.Series,
    peak_grid: pd.DataFrame,
    rfm_scores: pd.DataFrame,
    rfm_table: pd.DataFrame,
    simulated_stats: pd.Series | None = None,
) -> list:
    """The executive summary of the value-tier study, one :class:`crmlab.reports.Finding`
    per sentence.

    Parameters
    ----------
    values : DataFrame
        :func:`customer_values` plus a ``tier`` column (:func:`value_tiers`).
    costs : CostModel
        The stated costs the tiers were made with.
    whale_stats : Series
        :func:`crmlab.segments.whale_summary` of historical profit at ``costs``.
    peak_grid : DataFrame
        :func:`crmlab.segments.whale_grid` of the peak share (historical profit).
    rfm_scores, rfm_table : DataFrame
        :func:`crmlab.segments.rfm_scores` and :func:`crmlab.segments.segment_table`
        (with rules, so empty segments carry their note).
    simulated_stats : Series, optional
        Whale summary of the simulated retailer; its sentence says "simulated".
    """
    from crmlab.reports import Finding

    tier = values["tier"].astype(str)
    total = values["actual_value"].sum()
    share = {t: float(np.mean(tier == t)) for t in TIERS}
    value_share = {t: float(values.loc[tier == t, "actual_value"].sum() / total) for t in TIERS}
    horizon = values.attrs.get("horizon", "the horizon")
    co, cy = costs.cost_per_order, costs.cost_per_customer_year
    out = [
        Finding(
            f"Over the next {horizon}, the most valuable customers (MVC, {{mvc:.0%}} of "
            "customers) hold {mvc_value:.0%} of the expected future profit; {mgc:.0%} are most "
            "growable (MGC) and {bz:.0%} are below zero (BZ: expected future profit under 0 at "
            "${co:.2f} per order and ${cy:.2f} per customer-year). These shares come from the "
            "fitted models' point estimates; the uncertainty of their parameters is not carried "
            "into the tiers (the lifetime-value report gives total value with intervals), and "
            "the below-zero share rests on the assumed costs (next sentences).",
            {
                "mvc": share["MVC"],
                "mvc_value": value_share["MVC"],
                "mgc": share["MGC"],
                "bz": share["BZ"],
                "co": co,
                "cy": cy,
            },
        )
    ]
    gap = values["potential_value"] - values["actual_value"]
    mgc = tier == "MGC"
    if mgc.any():
        out.append(
            Finding(
                "The MGC customers are likely still buying (median P(alive) {mgc_p:.2f} against "
                "{all_p:.2f} for all customers) and hold {mgc_gap:.0%} of the gap between "
                "potential and actual value.",
                {
                    "mgc_p": float(values.loc[mgc, "p_alive"].median()),
                    "all_p": float(values["p_alive"].median()),
                    "mgc_gap": float(gap[mgc].sum() / gap.sum()) if gap.sum() else float("nan"),
                },
            )
        )
    numbers = {
        "bz": bz_share(values, co, cy),
        "bz_no_year": bz_share(values, co, 0.0),
        "bz_no_order": bz_share(values, 0.0, cy),
        "co": co,
        "cy": cy,
        "breakeven": float(values["breakeven_cost_per_year"].median()),
    }
    driver = (
        "cost per customer-year"
        if numbers["bz_no_year"] <= numbers["bz_no_order"]
        else ("cost per order")
    )
    out.append(
        Finding(
            f"BZ comes from the {driver}: with no yearly cost {{bz_no_year:.1%}} of customers "
            "are BZ, with no cost per order {bz_no_order:.1%}, with both (${co:.2f} per order, "
            "${cy:.2f} a year) {bz:.1%}; half the customers bring less than "
            "${breakeven:.2f} of margin net of order costs per expected year as a customer, "
            "so a yearly cost above that makes at least half of them BZ.",
            numbers,
        )
    )
    cos, cys = peak_grid.index, peak_grid.columns
    out.append(
        Finding(
            "On historical profit the whale curve peaks at {peak:.0%} of total profit after "
            "{peak_at:.0%} of customers; across the costs tried the peak is {p_min:.0%} with "
            "no serving costs and {p_max:.0%} at ${co_max:.2f} per order and ${cy_max:.2f} "
            "a year.",
            {
                "peak": float(whale_stats["peak_share"]),
                "peak_at": float(whale_stats["peak_at"]),
                "p_min": float(peak_grid.loc[cos.min(), cys.min()]),
                "p_max": float(peak_grid.loc[cos.max(), cys.max()]),
                "co_max": float(cos.max()),
                "cy_max": float(cys.max()),
            },
        )
    )
    out.append(_rfm_finding(rfm_scores, rfm_table))
    if simulated_stats is not None:
        out.append(
            Finding(
                "In the simulated retailer, which records a cost for every order, the whale "
                "curve peaks at {peak:.0%} of total profit and {unprofitable:.0%} of customers "
                "lose money.",
                {
                    "peak": float(simulated_stats["peak_share"]),
                    "unprofitable": float(simulated_stats["share_unprofitable"]),
                },
                simulated=True,
            )
        )
    return out


def _rfm_finding(scores: pd.DataFrame, table: pd.DataFrame):
    from crmlab.reports import Finding

    sizes = table["customers"]
    largest = str(sizes.idxmax())
    empty = [str(s) for s in table.index[(sizes == 0).to_numpy()]]
    one = scores["frequency"] == 1
    numbers = {
        "share": float(table.loc[largest, "share"]),
        "one_time": float(one.mean()),
        "rho": float(scores["R"].corr(scores["F"], method="spearman")),
    }
    text = f"The largest RFM segment is '{largest}' ({{share:.0%}} of customers)"
    if numbers["share"] >= 0.25:
        text += (
            ": recency and frequency go together in these data (Spearman correlation of the R "
            "and F scores {rho:.2f}), so the recent customers are also the frequent ones"
        )
    if one.any() and scores.loc[one, "F"].nunique() == 1 and scores.loc[one, "F"].iloc[0] > 1:
        numbers["f_one"] = int(scores.loc[one, "F"].iloc[0])
        text += (
            "; the {one_time:.0%} who bought once all share F score {f_one} (tied values "
            "get the score of their average rank)"
        )
    if empty:
        text += f", and {len(empty)} segment(s) are empty ({', '.join(empty)})"
    return Finding(text + ".", numbers)


LIST_COLUMNS = {
    "actual_value": "expected_profit",
    "potential_value": "potential_profit",
    "gap": "extra_profit_possible",
    "p_alive": "chance_still_buying",
    "historical_profit": "past_profit",
    "expected_orders": "expected_orders",
    "expected_spend": "expected_spend_per_order",
}
ACTION_LISTS = {
    "keep": ("MVC", "value_tiers_keep", "actual_value"),
    "grow": ("MGC", "value_tiers_grow", "gap"),
    "serve more cheaply": ("BZ", "value_tiers_serve_cheaply", "actual_value"),
}


def value_tier_lists(values: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The customers behind each recommended action, one table per action.

    ``value_tiers_keep`` (the most valuable, by expected profit, highest first),
    ``value_tiers_grow`` (the most growable, by the extra profit possible) and
    ``value_tiers_serve_cheaply`` (expected to lose money, largest loss first), with the
    columns a client acts on in plain names (:data:`LIST_COLUMNS`).
    """
    if "tier" not in values.columns:
        raise DataError("column 'tier' is missing; add it with segments.value_tiers.")
    cols = [c for c in LIST_COLUMNS if c in values.columns or c == "gap"]
    table = values.assign(gap=values["potential_value"] - values["actual_value"])[cols]
    table = table.rename(columns=LIST_COLUMNS)
    table.index.name = "customer_id"
    tier = values["tier"].astype(str)
    out = {}
    for tier_name, name, by in ACTION_LISTS.values():
        ascending = tier_name == "BZ"
        out[name] = table[tier == tier_name].sort_values(
            LIST_COLUMNS[by], ascending=ascending, kind="stable"
        )
    return out


def value_tier_client(
    values: pd.DataFrame,
    costs: CostModel,
    *,
    whale_stats: pd.Series,
    export: bool = False,
) -> tuple[list, list]:
    """The value-tier study for a client: plain sentences and the recommended actions.

    The same results as :func:`value_tier_findings` without model names or tier
    abbreviations, every number with its unit: the expected future profit of the most
    valuable customers (keep them), the extra profit the growable customers would bring at
    the reachable spend per order (grow them), the loss expected from the customers below
    zero and how much of it rests on the yearly cost per customer (serve them more cheaply
    or check that cost), and the profit so far (how much the loss-makers took back).

    Parameters
    ----------
    values : DataFrame
        :func:`customer_values` plus ``tier`` (:func:`value_tiers`); its ``attrs`` give
        the horizon and the potential-spend quantile.
    costs : CostModel
        The costs the values were made with.
    whale_stats : Series
        :func:`crmlab.segments.whale_summary` of historical profit at ``costs``.
    export : bool
        Also write each action's customer list (:func:`value_tier_lists`) with
        :func:`crmlab.reports.export`; the actions name those files either way.

    Returns
    -------
    (list of Finding, list of Action)
        For :func:`crmlab.reports.executive_summary` ``client=`` and ``actions=``.
    """
    from crmlab.reports import Action, Finding
    from crmlab.reports import export as write

    for col in ("tier", "actual_value", "potential_value", "p_alive", "breakeven_cost_per_year"):
        if col not in values.columns:
            raise DataError(
                f"column {col!r} is missing; pass customer_values with a 'tier' column "
                "(segments.value_tiers)."
            )
    lists = value_tier_lists(values)
    if export:
        for name, table in lists.items():
            write(table, name)
    files = {verb: f"{name}.csv" for verb, (_, name, _) in ACTION_LISTS.items()}
    tier = values["tier"].astype(str)
    horizon = values.attrs.get("horizon", "the horizon")
    reach = 1 - float(values.attrs.get("quantile", 0.9))
    total = float(values["actual_value"].sum())
    gap = values["potential_value"] - values["actual_value"]
    group = {t: tier == t for t in TIERS}
    n = {t: int(group[t].sum()) for t in TIERS}
    worth = {t: float(values.loc[group[t], "actual_value"].sum()) for t in TIERS}
    co, cy = costs.cost_per_order, costs.cost_per_customer_year
    top = {
        "mvc": n["MVC"],
        "mvc_share": n["MVC"] / len(values),
        "mvc_value": worth["MVC"],
        "mvc_value_share": worth["MVC"] / total if total else float("nan"),
    }
    client = [
        Finding(
            f"Over the next {horizon}, your {{customers:,}} customers are expected to bring "
            "${total:,.0f} of profit after serving costs, if they keep buying as they have so "
            "far; the most valuable {mvc:,} customers ({mvc_share:.0%}) bring "
            "${mvc_value:,.0f} of it ({mvc_value_share:.0%}).",
            {"customers": len(values), "total": total, **top},
        )
    ]
    actions = [
        Action(
            "keep",
            "Keep the {mvc:,} most valuable customers: they are expected to bring "
            f"${{mvc_value:,.0f}} of profit over the next {horizon}, {{mvc_value_share:.0%}} of "
            "the total; look after them first and follow up on any who stop buying.",
            top,
            customers=n["MVC"],
            value=worth["MVC"],
            list_file=files["keep"],
        )
    ]
    if n["MGC"]:
        grow = {
            "mgc": n["MGC"],
            "mgc_share": n["MGC"] / len(values),
            "gap": float(gap[group["MGC"]].sum()),
        }
        client.append(
            Finding(
                "{mgc:,} more customers ({mgc_share:.0%}) are probably still buying but spend "
                "less per order than customers who buy as often as they do; if they spent as "
                f"the best-spending {reach:.0%} of those customers, they would bring "
                f"${{gap:,.0f}} more profit over the next {horizon} (an estimate that assumes "
                "they buy as often and stay as long as now).",
                grow,
            )
        )
        actions.append(
            Action(
                "grow",
                "Grow the {mgc:,} customers who still buy but spend little per order: up to "
                f"${{gap:,.0f}} more profit over the next {horizon}; try an offer that raises "
                "the order value on part of them and compare with the rest before rolling it "
                "out.",
                grow,
                customers=n["MGC"],
                value=grow["gap"],
                list_file=files["grow"],
            )
        )
    if n["BZ"]:
        loss = {
            "bz": n["BZ"],
            "bz_share": n["BZ"] / len(values),
            "loss": -worth["BZ"],
            "per_customer": -worth["BZ"] / n["BZ"],
            "cy": cy,
            "co": co,
            "bz_no_year": bz_share(values, co, 0.0),
            "breakeven": float(values["breakeven_cost_per_year"].median()),
        }
        without = (
            "no customer would lose money"
            if loss["bz_no_year"] == 0
            else "{bz_no_year:.0%} of customers would lose money"
        )
        client.append(
            Finding(
                "{bz:,} customers ({bz_share:.0%}) are expected to cost more to serve than they "
                f"bring over the next {horizon}: ${{loss:,.0f}} in total, ${{per_customer:,.2f}} "
                "per customer on average, at the assumed ${co:,.2f} per order and ${cy:,.2f} "
                f"per customer a year. That count rests on the yearly cost: without it {without}"
                ", and half of all customers bring less than ${breakeven:,.2f} a year after "
                "order costs.",
                loss,
            )
        )
        actions.append(
            Action(
                "serve more cheaply",
                "Serve the {bz:,} customers expected to lose money more cheaply, or lower the "
                f"${{cy:,.2f}} yearly cost per customer: they are expected to lose ${{loss:,.0f}} "
                f"over the next {horizon}. Check that cost first: without it {without}.",
                loss,
                customers=n["BZ"],
                value=worth["BZ"],
                list_file=files["serve more cheaply"],
            )
        )
    past = {
        "profit": float(whale_stats["total_profit"]),
        "unprofitable": float(whale_stats["share_unprofitable"]),
        "peak": float(whale_stats["peak_profit"]),
        "peak_share": float(whale_stats["peak_share"]),
        "destroyed": float(whale_stats["profit_destroyed"]),
    }
    client.append(
        Finding(
            "So far, at the same costs, the customers brought ${profit:,.0f} of profit; "
            "{unprofitable:.0%} of them cost more than they brought: the profitable customers "
            "alone made ${peak:,.0f} ({peak_share:.0%} of the total) and the loss-making ones "
            "took back ${destroyed:,.0f}.",
            past,
        )
    )
    return client, actions
