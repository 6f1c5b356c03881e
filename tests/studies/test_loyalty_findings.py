"""The loyalty study's executive summary: each sentence cites the study's own numbers, says
what limits it, and the simulated one says so."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from loyalty_cases import END, ExponentialAlive, constructed

from crmlab.costs import CostModel
from crmlab.studies import SimulationCheck, loyalty_findings, loyalty_profit
from crmlab.studies.loyalty_findings import simulation_finding


@pytest.fixture(scope="module")
def result():
    return loyalty_profit(
        constructed(),
        model=ExponentialAlive(k=10.0),
        costs=CostModel.per_period(0.4, 5.0, 0.5, "W"),
        cohort=("2024-01-01", "2024-03-31"),
        observation_end=END,
        n_boot=20,
        seed=1,
        thresholds=(0.4, 0.5, 0.6),
    )


def _check_table() -> SimulationCheck:
    rows = []
    for world, link, truth, lo, hi in (
        ("independent (link = 0)", 0.0, -0.2, -0.25, -0.15),
        ("linked (link = 1)", 1.0, 0.3, 0.32, 0.40),
    ):
        for seed in (0, 1):
            rows.append(
                {
                    "world": world,
                    "link": link,
                    "seed": seed,
                    "sample": "repeat buyers",
                    "true_pearson": truth + 0.01 * seed,
                    "estimated_pearson": (lo + hi) / 2,
                    "lower": lo,
                    "upper": hi,
                    "interval_covers_truth": lo <= truth + 0.01 * seed <= hi,
                    "imputed_pearson": truth,
                    "imputed_lower": truth - 0.05,
                    "imputed_upper": truth + 0.05,
                    "imputed_covers_truth": True,
                }
            )
    return SimulationCheck(pd.DataFrame(rows))


def test_findings_cite_the_study_and_name_their_limits(result):
    findings = loyalty_findings(result, _check_table())
    texts = [f.text for f in findings]
    assert len(set(texts)) == len(texts)
    assert not any(" stays " in t for t in texts)
    head = findings[0]
    r = result.statistic("pearson")
    assert head.numbers["r"] == r.estimate and head.numbers["n"] == 30
    assert (head.numbers["lower"], head.numbers["upper"]) == (r.lower, r.upper)
    assert "r_true" not in head.numbers  # the stand-in model has no dropout process
    assert "keep (model not refittable)" in head.text
    ties = findings[1]
    assert ties.numbers["one_time"] == ties.numbers["tied"] == 10
    assert f"{ties.numbers['tie_weeks']:.1f} weeks" in ties.text
    seg = result.segments.set_index("segment")
    assert findings[2].numbers["friends"] == seg.loc["True Friends", "share_of_repeat"]
    marketing = findings[4]
    assert marketing.numbers["r0"] == result.statistic("pearson_without_marketing").estimate
    assert "-$0.50 for every week" in marketing.text
    simulated = [f for f in findings if f.simulated]
    assert len(simulated) == 1 and "simulated" in simulated[0].text.lower()
    props = [f for f in findings if f.text.startswith("Proposition")]
    assert len(props) == 4
    for f, row in zip(props, result.propositions.itertuples(), strict=True):
        assert row.caveat in f.text and row.verdict in f.text


def test_sensitivity_sentence_names_the_one_time_buyers_weeks(result):
    findings = loyalty_findings(result)
    f = next(f for f in findings if f.text.startswith("The P(alive) threshold"))
    s = result.sensitivity
    base = s[np.isclose(s["margin"], 0.4) & np.isclose(s["marketing_cost_per_week"], 0.5)]
    low = base.loc[base["pearson_all"].idxmin()]
    assert f.numbers["r_low"] == low["pearson_all"]
    # one-time buyers live 10 ln(1/c) weeks under the stand-in model and pay $0.50 a week
    c = f.numbers["t_low"]
    assert f.numbers["weeks_low"] == pytest.approx(10 * np.log(1 / c), abs=1e-5)
    assert f.numbers["mk_low"] == pytest.approx(0.5 * f.numbers["weeks_low"], abs=1e-4)
    assert not any(f.simulated for f in findings)


def test_simulation_sentence_counts_coverage_per_world():
    f = simulation_finding(_check_table())
    assert f.simulated
    assert f.numbers["covered_0"] == 2 and f.numbers["runs_0"] == 2
    assert f.numbers["covered_1"] == 0 and f.numbers["imputed_covered_1"] == 2
    assert f.numbers["truth_1"] == pytest.approx(0.305)
    assert "linked (link = 1) world" in f.text and "0 of 2" in f.text


def test_no_marketing_and_everyone_cut_together_are_said_so():
    res = loyalty_profit(
        constructed(),
        model=ExponentialAlive(k=10.0),
        costs=CostModel(0.4, 5.0),
        cohort=("2024-01-01", "2024-03-31"),
        observation_end=END,
        one_time_apart=False,
        split=(15.0, "median"),
        n_boot=0,
    )
    findings = loyalty_findings(res)
    assert any(f.text.startswith("No marketing cost is charged") for f in findings)
    ties = findings[1]
    assert "NOT kept apart" in ties.text and "among all customers" in ties.text
    assert findings[0].text.startswith("Among all 40 customers")
