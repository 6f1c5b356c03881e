"""Customer delivered value (Kotler): total customer value minus total customer cost.

A buyer chooses the offer that delivers the most value to them:

.. math::
    \\text{delivered value} = \\underbrace{(V_\\text{product} + V_\\text{service} +
    V_\\text{personnel} + V_\\text{image})}_{\\text{total customer value}} -
    \\underbrace{(C_\\text{money} + C_\\text{time} + C_\\text{energy} +
    C_\\text{psychic})}_{\\text{total customer cost}}

All eight components are in one unit the buyer trades off (money-equivalents, or
points on one scale). Kotler also states the ratio form, value / cost.

Reference
---------
Kotler, P. (1997). *Marketing Management*, 9th ed., ch. 2 ("Customer delivered value").
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmlab.checks import require_no_missing, show
from crmlab.errors import DataError, require_columns
from crmlab.reports import Finding

VALUE_COMPONENTS = ("product", "service", "personnel", "image")
COST_COMPONENTS = ("money", "time", "energy", "psychic")
COMPONENTS = VALUE_COMPONENTS + COST_COMPONENTS


def _check_offers(offers: pd.DataFrame) -> pd.DataFrame:
    require_columns(offers, list(COMPONENTS), "offers")
    require_no_missing(offers, list(COMPONENTS), "offers")
    data = offers[list(COMPONENTS)].apply(pd.to_numeric, errors="coerce")
    for col in COMPONENTS:
        bad = data[col].isna().to_numpy() | (data[col] < 0).to_numpy()
        if bad.any():
            first = np.flatnonzero(bad)[0]
            raise DataError(
                f"offers column '{col}' must hold numbers >= 0; {int(bad.sum())} values do not, "
                f"first for offer {offers.index[first]!r}: {show(offers[col].iloc[first])}. "
                "Express every component as a non-negative money-equivalent."
            )
    if offers.index.has_duplicates:
        dup = offers.index[offers.index.duplicated()][0]
        raise DataError(f"offers index must name each offer once; {dup!r} appears twice.")
    return data.astype(float)


def delivered_value(offers: pd.DataFrame) -> pd.DataFrame:
    """Total customer value, total customer cost and delivered value for each offer.

    Parameters
    ----------
    offers : DataFrame
        One row per offer (index = offer name) with the columns ``product, service,
        personnel, image`` (value) and ``money, time, energy, psychic`` (cost), in one
        money-equivalent unit, all >= 0.

    Returns
    -------
    DataFrame
        The eight components plus ``total_value``, ``total_cost``, ``delivered_value``
        (value - cost), ``value_cost_ratio`` (value / cost; inf when cost is 0) and
        ``rank`` (1 = the offer the buyer should choose), sorted by rank.
    """
    data = _check_offers(offers)
    out = data.copy()
    out["total_value"] = data[list(VALUE_COMPONENTS)].sum(axis=1)
    out["total_cost"] = data[list(COST_COMPONENTS)].sum(axis=1)
    out["delivered_value"] = out["total_value"] - out["total_cost"]
    cost = out["total_cost"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        out["value_cost_ratio"] = np.where(cost > 0, out["total_value"] / cost, np.inf)
    out["rank"] = out["delivered_value"].rank(ascending=False, method="min").astype(int)
    return out.sort_values(["rank"], kind="stable")


def sensitivity(offers: pd.DataFrame, offer: str, *, change: float = 0.2) -> pd.DataFrame:
    """Tornado table: how the chosen offer's edge moves when one component moves.

    Each of the eight components of ``offer`` is set to ``(1 - change)`` and
    ``(1 + change)`` times its value, one at a time, others fixed. The *edge* is the
    offer's delivered value minus the best rival's; the offer wins while the edge > 0.

    Parameters
    ----------
    offers : DataFrame
        As for :func:`delivered_value`, at least two offers.
    offer : str
        The offer to vary (an index label).
    change : float
        Relative change, in (0, 1].

    Returns
    -------
    DataFrame
        One row per component, sorted by ``swing`` (largest first): ``kind`` (value or
        cost), ``base`` (the component), ``edge_low``, ``edge_high`` (edge at the low
        and high component value), ``swing`` (|edge_high - edge_low|), ``flips``
        (whether the winner changes within the range; merely reaching a tie does not
        count), and ``base_edge``.
    """
    data = _check_offers(offers)
    if offer not in data.index:
        raise DataError(f"offer {offer!r} is not in the offers index {list(data.index)}.")
    if len(data) < 2:
        raise DataError("sensitivity needs at least two offers: the edge is against a rival.")
    if not 0 < change <= 1:
        raise DataError(f"change must be in (0, 1], got {change}.")
    dv = delivered_value(data)["delivered_value"]
    rival = dv.drop(offer).max()
    base_edge = dv[offer] - rival
    row = data.loc[offer, list(COMPONENTS)].to_numpy()
    sign = np.array([1.0] * len(VALUE_COMPONENTS) + [-1.0] * len(COST_COMPONENTS))
    # moving a component by delta moves delivered value by sign * delta
    edge_low = base_edge - sign * change * row
    edge_high = base_edge + sign * change * row
    out = pd.DataFrame(
        {
            "kind": ["value"] * len(VALUE_COMPONENTS) + ["cost"] * len(COST_COMPONENTS),
            "base": row,
            "edge_low": edge_low,
            "edge_high": edge_high,
            "swing": np.abs(edge_high - edge_low),
            "flips": ((np.sign(edge_low) != np.sign(base_edge)) & (edge_low != 0))
            | ((np.sign(edge_high) != np.sign(base_edge)) & (edge_high != 0)),
            "base_edge": base_edge,
        },
        index=pd.Index(COMPONENTS, name="component"),
    )
    return out.sort_values("swing", ascending=False, kind="stable")


def delivered_value_findings(
    table: pd.DataFrame, sens: pd.DataFrame, offer: str, *, change: float
) -> list[Finding]:
    """Executive-summary sentence of a delivered-value comparison, with the numbers cited.

    Parameters
    ----------
    table : DataFrame
        From :func:`delivered_value` (sorted by rank).
    sens : DataFrame
        From :func:`sensitivity` for ``offer`` (sorted by swing).
    offer : str
        The firm's own offer.
    change : float
        The relative change :func:`sensitivity` was run with.

    Returns
    -------
    list of Finding
        Which offer delivers the most value (ties named), how far our offer is ahead of
        or behind the best rival, and the component that moves that gap most. The
        components are assumed values (parameters), not measurements, and the sentence
        says so.
    """
    if offer not in table.index:
        raise DataError(f"offer {offer!r} is not in the table index {list(table.index)}.")
    best = table.index[table["rank"] == 1]
    top = sens.iloc[0]
    edge = float(top["base_edge"])
    numbers = {
        "best_value": table["delivered_value"].iloc[0],
        "ours": table.loc[offer, "delivered_value"],
        "gap": abs(edge),
        "change": change,
        "swing": top["swing"],
    }
    names = " and ".join(_literal(b) for b in best)
    lead = (
        f"{names} delivers the most value to the buyer"
        if len(best) == 1
        else f"{names} tie for the most value delivered to the buyer"
    )
    ours = _literal(offer)
    position = "level with" if edge == 0 else "ahead of" if edge > 0 else "behind"
    component = sens.index[0]
    label = "price" if component == "money" else f"{component} {top['kind']}"
    text = (
        "With the assumed component values (notebook parameters, not measurements), "
        f"{lead} (${{best_value:,.0f}} per purchase); {ours} delivers ${{ours:,.0f}}, "
        f"${{gap:,.0f}} {position} the best rival; its {_literal(label)} moves that gap most: "
        "changed by \u00b1{change:.0%} it swings it by ${swing:,.0f}"
    )
    text += (
        ", enough to change the buyer's choice."
        if bool(top["flips"])
        else ", not enough to change the buyer's choice."
    )
    return [Finding(text, numbers)]


def _literal(text: object) -> str:
    return str(text).replace("{", "{{").replace("}", "}}")


def delivered_value_client(
    table: pd.DataFrame, sens: pd.DataFrame, offer: str, *, change: float
) -> tuple[list[Finding], list]:
    """Delivered value for a client: our offer against the best rival, from assumed values.

    The component values are the report's assumptions, not measurements, and the sentence
    says so; the action is therefore to measure the component that moves the gap most
    (with buyers) before acting on it.

    Returns
    -------
    (list of Finding, list of Action)
    """
    from crmlab.reports import Action

    if offer not in table.index:
        raise DataError(f"offer {offer!r} is not in the table index {list(table.index)}.")
    top = sens.iloc[0]
    edge = float(top["base_edge"])
    rivals = table.drop(index=offer)
    rival = rivals["delivered_value"].idxmax()
    numbers = {
        "ours": float(table.loc[offer, "delivered_value"]),
        "rival_value": float(rivals.loc[rival, "delivered_value"]),
        "gap": abs(edge),
        "change": change,
        "swing": float(top["swing"]),
    }
    position = "level with" if edge == 0 else "ahead of" if edge > 0 else "behind"
    component = sens.index[0]
    label = "price" if component == "money" else f"{component} {top['kind']}"
    flips = (
        "enough to change the buyer's choice"
        if bool(top["flips"])
        else "not enough to change the buyer's choice"
    )
    text = (
        f"On assumed values (not measured with buyers), {_literal(offer)} gives the buyer "
        f"${{ours:,.0f}} of value net of all costs per purchase, ${{gap:,.0f}} {position} "
        f"{_literal(rival)} (${{rival_value:,.0f}}); a change of {{change:.0%}} in its "
        f"{_literal(label)} moves that by ${{swing:,.0f}}, {flips}."
    )
    action = Action(
        "test",
        "Measure with buyers what each part of the offer (product, service, staff, image, "
        "price, time, effort) is worth to them before acting on this comparison; the "
        f"{_literal(label)} of {_literal(offer)} matters most: a change of {{change:.0%}} in it "
        "moves the gap by ${swing:,.0f} per purchase.",
        {"change": change, "swing": numbers["swing"]},
    )
    return [Finding(text, numbers)], [action]
