"""Notebook 06 rendered on its small parameters: every number of its executive summary is
recomputed from the exported tables, independently of crmlab, and shown as printed. The
contract-retention sentences are recomputed from the exported cohort counts by maximum
likelihood written here (scipy, and statsmodels' numerical Hessian for the errors)."""

from __future__ import annotations

import json

import client_checks
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import yaml
from scipy import optimize, special, stats
from statsmodels.stats.proportion import proportion_confint
from statsmodels.tools.numdiff import approx_hess3

from crmlab import render

NAME = "relationships_and_defection"
TABLES = (
    "breadth_customers",
    "breadth_customers_control",
    "cross_buying",
    "defection_survey",
    "claim_power",
    "delivered_value",
    "delivered_value_sensitivity",
    "retention_cohorts",
    "retention_estimates",
    "retention_duration_test",
    "retention_curves",
    "retention_projection",
)
COHORTS = ("regular", "high_end")


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    path = render.list_notebooks()[NAME]
    small = yaml.safe_load((render.NOTEBOOKS_DIR / "test_parameters.yaml").read_text())[NAME]
    out = render.render_report(path, small, tmp_path_factory.mktemp("report"))
    params = {k: p.default for k, p in render.notebook_parameters(path).items()} | small
    findings = json.loads((out.folder / "executive_summary.json").read_text(encoding="utf-8"))
    tables = {name: pd.read_csv(out.folder / f"{name}.csv") for name in TABLES}
    tables["client"] = client_checks.load(out.folder)
    return findings, tables, params


def find(findings, words):
    hits = [f for f in findings if words in f["text"]]
    assert len(hits) == 1, f"{words!r} in {len(hits)} findings"
    return hits[0]


def printed(finding, key, fmt):
    assert format(finding["numbers"][key], fmt) in finding["text"], (key, finding["text"])


def logit(frame, *columns):
    x = sm.add_constant(np.column_stack(columns), has_constant="add")
    return sm.Logit(frame["retained"].to_numpy(), x).fit(disp=0)


def test_every_sentence_is_labelled_simulated_except_the_design_assumptions_and_cohorts(report):
    findings, _, _ = report
    for f in findings:
        plain = "real exit survey" in f["text"] or "assumed component values" in f["text"]
        plain = plain or "Fader & Hardie's" in f["text"]  # published cohort counts
        assert f["simulated"] is (not plain), f["text"]
        assert ("simulat" in f["text"].lower()) or plain


def test_odds_ratio_per_employee(report):
    findings, t, _ = report
    c = t["breadth_customers"]
    fit = logit(c, c["n_employees"])
    f = find(findings, "multiplies the odds of staying")
    assert f["numbers"]["odds_ratio"] == pytest.approx(np.exp(fit.params[1]), rel=1e-6)
    lo, hi = np.exp(fit.conf_int()[1])
    assert f["numbers"]["lower"] == pytest.approx(lo, rel=1e-6)
    assert f["numbers"]["upper"] == pytest.approx(hi, rel=1e-6)
    assert f["numbers"]["n"] == len(c)
    for key in ("odds_ratio", "lower", "upper"):
        printed(f, key, ".2f")


def test_attachment_sentence_is_the_likelihood_ratio_test(report):
    findings, t, params = report
    f = find(findings, "attachment is not observed")
    knot = params["threshold"]
    for table, key in (("breadth_customers", "p_value"), ("breadth_customers_control", None)):
        c = t[table]
        x = c["n_employees"].to_numpy(float)
        straight, kinked = logit(c, x), logit(c, x, np.maximum(x - knot, 0))
        p = stats.chi2.sf(2 * (kinked.llf - straight.llf), 1)
        assert f["numbers"][key or "control_p_value"] == pytest.approx(p, rel=1e-4)
        printed(f, key or "control_p_value", ".2g")
        if key:
            assert f["numbers"]["below"] == pytest.approx(kinked.params[1], rel=1e-5)
            above = kinked.params[1] + kinked.params[2]
            assert f["numbers"]["above"] == pytest.approx(above, rel=1e-4, abs=1e-8)
            printed(f, "below", ".2f")


