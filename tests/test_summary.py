"""rfm_summary against a brute-force per-customer reference and the CDNOW sample counts."""

import numpy as np
import pandas as pd
import pytest

import crmlab


def _brute(tx: pd.DataFrame, cal: pd.Timestamp, obs: pd.Timestamp) -> pd.DataFrame:
    rows = {}
    for cid, g in tx.groupby("customer_id"):
        days = g.groupby(g["date"].dt.normalize())["amount"].sum().sort_index()
        first = days.index[0]
        if first > cal:
            continue
        cal_days = days[days.index <= cal]
        rep = cal_days.iloc[1:]
        rows[cid] = {
            "frequency": float(len(rep)),
            "recency": (rep.index[-1] - first).days / 7 if len(rep) else 0.0,
            "T": (cal - first).days / 7,
            "monetary_value": float(rep.mean()) if len(rep) else 0.0,
            "frequency_holdout": float(((days.index > cal) & (days.index <= obs)).sum()),
        }
    return pd.DataFrame.from_dict(rows, orient="index").sort_index()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    n = 400
    dates = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 60, n), unit="D")
    tx = pd.DataFrame(
        {
            "customer_id": rng.integers(0, 40, n),
            "date": dates,
            "amount": rng.gamma(2.0, 10.0, n).round(2),
        }
    )
    cal, obs = pd.Timestamp("2020-02-01"), pd.Timestamp("2020-02-20")
    got = crmlab.rfm_summary(tx, calibration_end=cal, observation_end=obs).sort_index()
    ref = _brute(tx, cal, obs)
    assert list(got.index) == list(ref.index)
    for col in ref.columns:
        np.testing.assert_allclose(got[col].to_numpy(float), ref[col].to_numpy(), rtol=1e-9)
    assert got.attrs["time_unit"] == "W"


@pytest.mark.parametrize("path", ["sort", "day by day"])
@pytest.mark.parametrize("order", ["date", "shuffled", "customer", "customer only"])
@pytest.mark.parametrize(
    "cal, obs",
    [
        ("2020-02-01", "2020-02-20"),  # both inside the log
        ("2020-02-20", "2020-06-30"),  # the holdout runs past the last transaction
        ("2020-01-01", "2020-03-05"),  # calibration is the first day alone
    ],
)
@pytest.mark.filterwarnings("ignore::crmlab.summary.HoldoutWarning")  # windows past the data
def test_every_path_matches_brute_force(monkeypatch, path, order, cal, obs):
    """Large logs go day by day (date order as it is, others radix-sorted by day), small
    ones and customer-day-ordered ones through one key sort: all equal the reference."""
    monkeypatch.setattr(crmlab.summary, "MIN_ROWS_PER_DAY", 1 if path == "day by day" else 10**9)
    rng = np.random.default_rng(7)
    n = 900
    stamps = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 60 * 86400, n), "s")
    tx = pd.DataFrame(
        {
            "customer_id": rng.integers(0, 70, n) * 3 + 5,
            "date": stamps,
            "amount": rng.gamma(2.0, 10.0, n).round(2),
        }
    )
    tx = {
        "date": tx.sort_values("date"),
        "shuffled": tx,
        "customer": tx.sort_values(["customer_id", "date"]),
        "customer only": tx.sort_values("customer_id", kind="stable"),  # dates unsorted
    }[order]
    cal, obs = pd.Timestamp(cal), pd.Timestamp(obs)
    got = crmlab.rfm_summary(tx, calibration_end=cal, observation_end=obs)
    ref = _brute(tx, cal, obs)
    assert list(got.index) == list(ref.index)
    for col in ref.columns:
        np.testing.assert_allclose(got[col].to_numpy(float), ref[col].to_numpy(), rtol=1e-9)
    first = tx.groupby("customer_id")["date"].min().dt.normalize()
    assert (got["first_purchase"] == first.loc[got.index]).all()
    assert got.attrs["excluded"]["first purchase after calibration_end"] == (first > cal).sum()


