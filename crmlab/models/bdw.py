r"""Beta-discrete-Weibull (BdW) model of contractual retention.

Fader, P. S., Hardie, B. G. S., Liu, Y., Davin, J. & Steenburgh, T. (2018). "How to
project customer retention" revisited: the role of duration dependence. *Journal of
Interactive Marketing* 43, 1-16.

A customer's churn hazard in period t is discrete Weibull,
:math:`P(T > t \mid \theta) = (1-\theta)^{t^c}`, with :math:`\theta \sim
\mathrm{Beta}(\alpha, \beta)` across customers, so

.. math:: S(t) = \frac{B(\alpha, \beta + t^c)}{B(\alpha, \beta)}, \qquad
    P(T = t) = S(t-1) - S(t).

``c < 1``: an individual's churn hazard falls with tenure (negative duration dependence);
``c > 1``: it rises; ``c = 1`` is the shifted-beta-geometric (sBG) model. Data are those of
:class:`~crmlab.models.sbg.ShiftedBetaGeometric` (one cohort's survivor counts, or contract
patterns with covariates).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import betaln

from crmlab.errors import DataError
from crmlab.models.base import FitResult
from crmlab.models.sbg import ShiftedBetaGeometric, _Contracts


def _log_survival(a: Any, b: Any, c: Any, t: Any) -> np.ndarray:
    t = np.asarray(t, dtype=float)
    return betaln(a, b + t**c) - betaln(a, b)


def _each(a: Any, b: Any, c: Any, t: np.ndarray, churned: np.ndarray) -> np.ndarray:
    """Per pattern ``ln P(T = t)`` (churned) or ``ln S(t)`` (still active after t)."""
    log_s = _log_survival(a, b, c, t)
    log_prev = _log_survival(a, b, c, np.maximum(t - 1, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        log_churn = log_prev + np.log(-np.expm1(np.minimum(log_s - log_prev, 0.0)))
    return np.where(churned == 1, log_churn, log_s)


class BetaDiscreteWeibullResult(FitResult):
    """A fitted BdW model; ``t`` counts contract periods since acquisition."""

    def _abc(self) -> tuple[float, float, float]:
        return tuple(float(self.params[k]) for k in ("alpha", "beta", "c"))  # type: ignore

    def survival(self, t: Any) -> np.ndarray:
        """``S(t) = B(alpha, beta + t^c) / B(alpha, beta)``: share active after t periods."""
        t = np.asarray(t, dtype=float)
        if np.any(~np.isfinite(t)) or np.any(t < 0):
            raise DataError(f"t (periods) must be finite and >= 0; got {t.ravel()[0]!r}.")
        return np.exp(_log_survival(*self._abc(), t))

    def retention_rate(self, t: Any) -> np.ndarray:
        """``r(t) = S(t) / S(t-1)`` for t >= 1."""
        t = np.asarray(t, dtype=float)
        if np.any(t < 1):
            raise DataError("retention_rate needs t >= 1 (the renewal at the end of period t).")
        return self.survival(t) / self.survival(t - 1)

    def project(self, periods: Any, cohort_size: float = 1000.0) -> pd.Series:
        """Expected active customers ``cohort_size * S(t)`` for the given periods."""
        t = np.atleast_1d(np.asarray(periods))
        return pd.Series(
            cohort_size * self.survival(t),
            index=pd.Index(t, name="period"),
            name="expected_active",
        )


class BetaDiscreteWeibull(ShiftedBetaGeometric):
    """Beta-discrete-Weibull retention model (Fader et al. 2018); params ``alpha, beta, c``.

    Fitted like :class:`~crmlab.models.sbg.ShiftedBetaGeometric` (survivor counts or a
    frame of contract patterns, covariates on ``alpha`` and ``beta``). ``fixed={"c": 1}``
    is the sBG; :func:`duration_dependence` tests ``c = 1``.
    """

    name = "BdW"
    names = ("alpha", "beta", "c")
    start = (1.0, 1.0, 1.0)
    result_class = BetaDiscreteWeibullResult  # type: ignore[assignment]

    def _loglik(self, theta: np.ndarray, p: _Contracts, grad: bool = False) -> Any:
        values = {k: v for k, v in zip(self.names, np.exp(theta), strict=True)}
        each, derivs = self._loglik_each(values, p, grad)
        total = float(p.w @ each)
        return (total, derivs @ p.w) if grad else total

    def _loglik_each(
        self, params: Any, p: _Contracts, grad: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per-pattern log-likelihood; derivatives in the log-parameters by central
        differences (three parameters, closed-form terms)."""
        shape = p.t.shape
        values = [np.broadcast_to(np.asarray(params[k], dtype=float), shape) for k in self.names]
        ll = _each(*values, p.t, p.churned)
        h = 1e-6
        derivs = []
        for j in range(3):
            up = [v * np.exp(h) if i == j else v for i, v in enumerate(values)]
            down = [v * np.exp(-h) if i == j else v for i, v in enumerate(values)]
            derivs.append((_each(*up, p.t, p.churned) - _each(*down, p.t, p.churned)) / (2 * h))
        return ll, np.array(derivs)


def duration_dependence(data: Any, **fit_kwargs: Any) -> pd.Series:
    """Likelihood-ratio test of ``c = 1`` (the sBG) against the BdW on the same data.

    Returns ``c`` with its standard error, both log-likelihoods, the LR statistic
    ``2 (LL_BdW - LL_sBG)`` and its chi-square(1) p-value.
    """
    bdw = BetaDiscreteWeibull().fit(data, **fit_kwargs)
    sbg = BetaDiscreteWeibull().fit(data, fixed={"c": 1.0}, **fit_kwargs)
    lr = max(2 * (bdw.loglik - sbg.loglik), 0.0)
    return pd.Series(
        {
            "c": float(bdw.params["c"]),
            "c_se": float(bdw.bse["c"]),
            "loglik_bdw": bdw.loglik,
            "loglik_sbg": sbg.loglik,
            "lr": lr,
            "p_value": float(stats.chi2.sf(lr, 1)),
        }
    )
