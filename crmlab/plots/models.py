"""Plots of model fit: frequency fit, tracking, conditional expectations,
P(alive) and CLV heatmaps and distributions.
"""

from __future__ import annotations
