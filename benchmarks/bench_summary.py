"""crmlab.rfm_summary against a hand-written DuckDB query on the same pandas frame.

    .venv/bin/python benchmarks/bench_summary.py                      # 1M and 10M rows
    .venv/bin/python benchmarks/bench_summary.py --rows 10000000      # one size
    .venv/bin/python benchmarks/bench_summary.py --orders time,shuffled,customer

The synthetic log is seeded: about ``rows / 10`` customers (integer ids with gaps),
heterogeneous purchase rates, first purchases spread over the first 18 months of a
two-year window, about 15% of purchases on the same calendar day as the customer's
previous one (a split basket, at another time of day), and timestamps with a time of
day. ``--orders`` says in which order the rows reach the summary: ``time`` (the order
a point-of-sale log is written in), ``shuffled`` (no order at all) or ``customer``
(sorted by customer, then time).

Both engines compute the same table: same-day purchases merged into one occasion,
``frequency``, ``recency``, ``T``, ``monetary_value``, ``first_purchase`` and
``frequency_holdout`` for a calibration end at 18 months and an observation end at
24 months, in weeks. DuckDB runs in this process with 2 threads on the registered
frame (no copy); crmlab runs single-threaded numpy. Each time is the best of
``--repeat`` calls; the two results are compared on every customer before timing is
reported. Peak memory is measured in a fresh process per engine: the growth of the
resident set (VmHWM, reset via /proc/self/clear_refs) during one call on the frame.
Wall-clock times on a small shared machine move by up to 2x from run to run: read
the ratio column.
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

import crmlab

HERE = Path(__file__).resolve().parent
START = np.datetime64("2022-01-01", "D")
SPAN_DAYS = 730  # two years of log
CALIBRATION_DAYS = 547  # calibration ends after about 18 months
CALIBRATION_END = str(START + CALIBRATION_DAYS - 1)
OBSERVATION_END = str(START + SPAN_DAYS - 1)

SUMMARY_SQL = """
WITH days AS (  -- same-day purchases are one occasion
    SELECT customer_id, CAST(date AS DATE) AS day, SUM(amount) AS amount
    FROM tx WHERE CAST(date AS DATE) <= DATE '{obs}' GROUP BY 1, 2
), per AS (
    SELECT customer_id, MIN(day) AS first,
           COUNT(*) FILTER (WHERE day <= DATE '{cal}') - 1 AS frequency,
           MAX(day) FILTER (WHERE day <= DATE '{cal}') AS last,
           SUM(amount) FILTER (WHERE day <= DATE '{cal}') AS total,
           arg_min(amount, day) AS first_amount,
           COUNT(*) FILTER (WHERE day > DATE '{cal}') AS frequency_holdout
    FROM days GROUP BY 1 HAVING MIN(day) <= DATE '{cal}'
)
SELECT customer_id, frequency,
       date_diff('day', first, last) / 7.0 AS recency,
       date_diff('day', first, DATE '{cal}') / 7.0 AS T,
       CASE WHEN frequency > 0 THEN (total - first_amount) / frequency ELSE 0 END
           AS monetary_value,
       first AS first_purchase,
       frequency_holdout
FROM per
"""


def make_transactions(rows: int, seed: int = 0, order: str = "time") -> pd.DataFrame:
    """A seeded synthetic log of exactly ``rows`` transactions (see the module docstring)."""
    rng = np.random.default_rng(seed)
    n_cust = max(rows // 10, 1)
    # heterogeneous purchase rates: every customer buys once, the rest is shared out
    rate = rng.gamma(0.8, 1.0, n_cust)
    per_customer = rng.multinomial(rows - n_cust, rate / rate.sum()) + 1
    customer = np.repeat(np.arange(n_cust), per_customer)
    first_row = np.cumsum(per_customer) - per_customer
    position = np.arange(rows) - first_row[customer]
    start = rng.integers(0, CALIBRATION_DAYS, n_cust)
    left = SPAN_DAYS - start[customer]
    day = start[customer] + (rng.random(rows) * left).astype(np.int64)
    day[position == 0] = start[customer[position == 0]]
    # a split basket: the same calendar day as the customer's previous purchase
    same = np.flatnonzero((position > 0) & (rng.random(rows) < 0.15))
    day[same] = day[same - 1]
    seconds = day * 86_400 + rng.integers(8 * 3600, 22 * 3600, rows)
    stamps = START.astype("datetime64[s]") + seconds.astype("timedelta64[s]")
    ids = 1_000_000 + rng.choice(3 * n_cust, n_cust, replace=False)  # ids with gaps
    frame = pd.DataFrame(
        {
            "customer_id": ids[customer].astype(np.int64),
            "date": stamps.astype("datetime64[ns]"),
            "amount": rng.gamma(2.0, 20.0, rows).round(2),
        }
    )
    if order == "time":
        frame = frame.iloc[np.argsort(seconds, kind="stable")]
    elif order == "shuffled":
        frame = frame.iloc[rng.permutation(rows)]
    elif order == "customer":
        frame = frame.iloc[np.lexsort((seconds, frame["customer_id"].to_numpy()))]
    else:
        raise ValueError(f"order={order!r}: use 'time', 'shuffled' or 'customer'")
    return frame.reset_index(drop=True)


def crmlab_summary(tx: pd.DataFrame) -> pd.DataFrame:
    return crmlab.rfm_summary(
        tx, calibration_end=CALIBRATION_END, observation_end=OBSERVATION_END, time_unit="W"
    )


def duckdb_summary(
    tx: pd.DataFrame, cal: str = CALIBRATION_END, obs: str = OBSERVATION_END
) -> pd.DataFrame:
    """The summary by hand in DuckDB SQL (2 threads, on the registered frame)."""
    con = duckdb.connect()
    con.execute("SET threads TO 2")
    con.execute("SET enable_progress_bar = false")  # it writes to stdout
    con.register("tx", tx)
    out = con.execute(SUMMARY_SQL.format(cal=cal, obs=obs)).df()
    con.close()
    return out


def check_agree(ours: pd.DataFrame, theirs: pd.DataFrame) -> None:
    """Both engines give the same customers and the same numbers (every customer)."""
    theirs = theirs.set_index("customer_id")
    assert len(theirs) == len(ours) and theirs.index.isin(ours.index).all()
    theirs = theirs.loc[ours.index]
    for col in ("frequency", "frequency_holdout"):
        np.testing.assert_array_equal(ours[col].to_numpy(), theirs[col].to_numpy(float), col)
    for col in ("recency", "T", "monetary_value"):
        np.testing.assert_allclose(ours[col], theirs[col].to_numpy(float), rtol=1e-9, atol=1e-9)
    first = pd.to_datetime(theirs["first_purchase"]).to_numpy().astype("datetime64[D]")
    np.testing.assert_array_equal(ours["first_purchase"].to_numpy().astype("datetime64[D]"), first)
    assert (ours["duration_holdout"] == (SPAN_DAYS - CALIBRATION_DAYS) / 7).all()


def best_of(call: Callable[[], object], repeat: int) -> tuple[float, object]:
    best, result = np.inf, None
    for _ in range(repeat):
        result = None  # free the previous result before the next call
        t0 = time.perf_counter()
        result = call()
        best = min(best, time.perf_counter() - t0)
    return best, result


def peak_memory_mb(rows: int, seed: int, order: str, engine: str) -> tuple[float, float]:
    """Memory added at the peak of one call in a fresh process (MB): resident set, traced."""
    code = f"""