def test_calibration_end_after_the_log():
    """T runs to calibration_end even when nobody bought on its last days."""
    tx = _small_log(4)
    last = tx["date"].max()
    s = crmlab.rfm_summary(tx, calibration_end=last + pd.Timedelta(days=14), time_unit="D")
    at_last = crmlab.rfm_summary(tx, calibration_end=last, time_unit="D")
    np.testing.assert_array_equal(s["T"], at_last["T"] + 14)
    pd.testing.assert_frame_equal(s.drop(columns="T"), at_last.drop(columns="T"))


def test_cdnow_sample_counts():
    s = crmlab.rfm_summary(
        crmlab.load_dataset("cdnow_sample"),
        calibration_end="1997-09-30",
        observation_end="1998-06-30",
    )
    # Fader, Hardie & Lee (2005): 2,357 customers; BTYD's cdnowSummary: 2,457 repeat
    # purchases in weeks 1-39 and 1,882 in the holdout weeks 40-78.
    assert len(s) == 2357
    assert (s["frequency"] > 0).sum() == 946
    assert s["frequency"].sum() == 2457
    assert s["frequency_holdout"].sum() == 1882


def test_bad_calibration_end():
    tx = crmlab.load_dataset("cdnow_sample")
    with pytest.raises(crmlab.DataError):
        crmlab.rfm_summary(tx, calibration_end="1990-01-01")


def _small_log(seed: int = 0, n: int = 600) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "customer_id": rng.integers(0, 60, n),
            "date": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 90, n), "D"),
            "amount": rng.gamma(2.0, 10.0, n).round(2),
        }
    )


def test_row_order_and_id_type_do_not_matter():
    """Customer-day, day-customer and shuffled logs take different paths to one answer."""
    tx = _small_log()
    args = {"calibration_end": "2020-02-15", "observation_end": "2020-03-30"}
    ref = crmlab.rfm_summary(tx, **args)
    orders = [
        tx.sort_values(["customer_id", "date"]),
        tx.sort_values(["date", "customer_id"]),
        tx.sample(frac=1, random_state=3),
    ]
    for frame in orders:
        pd.testing.assert_frame_equal(crmlab.rfm_summary(frame, **args), ref, rtol=1e-12)
    # string ids and a sparse integer range give the same rows
    named = crmlab.rfm_summary(tx.assign(customer_id="C" + tx["customer_id"].astype(str)), **args)
    assert named["frequency"].sum() == ref["frequency"].sum() and len(named) == len(ref)
    sparse = crmlab.rfm_summary(tx.assign(customer_id=tx["customer_id"] * 10**12), **args)
    np.testing.assert_array_equal(sparse["frequency"].to_numpy(), ref["frequency"].to_numpy())


def test_days_are_weeks_times_seven():
    tx = _small_log(1)
    args = {"calibration_end": "2020-03-01", "observation_end": "2020-03-20"}
    weeks = crmlab.rfm_summary(tx, time_unit="W", **args)
    days = crmlab.rfm_summary(tx, time_unit="D", **args)
    for col in ("T", "recency", "duration_holdout"):
        np.testing.assert_allclose(days[col], weeks[col] * 7, rtol=1e-12)
    # counts and money do not depend on the unit
    cols = ["frequency", "monetary_value", "first_purchase", "frequency_holdout"]
    pd.testing.assert_frame_equal(days[cols], weeks[cols])
    assert days.attrs["time_unit"] == "D" and (days["T"] % 1 == 0).all()
    assert weeks.attrs["time_unit"] == "W" and (days["duration_holdout"] == 19).all()


