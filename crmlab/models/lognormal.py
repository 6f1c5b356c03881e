r"""Pareto/NBD with bivariate lognormal purchase and dropout rates (Abe 2009).

Abe (2009, *Marketing Science* 28(3), "Counting your customers one by one") replaces the
Pareto/NBD's independent gamma rates by

.. math:: (\ln\lambda, \ln\mu) \sim N\Big((\mu_\lambda, \mu_\mu),
    \begin{pmatrix}\sigma_\lambda^2 & \rho\sigma_\lambda\sigma_\mu \\
    \rho\sigma_\lambda\sigma_\mu & \sigma_\mu^2\end{pmatrix}\Big),

so purchase and dropout may correlate with any :math:`\rho \in (-1, 1)`, without the
bound that limits the Sarmanov families of :mod:`crmlab.models.correlated`. Abe estimates
it by MCMC; here it is fitted by maximum likelihood: each customer's Pareto/NBD likelihood
given the rates (Schmittlein, Morrison & Colombo 1987) is integrated over
:math:`\ln\lambda` given :math:`\ln\mu` by adaptive Gauss-Hermite quadrature centred
on the integrand's mode, and over :math:`\ln\mu` by Gauss-Hermite; the gradient follows
from Fisher's identity (the posterior mean of the normal score on the same nodes).
:math:`\rho = 0` is independent lognormal rates, tested by the likelihood ratio.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize
from scipy.special import digamma

from crmlab.errors import DataError
from crmlab.models.base import (
    FitResult,
    Model,
    check_fixed,
    check_time_unit,
    gradient_hessian,
    guard_fit,
)
from crmlab.models.nbd import ParetoNBD, _arrays, _Patterns, _patterns, _unique_rows

_OUTER = np.polynomial.hermite.hermgauss(48)
_INNER = np.polynomial.hermite.hermgauss(20)
LOGNORMAL_NAMES = ("mu_lambda", "mu_mu", "sigma_lambda", "sigma_mu", "rho")


def _log_individual(a: np.ndarray, b: np.ndarray, x, tx, T) -> np.ndarray:
    r"""ln of the Pareto/NBD likelihood of a customer with :math:`\lambda = e^a, \mu = e^b`
    (Schmittlein et al. 1987): :math:`\lambda^x e^{-(\lambda+\mu)t_x} [\mu + \lambda
    e^{-(\lambda+\mu)(T-t_x)}]/(\lambda+\mu)`."""
    lam, mu = np.exp(a), np.exp(b)
    total = lam + mu
    return x * a - total * tx + np.log(mu + lam * np.exp(-total * (T - tx))) - np.log(total)


def _mode_in_a(
    b: np.ndarray, x, tx, T, centre: np.ndarray, var: float
) -> tuple[np.ndarray, np.ndarray]:
    """The mode in a of ``ln f(a, b) + ln N(a; centre, var)`` and the curvature there
    (Newton on the analytic first and second derivatives, vectorised; the curvature is
    floored at ``-1/var`` so every step climbs)."""
    span = T - tx
    sd = np.sqrt(var)
    a = np.log((x + 0.5) / np.maximum(tx + span / 2, 1e-3))
    a = np.clip(a, centre - 10 * sd, centre + 10 * sd)
    h = np.full(np.broadcast(a, b).shape, -1 / var)
    for _ in range(60):
        lam, mu = np.exp(a), np.exp(b)
        total = lam + mu
        e = np.exp(-total * span)
        q = mu + lam * e
        q1 = lam * e * (1 - span * lam)
        q2 = q1 - span * lam**2 * e * (2 - span * lam)
        g = x - lam * tx + q1 / q - lam / total - (a - centre) / var
        h = np.minimum(-lam * tx + q2 / q - (q1 / q) ** 2 - lam * mu / total**2 - 1 / var, -1 / var)
        step = np.clip(g / h, -2.0, 2.0)
        a = a - step
        if np.max(np.abs(step)) < 1e-9:
            break
    return a, h


def _lognormal_each(
    params: Any,
    x: np.ndarray,
    tx: np.ndarray,
    T: np.ndarray,
    alive: bool = False,
    grad: bool = False,
) -> Any:
    r"""Per-customer ln likelihood under bivariate lognormal rates (or, with ``alive``, ln of
    its alive-at-T part :math:`\int \lambda^x e^{-(\lambda+\mu)T} dG`).

    :math:`(\ln\lambda, \ln\mu) \sim N`: the outer integral over :math:`b = \ln\mu` is
    48-point Gauss-Hermite on its marginal; the inner over :math:`a = \ln\lambda` given b
    (normal with mean :math:`\mu_\lambda + \rho\sigma_\lambda(b-\mu_\mu)/\sigma_\mu`, variance
    :math:`\sigma_\lambda^2(1-\rho^2)`) is 20-point Gauss-Hermite centred at the mode of
    the integrand and scaled by its curvature (adaptive quadrature, as for GLMMs), so
    heavy buyers' sharp likelihoods are integrated as accurately as light ones.

    With ``grad`` also the derivatives per customer in (mu_lambda, mu_mu, ln sigma_lambda,
    ln sigma_mu, atanh rho), n x 5, by Fisher's identity: the posterior mean (the
    quadrature's normalised node weights) of the score of the bivariate normal density,
    with :math:`u, v` the standardised log-rates and :math:`q = 1 - \rho^2`:
    :math:`(u-\rho v)/(\sigma_\lambda q)`, :math:`(v-\rho u)/(\sigma_\mu q)`,
    :math:`u(u-\rho v)/q - 1`, :math:`v(v-\rho u)/q - 1` and
    :math:`\rho + uv - \rho(u^2 - 2\rho uv + v^2)/q`.
    """
    ml, mm, sl, sm, rho = (float(v) for v in params)
    t_out, w_out = _OUTER
    t_in, w_in = _INNER
    b = mm + np.sqrt(2) * sm * t_out[None, :]
    centre = ml + rho * sl * np.sqrt(2) * t_out[None, :]
    var = sl**2 * (1 - rho**2)
    out = np.empty(x.size)
    scores = np.empty((x.size, 5)) if grad else None
    one = 1 - rho**2
    for lo in range(0, x.size, 1000):
        X, TX, TT = (v[lo : lo + 1000, None] for v in (x, tx, T))
        mode, h = _mode_in_a(b, X, TX, TT, centre, var)
        scale = np.sqrt(-1 / h)
        a = mode[..., None] + np.sqrt(2) * scale[..., None] * t_in
        B, X3, TX3, T3 = b[..., None], X[..., None], TX[..., None], TT[..., None]
        if alive:
            logf = X3 * a - (np.exp(a) + np.exp(B)) * T3
        else:
            logf = _log_individual(a, B, X3, TX3, T3)
        log_prior = -((a - centre[..., None]) ** 2) / (2 * var) - 0.5 * np.log(2 * np.pi * var)
        log_w = np.log(w_in) + t_in**2 + np.log(np.sqrt(2) * scale)[..., None]
        terms = logf + log_prior + log_w + np.log(w_out / np.sqrt(np.pi))[None, :, None]
        total = _logsumexp(_logsumexp(terms, axis=2), axis=1)
        out[lo : lo + 1000] = total
        if scores is not None:
            post = np.exp(terms - total[:, None, None])
            u, v = (a - ml) / sl, (B - mm) / sm
            parts = (
                (u - rho * v) / (sl * one),
                (v - rho * u) / (sm * one),
                u * (u - rho * v) / one - 1,
                v * (v - rho * u) / one - 1,
                rho + u * v - rho * (u * u - 2 * rho * u * v + v * v) / one,
            )
            scores[lo : lo + 1000] = np.column_stack([np.sum(post * s, axis=(1, 2)) for s in parts])
    return (out, scores) if grad else out


def _logsumexp(values: np.ndarray, axis: int) -> np.ndarray:
    top = np.max(values, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    return np.squeeze(top, axis) + np.log(np.sum(np.exp(values - top), axis=axis))


class LognormalParetoNBDResult(FitResult):
    """A fitted Pareto/NBD with bivariate lognormal rates; ``correlation`` is
    :math:`\\rho = \\mathrm{corr}(\\ln\\lambda, \\ln\\mu)` with its standard error."""

    @property
    def free(self) -> list[str]:
        """The means of the log-rates and rho take any sign (rho within (-1, 1))."""
        return ["mu_lambda", "mu_mu", "rho"]

    @property
    def correlation(self) -> float:
        """Correlation of the log purchase and log dropout rates."""
        return float(self.params["rho"])

    @property
    def correlation_se(self) -> float:
        """Standard error of :attr:`correlation` (delta method through atanh)."""
        return float(self.bse["rho"])

    def probability_alive(self, data: pd.DataFrame) -> pd.Series:
        """P(alive at T | x, t_x, T) per customer: the alive-at-T part of the likelihood over
        the whole (both integrated against the lognormal population)."""
        x, tx, T = _arrays(data)
        check_time_unit(self, data)
        (ux, utx, uT), inverse = _unique_rows(x, tx, T)
        with np.errstate(all="ignore"):
            log_alive = _lognormal_each(self.params, ux, utx, uT, alive=True)
            log_all = _lognormal_each(self.params, ux, utx, uT)
        return pd.Series(np.exp(log_alive - log_all)[inverse], data.index, name="p_alive")

    def summary(self) -> str:
        return (
            super().summary()
            + f"\nCorrelation of log purchase and log dropout rates: {self.correlation:.4f} "
            f"(std err {self.correlation_se:.4f})"
        )


class LognormalParetoNBD(Model):
    r"""Pareto/NBD with bivariate lognormal purchase and dropout rates (the population model
    of Abe 2009, Marketing Science 28(3), estimated here by maximum likelihood instead of
    hierarchical Bayes MCMC, without covariates).

    :math:`(\ln\lambda, \ln\mu) \sim N((\mu_\lambda, \mu_\mu), \Sigma)` with standard
    deviations :math:`\sigma_\lambda, \sigma_\mu` and correlation :math:`\rho \in (-1, 1)`
    free of any family bound; given the rates, Poisson purchases and an exponential
    lifetime as in the Pareto/NBD. The likelihood is the 2-D integral of
    :func:`_log_individual` by adaptive Gauss-Hermite quadrature (:func:`_lognormal_each`).
    It does not nest the gamma Pareto/NBD: test independence by ``fixed={"rho": 0}``.
    Params: ``mu_lambda, mu_mu, sigma_lambda, sigma_mu, rho``.
    """

    names = LOGNORMAL_NAMES
    name = "Pareto/NBD (lognormal rates)"
    result_class = LognormalParetoNBDResult

    def _data(self, data: pd.DataFrame, design: np.ndarray | None) -> _Patterns:
        if design is not None:
            raise DataError(f"{self.name} takes no covariates.")
        return _patterns(data)

    def loglik(self, params: Any, data: pd.DataFrame) -> float:
        """Log-likelihood at given values (dict by name or values in :attr:`names` order)."""
        if isinstance(params, dict):
            params = [params[k] for k in self.names]
        values = np.asarray(params, dtype=float)
        if (
            values.shape != (5,)
            or not np.all(np.isfinite(values))
            or np.any(values[2:4] <= 0)
            or abs(values[4]) >= 1
        ):
            raise DataError("give mu_lambda, mu_mu, sigma_lambda > 0, sigma_mu > 0, |rho| < 1.")
        p = self._data(data, None)
        with np.errstate(all="ignore"):
            return float(p.w @ _lognormal_each(values, p.x, p.tx, p.T))

    def fit(  # type: ignore[override]
        self,
        data: pd.DataFrame,
        *,
        initial: dict[str, float] | None = None,
        maxiter: int = 500,
        strict: bool = True,
        fixed: dict[str, float] | None = None,
    ) -> LognormalParetoNBDResult:
        """Fit by maximum likelihood: BFGS on (mu_lambda, mu_mu, ln sigma_lambda,
        ln sigma_mu, atanh rho) with the gradient of :func:`_lognormal_each`; standard errors
        from central differences of that gradient (delta method back to the natural
        scale). Starts from the log-rate moments of a Pareto/NBD fit
        (:math:`E\\ln\\lambda = \\psi(r) - \\ln\\alpha`,
        :math:`\\mathrm{Var}\\ln\\lambda = \\psi'(r)`) and rho = 0 unless ``initial`` says
        otherwise; ``fixed`` holds parameters (``{"rho": 0}``: independent rates).

        Raises
        ------
        IdentificationError
            As every model's ``fit`` (or warns with ``strict=False``).
        """
        from scipy.special import polygamma

        p = self._data(data, None)
        problems = ParetoNBD()._problems(p)
        if problems and strict:
            guard_fit(
                self.name,
                pd.Series(dtype=float),
                True,
                "",
                strict=True,
                advice=ParetoNBD.advice,
                problems=problems,
            )
        fixed = check_fixed(fixed, self.names, self.name, positive=False)
        if initial is None:
            r, alpha, s, beta = ParetoNBD().fit(data, strict=False).params
            initial = {
                "mu_lambda": digamma(r) - np.log(alpha),
                "mu_mu": digamma(s) - np.log(beta),
                "sigma_lambda": float(np.sqrt(polygamma(1, r))),
                "sigma_mu": float(np.sqrt(polygamma(1, s))),
                "rho": 0.0,
            }
        start = {**initial, **fixed}
        free = [n for n in self.names if n not in fixed]

        def to_theta(values: dict) -> np.ndarray:
            v = [values[n] for n in self.names]
            return np.array([v[0], v[1], np.log(v[2]), np.log(v[3]), np.arctanh(v[4])])

        fixed_theta = to_theta(start)
        at_free = np.array([self.names.index(n) for n in free], dtype=int)

        def natural(theta_free: np.ndarray) -> np.ndarray:
            theta = fixed_theta.copy()
            theta[at_free] = theta_free
            return np.array(
                [theta[0], theta[1], np.exp(theta[2]), np.exp(theta[3]), np.tanh(theta[4])]
            )

        def negll(theta_free: np.ndarray) -> tuple[float, np.ndarray]:
            with np.errstate(all="ignore"):
                each, scores = _lognormal_each(natural(theta_free), p.x, p.tx, p.T, grad=True)
                value = float(p.w @ each)
            if not np.isfinite(value):
                return 1e300, np.zeros(theta_free.size)
            return -value, -(p.w @ scores)[at_free]

        def gradient(theta_free: np.ndarray) -> np.ndarray:
            return negll(theta_free)[1]

        x0 = fixed_theta[at_free]
        scale = max(1.0, abs(negll(x0)[0]))
        res = optimize.minimize(
            negll,
            x0,
            jac=True,
            method="BFGS",
            options={"maxiter": maxiter, "gtol": 1e-8 * scale},
        )
        theta = res.x
        hess = gradient_hessian(gradient, theta)
        values = pd.Series(natural(theta), self.names)
        jac = np.array(
            [1.0, 1.0, values["sigma_lambda"], values["sigma_mu"], 1 - values["rho"] ** 2]
        )[at_free]
        cov = pd.DataFrame(0.0, self.names, self.names)
        ok, msg = bool(res.success), str(res.message)
        if not ok and np.max(np.abs(gradient(theta))) < 1e-6 * scale:
            ok, msg = True, msg + " (gradient zero to within rounding: accepted)"
        try:
            cov_theta = np.linalg.inv(hess)
            if np.any(np.diag(cov_theta) < 0):
                ok, msg = False, msg + "; Hessian not positive definite (not a maximum)"
            cov.loc[free, free] = cov_theta * np.outer(jac, jac)
        except np.linalg.LinAlgError:
            ok, msg = False, msg + "; Hessian is singular"
            cov.loc[:, :] = np.nan
        ok, msg = guard_fit(
            self.name,
            values[["sigma_lambda", "sigma_mu"]],
            ok,
            msg,
            strict=strict,
            advice=ParetoNBD.advice,
            problems=problems,
            shapes=("sigma_lambda", "sigma_mu"),
        )
        result = LognormalParetoNBDResult(
            model=self.name,
            params=values,
            cov=cov,
            loglik=-float(res.fun),
            n_obs=float(p.w.sum()),
            converged=ok,
            message=msg,
            iterations=int(res.nit),
            time_unit=self._time_unit(data),
        )
        if fixed:
            result.extra["fixed"] = fixed
        return result


__all__ = ["LOGNORMAL_NAMES", "LognormalParetoNBD", "LognormalParetoNBDResult"]
