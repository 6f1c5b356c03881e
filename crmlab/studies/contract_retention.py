r"""Contractual retention: does the risk of leaving change with tenure?

Fits the shifted-beta-geometric (sBG; Fader & Hardie 2007) and the beta-discrete-Weibull
(BdW; Fader, Hardie, Liu, Davin & Steenburgh 2018) models to cohorts of contract customers
on their first years (calibration), tests ``c = 1`` (no duration dependence) by likelihood
ratio, and projects the remaining years (holdout) and beyond.

The teaching point of Fader & Hardie (2007): an aggregate retention rate
``r(t) = S(t) / S(t - 1)`` that rises with tenure does not mean that customers grow more
loyal. In the sBG every customer's churn probability ``theta`` is constant, yet ``r(t) =
(beta + t - 1) / (alpha + beta + t - 1)`` rises, because the customers with high ``theta``
leave first (heterogeneity). The BdW lets each customer's hazard change too,
``P(T > t | theta) = (1 - theta)^(t^c)``: ``c > 1`` rising, ``c < 1`` falling, ``c = 1``
the sBG; so it separates the two explanations, as far as the data allow.

:func:`contract_retention_study` returns the tables; :func:`contract_retention_findings` the
executive summary's sentences as :class:`crmlab.reports.Finding` objects.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from crmlab.checks import check_positive
from crmlab.errors import DataError
from crmlab.models.base import FitResult
from crmlab.models.bdw import BetaDiscreteWeibull, duration_dependence
from crmlab.models.sbg import ShiftedBetaGeometric
from crmlab.reports import Finding

MODELS = ("sBG", "BdW")
SOURCE = "Fader & Hardie's"  # the bundled cohorts: Fader & Hardie (2007), table 1
NAMES = {"regular": "regular", "high_end": "high-end"}


@dataclass
class ContractRetentionStudy:
    """The fitted models and tables of :func:`contract_retention_study`.

    Attributes
    ----------
    counts : DataFrame
        Customers active at the start of each year (index ``year``, one column per cohort).
    fits : dict
        ``fits[cohort][model]``: the fitted sBG and BdW results (calibration years only).
    estimates : DataFrame
        One row per (cohort, model): ``alpha, alpha_se, beta, beta_se, c, c_se`` (``c`` is
        1 and its SE 0 for the sBG, which fixes it), ``loglik``, ``aic``.
    duration : DataFrame
        One row per cohort: the likelihood-ratio test of ``c = 1``
        (:func:`crmlab.models.bdw.duration_dependence`) with a Wald interval of ``c``.
    curves : DataFrame
        One row per (cohort, year): ``period`` (calibration/holdout), ``observed``,
        ``sBG``, ``BdW`` (share still active, ``S(t)``) and the same as retention rates
        ``r(t) = S(t) / S(t-1)`` (columns ending ``_retention``; missing in year 0).
    projection : DataFrame
        One row per (cohort, model): ``holdout_error`` (mean absolute percentage error of
        ``S(t)`` over the holdout years), ``observed_end``/``model_end`` (``S`` in the last
        year of data), ``survival_horizon`` and ``retention_horizon`` at ``horizon`` years,
        ``expected_years`` (expected years paid for within the horizon), ``discounted_lifetime``
        (:func:`discounted_lifetime`) and ``finite_mean`` (whether the undiscounted mean
        lifetime is finite: ``alpha c > 1``).
    settings : dict
        ``calibration_years``, ``last_year``, ``horizon``, ``discount_rate``, ``alpha``.
    """

    counts: pd.DataFrame
    fits: dict[str, dict[str, FitResult]]
    estimates: pd.DataFrame
    duration: pd.DataFrame
    curves: pd.DataFrame
    projection: pd.DataFrame
    settings: dict[str, Any] = field(default_factory=dict)


def discounted_lifetime(result: FitResult, discount_rate: float, *, tol: float = 1e-12) -> float:
    r"""Expected discounted lifetime of a new customer, in contract periods.

    ``DEL = sum_{t >= 0} S(t) / (1 + d)^t``: the first payment (t = 0) is not discounted,
    each renewal after t periods is discounted t times (Fader & Hardie 2010, "DEL"; for the
    sBG it equals ``2F1(1, beta; alpha + beta; 1 / (1 + d))``). Works for any fitted model
    with a ``survival`` method; the series is summed until ``(1 + d)^-t < tol``
    (``S(t) <= 1``, so the neglected tail is below ``tol / d``).

    Parameters
    ----------
    result : FitResult
        A fitted :class:`~crmlab.models.ShiftedBetaGeometric` or
        :class:`~crmlab.models.bdw.BetaDiscreteWeibull`.
    discount_rate : float
        Discount rate per contract period, > 0 (the undiscounted mean can be infinite).
    """
    check_positive(discount_rate=discount_rate)
    d = float(discount_rate)
    n = int(np.ceil(np.log(1.0 / tol) / np.log1p(d))) + 1
    t = np.arange(n, dtype=float)
    return float(np.sum(np.asarray(result.survival(t)) * np.exp(-t * np.log1p(d))))


def _counts(cohorts: pd.DataFrame, segments: Sequence[str]) -> pd.DataFrame:
    if not isinstance(cohorts, pd.DataFrame):
        raise DataError(
            "cohorts must be a table with a column 'year' and one column of active customers "
            "per cohort, like crmlab.load_dataset('retention_cohorts')."
        )
    missing = [c for c in ("year", *segments) if c not in cohorts.columns]
    if missing:
        raise DataError(
            f"the cohort table has no column {', '.join(map(repr, missing))}; it has "
            f"{', '.join(map(repr, cohorts.columns))}. Name the cohorts' columns in segments=."
        )
    years = pd.to_numeric(cohorts["year"], errors="coerce")
    expected = np.arange(len(cohorts))
    if years.isna().any() or not np.array_equal(years.to_numpy(), expected):
        bad = np.flatnonzero(years.isna().to_numpy() | (years.to_numpy() != expected))
        raise DataError(
            f"column 'year' must count 0, 1, 2, ... in order (year 0 = the cohort's size); "
            f"row {int(bad[0])} has {cohorts['year'].iloc[int(bad[0])]!r}. Sort the table by "
            "year and give every year once."
        )
    return cohorts.set_index(years.astype(int).rename("year"))[list(segments)]


def contract_retention_study(
    cohorts: pd.DataFrame,
    *,
    segments: Sequence[str] = ("regular", "high_end"),
    calibration_years: int = 7,
    horizon: int = 20,
    discount_rate: float = 0.10,
    alpha: float = 0.05,
    source: str = SOURCE,
    simulated: bool = False,
) -> ContractRetentionStudy:
    """Fit the sBG and the BdW to each cohort's first years and compare them.

    Parameters
    ----------
    cohorts : DataFrame
        ``year`` (0, 1, 2, ...) and, per cohort, the customers active at the start of that
        year (year 0: the cohort's size), as :func:`crmlab.load_dataset` returns
        ``"retention_cohorts"``.
    segments : sequence of str
        The cohort columns to study.
    calibration_years : int
        Years fitted (counts of years 0 .. calibration_years); the rest is holdout. Fader &
        Hardie (2007) fit 7 of the 12 years.
    horizon : int
        Years of the projection (survival and retention in that year, expected years paid
        for within it).
    discount_rate : float
        Yearly rate of :func:`discounted_lifetime` (Fader & Hardie 2010 use 10%).
    alpha : float
        Level of the Wald interval of ``c`` and of the test of ``c = 1`` in the findings.
    source : str
        Whose cohorts these are, as the findings name them ("Fader & Hardie's", "your").
    simulated : bool
        The cohorts are simulated: the findings say so and are flagged.
    """
    counts = _counts(cohorts, segments)
    last = int(counts.index.max())
    if not (isinstance(calibration_years, int | np.integer) and 2 <= calibration_years <= last):
        raise DataError(
            f"calibration_years is {calibration_years!r}; give a whole number from 2 (the "
            f"BdW has three parameters) to {last}, the last year of the cohorts."
        )
    if not (isinstance(horizon, int | np.integer) and horizon >= 1):
        raise DataError(f"horizon is {horizon!r}; give a whole number of years >= 1.")
    if not 0 < alpha < 1:
        raise DataError(f"alpha is {alpha!r}; give a level between 0 and 1, e.g. 0.05.")
    z = float(stats.norm.ppf(1 - alpha / 2))
    fits: dict[str, dict[str, FitResult]] = {}
    estimates, duration, curves, projection = [], [], [], []
    years = counts.index.to_numpy(dtype=float)
    holdout = years > calibration_years
    for cohort in segments:
        alive = counts[cohort].to_numpy(dtype=float)
        calib = alive[: calibration_years + 1]
        fits[cohort] = {
            "sBG": ShiftedBetaGeometric().fit(calib),
            "BdW": BetaDiscreteWeibull().fit(calib),
        }
        test = duration_dependence(calib)
        duration.append(
            {
                "cohort": cohort,
                **test.to_dict(),
                "c_lower": test["c"] - z * test["c_se"],
                "c_upper": test["c"] + z * test["c_se"],
            }
        )
        observed = alive / alive[0]
        frame = pd.DataFrame(
            {
                "cohort": cohort,
                "year": years.astype(int),
                "period": np.where(holdout, "holdout", "calibration"),
                "observed": observed,
            }
        )
        for name, res in fits[cohort].items():
            p = res.params
            estimates.append(
                {
                    "cohort": cohort,
                    "model": name,
                    "alpha": float(p["alpha"]),
                    "alpha_se": float(res.bse["alpha"]),
                    "beta": float(p["beta"]),
                    "beta_se": float(res.bse["beta"]),
                    "c": float(p.get("c", 1.0)),
                    "c_se": float(res.bse.get("c", 0.0)),
                    "loglik": float(res.loglik),
                    "aic": float(res.aic),
                }
            )
            frame[name] = np.asarray(res.survival(years), dtype=float)
            model_s = frame[name].to_numpy()
            s_h = np.asarray(res.survival(np.array([horizon - 1, horizon], dtype=float)))
            c = float(p.get("c", 1.0))
            projection.append(
                {
                    "cohort": cohort,
                    "model": name,
                    "holdout_error": float(
                        np.mean(np.abs(model_s[holdout] - observed[holdout]) / observed[holdout])
                    )
                    if holdout.any()
                    else np.nan,
                    "observed_end": float(observed[-1]),
                    "model_end": float(model_s[-1]),
                    "survival_horizon": float(s_h[1]),
                    "retention_horizon": float(s_h[1] / s_h[0]),
                    "expected_years": float(np.sum(res.survival(np.arange(horizon, dtype=float)))),
                    "discounted_lifetime": discounted_lifetime(res, discount_rate),
                    "finite_mean": bool(float(p["alpha"]) * c > 1),
                }
            )
        for col in ("observed", *MODELS):
            s = frame[col].to_numpy()
            frame[f"{col}_retention"] = np.concatenate([[np.nan], s[1:] / s[:-1]])
        curves.append(frame)
    return ContractRetentionStudy(
        counts=counts,
        fits=fits,
        estimates=pd.DataFrame(estimates).set_index(["cohort", "model"]),
        duration=pd.DataFrame(duration).set_index("cohort"),
        curves=pd.concat(curves, ignore_index=True),
        projection=pd.DataFrame(projection).set_index(["cohort", "model"]),
        settings={
            "calibration_years": int(calibration_years),
            "last_year": last,
            "horizon": int(horizon),
            "discount_rate": float(discount_rate),
            "alpha": float(alpha),
            "source": "the simulated" if simulated else str(source),
            "simulated": bool(simulated),
        },
    )


def _name(cohort: str) -> str:
    return NAMES.get(cohort, str(cohort))


def _cohort(study: ContractRetentionStudy, cohort: str, *, capital: bool = False) -> str:
    """ "Fader & Hardie's regular cohort", "the simulated rising cohort"."""
    text = f"{study.settings['source']} {_name(cohort)} cohort"
    return text[0].upper() + text[1:] if capital else text


def _finding(study: ContractRetentionStudy, template: str, numbers: dict) -> Finding:
    return Finding(template, numbers, simulated=study.settings["simulated"])


def duration_finding(study: ContractRetentionStudy, cohort: str) -> Finding:
    """The BdW's ``c`` with its SE and the likelihood-ratio test of ``c = 1`` for a cohort,
    read in words: hazards rising, falling, or not told from constant at ``alpha``."""
    d = study.duration.loc[cohort]
    s = study.settings
    if d["p_value"] < s["alpha"]:
        verdict = (
            "each customer's risk of leaving rises with tenure"
            if d["c"] > 1
            else "each customer's risk of leaving falls with tenure"
        )
    else:
        verdict = (
            "these years cannot tell each customer's risk of leaving from a constant one "
            "(c = 1, the sBG)"
        )
    return _finding(
        study,
        f"{_cohort(study, cohort, capital=True)} (BdW fitted to years 1-{{calibration_years}}): "
        "c = {c:.2f} (SE {c_se:.2f}, 95% interval {c_lower:.2f} to {c_upper:.2f}); the "
        "likelihood-ratio test of c = 1 gives LR = {lr:.1f}, p = {p_value:.2g}: "
        f"{verdict}.",
        {
            "calibration_years": s["calibration_years"],
            "c": float(d["c"]),
            "c_se": float(d["c_se"]),
            "c_lower": float(d["c_lower"]),
            "c_upper": float(d["c_upper"]),
            "lr": float(d["lr"]),
            "p_value": float(d["p_value"]),
        },
    )


def heterogeneity_finding(study: ContractRetentionStudy, cohort: str) -> Finding:
    """The observed retention rate's rise beside the sBG's, in which no customer's churn
    probability ever changes: heterogeneity alone makes the aggregate rate rise. Where the
    BdW finds each customer's risk rising (``c > 1`` at the study's level), the sentence
    says that the cohort's rate rises all the same."""
    cal = study.settings["calibration_years"]
    rows = study.curves[(study.curves["cohort"] == cohort) & (study.curves["year"] >= 1)]
    first, last = rows.iloc[0], rows[rows["year"] == cal].iloc[0]
    d = study.duration.loc[cohort]
    numbers = {
        "year": int(cal),
        "observed_first": float(first["observed_retention"]),
        "observed_last": float(last["observed_retention"]),
        "sbg_first": float(first["sBG_retention"]),
        "sbg_last": float(last["sBG_retention"]),
    }
    text = (
        f"In {_cohort(study, cohort)} the share of customers who renew rises from "
        "{observed_first:.0%} in year 1 to {observed_last:.0%} in year {year:d}, and the sBG, "
        "in which no customer's risk of leaving ever changes, rises as well ({sbg_first:.0%} "
        "to {sbg_last:.0%}): the customers most likely to leave go first"
    )
    if d["p_value"] < study.settings["alpha"] and d["c"] > 1:
        numbers["c"] = float(d["c"])
        text += (
            "; this outweighs the BdW's finding that each customer's own risk rises with "
            "tenure (c = {c:.2f}), so the cohort's rate and the customers' risks move in "
            "opposite directions"
        )
    else:
        text += ", so a rising retention rate alone does not show that customers grow more loyal"
    return _finding(study, text + ".", numbers)


