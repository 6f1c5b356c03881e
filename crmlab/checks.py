"""Validation rules, written once: every layer of crmlab calls these.

Each rule raises one :class:`crmlab.errors.DataError` whose message names the
user's column (``column 'OrderDate' (mapped to date)``), how many rows are
affected, the first of them and its value, and the fix. Rows are counted from 1
at the first data row (a file's header is not counted), in the order of the
source.

Rules for frames and parameters
    :func:`require_columns`, :func:`require_unique_columns`, :func:`reject_rows`,
    :func:`require_no_missing`, :func:`require_finite`, :func:`require_positive`,
    :func:`check_count`, :func:`check_positive`, :func:`check_fraction`,
    :func:`timestamp`, :func:`show`.
Parsers that never guess silently
    :func:`clean_ids` (ids as text, surrounding spaces stripped and counted),
    :func:`parse_amounts` (decimal comma or point told from the values, or an
    error saying the column is ambiguous), :func:`parse_dates` (day or month
    first told from the values, Excel serial numbers, time-zone offsets to UTC,
    or an error).
Read-only SQL
    :func:`require_select_query` (a single SELECT/WITH query, parsed with SQLGlot).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from crmlab.errors import DataError

ROWS = "rows count from 1 at the first data row"
EARLIEST_DATE = pd.Timestamp("1900-01-01")
LARGEST_AMOUNT = 1e12
# Excel serial day numbers (origin 1899-12-30) accepted as dates: 1950-01-01 .. 2099-12-31
EXCEL_ORIGIN = pd.Timestamp("1899-12-30")
EXCEL_SERIALS = (18264, 73050)


def show(value: object, limit: int = 60, missing: str | None = "(empty)") -> str:
    """A value as a user would type it (strings quoted, numpy scalars plain), truncated.

    A missing cell (None, NaT, NaN) shows as ``missing`` unless that is None.
    """
    empty = value is None or value is pd.NaT or (isinstance(value, float) and np.isnan(value))
    if empty and missing is not None:
        return missing
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    if isinstance(value, pd.Timestamp | dt.datetime):
        stamp = pd.Timestamp(value)
        value = str(stamp.date()) if stamp == stamp.normalize() else str(stamp)
    elif isinstance(value, np.generic):
        value = value.item()
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 5] + "...'"


def label(ours: str, theirs: str | None = None) -> str:
    """How a message names a column: ``column 'OrderDate' (mapped to date)``."""
    if theirs is None or str(theirs) == ours:
        return f"column {ours!r}"
    return f"column {str(theirs)!r} (mapped to {ours})"


# ------------------------------------------------------------------- frames, columns


def require_columns(frame: Any, columns: Sequence[str], what: str) -> None:
    """Raise :class:`DataError` unless ``frame`` is a DataFrame with every one of ``columns``.

    The message names the missing columns, the ones there are, and the fix.
    """
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"{what} must be a pandas DataFrame, got {type(frame).__name__}.")
    require_unique_columns(frame.columns, what)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(
            f"{what} lacks column(s) {', '.join(map(repr, missing))}; it has "
            f"{', '.join(map(repr, map(str, frame.columns)))}. "
            "Rename your columns or pass the right names as arguments."
        )


def require_unique_columns(columns: Sequence[Any], what: str) -> None:
    """Raise :class:`DataError` naming every column name that occurs more than once."""
    names = [str(c) for c in columns]
    repeated = sorted({n for n in names if names.count(n) > 1}, key=names.index)
    if repeated:
        counts = ", ".join(f"{n!r} ({names.count(n)} times)" for n in repeated)
        raise DataError(
            f"{what} has duplicate column names: {counts}. crmlab would not know which one to "
            "use; rename or remove the copies in the source."
        )


def reject_rows(
    column: str,
    mask: np.ndarray | pd.Series,
    values: pd.Series,
    problem: str,
    fix: str,
    *,
    plural: str | None = None,
) -> None:
    """Raise :class:`DataError` if any row of ``mask`` is True; do nothing otherwise.

    Parameters
    ----------
    column : str
        How to name the column, e.g. ``label("date", "OrderDate")`` or ``"column 'x'"``;
        a bare name is wrapped as ``column 'name'``.
    mask : array of bool
        The offending rows (by position).
    values : Series
        The values shown; the first offending one is quoted.
    problem, plural : str
        What is wrong with one row and with several ("value that is not a date",
        "values that are not dates"); ``plural`` defaults to ``problem``.
    fix : str
        What the user should do.
    """
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return
    n = int(mask.sum())
    pos = int(np.flatnonzero(mask)[0])
    name = column if column.startswith("column ") or "'" in column else label(column)
    what = problem if n == 1 or plural is None else plural
    index = values.index
    plain = isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1
    where = f"row {pos + 1}" if plain else f"row {pos + 1} (index {show(index[pos])})"
    raise DataError(
        f"{name} has {n:,} {what}, first at {where}: {show(values.iloc[pos])} ({ROWS}). {fix}"
    )


def require_no_missing(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    """Raise :class:`DataError` naming the first missing value in any of ``columns``."""
    require_columns(frame, columns, what)
    for col in columns:
        reject_rows(
            f"{what} column {col!r}",
            frame[col].isna().to_numpy(),
            frame[col],
            "missing value",
            "Fill or remove those rows before the analysis.",
            plural="missing values",
        )


def require_finite(values: pd.Series, column: str, fix: str = "Fix or remove those rows.") -> None:
    """Raise :class:`DataError` for NaN, inf or -inf in a numeric column."""
    arr = np.asarray(values, dtype=float)
    reject_rows(
        column,
        ~np.isfinite(arr),
        values,
        "value that is missing or not finite",
        fix,
        plural="values that are missing or not finite",
    )


def require_positive(values: pd.Series, column: str, *, strict: bool = True) -> None:
    """Raise :class:`DataError` for values that are not (strictly) positive finite numbers."""
    arr = np.asarray(values, dtype=float)
    bad = ~np.isfinite(arr) | ((arr <= 0) if strict else (arr < 0))
    word = "positive" if strict else "zero or positive"
    reject_rows(
        column,
        bad,
        values,
        f"value that is not {word}",
        f"Every value must be a finite {word} number.",
        plural=f"values that are not {word}",
    )


# ------------------------------------------------------------------------ parameters


def check_count(name: str, value: Any, minimum: int = 1) -> int:
    """``value`` as an int, or a DataError if it is not a whole number >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise DataError(
            f"parameter {name!r} is {show(value, missing=None)}; give a whole number >= {minimum}."
        )
    return int(value)


