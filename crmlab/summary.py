"""Transactions -> one row per customer: the RFM summary the BTYD models are fitted on.

This is the one place that reads raw logs at scale. Same-day transactions are
one purchase occasion (their amounts add up), as in Fader, Hardie & Lee (2005).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from crmlab.checks import timestamp
from crmlab.errors import DataError
from crmlab.units import DAYS_PER_UNIT

UNITS = {u: DAYS_PER_UNIT[u] for u in ("D", "W")}  # the units BTYD summaries use


class HoldoutWarning(UserWarning):
    """The holdout window reaches beyond the data: forecasts would be judged on empty days."""


def _day(value: object, name: str, default: int | None) -> int | None:
    """A date parameter as days since 1970-01-01 (its calendar day)."""
    stamp = timestamp(value, name, optional=True)
    if stamp is None:
        return default
    return int(stamp.to_datetime64().astype("datetime64[D]").astype(np.int64))


def check_window(
    first_data: int, last_data: int, cal_day: int, obs_day: int | None, *, stacklevel: int = 2
) -> None:
    """Refuse a calibration end before the data or an observation end not after it, and
    warn (:class:`HoldoutWarning`) when the holdout reaches past the last transaction.

    Days are counted since 1970-01-01; every summary engine checks its window here.
    """
    if cal_day < first_data:
        raise DataError(
            f"calibration_end {_date(cal_day)} is before the first transaction "
            f"({_date(first_data)}); choose a later date."
        )
    if obs_day is not None and obs_day <= cal_day:
        raise DataError(
            f"observation_end {_date(obs_day)} must be after calibration_end {_date(cal_day)}."
        )
    if obs_day is not None and obs_day > last_data:
        empty, length = obs_day - max(last_data, cal_day), obs_day - cal_day
        warnings.warn(
            f"observation_end {_date(obs_day)} is after the last transaction "
            f"({_date(last_data)}): {empty:,} of the holdout's {length:,} days "
            f"({empty / length:.0%}) have no data, so holdout counts are too low for them. "
            "Set observation_end to the last day the data cover.",
            HoldoutWarning,
            stacklevel=stacklevel,
        )


def _date(day: int) -> str:
    return str(np.datetime64(int(day), "D"))


def _days(dates: pd.Series) -> np.ndarray:
    """Calendar day of every transaction as days since 1970-01-01 (int64)."""
    if not pd.api.types.is_datetime64_dtype(dates.dtype):
        dates = pd.to_datetime(dates)
        if getattr(dates.dt, "tz", None) is not None:
            dates = dates.dt.tz_localize(None)
    return dates.to_numpy().astype("datetime64[D]").view(np.int64)


def _customer_codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct customer ids and each row's position among them.

    Integer ids in a compact range are mapped through a lookup table (linear time, int32
    positions below 2**31 rows); others are factorized by pandas.
    """
    array = values.to_numpy()
    if array.dtype.kind in "iu" and array.size:
        low, high = int(array.min()), int(array.max())
        if high - low < 4 * array.size + 1_000_000:
            relative = array - low if low else array
            present = np.zeros(high - low + 1, dtype=bool)
            present[relative] = True
            position = np.cumsum(present, dtype=np.int32 if array.size < 2**31 else np.int64)
            position -= 1
            ids = np.flatnonzero(present)
            return (ids + low).astype(array.dtype), position[relative]
    codes, ids = pd.factorize(values, sort=True)
    return np.asarray(ids), codes


#: the day-by-day path pays a few Python steps per day of log; below this many rows per
#: day on average one global sort is cheaper (measured crossover: 70-130 rows a day)
MIN_ROWS_PER_DAY = 100


