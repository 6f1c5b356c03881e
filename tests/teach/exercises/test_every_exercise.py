"""The checks every exercise of every notebook must pass, on the namespace its notebook builds
(its code cells run in-process with the small test parameters): the right answer passes
(also at the precision the question asks for), the percent/fraction slip is recognised and
not counted as a try, a wrong answer fails with the nudge, then the method, and no message
or hint holds the answer, the worked solution's code computes the answer, solutions show
only in the instructor edition, no option gives the answer away by its length, and the
notebook asks and checks every exercise without writing the expected value. A new exercise
is covered here without a test of its own; its notebook's test file keeps what only that
exercise claims."""

from __future__ import annotations

import ast
import re

import pytest
from teach.exercises.machinery import (
    CHOICE,
    NUMERIC,
    asked_decimals,
    expected_answer,
    notebook_cells,
    objects,
    reveals,
    texts,
    wrong_answers,
)

from crmlab import teach

EXERCISES = teach.all_exercises()
NOTEBOOKS = sorted({ex.notebook for ex in EXERCISES})
# notebooks that ask only for shares, so that every number they ask for gets the
# percent/fraction slip check below
SHARES_ONLY = ("01", "02", "03")


def _each(select=lambda ex: True):
    return [pytest.param(ex, id=ex.id) for ex in EXERCISES if select(ex)]


@pytest.fixture
def ns(request, namespaces):
    """The namespace of the notebook of the exercise (or notebook) under test."""
    params = request.node.callspec.params
    number = params["exercise"].notebook if "exercise" in params else params["number"]
    return namespaces(number)


@pytest.mark.parametrize("number", NOTEBOOKS)
def test_four_to_seven_exercises_mostly_do_one_why_and_each_number_s_precision_said(number):
    exercises = list(teach.notebook_exercises(number).values())
    kinds = [ex.kind for ex in exercises]
    assert 4 <= len(kinds) <= 7  # one per section, at most seven so a class can finish them
    assert sum(k in ("code", "predict", "choose") for k in kinds) >= len(kinds) / 2
    assert "why" in kinds and "numeric" not in kinds
    for ex in exercises:
        if ex.kind in NUMERIC:
            assert asked_decimals(ex) is not None, f"{ex.id}: say the precision asked for"


@pytest.mark.parametrize("number", SHARES_ONLY)
def test_every_number_asked_is_a_share(number):
    numeric = [ex for ex in teach.notebook_exercises(number).values() if ex.kind in NUMERIC]
    assert numeric and all(ex.unit in ("fraction", "share") for ex in numeric)


@pytest.mark.parametrize("exercise", _each(lambda ex: ex.options))
def test_the_length_of_the_options_does_not_give_the_answer_away(exercise):
    """A test-wise student picks the longest option and rules out a terse one: in every
    choose/why exercise the right option is not the longest (a distractor is at least as
    long) and no option is shorter than half the longest."""
    lengths = {k: len(o.text) for k, o in exercise.options.items()}
    right = lengths.pop(exercise.correct_option)
    assert right <= max(lengths.values()), f"right {right} > every distractor {lengths}"
    shortest, longest = min(*lengths.values(), right), max(*lengths.values(), right)
    assert 2 * shortest >= longest, f"options of {shortest} to {longest} characters"


def _right_letters(exercises) -> dict[str, str]:
    return {ex.id: ex.correct_option for ex in exercises if ex.kind in CHOICE}


def test_the_right_letter_is_spread_over_the_kit():
    """A student who learns that the answer is usually b or c can rule out a and d without
    reading them: across all choose/why exercises every letter that each of them offers is
    the right one at least twice, and none is right in more than 40% of them."""
    right = _right_letters(EXERCISES)
    offered = set.intersection(*(set(ex.options) for ex in EXERCISES if ex.id in right))
    counts = {letter: list(right.values()).count(letter) for letter in sorted(offered)}
    assert len(right) >= 2 * len(offered), f"too few choose/why exercises to spread: {right}"
    assert min(counts.values()) >= 2, f"right letters {counts}: {right}"
    most = max(list(right.values()).count(letter) for letter in set(right.values()))
    assert most <= 0.4 * len(right), f"right letters {counts}: {right}"


@pytest.mark.parametrize(
    "number",
    [n for n in NOTEBOOKS if len(_right_letters(teach.notebook_exercises(n).values())) >= 3],
)
def test_a_notebook_does_not_repeat_one_right_letter(number):
    """Within a notebook of three or more choose/why exercises no letter is right in more
    than half of them, so the letters are never all the same."""
    right = _right_letters(teach.notebook_exercises(number).values())
    most = max(list(right.values()).count(letter) for letter in set(right.values()))
    assert 2 * most <= len(right), f"notebook {number}: {right}"


@pytest.mark.parametrize("exercise", _each())
def test_right_answer_passes(exercise, ns, shown):
    ex, objs = exercise, objects(exercise, ns)
    expected = expected_answer(ex, ns)
    assert teach.check(ex.id, expected, **objs)
    assert texts(shown)[-1].startswith("**Correct.**")
    if ex.kind in NUMERIC:
        as_shown = round(float(expected), asked_decimals(ex))  # the precision asked for
        assert teach.check(ex.id, as_shown, **objs)
        assert teach.check(ex.id, str(as_shown), **objs)
    if ex.kind in CHOICE:
        assert teach.check(ex.id, f" ({expected.upper()}) ", **objs)


