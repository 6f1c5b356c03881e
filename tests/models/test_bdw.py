"""Beta-discrete-Weibull (Fader, Hardie, Liu, Davin & Steenburgh 2018)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

import crmlab
from crmlab.models import ShiftedBetaGeometric
from crmlab.models.bdw import BetaDiscreteWeibull, duration_dependence
from crmlab.models.sbg import contracts_from_cohorts

PAPER_SBG = {"regular": (0.704, 1.182), "high_end": (0.668, 3.806)}  # Fader & Hardie 2007


@pytest.fixture(scope="module")
def cohorts():
    return crmlab.load_dataset("retention_cohorts")


@pytest.mark.parametrize("segment", ["regular", "high_end"])
def test_c_equal_one_reproduces_the_sbg_exactly(cohorts, segment):
    counts = cohorts[segment][:8]
    bdw = BetaDiscreteWeibull().fit(counts, fixed={"c": 1.0})
    sbg = ShiftedBetaGeometric().fit(counts)
    assert tuple(bdw.params[["alpha", "beta"]].round(3)) == PAPER_SBG[segment]
    np.testing.assert_allclose(bdw.params[["alpha", "beta"]], sbg.params, rtol=1e-6)
    assert bdw.loglik == pytest.approx(sbg.loglik, abs=1e-8)
    np.testing.assert_allclose(bdw.survival(np.arange(13)), sbg.survival(np.arange(13)), rtol=1e-7)


def test_survival_matches_integration_over_the_beta_mixing(cohorts):
    res = BetaDiscreteWeibull().fit(cohorts["high_end"][:8])
    a, b, c = res.params
    for t in (1, 3, 7, 12):
        brute, _ = integrate.quad(
            lambda th, t=t: (1 - th) ** (t**c) * stats.beta.pdf(th, a, b), 0, 1
        )
        assert float(res.survival(t)) == pytest.approx(brute, rel=1e-7)
    # the likelihood is the multinomial of churn periods and survivors
    counts = np.asarray(cohorts["high_end"][:8], dtype=float)
    s = res.survival(np.arange(8))
    manual = (counts[:-1] - counts[1:]) @ np.log(s[:-1] - s[1:]) + counts[-1] * np.log(s[-1])
    assert res.loglik == pytest.approx(manual, rel=1e-10)


def test_duration_dependence_on_the_bundled_cohorts(cohorts):
    regular = duration_dependence(cohorts["regular"][:8])
    high = duration_dependence(cohorts["high_end"][:8])
    # the high-end cohort's individual churn hazards rise with tenure (c > 1, p < 0.01);
    # the regular cohort's data cannot tell c from 1
    assert high["c"] > 1 and high["p_value"] < 0.01
    assert regular["p_value"] > 0.05
    assert high["lr"] == pytest.approx(2 * (high["loglik_bdw"] - high["loglik_sbg"]))


def test_per_cohort_covariates_and_the_frame_input(cohorts):
    frame = contracts_from_cohorts(
        {"regular": cohorts["regular"][:8], "high_end": cohorts["high_end"][:8]}
    )
    fit = BetaDiscreteWeibull().fit(frame[frame["cohort"] == "regular"], fixed={"c": 1.0})
    assert tuple(fit.params[["alpha", "beta"]].round(3)) == PAPER_SBG["regular"]
    both = BetaDiscreteWeibull().fit(frame, covariates=["cohort"], reference={"cohort": "regular"})
    assert "alpha:cohort[high_end]" in both.params.index and both.converged
