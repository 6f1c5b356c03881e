"""Customer-share pictures (crmlab/plots/share.py): they draw, say what they show, and the
brand explorer only accepts brands of the panel it draws."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

import crmlab  # noqa: E402
from crmlab import plots, share, simulate  # noqa: E402
from crmlab.errors import DataError  # noqa: E402
from crmlab.plots.alt import alt_text  # noqa: E402


@pytest.fixture(scope="module")
def yogurt():
    panel = crmlab.load_dataset("yogurt")
    yield panel, share.dirichlet_benchmark(panel)
    plt.close("all")


def test_panel_plots_draw_and_describe(yogurt):
    panel, bench = yogurt
    ax = plots.share.double_jeopardy(bench)
    assert ax.get_xlabel().startswith("Penetration")
    assert "hiland: penetration 26% observed, 10% expected" in alt_text(ax)
    ax = plots.share.loyalty_deviation(bench)
    assert ax.get_xlabel().startswith("Observed")
    assert "weight +14.5 points" in alt_text(ax)
    ax = plots.share.duplication_heatmap(share.duplication_table(panel))
    assert ax.get_ylabel() == "Buyers of" and "buyers of hiland:" in alt_text(ax)


def test_wallet_plots_draw_and_describe():
    w = share.share_of_wallet(simulate.wallet(300, 3, seed=1).spend)
    ax = plots.share.share_of_wallet_distribution(w)
    assert ax.get_legend().get_title().get_text() == "Firm"
    assert "Firm A:" in alt_text(ax) and "median" in alt_text(ax)
    preds, _ = share.wallet_rule_evaluation(w, share="share_of_wallet")
    fig = plots.share.wallet_rule_scatter(preds)
    assert len(fig.axes) == 2 and f"{len(preds):,} customer-firm pairs" in alt_text(fig)
    market = share.market_vs_customer_share(w)
    ax = plots.share.market_vs_best_wallets(market)
    assert f"Firm A: {market.loc['Firm A', 'market_share']:.1%} of all spending" in alt_text(ax)
    plt.close("all")


def test_brand_explorer_refuses_a_brand_of_another_panel(yogurt):
    panel, _ = yogurt
    scr = share.share_of_category_requirements(panel)
    ax = plots.share.brand_scr_distribution(scr, "hiland", panel="yogurt")
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert sorted(labels) == ["hiland", "other brands"]
    assert ax.get_title().endswith("of the buyers of hiland (yogurt)")
    assert "hiland: 26 customers" in alt_text(ax)
    with pytest.raises(DataError, match="brand 'skw' is not in this panel"):
        plots.share.brand_scr_distribution(scr, "skw")
    plt.close("all")
