"""Exercises of notebook 06, relationships and defection (breadth, cross-buying, exit surveys).

The check cells pass the notebook's objects: ``customers`` (the simulated customers built
with a threshold: ``segment, n_employees, n_lines, value, retained``), ``threshold`` and
``alpha`` (parameters), ``truth`` (the simulation's built-in parameters), ``tests`` (the
likelihood-ratio tests by population), ``design`` (:func:`crmlab.defection.claim_sample_size`
at the notebook's parameters), ``by_lines`` (:func:`crmlab.relationships.cross_buying`) and
``retention`` (:func:`crmlab.studies.contract_retention_study` on the bundled cohorts).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from crmlab import defection, relationships
from crmlab.studies.contract_retention import ContractRetentionStudy
from crmlab.teach.core import Exercise, Mistake, Option, direction

HIGHER_POWER = 0.9  # exercise 4: the power a cautious consultant asks for
CLOSER_SHARE = 0.6  # exercise 5: an alternative share closer to the claim of two in three
WITHOUT = "built without a threshold"  # exercise 3: the population the test should not flag
RISING = "high_end"  # exercise 7: the cohort whose retention rate rises though risks rise


# ------------------------------------------------- 06.1: odds ratio below the knot


def odds_ratio_up_to(customers: pd.DataFrame, threshold: int, *, strictly: bool = False) -> float:
    """Odds ratio per extra employee of the straight logit fitted to the customers served
    by at most ``threshold`` employees (fewer than ``threshold`` when ``strictly``)."""
    x = customers["n_employees"]
    part = customers[x < threshold] if strictly else customers[x <= threshold]
    fit = relationships.fit_retention(part, breadth="n_employees", outcome="retained")
    return float(fit.coefficients.loc["breadth", "odds_ratio"])


def odds_ratio_all(customers: pd.DataFrame) -> float:
    """The notebook's straight logit: odds ratio per extra employee over all customers."""
    fit = relationships.fit_retention(customers, breadth="n_employees", outcome="retained")
    return float(fit.coefficients.loc["breadth", "odds_ratio"])


def _below_explain(customers: pd.DataFrame, threshold: int, truth: dict) -> str:
    below, overall = odds_ratio_up_to(customers, threshold), odds_ratio_all(customers)
    test = relationships.threshold_test(customers, knot=threshold)
    return (
        f"Up to {threshold} employees each extra one multiplies the odds of staying by "
        f"{below:.2f}; the simulation built in e^{truth['slope']} = "
        f"{math.exp(truth['slope']):.2f}. Over all customers the straight line says "
        f"{overall:.2f}: it averages the steep part with the flat part above the knot (odds "
        f"ratio there e^{test.slope_above:.2f} = {math.exp(test.slope_above):.2f}). One "
        "number per extra employee hides where the effect stops."
    )


BELOW_KNOT = Exercise(
    id="06.1",
    kind="code",
    question=(
        "The straight logit gives one odds ratio per extra employee for all customers. The "
        "idea under test says extra contacts help only *up to* about four. Write the line "
        "that fits the straight logit to the customers served by **at most `threshold`** "
        "employees only and returns its odds ratio per extra employee "
        "(`relationships.fit_retention(...)`, then the `breadth` row of `coefficients`). "
        "Two decimals are enough."
    ),
    needs=("customers", "threshold", "truth"),
    expected=lambda customers, threshold, truth: odds_ratio_up_to(customers, threshold),
    tolerance=0.01,
    unit="number",
    fmt="{:.3f}",
    code=(
        'relationships.fit_retention(customers[customers["n_employees"] <= threshold], '
        'kind="linear").coefficients.loc["breadth", "odds_ratio"]'
    ),
    hints=(
        "Keep only the rows of customers whose n_employees is at most threshold, then fit "
        "the same straight logit as the notebook does.",
        'Pass customers[customers["n_employees"] <= threshold] to '
        'relationships.fit_retention(..., kind="linear") and read the column odds_ratio of '
        "coefficients in the row 'breadth' (the exponentiated coefficient).",
    ),
    mistakes=(
        Mistake(
            lambda customers, threshold, truth: odds_ratio_all(customers),
            "That is the odds ratio over all customers (the notebook's straight logit); fit it "
            "again on the customers served by at most threshold employees.",
        ),
        Mistake(
            lambda customers, threshold, truth: math.log(odds_ratio_up_to(customers, threshold)),
            "That is the coefficient in log-odds; the odds ratio is its exponential.",
        ),
        Mistake(
            lambda customers, threshold, truth: odds_ratio_up_to(
                customers, threshold, strictly=True
            ),
            "That leaves out the customers served by exactly threshold employees: keep "
            "n_employees <= threshold.",
        ),
    ),
    solution=(
        "Fit the same model on the customers at or below the knot. Below four contacts the "
        "odds of staying rise faster per extra employee than the straight line over all "
        "customers says: that line is pulled down by the customers above the knot, where "
        "more contacts no longer go with more staying."
    ),
    explain=_below_explain,
)


