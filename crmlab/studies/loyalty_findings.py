"""The executive summary of the loyalty-versus-profit study, as computed findings.

Every sentence is a :class:`crmlab.reports.Finding`: a template and the unrounded numbers
it cites, so a test can check each number against the exported tables. Estimates carry
their refitted bootstrap interval; the tie of the one-time buyers, the lifetime-
proportional marketing cost and each proposition's caveat are named in the sentence;
the simulation check says that it is simulated.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmlab.reports import Finding
from crmlab.studies.loyalty_check import SimulationCheck
from crmlab.studies.loyalty_profit import (
    ALL,
    HBR_CORRELATIONS,
    IMPUTED,
    ONE_TIME,
    REPEAT,
    LoyaltyProfitResult,
)


def _braces(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def _base_rows(result: LoyaltyProfitResult) -> pd.DataFrame:
    """Sensitivity rows at the study's own margin and marketing cost."""
    sens = result.sensitivity
    s = result.settings
    margin = result.costs.margin if s["margin"] is None else s["margin"]
    keep = np.isclose(sens["marketing_cost_per_week"], s["marketing_cost_per_week"]) & np.isclose(
        sens["margin"], margin
    )
    return sens[keep].sort_values("alive_threshold")


def headline_finding(result: LoyaltyProfitResult) -> Finding:
    """The correlation (threshold lifetimes, and drawn true lifetimes) with its refitted
    interval beside the HBR range."""
    sample = REPEAT if result.settings["one_time_apart"] else ALL
    r = result.statistic("pearson", sample)
    numbers = {
        "n": int(r.n),
        "r": float(r.estimate),
        "level": float(result.settings["level"]),
        "lower": float(r.lower),
        "upper": float(r.upper),
        "threshold": float(result.settings["alive_threshold"]),
        "draws": int(len(result.bootstrap.replicates)),
        "hbr_low": float(HBR_CORRELATIONS["correlation"].min()),
        "hbr_high": float(HBR_CORRELATIONS["correlation"].max()),
    }
    who = f"the {{n:,}} {sample}" if sample == REPEAT else "all {n:,} customers"
    text = (
        f"Among {who}, lifetime and profit are correlated at r = {{r:.3f}} "
        "({level:.0%} interval {lower:.3f} to {upper:.3f}) with lifetimes ended where "
        "P(alive) falls below {threshold:g}, as Reinartz and Kumar did"
    )
    try:
        imp = result.statistic(IMPUTED, sample)
    except KeyError:
        imp = None
    if imp is not None and np.isfinite(imp.estimate):
        numbers.update(
            {
                "r_true": float(imp.estimate),
                "lower_true": float(imp.lower),
                "upper_true": float(imp.upper),
            }
        )
        text += (
            ", and at {r_true:.3f} ({lower_true:.3f} to {upper_true:.3f}) with each "
            "customer's true lifetime drawn from the fitted model"
        )
    how = "refit" if result.bootstrap.refitted else "keep (model not refittable)"
    text += (
        f"; the intervals come from {{draws}} bootstrap resamples that each {how} the "
        "lifetime model. Reinartz and Kumar report {hbr_low:.2f} to {hbr_high:.2f} for four "
        "companies."
    )
    return Finding(text, numbers)


def ties_finding(result: LoyaltyProfitResult) -> Finding:
    """How many customers share the one-time buyers' lifetime, and the ties at the cuts."""
    t = result.ties
    r_all = result.statistic("pearson", ALL)
    cuts = result.splits.set_index("dimension")
    numbers = {
        "one_time": t["one_time_buyers"],
        "share_one_time": t["one_time_buyers"] / len(result.customers),
        "tied": t["one_time_tied"],
        "tie_weeks": t["one_time_lifetime"],
        "r_all": float(r_all.estimate),
        "lower_all": float(r_all.lower),
        "upper_all": float(r_all.upper),
        "life_cut": float(cuts.loc["lifetime", "cut"]),
        "life_tied": int(cuts.loc["lifetime", "n_tied_at_cut"]),
        "profit_cut": float(cuts.loc["profit", "cut"]),
        "profit_tied": int(cuts.loc["profit", "n_tied_at_cut"]),
    }
    among = "repeat buyers" if result.settings["one_time_apart"] else "all customers"
    apart = (
        "so they are analysed as their own group; over all customers, where that tie "
        "dominates, r = {r_all:.2f} ({lower_all:.2f} to {upper_all:.2f})"
        if result.settings["one_time_apart"]
        else "and they were NOT kept apart, so the lifetime split largely separates one-time "
        "from repeat buyers"
    )
    return Finding(
        "{one_time:,} customers ({share_one_time:.0%}) never bought again and {tied:,} of "
        "them share one estimated lifetime of {tie_weeks:.1f} weeks, "
        + apart
        + f". The quadrants are cut among {among} at {{life_cut:.1f}} weeks "
        "({life_tied:,} customers tied at the cut) and ${profit_cut:,.2f} of profit "
        "({profit_tied:,} tied).",
        numbers,
    )


