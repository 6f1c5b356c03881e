"""Customer share measures: hand-computed panels, the Parfitt-Collins identity, the
Wallet Allocation Rule and share of wallet checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import crmlab
from crmlab import share
from crmlab.errors import DataError


@pytest.fixture
def tiny_panel() -> pd.DataFrame:
    """Four households, brands A/B/C plus D that nobody bought.

    h1: A A B      (3 purchases)
    h2: A          (bought once, sole buyer of A)
    h3: B B B C    (4)
    h4: C C        (2, sole buyer of C)
    """
    rows = [
        ("h1", "A"),
        ("h1", "A"),
        ("h1", "B"),
        ("h2", "A"),
        ("h3", "B"),
        ("h3", "B"),
        ("h3", "B"),
        ("h3", "C"),
        ("h4", "C"),
        ("h4", "C"),
    ]
    frame = pd.DataFrame(rows, columns=["household_id", "brand"])
    frame["brand"] = pd.Categorical(frame["brand"], categories=["A", "B", "C", "D"])
    frame["occasion"] = np.arange(len(frame))
    return frame


def test_purchase_counts_keeps_brand_nobody_bought(tiny_panel):
    counts = share.purchase_counts(tiny_panel)
    assert list(counts.columns) == ["A", "B", "C", "D"]
    assert counts.loc["h1"].tolist() == [2, 1, 0, 0]
    assert counts["D"].sum() == 0
    assert counts.to_numpy().sum() == len(tiny_panel)


def test_scr_per_household(tiny_panel):
    scr = share.share_of_category_requirements(tiny_panel)
    assert len(scr) == 4 * 4
    row = scr[(scr.household_id == "h3") & (scr.brand == "B")].iloc[0]
    assert row.brand_purchases == 3 and row.category_purchases == 4
    assert row.scr == pytest.approx(0.75)
    assert scr.groupby("household_id")["scr"].sum().to_numpy() == pytest.approx(np.ones(4))
    first = scr[scr.first_choice].set_index("household_id")["brand"]
    assert first.to_dict() == {"h1": "A", "h2": "A", "h3": "B", "h4": "C"}


def test_brand_performance_by_hand(tiny_panel):
    t = share.brand_performance(tiny_panel)
    # volumes A=3, B=4, C=3, D=0 of 10
    assert t.market_share.tolist() == pytest.approx([0.3, 0.4, 0.3, 0.0])
    assert t.penetration.tolist() == pytest.approx([0.5, 0.5, 0.5, 0.0])
    assert t.loc["A", "purchase_frequency"] == pytest.approx(1.5)
    # A's buyers h1 (3) and h2 (1): category volume 4, SCR 3/4
    assert t.loc["A", "category_frequency"] == pytest.approx(2.0)
    assert t.loc["A", "scr"] == pytest.approx(0.75)
    # B's buyers h1 (3), h3 (4): B volume 4 of 7
    assert t.loc["B", "scr"] == pytest.approx(4 / 7)
    assert t.loc["A", "sole_buyers"] == pytest.approx(0.5)  # h2
    assert t.loc["B", "sole_buyers"] == pytest.approx(0.0)
    assert t.loc["C", "sole_buyers"] == pytest.approx(0.5)  # h4
    assert t.loc["A", "once_only"] == pytest.approx(0.5)  # h2 bought A once
    assert t.loc["C", "once_only"] == pytest.approx(0.5)  # h3
    assert np.isnan(t.loc["D", "scr"]) and np.isnan(t.loc["D", "purchase_frequency"])


def test_duplication_by_hand(tiny_panel):
    d = share.duplication_table(tiny_panel)
    assert d.loc["A", "B"] == pytest.approx(0.5)  # of h1, h2 only h1 bought B
    assert d.loc["B", "C"] == pytest.approx(0.5)  # of h1, h3 only h3 bought C
    assert d.loc["A", "C"] == pytest.approx(0.0)
    assert np.diag(d.loc[["A", "B", "C"], ["A", "B", "C"]]) == pytest.approx(np.ones(3))
    assert d.loc["D"].isna().all()


@pytest.mark.parametrize("name", ["tiny", "yogurt"])
def test_parfitt_collins_identity(name, tiny_panel):
    panel = tiny_panel if name == "tiny" else crmlab.load_dataset("yogurt")
    pc = share.parfitt_collins(panel)
    assert pc["product"].to_numpy() == pytest.approx(pc["market_share"].to_numpy(), abs=1e-12)
    assert pc["market_share"].sum() == pytest.approx(1.0)
    if name == "tiny":
        # A: penetration share 0.5, SCR 0.75, BLI (4/2)/(10/4) = 0.8 -> 0.3
        assert pc.loc["A", "buying_level_index"] == pytest.approx(0.8)
        assert pc.loc["D", "product"] == 0.0


def test_panel_errors(tiny_panel):
    one = tiny_panel.assign(brand="A")
    with pytest.raises(DataError, match="at least two brands"):
        share.brand_performance(one)
    with pytest.raises(DataError, match="no column 'brand'"):
        share.purchase_counts(tiny_panel.drop(columns="brand"))
    holes = tiny_panel.copy()
    holes.loc[3, "household_id"] = None
    with pytest.raises(DataError, match="1 missing value"):
        share.purchase_counts(holes)


def test_bundled_panels_one_unit_per_row():
    panel = crmlab.load_dataset("catsup")
    counts = share.purchase_counts(panel)
    assert counts.to_numpy().sum() == len(panel)
    assert len(counts) == panel["household_id"].nunique()


# --- share of wallet ---------------------------------------------------------


def test_share_of_wallet_and_summary():
    frame = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4],
            "spend": [10.0, 0.0, 50.0, 80.0],
            "wallet": [100, 50, 50, 100],
        }
    )
    out = share.share_of_wallet(frame)
    assert out.share_of_wallet.tolist() == pytest.approx([0.1, 0.0, 1.0, 0.8])
    summary = share.share_of_wallet_summary(out)
    assert summary.loc["all customers", "mean"] == pytest.approx(0.475)
    assert summary.loc["all customers", "sole"] == pytest.approx(0.25)
    assert summary.loc["all customers", "below_10pct"] == pytest.approx(0.25)
    assert summary.loc["all customers", "at_least_50pct"] == pytest.approx(0.5)


def test_share_of_wallet_errors_name_customers():
    frame = pd.DataFrame(
        {"customer_id": ["a", "b", "c"], "spend": [10.0, 120.0, 60.0], "wallet": [100, 100, 50]}
    )
    with pytest.raises(DataError, match=r"2 row\(s\).*'b', 'c'"):
        share.share_of_wallet(frame)
    with pytest.raises(DataError, match="'spend' has 1 missing, negative"):
        share.share_of_wallet(frame.assign(spend=[-1.0, 0.0, 0.0]))
    with pytest.raises(DataError, match="'wallet'"):
        share.share_of_wallet(frame.assign(spend=0.0, wallet=[0, 1, 1]))


# --- Wallet Allocation Rule --------------------------------------------------


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (1, [1.0]),
        (2, [2 / 3, 1 / 3]),
        (3, [0.5, 1 / 3, 1 / 6]),
        (4, [0.4, 0.3, 0.2, 0.1]),
        (5, [1 / 3, 4 / 15, 0.2, 2 / 15, 1 / 15]),
    ],
)
def test_wallet_allocation_rule_values(n, expected):
    ranks = np.arange(1, n + 1)
    got = share.wallet_allocation_rule(ranks, np.full(n, n))
    assert got == pytest.approx(expected)
    assert got.sum() == pytest.approx(1.0)


def test_wallet_allocation_rule_ties_and_errors():
    frame = pd.DataFrame({"customer_id": [1, 1, 1], "satisfaction": [9, 9, 5]})
    ranked = share.within_customer_ranks(frame, "satisfaction")
    assert ranked["rank"].tolist() == [1.5, 1.5, 3.0]
    got = share.wallet_allocation_rule(ranked["rank"], ranked["n_used"])
    assert got == pytest.approx([5 / 12, 5 / 12, 1 / 6])
    assert got.sum() == pytest.approx(1.0)
    with pytest.raises(DataError, match="outside 1..N"):
        share.wallet_allocation_rule([1, 4], [3, 3])
    with pytest.raises(DataError, match="outside 1..N"):
        share.wallet_allocation_rule([0], [2])
    with pytest.raises(DataError, match="n_used"):
        share.wallet_allocation_rule([1], [0])


def test_wallet_rule_evaluation_on_rule_generated_shares(rng):
    n_customers = 200
    n_used = rng.integers(1, 5, n_customers)
    customer = np.repeat(np.arange(n_customers), n_used)
    rank = np.concatenate([rng.permutation(k) + 1 for k in n_used])
    n_rep = np.repeat(n_used, n_used)
    actual = share.wallet_allocation_rule(rank, n_rep)
    satisfaction = 10 - rank + rng.normal(0, 0.01, rank.size)  # rank order by satisfaction
    frame = pd.DataFrame(
        {"customer_id": customer, "share": actual, "satisfaction": satisfaction, "rank": rank}
    )
    preds, scores = share.wallet_rule_evaluation(frame)
    assert scores.loc["war", "correlation"] == pytest.approx(1.0)
    assert scores.loc["war", "mae"] == pytest.approx(0.0, abs=1e-12)
    assert scores.loc["war", "sums_to_one"]
    assert scores.loc["satisfaction_share", "sums_to_one"]
    assert scores.loc["satisfaction_share", "mae"] > 0.05
    # without a rank column, ranks come from satisfaction and give the same answer
    _, scores2 = share.wallet_rule_evaluation(frame, rank=None)
    assert scores2.loc["war", "mae"] == pytest.approx(0.0, abs=1e-12)
    assert len(preds) == len(frame)


def test_market_vs_customer_share_leader_and_best_wallets():
    # Firm X serves many small customers fully; firm Y holds a slice of the big ones.
    small = pd.DataFrame({"customer_id": np.arange(8), "firm": "X", "spend": 10.0, "wallet": 10.0})
    big_y = pd.DataFrame({"customer_id": [100, 101], "firm": "Y", "spend": 30.0, "wallet": 100.0})
    big_z = pd.DataFrame({"customer_id": [100, 101], "firm": "Z", "spend": 70.0, "wallet": 100.0})
    frame = pd.concat([small, big_y, big_z], ignore_index=True)
    table = share.market_vs_customer_share(frame, best_share=0.2)
    # total wallets 80 + 200 = 280
    assert table.loc["X", "market_share"] == pytest.approx(80 / 280)
    assert table.loc["Z", "market_share"] == pytest.approx(140 / 280)
    assert table.loc["X", "share_of_best_wallets"] == pytest.approx(0.0)
    assert table.loc["Y", "share_of_best_wallets"] == pytest.approx(0.3)
    assert table.loc["X", "sow_of_its_customers"] == pytest.approx(1.0)
    assert table.loc["X", "market_rank"] == 2 and table.loc["Y", "market_rank"] == 3
    assert table.loc["X", "best_wallet_rank"] == 3
    with pytest.raises(DataError, match="differs between rows"):
        share.market_vs_customer_share(frame.assign(wallet=np.arange(len(frame)) + 100.0))


# --- simulated wallet and plots -----------------------------------------------


def test_sow_of_its_best_customers_by_hand():
    frame = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4, 5],
            "firm": "X",
            "spend": [10.0, 20.0, 30.0, 40.0, 50.0],
            "wallet": [10.0, 20.0, 60.0, 80.0, 200.0],
        }
    )
    table = share.market_vs_customer_share(frame, best_share=0.2)
    # its top 20% by spend: customer 5 -> 50 / 200
    assert table.loc["X", "sow_of_its_best_customers"] == pytest.approx(0.25)
    assert table.loc["X", "market_share"] == pytest.approx(150 / 370)


def test_share_plots_draw(tiny_panel):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from crmlab import plots, simulate

    bench = share.dirichlet_benchmark(crmlab.load_dataset("yogurt"))
    assert plots.share.double_jeopardy(bench).get_xlabel().startswith("Penetration")
    assert plots.share.loyalty_deviation(bench).get_xlabel().startswith("Observed")
    assert plots.share.duplication_heatmap(share.duplication_table(tiny_panel)).get_ylabel()
    w = share.share_of_wallet(simulate.wallet(200, 3, seed=1).spend)
    assert plots.share.share_of_wallet_distribution(w).get_ylabel()
    preds, _ = share.wallet_rule_evaluation(w, share="share_of_wallet")
    assert len(plots.share.wallet_rule_scatter(preds).axes) == 2
    assert plots.share.market_vs_best_wallets(share.market_vs_customer_share(w)).get_title()
    plt.close("all")
