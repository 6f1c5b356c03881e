"""crmlab.checks: the validation rules every layer calls, against brute-force references."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmlab import checks
from crmlab.errors import DataError, require_columns


def _format(value: float, decimals: int, decimal: str, thousands: str) -> str:
    """A number as a locale would write it (reference: Python's own formatting)."""
    text = f"{abs(value):,.{decimals}f}" if decimals else f"{abs(value):,.0f}"
    text = text.replace(",", "\0").replace(".", decimal).replace("\0", thousands)
    return ("-" if value < 0 else "") + text


@pytest.mark.parametrize(("decimal", "thousands"), [(".", ","), (",", "."), (",", " "), (".", "")])
def test_parse_amounts_reads_every_convention_exactly(rng, decimal, thousands):
    values = np.round(rng.uniform(-2e6, 2e6, 400), 2)
    decimals = rng.integers(1, 3, 400)
    text = [_format(v, int(d), decimal, thousands) for v, d in zip(values, decimals, strict=True)]
    out = checks.parse_amounts(
        pd.Series(text), "column 'x'", decimal=decimal, thousands=thousands or None
    )
    expected = [round(v, int(d)) for v, d in zip(values, decimals, strict=True)]
    np.testing.assert_allclose(out.to_numpy(), expected, rtol=0, atol=1e-9)


@pytest.mark.parametrize(("decimal", "thousands"), [(".", ","), (",", ".")])
def test_parse_amounts_tells_the_convention_from_two_decimals(rng, decimal, thousands):
    values = np.round(rng.uniform(0, 5e4, 200), 2)
    text = pd.Series([_format(v, 2, decimal, thousands) for v in values])
    parsed = checks.Parsed()
    out = checks.parse_amounts(text, "column 'x'", parsed=parsed)
    np.testing.assert_allclose(out.to_numpy(), values, atol=1e-9)
    assert parsed.decimal == decimal


@pytest.mark.parametrize(
    "text", [["1.234", "12.500"], ["1,234", "999,000"], ["-1.234"], ["$1.234"]]
)
def test_parse_amounts_refuses_ambiguous_columns(text):
    with pytest.raises(DataError, match="is ambiguous"):
        checks.parse_amounts(pd.Series(text), "column 'x'")


@pytest.mark.parametrize("text", [["1.234", "0.5"], ["1.234", "1234.567"], ["1.234", "12.5"]])
def test_one_value_proves_a_decimal_point(text):
    out = checks.parse_amounts(pd.Series(text), "column 'x'")
    assert out.iloc[0] == 1.234


def test_parse_amounts_keeps_numbers_and_reads_excel_text_cells():
    mixed = pd.Series([1.5, "29,33", None, 7], dtype=object)
    out = checks.parse_amounts(mixed, "column 'x'")
    assert out.iloc[0] == 1.5 and out.iloc[1] == 29.33 and np.isnan(out.iloc[2])
    assert out.iloc[3] == 7.0


def test_integer_codes_match_a_brute_force_round_trip(rng):
    numbers = rng.integers(-(10**12), 10**12, 300)
    texts = [str(n) for n in numbers] + ["0", "7", "-12"]
    odd = ["007", "+7", "-0", "00", "7.0", " 7", "7 ", "1e3", "-07", "x"]
    assert checks.integer_codes(pd.Series(texts)).tolist() == [int(t) for t in texts]
    for text in odd:
        round_trip = str(int(text)) == text if text.strip().lstrip("+-").isdigit() else False
        assert round_trip is False
        assert checks.integer_codes(pd.Series(["5", text])) is None, text


def test_clean_ids_strip_and_count():
    parsed = checks.Parsed()
    ids = checks.clean_ids(pd.Series([" A1", "A1 ", "007", "7"]), "column 'id'", parsed)
    assert ids.tolist() == ["A1", "A1", "007", "7"]
    assert parsed.ids_stripped == 2
    assert "1 merged with another id" in parsed.notes[0]
    with pytest.raises(DataError, match="1 missing or blank value, first at row 2"):
        checks.clean_ids(pd.Series(["a", " "]), "column 'id'")


@pytest.mark.parametrize(
    ("text", "kwargs", "expected"),
    [
        (["03/04/2024", "13/04/2024"], {}, ["2024-04-03", "2024-04-13"]),
        (["03/04/2024", "04/13/2024"], {}, ["2024-03-04", "2024-04-13"]),
        (["03/04/24"], {"dayfirst": True}, ["2024-04-03"]),
        (["03-04-2024 10:30"], {"dayfirst": False}, ["2024-03-04 10:30"]),
        (["3 April 2024"], {}, ["2024-04-03"]),
        (
            ["2024-04-03T10:00:00Z", "2024-04-03T10:00:00-05:00"],
            {},
            ["2024-04-03 10:00", "2024-04-03 15:00"],
        ),  # noqa: E501
    ],
)
def test_parse_dates_reads_what_the_values_prove(text, kwargs, expected):
    out = checks.parse_dates(pd.Series(text), "column 'd'", **kwargs)
    assert out.tolist() == [pd.Timestamp(e) for e in expected]


def test_excel_serials_use_the_1899_12_30_origin():
    # Excel shows serial 45292 as 2024-01-01 and 60 as its fictitious 1900-02-29
    out = checks.parse_dates(pd.Series([45292.0, 45292.25]), "column 'd'")
    assert out.tolist() == [pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-01 06:00")]


def test_time_zone_aware_datetimes_become_utc():
    parsed = checks.Parsed()
    aware = pd.Series(pd.to_datetime(["2024-01-01 01:00"]).tz_localize("Europe/Berlin"))
    out = checks.parse_dates(aware, "column 'd'", parsed=parsed)
    assert out.tolist() == [pd.Timestamp("2024-01-01 00:00")]
    assert parsed.utc_converted == 1


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT * FROM t", None),
        ("WITH a AS (SELECT 1) SELECT * FROM a", None),
        ("SELECT 1 UNION ALL SELECT 2", None),
        ("select * from t;", None),
        ("SELECT * INTO t2 FROM t", "found INTO"),
        ("DROP TABLE t", "found DROP"),
        ("SELECT 1; SELECT 2", "2 statements"),
        ("", "is empty"),
        ("SELEC * FRM t", "found SELEC"),
    ],
)
def test_require_select_query(sql, message):
    if message is None:
        checks.require_select_query(sql, "sqlite")
    else:
        with pytest.raises(DataError, match=message):
            checks.require_select_query(sql, "sqlite")


