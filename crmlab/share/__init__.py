"""Customer share: share of wallet, share of category requirements, brand performance
measures, the NBD-Dirichlet benchmark and the Wallet Allocation Rule.

Market share counts a firm's slice of all category spending; customer share
(share of wallet, share of category requirements) counts its slice of each
customer's own spending. The submodules:

- :mod:`crmlab.share.wallet`: share of wallet from firm and category spend, the
  Wallet Allocation Rule (Keiningham et al. 2011, 2015), market share versus the
  share of the best customers' wallets.
- :mod:`crmlab.share.panel`: purchase-panel measures (Ehrenberg's brand performance
  table, share of category requirements, duplication of purchase, Parfitt-Collins).
- :mod:`crmlab.share.dirichlet`: the NBD-Dirichlet model (Goodhardt, Ehrenberg &
  Chatfield 1984) and its theoretical brand performance measures.
- :mod:`crmlab.share.findings`: the Dirichlet's fit (mean absolute deviations, misfits
  by name) and the executive summary of a customer-share study.
"""

from __future__ import annotations

from crmlab.share.dirichlet import (
    DirichletFit,
    dirichlet_benchmark,
    dirichlet_duplication,
    dirichlet_theory,
    fit_dirichlet,
    fit_dirichlet_panel,
    observed_and_expected_duplication,
)
from crmlab.share.findings import (
    dirichlet_fit_finding,
    dirichlet_fit_statistics,
    dirichlet_misfits,
    dirichlet_panels,
    dirichlet_parameters,
    fit_statistics_view,
    focus_finding,
    market_finding,
    misfit_finding,
    scr_interval,
    share_client,
    share_findings,
    share_lists,
    wallet_rule_finding,
)
from crmlab.share.panel import (
    brand_performance,
    duplication_table,
    parfitt_collins,
    purchase_counts,
    share_of_category_requirements,
)
from crmlab.share.wallet import (
    market_vs_customer_share,
    share_of_wallet,
    share_of_wallet_summary,
    wallet_allocation_rule,
    wallet_rule_evaluation,
    within_customer_ranks,
)

__all__ = [
    "DirichletFit",
    "brand_performance",
    "dirichlet_benchmark",
    "dirichlet_duplication",
    "dirichlet_fit_finding",
    "dirichlet_fit_statistics",
    "dirichlet_misfits",
    "dirichlet_panels",
    "dirichlet_parameters",
    "dirichlet_theory",
    "duplication_table",
    "fit_dirichlet",
    "fit_dirichlet_panel",
    "fit_statistics_view",
    "focus_finding",
    "market_finding",
    "market_vs_customer_share",
    "misfit_finding",
    "observed_and_expected_duplication",
    "parfitt_collins",
    "purchase_counts",
    "scr_interval",
    "share_client",
    "share_findings",
    "share_lists",
    "share_of_category_requirements",
    "share_of_wallet",
    "share_of_wallet_summary",
    "wallet_allocation_rule",
    "wallet_rule_finding",
    "wallet_rule_evaluation",
    "within_customer_ranks",
]
