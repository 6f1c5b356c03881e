"""Compare fitted customer-base models and tabulate their predictions.

* :func:`holdout_dates` - calibration and holdout end dates, given or halfway;
* :func:`compare_models` - one row per model: parameters, log-likelihood,
  AIC/BIC on the calibration period and the error of its holdout forecast;
* :func:`frequency_recency_grid` - a model's P(alive) or expected purchases for
  every (frequency, recency) pair of customers of a given age, the table behind
  the heat maps of Fader, Hardie & Lee (2005), "Counting your customers the
  easy way", *Marketing Science* 24(2), figs. 7-9.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from crmlab.errors import DataError

COMPARISON_COLUMNS = (
    "parameters",
    "log_likelihood",
    "aic",
    "bic",
    "holdout_actual",
    "holdout_expected",
    "holdout_error_pct",
    "mae",
    "rmse",
)


def holdout_dates(
    transactions: pd.DataFrame, calibration_end: str = "", observation_end: str = ""
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """End of the calibration and of the holdout period for a validation split.

    Empty ``observation_end`` means the last transaction date; empty
    ``calibration_end`` means halfway between the first transaction date and
    ``observation_end`` (rounded down to a day). For CDNOW (1 January 1997 to
    30 June 1998) that is 30 September 1997: the 39 + 39 week split of Fader,
    Hardie & Lee (2005).
    """
    if "date" not in transactions.columns or transactions.empty:
        raise DataError("holdout_dates needs a non-empty transactions frame with a 'date' column.")
    dates = pd.to_datetime(transactions["date"])
    first, last = dates.min().normalize(), dates.max().normalize()
    try:
        end = pd.Timestamp(observation_end) if observation_end else last
        cal = pd.Timestamp(calibration_end) if calibration_end else (first + (end - first) / 2)
    except ValueError as exc:
        raise DataError(
            f"calibration_end/observation_end must be dates like '1997-09-30': {exc}"
        ) from None
    cal = cal.floor("D")
    if not first < cal < end:
        raise DataError(
            f"calibration_end {cal:%Y-%m-%d} must lie after the first purchase "
            f"({first:%Y-%m-%d}) and before observation_end ({end:%Y-%m-%d})."
        )
    return cal, end


def _column(summary: pd.DataFrame, name: str, role: str) -> np.ndarray:
    if name not in summary.columns:
        raise DataError(
            f"the summary has no column {name!r} ({role}); it has "
            f"{', '.join(map(repr, map(str, summary.columns)))}. Build it with "
            "crmlab.rfm_summary(..., calibration_end=..., observation_end=...)."
        )
    values = pd.to_numeric(summary[name], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        first = int(np.argmax(bad))
        raise DataError(
            f"column {name!r} ({role}) has {int(bad.sum()):,} values that are not numbers >= 0, "
            f"first for customer {summary.index[first]!r}: {summary[name].iloc[first]!r}."
        )
    return values


def holdout_forecast(
    result: Any,
    summary: pd.DataFrame,
    *,
    duration: str = "duration_holdout",
) -> pd.Series:
    """Each customer's expected holdout purchases E[X(T, T + t*) | x, t_x, T].

    ``t*`` is the customer's holdout length (column ``duration``, same time unit
    as the calibration columns). When every customer has the same holdout
    length, one scalar horizon is passed to ``result.expected_purchases``;
    otherwise (a cohort acquired over time, or holdouts of different lengths) a
    Series of lengths indexed by customer id.
    """
    length = _column(summary, duration, "length of the holdout period")
    horizon: float | pd.Series
    if length.size and np.all(length == length[0]):
        horizon = float(length[0])
    else:
        horizon = pd.Series(length, index=summary.index, name=duration)
    expected = result.expected_purchases(horizon, data=summary)
    return pd.Series(np.asarray(expected, dtype=float), index=summary.index, name="expected")


def compare_models(
    results: Mapping[str, Any],
    summary: pd.DataFrame,
    *,
    holdout: str = "frequency_holdout",
    duration: str = "duration_holdout",
) -> pd.DataFrame:
    """Fit statistics and holdout accuracy of several fitted transaction models.

    Parameters
    ----------
    results : mapping of str to fitted result
        E.g. ``{"BG/NBD": bgnbd, "Pareto/NBD": pnbd}``; each has ``params``,
        ``loglik``, ``aic``, ``bic`` and ``expected_purchases(t, data=...)``
        (see ``crmlab.models``), fitted on the calibration columns of ``summary``.
    summary : DataFrame
        One row per customer with the calibration columns the models use and
        ``holdout`` (purchases in the holdout period) and ``duration`` (its length).

    Returns
    -------
    DataFrame
        Indexed by model name, columns:

        * ``parameters`` - number of estimated parameters k;
        * ``log_likelihood`` - maximised calibration log-likelihood LL;
        * ``aic`` = 2k - 2 LL and ``bic`` = k ln(n) - 2 LL (lower is better);
        * ``holdout_actual`` and ``holdout_expected`` - total holdout purchases
          observed and forecast, ``holdout_error_pct`` = 100 (expected - actual) / actual;
        * ``mae`` and ``rmse`` - mean absolute and root mean squared error of
          the per-customer conditional forecasts (purchases per customer).
    """
    if not results:
        raise DataError("compare_models needs at least one fitted model, e.g. {'BG/NBD': fit}.")
    actual = _column(summary, holdout, "purchases in the holdout period")
    rows = {}
    for name, result in results.items():
        expected = holdout_forecast(result, summary, duration=duration).to_numpy()
        if not np.all(np.isfinite(expected)):
            bad = int((~np.isfinite(expected)).sum())
            raise DataError(
                f"model {name!r} gives {bad:,} non-finite holdout forecasts (first for customer "
                f"{summary.index[int(np.argmax(~np.isfinite(expected)))]!r}); check its fit."
            )
        diff = expected - actual
        total = actual.sum()
        rows[name] = {
            "parameters": len(result.params),
            "log_likelihood": float(result.loglik),
            "aic": float(result.aic),
            "bic": float(result.bic),
            "holdout_actual": float(total),
            "holdout_expected": float(expected.sum()),
            "holdout_error_pct": float(100 * (expected.sum() - total) / total)
            if total > 0
            else float("nan"),
            "mae": float(np.mean(np.abs(diff))),
            "rmse": float(np.sqrt(np.mean(diff**2))),
        }
    table = pd.DataFrame.from_dict(rows, orient="index", columns=list(COMPARISON_COLUMNS))
    table.index.name = "model"
    return table


def frequency_recency_grid(
    result: Any,
    T: float,
    *,
    quantity: str = "probability_alive",
    horizon: float = 52.0,
    max_frequency: int = 20,
    recency_points: int = 27,
) -> pd.DataFrame:
    """P(alive) or expected purchases for customers of age ``T`` over (frequency, recency).

    Parameters
    ----------
    result : fitted transaction model
        With ``probability_alive(data)`` and ``expected_purchases(t, data=...)``.
    T : float
        Customers' age at the end of calibration (time units of the fit).
    quantity : {"probability_alive", "expected_purchases"}
        What to tabulate; expected purchases are over the next ``horizon`` units.
    max_frequency : int
        Frequencies 0..max_frequency (rows).
    recency_points : int
        Recencies evenly spaced on [0, T] (columns). Frequency 0 has recency 0
        by definition; its row repeats the frequency-0 value across recencies.

    Returns
    -------
    DataFrame
        Index ``frequency``, columns ``recency`` (floats), values the quantity.
    """
    if quantity not in ("probability_alive", "expected_purchases"):
        raise DataError(
            f"quantity must be 'probability_alive' or 'expected_purchases', got {quantity!r}."
        )
    if not (np.isfinite(T) and T > 0):
        raise DataError(f"T (customer age) must be a positive number, got {T!r}.")
    freq = np.arange(max_frequency + 1)
    rec = np.linspace(0, T, recency_points)
    f, r = np.meshgrid(freq, rec, indexing="ij")
    r = np.where(f == 0, 0.0, r)
    data = pd.DataFrame({"frequency": f.ravel().astype(float), "recency": r.ravel(), "T": float(T)})
    if quantity == "probability_alive":
        values = result.probability_alive(data)
    else:
        values = result.expected_purchases(horizon, data=data)
    grid = pd.DataFrame(
        np.asarray(values, dtype=float).reshape(f.shape),
        index=pd.Index(freq, name="frequency"),
        columns=pd.Index(np.round(rec, 6), name="recency"),
    )
    return grid
