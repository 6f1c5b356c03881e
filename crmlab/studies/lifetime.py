"""Customer lifetimes from P(alive): when does a customer stop counting as active?

Reinartz & Kumar (2000, J. Marketing 64(4), 17-35) estimate the lifetime of a
customer in a noncontractual setting as the time from the first purchase until
the Pareto/NBD probability that the customer is still alive falls below a
threshold ``c`` (0.5 in their main analysis).

Given everything a customer did up to the end of observation (``x`` repeat
purchases, the last at ``t_x``), the probability of being alive at a
hypothetical evaluation time ``tau`` after the first purchase is
``P(alive | x, t_x, T=tau)``. The customer certainly bought at ``t_x``, so the
lifetime cannot end earlier; after ``t_x`` no purchase is seen, and the
probability falls monotonically in ``tau`` (for the Pareto/NBD from 1 at
``tau = t_x``; for the BG/NBD family it may already start below 1). The
lifetime is therefore

    L = min{ tau >= t_x : P(alive | x, t_x, T=tau) < c },

a unique crossing, found here by bisection on arrays for all customers at once.
If the probability is still at or above ``c`` at the customer's age at the end
of observation ``T``, the lifetime is right-censored at ``T``: the customer was
still counted as alive when observation stopped.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crmlab.errors import DataError


def _p_alive(fit: Any, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    frame = pd.DataFrame({"frequency": x, "recency": t_x, "T": T})
    values = np.asarray(fit.probability_alive(frame), dtype=float)
    if values.shape != x.shape:
        raise DataError(
            f"the model's probability_alive returned {values.size} values for {x.size} "
            "customers; pass a fitted crmlab model (ParetoNBD, BGNBD or MBGNBD)."
        )
    bad = ~np.isfinite(values)
    if bad.any():
        i = int(np.argmax(bad))
        raise DataError(
            f"the model gave {int(bad.sum())} non-finite P(alive) values, first for "
            f"frequency={x[i]:g}, recency={t_x[i]:g}, T={T[i]:g}; check the fit "
            "(converged?) or try model='mbg_nbd'."
        )
    return values


def alive_lifetimes(
    fit: Any,
    summary: pd.DataFrame,
    threshold: float = 0.5,
    *,
    tol: float = 1e-6,
    max_iter: int = 80,
) -> pd.DataFrame:
    """Lifetime of each customer: when P(alive) first falls below ``threshold``.

    Parameters
    ----------
    fit : fitted model
        Anything with ``probability_alive(frame)`` on columns ``frequency``,
        ``recency``, ``T`` (a fitted ``crmlab.models`` Pareto/NBD, BG/NBD, MBG/NBD).
    summary : DataFrame
        One row per customer with ``frequency`` (repeat purchases), ``recency``
        (time of the last purchase after the first) and ``T`` (age at the end
        of observation), all in the model's time unit.
    threshold : float
        The cut-off ``c`` in (0, 1).
    tol : float
        Width (in time units) at which the bisection stops.
    max_iter : int
        Upper bound on bisection steps (each step halves every bracket).

    Returns
    -------
    DataFrame
        Indexed like ``summary``: ``lifetime`` (``min(L, T)``), ``censored``
        (True when ``L > T``, i.e. still alive at the end of observation) and
        ``p_alive_end`` (P(alive) at ``T``).

    Notes
    -----
    The root is found once per distinct ``(frequency, recency)`` pattern,
    bracketed by ``[recency, max T of the pattern]``: customers who share a
    history get bit-identical lifetimes, so ties are exact. BG/NBD gives
    customers without repeat purchases P(alive) = 1 at every age (a property of
    the model), so their lifetimes are always censored; use Pareto/NBD or MBG/NBD.
    """
    if not 0.0 < threshold < 1.0:
        raise DataError(
            f"alive_threshold must lie strictly between 0 and 1; got {threshold!r}. "
            "Reinartz & Kumar use 0.5."
        )
    x_all = summary["frequency"].to_numpy(dtype=float)
    tx_all = summary["recency"].to_numpy(dtype=float)
    T_all = summary["T"].to_numpy(dtype=float)
    if np.any(tx_all > T_all + 1e-9):
        bad = int(np.argmax(tx_all > T_all + 1e-9))
        raise DataError(
            f"{int(np.sum(tx_all > T_all + 1e-9))} customers have recency > T, first at row "
            f"{bad} (recency={tx_all[bad]}, T={T_all[bad]}); rebuild the summary with one "
            "observation end."
        )
    p_end = _p_alive(fit, x_all, tx_all, T_all)

    keys = pd.MultiIndex.from_arrays([x_all, tx_all])
    codes, uniques = pd.factorize(keys)
    x = uniques.get_level_values(0).to_numpy(dtype=float)
    t_x = uniques.get_level_values(1).to_numpy(dtype=float)
    hi = np.full(x.size, -np.inf)
    np.maximum.at(hi, codes, T_all)
    lo = t_x.copy()

    p_hi = _p_alive(fit, x, t_x, hi)
    p_lo = _p_alive(fit, x, t_x, lo)
    # crossing: +inf if still alive at the largest T of the pattern, t_x if already below.
    crossing = np.where(p_hi >= threshold, np.inf, np.nan)
    crossing = np.where(np.isnan(crossing) & (p_lo < threshold), lo, crossing)
    todo = np.isnan(crossing)
    a, b = lo[todo], hi[todo]
    xs, txs = x[todo], t_x[todo]
    for _ in range(max_iter):
        if a.size == 0 or np.max(b - a) <= tol:
            break
        mid = 0.5 * (a + b)
        below = _p_alive(fit, xs, txs, mid) < threshold
        b = np.where(below, mid, b)
        a = np.where(below, a, mid)
    crossing[todo] = b  # smallest grid point known to be below the threshold

    # censoring is read off P(alive) at the customer's own T, not off the bracketed root,
    # so a root within ``tol`` of T cannot flip the flag.
    censored = p_end >= threshold
    lifetime = np.where(censored, T_all, np.minimum(crossing[codes], T_all))
    return pd.DataFrame(
        {"lifetime": lifetime, "censored": censored, "p_alive_end": p_end},
        index=summary.index,
    )


def draw_true_lifetimes(
    fit: Any,
    summary: pd.DataFrame,
    rng: np.random.Generator,
    *,
    grid: int = 128,
    p_alive: np.ndarray | None = None,
) -> np.ndarray | None:
    """One draw of each customer's true observed lifetime ``min(tau, T)`` given the data.

    Where :func:`alive_lifetimes` gives one point (when P(alive) crosses a threshold),
    this draws the unobserved moment of dropout ``tau`` from its distribution given
    the customer's ``x`` repeat purchases, the last at ``t_x``, and ``T`` weeks observed,
    at the fitted parameters. With probability ``P(alive | x, t_x, T)`` the customer is
    still alive and the observed lifetime is ``T``; otherwise:

    * Pareto/NBD (params ``r, alpha, s, beta``): integrating the Gamma heterogeneity out
      of ``lambda^x e^{-lambda tau} mu e^{-mu tau}`` gives the density of ``tau`` on
      ``(t_x, T]``, ``f(tau) ~ (alpha + tau)^{-(r + x)} (beta + tau)^{-(s + 1)}``, drawn
      by inverting its cumulative integral on ``grid`` points (trapezoid rule);
    * BG/NBD and MBG/NBD: a customer leaves right after a purchase, so ``tau = t_x``.

    ``p_alive`` may pass P(alive) at ``T`` if already computed. Returns None for a model
    of another kind (its dropout process is unknown here).
    """
    kind = type(fit).__name__
    x = summary["frequency"].to_numpy(dtype=float)
    t_x = summary["recency"].to_numpy(dtype=float)
    T = summary["T"].to_numpy(dtype=float)
    if "Pareto" in kind:
        r, alpha, s, beta = (float(fit.params[k]) for k in ("r", "alpha", "s", "beta"))
        u = rng.random(x.size)
        death = np.empty(x.size)
        for start in range(0, x.size, 4096):  # bounded memory: (chunk x grid) arrays
            part = slice(start, start + 4096)
            death[part] = _invert_pareto(
                x[part], t_x[part], T[part], u[part], (r, alpha, s, beta), grid
            )
    elif "BGNBD" in kind:
        death = t_x.copy()
    else:
        return None
    p = _p_alive(fit, x, t_x, T) if p_alive is None else np.asarray(p_alive, dtype=float)
    alive = rng.random(x.size) < p
    return np.where(alive, T, np.minimum(death, T))


def _invert_pareto(
    x: np.ndarray,
    t_x: np.ndarray,
    T: np.ndarray,
    u: np.ndarray,
    params: tuple[float, float, float, float],
    grid: int,
) -> np.ndarray:
    """Inverse-CDF draw of the dropout time on (t_x, T] (see :func:`draw_true_lifetimes`)."""
    r, alpha, s, beta = params
    g = np.linspace(0.0, 1.0, grid)
    tau = t_x[:, None] + (T - t_x)[:, None] * g[None, :]
    logf = -(r + x)[:, None] * np.log(alpha + tau) - (s + 1.0) * np.log(beta + tau)
    f = np.exp(logf - logf[:, :1])  # the density falls in tau: the first point is its top
    steps = (f[:, 1:] + f[:, :-1]) / 2.0
    cdf = np.concatenate([np.zeros((x.size, 1)), np.cumsum(steps, axis=1)], axis=1)
    total = cdf[:, -1:]
    cdf = np.where(total > 0, cdf / np.where(total > 0, total, 1.0), g[None, :])
    k = np.clip((cdf < u[:, None]).sum(axis=1), 1, grid - 1)
    rows = np.arange(x.size)
    lo, hi = cdf[rows, k - 1], cdf[rows, k]
    width = np.where(hi > lo, hi - lo, 1.0)
    frac = np.where(hi > lo, (u - lo) / width, 0.0)
    return tau[rows, k - 1] + frac * (tau[rows, k] - tau[rows, k - 1])
