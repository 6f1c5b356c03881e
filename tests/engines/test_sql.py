"""The queries of crmlab.engines.sql: the fast forms for typed engines (dates, ARG_MIN, one
timestamp comparison) give what the portable forms give, and the duplicate count restricted
to customers with several rows on a day is the exact count of a brute-force reference."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest
from engine_cases import TODAY, make_log, policies_log

import crmlab
from crmlab.engines import sql as q

COLS = q.Columns("customer_id", "date", "amount")


def run(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame, sql: str) -> pd.DataFrame:
    con.register("orders", frame)
    return con.sql(q.with_source(sql, "SELECT * FROM orders")).df()


def with_duplicates(seed: int) -> pd.DataFrame:
    """A random log with same-day rows of three kinds: exact repeats, the same time with
    another amount, and the same amount at another hour."""
    rng = np.random.default_rng(seed)
    log = make_log(seed, n=2000, customers=150)
    picked = log.sample(300, random_state=seed)
    repeats = picked.iloc[:120]
    other_amount = picked.iloc[120:210].assign(amount=lambda f: f["amount"] + 1.25)
    other_hour = picked.iloc[210:].assign(
        date=lambda f: f["date"] + pd.to_timedelta(rng.integers(1, 3, len(f)), unit="h")
    )
    twice = repeats.iloc[:40]  # some rows three times
    return pd.concat([log, repeats, twice, other_amount, other_hour], ignore_index=True)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_duplicates_among_shared_customers_is_the_exact_count(seed):
    frame = with_duplicates(seed)
    exact = int(frame.duplicated(["customer_id", "date", "amount"]).sum())
    assert exact >= 160  # 120 repeats and 40 third copies, plus chance repeats
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    rows = q.clean(COLS, "keep", "keep", False)
    cal, obs = 18_400, 18_400
    full = run(con, frame, q.duplicates_query(COLS))["duplicates"].iloc[0]
    assert int(full) == exact
    days = frame.assign(day=frame["date"].dt.floor("D"))
    for typed in (True, False):
        kept = run(con, frame, q.customers(rows, cal, obs, typed=typed, count_rows=True))
        con.register("cust", kept)
        on_day = days.groupby(["customer_id", "day"]).size()
        first = on_day[on_day > 1].reset_index().groupby("customer_id")["day"].min()
        first_days = (first - pd.Timestamp("1970-01-01")).dt.days
        got_first = kept.set_index("customer_id")["shared_from"].dropna().sort_index()
        assert got_first.index.tolist() == first_days.sort_index().index.tolist()
        assert got_first.astype("int64").tolist() == first_days.sort_index().tolist()
        got = run(con, frame, q.duplicates_among(COLS, "cust"))["duplicates"].iloc[0]
        assert int(got) == exact


@pytest.mark.parametrize("seed", [1, 2])
def test_summary_reports_the_duplicates_as_pandas_does(tmp_path, seed):
    frame = with_duplicates(seed)
    path = tmp_path / "orders.parquet"
    frame.to_parquet(path)
    for duplicates in ("keep", "drop"):
        clean = crmlab.validate_transactions(frame, duplicates=duplicates, today=TODAY)
        ref = crmlab.rfm_summary(clean, calibration_end="2020-05-01")
        got = crmlab.rfm_summary(
            str(path), duplicates=duplicates, today=TODAY, calibration_end="2020-05-01"
        )
        pd.testing.assert_frame_equal(
            got, ref, check_exact=False, rtol=1e-9, check_index_type=False
        )
        report, expected = got.attrs["data_report"], clean.attrs["data_report"]
        assert report["excluded"] == expected["excluded"]
        assert [n for n in report["notes"] if n in expected["notes"]] == expected["notes"]


def test_no_shared_days_means_no_duplicate_query(tmp_path):
    frame = policies_log().drop_duplicates(["customer_id", "date"])
    frame = frame[frame["amount"] > 0]
    frame.to_parquet(tmp_path / "x.parquet")
    got = crmlab.rfm_summary(str(tmp_path / "x.parquet"), today=TODAY)
    assert not any("duplicate" in n for n in got.attrs["data_report"]["notes"])


def test_duplicate_note_keeps_its_place_among_the_notes(tmp_path):
    frame = policies_log()  # duplicates, returns, rows after calibration_end
    frame.to_parquet(tmp_path / "x.parquet")
    clean = crmlab.validate_transactions(frame, today=TODAY)
    got = crmlab.rfm_summary(str(tmp_path / "x.parquet"), today=TODAY, calibration_end="2024-01-15")
    notes = got.attrs["data_report"]["notes"]
    assert [n for n in notes if n in clean.attrs["data_report"]["notes"]] == clean.attrs[
        "data_report"
    ]["notes"]
    dup = next(i for i, n in enumerate(notes) if "exact duplicate rows kept" in n)
    assert notes[dup].startswith("3 ")  # two copies of a purchase, a return entered twice
    assert dup < next(i for i, n in enumerate(notes) if "negative amounts" in n)


@pytest.mark.parametrize("cal, obs", [(18_300, 18_300), (18_300, 18_360), (18_262, 18_450)])
def test_typed_customers_query_equals_the_portable_one(cal, obs):
    frame = make_log(7, n=4000, customers=300)  # several purchases a day, at any hour
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    rows = q.clean(COLS, "keep", "keep", False)
    fast = run(con, frame, q.customers(rows, cal, obs, typed=True, count_rows=True))
    slow = run(con, frame, q.customers(rows, cal, obs, count_rows=True))
    fast, slow = (f.set_index("customer_id").sort_index() for f in (fast, slow))
    kept = slow["first_day"] <= cal  # the summary keeps these (the others' repeat value is unused)
    assert kept.any() and (~kept).any()
    for col in ("first_day", "n_cal", "n_hold", "shared_from"):
        assert fast[col].astype(float).equals(slow[col].astype(float)), col
    assert fast["shared_from"].notna().any() and fast["shared_from"].isna().any()
    assert fast.loc[kept, "last_day"].astype(float).equals(slow.loc[kept, "last_day"].astype(float))
    np.testing.assert_allclose(
        fast.loc[kept, "repeat_value"].astype(float),
        slow.loc[kept, "repeat_value"].astype(float),
        rtol=1e-12,
        atol=1e-9,
    )


def test_repeat_value_by_subtraction_keeps_nine_digits():
    """A first order 10,000 times the repeats (5,000 then 0.01, 0.02 ...): the repeat value,
    calibration total less the first occasion, still agrees with the direct sum to 1e-9."""
    days = pd.date_range("2024-01-01", periods=6, freq="D")
    frame = pd.DataFrame(
        {
            "customer_id": [1] * 6 + [2] * 6,
            "date": list(days) * 2,
            "amount": [5000.0, 0.01, 0.02, 0.03, 0.05, 0.07] + [123456.78, 0.5, 0.25, 0.1, 9, 3],
        }
    )
    con = duckdb.connect()
    got = run(
        con, frame, q.customers(q.clean(COLS, "keep", "keep", False), 19_800, 19_800, typed=True)
    )
    got = got.set_index("customer_id").sort_index()
    direct = frame.groupby("customer_id")["amount"].apply(lambda a: a.iloc[1:].sum())
    np.testing.assert_allclose(got["repeat_value"].to_numpy(), direct.to_numpy(), rtol=1e-9)


def test_typed_checks_count_as_the_portable_ones():
    """Rows after the window by one timestamp comparison, first and last day from MIN/MAX(ts):
    the same as a day per row, also for times just before and at midnight."""
    frame = make_log(3)
    edge = pd.to_datetime(
        ["2020-03-01 23:59:59.999999", "2020-03-02", "2019-12-31 23:00"], format="ISO8601"
    )
    frame = pd.concat(
        [frame, pd.DataFrame({"customer_id": [1, 2, 3], "date": edge, "amount": [1.0, -2.0, 3.0]})],
        ignore_index=True,
    )
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    after = (pd.Timestamp("2020-03-01") - pd.Timestamp("1970-01-01")).days
    stamp = "2024-06-30 00:00:00.000000"
    fast = run(con, frame, q.checks_query(COLS, stamp, after, typed=True)).iloc[0]
    slow = run(con, frame, q.checks_query(COLS, stamp, after)).iloc[0]
    assert fast.to_dict() == slow.to_dict()
    assert fast["after_end"] == (frame["date"] >= "2020-03-02").sum()
    assert fast["first_day"] == after - 61 and fast["negative"] == 1
