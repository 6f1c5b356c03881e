"""Where notebook 04's data are read and scored: pandas for small files, an engine for big ones.

A bundled dataset or a client's CSV, Excel, single Parquet or SQLite file is read into
pandas (:func:`crmlab.load_source`). A Parquet folder or glob, a DuckDB database or a
warehouse URL stays where it is (:mod:`crmlab.engines`): the engine validates the rows
and computes the per-customer summary with its holdout, the distinct (frequency,
recency, T) patterns the models are fitted from, the cohort's repeat purchases per
day (for the tracking plot) and each customer's first-purchase amount; the scores of
every customer are written to Parquet by :func:`crmlab.engines.score.score` (or by
Spark's ``mapInPandas``), never as one CSV. Only these per-customer and aggregate
tables reach pandas; the transactions do not.

:func:`load_clv_data` decides (:func:`choose_engine`), :func:`export_customers` writes
the customer table or the scores, :func:`provenance` says which engine computed what.
"""

from __future__ import annotations

import html
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from crmlab.errors import DataError

#: values of the notebook parameter ``engine``
ENGINES = ("auto", "pandas", "duckdb", "spark")
#: reader options the engines apply (the rest are pandas' locale options)
ENGINE_OPTIONS = (
    "table",
    "query",
    "sep",
    "encoding",
    "date_format",
    "returns",
    "duplicates",
    "allow_large_amounts",
)
#: the file the scores of every customer are written to, in the report's folder
SCORES_FILE = "customers_scores.parquet"
_NAMES = {"duckdb": "DuckDB", "spark": "Spark", "pandas": "pandas"}


def is_engine_source(data_path: str) -> bool:
    """Whether ``data_path`` names data an engine should read where they are.

    True for a Parquet folder or glob (``orders/*.parquet``), a DuckDB database
    (``duckdb:///shop.duckdb``, ``shop.duckdb``) and a server SQL URL
    (``postgresql://...``); False for one file (CSV, Excel, Parquet) and SQLite.
    """
    text = str(data_path)
    lower = text.lower()
    if lower.startswith("duckdb:") or lower.endswith(".duckdb"):
        return True
    if "://" in text:
        return not lower.startswith("sqlite:")
    return any(ch in text for ch in "*?[") or Path(text).is_dir()


def choose_engine(data_path: str, engine: str = "auto") -> str:
    """``"pandas"``, ``"duckdb"`` or ``"spark"``: who reads ``data_path``.

    ``engine="auto"`` picks DuckDB for the sources of :func:`is_engine_source` and
    pandas otherwise; ``"pandas"``, ``"duckdb"`` and ``"spark"`` force it. A bundled
    dataset (empty ``data_path``) is always read with pandas.
    """
    if engine not in ENGINES:
        raise DataError(f"engine={engine!r} is not known; use one of {', '.join(ENGINES)}.")
    if not data_path:
        if engine in ("duckdb", "spark"):
            raise DataError(
                f"engine={engine!r} reads a client's data_path; the bundled datasets are read "
                "with pandas. Set data_path, or engine='auto'."
            )
        return "pandas"
    several = "://" not in data_path and (
        any(ch in data_path for ch in "*?[") or Path(data_path).is_dir()
    )
    if engine == "pandas" and several:
        raise DataError(
            f"engine='pandas' reads one file, and {data_path!r} names a folder or several "
            "files: use engine='auto' or 'duckdb', which read them where they are."
        )
    if engine != "auto":
        return engine
    return "duckdb" if is_engine_source(data_path) else "pandas"


def engine_options(column_map: str | dict[str, str], data_options: dict[str, Any]) -> dict:
    """The column map and reader options as :func:`crmlab.engines.prepare` takes them.

    Refuses, naming them, the options only pandas applies (``sheet``, ``decimal``,
    ``thousands``, ``dayfirst``): engines read numbers with a decimal point and ISO
    dates or ``date_format``. Extra mapped columns (``cost=...``) are not needed here.
    """
    from crmlab.data import CANONICAL, check_reader_options, parse_column_map

    check_reader_options(data_options)
    given = {k: v for k, v in data_options.items() if v is not None}
    pandas_only = [k for k in given if k not in ENGINE_OPTIONS]
    if pandas_only:
        raise DataError(
            f"reader option(s) {', '.join(pandas_only)} are applied when pandas reads a file; "
            "the engines read numbers with a decimal point and ISO dates (or date_format). "
            "Convert the columns in the source, or read it with engine='pandas'."
        )
    mapping = parse_column_map(column_map) if column_map else {}
    columns = {k: mapping.get(k, k) for k in CANONICAL}
    return {**columns, **given}


