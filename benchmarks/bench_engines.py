"""The summary of a Parquet dataset larger than pandas likes, computed in the engines.

    .venv/bin/python benchmarks/bench_engines.py                 # 2M rows (a few minutes)
    .venv/bin/python benchmarks/bench_engines.py --rows 10000000 --spark
    .venv/bin/python benchmarks/bench_engines.py --full          # 100M rows (an hour to write)
    .venv/bin/python benchmarks/bench_engines.py --full --memory-limit 1GB --repeat 3 \
        --only 'hand-written,crmlab duckdb'                      # the 1.2x target

The dataset is simulated by ``crmlab.simulate.retailer`` in chunks of 200,000
customers with ongoing acquisition over two years (daily timestamps, about six
transactions per customer), written as one Parquet file per chunk under
``benchmarks/.data/engines-<rows>/`` (not committed; reused when it exists). Each
measurement runs in a fresh process, so its peak memory (``ru_maxrss``, including
Python and the libraries) is its own:

* ``crmlab duckdb``: ``crmlab.rfm_summary('<dir>/*.parquet', ...)`` - validation
  (every check, duplicates counted), the summary and the customers brought back as
  a pandas frame;
* ``hand-written``: one DuckDB query a person would write for the same summary
  (no validation), fetched as a pandas frame;
* ``crmlab spark``: the same as the first on Spark ``local[2]`` (with ``--spark``);
* ``patterns D/W``: distinct (x, t_x, T) in days and in (fractional) weeks - the same
  count, since weeks are days / 7 - and, from the summary, in whole weeks
  (t_x and T rounded down), what a weekly log would give;
* ``pandas`` (with ``--pandas``): ``pd.read_parquet`` of the files, then
  ``crmlab.rfm_summary`` of the frame (validation included), the reference the engines
  must equal;
* ``score`` (with ``--score``): ``crmlab.engines.score`` of every customer to a Parquet
  file (P(alive), expected purchases, spend and CLV, streamed in batches of 2^18
  customers) with a BG/NBD fitted on the patterns in weeks and a Gamma-Gamma fitted on
  the first file's customers (fits timed apart, ``fit_seconds``).

``seconds`` is wall time, ``cpu s`` the process's user + system time (all threads): on a
machine shared with other work, the CPU ratio is the steadier one. With ``--repeat N``
the kinds run N times in turn and each kind's run of median CPU time is shown, with the
ratio of every round. The results of
crmlab, the hand-written query, pandas and Spark are compared customer by customer.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CHUNK_CUSTOMERS = 200_000
START = "2022-01-01"
CALIBRATION_END = "2023-06-30"
OBSERVATION_END = "2023-12-31"

HAND_SQL = """
WITH occ AS (
    SELECT customer_id, CAST(date AS DATE) AS day, SUM(amount) AS amount
    FROM read_parquet('{glob}') GROUP BY 1, 2
), per AS (
    SELECT customer_id, MIN(day) AS first,
           COUNT(*) FILTER (WHERE day <= DATE '{cal}') - 1 AS frequency,
           MAX(day) FILTER (WHERE day <= DATE '{cal}') AS last,
           SUM(amount) FILTER (WHERE day <= DATE '{cal}') AS total,
           arg_min(amount, day) AS first_amount,
           COUNT(*) FILTER (WHERE day > DATE '{cal}' AND day <= DATE '{obs}') AS holdout
    FROM occ GROUP BY 1 HAVING MIN(day) <= DATE '{cal}'
)
SELECT customer_id, frequency,
       date_diff('day', first, last) / 7.0 AS recency,
       date_diff('day', first, DATE '{cal}') / 7.0 AS T,
       CASE WHEN frequency > 0 THEN (total - first_amount) / frequency ELSE 0 END
           AS monetary_value,
       first AS first_purchase, holdout AS frequency_holdout
