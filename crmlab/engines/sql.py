"""The summary, validation and pattern queries, written once in DuckDB's SQL.

Every engine runs the same text: DuckDB as written, Spark SQL and the SQLAlchemy
dialects (SQLite, PostgreSQL, Snowflake, BigQuery ...) after transpiling with
SQLGlot (:func:`transpile`). The source itself is never rewritten: queries read a
common table ``crmlab_src`` that each engine binds to the user's table, files,
relation or query (:func:`with_source`).

Definitions (as :func:`crmlab.summary.rfm_summary`, Fader, Hardie & Lee 2005):
purchases on one calendar day are one occasion (their amounts add up); ``frequency``
counts occasions after the first up to ``calibration_end`` (inclusive);
``recency`` = last such occasion - first (0 without repeats); ``T`` =
``calibration_end`` - first; ``monetary_value`` = mean value of the repeat
occasions; holdout occasions fall in (calibration_end, observation_end]. Days are
counted from 1970-01-01, so every difference is a whole number of days before it
is divided by the days per time unit (:data:`crmlab.units.DAYS_PER_UNIT`).
"""

from __future__ import annotations

from dataclasses import dataclass

#: name under which every query reads the source
SOURCE = "crmlab_src"
#: the largest finite double: comparisons catch inf and NaN (ordered above every number)
MAX_DOUBLE = "1.7976931348623157e308"


def ident(name: str) -> str:
    """A column name quoted for DuckDB's SQL (SQLGlot requotes it for other dialects)."""
    return '"' + str(name).replace('"', '""') + '"'


def day_of(expr: str) -> str:
    """Calendar day of a timestamp as days since 1970-01-01 (BIGINT)."""
    return days_since(f"CAST({expr} AS DATE)")


def days_since(date: str, kind: str = "BIGINT") -> str:
    """A date as days since 1970-01-01 (BIGINT, or ``kind``: INTEGER holds every day a
    timestamp can have, +-106 million days)."""
    return f"CAST(DATE_DIFF('day', DATE '1970-01-01', {date}) AS {kind})"


def date_of(day: int) -> str:
    """ISO date of a day counted from 1970-01-01 (the inverse of :func:`day_of`)."""
    import datetime

    return (datetime.date(1970, 1, 1) + datetime.timedelta(days=int(day))).isoformat()


@dataclass(frozen=True)
class Columns:
    """The source's names for crmlab's columns and how to read them.

    ``id_text``: ids are text (stripped of surrounding spaces, never cast to
    numbers); ``date_text``/``amount_text``: values are parsed (ISO dates, or
    ``date_format`` with DuckDB's ``strptime``; numbers with a decimal point).
    """

    customer_id: str
    date: str
    amount: str
    id_text: bool = False
    date_text: bool = False
    amount_text: bool = False
    date_format: str | None = None
    has_nan: bool = True
    normalizes_dates: bool = False


def parsed(cols: Columns) -> str:
    """Rows with canonical columns: ``customer_id``, raw ``date_raw``/``amount_raw``,
    parsed ``ts`` (TIMESTAMP) and ``amt`` (DOUBLE); ``id_raw`` keeps the id as read."""
    cid = ident(cols.customer_id)
    date, amount = ident(cols.date), ident(cols.amount)
    customer = f"TRIM({cid})" if cols.id_text else cid
    if cols.date_text:
        text = f"NULLIF(TRIM({date}), '')"
        ts = (
            f"TRY_STRPTIME({text}, '{cols.date_format.replace(chr(39), chr(39) * 2)}')"
            if cols.date_format
            else f"TRY_CAST({text} AS TIMESTAMP)"
        )
        if cols.normalizes_dates and not cols.date_format:
            ts = (
                f"CASE WHEN CAST(CAST(JULIANDAY({text}) AS DATE) AS VARCHAR) = "
                f"SUBSTR({text}, 1, 10) THEN {ts} END"
            )
        date_raw = text
    else:
        ts = f"CAST({date} AS TIMESTAMP)"
        date_raw = date
    if cols.amount_text:
        amount_raw = f"NULLIF(TRIM({amount}), '')"
        amt = f"TRY_CAST({amount_raw} AS DOUBLE)"
    else:
        amount_raw = amount
        amt = f"CAST({amount} AS DOUBLE)"
    return (
        f"SELECT {customer} AS customer_id, {cid} AS id_raw, {date_raw} AS date_raw, "
        f"{ts} AS ts, {amount_raw} AS amount_raw, {amt} AS amt FROM {SOURCE}"
    )


