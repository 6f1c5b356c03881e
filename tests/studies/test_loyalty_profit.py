"""Loyalty versus profit (Reinartz & Kumar 2000): lifetimes, censoring, splits, association."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from crmlab.errors import DataError
from crmlab.simulate import retailer
from crmlab.studies import SEGMENTS, compare_with_truth, loyalty_profit, split_groups
from crmlab.studies.association import bootstrap_correlations, resample_midranks
from crmlab.studies.lifetime import alive_lifetimes

START = pd.Timestamp("2024-01-01")
END = START + pd.Timedelta(weeks=52)


class ExponentialAlive:
    """A fitted-model stand-in with a closed-form P(alive), to check the root search.

    P(alive | x, t_x, T) = exp(-(T - t_x) / (k (1 + x))), so the lifetime for a
    threshold c is exactly t_x + k (1 + x) ln(1 / c).
    """

    def __init__(self, k: float = 10.0) -> None:
        self.k = k
        self.params = pd.Series({"k": k})

    def probability_alive(self, data: pd.DataFrame) -> pd.Series:
        return np.exp(-(data["T"] - data["recency"]) / (self.k * (1 + data["frequency"])))

    def crossing(self, x: float, t_x: float, c: float) -> float:
        return t_x + self.k * (1 + x) * np.log(1 / c)


def _constructed(copies: int = 10) -> pd.DataFrame:
    """Four purchase patterns (weeks after 1 Jan 2024), ``copies`` customers each.

    one-timer: week 0. regular: weeks 0, 10, 20. late: weeks 0, 48 (alive at the end).
    second-quarter newcomer: weeks 14, 16 (first purchase outside a Q1 cohort).
    """
    patterns = {"one": [0], "regular": [0, 10, 20], "late": [0, 48], "newcomer": [14, 16]}
    rows = []
    cid = 0
    for name, weeks in patterns.items():
        for j in range(copies):
            cid += 1
            for w in weeks:
                rows.append(
                    {
                        "customer_id": cid,
                        "date": START + pd.Timedelta(weeks=w),
                        "amount": 20.0 + j,
                        "quantity": 1 + (j % 3),
                        "pattern": name,
                    }
                )
    return pd.DataFrame(rows)


def test_lifetimes_match_closed_form_and_censoring():
    model = ExponentialAlive(k=10.0)
    summary = pd.DataFrame(
        {
            "frequency": [0.0, 2.0, 1.0, 0.0, 3.0],
            "recency": [0.0, 20.0, 48.0, 0.0, 5.0],
            "T": [52.0, 52.0, 52.0, 3.0, 52.0],
        }
    )
    out = alive_lifetimes(model, summary, 0.5)
    crossing = np.array(
        [model.crossing(x, t, 0.5) for x, t in summary[["frequency", "recency"]].values]
    )
    expected_censored = crossing > summary["T"].to_numpy()
    assert (
        out["censored"].tolist() == expected_censored.tolist() == [False, False, True, True, False]
    )
    expected = np.where(expected_censored, summary["T"], crossing)
    np.testing.assert_allclose(out["lifetime"], expected, atol=1e-5)
    # censored customers carry their age at the end of observation
    assert out.loc[out["censored"], "lifetime"].tolist() == [52.0, 3.0]


def test_lifetimes_monotone_in_threshold():
    model = ExponentialAlive(k=7.0)
    rng = np.random.default_rng(3)
    T = rng.uniform(10, 80, 300)
    summary = pd.DataFrame(
        {
            "frequency": rng.integers(0, 6, 300).astype(float),
            "recency": T * rng.uniform(0, 1, 300),
            "T": T,
        }
    )
    lifetimes = np.column_stack(
        [alive_lifetimes(model, summary, c)["lifetime"] for c in (0.1, 0.3, 0.5, 0.7, 0.9)]
    )
    assert np.all(np.diff(lifetimes, axis=1) <= 1e-9)
    assert np.all(lifetimes >= summary[["recency"]].to_numpy() - 1e-9)


def test_study_on_constructed_cases():
    tx = _constructed()
    res = loyalty_profit(
        tx,
        model=ExponentialAlive(k=10.0),
        margin=0.4,
        cost_per_order=5.0,
        marketing_cost_per_week=0.5,
        cohort=("2024-01-01", "2024-03-31"),
        observation_end=END,
        split=(15.0, "median"),
        n_boot=50,
        seed=1,
    )
    c = res.customers
    assert len(c) == 30
    assert res.excluded == {
        "customers with first purchase outside the cohort": 10,
        "their transactions": 20,
    }
    pattern = tx.groupby("customer_id")["pattern"].first().reindex(c.index)
    # one-timers: lifetime 10 ln 2; regulars: 20 + 30 ln 2; late buyers: alive at week 52
    np.testing.assert_allclose(c.loc[pattern == "one", "lifetime"], 10 * np.log(2), atol=1e-5)
    np.testing.assert_allclose(
        c.loc[pattern == "regular", "lifetime"], 20 + 30 * np.log(2), atol=1e-5
    )
    assert c.loc[pattern == "late", "censored"].all()
    assert not c.loc[pattern != "late", "censored"].any()
    np.testing.assert_allclose(c.loc[pattern == "late", "lifetime"], 52.0)
    # profit = 0.4 revenue - 5 orders - 0.5 x weeks counted alive; negative values allowed
    expected = 0.4 * c["revenue"] - 5.0 * c["orders"] - 0.5 * c["lifetime"]
    np.testing.assert_allclose(c["profit"], expected)
    assert (c["profit"] < 0).any() and (c["profit"] > 0).any()
    # segments: long = lifetime > 15 weeks (regular, late), high = profit above median
    assert (c["long_life"] == (pattern != "one")).all()
    seg = res.segments.set_index("segment")
    assert seg["customers"].sum() == 30 and seg.index.tolist() == SEGMENTS
    np.testing.assert_allclose(seg["share_customers"].sum(), 1.0)
    np.testing.assert_allclose(seg["profit"].sum(), c["profit"].sum())
    # proposition 4 is testable because the data carry quantity
    p4 = res.propositions.set_index("proposition").loc[4]
    assert p4["verdict"] != "not testable" and p4["n"] == 30
    assert "Strangers" in res.summary()


def test_marketing_over_observation_window_and_recorded_costs():
    tx = _constructed()
    tx["cost"] = 0.5 * tx["amount"]
    res = loyalty_profit(
        tx,
        model=ExponentialAlive(),
        margin=None,
        marketing_cost_per_week=1.0,
        marketing_until="observation_end",
        observation_end=END,
        split=(15.0, "median"),
        n_boot=20,
    )
    c = res.customers
    np.testing.assert_allclose(c["cost_of_goods"], 0.5 * c["revenue"])
    np.testing.assert_allclose(c["cost_marketing"], c["T"])
    assert res.settings["margin"] is None


def test_split_ties_go_low_and_degenerate_splits_are_refused():
    values = np.r_[np.ones(80), np.arange(2.0, 22.0)]
    high, info = split_groups(values, "median", name="lifetime", labels=("short", "long"))
    assert info["cut"] == 1.0 and info["n_tied_at_cut"] == 80
    assert info["n_high"] == 20 == high.sum() and info["n_low"] == 80
    degenerate = np.r_[np.ones(97), [2.0, 3.0, 4.0]]
    with pytest.raises(DataError, match=r"only 3 of 100 customers .*97 customers are tied"):
        split_groups(degenerate, "median", name="lifetime", labels=("short", "long"))
    # an explicit cut with a stated, smaller minimum share is accepted
    high, info = split_groups(
        degenerate, 1.5, name="lifetime", labels=("short", "long"), min_share=0.01
    )
    assert high.sum() == 3 and info["n_tied_at_cut"] == 0
    with pytest.raises(DataError, match="'median', 'mean' or a number"):
        split_groups(values, "tertile", name="profit", labels=("low", "high"))


def test_degenerate_median_split_in_study_says_how_to_fix():
    tx = _constructed(copies=10)
    tx = tx[tx["pattern"] != "newcomer"]
    one = tx[tx["pattern"] == "one"]
    many_one_timers = pd.concat(
        [one.assign(customer_id=one["customer_id"] + 1000 * i) for i in range(1, 45)] + [tx]
    )
    with pytest.raises(DataError, match="split=\\(lifetime_cut, profit_cut\\)"):
        loyalty_profit(many_one_timers, model=ExponentialAlive(), observation_end=END, n_boot=20)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"alive_threshold": 0.0}, "alive_threshold must lie strictly between 0 and 1"),
        ({"alive_threshold": 1.0}, "alive_threshold must lie strictly between 0 and 1"),
        ({"alive_threshold": 1.5}, "alive_threshold"),
        ({"alive_threshold": float("nan")}, "alive_threshold"),
        ({"margin": -0.1}, "margin is the gross margin"),
        ({"margin": 1.2}, "margin is the gross margin"),
        ({"cost_per_order": -1.0}, "cost_per_order must be a cost >= 0"),
        ({"marketing_cost_per_week": -0.5}, "marketing_cost_per_week"),
        ({"cohort": ("2030-01-01", "2030-03-31")}, "has no customers: first purchases"),
        ({"cohort": ("2024-03-31", "2024-01-01")}, "ends .* before it starts"),
        ({"cohort": "2024"}, "cohort must be a pair of dates"),
        ({"margin": None}, "no column 'cost'"),
        ({"model": "weibull"}, "model must be one of"),
        ({"split": "tertile"}, "'median', 'mean' or a number"),
        ({"n_boot": 1}, "n_boot must be at least 10"),
        ({"observation_end": "not a date"}, "observation_end must be a date"),
        ({"marketing_until": "forever"}, "marketing_until"),
    ],
)
def test_bad_parameters_raise_clear_errors(kwargs, message):
    tx = _constructed()
    params = {"model": ExponentialAlive(), "observation_end": END, "n_boot": 20}
    params.update(kwargs)
    with pytest.raises(DataError, match=message):
        loyalty_profit(tx, **params)


def test_missing_columns_and_transactions_after_the_end():
    tx = _constructed()
    with pytest.raises(DataError, match="no column 'amount'"):
        loyalty_profit(tx.drop(columns="amount"), model=ExponentialAlive())
    late = pd.DataFrame(
        {"customer_id": [1, 999], "date": [END + pd.Timedelta(days=3)] * 2, "amount": [5.0, 5.0]}
    )
    res = loyalty_profit(
        pd.concat([tx, late], ignore_index=True),
        model=ExponentialAlive(),
        observation_end=END,
        split=(15.0, "median"),
        n_boot=20,
    )
    assert res.excluded["transactions after observation_end"] == 2
    assert 999 not in res.customers.index


def test_resampled_midranks_equal_rankdata(rng):
    x = rng.integers(0, 6, 40).astype(float)
    idx = rng.integers(0, 40, size=(9, 40))
    uniq, codes = np.unique(x, return_inverse=True)
    np.testing.assert_array_equal(
        resample_midranks(codes, uniq.size, idx), stats.rankdata(x[idx], axis=1)
    )


def test_bootstrap_correlations_are_seeded_and_cover_the_truth(rng):
    n = 2000
    z = rng.normal(size=(n, 2))
    x = z[:, 0]
    y = 0.5 * z[:, 0] + np.sqrt(0.75) * z[:, 1]  # true correlation 0.5
    a = bootstrap_correlations(x, y, n_boot=300, seed=7)
    b = bootstrap_correlations(x, y, n_boot=300, seed=7)
    pd.testing.assert_frame_equal(a, b)
    pear = a.set_index("statistic").loc["pearson"]
    assert pear.lower < 0.5 < pear.upper and pear.upper - pear.lower < 0.1
    indep = bootstrap_correlations(x, z[:, 1], n_boot=300, seed=7).set_index("statistic")
    assert (indep["lower"] < 0).all() and (indep["upper"] > 0).all()
    flat = bootstrap_correlations(np.ones(50), y[:50], n_boot=20)
    assert flat["estimate"].isna().all()


def test_welch_difference_matches_scipy(rng):
    from crmlab.studies.propositions import welch_difference

    a, b = rng.normal(1.0, 2.0, 40), rng.normal(0.0, 1.0, 25)
    ours = welch_difference(a, b, 0.9)
    ref = stats.ttest_ind(a, b, equal_var=False)
    ci = ref.confidence_interval(confidence_level=0.9)
    np.testing.assert_allclose(
        [ours["p_value"], ours["lower"], ours["upper"]], [ref.pvalue, ci.low, ci.high]
    )
    assert np.isnan(welch_difference(np.full(5, 0.7), np.full(4, 0.7))["estimate"])


# --------------------------------------------------------------------------- known truth


class ParetoNBDOracle:
    """Pareto/NBD P(alive) at the *true* parameters (Fader & Hardie 2005 note, eq. for A0).

    A reference for the study's machinery that does not depend on model fitting:
    given the truth, the estimated lifetimes and the association must come out right.
    """

    def __init__(self, r: float, alpha: float, s: float, beta: float) -> None:
        self.params = pd.Series({"r": r, "alpha": alpha, "s": s, "beta": beta})

    def probability_alive(self, data: pd.DataFrame) -> np.ndarray:
        from scipy.special import hyp2f1

        r, a, s, b = self.params
        x, tx, T = (data[c].to_numpy(float) for c in ("frequency", "recency", "T"))
        rsx = r + s + x
        m, p2 = (a, s + 1) if a >= b else (b, r + x)
        d = abs(a - b)

        def log_term(t):
            return np.log(hyp2f1(rsx, p2, rsx + 1, d / (m + t))) - rsx * np.log(m + t)

        l1, l2 = log_term(tx), log_term(T)
        with np.errstate(divide="ignore"):
            log_a0 = l1 + np.log1p(-np.exp(l2 - l1))
        log_ratio = np.log(s / rsx) + (r + x) * np.log(a + T) + s * np.log(b + T) + log_a0
        return 1.0 / (1.0 + np.exp(log_ratio))


def _simulate_cohort(rng, n: int, linked: bool):
    """A simulated Q1 cohort (crmlab.simulate.retailer) and its true P(alive)."""
    seed = int(rng.integers(0, 2**31))
    sim = _cohort(n, link=1.0 if linked else 0.0, seed=seed)
    p = sim.params
    oracle = ParetoNBDOracle(p["r"], p["alpha"], p["s"], p["beta"])
    truth = sim.truth.rename(columns={"lifetime": "dropout"})
    return sim.transactions, truth, oracle, sim


def _cohort(n: int, *, link: float, seed: int):
    """A 13-week cohort observed for 78 weeks: weekly Pareto/NBD rates (means 0.11 and
    0.018) and order values of about $30 for everyone (q large: little spend heterogeneity)."""
    return retailer(
        n,
        link=link,
        r=0.9,
        alpha=8.0,
        s=0.7,
        beta=40.0,
        p=4.0,
        q=50.0,
        gamma=367.5,
        acquisition_periods=13,
        horizon=78,
        start=str(START.date()),
        seed=seed,
    )


@pytest.mark.parametrize("linked", [False, True])
def test_study_recovers_the_simulated_link_and_lifetimes(linked, rng):
    tx, truth, oracle, sim = _simulate_cohort(rng, 1500, linked)
    res = loyalty_profit(
        tx,
        model=oracle,
        margin=0.3,
        cohort=("2024-01-01", "2024-03-31"),
        observation_end=START + pd.Timedelta(weeks=78),
        n_boot=200,
        seed=5,
    )
    pear = res.statistic("pearson")
    spear = res.statistic("spearman")
    if linked:
        assert pear.lower > 0.3 and spear.lower > 0.3
    else:
        assert pear.lower < 0 < pear.upper and spear.lower < 0 < spear.upper
        assert abs(pear.estimate) < 0.08
    c = res.customers
    true_span = np.minimum(truth.loc[c.index, "dropout"], truth.loc[c.index, "T"])
    check = compare_with_truth(res, sim)
    # rough size: the estimate is within 0.15 of the true correlation; with no link the
    # interval covers the truth. (With a link the estimate runs high: estimated lifetimes
    # grow with the purchases that also make revenue.)
    assert abs(check["estimated_pearson"] - check["true_pearson"]) < 0.15
    assert check["interval_covers_truth"] or linked
    assert check["lifetime_rank_correlation"] == pytest.approx(
        stats.spearmanr(c["lifetime"], true_span).statistic
    )
    assert stats.spearmanr(c["lifetime"], true_span).statistic > 0.6
    # customers flagged censored mostly really were alive at the end, and vice versa
    really_alive = truth.loc[c.index, "dropout"] > truth.loc[c.index, "T"]
    agreement = (c["censored"] == really_alive).mean()
    assert agreement > 0.75


def test_plots_draw_the_study_without_computing(rng):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from crmlab import plots
    from crmlab.studies import HBR_CORRELATIONS

    tx, _, oracle, _ = _simulate_cohort(rng, 400, linked=True)
    res = loyalty_profit(
        tx, model=oracle, observation_end=START + pd.Timedelta(weeks=78), n_boot=20
    )
    axes = [
        plots.loyalty.quadrants(res.customers, res.splits, max_points=100),
        plots.loyalty.segment_shares(res.segments),
        plots.loyalty.sensitivity(res.sensitivity, hbr=HBR_CORRELATIONS),
        plots.loyalty.survival(res.survival),
        plots.loyalty.profit_by_tenure(res.profit_by_tenure),
        plots.loyalty.correlation_comparison(res.association, HBR_CORRELATIONS),
    ]
    for ax in axes:
        assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
    assert "random 100 of 400" in axes[0].get_title()
    plt.close("all")


def test_simulated_link_sets_the_true_correlation():
    def true_r(sim):
        return np.corrcoef(sim.truth["observed_lifetime"], sim.truth["profit"])[0, 1]

    assert abs(true_r(_cohort(2000, link=0.0, seed=4))) < 0.06
    assert true_r(_cohort(2000, link=1.0, seed=4)) > 0.3


def test_string_customer_ids_and_default_window():
    tx = _constructed()
    tx["customer_id"] = "C" + tx["customer_id"].astype(str).str.zfill(3)
    res = loyalty_profit(tx, model=ExponentialAlive(), split=(15.0, "median"), n_boot=20)
    assert res.customers.index[0] == "C001" and len(res.customers) == 40
    # default observation end = last transaction day (week 48 of the 'late' buyers)
    assert res.settings["observation_end"] == str((START + pd.Timedelta(weeks=48)).date())
    assert res.excluded == {}


class BGNBDLike:
    """P(alive) like the BG/NBD's: 1 for customers without repeat purchases at every age,
    below 1 right after a repeat purchase (a customer may drop out right after buying)."""

    def probability_alive(self, data: pd.DataFrame) -> np.ndarray:
        x, t_x, T = (data[c].to_numpy(float) for c in ("frequency", "recency", "T"))
        return np.where(x == 0, 1.0, 0.45 * np.exp(-(T - t_x) / 10.0))


def test_lifetime_ends_at_last_purchase_when_p_alive_starts_below_threshold():
    summary = pd.DataFrame(
        {"frequency": [0.0, 2.0, 2.0], "recency": [0.0, 7.0, 7.0], "T": [30, 30, 8]}
    )
    out = alive_lifetimes(BGNBDLike(), summary, 0.5)
    # one-time buyers never fall below the threshold under BG/NBD: censored at T
    assert out["censored"].tolist() == [True, False, False]
    np.testing.assert_allclose(out["lifetime"], [30.0, 7.0, 7.0])
    # with a threshold of 0.3 the repeat buyer lives until 0.45 exp(-d/10) = 0.3
    out = alive_lifetimes(BGNBDLike(), summary, 0.3)
    np.testing.assert_allclose(out["lifetime"], [30.0, 7 + 10 * np.log(1.5), 8.0], atol=1e-5)
    assert out["censored"].tolist() == [True, False, True]


@pytest.mark.parametrize("link", [0.0, 1.0])
def test_study_with_the_fitted_pareto_nbd_finds_each_simulated_world(link):
    sim = _cohort(1500, link=link, seed=11)
    end = sim.params["observation_end"]
    res = loyalty_profit(sim.transactions, margin=None, observation_end=end, n_boot=200, seed=3)
    check = compare_with_truth(res, sim)
    if link == 0.0:
        assert check["lower"] < 0 < check["upper"]
    else:
        assert check["lower"] > 0.3
    assert abs(check["estimated_pearson"] - check["true_pearson"]) < 0.15
    assert check["lifetime_rank_correlation"] > 0.6 and check["censoring_agreement"] > 0.75
