"""Fixtures shared by the model tests."""

from __future__ import annotations

import pandas as pd
import pytest

import crmlab


@pytest.fixture(scope="module")
def summary() -> pd.DataFrame:
    """The CDNOW sample (2,357 customers) in weeks: 39-week calibration to 1997-09-30,
    holdout to 1998-06-30 - the data of Fader, Hardie & Lee (2005) and most tables."""
    tx = crmlab.load_dataset("cdnow_sample")
    return crmlab.rfm_summary(
        tx, calibration_end="1997-09-30", observation_end="1998-06-30", time_unit="W"
    )
