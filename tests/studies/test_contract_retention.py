"""crmlab.studies.contract_retention: the sBG and the beta-discrete-Weibull on contract
cohorts. Published sBG estimates (Fader & Hardie 2007), duration dependence recovered on
simulated cohorts with known c (c = 1 is the sBG), the discounted expected lifetime against
its closed form and a brute-force sum, every finding's numbers against the tables, bad
input, and the plot of the curves."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from scipy import integrate, special, stats  # noqa: E402

import crmlab  # noqa: E402
from crmlab import DataError, simulate  # noqa: E402
from crmlab.models.bdw import BetaDiscreteWeibull  # noqa: E402
from crmlab.plots import models as pm  # noqa: E402
from crmlab.plots.alt import alt_text  # noqa: E402
from crmlab.studies import contract_retention as cr  # noqa: E402

PAPER_SBG = {"regular": (0.704, 1.182), "high_end": (0.668, 3.806)}  # Fader & Hardie 2007


@pytest.fixture(scope="module")
def cohorts():
    return crmlab.load_dataset("retention_cohorts")


@pytest.fixture(scope="module")
def study(cohorts):
    return cr.contract_retention_study(cohorts)


def simulated_cohorts(c_values, n=40_000, years=12, seed=5):
    """Cohorts drawn with known c (alpha 0.8, beta 1.4), one column per c."""
    frame = {"year": np.arange(years + 1)}
    for i, (name, c) in enumerate(c_values.items()):
        sim = simulate.subscriptions(n, years, alpha=0.8, beta=1.4, c=c, seed=seed + i)
        frame[name] = sim.alive["alive"].to_numpy()
    return pd.DataFrame(frame)


def test_published_sbg_estimates_and_c_one_nests_the_sbg(study, cohorts):
    for cohort, published in PAPER_SBG.items():
        row = study.estimates.loc[(cohort, "sBG")]
        assert (round(row["alpha"], 3), round(row["beta"], 3)) == published
        assert (row["c"], row["c_se"]) == (1.0, 0.0)
        nested = BetaDiscreteWeibull().fit(cohorts[cohort][:8], fixed={"c": 1.0})
        assert nested.loglik == pytest.approx(row["loglik"], abs=1e-8)
        d = study.duration.loc[cohort]
        assert d["loglik_sbg"] == pytest.approx(row["loglik"], abs=1e-6)
        assert d["loglik_bdw"] == pytest.approx(study.estimates.loc[(cohort, "BdW"), "loglik"])
        assert d["lr"] == pytest.approx(2 * (d["loglik_bdw"] - d["loglik_sbg"]))
        assert d["p_value"] == pytest.approx(stats.chi2.sf(d["lr"], 1))
        assert (d["c_lower"], d["c_upper"]) == pytest.approx(
            (d["c"] - 1.959964 * d["c_se"], d["c"] + 1.959964 * d["c_se"])
        )


def test_calibration_uses_only_the_first_years(cohorts):
    one = cr.contract_retention_study(cohorts, calibration_years=7)
    changed = cohorts.copy()
    changed.loc[changed["year"] > 7, ["regular", "high_end"]] -= 3  # holdout only
    two = cr.contract_retention_study(changed, calibration_years=7)
    pd.testing.assert_frame_equal(one.estimates, two.estimates)
    assert not one.projection["holdout_error"].equals(two.projection["holdout_error"])
    eight = cr.contract_retention_study(cohorts, calibration_years=8)
    assert eight.fits["regular"]["sBG"].extra["periods"] == 8


@pytest.mark.parametrize(
    ("c", "verdict"),
    [
        (1.6, "rises with tenure"),
        (0.6, "falls with tenure"),
        (1.0, "cannot tell each customer's risk of leaving from a constant one"),
    ],
)
def test_duration_dependence_recovered_on_simulated_cohorts(c, verdict):
    frame = simulated_cohorts({"known": c})
    s = cr.contract_retention_study(frame, segments=["known"], simulated=True)
    d = s.duration.loc["known"]
    assert abs(d["c"] - c) < 3 * d["c_se"]
    assert d["c_lower"] < c < d["c_upper"]
    if c == 1.0:
        assert d["p_value"] > 0.05
        sbg = s.estimates.loc[("known", "sBG")]
        for name, value in {"alpha": 0.8, "beta": 1.4}.items():
            assert abs(sbg[name] - value) < 3 * sbg[f"{name}_se"], name
    else:
        assert d["p_value"] < 0.001
    finding = cr.duration_finding(s, "known")
    assert verdict in finding.text and finding.simulated and "simulated" in finding.text


def test_the_bdw_projects_better_where_hazards_change():
    # calibration on 6 years, holdout 6 more: with a rising hazard the sBG drifts off
    s = cr.contract_retention_study(
        simulated_cohorts({"rising": 1.8}, years=12), segments=["rising"], calibration_years=6
    )
    err = s.projection.xs("rising", level="cohort")["holdout_error"]
    assert err["BdW"] < 0.02 < err["sBG"]


def test_curves_are_the_counts_and_the_fitted_survival(study, cohorts):
    curves = study.curves
    for cohort in PAPER_SBG:
        part = curves[curves["cohort"] == cohort].set_index("year")
        counts = cohorts.set_index("year")[cohort]
        np.testing.assert_allclose(part["observed"], counts / counts.iloc[0])
        np.testing.assert_allclose(
            part["observed_retention"].iloc[1:], (counts.iloc[1:] / counts.shift().iloc[1:])
        )
        assert (part["period"] == "holdout").tolist() == (part.index > 7).tolist()
        a, b = study.estimates.loc[(cohort, "sBG"), ["alpha", "beta"]]
        t = part.index.to_numpy()
        np.testing.assert_allclose(
            part["sBG"], np.exp(special.betaln(a, b + t) - special.betaln(a, b)), rtol=1e-9
        )
        a, b, c = study.estimates.loc[(cohort, "BdW"), ["alpha", "beta", "c"]]
        np.testing.assert_allclose(
            part["BdW"], np.exp(special.betaln(a, b + t**c) - special.betaln(a, b)), rtol=1e-9
        )
        # the sBG's aggregate retention rate rises although no customer's rate changes
        a, b = study.estimates.loc[(cohort, "sBG"), ["alpha", "beta"]]
        tt = t[1:]
        np.testing.assert_allclose(
            part["sBG_retention"].iloc[1:], (b + tt - 1) / (a + b + tt - 1), rtol=1e-9
        )
        assert np.all(np.diff(part["sBG_retention"].iloc[1:]) > 0)


def test_projection_table_by_hand(study, cohorts):
    p = study.projection
    for cohort in PAPER_SBG:
        counts = cohorts[cohort].to_numpy(float)
        observed = counts / counts[0]
        for model in cr.MODELS:
            res = study.fits[cohort][model]
            row = p.loc[(cohort, model)]
            s = np.array([float(res.survival(t)) for t in range(13)])
            assert row["holdout_error"] == pytest.approx(
                np.mean(np.abs(s[8:] - observed[8:]) / observed[8:])
            )
            assert row["model_end"] == pytest.approx(s[12])
            assert row["observed_end"] == pytest.approx(observed[12])
            s20 = np.array([float(res.survival(t)) for t in range(21)])
            assert row["survival_horizon"] == pytest.approx(s20[20])
            assert row["retention_horizon"] == pytest.approx(s20[20] / s20[19])
            assert row["expected_years"] == pytest.approx(s20[:20].sum())
            a, c = res.params["alpha"], res.params.get("c", 1.0)
            assert row["finite_mean"] == (a * c > 1)
        # both fits have alpha < 1 for the sBG: an infinite mean lifetime, as the sBG says
        assert study.fits[cohort]["sBG"].expected_lifetime() == np.inf
        assert not p.loc[(cohort, "sBG"), "finite_mean"]


def test_discounted_lifetime_closed_form_and_brute_force(study):
    d = 0.10
    for cohort in PAPER_SBG:
        sbg = study.fits[cohort]["sBG"]
        a, b = sbg.params
        closed = special.hyp2f1(1.0, b, a + b, 1 / (1 + d))  # Fader & Hardie (2010), DEL
        assert cr.discounted_lifetime(sbg, d) == pytest.approx(closed, rel=1e-9)
        assert cr.discounted_lifetime(sbg, d) == pytest.approx(1 + sbg.dert(d), rel=1e-9)
        bdw = study.fits[cohort]["BdW"]
        a, b, c = bdw.params

        def s_theta(th, a=a, b=b, c=c):  # DEL given theta, summed directly, then mixed
            t = np.arange(4000.0)
            return np.sum((1 - th) ** (t**c) / (1 + d) ** t) * stats.beta.pdf(th, a, b)

        brute, _ = integrate.quad(s_theta, 0, 1, limit=200, points=[1e-6, 1e-3, 0.1])
        assert cr.discounted_lifetime(bdw, d) == pytest.approx(brute, rel=1e-6)
        assert study.projection.loc[(cohort, "BdW"), "discounted_lifetime"] == pytest.approx(
            cr.discounted_lifetime(bdw, d)
        )
    with pytest.raises(DataError, match="discount_rate"):
        cr.discounted_lifetime(study.fits["regular"]["sBG"], 0.0)


def test_findings_cite_the_tables(study):
    findings = cr.contract_retention_findings(study)
    assert len(findings) == 6 and not any(f.simulated for f in findings)
    for f in findings:
        assert "Fader & Hardie's" in f.text
    dur = {c: cr.duration_finding(study, c) for c in PAPER_SBG}
    for cohort, f in dur.items():
        d = study.duration.loc[cohort]
        for key in ("c", "c_se", "c_lower", "c_upper", "lr", "p_value"):
            assert f.numbers[key] == d[key]
        assert f"c = {d['c']:.2f}" in f.text and f"p = {d['p_value']:.2g}" in f.text
    assert "cannot tell" in dur["regular"].text and "rises with tenure" in dur["high_end"].text
    high = cr.heterogeneity_finding(study, "high_end")
    curves = study.curves[study.curves["cohort"] == "high_end"].set_index("year")
    assert high.numbers["observed_first"] == curves.loc[1, "observed_retention"]
    assert high.numbers["observed_last"] == curves.loc[7, "observed_retention"]
    assert high.numbers["sbg_last"] == curves.loc[7, "sBG_retention"]
    assert high.numbers["c"] == study.duration.loc["high_end", "c"]
    assert "opposite directions" in high.text
    assert "opposite" not in cr.heterogeneity_finding(study, "regular").text
    proj = cr.projection_finding(study, "high_end")
    p = study.projection.xs("high_end", level="cohort")
    assert proj.numbers["sbg_error"] == p.loc["sBG", "holdout_error"]
    assert proj.numbers["bdw_end"] == p.loc["BdW", "model_end"]
    assert f"{p.loc['BdW', 'holdout_error']:.1%}" in proj.text
    life = cr.lifetime_finding(study, "regular")
    row = study.projection.loc[("regular", "sBG")]
    assert life.numbers["sbg_del"] == row["discounted_lifetime"]
    assert "infinite" in life.text


def test_bad_input_is_named(cohorts):
    with pytest.raises(DataError, match="'premium'"):
        cr.contract_retention_study(cohorts, segments=["premium"])
    with pytest.raises(DataError, match="row 0"):
        cr.contract_retention_study(cohorts.iloc[::-1])
    with pytest.raises(DataError, match="calibration_years"):
        cr.contract_retention_study(cohorts, calibration_years=13)
    with pytest.raises(DataError, match="table with a column 'year'"):
        cr.contract_retention_study(cohorts["regular"])
    rising = cohorts.copy()
    rising.loc[3, "regular"] = 900
    with pytest.raises(DataError, match="rises at position"):
        cr.contract_retention_study(rising)


def test_plot_draws_the_curves_with_holdout_and_alt_text(study):
    fig = pm.retention_curves(study.curves)
    axes = fig.axes
    assert len(axes) == 4
    top = axes[0]
    dots, sbg, bdw = top.get_lines()[:3]
    part = study.curves[study.curves["cohort"] == "regular"]
    np.testing.assert_allclose(dots.get_ydata(), part["observed"])
    np.testing.assert_allclose(bdw.get_ydata(), part["BdW"])
    assert [t.get_text() for t in top.get_legend().get_texts()] == ["Observed", "sBG", "BdW"]
    assert top.get_title() == "Share still active: regular cohort"
    assert fig.axes[3].get_title() == "Retention rate: high-end cohort"
    shaded = [p for p in top.patches if p.get_alpha() == pytest.approx(0.15)]
    assert len(shaded) == 1 and shaded[0].get_x() == pytest.approx(7.5)
    text = alt_text(fig)
    assert "holdout years shaded" in text and "fitted to years 1 to 7" in text
    assert f"{part['observed'].iloc[-1]:.0%} still active" in text
    with pytest.raises(DataError, match="'BdW'"):
        pm.retention_curves(study.curves.drop(columns="BdW"))
    plt.close("all")
