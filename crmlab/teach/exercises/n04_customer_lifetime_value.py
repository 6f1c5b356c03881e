"""Exercises of notebook 04, customer lifetime value (buy-till-you-die models, CLV).

The check cells pass the notebook's ``study`` (:func:`crmlab.studies.lifetime_value_study`):
its fitted models, the model comparison, the choice, the totals by model and the customer
table.
"""

from __future__ import annotations

import math

import numpy as np

from crmlab.studies import lifetime_value as lv
from crmlab.teach.core import Exercise, Mistake, Option, direction

ALIVE_CUT = 0.5  # exercise 1: "more likely alive than not"
RATE_STEP = 0.05  # exercise 3: added to the yearly discount rate
PICKED = 0.10  # exercise 5: share of customers by CLV a competitor takes


def money(amount: float, decimals: int = 0) -> str:
    """Dollars for markdown: ``\\$1,234`` (a bare ``$`` would start a formula in Jupyter)."""
    return f"\\${amount:,.{decimals}f}"


# ------------------------------------------------------- 04.1: share alive, chosen model


def share_alive(study: lv.LifetimeValueStudy, name: str | None = None) -> float:
    """Share of customers with P(alive) > ``ALIVE_CUT`` under model ``name`` (default: used)."""
    fit = study.fits[study.choice.used if name is None else name]
    return float(np.mean(np.asarray(fit.probability_alive(study.summary)) > ALIVE_CUT))


def _other_model_shares(study: lv.LifetimeValueStudy) -> list[tuple[str, float]]:
    return [(n, share_alive(study, n)) for n in study.fits if n != study.choice.used]


def _mistake_other_model(k: int):
    def value(study: lv.LifetimeValueStudy) -> float:
        others = _other_model_shares(study)
        return others[k][1] if k < len(others) else math.nan

    return value


def _alive_explain(study: lv.LifetimeValueStudy) -> str:
    used = study.choice.used
    others = ", ".join(f"{share:.1%} under {n}" for n, share in _other_model_shares(study))
    one_time = float(study.totals.loc[used, "one_time_share"])
    text = (
        f"{share_alive(study):.1%} of the customers are more likely alive than not under {used}"
        + (f" ({others})" if others else "")
        + f". Mean P(alive) is {float(study.totals.loc[used, 'mean_p_alive']):.2f}: a share "
        f"above a cut and a mean are different summaries. {one_time:.0%} of the customers "
        "never bought again; how a model treats them decides most of the share."
    )
    return text


SHARE_ALIVE = Exercise(
    id="04.1",
    kind="code",
    question=(
        "Write the line that computes the share of customers who are more likely alive than "
        "not (P(alive) > 0.5) under the chosen model, from the fitted model itself: "
        "`model.probability_alive(summary)` gives each customer's P(alive). Two decimals are "
        "enough."
    ),
    needs=("study",),
    expected=lambda study: share_alive(study),
    tolerance=0.01,
    unit="fraction",
    fmt="{:.3f}",
    code="(model.probability_alive(summary) > 0.5).mean()",
    hints=(
        "A share of customers above a cut is the mean of a true/false comparison, one per "
        "customer.",
        "Compare model.probability_alive(summary) with 0.5 and take the .mean() of the "
        "result (model is the chosen one, study.model).",
    ),
    mistakes=(
        Mistake(
            lambda study: float(study.totals.loc[study.choice.used, "mean_p_alive"]),
            "That is the mean P(alive); the question asks for the share of customers whose "
            "P(alive) is above 0.5.",
        ),
        Mistake(
            _mistake_other_model(0),
            "That is the share under another model; use the chosen one (`model`).",
        ),
        Mistake(
            _mistake_other_model(1),
            "That is the share under another model; use the chosen one (`model`).",
        ),
        Mistake(
            lambda study: 1 - float(study.totals.loc[study.choice.used, "one_time_share"]),
            "That is the share of customers who bought again; P(alive) also depends on how "
            "long ago they last bought.",
        ),
    ),
    solution=(
        "`probability_alive` returns one P(alive) per customer of the summary; comparing with "
        "0.5 gives True/False and the mean of those is the share above the cut. The chosen "
        "model is the one that forecasts the holdout best (section 3)."
    ),
    explain=_alive_explain,
)


# -------------------------------------------------- 04.2: why BG/NBD's one-time buyers


