"""The logs the engine tests share: random purchases, faulty logs, returns and duplicates,
and the comparison of two summaries."""

from __future__ import annotations

import numpy as np
import pandas as pd


def make_log(seed: int = 0, n: int = 3000, customers: int = 250) -> pd.DataFrame:
    """Random purchases at random hours (several a day for some customers)."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2020-01-01")
    return pd.DataFrame(
        {
            "customer_id": rng.integers(0, customers, n),
            "date": start + pd.to_timedelta(rng.integers(0, 200 * 24, n), unit="h"),
            "amount": rng.gamma(2.0, 10.0, n).round(2),
        }
    )


def assert_same(got: pd.DataFrame, ref: pd.DataFrame) -> None:
    assert list(got.columns) == list(ref.columns)
    assert list(got.index) == list(ref.index)
    for col in ref.columns:
        if col == "first_purchase":
            assert (got[col].to_numpy() == ref[col].to_numpy()).all()
        else:
            np.testing.assert_allclose(got[col].to_numpy(float), ref[col].to_numpy(), rtol=1e-9)
    for key in ("time_unit", "calibration_end", "observation_end", "excluded"):
        assert got.attrs[key] == ref.attrs[key], key


TODAY = pd.Timestamp("2024-06-30")


def base(n: int = 12) -> pd.DataFrame:
    """A clean log: 4 customers, a purchase a day, positive amounts."""
    return pd.DataFrame(
        {
            "customer_id": [f"C{i % 4}" for i in range(n)],
            "date": pd.date_range("2024-01-01", periods=n, freq="D"),
            "amount": np.linspace(5.0, 60.0, n),
        }
    )


def broken(case: str) -> pd.DataFrame:
    """A log with two faulty rows (rows 5 and 9, counting from 1) of one kind."""
    frame = base()
    bad = [4, 8]
    if case == "missing id":
        frame["customer_id"] = frame["customer_id"].astype(object)
        frame.loc[bad, "customer_id"] = [None, "   "]
    elif case == "text date":
        frame["date"] = frame["date"].dt.strftime("%Y-%m-%d").astype(object)
        frame.loc[bad, "date"] = ["2024-13-01", "2024-02-30"]
    elif case == "missing date":
        frame.loc[bad, "date"] = pd.NaT
    elif case == "date before 1900":
        frame.loc[bad, "date"] = pd.Timestamp("1850-03-01")
    elif case == "future date":
        frame.loc[bad, "date"] = pd.Timestamp("2030-01-01")
    elif case == "missing amount":
        frame.loc[bad, "amount"] = np.nan
    elif case == "infinite amount":
        frame.loc[bad, "amount"] = [np.inf, -np.inf]
    elif case == "huge amount":
        frame.loc[bad, "amount"] = [2e12, -5e13]
    else:  # pragma: no cover - the cases are listed below
        raise AssertionError(case)
    return frame


def policies_log() -> pd.DataFrame:
    """Duplicates, returns netting to zero, partial returns and a return on its own day."""
    frame = base(20)
    extra = pd.DataFrame(
        {
            "customer_id": ["C1", "C1", "C2", "C2", "C3", "C0", "C0"],
            "date": pd.to_datetime(
                [
                    "2024-01-02",  # exact duplicate of row 2
                    "2024-01-02",  # and again
                    "2024-01-03",
                    "2024-01-07",  # -> C2's purchase of 2024-01-07 fully returned
                    "2024-01-08",  # partial return of C3's 2024-01-08 purchase
                    "2024-01-25",  # a return on a day without a purchase
                    "2024-01-25",
                ]
            ),
            "amount": [
                frame.loc[1, "amount"],
                frame.loc[1, "amount"],
                4.0,
                -frame.loc[6, "amount"],
                -3.0,
                -7.5,
                -7.5,
            ],
        }
    )
    return pd.concat([frame, extra], ignore_index=True)
