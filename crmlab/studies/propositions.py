"""The four propositions of Reinartz & Kumar (2000), tested on one cohort.

1. Customer lifetime and profit are strongly associated.
2. Profits of long-life customers rise over their tenure.
3. Long-life customers cost less to serve.
4. Long-life customers pay higher prices.

Each test returns an estimate, an interval, a p-value and a plain verdict:
"supported", "not supported", "contradicted" (significant in the opposite
direction), "inconclusive" or "not testable" (the data cannot say).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from crmlab import units

DAYS_PER_WEEK = units.days_per("W")
COLUMNS = [
    "proposition",
    "claim",
    "test",
    "estimate",
    "lower",
    "upper",
    "p_value",
    "n",
    "verdict",
    "detail",
    "caveat",
]
#: What limits each proposition's test, carried into the executive summary.
CAVEATS = {
    1: "the lifetime is itself estimated from the purchases that make the revenue, and the "
    "marketing cost charged per week alive builds a negative link into profit",
    2: "only complete quarters inside each estimated lifetime count, and every quarter "
    "carries the same marketing cost",
    3: "with a fixed margin, cost per revenue dollar can differ only through order "
    "handling and marketing, so this verdict follows from the cost model",
    4: "price is revenue per unit recorded in the data (per CD on CDNOW), not a price paid "
    "for the same item",
}


def profit_by_tenure(
    tx: pd.DataFrame,
    customers: pd.DataFrame,
    margin: float | None,
    cost_per_order: float,
    marketing_cost_per_week: float,
    tenure_period: float,
    level: float = 0.95,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Profit per tenure period for every complete period inside each lifetime.

    Period ``k`` covers weeks ``[k * tenure_period, (k + 1) * tenure_period)``
    after the first purchase; only periods that end before the customer's
    estimated lifetime ends are used, so every customer-period is fully
    observed and the customer counted alive throughout. Profit of a period:
    ``sum(margin x amount - cost_per_order) - marketing_cost_per_week x tenure_period``
    (with ``amount - cost`` instead of ``margin x amount`` when margin is None).

    Returns
    -------
    table : DataFrame
        ``lifetime_group`` (short/long), ``tenure_period`` (k), ``customers``,
        ``mean_profit``, ``se_profit``.
    test : dict
        Proposition 2 among long-life customers: OLS of period profit on ``k``
        for ``k >= 1`` (the acquisition period, which holds the first order, is
        left out) with standard errors clustered by customer.
    """
    index = customers.index
    code = index.get_indexer(tx["customer_id"])
    first = customers["first_purchase"].to_numpy()[code]
    weeks = (tx["date"].dt.normalize().to_numpy() - first) / np.timedelta64(1, "D") / DAYS_PER_WEEK
    k = np.floor(weeks / tenure_period).astype(int)
    amount = tx["amount"].to_numpy(dtype=float)
    gross = amount * margin if margin is not None else amount - tx["cost"].to_numpy(dtype=float)
    contribution = gross - cost_per_order
    full = np.floor(customers["lifetime"].to_numpy() / tenure_period + 1e-9).astype(int)
    kmax = int(full.max()) if full.size else 0
    empty_test = {"estimate": np.nan, "lower": np.nan, "upper": np.nan, "p_value": np.nan, "n": 0}
    if kmax == 0:
        return pd.DataFrame(
            columns=["lifetime_group", "tenure_period", "customers", "mean_profit", "se_profit"]
        ), empty_test
    keep = k < full[code]
    panel = np.zeros((len(index), kmax))
    np.add.at(panel, (code[keep], k[keep]), contribution[keep])
    panel -= marketing_cost_per_week * tenure_period
    valid = np.arange(kmax)[None, :] < full[:, None]
    long_life = customers["long_life"].to_numpy()
    rows = []
    for label, mask in (("short", ~long_life), ("long", long_life)):
        cells = valid & mask[:, None]
        count = cells.sum(axis=0)
        total = np.where(cells, panel, 0.0).sum(axis=0)
        sq = np.where(cells, panel**2, 0.0).sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
            var = np.where(count > 1, (sq - count * mean**2) / np.maximum(count - 1, 1), np.nan)
        for kk in np.flatnonzero(count > 0):
            rows.append(
                {
                    "lifetime_group": label,
                    "tenure_period": int(kk),
                    "customers": int(count[kk]),
                    "mean_profit": float(mean[kk]),
                    "se_profit": float(np.sqrt(max(var[kk], 0.0) / count[kk]))
                    if count[kk] > 1
                    else np.nan,
                }
            )
    table = pd.DataFrame(rows)

    cells = valid & long_life[:, None]
    cells[:, 0] = False
    cust, per = np.nonzero(cells)
    test = dict(empty_test)
    if np.unique(per).size >= 2 and np.unique(cust).size >= 2:
        y = panel[cust, per]
        res = sm.OLS(y, sm.add_constant(per.astype(float))).fit(
            cov_type="cluster", cov_kwds={"groups": cust}
        )
        lo, hi = res.conf_int(alpha=1 - level)[1]
        test = {
            "estimate": float(res.params[1]),
            "lower": float(lo),
            "upper": float(hi),
            "p_value": float(res.pvalues[1]),
            "n": int(y.size),
        }
    return table, test


