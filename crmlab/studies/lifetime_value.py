"""Customer lifetime value under every buy-till-you-die model (notebook 04).

The study behind ``04_customer_lifetime_value``, one cohort, a calibration period
the models learn from and a holdout that tests them:

1. fit every continuous-time model (Pareto/NBD, Schmittlein, Morrison & Colombo 1987;
   BG/NBD, Fader, Hardie & Lee 2005; MBG/NBD, Batislam, Denizel & Filiztekin 2007) and
   the Gamma-Gamma spend model (Fader, Hardie & Lee 2005, *JMR* 42(4));
2. compare them on both criteria, in-sample fit (log-likelihood, AIC, BIC) and holdout
   accuracy (total purchases forecast against made, per-customer MAE/RMSE), and choose
   by a stated rule (:func:`choose_model`): the model that forecasts the holdout best
   is used for forecasts and CLV, whatever BIC prefers;
3. measure how far the forecasts fall short of the holdout and where (by month);
4. compute P(alive) and CLV under every model side by side (model uncertainty), and
   the chosen model's intervals from parameter uncertainty where the model API
   gives them;
5. find the "students at the bank" (Blattberg, Kim & Neslin 2008, *Database
   Marketing*, ch. 5): customers who brought little so far but rank high on CLV, with
   the share of customers and of CLV they hold;
6. state the findings (:func:`lifetime_value_findings`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from crmlab import units
from crmlab.errors import DataError, require_columns
from crmlab.models import BGNBD, MBGNBD, GammaGamma, ParetoNBD
from crmlab.models import comparison as _comparison
from crmlab.models import customer_value as _customer_value
from crmlab.models import diagnostics as _diagnostics
from crmlab.reports import Finding

#: The continuous-time transaction models the study fits, in the order it reports them.
MODELS: dict[str, type] = {"Pareto/NBD": ParetoNBD, "BG/NBD": BGNBD, "MBG/NBD": MBGNBD}

#: How the study chooses, in words (printed by the notebook and used in the findings).
CHOICE_RULE = (
    "forecasts and CLV use the model whose total holdout forecast is closest to the "
    "purchases made (smallest absolute % error); BIC is reported as the in-sample criterion"
)


def slug(name: str) -> str:
    """``"Pareto/NBD"`` -> ``"pareto_nbd"``: a model name as a column or field suffix."""
    return re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_")


# --------------------------------------------------------------------------- fitting


def _fit_each(
    summary: pd.DataFrame, names: Sequence[str] | None, label: Any, **options: Any
) -> tuple[dict[str, Any], dict[str, str]]:
    """Fit each model of ``names`` (default: all of :data:`MODELS`) with ``options``:
    fits and reasons for failures, both keyed by ``label(name)``."""
    names = list(MODELS) if names is None else list(names)
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        raise DataError(f"unknown model {unknown[0]!r}; choose among {', '.join(MODELS)}.")
    fits: dict[str, Any] = {}
    failed: dict[str, str] = {}
    for name in names:
        try:
            fits[label(name)] = MODELS[name]().fit(summary, **options)
        except DataError as exc:
            failed[label(name)] = str(exc)
    return fits, failed


def fit_models(
    summary: pd.DataFrame, names: Sequence[str] | None = None
) -> tuple[dict[str, Any], dict[str, str]]:
    """Fit every transaction model in ``names`` (default: all of :data:`MODELS`).

    A model the data cannot identify (``IdentificationError`` or any other
    :class:`DataError` from its fit) is not dropped silently: it is returned in the
    second mapping with the reason, for the report to state.

    Returns
    -------
    fits, failed : dict, dict
        Model name -> fitted result; model name -> why it could not be fitted.
    """
    fits, failed = _fit_each(summary, names, str)
    if not fits:
        reasons = "; ".join(f"{k}: {v}" for k, v in failed.items())
        raise DataError(f"no transaction model could be fitted to these data ({reasons}).")
    return fits, failed


# ----------------------------------------------------------------- model comparison


@dataclass(frozen=True)
class ModelChoice:
    """Which model each criterion prefers, and which one the study uses.

    ``in_sample`` has the lowest BIC; ``forecast`` the smallest absolute error of the
    total holdout forecast; ``per_customer`` the lowest per-customer MAE. The study
    uses ``forecast`` for every forecast and CLV (:data:`CHOICE_RULE`).
    """

    in_sample: str
    forecast: str
    per_customer: str
    rule: str = CHOICE_RULE

    @property
    def used(self) -> str:
        """The model used for forecasts, P(alive) pictures and CLV."""
        return self.forecast

    @property
    def agree(self) -> bool:
        """Whether BIC and the holdout pick the same model."""
        return self.in_sample == self.forecast


def choose_model(table: pd.DataFrame) -> ModelChoice:
    """Apply :data:`CHOICE_RULE` to a :func:`model_comparison` table.

    Ties are broken by the table's order. A holdout without purchases (error
    undefined) falls back to the per-customer MAE for the forecast choice.
    """
    require_columns(table, ["bic", "holdout_error_pct", "mae"], "choose_model")
    if table.empty:
        raise DataError("choose_model got an empty comparison table.")
    error = table["holdout_error_pct"].abs()
    forecast = str(error.idxmin()) if error.notna().any() else str(table["mae"].idxmin())
    return ModelChoice(
        in_sample=str(table["bic"].idxmin()),
        forecast=forecast,
        per_customer=str(table["mae"].idxmin()),
    )


def model_comparison(fits: Mapping[str, Any], summary: pd.DataFrame) -> pd.DataFrame:
    """One table, every fitted model, both criteria.

    The columns of :func:`crmlab.models.comparison.compare_models` (parameters,
    log-likelihood, AIC, BIC, holdout purchases made and forecast, % error, MAE and
    RMSE of the per-customer conditional forecasts) plus ``delta_bic`` (BIC minus the
    lowest BIC), ``rank_bic`` and ``rank_holdout`` (1 = best; the holdout rank orders
    the absolute % error) and ``used_for``: what the study uses the model for.
    """
    table = _comparison.compare_models(fits, summary)
    table["delta_bic"] = table["bic"] - table["bic"].min()
    table["rank_bic"] = table["bic"].rank(method="min").astype(int)
    table["rank_holdout"] = table["holdout_error_pct"].abs().rank(method="min").astype(int)
    choice = choose_model(table)
    used = []
    for name in table.index:
        roles = []
        if name == choice.in_sample:
            roles.append("best in-sample fit (lowest BIC)")
        if name == choice.forecast:
            roles.append("forecasts and CLV (closest holdout forecast)")
        used.append("; ".join(roles) or "comparison only")
    table["used_for"] = used
    return table


def estimates_table(fits: Mapping[str, Any]) -> pd.DataFrame:
    """Each model's estimates with standard errors in brackets, one row per model.

    Values are strings "estimate (standard error)" to 3 and 2 significant digits;
    a parameter a model does not have is empty.
    """
    rows = {
        name: {k: f"{v:.3g} ({fit.bse[k]:.2g})" for k, v in fit.params.items()}
        for name, fit in fits.items()
    }
    return pd.DataFrame.from_dict(rows, orient="index").fillna("")


def frequency_fit_by_model(
    fits: Mapping[str, Any], summary: pd.DataFrame, *, max_frequency: int = 7
) -> pd.DataFrame:
    """Customers by repeat purchases in calibration: observed and expected under every model.

    Columns ``frequency``, ``observed`` and one column of expected customers per model
    (:func:`crmlab.models.diagnostics.frequency_fit`).
    """
    table = None
    for name, fit in fits.items():
        one = _diagnostics.frequency_fit(fit, summary, max_frequency=max_frequency)
        if table is None:
            table = one[["frequency", "observed"]].copy()
        table[name] = one["expected"].to_numpy()
    if table is None:
        raise DataError("frequency_fit_by_model needs at least one fitted model.")
    return table


def conditional_by_model(
    fits: Mapping[str, Any], summary: pd.DataFrame, *, max_frequency: int = 7
) -> pd.DataFrame:
    """Mean holdout purchases by calibration frequency, actual and under every model.

    Columns ``frequency``, ``customers``, ``actual_holdout`` and ``expected_holdout_<name>``
    per model (:func:`crmlab.models.diagnostics.conditional_expectations`).
    """
    table = None
    for name, fit in fits.items():
        one = _diagnostics.conditional_expectations(fit, summary, max_frequency=max_frequency)
        if table is None:
            table = one[["frequency", "customers", "actual_holdout"]].copy()
        table[f"expected_holdout_{name}"] = one["expected_holdout"].to_numpy()
    if table is None:
        raise DataError("conditional_by_model needs at least one fitted model.")
    return table


# ------------------------------------------------------------------------ tracking


def actual_by_period(repeat_days: pd.DataFrame, summary: pd.DataFrame, periods: int) -> np.ndarray:
    """The cohort's repeat purchases per tracking period, from counts per calendar day.

    ``repeat_days`` has ``day`` (a date) and ``purchases`` (repeat occasions of the
    customers of ``summary`` that day, as an engine counts them). Period k holds the
    days [(k - 1) u, k u) after the earliest first purchase, u days per time unit, as
    in :func:`crmlab.models.diagnostics.tracking`; days beyond ``periods`` are refused.
    """
    from crmlab.summary import UNITS

    require_columns(repeat_days, ["day", "purchases"], "actual_by_period")
    unit = UNITS[summary.attrs.get("time_unit", "W")]
    start = pd.to_datetime(summary["first_purchase"]).min()
    offset = (pd.to_datetime(repeat_days["day"]) - start).dt.days.to_numpy()
    period = np.floor(offset / unit).astype(int)
    outside = (period < 0) | (period >= periods)
    if outside.any():
        raise DataError(
            f"{int(outside.sum()):,} days of repeat purchases lie outside the tracking window "
            f"(first {pd.Timestamp(repeat_days['day'].iloc[int(np.argmax(outside))]):%Y-%m-%d});"
            " count them for the customers of the summary up to observation_end."
        )
    counts = repeat_days["purchases"].to_numpy(dtype=float)
    return np.bincount(period, weights=counts, minlength=periods).astype(float)


def tracking_by_model(
    fits: Mapping[str, Any],
    transactions: pd.DataFrame | None,
    *,
    summary: pd.DataFrame,
    calibration_end: Any,
    observation_end: Any,
    repeat_days: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Weekly repeat purchases of the cohort, actual and expected under every model.

    Columns ``period``, ``date``, ``holdout``, ``actual``, ``cumulative_actual`` and,
    per model, ``expected_<name>`` and ``cumulative_expected_<name>`` (name as in
    ``fits``, e.g. ``expected_BG/NBD``); ``attrs["calibration_end"]`` is the boundary
    on the period axis (see :func:`crmlab.models.diagnostics.tracking`). Where the
    transactions stay in an engine, ``repeat_days`` (repeat purchases per day, see
    :func:`actual_by_period`) gives the actual counts instead of ``transactions``.
    """
    if not fits:
        raise DataError("tracking_by_model needs at least one fitted model.")
    if transactions is None and repeat_days is None:
        raise DataError("tracking_by_model needs the transactions or their repeat_days.")
    log = transactions
    if repeat_days is not None:  # the expected counts need no transactions
        log = pd.DataFrame({"customer_id": summary.index[:0], "date": pd.to_datetime([])})
    table = None
    for name, fit in fits.items():
        one = _diagnostics.tracking(
            fit,
            log,
            summary=summary,
            calibration_end=calibration_end,
            observation_end=observation_end,
        )
        if table is None:
            table = one[["period", "date", "holdout", "actual", "cumulative_actual"]].copy()
            table.attrs.update(one.attrs)
        table[f"expected_{name}"] = one["expected"].to_numpy()
        table[f"cumulative_expected_{name}"] = one["cumulative_expected"].to_numpy()
    if repeat_days is not None:
        actual = actual_by_period(repeat_days, summary, len(table))
        table["actual"] = actual
        table["cumulative_actual"] = actual.cumsum()
    return table


