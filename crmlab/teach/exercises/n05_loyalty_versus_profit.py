"""Exercises of notebook 05, loyalty versus profit (Reinartz & Kumar 2000, 2002).

The check cells pass the notebook's objects: ``result`` (:func:`crmlab.studies.loyalty_profit`
on the cohort, with its refitted bootstrap) and ``check`` (:func:`crmlab.studies.simulation_check`
with the same cost model). Every number an explanation states is computed here from them.
"""

from __future__ import annotations

import numpy as np

from crmlab.studies.lifetime import alive_lifetimes
from crmlab.studies.loyalty_check import SimulationCheck
from crmlab.studies.loyalty_claims import cherry_picking
from crmlab.studies.loyalty_profit import (
    ALL,
    HBR_CORRELATIONS,
    REPEAT,
    LoyaltyProfitResult,
    split_groups,
)
from crmlab.teach.core import Exercise, Mistake, Option, direction

LOWER_THRESHOLD = 0.3  # exercise 4: the alive threshold the student lowers to
TAKEN = 0.10  # exercise 6: share of most profitable customers a competitor takes
STRONG = 0.5  # a "strong" correlation (Cohen), as proposition 1 takes it
MEDIUM = 0.3  # a "medium" correlation (Cohen)


def money(amount: float, decimals: int = 2) -> str:
    """Dollars for markdown: ``\\$1,234.50``, ``-\\$3.00`` (a bare ``$`` starts a formula)."""
    sign = "-" if amount < 0 else ""
    return f"{sign}\\${abs(amount):,.{decimals}f}"


# ------------------------------------------- 05.1: why a median split of all = one-time split


def all_customer_split(result: LoyaltyProfitResult) -> dict[str, float]:
    """The median lifetime split made over **all** customers (one-time buyers included):
    the cut, the customers tied at it, and who ends up "short"."""
    c = result.customers
    life = c["lifetime"].to_numpy()
    repeat = c["repeat_buyer"].to_numpy()
    long_life, info = split_groups(
        life, "median", name="lifetime", labels=("short", "long"), min_share=0, strict=False
    )
    short = ~long_life
    return {
        "customers": len(c),
        "one_time": int((~repeat).sum()),
        "share_one_time": float((~repeat).mean()),
        "tie_weeks": float(result.ties["one_time_lifetime"]),
        "cut": float(info["cut"]),
        "tied_at_cut": int(info["n_tied_at_cut"]),
        "short": int(short.sum()),
        "short_one_time": float((~repeat[short]).mean()) if short.any() else np.nan,
        "one_time_short": float(short[~repeat].mean()) if (~repeat).any() else np.nan,
        "repeat_short": float(short[repeat].mean()) if repeat.any() else np.nan,
    }


def _split_explain(result: LoyaltyProfitResult) -> str:
    s = all_customer_split(result)
    return (
        f"Here {s['one_time']:,} of {s['customers']:,} customers ({s['share_one_time']:.0%}) "
        f"bought once and share a lifetime of {s['tie_weeks']:.1f} weeks. Over all customers "
        f"the median lifetime is {s['cut']:.1f} weeks, with {s['tied_at_cut']:,} customers tied "
        f"at it; ties go to the short group, so {s['one_time_short']:.0%} of the one-time buyers "
        f"but only {s['repeat_short']:.0%} of the repeat buyers count as short, and "
        f"{s['short_one_time']:.0%} of the 'short' group are one-time buyers."
    )


