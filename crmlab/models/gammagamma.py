"""Gamma-Gamma model of average spend per transaction.

Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). RFM and CLV: using iso-value
curves for customer base analysis. *Journal of Marketing Research* 42(4),
415-430 (spend sub-model, after Colombo & Jiang 1999).

A customer's transaction values are ``z_i ~ Gamma(p, nu)`` with mean ``p / nu``;
``nu ~ Gamma(q, gamma)`` across customers. Given x repeat transactions with
mean value ``m_x``, the sufficient statistics are (x, m_x) and

``f(m_x | p, q, gamma, x) = G(px + q) / (G(px) G(q)) * gamma^q * m_x^(px-1) * x^px
/ (gamma + x m_x)^(px + q)``.

The population mean spend is ``p gamma / (q - 1)``, finite only when ``q > 1``:
with ``q <= 1`` the spend distribution has so heavy a tail that the model has
no finite mean spend (:class:`InfiniteMeanWarning`). Only customers with at
least one repeat transaction (x > 0) inform the fit; the others are counted in
``result.excluded``. The model assumes spend is independent of the
transaction process (check ``corr(x, m_x)`` before using it).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from scipy.special import digamma, gammaln

from crmlab.errors import DataError
from crmlab.models.base import (
    FitResult,
    Model,
    reject_missing,
    reject_rows,
    require_frame,
)

PARAMS = ("p", "q", "gamma")
COLUMNS = ("frequency", "monetary_value")


ADVICE = (
    "Use more customers with repeat purchases (a longer calibration window), or give every "
    "customer the same spend per purchase (e.g. the mean) instead of a spend model."
)


class InfiniteMeanWarning(UserWarning):
    """Gamma-Gamma with q <= 1: the model implies no finite mean spend."""


def _check(data: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    require_frame(data, "Gamma-Gamma", COLUMNS)
    missing = [c for c in COLUMNS if c not in data.columns]
    if missing:
        raise DataError(
            f"the summary has no column {', '.join(map(repr, missing))}; it has "
            f"{', '.join(map(repr, map(str, data.columns)))}. Build it with crmlab.rfm_summary "
            "(monetary_value = mean value of the repeat transactions)."
        )
    reject_missing(data, COLUMNS)
    x = pd.to_numeric(data["frequency"], errors="coerce").to_numpy(dtype=float)
    m = pd.to_numeric(data["monetary_value"], errors="coerce").to_numpy(dtype=float)
    reject_rows(
        "frequency",
        ~np.isfinite(x) | (x < 0) | (np.round(x) != x),
        data["frequency"],
        "values that are not whole numbers >= 0",
        "frequency counts repeat transactions.",
    )
    repeat = x > 0
    reject_rows(
        "monetary_value",
        repeat & (~np.isfinite(m) | (m <= 0)),
        data["monetary_value"],
        "values that are not positive numbers among customers with frequency > 0",
        "Gamma-Gamma models positive spend; remove returns/zero-value orders first.",
    )
    return x, m


def log_likelihood_grad(
    params: np.ndarray, x: np.ndarray, m: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per-customer log density of the mean spend ``m_x`` given x, and its gradient.

    ``ln f = lnG(px+q) - lnG(px) - lnG(q) + q ln(gamma) + (px-1) ln m + px ln x
    - (px+q) ln(gamma + x m)``; derivatives in (p, q, gamma):
    ``x [psi(px+q) - psi(px) + ln(x m / (gamma + x m))]``,
    ``psi(px+q) - psi(q) + ln(gamma / (gamma + x m))``,
    ``q / gamma - (px+q) / (gamma + x m)``.
    """
    p, q, g = params
    px = p * x
    log_gxm = np.log(g + x * m)
    log_xm = np.log(x * m)
    ll = (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(g)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * log_gxm
    )
    psi = digamma(px + q)
    grad = np.column_stack(
        [
            x * (psi - digamma(px) + log_xm - log_gxm),
            psi - digamma(q) + np.log(g) - log_gxm,
            q / g - (px + q) / (g + x * m),
        ]
    )
    return ll, grad


