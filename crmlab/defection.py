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

from crmlab.checks import require_columns, require_no_missing
from crmlab.errors import DataError
from crmlab.reports import Finding
from crmlab.stats import wilson_interval  # moved to crmlab.stats; still importable here


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


def _two_sided_pvalues(n: int, claimed: float) -> np.ndarray:
    """Exact two-sided binomial p-value of every outcome k = 0..n under ``claimed``.

    The p-value of k sums the probabilities of all outcomes no more likely than k
    (the "minimum likelihood" rule of scipy's ``binomtest``, with its relative
    tolerance 1e-7 for ties).
    """
    pmf = stats.binom.pmf(np.arange(n + 1), n, claimed)
    order = np.sort(pmf)
    cum = np.cumsum(order)
    idx = np.searchsorted(order, pmf * (1 + 1e-7), side="right")
    return np.minimum(cum[idx - 1], 1.0)


def claim_power(
    n: int | np.ndarray, *, claimed: float = 2 / 3, true_share: float = 0.5, alpha: float = 0.05
) -> float | np.ndarray:
    """Power of the exact two-sided binomial test of ``claimed`` when the truth is ``true_share``.

    .. math:: \\text{power}(n) = \\sum_{k:\\ p(k) < \\alpha} \\binom{n}{k}\\,
        \\pi_1^k (1-\\pi_1)^{n-k}

    with :math:`p(k)` the exact p-value of :func:`test_claim` for k of n former customers
    naming the reason, and :math:`\\pi_1` = ``true_share``. Exact power is a saw-tooth in
    n (the outcomes are discrete), not a smooth curve.

    Parameters
    ----------
    n : int or array of int
        Respondents (former customers) in the survey, >= 1.
    claimed : float
        The share the claim states (the null hypothesis), in (0, 1).
    true_share : float
        The share assumed true (the alternative), in [0, 1].
    alpha : float
        Significance level; the claim is rejected when p < alpha (as :meth:`ClaimTest.rejected`).

    Returns
    -------
    float or array
        Probability that the test rejects the claim.
    """
    if not 0 < claimed < 1:
        raise DataError(f"claimed must be a share strictly between 0 and 1, got {claimed}.")
    if not 0 <= true_share <= 1:
        raise DataError(f"true_share must be a share between 0 and 1, got {true_share}.")
    if not 0 < alpha < 1:
        raise DataError(f"alpha must be between 0 and 1, got {alpha}.")
    sizes = np.atleast_1d(np.asarray(n))
    if sizes.size == 0 or np.any(sizes < 1) or np.any(sizes != np.round(sizes)):
        raise DataError(f"n must be whole numbers of respondents >= 1, got {n!r}.")
    out = np.empty(sizes.shape, dtype=float)
    for i, m in enumerate(sizes.astype(int).ravel()):
        reject = _two_sided_pvalues(m, claimed) < alpha
        out.ravel()[i] = stats.binom.pmf(np.flatnonzero(reject), m, true_share).sum()
    return float(out[0]) if np.ndim(n) == 0 else out


def power_curve(
    max_n: int, *, claimed: float = 2 / 3, true_share: float = 0.5, alpha: float = 0.05
) -> pd.DataFrame:
    """Exact power of :func:`test_claim` for every survey size from 1 to ``max_n``.

    Returns
    -------
    DataFrame
        ``respondents, power`` (see :func:`claim_power`).
    """
    if max_n < 1:
        raise DataError(f"max_n must be at least 1 respondent, got {max_n}.")
    sizes = np.arange(1, int(max_n) + 1)
    power = claim_power(sizes, claimed=claimed, true_share=true_share, alpha=alpha)
    return pd.DataFrame({"respondents": sizes, "power": power})


@dataclass(frozen=True)
class SampleSize:
    """Respondents an exit survey needs to tell a claimed share from another one.

    Attributes
    ----------
    n : int
        Smallest survey size from which the exact test's power stays at or above
        ``power`` (exact power saw-tooths: a few sizes just above a smaller n can dip
        below the target; ``n`` is past the last dip).
    achieved : float
        Exact power at ``n``.
    n_normal : int
        The normal-approximation size
        :math:`\\lceil ((z_{1-\\alpha/2}\\sqrt{\\pi_0(1-\\pi_0)} + z_{1-\\beta}
        \\sqrt{\\pi_1(1-\\pi_1)}) / (\\pi_1-\\pi_0))^2 \\rceil`, for comparison.
    claimed, true_share, alpha, power : float
        The design: null share, alternative share, level and target power.
    """

    n: int
    achieved: float
    n_normal: int
    claimed: float
    true_share: float
    alpha: float
    power: float


