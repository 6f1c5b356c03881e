"""Summaries, validation and scoring where the data live: DuckDB, Spark and SQL databases.

The per-customer summary of :func:`crmlab.rfm_summary` is a few grouped queries, so
it runs inside the engine that holds the transactions and only one row per
customer (or, for fitting, one row per distinct (frequency, recency, T) pattern)
comes back. Scoring streams the summary back in Arrow record batches and writes
the scores as it goes (:func:`score`).

* :mod:`crmlab.engines.sql`: the queries, written once in DuckDB's SQL and
  transpiled with SQLGlot for Spark and SQLAlchemy dialects;
* :mod:`crmlab.engines.duckdb`: Parquet, CSV, DuckDB files and relations;
* :mod:`crmlab.engines.warehouse`: any SQLAlchemy URL (read-only);
* :mod:`crmlab.engines.spark`: PySpark DataFrames and files, scoring with ``mapInPandas``;
* :mod:`crmlab.engines.summary`: validation and the summary on any of them;
* :mod:`crmlab.engines.score`: P(alive), expected purchases, spend and CLV in batches.

The engine layer is SQLGlot plus each engine's own API rather than Ibis: Ibis 12
fails to create tables on the DuckDB crmlab pins (2.0.1), and SQLGlot is already a
dependency (it checks that user queries are a single SELECT).
"""

from crmlab.engines import score as score
from crmlab.engines.summary import open_source as open_source
from crmlab.engines.summary import prepare as prepare
from crmlab.engines.summary import summarize as summarize
