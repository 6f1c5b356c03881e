"""The CLV report rendered from data an engine reads where they are: a Parquet glob and a
DuckDB database, through the command line as a consultant types it. The report says which
engine computed what, the scores of every customer are a Parquet file (not a CSV), and
the totals it states are the totals of those scores. With ``--engine spark`` Spark reads
the same glob and writes scores equal to DuckDB's. Each report is rendered once per module
(the Spark test compares its scores with the DuckDB render's)."""

from __future__ import annotations

import contextlib
import html
import io
import json

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml
from report_checks import assert_clean_outputs, assert_clean_page

from crmlab import cli
from crmlab import report as render
from crmlab.studies.lifetime_value_engine import SCORES_FILE

NAME = "customer_lifetime_value"
MAP = "customer_id=Cust,date=Day,amount=Sales"
#: with the other Spark tests on one xdist worker (`--dist loadgroup`): one JVM at a time
SPARK_GROUP = pytest.mark.xdist_group("spark")


@pytest.fixture(scope="module")
def shop(tmp_path_factory, cdnow_sample):
    """cdnow_sample under client names: three Parquet files and a DuckDB table."""
    folder = tmp_path_factory.mktemp("shop")
    log = cdnow_sample.rename(columns={"customer_id": "Cust", "date": "Day", "amount": "Sales"})
    log = log[["Cust", "Day", "Sales"]]
    (folder / "orders").mkdir()
    third = len(log) // 3 + 1
    for i in range(3):
        log.iloc[i * third : (i + 1) * third].to_parquet(folder / "orders" / f"part{i}.parquet")
    with duckdb.connect(str(folder / "shop.duckdb")) as con:
        con.execute("CREATE TABLE orders AS SELECT * FROM log")
    return folder


def small_parameters(tmp_path):
    small = yaml.safe_load((render.notebooks_dir() / "test_parameters.yaml").read_text())[NAME]
    small = {k: v for k, v in small.items() if k != "dataset"}
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(small))
    return str(path)


SOURCES = {
    "parquet_glob": ("orders/*.parquet", []),
    "duckdb_file": ("duckdb:///shop.duckdb", ["--table", "orders"]),
    "spark": ("orders/*.parquet", ["--engine", "spark", "--spark-master", "local[2]"]),
}


@pytest.fixture(scope="module")
def rendered(shop, tmp_path_factory):
    """``rendered(key)``: the report folder of ``crmlab report`` on ``SOURCES[key]``, typed
    in the shop's folder as a consultant would; each key is rendered once per module."""
    params = small_parameters(tmp_path_factory.mktemp("parameters"))
    folders = {}

    def render_once(key: str):
        if key not in folders:
            source, flags = SOURCES[key]
            out = tmp_path_factory.mktemp(f"reports_{key}")
            argv = ["report", NAME, "--data", source, "--map", MAP, *flags, "-f", params]
            err = io.StringIO()
            with (
                contextlib.chdir(shop),
                contextlib.redirect_stderr(err),
                pytest.MonkeyPatch.context() as env,
            ):
                env.setenv("CRMLAB_SPARK_LOG", str(out / "jvm.log"))  # for the kernel's JVM
                code = cli.main([*argv, "--out", str(out)])
            assert code == 0, err.getvalue()
            folders[key] = out / NAME
        return folders[key]

    return render_once


def assert_no_warnings(folder):
    """No stderr output, warning or traceback in the executed notebook or its page."""
    assert_clean_outputs(folder / f"{NAME}.ipynb")
    assert_clean_page((folder / f"{NAME}.html").read_text(encoding="utf-8"))