def test_bad_parameters_are_named():
    tx = _small_log()
    for unit in ("M", "w", "weeks", None):
        with pytest.raises(crmlab.DataError, match=rf"time_unit={unit!r} is not known"):
            crmlab.rfm_summary(tx, time_unit=unit)
    for obs in ("2020-02-01", "2020-01-15"):
        with pytest.raises(
            crmlab.DataError,
            match=f"observation_end {obs} must be after calibration_end 2020-02-01",
        ):
            crmlab.rfm_summary(tx, calibration_end="2020-02-01", observation_end=obs)
    # observation_end is compared with the default calibration_end (the last day) too
    last = str(tx["date"].max().date())
    with pytest.raises(crmlab.DataError, match=f"must be after calibration_end {last}"):
        crmlab.rfm_summary(tx, observation_end=last)
    with pytest.raises(crmlab.DataError, match="observation_end='later' is not a date"):
        crmlab.rfm_summary(tx, observation_end="later")
    with pytest.raises(crmlab.DataError, match="cohort_start='x' is not a date"):
        crmlab.rfm_summary(tx, cohort_start="x")
    with pytest.raises(crmlab.DataError, match="calibration_end='soon' is not a date"):
        crmlab.rfm_summary(tx, calibration_end="soon")
    with pytest.raises(crmlab.DataError, match="no column 'amount'"):
        crmlab.rfm_summary(tx.drop(columns="amount"))


def test_cohort_selection_counts_who_is_left_out():
    tx = _small_log(2)
    cal = "2020-02-15"
    full = crmlab.rfm_summary(tx, calibration_end=cal)
    after = tx.groupby("customer_id")["date"].min() > pd.Timestamp(cal)
    assert full.attrs["excluded"] == {"first purchase after calibration_end": int(after.sum())}
    cohort = crmlab.rfm_summary(
        tx, calibration_end=cal, cohort_start="2020-01-01", cohort_end="2020-01-03"
    )
    first = full["first_purchase"]
    inside = (first >= "2020-01-01") & (first <= "2020-01-03")
    assert list(cohort.index) == list(full.index[inside])
    pd.testing.assert_frame_equal(cohort, full.loc[inside])
    assert cohort.attrs["excluded"]["first purchase outside the cohort window"] == (~inside).sum()
    with pytest.raises(crmlab.DataError, match="no customer made a first purchase"):
        crmlab.rfm_summary(tx, cohort_start="1999-01-01", cohort_end="1999-02-01")


@pytest.mark.parametrize(
    "start, end", [("2020-01-10", None), (None, "2020-01-05"), ("2020-01-04", "2020-01-04")]
)
def test_cohort_window_open_or_one_day(start, end):
    """An open end keeps everyone on that side; both excluded counts add up to the rest."""
    tx = _small_log(5, n=2000)
    cal = "2020-02-15"
    full = crmlab.rfm_summary(tx, calibration_end=cal, observation_end="2020-03-30")
    cohort = crmlab.rfm_summary(
        tx, calibration_end=cal, observation_end="2020-03-30", cohort_start=start, cohort_end=end
    )
    first = full["first_purchase"]
    inside = (first >= (start or "1900-01-01")) & (first <= (end or "2100-01-01"))
    assert 0 < inside.sum() < len(full)
    pd.testing.assert_frame_equal(cohort, full.loc[inside])
    excluded = cohort.attrs["excluded"]
    assert excluded["first purchase outside the cohort window"] == (~inside).sum()
    n_all = tx["customer_id"].nunique()
    assert len(cohort) + sum(excluded.values()) == n_all


def test_summary_saves_to_parquet_with_its_settings(tmp_path):
    s = crmlab.rfm_summary(_small_log(), calibration_end="2020-02-15")
    s.to_parquet(tmp_path / "s.parquet")
    back = pd.read_parquet(tmp_path / "s.parquet")
    assert back.attrs["calibration_end"] == "2020-02-15" and back.attrs["time_unit"] == "W"
    pd.testing.assert_frame_equal(back, s, check_freq=False)


def test_holdout_beyond_the_data_warns_with_the_empty_share(cdnow_sample):
    from crmlab.summary import HoldoutWarning

    with pytest.warns(HoldoutWarning, match=r"after the last transaction .*\(\d+%\) have no data"):
        out = crmlab.rfm_summary(
            cdnow_sample, calibration_end="1997-09-30", observation_end="2000-12-31"
        )
    assert "frequency_holdout" in out.columns
