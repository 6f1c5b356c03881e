"""A non-contractual retailer whose purchase process, spend and costs are known.

Per customer ``i`` (all draws independent, time in units of ``time_unit``):

* **first purchase** on a whole day drawn uniformly from the first ``acquisition_periods``
  (a cohort, as CDNOW's first quarter of 1997) or from the whole horizon (ongoing
  acquisition); the customer is observed for ``T_i`` periods, until the horizon (rounded
  down to a whole day);
* **purchase rate** ``lambda_i ~ Gamma(shape r, rate alpha)``; while alive the customer buys
  as a Poisson process of rate ``lambda_i`` (repeat purchases only; the first is at 0);
* **dropout**, by ``model``:

  - ``"pareto_nbd"`` (Schmittlein, Morrison & Colombo 1987): an exponential lifetime with
    rate ``mu_i ~ Gamma(shape s, rate beta)``;
  - ``"bg_nbd"`` (Fader, Hardie & Lee 2005): after each repeat purchase the customer leaves
    with probability ``p_i ~ Beta(a, b)``;
  - ``"mbg_nbd"`` (Batislam, Denizel & Filiztekin 2007): as BG/NBD, and also right after
    the first purchase;

* **order value** (Gamma-Gamma, Fader, Hardie & Lee 2005): ``z ~ Gamma(shape p, rate
  nu_i)``, ``nu_i ~ Gamma(shape q, rate gamma)``, so the customer's mean order value is
  ``p / nu_i``. ``link`` < 1 mixes in a customer total drawn independently of how often
  and how long the customer buys, spread evenly over their orders: ``link = 0`` makes
  revenue unrelated to lifetime, ``link = 1`` is the pure Gamma-Gamma story;
* **costs**: goods at gross margin ``m_i`` (fixed, or ``Beta`` around ``margin``) plus a cost
  to serve each order ``c_i`` (fixed, or ``Gamma`` around ``cost_per_order``) make the
  ``cost`` of every order; a marketing cost per customer per period runs from the first
  purchase to the end of observation (the firm cannot see who has left);
* **categories** (optional): each customer's preferences over product categories are
  ``Dirichlet(category_concentration)`` and every order draws its category from them;
* **covariates** (optional): given per-customer values ``z_i`` and ``effects``, the rates
  are drawn from individual parameters as in Fader & Hardie's (2007) note on
  time-invariant covariates and :class:`crmlab.models.base.Covariates`:
  ``alpha_i = alpha exp(-g_purchase' z_i)`` (the mean purchase rate is multiplied by
  ``exp(g_purchase' z_i)``), ``beta_i = beta exp(-g_dropout' z_i)`` (Pareto/NBD),
  ``a_i = a exp(g_a' z_i)`` and ``b_i = b exp(g_b' z_i)`` (BG/NBD, MBG/NBD), and
  ``gamma_i = gamma exp(g_spend' z_i)`` (mean order value multiplied by
  ``exp(g_spend' z_i)``).

Purchase times are drawn without loops: given ``k`` events of a Poisson process on
``(0, L]``, their times are the order statistics of ``k`` uniforms, obtained as the
normalised cumulative sums of ``k + 1`` exponential spacings (Devroye 1986, ch. V.2).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from crmlab.errors import DataError
from crmlab.simulate.result import SimulatedData, check_count, check_fraction, check_positive
from crmlab.units import DAYS_PER_UNIT

MODELS = ("pareto_nbd", "bg_nbd", "mbg_nbd")


def retailer(
    n_customers: int = 10_000,
    *,
    model: str = "pareto_nbd",
    r: float = 0.55,
    alpha: float = 10.58,
    s: float = 0.61,
    beta: float = 11.67,
    a: float = 0.79,
    b: float = 2.43,
    p: float = 6.25,
    q: float = 3.74,
    gamma: float = 15.44,
    link: float = 1.0,
    margin: float = 0.3,
    margin_concentration: float | None = None,
    cost_per_order: float = 0.0,
    cost_per_order_shape: float | None = None,
    marketing_cost: float = 0.0,
    acquisition_periods: float | None = 12.0,
    horizon: float = 78.0,
    time_unit: str = "W",
    start: str = "1997-01-01",
    categories: int | Sequence[str] | None = None,
    category_concentration: float = 1.0,
    covariates: pd.DataFrame | None = None,
    effects: Mapping[str, Mapping[str, float]] | None = None,
    seed: int = 0,
) -> SimulatedData:
    """Simulate a retailer's transactions with each customer's true process beside them.

    The defaults are CDNOW-like: weekly rates at the published Pareto/NBD and Gamma-Gamma
    estimates, a 12-week acquisition cohort observed for 78 weeks.

    Parameters
    ----------
    n_customers : int
        Customers (each makes a first purchase).
    model : {"pareto_nbd", "bg_nbd", "mbg_nbd"}
        Dropout process (see the module docstring).
    r, alpha : float
        Gamma heterogeneity of purchase rates per ``time_unit`` (mean ``r / alpha``).
    s, beta : float
        Gamma heterogeneity of dropout rates (``"pareto_nbd"``; mean lifetime of a customer
        is ``1 / mu``).
    a, b : float
        Beta heterogeneity of the dropout probability (``"bg_nbd"``, ``"mbg_nbd"``).
    p, q, gamma : float
        Gamma-Gamma order values: population mean ``p * gamma / (q - 1)`` for ``q > 1``.
    link : float
        Share of each order value that follows Gamma-Gamma; the rest is an independent
        customer total spread over the customer's orders (see the module docstring).
    margin : float
        Gross margin on revenue (mean margin when ``margin_concentration`` is set).
    margin_concentration : float, optional
        If given, customers' margins are ``Beta(margin * c, (1 - margin) * c)``.
    cost_per_order : float
        Cost to serve one order (mean when ``cost_per_order_shape`` is set).
    cost_per_order_shape : float, optional
        If given, each customer's cost per order is Gamma with this shape and mean
        ``cost_per_order`` (shape 1 = exponential: a few customers are costly to serve).
    marketing_cost : float
        Cost per customer per ``time_unit`` from first purchase to the end of observation.
    acquisition_periods : float or None
        First purchases fall in the first ``acquisition_periods``; None = ongoing
        acquisition over the whole horizon.
    horizon : float
        Periods from ``start`` to the end of observation.
    time_unit : {"D", "W", "M", "Y"}
        Unit of rates and periods: day, week, month (365.25 / 12 days), year (365.25 days).
    start : str
        First day of the history.
    categories : int or sequence of str, optional
        Product categories (a number, or their names); adds a ``category`` column.
    category_concentration : float
        Dirichlet concentration of customers' category preferences (small = each customer
        sticks to few categories).
    covariates : DataFrame, optional
        Numeric covariates, one row per customer in order (``n_customers`` rows); copied
        into ``truth``. Draw them yourself with a seeded generator.
    effects : dict, optional
        Coefficients by group and covariate column, e.g. ``{"purchase": {"z": 0.5},
        "dropout": {"z": -0.3}}``; groups ``purchase``, ``dropout`` (Pareto/NBD), ``a``,
        ``b`` (BG/NBD, MBG/NBD) and ``spend`` (see the module docstring). Without
        covariates or with all effects 0 the draws are exactly those without them.
    seed : int
        Seed of ``numpy.random.default_rng``.

    Returns
    -------
    SimulatedData
        ``transactions``: ``customer_id, date, amount, cost`` (plus ``category``), sorted
        by customer and date. ``truth`` (index ``customer_id``): ``first_purchase``, ``T``,
        ``purchase_rate``, ``dropout_rate`` (Pareto/NBD) or ``dropout_probability``,
        ``lifetime`` (periods from first purchase to dropout), ``alive_at_end``,
        ``observed_lifetime`` (``min(lifetime, T)``), exact ``frequency`` (repeat
        purchases; same-day ones are not merged) and ``recency``, ``purchases``,
        ``mean_order_value`` (``p / nu``), ``margin``, ``cost_per_order``, ``revenue``,
        ``cost`` (goods and service), ``marketing_cost``, ``profit`` (plus
        ``favourite_category``). ``params``: the arguments and ``observation_end``, the
        first day not observed: passed as ``calibration_end`` to
        :func:`crmlab.rfm_summary` it gives each customer's ``T`` exactly.
    """
    n = check_count("n_customers", n_customers)
    if model not in MODELS:
        raise DataError(f"parameter 'model' is {model!r}; choose one of {', '.join(MODELS)}.")
    if time_unit not in DAYS_PER_UNIT:
        raise DataError(
            f"parameter 'time_unit' is {time_unit!r}; choose one of {', '.join(DAYS_PER_UNIT)}."
        )
    check_positive(r=r, alpha=alpha, p=p, q=q, gamma=gamma, horizon=horizon)
    if model == "pareto_nbd":
        check_positive(s=s, beta=beta)
    else:
        check_positive(a=a, b=b)
    check_fraction(link=link, margin=margin)
    if cost_per_order < 0 or marketing_cost < 0:
        raise DataError("parameters 'cost_per_order' and 'marketing_cost' must be >= 0.")
    unit_days = DAYS_PER_UNIT[time_unit]
    window = horizon if acquisition_periods is None else acquisition_periods
    if not 0 < window <= horizon:
        raise DataError(
            f"parameter 'acquisition_periods' is {acquisition_periods!r}; give a number in "
            f"(0, horizon={horizon!r}], or None for acquisition over the whole horizon."
        )
    mult = _covariate_multipliers(covariates, effects, model, n)
    alpha_i, beta_i = alpha * mult["purchase"], beta * mult["dropout"]
    a_i, b_i, gamma_i = a * mult["a"], b * mult["b"], gamma * mult["spend"]
    rng = np.random.default_rng(seed)

    # first purchase on a whole day; observed until the horizon (a whole day too)
    horizon_days = max(int(np.floor(horizon * unit_days)), 1)
    window_days = min(max(int(np.floor(window * unit_days)), 1), horizon_days)
    arrival_day = rng.integers(0, window_days, n)
    T = (horizon_days - arrival_day) / unit_days
    lam = rng.gamma(r, 1.0 / alpha_i, n)

    # repeat purchases and lifetimes
    if model == "pareto_nbd":
        dropout = rng.gamma(s, 1.0 / beta_i, n)
        lifetime = rng.exponential(1.0 / np.maximum(dropout, 1e-300))
        span = np.minimum(lifetime, T)
        x = rng.poisson(lam * span)
        rest = rng.exponential(1.0, n)  # the (x + 1)-th spacing of x uniforms on (0, span]
    else:
        dropout = rng.beta(a_i, b_i, n)
        n_events = rng.poisson(lam * T)  # purchase opportunities if nobody ever left
        leave_after = rng.geometric(np.maximum(dropout, 1e-12))  # repeat purchase count
        if model == "mbg_nbd":
            leave_after = leave_after - 1  # may also leave right after the first purchase
        x = np.minimum(n_events, leave_after)
        span = T
        rest = rng.gamma(n_events - x + 1.0)  # the x kept are the first of n_events on (0, T]
    times, owner_rep = _sorted_uniform_times(rng, x, span, rest)
    if model != "pareto_nbd":
        last = np.zeros(n)
        has = x > 0
        last[has] = times[np.cumsum(x)[has] - 1]
        left = leave_after <= n_events
        extra = np.maximum(leave_after - n_events, 1).astype(float)
        lifetime = np.where(left, last, T + rng.gamma(extra, 1.0 / np.maximum(lam, 1e-300)))

    # one row per purchase: first purchases then repeats, grouped by customer
    counts = x + 1
    owner = np.repeat(np.arange(n), counts)
    starts = np.cumsum(counts) - counts
    t_rel = np.zeros(owner.size)
    repeat_pos = np.ones(owner.size, dtype=bool)
    repeat_pos[starts] = False
    t_rel[repeat_pos] = times
    recency = np.zeros(n)
    recency[x > 0] = t_rel[(starts + x)[x > 0]]

    # spend
    nu = rng.gamma(q, 1.0 / gamma_i, n)
    linked = rng.gamma(p, 1.0 / nu[owner])
    if link < 1.0:
        linked_total = np.bincount(owner, weights=linked, minlength=n)
        independent = rng.gamma(2.0, linked_total.mean() / 2.0, n) / counts
        linked = link * linked + (1.0 - link) * independent[owner]
    amount = np.round(linked, 2)

    # costs
    if margin_concentration is None:
        margin_i = np.full(n, float(margin))
    else:
        check_positive(margin_concentration=margin_concentration)
        margin_i = rng.beta(margin * margin_concentration, (1 - margin) * margin_concentration, n)
    if cost_per_order_shape is None or cost_per_order == 0:
        serve = np.full(n, float(cost_per_order))
    else:
        check_positive(cost_per_order_shape=cost_per_order_shape)
        serve = rng.gamma(cost_per_order_shape, cost_per_order / cost_per_order_shape, n)
    cost = np.round((1.0 - margin_i[owner]) * amount + serve[owner], 2)

    origin = np.datetime64(pd.Timestamp(start).date(), "D")
    days = arrival_day[owner] + np.floor(t_rel * unit_days).astype(np.int64)
    np.minimum(days, horizon_days - 1, out=days)  # a time a hair below T stays inside
    ids = np.arange(1, n + 1)
    columns = {
        "customer_id": ids[owner],
        "date": (origin + days.astype("timedelta64[D]")).astype("datetime64[ns]"),
        "amount": amount,
        "cost": cost,
    }
    truth_extra = {}
    if categories is not None:
        names = _category_names(categories)
        check_positive(category_concentration=category_concentration)
        pick, favourite = _draw_categories(rng, owner, n, len(names), category_concentration)
        columns["category"] = pd.Categorical.from_codes(pick, categories=names)
        truth_extra["favourite_category"] = pd.Categorical.from_codes(favourite, categories=names)
    transactions = pd.DataFrame(columns)

    revenue = np.bincount(owner, weights=amount, minlength=n)
    total_cost = np.bincount(owner, weights=cost, minlength=n)
    marketing = marketing_cost * T
    truth = pd.DataFrame(
        {
            "first_purchase": (origin + arrival_day.astype("timedelta64[D]")).astype(
                "datetime64[ns]"
            ),
            "T": T,
            "purchase_rate": lam,
            ("dropout_rate" if model == "pareto_nbd" else "dropout_probability"): dropout,
            "lifetime": lifetime,
            "alive_at_end": lifetime > T,
            "observed_lifetime": np.minimum(lifetime, T),
            "frequency": x,
            "recency": recency,
            "purchases": counts,
            "mean_order_value": p / nu,
            "margin": margin_i,
            "cost_per_order": serve,
            "revenue": revenue,
            "cost": total_cost,
            "marketing_cost": marketing,
            "profit": revenue - total_cost - marketing,
            **truth_extra,
        },
        index=pd.Index(ids, name="customer_id"),
    )
    if covariates is not None:
        for column in covariates.columns:
            truth[column] = covariates[column].to_numpy()
    params = {
        "n_customers": n,
        "model": model,
        "r": r,
        "alpha": alpha,
        **({"s": s, "beta": beta} if model == "pareto_nbd" else {"a": a, "b": b}),
        "p": p,
        "q": q,
        "gamma": gamma,
        "link": link,
        "margin": margin,
        "margin_concentration": margin_concentration,
        "cost_per_order": cost_per_order,
        "cost_per_order_shape": cost_per_order_shape,
        "marketing_cost": marketing_cost,
        "acquisition_periods": acquisition_periods,
        "horizon": horizon,
        "time_unit": time_unit,
        "start": start,
        "categories": None if categories is None else list(_category_names(categories)),
        "category_concentration": category_concentration,
        "effects": None if effects is None else {g: dict(e) for g, e in effects.items()},
        "seed": seed,
        "observation_end": pd.Timestamp(origin) + pd.Timedelta(days=horizon_days),
    }
    return SimulatedData({"transactions": transactions}, truth, params)


EFFECT_GROUPS = {
    "pareto_nbd": ("purchase", "dropout", "spend"),
    "bg_nbd": ("purchase", "a", "b", "spend"),
    "mbg_nbd": ("purchase", "a", "b", "spend"),
}
SIGNS = {"purchase": -1.0, "dropout": -1.0, "a": 1.0, "b": 1.0, "spend": 1.0}


def _covariate_multipliers(
    covariates: pd.DataFrame | None,
    effects: Mapping[str, Mapping[str, float]] | None,
    model: str,
    n: int,
) -> dict[str, np.ndarray]:
    """``exp(sign * g' z_i)`` per parameter group (ones without covariates)."""
    out = {group: np.ones(n) for group in SIGNS}
    if covariates is None:
        if effects:
            raise DataError("effects need covariates: give a frame of per-customer values.")
        return out
    if not isinstance(covariates, pd.DataFrame) or len(covariates) != n:
        raise DataError(
            f"covariates must be a DataFrame with one row per customer ({n:,} rows); got a "
            f"{type(covariates).__name__} of length {getattr(covariates, 'shape', ['?'])[0]}."
        )
    for group, coefs in (effects or {}).items():
        if group not in EFFECT_GROUPS[model]:
            raise DataError(
                f"effects group {group!r} does not apply to {model}; use "
                f"{', '.join(EFFECT_GROUPS[model])}."
            )
        eta = np.zeros(n)
        for column, coef in coefs.items():
            if column not in covariates.columns:
                raise DataError(f"effect on {column!r}, which is not a covariate column.")
            values = pd.to_numeric(covariates[column], errors="coerce").to_numpy(dtype=float)
            if not np.all(np.isfinite(values)):
                raise DataError(f"covariate {column!r} has values that are not finite numbers.")
            eta += float(coef) * values
        out[group] = np.exp(SIGNS[group] * eta)
    return out


def _sorted_uniform_times(
    rng: np.random.Generator, x: np.ndarray, span: np.ndarray, rest: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For each customer ``i``, ``x[i]`` increasing times in ``(0, span[i]]``.

    The ``k``-th time is ``span * S_k / (S_x + rest)`` with ``S_k`` the sum of ``k`` unit
    exponentials: with ``rest ~ Gamma(1)`` these are the order statistics of ``x`` uniforms,
    with ``rest ~ Gamma(m - x + 1)`` the first ``x`` of ``m`` uniforms. Returns the times
    (customers in order) and each time's customer.
    """
    owner = np.repeat(np.arange(x.size), x)
    steps = rng.exponential(1.0, owner.size)
    sums = np.cumsum(steps)
    ends = np.cumsum(x)
    before = np.concatenate([[0.0], sums])[ends - x]  # cumulative sum before each customer
    within = sums - before[owner]
    total = within[ends[x > 0] - 1]
    scale = np.zeros(x.size)
    scale[x > 0] = span[x > 0] / (total + rest[x > 0])
    return within * scale[owner], owner


def _category_names(categories: int | Sequence[str]) -> list[str]:
    if isinstance(categories, int | np.integer):
        count = check_count("categories", categories)
        return [f"category {i + 1}" for i in range(count)]
    names = [str(c) for c in categories]
    if not names or len(set(names)) != len(names):
        raise DataError(f"parameter 'categories' is {categories!r}; give distinct names.")
    return names


def _draw_categories(
    rng: np.random.Generator, owner: np.ndarray, n: int, k: int, concentration: float
) -> tuple[np.ndarray, np.ndarray]:
    """Category code of every order from its customer's Dirichlet preferences."""
    prefs = rng.dirichlet(np.full(k, concentration), n)
    cum = np.cumsum(prefs, axis=1)
    cum[:, -1] = 1.0
    # row i's cumulative shares shifted by i, so one search places every order
    flat = (cum + np.arange(n)[:, None]).ravel()
    u = rng.random(owner.size)
    pick = np.searchsorted(flat, owner + u, side="right") - owner * k
    return np.minimum(pick, k - 1).astype(np.int8 if k < 128 else np.int32), prefs.argmax(axis=1)
