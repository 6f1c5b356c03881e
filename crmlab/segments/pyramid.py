"""The customer pyramid (Curry & Curry, *The Customer Marketing Method*, 2000) and
the migration of customers between its tiers from one period to the next.

Active customers of a period are ranked by revenue (or profit) and cut into tiers
by cumulative shares of customers: by default the top 1% ("Top"), the next 4%
("Big"), the next 15% ("Medium") and the remaining 80% ("Small"). Customers who
bought before the period but not in it are "Inactive"; people on a prospect list
who have never bought are "Prospects" (or "Suspects", the wider list).

**Ties at a cut-off.** A customer's tier is the first tier whose cumulative
cut-off exceeds the share of active customers ranked *strictly above* them.
Customers with equal value therefore always share a tier, and a tie straddling
a cut-off goes to the higher tier, so a tier can hold more than its nominal share
(the tier table reports the actual shares next to the nominal ones). The top tier
is never empty when anyone is active. All customers equal -> all in the top tier.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from crmlab.errors import DataError
from crmlab.reports import Finding
from crmlab.segments.profit import (
    CostModel,
    check_overlap,
    check_transactions,
    customer_profit,
    period_bounds,
)

DEFAULT_CUTOFFS = (0.01, 0.04, 0.15, 0.80)
DEFAULT_LABELS = ("Top", "Big", "Medium", "Small")
INACTIVE, PROSPECTS, SUSPECTS, NEW = "Inactive", "Prospects", "Suspects", "New"
_NON_TIERS = (INACTIVE, PROSPECTS, SUSPECTS, NEW, "Not listed")


@dataclass
class Pyramid:
    """A customer pyramid for one period.

    Attributes
    ----------
    customers : DataFrame
        One row per person in the period's universe, indexed by ``customer_id``:
        ``tier`` (ordered categorical), ``rank`` (1 = best; ties share the best rank;
        NaN for non-active), ``orders``, ``revenue``, ``profit`` (0 for non-active).
    table : DataFrame
        One row per tier: ``customers``, ``nominal_share`` (cut-off), ``share_of_active``,
        ``revenue``, ``revenue_share``, ``profit``, ``profit_share``, ``orders``,
        ``avg_order_value`` (revenue / orders), ``revenue_per_customer``, ``min_value``
        (lowest ranking value in the tier: the realised threshold).
    start, end : Timestamp
        The period is ``start < date <= end``.
    rank_by : str
        ``"revenue"`` or ``"profit"``.
    notes : list of str
        What was left out and why (e.g. customers whose first purchase is after the period).
    """

    customers: pd.DataFrame
    table: pd.DataFrame
    start: pd.Timestamp
    end: pd.Timestamp
    rank_by: str
    labels: tuple[str, ...]
    notes: list[str] = field(default_factory=list)

    @property
    def period(self) -> str:
        """The period in words, first and last day included: ``"1 Jan 1997 to 31 Mar 1997"``."""
        first = self.start + pd.Timedelta(days=1)
        return f"{first.day} {first:%b %Y} to {self.end.day} {self.end:%b %Y}"


def _check_cutoffs(cutoffs: Sequence[float], labels: Sequence[str] | None) -> tuple:
    shares = np.asarray(list(cutoffs), dtype=float)
    if shares.ndim != 1 or len(shares) == 0:
        raise DataError("parameter 'cutoffs' is empty; give shares like (0.01, 0.04, 0.15, 0.80).")
    bad = np.flatnonzero(~np.isfinite(shares) | (shares <= 0))
    if len(bad):
        raise DataError(
            f"parameter 'cutoffs' has {len(bad)} share(s) that are not positive, first at "
            f"position {bad[0] + 1}: {shares[bad[0]]!r}; every tier needs a share above 0."
        )
    if abs(shares.sum() - 1.0) > 1e-6:
        raise DataError(
            f"parameter 'cutoffs' sums to {shares.sum():.6g}, not 1: {list(shares)}. "
            "Give shares of active customers from the top tier down that add up to 1, "
            "e.g. (0.01, 0.04, 0.15, 0.80)."
        )
    if labels is None:
        labels = (
            DEFAULT_LABELS if len(shares) == 4 else [f"Tier {i + 1}" for i in range(len(shares))]
        )
    labels = tuple(str(x) for x in labels)
    if len(labels) != len(shares):
        raise DataError(
            f"parameter 'labels' has {len(labels)} names for {len(shares)} cut-offs; "
            "give one name per tier."
        )
    if len(set(labels)) != len(labels) or set(labels) & {INACTIVE, PROSPECTS, SUSPECTS, NEW}:
        raise DataError(
            f"parameter 'labels' {list(labels)} repeats a name or uses a reserved one "
            f"({INACTIVE}, {PROSPECTS}, {SUSPECTS}, {NEW}); give distinct tier names."
        )
    return shares, labels


def assign_tiers(
    values: pd.Series,
    cutoffs: Sequence[float] = DEFAULT_CUTOFFS,
    labels: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Rank values (high = best) and cut them into tiers by cumulative customer shares.

    Parameters
    ----------
    values : Series
        Ranking value per customer (revenue or profit), indexed by customer.
    cutoffs : sequence of float
        Share of customers in each tier from the top down; must sum to 1.
    labels : sequence of str, optional
        Tier names (default Top, Big, Medium, Small for four cut-offs).

    Returns
    -------
    DataFrame
        ``rank`` (1 + number of customers with a strictly higher value) and ``tier``:
        the first tier ``k`` with ``(rank - 1) / n < c_1 + ... + c_k``.
    """
    shares, labels = _check_cutoffs(cutoffs, labels)
    v = pd.Series(values, dtype=float)
    if v.isna().any():
        bad = v.isna().to_numpy()
        raise DataError(
            f"ranking values have {int(bad.sum())} missing value(s), first for customer "
            f"{v.index[np.flatnonzero(bad)[0]]!r}; fill or remove them."
        )
    n = len(v)
    rank = v.rank(method="min", ascending=False)
    bounds = np.cumsum(shares) * n
    bounds[-1] = np.inf
    position = np.searchsorted(bounds - 1e-9, rank.to_numpy() - 1.0, side="right")
    tier = pd.Categorical.from_codes(position.astype(int), categories=list(labels), ordered=True)
    return pd.DataFrame({"rank": rank.astype("Int64"), "tier": tier}, index=v.index)


