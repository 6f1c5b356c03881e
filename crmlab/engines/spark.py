"""Spark: the summary as Spark SQL, scoring with ``mapInPandas``.

The queries are those of :mod:`crmlab.engines.sql`, transpiled to Spark SQL by
SQLGlot. Spark reads Parquet timestamps at microsecond resolution only: pandas
writes nanoseconds, so such columns are read as integers
(``spark.sql.legacy.parquet.nanosAsLong``) and turned into timestamps, to the
microsecond, before anything else. Sessions crmlab starts use UTC, so dates do
not move with the machine's time zone.

Point the kit at a cluster with ``SPARK_MASTER`` (``spark://host:7077``,
``yarn`` ...) or pass your own ``SparkSession`` as ``spark=``.

The JVM of a session crmlab starts writes its console (Spark's log4j lines, JVM
notices) to a log file, not to the terminal or the notebook: a report rendered with
``--engine spark`` would otherwise show them as stderr outputs. Errors still reach
Python as exceptions; the file's path is the session's ``spark.crmlab.jvmLog``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
import uuid
import warnings
from collections.abc import Iterator
from typing import Any

import pandas as pd

from crmlab.engines import sql as q
from crmlab.engines.base import Engine, kind_of
from crmlab.errors import DataError

# PySpark 4.x warns on every pandas conversion that it does not yet fully support pandas
# 3, and calls astype(copy=False), which pandas 3 deprecates. crmlab's Spark results are
# tested equal to the pandas path (tests/engines/test_spark.py), so these two notices
# would only fill reports and logs; any other warning from PySpark still shows.
warnings.filterwarnings(
    "ignore", message="PySpark does not yet fully support pandas", category=FutureWarning
)
warnings.filterwarnings("ignore", message="The copy keyword is deprecated", module="pyspark")


def java_missing() -> str | None:
    """Why Spark cannot start here (no Java), or None."""
    home = os.environ.get("JAVA_HOME")
    if home and os.path.exists(os.path.join(home, "bin", "java")):
        return None
    if shutil.which("java"):
        return None
    return (
        "Spark needs Java 17 or later, and no java was found (neither JAVA_HOME nor java on "
        "PATH). Install a JDK (e.g. apt-get install openjdk-17-jre-headless) or use the "
        "DuckDB engine."
    )


def jvm_log() -> str:
    """The file the JVM of a session crmlab starts writes its console to.

    ``$CRMLAB_SPARK_LOG`` if set, else ``crmlab-spark-<process id>.log`` in the
    temporary folder (one file per Python process: no two processes share one).
    """
    return os.environ.get("CRMLAB_SPARK_LOG") or os.path.join(
        tempfile.gettempdir(), f"crmlab-spark-{os.getpid()}.log"
    )


@contextlib.contextmanager
def _console_to(path: str) -> Iterator[None]:
    """Point file descriptors 1 and 2 at ``path`` while a child process starts.

    PySpark starts the JVM with ``subprocess.Popen``, and the JVM keeps the stdout and
    stderr it inherits for its whole life (its log4j console appender, the Python
    workers it forks). Python's own ``sys.stdout``/``sys.stderr`` objects are flushed
    first and find their descriptors restored afterwards.
    """
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    saved = [os.dup(1), os.dup(2)]
    try:
        with open(path, "ab") as log:
            os.dup2(log.fileno(), 1)
            os.dup2(log.fileno(), 2)
            yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved:
            os.close(fd)


def session(master: str | None = None, **config: str) -> Any:
    """A SparkSession (the active one if there is one) with UTC as its time zone.

    ``master`` defaults to ``$SPARK_MASTER``, else ``local[*]``. A session started
    here writes the JVM's console to :func:`jvm_log` (its ``spark.crmlab.jvmLog``).
    """
    problem = java_missing()
    if problem:
        raise DataError(problem)
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise DataError(
            "the Spark engine needs pyspark: pip install 'crmlab[spark]' (PySpark 4 and Java 17)."
        ) from None
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    builder = (
        SparkSession.builder.master(master or os.environ.get("SPARK_MASTER") or "local[*]")
        .appName("crmlab")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
    )
    if (master or os.environ.get("SPARK_MASTER") or "local").startswith("local"):
        # local workers run this Python (with crmlab and its packages), not the first python3
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        builder = builder.config("spark.pyspark.python", sys.executable)
    log = jvm_log()
    builder = builder.config("spark.crmlab.jvmLog", log)
    for key, value in config.items():
        builder = builder.config(key, value)
    try:
        with _console_to(log):
            return builder.getOrCreate()
    except Exception as exc:  # the JVM did not start: its last words are in the log
        exc.add_note(f"The JVM's console, in {log}, ends with:\n{_tail(log)}")
        raise


def _tail(path: str, lines: int = 20) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as log:
            return "".join(log.readlines()[-lines:])
    except OSError as exc:  # pragma: no cover - the file was opened for writing above
        return f"(unreadable: {exc})"


class SparkEngine(Engine):
    """Spark SQL on a temporary view of the user's DataFrame."""

    name = "spark"
    dialect = "spark"

    def __init__(self, frame: Any, label: str, how: str = "") -> None:
        self.spark = frame.sparkSession
        self.view = f"crmlab_src_{uuid.uuid4().hex[:12]}"
        frame.createOrReplaceTempView(self.view)
        self.frame = frame
        super().__init__(f"SELECT * FROM {self.view}", label, how)
        self._cached: list[Any] = []

    def query(self, sql: str) -> Any:
        """The Spark DataFrame of ``sql`` (DuckDB's SQL)."""
        return self.spark.sql(self.text(sql))

    def _fetch(self, sql: str) -> pd.DataFrame:
        return self.query(sql).toPandas()

    def kinds(self) -> dict[str, str]:
        return {f.name: kind_of(f.dataType.simpleString()) for f in self.frame.schema.fields}

    def first_row(self, cols: q.Columns, condition: str) -> dict[str, Any] | None:
        # Spark's ROW_NUMBER needs an order: number rows by monotonically_increasing_id, which
        # grows with the partition and the position within it (the files' order)
        from pyspark.sql import functions as F

        rows = self.query(q.parsed(cols)).withColumn("crmlab_id", F.monotonically_increasing_id())
        rows = rows.cache()
        try:
            bad = rows.where(F.expr(q.transpile(condition, "spark")))
            first = bad.orderBy("crmlab_id").limit(1).collect()
            if not first:
                return None
            row = first[0].asDict()
            row["crmlab_row"] = rows.where(F.col("crmlab_id") <= row["crmlab_id"]).count()
            return row
        finally:
            rows.unpersist()

    def batches(self, sql: str, size: int) -> Iterator[Any]:
        import pyarrow as pa

        frame = self.query(sql)
        names = frame.columns
        chunk: list[Any] = []
        for row in frame.toLocalIterator():
            chunk.append(row)
            if len(chunk) == size:
                yield pa.RecordBatch.from_pylist([r.asDict() for r in chunk])
                chunk = []
        if chunk:
            yield pa.RecordBatch.from_pylist([r.asDict() for r in chunk])
        elif not names:  # pragma: no cover - a query always has columns
            return

    def materialize(self, sql: str) -> str:
        name = f"crmlab_{uuid.uuid4().hex[:12]}"
        frame = self.query(sql).cache()
        frame.createOrReplaceTempView(name)
        self._temp.append(name)
        self._cached.append(frame)
        return name

    def close(self) -> None:
        for frame in self._cached:
            frame.unpersist()
        for name in [*self._temp, self.view]:
            self.spark.catalog.dropTempView(name)
        self._cached.clear()
        self._temp.clear()


