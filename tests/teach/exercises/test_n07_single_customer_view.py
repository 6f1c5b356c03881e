"""The exercises of notebook 07 on the namespace the notebook itself builds (its code cells
run in-process with the small test parameters): the right answer passes, a wrong answer
fails, the hints come as nudge then method and never hold the answer, known mistakes get
their own feedback, the worked solution's code computes the answer, the claims the
explanations make hold on the data, and the notebook asks and checks every exercise
without writing the expected value."""

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
import numpy as np  # noqa: E402

from crmlab import integration, recommend, render, teach  # noqa: E402
from crmlab.teach import core  # noqa: E402
from crmlab.teach.exercises import n07_single_customer_view as n07  # noqa: E402

NAME = "single_customer_view"
PATH = render.list_notebooks()[NAME]
EXERCISES = list(teach.notebook_exercises("07").values())
IDS = [ex.id for ex in EXERCISES]
PRECISION = {"07.1": 2, "07.3": 1}  # decimals the question asks for


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
            exec(compile(cell.source, "<notebook 07>", "exec"), namespace)
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
    if ex.unit == "percent":
        forms = {f"{v:.1f}", f"{v:.2f}", f"{v / 100:.2f}", f"{v / 100:.3f}", f"{v:.0f} point"}
    else:
        forms = {f"{v:.2f}", f"{v:.3f}", f"{v:.1%}", f"{v:.0%}", f"{v * 100:.1f}"}
    return any(f in text for f in forms)


def test_notebook_07_has_four_to_six_exercises_mostly_do_and_one_why():
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
    if ex.unit == "percent":
        return [e + 20, e + 35]
    return [e - 0.25, e - 0.4] if e > 0.5 else [e + 0.25, e + 0.4]


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


def test_percent_fraction_slips_are_recognised_and_not_counted_as_tries(ns, shown):
    e1 = teach.get("07.1").expected_value(**objects(teach.get("07.1"), ns))
    objs1 = objects(teach.get("07.1"), ns)
    assert not teach.check("07.1", e1 * 100, **objs1)
    assert not teach.check("07.1", f"{e1 * 100:.1f}%", **objs1)
    e3 = n07.gap_points(ns["hits"])
    assert not teach.check("07.3", e3 / 100, hits=ns["hits"])
    as_fraction, as_percent_sign, as_fraction_of_points = texts(shown)
    for text in (as_fraction, as_percent_sign):
        assert "looks like a percentage" in text.lower() and "fraction" in text
    assert "looks like a fraction" in as_fraction_of_points.lower()
    assert "percentage" in as_fraction_of_points
    for text in texts(shown):
        assert text.startswith("**Almost.**")
    assert teach.core._tried.get("07.1") is None and teach.core._tried.get("07.3") is None
    assert teach.check("07.3", f"{e3:.1f}%", hits=ns["hits"])  # points with a % sign


def test_common_mistakes_get_their_own_feedback(ns, shown):
    objs = objects(teach.get("07.1"), ns)
    steps = integration.evaluate_rules(
        ns["sources"], ns["crm"].truth, rules=n07.WITHOUT_EMAIL, columns=ns["COLUMNS"]
    )
    everything = integration.evaluate_rules(
        ns["sources"],
        ns["crm"].truth,
        rules=("customer_id", "email", "phone"),
        columns=ns["COLUMNS"],
    )
    teach.check("07.1", everything["recall"].iloc[-1], **objs)
    teach.check("07.1", steps["precision"].iloc[-1], **objs)
    teach.check("07.1", steps["recall"].iloc[0], **objs)
    hits = ns["hits"]
    rates = hits.pivot(index="n_history", columns="method", values="hit_rate")
    teach.check("07.3", 100 * (rates["lift"] - rates["popularity"]).iloc[-1], hits=hits)
    teach.check("07.3", 100 * (rates["cosine"] - rates["popularity"]).iloc[0], hits=hits)
    teach.check("07.3", 100 * (rates["cosine"] / rates["popularity"]).iloc[-1], hits=hits)
    all_rules, precision, first, lift, shortest, ratio = texts(shown)
    assert "all three rules" in all_rules
    assert "precision" in precision
    assert "customer number alone" in first
    assert "lift" in lift
    assert "shortest history" in shortest
    assert "ratio" in ratio


def _pair_counts(predicted, truth):
    """Pairs merged, pairs that belong together and pairs both, by brute force."""
    p, t = np.asarray(predicted), np.asarray(truth)
    upper = np.triu(np.ones((len(p), len(p)), dtype=bool), k=1)
    same_p, same_t = (p[:, None] == p[None, :]) & upper, (t[:, None] == t[None, :]) & upper
    return int(same_p.sum()), int(same_t.sum()), int((same_p & same_t).sum())


def test_recall_without_the_email_rule_by_brute_force(ns):
    view = integration.single_customer_view(
        ns["sources"], rules=n07.WITHOUT_EMAIL, columns=ns["COLUMNS"]
    )
    links = integration.record_links(view, ns["crm"].truth)
    merged, together, both = _pair_counts(links["person_id"], links["true_person_id"])
    recall = n07.recall_without_email(ns["sources"], ns["crm"], ns["COLUMNS"])
    assert recall == pytest.approx(both / together)
    full = ns["evaluation"].iloc[-1]
    assert recall < full["recall"]  # dropping a rule only removes links


def test_reversed_rules_give_the_same_persons(ns, shown):
    def persons(rules):
        view = integration.single_customer_view(ns["sources"], rules=rules, columns=ns["COLUMNS"])
        links = integration.record_links(view)
        return set(
            links.groupby("person_id")["record_id"].apply(
                lambda r: frozenset(zip(links.loc[r.index, "source"], r, strict=True))
            )
        )

    rules = tuple(ns["rules"])
    assert persons(rules) == persons(tuple(reversed(rules)))
    before, after = n07.reversed_before_after(ns["sources"], ns["crm"], ns["COLUMNS"], rules)
    assert before == after == ns["evaluation"]["precision"].iloc[-1]
    objs = objects(teach.get("07.2"), ns)
    assert teach.check("07.2", "Same", **objs) and teach.check("07.2", "unchanged", **objs)
    assert not teach.check("07.2", "down", **objs)


def test_switching_cost_and_less_loyal_tastes(ns, shown):
    hits = ns["hits"]
    table = recommend.compare_hit_rates(hits)
    last = table[table["n_history"] == table["n_history"].max()].set_index("method")
    gap = 100 * (last.loc["cosine", "hit_rate"] - last.loc["popularity", "hit_rate"])
    assert n07.gap_points(hits) == pytest.approx(gap)
    assert gap > 0  # the firm that knows the customer recommends better
    objs = objects(teach.get("07.4"), ns)
    before, after = n07.loyalty_before_after(**objs)
    assert before == pytest.approx(gap) and after < before
    assert teach.check("07.4", "lower", **objs)
    assert f"{after:.1f} points" in texts(shown)[-1]


def test_overlap_explanation_names_a_pair_that_overlaps(ns, shown):
    hits = ns["hits"]
    pairs = n07.overlapping(hits)
    assert not pairs.empty  # these parameters show the situation the question describes
    assert teach.check("07.5", "c", hits=hits)
    row = pairs.iloc[0]
    assert f"{row['lower']:.1%} to {row['upper']:.1%}" in texts(shown)[-1]
    apart = hits.assign(lower=hits["hit_rate"] - 1e-6, upper=hits["hit_rate"] + 1e-6)
    assert n07.overlapping(apart).empty
    assert teach.check("07.5", "c", hits=apart)
    assert "no method's interval overlaps" in texts(shown)[-1]


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
