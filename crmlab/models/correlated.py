r"""Pareto/NBD with correlated purchase and dropout rates (Sarmanov mixing distribution).

The Pareto/NBD assumes the purchase rate :math:`\lambda \sim \mathrm{Gamma}(r, \alpha)` and
the dropout rate :math:`\mu \sim \mathrm{Gamma}(s, \beta)` independent. Following CLVTools'
correlation extension (``pnbd(..., use.cor = TRUE)``; Park & Fader 2004's Sarmanov
family), their joint density is

.. math:: g(\lambda)\, h(\mu)\, \big[1 + m\,(e^{-\lambda} - L_A)(e^{-\mu} - L_B)\big],
    \quad L_A = \Big(\frac{\alpha}{\alpha+1}\Big)^r,\; L_B = \Big(\frac{\beta}{\beta+1}\Big)^s

(the Laplace transforms at 1), with gamma marginals kept exactly and m bounded so the
density stays positive: :math:`-1/\max(L_A L_B, (1-L_A)(1-L_B)) \le m \le
1/\max(L_A(1-L_B), (1-L_A)L_B)`. Since :math:`e^{-\lambda} g(\lambda; r, \alpha) = L_A\,
g(\lambda; r, \alpha+1)`, every expectation is four Pareto/NBD ones: with
:math:`c_{ab}` the Pareto/NBD likelihood of a customer at :math:`(r, \alpha+a, s, \beta+b)`,

.. math:: L = c_{00} + m L_A L_B\,(c_{11} - c_{10} - c_{01} + c_{00}),

and the same combination gives P(alive), conditional and unconditional expectations. The
correlation of the rates is

.. math:: \rho = m\, L_A L_B \frac{\sqrt{r s}}{(\alpha+1)(\beta+1)},

reported with its delta-method standard error. m = 0 is the Pareto/NBD. The kernel
:math:`e^{-\lambda}` makes the family depend on the time unit (as in CLVTools): fit
weekly data for weekly rates.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.special import gammaln

from crmlab.errors import DataError
from crmlab.models.base import fit_mle, guard_fit
from crmlab.models.nbd import (
    NBDResult,
    ParetoNBDResult,
    _Model,
    _pareto_index,
    _pareto_log_drop,
    _Patterns,
    _patterns,
)

SHIFTS = ((0, 0), (1, 0), (0, 1), (1, 1))


def _laplace(r: float, alpha: float, s: float, beta: float) -> tuple[float, float]:
    return (alpha / (alpha + 1)) ** r, (beta / (beta + 1)) ** s


def m_bounds(r: float, alpha: float, s: float, beta: float) -> tuple[float, float]:
    """The range of m for which the Sarmanov density is non-negative everywhere."""
    la, lb = _laplace(r, alpha, s, beta)
    return -1 / max(la * lb, (1 - la) * (1 - lb)), 1 / max(la * (1 - lb), (1 - la) * lb)


def _weights(r: float, alpha: float, s: float, beta: float, m: float) -> np.ndarray:
    """Coefficients of c00, c10, c01, c11 in the likelihood."""
    la, lb = _laplace(r, alpha, s, beta)
    k = m * la * lb
    return np.array([1 + k, -k, -k, k])


def _log_parts(
    r: float,
    alpha: float,
    s: float,
    beta: float,
    x: np.ndarray,
    tx: np.ndarray,
    T: np.ndarray,
    index: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-customer Pareto/NBD log-likelihood and its alive-at-T part (Fader & Hardie 2005
    note, eq. 22), shape (4, n) for the shifted parameters (alpha + a, beta + b);
    ``index`` is the patterns' :func:`~crmlab.models.nbd._pareto_index` (built if None)."""
    if index is None:
        index = _pareto_index(x, tx, T)
    ll, alive = [], []
    for da, db in SHIFTS:
        a, b = alpha + da, beta + db
        head = gammaln(r + x) - gammaln(r) + r * np.log(a) + s * np.log(b)
        live = -(r + x) * np.log(a + T) - s * np.log(b + T)
        drop = np.log(s) + _pareto_log_drop((r, a, s, b), index, grad=False)[0]
        ll.append(head + np.logaddexp(live, drop))
        alive.append(head + live)
    return np.array(ll), np.array(alive)