FROM per ORDER BY customer_id
"""


def make_dataset(rows: int, folder: Path) -> Path:
    """Simulate about ``rows`` transactions in chunks; one Parquet file per chunk."""
    import crmlab

    done = folder / "done.json"
    if done.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    written, chunk = 0, 0
    started = time.perf_counter()
    while written < rows:
        sim = crmlab.simulate.retailer(
            CHUNK_CUSTOMERS,
            seed=chunk,
            r=2.0,
            alpha=10.0,
            acquisition_periods=None,
            horizon=104,
            start=START,
        )
        tx = sim.transactions[["customer_id", "date", "amount"]].head(rows - written)
        tx = tx.assign(customer_id=tx["customer_id"] + chunk * CHUNK_CUSTOMERS)
        tx.to_parquet(folder / f"part-{chunk:05d}.parquet", index=False)
        written += len(tx)
        chunk += 1
        print(f"  wrote {written:,} rows ({time.perf_counter() - started:.0f} s)", flush=True)
    done.write_text(json.dumps({"rows": written, "files": chunk}))
    return folder


def cpu_seconds() -> float:
    """User + system CPU time of this process, all threads included."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def worker(kind: str, glob: str, memory_limit: str | None) -> dict:
    """One measurement (run in its own process); results to compare go next to the data."""
    import crmlab

    window = {"calibration_end": CALIBRATION_END, "observation_end": OBSERVATION_END}
    folder = Path(glob).parent
    started, cpu = time.perf_counter(), cpu_seconds()
    out: dict = {}
    keep = None
    if kind == "crmlab duckdb":
        keep = crmlab.rfm_summary(glob, memory_limit=memory_limit, **window)
    elif kind == "hand-written":
        import duckdb

        con = duckdb.connect(config={"memory_limit": memory_limit} if memory_limit else {})
        sql = HAND_SQL.format(glob=glob, cal=CALIBRATION_END, obs=OBSERVATION_END)
        keep = con.sql(sql).df().set_index("customer_id")
    elif kind == "pandas":
        import pandas as pd

        files = sorted(folder.glob("part-*.parquet"))
        frame = pd.concat(
            [pd.read_parquet(f, columns=["customer_id", "date", "amount"]) for f in files],
            ignore_index=True,
        )
        keep = crmlab.rfm_summary(crmlab.validate_transactions(frame), **window)
    elif kind == "crmlab spark":
        from crmlab.engines import spark as sp

        session = sp.session("local[2]", **{"spark.driver.memory": "2g"})
        ready = time.perf_counter()
        out["session_seconds"] = ready - started
        started, cpu = ready, cpu_seconds()  # the JVM's time is not this process's anyway
        keep = crmlab.rfm_summary(glob, engine="spark", spark=session, **window)
    elif kind.startswith("patterns"):
        unit = kind[-1]
        found = crmlab.rfm_summary(
            glob, patterns=True, time_unit=unit, memory_limit=memory_limit, **window
        )
        out["patterns"] = len(found)
        out["customers"] = int(found["weight"].sum())
    elif kind == "score":
        from crmlab.engines.score import score
        from crmlab.models import BGNBD, GammaGamma

        patterns = crmlab.rfm_summary(glob, patterns=True, memory_limit=memory_limit, **window)
        fit = BGNBD().fit(patterns)
        first = sorted(folder.glob("part-*.parquet"))[0]
        spend = GammaGamma().fit(crmlab.rfm_summary(str(first), **window))
        out["fit_seconds"] = time.perf_counter() - started
        started, cpu = time.perf_counter(), cpu_seconds()
        done = score(
            glob,
            fit,
            out=str(folder / "scores.parquet"),
            spend=spend,
            horizon=52,
            annual_discount_rate=0.1,
            memory_limit=memory_limit,
            **window,
        )
        out["customers"] = done["rows"]
    out["seconds"] = time.perf_counter() - started
    out["cpu_seconds"] = cpu_seconds() - cpu
    out["peak_mb"] = peak_mb()
    if keep is not None:
        out["customers"] = len(keep)
        keep.to_parquet(folder / f"{kind.replace(' ', '-')}.parquet")
    return out


def peak_mb() -> float:
    """Peak resident memory of this process (VmHWM: reset by exec, unlike ru_maxrss)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(kind: str, glob: str, memory_limit: str | None) -> dict:
    command = [sys.executable, __file__, "--worker", kind, "--glob", glob]
    if memory_limit:
        command += ["--memory-limit", memory_limit]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr else "failed"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def compare(folder: Path, kind: str) -> str:
    """Largest difference between the summary of ``kind`` and crmlab's in DuckDB."""
    import numpy as np
    import pandas as pd

    a = pd.read_parquet(folder / "crmlab-duckdb.parquet").sort_index()
    b = pd.read_parquet(folder / f"{kind.replace(' ', '-')}.parquet").sort_index()
    if list(a.index) != list(b.index):
        return f"{kind}: different customers"
    worst = max(
        float(np.max(np.abs(a[c].to_numpy(float) - b[c].to_numpy(float)) / np.maximum(1, b[c])))
        for c in ("frequency", "recency", "T", "monetary_value", "frequency_holdout")
    )
    return f"{kind}: same {len(a):,} customers, largest relative difference {worst:.1e}"