def _occasion_counts(
    codes: np.ndarray, offset: np.ndarray, n_cust: int, n_days: int, cal: int, obs: int
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct purchase days per customer in ``[0, cal]`` and in ``(cal, obs]``.

    ``offset`` is each row's day counted from the first day of the log (``0 .. n_days-1``);
    ``cal`` and ``obs`` are days on the same scale (``obs == cal``: no holdout).

    A large log is taken day by day (after a stable radix sort by day unless it is
    already in date order): each day's customers are deduplicated through a table by
    customer, with no sort. A log in customer-day order is read as it is, and a small
    one takes one sort of a combined (customer, day) key. All paths give the same counts.
    """
    by_days = codes.size >= MIN_ROWS_PER_DAY * n_days and n_days <= 2**16
    if by_days:
        day = offset.astype(np.uint16)
        if bool(np.all(day[1:] >= day[:-1])):  # date order: each day is one block already
            return _counts_day_by_day(codes, day, None, n_cust, n_days, cal, obs)
    key = None
    if bool(np.all(codes[1:] >= codes[:-1])):  # grouped by customer: maybe customer-day order
        key = codes.astype(np.int64) * n_days + offset
        if not bool(np.all(key[1:] >= key[:-1])):
            key = None
    if key is None:
        if by_days:
            order = np.argsort(day, kind="stable")  # numpy radix-sorts 16-bit keys
            return _counts_day_by_day(codes, day, order, n_cust, n_days, cal, obs)
        key = codes.astype(np.int64) * n_days + offset
        key.sort()
    occasion = key[np.r_[True, key[1:] != key[:-1]]]  # distinct customer * n_days + day
    del key
    start = np.arange(n_cust, dtype=np.int64) * n_days
    first = np.searchsorted(occasion, start)
    end_cal = np.searchsorted(occasion, start + min(cal + 1, n_days))
    end_obs = np.searchsorted(occasion, start + min(obs + 1, n_days))
    return end_cal - first, end_obs - end_cal


def _counts_day_by_day(
    codes: np.ndarray,
    day: np.ndarray,
    order: np.ndarray | None,
    n_cust: int,
    n_days: int,
    cal: int,
    obs: int,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_occasion_counts` for rows in date order (or put in it by ``order``)."""
    bounds = np.zeros(n_days + 1, dtype=np.int64)
    if order is None:  # where each day starts in the sorted days
        bounds[1:-1] = np.searchsorted(day, np.arange(1, n_days, dtype=np.uint16))
        bounds[-1] = day.size
    else:
        np.cumsum(np.bincount(day, minlength=n_days), out=bounds[1:])
        codes = codes[order]
    del order
    # one entry per (customer, purchase day), in date order: the day's rows write their
    # positions into a table by customer; a row is its customer's representative when its
    # own position survived (whichever duplicate wins, exactly one does)
    distinct = np.empty(codes.size, dtype=codes.dtype)
    largest = int(np.diff(bounds).max())
    position = np.arange(largest, dtype=np.int32 if largest < 2**31 else np.int64)
    where = np.empty(n_cust, dtype=position.dtype)
    ends = np.empty(n_days, dtype=np.int64)
    packed = 0
    edges = bounds.tolist()
    for d in range(n_days):
        lo, hi = edges[d], edges[d + 1]
        if hi > lo:
            block, mine = codes[lo:hi], position[: hi - lo]
            where[block] = mine
            found = block[where[block] == mine]
            distinct[packed : packed + found.size] = found
            packed += found.size
        ends[d] = packed
    in_cal, in_obs = ends[min(cal, n_days - 1)], ends[min(obs, n_days - 1)]
    return (
        np.bincount(distinct[:in_cal], minlength=n_cust),
        np.bincount(distinct[in_cal:in_obs], minlength=n_cust),
    )


def _log_intervals(
    codes: np.ndarray, days: np.ndarray, n_cust: int, first: int, cal_day: int, unit: float
) -> np.ndarray:
    """Sum over each customer's calibration purchase occasions of ln(time since the previous
    occasion), in time units (``litt`` of BTYDplus' ``elog2cbs``); 0 without repeats."""
    keep = days <= cal_day
    span = int(cal_day - first) + 1
    key = np.unique(codes[keep].astype(np.int64) * span + (days[keep] - first))
    owner = key // span
    same = owner[1:] == owner[:-1]
    gaps = np.diff(key)[same] / unit
    return np.bincount(owner[1:][same], weights=np.log(gaps), minlength=n_cust)


def _engine_source(transactions: object) -> bool:
    """A source the engines read: a path, a DuckDB relation or a PySpark DataFrame."""
    if isinstance(transactions, str | Path):
        return True
    module = type(transactions).__module__
    return module.startswith(("duckdb", "pyspark"))


def rfm_summary(
    transactions: pd.DataFrame | str | Path | Any,
    *,
    calibration_end: object = None,
    observation_end: object = None,
    time_unit: str = "W",
    cohort_start: object = None,
    cohort_end: object = None,
    patterns: bool = False,
    regularity: bool = False,
    **source: Any,
) -> pd.DataFrame:
    """Summarise a transaction log into frequency, recency, T and monetary value.

    Parameters
    ----------
    transactions : DataFrame, str, DuckDB relation or PySpark DataFrame
        Validated transactions with ``customer_id``, ``date``, ``amount`` (pandas); or
        a source summarised where it lives (:func:`crmlab.engines.summarize`): a
        DuckDB relation, a PySpark DataFrame, a Parquet file/folder/glob, a CSV, a
        DuckDB file (``duckdb:///shop.duckdb``) or a SQLAlchemy URL. Such sources are
        validated in the engine (the checks and messages of
        :func:`crmlab.read_transactions`) and only one row per customer comes back.
    patterns : bool
        Return the distinct (frequency, recency, T) with the number of customers
        sharing each (``weight``) instead of one row per customer: the input every
        transaction model fits from, at the size of the patterns.
    regularity : bool
        Add ``litt``: the sum of the logarithms of the customer's inter-purchase times in
        calibration (between consecutive purchase occasions, in ``time_unit``; 0 without
        repeats), the statistic of timing regularity that the BG/CNBD-k and MBG/CNBD-k
        likelihoods need (Platzer & Reutterer 2016; BTYDplus' ``elog2cbs``). Off by
        default: it costs a sort of the log. With ``patterns``, ``litt`` is the mean over
        each pattern's customers (so ``weight * litt`` adds up to their sum).
    **source
        For engine sources: the column map (``customer_id=``, ``date=``,
        ``amount=``), ``table=``/``query=`` for databases, ``engine='spark'``,
        ``spark=`` (a session), ``returns=``, ``duplicates=``, ``date_format=``,
        ``allow_large_amounts=``, ``today=``, ``sep=``, ``memory_limit=``, ``threads=``.
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
    window = {
        "calibration_end": calibration_end,
        "observation_end": observation_end,
        "time_unit": time_unit,
        "cohort_start": cohort_start,
        "cohort_end": cohort_end,
    }
    if not isinstance(regularity, bool):
        raise DataError(f"regularity must be True or False; got {regularity!r}.")
    if regularity and not isinstance(transactions, pd.DataFrame):
        raise DataError(
            "regularity=True (the litt column) is computed from a pandas transaction frame; "
            "load the log with crmlab.read_transactions and summarise that frame."
        )
    if not isinstance(transactions, pd.DataFrame) and _engine_source(transactions):
        from crmlab.engines import summarize

        return summarize(transactions, patterns=patterns, **window, **source)
    if source:
        raise DataError(
            f"option(s) {', '.join(source)} apply to sources read by an engine (a path, a "
            "DuckDB relation or a Spark DataFrame); a pandas frame is summarised as it is."
        )
    out = _summary(transactions, **window, regularity=regularity)
    if patterns:
        groups = out.groupby(["frequency", "recency", "T"])
        found = groups.size().rename("weight").reset_index()
        found["weight"] = found["weight"].astype(np.int64)
        if regularity:
            found["litt"] = groups["litt"].mean().to_numpy()
        found.attrs.update(out.attrs)
        return found
    return out


def _summary(
    transactions: pd.DataFrame,
    *,
    calibration_end: object,
    observation_end: object,
    time_unit: str,
    cohort_start: object,
    cohort_end: object,
    regularity: bool = False,
) -> pd.DataFrame:
    """The pandas path of :func:`rfm_summary`."""
    if not isinstance(time_unit, str) or time_unit not in UNITS:
        raise DataError(f"time_unit={time_unit!r} is not known; use 'W' (weeks) or 'D' (days).")
    if not isinstance(transactions, pd.DataFrame):
        raise DataError(
            "rfm_summary needs the transactions as a pandas DataFrame with columns "
            f"customer_id, date, amount; got a {type(transactions).__name__}. Load them with "
            "crmlab.read_transactions or crmlab.load_dataset."
        )
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
    check_window(first_data, last_data, cal_day, obs_day, stacklevel=3)
    ids, codes = _customer_codes(transactions["customer_id"])
    amounts = transactions["amount"].to_numpy(dtype=float)
    n_cust = ids.size

    # per customer, straight from the rows: first day; last day in calibration; value of
    # the repeat occasions (calibration rows after the first day, whose purchases are one
    # occasion)
    first_day = np.full(n_cust, np.iinfo(np.int64).max)
    np.minimum.at(first_day, codes, days)
    repeat = days > first_day[codes]
    if cal_day < last_data:
        repeat &= days <= cal_day
    repeat_codes = codes[repeat]
    last_day = first_day.copy()
    np.maximum.at(last_day, repeat_codes, days[repeat])
    repeat_value = np.bincount(repeat_codes, weights=amounts[repeat], minlength=n_cust)
    del repeat, repeat_codes

    # purchase occasions = distinct (customer, day)
    offset = days - first_data
    on_cal, on_hold = _occasion_counts(
        codes,
        offset,
        n_cust,
        last_data - first_data + 1,
        cal_day - first_data,
        cal_day - first_data if obs_day is None else obs_day - first_data,
    )
    del offset
    frequency = np.maximum(on_cal - 1, 0)  # 0: first purchase after calibration
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
        index=pd.Index(ids, name="customer_id"),
    )
    if regularity:
        out["litt"] = _log_intervals(codes, days, n_cust, first_data, cal_day, unit)
    if obs_day is not None:
        out["frequency_holdout"] = on_hold.astype(float)
        out["duration_holdout"] = float(obs_day - cal_day) / unit

    keep = first_day <= cal_day
    excluded = {"first purchase after calibration_end": int((~keep).sum())}
    if cohort_start is not None or cohort_end is not None:
        lo = timestamp(cohort_start, "cohort_start", optional=True) or pd.Timestamp.min
        hi = timestamp(cohort_end, "cohort_end", optional=True) or pd.Timestamp.max
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
