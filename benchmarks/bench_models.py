"""Fit times of the research models - covariates, GGompertz/NBD, BG/CNBD-k and MBG/CNBD-k,
the correlated Pareto/NBD, sBG and beta-discrete-Weibull - and of Pareto/NBD and BG/NBD on a
daily-unit log, each beside the closest peer that has the model, in the same run.

    .venv/bin/python benchmarks/bench_models.py --new-models          # CDNOW sample, 100k
    .venv/bin/python benchmarks/bench_models.py --new-models --quick  # 20k simulated
    .venv/bin/python benchmarks/bench_models.py --new-models --only correlated,lognormal
    .venv/bin/python benchmarks/bench_models.py --daily               # daily log, 100k
    .venv/bin/python benchmarks/bench_models.py --daily --million     # ... and 1M

The script re-runs itself with one BLAS/OpenMP thread (OPENBLAS_NUM_THREADS=1 and
friends; the peers' subprocesses inherit it). Each crmlab fit is timed in wall-clock and CPU
seconds (``time.process_time``), the best of ``--repeat`` calls (one call when a fit takes
more than 5 s); on a shared machine CPU seconds are what to compare. The peers
(``benchmarks/.peers``, ``benchmarks/run.py --install-peers``) run in a subprocess per fit
(``peer_worker.py``), whose clock covers the library call only and reports CPU seconds of
the worker and its children (pytensor compiles C code in child processes). Every peer's
estimates are scored by crmlab's likelihood on the same data, so the log-likelihoods are
comparable ("peer LL - crmlab LL" below zero: the peer stopped short of the maximum, or
its priors pulled it away).

``--daily`` fits on :func:`daily_log` (recency and T in whole days, purchase-rate scale
alpha = 15 days far below the dropout scale beta = 200 days, so about 80% of the customers
have a (frequency, recency, T) pattern of their own and compression barely helps) against
lifetimes' ``ParetoNBDFitter`` and ``BetaGeoFitter`` (``--peer-timeout`` seconds each).

``--new-models`` fits on the CDNOW sample (weeks) and on simulated customers with a 0/1
covariate that raises purchasing and lowers dropout; the contractual models on Fader &
Hardie's two retention cohorts and a simulated cohort of 100,000 subscribers. lifetimes has
none of these models; pymc-marketing 0.19.2 (the last release for Python 3.11) has
covariates for the Pareto/NBD and BG/NBD and the cohort sBG, fitted here by MAP with its
default priors; nobody in Python has GGompertz/NBD, (M)BG/CNBD-k (BTYDplus, R), the
correlated Pareto/NBD (CLVTools, R) or the BdW.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import crmlab
from crmlab import simulate
from crmlab.models import (
    BGCNBD,
    BGNBD,
    MBGCNBD,
    BetaDiscreteWeibull,
    CorrelatedParetoNBD,
    GGompertzNBD,
    ParetoNBD,
    ShiftedBetaGeometric,
)
from crmlab.models.lognormal import LognormalParetoNBD

THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
ONE_CALL_ABOVE = 5.0  # seconds: slower fits are timed once


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


def timed(call: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """Best wall-clock and CPU seconds of up to ``repeat`` calls (one when a call takes
    more than ``ONE_CALL_ABOVE`` seconds), and the last result."""
    wall, cpu, out = [], [], None
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        out = call()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        if wall[-1] > ONE_CALL_ABOVE:
            break
    return min(wall), min(cpu), out


def timed_within(
    call: Callable[[], Any], repeat: int, limit: float, note: Callable | None
) -> tuple[float, float, float, str] | None:
    """:func:`timed` in a forked child given ``limit`` wall seconds: (wall, CPU,
    log-likelihood, note) or None when the fit did not finish in time (the child is
    stopped)."""
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)

    def work() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wall, cpu, res = timed(call, repeat)
        send.send((wall, cpu, res.loglik, note(res) if note else ""))

    child = context.Process(target=work)
    child.start()
    out = receive.recv() if receive.poll(limit) else None
    if out is None:
        child.kill()
    child.join()
    return out


def one_thread() -> None:
    """Re-run this script with one BLAS/OpenMP thread unless it already has one, so CPU
    seconds are one core's work and the peers (which inherit the environment) match."""
    if any(os.environ.get(v) != "1" for v in THREAD_VARIABLES):
        env = {**os.environ, **dict.fromkeys(THREAD_VARIABLES, "1")}
        os.execve(sys.executable, [sys.executable, *sys.argv], env)


