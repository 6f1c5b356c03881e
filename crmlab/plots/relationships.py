"""Plots of relationship breadth, cross-buying, defection reasons,
delivered value, recommendations and data quality.
"""

from __future__ import annotations