class SpendData(NamedTuple):
    """Repeat buyers' frequencies and mean spends, with what every evaluation reuses."""

    x: np.ndarray
    m: np.ndarray
    ux: np.ndarray  # distinct frequencies
    n_x: np.ndarray  # customers per distinct frequency
    sum_log_m: float
    sum_x_log_m_plus_x_log_x: float

    @classmethod
    def of(cls, x: np.ndarray, m: np.ndarray) -> SpendData:
        ux, counts = np.unique(x, return_counts=True)
        log_m = np.log(m)
        return cls(x, m, ux, counts.astype(float), log_m.sum(), x @ log_m + x @ np.log(x))


def total_log_likelihood_grad(params: np.ndarray, data: SpendData) -> tuple[float, np.ndarray]:
    """Sum of :func:`log_likelihood_grad` over customers, for fitting large bases.

    Terms in x alone use the distinct frequencies (a few dozen values) and the sums
    of ``ln m``, ``x ln m`` and ``x ln x`` are taken once (:class:`SpendData`); per
    customer only ``ln(gamma + x m)`` and ``1 / (gamma + x m)`` remain.
    """
    p, q, g = params
    x, ux, n_x = data.x, data.ux, data.n_x
    n = float(x.size)
    g_xm = g + x * data.m
    log_gxm = np.log(g_xm)
    x_log_gxm, sum_log_gxm = x @ log_gxm, log_gxm.sum()
    pux = p * ux
    ll = (
        n_x @ (gammaln(pux + q) - gammaln(pux))
        - n * gammaln(q)
        + n * q * np.log(g)
        + p * data.sum_x_log_m_plus_x_log_x
        - data.sum_log_m
        - p * x_log_gxm
        - q * sum_log_gxm
    )
    psi = digamma(pux + q)
    grad = np.array(
        [
            (n_x * ux) @ (psi - digamma(pux)) + data.sum_x_log_m_plus_x_log_x - x_log_gxm,
            n_x @ psi - n * digamma(q) + n * np.log(g) - sum_log_gxm,
            n * q / g - (p * x + q) @ (1.0 / g_xm),
        ]
    )
    return float(ll), grad