def segment_finding(result: LoyaltyProfitResult) -> Finding:
    """Shares of the four quadrants among repeat buyers and their shares of profit."""
    seg = result.segments.set_index("segment")
    share = "share_of_repeat" if result.settings["one_time_apart"] else "share_customers"
    numbers = {
        "friends": float(seg.loc["True Friends", share]),
        "butterflies": float(seg.loc["Butterflies", share]),
        "barnacles": float(seg.loc["Barnacles", share]),
        "strangers": float(seg.loc["Strangers", share]),
        "friends_profit": float(seg.loc["True Friends", "share_profit"]),
        "butterflies_profit": float(seg.loc["Butterflies", "share_profit"]),
    }
    text = (
        "Among repeat buyers, "
        if result.settings["one_time_apart"]
        else "Among all customers (one-time buyers included), "
    )
    text += (
        "True Friends are {friends:.0%}, Butterflies {butterflies:.0%}, Barnacles "
        "{barnacles:.0%} and Strangers {strangers:.0%}; True Friends bring "
        "{friends_profit:.0%} of the cohort's profit and Butterflies {butterflies_profit:.0%}"
    )
    if result.settings["one_time_apart"]:
        numbers["one_time_profit"] = float(seg.loc[ONE_TIME, "share_profit"])
        text += ", one-time buyers {one_time_profit:.0%}"
    return Finding(text + ".", numbers)


def losses_finding(result: LoyaltyProfitResult) -> Finding:
    """Share of customers who lose money under the stated cost model."""
    s = result.settings
    numbers = {
        "share_loss": float((result.customers["profit"] < 0).mean()),
        "cost_per_order": float(s["cost_per_order"]),
        "marketing": float(s["marketing_cost_per_week"]),
    }
    margin = "the recorded cost of goods"
    if s["margin"] is not None:
        numbers["margin"] = float(s["margin"])
        margin = "a {margin:.0%} margin"
    return Finding(
        "{share_loss:.0%} of customers lose money under the stated costs (" + margin + ", "
        "${cost_per_order:,.2f} per order, ${marketing:,.2f} of marketing per week counted "
        "alive); CDNOW records no costs, so these are assumptions.",
        numbers,
    )


def marketing_finding(result: LoyaltyProfitResult) -> Finding:
    """How much of the correlation the lifetime-proportional marketing cost builds in."""
    s = result.settings
    sample = REPEAT if s["one_time_apart"] else ALL
    r = result.statistic("pearson", sample)
    r0 = result.statistic("pearson_without_marketing", sample)
    r0_all = result.statistic("pearson_without_marketing", ALL)
    r_all = result.statistic("pearson", ALL)
    numbers = {
        "marketing": float(s["marketing_cost_per_week"]),
        "r": float(r.estimate),
        "r0": float(r0.estimate),
        "lower0": float(r0.lower),
        "upper0": float(r0.upper),
        "r_all": float(r_all.estimate),
        "r0_all": float(r0_all.estimate),
    }
    if s["marketing_until"] != "lifetime" or s["marketing_cost_per_week"] == 0:
        return Finding(
            "No marketing cost is charged per week counted alive, so the cost model builds "
            f"no link to lifetime into profit; r among {sample} is {{r:.2f}}.",
            {"r": numbers["r"]},
        )
    return Finding(
        "Part of the correlation is built in by the cost model: profit contains "
        "-${marketing:,.2f} for every week a customer is counted alive. Without that cost r is "
        f"{{r0:.3f}} ({{lower0:.2f}} to {{upper0:.2f}}) among {sample} instead of {{r:.3f}}, "
        "and {r0_all:.3f} instead of {r_all:.3f} over all customers.",
        numbers,
    )


