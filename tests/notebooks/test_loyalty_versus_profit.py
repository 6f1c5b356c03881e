"""Notebook 05 rendered on its small parameters: every number of its executive summary is
recomputed from the exported tables (independently of crmlab where the table allows) and
shown as printed."""

from __future__ import annotations

import json
import re

import client_checks
import numpy as np
import pandas as pd
import pytest
import yaml

from crmlab import render

NAME = "loyalty_versus_profit"
REPEAT = "repeat buyers"
QUADRANTS = ["Strangers", "Butterflies", "Barnacles", "True Friends"]
LISTS = {  # exported action list -> its group
    "loyalty_long_high_profit": "True Friends",
    "loyalty_short_high_profit": "Butterflies",
    "loyalty_long_low_profit": "Barnacles",
    "loyalty_short_low_profit": "Strangers",
}


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    path = render.list_notebooks()[NAME]
    small = yaml.safe_load((render.NOTEBOOKS_DIR / "test_parameters.yaml").read_text())[NAME]
    out = render.render_report(path, small, tmp_path_factory.mktemp("report"))
    folder = out.folder
    findings = json.loads((folder / "executive_summary.json").read_text(encoding="utf-8"))
    tables = {
        name: pd.read_csv(folder / f"loyalty_{name}.csv")
        for name in (
            "profit_customers",
            "association",
            "segments",
            "splits",
            "sensitivity",
            "propositions",
            "simulation_check",
        )
    }
    for name in LISTS:
        tables[name] = pd.read_csv(folder / f"{name}.csv", index_col=0)
    tables["client"] = client_checks.load(folder)
    return findings, tables, out.html.read_text(encoding="utf-8")


def shown(finding, formats):
    for key, fmt in formats.items():
        text = format(finding["numbers"][key], fmt)
        assert text in finding["text"], f"{key}={text!r} not in {finding['text']!r}"


def stat(assoc, name, sample):
    return assoc[(assoc["statistic"] == name) & (assoc["sample"] == sample)].iloc[0]


def pearson(x, y):
    return float(np.corrcoef(x, y)[0, 1])


def by_text(findings, start):
    rows = [f for f in findings if f["text"].startswith(start)]
    assert len(rows) == 1, start
    return rows[0]


def test_summary_sentences_are_distinct_and_label_the_simulated_one(report):
    findings, *_ = report
    assert len({f["text"] for f in findings}) == len(findings) == 12
    for f in findings:
        assert ("simulated" in f["text"].lower()) == f["simulated"]
        assert " stays " not in f" {f['text']} "


def test_headline_correlation_of_repeat_buyers(report):
    findings, t, _ = report
    c, assoc = t["profit_customers"], t["association"]
    f = by_text(findings, "Among the ")
    n = f["numbers"]
    rep = c[c["repeat_buyer"]]
    assert n["n"] == len(rep)
    assert n["r"] == pytest.approx(pearson(rep["lifetime"], rep["profit"]), abs=1e-9)
    row = stat(assoc, "pearson", REPEAT)
    assert (n["lower"], n["upper"]) == pytest.approx((row["lower"], row["upper"]))
    assert n["lower"] < n["r"] < n["upper"]
    true = stat(assoc, "pearson_true_lifetime", REPEAT)
    assert (n["r_true"], n["lower_true"], n["upper_true"]) == pytest.approx(
        (true["estimate"], true["lower"], true["upper"])
    )
    draws = int(re.search(r"(\d+) draws", row["method"]).group(1))
    assert n["draws"] == draws and "refit" in row["method"]
    assert (n["hbr_low"], n["hbr_high"], n["threshold"]) == pytest.approx((0.20, 0.45, 0.5))
    shown(f, {"n": ",", "r": ".3f", "lower": ".3f", "upper": ".3f", "r_true": ".3f"})