@dataclass(repr=False)
class GammaGammaResult(FitResult):
    """A fitted Gamma-Gamma spend model.

    ``excluded`` counts the customers left out of the fit because they had no
    repeat transaction (frequency 0); ``n_obs`` counts those used.
    """

    excluded: int = 0

    @property
    def mean_spend(self) -> float:
        """Population mean spend per transaction ``p gamma / (q - 1)`` (inf if q <= 1)."""
        p, q, g = (float(self.params[k]) for k in PARAMS)
        return p * g / (q - 1) if q > 1 else float("inf")

    def summary(self) -> str:
        """The estimates table plus the customers excluded and the implied mean spend."""
        lines = [
            super().summary(),
            f"Excluded (frequency 0, no repeat spend): {self.excluded:,} customers",
            f"corr(frequency, mean spend) among those fitted: "
            f"{self.extra.get('corr_frequency_spend', np.nan):.2f} "
            "(the model assumes independence)",
            f"Implied mean spend p*gamma/(q-1): {self.mean_spend:,.2f}"
            if np.isfinite(self.mean_spend)
            else "WARNING: q <= 1, the model has no finite mean spend",
        ]
        return "\n".join(lines)

    def expected_spend(self, data: pd.DataFrame, *, warn: bool = True) -> pd.Series:
        """E[M | x, m_x]: expected value of a future transaction, FHL (2005) eq. (5).

        ``E[M | p, q, gamma, x, m_x] = p (gamma + x m_x) / (p x + q - 1)``
        ``= (q-1)/(px+q-1) * p gamma/(q-1) + px/(px+q-1) * m_x``, a weighted
        average of the population mean and the customer's own mean. Customers
        with frequency 0 get the population mean ``p gamma / (q - 1)``
        (``monetary_value`` is ignored for them). Where ``p x + q <= 1`` the
        expectation does not exist: the value is ``inf`` with an
        :class:`InfiniteMeanWarning` (unless ``warn=False``).
        """
        p, q, g = (float(self.params[k]) for k in PARAMS)
        x, m = _check(data)
        if self.covariates is not None:  # gamma_i = gamma_0 exp(delta' z_i)
            g = self.individual_params(data)["gamma"].to_numpy()
        m = np.where(x > 0, m, 0.0)
        denom = p * x + q - 1
        with np.errstate(divide="ignore", invalid="ignore"):
            value = np.where(denom > 0, p * (g + x * m) / denom, np.inf)
        n_inf = int(np.sum(~np.isfinite(value)))
        if n_inf and warn:
            warnings.warn(
                f"{n_inf:,} customers have no finite expected spend (p*x + q <= 1 with "
                f"q = {q:.3g}): the fitted spend distribution is too heavy-tailed. Their "
                "expected spend is inf; consider a trimmed or log-spend model.",
                InfiniteMeanWarning,
                stacklevel=2,
            )
        return pd.Series(value, index=data.index, name="expected_spend")

    def _spend_function(self, data: pd.DataFrame) -> Any:
        """:meth:`expected_spend` of ``data`` under many parameter vectors, on demand.

        Returns ``spend_of(params, rows)``: the expected spend (the same formula and
        arithmetic as :meth:`expected_spend`, without its warning) of the customers
        ``rows`` under each row ``(p, q, gamma)`` of ``params``, a ``len(params) x rows``
        array; parameter draws need not hold a draws x customers matrix. None for a fit
        with covariates (each customer then has their own gamma).
        """
        if self.covariates is not None:
            return None
        x, m = _check(data)
        m = np.where(x > 0, m, 0.0)

        def spend_of(params: np.ndarray, rows: Any) -> np.ndarray:
            p, q, g = (np.asarray(params, dtype=float)[:, j, None] for j in range(3))
            xr, mr = x[rows], m[rows]
            denom = p * xr + q - 1
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.where(denom > 0, p * (g + xr * mr) / denom, np.inf)

        return spend_of

    def clv(self, transactions: Any, data: pd.DataFrame, **kwargs: Any) -> pd.Series:
        """Customer value = a transaction model's discounted residual transactions
        x this model's expected spend x margin.

        Calls ``transactions.clv(data, spend=self, **kwargs)``, which uses
        :meth:`expected_spend` and, with ``level=...``, draws this model's parameters
        too, so the interval covers both models' parameter uncertainty.
        ``transactions`` is any fitted result with a ``clv(data, *, spend, ...)``
        method (BG/BB, BG/NBD, Pareto/NBD, MBG/NBD), and ``kwargs`` are its
        arguments (``margin``, ``discount_rate``, ...; see that method for the
        time unit of the rate). ``data`` must hold the columns both models need.
        """
        if not hasattr(transactions, "clv"):
            raise DataError(
                f"{type(transactions).__name__} has no clv method; pass a fitted transaction "
                "model result (e.g. BGBB().fit(...), BGNBD().fit(...))."
            )
        return transactions.clv(data, spend=self, **kwargs)


class _Spend(NamedTuple):
    """Repeat buyers' spend, compressed to distinct (x, m_x[, z]) with counts ``w``."""

    spend: SpendData | None  # every repeat buyer (the fast path without covariates)
    x: np.ndarray
    m: np.ndarray
    w: np.ndarray
    Z: np.ndarray | None
    excluded: int
    corr: float


