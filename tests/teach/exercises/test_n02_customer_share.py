"""The exercises of notebook 02 on the namespace the notebook itself builds (its code cells
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
import pytest
import yaml

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from crmlab import render, share, teach  # noqa: E402
from crmlab.teach import core  # noqa: E402
from crmlab.teach.exercises import n02_customer_share as n02  # noqa: E402

NAME = "customer_share"
PATH = render.list_notebooks()[NAME]
EXERCISES = list(teach.notebook_exercises("02").values())
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
            exec(compile(cell.source, "<notebook 02>", "exec"), namespace)
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


def test_notebook_02_has_four_to_six_exercises_mostly_do_and_one_why():
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


def test_common_mistakes_of_02_1_get_their_own_feedback(ns, shown):
    pc, focus = ns["pc"], ns["focus"]
    row = pc.loc[focus]
    answers = {
        "market share today": row["market_share"],
        "not ten points of market share": row["market_share"] + 0.10,
        "10% of itself": row["market_share"] * 1.10,
        "new penetration share": row["penetration_share"] + 0.10,
    }
    for said, answer in answers.items():
        assert abs(answer - n02.lifted_share(pc, focus)) > 0.01  # apart from the answer
        assert not teach.check("02.1", float(answer), pc=pc, focus=focus)
        assert said in texts(shown)[-1]


def test_lifted_share_is_the_brand_volume_with_more_buyers_of_the_same_kind(ns):
    """By hand: (buyers + 0.10 N) x brand purchases per buyer / all purchases."""
    purchases, focus = ns["purchases"], ns["focus"]
    households = purchases["household_id"].nunique()
    mine = purchases[purchases["brand"] == focus]
    buyers = mine["household_id"].nunique()
    per_buyer = len(mine) / buyers
    expected = (buyers + 0.10 * households) * per_buyer / len(purchases)
    assert n02.lifted_share(ns["pc"], focus) == pytest.approx(expected)


def test_rank_gain_against_the_formula_and_its_mistakes(shown):
    gain = 2 / (3 * 4)  # 2 / (N (N + 1)) with N = 3
    assert n02.rank_gain() == pytest.approx(gain)
    assert (1 - 1 / 4) * 2 / 3 - (1 - 2 / 4) * 2 / 3 == pytest.approx(gain)
    assert teach.check("02.2", 1 / 6)
    assert teach.check("02.2", "0.17")
    assert not teach.check("02.2", "16.7%")  # the slip
    for answer, said in ((0.5, "share at rank 1"), (1 / 3, "share at rank 2"), (0.25, "2 / N")):
        assert not teach.check("02.2", answer)
        assert said in texts(shown)[-1]
    assert "Looks like a percentage" in texts(shown)[2]


def test_double_jeopardy_premise_and_claim_hold_on_the_data(ns, shown):
    j = n02.jeopardy_rows(ns["bench"])
    big, small = j[j["big"]], j[j["small"]]
    # the premise of the question, and the Dirichlet's double jeopardy
    assert small["purchase_frequency_observed"] < big["purchase_frequency_observed"]
    assert small["purchase_frequency_expected"] < big["purchase_frequency_expected"]
    assert small["penetration_expected"] < big["penetration_expected"]
    assert teach.check("02.3", "b", bench=ns["bench"])
    message = texts(shown)[-1]
    assert f"{small['purchase_frequency_expected']:.2f}" in message
    assert f"{big['purchase_frequency_expected']:.2f}" in message


def test_misfit_case_is_a_misfit_above_its_benchmark_with_its_own_s(ns, shown):
    case = n02.misfit_case(ns["misfits"], ns["fit"])
    assert case["misfit"] and case["scr_observed"] > case["scr_expected"]
    assert case["brand"] in case["misfits"]
    assert abs(case["s_brand"] - case["s"]) > 0.5  # the reason of the right option
    # option c's feedback: a misfit's Dirichlet penetration lies outside its interval
    m = ns["misfits"].loc[case["brand"]]
    assert not m["penetration_low"] <= m["penetration_expected"] <= m["penetration_high"]
    assert teach.check("02.4", "a", misfits=ns["misfits"], fit=ns["fit"])
    assert f"S = {case['s_brand']:.2f}" in texts(shown)[-1]


def test_built_in_premise_holds_and_is_said(ns, shown):
    r = n02.leader_row(ns["mvc"])
    assert r["leader"] == "Firm A" and r["best"] < r["market_share"]
    assert "Firm A" in ns["wallet_sim"].params["design"]  # built into the simulation
    market = share.market_vs_customer_share(ns["wallet"], best_share=ns["best_share"])
    assert market.loc["Firm A", "share_of_best_wallets"] == pytest.approx(r["best"])
    assert teach.check("02.5", "d", mvc=ns["mvc"])
    assert "simulation" in texts(shown)[-1]


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
