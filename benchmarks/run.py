"""crmlab against its peers, measured side by side in one run on the same data.

    .venv/bin/python benchmarks/run.py                   # crmlab and DuckDB, peers if installed
    .venv/bin/python benchmarks/run.py --install-peers   # first install lifetimes, pymc-marketing
    .venv/bin/python benchmarks/run.py --install-peers lifetimes   # only one of them
    .venv/bin/python benchmarks/run.py --quick           # smaller data (a minute or two)

Peers live in their own virtual environments under ``benchmarks/.peers/`` (lifetimes
needs numpy < 2 and pandas < 2) and run in a subprocess per task
(``benchmarks/peer_worker.py``) on data written to Parquet; each task's clock covers the
library call only, not imports or reading. Sections:

* **simulate** - ``crmlab.simulate.retailer`` for 1M and 10M transactions, against the
  floor of drawing the same random numbers and building the frame;
* **summary** - ``crmlab.rfm_summary`` against a hand-written DuckDB query (what is
  physically possible here), ``lifetimes.utils.summary_data_from_transaction_data`` and
  ``pymc_marketing.clv.utils.rfm_summary``, on CDNOW master and 1M/10M simulated
  transactions; plus the peak memory of crmlab and DuckDB on the largest;
* **fit** - BG/NBD, Pareto/NBD and Gamma-Gamma on the CDNOW sample and 100k/1M
  simulated customers: crmlab against lifetimes and pymc-marketing's MAP fit (default
  priors), every log-likelihood evaluated by crmlab at each library's estimates;
* **predict** - P(alive) and expected purchases in the next 52 weeks for 1M customers.

Ratios above 1 in a "peer / crmlab" column mean crmlab is faster.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from bench_summary import best_of, duckdb_summary

import crmlab
from crmlab import simulate
from crmlab.models import BGNBD, GammaGamma, ParetoNBD
from crmlab.models.gammagamma import log_likelihood_grad

HERE = Path(__file__).resolve().parent
PEER_DIR = HERE / ".peers"
# lifetimes 0.11.3 (its last release) calls numpy, pandas and scipy APIs removed in
# numpy 2, pandas 2 and scipy 1.12; this set installs and imports on Python 3.11 (checked
# 2026-11-30: numpy 1.26.4, pandas 1.5.3, scipy 1.11.4, autograd 1.9.1, pyarrow 19.0.1).
# pymc-marketing >= 1.0 needs Python >= 3.12: on 3.11 pip picks 0.19.2 (pymc 5.28).
PEERS = {
    "lifetimes": ["lifetimes==0.11.3", "numpy<2", "pandas<2", "scipy<1.12", "pyarrow<20"],
    "pymc": ["pymc-marketing", "pyarrow"],
}
PEER_MODULES = {"lifetimes": "lifetimes", "pymc": "pymc_marketing"}
MODELS = {"bg_nbd": BGNBD, "pareto_nbd": ParetoNBD}


# ----------------------------------------------------------------------------- peers


def peer_python(name: str) -> Path:
    return PEER_DIR / name / "bin" / "python"


def install_peers(names: list[str] | None = None) -> None:
    """Create ``benchmarks/.peers/<name>`` and install the peer's pinned set into it, then
    import it once so a broken set fails here rather than in the middle of a run."""
    unknown = sorted(set(names or []) - set(PEERS))
    if unknown:
        raise SystemExit(f"unknown peers {unknown}: choose from {', '.join(PEERS)}")
    for name in names or list(PEERS):
        requirements = PEERS[name]
        python = peer_python(name)
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(PEER_DIR / name)], check=True)
        print(f"installing {name} peers: {' '.join(requirements)}", flush=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *requirements], check=True)
        print(f"  {name}: {peer_version(name)}", flush=True)


def peer_version(name: str) -> str:
    """``module version`` as the peer's environment imports it (raises if it cannot)."""
    module = PEER_MODULES[name]
    code = f"import {module}; print({module}.__version__)"
    done = subprocess.run([str(peer_python(name)), "-c", code], capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["failed"])[-1]
        raise RuntimeError(f"{name} is installed but does not import: {last}")
    return f"{module} {done.stdout.strip()}"