class GammaGamma(Model):
    """Gamma-Gamma spend model (Fader, Hardie & Lee 2005).

    With covariates the scale of ``nu`` varies: ``gamma_i = gamma_0 exp(delta' z_i)``, so
    a coefficient is the log multiplier of the mean spend per transaction
    ``p gamma_i / (q - 1)``.

    Examples
    --------
    >>> from crmlab.models import GammaGamma
    >>> fit = GammaGamma().fit(summary)  # doctest: +SKIP
    >>> fit.excluded  # customers without repeat purchases  # doctest: +SKIP
    """

    name = "Gamma-Gamma"
    names = PARAMS
    start = (1.0, 2.0, 1.0)
    result_class = GammaGammaResult
    advice = ADVICE
    shapes = ("p", "q")  # gamma is in money units
    links = {"spend": ("gamma", 1)}

    def fit(  # type: ignore[override]
        self,
        data: pd.DataFrame,
        *,
        covariates: Any = None,
        reference: Any = None,
        initial: dict[str, float] | None = None,
        maxiter: int = 2000,
        strict: bool = True,
    ) -> GammaGammaResult:
        """Fit by maximum likelihood on customers with ``frequency > 0``.

        Parameters
        ----------
        data : DataFrame
            ``frequency`` (repeat transactions) and ``monetary_value`` (mean
            value of those repeat transactions), one row per customer.
        covariates : list of str, optional
            Covariate columns of ``data`` acting on the spend scale (see the class).
        initial : dict, optional
            Starting values by parameter name (default p=1, q=2, gamma=mean spend).
        strict : bool
            Raise :class:`~crmlab.models.base.IdentificationError` when the data cannot
            identify the model (fewer than 4 repeat buyers, or one spend value for all),
            an estimate runs to the edge of the parameter space (p or q beyond 1e6 or
            below 1e-6), the Hessian is singular or the fit does not converge; with
            False, warn and return the result flagged ``converged=False``.

        Warns
        -----
        InfiniteMeanWarning
            If the estimate has ``q <= 1`` (no finite mean spend).
        ConvergenceWarning
            If the optimiser did not converge.
        """
        return Model.fit(  # type: ignore[return-value]
            self,
            data,
            covariates=covariates,
            reference=reference,
            initial=initial,
            maxiter=maxiter,
            strict=strict,
        )

    def _data(self, data: pd.DataFrame, design: np.ndarray | None) -> _Spend:
        x_all, m_all = _check(data)
        used = x_all > 0
        excluded = int((~used).sum())
        if not used.any():
            raise DataError(
                f"no customer has frequency > 0 ({excluded:,} rows, all without repeat "
                "transactions); Gamma-Gamma needs repeat spend to learn from."
            )
        x, m = x_all[used], m_all[used]
        corr = float(np.corrcoef(x, m)[0, 1]) if x.size > 2 and np.ptp(m) > 0 else np.nan
        if design is None:
            return _Spend(SpendData.of(x, m), x, m, np.ones(x.size), None, excluded, corr)
        frame = pd.DataFrame({"x": x, "m": m})
        patterns, counts, z = Model.compress_patterns(frame, ["x", "m"], None, design[used])
        return _Spend(
            None,
            patterns["x"].to_numpy(dtype=float),
            patterns["m"].to_numpy(dtype=float),
            counts,
            z,
            excluded,
            corr,
        )

    def _start_values(self, p: _Spend) -> tuple[float, ...]:
        # population mean p*gamma/(q-1) = observed mean
        return (1.0, 2.0, float(np.average(p.m, weights=p.w)))

    def _problems(self, p: _Spend) -> list[str]:
        n = float(p.w.sum())
        if n <= len(PARAMS):
            return [
                f"only {n:g} customer(s) with repeat purchases: that cannot identify how "
                "spend varies across customers (3 parameters)"
            ]
        if np.all(p.m == p.m[0]):
            return [
                f"every repeat buyer spent the same mean amount ({p.m[0]:g}), so nothing shows "
                "how spend varies across customers"
            ]
        return []

    def _loglik(self, theta: np.ndarray, p: _Spend, grad: bool = False) -> Any:
        params = np.exp(theta)
        if p.spend is None:
            each, derivs = self._loglik_each(dict(zip(PARAMS, params, strict=True)), p)
            total, gradient = float(p.w @ each), derivs @ p.w
        else:
            total, natural = total_log_likelihood_grad(params, p.spend)
            gradient = natural * params
        return (total, gradient) if grad else total

    def _loglik_each(
        self, params: Any, p: _Spend, grad: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        values = [np.broadcast_to(params[k], p.x.shape) for k in PARAMS]
        ll, natural = log_likelihood_grad(values, p.x, p.m)
        return ll, natural.T * np.array(values)

    def _extra(self, p: _Spend) -> dict:
        # the model assumes spend independent of frequency; FHL (2005) report 0.11
        return {"excluded": p.excluded, "corr_frequency_spend": p.corr}

    def _result_kwargs(self, p: _Spend) -> dict:
        return {"excluded": p.excluded}

    def _time_unit(self, data: Any) -> str | None:
        return data.attrs.get("time_unit")

    def _after_fit(self, result: FitResult) -> FitResult:
        q = float(result.params["q"])
        if q <= 1:
            warnings.warn(
                f"Gamma-Gamma estimate q = {q:.3g} <= 1: the model implies no finite "
                "mean spend per transaction (population mean p*gamma/(q-1) does not exist). "
                "Expected spend for customers with few transactions will be infinite or "
                "unstable; check for outlier orders or model log-spend instead.",
                InfiniteMeanWarning,
                stacklevel=4,
            )
        return result
