"""Continuous-time buy-till-you-die models: BG/NBD, MBG/NBD and Pareto/NBD.

Each customer buys at Poisson rate lambda ~ Gamma(r, alpha) while alive.
They drop out

* BG/NBD (Fader, Hardie & Lee 2005, Marketing Science 24(2)): after each repeat
  purchase with probability p ~ Beta(a, b);
* MBG/NBD (Batislam, Denizel & Filiztekin 2007, IJRM 24(3)): also right after
  the first purchase, so one-time buyers can be dead;
* Pareto/NBD (Schmittlein, Morrison & Colombo 1987, Management Science 33(1)):
  at an exponential time with rate mu ~ Gamma(s, beta).

Data are a summary from :func:`crmlab.rfm_summary`: ``frequency`` (x, repeat
occasions), ``recency`` (t_x, time of the last repeat since the first purchase)
and ``T`` (age), in one time unit (weeks by default). Fits run on distinct
(x, t_x, T) patterns with counts, on log-parameters, in log space.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from scipy.special import betaln, digamma, gammaln, hyp2f1

from crmlab.errors import DataError
from crmlab.models.base import (
    FitResult,
    Model,
    check_horizon,
    check_level,
    check_time_unit,
    discount_per_period,
    hyp2f1_one,
    interval_frame_blocks,
    per_customer,
    reject_missing,
    require_frame,
)

COLUMNS = ("frequency", "recency", "T")


def _arrays(data: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    require_frame(data, "a BG/NBD-family model", COLUMNS)
    missing = [c for c in COLUMNS if c not in data.columns]
    if missing:
        raise DataError(
            f"the summary has no column {', '.join(map(repr, missing))}; build it with "
            "crmlab.rfm_summary(transactions, calibration_end=...)."
        )
    reject_missing(data, (*COLUMNS, "weight"))
    x, tx, T = (data[c].to_numpy(dtype=float) for c in COLUMNS)
    for name, bad, fix in (
        ("frequency", (x < 0) | ~np.isfinite(x), "frequency counts repeat purchases (>= 0)"),
        ("recency", (tx < 0) | (tx > T + 1e-9), "recency lies between 0 and T"),
        ("T", ~np.isfinite(T) | (T < 0), "T is the customer's age (>= 0)"),
        ("T", (x > 0) & (T <= 0), "a customer with repeat purchases has an age T > 0"),
        *(
            [("weight", ~(data["weight"].to_numpy(dtype=float) >= 0), "weights count customers")]
            if "weight" in data.columns
            else []
        ),
    ):
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"column {name!r} has {int(bad.sum()):,} impossible values, first at row "
                f"{row + 1} (index {data.index[row]!r}): {data[name].iloc[row]!r}. {fix}."
            )
    return x, tx, T


def _unique_rows(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Distinct rows of the given columns (in lexicographic order) and each original row's
    position among them; a lexicographic sort, many times faster than
    ``np.unique(..., axis=0)`` on a few hundred thousand rows."""
    if columns[0].size == 0:
        return [c.copy() for c in columns], np.zeros(0, dtype=int)
    order = np.lexsort(columns[::-1])
    ordered = [c[order] for c in columns]
    first = np.ones(order.size, dtype=bool)
    first[1:] = np.logical_or.reduce([c[1:] != c[:-1] for c in ordered])
    inverse = np.empty(order.size, dtype=np.intp)
    inverse[order] = np.cumsum(first) - 1
    return [c[first] for c in ordered], inverse


def _discounted_steps(values: np.ndarray, ends: np.ndarray, rate: float) -> np.ndarray:
    """sum_k [v(end_k) - v(end_(k-1))] / (1 + d)^end_k per row of ``values`` (cumulative
    expectations at the step ``ends``, v(0) = 0)."""
    return np.diff(values, axis=1, prepend=0.0) @ (1.0 + rate) ** -ends


def _check_time(t: np.ndarray, name: str = "t") -> np.ndarray:
    bad = ~np.isfinite(t) | (t < 0)
    if np.any(bad):
        raise DataError(
            f"{name} (the forecast period, in time units of the fit) must be finite and >= 0; "
            f"got {np.ravel(t)[np.ravel(bad)][0]!r}. A negative period has no purchases to "
            "forecast."
        )
    return t


class _Patterns(NamedTuple):
    """Distinct (x, t_x, T) with customer counts ``w``; ``ux[inv] == x``.

    Special functions of x are evaluated once per distinct frequency (a few dozen
    values) and spread with ``inv``; only logarithms run over every pattern.
    """

    x: np.ndarray
    tx: np.ndarray
    T: np.ndarray
    w: np.ndarray
    ux: np.ndarray
    inv: np.ndarray
    pairs: Any = None  # the Pareto/NBD's table positions (_ParetoIndex)
    Z: np.ndarray | None = None  # covariate rows of the patterns


def _patterns(
    data: pd.DataFrame, pairs: bool = False, design: np.ndarray | None = None
) -> _Patterns:
    _arrays(data)
    weight = "weight" if "weight" in data.columns else None
    patterns, counts, z = Model.compress_patterns(data, COLUMNS, weight, design)
    x, tx, T = (patterns[c].to_numpy(dtype=float) for c in COLUMNS)
    ux, inv = np.unique(x, return_inverse=True)
    distinct = _pareto_index(x, tx, T) if pairs else None
    return _Patterns(x, tx, T, counts, ux, inv, distinct, z)