def test_small_breadth_groups_are_named_with_n_and_the_minimum(report):
    findings, t, params = report
    counts = t["breadth_customers"]["n_employees"].value_counts().sort_index()
    small = counts[counts < params["min_group"]]
    flagged = [f for f in findings if "rests on fewer than" in f["text"]]
    assert len(flagged) == (1 if len(small) else 0)
    if len(small):
        f = flagged[0]
        assert f["numbers"]["min_group"] == params["min_group"]
        for level, n in small.items():
            assert f"{level} employees (n = {n:,})" in f["text"]


def test_cross_buying_sentence(report):
    findings, t, params = report
    c = t["breadth_customers"]
    g = c.groupby("n_lines").agg(n=("retained", "size"), k=("retained", "sum"), v=("value", "mean"))
    big = g[g["n"] >= params["min_group"]]
    f = find(findings, "product lines")
    n = f["numbers"]
    assert (n["one"], n["top"]) == (big.index[0], big.index[-1])
    assert n["n_top"] == big["n"].iloc[-1] and n["n_one"] == big["n"].iloc[0]
    assert n["ratio"] == pytest.approx(big["v"].iloc[-1] / big["v"].iloc[0])
    assert n["value_top"] == pytest.approx(big["v"].iloc[-1])
    for key, row in (("top", big.iloc[-1]), ("one", big.iloc[0])):
        lo, hi = proportion_confint(row["k"], row["n"], method="wilson")
        assert n[f"r_{key}"] == pytest.approx(row["k"] / row["n"])
        assert (n[f"lo_{key}"], n[f"hi_{key}"]) == pytest.approx((lo, hi))
        printed(f, f"r_{key}", ".0%")
    printed(f, "ratio", ".1f")
    assert f"${n['value_one']:,.0f}" in f["text"]
    for level, size in g.loc[g.index > big.index[-1], "n"].items():
        assert f"{level} lines (n = {size:,})" in f["text"]
    # the exported per-line table agrees with the customers
    assert t["cross_buying"]["customers"].tolist() == g["n"].tolist()


def test_claim_sentence_and_the_truth_built_in(report):
    findings, t, _ = report
    s = t["defection_survey"]
    k, n = int((s["reason"] == "service").sum()), len(s)
    res = stats.binomtest(k, n, 0.6667)
    ci = res.proportion_ci(method="exact")
    f = find(findings, "former customers named service")
    assert f["numbers"]["observed"] == pytest.approx(k / n) and f["numbers"]["n"] == n
    assert f["numbers"]["p_value"] == pytest.approx(res.pvalue, rel=1e-9)
    assert (f["numbers"]["lower"], f["numbers"]["upper"]) == pytest.approx((ci.low, ci.high))
    # the simulator's documented truth: 55% consumers x 50% + 30% small x 58% + 15% corporate x 65%
    assert f["numbers"]["true_share"] == pytest.approx(0.55 * 0.50 + 0.30 * 0.58 + 0.15 * 0.65)
    assert "built into the simulation" in f["text"]
    for key in ("observed", "lower", "upper", "true_share"):
        printed(f, key, ".1%")
    verdict = "rejects" if res.pvalue < 0.05 else "does not reject"
    assert f"test {verdict} the claimed share" in f["text"]


def test_survey_size_needed_by_brute_force(report):
    findings, t, params = report
    f = find(findings, "real exit survey")
    needed = f["numbers"]["n_needed"]
    p0, p1 = params["claimed_service_share"], params["alternative_service_share"]

    def power(m):
        reject = [k for k in range(m + 1) if stats.binomtest(k, m, p0).pvalue < params["alpha"]]
        return stats.binom.pmf(reject, m, p1).sum()

    curve = t["claim_power"]
    assert curve["respondents"].max() == 2 * needed
    sizes = curve["respondents"].to_numpy()
    brute = np.array([power(int(m)) for m in sizes])
    assert curve["power"].to_numpy() == pytest.approx(brute, abs=1e-10)
    assert brute[sizes >= needed].min() >= params["target_power"]
    assert brute[sizes == needed - 1][0] < params["target_power"]
    assert f["numbers"]["power"] == params["target_power"]
    assert f"at least {needed:,} randomly chosen" in f["text"]


