"""Studies that replicate published CRM research on a transactions frame.

* :func:`loyalty_profit` - Reinartz & Kumar (2000, 2002): lifetime versus profit,
  the four loyalty-profit segments and the four propositions;
* :func:`compare_with_truth` - how well the study recovered a simulated retailer's truth
  (:func:`crmlab.simulate.retailer`).
"""

from crmlab.studies.loyalty_profit import (
    HBR_CORRELATIONS,
    SEGMENTS,
    LoyaltyProfitResult,
    compare_with_truth,
    loyalty_profit,
    segment_table,
    split_groups,
)

__all__ = [
    "HBR_CORRELATIONS",
    "SEGMENTS",
    "LoyaltyProfitResult",
    "compare_with_truth",
    "loyalty_profit",
    "segment_table",
    "split_groups",
]
