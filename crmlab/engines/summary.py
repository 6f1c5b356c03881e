"""The RFM summary computed where the data live: validation, summary and patterns as queries.

:func:`summarize` is what :func:`crmlab.rfm_summary` calls for anything that is not
a pandas frame. It opens the source (:func:`open_source`), validates it with one
counting query (the checks of :func:`crmlab.data.validate_transactions`, with the
same messages), applies the duplicates and returns policies, and builds the summary
in the engine; only one row per customer (or per distinct pattern) comes back.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from crmlab import checks
from crmlab.engines import sql as q
from crmlab.engines.base import Engine
from crmlab.errors import DataError

#: what every validation problem is called, with its fix (the wording of crmlab.data)
_FILL = "Fill or remove those rows."
_DATES = "Check the date column and its format."
_CUSTOMER = "Every transaction needs a customer; fill or remove those rows."


def _problems(cols: q.Columns, today: pd.Timestamp) -> dict[str, tuple[str, str, str, str]]:
    """name -> (column, problem, plural, fix), in the order validation raises them."""
    fmt = cols.date_format
    bad_date = (
        (f"value that is not a date with format {fmt!r}", "Fix those rows or the format.")
        if fmt
        else (
            "value that is not a date",
            "Fix or remove those rows, or pass date_format= (e.g. '%d/%m/%Y').",
        )
    )
    future = f"in the future (after {today:%Y-%m-%d})"
    ids = "missing or blank value" if cols.id_text else "missing value"
    return {
        "missing_id": ("customer_id", ids, ids + "s", _CUSTOMER),
        "bad_date": (
            "date",
            bad_date[0],
            bad_date[0].replace("value", "values", 1).replace("is not a date", "are not dates"),
            bad_date[1],
        ),
        "early_date": ("date", "date before 1900", "dates before 1900", _DATES),
        "future_date": ("date", f"date {future}", f"dates {future}", _DATES),
        "missing_date": ("date", "missing date", "missing dates", _FILL),
        "bad_amount": (
            "amount",
            "value that is not a number",
            "values that are not numbers",
            "Engines read text amounts with a decimal point only: convert the column to "
            "numbers in the source, or read it with crmlab.read_transactions(decimal=...).",
        ),
        "missing_amount": ("amount", "missing value", "missing values", _FILL),
        "nonfinite_amount": (
            "amount",
            "value that is not a finite number",
            "values that are not finite numbers",
            "Amounts must be finite numbers: fix or remove those rows (NaN and inf are refused).",
        ),
        "huge_amount": (
            "amount",
            "implausible value (beyond +-1e12)",
            "implausible values (beyond +-1e12)",
            "Check the column (a decimal or thousands separator read wrongly?) or, if the "
            "values are right, pass allow_large_amounts=True.",
        ),
    }


def open_source(
    source: Any,
    *,
    table: str | None = None,
    query: str | None = None,
    engine: str | None = None,
    sep: str | None = None,
    encoding: str | None = None,
    spark: Any = None,
    memory_limit: str | None = None,
    threads: int | None = None,
) -> Engine:
    """An :class:`~crmlab.engines.base.Engine` reading ``source``.

    Parameters
    ----------
    source
        A DuckDB relation; a PySpark DataFrame; or text: a Parquet file, folder or glob
        (``'orders/*.parquet'``), a CSV file, a DuckDB database (``duckdb:///shop.duckdb``
        or ``shop.duckdb``) or SQLite file, or any SQLAlchemy URL
        (``postgresql://user@host/db``); databases need ``table=`` or ``query=``.
    engine : {None, "duckdb", "spark"}
        Who reads files: DuckDB (default) or Spark (``spark`` session, or one started
        by :func:`crmlab.engines.spark.session`).
    sep, encoding
        CSV options. ``memory_limit`` (e.g. ``"2GB"``), ``threads``: DuckDB's.
    """
    from crmlab.engines import duckdb as duck

    if engine not in (None, "duckdb", "spark"):
        raise DataError(f"engine={engine!r} is not known; use 'duckdb' or 'spark'.")
    config = {"memory_limit": memory_limit, "threads": threads}
    kind = type(source).__module__ + "." + type(source).__name__
    if kind.startswith("duckdb") and hasattr(source, "query") and hasattr(source, "types"):
        return duck.from_relation(source)
    if kind.startswith("pyspark") and hasattr(source, "mapInPandas"):
        from crmlab.engines import spark as sp

        return sp.from_dataframe(source)
    if isinstance(source, Path):
        source = str(source)
    if not isinstance(source, str) or not source:
        raise DataError(
            f"cannot read a {type(source).__name__} as transactions: give a pandas DataFrame, "
            "a DuckDB relation, a PySpark DataFrame, a Parquet/CSV path or glob, a DuckDB "
            "file or a SQL URL (with table= or query=)."
        )
    lower = source.lower()
    database = lower.startswith("duckdb:") or lower.endswith(".duckdb")
    if engine == "spark":
        if database or "://" in source:
            raise DataError(
                f"{source!r}: Spark reads Parquet and CSV files here; read databases with "
                "the default engine, or give a Spark DataFrame of the table."
            )
        from crmlab.engines import spark as sp

        return sp.from_path(source, spark=spark, sep=sep)
    if database:
        path = source.removeprefix("duckdb://").removeprefix("/") if "://" in source else source
        if source.startswith("duckdb:///") and source[len("duckdb:///") :].startswith("/"):
            path = source[len("duckdb:///") :]
        return duck.from_database(path, table, query, **config)
    if "://" in source or lower.endswith((".db", ".sqlite", ".sqlite3")):
        from crmlab.engines import warehouse

        url = source if "://" in source else f"sqlite:///{source}"
        return warehouse.from_url(url, table, query)
    if table is not None or query is not None:
        raise DataError(f"table=/query= apply to databases; {source!r} is a file.")
    if lower.endswith(duck.CSV):
        return duck.from_csv(source, sep=sep, encoding=encoding, **config)
    if duck.is_parquet(source):
        return duck.from_parquet(source, **config)
    raise DataError(
        f"{source!r} is not a source the engines read: give a Parquet file, folder or glob, a "
        "CSV, a DuckDB file or a SQL URL (or read it with crmlab.read_transactions)."
    )


def _columns(engine: Engine, mapping: dict[str, str], date_format: str | None) -> q.Columns:
    """Check the mapped columns exist and decide how each is read."""
    from crmlab.data import _check_header

    kinds = engine.kinds()
    _check_header(engine.label, list(kinds), {theirs: ours for ours, theirs in mapping.items()})
    cid, date, amount = (mapping[c] for c in ("customer_id", "date", "amount"))
    if kinds[date] not in ("timestamp", "text"):
        raise DataError(
            f"{checks.label('date', date)} holds {kinds[date]} values, not dates; the engines "
            "read dates and timestamps, or ISO text (2024-01-31). Convert the column in the "
            "source, or read it with crmlab.read_transactions."
        )
    if kinds[amount] not in ("number", "text"):
        raise DataError(
            f"{checks.label('amount', amount)} holds {kinds[amount]} values, not numbers."
        )
    if date_format and engine.name != "duckdb":
        raise DataError(
            f"date_format= is read by the DuckDB engine only; on {engine.name} store dates as "
            "dates or ISO text."
        )
    return q.Columns(
        cid,
        date,
        amount,
        id_text=kinds[cid] == "text",
        date_text=kinds[date] == "text",
        amount_text=kinds[amount] == "text",
        date_format=date_format if kinds[date] == "text" else None,
        has_nan=engine.name in ("duckdb", "spark"),
        normalizes_dates=engine.name == "sqlite",
    )


def validate(
    engine: Engine,
    cols: q.Columns,
    *,
    returns: str = "keep",
    duplicates: str = "keep",
    allow_large_amounts: bool = False,
    today: Any = None,
    after: int | None = None,
    after_label: str = "",
) -> tuple[dict[str, Any], Any]:
    """Run the checks of :func:`crmlab.data.validate_transactions` as engine queries.

    Returns the counts (and ``first_day``/``last_day`` of the kept rows) and the
    :class:`~crmlab.data.DataReport`. Raises :class:`DataError` with the count, the
    first offending row (rows count from 1 at the first data row, in the source's
    order) and the fix, worded as the pandas path words it.
    """
    from crmlab.data import DataReport

    if returns not in ("keep", "net", "drop"):
        raise DataError(f"returns={returns!r} is not a policy; use 'keep', 'net' or 'drop'.")
    if duplicates not in ("keep", "drop"):
        raise DataError(f"duplicates={duplicates!r} is not a policy; use 'keep' or 'drop'.")
    now = pd.Timestamp(today) if today is not None else pd.Timestamp.now()
    stamp = now.strftime("%Y-%m-%d %H:%M:%S.%f")
    counts = engine.one(q.checks_query(cols, stamp, after, typed=_typed(engine)))
    counts = {k: (0 if v is None else v) for k, v in counts.items()}
    if counts["n_rows"] == 0:
        raise DataError(f"{engine.label} has no rows: there is nothing to analyse.")
    theirs = {"customer_id": cols.customer_id, "date": cols.date, "amount": cols.amount}
    conditions = q.conditions(cols, stamp, after)
    for name, (ours, problem, plural, fix) in _problems(cols, now).items():
        if name == "huge_amount" and allow_large_amounts:
            continue
        n = int(counts[name])
        if n:
            row = engine.first_row(cols, conditions[name])
            raw = {"customer_id": "id_raw", "date": "date_raw", "amount": "amount_raw"}[ours]
            value = checks.show(row[raw]) if row is not None else "?"
            where = int(row["crmlab_row"]) if row is not None else 0
            raise DataError(
                f"{checks.label(ours, theirs[ours])} has {n:,} {problem if n == 1 else plural}, "
                f"first at row {where}: {value} ({checks.ROWS}). {fix}"
            )
    report = DataReport(
        source=engine.label,
        rows_in=int(counts["n_rows"]),
        columns={"customer_id": cols.customer_id, "date": cols.date, "amount": cols.amount},
    )
    if engine.how:
        report.notes.append(engine.how)
    if counts["ids_stripped"]:
        report.ids_stripped = int(counts["ids_stripped"])
        report.notes.append(f"{report.ids_stripped:,} customer ids had surrounding spaces removed")
    if cols.date_text:
        report.date_order = f"format {cols.date_format!r}" if cols.date_format else "ISO text"
    removed = 0
    negative = int(counts["negative"])
    if duplicates == "keep" and (returns == "keep" or not negative):
        # the summary reads the rows as they are: its customers query counts the rows
        # sharing a customer-day, and duplicates are counted among those (see prepare)
        counts["duplicates_note_at"] = len(report.notes)
        n_dup = 0
    else:
        n_dup = int(engine.one(q.duplicates_query(cols))["duplicates"] or 0)
        removed += _note_duplicates(report, n_dup, duplicates)
    if negative and duplicates == "drop" and n_dup:
        rows = q.clean(cols, "drop", "keep", False)
        negative = int(engine.one(f"SELECT COUNT(*) AS n FROM ({rows}) AS r WHERE amt < 0")["n"])
    if negative:
        if returns == "drop":
            report.excluded["negative amounts (returns)"] = negative
            removed += negative
        elif returns == "net":
            net = engine.one(q.netting_query(cols, duplicates))
            merged, gone = int(net["merged"] or 0), int(net["not_positive"] or 0)
            report.notes.append(
                f"{negative:,} return rows netted against same-day purchases; "
                f"{merged:,} rows merged into their customer-date"
            )
            report.excluded["rows merged by netting returns"] = merged
            removed += merged
            if gone:
                report.excluded["customer-dates with zero or negative net amount"] = gone
                removed += gone
        else:
            report.notes.append(f"{negative:,} rows with negative amounts (returns) kept")
    if counts.get("after_end"):
        report.notes.append(
            f"{int(counts['after_end']):,} rows dated after {after_label} are not part of the "
            "summary (they only decide who was a customer before it)"
        )
    report.rows_out = report.rows_in - removed
    counts["negative"] = negative
    return counts, report


def _typed(engine: Engine) -> bool:
    """The engine has real timestamps and ``ARG_MIN``/``MIN_BY`` (DuckDB, Spark)."""
    return engine.name in ("duckdb", "spark")


def _note_duplicates(report: Any, n_dup: int, duplicates: str, at: int | None = None) -> int:
    """Record ``n_dup`` exact duplicate rows in the data report (excluded with
    ``duplicates='drop'``, a note with ``'keep'``); returns the rows excluded."""
    if not n_dup:
        return 0
    if duplicates == "drop":
        report.excluded["exact duplicate rows"] = n_dup
        return n_dup
    note = f"{n_dup:,} exact duplicate rows kept (duplicates='keep')"
    report.notes.insert(len(report.notes) if at is None else at, note)
    return 0


def _bounds(engine: Engine, rows: str) -> tuple[int, int]:
    day = q.day_of("ts")
    got = engine.one(f"SELECT MIN({day}) AS lo, MAX({day}) AS hi FROM ({rows}) AS r")
    if got["lo"] is None:
        raise DataError(f"{engine.label}: no rows are left after the returns policy.")
    return int(got["lo"]), int(got["hi"])


def summarize(
    source: Any,
    *,
    customer_id: str = "customer_id",
    date: str = "date",
    amount: str = "amount",
    calibration_end: object = None,
    observation_end: object = None,
    time_unit: str = "W",
    cohort_start: object = None,
    cohort_end: object = None,
    patterns: bool = False,
    returns: str = "keep",
    duplicates: str = "keep",
    date_format: str | None = None,
    allow_large_amounts: bool = False,
    today: Any = None,
    **options: Any,
) -> pd.DataFrame:
    """:func:`crmlab.rfm_summary` of a source, computed in its engine.

    Same columns, values (to rounding), index (sorted customer ids) and
    ``attrs`` as the pandas path; besides, ``attrs["data_report"]`` (what validation
    counted, kept and excluded) and ``attrs["engine"]`` (who computed it). With
    ``patterns=True``: the distinct (frequency, recency, T) with the number of
    customers sharing each (``weight``), the input every transaction model fits from.
    ``options`` are those of :func:`open_source`.
    """
    with prepare(
        source,
        customer_id=customer_id,
        date=date,
        amount=amount,
        calibration_end=calibration_end,
        observation_end=observation_end,
        time_unit=time_unit,
        cohort_start=cohort_start,
        cohort_end=cohort_end,
        returns=returns,
        duplicates=duplicates,
        date_format=date_format,
        allow_large_amounts=allow_large_amounts,
        today=today,
        **options,
    ) as plan:
        return plan.patterns() if patterns else plan.summary()


def to_summary(rows: pd.DataFrame, attrs: dict[str, Any], holdout: bool) -> pd.DataFrame:
    """Rows of :func:`crmlab.engines.sql.summary` in the layout of the pandas summary:
    indexed by ``customer_id``, ``first_purchase`` as a date, float columns, ``attrs``."""
    first = rows.pop("first_day").to_numpy(dtype=np.int64)
    rows["first_purchase"] = first.astype("datetime64[D]").astype("datetime64[ns]")
    order = ["frequency", "recency", "T", "monetary_value", "first_purchase"]
    if holdout:
        order += ["frequency_holdout", "duration_holdout"]
    out = rows.set_index("customer_id")[order]
    for col in order:
        if col != "first_purchase":
            out[col] = out[col].astype(float)
    out.attrs.update(attrs)
    return out


def fill_summary(
    batches: Iterator[Any], n: int, attrs: dict[str, Any], holdout: bool, *, sort: bool = False
) -> pd.DataFrame:
    """Arrow record batches of :func:`crmlab.engines.sql.summary` rows (``n`` in all, in
    the order wanted) -> the frame of :func:`to_summary`, filled batch by batch.

    Every column is allocated once and filled in place (ids of a type numpy holds
    directly; other ids are joined from their Arrow chunks), then wrapped without a
    copy. ``sort``: the rows come in any order and are put in the order of their
    (numeric, distinct) ids here, one column at a time, so the engine need not sort
    them beside its other data. Raises :class:`RuntimeError` if the engine returns other
    than ``n`` rows (the count the exclusion query made of the same table).
    """
    import pyarrow as pa

    floats = ["frequency", "recency", "T", "monetary_value"]
    if holdout:
        floats += ["frequency_holdout", "duration_holdout"]
    data: dict[str, np.ndarray] = {c: np.empty(n, dtype=float) for c in floats}
    first = np.empty(n, dtype="datetime64[ns]")
    ids: np.ndarray | None = None
    id_chunks: list[Any] = []
    at = 0
    for batch in batches:
        m = batch.num_rows
        if not m:
            continue
        if at + m > n:
            raise RuntimeError(f"the engine returned more than the {n:,} customers it counted")
        for col in floats:
            data[col][at : at + m] = batch.column(col).to_numpy(zero_copy_only=False)
        days = batch.column("first_day").to_numpy(zero_copy_only=False).astype(np.int64)
        first[at : at + m] = days.astype("datetime64[D]")
        cid = batch.column("customer_id")
        if (
            ids is None
            and not id_chunks
            and cid.null_count == 0
            and (pa.types.is_integer(cid.type) or pa.types.is_floating(cid.type))
        ):
            ids = np.empty(n, dtype=cid.type.to_pandas_dtype())
        if ids is not None:
            ids[at : at + m] = cid.to_numpy(zero_copy_only=False)
        else:
            id_chunks.append(cid)
        at += m
    if at != n:
        raise RuntimeError(f"the engine returned {at:,} of the {n:,} customers it counted")
    if sort:
        if ids is None:
            raise RuntimeError("only numeric customer ids are sorted here; sort in the engine")
        if n > 1 and not bool(np.all(ids[1:] > ids[:-1])):
            order = np.argsort(ids, kind="stable")
            for column in [ids, first, *data.values()]:
                column[:] = column[order]
            del order
    if ids is None:
        index = pd.Index(
            pa.chunked_array(id_chunks).to_pandas() if id_chunks else [], name="customer_id"
        )
    else:
        index = pd.Index(ids, name="customer_id", copy=False)
    order = ["frequency", "recency", "T", "monetary_value", "first_purchase"] + floats[4:]
    columns = {**data, "first_purchase": first}
    out = pd.DataFrame({c: columns[c] for c in order}, index=index, copy=False)
    out.attrs.update(attrs)
    return out


class Plan:
    """A validated source with its summary query, ready to fetch or stream.

    ``rows`` is the query of the validated rows (``customer_id``, ``ts``, ``amt``) after
    the duplicates and returns policies, for further grouped queries on the same data;
    ``first_day`` and ``last_day`` bound them (days since 1970-01-01). ``sort_ids``: the
    ids are integers of a streaming engine, sorted by :meth:`summary` itself.
    """

    def __init__(
        self,
        engine: Engine,
        summary_sql: str,
        attrs: dict[str, Any],
        obs: bool,
        *,
        rows: str = "",
        first_day: int | None = None,
        last_day: int | None = None,
        sort_ids: bool = False,
    ):
        self.engine = engine
        self.summary_sql = summary_sql
        self.attrs = attrs
        self.holdout = obs
        self.rows = rows
        self.first_day = first_day
        self.last_day = last_day
        self.sort_ids = sort_ids

    def frame(self, rows: pd.DataFrame) -> pd.DataFrame:
        """Engine rows -> the pandas summary's layout (see :func:`to_summary`)."""
        return to_summary(rows, self.attrs, self.holdout)

    def summary(self, size: int = 1 << 18) -> pd.DataFrame:
        """One row per customer, sorted by id (what :func:`summarize` returns).

        On engines that stream Arrow record batches (:attr:`Engine.streams`, DuckDB), the
        rows arrive ``size`` customers at a time and are copied into columns
        allocated once for ``attrs["customers"]`` rows, which become the frame without a
        further copy: the peak is the frame plus one batch beside the engine's buffer, not
        the engine's whole result plus the frame built from it; DuckDB makes room for
        the columns (:meth:`Engine.room`) while they are filled. Integer ids
        (``sort_ids``) are sorted in numpy after the fill rather than by the engine.
        """
        if not self.engine.streams:
            return self.frame(self.engine.fetch(self.summary_sql + " ORDER BY customer_id"))
        sql = self.summary_sql + ("" if self.sort_ids else " ORDER BY customer_id")
        n = int(self.attrs["customers"])
        # float columns, first purchase and the index: 8 bytes each per customer
        width = 8 * (8 if self.holdout else 6)
        with self.engine.room(n * width):
            return fill_summary(
                self.engine.batches(sql, size), n, self.attrs, self.holdout, sort=self.sort_ids
            )

    def patterns(self) -> pd.DataFrame:
        """Distinct (frequency, recency, T) with ``weight`` (``summarize(patterns=True)``)."""
        out = self.engine.fetch(q.patterns(self.summary_sql))
        out["weight"] = out["weight"].astype("int64")
        out = out.astype({"frequency": float, "recency": float, "T": float})
        out.attrs.update(self.attrs)
        return out

    def batches(self, size: int = 1 << 20) -> Iterator[pd.DataFrame]:
        """The summary in pandas frames of at most ``size`` customers (any order)."""
        for batch in self.engine.batches(self.summary_sql, size):
            if batch.num_rows:
                yield self.frame(batch.to_pandas())

    def __enter__(self) -> Plan:
        return self

    def __exit__(self, *exc: object) -> None:
        self.engine.close()


def prepare(
    source: Any,
    *,
    customer_id: str = "customer_id",
    date: str = "date",
    amount: str = "amount",
    calibration_end: object = None,
    observation_end: object = None,
    time_unit: str = "W",
    cohort_start: object = None,
    cohort_end: object = None,
    returns: str = "keep",
    duplicates: str = "keep",
    date_format: str | None = None,
    allow_large_amounts: bool = False,
    today: Any = None,
    **options: Any,
) -> Plan:
    """Open, validate and plan the summary of ``source`` (see :func:`summarize`).

    The customers table is computed once (a temporary table in DuckDB, a cached view
    in Spark); the returned :class:`Plan` fetches or streams the summary from it.
    """
    from crmlab.summary import UNITS, _date, _day, check_window

    if not isinstance(time_unit, str) or time_unit not in UNITS:
        raise DataError(f"time_unit={time_unit!r} is not known; use 'W' (weeks) or 'D' (days).")
    cal_given = _day(calibration_end, "calibration_end", default=None)
    obs_day = _day(observation_end, "observation_end", default=None)
    lo = checks.timestamp(cohort_start, "cohort_start", optional=True)
    hi = checks.timestamp(cohort_end, "cohort_end", optional=True)
    engine = open_source(source, **options)
    try:
        mapping = {"customer_id": customer_id, "date": date, "amount": amount}
        cols = _columns(engine, mapping, date_format)
        end = obs_day if obs_day is not None else cal_given
        end_label = (
            f"observation_end {_date(obs_day)}"
            if obs_day is not None
            else (f"calibration_end {_date(cal_given)}" if cal_given is not None else "")
        )
        counts, report = validate(
            engine,
            cols,
            returns=returns,
            duplicates=duplicates,
            allow_large_amounts=allow_large_amounts,
            today=today,
            after=end,
            after_label=end_label,
        )
        rows = q.clean(cols, duplicates, returns, counts["negative"] > 0)
        if returns != "keep" and counts["negative"]:
            first_data, last_data = _bounds(engine, rows)
        else:
            first_data, last_data = int(counts["first_day"]), int(counts["last_day"])
        cal_day = last_data if cal_given is None else cal_given
        check_window(first_data, last_data, cal_day, obs_day, stacklevel=4)
        # cohort bounds as days: midnight of first_day >= lo  <=>  first_day >= ceil(lo)
        day_ns = 86_400 * 10**9
        lo_day = None if lo is None else -(-lo.value // day_ns)
        hi_day = None if hi is None else hi.value // day_ns
        deferred = "duplicates_note_at" in counts
        table = engine.materialize(
            q.customers(
                rows,
                cal_day,
                cal_day if obs_day is None else obs_day,
                typed=_typed(engine),
                count_rows=deferred,
            )
        )
        got = engine.one(q.excluded_query(table, cal_day, lo_day, hi_day, shared=deferred))
        if deferred and got["shared"]:
            n_dup = int(engine.one(q.duplicates_among(cols, table))["duplicates"] or 0)
            _note_duplicates(report, n_dup, duplicates, at=counts["duplicates_note_at"])
        excluded = {"first purchase after calibration_end": int(got["after_calibration"] or 0)}
        if lo is not None or hi is not None:
            excluded["first purchase outside the cohort window"] = int(got["outside_cohort"] or 0)
        kept = int(got["n_customers"] or 0) - sum(excluded.values())
        if kept <= 0:
            raise DataError(
                "no customer made a first purchase in the chosen window "
                f"(calibration_end {_date(cal_day)}); widen the cohort or move calibration_end."
            )
        attrs = {
            "time_unit": time_unit,
            "calibration_end": _date(cal_day),
            "observation_end": None if obs_day is None else _date(obs_day),
            "excluded": excluded,
            "data_report": asdict(report),
            "engine": engine.name,
            "customers": kept,
        }
        sql = q.summary(table, cal_day, obs_day, UNITS[time_unit], lo_day, hi_day)
        return Plan(
            engine,
            sql,
            attrs,
            obs_day is not None,
            rows=rows,
            first_day=first_data,
            last_day=last_data,
            sort_ids=engine.streams and engine.integer_column(cols.customer_id),
        )
    except BaseException:
        engine.close()
        raise