def claim_sample_size(
    *, claimed: float = 2 / 3, true_share: float = 0.5, alpha: float = 0.05, power: float = 0.8
) -> SampleSize:
    """How many former customers a survey needs to test ``claimed`` against ``true_share``.

    The test is :func:`test_claim` (exact two-sided binomial); its power at each size
    comes from :func:`claim_power`. Returns the smallest n from which the power never
    falls below ``power`` again (checked up to four times the normal-approximation size
    plus 50, where the normal approximation is accurate).

    Examples
    --------
    >>> claim_sample_size(claimed=2 / 3, true_share=0.5, power=0.8).n
    73
    """
    if not 0 < power < 1:
        raise DataError(f"power must be between 0 and 1, got {power}.")
    if claimed == true_share:
        raise DataError("true_share equals claimed: no survey can tell a share from itself.")
    claim_power(1, claimed=claimed, true_share=true_share, alpha=alpha)  # checks the inputs
    za, zb = stats.norm.ppf(1 - alpha / 2), stats.norm.ppf(power)
    spread = za * np.sqrt(claimed * (1 - claimed)) + zb * np.sqrt(true_share * (1 - true_share))
    n_normal = int(np.ceil((spread / (true_share - claimed)) ** 2))
    sizes = np.arange(1, 4 * n_normal + 51)
    curve = claim_power(sizes, claimed=claimed, true_share=true_share, alpha=alpha)
    below = np.flatnonzero(curve < power)
    first = int(below[-1]) + 1 if below.size else 0
    if first >= len(sizes):
        raise DataError(
            f"the exact test does not reach power {power} by n = {sizes[-1]}; "
            "check claimed and true_share."
        )
    return SampleSize(
        int(sizes[first]), float(curve[first]), n_normal, claimed, true_share, alpha, power
    )


def defection_findings(
    claim: ClaimTest,
    comparison: SegmentComparison,
    design: SampleSize,
    *,
    true_share: float | None = None,
    alpha: float = 0.05,
) -> list[Finding]:
    """Executive-summary sentences of a defection-reason study, with the numbers they cite.

    Parameters
    ----------
    claim : ClaimTest
        From :func:`test_claim` on the survey.
    comparison : SegmentComparison
        From :func:`compare_segments` on the same survey.
    design : SampleSize
        From :func:`claim_sample_size`: how many respondents a real exit survey needs.
    true_share : float, optional
        The share built into a simulated survey. Given, the sentences say the data are
        simulated and that the answer was built in; None for a real survey.
    alpha : float
        Significance level of the verdicts.

    Returns
    -------
    list of Finding
        The claim's test (with its exact interval), the survey size needed to test the
        claim on real data, and the segment comparison (with Cramér's V).
    """
    simulated = true_share is not None
    verdict = "rejects" if claim.rejected(alpha) else "does not reject"
    numbers = {
        "observed": claim.observed,
        "n": claim.n,
        "lower": claim.lower,
        "upper": claim.upper,
        "claimed": claim.claimed,
        "p_value": claim.p_value,
    }
    where = "In the simulated exit survey" if simulated else "In the exit survey"
    text = (
        f"{where}, {{observed:.1%}} of {{n:,}} former customers named "
        f"{_literal(claim.category)} as the main reason for leaving (95% exact interval "
        f"{{lower:.1%}} to {{upper:.1%}}), so the exact binomial test {verdict} the claimed "
        "share of {claimed:.1%} (p = {p_value:.2g})"
    )
    if simulated:
        numbers["true_share"] = true_share
        text += (
            "; this answer is built into the simulation, whose true share is "
            "{true_share:.1%}, and says nothing about real customers."
        )
    else:
        text += "; stated reasons are what former customers say, not proven causes."
    findings = [Finding(text, numbers, simulated=simulated)]
    findings.append(
        Finding(
            "To test the claim on a real exit survey, the same exact test "
            "(crmlab.defection.test_claim) needs at least {n_needed:,} randomly chosen former "
            "customers to tell a true share of {true_share:.1%} from the claimed "
            "{claimed:.1%} with {power:.0%} power at the {alpha:.0%} level.",
            {
                "n_needed": design.n,
                "true_share": design.true_share,
                "claimed": design.claimed,
                "power": design.power,
                "alpha": design.alpha,
            },
        )
    )
    numbers = {
        "chi2": comparison.chi2,
        "dof": comparison.dof,
        "p_value": comparison.p_value,
        "cramers_v": comparison.cramers_v,
    }
    strength = (
        "negligible"
        if comparison.cramers_v < 0.1
        else "small"
        if comparison.cramers_v < 0.3
        else "medium"
        if comparison.cramers_v < 0.5
        else "large"
    )
    if comparison.p_value < alpha:
        text = (
            "segments leave for different reasons (chi-square = {chi2:.1f} with {dof} degrees "
            f"of freedom, p = {{p_value:.2g}}), but the association is {strength} (Cramér's V "
            "= {cramers_v:.2f})"
        )
    else:
        text = (
            "the survey shows no difference in reasons between segments (chi-square = "
            "{chi2:.1f} with {dof} degrees of freedom, p = {p_value:.2g}; Cramér's V = "
            "{cramers_v:.2f})"
        )
    if comparison.min_expected < 5:
        numbers["min_expected"] = comparison.min_expected
        text += (
            "; the smallest expected count is {min_expected:.1f}, below the 5 the "
            "chi-square test needs"
        )
    if simulated:
        text = "In the simulated survey, " + text + "; the differences were built in."
    else:
        text = text[0].upper() + text[1:] + "."
    findings.append(Finding(text, numbers, simulated=simulated))
    return findings


