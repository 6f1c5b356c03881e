"""Plots of customer pyramid, tier migration, RFM segments, MVC/MGC/BZ, whale curve."""

from __future__ import annotations
