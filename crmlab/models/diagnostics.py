"""Goodness of fit of the BTYD models as frames (``crmlab.plots.models`` draws them).

The three checks of Fader, Hardie & Lee (2005): the calibration-period frequency
histogram, tracking of repeat transactions over calibration and holdout, and
conditional expectations in the holdout by calibration frequency.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crmlab.errors import DataError
from crmlab.summary import UNITS


def _labels(max_frequency: int) -> list[str]:
    return [str(i) for i in range(max_frequency)] + [f"{max_frequency}+"]


def frequency_fit(result: Any, data: pd.DataFrame, max_frequency: int = 7) -> pd.DataFrame:
    """Customers by number of repeat purchases in calibration: observed vs expected.

    Expected counts are sum_i P(X(T_i) = k) over customers (``purchase_probability``),
    the last class pooling ``max_frequency`` and more.

    Returns
    -------
    DataFrame
        ``frequency`` (label), ``observed``, ``expected``.
    """
    if max_frequency < 1:
        raise DataError(f"max_frequency={max_frequency} must be at least 1.")
    f = data["frequency"].clip(upper=max_frequency).astype(int)
    observed = f.value_counts().reindex(range(max_frequency + 1), fill_value=0).to_numpy()
    ages, counts = np.unique(data["T"].to_numpy(dtype=float), return_counts=True)
    k = np.arange(max_frequency)
    probs = np.asarray(result.purchase_probability(k[:, None], ages[None, :]), dtype=float)
    expected = probs @ counts
    expected = np.r_[expected, len(data) - expected.sum()]
    return pd.DataFrame(
        {"frequency": _labels(max_frequency), "observed": observed, "expected": expected}
    )


def tracking(
    result: Any,
    transactions: pd.DataFrame,
    *,
    summary: pd.DataFrame,
    calibration_end: Any,
    observation_end: Any,
) -> pd.DataFrame:
    """Repeat transactions per period, actual and expected, across calibration and holdout.

    Periods are time units (weeks for a weekly summary) counted from the first
    purchase of the earliest customer: period k covers days [(k - 1) u, k u) after
    it, for u days per unit. Expected repeat purchases sum each customer's
    unconditional E[X(t)] from their first purchase (FHL 2005, Fig. 2).

    Returns
    -------
    DataFrame
        ``period`` (k, the end of the period in time units), ``date`` (the period's
        first day), ``holdout`` (True for periods that start after ``calibration_end``),
        ``actual``, ``expected``, ``cumulative_actual``, ``cumulative_expected``.
        ``attrs["calibration_end"]`` is the end of calibration on the ``period`` axis,
        (days from the first purchase to ``calibration_end``, inclusive) / u: where a
        plot draws the boundary (39.0 for CDNOW's 39 + 39 weeks);
        ``attrs["calibration_end_date"]`` is the date itself.
    """
    unit = UNITS[summary.attrs.get("time_unit", "W")]
    cal_end, obs_end = pd.Timestamp(calibration_end), pd.Timestamp(observation_end)
    first = pd.to_datetime(summary["first_purchase"])
    start = first.min()
    if not start <= cal_end < obs_end:
        raise DataError(
            f"calibration_end {cal_end:%Y-%m-%d} must lie between the first purchase "
            f"({start:%Y-%m-%d}) and observation_end ({obs_end:%Y-%m-%d})."
        )
    days = pd.to_datetime(transactions["date"]).dt.normalize()
    occasions = pd.DataFrame({"customer_id": transactions["customer_id"], "day": days})
    occasions = occasions.drop_duplicates()
    occasions = occasions[occasions["customer_id"].isin(summary.index)]
    firsts = occasions["customer_id"].map(first)
    repeat_days = occasions.loc[(occasions["day"] > firsts) & (occasions["day"] <= obs_end), "day"]
    n_periods = int(np.ceil(((obs_end - start).days + 1) / unit))
    period_of = np.floor(((repeat_days - start).dt.days) / unit).astype(int)
    actual = np.bincount(period_of, minlength=n_periods)[:n_periods].astype(float)

    births, counts = np.unique(((first - start).dt.days / unit).to_numpy(), return_counts=True)
    ends = np.arange(1, n_periods + 1, dtype=float)
    ages = np.clip(ends[:, None] - births[None, :], 0.0, None)
    cumulative = np.asarray(result.expected_purchases(ages), dtype=float) @ counts
    expected = np.diff(np.r_[0.0, cumulative])
    boundary = ((cal_end - start).days + 1) / unit
    table = pd.DataFrame(
        {
            "period": ends,
            "date": start + pd.to_timedelta((ends - 1) * unit, unit="D"),
            "holdout": ends - 1 >= boundary - 1e-9,
            "actual": actual,
            "expected": expected,
            "cumulative_actual": actual.cumsum(),
            "cumulative_expected": cumulative,
        }
    )
    table.attrs["calibration_end"] = boundary
    table.attrs["calibration_end_date"] = cal_end
    return table


def conditional_expectations(
    result: Any, summary: pd.DataFrame, max_frequency: int = 7
) -> pd.DataFrame:
    """Mean holdout purchases by calibration frequency: actual vs the model's forecast.

    Needs ``frequency_holdout`` and ``duration_holdout`` (``rfm_summary(...,
    observation_end=...)``).

    Returns
    -------
    DataFrame
        ``frequency`` (label), ``customers``, ``actual_holdout``, ``expected_holdout``.
    """
    for col in ("frequency_holdout", "duration_holdout"):
        if col not in summary.columns:
            raise DataError(
                f"the summary has no column {col!r}; build it with "
                "crmlab.rfm_summary(..., observation_end=...)."
            )
    horizon = float(summary["duration_holdout"].iloc[0])
    expected = np.asarray(result.expected_purchases(horizon, data=summary), dtype=float)
    group = summary["frequency"].clip(upper=max_frequency).astype(int).to_numpy()
    frame = pd.DataFrame(
        {"g": group, "a": summary["frequency_holdout"].to_numpy(), "e": expected}
    ).groupby("g")
    index = range(max_frequency + 1)
    return pd.DataFrame(
        {
            "frequency": _labels(max_frequency),
            "customers": frame.size().reindex(index, fill_value=0).to_numpy(),
            "actual_holdout": frame["a"].mean().reindex(index).to_numpy(),
            "expected_holdout": frame["e"].mean().reindex(index).to_numpy(),
        }
    )
