"""The exercises of notebook 01 on the namespace the notebook itself builds (its code cells
run in-process on cdnow_sample with the small test parameters): the right answer passes,
the percent/fraction slip is recognised, a wrong answer fails, the hints come as nudge then
method and never hold the answer, the worked solution's code computes the answer, and the
notebook asks and checks every exercise without writing the expected value."""

from __future__ import annotations

import ast
import os
import re

import matplotlib
import nbformat
import pandas as pd
import pytest
import yaml

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from crmlab import render, segments, teach  # noqa: E402
from crmlab.stats import wilson_interval  # noqa: E402
from crmlab.teach import core  # noqa: E402
from crmlab.teach.exercises import n01_customer_pyramid as n01  # noqa: E402

NAME = "customer_pyramid"
PATH = render.list_notebooks()[NAME]
EXERCISES = list(teach.notebook_exercises("01").values())
IDS = [ex.id for ex in EXERCISES]


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
            exec(compile(cell.source, "<notebook 01>", "exec"), namespace)
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


def test_notebook_01_has_four_to_six_exercises_mostly_do_and_one_why():
    kinds = [ex.kind for ex in EXERCISES]
    assert 4 <= len(kinds) <= 6
    assert sum(k in ("code", "predict", "choose") for k in kinds) >= len(kinds) / 2
    assert "why" in kinds and "numeric" not in kinds


@pytest.mark.parametrize("exercise_id", [ex.id for ex in EXERCISES if ex.options])
def test_the_right_option_is_not_the_longest(exercise_id):
    """A test-wise student must not find the answer by the length of the options."""
    ex = teach.get(exercise_id)
    right = len(ex.options[ex.correct_option].text)
    assert right <= max(len(o.text) for o in ex.options.values() if not o.correct)


@pytest.mark.parametrize("exercise_id", IDS)
def test_right_answer_passes(exercise_id, ns, shown):
    ex = teach.get(exercise_id)
    objs = objects(ex, ns)
    expected = ex.expected_value(**objs)
    assert teach.check(exercise_id, expected, **objs)
    assert texts(shown)[-1].startswith("**Correct.**")
    if ex.kind in ("numeric", "code"):
        shown_precision = round(float(expected), 2)  # two decimals, as the question asks
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


NUMERIC = [ex.id for ex in EXERCISES if ex.kind in ("numeric", "code")]


@pytest.mark.parametrize("exercise_id", NUMERIC)
def test_percent_for_fraction_slip_is_recognised(exercise_id, ns, shown):
    ex = teach.get(exercise_id)
    objs = objects(ex, ns)
    expected = float(ex.expected_value(**objs))
    assert ex.unit in ("fraction", "share")
    assert not teach.check(exercise_id, expected * 100, **objs)
    assert not teach.check(exercise_id, f"{expected * 100:.1f}%", **objs)
    for text in texts(shown):
        assert "looks like a percentage" in text.lower() and "fraction" in text
        assert ex.hints[0] not in text  # a slip is not a wrong try
    assert teach.core._tried.get(exercise_id) is None


def test_common_mistakes_of_01_1_get_their_own_feedback(ns, shown):
    pyramids, first, last = ns["pyramids"], ns["first"], ns["last"]
    upper = ["Top", "Big"]
    answers = {
        "first period": first.table.loc[upper, "revenue_share"].sum(),
        "share of profit": last.table.loc[upper, "profit_share"].sum(),
        "Top tier alone": last.table.loc["Top", "revenue_share"],
        "share of active customers": 0.05,
    }
    for said, answer in answers.items():
        # the mistakes must be apart from the answer, or they would be marked right
        assert abs(answer - n01.last_upper_revenue_share(pyramids)) > 0.01
        assert not teach.check("01.1", float(answer), pyramids=pyramids)
        assert said in texts(shown)[-1]


def test_last_upper_share_matches_a_direct_count(ns):
    last = ns["last"]
    active = last.customers[last.customers["tier"].isin(last.labels)]
    top = active["revenue"].rank(method="min", ascending=False) - 1 < 0.05 * len(active)
    assert n01.last_upper_revenue_share(ns["pyramids"]) == pytest.approx(
        active.loc[top, "revenue"].sum() / active["revenue"].sum()
    )


def test_wider_period_claim_holds_on_the_data_by_a_direct_count(ns, shown):
    tx, end = ns["transactions"], pd.Timestamp(ns["first_period_end"])
    before, after = n01.stopped_before_after(tx, end)
    day = tx["date"].dt.normalize()
    cohort = set(tx.loc[day <= end, "customer_id"])  # everyone active in the first period
    assert set(tx["customer_id"]) == cohort  # a single cohort: nobody new later
    for share, months in ((before, 3), (after, 6)):
        stop = end + pd.offsets.MonthEnd(months)
        again = set(tx.loc[(day > end) & (day <= stop), "customer_id"])
        assert share == pytest.approx(1 - len(again & cohort) / len(cohort))
    assert after < before  # the claim the exercise teaches
    objs = {"transactions": tx, "first_period_end": ns["first_period_end"]}
    assert teach.check("01.2", "Down", **objs)
    assert teach.check("01.2", "decreases", **objs)
    assert f"{before:.1%}" in texts(shown)[0] and f"{after:.1%}" in texts(shown)[0]
    assert not teach.check("01.2", "a lot", **objs)
    assert "Not an answer yet" in texts(shown)[-1]


def test_cohort_explanation_holds_on_the_data(ns):
    n = n01.cohort_numbers(ns["pyramids"])
    assert (
        n["new"] == 0
        and n["active"][0] == n["customers"] == ns["transactions"]["customer_id"].nunique()
    )
    assert max(n["active"][1:]) < n["active"][0]
    assert n["inactive_last"] + n["active"][-1] == n["customers"]  # nobody is removed


def test_small_row_numbers_and_their_interval(ns, shown):
    m, k = ns["sim_migration"], ns["min_customers"]
    row = n01.top_row(m, k)
    counts = m.counts.loc["Top"]
    assert row["n"] == counts.sum() < k  # the exercise's premise: the Top row is flagged
    assert row["stopped"] == counts["Inactive"]
    low, high = wilson_interval(row["stopped"], row["n"])
    assert (row["low"], row["high"]) == pytest.approx((float(low), float(high)))
    assert row["high"] - row["low"] > 0.25  # wide: the reason the right option gives
    assert teach.check("01.4", "c", sim_migration=m, min_customers=k)
    message = texts(shown)[-1]
    assert f"{row['low']:.1%}" in message and f"{row['high']:.1%}" in message
    assert "simulated" in message


def test_cherry_picking_claim_holds_and_vanishes_without_fixed_costs(ns):
    first, costs = ns["first"], ns["costs"]
    p = n01.margin_profile(first, costs)
    assert p["profit_share"] > p["revenue_share"]
    assert p["kept"]["Top"] > p["kept"]["Small"]
    free = segments.customer_pyramid(
        ns["transactions"],
        ns["ends"][0],
        ns["period_length"],
        costs=segments.CostModel(costs.margin, 0.0, 0.0),
    )
    q = n01.margin_profile(free, segments.CostModel(costs.margin, 0.0, 0.0))
    assert q["profit_share"] == pytest.approx(q["revenue_share"])  # no fixed costs, no gap


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
