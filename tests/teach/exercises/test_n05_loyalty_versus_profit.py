"""The exercises of notebook 05 on the namespace the notebook itself builds (its code cells
run in-process on cdnow_sample with the small test parameters): the right answer passes
(also at the precision asked for), the percent/fraction slip is recognised, a wrong answer
fails, the hints come as nudge then method and never hold the answer, the worked
solution's code computes the answer, the claims the explanations make hold on the data,
and the notebook asks and checks every exercise without writing the expected value."""

from __future__ import annotations

import ast
import os
import re

import matplotlib
import nbformat
import numpy as np
import pytest
import yaml

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from crmlab import render, teach  # noqa: E402
from crmlab.studies import loyalty_claims  # noqa: E402
from crmlab.teach import core  # noqa: E402
from crmlab.teach.exercises import n05_loyalty_versus_profit as n05  # noqa: E402

NAME = "loyalty_versus_profit"
PATH = render.list_notebooks()[NAME]
EXERCISES = list(teach.notebook_exercises("05").values())
IDS = [ex.id for ex in EXERCISES]
DECIMALS = {"05.2": 3, "05.6": 2}  # the precision each numeric question asks for


def _cells():
    nb = nbformat.read(PATH, as_version=4)
    start = next(
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "markdown" and c.source.lstrip().startswith("## Exercises")
    )
    return nb.cells[:start], nb.cells[start:]


@pytest.fixture(scope="module")
def ns(tmp_path_factory):
    """Run the notebook's code cells before the exercises, as papermill would."""
    before, _ = _cells()
    small = yaml.safe_load((render.NOTEBOOKS_DIR / "test_parameters.yaml").read_text())[NAME]
    env = {render.STATIC_ENV: "1", render.EXPORT_ENV: str(tmp_path_factory.mktemp("exports"))}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    namespace: dict = {}
    try:
        for cell in before:
            if cell.cell_type != "code":
                continue
            exec(compile(cell.source, "<notebook 05>", "exec"), namespace)
            if "parameters" in cell.metadata.get("tags", []):
                namespace.update(small)
            plt.close("all")
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return namespace


@pytest.fixture
def shown(monkeypatch):
    out: list = []
    monkeypatch.setattr(core, "display", lambda obj, **kw: out.append((obj.data, kw)))
    monkeypatch.delenv(teach.SOLUTIONS_ENV, raising=False)
    teach.reset()
    yield out
    teach.reset()


def objects(ex, ns):
    return {name: ns[name] for name in ex.needs}


def texts(shown):
    return [t for t, _ in shown]


def forms_of(value):
    """Ways a number could be written in a message."""
    v = float(value)
    return {f"{v:.2f}", f"{v:.3f}", f"{v:.1%}", f"{v:.0%}", f"{v * 100:.1f}"} - {"0%", "0.00"}


def test_notebook_05_has_four_to_six_exercises_mostly_do_and_one_why():
    kinds = [ex.kind for ex in EXERCISES]
    assert 4 <= len(kinds) <= 6
    assert sum(k in ("code", "predict", "choose") for k in kinds) >= len(kinds) / 2
    assert "why" in kinds
    assert set(DECIMALS) == {ex.id for ex in EXERCISES if ex.kind in ("numeric", "code")}


@pytest.mark.parametrize("exercise_id", IDS)
def test_right_answer_passes(exercise_id, ns, shown):
    ex = teach.get(exercise_id)
    objs = objects(ex, ns)
    expected = ex.expected_value(**objs)
    assert teach.check(exercise_id, expected, **objs)
    assert texts(shown)[-1].startswith("**Correct.**")
    if ex.kind in ("numeric", "code"):
        shown_precision = round(float(expected), DECIMALS[exercise_id])  # as the question asks
        assert teach.check(exercise_id, shown_precision, **objs)
    if ex.kind in ("choose", "why"):
        assert teach.check(exercise_id, f" ({expected.upper()}) ", **objs)


@pytest.mark.parametrize("exercise_id", IDS)
def test_worked_solution_code_computes_the_answer(exercise_id, ns):
    ex = teach.get(exercise_id)
    expected = ex.expected_value(**objects(ex, ns))
    if ex.kind in ("choose", "why"):
        assert expected == ex.correct_option
        return
    result = eval(ex.code, dict(ns))  # the line a student would write, in the notebook
    if ex.kind == "predict":
        before, after = result
        assert teach.direction(before, after, 5e-4) == expected
        assert (before, after) == pytest.approx(n05.threshold_before_after(ns["result"]))
    else:
        assert float(result) == pytest.approx(float(expected), abs=1e-12)


