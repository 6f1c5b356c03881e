"""diagnostics.tracking returns the calibration boundary, period dates and the holdout flag."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import crmlab
from crmlab.models import BGNBD
from crmlab.models.diagnostics import tracking


@pytest.fixture(scope="module")
def sample():
    tx = crmlab.load_dataset("cdnow_sample")
    summary = crmlab.rfm_summary(
        tx, calibration_end="1997-09-30", observation_end="1998-06-30", time_unit="W"
    )
    return tx, summary, BGNBD().fit(summary)


def test_tracking_records_the_calibration_boundary(sample):
    tx, summary, fit = sample
    track = tracking(
        fit, tx, summary=summary, calibration_end="1997-09-30", observation_end="1998-06-30"
    )
    # CDNOW: 1 January to 30 September 1997 is 273 days = 39 weeks, the FHL (2005) split
    assert track.attrs["calibration_end"] == pytest.approx(39.0)
    assert track.attrs["calibration_end_date"] == pd.Timestamp("1997-09-30")
    assert track["date"].iloc[0] == pd.Timestamp("1997-01-01")
    assert track["date"].iloc[39] == pd.Timestamp("1997-10-01")
    assert not track["holdout"].iloc[:39].any() and track["holdout"].iloc[39:].all()
    # repeat purchases before the boundary are the calibration repeats of the summary
    assert track.loc[~track["holdout"], "actual"].sum() == summary["frequency"].sum()
    assert track.loc[track["holdout"], "actual"].sum() == summary["frequency_holdout"].sum()


def test_tracking_boundary_in_days_and_refuses_reversed_dates(sample):
    tx, _, _ = sample
    daily = crmlab.rfm_summary(
        tx, calibration_end="1997-03-31", observation_end="1997-05-31", time_unit="D"
    )
    fit = BGNBD().fit(daily)
    track = tracking(
        fit, tx, summary=daily, calibration_end="1997-03-31", observation_end="1997-05-31"
    )
    assert track.attrs["calibration_end"] == pytest.approx(90.0)  # Jan 31 + Feb 28 + Mar 31
    assert int(track["holdout"].sum()) == 61  # April and May
    np.testing.assert_allclose(np.diff(track["period"]), 1.0)
    with pytest.raises(crmlab.DataError, match="calibration_end"):
        tracking(fit, tx, summary=daily, calibration_end="1997-06-30", observation_end="1997-05-31")
