"""Notebook 01 rendered on its small parameters: every number of its executive summary is
recomputed from the exported tables (independently of crmlab) and shown as printed; the
report's figures carry alt text."""

from __future__ import annotations

import json

import client_checks
import pandas as pd
import pytest
import yaml
from statsmodels.stats.proportion import proportion_confint

from crmlab import render

NAME = "customer_pyramid"
TIERS = ["Top", "Big", "Medium", "Small"]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    path = render.list_notebooks()[NAME]
    small = yaml.safe_load((render.NOTEBOOKS_DIR / "test_parameters.yaml").read_text())[NAME]
    out = render.render_report(path, small, tmp_path_factory.mktemp("report"))
    folder = out.folder
    findings = json.loads((folder / "executive_summary.json").read_text(encoding="utf-8"))
    tables = {}
    for prefix, wide, long in (
        ("data", "customer_tiers_by_period", "customer_pyramid_periods"),
        ("sim", "simulated_tiers_by_period", "simulated_pyramid_periods"),
    ):
        tables[prefix] = (
            pd.read_csv(folder / f"{wide}.csv", index_col=0),
            pd.read_csv(folder / f"{long}.csv"),
        )
    tables["client"] = client_checks.load(folder)
    for name in ("pyramid_keep", "pyramid_win_back"):
        tables[name] = pd.read_csv(folder / f"{name}.csv", index_col=0)
    return findings, tables, small, out.html.read_text(encoding="utf-8")


def printed(finding, formats):
    for key, fmt in formats.items():
        shown = format(finding["numbers"][key], fmt)
        assert shown in finding["text"], f"{key}={shown!r} not in {finding['text']!r}"


def revenue(long, period, ids=None):
    rows = long[long["period_end"] == period]
    if ids is not None:
        rows = rows[rows["customer_id"].isin(ids)]
    return rows["revenue"].sum()


def test_summary_has_five_sentences_and_labels_the_simulated_ones(report):
    findings, *_ = report
    assert [f["simulated"] for f in findings] == [False, False, False, True, True]
    for f in findings:
        assert ("simulated" in f["text"]) == f["simulated"]
    assert len({f["text"] for f in findings}) == len(findings)


def test_concentration_sentence(report):
    findings, tables, *_ = report
    wide, long = tables["data"]
    first = wide.columns[0]
    rows = long[long["period_end"] == first]
    n = findings[0]["numbers"]
    assert n["active"] == wide[first].isin(TIERS).sum() == len(rows)
    assert n["top_n"] == (rows["tier"] == "Top").sum()
    assert n["top_share"] == pytest.approx(n["top_n"] / n["active"])
    total = rows["revenue"].sum()
    assert n["top_revenue"] == pytest.approx(
        rows.loc[rows["tier"] == "Top", "revenue"].sum() / total
    )
    upper = rows["tier"] != "Small"
    assert n["upper_n"] == upper.sum()
    assert n["upper_share"] == pytest.approx(upper.mean())
    assert n["upper_revenue"] == pytest.approx(rows.loc[upper, "revenue"].sum() / total)
    printed(
        findings[0],
        {
            "top_n": ",", "active": ",", "top_share": ".1%", "top_revenue": ".1%",
            "upper_n": ",", "upper_share": ".1%", "upper_revenue": ".1%",
        },
    )  # fmt: skip


def test_cohort_sentence(report):
    findings, tables, *_ = report
    wide, long = tables["data"]
    n = findings[1]["numbers"]
    first, last = wide.columns[0], wide.columns[-1]
    assert n["first_active"] == wide[first].isin(TIERS).sum()
    assert n["last_active"] == wide[last].isin(TIERS).sum()
    assert n["kept"] == pytest.approx(n["last_active"] / n["first_active"])
    arrivals = sum(
        (wide[b].notna() & wide[a].isna()).sum()
        for a, b in zip(wide.columns[:-1], wide.columns[1:], strict=True)
    )
    assert n["new"] == arrivals == 0  # CDNOW is a single cohort
    assert findings[1]["text"].startswith("No new customers arrive")
    for key, period in (("first_threshold", first), ("last_threshold", last)):
        rows = long[(long["period_end"] == period) & (long["tier"] == "Top")]
        assert n[key] == pytest.approx(rows["revenue"].min())
    printed(
        findings[1],
        {"first_active": ",", "last_active": ",", "kept": ".1%",
         "first_threshold": ",.2f", "last_threshold": ",.2f"},
    )  # fmt: skip


def check_migration(finding, wide, long, before, after, min_customers):
    n = finding["numbers"]
    t1, t2 = wide[before], wide[after]
    active = t1.isin(TIERS)
    lost = active & (t2 == "Inactive")
    assert n["active"] == active.sum() and n["lost"] == lost.sum()
    assert n["lost_share"] == pytest.approx(lost.sum() / active.sum())
    lost_revenue = revenue(long, before, wide.index[lost])
    assert n["lost_revenue"] == pytest.approx(lost_revenue)
    assert n["lost_pct"] == pytest.approx(lost_revenue / revenue(long, before))
    top, small = t1 == "Top", t1 == "Small"
    assert n["top_n"] == top.sum() and n["bottom_n"] == small.sum()
    assert n["top_stay"] == pytest.approx((top & (t2 == "Top")).sum() / top.sum())
    stopped = (top & (t2 == "Inactive")).sum()
    assert n["top_lost"] == pytest.approx(stopped / top.sum())
    low, high = proportion_confint(stopped, top.sum(), alpha=0.05, method="wilson")
    assert (n["top_lost_low"], n["top_lost_high"]) == pytest.approx((low, high))
    assert n["bottom_lost"] == pytest.approx((small & (t2 == "Inactive")).sum() / small.sum())
    assert n["min_customers"] == min_customers
    flagged = "(fewer than" in finding["text"].split("Top-tier customers")[1][:15]
    assert flagged == (top.sum() < min_customers)
    printed(
        finding,
        {
            "lost": ",", "active": ",", "lost_share": ".1%", "lost_revenue": ",.0f",
            "lost_pct": ".1%", "top_n": ",", "top_stay": ".1%", "top_lost": ".1%",
            "top_lost_low": ".1%", "top_lost_high": ".1%", "bottom_lost": ".1%",
            "bottom_n": ",",
        },
    )  # fmt: skip


