"""The exercise machinery on hand-made exercises: tolerance, percent/fraction slips, choose
and predict answers, graded hints, mistakes, required objects, the registry, the instructor
edition; and the older check(answer, expected=...) form the notebooks still use."""

from __future__ import annotations

import pytest

from crmlab import teach
from crmlab.errors import DataError
from crmlab.teach import core


def make(**kw) -> teach.Exercise:
    base = dict(
        id="99.1",
        kind="code",
        question="What share?",
        needs=("data",),
        hints=("Look at the column.", "Average the column."),
        solution="Average it.",
        expected=lambda data: sum(data) / len(data),
        tolerance=0.01,
        unit="fraction",
        fmt="{:.2f}",
        code="sum(data) / len(data)",
    )
    base.update(kw)
    return teach.Exercise(**base)


CHOOSE = dict(
    kind="choose",
    expected=None,
    code="",
    options={
        "a": teach.Option("First.", "A is about something else."),
        "b": teach.Option("Second.", "B holds because of the identity.", correct=True),
        "c": teach.Option("Third.", "C confuses where with how high."),
    },
)


@pytest.fixture
def registry(monkeypatch):
    """Exercises looked up by id from a dict instead of crmlab.teach.exercises."""
    found: dict[str, teach.Exercise] = {}
    monkeypatch.setattr(core, "_registry", lambda i: found[i])
    return found


@pytest.fixture
def shown(monkeypatch):
    out: list = []
    monkeypatch.setattr(core, "display", lambda obj, **kw: out.append(obj.data))
    monkeypatch.delenv(teach.SOLUTIONS_ENV, raising=False)
    teach.reset()
    yield out
    teach.reset()


DATA = [0.2, 0.3, 0.4]  # mean 0.3


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        (0.3, "correct"),
        (0.309, "correct"),
        (0.311, "wrong"),
        ("0.3", "correct"),
        (30, "slip"),
        (30.4, "slip"),
        ("30%", "slip"),
        ("0.3%", "wrong"),
        (0.5, "wrong"),
        (True, "invalid"),
        ("about a third", "invalid"),
        (float("nan"), "invalid"),
        (None, "missing"),
    ],
)
def test_numeric_answers(answer, status):
    assert teach.assess(make(), answer, data=DATA).status == status


def test_tolerance_is_absolute():
    big = make(expected=lambda data: 1000.0, unit="dollars", tolerance=0.5)
    assert teach.assess(big, 1000.4, data=DATA).status == "correct"
    assert teach.assess(big, 1001, data=DATA).status == "wrong"  # 0.1% off, beyond 0.5
    small = make(expected=lambda data: 0.0, tolerance=0.005)
    assert teach.assess(small, 0.004, data=DATA).status == "correct"
    assert teach.assess(small, 0.002 * 100, data=DATA).status == "wrong"  # 0.2 is no slip


def test_fraction_given_where_a_percentage_is_asked():
    pct = make(expected=lambda data: 30.0, unit="percent", tolerance=0.5)
    verdict = teach.assess(pct, 0.3, data=DATA)
    assert verdict.status == "slip" and "looks like a fraction" in verdict.message.lower()
    assert teach.assess(pct, "30%", data=DATA).status == "correct"
    assert teach.assess(pct, 30.4, data=DATA).status == "correct"


def test_share_above_one_and_its_slip():
    share = make(expected=lambda data: 1.25, unit="share")
    assert teach.assess(share, 1.25, data=DATA).status == "correct"
    assert teach.assess(share, 125, data=DATA).status == "slip"
    # a fraction outside 0-1 is told so; a share is not
    assert "between 0 and 1" in teach.assess(make(), 3.0, data=DATA).message
    assert teach.assess(share, 3.0, data=DATA).message == ""


def test_counts_must_be_whole():
    count = make(expected=lambda data: 12, unit="count", tolerance=0)
    assert teach.assess(count, 12, data=DATA).status == "correct"
    assert teach.assess(count, 12.5, data=DATA).status == "invalid"
    assert teach.assess(count, 13, data=DATA).status == "wrong"


def test_mistakes_are_recognised():
    ex = make(mistakes=(teach.Mistake(lambda data: max(data), "That is the largest value."),))
    assert teach.assess(ex, 0.4, data=DATA).message == "That is the largest value."
    assert teach.assess(ex, 0.6, data=DATA).message == ""


