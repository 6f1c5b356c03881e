"""Load bundled datasets and read, map and validate a client's transactions.

Three entry points:

* :func:`load_dataset` / :func:`list_datasets` for the data in ``datasets/``;
* :func:`read_transactions` for a client's CSV, Parquet, Excel file or SQL source;
* :func:`validate_transactions`, which both of the above call.

Every transactions frame that leaves this module has the canonical columns
``customer_id``, ``date`` (datetime64) and ``amount`` (float, currency units),
plus any extras (``quantity``, ``cost``, ``category``, ``brand``, ``channel`` ...).
What validation excluded or noticed is in ``frame.attrs["data_report"]`` (a plain
dict, so the frame still saves to Parquet); :func:`data_report` returns it as a
:class:`DataReport`.

Nothing is guessed silently: the rules (ids as text, decimal comma or point,
day or month first, Excel serials, UTC offsets, finite amounts) live in
:mod:`crmlab.checks`; what the values cannot settle raises a
:class:`~crmlab.errors.DataError` naming the option that does (see
:data:`READER_OPTIONS`). Sources are only ever read: SQLite opens with
``mode=ro``, DuckDB with ``read_only=True`` and no file access, other SQL URLs in
a read-only transaction where the dialect has one, and a query must be one
SELECT; a missing file is an error, never created.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import gzip
import hashlib
import os
import sqlite3
import tomllib
import urllib.parse
from collections.abc import Iterable
from contextlib import closing
from dataclasses import asdict, dataclass, field, fields
from functools import cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from crmlab import checks
from crmlab.errors import DataError

CANONICAL = ("customer_id", "date", "amount")
EARLIEST_DATE = checks.EARLIEST_DATE
ReturnsPolicy = Literal["keep", "net", "drop"]
DuplicatesPolicy = Literal["keep", "drop"]


def datasets_dir() -> Path:
    """The folder of bundled datasets: ``$CRMLAB_DATASETS``, else the package data
    ``crmlab.datasets`` (``datasets/`` of the repository, installed with the package)."""
    env = os.environ.get("CRMLAB_DATASETS")
    if env:
        return Path(env)
    from crmlab.report.resources import bundled

    return bundled("datasets")


@cache
def _manifest() -> dict[str, dict[str, Any]]:
    with open(datasets_dir() / "manifest.toml", "rb") as fh:
        return tomllib.load(fh)


# --------------------------------------------------------------------------- report


@dataclass
class DataReport:
    """What reading and validation did to a transactions frame: nothing is dropped unseen.

    Attributes
    ----------
    source : str
        Where the rows came from (file, table or dataset name).
    rows_in, rows_out : int
        Rows read and rows returned.
    excluded : dict
        Reason -> number of rows removed (for instance ``{"exact duplicate rows": 3}``).
    notes : list of str
        Things kept or changed and worth knowing (returns kept, ids stripped, dates
        converted to UTC, columns not used ...).
    columns : dict
        crmlab's name -> the source's name, for every column read.
    decimal : str or None
        Decimal mark of amounts read from text (``"."`` or ``","``); None when the
        amounts were numbers already or whole numbers.
    date_order : str or None
        How text or numeric dates were read ("year-month-day (ISO)", "day first
        (shown by row 5: '31/01/2024')", "Excel serial day numbers ...", a format).
    utc_converted : int
        Dates converted from a time-zone offset to UTC.
    ids_stripped : int
        Customer ids that lost surrounding spaces.
    encoding : str or None
        Text encoding of a text file.
    """

    source: str
    rows_in: int
    rows_out: int = 0
    excluded: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)
    decimal: str | None = None
    date_order: str | None = None
    utc_converted: int = 0
    ids_stripped: int = 0
    encoding: str | None = None

    @property
    def rows_excluded(self) -> int:
        return sum(self.excluded.values())

    def __str__(self) -> str:
        lines = [f"{self.source}: {self.rows_in:,} rows read, {self.rows_out:,} kept"]
        lines += [f"  excluded {n:,} rows: {why}" for why, n in self.excluded.items()]
        renamed = {o: t for o, t in self.columns.items() if o != t}
        if renamed:
            lines.append("  columns: " + ", ".join(f"{o} <- {t!r}" for o, t in renamed.items()))
        if self.encoding:
            lines.append(f"  encoding: {self.encoding}")
        if self.decimal:
            lines.append(f"  decimal mark of amounts: {self.decimal!r}")
        if self.date_order:
            lines.append(f"  dates read as: {self.date_order}")
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines)


def data_report(frame: pd.DataFrame) -> DataReport | None:
    """The :class:`DataReport` attached to a validated frame (None if there is none)."""
    stored = frame.attrs.get("data_report")
    if stored is None:
        return None
    known = {f.name for f in fields(DataReport)}
    return DataReport(**{k: v for k, v in stored.items() if k in known})


# ----------------------------------------------------------------------- validation

NUMERIC_EXTRAS = ("cost", "quantity")


def validate_transactions(
    frame: pd.DataFrame,
    *,
    extras: tuple[str, ...] | list[str] = (),
    returns: ReturnsPolicy = "keep",
    duplicates: DuplicatesPolicy = "keep",
    date_format: str | None = None,
    dayfirst: bool | None = None,
    decimal: str | None = None,
    thousands: str | None = None,
    allow_large_amounts: bool = False,
    today: pd.Timestamp | str | None = None,
    source: str = "transactions",
    columns: dict[str, str] | None = None,
    copy: bool = True,
) -> pd.DataFrame:
    """Check a transactions frame and return a clean copy with canonical types.

    Parameters
    ----------
    frame : DataFrame
        Must have ``customer_id``, ``date`` and ``amount`` (rename with
        :func:`read_transactions` or ``frame.rename``). The input is not modified.
    extras : sequence of str
        Further columns to keep (``quantity``, ``cost`` ...); others are dropped
        and listed in the report's notes. ``cost`` and ``quantity`` given as text
        are read as numbers like ``amount``.
    returns : {"keep", "net", "drop"}
        Negative amounts (returns): keep the rows as they are; net them against
        the same customer's purchases on the same date (dates whose net amount
        is not positive are removed); or drop them. Removed rows are counted.
    duplicates : {"keep", "drop"}
        Exact duplicate rows: keep them (counted in the notes) or drop them.
    date_format : str, optional
        strftime format of text dates, e.g. ``"%d/%m/%Y"``; without it the order of
        day and month is told from the values or an error asks for it
        (:func:`crmlab.checks.parse_dates`).
    dayfirst : bool, optional
        For text dates like ``03/04/2024`` whose day and month are both <= 12 in
        every row: True reads day/month/year, False month/day/year.
    decimal, thousands : str, optional
        Decimal mark (``"."`` or ``","``) and thousands separator of text amounts;
        without them the convention is told from the values or an error asks for
        it (:func:`crmlab.checks.parse_amounts`).
    allow_large_amounts : bool
        Accept amounts beyond +-1e12 (refused by default as implausible: usually a
        decimal or thousands separator read wrongly). Non-finite amounts (inf,
        NaN) are always refused.
    today : timestamp, optional
        Dates after this are impossible (default: now).
    source : str
        Name used in the report and messages.
    columns : dict, optional
        crmlab's name -> the source's name, so that messages name the user's own
        column ("column 'OrderDate' (mapped to date)").
    copy : bool
        Work on a copy (default). :func:`read_transactions` passes False for the
        frame it has just read, which keeps peak memory near 3x the data.

    Returns
    -------
    DataFrame
        Columns ``customer_id`` (text ids stripped of surrounding spaces, never cast
        to numbers), ``date`` (datetime64[ns], UTC if the source had offsets),
        ``amount`` (float64), then ``extras``, with a fresh RangeIndex and the
        :class:`DataReport` as a dict in ``attrs["data_report"]`` (read it with
        :func:`data_report`).

    Raises
    ------
    DataError
        Missing or duplicate columns, empty input, missing ids, unparseable,
        ambiguous, future or pre-1900 dates, amounts that are not numbers, are
        ambiguous, missing, not finite or implausibly large; the message names the
        user's column, the count, the first row (rows count from 1 at the first
        data row) with its value, and the fix.
    """
    if returns not in ("keep", "net", "drop"):
        raise DataError(f"returns={returns!r} is not a policy; use 'keep', 'net' or 'drop'.")
    if duplicates not in ("keep", "drop"):
        raise DataError(f"duplicates={duplicates!r} is not a policy; use 'keep' or 'drop'.")
    if dayfirst is not None and not isinstance(dayfirst, bool | np.bool_):
        raise DataError(f"dayfirst={dayfirst!r} must be True, False or None.")
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"{source} is a {type(frame).__name__}, not a table (pandas DataFrame).")
    checks.require_unique_columns(frame.columns, source)
    wanted = [*CANONICAL, *[c for c in extras if c not in CANONICAL]]
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise DataError(
            f"{source} has no column {', '.join(map(repr, missing))}; it has "
            f"{', '.join(map(repr, map(str, frame.columns)))}. Map your names, e.g. "
            "read_transactions(path, customer_id='Cust', date='OrderDate', amount='Revenue')."
        )
    if len(frame) == 0:
        raise DataError(f"{source} has no rows: there is nothing to analyse.")
    theirs = {c: c for c in wanted} | dict(columns or {})

    def name(ours: str) -> str:
        return checks.label(ours, theirs.get(ours))

    report = DataReport(source=source, rows_in=len(frame), columns={c: theirs[c] for c in wanted})
    unused = [str(c) for c in frame.columns if c not in wanted]
    if unused:
        report.notes.append(f"columns not used: {', '.join(unused)}")
    out = frame.loc[:, wanted].copy() if copy else frame.loc[:, wanted]
    parsed = checks.Parsed()

    out["customer_id"] = checks.clean_ids(out["customer_id"], name("customer_id"), parsed)

    now = pd.Timestamp(today) if today is not None else pd.Timestamp.now()
    dates = checks.parse_dates(
        out["date"],
        name("date"),
        date_format=date_format,
        dayfirst=dayfirst,
        latest=now,
        parsed=parsed,
    )
    checks.reject_rows(
        name("date"),
        dates.isna().to_numpy(),
        out["date"],
        "missing date",
        "Fill or remove those rows.",
        plural="missing dates",
    )
    out["date"] = dates

    out["amount"] = _amounts(
        out["amount"], name("amount"), decimal, thousands, allow_large_amounts, parsed, True
    )
    for extra in (c for c in NUMERIC_EXTRAS if c in out.columns):
        out[extra] = _amounts(
            out[extra], name(extra), decimal, thousands, allow_large_amounts, parsed, False
        )

    report.decimal, report.date_order = parsed.decimal, parsed.date_order
    report.utc_converted, report.ids_stripped = parsed.utc_converted, parsed.ids_stripped
    report.notes.extend(parsed.notes)

    dup = _exact_duplicates(out)
    if dup.any():
        if duplicates == "drop":
            out = out.loc[~dup]
            report.excluded["exact duplicate rows"] = int(dup.sum())
        else:
            report.notes.append(f"{int(dup.sum()):,} exact duplicate rows kept (duplicates='keep')")

    negative = (out["amount"] < 0).to_numpy()
    if negative.any():
        n_neg = int(negative.sum())
        if returns == "drop":
            out = out.loc[~negative]
            report.excluded["negative amounts (returns)"] = n_neg
        elif returns == "net":
            out = _net_returns(out, report, n_neg)
        else:
            report.notes.append(f"{n_neg:,} rows with negative amounts (returns) kept")

    out = out.reset_index(drop=True)
    report.rows_out = len(out)
    out.attrs["data_report"] = asdict(report)  # plain values: to_parquet writes attrs as JSON
    return out


def _amounts(
    values: pd.Series,
    column: str,
    decimal: str | None,
    thousands: str | None,
    allow_large: bool,
    parsed: checks.Parsed,
    required: bool,
) -> pd.Series:
    """Money or counts as float64: parsed, then missing, non-finite and huge values refused.

    An empty cell is a missing value (refused for ``amount``, kept as NaN for
    extras); text such as ``nan`` or ``inf`` and numbers that are not finite are
    refused: a transaction without a finite amount cannot be analysed.
    """
    raw = values
    numbers = checks.parse_amounts(
        values, column, decimal=decimal, thousands=thousands, parsed=parsed
    )
    arr = numbers.to_numpy()
    blank = np.zeros(len(arr), dtype=bool)
    nan = np.flatnonzero(np.isnan(arr))
    if nan.size:
        blank[nan] = _blank(raw.iloc[nan])
    if required:
        checks.reject_rows(
            column,
            blank,
            raw,
            "missing value",
            "Fill or remove those rows.",
            plural="missing values",
        )
    checks.reject_rows(
        column,
        ~np.isfinite(arr) & ~blank,
        raw,
        "value that is not a finite number",
        "Amounts must be finite numbers: fix or remove those rows (NaN and inf are refused).",
        plural="values that are not finite numbers",
    )
    if not allow_large:
        with np.errstate(invalid="ignore"):
            huge = np.abs(arr) > checks.LARGEST_AMOUNT
        checks.reject_rows(
            column,
            huge,
            raw,
            "implausible value (beyond +-1e12)",
            "Check the column (a decimal or thousands separator read wrongly?) or, if the "
            "values are right, pass allow_large_amounts=True.",
            plural="implausible values (beyond +-1e12)",
        )
    return numbers


def _blank(values: pd.Series) -> np.ndarray:
    """Cells that are empty: missing, or text with nothing but spaces."""
    empty = values.isna().to_numpy(dtype=bool)
    if pd.api.types.is_string_dtype(values) or values.dtype == object:
        text = values.astype("str") if values.dtype == object else values
        stripped = text.str.strip().eq("").fillna(False).to_numpy(dtype=bool)
        empty = empty | stripped
    return empty


def _exact_duplicates(frame: pd.DataFrame, chunk: int = 1 << 20) -> np.ndarray:
    """Rows equal to an earlier row: 64-bit row hashes, sorted, then confirmed exactly.

    Hashing in chunks and sorting the hashes keeps memory near two integers per
    row on large logs; rows whose hash repeats are compared exactly. Text ids
    that are canonical integers are hashed as those integers (one-to-one, so
    exact); other text columns are hashed only on rows whose other columns
    already repeat, since only those can be duplicates.
    """
    fast, slow = {}, []
    for name in frame.columns:
        values = frame[name]
        codes = checks.integer_codes(values) if checks.is_text(values) else None
        if codes is not None:
            fast[name] = codes
        elif checks.is_text(values):
            slow.append(name)
        else:
            fast[name] = values.to_numpy()
    rows = np.arange(len(frame))
    if fast:
        hashes = _row_hashes(pd.DataFrame(fast, copy=False), chunk)
        rows = rows[_repeated(hashes)]
    if slow and rows.size:
        part = frame.iloc[rows]
        hashes = pd.util.hash_pandas_object(part, index=False).to_numpy()
        rows = rows[_repeated(hashes)]
    dup = np.zeros(len(frame), dtype=bool)
    if rows.size:
        dup[rows] = frame.iloc[rows].duplicated().to_numpy()
    return dup


def _row_hashes(frame: pd.DataFrame, chunk: int) -> np.ndarray:
    hashes = np.empty(len(frame), dtype=np.uint64)
    for start in range(0, len(frame), chunk):
        part = frame.iloc[start : start + chunk]
        hashes[start : start + chunk] = pd.util.hash_pandas_object(part, index=False).to_numpy()
    return hashes


def _repeated(hashes: np.ndarray) -> np.ndarray:
    """Mask of entries whose hash occurs more than once."""
    ordered = np.sort(hashes)
    repeated = ordered[1:][ordered[1:] == ordered[:-1]]
    del ordered
    return np.isin(hashes, repeated) if repeated.size else np.zeros(len(hashes), dtype=bool)


def _net_returns(out: pd.DataFrame, report: DataReport, n_neg: int) -> pd.DataFrame:
    """Net negative amounts against the same customer's same-date purchases."""
    keys = ["customer_id", "date"]
    net = out.groupby(keys, sort=False)["amount"].transform("sum")
    first = ~out.duplicated(keys)
    merged = out.loc[first].copy()
    merged["amount"] = net.loc[first]
    positive = merged["amount"] > 0
    report.notes.append(
        f"{n_neg:,} return rows netted against same-day purchases; "
        f"{len(out) - len(merged):,} rows merged into their customer-date"
    )
    report.excluded["rows merged by netting returns"] = len(out) - len(merged)
    if (~positive).any():
        report.excluded["customer-dates with zero or negative net amount"] = int((~positive).sum())
    return merged.loc[positive]