@dataclass
class CLVData:
    """What notebook 04 reads: the transactions (pandas) or an engine's tables.

    Attributes
    ----------
    engine : str
        ``"pandas"``, ``"duckdb"``, ``"spark"`` or a SQLAlchemy dialect.
    summary : DataFrame
        :func:`crmlab.rfm_summary` with the holdout, weeks.
    first_amount : Series
        Each customer's first-day amount (as :func:`.lifetime_value.first_purchase_amount`).
    calibration_end, observation_end : Timestamp
    transactions : DataFrame or None
        The validated transactions (pandas only).
    patterns, repeat_days : DataFrame or None
        Engine only: the distinct patterns with ``weight``; repeat purchases per ``day``.
    source : str
        The source in words (``3 Parquet files``).
    plan : Plan or None
        The engine's open, validated summary (scored by :func:`export_customers`).
    span : (Timestamp, Timestamp) or None
        Engine only: the first and last day of the validated rows.
    """

    engine: str
    summary: pd.DataFrame
    first_amount: pd.Series
    calibration_end: pd.Timestamp
    observation_end: pd.Timestamp
    transactions: pd.DataFrame | None = None
    patterns: pd.DataFrame | None = None
    repeat_days: pd.DataFrame | None = None
    source: str = ""
    plan: Any = None
    options: dict[str, Any] = field(default_factory=dict)
    span: tuple[pd.Timestamp, pd.Timestamp] | None = None

    @property
    def in_engine(self) -> bool:
        """Whether the transactions stayed in an engine."""
        return self.engine != "pandas"

    def study_inputs(self) -> dict[str, Any]:
        """The data arguments of :func:`~crmlab.studies.lifetime_value.lifetime_value_study`."""
        if not self.in_engine:
            return {"transactions": self.transactions, "summary": self.summary}
        return {
            "transactions": None,
            "summary": self.summary,
            "patterns": self.patterns,
            "repeat_days": self.repeat_days,
            "first_amount": self.first_amount,
        }

    def close(self) -> None:
        """Release the engine's connection and temporary tables."""
        if self.plan is not None:
            self.plan.engine.close()
            self.plan = None


def _describe(data_path: str, options: dict[str, Any], engine: str) -> str:
    """The source in words: ``3 Parquet files``, ``DuckDB database shop.duckdb (table orders)``."""
    from crmlab.engines.duckdb import is_parquet, parquet_files

    text = str(data_path)
    what = f"table {options['table']}" if options.get("table") else "a query"
    if text.lower().startswith("duckdb:") or text.lower().endswith(".duckdb"):
        return f"the DuckDB database {Path(text.split('///')[-1]).name} ({what})"
    if "://" in text:
        return f"the {text.split('://')[0].split('+')[0]} database ({what})"
    if text.lower().endswith((".csv", ".txt", ".tsv")):
        return f"the CSV file {Path(text).name}"
    if engine == "spark" or is_parquet(text):
        n = len(parquet_files(text))
        return f"{n:,} Parquet file{'s' * (n != 1)}"
    return text


def _days(first: int, last: int) -> pd.DataFrame:
    return pd.DataFrame({"date": pd.to_datetime([first, last], unit="D")})


def _repeat_days_sql(plan: Any, observation_day: int) -> str:
    """Repeat occasions (customer-days after the first) of the summary's customers per day."""
    from crmlab.engines import sql as q

    return f"""
WITH occ AS (SELECT DISTINCT customer_id, {q.day_of("ts")} AS day FROM ({plan.rows}) AS r),
s AS ({plan.summary_sql})
SELECT o.day AS day, COUNT(*) AS purchases
FROM occ AS o JOIN s ON o.customer_id = s.customer_id
WHERE o.day > s.first_day AND o.day <= {observation_day}
GROUP BY o.day ORDER BY o.day"""


