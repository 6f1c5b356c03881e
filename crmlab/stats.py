"""Small statistical building blocks shared by several analyses.

References
----------
Wilson, E. B. (1927). Probable inference, the law of succession, and statistical
inference. *JASA* 22(158), 209-212.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from crmlab.errors import DataError


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
