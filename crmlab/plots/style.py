"""crmlab's plot style, applied by ``reports.setup()``."""

from __future__ import annotations

import matplotlib as mpl
import seaborn as sns
from cycler import cycler

PALETTE = "colorblind"
#: Line styles paired with the palette's colours, so lines stay apart in greyscale print.
LINE_STYLES = ["-", "--", ":", "-.", (0, (5, 1)), (0, (3, 1, 1, 1)), (0, (1, 1)), (0, (5, 5))]


def use_style() -> None:
    """crmlab's plot style: white grid, readable fonts, a colour-blind palette whose lines
    also differ in dash pattern (readable in greyscale)."""
    sns.set_theme(style="whitegrid", palette=PALETTE, context="notebook")
    colours = sns.color_palette(PALETTE, len(LINE_STYLES)).as_hex()
    mpl.rcParams["axes.prop_cycle"] = cycler(color=colours) + cycler(linestyle=LINE_STYLES)
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