def _literal(text: object) -> str:
    """A label placed in a Finding template as it is (braces escaped)."""
    return str(text).replace("{", "{{").replace("}", "}}")


def defection_client(
    claim: ClaimTest,
    design: SampleSize,
    *,
    true_share: float | None = None,
) -> tuple[list[Finding], list]:
    """Why customers leave, for a client: the survey's share with its range in words, and
    what a real exit survey must look like.

    A simulated survey (``true_share`` given) is said to be simulated and its answer built
    in; the action is then to run a real exit survey of at least ``design.n`` randomly
    chosen former customers (:func:`claim_sample_size`), the size that tells the
    alternative share from the claimed one. On a real survey the same sentence reports
    the stated reasons (not proven causes) and the action says how many more answers the
    claim's test needs, if any.

    Returns
    -------
    (list of Finding, list of Action)
    """
    from crmlab.reports import Action

    simulated = true_share is not None
    category = _literal(claim.category)
    numbers = {
        "observed": claim.observed,
        "n": claim.n,
        "lower": claim.lower,
        "upper": claim.upper,
        "claimed": claim.claimed,
    }
    where = "In a simulated exit survey (not your customers)" if simulated else "In the exit survey"
    text = (
        f"{where}, {{observed:.0%}} of {{n:,}} former customers named {category} as the main "
        "reason for leaving (between {lower:.0%} and {upper:.0%}), against the {claimed:.0%} "
        "often claimed"
    )
    text += (
        "; the simulation was built with this answer."
        if simulated
        else "; these are the reasons former customers give, not proven causes."
    )
    plan = {
        "n_needed": design.n,
        "true_share": design.true_share,
        "claimed": design.claimed,
        "power": design.power,
    }
    survey = (
        "ask at least {n_needed:,} former customers, chosen at random, for their main reason "
        f"for leaving, with {category} among the answers offered: that many answers tell a true "
        "share of {true_share:.0%} from the claimed {claimed:.0%} with a chance of {power:.0%}."
    )
    if simulated:
        actions = [Action("test", "Run a real exit survey: " + survey, plan, customers=design.n)]
    else:
        plan["more"] = max(design.n - claim.n, 0)
        lead = (
            "Survey {more:,} more former customers: "
            if plan["more"]
            else "Keep the exit survey at this size or larger: "
        )
        actions = [Action("test", lead + survey, plan, customers=design.n)]
    return [Finding(text, numbers, simulated=simulated)], actions