@pytest.mark.parametrize("exercise_id", IDS)
def test_wrong_answers_fail_with_nudge_then_method_never_the_answer(exercise_id, ns, shown):
    ex = teach.get(exercise_id)
    objs = objects(ex, ns)
    expected = ex.expected_value(**objs)
    if ex.kind in ("choose", "why"):
        wrong = [k for k in ex.options if k != expected][:2]
    elif ex.kind == "predict":
        wrong = [d for d in teach.core.DIRECTIONS if d != expected]
    else:
        e = float(expected)
        wrong = [e + 0.2 if e < 0.7 else e - 0.2, e + 0.35 if e < 0.5 else e - 0.35]
    assert not teach.check(exercise_id, wrong[0], **objs)
    assert not teach.check(exercise_id, wrong[0], **objs)  # the same answer again
    assert not teach.check(exercise_id, wrong[1], **objs)
    first, again, second = texts(shown)
    assert first.startswith("**Not yet.**") and ex.hints[0] in first and ex.hints[1] not in first
    assert ex.hints[0] in again  # rerunning the same answer is not a new try
    assert ex.hints[1] in second and ex.hints[0] not in second
    for text in texts(shown):
        if ex.kind in ("choose", "why"):
            right = ex.options[expected]
            assert right.text not in text and right.feedback not in text
            assert not re.search(rf"\b{expected}\b[.)]|\({expected}\)", text)
        elif ex.kind == "predict":
            assert f'"{expected}"' not in text and "%" not in text
        else:
            assert not any(f in text for f in forms_of(expected)), text
    if ex.kind in ("choose", "why"):
        assert ex.options[wrong[0]].feedback in first  # feedback on the option chosen


FRACTIONS = [ex.id for ex in EXERCISES if ex.kind in ("numeric", "code") and ex.unit == "fraction"]


def test_some_exercise_asks_for_a_fraction():
    assert FRACTIONS


@pytest.mark.parametrize("exercise_id", FRACTIONS)
def test_percent_for_fraction_slip_is_recognised(exercise_id, ns, shown):
    ex = teach.get(exercise_id)
    objs = objects(ex, ns)
    expected = float(ex.expected_value(**objs))
    assert not teach.check(exercise_id, expected * 100, **objs)
    assert not teach.check(exercise_id, f"{expected * 100:.1f}%", **objs)
    for text in texts(shown):
        assert "looks like a percentage" in text.lower() and "fraction" in text
        assert ex.hints[0] not in text  # a slip is not a wrong try
    assert teach.core._tried.get(exercise_id) is None


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
    # option d's feedback: some repeat buyers do live shorter than the one-time buyers
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
    assert teach.check("05.3", "c", result=result)
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


@pytest.mark.parametrize("exercise_id", IDS)
def test_solutions_only_in_the_instructor_edition(exercise_id, ns, shown, monkeypatch):
    ex = teach.get(exercise_id)
    objs = objects(ex, ns)
    teach.check(exercise_id, None, **objs)
    assert len(shown) == 1 and "Not answered yet" in shown[0][0] and ex.answer_name in shown[0][0]
    monkeypatch.setenv(teach.SOLUTIONS_ENV, "1")
    teach.check(exercise_id, None, **objs)
    solution, meta = shown[-1]
    assert meta == {"metadata": {teach.SOLUTION_KEY: exercise_id}}
    assert "instructor edition" in solution and "**Answer:**" in solution
    expected = ex.expected_value(**objs)
    if ex.kind in ("numeric", "code"):
        assert ex.fmt.format(expected) in solution


def test_the_notebook_asks_and_checks_every_exercise_without_the_answer(ns, shown):
    _, cells = _cells()
    code = [c.source for c in cells if c.cell_type == "code"]
    asked = [m for s in code for m in re.findall(r'teach\.question\("(\d\d\.\d+)"\)', s)]
    assert asked == IDS
    for ex in EXERCISES:
        cell = next(s for s in code if f'teach.check("{ex.id}"' in s)
        assert "expected" not in cell and f"{ex.answer_name} = None" in cell
        call = ast.parse(cell).body[-1].value
        assert [k.arg for k in call.keywords] == list(ex.needs)
        assert all(isinstance(k.value, ast.Name) and k.value.id == k.arg for k in call.keywords)
        local = dict(ns)
        exec(compile(cell, ex.id, "exec"), local)  # unanswered: prints no number
        value = ex.expected_value(**objects(ex, ns))
        message = shown[-1][0]
        assert "Not answered yet" in message
        if ex.kind in ("numeric", "code"):
            assert not any(f in message for f in forms_of(value))
        # answered right, the same cell says so
        exec(
            compile(
                cell.replace(f"{ex.answer_name} = None", f"{ex.answer_name} = {value!r}"),
                ex.id,
                "exec",
            ),
            local,
        )
        assert shown[-1][0].startswith("**Correct.**")


def test_the_sources_section_states_its_numbers_from_crmlab(ns):
    """Part of the notebook before the exercises: the students and cherry-picking section
    shows the tested findings (no number typed into a markdown cell)."""
    before, _ = _cells()
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