def test_data_modifying_cte_is_refused():
    sql = "WITH gone AS (DELETE FROM t RETURNING *) SELECT * FROM gone"
    with pytest.raises(DataError, match="not a read-only SELECT"):
        checks.require_select_query(sql, "postgresql")


def test_reject_rows_counts_and_names_the_first_row():
    values = pd.Series([1.0, np.nan, np.nan])
    with pytest.raises(DataError, match=r"column 'x' has 2 bad values, first at row 2: \(empty\)"):
        checks.reject_rows("x", values.isna(), values, "bad value", "Fix.", plural="bad values")
    checks.reject_rows("x", np.zeros(3, bool), values, "bad value", "Fix.")  # nothing to raise


def test_frame_and_parameter_rules():
    frame = pd.DataFrame([[1, 2]], columns=["a", "a"])
    with pytest.raises(DataError, match="duplicate column names: 'a' \\(2 times\\)"):
        require_columns(frame, ["a"], "input")
    with pytest.raises(DataError, match="lacks column\\(s\\) 'b'"):
        require_columns(pd.DataFrame({"a": [1]}), ["b"], "input")
    with pytest.raises(DataError, match="'n' is True; give a whole number >= 1"):
        checks.check_count("n", True)
    with pytest.raises(DataError, match="'rate' is nan; give a positive number"):
        checks.check_positive(rate=float("nan"))
    with pytest.raises(DataError, match="'p' is 1.5; give a number in \\[0, 1\\]"):
        checks.check_fraction(p=1.5)
    with pytest.raises(DataError, match="end='soon' is not a date"):
        checks.timestamp("soon", "end")
    assert checks.timestamp("", "end", optional=True) is None
    with pytest.raises(DataError, match="1 value that is not positive, first at row 2"):
        checks.require_positive(pd.Series([1.0, 0.0]), "x")
    with pytest.raises(DataError, match="missing or not finite, first at row 1"):
        checks.require_finite(pd.Series([np.inf]), "x")
    with pytest.raises(DataError, match="input column 'a' has 1 missing value"):
        checks.require_no_missing(pd.DataFrame({"a": [None]}), ["a"], "input")
