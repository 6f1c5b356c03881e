"""Share of wallet, the Wallet Allocation Rule, and market share versus customer share.

Share of wallet (SOW) is the part of a customer's category spending (the wallet)
that goes to one firm. The Wallet Allocation Rule (Keiningham, Aksoy, Buoye &
Cooil 2011, "Customer loyalty isn't enough. Grow your share of wallet", Harvard
Business Review 89(10); Keiningham et al. 2015, "The Wallet Allocation Rule",
Journal of Marketing Research 52, 79-94 -- the published note) predicts SOW from the
rank a customer gives the brand among the N brands he or she uses:

``SOW = (1 - rank / (N + 1)) x 2 / N``

so ranks 1..N give shares that sum to 1 (e.g. N = 2: 2/3 and 1/3).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmlab.errors import DataError, require_columns


def _numeric(frame: pd.DataFrame, column: str, *, allow_zero: bool = True) -> np.ndarray:
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values) | (values < 0) | ((values == 0) & (not allow_zero))
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        need = "non-negative" if allow_zero else "positive"
        raise DataError(
            f"column {column!r} has {int(bad.sum())} missing, negative or non-numeric value(s) "
            f"(need {need} numbers), first at row {frame.index[first]!r}: "
            f"{frame[column].iloc[first]!r}; fix or remove those rows"
        )
    return values


def share_of_wallet(
    frame: pd.DataFrame,
    *,
    customer: str = "customer_id",
    spend: str = "spend",
    wallet: str = "wallet",
    tolerance: float = 1e-9,
) -> pd.DataFrame:
    """Share of wallet of each customer (or customer x firm row).

    ``share_of_wallet = spend / wallet`` where ``spend`` is what the customer spent
    with the firm and ``wallet`` the customer's total spending in the category.

    Parameters
    ----------
    frame : DataFrame
        One row per customer (or per customer and firm) with the three columns.
    customer, spend, wallet : str
        Column names.
    tolerance : float
        Relative slack before spend > wallet counts as an error (rounding).

    Returns
    -------
    DataFrame
        A copy of ``frame`` with a column ``share_of_wallet`` in [0, 1].

    Raises
    ------
    DataError
        Negative/missing spend, non-positive wallet, or firm spend above the wallet
        (the message names how many rows and the first customers).
    """
    require_columns(frame, [customer, spend, wallet], "frame")
    s = _numeric(frame, spend)
    w = _numeric(frame, wallet, allow_zero=False)
    over = s > w * (1 + tolerance)
    if over.any():
        who = frame[customer].to_numpy()[over]
        shown = ", ".join(map(repr, who[:5].tolist()))
        first = int(np.flatnonzero(over)[0])
        raise DataError(
            f"{int(over.sum())} row(s) have {spend!r} above {wallet!r} (a firm cannot take "
            f"more than the customer's whole category spend), customers {shown}"
            f"{' ...' if over.sum() > 5 else ''}; first: spend {s[first]:g} > wallet "
            f"{w[first]:g}. Check that the wallet is the customer's total category spend "
            "in the same period and currency."
        )
    out = frame.copy()
    out["share_of_wallet"] = s / w
    return out


def share_of_wallet_summary(
    shares: pd.DataFrame | pd.Series,
    *,
    column: str = "share_of_wallet",
    by: str | None = None,
) -> pd.DataFrame:
    """Distribution of share of wallet: count, mean, quartiles, and the share of customers
    below 10%, at 50% or more, and at 100% (sole customers), per group ``by`` if given.
    """
    frame = shares.to_frame(column) if isinstance(shares, pd.Series) else shares
    require_columns(frame, [column] + ([by] if by else []), "shares")
    values = frame[column]

    def summarise(x: pd.Series) -> pd.Series:
        return pd.Series(
            {
                "customers": float(len(x)),
                "mean": x.mean(),
                "p25": x.quantile(0.25),
                "median": x.median(),
                "p75": x.quantile(0.75),
                "below_10pct": (x < 0.10).mean(),
                "at_least_50pct": (x >= 0.50).mean(),
                "sole": (x >= 1 - 1e-12).mean(),
            }
        )

    if by is None:
        return summarise(values).to_frame("all customers").T
    return frame.groupby(by, observed=True)[column].apply(summarise).unstack()


def wallet_allocation_rule(
    rank: np.ndarray | pd.Series, n_used: np.ndarray | pd.Series
) -> np.ndarray:
    """Wallet Allocation Rule share: ``(1 - rank / (N + 1)) x 2 / N``.

    Parameters
    ----------
    rank : array
        The rank (1 = best) the customer gives the brand among the N brands used;
        tied brands take the mean of the ranks they span (midranks, e.g. 1.5), which
        keeps the shares of a customer summing to 1.
    n_used : array
        N, the number of brands the customer uses (>= 1).

    Returns
    -------
    ndarray
        Predicted share of wallet. Keiningham et al. (2015), JMR 52(1), 79-94.
    """
    r = np.asarray(rank, dtype=float)
    n = np.asarray(n_used, dtype=float)
    bad_n = ~np.isfinite(n) | (n < 1) | (n != np.round(n))
    if bad_n.any():
        first = int(np.flatnonzero(np.atleast_1d(bad_n))[0])
        raise DataError(
            f"n_used has {int(np.sum(bad_n))} value(s) that are not whole numbers >= 1, first "
            f"at position {first}: {np.atleast_1d(n)[first]!r}; N counts the brands used"
        )
    bad = ~np.isfinite(r) | (r < 1) | (r > n)
    if bad.any():
        first = int(np.flatnonzero(np.atleast_1d(bad))[0])
        r_first = np.atleast_1d(r)[first]
        n_first = np.broadcast_to(n, np.shape(bad)).ravel()[first]
        raise DataError(
            f"rank has {int(np.sum(bad))} value(s) outside 1..N, first at position {first}: "
            f"rank {r_first:g} with N = {n_first:g}; "
            "rank the brand among the N brands the customer uses (1 = best)"
        )
    return (1 - r / (n + 1)) * 2 / n


def within_customer_ranks(
    frame: pd.DataFrame, score: str, *, customer: str = "customer_id"
) -> pd.DataFrame:
    """Rank of each brand within its customer by a score (highest = 1; ties share the
    mean rank), and N, the number of brands the customer rated.

    Returns a frame with the same index and columns ``rank`` and ``n_used``.
    """
    require_columns(frame, [customer, score], "frame")
    values = pd.to_numeric(frame[score], errors="coerce")
    if values.isna().any():
        first = int(np.flatnonzero(values.isna().to_numpy())[0])
        raise DataError(
            f"column {score!r} has {int(values.isna().sum())} missing value(s), first at row "
            f"{frame.index[first]!r}; every brand a customer uses needs a score"
        )
    groups = values.groupby(frame[customer])
    return pd.DataFrame(
        {
            "rank": groups.rank(ascending=False, method="average"),
            "n_used": groups.transform("size").astype(int),
        },
        index=frame.index,
    )


def wallet_rule_evaluation(
    frame: pd.DataFrame,
    *,
    customer: str = "customer_id",
    share: str = "share",
    satisfaction: str = "satisfaction",
    rank: str | None = "rank",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """How well the Wallet Allocation Rule predicts share of wallet, against satisfaction.

    For every customer x brand used (rows with ``share`` > 0 or a rating), three
    predictions of the actual ``share``:

    - ``war``: Wallet Allocation Rule from the rank (``rank`` column if given, else
      ranks of ``satisfaction`` within the customer, ties as midranks);
    - ``satisfaction_share``: satisfaction / sum of satisfaction over the customer's brands;
    - ``satisfaction_regression``: pooled least squares ``share ~ a + b x satisfaction``
      (fitted in sample, so flattering to it).

    Returns
    -------
    (predictions, scores)
        ``predictions``: the rows with the three predictions; ``scores``: one row per
        method with ``correlation`` (Pearson with actual share), ``mae``, ``rmse``
        and ``sums_to_one`` (whether a customer's predictions add up to 1).
    """
    cols = [customer, share, satisfaction] + ([rank] if rank else [])
    require_columns(frame, cols, "frame")
    data = frame[cols].copy()
    actual = _numeric(data, share)
    sat = _numeric(data, satisfaction)
    if rank:
        n_used = data.groupby(customer)[customer].transform("size").to_numpy()
        ranks = pd.to_numeric(data[rank], errors="coerce").to_numpy(dtype=float)
    else:
        ranked = within_customer_ranks(data, satisfaction, customer=customer)
        ranks, n_used = ranked["rank"].to_numpy(), ranked["n_used"].to_numpy()
    preds = pd.DataFrame({customer: data[customer].to_numpy(), "actual": actual})
    preds["war"] = wallet_allocation_rule(ranks, n_used)
    total_sat = pd.Series(sat).groupby(data[customer].to_numpy()).transform("sum").to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        preds["satisfaction_share"] = np.where(total_sat > 0, sat / total_sat, 1 / n_used)
    x = np.column_stack([np.ones_like(sat), sat])
    coef, *_ = np.linalg.lstsq(x, actual, rcond=None)
    preds["satisfaction_regression"] = x @ coef
    rows = []
    for method in ("war", "satisfaction_share", "satisfaction_regression"):
        err = preds[method].to_numpy() - actual
        sums = preds.groupby(customer)[method].sum()
        rows.append(
            {
                "method": method,
                "correlation": float(np.corrcoef(preds[method], actual)[0, 1]),
                "mae": float(np.mean(np.abs(err))),
                "rmse": float(np.sqrt(np.mean(err**2))),
                "sums_to_one": bool(np.allclose(sums, 1.0, atol=1e-9)),
            }
        )
    return preds, pd.DataFrame(rows).set_index("method")


def market_vs_customer_share(
    frame: pd.DataFrame,
    *,
    customer: str = "customer_id",
    firm: str = "firm",
    spend: str = "spend",
    wallet: str = "wallet",
    best_share: float = 0.2,
) -> pd.DataFrame:
    """Market share beside customer share, overall and among the best customers.

    ``frame`` is long: one row per customer x firm with the customer's spend at the
    firm and the customer's wallet (the same on all of that customer's rows).
    The best customers are the ``best_share`` of customers with the largest wallets.

    Columns per firm: ``market_share`` (firm spend / all wallets), ``customers``
    (share of customers who spend with the firm), ``sow_of_its_customers`` (mean SOW
    among customers with spend > 0), ``share_of_best_wallets`` (the firm's spend from
    best customers / their wallets), ``best_customers_reached``,
    ``sow_of_its_best_customers`` (the firm's spend / wallets of its own top
    ``best_share`` customers by spend at the firm), ``market_rank`` and
    ``best_wallet_rank`` (1 = largest).
    """
    require_columns(frame, [customer, firm, spend, wallet], "frame")
    data = share_of_wallet(frame, customer=customer, spend=spend, wallet=wallet)
    wallets = data.groupby(customer)[wallet].agg(["min", "max"])
    differs = ~np.isclose(wallets["min"], wallets["max"])
    if differs.any():
        raise DataError(
            f"column {wallet!r} differs between rows of {int(differs.sum())} customer(s), "
            f"first {wallets.index[differs][0]!r}; the wallet is one number per customer"
        )
    if not 0 < best_share <= 1:
        raise DataError(f"best_share must be in (0, 1], got {best_share!r}")
    wallet_of = wallets["max"]
    n_best = max(int(round(best_share * len(wallet_of))), 1)
    best = set(wallet_of.sort_values(ascending=False, kind="stable").index[:n_best])
    data["_best"] = data[customer].isin(best)
    data["_buys"] = data[spend] > 0
    grouped = data.groupby(firm, observed=True)
    table = pd.DataFrame(
        {
            "market_share": grouped[spend].sum() / wallet_of.sum(),
            "customers": grouped["_buys"].sum() / len(wallet_of),
            "sow_of_its_customers": data[data["_buys"]]
            .groupby(firm, observed=True)["share_of_wallet"]
            .mean(),
            "share_of_best_wallets": data[data["_best"]].groupby(firm, observed=True)[spend].sum()
            / wallet_of[list(best)].sum(),
            "best_customers_reached": data[data["_best"] & data["_buys"]]
            .groupby(firm, observed=True)[customer]
            .nunique()
            / n_best,
        }
    ).fillna(0.0)
    buyers = data[data["_buys"]]
    cut = buyers.groupby(firm, observed=True)[spend].transform(lambda x: x.quantile(1 - best_share))
    own_best = buyers[buyers[spend] >= cut].groupby(firm, observed=True)
    table["sow_of_its_best_customers"] = own_best[spend].sum() / own_best[wallet].sum()
    table["market_rank"] = table["market_share"].rank(ascending=False, method="min").astype(int)
    table["best_wallet_rank"] = (
        table["share_of_best_wallets"].rank(ascending=False, method="min").astype(int)
    )
    return table
