"""Two claims of the loyalty study's sources, weighed on the study's own cohort.

* **Students at the bank** (Blattberg, Kim & Neslin 2008, *Database Marketing*, ch. 5;
  notebook 04 puts a model's numbers on it): a customer who brings little now may be worth
  keeping for what they will bring later. Reinartz & Kumar (2000, *Journal of Marketing*
  64(4); 2002, *Harvard Business Review* 80(7)) question the premise behind it, that a
  customer who stays becomes profitable: they found lifetime and profit only weakly linked
  and no rise of profits over tenure (their proposition 2). :func:`students_realised`
  splits the observation window in two (halfway, as notebook 04 does) and counts what the
  customers who brought little in the first part actually brought in the second: observed
  margin, not a model's forecast.
* **Cherry-picking** (Reinartz & Kumar 2002, on why firms turned to their customers): a firm
  whose profit is many thin margins on single sales is open to competitors who take its
  most profitable customers. :func:`cherry_picking` says how much of the cohort's profit the
  most profitable customers bring, which loyalty group they belong to, and how little the
  one-time buyers (single sales) leave under the stated costs.

What these data cannot support is said in the findings: CDNOW records no acquisition or
marketing costs, so "keeping a customer costs less than winning a new one" cannot be tested.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crmlab.errors import DataError
from crmlab.reports import Finding
from crmlab.studies.lifetime_value import StudentsAtTheBank, students_at_the_bank
from crmlab.studies.loyalty_profit import GROUPS, ONE_TIME, LoyaltyProfitResult

LONG_LIFE = ("Barnacles", "True Friends")


# ------------------------------------------------------------------ students at the bank


@dataclass(frozen=True)
class StudentsRealised:
    """What the customers who brought little at first brought later (:func:`students_realised`).

    Attributes
    ----------
    values : DataFrame
        One row per cohort customer: ``value_before`` and ``value_after`` (gross margin up to
        and after ``split_date``), ``bought_after``, ``lower`` (in the lower
        ``value_quantile`` by value before), ``top_after`` (in the top ``top_share`` by value
        after) and ``student`` (both).
    halves : DataFrame
        One row per group by value before (``lower``, ``upper``): ``customers``,
        ``share_bought_after``, ``mean_value_after``, ``share_value_after`` (of the cohort's
        margin after the split), ``top_after`` (customers in the top group after) and
        ``share_of_top`` (their share of that group).
    students : StudentsAtTheBank
        :func:`crmlab.studies.students_at_the_bank` with value before as "value so far" and
        value after in place of CLV.
    split_date, observation_end : Timestamp
        The first part ends on ``split_date`` (inclusive); the second on ``observation_end``.
    weeks_after : float
        Length of the second part in weeks.
    """

    values: pd.DataFrame
    halves: pd.DataFrame
    students: StudentsAtTheBank
    split_date: pd.Timestamp
    observation_end: pd.Timestamp
    weeks_after: float


def _cohort_transactions(transactions: pd.DataFrame, result: LoyaltyProfitResult) -> pd.DataFrame:
    missing = [c for c in ("customer_id", "date", "amount") if c not in transactions.columns]
    if missing:
        raise DataError(
            f"transactions have no column {', '.join(map(repr, missing))}; pass the frame the "
            "loyalty study was run on."
        )
    end = pd.Timestamp(result.settings["observation_end"])
    dates = pd.to_datetime(transactions["date"])
    mine = transactions["customer_id"].isin(result.customers.index) & (dates.dt.normalize() <= end)
    tx = transactions.loc[mine]
    if tx["customer_id"].nunique() != len(result.customers):
        raise DataError(
            f"these transactions hold {tx['customer_id'].nunique():,} of the study's "
            f"{len(result.customers):,} customers; pass the frame the loyalty study was run on."
        )
    return tx


def _gross_margin(tx: pd.DataFrame, result: LoyaltyProfitResult) -> pd.Series:
    """Margin per transaction: ``margin x amount``, or ``amount - cost`` when the study used
    the recorded cost of goods (``settings["margin"] is None``)."""
    margin = result.settings["margin"]
    if margin is None:
        return tx["amount"] - tx["cost"]
    return float(margin) * tx["amount"]


def students_realised(
    transactions: pd.DataFrame,
    result: LoyaltyProfitResult,
    *,
    split_date: str = "",
    value_quantile: float = 0.5,
    top_share: float = 0.2,
) -> StudentsRealised:
    """The students at the bank, observed: low value at first, high value later?

    Parameters
    ----------
    transactions : DataFrame
        The transactions the loyalty study was run on (``customer_id``, ``date``,
        ``amount``); only the study's cohort customers up to its observation end are used.
    result : LoyaltyProfitResult
        :func:`crmlab.studies.loyalty_profit`; gives the cohort, the observation end and the
        margin.
    split_date : str
        Last day of the first part; empty: halfway between the cohort's first transaction and
        the observation end (:func:`crmlab.models.comparison.holdout_dates`, as notebook 04;
        for CDNOW 30 September 1997).
    value_quantile, top_share : float
        "Brought little at first" = at or below this quantile of value before; "much later" =
        in the top ``top_share`` by value after (:func:`crmlab.studies.students_at_the_bank`).

    Returns
    -------
    StudentsRealised

    Notes
    -----
    Value is gross margin (``margin x revenue``, or revenue minus the recorded cost of goods),
    before order and marketing costs, as notebook 04's value so far: the marketing cost of the
    loyalty study depends on the estimated lifetime, which spans both parts.
    """
    from crmlab.models.comparison import holdout_dates

    tx = _cohort_transactions(transactions, result)
    split, end = holdout_dates(tx, split_date, result.settings["observation_end"])
    value = _gross_margin(tx, result)
    before_rows = pd.to_datetime(tx["date"]).dt.normalize() <= split
    index = result.customers.index
    before = value[before_rows].groupby(tx.loc[before_rows, "customer_id"]).sum()
    after = value[~before_rows].groupby(tx.loc[~before_rows, "customer_id"]).sum()
    before = before.reindex(index, fill_value=0.0).astype(float).rename("value_before")
    after = after.reindex(index, fill_value=0.0).astype(float).rename("value_after")
    bought = tx.loc[~before_rows, "customer_id"].unique()
    st = students_at_the_bank(before, after, value_quantile=value_quantile, top_share=top_share)
    values = pd.DataFrame({"value_before": before, "value_after": after})
    values["bought_after"] = values.index.isin(bought)
    values["lower"] = before <= st.value_cut
    values["top_after"] = after > st.clv_cut
    values["student"] = st.members.reindex(index)
    total_after = float(after.sum())
    top_total = int(values["top_after"].sum())
    rows = []
    for name, mask in (("lower", values["lower"]), ("upper", ~values["lower"])):
        part = values[mask]
        rows.append(
            {
                "group": name,
                "customers": len(part),
                "share_bought_after": float(part["bought_after"].mean()) if len(part) else np.nan,
                "mean_value_after": float(part["value_after"].mean()) if len(part) else np.nan,
                "share_value_after": float(part["value_after"].sum() / total_after)
                if total_after
                else np.nan,
                "top_after": int(part["top_after"].sum()),
                "share_of_top": int(part["top_after"].sum()) / top_total if top_total else np.nan,
            }
        )
    return StudentsRealised(
        values=values,
        halves=pd.DataFrame(rows).set_index("group"),
        students=st,
        split_date=split,
        observation_end=end,
        weeks_after=float((end - split) / pd.Timedelta(weeks=1)),
    )


def students_finding(realised: StudentsRealised, result: LoyaltyProfitResult) -> Finding:
    """The students at the bank as observed, beside Reinartz & Kumar's proposition 2."""
    h, st = realised.halves, realised.students
    prop = result.propositions.set_index("proposition").loc[2]
    numbers: dict[str, Any] = {
        "lower": int(h.loc["lower", "customers"]),
        "q": float(st.value_quantile),
        "split": f"{realised.split_date:%d %B %Y}",
        "bought_low": float(h.loc["lower", "share_bought_after"]),
        "bought_high": float(h.loc["upper", "share_bought_after"]),
        "weeks": float(realised.weeks_after),
        "students": int(st.customers),
        "share_students": float(st.share_customers),
        "top": float(st.top_share),
        "share_of_top": float(st.share_of_top),
        "value_low": float(h.loc["lower", "share_value_after"]),
        "mean_low": float(h.loc["lower", "mean_value_after"]),
        "mean_high": float(h.loc["upper", "mean_value_after"]),
        "verdict": str(prop["verdict"]),
    }
    text = (
        "Students at the bank, observed: of the {lower:,} customers in the lower {q:.0%} by "
        "margin up to {split}, {bought_low:.0%} bought again in the next {weeks:.0f} weeks "
        "(against {bought_high:.0%} of the others) and {students:,} ({share_students:.1%} of "
        "the cohort, {share_of_top:.0%} of the top {top:.0%} by later margin) became top "
        "customers; together they brought {value_low:.0%} of the later margin, ${mean_low:,.2f} "
        "a customer against ${mean_high:,.2f}. Reinartz and Kumar's proposition 2, that "
        "long-life customers' profits rise over their tenure, is {verdict} here"
    )
    if np.isfinite(prop["estimate"]):
        numbers.update(
            {
                "slope": float(prop["estimate"]),
                "slope_lower": float(prop["lower"]),
                "slope_upper": float(prop["upper"]),
                "period": float(result.settings["tenure_period"]),
            }
        )
        text += (
            " (profit per {period:.0f}-week period of tenure changes by {slope:+,.2f} dollars a "
            "period, interval {slope_lower:+,.2f} to {slope_upper:+,.2f})"
        )
    return Finding(text + ".", numbers)