def sensitivity_findings(result: LoyaltyProfitResult) -> list[Finding]:
    """Where and why the answer changes: the P(alive) threshold, then the marketing cost."""
    base = _base_rows(result)
    findings = []
    if len(base) >= 2:
        lo = base.loc[base["pearson_all"].idxmin()]
        hi = base.loc[base["pearson_all"].idxmax()]
        findings.append(
            Finding(
                "The P(alive) threshold moves the answer through the one-time buyers: over all "
                "customers r is {r_low:.3f} at threshold {t_low:g}, where one-time buyers count "
                "as alive for {weeks_low:.0f} weeks and carry ${mk_low:,.2f} of marketing each, "
                "and {r_high:.3f} at {t_high:g} ({weeks_high:.0f} weeks, ${mk_high:,.2f}); "
                "among repeat buyers r lies between {rr_min:.3f} and {rr_max:.3f} over "
                "thresholds {t_min:g} to {t_max:g}.",
                {
                    "r_low": float(lo["pearson_all"]),
                    "t_low": float(lo["alive_threshold"]),
                    "weeks_low": float(lo["one_time_median_lifetime"]),
                    "mk_low": float(lo["one_time_mean_marketing"]),
                    "r_high": float(hi["pearson_all"]),
                    "t_high": float(hi["alive_threshold"]),
                    "weeks_high": float(hi["one_time_median_lifetime"]),
                    "mk_high": float(hi["one_time_mean_marketing"]),
                    "rr_min": float(base["pearson_repeat"].min()),
                    "rr_max": float(base["pearson_repeat"].max()),
                    "t_min": float(base["alive_threshold"].min()),
                    "t_max": float(base["alive_threshold"].max()),
                },
            )
        )
    sens = result.sensitivity
    s = result.settings
    at = sens[np.isclose(sens["alive_threshold"], s["alive_threshold"])]
    margin = result.costs.margin if s["margin"] is None else s["margin"]
    by_marketing = at[np.isclose(at["margin"], margin)].sort_values("marketing_cost_per_week")
    by_margin = at[np.isclose(at["marketing_cost_per_week"], s["marketing_cost_per_week"])]
    if len(by_marketing) >= 2:
        first, last = by_marketing.iloc[0], by_marketing.iloc[-1]
        findings.append(
            Finding(
                "The marketing cost moves it too: among repeat buyers r is {r_first:.3f} with "
                "${mk_first:,.2f} of marketing per week and {r_last:.3f} with ${mk_last:,.2f}; "
                "margins from {m_min:.0%} to {m_max:.0%} give {rm_min:.3f} to {rm_max:.3f}.",
                {
                    "r_first": float(first["pearson_repeat"]),
                    "mk_first": float(first["marketing_cost_per_week"]),
                    "r_last": float(last["pearson_repeat"]),
                    "mk_last": float(last["marketing_cost_per_week"]),
                    "m_min": float(by_margin["margin"].min()),
                    "m_max": float(by_margin["margin"].max()),
                    "rm_min": float(by_margin["pearson_repeat"].min()),
                    "rm_max": float(by_margin["pearson_repeat"].max()),
                },
            )
        )
    return findings


def simulation_finding(check: SimulationCheck, sample: str = REPEAT) -> Finding:
    """What the simulation check covers: truth against both intervals in each world."""
    cov = check.coverage(sample)
    parts, numbers = [], {}
    for i, row in enumerate(cov.itertuples()):
        numbers.update(
            {
                f"covered_{i}": int(row.covered),
                f"imputed_covered_{i}": int(row.imputed_covered),
                f"runs_{i}": int(row.runs),
                f"truth_{i}": float(row.true_pearson),
                f"estimate_{i}": float(row.estimated_pearson),
                f"imputed_{i}": float(row.imputed_pearson),
            }
        )
        parts.append(
            f"in the {_braces(row.world)} world (true r {{truth_{i}:.2f}}) the threshold "
            f"interval covered it in {{covered_{i}}} of {{runs_{i}}} cohorts (estimate "
            f"{{estimate_{i}:.2f}}) and the drawn-lifetime interval in "
            f"{{imputed_covered_{i}}} of {{runs_{i}}} (estimate {{imputed_{i}:.2f}})"
        )
    return Finding(
        f"On simulated Pareto/NBD retailers studied with the same cost model, for {sample}: "
        + "; ".join(parts)
        + ". This checks the method where the model's story is true, not on the real "
        "customers.",
        numbers,
        simulated=True,
    )


def proposition_findings(result: LoyaltyProfitResult) -> list[Finding]:
    """Each proposition with its verdict, estimate, interval and the caveat that limits it."""
    findings = []
    for row in result.propositions.itertuples():
        head = f"Proposition {row.proposition}, {_braces(row.claim)}: {_braces(row.verdict)}"
        if np.isfinite(row.estimate):
            numbers = {
                "estimate": float(row.estimate),
                "lower": float(row.lower),
                "upper": float(row.upper),
            }
            head += " (estimate {estimate:.3g}, interval {lower:.3g} to {upper:.3g})"
        else:
            numbers = {}
            head += f" ({_braces(row.detail)})"
        findings.append(Finding(head + f"; caveat: {_braces(row.caveat)}.", numbers))
    return findings


def loyalty_findings(
    result: LoyaltyProfitResult, check: SimulationCheck | None = None
) -> list[Finding]:
    """The executive summary of the loyalty study, sentence by sentence.

    Parameters
    ----------
    result : LoyaltyProfitResult
        :func:`crmlab.studies.loyalty_profit` on the real data.
    check : SimulationCheck, optional
        :func:`crmlab.studies.simulation_check` with the same cost model; adds the
        (simulated) sentence on what the check covers.

    Returns
    -------
    list of Finding
        The headline correlation, the ties, the segments, the losses, the built-in part
        of the correlation, the sensitivity, the simulation check and the propositions.
    """
    findings = [
        headline_finding(result),
        ties_finding(result),
        segment_finding(result),
        losses_finding(result),
        marketing_finding(result),
        *sensitivity_findings(result),
    ]
    if check is not None:
        findings.append(simulation_finding(check))
    return findings + proposition_findings(result)