def check_positive(**values: Any) -> None:
    """DataError naming the first parameter that is not a finite positive number."""
    for name, value in values.items():
        ok = isinstance(value, int | float | np.number) and not isinstance(value, bool)
        if not ok or not np.isfinite(value) or value <= 0:
            raise DataError(
                f"parameter {name!r} is {show(value, missing=None)}; give a positive number."
            )


def check_fraction(**values: Any) -> None:
    """DataError naming the first parameter that is not a number in [0, 1]."""
    for name, value in values.items():
        ok = isinstance(value, int | float | np.number) and not isinstance(value, bool)
        if not ok or not 0.0 <= value <= 1.0:
            raise DataError(
                f"parameter {name!r} is {show(value, missing=None)}; give a number in [0, 1]."
            )


def timestamp(value: Any, name: str, *, optional: bool = False) -> pd.Timestamp | None:
    """A date parameter as a Timestamp, or a DataError naming it (None if optional and empty)."""
    if optional and (value is None or (isinstance(value, str) and value == "")):
        return None
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError, OverflowError):
        ts = pd.NaT
    if ts is pd.NaT:
        raise DataError(f"{name}={show(value)} is not a date; use e.g. '1997-09-30'.")
    return ts


# --------------------------------------------------------------------------- parsers


@dataclass
class Parsed:
    """What a parser decided, for the data report."""

    notes: list[str] = field(default_factory=list)
    decimal: str | None = None
    date_order: str | None = None
    utc_converted: int = 0
    ids_stripped: int = 0


def _arrow_text(values: pd.Series) -> Any:
    """A Series of text (or None) as a pyarrow string array; empty strings become null."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(values.array if hasattr(values, "array") else values, from_pandas=True)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if not pa.types.is_string(arr.type) and not pa.types.is_large_string(arr.type):
        arr = pc.cast(arr, pa.string())
    empty = pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(arr)), 0)
    return pc.if_else(empty, pa.scalar(None, arr.type), arr)


def is_text(values: pd.Series) -> bool:
    """True for text columns (string dtype, or object cells as Excel and SQL give them)."""
    return pd.api.types.is_string_dtype(values) or values.dtype == object


def clean_ids(values: pd.Series, column: str, parsed: Parsed | None = None) -> pd.Series:
    """Customer ids as stored: text stays text with surrounding spaces stripped.

    Numbers are never made of text ids ("007" and "7" are two customers); text
    ids lose leading and trailing white space (" A1" and "A1 " are one), and the
    number of rows so changed is recorded in ``parsed``. Missing or blank ids
    raise a :class:`DataError`. Numeric ids (from a typed source) are kept.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if not is_text(values):
        reject_rows(
            column,
            values.isna().to_numpy(),
            values,
            "missing value",
            "Every transaction needs a customer; fill or remove those rows.",
            plural="missing values",
        )
        return values
    if values.dtype == object:  # mixed cells (Excel): numbers written as text, never cast
        values = values.map(lambda v: v if v is None or isinstance(v, str) else _plain(v))
    arr = _arrow_strings(values)
    if arr.null_count == 0 and integer_codes(values, arr) is not None:
        return values  # canonical integers written as text: nothing to strip, nothing blank
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    stripped = pc.utf8_trim_whitespace(arr)
    new_length = pc.binary_length(stripped)
    blank = pc.fill_null(pc.equal(new_length, 0), True)
    reject_rows(
        column,
        blank.to_numpy(zero_copy_only=False),
        values,
        "missing or blank value",
        "Every transaction needs a customer; fill or remove those rows.",
        plural="missing or blank values",
    )
    changed = pc.sum(pc.not_equal(new_length, pc.binary_length(arr))).as_py() or 0
    if not changed:
        return values if pd.api.types.is_string_dtype(values) else values.astype("str")
    out = pd.Series(pd.arrays.ArrowStringArray(stripped), index=values.index, name=values.name)
    out = out.astype("str")
    if parsed is not None:
        parsed.ids_stripped = int(changed)
        merged = values.nunique() - out.nunique()
        parsed.notes.append(
            f"{changed:,} customer ids had surrounding spaces removed"
            + (f" ({merged:,} merged with another id)" if merged > 0 else "")
        )
    return out


