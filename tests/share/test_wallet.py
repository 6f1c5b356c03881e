"""Share of wallet, the Wallet Allocation Rule and market versus customer share
(crmlab/share/wallet.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmlab import share
from crmlab.errors import DataError


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
