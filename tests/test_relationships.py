"""Relationship breadth and cross-buying: hand cases and simulated known truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmlab import DataError
from crmlab.relationships import cross_buying, fit_retention, retention_by_level, threshold_test


def two_level() -> pd.DataFrame:
    # breadth 0: 2 of 5 stay; breadth 1: 4 of 5 stay
    return pd.DataFrame(
        {"n_employees": [0] * 5 + [1] * 5, "retained": [1, 1, 0, 0, 0, 1, 1, 1, 1, 0]}
    )


def simulate(rng, n: int, threshold: bool) -> pd.DataFrame:
    x = rng.integers(1, 9, size=n)
    if threshold:  # retention rises up to four contacts, flat afterwards
        eta = -1.5 + 0.6 * np.minimum(x, 4)
    else:
        eta = -1.5 + 0.3 * x
    y = rng.random(n) < 1 / (1 + np.exp(-eta))
    return pd.DataFrame({"n_employees": x, "retained": y.astype(int)})


def test_retention_by_level_hand_case():
    out = retention_by_level(two_level())
    assert out.index.tolist() == [0, 1]
    assert out["customers"].tolist() == [5, 5]
    assert out["retained"].tolist() == [2, 4]
    np.testing.assert_allclose(out["retention"], [0.4, 0.8])
    assert (out["lower"] < out["retention"]).all() and (out["upper"] > out["retention"]).all()


def test_linear_logit_on_two_levels_is_the_log_odds_ratio():
    fit = fit_retention(two_level())
    a, b = fit.coefficients["coef"]
    assert a == pytest.approx(np.log(0.4 / 0.6), abs=1e-8)
    assert b == pytest.approx(np.log(4) - np.log(0.4 / 0.6), abs=1e-8)
    assert fit.coefficients["odds_ratio"].iloc[1] == pytest.approx(6, rel=1e-6)
    np.testing.assert_allclose(fit.curve["retention"], [0.4, 0.8], atol=1e-8)
    row = fit.coefficients.iloc[1]
    assert row["lower"] < row["coef"] < row["upper"]
    ll = 2 * np.log(0.4) + 3 * np.log(0.6) + 4 * np.log(0.8) + np.log(0.2)
    assert fit.loglik == pytest.approx(ll)
    assert fit.aic == pytest.approx(4 - 2 * ll)


def test_dummies_reproduce_observed_rates(rng):
    data = simulate(rng, 2000, threshold=True)
    fit = fit_retention(data, kind="dummies")
    observed = retention_by_level(data)["retention"].to_numpy()
    np.testing.assert_allclose(fit.curve["retention"], observed, atol=1e-7)
    assert fit.n_params == 8


def test_spline_follows_true_curve(rng):
    data = simulate(rng, 6000, threshold=True)
    fit = fit_retention(data, kind="spline", df=4)
    truth = 1 / (1 + np.exp(-(-1.5 + 0.6 * np.minimum(fit.curve["breadth"], 4))))
    assert np.abs(fit.curve["retention"] - truth).max() < 0.05
    assert (
        (fit.curve["lower"] <= fit.curve["retention"])
        & (fit.curve["retention"] <= fit.curve["upper"])
    ).all()


def test_threshold_found_when_built_in_and_not_otherwise(rng):
    with_t = threshold_test(simulate(rng, 4000, threshold=True), knot=4)
    assert with_t.changes()
    assert with_t.p_value < 1e-4
    assert with_t.slope_below == pytest.approx(0.6, abs=0.15)
    assert with_t.slope_above == pytest.approx(0.0, abs=0.15)
    assert with_t.slope_change_lower < with_t.slope_change < with_t.slope_change_upper
    assert with_t.lr_stat == pytest.approx(2 * (with_t.piecewise.loglik - with_t.linear.loglik))
    without = threshold_test(simulate(rng, 4000, threshold=False), knot=4)
    assert not without.changes()
    assert without.slope_below == pytest.approx(0.3, abs=0.15)


def test_cross_buying_hand_case():
    data = pd.DataFrame(
        {
            "n_lines": [1, 1, 2, 2, 3, 3],
            "value": [10.0, 20.0, 30.0, 50.0, 60.0, 80.0],
            "retained": [0, 1, 0, 1, 1, 1],
        }
    )
    table, assoc = cross_buying(data)
    np.testing.assert_allclose(table["mean_value"], [15, 40, 70])
    np.testing.assert_allclose(table["median_value"], [15, 40, 70])
    np.testing.assert_allclose(table["share_of_value"], [30 / 250, 80 / 250, 140 / 250])
    np.testing.assert_allclose(table["retention"], [0.5, 0.5, 1.0])
    # OLS slope of value on lines: cov / var = 27.5 per extra line
    x, v = data["n_lines"], data["value"]
    assert assoc.loc["value", "slope"] == pytest.approx(np.cov(x, v)[0, 1] / x.var())
    assert assoc.loc["value", "spearman_rho"] > 0.9


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"n_employees": [1, 2], "retained": [1, 2]}), "must be 0/1; 1 values"),
        (pd.DataFrame({"n_employees": [1, -2], "retained": [1, 0]}), "count >= 0"),
        (pd.DataFrame({"n_employees": [1, 2], "retained": [1, 1]}), "only the value"),
        (
            pd.DataFrame({"n_employees": [1, None], "retained": [1, 0]}),
            "missing value, first at row 2",
        ),
        (pd.DataFrame({"employees": [1, 2], "retained": [1, 0]}), "lacks column"),
    ],
)
def test_bad_input_is_named(frame, message):
    with pytest.raises(DataError, match=message):
        fit_retention(frame)


def test_bad_model_options(rng):
    data = simulate(rng, 300, threshold=False)
    with pytest.raises(DataError, match="kind"):
        fit_retention(data, kind="cubic")
    with pytest.raises(DataError, match="knot"):
        fit_retention(data, kind="piecewise", knot=20)
    with pytest.raises(DataError, match="df"):
        fit_retention(data, kind="spline", df=30)


def test_distinct_per_customer_counts_and_keeps_silent_customers():
    from crmlab.relationships import distinct_per_customer

    log = pd.DataFrame({"customer_id": [1, 1, 1, 2], "employee_id": ["e1", "e2", "e1", "e3"]})
    out = distinct_per_customer(log, of="employee_id", customers=[1, 2, 3])
    assert out.to_dict() == {1: 2, 2: 1, 3: 0}
    assert out.name == "n_employee_id"
    with pytest.raises(DataError, match="not in `customers`, first 2"):
        distinct_per_customer(log, of="employee_id", customers=[1])
    with pytest.raises(DataError, match="lacks column"):
        distinct_per_customer(log, of="rep")


def test_odds_ratio_interval_is_the_exponentiated_wald_interval(rng):
    fit = fit_retention(simulate(rng, 600, threshold=False))
    c = fit.coefficients
    assert c["odds_ratio_lower"].to_numpy() == pytest.approx(np.exp(c["lower"].to_numpy()))
    assert c["odds_ratio_upper"].to_numpy() == pytest.approx(np.exp(c["upper"].to_numpy()))
    assert (c["odds_ratio_lower"] < c["odds_ratio"]).all()


def test_small_groups_hand_case():
    from crmlab.relationships import small_groups

    table = retention_by_level(two_level())  # 5 customers at each level
    small = small_groups(table, min_group=6)
    assert list(small.index) == [0, 1]
    assert small["half_width"].to_numpy() == pytest.approx(
        ((table["upper"] - table["lower"]) / 2).to_numpy()
    )
    assert small_groups(table, min_group=5).empty
    with pytest.raises(DataError, match="min_group"):
        small_groups(table, min_group=0)


def _cross_buying_data(rng, n=3000):
    data = simulate(rng, n, threshold=True)
    data["n_lines"] = np.minimum(1 + rng.binomial(4, 0.2 + 0.3 * data["retained"]), 5)
    data["value"] = rng.gamma(2.0, 50.0 * data["n_lines"])
    return data


def test_relationship_findings_cite_the_fits_and_label_simulated_data(rng):
    from crmlab.relationships import cross_buying, relationship_findings

    data = _cross_buying_data(rng)
    flat = simulate(rng, 3000, threshold=False)
    found = relationship_findings(data, control=flat, knot=4, min_group=50, simulated=True)
    assert all(f.simulated for f in found)
    odds, kink = found[0], found[1]
    row = fit_retention(data).coefficients.loc["breadth"]
    assert odds.numbers["odds_ratio"] == pytest.approx(row["odds_ratio"])
    assert odds.numbers["lower"] == pytest.approx(np.exp(row["lower"]))
    assert odds.numbers["n"] == len(data)
    test = threshold_test(data, knot=4)
    assert kink.numbers["p_value"] == pytest.approx(test.p_value)
    assert kink.numbers["above"] == pytest.approx(test.slope_above)
    assert kink.numbers["control_p_value"] == pytest.approx(threshold_test(flat).p_value)
    assert "attachment is not observed" in kink.text and "changes from" in kink.text
    assert "finds none" in kink.text

    by_lines, _ = cross_buying(data)
    cross = found[-1]
    big = by_lines[by_lines["customers"] >= 50]
    assert (
        cross.numbers["top"] == big.index[-1]
        and cross.numbers["n_top"] == big["customers"].iloc[-1]
    )
    assert cross.numbers["ratio"] == pytest.approx(
        big["mean_value"].iloc[-1] / big["mean_value"].iloc[0]
    )
    assert cross.numbers["r_one"] == pytest.approx(big["retention"].iloc[0])
    assert "built in" in cross.text
    small = by_lines[(by_lines["customers"] < 50) & (by_lines.index > big.index[-1])]
    for level, n in small["customers"].items():
        assert f"{level} lines (n = {n:,})" in cross.text


def test_relationship_findings_flag_small_breadth_groups_and_speak_plainly_on_real_data(rng):
    from crmlab.relationships import relationship_findings

    data = _cross_buying_data(rng, 600)  # 8 breadth levels of about 75 customers
    found = relationship_findings(data, min_group=80, simulated=False)
    text = " ".join(f.text for f in found)
    assert "simulat" not in text.lower() and "built in" not in text
    small = retention_by_level(data)
    small = small[small["customers"] < 80]
    flagged = [f for f in found if "rests on fewer than 80" in f.text]
    assert len(flagged) == 1
    for level, n in small["customers"].items():
        assert f"{level} employees (n = {n:,})" in flagged[0].text
    assert "association" in found[-1].text


def test_relationship_client_compares_one_employee_with_the_knot():
    from client_checks import check_plain
    from statsmodels.stats.proportion import proportion_confint

    from crmlab.relationships import relationship_client

    customers = pd.DataFrame(
        {
            "n_employees": [1] * 10 + [2] * 5 + [4] * 6 + [6] * 4,
            "retained": [1] * 3 + [0] * 7 + [1, 0, 1, 0, 1] + [1] * 5 + [0] + [1] * 4,
        }
    )
    (finding,), (action,) = relationship_client(customers, knot=4, simulated=True)
    n = finding.numbers
    assert (n["n_one"], n["n_wide"]) == (10, 10)
    assert n["one"] == pytest.approx(0.3) and n["wide"] == pytest.approx(0.9)
    lo, hi = proportion_confint(9, 10, method="wilson")
    assert n["wide_lo"] == pytest.approx(lo) and n["wide_hi"] == pytest.approx(hi)
    assert finding.simulated and "simulated" in finding.text
    assert action.verb == "test" and action.customers is None
    (real,), (grow,) = relationship_client(customers, knot=4)
    assert not real.simulated and grow.customers == 15  # served by 1 to 3 employees
    assert "not a proven cause" in grow.text
    for text in (finding.text, action.text, real.text, grow.text):
        check_plain(text)
    with pytest.raises(DataError, match="both groups"):
        relationship_client(customers[customers["n_employees"] > 1], knot=4)
