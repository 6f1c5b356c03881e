"""Single customer view: key normalisation, ordered rules, union-find merges, report, evaluation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmlab import DataError
from crmlab.integration import (
    evaluate_matching,
    normalise_email,
    normalise_id,
    normalise_phone,
    single_customer_view,
    stack_sources,
)


def sources() -> tuple[dict[str, pd.DataFrame], list[str]]:
    """Three people (ann, bob, cy) plus a record with no usable key (dee)."""
    sales = pd.DataFrame(
        {
            "record_id": ["s1", "s2", "s3"],
            "customer_id": ["C1", "C1", "C2"],
            "email": ["ann@x.com", None, "bob@y.org"],
            "phone": ["555-010-2030", None, None],
            "amount": [10.0, 20.0, 5.0],
        }
    )
    service = pd.DataFrame(
        {
            "record_id": ["t1", "t2", "t3"],
            "customer_id": [None, None, " C2 "],
            "email": [" ANN@X.COM ", "cy@z.net", None],
            "phone": [None, "(555) 777-8888", None],
        }
    )
    marketing = pd.DataFrame(
        {
            "record_id": ["m1", "m2", "m3"],
            "email": [None, None, "n/a"],
            "phone": ["+1 555 777 8888", "+1 (555) 010 2030", "12"],
            "name": ["Cy", "Ann", "Dee"],
        }
    )
    truth = ["ann", "ann", "bob", "ann", "cy", "bob", "cy", "ann", "dee"]
    return {"sales": sales, "service": service, "marketing": marketing}, truth


def test_normalisers():
    e = normalise_email(pd.Series(["  Ann.Lee@Mail.COM ", "n/a", None, "a@b", "x@y.z"]))
    assert e.tolist()[0] == "ann.lee@mail.com"
    assert e.isna().tolist() == [False, True, True, True, False]
    p = normalise_phone(
        pd.Series(
            ["+1 (555) 010-2030", "555.010.2030", "0015550102030", "12", "000-000-0000", None]
        )
    )
    assert p.tolist()[:3] == ["5550102030"] * 3
    assert p.isna().tolist() == [False, False, False, True, True, True]
    assert normalise_id(pd.Series([" C1 ", "", "12.0", None])).tolist()[:3] == ["C1", pd.NA, "12"]
    with pytest.raises(DataError, match="digits"):
        normalise_phone(pd.Series(["1"]), digits=3)


def test_single_customer_view_merges_the_known_people():
    srcs, truth = sources()
    view = single_customer_view(srcs)
    rec = view.records
    assert len(rec) == 9  # nothing dropped
    persons = rec.groupby("person_id")["record_id"].apply(frozenset)
    assert set(persons) == {
        frozenset({"s1", "s2", "t1", "m2"}),
        frozenset({"s3", "t3"}),
        frozenset({"t2", "m1"}),
        frozenset({"m3"}),
    }
    by_id = rec.set_index("record_id")["linked_by"]
    assert by_id[["s1", "s2", "s3", "t3"]].tolist() == ["customer_id"] * 4
    assert by_id[["t1", "t2", "m1", "m2"]].tolist() == ["email", "phone", "phone", "phone"]
    assert by_id["m3"] == "unmatched"
    # rules: C1 and C2 (2 merges), ann's e-mail links t1 (1), phones link cy and m2 (2)
    assert view.rules["merges"].tolist() == [2, 1, 2]
    assert view.rules["merges"].sum() == 9 - 4
    ev = evaluate_matching(rec["person_id"], truth)
    assert ev["precision"] == 1 and ev["recall"] == 1 and ev["persons_exact"] == 4


def test_customer_table_and_quality_report():
    srcs, _ = sources()
    view = single_customer_view(srcs)
    cust = view.customers.set_index("email")
    ann = cust.loc["ann@x.com"]
    assert ann["n_records"] == 4 and ann["sources"] == "marketing+sales+service"
    assert ann["amount"] == 30 and ann["phone"] == "5550102030" and ann["customer_id"] == "C1"
    assert ann["name"] == "Ann"
    q = view.quality
    assert q.loc["all sources", "records"] == 9
    assert q.loc["all sources", "persons"] == 4
    assert q.loc["all sources", "records_folded"] == 5
    assert q.loc["marketing", "invalid_email"] == 1 and q.loc["marketing", "invalid_phone"] == 1
    assert q.loc["marketing", "no_usable_key"] == 1
    assert q.loc["service", "missing_customer_id"] == 2
    assert q.loc["sales", "linked_to_other_source"] == 3
    assert view.conflicts.empty


def test_rule_order_and_subset_change_the_result():
    srcs, truth = sources()
    view = single_customer_view(srcs, rules=("email",))
    ev = evaluate_matching(view.records["person_id"], truth)
    assert ev["precision"] == 1 and ev["recall"] < 1
    assert view.records["person_id"].nunique() == 8


def test_conflicts_flag_chained_merges():
    a = pd.DataFrame(
        {
            "record_id": [1, 2],
            "email": ["a@x.com", "a@x.com"],
            "phone": ["5550000001", "5550000002"],
        }
    )
    view = single_customer_view({"crm": a})
    assert len(view.conflicts) == 1 and view.conflicts["n_phones"].iloc[0] == 2


def test_evaluate_matching_hand_case():
    ev = evaluate_matching([0, 0, 1, 1], [0, 0, 0, 1])
    # predicted pairs {01, 23}; true pairs {01, 02, 12}; correct {01}
    assert ev["precision"] == 0.5
    assert ev["recall"] == pytest.approx(1 / 3)
    assert ev["f1"] == pytest.approx(0.4)
    assert ev["persons_exact"] == 0


def test_evaluate_matching_brute_force(rng):
    p = rng.integers(0, 15, 60)
    t = rng.integers(0, 12, 60)
    i, j = np.triu_indices(60, 1)
    same_p, same_t = p[i] == p[j], t[i] == t[j]
    ev = evaluate_matching(p, t)
    assert ev["precision"] == pytest.approx((same_p & same_t).sum() / same_p.sum())
    assert ev["recall"] == pytest.approx((same_p & same_t).sum() / same_t.sum())


def test_bad_sources():
    srcs, _ = sources()
    with pytest.raises(DataError, match="non-empty dict"):
        single_customer_view({})
    with pytest.raises(DataError, match="rules"):
        single_customer_view(srcs, rules=("name",))
    dup = srcs["sales"].copy()
    dup.loc[2, "record_id"] = "s1"
    with pytest.raises(DataError, match="1 rows are missing or repeated, first at row 2"):
        stack_sources({"sales": dup})
    with pytest.raises(DataError, match="none of the key columns"):
        stack_sources({"x": pd.DataFrame({"record_id": [1], "note": ["hi"]})})
    renamed = srcs["sales"].rename(columns={"email": "Mail"})
    ok = stack_sources({"s": renamed}, columns={"s": {"email": "Mail"}})
    assert ok["email_key"].notna().sum() == 2
    with pytest.raises(DataError, match="align"):
        evaluate_matching([1, 2], [1])


def _truth_frame(srcs, truth):
    keys = [(name, str(r)) for name, frame in srcs.items() for r in frame["record_id"]]
    return pd.DataFrame(
        {"source": [k[0] for k in keys], "record_id": [k[1] for k in keys], "person_id": truth}
    )


def test_persons_by_sources_hand_case():
    from crmlab.integration import persons_by_sources

    view = single_customer_view(sources()[0])
    by = persons_by_sources(view)
    assert by["persons"].to_dict() == {
        "marketing": 1,
        "marketing+sales+service": 1,
        "marketing+service": 1,
        "sales+service": 1,
    }
    assert by.loc["marketing+sales+service", "n_sources"] == 3
    # the systems' own person counts add up to more than the persons: 3 + 3 + 2 = 8 > 4
    per_source = view.quality.drop(index="all sources")["persons"]
    assert per_source.sum() == (by["n_sources"] * by["persons"]).sum() == 8
    assert view.quality.loc["all sources", "persons"] == by["persons"].sum() == 4


def test_record_links_match_truth_by_key_not_by_row_order():
    from crmlab.integration import record_links

    srcs, truth = sources()
    view = single_customer_view(srcs)
    shuffled = _truth_frame(srcs, truth).sample(frac=1, random_state=3)
    links = record_links(view, shuffled)
    expected = dict(zip(_truth_frame(srcs, truth)["record_id"], truth, strict=True))
    assert links["true_person_id"].tolist() == [expected[r] for r in links["record_id"]]
    assert list(record_links(view).columns) == ["source", "record_id", "person_id", "linked_by"]
    with pytest.raises(DataError, match="no person for 1 records"):
        record_links(view, shuffled.iloc[1:])
    with pytest.raises(DataError, match="more than once"):
        record_links(view, pd.concat([shuffled, shuffled.iloc[:1]]))


def test_evaluate_rules_adds_rules_one_at_a_time():
    from crmlab.integration import evaluate_rules

    srcs, truth = sources()
    out = evaluate_rules(srcs, _truth_frame(srcs, truth), rules=("customer_id", "email", "phone"))
    assert list(out.index) == ["customer_id", "customer_id + email", "customer_id + email + phone"]
    for rules, row in zip((("customer_id",), ("customer_id", "email")), out.index, strict=False):
        alone = evaluate_matching(
            single_customer_view(srcs, rules=rules).records["person_id"], truth
        )
        assert out.loc[row].to_dict() == pytest.approx(alone.to_dict())
    assert out["recall"].is_monotonic_increasing
    assert out.iloc[-1]["recall"] == 1 and out.iloc[-1]["precision"] == 1


def test_single_view_findings_cite_the_view_and_the_evaluation():
    from crmlab.integration import single_view_findings

    srcs, truth = sources()
    view = single_customer_view(srcs)
    ev = evaluate_matching(view.records["person_id"], truth)
    found = single_view_findings(view, ev, n_people=6, simulated=True)
    assert all(f.simulated for f in found) and len(found) == 3
    joined, overlap, quality = found
    assert joined.numbers == {
        "records": 9,
        "sources": 3,
        "persons": 4,
        "rules": 3,
        "unmatched": 1,
        "no_key": 1,
    }
    assert "9 records from 3 systems were joined into 4 persons" in joined.text
    assert overlap.numbers["several"] == 3 and overlap.numbers["summed"] == 8
    assert "add up to 8 where there are 4 persons" in overlap.text
    assert quality.numbers["true"] == 4 and quality.numbers["absent"] == 2
    assert "builds 6 people, but 2 of them" in quality.text
    plain = single_view_findings(view)
    assert len(plain) == 2 and not any("simulat" in f.text for f in plain)


def test_single_view_client_in_plain_words():
    from client_checks import check_plain

    from crmlab.integration import single_view_client

    view = single_customer_view(sources()[0])
    (sim,), (test,) = single_view_client(view, simulated=True)
    # hand case: 9 records, 4 persons, 3 of them in several systems, 3 + 3 + 2 = 8 counted
    assert sim.numbers["records"] == 9 and sim.numbers["persons"] == 4
    assert sim.numbers["several"] == 3 and sim.numbers["share"] == pytest.approx(0.75)
    assert sim.numbers["summed"] == 8 and sim.numbers["conflicts"] == len(view.conflicts)
    assert sim.simulated and "simulated" in sim.text and test.verb == "test"
    assert "separately gives 8 customers" in sim.text
    (real,), none = single_view_client(view)
    assert not real.simulated and not none  # no person to review in the hand case
    from crmlab import simulate

    crm = simulate.crm_sources(400, seed=3)
    big = single_customer_view(
        crm.tables,
        columns={
            "sales": {"record_id": "order_id"},
            "service": {"record_id": "ticket_id"},
            "marketing": {"record_id": "contact_id"},
        },
    )
    assert len(big.conflicts) > 0
    _, (review,) = single_view_client(big)
    assert review.verb == "review" and review.customers == len(big.conflicts)
    assert review.list_file == "single_customer_view.csv"
    assert f"Review the {len(big.conflicts):,} persons" in review.text
    for text in (sim.text, test.text, real.text, review.text):
        check_plain(text)
