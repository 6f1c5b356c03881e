"""Shifted-beta-geometric (sBG) model of contractual retention.

Fader, P. S. & Hardie, B. G. S. (2007). How to project customer retention.
*Journal of Interactive Marketing* 21(1), 76-90.
Fader, P. S. & Hardie, B. G. S. (2010). Customer-base valuation in a
contractual setting: the perils of ignoring heterogeneity. *Marketing Science*
29(1), 85-93.

Each customer renews at the end of every period with probability ``1 - theta``
while ``theta ~ Beta(alpha, beta)`` varies across customers. Periods are
counted from the start of the contract (period 1 is the first one paid for):

* ``P(T = t) = B(alpha + 1, beta + t - 1) / B(alpha, beta)`` (churn in period t),
* ``S(t) = B(alpha, beta + t) / B(alpha, beta)`` (still a customer after t periods),
* ``r(t) = S(t) / S(t-1) = (beta + t - 1) / (alpha + beta + t - 1)`` (retention rate).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from scipy.special import betaln, digamma

from crmlab.errors import DataError
from crmlab.models.base import (
    FitResult,
    Model,
    discount_per_period,
    hyp2f1_one,
    reject_missing,
    reject_rows,
)

PARAMS = ("alpha", "beta")


def _times(t: float | Sequence[float] | np.ndarray, name: str = "t") -> np.ndarray:
    arr = np.asarray(t, dtype=float)
    if np.any(~np.isfinite(arr)) or np.any(arr < 0):
        raise DataError(f"{name} (periods) must be finite and >= 0; got {arr.ravel()[0]!r}.")
    return arr


def _out(values: np.ndarray) -> np.ndarray | float:
    return float(values) if np.ndim(values) == 0 else values


@dataclass(repr=False)
class ShiftedBetaGeometricResult(FitResult):
    """A fitted sBG model; ``t`` counts contract periods since acquisition."""

    @property
    def _ab(self) -> tuple[float, float]:
        return float(self.params["alpha"]), float(self.params["beta"])

    def survival(self, t: float | Sequence[float] | np.ndarray) -> np.ndarray | float:
        """``S(t) = B(alpha, beta + t) / B(alpha, beta)``: share still active after t periods.

        For whole-number t this is the product of retention rates
        ``prod_{k=1}^{t} (beta + k - 1) / (alpha + beta + k - 1)``, summed in logs
        (exact even when alpha or beta is extreme); other t use ``betaln``.
        """
        return _out(np.exp(self._log_survival(_times(t))))

    def _log_survival(self, t: np.ndarray) -> np.ndarray:
        a, b = self._ab
        if t.size and np.all(np.round(t) == t) and t.max() <= 1_000_000:
            k = np.arange(1, int(t.max()) + 1)
            steps = np.concatenate([[0.0], np.cumsum(-np.log1p(a / (b + k - 1)))])
            return steps[t.astype(int)]
        return betaln(a, b + t) - betaln(a, b)

    def retention_rate(self, t: float | Sequence[float] | np.ndarray) -> np.ndarray | float:
        """``r(t) = (beta + t - 1) / (alpha + beta + t - 1)``, for t >= 1.

        Rises with t: the customers who stay are the ones with low churn rates.
        """
        a, b = self._ab
        t = _times(t)
        if np.any(t < 1):
            raise DataError("retention_rate needs t >= 1 (the renewal at the end of period t).")
        return _out((b + t - 1) / (a + b + t - 1))

    def churn_probability(self, t: float | Sequence[float] | np.ndarray) -> np.ndarray | float:
        """``P(T = t) = B(alpha + 1, beta + t - 1) / B(alpha, beta)``: churn in period t >= 1."""
        a, b = self._ab
        t = _times(t)
        if np.any(t < 1):
            raise DataError("churn_probability needs t >= 1 (periods start at 1).")
        # P(T = t) = S(t - 1) * (1 - r(t)) = S(t - 1) * a / (a + b + t - 1)
        return _out(np.exp(self._log_survival(t - 1) - np.log1p((b + t - 1) / a)))

    def expected_lifetime(self) -> float:
        """E[T] = sum_{t>=0} S(t) = (alpha + beta - 1) / (alpha - 1) periods.

        Infinite when ``alpha <= 1`` (too many customers with churn rates near 0);
        the discounted :meth:`dert` stays finite.
        """
        a, b = self._ab
        return float((a + b - 1) / (a - 1)) if a > 1 else float("inf")

    def dert(self, discount_rate: float, *, renewals: int | np.ndarray = 0) -> np.ndarray | float:
        """Discounted expected residual transactions (renewals), Fader & Hardie (2010).

        For a customer who has been active for ``n = renewals + 1`` periods and
        has just paid for period n, the expected discounted number of future
        payments, the first (for period n + 1) discounted once:

        ``DERT = sum_{k>=1} S(n + k - 1) / S(n - 1) / (1 + d)^k
        = (beta + n - 1) / ((alpha + beta + n - 1)(1 + d))
        * 2F1(1, beta + n; alpha + beta + n; 1 / (1 + d))``.

        Fader & Hardie (2010) count the renewal payment at the moment it is
        made, so their residual value of a customer deciding on her n-th
        renewal is ``DERL = (1 + d) * DERT = (beta + n - 1) / (alpha + beta + n - 1)
        * 2F1(1, beta + n; alpha + beta + n; 1 / (1 + d))`` (:meth:`derl`), and the
        value of a customer about to make her first payment is
        ``DEL = 1 + DERT(renewals=0) = 2F1(1, beta; alpha + beta; 1 / (1 + d))``.
        The hypergeometric series is summed directly (:func:`hyp2f1_one`). Without
        discounting (d = 0) the sum is ``(beta + n - 1) / (alpha - 1)``, finite only when
        alpha > 1.
        """
        a, b = self._ab
        d = discount_per_period(discount_rate, None, None, None)
        n = np.asarray(renewals, dtype=float) + 1
        if np.any(n < 1) or np.any(np.round(n) != n):
            raise DataError(f"renewals must be whole numbers >= 0; got {renewals!r}.")
        if d == 0:  # sum_{k>=1} B(a, b'+k)/B(a, b') = b'/(a-1) with b' = b+n-1
            if a <= 1:
                raise DataError(
                    f"without discounting the expected number of future renewals is infinite "
                    f"(alpha = {a:.3g} <= 1); give a discount rate > 0."
                )
            return _out((b + n - 1) / (a - 1))
        z = 1.0 / (1.0 + d)
        return _out((b + n - 1) / (a + b + n - 1) * z * hyp2f1_one(b + n, a + b + n, z))

    def derl(self, discount_rate: float, *, renewals: int | np.ndarray = 0) -> np.ndarray | float:
        """Fader & Hardie's (2010) DERL: :meth:`dert` with the next payment undiscounted.

        ``DERL(d | alpha, beta, n - 1 renewals) = (beta + n - 1) / (alpha + beta + n - 1)
        * 2F1(1, beta + n; alpha + beta + n; 1 / (1 + d))`` with ``n = renewals + 1``.
        """
        return _out(
            (1.0 + float(discount_rate)) * np.asarray(self.dert(discount_rate, renewals=renewals))
        )

    def clv(
        self,
        *,
        margin: float,
        discount_rate: float | None = None,
        annual_discount_rate: float | None = None,
        periods_per_year: float | None = None,
        renewals: int | np.ndarray = 0,
    ) -> np.ndarray | float:
        """Residual value = ``margin`` per period x :meth:`dert`.

        Exactly one of ``discount_rate`` (per contract period, >= 0) and
        ``annual_discount_rate`` (per year, converted by compounding
        ``(1+d)^(1/periods_per_year) - 1``; ``periods_per_year`` e.g. 12 for monthly
        contracts). ``margin`` is money per period here, not a share of spend.
        """
        rate = discount_per_period(
            discount_rate, annual_discount_rate, periods_per_year, self.time_unit
        )
        return _out(float(margin) * np.asarray(self.dert(rate, renewals=renewals)))

    def project(self, periods: int | Sequence[int], cohort_size: float = 1000.0) -> pd.Series:
        """Expected active customers ``cohort_size * S(t)`` for the given periods."""
        t = np.atleast_1d(np.asarray(periods))
        return pd.Series(
            cohort_size * np.asarray(self.survival(t)),
            index=pd.Index(t, name="period"),
            name="expected_active",
        )


class _Contracts(NamedTuple):
    """Distinct (periods, churned) patterns with customer counts ``w``; ``counts`` keeps a
    single cohort's survivor counts (the exact path of the published fits)."""

    t: np.ndarray
    churned: np.ndarray
    w: np.ndarray
    Z: np.ndarray | None
    counts: np.ndarray | None