def conditions(
    cols: Columns, today: str, after: int | None = None, *, typed: bool = False
) -> dict[str, str]:
    """Condition on :func:`parsed` rows for each problem validation counts, in the order
    :func:`crmlab.data.validate_transactions` reports them (``typed``: see
    :func:`checks_query`; rows after day ``after`` are then those from the midnight
    that ends it, a comparison instead of a day per row, and dates and amounts that
    are not text cannot fail to parse)."""
    nan = "ISNAN(amt)" if cols.has_nan and not cols.amount_text else None
    finite = f"amt <= {MAX_DOUBLE} AND amt >= -{MAX_DOUBLE}"
    out = {
        "missing_id": "customer_id IS NULL" + (" OR customer_id = ''" if cols.id_text else ""),
        "bad_date": "date_raw IS NOT NULL AND ts IS NULL",
        "early_date": "ts < TIMESTAMP '1900-01-01'",
        "future_date": f"ts > TIMESTAMP '{today}'",
        "missing_date": "date_raw IS NULL",
        "bad_amount": "amount_raw IS NOT NULL AND amt IS NULL",
        "missing_amount": "amount_raw IS NULL" + (f" OR {nan}" if nan else ""),
        "nonfinite_amount": f"NOT ({finite})" + (f" AND NOT {nan}" if nan else ""),
        "huge_amount": f"{finite} AND ABS(amt) > 1e12",
    }
    if typed and not cols.date_text:
        out["bad_date"] = "FALSE"
    if typed and not cols.amount_text:
        out["bad_amount"] = "FALSE"
    if after is not None:
        out["after_end"] = (
            f"ts >= TIMESTAMP '{date_of(after + 1)}'" if typed else f"{day_of('ts')} > {after}"
        )
    return out


def checks_query(
    cols: Columns, today: str, after: int | None = None, *, typed: bool = False
) -> str:
    """One pass over the source counting every problem validation looks for (see
    :func:`conditions`; ``after_end``: rows after the last day the summary uses), ids
    stripped, negative amounts, and the first and last calendar day.

    ``typed``: the engine has real timestamps (DuckDB, Spark), so the first and last
    day are the days of ``MIN(ts)`` and ``MAX(ts)`` (the day is monotone in ``ts``) and
    one day per row is not computed; other engines compare text, where the day of each
    row is the safe reading.
    """
    counts = ",\n  ".join(
        ("0" if cond == "FALSE" else f"SUM(CASE WHEN {cond} THEN 1 ELSE 0 END)") + f" AS {name}"
        for name, cond in conditions(cols, today, after, typed=typed).items()
    )
    stripped = (  # ids read as they are (not text) are never stripped
        "SUM(CASE WHEN id_raw IS NOT NULL AND customer_id <> id_raw THEN 1 ELSE 0 END)"
        if cols.id_text
        else "0"
    )
    days = (
        f"{day_of('MIN(ts)')} AS first_day, {day_of('MAX(ts)')} AS last_day"
        if typed
        else f"MIN({day_of('ts')}) AS first_day, MAX({day_of('ts')}) AS last_day"
    )
    return f"""
WITH p AS ({parsed(cols)})
SELECT
  COUNT(*) AS n_rows,
  {counts},
  {stripped} AS ids_stripped,
  SUM(CASE WHEN amt < 0 THEN 1 ELSE 0 END) AS negative,
  {days}
FROM p"""


def first_offending(cols: Columns, condition: str) -> str:
    """The first row (in the source's order) meeting ``condition``, with its position
    (1 = first data row) and raw values."""
    return f"""
WITH p AS (SELECT *, ROW_NUMBER() OVER () AS crmlab_row FROM ({parsed(cols)}) AS q)
SELECT crmlab_row, id_raw, date_raw, amount_raw FROM p WHERE {condition}
ORDER BY crmlab_row LIMIT 1"""


def duplicates_query(cols: Columns) -> str:
    """Rows that repeat an earlier row exactly (after parsing), as one count."""
    return f"""
WITH p AS ({parsed(cols)})
SELECT COUNT(*) - (SELECT COUNT(*) FROM (SELECT DISTINCT customer_id, ts, amt FROM p) AS d)
  AS duplicates
FROM p"""