def test_choose_answers():
    ex = make(**CHOOSE)
    assert ex.expected_value(data=DATA) == "b"
    for answer in ("b", " B ", "(b)", "b)", "B."):
        assert teach.assess(ex, answer, data=DATA).status == "correct"
    wrong = teach.assess(ex, "c", data=DATA)
    assert wrong.status == "wrong" and wrong.message == "C confuses where with how high."
    assert teach.assess(ex, "e", data=DATA).status == "invalid"
    assert teach.assess(ex, 2, data=DATA).status == "invalid"


def test_predict_answers():
    ex = make(kind="predict", expected=lambda data: teach.direction(0.5, 0.7), unit="number")
    assert teach.direction(1, 1.0004, same_within=1e-3) == "same"
    assert teach.direction(2, 1) == "down"
    for answer in ("up", " UP ", "increases", "goes up", "higher"):
        assert teach.assess(ex, answer, data=DATA).status == "correct"
    assert teach.assess(ex, "down", data=DATA).status == "wrong"
    assert teach.assess(ex, "same", data=DATA).status == "wrong"
    assert teach.assess(ex, "sideways", data=DATA).status == "invalid"
    assert teach.assess(ex, 1, data=DATA).status == "invalid"


def test_hints_are_graded_by_different_wrong_answers(registry, shown):
    registry["99.1"] = make()
    assert not teach.check("99.1", 0.5, data=DATA)
    assert not teach.check("99.1", 0.5, data=DATA)
    assert not teach.check("99.1", 30, data=DATA)  # a slip is no wrong try
    assert not teach.check("99.1", "a third", data=DATA)  # nor is text
    assert not teach.check("99.1", 0.6, data=DATA)
    assert not teach.check("99.1", 0.7, data=DATA)
    nudge, again, slip, text, method, method_again = shown
    assert "*Hint:* Look at the column." in nudge and "Average" not in nudge
    assert again == nudge
    assert "Looks like a percentage" in slip and "Hint" not in slip
    assert "Not an answer yet" in text and "fraction between 0 and 1" in text
    assert "*Method:* Average the column." in method and "Look at" not in method
    assert method_again == method
    teach.reset("99.1")
    teach.check("99.1", 0.6, data=DATA)
    assert "*Hint:*" in shown[-1]
    assert teach.check("99.1", 0.3, data=DATA) and shown[-1] == "**Correct.**"
    assert not any("0.3" in s for s in shown[:-1])


def test_choose_feedback_and_explanation(registry, shown):
    registry["99.1"] = make(**CHOOSE, explain=lambda data: f"Here {len(data)} values.")
    teach.check("99.1", "a", data=DATA)
    teach.check("99.1", "b", data=DATA)
    assert "A is about something else." in shown[0] and "*Hint:*" in shown[0]
    assert "identity" not in shown[0] and "(b)" not in shown[0]
    assert shown[1].startswith("**Correct.** B holds") and "Here 3 values." in shown[1]


def test_objects_must_be_the_exercise_needs(registry, shown):
    registry["99.1"] = make()
    with pytest.raises(
        DataError, match=r'needs data; call teach.check\("99.1", answer_1, data=data'
    ):
        teach.check("99.1", 0.3)
    with pytest.raises(DataError, match="does not use other"):
        teach.check("99.1", 0.3, data=DATA, other=1)
    with pytest.raises(TypeError):
        teach.check("99.1")
    assert shown == []


def test_question_shows_kind_options_and_how_to_answer(registry):
    registry["99.1"] = make(**CHOOSE)
    text = teach.question_markdown("99.1")
    assert text.startswith("**Exercise 99.1** (choose). What share?")
    assert "- **a.** First." in text and "- **c.** Third." in text
    assert "`answer_1`" in text and '"a", "b", "c"' in text
    assert "identity" not in text and "Average it" not in text  # no feedback, no solution


def test_solution_only_with_the_environment_variable(registry, shown, monkeypatch):
    registry["99.1"] = make()
    teach.check("99.1", None, data=DATA)
    assert shown == ["*Not answered yet: set `answer_1` and run the cell again.*"]
    assert not teach.solutions_shown()
    monkeypatch.setenv(teach.SOLUTIONS_ENV, "0")
    teach.check("99.1", None, data=DATA)
    assert len(shown) == 2
    monkeypatch.setenv(teach.SOLUTIONS_ENV, "1")
    assert teach.solutions_shown()
    teach.check("99.1", None, data=DATA)
    assert "Solution 99.1 (instructor edition)" in shown[-1]
    assert "sum(data) / len(data)" in shown[-1] and "**Answer:** 0.30" in shown[-1]


