"""crmlab.studies.lifetime_value_client: the CLV study's client sentences, actions and lists
on a hand-made study whose every number can be counted."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from client_checks import check_plain

from crmlab import DataError
from crmlab.studies.lifetime_value_client import (
    lifetime_value_client,
    lifetime_value_groups,
)


def hand_study():
    # 10 customers: c0 the most valuable; c5 and c6 were top by past value but are likely gone;
    # c9 a student (little so far, high expected value)
    ids = pd.Index([f"c{i}" for i in range(10)], name="customer_id")
    customers = pd.DataFrame(
        {
            "clv": [100.0, 60.0, 30.0, 20.0, 10.0, 5.0, 4.0, 3.0, 2.0, 50.0],
            "lower": [80.0, 50.0, 25.0, 15.0, 8.0, 4.0, 3.0, 2.0, 1.0, 40.0],
            "upper": [120.0, 70.0, 35.0, 25.0, 12.0, 6.0, 5.0, 4.0, 3.0, 60.0],
            "p_alive": [0.9, 0.8, 0.7, 0.6, 0.6, 0.2, 0.3, 0.5, 0.4, 0.9],
            "value_so_far": [90.0, 40.0, 20.0, 10.0, 5.0, 80.0, 70.0, 3.0, 2.0, 1.0],
            "frequency": [9, 5, 3, 2, 1, 6, 5, 0, 0, 0],
            "expected_purchases": [3.0, 2.0, 1.0, 0.5, 0.3, 0.1, 0.1, 0.1, 0.1, 1.5],
            "student": [False] * 9 + [True],
        },
        index=ids,
    )
    totals = pd.DataFrame(
        {"total_clv": [284.0, 250.0, 300.0], "lower": [250.0, 230.0, 280.0]}
        | {"upper": [320.0, 270.0, 330.0]},
        index=["A", "B", "C"],
    )
    summary = pd.DataFrame(index=ids)
    summary.attrs["calibration_end"] = "1997-09-30"
    return SimpleNamespace(
        customers=customers,
        totals=totals,
        settings={"margin": 0.3, "annual_discount_rate": 0.1, "horizon_years": 10.0},
        choice=SimpleNamespace(used="A"),
        summary=summary,
        comparison=pd.DataFrame({"holdout_error_pct": [-12.0, -15.0, -9.0]}, index=totals.index),
        students=SimpleNamespace(top_share=0.3, value_quantile=0.5, value_cut=5.0),
        holdout_length=39.0,
    )


def test_groups_by_hand():
    groups = lifetime_value_groups(hand_study(), protect_share=0.2)
    assert list(groups["protect"][groups["protect"]].index) == ["c0", "c1"]
    # top 30% by value so far: c0, c5, c6; of them likely gone and not protected: c5, c6
    assert list(groups["win back"][groups["win back"]].index) == ["c5", "c6"]
    assert list(groups["grow"][groups["grow"]].index) == ["c9"]
    with pytest.raises(DataError, match="protect_share"):
        lifetime_value_groups(hand_study(), protect_share=1.5)


def test_client_sentences_and_actions_by_hand(tmp_path, monkeypatch):
    study = hand_study()
    client, actions = lifetime_value_client(study, protect_share=0.2)
    total, checked, top, back, grow = client
    assert total.numbers["total"] == pytest.approx(284.0) and total.numbers["customers"] == 10
    assert (total.numbers["lower"], total.numbers["upper"]) == (250.0, 320.0)
    assert (total.numbers["low"], total.numbers["high"]) == (250.0, 300.0)
    assert "30 September 1997" in total.text and "between $250 and $320" in total.text
    assert "within that range" in total.text  # 250-300 lies inside 250-320
    assert checked.numbers["miss"] == pytest.approx(0.12) and "12% too low" in checked.text
    assert top.numbers["value"] == 160.0 and top.numbers["value_share"] == pytest.approx(160 / 284)
    assert back.numbers["past"] == 150.0 and back.numbers["value"] == 9.0
    assert grow.numbers["value"] == 50.0 and "at most $5.00 each" in grow.text
    assert [a.verb for a in actions] == ["keep", "win back", "grow"]
    assert [a.customers for a in actions] == [2, 2, 1]
    assert [a.value for a in actions] == [160.0, 150.0, 50.0]
    for text in [f.text for f in client] + [a.text for a in actions]:
        check_plain(text)
    monkeypatch.setenv("CRMLAB_EXPORT_DIR", str(tmp_path))
    lifetime_value_client(study, protect_share=0.2, export=True)
    for action in actions:
        listed = pd.read_csv(tmp_path / action.list_file, index_col=0)
        assert len(listed) == action.customers
        assert listed["expected_value"].sum() == pytest.approx(
            study.customers.loc[listed.index, "clv"].sum()
        )
    back_list = pd.read_csv(tmp_path / "clv_win_back.csv", index_col=0)
    assert list(back_list.index) == ["c5", "c6"]  # highest margin so far first


def test_wider_method_spread_and_nothing_to_win_back():
    study = hand_study()
    study.totals.loc["C", "total_clv"] = 400.0
    study.customers["p_alive"] = np.maximum(study.customers["p_alive"], 0.5)
    study.customers["student"] = False
    client, actions = lifetime_value_client(study)
    assert "wider spread than that range" in client[0].text
    assert [a.verb for a in actions] == ["keep"] and len(client) == 3
