"""The CLV study (crmlab.studies.lifetime_value): model choice on both criteria, the
holdout gap, CLV and P(alive) under every model, students at the bank, formulas keyed
by model, and the findings that cite them."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import crmlab
from crmlab.errors import DataError
from crmlab.studies import lifetime_value as lv


@pytest.fixture(scope="module")
def sample():
    tx = crmlab.load_dataset("cdnow_sample")
    summary = crmlab.rfm_summary(
        tx, calibration_end="1997-09-30", observation_end="1998-06-30", time_unit="W"
    )
    return tx, summary


@pytest.fixture(scope="module")
def study(sample):
    tx, summary = sample
    return lv.lifetime_value_study(
        tx,
        summary,
        margin=0.3,
        annual_discount_rate=0.1,
        horizon_years=10,
        forecast_horizon=52,
        level=0.9,
        draws=100,
        seed=1,
    )


def _table(bic, err, mae):
    names = ["A", "B", "C"][: len(bic)]
    return pd.DataFrame({"bic": bic, "holdout_error_pct": err, "mae": mae}, index=names)


def test_choice_uses_the_holdout_for_forecasts_whatever_bic_says():
    choice = lv.choose_model(_table([100.0, 90.0, 95.0], [-5.0, -19.0, 12.0], [0.8, 0.7, 0.9]))
    assert (choice.in_sample, choice.forecast, choice.per_customer) == ("B", "A", "B")
    assert choice.used == "A" and not choice.agree
    # an over-forecast of 3% beats an under-forecast of 5%: the absolute error decides
    assert lv.choose_model(_table([1.0, 2.0], [-5.0, 3.0], [1, 1])).used == "B"
    agree = lv.choose_model(_table([1.0, 2.0], [-1.0, 3.0], [1, 1]))
    assert agree.agree and agree.used == "A"
    # no holdout purchases: % error undefined, the per-customer MAE decides
    assert lv.choose_model(_table([1.0, 2.0], [np.nan, np.nan], [0.5, 0.4])).used == "B"
    with pytest.raises(DataError, match="mae"):
        lv.choose_model(_table([1.0], [1.0], [1.0]).drop(columns="mae"))


def test_model_comparison_has_both_criteria_and_says_what_each_model_is_used_for(study):
    table = study.comparison
    assert list(table.index) == list(lv.MODELS)
    assert table["delta_bic"].min() == 0 and table.loc[table["bic"].idxmin(), "delta_bic"] == 0
    np.testing.assert_allclose(table["aic"], 2 * table["parameters"] - 2 * table["log_likelihood"])
    assert table.loc[study.choice.used, "rank_holdout"] == 1
    assert "forecasts and CLV" in table.loc[study.choice.used, "used_for"]
    assert "lowest BIC" in table.loc[study.choice.in_sample, "used_for"]
    # the holdout total is the summary's holdout purchases
    assert (table["holdout_actual"] == study.summary["frequency_holdout"].sum()).all()


def test_tracking_by_model_and_the_monthly_gap(study):
    track = study.tracking
    assert track.attrs["calibration_end"] == pytest.approx(39.0)
    for name in lv.MODELS:
        assert f"expected_{name}" in track and f"cumulative_expected_{name}" in track
    gap = lv.holdout_gap_by_month(track, study.choice.used)
    hold = track[track["holdout"]]
    assert gap["actual"].sum() == hold["actual"].sum()
    assert gap["expected"].sum() == pytest.approx(hold[f"expected_{study.choice.used}"].sum())
    assert gap["share_of_gap"].sum() == pytest.approx(1.0)
    assert list(gap.index) == [
        f"{m:%Y-%m}" for m in pd.period_range("1997-10", "1998-06", freq="M")
    ]


def test_holdout_gap_by_month_by_hand():
    track = pd.DataFrame(
        {
            "date": pd.to_datetime(["1997-09-24", "1997-10-01", "1997-10-29", "1997-11-05"]),
            "holdout": [False, True, True, True],
            "actual": [50.0, 10.0, 12.0, 8.0],
            "expected_M": [40.0, 9.0, 9.0, 10.0],
        }
    )
    gap = lv.holdout_gap_by_month(track, "M")
    assert list(gap.index) == ["1997-10", "1997-11"]
    assert gap.loc["1997-10", "gap"] == 4.0 and gap.loc["1997-11", "gap"] == -2.0
    np.testing.assert_allclose(gap["share_of_gap"], [2.0, -1.0])
    with pytest.raises(DataError, match="no holdout"):
        lv.holdout_gap_by_month(track.assign(holdout=False), "M")


def test_clv_and_p_alive_under_every_model(study):
    by_model, totals = study.by_model, study.totals
    for name in lv.MODELS:
        key = lv.slug(name)
        assert totals.loc[name, "total_clv"] == pytest.approx(by_model[f"clv_{key}"].sum())
        assert totals.loc[name, "share_alive"] == pytest.approx(
            (by_model[f"p_alive_{key}"] > 0.5).mean()
        )
        lo, hi = totals.loc[name, ["lower", "upper"]]
        assert lo < totals.loc[name, "total_clv"] < hi
        assert (by_model[f"lower_{key}"] <= by_model[f"clv_{key}"] + 1e-9).all()
        assert (by_model[f"upper_{key}"] >= by_model[f"clv_{key}"] - 1e-9).all()
        # the study's CLV is the model's own clv at the study's rate and horizon
        direct = study.fits[name].clv(
            study.summary,
            spend=study.spend,
            margin=0.3,
            annual_discount_rate=0.1,
            horizon="10Y",
        )
        np.testing.assert_allclose(by_model[f"clv_{key}"], direct, rtol=1e-9)
    # BG/NBD: one-time buyers are alive by construction; MBG/NBD and Pareto/NBD: not
    assert totals.loc["BG/NBD", "p_alive_one_time"] == 1.0
    assert totals.loc["MBG/NBD", "p_alive_one_time"] < 0.6
    assert totals.loc["Pareto/NBD", "p_alive_one_time"] < 0.6
    one_time = (study.summary["frequency"] == 0).mean()
    assert totals["one_time_share"].eq(one_time).all()


def test_clv_at_other_assumptions(study):
    base = lv.clv_at(study)
    np.testing.assert_allclose(base, study.customers["clv"].reindex(base.index), rtol=1e-12)
    assert lv.total_clv(study) == pytest.approx(base.sum())
    # proportional to the margin
    assert lv.total_clv(study, margin=0.4) == pytest.approx(base.sum() * 0.4 / 0.3)
    # a higher discount rate lowers every customer's CLV; no discounting raises it
    higher = lv.clv_at(study, annual_discount_rate=0.15)
    assert (higher <= base + 1e-12).all() and higher.sum() < base.sum()
    assert lv.total_clv(study, annual_discount_rate=0.0) > base.sum()
    # the used model's own clv at a one-year horizon, undiscounted
    direct = study.model.clv(
        study.summary, spend=study.spend, margin=0.3, discount_rate=0.0, horizon="1Y"
    )
    np.testing.assert_allclose(
        lv.clv_at(study, annual_discount_rate=0.0, horizon_years=1.0), direct, rtol=1e-12
    )
    with pytest.raises(DataError, match="margin"):
        lv.clv_at(study, margin=30)


def test_customer_table_carries_the_used_model_interval_and_every_model(study):
    c = study.customers
    used = lv.slug(study.choice.used)
    assert (c["model"] == study.choice.used).all()
    np.testing.assert_allclose(c["clv"], c[f"clv_{used}"])
    np.testing.assert_allclose(c["lower"], c[f"lower_{used}"])
    np.testing.assert_allclose(c["p_alive"], c[f"p_alive_{used}"])
    assert set(c.index) == set(study.summary.index)
    assert c["student"].sum() == study.students.customers


def test_value_so_far_counts_calibration_spend_with_the_first_purchase():
    tx = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "b", "c"],
            "date": pd.to_datetime(
                ["1997-01-01", "1997-02-01", "1997-12-01", "1997-03-01", "1997-03-01"]
            ),
            "amount": [10.0, 20.0, 100.0, 5.0, 7.0],
        }
    )
    summary = pd.DataFrame(index=pd.Index(["a", "b"], name="customer_id"))
    summary.attrs["calibration_end"] = "1997-09-30"
    value = lv.value_so_far(tx, summary, margin=0.5)
    assert value.to_dict() == {"a": 15.0, "b": 2.5}
    summary.attrs.clear()
    with pytest.raises(DataError, match="calibration_end"):
        lv.value_so_far(tx, summary, margin=0.5)


def test_students_at_the_bank_by_hand_and_aligned_by_customer():
    ids = list("abcdefghij")
    now = pd.Series([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], index=ids, dtype=float)
    clv = pd.Series([90, 1, 2, 3, 80, 5, 6, 7, 8, 70], index=ids, dtype=float)
    st = lv.students_at_the_bank(now, clv, value_quantile=0.5, top_share=0.2)
    # value cut = median 4.5; CLV cut = 80% quantile = 70.0*...; top: a (90), e (80)
    assert st.value_cut == 4.5
    assert list(st.members[st.members].index) == ["a", "e"]
    assert st.share_customers == 0.2
    assert st.share_clv == pytest.approx(170 / clv.sum())
    assert st.top_share_clv == pytest.approx(170 / clv.sum())
    assert st.share_of_top == 1.0
    shuffled = lv.students_at_the_bank(now.iloc[::-1], clv, value_quantile=0.5, top_share=0.2)
    assert shuffled.members.equals(st.members)
    with pytest.raises(DataError, match="same customers"):
        lv.students_at_the_bank(now.iloc[1:], clv)
    with pytest.raises(DataError, match="top_share"):
        lv.students_at_the_bank(now, clv, top_share=1.5)


def test_value_bands_add_up_and_hold_the_students(study):
    c = study.customers
    bands = lv.value_bands(c["value_so_far"], c["clv"], cuts=(0.5, 0.8), top_share=0.2)
    assert list(bands.index) == [
        "lower 50% by value so far",
        "next 30% by value so far",
        "top 20% by value so far",
    ]
    assert bands["customers"].sum() == len(c)
    assert bands["share_clv"].sum() == pytest.approx(1.0)
    assert bands["top_clv_share"].iloc[0] == pytest.approx(study.students.share_clv)
    assert bands["top_clv_customers"].iloc[0] == study.students.customers
    assert bands["top_clv_share"].sum() == pytest.approx(study.students.top_share_clv)


def test_p_alive_formula_is_the_model_s_own(study):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from crmlab.plots import models as pm

    bg, mbg, pareto = (" ".join(lv.P_ALIVE_TEX[n]) for n in ("BG/NBD", "MBG/NBD", "Pareto/NBD"))
    assert "x = 0) = 1" in bg and "b + x - 1" in bg
    assert "{b + x}" in mbg and "x = 0" not in mbg
    assert "A_0" in pareto and "(\\beta + T)^{s}" in pareto
    assert "P(alive) = 1" in lv.p_alive_formula("BG/NBD")
    for name in lv.MODELS:
        fig = pm.formula(lv.P_ALIVE_TEX[name], title=name)
        fig.canvas.draw()  # mathtext parses every line
        plt.close(fig)
        fit = study.fits[name]
        text = lv.p_alive_formula(name, fit, 39.0)
        expected = fit.probability_alive(
            pd.DataFrame({"frequency": [0.0], "recency": [0.0], "T": [39.0]})
        ).iloc[0]
        assert f"P(alive) = {expected:.2f} under {name}" in text
    with pytest.raises(DataError, match="no P\\(alive\\) formula"):
        lv.p_alive_formula("BG/BB")


def test_fit_models_reports_a_model_it_cannot_fit(sample, monkeypatch):
    class Broken:
        def fit(self, summary):
            raise DataError("estimates on the edge")

    monkeypatch.setitem(lv.MODELS, "Broken", Broken)
    fits, failed = lv.fit_models(sample[1], ["BG/NBD", "Broken"])
    assert list(fits) == ["BG/NBD"] and failed == {"Broken": "estimates on the edge"}
    with pytest.raises(DataError, match="no transaction model could be fitted"):
        lv.fit_models(sample[1], ["Broken"])
    with pytest.raises(DataError, match="unknown model"):
        lv.fit_models(sample[1], ["BG/BB"])


def test_findings_cite_the_study_s_numbers(study):
    findings = lv.lifetime_value_findings(study)
    texts = [f.text for f in findings]
    assert len(set(texts)) == len(texts)
    table, totals, used = study.comparison, study.totals, study.choice.used
    choice = findings[0]
    assert choice.numbers["used"] == used
    assert choice.numbers["err_used"] == table.loc[used, "holdout_error_pct"]
    assert f"{table.loc[used, 'holdout_error_pct']:+.1f}%" in choice.text
    under = findings[1]
    assert under.numbers["actual"] == study.summary["frequency_holdout"].sum()
    assert under.numbers["low"] == table["holdout_expected"].min()
    if (table["holdout_error_pct"] < 0).all():
        assert under.text.startswith("Every model forecasts fewer")
    clv = next(f for f in findings if f.text.startswith("Total CLV"))
    for name in lv.MODELS:
        key = lv.slug(name)
        assert clv.numbers[f"clv_{key}"] == totals.loc[name, "total_clv"]
        assert clv.numbers[f"lower_{key}"] == totals.loc[name, "lower"]
        assert f"${totals.loc[name, 'total_clv']:,.0f}" in clv.text
    assert "parameter uncertainty only" in clv.text
    alive = next(f for f in findings if f.text.startswith("Customers more likely alive"))
    assert alive.numbers["alive_bg_nbd"] == totals.loc["BG/NBD", "share_alive"]
    assert "certainly alive" in alive.text
    students = findings[-1]
    assert students.numbers["share_clv"] == study.students.share_clv
    assert not any(f.simulated for f in findings)


def test_findings_wording_follows_the_numbers(study):
    table = study.comparison.copy()
    best = table["holdout_error_pct"].abs().idxmin()
    table.loc[best, "bic"] = table["bic"].min() - 10  # now BIC and holdout agree
    table.loc[table.index != best, "holdout_error_pct"] = 25.0  # and one over-forecasts
    agreeing = dataclasses.replace(study, comparison=table, choice=lv.choose_model(table))
    findings = lv.lifetime_value_findings(agreeing)
    assert "also forecasts" in findings[0].text and "BIC prefers" not in findings[0].text
    assert findings[1].text.startswith("The models forecast")
    no_interval = dataclasses.replace(study, totals=study.totals.assign(lower=np.nan, upper=np.nan))
    clv = next(f for f in lv.lifetime_value_findings(no_interval) if f.text.startswith("Total CLV"))
    assert "interval" not in clv.text
    failed = dataclasses.replace(study, failed={"Pareto/NBD": "the Hessian is singular"})
    assert lv.lifetime_value_findings(failed)[-1].text == (
        "Pareto/NBD could not be fitted and is left out: the Hessian is singular"
    )


def test_first_purchase_amount_sums_the_first_day():
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 2, 2, 3],
            "date": pd.to_datetime(
                [
                    "2020-01-01 09:00",
                    "2020-01-01 17:00",
                    "2020-01-05 00:00",
                    "2020-01-03 00:00",
                    "2020-01-10 00:00",
                    "2020-01-04 00:00",
                ]
            ),
            "amount": [10.0, 5.0, 100.0, 0.0, 7.0, 3.5],
        }
    )
    summary = crmlab.rfm_summary(tx, calibration_end="2020-01-20", time_unit="D")
    first = lv.first_purchase_amount(tx, summary)
    assert first.to_dict() == {1: 15.0, 2: 0.0, 3: 3.5}
    assert first.name == "first_amount" and first.index.equals(summary.index)
    # only the summary's customers
    assert lv.first_purchase_amount(tx, summary.loc[[2]]).to_dict() == {2: 0.0}
    with pytest.raises(DataError, match="no transaction on their first_purchase day"):
        lv.first_purchase_amount(tx[tx["customer_id"] != 3], summary)


@pytest.fixture(scope="module")
def first_amount(sample):
    tx, summary = sample
    return lv.first_purchase_amount(tx, summary)


def test_new_customer_clv_by_brute_force(study, first_amount):
    first_margin, repeat = lv.new_customer_clv(study, first_amount)
    assert first_margin == pytest.approx(0.3 * first_amount.mean())
    # a new customer's expected purchases, week by week, discounted at the weekly rate
    _, rate, horizon = lv.discounting(study.summary, 0.1, 10)
    ends = np.arange(1.0, horizon + 0.5)
    cumulative = np.array([float(study.model.expected_purchases(t)) for t in ends])
    weekly = np.diff(np.concatenate([[0.0], cumulative]))
    by_hand = 0.3 * study.spend_fit.mean_spend * np.sum(weekly / (1 + rate) ** ends)
    assert repeat == pytest.approx(by_hand, rel=1e-6)
    with pytest.raises(DataError, match="first_amount"):
        lv.new_customer_clv(study, first_amount.iloc[:0])


def test_retention_versus_acquisition_by_hand(study, first_amount):
    r = lv.retention_versus_acquisition(study, first_amount, acquisition_cost=20.0)
    c = study.customers
    alive = c["p_alive"] > 0.5
    assert r.active_customers == alive.sum()
    assert r.active_mean_clv == pytest.approx(c.loc[alive, "clv"].mean())
    first_margin, repeat = lv.new_customer_clv(study, first_amount)
    assert r.new_clv == pytest.approx(first_margin + repeat) == r.breakeven_cost
    assert r.new_net == pytest.approx(r.new_clv - 20.0) and r.pays_back
    assert r.replace_one == pytest.approx(r.active_mean_clv / r.new_net)
    top = c["clv"].nlargest(round(0.05 * len(c)))
    assert r.top_customers == len(top) and r.top_clv == pytest.approx(top.sum())
    assert r.top_share_clv == pytest.approx(top.sum() / c["clv"].sum())
    assert r.replace_top == pytest.approx(top.sum() / r.new_net)
    assert r.replace_top_cost == pytest.approx(20.0 * top.sum() / r.new_net)
    # keeping is worth more than winning: an active customer is worth more than a new one
    assert r.active_to_new > 1
    # a dearer acquisition takes more new customers; free acquisition: CLV ratio
    dear = lv.retention_versus_acquisition(study, first_amount, acquisition_cost=40.0)
    assert dear.replace_one > r.replace_one
    free = lv.retention_versus_acquisition(study, first_amount, acquisition_cost=0.0)
    assert free.replace_one == pytest.approx(free.active_to_new)
    # beyond the break-even a new customer never pays back
    never = lv.retention_versus_acquisition(
        study, first_amount, acquisition_cost=r.breakeven_cost + 1
    )
    assert not never.pays_back and np.isinf(never.replace_one) and np.isinf(never.replace_top)
    table = r.table()
    assert table.loc["new customers to replace one active customer", "value"] == r.replace_one
    assert table.loc["top 5% of customers by CLV", "value"] == r.top_customers
    with pytest.raises(DataError, match="acquisition_cost"):
        lv.retention_versus_acquisition(study, first_amount, acquisition_cost=-1)
    with pytest.raises(DataError, match="top_share"):
        lv.retention_versus_acquisition(study, first_amount, acquisition_cost=1, top_share=5)


def test_first_purchase_size_in_doublings_from_the_median():
    amounts = pd.Series([0.0, 9.0, 19.0, 39.0, 79.0], index=list("abcde"))
    exact = lv.first_purchase_size(amounts, step=0)
    assert exact.name == lv.FIRST_SIZE and exact.attrs["median"] == 19.0
    np.testing.assert_allclose(exact, np.log2((1 + amounts) / 20))
    np.testing.assert_allclose(exact[["c", "d", "e"]], [0.0, 1.0, 2.0])  # 20, 40, 80
    rounded = lv.first_purchase_size(amounts)  # half-doublings
    np.testing.assert_allclose(rounded, np.round(exact / 0.5) * 0.5)
    assert not (np.signbit(rounded) & (rounded == 0)).any()  # no "-0.0" level
    with pytest.raises(DataError, match="first for customer 'b'"):
        lv.first_purchase_size(amounts.replace(9.0, -1.0))
    with pytest.raises(DataError, match="step"):
        lv.first_purchase_size(amounts, step=-1)


@pytest.fixture(scope="module")
def covariate_fits(study, first_amount):
    size = lv.first_purchase_size(first_amount)
    data = study.summary.assign(**{size.name: size})
    fits, failed = lv.fit_covariate_models(data, [size.name])
    assert not failed
    return data, fits


def test_coefficient_table_and_what_a_coefficient_means(covariate_fits):
    data, fits = covariate_fits
    assert list(fits) == [lv.covariate_name(n) for n in lv.MODELS]
    table = lv.coefficient_table(fits)
    pareto = fits["Pareto/NBD + first purchase"]
    row = table.loc[("Pareto/NBD + first purchase", "purchase:first_size")]
    assert row["coef"] == pareto.params["purchase:first_size"]
    assert row["se"] == pareto.bse["purchase:first_size"]
    assert row["multiplier"] == pytest.approx(np.exp(row["coef"]))
    assert row["lower"] == pytest.approx(row["coef"] - 1.959964 * row["se"], rel=1e-6)
    assert row["multiplier_upper"] == pytest.approx(np.exp(row["upper"]))
    assert row["p_value"] == pytest.approx(2 * stats.norm.sf(abs(row["z"])))
    assert "purchase rate" in row["meaning"]
    # a coefficient is the log multiplier of the mean rate per doubling of the first purchase
    effects = lv.covariate_effects(fits, {"median": 0.0, "twice": 1.0})
    p = effects.loc["Pareto/NBD + first purchase"]
    assert p.loc["twice", "purchase_rate"] / p.loc["median", "purchase_rate"] == pytest.approx(
        np.exp(pareto.params["purchase:first_size"])
    )
    assert p.loc["twice", "dropout"] / p.loc["median", "dropout"] == pytest.approx(
        np.exp(pareto.params["dropout:first_size"])
    )
    assert p.loc["median", "purchase_rate"] == pytest.approx(
        pareto.params["r"] / pareto.params["alpha"]
    )
    bg = fits["BG/NBD + first purchase"]
    b = effects.loc[("BG/NBD + first purchase", "twice")]
    a_i = bg.params["a"] * np.exp(bg.params["a:first_size"])
    b_i = bg.params["b"] * np.exp(bg.params["b:first_size"])
    assert b["dropout"] == pytest.approx(a_i / (a_i + b_i))
    with pytest.raises(DataError, match="no covariate"):
        lv.coefficient_table({"plain": pareto.for_covariates({"first_size": 0.0})})


def test_comparison_with_covariates_and_the_likelihood_ratio(study, covariate_fits):
    data, fits = covariate_fits
    table = lv.comparison_with_covariates(study, fits, data)
    assert list(table.index) == list(lv.MODELS) + list(fits)
    for name in lv.MODELS:
        cov = lv.covariate_name(name)
        assert table.loc[cov, "lr_stat"] == pytest.approx(
            2 * (fits[cov].loglik - study.fits[name].loglik)
        )
        assert table.loc[cov, "lr_stat"] > -1e-6  # nested: never worse
        assert table.loc[cov, "lr_df"] == len(fits[cov].params) - len(study.fits[name].params)
        assert table.loc[name, "used_for"] == study.comparison.loc[name, "used_for"]
        assert table.loc[cov, "covariates"] == "first_size"
    np.testing.assert_allclose(table["bic"] - table["bic"].min(), table["delta_bic"])
    assert (table["holdout_actual"] == study.summary["frequency_holdout"].sum()).all()
    # findings: a sentence only when a coefficient is clearly non-zero
    coefficients = lv.coefficient_table(fits)
    used = study.choice.used
    finding = lv.covariate_finding(coefficients, table, used)
    clear = (coefficients.loc[lv.covariate_name(used), "p_value"] < lv.CLEAR_P).any()
    assert (finding is not None) == bool(clear)
    blurred = coefficients.assign(p_value=0.5)
    assert lv.covariate_finding(blurred, table, used) is None
    assert lv.covariate_finding(coefficients, table, "no such model") is None
    sure = coefficients.assign(p_value=1e-9)
    f = lv.covariate_finding(sure, table, used)
    n = f.numbers
    assert n["lr"] == table.loc[lv.covariate_name(used), "lr_stat"]
    assert f"{n['err_cov']:+.1f}%" in f.text and "twice as large" in f.text
    # errors equal to the printed decimal: the sentence does not say the covariate moved it
    tied = table.copy()
    tied.loc[lv.covariate_name(used), "holdout_error_pct"] = table.loc[used, "holdout_error_pct"]
    same = lv.covariate_finding(sure, tied, used).text
    assert f"leaves the holdout error at {table.loc[used, 'holdout_error_pct']:+.1f}%" in same
    assert "moves the holdout error" not in same
    findings = lv.lifetime_value_findings(study, coefficients=sure, comparison=table)
    assert findings[-1 - len(study.failed)].text == f.text


def test_rounding_the_first_purchase_moves_estimates_less_than_their_standard_errors(
    study, first_amount, covariate_fits
):
    _, fits = covariate_fits
    exact = lv.first_purchase_size(first_amount, step=0)
    data = study.summary.assign(**{exact.name: exact})
    unrounded, _ = lv.fit_covariate_models(data, [exact.name], names=["Pareto/NBD"])
    rounded = fits["Pareto/NBD + first purchase"]
    for name in ("purchase:first_size", "dropout:first_size"):
        gap = abs(unrounded["Pareto/NBD + first purchase"].params[name] - rounded.params[name])
        assert gap < rounded.bse[name]
    # rounding groups customers into fewer distinct patterns
    cols = ["frequency", "recency", "T", exact.name]
    rounded_data = study.summary.assign(**{exact.name: lv.first_purchase_size(first_amount)})
    assert len(rounded_data[cols].drop_duplicates()) < len(data[cols].drop_duplicates())
