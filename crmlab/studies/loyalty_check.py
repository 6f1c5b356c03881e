"""Does the loyalty study find the truth? Simulated retailers with the study's cost model.

On real data nobody sees when a customer really left. :func:`crmlab.simulate.retailer`
draws a cohort whose every customer's true lifetime, revenue and costs are known; its
``link`` sets how spend is tied to lifetime (0: unrelated, 1: every purchase spends
alike, so long lives bring more revenue). :func:`simulation_check` runs the same study,
with the **same cost model** (margin, cost per order, marketing per week counted alive),
on such retailers and asks whether the study's refitted bootstrap interval covers the
true correlation between the true lifetime and the true profit, where the true profit
charges the marketing for the weeks the customer was truly alive.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from crmlab.costs import CostModel
from crmlab.simulate import SimulatedData
from crmlab.studies.loyalty_profit import (
    ALL,
    IMPUTED,
    REPEAT,
    UNIT,
    LoyaltyProfitResult,
    loyalty_profit,
)

#: A CDNOW-like cohort (weekly rates): purchase rates averaging 0.11 a week while alive
#: (r / alpha), dropout rates averaging 0.018 a week (s / beta), orders of about $30 for
#: every customer (p * gamma / (q - 1)), first purchases within one quarter, 78 weeks.
SIMULATED_RETAILER: dict[str, float] = {
    "r": 0.9,
    "alpha": 8.0,
    "s": 0.7,
    "beta": 40.0,
    "p": 4.0,
    "q": 50.0,
    "gamma": 367.5,
    "acquisition_periods": 13,
    "horizon": 78,
}


def true_profit(result: LoyaltyProfitResult, simulation: SimulatedData) -> pd.Series:
    """Each studied customer's true profit under the study's marketing rule.

    ``revenue - cost`` (the simulated cost of goods and service of every order) minus
    the study's marketing per week times the weeks the customer was *truly* alive
    (``min(lifetime, T)``), or times ``T`` with ``marketing_until="observation_end"``.
    """
    truth = simulation.truth.loc[result.customers.index]
    weeks = (
        truth["observed_lifetime"]
        if result.settings["marketing_until"] == "lifetime"
        else truth["T"]
    )
    return truth["revenue"] - truth["cost"] - result.costs.cost_per_customer(UNIT) * weeks


def compare_with_truth(result: LoyaltyProfitResult, simulation: SimulatedData) -> pd.DataFrame:
    """How well a loyalty study of ``simulation.transactions`` recovered the truth.

    Returns
    -------
    DataFrame
        One row per sample (repeat buyers, all customers): ``n``, ``true_pearson``
        (true lifetime ``min(dropout, T)`` against :func:`true_profit`, same customers),
        ``estimated_pearson`` (the threshold lifetimes') with the study's ``lower``/``upper``
        interval and ``interval_covers_truth``; the same for the model-based estimate with
        drawn lifetimes (``imputed_pearson``, ``imputed_lower``, ``imputed_upper``,
        ``imputed_covers_truth``); and over all customers ``lifetime_rank_correlation``
        (Spearman of estimated and true lifetime) and ``censoring_agreement`` (share of
        customers whose censoring flag equals "truly alive at the end").
    """
    customers = result.customers
    truth = simulation.truth.loc[customers.index]
    profit = true_profit(result, simulation)
    rank = float(spearmanr(customers["lifetime"], truth["observed_lifetime"]).statistic)
    agree = float((customers["censored"].to_numpy() == truth["alive_at_end"].to_numpy()).mean())
    rows = []
    for sample in (REPEAT, ALL):
        if not (result.association["sample"] == sample).any():
            continue
        mask = customers["repeat_buyer"] if sample == REPEAT else np.ones(len(truth), bool)
        true_r = float(np.corrcoef(truth.loc[mask, "observed_lifetime"], profit.loc[mask])[0, 1])
        est = result.statistic("pearson", sample)
        row = {
            "sample": sample,
            "n": int(est.n),
            "true_pearson": true_r,
            "estimated_pearson": float(est.estimate),
            "lower": float(est.lower),
            "upper": float(est.upper),
            "interval_covers_truth": bool(est.lower <= true_r <= est.upper),
        }
        try:
            imp = result.statistic(IMPUTED, sample)
        except KeyError:
            imp = pd.Series({"estimate": np.nan, "lower": np.nan, "upper": np.nan})
        row.update(
            {
                "imputed_pearson": float(imp.estimate),
                "imputed_lower": float(imp.lower),
                "imputed_upper": float(imp.upper),
                "imputed_covers_truth": bool(imp.lower <= true_r <= imp.upper),
                "lifetime_rank_correlation": rank,
                "censoring_agreement": agree,
            }
        )
        rows.append(row)
    return pd.DataFrame(rows)


@dataclass
class SimulationCheck:
    """Results of :func:`simulation_check`.

    Attributes
    ----------
    table : DataFrame
        One row per (world, seed, sample): ``world``, ``link``, ``seed`` and the
        columns of :func:`compare_with_truth`.
    studies : dict
        ``(world, seed) -> (LoyaltyProfitResult, SimulatedData)`` for drawing.
    settings : dict
        Customers, draws, links, seeds and the cost model used.
    """

    table: pd.DataFrame
    studies: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)

    def coverage(self, sample: str = REPEAT) -> pd.DataFrame:
        """Per world: runs, how many intervals (threshold lifetimes, drawn lifetimes) covered
        the truth, and the mean truth and estimates."""
        part = self.table[self.table["sample"] == sample]
        return (
            part.groupby(["world", "link"], sort=False)
            .agg(
                runs=("seed", "size"),
                covered=("interval_covers_truth", "sum"),
                imputed_covered=("imputed_covers_truth", "sum"),
                true_pearson=("true_pearson", "mean"),
                estimated_pearson=("estimated_pearson", "mean"),
                imputed_pearson=("imputed_pearson", "mean"),
            )
            .reset_index()
        )


WORLDS = {"independent (link = 0)": 0.0, "linked (link = 1)": 1.0}


def simulation_check(
    costs: CostModel,
    *,
    worlds: Mapping[str, float] | None = None,
    seeds: Sequence[int] = (0,),
    n_customers: int = 3000,
    retailer: Mapping[str, float] | None = None,
    **study: Any,
) -> SimulationCheck:
    """Run the loyalty study on simulated retailers with known truth and the same costs.

    Parameters
    ----------
    costs : CostModel
        The real study's cost model. The retailer is simulated with its margin and cost
        per order (and no marketing of its own); the study runs with the same model on the
        simulated orders, and the truth charges its marketing per week truly alive.
    worlds : mapping
        Name -> ``link`` of :func:`crmlab.simulate.retailer` (default :data:`WORLDS`).
    seeds : sequence of int
        One simulated cohort per seed and world.
    n_customers : int
        Customers per simulated cohort.
    retailer : mapping
        Arguments of :func:`crmlab.simulate.retailer` (default :data:`SIMULATED_RETAILER`).
    **study
        Passed to :func:`crmlab.studies.loyalty_profit` (``model``, ``alive_threshold``,
        ``n_boot``, ``split`` ...).

    Returns
    -------
    SimulationCheck
    """
    from crmlab import simulate

    worlds = dict(WORLDS if worlds is None else worlds)
    params = dict(SIMULATED_RETAILER if retailer is None else retailer)
    rows, kept = [], {}
    for name, link in worlds.items():
        for seed in seeds:
            sim = simulate.retailer(
                n_customers,
                link=link,
                margin=costs.margin,
                cost_per_order=costs.cost_per_order,
                marketing_cost=0.0,
                seed=int(seed),
                **params,
            )
            res = loyalty_profit(
                sim.transactions,
                costs=replace(costs, use_cost_column=False),
                observation_end=sim.params["observation_end"],
                seed=int(seed),
                **study,
            )
            table = compare_with_truth(res, sim)
            table.insert(0, "seed", int(seed))
            table.insert(0, "link", float(link))
            table.insert(0, "world", name)
            rows.append(table)
            kept[(name, int(seed))] = (res, sim)
    settings = {
        "n_customers": n_customers,
        "seeds": [int(s) for s in seeds],
        "worlds": worlds,
        "retailer": params,
        "costs": costs,
        **study,
    }
    return SimulationCheck(pd.concat(rows, ignore_index=True), kept, settings)