def customer_pyramid(
    transactions: pd.DataFrame,
    end: str | pd.Timestamp,
    length: str | int | pd.DateOffset = "1Y",
    *,
    cutoffs: Sequence[float] = DEFAULT_CUTOFFS,
    labels: Sequence[str] | None = None,
    rank_by: str = "revenue",
    costs: CostModel | None = None,
    prospects: Iterable | None = None,
    suspects: Iterable | None = None,
) -> Pyramid:
    """Customer pyramid for the period ``end - length < date <= end``.

    Parameters
    ----------
    transactions : DataFrame
        ``customer_id``, ``date``, ``amount`` (optionally ``cost``).
    end : date
        Last day of the period (inclusive).
    length : str, int or DateOffset
        Period length: ``"3M"``, ``"1Y"``, ``"13W"``, ``"90D"`` or a number of days.
    cutoffs : sequence of float
        Shares of active customers per tier from the top; must sum to 1.
    labels : sequence of str, optional
        Tier names (default ``Top, Big, Medium, Small``).
    rank_by : {"revenue", "profit"}
        What ranks the active customers. Profit uses ``costs``.
    costs : CostModel, optional
        Cost assumptions for the profit columns (default 30% margin, no serving costs).
    prospects, suspects : iterable, optional
        IDs of people who have not bought yet (qualified prospects; the wider suspect
        list). IDs that have bought by the period end, or that are on both lists
        (they count as prospects), are not repeated; the counts are in ``notes``.

    Returns
    -------
    Pyramid
        Tier of every customer and the tier table; see :class:`Pyramid`.
    """
    if rank_by not in ("revenue", "profit"):
        raise DataError(f"parameter 'rank_by' is {rank_by!r}; use 'revenue' or 'profit'.")
    shares, labels = _check_cutoffs(cutoffs, labels)
    check_transactions(transactions)
    start, stop = period_bounds(end, length)
    check_overlap(transactions, start, stop)
    notes: list[str] = []
    active = customer_profit(transactions, costs, start=start, end=stop)
    tiers = assign_tiers(active[rank_by], shares, labels)
    day = transactions["date"].dt.normalize()
    before = pd.Index(transactions.loc[day <= start, "customer_id"].unique())
    inactive = before.difference(active.index)
    later = pd.Index(transactions.loc[day > stop, "customer_id"].unique())
    future = later.difference(active.index).difference(before)
    if len(future):
        notes.append(
            f"{len(future):,} customers whose first purchase is after {stop.date()} are "
            "not in this period's pyramid."
        )
    categories = [*labels, INACTIVE, PROSPECTS, SUSPECTS]
    known = active.index.union(inactive)
    extra = []
    for name, ids in ((PROSPECTS, prospects), (SUSPECTS, suspects)):
        if ids is None:
            continue
        idx = pd.Index(pd.unique(pd.Series(list(ids))))
        taken = idx.intersection(known.union(pd.Index([e for f in extra for e in f[1]])))
        if len(taken):
            notes.append(
                f"{len(taken):,} IDs on the {name.lower()} list are already customers or "
                f"listed before, first {taken[0]!r}; they keep their earlier tier."
            )
        idx = idx.difference(taken)
        extra.append((name, idx))
    zero = {"orders": 0, "revenue": 0.0, "profit": 0.0}
    parts = [
        pd.DataFrame(
            {
                "tier": tiers["tier"].astype(str),
                "rank": tiers["rank"],
                "orders": active["orders"],
                "revenue": active["revenue"],
                "profit": active["profit"],
            }
        )
    ]
    for name, idx in [(INACTIVE, inactive), *extra]:
        part = pd.DataFrame({"tier": name, "rank": pd.array([pd.NA] * len(idx), "Int64")}, idx)
        parts.append(part.assign(**zero))
    customers = pd.concat([p for p in parts if len(p)] or parts[:1])
    customers.index.name = "customer_id"
    customers["tier"] = pd.Categorical(customers["tier"], categories=categories, ordered=True)
    customers["orders"] = customers["orders"].astype(int)
    customers = customers.sort_values(["tier", "rank"], kind="stable")
    table = tier_table(customers, shares, labels, rank_by)
    used = [c for c in categories if c in labels or c == INACTIVE or c in dict(extra)]
    table = table.loc[used]
    customers["tier"] = customers["tier"].cat.set_categories(used, ordered=True)
    return Pyramid(customers, table, start, stop, rank_by, tuple(labels), notes)