SPLIT_WHY = Exercise(
    id="05.1",
    kind="why",
    question=(
        "Reinartz and Kumar cut lifetime at the median over **all** customers. The notebook "
        "instead keeps one-time buyers apart and cuts among repeat buyers. Why would a median "
        "split of all CDNOW customers' lifetimes amount to little more than a split into "
        "one-time and repeat buyers?"
    ),
    needs=("result",),
    options={
        "a": Option(
            "One-time buyers lose money once marketing is charged, and profit decides which "
            "side of the lifetime split a customer falls on, so they all land on one side.",
            "The lifetime split uses lifetimes only; profit is cut separately. Look at what "
            "the one-time buyers' lifetimes have in common.",
        ),
        "b": Option(
            "Repeat buyers always outlive one-time buyers, because a second purchase adds "
            "its inter-purchase time to the lifetime, so the median falls between the two "
            "groups.",
            "Not always: a repeat buyer who bought twice early and then went quiet can drop "
            "below the threshold sooner than a one-time buyer; some repeat buyers do land "
            "below the one-time buyers' lifetime. The reason is the tie, not an ordering.",
        ),
        "c": Option(
            "The Pareto/NBD model gives every one-time buyer P(alive) = 1, so all of them "
            "are censored at the end of observation and sit above the median together.",
            "That is a property of BG/NBD, not Pareto/NBD: under Pareto/NBD a one-time "
            "buyer's P(alive) falls with time since the purchase, and the lifetime table "
            "shows their lifetimes end long before the observation does.",
        ),
        "d": Option(
            "All one-time buyers share one history, hence one lifetime; they are about half "
            "the cohort, so the median falls on that tie, which goes to one side as a block.",
            "A split at a value that half the customers share cannot separate them: they all "
            "land on the same side (the short one here, where ties go), and the repeat "
            "buyers, whose lifetimes are spread out, make up nearly all of the other side.",
            correct=True,
        ),
    },
    hints=(
        "Look at the lifetime table: how many different lifetimes do the one-time buyers "
        "have, and how many of them are there?",
        "Put all lifetimes in order and find the median: where does it fall relative to the "
        "one-time buyers' shared value, and where do customers tied at a cut go?",
    ),
    solution=(
        "Customers with the same history `(x, t_x)` get the same P(alive) curve and so the "
        "same estimated lifetime: every one-time buyer (`x = 0`, `t_x = 0`) crosses the "
        "threshold at the same age. With about half the cohort on one value, the median of "
        "all lifetimes falls on that value, and everyone tied at the cut lands on the same "
        "side: 'short' then means 'bought once', whatever the repeat buyers do. That is why "
        "the quadrants are cut among repeat buyers."
    ),
    explain=_split_explain,
)


# ---------------------------------------------- 05.2: the correlation and its interval


def _pearson(result: LoyaltyProfitResult, sample: str = REPEAT, name: str = "pearson"):
    return result.statistic(name, sample)


def _interval_explain(result: LoyaltyProfitResult) -> str:
    r = _pearson(result)
    low, high = (
        float(HBR_CORRELATIONS["correlation"].min()),
        float(HBR_CORRELATIONS["correlation"].max()),
    )
    zero = "includes 0" if r.lower <= 0 <= r.upper else "excludes 0"
    hbr = (
        "below the weakest"
        if r.upper < low
        else ("inside the range" if r.upper <= high else "above the strongest")
    )
    return (
        f"Among the {int(r.n):,} repeat buyers r = {r.estimate:.3f}, 95% interval "
        f"{r.lower:.3f} to {r.upper:.3f} ({len(result.bootstrap.replicates):,} refitted "
        f"resamples). The interval {zero}; even its upper end is {hbr} of the correlations "
        f"Reinartz and Kumar report ({low:.2f} to {high:.2f}) and "
        f"{'below' if r.upper < STRONG else 'not below'} the {STRONG} of a strong link. "
        "The strongest link these data allow is "
        + ("weak (below Cohen's 0.3 for a medium one)." if r.upper < MEDIUM else "not weak.")
    )


