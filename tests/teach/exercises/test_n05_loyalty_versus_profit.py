"""What only notebook 05's exercises claim, on the namespace the notebook builds (see
``machinery.py``; the checks every exercise passes are in ``test_every_exercise.py``): the
common mistakes get their own feedback, the claims the explanations make hold on the data,
and the sources section states its numbers from crmlab."""

from __future__ import annotations

import re

import numpy as np
import pytest
from teach.exercises.machinery import NUMERIC, notebook_cells, texts

from crmlab import teach
from crmlab.studies import loyalty_claims
from crmlab.teach.exercises import n05_loyalty_versus_profit as n05

NOTEBOOK = "05"


def test_some_exercise_asks_for_a_fraction():
    """So the percent/fraction slip is caught for it (test_every_exercise)."""
    exercises = teach.notebook_exercises(NOTEBOOK).values()
    assert any(ex.kind in NUMERIC and ex.unit == "fraction" for ex in exercises)


def test_the_predict_code_computes_the_threshold_pair(ns):
    """The line a student runs for 05.4 gives the pair the explanation cites."""
    before, after = eval(teach.get("05.4").code, dict(ns))
    assert (before, after) == pytest.approx(n05.threshold_before_after(ns["result"]))


def test_common_mistakes_get_their_own_feedback(ns, shown):
    result = ns["result"]
    r = result.statistic("pearson", "repeat buyers")
    teach.check("05.2", round(float(r.estimate), 3), result=result)
    teach.check("05.2", round(float(r.lower), 3), result=result)
    teach.check(
        "05.2", round(float(result.statistic("pearson", "all customers").upper), 3), result=result
    )
    teach.check("05.6", loyalty_claims.cherry_picking(result, 0.05).long_life_share, result=result)
    teach.check("05.6", loyalty_claims.cherry_picking(result, 0.10).profit_share, result=result)
    estimate, lower, everyone, five, profit = texts(shown)
    assert "estimate itself" in estimate
    assert "lower end" in lower
    assert "all customers" in everyone
    assert "5% most profitable" in five
    assert "share of the profit" in profit


def test_why_the_all_customer_split_is_a_one_time_split(ns):
    result = ns["result"]
    s = n05.all_customer_split(result)
    assert s["share_one_time"] > 0.4  # about half the cohort
    assert s["one_time_short"] in (0.0, 1.0)  # the tie lands on one side as a block
    assert s["short_one_time"] > 0.5 and s["repeat_short"] < 0.5
    # option b's feedback: some repeat buyers do live shorter than the one-time buyers
    c = result.customers
    assert (c.loc[c["repeat_buyer"], "lifetime"] < s["tie_weeks"]).any()
    # option c's feedback: under Pareto/NBD one-time buyers' lifetimes end before observation
    assert result.settings["model"] == "pareto_nbd"
    assert not c.loc[~c["repeat_buyer"], "censored"].all()


def test_the_cost_model_builds_in_a_negative_link(ns, shown):
    result = ns["result"]
    for sample in ("repeat buyers", "all customers"):
        r = result.statistic("pearson", sample).estimate
        r0 = result.statistic("pearson_without_marketing", sample).estimate
        assert r0 > r  # the built-in term pulls the correlation down
    c = result.customers
    before = c["profit"] + c["cost_marketing"]
    r0 = np.corrcoef(c["lifetime"], before)[0, 1]
    assert r0 == pytest.approx(
        result.statistic("pearson_without_marketing", "all customers").estimate
    )
    # option b's feedback: a constant margin alone does not change a correlation
    assert np.corrcoef(c["lifetime"], 0.3 * c["revenue"])[0, 1] == pytest.approx(
        np.corrcoef(c["lifetime"], c["revenue"])[0, 1]
    )
    assert teach.check("05.3", "a", result=result)
    assert "pearson_without_marketing" in texts(shown)[-1] or "without it" in texts(shown)[-1]


def test_predict_explains_with_the_computation_after_a_right_answer(ns, shown):
    result = ns["result"]
    p = n05.threshold_profile(result)
    assert p["r_after"] < p["r_before"]  # the direction the exercise teaches, on the data
    assert p["weeks_after"] > p["weeks_before"] and p["marketing_after"] > p["marketing_before"]
    gap_before = p["repeat_weeks_before"] - p["weeks_before"]
    gap_after = p["repeat_weeks_after"] - p["weeks_after"]
    assert abs(gap_after) < abs(gap_before)  # the tie moves towards the repeat buyers
    assert p["profit_one_time"] < p["profit_repeat"]
    sens = result.sensitivity
    lower = sens[np.isclose(sens["alive_threshold"], n05.LOWER_THRESHOLD)]
    assert np.allclose(lower["one_time_median_lifetime"], p["weeks_after"])
    assert teach.check("05.4", "Down", result=result)
    assert teach.check("05.4", "decreases", result=result)
    message = texts(shown)[0]
    assert f"{p['r_before']:.3f}" in message and f"{p['r_after']:.3f}" in message
    assert f"{p['r0_before']:.3f}" in message and f"{p['r0_after']:.3f}" in message
    # which cause the explanation names follows the numbers
    drop, drop0 = p["r_before"] - p["r_after"], p["r0_before"] - p["r0_after"]
    assert ("not the marketing" in message) == (drop0 >= 0.5 * drop)
    assert not teach.check("05.4", "a lot", result=result)
    assert "Not an answer yet" in texts(shown)[-1]


def test_simulation_explanation_counts_the_check_table(ns, shown):
    check = ns["check"]
    assert teach.check("05.5", "c", check=check)
    message = texts(shown)[-1]
    table = check.table[check.table["sample"] == "repeat buyers"]
    for world, part in table.groupby("world"):
        covered = int(part["interval_covers_truth"].sum())
        assert f"in the {world} world" in message
        assert f"covered the truth in {covered} of {len(part)}" in message


def test_cherry_picking_explanation(ns, shown):
    result = ns["result"]
    cp = loyalty_claims.cherry_picking(result, n05.TAKEN)
    assert teach.check("05.6", round(cp.long_life_share, 2), result=result)
    message = texts(shown)[-1]
    assert f"{cp.profit_share:.0%}" in message and f"{cp.long_life_share:.0%}" in message


def test_the_sources_section_states_its_numbers_from_crmlab(ns):
    """Part of the notebook before the exercises: the students and cherry-picking section
    shows the tested findings (no number typed into a markdown cell)."""
    before, _ = notebook_cells(NOTEBOOK)
    section = [
        c.source
        for c in before
        if c.cell_type == "markdown"
        and ("Students at the bank" in c.source or "Cherry" in c.source)
    ]
    assert section and not any(re.search(r"\d+(\.\d+)?%", s) for s in section)
    students, picked = ns["students"], ns["picked"]
    assert students.split_date.strftime("%Y-%m-%d") == "1997-09-30"  # as notebook 04
    assert picked.share == ns["cherry_share"]
