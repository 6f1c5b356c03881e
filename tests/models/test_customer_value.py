"""Customer value tables and the two teaching contrasts, on hand-built cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmlab import DataError
from crmlab.models.customer_value import (
    contrasting_customers,
    customer_table,
    spend_inputs,
    value_now_vs_lifetime,
)


class Fixed:
    """A stand-in fitted model with simple, known predictions."""

    def probability_alive(self, data):
        return data["recency"] / data["T"]

    def expected_purchases(self, t, data=None):
        return t * data["frequency"] / data["T"]

    def expected_spend(self, data):
        return data["monetary_value"] * 2


def table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "frequency": [10, 12, 1, 2, 0, 1],
            "recency": [10.0, 15.0, 39.0, 38.0, 0.0, 5.0],
            "T": [40.0, 40.0, 40.0, 39.0, 40.0, 40.0],
            "monetary_value": [20.0, 10.0, 5.0, 5.0, 0.0, 8.0],
            "clv": [30.0, 25.0, 60.0, 40.0, 1.0, 2.0],
        },
        index=pd.Index(list("abcdef"), name="customer_id"),
    )


def test_customer_table_columns_and_order():
    t = table()
    out = customer_table(t, Fixed(), spend=Fixed().expected_spend(t), horizon=52, clv=t["clv"])
    assert list(out.columns) == [
        "frequency", "recency", "T", "monetary_value",
        "p_alive", "expected_purchases", "expected_spend", "clv",
    ]  # fmt: skip
    assert list(out.index) == ["c", "d", "a", "b", "f", "e"]
    assert out.loc["a", "p_alive"] == pytest.approx(0.25)
    assert out.loc["b", "expected_purchases"] == pytest.approx(52 * 12 / 40)
    assert out.loc["a", "expected_spend"] == 40
    with pytest.raises(DataError, match="1 customers, first 'f'"):
        customer_table(t, Fixed(), spend=t["clv"], horizon=52, clv=t["clv"].drop("f"))
    with pytest.raises(DataError, match="spend has no value for 1 customers"):
        customer_table(t, Fixed(), spend=t["clv"].drop("a"), horizon=52, clv=t["clv"])


def test_contrasting_customers_picks_the_teaching_pair():
    pair = contrasting_customers(table(), many_quantile=0.75)
    # frequency >= q75 of repeaters (10.5): only b (12, last purchase at 15 <= 20)
    assert list(pair.index) == ["b", "c"]
    assert pair.loc["b", "profile"] == "many purchases, long ago"
    assert pair.loc["c", "clv"] > pair.loc["b", "clv"]
    # no recent customer worth more -> empty, not an error
    t = table()
    t.loc[["c", "d"], "clv"] = 0.0
    assert contrasting_customers(t, many_quantile=0.75).empty


def test_value_now_vs_lifetime_counts_the_students():
    clv = pd.Series([100.0, 90, 5, 4, 3, 2, 1, 1, 1, 1], index=range(10))
    now = pd.Series([1.0, 50, 40, 3, 2, 1, 1, 1, 1, 1], index=range(10))
    out = value_now_vs_lifetime(now, clv, top=0.2)
    # top 2 by CLV: 0 and 1; top 2 by value now: 1 and 2
    assert out.loc["top by value now", "customers_top_clv"] == 1
    assert out.loc["others by value now", "customers_top_clv"] == 1
    assert out.loc["others by value now", "clv_share"] == pytest.approx(100 / clv.sum())
    assert out[["customers_top_clv", "customers_other_clv"]].to_numpy().sum() == 10
    with pytest.raises(DataError, match="top must be"):
        value_now_vs_lifetime(now, clv, top=1.5)


def test_value_now_ranking_equal_to_clv_misses_nobody(rng):
    clv = pd.Series(rng.gamma(1.0, 50.0, 500))
    out = value_now_vs_lifetime(clv * 0.3, clv, top=0.1)
    assert out.loc["others by value now", "customers_top_clv"] == 0
    assert out.loc["top by value now", "customers_top_clv"] == 50
    assert np.isclose(out["clv_share"].sum(), clv.nlargest(50).sum() / clv.sum())


def test_spend_inputs_treat_zero_value_repeaters_as_without_spend_history():
    summary = pd.DataFrame(
        {"frequency": [0, 2, 3, 1], "monetary_value": [0.0, 10.0, 0.0, np.nan]},
        index=list("abcd"),
    )
    out, n = spend_inputs(summary)
    assert n == 2
    assert out["frequency"].tolist() == [0, 2, 0, 0]
    assert (
        out.loc["b", "monetary_value"] == 10.0
        and (out.loc[["c", "d"], "monetary_value"] == 0).all()
    )
    assert summary.loc["c", "frequency"] == 3  # the input is not changed
