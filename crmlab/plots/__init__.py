"""Pictures of crmlab results: consistent style, labelled axes with units, titles.

Plots draw what an analysis returned; they compute no number a report states.
Every function takes an optional ``ax`` and returns the matplotlib Axes (or Figure).
One submodule per topic: ``plots.models``, ``plots.share``, ``plots.segments``,
``plots.loyalty``, ``plots.relationships``.
"""

from crmlab.plots import loyalty, models, relationships, segments, share
from crmlab.plots.style import PALETTE, use_style

__all__ = ["PALETTE", "loyalty", "models", "relationships", "segments", "share", "use_style"]
