"""Plots of market share vs customer share, share of wallet,
Dirichlet benchmarks and double jeopardy.
"""

from __future__ import annotations