def test_segment_sentence(report):
    findings, t, _ = report
    s = t["defection_survey"]
    table = pd.crosstab(s["segment"], s["reason"])
    chi2, p, dof, _ = stats.chi2_contingency(table.to_numpy(), correction=False)
    v = np.sqrt(chi2 / (table.to_numpy().sum() * (min(table.shape) - 1)))
    f = find(findings, "Cramér's V")
    assert f["numbers"]["chi2"] == pytest.approx(chi2) and f["numbers"]["dof"] == dof
    assert f["numbers"]["p_value"] == pytest.approx(p, rel=1e-6)
    assert f["numbers"]["cramers_v"] == pytest.approx(v)
    printed(f, "cramers_v", ".2f")
    printed(f, "chi2", ".1f")


def test_delivered_value_sentence(report):
    findings, t, params = report
    d = t["delivered_value"].set_index("offer")
    value = d[["product", "service", "personnel", "image"]].sum(axis=1)
    cost = d[["money", "time", "energy", "psychic"]].sum(axis=1)
    dv = value - cost
    ours = params["offer_names"][0]
    f = find(findings, "assumed component values")
    assert f["numbers"]["best_value"] == pytest.approx(dv.max())
    assert f["numbers"]["ours"] == pytest.approx(dv[ours])
    assert f["numbers"]["gap"] == pytest.approx(abs(dv[ours] - dv.drop(ours).max()))
    components = d.loc[ours, ["product", "service", "personnel", "image"] + ["money", "time"]]
    components = pd.concat([components, d.loc[ours, ["energy", "psychic"]]])
    assert f["numbers"]["swing"] == pytest.approx(
        2 * params["sensitivity_change"] * components.max()
    )
    assert f"{dv.idxmax()} delivers the most value" in f["text"]
    assert f"${f['numbers']['swing']:,.0f}" in f["text"]
    assert t["delivered_value_sensitivity"]["swing"].iloc[0] == pytest.approx(f["numbers"]["swing"])


def test_client_summary_says_simulated_and_recommends_only_tests(report):
    findings, t, params = report
    client = t["client"]
    breadth, reasons, offer = client["client"]
    assert breadth["simulated"] and reasons["simulated"] and not offer["simulated"]
    assert "simulated" in breadth["text"] and "simulated" in reasons["text"]
    assert "assumed values" in offer["text"]
    # nothing is recommended on simulated results but to test them on real data
    assert [a["verb"] for a in client["actions"]] == ["test"] * 3
    c = t["breadth_customers"]
    knot = params["threshold"]
    for key, mask in (("one", c["n_employees"] == 1), ("wide", c["n_employees"] >= knot)):
        k, n = int(c.loc[mask, "retained"].sum()), int(mask.sum())
        lo, hi = proportion_confint(k, n, alpha=0.05, method="wilson")
        assert breadth["numbers"][f"n_{key}"] == n
        assert breadth["numbers"][key] == pytest.approx(k / n)
        assert breadth["numbers"][f"{key}_lo"] == pytest.approx(lo)
        assert breadth["numbers"][f"{key}_hi"] == pytest.approx(hi)
        for name in (key, f"{key}_lo", f"{key}_hi"):
            client_checks.printed(breadth, name, ".0%")
    s = t["defection_survey"]
    k, n = int((s["reason"] == "service").sum()), len(s)
    ci = stats.binomtest(k, n, 0.6667).proportion_ci(method="exact")
    assert reasons["numbers"]["observed"] == pytest.approx(k / n) and reasons["numbers"]["n"] == n
    assert (reasons["numbers"]["lower"], reasons["numbers"]["upper"]) == pytest.approx(
        (ci.low, ci.high)
    )
    for name in ("observed", "lower", "upper"):
        client_checks.printed(reasons, name, ".0%")
    survey = client["actions"][1]
    needed = find(findings, "real exit survey")["numbers"]["n_needed"]
    assert survey["customers"] == needed == t["claim_power"]["respondents"].max() // 2
    assert f"at least {needed:,} former customers" in survey["text"]
    d = t["delivered_value"].set_index("offer")
    dv = d[["product", "service", "personnel", "image"]].sum(axis=1) - d[
        ["money", "time", "energy", "psychic"]
    ].sum(axis=1)
    ours = params["offer_names"][0]
    assert offer["numbers"]["ours"] == pytest.approx(dv[ours])
    assert offer["numbers"]["rival_value"] == pytest.approx(dv.drop(ours).max())
    assert offer["numbers"]["swing"] == pytest.approx(
        t["delivered_value_sensitivity"]["swing"].iloc[0]
    )
    client_checks.printed(offer, "ours", ",.0f")


