"""The customer-lifetime-value study for a client: plain sentences and recommended actions.

Same results as :func:`crmlab.studies.lifetime_value_findings`, without model names or
symbols: total expected value with its range in words and the spread between forecasting
methods, how the forecast did on the held-back period, the customers to protect (top
``protect_share`` by expected value), to win back (among the top ``top_share`` by value so
far, but less likely than not still buying) and to grow (little value so far, high expected
value: the "students at the bank"), each with an exported list.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crmlab.errors import DataError
from crmlab.reports import Action, Finding

LIST_COLUMNS = {
    "clv": "expected_value",
    "lower": "expected_value_low",
    "upper": "expected_value_high",
    "p_alive": "chance_still_buying",
    "value_so_far": "margin_so_far",
    "frequency": "repeat_purchases",
    "expected_purchases": "expected_purchases_next_period",
}
LISTS = {
    "protect": "clv_protect",
    "win back": "clv_win_back",
    "grow": "clv_grow",
}


def lifetime_value_groups(study: Any, *, protect_share: float = 0.10) -> dict[str, pd.Series]:
    """The customers behind each action, as boolean Series over ``study.customers``.

    ``protect``: the top ``protect_share`` by expected value (ties at the cut join);
    ``win back``: among the top ``study.students.top_share`` by value so far, with a chance
    of still buying below one half, and not in ``protect``; ``grow``: the students at the
    bank (:func:`crmlab.studies.students_at_the_bank`).
    """
    if not 0 < protect_share < 1:
        raise DataError(f"protect_share={protect_share!r} must be a share between 0 and 1.")
    c = study.customers
    clv = c["clv"]
    protect = clv.rank(method="min", ascending=False) - 1 < protect_share * len(c) - 1e-9
    top = study.students.top_share
    past = c["value_so_far"].rank(method="min", ascending=False) - 1 < top * len(c) - 1e-9
    win_back = past & (c["p_alive"] < 0.5) & ~protect
    grow = c["student"].astype(bool) & ~protect
    return {"protect": protect, "win back": win_back, "grow": grow}


def lifetime_value_lists(study: Any, *, protect_share: float = 0.10) -> dict[str, pd.DataFrame]:
    """One table per action (``clv_protect``, ``clv_win_back``, ``clv_grow``) with the
    columns a client acts on (:data:`LIST_COLUMNS`), highest expected value first (win
    back: highest margin so far first)."""
    groups = lifetime_value_groups(study, protect_share=protect_share)
    table = study.customers[list(LIST_COLUMNS)].rename(columns=LIST_COLUMNS)
    table.index.name = "customer_id"
    out = {}
    for verb, name in LISTS.items():
        by = "margin_so_far" if verb == "win back" else "expected_value"
        out[name] = table[groups[verb]].sort_values(by, ascending=False, kind="stable")
    return out


def lifetime_value_client(
    study: Any, *, protect_share: float = 0.10, export: bool = False
) -> tuple[list[Finding], list[Action]]:
    """Plain sentences and recommended actions of :func:`lifetime_value_study`'s results.

    Parameters
    ----------
    study : LifetimeValueStudy
        From :func:`crmlab.studies.lifetime_value_study`.
    protect_share : float
        Share of customers to protect: the top tenth by expected value by default.
    export : bool
        Also write each action's list (:func:`lifetime_value_lists`) with
        :func:`crmlab.reports.export`; the actions name those files either way.

    Returns
    -------
    (list of Finding, list of Action)
    """
    from crmlab.reports import export as write

    c, totals, settings = study.customers, study.totals, study.settings
    used = study.choice.used
    groups = lifetime_value_groups(study, protect_share=protect_share)
    if export:
        for name, table in lifetime_value_lists(study, protect_share=protect_share).items():
            write(table, name)
    when = pd.Timestamp(study.summary.attrs["calibration_end"])
    total = float(c["clv"].sum())
    numbers: dict[str, Any] = {
        "customers": len(c),
        "years": settings["horizon_years"],
        "total": total,
        "margin": settings["margin"],
        "rate": settings["annual_discount_rate"],
    }
    text = (
        f"Valued at {when:%d %B %Y}, your {{customers:,}} customers are expected to bring "
        "${total:,.0f} of margin over the next {years:g} years (at a {margin:.0%} margin, "
        "future money discounted by {rate:.0%} a year)"
    )
    if not np.isnan(totals.loc[used, "lower"]):
        numbers.update(
            lower=float(totals.loc[used, "lower"]), upper=float(totals.loc[used, "upper"])
        )
        text += ", most likely between ${lower:,.0f} and ${upper:,.0f}"
    others = totals.drop(index=used)["total_clv"]
    if len(others):
        numbers.update(low=float(totals["total_clv"].min()), high=float(totals["total_clv"].max()))
        text += "; the forecasting methods tried give between ${low:,.0f} and ${high:,.0f}"
        if "lower" in numbers:
            wider = numbers["high"] - numbers["low"] > numbers["upper"] - numbers["lower"]
            text += (
                ", a wider spread than that range: which method is right matters most"
                if wider
                else ", within that range"
            )
    client = [Finding(text + ".", numbers)]
    err = float(study.comparison.loc[used, "holdout_error_pct"]) / 100
    checked = {"weeks": study.holdout_length, "miss": abs(err)}
    direction = "too low" if err < 0 else "too high"
    client.append(
        Finding(
            "Checked against the {weeks:,.0f} weeks after that date, the forecast of purchases "
            f"was {{miss:.0%}} {direction}: it assumes customers buy at a steady pace (no "
            "seasons, no campaigns), so these values are "
            + ("on the low side." if err < 0 else "on the high side."),
            checked,
        )
    )
    protect = groups["protect"]
    keep = {
        "n": int(protect.sum()),
        "share": protect_share,
        "value": float(c.loc[protect, "clv"].sum()),
        "value_share": float(c.loc[protect, "clv"].sum() / total),
    }
    client.append(
        Finding(
            "The {n:,} customers with the highest expected value (the top {share:.0%}) hold "
            "${value:,.0f} of it ({value_share:.0%}).",
            keep,
        )
    )
    actions = [
        Action(
            "keep",
            "Protect the {n:,} customers with the highest expected value: ${value:,.0f} over "
            "the next {years:g} years, {value_share:.0%} of the total; watch for any who stop "
            "buying and contact them first.",
            {**keep, "years": settings["horizon_years"]},
            customers=keep["n"],
            value=keep["value"],
            list_file=f"{LISTS['protect']}.csv",
        )
    ]
    lost = groups["win back"]
    if lost.any():
        back = {
            "n": int(lost.sum()),
            "top": study.students.top_share,
            "past": float(c.loc[lost, "value_so_far"].sum()),
            "value": float(c.loc[lost, "clv"].sum()),
        }
        client.append(
            Finding(
                "{n:,} customers who were among the top {top:.0%} by margin so far "
                "(${past:,.0f} together) are now less likely than not to be still buying; "
                "as they are, they are expected to bring only ${value:,.0f} more.",
                back,
            )
        )
        actions.append(
            Action(
                "win back",
                "Win back the {n:,} customers who brought ${past:,.0f} of margin so far but "
                "have probably stopped buying: ask why they left and make an offer, to part "
                "of them first, and compare with the rest.",
                back,
                customers=back["n"],
                value=back["past"],
                list_file=f"{LISTS['win back']}.csv",
            )
        )
    st = study.students
    grow = groups["grow"]
    if grow.any():
        numbers = {
            "n": int(grow.sum()),
            "low": st.value_quantile,
            "cut": st.value_cut,
            "top": st.top_share,
            "value": float(c.loc[grow, "clv"].sum()),
        }
        client.append(
            Finding(
                "{n:,} customers have brought little so far (the lower {low:.0%} by margin so "
                "far, at most ${cut:,.2f} each) but are among the top {top:.0%} by expected "
                "value: ${value:,.0f} together; ranking customers by past value would "
                "overlook them.",
                numbers,
            )
        )
        actions.append(
            Action(
                "grow",
                "Grow the {n:,} newer customers who have brought little so far but are "
                "expected to bring ${value:,.0f}: treat them like the best customers now.",
                numbers,
                customers=numbers["n"],
                value=numbers["value"],
                list_file=f"{LISTS['grow']}.csv",
            )
        )
    return client, actions
