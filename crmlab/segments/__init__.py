"""Customer value tiers: the customer pyramid and tier migration, RFM segments,
MVC/MGC/BZ groups and the customer-profitability whale curve.

Submodules: :mod:`~crmlab.segments.profit` (periods and the cost model),
:mod:`~crmlab.segments.pyramid`, :mod:`~crmlab.segments.rfm`,
:mod:`~crmlab.segments.value`, :mod:`~crmlab.segments.whale`.
"""

from crmlab.segments.profit import (
    CostModel,
    customer_profit,
    last_period_ends,
    parse_length,
    period_bounds,
    period_ends,
)
from crmlab.segments.pyramid import (
    DEFAULT_CUTOFFS,
    Migration,
    Pyramid,
    assign_tiers,
    customer_pyramid,
    pyramid_history,
    pyramid_series,
    tier_migration,
)
from crmlab.segments.rfm import DEFAULT_SEGMENTS, rfm_scores, rfm_segments, score, segment_table
from crmlab.segments.value import (
    historical_values,
    model_values,
    potential_value,
    value_group_table,
    value_groups,
)
from crmlab.segments.whale import whale_curve, whale_sensitivity, whale_summary

__all__ = [
    "DEFAULT_CUTOFFS",
    "DEFAULT_SEGMENTS",
    "CostModel",
    "Migration",
    "Pyramid",
    "assign_tiers",
    "customer_profit",
    "customer_pyramid",
    "historical_values",
    "last_period_ends",
    "model_values",
    "parse_length",
    "period_bounds",
    "period_ends",
    "potential_value",
    "pyramid_history",
    "pyramid_series",
    "rfm_scores",
    "rfm_segments",
    "score",
    "segment_table",
    "tier_migration",
    "value_group_table",
    "value_groups",
    "whale_curve",
    "whale_sensitivity",
    "whale_summary",
]