# ------------------------------------------------------------------------ cherry-picking


@dataclass(frozen=True)
class CherryPicking:
    """The most profitable customers a competitor could take (:func:`cherry_picking`).

    Attributes
    ----------
    share : float
        Share of the cohort's customers taken (the most profitable ones).
    customers : int
        How many that is: ``int(share x customers)`` (rounded down, at least one).
    profit_share : float
        Their share of the cohort's total profit under the study's cost model.
    groups : DataFrame
        Index: the study's groups (one-time buyers, Strangers, Butterflies, Barnacles, True
        Friends); ``customers`` taken from each, ``share_of_taken`` and ``share_of_group``
        (of that group's customers).
    long_life_share : float
        Share of the taken customers who are long-life (Barnacles or True Friends).
    barnacles_of_long_life : float
        Share of all long-life customers (Barnacles and True Friends) who are Barnacles.
    one_time : dict
        The single-sale customers: ``customers``, ``share_customers``, ``share_profit``,
        ``mean_profit``, ``median_profit``, ``share_losing`` (profit below zero).
    """

    share: float
    customers: int
    profit_share: float
    groups: pd.DataFrame
    long_life_share: float
    barnacles_of_long_life: float
    one_time: dict


def cherry_picking(result: LoyaltyProfitResult, share: float = 0.05) -> CherryPicking:
    """What a competitor takes with the most profitable ``share`` of the cohort's customers.

    Customers are ranked by the study's profit (``result.customers["profit"]``, under its
    stated cost model); the top ``floor(share x n)`` (at least one) are "taken". Ties at the
    boundary are broken by the customer order of the study (stable sort).

    Parameters
    ----------
    result : LoyaltyProfitResult
        :func:`crmlab.studies.loyalty_profit`.
    share : float
        Share of customers taken, in (0, 1).

    Returns
    -------
    CherryPicking
    """
    if not 0 < float(share) < 1:
        raise DataError(f"share must be a fraction between 0 and 1, e.g. 0.05; got {share!r}.")
    c = result.customers
    k = max(1, int(float(share) * len(c) + 1e-9))
    order = np.argsort(-c["profit"].to_numpy(), kind="stable")
    taken = c.iloc[order[:k]]
    total = float(c["profit"].sum())
    segment = taken["segment"].astype(str)
    counts = segment.value_counts().reindex(GROUPS, fill_value=0)
    sizes = c["segment"].astype(str).value_counts().reindex(GROUPS, fill_value=0)
    groups = pd.DataFrame(
        {
            "customers": counts.astype(int),
            "share_of_taken": counts / k,
            "share_of_group": (counts / sizes.where(sizes > 0)).astype(float),
        }
    )
    groups.index.name = "group"
    long_total = int(sizes[list(LONG_LIFE)].sum())
    one = c[c["segment"].astype(str) == ONE_TIME]
    one_time = {
        "customers": len(one),
        "share_customers": len(one) / len(c),
        "share_profit": float(one["profit"].sum() / total) if total else np.nan,
        "mean_profit": float(one["profit"].mean()) if len(one) else np.nan,
        "median_profit": float(one["profit"].median()) if len(one) else np.nan,
        "share_losing": float((one["profit"] < 0).mean()) if len(one) else np.nan,
    }
    return CherryPicking(
        share=float(share),
        customers=k,
        profit_share=float(taken["profit"].sum() / total) if total else np.nan,
        groups=groups,
        long_life_share=float(segment.isin(LONG_LIFE).mean()),
        barnacles_of_long_life=float(sizes["Barnacles"] / long_total) if long_total else np.nan,
        one_time=one_time,
    )


