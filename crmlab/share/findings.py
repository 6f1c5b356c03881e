"""How well the Dirichlet fits, which brands it misses, and the executive summary of a
customer-share study.

Ehrenberg's brand performance tables print, under each measure, the average of the
observed values beside the average of the theoretical ones, and judge the fit by how
far they lie apart brand by brand (Ehrenberg, Uncles & Goodhardt 2004, Journal of
Business Research 57, Tables 1-3; Goodhardt, Ehrenberg & Chatfield 1984). Here the
fit statistic is the mean absolute deviation (MAD) of observed from theoretical values
over the brands, per measure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from crmlab.errors import DataError, require_columns
from crmlab.reports import Finding
from crmlab.share.dirichlet import DirichletFit, dirichlet_benchmark, fit_dirichlet_panel
from crmlab.share.panel import purchase_counts

MEASURES = ("penetration", "purchase_frequency", "scr", "sole_buyers")


def _literal(text: object) -> str:
    """A brand or firm name as literal text inside a format template."""
    return str(text).replace("{", "{{").replace("}", "}}")


def dirichlet_fit_statistics(benchmark: pd.DataFrame) -> pd.DataFrame:
    """Mean absolute deviation of observed from Dirichlet values, per measure.

    Parameters
    ----------
    benchmark : DataFrame
        :func:`crmlab.share.dirichlet_benchmark`: ``<measure>_observed`` and
        ``<measure>_expected`` per brand.

    Returns
    -------
    DataFrame
        One row per measure (``penetration``, ``purchase_frequency``, ``scr``,
        ``sole_buyers``): ``observed`` and ``expected`` (averages over the brands, as
        the bottom row of Ehrenberg's tables), ``mad`` = mean over brands of
        ``|observed - expected|`` (in the measure's unit: a fraction for shares,
        purchases per buyer for frequency), ``relative_mad`` = ``mad / observed``,
        ``largest`` (the brand furthest off) and ``largest_deviation`` (its observed
        minus expected). Brands nobody bought are left out.
    """
    rows = {}
    for measure in MEASURES:
        obs, exp = f"{measure}_observed", f"{measure}_expected"
        require_columns(benchmark, [obs, exp], "benchmark")
        both = benchmark[[obs, exp]].dropna()
        if both.empty:
            raise DataError(f"the benchmark has no brand with both {obs} and {exp}.")
        dev = both[obs] - both[exp]
        worst = dev.abs().idxmax()
        rows[measure] = {
            "observed": both[obs].mean(),
            "expected": both[exp].mean(),
            "mad": dev.abs().mean(),
            "relative_mad": dev.abs().mean() / both[obs].mean(),
            "largest": worst,
            "largest_deviation": dev[worst],
        }
    out = pd.DataFrame(rows).T
    out.index.name = "measure"
    numeric = ["observed", "expected", "mad", "relative_mad", "largest_deviation"]
    out[numeric] = out[numeric].astype(float)
    return out


def fit_statistics_view(stats: pd.DataFrame) -> Any:
    """:func:`dirichlet_fit_statistics` for a report: readable headers, shares in %,
    purchase frequency in purchases per buyer (a pandas Styler)."""
    view = stats.rename(
        columns={
            "observed": "Observed (mean over brands)",
            "expected": "Dirichlet (mean over brands)",
            "mad": "Mean absolute deviation",
            "relative_mad": "MAD / observed mean",
            "largest": "Brand furthest off",
            "largest_deviation": "Its deviation",
        },
        index={
            "penetration": "Penetration",
            "purchase_frequency": "Purchases per buyer",
            "scr": "SCR",
            "sole_buyers": "Sole buyers",
        },
    )
    values = [c for c in view.columns if c not in ("MAD / observed mean", "Brand furthest off")]
    shares = [r for r in view.index if r != "Purchases per buyer"]
    styler = view.style.format("{:.1%}", subset=pd.IndexSlice[shares, values])
    styler = styler.format("{:.2f}", subset=pd.IndexSlice[["Purchases per buyer"], values])
    return styler.format("{:.0%}", subset=["MAD / observed mean"])


def dirichlet_misfits(
    panel: pd.DataFrame,
    fit: DirichletFit | None = None,
    *,
    tolerance: float = 0.05,
    level: float = 0.95,
    household: str = "household_id",
    brand: str = "brand",
) -> pd.DataFrame:
    """Brand by brand: observed penetration with its sampling interval against the
    Dirichlet's, the S each brand's penetration implies, and whether it is a misfit.

    Parameters
    ----------
    panel : DataFrame
        One row per purchase occasion (``household``, ``brand``).
    fit : DirichletFit, optional
        The fitted model (default: :func:`crmlab.share.fit_dirichlet_panel`).
    tolerance : float
        A brand is a misfit when its observed penetration is more than ``tolerance``
        (a fraction: 0.05 = 5 percentage points) from the Dirichlet's *and* the
        Dirichlet's value lies outside the observed penetration's interval: too far to
        matter and too far to be sampling error of the households.
    level : float
        Confidence level of the Wilson interval of each observed penetration (the
        households are a sample of n category buyers).

    Returns
    -------
    DataFrame
        Per brand, every column of :func:`crmlab.share.dirichlet_benchmark` plus
        ``households`` (n), ``buyers``, ``penetration_low``, ``penetration_high``,
        ``s_brand`` (the S that reproduces the brand's penetration on its own),
        ``s_used`` (whether it entered the fitted S) and ``misfit``; sorted by absolute
        penetration deviation, largest first.
    """
    from crmlab.stats import wilson_interval

    if not 0 <= tolerance < 1:
        raise DataError(f"tolerance is a fraction in [0, 1), got {tolerance!r}.")
    if fit is None:
        fit = fit_dirichlet_panel(panel, household=household, brand=brand)
    bench = dirichlet_benchmark(panel, household=household, brand=brand, fit=fit)
    counts = purchase_counts(panel, household=household, brand=brand)
    n = len(counts)
    buyers = (counts > 0).sum(axis=0).reindex(bench.index)
    low, high = wilson_interval(buyers.to_numpy(), np.full(len(buyers), n), level=level)
    out = bench.copy()
    out["households"] = n
    out["buyers"] = buyers.astype(int)
    out["penetration_low"] = low
    out["penetration_high"] = high
    out["s_brand"] = fit.s_per_brand.reindex(bench.index)
    out["s_used"] = fit.s_used.reindex(bench.index)
    outside = (out["penetration_expected"] < out["penetration_low"]) | (
        out["penetration_expected"] > out["penetration_high"]
    )
    out["misfit"] = (out["penetration_deviation"].abs() > tolerance) & outside
    order = out["penetration_deviation"].abs().sort_values(ascending=False, kind="stable").index
    return out.loc[order]


def dirichlet_parameters(fit: DirichletFit) -> pd.DataFrame:
    """A fitted Dirichlet's parameters as a one-row table: ``m``, ``k``, ``s``,
    ``category_penetration`` and ``category_buy_rate`` (for a report's exported tables)."""
    return pd.DataFrame(
        {
            "m": [fit.m],
            "k": [fit.k],
            "s": [fit.s],
            "category_penetration": [fit.category_penetration],
            "category_buy_rate": [fit.category_buy_rate],
        }
    )


def dirichlet_panels(
    panels: Mapping[str, pd.DataFrame],
    *,
    tolerance: float = 0.05,
    level: float = 0.95,
    household: str = "household_id",
    brand: str = "brand",
) -> pd.DataFrame:
    """The Dirichlet on several panels at once: its fit and the brand furthest off in SCR.

    Parameters
    ----------
    panels : mapping
        Panel name -> purchase occasions (``household``, ``brand``).
    tolerance, level : float
        As :func:`dirichlet_misfits`.

    Returns
    -------
    DataFrame
        One row per panel: ``households``, ``brands``, ``s``, ``mad_penetration``,
        ``mad_purchase_frequency`` (:func:`dirichlet_fit_statistics`), ``misfits`` (the
        misfit brands' names, comma separated), ``brand`` (largest absolute SCR
        deviation) with its ``market_share``, ``scr_observed`` and ``scr_expected``.
    """
    rows = {}
    for name, panel in panels.items():
        fit = fit_dirichlet_panel(panel, household=household, brand=brand)
        table = dirichlet_misfits(
            panel, fit, tolerance=tolerance, level=level, household=household, brand=brand
        )
        stats = dirichlet_fit_statistics(table)
        top = table["scr_deviation"].abs().idxmax()
        rows[name] = {
            "households": int(table["households"].iloc[0]),
            "brands": len(table),
            "s": fit.s,
            "mad_penetration": stats.loc["penetration", "mad"],
            "mad_purchase_frequency": stats.loc["purchase_frequency", "mad"],
            "misfits": ", ".join(map(str, table.index[table["misfit"]])),
            "brand": str(top),
            "market_share": table.loc[top, "market_share"],
            "scr_observed": table.loc[top, "scr_observed"],
            "scr_expected": table.loc[top, "scr_expected"],
        }
    out = pd.DataFrame(rows).T
    out.index.name = "panel"
    numeric = [c for c in out.columns if c not in ("misfits", "brand")]
    out[numeric] = out[numeric].astype(float)
    out[["households", "brands"]] = out[["households", "brands"]].astype(int)
    return out


# ------------------------------------------------------------------- executive summary


def focus_finding(panel_name: str, benchmark: pd.DataFrame, focus: str) -> Finding:
    """The focus brand's loyalty (SCR) against its Dirichlet benchmark."""
    if focus not in benchmark.index:
        raise DataError(
            f"brand {focus!r} is not in the {panel_name} panel; its brands are "
            f"{', '.join(map(str, benchmark.index))}."
        )
    row = benchmark.loc[focus]
    gaps = benchmark["scr_deviation"].abs()
    largest = gaps.idxmax() == focus
    numbers = {
        "market_share": float(row["market_share"]),
        "scr_observed": float(row["scr_observed"]),
        "scr_expected": float(row["scr_expected"]),
        "brands": len(benchmark),
    }
    template = (
        f"In the {_literal(panel_name)} panel, {_literal(focus)} has a {{market_share:.1%}} "
        "market share; its buyers give it {scr_observed:.1%} of their category purchases "
        "against {scr_expected:.1%} expected by the NBD-Dirichlet benchmark"
        + (", the largest gap of the panel's {brands} brands." if largest else ".")
    )
    return Finding(template, numbers)


def dirichlet_fit_finding(panel_name: str, benchmark: pd.DataFrame, fit: DirichletFit) -> Finding:
    """How far the Dirichlet lies from the observed penetration and purchase frequency
    (mean absolute deviations) and how far the brands' own S values spread."""
    stats = dirichlet_fit_statistics(benchmark)
    s_brand = fit.s_per_brand.dropna()
    numbers = {
        "s": float(fit.s),
        "mad_penetration_points": float(100 * stats.loc["penetration", "mad"]),
        "mad_frequency": float(stats.loc["purchase_frequency", "mad"]),
        "brands": int(len(benchmark)),
        "s_min": float(s_brand.min()),
        "s_max": float(s_brand.max()),
    }
    template = (
        f"For the {_literal(panel_name)} panel the Dirichlet (S = {{s:.2f}}) misses the "
        "observed penetration by {mad_penetration_points:.1f} percentage points and the "
        "purchase frequency by {mad_frequency:.2f} purchases per buyer on average over the "
        "{brands} brands (mean absolute deviations, as in Ehrenberg's tables); fitted brand "
        f"by brand, S runs from {{s_min:.2f}} ({_literal(s_brand.idxmin())}) to "
        f"{{s_max:.2f}} ({_literal(s_brand.idxmax())})."
    )
    return Finding(template, numbers)


def misfit_finding(misfits: pd.DataFrame, *, tolerance: float, level: float = 0.95) -> Finding:
    """The brands whose penetration the Dirichlet misses beyond ``tolerance`` and beyond
    sampling error, by name (from :func:`dirichlet_misfits`)."""
    require_columns(
        misfits,
        ["misfit", "penetration_observed", "penetration_low", "penetration_high"],
        "misfits",
    )
    bad = misfits[misfits["misfit"]]
    numbers: dict[str, float | int] = {
        "tolerance_points": float(100 * tolerance),
        "households": int(misfits["households"].iloc[0]),
        "level": float(level),
    }
    if bad.empty:
        template = (
            "No brand's penetration lies more than {tolerance_points:.0f} percentage points "
            "from the Dirichlet's and outside its {level:.0%} sampling interval over the "
            "{households:,} households."
        )
        return Finding(template, numbers)
    clauses = []
    for i, (name, row) in enumerate(bad.iterrows()):
        numbers |= {
            f"observed_{i}": float(row["penetration_observed"]),
            f"low_{i}": float(row["penetration_low"]),
            f"high_{i}": float(row["penetration_high"]),
            f"expected_{i}": float(row["penetration_expected"]),
            f"frequency_observed_{i}": float(row["purchase_frequency_observed"]),
            f"frequency_expected_{i}": float(row["purchase_frequency_expected"]),
        }
        households = " of households" if i == 0 else ""
        interval = "interval " if i == 0 else ""
        clauses.append(
            f"{_literal(name)} is bought by {{observed_{i}:.1%}}{households} ({interval}"
            f"{{low_{i}:.1%}} to {{high_{i}:.1%}}) against {{expected_{i}:.1%}} predicted, "
            f"{{frequency_observed_{i}:.1f}} times each against {{frequency_expected_{i}:.1f}}"
        )
    numbers["misfits"] = len(bad)
    template = (
        "The Dirichlet misses {misfits} brand"
        + ("s" if len(bad) > 1 else "")
        + " by more than {tolerance_points:.0f} percentage points of penetration, beyond the "
        "{level:.0%} sampling interval over {households:,} households: "
        + "; ".join(clauses)
        + "; for "
        + ("these brands" if len(bad) > 1 else "it")
        + " the Dirichlet is no fair benchmark of loyalty."
    )
    return Finding(template, numbers)


def market_finding(
    market: pd.DataFrame, *, best_share: float, built_in: str | None = None
) -> Finding:
    """Market share against the share of the best customers' wallets, from
    :func:`crmlab.share.market_vs_customer_share` on simulated wallets; ``built_in``
    says how the simulation builds the market (the result follows from it)."""
    require_columns(market, ["market_share", "share_of_best_wallets"], "market")
    leader = market["market_share"].idxmax()
    best = market["share_of_best_wallets"].idxmax()
    numbers = {
        "leader_market": float(market.loc[leader, "market_share"]),
        "leader_best": float(market.loc[leader, "share_of_best_wallets"]),
        "best_share": float(best_share),
    }
    design = (
        f": a result built into the simulation, which has {_literal(built_in)}."
        if built_in
        else "."
    )
    if leader == best:
        template = (
            f"In the simulated market {_literal(leader)} leads both on market share "
            "({leader_market:.1%} of all spending) and on the wallets of the {best_share:.0%} "
            f"of customers with the largest wallets ({{leader_best:.1%}}){design}"
        )
    else:
        numbers |= {
            "best_best": float(market.loc[best, "share_of_best_wallets"]),
            "best_market": float(market.loc[best, "market_share"]),
        }
        template = (
            f"In the simulated market {_literal(leader)} leads with {{leader_market:.1%}} of "
            "all spending yet holds {leader_best:.1%} of the wallets of the {best_share:.0%} "
            f"of customers with the largest wallets, against {{best_best:.1%}} for "
            f"{_literal(best)} ({{best_market:.1%}} of all spending){design}"
        )
    return Finding(template, numbers, simulated=True)


def wallet_rule_finding(scores: pd.DataFrame) -> Finding:
    """The Wallet Allocation Rule against satisfaction shares on simulated wallets, from
    the scores of :func:`crmlab.share.wallet_rule_evaluation`."""
    require_columns(scores, ["correlation", "mae"], "scores")
    numbers = {
        "r_war": float(scores.loc["war", "correlation"]),
        "mae_war_points": float(100 * scores.loc["war", "mae"]),
        "r_sat": float(scores.loc["satisfaction_share", "correlation"]),
        "mae_sat_points": float(100 * scores.loc["satisfaction_share", "mae"]),
    }
    template = (
        "In the simulated wallets the Wallet Allocation Rule, from each customer's ranking "
        "of the firms, predicts share of wallet with correlation {r_war:.2f} (mean absolute "
        "error {mae_war_points:.1f} percentage points) against {r_sat:.2f} "
        "({mae_sat_points:.1f} points) for shares of raw satisfaction scores."
    )
    return Finding(template, numbers, simulated=True)


def share_findings(
    panel_name: str,
    benchmark: pd.DataFrame,
    fit: DirichletFit,
    misfits: pd.DataFrame,
    focus: str,
    *,
    tolerance: float,
    market: pd.DataFrame | None = None,
    best_share: float = 0.2,
    built_in: str | None = None,
    rule_scores: pd.DataFrame | None = None,
    level: float = 0.95,
) -> list[Finding]:
    """The executive summary of a customer-share study.

    Parameters
    ----------
    panel_name : str
        The purchase panel's name.
    benchmark : DataFrame
        :func:`crmlab.share.dirichlet_benchmark` of the panel.
    fit : DirichletFit
        The fitted Dirichlet.
    misfits : DataFrame
        :func:`dirichlet_misfits` of the panel, made with ``tolerance`` and ``level``.
    focus : str
        The brand studied in detail.
    tolerance, level : float
        As given to :func:`dirichlet_misfits`.
    market : DataFrame, optional
        :func:`crmlab.share.market_vs_customer_share` of simulated wallets.
    best_share : float
        The share of customers with the largest wallets counted as "best".
    built_in : str, optional
        How the simulation builds its market (e.g. ``simulate.wallet``'s ``design``).
    rule_scores : DataFrame, optional
        Scores of :func:`crmlab.share.wallet_rule_evaluation` on simulated wallets.

    Returns
    -------
    list of Finding
        The focus brand against its benchmark; the Dirichlet's fit (MAD of penetration
        and purchase frequency, spread of per-brand S); its misfits by name; and, on the
        simulated wallets, market share against the best customers' wallets and the
        Wallet Allocation Rule against satisfaction.
    """
    findings = [
        focus_finding(panel_name, benchmark, focus),
        dirichlet_fit_finding(panel_name, benchmark, fit),
        misfit_finding(misfits, tolerance=tolerance, level=level),
    ]
    if market is not None:
        findings.append(market_finding(market, best_share=best_share, built_in=built_in))
    if rule_scores is not None:
        findings.append(wallet_rule_finding(rule_scores))
    return findings


# ------------------------------------------------------------------- client summary

#: Files the customer-share actions write (``{panel}`` and ``{brand}`` filled in).
PROSPECTS_FILE = "share_{panel}_{brand}_prospects"
BUYERS_FILE = "share_{panel}_{brand}_buyers"


def _file_part(text: object) -> str:
    """A brand or panel name as part of a file name (letters, digits, ``_`` and ``-``)."""
    import re

    return re.sub(r"[^\w-]+", "_", str(text)).strip("_") or "brand"


def scr_interval(
    scr: pd.DataFrame,
    brand: str,
    *,
    level: float = 0.95,
    household: str = "household_id",
) -> pd.Series:
    """A brand's share of its buyers' category purchases with its sampling interval.

    The share is a ratio estimate over the brand's ``n`` buying households,
    ``R = sum(y) / sum(x)`` (``y`` their purchases of the brand, ``x`` of the category);
    its linearised variance is ``v(R) = sum((y - R x)^2) / (n (n - 1) xbar^2)``
    (Cochran 1977, *Sampling Techniques*, 3rd ed., eq. 6.13) and the interval
    ``R -/+ z sqrt(v(R))`` is clipped to [0, 1].

    Parameters
    ----------
    scr : DataFrame
        :func:`crmlab.share.share_of_category_requirements` (``brand``,
        ``brand_purchases``, ``category_purchases`` per household and brand).
    brand : str
        The brand.
    level : float
        Confidence level.

    Returns
    -------
    Series
        ``buyers``, ``households``, ``scr``, ``lower``, ``upper``.
    """
    from scipy import stats

    require_columns(scr, [household, "brand", "brand_purchases", "category_purchases"], "scr")
    if not 0 < level < 1:
        raise DataError(f"level must be between 0 and 1, got {level!r}.")
    rows = scr[scr["brand"].astype(str) == str(brand)]
    if rows.empty:
        raise DataError(f"brand {brand!r} is not in the 'brand' column of the scr table.")
    buyers = rows[rows["brand_purchases"] > 0]
    n = len(buyers)
    y = buyers["brand_purchases"].to_numpy(float)
    x = buyers["category_purchases"].to_numpy(float)
    ratio = y.sum() / x.sum() if n else float("nan")
    if n >= 2:
        var = ((y - ratio * x) ** 2).sum() / (n * (n - 1) * x.mean() ** 2)
        half = stats.norm.ppf(0.5 + level / 2) * np.sqrt(var)
        lower, upper = max(ratio - half, 0.0), min(ratio + half, 1.0)
    else:
        lower = upper = float("nan")
    return pd.Series(
        {
            "buyers": n,
            "households": scr[household].nunique(),
            "scr": ratio,
            "lower": lower,
            "upper": upper,
        }
    )


def share_lists(scr: pd.DataFrame, focus: str, *, household: str = "household_id") -> dict:
    """The households behind the customer-share actions, for the focus brand.

    Returns
    -------
    dict of DataFrame
        ``prospects``: households that bought the category but not ``focus``, heaviest
        category buyers first (``category_purchases``); ``buyers``: households that bought
        ``focus``, the least loyal first (``brand_purchases``, ``category_purchases``,
        ``share_of_purchases`` = their share of category purchases given to it).
    """
    rows = scr[scr["brand"].astype(str) == str(focus)].set_index(household)
    prospects = rows.loc[rows["brand_purchases"] == 0, ["category_purchases"]]
    buyers = rows.loc[rows["brand_purchases"] > 0, ["brand_purchases", "category_purchases"]]
    buyers = buyers.assign(share_of_purchases=rows["scr"])
    return {
        "prospects": prospects.sort_values("category_purchases", ascending=False, kind="stable"),
        "buyers": buyers.sort_values("share_of_purchases", kind="stable"),
    }


def _pattern_words(pen_dev: float, freq_dev: float) -> str:
    """What a brand's penetration and purchase-frequency deviations mean, in words."""
    if pen_dev > 0 and freq_dev < 0:
        return "many households buy it now and then"
    if pen_dev < 0 and freq_dev > 0:
        return "fewer households buy it, and they buy it more often: a loyal niche"
    if pen_dev > 0:
        return "more households buy it, and more often, than a brand of its size"
    return "fewer households buy it, and less often, than a brand of its size"


def share_client(
    panel_name: str,
    scr: pd.DataFrame,
    misfits: pd.DataFrame,
    focus: str,
    *,
    tolerance: float,
    level: float = 0.95,
    panels: pd.DataFrame | None = None,
    market: pd.DataFrame | None = None,
    best_share: float = 0.2,
    built_in: str | None = None,
    rule_scores: pd.DataFrame | None = None,
    export: bool = False,
) -> tuple[list[Finding], list]:
    """The customer-share study for a client: plain sentences and recommended actions.

    The same results as :func:`share_findings` without model names or abbreviations,
    every number with its unit: the focus brand's share of its buyers' purchases with
    its range against what is usual for a brand of its size; how close that usual
    pattern comes over the panel's brands and which brands stand apart from it (with
    their ranges); the same over every panel (``panels``); and, labelled simulated, the
    market-share and wallet results. Actions only where the purchase records support
    them: win new households for a brand whose buyers are already more loyal than its
    size predicts, or find out why the buyers of a brand less loyal than that give it
    so little; the simulated results get one action, to test them on the client's data.

    Parameters
    ----------
    panel_name : str
        The purchase panel's name (its category, e.g. ``"yogurt"``).
    scr : DataFrame
        :func:`crmlab.share.share_of_category_requirements` of the panel.
    misfits : DataFrame
        :func:`dirichlet_misfits` of the panel, made with ``tolerance`` and ``level``.
    focus : str
        The brand studied in detail.
    tolerance, level : float
        As given to :func:`dirichlet_misfits`.
    panels : DataFrame, optional
        :func:`dirichlet_panels` of every panel.
    market, best_share, built_in, rule_scores
        As :func:`share_findings` (simulated wallets).
    export : bool
        Also write the focus brand's action list (:func:`share_lists`) with
        :func:`crmlab.reports.export`; the action names the file either way.

    Returns
    -------
    (list of Finding, list of Action)
        For :func:`crmlab.reports.executive_summary` ``client=`` and ``actions=``.
    """
    from crmlab.reports import Action
    from crmlab.reports import export as write

    require_columns(
        misfits,
        [
            "market_share",
            "scr_expected",
            "penetration_observed",
            "penetration_expected",
            "penetration_low",
            "penetration_high",
            "purchase_frequency_observed",
            "purchase_frequency_expected",
            "misfit",
        ],
        "misfits",
    )
    if focus not in misfits.index:
        raise DataError(
            f"brand {focus!r} is not in the {panel_name} panel; its brands are "
            f"{', '.join(map(str, misfits.index))}."
        )
    cat, name = _literal(panel_name), _literal(focus)
    own = scr_interval(scr, focus, level=level)
    households = int(own["households"])
    expected = float(misfits.loc[focus, "scr_expected"])
    head = {
        "households": households,
        "purchases": int(scr["brand_purchases"].sum()),
        "market_share": float(misfits.loc[focus, "market_share"]),
        "buyers": int(own["buyers"]),
        "scr": float(own["scr"]),
        "scr_low": float(own["lower"]),
        "scr_high": float(own["upper"]),
        "scr_expected": expected,
    }
    above, below = expected < head["scr_low"], expected > head["scr_high"]
    verdict = (
        "its buyers are more loyal than its size predicts"
        if above
        else "its buyers are less loyal than its size predicts"
        if below
        else "in line with its size, within what chance among so few households allows"
    )
    client = [
        Finding(
            f"In the {cat} purchase records of {{households:,}} households ({{purchases:,}} "
            f"purchases), the {name} brand has {{market_share:.1%}} of all purchases; the "
            f"{{buyers:,}} households that bought it give it {{scr:.1%}} of their {cat} "
            "purchases (most likely between {scr_low:.1%} and {scr_high:.1%}), against "
            "{scr_expected:.1%} usual for a brand of its size, judging by how households "
            f"share their purchases among the brands: {verdict}.",
            head,
        )
    ]
    fit = dirichlet_fit_statistics(misfits)
    client.append(
        Finding(
            "Over the {brands:,} brands, that usual pattern predicts the share of households "
            "buying each brand within {pen:.1f} percentage points and how often its buyers "
            "buy it within {freq:.1f} purchases, on average.",
            {
                "brands": len(misfits),
                "pen": float(100 * fit.loc["penetration", "mad"]),
                "freq": float(fit.loc["purchase_frequency", "mad"]),
            },
        )
    )
    bad = misfits[misfits["misfit"]]
    apart = {"tolerance": float(100 * tolerance), "households": households}
    if bad.empty:
        client.append(
            Finding(
                "No brand stands apart from that pattern by more than {tolerance:.0f} "
                "percentage points of households, beyond what chance among {households:,} "
                "households explains.",
                apart,
            )
        )
    else:
        clauses = []
        for i, (brand, row) in enumerate(bad.iterrows()):
            apart |= {
                f"pen_{i}": float(row["penetration_observed"]),
                f"low_{i}": float(row["penetration_low"]),
                f"high_{i}": float(row["penetration_high"]),
                f"exp_{i}": float(row["penetration_expected"]),
                f"freq_{i}": float(row["purchase_frequency_observed"]),
                f"freq_exp_{i}": float(row["purchase_frequency_expected"]),
            }
            words = _pattern_words(
                row["penetration_observed"] - row["penetration_expected"],
                row["purchase_frequency_observed"] - row["purchase_frequency_expected"],
            )
            clauses.append(
                f"{_literal(brand)} is bought by {{pen_{i}:.1%}} of households (most likely "
                f"between {{low_{i}:.1%}} and {{high_{i}:.1%}}) against {{exp_{i}:.1%}} "
                f"expected, {{freq_{i}:.1f}} times each against {{freq_exp_{i}:.1f}} times "
                f"expected: {words}"
            )
        apart["apart"] = len(bad)
        client.append(
            Finding(
                "{apart:,} brand"
                + ("s stand" if len(bad) > 1 else " stands")
                + " apart from that pattern by more than {tolerance:.0f} percentage points "
                "of households, beyond what chance among {households:,} households explains: "
                + "; ".join(clauses)
                + ". Such brands have a reason of their own (a niche, a promotion habit), so "
                "the usual pattern is no fair yardstick of their loyalty.",
                apart,
            )
        )
    if panels is not None and len(panels) > 1:
        require_columns(panels, ["households", "mad_penetration", "misfits", "brands"], "panels")
        largest = panels["households"].idxmax()
        n_apart = int(
            sum(len([b for b in str(m).split(", ") if b]) for m in panels["misfits"].fillna(""))
        )
        names = [_literal(p) for p in panels.index]
        names = ", ".join(names[:-1]) + " and " + names[-1]
        client.append(
            Finding(
                f"Across the purchase records of {names} ({{few:,}} to {{many:,}} households "
                "each), the usual pattern predicts the share of households buying a brand "
                "within {best:.1f} to {worst:.1f} percentage points on average, closest in the "
                f"largest records ({_literal(largest)}, {{largest_n:,}} households, within "
                "{largest_mad:.1f} percentage points); beyond chance, {apart:,} brands stand "
                "apart from it, out of {brands:,} brands.",
                {
                    "panels": len(panels),
                    "few": int(panels["households"].min()),
                    "many": int(panels["households"].max()),
                    "best": float(100 * panels["mad_penetration"].min()),
                    "worst": float(100 * panels["mad_penetration"].max()),
                    "largest_n": int(panels.loc[largest, "households"]),
                    "largest_mad": float(100 * panels.loc[largest, "mad_penetration"]),
                    "apart": n_apart,
                    "brands": int(panels["brands"].sum()),
                },
            )
        )
    actions = []
    lists = share_lists(scr, focus)
    stem = {"panel": _file_part(panel_name), "brand": _file_part(focus)}
    if above:
        prospects = lists["prospects"]
        file = PROSPECTS_FILE.format(**stem)
        if export:
            write(prospects, file)
        actions.append(
            Action(
                "grow",
                f"Grow the {name} brand by winning the {{prospects:,}} households in these "
                f"records that buy {cat} but not {name}, rather than by loyalty offers to its "
                f"{{buyers:,}} buying households: they already give it {{scr:.1%}} of their "
                f"{cat} purchases, more than the {{scr_expected:.1%}} usual for its size.",
                {**head, "prospects": len(prospects)},
                customers=len(prospects),
                list_file=f"{file}.csv",
            )
        )
    elif below:
        buyers = lists["buyers"]
        file = BUYERS_FILE.format(**stem)
        if export:
            write(buyers, file)
        actions.append(
            Action(
                "review",
                f"Find out why the {{buyers:,}} households that buy the {name} brand give it "
                f"only {{scr:.1%}} of their {cat} purchases, less than the {{scr_expected:.1%}} "
                "usual for its size: ask those who give it least what they buy instead.",
                head,
                customers=len(buyers),
                list_file=f"{file}.csv",
            )
        )
    if market is not None:
        require_columns(market, ["market_share", "share_of_best_wallets"], "market")
        leader = market["market_share"].idxmax()
        best = market["share_of_best_wallets"].drop(index=leader).idxmax()
        numbers = {
            "leader_market": float(market.loc[leader, "market_share"]),
            "leader_best": float(market.loc[leader, "share_of_best_wallets"]),
            "other_best": float(market.loc[best, "share_of_best_wallets"]),
            "other_market": float(market.loc[best, "market_share"]),
            "best_share": float(best_share),
        }
        design = f", built with {_literal(built_in)}" if built_in else ""
        built = (
            ": the simulation was built to show this, so it shows how the two measures can "
            "differ, not that they do on your market."
            if built_in
            else "."
        )
        client.append(
            Finding(
                f"In a simulated market (not your data){design}, {_literal(leader)} has "
                "{leader_market:.1%} of all spending but {leader_best:.1%} of the spending of "
                "the {best_share:.0%} of customers who spend most in the category, against "
                f"{{other_best:.1%}} for {_literal(best)} with {{other_market:.1%}} of all "
                f"spending{built}",
                numbers,
                simulated=True,
            )
        )
    if rule_scores is not None:
        require_columns(rule_scores, ["mae"], "rule_scores")
        rule = float(100 * rule_scores.loc["war", "mae"])
        sat = float(100 * rule_scores.loc["satisfaction_share", "mae"])
        client.append(
            Finding(
                "In the same simulated market, the order in which customers rank the firms "
                "they use predicts each firm's share of their spending "
                + ("better than" if rule < sat else "no better than")
                + " their satisfaction scores do: off by {rule:.1f} percentage points on "
                "average, against {sat:.1f} percentage points.",
                {"rule": rule, "sat": sat},
                simulated=True,
            )
        )
    if market is not None or rule_scores is not None:
        actions.append(
            Action(
                "test",
                "Test this on your data: for a sample of customers, record what each spends "
                "with you and, by survey, what they spend in the category in all and how they "
                "rank the firms they use; then compare your share of all spending with your "
                "share of your biggest customers' spending.",
            )
        )
    return client, actions
