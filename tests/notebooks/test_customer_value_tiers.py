"""Notebook 03 rendered on its small parameters: every number of its executive summary is
recomputed from the exported tables and shown as printed."""

from __future__ import annotations

import json

import client_checks
import numpy as np
import pandas as pd
import pytest
import yaml

from crmlab import render

NAME = "customer_value_tiers"


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    path = render.list_notebooks()[NAME]
    small = yaml.safe_load((render.NOTEBOOKS_DIR / "test_parameters.yaml").read_text())[NAME]
    out = render.render_report(path, small, tmp_path_factory.mktemp("report"))
    folder = out.folder
    findings = json.loads((folder / "executive_summary.json").read_text(encoding="utf-8"))
    tables = {
        name: pd.read_csv(folder / f"{name}.csv", index_col=0)
        for name in ("customer_value_tiers", "bz_share_grid", "whale_peak_grid", "rfm_segments")
    }
    tables["simulated_retailer_profit"] = pd.read_csv(
        folder / "simulated_retailer_profit.csv", index_col=0
    )
    for name in ("value_tiers_keep", "value_tiers_grow", "value_tiers_serve_cheaply"):
        tables[name] = pd.read_csv(folder / f"{name}.csv", index_col=0)
    tables["client"] = client_checks.load(folder)
    return findings, tables, small


def _check_printed(finding, key, fmt):
    assert format(finding["numbers"][key], fmt) in finding["text"]


def test_tier_sentence_matches_the_customer_table(report):
    findings, tables, _ = report
    c = tables["customer_value_tiers"]
    f = findings[0]["numbers"]
    assert f["mvc"] == pytest.approx(np.mean(c["tier"] == "MVC"))
    assert f["mgc"] == pytest.approx(np.mean(c["tier"] == "MGC"))
    assert f["bz"] == pytest.approx(np.mean(c["tier"] == "BZ"))
    assert f["bz"] == pytest.approx(np.mean(c["actual_value"] < 0))
    mvc_value = c.loc[c["tier"] == "MVC", "actual_value"].sum() / c["actual_value"].sum()
    assert f["mvc_value"] == pytest.approx(mvc_value)
    for key in ("mvc", "mvc_value", "mgc", "bz"):
        _check_printed(findings[0], key, ".0%")


def test_mgc_sentence_matches_the_customer_table(report):
    findings, tables, _ = report
    c = tables["customer_value_tiers"]
    f = findings[1]["numbers"]
    mgc = c["tier"] == "MGC"
    assert f["mgc_p"] == pytest.approx(c.loc[mgc, "p_alive"].median())
    assert f["all_p"] == pytest.approx(c["p_alive"].median())
    gap = c["potential_value"] - c["actual_value"]
    assert f["mgc_gap"] == pytest.approx(gap[mgc].sum() / gap.sum())
    assert (c.loc[mgc, "p_alive"] >= 0.5).all()
    _check_printed(findings[1], "mgc_p", ".2f")
    _check_printed(findings[1], "all_p", ".2f")


def test_bz_sentence_matches_the_customer_table_and_grid(report):
    findings, tables, small = report
    c = tables["customer_value_tiers"]
    f = findings[2]["numbers"]

    def share(co, cy):
        return np.mean(c["expected_margin"] - co * c["expected_orders"] - cy * c["alive_years"] < 0)

    assert f["bz_no_year"] == pytest.approx(share(f["co"], 0.0))
    assert f["bz_no_order"] == pytest.approx(share(0.0, f["cy"]))
    assert f["bz"] == pytest.approx(share(f["co"], f["cy"]))
    assert f["breakeven"] == pytest.approx(c["breakeven_cost_per_year"].median())
    grid = tables["bz_share_grid"]
    grid.columns = grid.columns.astype(float)
    for co in grid.index:
        for cy in grid.columns:
            assert grid.loc[co, cy] == pytest.approx(share(co, cy))
    for key in ("bz_no_year", "bz_no_order", "bz"):
        _check_printed(findings[2], key, ".1%")


def test_whale_sentence_matches_the_peak_grid(report):
    findings, tables, _ = report
    f = findings[3]["numbers"]
    grid = tables["whale_peak_grid"]
    grid.columns = grid.columns.astype(float)
    assert f["p_min"] == pytest.approx(grid.iloc[0, 0])
    assert f["p_max"] == pytest.approx(grid.loc[f["co_max"], f["cy_max"]])
    assert f["p_min"] == pytest.approx(1.0)  # no serving costs: no loss-makers


def test_rfm_sentence_matches_the_segment_table(report):
    findings, tables, _ = report
    seg = tables["rfm_segments"]
    c = tables["customer_value_tiers"]
    f = findings[4]
    largest = seg["customers"].idxmax()
    assert f"'{largest}'" in f["text"]
    assert f["numbers"]["share"] == pytest.approx(np.mean(c["rfm_segment"] == largest))
    assert f["numbers"]["one_time"] == pytest.approx(np.mean(c["orders"] == 1))
    for empty in seg.index[seg["customers"] == 0]:
        assert empty in f["text"]
        assert seg.loc[empty, "note"].startswith("0 customers")


