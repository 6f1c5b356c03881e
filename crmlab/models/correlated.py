r"""Pareto/NBD with correlated purchase and dropout rates (Sarmanov mixing distribution).

The Pareto/NBD assumes the purchase rate :math:`\lambda \sim \mathrm{Gamma}(r, \alpha)` and
the dropout rate :math:`\mu \sim \mathrm{Gamma}(s, \beta)` independent. Following CLVTools'
correlation extension (``pnbd(..., use.cor = TRUE)``; the Sarmanov family of Park & Fader
2004 and Glady, Lemmens & Croux 2015), their joint density is

.. math:: g(\lambda)\, h(\mu)\, \big[1 + m\,(e^{-c\lambda} - L_A)(e^{-c\mu} - L_B)\big],
    \quad L_A = \Big(\frac{\alpha}{\alpha+c}\Big)^r,\; L_B = \Big(\frac{\beta}{\beta+c}\Big)^s

(the gamma Laplace transforms at the kernel scale c; CLVTools fixes c = 1), with the gamma
marginals kept exactly and m bounded so the density stays non-negative:
:math:`-1/\max(L_A L_B, (1-L_A)(1-L_B)) \le m \le 1/\max(L_A(1-L_B), (1-L_A)L_B)`.
Since :math:`e^{-c\lambda} g(\lambda; r, \alpha) = L_A\, g(\lambda; r, \alpha+c)`, every
expectation is four Pareto/NBD ones: with :math:`c_{ab}` the Pareto/NBD likelihood of a
customer at :math:`(r, \alpha+ac, s, \beta+bc)` and :math:`K = m L_A L_B`,

.. math:: L = (1+K)\, c_{00} - K c_{10} - K c_{01} + K c_{11},

and the same combination gives P(alive), conditional and unconditional expectations. The
gradient is analytic: each :math:`\partial \ln c_{ab}` is the Pareto/NBD's (the J-table of
:mod:`crmlab.models.nbd`, once per distinct (x, t) pair), and
:math:`\partial K/\partial\theta` is elementary. The correlation of the rates is

.. math:: \rho = m\, L_A L_B \frac{\sqrt{r s}\, c^2}{(\alpha+c)(\beta+c)},

reported with its delta-method standard error. m = 0 is the Pareto/NBD.

The kernel :math:`e^{-c\lambda}` ties the family to the time unit. With c = 1 and weekly
rates (a few purchases a year, alpha and beta near 10 weeks) :math:`L_A, L_B \approx 0.95`
and the family can express only :math:`|\rho| \lesssim 0.08`: on CDNOW the likelihood keeps
rising to that bound (so does CLVTools', which returns NA beyond it). A kernel scale near
the gamma scales (c = 10 weeks on CDNOW) widens the range to about [-0.13, 0.29];
:func:`correlation_range` gives it for any estimates and :func:`compare_kernel_scales`
fits several. Each c is a different family, all nesting the Pareto/NBD at m = 0. On CDNOW
(sample and full cohort) every scale tried (0.1 to 300 weeks) ends on the upper bound:
the fit is the constrained maximum (a :class:`FamilyBoundWarning`, no Wald standard
error), tested against the Pareto/NBD by the likelihood ratio and bounded by a
profile-likelihood interval (:meth:`CorrelatedParetoNBDResult.correlation_interval`).

:class:`crmlab.models.lognormal.LognormalParetoNBD` is the alternative without a bound:
Abe's (2009) bivariate lognormal rates with any correlation in (-1, 1).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats
from scipy.special import digamma, gammaln

from crmlab.errors import DataError
from crmlab.models.base import (
    FitResult,
    check_fixed,
    fit_mle,
    guard_fit,
)
from crmlab.models.nbd import (
    NBDResult,
    ParetoNBDResult,
    _Model,
    _pareto_index,
    _pareto_log_drop,
    _ParetoIndex,
    _Patterns,
    _patterns,
    _softplus_shares,
)

SHIFTS = ((0, 0), (1, 0), (0, 1), (1, 1))
"""The (a, b) of the four Pareto/NBD parts c_ab, at (alpha + a c, beta + b c)."""


def _check_scale(kernel_scale: Any) -> float:
    try:
        c = float(kernel_scale)
    except (TypeError, ValueError):
        c = np.nan
    if not np.isfinite(c) or c <= 0 or isinstance(kernel_scale, bool):
        raise DataError(
            f"kernel_scale must be a positive number (time units of the summary; 1 is "
            f"CLVTools' choice); got {kernel_scale!r}."
        )
    return c


def _laplace(r: float, alpha: float, s: float, beta: float, c: float = 1.0) -> tuple[float, float]:
    """The gamma Laplace transforms at c: :math:`(\\alpha/(\\alpha+c))^r, (\\beta/(\\beta+c))^s`."""
    return (alpha / (alpha + c)) ** r, (beta / (beta + c)) ** s


def m_bounds(
    r: float, alpha: float, s: float, beta: float, kernel_scale: float = 1.0
) -> tuple[float, float]:
    """The range of m for which the Sarmanov density is non-negative everywhere.

    With :math:`\\phi_A = e^{-c\\lambda} - L_A \\in (-L_A, 1 - L_A]` (and :math:`\\phi_B`
    alike), :math:`1 + m\\phi_A\\phi_B \\ge 0` for all rates if and only if
    :math:`-1/\\max(L_A L_B, (1-L_A)(1-L_B)) \\le m \\le 1/\\max(L_A(1-L_B), (1-L_A)L_B)`.
    """
    la, lb = _laplace(r, alpha, s, beta, kernel_scale)
    return -1 / max(la * lb, (1 - la) * (1 - lb)), 1 / max(la * (1 - lb), (1 - la) * lb)


def _slack(values: np.ndarray, c: float) -> np.ndarray:
    """The four smooth constraints whose joint non-negativity is ``m`` within
    :func:`m_bounds`: ``1 - m L_A(1-L_B)``, ``1 - m (1-L_A) L_B``, ``1 + m L_A L_B``,
    ``1 + m (1-L_A)(1-L_B)``."""
    r, alpha, s, beta, m = values
    la, lb = _laplace(r, alpha, s, beta, c)
    return np.array(
        [1 - m * la * (1 - lb), 1 - m * (1 - la) * lb, 1 + m * la * lb, 1 + m * (1 - la) * (1 - lb)]
    )


def _rho_parts(values: np.ndarray, c: float = 1.0) -> tuple[float, np.ndarray]:
    r"""``base`` with :math:`\rho = m \cdot base`, :math:`base = L_A L_B \sqrt{rs}\,
    c^2/((\alpha+c)(\beta+c))`, and the derivatives of ln base in natural (r, alpha, s,
    beta)."""
    r, alpha, s, beta = (float(v) for v in values[:4])
    la, lb = _laplace(r, alpha, s, beta, c)
    base = la * lb * np.sqrt(r * s) * c * c / ((alpha + c) * (beta + c))
    log_parts = np.array(
        [
            np.log(alpha / (alpha + c)) + 1 / (2 * r),
            r * c / (alpha * (alpha + c)) - 1 / (alpha + c),
            np.log(beta / (beta + c)) + 1 / (2 * s),
            s * c / (beta * (beta + c)) - 1 / (beta + c),
        ]
    )
    return base, log_parts


def _rho_and_gradient(values: np.ndarray, c: float = 1.0) -> tuple[float, np.ndarray]:
    """The rates' correlation and its gradient in (r, alpha, s, beta, m)."""
    base, log_parts = _rho_parts(values, c)
    m = float(values[4])
    return m * base, np.r_[m * base * log_parts, base]