def _combine(weights: np.ndarray, logs: np.ndarray) -> np.ndarray:
    """``ln sum_ab w_ab e^logs_ab`` by customer (nan where the sum is not positive)."""
    top = logs.max(axis=0)
    total = weights @ np.exp(logs - top)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, top + np.log(total), np.nan)


class CorrelatedParetoNBDResult(NBDResult):
    """A fitted Pareto/NBD with correlated rates; ``correlation`` and ``correlation_se``
    give :math:`\\rho` and its delta-method standard error. Predictions combine the four
    Pareto/NBD ones (see the module docstring)."""

    @property
    def free(self) -> list[str]:
        """``m`` takes any sign: intervals and draws treat it on its own scale."""
        return ["m"]

    def _parts(self) -> list[ParetoNBDResult]:
        r, alpha, s, beta, _ = self._p()
        return [
            ParetoNBDResult(
                model="Pareto/NBD",
                params=pd.Series([r, alpha + a, s, beta + b], ["r", "alpha", "s", "beta"]),
                cov=pd.DataFrame(),
                loglik=np.nan,
                n_obs=self.n_obs,
                converged=True,
                message="",
            )
            for a, b in SHIFTS
        ]

    @property
    def correlation(self) -> float:
        """Correlation of the purchase and dropout rates implied by the estimates."""
        return _rho(self.params.to_numpy(dtype=float))

    @property
    def correlation_se(self) -> float:
        """Delta-method standard error of :attr:`correlation`."""
        values = self.params.to_numpy(dtype=float)
        step = 1e-6 * np.maximum(np.abs(values), 1e-3)
        grad = np.array(
            [
                (_rho(values + np.eye(5)[i] * step[i]) - _rho(values - np.eye(5)[i] * step[i]))
                / (2 * step[i])
                for i in range(5)
            ]
        )
        return float(np.sqrt(max(grad @ self.cov.to_numpy(dtype=float) @ grad, 0.0)))

    def summary(self) -> str:
        return (
            super().summary()
            + f"\nCorrelation of purchase and dropout rates: {self.correlation:.4f} "
            f"(std err {self.correlation_se:.4f})"
        )

    def _alive(self, x, tx, T):
        r, alpha, s, beta, m = self._p()
        x, tx, T = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (x, tx, T)))
        ll, alive = _log_parts(r, alpha, s, beta, x.ravel(), tx.ravel(), T.ravel())
        w = _weights(r, alpha, s, beta, m)
        return np.exp(_combine(w, alive) - _combine(w, ll)).reshape(x.shape)

    def _log_odds_dead(self, x, tx, T):
        p = self._alive(x, tx, T)
        with np.errstate(divide="ignore"):
            return np.log1p(-p) - np.log(p)

    def _unconditional(self, t):
        r, alpha, s, beta, m = self._p()
        w = _weights(r, alpha, s, beta, m)
        return sum(wi * part._unconditional(t) for wi, part in zip(w, self._parts(), strict=True))

    def _core(self, t, x, T):
        # E[X(T, T+t) | alive at T]: the alive parts A_ab (which do not depend on t_x)
        # weight the four Pareto/NBD expectations of a customer alive at T
        r, alpha, s, beta, m = self._p()
        t, x, T = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (t, x, T)))
        w = _weights(r, alpha, s, beta, m)
        alive = _log_parts(r, alpha, s, beta, x.ravel(), np.zeros(x.size), T.ravel())[1]
        share = w[:, None] * np.exp(alive - _combine(w, alive))
        cores = np.array([part._core(t, x, T).ravel() for part in self._parts()])
        return np.sum(share * cores, axis=0).reshape(x.shape)


def _rho(values: np.ndarray) -> float:
    r, alpha, s, beta, m = values
    la, lb = _laplace(r, alpha, s, beta)
    return float(m * la * lb * np.sqrt(r * s) / ((alpha + 1) * (beta + 1)))