def test_migration_sentence_of_the_data(report):
    findings, tables, small, _ = report
    wide, long = tables["data"]
    minimum = small.get("min_customers", 30)
    check_migration(findings[2], wide, long, wide.columns[0], wide.columns[1], minimum)


def test_migration_sentence_of_the_simulated_retailer_flags_a_small_top_tier(report):
    findings, tables, small, _ = report
    wide, long = tables["sim"]
    minimum = small.get("min_customers", 30)
    check_migration(findings[4], wide, long, wide.columns[-2], wide.columns[-1], minimum)
    # with 600 simulated customers the Top tier is far below 30: the sentence says so
    assert "so these shares are rough" in findings[4]["text"]


def test_acquisition_sentence_of_the_simulated_retailer(report):
    findings, tables, *_ = report
    wide, long = tables["sim"]
    before, after = wide.columns[-2], wide.columns[-1]
    t1, t2 = wide[before], wide[after]
    n = findings[3]["numbers"]
    new = t2.isin(TIERS) & t1.isna()
    back = t2.isin(TIERS) & (t1 == "Inactive")
    lost = t1.isin(TIERS) & (t2 == "Inactive")
    assert (n["new"], n["reactivated"], n["lost"]) == (new.sum(), back.sum(), lost.sum())
    assert n["new_revenue"] == pytest.approx(revenue(long, after, wide.index[new]))
    assert n["reactivated_revenue"] == pytest.approx(revenue(long, after, wide.index[back]))
    assert n["lost_revenue"] == pytest.approx(revenue(long, before, wide.index[lost]))
    assert n["growth"] == pytest.approx(revenue(long, after) / revenue(long, before) - 1)
    assert "built into the simulation" in findings[3]["text"]
    printed(
        findings[3],
        {"new_revenue": ",.0f", "new": ",", "reactivated_revenue": ",.0f",
         "reactivated": ",", "lost_revenue": ",.0f", "lost": ",", "growth": "+.1%"},
    )  # fmt: skip


def test_report_states_the_data_and_describes_every_figure(report):
    *_, page = report
    assert "1/10th" not in page
    assert "CDNOW 1/10 sample: 2,357 customers" in page  # the small run reads the sample
    assert "No description has been provided" not in page
    assert page.count("<img") >= 10 and page.count('alt="') >= page.count("<img")
    assert "currency units" not in page
    assert "Not drawn: Inactive" in page  # the first period's empty group, named not drawn


def test_client_summary_recomputed_from_the_period_table(report):
    _, tables, _, _ = report
    wide, _ = tables["data"]
    last, before = wide.columns[-1], wide.columns[-2]
    client = tables["client"]
    latest, lost = client["client"]
    tier_now, tier_then = wide[last], wide[before]
    active_now = tier_now.isin(TIERS)
    assert latest["numbers"]["active"] == active_now.sum()
    assert latest["numbers"]["top_n"] == (tier_now == "Top").sum()
    assert latest["numbers"]["upper_n"] == tier_now.isin(TIERS[:-1]).sum()
    was = tier_then.isin(TIERS)
    gone = tier_now == "Inactive"
    assert lost["numbers"]["prior"] == was.sum() and lost["numbers"]["lost"] == (was & gone).sum()
    top_then = tier_then == "Top"
    k, n = int((top_then & gone).sum()), int(top_then.sum())
    lo, hi = proportion_confint(k, n, alpha=0.05, method="wilson")
    assert lost["numbers"]["top_lost"] == pytest.approx(k / n)
    assert (lost["numbers"]["low"], lost["numbers"]["high"]) == pytest.approx((lo, hi))
    for key, fmt in (("lost", ","), ("prior", ","), ("top_lost", ".0%"), ("low", ".0%")):
        client_checks.printed(lost, key, fmt)
    keep, back = client["actions"]
    listed = tables["pyramid_keep"]
    assert sorted(listed.index) == sorted(wide.index[tier_now == "Top"])
    assert keep["customers"] == len(listed) == latest["numbers"]["top_n"]
    assert keep["value"] == pytest.approx(listed["revenue"].sum())
    assert keep["value"] == pytest.approx(latest["numbers"]["top_money"])
    listed = tables["pyramid_win_back"]
    upper_then = tier_then.isin(TIERS[:-1])
    assert sorted(listed.index) == sorted(wide.index[upper_then & gone])
    assert back["customers"] == len(listed)
    assert back["value"] == pytest.approx(listed["revenue_before"].sum())
    assert "$" + format(back["value"], ",.0f") in back["text"]
