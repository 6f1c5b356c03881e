"""Notebook 02 rendered on its small parameters: every number of its executive summary is
recomputed from the exported tables (the Dirichlet's predictions by a brute-force
implementation of its formulas) and shown as printed; the figures carry alt text."""

from __future__ import annotations

import json

import client_checks
import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from crmlab import render

NAME = "customer_share"


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    path = render.list_notebooks()[NAME]
    small = yaml.safe_load((render.NOTEBOOKS_DIR / "test_parameters.yaml").read_text())[NAME]
    out = render.render_report(path, small, tmp_path_factory.mktemp("report"))
    folder, panel = out.folder, small.get("panel", "yogurt")
    findings = json.loads((folder / "executive_summary.json").read_text(encoding="utf-8"))
    tables = {
        "households": pd.read_csv(folder / f"customer_share_{panel}_households.csv"),
        "bench": pd.read_csv(folder / f"dirichlet_benchmark_{panel}.csv", index_col=0),
        "params": pd.read_csv(folder / f"dirichlet_parameters_{panel}.csv").iloc[0],
        "wallet": pd.read_csv(folder / "simulated_wallet.csv"),
        "panels": pd.read_csv(folder / "dirichlet_panels.csv", index_col=0),
        "client": client_checks.load(folder),
        "folder": folder,
    }
    return findings, tables, small, out.html.read_text(encoding="utf-8")


def printed(finding, formats):
    for key, fmt in formats.items():
        shown = format(finding["numbers"][key], fmt)
        assert shown in finding["text"], f"{key}={shown!r} not in {finding['text']!r}"


def observed(households):
    """Market share, penetration, purchase frequency and SCR per brand, by counting."""
    h = households
    buyers = h[h["brand_purchases"] > 0]
    by = buyers.groupby("brand")
    return pd.DataFrame(
        {
            "market_share": h.groupby("brand")["brand_purchases"].sum()
            / h["brand_purchases"].sum(),
            "buyers": by.size(),
            "penetration": by.size() / h["household_id"].nunique(),
            "frequency": by["brand_purchases"].sum() / by.size(),
            "scr": by["brand_purchases"].sum() / by["category_purchases"].sum(),
        }
    )


def population_penetration(m, k, s, share):
    """1 - sum_n P(n) prod_{i<n} (S - alpha + i) / (S + i), term by term (no gammaln)."""
    nbd = stats.nbinom(k, k / (k + m))
    n_max = int(nbd.isf(1e-13)) + 1
    p_n = nbd.pmf(np.arange(n_max + 1))
    alpha = s * share
    none = np.ones(n_max + 1)
    for i in range(n_max):
        none[i + 1] = none[i] * (s - alpha + i) / (s + i)
    return 1.0 - float(p_n @ none)


def test_summary_sentences_are_labelled(report):
    findings, *_ = report
    assert [f["simulated"] for f in findings] == [False, False, False, True, True]
    for f in findings:
        assert ("simulated" in f["text"]) == f["simulated"]
    assert len({f["text"] for f in findings}) == len(findings)


def test_focus_sentence(report):
    findings, tables, small, _ = report
    obs, bench = observed(tables["households"]), tables["bench"]
    gap = (bench["scr_observed"] - bench["scr_expected"]).abs()
    focus = small.get("focus_brand") or gap.idxmax()
    n = findings[0]["numbers"]
    assert f", {focus} has a" in findings[0]["text"]
    assert n["market_share"] == pytest.approx(obs.loc[focus, "market_share"])
    assert n["scr_observed"] == pytest.approx(obs.loc[focus, "scr"])
    assert n["scr_expected"] == pytest.approx(bench.loc[focus, "scr_expected"])
    np.testing.assert_allclose(bench.loc[obs.index, "scr_observed"], obs["scr"])
    printed(findings[0], {"market_share": ".1%", "scr_observed": ".1%", "scr_expected": ".1%"})


