"""Notebook 07 rendered on its small parameters: every number of its executive summary is
recomputed from the exported tables, independently of crmlab, and shown as printed."""

from __future__ import annotations

import json

import client_checks
import numpy as np
import pandas as pd
import pytest
import yaml
from statsmodels.stats.proportion import proportion_confint

from crmlab import render

NAME = "single_customer_view"
TABLES = ("record_links", "single_customer_view", "recommendation_hit_rates")


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    path = render.list_notebooks()[NAME]
    small = yaml.safe_load((render.NOTEBOOKS_DIR / "test_parameters.yaml").read_text())[NAME]
    out = render.render_report(path, small, tmp_path_factory.mktemp("report"))
    params = {k: p.default for k, p in render.notebook_parameters(path).items()} | small
    findings = json.loads((out.folder / "executive_summary.json").read_text(encoding="utf-8"))
    tables = {name: pd.read_csv(out.folder / f"{name}.csv") for name in TABLES}
    tables["data_quality_report"] = pd.read_csv(out.folder / "data_quality_report.csv", index_col=0)
    tables["client"] = client_checks.load(out.folder)
    return findings, tables, params


def find(findings, words):
    hits = [f for f in findings if words in f["text"]]
    assert len(hits) == 1, f"{words!r} in {len(hits)} findings"
    return hits[0]


def printed(finding, key, fmt):
    assert format(finding["numbers"][key], fmt) in finding["text"], (key, finding["text"])


def test_every_sentence_says_the_data_are_simulated(report):
    findings, _, _ = report
    assert all(f["simulated"] and "simulated" in f["text"] for f in findings)


def test_records_joined_into_persons(report):
    findings, t, params = report
    links, q = t["record_links"], t["data_quality_report"]
    f = find(findings, "were joined into")
    n = f["numbers"]
    assert n["records"] == len(links) and n["persons"] == links["person_id"].nunique()
    assert n["sources"] == links["source"].nunique() and n["rules"] == len(params["rules"])
    assert n["unmatched"] == (links["linked_by"] == "unmatched").sum()
    # records without a usable key add up across the systems
    assert n["no_key"] == q.loc["all sources", "no_usable_key"]
    assert n["no_key"] == q.drop(index="all sources")["no_usable_key"].sum()
    for key in ("records", "persons", "unmatched", "no_key"):
        printed(f, key, ",")


def test_persons_known_to_several_systems_and_conflicts(report):
    findings, t, _ = report
    links, people = t["record_links"], t["single_customer_view"]
    f = find(findings, "known to more than one system")
    systems = links.groupby("person_id")["source"].nunique()
    assert f["numbers"]["several"] == (systems > 1).sum()
    assert f["numbers"]["share"] == pytest.approx((systems > 1).mean())
    summed = links.groupby("source")["person_id"].nunique().sum()
    assert f["numbers"]["summed"] == summed
    # ... which is what the quality table's per-system columns add up to, not its total
    q = t["data_quality_report"]
    assert q.drop(index="all sources")["persons"].sum() == summed
    assert q.loc["all sources", "persons"] == f["numbers"]["persons"] < summed
    conflicts = (people[["n_customer_ids", "n_emails", "n_phones"]] > 1).any(axis=1).sum()
    assert f["numbers"]["conflicts"] == conflicts
    for key in ("several", "summed", "persons", "conflicts"):
        printed(f, key, ",")
    printed(f, "share", ".1%")


def test_precision_recall_by_brute_force_and_the_missing_people(report):
    findings, t, params = report
    links = t["record_links"]
    p = links["person_id"].to_numpy()
    truth = links["true_person_id"].to_numpy()
    same_p = p[:, None] == p[None, :]
    same_t = truth[:, None] == truth[None, :]
    upper = np.triu(np.ones_like(same_p), k=1)
    merged, belong = (same_p & upper).sum(), (same_t & upper).sum()
    correct = (same_p & same_t & upper).sum()
    f = find(findings, "record pairs merged")
    assert f["numbers"]["precision"] == pytest.approx(correct / merged)
    assert f["numbers"]["recall"] == pytest.approx(correct / belong)
    exact = sum(
        set(np.flatnonzero(truth == person)) == set(np.flatnonzero(p == p[truth == person][0]))
        for person in np.unique(truth)
    )
    assert f["numbers"]["exact"] == exact
    assert f["numbers"]["true"] == len(np.unique(truth))
    assert f["numbers"]["people"] == params["n_customers"]
    assert f["numbers"]["absent"] == params["n_customers"] - len(np.unique(truth)) > 0
    printed(f, "precision", ".1%")
    printed(f, "recall", ".1%")
    assert f"builds {params['n_customers']:,} people, but {f['numbers']['absent']:,}" in f["text"]