def tier_table(
    customers: pd.DataFrame,
    cutoffs: Sequence[float],
    labels: Sequence[str],
    rank_by: str = "revenue",
) -> pd.DataFrame:
    """Tier table from a per-customer frame with ``tier``, ``orders``, ``revenue``, ``profit``."""
    g = customers.groupby("tier", observed=False)
    table = pd.DataFrame(
        {
            "customers": g.size().astype(int),
            "revenue": g["revenue"].sum(),
            "profit": g["profit"].sum(),
            "orders": g["orders"].sum().astype(int),
        }
    )
    n_active = table.loc[list(labels), "customers"].sum()
    table.insert(1, "nominal_share", pd.Series(dict(zip(labels, cutoffs, strict=True))))
    table.insert(
        2, "share_of_active", table["customers"].where(table.index.isin(labels)) / n_active
    )
    total_rev, total_profit = table["revenue"].sum(), table["profit"].sum()
    table.insert(4, "revenue_share", table["revenue"] / total_rev if total_rev else np.nan)
    table.insert(6, "profit_share", table["profit"] / total_profit if total_profit else np.nan)
    orders = table["orders"].replace(0, np.nan)
    table["avg_order_value"] = table["revenue"] / orders
    table["revenue_per_customer"] = table["revenue"] / table["customers"].replace(0, np.nan)
    mins = g[rank_by].min().where(table.index.isin(labels) & (table["customers"] > 0))
    table["min_value"] = mins
    table.index = pd.Index(table.index.astype(str), name="tier")
    return table


@dataclass
class Migration:
    """Movement of customers between the tiers of two periods.

    Attributes
    ----------
    counts : DataFrame
        Rows: tier in the earlier period (plus ``New``: not yet a customer);
        columns: tier in the later period. Each tier row sums to that tier's count
        in the earlier pyramid.
    row_percent : DataFrame
        ``counts`` as percentages of each row (rows sum to 100; empty rows are NaN).
    revenue_change : DataFrame
        Later-period minus earlier-period revenue of the customers in each cell;
        the grand total equals the change in total revenue.
    flows : DataFrame
        One row per kind of movement (``up``, ``same``, ``down``, ``new``,
        ``reactivated``, ``converted``, ``lost``, ``still inactive``, ...):
        ``customers``, ``revenue_before``, ``revenue_after``, ``revenue_change``,
        ``change_vs_before`` (revenue change / total revenue of the earlier period: how
        many percent each movement added to or took from the earlier period's revenue;
        these sum to the total growth rate).
    customers : DataFrame
        ``before``, ``after``, ``flow``, ``revenue_before``, ``revenue_after`` per customer.
    ends : tuple of Timestamp
        Last days of the earlier and the later period.
    """

    counts: pd.DataFrame
    row_percent: pd.DataFrame
    revenue_change: pd.DataFrame
    flows: pd.DataFrame
    customers: pd.DataFrame
    ends: tuple[pd.Timestamp, pd.Timestamp] | None = None