# --------------------------------------------- 06.2: what the odds ratio shows (why)


def segment_profile(customers: pd.DataFrame) -> pd.DataFrame:
    """Mean number of employees met and retention rate by segment."""
    return customers.groupby("segment").agg(
        employees=("n_employees", "mean"), retention=("retained", "mean")
    )


def _attachment_explain(customers: pd.DataFrame) -> str:
    p = segment_profile(customers).sort_values("employees")
    low, high = p.index[0], p.index[-1]
    return (
        f"Here: {high} customers meet {p.loc[high, 'employees']:.1f} employees on average and "
        f"{p.loc[high, 'retention']:.0%} of them stay; {low} customers meet "
        f"{p.loc[low, 'employees']:.1f} and {p.loc[low, 'retention']:.0%} stay. In this "
        "simulation staying was built to depend on the number of employees only, but in a "
        "client's data the same table arises when big accounts both see more staff and stay "
        "for reasons of their own (contracts, switching costs). Neither case records what "
        "the customer feels attached to."
    )


ATTACHMENT_WHY = Exercise(
    id="06.2",
    kind="why",
    question=(
        "The odds ratio per extra employee lies clearly above 1, and retention levels off "
        "after about four contacts. Do these results show the source's idea, that at about "
        "four contacts the customer's attachment moves from the employee to the company?"
    ),
    needs=("customers",),
    options={
        "a": Option(
            "No: attachment is not observed; staying is only a proxy for it, so the rise up "
            "to four contacts fits the idea but does not prove it.",
            "A direct test would ask what happens when a customer's contact person leaves "
            "the firm: do customers with one contact follow them, and customers with four "
            "or more stay?",
            correct=True,
        ),
        "b": Option(
            "Yes: the odds ratio's 95% interval lies wholly above 1, so each extra employee "
            "measurably adds to how attached the customer feels to the firm.",
            "The interval says the link between contacts and staying is not chance. It says "
            "nothing about attachment, which no table records; and customers who stay for "
            "other reasons (bigger accounts) also meet more staff.",
        ),
        "c": Option(
            "No: above four contacts the slope turns negative, so every contact beyond four "
            "makes customers less attached to the firm and more likely to leave.",
            "Above the knot retention stops rising; it does not fall (see the slope above "
            "the knot in the threshold table). And a flat retention curve says nothing about "
            "attachment either way.",
        ),
        "d": Option(
            "Yes: the simulation was built with a kink at four contacts, and the test finds it.",
            "The test recovers what the simulation put in: a kink in *retention*. There is no "
            "attachment in the simulation at all, so finding the kink cannot show that it "
            "moves.",
        ),
    },
    hints=(
        "Ask what the data record for each customer, and whether attachment is among them.",
        "List what the retention model measures (who stayed, how many employees served "
        "them) and what the idea claims (where the attachment lies); then ask what else "
        "could make customers who meet more staff stay more often, e.g. their segment.",
    ),
    solution=(
        "The idea is about a state of mind: to whom the customer feels attached. Retention "
        "and cross-buying are its observable proxies. A retention curve that rises up to "
        "four contacts and then levels off is what the idea predicts, but other stories "
        "predict it too (big accounts both meet more staff and stay longer), and in a "
        "simulation the curve is whatever was built in. Testing the idea needs data on what "
        "customers do when their contact person leaves."
    ),
    explain=_attachment_explain,
)


