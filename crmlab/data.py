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
:class:`DataReport`. Input files are only ever read.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tomllib
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from crmlab.errors import DataError

CANONICAL = ("customer_id", "date", "amount")
EARLIEST_DATE = pd.Timestamp("1900-01-01")
ReturnsPolicy = Literal["keep", "net", "drop"]
DuplicatesPolicy = Literal["keep", "drop"]


def datasets_dir() -> Path:
    """The folder of bundled datasets (``$CRMLAB_DATASETS`` or ``datasets/`` of the checkout)."""
    env = os.environ.get("CRMLAB_DATASETS")
    return Path(env) if env else Path(__file__).resolve().parents[1] / "datasets"


@cache
def _manifest() -> dict[str, dict[str, Any]]:
    with open(datasets_dir() / "manifest.toml", "rb") as fh:
        return tomllib.load(fh)


# --------------------------------------------------------------------------- report


@dataclass
class DataReport:
    """What validation did to a transactions frame: nothing is dropped unseen.

    Attributes
    ----------
    source : str
        Where the rows came from (file, table or dataset name).
    rows_in, rows_out : int
        Rows read and rows returned.
    excluded : dict
        Reason -> number of rows removed (for instance ``{"duplicate rows": 3}``).
    notes : list of str
        Things kept but worth knowing (returns kept, columns not used ...).
    """

    source: str
    rows_in: int
    rows_out: int = 0
    excluded: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def rows_excluded(self) -> int:
        return sum(self.excluded.values())

    def __str__(self) -> str:
        lines = [f"{self.source}: {self.rows_in:,} rows read, {self.rows_out:,} kept"]
        lines += [f"  excluded {n:,} rows: {why}" for why, n in self.excluded.items()]
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines)


def data_report(frame: pd.DataFrame) -> DataReport | None:
    """The :class:`DataReport` attached to a validated frame (None if there is none)."""
    stored = frame.attrs.get("data_report")
    return None if stored is None else DataReport(**stored)


# ----------------------------------------------------------------------- validation


def _row(frame: pd.DataFrame, mask: np.ndarray) -> tuple[int, Any]:
    """1-based row number (row 1 = first data row) and label of the first True in mask."""
    pos = int(np.flatnonzero(mask)[0])
    return pos + 1, frame.index[pos]


def _fail(column: str, mask: np.ndarray, values: pd.Series, problem: str, fix: str) -> None:
    n = int(mask.sum())
    pos = int(np.flatnonzero(mask)[0])
    raise DataError(
        f"column {column!r} has {n:,} {problem}, first at row {pos + 1}: "
        f"{values.iloc[pos]!r}. {fix}"
    )


def _parse_dates(values: pd.Series, column: str, date_format: str | None) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = values
    else:
        fmt = date_format or ("%Y%m%d" if pd.api.types.is_integer_dtype(values) else None)
        raw = values.astype("string") if fmt == "%Y%m%d" else values
        try:
            parsed = pd.to_datetime(raw, errors="coerce", format=fmt)
        except (ValueError, TypeError):  # mixed formats that pandas cannot infer
            parsed = pd.to_datetime(raw, errors="coerce", format="mixed")
        bad = (parsed.isna() & values.notna()).to_numpy()
        if bad.any():
            hint = f" with format {date_format!r}" if date_format else ""
            _fail(
                column,
                bad,
                values,
                f"values that are not dates{hint}",
                "Fix or remove those rows, or pass date_format= (e.g. '%d/%m/%Y').",
            )
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert(None)
    return parsed.astype("datetime64[ns]")


