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