def test_simulated_sentence_says_so_and_matches(report):
    findings, _, _ = report
    sim = [f for f in findings if f["simulated"]]
    assert len(sim) == 1 and "simulated" in sim[0]["text"]
    texts = [f["text"] for f in findings]
    assert len(set(texts)) == len(texts)


def test_customer_table_has_the_promised_columns(report):
    _, tables, _ = report
    c = tables["customer_value_tiers"]
    for col in (
        "actual_value",
        "potential_value",
        "p_alive",
        "historical_profit",
        "tier",
        "rfm_segment",
        "R",
        "F",
        "M",
    ):
        assert col in c.columns
    assert set(c["tier"]) <= {"MVC", "MGC", "BZ", "other"}
    assert (c["potential_value"] >= c["actual_value"] - 1e-9).all()


def _whale(profit: pd.Series) -> dict:
    # the whale curve recomputed by hand: profit so far, sorted from the most profitable
    ranked = profit.sort_values(ascending=False)
    total = ranked.sum()
    return {
        "profit": total,
        "unprofitable": float(np.mean(profit < 0)),
        "peak": ranked.cumsum().max(),
        "peak_share": ranked.cumsum().max() / total,
        "destroyed": -profit[profit < 0].sum(),
    }


def test_client_summary_recomputed_from_the_customer_table(report):
    _, tables, small = report
    client = tables["client"]
    c = tables["customer_value_tiers"]
    first, grow, loss, past = client["client"]
    total = c["actual_value"].sum()
    mvc, mgc, bz = (c["tier"] == t for t in ("MVC", "MGC", "BZ"))
    n = first["numbers"]
    assert n["customers"] == len(c) and n["mvc"] == mvc.sum()
    assert n["total"] == pytest.approx(total)
    assert n["mvc_value"] == pytest.approx(c.loc[mvc, "actual_value"].sum())
    assert n["mvc_value_share"] == pytest.approx(c.loc[mvc, "actual_value"].sum() / total)
    for key, fmt in (("customers", ","), ("total", ",.0f"), ("mvc", ","), ("mvc_value", ",.0f")):
        client_checks.printed(first, key, fmt)
    gap = c["potential_value"] - c["actual_value"]
    assert grow["numbers"]["mgc"] == mgc.sum()
    assert grow["numbers"]["gap"] == pytest.approx(gap[mgc].sum())
    client_checks.printed(grow, "gap", ",.0f")
    assert loss["numbers"]["bz"] == bz.sum() == (c["actual_value"] < 0).sum()
    assert loss["numbers"]["loss"] == pytest.approx(-c.loc[bz, "actual_value"].sum())
    co = loss["numbers"]["co"]
    orders_only = c["expected_margin"] - co * c["expected_orders"] < 0
    assert loss["numbers"]["bz_no_year"] == pytest.approx(orders_only.mean())
    assert loss["numbers"]["breakeven"] == pytest.approx(c["breakeven_cost_per_year"].median())
    for key, fmt in (("bz", ","), ("loss", ",.0f"), ("breakeven", ",.2f")):
        client_checks.printed(loss, key, fmt)
    expected = _whale(c["historical_profit"])
    for key, value in expected.items():
        assert past["numbers"][key] == pytest.approx(value)
    client_checks.printed(past, "destroyed", ",.0f")


def test_actions_concern_the_listed_customers(report):
    _, tables, _ = report
    c = tables["customer_value_tiers"]
    actions = {a["verb"]: a for a in tables["client"]["actions"]}
    assert list(actions) == ["keep", "grow", "serve more cheaply"]
    gap = c["potential_value"] - c["actual_value"]
    for verb, tier, name, value in (
        ("keep", "MVC", "value_tiers_keep", c["actual_value"]),
        ("grow", "MGC", "value_tiers_grow", gap),
        ("serve more cheaply", "BZ", "value_tiers_serve_cheaply", c["actual_value"]),
    ):
        listed = tables[name]
        members = c.index[c["tier"] == tier]
        assert actions[verb]["list_file"] == f"{name}.csv"
        assert sorted(listed.index) == sorted(members)
        assert actions[verb]["customers"] == len(members)
        assert actions[verb]["value"] == pytest.approx(value[members].sum())
    assert tables["value_tiers_keep"]["expected_profit"].is_monotonic_decreasing
    assert "$" + format(actions["keep"]["value"], ",.0f") in actions["keep"]["text"]
    assert (
        "$" + format(-actions["serve more cheaply"]["value"], ",.0f")
        in (actions["serve more cheaply"]["text"])
    )