def validate_transactions(
    frame: pd.DataFrame,
    *,
    extras: tuple[str, ...] | list[str] = (),
    returns: ReturnsPolicy = "keep",
    duplicates: DuplicatesPolicy = "keep",
    date_format: str | None = None,
    today: pd.Timestamp | str | None = None,
    source: str = "transactions",
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
        and listed in the report's notes.
    returns : {"keep", "net", "drop"}
        Negative amounts (returns): keep the rows as they are; net them against
        the same customer's purchases on the same date (dates whose net amount
        is not positive are removed); or drop them. Removed rows are counted.
    duplicates : {"keep", "drop"}
        Exact duplicate rows: keep them (counted in the notes) or drop them.
    date_format : str, optional
        strftime format of the date column when it is text, e.g. ``"%d/%m/%Y"``.
    today : timestamp, optional
        Dates after this are impossible (default: now).
    source : str
        Name used in the report and messages.
    copy : bool
        Work on a copy (default). :func:`read_transactions` passes False for the
        frame it has just read, which keeps peak memory near 3x the data.

    Returns
    -------
    DataFrame
        Columns ``customer_id``, ``date``, ``amount``, then ``extras``, with a
        fresh RangeIndex and the :class:`DataReport` as a dict in
        ``attrs["data_report"]`` (read it with :func:`data_report`).

    Raises
    ------
    DataError
        Missing columns, empty input, missing ids, unparseable, future or pre-1900
        dates, non-numeric amounts; the message names column, count, first row,
        value and fix.
    """
    if returns not in ("keep", "net", "drop"):
        raise DataError(f"returns={returns!r} is not a policy; use 'keep', 'net' or 'drop'.")
    if duplicates not in ("keep", "drop"):
        raise DataError(f"duplicates={duplicates!r} is not a policy; use 'keep' or 'drop'.")
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"{source} is a {type(frame).__name__}, not a table (pandas DataFrame).")
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

    report = DataReport(source=source, rows_in=len(frame))
    unused = [str(c) for c in frame.columns if c not in wanted]
    if unused:
        report.notes.append(f"columns not used: {', '.join(unused)}")
    out = frame.loc[:, wanted].copy() if copy else frame.loc[:, wanted]

    ids = out["customer_id"]
    bad = ids.isna().to_numpy(dtype=bool)
    if not pd.api.types.is_numeric_dtype(ids):
        bad = bad | (ids.astype("string").str.strip() == "").fillna(False).to_numpy(dtype=bool)
    if bad.any():
        _fail(
            "customer_id",
            bad,
            ids,
            "missing values",
            "Every transaction needs a customer; fill or remove those rows.",
        )

    dates = _parse_dates(out["date"], "date", date_format)
    missing_dates = dates.isna().to_numpy()
    if missing_dates.any():
        _fail("date", missing_dates, out["date"], "missing dates", "Fill or remove those rows.")
    now = pd.Timestamp(today) if today is not None else pd.Timestamp.now()
    for bad, problem in (
        ((dates > now).to_numpy(), f"dates in the future (after {now:%Y-%m-%d})"),
        ((dates < EARLIEST_DATE).to_numpy(), "dates before 1900"),
    ):
        if bad.any():
            _fail("date", bad, out["date"], problem, "Check the date column and its format.")
    out["date"] = dates

    amounts = out["amount"]
    if not pd.api.types.is_numeric_dtype(amounts) or pd.api.types.is_bool_dtype(amounts):
        text = amounts.astype("string").str.replace(r"[\s,$€£]", "", regex=True)
        numeric = pd.to_numeric(text, errors="coerce")
        bad = (numeric.isna() & amounts.notna()).to_numpy(dtype=bool)
        if bad.any():
            _fail(
                "amount",
                bad,
                amounts,
                "values that are not numbers",
                "Use plain numbers (e.g. 12.50) in the amount column.",
            )
        amounts = numeric
    amounts = amounts.astype("float64")
    if amounts.isna().any():
        _fail(
            "amount",
            amounts.isna().to_numpy(),
            out["amount"],
            "missing values",
            "Fill or remove those rows.",
        )
    out["amount"] = amounts

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


def _exact_duplicates(frame: pd.DataFrame, chunk: int = 1 << 20) -> np.ndarray:
    """Rows equal to an earlier row: 64-bit row hashes, sorted, then confirmed exactly.

    Hashing in chunks and sorting the hashes keeps memory near two integers per
    row on large logs; rows whose hash repeats are compared exactly.
    """
    hashes = np.empty(len(frame), dtype=np.uint64)
    for start in range(0, len(frame), chunk):
        part = frame.iloc[start : start + chunk]
        hashes[start : start + chunk] = pd.util.hash_pandas_object(part, index=False).to_numpy()
    ordered = np.sort(hashes)
    repeated = ordered[1:][ordered[1:] == ordered[:-1]]
    del ordered
    dup = np.zeros(len(frame), dtype=bool)
    if repeated.size:
        candidates = np.isin(hashes, repeated)
        dup[candidates] = frame.loc[candidates].duplicated().to_numpy()
    return dup


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


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for suffix in (*_TEXT, ".parquet", ".pq", ".xlsx", ".xlsm", ".xls", *_SQL_FILES):
        if name.endswith(suffix):
            return suffix
    return path.suffix.lower()


def _read_sql(source: str, table: str | None, query: str | None) -> pd.DataFrame:
    if (table is None) == (query is None):
        raise DataError(f"reading {source}: give exactly one of table= or query=.")
    sql = query if query is not None else f'SELECT * FROM "{table}"'
    path = Path(source)
    if source.startswith("duckdb:///") or path.suffix.lower() == ".duckdb":
        import duckdb

        file = source.removeprefix("duckdb:///")
        with duckdb.connect(file, read_only=True) as con:
            return con.execute(sql).df()
    import sqlalchemy

    url = source if "://" in source else f"sqlite:///{path}"
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as con:
            return pd.read_sql_query(sqlalchemy.text(sql), con)
    finally:
        engine.dispose()


def _read_table(
    source: str | Path,
    usecols: dict[str, str] | None,
    sheet: str | int,
    table: str | None,
    query: str | None,
    nrows: int | None = None,
) -> pd.DataFrame:
    text = str(source)
    if "://" in text:
        return _read_sql(text, table, query)
    path = Path(source)
    if not path.exists():
        raise DataError(f"file {text!r} does not exist.")
    suffix = _suffix(path)
    if suffix in _SQL_FILES or table is not None or query is not None:
        return _read_sql(text, table, query)
    # read only the mapped columns (memory), but let absent ones surface as a clear error later
    keep = (lambda c: c in usecols) if usecols else None
    if suffix in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        names = [c for c in pq.read_schema(path).names if keep is None or keep(c)]
        parquet = pq.ParquetFile(path)
        return _frame_from_batches(parquet.iter_batches(1 << 20, columns=names), names)
    if suffix in (".xlsx", ".xlsm", ".xls"):
        return pd.read_excel(path, sheet_name=sheet, usecols=keep, nrows=nrows)
    sep = _sniff_separator(path)
    if nrows is None and usecols and "date" in usecols.values():
        fast = _read_csv_arrow(path, sep, usecols)
        if fast is not None:
            return fast
    return pd.read_csv(path, sep=sep, usecols=keep, nrows=nrows, engine="c")


def _read_csv_arrow(path: Path, sep: str, usecols: dict[str, str]) -> pd.DataFrame | None:
    """Read a CSV with pyarrow, parsing ISO dates on the fly (no Python strings).

    Keeps peak memory near the size of the result. Returns None when the file
    does not parse this way (other date formats, bad values ...): the pandas path
    then reads it and validation names the offending rows.
    """
    import pyarrow as pa
    from pyarrow import csv as pacsv

    their_date = next(theirs for theirs, ours in usecols.items() if ours == "date")
    try:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter=sep),
            convert_options=pacsv.ConvertOptions(
                include_columns=list(usecols),
                include_missing_columns=True,
                column_types={their_date: pa.timestamp("ns")},
                timestamp_parsers=[pacsv.ISO8601],
            ),
        )
        frame = _frame_from_batches(reader, reader.schema.names)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, UnicodeDecodeError, OSError):
        return None
    if len(frame) and frame.isna().all().any():
        return None  # an absent column: let the pandas path produce the message
    return frame


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


def _sniff_separator(path: Path) -> str:
    """The delimiter of a text table: the most frequent of , ; tab | in its first line."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rt", errors="replace") as fh:
        first = fh.readline()
    counts = {sep: first.count(sep) for sep in (",", ";", "\t", "|")}
    return max(counts, key=counts.get) if max(counts.values()) > 0 else ","