INTERVAL = Exercise(
    id="05.2",
    kind="code",
    question=(
        "How strong could the link between lifetime and profit among repeat buyers be, given "
        "the uncertainty? Write the line that takes the row of the Pearson correlation among "
        'repeat buyers from the result (`result.statistic("pearson", "repeat buyers")`) and '
        "give the **upper end** of its 95% interval, to three decimals."
    ),
    needs=("result",),
    expected=lambda result: float(_pearson(result).upper),
    tolerance=0.001,
    unit="number",
    fmt="{:.3f}",
    code='result.statistic("pearson", "repeat buyers")["upper"]',
    hints=(
        "The row has an estimate and the two ends of its bootstrap interval; the question "
        "asks for the end that says how strong the link could be.",
        'Take result.statistic("pearson", "repeat buyers") and read its field "upper".',
    ),
    mistakes=(
        Mistake(
            lambda result: _pearson(result).estimate,
            "That is the estimate itself; the question asks for the upper end of its interval.",
        ),
        Mistake(
            lambda result: _pearson(result).lower,
            "That is the lower end of the interval: how weak the link could be.",
        ),
        Mistake(
            lambda result: _pearson(result, ALL).upper,
            "That is the interval over all customers, where the one-time buyers' tie weighs "
            "heavily; take the repeat buyers' row.",
        ),
        Mistake(
            lambda result: _pearson(result, REPEAT, "pearson_without_marketing").upper,
            "That is the correlation without the marketing cost; take the plain Pearson "
            "correlation, the one Reinartz and Kumar report.",
        ),
    ),
    solution=(
        "`result.statistic(name, sample)` returns one row of `result.association`: the "
        "estimate, the ends of the percentile interval from the bootstrap that refits the "
        "lifetime model on every resample, the p-value and n. The upper end is the strongest "
        "correlation the data do not rule out."
    ),
    explain=_interval_explain,
)


# -------------------------------------------------- 05.3: what the cost model builds in


def _built_in_explain(result: LoyaltyProfitResult) -> str:
    mk = float(result.settings["marketing_cost_per_week"])
    parts = []
    for sample in (REPEAT, ALL):
        r = _pearson(result, sample).estimate
        r0 = _pearson(result, sample, "pearson_without_marketing").estimate
        parts.append(f"{r:.3f} with it and {r0:.3f} without it among {sample}")
    return (
        f"Profit contains −{money(mk)} × lifetime (weeks counted alive): r is "
        + "; ".join(parts)
        + ". The built-in term is negative, so it makes long lives look *less* profitable "
        "than the purchases alone do."
    )


BUILT_IN = Exercise(
    id="05.3",
    kind="choose",
    question=(
        "CDNOW records no costs, so profit here follows a stated cost model. Which part of "
        "the link between lifetime and profit is put there by that cost model rather than "
        "found in the customers' purchases?"
    ),
    needs=("result",),
    options={
        "a": Option(
            "The marketing charged per week counted alive: profit contains −(marketing per "
            "week × lifetime), a negative link to lifetime by construction.",
            "Compare the rows 'pearson' and 'pearson_without_marketing': the difference is "
            "the part the cost model builds in, and it pulls the correlation down.",
            correct=True,
        ),
        "b": Option(
            "The margin: multiplying every customer's revenue by the same margin makes "
            "profit move with lifetime, the more so the higher the margin.",
            "Multiplying by a constant leaves a correlation unchanged; the margin only shifts "
            "the weight between revenue and the cost per order.",
        ),
        "c": Option(
            "The revenue link: the cost model turns every order into margin, and long-life "
            "customers place more orders, so they bring more margin.",
            "That link comes from the purchases (and from estimating lifetimes from those "
            "same purchases, proposition 1's caveat), not from the cost model.",
        ),
        "d": Option(
            "None: profit is computed from CDNOW's recorded orders and their dollar amounts, so "
            "every part of the correlation is measured in the purchases.",
            "The orders are recorded, but every cost is an assumption, and one of them is "
            "charged per week of the estimated lifetime itself.",
        ),
    },
    hints=(
        "Write out the profit formula of the method section: which term contains the "
        "lifetime itself?",
        "Compare, in the association table, the Pearson correlation with and without the "
        "marketing cost for the same customers.",
    ),
    solution=(
        "`profit = margin × revenue − cost per order × orders − marketing per week × weeks "
        "counted alive`, and the weeks counted alive are the lifetime. The last term ties "
        "profit to lifetime whatever the customers do, with a negative sign; the study "
        "therefore reports the correlation without it as well."
    ),
    explain=_built_in_explain,
)


# -------------------------------------------- 05.4: predict the threshold's effect