def available_peers() -> list[str]:
    return [name for name in PEERS if peer_python(name).exists()]


def run_peer(name: str, task: dict, timeout: float) -> dict | str:
    """The worker's JSON answer, or a short reason it has none."""
    try:
        done = subprocess.run(
            [str(peer_python(name)), str(HERE / "peer_worker.py"), json.dumps(task)],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return f"> {timeout:.0f} s"
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["failed"])[-1]
        return f"failed: {last[:60]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------- helpers


def repeats_for(rows: int) -> int:
    return 3 if rows <= 2_000_000 else 2


def seconds(value: float | dict | str | None) -> str:
    if isinstance(value, dict):
        value = value["seconds"]
    if value is None:
        return "not installed"
    return value if isinstance(value, str) else f"{value:.3g}"


def ratio(peer: float | dict | str | None, ours: float) -> str:
    if isinstance(peer, dict):
        peer = peer["seconds"]
    return f"{peer / ours:.1f}x" if isinstance(peer, float) else "-"


def peer_cells(results: dict, ours: float, pymc_label: str = "pymc-marketing s") -> dict:
    """Seconds of each peer and its ratio to crmlab's time."""
    return {
        "lifetimes s": seconds(results.get("lifetimes")),
        pymc_label: seconds(results.get("pymc")),
        "lifetimes / crmlab": ratio(results.get("lifetimes"), ours),
        "pymc / crmlab": ratio(results.get("pymc"), ours),
    }


def table(title: str, rows: list[dict]) -> None:
    print(f"\n### {title}\n")
    frame = pd.DataFrame(rows)
    print("| " + " | ".join(frame.columns) + " |")
    print("|" + "---|" * len(frame.columns))
    for row in frame.itertuples(index=False):
        print("| " + " | ".join(str(v) for v in row) + " |")
    sys.stdout.flush()