# -------------------------------------------------------------------------- reading

_TEXT = (".csv", ".txt", ".tsv", ".csv.gz", ".txt.gz", ".tsv.gz")
_SQL_FILES = (".db", ".sqlite", ".sqlite3", ".duckdb")
_EXCEL = (".xlsx", ".xlsm", ".xls")

#: Reader options :func:`read_transactions` and :func:`load_source` accept, with their meaning.
READER_OPTIONS: dict[str, str] = {
    "table": "SQL sources: a table (or schema.table) to read whole",
    "query": "SQL sources: one SELECT (or WITH ... SELECT) query",
    "sheet": "Excel: sheet name or 0-based position (default 0, the first)",
    "sep": "text files: the column separator (default: told from the header line)",
    "encoding": "text files: the text encoding, e.g. 'latin-1' or 'cp1252' (default UTF-8)",
    "decimal": "decimal mark of text amounts, '.' or ',' (default: told from the values)",
    "thousands": "thousands separator of text amounts: ',', '.', ' ' or \"'\"",
    "dayfirst": "text dates like 03/04/2024: True = day first, False = month first",
    "date_format": "strftime format of text dates, e.g. '%d/%m/%Y'",
    "allow_large_amounts": "accept amounts beyond +-1e12 (default False)",
    "returns": "negative amounts: 'keep' (default), 'net' or 'drop'",
    "duplicates": "exact duplicate rows: 'keep' (default) or 'drop'",
}


