"""The engine summary equals the pandas path on every backend: DuckDB file, Parquet glob,
CSV, SQLite through SQLAlchemy, a DuckDB relation, with holdout and cohort options; and
the summary filled batch by batch (fill_summary, what DuckDB's Plan.summary uses) equals
the frame built from the whole result, in any batch order."""

from __future__ import annotations

import sqlite3

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from engine_cases import assert_same, make_log

import crmlab
from crmlab.engines.summary import fill_summary, prepare, to_summary
from crmlab.errors import DataError

WINDOWS = [
    {},
    {"calibration_end": "2020-05-01"},
    {"calibration_end": "2020-05-01", "observation_end": "2020-06-30"},
    {
        "calibration_end": "2020-05-01",
        "observation_end": "2020-06-30",
        "cohort_start": "2020-01-10",
        "cohort_end": "2020-03-01 12:00",
    },
    {"calibration_end": "2020-01-01", "observation_end": "2020-03-05", "time_unit": "D"},
    {"cohort_start": "2020-02-01", "time_unit": "D"},
]


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    return make_log()


@pytest.fixture(scope="module")
def sources(log, tmp_path_factory) -> dict[str, dict]:
    """The same log stored in every kind of source, with the arguments that read it."""
    root = tmp_path_factory.mktemp("sources")
    parts = root / "parts"
    parts.mkdir()
    for i, rows in enumerate(np.array_split(np.arange(len(log)), 3)):
        log.iloc[rows].to_parquet(parts / f"part-{i}.parquet")
    log.to_parquet(root / "one.parquet")
    with duckdb.connect(str(root / "shop.duckdb")) as con:
        con.register("frame", log)
        con.execute("CREATE TABLE orders AS SELECT * FROM frame")
    with sqlite3.connect(root / "shop.db") as con:
        log.to_sql("orders", con, index=False)
    return {
        "parquet file": {"transactions": str(root / "one.parquet")},
        "parquet glob": {"transactions": str(parts / "*.parquet")},
        "parquet folder": {"transactions": str(parts)},
        "duckdb table": {"transactions": f"duckdb:///{root / 'shop.duckdb'}", "table": "orders"},
        "duckdb query": {
            "transactions": str(root / "shop.duckdb"),
            "query": "SELECT customer_id, date, amount FROM orders",
        },
        "sqlite via sqlalchemy": {
            "transactions": f"sqlite:///{root / 'shop.db'}",
            "table": "orders",
        },
    }


@pytest.mark.parametrize("window", WINDOWS, ids=lambda w: ",".join(w) or "defaults")
@pytest.mark.parametrize(
    "kind",
    [
        "parquet file",
        "parquet glob",
        "parquet folder",
        "duckdb table",
        "duckdb query",
        "sqlite via sqlalchemy",
    ],
)
def test_every_backend_equals_pandas(log, sources, kind, window):
    ref = crmlab.rfm_summary(log, **window)
    got = crmlab.rfm_summary(**sources[kind], **window)
    assert_same(got, ref)
    assert got.attrs["engine"] in ("duckdb", "sqlite")
    assert got.attrs["data_report"]["rows_in"] == len(log)


def test_duckdb_relation_equals_pandas(log):
    con = duckdb.connect()
    relation = con.from_df(log)
    window = WINDOWS[3]
    assert_same(crmlab.rfm_summary(relation, **window), crmlab.rfm_summary(log, **window))
    # nothing was left behind in the user's connection
    assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE NOT internal").fetchone()[0] == 0


def test_csv_ids_stay_text(tmp_path):
    log = make_log(1)
    log["customer_id"] = log["customer_id"].map(lambda i: f"{i:05d}")  # leading zeros
    path = tmp_path / "orders.csv"
    log.rename(columns={"customer_id": "Cust", "date": "When", "amount": "Value"}).to_csv(
        path, index=False
    )
    ref = crmlab.rfm_summary(
        crmlab.read_transactions(path, customer_id="Cust", date="When", amount="Value"),
        calibration_end="2020-05-01",
    )
    got = crmlab.rfm_summary(
        str(path), customer_id="Cust", date="When", amount="Value", calibration_end="2020-05-01"
    )
    assert_same(got, ref)
    assert got.index[0].startswith("0")
    assert got.attrs["data_report"]["columns"] == {
        "customer_id": "Cust",
        "date": "When",
        "amount": "Value",
    }


def test_holdout_past_the_data_warns_as_pandas(log, sources):
    window = {"calibration_end": "2020-05-01", "observation_end": "2020-12-31"}
    with pytest.warns(crmlab.summary.HoldoutWarning) as ref_warning:
        ref = crmlab.rfm_summary(log, **window)
    with pytest.warns(crmlab.summary.HoldoutWarning) as got_warning:
        got = crmlab.rfm_summary(**sources["parquet glob"], **window)
    assert str(got_warning[0].message) == str(ref_warning[0].message)
    assert_same(got, ref)


@pytest.mark.parametrize(
    "window, message",
    [
        ({"calibration_end": "2019-01-01"}, "is before the first transaction"),
        ({"calibration_end": "2020-05-01", "observation_end": "2020-04-01"}, "must be after"),
        ({"cohort_start": "2021-01-01"}, "no customer made a first purchase"),
        ({"time_unit": "M"}, "time_unit='M' is not known"),
        ({"calibration_end": "not a date"}, "is not a date"),
    ],
)
def test_window_errors_are_the_pandas_ones(log, sources, window, message):
    with pytest.raises(DataError, match=message) as ref:
        crmlab.rfm_summary(log, **window)
    with pytest.raises(DataError, match=message) as got:
        crmlab.rfm_summary(**sources["parquet file"], **window)
    assert str(got.value) == str(ref.value)