def test_fit_sentence_against_a_brute_force_dirichlet(report):
    findings, tables, *_ = report
    obs, bench, p = observed(tables["households"]), tables["bench"], tables["params"]
    shares = obs["market_share"]
    pen_pop = {b: population_penetration(p["m"], p["k"], p["s"], shares[b]) for b in shares.index}
    pen_expected = pd.Series(pen_pop) / p["category_penetration"]
    freq_expected = p["m"] * shares / pd.Series(pen_pop)
    np.testing.assert_allclose(bench.loc[obs.index, "penetration_expected"], pen_expected)
    np.testing.assert_allclose(bench.loc[obs.index, "purchase_frequency_expected"], freq_expected)
    # each brand's own S reproduces its observed penetration under the same M and K
    for b in shares.index:
        target = obs.loc[b, "penetration"] * p["category_penetration"]
        s_b = bench.loc[b, "s_brand"]
        assert population_penetration(p["m"], p["k"], s_b, shares[b]) == pytest.approx(
            target, abs=1e-6
        )
    n = findings[1]["numbers"]
    assert n["s"] == pytest.approx(p["s"])
    assert n["mad_penetration_points"] == pytest.approx(
        100 * (obs["penetration"] - pen_expected).abs().mean()
    )
    assert n["mad_frequency"] == pytest.approx((obs["frequency"] - freq_expected).abs().mean())
    assert n["s_min"] == pytest.approx(bench["s_brand"].min())
    assert n["s_max"] == pytest.approx(bench["s_brand"].max())
    assert n["brands"] == len(obs)
    assert f"({bench['s_brand'].idxmin()})" in findings[1]["text"]
    printed(
        findings[1],
        {"s": ".2f", "mad_penetration_points": ".1f", "mad_frequency": ".2f",
         "s_min": ".2f", "s_max": ".2f"},
    )  # fmt: skip


def test_misfit_sentence_names_the_misfits(report):
    findings, tables, small, _ = report
    obs, bench = observed(tables["households"]), tables["bench"]
    tolerance, level = small.get("misfit_points", 0.05), small.get("level", 0.95)
    households = tables["households"]["household_id"].nunique()
    low, high = proportion_confint(obs["buyers"], households, alpha=1 - level, method="wilson")
    expected = bench.loc[obs.index, "penetration_expected"]
    dev = obs["penetration"] - expected
    misfit = (dev.abs() > tolerance) & ((expected < low) | (expected > high))
    order = dev.abs()[misfit].sort_values(ascending=False).index
    finding = findings[2]
    n = finding["numbers"]
    assert n["misfits"] == len(order) == 2  # hiland and weight on yogurt
    positions = [finding["text"].index(f"{b} is bought by") for b in order]
    assert positions == sorted(positions)
    for i, b in enumerate(order):
        assert n[f"observed_{i}"] == pytest.approx(obs.loc[b, "penetration"])
        assert (n[f"low_{i}"], n[f"high_{i}"]) == pytest.approx((low[b], high[b]))
        assert n[f"expected_{i}"] == pytest.approx(expected[b])
        assert n[f"frequency_observed_{i}"] == pytest.approx(obs.loc[b, "frequency"])
        assert n[f"frequency_expected_{i}"] == pytest.approx(
            bench.loc[b, "purchase_frequency_expected"]
        )
        printed(
            finding,
            {f"observed_{i}": ".1%", f"low_{i}": ".1%", f"high_{i}": ".1%",
             f"expected_{i}": ".1%", f"frequency_observed_{i}": ".1f",
             f"frequency_expected_{i}": ".1f"},
        )  # fmt: skip
    assert list(bench.index[bench["misfit"]].sort_values()) == sorted(order)


def test_market_sentence_says_the_result_is_built_in(report):
    findings, tables, small, _ = report
    w = tables["wallet"]
    wallets = w.groupby("customer_id")["wallet"].max()
    market = w.groupby("firm")["spend"].sum() / wallets.sum()
    best_share = small.get("best_share", 0.2)
    n_best = max(int(round(best_share * len(wallets))), 1)
    best = wallets.sort_values(ascending=False, kind="stable").index[:n_best]
    of_best = w[w["customer_id"].isin(best)].groupby("firm")["spend"].sum() / wallets[best].sum()
    leader, top = market.idxmax(), of_best.idxmax()
    n = findings[3]["numbers"]
    assert n["leader_market"] == pytest.approx(market[leader])
    assert n["leader_best"] == pytest.approx(of_best[leader])
    assert n["best_best"] == pytest.approx(of_best[top])
    assert n["best_market"] == pytest.approx(market[top])
    text = findings[3]["text"]
    assert f"{leader} leads with" in text and f"for {top} (" in text
    assert "a result built into the simulation" in text
    printed(
        findings[3],
        {"leader_market": ".1%", "leader_best": ".1%", "best_best": ".1%",
         "best_market": ".1%", "best_share": ".0%"},
    )  # fmt: skip