def from_dataframe(frame: Any, label: str = "Spark DataFrame", how: str = "") -> SparkEngine:
    """A user's PySpark DataFrame (bound as a temporary view, dropped at the end)."""
    return SparkEngine(frame, label, how or "Spark DataFrame; the summary ran in Spark")


def from_path(source: str, spark: Any = None, sep: str | None = None) -> SparkEngine:
    """Parquet files (file, folder or glob) or a CSV read by Spark.

    Nanosecond Parquet timestamps (as pandas writes them) are read as integers and
    converted to microsecond timestamps; CSV columns are all read as text.
    """
    from crmlab.engines.duckdb import CSV, parquet_files

    spark = spark or session()
    if source.lower().endswith(CSV):
        from pathlib import Path

        if not Path(source).is_file():
            from crmlab.data import _missing_file

            raise _missing_file(source)
        frame = spark.read.csv(source, header=True, inferSchema=False, sep=sep or ",")
        return from_dataframe(frame, source, "CSV read by Spark (every column as text)")
    import pyarrow.parquet as pq
    from pyspark.sql import functions as F

    files = parquet_files(source)
    schema = pq.read_schema(files[0])
    nanos = [
        f.name
        for f in schema
        if str(f.type).startswith("timestamp[ns")  # pandas' default resolution
    ]
    how = f"{len(files)} Parquet file{'s' * (len(files) != 1)} read by Spark"
    if nanos:
        spark.conf.set("spark.sql.legacy.parquet.nanosAsLong", "true")
        how += f"; nanosecond timestamps ({', '.join(nanos)}) read to the microsecond"
    frame = spark.read.parquet(*files)
    for name in nanos:
        micros = F.timestamp_micros(F.floor(F.col(name) / 1000).cast("long"))
        frame = frame.withColumn(name, micros.cast("timestamp_ntz"))
    return from_dataframe(frame, source, how)