def test_ties_sentence(report):
    findings, t, _ = report
    c, splits, assoc = t["profit_customers"], t["splits"].set_index("dimension"), t["association"]
    f = by_text(findings, f"{(~t['profit_customers']['repeat_buyer']).sum():,} customers")
    n = f["numbers"]
    one = c[~c["repeat_buyer"]]
    counts = one["lifetime"].value_counts()
    assert n["one_time"] == len(one)
    assert n["share_one_time"] == pytest.approx(len(one) / len(c))
    assert n["tied"] == counts.iloc[0] and n["tie_weeks"] == pytest.approx(counts.index[0])
    assert n["r_all"] == pytest.approx(pearson(c["lifetime"], c["profit"]), abs=1e-9)
    row = stat(assoc, "pearson", "all customers")
    assert (n["lower_all"], n["upper_all"]) == pytest.approx((row["lower"], row["upper"]))
    rep = c[c["repeat_buyer"]]
    assert n["life_cut"] == pytest.approx(rep["lifetime"].median())
    assert n["profit_cut"] == pytest.approx(rep["profit"].median())
    assert n["life_tied"] == np.isclose(rep["lifetime"], n["life_cut"], rtol=0, atol=1e-9).sum()
    assert n["profit_tied"] == np.isclose(rep["profit"], n["profit_cut"], rtol=0, atol=1e-9).sum()
    assert splits["among"].eq(REPEAT).all()
    shown(f, {"one_time": ",", "tied": ",", "tie_weeks": ".1f", "life_tied": ",", "r_all": ".2f"})


def test_segment_sentence(report):
    findings, t, _ = report
    c = t["profit_customers"]
    f = by_text(findings, "Among repeat buyers, True Friends")
    n = f["numbers"]
    rep = c[c["repeat_buyer"]]
    shares = rep["segment"].value_counts(normalize=True)
    profit = c.groupby("segment")["profit"].sum() / c["profit"].sum()
    for key, name in (
        ("friends", "True Friends"),
        ("butterflies", "Butterflies"),
        ("barnacles", "Barnacles"),
        ("strangers", "Strangers"),
    ):
        assert n[key] == pytest.approx(shares[name])
    assert n["friends_profit"] == pytest.approx(profit["True Friends"])
    assert n["one_time_profit"] == pytest.approx(profit["One-time buyers"])
    assert set(c.loc[~c["repeat_buyer"], "segment"]) == {"One-time buyers"}
    shown(f, {"friends": ".0%", "strangers": ".0%", "friends_profit": ".0%"})


def test_losses_and_built_in_marketing_sentences(report):
    findings, t, _ = report
    c, assoc = t["profit_customers"], t["association"]
    f = by_text(findings, f"{(c['profit'] < 0).mean():.0%} of customers lose money")
    assert f["numbers"]["share_loss"] == pytest.approx((c["profit"] < 0).mean())
    assert (f["numbers"]["cost_per_order"], f["numbers"]["marketing"]) == (2.0, 0.25)
    f = by_text(findings, "Part of the correlation is built in")
    n = f["numbers"]
    rep = c[c["repeat_buyer"]]
    assert n["r0"] == pytest.approx(
        pearson(rep["lifetime"], rep["profit"] + rep["cost_marketing"]), abs=1e-9
    )
    assert n["r0_all"] == pytest.approx(
        pearson(c["lifetime"], c["profit"] + c["cost_marketing"]), abs=1e-9
    )
    np.testing.assert_allclose(c["cost_marketing"], 0.25 * c["lifetime"], rtol=1e-9)
    row = stat(assoc, "pearson_without_marketing", REPEAT)
    assert (n["lower0"], n["upper0"]) == pytest.approx((row["lower"], row["upper"]))
    shown(f, {"r0": ".3f", "r": ".3f", "r0_all": ".3f", "r_all": ".3f"})