def _first_amount_sql(plan: Any) -> str:
    """Each summary customer's amount on their first day (several purchases add up)."""
    from crmlab.engines import sql as q

    return f"""
WITH s AS ({plan.summary_sql})
SELECT r.customer_id AS customer_id, SUM(r.amt) AS first_amount
FROM ({plan.rows}) AS r JOIN s ON r.customer_id = s.customer_id
WHERE {q.day_of("r.ts")} = s.first_day
GROUP BY r.customer_id"""


def load_clv_data(
    dataset: str = "",
    data_path: str = "",
    column_map: str | dict[str, str] = "",
    data_options: dict[str, Any] | None = None,
    *,
    calibration_end: str = "",
    observation_end: str = "",
    engine: str = "auto",
    spark_master: str = "",
    time_unit: str = "W",
) -> CLVData:
    """Read notebook 04's data: in pandas, or in an engine (see :func:`choose_engine`).

    Calibration and holdout ends follow
    :func:`crmlab.models.comparison.holdout_dates` on both paths (empty: halfway and
    the last date); the summary is :func:`crmlab.rfm_summary` with that holdout, in
    ``time_unit``. On an engine, the data are validated once per window (twice when a
    date is left empty: the first pass finds the data's first and last day), and the
    open plan is kept for scoring. ``spark_master`` (else ``$SPARK_MASTER``, else
    ``local[*]``) is used when ``engine="spark"`` starts a session.
    """
    import crmlab
    from crmlab.engines import summary as engines
    from crmlab.models import comparison
    from crmlab.studies import lifetime_value as lv

    data_options = dict(data_options or {})
    kind = choose_engine(data_path, engine)
    if kind == "pandas":
        tx = crmlab.load_source(dataset, data_path, column_map, **data_options)
        cal, obs = comparison.holdout_dates(tx, calibration_end, observation_end)
        summary = crmlab.rfm_summary(
            tx, calibration_end=cal, observation_end=obs, time_unit=time_unit
        )
        source = f"dataset {dataset}" if not data_path else _describe(data_path, {}, kind)
        return CLVData(
            engine="pandas",
            summary=summary,
            first_amount=lv.first_purchase_amount(tx, summary),
            calibration_end=cal,
            observation_end=obs,
            transactions=tx,
            source=source,
        )
    options = engine_options(column_map, data_options)
    if kind == "spark":
        from crmlab.engines import spark as sp

        options["engine"] = "spark"
        options["spark"] = sp.session(spark_master or os.environ.get("SPARK_MASTER") or None)
    source = _describe(data_path, options, kind)
    if calibration_end and observation_end:
        first = last = None
    else:
        with engines.prepare(data_path, **options) as bounds:
            first, last = bounds.first_day, bounds.last_day
    if first is None:  # both given: the engine checks them against the data
        try:
            cal, obs = pd.Timestamp(calibration_end).floor("D"), pd.Timestamp(observation_end)
        except ValueError as exc:
            raise DataError(
                f"calibration_end/observation_end must be dates like '1997-09-30': {exc}"
            ) from None
        if not cal < obs:
            raise DataError(
                f"calibration_end {cal:%Y-%m-%d} must lie before observation_end ({obs:%Y-%m-%d})."
            )
    else:
        cal, obs = comparison.holdout_dates(_days(first, last), calibration_end, observation_end)
    plan = engines.prepare(
        data_path, calibration_end=cal, observation_end=obs, time_unit=time_unit, **options
    )
    try:
        summary = plan.summary()
        patterns = plan.patterns()
        obs_day = (obs.normalize() - pd.Timestamp("1970-01-01")).days
        days = plan.engine.fetch(_repeat_days_sql(plan, obs_day))
        repeat_days = pd.DataFrame(
            {
                "day": pd.to_datetime(days["day"].astype("int64"), unit="D"),
                "purchases": days["purchases"].astype("int64"),
            }
        )
        first_rows = plan.engine.fetch(_first_amount_sql(plan))
        first_amount = (
            first_rows.set_index("customer_id")["first_amount"]
            .astype(float)
            .reindex(summary.index)
            .rename("first_amount")
        )
    except BaseException:
        plan.engine.close()
        raise
    if first_amount.isna().any():  # pragma: no cover - the queries read the same rows
        plan.engine.close()
        raise DataError("the engine returned no first-purchase amount for some customers.")
    return CLVData(
        engine=plan.engine.name,
        summary=summary,
        first_amount=first_amount,
        calibration_end=cal,
        observation_end=obs,
        patterns=patterns,
        repeat_days=repeat_days,
        source=source,
        plan=plan,
        options={"data_path": data_path, **options},
        span=(pd.Timestamp(plan.first_day, unit="D"), pd.Timestamp(plan.last_day, unit="D")),
    )


