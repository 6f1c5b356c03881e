"""NBD-Dirichlet: the published toothpaste example, a simulation with known truth,
and the panel fit."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

import crmlab
from crmlab import share
from crmlab.errors import DataError

BRANDS = [
    "Colgate DC",
    "Macleans",
    "Close Up",
    "Signal",
    "ultrabrite",
    "Gibbs SR",
    "Boots Priv. Label",
    "Sainsbury Priv. Lab.",
]
SHARE = pd.Series([0.25, 0.19, 0.10, 0.10, 0.09, 0.08, 0.03, 0.02], index=BRANDS)
PEN = pd.Series([0.20, 0.17, 0.09, 0.08, 0.08, 0.07, 0.03, 0.02], index=BRANDS)


def test_toothpaste_parameters_as_published():
    """UK toothpaste, AGB panel Q1 1973 (Goodhardt, Ehrenberg & Chatfield 1984, sec. 3),
    as in the user guide of R NBDdirichlet (F. Chen): M = 1.46, K = 0.78, S = 1.55."""
    fit = share.fit_dirichlet(0.56, 2.6, SHARE, PEN)
    assert round(fit.m, 2) == 1.46
    assert round(fit.k, 2) == 0.78
    assert round(fit.s, 2) == 1.55
    assert fit.s_used.all()


def test_toothpaste_theoretical_table_as_published():
    """The documented theoretical buying table (pen.brand, pur.brand, pur.cat) of the
    Python port of NBDdirichlet, computed there with S = 1.3 (M, K as above)."""
    fit = dataclasses.replace(share.fit_dirichlet(0.56, 2.6, SHARE, PEN), s=1.3)
    theory = share.dirichlet_theory(fit, among_category_buyers=False).round(2)
    assert theory["penetration"].tolist() == [0.20, 0.16, 0.09, 0.09, 0.08, 0.07, 0.03, 0.02]
    assert theory["purchase_frequency"].tolist() == [
        1.82, 1.76, 1.68, 1.68, 1.67, 1.66, 1.62, 1.61,
    ]  # fmt: skip
    assert theory["category_frequency"].tolist() == [
        3.16, 3.22, 3.30, 3.30, 3.31, 3.32, 3.37, 3.38,
    ]  # fmt: skip


def _simulate(m, k, s, shares, n_households, rng):
    rate = rng.gamma(k, m / k, n_households)
    n = rng.poisson(rate)
    probs = rng.dirichlet(s * shares, n_households)
    counts = np.array([rng.multinomial(ni, p) for ni, p in zip(n, probs, strict=True)])
    return counts


def test_theory_matches_simulation(rng):
    m, k, s = 2.0, 0.8, 1.4
    shares = np.array([0.5, 0.3, 0.2])
    fit = share.DirichletFit(
        m=m, k=k, s=s, brand_share=pd.Series(shares, index=list("abc")),
        category_penetration=1 - (1 + m / k) ** -k,
    )  # fmt: skip
    counts = _simulate(m, k, s, shares, 60_000, rng)
    buyers = counts > 0
    total = counts.sum(axis=1)
    theory = share.dirichlet_theory(fit, among_category_buyers=False)
    pen = buyers.mean(axis=0)
    assert theory["penetration"].to_numpy() == pytest.approx(pen, abs=0.01)
    freq = counts.sum(axis=0) / buyers.sum(axis=0)
    assert theory["purchase_frequency"].to_numpy() == pytest.approx(freq, rel=0.03)
    scr = counts.sum(axis=0) / (buyers * total[:, None]).sum(axis=0)
    assert theory["scr"].to_numpy() == pytest.approx(scr, abs=0.015)
    sole = (buyers & (counts == total[:, None])).sum(axis=0) / buyers.sum(axis=0)
    assert theory["sole_buyers"].to_numpy() == pytest.approx(sole, abs=0.015)
    once = (counts == 1).sum(axis=0) / buyers.sum(axis=0)
    assert theory["once_only"].to_numpy() == pytest.approx(once, abs=0.015)
    dup = share.dirichlet_duplication(fit)
    both = buyers[:, 0] & buyers[:, 1]
    assert dup.loc["a", "b"] == pytest.approx(both.sum() / buyers[:, 0].sum(), abs=0.015)


def test_panel_fit_recovers_s_from_simulated_panel(rng):
    m, k, s = 6.0, 1.5, 1.2
    shares = np.array([0.45, 0.3, 0.15, 0.1])
    counts = _simulate(m, k, s, shares, 8000, rng)
    hh, brand = np.nonzero(counts)
    reps = counts[hh, brand]
    panel = pd.DataFrame(
        {
            "household_id": np.repeat(hh, reps),
            "brand": pd.Categorical(np.repeat(np.array(list("abcd"))[brand], reps)),
        }
    )
    fit = share.fit_dirichlet_panel(panel)
    assert fit.m == pytest.approx(m, rel=0.1)
    assert fit.k == pytest.approx(k, rel=0.2)
    assert fit.s == pytest.approx(s, rel=0.2)
    bench = share.dirichlet_benchmark(panel, fit=fit)
    assert bench["scr_deviation"].abs().max() < 0.03


def test_benchmark_on_yogurt_has_all_columns():
    bench = share.dirichlet_benchmark(crmlab.load_dataset("yogurt"))
    assert list(bench.index) == ["yoplait", "dannon", "hiland", "weight"]
    for measure in ("penetration", "purchase_frequency", "scr", "sole_buyers"):
        assert {f"{measure}_observed", f"{measure}_expected"} <= set(bench.columns)
    assert bench.notna().all().all()


def test_dirichlet_errors():
    with pytest.raises(DataError, match="category_penetration"):
        share.fit_dirichlet(1.0, 2.6, SHARE, PEN)
    with pytest.raises(DataError, match="at least two brands"):
        share.fit_dirichlet(0.5, 2.0, {"a": 1.0}, {"a": 0.5})
    with pytest.raises(DataError, match="above 1"):
        share.fit_dirichlet(0.5, 2.0, {"a": 0.8, "b": 0.5}, {"a": 0.4, "b": 0.3})
    panel = pd.DataFrame({"household_id": [1, 2, 3], "brand": ["a", "b", "a"]})
    with pytest.raises(DataError, match="varied"):
        share.fit_dirichlet_panel(panel)


def test_observed_and_expected_duplication_on_yogurt():
    panel = crmlab.load_dataset("yogurt")
    long = share.observed_and_expected_duplication(panel)
    assert len(long) == 4 * 3  # ordered pairs of different brands
    obs = share.duplication_table(panel)
    row = long[(long.buyers_of == "hiland") & (long.also_bought == "dannon")].iloc[0]
    assert row.observed == pytest.approx(obs.loc["hiland", "dannon"])
    assert 0 < row.expected < 1
    # duplication law in the model: the column brand's duplication rises with its share
    fit = share.fit_dirichlet_panel(panel)
    theo = share.dirichlet_duplication(fit)
    assert theo.loc["hiland", "dannon"] > theo.loc["hiland", "weight"]
