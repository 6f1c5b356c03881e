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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats

from crmlab.errors import DataError


class ConvergenceWarning(UserWarning):
    """The optimiser stopped without meeting its convergence criteria."""


class IdentificationError(DataError):
    """A fit that the data cannot support: estimates on the edge of the parameter space,
    a singular Hessian, no convergence, or data that carry no information on a parameter.

    Raised by every model's ``fit`` by default; ``fit(..., strict=False)`` turns it into
    a :class:`ConvergenceWarning` and returns the flagged result (for teaching what a
    broken fit looks like).
    """


def require_frame(data: object, what: str, columns: Sequence[str]) -> pd.DataFrame:
    """Raise :class:`DataError` unless ``data`` is a DataFrame (naming the columns it needs)."""
    if not isinstance(data, pd.DataFrame):
        raise DataError(
            f"{what} needs a pandas DataFrame with columns {', '.join(columns)} (one row per "
            f"customer, e.g. from crmlab.rfm_summary); got a {type(data).__name__}."
        )
    return data


def reject_missing(data: pd.DataFrame, columns: Sequence[str]) -> None:
    """Raise :class:`DataError` if any of ``columns`` holds a missing (NaN/None/NaT) value.

    Nothing is dropped silently: the message names the column, how many rows and the
    first one, and what to do.
    """
    for column in columns:
        if column in data.columns:
            reject_rows(
                column,
                data[column].isna().to_numpy(),
                data[column],
                "missing values (NaN)",
                "Every customer needs a value; fill them or remove those customers explicitly "
                "(crmlab.rfm_summary never leaves gaps).",
            )


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
    time_unit: str | None = None
    covariates: Covariates | None = None

    @property
    def free(self) -> list[str]:
        """Parameters on the whole real line (covariate coefficients); the rest are > 0."""
        return list(self.covariates.coef_names) if self.covariates is not None else []

    def _positive(self) -> np.ndarray:
        return ~self.params.index.isin(self.free)

    def for_covariates(self, values: Any) -> FitResult:
        """The model of a customer with the given covariate values, as a fit without covariates.

        ``values`` maps each covariate column to one value (a dict or a one-row frame);
        the result's parameters are that customer's individual parameters (e.g.
        ``alpha_i = alpha0 exp(-gamma' z_i)``), so every prediction method of the model
        applies, e.g. ``fit.for_covariates({"first_spend": 30}).expected_purchases(52)``.
        """
        if self.covariates is None:
            raise DataError(f"the {self.model} fit has no covariates.")
        frame = values if isinstance(values, pd.DataFrame) else pd.DataFrame([dict(values)])
        z = self.covariates.matrix(frame)
        if len(z) != 1:
            raise DataError(f"give one customer's covariate values; got {len(z)} rows.")
        return self._at(z[0])

    def _at(self, z: np.ndarray) -> FitResult:
        if self.covariates is None:
            return self
        base = self.covariates.individual(self.params, z[None, :])
        index = pd.Index([n for n in self.params.index if n not in self.free])
        params = pd.Series([float(base[n][0]) for n in index], index=index)
        cov = self.cov.loc[index, index]
        return replace(self, params=params, cov=cov, covariates=None)

    def _profiles(self, data: pd.DataFrame) -> list[tuple[np.ndarray | None, Any]]:
        """Customers of ``data`` grouped by distinct covariate values: ``(z, rows)`` pairs
        (one group of all rows when the fit has no covariates)."""
        if self.covariates is None:
            return [(None, slice(None))]
        z = self.covariates.matrix(data)
        if z.shape[1] == 0 or len(z) == 0:
            return [(np.zeros(z.shape[1]), slice(None))]
        uniq, inverse = np.unique(z, axis=0, return_inverse=True)
        inverse = np.ravel(inverse)
        order = np.argsort(inverse, kind="stable")
        bounds = np.searchsorted(inverse[order], np.arange(len(uniq) + 1))
        return [(uniq[g], order[bounds[g] : bounds[g + 1]]) for g in range(len(uniq))]

    def individual_params(self, data: pd.DataFrame) -> pd.DataFrame:
        """Each customer's parameters under the fit (the baseline for every customer when
        the fit has no covariates); one row per customer of ``data``."""
        base = [n for n in self.params.index if n not in self.free]
        if self.covariates is None:
            return pd.DataFrame({n: float(self.params[n]) for n in base}, index=data.index)
        values = self.covariates.individual(self.params, self.covariates.matrix(data))
        return pd.DataFrame({n: values[n] for n in base}, index=data.index)

    def param_draws(self, draws: int = 500, seed: int | np.random.Generator = 0) -> pd.DataFrame:
        r"""Parameter values drawn from the estimates' asymptotic normal on log scale.

        :math:`\log\theta^{(k)} \sim N(\log\hat\theta, \Sigma_{\log})` with
        :math:`\Sigma_{\log} = D^{-1}\,\mathrm{cov}\,D^{-1}`, :math:`D = \mathrm{diag}(\hat\theta)`
        (the inverse Hessian of the log-likelihood in log-parameters, which the fit
        computed). Drawing on log scale keeps every draw positive. One row per draw.
        """
        draws = check_draws(draws)
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        values = self.params.to_numpy(dtype=float)
        positive = self._positive()
        scale = np.where(positive, values, 1.0)  # covariate coefficients are drawn as they are
        cov_log = self.cov.to_numpy(dtype=float) / np.outer(scale, scale)
        try:
            if not np.all(np.isfinite(cov_log)):
                raise np.linalg.LinAlgError
            chol = np.linalg.cholesky((cov_log + cov_log.T) / 2)
        except np.linalg.LinAlgError:
            raise DataError(
                f"the {self.model} fit has no usable covariance matrix ({self.message}); "
                "intervals need a converged fit with finite standard errors."
            ) from None
        z = rng.standard_normal((draws, values.size))
        with np.errstate(divide="ignore", invalid="ignore"):
            centre = np.where(positive, np.log(np.where(positive, values, 1.0)), values)
        drawn = centre + z @ chol.T
        return pd.DataFrame(np.where(positive, np.exp(drawn), drawn), columns=self.params.index)

    def with_params(self, values: Any) -> FitResult:
        """A copy of this result with other parameter values (same names and order)."""
        return replace(self, params=pd.Series(np.asarray(values, dtype=float), self.params.index))

    def _draw_results(self, draws: int, seed: int | np.random.Generator) -> list[Any]:
        return [self.with_params(row) for row in self.param_draws(draws, seed).to_numpy()]

    def _draw_results_and_spend(
        self,
        draws: int,
        rng: np.random.Generator,
        spend_model: Any,
        spend_values: np.ndarray,
        data: pd.DataFrame,
    ) -> tuple[list[Any], Callable[[Any, Any], np.ndarray]]:
        """Parameter draws of this fit with the spend per customer under each: drawn from
        ``spend_model``'s own estimates when spend comes from a fitted Gamma-Gamma result
        (so a CLV interval covers both fits), else the fixed ``spend_values``.

        No draws x customers spend matrix is built: the spend comes back as a function
        ``spend_at(draw_rows, customer_rows)`` giving those draws' spend of those customers
        (a row vector when the spend is fixed), computed on demand by the spend model's own
        formula, so every value equals a row-by-row evaluation.
        """
        results = self._draw_results(draws, rng)
        if spend_model is None:
            return results, lambda draw_rows, rows: spend_values[rows]
        table = spend_model.param_draws(draws, rng).to_numpy()
        spend_of = getattr(spend_model, "_spend_function", lambda data: None)(data)
        if spend_of is None:  # a spend model without a vectorised formula: one row per draw
            matrix = np.array(
                [
                    spend_model.with_params(row).expected_spend(data, warn=False).to_numpy()
                    for row in table
                ]
            )
            return results, lambda draw_rows, rows: matrix[draw_rows][:, rows]
        return results, lambda draw_rows, rows: spend_of(table[draw_rows], rows)

    def _predict(
        self,
        compute: Callable[[Any], np.ndarray],
        index: pd.Index,
        name: str,
        level: float | None,
        draws: int,
        seed: int | np.random.Generator,
    ) -> pd.Series | pd.DataFrame:
        """``compute(result)`` per customer at the estimates; with ``level``, the interval
        from ``compute`` under parameter draws (:func:`interval_frame`)."""
        point = compute(self)
        if level is None:
            return pd.Series(point, index=index, name=name)
        level = check_level(level)
        with np.errstate(all="ignore"):
            samples = np.array([compute(r) for r in self._draw_results(draws, seed)])
        return interval_frame(point, samples, index, name, level)

    @property
    def bse(self) -> pd.Series:
        """Standard errors from the inverse Hessian of the log-likelihood."""
        return pd.Series(np.sqrt(np.clip(np.diag(self.cov.to_numpy()), 0, None)), self.params.index)

    def cov_params(self) -> pd.DataFrame:
        return self.cov

    @property
    def k(self) -> int:
        """Number of estimated parameters (held ``fixed`` ones not counted)."""
        return len(self.params) - len(self.extra.get("fixed", {}))

    @property
    def aic(self) -> float:
        return 2 * self.k - 2 * self.loglik

    @property
    def bic(self) -> float:
        return self.k * np.log(self.n_obs) - 2 * self.loglik

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Wald intervals: on log scale for the positive parameters, on the natural scale
        for covariate coefficients."""
        z = stats.norm.ppf(1 - alpha / 2)
        positive = self._positive()
        se_log = self.bse / self.params
        with np.errstate(over="ignore"):  # a runaway estimate has an unbounded interval
            return pd.DataFrame(
                {
                    "lower": np.where(
                        positive, self.params * np.exp(-z * se_log), self.params - z * self.bse
                    ),
                    "upper": np.where(
                        positive, self.params * np.exp(z * se_log), self.params + z * self.bse
                    ),
                },
                index=self.params.index,
            )

    def summary(self) -> str:
        """A statsmodels-style text table of estimates and fit statistics."""
        ci = self.conf_int()
        wide = max([8, *(len(str(n)) + 1 for n in self.params.index)])
        width = wide + 48 if wide > 18 else 66
        head = [
            f"{self.model} results".center(width),
            "=" * width,
            f"{'Customers:':<18}{self.n_obs:>14,.0f}   {'Log-likelihood:':<16}{self.loglik:>14.2f}",
            f"{'Parameters:':<18}{self.k:>14d}   {'AIC:':<16}{self.aic:>14.2f}",
            f"{'Converged:':<18}{str(self.converged):>14}   {'BIC:':<16}{self.bic:>14.2f}",
            f"{'Date:':<18}{datetime.now():%Y-%m-%d %H:%M}".ljust(width),
            "-" * width,
            f"{'':<{wide}}{'coef':>12}{'std err':>12}{'[0.025':>12}{'0.975]':>12}",
            "-" * width,
        ]
        rows = [
            f"{name:<{wide}}{value:>12.4f}{self.bse[name]:>12.4f}"
            f"{ci.loc[name, 'lower']:>12.4f}{ci.loc[name, 'upper']:>12.4f}"
            for name, value in self.params.items()
        ]
        tail = ["=" * width]
        if self.covariates is not None:
            tail.extend(self.covariates.describe())
        if not self.converged:
            tail.append(f"WARNING: the fit did not converge: {self.message}")
        return "\n".join(head + rows + tail)

    def __repr__(self) -> str:
        values = ", ".join(f"{k}={v:.4g}" for k, v in self.params.items())
        return f"<{self.model} fit: {values}; loglik={self.loglik:.2f}>"


def check_fixed(
    fixed: Mapping[str, Any] | None, names: Sequence[str], model: str, *, positive: bool = True
) -> dict[str, float]:
    """``fixed`` as ``{name: value}``: parameters of ``model`` only, finite (positive when
    ``positive``: every parameter of the model is), and at least one left free."""
    out = {str(k): float(v) for k, v in dict(fixed or {}).items()}
    unknown = set(out) - set(names)
    bad = [k for k, v in out.items() if not np.isfinite(v) or (positive and v <= 0)]
    if unknown:
        raise DataError(
            f"fixed names {sorted(unknown)} are not parameters of {model} ({', '.join(names)})."
        )
    if bad:
        kind = "positive" if positive else "finite"
        raise DataError(
            f"fixed must map parameters of {model} to {kind} values; got "
            + ", ".join(f"{k}={out[k]!r}" for k in bad)
            + "."
        )
    if out and len(out) == len(names):
        raise DataError(
            f"fixed holds every parameter of {model}; leave at least one free (use "
            "with_params on a fit to evaluate given values)."
        )
    return out


def fit_mle(
    negloglik: Callable[[np.ndarray], float | tuple[float, np.ndarray]],
    x0: Sequence[float],
    names: Sequence[str],
    *,
    jac: bool = False,
    maxiter: int = 2000,
    free: Sequence[str] = (),
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
    free : sequence of str
        Names of parameters on the whole real line (covariate coefficients): optimised and
        reported as they are, not on log scale; ``x0`` gives them on their own scale.

    Returns
    -------
    params, cov, loglik, converged, message, iterations
        ``cov`` is on the natural scale (delta method from the log-scale Hessian).
        A fit that did not converge is only flagged here; :func:`guard_fit` raises
        or warns.
    """
    positive = ~pd.Index(list(names)).isin(list(free))
    x0 = np.asarray(x0, dtype=float)
    start = np.where(positive, np.log(np.where(positive, x0, 1.0)), x0)

    def value(theta: np.ndarray) -> float:
        out = negloglik(theta)
        return float(out[0] if jac else out)

    # BFGS stops when every gradient component is below gtol. A total over a million
    # customers cannot get its gradient below ~1e-10 of its size (rounding), so an absolute
    # 1e-6 would end in failed line searches at the optimum (dozens of wasted evaluations);
    # 1e-8 of the starting value is far below what moves the estimates or the likelihood.
    gtol = max(1e-6, 1e-8 * abs(value(start))) if jac else 1e-6
    res = optimize.minimize(
        negloglik,
        start,
        jac=jac or None,
        method="BFGS" if jac else "Nelder-Mead",
        options={"maxiter": maxiter, "gtol": gtol} if jac else {"maxiter": maxiter * 5},
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
    params = np.where(positive, np.exp(theta), theta)
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
    scale = np.where(positive, params, 1.0)
    with np.errstate(over="ignore", invalid="ignore"):  # estimates run off to inf
        cov = cov_log * np.outer(scale, scale)
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
    label, value = values.index[pos], values.iloc[pos]
    label = label.item() if isinstance(label, np.generic) else label
    value = value.item() if isinstance(value, np.generic) else value
    raise DataError(
        f"column {column!r} has {int(mask.sum()):,} {problem}, first at row {pos + 1} "
        f"(index {label!r}): {value!r}. {fix}"
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


def edge_parameters(
    params: pd.Series,
    *,
    shapes: Sequence[str] | None = None,
    scales: Mapping[str, float] | None = None,
    limit: float = 1e6,
) -> list[str]:
    """Estimates that ran off towards 0 or infinity, as ``"name=value"`` strings.

    A shape parameter is at the edge below ``1/limit`` or above ``limit``; a scale
    parameter (whose size depends on the time unit or currency) below ``size/limit`` or
    above ``size*limit``, with ``size`` a typical value of the data in its unit (e.g. the
    longest customer age T). ``shapes=None`` checks every parameter not in ``scales``.
    """
    scales = dict(scales or {})
    names = [n for n in params.index if n not in scales] if shapes is None else list(shapes)
    found = []
    for name in [*names, *scales]:
        value = float(params[name])
        size = float(scales.get(name, 1.0)) or 1.0
        if not np.isfinite(value) or value > size * limit or value < size / limit:
            found.append(f"{name}={value:.3g}")
    return found


def guard_fit(
    model: str,
    params: pd.Series,
    converged: bool,
    message: str,
    *,
    strict: bool,
    advice: str,
    problems: Sequence[str] = (),
    shapes: Sequence[str] | None = None,
    scales: Mapping[str, float] | None = None,
    limit: float = 1e6,
) -> tuple[bool, str]:
    """Refuse a fit the data cannot support; return the updated ``(converged, message)``.

    A fit is broken when the data cannot identify the model (``problems`` found before
    fitting, e.g. no repeat buyer), an estimate sits on the edge of the parameter space
    (:func:`edge_parameters`), the Hessian is singular or not positive definite (no
    standard errors: the likelihood is flat or this is not a maximum), or the optimiser
    did not converge. With ``strict`` (the default of every ``fit``) that raises
    :class:`IdentificationError` saying what is wrong and ``advice`` (what to do);
    otherwise it warns (:class:`ConvergenceWarning`) and the result is flagged
    ``converged=False`` with the reasons in ``message``.
    """
    if not isinstance(strict, bool | np.bool_):
        raise DataError(f"strict must be True or False; got {strict!r}.")
    reasons = list(problems)
    edge = edge_parameters(params, shapes=shapes, scales=scales, limit=limit)
    if edge:
        reasons.append(
            f"estimates at the edge of the parameter space ({', '.join(edge)}): the data do "
            "not identify them (too few or too uniform customers)"
        )
    if "Hessian is singular" in message:
        reasons.append(
            "the likelihood is flat in some direction (singular Hessian): the data say "
            "nothing about at least one parameter, which has no standard error"
        )
    elif "not positive definite" in message:
        reasons.append(
            "the estimate is not a maximum of the likelihood (Hessian not positive definite)"
        )
    elif not converged:
        reasons.append(f"the optimiser did not converge ({message})")
    if not reasons:
        return converged, message
    text = (
        f"{model} cannot be estimated from these data: {'; '.join(reasons)}. {advice} "
        "(To inspect the flagged estimates anyway, e.g. when teaching, fit with strict=False.)"
    )
    if strict:
        raise IdentificationError(text)
    warnings.warn(f"maximum-likelihood fit did not converge: {text}", ConvergenceWarning, 3)
    return False, f"{message}; {'; '.join(reasons)}"


# ------------------------------------------------------------------ per-customer inputs


def per_customer(values: Any, data: pd.DataFrame, name: str) -> np.ndarray:
    """A number or a per-customer Series as an array aligned to ``data.index`` by customer id.

    A Series is matched by its index (never by position, so a Series in another order
    gives each customer their own value); ids of ``data`` missing from it, duplicate ids
    and missing values raise :class:`DataError`. Arrays and lists have no ids and are
    refused.
    """
    if isinstance(values, int | float | np.integer | np.floating) and not isinstance(values, bool):
        value = float(values)
        if not np.isfinite(value):
            raise DataError(f"{name}={values!r} must be a finite number.")
        return np.full(len(data), value)
    if not isinstance(values, pd.Series):
        raise DataError(
            f"{name} must be a number or a pandas Series indexed by customer id like the "
            f"summary; got a {type(values).__name__}, whose values would be matched by position "
            "and could land on the wrong customers."
        )
    if values.index.has_duplicates:
        dup = values.index[values.index.duplicated()]
        raise DataError(
            f"{name} has {len(dup):,} duplicate customer ids, first {dup[0]!r}; give one value "
            "per customer."
        )
    missing = data.index.difference(values.index)
    if len(missing):
        raise DataError(
            f"{name} has no value for {len(missing):,} customers of the summary, first "
            f"{missing[0]!r}; compute it on the same summary (it is matched by customer id)."
        )
    aligned = values.reindex(data.index)
    reject_rows(
        name,
        aligned.isna().to_numpy(),
        aligned,
        "missing values (NaN)",
        "Give every customer a value.",
    )
    return pd.to_numeric(aligned, errors="coerce").to_numpy(dtype=float)


def check_time_unit(result: FitResult, data: pd.DataFrame) -> None:
    """Refuse a summary whose ``attrs["time_unit"]`` differs from the fit's time unit."""
    unit = data.attrs.get("time_unit") if isinstance(data, pd.DataFrame) else None
    if result.time_unit and unit and unit != result.time_unit:
        raise DataError(
            f"the {result.model} model was fitted on a summary in time unit "
            f"{result.time_unit!r} but this summary is in {unit!r}; build both with the same "
            "time_unit (rates, recency and T are per time unit)."
        )


def check_horizon(horizon: Any, result: FitResult) -> float:
    """A positive finite forecast horizon in the model's time unit.

    A number is in the model's time unit; a duration such as ``"2Y"`` or ``"26W"`` is
    converted with :func:`crmlab.units.parse_duration` when the model knows its unit.
    """
    from crmlab import units

    if isinstance(horizon, str):
        if not result.time_unit:
            raise DataError(
                f"horizon {horizon!r} is a calendar duration but the {result.model} model does "
                "not know its time unit; give the horizon as a number of the summary's time "
                "units, or fit on a summary from crmlab.rfm_summary."
            )
        return units.parse_duration(horizon, result.time_unit)
    if isinstance(horizon, bool) or not isinstance(horizon, int | float | np.integer | np.floating):
        raise DataError(f"horizon must be a positive number of time units; got {horizon!r}.")
    value = float(horizon)
    if not (np.isfinite(value) and value > 0):
        raise DataError(
            f"horizon={horizon!r}: give a positive, finite horizon (in time units of the fit); "
            "a horizon of 0 has no value to forecast."
        )
    return value


def discount_per_period(
    discount_rate: float | None,
    annual_discount_rate: float | None,
    periods_per_year: float | None,
    time_unit: str | None,
) -> float:
    """The discount rate per model period from exactly one of the two ways to give it.

    ``discount_rate`` is per period of the model (per week for a weekly summary, per
    opportunity for BG/BB), ``>= 0`` (0 means no discounting). ``annual_discount_rate``
    :math:`d` is converted by compounding, :math:`(1+d)^{1/n} - 1` with ``n`` =
    ``periods_per_year`` or, by default, the periods per year of the model's time unit
    (:func:`crmlab.units.rate_per_period`; 10% a year is 0.183% a week).
    """
    from crmlab import units

    if (discount_rate is None) == (annual_discount_rate is None):
        raise DataError(
            "give exactly one of discount_rate (per period of the model, e.g. per week) and "
            "annual_discount_rate (per year, e.g. 0.10 for 10%)."
        )
    if discount_rate is not None:
        if isinstance(discount_rate, bool) or not isinstance(
            discount_rate, int | float | np.integer | np.floating
        ):
            raise DataError(f"discount_rate must be a number; got {discount_rate!r}.")
        rate = float(discount_rate)
        if not (np.isfinite(rate) and rate >= 0):
            raise DataError(
                f"discount_rate={discount_rate!r} must be a finite number >= 0 per period "
                "(0 means no discounting)."
            )
        return rate
    annual = units.rate_per_period(annual_discount_rate, "Y")  # validates: 0 <= d < 1
    if periods_per_year is not None:
        n = float(periods_per_year)
        if not (np.isfinite(n) and n > 0):
            raise DataError(f"periods_per_year={periods_per_year!r} must be a positive number.")
        return (1.0 + annual) ** (1.0 / n) - 1.0
    if not time_unit:
        raise DataError(
            "annual_discount_rate needs the model's periods per year: fit on a summary from "
            "crmlab.rfm_summary (which records its time unit) or give periods_per_year "
            "(e.g. 1 for yearly opportunities)."
        )
    return units.rate_per_period(annual, time_unit)


# ------------------------------------------------------------------------- intervals


def check_draws(draws: Any) -> int:
    if isinstance(draws, bool) or not isinstance(draws, int | np.integer) or draws < 10:
        raise DataError(f"draws must be a whole number >= 10; got {draws!r}.")
    return int(draws)


def check_level(level: Any) -> float:
    if isinstance(level, bool) or not isinstance(level, int | float | np.integer | np.floating):
        raise DataError(f"level must be a number in [0, 1), e.g. 0.9; got {level!r}.")
    if not 0 <= float(level) < 1:
        raise DataError(f"level={level!r} must lie in [0, 1), e.g. 0.9 for a 90% interval.")
    return float(level)


def _centred_quantiles(point: np.ndarray, samples: np.ndarray, level: float) -> tuple:
    """Interval of each column of ``samples`` (draws x items) around ``point``.

    With :math:`\\hat F` the draws' empirical distribution, :math:`u_0 = \\hat F(\\text{point})`
    the point estimate's rank among the draws, :math:`z_0 = \\Phi^{-1}(u_0)` and
    :math:`z = \\Phi^{-1}((1+L)/2)`, the bounds are
    ``point - [Q(u_0) - Q(Phi(z_0 - z))]`` and ``point + [Q(Phi(z_0 + z)) - Q(u_0)]``
    (``Q`` the draws' quantile function): the percentile interval when the point estimate
    is the draws' median (as for a monotone function of one parameter), and always
    containing the point estimate, shrinking to it as ``level`` -> 0.
    """
    n = samples.shape[0]
    if level == 0:
        return point.copy(), point.copy()
    below = (samples < point).mean(axis=0) + 0.5 * (samples == point).mean(axis=0)
    z0 = stats.norm.ppf(np.clip(below, 0.5 / n, 1 - 0.5 / n))
    zq = stats.norm.ppf((1 + level) / 2)
    ordered = np.sort(samples, axis=0)

    def at(u: np.ndarray) -> np.ndarray:
        pos = u * (n - 1)
        lo = np.floor(pos).astype(int)
        hi = np.minimum(lo + 1, n - 1)
        cols = np.arange(ordered.shape[1])
        frac = pos - lo
        with np.errstate(invalid="ignore"):  # inf draws: inf - inf
            return np.where(
                frac > 0,
                ordered[lo, cols] * (1 - frac) + ordered[hi, cols] * frac,
                ordered[lo, cols],
            )

    centre = at(stats.norm.cdf(z0))
    with np.errstate(invalid="ignore"):  # inf draws: inf - inf
        lower = point - (centre - at(stats.norm.cdf(z0 - zq)))
        upper = point + (at(stats.norm.cdf(z0 + zq)) - centre)
    return np.minimum(lower, point), np.maximum(upper, point)


#: Customers per block when intervals are computed block by block (draws x block values).
BLOCK_CUSTOMERS = 8192


def interval_frame_blocks(
    point: np.ndarray,
    values: Callable[[slice, slice], np.ndarray],
    draws: int,
    index: pd.Index,
    name: str,
    level: float,
    *,
    block: int = BLOCK_CUSTOMERS,
) -> pd.DataFrame:
    """:func:`interval_frame` without the draws x customers matrix in memory at once.

    ``values(draw_rows, customer_rows)`` gives the quantity under those draws for those
    customers (a block of the matrix :func:`interval_frame` takes). The total under each
    draw sums that draw's whole row in customer order, and each customer's interval uses
    that customer's column, so the frame equals ``interval_frame(point, matrix, ...)``
    value for value while memory holds ``draws x block`` (quantiles) or
    ``block x customers`` (totals) numbers.
    """
    point = np.asarray(point, dtype=float)
    n = point.size
    lower, upper = np.empty(n), np.empty(n)
    for lo in range(0, n, block):
        rows = slice(lo, min(lo + block, n))
        samples = np.asarray(values(slice(None), rows), dtype=float)
        samples = np.broadcast_to(samples, (draws, rows.stop - rows.start))
        lower[rows], upper[rows] = _centred_quantiles(point[rows], samples, level)
    per_draw = max(1, block * 64 // max(n, 1))
    totals = np.empty(draws)
    for lo in range(0, draws, per_draw):
        chunk = slice(lo, min(lo + per_draw, draws))
        rows = np.asarray(values(chunk, slice(None)), dtype=float)
        rows = np.broadcast_to(rows, (chunk.stop - chunk.start, n))
        totals[chunk] = np.ascontiguousarray(rows).sum(axis=1)
    frame = pd.DataFrame({name: point, "lower": lower, "upper": upper}, index=index)
    return _with_total(frame, point, totals[:, None], name, level, draws)


def _with_total(
    frame: pd.DataFrame, point: np.ndarray, totals: np.ndarray, name: str, level: float, n: int
) -> pd.DataFrame:
    total_point = np.array([point.sum()])
    t_lo, t_hi = _centred_quantiles(total_point, totals, level)
    frame.attrs["total"] = pd.Series(
        {
            name: float(total_point[0]),
            "lower": float(t_lo[0]),
            "upper": float(t_hi[0]),
            "level": level,
            "draws": n,
        },
        name="total",
    )
    return frame


def interval_frame(
    point: np.ndarray,
    samples: np.ndarray,
    index: pd.Index,
    name: str,
    level: float,
) -> pd.DataFrame:
    """Per-customer point estimate with ``lower``/``upper`` bounds, and the total's interval.

    ``samples`` holds the quantity under each parameter draw (draws x customers). The
    interval of the total over customers comes from the same draws (the sum under each
    draw), not from adding up per-customer bounds; it is stored in
    ``frame.attrs["total"]``, a Series with ``name``, ``lower``, ``upper``, ``level`` and
    ``draws``, and refers to all customers of this frame (recompute after subsetting).
    """
    point = np.asarray(point, dtype=float)
    samples = np.asarray(samples, dtype=float)
    lower, upper = _centred_quantiles(point, samples, level)
    frame = pd.DataFrame({name: point, "lower": lower, "upper": upper}, index=index)
    return _with_total(
        frame, point, samples.sum(axis=1, keepdims=True), name, level, samples.shape[0]
    )


# ------------------------------------------------------------------------ covariates


@dataclass(frozen=True)
class Covariates:
    r"""Time-invariant covariates of a fit: the design and how it enters the parameters.

    Each *link* names a group of coefficients, the model parameter it scales and a sign:
    ``theta_i = theta_0 exp(sign * gamma' z_i)``. The sign is chosen so that a coefficient
    reads as the log multiplier of a mean rate, e.g. for the Pareto/NBD
    :math:`\alpha_i = \alpha_0 e^{-\gamma_1' z_i}` (mean purchase rate
    :math:`r/\alpha_i = (r/\alpha_0) e^{\gamma_1' z_i}`; Fader & Hardie 2007, "Incorporating
    time-invariant covariates into the Pareto/NBD and BG/NBD models"). Numeric columns
    enter as they are; a categorical column (strings, categories, booleans) is one-hot
    encoded against its ``reference`` level (the first in sorted order unless given), so
    a coefficient is the effect of that level against the reference.
    """

    columns: tuple[str, ...]
    design: tuple[str, ...]
    levels: tuple[tuple[str, Any, tuple], ...]  # (column, reference, other levels)
    links: tuple[tuple[str, str, int], ...]  # (group, parameter, sign)

    @property
    def coef_names(self) -> tuple[str, ...]:
        return tuple(f"{group}:{d}" for group, _, _ in self.links for d in self.design)

    @classmethod
    def build(
        cls,
        data: pd.DataFrame,
        columns: Sequence[str],
        links: Mapping[str, tuple[str, int]],
        reference: Mapping[str, Any] | None = None,
    ) -> Covariates:
        """Read the covariate columns of ``data`` (one row per customer) into a design."""
        if isinstance(columns, str):
            columns = [columns]
        columns = list(columns)
        if not columns:
            raise DataError("covariates=[] names no column; leave it out to fit without them.")
        if not links:
            raise DataError("this model takes no covariates.")
        missing = [c for c in columns if c not in data.columns]
        if missing:
            raise DataError(
                f"covariates {', '.join(map(repr, missing))} are not columns of the summary; it "
                f"has {', '.join(map(repr, map(str, data.columns)))}. Add them to the summary "
                "(one value per customer, matched by customer id)."
            )
        if len(set(columns)) != len(columns):
            raise DataError(f"covariates {columns!r} names a column twice.")
        reference = dict(reference or {})
        unknown = set(reference) - set(columns)
        if unknown:
            raise DataError(f"reference levels given for {sorted(unknown)!r}, not covariates.")
        design: list[str] = []
        levels: list[tuple[str, Any, tuple]] = []
        for column in columns:
            values = data[column]
            reject_missing(data, [column])
            if _is_categorical(values):
                found = sorted(pd.unique(values.astype(object)), key=str)
                ref = reference.get(column, found[0] if found else None)
                if ref not in found:
                    raise DataError(
                        f"reference level {ref!r} of covariate {column!r} does not occur; its "
                        f"levels are {found!r}."
                    )
                others = tuple(v for v in found if v != ref)
                levels.append((column, ref, others))
                design.extend(f"{column}[{v}]" for v in others)
            else:
                if column in reference:
                    raise DataError(f"covariate {column!r} is numeric; it has no reference level.")
                numbers = pd.to_numeric(values, errors="coerce")
                reject_rows(
                    column,
                    ~np.isfinite(numbers.to_numpy(dtype=float)),
                    values,
                    "values that are not finite numbers",
                    "Covariates must be finite numbers or categories.",
                )
                design.append(column)
        link_rows = tuple((group, param, int(sign)) for group, (param, sign) in links.items())
        return cls(tuple(columns), tuple(design), tuple(levels), link_rows)

    def matrix(self, data: pd.DataFrame) -> np.ndarray:
        """The design matrix (customers x design columns) of ``data``."""
        require_frame(data, "covariates", self.columns)
        missing = [c for c in self.columns if c not in data.columns]
        if missing:
            raise DataError(
                f"the model was fitted with covariates {list(self.columns)!r}; these customers "
                f"have no column {', '.join(map(repr, missing))}."
            )
        reject_missing(data, list(self.columns))
        categorical = {column: (ref, others) for column, ref, others in self.levels}
        out = []
        for column in self.columns:
            values = data[column]
            if column in categorical:
                ref, others = categorical[column]
                known = values.astype(object).isin([ref, *others]).to_numpy()
                reject_rows(
                    column,
                    ~known,
                    values,
                    "levels the model was not fitted on",
                    f"Its levels are {[ref, *others]!r} (reference {ref!r}).",
                )
                out.extend((values.astype(object) == v).to_numpy(dtype=float) for v in others)
            else:
                numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
                reject_rows(
                    column,
                    ~np.isfinite(numbers),
                    values,
                    "values that are not finite numbers",
                    "Covariates must be finite numbers.",
                )
                out.append(numbers)
        return np.column_stack(out) if out else np.zeros((len(data), 0))

    def individual(self, params: pd.Series, z: np.ndarray) -> dict[str, np.ndarray]:
        """Each row's parameters ``theta_0 exp(sign * gamma' z)`` (only linked ones vary)."""
        log = {
            name: np.full(len(z), np.log(float(params[name])))
            for name in params.index
            if name not in self.coef_names
        }
        for group, param, sign in self.links:
            coefs = np.array([float(params[f"{group}:{d}"]) for d in self.design])
            log[param] = log[param] + sign * (z @ coefs)
        return {name: np.exp(v) for name, v in log.items()}

    def describe(self) -> list[str]:
        """Lines for ``summary()``: what the coefficients mean and the reference levels."""
        lines = [
            "Covariates: "
            + "; ".join(
                f"{group}: {param}_i = {param}_0 exp({'-' if sign < 0 else ''}{group}'z_i)"
                for group, param, sign in self.links
            )
        ]
        lines.extend(
            f"  {column}: one-hot, reference level {ref!r}" for column, ref, _ in self.levels
        )
        return lines


def _is_categorical(values: pd.Series) -> bool:
    return (
        isinstance(values.dtype, pd.CategoricalDtype)
        or pd.api.types.is_bool_dtype(values)
        or pd.api.types.is_object_dtype(values)
        or pd.api.types.is_string_dtype(values)
    )


# ----------------------------------------------------------------------------- model


class Model:
    """The public base of every customer-base model in crmlab.

    A model declares

    * ``name`` (its label in results), ``names`` (parameters, all > 0) and ``start``
      (default starting values, natural scale);
    * ``_data(data, design)``: validate the input and compress it into distinct patterns
      with customer counts (:meth:`compress_patterns`; a ``weight`` column counts customers
      per row) - an object with the counts ``w`` and, when ``design`` is given, the
      covariate rows ``Z`` of the patterns;
    * ``_loglik(theta, p, grad)``: the total log-likelihood at log-parameters ``theta``
      (and its gradient in ``theta`` when ``gradient`` is True);
    * for covariates, ``links`` (coefficient group -> (parameter, sign)) and
      ``_loglik_each(params, p, grad)``: per-pattern log-likelihoods at per-pattern
      parameters and their derivatives in each log-parameter;
    * ``result_class``, and optionally ``_problems(p)`` (why the data cannot identify the
      model), ``scales`` (parameters in data units, checked against ``_size(p)``),
      ``shapes`` and ``_extra(p)``.

    The base owns the rest: optimisation on log scale (:func:`fit_mle`), the
    boundary/identification guard (:func:`guard_fit`), standard errors from the Hessian,
    covariates (:class:`Covariates`; the chain rule from ``_loglik_each``) and the result.
    """

    name: str = ""
    names: tuple[str, ...] = ()
    start: tuple[float, ...] = ()
    result_class: type[FitResult] = FitResult
    gradient: bool = True
    advice: str = (
        "Use more customers or a longer observation window, or a simpler model (fewer parameters)."
    )
    scales: tuple[str, ...] = ()
    shapes: tuple[str, ...] | None = None
    links: Mapping[str, tuple[str, int]] = {}

    @property
    def label(self) -> str:
        """The model's name in results (alias of ``name``)."""
        return self.name

    # -- hooks a model supplies
    def _data(self, data: Any, design: np.ndarray | None) -> Any:
        raise NotImplementedError

    def _loglik(self, theta: np.ndarray, p: Any, grad: bool = False) -> Any:
        raise NotImplementedError

    def _loglik_each(
        self, params: Mapping[str, np.ndarray], p: Any, grad: bool = False
    ) -> Any:  # pragma: no cover - models with covariates override
        raise DataError(f"{self.name} takes no covariates.")

    def _problems(self, p: Any) -> list[str]:
        return []

    def _start_values(self, p: Any) -> tuple[float, ...]:
        """Default starting values (natural scale); may depend on the data."""
        return tuple(self.start)

    def _size(self, p: Any) -> float:
        return 1.0

    def _extra(self, p: Any) -> dict:
        return {}

    def _n_obs(self, p: Any) -> float:
        return float(np.sum(p.w))

    def _time_unit(self, data: Any) -> str | None:
        return data.attrs.get("time_unit") if isinstance(data, pd.DataFrame) else None

    def _result_kwargs(self, p: Any) -> dict:
        return {}

    def _after_fit(self, result: FitResult) -> FitResult:
        return result

    # -- what the base does
    @staticmethod
    def compress_patterns(
        data: pd.DataFrame,
        columns: Sequence[str],
        weight: str | None,
        design: np.ndarray | None,
    ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray | None]:
        """Distinct rows of ``data[columns]`` (with the covariate design, if any) and the
        customers sharing each; returns ``(patterns, counts, Z)``."""
        if design is None:
            patterns, counts = compress(data, columns, weight)
            return patterns, counts, None
        names = [f"_z{j}" for j in range(design.shape[1])]
        frame = data[list(columns)].copy()
        for j, name in enumerate(names):
            frame[name] = design[:, j]
        if weight:
            frame["_weight"] = data[weight].to_numpy(dtype=float)
        patterns, counts = compress(frame, [*columns, *names], "_weight" if weight else None)
        z = patterns[names].to_numpy(dtype=float) if names else np.zeros((len(patterns), 0))
        return patterns[list(columns)], counts, z

    def _start(self, initial: Any, names: Sequence[str], defaults: Sequence[float]) -> list[float]:
        if initial is None:
            return list(defaults)
        if isinstance(initial, Mapping):
            unknown = set(initial) - set(names)
            if unknown:
                raise DataError(
                    f"initial names {sorted(map(str, unknown))!r}, which are not parameters of "
                    f"{self.name} ({', '.join(names)})."
                )
            return [float(initial.get(k, d)) for k, d in zip(names, defaults, strict=True)]
        values = [float(v) for v in initial]  # a sequence in parameter order (older calls)
        if len(values) != len(self.names):
            raise DataError(
                f"initial needs {len(self.names)} values ({', '.join(self.names)}) or a dict "
                "by parameter name."
            )
        return values + list(defaults[len(values) :])

    def loglik(self, params: Any, data: Any) -> float:
        """Log-likelihood of ``data`` at given parameter values (a dict by name or values in
        :attr:`names` order), e.g. for profile likelihoods or to score another program's
        estimates on our data."""
        if isinstance(params, Mapping):
            params = [params[k] for k in self.names]
        values = np.asarray(params, dtype=float)
        if values.shape != (len(self.names),) or np.any(values <= 0):
            raise DataError(f"give {len(self.names)} positive values for {', '.join(self.names)}.")
        with np.errstate(all="ignore"):
            out = self._loglik(np.log(values), self._data(data, None))
        return float(out[0] if isinstance(out, tuple) else out)

    def fit(
        self,
        data: Any,
        *,
        covariates: Sequence[str] | None = None,
        reference: Mapping[str, Any] | None = None,
        initial: Mapping[str, float] | Sequence[float] | None = None,
        maxiter: int = 2000,
        strict: bool = True,
        fixed: Mapping[str, float] | None = None,
    ) -> FitResult:
        """Fit by maximum likelihood on distinct patterns with customer counts.

        Parameters
        ----------
        data
            The model's input (a customer summary; see the model).
        covariates : list of str, optional
            Time-invariant covariate columns of ``data`` (numeric, or categorical one-hot
            encoded against ``reference[column]``, default the first level in sorted
            order). Each enters the parameters named in the model's ``links`` as
            ``theta_i = theta_0 exp(sign * gamma' z_i)``; see :class:`Covariates`.
        initial : dict, optional
            Starting values by parameter name (covariate coefficients start at 0).
        maxiter : int
            Iteration limit of the optimiser.
        strict : bool
            Raise :class:`IdentificationError` when the data cannot identify the model, an
            estimate runs to the edge of the parameter space, the Hessian is singular or
            the optimiser does not converge; with False, warn and return the result
            flagged ``converged=False``.
        fixed : dict, optional
            Parameters held at given values (a profile likelihood, or a published value
            of a weakly identified parameter); they get standard error 0 and do not count
            in ``k`` for AIC/BIC.
        """
        if not isinstance(strict, bool | np.bool_):
            raise DataError(f"strict must be True or False; got {strict!r}.")
        spec = None
        design = None
        if covariates is not None:
            if not self.links:
                raise DataError(f"{self.name} takes no covariates.")
            require_frame(data, self.name, list(covariates))
            spec = Covariates.build(data, covariates, self.links, reference)
            design = spec.matrix(data)
        elif reference:
            raise DataError("reference levels need covariates=[...].")
        p = self._data(data, design)
        names = [*self.names, *(spec.coef_names if spec else ())]
        defaults = [*self._start_values(p), *([0.0] * (len(names) - len(self.names)))]
        x0 = self._start(initial, names, defaults)
        if np.any(np.asarray(x0[: len(self.names)]) <= 0):
            raise DataError(f"initial values of {', '.join(self.names)} must be > 0; got {x0!r}.")
        n = self._n_obs(p)
        if n == 0:
            raise DataError("the data hold no customers (all weights are 0); nothing to fit.")
        problems = list(self._problems(p))
        if n <= len(names) and not problems:
            problems.append(
                f"{n:g} customers cannot identify {len(names)} parameters ({', '.join(names)})"
            )
        if spec is not None:
            zw = p.Z[p.w > 0]
            for j, column in enumerate(spec.design):
                if zw.size and np.all(zw[:, j] == zw[0, j]):
                    problems.append(
                        f"covariate {column!r} takes one value ({zw[0, j]:g}) for every "
                        "customer, so its effect cannot be told apart from the baseline"
                    )
        shapes = (
            self.shapes
            if self.shapes is not None
            else [k for k in self.names if k not in self.scales]
        )
        if problems and strict:  # no need to run the optimiser to know the answer
            guard_fit(
                self.name,
                pd.Series(x0[: len(self.names)], self.names),
                True,
                "",
                strict=True,
                advice=self.advice,
                problems=problems,
                shapes=shapes,
                scales={},
            )
        negll = self._objective(p, spec)
        fixed = check_fixed(fixed, self.names, self.name)
        jac = self.gradient or spec is not None
        if fixed:
            held = np.array([n in fixed for n in names])
            held_values = np.log([float(fixed[n]) for n in names if n in fixed])
            inner = negll

            def negll(theta: np.ndarray) -> Any:
                full = np.empty(held.size)
                full[held], full[~held] = held_values, theta
                out = inner(full)
                return (out[0], np.asarray(out[1])[~held]) if jac else out

        fitted = [n for n in names if n not in fixed]
        params, cov, loglik, ok, msg, nit = fit_mle(
            negll,
            [v for n, v in zip(names, x0, strict=True) if n not in fixed],
            fitted,
            jac=jac,
            maxiter=maxiter,
            free=spec.coef_names if spec else (),
        )
        if fixed:
            params = pd.Series(
                [float(fixed[n]) if n in fixed else float(params[n]) for n in names], names
            )
            cov = cov.reindex(index=names, columns=names).fillna(0.0)
        size = self._size(p)
        ok, msg = guard_fit(
            self.name,
            params,
            ok,
            msg,
            strict=strict,
            advice=self.advice,
            problems=problems,
            shapes=shapes,
            scales={k: size for k in self.scales},
        )
        result = self.result_class(
            model=self.name,
            params=params,
            cov=cov,
            loglik=loglik,
            n_obs=n,
            converged=ok,
            message=msg,
            iterations=nit,
            extra=self._extra(p),
            time_unit=self._time_unit(data),
            covariates=spec,
            **self._result_kwargs(p),
        )
        if fixed:
            result.extra["fixed"] = fixed
        return self._after_fit(result)

    def _objective(self, p: Any, spec: Covariates | None) -> Callable:
        """Negative log-likelihood (with gradient when available) over the fitted vector."""
        k = len(self.names)
        if spec is None:

            def negll(theta: np.ndarray) -> Any:
                with np.errstate(all="ignore"):
                    out = self._loglik(theta, p, grad=self.gradient)
                if self.gradient:
                    value, gradient = out
                    if not np.isfinite(value) or not np.all(np.isfinite(gradient)):
                        return 1e300, np.zeros_like(theta)
                    return -value, -np.asarray(gradient, dtype=float)
                return -out if np.isfinite(out) else 1e300

            return negll
        positions = {name: j for j, name in enumerate(self.names)}
        blocks = []
        for g, (_, param, sign) in enumerate(spec.links):
            cols = slice(k + g * len(spec.design), k + (g + 1) * len(spec.design))
            blocks.append((positions[param], sign, cols))

        def negll_cov(theta: np.ndarray) -> tuple[float, np.ndarray]:
            log = np.repeat(theta[:k, None], len(p.w), axis=1)
            for j, sign, cols in blocks:
                log[j] = log[j] + sign * (p.Z @ theta[cols])
            with np.errstate(all="ignore"):
                each, derivs = self._loglik_each(
                    {name: np.exp(log[j]) for name, j in positions.items()}, p, grad=True
                )
                value = float(p.w @ each)
                weighted = derivs * p.w  # (k, patterns): d ln L_i / d log theta_ij
                gradient = np.empty_like(theta)
                gradient[:k] = weighted.sum(axis=1)
                for j, sign, cols in blocks:
                    gradient[cols] = sign * (p.Z.T @ weighted[j])
            if not np.isfinite(value) or not np.all(np.isfinite(gradient)):
                return 1e300, np.zeros_like(theta)
            return -value, -gradient

        return negll_cov