def _literal(value: Any) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return str(int(value))


def transactions_of(data: CLVData, customers: list[Any]) -> pd.DataFrame:
    """The validated transactions (``customer_id``, ``date``, ``amount``) of a few customers.

    From the frame on the pandas path; from one query on an engine (at most 100
    customers, for pictures such as :func:`crmlab.plots.models.customer_paths`).
    """
    if not data.in_engine:
        tx = data.transactions
        return tx[tx["customer_id"].isin(customers)][["customer_id", "date", "amount"]]
    if len(customers) > 100:
        raise DataError(f"transactions_of fetches at most 100 customers, got {len(customers)}.")
    if data.plan is None:
        raise DataError("the engine's data were closed; load them again with load_clv_data.")
    if not customers:
        return pd.DataFrame({"customer_id": [], "date": pd.to_datetime([]), "amount": []})
    ids = ", ".join(_literal(c) for c in customers)
    rows = data.plan.engine.fetch(
        f"SELECT customer_id, ts AS date, amt AS amount FROM ({data.plan.rows}) AS r "
        f"WHERE customer_id IN ({ids}) ORDER BY customer_id, ts"
    )
    rows["date"] = pd.to_datetime(rows["date"])
    return rows


@dataclass(frozen=True)
class Scores:
    """Where :func:`export_customers` wrote the customers' scores."""

    path: Path
    rows: int
    total_clv: float
    engine: str


def export_customers(data: CLVData, study: Any, *, batch_size: int = 1 << 18) -> Scores:
    """Write every customer's P(alive), expected purchases, spend and CLV for the client.

    pandas: ``customers_clv`` (CSV and Excel, :func:`crmlab.reports.export`).
    Engines: :data:`SCORES_FILE` (Parquet) in the same folder, written batch by batch
    from the open plan (validated once, by :func:`load_clv_data`) by
    :func:`crmlab.engines.score.score` (DuckDB, SQL databases) or by
    :func:`crmlab.engines.spark.score` on Spark's executors; the CLV is the study's
    (the model it uses, its Gamma-Gamma spend, margin, discount rate and horizon), and
    ``expected_purchases`` covers the study's ``forecast_horizon``.
    """
    from crmlab import reports
    from crmlab.studies.lifetime_value import discounting

    folder = reports.export_dir()
    if not data.in_engine:
        reports.export(study.customers, "customers_clv")
        return Scores(
            folder / "customers_clv.csv",
            len(study.customers),
            float(study.customers["clv"].sum()),
            "pandas",
        )
    settings = study.settings
    _, rate, horizon = discounting(
        study.summary, settings["annual_discount_rate"], settings["horizon_years"]
    )
    options = {
        "spend": study.spend_fit,
        "period": float(settings["forecast_horizon"]),
        "horizon": horizon,
        "margin": settings["margin"],
        "discount_rate": rate,
    }
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / SCORES_FILE
    if data.plan is None:
        raise DataError("the engine's data were closed; load them again with load_clv_data.")
    if data.engine == "spark":  # mapInPandas on the executors, from the open plan
        from crmlab.engines import spark as sp

        sp.score(data.plan, study.model, out=str(out), **options)
        files = f"{out.as_posix()}/*.parquet"
    else:
        from crmlab.engines import score as sc

        sc.score(data.plan, study.model, out=str(out), batch_size=batch_size, **options)
        files = out.as_posix()
    import duckdb

    with duckdb.connect() as con:
        rows, total = con.execute(
            "SELECT COUNT(*), SUM(clv) FROM read_parquet(?)", [files]
        ).fetchone()
    return Scores(out, int(rows), float(total), data.engine)