def cherry_picking_findings(picked: CherryPicking, result: LoyaltyProfitResult) -> list[Finding]:
    """What a cherry-picker takes, what single sales leave, and what the data cannot test."""
    s = result.settings
    take = Finding(
        "A competitor who took the {share:.0%} most profitable customers ({k:,}) would take "
        "{profit_share:.0%} of the cohort's profit. {long:.0%} of them are long-life (True "
        "Friends) and {short:.0%} short-life (Butterflies and one-time buyers): a programme "
        "that rewards long life would miss the latter, and {barnacles:.0%} of the long-life "
        "repeat buyers it would reward are Barnacles, who bring little profit.",
        {
            "share": picked.share,
            "k": picked.customers,
            "profit_share": picked.profit_share,
            "long": picked.long_life_share,
            "short": 1.0 - picked.long_life_share,
            "barnacles": picked.barnacles_of_long_life,
        },
    )
    o = picked.one_time
    costs = "at the recorded cost of goods" if s["margin"] is None else "at a {margin:.0%} margin"
    numbers = {
        "n": int(o["customers"]),
        "share": float(o["share_customers"]),
        "profit": float(o["share_profit"]),
        "mean": float(o["mean_profit"]),
        "losing": float(o["share_losing"]),
        "per_order": float(s["cost_per_order"]),
        "marketing": float(s["marketing_cost_per_week"]),
    }
    if s["margin"] is not None:
        numbers["margin"] = float(s["margin"])
    single = Finding(
        "Single sales leave thin margins: the {n:,} one-time buyers ({share:.0%} of customers) "
        "bring {profit:.1%} of the profit, ${mean:,.2f} each on average, and {losing:.0%} of "
        f"them lose money {costs}, ${{per_order:,.2f}} per order and ${{marketing:,.2f}} of "
        "marketing per week counted alive (assumed costs).",
        numbers,
    )
    cannot = Finding(
        "Whether keeping a customer costs less than winning one these data cannot say: they "
        "record no acquisition or marketing costs, and the marketing cost here is assumed."
    )
    return [take, single, cannot]