# --- section 5: contractual retention on Fader & Hardie's cohorts --------------------------


def bdw_loglik(params, counts):
    """Log-likelihood of survivor counts under S(t) = B(a, b + t^c) / B(a, b) (c = 1: sBG)."""
    a, b, c = params
    t = np.arange(len(counts), dtype=float)
    s = np.exp(special.betaln(a, b + t**c) - special.betaln(a, b))
    lost = counts[:-1] - counts[1:]
    return lost @ np.log(s[:-1] - s[1:]) + counts[-1] * np.log(s[-1])


def ml_fit(counts, free_c):
    """Maximum likelihood in log-parameters (Nelder-Mead), standard errors from the
    observed information in the natural parameters."""

    def full(x):
        return np.exp(x) if free_c else np.append(np.exp(x), 1.0)

    start = np.zeros(3 if free_c else 2)
    res = optimize.minimize(
        lambda x: -bdw_loglik(full(x), counts),
        start,
        method="Nelder-Mead",
        options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20_000, "maxfev": 40_000},
    )
    est = np.exp(res.x)
    k = len(est)

    def ll(theta):
        return bdw_loglik(theta if free_c else np.append(theta, 1.0), counts)

    cov = np.linalg.inv(-approx_hess3(est, ll))
    return est[:k], np.sqrt(np.diag(cov)), -res.fun


@pytest.fixture(scope="module")
def cohort_fits(report):
    _, t, params = report
    calibration = params["calibration_years"]
    counts = t["retention_cohorts"].set_index("year")
    fits = {}
    for cohort in COHORTS:
        calib = counts[cohort].to_numpy(float)[: calibration + 1]
        fits[cohort] = {"sBG": ml_fit(calib, False), "BdW": ml_fit(calib, True)}
    return counts, fits, calibration


def test_cohort_counts_are_fader_and_hardie_table(report):
    _, t, _ = report
    counts = t["retention_cohorts"].set_index("year")
    assert counts.index.tolist() == list(range(13))
    assert counts.loc[[0, 1, 7, 12], "regular"].tolist() == [1000, 631, 241, 173]
    assert counts.loc[[0, 1, 7, 12], "high_end"].tolist() == [1000, 869, 491, 394]


def test_estimates_with_standard_errors(report, cohort_fits):
    _, t, _ = report
    _, fits, _ = cohort_fits
    est = t["retention_estimates"].set_index(["cohort", "model"])
    for cohort in COHORTS:
        for model, (values, se, ll) in fits[cohort].items():
            row = est.loc[(cohort, model)]
            names = ["alpha", "beta", "c"][: len(values)]
            assert row[names].to_numpy(float) == pytest.approx(values, rel=1e-4)
            assert row[[f"{n}_se" for n in names]].to_numpy(float) == pytest.approx(se, rel=1e-3)
            assert row["loglik"] == pytest.approx(ll, abs=1e-6)
    # the sBG rows are Fader & Hardie's (2007) published estimates
    assert est.loc[("regular", "sBG"), ["alpha", "beta"]].round(3).tolist() == [0.704, 1.182]
    assert est.loc[("high_end", "sBG"), ["alpha", "beta"]].round(3).tolist() == [0.668, 3.806]


def test_duration_dependence_sentences(report, cohort_fits):
    findings, t, params = report
    _, fits, calibration = cohort_fits
    for cohort, name in (("regular", "regular"), ("high_end", "high-end")):
        f = find(findings, f"Hardie's {name} cohort (BdW fitted to years 1-{calibration})")
        (_, _, c), (_, _, c_se), ll_bdw = fits[cohort]["BdW"]
        lr = 2 * (ll_bdw - fits[cohort]["sBG"][2])
        p = stats.chi2.sf(lr, 1)
        n = f["numbers"]
        assert n["c"] == pytest.approx(c, rel=1e-4) and n["c_se"] == pytest.approx(c_se, rel=1e-3)
        assert n["lr"] == pytest.approx(lr, rel=1e-5) and n["p_value"] == pytest.approx(p, rel=1e-4)
        z = stats.norm.ppf(1 - params["alpha"] / 2)
        assert (n["c_lower"], n["c_upper"]) == pytest.approx((c - z * c_se, c + z * c_se), rel=1e-3)
        for key, fmt in (("c", ".2f"), ("c_se", ".2f"), ("lr", ".1f"), ("p_value", ".2g")):
            printed(f, key, fmt)
        if p >= params["alpha"]:
            assert "cannot tell" in f["text"]
        else:
            assert ("rises" if c > 1 else "falls") + " with tenure" in f["text"]
    # on these data: the regular cohort cannot tell c from 1, the high-end one asks for c > 1
    d = t["retention_duration_test"].set_index("cohort")
    assert d.loc["regular", "p_value"] > 0.05 and d.loc["regular", "c_lower"] < 1
    assert d.loc["high_end", "p_value"] < 0.01 and d.loc["high_end", "c"] > 1