# ------------------------------------------- 06.3: reading a test that finds nothing


def _no_change_explain(tests: dict, alpha: float) -> str:
    t = tests[WITHOUT]
    verdict = "finds no significant change" if not t.changes(alpha) else "does find a change"
    return (
        f"In the population {WITHOUT}, the test {verdict} (p = {t.p_value:.3g} against "
        f"alpha = {alpha:g}). The change in slope is {t.slope_change:+.3f} log-odds per "
        f"employee, 95% interval {t.slope_change_lower:+.3f} to {t.slope_change_upper:+.3f}: "
        "changes anywhere in that range are consistent with these data. Meanwhile the slope "
        f"itself is {t.slope_below:.3f} below and {t.slope_above:.3f} above the knot."
    )


NO_CHANGE = Exercise(
    id="06.3",
    kind="choose",
    question=(
        "When the likelihood-ratio test finds **no** significant change of slope at four "
        "contacts (p above `alpha`, as for the population built without a threshold), what "
        "may you conclude?"
    ),
    needs=("tests", "alpha"),
    options={
        "a": Option(
            "An extra employee has exactly the same effect on the odds of staying below four "
            "contacts as above them, so there is no kink.",
            "Not significant is not the same as equal: the interval of the change in slope "
            "still allows changes of some size in either direction.",
        ),
        "b": Option(
            "Extra employees do not affect retention in that population: the test found "
            "nothing to report.",
            "The test is about a *change* of slope at the knot, not about the slope itself: "
            "in that population retention rises with every extra employee, on both sides.",
        ),
        "c": Option(
            "The data do not contradict an unchanged slope; the interval of the change "
            "shows how large a kink they cannot rule out.",
            "A test that does not reject tells you the data do not contradict the simpler "
            "model; the confidence interval of the change says how large a kink could still "
            "hide in them.",
            correct=True,
        ),
        "d": Option(
            "The test cannot be trusted here, since on the other population, built with a "
            "threshold, it did find a change of slope.",
            "Finding the kink where one was built and not finding one where none was built "
            "is what a good test does: that is why the notebook runs it on both.",
        ),
    },
    hints=(
        "What hypothesis does the likelihood-ratio test compare, and what does a p-value "
        "above alpha say about it?",
        "Read the rows 'change in slope', 'change 95% low' and 'change 95% high' of the "
        "threshold table for the population built without a threshold, and the slopes "
        "below and above the knot.",
    ),
    solution=(
        "The test compares the straight logit (slope unchanged at the knot) with the kinked "
        "one. A p-value above alpha means the data do not contradict the straight logit; it "
        "does not prove the slopes equal. The interval of the change in slope shows which "
        "changes the data still allow."
    ),
    explain=_no_change_explain,
)


# ------------------------------------------- 06.4: exit interviews at a higher power


def sample_size(design: defection.SampleSize, **change: float) -> defection.SampleSize:
    """:func:`crmlab.defection.claim_sample_size` for the notebook's design, with ``change``."""
    spec = {
        "claimed": design.claimed,
        "true_share": design.true_share,
        "alpha": design.alpha,
        "power": design.power,
    }
    spec.update(change)
    return defection.claim_sample_size(**spec)


