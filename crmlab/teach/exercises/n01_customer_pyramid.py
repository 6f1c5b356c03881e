"""Exercises of notebook 01, the customer pyramid (tiers, a cohort's decay, migration).

The check cells pass the notebook's objects: ``pyramids`` (period end -> pyramid of the
data, :func:`crmlab.segments.pyramid_series`), ``first`` (the first period's pyramid),
``costs`` (the stated cost model), ``transactions`` and ``first_period_end`` (the data and
the first period's last day), ``sim_migration`` and ``min_customers`` (the simulated
retailer's last migration and the small-row threshold).
"""

from __future__ import annotations

import pandas as pd

from crmlab import segments
from crmlab.segments.pyramid import INACTIVE
from crmlab.teach.core import Exercise, Mistake, Option, direction

NARROW, WIDE = "3M", "6M"  # exercise 2: the period lengths compared
UPPER = 2  # exercises 1 and 5: the Top and Big tiers, the first two of the pyramid


def _upper_share(pyramid: segments.Pyramid, column: str = "revenue_share") -> float:
    return float(pyramid.table.loc[list(pyramid.labels[:UPPER]), column].sum())


def _first_last(pyramids: dict) -> tuple[segments.Pyramid, segments.Pyramid]:
    ends = sorted(pyramids)
    return pyramids[ends[0]], pyramids[ends[-1]]


# ---------------------------------------------------- 01.1: Top + Big in the last period


def last_upper_revenue_share(pyramids: dict) -> float:
    """Revenue share of the Top and Big tiers in the last period of ``pyramids``."""
    return _upper_share(_first_last(pyramids)[1])


def _upper_explain(pyramids: dict) -> str:
    first, last = _first_last(pyramids)
    active = [int(p.table.loc[list(p.labels), "customers"].sum()) for p in (first, last)]
    return (
        f"In the last period ({last.period}) the Top and Big tiers, "
        f"{int(last.table.loc[list(last.labels[:UPPER]), 'customers'].sum()):,} of "
        f"{active[1]:,} active customers, brought {_upper_share(last):.1%} of revenue; in the "
        f"first period ({first.period}), {_upper_share(first):.1%} of the revenue of "
        f"{active[0]:,} active customers. The tiers are shares of each period's *active* "
        "customers, so the pyramid keeps its shape as the cohort shrinks: a few customers "
        "bring a share of revenue several times their share of customers in every period."
    )


LAST_UPPER = Exercise(
    id="01.1",
    kind="code",
    question=(
        "The notebook shows the tier table of the first period only. Write the line that "
        "computes the share of revenue the **Top and Big** tiers together (the top 5% of "
        "active customers) brought in the **last** period: its pyramid is `last` (or "
        "`pyramids[ends[-1]]`), and a pyramid's `.table` has a column `revenue_share`. "
        "Two decimals are enough. Is revenue more or less concentrated than in the first "
        "period?"
    ),
    needs=("pyramids",),
    expected=lambda pyramids: last_upper_revenue_share(pyramids),
    tolerance=0.01,
    unit="fraction",
    fmt="{:.3f}",
    code='last.table.loc[["Top", "Big"], "revenue_share"].sum()',
    hints=(
        "The last period's pyramid has the same kind of tier table as the first one; you "
        "need two of its rows and one of its columns.",
        "Select the rows 'Top' and 'Big' of last.table, take the column 'revenue_share' "
        "and add the two values with .sum().",
    ),
    mistakes=(
        Mistake(
            lambda pyramids: _upper_share(_first_last(pyramids)[0]),
            "That is the first period's share (the table shown above); the question asks "
            "about the last period, `last`.",
        ),
        Mistake(
            lambda pyramids: _upper_share(_first_last(pyramids)[1], "profit_share"),
            "That is the Top and Big tiers' share of profit; the question asks for revenue.",
        ),
        Mistake(
            lambda pyramids: float(
                _first_last(pyramids)[1].table.loc[_first_last(pyramids)[1].labels[0]][
                    "revenue_share"
                ]
            ),
            "That is the Top tier alone; add the Big tier.",
        ),
        Mistake(
            lambda pyramids: 0.05,
            "That is the share of active customers in the two tiers (1% + 4%); the question "
            "asks for their share of revenue.",
        ),
    ),
    solution=(
        "The last pyramid's tier table has one row per tier; `revenue_share` is each tier's "
        "revenue divided by the period's total. Adding the rows Top and Big gives the top "
        "5% of active customers' share of revenue."
    ),
    explain=_upper_explain,
)