def tier_migration(before: Pyramid, after: Pyramid) -> Migration:
    """Transition matrix between the pyramids of two periods.

    ``after`` must end later than ``before``; for consecutive periods use the same
    length and let ``after.start == before.end``. Customers absent from ``before``
    (first purchase after its end) form the ``New`` row. Flows: active -> active is
    ``up``/``same``/``down`` by tier order; ``Inactive`` -> active is ``reactivated``;
    ``New`` -> active is ``new``; ``Prospects``/``Suspects`` -> active is ``converted``;
    active -> ``Inactive`` is ``lost``.
    """
    if after.end <= before.end:
        raise DataError(
            f"the later pyramid ends {after.end.date()}, not after the earlier one "
            f"({before.end.date()}); pass (earlier, later)."
        )
    if after.start < before.end:
        raise DataError(
            f"the periods overlap: the later one starts after {after.start.date()}, before the "
            f"earlier one ends ({before.end.date()}); use periods that do not overlap, e.g. "
            "ends from segments.period_ends with the same length."
        )
    if before.labels != after.labels:
        raise DataError(
            f"the pyramids use different tiers {list(before.labels)} and "
            f"{list(after.labels)}; build both with the same cut-off labels."
        )
    labels = list(before.labels)
    b, a = before.customers, after.customers
    ids = b.index.union(a.index)
    row_cats = [*before.customers["tier"].cat.categories, NEW]
    col_cats = list(after.customers["tier"].cat.categories)
    tier_b = b["tier"].astype(str).reindex(ids).fillna(NEW)
    tier_a = a["tier"].astype(str).reindex(ids)
    if tier_a.isna().any():
        col_cats.append("Not listed")
        tier_a = tier_a.fillna("Not listed")
    rev_b = b["revenue"].reindex(ids).fillna(0.0)
    rev_a = a["revenue"].reindex(ids).fillna(0.0)
    order = {name: i for i, name in enumerate(labels)}
    rb = tier_b.map(order)
    ra = tier_a.map(order)
    both = rb.notna() & ra.notna()
    flow = pd.Series("still " + tier_b.str.lower(), index=ids, dtype=object)
    flow[both & (ra < rb)] = "up"
    flow[both & (ra == rb)] = "same"
    flow[both & (ra > rb)] = "down"
    flow[ra.notna() & (tier_b == INACTIVE)] = "reactivated"
    flow[ra.notna() & (tier_b == NEW)] = "new"
    flow[ra.notna() & tier_b.isin([PROSPECTS, SUSPECTS])] = "converted"
    flow[rb.notna() & (tier_a == INACTIVE)] = "lost"
    flow[rb.notna() & (tier_a == "Not listed")] = "not listed"
    per = pd.DataFrame(
        {
            "before": pd.Categorical(tier_b, categories=row_cats, ordered=True),
            "after": pd.Categorical(tier_a, categories=col_cats, ordered=True),
            "flow": flow,
            "revenue_before": rev_b,
            "revenue_after": rev_a,
        }
    )
    per.index.name = "customer_id"
    counts = pd.crosstab(per["before"], per["after"], dropna=False)
    counts = counts.reindex(index=row_cats, columns=col_cats, fill_value=0).astype(int)
    sums = counts.sum(axis=1).replace(0, np.nan)
    row_percent = counts.div(sums, axis=0) * 100
    delta = per["revenue_after"] - per["revenue_before"]
    change = (
        delta.groupby([per["before"], per["after"]], observed=False)
        .sum()
        .unstack()
        .reindex(index=row_cats, columns=col_cats)
        .fillna(0.0)
    )
    flows = per.groupby("flow").agg(
        customers=("flow", "size"),
        revenue_before=("revenue_before", "sum"),
        revenue_after=("revenue_after", "sum"),
    )
    flows["revenue_change"] = flows["revenue_after"] - flows["revenue_before"]
    total_before = float(per["revenue_before"].sum())
    flows["change_vs_before"] = flows["revenue_change"] / total_before if total_before else np.nan
    preferred = ["new", "converted", "reactivated", "up", "same", "down", "lost"]
    flows = flows.reindex(
        [f for f in preferred if f in flows.index] + sorted(set(flows.index) - set(preferred))
    )
    for m in (counts, row_percent, change):
        m.index.name, m.columns.name = "before", "after"
    return Migration(counts, row_percent, change, flows, per, (before.end, after.end))


def pyramid_series(
    transactions: pd.DataFrame,
    ends: Sequence[str | pd.Timestamp],
    length: str | int | pd.DateOffset = "3M",
    **kwargs,
) -> dict[pd.Timestamp, Pyramid]:
    """Pyramids for several periods of the same length (keyword arguments as
    :func:`customer_pyramid`), keyed by period end, in date order."""
    ends = sorted(pd.Timestamp(e) for e in ends)
    return {e: customer_pyramid(transactions, e, length, **kwargs) for e in ends}


def pyramid_history(pyramids: dict[pd.Timestamp, Pyramid]) -> pd.DataFrame:
    """Customers and revenue per tier over periods: rows = period end, columns MultiIndex
    (``customers``/``revenue``, tier)."""
    rows = {end: p.table[["customers", "revenue"]].stack() for end, p in pyramids.items()}
    out = pd.DataFrame(rows).T
    out.index.name = "period_end"
    return out.swaplevel(axis=1).sort_index(axis=1, level=0, sort_remaining=False)


# ----------------------------------------------------------------- tables for a report

#: Rows of a migration matrix resting on fewer customers than this are flagged: a share
#: of fewer than 30 customers has a standard error of up to 9 percentage points.
MIN_CUSTOMERS = 30


