"""Why customers leave: shares of defection reasons with Wilson intervals and tests.

Input is one row per former customer with a main reason (``service``, ``product``,
``price``, ``other``) and optionally a segment. The folk claim tested here, "two in
three customers leave because of the service", goes back to the Forum Corporation
study quoted by Peppers & Rogers; the data decide whether it holds.

References
----------
Wilson, E. B. (1927). Probable inference, the law of succession, and statistical
inference. *JASA* 22(158), 209-212.
Cramér, H. (1946). *Mathematical Methods of Statistics*. Princeton, p. 282.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from crmlab.errors import DataError, require_columns


def show(value: object) -> str:
    """A value as a user would type it: strings quoted, numpy scalars as plain numbers."""
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value)


def require_no_missing(frame: pd.DataFrame, columns: list[str], what: str) -> None:
    """Raise :class:`DataError` naming the first missing value in ``columns``."""
    for col in columns:
        bad = frame[col].isna().to_numpy()
        if bad.any():
            first = frame.index[np.flatnonzero(bad)[0]]
            raise DataError(
                f"{what} column '{col}' has {int(bad.sum())} missing values, first at "
                f"row {show(first)}; fill or remove them before the analysis."
            )


def wilson_interval(
    successes: np.ndarray | int, n: np.ndarray | int, *, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a binomial proportion.

    .. math::
        \\frac{\\hat p + z^2/2n \\pm z\\sqrt{\\hat p(1-\\hat p)/n + z^2/4n^2}}{1 + z^2/n}

    Parameters
    ----------
    successes, n : int or array
        Counts of successes and trials (``0 <= successes <= n``, ``n >= 1``).
    level : float
        Confidence level, e.g. 0.95.

    Returns
    -------
    (lower, upper) : arrays
    """
    k = np.asarray(successes, dtype=float)
    m = np.asarray(n, dtype=float)
    if not 0 < level < 1:
        raise DataError(f"level must be between 0 and 1, got {level}.")
    if np.any(m < 1):
        raise DataError("n must be at least 1 for every proportion; got a group with n < 1.")
    if np.any((k < 0) | (k > m)):
        raise DataError("successes must lie between 0 and n; got a count outside that range.")
    z = stats.norm.ppf(0.5 + level / 2)
    p = k / m
    centre = (p + z**2 / (2 * m)) / (1 + z**2 / m)
    half = z * np.sqrt(p * (1 - p) / m + z**2 / (4 * m**2)) / (1 + z**2 / m)
    return np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)


def reason_shares(
    survey: pd.DataFrame, *, reason: str = "reason", by: str | None = None, level: float = 0.95
) -> pd.DataFrame:
    """Share of each defection reason with a Wilson confidence interval.

    Parameters
    ----------
    survey : DataFrame
        One row per former customer; column ``reason`` (categorical).
    reason : str
        Column with the main reason.
    by : str, optional
        A grouping column (e.g. ``"segment"``): shares within each group.
    level : float
        Confidence level.

    Returns
    -------
    DataFrame
        Columns ``[by,] reason, count, n, share, lower, upper``; shares sum to 1
        within each group.
    """
    cols = [reason] + ([by] if by else [])
    require_columns(survey, cols, "survey")
    require_no_missing(survey, cols, "survey")
    keys = ([by] if by else []) + [reason]
    counts = survey.groupby(keys, observed=True).size().rename("count").reset_index()
    if by:
        counts["n"] = counts.groupby(by, observed=True)["count"].transform("sum")
    else:
        counts["n"] = len(survey)
    counts["share"] = counts["count"] / counts["n"]
    counts["lower"], counts["upper"] = wilson_interval(counts["count"], counts["n"], level=level)
    return counts.sort_values(
        keys[:-1] + ["share"], ascending=[True] * (len(keys) - 1) + [False]
    ).reset_index(drop=True)