def correlation_range(
    r: float, alpha: float, s: float, beta: float, kernel_scale: float = 1.0
) -> tuple[float, float]:
    """The smallest and largest correlation of the rates the Sarmanov family can express
    at these gamma marginals and kernel scale (:func:`m_bounds` mapped through
    :math:`\\rho = m L_A L_B \\sqrt{rs}\\, c^2/((\\alpha+c)(\\beta+c))`)."""
    c = _check_scale(kernel_scale)
    low, high = m_bounds(r, alpha, s, beta, c)
    per_m = _rho_and_gradient(np.array([r, alpha, s, beta, 1.0]), c)[0]
    return low * per_m, high * per_m


def _weights(r: float, alpha: float, s: float, beta: float, m: float, c: float) -> np.ndarray:
    """Coefficients of c00, c10, c01, c11 in the likelihood (and every expectation)."""
    la, lb = _laplace(r, alpha, s, beta, c)
    k = m * la * lb
    return np.array([1 + k, -k, -k, k])


def _components(
    params: tuple[float, float, float, float],
    c: float,
    x: np.ndarray,
    T: np.ndarray,
    ux: np.ndarray,
    inv: np.ndarray,
    index: _ParetoIndex,
    grad: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The four shifted Pareto/NBD parts per pattern (Fader & Hardie 2005 note, eq. 22).

    Returns ``ll`` (4 x n, ln c_ab), ``alive`` (4 x n, the alive-at-T term of ln c_ab) and,
    with ``grad``, ``d`` (4 x 4 x n): the derivatives of ln c_ab in the natural (r, alpha,
    s, beta) of the *unshifted* parameters (d alpha' / d alpha = 1). Per part:
    ``ln c = H + ln(e^S + e^D)`` with ``H = ln Gamma(r+x)/Gamma(r) + r ln alpha' + s ln
    beta'``, ``S = -(r+x) ln(alpha'+T) - s ln(beta'+T)``, ``D = ln s + ln[J(x,t_x) - J(x,T)]``
    and ``d ln c = dH + pi_S dS + pi_D dD`` (the shares of the two branches).
    """
    r, alpha, s, beta = params
    n = x.size
    log_gamma = (gammaln(r + ux) - gammaln(r))[inv]
    d_gamma = (digamma(r + ux) - digamma(r))[inv] if grad else None
    ll, alive = np.empty((4, n)), np.empty((4, n))
    d = np.empty((4, 4, n)) if grad else None
    for k, (da, db) in enumerate(SHIFTS):
        a, b = alpha + da * c, beta + db * c
        log_a = np.log(a + index.y)[index.at_T]
        log_b = np.log(b + index.y)[index.at_T]
        head = log_gamma + r * np.log(a) + s * np.log(b)
        S = -(r + x) * log_a - s * log_b
        log_drop, at_tx, at_T, q = _pareto_log_drop((r, a, s, b), index, grad)
        softplus, p_s, p_d = _softplus_shares(np.log(s) + log_drop - S)
        alive[k] = head + S
        ll[k] = head + S + softplus
        if d is not None and at_tx is not None and at_T is not None and q is not None:
            first = np.divide(1.0, 1.0 - q, out=np.zeros_like(q), where=q < 1)
            d_drop = (at_tx[:, 1:] - q[:, None] * at_T[:, 1:]) * first[:, None]
            d[k, 0] = d_gamma + np.log(a) - p_s * log_a + p_d * d_drop[:, 0]
            d[k, 1] = r / a - p_s * (r + x) * np.exp(-log_a) + p_d * d_drop[:, 1]
            d[k, 2] = np.log(b) - p_s * log_b + p_d * (1 / s + d_drop[:, 2])
            d[k, 3] = s / b - p_s * s * np.exp(-log_b) + p_d * d_drop[:, 3]
    return ll, alive, d


def _combine(weights: np.ndarray, logs: np.ndarray) -> np.ndarray:
    """``ln sum_ab w_ab e^logs_ab`` by customer (nan where the sum is not positive)."""
    top = logs.max(axis=0)
    total = weights @ np.exp(logs - top)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, top + np.log(total), np.nan)


def _sarmanov_loglik(
    values: np.ndarray, c: float, p: _Patterns, grad: bool = False
) -> tuple[float, np.ndarray | None]:
    """Total log-likelihood at natural (r, alpha, s, beta, m) and, with ``grad``, its
    gradient in (ln r, ln alpha, ln s, ln beta, m); ``-inf`` where a customer's likelihood
    is not positive (m far outside :func:`m_bounds`). Within and just beyond the bounds the
    formula is the same analytic function, which keeps the optimiser's steps smooth.

    ``d ln L/d theta = sum_ab (w_ab c_ab / L) d ln c_ab + (c00 - c10 - c01 + c11)/L dK``
    with ``K = m L_A L_B``.
    """
    r, alpha, s, beta, m = (float(v) for v in values)
    index = p.pairs if p.pairs is not None else _pareto_index(p.x, p.tx, p.T)
    ll, _, d = _components((r, alpha, s, beta), c, p.x, p.T, p.ux, p.inv, index, grad)
    la, lb = _laplace(r, alpha, s, beta, c)
    K = m * la * lb
    w = np.array([1 + K, -K, -K, K])
    top = ll.max(axis=0)
    e = np.exp(ll - top)
    total = w @ e
    if not np.all(total > 0) or not np.all(np.isfinite(top)):
        return -np.inf, (np.full(5, np.nan) if grad else None)
    value = float(p.w @ (top + np.log(total)))
    if d is None:
        return value, None
    share = w[:, None] * e / total
    contrast = (e[0] - e[1] - e[2] + e[3]) / total
    d_natural = np.einsum("kn,kjn->jn", share, d)
    d_K = np.array(
        [
            K * np.log(alpha / (alpha + c)),
            K * r * c / (alpha * (alpha + c)),
            K * np.log(beta / (beta + c)),
            K * s * c / (beta * (beta + c)),
        ]
    )
    g_natural = d_natural @ p.w + d_K * float(contrast @ p.w)
    g_m = la * lb * float(contrast @ p.w)
    return value, np.r_[g_natural * np.array([r, alpha, s, beta]), g_m]


class CorrelatedParetoNBDResult(NBDResult):
    """A fitted Pareto/NBD with correlated rates; ``correlation`` and ``correlation_se``
    give :math:`\\rho` and its delta-method standard error, ``kernel_scale`` the c of the
    Sarmanov kernel. Predictions combine the four Pareto/NBD ones (see the module
    docstring)."""

    @property
    def free(self) -> list[str]:
        """``m`` takes any sign: intervals and draws treat it on its own scale."""
        return ["m"]

    @property
    def kernel_scale(self) -> float:
        """c of the kernel :math:`e^{-c\\lambda}` (time units of the fit)."""
        return float(self.extra.get("kernel_scale", 1.0))

    def _parts(self) -> list[ParetoNBDResult]:
        r, alpha, s, beta, _ = self._p()
        c = self.kernel_scale
        return [
            ParetoNBDResult(
                model="Pareto/NBD",
                params=pd.Series([r, alpha + a * c, s, beta + b * c], ["r", "alpha", "s", "beta"]),
                cov=pd.DataFrame(),
                loglik=np.nan,
                n_obs=self.n_obs,
                converged=True,
                message="",
            )
            for a, b in SHIFTS
        ]

    def _weights(self) -> np.ndarray:
        return _weights(*self._p(), self.kernel_scale)

    def _log_parts(self, x, tx, T) -> tuple[np.ndarray, np.ndarray]:
        r, alpha, s, beta, _ = self._p()
        x, tx, T = (np.asarray(v, dtype=float).ravel() for v in (x, tx, T))
        ux, inv = np.unique(x, return_inverse=True)
        index = _pareto_index(x, tx, T)
        ll, alive, _ = _components((r, alpha, s, beta), self.kernel_scale, x, T, ux, inv, index)
        return ll, alive

    @property
    def correlation(self) -> float:
        """Correlation of the purchase and dropout rates implied by the estimates."""
        return float(_rho_and_gradient(self.params.to_numpy(dtype=float), self.kernel_scale)[0])

    @property
    def correlation_se(self) -> float:
        """Delta-method standard error of :attr:`correlation` (``grad' cov grad``; NaN
        when the fit has no covariance, e.g. at a bound of the family)."""
        grad = _rho_and_gradient(self.params.to_numpy(dtype=float), self.kernel_scale)[1]
        return float(np.sqrt(max(grad @ self.cov.to_numpy(dtype=float) @ grad, 0.0)))

    @property
    def correlation_range(self) -> tuple[float, float]:
        """The correlations the family can express at the fitted marginals
        (:func:`correlation_range`)."""
        return correlation_range(*self._p()[:4], kernel_scale=self.kernel_scale)

    def likelihood_ratio(self, independent: FitResult) -> dict[str, float]:
        """Likelihood-ratio test of m = 0 against a Pareto/NBD fit of the same data:
        ``statistic = 2 (LL - LL_0)``, chi-square with 1 degree of freedom (m = 0 is inside
        the parameter space, so the usual asymptotics hold)."""
        if not np.isclose(independent.n_obs, self.n_obs):
            raise DataError(
                f"the Pareto/NBD fit has {independent.n_obs:,.0f} customers and this fit "
                f"{self.n_obs:,.0f}; test both fits on the same summary."
            )
        statistic = max(2 * (self.loglik - independent.loglik), 0.0)
        return {
            "statistic": float(statistic),
            "df": 1.0,
            "p_value": float(stats.chi2.sf(statistic, 1)),
        }

    def correlation_interval(
        self, data: pd.DataFrame, level: float = 0.95, steps: int = 10
    ) -> pd.Series:
        r"""Profile-likelihood interval of the correlation (valid also at a bound).

        The correlations whose profile log-likelihood
        (:meth:`CorrelatedParetoNBD.profile`) is within :math:`\chi^2_1(level)/2` of the
        maximum: each side is walked outward from the estimate in ``steps`` steps across
        the family's range at the fitted marginals, then bisected. An end the family cannot
        pass before the likelihood drops that far is flagged ``*_limited_by_family``.
        ``data`` is the summary the model was fitted on.
        """
        if not 0 < level < 1:
            raise DataError(f"level must be between 0 and 1 (e.g. 0.95); got {level!r}.")
        model = CorrelatedParetoNBD(self.kernel_scale)
        target = self.loglik - stats.chi2.ppf(level, 1) / 2
        centre = self.correlation
        low, high = self.correlation_range
        step = (high - low) / steps
        out: dict[str, Any] = {"correlation": centre, "level": level}
        for side, name in ((-1, "lower"), (1, "upper")):
            inside, start = centre, self.params
            outside, limited = None, False
            for k in range(1, 4 * steps + 1):
                rho = centre + side * k * step
                ll, where = model.profile(data, rho, start)
                if not np.isfinite(ll) or abs(rho) >= 1:
                    outside, limited = rho, True
                    break
                if ll < target:
                    outside = rho
                    break
                inside, start = rho, where
            if outside is None:
                out[name], out[f"{name}_limited_by_family"] = inside, True
                continue
            for _ in range(20):  # bisect between the last point inside and the first outside
                middle = (inside + outside) / 2
                ll, where = model.profile(data, middle, start)
                if np.isfinite(ll) and ll >= target:
                    inside, start = middle, where
                else:
                    outside = middle
                    limited = limited and not np.isfinite(ll)
                if abs(outside - inside) < 1e-4 * step * steps:
                    break
            out[name], out[f"{name}_limited_by_family"] = inside, limited
        return pd.Series(out)

    def summary(self) -> str:
        low, high = self.correlation_range
        text = (
            super().summary()
            + f"\nCorrelation of purchase and dropout rates: {self.correlation:.4f} "
            f"(std err {self.correlation_se:.4f}; the family spans [{low:.3f}, {high:.3f}] "
            f"with kernel scale {self.kernel_scale:g})"
        )
        bound = self.extra.get("at_bound")
        if bound:
            text += (
                f"\nm is on the {bound} bound of the Sarmanov family: the estimates are the "
                "constrained maximum and have no standard errors; see likelihood_ratio and "
                "correlation_interval."
            )
        return text

    def _alive(self, x, tx, T):
        x, tx, T = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (x, tx, T)))
        ll, alive = self._log_parts(x, tx, T)
        w = self._weights()
        return np.exp(_combine(w, alive) - _combine(w, ll)).reshape(x.shape)

    def _log_odds_dead(self, x, tx, T):
        p = self._alive(x, tx, T)
        with np.errstate(divide="ignore"):
            return np.log1p(-p) - np.log(p)

    def _unconditional(self, t):
        w = self._weights()
        return sum(wi * part._unconditional(t) for wi, part in zip(w, self._parts(), strict=True))

    def _core(self, t, x, T):
        # E[X(T, T+t) | alive at T]: the alive parts A_ab (which do not depend on t_x)
        # weight the four Pareto/NBD expectations of a customer alive at T
        t, x, T = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (t, x, T)))
        w = self._weights()
        alive = self._log_parts(x, np.zeros(x.size), T)[1]
        share = w[:, None] * np.exp(alive - _combine(w, alive))
        cores = np.array([part._core(t, x, T).ravel() for part in self._parts()])
        return np.sum(share * cores, axis=0).reshape(x.shape)


class CorrelatedParetoNBD(_Model):
    """Pareto/NBD with correlated purchase and dropout rates; params ``r, alpha, s, beta``
    (as the Pareto/NBD) and ``m`` (the Sarmanov coefficient, any sign within
    :func:`m_bounds`); ``result.correlation`` is the rates' correlation. ``fixed={"m": 0}``
    is the Pareto/NBD.

    Parameters
    ----------
    kernel_scale : float
        c of the kernel :math:`e^{-c\\lambda}`, in time units of the summary. 1 (the
        default) is CLVTools' family; with weekly data a scale near the fitted alpha and
        beta (e.g. 10) lets the family express much larger correlations (see the module
        docstring and :func:`correlation_range`).
    """

    names = ("r", "alpha", "s", "beta", "m")
    start = (0.5, 10.0, 0.5, 10.0, 0.0)
    name = "Pareto/NBD (correlated)"
    scales = ("alpha", "beta")
    result_class = CorrelatedParetoNBDResult

    def __init__(self, kernel_scale: float = 1.0) -> None:
        self.kernel_scale = _check_scale(kernel_scale)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(kernel_scale={self.kernel_scale:g})"

    def _data(self, data: pd.DataFrame, design: np.ndarray | None) -> _Patterns:
        if design is not None:
            raise DataError(f"{self.name} takes no covariates.")
        return _patterns(data, pairs=True)

    def _loglik(self, theta: np.ndarray, p: _Patterns, grad: bool = False) -> Any:
        """At (ln r, ln alpha, ln s, ln beta, m); -inf outside :func:`m_bounds`."""
        values = np.r_[np.exp(theta[:4]), theta[4]]
        low, high = m_bounds(*values[:4], self.kernel_scale)
        if not low <= values[4] <= high:
            return (-np.inf, np.full(5, np.nan)) if grad else -np.inf
        value, gradient = _sarmanov_loglik(values, self.kernel_scale, p, grad)
        return (value, gradient) if grad else value

    def loglik(self, params: Any, data: Any) -> float:
        """Log-likelihood at given values (dict by name or values in :attr:`names` order;
        m may be negative; -inf outside :func:`m_bounds`)."""
        if isinstance(params, dict):
            params = [params[k] for k in self.names]
        values = np.asarray(params, dtype=float)
        if values.shape != (5,) or np.any(values[:4] <= 0) or not np.all(np.isfinite(values)):
            raise DataError("give r, alpha, s, beta > 0 and a finite m.")
        with np.errstate(all="ignore"):
            return float(self._loglik(np.r_[np.log(values[:4]), values[4]], self._data(data, None)))

    def fit(  # type: ignore[override]
        self,
        data: pd.DataFrame,
        *,
        initial: dict[str, float] | None = None,
        maxiter: int = 2000,
        strict: bool = True,
        fixed: dict[str, float] | None = None,
    ) -> CorrelatedParetoNBDResult:
        """Fit by maximum likelihood with the analytic gradient.

        SLSQP keeps m inside :func:`m_bounds` (four smooth constraints, see
        :func:`_slack`); an interior optimum is then polished by BFGS and its standard
        errors come from central differences of the analytic gradient (:func:`fit_mle`).
        Starts from the Pareto/NBD's estimates with m = 0 unless ``initial`` says
        otherwise; ``fixed`` holds parameters (e.g. ``{"m": 0}``).

        When the maximum lies on a bound of the Sarmanov family (the data ask for more
        correlation than the family expresses at this ``kernel_scale``; CDNOW does at
        every scale) the result is the constrained maximum, ``at_bound`` says which
        bound, the covariance is NaN (there is no curvature-based standard error at a
        bound) and a :class:`FamilyBoundWarning` says so; the likelihood-ratio test
        (:meth:`CorrelatedParetoNBDResult.likelihood_ratio`) and the profile-likelihood
        interval (:meth:`CorrelatedParetoNBDResult.correlation_interval`) remain valid.

        Raises
        ------
        IdentificationError
            As every model's ``fit`` (or warns with ``strict=False``): data that cannot
            identify the model, marginal estimates at the edge of the parameter space, a
            singular Hessian or no convergence.
        """
        from crmlab.models.nbd import ParetoNBD

        c = self.kernel_scale
        p = self._data(data, None)
        problems = self._problems(p)
        fixed = check_fixed(fixed, self.names, self.name, positive=False)
        if problems and strict:
            guard_fit(
                self.name,
                pd.Series(self.start[:4], self.names[:4]),
                True,
                "",
                strict=True,
                advice=self.advice,
                problems=problems,
            )
        if initial is None:
            base = ParetoNBD().fit(data, strict=False)
            initial = {**base.params.to_dict(), "m": 0.0}
        start = {**dict(zip(self.names, self.start, strict=True)), **initial, **fixed}
        free = [n for n in self.names if n not in fixed]
        held = np.array([np.log(fixed[n]) if n != "m" else fixed[n] for n in fixed], dtype=float)
        at_free = np.array([self.names.index(n) for n in free], dtype=int)
        at_held = np.array([self.names.index(n) for n in fixed], dtype=int)

        def natural(theta: np.ndarray) -> np.ndarray:
            out = np.empty(5)
            out[at_free], out[at_held] = theta, held
            return np.r_[np.exp(out[:4]), out[4]]

        def negll(theta: np.ndarray) -> tuple[float, np.ndarray]:
            with np.errstate(all="ignore"):
                value, gradient = _sarmanov_loglik(natural(theta), c, p, grad=True)
            if not np.isfinite(value):
                return 1e300, np.zeros(len(free))
            return -value, -np.asarray(gradient)[at_free]

        x0 = np.array([np.log(start[n]) if n != "m" else start[n] for n in free], dtype=float)
        bound = None
        theta = x0
        if "m" in free:  # keep m inside the family
            search = _constrained(negll, x0, lambda th: _slack(natural(th), c), maxiter)
            theta = search.x
            slack = _slack(natural(theta), c)
            if np.min(slack) < 1e-7:
                bound = "upper" if natural(theta)[4] > 0 else "lower"
        values = pd.Series(natural(theta), self.names)
        if bound is not None:
            ll = -float(negll(theta)[0])
            cov = pd.DataFrame(np.nan, self.names, self.names)
            ok, msg, nit = bool(search.success), str(search.message), int(search.nit)
            warnings.warn(self._bound_message(values), FamilyBoundWarning, 2)
        else:
            params, cov, ll, ok, msg, nit = fit_mle(
                negll,
                [values[n] for n in free],
                free,
                jac=True,
                maxiter=maxiter,
                free=[n for n in free if n == "m"],
            )
            values = pd.Series(
                [fixed.get(n, params.get(n, np.nan)) for n in self.names], self.names
            )
            cov = cov.reindex(index=self.names, columns=self.names).fillna(0.0)
        ok, msg = guard_fit(
            self.name,
            values.iloc[:4],
            ok,
            msg,
            strict=strict,
            advice=self.advice,
            problems=problems,
            shapes=("r", "s"),
            scales={k: self._size(p) for k in self.scales},
        )
        result = CorrelatedParetoNBDResult(
            model=self.name,
            params=values.astype(float),
            cov=cov,
            loglik=float(ll),
            n_obs=float(p.w.sum()),
            converged=ok,
            message=msg,
            iterations=nit,
            time_unit=self._time_unit(data),
        )
        result.extra["kernel_scale"] = c
        result.extra["at_bound"] = bound
        if fixed:
            result.extra["fixed"] = fixed
        return result

    def profile(self, data: pd.DataFrame, rho: float, start: Any) -> tuple[float, pd.Series]:
        r"""The profile log-likelihood at a given correlation: the maximum over (r, alpha, s,
        beta) with :math:`m = \rho / base(r, \alpha, s, \beta)` (:func:`_rho_parts`) and
        m inside the family; ``start`` gives starting marginals (a fit's ``params``).
        Returns the maximum and the parameters there (-inf when no marginals near
        ``start`` can express ``rho``).

        Gradient by the chain rule: ``d ln L/d ln theta_i + d ln L/dm * dm/d ln theta_i``
        with ``dm/d ln theta_i = -m theta_i d ln base/d theta_i``.
        """
        c = self.kernel_scale
        p = self._data(data, None)
        rho = float(rho)

        def natural(theta: np.ndarray) -> np.ndarray:
            marginals = np.exp(theta)
            with np.errstate(all="ignore"):
                return np.r_[marginals, rho / _rho_parts(marginals, c)[0]]

        def negll(theta: np.ndarray) -> tuple[float, np.ndarray]:
            values = natural(theta)
            with np.errstate(all="ignore"):
                value, gradient = _sarmanov_loglik(values, c, p, grad=True)
            if not np.isfinite(value):
                return 1e300, np.zeros(4)
            dm = -values[4] * _rho_parts(values, c)[1] * values[:4]
            return -value, -(np.asarray(gradient)[:4] + gradient[4] * dm)

        def slack(theta: np.ndarray) -> np.ndarray:
            with np.errstate(all="ignore"):
                return np.nan_to_num(_slack(natural(theta), c), nan=-1.0)

        x0 = np.log(np.asarray(start, dtype=float)[:4])
        found = _constrained(negll, x0, slack, 500)
        values = pd.Series(natural(found.x), self.names)
        feasible = np.min(_slack(values.to_numpy(), c)) > -1e-9 and found.fun < 1e299
        return (-float(found.fun) if feasible else -np.inf), values

    def _bound_message(self, values: pd.Series) -> str:
        """What a fit on the family's bound means, and the kernel scale that widens it."""
        marginals = values.iloc[:4].to_numpy(dtype=float)
        low, high = m_bounds(*marginals, self.kernel_scale)
        rho_low, rho_high = correlation_range(*marginals, kernel_scale=self.kernel_scale)
        side = 1 if values["m"] > 0 else 0
        grid = self.kernel_scale * np.array([0.1, 0.3, 3.0, 10.0, 30.0, 100.0])
        reach = [abs(correlation_range(*marginals, kernel_scale=g)[side]) for g in grid]
        best = int(np.argmax(reach))
        advice = (
            f"CorrelatedParetoNBD(kernel_scale={grid[best]:g}) reaches "
            f"{correlation_range(*marginals, kernel_scale=grid[best])[side]:.3f} at these "
            "marginals"
            if reach[best] > abs((rho_low, rho_high)[side]) * 1.01
            else "no other kernel scale reaches further at these marginals"
        )
        return (
            f"{self.name}: m = {values['m']:.4g} sits on the {('lower', 'upper')[side]} bound "
            f"of the Sarmanov family ([{low:.4g}, {high:.4g}], correlations [{rho_low:.3f}, "
            f"{rho_high:.3f}] with kernel scale {self.kernel_scale:g}): the data ask for more "
            "correlation than this family can express. The estimates are the constrained "
            "maximum and have no standard errors; test independence with "
            "result.likelihood_ratio(pareto_fit) and bound the correlation with "
            f"result.correlation_interval(data) ({advice})."
        )


def compare_kernel_scales(
    data: pd.DataFrame, scales: Any = (1.0, 3.0, 10.0, 30.0, 100.0)
) -> pd.DataFrame:
    """Fit the correlated Pareto/NBD at several kernel scales, beside the Pareto/NBD.

    Each scale is its own Sarmanov family (all nest the Pareto/NBD at m = 0), so their
    log-likelihoods compare directly. One row per scale: ``loglik``, ``correlation``,
    ``correlation_se`` (NaN on a bound), the family's ``range_low``/``range_high`` at the
    fitted marginals, ``at_bound`` (None, "lower" or "upper": the fit's
    :class:`FamilyBoundWarning` is recorded here instead of raised) and the
    likelihood-ratio test of m = 0 (``lr_statistic``, ``p_value``; chi-square, 1 df).
    """
    from crmlab.models.nbd import ParetoNBD

    independent = ParetoNBD().fit(data)
    rows = []
    for scale in scales:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FamilyBoundWarning)
            fit = CorrelatedParetoNBD(kernel_scale=scale).fit(data)
        low, high = fit.correlation_range
        test = fit.likelihood_ratio(independent)
        rows.append(
            {
                "kernel_scale": fit.kernel_scale,
                "loglik": fit.loglik,
                "correlation": fit.correlation,
                "correlation_se": fit.correlation_se if fit.extra["at_bound"] is None else np.nan,
                "range_low": low,
                "range_high": high,
                "at_bound": fit.extra["at_bound"],
                "lr_statistic": test["statistic"],
                "p_value": test["p_value"],
            }
        )
    frame = pd.DataFrame(rows)
    frame.attrs["pareto_nbd_loglik"] = independent.loglik
    return frame


class FamilyBoundWarning(UserWarning):
    """A correlated Pareto/NBD fit ended on a bound of the Sarmanov family."""


def _constrained(negll: Any, x0: np.ndarray, slack: Any, maxiter: int) -> optimize.OptimizeResult:
    """SLSQP with the analytic gradient under ``slack(theta) >= 0``; the tolerance is
    relative to the starting value (a total over many customers)."""
    scale = max(1.0, abs(negll(x0)[0]))
    return optimize.minimize(
        negll,
        x0,
        jac=True,
        method="SLSQP",
        constraints={"type": "ineq", "fun": slack},
        options={"maxiter": maxiter, "ftol": 1e-13 * scale},
    )


__all__ = [
    "CorrelatedParetoNBD",
    "CorrelatedParetoNBDResult",
    "FamilyBoundWarning",
    "compare_kernel_scales",
    "correlation_range",
    "m_bounds",
]