def one_time_p_alive(study: lv.LifetimeValueStudy) -> dict[str, float]:
    """Mean P(alive) of the customers without a repeat purchase, by model."""
    return {n: float(study.totals.loc[n, "p_alive_one_time"]) for n in study.totals.index}


def _one_time_explain(study: lv.LifetimeValueStudy) -> str:
    means = one_time_p_alive(study)
    share = float(study.totals["one_time_share"].iloc[0])
    old = float(study.summary.loc[study.summary["frequency"] == 0, "T"].median())
    parts = ", ".join(f"{v:.2f} under {n}" for n, v in means.items())
    return (
        f"Here {share:.0%} of the customers made no repeat purchase, half of them first bought "
        f"more than {old:.0f} weeks before the end of calibration. Their mean P(alive): "
        f"{parts}. The share 'more likely alive than not' under BG/NBD rests on them."
    )


ONE_TIME_WHY = Exercise(
    id="04.2",
    kind="why",
    question=(
        "Under BG/NBD every customer who never bought again has P(alive) = 1, however long ago "
        "their only purchase was. Under MBG/NBD and Pareto/NBD the same customers get much "
        "less. Why does BG/NBD say they are certainly alive?"
    ),
    needs=("study",),
    options={
        "a": Option(
            "In BG/NBD a customer can drop out only right after a repeat purchase, so one "
            "who made none has had no chance to leave.",
            "The dropout coin is tossed after each repeat purchase (probability p); with no "
            "repeat purchase it was never tossed, so the model cannot put such a customer "
            "among the departed. MBG/NBD also tosses it right after the first purchase, and "
            "Pareto/NBD lets a customer leave at any moment.",
            correct=True,
        ),
        "b": Option(
            "Most one-time buyers bought recently, so at the end of calibration their "
            "recency still says they are active, as it would for any recent buyer.",
            "It does not depend on when they bought: the property holds for a one-time buyer "
            "of any age T, and many of these customers bought their only time months ago.",
        ),
        "c": Option(
            "BG/NBD ignores recency: it judges customers by their number of repeat purchases "
            "x only, and x = 0 holds no sign that a customer has left.",
            "BG/NBD's P(alive) does use recency for repeat buyers: it falls as the last "
            "purchase lies further back (see the formula and the heat map in section 4).",
        ),
        "d": Option(
            "The BG/NBD fit on these data puts the dropout probability p near zero, so the "
            "fitted model says hardly anyone drops out.",
            "The fitted dropout probability per purchase, a/(a+b), is well above zero, and "
            "repeat buyers who went silent do get P(alive) below 1.",
        ),
    },
    hints=(
        "Read how each model lets a customer leave (section 2): when can a BG/NBD customer "
        "drop out?",
        "Compare the models' mean P(alive) of customers without a repeat purchase "
        "(study.totals, column p_alive_one_time) and the BG/NBD formula of section 4 at x = 0.",
    ),
    solution=(
        "BG/NBD (Fader, Hardie & Lee 2005) models dropout as a coin tossed right after each "
        "*repeat* purchase. A customer with x = 0 has never had the coin tossed, so the model "
        "gives P(alive) = 1 whatever T is: a property of the model, not of the customers. "
        "MBG/NBD tosses it after the first purchase too; Pareto/NBD has an exponential "
        "lifetime that can end at any moment."
    ),
    explain=_one_time_explain,
)


# ----------------------------------------------- 04.3: predict a higher discount rate


def discount_before_after(study: lv.LifetimeValueStudy) -> tuple[float, float]:
    """Total CLV at the study's yearly discount rate and at ``RATE_STEP`` more."""
    rate = float(study.settings["annual_discount_rate"])
    return lv.total_clv(study), lv.total_clv(study, annual_discount_rate=rate + RATE_STEP)


def _discount_explain(study: lv.LifetimeValueStudy) -> str:
    before, after = discount_before_after(study)
    rate = float(study.settings["annual_discount_rate"])
    years = float(study.settings["horizon_years"])
    return (
        f"Total CLV: {money(before)} at {rate:.0%} a year, {money(after)} at "
        f"{rate + RATE_STEP:.0%} ({after / before - 1:+.1%}). Each week's expected purchases "
        "are divided by (1 + d)^w; a higher d shrinks every term, the later ones most, so "
        f"every customer's CLV falls and those expected to keep buying for most of the "
        f"{years:g} years lose most."
    )