def _two_branch(first: np.ndarray, second: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``log(e^first + e^second)`` and the shares of each branch (0 where a branch is -inf)."""
    total = np.logaddexp(first, second)
    with np.errstate(invalid="ignore"):
        share_first = np.exp(first - total)
        share_second = np.exp(second - total)
    return total, np.nan_to_num(share_first), np.nan_to_num(share_second)


def _softplus_shares(v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For ``v = D - S``: ``ln(1 + e^v)`` and the shares ``e^S/(e^S+e^D)``, ``e^D/(e^S+e^D)``
    (``ln(e^S + e^D) = S + ln(1 + e^v)``); ``v = -inf`` gives 0 and shares (1, 0)."""
    e = np.exp(-np.abs(v))
    softplus = np.maximum(v, 0.0) + np.log1p(e)
    inv = 1.0 / (1.0 + e)
    share_d = np.where(v > 0, inv, e * inv)
    return softplus, 1.0 - share_d, share_d


def _log_nb(x: np.ndarray, r: float, alpha: float, t: np.ndarray) -> np.ndarray:
    """log P(N(t) = x) for the NBD: Gamma(r, alpha)-mixed Poisson counts."""
    return (
        gammaln(r + x)
        - gammaln(r)
        - gammaln(x + 1)
        + r * np.log(alpha / (alpha + t))
        + x * np.log(np.where(t > 0, t / (alpha + t), 1.0))
        + np.where((t == 0) & (x > 0), -np.inf, 0.0)
    )


def _nb_cdf_below(x: np.ndarray, r: float, alpha: float, t: np.ndarray) -> np.ndarray:
    """P(N(t) < x) for the NBD, vectorised over x and t (x up to max(x))."""
    x = np.asarray(x, dtype=float)
    t = np.broadcast_to(np.asarray(t, dtype=float), x.shape)
    out = np.zeros(x.shape)
    for j in range(int(x.max()) if x.size else 0):
        out += np.where(j < x, np.exp(_log_nb(np.full(x.shape, j), r, alpha, t)), 0.0)
    return np.clip(out, 0.0, 1.0)


#: Nested Chebyshev-Lobatto point sets (intervals) tried in turn by
#: :func:`_discounted_interpolated`; each set contains the previous one.
_INTERVALS = (16, 32, 64)

#: Accepted estimate of the interpolation error, relative to the discounted sum.
_TOLERANCE = 1e-12


def _chebyshev_from_values(n: int) -> np.ndarray:
    """The matrix taking values at s_j = cos(pi j / n), j = 0..n, to the coefficients of the
    interpolating Chebyshev series sum_m a_m T_m(s) (the DCT-I; Trefethen 2013, ch. 3)."""
    m = np.arange(n + 1)
    out = np.cos(np.pi * np.outer(m, m) / n) * (2.0 / n)
    out[:, [0, n]] *= 0.5
    out[[0, n], :] *= 0.5
    return out


def _discounted_interpolated(
    core: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray],
    x: np.ndarray,
    T: np.ndarray,
    ends: np.ndarray,
    rate: float,
    c0: float,
    direct: Callable[[np.ndarray, np.ndarray], np.ndarray],
) -> np.ndarray:
    r""":math:`\sum_k [c(t_k) - c(t_{k-1})](1+d)^{-t_k}` for each row, with ``c = core(t, x,
    T)`` evaluated at a few dozen times instead of at every step end.

    ``c`` is interpolated in :math:`u = \ln(t + c_0)` on :math:`[0, t_K]` by the Chebyshev
    series through the Chebyshev-Lobatto points (values at 17, then 33, then 65 points,
    nested); the discounted sum of its steps is a fixed linear function of the series'
    coefficients, :math:`S = \sum_m a_m g_m` with
    :math:`g_m = \sum_k (1+d)^{-t_k}[T_m(s(t_k)) - T_m(s(t_{k-1}))]`.

    Why it converges: a BG/NBD customer alive at T buys :math:`(1 - e^{-\lambda p t})/p` in
    expectation over the next :math:`t` (Fader, Hardie & Lee 2005), with
    :math:`\lambda \sim \Gamma(r+x, \alpha+T)` and :math:`p \sim B(a, b+x)` (MBG/NBD:
    :math:`B(a, b+x+1)`) given the history, so

    .. math:: c(t) = E_p\left[\frac{1 - (1 + p t/(\alpha+T))^{-(r+x)}}{p}\right],

    Euler's integral of the :math:`{}_2F_1` in ``_core`` (DLMF 15.6.1) written for every
    :math:`a > 0` (the form with :math:`u \sim B(b+x, a-1)` needs :math:`a > 1`, and fits
    often have :math:`a < 1`: CDNOW 0.79). It is analytic in :math:`t` off
    :math:`(-\infty, -(\alpha+T)]`, i.e. in the strip :math:`|\mathrm{Im}\,u| < \pi` when
    :math:`c_0 \le \alpha + T`, so the coefficients fall geometrically (Trefethen 2013,
    Approximation Theory and Approximation Practice, Theorems 8.2 and 8.3). A row is
    accepted once twice its largest of the last three coefficients (:math:`|g_m| \le 2`) is
    at most ``_TOLERANCE`` times :math:`|S|` (the tail test of Chebfun); rows that never
    pass, or give non-finite values, go to ``direct(x, T)``.
    """
    out = np.empty(x.size)
    horizon = float(ends[-1])
    lo, hi = np.log(c0), np.log(c0 + horizon)
    if ends.size <= 2 * (_INTERVALS[0] + 1) or not (np.isfinite(lo) and np.isfinite(hi)):
        return direct(x, T)
    times = np.concatenate([[0.0], ends])
    s_steps = np.clip((2 * np.log(times + c0) - (lo + hi)) / (hi - lo), -1.0, 1.0)
    angle_steps = np.arccos(s_steps)
    discount = (1.0 + rate) ** -ends
    todo = np.arange(x.size)
    values: np.ndarray | None = None  # rows still to do x the points so far
    for n in _INTERVALS:
        s = np.cos(np.pi * np.arange(n + 1) / n)
        t = np.exp(0.5 * (lo + hi) + 0.5 * (hi - lo) * s) - c0
        t[0], t[-1] = horizon, 0.0
        if values is None:
            values = core(t[None, :], x[todo, None], T[todo, None])
        else:  # the previous points are the even ones: evaluate only the odd ones
            merged = np.empty((todo.size, n + 1))
            merged[:, ::2] = values
            merged[:, 1::2] = core(t[None, 1::2], x[todo, None], T[todo, None])
            values = merged
        coef = values @ _chebyshev_from_values(n).T
        weights = discount @ np.diff(np.cos(np.outer(angle_steps, np.arange(n + 1))), axis=0)
        total = coef @ weights
        error = 2 * np.abs(coef[:, -3:]).max(axis=1)
        ok = np.isfinite(total) & np.isfinite(error) & (error <= _TOLERANCE * np.abs(total))
        out[todo[ok]] = total[ok]
        todo, values = todo[~ok], values[~ok]
        if not todo.size:
            return out
    out[todo] = direct(x[todo], T[todo])
    return out


#: Nested Chebyshev-Lobatto point sets (intervals) in ln(alpha + T) tried in turn by
#: :func:`_interpolated_in_age`.
_AGE_INTERVALS = (16, 32)


def _interpolated_in_age(
    evaluate: Callable[[np.ndarray, np.ndarray], np.ndarray],
    x: np.ndarray,
    T: np.ndarray,
    alpha: float,
) -> np.ndarray:
    r"""``evaluate(x, T)`` for distinct (x, T) rows, interpolated in the age for every
    frequency that has many ages.

    For the BG/NBD family the discounted expected purchases of a customer alive at T
    depend on T through :math:`c = \alpha + T` only, analytically for :math:`c \notin
    (-\infty, 0]` (:func:`_discounted_interpolated`), so in :math:`v = \ln c` they are
    analytic in the strip :math:`|\mathrm{Im}\, v| < \pi`. Per frequency with more than
    twice 17 ages, ``evaluate`` runs at the 17 (then 33) Chebyshev-Lobatto points of
    :math:`v` between that frequency's youngest and oldest customer and the Chebyshev
    series through them gives every age (Trefethen 2013, ch. 3 and 8). A row is accepted
    when four times the largest of the series' last three coefficients is at most
    ``_TOLERANCE`` times its value; the other rows, and the frequencies with few ages, are
    evaluated directly.
    """
    out = np.empty(x.size)
    freq, group = np.unique(x, return_inverse=True)
    group = np.ravel(group)
    sizes = np.bincount(group, minlength=freq.size)
    first = _AGE_INTERVALS[0] + 1
    many = sizes > 2 * first
    if not (np.isfinite(alpha) and alpha > 0):
        many[:] = False
    todo = np.flatnonzero(many[group])  # rows to interpolate
    youngest = np.full(freq.size, np.inf)
    oldest = np.full(freq.size, -np.inf)
    np.minimum.at(youngest, group, T)
    np.maximum.at(oldest, group, T)
    values: np.ndarray | None = None  # interpolated frequencies x points so far
    kept = np.flatnonzero(many)  # the frequencies still interpolated
    for n in _AGE_INTERVALS:
        if not todo.size:
            break
        s = np.cos(np.pi * np.arange(n + 1) / n)
        lo, hi = np.log(alpha + youngest[kept]), np.log(alpha + oldest[kept])
        ages = np.exp(0.5 * (lo + hi)[:, None] + 0.5 * (hi - lo)[:, None] * s) - alpha
        ages[:, 0], ages[:, -1] = oldest[kept], youngest[kept]
        fresh = slice(None) if values is None else slice(1, None, 2)
        part = ages[:, fresh]
        new = evaluate(np.repeat(freq[kept], part.shape[1]), part.ravel()).reshape(part.shape)
        if values is None:
            values = new
        else:
            merged = np.empty((kept.size, n + 1))
            merged[:, ::2] = values
            merged[:, 1::2] = new
            values = merged
        coef = values @ _chebyshev_from_values(n).T
        error = 4 * np.abs(coef[:, -3:]).max(axis=1)
        where = np.searchsorted(kept, group[todo])  # each row's position among kept
        mid, half = 0.5 * (lo + hi), 0.5 * (hi - lo)
        with np.errstate(all="ignore"):
            s_rows = np.clip((np.log(alpha + T[todo]) - mid[where]) / half[where], -1.0, 1.0)
            series = np.cos(np.outer(np.arccos(s_rows), np.arange(n + 1)))
            value = np.einsum("ij,ij->i", series, coef[where])
        ok = np.isfinite(value) & np.isfinite(error[where])
        ok &= error[where] <= _TOLERANCE * np.abs(value)
        out[todo[ok]] = value[ok]
        todo = todo[~ok]
        keep = np.isin(kept, group[todo])
        kept, values = kept[keep], values[keep]
    rest = np.concatenate([np.flatnonzero(~many[group]), todo])
    if rest.size:
        out[rest] = evaluate(x[rest], T[rest])
    return out


