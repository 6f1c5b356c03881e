"""Simulators with known truth: every function is seeded, vectorised and returns a
:class:`SimulatedData` holding the data a firm would see, the truth behind them and the
parameters.

* :func:`retailer` - a non-contractual retailer (Pareto/NBD, BG/NBD or MBG/NBD purchasing,
  Gamma-Gamma spend, margins, costs per order, marketing costs, categories);
* :func:`opportunities` - discrete-time transaction opportunities (the BG/BB story);
* :func:`subscriptions` - contractual renewals (the shifted-beta-geometric story);
* :func:`wallet` - category wallets split across competing firms, with satisfaction ranks;
* :func:`relationships` - customers, the employees who served them, cross-buying and
  retention, with or without a threshold in the number of contacts;
* :func:`defection_survey` - former customers and their main reason for leaving;
* :func:`crm_sources` - sales, service and marketing records of the same persons;
* :func:`shoppers` - multi-category purchase histories with taste clusters.
"""

from __future__ import annotations

from crmlab.simulate.correlated import correlated_customers, lognormal_customers, sarmanov_rates
from crmlab.simulate.discrete import opportunities, subscriptions
from crmlab.simulate.presets import growing_retailer as growing_retailer
from crmlab.simulate.relationships import (
    CATEGORY_GROUPS,
    REASONS,
    SEGMENTS,
    crm_sources,
    defection_survey,
    relationships,
    shoppers,
)
from crmlab.simulate.result import SimulatedData
from crmlab.simulate.retailer import retailer
from crmlab.simulate.wallet import wallet

__all__ = [
    "CATEGORY_GROUPS",
    "REASONS",
    "SEGMENTS",
    "SimulatedData",
    "correlated_customers",
    "crm_sources",
    "defection_survey",
    "lognormal_customers",
    "opportunities",
    "relationships",
    "retailer",
    "sarmanov_rates",
    "shoppers",
    "subscriptions",
    "wallet",
]