def fmt(value: float, digits: int = 3) -> str:
    return f"{value:.{digits}g}" if np.isfinite(value) else "-"


def peer_columns(
    answer: dict | str | None, cpu: float, score: Callable | None, loglik: float
) -> dict:
    """Wall and CPU seconds of a peer's fit, its CPU time over crmlab's, and crmlab's
    log-likelihood at the peer's estimates minus crmlab's maximum."""
    if not isinstance(answer, dict):
        text = answer or "not installed"
        return {
            "peer wall s": text,
            "peer CPU s": "-",
            "peer / crmlab CPU": "-",
            "peer LL - LL": "-",
        }
    return {
        "peer wall s": fmt(answer["seconds"]),
        "peer CPU s": fmt(answer["cpu_seconds"]),
        "peer / crmlab CPU": f"{answer['cpu_seconds'] / cpu:.1f}x",
        "peer LL - LL": f"{score(answer['params']) - loglik:+.2f}",
    }


def daily(sizes: list[int], repeat: int, peer_timeout: float) -> list[dict]:
    """Pareto/NBD and BG/NBD fits on :func:`daily_log`, with lifetimes' fit of the same
    data in the same run when it is installed."""
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
                answer = None
                if "lifetimes" in peers:
                    task = {"kind": "fit", "peer": "lifetimes", "model": key, "path": str(path)}
                    answer = run_peer("lifetimes", task, timeout=peer_timeout)
                peer = peer_columns(
                    answer, cpu, lambda v, m=model, d=data: m().loglik(v, d), res.loglik
                )
                rows.append(
                    {
                        "customers": f"{n:,}",
                        "patterns": f"{patterns:,}",
                        "model": model.name,
                        "crmlab wall s": fmt(wall),
                        "crmlab CPU s": fmt(cpu),
                        "crmlab LL": f"{res.loglik:,.6f}",
                        "lifetimes wall s": peer["peer wall s"],
                        "lifetimes CPU s": peer["peer CPU s"],
                        "lifetimes / crmlab CPU": peer["peer / crmlab CPU"],
                        "lifetimes LL - crmlab LL": peer["peer LL - LL"],
                    }
                )
                print(rows[-1], flush=True)
    return rows


def covariate_loglik(model: Any, params: Sequence[float], data: pd.DataFrame, column: str) -> float:
    """crmlab's log-likelihood of a one-covariate fit at given estimates, for a 0/1 column.

    The customers with z = 0 have the base parameters; those with z = 1 have each linked
    parameter scaled by :math:`e^{\\pm\\gamma}` (``model.links``: ``theta_1 = theta_0
    exp(sign gamma)``), so the total is two no-covariate likelihoods. ``params`` in the
    fit's order: the base names, then one coefficient per link.
    """
    names = list(model.names)
    base = dict(zip(names, params[: len(names)], strict=True))
    shifted = dict(base)
    coefficients = params[len(names) :]
    for (param, sign), gamma in zip(model.links.values(), coefficients, strict=True):
        shifted[param] = shifted[param] * np.exp(sign * gamma)
    z = data[column].to_numpy()
    if not np.all(np.isin(z, (0.0, 1.0))):
        raise ValueError(f"{column} is not a 0/1 column")
    return model.loglik(base, data[z == 0]) + model.loglik(shifted, data[z == 1])


def datasets(n: int) -> dict[str, pd.DataFrame]:
    """Two weekly customer summaries with regularity (``litt``) and a 0/1 ``big_first``
    column: the CDNOW sample (first purchase above the median) and ``n`` simulated
    Pareto/NBD customers, 30% of whom have true effects +0.5 on purchasing and -0.3 on
    dropout (log multipliers of the mean rates)."""
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
        "CDNOW sample (weeks)": cdnow,
        "simulated, 30% with a covariate (weeks)": summary.rename(columns={"vip": "big_first"}),
    }


NO_PEER = "none: not in lifetimes or pymc-marketing"