def test_patterns_count_every_customer(log, sources):
    window = {"calibration_end": "2020-05-01", "time_unit": "D"}
    full = crmlab.rfm_summary(log, **window)
    for kind in ("parquet glob", "sqlite via sqlalchemy"):
        got = crmlab.rfm_summary(**sources[kind], patterns=True, **window)
        ref = crmlab.rfm_summary(log, patterns=True, **window)
        assert list(got.columns) == ["frequency", "recency", "T", "weight"]
        pd.testing.assert_frame_equal(got, ref, check_dtype=False, check_exact=False, rtol=1e-12)
        assert got["weight"].sum() == len(full)
        # brute force: the distinct triples of the full summary and their counts
        brute = full.value_counts(["frequency", "recency", "T"]).sort_index()
        assert got.set_index(["frequency", "recency", "T"])["weight"].to_dict() == brute.to_dict()


def test_unknown_sources_and_options(log, tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        crmlab.rfm_summary(str(tmp_path / "nope.parquet"))
    with pytest.raises(DataError, match="no file matches"):
        crmlab.rfm_summary(str(tmp_path / "*.parquet"))
    with pytest.raises(DataError, match="apply to sources read by an engine"):
        crmlab.rfm_summary(log, table="orders")
    log.to_parquet(tmp_path / "x.parquet")
    with pytest.raises(DataError, match="has no column 'Cust'"):
        crmlab.rfm_summary(str(tmp_path / "x.parquet"), customer_id="Cust")
    with pytest.raises(DataError, match="exactly one of table= or query="):
        crmlab.rfm_summary(f"sqlite:///{tmp_path / 'x.db'}")


def test_queries_must_be_one_select(sources):
    db = sources["duckdb table"]["transactions"]
    with pytest.raises(DataError, match="not a read-only SELECT"):
        crmlab.rfm_summary(db, query="DROP TABLE orders")
    with pytest.raises(DataError, match="2 statements"):
        crmlab.rfm_summary(db, query="SELECT * FROM orders; SELECT 1")


# ------------------------------------------------------------ batch-by-batch fill


def _rows(n: int, ids: np.ndarray, holdout: bool) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    rows = pd.DataFrame(
        {
            "customer_id": ids,
            "frequency": rng.integers(0, 9, n).astype(float),
            "recency": rng.random(n) * 50,
            "T": 50 + rng.random(n) * 20,
            "monetary_value": rng.gamma(2.0, 20.0, n),
            "first_day": rng.integers(18_000, 19_000, n),
        }
    )
    if holdout:
        rows["frequency_holdout"] = rng.integers(0, 4, n).astype(float)
        rows["duration_holdout"] = 26.0
    return rows


def _batches(rows: pd.DataFrame, size: int) -> list[pa.RecordBatch]:
    table = pa.Table.from_pandas(rows, preserve_index=False)
    return table.to_batches(max_chunksize=size)


@pytest.mark.parametrize("holdout", [False, True])
@pytest.mark.parametrize("size", [1, 7, 1000])
def test_integer_ids_sorted_here_equal_the_sorted_frame(holdout, size):
    n = 503
    ids = np.random.default_rng(3).permutation(np.arange(10, 10 + 3 * n, 3))
    rows = _rows(n, ids, holdout)
    attrs = {"customers": n, "time_unit": "W"}
    want = to_summary(rows.sort_values("customer_id").reset_index(drop=True), attrs, holdout)
    got = fill_summary(iter(_batches(rows, size)), n, attrs, holdout, sort=True)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert got.attrs == attrs


def test_text_ids_arrive_sorted_and_keep_their_dtype():
    n = 40
    ids = np.array(sorted(f"C{i:03d}" for i in range(n)), dtype=object)
    rows = _rows(n, ids, False)
    want = to_summary(rows.copy(), {}, False)
    got = fill_summary(iter(_batches(rows, 6)), n, {}, False)
    pd.testing.assert_frame_equal(got, want, check_exact=True)


def test_a_count_that_differs_from_the_rows_is_an_error():
    rows = _rows(10, np.arange(10), False)
    with pytest.raises(RuntimeError, match="5 of the 20"):
        fill_summary(iter(_batches(rows.head(5), 3)), 20, {}, False)
    with pytest.raises(RuntimeError, match="more than the 4"):
        fill_summary(iter(_batches(rows, 3)), 4, {}, False)
    with pytest.raises(RuntimeError, match="numeric customer ids"):
        fill_summary(
            iter(_batches(_rows(3, np.array(["b", "a", "c"]), False), 2)), 3, {}, False, sort=True
        )


def test_duckdb_plan_sorts_integer_ids_itself_and_equals_pandas(tmp_path):
    rng = np.random.default_rng(11)
    n = 4000
    log = pd.DataFrame(
        {
            "customer_id": rng.integers(0, 900, n) * 7919 % 100_003,
            "date": pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 500, n), "D"),
            "amount": np.round(rng.gamma(2.0, 15.0, n), 2),
        }
    )
    path = tmp_path / "log.parquet"
    log.to_parquet(path, index=False)
    window = {"calibration_end": "2021-12-31", "observation_end": "2022-05-15"}
    with prepare(str(path), threads=2, **window) as plan:
        assert plan.sort_ids
        got = plan.summary(size=64)
    want = crmlab.rfm_summary(log, **window)
    pd.testing.assert_frame_equal(
        got, want, check_dtype=False, check_exact=False, rtol=1e-12, check_freq=False
    )