def test_sensitivity_sentences_say_where_and_why(report):
    findings, t, _ = report
    s, c = t["sensitivity"], t["profit_customers"]
    base = s[np.isclose(s["margin"], 0.3) & np.isclose(s["marketing_cost_per_week"], 0.25)]
    at_half = base[np.isclose(base["alive_threshold"], 0.5)].iloc[0]
    assert at_half["pearson_all"] == pytest.approx(pearson(c["lifetime"], c["profit"]), abs=1e-9)
    f = by_text(findings, "The P(alive) threshold moves")
    n = f["numbers"]
    low = base.loc[base["pearson_all"].idxmin()]
    assert (n["r_low"], n["t_low"]) == pytest.approx((low["pearson_all"], low["alive_threshold"]))
    assert n["weeks_low"] == pytest.approx(low["one_time_median_lifetime"])
    assert n["mk_low"] == pytest.approx(0.25 * n["weeks_low"])  # one tied lifetime x $0.25
    assert n["r_high"] == pytest.approx(base["pearson_all"].max())
    assert (n["rr_min"], n["rr_max"]) == pytest.approx(
        (base["pearson_repeat"].min(), base["pearson_repeat"].max())
    )
    shown(f, {"r_low": ".3f", "t_low": "g", "weeks_low": ".0f", "rr_min": ".3f"})
    f = by_text(findings, "The marketing cost moves it too")
    n = f["numbers"]
    at = s[np.isclose(s["alive_threshold"], 0.5) & np.isclose(s["margin"], 0.3)]
    at = at.sort_values("marketing_cost_per_week")
    assert (n["r_first"], n["mk_first"]) == pytest.approx(
        (at["pearson_repeat"].iloc[0], at["marketing_cost_per_week"].iloc[0])
    )
    assert n["r_first"] == pytest.approx(
        by_text(findings, "Part of the correlation")["numbers"]["r0"]
    )
    assert (n["r_last"], n["mk_last"]) == pytest.approx((at["pearson_repeat"].iloc[-1], 0.5))
    shown(f, {"r_first": ".3f", "r_last": ".3f", "rm_min": ".3f", "rm_max": ".3f"})


def test_simulated_sentence_reports_coverage_from_the_check_table(report):
    findings, t, _ = report
    sim = t["simulation_check"]
    f = by_text(findings, "On simulated Pareto/NBD retailers")
    assert f["simulated"]
    rows = sim[sim["sample"] == REPEAT]
    for i, (world, part) in enumerate(rows.groupby("world", sort=False)):
        n = f["numbers"]
        covered = (
            (part["lower"] <= part["true_pearson"]) & (part["true_pearson"] <= part["upper"])
        ).sum()
        imputed = (
            (part["imputed_lower"] <= part["true_pearson"])
            & (part["true_pearson"] <= part["imputed_upper"])
        ).sum()
        assert n[f"covered_{i}"] == covered and n[f"imputed_covered_{i}"] == imputed
        assert n[f"runs_{i}"] == len(part)
        assert n[f"truth_{i}"] == pytest.approx(part["true_pearson"].mean())
        assert world in f["text"]
        shown(f, {f"truth_{i}": ".2f", f"estimate_{i}": ".2f", f"imputed_{i}": ".2f"})


def test_each_proposition_carries_its_caveat(report):
    findings, t, _ = report
    props = t["propositions"]
    for row in props.itertuples():
        f = by_text(findings, f"Proposition {row.proposition},")
        assert row.verdict in f["text"] and row.caveat in f["text"]
        if np.isfinite(row.estimate):
            n = f["numbers"]
            assert (n["estimate"], n["lower"], n["upper"]) == pytest.approx(
                (row.estimate, row.lower, row.upper)
            )
            shown(f, {"estimate": ".3g", "lower": ".3g", "upper": ".3g"})


def test_report_states_the_tie_and_km_rows_honestly(report):
    _, t, page = report
    assoc = t["association"]
    km = assoc[assoc["statistic"].str.startswith("km_median")]
    for row in km.itertuples():
        assert ("stays above 0.5" in row.method) == bool(np.isnan(row.estimate))
    assert "one-time buyers" in page and "tied at" in page


def test_client_link_sentence_recomputed(report):
    _, t, _ = report
    c, assoc, splits = t["profit_customers"], t["association"], t["splits"]
    head = t["client"]["client"][0]
    n = head["numbers"]
    rep = c[c["repeat_buyer"]]
    cut = splits.set_index("dimension").loc["lifetime", "cut"]
    assert n["n"] == len(rep) and n["cut"] == pytest.approx(cut)
    assert n["r"] == pytest.approx(pearson(rep["lifetime"], rep["profit"]), abs=1e-9)
    row = stat(assoc, "pearson", REPEAT)
    assert (n["lower"], n["upper"]) == pytest.approx((row["lower"], row["upper"]))
    assert n["med_long"] == pytest.approx(rep.loc[rep["lifetime"] > cut, "profit"].median())
    assert n["med_short"] == pytest.approx(rep.loc[rep["lifetime"] <= cut, "profit"].median())
    assert (n["hbr_low"], n["hbr_high"]) == pytest.approx((0.20, 0.45))
    for key in ("r", "lower", "upper", "hbr_low", "hbr_high"):
        client_checks.printed(head, key, ".2f")
    for key in ("med_long", "med_short"):
        client_checks.printed(head, key, ",.2f")
    client_checks.printed(head, "n", ",")
    words = "did not clearly" if n["lower"] <= 0 <= n["upper"] else "only slightly more"
    assert words in head["text"]