# ------------------------------------------- 01.2: predict a wider period's stop-buying


def stopped_share(
    transactions: pd.DataFrame, first_period_end: str | pd.Timestamp, length: str
) -> float:
    """Share of the first period's active customers who buy nothing in the next period,
    for periods of ``length`` (:func:`crmlab.segments.migration_finding`'s ``lost_share``)."""
    ends = segments.period_ends(first_period_end, length, 2)
    pyramids = segments.pyramid_series(transactions, ends, length)
    migration = segments.tier_migration(pyramids[ends[0]], pyramids[ends[1]])
    return float(segments.migration_finding(migration).numbers["lost_share"])


def stopped_before_after(
    transactions: pd.DataFrame, first_period_end: str | pd.Timestamp
) -> tuple[float, float]:
    """The stop-buying share with quarters and with half-years."""
    return (
        stopped_share(transactions, first_period_end, NARROW),
        stopped_share(transactions, first_period_end, WIDE),
    )


def _wider_explain(transactions: pd.DataFrame, first_period_end: str | pd.Timestamp) -> str:
    before, after = stopped_before_after(transactions, first_period_end)
    return (
        f"With quarters, {before:.1%} of the first period's active customers bought nothing "
        f"in the next quarter; with half-years, {after:.1%} bought nothing in the next six "
        "months. A customer who buys nothing for six months also bought nothing in the "
        "first three of them, and some who were quiet for a quarter buy in the next one: a "
        "longer window leaves more time to buy again. So the share who 'stop' is a "
        "property of the window as much as of the customers: compare defection rates only "
        "between periods of the same length."
    )


WIDER_PERIOD = Exercise(
    id="01.2",
    kind="predict",
    question=(
        "The migration sentence says what share of the first period's active customers "
        "bought nothing in the second period, with periods of three months. **Before you "
        'run anything:** with periods of **six months** (`"6M"`) instead, does that share '
        'go "up", "down" or stay the "same"? Write your prediction, run the cell, then '
        "compute it: build two six-month pyramids with `segments.pyramid_series(transactions, "
        'segments.period_ends(first_period_end, "6M", 2), "6M")`, their '
        "`segments.tier_migration`, and read `lost_share` in "
        "`segments.migration_finding(...).numbers`."
    ),
    needs=("transactions", "first_period_end"),
    expected=lambda transactions, first_period_end: direction(
        *stopped_before_after(transactions, first_period_end), same_within=5e-4
    ),
    code="""[
    segments.migration_finding(
        segments.tier_migration(
            *segments.pyramid_series(
                transactions, segments.period_ends(first_period_end, n, 2), n
            ).values()
        )
    ).numbers["lost_share"]
    for n in ("3M", "6M")
]""",
    hints=(
        "A customer counts as 'stopped' when they buy nothing during the whole next period. "
        "What happens to that chance when the period gets longer?",
        "Compute lost_share from segments.migration_finding for two migrations built the "
        'same way, one with "3M" and one with "6M" periods, and compare them.',
    ),
    solution=(
        "Whoever buys nothing in the six months after the first period also bought nothing "
        "in the first three of them, so the customers who stop over six months are a "
        "subset of those who stop over three (here the first period holds the same cohort "
        "with both lengths, since every customer first bought in it)."
    ),
    explain=_wider_explain,
)


# ------------------------------------------------- 01.3: why the cohort only shrinks