def holdout_gap_by_month(track: pd.DataFrame, model: str) -> pd.DataFrame:
    """Where in the holdout a model's forecast falls short: actual minus expected by month.

    Periods are assigned to the calendar month of their first day (``date``); only
    holdout periods count. ``share_of_gap`` is the month's gap over the whole holdout
    gap (months where the model over-forecasts have a negative share, so shares add
    to 1); ``ratio`` = actual / expected.

    Returns
    -------
    DataFrame
        Index ``month`` (a ``YYYY-MM`` string); columns ``actual``, ``expected``,
        ``gap``, ``ratio``, ``share_of_gap``.
    """
    column = f"expected_{model}"
    require_columns(track, ["date", "holdout", "actual", column], "holdout_gap_by_month")
    hold = track[track["holdout"].astype(bool)]
    if hold.empty:
        raise DataError("the tracking table has no holdout periods (column 'holdout').")
    month = pd.to_datetime(hold["date"]).dt.strftime("%Y-%m")
    frame = (
        pd.DataFrame({"month": month, "actual": hold["actual"], "expected": hold[column]})
        .groupby("month")[["actual", "expected"]]
        .sum()
    )
    frame["gap"] = frame["actual"] - frame["expected"]
    frame["ratio"] = frame["actual"] / frame["expected"]
    total = frame["gap"].sum()
    frame["share_of_gap"] = frame["gap"] / total if total != 0 else np.nan
    return frame


# ------------------------------------------------------------------ value by model


def discounting(
    summary: pd.DataFrame, annual_discount_rate: float, horizon_years: float
) -> tuple[str, float, float]:
    """The summary's time unit, the discount rate per unit and the horizon in units.

    ``crmlab.units.rate_per_period`` (compounded, 10% a year is 0.183% a week) and
    ``crmlab.units.convert`` (10 years = 521.8 weeks).
    """
    unit = str(summary.attrs.get("time_unit", "W"))
    if not (np.isfinite(horizon_years) and horizon_years > 0):
        raise DataError(f"horizon_years={horizon_years!r} must be a positive number of years.")
    rate = units.rate_per_period(annual_discount_rate, unit)
    return unit, rate, units.convert(horizon_years, "Y", unit)


def _clv_frame(
    fit: Any,
    summary: pd.DataFrame,
    spend: Any,
    *,
    margin: float,
    rate: float,
    horizon: float,
    level: float | None,
    draws: int = 500,
    seed: int = 0,
) -> tuple[pd.DataFrame, tuple[float, float] | None]:
    """``clv`` (and ``lower``/``upper`` when ``level`` is given) for one model."""
    kwargs: dict[str, Any] = {"spend": spend, "margin": margin, "discount_rate": rate}
    if level is None:
        values = fit.clv(summary, horizon=horizon, **kwargs)
        return pd.DataFrame({"clv": np.asarray(values, dtype=float)}, index=summary.index), None
    frame = fit.clv(summary, horizon=horizon, level=level, draws=draws, seed=seed, **kwargs)
    total = frame.attrs["total"]
    return frame[["clv", "lower", "upper"]], (float(total["lower"]), float(total["upper"]))