def test_client_one_time_groups_and_costs_recomputed(report):
    _, t, _ = report
    c, seg_t = t["profit_customers"], t["segments"].set_index("segment")
    once, groups, costs, sens = t["client"]["client"][1:5]
    one = c[~c["repeat_buyer"]]
    assert once["numbers"]["one"] == len(one) and once["numbers"]["customers"] == len(c)
    assert once["numbers"]["weeks"] == pytest.approx(one["lifetime"].mode().iloc[0])
    assert once["numbers"]["one_profit"] == pytest.approx(abs(one["profit"].sum()))
    client_checks.printed(once, "one", ",")
    client_checks.printed(once, "one_profit", ",.0f")
    rep = c[c["repeat_buyer"]]
    shares = rep["segment"].value_counts(normalize=True)
    profit = c.groupby("segment")["profit"].sum() / c["profit"].sum()
    for key, name in (("sl", "Strangers"), ("sh", "Butterflies"), ("ll", "Barnacles"),
                      ("lh", "True Friends")):  # fmt: skip
        assert groups["numbers"][key] == pytest.approx(shares[name])
        client_checks.printed(groups, key, ".0%")
    assert groups["numbers"]["p_lh"] == pytest.approx(profit["True Friends"])
    assert groups["numbers"]["p_sh"] == pytest.approx(profit["Butterflies"])
    assert seg_t.loc["True Friends", "share_profit"] == pytest.approx(profit["True Friends"])
    for name in ("short-lived low-profit", "short-lived high-profit", "long-lived low-profit",
                 "long-lived high-profit"):  # fmt: skip
        assert name in groups["text"]
    assert costs["numbers"]["loss"] == pytest.approx((c["profit"] < 0).mean())
    client_checks.printed(costs, "loss", ".0%")
    assert (costs["numbers"]["cpo"], costs["numbers"]["mk"]) == (2.0, 0.25)
    n = sens["numbers"]
    assert n["r0"] == pytest.approx(
        pearson(rep["lifetime"], rep["profit"] + rep["cost_marketing"]), abs=1e-9
    )
    grid = t["sensitivity"]
    assert (n["rr_min"], n["rr_max"]) == pytest.approx(
        (grid["pearson_repeat"].min(), grid["pearson_repeat"].max())
    )
    assert (n["mk_min"], n["mk_max"]) == pytest.approx(
        (grid["marketing_cost_per_week"].min(), grid["marketing_cost_per_week"].max())
    )
    for key in ("r0", "rr_min", "rr_max"):
        client_checks.printed(sens, key, ".2f")


def test_client_actions_concern_the_listed_customers(report):
    _, t, _ = report
    c = t["profit_customers"].set_index("customer_id")
    actions = t["client"]["actions"]
    assert [a["verb"] for a in actions] == [
        "keep", "look after", "serve more cheaply", "spend little"
    ]  # fmt: skip
    for action, (name, group) in zip(actions, LISTS.items(), strict=True):
        members = c[c["segment"] == group]
        listed = t[name]
        assert action["list_file"] == f"{name}.csv"
        assert sorted(listed.index) == sorted(members.index)
        assert action["customers"] == len(members) == action["numbers"]["n"]
        assert action["value"] == pytest.approx(members["profit"].sum())
        assert action["numbers"]["active"] == members["censored"].sum()
        assert action["numbers"]["amount"] == pytest.approx(abs(members["profit"].sum()))
        assert listed["still_buying"].sum() == members["censored"].sum()
        client_checks.printed(action, "n", ",")
        client_checks.printed(action, "amount", ",.0f")
        high = group in ("True Friends", "Butterflies")
        assert (listed["profit"].is_monotonic_decreasing if high else
                listed["profit"].is_monotonic_increasing)  # fmt: skip
    cheap = actions[2]
    members = c[c["segment"] == "Barnacles"]
    assert cheap["numbers"]["mail"] == pytest.approx(members["cost_marketing"].sum())
    before = members["profit"].sum() + members["cost_marketing"].sum()
    assert cheap["numbers"]["before"] == pytest.approx(abs(before))
    client_checks.printed(cheap, "mail", ",.0f")
