"""Notebook 04's data on an engine give the pandas path's numbers (CDNOW as Parquet files
and as a DuckDB database), the engine is chosen by the kind of source, the scores of
every customer are written to Parquet, and bad sources raise the existing DataErrors."""

from __future__ import annotations

import re

import duckdb
import numpy as np
import pandas as pd
import pytest

import crmlab
from crmlab import reports
from crmlab.errors import DataError
from crmlab.report.names import EXPORT_ENV
from crmlab.studies import lifetime_value as lv
from crmlab.studies import lifetime_value_engine as le

SETTINGS = {
    "margin": 0.3,
    "annual_discount_rate": 0.1,
    "horizon_years": 10.0,
    "forecast_horizon": 52.0,
}
MAP = "customer_id=Cust,date=Day,amount=Sales"


def client_log(tx: pd.DataFrame) -> pd.DataFrame:
    return tx.rename(columns={"customer_id": "Cust", "date": "Day", "amount": "Sales"})[
        ["Cust", "Day", "Sales"]
    ]


@pytest.fixture(scope="module")
def sources(tmp_path_factory, cdnow):
    """CDNOW as two Parquet files (client column names) and as a DuckDB table."""
    folder = tmp_path_factory.mktemp("cdnow_sources")
    log = client_log(cdnow)
    half = len(log) // 2
    (folder / "orders").mkdir()
    log.iloc[:half].to_parquet(folder / "orders" / "a.parquet")
    log.iloc[half:].to_parquet(folder / "orders" / "b.parquet")
    db = folder / "shop.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE TABLE orders AS SELECT * FROM log")
    return {
        "parquet": (str(folder / "orders" / "*.parquet"), {}),
        "duckdb": (f"duckdb:///{db}", {"table": "orders"}),
    }


@pytest.fixture(scope="module")
def pandas_run():
    data = le.load_clv_data("cdnow")
    return data, lv.lifetime_value_study(**data.study_inputs(), **SETTINGS)


@pytest.fixture(scope="module", params=["parquet", "duckdb"])
def engine_run(request, sources, tmp_path_factory):
    path, options = sources[request.param]
    data = le.load_clv_data(data_path=path, column_map=MAP, data_options=options)
    study = lv.lifetime_value_study(**data.study_inputs(), **SETTINGS)
    folder = tmp_path_factory.mktemp(f"scores_{request.param}")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(EXPORT_ENV, str(folder))
        scores = le.export_customers(data, study, batch_size=5_000)
    yield request.param, data, study, scores
    data.close()


# ------------------------------------------------------------ choosing the engine


@pytest.mark.parametrize(
    ("path", "engine", "expected"),
    [
        ("", "auto", "pandas"),
        ("", "pandas", "pandas"),
        ("orders.csv", "auto", "pandas"),
        ("orders.parquet", "auto", "pandas"),
        ("shop.xlsx", "auto", "pandas"),
        ("sqlite:///shop.db", "auto", "pandas"),
        ("shop.db", "auto", "pandas"),
        ("orders/*.parquet", "auto", "duckdb"),
        ("duckdb:///shop.duckdb", "auto", "duckdb"),
        ("shop.duckdb", "auto", "duckdb"),
        ("postgresql://analyst@db/shop", "auto", "duckdb"),
        ("orders.csv", "duckdb", "duckdb"),
        ("orders/*.parquet", "spark", "spark"),
    ],
)
def test_engine_is_chosen_by_the_kind_of_source(path, engine, expected):
    assert le.choose_engine(path, engine) == expected


def test_a_folder_is_an_engine_source(tmp_path):
    assert le.is_engine_source(str(tmp_path))
    assert not le.is_engine_source(str(tmp_path / "orders.parquet"))


def test_unknown_engine_and_engine_on_a_bundled_dataset_are_refused():
    with pytest.raises(DataError, match="engine='polars' is not known; use one of auto"):
        le.choose_engine("orders/*.parquet", "polars")
    with pytest.raises(DataError, match="reads a client's data_path; the bundled datasets"):
        le.choose_engine("", "duckdb")
    with pytest.raises(DataError, match="engine='pandas' reads one file, and 'orders/"):
        le.choose_engine("orders/*.parquet", "pandas")