def cohort_numbers(pyramids: dict) -> dict:
    """Customers in the file, active per period and new arrivals
    (:func:`crmlab.segments.cohort_finding`)."""
    first, _ = _first_last(pyramids)
    numbers = dict(segments.cohort_finding(pyramids).numbers)
    numbers["customers"] = int(len(first.customers))
    numbers["active"] = [
        int(p.table.loc[list(p.labels), "customers"].sum()) for _, p in sorted(pyramids.items())
    ]
    numbers["inactive_last"] = int(_first_last(pyramids)[1].table.loc[INACTIVE, "customers"])
    return numbers


def _cohort_explain(pyramids: dict) -> str:
    n = cohort_numbers(pyramids)
    rises = sum(b > a for a, b in zip(n["active"][:-1], n["active"][1:], strict=True))
    return (
        f"Here the first period holds all {n['customers']:,} customers of the file as "
        f"active, {'no' if n['new'] == 0 else format(n['new'], ',')} new customers arrive "
        "later, and the active count per period "
        f"is {', '.join(f'{a:,}' for a in n['active'])}; in the last period "
        f"{n['inactive_last']:,} customers are still in the pyramid as Inactive. "
        + (
            "No period gains on the one before here, but it could: a quarter in which more "
            "customers come back than stop has more active customers than the one before."
            if rises == 0
            else f"{rises} period(s) gain on the one before: more customers came back than stopped."
        )
    )


COHORT_WHY = Exercise(
    id="01.3",
    kind="why",
    question=(
        "In CDNOW's pyramid no new customers ever appear, and no later quarter has as many "
        "active customers as the first. Why?"
    ),
    needs=("pyramids",),
    options={
        "a": Option(
            "Customers who stop buying are removed from the file after a quarter without a "
            "purchase, so the file itself shrinks period after period.",
            "Nobody is removed: a customer who does not buy in a period stays in the "
            "pyramid as *Inactive* (look at the Inactive column of the history table). "
            "The file holds the same customers in every period.",
        ),
        "b": Option(
            "The tiers are fixed shares (1%, 4%, 15%, 80%) of the active customers, so all "
            "four tiers get smaller together, period after period.",
            "The cut-offs divide whatever active customers there are into tiers; they do "
            "not decide how many customers are active.",
        ),
        "c": Option(
            "CDNOW stopped winning new customers after the first quarter of 1997, so "
            "nobody could join the pyramid after it.",
            "The firm kept acquiring customers; they are just not in this file. That no "
            "new customers appear is a property of how the data were drawn, not of the "
            "business: be careful not to read a sampling rule as a finding.",
        ),
        "d": Option(
            "The file is one cohort: customers who first bought in the first quarter of "
            "1997. All are active then; later, only those who buy again.",
            "The cohort is defined by its first purchase, so the first period is the only "
            "one in which every customer is active by construction, and customers acquired "
            "later are outside the file. A later quarter can still gain on the quarter "
            "before, when more customers come back than stop.",
            correct=True,
        ),
    },
    hints=(
        "Read the description of the data at the top of the notebook: which customers "
        "were put in the file?",
        "Count, for the first period, how many of the file's customers are active, and "
        "ask who could be active in a later period: segments.cohort_finding(pyramids)"
        ".numbers has the counts.",
    ),
    solution=(
        "The CDNOW file is the cohort of customers who first bought in the first quarter "
        "of 1997 (Fader & Hardie's data). Every one of them is active in that quarter by "
        "definition; later quarters can only count the same customers again, when they "
        "buy again, so the active base falls from the first period on and new customers "
        "never appear. A firm that keeps acquiring (the simulated retailer) refills its "
        "pyramid every period."
    ),
    explain=_cohort_explain,
)


# ------------------------------------------------ 01.4: a migration row of few customers


