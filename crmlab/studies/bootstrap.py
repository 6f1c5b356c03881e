"""A bootstrap that refits the lifetime model: intervals that include the model's uncertainty.

Lifetimes estimated from P(alive) depend on the fitted parameters, so a bootstrap that
resamples customers but keeps each customer's lifetime fixed understates the uncertainty
of every statistic built on them. Here each replicate ``b``

1. draws multinomial counts ``w_b`` (how often each customer is drawn, ``sum = n``): a
   pairs bootstrap written as weights, so the model is refitted on the distinct
   ``(frequency, recency, T)`` patterns with a ``weight`` column (what the crmlab fitters
   compress to anyway) and started from the full-sample estimates;
2. recomputes whatever the study derives from the refitted model (lifetimes, profit);
3. evaluates the statistics with the weights ``w_b`` (:func:`weighted_pearson`,
   :func:`weighted_spearman`, :func:`weighted_slope`), which equal the statistics of the
   resample written out row by row.

Percentile intervals follow (Efron & Tibshirani 1993, ch. 13). A replicate whose refit
fails (the model cannot be identified on that resample, or does not converge) is left
out and counted; nothing is dropped silently.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crmlab.errors import DataError

MODEL_CLASSES = {"pareto_nbd": "ParetoNBD", "bg_nbd": "BGNBD", "mbg_nbd": "MBGNBD"}


def _wsum(w: np.ndarray, a: np.ndarray) -> float:
    # elementwise product and sum: np.dot would call a threaded BLAS, which is far slower
    # for one vector on a busy machine
    return float((w * a).sum())


def weighted_pearson(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    """Pearson correlation with frequency weights ``w`` (NaN if either side is constant).

    ``r = sum w (x - xbar)(y - ybar) / sqrt(sum w (x - xbar)^2 sum w (y - ybar)^2)``
    with weighted means; integer ``w`` gives the correlation of the rows repeated ``w``
    times.
    """
    w = np.asarray(w, dtype=float)
    total = w.sum()
    if total <= 0:
        return np.nan
    xc = x - _wsum(w, x) / total
    yc = y - _wsum(w, y) / total
    sxx, syy = _wsum(w, xc * xc), _wsum(w, yc * yc)
    scale = max(_wsum(w, x * x), _wsum(w, y * y), 1e-300)
    if sxx <= 1e-12 * scale or syy <= 1e-12 * scale:
        return np.nan
    return float(_wsum(w, xc * yc) / np.sqrt(sxx * syy))


def weighted_midranks(values: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Mid-ranks of ``values`` in the sample where row ``i`` appears ``w[i]`` times.

    The rank of distinct value ``g`` is ``(weight below g) + (weight at g + 1) / 2``,
    what ``scipy.stats.rankdata(..., method="average")`` gives on the repeated rows.
    """
    uniq, codes = np.unique(values, return_inverse=True)
    at = np.bincount(codes, weights=w, minlength=uniq.size)
    below = np.cumsum(at) - at
    return (below + (at + 1.0) / 2.0)[codes]