def _power_explain(design: defection.SampleSize) -> str:
    more = sample_size(design, power=HIGHER_POWER)
    return (
        f"At {design.power:.0%} power the survey needs {design.n:,} former customers; at "
        f"{HIGHER_POWER:.0%}, {more.n:,} ({more.n / design.n - 1:.0%} more), with exact "
        f"power {more.achieved:.1%} there. The normal approximation says {more.n_normal:,}: "
        "too few, because the exact test is discrete. At "
        f"{design.power:.0%} power a survey of a firm where {design.true_share:.0%} leave "
        "over the service still fails to reject the claim "
        f"{1 - design.power:.0%} of the time."
    )


EXIT_SURVEY = Exercise(
    id="06.4",
    kind="code",
    question=(
        "A client wants to test 'two in three defectors leave because of the service' on a "
        "real exit survey, and wants to be surer than the notebook's design: if the true "
        "share is the notebook's alternative, the survey should reject the claim with "
        "**90%** power (same claim, alternative and level as the notebook). Write the line "
        "that computes "
        "how many former customers must be interviewed, with "
        "`defection.claim_sample_size`."
    ),
    needs=("design",),
    expected=lambda design: sample_size(design, power=HIGHER_POWER).n,
    tolerance=0.0,
    unit="count",
    fmt="{:,}",
    code=(
        "defection.claim_sample_size(claimed=claimed_service_share, "
        "true_share=alternative_service_share, alpha=alpha, power=0.9).n"
    ),
    hints=(
        "The notebook already calls the function that sizes the survey; only one of its "
        "arguments changes.",
        "Call defection.claim_sample_size with the notebook's claimed, true_share and alpha "
        "and power=0.9, and read the attribute n of the result.",
    ),
    mistakes=(
        Mistake(
            lambda design: design.n,
            "That is the size for the notebook's 80% power; the client asks for 90%.",
        ),
        Mistake(
            lambda design: sample_size(design, power=HIGHER_POWER).n_normal,
            "That is the normal approximation (n_normal); the exact test needs the size "
            "from which its exact power stays above the target (n).",
        ),
    ),
    solution=(
        "Only the power changes. `claim_sample_size` computes the exact power of the "
        "binomial test at every survey size and returns the smallest size from which it "
        "never falls below the target again."
    ),
    explain=_power_explain,
)


# ------------------------------------ 06.5: predict the size for a closer alternative


def closer_before_after(design: defection.SampleSize) -> tuple[int, int]:
    """Survey size for the notebook's alternative and for ``CLOSER_SHARE``."""
    return design.n, sample_size(design, true_share=CLOSER_SHARE).n


def _closer_explain(design: defection.SampleSize) -> str:
    before, after = closer_before_after(design)
    gap0, gap1 = abs(design.claimed - design.true_share), abs(design.claimed - CLOSER_SHARE)
    return (
        f"{before:,} former customers to tell {design.true_share:.0%} from "
        f"{design.claimed:.1%}; {after:,} to tell {CLOSER_SHARE:.0%} from it "
        f"({after / before:.1f} times as many). The gap to detect shrinks from "
        f"{gap0:.3f} to {gap1:.3f}, and the size needed grows roughly with "
        f"1/gap^2: ({gap0:.3f}/{gap1:.3f})^2 = {(gap0 / gap1) ** 2:.1f}."
    )


CLOSER_SHARE_PREDICT = Exercise(
    id="06.5",
    kind="predict",
    question=(
        "Before you run anything: suppose the share the survey must tell from 'two in "
        f"three' is **{CLOSER_SHARE}** instead of `alternative_service_share`. Does the "
        'number of former customers needed go "up", "down" or stay the "same"? Write your '
        "prediction, run the cell, then compute it with "
        f"`defection.claim_sample_size(..., true_share={CLOSER_SHARE})`."
    ),
    needs=("design",),
    expected=lambda design: direction(*closer_before_after(design)),
    code=(
        "(design.n, defection.claim_sample_size(claimed=claimed_service_share, "
        "true_share=0.6, alpha=alpha, power=target_power).n)"
    ),
    hints=(
        "Is it easier or harder to tell two shares apart when they lie close together?",
        "Compute defection.claim_sample_size with true_share=0.6 and the notebook's other "
        "arguments, and compare its n with design.n.",
    ),
    solution=(
        "The closer the alternative lies to the claim, the smaller the difference the "
        "survey must detect, and the sampling noise of a share (about sqrt(p(1-p)/n)) only "
        "shrinks with the square root of the survey size: halving the gap needs about four "
        "times the respondents."
    ),
    explain=_closer_explain,
)