def check_reader_options(options: dict[str, Any]) -> None:
    """Raise :class:`DataError` for an option name :func:`read_transactions` does not know."""
    unknown = [k for k in options if k not in READER_OPTIONS]
    if unknown:
        hints = []
        for k in unknown:
            close = difflib.get_close_matches(k, READER_OPTIONS, n=1)
            hints.append(f"{k!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        valid = "; ".join(f"{k}: {v}" for k, v in READER_OPTIONS.items())
        raise DataError(
            f"unknown reader option {', '.join(hints)}. Valid options are {valid}. "
            "Column names go in the column map (ours=theirs), not here."
        )


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for suffix in (*_TEXT, ".parquet", ".pq", *_EXCEL, *_SQL_FILES):
        if name.endswith(suffix):
            return suffix
    return path.suffix.lower()


def _missing_file(text: str) -> DataError:
    path = Path(text)
    hint = ""
    folder = path.parent if str(path.parent) else Path(".")
    if folder.is_dir():
        close = difflib.get_close_matches(path.name, [p.name for p in folder.iterdir()], n=3)
        if close:
            hint = f" Did you mean {', '.join(repr(str(folder / c)) for c in close)}?"
    elif str(path.parent) not in ("", "."):
        hint = f" (its folder {str(path.parent)!r} does not exist either)"
    return DataError(
        f"file {text!r} does not exist (looked in {str(path.resolve().parent)!r}).{hint} "
        "crmlab never creates a source: check the path."
    )


def _missing_columns(source: str, missing: list[str], header: list[str]) -> DataError:
    if len(header) == 1:
        return DataError(
            f"{source!r} was read as a single column {header[0]!r}: it is not a delimited "
            "table, or its separator is unusual (pass sep=, e.g. sep=';')."
        )
    lower = {h.lower().strip(): h for h in header}
    hints = []
    for m in missing:
        close = difflib.get_close_matches(m.lower().strip(), list(lower), n=1, cutoff=0.6)
        if close:
            hints.append(f"{m!r} -> {lower[close[0]]!r}?")
    example = f"customer_id='{header[0]}'" if header else "customer_id='Cust'"
    return DataError(
        f"{source!r} has no column {', '.join(map(repr, missing))}; it has "
        f"{', '.join(map(repr, header))}. Pass the right names, e.g. {example}"
        + (f" (close matches: {' '.join(hints)})" if hints else "")
        + "."
    )


def _check_header(source: str, header: list[str], mapping: dict[str, str]) -> None:
    checks.require_unique_columns(header, repr(source))
    missing = [theirs for theirs in mapping if theirs not in header]
    if missing:
        raise _missing_columns(source, missing, header)


def _open_text(path: Path, encoding: str):
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    return opener(path, "rt", encoding=encoding, newline="")


def _encoding_error(path: Path, encoding: str) -> DataError | None:
    """The first byte that does not decode, with its line (1-based, header = line 1)."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    codec = codecs.lookup(encoding).name
    with opener(path, "rb") as fh:
        for lineno, line in enumerate(fh, 1):
            try:
                line.decode(codec)
            except UnicodeDecodeError as exc:
                near = line[max(0, exc.start - 15) : exc.start + 15].decode(codec, "replace")
                return DataError(
                    f"{str(path)!r} is not {_codec_name(encoding)} text: byte "
                    f"0x{line[exc.start]:02x} at line {lineno} (the header is line 1), "
                    f"position {exc.start + 1}, cannot be decoded (near {near.strip()!r}). "
                    "crmlab does not guess encodings: pass "
                    "encoding='latin-1' (ISO-8859-1) or encoding='cp1252' (Windows) if the "
                    "file comes from such a system, or save it as UTF-8."
                )
    return None


def _codec_name(encoding: str) -> str:
    name = codecs.lookup(encoding).name
    return "UTF-8" if name.startswith("utf-8") else encoding


def _text_header(path: Path, sep: str | None, encoding: str) -> tuple[str, list[str]]:
    """The separator and the column names of a text table (first line, csv quoting)."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rb") as fh:
        head = fh.read(4096)
    if not head.strip():
        raise DataError(f"could not read {str(path)!r} as a table: the file is empty.")
    if b"\x00" in head and not encoding.lower().startswith("utf-16"):
        raise DataError(
            f"could not read {str(path)!r} as a table: it is not a text file (it contains NUL "
            "bytes). Expected a CSV, Parquet, Excel, SQLite or DuckDB file, or a SQL URL."
        )
    try:
        with _open_text(path, encoding) as fh:
            first = fh.readline()
    except UnicodeDecodeError:
        raise _encoding_error(path, encoding) from None
    if sep is None:
        counts = {s: first.count(s) for s in (",", ";", "\t", "|")}
        sep = max(counts, key=counts.get) if max(counts.values()) > 0 else ","
    header = next(csv.reader([first.rstrip("\r\n")], delimiter=sep), [])
    return sep, [h.strip() if h.strip() != h and h.strip() else h for h in header]


