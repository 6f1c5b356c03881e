"""crmlab.data: bundled datasets, reading a client's sources, validation and its errors."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

import crmlab
from crmlab.data import data_report, parse_column_map, sha256

EXPECTED = {
    # name: (rows, customers)
    "cdnow": (69659, 23570),
    "cdnow_sample": (6919, 2357),
    "yogurt": (2412, 100),
    "cracker": (3292, 136),
    "catsup": (2798, 300),
    "ketchup": (4956, 1956),
    "tuna": (13705, 3093),
}


def test_list_datasets_names_every_bundled_dataset():
    table = crmlab.list_datasets()
    assert set(table.index) == {*EXPECTED, "donations", "retention_cohorts"}
    assert {"kind", "description", "rows", "customers", "source"} <= set(table.columns)


def test_manifest_checksums_match_files():
    for name, row in crmlab.list_datasets().iterrows():
        assert sha256(crmlab.dataset_path(name)) == row["sha256"], name


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_dataset_counts(name):
    rows, customers = EXPECTED[name]
    frame = crmlab.load_dataset(name)
    assert len(frame) == rows
    key = "customer_id" if "customer_id" in frame.columns else "household_id"
    assert frame[key].nunique() == customers


def test_cdnow_is_the_first_quarter_1997_cohort(cdnow):
    assert list(cdnow.columns[:3]) == ["customer_id", "date", "amount"]
    assert cdnow["date"].dtype == "datetime64[ns]"
    first = cdnow.groupby("customer_id")["date"].min()
    assert first.min() == pd.Timestamp("1997-01-01")
    assert first.max() <= pd.Timestamp("1997-03-31")
    assert cdnow["date"].max() == pd.Timestamp("1998-06-30")
    assert cdnow["amount"].sum() == pytest.approx(2500315.63, abs=0.01)


def test_cdnow_sample_customers_are_in_the_master(cdnow, cdnow_sample):
    assert set(cdnow_sample["customer_id"]) <= set(cdnow["customer_id"])
    assert cdnow_sample["sample_id"].nunique() == 2357


def test_donations_patterns():
    don = crmlab.load_dataset("donations")
    assert list(don.columns) == ["frequency", "recency", "n_periods", "weight"]
    assert don["weight"].sum() == 11104
    assert (don["n_periods"] == 6).all()
    assert (don["recency"] >= don["frequency"]).all()


def test_retention_cohorts_from_fader_hardie_2007():
    coh = crmlab.load_dataset("retention_cohorts")
    assert coh["regular"].tolist()[:4] == [1000, 631, 468, 382]
    assert coh["high_end"].tolist()[-1] == 394
    assert (coh[["regular", "high_end"]].diff().dropna() <= 0).all().all()


def test_panel_is_tidy():
    yog = crmlab.load_dataset("yogurt")
    assert list(yog.columns[:4]) == ["household_id", "occasion", "brand", "price"]
    assert set(yog["brand"].cat.categories) == {"yoplait", "dannon", "hiland", "weight"}
    first = yog.iloc[0]
    assert first["price"] == first[f"price_{first['brand']}"]
    assert (yog.groupby("household_id")["occasion"].min() == 1).all()


def test_unknown_dataset_lists_the_choices():
    with pytest.raises(crmlab.DataError, match="cdnow_sample"):
        crmlab.load_dataset("cdnow2")


def test_changed_dataset_file_is_detected(tmp_path, monkeypatch):
    for entry in Path(crmlab.data.datasets_dir()).iterdir():
        (tmp_path / entry.name).write_bytes(entry.read_bytes())
    (tmp_path / "donations.csv").write_text("frequency,recency,periods,weights\n0,0,6,1\n")
    monkeypatch.setenv("CRMLAB_DATASETS", str(tmp_path))
    crmlab.data._manifest.cache_clear()
    try:
        with pytest.raises(crmlab.DataError, match="SHA-256"):
            crmlab.load_dataset("donations")
    finally:
        crmlab.data._manifest.cache_clear()


# ----------------------------------------------------------------- client sources


def _client_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Cust": ["A", "A", "B", "C", "C"],
            "OrderDate": ["2024-01-05", "2024-02-10", "2024-01-07", "2024-03-01", "2024-03-01"],
            "Revenue": [10.0, 20.5, 7.25, 3.0, 4.0],
            "Dept": ["x", "y", "x", "z", "z"],
        }
    )


MAP = {"customer_id": "Cust", "date": "OrderDate", "amount": "Revenue"}


def _write(frame: pd.DataFrame, path: Path) -> str:
    suffix = "".join(path.suffixes)
    if suffix in (".csv", ".csv.gz"):
        frame.to_csv(path, index=False)
    elif suffix == ".parquet":
        frame.to_parquet(path, index=False)
    elif suffix == ".xlsx":
        frame.to_excel(path, index=False)
    elif suffix == ".sqlite":
        with sqlite3.connect(path) as con:
            frame.to_sql("orders", con, index=False)
    elif suffix == ".duckdb":
        with duckdb.connect(str(path)) as con:
            con.register("frame", frame)
            con.execute("CREATE TABLE orders AS SELECT * FROM frame")
    return str(path)


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz", ".parquet", ".xlsx", ".sqlite", ".duckdb"])
def test_round_trip_through_every_format(tmp_path, suffix):
    path = _write(_client_frame(), tmp_path / f"orders{suffix}")
    before = sha256(path)
    sql = suffix in (".sqlite", ".duckdb")
    tx = crmlab.read_transactions(
        path, **MAP, category="Dept", **({"table": "orders"} if sql else {})
    )
    assert list(tx.columns) == ["customer_id", "date", "amount", "category"]
    assert tx["date"].dtype == "datetime64[ns]"
    assert tx["amount"].tolist() == [10.0, 20.5, 7.25, 3.0, 4.0]
    assert tx["customer_id"].tolist() == ["A", "A", "B", "C", "C"]
    assert sha256(path) == before, "the input file must never be modified"


def test_sql_query_and_url(tmp_path):
    path = _write(_client_frame(), tmp_path / "orders.sqlite")
    tx = crmlab.read_transactions(
        f"sqlite:///{path}", **MAP, query="SELECT * FROM orders WHERE Revenue > 5"
    )
    assert len(tx) == 3
    with pytest.raises(crmlab.DataError, match="exactly one of table= or query="):
        crmlab.read_transactions(path, **MAP)


def test_semicolon_csv_is_read(tmp_path):
    path = tmp_path / "orders.csv"
    _client_frame().to_csv(path, index=False, sep=";")
    assert len(crmlab.read_transactions(path, **MAP)) == 5


def test_load_source_maps_a_client_file(tmp_path):
    path = _write(_client_frame(), tmp_path / "orders.csv")
    tx = crmlab.load_source(
        "", path, "customer_id=Cust,date=OrderDate,amount=Revenue,category=Dept"
    )
    assert list(tx.columns) == ["customer_id", "date", "amount", "category"]
    assert len(crmlab.load_source("cdnow_sample")) == 6919
    with pytest.raises(crmlab.DataError, match="ours=theirs"):
        parse_column_map("customer_id:Cust")


# ------------------------------------------------------------------------- errors


def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    return path


def test_bad_month_names_column_row_and_value(tmp_path):
    rows = "\n".join(f"c{i},2024-0{1 + i % 9}-01,{i}.5" for i in range(7))
    path = _csv(tmp_path, f"customer_id,date,amount\n{rows}\nc9,2024-13-01,3\nc10,2024-14-01,4\n")
    with pytest.raises(crmlab.DataError) as err:
        crmlab.read_transactions(path)
    message = str(err.value)
    assert "column 'date'" in message
    assert "2 values that are not dates" in message
    assert "row 8" in message
    assert "'2024-13-01'" in message


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("a,2024-01-01,12\nb,2199-01-01,3\n", "date in the future"),
        ("a,2024-01-01,12\nb,1850-06-01,3\n", "date before 1900"),
        (
            "a,2024-01-01,12\nb,2024-01-02,twelve\n",
            "column 'amount' has 1 value that is not a number",
        ),
        (
            "a,2024-01-01,12\n,2024-01-02,3\n",
            "column 'customer_id' has 1 missing or blank value, first at row 2",
        ),
        ("a,2024-01-01,12\nb,,3\n", "column 'date' has 1 missing date"),
    ],
)
def test_each_error_names_its_problem(tmp_path, body, expected):
    path = _csv(tmp_path, "customer_id,date,amount\n" + body)
    with pytest.raises(crmlab.DataError, match=expected):
        crmlab.read_transactions(path)


def test_missing_column_lists_what_is_there(tmp_path):
    path = _csv(tmp_path, "Cust,OrderDate,Revenue\na,2024-01-01,3\n")
    with pytest.raises(
        crmlab.DataError, match=r"no column 'customer_id'.*'Cust'.*customer_id='Cust'"
    ):
        crmlab.read_transactions(path)


def test_empty_file_and_missing_file(tmp_path):
    empty = _csv(tmp_path, "customer_id,date,amount\n")
    with pytest.raises(crmlab.DataError, match="no rows"):
        crmlab.read_transactions(empty)
    (tmp_path / "nothing.csv").write_text("")
    with pytest.raises(crmlab.DataError, match="could not read"):
        crmlab.read_transactions(tmp_path / "nothing.csv")
    with pytest.raises(crmlab.DataError, match="does not exist"):
        crmlab.read_transactions(tmp_path / "absent.csv")


def test_file_that_is_not_a_table(tmp_path):
    png = tmp_path / "picture.csv"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    with pytest.raises(crmlab.DataError):
        crmlab.read_transactions(png)
    prose = _csv(tmp_path, "Dear customer\nthank you for your order\n")
    with pytest.raises(crmlab.DataError):
        crmlab.read_transactions(prose)


def test_dates_in_other_formats(tmp_path):
    path = _csv(tmp_path, "customer_id,date,amount\na,31/01/2024,3\nb,01/02/2024,4\n")
    tx = crmlab.read_transactions(path, date_format="%d/%m/%Y")
    assert tx["date"].tolist() == [pd.Timestamp("2024-01-31"), pd.Timestamp("2024-02-01")]
    with pytest.raises(crmlab.DataError, match="with format '%Y-%m-%d'"):
        crmlab.read_transactions(path, date_format="%Y-%m-%d")


def test_amounts_with_currency_symbols_are_numbers():
    frame = pd.DataFrame(
        {"customer_id": [1, 2], "date": ["2024-01-01", "2024-01-02"], "amount": ["$1,200.50", "3"]}
    )
    assert crmlab.validate_transactions(frame)["amount"].tolist() == [1200.5, 3.0]


# ---------------------------------------------------------------------- policies


def _with_returns_and_duplicates() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 2, 2, 3],
            "date": pd.to_datetime(
                ["2024-01-01", "2024-01-01", "2024-01-01", "2024-01-02", "2024-01-02", "2024-01-03"]
            ),
            "amount": [10.0, 10.0, -4.0, 5.0, -5.0, 8.0],
        }
    )


def test_keep_policy_reports_but_keeps_everything():
    frame = _with_returns_and_duplicates()
    original = frame.copy()
    tx = crmlab.validate_transactions(frame)
    pd.testing.assert_frame_equal(frame, original)  # input untouched
    assert len(tx) == 6
    report = data_report(tx)
    assert report.rows_excluded == 0
    assert any("1 exact duplicate rows kept" in n for n in report.notes)
    assert any("2 rows with negative amounts" in n for n in report.notes)


def test_drop_policies_count_what_they_remove():
    tx = crmlab.validate_transactions(
        _with_returns_and_duplicates(), returns="drop", duplicates="drop"
    )
    report = data_report(tx)
    assert report.excluded == {"exact duplicate rows": 1, "negative amounts (returns)": 2}
    assert report.rows_in - report.rows_excluded == report.rows_out == len(tx) == 3


def test_net_policy_nets_returns_within_customer_date():
    tx = crmlab.validate_transactions(_with_returns_and_duplicates(), returns="net")
    assert tx.set_index("customer_id")["amount"].to_dict() == {1: 16.0, 3: 8.0}
    report = data_report(tx)
    assert report.rows_in - report.rows_excluded == report.rows_out == 2


def test_bad_policy_names():
    with pytest.raises(crmlab.DataError, match="'keep', 'net' or 'drop'"):
        crmlab.validate_transactions(_with_returns_and_duplicates(), returns="ignore")
    with pytest.raises(crmlab.DataError, match="not a table"):
        crmlab.validate_transactions(np.zeros(3))


def test_report_is_readable():
    tx = crmlab.validate_transactions(_with_returns_and_duplicates(), duplicates="drop")
    text = str(data_report(tx))
    assert "6 rows read, 5 kept" in text
    assert "excluded 1 rows: exact duplicate rows" in text


def test_validated_frames_save_to_parquet_with_their_report(tmp_path):
    """attrs hold plain values: pandas writes them to Parquet as JSON."""
    tx = crmlab.load_dataset("cdnow_sample")
    tx.to_parquet(tmp_path / "tx.parquet")
    back = pd.read_parquet(tmp_path / "tx.parquet")
    assert len(back) == len(tx)
    assert data_report(back).rows_out == data_report(tx).rows_out == len(tx)
