r"""Richer purchase models beside the CLV study's three: do they tell more on these data?

Each research model nests one of the study's models, so each is read against it:

* **GGompertz/NBD** (Bemmaor & Glady 2012) nests the Pareto/NBD as its Gompertz shape
  :math:`b \to 0` (lifetimes with a hazard that changes with age);
* **BG/CNBD-k** and **MBG/CNBD-k** (Platzer & Reutterer 2016; BTYDplus) are the BG/NBD
  and MBG/NBD at k = 1, with Erlang-k inter-purchase times (more regular buying) for
  k > 1; k is chosen by likelihood over 1..``k_max``;
* **Pareto/NBD with correlated rates** (the Sarmanov family of CLVTools' ``use.cor``)
  nests the Pareto/NBD at correlation 0; its likelihood-ratio test has 1 degree of
  freedom (m = 0 is inside the family).

The GGompertz/NBD's test sits on the boundary b = 0, so its p-value is the chi-square
mixture :math:`\tfrac12 P(\chi^2_1 > \mathrm{LR})` (Self & Liang 1987); k of the CNBD
models is discrete, so they carry the likelihood gain and BIC difference only.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from crmlab.errors import DataError
from crmlab.models import BGCNBD, MBGCNBD, CorrelatedParetoNBD, GGompertzNBD
from crmlab.models import comparison as _comparison
from crmlab.models.correlated import FamilyBoundWarning
from crmlab.summary import rfm_summary

#: The study's model each research model reduces to.
NESTS = {
    "GGompertz/NBD": "Pareto/NBD",
    "BG/CNBD-k": "BG/NBD",
    "MBG/CNBD-k": "MBG/NBD",
    "Pareto/NBD (correlated)": "Pareto/NBD",
}


def with_regularity(summary: pd.DataFrame, transactions: pd.DataFrame | None) -> pd.DataFrame:
    """``summary`` with the ``litt`` column the CNBD-k likelihoods need (the sum of log
    inter-purchase times), computed from ``transactions`` over the summary's own window
    (its ``attrs``); unchanged if it has one or no transactions are given."""
    if "litt" in summary.columns or transactions is None:
        return summary
    attrs = summary.attrs
    regular = rfm_summary(
        transactions,
        calibration_end=attrs.get("calibration_end"),
        observation_end=attrs.get("observation_end"),
        time_unit=attrs.get("time_unit", "W"),
        regularity=True,
    )
    missing = summary.index.difference(regular.index)
    if len(missing):
        raise DataError(
            f"{len(missing):,} customers of the summary are not in the transactions (first: "
            f"{missing[0]!r}); pass the transactions the summary was built from."
        )
    return summary.assign(litt=regular["litt"].reindex(summary.index))


def fit_research_models(
    summary: pd.DataFrame, transactions: pd.DataFrame | None = None, *, k_max: int = 12
) -> tuple[dict[str, Any], dict[str, str]]:
    """Fit the models of :data:`NESTS` to ``summary`` (the study's calibration summary).

    Returns the fits by name and, by name, why a model could not be fitted or what to
    know about its fit (a Sarmanov fit that ends on its family's bound has no standard
    errors; the CNBD-k models need the transactions for ``litt``).
    """
    data = with_regularity(summary, transactions)
    makers = {
        "GGompertz/NBD": lambda: GGompertzNBD().fit(data),
        "BG/CNBD-k": lambda: BGCNBD.fit_k(data, k_max=k_max),
        "MBG/CNBD-k": lambda: MBGCNBD.fit_k(data, k_max=k_max),
        "Pareto/NBD (correlated)": lambda: CorrelatedParetoNBD().fit(data),
    }
    fits: dict[str, Any] = {}
    notes: dict[str, str] = {}
    for name, make in makers.items():
        if name.endswith("CNBD-k") and "litt" not in data.columns:
            notes[name] = (
                "not fitted: its likelihood needs each customer's inter-purchase times, "
                "which the engine's summary does not carry"
            )
            continue
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", FamilyBoundWarning)
                fits[name] = make()
        except DataError as exc:
            notes[name] = f"not fitted: {exc}"
            continue
        bound = [str(w.message) for w in caught if issubclass(w.category, FamilyBoundWarning)]
        if bound:
            notes[name] = bound[0]
    return fits, notes


def _reading(name: str, fit: Any, gain: float) -> str:
    """What the fit says, in a few words."""
    if name == "GGompertz/NBD":
        b = float(fit.params["b"])
        if b < 1e-4:
            return f"b = {b:.1e}: the Pareto/NBD's constant dropout hazard"
        return f"b = {b:.3g}: the dropout hazard changes with age"
    if name.endswith("CNBD-k"):
        k = int(fit.regularity)
        if k == 1:
            return "k = 1: purchases no more regular than Poisson"
        return f"k = {k}: purchases more regular than Poisson"
    bound = fit.extra.get("at_bound")
    where = f", on the family's {bound} bound" if bound else ""
    return f"correlation {fit.correlation:+.3f}{where}"


def research_comparison(
    study_fits: Mapping[str, Any], fits: Mapping[str, Any], summary: pd.DataFrame
) -> pd.DataFrame:
    """Each research model beside the study's model it nests, one row each.

    Columns: ``nests``, ``parameters``, ``log_likelihood``, ``ll_gain`` (over the nested
    model), ``lr_p`` (correlated: chi-square with 1 df; GGompertz/NBD: half of it, the
    boundary mixture; CNBD-k: none, k is discrete), ``delta_bic`` (BIC minus the nested
    model's; negative favours the research model), ``holdout_error_pct`` and
    ``nested_holdout_error_pct`` (% error of the holdout purchases forecast,
    :func:`crmlab.models.comparison.compare_models`) and ``reading``.
    """
    if not fits:
        raise DataError("research_comparison needs at least one fitted research model.")
    unknown = [n for n in fits if n not in NESTS]
    missing = sorted({NESTS[n] for n in fits if n in NESTS} - set(study_fits))
    if unknown or missing:
        raise DataError(
            f"research models {unknown} are not among {list(NESTS)}"
            if unknown
            else f"the study has no fit of {missing[0]}, which the research models nest."
        )
    nested = {NESTS[n]: study_fits[NESTS[n]] for n in fits}
    table = _comparison.compare_models({**nested, **fits}, summary)
    rows = []
    for name, fit in fits.items():
        base = NESTS[name]
        gain = float(fit.loglik - nested[base].loglik)
        stat = max(2 * gain, 0.0)
        if name == "Pareto/NBD (correlated)":
            p = float(stats.chi2.sf(stat, 1))
        elif name == "GGompertz/NBD":
            p = 0.5 * float(stats.chi2.sf(stat, 1)) if stat > 0 else 1.0
        else:
            p = np.nan
        rows.append(
            {
                "model": name if not name.endswith("CNBD-k") else fit.model,
                "nests": base,
                "parameters": int(table.loc[name, "parameters"]),
                "log_likelihood": float(fit.loglik),
                "ll_gain": gain,
                "lr_p": p,
                "delta_bic": float(table.loc[name, "bic"] - table.loc[base, "bic"]),
                "holdout_error_pct": float(table.loc[name, "holdout_error_pct"]),
                "nested_holdout_error_pct": float(table.loc[base, "holdout_error_pct"]),
                "reading": _reading(name, fit, gain),
            }
        )
    return pd.DataFrame(rows).set_index("model")


def research_sentence(table: pd.DataFrame, notes: Mapping[str, str] | None = None) -> str:
    """One paragraph on what the research models add, from :func:`research_comparison`:
    which reduce to their nested model (log-likelihood gain under 0.5), which gain but
    not enough for the BIC, and which the BIC prefers, with the holdout errors."""
    parts = []
    same = table[table["ll_gain"] < 0.5]
    if len(same):
        parts.append(
            "On these data "
            + "; ".join(f"{m} reduces to the {r.nests} ({r.reading})" for m, r in same.iterrows())
            + "."
        )
    for m, r in table.drop(same.index).iterrows():
        p = "" if np.isnan(r.lr_p) else f", likelihood-ratio p = {r.lr_p:.2g}"
        verdict = "the BIC prefers it" if r.delta_bic < 0 else "not enough for the BIC to prefer it"
        parts.append(
            f"{m} gains {r.ll_gain:.1f} log-likelihood points over the {r.nests}{p} "
            f"(BIC {r.delta_bic:+.1f}: {verdict}; {r.reading}); its holdout error is "
            f"{r.holdout_error_pct:+.1f}% against {r.nested_holdout_error_pct:+.1f}%."
        )
        if "bound" in r.reading:
            parts.append(
                "A fit on its family's bound is a constrained maximum without standard "
                "errors, and the gain may come from the shape of the gamma rates rather "
                "than from a link between buying and dropout: a lognormal Pareto/NBD "
                "(crmlab.models.LognormalParetoNBD, Abe 2009), whose correlation has no "
                "bound, is the check."
            )
    for name, why in (notes or {}).items():
        if why.startswith("not fitted"):
            parts.append(f"{name} was {why}.")
    return " ".join(parts)


__all__ = [
    "NESTS",
    "fit_research_models",
    "research_comparison",
    "research_sentence",
    "with_regularity",
]
