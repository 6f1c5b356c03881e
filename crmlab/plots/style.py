"""crmlab's plot style, applied by ``reports.setup()``."""

from __future__ import annotations

import matplotlib as mpl
import seaborn as sns

PALETTE = "colorblind"


def use_style() -> None:
    """crmlab's plot style: white grid, readable fonts, colour-blind palette."""
    sns.set_theme(style="whitegrid", palette=PALETTE, context="notebook")
    mpl.rcParams.update(
        {
            "figure.figsize": (8, 4.5),
            "figure.dpi": 100,
            "savefig.dpi": 150,
            "axes.titlesize": 13,
            "axes.titleweight": "bold",
            "axes.labelsize": 11,
            "legend.frameon": False,
            "figure.autolayout": True,
        }
    )
