"""SQL databases through SQLAlchemy: the summary runs in the database, read-only.

Any SQLAlchemy URL works whose dialect SQLGlot writes (SQLite, PostgreSQL, MySQL,
Snowflake, BigQuery, Redshift, Databricks, Trino ...). SQLite opens with
``mode=ro``; PostgreSQL, Oracle and MySQL/MariaDB run in a read-only transaction;
every statement crmlab sends is one SELECT (:func:`crmlab.checks.require_select_query`)
and is rolled back, never committed.
"""

from __future__ import annotations

import sqlite3
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from crmlab import checks
from crmlab.engines.base import Engine
from crmlab.errors import DataError

READ_ONLY = {
    "postgresql": "SET TRANSACTION READ ONLY",
    "oracle": "SET TRANSACTION READ ONLY",
    "mysql": "SET SESSION TRANSACTION READ ONLY",
    "mariadb": "SET SESSION TRANSACTION READ ONLY",
}


class WarehouseEngine(Engine):
    """Queries run by the database behind a SQLAlchemy engine."""

    def __init__(self, engine: Any, dialect: str, source: str, label: str, how: str) -> None:
        super().__init__(source, label, how)
        self.engine = engine
        self.name = dialect
        self.dialect = dialect

    def _run(self, sql: str, handle: Any) -> Any:
        import sqlalchemy

        text = self.text(sql)
        checks.require_select_query(text, self.dialect)
        with self.engine.connect() as con:
            try:
                if self.dialect in READ_ONLY:
                    con.exec_driver_sql(READ_ONLY[self.dialect])
                return handle(con, sqlalchemy.text(text))
            finally:
                con.rollback()

    def _fetch(self, sql: str) -> pd.DataFrame:
        return self._run(sql, lambda con, text: pd.read_sql_query(text, con))

    def kinds(self) -> dict[str, str]:
        sample = self._fetch("SELECT * FROM crmlab_src LIMIT 1000")
        out = {}
        for name, values in sample.items():
            if pd.api.types.is_datetime64_any_dtype(values):
                out[str(name)] = "timestamp"
            elif pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
                out[str(name)] = "number"
            elif values.dtype == object and values.map(lambda v: hasattr(v, "year")).any():
                out[str(name)] = "timestamp"  # date/datetime objects from a typed column
            else:
                out[str(name)] = "text"
        return out

    def batches(self, sql: str, size: int) -> Iterator[Any]:
        import pyarrow as pa
        import sqlalchemy

        text = self.text(sql)
        checks.require_select_query(text, self.dialect)
        with self.engine.connect() as con:
            try:
                if self.dialect in READ_ONLY:
                    con.exec_driver_sql(READ_ONLY[self.dialect])
                result = con.execution_options(stream_results=True).execute(sqlalchemy.text(text))
                names = list(result.keys())
                for rows in result.partitions(size):
                    columns = list(zip(*rows, strict=True))
                    yield pa.RecordBatch.from_arrays([pa.array(c) for c in columns], names)
            finally:
                con.rollback()

    def close(self) -> None:
        self.engine.dispose()


def from_url(url: str, table: str | None, query: str | None) -> WarehouseEngine:
    """Open ``url`` read-only with ``table=`` (read whole) or one SELECT ``query=``."""
    import sqlalchemy

    from crmlab.data import _missing_file, _select

    if (table is None) == (query is None):
        raise DataError(f"reading {url}: give exactly one of table= or query=.")
    parsed = sqlalchemy.engine.make_url(url)
    dialect = parsed.get_backend_name()
    sql = _select(table, dialect) if table is not None else query
    checks.require_select_query(sql, dialect)
    if dialect == "sqlite":
        database = parsed.database
        if not database or database == ":memory:":
            raise DataError(
                f"{url!r} is an in-memory database: it has no data to read. Give a file, "
                "e.g. sqlite:///orders.db."
            )
        path = Path(database)
        if not path.is_file():
            raise _missing_file(database)
        uri = f"file:{urllib.parse.quote(str(path.resolve()))}?mode=ro"
        engine = sqlalchemy.create_engine(
            "sqlite://", creator=lambda: sqlite3.connect(uri, uri=True, check_same_thread=False)
        )
        how = "SQLite opened read-only (mode=ro); the summary ran in SQLite"
    else:
        engine = sqlalchemy.create_engine(parsed)
        how = (
            f"{dialect} read in a read-only transaction; the summary ran in the database"
            if dialect in READ_ONLY
            else f"{dialect}: no read-only transaction for this dialect; only SELECTs were sent"
        )
    return WarehouseEngine(engine, dialect, sql, url, how)