@dataclass(frozen=True)
class ClaimTest:
    """Exact binomial test of a claimed share.

    Attributes
    ----------
    category : str
        The reason tested (e.g. ``"service"``).
    count, n : int
        Former customers giving that reason, and all former customers.
    observed, claimed : float
        Observed share and the claim (e.g. 2/3).
    p_value : float
        Two-sided exact binomial p-value (Clopper-Pearson style, scipy ``binomtest``).
    lower, upper : float
        Exact (Clopper-Pearson) confidence interval of the share.
    """

    category: str
    count: int
    n: int
    observed: float
    claimed: float
    p_value: float
    lower: float
    upper: float

    def rejected(self, alpha: float = 0.05) -> bool:
        """Whether the claim is rejected at level ``alpha``."""
        return self.p_value < alpha


def test_claim(
    survey: pd.DataFrame,
    *,
    category: str = "service",
    claimed: float = 2 / 3,
    reason: str = "reason",
    level: float = 0.95,
) -> ClaimTest:
    """Test "a share ``claimed`` of defectors leave for ``category``" (exact binomial).

    Parameters
    ----------
    survey : DataFrame
        One row per former customer with column ``reason``.
    category : str
        The reason whose share is claimed.
    claimed : float
        The claimed share, in (0, 1).
    reason : str
        Column with the main reason.
    level : float
        Confidence level of the exact interval.

    Returns
    -------
    ClaimTest
    """
    require_columns(survey, [reason], "survey")
    require_no_missing(survey, [reason], "survey")
    if not 0 < claimed < 1:
        raise DataError(f"claimed must be a share strictly between 0 and 1, got {claimed}.")
    k = int((survey[reason] == category).sum())
    n = len(survey)
    if k == 0 and category not in set(survey[reason].astype(str)):
        raise DataError(
            f"category {category!r} never occurs in column '{reason}'; the reasons are "
            f"{sorted(survey[reason].astype(str).unique())}."
        )
    res = stats.binomtest(k, n, claimed)
    ci = res.proportion_ci(confidence_level=level, method="exact")
    return ClaimTest(category, k, n, k / n, claimed, float(res.pvalue), ci.low, ci.high)


test_claim.__test__ = False  # not a pytest test despite the name


@dataclass(frozen=True)
class SegmentComparison:
    """Chi-square test of independence of reason and segment, with Cramér's V.

    Attributes
    ----------
    table : DataFrame
        Observed counts, segments in rows, reasons in columns.
    expected : DataFrame
        Expected counts under independence.
    chi2, dof, p_value : float
        Pearson chi-square statistic, degrees of freedom, p-value.
    cramers_v : float
        :math:`V = \\sqrt{\\chi^2 / (n\\,(\\min(r, c) - 1))}`, 0 (no association) to 1.
    min_expected : float
        Smallest expected count (below 5 the chi-square approximation is rough).
    """

    table: pd.DataFrame
    expected: pd.DataFrame
    chi2: float
    dof: int
    p_value: float
    cramers_v: float
    min_expected: float


def compare_segments(
    survey: pd.DataFrame, *, reason: str = "reason", segment: str = "segment"
) -> SegmentComparison:
    """Do segments leave for different reasons? Pearson chi-square and Cramér's V.

    Parameters
    ----------
    survey : DataFrame
        One row per former customer with columns ``reason`` and ``segment``.

    Returns
    -------
    SegmentComparison
    """
    require_columns(survey, [reason, segment], "survey")
    require_no_missing(survey, [reason, segment], "survey")
    table = pd.crosstab(survey[segment], survey[reason])
    if table.shape[0] < 2 or table.shape[1] < 2:
        raise DataError(
            f"need at least 2 segments and 2 reasons to compare; got {table.shape[0]} "
            f"segment(s) in '{segment}' and {table.shape[1]} reason(s) in '{reason}'."
        )
    chi2, p, dof, expected = stats.chi2_contingency(table.to_numpy(), correction=False)
    n = table.to_numpy().sum()
    v = float(np.sqrt(chi2 / (n * (min(table.shape) - 1))))
    exp = pd.DataFrame(expected, index=table.index, columns=table.columns)
    return SegmentComparison(table, exp, float(chi2), int(dof), float(p), v, float(expected.min()))
