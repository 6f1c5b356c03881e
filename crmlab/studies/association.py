"""How strongly are two customer measures associated, and how sure are we?

Correlations with percentile-bootstrap intervals (all resamples drawn at once
as an index matrix, in chunks that bound memory), an OLS slope with
heteroskedasticity-robust HC3 standard errors (MacKinnon & White 1985), and a
survival comparison of right-censored durations between groups: Kaplan-Meier
curves, the log-rank test and a Cox proportional-hazards ratio (statsmodels).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats
from statsmodels.duration.survfunc import SurvfuncRight, survdiff

COLUMNS = ["statistic", "sample", "estimate", "lower", "upper", "p_value", "n", "method"]


def format_p_value(p: float) -> str:
    """A p-value for a table: empty when missing, an upper bound below 1e-300 (a
    double cannot hold a smaller one, so "0" would be wrong), else two significant digits."""
    if p is None or p != p:
        return ""
    return "< 1e-300" if p < 1e-300 else f"{p:.2g}"


def _rowwise_pearson(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson correlation of each row of ``x`` with the same row of ``y`` (NaN if constant)."""
    xc = x - x.mean(axis=1, keepdims=True)
    yc = y - y.mean(axis=1, keepdims=True)
    sxy = np.einsum("ij,ij->i", xc, yc)
    sxx = np.einsum("ij,ij->i", xc, xc)
    syy = np.einsum("ij,ij->i", yc, yc)
    denom = np.sqrt(sxx * syy)
    out = np.full(x.shape[0], np.nan)
    ok = denom > 0
    out[ok] = sxy[ok] / denom[ok]
    return out


def resample_midranks(codes: np.ndarray, n_groups: int, idx: np.ndarray) -> np.ndarray:
    """Mid-ranks of the values drawn in each bootstrap resample, without sorting.

    ``codes`` give each original value's rank among the distinct values
    (``np.unique(values, return_inverse=True)``); ``idx`` is an (m, n) matrix of
    drawn positions. Within resample j, the draws of distinct value g get the
    average rank ``(number drawn below g) + (number drawn equal to g + 1) / 2``,
    exactly what ``scipy.stats.rankdata(..., method="average")`` gives.
    """
    m = idx.shape[0]
    g = codes[idx]
    flat = g + (np.arange(m)[:, None] * n_groups)
    counts = np.bincount(flat.ravel(), minlength=m * n_groups).reshape(m, n_groups)
    below = np.cumsum(counts, axis=1) - counts
    mid = below + (counts + 1) / 2.0
    return np.take_along_axis(mid, g, axis=1)


def bootstrap_correlations(
    x: np.ndarray,
    y: np.ndarray,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    sample: str = "all",
    max_cells: int = 4_000_000,
) -> pd.DataFrame:
    """Pearson and Spearman correlations with percentile-bootstrap intervals.

    Each bootstrap draw resamples customers with replacement (pairs bootstrap);
    Spearman's rho is recomputed on the mid-ranks *within* each resample, so ties
    (many customers sharing a lifetime) are treated as scipy's ``spearmanr`` does
    (:func:`resample_midranks` counts draws per distinct value instead of sorting).

    Parameters
    ----------
    x, y : array
        Paired measurements, one per customer.
    n_boot : int
        Bootstrap draws (all drawn by one seeded generator).
    seed : int
        Seed of ``numpy.random.default_rng``.
    level : float
        Confidence level of the percentile intervals.
    sample : str
        Label for the ``sample`` column (e.g. "all", "end observed").
    max_cells : int
        Memory bound: draws are made in chunks of ``max_cells / n`` rows.

    Returns
    -------
    DataFrame
        Columns ``statistic, sample, estimate, lower, upper, p_value, n, method``;
        rows ``pearson`` and ``spearman``. ``p_value`` is the usual test of zero
        correlation (scipy). Correlations are NaN when either variable is constant.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n = x.size
    constant = n < 3 or np.ptp(x) == 0 or np.ptp(y) == 0
    rows = []
    if constant:
        for name in ("pearson", "spearman"):
            rows.append([name, sample, np.nan, np.nan, np.nan, np.nan, n, "undefined: constant"])
        return pd.DataFrame(rows, columns=COLUMNS)
    pearson = stats.pearsonr(x, y)
    spearman = stats.spearmanr(x, y)
    ux, cx = np.unique(x, return_inverse=True)
    uy, cy = np.unique(y, return_inverse=True)
    rng = np.random.default_rng(seed)
    boot_p = np.empty(n_boot)
    boot_s = np.empty(n_boot)
    chunk = max(1, max_cells // n)
    for start in range(0, n_boot, chunk):  # loop over chunks of draws, vectorised inside
        m = min(chunk, n_boot - start)
        idx = rng.integers(0, n, size=(m, n))
        xb, yb = x[idx], y[idx]
        boot_p[start : start + m] = _rowwise_pearson(xb, yb)
        boot_s[start : start + m] = _rowwise_pearson(
            resample_midranks(cx, ux.size, idx), resample_midranks(cy, uy.size, idx)
        )
    tail = 100 * (1 - level) / 2
    method = f"percentile bootstrap, {n_boot} draws, {level:.0%}"
    for name, est, boot in (
        ("pearson", pearson.statistic, boot_p),
        ("spearman", spearman.statistic, boot_s),
    ):
        pv = pearson.pvalue if name == "pearson" else spearman.pvalue
        if np.all(np.isnan(boot)):
            lo = hi = np.nan
        else:
            lo, hi = np.nanpercentile(boot, [tail, 100 - tail])
        rows.append([name, sample, float(est), float(lo), float(hi), float(pv), n, method])
    return pd.DataFrame(rows, columns=COLUMNS)


def ols_hc3(x: np.ndarray, y: np.ndarray, *, level: float = 0.95, sample: str = "all") -> tuple:
    """OLS of ``y`` on ``x`` with HC3 robust standard errors.

    Returns
    -------
    (DataFrame, RegressionResults)
        Rows ``ols_slope`` (change in ``y`` per unit of ``x``, with interval and
        p-value) and ``r_squared``; and the statsmodels result.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n = x.size
    if n < 3 or np.ptp(x) == 0:
        rows = [
            ["ols_slope", sample, np.nan, np.nan, np.nan, np.nan, n, "undefined: constant x"],
            ["r_squared", sample, np.nan, np.nan, np.nan, np.nan, n, "undefined: constant x"],
        ]
        return pd.DataFrame(rows, columns=COLUMNS), None
    res = sm.OLS(y, sm.add_constant(x)).fit(cov_type="HC3")
    lo, hi = res.conf_int(alpha=1 - level)[1]
    rows = [
        [
            "ols_slope",
            sample,
            float(res.params[1]),
            float(lo),
            float(hi),
            float(res.pvalues[1]),
            n,
            f"OLS, HC3 robust SE, {level:.0%}",
        ],
        ["r_squared", sample, float(res.rsquared), np.nan, np.nan, np.nan, n, "OLS"],
    ]
    return pd.DataFrame(rows, columns=COLUMNS), res