def duplicates_among(cols: Columns, table: str) -> str:
    """:func:`duplicates_query` restricted to the customers of ``table`` (a
    :func:`customers` table with ``shared_from``) who have several rows on some day,
    and to their rows from the first such day on.

    Exact duplicates share the customer and the day, so the other rows have none: the
    count is the same, and only those rows are grouped by (customer, timestamp, amount).
    """
    return f"""
WITH p AS ({parsed(cols)}),
s AS (SELECT customer_id, shared_from FROM {table} WHERE shared_from IS NOT NULL),
g AS (
  SELECT p.customer_id, p.ts, p.amt, COUNT(*) AS n
  FROM p JOIN s ON p.customer_id = s.customer_id
  WHERE {day_of("p.ts")} >= s.shared_from
  GROUP BY p.customer_id, p.ts, p.amt HAVING COUNT(*) > 1
)
SELECT SUM(n - 1) AS duplicates FROM g"""


def clean(cols: Columns, duplicates: str, returns: str, negatives: bool) -> str:
    """Validated rows (``customer_id``, ``ts``, ``amt``) after the duplicates and returns
    policies of :func:`crmlab.data.validate_transactions`."""
    rows = f"SELECT customer_id, ts, amt FROM ({parsed(cols)}) AS p"
    if duplicates == "drop":
        rows = f"SELECT DISTINCT customer_id, ts, amt FROM ({rows}) AS d"
    if negatives and returns == "drop":
        rows = f"SELECT customer_id, ts, amt FROM ({rows}) AS r WHERE amt >= 0"
    elif negatives and returns == "net":
        rows = (
            f"SELECT customer_id, ts, SUM(amt) AS amt FROM ({rows}) AS r "
            "GROUP BY customer_id, ts HAVING SUM(amt) > 0"
        )
    return rows


def netting_query(cols: Columns, duplicates: str) -> str:
    """For ``returns='net'``: customer-dates (rows merged into them) and those whose net
    amount is not positive."""
    rows = clean(cols, duplicates, "keep", False)
    return f"""
WITH g AS (SELECT customer_id, ts, COUNT(*) AS n, SUM(amt) AS net FROM ({rows}) AS r
           GROUP BY customer_id, ts)
SELECT SUM(n) - COUNT(*) AS merged, SUM(CASE WHEN net <= 0 THEN 1 ELSE 0 END) AS not_positive
FROM g"""


def customers(
    rows: str, cal: int, obs: int, *, typed: bool = False, count_rows: bool = False
) -> str:
    """Per customer: first day, occasions up to ``cal``, last of them, value of the
    repeat ones, and occasions in ``(cal, obs]`` (``obs == cal``: no holdout).

    ``typed``: the engine has dates and ``ARG_MIN`` (DuckDB; ``MIN_BY`` in Spark): the
    occasions are grouped by calendar date (days since 1970 are computed per customer,
    not per row), and the repeat value is the calibration value less the first
    occasion's, ``ARG_MIN(value, day)``, in one aggregation (no join of the occasions
    with each customer's first day). The subtraction costs at most a few units of
    rounding of the customer's calibration total (relative 1e-16 of it). ``count_rows``:
    also ``shared_from``, the first day on which the customer has several rows (NULL
    for none: then the source holds no exact duplicate; see :func:`duplicates_among`).
    One minimum per customer: on 100M rows under a 1 GB memory limit, counting the
    shared rows with their first and last day by ``FILTER`` clauses cost DuckDB 30 CPU
    seconds more than the summary alone, this a few.
    On the typed engines days and occasion counts are INTEGER (occasions are distinct
    days), half the width of BIGINT in a table of one row per customer.
    """
    rows_of_day = ", COUNT(*) AS n" if count_rows else ""
    if typed:
        cal_d, obs_d = f"DATE '{date_of(cal)}'", f"DATE '{date_of(obs)}'"
        first_shared = days_since("MIN(CASE WHEN n > 1 THEN day END)", "INTEGER")
        shared = f",\n  {first_shared} AS shared_from" if count_rows else ""
        return f"""
WITH occ AS (
  SELECT customer_id, CAST(ts AS DATE) AS day, SUM(amt) AS value{rows_of_day}
  FROM ({rows}) AS c GROUP BY customer_id, CAST(ts AS DATE)
)
SELECT customer_id, {days_since("MIN(day)", "INTEGER")} AS first_day,
  CAST(COUNT(*) FILTER (WHERE day <= {cal_d}) AS INTEGER) AS n_cal,
  {days_since(f"MAX(day) FILTER (WHERE day <= {cal_d})", "INTEGER")} AS last_day,
  SUM(value) FILTER (WHERE day <= {cal_d}) - ARG_MIN(value, day) AS repeat_value,
  CAST(COUNT(*) FILTER (WHERE day > {cal_d} AND day <= {obs_d}) AS INTEGER) AS n_hold{shared}
FROM occ GROUP BY customer_id"""
    shared = ",\n  MIN(CASE WHEN o.n > 1 THEN o.day END) AS shared_from" if count_rows else ""
    return f"""
WITH occ AS (
  SELECT customer_id, {day_of("ts")} AS day, SUM(amt) AS value{rows_of_day}
  FROM ({rows}) AS c GROUP BY customer_id, {day_of("ts")}
),
firsts AS (SELECT customer_id, MIN(day) AS first_day FROM occ GROUP BY customer_id)
SELECT o.customer_id AS customer_id, f.first_day AS first_day,
  SUM(CASE WHEN o.day <= {cal} THEN 1 ELSE 0 END) AS n_cal,
  MAX(CASE WHEN o.day <= {cal} THEN o.day END) AS last_day,
  SUM(CASE WHEN o.day > f.first_day AND o.day <= {cal} THEN o.value ELSE 0 END)
    AS repeat_value,
  SUM(CASE WHEN o.day > {cal} AND o.day <= {obs} THEN 1 ELSE 0 END) AS n_hold{shared}
FROM occ AS o JOIN firsts AS f ON o.customer_id = f.customer_id
GROUP BY o.customer_id, f.first_day"""