def test_wallet_rule_sentence(report):
    findings, tables, *_ = report
    w = tables["wallet"]
    war = (1 - w["rank"] / (w["n_used"] + 1)) * 2 / w["n_used"]
    sat = w["satisfaction"] / w.groupby("customer_id")["satisfaction"].transform("sum")
    actual = w["share_of_wallet"]
    n = findings[4]["numbers"]
    assert n["r_war"] == pytest.approx(np.corrcoef(war, actual)[0, 1])
    assert n["mae_war_points"] == pytest.approx(100 * (war - actual).abs().mean())
    assert n["r_sat"] == pytest.approx(np.corrcoef(sat, actual)[0, 1])
    assert n["mae_sat_points"] == pytest.approx(100 * (sat - actual).abs().mean())
    printed(
        findings[4],
        {"r_war": ".2f", "mae_war_points": ".1f", "r_sat": ".2f", "mae_sat_points": ".1f"},
    )


def test_every_figure_is_described(report):
    *_, page = report
    assert "No description has been provided" not in page
    assert page.count("<img") >= 7 and page.count('alt="') >= page.count("<img")
    assert "currency units" not in page
    assert "Choose a panel" not in page  # the explorer lists the brands of the panel in use


def test_client_focus_sentence_recomputed_from_the_households(report):
    _, tables, small, _ = report
    h, bench = tables["households"], tables["bench"]
    client = tables["client"]["client"]
    first = client[0]
    n = first["numbers"]
    gap = (bench["scr_observed"] - bench["scr_expected"]).abs()
    focus = small.get("focus_brand") or gap.idxmax()
    buyers = h[(h["brand"] == focus) & (h["brand_purchases"] > 0)]
    y, x = buyers["brand_purchases"], buyers["category_purchases"]
    ratio = y.sum() / x.sum()
    # the ratio estimate's linearised standard error (Cochran 1977, eq. 6.13)
    se = np.sqrt(((y - ratio * x) ** 2).sum() / (len(y) * (len(y) - 1) * x.mean() ** 2))
    z = stats.norm.ppf(0.5 + small.get("level", 0.95) / 2)
    assert n["households"] == h["household_id"].nunique()
    assert n["purchases"] == h["brand_purchases"].sum()
    assert n["buyers"] == len(buyers)
    assert n["scr"] == pytest.approx(ratio)
    assert (n["scr_low"], n["scr_high"]) == pytest.approx((ratio - z * se, ratio + z * se))
    assert n["scr_expected"] == pytest.approx(bench.loc[focus, "scr_expected"])
    assert n["market_share"] == pytest.approx(observed(h).loc[focus, "market_share"])
    assert f"the {focus} brand has" in first["text"]
    for key, fmt in (("households", ","), ("purchases", ","), ("buyers", ",")):
        client_checks.printed(first, key, fmt)
    for key in ("market_share", "scr", "scr_low", "scr_high", "scr_expected"):
        client_checks.printed(first, key, ".1%")
    inside = n["scr_low"] <= n["scr_expected"] <= n["scr_high"]
    assert ("in line with its size" in first["text"]) == inside


def test_client_pattern_and_apart_sentences(report):
    _, tables, small, _ = report
    obs, bench = observed(tables["households"]), tables["bench"]
    fit_s, apart = tables["client"]["client"][1:3]
    expected = bench.loc[obs.index]
    pen = 100 * (obs["penetration"] - expected["penetration_expected"]).abs().mean()
    freq = (obs["frequency"] - expected["purchase_frequency_expected"]).abs().mean()
    assert fit_s["numbers"]["brands"] == len(obs)
    assert fit_s["numbers"]["pen"] == pytest.approx(pen)
    assert fit_s["numbers"]["freq"] == pytest.approx(freq)
    client_checks.printed(fit_s, "pen", ".1f")
    client_checks.printed(fit_s, "freq", ".1f")
    bad = bench[bench["misfit"]]
    assert apart["numbers"]["apart"] == len(bad)
    for i, (brand, row) in enumerate(bad.iterrows()):
        assert f"{brand} is bought by" in apart["text"]
        assert apart["numbers"][f"pen_{i}"] == pytest.approx(obs.loc[brand, "penetration"])
        for key, col in (("low", "penetration_low"), ("high", "penetration_high")):
            assert apart["numbers"][f"{key}_{i}"] == pytest.approx(row[col])
        assert apart["numbers"][f"freq_{i}"] == pytest.approx(obs.loc[brand, "frequency"])
        for key, fmt in (("pen", ".1%"), ("low", ".1%"), ("high", ".1%"), ("freq", ".1f")):
            client_checks.printed(apart, f"{key}_{i}", fmt)


