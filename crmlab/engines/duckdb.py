"""DuckDB: Parquet files, directories and globs, CSV files, DuckDB databases and relations.

DuckDB (embedded, already a dependency of crmlab) runs the summary out of core:
it streams the files, spills to disk beyond its memory limit and hands back Arrow
record batches. DuckDB databases open with ``read_only=True``; a query given by
the user must be one SELECT (:func:`crmlab.checks.require_select_query`).
"""

from __future__ import annotations

import glob
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from crmlab import checks
from crmlab.engines.base import Engine, kind_of
from crmlab.errors import DataError

PARQUET = (".parquet", ".pq")
#: DuckDB's integer types that numpy holds exactly (not HUGEINT)
INTEGERS = (
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
)
#: the least memory DuckDB keeps while Python fills a large result (:meth:`DuckDBEngine.room`)
FLOOR = 256 * 2**20
_UNITS = {"": 1, "B": 1, "BYTES": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12}
_UNITS |= {"KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}
CSV = (".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz", ".txt.gz")


def _literal(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


class DuckDBEngine(Engine):
    """Queries on a DuckDB connection (the user's, or one crmlab opens and closes).

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        The connection.
    source : str
        A query reading the data on that connection.
    owned : bool
        crmlab opened ``con`` (close it at the end; temporary tables are allowed).
    relation : duckdb.DuckDBPyRelation, optional
        A user's relation, bound as ``crmlab_src`` through ``relation.query``.
    """

    name = "duckdb"
    dialect = "duckdb"
    streams = True

    def __init__(
        self,
        con: Any,
        source: str,
        label: str,
        how: str = "",
        *,
        owned: bool = True,
        relation: Any = None,
    ) -> None:
        super().__init__(source, label, how)
        self.con = con
        self.owned = owned
        self.relation = relation
        #: the memory limit crmlab gave DuckDB, in bytes (DuckDB prints it rounded)
        self.memory_limit: int | None = None

    def _relation(self, sql: str) -> Any:
        if self.relation is not None:
            return self.relation.query("crmlab_src", sql)
        return self.con.sql(self.text(sql))

    def text(self, sql: str) -> str:
        if self.relation is not None:
            return sql
        return super().text(sql)

    def _fetch(self, sql: str) -> pd.DataFrame:
        return self._relation(sql).df()

    def kinds(self) -> dict[str, str]:
        rel = self._relation("SELECT * FROM crmlab_src LIMIT 0")
        return {c: kind_of(str(t)) for c, t in zip(rel.columns, rel.types, strict=True)}

    def integer_column(self, column: str) -> bool:
        rel = self._relation("SELECT * FROM crmlab_src LIMIT 0")
        types = {c: str(t).upper() for c, t in zip(rel.columns, rel.types, strict=True)}
        return types.get(column) in INTEGERS

    @contextmanager
    def room(self, nbytes: int) -> Iterator[None]:
        """Lower DuckDB's ``memory_limit`` by ``nbytes`` (to at least :data:`FLOOR`) while
        Python allocates ``nbytes`` of its own (the summary's columns); restore it after.

        DuckDB evicts what no longer fits (its customers table spills to its temporary
        directory), so the process stays near the limit the user set instead of that
        limit plus the result. A user's own connection (a relation) is left as it is.
        """
        if not self.owned or self.con is None or nbytes <= 0:
            yield
            return
        limit = self.memory_limit
        if limit is None:  # DuckDB's default (a share of the machine's memory), as printed
            shown = self.con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
            limit = size_in_bytes(shown)
        lower = max(FLOOR, limit - int(nbytes))
        if lower >= limit:
            yield
            return
        self.con.execute(f"SET memory_limit = '{lower}B'")
        try:
            yield
        finally:
            self.con.execute(f"SET memory_limit = '{limit}B'")

    def batches(self, sql: str, size: int) -> Iterator[Any]:
        reader = self._relation(sql).to_arrow_reader(size)
        yield from reader

    def first_row(self, cols: Any, condition: str) -> dict[str, Any] | None:
        # one thread scans in the source's order, so ROW_NUMBER() OVER () is the position
        threads = self.con.execute("SELECT current_setting('threads')").fetchone()[0]
        self.con.execute("SET threads = 1")
        try:
            return super().first_row(cols, condition)
        finally:
            self.con.execute(f"SET threads = {int(threads)}")

    def materialize(self, sql: str) -> str:
        if self.relation is not None:  # the user's connection: create nothing in it
            return super().materialize(sql)
        name = f"crmlab_{uuid.uuid4().hex[:12]}"
        self.con.execute(f"CREATE TEMP TABLE {name} AS {self.text(sql)}")
        self._temp.append(name)
        return name

    def close(self) -> None:
        for name in self._temp:
            try:
                self.con.execute(f"DROP TABLE IF EXISTS temp.{name}")
            except Exception:  # noqa: BLE001 - the connection may be gone already
                pass
        self._temp.clear()
        if self.owned:
            self.con.close()


def size_in_bytes(text: str) -> int:
    """Bytes of a DuckDB memory setting as DuckDB prints it (``'953.6 MiB'``, ``'1GB'``)."""
    found = re.fullmatch(r"\s*([0-9.]+)\s*([A-Za-z]*)\s*", str(text))
    if not found or found.group(2).upper() not in _UNITS:
        raise ValueError(f"not a memory size: {text!r}")
    return int(float(found.group(1)) * _UNITS[found.group(2).upper()])


def connect(memory_limit: str | None = None, threads: int | None = None) -> Any:
    """A fresh in-memory DuckDB connection (dates in UTC) for reading files."""
    import duckdb

    config: dict[str, Any] = {}
    if memory_limit:
        config["memory_limit"] = memory_limit
    if threads:
        config["threads"] = int(threads)
    con = duckdb.connect(config=config)
    con.execute("SET TimeZone = 'UTC'")
    return con


def parquet_files(source: str) -> list[str]:
    """The Parquet files of a file, a directory (searched recursively) or a glob."""
    path = Path(source)
    if any(ch in source for ch in "*?["):
        files = sorted(glob.glob(source, recursive=True))
        if not files:
            raise DataError(f"no file matches {source!r}; check the pattern and the folder.")
        return files
    if path.is_dir():
        files = sorted(str(p) for p in path.rglob("*") if p.suffix.lower() in PARQUET)
        if not files:
            raise DataError(f"folder {source!r} holds no .parquet files.")
        return files
    if not path.exists():
        from crmlab.data import _missing_file

        raise _missing_file(source)
    return [source]


def is_parquet(source: str) -> bool:
    """A Parquet file, a folder, or a glob (the engines read these with DuckDB or Spark)."""
    lower = source.lower()
    return lower.endswith(PARQUET) or any(ch in source for ch in "*?[") or Path(source).is_dir()


def from_parquet(source: str, con: Any = None, **config: Any) -> DuckDBEngine:
    files = parquet_files(source)
    owned = con is None
    con = connect(**config) if owned else con
    listing = "[" + ", ".join(_literal(f) for f in files) + "]"
    how = f"{len(files)} Parquet file{'s' * (len(files) != 1)} read by DuckDB"
    engine = DuckDBEngine(con, f"SELECT * FROM read_parquet({listing})", source, how, owned=owned)
    return _limited(engine, config)


def from_csv(
    source: str, sep: str | None = None, encoding: str | None = None, **config: Any
) -> DuckDBEngine:
    path = Path(source)
    if not path.is_file():
        from crmlab.data import _missing_file

        raise _missing_file(source)
    options = ["header = true", "all_varchar = true"]  # ids stay text: '007' is not '7'
    if sep:
        options.append(f"delim = {_literal(sep)}")
    if encoding:
        options.append(f"encoding = {_literal(encoding)}")
    con = connect(**config)
    sql = f"SELECT * FROM read_csv({_literal(source)}, {', '.join(options)})"
    engine = DuckDBEngine(con, sql, source, "CSV read by DuckDB (every column as text)")
    return _limited(engine, config)


def from_database(path: str, table: str | None, query: str | None, **config: Any) -> DuckDBEngine:
    """A DuckDB database file opened read-only, with ``table=`` or a SELECT ``query=``."""
    import duckdb

    from crmlab.data import _missing_file, _select

    if (table is None) == (query is None):
        raise DataError(f"reading {path}: give exactly one of table= or query=.")
    file = Path(path)
    if not file.is_file():
        raise _missing_file(path)
    sql = _select(table, "duckdb") if table is not None else query
    checks.require_select_query(sql, "duckdb")
    con = duckdb.connect(str(file), read_only=True, config={k: v for k, v in config.items() if v})
    con.execute("SET TimeZone = 'UTC'")
    return _limited(DuckDBEngine(con, sql, path, "DuckDB opened read-only"), config)


def _limited(engine: DuckDBEngine, config: dict[str, Any]) -> DuckDBEngine:
    """Remember the exact ``memory_limit`` crmlab set (when it reads as a size)."""
    given = config.get("memory_limit")
    if given and engine.owned:
        try:
            engine.memory_limit = size_in_bytes(given)
        except ValueError:
            engine.memory_limit = None
    return engine


def from_relation(relation: Any) -> DuckDBEngine:
    """A user's DuckDB relation (read through ``relation.query``; nothing is created)."""
    return DuckDBEngine(
        None, "", "DuckDB relation", "a DuckDB relation", owned=False, relation=relation
    )


def write_batches(batches: Iterator[Any], out: str, table: str | None = None) -> int:
    """Write Arrow record batches to a Parquet file or a DuckDB table, one batch at a time.

    ``out`` ending in ``.duckdb`` (or a ``duckdb:///`` URL) writes ``table`` in that
    database (created or replaced); anything else is a Parquet file. Returns the rows
    written.
    """
    import pyarrow.parquet as pq

    rows = 0
    target = out.removeprefix("duckdb://").removeprefix("/") if out.startswith("duckdb:") else out
    if target.lower().endswith(".duckdb"):
        import duckdb

        if not table:
            raise DataError(f"writing to {out!r}: give table= (the table to create).")
        from sqlglot import exp

        name = exp.to_identifier(table, quoted=True).sql("duckdb")
        with duckdb.connect(target) as con:
            first = True
            for batch in batches:
                con.register("crmlab_batch", batch)
                if first:
                    con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM crmlab_batch")
                    first = False
                else:
                    con.execute(f"INSERT INTO {name} SELECT * FROM crmlab_batch")
                con.unregister("crmlab_batch")
                rows += batch.num_rows
        return rows
    writer = None
    try:
        for batch in batches:
            if writer is None:
                Path(target).parent.mkdir(parents=True, exist_ok=True)
                writer = pq.ParquetWriter(target, batch.schema)
            writer.write_batch(batch)
            rows += batch.num_rows
    finally:
        if writer is not None:
            writer.close()
    return rows
