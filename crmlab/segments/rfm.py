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

#: The segment table of the R package ``rfm`` (Hebbali, ``rfm_segment``, documentation
#: example; R, F and M scores 1-5, 5 best): each row is a segment with the score range
#: (inclusive) it needs on R, F and M. Rows are checked in this order and the first that
#: holds names the customer, as in ``rfm_segment``; customers no row matches are "others".
RFM_PACKAGE_SEGMENTS = pd.DataFrame(
    [
        ("champions", 4, 5, 4, 5, 4, 5),
        ("loyal customers", 2, 5, 3, 5, 3, 5),
        ("potential loyalist", 3, 5, 1, 3, 1, 3),
        ("new customers", 4, 5, 1, 1, 1, 1),
        ("promising", 3, 4, 1, 1, 1, 1),
        ("need attention", 2, 3, 2, 3, 2, 3),
        ("about to sleep", 2, 3, 1, 2, 1, 2),
        ("at risk", 1, 2, 2, 5, 2, 5),
        ("can't lose them", 1, 1, 4, 5, 4, 5),
        ("lost", 1, 2, 1, 2, 1, 2),
    ],
    columns=["segment", "R_low", "R_high", "F_low", "F_high", "M_low", "M_high"],
).set_index("segment")


def segment_rules(bins: int = 5, table: pd.DataFrame | None = None) -> dict[str, str]:
    """Segment rules (name -> ``DataFrame.eval`` condition) for scores 1..``bins``.

    The rules are :data:`RFM_PACKAGE_SEGMENTS` (written for 5 levels) with every score range
    carried over to ``bins`` levels by the share of customers it covers: a 5-level range
    ``[lo, hi]`` covers ranks in ``((lo - 1)/5, hi/5]``, which on ``q`` levels is
    ``[floor((lo - 1) q / 5) + 1, ceil(hi q / 5)]``. For ``bins=5`` they are the package's
    rules unchanged.
    """
    if not isinstance(bins, int | np.integer) or isinstance(bins, bool) or bins < 2:
        raise DataError(
            f"parameter 'bins' is {bins!r}; give an integer of 2 or more (5 = quintiles)."
        )
    table = RFM_PACKAGE_SEGMENTS if table is None else table
    rules = {}
    for name, row in table.iterrows():
        parts = []
        for s in ("R", "F", "M"):
            lo = int(np.floor((row[f"{s}_low"] - 1) * bins / 5 + 1e-9)) + 1
            hi = int(np.ceil(row[f"{s}_high"] * bins / 5 - 1e-9))
            parts.append(f"{s} >= {lo} and {s} <= {hi}")
        rules[str(name)] = " and ".join(parts)
    return rules


#: The default rules (5 bins): :func:`segment_rules` of :data:`RFM_PACKAGE_SEGMENTS`.
DEFAULT_SEGMENTS: dict[str, str] = segment_rules(5)


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
    out.attrs["bins"] = int(bins)
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
        Ordered; default :func:`segment_rules` for the number of bins in ``scores``
        (the R ``rfm`` package's table).
    other : str
        Segment of customers no rule matches.

    Returns
    -------
    Series
        Ordered categorical segment per customer (rule order, then ``other``).
    """
    if rules is None:
        rules = segment_rules(int(scores.attrs.get("bins", 5)))
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


def _matches(scores: pd.DataFrame, rules: Mapping[str, str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            name: pd.Series(scores.eval(cond), index=scores.index).astype(bool)
            for name, cond in rules.items()
        }
    )


def segment_table(
    scores: pd.DataFrame, segments: pd.Series, rules: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """Per segment: ``customers``, ``share``, mean ``recency_days``/``frequency``/``monetary``,
    total ``monetary`` and its share; with ``rules``, also ``match_rule`` (customers whose
    scores satisfy the rule, whatever earlier rules took), ``taken_earlier`` (of those, the
    customers an earlier rule named first: the overlap) and ``note``, which says why a
    segment is empty: no customer has the scores it needs (naming the empty score range),
    or every match was taken by earlier segments (naming them)."""
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
    table.index = pd.Index(table.index.astype(str), name="segment")
    if rules is not None:
        hits = _matches(scores, rules)
        seg = pd.Series(segments, index=scores.index).astype(str)
        match = hits.sum().astype(int)
        table["match_rule"] = match.reindex(table.index).fillna(0).astype(int)
        table["taken_earlier"] = (table["match_rule"] - table["customers"]).where(
            table.index.isin(list(rules)), 0
        )
        boxes = {name: _box(cond) for name, cond in rules.items()}
        notes = {}
        names = list(rules)
        for i, (name, cond) in enumerate(rules.items()):
            inside = [
                e for e in names[:i] if boxes[name] and boxes[e] and _within(boxes[name], boxes[e])
            ]
            shadow = (
                f"; its score ranges lie inside those of {', '.join(repr(e) for e in inside)}, "
                "listed earlier, so it can never hold a customer"
                if inside
                else ""
            )
            if match[name] == 0:
                notes[name] = (
                    f"0 customers: no customer has the scores {cond}"
                    + _empty_scores(scores, cond)
                    + shadow
                )
            elif table.loc[name, "customers"] == 0:
                takers = seg[hits[name]].value_counts()
                who = ", ".join(f"{k} ({v:,})" for k, v in takers.items() if v)
                notes[name] = (
                    f"0 customers: all {match[name]:,} matches were named first by {who}" + shadow
                )
        table["note"] = pd.Series(notes, dtype=object).reindex(table.index).fillna("")
    return table


def _box(condition: str) -> dict[str, tuple[int, int]] | None:
    """``{"R": (lo, hi), ...}`` of a rule ``"R >= lo and R <= hi and ..."``, else None."""
    box: dict[str, list[int]] = {}
    for part in condition.split(" and "):
        bits = part.split()
        if len(bits) != 3 or bits[0] not in ("R", "F", "M") or bits[1] not in (">=", "<="):
            return None
        try:
            value = int(bits[2])
        except ValueError:
            return None
        lo, hi = box.setdefault(bits[0], [-(10**9), 10**9])
        box[bits[0]] = [value, hi] if bits[1] == ">=" else [lo, value]
    return {k: (v[0], v[1]) for k, v in box.items()}


def _within(inner: dict, outer: dict) -> bool:
    """Whether every score range of ``inner`` lies inside ``outer``'s."""
    for s in ("R", "F", "M"):
        lo, hi = inner.get(s, (-(10**9), 10**9))
        olo, ohi = outer.get(s, (-(10**9), 10**9))
        if lo < olo or hi > ohi:
            return False
    return True


def _empty_scores(scores: pd.DataFrame, condition: str) -> str:
    """Which score levels the condition needs that no customer has (e.g. 'F = 1')."""
    empty = []
    for s in ("R", "F", "M"):
        held = set(scores[s].unique().tolist())
        lo = hi = None
        for part in condition.split(" and "):
            name, op, val = part.split()
            if name == s and op == ">=":
                lo = int(val)
            if name == s and op == "<=":
                hi = int(val)
        if lo is not None and hi is not None and not held & set(range(lo, hi + 1)):
            empty.append(f"{s} {lo}-{hi}" if lo != hi else f"{s} = {lo}")
    if empty:
        return f" (no customer has {', '.join(empty)}: tied values share a score)"
    return " (the scores it needs never occur together)"