def test_solutions_environment_and_detection(monkeypatch, registry):
    assert teach.solutions_environment(True) == {teach.SOLUTIONS_ENV: "1"}
    assert teach.solutions_environment(False) == {teach.SOLUTIONS_ENV: "0"}
    registry["99.1"] = make()
    outputs = []
    monkeypatch.setattr(core, "display", lambda obj, **kw: outputs.append(kw))
    monkeypatch.setenv(teach.SOLUTIONS_ENV, "1")
    teach.check("99.1", None, data=DATA)
    cell = {
        "cell_type": "code",
        "outputs": [{"metadata": kw.get("metadata", {})} for kw in outputs],
    }
    assert teach.contains_solutions({"cells": [cell]})
    assert not teach.contains_solutions({"cells": [{**cell, "outputs": cell["outputs"][:1]}]})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (dict(id="3.1"), "id must look like"),
        (dict(kind="essay"), "kind 'essay'"),
        (dict(hints=("only one",)), "two hints"),
        (dict(hints=("a", " ")), "two hints"),
        (dict(solution=""), "worked solution"),
        (dict(expected=None), "needs expected"),
        (dict(code=""), "code that computes"),
        (dict(unit="furlongs"), "unit 'furlongs'"),
        (dict(tolerance=-1), "tolerance"),
        (dict(options={"a": teach.Option("x", "y")}), "only choose/why"),
        (dict(CHOOSE, options={"a": teach.Option("x", "y", True)}), "at least 3 options"),
        (
            dict(CHOOSE, options={k: teach.Option("x", "y", True) for k in "abc"}),
            "exactly one correct",
        ),
        (
            dict(
                CHOOSE,
                options={
                    "a1": teach.Option("x", "y", True),
                    "b": teach.Option("x", "y"),
                    "c": teach.Option("x", "y"),
                },
            ),
            "one lower-case letter",
        ),
        (
            dict(
                CHOOSE,
                options={
                    "a": teach.Option("x", "y", True),
                    "b": teach.Option("x", ""),
                    "c": teach.Option("x", "y"),
                },
            ),
            "needs feedback",
        ),
    ],
)
def test_bad_definitions_are_refused(change, message):
    with pytest.raises(DataError, match=message):
        make(**change)


def test_registry_finds_exercises_by_id():
    all_ids = [ex.id for ex in teach.all_exercises()]
    assert all_ids and len(all_ids) == len(set(all_ids))
    assert teach.get("03.1").id == "03.1" and teach.get("03.1").answer_name == "answer_1"
    assert list(teach.notebook_exercises("03"))[:2] == ["03.1", "03.2"]
    assert teach.notebook_exercises("98") == {}
    with pytest.raises(DataError, match=r"no exercise '03.99'; defined: (\d\d\.\d+, )*03\.1, "):
        teach.get("03.99")
    for ex in teach.all_exercises():  # hints and option feedback never name the right letter
        if ex.options:
            right = ex.correct_option
            for text in (*ex.hints, *(o.feedback for k, o in ex.options.items() if k != right)):
                assert f"({right})" not in text and f"option {right}" not in text.lower()


# --------------------------------------------------------- the older check(answer, expected=)


@pytest.mark.parametrize(
    ("answer", "expected", "ok"),
    [
        (0.301, 0.3, True),
        (0.31, 0.3, False),
        (0.0, 0.0, True),
        (0.02, 0.0, False),
        ("  Champions ", "champions", True),
        ("x", 3.0, False),
        (["b", "a"], ["a", "b"], True),
        (["a"], ["a", "b"], False),
        (True, True, True),
        (1, True, True),
        ("a", ["a"], False),
        (float("nan"), 1.0, False),
    ],
)
def test_is_correct(answer, expected, ok):
    assert teach.is_correct(answer, expected, tolerance=0.01) is ok


def test_legacy_check_never_prints_the_expected_value(shown):
    assert not teach.check(None, expected=123.456, name="answer_1")
    assert teach.check(7, expected=123.456, hint="Average the column.") == False  # noqa: E712
    assert teach.check(123.4, expected=123.456)
    assert "answer_1" in shown[0] and "Not answered" in shown[0]
    assert "Average the column." in shown[1]
    assert shown[2] == "**Correct.**"
    assert not any("123.45" in t for t in shown)
    with pytest.raises(TypeError):
        teach.check("03.1", 0.3, expected=0.3)


def test_check_result_prints_nothing_as_a_cells_last_value(shown):
    from IPython.core.formatters import DisplayFormatter

    result = teach.check(1.0, expected=1.0)
    assert bool(result) and result == True  # noqa: E712
    assert hasattr(result, "_ipython_display_") and result._ipython_display_() is None
    assert DisplayFormatter().format(result) == ({}, {})
