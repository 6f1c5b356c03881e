"""The bad-input catalogue (issue 13, sections 1 and 4): one case per awkward input.

Each case builds its input in ``tmp_path`` and states the exact outcome: either
the :class:`~crmlab.errors.DataError` text (the problem and the fix), or the
correct result. After every case the input files' SHA-256 are unchanged and no
file was created (sources are only ever read; a typo never creates a database).

The other sections of the catalogue live beside the code they test: section 2
(models: a broken fit is an error) in ``tests/models/test_base.py`` and the holdout
warning in ``tests/test_summary.py``; section 3 (report safety: escaping, outputs
never overwrite inputs, concurrent runs, parameter files) in
``tests/test_report_safety.py``; the CLI's sources in ``tests/test_cli.py``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest

import crmlab
from crmlab.data import data_report, sha256
from crmlab.errors import DataError

MAP = {"customer_id": "Cust", "date": "OrderDate", "amount": "Revenue"}
Outcome = list[str] | Callable[[pd.DataFrame], None]
CASES: dict[str, Callable[[Path], tuple[list[Path], Callable[[], Any], Outcome]]] = {}


def case(name: str):
    def register(build):
        assert name not in CASES, name
        CASES[name] = build
        return build

    return register


def text_file(tmp: Path, body: str, name: str = "orders.csv", encoding: str = "utf-8") -> Path:
    path = tmp / name
    path.write_bytes(body.encode(encoding))
    return path


def read(path: Path | str, **kwargs: Any) -> Callable[[], pd.DataFrame]:
    return lambda: crmlab.read_transactions(path, **kwargs)


def amounts(*expected: float, **report: Any) -> Callable[[pd.DataFrame], None]:
    def check(tx: pd.DataFrame) -> None:
        assert tx["amount"].tolist() == pytest.approx(list(expected))
        rep = data_report(tx)
        for key, value in report.items():
            assert getattr(rep, key) == value, (key, getattr(rep, key))

    return check


def dates(*expected: str, order: str | None = None) -> Callable[[pd.DataFrame], None]:
    def check(tx: pd.DataFrame) -> None:
        assert tx["date"].tolist() == [pd.Timestamp(d) for d in expected]
        assert tx["date"].dtype == "datetime64[ns]"
        if order is not None:
            assert order in data_report(tx).date_order

    return check


# --------------------------------------------------------------- decimal conventions


@case("decimal comma in a ;-separated file is 29.33, not 2933")
def _(tmp):
    p = text_file(tmp, "Cust;OrderDate;Revenue\nA;2024-01-05;29,33\nB;2024-01-06;5,5\n")
    return [p], read(p, **MAP), amounts(29.33, 5.5, decimal=",")


@case("thousands dot and decimal comma: 1.234,50 is 1234.5")
def _(tmp):
    p = text_file(tmp, "Cust;OrderDate;Revenue\nA;2024-01-05;1.234,50\nB;2024-01-06;7,00\n")
    return [p], read(p, **MAP), amounts(1234.5, 7.0, decimal=",")


@case("thousands comma and decimal point: 1,234.50 is 1234.5")
def _(tmp):
    p = text_file(tmp, 'Cust,OrderDate,Revenue\nA,2024-01-05,"1,234.50"\nB,2024-01-06,0.5\n')
    return [p], read(p, **MAP), amounts(1234.5, 0.5, decimal=".")


@case("amounts like 1.234 only are ambiguous: error says how to choose")
def _(tmp):
    p = text_file(tmp, "Cust;OrderDate;Revenue\nA;2024-01-05;1.234\nB;2024-01-06;2.500\n")
    return (
        [p],
        read(p, **MAP),
        ["column 'Revenue' (mapped to amount) is ambiguous", "'1.234' (row 1)", "decimal=','"],
    )


@case("amounts like 1,234 only are ambiguous too")
def _(tmp):
    p = text_file(tmp, "Cust;OrderDate;Revenue\nA;2024-01-05;1,234\nB;2024-01-06;2,500\n")
    return [p], read(p, **MAP), ["is ambiguous", "decimal='.'"]


@case("decimal=',' settles the ambiguity: 1.234 is 1234")
def _(tmp):
    p = text_file(tmp, "Cust;OrderDate;Revenue\nA;2024-01-05;1.234\nB;2024-01-06;2.500\n")
    return [p], read(p, **MAP, decimal=","), amounts(1234.0, 2500.0, decimal=",")


@case("decimal='.' settles the ambiguity: 1.234 is 1.234")
def _(tmp):
    p = text_file(tmp, "Cust;OrderDate;Revenue\nA;2024-01-05;1.234\nB;2024-01-06;2.500\n")
    return [p], read(p, **MAP, decimal="."), amounts(1.234, 2.5, decimal=".")


@case("a column mixing 29,33 and 12.50 is refused with both rows")
def _(tmp):
    p = text_file(tmp, "Cust;OrderDate;Revenue\nA;2024-01-05;12.50\nB;2024-01-06;29,33\n")
    return [p], read(p, **MAP), ["mixes number conventions", "row 1 has '12.50'", "row 2"]


@case("currency symbols before or after are stripped: €12,50 and 3,10 €")
def _(tmp):
    p = text_file(tmp, "Cust;OrderDate;Revenue\nA;2024-01-05;€12,50\nB;2024-01-06;3,10 €\n")
    return [p], read(p, **MAP), amounts(12.5, 3.1, decimal=",")


@case("a symbol inside a number is not stripped: 12$50 is refused")
def _(tmp):
    p = text_file(tmp, "Cust,OrderDate,Revenue\nA,2024-01-05,12$50\nB,2024-01-06,3.10\n")
    return [p], read(p, **MAP), ["1 value that is not a number", "first at row 1: '12$50'"]


@case("thousands=' ' reads 1 234,50 with decimal=','")
def _(tmp):
    p = text_file(tmp, "Cust;OrderDate;Revenue\nA;2024-01-05;1 234,50\nB;2024-01-06;3,00\n")
    return [p], read(p, **MAP, decimal=",", thousands=" "), amounts(1234.5, 3.0)


@case("plain amounts with a point stay as they are (fast path)")
def _(tmp):
    p = text_file(tmp, "Cust,OrderDate,Revenue\nA,2024-01-05,10\nB,2024-01-06,20.5\n")
    return [p], read(p, **MAP), amounts(10.0, 20.5, decimal=".")


@case("whole-number amounts need no convention")
def _(tmp):
    p = text_file(tmp, "Cust;OrderDate;Revenue\nA;2024-01-05;10\nB;2024-01-06;-3\n")
    return [p], read(p, **MAP), amounts(10.0, -3.0, decimal=None)


@case("negative amounts with a symbol: -$5.00 and $-2.50")
def _(tmp):
    p = text_file(tmp, "Cust,OrderDate,Revenue\nA,2024-01-05,-$5.00\nB,2024-01-06,$-2.50\n")
    return [p], read(p, **MAP), amounts(-5.0, -2.5)


@case("an unsupported decimal option is refused")
def _(tmp):
    p = text_file(tmp, "Cust,OrderDate,Revenue\nA,2024-01-05,10\n")
    return [p], read(p, **MAP, decimal=";"), ["decimal=';' is not supported"]


# ------------------------------------------------------------------------------ dates


@case("day-first dates whose days are all <= 12 are ambiguous: dayfirst= is asked for")
def _(tmp):
    p = text_file(tmp, "Cust,OrderDate,Revenue\nA,03/04/2024,1\nB,05/06/2024,2\n")
    return (
        [p],
        read(p, **MAP),
        [
            "column 'OrderDate' (mapped to date) is ambiguous",
            "'03/04/2024' at row 1",
            "dayfirst=True",
            "date_format=",
        ],
    )


@case("dayfirst=True reads 03/04/2024 as 3 April")
def _(tmp):
    p = text_file(tmp, "Cust,OrderDate,Revenue\nA,03/04/2024,1\nB,05/06/2024,2\n")
    return [p], read(p, **MAP, dayfirst=True), dates("2024-04-03", "2024-06-05", order="day")


@case("dayfirst=False reads 03/04/2024 as 4 March")
def _(tmp):
    p = text_file(tmp, "Cust,OrderDate,Revenue\nA,03/04/2024,1\nB,05/06/2024,2\n")
    return [p], read(p, **MAP, dayfirst=False), dates("2024-03-04", "2024-05-06", order="month")


@case("a day above 12 proves day first, recorded in the report")
def _(tmp):
    p = text_file(tmp, "Cust,OrderDate,Revenue\nA,03.04.2024,1\nB,25.06.2024,2\n")
    return [p], read(p, **MAP), dates("2024-04-03", "2024-06-25", order="day first")


@case("a second part above 12 proves month first")
def _(tmp):
    p = text_file(tmp, "Cust,OrderDate,Revenue\nA,03/04/2024,1\nB,12/25/2024,2\n")
    return [p], read(p, **MAP), dates("2024-03-04", "2024-12-25", order="month first")


@case("day-first and month-first proof in one column is refused")
def _(tmp):
    p = text_file(tmp, "Cust,OrderDate,Revenue\nA,25/04/2024,1\nB,04/25/2024,2\n")
    return [p], read(p, **MAP), ["day first (row 1: '25/04/2024')", "month first (row 2"]


@case("dayfirst= that contradicts the data is refused")
def _(tmp):
    p = text_file(tmp, "Cust,OrderDate,Revenue\nA,25/04/2024,1\n")
    return [p], read(p, **MAP, dayfirst=False), ["dayfirst=False contradicts the data"]


@case("Excel serial numbers in an Excel file become dates (origin 1899-12-30)")
def _(tmp):
    p = tmp / "orders.xlsx"
    pd.DataFrame({"Cust": ["A", "B"], "OrderDate": [45292, 45293.5], "Revenue": [1, 2]}).to_excel(
        p, index=False
    )
    return [p], read(p, **MAP), dates("2024-01-01", "2024-01-02 12:00", order="Excel serial")


@case("Excel serial numbers written to a CSV become dates too")
def _(tmp):
    p = text_file(tmp, "Cust,OrderDate,Revenue\nA,45292,1\nB,45658,2\n")
    return [p], read(p, **MAP), dates("2024-01-01", "2025-01-01", order="Excel serial")


@case("numbers that are neither serials nor YYYYMMDD are refused, not 1970")
def _(tmp):
    p = text_file(tmp, "Cust,OrderDate,Revenue\nA,45292,1\nB,123,2\n")
    return [p], read(p, **MAP), ["1 number that is not a date, first at row 2: 123.0", "Excel"]


@case("YYYYMMDD integers are dates")
def _(tmp):
    p = text_file(tmp, "Cust,OrderDate,Revenue\nA,20240105,1\nB,20240106,2\n")
    return [p], read(p, **MAP), dates("2024-01-05", "2024-01-06", order="YYYYMMDD")


@case("mixed time-zone offsets are converted to UTC and counted")
def _(tmp):
    p = text_file(
        tmp,
        "Cust,OrderDate,Revenue\nA,2024-01-01T10:00:00+01:00,1\nB,2024-06-01T23:30:00+02:00,2\n",
    )

    def check(tx):
        dates("2024-01-01 09:00", "2024-06-01 21:30")(tx)
        assert data_report(tx).utc_converted == 2
        assert any("converted to UTC" in n for n in data_report(tx).notes)

    return [p], read(p, **MAP), check


@case("dates with and without an offset in one column are refused")
def _(tmp):
    p = text_file(tmp, "Cust,OrderDate,Revenue\nA,2024-01-01T10:00:00+01:00,1\nB,2024-06-01,2\n")
    return [p], read(p, **MAP), ["mixes dates with a time-zone offset (row 1", "without one (row 2"]


@case("year 0001 names column, row and value")
def _(tmp):
    p = text_file(tmp, "Cust,OrderDate,Revenue\nA,2024-01-01,1\nB,0001-01-01,2\n")
    return (
        [p],
        read(p, **MAP),
        [
            "column 'OrderDate' (mapped to date) has 1 date before 1900, first at row 2: "
            "'0001-01-01'"
        ],
    )


@case("year 9999 is a date in the future, not a crash")
def _(tmp):
    p = text_file(tmp, "Cust,OrderDate,Revenue\nA,2024-01-01,1\nB,9999-12-31,2\n")
    return [p], read(p, **MAP), ["1 date in the future", "first at row 2: '9999-12-31'"]


@case("a bad month names the user's column: the issue's own example")
def _(tmp):
    p = text_file(tmp, "Cust,OrderDate,Revenue\nA,2024-01-01,1\nB,2024-13-01,2\n")
    return (
        [p],
        read(p, **MAP),
        [
            "column 'OrderDate' (mapped to date) has 1 value that is not a date, first at row 2: "
            "'2024-13-01' (rows count from 1 at the first data row)",
            "date_format=",
        ],
    )


@case("date_format= reads day-first dates strictly")
def _(tmp):
    p = text_file(tmp, "Cust,OrderDate,Revenue\nA,31/01/2024,3\nB,01/02/2024,4\n")
    return [p], read(p, **MAP, date_format="%d/%m/%Y"), dates("2024-01-31", "2024-02-01")


@case("ISO dates with times are kept")
def _(tmp):
    p = text_file(tmp, "Cust,OrderDate,Revenue\nA,2024-01-31 10:15:00,3\nB,2024-02-01,4\n")
    return [p], read(p, **MAP), dates("2024-01-31 10:15", "2024-02-01")


# -------------------------------------------------------------------------- encodings


@case("a Latin-1 file without encoding= names the byte and the line")
def _(tmp):
    body = "Cust,OrderDate,Revenue\nA,2024-01-01,1\nCafé,2024-01-02,2\n"
    p = text_file(tmp, body, encoding="latin-1")
    return (
        [p],
        read(p, **MAP),
        ["is not UTF-8 text: byte 0xe9 at line 3", "encoding='latin-1'", "encoding='cp1252'"],
    )


@case("encoding='latin-1' reads it")
def _(tmp):
    body = "Cust,OrderDate,Revenue\nA,2024-01-01,1\nCafé,2024-01-02,2\n"
    p = text_file(tmp, body, encoding="latin-1")

    def check(tx):
        assert tx["customer_id"].tolist() == ["A", "Café"]
        assert data_report(tx).encoding == "latin-1"

    return [p], read(p, **MAP, encoding="latin-1"), check


@case("encoding='cp1252' reads a euro sign and a decimal comma")
def _(tmp):
    p = text_file(tmp, "Cust;OrderDate;Revenue\nA;2024-01-01;12,50 €\n", encoding="cp1252")
    return [p], read(p, **MAP, encoding="cp1252"), amounts(12.5, decimal=",")


@case("an unknown encoding name is refused")
def _(tmp):
    p = text_file(tmp, "Cust,OrderDate,Revenue\nA,2024-01-01,1\n")
    return [p], read(p, **MAP, encoding="klingon"), ["encoding='klingon' is not a known"]


@case("a UTF-8 byte-order mark does not hide the first column")
def _(tmp):
    p = text_file(tmp, "\ufeffCust,OrderDate,Revenue\nA,2024-01-01,1\n")
    return [p], read(p, **MAP), amounts(1.0)


# -------------------------------------------------------------------------------- ids


@case("ids 007 and 7 are two customers (never cast to numbers)")
def _(tmp):
    p = text_file(
        tmp, "Cust,OrderDate,Revenue\n007,2024-01-01,1\n7,2024-01-02,2\n1e3,2024-01-03,3\n"
    )

    def check(tx):
        assert tx["customer_id"].tolist() == ["007", "7", "1e3"]
        assert tx["customer_id"].nunique() == 3

    return [p], read(p, **MAP), check


@case("ids ' A1' and 'A1 ' are one customer, and the stripping is counted")
def _(tmp):
    p = text_file(
        tmp, 'Cust,OrderDate,Revenue\n" A1",2024-01-01,1\n"A1 ",2024-01-02,2\nB,2024-01-03,3\n'
    )

    def check(tx):
        assert tx["customer_id"].tolist() == ["A1", "A1", "B"]
        assert data_report(tx).ids_stripped == 2
        assert any(
            "2 customer ids had surrounding spaces removed" in n for n in data_report(tx).notes
        )

    return [p], read(p, **MAP), check


@case("Excel ids: text 007 and number 7 stay apart")
def _(tmp):
    p = tmp / "orders.xlsx"
    frame = pd.DataFrame({"Cust": ["007", 7], "OrderDate": ["2024-01-01"] * 2, "Revenue": [1, 2]})
    frame.to_excel(p, index=False)

    def check(tx):
        assert tx["customer_id"].tolist() == ["007", "7"]

    return [p], read(p, **MAP), check


@case("a blank id is refused with its row")
def _(tmp):
    p = text_file(tmp, 'Cust,OrderDate,Revenue\nA,2024-01-01,1\n"  ",2024-01-02,2\n')
    return (
        [p],
        read(p, **MAP),
        ["column 'Cust' (mapped to customer_id) has 1 missing or blank value, first at row 2"],
    )


# ---------------------------------------------------------------------------- amounts


for _value in ("inf", "-inf", "NaN"):

    @case(f"amount {_value} is refused as not finite")
    def _(tmp, value=_value):
        p = text_file(tmp, f"Cust,OrderDate,Revenue\nA,2024-01-01,1\nB,2024-01-02,{value}\n")
        return (
            [p],
            read(p, **MAP),
            [f"1 value that is not a finite number, first at row 2: '{value}'"],
        )


@case("amount 1e300 is refused as implausible unless allowed")
def _(tmp):
    p = text_file(tmp, "Cust,OrderDate,Revenue\nA,2024-01-01,1\nB,2024-01-02,1e300\n")
    return [p], read(p, **MAP), ["1 implausible value (beyond +-1e12)", "allow_large_amounts=True"]


@case("allow_large_amounts=True keeps 2e12")
def _(tmp):
    p = text_file(tmp, "Cust,OrderDate,Revenue\nA,2024-01-01,1\nB,2024-01-02,2e12\n")
    return [p], read(p, **MAP, allow_large_amounts=True), amounts(1.0, 2e12)


@case("an empty amount is a missing value")
def _(tmp):
    p = text_file(tmp, "Cust,OrderDate,Revenue\nA,2024-01-01,1\nB,2024-01-02,\n")
    return (
        [p],
        read(p, **MAP),
        ["column 'Revenue' (mapped to amount) has 1 missing value, first at row 2"],
    )


@case("inf in a Parquet float column is refused")
def _(tmp):
    p = tmp / "orders.parquet"
    pd.DataFrame(
        {
            "Cust": ["A", "B"],
            "OrderDate": pd.to_datetime(["2024-01-01"] * 2),
            "Revenue": [1.0, np.inf],
        }
    ).to_parquet(p)
    return [p], read(p, **MAP), ["1 value that is not a finite number, first at row 2: inf"]


@case("text that is not a number names column and row")
def _(tmp):
    p = text_file(tmp, "Cust,OrderDate,Revenue\nA,2024-01-01,12\nB,2024-01-02,twelve\n")
    return (
        [p],
        read(p, **MAP),
        ["column 'Revenue' (mapped to amount) has 1 value that is not a number", "'twelve'"],
    )


# --------------------------------------------------------------------- column names


@case("duplicate column names in a CSV are refused")
def _(tmp):
    p = text_file(tmp, "Cust,OrderDate,Revenue,Revenue\nA,2024-01-01,1,2\n")
    return [p], read(p, **MAP), ["duplicate column names: 'Revenue' (2 times)"]


@case("duplicate column names in an Excel sheet are refused")
def _(tmp):
    p = tmp / "orders.xlsx"
    pd.DataFrame(
        [["A", "2024-01-01", 1, 2]], columns=["Cust", "OrderDate", "Revenue", "Revenue"]
    ).to_excel(p, index=False)
    return [p], read(p, **MAP), ["duplicate column names: 'Revenue' (2 times)"]


@case("duplicate column names in a query result are refused")
def _(tmp):
    p = _sqlite(tmp)
    q = "SELECT Cust, OrderDate, Revenue, Revenue AS Revenue FROM orders"
    return [p], read(p, **MAP, query=q), ["duplicate column names: 'Revenue' (2 times)"]


@case("a missing column lists what is there and the close match")
def _(tmp):
    p = text_file(tmp, "cust,OrderDate,Revenue\nA,2024-01-01,1\n")
    return [p], read(p, **MAP), ["has no column 'Cust'", "'cust'", "'Cust' -> 'cust'?"]


@case("one column mapped twice is refused")
def _(tmp):
    p = text_file(tmp, "Cust,OrderDate,Revenue\nA,2024-01-01,1\n")
    return (
        [p],
        read(p, customer_id="Cust", date="OrderDate", amount="Cust"),
        ["mapped to both customer_id and amount"],
    )


# --------------------------------------------------------------------- reader options


@case("load_source passes data_options (decimal, dayfirst) to the reader")
def _(tmp):
    p = text_file(tmp, "Cust;OrderDate;Revenue\nA;03/04/2024;1.234\n")
    run = lambda: crmlab.load_source("", str(p), MAP, decimal=",", dayfirst=True)  # noqa: E731

    def check(tx):
        amounts(1234.0)(tx)
        dates("2024-04-03")(tx)

    return [p], run, check


@case("an unknown reader option lists the valid ones")
def _(tmp):
    p = text_file(tmp, "Cust,OrderDate,Revenue\nA,2024-01-01,1\n")
    run = lambda: crmlab.load_source("", str(p), MAP, decimals=",")  # noqa: E731
    return (
        [p],
        run,
        ["unknown reader option 'decimals' (did you mean 'decimal'?)", "dayfirst:", "encoding:"],
    )


@case("reader options with a bundled dataset are refused, not ignored")
def _(tmp):
    return (
        [],
        lambda: crmlab.load_source("cdnow_sample", "", "", decimal=","),
        ["apply to a client's data_path"],
    )


# ------------------------------------------------------------- what passes today still


@case("a clean CSV with extras is read and mapped")
def _(tmp):
    p = text_file(tmp, "Cust,OrderDate,Revenue,Dept\nA,2024-01-05,10,x\nB,2024-02-10,20.5,y\n")

    def check(tx):
        assert list(tx.columns) == ["customer_id", "date", "amount", "category"]
        assert tx["category"].tolist() == ["x", "y"]
        assert data_report(tx).columns["amount"] == "Revenue"

    return [p], read(p, **MAP, category="Dept"), check


@case("a gzipped semicolon file is read")
def _(tmp):
    import gzip

    p = tmp / "orders.csv.gz"
    p.write_bytes(gzip.compress(b"Cust;OrderDate;Revenue\nA;2024-01-05;10\n"))
    return [p], read(p, **MAP), amounts(10.0)


@case("a missing file is an error that suggests the close name")
def _(tmp):
    text_file(tmp, "Cust,OrderDate,Revenue\nA,2024-01-01,1\n", name="orders.csv")
    return (
        [tmp / "orders.csv"],
        read(tmp / "order.csv", **MAP),
        ["does not exist", "Did you mean", "orders.csv"],
    )


@case("an empty file is refused")
def _(tmp):
    p = text_file(tmp, "")
    return [p], read(p, **MAP), ["could not read", "the file is empty"]


@case("a binary file is refused as not text")
def _(tmp):
    p = tmp / "picture.csv"
    p.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    return [p], read(p, **MAP), ["it is not a text file"]


@case("a header-only file has no rows")
def _(tmp):
    p = text_file(tmp, "Cust,OrderDate,Revenue\n")
    return [p], read(p, **MAP), ["has no rows: there is nothing to analyse"]


@case("a missing date names column and row")
def _(tmp):
    p = text_file(tmp, "Cust,OrderDate,Revenue\nA,2024-01-01,1\nB,,2\n")
    return (
        [p],
        read(p, **MAP),
        ["column 'OrderDate' (mapped to date) has 1 missing date, first at row 2"],
    )


@case("an Excel sheet that does not exist lists the sheets")
def _(tmp):
    p = tmp / "orders.xlsx"
    pd.DataFrame({"Cust": ["A"], "OrderDate": ["2024-01-01"], "Revenue": [1]}).to_excel(
        p, index=False, sheet_name="Data"
    )
    return [p], read(p, **MAP, sheet="Orders"), ["has no sheet 'Orders'; its sheets are 'Data'"]


@case("an Excel sheet chosen by name is read")
def _(tmp):
    p = tmp / "orders.xlsx"
    pd.DataFrame({"Cust": ["A"], "OrderDate": ["2024-01-01"], "Revenue": [1]}).to_excel(
        p, index=False, sheet_name="Data"
    )
    return [p], read(p, **MAP, sheet="Data"), amounts(1.0)


@case("returns='net' nets a return against the same day's purchase")
def _(tmp):
    p = text_file(tmp, "Cust,OrderDate,Revenue\nA,2024-01-01,10\nA,2024-01-01,-4\nB,2024-01-02,3\n")

    def check(tx):
        assert tx["amount"].tolist() == [6.0, 3.0]
        assert data_report(tx).excluded == {"rows merged by netting returns": 1}

    return [p], read(p, **MAP, returns="net"), check


# ---------------------------------------------------------------- read-only sources


def _sqlite(tmp: Path) -> Path:
    path = tmp / "shop.sqlite"
    frame = pd.DataFrame(
        {"Cust": ["A", "B"], "OrderDate": ["2024-01-01", "2024-01-02"], "Revenue": [1.0, 2.0]}
    )
    with sqlite3.connect(path) as con:
        frame.to_sql("orders", con, index=False)
    con.close()
    return path


def _duckdb(tmp: Path) -> Path:
    path = tmp / "shop.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(
            "CREATE TABLE orders AS "
            "SELECT 'A' AS Cust, DATE '2024-01-01' AS OrderDate, 1.0 AS Revenue"
        )
    return path


REFUSED = {
    "DROP TABLE orders": "found DROP",
    "CREATE TABLE copy AS SELECT * FROM orders": "found CREATE",
    "VACUUM INTO 'copy.db'": "found VACUUM",
    "SELECT * FROM orders; DROP TABLE orders": "query has 2 statements",
    "ATTACH 'other.db' AS other": "found ATTACH",
    "PRAGMA writable_schema = 1": "found PRAGMA",
    "INSERT INTO orders VALUES ('C', '2024-01-03', 3)": "found INSERT",
    "DELETE FROM orders": "found DELETE",
    "UPDATE orders SET Revenue = 0": "found UPDATE",
}

for _sql, _why in REFUSED.items():

    @case(f"SQLite query refused: {_sql}")
    def _(tmp, sql=_sql, why=_why):
        p = _sqlite(tmp)
        return [p], read(p, **MAP, query=sql), [why, "crmlab"]

    @case(f"sqlite:/// URL query refused: {_sql}")
    def _(tmp, sql=_sql, why=_why):
        p = _sqlite(tmp)
        return [p], read(f"sqlite:///{p}", **MAP, query=sql), [why]


for _sql, _why in {
    "DROP TABLE orders": "found DROP",
    "COPY orders TO 'out.csv'": "found COPY",
    "SELECT 1 AS Cust; CREATE TABLE x (a INT)": "query has 2 statements",
}.items():

    @case(f"DuckDB query refused: {_sql}")
    def _(tmp, sql=_sql, why=_why):
        p = _duckdb(tmp)
        return [p], read(p, **MAP, query=sql), [why]


@case("a WITH query is read")
def _(tmp):
    p = _sqlite(tmp)
    q = "WITH big AS (SELECT * FROM orders WHERE Revenue > 1) SELECT * FROM big"
    return [p], read(p, **MAP, query=q), amounts(2.0)


@case("a DuckDB table is read read-only")
def _(tmp):
    p = _duckdb(tmp)
    return [p], read(f"duckdb:///{p}", **MAP, table="orders"), amounts(1.0)


@case("a table name cannot smuggle a statement")
def _(tmp):
    p = _sqlite(tmp)
    return (
        [p],
        read(p, **MAP, table='orders"; DROP TABLE orders; --'),
        ["could not run the query", "Its tables are 'orders'"],
    )


@case("a sqlite:/// URL with a typo is an error and creates no file")
def _(tmp):
    p = _sqlite(tmp)
    return (
        [p],
        read(f"sqlite:///{tmp / 'shopp.sqlite'}", **MAP, table="orders"),
        ["does not exist", "shop.sqlite"],
    )


@case("a SQLite path with a typo is an error and creates no file")
def _(tmp):
    p = _sqlite(tmp)
    return (
        [p],
        read(tmp / "shop2.sqlite", **MAP, table="orders"),
        ["does not exist", "never creates"],
    )


@case("a DuckDB URL with a typo is an error and creates no file")
def _(tmp):
    p = _duckdb(tmp)
    return [p], read(f"duckdb:///{tmp / 'shopp.duckdb'}", **MAP, table="orders"), ["does not exist"]


@case("DuckDB cannot read other files through the query")
def _(tmp):
    p = _duckdb(tmp)
    other = text_file(tmp, "Cust,OrderDate,Revenue\nZ,2024-01-01,9\n", name="other.csv")
    q = f"SELECT * FROM read_csv('{other}')"
    return (
        [p, other],
        read(p, **MAP, query=q),
        ["could not run the query", "disabled by configuration"],
    )


# ----------------------------------------------------------------------------- runner


@pytest.mark.parametrize("name", list(CASES))
def test_catalogue(name: str, tmp_path: Path) -> None:
    inputs, run, outcome = CASES[name](tmp_path)
    before = {p: sha256(p) for p in inputs}
    listing = sorted(tmp_path.rglob("*"))
    if callable(outcome):
        outcome(run())
    else:
        with pytest.raises(DataError) as err:
            run()
        for fragment in outcome:
            assert fragment in str(err.value), f"{fragment!r} not in {str(err.value)!r}"
    assert {p: sha256(p) for p in inputs} == before, "an input file was modified"
    assert sorted(tmp_path.rglob("*")) == listing, "reading created or removed a file"


def test_catalogue_covers_every_bullet():
    """At least one case per bullet of issue 13's sections 1 (except the CLI) and 4."""
    names = " ".join(CASES).lower()
    for word in ("decimal", "ambiguous", "excel serial", "utc", "latin-1", "007", "inf",
                 "1e300", "duplicate column", "user's column", "drop table", "vacuum",
                 "; drop table", "typo"):  # fmt: skip
        assert word in names, word
    assert len(CASES) >= 63
