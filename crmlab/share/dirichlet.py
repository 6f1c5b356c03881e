"""The NBD-Dirichlet model of purchase incidence and brand choice.

Goodhardt, Ehrenberg & Chatfield (1984), "The Dirichlet: a comprehensive model of
buying behaviour", Journal of the Royal Statistical Society A 147, 621-655.

A household's number of category purchases n in the period is negative binomial
(NBD) with mean M and shape K over the population:
``P(n) = Gamma(K+n) / (Gamma(K) n!) (K/(M+K))^K (M/(M+K))^n``. Given n, its brand
choices are multinomial with probabilities drawn from a Dirichlet with parameters
``alpha_j = S * share_j``. So the number r_j of purchases of brand j given n is
beta-binomial(n, alpha_j, S - alpha_j), and for a set A of brands

``P(no purchase of A | n) = prod_{i<n} (S - alpha_A + i) / (S + i)``,
``P(only brand j | n) = prod_{i<n} (alpha_j + i) / (S + i)``.

Theoretical measures are sums of these over the NBD, truncated where the NBD
tail is below 1e-12 (vectorised with ``scipy.special.gammaln``).

Estimation follows Chen's R package NBDdirichlet: K from category penetration
``1 - (1 + M/K)^-K`` with ``M = penetration x buy rate``; for each brand the S that
reproduces its observed penetration, then the share-weighted mean of those S
after dropping Tukey-fence outliers (R's ``boxplot.stats``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from crmlab.errors import DataError
from crmlab.share.panel import brand_performance, duplication_table, purchase_counts


@dataclass
class DirichletFit:
    """A fitted NBD-Dirichlet model.

    Attributes
    ----------
    m : float
        Mean category purchases per household in the population (M).
    k : float
        NBD shape (K); small K = very unequal category buying rates.
    s : float
        Dirichlet S; small S = households stick to few brands (loyal), large S =
        each purchase a fresh draw from the market shares.
    brand_share : Series
        Market shares, indexed by brand (a sum below 1 leaves the rest to brands
        not listed, as in published tables of the leading brands).
    category_penetration : float
        Share of the population buying the category in the period, 1 - P(0).
    s_per_brand : Series
        S that reproduces each brand's observed penetration (before averaging).
    s_used : Series
        True where that brand's S entered the share-weighted mean (not an outlier).
    """

    m: float
    k: float
    s: float
    brand_share: pd.Series
    category_penetration: float
    s_per_brand: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))
    s_used: pd.Series = field(default_factory=lambda: pd.Series(dtype=bool))
    source: str = ""

    @property
    def category_buy_rate(self) -> float:
        """Mean category purchases per category buyer, M / (1 - P(0))."""
        return self.m / self.category_penetration


def _check_shares(brand_share: pd.Series) -> pd.Series:
    share = pd.Series(brand_share, dtype=float)
    if len(share) < 2:
        raise DataError(
            f"brand_share has {len(share)} brand(s); the Dirichlet needs at least two brands"
        )
    bad = ~np.isfinite(share.to_numpy()) | (share.to_numpy() < 0)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"brand_share has {int(bad.sum())} negative or missing value(s), first "
            f"{share.index[first]!r} = {share.iloc[first]!r}; shares are fractions in [0, 1]"
        )
    total = share.sum()
    if total > 1 + 1e-6:
        raise DataError(
            f"brand_share sums to {total:.4f}, above 1; shares are fractions of all category "
            "purchases (a sum below 1 leaves the rest to brands not listed)"
        )
    return share


def _nbd_pmf(m: float, k: float, tail: float = 1e-12) -> tuple[np.ndarray, np.ndarray]:
    dist = stats.nbinom(k, k / (k + m))
    n_max = int(max(dist.isf(tail), 10)) + 1
    n = np.arange(n_max + 1)
    return n, dist.pmf(n)


def _log_ratio(a: np.ndarray, s: float, n: np.ndarray) -> np.ndarray:
    """log prod_{i<n} (a + i)/(s + i) for arrays a (rows) and n (columns); a > 0."""
    a = np.asarray(a, dtype=float)[:, None]
    return special.gammaln(a + n) - special.gammaln(a) - special.gammaln(s + n) + special.gammaln(s)


def _p_none(a: np.ndarray, s: float, n: np.ndarray) -> np.ndarray:
    """P(no purchase of brands with total alpha a | n) = prod_{i<n} (s - a + i)/(s + i)."""
    rest = s - np.asarray(a, dtype=float)
    out = np.exp(_log_ratio(np.maximum(rest, 1e-300), s, n))
    out[rest <= 0, 1:] = 0.0
    return out


def _theory_arrays(m: float, k: float, s: float, share: np.ndarray) -> dict[str, np.ndarray]:
    n, pn = _nbd_pmf(m, k)
    alpha = s * share
    p0 = _p_none(alpha, s, n)  # brands x n
    with np.errstate(divide="ignore"):
        sole = np.where(
            alpha[:, None] > 0, np.exp(_log_ratio(np.maximum(alpha, 1e-300), s, n)), 0.0
        )
    sole[:, 0] = 0.0
    pen = 1 - p0 @ pn
    cat_buyers_volume = m - p0 @ (n * pn)
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "penetration": pen,
            "purchase_frequency": m * share / pen,
            "category_frequency": cat_buyers_volume / pen,
            "scr": m * share / cat_buyers_volume,
            "sole_buyers": (sole @ pn) / pen,
            "once_only": _once_only(alpha, s, n, pn) / pen,
        }


def _once_only(alpha: np.ndarray, s: float, n: np.ndarray, pn: np.ndarray) -> np.ndarray:
    """P(r_j = 1) = sum_n P(n) n B(alpha+1, S-alpha+n-1) / B(alpha, S-alpha)."""
    a = alpha[:, None]
    b = s - a
    nn = n[None, :].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_p = (
            np.log(np.maximum(nn, 1e-300))
            + special.betaln(a + 1, b + nn - 1)
            - special.betaln(a, b)
        )
        p = np.where((nn >= 1) & (a > 0), np.exp(log_p), 0.0)
    return p @ pn


def dirichlet_theory(fit: DirichletFit, *, among_category_buyers: bool = True) -> pd.DataFrame:
    """Theoretical brand performance measures of a fitted Dirichlet.

    Columns as :func:`crmlab.share.brand_performance`: ``market_share``,
    ``penetration``, ``purchase_frequency`` (purchases of j per buyer of j),
    ``category_frequency`` (category purchases per buyer of j), ``scr``,
    ``sole_buyers`` (share of j's buyers buying only j), ``once_only``.

    ``among_category_buyers=True`` divides penetration by the category penetration,
    to compare with a panel of category buyers; ``False`` gives the population
    penetration (as NBDdirichlet's ``pen.brand``).
    """
    share = fit.brand_share.to_numpy(dtype=float)
    arr = _theory_arrays(fit.m, fit.k, fit.s, share)
    table = pd.DataFrame({"market_share": share, **arr}, index=fit.brand_share.index)
    if among_category_buyers:
        table["penetration"] = table["penetration"] / fit.category_penetration
    return table


def dirichlet_duplication(fit: DirichletFit) -> pd.DataFrame:
    """Theoretical duplication: of the buyers of the row brand, the share who also buy
    the column brand: ``(1 - P0_j - P0_k + P0_jk) / (1 - P0_j)`` where P0_A is the
    probability of not buying the set A (the Dirichlet aggregates: alpha_A is a sum).
    """
    share = fit.brand_share.to_numpy(dtype=float)
    alpha = fit.s * share
    n, pn = _nbd_pmf(fit.m, fit.k)
    p0 = _p_none(alpha, fit.s, n) @ pn
    pair_alpha = (alpha[:, None] + alpha[None, :]).ravel()
    p0_pair = (_p_none(pair_alpha, fit.s, n) @ pn).reshape(len(alpha), len(alpha))
    both = 1 - p0[:, None] - p0[None, :] + p0_pair
    np.fill_diagonal(both, 1 - p0)
    with np.errstate(invalid="ignore", divide="ignore"):
        dup = both / (1 - p0)[:, None]
    index = fit.brand_share.index
    return pd.DataFrame(dup, index=index, columns=index)


def _solve_k(m: float, penetration: float, max_k: float) -> float:
    target = -np.log1p(-penetration)

    def gap(log_k: float) -> float:
        k = np.exp(log_k)
        return k * np.log1p(m / k) - target

    lo, hi = np.log(1e-6), np.log(max_k)
    if gap(hi) < 0:
        raise DataError(
            f"category penetration {penetration:.3f} is higher than a Poisson with mean "
            f"{m:.3f} allows (1 - exp(-M)); check cat penetration and buy rate"
        )
    return float(np.exp(optimize.brentq(gap, lo, hi, xtol=1e-12)))


def _tukey_outliers(values: np.ndarray) -> np.ndarray:
    """Outside 1.5 x the hinge spread of Tukey's five-number summary (R boxplot.stats)."""
    x = np.sort(values)
    n = len(x)
    n4 = np.floor((n + 3) / 2) / 2
    d = np.array([1, n4, (n + 1) / 2, n + 1 - n4, n]) - 1
    five = 0.5 * (x[np.floor(d).astype(int)] + x[np.ceil(d).astype(int)])
    spread = 1.5 * (five[3] - five[1])
    return (values < five[1] - spread) | (values > five[3] + spread)


def fit_dirichlet(
    category_penetration: float,
    category_buy_rate: float,
    brand_share: pd.Series | dict[str, float],
    brand_penetration: pd.Series | dict[str, float],
    *,
    max_s: float = 30.0,
    max_k: float = 1e4,
) -> DirichletFit:
    """Estimate the NBD-Dirichlet from category and brand summaries.

    Parameters
    ----------
    category_penetration : float
        Share of the population that bought the category in the period, in (0, 1).
    category_buy_rate : float
        Category purchases per category buyer in the period (> 1 unless all buy once).
    brand_share : Series or dict
        Market share of each brand (purchase occasions); a sum below 1 leaves the
        rest to brands not listed.
    brand_penetration : Series or dict
        Observed brand penetration in the population, same brands.
    max_s, max_k : float
        Upper search bounds for S and K (NBDdirichlet uses max_S = 30).

    Returns
    -------
    DirichletFit
        ``M = penetration x buy rate``; K solves ``1 - (1 + M/K)^-K = penetration``;
        S per brand reproduces its penetration, then the share-weighted mean of the
        brand S values without Tukey outliers (as R NBDdirichlet, F. Chen 2008).
    """
    if not 0 < category_penetration < 1:
        raise DataError(
            f"category_penetration must be in (0, 1), got {category_penetration!r}; for a "
            "panel of category buyers only use fit_dirichlet_panel"
        )
    if not category_buy_rate >= 1:
        raise DataError(
            f"category_buy_rate must be >= 1 purchase per buyer, got {category_buy_rate!r}"
        )
    share = _check_shares(pd.Series(brand_share))
    pen = pd.Series(brand_penetration, dtype=float).reindex(share.index)
    if pen.isna().any() or ((pen <= 0) | (pen >= category_penetration + 1e-9)).any():
        raise DataError(
            "brand_penetration must give every brand of brand_share a value in (0, category "
            f"penetration]; got {pen.to_dict()!r}"
        )
    m = category_penetration * category_buy_rate
    k = _solve_k(m, category_penetration, max_k)
    return _estimate_s(m, k, share, pen, category_penetration, max_s)


def _estimate_s(
    m: float,
    k: float,
    share: pd.Series,
    pen: pd.Series,
    category_penetration: float,
    max_s: float,
) -> DirichletFit:
    """S per brand reproducing its population penetration, then the share-weighted mean
    of those without Tukey outliers."""
    n, pn = _nbd_pmf(m, k)
    share_arr = share.to_numpy()

    def brand_pen(s: float) -> np.ndarray:
        return 1 - _p_none(s * share_arr, s, n) @ pn

    # Brand penetration rises with S (less loyalty, more households try the brand):
    # solve per brand on a log grid, then refine with brentq.
    grid = np.exp(np.linspace(np.log(1e-3), np.log(max_s), 200))
    pens = np.array([brand_pen(s) for s in grid])  # grid x brands (200 small evaluations)
    s_brand = np.empty(len(share_arr))
    for j in range(len(share_arr)):  # loop over brands (a handful), not customers
        target = pen.iloc[j]
        diff = pens[:, j] - target
        if diff[-1] <= 0:
            s_brand[j] = max_s
        elif diff[0] >= 0:
            s_brand[j] = grid[0]
        else:
            i = int(np.flatnonzero(diff > 0)[0])
            s_brand[j] = optimize.brentq(
                lambda s, j=j, t=target: brand_pen(s)[j] - t, grid[i - 1], grid[i], xtol=1e-10
            )
    outlier = _tukey_outliers(s_brand)
    s = float(np.average(s_brand[~outlier], weights=share_arr[~outlier]))
    return DirichletFit(
        m=m,
        k=k,
        s=s,
        brand_share=share,
        category_penetration=category_penetration,
        s_per_brand=pd.Series(s_brand, index=share.index),
        s_used=pd.Series(~outlier, index=share.index),
        source="summaries",
    )


def _truncated_nbd(counts: np.ndarray, min_k: float, max_k: float) -> tuple[float, float]:
    """ML fit of a zero-truncated NBD to category purchase counts (all >= 1).

    Parametrised by logit p, p = M / (M + K), and log K; K is kept in [min_k, max_k]
    because as K -> 0 the truncated NBD tends to the logarithmic series with the
    same p (Ehrenberg's LSD), whose measures among buyers are then reached.
    """
    values, weights = np.unique(counts, return_counts=True)

    def nll(theta: np.ndarray) -> float:
        p = special.expit(theta[0])
        k = np.exp(theta[1])
        log_pmf = stats.nbinom.logpmf(values, k, 1 - p)
        log_p0 = k * np.log1p(-p)
        return -float(np.sum(weights * (log_pmf - np.log(-np.expm1(log_p0)))))

    mean = counts.mean()
    best = None
    bounds = [(-30.0, 30.0), (np.log(min_k), np.log(max_k))]
    for k0 in (0.3, 1.0, 3.0):
        start = np.array([special.logit(mean / (mean + k0)), np.log(k0)])
        res = optimize.minimize(nll, start, method="L-BFGS-B", bounds=bounds)
        if best is None or res.fun < best.fun:
            best = res
    p = special.expit(best.x[0])
    k = float(np.exp(best.x[1]))
    return float(k * p / (1 - p)), k


def fit_dirichlet_panel(
    panel: pd.DataFrame,
    *,
    household: str = "household_id",
    brand: str = "brand",
    max_s: float = 30.0,
    min_k: float = 0.01,
    max_k: float = 1e4,
) -> DirichletFit:
    """Estimate the NBD-Dirichlet from a panel of category buyers.

    A panel of purchase occasions holds only households that bought the category,
    so the NBD (M, K) is fitted by maximum likelihood to the zero-truncated
    distribution of category purchases per household; the implied category
    penetration is ``1 - (1 + M/K)^-K``. Brand shares are counted; brand
    penetrations among buyers times that penetration give population penetrations,
    from which S is estimated as in :func:`fit_dirichlet`. Brands nobody bought are
    dropped from the fit (their share is 0; counted in ``DirichletFit.source``).
    """
    counts = purchase_counts(panel, household=household, brand=brand)
    cat = counts.to_numpy().sum(axis=1)
    if np.all(cat == cat[0]):
        raise DataError(
            f"every household bought the category {cat[0]} time(s); the NBD needs varied "
            "category purchase counts"
        )
    m, k = _truncated_nbd(cat, min_k, max_k)
    cat_pen = float(-np.expm1(-k * np.log1p(m / k)))
    perf = brand_performance(panel, household=household, brand=brand)
    used = perf["buyers"] > 0
    share = _check_shares(perf.loc[used, "market_share"])
    fit = _estimate_s(m, k, share, perf.loc[used, "penetration"] * cat_pen, cat_pen, max_s)
    dropped = int((~used).sum())
    fit.source = (
        f"panel of {len(counts)} households"
        + (f"; {dropped} brand(s) without buyers left out" if dropped else "")
        + (
            f"; K at its lower bound {min_k} (logarithmic-series limit)"
            if k <= min_k * 1.001
            else ""
        )
    )
    return fit


def dirichlet_benchmark(
    panel: pd.DataFrame,
    *,
    household: str = "household_id",
    brand: str = "brand",
    fit: DirichletFit | None = None,
) -> pd.DataFrame:
    """Observed brand performance beside the Dirichlet's theoretical values.

    Returns one row per brand with ``<measure>_observed``, ``<measure>_expected`` and,
    for loyalty measures, ``<measure>_deviation`` (observed - expected) for
    penetration, purchase_frequency, scr and sole_buyers; plus ``market_share``.
    A positive ``scr_deviation`` means the brand holds more loyalty than its size
    predicts (a niche or a "change-of-pace" brand shows a negative one).
    """
    if fit is None:
        fit = fit_dirichlet_panel(panel, household=household, brand=brand)
    observed = brand_performance(panel, household=household, brand=brand)
    expected = dirichlet_theory(fit).reindex(observed.index)
    out = pd.DataFrame({"market_share": observed["market_share"]})
    for measure in ("penetration", "purchase_frequency", "scr", "sole_buyers"):
        out[f"{measure}_observed"] = observed[measure]
        out[f"{measure}_expected"] = expected[measure]
        out[f"{measure}_deviation"] = observed[measure] - expected[measure]
    return out


def observed_and_expected_duplication(
    panel: pd.DataFrame,
    *,
    household: str = "household_id",
    brand: str = "brand",
    fit: DirichletFit | None = None,
) -> pd.DataFrame:
    """Long table of observed and theoretical duplication for every ordered brand pair."""
    if fit is None:
        fit = fit_dirichlet_panel(panel, household=household, brand=brand)
    obs = duplication_table(panel, household=household, brand=brand)
    theo = dirichlet_duplication(fit).reindex(index=obs.index, columns=obs.columns)
    long = obs.stack().rename("observed").to_frame()
    long["expected"] = theo.stack()
    long.index.names = ["buyers_of", "also_bought"]
    long = long.reset_index()
    return long[long["buyers_of"] != long["also_bought"]].reset_index(drop=True)


__all__ = [
    "DirichletFit",
    "dirichlet_benchmark",
    "dirichlet_duplication",
    "dirichlet_theory",
    "fit_dirichlet",
    "fit_dirichlet_panel",
    "observed_and_expected_duplication",
]