def check_report(folder, cdnow_sample, engine, words, where=None):
    """The provenance line, the engine's data report, the scores of every customer as
    Parquet (no CSV) and the totals and findings the page states; returns the scores."""
    page = html.unescape((folder / f"{NAME}.html").read_text(encoding="utf-8"))
    customers = cdnow_sample.loc[cdnow_sample["date"] <= "1997-09-30", "customer_id"].nunique()
    line = f"Summary, tracking counts and first purchases computed in {where or engine} {words}"
    assert line in page
    assert f"scores of {customers:,} customers written by {engine} to {SCORES_FILE}" in page
    assert f"{len(cdnow_sample):,} transactions by" in page  # the engine's data report
    assert not (folder / "customers_clv.csv").exists()  # no CSV of every customer
    scores = pd.read_parquet(folder / SCORES_FILE)
    assert len(scores) == customers and scores["customer_id"].is_unique
    totals = pd.read_csv(folder / "clv_model_totals.csv", index_col=0)
    comparison = pd.read_csv(folder / "model_comparison.csv", index_col=0)
    used = comparison.index[comparison["used_for"].astype(str).str.contains("CLV")][0]
    assert scores["clv"].sum() == pytest.approx(totals.loc[used, "total_clv"], rel=1e-9)
    findings = json.loads((folder / "executive_summary.json").read_text(encoding="utf-8"))
    assert findings and all(f["text"] in page for f in findings)
    assert_no_warnings(folder)
    return scores


@pytest.mark.parametrize(
    ("key", "words"),
    [
        # in the Spark tests' xdist group: the Spark test compares with this render, which
        # its worker then finds made, not made a second time
        pytest.param("parquet_glob", "from 3 Parquet files", marks=SPARK_GROUP),
        ("duckdb_file", "from the DuckDB database shop.duckdb"),
    ],
)
def test_clv_report_renders_from_an_engine_source(rendered, cdnow_sample, key, words):
    check_report(rendered(key), cdnow_sample, "DuckDB", words)


@SPARK_GROUP
def test_clv_report_renders_with_spark_and_scores_as_duckdb(rendered, cdnow_sample):
    pytest.importorskip("pyspark", reason="pyspark is not installed: pip install 'crmlab[spark]'")
    from crmlab.engines import spark as sp

    if sp.java_missing():
        pytest.skip(sp.java_missing())
    folder = rendered("spark")
    scores = check_report(
        folder, cdnow_sample, "Spark", "from 3 Parquet files", where="Spark (local[2])"
    )
    log = (folder.parent / "jvm.log").read_text(encoding="utf-8")
    assert "log4j" in log  # the JVM's console went to its log, not into the report
    assert "already cached" not in log  # the export scored the plan it loaded, not anew
    ref = pd.read_parquet(rendered("parquet_glob") / SCORES_FILE)
    assert sorted(scores.columns) == sorted(ref.columns)
    scores = scores.set_index("customer_id").sort_index()[ref.columns.drop("customer_id")]
    ref = ref.set_index("customer_id").sort_index()
    assert list(scores.index) == list(ref.index)
    # the summary and the purchase scores agree to 1e-9 (in practice to the last bit but for
    # monetary values, which Spark sums in another order: 5e-16); the Gamma-Gamma fit, which
    # stops at a gradient of 1e-8 x its log-likelihood, carries that to ~1e-8 in spend and CLV
    same = ["frequency", "recency", "T", "monetary_value", "frequency_holdout"]
    same += ["duration_holdout", "p_alive", "expected_purchases"]
    np.testing.assert_allclose(scores[same], ref[same], rtol=1e-9, atol=0)
    money = ["expected_spend", "clv"]
    np.testing.assert_allclose(scores[money], ref[money], rtol=1e-7, atol=0)
    assert sorted([*same, *money, "first_purchase"]) == sorted(ref.columns)
    assert (scores["first_purchase"].to_numpy() == ref["first_purchase"].to_numpy()).all()


def test_parquet_files_of_a_glob_are_hashed_for_the_reproducibility_block(shop, tmp_path):
    import hashlib

    from crmlab.report import execution

    files = sorted((shop / "orders").glob("*.parquet"))
    lines = "".join(f"{f.name}  {hashlib.sha256(f.read_bytes()).hexdigest()}\n" for f in files)
    digest = hashlib.sha256(lines.encode()).hexdigest()
    for path in (str(shop / "orders" / "*.parquet"), str(shop / "orders")):
        what, got = execution.data_source({"data_path": path})
        assert what == f"3 Parquet files {path}" and got.startswith(digest)
    missing = str(tmp_path / "none" / "*.parquet")
    assert execution.data_source({"data_path": missing})[1] == "(no files)"
