"""Validation in the engine: every check of validate_transactions, as queries, with the same
DataError (count, first offending row, value, fix) and the same policies and data report."""

from __future__ import annotations

import sqlite3

import numpy as np
import pandas as pd
import pytest
from engine_cases import TODAY, base, broken, policies_log

import crmlab
from crmlab.errors import DataError

CASES = [
    ("missing id", "2 missing or blank values, first at row 5"),
    ("text date", "2 values that are not dates, first at row 5: '2024-13-01'"),
    ("missing date", "2 missing dates, first at row 5"),
    ("date before 1900", "2 dates before 1900, first at row 5: '1850-03-01'"),
    ("future date", "2 dates in the future (after 2024-06-30), first at row 5"),
    ("missing amount", "2 missing values, first at row 5"),
    ("infinite amount", "2 values that are not finite numbers, first at row 5: inf"),
    ("huge amount", "2 implausible values (beyond +-1e12), first at row 5: 2000000000000.0"),
]


@pytest.mark.parametrize("case, expected", CASES, ids=[c for c, _ in CASES])
def test_same_error_as_pandas(tmp_path, case, expected):
    frame = broken(case)
    with pytest.raises(DataError) as ref:
        crmlab.validate_transactions(frame, today=TODAY)
    path = tmp_path / "orders.parquet"
    frame.to_parquet(path)
    with pytest.raises(DataError) as got:
        crmlab.rfm_summary(str(path), today=TODAY)
    assert expected in str(ref.value)
    assert str(got.value) == str(ref.value)


@pytest.mark.parametrize("case", ["missing id", "text date", "missing date", "missing amount"])
def test_same_error_in_sqlite(tmp_path, case):
    frame = broken(case)
    path = tmp_path / "orders.db"
    stored = frame.assign(date=frame["date"].astype(str).where(frame["date"].notna(), None))
    with sqlite3.connect(path) as con:
        stored.to_sql("orders", con, index=False)
    with pytest.raises(DataError) as ref:
        crmlab.read_transactions(f"sqlite:///{path}", table="orders")
    with pytest.raises(DataError) as got:
        crmlab.rfm_summary(f"sqlite:///{path}", table="orders")
    assert str(got.value) == str(ref.value)


def test_user_column_names_in_messages(tmp_path):
    frame = broken("missing amount").rename(columns={"amount": "Revenue"})
    frame.to_parquet(tmp_path / "x.parquet")
    with pytest.raises(DataError, match=r"column 'Revenue' \(mapped to amount\) has 2 missing"):
        crmlab.rfm_summary(str(tmp_path / "x.parquet"), amount="Revenue", today=TODAY)


def test_large_amounts_allowed_on_request(tmp_path):
    frame = broken("huge amount")
    frame.to_parquet(tmp_path / "x.parquet")
    got = crmlab.rfm_summary(str(tmp_path / "x.parquet"), today=TODAY, allow_large_amounts=True)
    ref = crmlab.rfm_summary(
        crmlab.validate_transactions(frame, today=TODAY, allow_large_amounts=True)
    )
    np.testing.assert_allclose(got["monetary_value"], ref["monetary_value"], rtol=1e-12)


@pytest.mark.parametrize("returns", ["keep", "drop", "net"])
@pytest.mark.parametrize("duplicates", ["keep", "drop"])
def test_policies_equal_pandas(tmp_path, returns, duplicates):
    frame = policies_log()
    path = tmp_path / "x.parquet"
    frame.to_parquet(path)
    clean = crmlab.validate_transactions(frame, returns=returns, duplicates=duplicates, today=TODAY)
    ref = crmlab.rfm_summary(clean, calibration_end="2024-01-15")
    got = crmlab.rfm_summary(
        str(path),
        returns=returns,
        duplicates=duplicates,
        today=TODAY,
        calibration_end="2024-01-15",
    )
    pd.testing.assert_frame_equal(got, ref, check_exact=False, rtol=1e-12, check_index_type=False)
    report, expected = got.attrs["data_report"], clean.attrs["data_report"]
    assert report["excluded"] == expected["excluded"]
    assert report["rows_out"] == expected["rows_out"] == len(clean)
    for note in expected["notes"]:
        assert note in report["notes"]
    assert any("rows dated after calibration_end 2024-01-15" in n for n in report["notes"])


def test_nothing_dropped_silently_rows_after_the_window_are_counted(tmp_path):
    frame = base(30)
    frame.to_parquet(tmp_path / "x.parquet")
    got = crmlab.rfm_summary(
        str(tmp_path / "x.parquet"), calibration_end="2024-01-10", observation_end="2024-01-20"
    )
    after = (frame["date"] > "2024-01-20").sum()
    assert f"{after:,} rows dated after observation_end 2024-01-20" in " ".join(
        got.attrs["data_report"]["notes"]
    )


def test_text_dates_with_a_format(tmp_path):
    frame = base()
    ref = crmlab.rfm_summary(frame)
    frame["date"] = frame["date"].dt.strftime("%d/%m/%Y")
    frame.to_csv(tmp_path / "x.csv", index=False)
    got = crmlab.rfm_summary(str(tmp_path / "x.csv"), date_format="%d/%m/%Y")
    pd.testing.assert_frame_equal(got, ref, check_exact=False, rtol=1e-12, check_index_type=False)
    with pytest.raises(
        DataError, match="12 values that are not dates, first at row 1: '01/01/2024'"
    ):
        crmlab.rfm_summary(str(tmp_path / "x.csv"))