def read_transactions(
    source: str | Path,
    *,
    customer_id: str = "customer_id",
    date: str = "date",
    amount: str = "amount",
    table: str | None = None,
    query: str | None = None,
    sheet: str | int = 0,
    returns: ReturnsPolicy = "keep",
    duplicates: DuplicatesPolicy = "keep",
    date_format: str | None = None,
    **extras: str,
) -> pd.DataFrame:
    """Read a client's transactions and map their column names to crmlab's.

    Parameters
    ----------
    source : str or Path
        A CSV/TSV/TXT (optionally .gz), Parquet or Excel file; a SQLite
        (``.db``, ``.sqlite``) or DuckDB (``.duckdb``) file; or a SQLAlchemy URL
        (``postgresql://user@host/db``; the driver must be installed).
    customer_id, date, amount : str
        The source's names for the three canonical columns.
    table, query : str, optional
        For SQL sources, a table name or a SELECT query (exactly one).
    sheet : str or int
        Excel sheet.
    returns, duplicates, date_format
        Passed to :func:`validate_transactions`.
    **extras : str
        Further columns to keep, ours=theirs, e.g. ``cost="UnitCost", category="Dept"``.

    Returns
    -------
    DataFrame
        Validated transactions (see :func:`validate_transactions`). The source is
        never written to.

    Examples
    --------
    >>> tx = read_transactions("orders.csv", customer_id="Cust", date="OrderDate",
    ...                        amount="Revenue")  # doctest: +SKIP
    """
    mapping = {customer_id: "customer_id", date: "date", amount: "amount"}
    mapping.update({theirs: ours for ours, theirs in extras.items()})
    is_file = "://" not in str(source) and table is None and query is None
    usecols = dict(mapping) if is_file else None
    try:
        raw = _read_table(source, usecols, sheet, table, query)
    except DataError:
        raise
    except Exception as exc:  # noqa: BLE001 - every reader error becomes one readable message
        raise DataError(
            f"could not read {str(source)!r} as a table ({type(exc).__name__}: {exc}). "
            "Expected a CSV, Parquet, Excel, SQLite or DuckDB file, or a SQL URL."
        ) from exc
    missing = [theirs for theirs in mapping if theirs not in raw.columns]
    if missing:
        header = (
            raw.columns
            if usecols is None
            else _read_table(source, None, sheet, None, None, 5).columns
        )
        if len(header) == 1:
            raise DataError(
                f"{str(source)!r} was read as a single column {str(header[0])!r}: it is not a "
                "delimited table, or its separator is unusual."
            )
        raise DataError(
            f"{str(source)!r} has no column {', '.join(map(repr, missing))}; it has "
            f"{', '.join(map(repr, map(str, header)))}. Pass the right names, e.g. "
            f"customer_id='{header[0]}'."
        )
    raw = raw.rename(columns=mapping)
    return validate_transactions(
        raw,
        extras=list(extras),
        returns=returns,
        duplicates=duplicates,
        date_format=date_format,
        source=str(source),
        copy=False,
    )


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
    dataset: str = "", data_path: str = "", column_map: str | dict[str, str] = "", **kwargs: Any
) -> pd.DataFrame:
    """The data source of a notebook: a client's file or SQL source if given, else a dataset.

    Parameters
    ----------
    dataset : str
        Name of a bundled dataset, used when ``data_path`` is empty.
    data_path : str
        A client's file or SQL URL (see :func:`read_transactions`).
    column_map : str or dict
        The client's column names, ``"customer_id=Cust,date=OrderDate,amount=Revenue"``;
        extras such as ``cost=UnitCost`` are kept too.
    **kwargs
        Passed to :func:`read_transactions` (``table``, ``query``, ``returns`` ...).
    """
    if not data_path:
        if not dataset:
            raise DataError("no data source: set the parameter dataset or data_path.")
        return load_dataset(dataset)
    mapping = parse_column_map(column_map)
    canonical = {k: mapping.pop(k) for k in CANONICAL if k in mapping}
    return read_transactions(data_path, **canonical, **mapping, **kwargs)