def _read_text(
    path: Path, mapping: dict[str, str], sep: str | None, encoding: str | None
) -> tuple[pd.DataFrame, str]:
    enc = encoding or "utf-8"
    try:
        codecs.lookup(enc)
    except LookupError:
        raise DataError(f"encoding={enc!r} is not a known text encoding (try 'latin-1').") from None
    py_enc = "utf-8-sig" if codecs.lookup(enc).name == "utf-8" else enc
    sep, header = _text_header(path, sep, py_enc)
    _check_header(str(path), header, mapping)
    text_cols = [t for t, o in mapping.items() if o in ("customer_id", "amount", *NUMERIC_EXTRAS)]
    their_date = next(t for t, o in mapping.items() if o == "date")
    for date_type in ("timestamp", "string"):
        try:
            frame = _read_csv_arrow(path, sep, list(mapping), text_cols, their_date, date_type, enc)
            return frame, enc
        except Exception as exc:  # noqa: BLE001 - fall back to pandas, which names bad lines
            if "UTF8" in str(exc) or isinstance(exc, UnicodeDecodeError):
                raise (_encoding_error(path, enc) or DataError(str(exc))) from None
    try:
        frame = pd.read_csv(
            path,
            sep=sep,
            usecols=list(mapping),
            dtype={c: str for c in [*text_cols, their_date]},
            keep_default_na=False,
            na_values=[""],
            encoding=py_enc,
            engine="c",
        )
    except UnicodeDecodeError:
        raise (_encoding_error(path, enc) or DataError(f"{path}: not {enc} text")) from None
    return frame, enc


