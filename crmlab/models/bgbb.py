"""BG/BB: beta-geometric/beta-Bernoulli model of discrete-time repeat buying.

Fader, P. S., Hardie, B. G. S. & Shang, J. (2010). Customer-base analysis in a
discrete-time noncontractual setting. *Marketing Science* 29(6), 1086-1108.

Each of ``n`` transaction opportunities is a coin flip: while alive, a customer
transacts with probability ``p ~ Beta(alpha, beta)``; at the start of every
opportunity after the first purchase she dies with probability
``theta ~ Beta(gamma, delta)``. A customer is summarised by
``frequency`` x (repeat transactions), ``recency`` t_x (opportunity of the last
one, 0 if none) and ``n_periods`` n (opportunities observed).

Time is counted in *opportunities* (e.g. yearly fund drives); every method
takes and returns numbers of opportunities.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from scipy.special import gammaln, logsumexp

from crmlab.errors import DataError
from crmlab.models.base import (
    FitResult,
    Model,
    check_level,
    check_time_unit,
    compress,
    discount_per_period,
    hyp2f1_one,
    interval_frame,
    per_customer,
    reject_rows,
)

PARAMS = ("alpha", "beta", "gamma", "delta")
COLUMNS = ("frequency", "recency", "n_periods")


def check_bgbb_data(data: pd.DataFrame, weight: str | None = None) -> None:
    """Raise :class:`DataError` unless ``data`` is a valid BG/BB summary.

    Requires integer ``0 <= frequency <= recency <= n_periods``, ``recency = 0``
    exactly when ``frequency = 0``, and non-negative finite weights.
    """
    if not isinstance(data, pd.DataFrame):
        raise DataError(
            f"BG/BB needs a DataFrame with columns {', '.join(COLUMNS)}; got {type(data).__name__}."
        )
    missing = [c for c in COLUMNS if c not in data.columns]
    if missing:
        raise DataError(
            f"the BG/BB summary has no column {', '.join(map(repr, missing))}; it has "
            f"{', '.join(map(repr, map(str, data.columns)))}. Give frequency (repeat "
            "transactions), recency (opportunity of the last one, 0 if none) and n_periods."
        )
    if len(data) == 0:
        raise DataError("the BG/BB summary has no rows; give at least one customer.")
    for col in COLUMNS:
        values = pd.to_numeric(data[col], errors="coerce")
        v = values.to_numpy(dtype=float)
        bad = ~np.isfinite(v) | (v < 0) | (np.round(v) != v)
        reject_rows(
            col, bad, data[col], "values that are not whole numbers >= 0", "Fix or drop them."
        )
    x = data["frequency"].to_numpy(dtype=float)
    tx = data["recency"].to_numpy(dtype=float)
    n = data["n_periods"].to_numpy(dtype=float)
    reject_rows(
        "recency",
        tx > n,
        data["recency"],
        "values above n_periods",
        "Recency counts opportunities since the first purchase and cannot exceed n_periods.",
    )
    reject_rows(
        "frequency",
        x > tx,
        data["frequency"],
        "values above recency",
        "A customer with x repeat transactions made the last one at opportunity t_x >= x.",
    )
    reject_rows(
        "recency",
        (x == 0) & (tx != 0),
        data["recency"],
        "non-zero values where frequency is 0",
        "Recency is 0 for customers without repeat transactions.",
    )
    if weight is not None:
        if weight not in data.columns:
            raise DataError(f"the BG/BB summary has no weight column {weight!r}.")
        w = pd.to_numeric(data[weight], errors="coerce").to_numpy(dtype=float)
        reject_rows(
            weight,
            ~np.isfinite(w) | (w < 0),
            data[weight],
            "weights that are not finite and >= 0",
            "Weights count customers per row.",
        )


def _arrays(data: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    check_bgbb_data(data)
    return tuple(data[c].to_numpy(dtype=float) for c in COLUMNS)  # type: ignore[return-value]


def _rising(v: float, size: int) -> tuple[np.ndarray, np.ndarray]:
    """``ln (v)_k = sum_{j<k} ln(v + j)`` and its derivative ``sum_{j<k} 1/(v + j)``, k < size.

    Ratios of beta functions with whole-number shifts are products of rising
    factorials, e.g. ``B(a+x, b+y)/B(a,b) = (a)_x (b)_y / (a+b)_{x+y}``; summing
    logs avoids the cancellation of ``betaln`` differences when a parameter is huge.
    """
    j = v + np.arange(size - 1)
    return (
        np.concatenate([[0.0], np.cumsum(np.log(j))]),
        np.concatenate([[0.0], np.cumsum(1.0 / j)]),
    )


def _log_terms(
    params: np.ndarray, x: np.ndarray, tx: np.ndarray, n: np.ndarray, *, grad: bool = False
) -> tuple[np.ndarray, tuple[np.ndarray, ...] | None]:
    """The log terms of eq. (5) (column 0: alive through n; column 1 + i: died
    after opportunity t_x + i; -inf where i >= n - t_x) and, with ``grad``, each
    term's derivatives in (alpha, beta, gamma, delta)."""
    a, b, g, d = np.asarray(params, dtype=float)  # numpy scalars: 1/0 -> inf, not an error
    size = int(n.max()) + 2 if n.size else 2
    la, da = _rising(a, size)
    lb, db = _rising(b, size)
    lab, dab = _rising(a + b, size)
    ld, dd = _rising(d, size)
    lgd, dgd = _rising(g + d, size)
    xi, txi, ni = x.astype(int)[:, None], tx.astype(int)[:, None], n.astype(int)[:, None]
    i = np.arange(size - 2)[None, :]
    valid = np.concatenate([np.ones_like(xi, bool), i < (ni - txi)], axis=1)
    k_b = np.where(valid, np.concatenate([ni - xi, txi - xi + i], axis=1), 0)
    k_ab = np.where(valid, np.concatenate([ni, txi + i], axis=1), 0)
    k_gd = np.where(valid, np.concatenate([ni, txi + i + 1], axis=1), 0)
    dead = np.arange(size - 1)[None, :] > 0  # columns 1.. carry the death factor g
    terms = la[xi] + lb[k_b] - lab[k_ab] + np.where(dead, np.log(g), 0.0) + ld[k_ab] - lgd[k_gd]
    terms = np.where(valid, terms, -np.inf)
    if not grad:
        return terms, None
    parts = (
        da[xi] - dab[k_ab],
        db[k_b] - dab[k_ab],
        np.where(dead, 1.0 / g, 0.0) - dgd[k_gd],
        dd[k_ab] - dgd[k_gd],
    )
    return terms, parts