def test_engine_options_map_columns_and_refuse_pandas_only_options():
    got = le.engine_options(MAP + ",cost=Cost", {"table": "orders", "returns": "net"})
    assert got == {
        "customer_id": "Cust",
        "date": "Day",
        "amount": "Sales",
        "table": "orders",
        "returns": "net",
    }
    assert le.engine_options("", {})["customer_id"] == "customer_id"
    with pytest.raises(DataError, match=r"reader option\(s\) decimal, dayfirst are applied when"):
        le.engine_options(MAP, {"decimal": ",", "dayfirst": True})
    with pytest.raises(DataError, match="sheet_name"):
        le.engine_options(MAP, {"sheet_name": "x"})


# ------------------------------------------------------- same numbers as pandas


def test_engine_summary_and_first_purchases_equal_the_pandas_path(pandas_run, engine_run):
    base, _ = pandas_run
    kind, data, _, _ = engine_run
    assert data.in_engine and data.transactions is None and data.engine == "duckdb"
    assert (data.calibration_end, data.observation_end) == (
        pd.Timestamp("1997-09-30"),
        pd.Timestamp("1998-06-30"),
    )
    pd.testing.assert_frame_equal(
        data.summary, base.summary, check_dtype=False, check_index_type=False, rtol=1e-12
    )
    pd.testing.assert_series_equal(
        data.first_amount, base.first_amount, check_index_type=False, rtol=1e-12
    )
    expected = base.summary.groupby(["frequency", "recency", "T"]).size()
    got = data.patterns.set_index(["frequency", "recency", "T"])["weight"]
    pd.testing.assert_series_equal(got, expected, check_names=False, check_dtype=False)
    # repeat purchases per day: every repeat occasion of the cohort, as the summary counts
    total = base.summary["frequency"].sum() + base.summary["frequency_holdout"].sum()
    assert data.repeat_days["purchases"].sum() == total


def test_engine_study_gives_the_pandas_log_likelihoods_and_clv(pandas_run, engine_run):
    _, base = pandas_run
    _, _, study, _ = engine_run
    assert list(study.fits) == list(base.fits)
    for name, fit in base.fits.items():
        assert study.fits[name].loglik == pytest.approx(fit.loglik, rel=1e-9), name
        assert study.fits[name].n_obs == fit.n_obs
        np.testing.assert_allclose(study.fits[name].params, fit.params, rtol=1e-5)
    assert study.choice == base.choice
    pd.testing.assert_frame_equal(study.totals, base.totals, rtol=1e-6)
    pd.testing.assert_frame_equal(study.tracking, base.tracking, rtol=1e-6)
    pd.testing.assert_series_equal(
        study.customers["value_so_far"].sort_index(),
        base.customers["value_so_far"].sort_index(),
        check_index_type=False,
        rtol=1e-12,
    )
    assert study.students.customers == base.students.customers


def test_scores_of_every_customer_are_written_to_parquet_with_the_study_clv(engine_run):
    _, data, study, scores = engine_run
    assert scores.path.name == le.SCORES_FILE and scores.engine == "duckdb"
    assert not (scores.path.parent / "customers_clv.csv").exists()
    written = pd.read_parquet(scores.path).set_index("customer_id").sort_index()
    assert scores.rows == len(written) == len(study.customers)
    mine = study.customers.loc[written.index]
    for column in ("p_alive", "expected_purchases", "expected_spend", "clv"):
        np.testing.assert_allclose(written[column], mine[column], rtol=1e-9, err_msg=column)
    assert scores.total_clv == pytest.approx(study.customers["clv"].sum(), rel=1e-9)
    assert scores.total_clv == pytest.approx(study.totals.loc[study.choice.used, "total_clv"])