def _read_csv_arrow(
    path: Path,
    sep: str,
    names: list[str],
    text_cols: list[str],
    their_date: str,
    date_type: str,
    encoding: str,
) -> pd.DataFrame:
    """Read a CSV with pyarrow: ids and amounts as text, ISO dates parsed on the fly.

    Keeps peak memory near the size of the result. Raises when the file does not
    parse this way (other date formats, bad lines ...): the caller retries with
    dates as text, then with pandas, whose errors name the offending line.
    """
    import pyarrow as pa
    from pyarrow import csv as pacsv

    # large_string is what pandas' arrow-backed str columns hold: no conversion copy
    types = {c: pa.large_string() for c in text_cols}
    types[their_date] = pa.timestamp("ns") if date_type == "timestamp" else pa.large_string()
    reader = pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(block_size=1 << 24, encoding=encoding),
        parse_options=pacsv.ParseOptions(delimiter=sep),
        convert_options=pacsv.ConvertOptions(
            include_columns=names,
            column_types=types,
            timestamp_parsers=[pacsv.ISO8601],
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
        ),
    )
    return _frame_from_batches(reader, reader.schema.names)


def _read_excel(path: Path, mapping: dict[str, str], sheet: str | int) -> pd.DataFrame:
    try:
        first = pd.read_excel(path, sheet_name=sheet, header=None, nrows=1)
    except (ValueError, IndexError, KeyError) as exc:
        sheets = pd.ExcelFile(path).sheet_names
        if sheet in sheets or (isinstance(sheet, int) and 0 <= sheet < len(sheets)):
            raise
        raise DataError(
            f"{str(path)!r} has no sheet {sheet!r}; its sheets are "
            f"{', '.join(map(repr, sheets))}. Pass sheet='name' or sheet=0 (the first)."
        ) from exc
    header = [str(v) for v in first.iloc[0].tolist() if pd.notna(v)] if len(first) else []
    _check_header(str(path), header, mapping)
    ids = [t for t, o in mapping.items() if o == "customer_id"]
    return pd.read_excel(
        path,
        sheet_name=sheet,
        usecols=list(mapping),
        dtype={c: str for c in ids},
        keep_default_na=False,
        na_values=[""],
    )


def _read_parquet(path: Path, mapping: dict[str, str]) -> pd.DataFrame:
    import pyarrow.parquet as pq

    header = pq.read_schema(path).names
    _check_header(str(path), header, mapping)
    names = [c for c in header if c in mapping]
    return _frame_from_batches(pq.ParquetFile(path).iter_batches(1 << 20, columns=names), names)


# --------------------------------------------------------------------------- SQL


def _sql_file(url: str) -> tuple[str, Path]:
    """(engine, database file) of a path or a ``sqlite:///``/``duckdb:///`` URL."""
    if url.startswith("duckdb://"):
        file = url.removeprefix("duckdb://").removeprefix("/")
        return "duckdb", Path(file)
    if url.startswith("sqlite"):
        import sqlalchemy

        database = sqlalchemy.engine.make_url(url).database
        if not database or database == ":memory:":
            raise DataError(
                f"{url!r} is an in-memory database: it has no data to read. Give a file, "
                "e.g. sqlite:///orders.db."
            )
        return "sqlite", Path(database)
    path = Path(url)
    return ("duckdb" if _suffix(path) == ".duckdb" else "sqlite"), path


def _select(table: str, dialect: str) -> str:
    from sqlglot import exp

    parts = table.split(".")
    ident = [exp.to_identifier(p, quoted=True) for p in parts]
    node = exp.Table(this=ident[-1], db=ident[-2] if len(ident) > 1 else None)
    read = checks._DIALECTS.get(dialect, dialect)
    return exp.select("*").from_(node).sql(dialect=read)