def log_likelihood_grad(
    params: np.ndarray, x: np.ndarray, tx: np.ndarray, n: np.ndarray, *, grad: bool = True
) -> tuple[np.ndarray, np.ndarray | None]:
    """Per-customer log-likelihood, FHS (2010) eq. (5), and its gradient.

    ``L = B(a+x, b+n-x)/B(a,b) * B(g, d+n)/B(g,d)
    + sum_{i=0}^{n-t_x-1} B(a+x, b+t_x-x+i)/B(a,b) * B(g+1, d+t_x+i)/B(g,d)``,
    each beta ratio written with rising factorials (see :func:`_rising`), the sum
    taken with ``logsumexp``. The gradient in (alpha, beta, gamma, delta) is the
    softmax-weighted average of the terms' gradients.
    """
    terms, parts = _log_terms(params, x, tx, n, grad=grad)
    ll = logsumexp(terms, axis=1)
    if parts is None:
        return ll, None
    w = np.exp(terms - ll[:, None])
    return ll, np.column_stack([np.sum(w * part, axis=1) for part in parts])


def log_alive_through_n(
    params: np.ndarray, x: np.ndarray, tx: np.ndarray, n: np.ndarray
) -> np.ndarray:
    """ln P(alive at opportunity n | x, t_x, n): the first term of eq. (5) over L."""
    terms, _ = _log_terms(params, x, tx, n)
    return terms[:, 0] - logsumexp(terms, axis=1)


def _log_survival(g: float, d: float, n: np.ndarray, k_max: int) -> np.ndarray:
    """``ln S_k(n) = ln B(g, d+n+k)/B(g, d+n) = sum_{j<k} ln(1 - g/(g+d+n+j))``, k = 0..k_max.

    The probability that a customer alive at opportunity n is still alive k
    opportunities later; one row per value of ``n``.
    """
    j = np.arange(k_max)[None, :]
    steps = np.log1p(-g / (g + d + n[:, None] + j))
    return np.concatenate([np.zeros((len(n), 1)), np.cumsum(steps, axis=1)], axis=1)


def _whole(value: float, name: str) -> int:
    if not np.isfinite(value) or value < 0 or int(value) != value:
        raise DataError(f"{name} must be a whole number of opportunities >= 0; got {value!r}.")
    return int(value)


