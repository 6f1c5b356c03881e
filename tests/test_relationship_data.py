"""Simulators for notebooks 06 and 07: the analyses recover the truth they build in."""

from __future__ import annotations

import numpy as np
import pytest

from crmlab import DataError
from crmlab import relationship_data as rd
from crmlab.defection import reason_shares
from crmlab.integration import evaluate_matching, single_customer_view
from crmlab.relationships import distinct_per_customer, threshold_test

COLUMNS = {
    "sales": {"record_id": "order_id"},
    "service": {"record_id": "ticket_id"},
    "marketing": {"record_id": "contact_id"},
}


def test_relationships_truth_is_recovered():
    sim = rd.relationships(3000, threshold=4, seed=1)
    customers, contacts = sim.tables["customers"], sim.tables["contacts"]
    breadth = distinct_per_customer(contacts, of="employee_id", customers=customers["customer_id"])
    np.testing.assert_array_equal(breadth.to_numpy(), customers["n_employees"].to_numpy())
    test = threshold_test(customers)
    assert test.changes()
    assert test.slope_below == pytest.approx(sim.params["slope"], abs=0.15)
    flat = rd.relationships(3000, threshold=None, seed=2)
    assert not threshold_test(flat.tables["customers"]).changes()
    assert set(customers["segment"]) == set(rd.SEGMENTS)
    with pytest.raises(DataError, match="n_customers"):
        rd.relationships(0)
    with pytest.raises(DataError, match="threshold"):
        rd.relationships(10, threshold=0)


def test_defection_survey_shares_match_truth():
    sim = rd.defection_survey(20000, seed=3)
    shares = reason_shares(sim.tables["survey"]).set_index("reason")["share"]
    for reason, p in sim.params["overall"].items():
        assert shares[reason] == pytest.approx(p, abs=0.015)
    with pytest.raises(DataError, match="sum to 1"):
        rd.defection_survey(10, shares={"a": {"x": 0.5, "y": 0.6}}, segment_weights={"a": 1})


def test_crm_sources_truth_aligns_and_rules_trade_precision_for_recall():
    sim = rd.crm_sources(800, seed=4)
    full = single_customer_view(sim.tables, columns=COLUMNS)
    recs = full.records[["source", "record_id"]].to_numpy()
    np.testing.assert_array_equal(recs, sim.truth[["source", "record_id"]].to_numpy())
    ids_only = single_customer_view(sim.tables, columns=COLUMNS, rules=("customer_id",))
    with_email = single_customer_view(sim.tables, columns=COLUMNS, rules=("customer_id", "email"))
    truth = sim.truth["person_id"]
    e0, e1, e2 = (
        evaluate_matching(v.records["person_id"], truth) for v in (ids_only, with_email, full)
    )
    assert e0["precision"] == 1 and e1["precision"] == 1  # ids and e-mails are never shared
    assert e0["recall"] < e1["recall"] < e2["recall"]
    assert e2["precision"] < 1  # shared household phones merge different people
    assert sim.params["shared_phones"] > 0


def test_shoppers_follow_their_favourite_group():
    sim = rd.shoppers(2000, loyalty=0.8, seed=5)
    trans = sim.tables["transactions"]
    group_of = {c: g for g, cats in rd.CATEGORY_GROUPS.items() for c in cats}
    fav = sim.truth.set_index("customer_id")["favourite_group"]
    in_fav = trans["category"].map(group_of).to_numpy() == fav.loc[trans["customer_id"]].to_numpy()
    # P(favourite) = loyalty + (1 - loyalty) / groups
    assert in_fav.mean() == pytest.approx(0.8 + 0.2 / 4, abs=0.02)
    assert trans.groupby("customer_id")["date"].is_monotonic_increasing.all()
    with pytest.raises(DataError, match="loyalty"):
        rd.shoppers(10, loyalty=2)
    with pytest.raises(DataError, match="same number"):
        rd.shoppers(10, groups={"a": ["x"], "b": ["y", "z"]})
