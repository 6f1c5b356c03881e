"""The CLV report rendered from data an engine reads where they are: a Parquet glob and a
DuckDB database, through the command line as a consultant types it. The report says which
engine computed what, the scores of every customer are a Parquet file (not a CSV), and
the totals it states are the totals of those scores."""

from __future__ import annotations

import html
import json

import duckdb
import pandas as pd
import pytest
import yaml

from crmlab import cli
from crmlab import report as render

NAME = "customer_lifetime_value"
MAP = "customer_id=Cust,date=Day,amount=Sales"


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


@pytest.mark.parametrize(
    ("source", "flags", "words"),
    [
        ("orders/*.parquet", [], "from 3 Parquet files"),
        ("duckdb:///shop.duckdb", ["--table", "orders"], "from the DuckDB database shop.duckdb"),
    ],
    ids=["parquet_glob", "duckdb_file"],
)
def test_clv_report_renders_from_an_engine_source(
    shop, monkeypatch, capsys, tmp_path, cdnow_sample, source, flags, words
):
    monkeypatch.chdir(shop)
    params = small_parameters(tmp_path)
    out = tmp_path / "reports"
    argv = ["report", NAME, "--data", source, "--map", MAP, *flags, "-f", params]
    assert cli.main([*argv, "--out", str(out)]) == 0, capsys.readouterr().err
    folder = out / NAME
    page = html.unescape((folder / f"{NAME}.html").read_text(encoding="utf-8"))
    customers = cdnow_sample.loc[cdnow_sample["date"] <= "1997-09-30", "customer_id"].nunique()
    line = f"Summary, tracking counts and first purchases computed in DuckDB {words}"
    assert line in page
    assert f"scores of {customers:,} customers written by DuckDB to customers_scores.parquet" in (
        page
    )
    assert f"{len(cdnow_sample):,} transactions by" in page  # the engine's data report
    assert not (folder / "customers_clv.csv").exists()  # no CSV of every customer
    scores = pd.read_parquet(folder / "customers_scores.parquet")
    assert len(scores) == customers and scores["customer_id"].is_unique
    totals = pd.read_csv(folder / "clv_model_totals.csv", index_col=0)
    comparison = pd.read_csv(folder / "model_comparison.csv", index_col=0)
    used = comparison.index[comparison["used_for"].astype(str).str.contains("CLV")][0]
    assert scores["clv"].sum() == pytest.approx(totals.loc[used, "total_clv"], rel=1e-9)
    findings = json.loads((folder / "executive_summary.json").read_text(encoding="utf-8"))
    assert findings and all(f["text"] in page for f in findings)


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
