"""Defection reasons: Wilson intervals, exact binomial test of a claim, chi-square by segment."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from crmlab import DataError
from crmlab.defection import compare_segments, reason_shares, test_claim, wilson_interval


def survey(counts: dict[str, int], segment: str | None = None) -> pd.DataFrame:
    reasons = np.repeat(list(counts), list(counts.values()))
    frame = pd.DataFrame({"reason": reasons})
    if segment is not None:
        frame["segment"] = segment
    return frame


def test_wilson_matches_published_value_and_statsmodels():
    lo, hi = wilson_interval(8, 10)
    # Wilson (1927) interval for 8/10 at 95%: 0.4902 to 0.9433 (Newcombe 1998, table I)
    assert lo == pytest.approx(0.4902, abs=1e-4)
    assert hi == pytest.approx(0.9433, abs=1e-4)
    k, n = np.array([0, 3, 50, 99]), np.array([10, 7, 120, 100])
    lo, hi = wilson_interval(k, n, level=0.9)
    ref = proportion_confint(k, n, alpha=0.1, method="wilson")
    np.testing.assert_allclose(lo, ref[0], atol=1e-12)
    np.testing.assert_allclose(hi, ref[1], atol=1e-12)


def test_wilson_rejects_bad_counts():
    with pytest.raises(DataError, match="between 0 and n"):
        wilson_interval(5, 4)
    with pytest.raises(DataError, match="at least 1"):
        wilson_interval(0, 0)
    with pytest.raises(DataError, match="level"):
        wilson_interval(1, 2, level=1.5)


def test_reason_shares_hand_case():
    out = reason_shares(survey({"service": 6, "price": 3, "other": 1}))
    assert list(out["reason"]) == ["service", "price", "other"]
    np.testing.assert_allclose(out["share"], [0.6, 0.3, 0.1])
    assert (out["n"] == 10).all()
    assert out["share"].sum() == pytest.approx(1)
    assert ((out["lower"] <= out["share"]) & (out["share"] <= out["upper"])).all()


def test_reason_shares_by_segment_sums_to_one_per_segment():
    frame = pd.concat([survey({"service": 3, "price": 1}, "A"), survey({"price": 2}, "B")])
    out = reason_shares(frame, by="segment")
    assert out.groupby("segment")["share"].sum().tolist() == pytest.approx([1, 1])
    b = out[out["segment"] == "B"].iloc[0]
    assert (b["reason"], b["count"], b["n"], b["share"]) == ("price", 2, 2, 1.0)


def test_claim_pvalue_equals_brute_force_binomial_sum():
    frame = survey({"service": 50, "product": 30, "price": 20})
    res = test_claim(frame, category="service", claimed=2 / 3)
    pmf = stats.binom.pmf(np.arange(101), 100, 2 / 3)
    brute = pmf[pmf <= pmf[50] * (1 + 1e-7)].sum()
    assert res.count == 50 and res.n == 100 and res.observed == 0.5
    assert res.p_value == pytest.approx(brute, rel=1e-9)
    assert res.rejected()
    assert res.lower < 0.5 < res.upper < 2 / 3


def test_claim_not_rejected_when_true_in_simulation(rng):
    reasons = rng.choice(["service", "price"], size=600, p=[2 / 3, 1 / 3])
    res = test_claim(pd.DataFrame({"reason": reasons}))
    assert not res.rejected()
    assert res.lower < 2 / 3 < res.upper


def test_claim_errors():
    frame = survey({"service": 2, "price": 1})
    with pytest.raises(DataError, match="claimed"):
        test_claim(frame, claimed=1.2)
    with pytest.raises(DataError, match="never occurs"):
        test_claim(frame, category="Service ")
    with pytest.raises(DataError, match="lacks column"):
        test_claim(frame, reason="why")
    with pytest.raises(DataError, match="missing value, first at row 2"):
        test_claim(pd.DataFrame({"reason": ["service", None]}))


def test_compare_segments_hand_computed_2x2():
    frame = pd.concat(
        [
            survey({"service": 10, "price": 20}, "A"),
            survey({"service": 20, "price": 10}, "B"),
        ]
    )
    res = compare_segments(frame)
    # chi2 = n (ad - bc)^2 / (r1 r2 c1 c2) = 60 * 300^2 / 30^4
    assert res.chi2 == pytest.approx(60 * 300**2 / 30**4)
    assert res.dof == 1
    assert res.cramers_v == pytest.approx(np.sqrt(res.chi2 / 60))
    assert res.cramers_v == pytest.approx(1 / 3)
    assert res.min_expected == 15
    assert res.p_value == pytest.approx(stats.chi2.sf(20 / 3, 1))


def test_compare_segments_detects_simulated_difference(rng):
    a = rng.choice(["service", "price", "product"], 800, p=[0.6, 0.2, 0.2])
    b = rng.choice(["service", "price", "product"], 800, p=[0.3, 0.5, 0.2])
    same = rng.choice(["service", "price", "product"], 800, p=[0.6, 0.2, 0.2])
    diff = pd.DataFrame({"reason": np.r_[a, b], "segment": ["a"] * 800 + ["b"] * 800})
    null = pd.DataFrame({"reason": np.r_[a, same], "segment": ["a"] * 800 + ["b"] * 800})
    assert compare_segments(diff).p_value < 1e-6
    assert compare_segments(diff).cramers_v > 0.2
    assert compare_segments(null).p_value > 0.01


def test_compare_segments_needs_two_by_two():
    with pytest.raises(DataError, match="at least 2 segments"):
        compare_segments(survey({"service": 2, "price": 2}, "A"))


def test_messages_show_numpy_values_plainly():
    frame = pd.DataFrame({"reason": ["a", None]}, index=pd.Index(np.array([10, 11])))
    with pytest.raises(DataError, match=r"first at row 2 \(index 11\)"):
        reason_shares(frame)


# --------------------------------------------------------- power and survey size


def test_exact_pvalues_equal_scipy_binomtest_for_every_outcome():
    from crmlab.defection import _two_sided_pvalues

    for n, claimed in ((1, 0.5), (10, 2 / 3), (37, 2 / 3), (50, 0.3), (73, 0.6667)):
        brute = [stats.binomtest(k, n, claimed).pvalue for k in range(n + 1)]
        assert _two_sided_pvalues(n, claimed) == pytest.approx(brute, rel=1e-9, abs=1e-15)


def test_power_is_the_rejection_probability_brute_force_and_by_simulation(rng):
    from crmlab.defection import claim_power

    for n in (5, 30, 73):
        reject = [k for k in range(n + 1) if stats.binomtest(k, n, 2 / 3).pvalue < 0.05]
        assert claim_power(n) == pytest.approx(stats.binom.pmf(reject, n, 0.5).sum(), abs=1e-12)
    # Monte Carlo: 4,000 surveys of 73 former customers whose true service share is 1/2
    counts = rng.binomial(73, 0.5, size=4000)
    rejected = np.mean([stats.binomtest(int(k), 73, 2 / 3).pvalue < 0.05 for k in counts])
    assert rejected == pytest.approx(claim_power(73), abs=0.02)
    # vectorised over n; no power at all when the truth is the claim's own share... below alpha
    assert claim_power(np.array([10, 20])).shape == (2,)
    assert claim_power(200, true_share=2 / 3) < 0.05


def test_sample_size_is_past_the_last_dip_and_agrees_with_the_normal_formula():
    from crmlab.defection import claim_power, claim_sample_size, power_curve

    design = claim_sample_size(claimed=2 / 3, true_share=0.5, alpha=0.05, power=0.8)
    assert design.n == 73
    # hand: ((1.96 * sqrt(2/9) + 0.8416 * 0.5) / (1/6))^2 = 65.1 -> 66
    assert design.n_normal == 66
    powers = claim_power(np.arange(design.n, 4 * design.n_normal + 51))
    assert powers.min() >= 0.8 and design.achieved == pytest.approx(powers[0])
    assert claim_power(design.n - 1) < 0.8  # the saw-tooth dips just below n
    assert claim_power(66) > 0.8  # ... even though a smaller n already reached the target once
    curve = power_curve(10)
    assert list(curve["respondents"]) == list(range(1, 11))
    assert curve["power"].to_numpy() == pytest.approx(claim_power(np.arange(1, 11)))
    assert claim_sample_size(power=0.9).n > design.n


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"claimed": 1.2}, "claimed"),
        ({"true_share": -0.1}, "true_share"),
        ({"alpha": 0}, "alpha"),
        ({"power": 1.0}, "power"),
        ({"claimed": 0.5, "true_share": 0.5}, "itself"),
    ],
)
def test_sample_size_bad_designs_are_named(kwargs, message):
    from crmlab.defection import claim_sample_size

    with pytest.raises(DataError, match=message):
        claim_sample_size(**kwargs)


def test_power_needs_whole_respondents():
    from crmlab.defection import claim_power, power_curve

    with pytest.raises(DataError, match="whole numbers"):
        claim_power(2.5)
    with pytest.raises(DataError, match="whole numbers"):
        claim_power(0)
    with pytest.raises(DataError, match="max_n"):
        power_curve(0)


# --------------------------------------------------------------------- findings


def _findings(counts_a, counts_b, true_share):
    from crmlab.defection import claim_sample_size, defection_findings

    data = pd.concat([survey(counts_a, "a"), survey(counts_b, "b")], ignore_index=True)
    claim = test_claim(data, claimed=2 / 3)
    comparison = compare_segments(data)
    design = claim_sample_size()
    return (
        claim,
        comparison,
        design,
        defection_findings(claim, comparison, design, true_share=true_share),
    )


def test_defection_findings_cite_the_tests_and_say_the_answer_is_simulated():
    claim, comparison, design, found = _findings(
        {"service": 100, "price": 100}, {"service": 160, "price": 40}, 0.6
    )
    first, size, segments = found
    assert first.simulated and segments.simulated and not size.simulated
    assert first.numbers["observed"] == claim.observed == 260 / 400
    assert first.numbers["p_value"] == claim.p_value
    assert (first.numbers["lower"], first.numbers["upper"]) == (claim.lower, claim.upper)
    assert "built into the simulation, whose true share is 60.0%" in first.text
    assert "does not reject" in first.text  # 65% of 400 is consistent with 2/3
    assert f"{claim.lower:.1%} to {claim.upper:.1%}" in first.text
    assert size.numbers["n_needed"] == design.n == 73
    assert "73 randomly chosen former customers" in size.text
    assert segments.numbers["cramers_v"] == comparison.cramers_v
    assert "segments leave for different reasons" in segments.text
    assert f"{comparison.cramers_v:.2f}" in segments.text


def test_defection_findings_on_a_real_survey_claim_nothing_simulated():
    _, _, _, found = _findings(
        {"service": 50, "price": 50}, {"service": 52, "price": 48, "other": 2}, None
    )
    first, _, segments = found
    assert not any(f.simulated for f in found)
    assert "simulat" not in " ".join(f.text.lower() for f in found)
    assert "rejects the claimed share of 66.7%" in first.text
    assert "stated reasons" in first.text
    assert segments.text.startswith("The survey shows no difference")
    assert "smallest expected count" in segments.text  # "other": 2 in 202 answers
    assert segments.numbers["min_expected"] < 5


def test_defection_client_says_simulated_and_asks_for_a_real_survey():
    from client_checks import check_plain

    from crmlab.defection import claim_sample_size, defection_client

    answers = survey({"service": 45, "price": 30, "product": 25})
    claim = test_claim(answers, category="service", claimed=2 / 3)
    design = claim_sample_size(claimed=2 / 3, true_share=0.5, alpha=0.05, power=0.8)
    client, actions = defection_client(claim, design, true_share=0.45)
    (finding,) = client
    assert finding.simulated and "simulated" in finding.text
    lo, hi = stats.binomtest(45, 100).proportion_ci(0.95, method="exact")
    assert finding.numbers["observed"] == pytest.approx(0.45)
    assert finding.numbers["lower"] == pytest.approx(lo) and finding.numbers["upper"] == hi
    assert "between 35% and 55%" in finding.text and "45% of 100 former customers" in finding.text
    (action,) = actions
    assert action.verb == "test" and action.customers == design.n and action.value is None
    assert f"at least {design.n:,} former customers" in action.text
    for text in (finding.text, action.text):
        check_plain(text)


def test_defection_client_on_a_real_survey_says_how_many_more_answers():
    from crmlab.defection import claim_sample_size, defection_client

    answers = survey({"service": 20, "price": 10})
    claim = test_claim(answers, category="service", claimed=2 / 3)
    design = claim_sample_size(claimed=2 / 3, true_share=0.5, alpha=0.05, power=0.8)
    client, (action,) = defection_client(claim, design)
    assert not client[0].simulated and "not proven causes" in client[0].text
    assert action.numbers["more"] == design.n - 30 > 0
    assert action.text.startswith(f"Survey {design.n - 30:,} more former customers")
    big = test_claim(survey({"service": 300, "price": 200}), category="service")
    _, (enough,) = defection_client(big, design)
    assert enough.numbers["more"] == 0 and enough.text.startswith("Keep the exit survey")