def test_pandas_path_exports_the_customer_table(pandas_run, tmp_path, monkeypatch):
    data, study = pandas_run
    monkeypatch.setenv(EXPORT_ENV, str(tmp_path))
    scores = le.export_customers(data, study)
    assert scores.path == tmp_path / "customers_clv.csv" and scores.engine == "pandas"
    table = pd.read_csv(scores.path, index_col=0)
    assert len(table) == scores.rows == len(study.customers)
    assert table["clv"].sum() == pytest.approx(scores.total_clv)
    assert not (tmp_path / le.SCORES_FILE).exists()


def test_provenance_says_which_engine_computed_what(pandas_run, engine_run):
    kind, data, study, scores = engine_run
    patterns = study.summary.groupby(["frequency", "recency", "T"]).ngroups
    source = (
        "2 Parquet files" if kind == "parquet" else "the DuckDB database shop.duckdb (table orders)"
    )
    assert le.provenance(data, study, scores) == (
        f"Summary, tracking counts and first purchases computed in DuckDB from {source}; "
        f"models fitted in crmlab on {patterns:,} patterns (23,570 customers); scores of "
        "23,570 customers written by DuckDB to customers_scores.parquet."
    )
    base, base_study = pandas_run
    assert le.provenance(base, base_study) == (
        "Transactions read into pandas (69,659 rows from dataset cdnow); summary, models and "
        "scores computed in crmlab on 23,570 customers."
    )


def test_data_report_words_match_the_pandas_report(pandas_run, engine_run):
    base, _ = pandas_run
    _, data, _, _ = engine_run
    words = reports.data_in_words(base.transactions, crmlab.data.data_report(base.transactions))
    page = le.data_report_html(data)
    assert words in page and "69,659" in page
    assert le.data_report_html(base) == reports.data_report_html(base.transactions)


def test_transactions_of_a_few_customers_come_from_the_engine(pandas_run, engine_run):
    base, _ = pandas_run
    _, data, _, _ = engine_run
    got = le.transactions_of(data, [2, 7, 10])
    want = le.transactions_of(base, [2, 7, 10])
    pd.testing.assert_frame_equal(
        got.reset_index(drop=True),
        want.sort_values(["customer_id", "date"], kind="stable").reset_index(drop=True),
        check_dtype=False,
    )
    with pytest.raises(DataError, match="at most 100 customers"):
        le.transactions_of(data, list(range(101)))


# ---------------------------------------------------------------- pieces


def test_value_so_far_from_the_summary_equals_the_transactions(cdnow_sample):
    summary = crmlab.rfm_summary(
        cdnow_sample, calibration_end="1997-09-30", observation_end="1998-06-30"
    )
    first = lv.first_purchase_amount(cdnow_sample, summary)
    pd.testing.assert_series_equal(
        lv.value_so_far_from_summary(summary, first, margin=0.3),
        lv.value_so_far(cdnow_sample, summary, margin=0.3),
        rtol=1e-12,
    )
    with pytest.raises(DataError, match="customers of the summary have no first-purchase"):
        lv.value_so_far_from_summary(summary, first.iloc[1:], margin=0.3)


def test_tracking_from_daily_counts_refuses_days_outside_the_window(cdnow_sample):
    summary = crmlab.rfm_summary(
        cdnow_sample, calibration_end="1997-09-30", observation_end="1998-06-30"
    )
    days = pd.DataFrame({"day": pd.to_datetime(["1997-01-08", "1999-01-01"]), "purchases": [3, 1]})
    with pytest.raises(DataError, match="1 days of repeat purchases lie outside"):
        lv.actual_by_period(days, summary, 78)
    counts = lv.actual_by_period(days.iloc[:1], summary, 78)
    assert counts[1] == 3 and counts.sum() == 3  # day 7 after 1 January is in week 2


def test_study_without_transactions_needs_the_engine_tables(cdnow_sample):
    summary = crmlab.rfm_summary(
        cdnow_sample, calibration_end="1997-09-30", observation_end="1998-06-30"
    )
    with pytest.raises(DataError, match="repeat_days and first_amount"):
        lv.lifetime_value_study(None, summary, **SETTINGS)