# --------------------------------------- 06.6: why cross-buying is not a lever (why)


def lines_by_outcome(customers: pd.DataFrame) -> pd.Series:
    """Mean number of product lines of the customers who left (0) and who stayed (1)."""
    return customers.groupby("retained")["n_lines"].mean()


def _lever_explain(customers: pd.DataFrame, by_lines: pd.DataFrame, truth: dict) -> str:
    mean = lines_by_outcome(customers)
    one, two = by_lines["retention"].iloc[0], by_lines["retention"].iloc[1]
    first, second = by_lines.index[0], by_lines.index[1]
    return (
        f"Here {one:.0%} of the customers with {first} line stay against {two:.0%} with "
        f"{second}. The simulation draws the number of lines *after* deciding who stays "
        f"({truth['cross_buying']}): customers who stayed bought "
        f"{mean.get(1, np.nan):.2f} lines on average, those who left "
        f"{mean.get(0, np.nan):.2f}. Pushing a second line onto a customer here would not "
        "change their chance of staying at all. In a real firm only an experiment (offer "
        "the line to a random half of the single-line customers) shows what the push does."
    )


LEVER_WHY = Exercise(
    id="06.6",
    kind="why",
    question=(
        "Customers who buy more product lines stay far more often (the cross-buying "
        "table). A manager proposes pushing a second line onto every single-line customer "
        "'to raise retention'. Why can't the table show that this would work?"
    ),
    needs=("customers", "by_lines", "truth"),
    options={
        "a": Option(
            "Because the slope of retention per extra line has a wide confidence interval, "
            "so the size of the effect is too uncertain to plan with.",
            "The interval of the slope is narrow (see the association table): the link is "
            "measured precisely. Precision is not the problem, the direction of the arrow is.",
        ),
        "b": Option(
            "Because the groups with the most lines are too small to compare, and the big "
            "differences in retention come from those groups.",
            "The smallest groups are set aside, but the one-line and two-line groups are "
            "large, and the gap between them is already wide.",
        ),
        "c": Option(
            "Because cross-buying raises the customers' value per year, not their "
            "retention, so the push would pay off in another way.",
            "Both value and retention rise with the number of lines in the table; the "
            "question is not which outcome goes with lines but whether lines cause it.",
        ),
        "d": Option(
            "Because comparing customers shows an association, not what a push would do: "
            "here staying makes customers buy more lines.",
            "Customers who like the firm both stay and buy more; in this simulation the "
            "arrow runs from staying to lines by construction.",
            correct=True,
        ),
    },
    hints=(
        "Which way could the arrow between 'buys more lines' and 'stays' run?",
        "Read in the simulation's truth (printed at the top of the notebook) how the "
        "number of lines is drawn, and compare the mean number of lines of customers who "
        "stayed and who left.",
    ),
    solution=(
        "The table compares different customers; the manager's plan changes the same "
        "customer. An association across customers shows what to expect of a plan only if "
        "nothing else drives both, and here the causation is built the other way: "
        "retained customers are given more lines. Cross-buying is a *sign* of a good "
        "relationship, not necessarily a lever; a randomised cross-selling offer would tell."
    ),
    explain=_lever_explain,
)


# --------------------------------- 06.7: a rising retention rate and loyalty (why)