class NBDResult(FitResult):
    """Predictions shared by the continuous-time models (see subclasses for formulas).

    Every prediction on a summary takes ``level`` (e.g. 0.9): then it returns a frame with
    the point estimate, ``lower`` and ``upper`` per customer, computed from ``draws``
    parameter vectors drawn from the estimates' asymptotic normal on log scale
    (:meth:`~crmlab.models.base.FitResult.param_draws`, seeded by ``seed``), and the
    interval of the total over customers from the same draws in ``frame.attrs["total"]``
    (:func:`~crmlab.models.base.interval_frame`). The intervals cover parameter
    uncertainty, not the randomness of each customer's future purchases.
    """

    def _p(self) -> tuple[float, ...]:
        return tuple(float(v) for v in self.params)

    def _data(self, data: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        x, tx, T = _arrays(data)
        check_time_unit(self, data)
        return x, tx, T

    def _alive(self, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
        return np.exp(-np.logaddexp(0.0, self._log_odds_dead(x, tx, T)))

    def _alive_for(
        self, x: np.ndarray, tx: np.ndarray, T: np.ndarray
    ) -> Callable[[NBDResult], np.ndarray]:
        """P(alive) of these patterns as a function of a result of the same model, for
        many parameter draws (a model may prepare the patterns once)."""
        return lambda r: r._alive(x, tx, T)

    def probability_alive(
        self,
        data: pd.DataFrame,
        *,
        level: float | None = None,
        draws: int = 500,
        seed: int = 0,
    ) -> pd.Series | pd.DataFrame:
        """P(alive at T | x, t_x, T) for every customer in ``data``.

        With ``level``: a frame with columns ``p_alive``, ``lower``, ``upper`` (the total
        in ``attrs["total"]`` is the expected number of customers alive).
        """
        x, tx, T = self._data(data)
        groups = [
            (z, _unique_rows(x[rows], tx[rows], T[rows]), rows) for z, rows in self._profiles(data)
        ]

        def compute(r: NBDResult) -> np.ndarray:
            out = np.empty(x.size)
            for z, ((ux, utx, uT), inv), rows in groups:
                out[rows] = r._at(z)._alive(ux, utx, uT)[inv]
            return out

        return self._predict(compute, data.index, "p_alive", level, draws, seed)

    def expected_purchases(
        self,
        t: Any,
        data: pd.DataFrame | None = None,
        *,
        level: float | None = None,
        draws: int = 500,
        seed: int = 0,
        covariates: Any = None,
    ) -> Any:
        """Expected repeat purchases in a period of length ``t`` (time units of the fit).

        With ``data``: conditional on each customer's history, in (T, T + t]; ``t`` is one
        number or a Series of per-customer lengths matched by customer id (customers
        acquired at different times have holdouts of different lengths). With ``level``:
        a frame with columns ``expected``, ``lower``, ``upper``. Without ``data``: E[X(t)]
        for a new customer (``t`` may be an array), whose covariate values a fit with
        covariates needs (``covariates={"column": value, ...}``).
        """
        if data is None:
            if level is not None:
                raise DataError("intervals (level=...) need data: give the customers' summary.")
            if covariates is not None:
                return self.for_covariates(covariates).expected_purchases(t)
            if self.covariates is not None:
                raise DataError(
                    "this fit has covariates: give the new customer's values, e.g. "
                    "expected_purchases(t, covariates={...})."
                )
            return self._unconditional(_check_time(np.asarray(t, dtype=float)))
        x, tx, T = self._data(data)
        if isinstance(t, pd.Series):
            horizon = _check_time(per_customer(t, data, "t"))
        else:
            if isinstance(t, bool) or not isinstance(t, int | float | np.integer | np.floating):
                raise DataError(
                    f"t must be one number or a Series of per-customer periods indexed by "
                    f"customer id; got a {type(t).__name__}."
                )
            horizon = _check_time(np.full(x.size, float(t)))
        groups = [
            (z, _unique_rows(x[rows], tx[rows], T[rows], horizon[rows]), rows)
            for z, rows in self._profiles(data)
        ]

        def compute(r: NBDResult) -> np.ndarray:
            out = np.empty(x.size)
            for z, ((ux, utx, uT, ut), inv), rows in groups:
                rz = r._at(z)
                out[rows] = rz._conditional(ut, ux, utx, uT)[inv]
            return out

        return self._predict(compute, data.index, "expected", level, draws, seed)

    def _discounted_core(
        self, x: np.ndarray, T: np.ndarray, ends: np.ndarray, rate: float
    ) -> np.ndarray:
        """sum_k [core(end_k) - core(end_(k-1))] / (1 + d)^end_k for each (x, T)."""
        return _discounted_steps(self._core(ends[None, :], x[:, None], T[:, None]), ends, rate)

    def clv(
        self,
        data: pd.DataFrame,
        *,
        spend: Any = 1.0,
        margin: float = 1.0,
        discount_rate: float | None = None,
        annual_discount_rate: float | None = None,
        periods_per_year: float | None = None,
        horizon: float | str | None = None,
        step: float = 1.0,
        level: float | None = None,
        draws: int = 500,
        seed: int = 0,
    ) -> pd.Series | pd.DataFrame:
        r"""Discounted expected margin over ``horizon`` time units.

        .. math:: \mathrm{CLV}_i = m \, \bar s_i \sum_{k=1}^{K}
            \frac{E[X_i(k\Delta)] - E[X_i((k-1)\Delta)]}{(1+d)^{k\Delta}}

        with conditional expectations :meth:`expected_purchases` and steps of ``step``
        time units discounted at their end. BG/NBD and MBG/NBD evaluate the sum from a few
        dozen times and ages by Chebyshev interpolation (:func:`_discounted_interpolated`,
        within about 1e-12 of the step-by-step sum), Pareto/NBD once per distinct age.

        Parameters
        ----------
        data : DataFrame
            The customers' summary (``frequency``, ``recency``, ``T``).
        spend : float, Series or GammaGammaResult
            Spend per purchase :math:`\bar s_i`: one number, a Series matched by customer
            id (never by position), or a fitted Gamma-Gamma result, whose
            ``expected_spend(data)`` is used (``data`` then needs ``monetary_value``) and
            whose parameter uncertainty enters the interval.
        margin : float
            Share :math:`m` of spend that is profit, in [0, 1].
        discount_rate, annual_discount_rate : float
            Exactly one: :math:`d` per time unit of the fit (weekly for a weekly summary),
            or per year, converted by compounding :math:`(1+d_y)^{1/n}-1` with ``n`` =
            ``periods_per_year`` or the periods per year of the fit's time unit
            (:func:`crmlab.units.rate_per_period`). 0 means no discounting.
        horizon : float or str
            How far ahead, > 0: time units of the fit, or a duration such as ``"2Y"``.
        level, draws, seed
            Interval: see the class docstring. Returns a frame with ``clv``, ``lower``,
            ``upper`` and the total's interval in ``attrs["total"]`` (or use
            :meth:`clv_total`).
        """
        if not 0 <= margin <= 1:
            raise DataError(f"margin={margin} must be a fraction between 0 and 1.")
        rate = discount_per_period(
            discount_rate, annual_discount_rate, periods_per_year, self.time_unit
        )
        if horizon is None:
            raise DataError(
                f"{self.model} needs a finite horizon for CLV, e.g. horizon=104 (weeks) or "
                "horizon='2Y'."
            )
        length = check_horizon(horizon, self)
        if not (np.isfinite(step) and step > 0):
            raise DataError(f"step={step!r} must be a positive number of time units.")
        x, tx, T = self._data(data)
        spend_model = spend if hasattr(spend, "expected_spend") else None
        source = spend_model.expected_spend(data) if spend_model is not None else spend
        spend_values = per_customer(source, data, "spend")
        ends = np.arange(step, length + step / 2, step)
        discounted = self._discounted_purchases(data, x, tx, T, ends, rate)

        def value(r: NBDResult, s: np.ndarray) -> np.ndarray:
            return margin * s * discounted(r)

        point = value(self, spend_values)
        if level is None:
            return pd.Series(point, index=data.index, name="clv")
        level = check_level(level)
        rng = np.random.default_rng(seed)
        results, spend_at = self._draw_results_and_spend(
            draws, rng, spend_model, spend_values, data
        )
        # one row per draw over the distinct patterns (not per customer); the customers'
        # values are formed block by block, with the arithmetic of ``value``
        per_pattern = getattr(discounted, "per_pattern", discounted)
        inverse = getattr(discounted, "inverse", None)
        with np.errstate(all="ignore"):
            table = np.array([per_pattern(r) for r in results])

        def values(draw_rows: slice, rows: slice) -> np.ndarray:
            cols = rows if inverse is None else inverse[rows]
            with np.errstate(all="ignore"):
                return margin * spend_at(draw_rows, rows) * table[draw_rows][:, cols]

        return interval_frame_blocks(point, values, len(results), data.index, "clv", level)

    def _discounted_purchases(
        self,
        data: pd.DataFrame,
        x: np.ndarray,
        tx: np.ndarray,
        T: np.ndarray,
        ends: np.ndarray,
        rate: float,
    ) -> Callable[[NBDResult], np.ndarray]:
        r"""A function of a fitted result giving each customer's
        :math:`\sum_k [E X(k\Delta) - E X((k-1)\Delta)] (1+d)^{-k\Delta}` over the step
        ``ends``; the patterns are grouped once, so :meth:`clv` can call it under every
        parameter draw. Here: P(alive) times the discounted expected purchases of a customer
        still alive, per covariate profile."""
        profiles = self._profiles(data)
        if self.covariates is None:  # one profile: work per distinct (x, t_x, T) pattern
            (px, ptx, pT), inverse = _unique_rows(x, tx, T)
            (ux, uT), inv_core = _unique_rows(px, pT)

            alive = self._alive_for(px, ptx, pT)

            def per_pattern(r: NBDResult) -> np.ndarray:
                core = r._discounted_core(ux, uT, ends, rate)[inv_core]
                return core * alive(r)

            def discounted_one(r: NBDResult) -> np.ndarray:
                return per_pattern(r)[inverse]

            discounted_one.per_pattern = per_pattern  # type: ignore[attr-defined]
            discounted_one.inverse = inverse  # type: ignore[attr-defined]
            return discounted_one
        groups = [
            (z, _unique_rows(x[rows], T[rows]), _unique_rows(x[rows], tx[rows], T[rows]), rows)
            for z, rows in profiles
        ]

        def discounted(r: NBDResult) -> np.ndarray:
            out = np.empty(x.size)
            for z, ((ux, uT), inv_core), ((ax, atx, aT), inv_alive), rows in groups:
                rz = r._at(z)
                core = rz._discounted_core(ux, uT, ends, rate)[inv_core]
                out[rows] = core * rz._alive(ax, atx, aT)[inv_alive]
            return out

        return discounted

    def clv_total(self, data: pd.DataFrame, *, level: float = 0.9, **kwargs: Any) -> pd.Series:
        """Total CLV over the customers of ``data`` with its interval (``clv``, ``lower``,
        ``upper``, ``level``, ``draws``); arguments as :meth:`clv`."""
        return self.clv(data, level=level, **kwargs).attrs["total"]

    # subclasses implement these
    def _log_odds_dead(self, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _unconditional(self, t: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _core(self, t: np.ndarray, x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """E[X(T, T + t) | x, T, alive at T]: expected purchases of a customer alive at T."""
        raise NotImplementedError

    def _conditional(self, t: Any, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
        return self._core(t, x, T) * self._alive(x, tx, T)


# --------------------------------------------------------------------------- BG/NBD


class _BetaDropoutResult(NBDResult):
    r"""BG/NBD and MBG/NBD: the discounted expected purchases by interpolation in time.

    Their :meth:`_core` needs a Gauss hypergeometric function at every step end; here it
    is evaluated at 17 to 65 times per (x, T) (:func:`_discounted_interpolated`, with
    :math:`c_0 = \alpha + \min T`) and the per-step path is kept for the rows the
    interpolation cannot settle.
    """

    def _discounted_core(
        self, x: np.ndarray, T: np.ndarray, ends: np.ndarray, rate: float
    ) -> np.ndarray:
        alpha = self._p()[1]
        c0 = alpha + (float(T.min()) if T.size else 0.0)

        def direct(x: np.ndarray, T: np.ndarray) -> np.ndarray:
            return NBDResult._discounted_core(self, x, T, ends, rate)

        def in_time(x: np.ndarray, T: np.ndarray) -> np.ndarray:
            return _discounted_interpolated(self._core, x, T, ends, rate, c0, direct)

        return _interpolated_in_age(in_time, x, T, alpha)


class BGNBDResult(_BetaDropoutResult):
    """A fitted BG/NBD model.

    P(alive) = 1 / (1 + [x > 0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x)) (FHL 2005,
    eq. 13): customers with no repeat purchase are alive with probability 1, a
    property of the model (MBG/NBD removes it).
    """

    def _log_odds_dead(self, x, tx, T):
        r, alpha, a, b = self._p()
        odds = (
            np.log(a)
            - np.log(np.maximum(b + x - 1, 1e-300))
            + (r + x) * (np.log(alpha + T) - np.log(alpha + tx))
        )
        return np.where(x > 0, odds, -np.inf)

    def _unconditional(self, t):
        r, alpha, a, b = self._p()
        z = t / (alpha + t)
        return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, z))

    def _core(self, t, x, T):
        r, alpha, a, b = self._p()
        z = t / (alpha + T + t)
        ratio = np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + T + t)))
        return (a + b + x - 1) / (a - 1) * (1 - ratio * hyp2f1(r + x, b + x, a + b + x - 1, z))

    def purchase_probability(self, n: Any, t: Any) -> np.ndarray:
        """P(X(t) = n) for a new customer (FHL 2005, eq. 8), vectorised over n and t."""
        r, alpha, a, b = self._p()
        n, t = np.broadcast_arrays(np.asarray(n, dtype=float), np.asarray(t, dtype=float))
        alive = np.exp(betaln(a, b + n) - betaln(a, b) + _log_nb(n, r, alpha, t))
        died = np.exp(betaln(a + 1, np.maximum(b + n - 1, 1e-300)) - betaln(a, b))
        return alive + np.where(n > 0, died * (1 - _nb_cdf_below(n, r, alpha, t)), 0.0)


def _beta_geometric_loglik(theta: np.ndarray, p: _Patterns, grad: bool, shift: int) -> Any:
    """Total BG/NBD (``shift`` 0) or MBG/NBD (``shift`` 1) log-likelihood and its gradient
    in log-parameters.

    Per customer ``ln Gamma(r+x)/Gamma(r) + r ln alpha + ln(e^S + e^D)`` with
    ``S = ln B(a, b+x+shift)/B(a,b) - (r+x) ln(alpha+T)`` (alive at T) and
    ``D = ln B(a+1, b+x+shift-1)/B(a,b) - (r+x) ln(alpha+t_x)`` (left after the last
    purchase; impossible for BG/NBD when x = 0). With shares ``pi_S, pi_D`` of
    ``e^S + e^D``: d/dr = psi(r+x) - psi(r) + ln alpha - pi_S ln(alpha+T)
    - pi_D ln(alpha+t_x); d/dalpha = r/alpha - (r+x)(pi_S/(alpha+T) + pi_D/(alpha+t_x));
    d/da and d/db are the shares times the digamma derivatives of the beta functions.
    """
    r, alpha, a, b = np.exp(theta)
    ux, i, w = p.ux, p.inv, p.w
    lbeta = betaln(a, b)
    can_leave = ux + shift > 0
    k = ux + shift  # chances to leave survived by a customer alive at T
    s_const = betaln(a, b + k) - lbeta
    d_const = np.full(ux.shape, -np.inf)
    d_const[can_leave] = betaln(a + 1, b + k[can_leave] - 1) - lbeta
    rx = r + p.x
    log_T, log_tx = np.log(alpha + p.T), np.log(alpha + p.tx)
    first = s_const[i] - rx * log_T
    softplus, p_s, p_d = _softplus_shares((d_const - s_const)[i] - rx * (log_tx - log_T))
    n_x = np.bincount(i, weights=w, minlength=ux.size)  # customers per distinct x
    ll = float(
        np.dot(n_x, gammaln(r + ux) - gammaln(r))
        + w.sum() * r * np.log(alpha)
        + np.dot(w, first)
        + np.dot(w, softplus)
    )
    if not grad:
        return ll
    psi_ab, psi_abk = digamma(a + b), digamma(a + b + k)
    ds_a, ds_b = psi_ab - psi_abk, digamma(b + k) - psi_abk - digamma(b) + psi_ab
    dd_a = np.where(can_leave, digamma(a + 1) - digamma(a) + psi_ab - psi_abk, 0.0)
    dd_b = np.zeros(ux.shape)
    dd_b[can_leave] = digamma(b + k[can_leave] - 1) - psi_abk[can_leave] - digamma(b) + psi_ab
    ws, wd = np.bincount(i, w * p_s, ux.size), np.bincount(i, w * p_d, ux.size)
    g_r = (
        np.dot(n_x, digamma(r + ux) - digamma(r))
        + w.sum() * np.log(alpha)
        - np.dot(w, p_s * log_T + p_d * log_tx)
    )
    g_alpha = w.sum() * r / alpha - np.dot(w, rx * (p_s / (alpha + p.T) + p_d / (alpha + p.tx)))
    g_a, g_b = np.dot(ws, ds_a) + np.dot(wd, dd_a), np.dot(ws, ds_b) + np.dot(wd, dd_b)
    return ll, np.array([g_r * r, g_alpha * alpha, g_a * a, g_b * b])


def _beta_geometric_each(
    params: Any, p: _Patterns, grad: bool, shift: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per-pattern BG/NBD (``shift`` 0) or MBG/NBD (``shift`` 1) log-likelihood at
    per-pattern parameters, and its derivatives in each log-parameter (4 x patterns);
    the same terms as :func:`_beta_geometric_loglik`, for fits with covariates."""
    r, alpha, a, b = (np.broadcast_to(params[k], p.x.shape) for k in ("r", "alpha", "a", "b"))
    x, tx, T = p.x, p.tx, p.T
    k = x + shift
    can_leave = k > 0
    lbeta = betaln(a, b)
    s_term = betaln(a, b + k) - lbeta - (r + x) * np.log(alpha + T)
    d_term = np.where(
        can_leave,
        betaln(a + 1, np.where(can_leave, b + k - 1, 1.0)) - lbeta - (r + x) * np.log(alpha + tx),
        -np.inf,
    )
    total, p_s, p_d = _two_branch(s_term, d_term)
    ll = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + total
    psi_ab, psi_abk = digamma(a + b), digamma(a + b + k)
    g_r = r * (
        digamma(r + x)
        - digamma(r)
        + np.log(alpha)
        - p_s * np.log(alpha + T)
        - p_d * np.log(alpha + tx)
    )
    g_alpha = alpha * (r / alpha - (r + x) * (p_s / (alpha + T) + p_d / (alpha + tx)))
    dd_a = np.where(can_leave, digamma(a + 1) - digamma(a) + psi_ab - psi_abk, 0.0)
    dd_b = np.where(
        can_leave, digamma(np.where(can_leave, b + k - 1, 1.0)) - psi_abk - digamma(b) + psi_ab, 0.0
    )
    g_a = a * (p_s * (psi_ab - psi_abk) + p_d * dd_a)
    g_b = b * (p_s * (digamma(b + k) - psi_abk - digamma(b) + psi_ab) + p_d * dd_b)
    return ll, np.array([g_r, g_alpha, g_a, g_b])


def _bgnbd_loglik(theta: np.ndarray, p: _Patterns, grad: bool = False) -> Any:
    return _beta_geometric_loglik(theta, p, grad, shift=0)


def _mbgnbd_loglik(theta: np.ndarray, p: _Patterns, grad: bool = False) -> Any:
    return _beta_geometric_loglik(theta, p, grad, shift=1)


class _Model(Model):
    """The continuous-time models on the public base: data are (x, t_x, T) patterns."""

    uses_pairs = False
    scales: tuple[str, ...] = ("alpha",)  # parameters in time units (the rest are shapes)
    advice = (
        "Use more customers or a longer calibration window (a later calibration_end), check "
        "the summary's time unit, or use a simpler model."
    )
    result_class: type[NBDResult] = NBDResult

    def _data(self, data: pd.DataFrame, design: np.ndarray | None) -> _Patterns:
        return _patterns(data, self.uses_pairs and design is None, design)

    def _size(self, p: _Patterns) -> float:
        return float(p.T.max()) if p.T.size and p.T.max() > 0 else 1.0

    def _problems(self, p: _Patterns) -> list[str]:
        problems = []
        n = float(p.w.sum())
        if n <= len(self.names):
            problems.append(
                f"{n:g} customers cannot identify {len(self.names)} parameters "
                f"({', '.join(self.names)})"
            )
        if not np.any(p.T > 0):
            problems.append(
                "every customer was observed for no time (T = 0: all purchases fall on the last "
                "day of the calibration window)"
            )
        elif not np.any(p.x > 0):
            problems.append(
                f"none of the {n:,.0f} customers made a repeat purchase (frequency 0 for all), "
                "so the data cannot tell how often customers buy or when they leave"
            )
        return problems

    def fit(
        self,
        data: pd.DataFrame,
        *,
        covariates: Any = None,
        reference: Any = None,
        initial: Any = None,
        maxiter: int = 2000,
        strict: bool = True,
        fixed: Any = None,
    ) -> NBDResult:
        """Fit by maximum likelihood on distinct (frequency, recency, T) patterns.

        ``data`` may carry a ``weight`` column (customers per row). BFGS on the
        log-parameters with the analytic gradient; the standard errors come from a
        numerical Hessian of the log-likelihood at the optimum. ``covariates`` names
        time-invariant covariate columns of the summary (see the class for how they
        enter); ``initial`` is a dict by parameter name (or values in parameter order);
        ``fixed`` holds parameters at given values (see :meth:`Model.fit`).

        Raises
        ------
        IdentificationError
            When the data cannot identify the model (fewer customers than parameters, no
            repeat buyer, no observation time), an estimate runs to the edge of the
            parameter space, the Hessian is singular or the optimiser does not converge.
            ``strict=False`` warns instead and returns the result flagged
            ``converged=False`` (e.g. to show a broken fit when teaching).
        """
        return super().fit(  # type: ignore[return-value]
            data,
            covariates=covariates,
            reference=reference,
            initial=initial,
            maxiter=maxiter,
            strict=strict,
            fixed=fixed,
        )


class BGNBD(_Model):
    """Beta-geometric/NBD model (Fader, Hardie & Lee 2005); params ``r, alpha, a, b``.

    Log-likelihood per customer (FHL 2005, eq. 6):
    ln Gamma(r+x)/Gamma(r) + r ln alpha + ln[ B(a, b+x)/B(a,b) (alpha+T)^-(r+x)
    + [x>0] B(a+1, b+x-1)/B(a,b) (alpha+t_x)^-(r+x) ].
    """

    names = ("r", "alpha", "a", "b")
    start = (0.5, 5.0, 0.8, 2.5)
    name = "BG/NBD"
    result_class = BGNBDResult
    links = {"purchase": ("alpha", -1), "a": ("a", 1), "b": ("b", 1)}
    _loglik = staticmethod(_bgnbd_loglik)

    def _loglik_each(self, params: Any, p: _Patterns, grad: bool = False) -> Any:
        return _beta_geometric_each(params, p, grad, shift=0)


# -------------------------------------------------------------------------- MBG/NBD


class MBGNBDResult(_BetaDropoutResult):
    """A fitted MBG/NBD model (Batislam, Denizel & Filiztekin 2007).

    P(alive) = 1 / (1 + a/(b+x) ((alpha+T)/(alpha+t_x))^(r+x)): one-time buyers
    can be dead.
    """

    def _log_odds_dead(self, x, tx, T):
        r, alpha, a, b = self._p()
        return np.log(a) - np.log(b + x) + (r + x) * (np.log(alpha + T) - np.log(alpha + tx))

    def _unconditional(self, t):
        r, alpha, a, b = self._p()
        z = t / (alpha + t)
        return b / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b + 1, a + b, z))

    def _core(self, t, x, T):
        r, alpha, a, b = self._p()
        z = t / (alpha + T + t)
        ratio = np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + T + t)))
        return (a + b + x) / (a - 1) * (1 - ratio * hyp2f1(r + x, b + x + 1, a + b + x, z))

    def purchase_probability(self, n: Any, t: Any) -> np.ndarray:
        """P(X(t) = n) for a new customer: alive after n purchases and no more, or
        dropped right after the n-th (at time 0 when n = 0)."""
        r, alpha, a, b = self._p()
        n, t = np.broadcast_arrays(np.asarray(n, dtype=float), np.asarray(t, dtype=float))
        alive = np.exp(betaln(a, b + n + 1) - betaln(a, b) + _log_nb(n, r, alpha, t))
        died = np.exp(betaln(a + 1, b + n) - betaln(a, b))
        return alive + died * (1 - _nb_cdf_below(n, r, alpha, t))


class MBGNBD(_Model):
    """Modified BG/NBD (Batislam, Denizel & Filiztekin 2007); params ``r, alpha, a, b``.

    Log-likelihood per customer: ln Gamma(r+x)/Gamma(r) + r ln alpha +
    ln[ B(a, b+x+1)/B(a,b) (alpha+T)^-(r+x) + B(a+1, b+x)/B(a,b) (alpha+t_x)^-(r+x) ].
    """

    names = ("r", "alpha", "a", "b")
    start = (0.5, 5.0, 0.8, 2.5)
    name = "MBG/NBD"
    result_class = MBGNBDResult
    links = {"purchase": ("alpha", -1), "a": ("a", 1), "b": ("b", 1)}
    _loglik = staticmethod(_mbgnbd_loglik)

    def _loglik_each(self, params: Any, p: _Patterns, grad: bool = False) -> Any:
        return _beta_geometric_each(params, p, grad, shift=1)


# ----------------------------------------------------------------------- Pareto/NBD
#
# The dropout branch of the Pareto/NBD likelihood (Fader & Hardie 2005 note, eq. 22) is
# s [J(x, t_x) - J(x, T)] with
#
#     J(x, y) = int_y^inf (alpha + tau)^-(r+x) (beta + tau)^-(s+1) dtau,
#
# i.e. Fader & Hardie's A0 = (r+s+x) [J(x, t_x) - J(x, T)]. Their closed form is a Gauss
# hypergeometric function whose series converges like z^n with z = |alpha-beta|/(max+y):
# slowly for daily data (alpha << beta, z -> 1), and scipy's hyp2f1 is wrong there when
# r is near 1 or 2. Instead:
#
# * J(x, y) for every x = 0..max(x)+1 and every distinct y (t_x and T values) comes from
#   the recurrence in x that integration by parts gives,
#       (alpha+y)^(1-a) (beta+y)^-s = (a-1+s) J(a-1) + (a-1)(beta-alpha) J(a),  a = r+x,
#   run upward from x = 0 where c = (beta-alpha)/(alpha+y) > 1 and downward from the top
#   elsewhere: the direction in which rounding errors shrink. Daily data have a few
#   hundred distinct y and x, so this costs a few hundred vector steps, not one special
#   function per customer pattern.
# * The starting values (and J for non-integer x) come from :func:`_log_tail`: a series
#   with ratio <= 1/2, or Gauss-Legendre panels plus that series.
# * Derivatives: in r and s by complex steps through the same arithmetic (exact to
#   rounding); in alpha and beta from dJ/dalpha = -(r+x) J(x+1, y) and
#   dJ/dalpha + dJ/dbeta = dJ/dy = -(alpha+y)^-(r+x) (beta+y)^-(s+1).

_GL_U, _GL_W = np.polynomial.legendre.leggauss(32)
_SERIES = np.arange(60)  # terms of the ratio-<=-1/2 series: 2^-60 tail
_STEP = 1e-20  # complex step: d f / d r = Im f(r + i h) / h, exact to rounding


def _log_series(w: np.ndarray, k: np.ndarray, n: np.ndarray) -> np.ndarray:
    """``ln 2F1(n, 1; k+1; w) = ln sum_j (n)_j / (k+1)_j w^j`` for ``0 <= w <= 1/2`` and
    ``n < k + 1``: every term ratio is below w, so 60 terms leave less than 2^-60."""
    ratio = (n[..., None] + _SERIES) / (k[..., None] + 1 + _SERIES) * w[..., None]
    return np.log1p(np.cumprod(ratio, axis=-1).sum(axis=-1))


def _panels(count: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes and weights on [0, 1] in ``count`` panels graded by 2 towards
    0 (edges (2^j - 1)/(2^count - 1)), for integrands that fall steeply from 0."""
    edges = (2.0 ** np.arange(count + 1) - 1) / (2.0**count - 1)
    width = np.diff(edges)[:, None]
    nodes = edges[:-1, None] + width * (_GL_U + 1) / 2
    return nodes.ravel(), (width * _GL_W / 2).ravel()


def _log_tail(C: np.ndarray, k: np.ndarray, n: np.ndarray) -> np.ndarray:
    r"""``ln G`` with :math:`G = \int_0^\infty e^{-kt} (1 + C e^{-t})^{-n} dt` for real
    ``C >= 0`` and (complex, for derivatives) ``k``, ``n`` with ``k > 0``, ``k - n > -1``.

    For C <= 1, :math:`G = (1+C)^{-n}/k \; {}_2F_1(n, 1; k+1; C/(1+C))` (Pfaff), a series
    with ratio <= 1/2. For C > 1 the integral splits at t = ln C: Gauss-Legendre panels on
    [0, ln C] (graded towards 0, where :math:`e^{-(k-n)t}` falls) plus
    :math:`C^{-k} G(1)`. Sums run in log space (the terms span hundreds of decades).
    """
    C, k, n = np.broadcast_arrays(np.asarray(C, dtype=float), k, n)
    out = np.empty(C.shape, dtype=complex)
    small = C <= 1
    if np.any(small):
        c, kk, nn = C[small], k[small], n[small]
        out[small] = -np.log(kk) - nn * np.log1p(c) + _log_series(c / (1 + c), kk, nn)
    big = ~small
    if np.any(big):
        c, kk, nn = C[big], k[big], n[big]
        span = np.log(c)
        steep = np.max(span * np.maximum((kk - nn).real, 1.0) / 4)
        nodes, weights = _panels(int(np.clip(np.ceil(np.log2(steep + 1)), 1, 40)) + 1)
        t = span[:, None] * nodes
        log_h = -kk[:, None] * t - nn[:, None] * np.log1p(c[:, None] * np.exp(-t))
        half = np.full(c.shape, 0.5)
        log_rest = -kk * span - np.log(kk) - nn * np.log(2.0) + _log_series(half, kk, nn)
        top = np.maximum(log_h.real.max(axis=1), log_rest.real)
        total = np.exp(log_h - top[:, None]) @ weights * span + np.exp(log_rest - top)
        out[big] = top + np.log(total)
    return out


def _log_j(x: Any, y: Any, r: Any, alpha: float, s: Any, beta: float) -> np.ndarray:
    r"""``ln J(x, y)`` evaluated directly by :func:`_log_tail` (``r``, ``s`` may be complex).

    With A, B the smaller and larger of alpha and beta, m and n the exponents on A + tau
    and B + tau, k = m + n - 1 and t = ln((A+tau)/(A+y)):
    :math:`J = (A+y)^{-k} \int_0^\infty e^{-kt}(1 + C e^{-t})^{-n} dt`, C = (B-A)/(A+y).
    """
    m, n = np.asarray(r) + np.asarray(x, dtype=float), np.asarray(s) + 1.0
    small = min(alpha, beta)
    if alpha > beta:
        m, n = n, m
    y = np.asarray(y, dtype=float)
    k = m + n - 1
    return -k * np.log(small + y) + _log_tail(abs(beta - alpha) / (small + y), k, n)


def _r_grid(
    y: np.ndarray, top_y: np.ndarray, r: np.ndarray, alpha: float, s: np.ndarray, beta: float
) -> tuple[np.ndarray, np.ndarray]:
    """``R(x, y) = J(x, y) / F(x, y)`` with ``F = (alpha+y)^(1-r-x) (beta+y)^-s`` for every
    distinct ``y`` and x = 0..``top_y`` (that y's largest frequency plus one), for each
    ``r``/``s`` pair (first axis; complex for derivatives). R stays of order
    1/((beta+y)(r+x)) where J spans hundreds of decades.

    Upward from x = 0 where c = (beta-alpha)/(alpha+y) > 1 (a prefix of the sorted ``y``):
    ``R(x) = [1 - (r+s+x-1)(alpha+y) R(x-1)] / ((r+x-1)(beta-alpha))``; downward from
    ``top_y`` elsewhere: ``R(x-1) = [1 - (r+x-1)(beta-alpha) R(x)] / ((r+s+x-1)(alpha+y))``.
    Each direction damps the other's growing solution, so errors shrink as it runs. Each
    recurrence runs on the y still needing it (ordered by ``top_y``, longest first), so
    the work is the number of (x, y) cells used, in ``max(top_y)`` vector steps.

    Returns the grid (``r`` rows x (max(top_y)+1) x len(y), cells beyond a y's top left
    unset) and the column of each y in it.
    """
    ay = alpha + y
    gap = beta - alpha
    up = int(np.searchsorted(-(gap / ay), -1.0, side="left")) if gap > 0 else 0  # c > 1
    grid = np.empty((r.shape[0], int(top_y.max()) + 1, y.size), dtype=complex)
    column = np.empty(y.size, dtype=np.intp)
    for lo, hi, upward in ((0, up, True), (up, y.size, False)):
        if lo == hi:
            continue
        order = lo + np.argsort(-top_y[lo:hi], kind="stable")
        column[order] = np.arange(lo, hi)
        tops = top_y[order]
        a_y, b_y = ay[order], beta + y[order]
        if upward:  # cells x <= top of the first n columns
            value = np.exp(
                _log_j(0, y[order], r, alpha, s, beta) - (1 - r) * np.log(a_y) + s * np.log(b_y)
            )
            grid[:, 0, lo:hi] = value
            active = np.searchsorted(-tops, -np.arange(int(tops[0]) + 1), "right")  # tops >= x
            for x in range(1, int(tops[0]) + 1):
                n = active[x]
                value = (1 - ((r + s + (x - 1)) * a_y[:n]) * value[:, :n]) / ((r + (x - 1)) * gap)
                grid[:, x, lo : lo + n] = value
            continue
        start = np.exp(  # downward: each y starts at its own top
            _log_j(tops, y[order], r, alpha, s, beta)
            - (1 - r - tops) * np.log(a_y)
            + s * np.log(b_y)
        )
        inv_a = 1.0 / a_y
        joined = np.searchsorted(-tops, -np.arange(int(tops[0]) + 2), "right")  # tops >= x
        value = np.empty_like(start)
        for x in range(int(tops[0]), 0, -1):
            n, m = joined[x + 1], joined[x]
            value[:, n:m] = start[:, n:m]
            grid[:, x, lo + n : lo + m] = start[:, n:m]
            value[:, :m] = (1 - ((r + (x - 1)) * gap) * value[:, :m]) * (
                inv_a[:m] / (r + s + (x - 1))
            )
            grid[:, x - 1, lo : lo + m] = value[:, :m]
    return grid, column


class _ParetoIndex(NamedTuple):
    """The distinct ``(px, py)`` pairs whose J the Pareto/NBD needs (``py`` indexes ``y``,
    the distinct t_x and T values), each pattern's pairs (``pair_tx``, ``pair_T``) and T
    (``at_T``); ``top_y`` is each y's largest frequency plus one (``None`` when a
    frequency is not an integer: then J is evaluated pair by pair)."""

    y: np.ndarray
    at_T: np.ndarray
    px: np.ndarray
    py: np.ndarray
    pair_tx: np.ndarray
    pair_T: np.ndarray
    top_y: np.ndarray | None


def _pareto_index(x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> _ParetoIndex:
    y, where = np.unique(np.concatenate([tx, T]), return_inverse=True)
    where = where.ravel()
    ux, x_code = np.unique(x, return_inverse=True)
    keys = np.concatenate([x_code, x_code]).astype(np.int64) * y.size + where
    pairs, rows = np.unique(keys, return_inverse=True)
    rows = rows.ravel()
    px, py = ux[pairs // y.size], (pairs % y.size).astype(np.intp)
    top_y = None
    if x.size and np.all(x == np.round(x)) and x.max() < 1e5:
        top_y = np.zeros(y.size, dtype=np.intp)
        np.maximum.at(top_y, py, px.astype(np.intp) + 1)
    return _ParetoIndex(y, where[x.size :], px, py, rows[: x.size], rows[x.size :], top_y)


def _pareto_table(params: tuple[float, ...], index: _ParetoIndex, grad: bool) -> np.ndarray:
    """Rows of ``[ln J, d ln J/dr, d ln J/dalpha, d ln J/ds, d ln J/dbeta]`` (natural
    parameters) for the pairs of ``index``; one column when not ``grad``."""
    r, alpha, s, beta = params
    if grad:  # row 0 carries d/dr in its imaginary part, row 1 d/ds
        rc = np.array([[r + 1j * _STEP], [r]])
        sc = np.array([[s], [s + 1j * _STEP]])
    else:
        rc, sc = np.array([[r + 0j]]), np.array([[s + 0j]])
    x, yy = index.px, index.y[index.py]
    la, lb = np.log(alpha + yy), np.log(beta + yy)
    if index.top_y is not None:
        grid, column = _r_grid(index.y, index.top_y, rc, alpha, sc, beta)
        _, rows, cols = grid.shape
        at = x.astype(np.intp) * cols + column[index.py]
        flat = grid.reshape(grid.shape[0], -1)
        here = flat[0].take(at)
        value = np.log(here.real)
        log_j = value + (1 - r - x) * la - s * lb
        if not grad:
            return log_j[:, None]
        d_r = here.imag / here.real / _STEP - la
        there = flat[1].take(at)
        d_s = there.imag / there.real / _STEP - lb
        d_alpha = -(r + x) * flat[0].take(at + cols).real / here.real / (alpha + yy)
    else:
        log_j = _log_j(x, yy, rc, alpha, sc, beta)
        if not grad:
            return log_j[0].real[:, None]
        d_r, d_s = log_j[0].imag / _STEP, log_j[1].imag / _STEP
        log_j = log_j[0].real
        d_alpha = -(r + x) * np.exp(_log_j(x + 1, yy, r, alpha, s, beta).real - log_j)
    d_beta = -np.exp(-(r + x) * la - (s + 1) * lb - log_j) - d_alpha
    return np.column_stack([log_j, d_r, d_alpha, d_s, d_beta])


def _pareto_log_drop(
    params: tuple[float, ...], index: _ParetoIndex, grad: bool
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None, np.ndarray | None]:
    """``ln [J(x, t_x) - J(x, T)]`` per pattern (-inf where t_x = T) and, with ``grad``,
    the tables' rows at t_x and T (derivatives of ln J) and ``q = J(x, T)/J(x, t_x)``:
    d ln(J1 - J2) = (d ln J1 - q d ln J2) / (1 - q)."""
    table = _pareto_table(params, index, grad)
    at_tx, at_T = table.take(index.pair_tx, axis=0), table.take(index.pair_T, axis=0)
    l1 = at_tx[:, 0]
    diff = np.minimum(at_T[:, 0] - l1, 0.0)
    with np.errstate(divide="ignore"):
        log_drop = l1 + np.log(-np.expm1(diff))
    if not grad:
        return log_drop, None, None, None
    return log_drop, at_tx, at_T, np.exp(diff)


def _pareto_log_a0(r, alpha, s, beta, x, tx, T, index=None) -> np.ndarray:
    """``ln A0`` of Fader & Hardie's (2005) note, ``A0 = (r+s+x)[J(x, t_x) - J(x, T)]``,
    for arrays x, t_x and T (see :func:`_r_grid` for how J is evaluated); ``index`` is
    ``_pareto_index`` of the flattened arrays when already known."""
    x, tx, T = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (x, tx, T)))
    shape = x.shape
    x, tx, T = x.ravel(), tx.ravel(), T.ravel()
    if not x.size:
        return np.zeros(shape)
    if index is None:
        index = _pareto_index(x, tx, T)
    log_drop = _pareto_log_drop((r, alpha, s, beta), index, grad=False)[0]
    return (np.log(r + s + x) + log_drop).reshape(shape)


class ParetoNBDResult(NBDResult):
    """A fitted Pareto/NBD model (Schmittlein, Morrison & Colombo 1987).

    P(alive) = 1 / (1 + s/(r+s+x) (alpha+T)^(r+x) (beta+T)^s A0) (Fader & Hardie 2005 note).
    """

    def _log_odds_dead(self, x, tx, T, index=None):
        r, alpha, s, beta = self._p()
        log_a0 = _pareto_log_a0(r, alpha, s, beta, x, tx, T, index)
        return np.log(s / (r + s + x)) + (r + x) * np.log(alpha + T) + s * np.log(beta + T) + log_a0

    def _alive_for(self, x, tx, T):
        """As the base, with the patterns' distinct (x, t_x) and (x, T) pairs found once."""
        if x.ndim != 1 or not x.size:
            return super()._alive_for(x, tx, T)
        index = _pareto_index(x, tx, T)
        return lambda r: np.exp(-np.logaddexp(0.0, r._log_odds_dead(x, tx, T, index)))

    def _unconditional(self, t):
        r, alpha, s, beta = self._p()
        if abs(s - 1) < 1e-9:
            return r * beta / alpha * np.log((beta + t) / beta)
        return r * beta / (alpha * (s - 1)) * (1 - (beta / (beta + t)) ** (s - 1))

    def _lifetime(self, t: np.ndarray, T: np.ndarray) -> np.ndarray:
        """E[min(tau, t)] of the remaining lifetime tau ~ Exp(mu), mu | alive at T ~
        Gamma(s, beta + T): (beta+T)/(s-1) (1 - ((beta+T)/(beta+T+t))^(s-1))."""
        _, _, s, beta = self._p()
        if abs(s - 1) < 1e-9:
            return (beta + T) * np.log((beta + T + t) / (beta + T))
        return (beta + T) / (s - 1) * (1 - ((beta + T) / (beta + T + t)) ** (s - 1))

    def _core(self, t, x, T):
        r, alpha, _, _ = self._p()
        return (r + x) / (alpha + T) * self._lifetime(t, T)

    def _discounted_core(
        self, x: np.ndarray, T: np.ndarray, ends: np.ndarray, rate: float
    ) -> np.ndarray:
        """The purchase rate's posterior mean (r+x)/(alpha+T) times the discounted steps of
        :meth:`_lifetime`, which depend on T alone: evaluated once per distinct T."""
        r, alpha, _, _ = self._p()
        uT, inv = np.unique(T, return_inverse=True)
        lifetime = _discounted_steps(self._lifetime(ends[None, :], uT[:, None]), ends, rate)
        return (r + x) / (alpha + T) * lifetime[np.ravel(inv)]

    def purchase_probability(self, n: Any, t: Any, nodes: int = 64) -> np.ndarray:
        r"""P(X(t) = n) for a new customer, by Gauss-Legendre quadrature over the dropout time:

        .. math:: (\beta/(\beta+t))^s NB(n; t) + \int_0^t s\beta^s (\beta+\tau)^{-(s+1)}
            NB(n; \tau)\, d\tau
        """
        r, alpha, s, beta = self._p()
        n, t = np.broadcast_arrays(np.asarray(n, dtype=float), np.asarray(t, dtype=float))
        u, wts = np.polynomial.legendre.leggauss(nodes)
        tau = (t[..., None] / 2) * (u + 1)
        dens = s * beta**s / (beta + tau) ** (s + 1)
        nb = np.exp(_log_nb(n[..., None], r, alpha, tau))
        integral = (t / 2) * np.sum(wts * dens * nb, axis=-1)
        return (beta / (beta + t)) ** s * np.exp(_log_nb(n, r, alpha, t)) + integral


def _pareto_loglik(theta: np.ndarray, p: _Patterns, grad: bool = False) -> Any:
    r"""Total Pareto/NBD log-likelihood (and gradient in log-parameters).

    Per customer (Fader & Hardie 2005 note, eq. 22)
    ``ln Gamma(r+x)/Gamma(r) + r ln alpha + s ln beta + ln(e^S + e^D)`` with
    ``S = -(r+x) ln(alpha+T) - s ln(beta+T)`` (alive at T) and
    ``D = ln s + ln[J(x, t_x) - J(x, T)]`` (dropped out in (t_x, T); see
    :func:`_r_grid`). With the shares ``pi_S, pi_D`` of ``e^S + e^D`` every derivative
    is analytic: ``d/dtheta = pi_S dS/dtheta + pi_D dD/dtheta`` plus the constant terms.
    """
    params = tuple(float(v) for v in np.exp(theta))
    r, alpha, s, beta = params
    x, T, w, ux, i = p.x, p.T, p.w, p.ux, p.inv
    index = p.pairs if p.pairs is not None else _pareto_index(x, p.tx, T)
    la, lb = np.log(alpha + index.y), np.log(beta + index.y)
    la_T, lb_T = la[index.at_T], lb[index.at_T]
    log_drop, at_tx, at_T, q = _pareto_log_drop(params, index, grad)
    S = -(r + x) * la_T - s * lb_T
    softplus, p_s, p_d = _softplus_shares(np.log(s) + log_drop - S)
    n_x = np.bincount(i, weights=w, minlength=ux.size)
    W = float(n_x.sum())
    ll = float(
        np.dot(n_x, gammaln(r + ux) - gammaln(r))
        + W * (r * np.log(alpha) + s * np.log(beta))
        + np.dot(w, S)
        + np.dot(w, softplus)
    )
    if not grad:
        return ll
    ws, wd = w * p_s, w * p_d
    first = np.divide(wd, 1.0 - q, out=np.zeros_like(wd), where=q < 1)
    drop = at_tx[:, 1:].T @ first - at_T[:, 1:].T @ (first * q)  # r, alpha, s, beta
    inv_a = np.exp(-la)[index.at_T]
    inv_b = np.exp(-lb)[index.at_T]
    g = np.array(
        [
            np.dot(n_x, digamma(r + ux) - digamma(r)) + W * np.log(alpha) - np.dot(ws, la_T),
            W * r / alpha - np.dot(ws, (r + x) * inv_a),
            W * np.log(beta) - np.dot(ws, lb_T) + wd.sum() / s,
            W * s / beta - s * np.dot(ws, inv_b),
        ]
    )
    return ll, (g + drop) * np.array(params)


def _pareto_log_a0_each(r, alpha, s, beta, x, tx, T) -> np.ndarray:
    """:func:`_pareto_log_a0` with per-pattern parameters (the branch alpha >= beta chosen
    per pattern)."""
    first = alpha >= beta
    big, small = np.maximum(alpha, beta), np.minimum(alpha, beta)
    b2 = np.where(first, s + 1, r + x)
    k = r + s + x

    def log_term(y):
        z = (big - small) / (big + y)
        f = hyp2f1(1.0, k + 1 - b2, k + 1, z)
        bad = ~np.isfinite(f)
        if np.any(bad):
            near = bad & (z <= 0.999)
            f = np.where(bad, np.nan, f)
            if np.any(near):
                f[near] = hyp2f1_one((k + 1 - b2)[near], (k + 1)[near], z[near])
        with np.errstate(invalid="ignore"):
            return (1 - b2) * np.log1p(-z) + np.log(f) - k * np.log(big + y)

    l1, l2 = log_term(tx), log_term(T)
    diff = np.minimum(l2 - l1, 0.0)
    with np.errstate(divide="ignore"):
        return l1 + np.log(-np.expm1(diff))


def _pareto_each(params: Any, p: _Patterns) -> tuple[np.ndarray, np.ndarray]:
    """Per-pattern Pareto/NBD log-likelihood at per-pattern parameters and its derivatives
    in each log-parameter (4 x patterns); terms as :func:`_pareto_loglik`."""
    r, alpha, s, beta = (
        np.broadcast_to(np.asarray(params[k], dtype=float), p.x.shape).copy()
        for k in ("r", "alpha", "s", "beta")
    )
    x, tx, T = p.x, p.tx, p.T
    rsx = r + s + x
    log_aT, log_bT = np.log(alpha + T), np.log(beta + T)
    log_a0 = _pareto_log_a0_each(r, alpha, s, beta, x, tx, T)
    total, p_s, p_d = _two_branch(-(r + x) * log_aT - s * log_bT, np.log(s) - np.log(rsx) + log_a0)
    ll = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta) + total
    h = 1e-5
    d_a0 = np.zeros((4, x.size))
    used = p_d > 0
    values = [r, alpha, s, beta]
    for j in range(4):
        up = [v * np.exp(h) if i == j else v for i, v in enumerate(values)]
        down = [v * np.exp(-h) if i == j else v for i, v in enumerate(values)]
        with np.errstate(invalid="ignore"):
            diff = _pareto_log_a0_each(*up, x, tx, T) - _pareto_log_a0_each(*down, x, tx, T)
        d_a0[j, used] = np.nan_to_num(diff[used] / (2 * h))
    g_r = r * (digamma(r + x) - digamma(r) + np.log(alpha) - p_s * log_aT - p_d / rsx)
    g_alpha = alpha * (r / alpha - p_s * (r + x) / (alpha + T))
    g_s = s * (np.log(beta) - p_s * log_bT + p_d * (1 / s - 1 / rsx))
    g_beta = beta * (s / beta - p_s * s / (beta + T))
    return ll, np.array([g_r, g_alpha, g_s, g_beta]) + p_d * d_a0


class ParetoNBD(_Model):
    """Pareto/NBD (Schmittlein, Morrison & Colombo 1987); params ``r, alpha, s, beta``.

    Likelihood per customer (Fader & Hardie 2005 note, eq. 22):
    Gamma(r+x) alpha^r beta^s / Gamma(r) [ (alpha+T)^-(r+x) (beta+T)^-s + s/(r+s+x) A0 ].
    """

    names = ("r", "alpha", "s", "beta")
    start = (0.5, 10.0, 0.5, 10.0)
    name = "Pareto/NBD"
    scales = ("alpha", "beta")
    uses_pairs = True
    result_class = ParetoNBDResult
    links = {"purchase": ("alpha", -1), "dropout": ("beta", -1)}
    _loglik = staticmethod(_pareto_loglik)

    def _loglik_each(self, params: Any, p: _Patterns, grad: bool = False) -> Any:
        return _pareto_each(params, p)