def _check_counts(alive: Any) -> np.ndarray:
    counts = np.asarray(pd.Series(alive).to_numpy(), dtype=float)
    if counts.ndim != 1 or counts.size < 2:
        raise DataError(
            "alive needs at least two counts: the cohort size and the survivors after "
            f"one period; got {counts.size}."
        )
    bad = ~np.isfinite(counts) | (counts < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"alive has {int(bad.sum())} values that are not finite counts >= 0, first at "
            f"position {i}: {counts[i]!r}."
        )
    lost = counts[:-1] - counts[1:]
    if np.any(lost < 0):
        i = int(np.flatnonzero(lost < 0)[0]) + 1
        raise DataError(
            f"alive rises at position {i} ({counts[i - 1]:g} -> {counts[i]:g}); it must count "
            "survivors of one cohort, so it can only fall. Give one cohort at a time."
        )
    if counts[0] <= 0:
        raise DataError("alive starts with a cohort of 0 customers; nothing to fit.")
    return counts


def contracts_from_cohorts(cohorts: Mapping[Any, Any], name: str = "cohort") -> pd.DataFrame:
    """Survivor counts of one or more cohorts as per-customer contract patterns.

    ``cohorts`` maps a cohort's name to its survivor counts (cohort size first). Returns
    one row per (cohort, periods, churned) with ``weight`` customers: ``periods`` is the
    period in which they churned (``churned`` 1) or the periods observed for those still
    active at the end (``churned`` 0). The cohort name is a column ``name``, to use as a
    categorical covariate (``ShiftedBetaGeometric().fit(frame, covariates=["cohort"])``).
    """
    rows = []
    for cohort, alive in cohorts.items():
        counts = _check_counts(alive)
        lost = counts[:-1] - counts[1:]
        for t, k in enumerate(lost, start=1):
            if k > 0:
                rows.append((cohort, t, 1, k))
        if counts[-1] > 0:
            rows.append((cohort, counts.size - 1, 0, counts[-1]))
    return pd.DataFrame(rows, columns=[name, "periods", "churned", "weight"])