def projection_finding(study: ContractRetentionStudy, cohort: str) -> Finding:
    """Holdout error of both models and the share active in the last year of data."""
    p = study.projection.xs(cohort, level="cohort")
    s = study.settings
    return _finding(
        study,
        "Projected from years 1-{calibration_years} to year {last_year}, the share still "
        f"active in {_cohort(study, cohort)} is missed by the sBG by {{sbg_error:.1%}} of its "
        "value on average and by the BdW by {bdw_error:.1%}; in year {last_year} "
        "{observed_end:.1%} are active, the sBG says {sbg_end:.1%} and the BdW {bdw_end:.1%}.",
        {
            "calibration_years": s["calibration_years"],
            "last_year": s["last_year"],
            "sbg_error": float(p.loc["sBG", "holdout_error"]),
            "bdw_error": float(p.loc["BdW", "holdout_error"]),
            "observed_end": float(p.loc["sBG", "observed_end"]),
            "sbg_end": float(p.loc["sBG", "model_end"]),
            "bdw_end": float(p.loc["BdW", "model_end"]),
        },
    )


def lifetime_finding(study: ContractRetentionStudy, cohort: str) -> Finding:
    """Expected years paid for within the horizon and the discounted expected lifetime
    under both models, and whether the undiscounted mean lifetime is finite."""
    p = study.projection.xs(cohort, level="cohort")
    s = study.settings
    infinite = not p["finite_mean"].any()
    tail = (
        "; under both models the undiscounted mean lifetime is infinite (alpha c <= 1: "
        "some customers almost never leave), so values rest on the discount rate and the "
        "model's tail far beyond the data"
        if infinite
        else ""
    )
    return _finding(
        study,
        f"In {_cohort(study, cohort)} a new customer pays for {{sbg_years:.1f}} of the next "
        "{horizon:d} years under the sBG and {bdw_years:.1f} under the BdW; discounted at "
        "{discount_rate:.0%} a year, the expected lifetime is {sbg_del:.2f} and {bdw_del:.2f} "
        f"years{tail}.",
        {
            "horizon": s["horizon"],
            "discount_rate": s["discount_rate"],
            "sbg_years": float(p.loc["sBG", "expected_years"]),
            "bdw_years": float(p.loc["BdW", "expected_years"]),
            "sbg_del": float(p.loc["sBG", "discounted_lifetime"]),
            "bdw_del": float(p.loc["BdW", "discounted_lifetime"]),
        },
    )


def contract_retention_findings(study: ContractRetentionStudy) -> list[Finding]:
    """The executive summary of the study: per cohort, the duration-dependence test, the
    rising retention rate read against heterogeneity, and the holdout projection
    (:func:`lifetime_finding` is the section's, not the summary's).

    The cohorts are real published data, so no sentence is marked simulated.
    """
    cohorts = list(study.counts.columns)
    return (
        [duration_finding(study, c) for c in cohorts]
        + [heterogeneity_finding(study, c) for c in cohorts]
        + [projection_finding(study, c) for c in cohorts]
    )