def pyramid_periods(
    pyramids: dict[pd.Timestamp, Pyramid], *, active_only: bool = False
) -> pd.DataFrame:
    """Every customer's tier, orders, revenue and profit in every period, one row each.

    Parameters
    ----------
    pyramids : dict
        Period end -> :class:`Pyramid`, as :func:`pyramid_series` returns.
    active_only : bool
        Keep only the customers who bought in each period (the inactive, prospects and
        suspects have no orders, revenue or profit; :func:`tiers_by_period` lists them).

    Returns
    -------
    DataFrame
        ``customer_id``, ``period_end``, ``tier``, ``rank``, ``orders``, ``revenue``,
        ``profit``: the table behind every number of the pyramid, migration and flows
        (a customer missing from a period had not bought yet by its end).
    """
    if not pyramids:
        raise DataError("no pyramids given; build them with segments.pyramid_series.")
    parts = []
    for end, p in sorted(pyramids.items()):
        customers = p.customers
        if active_only:
            customers = customers[customers["tier"].isin(p.labels)]
        part = customers[["tier", "rank", "orders", "revenue", "profit"]].reset_index()
        part["tier"] = part["tier"].astype(str)
        part.insert(1, "period_end", pd.Timestamp(end))
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def tiers_by_period(pyramids: dict[pd.Timestamp, Pyramid]) -> pd.DataFrame:
    """Every customer's tier in each period, one column per period end (``YYYY-MM-DD``):
    the list a team acts on. A customer who had not bought yet by a period's end has no
    tier in it (empty)."""
    long = pyramid_periods(pyramids)
    wide = long.pivot(index="customer_id", columns="period_end", values="tier")
    wide.columns = [f"{end:%Y-%m-%d}" for end in wide.columns]
    wide.columns.name = None
    return wide


def _styled(view: pd.DataFrame, formats: dict[str, str]) -> Any:
    """``view`` as a Styler: each column's format, thousands separated, "-" for n/a."""
    styler = view.style
    for column, fmt in formats.items():
        styler = styler.format(fmt, subset=[column], na_rep="-")
    return styler


def tier_view(table: pd.DataFrame, *, styled: bool = False) -> Any:
    """A pyramid's tier table with readable headers: counts, shares in %, money in $.

    Parameters
    ----------
    table : DataFrame
        :attr:`Pyramid.table`.
    styled : bool
        Return a pandas Styler (thousands separated, "-" where a measure does not apply,
        such as the average order of the inactive) instead of the DataFrame.
    """
    view = pd.DataFrame(
        {
            "customers": table["customers"].astype(int),
            "% of active": (table["share_of_active"] * 100).round(1),
            "revenue ($)": table["revenue"].round(0).astype(int),
            "% of revenue": (table["revenue_share"] * 100).round(1),
            "% of profit": (table["profit_share"] * 100).round(1),
            "orders": table["orders"].astype(int),
            "avg order ($)": table["avg_order_value"].round(2),
            "revenue per customer ($)": table["revenue_per_customer"].round(2),
            "lowest value in tier ($)": table["min_value"].round(2),
        },
        index=table.index,
    )
    if not styled:
        return view
    money = ["avg order ($)", "revenue per customer ($)", "lowest value in tier ($)"]
    formats = {c: "{:,.0f}" for c in ["customers", "revenue ($)", "orders"]}
    formats |= {c: "{:.1f}" for c in ["% of active", "% of revenue", "% of profit"]}
    return _styled(view, formats | {c: "{:,.2f}" for c in money})


def flows_view(flows: pd.DataFrame, *, styled: bool = False) -> Any:
    """:attr:`Migration.flows` with readable headers: dollars rounded, change in % of the
    earlier period's revenue (a Styler with thousands separators if ``styled``)."""
    money = {
        "revenue_before": "revenue before ($)",
        "revenue_after": "revenue after ($)",
        "revenue_change": "revenue change ($)",
    }
    view = pd.DataFrame({"customers": flows["customers"].astype(int)}, index=flows.index)
    for column, name in money.items():
        view[name] = flows[column].round(0).astype(int)
    view["change (% of earlier revenue)"] = (flows["change_vs_before"] * 100).round(1)
    if not styled:
        return view
    formats = {c: "{:,.0f}" for c in view.columns[:-1]}
    return _styled(view, formats | {view.columns[-1]: "{:+.1f}"})


def migration_view(
    migration: Migration, min_customers: int = MIN_CUSTOMERS, *, styled: bool = False
) -> Any:
    """Row percentages of a migration with each row's customers and a small-number flag.

    Parameters
    ----------
    migration : Migration
        From :func:`tier_migration`.
    min_customers : int
        Rows with fewer customers are flagged in ``note``: their percentages move by
        100 / n points with a single customer.
    styled : bool
        Return a pandas Styler (thousands separated) instead of the DataFrame.

    Returns
    -------
    DataFrame
        One row per earlier tier that has customers: ``customers`` (the row's n), the
        row percentages (one decimal) and ``note``.
    """
    n = migration.counts.sum(axis=1)
    keep = n > 0
    view = migration.row_percent.loc[keep].round(1)
    view.insert(0, "customers", n[keep].astype(int))
    view["note"] = np.where(
        view["customers"] < min_customers,
        f"fewer than {min_customers} customers: shares are rough",
        "",
    )
    view.columns.name = "after (% of row)"
    if not styled:
        return view
    percent = [c for c in view.columns if c not in ("customers", "note")]
    return _styled(view, {"customers": "{:,.0f}"} | {c: "{:.1f}" for c in percent})


# ----------------------------------------------------------------- executive summary


def _tier_counts(pyramid: Pyramid) -> pd.Series:
    return pyramid.table["customers"].reindex(list(pyramid.labels)).astype(int)