def test_heterogeneity_sentences(report, cohort_fits):
    findings, _, params = report
    counts, fits, calibration = cohort_fits
    for cohort, name in (("regular", "regular"), ("high_end", "high-end")):
        f = find(findings, f"In Fader & Hardie's {name} cohort the share of customers who renew")
        n = counts[cohort].to_numpy(float)
        (a, b), _, _ = fits[cohort]["sBG"]
        assert f["numbers"]["observed_first"] == pytest.approx(n[1] / n[0])
        assert f["numbers"]["observed_last"] == pytest.approx(n[calibration] / n[calibration - 1])
        assert f["numbers"]["sbg_first"] == pytest.approx(b / (a + b), rel=1e-4)
        last = (b + calibration - 1) / (a + b + calibration - 1)
        assert f["numbers"]["sbg_last"] == pytest.approx(last, rel=1e-4)
        for key in ("observed_first", "observed_last", "sbg_first", "sbg_last"):
            printed(f, key, ".0%")
        assert ("opposite directions" in f["text"]) == (cohort == "high_end")


def test_projection_sentences_and_lifetimes(report, cohort_fits):
    findings, t, params = report
    counts, fits, calibration = cohort_fits
    proj = t["retention_projection"].set_index(["cohort", "model"])
    horizon, d = params["retention_horizon"], params["retention_discount_rate"]
    for cohort, name in (("regular", "regular"), ("high_end", "high-end")):
        f = find(findings, f"still active in Fader & Hardie's {name} cohort")
        n = counts[cohort].to_numpy(float)
        observed = n / n[0]
        years = np.arange(len(n), dtype=float)
        for model in ("sBG", "BdW"):
            values = fits[cohort][model][0]
            a, b, c = (*values, 1.0)[:3]

            def surv(t, a=a, b=b, c=c):
                return np.exp(special.betaln(a, b + t**c) - special.betaln(a, b))

            s = surv(years)
            hold = years > calibration
            error = np.mean(np.abs(s[hold] - observed[hold]) / observed[hold])
            key = model.lower()
            assert f["numbers"][f"{key}_error"] == pytest.approx(error, rel=1e-3)
            assert f["numbers"][f"{key}_end"] == pytest.approx(s[-1], rel=1e-4)
            printed(f, f"{key}_error", ".1%")
            printed(f, f"{key}_end", ".1%")
            # the section's table: expected years in the horizon and the discounted lifetime
            row = proj.loc[(cohort, model)]
            assert row["expected_years"] == pytest.approx(surv(np.arange(horizon)).sum(), rel=1e-4)
            tt = np.arange(3000.0)
            assert row["discounted_lifetime"] == pytest.approx(
                np.sum(surv(tt) / (1 + d) ** tt), rel=1e-4
            )
            assert bool(row["finite_mean"]) == (a * c > 1)
        assert f["numbers"]["observed_end"] == pytest.approx(observed[-1])
        printed(f, "observed_end", ".1%")


def test_retention_curves_export_matches_the_counts(report, cohort_fits):
    _, t, _ = report
    counts, _, calibration = cohort_fits
    curves = t["retention_curves"]
    for cohort in COHORTS:
        part = curves[curves["cohort"] == cohort].set_index("year")
        n = counts[cohort]
        assert part["observed"].to_numpy() == pytest.approx((n / n.iloc[0]).to_numpy())
        assert (part["period"] == "holdout").tolist() == (part.index > calibration).tolist()
