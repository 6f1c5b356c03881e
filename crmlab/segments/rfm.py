"""RFM scoring (Hughes, *Strategic Database Marketing*, 1994) and named RFM segments.

**Units and meaning.** In RFM, *recency* is the time since the customer's last
purchase, measured in **days** at the ``as_of`` date, and a *small* recency is good,
so it is scored the other way round (most recent = highest R score). This differs
from the recency of BTYD models (``crmlab.rfm_summary``, BG/NBD, Pareto/NBD), which is
the time of the last *repeat* purchase measured *from the first purchase* (large =
good, in weeks by default). *Frequency* here counts orders (rows) in the window, the
first one included (BTYD frequency counts repeat purchases only). *Monetary* is total
revenue in the window (or the mean order value with ``monetary="mean"``).

**Scores and ties.** With ``bins`` = q, a value's score is
``1 + floor(q * (r - 1) / n)`` where ``r`` is its *average* rank among ``n`` customers
(ascending in goodness). Equal values therefore share a score - the score of the
middle of their group - and with many ties some scores stay empty (in CDNOW about
half the customers bought once, so they all share one F score). Without ties each
score holds n/q customers (exact quintiles when n is a multiple of 5).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from crmlab.errors import DataError
from crmlab.segments.profit import check_overlap, check_transactions, parse_length

#: Named segments for 5 bins, checked in order (first match wins); ``R``, ``F``, ``M``
#: are scores 1-5 (5 best) and ``recency_days``, ``frequency``, ``monetary`` the raw values.
DEFAULT_SEGMENTS: dict[str, str] = {
    "champions": "R >= 4 and F >= 4 and M >= 4",
    "new customers": "R >= 4 and frequency == 1",
    "loyal": "R >= 3 and F >= 4",
    "potential loyalists": "R >= 4 and F >= 2",
    "cannot lose them": "R <= 2 and F >= 4 and M >= 4",
    "at risk": "R <= 2 and F >= 3",
    "need attention": "R == 3 and F >= 2",
    "about to sleep": "R == 3",
    "hibernating": "R == 2",
    "lost": "R == 1",
}


def score(values: pd.Series, bins: int = 5, *, higher_is_better: bool = True) -> pd.Series:
    """Scores 1..bins from average ranks: ``1 + floor(bins * (rank - 1) / n)``.

    Equal values share a score; see the module docstring.
    """
    if not isinstance(bins, int | np.integer) or isinstance(bins, bool) or bins < 2:
        raise DataError(
            f"parameter 'bins' is {bins!r}; give an integer of 2 or more (5 = quintiles)."
        )
    v = pd.Series(values, dtype=float)
    if v.isna().any():
        first = v.index[np.flatnonzero(v.isna().to_numpy())[0]]
        raise DataError(
            f"{int(v.isna().sum())} missing value(s) to score, first for customer {first!r}; "
            "fill or remove them."
        )
    n = len(v)
    if n == 0:
        return pd.Series([], index=v.index, dtype=int)
    rank = v.rank(method="average", ascending=higher_is_better)
    out = 1 + np.floor(bins * (rank.to_numpy() - 1) / n + 1e-9).astype(int)
    return pd.Series(np.clip(out, 1, bins), index=v.index, dtype=int)


def rfm_scores(
    transactions: pd.DataFrame,
    as_of: str | pd.Timestamp | None = None,
    *,
    length: str | int | None = None,
    bins: int = 5,
    monetary: str = "total",
) -> pd.DataFrame:
    """RFM values and scores of every customer who bought in the window.

    Parameters
    ----------
    transactions : DataFrame
        ``customer_id``, ``date``, ``amount``.
    as_of : date, optional
        The scoring date (inclusive); default: the last purchase day in the data.
    length : str or int, optional
        Look-back window (``"1Y"``, ``"6M"``, days); default: all history up to ``as_of``.
    bins : int
        Number of score levels (5 = quintiles).
    monetary : {"total", "mean"}
        Total revenue in the window or mean order value.

    Returns
    -------
    DataFrame
        Indexed by ``customer_id``: ``recency_days`` (days from the last purchase to
        ``as_of``; 0 = bought on ``as_of``), ``frequency`` (orders in the window),
        ``monetary``, scores ``R``, ``F``, ``M`` (1..bins, high = good) and ``RFM``
        (the three digits as a string, e.g. ``"545"``).
    """
    if monetary not in ("total", "mean"):
        raise DataError(f"parameter 'monetary' is {monetary!r}; use 'total' or 'mean'.")
    check_transactions(transactions)
    day = transactions["date"].dt.normalize()
    stop = day.max() if as_of is None else pd.Timestamp(as_of).normalize()
    start = day.min() - pd.Timedelta(days=1) if length is None else stop - parse_length(length)
    check_overlap(transactions, start, stop)
    inside = (day > start) & (day <= stop)
    tx = pd.DataFrame(
        {
            "customer_id": transactions.loc[inside, "customer_id"].to_numpy(),
            "day": day[inside].to_numpy(),
            "amount": transactions.loc[inside, "amount"].to_numpy(float),
        }
    )
    g = tx.groupby("customer_id", sort=True)
    out = pd.DataFrame(
        {
            "recency_days": (stop - g["day"].max()).dt.days.astype(int),
            "frequency": g.size().astype(int),
            "monetary": g["amount"].sum() if monetary == "total" else g["amount"].mean(),
        }
    )
    out["R"] = score(out["recency_days"], bins, higher_is_better=False)
    out["F"] = score(out["frequency"], bins)
    out["M"] = score(out["monetary"], bins)
    out["RFM"] = out["R"].astype(str) + out["F"].astype(str) + out["M"].astype(str)
    return out


def rfm_segments(
    scores: pd.DataFrame,
    rules: Mapping[str, str] | None = None,
    *,
    other: str = "others",
) -> pd.Series:
    """Name each customer's segment by the first rule (a ``DataFrame.eval`` condition) that holds.

    Parameters
    ----------
    scores : DataFrame
        Output of :func:`rfm_scores`.
    rules : mapping name -> condition, optional
        Ordered; default :data:`DEFAULT_SEGMENTS` (written for 5 bins; with another
        number of bins pass your own rules).
    other : str
        Segment of customers no rule matches.

    Returns
    -------
    Series
        Ordered categorical segment per customer (rule order, then ``other``).
    """
    if rules is None:
        top = int(scores[["R", "F", "M"]].to_numpy().max()) if len(scores) else 5
        if top > 5:
            raise DataError(
                f"scores reach {top}, but the default segment rules are written for 5 bins; "
                "pass rules={name: condition} for your number of bins."
            )
        rules = DEFAULT_SEGMENTS
    names = list(rules)
    segment = pd.Series(pd.NA, index=scores.index, dtype=object)
    for name, condition in rules.items():
        try:
            hit = scores.eval(condition)
        except Exception as exc:  # pandas raises several error types for bad expressions
            raise DataError(
                f"segment rule {name!r} = {condition!r} cannot be evaluated ({exc}); write it "
                "with columns R, F, M, recency_days, frequency, monetary, e.g. 'R >= 4 and F >= 4'."
            ) from exc
        hit = pd.Series(hit, index=scores.index).astype(bool)
        segment[hit & segment.isna()] = name
    segment = segment.fillna(other)
    return pd.Series(
        pd.Categorical(segment, categories=[*names, other], ordered=True),
        index=scores.index,
        name="segment",
    )


def segment_table(scores: pd.DataFrame, segments: pd.Series) -> pd.DataFrame:
    """Per segment: ``customers``, ``share``, mean ``recency_days``/``frequency``/``monetary``,
    total ``monetary`` and its share, plus the rule-defining mean scores."""
    g = scores.groupby(segments, observed=False)
    table = pd.DataFrame(
        {
            "customers": g.size().astype(int),
            "recency_days": g["recency_days"].mean(),
            "frequency": g["frequency"].mean(),
            "monetary": g["monetary"].mean(),
            "total_monetary": g["monetary"].sum(),
        }
    )
    table.insert(1, "share", table["customers"] / max(len(scores), 1))
    total = table["total_monetary"].sum()
    table["monetary_share"] = table["total_monetary"] / total if total else np.nan
    table.index.name = "segment"
    return table