@pytest.mark.parametrize("exercise", _each())
def test_worked_solution_code_computes_the_answer(exercise, ns):
    ex = exercise
    expected = expected_answer(ex, ns)
    if ex.kind in CHOICE:
        assert expected == ex.correct_option
        return
    result = eval(ex.code, dict(ns))  # the line a student would write, in the notebook
    if ex.kind == "predict":
        before, after = result
        assert teach.direction(before, after, 5e-4 * max(1.0, abs(before))) == expected
    else:
        assert float(result) == pytest.approx(float(expected), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("exercise", _each())
def test_wrong_answers_fail_with_nudge_then_method_never_the_answer(exercise, ns, shown):
    ex, objs = exercise, objects(exercise, ns)
    expected = expected_answer(ex, ns)
    wrong = wrong_answers(ex, expected)
    assert not teach.check(ex.id, wrong[0], **objs)
    assert not teach.check(ex.id, wrong[0], **objs)  # the same answer again
    assert not teach.check(ex.id, wrong[1], **objs)
    first, again, second = texts(shown)
    assert first.startswith("**Not yet.**") and ex.hints[0] in first and ex.hints[1] not in first
    assert ex.hints[0] in again  # rerunning the same answer is not a new try
    assert ex.hints[1] in second and ex.hints[0] not in second
    for text in texts(shown):
        if ex.kind in CHOICE:
            right = ex.options[expected]
            assert right.text not in text and right.feedback not in text
            assert not re.search(rf"\b{expected}\b[.)]|\({expected}\)", text)
        elif ex.kind == "predict":
            assert f'"{expected}"' not in text and "%" not in text
        else:
            assert not reveals(ex, expected, text), text
    if ex.kind in CHOICE:
        assert ex.options[wrong[0]].feedback in first  # feedback on the option chosen


@pytest.mark.parametrize("exercise", _each(lambda ex: ex.kind in NUMERIC))
def test_question_hints_and_feedback_never_write_the_answer(exercise, ns):
    ex = exercise
    expected = expected_answer(ex, ns)
    for text in [*ex.hints, ex.question, *(m.message for m in ex.mistakes)]:
        assert not reveals(ex, expected, text), text


@pytest.mark.parametrize(
    "exercise",
    _each(lambda ex: ex.kind in NUMERIC and ex.unit in ("fraction", "share", "percent")),
)
def test_percent_fraction_slip_is_recognised_and_not_a_try(exercise, ns, shown):
    ex, objs = exercise, objects(exercise, ns)
    expected = float(expected_answer(ex, ns))
    if ex.unit == "percent":
        assert not teach.check(ex.id, expected / 100, **objs)
        assert "looks like a fraction" in texts(shown)[-1].lower()
        assert "percentage" in texts(shown)[-1]
        assert teach.check(ex.id, f"{expected:.1f}%", **objs)  # points with a % sign
        slips = texts(shown)[:-1]
    else:
        assert not teach.check(ex.id, expected * 100, **objs)
        assert not teach.check(ex.id, f"{expected * 100:.1f}%", **objs)
        slips = texts(shown)
        for text in slips:
            assert "looks like a percentage" in text.lower() and "fraction" in text
    for text in slips:
        assert text.startswith("**Almost.**")
        assert ex.hints[0] not in text  # a slip is not a wrong try
    assert teach.core._tried.get(ex.id) is None


@pytest.mark.parametrize("exercise", _each())
def test_solutions_only_in_the_instructor_edition(exercise, ns, shown, monkeypatch):
    ex, objs = exercise, objects(exercise, ns)
    teach.check(ex.id, None, **objs)
    assert len(shown) == 1 and "Not answered yet" in shown[0][0] and ex.answer_name in shown[0][0]
    monkeypatch.setenv(teach.SOLUTIONS_ENV, "1")
    teach.check(ex.id, None, **objs)
    solution, meta = shown[-1]
    assert meta == {"metadata": {teach.SOLUTION_KEY: ex.id}}
    assert "instructor edition" in solution and "**Answer:**" in solution
    expected = expected_answer(ex, ns)
    if ex.kind in NUMERIC:
        assert ex.fmt.format(expected) in solution


@pytest.mark.parametrize("number", NOTEBOOKS)
def test_the_notebook_asks_every_exercise_in_order(number):
    _, cells = notebook_cells(number)
    code = [c.source for c in cells if c.cell_type == "code"]
    asked = [m for s in code for m in re.findall(r'teach\.question\("(\d\d\.\d+)"\)', s)]
    assert asked == list(teach.notebook_exercises(number))


@pytest.mark.parametrize("exercise", _each())
def test_the_check_cell_passes_the_objects_and_never_the_answer(exercise, ns, shown):
    ex = exercise
    _, cells = notebook_cells(ex.notebook)
    code = [c.source for c in cells if c.cell_type == "code"]
    cell = next(s for s in code if re.search(rf'teach\.check\(\s*"{re.escape(ex.id)}"', s))
    assert "expected" not in cell and f"{ex.answer_name} = None" in cell
    call = ast.parse(cell).body[-1].value
    assert [k.arg for k in call.keywords] == list(ex.needs)
    assert all(isinstance(k.value, ast.Name) and k.value.id == k.arg for k in call.keywords)
    local = dict(ns)
    exec(compile(cell, ex.id, "exec"), local)  # unanswered: prints no number
    value = expected_answer(ex, ns)
    message = shown[-1][0]
    assert "Not answered yet" in message
    if ex.kind in NUMERIC:
        assert not reveals(ex, value, cell) and not reveals(ex, value, message)
    # answered right, the same cell says so
    answered = cell.replace(f"{ex.answer_name} = None", f"{ex.answer_name} = {value!r}")
    exec(compile(answered, ex.id, "exec"), local)
    assert shown[-1][0].startswith("**Correct.**")
