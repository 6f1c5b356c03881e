"""Transactions -> one row per customer: the RFM summary the BTYD models are fitted on.

This is the one place that reads raw logs at scale. Same-day transactions are
one purchase occasion (their amounts add up), as in Fader, Hardie & Lee (2005).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmlab.errors import DataError

UNITS = {"D": 1.0, "W": 7.0}


def _timestamp(value: object, name: str) -> pd.Timestamp | None:
    if value is None or value == "":
        return None
    try:
        return pd.Timestamp(value)
    except (TypeError, ValueError):
        raise DataError(f"{name}={value!r} is not a date; use e.g. '1997-09-30'.") from None


def rfm_summary(
    transactions: pd.DataFrame,
    *,
    calibration_end: object = None,
    observation_end: object = None,
    time_unit: str = "W",
    cohort_start: object = None,
    cohort_end: object = None,
) -> pd.DataFrame:
    """Summarise a transaction log into frequency, recency, T and monetary value.

    Parameters
    ----------
    transactions : DataFrame
        Validated transactions with ``customer_id``, ``date``, ``amount``.
    calibration_end : date, optional
        Last day of the calibration period (inclusive; default: the last date).
    observation_end : date, optional
        Last day of a holdout period; adds ``frequency_holdout`` and ``duration_holdout``.
    time_unit : {"W", "D"}
        Weeks (days / 7, fractional) or days. Stored in ``attrs["time_unit"]``.
    cohort_start, cohort_end : date, optional
        Keep only customers whose first purchase falls in this window (inclusive).

    Returns
    -------
    DataFrame
        Indexed by ``customer_id``:

        * ``frequency``: repeat purchase occasions in calibration (distinct days after the first);
        * ``recency``: time from the first to the last purchase occasion (0 without repeats);
          note this is BTYD recency, not RFM's "time since last purchase";
        * ``T``: time from the first purchase to ``calibration_end``;
        * ``monetary_value``: mean value of the repeat occasions (0 without repeats);
        * ``first_purchase``: date of the first purchase;
        * with ``observation_end``: ``frequency_holdout`` (occasions after calibration up to
          ``observation_end``) and ``duration_holdout`` (its length).

        ``attrs["excluded"]`` counts customers left out (first purchase after
        ``calibration_end`` or outside the cohort window).
    """
    if time_unit not in UNITS:
        raise DataError(f"time_unit={time_unit!r} is not known; use 'W' (weeks) or 'D' (days).")
    missing = [c for c in ("customer_id", "date", "amount") if c not in transactions.columns]
    if missing:
        raise DataError(
            f"transactions have no column {', '.join(map(repr, missing))}; load them with "
            "crmlab.read_transactions or crmlab.load_dataset."
        )
    if len(transactions) == 0:
        raise DataError("transactions have no rows: there is nothing to summarise.")
    dates = pd.to_datetime(transactions["date"]).dt.normalize()
    last = dates.max()
    cal_end = _timestamp(calibration_end, "calibration_end") or last
    obs_end = _timestamp(observation_end, "observation_end")
    if cal_end < dates.min():
        raise DataError(
            f"calibration_end {cal_end:%Y-%m-%d} is before the first transaction "
            f"({dates.min():%Y-%m-%d}); choose a later date."
        )
    if obs_end is not None and obs_end <= cal_end:
        raise DataError(
            f"observation_end {obs_end:%Y-%m-%d} must be after calibration_end {cal_end:%Y-%m-%d}."
        )

    # one row per customer-day (an occasion), in order
    ids, id_codes = np.unique(transactions["customer_id"].to_numpy(), return_inverse=True)
    days = dates.to_numpy().astype("datetime64[D]").astype(np.int64)
    amounts = transactions["amount"].to_numpy(dtype=float)
    key = id_codes.astype(np.int64) * (days.max() - days.min() + 2) + (days - days.min())
    uniq, inverse = np.unique(key, return_inverse=True)
    occ_value = np.bincount(inverse, weights=amounts, minlength=uniq.size)
    span = days.max() - days.min() + 2
    occ_customer = uniq // span
    occ_day = uniq % span + days.min()

    first_idx = np.r_[0, np.flatnonzero(np.diff(occ_customer)) + 1]
    n_cust = first_idx.size
    first_day = occ_day[first_idx]
    first_of_occ = np.repeat(first_day, np.diff(np.r_[first_idx, occ_customer.size]))
    cal_day = np.int64(cal_end.to_datetime64().astype("datetime64[D]").astype(np.int64))
    in_cal = occ_day <= cal_day
    repeat = in_cal & (occ_day > first_of_occ)
    cust = occ_customer

    frequency = np.bincount(cust[repeat], minlength=n_cust)
    last_day = np.full(n_cust, np.iinfo(np.int64).min)
    np.maximum.at(last_day, cust[in_cal], occ_day[in_cal])
    repeat_value = np.bincount(cust[repeat], weights=occ_value[repeat], minlength=n_cust)
    unit = UNITS[time_unit]
    out = pd.DataFrame(
        {
            "frequency": frequency.astype(float),
            "recency": (last_day - first_day) / unit,
            "T": (cal_day - first_day) / unit,
            "monetary_value": np.divide(
                repeat_value, frequency, out=np.zeros(n_cust), where=frequency > 0
            ),
            "first_purchase": first_day.astype("datetime64[D]").astype("datetime64[ns]"),
        },
        index=pd.Index(ids[np.unique(occ_customer)], name="customer_id"),
    )
    if obs_end is not None:
        obs_day = obs_end.to_datetime64().astype("datetime64[D]").astype(np.int64)
        hold = (occ_day > cal_day) & (occ_day <= obs_day)
        out["frequency_holdout"] = np.bincount(cust[hold], minlength=n_cust).astype(float)
        out["duration_holdout"] = float(obs_day - cal_day) / unit

    keep = first_day <= cal_day
    excluded = {"first purchase after calibration_end": int((~keep).sum())}
    if cohort_start is not None or cohort_end is not None:
        lo = _timestamp(cohort_start, "cohort_start") or pd.Timestamp.min
        hi = _timestamp(cohort_end, "cohort_end") or pd.Timestamp.max
        first = out["first_purchase"]
        in_cohort = ((first >= lo) & (first <= hi)).to_numpy()
        excluded["first purchase outside the cohort window"] = int((keep & ~in_cohort).sum())
        keep &= in_cohort
    out = out.loc[keep]
    if out.empty:
        raise DataError(
            "no customer made a first purchase in the chosen window "
            f"(calibration_end {cal_end:%Y-%m-%d}); widen the cohort or move calibration_end."
        )
    out.attrs.update(
        {
            "time_unit": time_unit,
            "calibration_end": cal_end,
            "observation_end": obs_end,
            "excluded": excluded,
        }
    )
    return out
