"""What only notebook 07's exercises claim, on the namespace the notebook builds (see
``machinery.py``; the checks every exercise passes are in ``test_every_exercise.py``): known
mistakes get their own feedback, the recall is checked by brute force, and the claims the
explanations make hold on the data."""

from __future__ import annotations

import numpy as np
import pytest
from teach.exercises.machinery import objects, texts

from crmlab import integration, recommend, teach
from crmlab.teach.exercises import n07_single_customer_view as n07

NOTEBOOK = "07"


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
    assert teach.get("07.3").expected_value(hits=hits) == pytest.approx(gap)
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