def concentration_finding(pyramid: Pyramid) -> Finding:
    """How unequal the period's active customers are: the top tier's and the upper tiers'
    shares of customers and of revenue (exact shares of the period, not estimates)."""
    labels = list(pyramid.labels)
    if len(labels) < 2:
        raise DataError("a pyramid with one tier has no concentration to report; use 2+ tiers.")
    table = pyramid.table.loc[labels]
    active = int(table["customers"].sum())
    if active == 0:
        raise DataError(f"nobody bought in the period {pyramid.period}; choose another period.")
    upper = labels[:-1]
    numbers = {
        "top_n": int(table.loc[labels[0], "customers"]),
        "active": active,
        "top_share": float(table.loc[labels[0], "customers"] / active),
        "top_revenue": float(table.loc[labels[0], "revenue_share"]),
        "upper_n": int(table.loc[upper, "customers"].sum()),
        "upper_share": float(table.loc[upper, "customers"].sum() / active),
        "upper_revenue": float(table.loc[upper, "revenue_share"].sum()),
    }
    template = (
        f"In the period {pyramid.period}, the {{top_n:,}} {labels[0]}-tier customers "
        "({top_share:.1%} of the {active:,} active customers) brought {top_revenue:.1%} of "
        f"revenue, and the {{upper_n:,}} customers above the {labels[-1]} tier "
        "({upper_share:.1%}) brought {upper_revenue:.1%}."
    )
    return Finding(template, numbers)


def cohort_finding(pyramids: dict[pd.Timestamp, Pyramid]) -> Finding:
    """How the active base changes from the first period to the last, and whether new
    customers arrive (a single cohort such as CDNOW's gets none and can only shrink)."""
    ends = sorted(pyramids)
    if len(ends) < 2:
        raise DataError("give pyramids of two or more periods (segments.pyramid_series).")
    first, last = pyramids[ends[0]], pyramids[ends[-1]]
    new = 0
    for before, after in zip(ends[:-1], ends[1:], strict=True):
        known = pyramids[before].customers.index
        new += int((~pyramids[after].customers.index.isin(known)).sum())
    top = first.labels[0]
    numbers = {
        "first_active": int(_tier_counts(first).sum()),
        "last_active": int(_tier_counts(last).sum()),
        "new": new,
        "first_threshold": float(first.table.loc[top, "min_value"]),
        "last_threshold": float(last.table.loc[top, "min_value"]),
    }
    numbers["kept"] = numbers["last_active"] / numbers["first_active"]
    span = (
        f"from {{first_active:,}} in the period ending {ends[0]:%d %b %Y} to {{last_active:,}} "
        f"in the period ending {ends[-1]:%d %b %Y} ({{kept:.1%}} of the first)"
    )
    threshold = (
        f"; the lowest {first.rank_by} that puts a customer in the {top} tier moves from "
        "${first_threshold:,.2f} to ${last_threshold:,.2f}."
    )
    if new == 0:
        template = (
            "No new customers arrive in these data (a single cohort), so active customers "
            f"fall {span}{threshold}"
        )
    else:
        template = (
            f"Active customers go {span}, with {{new:,}} new customers in the "
            f"{len(ends) - 1} later periods{threshold}"
        )
    return Finding(template, numbers)


def _between(migration: Migration) -> str:
    if migration.ends is None:
        return "one period to the next"
    first, second = migration.ends
    return f"the period ending {first:%d %b %Y} to the one ending {second:%d %b %Y}"


def migration_finding(
    migration: Migration,
    *,
    min_customers: int = MIN_CUSTOMERS,
    level: float = 0.95,
    context: str = "",
    simulated: bool = False,
) -> Finding:
    """Who stops buying between two periods: overall, in the top tier (with a Wilson
    interval) and in the bottom tier, flagging a tier of fewer than ``min_customers``.

    Parameters
    ----------
    migration : Migration
        From :func:`tier_migration`.
    min_customers : int
        A tier with fewer customers is named as too small for a firm rate.
    level : float
        Confidence level of the top tier's interval (Wilson score interval).
    context : str
        Opening words, e.g. ``"In the simulated retailer"`` (must say "simulated" when
        ``simulated`` is True).
    simulated : bool
        Whether the data are simulated.
    """
    from crmlab.stats import wilson_interval

    counts = migration.counts
    labels = [c for c in counts.columns if c in counts.index and c not in _NON_TIERS]
    top, bottom = labels[0], labels[-1]
    stopped = counts[INACTIVE] if INACTIVE in counts.columns else 0 * counts.iloc[:, 0]
    active = int(counts.loc[labels].to_numpy().sum())
    top_n, bottom_n = int(counts.loc[top].sum()), int(counts.loc[bottom].sum())
    if active == 0 or top_n == 0 or bottom_n == 0:
        raise DataError("the earlier period has no active customers in its tiers to follow.")
    low, high = wilson_interval(int(stopped[top]), top_n, level=level)
    flows = migration.flows
    numbers = {
        "lost": int(stopped.loc[labels].sum()),
        "active": active,
        "lost_revenue": float(-flows["revenue_change"].get("lost", 0.0)),
        "lost_pct": float(-flows["change_vs_before"].get("lost", 0.0)),
        "top_n": top_n,
        "top_stay": float(counts.loc[top, top] / top_n),
        "top_lost": float(stopped[top] / top_n),
        "top_lost_low": float(low),
        "top_lost_high": float(high),
        "bottom_n": bottom_n,
        "bottom_lost": float(stopped[bottom] / bottom_n),
        "min_customers": int(min_customers),
        "level": float(level),
    }
    numbers["lost_share"] = numbers["lost"] / active
    few = " (fewer than {min_customers:,}, so these shares are rough)"
    opening = f"{context}, from" if context else "From"
    template = (
        f"{opening} {_between(migration)}, {{lost:,}} of the {{active:,}} active customers "
        "({lost_share:.1%}) bought nothing in the second, taking ${lost_revenue:,.0f} of "
        f"revenue ({{lost_pct:.1%}} of the first period's); of the {{top_n:,}} {top}-tier "
        f"customers{few if top_n < min_customers else ''}, {{top_stay:.1%}} stayed {top} and "
        "{top_lost:.1%} ({level:.0%} interval {top_lost_low:.1%} to {top_lost_high:.1%}) "
        f"stopped buying, against {{bottom_lost:.1%}} of the {{bottom_n:,}} {bottom}-tier "
        f"customers{few if bottom_n < min_customers else ''}."
    )
    return Finding(template, numbers, simulated=simulated)