class ShiftedBetaGeometric(Model):
    """sBG contractual retention model (Fader & Hardie 2007).

    Fits one cohort's survivor counts, or a frame of contract patterns (``periods``,
    ``churned`` and optional ``weight``: see :func:`contracts_from_cohorts`) with
    time-invariant covariates per customer or per cohort:
    ``alpha_i = alpha_0 exp(gamma_a' z_i)``, ``beta_i = beta_0 exp(gamma_b' z_i)`` (the
    mean churn probability is ``alpha_i / (alpha_i + beta_i)``).

    Examples
    --------
    >>> import crmlab
    >>> from crmlab.models import ShiftedBetaGeometric
    >>> cohorts = crmlab.load_dataset("retention_cohorts")
    >>> fit = ShiftedBetaGeometric().fit(cohorts["regular"][:8])
    >>> fit.params.round(3).tolist()
    [0.704, 1.182]
    """

    name = "sBG"
    names = PARAMS
    start = (1.0, 1.0)
    result_class = ShiftedBetaGeometricResult
    advice = "Use a longer series of periods or a larger cohort."
    links = {"alpha": ("alpha", 1), "beta": ("beta", 1)}

    def fit(  # type: ignore[override]
        self,
        alive: Sequence[float] | pd.Series | np.ndarray | pd.DataFrame,
        *,
        covariates: Sequence[str] | None = None,
        reference: Mapping[str, Any] | None = None,
        initial: dict[str, float] | None = None,
        maxiter: int = 2000,
        strict: bool = True,
        fixed: Mapping[str, float] | None = None,
    ) -> ShiftedBetaGeometricResult:
        """Fit by maximum likelihood to survivor counts or contract patterns.

        Parameters
        ----------
        alive : sequence or DataFrame
            Customers active at the start of period 1, 2, ... (first element =
            cohort size at acquisition, then survivors after each renewal); or a frame
            with ``periods``, ``churned`` (1/0) and optionally ``weight`` and covariate
            columns.
        covariates : list of str, optional
            Covariate columns of the frame (see the class).
        strict : bool
            Raise :class:`~crmlab.models.base.IdentificationError` when the counts cannot
            identify the model (nobody or everybody churns), an estimate runs to the edge
            of the parameter space, the Hessian is singular or the fit does not converge;
            with False, warn and return the result flagged ``converged=False``.

        Notes
        -----
        Log-likelihood (Fader & Hardie 2007, eq. 6):
        ``sum_t (n_{t-1} - n_t) ln P(T = t) + n_last ln S(last)``.
        """
        return Model.fit(  # type: ignore[return-value]
            self,
            alive,
            covariates=covariates,
            reference=reference,
            initial=initial,
            maxiter=maxiter,
            strict=strict,
            fixed=fixed,
        )

    def _data(self, alive: Any, design: np.ndarray | None) -> _Contracts:
        if not isinstance(alive, pd.DataFrame):
            counts = _check_counts(alive)
            lost = counts[:-1] - counts[1:]
            t = np.arange(1, counts.size, dtype=float)
            keep = lost > 0
            return _Contracts(
                np.append(t[keep], counts.size - 1.0),
                np.append(np.ones(int(keep.sum())), 0.0),
                np.append(lost[keep], counts[-1]),
                None,
                counts,
            )
        missing = [c for c in ("periods", "churned") if c not in alive.columns]
        if missing:
            raise DataError(
                f"the contract frame has no column {', '.join(map(repr, missing))}; give "
                "periods (period of churn, or periods observed) and churned (1/0) per "
                "customer, e.g. from crmlab.models.sbg.contracts_from_cohorts."
            )
        reject_missing(alive, ["periods", "churned", "weight"])
        t = pd.to_numeric(alive["periods"], errors="coerce").to_numpy(dtype=float)
        churned = pd.to_numeric(alive["churned"], errors="coerce").to_numpy(dtype=float)
        reject_rows(
            "periods",
            ~np.isfinite(t) | (np.round(t) != t) | (t < 0) | ((t < 1) & (churned == 1)),
            alive["periods"],
            "values that are not whole numbers of periods (>= 1 for a churned customer)",
            "Periods count from 1, the first period paid for.",
        )
        reject_rows(
            "churned",
            ~np.isin(churned, (0.0, 1.0)),
            alive["churned"],
            "values other than 0 and 1",
            "churned is 1 for a customer who left in that period, 0 for one still active.",
        )
        weight = "weight" if "weight" in alive.columns else None
        if weight:
            w = pd.to_numeric(alive[weight], errors="coerce").to_numpy(dtype=float)
            reject_rows(
                weight,
                ~np.isfinite(w) | (w < 0),
                alive[weight],
                "weights that are not >= 0",
                "Weights count customers per row.",
            )
        frame = pd.DataFrame({"periods": t, "churned": churned}, index=alive.index)
        if weight:
            frame["weight"] = alive[weight].to_numpy(dtype=float)
        patterns, counts, z = Model.compress_patterns(frame, ["periods", "churned"], weight, design)
        return _Contracts(
            patterns["periods"].to_numpy(dtype=float),
            patterns["churned"].to_numpy(dtype=float),
            counts,
            z,
            None,
        )

    def _problems(self, p: _Contracts) -> list[str]:
        used = p.w > 0
        if not np.any(p.churned[used] == 1):
            return ["nobody churned, so the data cannot tell how fast customers leave"]
        if np.all((p.churned[used] == 1) & (p.t[used] == 1)):
            return ["everybody churned after the first period"]
        return []

    def _n_obs(self, p: _Contracts) -> float:
        return float(p.counts[0]) if p.counts is not None else float(p.w.sum())

    def _extra(self, p: _Contracts) -> dict:
        return {"periods": int(p.t.max()) if p.t.size else 0}

    def _time_unit(self, data: Any) -> str | None:
        return None

    def _loglik(self, theta: np.ndarray, p: _Contracts, grad: bool = False) -> Any:
        a, b = np.exp(theta)
        each, derivs = self._loglik_each({"alpha": a, "beta": b}, p)
        if p.counts is None:
            total = float(p.w @ each)
            return (total, derivs @ p.w) if grad else total
        total = self._exact_counts_loglik(a, b, p.counts)
        return (total, derivs @ p.w) if grad else total

    @staticmethod
    def _exact_counts_loglik(a: float, b: float, counts: np.ndarray) -> float:
        lost = counts[:-1] - counts[1:]
        t = np.arange(1, counts.size)
        # log r(k) = -log1p(a / (b + k - 1)); log P(T = t) = -log1p((b + t - 1) / a)
        # + log S(t - 1): exact for extreme a, b where betaln differences lose digits
        log_r = -np.log1p(a / (b + t - 1))
        log_s = np.concatenate([[0.0], np.cumsum(log_r)])
        ll_churn = -np.log1p((b + t - 1) / a) + log_s[:-1]
        total = float(np.sum(np.where(lost > 0, lost * ll_churn, 0.0))) + counts[-1] * log_s[-1]
        return total if np.isfinite(total) else -np.inf

    def _loglik_each(
        self, params: Any, p: _Contracts, grad: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per pattern: ``ln P(T = t) = ln B(a+1, b+t-1) - ln B(a, b)`` for a churn in period
        t, ``ln S(t) = ln B(a, b+t) - ln B(a, b)`` for a customer active after t periods;
        and the derivatives in ``ln a``, ``ln b`` (digamma differences)."""
        a = np.broadcast_to(params["alpha"], p.t.shape)
        b = np.broadcast_to(params["beta"], p.t.shape)
        t, churned = p.t, p.churned == 1
        base = betaln(a, b)
        ll = (
            np.where(churned, betaln(a + 1, np.maximum(b + t - 1, 1e-300)), betaln(a, b + t)) - base
        )
        psi_ab = digamma(a + b)
        psi_abt = digamma(a + b + t)
        d_a = np.where(churned, digamma(a + 1) - digamma(a), 0.0) - psi_abt + psi_ab
        d_b = (
            np.where(churned, digamma(np.maximum(b + t - 1, 1e-300)), digamma(b + t))
            - psi_abt
            - digamma(b)
            + psi_ab
        )
        return ll, np.array([a * d_a, b * d_b])
