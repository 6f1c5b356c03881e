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


def _day(value: object, name: str, default: int | None) -> int | None:
    """A date parameter as days since 1970-01-01 (its calendar day)."""
    stamp = _timestamp(value, name)
    if stamp is None:
        return default
    return int(stamp.to_datetime64().astype("datetime64[D]").astype(np.int64))


def _date(day: int) -> str:
    return str(np.datetime64(int(day), "D"))


def _days(dates: pd.Series) -> np.ndarray:
    """Calendar day of every transaction as days since 1970-01-01 (int64)."""
    if not pd.api.types.is_datetime64_dtype(dates.dtype):
        dates = pd.to_datetime(dates)
        if getattr(dates.dt, "tz", None) is not None:
            dates = dates.dt.tz_localize(None)
    return dates.to_numpy().astype("datetime64[D]").astype(np.int64)


def _customer_codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct customer ids and each row's position among them.

    Integer ids in a compact range are mapped through a lookup table (linear time);
    others are factorized by pandas.
    """
    array = values.to_numpy()
    if array.dtype.kind in "iu" and array.size:
        low, high = int(array.min()), int(array.max())
        if high - low < 4 * array.size + 1_000_000:
            present = np.zeros(high - low + 1, dtype=bool)
            present[array - low] = True
            ids = np.flatnonzero(present)
            position = np.cumsum(present) - 1
            return (ids + low).astype(array.dtype), position[array - low]
    codes, ids = pd.factorize(values, sort=True)
    return np.asarray(ids), codes


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
    days = _days(transactions["date"])
    first_data, last_data = int(days.min()), int(days.max())
    cal_day = _day(calibration_end, "calibration_end", default=last_data)
    obs_day = _day(observation_end, "observation_end", default=None)
    if cal_day < first_data:
        raise DataError(
            f"calibration_end {_date(cal_day)} is before the first transaction "
            f"({_date(first_data)}); choose a later date."
        )
    if obs_day is not None and obs_day <= cal_day:
        raise DataError(
            f"observation_end {_date(obs_day)} must be after calibration_end {_date(cal_day)}."
        )
    ids, codes = _customer_codes(transactions["customer_id"])
    amounts = transactions["amount"].to_numpy(dtype=float)
    n_cust = ids.size

    # per customer, straight from the rows (no sort): first day, last day and value in
    # calibration, and the value of the first day (its purchases are one occasion)
    first_day = np.full(n_cust, np.iinfo(np.int64).max)
    np.minimum.at(first_day, codes, days)
    in_cal = days <= cal_day
    all_cal = bool(in_cal.all())
    cal_codes, cal_days = (codes, days) if all_cal else (codes[in_cal], days[in_cal])
    cal_amounts = amounts if all_cal else amounts[in_cal]
    last_day = first_day.copy()
    np.maximum.at(last_day, cal_codes, cal_days)
    cal_value = np.bincount(cal_codes, weights=cal_amounts, minlength=n_cust)
    on_first = cal_days == first_day[cal_codes]
    first_value = np.bincount(cal_codes[on_first], weights=cal_amounts[on_first], minlength=n_cust)

    # purchase occasions = distinct (customer, day): one stable (radix) sort of an int64
    # key, skipped when the log is already in customer-day or day-customer order
    offset = days - first_data
    key = codes.astype(np.int64) * (last_data - first_data + 1) + offset
    day_major = False
    if not np.all(key[1:] >= key[:-1]):
        by_day = offset * n_cust + codes
        day_major = bool(np.all(by_day[1:] >= by_day[:-1]))
        key = by_day if day_major else np.sort(key, kind="stable")
    occasion = key[np.r_[True, key[1:] != key[:-1]]]
    if day_major:
        occ_day, occ_customer = np.divmod(occasion, n_cust)
    else:
        occ_customer, occ_day = np.divmod(occasion, last_data - first_data + 1)
    occ_day += first_data
    frequency = np.bincount(occ_customer[occ_day <= cal_day], minlength=n_cust) - 1
    frequency = np.maximum(frequency, 0)  # customers whose first purchase is after calibration
    unit = UNITS[time_unit]
    out = pd.DataFrame(
        {
            "frequency": frequency.astype(float),
            "recency": (last_day - first_day) / unit,
            "T": (cal_day - first_day) / unit,
            "monetary_value": np.divide(
                cal_value - first_value, frequency, out=np.zeros(n_cust), where=frequency > 0
            ),
            "first_purchase": first_day.astype("datetime64[D]").astype("datetime64[ns]"),
        },
        index=pd.Index(ids, name="customer_id"),
    )
    if obs_day is not None:
        hold = (occ_day > cal_day) & (occ_day <= obs_day)
        out["frequency_holdout"] = np.bincount(occ_customer[hold], minlength=n_cust).astype(float)
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
            f"(calibration_end {_date(cal_day)}); widen the cohort or move calibration_end."
        )
    out.attrs.update(
        {
            "time_unit": time_unit,
            "calibration_end": _date(cal_day),
            "observation_end": None if obs_day is None else _date(obs_day),
            "excluded": excluded,
        }
    )
    return out