def rfm_tasks(data: pd.DataFrame) -> list[dict]:
    """The research models on one customer summary: crmlab's call, a note on the result, the
    peer that has the model (its worker task and how crmlab scores its estimates)."""
    cov = ["big_first"]
    pareto, bgnbd = ParetoNBD(), BGNBD()
    return [
        {
            "model": "Pareto/NBD (reference)",
            "fit": lambda: ParetoNBD().fit(data),
            "peer": ("lifetimes", {"kind": "fit", "model": "pareto_nbd"}),
            "score": lambda v: pareto.loglik(v, data),
        },
        {
            "model": "Pareto/NBD + 1 covariate",
            "fit": lambda: ParetoNBD().fit(data, covariates=cov),
            "note": lambda r: "purchase {:+.3f}, dropout {:+.3f}".format(*r.params.iloc[4:]),
            "peer": ("pymc", {"kind": "fit", "model": "pareto_nbd", "covariates": cov}),
            "score": lambda v: covariate_loglik(pareto, v, data, cov[0]),
        },
        {
            "model": "BG/NBD + 1 covariate",
            "fit": lambda: BGNBD().fit(data, covariates=cov),
            "note": lambda r: "purchase {:+.3f}, a {:+.3f}, b {:+.3f}".format(*r.params.iloc[4:]),
            "peer": ("pymc", {"kind": "fit", "model": "bg_nbd", "covariates": cov}),
            "score": lambda v: covariate_loglik(bgnbd, v, data, cov[0]),
        },
        {
            "model": "GGompertz/NBD",
            "fit": lambda: GGompertzNBD().fit(data, strict=False),
            "note": lambda r: (
                f"b = {r.params['b']:.3g}" + ("" if r.converged else ", not converged")
            ),
            "none": NO_PEER,
        },
        {
            "model": "BG/CNBD-k, k by likelihood (1..12)",
            "fit": lambda: BGCNBD.fit_k(data, strict=False),
            "note": lambda r: f"k = {r.regularity}" + ("" if r.converged else ", not converged"),
            "none": NO_PEER + " (BTYDplus, R)",
        },
        {
            "model": "MBG/CNBD-k, k by likelihood (1..12)",
            "fit": lambda: MBGCNBD.fit_k(data, strict=False),
            "note": lambda r: f"k = {r.regularity}" + ("" if r.converged else ", not converged"),
            "none": NO_PEER + " (BTYDplus, R)",
        },
        {
            "model": "Pareto/NBD, correlated rates",
            "fit": lambda: CorrelatedParetoNBD().fit(data, strict=False),
            "note": lambda r: (
                f"rho = {r.correlation:+.3f}"
                + (", on the Sarmanov family's bound" if np.isnan(r.bse["m"]) else "")
                + ("" if r.converged else ", not converged")
            ),
            "none": NO_PEER + " (CLVTools, R)",
        },
        {
            "model": "Pareto/NBD, lognormal rates (Abe 2009)",
            "fit": lambda: LognormalParetoNBD().fit(data, strict=False),
            "note": lambda r: (
                f"rho = {r.params['rho']:+.3f}" + ("" if r.converged else ", not converged")
            ),
            "none": NO_PEER + " (Abe's MCMC, R)",
            "limited": True,
        },
    ]


def contract_tasks(alive: Sequence[float]) -> list[dict]:
    """sBG (pymc-marketing's cohort model beside it) and BdW on one cohort's survivors."""
    alive = list(alive)
    return [
        {
            "model": "sBG",
            "fit": lambda: ShiftedBetaGeometric().fit(alive),
            "peer": ("pymc", {"kind": "sbg", "alive": [int(a) for a in alive]}),
            "score": lambda v: ShiftedBetaGeometric().loglik(v, alive),
        },
        {
            "model": "BdW",
            "fit": lambda: BetaDiscreteWeibull().fit(alive, strict=False),
            "note": lambda r: f"c = {r.params['c']:.3f} (se {r.bse['c']:.3f})",
            "none": "none: not in lifetimes or pymc-marketing 0.19.2",
        },
    ]