def acquisition_finding(
    migration: Migration, *, context: str = "", simulated: bool = False
) -> Finding:
    """What new and reactivated customers add against what lost customers take, in the
    later of two periods (the adding-and-keeping balance of the flows table)."""
    flows = migration.flows

    def get(flow: str, column: str) -> float:
        return float(flows[column].get(flow, 0.0))

    numbers = {
        "new": int(get("new", "customers")),
        "new_revenue": get("new", "revenue_after"),
        "reactivated": int(get("reactivated", "customers")),
        "reactivated_revenue": get("reactivated", "revenue_after"),
        "lost": int(get("lost", "customers")),
        "lost_revenue": -get("lost", "revenue_change"),
        "growth": float(flows["change_vs_before"].sum()),
    }
    opening = f"{context}, the" if context else "The"
    later = f"period ending {migration.ends[1]:%d %b %Y}" if migration.ends else "later period"
    template = (
        f"{opening} {later} gained ${{new_revenue:,.0f}} from {{new:,}} new customers and "
        "${reactivated_revenue:,.0f} from {reactivated:,} reactivated ones, against "
        "${lost_revenue:,.0f} lost with {lost:,} customers who stopped buying; all movements "
        "together changed revenue by {growth:+.1%}."
    )
    return Finding(template, numbers, simulated=simulated)


SIMULATED_CONTEXT = (
    "In the simulated retailer, whose steady stream of new customers is built into the simulation"
)


def pyramid_findings(
    pyramids: dict[pd.Timestamp, Pyramid],
    simulated_migration: Migration | None = None,
    *,
    min_customers: int = MIN_CUSTOMERS,
    level: float = 0.95,
) -> list[Finding]:
    """The executive summary of a customer-pyramid study.

    Parameters
    ----------
    pyramids : dict
        Period end -> :class:`Pyramid` of the data (:func:`pyramid_series`), two or more.
    simulated_migration : Migration, optional
        Migration between the last two periods of a simulated business that keeps
        acquiring customers; its sentences say that they are simulated.
    min_customers : int
        Tiers of fewer customers are flagged in the migration sentences.
    level : float
        Confidence level of the top tier's stop-buying interval.

    Returns
    -------
    list of Finding
        Concentration in the first period; how the active base changes over the
        periods; who stopped buying between the first two periods; and, for the
        simulated business, what acquisition adds and who stops buying, by tier.
    """
    ends = sorted(pyramids)
    if len(ends) < 2:
        raise DataError("give pyramids of two or more periods (segments.pyramid_series).")
    first_move = tier_migration(pyramids[ends[0]], pyramids[ends[1]])
    findings = [
        concentration_finding(pyramids[ends[0]]),
        cohort_finding(pyramids),
        migration_finding(first_move, min_customers=min_customers, level=level),
    ]
    if simulated_migration is not None:
        findings += [
            acquisition_finding(simulated_migration, context=SIMULATED_CONTEXT, simulated=True),
            migration_finding(
                simulated_migration,
                min_customers=min_customers,
                level=level,
                context="In the simulated retailer",
                simulated=True,
            ),
        ]
    return findings


