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
    TIERS,
    ValueModels,
    bz_grid,
    customer_values,
    expected_alive_time,
    expected_orders,
    fit_value_models,
    rate_group,
    survival,
    tier_moves,
    tier_table,
    value_tiers,
    wallet_potential,
)
from crmlab.segments.whale import whale_curve, whale_sensitivity, whale_summary

__all__ = [
    "DEFAULT_CUTOFFS",
    "DEFAULT_SEGMENTS",
    "TIERS",
    "CostModel",
    "Migration",
    "Pyramid",
    "ValueModels",
    "assign_tiers",
    "bz_grid",
    "customer_profit",
    "customer_pyramid",
    "customer_values",
    "expected_alive_time",
    "expected_orders",
    "fit_value_models",
    "last_period_ends",
    "parse_length",
    "period_bounds",
    "period_ends",
    "pyramid_history",
    "pyramid_series",
    "rate_group",
    "rfm_scores",
    "rfm_segments",
    "score",
    "segment_table",
    "survival",
    "tier_migration",
    "tier_moves",
    "tier_table",
    "value_tiers",
    "wallet_potential",
    "whale_curve",
    "whale_sensitivity",
    "whale_summary",
]
