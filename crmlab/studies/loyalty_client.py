"""The loyalty-versus-profit study for a client: plain sentences and recommended actions.

The same results as :func:`crmlab.studies.loyalty_findings` without model names or
symbols: how strongly time as a customer goes with profit among repeat customers (the
correlation on a 0% to 100% scale, its range and the profit of the longer- and
shorter-staying customers), the one-time buyers, the four groups in plain names, and what
the assumed costs change. The actions follow Reinartz & Kumar (HBR 2002, "The
Mismanagement of Customer Loyalty", exhibit "Four types of loyalty"): keep the long-lived
high-profit customers, look after the short-lived high-profit ones while they buy, spend no
loyalty budget on the long-lived low-profit ones and as little as possible on the
short-lived low-profit ones; each names how many customers and how much profit it
concerns and its exported list.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from crmlab.reports import Action, Finding
from crmlab.studies.loyalty_profit import ALL, HBR_CORRELATIONS, REPEAT

#: The four groups in plain words (Reinartz & Kumar's names on the left).
PLAIN = {
    "Strangers": "short-lived low-profit",
    "Butterflies": "short-lived high-profit",
    "Barnacles": "long-lived low-profit",
    "True Friends": "long-lived high-profit",
}
#: Action -> (group, exported list).
LISTS = {
    "keep": ("True Friends", "loyalty_long_high_profit"),
    "look after": ("Butterflies", "loyalty_short_high_profit"),
    "serve more cheaply": ("Barnacles", "loyalty_long_low_profit"),
    "spend little": ("Strangers", "loyalty_short_low_profit"),
}
#: Customer-table columns -> the list's column names a client reads.
LIST_COLUMNS = {
    "first_purchase": "first_purchase",
    "orders": "orders",
    "revenue": "revenue",
    "cost_marketing": "mailing_cost",
    "profit": "profit",
    "lifetime": "weeks_as_customer",
    "censored": "still_buying",
    "p_alive_end": "chance_still_buying",
}


def link_words(estimate: float, lower: float, upper: float) -> str:
    """How much more profit longer-staying customers bring, from a correlation and its
    interval, in words (Cohen's 1988 conventions: below 0.3 small, from 0.5 large)."""
    if lower <= 0 <= upper:
        return "those who stayed longer did not clearly bring more profit"
    if upper < 0:
        return "those who stayed longer brought less profit"
    if estimate < 0.3:
        return "those who stayed longer brought only slightly more profit"
    if estimate < 0.5:
        return "those who stayed longer brought moderately more profit"
    return "those who stayed longer brought clearly more profit"


def _date(value: Any) -> str:
    day = pd.Timestamp(value)
    return f"{day.day} {day:%B %Y}"


def _money(numbers: dict, key: str, value: float, *, what: str = "of profit") -> str:
    """Store ``abs(value)`` under ``key`` and say it as brought or lost."""
    numbers[key] = abs(float(value))
    if value >= 0:
        return f"brought ${{{key}:,.0f}} {what}"
    return f"cost ${{{key}:,.0f}} more than they brought"


def loyalty_lists(result: Any) -> dict[str, pd.DataFrame]:
    """One table per action (:data:`LISTS`) with the columns a client acts on
    (:data:`LIST_COLUMNS`): high-profit groups most profitable first, low-profit groups
    least profitable first."""
    c = result.customers
    table = c[list(LIST_COLUMNS)].rename(columns=LIST_COLUMNS)
    table.index.name = "customer_id"
    out = {}
    for group, name in LISTS.values():
        rows = table[c["segment"].astype(str) == group]
        high = group in ("True Friends", "Butterflies")
        out[name] = rows.sort_values("profit", ascending=not high, kind="stable")
    return out


def _group(c: pd.DataFrame, group: str, total: float) -> dict[str, Any]:
    rows = c[c["segment"].astype(str) == group]
    return {
        "n": len(rows),
        "profit": float(rows["profit"].sum()),
        "share": float(rows["profit"].sum() / total) if total else float("nan"),
        "weeks": float(rows["lifetime"].median()) if len(rows) else float("nan"),
        "active": int(rows["censored"].sum()),
        "mail": float(rows["cost_marketing"].sum()),
    }


def loyalty_client(result: Any, *, export: bool = False) -> tuple[list[Finding], list[Action]]:
    """Plain sentences and recommended actions of :func:`crmlab.studies.loyalty_profit`.

    Parameters
    ----------
    result : LoyaltyProfitResult
        The study on the client's data.
    export : bool
        Also write each action's list (:func:`loyalty_lists`) with
        :func:`crmlab.reports.export`; the actions name those files either way.

    Returns
    -------
    (list of Finding, list of Action)
        For :func:`crmlab.reports.executive_summary` ``client=`` and ``actions=``.
    """
    from crmlab.reports import export as write

    if export:
        for name, table in loyalty_lists(result).items():
            write(table, name)
    s, c = result.settings, result.customers
    apart = bool(s["one_time_apart"])
    sample = REPEAT if apart else ALL
    pool = c[c["repeat_buyer"]] if apart else c
    total = float(c["profit"].sum())
    cuts = result.splits.set_index("dimension")
    life_cut = float(cuts.loc["lifetime", "cut"])
    r = result.statistic("pearson", sample)
    head = {
        "n": int(r["n"]),
        "r": float(r["estimate"]),
        "lower": float(r["lower"]),
        "upper": float(r["upper"]),
        "cut": life_cut,
        "med_long": float(pool.loc[pool["lifetime"] > life_cut, "profit"].median()),
        "med_short": float(pool.loc[pool["lifetime"] <= life_cut, "profit"].median()),
        "hbr_low": float(HBR_CORRELATIONS["correlation"].min()),
        "hbr_high": float(HBR_CORRELATIONS["correlation"].max()),
    }
    who = (
        "Among the {n:,} customers who bought more than once"
        if apart
        else "Among all {n:,} customers"
    )
    client = [
        Finding(
            who + f", {link_words(head['r'], head['lower'], head['upper'])}: the link between how "
            "long they stayed and the profit they brought is {r:.2f} on a scale where zero "
            "means no link and one means profit rises in step with time as a customer, most "
            "likely between {lower:.2f} and {upper:.2f} on that scale. Those who stayed more "
            "than {cut:.0f} weeks brought a median of ${med_long:,.2f} of profit each, the "
            "others ${med_short:,.2f}. In the four companies of the published study the link "
            "was {hbr_low:.2f} to {hbr_high:.2f} on the same scale.",
            head,
        )
    ]
    one = c[~c["repeat_buyer"]]
    once: dict[str, Any] = {
        "one": len(one),
        "customers": len(c),
        "share_one": len(one) / len(c),
        "weeks": float(one["lifetime"].mode().iloc[0]) if len(one) else float("nan"),
    }
    cohort = s.get("cohort")
    since = f" who first bought between {_date(cohort[0])} and {_date(cohort[1])}" if cohort else ""
    until = f" up to {_date(s['observation_end'])}" if s.get("observation_end") else ""
    gain = _money(once, "one_profit", one["profit"].sum())
    kept = (
        "so they are kept apart from the four groups below, and together they " + gain + "."
        if apart
        else "they were not kept apart, so the split into long- and short-lived mostly "
        "separates them from the rest; together they " + gain + "."
    )
    client.append(
        Finding(
            f"Of the {{customers:,}} customers{since}, {{one:,}} customers ({{share_one:.0%}}) "
            "bought "
            f"only once{until}; the data give them all the same estimated time as a customer "
            "({weeks:.1f} weeks), " + kept,
            once,
        )
    )
    seg = result.segments.set_index("segment")
    col = "share_of_repeat" if apart else "share_customers"
    groups = {
        "sl": float(seg.loc["Strangers", col]),
        "sh": float(seg.loc["Butterflies", col]),
        "ll": float(seg.loc["Barnacles", col]),
        "lh": float(seg.loc["True Friends", col]),
        "life_cut": life_cut,
        "profit_cut": float(cuts.loc["profit", "cut"]),
        "p_lh": float(seg.loc["True Friends", "share_profit"]),
        "p_sh": float(seg.loc["Butterflies", "share_profit"]),
    }
    rules = {str(x) for x in s.get("split", ("median",))}
    at = (
        "at the middle"
        if rules == {"median"}
        else "at the average"
        if rules == {"mean"}
        else "at the chosen cut-offs"
    )
    among = "the repeat customers" if apart else "all customers"
    client.append(
        Finding(
            f"Split {at} of {among} ({{life_cut:.0f}} weeks as a customer and "
            "${profit_cut:,.2f} of profit), {sl:.0%} are short-lived low-profit, {sh:.0%} "
            "short-lived high-profit, {ll:.0%} long-lived low-profit and {lh:.0%} long-lived "
            "high-profit customers; the long-lived high-profit customers brought {p_lh:.0%} "
            "of the profit of all customers and the short-lived high-profit ones {p_sh:.0%}.",
            groups,
        )
    )
    costs: dict[str, Any] = {
        "cpo": float(s["cost_per_order"]),
        "mk": float(s["marketing_cost_per_week"]),
        "threshold": float(s["alive_threshold"]),
        "loss": float((c["profit"] < 0).mean()),
    }
    if s["margin"] is None:
        basis = "These profits use the recorded cost of goods and assume "
    else:
        costs["margin"] = float(s["margin"])
        basis = (
            "These profits rest on assumed costs, since the data record none: a {margin:.0%} "
            "margin, "
        )
    client.append(
        Finding(
            basis + "${cpo:,.2f} per order and ${mk:,.2f} of mailings for every week a customer "
            "counts as still buying (until the chance they still buy falls below "
            "{threshold:.0%}); at these costs {loss:.0%} of customers lose money.",
            costs,
        )
    )
    client.append(_assumptions_finding(result, sample))
    return client, _actions(c, total)


def _assumptions_finding(result: Any, sample: str) -> Finding:
    """What the mailing cost builds into the link, and the link over the grid tried."""
    s = result.settings
    r = result.statistic("pearson", sample)
    numbers: dict[str, Any] = {"r": float(r["estimate"])}
    who = "repeat customers" if sample == REPEAT else "all customers"
    if s["marketing_until"] == "lifetime" and s["marketing_cost_per_week"] > 0:
        r0 = result.statistic("pearson_without_marketing", sample)
        numbers |= {
            "r0": float(r0["estimate"]),
            "lower0": float(r0["lower"]),
            "upper0": float(r0["upper"]),
        }
        text = (
            "The mailing cost builds part of the link in, since it grows with time as a "
            f"customer: without it the link among {who} would be {{r0:.2f}} instead of "
            "{r:.2f}, most likely between {lower0:.2f} and {upper0:.2f}, on a scale where zero "
            "means no link and one means profit rises in step with time as a customer."
        )
    else:
        text = "No cost here grows with time as a customer, so the costs build no link in."
    sens = result.sensitivity
    col = "pearson_repeat" if sample == REPEAT else "pearson_all"
    if len(sens) > 1:
        numbers |= {
            "t_min": float(sens["alive_threshold"].min()),
            "t_max": float(sens["alive_threshold"].max()),
            "m_min": float(sens["margin"].min()),
            "m_max": float(sens["margin"].max()),
            "mk_min": float(sens["marketing_cost_per_week"].min()),
            "mk_max": float(sens["marketing_cost_per_week"].max()),
            "rr_min": float(sens[col].min()),
            "rr_max": float(sens[col].max()),
        }
        text += (
            " Over the cut-offs for counting a customer as gone ({t_min:.0%} to "
            "{t_max:.0%} chance of still buying), margins ({m_min:.0%} to {m_max:.0%}) and "
            "mailing costs (${mk_min:,.2f} to ${mk_max:,.2f} a week) tried, it lies between "
            "{rr_min:.2f} and {rr_max:.2f} on that scale."
        )
    return Finding(text, numbers)


def _actions(c: pd.DataFrame, total: float) -> list[Action]:
    """The four groups' actions (a group with no customers gets none)."""
    files = {verb: f"{name}.csv" for verb, (_, name) in LISTS.items()}
    actions = []
    g = _group(c, "True Friends", total)
    if g["n"]:
        gain = _money(g, "amount", g["profit"])
        actions.append(
            Action(
                "keep",
                "Keep the {n:,} long-lived high-profit customers: they "
                + gain
                + " ({share:.0%} of the profit of all customers), and {active:,} of these "
                "customers are still buying; stay in touch regularly, but not so often that it "
                "costs more than they bring.",
                g,
                customers=g["n"],
                value=g["profit"],
                list_file=files["keep"],
            )
        )
    g = _group(c, "Butterflies", total)
    if g["n"]:
        gain = _money(g, "amount", g["profit"])
        actions.append(
            Action(
                "look after",
                "Look after the {n:,} short-lived high-profit customers while they buy: they "
                + gain
                + " ({share:.0%} of the profit of all customers) in a median of {weeks:.0f} "
                "weeks as a customer, and {active:,} of these customers are still buying. Make "
                "the most of their purchases now and stop mailing them soon after they stop, "
                "rather than trying to make them loyal.",
                g,
                customers=g["n"],
                value=g["profit"],
                list_file=files["look after"],
            )
        )
    g = _group(c, "Barnacles", total)
    if g["n"]:
        margin = g["profit"] + g["mail"]
        g["before"], g["amount"] = abs(margin), abs(g["profit"])
        before = "brought ${before:,.0f}" if margin >= 0 else "cost ${before:,.0f} more"
        after = "left ${amount:,.0f}" if g["profit"] >= 0 else "lost ${amount:,.0f}"
        actions.append(
            Action(
                "serve more cheaply",
                "Do not spend loyalty budget on the {n:,} long-lived low-profit customers: over "
                "a median of {weeks:.0f} weeks as a customer they "
                + before
                + " before mailing costs and "
                + after
                + " after the ${mail:,.0f} of mailings counted for them, and {active:,} of "
                "these customers are still buying. Mail them less, or try selling them more on "
                "part of them first and compare with the rest.",
                g,
                customers=g["n"],
                value=g["profit"],
                list_file=files["serve more cheaply"],
            )
        )
    g = _group(c, "Strangers", total)
    if g["n"]:
        gain = _money(g, "amount", g["profit"])
        actions.append(
            Action(
                "spend little",
                "Spend little on the {n:,} short-lived low-profit customers: "
                "they " + gain + " in a median of {weeks:.0f} weeks as a customer; make each "
                "sale pay for itself rather than invest in the relationship.",
                g,
                customers=g["n"],
                value=g["profit"],
                list_file=files["spend little"],
            )
        )
    return actions