def _read_sql(source: str, table: str | None, query: str | None) -> tuple[pd.DataFrame, str]:
    """Run one read-only query on a SQL source; return the frame and how it was opened."""
    if (table is None) == (query is None):
        raise DataError(f"reading {source}: give exactly one of table= or query=.")
    is_url = "://" in source
    if not is_url or source.startswith(("sqlite:", "duckdb:")):
        engine, path = _sql_file(source)
        if not path.is_file():
            raise _missing_file(str(path))
        sql = _select(table, engine) if table is not None else query
        checks.require_select_query(sql, engine)
        try:
            if engine == "duckdb":
                import duckdb

                with duckdb.connect(str(path), read_only=True) as con:
                    con.execute("SET enable_external_access = false")
                    con.execute("SET lock_configuration = true")
                    return con.execute(sql).df(), "DuckDB opened read-only"
            uri = f"file:{urllib.parse.quote(str(path.resolve()))}?mode=ro"
            con = sqlite3.connect(uri, uri=True)
            try:
                return pd.read_sql_query(sql, con), "SQLite opened read-only (mode=ro)"
            finally:
                con.close()
        except DataError:
            raise
        except Exception as exc:  # noqa: BLE001 - the database's own message, plus its tables
            raise DataError(
                f"could not run the query on {str(path)!r}: {exc}.{_tables_hint(engine, path)}"
            ) from exc
    import sqlalchemy

    url = sqlalchemy.engine.make_url(source)
    dialect = url.get_backend_name()
    sql = _select(table, dialect) if table is not None else query
    checks.require_select_query(sql, dialect)
    readonly = {
        "postgresql": "SET TRANSACTION READ ONLY",
        "oracle": "SET TRANSACTION READ ONLY",
        "mysql": "SET SESSION TRANSACTION READ ONLY",
        "mariadb": "SET SESSION TRANSACTION READ ONLY",
    }.get(dialect)
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as con:
            try:
                if readonly:
                    con.exec_driver_sql(readonly)
                frame = pd.read_sql_query(sqlalchemy.text(sql), con)
            finally:
                con.rollback()  # never commit anything
    finally:
        engine.dispose()
    how = (
        f"{dialect} read in a read-only transaction"
        if readonly
        else f"{dialect}: no read-only transaction for this dialect; only the single-SELECT check"
    )
    return frame, how


def _tables_hint(engine: str, path: Path) -> str:
    try:
        if engine == "duckdb":
            import duckdb

            with duckdb.connect(str(path), read_only=True) as con:
                names = [r[0] for r in con.execute("SHOW TABLES").fetchall()]
        else:
            uri = f"file:{urllib.parse.quote(str(path.resolve()))}?mode=ro"
            with closing(sqlite3.connect(uri, uri=True)) as con:
                rows = con.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")
                names = [r[0] for r in rows]
    except Exception:  # noqa: BLE001 - only a hint
        return ""
    return f" Its tables are {', '.join(map(repr, names))}." if names else " It has no tables."


