"""Spark (local[2]): the same summary, validation, patterns and scores as pandas and DuckDB.

Skipped, with the reason, where pyspark or Java 17 is missing; `make test` installs
pyspark (the dev extra) and the machines have Java.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from engine_cases import TODAY, assert_same, broken, make_log, policies_log

import crmlab
from crmlab.errors import DataError

pytest.importorskip("pyspark", reason="pyspark is not installed: pip install 'crmlab[spark]'")
from crmlab.engines import spark as sp  # noqa: E402

if sp.java_missing():
    pytest.skip(sp.java_missing(), allow_module_level=True)

pytestmark = pytest.mark.xdist_group("spark")  # one JVM per test run, not one per worker

WINDOW = {
    "calibration_end": "2020-05-01",
    "observation_end": "2020-06-30",
    "cohort_start": "2020-01-10",
    "cohort_end": "2020-03-01",
}


@pytest.fixture(scope="module")
def spark():
    return sp.session("local[2]")


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:

    return make_log(3)


@pytest.fixture(scope="module")
def glob_path(log, tmp_path_factory) -> str:
    root = tmp_path_factory.mktemp("spark")
    for i, rows in enumerate(np.array_split(np.arange(len(log)), 2)):
        part = log.iloc[rows].astype({"date": "datetime64[ns]"})  # pandas' classic resolution
        part.to_parquet(root / f"part-{i}.parquet")
    return str(root / "*.parquet")


@pytest.mark.parametrize(
    "window", [{}, WINDOW, {"time_unit": "D", "calibration_end": "2020-04-01"}]
)
def test_spark_summary_of_nanosecond_parquet_equals_pandas(spark, log, glob_path, window):

    got = crmlab.rfm_summary(glob_path, engine="spark", spark=spark, **window)
    assert_same(got, crmlab.rfm_summary(log, **window))
    assert got.attrs["engine"] == "spark"
    assert any("to the microsecond" in n for n in got.attrs["data_report"]["notes"])


def test_spark_dataframe_and_patterns(spark, log):

    frame = spark.createDataFrame(log.assign(date=log["date"].astype("datetime64[us]")))
    assert_same(crmlab.rfm_summary(frame, **WINDOW), crmlab.rfm_summary(log, **WINDOW))
    got = crmlab.rfm_summary(frame, calibration_end="2020-05-01", patterns=True)
    ref = crmlab.rfm_summary(log, calibration_end="2020-05-01", patterns=True)
    pd.testing.assert_frame_equal(got, ref, check_dtype=False, check_exact=False, rtol=1e-12)
    assert spark.catalog.listTables() == []  # the temporary views are gone


@pytest.mark.parametrize("case", ["missing id", "future date", "infinite amount"])
def test_spark_errors_are_the_pandas_ones(spark, tmp_path, case):

    frame = broken(case)
    with pytest.raises(DataError) as ref:
        crmlab.validate_transactions(frame, today=TODAY)
    frame.to_parquet(tmp_path / "x.parquet")
    with pytest.raises(DataError) as got:
        crmlab.rfm_summary(str(tmp_path / "x.parquet"), engine="spark", spark=spark, today=TODAY)
    assert str(got.value) == str(ref.value)


def test_spark_policies_equal_pandas(spark, tmp_path):

    frame = policies_log()
    frame.to_parquet(tmp_path / "x.parquet")
    clean = crmlab.validate_transactions(frame, returns="net", duplicates="drop", today=TODAY)
    got = crmlab.rfm_summary(
        str(tmp_path / "x.parquet"),
        engine="spark",
        spark=spark,
        returns="net",
        duplicates="drop",
        today=TODAY,
    )
    ref = crmlab.rfm_summary(clean)
    pd.testing.assert_frame_equal(got, ref, check_exact=False, rtol=1e-12, check_index_type=False)
    assert got.attrs["data_report"]["excluded"] == clean.attrs["data_report"]["excluded"]


def test_spark_scores_with_map_in_pandas(spark, tmp_path, cdnow_sample):
    from crmlab.models import BGNBD, GammaGamma

    cdnow_sample[["customer_id", "date", "amount"]].to_parquet(tmp_path / "cd.parquet")
    full = crmlab.rfm_summary(cdnow_sample, calibration_end="1997-09-30")
    fit, spend = BGNBD().fit(full), GammaGamma().fit(full)
    out = str(tmp_path / "scores")
    _, attrs = sp.score(
        str(tmp_path / "cd.parquet"),
        fit,
        out=out,
        spend=spend,
        horizon=52,
        annual_discount_rate=0.1,
        calibration_end="1997-09-30",
        spark=spark,
    )
    got = pd.read_parquet(out).set_index("customer_id").sort_index()
    assert attrs["engine"] == "spark" and list(got.index) == list(full.index)
    np.testing.assert_allclose(got["p_alive"], fit.probability_alive(full), rtol=1e-12)
    np.testing.assert_allclose(got["expected_purchases"], fit.expected_purchases(52, full), 1e-12)
    clv = fit.clv(full, spend=spend, horizon=52, annual_discount_rate=0.1)
    np.testing.assert_allclose(got["clv"], clv, rtol=1e-12)


def test_the_jvm_console_goes_to_its_log_file(spark):
    # a report rendered with --engine spark showed the JVM's log4j lines as stderr outputs
    path = spark.conf.get("spark.crmlab.jvmLog")
    frame = spark.range(3).cache()
    frame.cache()  # Spark's CacheManager warns on its console: "already cached"
    frame.count()
    text = Path(path).read_text(encoding="utf-8")
    assert "log4j" in text and "Asked to cache already cached data" in text
    frame.unpersist()


def test_console_of_a_child_process_is_redirected_and_ours_restored(tmp_path, capfd):
    import subprocess

    log = tmp_path / "jvm.log"
    with sp._console_to(str(log)):
        subprocess.run(["sh", "-c", "echo to-out; echo to-err >&2"], check=True)
    subprocess.run(["sh", "-c", "echo after >&2"], check=True)
    assert log.read_text().split() == ["to-out", "to-err"]
    assert capfd.readouterr().err == "after\n"


def test_spark_scores_an_open_plan_and_leaves_it_open(spark, tmp_path, cdnow_sample):
    # the CLV report scores the plan it summarised: no second read or validation of the data
    from crmlab.engines.summary import prepare
    from crmlab.models import BGNBD

    path = str(tmp_path / "cd.parquet")
    cdnow_sample[["customer_id", "date", "amount"]].to_parquet(path)
    full = crmlab.rfm_summary(cdnow_sample, calibration_end="1997-09-30")
    fit = BGNBD().fit(full)
    out = str(tmp_path / "scores")
    with prepare(path, engine="spark", spark=spark, calibration_end="1997-09-30") as plan:
        sp.score(plan, fit, out=out, horizon=52, annual_discount_rate=0.1)
        assert len(plan.summary()) == len(full)  # still open
        with pytest.raises(DataError, match="already summarised; drop calibration_end, spark"):
            sp.score(plan, fit, calibration_end="1997-09-30", spark=spark, discount_rate=0.01)
    got = pd.read_parquet(out).set_index("customer_id").sort_index()
    assert list(got.index) == list(full.index)
    np.testing.assert_allclose(got["p_alive"], fit.probability_alive(full), rtol=1e-12)
    np.testing.assert_allclose(got["expected_purchases"], fit.expected_purchases(52, full), 1e-12)
    with prepare(path, calibration_end="1997-09-30") as plan:
        with pytest.raises(DataError, match="runs in duckdb, not Spark"):
            sp.score(plan, fit, discount_rate=0.01)
