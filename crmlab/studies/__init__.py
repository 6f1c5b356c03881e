"""Studies that replicate published CRM research on a transactions frame.

* :func:`lifetime_value_study` - customer lifetime value under every buy-till-you-die model:
  model choice on in-sample fit and holdout accuracy, CLV and P(alive) side by side,
  the students at the bank, and :func:`lifetime_value_findings`;
* :func:`loyalty_profit` - Reinartz & Kumar (2000, 2002): lifetime versus profit,
  the four loyalty-profit segments and the four propositions;
* :func:`compare_with_truth`, :func:`simulation_check` - how well the study recovers a
  simulated retailer's truth (:func:`crmlab.simulate.retailer`) with the same cost model;
* :func:`loyalty_findings` - the study's executive summary as tested findings;
* :func:`lifetime_value_client`, :func:`loyalty_client` - the same results for a client:
  plain sentences and recommended actions with their exported customer lists;
* :func:`contract_retention_study` - contractual retention with the sBG and the
  beta-discrete-Weibull: duration dependence, heterogeneity and projections, and
  :func:`contract_retention_findings`;
* :mod:`crmlab.studies.research_models` - GGompertz/NBD, (M)BG/CNBD-k and the correlated
  Pareto/NBD read against the model each nests, for the researcher's section of the CLV study.
"""

from crmlab.studies import research_models as research_models
from crmlab.studies.contract_retention import (
    contract_retention_findings,
    contract_retention_study,
)
from crmlab.studies.lifetime_value import (
    P_ALIVE_TEX,
    LifetimeValueStudy,
    ModelChoice,
    StudentsAtTheBank,
    choose_model,
    clv_by_model,
    clv_what_if,
    conditional_by_model,
    estimates_table,
    fit_models,
    frequency_fit_by_model,
    holdout_gap_by_month,
    lifetime_value_findings,
    lifetime_value_study,
    model_comparison,
    p_alive_formula,
    students_at_the_bank,
    tracking_by_model,
    value_bands,
    value_so_far,
)
from crmlab.studies.lifetime_value_client import (
    lifetime_value_client,
    lifetime_value_groups,
    lifetime_value_lists,
)
from crmlab.studies.loyalty_check import (
    SIMULATED_RETAILER,
    SimulationCheck,
    compare_with_truth,
    simulation_check,
)
from crmlab.studies.loyalty_client import loyalty_client, loyalty_lists
from crmlab.studies.loyalty_findings import loyalty_findings
from crmlab.studies.loyalty_profit import (
    GROUPS,
    HBR_CORRELATIONS,
    SEGMENTS,
    LoyaltyProfitResult,
    loyalty_profit,
    segment_table,
    split_groups,
)

__all__ = [
    "P_ALIVE_TEX",
    "LifetimeValueStudy",
    "ModelChoice",
    "StudentsAtTheBank",
    "choose_model",
    "clv_by_model",
    "clv_what_if",
    "conditional_by_model",
    "estimates_table",
    "fit_models",
    "frequency_fit_by_model",
    "holdout_gap_by_month",
    "lifetime_value_client",
    "lifetime_value_findings",
    "lifetime_value_groups",
    "lifetime_value_lists",
    "lifetime_value_study",
    "model_comparison",
    "p_alive_formula",
    "students_at_the_bank",
    "tracking_by_model",
    "value_bands",
    "value_so_far",
    "GROUPS",
    "HBR_CORRELATIONS",
    "SEGMENTS",
    "SIMULATED_RETAILER",
    "LoyaltyProfitResult",
    "SimulationCheck",
    "compare_with_truth",
    "loyalty_client",
    "loyalty_findings",
    "loyalty_lists",
    "loyalty_profit",
    "segment_table",
    "simulation_check",
    "split_groups",
    "contract_retention_study",
    "contract_retention_findings",
]
