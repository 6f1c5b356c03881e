"""Studies that replicate published CRM research on a transactions frame.

* :func:`loyalty_profit` - Reinartz & Kumar (2000, 2002): lifetime versus profit,
  the four loyalty-profit segments and the four propositions.
"""

from crmlab.studies.loyalty_profit import (
    HBR_CORRELATIONS,
    SEGMENTS,
    LoyaltyProfitResult,
    loyalty_profit,
    segment_table,
    split_groups,
)

__all__ = [
    "HBR_CORRELATIONS",
    "SEGMENTS",
    "LoyaltyProfitResult",
    "loyalty_profit",
    "segment_table",
    "split_groups",
]
