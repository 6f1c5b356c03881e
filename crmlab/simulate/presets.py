"""Named simulator settings that several notebooks share.

A preset is a documented call of a simulator with fixed, reasoned parameters, so that
notebooks asking for "the same simulated business" get the same one and state its
assumptions once.
"""

from __future__ import annotations

from crmlab.simulate.result import SimulatedData
from crmlab.simulate.retailer import retailer

#: The growing retailer's parameters (rates per year) and why they were chosen.
GROWING_RETAILER = {
    "r": 0.8,  # with alpha: 3.2 purchases a year on average while alive
    "alpha": 0.25,
    "s": 1.0,  # with beta: dropout rates averaging 0.67 a year (lifetimes of about 1.5 years)
    "beta": 1.5,
    "p": 4.0,  # with q and gamma: Gamma-Gamma order values averaging $60 (p gamma / (q - 1))
    "q": 6.0,
    "gamma": 75.0,
    "margin": 0.3,  # customers' gross margins spread around 30% ...
    "margin_concentration": 20.0,  # ... as Beta(6, 14)
    "cost_per_order": 8.0,  # a skewed cost to serve each customer's orders, $8 on average
    "cost_per_order_shape": 1.0,
}


def growing_retailer(
    n_customers: int = 4000, years: float = 3.0, seed: int = 2026
) -> SimulatedData:
    """A retailer that keeps acquiring customers, with recorded costs (rates per year).

    Customers arrive at a steady rate over the whole history (no single cohort), buy as
    a Pareto/NBD process (purchase rates Gamma(0.8, 0.25): 3.2 a year on average while
    alive; dropout rates Gamma(1, 1.5): 0.67 a year), spend Gamma-Gamma order values
    averaging $60 (p = 4, q = 6, gamma = 75) and carry a cost on every order: goods at
    the customer's gross margin (Beta around 30%, concentration 20) plus the customer's
    own cost to serve an order (exponential across customers, mean $8). See
    :data:`GROWING_RETAILER` and :func:`crmlab.simulate.retailer`.

    Parameters
    ----------
    n_customers : int
        Customers acquired over the history.
    years : float
        Length of the history in years, from 1 January 1997.
    seed : int
        Random seed.

    Returns
    -------
    SimulatedData
        As :func:`crmlab.simulate.retailer` (``transactions`` with a ``cost`` column,
        ``truth`` per customer).
    """
    return retailer(
        n_customers,
        acquisition_periods=None,
        horizon=years,
        time_unit="Y",
        seed=seed,
        **GROWING_RETAILER,
    )