def top_row(sim_migration: segments.Migration, min_customers: int) -> dict:
    """The simulated Top row: customers, how many stopped, the rate, its Wilson interval,
    what one customer moves, and the bottom tier's rate for comparison."""
    from crmlab.stats import wilson_interval

    counts = sim_migration.counts
    labels = [c for c in counts.columns if c in counts.index and c not in (INACTIVE,)]
    top, bottom = labels[0], labels[-1]
    n, k = int(counts.loc[top].sum()), int(counts.loc[top, INACTIVE])
    low, high = wilson_interval(k, n)
    return {
        "tier": top,
        "n": n,
        "stopped": k,
        "rate": k / n,
        "low": float(low),
        "high": float(high),
        "one_customer": 100 / n,
        "flagged": n < min_customers,
        "bottom": bottom,
        "bottom_n": int(counts.loc[bottom].sum()),
        "bottom_rate": float(counts.loc[bottom, INACTIVE] / counts.loc[bottom].sum()),
    }


def _small_row_explain(sim_migration: segments.Migration, min_customers: int) -> str:
    r = top_row(sim_migration, min_customers)
    flag = "flagged" if r["flagged"] else "not flagged"
    return (
        f"In the simulated retailer the {r['tier']} row rests on {r['n']:,} customers "
        f"({flag}, the threshold is {min_customers}); {r['stopped']} of them stopped buying, "
        f"{r['rate']:.1%}, with a 95% interval from {r['low']:.1%} to {r['high']:.1%}. One "
        f"customer more or less moves the row by {r['one_customer']:.1f} points. The "
        f"{r['bottom']} row's {r['bottom_rate']:.1%} rests on {r['bottom_n']:,} customers. "
        "(The data are simulated: the point is how to read a small row, not what this "
        "firm's top customers do.)"
    )


SMALL_ROW = Exercise(
    id="01.4",
    kind="choose",
    question=(
        "In the simulated retailer's migration matrix the Top row is flagged: it rests on "
        "fewer than `min_customers` customers (the column `customers` of the table gives "
        "how many). How should a manager read that row's share in the *Inactive* column?"
    ),
    needs=("sim_migration", "min_customers"),
    options={
        "a": Option(
            "As the Top tier's stop-buying rate, as reliable as the other rows': a share is "
            "a share whatever the number of customers behind it.",
            "A share of few customers moves a lot with a single customer (100 / n points) "
            "and its confidence interval is wide: it is far less reliable than a row of "
            "hundreds of customers.",
        ),
        "b": Option(
            "As a share that is too low: rows resting on few customers understate how many "
            "of them stop buying, so the true rate is higher.",
            "Few customers make a share imprecise, not biased in one direction: it is as "
            "likely to be too high as too low.",
        ),
        "c": Option(
            "As a rough estimate: read it with its confidence interval, and pool periods "
            "or customers before acting on it.",
            "With few customers one customer moves the row by many points and the "
            "confidence interval spans a wide range: the row is an estimate to be read "
            "with its interval, and pooling periods gives the tier a firmer rate.",
            correct=True,
        ),
        "d": Option(
            "As noise: drop the row from the matrix and from the flows table, so that it "
            "cannot mislead anyone who reads the report.",
            "The row counts exactly what happened to those customers and is still the best "
            "estimate there is; dropping it would hide customers and their revenue from "
            "the flows. Flag it and give its interval instead.",
        ),
    },
    hints=(
        "How many points does a single customer move a share of n customers?",
        "Compute the Wilson interval of the Top row's stop-buying share with "
        "crmlab.stats.wilson_interval(stopped, n), where n is the row's customers, and "
        "compare its width with the share itself.",
    ),
    solution=(
        "A row of n customers moves by 100 / n points per customer; with a dozen customers "
        "that is about 8 points, and the 95% interval of the share spans tens of points. "
        "The row is an honest but rough estimate: give it with its interval, or pool several "
        "periods (or a larger tier) before deciding on the top tier's retention budget."
    ),
    explain=_small_row_explain,
)


# --------------------------------------------- 01.5: cherry-picking and thin margins


