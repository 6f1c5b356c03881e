r"""BG/CNBD-k and MBG/CNBD-k: BG/NBD and MBG/NBD with regular (Erlang-k) inter-purchase times.

Platzer, M. & Reutterer, T. (2016). Ticking away the moments: timing regularity helps to
better predict customer activity. *Marketing Science* 35(5), 779-799.

While alive a customer's inter-purchase times are Erlang-k with rate :math:`\lambda`
(the sum of k exponential phases; k = 1 is the Poisson process of the BG/NBD), with
:math:`\lambda \sim \mathrm{Gamma}(r, \alpha)` across customers. After each repeat
purchase the customer leaves with probability :math:`p \sim \mathrm{Beta}(a, b)`; in the
MBG/CNBD-k also right after the first purchase (``shift`` s = 1, else 0). For a customer
with x repeat purchases, the last at :math:`t_x`, observed up to T, and
:math:`\mathrm{litt} = \sum_j \ln \Delta t_j` (the logs of the inter-purchase times;
``crmlab.rfm_summary(..., regularity=True)``), integrating over :math:`\lambda` and p:

.. math:: L = \frac{e^{(k-1)\,\mathrm{litt}}}{((k-1)!)^x}
    \frac{\alpha^r}{\Gamma(r)} \Big[ \frac{B(a, b+x+s)}{B(a, b)}
    \sum_{j=0}^{k-1} \frac{\Gamma(r+kx+j)\,(T-t_x)^j}{j!\,(\alpha+T)^{r+kx+j}}
    + [x+s>0] \frac{B(a+1, b+x+s-1)}{B(a, b)} \frac{\Gamma(r+kx)}{(\alpha+t_x)^{r+kx}} \Big]

(the j-th alive term: still alive with j of the k phases of the next purchase completed
by T; the last term: left right after the last purchase). k = 1 is the BG/NBD
(Fader, Hardie & Lee 2005) or MBG/NBD (Batislam, Denizel & Filiztekin 2007) exactly; the
formula is the one of BTYDplus' ``xbgcnbd.LL``. k is an integer chosen by likelihood
(:meth:`BGCNBD.fit_k`); the litt term makes likelihoods comparable across k.

Predictions are exact (BTYDplus approximates the conditional expectation by a rescaled
BG/NBD): a customer alive at T with j phases done and rate :math:`\lambda` makes the n-th
future purchase once :math:`nk - j` more phases (a Poisson process of rate
:math:`\lambda`) have passed, and reaches it alive with probability
:math:`(1-p)^{n-1}`, so

.. math:: E[X(T, T+t) \mid \text{data}] = \sum_{j=0}^{k-1} \pi_j \sum_{n \ge 1}
    \frac{B(a, b+x+s+n-1)}{B(a, b+x+s)}\; P(N_j \ge nk - j),

with :math:`\pi_j` the share of the j-th alive term in L and :math:`N_j` negative
binomial (shape :math:`r+kx+j`, success probability :math:`(\alpha+T)/(\alpha+T+t)`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import betaln, digamma, gammaln, logsumexp

from crmlab.errors import DataError
from crmlab.models.base import (
    IdentificationError,
    Model,
    reject_rows,
)
from crmlab.models.nbd import (
    COLUMNS,
    NBDResult,
    _arrays,
    _discounted_steps,
    _Model,
    _unique_rows,
)

K_LIMIT = 100  # an Erlang-100 purchase clock is a metronome; beyond it k is not estimable
_BLOCK = 64  # future purchases summed per step of the conditional expectation


class _CNBDPatterns(NamedTuple):
    """Distinct (x, t_x, T) with customer counts ``w``; ``litt_total`` is the weighted sum
    of litt over all customers (the likelihood's only term in litt) and ``x_total`` that
    of x."""

    x: np.ndarray
    tx: np.ndarray
    T: np.ndarray
    w: np.ndarray
    litt_total: float
    x_total: float
    ux: np.ndarray
    inv: np.ndarray
    Z: np.ndarray | None = None


def _check_k(k: Any) -> int:
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 1 <= k <= K_LIMIT:
        raise DataError(
            f"k (the Erlang order of the inter-purchase times) must be a whole number from 1 "
            f"to {K_LIMIT}; got {k!r}. k = 1 is the BG/NBD's Poisson purchasing."
        )
    return int(k)


def _by_frequency(params: Any, k: int, shift: int, ux: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The parts of the log terms that depend on x only, for each distinct x: alive with j
    phases done (``(len(ux), k)``, without the powers of T and T - t_x) and left after the
    last purchase (``len(ux)``; -inf where impossible: BG with x = 0)."""
    r, alpha, a, b = (float(v) for v in params)
    head = r * np.log(alpha) - gammaln(r) - betaln(a, b)
    rx = r + k * ux
    j = np.arange(k)
    alive = head + gammaln(rx[:, None] + j) - gammaln(j + 1.0) + betaln(a, b + ux + shift)[:, None]
    can_leave = ux + shift > 0
    dead = np.full(ux.shape, -np.inf)
    dead[can_leave] = head + gammaln(rx[can_leave]) + betaln(a + 1, b + ux[can_leave] + shift - 1)
    return alive, dead


def _assemble(
    params: Any,
    k: int,
    x: np.ndarray,
    tx: np.ndarray,
    T: np.ndarray,
    alive: np.ndarray,
    dead: np.ndarray,
) -> np.ndarray:
    """Per-pattern log terms from the per-x parts (already spread to the patterns): column
    j < k is ``alive_j - (r+kx+j) ln(alpha+T) + j ln(T-t_x)``, column k is
    ``dead - (r+kx) ln(alpha+t_x)``."""
    r, alpha = float(params[0]), float(params[1])
    rx = r + k * x
    log_T = np.log(alpha + T)
    terms = np.empty((x.size, k + 1))
    terms[:, :k] = alive
    terms[:, :k] -= (rx * log_T)[:, None]
    if k > 1:
        with np.errstate(divide="ignore"):
            step = np.log(np.maximum(T - tx, 0.0)) - log_T  # -inf where t_x = T
        terms[:, 1:k] += np.arange(1, k) * step[:, None]
    terms[:, k] = dead - rx * np.log(alpha + tx)
    return terms


def _terms(
    params: Any, k: int, shift: int, x: np.ndarray, tx: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """Log of each term of the likelihood's bracket times its head, per pattern: columns
    0..k-1 alive with j phases done, column k left after the last purchase (-inf where
    that is impossible: BG with x = 0). Shape (patterns, k + 1); litt terms excluded."""
    ux, inv = np.unique(x, return_inverse=True)
    alive, dead = _by_frequency(params, k, shift, ux)
    return _assemble(params, k, x, tx, T, alive[inv.ravel()], dead[inv.ravel()])


def _log_total(terms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``ln sum_c e^terms`` by row and the shares of each column (0 for -inf columns)."""
    top = terms.max(axis=1)
    share = np.exp(terms - top[:, None])
    total = share.sum(axis=1)
    share /= total[:, None]
    return top + np.log(total), share


def _cnbd_loglik(theta: np.ndarray, p: _CNBDPatterns, k: int, shift: int, grad: bool) -> Any:
    """Total log-likelihood (and its gradient in the log-parameters) on the patterns.

    Special functions run once per distinct frequency (``p.ux``); per pattern only logs
    and one exponential per term. The gradient is the share-weighted sum of each term's
    derivatives (digammas of the gamma and beta functions, and the powers of alpha + T
    and alpha + t_x)."""
    r, alpha, a, b = params = np.exp(theta)
    alive, dead = _by_frequency(params, k, shift, p.ux)
    terms = _assemble(params, k, p.x, p.tx, p.T, alive[p.inv], dead[p.inv])
    total, share = _log_total(terms)
    const = (k - 1) * p.litt_total - gammaln(k) * p.x_total
    ll = float(p.w @ total) + const
    if not grad:
        return ll
    ws = share * p.w[:, None]  # customers in each term
    ws_alive = ws[:, :k].sum(axis=1)
    ws_dead = ws[:, k]
    ux_count = p.ux.size
    per_x = np.stack([np.bincount(p.inv, ws[:, c], minlength=ux_count) for c in range(k + 1)], 1)
    rx_u = r + k * p.ux
    j = np.arange(k)
    psi_terms = np.concatenate([digamma(rx_u[:, None] + j), digamma(rx_u)[:, None]], axis=1)
    W = float(p.w.sum())
    log_T, log_tx = np.log(alpha + p.T), np.log(alpha + p.tx)
    g_r = (
        np.sum(per_x * psi_terms)
        + W * (np.log(alpha) - digamma(r))
        - np.dot(ws_alive, log_T)
        - np.dot(ws_dead, log_tx)
    )
    rx = r + k * p.x
    phases = ws[:, :k] @ j  # sum_j j * weight_j
    g_alpha = (
        W * r / alpha
        - np.dot(rx * ws_alive + phases, 1 / (alpha + p.T))
        - np.dot(rx * ws_dead, 1 / (alpha + p.tx))
    )
    alive_u, dead_u = per_x[:, :k].sum(axis=1), per_x[:, k]
    bxs = b + p.ux + shift
    psi = digamma(a + b) - digamma(a + bxs)
    can_leave = p.ux + shift > 0
    leave_b = np.zeros(ux_count)
    leave_b[can_leave] = digamma(bxs[can_leave] - 1)
    g_a = np.dot(alive_u + dead_u, psi) + dead_u.sum() * (digamma(a + 1) - digamma(a))
    g_b = np.dot(alive_u, digamma(bxs) - digamma(b) + psi) + np.dot(
        dead_u, leave_b - digamma(b) + psi
    )
    return ll, np.array([g_r, g_alpha, g_a, g_b]) * params


def _future(
    rho: np.ndarray,
    rate: np.ndarray,
    t: np.ndarray,
    k: int,
    done: np.ndarray,
    a: float,
    b_post: np.ndarray,
) -> np.ndarray:
    r""":math:`\sum_{n\ge1} E[(1-p)^{n-1}]\, P(N \ge nk - j)` with p ~ Beta(a, ``b_post``)
    and N ~ NB(``rho``, ``rate``/(``rate``+t)) (the phases completed in t by a
    Gamma(rho, rate) rate), ``done`` = j; summed in blocks of n until the NB tail is below
    1e-16."""
    prob = rate / (rate + t)
    out = np.zeros(rho.shape)
    lb = betaln(a, b_post)
    live = np.flatnonzero(t > 0)
    n0 = 1
    while live.size:
        n = n0 + np.arange(_BLOCK)
        need = n * k - done[live, None]  # phases still to pass before purchase n
        tail = stats.nbinom.sf(need - 1, rho[live, None], prob[live, None])
        weight = np.exp(betaln(a, b_post[live, None] + n - 1) - lb[live, None])
        out[live] += np.sum(weight * tail, axis=1)
        live = live[tail[:, -1] > 1e-16 * np.maximum(out[live], 1e-300)]
        n0 += _BLOCK
    return out


@dataclass(repr=False)
class _CNBDResult(NBDResult):
    """A fitted (M)BG/CNBD-k model; ``regularity`` is k (``FitResult.k`` counts parameters).

    Predictions are exact under the model (see the module docstring); the Erlang clock's
    phase at T enters through the time since the last purchase, ``T - recency``.
    """

    regularity: int = 1
    shift: ClassVar[int] = 0

    @property
    def k_table(self) -> pd.DataFrame | None:
        """The likelihood of each k tried by :meth:`BGCNBD.fit_k` (None for one fixed k)."""
        return self.extra.get("k_table")

    def _terms(self, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
        x, tx, T = (np.ravel(np.asarray(v, dtype=float)) for v in (x, tx, T))
        return _terms(self._p(), self.regularity, self.shift, x, tx, T)

    def _log_odds_dead(self, x, tx, T):
        shape = np.broadcast(np.asarray(x), np.asarray(tx), np.asarray(T)).shape
        x, tx, T = (np.broadcast_to(np.asarray(v, dtype=float), shape) for v in (x, tx, T))
        terms = self._terms(x, tx, T)
        k = self.regularity
        return (terms[:, k] - logsumexp(terms[:, :k], axis=1)).reshape(shape)

    def _unconditional(self, t):
        r, alpha, a, b = self._p()
        t = np.asarray(t, dtype=float)
        flat = t.ravel()
        ones = np.ones(flat.shape)
        out = _future(
            r * ones, alpha * ones, flat, self.regularity, 0 * ones, a, (b + self.shift) * ones
        )
        return (out * np.exp(betaln(a, b + self.shift) - betaln(a, b))).reshape(t.shape)

    def _core(self, t, x, T):  # pragma: no cover - the phase needs recency: _conditional
        raise DataError(f"{self.model} predictions need recency; use expected_purchases.")

    def _conditional(self, t: Any, x: Any, tx: Any, T: Any) -> np.ndarray:
        """E[X(T, T+t) | x, t_x, T] (alive or not), broadcasting its arguments."""
        r, alpha, a, b = self._p()
        k = self.regularity
        arrays = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (t, x, tx, T)))
        shape = arrays[0].shape
        t, x, tx, T = (v.ravel() for v in arrays)
        share = _log_total(self._terms(x, tx, T))[1]
        out = np.zeros(x.shape)
        for j in range(k):
            out += share[:, j] * _future(
                r + k * x + j, alpha + T, t, k, np.full(x.shape, j), a, b + x + self.shift
            )
        return out.reshape(shape)

    def _discounted_purchases(
        self,
        data: pd.DataFrame,
        x: np.ndarray,
        tx: np.ndarray,
        T: np.ndarray,
        ends: np.ndarray,
        rate: float,
    ) -> Callable[[NBDResult], np.ndarray]:
        """For :meth:`NBDResult.clv`: this model's conditional expectations depend on recency
        (the purchase clock's phase), so the steps are differenced per (x, t_x, T) pattern."""
        (ux, utx, uT), inv = _unique_rows(x, tx, T)

        def discounted(r: NBDResult) -> np.ndarray:
            grid = r._conditional(ends[None, :], ux[:, None], utx[:, None], uT[:, None])
            return _discounted_steps(grid, ends, rate)[inv]

        return discounted

    def purchase_probability(self, n: Any, t: Any) -> np.ndarray:
        r"""P(X(t) = n) for a new customer: :math:`E[(1-p)^{n+s}] P(nk \le N < (n+1)k) +
        [n+s>0] E[p(1-p)^{n+s-1}] P(N \ge nk)`, N ~ NB(r, alpha/(alpha+t)) the phases
        completed by t."""
        r, alpha, a, b = self._p()
        k, s = self.regularity, self.shift
        n, t = np.broadcast_arrays(np.asarray(n, dtype=float), np.asarray(t, dtype=float))
        prob = alpha / (alpha + t)
        below_next = stats.nbinom.cdf((n + 1) * k - 1, r, prob)
        reached = stats.nbinom.sf(n * k - 1, r, prob)
        alive = np.exp(betaln(a, b + n + s) - betaln(a, b)) * (below_next - (1 - reached))
        left = n + s > 0
        died = np.exp(betaln(a + 1, np.where(left, b + n + s - 1, 1.0)) - betaln(a, b))
        return alive + np.where(left, died * reached, 0.0)


class BGCNBDResult(_CNBDResult):
    """A fitted BG/CNBD-k model (Platzer & Reutterer 2016): no dropout at time 0, so
    customers without repeat purchases are alive with probability 1, as in the BG/NBD."""

    shift: ClassVar[int] = 0


class MBGCNBDResult(_CNBDResult):
    """A fitted MBG/CNBD-k model (Platzer & Reutterer 2016): dropout also right after the
    first purchase, so one-time buyers can be dead (P(alive) < 1)."""

    shift: ClassVar[int] = 1


class _CNBD(_Model):
    """Shared fitting of the (M)BG/CNBD-k models on (frequency, recency, T[, litt])."""

    names = ("r", "alpha", "a", "b")
    start = (0.5, 5.0, 0.8, 2.5)
    family = ""
    shift = 0

    def __init__(self, k: int = 1) -> None:
        self.k = _check_k(k)
        self.name = f"{self.family}-{self.k}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(k={self.k})"

    def _data(self, data: pd.DataFrame, design: np.ndarray | None) -> _CNBDPatterns:
        if design is not None:
            raise DataError(f"{self.name} takes no covariates.")
        x, _, _ = _arrays(data)
        weight = data["weight"].to_numpy(dtype=float) if "weight" in data.columns else 1.0
        if "litt" in data.columns:
            litt = data["litt"]
            reject_rows(
                "litt",
                ~np.isfinite(litt.to_numpy(dtype=float)),
                litt,
                "values that are missing or not finite",
                "litt is the sum of log inter-purchase times: crmlab.rfm_summary(..., "
                "regularity=True) computes it.",
            )
            reject_rows(
                "litt",
                (x == 0) & (litt.to_numpy(dtype=float) != 0),
                litt,
                "non-zero values for customers without repeat purchases",
                "A customer with frequency 0 has no inter-purchase time, so litt is 0.",
            )
            litt_total = float(np.sum(weight * litt.to_numpy(dtype=float)))
        elif self.k > 1:
            raise DataError(
                f"{self.name} needs the column 'litt' (the sum of each customer's log "
                "inter-purchase times) for a likelihood comparable across k; build the "
                "summary with crmlab.rfm_summary(transactions, ..., regularity=True)."
            )
        else:
            litt_total = 0.0
        patterns, counts, _ = Model.compress_patterns(
            data, COLUMNS, "weight" if "weight" in data.columns else None, None
        )
        px, ptx, pT = (patterns[c].to_numpy(dtype=float) for c in COLUMNS)
        ux, inv = np.unique(px, return_inverse=True)
        return _CNBDPatterns(px, ptx, pT, counts, litt_total, float(counts @ px), ux, inv.ravel())

    def _loglik(self, theta: np.ndarray, p: _CNBDPatterns, grad: bool = False) -> Any:
        return _cnbd_loglik(theta, p, self.k, self.shift, grad)

    def _result_kwargs(self, p: _CNBDPatterns) -> dict:
        return {"regularity": self.k}

    @classmethod
    def fit_k(
        cls, data: pd.DataFrame, *, k_max: int = 12, strict: bool = True, **kwargs: Any
    ) -> _CNBDResult:
        """Fit k = 1 .. ``k_max`` and return the fit of the k with the largest likelihood
        (Platzer & Reutterer 2016; BTYDplus' grid search, here over the whole grid).

        Every k has the same four parameters, so the likelihood ranks them as AIC and BIC
        would. Fits that do not converge are listed but not chosen. The table of all k
        (``k``, ``loglik``, the estimates, ``converged``) is ``result.k_table``. Other
        arguments go to :meth:`fit`.
        """
        k_max = _check_k(k_max)
        rows, fits = [], {}
        for k in range(1, k_max + 1):
            try:
                fit = cls(k).fit(data, strict=True, **kwargs)
            except IdentificationError as error:
                rows.append({"k": k, "loglik": np.nan, "converged": False, "note": str(error)})
                continue
            fits[k] = fit
            rows.append({"k": k, "loglik": fit.loglik, **fit.params.to_dict(), "converged": True})
        table = pd.DataFrame(rows).set_index("k")
        if not fits:
            message = f"no k in 1..{k_max} gave a converged {cls.family}-k fit"
            if strict:
                raise IdentificationError(f"{message}: {table['note'].iloc[0]}")
            return cls(1).fit(data, strict=False, **kwargs)
        best = max(fits, key=lambda k: fits[k].loglik)
        table["chosen"] = table.index == best
        result = fits[best]
        result.extra["k_table"] = table
        return result


class BGCNBD(_CNBD):
    """BG/CNBD-k (Platzer & Reutterer 2016); params ``r, alpha, a, b`` for a fixed integer
    ``k`` (Erlang order of the inter-purchase times; k = 1 is the BG/NBD).

    ``BGCNBD(k=2).fit(summary)`` for one k, ``BGCNBD.fit_k(summary)`` to choose it. The
    summary needs ``litt`` for k > 1: ``crmlab.rfm_summary(..., regularity=True)``.
    """

    family = "BG/CNBD"
    shift = 0
    result_class = BGCNBDResult


class MBGCNBD(_CNBD):
    """MBG/CNBD-k (Platzer & Reutterer 2016): as :class:`BGCNBD` with dropout also right
    after the first purchase; k = 1 is the MBG/NBD."""

    family = "MBG/CNBD"
    shift = 1
    result_class = MBGCNBDResult


def simulate_summary(
    n: int,
    *,
    k: int,
    r: float,
    alpha: float,
    a: float,
    b: float,
    dropout_at_zero: bool = False,
    T: tuple[float, float] = (26.0, 78.0),
    holdout: float = 0.0,
    seed: int | np.random.Generator = 0,
) -> pd.DataFrame:
    """Customers drawn from the (M)BG/CNBD-k model, summarised as ``rfm_summary`` would
    (with ``litt``, and ``alive`` at T); for parameter recovery and Monte Carlo checks.

    Each customer has :math:`\\lambda \\sim \\mathrm{Gamma}(r, \\alpha)` and
    :math:`p \\sim \\mathrm{Beta}(a, b)`, an age T uniform on ``T``, Erlang-k
    inter-purchase times from the first purchase at 0, and leaves with probability p after
    each repeat purchase (and at 0 with ``dropout_at_zero``: the MBG/CNBD-k). With
    ``holdout`` > 0, ``frequency_holdout`` counts purchases in (T, T + holdout].
    BTYDplus' ``bgcnbd.GenerateData`` draws the same process.
    """
    k = _check_k(k)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    lam = rng.gamma(r, 1 / alpha, n)
    p = rng.beta(a, b, n)
    age = rng.uniform(T[0], T[1], n)
    end = age + holdout
    alive = rng.random(n) >= p if dropout_at_zero else np.ones(n, dtype=bool)
    alive_at_T = alive.copy()
    now = np.zeros(n)
    x, tx, litt, future = np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n)
    active = np.flatnonzero(alive)
    while active.size:
        gap = rng.gamma(k, 1 / lam[active])
        when = now[active] + gap
        inside = when <= end[active]
        active, gap, when = active[inside], gap[inside], when[inside]
        calibration = when <= age[active]
        seen = active[calibration]
        x[seen] += 1
        tx[seen] = when[calibration]
        litt[seen] += np.log(gap[calibration])
        future[active[~calibration]] += 1
        now[active] = when
        leaves = rng.random(active.size) < p[active]
        alive_at_T[active[leaves & calibration]] = False
        active = active[~leaves]
    out = pd.DataFrame(
        {"frequency": x, "recency": tx, "T": age, "litt": litt, "alive": alive_at_T},
        index=pd.RangeIndex(n, name="customer_id"),
    )
    if holdout > 0:
        out["frequency_holdout"] = future
        out["duration_holdout"] = float(holdout)
    out.attrs["time_unit"] = "W"
    return out