def rising_rates(retention: ContractRetentionStudy, cohort: str = RISING) -> pd.Series:
    """The cohort's observed retention rate in year 1 and in the last calibration year,
    the sBG's in the same years, and the BdW's ``c`` with its p-value for ``c = 1``."""
    curves = retention.curves[retention.curves["cohort"] == cohort].set_index("year")
    last = retention.settings["calibration_years"]
    d = retention.duration.loc[cohort]
    return pd.Series(
        {
            "observed_first": curves.loc[1, "observed_retention"],
            "observed_last": curves.loc[last, "observed_retention"],
            "sbg_first": curves.loc[1, "sBG_retention"],
            "sbg_last": curves.loc[last, "sBG_retention"],
            "last": last,
            "c": d["c"],
            "p_value": d["p_value"],
        }
    )


def _loyalty_explain(retention: ContractRetentionStudy) -> str:
    r = rising_rates(retention)
    return (
        f"Here the high-end cohort renews at {r['observed_first']:.0%} in year 1 and "
        f"{r['observed_last']:.0%} in year {int(r['last'])}. The sBG, with every "
        f"subscriber's risk constant, rises from {r['sbg_first']:.0%} to "
        f"{r['sbg_last']:.0%} on sorting alone. The BdW puts c at {r['c']:.2f} (test of "
        f"c = 1: p = {r['p_value']:.2g}): if anything, each subscriber's own risk of leaving "
        "grows with tenure, so the long-standing subscribers are the ones to watch."
    )


LOYALTY_WHY = Exercise(
    id="06.7",
    kind="why",
    question=(
        "The high-end cohort's retention rate rises year after year (section 5). A manager "
        "concludes that subscribers grow more loyal the longer they stay, so retention "
        "money should go to new subscribers only. What do the sBG and BdW fits say?"
    ),
    needs=("retention",),
    options={
        "a": Option(
            "He is right: a retention rate that rises every year means that each "
            "subscriber's own risk of leaving falls with tenure.",
            "The sBG makes the rate rise with every subscriber's risk held constant: the "
            "likely leavers go first and the cohort left behind renews more often. A rising "
            "rate alone says nothing about any one subscriber.",
        ),
        "b": Option(
            "He is wrong: the likely leavers go first, and the BdW even finds each "
            "subscriber's own risk rising with tenure.",
            "Sorting (heterogeneity) raises the cohort's rate; the BdW, which allows both, "
            "puts c above 1, so the individual risks move the other way.",
            correct=True,
        ),
        "c": Option(
            "He is wrong: the likelihood-ratio test shows that the retention rate does not "
            "change with tenure, the rise is chance.",
            "The test compares c = 1 with c free: it is about each subscriber's risk, not "
            "about the cohort's retention rate, which rises under both models.",
        ),
        "d": Option(
            "He is right: the BdW projects the holdout years better than the sBG, and it is "
            "the model that lets loyalty grow with tenure.",
            "A better projection shows that c is needed, not which way it points: read the "
            "estimate of c and what c > 1 means for each subscriber's risk.",
        ),
    },
    hints=(
        "Can a cohort's retention rate rise when no single subscriber changes at all?",
        "Compare the sBG's retention-rate curve (every subscriber's risk constant) with the "
        "observed one, then read the BdW's c for the high-end cohort and what c > 1 means.",
    ),
    solution=(
        "Two things raise a cohort's retention rate: subscribers whose own risk falls with "
        "tenure, and sorting, as the subscribers most likely to leave go first. The sBG has "
        "only sorting and still reproduces the rise; the BdW has both and, for the high-end "
        "cohort, finds c > 1: each subscriber's risk of leaving *rises* with tenure, hidden "
        "in the cohort's curve by the sorting. Long-standing subscribers need retention "
        "effort too."
    ),
    explain=_loyalty_explain,
)


EXERCISES = (
    BELOW_KNOT,
    ATTACHMENT_WHY,
    NO_CHANGE,
    EXIT_SURVEY,
    CLOSER_SHARE_PREDICT,
    LEVER_WHY,
    LOYALTY_WHY,
)