def _grid_row(result: LoyaltyProfitResult, threshold: float, marketing: float | None = None):
    sens = result.sensitivity
    s = result.settings
    margin = result.costs.margin if s["margin"] is None else s["margin"]
    mk = s["marketing_cost_per_week"] if marketing is None else marketing
    rows = sens[
        np.isclose(sens["alive_threshold"], threshold)
        & np.isclose(sens["margin"], margin)
        & np.isclose(sens["marketing_cost_per_week"], mk)
    ]
    if rows.empty:
        raise KeyError(f"the sensitivity grid has no row for threshold {threshold}")
    return rows.iloc[0]


def threshold_before_after(result: LoyaltyProfitResult) -> tuple[float, float]:
    """Pearson r over all customers at the study's threshold and at ``LOWER_THRESHOLD``
    (the study's margin and marketing cost)."""
    base = float(result.settings["alive_threshold"])
    return (
        float(_grid_row(result, base)["pearson_all"]),
        float(_grid_row(result, LOWER_THRESHOLD)["pearson_all"]),
    )


def threshold_profile(result: LoyaltyProfitResult) -> dict[str, float]:
    """What moves when the threshold drops to ``LOWER_THRESHOLD``: r over all customers with
    the study's marketing cost and with none, the one-time buyers' shared lifetime against the
    repeat buyers' mean lifetime, and the marketing the one-time buyers carry."""
    base = float(result.settings["alive_threshold"])
    before, after = _grid_row(result, base), _grid_row(result, LOWER_THRESHOLD)
    free_before, free_after = _grid_row(result, base, 0.0), _grid_row(result, LOWER_THRESHOLD, 0.0)
    c = result.customers
    repeat = c["repeat_buyer"].to_numpy()
    lower = alive_lifetimes(result.fit, c[["frequency", "recency", "T"]], LOWER_THRESHOLD)
    return {
        "base": base,
        "r_before": float(before["pearson_all"]),
        "r_after": float(after["pearson_all"]),
        "r0_before": float(free_before["pearson_all"]),
        "r0_after": float(free_after["pearson_all"]),
        "weeks_before": float(before["one_time_median_lifetime"]),
        "weeks_after": float(after["one_time_median_lifetime"]),
        "repeat_weeks_before": float(c.loc[repeat, "lifetime"].mean()),
        "repeat_weeks_after": float(lower["lifetime"].to_numpy()[repeat].mean()),
        "marketing_before": float(before["one_time_mean_marketing"]),
        "marketing_after": float(after["one_time_mean_marketing"]),
        "profit_one_time": float(c.loc[~repeat, "profit"].mean()),
        "profit_repeat": float(c.loc[repeat, "profit"].mean()),
    }


def _threshold_explain(result: LoyaltyProfitResult) -> str:
    p = threshold_profile(result)
    drop, drop0 = p["r_before"] - p["r_after"], p["r0_before"] - p["r0_after"]
    gap_before = p["repeat_weeks_before"] - p["weeks_before"]
    gap_after = p["repeat_weeks_after"] - p["weeks_after"]
    text = (
        f"Over all customers r goes from {p['r_before']:.3f} at threshold {p['base']:g} to "
        f"{p['r_after']:.3f} at {LOWER_THRESHOLD:g}. A lower threshold keeps everyone 'alive' "
        "longer, and the one-time buyers move as one block: their shared lifetime grows from "
        f"{p['weeks_before']:.1f} to {p['weeks_after']:.1f} weeks, while the repeat buyers' "
        f"mean lifetime grows from {p['repeat_weeks_before']:.1f} to "
        f"{p['repeat_weeks_after']:.1f}. Over all customers much of r is this one contrast "
        f"(one-time buyers bring {money(p['profit_one_time'])} of profit each on average, "
        f"repeat buyers {money(p['profit_repeat'])}), and the lifetime "
        f"gap (repeat buyers' mean minus the one-time buyers' lifetime) goes from "
        f"{gap_before:.1f} to {gap_after:.1f} weeks. "
    )
    if drop0 >= 0.5 * drop:
        text += (
            f"That move of the tie does it, not the marketing: with no marketing cost at all r "
            f"would fall too, from {p['r0_before']:.3f} to {p['r0_after']:.3f}. "
        )
    else:
        text += (
            f"Without any marketing cost r would fall less, from {p['r0_before']:.3f} to "
            f"{p['r0_after']:.3f}: here the marketing the one-time buyers carry does most of it. "
        )
    return text + (
        f"The one-time buyers also carry {money(p['marketing_after'])} of marketing each "
        f"instead of {money(p['marketing_before'])}, charged for weeks counted alive."
    )