def intervals(t):
    h = t["recommendation_hit_rates"].copy()
    h["rate"] = h["hits"] / h["customers"]
    h["lo"], h["hi"] = proportion_confint(h["hits"], h["customers"], method="wilson")
    return h


def test_switching_sentence(report):
    findings, t, params = report
    h = intervals(t)
    f = find(findings, "best-sellers a competitor")
    n = f["numbers"]
    lengths = sorted(params["history_lengths"])
    for key, length in (("short", lengths[0]), ("long", lengths[-1])):
        rows = h[h["n_history"] == length].sort_values("rate", ascending=False)
        best = rows.iloc[0]
        assert best["method"] != "popularity"
        assert n[key] == pytest.approx(best["rate"])
        assert (n[f"{key}_lo"], n[f"{key}_hi"]) == pytest.approx((best["lo"], best["hi"]))
        base = rows.loc[rows["method"] == "popularity", "rate"].iloc[0]
        assert n[f"base_{key}"] == pytest.approx(base)
        printed(f, key, ".1%")
        printed(f, f"base_{key}", ".1%")


def test_ties_are_named_where_the_intervals_overlap(report):
    findings, t, _ = report
    h = intervals(t)
    tied = []
    for length, rows in h.groupby("n_history"):
        rows = rows.sort_values("rate", ascending=False)
        best = rows.iloc[0]
        overlap = rows.iloc[1:][
            (rows["lo"].iloc[1:] <= best["hi"]) & (rows["hi"].iloc[1:] >= best["lo"])
        ]
        if len(overlap):
            tied.append((length, [best["method"], *overlap["method"]]))
    texts = " ".join(f["text"] for f in findings)
    if tied:
        for length, methods in tied:
            assert f"{' and '.join(methods)} with {length} purchases known" in texts
        assert "do not show which of them is better" in texts
    else:
        assert "lies clear of the other methods'" in texts


def test_learning_sentence(report):
    findings, t, params = report
    h = intervals(t).set_index(["method", "n_history"])
    f = find(findings, "purchases known, ")
    a, b = min(params["history_lengths"]), max(params["history_lengths"])
    for method in ("cosine", "lift"):
        x, y = h.loc[(method, a)], h.loc[(method, b)]
        apart = x["hi"] < y["lo"] or y["hi"] < x["lo"]
        named = f"{method}'s hit rate goes from {x['rate']:.1%} to {y['rate']:.1%}"
        if named in f["text"]:
            tail = f["text"].split(named)[1]
            assert tail.startswith(", the 95% intervals apart" if apart else ", within overlapping")
        else:
            clear = f"{method}'s change is clear" in f["text"]
            assert clear == bool(apart)
            assert clear or f"{method}'s change lies within" in f["text"]


def test_client_summary_says_simulated_and_recommends_only_tests(report):
    _, t, params = report
    client = t["client"]
    view, advice = client["client"]
    assert all(f["simulated"] and "simulated" in f["text"] for f in client["client"])
    assert [a["verb"] for a in client["actions"]] == ["test", "test"]
    links, people = t["record_links"], t["single_customer_view"]
    systems = links.groupby("person_id")["source"].nunique()
    n = view["numbers"]
    assert n["records"] == len(links) and n["persons"] == links["person_id"].nunique()
    assert n["sources"] == links["source"].nunique()
    assert n["several"] == (systems > 1).sum()
    assert n["share"] == pytest.approx((systems > 1).mean())
    assert n["summed"] == links.groupby("source")["person_id"].nunique().sum()
    conflicts = (people[["n_customer_ids", "n_emails", "n_phones"]] > 1).any(axis=1).sum()
    assert n["conflicts"] == conflicts
    for key in ("records", "persons", "several", "summed", "conflicts"):
        client_checks.printed(view, key, ",")
    client_checks.printed(view, "share", ".0%")
    h = intervals(t)
    longest = h[h["n_history"] == max(params["history_lengths"])]
    best = longest.sort_values("rate", ascending=False).iloc[0]
    base = longest[longest["method"] == "popularity"].iloc[0]
    a = advice["numbers"]
    assert a["h_max"] == max(params["history_lengths"]) and a["k"] == params["k"]
    assert (a["long"], a["long_lo"], a["long_hi"]) == pytest.approx(
        (best["rate"], best["lo"], best["hi"])
    )
    assert (a["base"], a["base_lo"], a["base_hi"]) == pytest.approx(
        (base["rate"], base["lo"], base["hi"])
    )
    for key in ("long", "long_lo", "long_hi", "base", "base_lo", "base_hi"):
        client_checks.printed(advice, key, ".0%")