def log_likelihood(params: np.ndarray, x: np.ndarray, tx: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Per-customer log-likelihood of (x, t_x, n), FHS (2010) eq. (5)."""
    return log_likelihood_grad(params, x, tx, n, grad=False)[0]


@dataclass(repr=False)
class BGBBResult(FitResult):
    """A fitted BG/BB model; predictions count transaction *opportunities*."""

    @property
    def _p(self) -> tuple[float, float, float, float]:
        return tuple(float(self.params[k]) for k in PARAMS)  # type: ignore[return-value]

    def _series(self, values: np.ndarray, data: pd.DataFrame, name: str) -> pd.Series:
        return pd.Series(values, index=data.index, name=name)

    def _posterior(
        self, x: np.ndarray, tx: np.ndarray, n: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """ln P(alive at n | history) + ln E[p | alive, history], the distinct n and
        each row's position among them."""
        a, b, _, _ = self._p
        log_alive = log_alive_through_n(self._p, x, tx, n)
        n_values, where = np.unique(n, return_inverse=True)
        # alive through n with x of n successes: p | data ~ Beta(a + x, b + n - x)
        return log_alive + np.log(a + x) - np.log(a + b + n), n_values, np.ravel(where)

    def _data(self, data: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        x, tx, n = _arrays(data)
        check_time_unit(self, data)
        return x, tx, n

    def probability_alive(
        self,
        data: pd.DataFrame,
        *,
        ahead: int = 1,
        level: float | None = None,
        draws: int = 500,
        seed: int = 0,
    ) -> pd.Series | pd.DataFrame:
        """P(alive at opportunity n + ``ahead`` | x, t_x, n), FHS (2010) eq. (11).

        ``B(a+x, b+n-x)/B(a,b) * B(g, d+n+ahead)/B(g,d) / L``; the paper
        tabulates ``ahead = 1`` (alive at the 2002 opportunity given 1996-2001).
        Computed as P(alive at n | history) times the posterior survival
        ``B(g, d+n+ahead)/B(g, d+n)`` (rising factorials, exact for extreme parameters).
        With ``level``: a frame with ``p_alive``, ``lower``, ``upper`` from parameter
        draws (see :meth:`clv`).
        """
        ahead = _whole(ahead, "ahead")
        x, tx, n = self._data(data)

        def compute(r: BGBBResult) -> np.ndarray:
            _, _, g, d = r._p
            log_surv = _log_survival(g, d, n, ahead)[:, ahead]
            return np.exp(log_alive_through_n(r._p, x, tx, n) + log_surv)

        return self._predict(compute, data.index, "p_alive", level, draws, seed)

    def expected_purchases(
        self,
        n: Any,
        data: pd.DataFrame | None = None,
        *,
        level: float | None = None,
        draws: int = 500,
        seed: int = 0,
    ) -> pd.Series | pd.DataFrame | np.ndarray | float:
        """Expected transactions in the next ``n`` opportunities.

        Without ``data``: E[X(n)] for a new customer, FHS (2010) eq. (7),
        ``a/(a+b) * d/(g-1) * [1 - G(g+d)/G(1+d) * G(1+d+n)/G(g+d+n)]``
        (``n`` may be an array). With ``data``: E[X(n, n+n*) | x, t_x, n],
        eq. (13), ``B(a+x+1, b+n-x)/B(a,b) * d/(g-1) * G(g+d)/G(1+d)
        * [G(1+d+n)/G(g+d+n) - G(1+d+n+n*)/G(g+d+n+n*)] / L``; ``n*`` is one whole
        number or a Series of per-customer numbers matched by customer id. With
        ``level``: a frame with ``expected``, ``lower``, ``upper`` (see :meth:`clv`).

        Both are evaluated as the equivalent sums
        ``E[p] * sum_{k=1}^{n*} P(alive at k)`` (``E[p]`` and the survival
        probabilities conditional on the history), whose terms are products of
        ratios such as ``(d+n+j)/(g+d+n+j)``: no gamma-function differences, so
        no cancellation when a parameter is extreme and no special case at
        ``gamma = 1``. Cost grows with n*; opportunities are whole numbers.
        """
        if data is None:
            if level is not None:
                raise DataError("intervals (level=...) need data: give the customers' summary.")
            a, b, g, d = self._p
            horizon = np.asarray(n, dtype=float)
            for value in np.atleast_1d(horizon):
                _whole(float(value), "n (opportunities ahead)")
            k_max = int(horizon.max()) if horizon.size else 0
            cum = np.concatenate(
                [[0.0], np.cumsum(np.exp(_log_survival(g, d, np.zeros(1), k_max)[0, 1:]))]
            )
            out = a / (a + b) * cum[horizon.astype(int)]
            return float(out) if out.ndim == 0 else out
        x, tx, n_obs = self._data(data)
        if isinstance(n, pd.Series):
            ahead = per_customer(n, data, "n (opportunities ahead)")
        elif isinstance(n, int | float | np.integer | np.floating) and not isinstance(n, bool):
            ahead = np.full(x.size, float(n))
        else:
            raise DataError(
                "with data, n must be one whole number of opportunities or a Series of them "
                f"indexed by customer id; got a {type(n).__name__}."
            )
        for value in np.unique(ahead):
            _whole(float(value), "n (opportunities ahead)")
        ahead = ahead.astype(int)
        k_max = int(ahead.max()) if ahead.size else 0

        def compute(r: BGBBResult) -> np.ndarray:
            _, _, g, d = r._p
            log_head, n_values, where = r._posterior(x, tx, n_obs)
            surv = np.exp(_log_survival(g, d, n_values, k_max)[:, 1:])
            cum = np.concatenate([np.zeros((len(n_values), 1)), np.cumsum(surv, axis=1)], axis=1)
            return np.exp(log_head) * cum[where, ahead]

        return self._predict(compute, data.index, "expected", level, draws, seed)

    def purchase_probability(self, x: int | np.ndarray, n: int) -> np.ndarray | float:
        """P(X(n) = x) for a new customer, FHS (2010) eq. (8).

        ``C(n,x) B(a+x, b+n-x)/B(a,b) B(g, d+n)/B(g,d)
        + sum_{i=x}^{n-1} C(i,x) B(a+x, b+i-x)/B(a,b) B(g+1, d+i)/B(g,d)``,
        with the beta ratios as rising factorials. ``x`` may be an array.
        """
        a, b, g, d = self._p
        xs = np.asarray(x, dtype=float)
        if n < 0 or int(n) != n:
            raise DataError(f"n (opportunities) must be a whole number >= 0; got {n!r}.")
        flat = np.atleast_1d(xs)
        bad = (flat < 0) | (np.round(flat) != flat)
        if np.any(bad):
            raise DataError(f"x must hold whole numbers >= 0; got {flat[bad][0]!r}.")
        size = int(n) + 2
        la, _ = _rising(a, size)
        lb, _ = _rising(b, size)
        lab, _ = _rising(a + b, size)
        ld, _ = _rising(d, size)
        lgd, _ = _rising(g + d, size)

        def logchoose(nn: np.ndarray, kk: np.ndarray) -> np.ndarray:
            return gammaln(nn + 1) - gammaln(kk + 1) - gammaln(nn - kk + 1)

        xi = np.minimum(flat, n).astype(int)[:, None]  # x > n has probability 0 (masked)
        i = np.arange(int(n))[None, :]
        ok = i >= xi
        iv = np.where(ok, i, xi)  # keep indices legal where masked
        with np.errstate(invalid="ignore", divide="ignore"):
            first = logchoose(n, xi) + la[xi] + lb[n - xi] - lab[n] + ld[n] - lgd[n]
            first = np.where(flat[:, None] <= n, first, -np.inf)
            terms = (
                logchoose(iv, xi)
                + la[xi]
                + lb[iv - xi]
                - lab[iv]
                + np.log(g)
                + ld[iv]
                - lgd[iv + 1]
            )
            terms = np.where(ok, terms, -np.inf)
            out = np.exp(logsumexp(np.column_stack([first, terms]), axis=1))
        return float(out[0]) if xs.ndim == 0 else out

    def dert(
        self, data: pd.DataFrame, *, discount_rate: float, horizon: int | None = None
    ) -> pd.Series:
        """Discounted expected residual transactions, FHS (2010) eq. (15).

        The expected transaction at opportunity n+k given the history is
        ``E[Y(n+k)] = B(a+x+1, b+n-x)/B(a,b) * B(g, d+n+k)/B(g,d) / L``
        (= P(alive at n) E[p] S_k(n), see :meth:`expected_purchases`); DERT
        discounts it by ``(1+r)^-k``. With ``horizon=None`` (infinite horizon)
        the sum has the closed form
        ``B(a+x+1, b+n-x)/B(a,b) * B(g, d+n+1)/(B(g,d) (1+r))
        * 2F1(1, d+n+1; g+d+n+1; 1/(1+r)) / L``, and without discounting (r = 0)
        ``sum_k S_k(n) = (d+n)/(g-1)``, finite only when g > 1; with a whole-number
        ``horizon`` H the first H terms are summed. ``discount_rate`` r >= 0 is per
        opportunity (e.g. per year for annual drives).
        """
        r = _rate(discount_rate)
        k_max = None if horizon is None else _whole(horizon, "horizon")
        x, tx, n = self._data(data)
        return self._series(self._dert(x, tx, n, r, k_max), data, "dert")

    def _dert(
        self, x: np.ndarray, tx: np.ndarray, n: np.ndarray, r: float, k_max: int | None
    ) -> np.ndarray:
        _, _, g, d = self._p
        log_head, n_values, where = self._posterior(x, tx, n)
        z = 1.0 / (1.0 + r)
        if k_max is None and r == 0:
            if g <= 1:
                raise DataError(
                    f"without discounting and without a horizon the expected number of future "
                    f"transactions is infinite (gamma = {g:.3g} <= 1); give a discount rate > 0 "
                    "or a finite horizon."
                )
            tail = (d + n_values) / (g - 1)
        elif k_max is None:
            # sum_{k>=1} S_k z^k = z (d+n)/(g+d+n) 2F1(1, d+n+1; g+d+n+1; z)
            tail = (
                z
                * (d + n_values)
                / (g + d + n_values)
                * hyp2f1_one(d + n_values + 1, g + d + n_values + 1, z)
            )
        else:
            k = np.arange(1, k_max + 1)[None, :]
            tail = np.exp(_log_survival(g, d, n_values, k_max)[:, 1:] + k * np.log(z)).sum(axis=1)
        return np.exp(log_head) * tail[where]

    def clv(
        self,
        data: pd.DataFrame,
        *,
        spend: Any = 1.0,
        margin: float = 1.0,
        discount_rate: float | None = None,
        annual_discount_rate: float | None = None,
        periods_per_year: float | None = None,
        horizon: int | None = None,
        level: float | None = None,
        draws: int = 500,
        seed: int = 0,
    ) -> pd.Series | pd.DataFrame:
        """Residual customer value = DERT x spend x margin (per customer).

        Parameters
        ----------
        data : DataFrame
            ``frequency``, ``recency``, ``n_periods``.
        spend : float, Series or GammaGammaResult
            Expected value per transaction: one number, a Series matched by customer id
            (never by position), or a fitted Gamma-Gamma result (its
            ``expected_spend(data)``, with its parameter uncertainty in the interval).
        margin : float
            Fraction of spend that is profit, in [0, 1].
        discount_rate, annual_discount_rate : float
            Exactly one: r >= 0 per opportunity, or per year converted by compounding
            ``(1+r_y)^(1/periods_per_year) - 1`` (``periods_per_year`` opportunities a year,
            e.g. 1 for yearly drives). The transaction at opportunity n+k is discounted
            by ``(1+r)^-k`` (see :meth:`dert`); 0 means no discounting.
        horizon : int or None
            Future opportunities counted (a whole number > 0); None = all.
        level, draws, seed
            With ``level`` (e.g. 0.9): a frame with ``clv``, ``lower``, ``upper`` per
            customer from ``draws`` parameter vectors drawn from the estimates'
            asymptotic normal on log scale (seeded by ``seed``), and the total's
            interval from the same draws in ``attrs["total"]`` (:meth:`clv_total`).
            Parameter uncertainty only, not the randomness of future transactions.
        """
        if not 0 <= margin <= 1:
            raise DataError(f"margin={margin} must be a fraction between 0 and 1.")
        r = discount_per_period(
            discount_rate, annual_discount_rate, periods_per_year, self.time_unit
        )
        k_max = None
        if horizon is not None:
            k_max = _whole(horizon, "horizon")
            if k_max == 0:
                raise DataError("horizon=0 has no value to forecast; give horizon >= 1 or None.")
        x, tx, n = self._data(data)
        spend_model = spend if hasattr(spend, "expected_spend") else None
        if spend_model is not None:
            spend_values = per_customer(spend_model.expected_spend(data), data, "spend")
        else:
            spend_values = per_customer(spend, data, "spend")
        point = self._dert(x, tx, n, r, k_max) * spend_values * float(margin)
        if level is None:
            return self._series(point, data, "clv")
        level = check_level(level)
        rng = np.random.default_rng(seed)
        results, spend_at = self._draw_results_and_spend(
            draws, rng, spend_model, spend_values, data
        )
        rows = np.arange(x.size)
        samples = []
        with np.errstate(all="ignore"):
            for i, res in enumerate(results):
                s = np.reshape(spend_at(np.array([i]), rows), -1)
                try:
                    samples.append(res._dert(x, tx, n, r, k_max) * s * float(margin))
                except DataError:  # a draw with gamma <= 1 at r = 0: infinite value
                    samples.append(np.full(x.size, np.inf))
        return interval_frame(point, np.array(samples), data.index, "clv", level)

    def clv_total(self, data: pd.DataFrame, *, level: float = 0.9, **kwargs: Any) -> pd.Series:
        """Total CLV over the customers of ``data`` with its interval (``clv``, ``lower``,
        ``upper``, ``level``, ``draws``); arguments as :meth:`clv`."""
        return self.clv(data, level=level, **kwargs).attrs["total"]


def _rate(discount_rate: float) -> float:
    return discount_per_period(discount_rate, None, None, None)


class BGBB(Model):
    """Beta-geometric/beta-Bernoulli model (Fader, Hardie & Shang 2010).

    Examples
    --------
    >>> import crmlab
    >>> from crmlab.models import BGBB
    >>> fit = BGBB().fit(crmlab.load_dataset("donations"))
    >>> fit.params.round(3).tolist()
    [1.204, 0.75, 0.657, 2.783]
    """

    name = "BG/BB"
    names = PARAMS
    start = (1.0, 1.0, 1.0, 1.0)
    result_class = BGBBResult
    advice = (
        "Use more customers or more transaction opportunities, or a simpler model "
        "(e.g. one retention rate for everyone)."
    )
    _weight: str | None = None

    def fit(  # type: ignore[override]
        self,
        data: pd.DataFrame,
        *,
        initial: dict[str, float] | None = None,
        weight: str | None = "auto",
        maxiter: int = 2000,
        strict: bool = True,
    ) -> BGBBResult:
        """Fit by maximum likelihood on the distinct (x, t_x, n) patterns.

        Parameters
        ----------
        data : DataFrame
            Columns ``frequency``, ``recency``, ``n_periods``, optionally
            ``weight`` (customers per row, as in the bundled ``donations``).
        initial : dict, optional
            Starting values by parameter name (default all 1).
        weight : str or None
            Weight column; ``"auto"`` uses ``weight`` if present.
        strict : bool
            Raise :class:`~crmlab.models.base.IdentificationError` when the data cannot
            identify the model (no repeat transaction, or every customer transacting at
            every opportunity), an estimate runs to the edge of the parameter space, the
            Hessian is singular or the fit does not converge; with False, warn and return
            the result flagged ``converged=False``.
        """
        if weight == "auto":
            weight = "weight" if isinstance(data, pd.DataFrame) and "weight" in data else None
        model = copy.copy(self)
        model._weight = weight
        return Model.fit(model, data, initial=initial, maxiter=maxiter, strict=strict)

    def _data(self, data: pd.DataFrame, design: np.ndarray | None) -> _BGBBPatterns:
        check_bgbb_data(data, self._weight)
        patterns, counts = compress(data, COLUMNS, self._weight)
        keep = counts > 0
        x, tx, n = (patterns[c].to_numpy(dtype=float)[keep] for c in COLUMNS)
        if counts.sum() == 0:
            raise DataError(f"column {self._weight!r} sums to 0: there are no customers to fit.")
        return _BGBBPatterns(x, tx, n, counts[keep])

    def _problems(self, p: _BGBBPatterns) -> list[str]:
        if not np.any(p.x > 0):
            return [
                "no customer made a repeat transaction, so the data cannot tell how often "
                "customers transact or when they leave"
            ]
        if np.all(p.x == p.n):
            return [
                "every customer transacted at every opportunity, so the data show no one "
                "leaving and no one skipping"
            ]
        return []

    def _loglik(self, theta: np.ndarray, p: _BGBBPatterns, grad: bool = False) -> Any:
        params = np.exp(theta)
        ll, gradient = log_likelihood_grad(params, p.x, p.tx, p.n)
        total = float(p.w @ ll)
        return (total, (p.w @ gradient) * params) if grad else total

    def _extra(self, p: _BGBBPatterns) -> dict:
        return {"patterns": int(p.x.size)}


class _BGBBPatterns(NamedTuple):
    x: np.ndarray
    tx: np.ndarray
    n: np.ndarray
    w: np.ndarray