import gc, sys
sys.path.insert(0, {str(HERE)!r})
from bench_summary import make_transactions, crmlab_summary, duckdb_summary

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) / 1024

tx = make_transactions({rows}, {seed}, {order!r})
gc.collect()
open("/proc/self/clear_refs", "w").write("5")  # reset the peak (VmHWM) to the current size
base = status("VmRSS")
{engine}_summary(tx)
rss = status("VmHWM") - base
traced = float("nan")
if {engine!r} == "crmlab":  # numpy reports its buffers to tracemalloc; DuckDB does not
    import tracemalloc
    tracemalloc.start()
    crmlab_summary(tx)
    traced = tracemalloc.get_traced_memory()[1] / 2**20
print(rss, traced)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if done.returncode != 0:
        print(done.stderr.strip().splitlines()[-1:], file=sys.stderr)
        return np.nan, np.nan
    rss, traced = done.stdout.strip().splitlines()[-1].split()
    return float(rss), float(traced)


def markdown(rows: list[dict[str, str]]) -> str:
    head = list(rows[0])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(row[h] for h in head) + " |" for row in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--orders", default="time,shuffled", help="time, shuffled, customer")
    parser.add_argument("--repeat", type=int, default=0, help="calls per engine (default 3/2)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-memory", action="store_true", help="skip the memory runs")
    args = parser.parse_args()
    print(
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.machine()}, "
        f"Python {platform.python_version()}, numpy {np.__version__}, pandas "
        f"{pd.__version__}, duckdb {duckdb.__version__}; calibration_end {CALIBRATION_END}, "
        f"observation_end {OBSERVATION_END}\n"
    )
    table, memory = [], []
    for rows in args.rows:
        repeat = args.repeat or (3 if rows <= 2_000_000 else 2)
        for order in args.orders.split(","):
            tx = make_transactions(rows, args.seed, order)
            ours, summary = best_of(lambda tx=tx: crmlab_summary(tx), repeat)
            duck, reference = best_of(lambda tx=tx: duckdb_summary(tx), repeat)
            check_agree(summary, reference)
            table.append(
                {
                    "rows": f"{rows:,}",
                    "order": order,
                    "customers": f"{len(summary):,}",
                    "crmlab s": f"{ours:.3f}",
                    "DuckDB s": f"{duck:.3f}",
                    "crmlab / DuckDB": f"{ours / duck:.2f}",
                }
            )
            print(markdown(table[-1:]).splitlines()[-1], flush=True)
            del tx, summary, reference
    calls = args.repeat or "3 (up to 2M rows) / 2"
    print(f"\nRFM summary with holdout (weeks), best of {calls} calls, results agree:\n")
    print(markdown(table))
    if not args.no_memory:
        rows, order = max(args.rows), args.orders.split(",")[0]
        for engine in ("crmlab", "duckdb"):
            rss, traced = peak_memory_mb(rows, args.seed, order, engine)
            memory.append(
                {
                    "engine": engine,
                    "rows": f"{rows:,}",
                    "peak RSS MB added": f"{rss:,.0f}",
                    "peak tracemalloc MB": "-" if np.isnan(traced) else f"{traced:,.0f}",
                }
            )
        frame_mb = 24 * rows / 2**20
        print(
            f"\nPeak resident memory added by one call ({order} order, frame {frame_mb:,.0f} MB):\n"
        )
        print(markdown(memory))


if __name__ == "__main__":
    main()