def _read_table(
    source: str | Path,
    mapping: dict[str, str],
    options: dict[str, Any],
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read the mapped columns of a source (their names); every column for SQL results."""
    text = str(source)
    table, query = options.get("table"), options.get("query")
    if "://" in text:
        frame, how = _read_sql(text, table, query)
        return frame, {"how": how}
    path = Path(source)
    if not path.exists():
        raise _missing_file(text)
    if path.is_dir():
        raise DataError(f"{text!r} is a folder; give a file inside it.")
    suffix = _suffix(path)
    if suffix in _SQL_FILES or table is not None or query is not None:
        frame, how = _read_sql(text, table, query)
        return frame, {"how": how}
    if suffix in (".parquet", ".pq"):
        return _read_parquet(path, mapping), {}
    if suffix in _EXCEL:
        return _read_excel(path, mapping, options.get("sheet", 0)), {}
    frame, encoding = _read_text(path, mapping, options.get("sep"), options.get("encoding"))
    return frame, {"encoding": encoding}


def _frame_from_batches(batches: Iterable[Any], names: list[str]) -> pd.DataFrame:
    """Assemble arrow record batches column by column, freeing each batch as it goes.

    Peak memory stays near the size of the result, not twice it.
    """
    import pyarrow as pa

    chunks: dict[str, list] = {name: [] for name in names}
    for batch in batches:
        for name in names:
            chunks[name].append(batch.column(name))
    columns = {}
    pool = pa.default_memory_pool()
    for name, parts in chunks.items():
        column = pa.chunked_array(parts) if parts else pa.chunked_array([], type=pa.null())
        parts.clear()
        columns[name] = column.to_pandas()
        del column
        pool.release_unused()  # hand freed batches back to the system, not to arrow's cache
    return pd.DataFrame(columns, copy=False)


def read_transactions(
    source: str | Path,
    *,
    customer_id: str = "customer_id",
    date: str = "date",
    amount: str = "amount",
    table: str | None = None,
    query: str | None = None,
    sheet: str | int = 0,
    sep: str | None = None,
    encoding: str | None = None,
    decimal: str | None = None,
    thousands: str | None = None,
    dayfirst: bool | None = None,
    date_format: str | None = None,
    allow_large_amounts: bool = False,
    returns: ReturnsPolicy = "keep",
    duplicates: DuplicatesPolicy = "keep",
    **extras: str,
) -> pd.DataFrame:
    """Read a client's transactions, map their column names to crmlab's, and validate them.

    Nothing is guessed silently: a decimal comma, the order of day and month, an
    Excel serial date or a time-zone offset is either proved by the values (and
    recorded in the :class:`DataReport`) or a :class:`DataError` asks for the
    option that settles it. The source is only ever read: SQLite is opened with
    ``mode=ro``, DuckDB with ``read_only=True``, other SQL URLs in a read-only
    transaction where the dialect has one, and a query must be a single SELECT.

    Parameters
    ----------
    source : str or Path
        A CSV/TSV/TXT (optionally .gz), Parquet or Excel file; a SQLite
        (``.db``, ``.sqlite``) or DuckDB (``.duckdb``) file; or a URL
        (``sqlite:///orders.db``, ``duckdb:///orders.duckdb``,
        ``postgresql://user@host/db``; the driver must be installed). A missing
        file is an error, never created.
    customer_id, date, amount : str
        The source's names for the three canonical columns.
    table, query : str, optional
        For SQL sources, a table name (``schema.table`` allowed) or one SELECT /
        WITH query (exactly one of the two).
    sheet : str or int
        Excel sheet name or 0-based position.
    sep : str, optional
        Column separator of a text file (default: the most frequent of ``, ; tab |``
        in the header line).
    encoding : str, optional
        Text encoding of a text file (default UTF-8; a byte that is not UTF-8 raises
        a :class:`DataError` naming the line and suggesting ``'latin-1'``/``'cp1252'``).
    decimal, thousands : str, optional
        Number convention of text amounts (``decimal=','`` for ``29,33``); see
        :func:`crmlab.checks.parse_amounts`.
    dayfirst : bool, optional
        Order of text dates like ``03/04/2024`` when the values do not show it.
    date_format : str, optional
        strftime format of text dates, e.g. ``'%d/%m/%Y'``.
    allow_large_amounts : bool
        Accept amounts beyond +-1e12.
    returns, duplicates
        Passed to :func:`validate_transactions`.
    **extras : str
        Further columns to keep, ours=theirs, e.g. ``cost="UnitCost", category="Dept"``.

    Returns
    -------
    DataFrame
        Validated transactions (see :func:`validate_transactions`); ids from text,
        CSV and Excel sources are text (``"007"`` is not ``"7"``).

    Raises
    ------
    DataError
        Missing file, sheet, table or column; duplicate column names; a query that
        is not one SELECT; an undecodable byte; and every problem
        :func:`validate_transactions` finds. Rows count from 1 at the first data
        row (the header is not counted).

    Examples
    --------
    >>> tx = read_transactions("orders.csv", customer_id="Cust", date="OrderDate",
    ...                        amount="Revenue", decimal=",")  # doctest: +SKIP
    """
    bad = {k: v for k, v in extras.items() if not isinstance(v, str)}
    if bad:
        k = next(iter(bad))
        close = difflib.get_close_matches(k, READER_OPTIONS, n=1)
        hint = f" Did you mean the option {close[0]!r}?" if close else ""
        raise DataError(
            f"{k}={bad[k]!r}: extra columns are given as ours='TheirColumn' (text).{hint} "
            f"Valid options: {', '.join(READER_OPTIONS)}."
        )
    ours_theirs = {"customer_id": customer_id, "date": date, "amount": amount, **extras}
    mapping: dict[str, str] = {}
    for ours, theirs in ours_theirs.items():
        if theirs in mapping:
            raise DataError(
                f"column {theirs!r} is mapped to both {mapping[theirs]} and {ours}; map each "
                "source column once."
            )
        mapping[theirs] = ours
    options = {"table": table, "query": query, "sheet": sheet, "sep": sep, "encoding": encoding}
    try:
        raw, info = _read_table(source, mapping, options)
    except DataError:
        raise
    except Exception as exc:  # noqa: BLE001 - every reader error becomes one readable message
        raise DataError(
            f"could not read {str(source)!r} as a table ({type(exc).__name__}: {exc}). "
            "Expected a CSV, Parquet, Excel, SQLite or DuckDB file, or a SQL URL."
        ) from exc
    header = [str(c) for c in raw.columns]
    _check_header(str(source), header, mapping)
    unused = [c for c in header if c not in mapping]
    raw = raw.loc[:, list(mapping)].rename(columns=mapping)
    out = validate_transactions(
        raw,
        extras=list(extras),
        returns=returns,
        duplicates=duplicates,
        date_format=date_format,
        dayfirst=dayfirst,
        decimal=decimal,
        thousands=thousands,
        allow_large_amounts=allow_large_amounts,
        source=str(source),
        columns=dict(ours_theirs),
        copy=False,
    )
    report = out.attrs["data_report"]
    report["encoding"] = info.get("encoding")
    if unused:
        report["notes"].insert(0, f"columns not used: {', '.join(unused)}")
    if info.get("how"):
        report["notes"].insert(0, info["how"])
    return out


# ------------------------------------------------------------------------- datasets


def dataset_path(name: str) -> Path:
    """Path of a bundled dataset's file."""
    return datasets_dir() / _entry(name)["file"]


def _entry(name: str) -> dict[str, Any]:
    manifest = _manifest()
    if name not in manifest:
        raise DataError(f"no bundled dataset {name!r}; choose one of {', '.join(manifest)}.")
    return manifest[name]


def sha256(path: str | Path) -> str:
    """SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def list_datasets() -> pd.DataFrame:
    """A table of the bundled datasets: name, kind, description, rows, customers, source."""
    rows = [{"name": name, **meta} for name, meta in _manifest().items()]
    cols = ["name", "kind", "description", "rows", "customers", "source", "file", "sha256"]
    return pd.DataFrame(rows, columns=cols).set_index("name")


def _read_cdnow(path: Path, sample: bool) -> pd.DataFrame:
    names = ["customer_id", "sample_id", "date", "quantity", "amount"]
    if not sample:
        names.remove("sample_id")
    raw = pd.read_csv(
        path, sep=r"\s+", header=None, names=names, skiprows=0 if sample else 1, engine="c"
    )
    raw["date"] = pd.to_datetime(raw["date"].astype(str), format="%Y%m%d")
    extras = ["quantity"] + (["sample_id"] if sample else [])
    return validate_transactions(raw, extras=extras, source=path.name, today="1998-07-01")


def _read_panel(path: Path) -> pd.DataFrame:
    raw = pd.read_csv(path)
    household = "hid" if "hid" in raw.columns else "id"
    out = pd.DataFrame({"household_id": raw[household].to_numpy()})
    out["occasion"] = out.groupby("household_id").cumcount() + 1
    out["brand"] = raw["choice"].to_numpy()
    brands = [c.removeprefix("price_") for c in raw.columns if c.startswith("price_")]
    prices = raw[[f"price_{b}" for b in brands]].to_numpy()
    chosen = pd.Categorical(out["brand"], categories=brands).codes
    out["price"] = prices[np.arange(len(raw)), chosen]
    for prefix, ours in (("price_", "price_"), ("feat_", "feature_"), ("disp_", "display_")):
        for col in [c for c in raw.columns if c.startswith(prefix)]:
            out[ours + col.removeprefix(prefix)] = raw[col].to_numpy()
    out["brand"] = pd.Categorical(out["brand"], categories=brands)
    return out


def load_dataset(name: str, *, verify: bool = True) -> pd.DataFrame:
    """Load a bundled dataset as a tidy frame.

    Parameters
    ----------
    name : str
        One of :func:`list_datasets` (``cdnow``, ``cdnow_sample``, ``donations``,
        ``yogurt``, ``cracker``, ``catsup``, ``ketchup``, ``tuna``, ``retention_cohorts``).
    verify : bool
        Check the file's SHA-256 against the manifest first.

    Returns
    -------
    DataFrame
        * transactions (``cdnow``, ``cdnow_sample``): ``customer_id``, ``date``,
          ``amount`` (US$), ``quantity`` (CDs); the sample adds ``sample_id``;
        * ``donations``: ``frequency``, ``recency``, ``n_periods``, ``weight``
          (donors per pattern);
        * panels: ``household_id``, ``occasion`` (1, 2, ... within household),
          ``brand`` (chosen), ``price`` (of the chosen brand), then
          ``price_<brand>``, ``feature_<brand>``, ``display_<brand>`` as available;
        * ``retention_cohorts``: ``year``, ``regular``, ``high_end`` (customers active).
    """
    entry = _entry(name)
    path = datasets_dir() / entry["file"]
    if verify and sha256(path) != entry["sha256"]:
        raise DataError(
            f"dataset {name!r} ({path}) does not match its SHA-256 in datasets/manifest.toml; "
            "the file was changed. Restore it with `git checkout -- datasets/`."
        )
    kind = entry["kind"]
    if kind == "transactions":
        return _read_cdnow(path, sample=name == "cdnow_sample")
    if kind == "panel":
        return _read_panel(path)
    if name == "donations":
        raw = pd.read_csv(path)
        return raw.rename(columns={"periods": "n_periods", "weights": "weight"})
    return pd.read_csv(path)


def parse_column_map(column_map: str | dict[str, str]) -> dict[str, str]:
    """Parse ``"customer_id=Cust,date=OrderDate,amount=Revenue"`` into ``{ours: theirs}``."""
    if isinstance(column_map, dict):
        return dict(column_map)
    mapping: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in column_map.split(","))):
        ours, sep, theirs = item.partition("=")
        if not sep or not ours.strip() or not theirs.strip():
            raise DataError(
                f"column map item {item!r} is not of the form ours=theirs, "
                "e.g. 'customer_id=Cust,date=OrderDate,amount=Revenue'."
            )
        mapping[ours.strip()] = theirs.strip()
    return mapping


def load_source(
    dataset: str = "",
    data_path: str | Path = "",
    column_map: str | dict[str, str] = "",
    **data_options: Any,
) -> pd.DataFrame:
    """The data source of a notebook: a client's file or SQL source if given, else a dataset.

    Parameters
    ----------
    dataset : str
        Name of a bundled dataset, used when ``data_path`` is empty.
    data_path : str or Path
        A client's file or SQL URL (see :func:`read_transactions`).
    column_map : str or dict
        The client's column names, ``"customer_id=Cust,date=OrderDate,amount=Revenue"``;
        extras such as ``cost=UnitCost`` are kept too.
    **data_options
        Reader options passed to :func:`read_transactions`; the valid names are the
        keys of :data:`READER_OPTIONS` (``table``, ``query``, ``sheet``, ``sep``,
        ``encoding``, ``decimal``, ``thousands``, ``dayfirst``, ``date_format``,
        ``allow_large_amounts``, ``returns``, ``duplicates``). An option set to None
        counts as not given. An unknown name raises a :class:`DataError` listing the
        valid ones; options other than ``returns``/``duplicates`` given with a
        bundled dataset raise too (a bundled dataset is read as shipped).
    """
    check_reader_options(data_options)
    options = {k: v for k, v in data_options.items() if v is not None}
    if not data_path:
        if not dataset:
            raise DataError("no data source: set the parameter dataset or data_path.")
        defaults = {
            "sheet": 0,
            "allow_large_amounts": False,
            "returns": "keep",
            "duplicates": "keep",
        }
        given = [k for k, v in options.items() if k not in defaults or v != defaults[k]]
        if given:
            raise DataError(
                f"reader option(s) {', '.join(given)} apply to a client's data_path, but no "
                f"data_path is set: the bundled dataset {dataset!r} is read as shipped. Set "
                "data_path, or remove the options."
            )
        return load_dataset(dataset)
    mapping = parse_column_map(column_map)
    canonical = {k: mapping.pop(k) for k in CANONICAL if k in mapping}
    clash = [k for k in mapping if k in READER_OPTIONS]
    if clash:
        raise DataError(
            f"column map names {', '.join(map(repr, clash))} are reader options, not columns; "
            "pass them as options."
        )
    return read_transactions(data_path, **canonical, **mapping, **options)
