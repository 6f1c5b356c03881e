"""The exercises of notebook 06 on the namespace the notebook itself builds (its code cells
run in-process with the small test parameters): the right answer passes, a wrong answer
fails, the hints come as nudge then method and never hold the answer, known mistakes get
their own feedback, the worked solution's code computes the answer, the claims the
explanations make hold on the data, and the notebook asks and checks every exercise
without writing the expected value."""

from __future__ import annotations

import ast
import math
import os
import re

import matplotlib
import nbformat
import pytest
import yaml

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from crmlab import defection, relationships, render, teach  # noqa: E402
from crmlab.teach import core  # noqa: E402
from crmlab.teach.exercises import n06_relationships_and_defection as n06  # noqa: E402

NAME = "relationships_and_defection"
PATH = render.list_notebooks()[NAME]
EXERCISES = list(teach.notebook_exercises("06").values())
IDS = [ex.id for ex in EXERCISES]
PRECISION = {"06.1": 2, "06.4": 0}  # decimals the question asks for


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
            exec(compile(cell.source, "<notebook 06>", "exec"), namespace)
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


def reveals(ex, value, text):
    """Whether ``text`` writes the answer ``value`` of ``ex`` in a form a student could copy."""
    v = float(value)
    if ex.unit == "count":
        return re.search(rf"(?<![\d.]){int(v):,}(?![\d])|(?<![\d.]){int(v)}(?![\d])", text)
    forms = {f"{v:.2f}", f"{v:.3f}"} - {"0.00", "1.00"}
    return any(f in text for f in forms)


def test_notebook_06_has_four_to_six_exercises_mostly_do_and_one_why():
    kinds = [ex.kind for ex in EXERCISES]
    assert 4 <= len(kinds) <= 6
    assert sum(k in ("code", "predict", "choose") for k in kinds) >= len(kinds) / 2
    assert "why" in kinds


@pytest.mark.parametrize("exercise_id", IDS)
def test_right_answer_passes(exercise_id, ns, shown):
    ex = teach.get(exercise_id)
    objs = objects(ex, ns)
    expected = ex.expected_value(**objs)
    assert teach.check(exercise_id, expected, **objs)
    assert texts(shown)[-1].startswith("**Correct.**")
    if ex.kind in ("numeric", "code"):
        as_shown = round(float(expected), PRECISION[exercise_id])  # the precision asked for
        assert teach.check(exercise_id, as_shown, **objs)
        assert teach.check(exercise_id, str(as_shown), **objs)
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
    else:
        assert float(result) == pytest.approx(float(expected), abs=1e-12)


def _wrong(ex, expected):
    if ex.kind in ("choose", "why"):
        return [k for k in ex.options if k != expected][:2]
    if ex.kind == "predict":
        return [d for d in teach.core.DIRECTIONS if d != expected]
    e = float(expected)
    if ex.unit == "count":
        return [e + 10, e + 25]
    return [e + 0.2, e + 0.35]


@pytest.mark.parametrize("exercise_id", IDS)
def test_wrong_answers_fail_with_nudge_then_method_never_the_answer(exercise_id, ns, shown):
    ex = teach.get(exercise_id)
    objs = objects(ex, ns)
    expected = ex.expected_value(**objs)
    wrong = _wrong(ex, expected)
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
            assert not reveals(ex, expected, text), text
    if ex.kind in ("choose", "why"):
        assert ex.options[wrong[0]].feedback in first  # feedback on the option chosen


def test_hints_and_feedback_never_write_the_numeric_answers(ns):
    for ex in EXERCISES:
        if ex.kind not in ("numeric", "code"):
            continue
        expected = ex.expected_value(**objects(ex, ns))
        for text in [*ex.hints, ex.question, *(m.message for m in ex.mistakes)]:
            assert not reveals(ex, expected, text), (ex.id, text)


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
    assert teach.check("06.6", "c", customers=customers, by_lines=by_lines, truth=truth)
    assert truth["cross_buying"] in texts(shown)[-1]
    assert f"{mean[1]:.2f}" in texts(shown)[-1]
    profile = n06.segment_profile(customers)
    assert teach.check("06.2", "b", customers=customers)
    top = profile["employees"].idxmax()
    assert f"{profile.loc[top, 'employees']:.1f}" in texts(shown)[-1]
    assert profile.loc[top, "retention"] == profile["retention"].max()


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
        cell = next(s for s in code if re.search(rf'teach\.check\(\s*"{ex.id}"', s))
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
            assert not reveals(ex, value, cell) and not reveals(ex, value, message)
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