def whole_weeks(folder: Path) -> int:
    """Distinct (x, t_x, T) of crmlab's summary with t_x and T in whole weeks."""
    import numpy as np
    import pandas as pd

    a = pd.read_parquet(folder / "crmlab-duckdb.parquet")
    weeks = a.assign(recency=np.floor(a["recency"]), T=np.floor(a["T"]))
    return len(weeks.drop_duplicates(["frequency", "recency", "T"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--full", action="store_true", help="100M rows")
    parser.add_argument("--spark", action="store_true", help="Spark local[2] beside DuckDB")
    parser.add_argument("--pandas", action="store_true", help="pandas beside the engines")
    parser.add_argument("--score", action="store_true", help="score every customer to Parquet")
    parser.add_argument("--only", help="comma-separated kinds to run (default: all asked for)")
    parser.add_argument("--memory-limit", default=None, help="DuckDB's, e.g. 1GB")
    parser.add_argument(
        "--repeat", type=int, default=1, help="run the kinds this many times, interleaved"
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--glob", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.glob, args.memory_limit)))
        return
    rows = 100_000_000 if args.full else args.rows
    folder = make_dataset(rows, HERE / ".data" / f"engines-{rows}")
    glob = str(folder / "part-*.parquet")
    info = json.loads((folder / "done.json").read_text())
    print(f"\n{info['rows']:,} transactions in {info['files']} Parquet files ({glob})")
    print(f"load before: {os.getloadavg()[0]:.2f} (1 min), memory limit {args.memory_limit}")
    kinds = ["hand-written", "crmlab duckdb", "patterns D", "patterns W"]
    kinds += ["pandas"] * args.pandas + ["crmlab spark"] * args.spark + ["score"] * args.score
    if args.only:
        kinds = [k for k in kinds if k in args.only.split(",")]
    results: dict[str, dict] = {}
    runs: dict[str, list[dict]] = {kind: [] for kind in kinds}
    for _ in range(max(1, args.repeat)):  # interleaved: a busy spell hits every kind alike
        for kind in kinds:
            got = measure(kind, glob, args.memory_limit)
            got["load"] = os.getloadavg()[0]
            runs[kind].append(got)
    for kind, done in runs.items():  # the run of median CPU time stands for the kind
        fine = sorted((g for g in done if "error" not in g), key=lambda g: g["cpu_seconds"])
        results[kind] = fine[(len(fine) - 1) // 2] if fine else done[0]
    print(
        f"\n{'':<16}{'seconds':>10}{'cpu s':>8}{'peak MB':>10}{'customers':>12}{'patterns':>10}"
        f"{'load':>7}"
    )
    for kind, got in results.items():
        if "error" in got:
            print(f"{kind:<16} failed: {got['error']}")
            continue
        print(
            f"{kind:<16}{got['seconds']:>10.1f}{got['cpu_seconds']:>8.1f}{got['peak_mb']:>10.0f}"
            f"{got['customers']:>12,}{got.get('patterns', ''):>10}{got['load']:>7.2f}"
        )
    ok = {k for k, got in results.items() if "error" not in got}
    if {"hand-written", "crmlab duckdb"} <= ok:
        hand, ours = results["hand-written"], results["crmlab duckdb"]
        print(
            f"\ncrmlab / hand-written: time {ours['seconds'] / hand['seconds']:.2f}, "
            f"cpu {ours['cpu_seconds'] / hand['cpu_seconds']:.2f}"
            + (" (runs of median CPU time)" if args.repeat > 1 else "")
        )
        pairs = zip(runs["hand-written"], runs["crmlab duckdb"], strict=True)
        for i, (h, c) in enumerate(pairs, 1):
            if args.repeat > 1 and "error" not in h and "error" not in c:
                print(
                    f"  round {i}: time {c['seconds'] / h['seconds']:.2f}, "
                    f"cpu {c['cpu_seconds'] / h['cpu_seconds']:.2f}"
                )
    if "crmlab duckdb" in ok:
        print(f"{whole_weeks(folder):,} patterns in whole weeks")
        for kind in ("hand-written", "pandas", "crmlab spark"):
            if kind in ok:
                print("check", compare(folder, kind))
    if {"crmlab spark", "crmlab duckdb"} <= ok:
        spark, ours = results["crmlab spark"], results["crmlab duckdb"]
        print(
            f"spark local[2] / duckdb time: {spark['seconds'] / ours['seconds']:.2f} "
            f"(session start {spark['session_seconds']:.0f} s not counted)"
        )
    if "score" in ok:
        got = results["score"]
        print(
            f"scored {got['customers']:,} customers in {got['seconds']:.1f} s "
            f"(fits {got['fit_seconds']:.1f} s before), peak {got['peak_mb']:,.0f} MB"
        )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