def provenance(data: CLVData, study: Any, scores: Scores | None = None) -> str:
    """One Markdown line: which engine computed what.

    e.g. "Summary, tracking counts and first purchases computed in DuckDB from 3 Parquet
    files; models fitted in crmlab on 8,685 patterns (23,570 customers); scores of 23,570
    customers written by DuckDB to customers_scores.parquet."
    """
    customers = len(study.summary)
    if not data.in_engine:
        rows = len(data.transactions) if data.transactions is not None else 0
        text = (
            f"Transactions read into pandas ({rows:,} rows from {data.source}); summary, "
            f"models and scores computed in crmlab on {customers:,} customers"
        )
        if scores is not None:
            text += f"; every customer's scores exported to {scores.path.name}"
        return html.escape(text, quote=False) + "."
    name = _NAMES.get(data.engine, data.engine)
    master = _spark_master(data)
    where = f"{name} ({master})" if master else name
    patterns = len(data.patterns) if data.patterns is not None else customers
    text = (
        f"Summary, tracking counts and first purchases computed in {where} from {data.source}; "
        f"models fitted in crmlab on {patterns:,} patterns ({customers:,} customers)"
    )
    if scores is not None:
        text += (
            f"; scores of {scores.rows:,} customers written by {_NAMES.get(scores.engine, name)} "
            f"to {scores.path.name}"
        )
    return html.escape(text, quote=False) + "."


def _spark_master(data: CLVData) -> str | None:
    """The master of the Spark session that computed ``data`` (``local[2]``,
    ``spark://host:7077``, ``yarn``), or None (another engine, or Spark Connect)."""
    session = getattr(getattr(data.plan, "engine", None), "spark", None)
    if data.engine != "spark" or session is None:
        return None
    try:
        return str(session.sparkContext.master)
    except Exception:  # noqa: BLE001 - Spark Connect sessions have no SparkContext
        return None


def data_report_html(data: CLVData) -> str:
    """The data report block (:func:`crmlab.reports.data_report_html`) on both paths.

    On an engine the words count what the engine counted: rows kept, all customers
    (the cohort and those left out of it), first and last day.
    """
    from crmlab import reports
    from crmlab.data import data_report
    from crmlab.report.names import DATA_WORDS_CLASS

    if not data.in_engine:
        return reports.data_report_html(data.transactions)
    stub = pd.DataFrame()
    stub.attrs["data_report"] = data.summary.attrs["data_report"]
    block = reports.data_report_html(stub)
    report = data_report(stub)
    old = f'<p class="{DATA_WORDS_CLASS}">{html.escape(reports.data_in_words(stub, report))}</p>'
    attrs = data.summary.attrs
    customers = int(attrs["customers"]) + sum(int(n) for n in attrs["excluded"].values())
    first, last = data.span
    excluded = {k: int(v) for k, v in (report.excluded or {}).items() if int(v)}
    words = (
        f"{report.rows_out:,} transactions by {customers:,} customers, "
        f"{first.day} {first:%B %Y} to {last.day} {last:%B %Y}."
    )
    if excluded:
        reasons = "; ".join(f"{why} ({n:,})" for why, n in excluded.items())
        words += (
            f" Of {report.rows_in:,} rows read, {sum(excluded.values()):,} were left out: "
            f"{reasons}."
        )
    else:
        words += f" All {report.rows_in:,} rows read were used."
    new = f'<p class="{DATA_WORDS_CLASS}">{html.escape(words)}</p>'
    if old not in block:  # pragma: no cover - guards the layout of reports.data_report_html
        raise DataError("the data report's layout changed: update lifetime_value_engine.")
    return block.replace(old, new)


def show_data_report(data: CLVData) -> None:
    """Show :func:`data_report_html` (a report moves it to its reproducibility block)."""
    from IPython.display import HTML, display

    display(HTML(data_report_html(data)))