def clv_by_model(
    fits: Mapping[str, Any],
    summary: pd.DataFrame,
    spend: pd.Series,
    *,
    margin: float,
    annual_discount_rate: float,
    horizon_years: float,
    level: float | None = None,
    draws: int = 500,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    r"""P(alive) and CLV of every customer under every model, and the totals per model.

    CLV is the fitted model's ``clv``: margin x expected spend per purchase x the
    discounted expected purchases over the horizon,
    :math:`m\,\bar s_i \sum_k \Delta E[X_i(k)]/(1+d)^k`, with ``d`` the period rate
    equivalent to ``annual_discount_rate`` (:func:`discounting`). ``spend`` is a Series
    of expected spend per purchase matched by customer id, or a fitted Gamma-Gamma
    result (then its parameter uncertainty enters the intervals too). With ``level``,
    intervals come from ``draws`` parameter draws (seeded by ``seed``) of each model's
    ``clv(..., level=...)``: per customer and, from the same draws, for the total.

    Returns
    -------
    per_customer : DataFrame
        Index as ``summary``; ``clv_<slug>`` and ``p_alive_<slug>`` per model
        (``slug("Pareto/NBD") == "pareto_nbd"``), with ``level`` also ``lower_<slug>``
        and ``upper_<slug>``.
    totals : DataFrame
        Index ``model``; ``total_clv``, ``lower`` and ``upper`` (interval of the total
        from parameter uncertainty at ``level``; NaN without ``level``), ``mean_clv``,
        ``share_alive`` (share of customers with P(alive) > 0.5), ``mean_p_alive``,
        ``p_alive_one_time`` (mean P(alive) of customers without a repeat purchase;
        NaN if there are none) and ``one_time_share``.
    """
    require_columns(summary, ["frequency", "recency", "T"], "clv_by_model")
    _, rate, horizon = discounting(summary, annual_discount_rate, horizon_years)
    one_time = summary["frequency"].to_numpy() == 0
    per_customer = pd.DataFrame(index=summary.index)
    rows = {}
    for name, fit in fits.items():
        values, total = _clv_frame(
            fit,
            summary,
            spend,
            margin=margin,
            rate=rate,
            horizon=horizon,
            level=level,
            draws=draws,
            seed=seed,
        )
        alive = np.asarray(fit.probability_alive(summary), dtype=float)
        per_customer[f"clv_{slug(name)}"] = values["clv"].to_numpy()
        if level is not None:
            per_customer[f"lower_{slug(name)}"] = values["lower"].to_numpy()
            per_customer[f"upper_{slug(name)}"] = values["upper"].to_numpy()
        per_customer[f"p_alive_{slug(name)}"] = alive
        rows[name] = {
            "total_clv": float(values["clv"].sum()),
            "lower": total[0] if total else np.nan,
            "upper": total[1] if total else np.nan,
            "mean_clv": float(values["clv"].mean()),
            "share_alive": float(np.mean(alive > 0.5)),
            "mean_p_alive": float(alive.mean()),
            "p_alive_one_time": float(alive[one_time].mean()) if one_time.any() else np.nan,
            "one_time_share": float(one_time.mean()),
        }
    totals = pd.DataFrame.from_dict(rows, orient="index")
    totals.index.name = "model"
    return per_customer, totals


# ------------------------------------------------------ retention versus acquisition


def first_purchase_amount(transactions: pd.DataFrame, summary: pd.DataFrame) -> pd.Series:
    """What each customer of ``summary`` spent on the day of their first purchase.

    :func:`crmlab.rfm_summary` counts several purchases on one day as one, so the first
    purchase is the sum of the ``amount`` on the day in ``summary["first_purchase"]``
    (the customer's first day in ``transactions``). Index as ``summary``; name
    ``first_amount``.

    Raises
    ------
    DataError
        When a customer of ``summary`` has no transaction on that day (the summary was
        built from other transactions).
    """
    require_columns(transactions, ["customer_id", "date", "amount"], "first_purchase_amount")
    require_columns(summary, ["first_purchase"], "first_purchase_amount")
    mine = transactions[transactions["customer_id"].isin(summary.index)]
    day = pd.to_datetime(mine["date"]).dt.normalize()
    first = pd.to_datetime(summary["first_purchase"]).dt.normalize()
    on_first = day.to_numpy() == first.reindex(mine["customer_id"]).to_numpy()
    amount = mine.loc[on_first].groupby("customer_id")["amount"].sum()
    missing = summary.index.difference(amount.index)
    if len(missing):
        raise DataError(
            f"{len(missing):,} customers of the summary have no transaction on their "
            f"first_purchase day (first {missing[0]!r}); build the summary from these "
            "transactions with crmlab.rfm_summary."
        )
    return amount.reindex(summary.index).astype(float).rename("first_amount")


def new_customer_clv(study: LifetimeValueStudy, first_amount: pd.Series) -> tuple[float, float]:
    r"""What a newly won customer of this cohort is worth, at the study's assumptions.

    The margin on an average first purchase (mean of ``first_amount``, not discounted: it
    is made when the customer is won) plus the CLV of the repeat purchases of a customer
    just acquired (:math:`x = t_x = T = 0`) under the used model, at the Gamma-Gamma
    population mean spend per purchase, discounted over the study's horizon:
    :math:`m\,\bar a + m\,E[S] \sum_k \Delta E[X(k)]/(1+d)^k` with :math:`E[X(t)]` the
    expected purchases of a new customer. Assumes new customers resemble this cohort.

    Returns
    -------
    first_margin, repeat_clv : float
        The two parts; their sum is the new customer's CLV.
    """
    settings = study.settings
    if first_amount.isna().any() or len(first_amount) == 0:
        raise DataError("first_amount needs one amount per customer, none missing.")
    _, rate, horizon = discounting(
        study.summary, settings["annual_discount_rate"], settings["horizon_years"]
    )
    new = pd.DataFrame({"frequency": [0.0], "recency": [0.0], "T": [0.0]}, index=["new"])
    repeat = study.model.clv(
        new,
        spend=float(study.spend_fit.mean_spend),
        margin=settings["margin"],
        discount_rate=rate,
        horizon=horizon,
    )
    first_margin = float(settings["margin"] * first_amount.mean())
    return first_margin, float(np.asarray(repeat, dtype=float)[0])


@dataclass(frozen=True)
class RetentionVersusAcquisition:
    """What keeping a customer is worth against winning a new one (see
    :func:`retention_versus_acquisition`).

    ``active_*``: customers with P(alive) > 0.5 under the used model, the ones a firm
    still has to keep; ``new_*``: a newly won customer; ``top_*``: the top ``top_share``
    of customers by CLV, the ones a cherry-picking competitor would take.
    """

    acquisition_cost: float
    new_first_margin: float
    new_repeat_clv: float
    active_customers: int
    active_mean_clv: float
    top_share: float
    top_customers: int
    top_clv: float
    top_share_clv: float

    @property
    def new_clv(self) -> float:
        """A new customer's CLV: the first purchase's margin plus the repeat purchases'."""
        return self.new_first_margin + self.new_repeat_clv

    @property
    def new_net(self) -> float:
        """A new customer's CLV minus what winning them costs."""
        return self.new_clv - self.acquisition_cost

    @property
    def pays_back(self) -> bool:
        """Whether winning a new customer is worth its cost (``new_net > 0``)."""
        return self.new_net > 0

    @property
    def breakeven_cost(self) -> float:
        """The most a new customer is worth winning at: their CLV."""
        return self.new_clv

    @property
    def active_to_new(self) -> float:
        """An active customer's mean CLV over a new customer's (both before any cost)."""
        return self.active_mean_clv / self.new_clv

    @property
    def replace_one(self) -> float:
        """New customers (net of acquisition cost) whose value equals one active
        customer's CLV; infinite when a new customer does not pay back."""
        return self.active_mean_clv / self.new_net if self.pays_back else np.inf

    @property
    def replace_top(self) -> float:
        """New customers (net of acquisition cost) whose value equals the top group's CLV."""
        return self.top_clv / self.new_net if self.pays_back else np.inf

    @property
    def replace_top_cost(self) -> float:
        """What winning :attr:`replace_top` new customers costs."""
        return self.replace_top * self.acquisition_cost

    def table(self) -> pd.DataFrame:
        """The comparison as a two-column table (``quantity``, ``value``) for a report."""
        rows = [
            ("margin on a new customer's first purchase ($)", self.new_first_margin),
            ("CLV of a new customer's repeat purchases ($)", self.new_repeat_clv),
            ("CLV of a new customer ($)", self.new_clv),
            ("assumed acquisition cost ($)", self.acquisition_cost),
            ("new customer's CLV minus acquisition cost ($)", self.new_net),
            ("active customers (P(alive) > 0.5)", self.active_customers),
            ("mean CLV of an active customer ($)", self.active_mean_clv),
            ("active customer's CLV / new customer's CLV", self.active_to_new),
            ("new customers to replace one active customer", self.replace_one),
            (f"top {self.top_share:.0%} of customers by CLV", self.top_customers),
            ("their CLV ($)", self.top_clv),
            ("their share of total CLV", self.top_share_clv),
            ("new customers to replace them", self.replace_top),
            ("acquisition cost of those new customers ($)", self.replace_top_cost),
        ]
        return pd.DataFrame(rows, columns=["quantity", "value"]).set_index("quantity")


def retention_versus_acquisition(
    study: LifetimeValueStudy,
    first_amount: pd.Series,
    *,
    acquisition_cost: float,
    top_share: float = 0.05,
) -> RetentionVersusAcquisition:
    """Keeping a customer against winning a new one, in CLV terms (Peppers & Rogers).

    The source's claim is that keeping a customer costs less than winning a new one, and
    that a firm is exposed to competitors who pick off its best customers. With the
    fitted model: a newly won customer is worth :func:`new_customer_clv` minus
    ``acquisition_cost``; a customer the firm has (P(alive) > 0.5 under the used model)
    is worth their CLV with no acquisition cost left to pay; replacing one of them (or
    the top ``top_share`` by CLV, a cherry-picker's catch) takes ``CLV / (new CLV - cost)``
    new customers. The acquisition cost is an assumption of the analyst.

    Parameters
    ----------
    study : LifetimeValueStudy
        The fitted study (used model, spend model, margin, discount rate, horizon).
    first_amount : Series
        Each customer's first purchase (:func:`first_purchase_amount`).
    acquisition_cost : float
        Cost of winning one new customer, >= 0, in the currency of the amounts.
    top_share : float
        The share of customers by CLV a competitor takes.
    """
    if not (np.isfinite(acquisition_cost) and acquisition_cost >= 0):
        raise DataError(f"acquisition_cost={acquisition_cost!r} must be a number >= 0.")
    if not 0 < top_share < 1:
        raise DataError(f"top_share must be a share between 0 and 1, got {top_share!r}.")
    first_margin, repeat = new_customer_clv(study, first_amount)
    clv = study.customers["clv"].astype(float)
    alive = study.customers["p_alive"].astype(float) > 0.5
    n_top = max(1, int(round(top_share * len(clv))))
    top = clv.nlargest(n_top)
    total = float(clv.sum())
    return RetentionVersusAcquisition(
        acquisition_cost=float(acquisition_cost),
        new_first_margin=first_margin,
        new_repeat_clv=repeat,
        active_customers=int(alive.sum()),
        active_mean_clv=float(clv[alive].mean()) if alive.any() else np.nan,
        top_share=float(top_share),
        top_customers=n_top,
        top_clv=float(top.sum()),
        top_share_clv=float(top.sum() / total) if total else np.nan,
    )


# ------------------------------------------------------------- covariates (research)

#: The first-purchase covariate's column in the summary (:func:`first_purchase_size`).
FIRST_SIZE = "first_size"


def first_purchase_size(first_amount: pd.Series, *, step: float = 0.5) -> pd.Series:
    r"""The size of each customer's first purchase as a covariate: doublings from the median.

    :math:`z_i = \log_2\big((1 + a_i) / (1 + \tilde a)\big)` with :math:`a_i` the first
    purchase (:func:`first_purchase_amount`) and :math:`\tilde a` its median, rounded to
    multiples of ``step`` (0.5: a factor of 1.41). The log makes a coefficient a change per
    doubling of the first purchase; the 1 + keeps first purchases of 0; centring at the
    median makes the baseline parameters those of a median first purchase; rounding lets
    customers share values, so a fit compresses them into far fewer patterns (the
    Pareto/NBD with a covariate evaluates every distinct pattern). ``step=0`` keeps the
    values unrounded. Name :data:`FIRST_SIZE`; ``attrs["median"]`` holds the median.
    """
    values = pd.to_numeric(first_amount, errors="coerce").astype(float)
    bad = ~np.isfinite(values.to_numpy()) | (values.to_numpy() < 0)
    if bad.any():
        first = values.index[int(np.argmax(bad))]
        raise DataError(
            f"first purchase amounts must be numbers >= 0; {int(bad.sum()):,} are not (first "
            f"for customer {first!r}: {first_amount.loc[first]!r})."
        )
    if not (np.isfinite(step) and step >= 0):
        raise DataError(f"step={step!r} must be a number >= 0 (0: no rounding).")
    median = float(values.median())
    z = np.log2((1 + values) / (1 + median))
    if step > 0:
        z = np.round(z / step) * step + 0.0  # + 0.0 turns -0.0 into 0.0
    out = z.rename(FIRST_SIZE)
    out.attrs["median"] = median
    out.attrs["step"] = float(step)
    return out


def covariate_name(name: str) -> str:
    """``"Pareto/NBD"`` -> ``"Pareto/NBD + first purchase"``: the covariate model's label."""
    return f"{name} + first purchase"


def fit_covariate_models(
    summary: pd.DataFrame, covariates: Sequence[str], names: Sequence[str] | None = None
) -> tuple[dict[str, Any], dict[str, str]]:
    """Fit the models of :data:`MODELS` with time-invariant ``covariates`` (columns of ``summary``).

    Labels are :func:`covariate_name` of each model. As :func:`fit_models`, a model that
    cannot be fitted is returned with the reason instead of dropped.
    """
    return _fit_each(summary, names, covariate_name, covariates=list(covariates))


#: What a coefficient of each link multiplies, in words (Fader & Hardie 2007 parameterisation).
LINK_MEANING = {
    "purchase": "mean purchase rate r/alpha",
    "dropout": "mean dropout rate s/beta",
    "a": "dropout shape a (mean a/(a+b))",
    "b": "dropout shape b (mean a/(a+b))",
}


def coefficient_table(fits: Mapping[str, Any], *, alpha: float = 0.05) -> pd.DataFrame:
    r"""The covariate coefficients of every fit, with standard errors and what they mean.

    A coefficient :math:`\gamma` of link ``purchase`` (``dropout``) is the log multiplier
    of the mean purchase (dropout) rate per unit of the covariate: the Pareto/NBD's
    :math:`\alpha_i = \alpha_0 e^{-\gamma' z_i}` makes :math:`r/\alpha_i =
    (r/\alpha_0)e^{\gamma' z_i}` (Fader & Hardie 2007). In BG/NBD and MBG/NBD dropout enters
    through ``a`` and ``b`` (:math:`a_i = a_0 e^{\gamma_a' z_i}`), whose ratio sets the
    mean dropout probability per purchase.

    Returns
    -------
    DataFrame
        One row per (``model``, ``coefficient``): ``link``, ``meaning``, ``coef``, ``se``,
        ``z`` = coef / se, ``p_value`` (two-sided Wald), ``lower``/``upper`` (Wald interval
        at ``1 - alpha``) and ``multiplier``, ``multiplier_lower``, ``multiplier_upper``
        (:math:`e^{\gamma}` and its interval).
    """
    from scipy import stats

    zcrit = float(stats.norm.ppf(1 - alpha / 2))
    rows = []
    for model, fit in fits.items():
        for name in fit.params.index:
            if ":" not in str(name):
                continue
            link = str(name).split(":", 1)[0]
            coef, se = float(fit.params[name]), float(fit.bse[name])
            z = coef / se if se > 0 else np.nan
            rows.append(
                {
                    "model": model,
                    "coefficient": str(name),
                    "link": link,
                    "meaning": LINK_MEANING.get(link, link),
                    "coef": coef,
                    "se": se,
                    "z": z,
                    "p_value": float(2 * stats.norm.sf(abs(z))) if np.isfinite(z) else np.nan,
                    "lower": coef - zcrit * se,
                    "upper": coef + zcrit * se,
                    "multiplier": float(np.exp(coef)),
                    "multiplier_lower": float(np.exp(coef - zcrit * se)),
                    "multiplier_upper": float(np.exp(coef + zcrit * se)),
                }
            )
    if not rows:
        raise DataError("coefficient_table found no covariate coefficients in these fits.")
    return pd.DataFrame(rows).set_index(["model", "coefficient"])


def covariate_effects(
    fits: Mapping[str, Any], values: Mapping[str, float], *, horizon: float = 52.0
) -> pd.DataFrame:
    """What each covariate fit implies for customers at given covariate values.

    ``values`` maps a label (e.g. ``"half the median"``) to the value of the single
    covariate. For each fit and value, the individual parameters
    (:meth:`FitResult.for_covariates`) give ``purchase_rate`` (mean purchases per time
    unit while alive, r/alpha), ``dropout`` (Pareto/NBD: mean dropout rate s/beta per time
    unit; BG/NBD, MBG/NBD: mean dropout probability per purchase a/(a+b)) and
    ``expected_purchases`` of a new customer over ``horizon`` time units.
    """
    rows = []
    for model, fit in fits.items():
        if fit.covariates is None or len(fit.covariates.columns) != 1:
            raise DataError(f"covariate_effects needs fits with one covariate; {model!r} is not.")
        column = fit.covariates.columns[0]
        for label, value in values.items():
            one = fit.for_covariates({column: float(value)})
            p = one.params
            dropout = p["s"] / p["beta"] if "s" in p else p["a"] / (p["a"] + p["b"])
            rows.append(
                {
                    "model": model,
                    "first purchase": label,
                    column: float(value),
                    "purchase_rate": float(p["r"] / p["alpha"]),
                    "dropout": float(dropout),
                    "expected_purchases": float(np.asarray(one.expected_purchases(horizon))),
                }
            )
    return pd.DataFrame(rows).set_index(["model", "first purchase"])


def comparison_with_covariates(
    study: LifetimeValueStudy, fits: Mapping[str, Any], summary: pd.DataFrame
) -> pd.DataFrame:
    """The study's model comparison with covariate fits added: one table, every model.

    The columns of :func:`model_comparison` for the study's models and ``fits`` (fitted
    on ``summary``, the study's summary with the covariate columns), re-ranked together,
    plus ``covariates`` (the columns a model uses, empty for none), ``lr_stat``, ``lr_df``
    and ``lr_p``: the likelihood-ratio test of a covariate model against its model without
    covariates (the same name without " + ..."; chi-squared with as many degrees of freedom
    as added coefficients). ``used_for`` keeps the study's choice: the covariate models
    are for comparison only.
    """
    if not fits:
        raise DataError("comparison_with_covariates needs at least one covariate fit.")
    from scipy import stats

    both = {**study.fits, **fits}
    table = _comparison.compare_models(both, summary)
    table["delta_bic"] = table["bic"] - table["bic"].min()
    table["rank_bic"] = table["bic"].rank(method="min").astype(int)
    table["rank_holdout"] = table["holdout_error_pct"].abs().rank(method="min").astype(int)
    table["covariates"] = [
        ", ".join(both[n].covariates.columns) if both[n].covariates is not None else ""
        for n in table.index
    ]
    lr_stat, lr_df, lr_p = [], [], []
    for name in table.index:
        base = name.split(" + ", 1)[0]
        if name in fits and base in study.fits:
            stat = 2 * (float(both[name].loglik) - float(study.fits[base].loglik))
            df = int(table.loc[name, "parameters"] - table.loc[base, "parameters"])
            lr_stat.append(stat)
            lr_df.append(df)
            lr_p.append(float(stats.chi2.sf(stat, df)))
        else:
            lr_stat.append(np.nan)
            lr_df.append(np.nan)
            lr_p.append(np.nan)
    table["lr_stat"], table["lr_df"], table["lr_p"] = lr_stat, lr_df, lr_p
    used = study.comparison["used_for"]
    table["used_for"] = [
        used[n] if n in used.index else "comparison only (researcher's section)"
        for n in table.index
    ]
    return table


# ---------------------------------------------------------- students at the bank


def value_so_far(transactions: pd.DataFrame, summary: pd.DataFrame, *, margin: float) -> pd.Series:
    """Margin on each customer's revenue up to the end of calibration, first purchase included.

    What a customer has brought the firm at the moment CLV is computed (the date in
    ``summary.attrs["calibration_end"]``, set by :func:`crmlab.rfm_summary`); customers
    of ``summary`` only.
    """
    require_columns(transactions, ["customer_id", "date", "amount"], "value_so_far")
    if not 0 <= margin <= 1:
        raise DataError(f"margin={margin!r} must be a fraction between 0 and 1.")
    end = summary.attrs.get("calibration_end")
    if end is None:
        raise DataError(
            "the summary does not say where calibration ends (attrs['calibration_end']); "
            "build it with crmlab.rfm_summary(..., calibration_end=...)."
        )
    dates = pd.to_datetime(transactions["date"])
    mine = transactions["customer_id"].isin(summary.index) & (
        dates.dt.normalize() <= pd.Timestamp(end)
    )
    revenue = transactions.loc[mine].groupby("customer_id")["amount"].sum()
    return (margin * revenue.reindex(summary.index, fill_value=0.0)).rename("value_so_far")


def value_so_far_from_summary(
    summary: pd.DataFrame, first_amount: pd.Series, *, margin: float
) -> pd.Series:
    r""":func:`value_so_far` without the transactions: margin x (first purchase + repeat spend).

    Revenue up to the end of calibration is the first day's amount plus the value of
    the repeat occasions, :math:`a_i + x_i\,\bar m_i` (``frequency`` x
    ``monetary_value`` of :func:`crmlab.rfm_summary`), so an engine's summary and
    first-purchase amounts give the same numbers as the transaction log.
    """
    require_columns(summary, ["frequency", "monetary_value"], "value_so_far_from_summary")
    if not 0 <= margin <= 1:
        raise DataError(f"margin={margin!r} must be a fraction between 0 and 1.")
    first = first_amount.reindex(summary.index)
    if first.isna().any():
        missing = summary.index[first.isna().to_numpy()]
        raise DataError(
            f"{len(missing):,} customers of the summary have no first-purchase amount "
            f"(first {missing[0]!r}); compute both from the same source."
        )
    revenue = first + summary["frequency"] * summary["monetary_value"]
    return (margin * revenue.astype(float)).rename("value_so_far")


@dataclass(frozen=True)
class StudentsAtTheBank:
    """Customers worth little so far but much over their lifetime.

    ``members`` is a boolean Series (True for a "student"): value so far at or below
    its ``value_quantile`` quantile (``value_cut``) and CLV above its
    ``1 - top_share`` quantile (``clv_cut``), i.e. among the top ``top_share`` by CLV.
    """

    members: pd.Series
    value_quantile: float
    top_share: float
    value_cut: float
    clv_cut: float
    customers: int
    share_customers: float
    share_clv: float
    top_share_clv: float
    share_of_top: float


def students_at_the_bank(
    value_now: pd.Series, clv: pd.Series, *, value_quantile: float = 0.5, top_share: float = 0.2
) -> StudentsAtTheBank:
    """The "students at the bank": low value so far, high CLV (Blattberg, Kim & Neslin 2008).

    Parameters
    ----------
    value_now : Series
        What each customer brought so far (e.g. :func:`value_so_far`), indexed by customer.
    clv : Series
        Each customer's CLV from now on (same customers, any order).
    value_quantile : float
        "Low value so far" = at or below this quantile of ``value_now`` (0.5: the lower half).
    top_share : float
        "High CLV" = above the ``1 - top_share`` quantile of CLV (0.2: the top 20%).

    Returns
    -------
    StudentsAtTheBank
        The group, its size, its share of customers (``share_customers``) and of total
        CLV (``share_clv``), the share of CLV held by the whole top ``top_share``
        (``top_share_clv``) and the students' share of those top customers
        (``share_of_top``).
    """
    for label, q in (("value_quantile", value_quantile), ("top_share", top_share)):
        if not 0 < q < 1:
            raise DataError(f"{label} must be a share between 0 and 1, got {q!r}.")
    missing = clv.index.difference(value_now.index)
    extra = value_now.index.difference(clv.index)
    if len(missing) or len(extra):
        first = missing[0] if len(missing) else extra[0]
        raise DataError(
            f"value_now and clv must cover the same customers: {len(missing):,} have CLV but "
            f"no value so far and {len(extra):,} the reverse (first {first!r})."
        )
    now = value_now.reindex(clv.index).astype(float)
    life = clv.astype(float)
    if now.isna().any() or life.isna().any():
        raise DataError("value_now and clv must not hold missing values.")
    value_cut = float(now.quantile(value_quantile))
    clv_cut = float(life.quantile(1 - top_share))
    top = life > clv_cut
    members = (now <= value_cut) & top
    total = float(life.sum())
    return StudentsAtTheBank(
        members=members.rename("student"),
        value_quantile=value_quantile,
        top_share=top_share,
        value_cut=value_cut,
        clv_cut=clv_cut,
        customers=int(members.sum()),
        share_customers=float(members.mean()),
        share_clv=float(life[members].sum() / total) if total else np.nan,
        top_share_clv=float(life[top].sum() / total) if total else np.nan,
        share_of_top=float(members.sum() / top.sum()) if top.any() else np.nan,
    )


def value_bands(
    value_now: pd.Series,
    clv: pd.Series,
    *,
    cuts: Sequence[float] = (0.5, 0.8),
    top_share: float = 0.2,
) -> pd.DataFrame:
    """Where CLV sits by value so far: customers in bands of value so far against CLV.

    Bands are cut at the ``cuts`` quantiles of ``value_now`` (0.5, 0.8: the lower half,
    the next 30%, the top 20%; a customer exactly at a cut falls in the lower band).
    "Top CLV" = above the ``1 - top_share`` quantile of CLV, as in
    :func:`students_at_the_bank`, whose students are the lowest band's top-CLV customers.

    Returns
    -------
    DataFrame
        One row per band (``band`` label); ``customers``, ``share_customers``,
        ``share_clv`` (share of total CLV held by the band), ``top_clv_customers``
        (customers of the band in the top CLV group) and ``top_clv_share`` (share of
        total CLV they hold).
    """
    cuts = sorted(float(c) for c in cuts)
    if not cuts or not all(0 < c < 1 for c in cuts):
        raise DataError(f"cuts must be quantiles between 0 and 1, got {cuts!r}.")
    base = students_at_the_bank(value_now, clv, value_quantile=cuts[0], top_share=top_share)
    now = value_now.reindex(clv.index).astype(float)
    life = clv.astype(float)
    edges = [float(now.quantile(c)) for c in cuts]
    band = np.searchsorted(np.asarray(edges), now.to_numpy(), side="left")
    bounds = [0.0, *cuts, 1.0]
    labels = [
        f"{'lower' if i == 0 else ('top' if i == len(cuts) else 'next')} "
        f"{bounds[i + 1] - bounds[i]:.0%} by value so far"
        for i in range(len(cuts) + 1)
    ]
    top = (life > base.clv_cut).to_numpy()
    total = float(life.sum())
    rows = []
    for i, label in enumerate(labels):
        mask = band == i
        rows.append(
            {
                "band": label,
                "customers": int(mask.sum()),
                "share_customers": float(mask.mean()),
                "share_clv": float(life[mask].sum() / total) if total else np.nan,
                "top_clv_customers": int((mask & top).sum()),
                "top_clv_share": float(life[mask & top].sum() / total) if total else np.nan,
            }
        )
    return pd.DataFrame(rows).set_index("band")


# ------------------------------------------------------------------- formulas


#: Each model's P(alive) as mathtext lines (:func:`crmlab.plots.models.formula` draws them).
P_ALIVE_TEX: dict[str, list[str]] = {
    "BG/NBD": [
        r"P(\mathrm{alive} \mid x, t_x, T) = 1 \ / \ \left(1 + \dfrac{a}{b + x - 1}"
        r"\,\left(\dfrac{\alpha + T}{\alpha + t_x}\right)^{r + x}\right) \quad \mathrm{for}\ x > 0",
        r"P(\mathrm{alive} \mid x = 0) = 1",
    ],
    "MBG/NBD": [
        r"P(\mathrm{alive} \mid x, t_x, T) = 1 \ / \ \left(1 + \dfrac{a}{b + x}"
        r"\,\left(\dfrac{\alpha + T}{\alpha + t_x}\right)^{r + x}\right)",
    ],
    "Pareto/NBD": [
        r"P(\mathrm{alive} \mid x, t_x, T) = 1 \ / \ \left(1 + \dfrac{s}{r + s + x}"
        r"\,(\alpha + T)^{r + x}\,(\beta + T)^{s}\,A_0\right)",
        r"A_0 = \dfrac{F(\alpha + t_x)}{(\alpha + t_x)^{k}}"
        r" - \dfrac{F(\alpha + T)}{(\alpha + T)^{k}},"
        r"\quad F(y) = {}_2F_1\left(k,\, s + 1;\, k + 1;\, \dfrac{\alpha - \beta}{y}\right),"
        r"\quad k = r + s + x",
    ],
}

_ALIVE_NOTES = {
    "BG/NBD": (
        "Fader, Hardie & Lee (2005), eq. 13. A BG/NBD customer can only leave right after a "
        "repeat purchase, so a customer who never bought again cannot have left: every "
        "one-time buyer has P(alive) = 1, however long ago the first purchase was."
    ),
    "MBG/NBD": (
        "Batislam, Denizel & Filiztekin (2007). The customer can also leave right after the "
        "first purchase, so one-time buyers have P(alive) below 1, falling with their age T."
    ),
    "Pareto/NBD": (
        "Schmittlein, Morrison & Colombo (1987), in the form of Fader & Hardie's (2005) note "
        "(written for alpha >= beta; otherwise alpha and beta swap and s + 1 becomes r + x). "
        "The customer can leave at any moment (an exponential lifetime), so a long silence "
        "lowers P(alive) whatever the number of purchases, one-time buyers included."
    ),
}


def p_alive_formula(name: str, result: Any | None = None, T: float | None = None) -> str:
    """What model ``name``'s P(alive) formula (:data:`P_ALIVE_TEX`) says, as markdown.

    The source and the model's property the formula implies; with a fitted ``result``
    and an age ``T``, also the fitted parameters and the P(alive) this model gives a
    one-time buyer of age ``T`` (so the formula shown and the picture drawn come from
    the same model).
    """
    if name not in P_ALIVE_TEX:
        raise DataError(f"no P(alive) formula for {name!r}; known: {', '.join(P_ALIVE_TEX)}.")
    text = f"**{name}**: {_ALIVE_NOTES[name]}"
    if result is not None and T is not None:
        params = ", ".join(f"{k} = {v:.3g}" for k, v in result.params.items())
        one = one_time_p_alive(result, T)
        text += (
            f"\n\nFitted: {params}. A one-time buyer aged T = {T:.0f} has "
            f"P(alive) = {one:.2f} under {name}."
        )
    return text


def one_time_p_alive(result: Any, T: float) -> float:
    """P(alive) of a customer with no repeat purchase (x = t_x = 0) at age ``T``."""
    frame = pd.DataFrame({"frequency": [0.0], "recency": [0.0], "T": [float(T)]})
    return float(np.asarray(result.probability_alive(frame), dtype=float)[0])


# ----------------------------------------------------------------------- study


@dataclass
class LifetimeValueStudy:
    """Everything notebook 04 shows and its executive summary cites (see module doc)."""

    summary: pd.DataFrame
    fits: dict[str, Any]
    failed: dict[str, str]
    comparison: pd.DataFrame
    choice: ModelChoice
    tracking: pd.DataFrame
    holdout_gap: pd.DataFrame
    spend_fit: Any
    spend: pd.Series
    zero_spend: int
    by_model: pd.DataFrame
    totals: pd.DataFrame
    customers: pd.DataFrame
    students: StudentsAtTheBank
    bands: pd.DataFrame
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def model(self) -> Any:
        """The fitted model used for forecasts and CLV (``choice.used``)."""
        return self.fits[self.choice.used]

    @property
    def holdout_length(self) -> float:
        """The holdout length in time units (the longest, if customers differ)."""
        return float(self.summary["duration_holdout"].max())


def lifetime_value_study(
    transactions: pd.DataFrame | None,
    summary: pd.DataFrame,
    *,
    margin: float,
    annual_discount_rate: float,
    horizon_years: float,
    forecast_horizon: float,
    top_share: float = 0.2,
    value_quantile: float = 0.5,
    level: float | None = None,
    draws: int = 500,
    seed: int = 0,
    models: Sequence[str] | None = None,
    patterns: pd.DataFrame | None = None,
    repeat_days: pd.DataFrame | None = None,
    first_amount: pd.Series | None = None,
) -> LifetimeValueStudy:
    """Run the whole study on a cohort summary with a holdout.

    Parameters
    ----------
    transactions : DataFrame
        ``customer_id``, ``date``, ``amount`` (the log ``summary`` was built from).
    summary : DataFrame
        :func:`crmlab.rfm_summary` with ``observation_end`` (holdout columns).
    margin, annual_discount_rate, horizon_years : float
        CLV assumptions: gross margin on revenue, yearly discount rate, years counted.
    forecast_horizon : float
        Time units of the "expected purchases" column of the customer table.
    top_share, value_quantile : float
        The students-at-the-bank cuts (:func:`students_at_the_bank`).
    level : float, optional
        Interval level (e.g. 0.9) for CLV from parameter uncertainty (purchase model and,
        unless some repeat buyers spent nothing, the Gamma-Gamma model), from ``draws``
        parameter draws seeded by ``seed``.
    models : sequence of str, optional
        Which of :data:`MODELS` to fit (default all).
    patterns : DataFrame, optional
        Distinct (``frequency``, ``recency``, ``T``) with ``weight``
        (``rfm_summary(..., patterns=True)``) to fit the models from instead of
        ``summary``: the same estimates and log-likelihood, computed in an engine.
    repeat_days, first_amount : optional
        Where the transactions stay in an engine (``transactions=None``): repeat
        purchases per day for the tracking (:func:`actual_by_period`) and each
        customer's first-purchase amount for the value so far
        (:func:`value_so_far_from_summary`); see
        :mod:`crmlab.studies.lifetime_value_engine`.
    """
    require_columns(
        summary,
        ["frequency", "recency", "T", "monetary_value", "first_purchase"]
        + ["frequency_holdout", "duration_holdout"],
        "lifetime_value",
    )
    calibration_end = summary.attrs.get("calibration_end")
    observation_end = summary.attrs.get("observation_end")
    if not calibration_end or not observation_end:
        raise DataError(
            "the summary needs a holdout: build it with crmlab.rfm_summary(transactions, "
            "calibration_end=..., observation_end=...)."
        )
    if transactions is None and (repeat_days is None or first_amount is None):
        raise DataError(
            "lifetime_value_study needs the transactions, or, where they stay in an engine, "
            "repeat_days and first_amount (crmlab.studies.lifetime_value_engine.load_clv_data)."
        )
    fits, failed = fit_models(summary if patterns is None else patterns, models)
    table = model_comparison(fits, summary)
    choice = choose_model(table)
    track = tracking_by_model(
        fits,
        transactions,
        summary=summary,
        calibration_end=calibration_end,
        observation_end=observation_end,
        repeat_days=repeat_days,
    )
    gap = holdout_gap_by_month(track, choice.used)

    spend_data, zero_spend = _customer_value.spend_inputs(summary)
    spend_fit = GammaGamma().fit(spend_data)
    spend = spend_fit.expected_spend(spend_data)
    # the spend model itself carries its parameter uncertainty into the intervals; where
    # repeat buyers spent nothing, their spend history was replaced (spend_inputs), so the
    # expected spend per customer is passed instead and the intervals omit spend uncertainty
    spend_for_clv = spend_fit if zero_spend == 0 else spend
    by_model, totals = clv_by_model(
        fits,
        summary,
        spend_for_clv,
        margin=margin,
        annual_discount_rate=annual_discount_rate,
        horizon_years=horizon_years,
        level=level,
        draws=draws,
        seed=seed,
    )
    used = choice.used
    clv = by_model[f"clv_{slug(used)}"]
    customers = _customer_value.customer_table(
        summary, fits[used], spend=spend, horizon=forecast_horizon, clv=clv
    )
    key = slug(used)
    customers["lower"] = by_model[f"lower_{key}"] if level is not None else np.nan
    customers["upper"] = by_model[f"upper_{key}"] if level is not None else np.nan
    now = (
        value_so_far(transactions, summary, margin=margin)
        if transactions is not None
        else value_so_far_from_summary(summary, first_amount, margin=margin)
    )
    students = students_at_the_bank(now, clv, value_quantile=value_quantile, top_share=top_share)
    bands = value_bands(now, clv, cuts=(value_quantile, 1 - top_share), top_share=top_share)
    customers["model"] = used
    customers["value_so_far"] = now.reindex(customers.index)
    customers["student"] = students.members.reindex(customers.index)
    customers = customers.join(by_model)
    return LifetimeValueStudy(
        summary=summary,
        fits=fits,
        failed=failed,
        comparison=table,
        choice=choice,
        tracking=track,
        holdout_gap=gap,
        spend_fit=spend_fit,
        spend=spend,
        zero_spend=zero_spend,
        by_model=by_model,
        totals=totals,
        customers=customers,
        students=students,
        bands=bands,
        settings={
            "margin": margin,
            "annual_discount_rate": annual_discount_rate,
            "horizon_years": horizon_years,
            "forecast_horizon": forecast_horizon,
            "level": level,
            "draws": draws,
            "spend_uncertainty": level is not None and zero_spend == 0,
            "top_share": top_share,
            "value_quantile": value_quantile,
        },
    )


def clv_at(
    study: LifetimeValueStudy,
    *,
    margin: float | None = None,
    annual_discount_rate: float | None = None,
    horizon_years: float | None = None,
) -> pd.Series:
    """Each customer's CLV under the used model with other assumptions.

    The same fitted model and expected spend as the study; ``margin``,
    ``annual_discount_rate`` and ``horizon_years`` default to the study's
    (``study.settings``). CLV is proportional to the margin; the discount rate and the
    horizon change it through :func:`discounting`. With the study's own values this is
    the ``clv`` column of ``study.customers``.
    """
    settings = study.settings
    margin = settings["margin"] if margin is None else margin
    if not 0 <= margin <= 1:
        raise DataError(f"margin={margin!r} must be a fraction between 0 and 1.")
    _, rate, horizon = discounting(
        study.summary,
        settings["annual_discount_rate"] if annual_discount_rate is None else annual_discount_rate,
        settings["horizon_years"] if horizon_years is None else horizon_years,
    )
    values = study.model.clv(
        study.summary, spend=study.spend, margin=margin, discount_rate=rate, horizon=horizon
    )
    return pd.Series(np.asarray(values, dtype=float), index=study.summary.index, name="clv")


def total_clv(
    study: LifetimeValueStudy,
    *,
    margin: float | None = None,
    annual_discount_rate: float | None = None,
    horizon_years: float | None = None,
) -> float:
    """Total CLV of the cohort under the used model with other assumptions (:func:`clv_at`)."""
    return float(
        clv_at(
            study,
            margin=margin,
            annual_discount_rate=annual_discount_rate,
            horizon_years=horizon_years,
        ).sum()
    )


def clv_what_if(study: LifetimeValueStudy, margin: float, annual_discount_rate: float) -> Any:
    """Draw the used model's CLV distribution under other assumptions; return the totals text.

    The callback of the notebook's sliders: the same model, spend and horizon as the
    study, with another margin and yearly discount rate (:func:`clv_at`).
    """
    from IPython.display import Markdown

    from crmlab.plots import models as _plots

    values = clv_at(study, margin=margin, annual_discount_rate=annual_discount_rate)
    _plots.clv_distribution(values, markers={"mean": float(values.mean())})
    return Markdown(
        f"{study.choice.used}, margin {margin:.0%}, discount rate {annual_discount_rate:.0%} a "
        f"year: total CLV **\\${values.sum():,.0f}**, mean \\${values.mean():,.2f} per customer."
    )


# -------------------------------------------------------------------- findings


def _month_name(month: str) -> str:
    return pd.Timestamp(f"{month}-01").strftime("%B %Y")


def lifetime_value_findings(
    study: LifetimeValueStudy,
    *,
    coefficients: pd.DataFrame | None = None,
    comparison: pd.DataFrame | None = None,
) -> list[Finding]:
    """The executive summary of the CLV study: each sentence with the numbers it cites.

    1. which model is used and why, with both criteria (BIC and holdout error);
    2. the holdout under- (or over-) forecast of every model;
    3. where in the holdout the used model's shortfall lies, and the assumption behind it;
    4. total CLV under every model (with its interval from parameter uncertainty where
       the study computed one) and how far the model choice moves it;
    5. the share of customers with P(alive) > 0.5 under every model, and why BG/NBD's
       differs (one-time buyers are alive with probability 1 in that model);
    6. the students at the bank: their share of customers and of CLV;
    7. with the researcher's ``coefficients`` (:func:`coefficient_table`) and
       ``comparison`` (:func:`comparison_with_covariates`): what the first purchase's size
       says about buying and dropout under the used model (:func:`covariate_finding`),
       only when a coefficient is clearly non-zero;
    plus one sentence per model that could not be fitted.
    """
    table, choice, totals = study.comparison, study.choice, study.totals
    used, best_bic = choice.used, choice.in_sample
    unit = str(study.summary.attrs.get("time_unit", "W"))
    unit_word = units.UNIT_NAMES.get(unit, unit).removesuffix("s")
    findings: list[Finding] = []

    # 1. the choice, both criteria
    numbers: dict[str, Any] = {
        "used": used,
        "holdout": study.holdout_length,
        "err_used": float(table.loc[used, "holdout_error_pct"]),
        "mae_used": float(table.loc[used, "mae"]),
    }
    if choice.agree:
        template = (
            "{used} fits the calibration period best (lowest BIC) and also forecasts the "
            "{holdout:.0f}-" + unit_word + " holdout best ({err_used:+.1f}% error in total "
            "purchases, per-customer MAE {mae_used:.3f}); this report uses it for forecasts "
            "and CLV."
        )
    else:
        numbers.update(
            best_bic=best_bic,
            bic_gap=float(table.loc[used, "bic"] - table.loc[best_bic, "bic"]),
            err_bic=float(table.loc[best_bic, "holdout_error_pct"]),
            mae_bic=float(table.loc[best_bic, "mae"]),
        )
        template = (
            "BIC prefers {best_bic} (its BIC is {bic_gap:,.0f} lower than {used}'s), but "
            "{used} forecasts the {holdout:.0f}-" + unit_word + " holdout best "
            "({err_used:+.1f}% error in total purchases against {err_bic:+.1f}%; "
            "per-customer MAE {mae_used:.3f} against {mae_bic:.3f}); this report uses "
            "{used} for forecasts and CLV, since CLV is a forecast."
        )
    findings.append(Finding(template, numbers))

    # 2. the holdout forecast of every model
    errors = table["holdout_error_pct"]
    low, high = str(errors.idxmin()), str(errors.idxmax())
    numbers = {
        "actual": float(table["holdout_actual"].iloc[0]),
        "low_model": low,
        "low": float(table.loc[low, "holdout_expected"]),
        "low_err": float(errors[low]),
        "high_model": high,
        "high": float(table.loc[high, "holdout_expected"]),
        "high_err": float(errors[high]),
    }
    if len(table) == 1:
        template = (
            "{low_model} forecasts {low:,.0f} holdout purchases against {actual:,.0f} made "
            "({low_err:+.1f}%)."
        )
    else:
        lead = "Every model forecasts fewer" if (errors < 0).all() else "The models forecast"
        if (errors > 0).all():
            lead = "Every model forecasts more"
        template = (
            lead + " holdout purchases than the {actual:,.0f} made: from {low:,.0f} "
            "({low_model}, {low_err:+.1f}%) to {high:,.0f} ({high_model}, {high_err:+.1f}%)."
        )
    findings.append(Finding(template, numbers))

    # 3. where the used model's shortfall lies, and the assumption behind it
    gap = study.holdout_gap
    total_gap = float(gap["gap"].sum())
    if total_gap > 0 and len(gap) >= 2:
        top = gap["gap"].nlargest(2)
        m1, m2 = (str(m) for m in top.index)
        findings.append(
            Finding(
                "The models assume each customer buys at a constant rate while alive (no "
                "seasons, no campaigns); {used}'s shortfall of {gap:,.0f} purchases is largest "
                "in {month1} (actual {ratio1:.0%} of forecast) and {month2} ({ratio2:.0%}), "
                "which together hold {share:.0%} of it.",
                {
                    "used": used,
                    "gap": total_gap,
                    "month1": _month_name(m1),
                    "ratio1": float(gap.loc[m1, "ratio"]),
                    "month2": _month_name(m2),
                    "ratio2": float(gap.loc[m2, "ratio"]),
                    "share": float(gap.loc[[m1, m2], "share_of_gap"].sum()),
                },
            )
        )

    # 4. total CLV under every model
    settings = study.settings
    numbers = {
        "margin": settings["margin"],
        "rate": settings["annual_discount_rate"],
        "years": settings["horizon_years"],
    }
    parts = []
    has_interval = totals["lower"].notna() & totals["upper"].notna()
    for name in totals.index:
        key = slug(name)
        numbers[f"clv_{key}"] = float(totals.loc[name, "total_clv"])
        part = f"${{clv_{key}:,.0f}}"
        if has_interval[name]:
            numbers[f"lower_{key}"] = float(totals.loc[name, "lower"])
            numbers[f"upper_{key}"] = float(totals.loc[name, "upper"])
            numbers["level"] = settings["level"]
            part += f" ({{level:.0%}} interval ${{lower_{key}:,.0f}} to ${{upper_{key}:,.0f}})"
        parts.append(part + f" under {name}" + (" (used)" if name == used else ""))
    template = (
        "Total CLV at a {margin:.0%} margin and {rate:.0%} a year over {years:g} years: "
        + ", ".join(parts)
    )
    if len(totals) > 1:
        numbers["spread"] = float(totals["total_clv"].max() / totals["total_clv"].min() - 1)
        template += "; the choice of model alone moves it by {spread:.0%}"
    template += ". Intervals cover parameter uncertainty only." if has_interval.any() else "."
    findings.append(Finding(template, numbers))

    # 5. P(alive) > 0.5 under every model
    numbers = {}
    parts = []
    for name in totals.index:
        numbers[f"alive_{slug(name)}"] = float(totals.loc[name, "share_alive"])
        parts.append(f"{{alive_{slug(name)}:.1%}} under {name}")
    template = "Customers more likely alive than not (P(alive) > 0.5): " + ", ".join(parts)
    if "BG/NBD" in totals.index and np.isclose(totals.loc["BG/NBD", "p_alive_one_time"], 1.0):
        numbers["one_time"] = float(totals.loc["BG/NBD", "one_time_share"])
        template += (
            "; BG/NBD counts the {one_time:.0%} of customers without a repeat purchase as "
            "certainly alive (in that model a customer can only leave right after a repeat "
            "purchase)"
        )
        others = totals.drop(index="BG/NBD")["p_alive_one_time"].dropna()
        if len(others):
            numbers["others_low"] = float(others.min())
            numbers["others_high"] = float(others.max())
            template += (
                ", the other models give them {others_low:.2f}"
                + (" to {others_high:.2f}" if len(others) > 1 else "")
                + " on average"
            )
    findings.append(Finding(template + ".", numbers))

    # 6. students at the bank
    st = study.students
    findings.append(
        Finding(
            "Students at the bank: {customers:,} customers ({share_customers:.1%}) are in the "
            "lower {value_quantile:.0%} by value so far (at most ${value_cut:,.2f} of margin) "
            "yet in the top {top:.0%} by CLV under {used}; they are {share_of_top:.1%} of that "
            "top group and hold {share_clv:.1%} of total CLV (the whole top group holds "
            "{top_clv:.1%}). The lower {value_quantile:.0%} by value so far hold "
            "{band_low:.1%} of total CLV in all, the top {top:.0%} by value so far "
            "{band_top:.1%}"
            + (
                ""
                if st.share_clv >= 0.05
                else ": ranking by past value misses little future value here"
            )
            + ".",
            {
                "customers": st.customers,
                "share_customers": st.share_customers,
                "value_quantile": st.value_quantile,
                "value_cut": st.value_cut,
                "top": st.top_share,
                "used": used,
                "share_of_top": st.share_of_top,
                "share_clv": st.share_clv,
                "top_clv": st.top_share_clv,
                "band_low": float(study.bands["share_clv"].iloc[0]),
                "band_top": float(study.bands["share_clv"].iloc[-1]),
            },
        )
    )
    if coefficients is not None and comparison is not None:
        extra = covariate_finding(coefficients, comparison, used)
        if extra is not None:
            findings.append(extra)
    for name, reason in study.failed.items():
        findings.append(
            Finding(
                "{model} could not be fitted and is left out: {reason}",
                {"model": name, "reason": reason},
            )
        )
    return findings


#: A covariate coefficient counts as clearly non-zero in the summary below this p-value.
CLEAR_P = 0.01


def covariate_finding(
    coefficients: pd.DataFrame, comparison: pd.DataFrame, model: str
) -> Finding | None:
    """One sentence on the first purchase's size as a covariate of ``model``, or None.

    Uses the rows of :func:`covariate_name` (``model``) in ``coefficients``
    (:func:`coefficient_table`, one covariate measured in doublings,
    :func:`first_purchase_size`) and ``comparison`` (:func:`comparison_with_covariates`).
    The purchase multiplier (and, where the model has one, the dropout-rate multiplier) per
    doubling with their 95% intervals, the likelihood-ratio test against the model without
    the covariate and both holdout errors. None when the covariate model was not fitted or
    no coefficient has a p-value below :data:`CLEAR_P`: the summary then says nothing the
    body cannot support.
    """
    name = covariate_name(model)
    if name not in coefficients.index.get_level_values("model") or name not in comparison.index:
        return None
    rows = coefficients.loc[name]
    if not (rows["p_value"] < CLEAR_P).any():
        return None
    links = rows.reset_index().set_index("link")
    numbers: dict[str, Any] = {"model": model}
    parts = []
    for link, words in (
        ("purchase", "buys {m_purchase:.2f} times as often while active"),
        ("dropout", "drops out at {m_dropout:.2f} times the rate"),
    ):
        if link in links.index and float(links.loc[link, "p_value"]) < CLEAR_P:
            numbers[f"m_{link}"] = float(links.loc[link, "multiplier"])
            numbers[f"lo_{link}"] = float(links.loc[link, "multiplier_lower"])
            numbers[f"hi_{link}"] = float(links.loc[link, "multiplier_upper"])
            parts.append(words + f" (95% interval {{lo_{link}:.2f}} to {{hi_{link}:.2f}})")
    if not parts:
        return None
    numbers.update(
        lr=float(comparison.loc[name, "lr_stat"]),
        df=int(comparison.loc[name, "lr_df"]),
        err_plain=float(comparison.loc[model, "holdout_error_pct"]),
        err_cov=float(comparison.loc[name, "holdout_error_pct"]),
    )
    p = float(comparison.loc[name, "lr_p"])
    numbers["p"] = "< 0.001" if p < 0.001 else f"= {p:.3f}"
    same = f"{numbers['err_plain']:+.1f}" == f"{numbers['err_cov']:+.1f}"
    holdout = (
        "leaves the holdout error at {err_plain:+.1f}%"
        if same
        else "moves the holdout error from {err_plain:+.1f}% to {err_cov:+.1f}%"
    )
    template = (
        "For researchers: with the first purchase's size as a covariate ({model}), a customer "
        "whose first purchase was twice as large " + " and ".join(parts) + "; the covariate "
        "improves the fit (likelihood-ratio statistic {lr:.1f} on {df} degrees of freedom, "
        "p {p}) and " + holdout + ". An association within one cohort, not an effect of "
        "making first orders larger."
    )
    return Finding(template, numbers)