def _difference_verdict(est: float, p: float, alpha: float, expected_sign: int) -> str:
    if not np.isfinite(est) or not np.isfinite(p):
        return "not testable"
    if p >= alpha:
        return "not supported"
    return "supported" if np.sign(est) == expected_sign else "contradicted"


def welch_difference(a: np.ndarray, b: np.ndarray, level: float = 0.95) -> dict[str, float]:
    """Difference of means ``mean(a) - mean(b)`` with Welch's t interval and p-value.

    ``se = sqrt(var_a / n_a + var_b / n_b)``, Welch-Satterthwaite degrees of freedom
    ``df = se^4 / ((var_a / n_a)^2 / (n_a - 1) + (var_b / n_b)^2 / (n_b - 1))``.
    Written out (rather than ``scipy.stats.ttest_ind``) so that groups whose values
    are all (nearly) equal give a clean NaN instead of a precision warning.
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    nan = {"estimate": np.nan, "lower": np.nan, "upper": np.nan, "p_value": np.nan}
    if a.size < 2 or b.size < 2:
        return nan
    diff = a.mean() - b.mean()
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    scale = max(abs(a.mean()), abs(b.mean()), 1e-300)
    se = np.sqrt(va + vb)
    if not se > 1e-12 * scale:
        return nan
    df = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
    t = diff / se
    q = stats.t.ppf(0.5 + level / 2, df)
    return {
        "estimate": float(diff),
        "lower": float(diff - q * se),
        "upper": float(diff + q * se),
        "p_value": float(2 * stats.t.sf(abs(t), df)),
    }


def _welch(
    values: np.ndarray, long_life: np.ndarray, level: float
) -> tuple[float, float, float, float, str]:
    a, b = values[long_life], values[~long_life]
    res = welch_difference(a, b, level)
    if not np.isfinite(res["estimate"]):
        return np.nan, np.nan, np.nan, np.nan, "no variation between customers to test"
    detail = (
        f"mean long {a.mean():.4g} vs short {b.mean():.4g}; "
        f"median long {np.median(a):.4g} vs short {np.median(b):.4g}"
    )
    return res["estimate"], res["lower"], res["upper"], res["p_value"], detail


def test_propositions(
    association: pd.DataFrame,
    customers: pd.DataFrame,
    tenure_test: dict[str, Any],
    *,
    sample: str = "repeat buyers",
    strong_correlation: float = 0.5,
    level: float = 0.95,
) -> pd.DataFrame:
    """Test the four propositions on ``customers`` (the customers cut into long and short
    life; repeat buyers by default); one row each with the ``caveat`` that limits it."""
    alpha = 1 - level
    rows = []

    corr = association[association["sample"] == sample].set_index("statistic")
    pear, spear = corr.loc["pearson"], corr.loc["spearman"]
    if not (np.isfinite(pear.estimate) and np.isfinite(pear.lower)):
        verdict = "not testable"
    elif min(pear.lower, spear.lower) >= strong_correlation:
        verdict = "supported"
    elif max(pear.upper, spear.upper) < strong_correlation:
        verdict = "not supported"
    else:
        verdict = "inconclusive"
    if np.isfinite(pear.lower) and pear.lower > 0:
        strength = "positive but weaker than strong" if verdict != "supported" else "strong"
    elif np.isfinite(pear.upper) and pear.upper < 0:
        strength = "negative"
    else:
        strength = "not distinguishable from zero"
    rows.append(
        {
            "proposition": 1,
            "claim": "lifetime and profit are strongly associated",
            "test": f"Pearson r with bootstrap interval; 'strong' means r >= {strong_correlation}",
            "estimate": pear.estimate,
            "lower": pear.lower,
            "upper": pear.upper,
            "p_value": pear.p_value,
            "n": int(pear.n),
            "verdict": verdict,
            "detail": f"association {strength}; Spearman {spear.estimate:.3f} "
            f"[{spear.lower:.3f}, {spear.upper:.3f}]",
        }
    )

    rows.append(
        {
            "proposition": 2,
            "claim": "profits of long-life customers rise over their tenure",
            "test": "OLS of profit per tenure period on period number (periods >= 1, "
            "long-life customers, SE clustered by customer)",
            **{k: tenure_test[k] for k in ("estimate", "lower", "upper", "p_value", "n")},
            "verdict": _difference_verdict(
                tenure_test["estimate"], tenure_test["p_value"], alpha, +1
            ),
            "detail": "estimate = change in profit per period per additional tenure period",
        }
    )

    long_life = customers["long_life"].to_numpy()
    revenue = customers["revenue"].to_numpy()
    positive = revenue > 0
    ratio = customers["cost"].to_numpy()[positive] / revenue[positive]
    est, lo, hi, p, detail = _welch(ratio, long_life[positive], level)
    excluded = int((~positive).sum())
    rows.append(
        {
            "proposition": 3,
            "claim": "long-life customers cost less to serve",
            "test": "Welch t-test of cost per revenue dollar, long minus short "
            "(cost model: cost of goods + cost_per_order x orders + marketing)",
            "estimate": est,
            "lower": lo,
            "upper": hi,
            "p_value": p,
            "n": int(positive.sum()),
            "verdict": _difference_verdict(est, p, alpha, -1),
            "detail": detail
            + (f"; {excluded} customers without positive revenue left out" if excluded else ""),
        }
    )

    if "units" in customers.columns:
        units = customers["units"].to_numpy()
        ok = (units > 0) & positive
        price = revenue[ok] / units[ok]
        est, lo, hi, p, detail = _welch(price, long_life[ok], level)
        dropped = int((~ok).sum())
        n4 = int(ok.sum())
        detail += f"; {dropped} customers without units or revenue left out" if dropped else ""
    else:
        est = lo = hi = p = np.nan
        n4 = 0
        detail = "the data have no 'quantity' column, so price per unit is unknown"
    rows.append(
        {
            "proposition": 4,
            "claim": "long-life customers pay higher prices",
            "test": "Welch t-test of average price per unit (revenue / units), long minus short",
            "estimate": est,
            "lower": lo,
            "upper": hi,
            "p_value": p,
            "n": n4,
            "verdict": _difference_verdict(est, p, alpha, +1),
            "detail": detail,
        }
    )
    for row in rows:
        row["caveat"] = CAVEATS[row["proposition"]]
    return pd.DataFrame(rows, columns=COLUMNS)