def margin_profile(first: segments.Pyramid, costs: segments.CostModel) -> dict:
    """Top and Big tiers' share of revenue and of profit in the first period, and each
    tier's profit per dollar of revenue."""
    table = first.table.loc[list(first.labels)]
    return {
        "revenue_share": _upper_share(first),
        "profit_share": _upper_share(first, "profit_share"),
        "kept": (table["profit"] / table["revenue"]).to_dict(),
        "margin": float(costs.margin),
        "cost_per_order": float(costs.cost_per_order),
        "cost_per_year": float(costs.cost_per_customer_year),
    }


def _cherry_explain(first: segments.Pyramid, costs: segments.CostModel) -> str:
    p = margin_profile(first, costs)
    kept = ", ".join(f"{tier} {value:.1%}" for tier, value in p["kept"].items())
    return (
        f"In the first period the Top and Big tiers brought {p['revenue_share']:.1%} of "
        f"revenue and {p['profit_share']:.1%} of profit. Of each dollar of revenue, the "
        f"firm keeps as profit: {kept} (gross margin {p['margin']:.0%} for everyone, less "
        f"\\${p['cost_per_order']:.2f} per order and \\${p['cost_per_year']:.2f} per "
        "customer-year). A competitor who picks off the top 5%, or a newcomer with lower "
        "costs who can undercut on their orders, takes more of the profit than of the "
        "revenue: the top customers are the ones to keep."
    )


CHERRY_PICKING = Exercise(
    id="01.5",
    kind="why",
    question=(
        "**Cherry-picking.** Peppers & Rogers warn that a firm earning its profit as thin "
        "margins on many sales is exposed to competitors who pick off its most profitable "
        "customers. In the first period's tier table, the Top and Big tiers bring a larger "
        "share of **profit** than of **revenue**, although every customer has the same "
        "gross margin. Why?"
    ),
    needs=("first", "costs"),
    options={
        "a": Option(
            "The costs per order and per customer-year are fixed amounts, which bite harder "
            "into a small spender's thin margin.",
            "Profit = margin x revenue - cost per order x orders - cost per customer-year x "
            "time: the last two do not grow with what a customer spends, so a small "
            "customer keeps a smaller part of each dollar, and profit is more concentrated "
            "than revenue.",
            correct=True,
        ),
        "b": Option(
            "The tiers are ranked by profit, so the Top and Big tiers hold the most profit "
            "by construction, whatever the costs are.",
            "The notebook ranks by revenue (`rank_by`); the question is why ranking by "
            "revenue also concentrates profit, and more than revenue.",
        ),
        "c": Option(
            "Top and Big customers order more often, so the fixed cost per order is spread "
            "over more of their orders and weighs less.",
            "The cost per order is charged on every order: more orders mean more order "
            "costs, not fewer. What matters is how much revenue each order and each "
            "customer brings against those fixed amounts.",
        ),
        "d": Option(
            "Customers in the Small tier return goods more often than the others, and the "
            "returns are charged to their profit.",
            "The data record purchases only and the cost model has no returns: the "
            "difference comes from the costs that are in it.",
        ),
    },
    hints=(
        "Write down the cost model of the notebook: which of its terms grow with a "
        "customer's revenue and which do not?",
        "Divide each tier's profit by its revenue in first.table and compare the Top tier "
        "with the Small tier; then look at which costs explain the difference.",
    ),
    solution=(
        "Profit is `m·revenue − c_o·orders − c_y·years`. The gross margin `m` is the same "
        "share for everyone, but the order and yearly costs are fixed amounts per order and "
        "per customer, so they eat a larger share of a small spender's margin. The top tiers "
        "keep more of each dollar, so they hold a larger share of profit than of revenue: "
        "the customers a competitor would cherry-pick are worth even more than their revenue "
        "says."
    ),
    explain=_cherry_explain,
)


EXERCISES = (LAST_UPPER, WIDER_PERIOD, COHORT_WHY, SMALL_ROW, CHERRY_PICKING)
