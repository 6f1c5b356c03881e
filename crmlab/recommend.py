"""The learning relationship: item-to-item recommendations from purchase histories.

The more a customer tells the firm (through what they buy), the better the firm
can serve them, and the harder the relationship is to copy (Peppers & Rogers'
"learning relationship"). Here the firm learns which items are bought by the same
customers (item-to-item co-occurrence, as in Linden, Smith & York, 2003) and
recommends to each customer the items most similar to what they already bought.

Input: a transactions frame with ``customer_id``, ``date`` and an item column
(default ``category``). Recommendations are items the customer has not bought yet.

References
----------
Linden, G., Smith, B. & York, J. (2003). Amazon.com recommendations: item-to-item
collaborative filtering. *IEEE Internet Computing* 7(1), 76-80.
Peppers, D., Rogers, M. & Dorf, B. (1999). Is your company ready for one-to-one
marketing? *Harvard Business Review* 77(1), 151-160.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse

from crmlab.checks import require_no_missing
from crmlab.errors import DataError, require_columns
from crmlab.reports import Finding
from crmlab.stats import wilson_interval

METHODS = ("cosine", "lift", "popularity")


def _check(transactions: pd.DataFrame, item: str) -> None:
    require_columns(transactions, ["customer_id", "date", item], "transactions")
    require_no_missing(transactions, ["customer_id", "date", item], "transactions")


def incidence(
    transactions: pd.DataFrame, *, item: str = "category", items: pd.Index | None = None
) -> tuple[sparse.csr_matrix, pd.Index, pd.Index]:
    """Customer x item 0/1 matrix: did the customer ever buy the item?

    Returns
    -------
    (matrix, customers, items)
        Sparse CSR matrix and the row and column labels.
    """
    _check(transactions, item)
    customers, rows = np.unique(transactions["customer_id"].to_numpy(), return_inverse=True)
    if items is None:
        items = pd.Index(np.unique(transactions[item].to_numpy()), name=item)
    cols = items.get_indexer(transactions[item])
    keep = cols >= 0
    m = sparse.csr_matrix(
        (np.ones(int(keep.sum())), (rows[keep], cols[keep])), shape=(len(customers), len(items))
    )
    m.data[:] = 1.0  # duplicates summed by the constructor: back to 0/1
    return m, pd.Index(customers, name="customer_id"), items


def item_similarity(
    transactions: pd.DataFrame, *, item: str = "category", method: str = "cosine"
) -> pd.DataFrame:
    """Item-to-item similarity from co-occurrence in customers' histories.

    With :math:`B` the customer x item 0/1 matrix, :math:`C = B^\\top B` counts the
    customers who bought both i and j (:math:`C_{ii}` = buyers of i), N customers:

    - cosine: :math:`C_{ij} / \\sqrt{C_{ii} C_{jj}}`
    - lift: :math:`C_{ij} N / (C_{ii} C_{jj})` (1 = bought together as often as by chance)

    The diagonal is set to 0 (an item does not recommend itself).

    Returns
    -------
    DataFrame
        Square, items x items.
    """
    if method not in ("cosine", "lift"):
        raise DataError(f"method must be 'cosine' or 'lift', got {method!r}.")
    b, customers, items = incidence(transactions, item=item)
    c = np.asarray((b.T @ b).todense(), dtype=float)
    d = np.diag(c).copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        if method == "cosine":
            s = c / np.sqrt(np.outer(d, d))
        else:
            s = c * len(customers) / np.outer(d, d)
    s = np.nan_to_num(s, nan=0.0, posinf=0.0)
    np.fill_diagonal(s, 0.0)
    return pd.DataFrame(s, index=items, columns=items)


def recommend(
    history: pd.DataFrame,
    similarity: pd.DataFrame | None = None,
    *,
    popularity: pd.Series | None = None,
    item: str = "category",
    k: int = 3,
) -> pd.DataFrame:
    """Top-``k`` items per customer that the customer has not bought yet.

    Score of item j for a customer with bought set H: :math:`\\sum_{i\\in H} s_{ij}`
    (item-to-item), or the item's popularity when ``similarity`` is None. Ties are
    broken by popularity, then by item order.

    Parameters
    ----------
    history : DataFrame
        The customers' past transactions (``customer_id, date, item``).
    similarity : DataFrame, optional
        From :func:`item_similarity`; None for the popularity baseline.
    popularity : Series, optional
        Buyers per item (index = items); required for the baseline, used for ties.
    k : int
        Number of recommendations.

    Returns
    -------
    DataFrame
        ``customer_id, rank, item, score``; fewer than ``k`` rows for a customer who
        has bought nearly every item.
    """
    if k < 1:
        raise DataError(f"k must be at least 1, got {k}.")
    if similarity is None and popularity is None:
        raise DataError("pass a similarity matrix, or popularity for the baseline.")
    items = similarity.index if similarity is not None else popularity.index
    b, customers, items = incidence(history, item=item, items=pd.Index(items, name=item))
    pop = (
        popularity.reindex(items).fillna(0).to_numpy(float)
        if popularity is not None
        else np.zeros(len(items))
    )
    if similarity is not None:
        scores = np.asarray(b @ similarity.reindex(index=items, columns=items).to_numpy())
    else:
        scores = np.tile(pop, (len(customers), 1))
    tie = pop / (pop.max() + 1) * 1e-9 if pop.max() > 0 else np.zeros(len(items))
    ranked = scores + tie
    ranked[b.toarray() > 0] = -np.inf
    kk = min(k, len(items))
    top = np.argsort(-ranked, axis=1, kind="stable")[:, :kk]
    top_scores = np.take_along_axis(ranked, top, axis=1)
    out = pd.DataFrame(
        {
            "customer_id": np.repeat(customers.to_numpy(), kk),
            "rank": np.tile(np.arange(1, kk + 1), len(customers)),
            item: items.to_numpy()[top.ravel()],
            "score": np.take_along_axis(scores, top, axis=1).ravel(),
        }
    )
    return out[np.isfinite(top_scores.ravel())].reset_index(drop=True)


def next_new_items(transactions: pd.DataFrame, n_history: int, *, item: str = "category"):
    """Split each customer's history after their first ``n_history`` purchases.

    Purchases are ordered by date (then by row order). The target is the first item
    bought after those purchases that is not among them. Customers with fewer than
    ``n_history`` purchases, or who never buy a new item afterwards, are not targets.

    Returns
    -------
    (history, target) : DataFrames
        ``history``: the first ``n_history`` transactions of each target customer;
        ``target``: ``customer_id, item`` (one row per target customer).
    """
    _check(transactions, item)
    if n_history < 1:
        raise DataError(f"n_history must be at least 1, got {n_history}.")
    t = transactions[["customer_id", "date", item]].copy()
    t["_row"] = np.arange(len(t))
    t = t.sort_values(["customer_id", "date", "_row"], kind="stable")
    t["_seq"] = t.groupby("customer_id").cumcount()
    hist = t[t["_seq"] < n_history]
    later = t[t["_seq"] >= n_history]
    seen = pd.MultiIndex.from_frame(hist[["customer_id", item]])
    new = later[~pd.MultiIndex.from_frame(later[["customer_id", item]]).isin(seen)]
    target = new.drop_duplicates("customer_id")[["customer_id", item]]
    hist = hist[hist["customer_id"].isin(target["customer_id"])]
    return hist.drop(columns=["_row", "_seq"]), target.reset_index(drop=True)


def hit_rate(recommendations: pd.DataFrame, target: pd.DataFrame, *, item: str = "category"):
    """Share of target customers whose next new item is among their recommendations.

    Customers with no recommendation count as misses. Returns ``(hits, n)``.
    """
    require_columns(target, ["customer_id", item], "target")
    rec = pd.MultiIndex.from_frame(recommendations[["customer_id", item]])
    hits = pd.MultiIndex.from_frame(target[["customer_id", item]]).isin(rec)
    return int(hits.sum()), len(target)


def evaluate(
    transactions: pd.DataFrame,
    *,
    item: str = "category",
    k: int = 3,
    history_lengths: tuple[int, ...] | list[int] = (1, 2, 3, 5, 8),
    test_share: float = 0.3,
    seed: int = 0,
    same_customers: bool = False,
    level: float = 0.95,
) -> pd.DataFrame:
    """Hit rate at ``k`` of item-to-item (cosine, lift) against popularity, by history.

    Customers are split at random into a training part (``1 - test_share``), whose
    full histories teach the similarities and popularity, and a test part. For each
    history length h, each test customer's first h purchases are the history and the
    next new item is the target (:func:`next_new_items`). Hit rate at k = share of
    test customers whose target is among their k recommendations.

    With ``same_customers=True`` only test customers who still buy a new item after
    the longest history are evaluated, so every history length is judged on the same
    people (longer histories otherwise select heavier buyers).

    Returns
    -------
    DataFrame
        ``n_history, method, hits, customers, hit_rate, lower, upper`` (Wilson) and
        ``vs_popularity`` (hit rate / the popularity baseline's at the same length).
    """
    _check(transactions, item)
    if not 0 < test_share < 1:
        raise DataError(f"test_share must be in (0, 1), got {test_share}.")
    if not history_lengths or min(history_lengths) < 1:
        raise DataError(f"history_lengths must be positive integers, got {history_lengths}.")
    ids = np.unique(transactions["customer_id"].to_numpy())
    rng = np.random.default_rng(seed)
    test_ids = rng.choice(ids, size=max(1, int(round(test_share * len(ids)))), replace=False)
    is_test = transactions["customer_id"].isin(test_ids)
    train, test = transactions[~is_test], transactions[is_test]
    if same_customers:
        _, longest = next_new_items(test, max(history_lengths), item=item)
        test = test[test["customer_id"].isin(longest["customer_id"])]
    if train.empty:
        raise DataError("no training customers left; lower test_share or add customers.")
    b, _, items = incidence(train, item=item)
    pop = pd.Series(np.asarray(b.sum(axis=0)).ravel(), index=items)
    sims = {m: item_similarity(train, item=item, method=m) for m in ("cosine", "lift")}
    rows = []
    for h in history_lengths:
        hist, target = next_new_items(test, h, item=item)
        for method in METHODS:
            if target.empty:
                hits, n = 0, 0
            else:
                rec = recommend(hist, sims.get(method), popularity=pop, item=item, k=k)
                hits, n = hit_rate(rec, target, item=item)
            rows.append({"n_history": h, "method": method, "hits": hits, "customers": n})
    out = pd.DataFrame(rows)
    ok = out["customers"] > 0
    out["hit_rate"] = np.where(ok, out["hits"] / out["customers"].where(ok, 1), np.nan)
    out["lower"], out["upper"] = np.nan, np.nan
    if ok.any():
        lo, hi = wilson_interval(out.loc[ok, "hits"], out.loc[ok, "customers"], level=level)
        out.loc[ok, "lower"], out.loc[ok, "upper"] = lo, hi
    base = out[out["method"] == "popularity"].set_index("n_history")["hit_rate"]
    base_rate = out["n_history"].map(base).to_numpy()
    rate = out["hit_rate"].to_numpy()
    valid = np.isfinite(rate) & (base_rate > 0)
    out["vs_popularity"] = np.divide(rate, base_rate, out=np.full(len(out), np.nan), where=valid)
    return out


def top_pairs(similarity: pd.DataFrame, n: int = 10) -> pd.Series:
    """The ``n`` most similar pairs of distinct items, each pair once (upper triangle).

    Returns
    -------
    Series
        Similarity indexed by (item, item), largest first.
    """
    if n < 1:
        raise DataError(f"n must be at least 1, got {n}.")
    values = similarity.to_numpy()
    i, j = np.triu_indices(len(similarity), k=1)
    pairs = pd.Series(
        values[i, j],
        index=pd.MultiIndex.from_arrays(
            [similarity.index[i], similarity.columns[j]], names=["item", "similar item"]
        ),
        name="similarity",
    )
    return pairs.sort_values(ascending=False, kind="stable").head(n)


def compare_hit_rates(hits: pd.DataFrame, *, within: str = "n_history") -> pd.DataFrame:
    """Rank hit rates within groups and say which the intervals can tell apart.

    Within each value of ``within`` (each history length, to compare methods; or each
    method, to compare history lengths) the rows are ranked by hit rate. A row other
    than the best *overlaps the best* when its confidence interval overlaps the best
    row's: the data then do not tell the two apart. Two 95% intervals that do not overlap differ
    clearly (at well below the 5% level); overlap does not prove the rates equal.

    Parameters
    ----------
    hits : DataFrame
        From :func:`evaluate` (``n_history, method, hit_rate, lower, upper``).
    within : str
        ``"n_history"`` or ``"method"``.

    Returns
    -------
    DataFrame
        ``hits`` sorted by ``within`` and rank, with ``rank`` (1 = highest hit rate),
        ``best`` (rank 1) and ``overlaps_best`` (False for the best row itself).
    """
    if within not in ("n_history", "method"):
        raise DataError(f"within must be 'n_history' or 'method', got {within!r}.")
    require_columns(hits, ["n_history", "method", "hit_rate", "lower", "upper"], "hits")
    out = hits.dropna(subset=["hit_rate"]).sort_values(
        [within, "hit_rate"], ascending=[True, False], kind="stable"
    )
    out["rank"] = out.groupby(within, sort=False).cumcount() + 1
    out["best"] = out["rank"].eq(1)
    first = out.groupby(within, sort=False)[["lower", "upper"]].transform("first")
    overlap = (out["lower"] <= first["upper"]) & (out["upper"] >= first["lower"])
    out["overlaps_best"] = overlap & ~out["best"]
    return out.reset_index(drop=True)


def recommendation_findings(
    hits: pd.DataFrame, *, k: int, baseline: str = "popularity", simulated: bool = False
) -> list[Finding]:
    """Executive-summary sentences of a recommender evaluation, with intervals.

    Parameters
    ----------
    hits : DataFrame
        From :func:`evaluate`.
    k : int
        Recommendations per customer the evaluation used.
    baseline : str
        The method a firm without any history would use (best-sellers).
    simulated : bool
        Whether the purchase histories are simulated (the sentences then say so).

    Returns
    -------
    list of Finding
        The best method against the baseline at the shortest and longest history (the
        switching-cost argument: a competitor who knows none of the customer's purchases
        can only recommend best-sellers), the history lengths at which the best method
        cannot be told from another, and whether the best method improves from the
        shortest to the longest history.
    """
    by_h = compare_hit_rates(hits, within="n_history")
    h_min, h_max = by_h["n_history"].min(), by_h["n_history"].max()
    where = "In the simulated shop, " if simulated else ""
    top = by_h[by_h["best"]].set_index("n_history")
    base = by_h[by_h["method"] == baseline].set_index("n_history")
    best_short = top.loc[h_min]
    best_long = top.loc[h_max]
    numbers = {
        "k": k,
        "h_min": int(h_min),
        "short": best_short["hit_rate"],
        "short_lo": best_short["lower"],
        "short_hi": best_short["upper"],
        "base_short": base.loc[h_min, "hit_rate"],
        "h_max": int(h_max),
        "long": best_long["hit_rate"],
        "long_lo": best_long["lower"],
        "long_hi": best_long["upper"],
        "base_long": base.loc[h_max, "hit_rate"],
    }
    short_name, long_name = _literal(best_short["method"]), _literal(best_long["method"])
    findings = [
        Finding(
            where + f"the best recommendations ({short_name}) put a customer's next new "
            "category in the top {k} for {short:.1%} (95% CI {short_lo:.1%} to {short_hi:.1%}) "
            "after {h_min} purchase and "
            + ("" if long_name == short_name else f"{long_name} for ")
            + "{long:.1%} ({long_lo:.1%} to {long_hi:.1%}) after {h_max}, against "
            "{base_short:.1%} and {base_long:.1%} for the best-sellers a competitor who knows "
            "none of the customer's purchases could offer: that gap is what the customer "
            "would give up by switching.",
            numbers,
            simulated=simulated,
        )
    ]
    ties = by_h[~by_h["best"] & by_h["overlaps_best"]]
    if len(ties):
        numbers, parts = {}, []
        for i, (h, group) in enumerate(ties.groupby("n_history"), start=1):
            numbers[f"h_{i}"] = int(h)
            names = " and ".join(_literal(m) for m in [top.loc[h, "method"], *group["method"]])
            parts.append(f"{names} with {{h_{i}}} purchases known")
        findings.append(
            Finding(
                where
                + "the 95% intervals of "
                + "; of ".join(parts)
                + " overlap, so these data do not show which of them is better there.",
                numbers,
                simulated=simulated,
            )
        )
    else:
        findings.append(
            Finding(
                where + "at every history length the best method's 95% interval lies clear "
                "of the other methods'.",
                {},
                simulated=simulated,
            )
        )
    # does knowing more purchases help? each learning method, shortest against longest
    # history; the methods already cited above are named without repeating their numbers
    cited = {best_short["method"], best_long["method"]}
    numbers, parts = {"h_min": int(h_min), "h_max": int(h_max)}, []
    learners = [m for m in pd.unique(hits["method"]) if m != baseline]
    for i, method in enumerate(learners, start=1):
        rows = by_h[by_h["method"] == method].set_index("n_history")
        a, b = rows.loc[h_min], rows.loc[h_max]
        apart = (a["upper"] < b["lower"]) or (b["upper"] < a["lower"])
        name = _literal(method)
        if method in cited:
            parts.append(
                f"{name}'s change is clear (the 95% intervals do not overlap)"
                if apart
                else f"{name}'s change lies within overlapping 95% intervals, so these data do "
                "not show that more purchases help it further"
            )
        else:
            numbers[f"from_{i}"], numbers[f"to_{i}"] = a["hit_rate"], b["hit_rate"]
            parts.append(
                f"{name}'s hit rate goes from {{from_{i}:.1%}} to {{to_{i}:.1%}}, "
                + ("the 95% intervals apart" if apart else "within overlapping 95% intervals")
            )
    if parts:
        findings.append(
            Finding(
                where + "from {h_min} to {h_max} purchases known, " + "; ".join(parts) + ".",
                numbers,
                simulated=simulated,
            )
        )
    return findings


def _literal(text: object) -> str:
    return str(text).replace("{", "{{").replace("}", "}}")


def recommendation_client(
    hits: pd.DataFrame, *, k: int, baseline: str = "popularity", simulated: bool = False
) -> tuple[list[Finding], list]:
    """Recommendations for a client: how often the best suggestions hit after the longest
    history known, against best-sellers, with the ranges in words.

    On simulated purchase histories the sentence says so and the only action is to run
    the same hold-out test on the client's own purchases.

    Returns
    -------
    (list of Finding, list of Action)
    """
    from crmlab.reports import Action

    by_h = compare_hit_rates(hits, within="n_history")
    h_max = by_h["n_history"].max()
    rows = by_h[by_h["n_history"] == h_max]
    best = rows[rows["best"]].iloc[0]
    base = rows[rows["method"] == baseline]
    if base.empty:
        raise DataError(f"baseline {baseline!r} is not among the methods {list(rows['method'])}.")
    base = base.iloc[0]
    numbers = {
        "k": k,
        "h_max": int(h_max),
        "long": best["hit_rate"],
        "long_lo": best["lower"],
        "long_hi": best["upper"],
        "base": base["hit_rate"],
        "base_lo": base["lower"],
        "base_hi": base["upper"],
    }
    where = "In a simulated shop (not your customers), " if simulated else ""
    client = [
        Finding(
            where
            + ("once" if simulated else "Once")
            + " {h_max:,} of a customer's purchases are known, suggestions made "
            "from them put the customer's next new category among the top {k:,} suggestions "
            "for {long:.0%} of customers (between {long_lo:.0%} and {long_hi:.0%}), against "
            "{base:.0%} (between {base_lo:.0%} and {base_hi:.0%}) for best-sellers, all a "
            "competitor who knows none of their purchases could suggest.",
            numbers,
            simulated=simulated,
        )
    ]
    what = (
        "Test this on your data: hold back each customer's latest purchase and check how "
        "often suggestions from the earlier purchases, and best-sellers, name its category."
    )
    verb = "test"
    if not simulated:
        what = (
            "Show each customer the top {k:,} suggestions from their own purchases instead "
            "of best-sellers, on part of the customers first, and compare what they buy."
        )
        verb = "grow"
    return client, [Action(verb, what, {"k": k} if not simulated else {})]