def new_models(
    n: int, repeat: int, peer_timeout: float, fit_limit: float, only: str = ""
) -> list[dict]:
    """Fit times of the research models on the CDNOW sample, ``n`` simulated customers and
    three retention cohorts, each beside the closest peer that has the model. Fits marked
    ``limited`` run in a child process given ``fit_limit`` wall seconds. ``only``: comma-
    separated parts of model names to keep (e.g. ``"correlated,lognormal"``)."""
    wanted = [w.strip().lower() for w in only.split(",") if w.strip()]
    from run import available_peers, run_peer, write_parquet

    peers = available_peers()
    cohorts = crmlab.load_dataset("retention_cohorts")
    subscribers = simulate.subscriptions(100_000, 12, c=0.7, seed=0).alive["alive"]
    cases: list[tuple[str, int, list[dict], Path | None]] = []
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, data in datasets(n).items():
            columns = ["frequency", "recency", "T", "monetary_value", "big_first"]
            path = write_parquet(data[columns], Path(tmp) / f"{len(data)}.parquet")
            cases.append((label, len(data), rfm_tasks(data), path))
        for label, alive in (
            ("FH 2007 regular cohort, years 0-7", cohorts["regular"][:8]),
            ("FH 2007 high-end cohort, years 0-7", cohorts["high_end"][:8]),
            ("simulated subscribers, c = 0.7, 12 periods", subscribers),
        ):
            cases.append((label, int(alive.iloc[0]), contract_tasks(alive), None))
        for label, size, tasks, path in cases:
            for task in tasks:
                if wanted and not any(w in task["model"].lower() for w in wanted):
                    continue
                note = task.get("note")
                if task.get("limited"):
                    out = timed_within(task["fit"], repeat, fit_limit, note)
                    wall, cpu, loglik, text = out or (np.nan, np.nan, np.nan, "")
                    rows.append(
                        {
                            "data": label,
                            "customers": f"{size:,}",
                            "model": task["model"],
                            "crmlab wall s": fmt(wall) if out else f"> {fit_limit:.0f} s",
                            "crmlab CPU s": fmt(cpu),
                            "crmlab LL": f"{loglik:,.2f}" if out else "-",
                            "estimate": text if out else "not finished: stopped",
                            "peer": task["none"],
                            **peer_columns("-", 1.0, None, 0.0),
                        }
                    )
                    print(rows[-1], flush=True)
                    continue
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    wall, cpu, res = timed(task["fit"], repeat)
                answer: dict | str | None = "-"
                peer_name = task.get("none", "-")
                if "peer" in task:
                    peer_name, job = task["peer"]
                    job = {**job, "peer": peer_name}
                    if path is not None:
                        job["path"] = str(path)
                    answer = (
                        run_peer(peer_name, job, timeout=peer_timeout)
                        if peer_name in peers
                        else "not installed"
                    )
                    peer_name = {"pymc": "pymc-marketing MAP"}.get(peer_name, peer_name)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    if "score" in task:  # the scorer gives crmlab's own maximum back
                        own = task["score"](list(res.params))
                        assert abs(own - res.loglik) <= 1e-8 * abs(res.loglik), (own, res.loglik)
                    peer = peer_columns(answer, cpu, task.get("score"), res.loglik)
                rows.append(
                    {
                        "data": label,
                        "customers": f"{size:,}",
                        "model": task["model"],
                        "crmlab wall s": fmt(wall),
                        "crmlab CPU s": fmt(cpu),
                        "crmlab LL": f"{res.loglik:,.2f}",
                        "estimate": note(res) if note else "",
                        "peer": peer_name,
                        **peer,
                    }
                )
                print(rows[-1], flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--new-models", action="store_true", help="the research models")
    parser.add_argument("--daily", action="store_true", help="Pareto/NBD, BG/NBD on daily data")
    parser.add_argument("--million", action="store_true", help="with --daily: also 1M")
    parser.add_argument("--quick", action="store_true", help="with --new-models: 20k customers")
    parser.add_argument("--repeat", type=int, default=2, help="best of this many crmlab fits")
    parser.add_argument(
        "--peer-timeout", type=float, default=600.0, help="seconds allowed to each peer fit"
    )
    parser.add_argument(
        "--only", default="", help="with --new-models: comma-separated parts of model names"
    )
    parser.add_argument(
        "--fit-limit",
        type=float,
        default=300.0,
        help="seconds allowed to the slow crmlab fits (lognormal Pareto/NBD)",
    )
    args = parser.parse_args()
    if not (args.daily or args.new_models):
        parser.error("choose --daily and/or --new-models")
    one_thread()
    from run import table

    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(
        f"crmlab {crmlab.__version__}, {time.strftime('%Y-%m-%d %H:%M %Z')}, "
        f"{os.cpu_count()} cores, load average {load}, one BLAS thread"
    )
    if args.daily:
        sizes = [100_000, 1_000_000] if args.million else [100_000]
        table("Pareto/NBD and BG/NBD on daily data", daily(sizes, args.repeat, args.peer_timeout))
    if args.new_models:
        n = 20_000 if args.quick else 100_000
        rows = new_models(n, args.repeat, args.peer_timeout, args.fit_limit, args.only)
        table("Research models", rows)
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"\nload average at the end: {load}")


if __name__ == "__main__":
    main()