def test_client_panels_sentence(report):
    _, tables, small, _ = report
    panels, bench = tables["panels"], tables["bench"]
    f = tables["client"]["client"][3]
    n = f["numbers"]
    largest = panels["households"].idxmax()
    assert (n["few"], n["many"]) == (panels["households"].min(), panels["households"].max())
    assert n["best"] == pytest.approx(100 * panels["mad_penetration"].min())
    assert n["worst"] == pytest.approx(100 * panels["mad_penetration"].max())
    assert n["largest_mad"] == pytest.approx(100 * panels.loc[largest, "mad_penetration"])
    named = [b for m in panels["misfits"].fillna("") for b in str(m).split(", ") if b]
    assert n["apart"] == len(named) and n["brands"] == panels["brands"].sum()
    # the panel of this report agrees with its own benchmark table
    own = panels.loc[small.get("panel", "yogurt")]
    assert own["mad_penetration"] == pytest.approx(
        (bench["penetration_observed"] - bench["penetration_expected"]).abs().mean()
    )
    for key, fmt in (("few", ","), ("many", ","), ("best", ".1f"), ("worst", ".1f")):
        client_checks.printed(f, key, fmt)
    assert f"({largest}, " in f["text"]


def test_client_simulated_sentences_and_actions(report):
    _, tables, small, _ = report
    record = tables["client"]
    market, rule = record["client"][4:]
    assert market["simulated"] and rule["simulated"]
    assert "simulated" in market["text"] and "not your data" in market["text"]
    w = tables["wallet"]
    wallets = w.groupby("customer_id")["wallet"].max()
    share_all = w.groupby("firm")["spend"].sum() / wallets.sum()
    n_best = max(int(round(small.get("best_share", 0.2) * len(wallets))), 1)
    best = wallets.sort_values(ascending=False, kind="stable").index[:n_best]
    of_best = w[w["customer_id"].isin(best)].groupby("firm")["spend"].sum() / wallets[best].sum()
    leader = share_all.idxmax()
    other = of_best.drop(index=leader).idxmax()
    n = market["numbers"]
    assert n["leader_market"] == pytest.approx(share_all[leader])
    assert n["leader_best"] == pytest.approx(of_best[leader])
    assert n["other_best"] == pytest.approx(of_best[other])
    assert n["other_market"] == pytest.approx(share_all[other])
    for key in ("leader_market", "leader_best", "other_best", "other_market"):
        client_checks.printed(market, key, ".1%")
    war = (1 - w["rank"] / (w["n_used"] + 1)) * 2 / w["n_used"]
    sat = w["satisfaction"] / w.groupby("customer_id")["satisfaction"].transform("sum")
    assert rule["numbers"]["rule"] == pytest.approx(100 * (war - w["share_of_wallet"]).abs().mean())
    assert rule["numbers"]["sat"] == pytest.approx(100 * (sat - w["share_of_wallet"]).abs().mean())
    client_checks.printed(rule, "rule", ".1f")
    client_checks.printed(rule, "sat", ".1f")
    # on the yogurt panel weight's buyers are within chance of what its size predicts: the
    # only action is to test the simulated results on real data
    first = record["client"][0]["numbers"]
    acted = not first["scr_low"] <= first["scr_expected"] <= first["scr_high"]
    verbs = [a["verb"] for a in record["actions"]]
    assert verbs == (["grow" if first["scr_low"] > first["scr_expected"] else "review"]
                     if acted else []) + ["test"]  # fmt: skip
    test = record["actions"][-1]
    assert test["text"].startswith("Test this on your data") and not test["numbers"]
