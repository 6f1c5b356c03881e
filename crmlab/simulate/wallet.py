"""A multi-firm wallet with known shares and satisfaction rankings.

Each customer has a category wallet (lognormal, dollars a year), uses a subset of
``n_firms`` firms, rates each firm used on a 1-10 satisfaction scale and splits the
wallet among the firms used in proportion to ``exp(beta x latent satisfaction +
noise)``. Firm 1 ("Firm A") is a mass-market firm that most light buyers use and
heavy buyers rate lower; Firm 2 ("Firm B") is a premium firm used mostly by heavy
buyers who rate it highly. So market share and share of the best customers'
wallets can rank the firms differently, as Keiningham et al. (2011) warn.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from crmlab.errors import DataError
from crmlab.share.wallet import within_customer_ranks
from crmlab.simulate.result import SimulatedData

#: What the simulation builds in, in words a finding can quote: results that follow from
#: it (a market leader losing the best wallets) are put in, not found.
DESIGN = (
    "a mass-market Firm A that most customers use and heavy buyers rate lower, and a "
    "premium Firm B used mostly by heavy buyers who rate it highly"
)


def wallet(
    n_customers: int = 2000,
    n_firms: int = 5,
    *,
    seed: int = 2026,
    beta: float = 0.8,
    noise: float = 0.6,
) -> SimulatedData:
    """Customers' category wallets split across competing firms, with satisfaction ranks.

    Parameters
    ----------
    n_customers, n_firms : int
        Size (n_firms >= 2).
    seed : int
        Random seed.
    beta : float
        How strongly satisfaction drives the split of the wallet (0 = not at all).
    noise : float
        Standard deviation of the customer x firm noise in the allocation.

    Returns
    -------
    SimulatedData
        ``spend``: one row per customer x firm used: ``customer_id, firm, spend, wallet``
        (the customer's category spend), ``satisfaction`` (integer 1-10, so ties occur),
        ``rank`` (midrank of satisfaction within the customer, 1 = best), ``n_used``.
        ``truth``: ``customer_id, firm, share`` (true share of wallet),
        ``latent_satisfaction``. ``params`` includes ``design``: what the simulation
        builds in (:data:`DESIGN`).
    """
    if n_customers < 10 or n_firms < 2:
        raise DataError(f"need n_customers >= 10 and n_firms >= 2, got {n_customers} and {n_firms}")
    rng = np.random.default_rng(seed)
    wallet = np.round(rng.lognormal(np.log(400.0), 0.9, n_customers), 2)
    z = (np.log(wallet) - np.log(wallet).mean()) / np.log(wallet).std()
    reach = np.full(n_firms, -0.2)
    slope = np.zeros(n_firms)
    quality = np.full(n_firms, 6.5)
    quality_slope = np.zeros(n_firms)
    reach[0], slope[0], quality[0], quality_slope[0] = 3.0, 0.0, 7.6, -1.2  # mass market
    reach[1], slope[1], quality[1], quality_slope[1] = -1.2, 1.0, 7.0, 1.0  # premium
    uses = rng.random((n_customers, n_firms)) < special.expit(reach + np.outer(z, slope))
    none = ~uses.any(axis=1)
    favourite = np.argmax(reach + np.outer(z, slope), axis=1)
    uses[none, favourite[none]] = True
    latent = quality + np.outer(z, quality_slope) + rng.normal(0, 1.2, (n_customers, n_firms))
    score = np.where(uses, beta * latent + rng.normal(0, noise, latent.shape), -np.inf)
    weights = np.exp(score - score.max(axis=1, keepdims=True))
    share = weights / weights.sum(axis=1, keepdims=True)
    cust, firm = np.nonzero(uses)
    names = np.array([f"Firm {chr(ord('A') + i)}" for i in range(n_firms)])
    frame = pd.DataFrame(
        {
            "customer_id": cust + 1,
            "firm": pd.Categorical(names[firm], categories=list(names)),
            "wallet": wallet[cust],
            "share": share[cust, firm],
            "satisfaction": np.clip(np.round(latent[cust, firm]), 1, 10).astype(int),
            "latent_satisfaction": latent[cust, firm],
        }
    )
    frame["spend"] = frame["share"] * frame["wallet"]
    ranked = within_customer_ranks(frame, "satisfaction")
    frame["rank"] = ranked["rank"]
    frame["n_used"] = ranked["n_used"]
    observed = ["customer_id", "firm", "spend", "wallet", "satisfaction", "rank", "n_used"]
    return SimulatedData(
        {"spend": frame[observed]},
        frame[["customer_id", "firm", "share", "latent_satisfaction"]],
        {
            "n_customers": n_customers,
            "n_firms": n_firms,
            "beta": beta,
            "noise": noise,
            "seed": seed,
            "design": DESIGN,
        },
    )