def survival_by_group(
    duration: np.ndarray,
    event: np.ndarray,
    group: np.ndarray,
    *,
    level: float = 0.95,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Compare right-censored durations between two groups.

    Parameters
    ----------
    duration : array
        Observed durations (event time, or censoring time when ``event`` is False).
    event : array of bool
        True when the end was observed.
    group : array
        Two distinct labels (e.g. "low profit", "high profit"); the *second* in
        sorted order is compared with the first in the Cox model.

    Returns
    -------
    curves, tests : DataFrame, DataFrame
        ``curves``: Kaplan-Meier estimate per group (``group, time, survival``,
        starting at time 0 with survival 1). ``tests``: rows
        ``km_median_<group>`` (median duration with its interval), ``logrank``
        (chi-square statistic and p-value) and ``cox_hazard_ratio`` (hazard of
        ending for the second group relative to the first, Breslow ties).
    """
    duration = np.asarray(duration, dtype=float)
    event = np.asarray(event, dtype=bool)
    group = np.asarray(group)
    labels = sorted(pd.unique(group))
    curves = []
    rows = []
    for label in labels:
        mask = group == label
        sf = SurvfuncRight(duration[mask], event[mask].astype(float))
        curves.append(
            pd.DataFrame(
                {
                    "group": label,
                    "time": np.r_[0.0, sf.surv_times],
                    "survival": np.r_[1.0, sf.surv_prob],
                }
            )
        )
        if event[mask].any():
            median = sf.quantile(0.5)
            # the cloglog transform is undefined where the curve reaches 0 or 1; statsmodels
            # then leaves those times out of the interval (numpy would warn about log(0)).
            with np.errstate(divide="ignore", invalid="ignore"):
                lo, hi = sf.quantile_ci(0.5, alpha=1 - level)
        else:
            median = lo = hi = np.nan
        median = float(median) if median is not None else np.nan
        rows.append(
            [
                f"km_median_{label}",
                "all",
                median,
                float(lo) if lo is not None else np.nan,
                float(hi) if hi is not None else np.nan,
                np.nan,
                int(mask.sum()),
                "Kaplan-Meier median"
                if np.isfinite(median)
                else "Kaplan-Meier median: none, the curve stays above 0.5",
            ]
        )
    if len(labels) == 2 and event.any():
        chi2, p = survdiff(duration, event.astype(float), group)
        rows.append(
            ["logrank", "all", float(chi2), np.nan, np.nan, float(p), duration.size, "log-rank"]
        )
        indicator = (group == labels[1]).astype(float)
        cox = sm.PHReg(duration, indicator[:, None], status=event.astype(float), ties="breslow")
        fit = cox.fit()
        lo, hi = np.exp(fit.conf_int(alpha=1 - level)[0])
        rows.append(
            [
                "cox_hazard_ratio",
                "all",
                float(np.exp(fit.params[0])),
                float(lo),
                float(hi),
                float(fit.pvalues[0]),
                duration.size,
                f"Cox PH, {labels[1]} vs {labels[0]}, {level:.0%}",
            ]
        )
    return pd.concat(curves, ignore_index=True), pd.DataFrame(rows, columns=COLUMNS)