def score(
    source: Any,
    model: Any,
    *,
    out: str | None = None,
    spend: Any = None,
    period: float | None = None,
    horizon: float | str = 52.0,
    margin: float = 1.0,
    discount_rate: float | None = None,
    annual_discount_rate: float | None = None,
    spark: Any = None,
    **summary_options: Any,
) -> Any:
    """:func:`crmlab.engines.score.score` on Spark: the summary in Spark SQL, the scores in
    ``mapInPandas`` on the executors (each Arrow batch scored by the model's public
    methods). Writes a Parquet dataset to ``out`` if given; returns the scored Spark
    DataFrame (kept until the session ends) and the summary's attrs.

    ``source`` is what :func:`crmlab.rfm_summary` reads on Spark (a path, a Spark
    DataFrame, with ``summary_options``), or an open Spark
    :class:`~crmlab.engines.summary.Plan`: its validated summary is scored as it is (no
    second read or validation of the source) and the plan is left open.
    """
    from crmlab.engines.score import check_model, plan_of, score_frame
    from crmlab.engines.summary import Plan, to_summary
    from crmlab.models.base import check_horizon

    check_model(model, spend, discount_rate, annual_discount_rate)
    length = check_horizon(horizon, model)
    options = {
        "spend": spend,
        "period": length if period is None else float(period),
        "horizon": horizon,
        "margin": margin,
        "discount_rate": discount_rate,
        "annual_discount_rate": annual_discount_rate,
    }
    if isinstance(source, Plan):  # summarised already: plan_of refuses a session too
        extra = {"spark": spark} if spark is not None else {}
    elif type(source).__module__.startswith("pyspark"):  # a DataFrame brings its session
        extra = {}
    else:
        extra = {"engine": "spark", "spark": spark}
    plan, opened = plan_of(source, {**summary_options, **extra})
    if opened and not isinstance(plan.engine, SparkEngine):
        raise DataError(
            f"this plan runs in {plan.engine.name}, not Spark: score it with "
            "crmlab.engines.score.score."
        )
    try:
        engine = plan.engine
        attrs, holdout = dict(plan.attrs), plan.holdout
        if attrs["time_unit"] != model.time_unit:
            raise DataError(
                f"the model was fitted in time unit {model.time_unit!r} but the summary is in "
                f"{attrs['time_unit']!r}; pass time_unit={model.time_unit!r}."
            )
        summary = engine.query(plan.summary_sql)
        columns = [c for c in summary.columns if c != "first_day"]
        fields = [f"`{c}` {summary.schema[c].dataType.simpleString()}" for c in columns]
        schema = ", ".join(
            [
                *fields,
                *(
                    f"{s} double"
                    for s in ("p_alive", "expected_purchases", "expected_spend", "clv")
                ),
                "first_purchase timestamp_ntz",
            ]
        )

        def scored(frames: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
            for rows in frames:
                if rows.empty:
                    continue
                frame = to_summary(rows, attrs, holdout)
                scores = score_frame(frame, model, **options)
                table = pd.concat([frame.drop(columns=["first_purchase"]), scores], axis=1)
                table["first_purchase"] = frame["first_purchase"]
                yield table.reset_index()

        result = summary.mapInPandas(scored, schema)
        if out:
            result.write.mode("overwrite").parquet(out)
        return result, attrs
    finally:
        if out and not opened:
            plan.engine.close()
