"""Plots of loyalty versus profit: lifetime-profit quadrants, segment bars, sensitivity."""

from __future__ import annotations