THRESHOLD_PREDICT = Exercise(
    id="05.4",
    kind="predict",
    question=(
        f"Before you look at the sensitivity grid: lower the alive threshold from the study's "
        f"value to **{LOWER_THRESHOLD:g}** (keep the margin and the marketing cost). Does the "
        'correlation of lifetime and profit over **all** customers go "up", "down" or stay '
        'the "same"? Write your prediction, run the cell, then read the rows of '
        "`result.sensitivity` (column `pearson_all`) to check."
    ),
    needs=("result",),
    expected=lambda result: direction(*threshold_before_after(result), same_within=5e-4),
    code=(
        '(result.sensitivity.query("alive_threshold == @alive_threshold and margin == @margin '
        'and marketing_cost_per_week == @marketing_cost_per_week")["pearson_all"].iloc[0], '
        'result.sensitivity.query("alive_threshold == 0.3 and margin == @margin '
        'and marketing_cost_per_week == @marketing_cost_per_week")["pearson_all"].iloc[0])'
    ),
    hints=(
        "Think about the one-time buyers: they all share one lifetime. Where does a lower "
        "threshold move it, and what do they carry with them?",
        "Compare, in result.sensitivity at the study's margin and marketing cost, the "
        "columns pearson_all, one_time_median_lifetime and one_time_mean_marketing at the "
        "two thresholds.",
    ),
    solution=(
        "A lower threshold means P(alive) must fall further before a customer counts as "
        "gone, so every lifetime grows, and the half of the cohort that bought once moves as "
        "one block from the short end to about where the repeat buyers' lifetimes are. Over "
        "all customers, r is mostly the contrast between the one-time buyers (low profit) and "
        "the repeat buyers: once their lifetimes no longer differ, lifetime no longer tells "
        "the two apart and r falls. The marketing charged for the extra weeks adds to their "
        "costs; the explanation below shows how far r falls even with no marketing cost."
    ),
    explain=_threshold_explain,
)


# ---------------------------------------------- 05.5: what the simulation check supports


def _check_explain(check: SimulationCheck) -> str:
    cov = check.coverage(REPEAT)
    parts = [
        f"in the {row.world} world (true r {row.true_pearson:.2f}) the threshold interval "
        f"covered the truth in {int(row.covered)} of {int(row.runs)} simulated cohorts and the "
        f"drawn-lifetime interval in {int(row.imputed_covered)} of {int(row.runs)}"
        for row in cov.itertuples()
    ]
    return (
        "Here, among repeat buyers: "
        + "; ".join(parts)
        + ". A count from so few simulated cohorts is not a coverage rate, and the simulated "
        "worlds follow the Pareto/NBD story by construction."
    )


SIMULATION_CHOOSE = Exercise(
    id="05.5",
    kind="choose",
    question=(
        "The study is rerun on simulated retailers whose true lifetimes and profits are known, "
        "with the same cost model. What does this check support?"
    ),
    needs=("check",),
    options={
        "a": Option(
            "That CDNOW's customers follow the Pareto/NBD story, since the study recovers the "
            "true correlation on simulated retailers that have the same cost model.",
            "The simulated customers follow the Pareto/NBD story because the simulator makes "
            "them do so; nothing in the check looks at CDNOW's customers.",
        ),
        "b": Option(
            "That CDNOW's true correlation of lifetime and profit lies between the true "
            "correlations of the two simulated worlds, link = 0 and link = 1.",
            "The simulated truth is set by the simulator's `link` knob and its parameters: it "
            "describes those made-up retailers, not CDNOW.",
        ),
        "c": Option(
            "Whether the method finds the true correlation where customers follow the "
            "Pareto/NBD story and costs are as assumed; not whether CDNOW's customers do.",
            "It tests the method where its assumptions hold; the real data could break them "
            "(other purchase or dropout processes, other costs) and the check cannot tell.",
            correct=True,
        ),
        "d": Option(
            "That the study's intervals have 95% coverage, because the true correlation fell "
            "inside the interval in the simulated cohort.",
            "Coverage is a rate over many cohorts: a correct 95% interval misses the truth in "
            "one cohort of twenty, and a poor one can cover it by luck. Counting it needs many "
            "seeds (parameter sim_seeds).",
        ),
    },
    hints=(
        "Ask what the simulated customers were made to do, and by whom.",
        "Separate two questions: does the method work when its model is true, and is its "
        "model true for CDNOW? Which one can known simulated truth answer?",
    ),
    solution=(
        "The simulation knows each customer's true lifetime and profit, so it can check the "
        "*method*: do the estimates and intervals recover the truth when the data follow the "
        "Pareto/NBD story and the costs are the assumed ones? It says nothing about whether "
        "CDNOW's customers follow that story, and a handful of simulated cohorts is not a "
        "coverage rate."
    ),
    explain=_check_explain,
)