def test_bad_engine_sources_give_the_existing_data_errors(sources, tmp_path):
    path, options = sources["parquet"]
    with pytest.raises(DataError, match="Sales"):
        le.load_clv_data(data_path=path, column_map="customer_id=Cust,date=Day,amount=Amount")
    with pytest.raises(DataError, match="no_such"):
        le.load_clv_data(data_path=str(tmp_path / "no_such" / "*.parquet"), column_map=MAP)
    db, options = sources["duckdb"]
    with pytest.raises(DataError, match="exactly one of table= or query="):
        le.load_clv_data(data_path=db, column_map=MAP)
    with pytest.raises(DataError, match="calibration_end"):
        le.load_clv_data(
            data_path=db, column_map=MAP, data_options=options, calibration_end="2001-01-01"
        )


# ---------------------------------------------------------------------- Spark


def test_spark_engine_gives_the_pandas_summary_study_and_scores(cdnow_sample, tmp_path):
    """engine='spark' (local[2]): summary, first purchases, fits and every customer's scores."""
    pytest.importorskip("pyspark", reason="pyspark is not installed: pip install 'crmlab[spark]'")
    from crmlab.engines import spark as sp

    if sp.java_missing():
        pytest.skip(sp.java_missing())
    sp.session("local[2]")
    (tmp_path / "orders").mkdir()
    client_log(cdnow_sample).to_parquet(tmp_path / "orders" / "part0.parquet")
    base = le.load_clv_data("cdnow_sample")
    data = le.load_clv_data(
        data_path=str(tmp_path / "orders" / "*.parquet"), column_map=MAP, engine="spark"
    )
    try:
        assert data.engine == "spark"
        pd.testing.assert_frame_equal(
            data.summary, base.summary, check_dtype=False, check_index_type=False, rtol=1e-12
        )
        pd.testing.assert_series_equal(
            data.first_amount, base.first_amount, check_index_type=False, rtol=1e-12
        )
        study = lv.lifetime_value_study(**data.study_inputs(), **SETTINGS)
        expected = lv.lifetime_value_study(**base.study_inputs(), **SETTINGS)
        for name, fit in expected.fits.items():
            assert study.fits[name].loglik == pytest.approx(fit.loglik, rel=1e-9), name
        pd.testing.assert_frame_equal(study.tracking, expected.tracking, rtol=1e-6)
        some = list(base.summary.index[:3])
        pd.testing.assert_frame_equal(
            le.transactions_of(data, some).reset_index(drop=True),
            le.transactions_of(base, some)
            .sort_values(["customer_id", "date"], kind="stable")
            .reset_index(drop=True),
            check_dtype=False,
        )
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv(EXPORT_ENV, str(tmp_path / "out"))
            scores = le.export_customers(data, study)
        assert scores.engine == "spark" and scores.rows == len(base.summary)
        assert scores.total_clv == pytest.approx(study.customers["clv"].sum(), rel=1e-9)
        line = le.provenance(data, study, scores)
        assert re.search(r"computed in Spark \(local\[\d\]\) from 1 Parquet file;", line)
    finally:
        data.close()


def test_given_window_is_read_as_dates_and_checked(sources):
    path, _ = sources["parquet"]
    with pytest.raises(DataError, match="must be dates like '1997-09-30'"):
        le.load_clv_data(
            data_path=path, column_map=MAP, calibration_end="soon", observation_end="later"
        )
    with pytest.raises(DataError, match="must lie before observation_end"):
        le.load_clv_data(
            data_path=path,
            column_map=MAP,
            calibration_end="1998-01-01",
            observation_end="1997-12-31",
        )
    data = le.load_clv_data(
        data_path=path, column_map=MAP, calibration_end="1997-09-30", observation_end="1998-03-31"
    )
    try:
        assert data.summary.attrs["observation_end"] == "1998-03-31"
        assert data.repeat_days["day"].max() <= pd.Timestamp("1998-03-31")
    finally:
        data.close()