def weighted_spearman(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    """Spearman's rho with frequency weights: weighted Pearson of weighted mid-ranks."""
    return weighted_pearson(weighted_midranks(x, w), weighted_midranks(y, w), w)


def weighted_slope(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    """OLS slope of ``y`` on ``x`` with frequency weights (NaN if ``x`` is constant)."""
    w = np.asarray(w, dtype=float)
    total = w.sum()
    if total <= 0:
        return np.nan
    xc = x - _wsum(w, x) / total
    sxx = _wsum(w, xc * xc)
    if sxx <= 1e-12 * max(_wsum(w, x * x), 1e-300):
        return np.nan
    return float(_wsum(w, xc * y) / sxx)


def refitter(model: Any, fit: Any) -> Callable[[pd.DataFrame], Any] | None:
    """A function that refits ``fit``'s model on a weighted summary, or None if it cannot.

    ``model`` is a name (``"pareto_nbd"``, ``"bg_nbd"``, ``"mbg_nbd"``) or a fitted crmlab
    result (its class names the model); anything else (a stand-in with only
    ``probability_alive``) cannot be refitted.
    """
    import crmlab.models as models

    if isinstance(model, str):
        name = MODEL_CLASSES.get(model)
    else:
        result_name = type(fit).__name__
        name = result_name[: -len("Result")] if result_name.endswith("Result") else None
    cls = getattr(models, name, None) if name else None
    params = getattr(fit, "params", None)
    if cls is None or params is None:
        return None
    start = np.asarray(params, dtype=float)

    def refit(summary: pd.DataFrame) -> Any:
        return cls().fit(summary, initial=start)

    return refit


@dataclass
class BootstrapRun:
    """Replicate statistics of a refitting bootstrap and how it went.

    Attributes
    ----------
    replicates : DataFrame
        One row per successful replicate, one column per statistic.
    requested, failed : int
        Replicates asked for, and those whose refit failed (left out, counted here).
    seconds, cpu_seconds : float
        Wall time and processor time of the whole bootstrap (on a shared machine the wall
        time also counts other programs' turns).
    refitted : bool
        Whether the model was refitted in each replicate (False: a model that cannot be
        refitted was given, so lifetimes stayed fixed).
    """

    replicates: pd.DataFrame
    requested: int
    failed: int
    seconds: float
    refitted: bool
    cpu_seconds: float = float("nan")

    @property
    def method(self) -> str:
        how = "model refitted on each resample" if self.refitted else "lifetimes held fixed"
        return f"percentile bootstrap, {len(self.replicates)} draws, {how}"

    def interval(self, name: str, level: float) -> tuple[float, float]:
        """Percentile interval of statistic ``name`` at ``level``."""
        values = self.replicates[name].to_numpy(dtype=float) if name in self.replicates else []
        values = np.asarray(values)[np.isfinite(values)]
        if values.size < 2:
            return np.nan, np.nan
        tail = 100 * (1 - level) / 2
        lo, hi = np.percentile(values, [tail, 100 - tail])
        return float(lo), float(hi)


def refit_bootstrap(
    summary: pd.DataFrame,
    refit: Callable[[pd.DataFrame], Any] | None,
    fit: Any,
    statistics: Callable[[Any, np.ndarray, np.random.Generator], dict[str, float]],
    *,
    n_boot: int,
    seed: int,
) -> BootstrapRun:
    """Resample customers as multinomial weights, refit, and collect ``statistics``.

    Parameters
    ----------
    summary : DataFrame
        One row per customer with ``frequency``, ``recency``, ``T``.
    refit : callable or None
        Fits the model on a summary with a ``weight`` column (:func:`refitter`); None keeps
        ``fit`` in every replicate (lifetimes fixed; the method says so).
    fit : fitted model
        The full-sample fit.
    statistics : callable
        ``statistics(fit_b, weights, rng)`` returns the replicate's statistics by name
        (``rng`` for any random draw it makes, e.g. imputed lifetimes).
    n_boot, seed : int
        Replicates and the seed of ``numpy.random.default_rng``.
    """
    rng = np.random.default_rng(seed)
    n = len(summary)
    base = summary[["frequency", "recency", "T"]]
    rows, failed = [], 0
    started, cpu = time.perf_counter(), time.process_time()
    for _ in range(int(n_boot)):
        w = rng.multinomial(n, np.full(n, 1.0 / n)).astype(float)
        fit_b = fit
        if refit is not None:
            drawn = w > 0
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    fit_b = refit(base.loc[drawn].assign(weight=w[drawn]))
            except (DataError, FloatingPointError, ValueError, np.linalg.LinAlgError):
                failed += 1
                continue
            if not getattr(fit_b, "converged", True):
                failed += 1
                continue
        rows.append(statistics(fit_b, w, rng))
    return BootstrapRun(
        replicates=pd.DataFrame(rows),
        requested=int(n_boot),
        failed=failed,
        seconds=time.perf_counter() - started,
        refitted=refit is not None,
        cpu_seconds=time.process_time() - cpu,
    )
