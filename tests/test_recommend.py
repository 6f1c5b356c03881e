"""Item-to-item recommendations: hand-computed similarities, splits and simulated taste."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmlab import DataError
from crmlab.recommend import (
    evaluate,
    hit_rate,
    incidence,
    item_similarity,
    next_new_items,
    recommend,
)


def small() -> pd.DataFrame:
    # A buys x, y; B buys x, y (x twice); C buys x, z
    return pd.DataFrame(
        {
            "customer_id": ["A", "A", "B", "B", "B", "C", "C"],
            "date": pd.to_datetime(["2024-01-01", "2024-01-02"] * 2 + ["2024-01-03"] * 3),
            "category": ["x", "y", "x", "y", "x", "x", "z"],
        }
    )


def taste(rng, n: int) -> pd.DataFrame:
    """Customers who each like one of three groups of categories, with known truth."""
    groups = [["a1", "a2", "a3", "a4"], ["b1", "b2", "b3", "b4"], ["c1", "c2", "c3", "c4"]]
    weights = np.array([0.45, 0.35, 0.20])
    group = rng.choice(3, size=n, p=weights)
    n_buy = rng.integers(2, 12, size=n)
    cust = np.repeat(np.arange(n), n_buy)
    g = np.repeat(group, n_buy)
    own = rng.random(len(cust)) < 0.85
    other = rng.choice(3, size=len(cust))
    g = np.where(own, g, other)
    cat = np.array(groups)[g, rng.integers(0, 4, size=len(cust))]
    days = rng.integers(0, 700, size=len(cust))
    return pd.DataFrame(
        {
            "customer_id": cust,
            "date": pd.Timestamp("2023-01-01") + pd.to_timedelta(days, "D"),
            "category": cat,
        }
    )


def test_incidence_is_zero_one():
    m, customers, items = incidence(small())
    assert customers.tolist() == ["A", "B", "C"] and items.tolist() == ["x", "y", "z"]
    np.testing.assert_array_equal(m.toarray(), [[1, 1, 0], [1, 1, 0], [1, 0, 1]])


def test_similarity_hand_case():
    cos = item_similarity(small(), method="cosine")
    lift = item_similarity(small(), method="lift")
    # C = B'B: xx 3, yy 2, zz 1, xy 2, xz 1, yz 0
    assert cos.loc["x", "y"] == pytest.approx(2 / np.sqrt(6))
    assert cos.loc["x", "z"] == pytest.approx(1 / np.sqrt(3))
    assert cos.loc["y", "z"] == 0 and cos.loc["x", "x"] == 0
    assert lift.loc["x", "y"] == pytest.approx(2 * 3 / (3 * 2))
    assert lift.loc["x", "z"] == pytest.approx(1.0)
    np.testing.assert_allclose(cos.to_numpy(), cos.to_numpy().T)
    with pytest.raises(DataError, match="method"):
        item_similarity(small(), method="jaccard")


def test_recommend_excludes_bought_items_and_ranks_by_summed_similarity():
    cos = item_similarity(small())
    hist = pd.DataFrame(
        {"customer_id": ["D"], "date": [pd.Timestamp("2024-02-01")], "category": ["y"]}
    )
    rec = recommend(hist, cos, k=2)
    assert rec["category"].tolist() == ["x", "z"]
    assert rec["score"].tolist() == pytest.approx([2 / np.sqrt(6), 0.0])
    pop = pd.Series({"x": 3, "y": 2, "z": 1})
    base = recommend(hist, popularity=pop, k=5)
    assert base["category"].tolist() == ["x", "z"]  # only two unbought items
    with pytest.raises(DataError, match="k must"):
        recommend(hist, cos, k=0)
    with pytest.raises(DataError, match="popularity"):
        recommend(hist)


def test_next_new_items_and_hit_rate():
    data = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 1, 2, 2, 3],
            "date": pd.to_datetime(["2024-01-0" + d for d in "1234" + "12" + "1"]),
            "category": ["x", "x", "y", "z", "x", "x", "x"],
        }
    )
    hist, target = next_new_items(data, 2)
    assert target.to_dict("list") == {"customer_id": [1], "category": ["y"]}
    assert hist["category"].tolist() == ["x", "x"]
    hist1, target1 = next_new_items(data, 1)
    assert target1["category"].tolist() == ["y"]  # the second x is not new
    rec = pd.DataFrame({"customer_id": [1, 1], "category": ["z", "y"]})
    assert hit_rate(rec, target) == (1, 1)
    assert hit_rate(rec.iloc[:1], target) == (0, 1)
    with pytest.raises(DataError, match="n_history"):
        next_new_items(data, 0)


def test_item_to_item_beats_popularity_and_learns_with_history(rng):
    data = taste(rng, 2500)
    out = evaluate(data, k=2, history_lengths=(1, 4), seed=1).set_index(["n_history", "method"])
    for h in (1, 4):
        assert out.loc[(h, "cosine"), "hit_rate"] > out.loc[(h, "popularity"), "hit_rate"] + 0.1
    assert out.loc[(4, "cosine"), "hit_rate"] > out.loc[(1, "cosine"), "hit_rate"]
    assert (out["lower"] <= out["hit_rate"]).all() and (out["hit_rate"] <= out["upper"]).all()


def test_evaluate_errors():
    with pytest.raises(DataError, match="test_share"):
        evaluate(small(), test_share=1.0)
    with pytest.raises(DataError, match="lacks column"):
        evaluate(small().drop(columns="date"))
    with pytest.raises(DataError, match="history_lengths"):
        evaluate(small(), history_lengths=(0,))


def test_same_customers_and_ratio_to_popularity(rng):
    data = taste(rng, 1500)
    out = evaluate(data, k=2, history_lengths=(1, 3), seed=2, same_customers=True)
    assert out.groupby("n_history")["customers"].first().nunique() == 1
    pop = out[out["method"] == "popularity"]
    assert (pop["vs_popularity"] == 1).all()
    cos = out[out["method"] == "cosine"].set_index("n_history")
    base = pop.set_index("n_history")["hit_rate"]
    np.testing.assert_allclose(cos["vs_popularity"], cos["hit_rate"] / base)


def test_top_pairs_lists_each_pair_once_largest_first():
    from crmlab.recommend import top_pairs

    sim = pd.DataFrame(
        [[0, 0.2, 0.9], [0.2, 0, 0.5], [0.9, 0.5, 0]], index=list("xyz"), columns=list("xyz")
    )
    out = top_pairs(sim, 2)
    assert list(out.index) == [("x", "z"), ("y", "z")] and out.tolist() == [0.9, 0.5]
    assert len(top_pairs(sim, 10)) == 3  # 3 distinct pairs, none twice, no diagonal
    with pytest.raises(DataError, match="n must be"):
        top_pairs(sim, 0)


def hits_table(rows):
    """rows: (n_history, method, hits, customers) -> a table shaped like evaluate()'s."""
    from crmlab.defection import wilson_interval

    out = pd.DataFrame(rows, columns=["n_history", "method", "hits", "customers"])
    out["hit_rate"] = out["hits"] / out["customers"]
    out["lower"], out["upper"] = wilson_interval(out["hits"], out["customers"])
    return out


