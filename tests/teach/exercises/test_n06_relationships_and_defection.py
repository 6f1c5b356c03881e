"""What only notebook 06's exercises claim, on the namespace the notebook builds (see
``machinery.py``; the checks every exercise passes are in ``test_every_exercise.py``): a
count must be whole, known mistakes get their own feedback, and the claims the
explanations make hold on the data."""

from __future__ import annotations

import math

import pytest
from teach.exercises.machinery import texts

from crmlab import defection, relationships, teach
from crmlab.teach.exercises import n06_relationships_and_defection as n06

NOTEBOOK = "06"


def test_a_count_must_be_whole_and_a_slip_is_not_a_try(ns, shown):
    design = ns["design"]
    n = n06.sample_size(design, power=n06.HIGHER_POWER).n
    assert not teach.check("06.4", n + 0.5, design=design)
    assert "whole number" in texts(shown)[-1] and "Not an answer yet" in texts(shown)[-1]
    assert teach.core._tried.get("06.4") is None  # no hint spent on it
    assert teach.check("06.4", f"{n}", design=design)


def test_common_mistakes_get_their_own_feedback(ns, shown):
    customers, threshold, truth = ns["customers"], ns["threshold"], ns["truth"]
    objs = {"customers": customers, "threshold": threshold, "truth": truth}
    below = n06.odds_ratio_up_to(customers, threshold)
    teach.check("06.1", float(ns["coef"]["odds_ratio"]), **objs)  # the notebook's own number
    teach.check("06.1", math.log(below), **objs)
    strictly = n06.odds_ratio_up_to(customers, threshold, strictly=True)
    assert abs(strictly - below) > 0.01  # the mistake is distinguishable on these data
    teach.check("06.1", strictly, **objs)
    design = ns["design"]
    teach.check("06.4", design.n, design=design)
    teach.check("06.4", n06.sample_size(design, power=0.9).n_normal, design=design)
    overall, log_odds, strict, eighty, normal = texts(shown)
    assert "over all customers" in overall
    assert "log-odds" in log_odds and "exponential" in log_odds
    assert "exactly threshold" in strict
    assert "80% power" in eighty
    assert "normal approximation" in normal


def test_odds_ratio_below_the_knot_recovers_the_built_in_effect(ns):
    customers, threshold, truth = ns["customers"], ns["threshold"], ns["truth"]
    below = n06.odds_ratio_up_to(customers, threshold)
    part = customers[customers["n_employees"] <= threshold]
    fit = relationships.fit_retention(part)
    row = fit.coefficients.loc["breadth"]
    assert row["odds_ratio_lower"] < math.exp(truth["slope"]) < row["odds_ratio_upper"]
    assert below > float(ns["coef"]["odds_ratio"])  # steeper than the straight line overall
    assert below == pytest.approx(math.exp(row["coef"]))


def test_the_no_change_option_matches_the_test_without_a_threshold(ns, shown):
    t = ns["tests"][n06.WITHOUT]
    assert not t.changes(ns["alpha"])  # the situation the question describes
    assert t.slope_change_lower < 0 < t.slope_change_upper  # option c: no change allowed...
    assert t.slope_change_upper > 0.1 or t.slope_change_lower < -0.1  # ...nor ruled out
    assert t.slope_below > 0 and t.slope_above > 0  # option b's feedback: slope is positive
    assert teach.check("06.3", "c", tests=ns["tests"], alpha=ns["alpha"])
    assert f"{t.p_value:.3g}" in texts(shown)[-1]


def test_survey_sizes_behind_the_predict_and_the_code_exercise(ns, shown):
    design = ns["design"]
    before, after = n06.closer_before_after(design)
    assert before == design.n and after > 4 * before  # the gap shrinks from 1/6 to 1/15
    closer = n06.sample_size(design, true_share=n06.CLOSER_SHARE)
    assert closer.achieved >= design.power
    assert (
        defection.claim_power(
            after - 1, claimed=design.claimed, true_share=n06.CLOSER_SHARE, alpha=design.alpha
        )
        < design.power
    )
    higher = n06.sample_size(design, power=n06.HIGHER_POWER)
    assert higher.n > design.n and higher.achieved >= n06.HIGHER_POWER
    assert teach.check("06.5", "goes up", design=design)
    assert f"{after:,}" in texts(shown)[-1] and f"{before:,}" in texts(shown)[-1]


def test_why_explanations_cite_the_data(ns, shown):
    customers, by_lines, truth = ns["customers"], ns["by_lines"], ns["truth"]
    mean = n06.lines_by_outcome(customers)
    assert mean[1] > mean[0]  # stayers buy more lines: the association the table shows
    assert teach.check("06.6", "d", customers=customers, by_lines=by_lines, truth=truth)
    assert truth["cross_buying"] in texts(shown)[-1]
    assert f"{mean[1]:.2f}" in texts(shown)[-1]
    profile = n06.segment_profile(customers)
    assert teach.check("06.2", "a", customers=customers)
    top = profile["employees"].idxmax()
    assert f"{profile.loc[top, 'employees']:.1f}" in texts(shown)[-1]
    assert profile.loc[top, "retention"] == profile["retention"].max()