class CorrelatedParetoNBD(_Model):
    """Pareto/NBD with correlated purchase and dropout rates; params ``r, alpha, s, beta``
    (as the Pareto/NBD) and ``m`` (the Sarmanov coefficient, any sign within
    :func:`m_bounds`); ``result.correlation`` is the rates' correlation. ``fixed={"m": 0}``
    is the Pareto/NBD."""

    names = ("r", "alpha", "s", "beta", "m")
    start = (0.5, 10.0, 0.5, 10.0, 0.0)
    name = "Pareto/NBD (correlated)"
    scales = ("alpha", "beta")
    result_class = CorrelatedParetoNBDResult

    def _data(self, data: pd.DataFrame, design: np.ndarray | None) -> _Patterns:
        if design is not None:
            raise DataError(f"{self.name} takes no covariates.")
        return _patterns(data, pairs=True)

    def _loglik(self, theta: np.ndarray, p: _Patterns, grad: bool = False) -> float:
        r, alpha, s, beta = np.exp(theta[:4])
        m = float(theta[4])
        low, high = m_bounds(r, alpha, s, beta)
        if not low <= m <= high:
            return -np.inf
        ll, _ = _log_parts(r, alpha, s, beta, p.x, p.tx, p.T, p.pairs)
        each = _combine(_weights(r, alpha, s, beta, m), ll)
        return float(p.w @ each) if np.all(np.isfinite(each)) else -np.inf

    def loglik(self, params: Any, data: Any) -> float:
        """Log-likelihood at given values (dict by name or values in :attr:`names` order;
        m may be negative)."""
        if isinstance(params, dict):
            params = [params[k] for k in self.names]
        values = np.asarray(params, dtype=float)
        if values.shape != (5,) or np.any(values[:4] <= 0):
            raise DataError("give r, alpha, s, beta > 0 and m.")
        with np.errstate(all="ignore"):
            return self._loglik(np.r_[np.log(values[:4]), values[4]], self._data(data, None))

    def fit(  # type: ignore[override]
        self,
        data: pd.DataFrame,
        *,
        initial: dict[str, float] | None = None,
        maxiter: int = 2000,
        strict: bool = True,
        fixed: dict[str, float] | None = None,
    ) -> CorrelatedParetoNBDResult:
        """Fit by maximum likelihood (Nelder-Mead, then L-BFGS-B; numerical Hessian).

        Starts from the Pareto/NBD's estimates with m = 0 unless ``initial`` says
        otherwise; ``fixed`` holds parameters (e.g. ``{"m": 0}``). Raises
        :class:`~crmlab.models.IdentificationError` (or warns with ``strict=False``)
        as every model's ``fit``, also when m runs to a bound of the Sarmanov family.
        """
        from crmlab.models.nbd import ParetoNBD

        p = self._data(data, None)
        problems = self._problems(p)
        fixed = dict(fixed or {})
        unknown = set(fixed) - set(self.names)
        if unknown:
            raise DataError(f"fixed names {sorted(unknown)}, not parameters of {self.name}.")
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

        def full(theta: np.ndarray) -> np.ndarray:
            values = dict(zip(free, theta, strict=True))
            out = []
            for name in self.names:
                if name in fixed:
                    v = float(fixed[name])
                    out.append(np.log(v) if name != "m" else v)
                else:
                    out.append(values[name])
            return np.array(out)

        def negll(theta: np.ndarray) -> float:
            with np.errstate(all="ignore"):
                value = self._loglik(full(theta), p)
            return -value if np.isfinite(value) else 1e300

        params, cov, ll, ok, msg, nit = fit_mle(
            negll,
            [start[n] for n in free],
            free,
            jac=False,
            maxiter=maxiter,
            free=[n for n in free if n == "m"],
        )
        values = pd.Series(
            [float(fixed.get(n, params.get(n, np.nan))) for n in self.names], self.names
        )
        cov = cov.reindex(index=self.names, columns=self.names).fillna(0.0)
        low, high = m_bounds(*values.iloc[:4])
        if "m" not in fixed and min(values["m"] - low, high - values["m"]) < 1e-6 * (high - low):
            cov.loc[:, :] = np.nan  # the likelihood stops at the bound: no curvature there
            problems.append(
                f"m = {values['m']:.4g} sits on a bound of the Sarmanov family "
                f"([{low:.4g}, {high:.4g}]): the correlation the data ask for is beyond what "
                "this family can express"
            )
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
            params=values,
            cov=cov,
            loglik=ll,
            n_obs=float(p.w.sum()),
            converged=ok,
            message=msg,
            iterations=nit,
            time_unit=self._time_unit(data),
        )
        if fixed:
            result.extra["fixed"] = fixed
        return result


__all__ = ["CorrelatedParetoNBD", "CorrelatedParetoNBDResult", "m_bounds"]
