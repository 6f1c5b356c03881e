"""Maximum-likelihood machinery shared by every customer-base model.

A model supplies the negative log-likelihood (and, where it can, its gradient)
of its parameters on *log scale* for a table of distinct sufficient-statistic
patterns with counts; :func:`fit_mle` optimises it, checks convergence, and
derives standard errors from the Hessian on the natural scale. The fitted
result looks like a statsmodels result: ``params``, ``bse``, ``cov_params()``,
``loglik``, ``aic``, ``bic``, ``converged``, ``message`` and ``summary()``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd
from scipy import optimize, stats

from crmlab.errors import DataError


class ConvergenceWarning(UserWarning):
    """The optimiser stopped without meeting its convergence criteria."""


def compress(
    data: pd.DataFrame, columns: Sequence[str], weight: str | None = None
) -> tuple[pd.DataFrame, np.ndarray]:
    """Distinct rows of ``data[columns]`` and how many customers share each.

    A million customers cost what their distinct patterns cost. ``weight``
    names a column of counts per row (e.g. donors per pattern) to add up.
    """
    missing = [c for c in (*columns, *([weight] if weight else [])) if c not in data.columns]
    if missing:
        raise DataError(
            f"the summary has no column {', '.join(map(repr, missing))}; it has "
            f"{', '.join(map(repr, map(str, data.columns)))}. Build it with crmlab.rfm_summary."
        )
    frame = data[list(columns)].copy()
    frame["_w"] = data[weight].to_numpy(dtype=float) if weight else 1.0
    grouped = frame.groupby(list(columns), sort=False, observed=True)["_w"].sum()
    patterns = grouped.index.to_frame(index=False)
    return patterns, grouped.to_numpy(dtype=float)


def numerical_hessian(func: Callable[[np.ndarray], float], x: np.ndarray) -> np.ndarray:
    """Central-difference Hessian of a scalar function (step scaled to each coordinate)."""
    x = np.asarray(x, dtype=float)
    k = x.size
    h = 1e-4 * np.maximum(np.abs(x), 1e-2)
    hess = np.empty((k, k))
    for i in range(k):
        for j in range(i, k):
            ei = np.zeros(k)
            ej = np.zeros(k)
            ei[i] = h[i]
            ej[j] = h[j]
            value = (
                func(x + ei + ej) - func(x + ei - ej) - func(x - ei + ej) + func(x - ei - ej)
            ) / (4 * h[i] * h[j])
            hess[i, j] = hess[j, i] = value
    return hess


def gradient_hessian(gradient: Callable[[np.ndarray], np.ndarray], x: np.ndarray) -> np.ndarray:
    """Hessian as central differences of an analytic gradient, symmetrised."""
    x = np.asarray(x, dtype=float)
    h = 1e-5 * np.maximum(np.abs(x), 1e-2)
    columns = []
    for i in range(x.size):
        step = np.zeros(x.size)
        step[i] = h[i]
        columns.append((gradient(x + step) - gradient(x - step)) / (2 * h[i]))
    hess = np.column_stack(columns)
    return (hess + hess.T) / 2


@dataclass
class FitResult:
    """A fitted model: estimates, uncertainty and fit statistics.

    Attributes
    ----------
    params : Series
        Estimates on the natural scale, named as in the model's paper.
    loglik : float
        Maximised log-likelihood (sum over customers).
    n_obs : float
        Number of customers (sum of pattern counts).
    converged : bool
        Whether the optimiser met its criteria; ``message`` says why not.
    """

    model: str
    params: pd.Series
    cov: pd.DataFrame
    loglik: float
    n_obs: float
    converged: bool
    message: str
    iterations: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def bse(self) -> pd.Series:
        """Standard errors from the inverse Hessian of the log-likelihood."""
        return pd.Series(np.sqrt(np.clip(np.diag(self.cov.to_numpy()), 0, None)), self.params.index)

    def cov_params(self) -> pd.DataFrame:
        return self.cov

    @property
    def k(self) -> int:
        return len(self.params)

    @property
    def aic(self) -> float:
        return 2 * self.k - 2 * self.loglik

    @property
    def bic(self) -> float:
        return self.k * np.log(self.n_obs) - 2 * self.loglik

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Wald intervals computed on log scale (parameters are positive)."""
        z = stats.norm.ppf(1 - alpha / 2)
        se_log = self.bse / self.params
        with np.errstate(over="ignore"):  # a runaway estimate has an unbounded interval
            return pd.DataFrame(
                {
                    "lower": self.params * np.exp(-z * se_log),
                    "upper": self.params * np.exp(z * se_log),
                }
            )

    def summary(self) -> str:
        """A statsmodels-style text table of estimates and fit statistics."""
        ci = self.conf_int()
        width = 66
        head = [
            f"{self.model} results".center(width),
            "=" * width,
            f"{'Customers:':<18}{self.n_obs:>14,.0f}   {'Log-likelihood:':<16}{self.loglik:>14.2f}",
            f"{'Parameters:':<18}{self.k:>14d}   {'AIC:':<16}{self.aic:>14.2f}",
            f"{'Converged:':<18}{str(self.converged):>14}   {'BIC:':<16}{self.bic:>14.2f}",
            f"{'Date:':<18}{datetime.now():%Y-%m-%d %H:%M}".ljust(width),
            "-" * width,
            f"{'':<8}{'coef':>12}{'std err':>12}{'[0.025':>12}{'0.975]':>12}",
            "-" * width,
        ]
        rows = [
            f"{name:<8}{value:>12.4f}{self.bse[name]:>12.4f}"
            f"{ci.loc[name, 'lower']:>12.4f}{ci.loc[name, 'upper']:>12.4f}"
            for name, value in self.params.items()
        ]
        tail = ["=" * width]
        if not self.converged:
            tail.append(f"WARNING: the fit did not converge: {self.message}")
        return "\n".join(head + rows + tail)

    def __repr__(self) -> str:
        values = ", ".join(f"{k}={v:.4g}" for k, v in self.params.items())
        return f"<{self.model} fit: {values}; loglik={self.loglik:.2f}>"


