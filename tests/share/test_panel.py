"""Purchase-panel measures (crmlab/share/panel.py): hand-computed panels and the
Parfitt-Collins identity."""

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
