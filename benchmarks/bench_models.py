"""Fit times of the research models: covariates, GGompertz/NBD, BG/CNBD-k and MBG/CNBD-k,
beta-discrete-Weibull; and of Pareto/NBD and BG/NBD on a daily-unit log.

    .venv/bin/python benchmarks/bench_models.py            # CDNOW sample and 100k customers
    .venv/bin/python benchmarks/bench_models.py --quick    # 20k simulated customers
    .venv/bin/python benchmarks/bench_models.py --daily    # daily log, 100k customers
    .venv/bin/python benchmarks/bench_models.py --daily --million   # ... and 1M

``--daily`` fits on :func:`daily_log`: recency and T in whole days, purchase-rate scale
alpha = 15 days far below the dropout scale beta = 200 days, so about 80% of the customers
have a (frequency, recency, T) pattern of their own and compression barely helps. Each fit
is timed in wall-clock and CPU seconds (CPU time is what to compare on a shared machine);
lifetimes runs beside it when ``benchmarks/.peers/lifetimes`` exists (``benchmarks/run.py
--install-peers``), and its estimates are scored by crmlab's likelihood.

lifetimes has none of these models (no covariates, no GGompertz/NBD, no (M)BG/CNBD-k, no
BdW), so there is no peer ratio (BTYDplus, the (M)BG/CNBD-k's home, is R); each time is
printed beside crmlab's own Pareto/NBD fit on the same data (ratio = model / Pareto/NBD).
Times are the best of ``--repeat`` calls.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import crmlab
from crmlab import simulate
from crmlab.models import BGCNBD, BGNBD, MBGCNBD, BetaDiscreteWeibull, GGompertzNBD, ParetoNBD


def best_of(call, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times)


def daily_log(
    n: int,
    seed: int = 0,
    r: float = 0.8,
    alpha: float = 15.0,
    s: float = 0.6,
    beta: float = 200.0,
) -> pd.DataFrame:
    """A Pareto/NBD customer summary in days: rates lambda ~ Gamma(r, alpha) and
    mu ~ Gamma(s, beta) (scales in days), ages T uniform on 30..730 whole days, purchases a
    Poisson process while alive, recency (the last repeat purchase) floored to whole days.
    """
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1 / alpha, n)
    mu = rng.gamma(s, 1 / beta, n)
    T = rng.integers(30, 731, n).astype(float)
    alive = np.minimum(rng.exponential(1 / mu), T)
    x = rng.poisson(lam * alive).astype(float)
    last = alive * rng.random(n) ** (1 / np.maximum(x, 1))  # max of x uniforms on (0, alive)
    frame = pd.DataFrame({"frequency": x, "recency": np.where(x > 0, np.floor(last), 0.0)})
    frame["T"] = T
    frame.attrs["time_unit"] = "D"
    return frame


def timed(call, repeat: int) -> tuple[float, float, Any]:
    """Best wall-clock and CPU seconds of ``repeat`` calls, and the last result."""
    wall, cpu, out = [], [], None
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        out = call()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return min(wall), min(cpu), out


def daily(sizes: list[int], repeat: int) -> pd.DataFrame:
    """Pareto/NBD and BG/NBD fits on :func:`daily_log`, with lifetimes when installed."""
    from run import available_peers, run_peer, write_parquet

    peers = available_peers()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            data = daily_log(n)
            patterns = len(data.drop_duplicates())
            path = write_parquet(data, Path(tmp) / f"daily_{n}.parquet")
            for key, model in (("pareto_nbd", ParetoNBD), ("bg_nbd", BGNBD)):
                wall, cpu, res = timed(lambda m=model, d=data: m().fit(d), repeat)
                peer = "not installed"
                peer_gap = "-"
                if "lifetimes" in peers:
                    task = {"kind": "fit", "peer": "lifetimes", "model": key, "path": str(path)}
                    answer = run_peer("lifetimes", task, timeout=1800)
                    if isinstance(answer, dict):
                        peer = f"{answer['seconds']:.3g}"
                        peer_gap = f"{model().loglik(answer['params'], data) - res.loglik:+.2f}"
                    else:
                        peer = answer
                loglik = f"{res.loglik:,.6f}"
                rows.append(
                    (n, patterns, model.name, wall, cpu, loglik, res.iterations, peer, peer_gap)
                )
    return pd.DataFrame(
        rows,
        columns=[
            "customers",
            "patterns",
            "model",
            "wall s",
            "cpu s",
            "loglik",
            "iterations",
            "lifetimes s",
            "lifetimes LL - crmlab LL",
        ],
    )


def datasets(n: int) -> dict[str, pd.DataFrame]:
    tx = crmlab.load_dataset("cdnow_sample")
    cdnow = crmlab.rfm_summary(tx, calibration_end="1997-09-30", time_unit="W", regularity=True)
    first = tx.sort_values("date").groupby("customer_id")["amount"].first()
    cdnow["big_first"] = (first.reindex(cdnow.index) > first.median()).astype(float).to_numpy()
    rng = np.random.default_rng(1)
    cov = pd.DataFrame({"vip": (rng.random(n) < 0.3).astype(float)})
    sim = simulate.retailer(
        n, covariates=cov, effects={"purchase": {"vip": 0.5}, "dropout": {"vip": -0.3}}, seed=2
    )
    summary = crmlab.rfm_summary(
        sim.transactions,
        calibration_end=sim.params["observation_end"],
        time_unit="W",
        regularity=True,
    ).join(sim.truth[["vip"]])
    return {
        "CDNOW sample (2,357)": cdnow,
        f"simulated ({n:,})": summary.rename(columns={"vip": "big_first"}),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--daily", action="store_true", help="Pareto/NBD, BG/NBD on daily data")
    parser.add_argument("--million", action="store_true", help="with --daily: also 1M")
    args = parser.parse_args()
    if args.daily:
        sizes = [100_000, 1_000_000] if args.million else [100_000]
        table = daily(sizes, args.repeat)
        print(table.to_string(index=False, float_format=lambda v: f"{v:,.6g}"))
        return
    n = 20_000 if args.quick else 100_000
    rows = []
    warnings.simplefilter("ignore")
    for label, data in datasets(n).items():
        base = best_of(lambda data=data: ParetoNBD().fit(data), args.repeat)
        tasks = {
            "Pareto/NBD": lambda data=data: ParetoNBD().fit(data),
            "Pareto/NBD + 1 covariate": lambda data=data: ParetoNBD().fit(
                data, covariates=["big_first"]
            ),
            "BG/NBD + 1 covariate": lambda data=data: BGNBD().fit(data, covariates=["big_first"]),
            "GGompertz/NBD": lambda data=data: GGompertzNBD().fit(data, strict=False),
            "BG/CNBD-k, k = 2": lambda data=data: BGCNBD(2).fit(data, strict=False),
            "MBG/CNBD-k, k = 2": lambda data=data: MBGCNBD(2).fit(data, strict=False),
            "MBG/CNBD-k, fit_k (k = 1..12)": lambda data=data: MBGCNBD.fit_k(data, strict=False),
        }
        for name, call in tasks.items():
            seconds = base if name == "Pareto/NBD" else best_of(call, args.repeat)
            peer = "benchmarks/run.py" if name == "Pareto/NBD" else "none (lifetimes lacks it)"
            rows.append((label, name, seconds, seconds / base, peer))
    cohorts = crmlab.load_dataset("retention_cohorts")
    seconds = best_of(lambda: BetaDiscreteWeibull().fit(cohorts["high_end"][:8]), 5)
    rows.append(("retention cohort (1,000)", "BdW", seconds, float("nan"), "none"))
    table = pd.DataFrame(rows, columns=["data", "model", "seconds", "/ Pareto/NBD", "peer"])
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3g}"))


if __name__ == "__main__":
    main()