def fit_mle(
    negloglik: Callable[[np.ndarray], float | tuple[float, np.ndarray]],
    x0: Sequence[float],
    names: Sequence[str],
    *,
    jac: bool = False,
    maxiter: int = 2000,
) -> tuple[pd.Series, pd.DataFrame, float, bool, str, int]:
    """Minimise a negative log-likelihood over log-parameters.

    Parameters
    ----------
    negloglik : callable
        Takes log-parameters; returns the total negative log-likelihood, or
        ``(value, gradient)`` on log scale when ``jac`` is True.
    x0 : sequence
        Starting values on the *natural* scale (positive).
    names : sequence of str
        Parameter names.

    Returns
    -------
    params, cov, loglik, converged, message, iterations
        ``cov`` is on the natural scale (delta method from the log-scale Hessian).
    """
    start = np.log(np.asarray(x0, dtype=float))

    def value(theta: np.ndarray) -> float:
        out = negloglik(theta)
        return float(out[0] if jac else out)

    res = optimize.minimize(
        negloglik,
        start,
        jac=jac or None,
        method="BFGS" if jac else "Nelder-Mead",
        options={"maxiter": maxiter, "gtol": 1e-6} if jac else {"maxiter": maxiter * 5},
    )

    def gradient_negligible(result: optimize.OptimizeResult) -> bool:
        # line searches stop with "precision loss"/"ABNORMAL" when the optimum is reached
        # to within rounding of a large sum; accept if the gradient is that small too
        grad = np.asarray(result.get("jac", np.nan), dtype=float)
        return bool(
            jac
            and np.isfinite(result.fun)
            and np.all(np.isfinite(grad))
            and np.max(np.abs(grad)) <= 1e-7 * max(1.0, abs(result.fun))
        )

    if not jac or not (res.success or gradient_negligible(res)):  # polish from where we stopped
        polish = optimize.minimize(  # with the analytic gradient when there is one
            negloglik if jac else value,
            res.x,
            jac=jac or None,
            method="L-BFGS-B",
            options={"maxiter": maxiter},
        )
        if polish.fun <= res.fun + 1e-10:
            res = polish
    theta = res.x
    params = np.exp(theta)
    if jac:  # central differences of the analytic gradient: 2k evaluations, not 4k^2
        hess_log = gradient_hessian(lambda t: np.asarray(negloglik(t)[1], dtype=float), theta)
    else:
        hess_log = numerical_hessian(value, theta)
    finite = np.all(np.isfinite(hess_log)) and np.all(np.isfinite(params))
    success, message = bool(res.success), str(res.message)
    if not success and gradient_negligible(res):
        success = True
        message += " (gradient zero to within rounding: accepted)"
    converged = success and finite and np.isfinite(res.fun)
    try:
        cov_log = np.linalg.inv(hess_log)
        if np.any(np.diag(cov_log) < 0):
            converged = False
            message += "; Hessian not positive definite (not a maximum)"
    except np.linalg.LinAlgError:
        cov_log = np.full_like(hess_log, np.nan)
        converged = False
        message += "; Hessian is singular"
    with np.errstate(over="ignore", invalid="ignore"):  # estimates run off to inf
        cov = cov_log * np.outer(params, params)
    if not converged:
        warnings.warn(
            f"maximum-likelihood fit did not converge: {message}. "
            "Check the data (summary columns, time unit) or give other starting values.",
            ConvergenceWarning,
            stacklevel=3,
        )
    index = pd.Index(list(names))
    return (
        pd.Series(params, index=index),
        pd.DataFrame(cov, index=index, columns=index),
        -float(res.fun),
        converged,
        message,
        int(res.get("nit", 0)),
    )