def kept(cal: int, lo: int | None, hi: int | None) -> str:
    """Condition on :func:`customers` rows: first purchase by ``cal`` and in the cohort."""
    cond = [f"first_day <= {cal}"]
    if lo is not None:
        cond.append(f"first_day >= {lo}")
    if hi is not None:
        cond.append(f"first_day <= {hi}")
    return " AND ".join(cond)


def excluded_query(
    table: str, cal: int, lo: int | None, hi: int | None, *, shared: bool = False
) -> str:
    """Customers left out: first purchase after ``cal``; outside the cohort window
    (``shared``: also how many customers have several rows on some day, those with a
    ``shared_from`` in :func:`customers`)."""
    outside = " OR ".join(
        [f"first_day < {lo}"] * (lo is not None) + [f"first_day > {hi}"] * (hi is not None)
    )
    cohort = f"SUM(CASE WHEN first_day <= {cal} AND ({outside}) THEN 1 ELSE 0 END)"
    return (
        f"SELECT SUM(CASE WHEN first_day > {cal} THEN 1 ELSE 0 END) AS after_calibration, "
        f"{cohort if outside else '0'} AS outside_cohort, COUNT(*) AS n_customers"
        f"{', COUNT(shared_from) AS shared' if shared else ''} FROM {table}"
    )


def summary(
    table: str, cal: int, obs: int | None, unit: float, lo: int | None, hi: int | None
) -> str:
    """One row per kept customer with the columns of :func:`crmlab.rfm_summary`
    (``first_day`` in days since 1970-01-01 instead of ``first_purchase``)."""
    holdout = (
        f", CAST(n_hold AS DOUBLE) AS frequency_holdout, "
        f"CAST({obs - cal} AS DOUBLE) / {unit!r} AS duration_holdout"
        if obs is not None
        else ""
    )
    return f"""
SELECT customer_id,
  CAST(n_cal - 1 AS DOUBLE) AS frequency,
  CAST(last_day - first_day AS DOUBLE) / {unit!r} AS recency,
  CAST({cal} - first_day AS DOUBLE) / {unit!r} AS "T",
  CASE WHEN n_cal > 1 THEN CAST(repeat_value AS DOUBLE) / CAST(n_cal - 1 AS DOUBLE)
       ELSE 0.0 END AS monetary_value,
  first_day{holdout}
FROM {table} WHERE {kept(cal, lo, hi)}"""


def patterns(summary_sql: str) -> str:
    """Distinct (frequency, recency, T) with the customers sharing each (``weight``)."""
    return (
        f'SELECT frequency, recency, "T", COUNT(*) AS weight FROM ({summary_sql}) AS s '
        'GROUP BY frequency, recency, "T" ORDER BY frequency, recency, "T"'
    )


def transpile(sql: str, dialect: str) -> str:
    """``sql`` (DuckDB's dialect) in ``dialect`` (a SQLGlot or SQLAlchemy dialect name)."""
    if dialect == "duckdb":
        return sql
    import sqlglot

    from crmlab import checks

    target = checks._DIALECTS.get(dialect, dialect)
    return sqlglot.transpile(sql, read="duckdb", write=target)[0]


def with_source(sql: str, source: str) -> str:
    """Prefix ``sql`` (any dialect, one statement) with ``crmlab_src`` bound to ``source``."""
    body = sql.strip()
    if body[:5].upper() == "WITH ":
        return f"WITH {SOURCE} AS ({source}), {body[5:]}"
    return f"WITH {SOURCE} AS ({source}) {body}"