def _arrow_strings(values: pd.Series) -> Any:
    """A text Series as a pyarrow (chunked) string array, without copying arrow-backed text."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(values.array, from_pandas=True) if values.dtype != object else None
    if arr is None:
        arr = pa.array(values.to_numpy(), from_pandas=True)
    if not pa.types.is_string(arr.type) and not pa.types.is_large_string(arr.type):
        arr = pc.cast(arr, pa.string())
    return arr


def integer_codes(values: pd.Series, arr: Any = None) -> np.ndarray | None:
    """int64 numbers in one-to-one correspondence with text ids, or None.

    Only when every id is a canonical integer written as text ("7", "-12", never
    "007", "+7" or "7.0"): then the text and the number determine each other, so
    grouping or hashing the numbers is exact and much faster than hashing text.
    The ids themselves stay text.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if not is_text(values):
        return None
    arr = _arrow_strings(values) if arr is None else arr
    if arr.null_count:
        return None
    try:
        numbers = pc.cast(arr, pa.int64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    # the only other texts pyarrow reads as integers: '+7', '007', '00', '-0', '-07'
    lead = pc.or_(pc.starts_with(arr, "+"), pc.starts_with(arr, "-0"))
    zero = pc.and_(pc.starts_with(arr, "0"), pc.greater(pc.binary_length(arr), 1))
    canonical = not pc.any(pc.or_(lead, zero)).as_py()
    return numbers if canonical else None


def _plain(v: Any) -> Any:
    """An Excel cell as id text: 7.0 -> '7', 7.5 -> '7.5' (the cell's number, not a guess)."""
    if isinstance(v, float) and np.isnan(v):
        return None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


_SYMBOLS = "$€£¥"
_STRIP = re.compile(
    rf"^(?P<s1>[-+]?)\s*(?:[{_SYMBOLS}]\s*)?(?P<s2>[-+]?)(?P<body>.*?)(?:\s*[{_SYMBOLS}])?$"
)
_DOT_DEC = r"^(?:\d*\.\d+|\d{1,3}(?:,\d{3})+(?:\.\d+)?)$"
_COMMA_DEC = r"^(?:\d*,\d+|\d{1,3}(?:\.\d{3})+(?:,\d+)?)$"
_INT = r"^\d+$"


def _convention_pattern(decimal: str, thousands: str | None) -> str:
    d = re.escape(decimal)
    plain = rf"\d+(?:{d}\d+)?|{d}\d+"
    if not thousands:
        return rf"^(?:{plain})$"
    t = "[ \u00a0\u202f]" if thousands == " " else re.escape(thousands)
    return rf"^(?:{plain}|\d{{1,3}}(?:{t}\d{{3}})+(?:{d}\d+)?)$"


def parse_amounts(
    values: pd.Series,
    column: str,
    *,
    decimal: str | None = None,
    thousands: str | None = None,
    parsed: Parsed | None = None,
) -> pd.Series:
    """Numbers from a column, telling a decimal comma from a decimal point by the values.

    Numeric columns are returned as float64. Text is read this way:

    * one leading or trailing currency symbol ($ € £ ¥) and surrounding spaces are
      removed, never characters inside the number;
    * the convention is told from the values: ``29,33`` or ``1.234,50`` prove a
      decimal comma, ``1,234.50`` or ``0.5`` a decimal point; values that fit both
      (``1,234`` or ``1.234``: a thousands group or three decimals) in a column
      with no proof raise a :class:`DataError` asking for ``decimal=``; a column
      with proof of both conventions raises too;
    * ``decimal=`` (``"."`` or ``","``) and ``thousands=`` (``","``, ``"."``, ``" "``,
      ``"'"``) fix the convention as in :func:`pandas.read_csv`; with ``decimal``
      alone the other of ``,`` and ``.`` is accepted as a thousands separator, in
      groups of three digits only.

    Empty cells become NaN (the caller decides whether that is allowed); text
    that is not a number in the convention raises a :class:`DataError`. The
    convention used is recorded in ``parsed.decimal``.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if decimal is not None and decimal not in (".", ","):
        raise DataError(f"decimal={decimal!r} is not supported; use decimal='.' or decimal=','.")
    if thousands is not None and thousands not in (",", ".", " ", "'", ""):
        raise DataError(
            f"thousands={thousands!r} is not supported; use ',', '.', ' ' or \"'\" "
            "(or '' for none)."
        )
    if decimal is not None and thousands == decimal:
        raise DataError(f"decimal and thousands are both {decimal!r}; they must differ.")
    if pd.api.types.is_bool_dtype(values):
        reject_rows(
            column,
            np.ones(len(values), bool),
            values,
            "value that is not a number",
            "Use plain numbers (e.g. 12.50).",
            plural="values that are not numbers",
        )
    if not is_text(values):
        return values.astype("float64")
    out = np.full(len(values), np.nan)
    text_values = values
    if values.dtype == object:  # Excel: number cells are numbers already, only text cells parse
        is_num = values.map(
            lambda v: isinstance(v, int | float | np.number) and not isinstance(v, bool)
        ).to_numpy(dtype=bool)
        if is_num.any():
            out[is_num] = values[is_num].astype("float64").to_numpy()
            text_values = values.where(~is_num, None)
        text_values = text_values.map(lambda v: v if v is None or isinstance(v, str) else str(v))
    # fast path: plain numbers with a decimal point (what pyarrow itself parses), no copies
    if decimal in (None, ".") and thousands in (None, ""):
        raw = _arrow_strings(text_values)
        try:
            numbers = pc.cast(raw, pa.float64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            numbers = None
        if numbers is not None:
            if decimal is None:
                _dot_is_decimal(raw, column, text_values)
            if (
                parsed is not None
                and pc.any(pc.greater_equal(pc.find_substring(raw, "."), 0)).as_py()
            ):
                parsed.decimal = "."
            valid = pc.is_valid(raw).to_numpy(zero_copy_only=False)
            out[valid] = numbers.to_numpy(zero_copy_only=False)[valid]
            return pd.Series(out, index=values.index, name=values.name)

    arr = _arrow_text(text_values)
    present = pc.is_valid(arr)
    if pc.sum(present).as_py() in (0, None):
        return pd.Series(out, index=values.index, name=values.name)
    parts = pc.extract_regex(pc.utf8_trim_whitespace(arr), _STRIP.pattern)
    s1, s2, body = (pc.struct_field(parts, k) for k in ("s1", "s2", "body"))
    two_signs = pc.and_(pc.greater(pc.utf8_length(s1), 0), pc.greater(pc.utf8_length(s2), 0))
    sign = pc.if_else(pc.greater(pc.utf8_length(s1), 0), s1, s2)
    is_int = pc.match_substring_regex(body, _INT)
    if decimal is None:
        dot = pc.match_substring_regex(body, _DOT_DEC)
        comma = pc.match_substring_regex(body, _COMMA_DEC)
        proof_dot = pc.fill_null(pc.and_(dot, pc.invert(comma)), False)
        proof_comma = pc.fill_null(pc.and_(comma, pc.invert(dot)), False)
        amb = pc.fill_null(pc.and_(dot, comma), False)
        any_dot, any_comma = pc.any(proof_dot).as_py(), pc.any(proof_comma).as_py()
        if any_dot and any_comma:
            d = int(np.flatnonzero(proof_dot.to_numpy(zero_copy_only=False))[0])
            c = int(np.flatnonzero(proof_comma.to_numpy(zero_copy_only=False))[0])
            raise DataError(
                f"{column} mixes number conventions: row {d + 1} has "
                f"{show(text_values.iloc[d])} (decimal point) and row {c + 1} has "
                f"{show(text_values.iloc[c])} (decimal comma) ({ROWS}). Make the column "
                "consistent, or pass decimal='.' or decimal=',' to say which is right."
            )
        if any_dot or any_comma:
            decimal = "." if any_dot else ","
        elif pc.any(amb).as_py():
            _ambiguous(column, amb, text_values)
        else:
            decimal = "."
    if thousands is None:
        thousands = "," if decimal == "." else "."
    valid = pc.and_(
        pc.match_substring_regex(body, _convention_pattern(decimal, thousands)),
        pc.invert(two_signs),
    )
    bad = pc.and_(present, pc.invert(pc.fill_null(valid, False)))
    bad = pc.fill_null(bad, False).to_numpy(zero_copy_only=False)
    sep = {",": "comma", ".": "point"}[decimal]
    reject_rows(
        column,
        bad,
        text_values,
        f"value that is not a number with a decimal {sep}",
        f"Use numbers like {'1234.50' if decimal == '.' else '1234,50'} (one currency symbol "
        "before or after is fine), or pass decimal=/thousands= to match the file.",
        plural=f"values that are not numbers with a decimal {sep}",
    )
    digits = body
    if thousands:
        digits = pc.replace_substring_regex(
            digits, "[ \u00a0\u202f]" if thousands == " " else re.escape(thousands), ""
        )
    if decimal == ",":
        digits = pc.replace_substring(digits, ",", ".")
    joined = pc.binary_join_element_wise(sign, digits, pa.scalar("", digits.type))
    numbers = pc.cast(joined, pa.float64())
    mask = present.to_numpy(zero_copy_only=False)
    out[mask] = numbers.to_numpy(zero_copy_only=False)[mask]
    if parsed is not None and not pc.all(pc.fill_null(is_int, True)).as_py():
        parsed.decimal = decimal
    return pd.Series(out, index=values.index, name=values.name)


def _dot_is_decimal(raw: Any, column: str, values: pd.Series) -> None:
    """Refuse a column of plain numbers whose every point could be a thousands separator.

    A point proves itself a decimal mark when some value has other than three
    digits after it or more than three before it; only if no value does (e.g.
    ``1.234`` and ``12.500`` only) is the column ambiguous. Computed from the
    point's position and the text length, without a regular expression pass.
    """
    import pyarrow.compute as pc

    position = pc.find_substring(raw, ".").to_numpy(zero_copy_only=False)
    dotted = position >= 0
    if not dotted.any():
        return
    length = pc.binary_length(raw).to_numpy(zero_copy_only=False)
    proof = dotted & ((length - position - 1 != 3) | (position > 4) | (position == 0))
    if proof.any():
        return
    ambiguous = pc.fill_null(pc.match_substring_regex(raw, r"^[-+]?[1-9]\d{0,2}\.\d{3}$"), False)
    if pc.sum(ambiguous).as_py() == int(dotted.sum()):
        _ambiguous(column, ambiguous, values)


def _ambiguous(column: str, mask: Any, values: pd.Series) -> None:
    pos = int(np.flatnonzero(mask.to_numpy(zero_copy_only=False).astype(bool))[0])
    v = str(values.iloc[pos]).strip()
    raise DataError(
        f"{column} is ambiguous: every value with a separator looks like {show(v)} (row "
        f"{pos + 1}), which is a number with three decimals if the separator is a decimal mark "
        "and a whole number if it separates thousands. Pass decimal='.' (so 1,234 is 1234 and "
        "1.234 is 1.234) or decimal=',' (so 1.234 is 1234 and 1,234 is 1.234)."
    )


_ISO = r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(?:[T ].*)?$"
_DMY = (
    r"^(?P<a>\d{1,2})(?P<s>[-/.])(?P<b>\d{1,2})[-/.](?P<y>\d{4}|\d{2})"
    r"(?P<time>[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)
_OFFSET = r"\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|[+-]\d{2}:?\d{2})$"


def parse_dates(
    values: pd.Series,
    column: str,
    *,
    date_format: str | None = None,
    dayfirst: bool | None = None,
    latest: pd.Timestamp | None = None,
    parsed: Parsed | None = None,
) -> pd.Series:
    """Dates from a column, never guessing the order of day and month.

    * datetime columns are kept; time-zone-aware ones are converted to UTC and
      the zone dropped (the count is recorded);
    * numbers: ``YYYYMMDD`` integers (19000101 .. 21001231), or Excel serial day
      numbers between 18264 and 73050 (1950 .. 2099, origin 1899-12-30, fractions
      are times of day); other numbers raise a :class:`DataError`;
    * text with ``date_format=`` is parsed with that strftime format, strictly;
    * text like ``03/04/2024`` (two numbers before the year): a first part above
      12 in some row proves day first, a second part above 12 proves month
      first; a column where both parts are at most 12 everywhere is ambiguous
      and raises a :class:`DataError` unless ``dayfirst=`` or ``date_format=`` is
      given; proof of both orders raises too;
    * ISO text (``2024-04-03``, with optional time) and other text pandas can read
      unambiguously (``3 April 2024``) are parsed; text with UTC offsets
      (``+02:00``) is converted to UTC, and a mix of text with and without
      offsets raises.

    Missing values stay NaT. Dates before 1900 or after ``latest`` raise a
    :class:`DataError` naming the row. The decision is recorded in ``parsed``.

    Returns
    -------
    Series of datetime64[ns]
    """
    note = parsed if parsed is not None else Parsed()
    fix_format = "Fix or remove those rows, or pass date_format= (e.g. '%d/%m/%Y')."
    if pd.api.types.is_datetime64_any_dtype(values):
        dates = values
        if getattr(dates.dt, "tz", None) is not None:
            note.utc_converted = int(dates.notna().sum())
            note.notes.append(
                f"{note.utc_converted:,} dates converted from time zone {dates.dt.tz} to UTC"
            )
            dates = dates.dt.tz_convert("UTC").dt.tz_localize(None)
    elif pd.api.types.is_bool_dtype(values):
        reject_rows(
            column,
            np.ones(len(values), bool),
            values,
            "value that is not a date",
            fix_format,
            plural="values that are not dates",
        )
        raise AssertionError  # unreachable
    elif pd.api.types.is_numeric_dtype(values):
        dates = _numeric_dates(values, column, date_format, note)
    elif values.dtype == object and date_format is None:  # Excel: date, number and text cells
        is_num = values.map(
            lambda v: isinstance(v, int | float | np.number) and not isinstance(v, bool)
        ).to_numpy(dtype=bool)
        numbers = pd.Series(np.nan, index=values.index)
        numbers[is_num] = values[is_num].astype("float64")
        dates = _text_dates(values.where(~is_num, None), column, None, dayfirst, note)
        if np.isfinite(numbers.to_numpy()).any():
            order = note.date_order
            serials = _numeric_dates(numbers, column, None, note)
            dates = serials.where(is_num, dates)
            if order and (~is_num & values.notna().to_numpy()).any():
                note.date_order = f"{order}; {note.date_order}"
    else:
        dates = _text_dates(values, column, date_format, dayfirst, note)
    _check_range(dates, values, column, latest)
    if dates.dtype != "datetime64[ns]":
        dates = dates.astype("datetime64[ns]")
    return dates


def _check_range(dates: pd.Series, raw: pd.Series, column: str, latest: pd.Timestamp | None):
    fix = "Check the date column and its format."
    reject_rows(
        column,
        (dates < EARLIEST_DATE).to_numpy(),
        raw,
        "date before 1900",
        fix,
        plural="dates before 1900",
    )
    if latest is not None:
        late = (dates > latest).to_numpy()
        reject_rows(
            column,
            late,
            raw,
            f"date in the future (after {latest:%Y-%m-%d})",
            fix,
            plural=f"dates in the future (after {latest:%Y-%m-%d})",
        )
    else:  # beyond what datetime64[ns] holds
        reject_rows(
            column,
            (dates > pd.Timestamp.max).to_numpy(),
            raw,
            "date after 2262",
            fix,
            plural="dates after 2262",
        )


def _numeric_dates(values: pd.Series, column: str, date_format: str | None, note: Parsed):
    arr = values.to_numpy(dtype="float64", na_value=np.nan)
    ok = ~np.isnan(arr)
    if date_format is not None:
        whole = pd.api.types.is_integer_dtype(values)
        text = (values.astype("Int64") if whole else values).astype("string")
        dates = pd.to_datetime(text, format=date_format, errors="coerce")
        reject_rows(
            column,
            (dates.isna() & values.notna()).to_numpy(),
            values,
            f"value that is not a date with format {date_format!r}",
            "Fix those rows or the format.",
            plural=f"values that are not dates with format {date_format!r}",
        )
        note.date_order = f"format {date_format!r}"
        return dates
    whole = ok & (arr == np.floor(np.where(ok, arr, 0)))
    ymd = whole & (arr >= 19000101) & (arr <= 21001231)
    lo, hi = EXCEL_SERIALS
    serial = ok & (arr >= lo) & (arr <= hi + 1)
    neither = ok & ~ymd & ~serial
    reject_rows(
        column,
        neither,
        values,
        "number that is not a date",
        f"Numbers are read as dates only as YYYYMMDD (e.g. 20240131) or as Excel serial "
        f"day numbers between {lo} and {hi} (1950 to 2099); convert the column to dates "
        "(e.g. '2024-01-31') in the source.",
        plural="numbers that are not dates",
    )
    if ymd.any() and serial.any():
        raise DataError(
            f"{column} mixes YYYYMMDD numbers (row {int(np.flatnonzero(ymd)[0]) + 1}) and Excel "
            f"serial day numbers (row {int(np.flatnonzero(serial)[0]) + 1}) ({ROWS}). "
            "Use one kind of date in the column."
        )
    if serial.any():
        note.date_order = "Excel serial day numbers (origin 1899-12-30)"
        note.notes.append(
            f"{int(serial.sum()):,} dates were Excel serial day numbers, converted with origin "
            "1899-12-30"
        )
        days = pd.to_timedelta(np.where(ok, arr, np.nan), unit="D")
        return pd.Series(EXCEL_ORIGIN + days, index=values.index)
    note.date_order = "YYYYMMDD numbers"
    text = pd.Series(np.where(ok, arr, 0).astype("int64"), index=values.index).astype("string")
    dates = pd.to_datetime(text.where(ok), format="%Y%m%d", errors="coerce")
    reject_rows(
        column,
        (dates.isna() & ok).to_numpy(),
        values,
        "number that is not a date",
        "YYYYMMDD numbers must be real dates (e.g. 20240131).",
        plural="numbers that are not dates",
    )
    return dates


def _text_dates(
    values: pd.Series, column: str, date_format: str | None, dayfirst: bool | None, note: Parsed
) -> pd.Series:
    import pyarrow.compute as pc

    fix = "Fix or remove those rows, or pass date_format= (e.g. '%d/%m/%Y')."
    if values.dtype == object:  # Excel cells: datetimes and text mixed
        values = values.map(lambda v: v.isoformat() if isinstance(v, dt.datetime) else v)
    arr = _arrow_text(
        values.map(lambda v: v if v is None or isinstance(v, str) else str(v))
        if values.dtype == object
        else values
    )
    arr = pc.utf8_trim_whitespace(arr)
    present = pc.is_valid(arr).to_numpy(zero_copy_only=False)
    text = pd.Series(arr.to_pandas(), index=values.index)
    n = int(present.sum())
    if n == 0:
        return pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")

    plain = pc.fill_null(pc.match_substring_regex(arr, r"^\d+(?:\.\d+)?$"), True)
    if pc.all(plain).as_py() and date_format is None:  # numbers written as text (a CSV)
        numbers = pd.Series(pc.cast(arr, "float64").to_numpy(zero_copy_only=False))
        dates = _numeric_dates(numbers.set_axis(values.index), column, None, note)
        reject_rows(
            column,
            dates.isna().to_numpy() & present,
            values,
            "value that is not a date",
            fix,
            plural="values that are not dates",
        )
        return dates
    offset = pc.fill_null(pc.match_substring_regex(arr, _OFFSET), False)
    n_offset = pc.sum(offset).as_py() or 0
    utc = n_offset > 0
    if 0 < n_offset < n:
        naive = present & ~offset.to_numpy(zero_copy_only=False)
        d = int(np.flatnonzero(naive)[0])
        z = int(np.flatnonzero(offset.to_numpy(zero_copy_only=False))[0])
        raise DataError(
            f"{column} mixes dates with a time-zone offset (row {z + 1}: "
            f"{show(values.iloc[z])}) and without one (row {d + 1}: {show(values.iloc[d])}) "
            f"({ROWS}); crmlab cannot tell which zone the latter are in. Give every date an "
            "offset, or none."
        )

    if date_format is not None:
        dates = pd.to_datetime(text, format=date_format, errors="coerce", utc=utc)
        note.date_order = f"format {date_format!r}"
        what = f"with format {date_format!r}"
        reject_rows(
            column,
            (dates.isna().to_numpy() & present),
            values,
            f"value that is not a date {what}",
            "Fix those rows or the format.",
            plural=f"values that are not dates {what}",
        )
        return _utc(dates, utc, n_offset, note)

    iso = pc.fill_null(pc.match_substring_regex(arr, _ISO), False).to_numpy(zero_copy_only=False)
    parts = pc.extract_regex(arr, _DMY)
    dmy = pc.is_valid(parts).to_numpy(zero_copy_only=False)
    if iso[present].all():
        note.date_order = "year-month-day (ISO)"
        try:
            dates = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=utc)
        except ValueError:
            dates = pd.to_datetime(text, format="mixed", errors="coerce", utc=utc)
    elif dmy[present].all():
        a = pc.cast(parts.field("a"), "int64").to_numpy(zero_copy_only=False)
        b = pc.cast(parts.field("b"), "int64").to_numpy(zero_copy_only=False)
        day_first, month_first = dmy & (a > 12), dmy & (b > 12)
        if day_first.any() and month_first.any():
            d, m = int(np.flatnonzero(day_first)[0]), int(np.flatnonzero(month_first)[0])
            raise DataError(
                f"{column} has dates with the day first (row {d + 1}: {show(values.iloc[d])}) "
                f"and with the month first (row {m + 1}: {show(values.iloc[m])}) ({ROWS}). "
                "Make the column consistent, or pass date_format= for the right order."
            )
        proof = day_first if day_first.any() else month_first
        if proof.any():
            found = bool(day_first.any())
            if dayfirst is not None and dayfirst != found:
                p = int(np.flatnonzero(proof)[0])
                raise DataError(
                    f"{column}: dayfirst={dayfirst} contradicts the data: row {p + 1} has "
                    f"{show(values.iloc[p])}, which can only be "
                    f"{'day' if found else 'month'} first ({ROWS}). Remove dayfirst= or fix it."
                )
            p = int(np.flatnonzero(proof)[0])
            order = "day first" if found else "month first"
            note.date_order = f"{order} (shown by row {p + 1}: {show(values.iloc[p])})"
            note.notes.append(f"dates read {order}, as row {p + 1} ({values.iloc[p]!s}) shows")
            dayfirst = found
        elif dayfirst is None:
            first = int(np.flatnonzero(present)[0])
            v = str(values.iloc[first]).strip()
            raise DataError(
                f"{column} is ambiguous: in every row both the first and the second number "
                f"are 12 or less (e.g. {show(v)} at row {first + 1}), so day-first and "
                "month-first readings both work and give different dates. Pass dayfirst=True "
                "(day/month/year) or dayfirst=False (month/day/year), or date_format= "
                "(e.g. '%d/%m/%Y')."
            )
        else:
            note.date_order = (
                "day first (dayfirst=True)" if dayfirst else "month first (dayfirst=False)"
            )
        seps = pc.unique(parts.field("s")).to_pylist()
        years = pc.unique(pc.utf8_length(parts.field("y"))).to_pylist()
        timed = pc.any(pc.is_valid(parts.field("time"))).as_py()
        if len(seps) == 1 and len(years) == 1 and not timed:
            s = seps[0]
            y = "%Y" if years[0] == 4 else "%y"
            fmt = f"%d{s}%m{s}{y}" if dayfirst else f"%m{s}%d{s}{y}"
            dates = pd.to_datetime(text, format=fmt, errors="coerce")
        else:
            dates = pd.to_datetime(text, format="mixed", dayfirst=bool(dayfirst), errors="coerce")
    else:
        note.date_order = "as pandas reads them (no numeric day/month ambiguity found)"
        if dmy.any():
            d = int(np.flatnonzero(dmy)[0])
            o = int(np.flatnonzero(present & ~dmy)[0])
            raise DataError(
                f"{column} mixes date styles: row {d + 1} has {show(values.iloc[d])} and row "
                f"{o + 1} has {show(values.iloc[o])} ({ROWS}). Use one style, or pass "
                "date_format=."
            )
        try:
            dates = pd.to_datetime(text, errors="coerce", utc=utc, dayfirst=bool(dayfirst))
        except (ValueError, TypeError):
            dates = pd.to_datetime(
                text, errors="coerce", format="mixed", utc=utc, dayfirst=bool(dayfirst)
            )
    reject_rows(
        column,
        dates.isna().to_numpy() & present,
        values,
        "value that is not a date",
        fix,
        plural="values that are not dates",
    )
    return _utc(dates, utc, n_offset, note)


def _utc(dates: pd.Series, utc: bool, n_offset: int, note: Parsed) -> pd.Series:
    if getattr(dates.dt, "tz", None) is None:
        return dates
    if utc:
        note.utc_converted = n_offset
        note.notes.append(f"{n_offset:,} dates with time-zone offsets converted to UTC")
    return dates.dt.tz_convert("UTC").dt.tz_localize(None)


# --------------------------------------------------------------------------------- SQL

_DIALECTS = {"postgresql": "postgres", "mssql": "tsql", "sqlite": "sqlite", "duckdb": "duckdb"}


def require_select_query(sql: str, dialect: str | None = None) -> None:
    """Raise :class:`DataError` unless ``sql`` is one read-only SELECT (or WITH ... SELECT).

    The text is parsed with SQLGlot: a second statement after a semicolon, DROP,
    CREATE, INSERT, UPDATE, DELETE, VACUUM, ATTACH, PRAGMA, COPY, SET, ``SELECT
    ... INTO`` and data-modifying CTEs are all refused. The source is opened
    read-only as well; this check makes the refusal clear and early.
    """
    import sqlglot
    from sqlglot import exp

    if not isinstance(sql, str) or not sql.strip():
        raise DataError(f"query={show(sql)} is empty; give one SELECT query.")
    read = _DIALECTS.get(dialect or "", dialect)
    logger = logging.getLogger("sqlglot")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        statements = [s for s in sqlglot.parse(sql, read=read) if s is not None]
    except sqlglot.errors.SqlglotError as exc:
        raise DataError(
            f"query could not be parsed as SQL ({str(exc).splitlines()[0]}); give one SELECT "
            "query, or table= to read a whole table."
        ) from None
    finally:
        logger.setLevel(level)
    if len(statements) != 1:
        raise DataError(
            f"query has {len(statements)} statements; crmlab runs exactly one SELECT query "
            "(sources are only ever read). Remove the others."
        )
    (tree,) = statements
    writes = (
        exp.Insert,
        exp.Update,
        exp.Delete,
        exp.Create,
        exp.Drop,
        exp.Alter,
        exp.Merge,
        exp.Command,
        exp.Pragma,
        exp.Copy,
        exp.Set,
        exp.Into,
        exp.Attach,
        exp.Detach,
        exp.TruncateTable,
    )
    found = next((node for node in tree.walk() if isinstance(node, writes)), None)
    if not isinstance(tree, exp.Query) or found is not None:
        head = sql.strip().split(None, 1)[0].upper()
        kind = head if found is None else type(found).__name__.upper()
        kind = head if kind == "COMMAND" else kind
        raise DataError(
            f"query is not a read-only SELECT (found {kind}); "
            "crmlab only reads sources. Give one SELECT (or WITH ... SELECT) query."
        )