def simulated_transactions(rows: int, seed: int = 1) -> pd.DataFrame:
    """About ``rows`` CDNOW-like transactions (2.8 per customer on average)."""
    return simulate.retailer(max(rows * 10 // 28, 1), seed=seed).transactions


def write_parquet(frame: pd.DataFrame, path: Path) -> Path:
    frame = frame.copy(deep=False)
    frame.attrs = {}
    frame.to_parquet(path)
    return path


def peak_memory_mb(path: Path, end: str, engine: str) -> float:
    """Peak resident memory added by one summary of a Parquet file, in a fresh process."""
    code = f"""
import sys, pandas as pd, crmlab
sys.path.insert(0, {str(HERE)!r})
from bench_summary import duckdb_summary

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) / 1024

tx = pd.read_parquet({str(path)!r})
open("/proc/self/clear_refs", "w").write("5")  # reset the peak (VmHWM) to the current size
base = status("VmRSS")
if {engine!r} == "crmlab":
    crmlab.rfm_summary(tx, calibration_end={end!r}, time_unit="W")
else:
    duckdb_summary(tx, {end!r}, {end!r})
print(status("VmHWM") - base)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    return float(done.stdout.split()[-1]) if done.returncode == 0 else np.nan


def loglik_at(model: str, params: list[float], summary: pd.DataFrame) -> float:
    """crmlab's log-likelihood of ``summary`` at another library's estimates."""
    if model == "gamma_gamma":
        repeat = summary[summary["frequency"] > 0]
        x, m = repeat["frequency"].to_numpy(float), repeat["monetary_value"].to_numpy(float)
        return float(log_likelihood_grad(np.asarray(params, float), x, m)[0].sum())
    return MODELS[model]().loglik(params, summary)


# ---------------------------------------------------------------------------- sections


def bench_simulate(sizes: list[int], peers: list[str], timeout: float) -> None:
    rows = []
    for size in sizes:
        n_customers = max(size * 10 // 28, 1)
        took, sim = best_of(lambda n=n_customers: simulate.retailer(n, seed=1), 1)
        rows.append(
            {
                "simulator": "crmlab.simulate.retailer (transactions)",
                "customers": f"{n_customers:,}",
                "transactions": f"{len(sim.transactions):,}",
                "seconds": f"{took:.2f}",
                "customers / s": f"{n_customers / took:,.0f}",
            }
        )
        del sim
    if "lifetimes" in peers:  # a per-customer loop: a small run says enough
        n = 20_000
        res = run_peer("lifetimes", {"kind": "simulate", "peer": "lifetimes", "n": n}, timeout)
        took = res["seconds"] if isinstance(res, dict) else np.nan
        rows.append(
            {
                "simulator": "lifetimes.generate_data.pareto_nbd_model (summaries only)",
                "customers": f"{n:,}",
                "transactions": "-",
                "seconds": seconds(res),
                "customers / s": f"{n / took:,.0f}" if np.isfinite(took) else "-",
            }
        )
    table("Simulate a Pareto/NBD + Gamma-Gamma retailer (78 weeks, CDNOW parameters)", rows)


def bench_summary(sizes: list[int], peers: list[str], tmp: Path, timeout: float) -> None:
    cases = [("CDNOW master", crmlab.load_dataset("cdnow"), "1998-06-30")]
    for size in sizes:
        tx = simulated_transactions(size)
        cases.append((f"simulated {size:,}", tx, "1998-06-30"))
    # the same rows in random order: no shortcut for logs sorted by customer or by day
    cases.append((f"simulated {size:,}, shuffled", tx.sample(frac=1, random_state=0), "1998-06-30"))
    rows, largest = [], None
    for label, tx, end in cases:
        tx = tx[["customer_id", "date", "amount"]]
        repeat = repeats_for(len(tx))
        ours, summary = best_of(
            lambda tx=tx, end=end: crmlab.rfm_summary(tx, calibration_end=end), repeat
        )
        duck, reference = best_of(lambda tx=tx, end=end: duckdb_summary(tx, end, end), repeat)
        check = reference.set_index("customer_id").loc[summary.index]
        assert np.array_equal(check["frequency"].to_numpy(), summary["frequency"].to_numpy())
        assert np.allclose(check["T"].to_numpy(), summary["T"].to_numpy())
        path = write_parquet(tx, tmp / f"tx_{len(tx)}.parquet")
        largest = (path, end)
        task = {"kind": "summary", "path": str(path), "calibration_end": end}
        results = {p: run_peer(p, {**task, "peer": p}, timeout) for p in peers}
        rows.append(
            {
                "data": label,
                "transactions": f"{len(tx):,}",
                "crmlab s": f"{ours:.3g}",
                "DuckDB s": f"{duck:.3g}",
                "crmlab / DuckDB": f"{ours / duck:.2f}",
                **peer_cells(results, ours),
            }
        )
        del tx, summary, reference
    table("RFM summary of transactions (weeks, same-day purchases merged)", rows)
    if largest is not None:
        path, end = largest
        mem = {engine: peak_memory_mb(path, end, engine) for engine in ("crmlab", "duckdb")}
        size = pd.read_parquet(path).memory_usage(deep=True).sum() / 2**20
        print(
            f"\nPeak memory added by one summary of the largest frame ({size:,.0f} MB in "
            f"memory): crmlab {mem['crmlab']:,.0f} MB, DuckDB {mem['duckdb']:,.0f} MB."
        )


def fit_cases(sizes: list[int]) -> list[tuple[str, pd.DataFrame]]:
    sample = crmlab.load_dataset("cdnow_sample")
    cases = [("CDNOW sample", crmlab.rfm_summary(sample, calibration_end="1997-09-30"))]
    for n in sizes:
        sim = simulate.retailer(n, seed=2)
        summary = crmlab.rfm_summary(
            sim.transactions, calibration_end=sim.params["observation_end"]
        )
        cases.append((f"simulated {n:,} customers", summary))
    return cases


def bench_fit(sizes: list[int], peers: list[str], tmp: Path, timeout: float) -> dict:
    rows, fitted = [], {}
    for label, summary in fit_cases(sizes):
        path = write_parquet(
            summary[["frequency", "recency", "T", "monetary_value"]], tmp / "s.parquet"
        )
        for model in ("bg_nbd", "pareto_nbd", "gamma_gamma"):
            if model == "gamma_gamma":
                data = summary[summary["frequency"] > 0]
                fit = lambda data=data: GammaGamma().fit(data)  # noqa: E731
            else:
                fit = lambda model=model, data=summary: MODELS[model]().fit(data)  # noqa: E731
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ours, result = best_of(fit, 3 if len(summary) < 200_000 else 1)
            fitted[(label, model)] = result
            task = {"kind": "fit", "model": model, "path": str(path)}
            results = {p: run_peer(p, {**task, "peer": p}, timeout) for p in peers}
            row = {
                "data": label,
                "model": model,
                "crmlab s": f"{ours:.3g}",
                **peer_cells(results, ours, "pymc-marketing MAP s"),
                "crmlab LL": f"{result.loglik:,.1f}",
            }
            for peer in ("lifetimes", "pymc"):
                res = results.get(peer)
                row[f"{peer} LL - crmlab LL"] = (
                    f"{loglik_at(model, res['params'], summary) - result.loglik:+.2f}"
                    if isinstance(res, dict)
                    else "-"
                )
            rows.append(row)
    table("Maximum-likelihood fits (log-likelihoods all computed by crmlab)", rows)
    return fitted


def bench_predict(n: int, peers: list[str], tmp: Path, timeout: float) -> None:
    sim = simulate.retailer(n, seed=3)
    summary = crmlab.rfm_summary(sim.transactions, calibration_end=sim.params["observation_end"])
    path = write_parquet(summary[["frequency", "recency", "T"]], tmp / "p.parquet")
    rows = []
    for model, cls in MODELS.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = cls().fit(summary)

        def predict(fit=fit) -> tuple[pd.Series, pd.Series]:
            return fit.probability_alive(summary), fit.expected_purchases(52, summary)

        ours, (alive, expected) = best_of(predict, 3)
        task = {
            "kind": "predict",
            "model": model,
            "path": str(path),
            "params": [float(v) for v in fit.params],
            "t": 52,
        }
        results = {p: run_peer(p, {**task, "peer": p}, timeout) for p in peers}
        row = {
            "model": model,
            "customers": f"{len(summary):,}",
            "crmlab s": f"{ours:.3g}",
            **peer_cells(results, ours),
            "crmlab sum E[X(52)]": f"{expected.sum():,.1f}",
        }
        for peer in ("lifetimes", "pymc"):
            res = results.get(peer)
            row[f"{peer} sum"] = f"{res['sum_expected']:,.1f}" if isinstance(res, dict) else "-"
        rows.append(row)
    table("Predictions: P(alive) and expected purchases in the next 52 weeks", rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--install-peers",
        nargs="?",
        const="lifetimes,pymc",
        default=None,
        help="install the peers (comma-separated subset of lifetimes,pymc; default both)",
    )
    parser.add_argument("--no-peers", action="store_true", help="crmlab and DuckDB only")
    parser.add_argument("--quick", action="store_true", help="smaller data")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per peer task")
    parser.add_argument(
        "--sections", default="simulate,summary,fit,predict", help="comma-separated subset"
    )
    args = parser.parse_args(argv)
    if args.install_peers:
        install_peers(args.install_peers.split(","))
    peers = [] if args.no_peers else available_peers()
    sections = set(args.sections.split(","))
    print(
        f"## crmlab {crmlab.__version__} benchmarks, {time.strftime('%Y-%m-%d %H:%M %Z')}\n\n"
        f"Machine: {platform.machine()}, {platform.processor() or 'cpu'}, "
        f"{__import__('os').cpu_count()} cores, Python {platform.python_version()}, "
        f"numpy {np.__version__}, pandas {pd.__version__}, duckdb {duckdb.__version__}. "
        f"Peers: {', '.join(peers) or 'not installed (--install-peers)'}."
    )
    tx_sizes = [100_000, 1_000_000] if args.quick else [1_000_000, 10_000_000]
    customers = [10_000, 100_000] if args.quick else [100_000, 1_000_000]
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        if "simulate" in sections:
            bench_simulate(tx_sizes, peers, args.timeout)
        if "summary" in sections:
            bench_summary(tx_sizes, peers, tmp, args.timeout)
        if "fit" in sections:
            bench_fit(customers, peers, tmp, args.timeout)
        if "predict" in sections:
            bench_predict(customers[-1], peers, tmp, args.timeout)


if __name__ == "__main__":
    main()