def reject_rows(column: str, mask: np.ndarray, values: pd.Series, problem: str, fix: str) -> None:
    """Raise :class:`DataError` if any row of ``mask`` is True.

    The message names the column, how many rows, the first offending row (1-based
    position and index label) with its value, and the fix.
    """
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return
    pos = int(np.flatnonzero(mask)[0])
    raise DataError(
        f"column {column!r} has {int(mask.sum()):,} {problem}, first at row {pos + 1} "
        f"(index {values.index[pos]!r}): {values.iloc[pos]!r}. {fix}"
    )


def hyp2f1_one(b: np.ndarray | float, c: np.ndarray | float, z: np.ndarray | float) -> np.ndarray:
    """Gauss hypergeometric ``2F1(1, b; c; z)`` for ``0 < b < c`` and ``0 <= z < 1``.

    Sums the series ``sum_k (b)_k / (c)_k z^k`` directly: every term ratio
    ``(b+k)/(c+k) z`` is below ``z``, so it converges geometrically, and unlike
    :func:`scipy.special.hyp2f1` it stays accurate for large ``b`` and ``c``
    (where scipy returns NaN). The tail after the last term is bounded by
    ``term * z / (1 - z)`` and summed until that is below 1e-16 of the total.
    ``b``, ``c`` and ``z`` broadcast; each distinct triple is summed once.
    """
    shape = np.broadcast(np.asarray(b), np.asarray(c), np.asarray(z)).shape
    bb, cc, zz = (np.broadcast_to(np.asarray(v, dtype=float), shape).ravel() for v in (b, c, z))
    if zz.size and not (np.all(zz >= 0) and np.all(zz < 1)):
        raise DataError(f"2F1(1, b; c; z) needs 0 <= z < 1; got z in [{zz.min()}, {zz.max()}].")
    uniq, inverse = np.unique(np.column_stack([bb, cc, zz]), axis=0, return_inverse=True)
    ub, uc, uz = uniq[:, 0], uniq[:, 1], uniq[:, 2:3]
    total = np.ones(len(uniq))
    term = np.ones(len(uniq))
    chunk = np.arange(256)
    k0 = 0
    while len(uniq):
        ratios = (ub[:, None] + k0 + chunk) / (uc[:, None] + k0 + chunk) * uz
        terms = term[:, None] * np.cumprod(ratios, axis=1)
        total += terms.sum(axis=1)
        term = terms[:, -1]
        k0 += chunk.size
        if np.all(term * uz[:, 0] / (1 - uz[:, 0]) <= 1e-16 * total) or k0 > 10_000_000:
            break
    return total[np.ravel(inverse)].reshape(shape)


def check_boundary(
    params: pd.Series,
    converged: bool,
    message: str,
    *,
    names: Sequence[str] | None = None,
    limit: float = 1e6,
) -> tuple[bool, str]:
    """Flag estimates that ran off towards 0 or infinity (``< 1/limit`` or ``> limit``).

    Such a "maximum" lies on the edge of the parameter space: the data do not
    identify the parameter (e.g. nobody ever churned). Returns the updated
    ``(converged, message)`` and issues a :class:`ConvergenceWarning` when a
    parameter in ``names`` (default all) is at the edge and the fit had not
    already been flagged. Only for shape-like parameters: do not pass scale
    parameters whose size depends on the currency or time unit.
    """
    names = list(params.index if names is None else names)
    values = params[names].to_numpy(dtype=float)
    edge = ~np.isfinite(values) | (values > limit) | (values < 1 / limit)
    if not edge.any():
        return converged, message
    listed = ", ".join(f"{n}={v:.3g}" for n, v, e in zip(names, values, edge, strict=True) if e)
    note = (
        f"estimates at the edge of the parameter space ({listed}): the data do not identify "
        "them (too few or too uniform customers)"
    )
    if converged:
        warnings.warn(
            f"maximum-likelihood fit did not converge: {note}.", ConvergenceWarning, stacklevel=3
        )
    return False, f"{message}; {note}"