def pyramid_lists(pyramids: dict[pd.Timestamp, Pyramid]) -> dict[str, pd.DataFrame]:
    """The customers behind the pyramid's actions, from the last two periods.

    ``pyramid_keep``: the top tier of the latest period (highest revenue first);
    ``pyramid_win_back``: customers in a tier above the bottom one in the period before
    who bought nothing in the latest (highest earlier revenue first).
    """
    ends = sorted(pyramids)
    if len(ends) < 2:
        raise DataError("give pyramids of two or more periods (segments.pyramid_series).")
    before, after = pyramids[ends[-2]], pyramids[ends[-1]]
    labels = list(after.labels)
    cols = ["tier", "orders", "revenue", "profit"]
    now = after.customers
    keep = now.loc[now["tier"].astype(str) == labels[0], cols]
    earlier = before.customers
    upper = earlier["tier"].astype(str).isin(labels[:-1])
    gone = now["tier"].astype(str).reindex(earlier.index) == INACTIVE
    back = earlier.loc[upper & gone.to_numpy(), cols].rename(
        columns={"tier": "tier_before", "orders": "orders_before"}
        | {"revenue": "revenue_before", "profit": "profit_before"}
    )
    out = {
        "pyramid_keep": keep.sort_values("revenue", ascending=False, kind="stable"),
        "pyramid_win_back": back.sort_values("revenue_before", ascending=False, kind="stable"),
    }
    for table in out.values():
        table.index.name = "customer_id"
    return out


def pyramid_client(
    pyramids: dict[pd.Timestamp, Pyramid],
    *,
    min_customers: int = MIN_CUSTOMERS,
    level: float = 0.95,
    export: bool = False,
) -> tuple[list[Finding], list]:
    """The customer pyramid for a client: the latest period's concentration and who
    stopped buying since the period before, in plain words, with keep and win-back actions.

    The stop-buying share of the top tier carries its Wilson interval, said as a range; a
    tier of fewer than ``min_customers`` is said to be small. With ``export`` the action
    lists (:func:`pyramid_lists`) are written with :func:`crmlab.reports.export`.

    Returns
    -------
    (list of Finding, list of Action)
    """
    from crmlab.reports import Action
    from crmlab.reports import export as write
    from crmlab.stats import wilson_interval

    ends = sorted(pyramids)
    lists = pyramid_lists(pyramids)
    if export:
        for name, table in lists.items():
            write(table, name)
    before, after = pyramids[ends[-2]], pyramids[ends[-1]]
    labels = list(after.labels)
    table = after.table.loc[labels]
    active = int(table["customers"].sum())
    if active == 0:
        raise DataError(f"nobody bought in the period {after.period}; choose another period.")
    top = labels[0]
    numbers = {
        "top_n": int(table.loc[top, "customers"]),
        "active": active,
        "top_revenue": float(table.loc[top, "revenue_share"]),
        "top_money": float(table.loc[top, "revenue"]),
        "upper_n": int(table.loc[labels[:-1], "customers"].sum()),
        "upper_revenue": float(table.loc[labels[:-1], "revenue_share"].sum()),
    }
    client = [
        Finding(
            f"In the latest period ({after.period}), the {{top_n:,}} best customers of the "
            "{active:,} customers who bought brought {top_revenue:.0%} of revenue "
            f"(${{top_money:,.0f}}), and the best {{upper_n:,}} customers together brought "
            "{upper_revenue:.0%}.",
            numbers,
        )
    ]
    move = tier_migration(before, after)
    counts = move.counts
    stopped = counts[INACTIVE] if INACTIVE in counts.columns else 0 * counts.iloc[:, 0]
    prior = int(counts.loc[labels].to_numpy().sum())
    top_before = int(counts.loc[top].sum())
    low, high = wilson_interval(int(stopped[top]), max(top_before, 1), level=level)
    back = lists["pyramid_win_back"]
    lost = {
        "lost": int(stopped.loc[labels].sum()),
        "prior": prior,
        "lost_revenue": float(-move.flows["revenue_change"].get("lost", 0.0)),
        "top_before": top_before,
        "top_lost": float(stopped[top] / top_before) if top_before else float("nan"),
        "low": float(low),
        "high": float(high),
        "back": len(back),
        "back_revenue": float(back["revenue_before"].sum()),
    }
    lost["lost_share"] = lost["lost"] / prior if prior else float("nan")
    small = " (a small group, so the range is wide)" if top_before < min_customers else ""
    client.append(
        Finding(
            f"Since the period before ({before.period}), {{lost:,}} customers ({{lost_share:.0%}} "
            "of the {prior:,} customers who bought then) bought nothing, taking "
            "${lost_revenue:,.0f} of revenue with them; of "
            "its {top_before:,} best customers, {top_lost:.0%} stopped buying (most likely "
            f"between {{low:.0%}} and {{high:.0%}}){small}.",
            lost,
        )
    )
    actions = [
        Action(
            "keep",
            "Keep the {top_n:,} best customers of the latest period, who brought "
            "${top_money:,.0f} ({top_revenue:.0%} of revenue): they are the ones whose loss "
            "costs most.",
            numbers,
            customers=numbers["top_n"],
            value=numbers["top_money"],
            list_file="pyramid_keep.csv",
        )
    ]
    if len(back):
        actions.append(
            Action(
                "win back",
                "Win back the {back:,} customers who were above the lowest group in the "
                "period before and bought nothing in the latest: they had brought "
                "${back_revenue:,.0f} of revenue in that period; contact part of them first "
                "and compare with the rest.",
                lost,
                customers=lost["back"],
                value=lost["back_revenue"],
                list_file="pyramid_win_back.csv",
            )
        )
    return client, actions
