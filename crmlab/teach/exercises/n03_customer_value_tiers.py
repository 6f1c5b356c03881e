"""Exercises of notebook 03, customer value tiers (RFM, MVC/MGC/BZ, the whale curve).

The check cells pass the notebook's objects: ``values`` (:func:`crmlab.segments.customer_values`
with the ``historical_profit`` and ``tier`` columns the notebook adds), ``costs`` (the
stated :class:`crmlab.segments.CostModel`), ``rfm`` (:func:`crmlab.segments.rfm_scores`)
and ``profit`` (:func:`crmlab.segments.customer_profit` at the stated costs).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from crmlab import segments
from crmlab.teach.core import Exercise, Mistake, Option, direction

TOP_TENTH = 0.10  # exercise 1: the MVC share asked for
EXTRA_YEARLY_COST = 5.0  # exercise 2: dollars added to the cost per customer-year
PICKED = 0.05  # exercise 4: share of most profitable customers a competitor takes
LOW_SPENDERS = 0.20  # exercise 3: "spent least so far" = this bottom share by revenue


def money(amount: float, decimals: int = 2) -> str:
    """Dollars for markdown: ``\\$1,234.50`` (a bare ``$`` would start a formula in Jupyter)."""
    return f"\\${amount:,.{decimals}f}"


# ----------------------------------------------------------------- 03.1: MVC at 10%


def mvc_value_share(values: pd.DataFrame, share: float = TOP_TENTH) -> float:
    """Share of the total actual value held by the MVC group when it is the top ``share``."""
    tier = segments.value_tiers(values, mvc_share=share)
    return float(segments.tier_table(values, tier).loc["MVC", "actual_share"])


def _notebook_mvc_share(values: pd.DataFrame) -> float:
    if "tier" not in values:
        return math.nan
    return float(segments.tier_table(values, values["tier"]).loc["MVC", "actual_share"])


def _historical_top_share(values: pd.DataFrame) -> float:
    if "historical_profit" not in values:
        return math.nan
    hist = values["historical_profit"]
    return float(hist.nlargest(round(TOP_TENTH * len(hist))).sum() / hist.sum())


MVC_TENTH = Exercise(
    id="03.1",
    kind="code",
    question=(
        "Peppers & Rogers leave the size of the MVC group to the firm; the notebook takes "
        "the top fifth (`mvc_share`). Write the line that computes the share of the total "
        "expected future profit (actual value) held by the **top tenth** of customers: "
        "make the tiers with `segments.value_tiers(values, mvc_share=0.10)` and read the "
        "MVC row of `segments.tier_table`. Two decimals are enough."
    ),
    needs=("values",),
    expected=lambda values: mvc_value_share(values),
    tolerance=0.01,
    unit="fraction",
    fmt="{:.3f}",
    code=(
        'segments.tier_table(values, segments.value_tiers(values, mvc_share=0.10)).loc["MVC", '
        '"actual_share"]'
    ),
    hints=(
        "The tier table has a column with each tier's share of the total actual value; "
        "you need it for tiers made with a smaller MVC group.",
        "Pass the new tiers to segments.tier_table(values, tiers) and take the row 'MVC', "
        "column 'actual_share'.",
    ),
    mistakes=(
        Mistake(
            lambda values: _notebook_mvc_share(values),
            "That is the share of the notebook's MVC group (the top fifth); make the tiers "
            "again with mvc_share=0.10.",
        ),
        Mistake(
            lambda values: _historical_top_share(values),
            "That is the top tenth by historical profit (the last 18 months); MVC are ranked "
            "on actual value, the expected future profit over the horizon.",
        ),
        Mistake(
            lambda values: TOP_TENTH,
            "That is the share of customers in the group; the question asks for their share "
            "of the expected future profit.",
        ),
    ),
    solution=(
        "Only the MVC share changes; `tier_table` sums the actual value by tier and divides "
        "by the total. The MVC are ranked on expected future profit, so the share says how "
        "concentrated the *future* profit is. The BZ customers' negative values lower the "
        "total, which is why a small top group can hold nearly all of it."
    ),
    explain=lambda values: (
        f"The top tenth holds {mvc_value_share(values):.0%} of the expected future profit; "
        f"the notebook's MVC group (the top fifth) holds {_notebook_mvc_share(values):.0%}."
    ),
)


# ------------------------------------------------ 03.2: predict the BZ share's direction


def bz_before_after(values: pd.DataFrame, costs: segments.CostModel) -> tuple[float, float]:
    """BZ share at the stated costs and with ``EXTRA_YEARLY_COST`` more per customer-year."""
    co, cy = costs.cost_per_order, costs.cost_per_customer_year
    return (
        segments.bz_share(values, co, cy),
        segments.bz_share(values, co, cy + EXTRA_YEARLY_COST),
    )


def _bz_explain(values: pd.DataFrame, costs: segments.CostModel) -> str:
    before, after = bz_before_after(values, costs)
    cy = costs.cost_per_customer_year
    moved = round((after - before) * len(values))
    breakeven = float(values["breakeven_cost_per_year"].median())
    return (
        f"BZ share: {before:.1%} at {money(cy)} a year, {after:.1%} at "
        f"{money(cy + EXTRA_YEARLY_COST)} ({moved:,} customers turn below zero). The yearly cost "
        "is charged for every expected year a customer is still a customer, and it is "
        "subtracted from everyone's expected profit: no customer can gain. Those who turn BZ "
        "are the ones whose margin net of order costs per expected year alive (their "
        "break-even yearly cost) lies between the two costs; half the customers bring less "
        f"than {money(breakeven)} a year."
    )


BZ_PREDICT = Exercise(
    id="03.2",
    kind="predict",
    question=(
        f"Before you run anything: add {money(EXTRA_YEARLY_COST, 0)} to the cost per customer-year "
        "(keep the margin and the cost per order). Does the share of below-zero (BZ) "
        'customers go "up", "down" or stay the "same"? Write your prediction, run the cell, '
        "then compute it: `segments.bz_share(values, cost_per_order, cost_per_customer_year "
        f"+ {EXTRA_YEARLY_COST:.0f})`."
    ),
    needs=("values", "costs"),
    expected=lambda values, costs: direction(*bz_before_after(values, costs), same_within=5e-4),
    code=(
        "(segments.bz_share(values, costs.cost_per_order, costs.cost_per_customer_year), "
        "segments.bz_share(values, costs.cost_per_order, costs.cost_per_customer_year + 5))"
    ),
    hints=(
        "Look at the formula of the actual value: which term does the cost per customer-year "
        "multiply, and with which sign does it enter?",
        "Compute segments.bz_share(values, cost_per_order, c) at the notebook's yearly cost "
        "and at \\$5 more, and compare the two shares.",
    ),
    solution=(
        "A customer is BZ when `m·M·X − c_o·X − c_y·A < 0`. Raising `c_y` by \\$5 lowers every "
        "customer's actual value by `5·A` (their discounted expected years alive), so no "
        "customer leaves the BZ group and those with a break-even yearly cost between the "
        "old and the new cost join it."
    ),
    explain=_bz_explain,
)


# ------------------------------------------------- 03.3: why MGC are not low spenders


def low_spender_profile(values: pd.DataFrame, rfm: pd.DataFrame) -> dict[str, float]:
    """The customers who spent least so far (bottom ``LOW_SPENDERS`` by RFM monetary value)
    against the MGC: share that is MGC, share who bought once, median expected orders and
    median gap potential - actual."""
    monetary = rfm["monetary"].reindex(values.index)
    low = monetary <= monetary.quantile(LOW_SPENDERS)
    mgc = values["tier"].astype(str) == "MGC"
    gap = values["potential_value"] - values["actual_value"]
    return {
        "low_customers": int(low.sum()),
        "low_mgc": float(mgc[low].mean()),
        "low_once": float((values.loc[low, "frequency"] == 0).mean()),
        "low_p_alive": float(values.loc[low, "p_alive"].median()),
        "low_orders": float(values.loc[low, "expected_orders"].median()),
        "mgc_orders": float(values.loc[mgc, "expected_orders"].median()) if mgc.any() else np.nan,
        "low_gap": float(gap[low].median()),
        "mgc_gap": float(gap[mgc].median()) if mgc.any() else np.nan,
    }


def _mgc_explain(values: pd.DataFrame, rfm: pd.DataFrame) -> str:
    p = low_spender_profile(values, rfm)
    return (
        f"Here: of the fifth of customers who spent least so far ({p['low_customers']:,}), "
        f"{p['low_mgc']:.0%} are MGC and {p['low_once']:.0%} bought only once; their median "
        f"P(alive) is {p['low_p_alive']:.2f} and they are expected to place "
        f"{p['low_orders']:.2f} orders over the horizon (median) against "
        f"{p['mgc_orders']:.2f} for the MGC, so their median gap is {money(p['low_gap'])} "
        f"against {money(p['mgc_gap'])}."
    )


MGC_WHY = Exercise(
    id="03.3",
    kind="why",
    question=(
        "The most growable customers (MGC) have the largest gaps between potential and actual "
        "value. You might expect them to be the customers who have spent least so far: they "
        "have the most room to grow. Yet few of the customers who spent least are MGC. Why?"
    ),
    needs=("values", "rfm"),
    options={
        "a": Option(
            "The gap is computed from past revenue (the RFM monetary score), so the "
            "customers who spent least so far have little revenue to grow from.",
            "Past revenue is not in the gap: potential and actual value are both expected "
            "*future* profit over the horizon, from the purchase and spend models.",
        ),
        "b": Option(
            "The customers who spent least are mostly below zero (BZ), and the BZ "
            "customers are set aside before the MGC are chosen from the rest.",
            "The BZ rule does come first, but it is not the reason: the gap does not depend "
            "on the serving costs at all. With no yearly cost there are far fewer BZ "
            "customers (see 'Who moves when the assumptions change?'), and the customers "
            "who spent least still have almost no gap.",
        ),
        "c": Option(
            "The gap is extra margin on *future* orders, and most who spent least bought "
            "once and have probably left: they are expected to place few orders.",
            "The gap is `m·X·(M* − M)`: with few expected orders `X` there is "
            "little to grow, however low the spend so far (and a one-time buyer's spend per "
            "order is the population's mean: nothing in their history to raise). The MGC are "
            "customers still buying who spend less per order than others who buy as often.",
            correct=True,
        ),
        "d": Option(
            "The reachable spend is the highest spend per order in the whole cohort, and "
            "the MGC are the customers whose spend per order is already closest to it.",
            "The reachable spend is a high quantile of spend per order among customers who "
            "buy as often (the same purchase-rate group), and a customer further below it "
            "would have a *larger* gap per order, not a smaller one: the MGC are not the "
            "customers closest to it.",
        ),
    },
    hints=(
        "Read the formula of the potential value: what multiplies the difference in spend "
        "per order?",
        "Compare, for the customers who spent least and for the MGC, the columns "
        "expected_orders, p_alive and frequency of values.",
    ),
    solution=(
        "Potential and actual value differ only by the extra margin on future orders, "
        "`m·X·(M* − M)` (margin × expected orders × the spend per order reachable in the "
        "customer's purchase-rate group minus their own). Growth needs a customer who is "
        "still buying: the low spenders are mostly one-time buyers with a low P(alive), "
        "few expected orders and no spend history of their own, so their gap is near zero."
    ),
    explain=_mgc_explain,
)


# ------------------------------------------------------- 03.4: cherry-picking the top 5%


def picked_share(profit: pd.DataFrame, share: float = PICKED) -> float:
    """Share of total historical profit held by the most profitable ``share`` of customers
    (the whale curve at ``share``)."""
    curve = segments.whale_curve(profit["profit"])
    return float(curve.loc[curve["customer_share"] <= share, "cumulative_share"].iloc[-1])


CHERRY_PICKING = Exercise(
    id="03.4",
    kind="code",
    question=(
        "**Cherry-picking.** Peppers & Rogers warn that a firm earning its profit as thin "
        "margins on many sales is exposed to a competitor who picks off its most profitable "
        "customers. Suppose a competitor takes your **5%** most profitable customers "
        "(historical profit at the stated costs). Write the line that computes the share of "
        'your total profit they take, from `segments.whale_curve(profit["profit"])`. '
        "Two decimals are enough."
    ),
    needs=("profit",),
    expected=lambda profit: picked_share(profit),
    tolerance=0.01,
    unit="share",
    fmt="{:.3f}",
    code=(
        'segments.whale_curve(profit["profit"]).query("customer_share <= 0.05")'
        '["cumulative_share"].iloc[-1]'
    ),
    hints=(
        "The whale curve ranks customers from most to least profitable; its height at a "
        "share of customers is the share of total profit they bring.",
        "Take the rows of segments.whale_curve(profit['profit']) with customer_share <= "
        "0.05 and read cumulative_share in the last of them.",
    ),
    mistakes=(
        Mistake(
            lambda profit: PICKED,
            "That is the share of customers the competitor takes; the question asks for "
            "their share of your profit.",
        ),
        Mistake(
            lambda profit: 1 - picked_share(profit),
            "That is the share of profit you keep; the question asks what the competitor takes.",
        ),
    ),
    solution=(
        "The whale curve's column `cumulative_share` after the first 5% of customers (ranked "
        "by profit) is their share of total profit."
    ),
    explain=lambda profit: (
        f"The competitor takes {picked_share(profit):.0%} of your profit with 5% of your "
        f"customers; you keep {1 - picked_share(profit):.0%} of it while still serving the "
        "other 95%. These are the customers to protect first: keeping a customer costs less "
        "than winning a new one."
    ),
)


# ----------------------------------------------------- 03.5: what sets the peak height


def _peak_explain(profit: pd.DataFrame) -> str:
    s = segments.whale_summary(profit["profit"])
    total, lost = float(s["total_profit"]), float(s["profit_destroyed"])
    return (
        f"Here the loss-makers ({s['share_unprofitable']:.0%} of customers) lose {money(lost, 0)} "
        f"against a total profit of {money(total, 0)}: 1 + {lost:,.0f} / {total:,.0f} = "
        f"{1 + lost / total:.3f}, the peak of the whale table ({s['peak_share']:.3f})."
    )


WHALE_PEAK = Exercise(
    id="03.5",
    kind="choose",
    question=(
        "Kaplan & Narayanan report whale curves that peak at 150-300% of total profit. What "
        "sets how high the curve peaks?"
    ),
    needs=("profit",),
    options={
        "a": Option(
            "The share of customers who are profitable: the more of them, the further the "
            "curve climbs.",
            "That sets *where* the peak is (how far along the customer axis: `peak_at`), not "
            "how high it is.",
        ),
        "b": Option(
            "How much the loss-making customers lose, compared with the firm's total profit.",
            "The peak is the sum of all positive profits, which is the total profit plus "
            "what the loss-makers lose: peak = 1 + losses / total profit.",
            correct=True,
        ),
        "c": Option(
            "How concentrated the profit is among the few most profitable customers: the "
            "steeper the start, the higher the peak.",
            "Concentration shapes how steeply the curve rises at the left, but its highest "
            "point is the sum of all positive profits however they are spread: move profit "
            "between profitable customers and the peak stays where it is.",
        ),
        "d": Option(
            "The number of customers: a larger firm adds up more customers' profits "
            "before the curve turns.",
            "Both axes are shares (of customers and of total profit): a firm twice the size "
            "with the same mix draws the same curve.",
        ),
    },
    hints=(
        "The curve adds the customers' profits from the most to the least profitable. "
        "Where does it stop rising, and what has been added up to there?",
        "Write the peak as (sum of the positive profits) / (total profit) and the total as "
        "(sum of positive profits) - (losses); the whale_summary columns peak_share, "
        "total_profit and profit_destroyed let you check it.",
    ),
    solution=(
        "The curve rises while it adds profitable customers and peaks at the sum of their "
        "profits `P`; the loss-makers then bring it down to the total `P − L`. So the peak "
        "is `P / (P − L) = 1 + L / (P − L)`: set by the losses `L` relative to the total "
        "profit. With no serving costs nobody loses money and the peak is 100%."
    ),
    explain=_peak_explain,
)


EXERCISES = (MVC_TENTH, BZ_PREDICT, MGC_WHY, CHERRY_PICKING, WHALE_PEAK)
