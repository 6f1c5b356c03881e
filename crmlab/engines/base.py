"""What every engine offers the summary: run a query, bring back a few rows, stream many.

An :class:`Engine` binds the user's data to the name ``crmlab_src`` (see
:mod:`crmlab.engines.sql`) and runs the queries in its own dialect. Results that
are one row per customer never pass through Python at once: :meth:`Engine.batches`
streams Arrow record batches.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import pandas as pd

from crmlab.engines import sql as q


class Engine:
    """Base class of the DuckDB, Spark and SQLAlchemy engines.

    Attributes
    ----------
    name : str
        ``"duckdb"``, ``"spark"`` or the SQLAlchemy dialect (``"sqlite"``, ``"postgresql"`` ...).
    dialect : str
        SQLGlot dialect the queries are written in for this engine.
    source : str
        The query that reads the user's data (the engine's own dialect).
    label : str
        How the data report names the source.
    how : str
        How the source was opened (e.g. "DuckDB opened read-only").
    """

    name = ""
    dialect = "duckdb"
    #: :meth:`batches` streams a result without holding it whole (the summary is then
    #: filled batch by batch instead of fetched as one frame)
    streams = False

    def __init__(self, source: str, label: str, how: str = "") -> None:
        self.source = source
        self.label = label
        self.how = how
        self._temp: list[str] = []

    # -- what an engine implements
    def _fetch(self, sql: str) -> pd.DataFrame:
        raise NotImplementedError

    def kinds(self) -> dict[str, str]:
        """Column name -> ``"text"``, ``"number"``, ``"timestamp"`` or ``"other"``."""
        raise NotImplementedError

    def room(self, nbytes: int) -> AbstractContextManager[None]:
        """Make room for ``nbytes`` that Python is about to fill (DuckDB lowers its memory
        limit for the while); by default nothing changes."""
        return nullcontext()

    def integer_column(self, column: str) -> bool:
        """The source's ``column`` holds integers (of a type numpy holds exactly)."""
        return False

    def batches(self, sql: str, size: int) -> Iterator[Any]:
        """Arrow record batches of the result of ``sql`` (a query in DuckDB's SQL)."""
        raise NotImplementedError

    def materialize(self, sql: str) -> str:
        """Keep the result of ``sql`` for several queries; return a name to read it by.

        The default re-runs the query each time (a read-only source cannot hold a
        temporary table).
        """
        return f"({sql}) AS crmlab_kept"

    def close(self) -> None:
        """Drop what the engine created; leave the user's connection or session open."""

    # -- shared
    def text(self, sql: str) -> str:
        """``sql`` in this engine's dialect, reading the source."""
        return q.with_source(q.transpile(sql, self.dialect), self.source)

    def fetch(self, sql: str) -> pd.DataFrame:
        """The (small) result of ``sql`` (DuckDB's SQL) as a pandas frame."""
        return self._fetch(sql)

    def one(self, sql: str) -> dict[str, Any]:
        """The single row of ``sql`` as a dict (NULL sums become 0)."""
        row = self.fetch(sql).iloc[0].to_dict()
        return {k: (None if pd.isna(v) else v) for k, v in row.items()}

    def first_row(self, cols: q.Columns, condition: str) -> dict[str, Any] | None:
        """The first row meeting ``condition`` in the source's order: ``crmlab_row`` (its
        position, 1 = first data row) and the raw ``id_raw``, ``date_raw``, ``amount_raw``."""
        frame = self.fetch(q.first_offending(cols, condition))
        return None if frame.empty else frame.iloc[0].to_dict()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def kind_of(type_name: str) -> str:
    """``"text"``, ``"number"``, ``"timestamp"`` or ``"other"`` from an SQL type name."""
    t = type_name.upper()
    if any(w in t for w in ("CHAR", "STRING", "TEXT", "VARCHAR")):
        return "text"
    if "TIMESTAMP" in t or t.startswith("DATE"):
        return "timestamp"
    if any(
        w in t
        for w in ("INT", "DOUBLE", "FLOAT", "DECIMAL", "NUMERIC", "REAL", "LONG", "SHORT", "BYTE")
    ):
        return "number"
    return "other"