DISCOUNT_PREDICT = Exercise(
    id="04.3",
    kind="predict",
    question=(
        f"Before you run anything: raise the yearly discount rate by {RATE_STEP:.0%} points "
        "(keep the model, the margin and the horizon). Does the total CLV of the cohort go "
        '"up", "down" or stay the "same"? Write your prediction, run the cell, then compute '
        "it: `studies.lifetime_value.total_clv(study, annual_discount_rate=...)` at the "
        "notebook's rate and at the higher one."
    ),
    needs=("study",),
    expected=lambda study: direction(*discount_before_after(study), same_within=0.5),
    code=(
        "(studies.lifetime_value.total_clv(study), "
        "studies.lifetime_value.total_clv(study, annual_discount_rate=annual_discount_rate "
        "+ 0.05))"
    ),
    hints=(
        "Look at the CLV formula of section 5: where does the discount rate enter, and what "
        "happens to a fraction when its denominator grows?",
        "Compute studies.lifetime_value.total_clv(study) and the same with "
        "annual_discount_rate=annual_discount_rate + 0.05, and compare them.",
    ),
    solution=(
        "CLV sums margin x spend x expected purchases in week w divided by (1 + d)^w. The "
        "expected purchases do not depend on d; a larger d makes every denominator larger, so "
        "every customer's CLV falls, and purchases expected years from now lose most. A "
        "higher discount rate says future money is worth less today (a higher cost of "
        "capital, or more risk)."
    ),
    explain=_discount_explain,
)


# ------------------------------------------------- 04.4: which model for forecasting


def _choice_explain(study: lv.LifetimeValueStudy) -> str:
    table, choice = study.comparison, study.choice
    used, best = choice.used, choice.in_sample
    totals = study.totals["total_clv"]
    spread = float(totals.max() / totals.min() - 1)
    if choice.agree:
        head = (
            f"Here the criteria agree: {used} has the lowest BIC and the closest holdout "
            f"forecast ({float(table.loc[used, 'holdout_error_pct']):+.1f}%)."
        )
    else:
        head = (
            f"Here BIC prefers {best}, but {used} forecasts the holdout best "
            f"({float(table.loc[used, 'holdout_error_pct']):+.1f}% against "
            f"{float(table.loc[best, 'holdout_error_pct']):+.1f}% in total purchases)."
        )
    return head + (
        f" Total CLV differs by {spread:.0%} from the lowest model to the highest, so the "
        "choice matters."
    )


MODEL_CHOICE = Exercise(
    id="04.4",
    kind="choose",
    question=(
        "Suppose BIC prefers one purchase model and another model forecasts the holdout "
        "period best (the total purchases closest to those made). Which model should give "
        "the forecasts and the CLV of the report, and why?"
    ),
    needs=("study",),
    options={
        "a": Option(
            "The model with the lowest BIC: it is the most probable model given the data, "
            "and its charge per parameter keeps it from overfitting.",
            "BIC judges how well a model reproduces the calibration period it was fitted to "
            "(with a charge per parameter). CLV is a forecast of periods the model has not "
            "seen; the holdout tests exactly that.",
        ),
        "b": Option(
            "The model that forecasts the holdout best: CLV is a forecast, and the holdout "
            "tests forecasts on weeks the models never saw.",
            "The holdout is a fair test of what the model is used for. BIC is still worth "
            "reporting: when the criteria disagree, the models miss something the holdout "
            "shows (section 3 looks for it month by month).",
            correct=True,
        ),
        "c": Option(
            "The model with the most parameters: it is the most flexible, so it can follow "
            "the calibration weeks and the holdout weeks best.",
            "Flexibility is what AIC and BIC charge for; and the three purchase models have "
            "four parameters each, so it cannot decide between them.",
        ),
        "d": Option(
            "It does not matter: all three are fitted to the same data by maximum "
            "likelihood, so they give the same CLV.",
            "Same data, different assumptions about how customers leave: compare the total "
            "CLV under each model in section 5, and the P(alive) of the customers who never "
            "bought again (section 4).",
        ),
    },
    hints=(
        "Ask what each criterion tests: data the model was fitted to, or data it never saw? "
        "And what is CLV?",
        "Read section 3: the comparison table's BIC column and its forecast error column, "
        "and the rule the notebook states below them.",
    ),
    solution=(
        "CLV is a forecast of future purchases, so the model is chosen on the test of "
        "forecasts: the holdout, which the models never saw. BIC rewards reproducing the "
        "calibration histogram; a model can fit that best and still forecast worse. The "
        "report shows both criteria and every model's CLV, so a reader sees how much the "
        "choice moves the answer."
    ),
    explain=_choice_explain,
)