# ------------------------------------------------ 05.6: cherry-picking and long life


def _picked_explain(result: LoyaltyProfitResult) -> str:
    cp = cherry_picking(result, TAKEN)
    g = cp.groups
    return (
        f"The {TAKEN:.0%} most profitable customers ({cp.customers:,}) bring "
        f"{cp.profit_share:.0%} of the cohort's profit; {cp.long_life_share:.0%} of them are "
        f"long-life (True Friends), {g.loc['Butterflies', 'share_of_taken']:.0%} Butterflies and "
        f"{g.loc['One-time buyers', 'share_of_taken']:.0%} one-time buyers. A programme that "
        "rewards long life would leave the short-life ones to the competitor, and "
        f"{cp.barnacles_of_long_life:.0%} of the long-life repeat buyers it rewards are "
        "Barnacles: protect the profitable customers, not the long-life ones."
    )


CHERRY_LONG_LIFE = Exercise(
    id="05.6",
    kind="code",
    question=(
        "**Cherry-picking.** A competitor takes your **10%** most profitable customers. If "
        "you had defended them with a loyalty programme for long-life customers, how many "
        "would it have reached? Write the line that computes the share of those customers "
        "who are long-life, with `loyalty_claims.cherry_picking(result, 0.10)` (the section "
        "above shows it for 5%). Two decimals are enough."
    ),
    needs=("result",),
    expected=lambda result: cherry_picking(result, TAKEN).long_life_share,
    tolerance=0.01,
    unit="fraction",
    fmt="{:.3f}",
    code="loyalty_claims.cherry_picking(result, 0.10).long_life_share",
    hints=(
        "The result of cherry_picking says which loyalty group each taken customer belongs "
        "to; long-life means the two groups with long lifetimes.",
        "Call loyalty_claims.cherry_picking(result, 0.10) and read long_life_share (or add "
        "the Barnacles' and True Friends' share_of_taken in its groups table).",
    ),
    mistakes=(
        Mistake(
            lambda result: cherry_picking(result, 0.05).long_life_share,
            "That is the share among the 5% most profitable, as in the section above; take "
            "the top 10%.",
        ),
        Mistake(
            lambda result: cherry_picking(result, TAKEN).profit_share,
            "That is the taken customers' share of the profit; the question asks which share "
            "of them are long-life.",
        ),
        Mistake(
            lambda result: 1 - cherry_picking(result, TAKEN).long_life_share,
            "That is the share with short lives (Butterflies and one-time buyers), the ones "
            "the programme would miss.",
        ),
    ),
    solution=(
        "`cherry_picking` ranks the cohort by profit under the stated costs, takes the top "
        "10% and counts them by loyalty group; `long_life_share` is the share of them that "
        "are Barnacles or True Friends (among the most profitable, in practice only True "
        "Friends)."
    ),
    explain=_picked_explain,
)


EXERCISES = (
    SPLIT_WHY,
    INTERVAL,
    BUILT_IN,
    THRESHOLD_PREDICT,
    SIMULATION_CHOOSE,
    CHERRY_LONG_LIFE,
)