def test_compare_hit_rates_marks_overlapping_intervals():
    from crmlab.recommend import compare_hit_rates

    hits = hits_table(
        [
            (1, "cosine", 500, 1000),
            (1, "lift", 300, 1000),
            (1, "popularity", 290, 1000),
            (3, "cosine", 520, 1000),
            (3, "lift", 505, 1000),
            (3, "popularity", 300, 1000),
        ]
    )
    out = compare_hit_rates(hits).set_index(["n_history", "method"])
    assert out.loc[(1, "cosine"), "best"] and not out.loc[(1, "cosine"), "overlaps_best"]
    assert not out.loc[(1, "lift"), "overlaps_best"]  # 30% vs 50% of 1,000: clearly apart
    assert out.loc[(3, "lift"), "overlaps_best"]  # 50.5% vs 52%
    assert out.loc[(3, "popularity"), "rank"] == 3
    by_method = compare_hit_rates(hits, within="method").set_index(["method", "n_history"])
    assert by_method.loc[("cosine", 3), "best"] and by_method.loc[("cosine", 1), "overlaps_best"]
    assert not by_method.loc[("lift", 1), "overlaps_best"]
    with pytest.raises(DataError, match="within"):
        compare_hit_rates(hits, within="k")


def test_recommendation_findings_name_ties_and_do_not_repeat_numbers():
    from crmlab.recommend import recommendation_findings

    hits = hits_table(
        [
            (1, "cosine", 500, 1000),
            (1, "lift", 300, 1000),
            (1, "popularity", 290, 1000),
            (3, "cosine", 520, 1000),
            (3, "lift", 505, 1000),
            (3, "popularity", 300, 1000),
        ]
    )
    switching, ties, learning = recommendation_findings(hits, k=3, simulated=True)
    assert all(f.simulated for f in (switching, ties, learning))
    assert switching.numbers["short"] == 0.5 and switching.numbers["long"] == 0.52
    assert switching.numbers["base_short"] == 0.29 and switching.numbers["base_long"] == 0.3
    assert "50.0% (95% CI" in switching.text and "best-sellers" in switching.text
    assert "cosine and lift with {h_1} purchases" in ties.template and ties.numbers["h_1"] == 3
    assert "do not show which of them is better" in ties.text
    # cosine's numbers are in the first sentence: the third names it without repeating them
    assert "cosine's change lies within overlapping" in learning.text
    assert "52.0%" not in learning.text
    assert learning.numbers["from_2"] == 0.3 and learning.numbers["to_2"] == 0.505
    assert "the 95% intervals apart" in learning.text

    clear = hits_table(
        [(1, "cosine", 500, 1000), (1, "popularity", 200, 1000)]
        + [(2, "cosine", 700, 1000), (2, "popularity", 200, 1000)]
    )
    switching, ties, learning = recommendation_findings(clear, k=2)
    assert "simulat" not in switching.text + ties.text + learning.text
    assert "lies clear of the other methods'" in ties.text
    assert "cosine's change is clear" in learning.text


def test_recommendation_client_compares_the_longest_history_with_best_sellers():
    from client_checks import check_plain
    from statsmodels.stats.proportion import proportion_confint

    from crmlab.recommend import recommendation_client

    hits = hits_table(
        [
            (1, "cosine", 500, 1000),
            (1, "popularity", 290, 1000),
            (3, "cosine", 520, 1000),
            (3, "lift", 505, 1000),
            (3, "popularity", 300, 1000),
        ]
    )
    (sim,), (test,) = recommendation_client(hits, k=3, simulated=True)
    n = sim.numbers
    assert n["h_max"] == 3 and n["long"] == 0.52 and n["base"] == 0.3
    lo, hi = proportion_confint(300, 1000, method="wilson")
    assert (n["base_lo"], n["base_hi"]) == pytest.approx((lo, hi))
    assert "for 52% of customers" in sim.text and "against 30%" in sim.text
    assert sim.simulated and test.verb == "test"
    (real,), (grow,) = recommendation_client(hits, k=3)
    assert real.text.startswith("Once 3 of") and grow.verb == "grow"
    for text in (sim.text, test.text, real.text, grow.text):
        check_plain(text)
    with pytest.raises(DataError, match="baseline"):
        recommendation_client(hits, k=3, baseline="random")