# --------------------------------------------- 04.5: retention versus acquisition


def picked(
    study: lv.LifetimeValueStudy, first_amount, acquisition_cost: float, share: float = PICKED
) -> lv.RetentionVersusAcquisition:
    """The comparison of keeping and winning customers with the top ``share`` taken."""
    return lv.retention_versus_acquisition(
        study, first_amount, acquisition_cost=acquisition_cost, top_share=share
    )


def _picked_explain(study: lv.LifetimeValueStudy, first_amount, acquisition_cost: float) -> str:
    r = picked(study, first_amount, acquisition_cost)
    if not r.pays_back:
        return (
            f"At {money(acquisition_cost, 2)} a new customer ({money(r.new_clv, 2)} of CLV) "
            "never pays back: the top customers cannot be replaced by winning new ones."
        )
    return (
        f"The top {r.top_share:.0%} ({r.top_customers:,} customers) hold "
        f"{r.top_share_clv:.0%} of total CLV ({money(r.top_clv)}). A new customer brings "
        f"{money(r.new_clv, 2)} of CLV, {money(r.new_net, 2)} after the "
        f"{money(acquisition_cost, 2)} it costs to win them, so replacing the top group takes "
        f"{r.replace_top:,.0f} new customers, {r.replace_top / r.top_customers:.0f} for each "
        f"one lost, and {money(r.replace_top_cost)} of acquisition spend. Each of the top "
        "customers is worth keeping up to their own CLV."
    )


CHERRY_PICKING = Exercise(
    id="04.5",
    kind="code",
    question=(
        "**Cherry-picking, in CLV terms.** Section 8 shows what a competitor takes with "
        "your top 5% of customers by CLV. Suppose it takes your top **10%**. Write the line "
        "that computes how many new customers, each won at the notebook's "
        "`acquisition_cost`, would replace their future margin, with "
        "`studies.lifetime_value.retention_versus_acquisition(study, first_amount, "
        "acquisition_cost=..., top_share=...)` (its result's attributes are described in "
        "its docstring). To the nearest whole customer."
    ),
    needs=("study", "first_amount", "acquisition_cost"),
    expected=lambda study, first_amount, acquisition_cost: (
        picked(study, first_amount, acquisition_cost).replace_top
    ),
    tolerance=1.0,
    unit="number",
    fmt="{:,.0f}",
    code=(
        "studies.lifetime_value.retention_versus_acquisition(study, first_amount, "
        "acquisition_cost=acquisition_cost, top_share=0.10).replace_top"
    ),
    hints=(
        "Replacing customers means winning new ones whose value, net of what winning them "
        "costs, adds up to what the lost customers were worth.",
        "Call retention_versus_acquisition with top_share=0.10 and read replace_top: the "
        "top group's CLV divided by a new customer's CLV minus the acquisition cost.",
    ),
    mistakes=(
        Mistake(
            lambda study, first_amount, acquisition_cost: (
                picked(study, first_amount, acquisition_cost, 0.05).replace_top
            ),
            "That is for the top 5% the notebook shows; the competitor takes the top 10% "
            "here (top_share=0.10).",
        ),
        Mistake(
            lambda study, first_amount, acquisition_cost: (
                picked(study, first_amount, acquisition_cost).top_customers
            ),
            "That is how many customers the competitor takes. A new customer is worth far "
            "less than one of them, so replacing them one for one falls short.",
        ),
        Mistake(
            lambda study, first_amount, acquisition_cost: (
                picked(study, first_amount, acquisition_cost).top_clv
                / picked(study, first_amount, acquisition_cost).new_clv
            ),
            "That leaves out what winning each new customer costs: subtract the acquisition "
            "cost from a new customer's CLV first.",
        ),
    ),
    solution=(
        "`retention_versus_acquisition` values a newly won customer at the margin on an "
        "average first purchase plus the CLV of a just-acquired customer under the chosen "
        "model, minus the acquisition cost; `replace_top` divides the top group's CLV by "
        "that net value. Most customers of this cohort made no repeat purchase in the "
        "calibration period, so a new customer is worth much less than a proven customer "
        "who is still buying: losing the best customers to a competitor costs many times "
        "their number in new customers."
    ),
    explain=_picked_explain,
)


EXERCISES = (SHARE_ALIVE, ONE_TIME_WHY, DISCOUNT_PREDICT, MODEL_CHOICE, CHERRY_PICKING)
