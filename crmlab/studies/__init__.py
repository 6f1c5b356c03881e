"""Studies that replicate published CRM research on a transactions frame.

* :func:`loyalty_profit` - Reinartz & Kumar (2000, 2002): lifetime versus profit,
  the four loyalty-profit segments and the four propositions;
* :func:`simulate_cohort` - a cohort with known lifetimes and profits to check it on.
"""

from crmlab.studies.loyalty_profit import (
    HBR_CORRELATIONS,
    SEGMENTS,
    LoyaltyProfitResult,
    loyalty_profit,
    segment_table,
    split_groups,
)
from crmlab.studies.loyalty_simulation import SimulatedCohort, compare_with_truth, simulate_cohort

__all__ = [
    "HBR_CORRELATIONS",
    "SEGMENTS",
    "LoyaltyProfitResult",
    "SimulatedCohort",
    "compare_with_truth",
    "loyalty_profit",
    "segment_table",
    "simulate_cohort",
    "split_groups",
]
